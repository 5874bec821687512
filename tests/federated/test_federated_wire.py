"""Proof that raw data stays local: every message a district sends is recorded and inspected."""

from __future__ import annotations

import numpy as np
import pytest
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.clientapp import ClientApp

from govml.federated.secagg import SHARE_LEN
from govml.federated.simulation import simulate
from govml.federated.wire import WIRE_VIOLATION, WireRecorder, violations, wire_guard_mod

pytestmark = pytest.mark.xdist_group("flower")

K, F = 5, 2**12
NUMERIC = set("biuf")


def _check_numeric_only(recorder: WireRecorder) -> None:
    assert recorder.messages, "nothing was recorded"
    for _node, msg in recorder.messages:
        assert not msg.has_error(), msg.error
        mtype = msg.metadata.message_type
        for name, rec in msg.content.config_records.items():
            # the only text a district sends is its own public name and status, in its hello
            assert (mtype, name) == ("query.hello", "hello"), (mtype, name)
            assert set(rec) == {"district", "status"}
        for rec in msg.content.metric_records.values():
            for v in rec.values():
                assert isinstance(v, (int, float)) or (isinstance(v, list) and all(isinstance(x, (int, float))
                                                                                    for x in v))
        for rec in msg.content.array_records.values():
            for arr in rec.values():
                assert np.dtype(arr.dtype).kind in NUMERIC


@pytest.fixture(scope="module")
def secure_run(messages):
    rec = WireRecorder(keep_messages=True)
    res = simulate(messages, "demand-classifier", "district", rounds=2, secure=True, n_features=F, mods=[rec])
    return rec, res


@pytest.fixture(scope="module")
def plain_run(messages):
    rec = WireRecorder(keep_messages=True)
    res = simulate(messages, "demand-classifier", "district", rounds=2, secure=False, n_features=F, mods=[rec])
    return rec, res


def test_plain_run_sends_numbers_of_the_expected_shapes(plain_run):
    rec, res = plain_run
    _check_numeric_only(rec)
    train = [m for _, m in rec.messages if m.metadata.message_type == "train"]
    # 2 rounds with a validation evaluation each, then the chosen round(s) again on every training row
    assert res["rounds"] == 2 and res["training_rounds_total"] == 2 + res["chosen_round"]
    assert len(train) == 3 * res["training_rounds_total"]
    for m in train:
        arrays = m.content.array_records["arrays"]
        assert set(arrays) == {"coef", "intercept"}
        assert arrays["coef"].shape == (K, F) and arrays["intercept"].shape == (K,)
    ev = [m for _, m in rec.messages if m.metadata.message_type == "evaluate"]
    assert len(ev) == 3 * 2
    assert all(m.content.array_records["vec"]["plain"].shape == (3 * K + 2,) for m in ev)


def _releases(recorder: WireRecorder) -> list[tuple[str, dict[int, Message], list[Message]]]:
    """(message type, masked replies by node, the unmask replies that followed), in order."""
    out: list[tuple[str, dict[int, Message], list[Message]]] = []
    for node, m in recorder.messages:
        mtype = m.metadata.message_type
        if mtype == "query.unmask":
            out[-1][2].append(m)
        elif "vec" in m.content.array_records:
            if not out or out[-1][0] != mtype or out[-1][2]:
                out.append((mtype, {}, []))
            out[-1][1][node] = m
    return out


