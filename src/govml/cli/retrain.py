"""`govml retrain` and `govml schedule`: the scheduled pipeline's face (see govml.retrain)."""

from __future__ import annotations

from pathlib import Path

import typer

DEFAULT_CONFIG = Path("configs/retrain.yaml")


def summary_table(report) -> object:
    """A rich table of a :class:`govml.retrain.RetrainReport`: metrics side by side, decision, reason."""
    from rich.table import Table

    colours = {"promoted": "green", "would-promote": "green", "kept": "yellow", "would-keep": "yellow",
               "refused": "red", "failed": "red"}
    t = Table(title="govml retrain" + (" (dry run)" if report.dry_run else ""), show_lines=True)
    for col in ("model", "data", "metric", "challenger", "champion", "decision"):
        t.add_column(col, overflow="fold", ratio=1)
    t.add_column("reason", overflow="fold", ratio=3, min_width=24)
    for o in report.outcomes:
        ch, cm = o.challenger.get(o.metric), o.champion.get(o.metric)
        arrow = "↑" if o.greater_is_better else "↓"
        t.add_row(
            o.registered_name,
            (f"{Path(o.data_file).name}" + ("" if o.rows is None else f"\n{o.rows} rows")) if o.data_file else "-",
            f"{o.metric} {arrow}" if o.metric else "-",
            ("-" if ch is None else f"{ch:.4f}") + (f"\nv{o.challenger_version}" if o.challenger_version else ""),
            ("-" if cm is None else f"{cm:.4f}") + (f"\nv{o.champion_version}" if o.champion_version else ""),
            f"[{colours.get(o.decision, 'white')}]{o.decision}[/]",
            o.reason,
        )
    return t


def summary_lines(report) -> list[str]:
    """The summary as plain lines, for a log file (cron, systemd): one block per model, nothing cut.

    (A table is cut to the terminal width — 80 columns when the output is a file — and the reasons lost words.)
    """
    lines = []
    for o in report.outcomes:
        ch, cm = o.challenger.get(o.metric), o.champion.get(o.metric)
        arrow = "higher is better" if o.greater_is_better else "lower is better"
        lines.append(f"{o.registered_name}: {o.decision} — {o.reason}")
        data = f"{Path(o.data_file).name}" + ("" if o.rows is None else f" ({o.rows} rows)") if o.data_file else "-"
        score = (f"; {o.metric} ({arrow}): challenger {'-' if ch is None else f'{ch:.4f}'}"
                 f"{f' v{o.challenger_version}' if o.challenger_version else ''}, champion "
                 f"{'-' if cm is None else f'{cm:.4f}'}") if o.metric else ""
        champ = f" v{o.champion_version}" if o.champion_version else " none"
        lines.append(f"  data {data}{score}; champion before this run:{champ}")
    return lines


def run_retrain(config: Path, models: list[str] | None, dry_run: bool, scheduled: bool,
                console=None) -> int:
    """Run a retrain, print the summary; returns the exit code (see govml.retrain)."""
    import datetime as dt
    import os

    from rich.console import Console

    from govml import retrain, tracking
    from govml.cli import _state

    if _state.get("debug"):  # `govml --debug retrain`: the library shows a failed model's traceback too
        os.environ["GOVML_DEBUG"] = "1"
    console = console or Console()
    new_store = tracking.is_embedded() and not (tracking.home() / "mlruns" / "mlflow.db").exists()
    if scheduled:
        os.environ["GOVML_SCHEDULED"] = "1"
    with console.status("retraining…") as status:
        report = retrain.retrain(config, only=models or None, dry_run=dry_run, scheduled=scheduled or None,
                                 progress=lambda msg: status.update(f"retraining: {msg}"))
    if console.is_terminal:
        console.print(summary_table(report))
    else:  # a log file: plain lines, never cut to a width
        stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        console.print(f"govml retrain {stamp}{' (dry run)' if report.dry_run else ''}"
                      f"{' (scheduled)' if report.scheduled else ''}", highlight=False, soft_wrap=True)
        for line in summary_lines(report):
            console.print(line, highlight=False, soft_wrap=True, markup=False)
    console.print(f"MLflow: {tracking.tracking_uri()}  run {report.run_id}  "
                  f"(exit code {report.exit_code})", highlight=False, soft_wrap=True)
    if new_store:
        console.print(f"note: this run created a new, empty MLflow store at {tracking.tracking_uri()} — no "
                      "champion was known. If your models are in another store, run from the project folder "
                      "(cron: `cd /srv/govml && govml retrain …`) or set GOVML_HOME.", highlight=False,
                      soft_wrap=True, markup=False)
    return report.exit_code


