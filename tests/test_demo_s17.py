"""Session 17: the demo's last lines. A step that did not do its work is reported skipped, not ticked (the tracking
step without messages.csv or complaints.csv; a step that says so with ``ctx.skip``), and Ctrl-C ends the demo with
one line naming the step it stopped in and what was removed (exit 130). Fake or not-started steps only: fast."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from govml.cli import app, demo


@pytest.fixture
def fake_steps(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """STEPS replaced by three fake steps; ``behaviour[name]``: 'write', 'interrupt' (writes, then Ctrl-C) or
    'config-only' (writes its config and says it skipped its work)."""
    behaviour = {"one": "write", "two": "write", "three": "write"}
    mod = types.ModuleType("govml_fake_demo_steps_s17")

    def make(name: str):  # noqa: ANN202
        def step(ctx: demo.DemoContext) -> list[Path]:
            out = ctx.report_path(name, "out.csv")
            out.write_text("a,b\n1,2\n", encoding="utf-8")
            if behaviour[name] == "interrupt":
                raise KeyboardInterrupt
            if behaviour[name] == "config-only":
                ctx.skip(name, "every model was disabled in its config")
            return [out]
        return step

    for n in behaviour:
        setattr(mod, f"step_{n}", make(n))
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    monkeypatch.setattr(demo, "STEPS", [(n, f"{mod.__name__}:step_{n}") for n in behaviour])
    return behaviour


def _ctx(tmp_path: Path) -> demo.DemoContext:
    return demo.DemoContext(samples_dir=tmp_path, reports_dir=tmp_path / "reports", tracking_uri=None)


def test_tracking_without_its_inputs_is_skipped_not_ticked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import govml.cli.retrain as retrain_cli

    def must_not_run(ctx: demo.DemoContext) -> list[Path]:
        raise AssertionError("the tracking step was started without messages.csv or complaints.csv")

    monkeypatch.setattr(retrain_cli, "demo_step", must_not_run)
    (tmp_path / "courses.csv").write_text("course_id,title,hours\nC1,矛盾调解,4\n", encoding="utf-8")
    ctx = _ctx(tmp_path)
    written = demo.run_demo(ctx, only=["tracking"])
    out = capsys.readouterr().out
    assert written == {"tracking": []} and ctx.status == {"tracking": "skipped"}
    assert "– tracking skipped" in out and "messages.csv or complaints.csv" in out and "✓" not in out
    assert not (ctx.reports_dir / "tracking").exists()
    manifest = json.loads((ctx.reports_dir / demo.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["steps"]["tracking"]["status"] == "skipped"
    # with one of its inputs the step is started
    (tmp_path / "complaints.csv").write_text("id\n", encoding="utf-8")
    ctx = _ctx(tmp_path)
    demo.run_demo(ctx, only=["tracking"])  # (the stand-in step's failure is caught as any step's)
    assert "was started without" in ctx.status["tracking"]


def test_a_step_that_says_it_skipped_is_not_ticked_and_its_file_goes_next_run(
        tmp_path: Path, fake_steps: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    fake_steps["two"] = "config-only"
    ctx = _ctx(tmp_path)
    written = demo.run_demo(ctx)
    out = capsys.readouterr().out
    assert ctx.status == {"one": "ok", "two": "skipped", "three": "ok"}
    assert "– two skipped" in out and "every model was disabled in its config" in out and "✓ two" not in out
    assert written["two"] == [ctx.reports_dir / "two" / "out.csv"]  # the file it wrote is still listed ...
    manifest = json.loads((ctx.reports_dir / demo.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["steps"]["two"] == {**manifest["steps"]["two"], "status": "skipped", "files": ["two/out.csv"]}
    demo.run_demo(_ctx(tmp_path), only=["two"])  # ... and recorded, so the next run removes it first
    assert "removed 1 file(s) this step wrote in an earlier run" in capsys.readouterr().out


def test_ctrl_c_ends_the_demo_with_one_line_naming_the_step_and_what_was_removed(
        tmp_path: Path, fake_steps: dict[str, str]) -> None:
    d = tmp_path / "district"
    d.mkdir()
    (d / "messages.csv").write_text("id\n", encoding="utf-8")
    reports = tmp_path / "reports"
    args = ["demo", "--samples", str(d), "--reports", str(reports)]
    env = {"COLUMNS": "400", "GOVML_HOME": str(tmp_path / "home")}
    runner = CliRunner()
    assert runner.invoke(app, args, env=env).exit_code == 0  # a full run first: step two has earlier outputs
    fake_steps["two"] = "interrupt"
    res = runner.invoke(app, args, env=env)
    assert res.exit_code == 130, res.output
    last = res.output.strip().splitlines()[-1]
    assert last == ("demo interrupted (Ctrl-C) in step two (2/3); removed: its 1 partial output(s) and the 1 file(s) "
                    "it wrote in an earlier run; finished before it, outputs kept: one; not run: three; "
                    "`govml demo --only two` redoes it"), last
    assert "✗ two interrupted" in res.output
    assert (reports / "one" / "out.csv").exists() and not (reports / "two" / "out.csv").exists()
    assert "govml demo — outputs" not in res.output  # no summary table after Ctrl-C


def test_ctrl_c_between_steps_before_and_after(tmp_path: Path, fake_steps: dict[str, str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real_clear = demo.ReportsFolder.clear_step

    def clear_then_stop(self: demo.ReportsFolder, name: str) -> list[str]:
        if name == "three":
            raise KeyboardInterrupt  # while step three was being set up (nothing of it written yet)
        calls["n"] += 1
        return real_clear(self, name)

    monkeypatch.setattr(demo.ReportsFolder, "clear_step", clear_then_stop)
    ctx = _ctx(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        demo.run_demo(ctx)
    assert calls["n"] == 2 and ctx.interrupted is not None
    assert demo.interrupted_line(ctx) == ("demo interrupted (Ctrl-C) in step three (3/3); removed: nothing (it had "
                                          "written nothing yet); finished before it, outputs kept: one, two; "
                                          "`govml demo --only three` redoes it")
    assert demo.interrupted_line(None, "before").endswith("before its first step: nothing was written or removed")
    assert "after its last step: every step's outputs are in place" in demo.interrupted_line(ctx, "after")
    ctx.interrupted = {"step": None, "done": ["one"], "not_run": ["two", "three"]}
    assert demo.interrupted_line(ctx) == ("demo interrupted (Ctrl-C) between two steps; nothing removed; finished "
                                          "before it, outputs kept: one; not run: two, three; run `govml demo` "
                                          "again to finish")
