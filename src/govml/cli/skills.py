"""`govml skills ...` — the command-line face of this capability."""

from __future__ import annotations

import typer

HELP = "Worker assessment scoring, skill-gap diagnosis and course plans."

app = typer.Typer(help=HELP, no_args_is_help=True)
