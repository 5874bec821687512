"""The level the forecaster boosts from: window means, and convex weights chosen on the data's own past."""

from __future__ import annotations

import numpy as np
import pytest

from govml.errors import ModelError
from govml.hotspot.forecast import (
    LEVEL_WINDOWS,
    LEVEL_WINDOWS_PLAIN,
    HotspotForecaster,
    _simplex_qp,
    choose_level_weights,
    level_at_end,
    level_candidates,
)
from hotspot_panels import toy_panel


def test_window_means_by_hand() -> None:
    y = np.array([[0.0, 2.0, 4.0, 6.0, 8.0]])
    M = level_candidates(y, (2, "all"))
    assert M.shape == (1, 5, 2)
    # last-2 mean (fewer at the start) and the mean of everything so far, at each column
    assert M[0, :, 0].tolist() == [0.0, 1.0, 3.0, 5.0, 7.0]
    assert M[0, :, 1].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_simplex_qp_known_answers() -> None:
    # two candidates a, b with errors independent, variances 1 and 3: the best mix is 3/4, 1/4
    G = np.array([[1.0, 0.0], [0.0, 3.0]])  # E[(c_i - y)(c_j - y)] with the sum-to-1 trick: b = 0
    assert np.allclose(_simplex_qp(G, np.zeros(2)), [0.75, 0.25], atol=1e-4)
    # a candidate equal to the target wins outright; weights stay on the simplex
    A = np.array([[1.0, 5.0, 2.0], [2.0, 1.0, 0.0], [3.0, 4.0, 1.0], [4.0, 0.0, 7.0]])
    t = A[:, 1]
    w = _simplex_qp(A.T @ A, A.T @ t)
    assert np.allclose(w, [0.0, 1.0, 0.0], atol=1e-4) and abs(w.sum() - 1) < 1e-12 and (w >= 0).all()


def test_top_down_candidate_by_hand() -> None:
    # two series of one category; shares so far 1/4 and 3/4; the category's last-2 total mean is 6
    y = np.array([[1.0, 0.0, 2.0, 1.0], [3.0, 4.0, 4.0, 5.0]])
    M = level_candidates(y, ("cat_2",), np.array([0, 0]))
    assert np.allclose(M[:, -1, 0], [4.0 / 20 * 6.0, 16.0 / 20 * 6.0])
    # a series alone in its group: its own window mean
    M1 = level_candidates(y, ("cat_2", 2), np.array([0, 1]))
    assert np.allclose(M1[1, :, 0], M1[1, :, 1])
    # the end-of-panel shortcut gives the same as the full matrix
    for groups in (None, np.array([0, 0]), np.array([1, 0])):
        full = level_candidates(y, LEVEL_WINDOWS, groups)[:, -1, :]
        assert np.allclose(level_at_end(y, LEVEL_WINDOWS, groups), full)


def test_stationary_series_weight_the_long_mean() -> None:
    # constant rates, pure Poisson noise: the mean of everything so far is the best estimate
    rng = np.random.default_rng(0)
    rate = rng.gamma(2.0, 1.0, size=(200, 1))
    y = rng.poisson(np.repeat(rate, 80, axis=1)).astype(float)
    w = dict(zip(LEVEL_WINDOWS, choose_level_weights(y, horizon=2), strict=True))
    # the long memory: everything so far, the last 52 of 80 periods, or the series' share of all its
    # category's events so far times the (large, hence steady) category total
    assert w["all"] + w[52] + w["cat_4"] + w["cat_13"] >= 0.7, w
    assert w[4] <= 0.1, w


def test_shifting_series_weight_the_short_mean() -> None:
    # the rate takes a random-walk step every 5 periods: only the recent periods tell the level
    rng = np.random.default_rng(1)
    rates = 10.0 * np.exp(rng.normal(0.0, 0.5, size=(100, 16)).cumsum(axis=1))
    y = rng.poisson(np.repeat(rates, 5, axis=1)).astype(float)
    w = dict(zip(LEVEL_WINDOWS, choose_level_weights(y, horizon=1), strict=True))
    assert w[4] >= 0.8, w
    assert w["all"] + w[52] <= 0.1, w


