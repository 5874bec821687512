"""Metamorphic and cross-checking properties of the hotspot backtest (session 22, issue 4).

Each test is the cheapest strong version of a property first checked at command level on data_samples/, Boston 311
and 泰迪杯 附件3 (docs/benchmarks.md, session 22)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from govml.hotspot.backtest import known_at, run_backtest, top_k_metrics
from govml.hotspot.baselines import MeanLast
from govml.hotspot.forecast import HotspotForecaster
from govml.hotspot.panel import as_panel, truncate
from govml.samples.complaints import synthetic_panel

SMALL = dict(n_estimators=40, learning_rate=0.1, num_leaves=15, min_child_samples=10, calibration_origins=3)


def _with_late_names(panel: pd.DataFrame, first: pd.Timestamp) -> pd.DataFrame:
    """``panel`` with a new category (in every area) and a new area (in every category) whose first events come
    after ``first``: zeros up to it, Poisson counts from the next period on."""
    rng = np.random.default_rng(5)
    periods = pd.DatetimeIndex(pd.unique(panel["period_start"]))
    later = (periods > first).astype(float)
    base = panel.assign(**{c: panel[c].astype(str) for c in ("area", "category", "district")})
    dist = base.drop_duplicates("area").set_index("area")["district"]
    extra = []
    for a in list(dist.index) + ["A9999"]:
        cats = ["C99"] if a != "A9999" else [*pd.unique(base["category"]), "C99"]
        for c in cats:
            extra.append(pd.DataFrame({"area": a, "category": c, "district": dist.get(a, "D0"),
                                       "period_start": periods, "y": rng.poisson(3.0, len(periods)) * later}))
    return as_panel(pd.concat([base, *extra], ignore_index=True))


def test_series_that_start_after_an_origin_do_not_reach_the_forecasts_made_at_it() -> None:
    """A category and an area whose first events come after the origin: the forecasts made at the origin are those
    made without them (the dense panel crosses every name of the whole data, so the cut used to hold their zero
    series, which the forecaster's pooled parts read: up to 0.21 on the sample's yhat at the CLI), and they are not
    forecast there, with a note; at a later origin that sees their events they are."""
    panel = synthetic_panel(n_areas=10, n_categories=2, n_periods=50, seed=3)
    periods = pd.DatetimeIndex(pd.unique(panel["period_start"]))
    o, later = periods[40], periods[45]
    grown = _with_late_names(panel, o)
    models = {"govml": HotspotForecaster(horizon=2, **SMALL), "mean_4": MeanLast(4)}
    a = run_backtest(panel, models, origins=[o], horizon=2)
    b = run_backtest(grown, models, origins=[o, later], horizon=2)
    cols = ["model", "area", "category", "period_start", "horizon", "yhat", "yhat_mean", "yhat_lo", "yhat_hi",
            "p_hotspot", "threshold", "p_ref"]
    b0 = b.predictions[b.predictions["origin"] == o]
    pd.testing.assert_frame_equal(a.predictions[cols].astype({"area": str, "category": str}).reset_index(drop=True),
                                  b0[cols].astype({"area": str, "category": str}).reset_index(drop=True))
    assert b.notes and str(o.date()) in b.notes[0] and "'A9999'" in b.notes[0] and "'C99'" in b.notes[0]
    assert not any(str(later.date()) in n for n in b.notes)
    b1 = b.predictions[b.predictions["origin"] == later]
    assert {"A9999"} <= set(b1["area"].astype(str)) and {"C99"} <= set(b1["category"].astype(str))
    # the cut is what the events up to the origin make: the same panel, the same names (LightGBM's codes)
    cut, gone_a, gone_c = known_at(truncate(grown, o))
    assert (gone_a, gone_c) == (["A9999"], ["C99"])
    pd.testing.assert_frame_equal(cut, truncate(panel, o))
    same = truncate(panel, o)
    assert known_at(same)[0] is same  # nothing to drop: the cut as it was


def test_top_k_precision_counts_a_cell_tied_with_the_kth_actual_as_a_hit() -> None:
    """The metric as docs/hotspots.md §4 defines it (session 22: the doc said ties were broken by cell order; the
    code counts a flagged cell whose count equals the k-th largest, > 0, as in the actual top k — a stable-order
    overlap would score the same forecast 0.3125 instead of 0.4375 on the sample's first map)."""
    y = np.array([5.0, 3.0, 3.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    yhat = np.array([0.0, 0.0, 0.0, 9.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0])  # flags cell 3 (3 events) and cell 4 (none)
    m = top_k_metrics(y, yhat, 20)  # k = 2: the actual top 2 are cell 0 (5) and one of the 3s
    assert m["precision_top20pct"] == 0.5  # cell 3 ties the 2nd largest: a hit, though a stable sort puts cell 1 there
    assert m["hitrate_top20pct"] == pytest.approx(3 / 14)
    assert m["pai_top20pct"] == pytest.approx((3 / 14) / (2 / 10))
    # a zero k-th value: flagged zeros are no hits
    z = top_k_metrics(np.array([1.0, 0, 0, 0, 0]), np.array([0.0, 0, 0, 1, 2]), 40)
    assert z["precision_top40pct"] == 0.0 and math.isclose(z["hitrate_top40pct"], 0.0)
