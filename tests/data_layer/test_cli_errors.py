"""The command line's behaviour: --version, --help listing every command, user errors as one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer

from govml import __version__
from govml.cli import app, main

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
GOVML = [sys.executable, "-c", "import sys; from govml.cli import main; main(sys.argv[1:])"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="200")
    env.pop("GOVML_DEBUG", None)
    return subprocess.run([*GOVML, *args], capture_output=True, text=True, env=env, timeout=120)


def _in_process(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def _commands() -> dict[str, click.Command]:
    group = typer.main.get_command(app)
    assert isinstance(group, click.Group)
    return dict(group.commands)


def test_version() -> None:
    r = _run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"govml {__version__}"


def test_help_lists_every_command_with_a_description(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = _in_process(capsys, "--help")
    assert code == 0
    commands = _commands()
    assert {"validate", "samples", "demo"} <= set(commands)
    for name, cmd in commands.items():
        assert name in out
        assert (cmd.help or cmd.short_help or "").strip(), f"command {name} has no description"
    code, out, _ = _in_process(capsys, "validate", "--help")
    for opt in ("--kind", "--encoding", "--sheet", "--header-row", "--map", "--profile", "--max-problems"):
        assert opt in out


def test_user_error_is_one_line_exit_2_without_traceback(tmp_path: Path) -> None:
    r = _run("validate", str(tmp_path / "nope.csv"), "--kind", "messages")
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.strip() == f"error: {tmp_path / 'nope.csv'}: file not found"
    assert "Traceback" not in r.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    r = _run("--debug", "validate", str(BAD / "empty.csv"), "--kind", "messages")
    assert r.returncode != 0
    assert "Traceback (most recent call last)" in r.stderr
    assert "govml.errors.DataError" in r.stderr and "the file is empty" in r.stderr


@pytest.mark.parametrize("argv,message", [
    (["validate", str(BAD / "gbk_messages.csv"), "--kind", "posts"],
     "error: --kind 'posts': expected one of messages, events, assessments, courses"),
    (["validate", str(BAD / "gbk_messages.csv"), "--kind", "messages", "--map", "created_at"],
     "error: --map 'created_at': expected canonical=their_column, e.g. --map created_at=留言时间"),
    (["validate", str(BAD / "gbk_messages.csv"), "--kind", "messages", "--profile", "nope"],
     "no column profile named 'nope' (known profiles: boston311, hotline12345, teddycup)"),
    (["validate", str(BAD / "two_title_rows.xlsx"), "--kind", "messages", "--sheet", "Sheet9"],
     "no sheet named 'Sheet9'; the sheets are '工单', '说明'"),
    (["validate", str(BAD / "two_title_rows.xlsx"), "--kind", "messages", "--header-row", "40"],
     "--header-row 40 is outside sheet '工单' (it has 6 rows)"),
    (["samples", "--out", "/tmp/x", "--only", "nothing-like-this"],
     "error: --only nothing-like-this: unknown generator(s)"),
])
def test_option_errors(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = _in_process(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err


def test_validate_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert _in_process(capsys, "validate", str(BAD / "gbk_messages.csv"), "--kind", "messages")[0] == 0
    assert _in_process(capsys, "validate", str(BAD / "bad_dates.csv"), "--kind", "messages")[0] == 1
    code, out, _ = _in_process(capsys, "validate", str(BAD / "bad_dates.csv"), "--kind", "messages",
                               "--max-problems", "1")
    assert code == 1 and "1+ errors" in out and "more errors not shown (raise --max-problems)" in out


def test_profile_for_another_kind_gets_a_note(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _in_process(capsys, "validate", str(BAD / "gbk_messages.csv"), "--kind", "messages",
                               "--profile", "boston311")
    assert code == 0 and "note: profile 'boston311' is meant for events, not messages" in err


def test_validate_json_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import json

    out = tmp_path / "r" / "report.json"
    code, _, _ = _in_process(capsys, "validate", str(BAD / "duplicate_ids.csv"), "--kind", "messages", "--json", str(out))
    data = json.loads(out.read_text(encoding="utf-8"))
    assert code == 1 and data["usable"] is False and data["rows"] == 3 and data["read"]["encoding"] == "utf-8"
    assert data["errors"] == [{"file": str(BAD / "duplicate_ids.csv"), "row": 4, "column": "id",
                               "expected": "a unique id (the same is on row 2)", "found": "M001"}]
