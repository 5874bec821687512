"""Session 9 (issue 4): a series in its seasonal stop — a fall of level within the last periods
(:func:`govml.hotspot.forecast.level_breaks`, ``HotspotForecaster(level_break=...)``), on generated panels."""

from __future__ import annotations

import numpy as np
import pytest

from govml.errors import GovmlError
from govml.hotspot.forecast import LEVEL_BREAK_WINDOW, HotspotForecaster, level_breaks
from hotspot_panels import toy_panel


def _stop_panel(seed: int = 0, S: int = 40, T: int = 80) -> np.ndarray:
    """Stationary Poisson series (rates 2–40) and two busy ones (~100 a week) that stop in the last 3
    periods: ``a000`` falls over them (45, 15, 5), ``a001`` drops to ~5 at once (street sweeping in winter)."""
    rng = np.random.default_rng(seed)
    y = rng.poisson(rng.uniform(2, 40, (S, 1)) * np.ones((1, T))).astype(float)
    y[0, :-3] = rng.poisson(100, T - 3)
    y[0, -3:] = [45, 15, 5]
    y[1, :-3] = rng.poisson(100, T - 3)
    y[1, -3:] = [6, 4, 5]
    return y


def _yhat(model: HotspotForecaster, y: np.ndarray, area: str) -> np.ndarray:
    fc = model.fit(toy_panel(y)).predict()
    return fc.loc[fc["area"] == area].sort_values("horizon")["yhat"].to_numpy()


@pytest.mark.parametrize("strategy", ["combined", "direct", "recursive"])
def test_a_series_in_its_seasonal_stop_is_forecast_near_its_new_level(strategy: str) -> None:
    y = _stop_panel()
    old_step = _yhat(HotspotForecaster(horizon=4, strategy=strategy), y, "a001")
    step = _yhat(HotspotForecaster(horizon=4, strategy=strategy, level_break="down"), y, "a001")
    ramp = _yhat(HotspotForecaster(horizon=4, strategy=strategy, level_break="down"), y, "a000")
    # the weighted window means still hold the old ~100 (the 4-week mean is ~29): the forecast stays high
    assert old_step.min() > 40
    # with the break the level is the mean since it: ~5 for the step, (45 + 15 + 5) / 3 for the fall
    assert step.max() < 10
    assert ramp.max() < 25


def test_busy_series_without_a_stop_are_forecast_as_before() -> None:
    y = _stop_panel()
    y[:2, -3:] = 100.0  # no stop: nothing to find
    a = HotspotForecaster(horizon=4).fit(toy_panel(y)).predict()
    b = HotspotForecaster(horizon=4, level_break="down").fit(toy_panel(y)).predict()
    np.testing.assert_allclose(a["yhat"].to_numpy(), b["yhat"].to_numpy(), rtol=1e-9)


def test_a_break_needs_two_periods_beyond_the_earlier_range_all_on_one_side() -> None:
    rng = np.random.default_rng(1)
    base = rng.poisson(100, 30).astype(float)
    one_dip = base.copy()
    one_dip[-1] = 3  # a holiday week, a data gap: one period is never a break
    two = base.copy()
    two[-2:] = [3, 0]
    mixed = base.copy()
    mixed[-3:] = [3, 100, 2]  # back to the old level in between: not a run
    run, mean = level_breaks(np.vstack([one_dip, two, mixed]))
    assert run[:, -1].tolist() == [0, 2, 0]
    assert mean[1, -1] == pytest.approx(1.5)


def test_a_run_keeps_its_break_until_the_longest_run_and_counts_since_it() -> None:
    y = np.full((1, 40), 50.0)
    y[0, ::2] = 60.0  # an earlier range of 50–60
    y[0, 30:] = [10, 12, 8, 9, 11, 10, 9, 12, 10, 11]
    run, mean = level_breaks(y, max_run=13)
    assert run[0, 29] == 0 and run[0, 30] == 0  # one period after the fall: not yet
    assert run[0, 31:].tolist() == list(range(2, 11))
    assert mean[0, -1] == pytest.approx(y[0, 30:].mean())
    run4, _ = level_breaks(y, max_run=4)
    assert run4[0, -1] == 0  # runs longer than max_run are not looked at


