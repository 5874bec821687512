"""`govml federated ...` — the command-line face of this capability."""

from __future__ import annotations

import typer

HELP = "Federated learning across districts with Flower (simulation and deployment)."

app = typer.Typer(help=HELP, no_args_is_help=True)
