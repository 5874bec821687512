"""`govml hotspots ...` — the command-line face of this capability."""

from __future__ import annotations

import typer

HELP = "Complaint hotspot forecasting with honest rolling-origin backtests."

app = typer.Typer(help=HELP, no_args_is_help=True)