def test_weights_use_only_the_data_given_and_fall_back_without_origins() -> None:
    rng = np.random.default_rng(2)
    y = rng.poisson(3.0, size=(50, 60)).astype(float)
    w = choose_level_weights(y, horizon=3)
    assert w.shape == (len(LEVEL_WINDOWS),) and abs(w.sum() - 1.0) < 1e-9
    # no origin with an observed target: the first window takes everything
    assert choose_level_weights(np.zeros((4, 1)), horizon=2).tolist() == [1.0] + [0.0] * (len(LEVEL_WINDOWS) - 1)


def test_forecaster_stores_weights_and_rejects_unknown_offset() -> None:
    from govml.errors import ModelError
    from govml.samples.complaints import synthetic_panel

    panel = synthetic_panel(n_areas=20, n_categories=3, n_periods=60, seed=5)
    small = dict(n_estimators=30, learning_rate=0.1, num_leaves=7, min_child_samples=20, calibration_origins=0)
    m = HotspotForecaster(horizon=2, offset_window="auto", **small).fit(panel)
    assert m.level_weights_.shape == (len(LEVEL_WINDOWS),)
    assert abs(m.level_weights_.sum() - 1.0) < 1e-9
    fixed = HotspotForecaster(horizon=2, offset_window=(4, 13), **small).fit(panel)
    assert fixed.level_weights_.tolist() == [0.5, 0.5]
    with pytest.raises(ModelError, match="offset_window"):
        HotspotForecaster(horizon=2, offset_window="median", **small).fit(panel)


SMALL = dict(n_estimators=60, learning_rate=0.1, num_leaves=7, min_child_samples=20, calibration_origins=4)


def test_staged_scores_match_lightgbm() -> None:
    from govml.hotspot.features import FeatureBuilder
    from govml.hotspot.forecast import _staged_raw
    from govml.hotspot.panel import panel_matrix

    rng = np.random.default_rng(3)
    panel = toy_panel(rng.poisson(2.0, size=(40, 40)).astype(float))
    m = HotspotForecaster(horizon=1, select_trees=False, **SMALL).fit(panel)
    y, keys, periods = panel_matrix(panel)
    X = FeatureBuilder(y, keys, periods, m._spec()).frame(1, [39])[m.feature_names_]
    staged = _staged_raw(m.models_[1], X, np.array([0, 10, 60]))
    assert np.allclose(staged[:, 0], 0.0)
    assert np.allclose(staged[:, 1], m.models_[1].predict(X, raw_score=True, num_iteration=10))
    assert np.allclose(staged[:, 2], m.models_[1].predict(X, raw_score=True))


def test_trees_dropped_on_pure_noise_and_kept_for_a_pattern_the_level_misses() -> None:
    rng = np.random.default_rng(4)
    # constant rates: nothing beyond the level to learn, the holdout keeps (almost) no trees
    noise = HotspotForecaster(horizon=2, **SMALL).fit(toy_panel(rng.poisson(3.0, size=(60, 50)).astype(float)))
    assert noise.n_trees_ <= 10, noise.n_trees_
    # constant counts: the level is exact, no tree can help, none is kept and nothing is "explained"
    flat = HotspotForecaster(horizon=2, **SMALL).fit(toy_panel(np.full((30, 40), 3.0)))
    assert flat.n_trees_ == 0 and all(m is None for m in flat.models_.values())
    assert np.allclose(flat.predict(2)["yhat"], 3.0)
    ex = flat.explain(top=2)
    assert len(ex) == 30 * 2 * 2 and (ex["contribution"] == 0).all()
    # every other week is 4x busier: window means sit in the middle, the trees (lag_2) see the rhythm
    rate = np.where(np.arange(50) % 2 == 0, 8.0, 2.0)[None, :].repeat(60, axis=0)
    alt_panel = toy_panel(rng.poisson(rate).astype(float))
    alt = HotspotForecaster(horizon=2, **SMALL).fit(alt_panel)
    assert alt.n_trees_ >= 30, alt.n_trees_
    fc = alt.predict(2)  # the panel ends on an odd (quiet) week: next is busy, then quiet
    by_h = fc.groupby("horizon")["yhat"].mean()
    assert by_h[1] > 6.0 and by_h[2] < 3.5, by_h
    assert alt.describe()["n_trees"] == alt.n_trees_


