"""The two commands end to end on data_samples/complaints.csv, and bad input accounted for."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from govml.cli import app

runner = CliRunner()


@pytest.mark.slow
def test_forecast_and_backtest_on_the_sample(samples_dir: Path, tmp_path: Path) -> None:
    events = samples_dir / "complaints.csv"
    out = tmp_path / "forecast.csv"
    r = runner.invoke(app, ["hotspots", "forecast", str(events), "--time-col", "created_at", "--area-col",
                            "community", "--category-col", "category", "--freq", "W", "--horizon", "2",
                            "--out", str(out), "--explain-out", str(tmp_path / "why.csv"), "--now", "2025-01-01"])
    assert r.exit_code == 0, r.output
    fc = pd.read_csv(out)
    # exactly the columns of the checked form (the mean stays in HotspotForecaster.predict's yhat_mean)
    assert list(fc.columns) == ["area", "category", "period_start", "horizon", "yhat", "yhat_lo", "yhat_hi",
                                "p_hotspot"]
    assert len(fc) == 33 * 11 * 2 and set(fc["horizon"]) == {1, 2}
    assert set(fc["period_start"]) == {"2024-12-30", "2025-01-06"}
    assert pd.read_csv(tmp_path / "why.csv")["text"].notna().all()

    metrics = tmp_path / "metrics.json"
    preds = tmp_path / "preds.csv"
    r = runner.invoke(app, ["hotspots", "backtest", str(events), "--horizon", "2", "--origins", "1",
                            "--start", "2024-11-01", "--out", str(metrics), "--predictions-out", str(preds),
                            "--now", "2025-01-01"])
    assert r.exit_code == 0, r.output
    m = json.loads(metrics.read_text(encoding="utf-8"))
    assert set(m["metrics"]) >= {"govml", "last_value", "mean_4", "mean_13", "seasonal_naive_52"}
    for key in ("mae", "rmse", "wape", "poisson_deviance", "precision_top2pct", "precision_top5pct",
                "hitrate_top2pct", "pai_top5pct"):
        assert key in m["metrics"]["govml"]["all"] and key in m["metrics"]["govml"]["h1"]
    assert "coverage" in m["metrics"]["govml"]["all"]
    assert m["origins"] == ["2024-11-04"]
    assert m["data"]["excluded_total"] == 0
    p = pd.read_csv(preds)
    assert list(p.columns) == ["model", "origin", "area", "category", "period_start", "horizon", "y", "yhat"]
    assert len(p) == 5 * 33 * 11 * 2


def test_bad_input_is_counted_and_reported(tmp_path: Path) -> None:
    rows = []
    weeks = pd.date_range("2024-01-01", periods=20, freq="W-MON")
    for i, w in enumerate(weeks):
        for area, cat in (("甲社区", "噪声扰民"), ("乙社区", "环境卫生"), ("甲社区", "环境卫生")):
            for k in range(1 + (i + len(area)) % 3):
                rows.append({"时间": (w + pd.Timedelta(hours=10 + k)).strftime("%Y/%m/%d %H:%M:%S"),
                             "社区": area, "类别": cat})
    rows += [{"时间": (w + pd.Timedelta(hours=9)).strftime("%Y/%m/%d %H:%M:%S"), "社区": "B社区", "类别": "噪声扰民"}
             for w in weeks]
    rows.insert(3, {"时间": rows[3]["时间"], "社区": "ｂ社区", "类别": "噪声扰民"})  # full width, lower case: B社区
    rows += [
        {"时间": "昨天下午", "社区": "甲社区", "类别": "噪声扰民"},
        {"时间": "2031-01-01 08:00:00", "社区": "甲社区", "类别": "噪声扰民"},
        {"时间": "2024/03/05 09:00:00", "社区": "", "类别": "噪声扰民"},
        {"时间": "2024/03/06 09:00:00", "社区": "甲社区", "类别": "只有一件"},
        {"时间": (weeks[-1] + pd.Timedelta(days=2)).strftime("%Y%m%d"), "社区": "丙村", "类别": "噪声扰民"},
        {"时间": (weeks[-1] + pd.Timedelta(days=6, hours=20)).strftime("%Y-%m-%d %H:%M"), "社区": "甲社区",
         "类别": "环境卫生"},
    ]
    f = tmp_path / "bad.csv"
    pd.DataFrame(rows).to_csv(f, index=False, encoding="gbk")
    metrics = tmp_path / "m.json"
    r = runner.invoke(app, ["hotspots", "backtest", str(f), "--time-col", "时间", "--area-col", "社区",
                            "--category-col", "类别", "--horizon", "2", "--origins", "2", "--out", str(metrics),
                            "--now", "2025-01-01", "--no-track"])
    assert r.exit_code == 0, r.output
    data = json.loads(metrics.read_text(encoding="utf-8"))["data"]
    assert {k: v["rows"] for k, v in data["excluded"].items()} == {
        "unparseable_time": 1, "future_time": 1, "missing_area": 1, "rare_category": 1}
    assert data["excluded"]["unparseable_time"]["example_file_rows"] == [len(rows) - 6 + 2]
    assert any("start in the last period" in n for n in data["notes"])
    assert any("area spelling(s)" in n and "'ｂ社区' → 'B社区' (1 row(s))" in n for n in data["notes"]), data["notes"]
    assert "excluded" in r.output and "time could not be parsed" in r.output
    m = json.loads(metrics.read_text(encoding="utf-8"))
    assert "seasonal_naive_52" in m["excluded_models"]

    out = tmp_path / "fc.csv"
    r = runner.invoke(app, ["hotspots", "forecast", str(f), "--time-col", "时间", "--area-col", "社区",
                            "--category-col", "类别", "--horizon", "2", "--out", str(out), "--now", "2025-01-01",
                            "--no-track"])
    assert r.exit_code == 0, r.output
    fc = pd.read_csv(out)
    assert "丙村" in set(fc["area"])  # the new series is forecast, not dropped


def test_unusable_input_is_one_clear_error(tmp_path: Path) -> None:
    f = tmp_path / "none.csv"
    pd.DataFrame({"created_at": ["不是日期", "也不是"], "community": ["甲", "乙"], "category": ["a", "a"]}).to_csv(
        f, index=False)
    r = runner.invoke(app, ["hotspots", "forecast", str(f), "--out", str(tmp_path / "o.csv"), "--no-track"])
    assert r.exit_code != 0
    assert isinstance(r.exception, Exception) and "no usable events" in str(r.exception)
    r = runner.invoke(app, ["hotspots", "forecast", str(f), "--area-col", "社区", "--out", str(tmp_path / "o.csv")])
    assert r.exit_code != 0 and "社区" in str(r.exception)


def test_holidays_option_scales_the_spring_festival_week(tmp_path: Path) -> None:
    # three series, 10 complaints a week, the Spring Festival weeks of 2023 and 2024 at 4: the default
    # (--holidays auto) forecasts the 2025 festival week low, --holidays off forecasts an ordinary week
    from govml.hotspot.calendar import day_info

    rows = []
    for week in pd.date_range("2023-01-02", "2025-01-13", freq="W-MON"):
        spring = any(day_info((week + pd.Timedelta(days=d)).date())[3] for d in range(7))
        for area in ("甲社区", "乙社区", "丙社区"):
            for k in range(4 if spring else 10):
                rows.append({"created_at": week + pd.Timedelta(days=k % 5, hours=9 + k),
                             "community": area, "category": "噪声扰民"})
    f = tmp_path / "events.csv"
    pd.DataFrame(rows).to_csv(f, index=False)
    out = {}
    for mode in ("auto", "off"):
        path = tmp_path / f"fc_{mode}.csv"
        r = runner.invoke(app, ["hotspots", "forecast", str(f), "--horizon", "3", "--holidays", mode,
                                "--out", str(path), "--now", "2025-01-20", "--no-track"])
        assert r.exit_code == 0, r.output
        out[mode] = pd.read_csv(path).groupby("period_start")["yhat"].mean()
    festival = "2025-01-27"  # the week of 2025-01-28 … 02-04
    assert out["off"][festival] > 8 and out["auto"][festival] < 0.75 * out["off"][festival]
    assert abs(out["auto"]["2025-01-20"] - out["off"]["2025-01-20"]) < 1.0  # an ordinary week is left alone
    r = runner.invoke(app, ["hotspots", "forecast", str(f), "--holidays", "maybe", "--out",
                            str(tmp_path / "x.csv"), "--no-track"])
    assert r.exit_code != 0 and "--holidays must be one of" in str(r.exception)


def test_a_figure_suffix_matplotlib_cannot_write_is_refused_before_anything_is_written(samples_dir: Path,
                                                                                      tmp_path: Path) -> None:
    """--heatmap-out heat.txt / --plot-out plot.doc were a matplotlib ValueError after the forecast CSV (or the
    metrics) had been written; now one clear error first (govml.plots.check_figure_path, shared with skills)."""
    from govml.errors import ConfigError
    from govml.plots import check_figure_path

    for argv, out in ((["forecast", "--heatmap-out", str(tmp_path / "heat.txt")], tmp_path / "fc.csv"),
                      (["backtest", "--plot-out", str(tmp_path / "plot.doc")], tmp_path / "m.json")):
        r = runner.invoke(app, ["hotspots", argv[0], str(samples_dir / "complaints.csv"), *argv[1:], "--out", str(out),
                                "--no-track"])
        assert r.exit_code != 0 and isinstance(r.exception, ConfigError), r.output
        assert "cannot draw a figure as ." in str(r.exception) and ".png" in str(r.exception)
        assert not out.exists()
    assert check_figure_path(tmp_path / "a.PNG") == "png" and check_figure_path(tmp_path / "b.svg") == "svg"
    with pytest.raises(ConfigError, match="a file without suffix"):
        check_figure_path(tmp_path / "noext")
