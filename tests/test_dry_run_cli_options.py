"""The session-6 dry run's command lines that need the demands/federated CLI patches: one set of column options
for every command, repeated --text-col never silently cut to its last column, a bad output refused first."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console
from typer.testing import CliRunner

from govml.cli import app

runner = CliRunner()


def _run(*args: object) -> tuple[int, str]:
    r = runner.invoke(app, [str(a) for a in args])
    return r.exit_code, r.output + (str(r.exception) if r.exception and not isinstance(r.exception, SystemExit) else "")


def test_classify_accepts_every_column_option(samples_dir: Path, tmp_path: Path) -> None:
    code, text = _run("demands", "classify", samples_dir / "messages.csv", "--model-dir", tmp_path / "none",
                      "--time-col", "created_at", "--label-col", "category", "--likes-col", "likes",
                      "--out", tmp_path / "p.csv")
    assert "No such option" not in text, text  # the error is about the missing model, not the options


def test_demands_outputs_refused_before_the_work(samples_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "file.csv"
    f.write_text("x\n", encoding="utf-8")
    for args in (("hot-issues", samples_dir / "messages.csv", "--out", f / "hot.csv"),
                 ("train", samples_dir / "messages.csv", "--model-dir", f / "model"),
                 ("alerts", samples_dir / "messages.csv", "--out", f / "a.csv")):
        code, text = _run("demands", *args)
        assert "is a file, not a folder" in text and "Cross-validated" not in text, text


def test_federated_text_col_repeated_is_joined(tmp_path: Path) -> None:
    from govml.cli.federated import _read_input

    f = tmp_path / "m.csv"
    pd.DataFrame({"区县": ["A", "B"], "标题": ["停车难", "噪音"], "内容": ["小区车位不够", "工地夜间施工"],
                  "类别": ["交通", "环境"], "编号": [1, 2]}).to_csv(f, index=False)
    df, mapping, _ = _read_input(f, "demand-classifier", "区县",
                                 {"text": "标题 + 内容", "category": "类别", "id": "编号"}, Console(quiet=True))
    assert df[mapping["text"]].tolist() == ["停车难\n小区车位不够", "噪音\n工地夜间施工"]


def test_federated_forecaster_takes_the_hotspots_column_options(tmp_path: Path) -> None:
    code, text = _run("federated", "simulate", tmp_path / "missing.csv", "--task", "hotspot-forecaster",
                      "--partition-col", "district", "--area-col", "社区", "--category-col", "类别",
                      "--out", tmp_path / "m.json")
    assert "No such option" not in text, text


def test_a_future_time_is_left_out_and_counted(samples_dir: Path, tmp_path: Path) -> None:
    df = pd.read_csv(samples_dir / "messages.csv").head(300)
    df.loc[5, "created_at"] = "2031/1/1 10:00:00"  # a typing error for 2021 (附件-style date)
    f = tmp_path / "m.csv"
    df.to_csv(f, index=False)
    code, text = _run("demands", "top", f, "--out", tmp_path / "top.csv")
    assert code == 0, text
    assert "1 with a time in the future (row 7, e.g. '2031/1/1 10:00:00')" in " ".join(text.split())
    assert pd.read_csv(tmp_path / "top.csv")["period_start"].max() < "2030"