def test_recursive_strategy_chooses_its_trees_like_the_direct_one() -> None:
    rng = np.random.default_rng(4)
    flat = HotspotForecaster(horizon=2, strategy="recursive", **SMALL).fit(toy_panel(np.full((30, 40), 3.0)))
    assert flat.n_trees_ == 0 and flat.models_ == {1: None}
    assert np.allclose(flat.predict(2)["yhat"], 3.0)
    # the rhythm the level misses: the one-step model needs its trees, and fed back it keeps the rhythm
    rate = np.where(np.arange(50) % 2 == 0, 8.0, 2.0)[None, :].repeat(60, axis=0)
    alt = HotspotForecaster(horizon=2, strategy="recursive", **SMALL).fit(toy_panel(rng.poisson(rate).astype(float)))
    assert alt.n_trees_ >= 30, alt.n_trees_
    by_h = alt.predict(2).groupby("horizon")["yhat"].mean()
    assert by_h[1] > 6.0 and by_h[2] < 3.5, by_h
    # without the choice it keeps every tree
    assert HotspotForecaster(horizon=2, strategy="recursive", select_trees=False,
                             **SMALL).fit(toy_panel(np.full((30, 40), 3.0))).n_trees_ == SMALL["n_estimators"]


def test_combine_weight_by_hand() -> None:
    from govml.hotspot.forecast import choose_combine_weight

    obs = np.array([0.0, 1.0, 5.0, 2.0])
    other = np.array([3.0, 0.0, 1.0, 6.0])
    assert choose_combine_weight(obs, other, obs) == 1.0
    assert choose_combine_weight(other, obs, obs) == 0.0
    # errors of opposite sign and equal size: the average is exact
    assert choose_combine_weight(obs + 1.0, obs - 1.0, obs) == 0.5
    # the same forecast twice: every weight ties, equal weights win the tie
    assert choose_combine_weight(other, other, obs) == 0.5


def test_combined_strategy_averages_direct_and_recursive_paths() -> None:
    from govml.hotspot.features import FeatureBuilder
    from govml.hotspot.panel import panel_matrix

    rng = np.random.default_rng(5)
    rate = np.where(np.arange(50) % 2 == 0, 8.0, 2.0)[None, :].repeat(60, axis=0)
    panel = toy_panel(rng.poisson(rate).astype(float))
    m = HotspotForecaster(horizon=3, strategy="combined", **SMALL).fit(panel)
    assert set(m.models_) == {1, 2, 3} and m.combine_weight_ == {1: 0.5, 2: 0.5, 3: 0.5}
    y, keys, periods = panel_matrix(panel)
    fb = FeatureBuilder(y, keys, periods, m._spec())
    args = (y, keys, periods, m.models_, 3)
    d = m._predict_matrix(*args, fb=fb, weights=m.level_weights_, strategy="direct")
    r = m._predict_matrix(*args, weights=m.level_weights_, strategy="recursive")
    assert np.allclose(d[:, 0], r[:, 0])  # one step ahead both are the one-step model
    assert not np.allclose(d[:, 1:], r[:, 1:])  # further ahead they differ, so the test can fail
    fc = m.predict(3)
    assert np.allclose(fc["yhat_mean"].to_numpy(), (0.5 * d + 0.5 * r).reshape(-1))
    auto = HotspotForecaster(horizon=3, strategy="combined", combine_weight="auto", **SMALL).fit(panel)
    assert all(0.0 <= w <= 1.0 for w in auto.combine_weight_.values())
    with pytest.raises(ModelError, match="combine_weight"):
        HotspotForecaster(horizon=2, strategy="combined", combine_weight=2.0, **SMALL).fit(panel)


