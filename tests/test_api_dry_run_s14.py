"""Session 14 dry run of the Python API with the frames an analyst hands it in JupyterLab (docs/benchmarks.md,
"Dry run of the Python API"): times that carry a time zone, Arrow columns, text keys, filtered or re-sorted
frames, empty and tiny frames. Every frame is built here; each test would fail before its fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.errors import DataError


def _utc(naive_beijing: pd.Series) -> pd.Series:
    """The same instants written in UTC, as a database export or ``pd.to_datetime(..., utc=True)`` gives them."""
    return naive_beijing.dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")


# -- text: top demands, alerts, hot issues -------------------------------------------------------------------------

def test_top_demands_reads_zoned_times_on_beijing_clock():
    from govml.text.demands import top_demands

    # 04:00 and 05:00 on 1 April in Beijing are 20:00 and 21:00 on 31 March in UTC
    times = pd.Series(pd.to_datetime(["2024-04-01 04:00", "2024-04-01 05:00", "2024-04-10 10:00",
                                      "2024-04-12 10:00"]))
    df = pd.DataFrame({"text": ["电梯坏了"] * 4, "created_at": _utc(times)})
    out = top_demands(df, period="M", phrases=False, tokens=[["电梯", "坏了"]] * 4)
    row = out[out["term"] == "电梯"]
    assert row["period_start"].tolist() == [pd.Timestamp("2024-04-01")]  # was 2024-03-01 and 2024-04-01, 2 each
    assert row["count"].tolist() == [4]


def test_top_demands_when_no_group_period_is_kept():
    from govml.text.demands import COLUMNS, top_demands

    # three messages, each alone in its group-period: all are left out (min_messages=2), no IndexError
    df = pd.DataFrame({"text": ["电梯坏了", "路灯不亮", "噪音扰民"], "community": ["甲", "乙", "丙"],
                       "created_at": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"])})
    out = top_demands(df, by="community", tokens=[["电梯"], ["路灯"], ["噪音"]])
    assert list(out.columns) == COLUMNS and len(out) == 0


def _alert_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for week in range(16):
        for g in ("甲社区", "乙社区"):
            for cat in ("噪声", "停车"):
                n = int(rng.poisson(3)) + (12 if (week, g, cat) == (14, "甲社区", "噪声") else 0)
                # early Monday morning in Beijing: still Sunday in UTC
                rows += [{"community": g, "category": cat,
                          "created_at": pd.Timestamp("2024-01-01 02:00") + pd.Timedelta(weeks=week, minutes=k)}
                         for k in range(n)]
    return pd.DataFrame(rows)


def test_surge_detector_reads_zoned_times_on_beijing_clock():
    from govml.text.alerts import SurgeDetector, period_start

    assert period_start(_utc(pd.Series(pd.to_datetime(["2024-01-08 02:00"]))), "W").tolist() == [
        pd.Timestamp("2024-01-08")]  # was 2024-01-01: the UTC clock's Sunday
    df = _alert_frame()
    naive = SurgeDetector(text_col=None).fit(df)
    zoned = SurgeDetector(text_col=None).fit(df.assign(created_at=_utc(df["created_at"])))
    pd.testing.assert_frame_equal(zoned.cells_, naive.cells_)
    assert (naive.alerts_["group"] == "甲社区").any()


def test_surge_detector_on_an_empty_frame_says_so():
    from govml.text.alerts import SurgeDetector

    with pytest.raises(DataError, match="no rows"):  # was numpy's ValueError from pd.date_range(NaT, NaT)
        SurgeDetector(text_col=None).fit(_alert_frame().iloc[:0])


def test_hot_issues_first_seen_on_beijing_clock():
    from govml.text.hot_issues import HotIssueFinder

    df = pd.DataFrame({"id": ["a", "b", "c"],
                       "text": ["幸福小区电梯坏了一个星期没人修", "幸福小区电梯又坏了没人修", "幸福小区电梯坏了好几天"],
                       "created_at": pd.to_datetime(["2024-03-01 07:00", "2024-03-02 08:00", "2024-03-03 09:00"])})
    kw = dict(likes_col=None, user_col=None, group_col=None, semantic_components=None)
    naive = HotIssueFinder(**kw).fit(df).issues_
    zoned = HotIssueFinder(**kw).fit(df.assign(created_at=_utc(df["created_at"]))).issues_
    assert len(naive) == 1
    assert zoned["first_seen"].tolist() == [pd.Timestamp("2024-03-01 07:00")]  # was 2024-02-29 23:00+00:00
    pd.testing.assert_frame_equal(zoned, naive)


# -- hotspot: panel, forecaster, backtest, efficiency ----------------------------------------------------------------

def _events() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for area, rate in (("东园社区", 4.0), ("西街社区", 2.0), ("南村", 1.0)):
        for cat in ("噪声", "停车"):
            for day in range(7 * 30):
                for k in range(int(rng.poisson(rate / 7))):
                    rows.append({"created_at": pd.Timestamp("2024-01-01 01:30") + pd.Timedelta(days=day, minutes=k),
                                 "area": area, "category": cat})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    from govml.hotspot import build_panel

    return build_panel(_events(), freq="W")


def test_build_panel_reads_zoned_times_on_beijing_clock(panel):
    from govml.hotspot import build_panel

    ev = _events()
    zoned = build_panel(ev.assign(created_at=_utc(ev["created_at"])), freq="W")
    pd.testing.assert_frame_equal(zoned, panel)  # was: weeks of the UTC clock, period_start in UTC


def test_build_panel_area_codes_read_as_numbers():
    from govml.hotspot import build_panel

    ev = _events()
    codes = {"东园社区": 110101001, "西街社区": 110101002, "南村": 110101003}
    as_float = ev.assign(area=ev["area"].map(codes).astype(float))
    p = build_panel(as_float, freq="W")
    assert list(p["area"].cat.categories) == ["110101001", "110101002", "110101003"]  # was '110101001.0'
    with pytest.raises(DataError, match="column 'area'"):  # was TypeError: '<' between float and str
        build_panel(as_float.assign(area=as_float["area"].where(as_float.index != 3)), freq="W")


def test_forecaster_takes_a_panel_in_an_analysts_shape(panel):
    from govml.hotspot import HotspotForecaster

    # saved and read back (text keys), Arrow columns, a time zone, shuffled, a duplicated index: the same panel
    other = panel.astype({"area": "string[pyarrow]", "category": str})
    other["period_start"] = other["period_start"].dt.tz_localize("Asia/Shanghai")
    other = other.sample(frac=1.0, random_state=0)
    other.index = np.arange(len(other)) // 2
    kw = dict(horizon=2, n_estimators=10)
    base = HotspotForecaster(**kw).fit(panel)
    again = HotspotForecaster(**kw).fit(other)  # was AttributeError: Can only use .cat accessor …
    pd.testing.assert_frame_equal(again.predict(), base.predict())
    pd.testing.assert_frame_equal(again.explain(top=2), base.explain(top=2))


def test_panel_problems_are_data_errors(panel):
    from govml.hotspot import HotspotForecaster
    from govml.hotspot.panel import as_panel

    with pytest.raises(DataError, match="no rows"):
        HotspotForecaster().fit(panel.iloc[:0])
    with pytest.raises(DataError, match="column 'y'.*position 5"):  # was IndexError deep in the calibration
        HotspotForecaster().fit(panel.assign(y=panel["y"].astype("Int64").mask(panel.index == 5)))
    with pytest.raises(DataError, match="not rectangular"):  # a series twice (a panel concatenated with itself)
        as_panel(pd.concat([panel, panel]))
    assert as_panel(panel) is panel  # a panel from build_panel is taken as it is


def test_backtest_takes_a_zoned_text_keyed_panel(panel):
    from govml.hotspot import default_models, run_backtest

    other = panel.astype({"area": str}).assign(period_start=panel["period_start"].dt.tz_localize("Asia/Shanghai"))
    models = default_models(2, season=None, n_estimators=10)
    a = run_backtest(panel, models, origins=2, horizon=2).metrics
    b = run_backtest(other, models, origins=2, horizon=2).metrics  # was TypeError: tz-naive vs tz-aware
    pd.testing.assert_frame_equal(a.drop(columns=["seconds", "cpu_seconds"], errors="ignore"),
                                  b.drop(columns=["seconds", "cpu_seconds"], errors="ignore"))


def test_efficiency_tables_zoned_times_and_area_codes():
    from govml.hotspot.report import efficiency_tables

    ev = pd.DataFrame({"created_at": pd.to_datetime(["2024-03-31 20:00", "2024-04-02 09:00", "2024-04-03 09:00"]),
                       "closed_at": pd.to_datetime(["2024-04-02 20:00", "2024-04-03 09:00", None]),
                       "area": [8.0, 8.0, np.nan]})
    base = efficiency_tables(ev, area_col="area")
    assert base["median_days"].index.tolist() == ["8"]  # was '8.0' (and 'nan' for the blank)
    zoned = efficiency_tables(ev.assign(created_at=ev["created_at"].dt.tz_localize("Asia/Shanghai")), area_col="area")
    pd.testing.assert_frame_equal(zoned["median_days"], base["median_days"])  # was TypeError: naive minus aware


# -- skills ----------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def workforce():
    from govml.samples.workforce import make_assessments
    from govml.skills import load_indicator_system

    system = load_indicator_system()
    return system, make_assessments(n_workers=30, n_periods=2, seed=3, system=system)[0]


def test_prepare_assessments_reads_column_names_with_spaces(workforce):
    from govml.skills import prepare_assessments

    system, raw = workforce
    base = prepare_assessments(raw, system)
    spaced = prepare_assessments(raw.rename(columns={"worker_id": "worker_id ", system.indicator_ids[0]:
                                                     f"\u3000{system.indicator_ids[0]}"}), system)
    pd.testing.assert_frame_equal(spaced.data, base.data)  # was: required column(s) missing: worker_id
    # the bare name beside the spaced one: the spaced column is not taken for it
    both = raw.assign(**{"worker_id ": "x"})
    assert prepare_assessments(both, system).data["worker_id"].tolist() == base.data["worker_id"].tolist()


def test_workforce_drivers_reads_composite_by_label(workforce):
    from govml.skills import IndicatorNormaliser, prepare_assessments, score_assessments, workforce_drivers

    system, raw = workforce
    data = prepare_assessments(raw, system).data
    norm = IndicatorNormaliser(system).fit(data)
    scores = score_assessments(data, system, norm)
    base = workforce_drivers(norm.transform(data), scores["composite"], system, n_estimators=20)
    # the composites ranked (lowest first) before being handed over: the same drivers, not shuffled ones
    ranked = scores.sort_values("composite")["composite"]
    pd.testing.assert_frame_equal(workforce_drivers(norm.transform(data), ranked, system, n_estimators=20), base)
    # the latest period's composites only: the other rows are left out (was IndexError: boolean index mismatch)
    latest = scores.loc[scores["period"] == scores["period"].max(), "composite"]
    only = workforce_drivers(norm.transform(data), latest, system, n_estimators=20)
    expect = workforce_drivers(norm.transform(data).loc[latest.index], latest, system, n_estimators=20)
    pd.testing.assert_frame_equal(only, expect)
    with pytest.raises(DataError, match="composite has 3 row"):
        workforce_drivers(norm.transform(data), pd.Series([1.0, 2.0, 3.0], index=[100, 101, 102]), system)
