"""`govml demo`: run every capability end to end on the sample data.

Each capability contributes one *step*: a function ``demo_step(ctx: DemoContext) -> list[Path]``
living in its own CLI module (``govml.cli.<wing>``). Steps are listed in :data:`STEPS` in the order
they run; a step may use outputs of earlier ones through ``ctx.outputs``.
"""

from __future__ import annotations

import importlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import typer

# (name, "module:function") in run order. A capability adds its line when it lands.
STEPS: list[tuple[str, str]] = [
    ("data", "govml.cli.data:demo_step"),
    ("demands", "govml.cli.demands:demo_step"),
    ("demands-alerts", "govml.cli.demands:demo_step_alerts"),
    ("hotspots", "govml.cli.hotspots:demo_step"),
    ("federated", "govml.cli.federated:demo_step"),
    ("skills", "govml.cli.skills:demo_step"),
    ("tracking", "govml.cli.retrain:demo_step"),
]


@dataclass
class DemoContext:
    samples_dir: Path
    reports_dir: Path
    tracking_uri: str | None
    seed: int = 0
    quick: bool = False
    outputs: dict[str, object] = field(default_factory=dict)

    def report_path(self, *parts: str) -> Path:
        p = self.reports_dir.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p


def run_demo(ctx: DemoContext, only: list[str] | None = None) -> dict[str, list[Path]]:
    from rich.console import Console

    console = Console()
    written: dict[str, list[Path]] = {}
    ctx.reports_dir.mkdir(parents=True, exist_ok=True)
    for name, target in STEPS:
        if only and name not in only:
            continue
        module_name, func_name = target.split(":")
        func = getattr(importlib.import_module(module_name), func_name)
        console.rule(f"[bold]demo: {name}")
        t0 = time.perf_counter()
        paths = list(func(ctx) or [])
        written[name] = paths
        console.print(f"[green]✓[/] {name} ({time.perf_counter() - t0:.1f} s)")
    return written


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        samples: Path = typer.Option(Path("data_samples"), help="Folder with the sample data."),
        reports: Path = typer.Option(Path("reports"), help="Where the demo writes its outputs."),
        only: list[str] = typer.Option(None, "--only", help="Run only these steps (repeatable)."),
        quick: bool = typer.Option(False, help="Smaller settings (fewer rounds/origins) for a fast check."),
        seed: int = typer.Option(0, help="Random seed."),
    ) -> None:
        """Run every capability end to end on the sample data; outputs go under reports/."""
        from rich.console import Console
        from rich.table import Table

        from govml.errors import GovmlError

        if not samples.is_dir():
            raise GovmlError(f"{samples}: sample-data folder not found (run from the project root, "
                             "or pass --samples; `govml samples --out DIR` makes one)")
        ctx = DemoContext(samples_dir=samples, reports_dir=reports,
                          tracking_uri=os.environ.get("MLFLOW_TRACKING_URI"), seed=seed, quick=quick)
        written = run_demo(ctx, only=only)
        table = Table(title="govml demo — outputs")
        table.add_column("step")
        table.add_column("written")
        for name, paths in written.items():
            table.add_row(name, "\n".join(str(p) for p in paths) or "-")
        Console().print(table)
        Console().print(f"All outputs are under [bold]{reports.resolve()}[/]")
