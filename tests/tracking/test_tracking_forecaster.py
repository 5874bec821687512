"""The hotspot-forecaster adapter on small generated complaints: backtest-scored gate, pyfunc round trip,
and ``refresh_if_no_worse`` (same data keeps the champion; newer data with a no-worse recipe replaces it)."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

from govml import models, retrain, tracking

pytestmark = pytest.mark.slow


def _events(path, weeks: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2025-01-06")  # a Monday: whole weeks
    for c in range(6):
        for k, cat in enumerate(["噪声扰民", "停车管理", "环境卫生"]):
            lam = 1.0 + 0.4 * c + 0.6 * k
            for w in range(weeks):
                for _ in range(rng.poisson(lam * (1 + 0.3 * np.sin(w / 6)))):
                    rows.append((start + pd.Timedelta(days=7 * w + int(rng.integers(0, 7)), hours=10),
                                 f"社区{c}", cat))
    pd.DataFrame(rows, columns=["created_at", "community", "category"]).to_csv(path, index=False)


def test_forecaster_gate_refresh_and_round_trip(tmp_path):
    pytest.importorskip("govml.hotspot.forecast")
    key = f"forecaster-{uuid.uuid4().hex[:6]}"
    name = f"govml-test-{key}"
    params = {"n_origins": 1, "min_events": 100, "horizon": 2, "n_estimators": 30,
              "calibration_origins": 0, "min_child_samples": 5}
    cfg = retrain.RetrainConfig.model_validate({"models": {key: {
        "task": "hotspot-forecaster", "registered_name": name, "data": [str(tmp_path / "complaints_*.csv")],
        "refresh_if_no_worse": True, "checks": {"min_rows": 100}, "params": params}}})

    _events(tmp_path / "complaints_1.csv", weeks=40)
    first = retrain.retrain(cfg)
    o1 = first.outcomes[0]
    assert o1.decision == "promoted", o1.reason
    assert o1.metric == "rmse" and not o1.greater_is_better and o1.challenger["rmse"] > 0
    assert {"mae", "wape"} <= set(o1.challenger)
    files = [a.path for a in tracking.client().list_artifacts(o1.run_id)]
    assert "backtest_curve.png" in files

    same = retrain.retrain(cfg).outcomes[0]
    assert same.decision == "kept" and same.champion["rmse"] == pytest.approx(same.challenger["rmse"])

    _events(tmp_path / "complaints_2.csv", weeks=46)  # six more weeks, same generator and recipe
    newer = retrain.retrain(cfg).outcomes[0]
    assert newer.decision == "promoted", newer.reason
    assert "refresh" in newer.reason  # same recipe, same backtest: a tie, but newer data
    assert str(tracking.get_alias(name, "champion").version) == newer.challenger_version == "3"

    forecaster = models.load(name)
    assert type(forecaster).__name__ == "HotspotForecaster"
    fc = models.load(name, flavor="pyfunc").predict(pd.DataFrame({"horizon": [2]}))
    assert {"area", "category", "yhat"} <= set(fc.columns) and len(fc) == 6 * 3 * 2
    pd.testing.assert_frame_equal(fc.reset_index(drop=True), forecaster.predict(2).reset_index(drop=True))
