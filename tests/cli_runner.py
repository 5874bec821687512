"""Run ``govml`` in-process as the shell would see it (shared by the CLI tests of messy and real exports)."""

from __future__ import annotations

from typer.testing import CliRunner

from govml.cli import app
from govml.errors import GovmlError

runner = CliRunner()


def govml(*args: object) -> tuple[int, str]:
    """(exit code as `govml` gives it, output and error text): a GovmlError is exit 2 (its own code), any
    other exception the 70 of an internal error."""
    r = runner.invoke(app, [str(a) for a in args])
    if r.exception is None or isinstance(r.exception, SystemExit):
        return r.exit_code, r.output
    if isinstance(r.exception, GovmlError):
        return r.exception.exit_code, r.output + str(r.exception)
    return 70, f"{r.output}{type(r.exception).__name__}: {r.exception}"
