"""Session 19 (issue 4): ``govml hotspots forecast|backtest --intra-period`` — the ``tail_k`` level candidates of
session 18 from the command line, the fallback where the events carry nothing inside the periods, monthly periods,
and the holiday adjustment of the tails (``holidays="fill"`` / ``"divide"``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from govml.cli import app
from govml.cli.hotspots import FORECAST_COLUMNS, PREDICTION_COLUMNS, _intra_windows, prepare
from govml.errors import ModelError
from govml.hotspot.forecast import LEVEL_WINDOWS, HotspotForecaster, intra_level_windows, intra_period_problem
from govml.hotspot.panel import add_intra_period, build_panel
from hotspot_panels import intra_events

runner = CliRunner()
COLS = ["--time-col", "created_at", "--area-col", "community", "--category-col", "category", "--no-track",
        "--now", "2025-01-01"]


@pytest.fixture(scope="module")
def events_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    f = tmp_path_factory.mktemp("intra") / "events.csv"
    intra_events(n_weeks=40).to_csv(f, index=False)
    return f


@pytest.fixture(scope="module")
def monday_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same events as a weekly export: every event dated at 00:00 of its week's Monday."""
    ev = intra_events(n_weeks=40)
    ev["created_at"] = ev["created_at"].dt.to_period("W-SUN").dt.start_time
    f = tmp_path_factory.mktemp("monday") / "weekly.csv"
    ev.to_csv(f, index=False)
    return f


def test_the_option_sets_are_session_18s_for_weeks_and_whole_weeks_for_months() -> None:
    assert intra_level_windows("W") == LEVEL_WINDOWS + ("tail_2", "tail_4")  # govml_tail24
    assert intra_level_windows("m") == LEVEL_WINDOWS + ("tail_7", "tail_14")
    with pytest.raises(ModelError, match="day period has no days inside"):
        intra_level_windows("D")


def test_backtest_puts_govml_intra_beside_govml_and_compares_them(events_csv: Path, tmp_path: Path) -> None:
    out, preds = tmp_path / "m.json", tmp_path / "p.csv"
    r = runner.invoke(app, ["hotspots", "backtest", str(events_csv), *COLS, "--horizon", "2", "--origins", "2",
                            "--out", str(out), "--predictions-out", str(preds), "--intra-period"])
    assert r.exit_code == 0, r.output
    m = json.loads(out.read_text(encoding="utf-8"))
    assert set(m["metrics"]) == {"govml", "govml_intra", "last_value", "mean_4", "mean_13"}
    assert m["settings"]["intra_period"] is True
    intra = m["intra_period"]
    assert intra["used"] is True and intra["model"] == "govml_intra" and intra["tail_candidates"] == ["tail_2", "tail_4"]
    for metric in ("rmse", "mae", "precision_top2pct"):
        v = intra["against_govml"][metric]
        assert v["govml"] == m["metrics"]["govml"]["all"][metric]
        assert v["govml_intra"] == m["metrics"]["govml_intra"]["all"][metric]
    assert intra["summary"]["rmse"]["govml_intra"] == m["metrics"]["govml_intra"]["all"]["rmse"]
    assert m["summary"]["rmse"]["govml"] == m["metrics"]["govml"]["all"]["rmse"]  # the default's summary stays
    p = pd.read_csv(preds)
    assert list(p.columns) == PREDICTION_COLUMNS
    a = p[p["model"] == "govml"].reset_index(drop=True)
    b = p[p["model"] == "govml_intra"].reset_index(drop=True)
    assert len(a) == len(b) == 2 * 8 * 2 and (a[["area", "period_start"]] == b[["area", "period_start"]]).all().all()
    assert not np.allclose(a["yhat"], b["yhat"])  # the last days' rates took part in the level
    assert "--intra-period: govml_intra (+ tail_2, tail_4) against govml: RMSE" in " ".join(r.output.split())


def test_forecast_reads_the_last_days_and_keeps_the_checked_columns(events_csv: Path, tmp_path: Path) -> None:
    plain, intra = tmp_path / "plain.csv", tmp_path / "intra.csv"
    r0 = runner.invoke(app, ["hotspots", "forecast", str(events_csv), *COLS, "--horizon", "2", "--out", str(plain)])
    r1 = runner.invoke(app, ["hotspots", "forecast", str(events_csv), *COLS, "--horizon", "2", "--out", str(intra),
                             "--intra-period"])
    assert r0.exit_code == 0 and r1.exit_code == 0, r0.output + r1.output
    a, b = pd.read_csv(plain), pd.read_csv(intra)
    assert list(b.columns) == FORECAST_COLUMNS and len(a) == len(b)
    assert not np.allclose(a["yhat"], b["yhat"])
    said = " ".join(r1.output.split())
    assert "--intra-period: the level's weights on the last days' rates tail_2" in said
    assert "--intra-period" not in r0.output


