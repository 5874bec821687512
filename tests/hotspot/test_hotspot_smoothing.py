"""Round-4 options of the forecaster: exponential-smoothing and intermittent-demand level candidates,
per-tier level weights, level candidates as tree features, recency-weighted rows, seed bagging."""

from __future__ import annotations

import numpy as np
import pandas as pd

from govml.hotspot.forecast import (
    LEVEL_WINDOWS,
    HotspotForecaster,
    choose_level_weights,
    choose_level_weights_tiered,
    level_at_end,
    level_candidates,
    volume_tiers,
)
from hotspot_panels import toy_panel

SMALL = dict(n_estimators=40, learning_rate=0.1, num_leaves=7, min_child_samples=20, calibration_origins=4)


def test_ewm_candidate_is_pandas_adjusted_ewm() -> None:
    rng = np.random.default_rng(0)
    y = rng.poisson(0.7, size=(6, 40)).astype(float)
    for a in (0.1, 0.3):
        M = level_candidates(y, (f"ewm_{a}",))[:, :, 0]
        ref = pd.DataFrame(y.T).ewm(alpha=a, adjust=True).mean().to_numpy().T
        assert np.allclose(M, ref, atol=1e-12)


def test_tsb_candidate_by_hand() -> None:
    # a = 0.5: probability and size each the normalised weights 1, 0.5, 0.25, ... of their observations
    y = np.array([[0.0, 4.0, 0.0, 2.0, 0.0, 0.0]])
    M = level_candidates(y, ("tsb_0.5",))[0, :, 0]
    assert M[0] == 0.0  # no event yet
    p1 = 1.0 / 1.5  # occurrence weights: t1 (1), t0 (0.5)
    assert np.isclose(M[1], p1 * 4.0)
    p3 = (1.0 + 0.25) / (1 + 0.5 + 0.25 + 0.125)
    z3 = (2.0 + 0.5 * 4.0) / 1.5
    assert np.isclose(M[3], p3 * z3)
    # through a run of zeros the size stays, the probability (hence the forecast) decays
    assert M[5] < M[4] < M[3]
    assert np.isclose(M[4], 0.625 / 1.9375 * z3) and np.isclose(M[5], 0.3125 / 1.96875 * z3)
    # the end-of-panel shortcut agrees with the matrix for every candidate kind
    windows = LEVEL_WINDOWS + ("ewm_0.2", "tsb_0.1")
    z = np.random.default_rng(1).poisson(1.0, size=(10, 30)).astype(float)
    assert np.allclose(level_at_end(z, windows), level_candidates(z, windows)[:, -1, :])


def test_smoothing_candidates_use_only_the_past() -> None:
    rng = np.random.default_rng(2)
    y = rng.poisson(2.0, size=(5, 30)).astype(float)
    windows = ("ewm_0.3", "tsb_0.2")
    M = level_candidates(y, windows)
    z = y.copy()
    z[:, 20:] = rng.poisson(9.0, size=(5, 10))
    assert np.array_equal(level_candidates(z, windows)[:, :20], M[:, :20])


def test_volume_tiers_and_tiered_weights() -> None:
    rng = np.random.default_rng(3)
    # busy series whose rate shifts every 5 periods (the short mean wins) and sparse stationary ones
    # (the long mean wins): pooled weights follow the busy ones, tiered weights give each its own
    rates = 20.0 * np.exp(rng.normal(0.0, 0.5, size=(40, 16)).cumsum(axis=1))
    busy = rng.poisson(np.repeat(rates, 5, axis=1)).astype(float)
    sparse = rng.poisson(np.repeat(rng.gamma(2.0, 0.2, size=(40, 1)), 80, axis=1)).astype(float)
    y = np.vstack([busy, sparse])
    tiers = volume_tiers(y, 2)
    assert tiers[:40].tolist() == [1] * 40 and tiers[40:].tolist() == [0] * 40  # two tiers of equal size
    assert volume_tiers(y, 1).tolist() == [0] * len(y)
    W = choose_level_weights_tiered(y, 1, tiers)
    assert W.shape == (len(y), len(LEVEL_WINDOWS)) and np.allclose(W.sum(axis=1), 1.0)
    pooled = dict(zip(LEVEL_WINDOWS, choose_level_weights(y, 1), strict=True))
    quiet = dict(zip(LEVEL_WINDOWS, W[tiers == 0][0], strict=True))
    loud = dict(zip(LEVEL_WINDOWS, W[tiers == 1][0], strict=True))
    long_q = quiet["all"] + quiet[52] + quiet[26] + quiet["cat_4"] + quiet["cat_13"]
    assert long_q >= 0.6, quiet
    assert loud[4] >= 0.6 and pooled[4] >= 0.6, (loud, pooled)
    # one tier: the pooled weights for every series
    assert np.allclose(choose_level_weights_tiered(y, 1, np.zeros(len(y), dtype=np.int64)),
                       choose_level_weights(y, 1)[None, :])


