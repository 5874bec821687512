"""`govml retrain` and `govml schedule`: the scheduled pipeline's face (see govml.retrain)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the retraining commands to the root app (filled in by the retraining work)."""
