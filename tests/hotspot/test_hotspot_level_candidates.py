"""Session-6 level candidates (options): area top-down ``area_w``, two-way independence ``indep_w`` /
``indepr_w``, empirical-Bayes shrinkage ``eb_w`` (toward the long rate) and ``ebi_w`` (toward the
independence model) — values on tiny panels worked by hand, and no leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.hotspot.backtest import run_backtest
from govml.hotspot.forecast import LEVEL_WINDOWS, HotspotForecaster, level_at_end, level_candidates
from govml.samples.complaints import synthetic_panel

# 2 areas × 2 categories, series in the order (a0, c0), (a0, c1), (a1, c0), (a1, c1)
Y4 = np.array([[1.0, 2.0, 3.0],
               [0.0, 1.0, 1.0],
               [2.0, 0.0, 2.0],
               [1.0, 1.0, 0.0]])
CATS = np.array([0, 1, 0, 1])
AREAS = np.array([0, 0, 1, 1])
NEW = ("area_2", "area_4", "indep_2", "indep_4", "indepr_2", "indepr_2_3", "eb_2", "eb_4", "eb_2_2", "ebi_2",
       "ebi_2_2", "ebi_4_3")


def test_area_candidate_by_hand() -> None:
    M = level_candidates(Y4, ("area_2",), CATS, AREAS)[:, -1, 0]
    # area a0: shares so far 6/8 and 2/8, its total over the last 2 periods (3 + 4) / 2 = 3.5;
    # area a1: shares 4/6 and 2/6, total (1 + 2) / 2 = 1.5
    assert np.allclose(M, [0.75 * 3.5, 0.25 * 3.5, 1.5 * 4 / 6, 1.5 * 2 / 6])
    # at the first column the window is the one period so far; an area with no events yet: equal shares
    first = level_candidates(np.array([[0.0, 2.0], [0.0, 4.0], [1.0, 0.0]]), ("area_2",), None,
                             np.array([0, 0, 1]))[:, 0, 0]
    assert np.allclose(first, [0.0, 0.0, 1.0])


def test_independence_candidates_by_hand() -> None:
    M = level_candidates(Y4, ("indep_2", "indepr_2"), CATS, AREAS)[:, -1, :]
    # last 2 periods: series totals 5, 2, 2, 1; areas 7, 3; categories 7, 3; all 10; per period ÷ 2
    assert np.allclose(M[:, 0], [7 * 7 / 20, 7 * 3 / 20, 3 * 7 / 20, 3 * 3 / 20])
    # so far the series sit close to independence (no extra-Poisson spread): the ratio shrinks to 1
    assert np.allclose(M[:, 1], M[:, 0])
    # a strong interaction: a0 has c0 only, a1 c1 only — independence spreads each area over both
    # categories, the shrunk ratio (x + α) / (e + α) pulls each cell back toward its own share
    y = np.array([[8.0, 8.0, 8.0, 8.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [8.0, 8.0, 8.0, 8.0]])
    M = level_candidates(y, ("indep_2", "indepr_2"), CATS, AREAS)[:, -1, :]
    assert np.allclose(M[:, 0], 4.0)  # 16 · 16 / 32 / 2 per period
    x, e = np.array([32.0, 0.0, 0.0, 32.0]), np.full(4, 16.0)  # counts so far and independence's expectation
    inv = (((x - e) ** 2 - x).sum()) / (e ** 2).sum()  # method of moments: 1 / α
    assert inv > 0
    assert np.allclose(M[:, 1], 4.0 * (x * inv + 1) / (e * inv + 1))
    assert M[0, 1] > 4.0 > M[1, 1]
    # "indepr_w_L": the ratio from the last L = 3 periods only: counts 24, 0, 0, 24, expectation 12 each
    x3, e3 = np.array([24.0, 0.0, 0.0, 24.0]), np.full(4, 12.0)
    inv3 = (((x3 - e3) ** 2 - x3).sum()) / (e3 ** 2).sum()
    assert np.isclose(inv3, 528 / 576)
    assert np.allclose(level_candidates(y, ("indepr_2_3",), CATS, AREAS)[:, -1, 0],
                       4.0 * (x3 * inv3 + 1) / (e3 * inv3 + 1))


def test_empirical_bayes_candidate_by_hand() -> None:
    # a series that rose (0, 0, 4, 4) and one that fell (2, 2, 0, 0): window w = 2, long rate = mean so far
    y = np.array([[0.0, 0.0, 4.0, 4.0], [2.0, 2.0, 0.0, 0.0]])
    lev = level_candidates(y, ("eb_2",))[:, -1, 0]
    # window sums x = 8, 0; long rates 2, 1; expected in the window e = 4, 2;
    # 1/α = (((8 - 4)² - 8) + ((0 - 2)² - 0)) / (4² + 2²) = 12 / 20; weight on the window mean e / (e + α)
    inv = 12.0 / 20.0
    a = np.array([4.0 * inv / (4.0 * inv + 1), 2.0 * inv / (2.0 * inv + 1)])
    assert np.allclose(a, [12 / 17, 6 / 11])
    assert np.allclose(lev, [12 / 17 * 4.0 + 5 / 17 * 2.0, 5 / 11 * 1.0])
    # the busier series keeps more of its own window mean than the quieter one
    assert a[0] > a[1]
    # no spread beyond Poisson noise: the long rate itself
    assert np.allclose(level_candidates(Y4, ("eb_2",))[:, -1, 0], Y4.mean(axis=1))
    # "eb_w_L": toward the mean of the last L periods instead of everything so far
    assert np.allclose(level_candidates(Y4, ("eb_2_2",))[:, -1, 0], Y4[:, -2:].mean(axis=1))


def test_empirical_bayes_toward_independence_by_hand() -> None:
    # "ebi_w_L": the window mean shrunk toward the independence model of the last L periods
    # near independence (no extra-Poisson spread): the independence model itself
    assert np.allclose(level_candidates(Y4, ("ebi_2_2",), CATS, AREAS)[:, -1, 0],
                       level_candidates(Y4, ("indep_2",), CATS, AREAS)[:, -1, 0])
    # a strong interaction: window sums 16, 0, 0, 16; independence 4 per period, 8 in the window;
    # 1/α = ((8² - 16) + 8² + 8² + (8² - 16)) / (4 · 8²) = 7/8, weight on the own mean 7 / (7 + 1)
    y = np.array([[8.0, 8.0, 8.0, 8.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [8.0, 8.0, 8.0, 8.0]])
    lev = level_candidates(y, ("ebi_2_2",), CATS, AREAS)[:, -1, 0]
    assert np.allclose(lev, [7 / 8 * 8 + 1 / 8 * 4, 1 / 8 * 4, 1 / 8 * 4, 7 / 8 * 8 + 1 / 8 * 4])


@pytest.mark.parametrize("cut", [0, 1, 5, 20, 39])
def test_new_candidates_use_only_the_past(cut: int) -> None:
    rng = np.random.default_rng(cut)
    S = 24
    cats, areas = np.arange(S) % 3, np.arange(S) // 3
    y = rng.poisson(rng.gamma(1.0, 2.0, size=(S, 1)) * np.linspace(0.5, 2.0, 40)).astype(float)
    z = y.copy()
    z[:, cut + 1:] = rng.poisson(9.0, size=(S, 40 - cut - 1))  # every count after the cut changed
    assert not np.array_equal(z, y) or cut == 39
    full = level_candidates(y, NEW, cats, areas)
    pert = level_candidates(z, NEW, cats, areas)
    assert np.array_equal(full[:, : cut + 1], pert[:, : cut + 1])
    # the end-of-panel shortcut the forecaster uses gives the matrix's values at the cut
    assert np.allclose(level_at_end(y[:, : cut + 1], NEW, cats, areas), full[:, cut, :], rtol=1e-12, atol=1e-12)
    # and the candidates do react to what comes after, so the test could fail
    if cut < 39:
        assert not np.allclose(full[:, -1], pert[:, -1])


def test_forecaster_with_new_candidates_ignores_everything_after_the_origin() -> None:
    panel = synthetic_panel(n_areas=8, n_categories=3, n_periods=50, seed=5)
    periods = pd.DatetimeIndex(pd.unique(panel["period_start"]))
    origin = periods[40]
    windows = LEVEL_WINDOWS + ("area_4", "indep_4", "eb_4", "share_4", "share_13")  # share_w: session 7
    small = dict(n_estimators=30, learning_rate=0.1, num_leaves=7, min_child_samples=10, calibration_origins=3)
    models = {"new": HotspotForecaster(horizon=2, level_windows=windows, **small)}
    a = run_backtest(panel, models, origins=[origin], horizon=2).predictions
    rng = np.random.default_rng(1)
    later = panel["period_start"] > origin
    z = panel.copy()
    z.loc[later, "y"] = rng.poisson(5.0, size=int(later.sum())).astype(float)
    b = run_backtest(z, models, origins=[origin], horizon=2).predictions
    cols = ["area", "category", "period_start", "horizon", "yhat", "yhat_lo", "yhat_hi", "p_hotspot"]
    pd.testing.assert_frame_equal(a[cols].reset_index(drop=True), b[cols].reset_index(drop=True))
    fitted = HotspotForecaster(horizon=2, level_windows=windows, **small).fit(panel)
    assert set(fitted.describe()["level_weights"]) == {str(w) for w in windows}
    assert fitted.level_areas_.max() == 7
