"""Ctrl-C in any command ends with one line and exit 130 (typer turned it into a silent exit 130), and the demo's
own line is not said twice (session 17)."""

from __future__ import annotations

import pytest
import typer

import govml.cli as cli


def _run(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code, capsys.readouterr().err


def test_ctrl_c_in_a_command_is_said_and_exits_130(monkeypatch, capsys, tmp_path) -> None:
    f = tmp_path / "m.csv"
    f.write_text("id,text\n1,路灯坏了\n", encoding="utf-8")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("govml.cli.data._check", interrupted)
    code, err = _run(["validate", str(f), "--kind", "messages"], capsys)
    assert code == 130
    assert "interrupted" in err and "Ctrl-C" in err


def test_an_interrupt_the_command_reported_itself_is_not_said_again() -> None:
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise typer.Exit(130) from None  # what govml demo does after its own line
    except typer.Exit as e:
        hidden = e
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as k:
            raise typer.Exit(130) from k  # what typer does for every other command
    except typer.Exit as e:
        plain = e
    assert not cli._ended_by_ctrl_c(SystemExit(130))
    assert not cli._ended_by_ctrl_c(_exit_after(hidden))
    assert cli._ended_by_ctrl_c(_exit_after(plain))


def _exit_after(exc: BaseException) -> SystemExit:
    """The SystemExit click raises while handling ``exc`` (its context)."""
    try:
        try:
            raise exc
        except BaseException:
            raise SystemExit(130)  # noqa: B904 (click raises it in an except clause, context kept)
    except SystemExit as s:
        return s