def test_secure_run_server_never_holds_a_districts_vector(secure_run, plain_run):
    from govml.federated.secagg import SHARE_LEN, reconstruct, self_mask

    rec, res = secure_run
    _check_numeric_only(rec)
    prec, _ = plain_run
    by_node_plain = {(n, m.metadata.message_type, m.metadata.group_id): m for n, m in prec.messages}
    train = [(n, m) for n, m in rec.messages if m.metadata.message_type in ("train", "evaluate")]
    final = len(res["final_pass_history"])
    assert final == res["chosen_round"] >= 1
    assert len(train) == 3 * (2 * 2 + final)
    for _node, m in train:
        assert set(m.content.array_records) == {"vec", "next"}
        assert set(m.content.array_records["vec"]) == {"masked"}
        y = m.content.array_records["vec"]["masked"].numpy()
        assert y.dtype == np.uint64
        length = K * F + K + 2 if m.metadata.message_type == "train" else 3 * K + 2
        assert y.shape == (length,)
        # the next bundle: its index, a 32-byte public key, one sealed share per district
        nxt = m.content.array_records["next"]
        assert set(nxt) == {"index", "pk"} | {k for k in nxt if k.startswith("to|")} and len(nxt) == 2 + 3
        assert all(np.dtype(a.dtype) == np.uint8 for k, a in nxt.items() if k != "index")
        assert not m.content.metric_records  # not even its sample count travels in the clear
    # Everything the server holds, used as well as it can be: per release it rebuilds each
    # survivor's self-mask seed from the revealed shares (no district dropped, so no mask-key
    # share was ever revealed) and removes the self mask. What is left of each district's
    # reply is still uniform noise, unrelated to its update: the pairwise masks stay on it.
    releases = _releases(rec)
    assert [r[0] for r in releases] == ["train", "evaluate"] * 2 + ["train"] * final
    for mtype, replies, unmasks in releases:
        assert len(unmasks) == 3
        assert all(len(u.content.array_records["sk"]) == 0 for u in unmasks)
        for node, m in replies.items():
            shares = [u.content.array_records["b"][str(node)].numpy().astype(np.uint8).tobytes() for u in unmasks]
            assert all(len(sh) == SHARE_LEN for sh in shares)
            y = m.content.array_records["vec"]["masked"].numpy()
            with np.errstate(over="ignore"):
                rest = y - self_mask(reconstruct(shares, 2), y.size)
            if mtype == "train":
                assert 0.4 < (rest >> np.uint64(63)).mean() < 0.6  # uniform noise, not a model
                own = by_node_plain[(node, "train", m.metadata.group_id)].content.array_records["arrays"]
                own_vec = own["coef"].numpy().ravel().astype(np.float64)
                decoded = rest[: K * F].view(np.int64).astype(np.float64) / 2.0**24
                assert abs(np.corrcoef(decoded[:5000], own_vec[:5000])[0, 1]) < 0.1
            else:  # evaluation counts are small integers; their masked remainder is not
                assert (rest.view(np.int64) > 10**6).any() or (rest.view(np.int64) < -(10**6)).any()
    # ... and yet the aggregate is right
    assert res["federated"]["macro_f1"] > 0.8


def test_unmask_replies_carry_only_shares(secure_run):
    rec, res = secure_run
    unmasks = [m for _, m in rec.messages if m.metadata.message_type == "query.unmask"]
    assert len(unmasks) == 3 * (2 * 2 + len(res["final_pass_history"]))
    for m in unmasks:
        assert set(m.content.array_records) == {"b", "sk"}
        for arr in m.content.array_records["b"].values():
            assert np.dtype(arr.dtype) == np.uint8 and tuple(arr.shape) == (SHARE_LEN,)  # index + one block


def test_benchmark_sends_only_masked_counts(assessments):
    rec = WireRecorder(keep_messages=True)
    simulate(assessments, "benchmark", "district", indicators=["service"], secure=True, bins=50, mods=[rec])
    _check_numeric_only(rec)
    shapes = {m.metadata.message_type: m.content.array_records.get("vec") for _, m in rec.messages}
    assert shapes["query.moments"]["masked"].shape == (3,)
    assert shapes["query.hist"]["masked"].shape == (50,)


def test_wire_guard_withholds_text():
    app = ClientApp(mods=[wire_guard_mod])

    @app.query("leak")
    def leak(msg: Message, context: Context) -> Message:
        return Message(RecordDict({"x": ConfigRecord({"text": "张三 13800138000 反映小区噪音"})}), reply_to=msg)

    from govml.federated.grid import LocalGrid

    grid = LocalGrid(run_id=5)
    grid.add_node(7, app, {}, {})
    msg = Message(RecordDict(), dst_node_id=7, message_type="query.leak")
    (reply,) = grid.send_and_receive([msg])
    assert reply.has_error() and reply.error.code == WIRE_VIOLATION
    assert "13800138000" not in (reply.error.reason or "")
    assert violations(Message(RecordDict({"hello": ConfigRecord({"district": "x"})}), dst_node_id=1,
                              message_type="query.hello")) == []