def test_robust_window_candidates_by_hand() -> None:
    y = np.array([[1.0, 9.0, 2.0, 3.0, 100.0]])
    M = level_candidates(y, ("med_4", "trim_4", "med_13", "trim_13"))[0]
    # column 1: [1, 9]; column 4: the last four [9, 2, 3, 100] and all five
    assert np.allclose(M[1], [5.0, 1.0, 5.0, 1.0])
    assert np.allclose(M[4], [6.0, 14.0 / 3.0, 3.0, 3.75])
    rng = np.random.default_rng(0)
    z = rng.poisson(3.0, size=(6, 20)).astype(float)
    windows = (4, "med_4", "trim_8", "med_13", "all")
    full = level_candidates(z, windows)
    for T in (1, 2, 5, 8, 13, 20):  # the level at the end is the candidates' last column
        assert np.allclose(level_at_end(z[:, :T], windows), full[:, T - 1, :])
    # a one-week spike moves the mean of the last 4 but not the robust candidates
    spike = np.full((1, 12), 2.0)
    spike[0, -2] = 50.0
    end = level_at_end(spike, (4, "med_4", "trim_4"))[0]
    assert end[0] == 14.0 and end[1] == 2.0 and end[2] == 2.0


def test_robust_candidates_weighted_when_spikes_hit_short_windows() -> None:
    rng = np.random.default_rng(6)
    rate = np.repeat(rng.uniform(2, 12, size=(40, 6)), 8, axis=1)[:, :40]  # levels move every 8 weeks
    windows = LEVEL_WINDOWS_PLAIN + ("med_4", "trim_4")
    calm = rng.poisson(rate).astype(float)
    spiky = rng.poisson(rate).astype(float) + 80.0 * (rng.random((40, 40)) < 0.04)  # one-week bursts
    w_calm = dict(zip(windows, choose_level_weights(calm, 2, windows=windows), strict=True))
    w_spiky = dict(zip(windows, choose_level_weights(spiky, 2, windows=windows), strict=True))
    # without bursts the plain 4-week mean carries the short-term weight; with them the robust ones do
    assert w_calm[4] > 0.5 and w_spiky[4] < 0.05, (w_calm, w_spiky)
    robust = {k: w["med_4"] + w["trim_4"] for k, w in (("calm", w_calm), ("spiky", w_spiky))}
    assert robust["spiky"] > robust["calm"] + 0.1, robust
    # holidays=None: the weights on the raw counts (the toy weeks span Chinese holidays; the holiday
    # factor, tested in test_hotspot_holidays.py, would adjust them first if it found an effect)
    m = HotspotForecaster(horizon=2, level_windows=windows, holidays=None, **SMALL).fit(toy_panel(spiky))
    assert np.allclose(m.level_weights_, list(w_spiky.values()), atol=1e-6)
    assert set(m.describe()["level_weights"]) == {str(v) for v in windows}


def test_trees_per_horizon_when_only_the_next_week_is_predictable() -> None:
    rng = np.random.default_rng(7)
    burst = rng.random((60, 50)) < 0.12  # a burst week (+30) is followed by one busier week, then nothing
    rate = np.full((60, 50), 3.0)
    rate[:, 1:][burst[:, :-1]] = 12.0
    panel = toy_panel(rng.poisson(rate).astype(float) + 30.0 * burst)
    # holidays=None: the toy weeks span the 2023 Spring Festival, and with these bursts its two weeks look
    # busier by chance (+0.58 per day share, 1.8 standard errors; kept in part by the shrinkage)
    small = {**SMALL, "holidays": None}
    pooled = HotspotForecaster(horizon=2, **small).fit(panel)
    assert pooled.n_trees_by_horizon_[1] == pooled.n_trees_by_horizon_[2] == pooled.n_trees_
    per_h = HotspotForecaster(horizon=2, tree_choice="per_horizon", **small).fit(panel)
    k = per_h.n_trees_by_horizon_
    assert k[1] >= 9 and k[2] == 0, k  # lag_1 tells the week after a burst; two weeks on, nothing does
    assert per_h.models_[2] is None and per_h.models_[1].booster_.current_iteration() == k[1]
    assert per_h.n_trees_ == k[1] and per_h.describe()["n_trees_by_horizon"] == k
    with pytest.raises(ModelError, match="tree_choice"):
        HotspotForecaster(horizon=2, tree_choice="each", **small).fit(panel)
