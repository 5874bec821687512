"""Proof that raw data stays local: every message a district sends is recorded and inspected."""

from __future__ import annotations

import numpy as np
import pytest
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.clientapp import ClientApp

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
    rec, _ = plain_run
    _check_numeric_only(rec)
    train = [m for _, m in rec.messages if m.metadata.message_type == "train"]
    assert len(train) == 3 * 2
    for m in train:
        arrays = m.content.array_records["arrays"]
        assert set(arrays) == {"coef", "intercept"}
        assert arrays["coef"].shape == (K, F) and arrays["intercept"].shape == (K,)
    ev = [m for _, m in rec.messages if m.metadata.message_type == "evaluate"]
    assert all(m.content.array_records["vec"]["plain"].shape == (3 * K + 2,) for m in ev)


def test_secure_run_server_never_holds_a_districts_vector(secure_run, plain_run):
    rec, res = secure_run
    _check_numeric_only(rec)
    prec, _ = plain_run
    by_node_plain = {(n, m.metadata.message_type, m.metadata.group_id): m for n, m in prec.messages}
    train = [(n, m) for n, m in rec.messages if m.metadata.message_type in ("train", "evaluate")]
    assert len(train) == 3 * 2 * 2
    for node, m in train:
        assert set(m.content.array_records) == {"vec"}
        assert set(m.content.array_records["vec"]) == {"masked"}
        y = m.content.array_records["vec"]["masked"].numpy()
        assert y.dtype == np.uint64
        length = K * F + K + 2 if m.metadata.message_type == "train" else 3 * K + 2
        assert y.shape == (length,)
        if m.metadata.message_type == "train":
            assert 0.4 < (y >> np.uint64(63)).mean() < 0.6  # uniform noise, not a model
            # the district's own update (same seeds in the plain run) is not what the server got
            own = by_node_plain[(node, "train", m.metadata.group_id)].content.array_records["arrays"]
            own_vec = own["coef"].numpy().ravel().astype(np.float64)
            decoded = y[: K * F].view(np.int64).astype(np.float64) / 2.0**24
            assert np.corrcoef(decoded[:5000], own_vec[:5000])[0, 1] < 0.1
        assert not m.content.metric_records  # not even its sample count travels in the clear
    # ... and yet the aggregate is right
    assert res["federated"]["macro_f1"] > 0.8


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
