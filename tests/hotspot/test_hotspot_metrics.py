"""Baselines and metric functions checked by hand on tiny examples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from govml.errors import ModelError
from govml.hotspot.backtest import choose_origins, evaluate, point_metrics, poisson_deviance, top_k_metrics
from govml.hotspot.baselines import LastValue, MeanLast, SeasonalNaive


def _tiny_panel() -> pd.DataFrame:
    periods = pd.date_range("2024-01-01", periods=6, freq="W-MON")
    ys = {("甲", "a"): [1, 2, 3, 4, 5, 6], ("乙", "a"): [0, 0, 4, 0, 0, 2]}
    rows = [(a, c, p, float(v)) for (a, c), vals in ys.items() for p, v in zip(periods, vals, strict=True)]
    df = pd.DataFrame(rows, columns=["area", "category", "period_start", "y"])
    df["area"] = pd.Categorical(df["area"], categories=["乙", "甲"])
    df["category"] = pd.Categorical(df["category"])
    return df.sort_values(["area", "category", "period_start"]).reset_index(drop=True)


def test_baselines_by_hand() -> None:
    panel = _tiny_panel()
    lv = LastValue().fit(panel).predict(2).set_index(["area", "horizon"])["yhat"]
    assert lv[("甲", 1)] == 6 and lv[("甲", 2)] == 6 and lv[("乙", 2)] == 2
    m4 = MeanLast(4).fit(panel).predict(1).set_index("area")["yhat"]
    assert m4["甲"] == pytest.approx((3 + 4 + 5 + 6) / 4) and m4["乙"] == pytest.approx(6 / 4)
    m13 = MeanLast(13).fit(panel).predict(1).set_index("area")["yhat"]  # shorter history: mean of all 6
    assert m13["甲"] == pytest.approx(21 / 6)
    sn = SeasonalNaive(3).fit(panel).predict(4).set_index(["area", "horizon"])["yhat"]
    # origin = period 6; h=1 → period 4 (value 4), h=2 → 5, h=3 → 6, h=4 → one season back again (4)
    assert [sn[("甲", h)] for h in (1, 2, 3, 4)] == [4, 5, 6, 4]
    fc = LastValue().fit(panel).predict(2)
    assert fc["period_start"].min() == pd.Timestamp("2024-02-12") and fc["period_start"].max() == pd.Timestamp("2024-02-19")
    with pytest.raises(ModelError, match="52 periods"):
        SeasonalNaive(52).fit(panel)
    with pytest.raises(ModelError, match="not fitted"):
        LastValue().predict(1)


def test_top_k_precision_hit_rate_and_pai_by_hand() -> None:
    # 50 cells; k = ceil(2% × 50) = 1 and ceil(5% × 50) = 3
    y = np.zeros(50)
    y[[0, 1, 2]] = [10, 6, 4]
    y[10] = 5
    yhat = np.zeros(50)
    yhat[[0, 10, 20]] = [9, 8, 7]
    m2 = top_k_metrics(y, yhat, 2)
    assert m2["precision_top2pct"] == 1.0  # predicted top cell 0 is the actual top cell
    assert m2["hitrate_top2pct"] == pytest.approx(10 / 25)
    assert m2["pai_top2pct"] == pytest.approx((10 / 25) / (1 / 50))
    m5 = top_k_metrics(y, yhat, 5)
    # actual top-3: cells 0 (10), 1 (6), 10 (5); predicted top-3: 0, 10, 20 → overlap 2
    assert m5["precision_top5pct"] == pytest.approx(2 / 3)
    assert m5["hitrate_top5pct"] == pytest.approx((10 + 5 + 0) / 25)
    assert m5["pai_top5pct"] == pytest.approx((15 / 25) / (3 / 50))


def test_point_metrics_and_deviance_by_hand() -> None:
    y = np.array([0.0, 2.0, 4.0])
    yhat = np.array([1.0, 2.0, 2.0])
    m = point_metrics(y, yhat)
    assert m["mae"] == pytest.approx(1.0)
    assert m["rmse"] == pytest.approx(math.sqrt(5 / 3))
    assert m["wape"] == pytest.approx(3 / 6)
    dev = (2 * (0 - (0 - 1)) + 0 + 2 * (4 * math.log(2) - 2)) / 3
    assert m["poisson_deviance"] == pytest.approx(dev)
    assert poisson_deviance(np.array([1.0]), np.array([0.0])) == pytest.approx(2 * (math.log(1000) - 1 + 1e-3))


def test_evaluate_groups_by_model_and_horizon() -> None:
    preds = pd.DataFrame({"model": ["m"] * 4, "origin": [pd.Timestamp("2024-01-01")] * 4,
                          "horizon": [1, 1, 2, 2], "y": [1.0, 3.0, 0.0, 2.0], "yhat": [1.0, 1.0, 1.0, 1.0],
                          "yhat_lo": [0.0, 0.0, 0.0, 0.0], "yhat_hi": [2.0, 2.0, 2.0, 2.0]})
    m = evaluate(preds, pcts=(50,)).set_index("horizon")
    assert m.loc["1", "mae"] == pytest.approx(1.0) and m.loc["2", "mae"] == pytest.approx(1.0)
    assert m.loc["all", "coverage"] == pytest.approx(0.75)
    assert m.loc["all", "n"] == 4


def test_choose_origins() -> None:
    periods = pd.date_range("2024-01-01", periods=30, freq="W-MON")
    o = choose_origins(periods, horizon=4, n_origins=3)
    assert o == list(periods[23:26])
    o2 = choose_origins(periods, horizon=4, n_origins=3, start="2024-03-01")
    assert o2[0] == periods[9] and o2[-1] == periods[25] and len(o2) == 3
