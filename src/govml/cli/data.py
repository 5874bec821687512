"""`govml validate` and `govml samples`: the data layer's face."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the data commands to the root app."""


def demo_step(ctx):  # noqa: ANN001
    """Demo step: validate the sample files (filled in by the data-layer work)."""
    return []
