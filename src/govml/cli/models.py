"""`govml models ...` — the command-line face of this capability."""

from __future__ import annotations

import typer

HELP = "Registered models in MLflow: versions, aliases (champion/challenger) and key metrics."

app = typer.Typer(help=HELP, no_args_is_help=True)