def test_forecaster_options_fit_and_forecast() -> None:
    rng = np.random.default_rng(4)
    rate = np.where(np.arange(50) % 2 == 0, 6.0, 2.0)[None, :] * rng.gamma(2.0, 0.5, size=(50, 1))
    panel = toy_panel(rng.poisson(rate).astype(float))
    base = HotspotForecaster(horizon=2, **SMALL).fit(panel)
    tiered = HotspotForecaster(horizon=2, level_tiers=2, **SMALL).fit(panel)
    assert tiered.level_weights_.shape == (50, len(LEVEL_WINDOWS))
    assert set(tiered.describe()["level_weights"]) == {str(w) for w in LEVEL_WINDOWS}
    feat = HotspotForecaster(horizon=2, level_features=("ewm_0.3", "tsb_0.1"), **SMALL).fit(panel)
    assert {"lvl_ewm_0.3", "lvl_tsb_0.1"} <= set(feat.feature_names_)
    assert len(feat.explain(top=2)) == 50 * 2 * 2
    rec = HotspotForecaster(horizon=2, recency_halflife=8, select_trees=False, **SMALL).fit(panel)
    bag = HotspotForecaster(horizon=2, n_bags=3, select_trees=False, **SMALL).fit(panel)
    plain = HotspotForecaster(horizon=2, select_trees=False, **SMALL).fit(panel)
    fcs = {k: m.predict(2) for k, m in dict(base=base, tiered=tiered, feat=feat, rec=rec, bag=bag,
                                              plain=plain).items()}
    for fc in fcs.values():
        assert len(fc) == 100 and fc["yhat"].notna().all() and (fc["yhat"] >= 0).all()
    # the options change the forecast (so these tests could fail), and seed bagging is reproducible
    assert not np.allclose(fcs["rec"]["yhat_mean"], fcs["plain"]["yhat_mean"])
    assert not np.allclose(fcs["bag"]["yhat_mean"], fcs["plain"]["yhat_mean"])
    again = HotspotForecaster(horizon=2, n_bags=3, select_trees=False, **SMALL).fit(panel).predict(2)
    assert np.array_equal(again["yhat_mean"].to_numpy(), fcs["bag"]["yhat_mean"].to_numpy())


def test_last_column_builder_is_identical_to_the_full_one() -> None:
    from govml.hotspot.features import FeatureBuilder, FeatureSpec
    from govml.hotspot.panel import panel_matrix
    from govml.samples.complaints import synthetic_panel

    panel = synthetic_panel(n_areas=12, n_categories=3, n_periods=70, seed=6, n_districts=3, calendar=True)
    y, keys, periods = panel_matrix(panel)
    rng = np.random.default_rng(7)
    # fed-back forecasts are fractional: append a few, as the recursion does, and compare at the end
    y_ext = np.concatenate([y, rng.gamma(1.0, 1.5, size=(len(y), 3))], axis=1)
    per = pd.date_range(periods[0], periods=y_ext.shape[1], freq="W-MON")
    for spec in (FeatureSpec(), FeatureSpec(lags=(1, 2, 80), rolling_windows=(3, 90), pooled_windows=(4, 13, 26))):
        for T in (1, 5, 70, 73):
            full = FeatureBuilder(y_ext[:, :T], keys, per[:T], spec)
            last = FeatureBuilder(y_ext[:, :T], keys, per[:T], spec, last_only=True)
            assert last.feature_names() == full.feature_names()
            for h in (1, 3):
                pd.testing.assert_frame_equal(last.frame(h, [T - 1]), full.frame(h, [T - 1]), check_exact=True)
    import pytest

    with pytest.raises(ValueError, match="last origin"):
        last.frame(1, [0])


def test_incremental_recursion_gives_the_forecasts_of_the_full_rebuild(monkeypatch) -> None:
    from govml.samples.complaints import synthetic_panel

    panel = synthetic_panel(n_areas=15, n_categories=3, n_periods=60, seed=8)
    kw = dict(SMALL, select_trees=False)
    fast = HotspotForecaster(horizon=3, strategy="combined", level_features=("ewm_0.3",), **kw).fit(panel)
    fc_fast = fast.predict(3)
    full_builder = HotspotForecaster._builder

    def rebuild(self, y, keys, periods, spec=None, last_only=False):  # the previous path: every column, every step
        return full_builder(self, y, keys, periods, spec, last_only=False)

    monkeypatch.setattr(HotspotForecaster, "_builder", rebuild)
    slow = HotspotForecaster(horizon=3, strategy="combined", level_features=("ewm_0.3",), **kw).fit(panel)
    pd.testing.assert_frame_equal(slow.predict(3), fc_fast, check_exact=True)
    assert slow.point_weight_ == fast.point_weight_ and slow.conformal_ == fast.conformal_