def register(app: typer.Typer) -> None:
    """Add `govml retrain` and `govml schedule` to the root app."""

    @app.command("retrain")
    def retrain_cmd(
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", "-c", help="Retrain YAML (see configs/retrain.yaml)."),
        model: list[str] = typer.Option(None, "--model", "-m", help="Only this model key (repeatable)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Train and compare, but register and promote nothing."),
        scheduled: bool = typer.Option(False, "--scheduled", help="Tag the runs as scheduled (govml.scheduled=true)."),
    ) -> None:
        """Retrain the enabled models on the newest data; promote a challenger only when it beats the champion.

        Exit codes: 0 at least one model promoted; 3 every champion kept; 1 a model failed, its
        data was refused or the MLflow store is unreachable; 4 another retrain is running (lock);
        2 bad configuration or usage.
        """
        raise typer.Exit(run_retrain(config, model, dry_run, scheduled))

    @app.command("schedule")
    def schedule_cmd(
        every: str = typer.Option("weekly", "--every", help="hourly, daily or weekly."),
        at: str = typer.Option("03:00", "--at", help="HH:MM, local time (hourly uses the minutes)."),
        day: str = typer.Option("mon", "--day", help="Day of the week for weekly (mon … sun)."),
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", "-c", help="Retrain YAML."),
        model: list[str] = typer.Option(None, "--model", "-m", help="Only this model key (repeatable)."),
        now: bool = typer.Option(False, "--now", help="Also run one retrain right away."),
        cron: bool = typer.Option(False, "--cron", help="Print the crontab line for this schedule and exit "
                                  "(absolute paths, quoted; add it with `crontab -e`)."),
        log: Path = typer.Option(Path("logs/retrain.log"), "--log", help="With --cron: the log file the line "
                                 "appends to (relative to the current folder)."),
    ) -> None:
        """Run `govml retrain --scheduled` on a schedule, in the foreground, until Ctrl-C (for places without cron);
        `--cron` prints the crontab line instead."""
        from rich.console import Console

        from govml import retrain
        from govml.errors import ConfigError

        console = Console()
        if not config.is_file():
            raise ConfigError(f"{config}: retrain config not found")
        retrain.prepare(retrain.load_config(config), model or None)  # fail now, not at every tick
        trigger = retrain.make_trigger(every, at, day)
        line = retrain.cron_line(every, at, day, config, model, log)
        if cron:  # the line alone on stdout: `(crontab -l; govml schedule --cron) | crontab -` works too
            print(line)
            return
        times = retrain.next_fire_times(trigger, 3)
        console.print(f"govml schedule: `govml retrain --config {config} --scheduled` {every}; next runs: "
                      + ", ".join(t.strftime("%Y-%m-%d %H:%M %Z") for t in times), highlight=False)
        console.print("Stop with Ctrl-C. Each run is a separate process; its runs are tagged govml.scheduled=true.")
        console.print("With cron instead (`crontab -e`), this line (`govml schedule … --cron` prints it alone):",
                      highlight=False)
        console.print(line, highlight=False, markup=False, soft_wrap=True)

        def report_tick(rc: int) -> None:
            console.print(f"scheduled retrain finished: exit code {rc}; next: "
                          f"{retrain.next_fire_times(trigger, 1)[0]:%Y-%m-%d %H:%M %Z}", highlight=False)

        if now:
            report_tick(retrain.scheduled_tick(config.resolve(), model))
        try:
            retrain.serve_schedule(trigger, config, model, on_tick=report_tick)
        except (KeyboardInterrupt, SystemExit):
            console.print("schedule stopped")


def demo_step(ctx) -> list[Path]:
    """Retrain twice on the sample data into the local store; show the runs and the registry."""
    import mlflow
    import yaml
    from rich.console import Console

    from govml import retrain, tracking
    from govml.cli.models import models_table
    from govml.io import write_json

    console = Console()
    config = DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else Path(ctx.samples_dir).resolve().parent / DEFAULT_CONFIG
    if not config.is_file():  # a district's own folder, run from elsewhere: the project's configs/retrain.yaml
        from govml.config import config_path

        config = config_path(DEFAULT_CONFIG.name)
    cfg = retrain.load_config(config)
    samples = Path(ctx.samples_dir).resolve()
    for key, spec in cfg.models.items():  # point every model at its file in the sample folder
        files = [samples / Path(p).name for p in spec.data if Path(p).parent.name == "data_samples"]
        spec.data = [str(f) for f in files if f.exists()]
        if not spec.data:
            spec.enabled = False
            console.print(f"[yellow]{key}: no sample data ({', '.join(f.name for f in files) or '-'}); skipped[/]")
        if ctx.quick and key == "hotspot-forecaster":
            spec.params.update(n_origins=2, n_estimators=60)
        if ctx.quick and key == "demand-classifier" and spec.data:  # the last 26 weeks only
            spec.data = [str(ctx.last_weeks(Path(spec.data[0]), "tracking"))]
    config_path = ctx.report_path("tracking", "retrain.demo.yaml")
    dumped = cfg.model_dump()
    for spec in dumped["models"].values():  # optional keys left out when unset (the file reads as before)
        for k in ("sheet", "encoding"):
            if spec.get(k) is None:
                spec.pop(k, None)
    config_path.write_text(yaml.safe_dump(dumped, allow_unicode=True, sort_keys=False), encoding="utf-8")
    if not any(s.enabled for s in cfg.models.values()):  # the demo says "skipped", not ✓ (cli/demo.py)
        if hasattr(ctx, "skip"):
            ctx.skip("tracking", "no model to retrain (each was disabled or had no sample data); only the demo's "
                                 f"config {config_path.name} was written")
        return [config_path]

    reports = []
    for i in (1, 2):
        console.print(f"[bold]retrain {i} of 2[/]")
        report = retrain.retrain(cfg)
        console.print(summary_table(report))
        reports.append(report.to_dict())
    summary = ctx.report_path("tracking", "retrain_summary.json")
    write_json(reports, summary)

    exp = mlflow.get_experiment_by_name(tracking.experiment_name(retrain.EXPERIMENT))
    runs = mlflow.search_runs([exp.experiment_id], max_results=10, order_by=["start_time DESC"],
                              filter_string="tags.`govml.kind` = 'retrain'")
    console.print(f"MLflow store: {tracking.tracking_uri()} — latest retrain runs:", highlight=False)
    cols = [c for c in ("run_id", "start_time", "tags.govml.exit_code", "tags.govml.decisions") if c in runs]
    console.print(runs[cols].head(4).to_string(index=False), highlight=False)
    console.print(models_table())
    ctx.outputs["tracking"] = reports
    return [config_path, summary]
