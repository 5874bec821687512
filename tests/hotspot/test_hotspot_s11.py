"""Session 11: ``point_rule="shift"`` — each cell's point trades absolute against squared error at one rate.

``point_shift_forecast(mu, alpha, s)`` = argmin_p E|Y - p| + (p - mu)^2 / (2 s), Y ~ NegBin(mu, alpha).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from govml.errors import ModelError
from govml.hotspot.forecast import (
    HotspotForecaster,
    choose_point_shift,
    point_forecast,
    point_shift_forecast,
)
from hotspot_panels import toy_panel


def _pmf(mu: float, alpha: float, ys: np.ndarray) -> np.ndarray:
    if alpha < 1e-6:
        return stats.poisson.pmf(ys, mu)
    n = 1.0 / alpha
    return stats.nbinom.pmf(ys, n, n / (n + mu))


def _expected_abs(p: np.ndarray, mu: np.ndarray, alpha: float) -> np.ndarray:
    """E|Y - p| per cell, summed over the support (exact up to a negligible tail)."""
    ys = np.arange(0, 200)
    return np.array([np.sum(_pmf(m, alpha, ys) * np.abs(ys - q)) for m, q in zip(mu, p, strict=True)])


@pytest.mark.parametrize("alpha", [0.0, 0.5])
@pytest.mark.parametrize("s", [0.2, 0.7, 1.5])
def test_shift_point_is_the_minimiser(alpha: float, s: float) -> None:
    # the closed form against a brute-force search of the objective on a fine grid
    mu = np.array([0.05, 0.3, 0.69, 0.8, 1.5, 2.5, 4.2, 12.0])
    p = point_shift_forecast(mu, alpha, s)
    ys = np.arange(0, 200)
    for m, q in zip(mu, p, strict=True):
        grid = np.linspace(max(0.0, m - s - 1), m + s + 1, 6001)
        pm = _pmf(m, alpha, ys)
        obj = (pm[None, :] * np.abs(ys[None, :] - grid[:, None])).sum(axis=1) + (grid - m) ** 2 / (2 * s)
        at_q = float(np.sum(pm * np.abs(ys - q)) + (q - m) ** 2 / (2 * s))
        assert at_q <= obj.min() + 1e-9
        assert abs(q - m) <= s + 1e-12 and q >= 0


def test_shift_point_properties() -> None:
    mu = np.linspace(0.0, 15.0, 1500)
    for alpha in (0.0, 0.3):
        np.testing.assert_array_equal(point_shift_forecast(mu, alpha, 0.0), mu)
        p = point_shift_forecast(mu, alpha, 0.8)
        assert np.all(np.diff(p) >= -1e-12)  # weakly increasing: never inverts a ranking by the mean
        assert np.all(p >= 0)
    # a Poisson cell below s (2 P(0) - 1) gets 0; its median (0) is reached, not passed
    p = point_shift_forecast(np.array([0.1, 0.2]), 0.0, 1.0)
    assert np.array_equal(p, [0.0, 0.0])
    # busy Poisson cells with an integer mean = median: nothing to gain, they stay put
    np.testing.assert_allclose(point_shift_forecast(np.array([20.0, 50.0]), 0.0, 1.0), [20.0, 50.0], atol=0.06)


def test_shift_beats_the_mix_at_equal_squared_cost() -> None:
    # the mechanism: for the same expected squared shift (the RMSE cost, when the predictive distribution is
    # right), the per-cell shift lowers the expected absolute error more than the linear mean–median mix,
    # which moves busy cells (small absolute gain per unit moved) as much as sparse ones
    rng = np.random.default_rng(0)
    mu = np.concatenate([rng.exponential(0.4, 300), rng.uniform(2.0, 20.0, 100)])
    alpha = 0.3
    ea0 = _expected_abs(mu, mu, alpha).mean()
    grid = np.geomspace(0.01, 50.0, 120)
    costs = np.array([np.mean((point_shift_forecast(mu, alpha, s) - mu) ** 2) for s in grid])
    for w in (0.3, 0.6, 0.9):
        pm = point_forecast(mu, alpha, w)
        cost = np.mean((pm - mu) ** 2)
        s = grid[costs <= cost].max()  # the largest s whose squared shift does not exceed the mix's
        ps = point_shift_forecast(mu, alpha, s)
        gain_mix = ea0 - _expected_abs(pm, mu, alpha).mean()
        gain_shift = ea0 - _expected_abs(ps, mu, alpha).mean()
        assert gain_shift > gain_mix > 0


def test_choose_point_shift_sparse_and_busy() -> None:
    rng = np.random.default_rng(1)
    mu = np.full(20_000, 0.3)
    obs = rng.poisson(mu).astype(float)
    s = choose_point_shift(mu, obs, alpha=0.0)
    assert s > 0
    p = point_shift_forecast(mu, 0.0, s)
    assert np.mean(np.abs(p - obs)) < 0.97 * np.mean(np.abs(mu - obs))
    assert np.sqrt(np.mean((p - obs) ** 2)) <= 1.005 * np.sqrt(np.mean((mu - obs) ** 2)) + 1e-12
    # busy cells with integer means: no scale lowers the MAE by 0.2%, the mean stays
    mu = np.repeat([5.0, 20.0], 10_000)
    assert choose_point_shift(mu, rng.poisson(mu).astype(float), alpha=0.0) == 0.0
    assert choose_point_shift(np.zeros(0), np.zeros(0), alpha=0.0) == 0.0


def test_forecaster_shift_rule_uses_the_mean_and_its_scale() -> None:
    rng = np.random.default_rng(2)
    rates = np.concatenate([rng.uniform(0.1, 0.6, 30), rng.uniform(3.0, 8.0, 6)])
    panel = toy_panel(rng.poisson(rates[:, None], size=(36, 60)).astype(float))
    kw = dict(horizon=2, n_estimators=20, num_leaves=7, min_child_samples=10)
    a = HotspotForecaster(point_rule="shift", **kw).fit(panel)
    b = HotspotForecaster(**kw).fit(panel)
    pa, pb = a.predict(), b.predict()
    # the same model and mean; only the point differs
    np.testing.assert_allclose(pa["yhat_mean"], pb["yhat_mean"])
    np.testing.assert_allclose(pa["p_hotspot"], pb["p_hotspot"])
    assert all(v == 0.0 for v in a.point_weight_.values()) and all(v == 0.0 for v in b.point_shift_.values())
    assert any(v > 0 for v in a.point_shift_.values())  # sparse cells: a shift pays on the holdout
    for h, s in a.point_shift_.items():
        g = pa[pa["horizon"] == h]
        np.testing.assert_allclose(g["yhat"], point_shift_forecast(g["yhat_mean"].to_numpy(), a.dispersion_[h], s))
    assert (pa["yhat_lo"] <= pa["yhat"]).all() and (pa["yhat"] <= pa["yhat_hi"]).all()
    assert a.describe()["point_shift"] == a.point_shift_
    with pytest.raises(ModelError, match="point_rule"):
        HotspotForecaster(point_rule="median", **kw).fit(panel)


def test_category_trend_candidate() -> None:
    # "cattr_a_b" = the series' share of its category so far × the category's a-period mean × (its a-period mean /
    # its b-period mean), the ratio clipped to [0.5, 2]: a top-down level that extrapolates the category's recent move
    from govml.hotspot.forecast import LEVEL_WINDOWS, _level_window, level_at_end, level_candidates

    y = np.zeros((3, 8))
    y[0] = [1, 1, 1, 1, 2, 2, 2, 2]  # category 0: two series, rising
    y[1] = [1, 1, 1, 1, 2, 2, 2, 2]
    y[2] = [4, 4, 4, 4, 1, 1, 0, 0]  # category 1: one series, falling past the clip
    g = np.array([0, 0, 1])
    M = level_candidates(y, ("cattr_2_8",), g)[:, :, 0]
    # category 0: 2-period mean 4, 8-period mean 3 → ratio 4/3; each series' share 1/2
    np.testing.assert_allclose(M[:2, -1], 0.5 * 4.0 * 4.0 / 3.0)
    # category 1: 2-period mean 0, so the level is 0 whatever the ratio; one period earlier: share 1 × 0.5 × ratio
    assert M[2, -1] == 0.0
    np.testing.assert_allclose(M[2, -2], 0.5 * 0.5)  # ratio 0.5 / (18 / 7) = 0.19 → clipped to 0.5
    W = LEVEL_WINDOWS + ("cattr_4_13",)
    rng = np.random.default_rng(3)
    yr = rng.poisson(rng.uniform(0.2, 3.0, (40, 1)) * np.linspace(1.0, 2.0, 30)[None, :]).astype(float)
    gr = np.repeat([0, 1, 2, 3], 10)
    np.testing.assert_allclose(level_candidates(yr, W, gr)[:, -1, :], level_at_end(yr, W, gr))
    assert _level_window("cattr_4_13") == 4.0
    with pytest.raises(ModelError, match="cattr"):
        level_candidates(yr, ("cattr_13_4",), gr)