def test_events_dated_at_the_period_start_fall_back_to_the_default_with_one_warning(monday_csv: Path,
                                                                                     tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    r = runner.invoke(app, ["hotspots", "backtest", str(monday_csv), *COLS, "--horizon", "2", "--origins", "1",
                            "--out", str(out), "--intra-period"])
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())
    assert said.count("--intra-period not used") == 1
    assert "carry no time inside the periods" in said and "default level candidates are used" in said
    m = json.loads(out.read_text(encoding="utf-8"))
    assert "govml_intra" not in m["metrics"] and m["intra_period"]["used"] is False
    assert "tail_2, tail_4 hold no event" in m["intra_period"]["reason"]
    # the forecast falls back to exactly the default's
    plain, intra = tmp_path / "plain.csv", tmp_path / "intra.csv"
    r0 = runner.invoke(app, ["hotspots", "forecast", str(monday_csv), *COLS, "--horizon", "2", "--out", str(plain)])
    r1 = runner.invoke(app, ["hotspots", "forecast", str(monday_csv), *COLS, "--horizon", "2", "--out", str(intra),
                             "--intra-period"])
    assert r0.exit_code == 0 and r1.exit_code == 0, r0.output + r1.output
    assert plain.read_bytes() == intra.read_bytes()
    assert " ".join(r1.output.split()).count("--intra-period not used") == 1


def test_daily_periods_and_a_history_dated_at_period_starts_up_to_an_origin_fall_back(events_csv: Path) -> None:
    kw = dict(time_col="created_at", area_col="community", category_col="category", district_col=None,
              now="2025-01-01", min_category_events=2, intra_period=True)
    _, daily, _ = prepare(events_csv, freq="D", **kw)
    assert not any(str(c).startswith("tail_") for c in daily.columns)  # nothing counted for days
    windows, why = _intra_windows(daily, "D")
    assert windows is None and why.startswith("--freq D: a day period has no days inside")
    # an export that dated its first 20 weeks at their Mondays and gives the times after
    ev = intra_events(n_weeks=40)
    early = ev["created_at"] < pd.Timestamp("2023-01-02") + pd.Timedelta(weeks=20)
    ev.loc[early, "created_at"] = ev.loc[early, "created_at"].dt.to_period("W-SUN").dt.start_time
    ev = ev.rename(columns={"community": "area"})
    p = add_intra_period(build_panel(ev, freq="W", calendar=False), ev, tail_days=(2, 4))
    assert intra_period_problem(p) is None  # the whole history has times inside its later weeks
    periods = pd.DatetimeIndex(sorted(p["period_start"].unique()))
    windows, why = _intra_windows(p, "W", cuts=[periods[15], periods[30]])
    assert windows is None and f"up to the origin {periods[15].date()}" in why
    windows, why = _intra_windows(p, "W", cuts=[periods[30]])
    assert why is None and windows == intra_level_windows("W")


def test_monthly_periods_read_the_last_week_and_fortnight(tmp_path: Path) -> None:
    f = tmp_path / "events.csv"
    ev = intra_events(n_weeks=110, n_areas=3, n_categories=1, seed=4)
    ev.to_csv(f, index=False)
    _, p, _ = prepare(f, time_col="created_at", area_col="community", category_col="category", district_col=None,
                      freq="M", now="2025-01-01", min_category_events=2, intra_period=True)
    assert {"tail_7", "tail_14"} <= set(p.columns) and "tail_2" not in p.columns
    cell = p[(p["area"] == "社区1") & (p["period_start"] == pd.Timestamp("2023-06-01"))].iloc[0]
    t = ev.loc[ev["community"] == "社区1", "created_at"]
    assert cell["tail_7"] == ((t >= "2023-06-24") & (t < "2023-07-01")).sum() > 0
    assert cell["tail_14"] == ((t >= "2023-06-17") & (t < "2023-07-01")).sum()
    m = HotspotForecaster(horizon=1, calibration_origins=0, n_estimators=10,
                          level_windows=intra_level_windows("M")).fit(p)
    assert {"tail_7", "tail_14"} <= set(m.describe()["level_weights"])
    assert np.isfinite(m.predict()["yhat"]).all()


