"""The holiday-aware level: factors estimated on the panel's own past, applied to the target week."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.hotspot.backtest import run_backtest
from govml.hotspot.calendar import holiday_day_shares
from govml.hotspot.forecast import HotspotForecaster
from govml.hotspot.holidays import estimate_holiday_factors, fill_holiday_dips
from govml.hotspot.panel import panel_matrix
from govml.samples.complaints import synthetic_panel

SMALL = dict(n_estimators=40, learning_rate=0.1, num_leaves=15, min_child_samples=10, calibration_origins=3)
DIP = (0.6, 0.3)  # Spring Festival days at 40 % of normal, other official holidays at 70 % (as the sample's generator)


def _holiday_panel(n_periods: int = 100, start: str = "2022-06-06", seed: int = 0, dip: tuple = DIP,
                   n_areas: int = 30) -> pd.DataFrame:
    """A weekly Poisson panel whose rates dip on Chinese public holidays (day shares × ``dip``)."""
    panel = synthetic_panel(n_areas=n_areas, n_categories=3, n_periods=n_periods, seed=seed, start=start)
    periods = pd.DatetimeIndex(pd.unique(panel["period_start"]))
    X = holiday_day_shares(periods, "W")
    f = 1.0 - dip[0] * X[:, 0] - dip[1] * X[:, 1]
    lam = panel.attrs["true_rate"].reshape(-1, len(periods)) * 3.0 * f[None, :]
    out = panel.copy()
    out["y"] = np.random.default_rng(seed + 100).poisson(lam).reshape(-1).astype(float)
    return out


def test_factors_recover_the_holiday_dips_from_the_past_only() -> None:
    panel = _holiday_panel()
    y, _, periods = panel_matrix(panel)
    hf = estimate_holiday_factors(y, periods, "W")
    assert hf.active
    # per day share: Spring Festival −0.6, other holidays −0.3 (shrinkage keeps clear effects nearly whole)
    assert hf.coef[0] == pytest.approx(-0.6, abs=0.12)
    assert hf.coef[1] == pytest.approx(-0.3, abs=0.1)
    sf_week = periods.get_loc(pd.Timestamp("2023-01-23"))  # 23–27 Jan 2023: five Spring Festival days
    assert hf.factors(periods)[sf_week] == pytest.approx(1 - 0.6 * 5 / 7, abs=0.1)


def test_filling_the_dips_restores_the_ordinary_level_from_the_given_columns_only() -> None:
    panel = _holiday_panel()
    y, _, periods = panel_matrix(panel)
    sf = periods.get_loc(pd.Timestamp("2023-01-23"))
    filled = fill_holiday_dips(y, periods, "W")
    ordinary = [sf - 2, sf + 1, sf + 2, sf + 3]  # 2023-01-09, 01-30, 02-06, 02-13 (01-16 has two festival days)
    assert y[:, sf].sum() < 0.7 * np.median(y[:, ordinary].sum(axis=0))
    assert filled[:, sf].sum() == pytest.approx(np.median(filled[:, ordinary].sum(axis=0)), rel=0.02)
    # ordinary columns are untouched, counts stay >= 0, and a series' filled count is its own count plus a
    # share of its usual level (a sparse series is not blown up as dividing by the factor would)
    X = holiday_day_shares(periods, "W")
    assert np.array_equal(filled[:, ~X[:, :2].any(axis=1)], y[:, ~X[:, :2].any(axis=1)])
    assert (filled >= 0).all() and (filled[:, sf] >= y[:, sf]).all()
    # a holiday in the last column given is judged from the ordinary columns before it
    db = periods.get_loc(pd.Timestamp("2023-06-19"))  # Dragon Boat, 22–24 Jun 2023
    assert not X[db - 4: db].any() and X[db].any()
    cut = fill_holiday_dips(y[:, : db + 1], periods, "W")
    assert cut[:, db].sum() == pytest.approx(np.median(y[:, db - 4: db].sum(axis=0)), rel=0.02)


def test_no_holiday_effect_in_the_data_gives_factors_near_one() -> None:
    # the same calendar, rates that ignore it (a city without Chinese holidays): the estimated effects
    # are noise, and the shrinkage drops them or keeps only a small part
    for seed in range(3):
        panel = _holiday_panel(seed=seed, dip=(0.0, 0.0))
        y, _, periods = panel_matrix(panel)
        f = estimate_holiday_factors(y, periods, "W").factors(periods)
        assert np.all(np.abs(f - 1.0) < 0.08), seed


def test_no_holiday_in_the_span_changes_nothing() -> None:
    # 2023-07-03 … 2023-09-18: no official holiday and no make-up day (Dragon Boat ends 24 Jun, Mid-Autumn is 29 Sep)
    panel = synthetic_panel(n_areas=12, n_categories=2, n_periods=12, seed=1, start="2023-07-03")
    y, _, periods = panel_matrix(panel)
    assert not holiday_day_shares(periods, "W").any()
    hf = estimate_holiday_factors(y, periods, "W")
    assert not hf.active and np.all(hf.factors(periods) == 1.0)


def test_the_forecaster_is_unchanged_when_no_effect_is_found() -> None:
    panel = synthetic_panel(n_areas=10, n_categories=2, n_periods=40, seed=2, start="2023-03-06")
    a = HotspotForecaster(horizon=2, **SMALL).fit(panel)
    b = HotspotForecaster(horizon=2, holidays=None, **SMALL).fit(panel)
    if a.holiday_factors_.active:  # pragma: no cover - the seed is chosen so that it is not
        pytest.skip("a chance holiday effect was found on this seed")
    pd.testing.assert_frame_equal(a.predict(), b.predict())


def test_the_level_forecasts_the_spring_festival_dip_and_forgets_it_afterwards() -> None:
    panel = _holiday_panel(n_periods=100)  # 2022-06-06 … 2024-04-29
    periods = pd.DatetimeIndex(pd.unique(panel["period_start"]))
    y, _, _ = panel_matrix(panel)

    def fit_at(origin: str, **kw) -> HotspotForecaster:
        cut = panel[panel["period_start"] <= pd.Timestamp(origin)]
        return HotspotForecaster(horizon=3, point="mean", **{**SMALL, **kw}).fit(cut)

    def level(f: HotspotForecaster, h: int) -> float:  # the level alone (what the default keeps on Boston)
        return float(f._level_at(f.y_, f.level_weights_, h).sum())

    # made on 2024-01-29: h = 2 is 2024-02-12 (12–17 Feb, six Spring Festival days), h = 1 an ordinary week
    on, off = fit_at("2024-01-29"), fit_at("2024-01-29", holidays=None)
    assert on.holiday_factors_.active and off.holiday_factors_ is None
    assert level(on, 2) / level(on, 1) < 0.7  # the festival week's level well below the week before's
    assert level(off, 2) == pytest.approx(level(off, 1))  # without the factor: a normal week
    sf = periods.get_loc(pd.Timestamp("2024-02-12"))
    actual = y[:, sf].sum()
    p_on = on.predict().groupby("horizon")["yhat_mean"].sum()
    p_off = off.predict().groupby("horizon")["yhat_mean"].sum()
    assert abs(p_on[2] - actual) < 0.5 * abs(p_off[2] - actual)
    # three weeks after the festival the plain window means still hold the dip; with holidays="fill" (an
    # option: the default leaves past counts as they are) the level's windows see the dip filled in
    after_on, after_off = fit_at("2024-03-04", holidays="fill"), fit_at("2024-03-04", holidays=None)
    nxt = periods.get_loc(pd.Timestamp("2024-03-11"))
    truth = (y[:, nxt - 8: nxt - 5].sum() + y[:, nxt: nxt + 3].sum()) / 6  # ordinary weeks around it
    assert abs(level(after_on, 1) - truth) < abs(level(after_off, 1) - truth)


def _perturb_after(panel: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
    out = panel.copy()
    later = out["period_start"] > origin
    out.loc[later, "y"] = np.random.default_rng(7).poisson(9.0, size=int(later.sum())).astype(float)
    return out


def test_holiday_factors_use_nothing_after_the_origin() -> None:
    panel = _holiday_panel(n_periods=90, n_areas=12)
    periods = pd.DatetimeIndex(pd.unique(panel["period_start"]))
    origin = periods[pd.DatetimeIndex(periods).searchsorted(pd.Timestamp("2024-01-29"))]
    models = {"govml": HotspotForecaster(horizon=3, **SMALL),
              "fill": HotspotForecaster(horizon=3, holidays="fill", **SMALL),
              "divide": HotspotForecaster(horizon=3, holidays="divide", strategy="recursive", **SMALL)}
    a = run_backtest(panel, models, origins=[origin], horizon=3).predictions
    b = run_backtest(_perturb_after(panel, origin), models, origins=[origin], horizon=3).predictions
    cols = ["model", "area", "category", "period_start", "horizon", "yhat", "yhat_mean", "yhat_lo", "yhat_hi",
            "p_hotspot"]
    pd.testing.assert_frame_equal(a[cols].reset_index(drop=True), b[cols].reset_index(drop=True))
    assert not np.allclose(a["y"].to_numpy(), b["y"].to_numpy())
    # the factor was in play at this origin (else the test would prove nothing about it)
    fitted = HotspotForecaster(horizon=3, **SMALL).fit(panel[panel["period_start"] <= origin])
    assert fitted.holiday_factors_.active


def test_forecasts_past_the_calendars_last_year_use_fixed_date_holidays() -> None:
    # the panel ends 2026-12-21 (chinesecalendar 1.11 knows 2004–2026): the target weeks reach into 2027,
    # where only the fixed-date holidays are known (1 Jan: one holiday day in the week of 2026-12-28)
    start = (pd.Timestamp("2026-12-21") - pd.Timedelta(weeks=89)).strftime("%Y-%m-%d")
    panel = _holiday_panel(n_periods=90, start=start, n_areas=12)
    f = HotspotForecaster(horizon=3, point="mean", **SMALL).fit(panel)
    assert f.holiday_factors_.active
    out = f.predict()
    assert np.isfinite(out["yhat_mean"]).all() and (out["yhat_mean"] >= 0).all()
    fac = f._fac(len(f.periods_) + 3)[-3:]  # 2026-12-28 (1 Jan), 2027-01-04, 2027-01-11
    # 1 Jan 2027 (a Friday) is the only holiday day of its week: a lone day, no factor (see below)
    assert np.all(fac == 1.0)
    # the fixed-date National Day of 2027 (1–7 Oct, Friday to Thursday) is known and gets its factor
    from govml.hotspot.holidays import factors_for_columns

    nd = factors_for_columns(f.holiday_factors_, pd.Timestamp("2027-09-27"), 2)  # 1–3 Oct, 4–7 Oct
    assert nd[0] == pytest.approx(1 + f.holiday_factors_.coef[1] * 3 / 7)
    assert nd[1] == pytest.approx(1 + f.holiday_factors_.coef[1] * 4 / 7) and nd[1] < 1.0


def test_a_lone_holiday_day_in_a_week_is_treated_as_ordinary() -> None:
    from govml.hotspot.holidays import factor_shares

    weeks = pd.DatetimeIndex(["2019-09-30", "2019-10-07", "2019-12-30", "2019-02-04", "2019-04-01"])
    X = factor_shares(weeks, "W")
    raw = holiday_day_shares(weeks, "W")[:, :2]
    # National Day's six days in the week of 30 Sep and the whole Spring Festival week count as before ...
    assert np.array_equal(X[[0, 3, 4]], raw[[0, 3, 4]]) and X[0, 1] == pytest.approx(6 / 7)
    # ... its 7th day alone in the next week, and New Year's Day alone in its week, do not
    assert raw[1, 1] == pytest.approx(1 / 7) and raw[2, 1] == pytest.approx(1 / 7)
    assert not X[[1, 2]].any()
    assert np.array_equal(factor_shares(weeks, "W", min_days=1), raw)  # the rule before
    # daily periods keep every holiday day
    days = pd.DatetimeIndex(["2019-10-07", "2020-01-01", "2020-01-02"])
    assert np.array_equal(factor_shares(days, "D"), holiday_day_shares(days, "D")[:, :2])


def test_lone_day_weeks_without_a_dip_get_no_factor_while_holiday_weeks_keep_theirs() -> None:
    # calls on a lone holiday day move to the other days of its week (what 泰迪杯 and the sample show):
    # the week keeps its normal rate; weeks with two or more holiday days dip
    panel = synthetic_panel(n_areas=30, n_categories=3, n_periods=100, seed=3, start="2022-06-06")
    periods = pd.DatetimeIndex(pd.unique(panel["period_start"]))
    raw = holiday_day_shares(periods, "W")
    days = np.rint(raw[:, :2].sum(axis=1) * 7)
    lone = days == 1
    assert lone.sum() >= 3
    f = np.where(days >= 2, 1.0 - 0.6 * raw[:, 0] - 0.3 * raw[:, 1], 1.0)
    lam = panel.attrs["true_rate"].reshape(-1, len(periods)) * 3.0 * f[None, :]
    panel["y"] = np.random.default_rng(5).poisson(lam).reshape(-1).astype(float)
    y, _, _ = panel_matrix(panel)
    new = estimate_holiday_factors(y, periods, "W")
    old = estimate_holiday_factors(y, periods, "W", min_days=1)
    assert np.all(new.factors(periods)[lone] == 1.0)
    assert np.all(old.factors(periods)[lone] < 0.99)  # the old rule put a dip on them
    multi = days >= 2
    assert np.abs(new.factors(periods)[multi] - f[multi]).mean() < np.abs(old.factors(periods)[multi] - f[multi]).mean()
