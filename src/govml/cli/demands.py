"""`govml demands ...` — the command-line face of this capability."""

from __future__ import annotations

import typer

HELP = "Demand mining and early warning from resident messages: top demands, classifier, hot issues, surge alerts."

app = typer.Typer(help=HELP, no_args_is_help=True)