def _holiday_panel() -> pd.DataFrame:
    """Three areas at 1×, 2×, 3× a daily rate of 10 events, 4 on each official holiday day of a week holding two or
    more of them (the days the holiday factor counts), 2023–2024 weekly, with the last days' counts: the factor is
    −0.6 per holiday day share, exactly, and every adjusted count should be the ordinary rate again."""
    from govml.hotspot.calendar import holiday_day_shares
    from govml.hotspot.holidays import factor_shares

    days = pd.date_range("2023-01-02", "2024-12-29", freq="D")
    weeks = pd.date_range("2023-01-02", "2024-12-23", freq="W-MON")
    counted = np.repeat(factor_shares(weeks, "W").any(axis=1), 7)
    dip = counted & holiday_day_shares(days, "D")[:, :2].any(axis=1)
    per_day = np.where(dip, 4, 10)
    rows = []
    for c in (1, 2, 3):
        n = per_day * c
        rows.append(pd.DataFrame({"created_at": np.repeat(days + pd.Timedelta(hours=12), n), "area": f"A{c}",
                                  "category": "c"}))
    ev = pd.concat(rows, ignore_index=True)
    return add_intra_period(build_panel(ev, freq="W"), ev, tail_days=(2, 4))


@pytest.mark.parametrize("mode", ["divide", "fill"])
def test_holiday_adjusted_level_reads_holiday_adjusted_tails(mode: str) -> None:
    """``holidays="fill"`` / ``"divide"`` adjust the past counts before the level's windows; the ``tail_k`` candidates
    are adjusted the same way (the tail's own days' factor; the tail's own dip filled), so on a panel whose only
    movement is the holidays every candidate is the ordinary rate. Without it the tails of the weeks ending in a
    holiday stood at 0.4–0.7 of it while the windows were whole."""
    p = _holiday_panel()
    m = HotspotForecaster(horizon=1, calibration_origins=0, n_estimators=5, holidays=mode,
                          level_windows=intra_level_windows("W")).fit(p)
    np.testing.assert_allclose(m.holiday_factors_.coef, [-0.6, -0.6])
    y_lv = m._deholiday(m.y_)
    rate = 70.0 * np.array([1.0, 2.0, 3.0])[:, None]
    np.testing.assert_allclose(y_lv, np.broadcast_to(rate, y_lv.shape))  # the counts: the ordinary rate
    M = m._candidates(y_lv)
    for j in (-2, -1):  # tail_2, tail_4
        np.testing.assert_allclose(M[:, :, j], np.broadcast_to(rate, y_lv.shape), rtol=1e-9)
    raw = m._intra(y_lv)  # the tails as counted: the test can fail
    assert raw["tail_2"].min(axis=1).max() < 0.8 * 70 * 3 and (raw["tail_4"] < 0.9 * rate).any()
    # the level at an origin (the holdout's and the recursion's path: the columns up to it) reads them the same way:
    # at the week of 2024-02-05, whose last 2 days open the Spring Festival (a fill judges it from the weeks before)
    o = int(np.flatnonzero(m.periods_ == pd.Timestamp("2024-02-05"))[0])
    assert raw["tail_2"][0, o] == pytest.approx(0.4 * 70)  # 4 a day, not 10
    lv = m._level_at(m.y_[:, : o + 1], np.eye(len(m._level_windows()))[-2], 0)  # the tail_2 candidate alone
    np.testing.assert_allclose(lv, rate[:, 0])
    np.testing.assert_allclose(lv, m._deholiday(m.y_[:, : o + 1])[:, -1])  # as the week's own adjusted count


def test_the_default_holiday_factor_adjusts_neither_the_counts_nor_the_tails() -> None:
    """``holidays="auto"`` (the default) adjusts no past count: the windows and the tails read the counts as they
    are, and only the target period's factor scales the level — the same for both."""
    p = _holiday_panel()
    m = HotspotForecaster(horizon=1, calibration_origins=0, n_estimators=5,
                          level_windows=intra_level_windows("W")).fit(p)
    assert m.holiday_factors_.active
    y = m._deholiday(m.y_)
    assert y is m.y_
    M = m._candidates(y)
    np.testing.assert_array_equal(M[:, :, -2], m._intra(y)["tail_2"])
