"""Panel building: zero-filling, hierarchy, calendar (with the fallback after 2026), exclusions."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from govml.errors import DataError
from govml.hotspot.calendar import calendar_features
from govml.hotspot.panel import build_panel, clean_events, panel_matrix, panel_notes, truncate


def _events() -> pd.DataFrame:
    return pd.DataFrame({
        "created_at": ["2024-01-01 09:00", "2024-01-03 10:00", "2024-01-09 08:00", "2024-01-21 23:00",
                       "2024-01-15 12:00"],
        "community": ["甲社区", "甲社区", "乙社区", "甲社区", "丙村"],
        "category": ["噪声扰民", "环境卫生", "噪声扰民", "噪声扰民", "环境卫生"],
        "district": ["青山区", "青山区", "青山区", "青山区", "云溪县"],
    })


def test_zero_filled_rectangular_panel_with_hierarchy() -> None:
    clean, ex = clean_events(_events(), district_col="district", now="2025-01-01")
    panel = build_panel(clean, freq="W")
    # 3 areas × 2 categories × 3 weeks (Mondays 2024-01-01, 01-08, 01-15), every cell present
    assert len(panel) == 3 * 2 * 3
    assert list(pd.unique(panel["period_start"])) == list(pd.date_range("2024-01-01", periods=3, freq="W-MON"))
    y, keys, periods = panel_matrix(panel)
    assert y.shape == (6, 3)
    assert panel["y"].sum() == 5
    jia = panel[(panel["area"] == "甲社区") & (panel["category"] == "噪声扰民")]["y"].tolist()
    assert jia == [1.0, 0.0, 1.0]  # the Sunday 2024-01-21 event belongs to the week of 2024-01-15
    assert dict(zip(keys["area"].astype(str), keys["district"].astype(str), strict=False))["丙村"] == "云溪县"
    assert isinstance(panel["area"].dtype, pd.CategoricalDtype)
    assert isinstance(panel["category"].dtype, pd.CategoricalDtype)
    assert ex.total == 0


def test_monthly_and_daily_frequencies() -> None:
    clean, _ = clean_events(_events(), now="2025-01-01")
    monthly = build_panel(clean, freq="M", drop_incomplete=False)
    assert monthly["period_start"].nunique() == 1 and monthly["y"].sum() == 5
    daily = build_panel(clean, freq="D", drop_incomplete=False)
    assert daily["period_start"].nunique() == 21


def test_calendar_spring_festival_and_makeup_days() -> None:
    cal = calendar_features(pd.date_range("2024-02-05", periods=3, freq="W-MON"), "W").set_index("period_start")
    # 2024 Spring Festival holiday 10–17 Feb; Sunday 4 Feb and Sunday 18 Feb were make-up workdays
    assert cal.loc["2024-02-12", "spring_festival"] == 1
    assert cal.loc["2024-02-12", "makeup_days"] == 1  # Sunday 2024-02-18
    assert cal.loc["2024-02-12", "holiday_days"] == 6
    assert cal.loc["2024-02-19", "spring_festival"] == 0
    assert (cal["fallback"] == 0).all()


def test_calendar_falls_back_after_2026_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="govml.hotspot.calendar"):
        cal = calendar_features(pd.date_range("2027-09-27", periods=2, freq="W-MON"), "W")
    assert (cal["fallback"] == 1).all()
    # fixed-date National Day 1–7 Oct 2027 kept; no make-up days invented
    assert cal["holiday_days"].tolist() == [3, 4]
    assert cal["makeup_days"].tolist() == [0, 0]
    assert any("falls back" in r.getMessage() and "2027" in r.getMessage() for r in caplog.records)


def test_bad_rows_are_counted_by_reason_never_silently_dropped() -> None:
    ev = pd.DataFrame({
        "t": ["2024-01-01 08:00", "not a date", "2030-05-01", "2024-01-02", "2024-01-03", "2024-01-04",
              "20240105", "2024/1/6 11:25:05"],
        "area": ["甲", "甲", "甲", "", "丁", "甲", "甲", "甲"],
        "cat": ["a", "a", "a", "a", "a", "only-once", "a", None],
    })
    areas = pd.DataFrame({"area": ["甲", "乙"], "district": ["青山区", "青山区"]})
    clean, ex = clean_events(ev, time_col="t", area_col="area", category_col="cat", areas=areas,
                             now="2025-01-01", min_category_events=2)
    assert ex.counts == {"unparseable_time": 1, "future_time": 1, "missing_area": 1, "unknown_area": 1,
                         "rare_category": 1, "missing_category": 1}
    assert ex.examples["unparseable_time"] == [3] and ex.examples["future_time"] == [4]
    assert ex.rows_in == 8 and ex.rows_used == 2 and ex.rows_used + ex.total == ex.rows_in
    assert clean["created_at"].dt.day.tolist() == [1, 5]  # the compact 20240105 form is understood
    assert set(clean["district"]) == {"青山区"}
    d = ex.to_dict()
    assert d["excluded_total"] == 6 and d["excluded"]["future_time"]["why"]


def test_nothing_usable_and_missing_columns_raise_data_errors() -> None:
    with pytest.raises(DataError, match="no usable events"):
        clean_events(pd.DataFrame({"created_at": ["x"], "community": ["a"], "category": ["b"]}))
    with pytest.raises(DataError, match="community"):
        clean_events(pd.DataFrame({"created_at": ["2024-01-01"], "category": ["b"]}))


def test_incomplete_last_period_dropped_and_counted() -> None:
    ev = pd.DataFrame({"created_at": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-16"]),
                       "community": ["甲"] * 4, "category": ["a"] * 4})
    clean, ex = clean_events(ev, now="2025-01-01")
    panel = build_panel(clean, freq="W", exclusions=ex)
    assert panel["period_start"].max() == pd.Timestamp("2024-01-08")
    assert ex.counts["incomplete_period"] == 2 and ex.rows_used == 2
    assert any("incomplete" in n for n in ex.notes)


def test_new_series_are_kept_and_noted() -> None:
    ev = pd.DataFrame({"created_at": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-21"]),
                       "community": ["甲", "甲", "甲", "乙"], "category": ["a"] * 4})
    clean, _ = clean_events(ev, now="2025-01-01")
    panel = build_panel(clean)
    notes = panel_notes(panel)
    assert any("1 series start in the last period" in n for n in notes)
    assert (panel["area"] == "乙").sum() == 3


def test_truncate_and_non_rectangular_panel() -> None:
    clean, _ = clean_events(_events(), now="2025-01-01")
    panel = build_panel(clean)
    cut = truncate(panel, "2024-01-08")
    assert cut["period_start"].max() == pd.Timestamp("2024-01-08")
    with pytest.raises(DataError, match="rectangular|sorted"):
        panel_matrix(panel.iloc[1:])
    assert np.isfinite(panel_matrix(cut)[0]).all()


def test_area_names_differing_in_case_width_or_spaces_are_one_series() -> None:
    ev = pd.DataFrame({
        "t": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-06", "2024-01-07"],
        "area": ["Back Bay", "back bay", "Ｂａｃｋ　Ｂａｙ", " Back  Bay ", "BACK BAY", "Back Bay", "South End"],
        "cat": ["a"] * 7,
    })
    clean, ex = clean_events(ev, time_col="t", area_col="area", category_col="cat", now="2025-01-01")
    # one series, shown in the commonest spelling; no row lost
    assert clean["area"].tolist() == ["Back Bay"] * 6 + ["South End"]
    assert ex.rows_used == 7 and ex.total == 0
    note = next(n for n in ex.notes if "area spelling" in n)
    assert "4 area spelling(s)" in note and "(4 row(s) renamed)" in note
    assert "'back bay' → 'Back Bay' (1 row(s))" in note and "e.g. file row 3" in note
    panel = build_panel(clean, freq="W")
    assert sorted(panel["area"].unique()) == ["Back Bay", "South End"]
    # with an areas table the table's spelling wins, matched the same way
    areas = pd.DataFrame({"area": ["back BAY", "South End"]})
    clean2, ex2 = clean_events(ev, time_col="t", area_col="area", category_col="cat", areas=areas,
                               now="2025-01-01")
    assert set(clean2["area"]) == {"back BAY", "South End"} and "unknown_area" not in ex2.counts
    # a tie goes to the spelling met first
    tie, _ = clean_events(ev.iloc[[1, 4]], time_col="t", area_col="area", category_col="cat", now="2025-01-01",
                          min_category_events=1)
    assert tie["area"].tolist() == ["back bay", "back bay"]


def test_month_missing_a_few_days_is_kept_a_week_missing_one_is_not() -> None:
    # data from Tuesday 2 January 2024 (New Year's Day quiet) to Friday 29 November 2024
    days = pd.date_range("2024-01-02", "2024-11-29", freq="D")
    ev = pd.DataFrame({"created_at": days, "community": "甲", "category": "噪音"})
    clean, ex = clean_events(ev, now="2025-01-01")
    monthly = build_panel(clean, freq="M", exclusions=ex)
    # January lacks 1 of 31 days, November 1 of 30: both kept (at most 3 missing days tolerated)
    assert monthly["period_start"].min() == pd.Timestamp("2024-01-01")
    assert monthly["period_start"].max() == pd.Timestamp("2024-11-01")
    assert monthly["y"].sum() == len(days) and ex.counts.get("incomplete_period", 0) == 0
    assert sum("kept" in n for n in ex.notes) == 2
    clean, ex = clean_events(ev.iloc[:-4], now="2025-01-01")    # to 25 November: 5 days missing → dropped
    monthly = build_panel(clean, freq="M", exclusions=ex)
    assert monthly["period_start"].max() == pd.Timestamp("2024-10-01")
    assert ex.counts["incomplete_period"] == 25
    clean, ex = clean_events(ev, now="2025-01-01")
    weekly = build_panel(clean, freq="W", exclusions=ex)
    # the week of Monday 1 January lacks its Monday: dropped (6 events); the last week (25 Nov–1 Dec) lacks 2 days
    assert weekly["period_start"].min() == pd.Timestamp("2024-01-08")
    assert weekly["period_start"].max() == pd.Timestamp("2024-11-18")
    assert ex.counts["incomplete_period"] == 6 + 5


def test_titles_named_as_the_category_column_are_questioned_and_a_missing_column_lists_them_all() -> None:
    n = 400
    ev = pd.DataFrame({"受理时间": pd.date_range("2024-01-01", periods=n, freq="D").astype(str),
                       "社区": ["甲", "乙"] * (n // 2),
                       "标题": [f"第{i}号楼电梯坏了" for i in range(n)],
                       "类别": ["电梯", "噪音", "停车", "环境"] * (n // 4)})
    clean, ex = clean_events(ev, time_col="受理时间", area_col="社区", category_col="标题", now="2026-01-01",
                             min_category_events=1)
    assert ex.notes[0].startswith("column '标题' holds 400 different values in 400 rows: is it the category")
    clean, ex = clean_events(ev, time_col="受理时间", area_col="社区", category_col="类别", now="2026-01-01")
    assert not any("is it the category" in note for note in ex.notes)
    with pytest.raises(DataError) as err:
        clean_events(ev, time_col="受理时间", area_col="社区", category_col="分类", file="/data/ev.csv")
    assert "/data/ev.csv, column '分类'" in str(err.value)
    assert "whose columns are: 受理时间, 社区, 标题, 类别" in str(err.value)   # all of them, not cut at 60 characters
