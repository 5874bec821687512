"""Session 19: a federated run is reproducible. The same districts' data and the same run config give the same
model and scores, bit for bit, whatever node ids the SuperNodes drew at their start (new ones at every start in
a deployment) and whatever order the replies came in (docs/federated.md, "Reproducing a run").

Each test runs one federation twice on the in-process grid: with other node ids, whose numeric order is not the
districts' order, and with the replies of every round handed to the server shuffled. Before session 19 the
classifier seeded its local SGD with the node id and the server summed plain replies in node-id order."""

from __future__ import annotations

import json

import numpy as np
import pytest

from federated_apps import district_files
from govml.federated import client_app as CA
from govml.federated.grid import LocalGrid
from govml.federated.server_app import run_federation, to_jsonable

# the same three districts (by name) under two sets of node ids: in name order by id in A, not in B
IDS_A = (101, 202, 303)
IDS_B = (2**40 + 7, 5, 999_999)


class ShuffledGrid(LocalGrid):
    """The in-process grid handing the server each round's replies in a shuffled order (a deployment's replies
    come as the districts finish)."""

    def send_and_receive(self, messages, *, timeout=None):
        replies = list(super().send_and_receive(messages, timeout=timeout))
        self.shuffler.shuffle(replies)
        return replies


def _run(files: dict[str, str], ids: tuple[int, ...], cfg: dict, order_seed: int, run_id: int) -> dict:
    grid = ShuffledGrid(run_id=run_id)
    grid.shuffler = np.random.default_rng(order_seed)
    for name, nid in zip(sorted(files), ids, strict=True):
        grid.add_node(nid, CA.make_client_app(), {"data-path": files[name], "district": name}, cfg)
    try:
        return run_federation(grid, dict(cfg))
    finally:
        CA.clear_cache()


def _twice(files: dict[str, str], cfg: dict) -> tuple[dict, dict]:
    return _run(files, IDS_A, cfg, order_seed=1, run_id=7), _run(files, IDS_B, cfg, order_seed=2, run_id=8)


def _text(result: dict) -> str:
    """The result as the JSON a deployment writes (``result-path``), timings left out."""
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k != "seconds"}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    return json.dumps(strip(to_jsonable(result)), ensure_ascii=False, sort_keys=False)


def _same_arrays(a: dict, b: dict, keys: tuple[str, ...]) -> None:
    for k in keys:
        x, y = np.asarray(a[k]), np.asarray(b[k])
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes(), f"model {k}: {int((x != y).sum())} of {x.size} values differ"


def _classifier_cfg(messages, **extra) -> dict:
    return {"task": "demand-classifier", "labels": "|".join(sorted(messages["category"].unique())),
            "n-features": 512, "num-rounds": 3, "min-districts": 2, "wait-for-districts": 0, "val-fraction": 0.2,
            "seed": 3, **extra}


@pytest.mark.parametrize("strategy,secure", [("fedadam", False), ("fedavg", False), ("fedadam", True)])
def test_the_classifier_is_the_same_model_under_other_node_ids_and_reply_orders(messages, tmp_path, strategy, secure):
    """Plain FedAdam (the float64 average), plain FedAvg (Flower's own float32 average) and secure FedAdam
    (fresh masks every run: the masked sum is exact, so only the districts' local seeds matter there)."""
    files = district_files(tmp_path, messages.iloc[:360])
    a, b = _twice(files, _classifier_cfg(messages, strategy=strategy, secure=secure))
    _same_arrays(a["model"], b["model"], ("coef", "intercept"))
    assert _text(a) == _text(b)  # every score, chosen round, train loss, district list and event, in order
    assert a["districts"] == ["区1", "区2", "区3"] and a["contributors"] == ["区1", "区2", "区3"]
    assert a["test"]["macro_f1"] > 0.5  # it learned something: the comparison is about a real model


def test_the_benchmark_is_the_same_under_other_node_ids_and_reply_orders(assessments, tmp_path):
    """Plain sums of floats (Σv, Σv²): the same summary to the last bit."""
    files = district_files(tmp_path, assessments)
    cfg = {"task": "benchmark", "indicators": "service,response", "secure": False, "min-districts": 2,
           "wait-for-districts": 0}
    a, b = _twice(files, cfg)
    assert _text(a) == _text(b)
    assert a["contributors"] == ["区1", "区2", "区3"]


def test_a_district_seed_is_its_name_and_the_run_seed_never_the_node_id():
    from govml.federated.task import district_seed

    s = district_seed(3, "区1", 2)
    assert s == district_seed(3, "区1", 2) and 0 <= s < 2**64
    assert len({s, district_seed(4, "区1", 2), district_seed(3, "区2", 2), district_seed(3, "区1", 3)}) == 4


def test_the_robust_forecaster_is_the_same_under_other_node_ids_and_reply_orders(make_events, tmp_path):
    """The forecaster's robust option sums each district's own histograms itself (plain floats)."""
    ev = make_events(3).rename(columns={"area": "community"})
    files = district_files(tmp_path, ev)
    weeks = sorted(ev["created_at"].dt.to_period("W").dt.start_time.unique())
    cfg = {"task": "hotspot-forecaster", "secure": False, "forecaster-robust": True, "num-rounds": 2, "horizon": 2,
           "categories": "|".join(sorted(ev["category"].unique())), "panel-start": str(weeks[0].date()),
           "panel-end": str(weeks[-1].date()), "min-districts": 2, "wait-for-districts": 0}
    a, b = _twice(files, cfg)
    _same_arrays(a["model"], b["model"], ("base",))
    for x, y in zip(a["model"]["trees"], b["model"]["trees"], strict=True):
        assert np.asarray(x).tobytes() == np.asarray(y).tobytes()
    assert _text(a) == _text(b)