def test_direction_and_noise_and_no_look_ahead() -> None:
    rng = np.random.default_rng(2)
    # stationary overdispersed counts (negative binomial, mean 20, 1/alpha = 5): a fall is rare, and the
    # column-t result reads columns <= t only
    S, T = 300, 60
    y = rng.negative_binomial(5, 5 / 25, size=(S, T)).astype(float)
    run, mean = level_breaks(y, direction="down")
    assert (run[:, LEVEL_BREAK_WINDOW:] > 0).mean() < 0.002
    for t in (20, 35, 59):
        r_t, m_t = level_breaks(y[:, : t + 1], direction="down")
        np.testing.assert_array_equal(r_t[:, -1], run[:, t])
        np.testing.assert_allclose(m_t[:, -1], mean[:, t])
    burst = np.full((1, 30), 10.0)
    burst[0, ::3] = 12.0
    burst[0, -2:] = [60, 70]
    assert level_breaks(burst, direction="down")[0][0, -1] == 0
    assert level_breaks(burst, direction="up")[0][0, -1] == 2
    assert level_breaks(burst, direction="both")[1][0, -1] == pytest.approx(65.0)
    sparse = np.zeros((1, 30))
    sparse[0, :20:2] = 1.0
    assert level_breaks(sparse)[0][0, -1] == 0  # a zero in the earlier window: a run of zeros is no fall


def test_level_break_value_is_checked() -> None:
    with pytest.raises(GovmlError, match="level_break"):
        HotspotForecaster(horizon=2, level_break="sideways").fit(toy_panel(_stop_panel(T=40)))


def test_a_holiday_dip_over_two_periods_is_no_break() -> None:
    # weekly from 2023-01-02: the last two weeks (2023-09-25, 2023-10-02) hold the Mid-Autumn Festival and
    # National Day; a busy series dips to a third in both and comes back after — not a stop
    y = _stop_panel(T=40)
    y[0, :] = np.random.default_rng(3).poisson(100, 40)
    y[0, -2:] = [35, 30]
    y[1, -3:] = 100.0
    assert level_breaks(y[:2], direction="down")[0][0, -1] == 2  # without the calendar it would be one
    blocked = np.zeros(40, dtype=bool)
    blocked[-2:] = True
    assert level_breaks(y[:2], direction="down", blocked=blocked)[0][0, -1] == 0
    a = HotspotForecaster(horizon=2, holidays=None).fit(toy_panel(y)).predict()
    b = HotspotForecaster(horizon=2, holidays=None, level_break="down").fit(toy_panel(y)).predict()
    np.testing.assert_allclose(a["yhat"].to_numpy(), b["yhat"].to_numpy(), rtol=1e-9)


def _ramp_panel(T: int = 12, S: int = 30, seed: int = 4) -> np.ndarray:
    """A year of months in which every series grows from a tenth of its level to its level over the first
    4 periods (a service whose requests started being logged in March) and then holds it."""
    rng = np.random.default_rng(seed)
    lam = rng.uniform(5, 120, (S, 1)) * np.minimum(1.0, 0.1 + 0.3 * np.arange(T))[None, :]
    return rng.poisson(lam).astype(float)


def test_a_panel_too_short_to_choose_trees_on_is_forecast_by_the_level_with_untested_trees_none() -> None:
    y = _ramp_panel()
    m = HotspotForecaster(horizon=4, untested_trees="none").fit(toy_panel(y))
    assert not m.calibrated_ and m.n_trees_ == 0 and all(v is None for v in m.models_.values())
    fc = m.predict()
    lev = m._level_at(m.y_, m.level_weights_, 1)  # the level as the forecast of the next period
    np.testing.assert_allclose(fc.loc[fc["horizon"] == 1, "yhat_mean"].to_numpy(), lev, rtol=1e-9)
    # the level stays within what the series did since the ramp (no growth extrapolated from it)
    recent = y[:, 4:]
    assert (fc.groupby("area", observed=True)["yhat"].max().to_numpy() <= recent.max(axis=1) + 1e-9).all()
    assert HotspotForecaster(horizon=4).fit(toy_panel(y)).n_trees_ == 0  # the default since session 9
    assert HotspotForecaster(horizon=4, untested_trees="all").fit(toy_panel(y)).n_trees_ == 200  # before
    with pytest.raises(GovmlError, match="untested_trees"):
        HotspotForecaster(horizon=4, untested_trees="some").fit(toy_panel(y))


def test_a_panel_without_events_in_its_training_targets_is_forecast_zero_not_a_lightgbm_error() -> None:
    y = np.zeros((6, 30))
    y[:, 0] = 1.0  # events only in the first period: no training target holds one
    fc = HotspotForecaster(horizon=2, calibration_origins=0).fit(toy_panel(y)).predict()
    assert np.isfinite(fc["yhat"]).all() and (fc["yhat"] >= 0).all()
    with pytest.raises(GovmlError, match="no event"):
        HotspotForecaster(horizon=2, calibration_origins=0, offset_window=None).fit(toy_panel(y))
