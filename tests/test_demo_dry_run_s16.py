"""`govml demo` as a new user and a district's IT person run it (session 16 dry run): a misspelt --only, a
--reports that is a file or cannot be written, two demos into one folder, a step that fails or is skipped or is
interrupted, old outputs left from an earlier run, a samples folder with other files or none, the default
samples folder from another directory. The step logic is exercised with small fake steps (fast); one real run
(`--only data` on a tiny generated folder) checks what the console says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from govml.cli import demo
from govml.errors import GovmlError

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------------
# fake steps: a module in sys.modules whose functions behave as the test says


@pytest.fixture
def fake_steps(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """STEPS replaced by three steps of a fake module; ``behaviour[name]`` is 'write', 'skip', 'fail', 'bug',
    'interrupt' or 'empty' (says it wrote a file it left empty)."""
    behaviour = {"one": "write", "two": "write", "three": "write"}
    mod = types.ModuleType("govml_fake_demo_steps")

    def make(name: str):  # noqa: ANN202
        def step(ctx: demo.DemoContext) -> list[Path]:
            how = behaviour[name]
            if how == "skip":
                return []
            out = ctx.report_path(name, "out.csv")
            out.write_text("a,b\n1,2\n" if how != "empty" else "", encoding="utf-8")
            if how == "fail":
                raise GovmlError(f"{name}: column 'text' missing; map it with --map text=留言详情")
            if how == "bug":
                raise KeyError("text")
            if how == "interrupt":
                raise KeyboardInterrupt
            return [out]
        return step

    for n in behaviour:
        setattr(mod, f"step_{n}", make(n))
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    monkeypatch.setattr(demo, "STEPS", [(n, f"{mod.__name__}:step_{n}") for n in behaviour])
    return types.SimpleNamespace(behaviour=behaviour)


def _ctx(tmp_path: Path) -> demo.DemoContext:
    return demo.DemoContext(samples_dir=tmp_path, reports_dir=tmp_path / "reports", tracking_uri=None)


def test_a_failing_step_does_not_stop_the_others_and_leaves_nothing_half_written(
        tmp_path: Path, fake_steps: types.SimpleNamespace, capsys: pytest.CaptureFixture[str]) -> None:
    fake_steps.behaviour.update(one="fail", two="bug")
    ctx = _ctx(tmp_path)
    written = demo.run_demo(ctx)
    out = capsys.readouterr().out
    assert written == {"one": [], "two": [], "three": [ctx.reports_dir / "three" / "out.csv"]}
    assert ctx.status["one"] == "failed: one: column 'text' missing; map it with --map text=留言详情"
    assert "`govml demo` takes no --map or --profile: rename the file's columns" in out
    assert ctx.status["two"].startswith("failed:") and ctx.status["three"] == "ok"
    assert "✗ one failed" in out and "column 'text' missing" in out
    assert "internal error: KeyError (a bug in govml" in out
    # what the failed steps had written is gone; the good step's output is there
    assert not (ctx.reports_dir / "one" / "out.csv").exists()
    assert not (ctx.reports_dir / "two" / "out.csv").exists()
    assert (ctx.reports_dir / "three" / "out.csv").read_text(encoding="utf-8") == "a,b\n1,2\n"
    manifest = json.loads((ctx.reports_dir / demo.MANIFEST).read_text(encoding="utf-8"))
    assert {k: v["status"] for k, v in manifest["steps"].items()} == {"one": "failed", "two": "failed",
                                                                       "three": "ok"}
    assert manifest["steps"]["three"]["files"] == ["three/out.csv"]


def test_a_skipped_step_is_not_ticked_and_its_old_outputs_are_removed(
        tmp_path: Path, fake_steps: types.SimpleNamespace, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = _ctx(tmp_path)
    demo.run_demo(ctx)
    old = ctx.reports_dir / "two" / "out.csv"
    mine = ctx.reports_dir / "two" / "my-notes.txt"  # a file the demo did not write: never touched
    mine.write_text("keep", encoding="utf-8")
    assert old.exists()
    capsys.readouterr()
    fake_steps.behaviour["two"] = "skip"
    ctx = _ctx(tmp_path)
    written = demo.run_demo(ctx)
    out = capsys.readouterr().out
    assert written["two"] == [] and ctx.status["two"] == "skipped"
    assert "– two skipped" in out and "✓ two" not in out
    assert "removed 1 file(s) this step wrote in an earlier run" in out
    assert not old.exists(), "a skipped step left last run's output in place, looking current"
    assert mine.read_text(encoding="utf-8") == "keep"


def test_a_step_that_says_it_wrote_an_empty_file_is_reported(
        tmp_path: Path, fake_steps: types.SimpleNamespace, capsys: pytest.CaptureFixture[str]) -> None:
    fake_steps.behaviour["three"] = "empty"
    ctx = _ctx(tmp_path)
    demo.run_demo(ctx, only=["three"])
    out = capsys.readouterr().out
    assert ctx.status["three"].startswith("failed: missing or empty")
    assert "said written, but missing or empty" in out
    assert list(ctx.status) == ["three"], "--only ran other steps"


def test_ctrl_c_removes_the_interrupted_steps_partial_outputs_and_the_next_run_works(
        tmp_path: Path, fake_steps: types.SimpleNamespace, capsys: pytest.CaptureFixture[str]) -> None:
    fake_steps.behaviour["two"] = "interrupt"
    ctx = _ctx(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        demo.run_demo(ctx)
    out = capsys.readouterr().out
    assert "✗ two interrupted" in out and "1 partial output(s) removed" in out
    assert (ctx.reports_dir / "one" / "out.csv").exists()
    assert not (ctx.reports_dir / "two" / "out.csv").exists()
    assert not (ctx.reports_dir / "three").exists()
    # the lock was released: the next run goes ahead and finishes
    fake_steps.behaviour["two"] = "write"
    ctx = _ctx(tmp_path)
    demo.run_demo(ctx)
    assert ctx.status == {"one": "ok", "two": "ok", "three": "ok"}


def test_two_demos_into_one_reports_folder(tmp_path: Path) -> None:
    first = demo.ReportsFolder(tmp_path / "reports")
    first.prepare()
    try:
        with pytest.raises(GovmlError, match=r"another govml demo is writing into this folder \(pid \d+, started "):
            demo.ReportsFolder(tmp_path / "reports").prepare()
    finally:
        first.release()
    second = demo.ReportsFolder(tmp_path / "reports")
    second.prepare()  # free again
    second.release()


def test_misspelt_only_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(GovmlError, match=r"--only 'hotspot': no such demo step \(did you mean 'hotspots'\?\); "
                                         r"the steps are: data, demands, demands-alerts, hotspots"):
        demo.check_only(["data", "hotspot"])
    assert demo.check_only(None) is None
    assert demo.check_only(["skills"]) == ["skills"]


def test_reports_that_is_a_file_or_cannot_be_written(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    with pytest.raises(GovmlError, match=r"--reports .*afile: this is a file, not a folder"):
        demo.ReportsFolder(afile).prepare()
    with pytest.raises(GovmlError, match=r"--reports .*afile/sub: cannot write there \(Not a directory"):
        demo.ReportsFolder(afile / "sub").prepare()


def test_mlflow_store_that_cannot_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    monkeypatch.setenv("GOVML_HOME", str(afile))
    with pytest.raises(GovmlError, match=r"the MLflow store folder .*afile/mlruns cannot be written .*set GOVML_HOME"):
        demo._check_store()


def test_samples_folder_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # run from another folder: the project's data_samples, said
    monkeypatch.chdir(tmp_path)
    samples, note = demo._resolve_samples(None)
    assert samples == ROOT / "data_samples" and note and "using the project's" in note
    # a file instead of a folder
    f = tmp_path / "messages.csv"
    f.write_text("id\n", encoding="utf-8")
    with pytest.raises(GovmlError, match="this is a file; pass the folder that holds"):
        demo._resolve_samples(f)
    # an Excel export where the demo reads a CSV: named, with the command that checks it
    d = tmp_path / "district"
    d.mkdir()
    (d / "messages.xlsx").write_bytes(b"PK")
    (d / "courses.csv").write_text("course_id,title,hours\n", encoding="utf-8")
    present, notes = demo.input_notes(d)
    assert present == ["courses.csv"]
    assert notes == [f"messages.xlsx is not read by the demo (it reads messages.csv): save it as messages.csv "
                     f"(UTF-8 or GBK CSV) — `govml validate {d / 'messages.xlsx'} --kind messages` checks it first"]


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from govml.cli import main; main()", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, COLUMNS="200", **(env or {})))


def test_cli_refuses_bad_options_in_one_line_before_any_step(tmp_path: Path) -> None:
    r = _run(["demo", "--only", "hotspot", "--reports", str(tmp_path / "r")], cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "no such demo step (did you mean 'hotspots'?)" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "r").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _run(["demo", "--samples", str(empty), "--reports", str(tmp_path / "r")], cwd=tmp_path)
    assert r.returncode == 2 and "none of messages.csv, complaints.csv, assessments.csv, courses.csv" in r.stderr
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    r = _run(["demo", "--reports", str(tmp_path / "afile"), "--only", "data"], cwd=ROOT)
    assert r.returncode == 2 and "this is a file, not a folder" in r.stderr
    assert "internal error" not in r.stderr


def test_cli_run_on_a_small_district_folder_says_what_it_did(tmp_path: Path) -> None:
    """One real step (`--only data`) on a tiny folder: the console names the step, what it does, what it wrote,
    the MLflow store, and what to do next; a second run in the same folder leaves no old file unexplained."""
    d = tmp_path / "district"
    d.mkdir()
    (d / "courses.csv").write_text("course_id,title,hours\nC1,垃圾分类实务,4\nC2,矛盾调解,6\n", encoding="utf-8")
    reports = tmp_path / "reports"
    home = tmp_path / "home"
    r = _run(["demo", "--samples", str(d), "--reports", str(reports), "--only", "data"], cwd=tmp_path,
             env={"GOVML_HOME": str(home)})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = r.stdout
    assert "govml demo: 1 step(s) on" in out and "(found: courses.csv)" in out
    assert f"MLflow store: {home.resolve() / 'mlruns'} (GOVML_HOME={home})" in out
    assert "demo 1/1: data" in out and "checks each input file as `govml validate` does" in out
    assert "✓ data" in out
    assert "data/validation.md" in out
    assert "Next: your own files" in out
    validation = (reports / "data" / "validation.md").read_text(encoding="utf-8")
    assert "not present in" in validation and "`courses.csv` as courses" in validation


def test_cli_names_old_files_and_steps_left_from_an_earlier_run(
        tmp_path: Path, fake_steps: types.SimpleNamespace) -> None:
    """The command in process, on fake steps: after `--only one`, step two's outputs of the earlier full run are
    named as left from that run, and a file the demo never wrote as not written by this run; a failed step makes
    the exit non-zero after the summary."""
    from typer.testing import CliRunner

    from govml.cli import app

    d = tmp_path / "district"
    d.mkdir()
    (d / "messages.csv").write_text("id\n", encoding="utf-8")
    reports = tmp_path / "reports"
    args = ["demo", "--samples", str(d), "--reports", str(reports)]
    runner = CliRunner()
    res = runner.invoke(app, args, env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    assert "This takes about" in res.output and "demo 3/3: three" in res.output
    stray = reports / "hotspots" / "forecast.csv"
    stray.parent.mkdir()
    stray.write_text("old", encoding="utf-8")
    os.utime(stray, (1, 1))
    fake_steps.behaviour["one"] = "fail"
    res = runner.invoke(app, [*args, "--only", "one"], env={"COLUMNS": "300"})
    assert isinstance(res.exception, GovmlError), res.output
    assert "demo finished with 1 failed step(s): one" in str(res.exception)
    assert "Left from an earlier run (not run now): two (" in res.output and ", three (" in res.output, res.output
    assert "1 file(s) under" in res.output and "hotspots/forecast.csv" in res.output
    assert "two/out.csv" not in res.output.split("Left from")[1].split("All outputs")[0].split("were not written")[-1]
    assert not (reports / "one" / "out.csv").exists()


def test_alerts_step_reads_an_export_as_the_demands_commands_do(tmp_path: Path) -> None:
    """A district's messages.csv in GBK with its export's Chinese headers (留言编号, 留言时间, 留言详情, 社区, 一级分类 …)
    and a row without a readable time: the demands step's commands read it (columns recognised, the row left out
    with a warning); the alerts step refused the whole file (exit 2, `--map`/`--profile` suggested) — session 16."""
    import pandas as pd

    from govml.cli.demands import demo_step_alerts

    df = pd.read_csv(ROOT / "data_samples" / "messages.csv", nrows=1500)
    df = df.rename(columns={"id": "留言编号", "created_at": "留言时间", "text": "留言详情", "community": "社区",
                            "category": "一级分类", "likes": "点赞数", "user_id": "留言用户"})
    df.loc[7, "留言时间"] = "不详"
    folder = tmp_path / "district"
    folder.mkdir()
    df.to_csv(folder / "messages.csv", index=False, encoding="gbk", errors="replace")
    ctx = demo.DemoContext(samples_dir=folder, reports_dir=tmp_path / "reports", tracking_uri=None)
    hot_path, alerts_path, fig_path = demo_step_alerts(ctx)
    hot = pd.read_csv(hot_path)
    ids = {i for cell in hot["message_ids"] for i in str(cell).split(";")}
    assert len(hot) > 0 and ids <= set(df["留言编号"]) and df.loc[7, "留言编号"] not in ids
    alerts = pd.read_csv(alerts_path)
    assert list(alerts.columns) == ["group", "period_start", "kind", "key", "observed", "expected", "score",
                                    "p_value", "level"]
    assert set(alerts["group"]) <= set(df["社区"]) and "category" in set(alerts["kind"])
    assert fig_path.stat().st_size > 0
