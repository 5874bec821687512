"""What the session-6 dry run of `govml hotspots` on real exports found: an export cut short (附件3: ~75
messages a week, then 1 and 2) is said on the terminal, and the backtest table stays readable when the
output is piped (80 columns)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from govml.cli import app
from govml.hotspot.panel import thin_tail

runner = CliRunner()


def _events(tmp_path: Path, *, cut: bool) -> Path:
    rng = np.random.default_rng(0)
    rows = []
    weeks = pd.date_range("2024-01-01", periods=30, freq="W-MON")
    for w_i, w in enumerate(weeks):
        for area in ("东湖社区", "金桥社区", "望江社区"):
            for cat in ("噪声扰民", "物业服务"):
                n = rng.poisson(4)
                if cut and w_i >= 28:
                    n = int(area == "东湖社区" and cat == "噪声扰民")  # 1 event a week in all
                for _ in range(n):
                    t = w + pd.Timedelta(minutes=int(rng.integers(0, 7 * 24 * 60)))
                    if cut and w_i >= 28:
                        t = w + pd.Timedelta(days=6, hours=12)  # on Sunday: the weeks are complete, only thin
                    rows.append((t.strftime("%Y/%-m/%-d %H:%M:%S"), area, cat))
    f = tmp_path / ("cut.csv" if cut else "full.csv")
    pd.DataFrame(rows, columns=["受理时间", "社区", "类别"]).to_csv(f, index=False)
    return f


def test_thin_tail() -> None:
    assert thin_tail(np.array([80.0] * 20 + [1, 2])) == (2, 3, 80.0)
    assert thin_tail(np.array([80.0] * 20)) is None
    assert thin_tail(np.array([80.0] * 20 + [40, 30])) is None  # a holiday dip is not a cut
    assert thin_tail(np.array([80.0] * 12 + [1.0] * 6)) is None  # a long quiet stretch: a real change
    assert thin_tail(np.array([3.0] * 20 + [0])) is None  # too few events to tell


def test_forecast_says_when_the_export_looks_cut_short(tmp_path: Path) -> None:
    args = ["--time-col", "受理时间", "--area-col", "社区", "--category-col", "类别", "--no-track"]
    r = runner.invoke(app, ["hotspots", "forecast", str(_events(tmp_path, cut=True)), *args,
                            "--out", str(tmp_path / "fc.csv")])
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "the last 2 period(s) (from 2024-07-15) hold 2 event(s)" in text and "may end early" in text
    r = runner.invoke(app, ["hotspots", "forecast", str(_events(tmp_path, cut=False)), *args,
                            "--out", str(tmp_path / "fc2.csv")])
    assert r.exit_code == 0, r.output
    assert "may end early" not in " ".join(r.output.split())


def test_backtest_table_is_readable_when_piped(tmp_path: Path) -> None:
    r = runner.invoke(app, ["hotspots", "backtest", str(_events(tmp_path, cut=False)), "--time-col", "受理时间",
                            "--area-col", "社区", "--category-col", "类别", "--horizon", "2", "--origins", "2",
                            "--out", str(tmp_path / "m.json"), "--no-track"])
    assert r.exit_code == 0, r.output
    row = next(line for line in r.output.splitlines() if line.lstrip("│ ").startswith("mean_4"))
    assert "…" not in row
    assert len(re.findall(r"\d+\.\d{4}", row)) >= 7, row


def test_seasonal_naive_does_not_copy_a_year_of_zeros_before_the_data_start() -> None:
    """附件3: 4 stray messages in 2017-18, then ~75 a week from 2019: "last year" was all zeros."""
    import pytest

    from govml.errors import ModelError
    from govml.hotspot.baselines import SeasonalNaive

    weeks = pd.date_range("2023-01-02", periods=100, freq="W-MON")
    rng = np.random.default_rng(1)
    y = np.r_[np.zeros(60), rng.poisson(20, 40)]
    y[[5, 30]] = 1  # stray early events
    panel = pd.DataFrame({"area": "甲", "category": "噪声", "period_start": weeks, "y": y})
    with pytest.raises(ModelError, match="the panel has 40 from its data start 2024-02-26"):
        SeasonalNaive(52).fit(panel)
    full = pd.DataFrame({"area": "甲", "category": "噪声", "period_start": weeks, "y": rng.poisson(20, 100)})
    assert SeasonalNaive(52).fit(full).predict(2)["yhat"].tolist() == full["y"].iloc[[48, 49]].tolist()


def test_backtest_says_how_many_origins_a_baseline_was_left_out_of() -> None:
    """附件3 from 2019/9/2, 6 origins: seasonal naive has a real year only at the last one; its metrics cover
    that one origin, which the note must say (it said "fitted at the other origins")."""
    from govml.hotspot.backtest import run_backtest
    from govml.hotspot.baselines import MeanLast, SeasonalNaive

    weeks = pd.date_range("2023-01-02", periods=60, freq="W-MON")
    rng = np.random.default_rng(2)
    panel = pd.concat([pd.DataFrame({"area": a, "category": "噪声", "period_start": weeks,
                                     "y": rng.poisson(5, 60)}) for a in ("甲", "乙")], ignore_index=True)
    res = run_backtest(panel, {"mean_4": MeanLast(4), "seasonal_naive_52": SeasonalNaive(52)},
                       list(weeks[[48, 50, 54]]), 2)
    note = res.excluded_models["seasonal_naive_52"]
    assert note.startswith("not fitted at 2023-12-04") and "not fitted at 2 of 3 origins" in note
    assert "cover the other 1 only" in note
    assert set(res.predictions.loc[res.predictions["model"] == "seasonal_naive_52", "origin"]) == {weeks[54]}
