"""An in-process :class:`flwr.serverapp.Grid`: the same ServerApp and ClientApp, no Ray, no sockets.

``LocalGrid`` delivers each message to the destination node's :class:`flwr.clientapp.ClientApp`
(called exactly as a SuperNode calls it: ``app(message, context)``, mods included) and keeps the
reply until the server pulls it. It is what ``govml federated simulate`` uses: on 2 cores Flower's
Ray-backed simulation spends ~30 s starting up before the first round, while this grid starts in
milliseconds and is deterministic (see docs/federated.md for the measurements).

It also simulates the failures a real federation sees: a node that stops answering from some
round on (``drop_after``), and counts the bytes each node sends.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import uuid4

from flwr.app import Context, Error, Message, RecordDict
from flwr.clientapp import ClientApp
from flwr.common.constant import SUPERLINK_NODE_ID
from flwr.serverapp import Grid
from flwr.supercore.run import Run
from flwr.supercore.task_identity import TaskIdentity

log = logging.getLogger(__name__)

# Error code a SuperNode uses when the ClientApp raised (flwr.common.constant.ErrorCode.CLIENT_APP_RAISED_EXCEPTION)
CLIENT_APP_RAISED_EXCEPTION = 2


def message_bytes(message: Message) -> int:
    """Payload size of a message: what its records weigh on the wire (arrays, configs, metrics)."""
    if not message.has_content():
        return len((message.error.reason or "").encode())
    return int(sum(record.count_bytes() for record in message.content.values()))


@dataclass
class _Node:
    app: ClientApp
    context: Context
    drop_after: int | None = None  # stops answering once this many messages have been delivered
    delivered: int = 0
    bytes_sent: int = 0
    messages_sent: int = 0


@dataclass
class LocalGrid(Grid):
    """Grid whose nodes are ClientApps living in this process."""

    run_id: int = 1
    _nodes: dict[int, _Node] = field(default_factory=dict)
    _replies: dict[str, Message] = field(default_factory=dict)
    _run: Run | None = None

    def __post_init__(self) -> None:
        # Messages created by the server carry the identity of the task that creates them; a
        # SuperLink sets it for its ServerApp process, we set it for ours.
        TaskIdentity.task_id = 1
        TaskIdentity.run_id = self.run_id
        TaskIdentity.node_id = SUPERLINK_NODE_ID

    def add_node(self, node_id: int, app: ClientApp, node_config: dict, run_config: dict,
                 drop_after: int | None = None) -> None:
        ctx = Context(run_id=self.run_id, node_id=node_id, node_config=dict(node_config),
                      state=RecordDict(), run_config=dict(run_config))
        self._nodes[node_id] = _Node(app=app, context=ctx, drop_after=drop_after)

    # -- Grid API -------------------------------------------------------------------------------
    def set_run(self, run: Run) -> None:
        self._run = run

    @property
    def run(self) -> Run:
        if self._run is None:
            self._run = Run.create_empty(self.run_id)
        return self._run

    def create_message(self, content: RecordDict, message_type: str, dst_node_id: int, group_id: str,
                       ttl: float | None = None) -> Message:
        return Message(content, dst_node_id, message_type, ttl=ttl, group_id=group_id)

    def get_node_ids(self) -> Iterable[int]:
        return list(self._nodes)

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        ids = []
        for msg in messages:
            msg_id = str(uuid4())
            msg.metadata.__dict__["_message_id"] = msg_id
            ids.append(msg_id)
            node = self._nodes.get(msg.metadata.dst_node_id)
            if node is None:
                continue
            node.delivered += 1
            if node.drop_after is not None and node.delivered > node.drop_after:
                log.info("node %s does not answer (simulated drop-out)", msg.metadata.dst_node_id)
                continue
            try:
                reply = node.app(msg, node.context)
            except Exception as exc:  # what a SuperNode does when the ClientApp raises
                log.warning("ClientApp on node %s raised: %s", msg.metadata.dst_node_id, exc)
                reply = Message(Error(code=CLIENT_APP_RAISED_EXCEPTION, reason=f"{type(exc).__name__}: {exc}"),
                                reply_to=msg)
            reply.metadata.__dict__["_message_id"] = str(uuid4())
            node.bytes_sent += message_bytes(reply)
            node.messages_sent += 1
            self._replies[msg_id] = reply
        return ids

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        return [self._replies.pop(m) for m in list(message_ids) if m in self._replies]

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        t0 = time.perf_counter()
        ids = list(self.push_messages(messages))
        replies = list(self.pull_messages(ids))
        log.debug("%d messages, %d replies in %.3f s", len(ids), len(replies), time.perf_counter() - t0)
        return replies

    # -- simulation bookkeeping -----------------------------------------------------------------
    def bytes_sent(self) -> dict[int, int]:
        return {nid: n.bytes_sent for nid, n in self._nodes.items()}

    def node_context(self, node_id: int) -> Context:
        return self._nodes[node_id].context
