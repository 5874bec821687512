"""`govml models ...` — the command-line face of this capability."""

from __future__ import annotations

import typer

HELP = "Registered models in MLflow: versions, aliases (champion/challenger) and key metrics."

app = typer.Typer(help=HELP, no_args_is_help=True)


def models_table(name: str | None = None, limit: int = 5) -> object:
    """A rich table of the registry: name, version, aliases, key metrics, status, run id, created."""
    from rich.table import Table

    from govml import models, tracking

    rows = models.list_models()
    if name:
        full = models._resolve(name)
        rows = [r for r in rows if r["name"] == full]
        if not rows:  # was: an empty table saying "no registered model yet" in a store holding others
            raise models._unknown_model(name)
    t = Table(title=f"registered models — {tracking.tracking_uri()}")
    for col in ("name", "version", "aliases", "metrics", "status", "run id", "created (UTC)"):
        t.add_column(col, overflow="fold")
    shown: dict[str, int] = {}
    for r in rows:
        shown[r["name"]] = shown.get(r["name"], 0) + 1
        if limit and shown[r["name"]] > limit and not r["aliases"]:
            continue
        metrics = ", ".join(f"{'*' if k == r['metric'] else ''}{k} {v:.4g}" for k, v in sorted(r["metrics"].items()))
        aliases = ", ".join(f"[green]{a}[/]" if a == "champion" else a for a in r["aliases"])
        status = ((r["status"] or "-") + (" [red](files deleted)[/]" if r.get("files") is False else "")
                  + (f" [yellow]({r['stage'].lower()})[/]" if r.get("stage") else ""))
        t.add_row(r["name"], r["version"], aliases or "-", metrics or "-", status,
                  (r["run_id"] or "")[:12], r["created"].strftime("%Y-%m-%d %H:%M"))
    if not rows:
        t.caption = "no registered model yet — run `govml retrain --config configs/retrain.yaml`"
    else:
        t.caption = "* the metric the champion gate compares"
    return t


@app.command("list")
def list_cmd(
    name: str = typer.Argument(None, help="Only this model (registry name or task name)."),
    limit: int = typer.Option(5, help="Versions shown per model besides aliased ones (0 = all)."),
) -> None:
    """Registered models: versions, aliases (champion/challenger), key metrics, run id, creation time."""
    from rich.console import Console

    Console().print(models_table(name, limit))


@app.command("promote")
def promote_cmd(
    name: str = typer.Argument(..., help="Registry name or task name, e.g. govml-demand-classifier (quote a name "
                                         "with spaces)."),
    version: str = typer.Argument(..., help="The version to put in service (a validated one)."),
) -> None:
    """Put a validated version in service by hand (moves the champion alias) — e.g. after a retrain reported
    that the champion could not be loaded and left a validated challenger."""
    from rich.console import Console

    from govml import models

    full = models._resolve(name)
    old = models.promote(name, version)
    if old == str(version):
        Console().print(f"{full}: version {version} is already the champion; nothing changed", highlight=False)
        return
    Console().print(f"{full}: champion is now version {version}"
                    + (f" (was {old})" if old else " (there was none)"), highlight=False)
