"""Metamorphic properties and cross-checks of `govml federated simulate` (session 22).

* The same records in another row order (and the districts in another order in the file) give the same
  model and the same result file: before session 22 the demand classifier's local SGD shuffled the file's
  row order and the benchmark's community means added values in row order.
* The benchmark's centralized figures recomputed from the raw rows; the federated ones within the
  stated quantisation bounds of them; a district of one row takes part and is counted.
* No row leaves a district: every message a district sends has the same shapes, dtypes and keys when the
  district holds three times as many rows — whatever the message type.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.federated.simulation import simulate
from govml.federated.wire import WireRecorder

from .conftest import make_assessments, make_messages

pytestmark = pytest.mark.xdist_group("flower")

F = 2**10


def _reordered(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The same rows, shuffled, with the districts in reverse name order in the file."""
    shuffled = df.sample(frac=1.0, random_state=seed)
    rank = {d: k for k, d in enumerate(sorted(df["district"].unique(), reverse=True))}
    return shuffled.iloc[np.argsort(shuffled["district"].map(rank).to_numpy(), kind="stable")].reset_index(drop=True)


def _comparable(res: dict) -> dict:
    drop = {"seconds", "seconds_per_round", "model", "history", "final_pass_history", "data"}
    return {k: v for k, v in res.items() if k not in drop}


def _history(res: dict) -> list:
    return [{k: v for k, v in h.items() if k != "seconds"} for h in res.get("history", [])]


def test_classifier_ignores_row_order_and_district_order():
    df = make_messages(n=360, seed=5)
    kw = {"rounds": 2, "secure": False, "n_features": F}
    a = simulate(df, "demand-classifier", "district", **kw)
    b = simulate(_reordered(df, 1), "demand-classifier", "district", **kw)
    np.testing.assert_array_equal(np.asarray(a["model"]["coef"]), np.asarray(b["model"]["coef"]))
    np.testing.assert_array_equal(np.asarray(a["model"]["intercept"]), np.asarray(b["model"]["intercept"]))
    assert _history(a) == _history(b)
    assert _comparable(a) == _comparable(b)  # federated and centralized scores, rows, districts …
    # the reported federated scores, recomputed with scikit-learn on the held-out rows (each district's
    # own hash split of its rows, same seed) from the model the run returns
    from sklearn.metrics import accuracy_score, f1_score

    from govml.federated import classifier as C
    from govml.federated import task as T

    test = pd.concat([p[T.validation_mask(p, 0.2, 0.0, 0)[0]] for _, p in df.groupby("district")])
    labels = a["model"]["labels"]
    y = C.label_index(labels, test["category"].to_numpy(dtype=object))
    logits = C.featurize(test["text"].to_numpy(dtype=object), F) @ np.asarray(a["model"]["coef"]).T
    pred = np.asarray(logits + np.asarray(a["model"]["intercept"])).argmax(axis=1)
    assert a["held_out_rows"] == len(y) > 50
    assert a["federated"]["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"), abs=1e-12)
    assert a["federated"]["accuracy"] == pytest.approx(accuracy_score(y, pred), abs=1e-12)
    best = max(c["macro_f1"] for c in a["centralized_candidates"].values())
    assert a["centralized"]["macro_f1"] == best
    assert a["ratio_macro_f1"] == pytest.approx(a["federated"]["macro_f1"] / best)


def _community_means(df: pd.DataFrame, col: str) -> np.ndarray:
    return df.groupby(["district", "community"])[col].mean().to_numpy()


def test_benchmark_ignores_row_order_and_matches_the_plain_computation_by_hand():
    df = make_assessments(workers=5, seed=2)
    # a district of one row (one community, one worker) takes part like any other
    df = pd.concat([df[df["district"] != "区3"], df[df["district"] == "区3"].head(1)], ignore_index=True)
    kw = {"indicators": ["service", "response"], "secure": False, "bins": 50}
    a = simulate(df, "benchmark", "district", **kw)
    b = simulate(_reordered(df, 2), "benchmark", "district", **kw)
    assert _comparable(a) == _comparable(b)
    assert a["districts"] == ["区1", "区2", "区3"] and a["district_rows"]["区3"]["rows_used"] == 1
    for col in ("service", "response"):
        v = _community_means(df, col)
        hand = {"n": v.size, "mean": v.mean(), "std": v.std(),
                **{f"p{p}": np.percentile(v, p, method="inverted_cdf") for p in (10, 25, 50, 75, 90)}}
        cen, fed = a["centralized"][col], a["federated"][col]
        assert cen == pytest.approx(hand, rel=1e-12)
        assert v.size == 25
        for k in ("mean", "std"):  # moments: within the stated quantisation bound
            assert abs(fed[k] - hand[k]) <= a["stated_error"]["moments"]
        for p in (10, 25, 50, 75, 90):  # percentiles: within a bin
            assert abs(fed[f"p{p}"] - hand[f"p{p}"]) <= a["stated_error"]["percentiles"] + 1e-12


def _wire(records: list[dict]) -> list[tuple]:
    """What each message carries, without values: type, array shapes and dtypes, metric and config keys."""
    return [(r["node_id"], r["type"], r["error"], sorted(r["arrays"].items()), sorted(r["metrics"].items()),
             sorted(r["configs"].items()), r["bytes"]) for r in records]


@pytest.mark.parametrize("task", ["demand-classifier", "benchmark"])
def test_what_a_district_sends_does_not_grow_with_its_rows(task):
    """A test that fails if any message (hello, keys, masked vectors, unmask shares, evaluation …)
    carried something per row: district 区1 holds three times as many rows in the second run."""
    if task == "demand-classifier":
        df = make_messages(n=240, seed=6)
        kw = {"rounds": 1, "n_features": F}
    else:
        df = make_assessments(workers=4, seed=2)
        kw = {"indicators": ["service", "response"], "bins": 40}
    more = df[df["district"] == "区1"]
    copies = [more.assign(**({"id": more["id"] + f"-{k}"} if "id" in more else
                             {"worker_id": more["worker_id"] + f"-{k}"})) for k in (1, 2)]
    bigger = pd.concat([df, *copies], ignore_index=True)
    wires = []
    for frame in (df, bigger):
        rec = WireRecorder()
        res = simulate(frame, task, "district", secure=True, mods=[rec], **kw)
        assert res["districts"] == ["区1", "区2", "区3"]
        wires.append(_wire(rec.records))
    assert len(wires[0]) > 10
    assert wires[0] == wires[1]
