"""What may leave a district, checked on every outgoing message.

:func:`wire_guard_mod` is installed on govml's ClientApp: it inspects each reply before it leaves
and replaces any reply that carries text (other than the district's public name in its hello
reply), an object array, or a record type govml never sends, by an error reply. :class:`WireRecorder`
is a mod that keeps a summary (and, for tests, a copy) of every outgoing message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flwr.app import Context, Error, Message

log = logging.getLogger(__name__)

WIRE_VIOLATION = 4199
# (message type, record name, key) → the only strings a district may send.
ALLOWED_STRINGS = {("query.hello", "hello", "district"), ("query.hello", "hello", "status")}
NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float


def summarize(message: Message) -> dict[str, Any]:
    """Shapes, dtypes and value types of every record in a message (no values)."""
    out: dict[str, Any] = {"type": message.metadata.message_type, "error": None, "arrays": {},
                           "metrics": {}, "configs": {}, "bytes": 0}
    if message.has_error():
        out["error"] = message.error.code
        return out
    for name, rec in message.content.array_records.items():
        for key, arr in rec.items():
            out["arrays"][f"{name}/{key}"] = (tuple(arr.shape), str(arr.dtype))
    for name, rec in message.content.metric_records.items():
        for key, val in rec.items():
            out["metrics"][f"{name}/{key}"] = type(val).__name__ if not isinstance(val, list) else f"list[{len(val)}]"
    for name, rec in message.content.config_records.items():
        for key, val in rec.items():
            out["configs"][f"{name}/{key}"] = type(val).__name__
    out["bytes"] = int(sum(r.count_bytes() for r in message.content.values()))
    return out


def violations(message: Message) -> list[str]:
    """Why a message must not leave a district (empty list: it may)."""
    if message.has_error():
        return []
    mtype = message.metadata.message_type
    bad = []
    for name, rec in message.content.array_records.items():
        for key, arr in rec.items():
            if np.dtype(arr.dtype).kind not in NUMERIC_KINDS:
                bad.append(f"array {name}/{key} has dtype {arr.dtype}")
    for name, rec in message.content.config_records.items():
        for key, val in rec.items():
            if isinstance(val, (str, bytes)) or (isinstance(val, list) and any(isinstance(v, (str, bytes))
                                                                                 for v in val)):
                if (mtype, name, key) not in ALLOWED_STRINGS:
                    bad.append(f"config {name}/{key} carries text or bytes")
    return bad


def wire_guard_mod(msg: Message, context: Context, call_next: Any) -> Message:
    """Client mod: refuse to send a reply that carries text or non-numeric arrays."""
    reply = call_next(msg, context)
    bad = violations(reply)
    if bad:
        log.error("refusing to send %s reply: %s", msg.metadata.message_type, "; ".join(bad))
        return Message(Error(code=WIRE_VIOLATION, reason="reply withheld by govml's wire guard: " + "; ".join(bad)),
                       reply_to=msg)
    return reply


@dataclass
class WireRecorder:
    """Client mod recording every outgoing message: ``records`` (summaries) and ``messages`` (copies)."""

    keep_messages: bool = False
    records: list[dict[str, Any]] = field(default_factory=list)
    messages: list[tuple[int, Message]] = field(default_factory=list)

    def __call__(self, msg: Message, context: Context, call_next: Any) -> Message:
        reply = call_next(msg, context)
        rec = summarize(reply)
        rec["node_id"] = context.node_id
        self.records.append(rec)
        if self.keep_messages:
            self.messages.append((context.node_id, reply))
        return reply

    def bytes_by_node(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for r in self.records:
            out[r["node_id"]] = out.get(r["node_id"], 0) + r["bytes"]
        return out
