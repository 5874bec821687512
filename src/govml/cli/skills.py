"""`govml skills ...` — the command-line face of this capability.

Commands: ``score``, ``diagnose`` (gaps, shortfall map, course plans), ``weights`` (entropy /
TOPSIS from data), ``log-append`` and ``verify-log`` (the hash-chained assessment log).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import typer

from govml.cli.options import ENCODING, ENCODING_HELP, SHEET, SHEET_HELP

HELP = "Worker assessment scoring, skill-gap diagnosis and course plans."

app = typer.Typer(help=HELP, no_args_is_help=True)
log = logging.getLogger(__name__)

_CONFIG_HELP = ("Indicator system YAML (default: configs/indicators.yaml under the current folder, else the "
                "copy shipped with govml).")


def _console():
    from rich.console import Console

    return Console()


def _read(path: Path, known: list[str], mapping: list[str] | None = None, encoding: str | None = None,
          sheet: str | None = None) -> Any:
    """Read a table (any format/encoding ``govml.io`` reads) and rename the user's columns.

    Row-level problems are left to the skills checks, which skip bad rows and report them, so one
    bad row does not stop the file (``govml validate`` checks a file on its own).
    """
    from govml.config import parse_map_pairs
    from govml.io import columns_as_typed, read_table

    pairs = parse_map_pairs(mapping) if mapping else {}
    df = read_table(path, encoding=encoding, sheet=sheet, known_columns=known + list(pairs.values()))
    if pairs:
        columns_as_typed(df, list(pairs.values()), str(path))  # --map worker_id="工 号" as the header shows it
        attrs = dict(df.attrs)
        df = df.rename(columns={theirs: ours for ours, theirs in pairs.items()})
        df.attrs.update(attrs)
    return df


def _by_usual_names(df: Any, kind: str) -> tuple[Any, list[str]]:
    """Our columns for their usual header names (工号 → worker_id …): govml.config's table for ``kind`` with the
    names ``configs/columns.yaml`` adds under ``aliases.KIND`` (``govml validate`` reads the same)."""
    from govml.config import alias_columns, header_aliases

    return alias_columns(df, header_aliases(kind))


def _with_notes(prepared: Any, notes: list[str]) -> Any:
    """``notes`` said first (the skills reader says the same notes again when it renames nothing itself)."""
    prepared.notes[:0] = [n for n in notes if n not in prepared.notes]
    return prepared


def _load_assessments(path: Path, system: Any, mapping: list[str] | None = None, encoding: str | None = None,
                      sheet: str | None = None):
    from govml.config import header_aliases
    from govml.skills.assessments import BASE_COLUMNS, OPTIONAL_COLUMNS, prepare_assessments

    known = (BASE_COLUMNS + OPTIONAL_COLUMNS + ["indicator", "score"] + system.indicator_ids
             + [n for names in header_aliases("assessments").values() for n in names] + list(system.names().values()))
    df, notes = _by_usual_names(_read(path, known, mapping, encoding, sheet), "assessments")
    # the reader leaves out (and names) rows whose worker id, community, district or period holds personal data
    return _with_notes(prepare_assessments(df, system, file=str(path)), notes)


def _load_courses(path: Path, system: Any, encoding: str | None = None, sheet: str | None = None) -> Any:
    from govml.config import header_aliases
    from govml.skills import parse_courses

    known = (["course_id", "title", "hours", "cost", "indicators", "prerequisites", "capacity", "mode"]
             + [n for names in header_aliases("courses").values() for n in names])
    df, notes = _by_usual_names(_read(path, known, None, encoding, sheet), "courses")
    return _with_notes(parse_courses(df, system, file=str(path)), notes)


def _report_notes(console: Any, prepared: Any, file: Path) -> None:
    for n in getattr(prepared, "notes", []):
        console.print(f"{file}: {n}", highlight=False, soft_wrap=True)



def _report_skipped(console: Any, prepared: Any, what: str = "assessments") -> None:
    if prepared.skipped:
        console.print(f"[yellow]{len(prepared.skipped)} problem(s) in the {what}; the rest was processed:[/]")
        for p in prepared.skipped[:15]:
            console.print(f"  - {p}", highlight=False, soft_wrap=True)
        if len(prepared.skipped) > 15:
            console.print(f"  - ... and {len(prepared.skipped) - 15} more")


def _report_missing(console: Any, prepared: Any) -> None:
    m = prepared.missing
    if len(m):
        workers = sorted(m["worker_id"].astype(str).unique())
        shown = ", ".join(workers[:10]) + (" ..." if len(workers) > 10 else "")
        console.print(f"[yellow]{len(m)} missing indicator value(s) for {len(workers)} worker(s) ({shown}); "
                      "scores average the indicators present, gaps skip them[/]", highlight=False)


_WEIGHTS_HELP = ("Indicator weights within dimensions: 'config' (the YAML, default) or 'entropy' (熵权法 from "
                 "the data of the latest period; dimension weights stay as configured).")


def _apply_weights(system: Any, data: Any, how: str, console: Any = None) -> Any:
    """The system with entropy weights from the data when ``how == 'entropy'``."""
    from govml.errors import ConfigError

    if how == "config":
        return system
    if how != "entropy":
        raise ConfigError(f"--weights must be 'config' or 'entropy', got {how!r}")
    from govml.skills import entropy_weights

    cur = data.loc[data["period"] == data["period"].max(), system.indicator_ids]
    cur = cur.loc[:, cur.notna().any()]
    ew = entropy_weights(cur, {i.id: i.direction for i in system.indicators})
    if console is not None:
        top = ", ".join(f"{k} {v:.3f}" for k, v in ew.sort_values(ascending=False).head(3).items())
        console.print(f"entropy weights from {len(cur.dropna())} complete rows (highest: {top})")
    return system.with_indicator_weights(ew.to_dict())


def _write(df: Any, path: Path) -> Path:
    from govml.io import write_table

    return write_table(df, path)


def _log_text(path: Path) -> str:
    """A log or head file's text; one that is not UTF-8 (not written by govml) is a clear error."""
    from govml.errors import DataError

    if path.is_dir():
        raise DataError(message=f"{path}: is a folder, expected the log file (JSON Lines)")
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(message=f"{path}: line {line}: byte 0x{raw[e.start]:02x} is not UTF-8 — not a log written by "
                                "govml (its entries are UTF-8 JSON Lines)") from None


def _head_json(path: Path) -> Any:
    import json

    from govml.errors import DataError

    try:
        return json.loads(_log_text(path))
    except ValueError:
        raise DataError(message=f"{path}: not a head file (JSON with seq and hash)") from None


def _check_outputs(tables: list[Path | None] = (), figures: list[Path | None] = (),
                   log_path: Path | None = None) -> None:
    """Refuse, before any file is written, an output that would be refused after others were: a table or
    figure path that cannot be written, a figure suffix matplotlib cannot write, a log that is not intact."""
    from govml.io import check_output_path
    from govml.plots import check_figure_path

    for t in tables:
        if t is not None:
            check_output_path(t)
    for f in figures:
        if f is not None:
            check_figure_path(f)
    if log_path is not None:
        check_output_path(log_path, table=False)
        _intact_log(log_path)


def _intact_log(log_path: Path) -> Any:
    """The verdict on the log (and its head file); a log that is not intact is refused."""
    from govml.errors import DataError
    from govml.skills import ledger

    lines = _log_text(log_path).splitlines() if log_path.exists() else []
    head_path = log_path.with_name(log_path.name + ".head")
    head = _head_json(head_path) if head_path.exists() else None
    verdict = ledger.verify(lines, head=head)
    if not verdict.intact:
        raise DataError(message=f"{log_path}: the log is not intact, refusing to append ({verdict.first_broken}); "
                                f"run `govml skills verify-log {log_path}`")
    return verdict


def _canonical_period(period: str | None) -> str | None:
    """--period as the data's periods are written after reading (2024年第四季度 → 2024Q4)."""
    from govml.skills.readings import canonical_period

    return None if period is None else canonical_period(period)[0]


def _say_resubmissions(log_path: Path, payloads: list[dict], repeats: list[tuple[int, int, bool]]) -> None:
    """Say which worker-periods the log already holds (appended all the same: the log keeps every submission)."""
    if not repeats:
        return
    same = sum(1 for *_, ident in repeats if ident)
    k, seq, _ = repeats[0]
    ex = f"{payloads[k].get('worker_id')} {payloads[k].get('period')} (seq {seq})"
    _console().print(
        f"[yellow]{len(repeats)} of {len(payloads)} worker-periods are already in {log_path.name}, e.g. {ex}; "
        f"{same} with the same scores: appended as new submissions (the log keeps every "
        "submission)[/]", highlight=False)


def _append_log(log_path: Path, data: Any, indicators: list[str], source: str) -> tuple[int, dict]:
    """Append one entry per worker-period to the JSON Lines log; refuse to append to a broken log."""
    import json

    from govml.skills import ledger

    verdict = _intact_log(log_path)
    head_path = log_path.with_name(log_path.name + ".head")
    payloads = ledger.assessment_payloads(data, indicators, source=source)
    if verdict.n_entries:
        _say_resubmissions(log_path, payloads, ledger.resubmissions(_log_text(log_path).splitlines(), payloads))
    entries = ledger.build_entries(payloads, last=verdict.last)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as fh:
        for e in entries:
            fh.write(ledger.entry_line(e) + "\n")
        fh.flush()
        import os

        os.fsync(fh.fileno())
    new_head = ledger.head_of(entries[-1] if entries else verdict.last)
    if new_head is not None:
        from govml.io import atomic_path

        with atomic_path(head_path) as tmp:
            tmp.write_text(json.dumps(new_head) + "\n", encoding="utf-8")
    return len(entries), new_head or {}


# ---------------------------------------------------------------------------------------------------
# score


@app.command("score")
def score_cmd(
    assessments: Path = typer.Argument(..., help="Assessment table (wide: one column per indicator; or long: "
                                       "indicator + score). CSV/Excel/Parquet/JSONL, UTF-8 or GBK."),
    out: Path = typer.Option(..., "--out", help="Scores table to write (.csv/.xlsx/.parquet)."),
    config: Path = typer.Option(None, "--config", help=_CONFIG_HELP),
    log_file: Path = typer.Option(None, "--log", help="Also append each assessment to this hash-chained log "
                                  "(JSON Lines)."),
    map_col: list[str] = typer.Option(None, "--map", help="Column mapping ours=yours, repeatable."),
    encoding: str = ENCODING,
    weights: str = typer.Option("config", "--weights", help=_WEIGHTS_HELP),
    sheet: str = SHEET,
    track: bool = typer.Option(True, "--track/--no-track", help="Record the run in MLflow."),
) -> None:
    """Composite (0-100), dimension scores and red/yellow cards per worker and period."""
    from govml.skills import IndicatorNormaliser, load_indicator_system, score_assessments

    console = _console()
    _check_outputs([out], log_path=log_file)  # nothing is written when one output would be refused
    system = load_indicator_system(config)
    prepared = _load_assessments(assessments, system, map_col, encoding, sheet)
    _report_notes(console, prepared, assessments)
    _report_skipped(console, prepared)
    _report_missing(console, prepared)
    system = _apply_weights(system, prepared.data, weights, console)
    norm = IndicatorNormaliser(system).fit(prepared.data)
    scores = score_assessments(prepared.data, system, norm)
    _write(scores, out)
    latest = scores.loc[scores["period"] == scores["period"].max()]
    counts = latest["card"].value_counts().to_dict()
    console.print(f"scored {scores['worker_id'].nunique()} workers × {scores['period'].nunique()} periods → {out}")
    console.print(f"latest period {latest['period'].iloc[0]}: mean composite {latest['composite'].mean():.1f}; "
                  f"red cards {counts.get('red', 0)}, yellow {counts.get('yellow', 0)}")
    if log_file is not None:
        n, head = _append_log(log_file, prepared.data, system.indicator_ids, assessments.name)
        console.print(f"appended {n} entries to {log_file} (head seq {head.get('seq')})")
    if track:
        from govml import tracking

        with tracking.run("skills", run_name="score", params={"config": str(config or "default"), "weights": weights,
                                                               "assessments": assessments.name}):
            tracking.log_metrics({"workers": scores["worker_id"].nunique(), "rows": len(scores),
                                  "mean_composite_latest": float(latest["composite"].mean()),
                                  "red_cards_latest": counts.get("red", 0), "yellow_cards_latest": counts.get("yellow", 0),
                                  "skipped_problems": len(prepared.skipped), "missing_values": len(prepared.missing)})


# ---------------------------------------------------------------------------------------------------
# diagnose


def run_diagnose(assessments: Path, courses: Path, out: Path, *, config: Path | None = None,
                 budget_hours: float | None = None, budget_cost: float | None = None, gaps_out: Path | None = None,
                 map_out: Path | None = None, period: str | None = None, method: str = "milp",
                 map_by: str = "community", cohort_out: Path | None = None, n_jobs: int = 1, track: bool = True,
                 quiet: bool = False, mapping: list[str] | None = None, weights: str = "config",
                 encoding: str | None = None, sheet: str | None = None) -> dict[str, Any]:
    """The work of ``govml skills diagnose`` (also used by the demo step). Returns a summary."""
    from govml.errors import ConfigError
    from govml.skills import (
        GAP_COLUMNS,
        IndicatorNormaliser,
        cohort_view,
        diagnose_gaps,
        load_indicator_system,
        plan_courses,
        shortfall_matrix,
    )

    console = _console()
    say = (lambda *a, **k: None) if quiet else console.print
    _check_outputs([out, gaps_out, cohort_out], [map_out])  # nothing is written when one output would be refused
    period = _canonical_period(period)
    system = load_indicator_system(config)
    prepared = _load_assessments(assessments, system, mapping, encoding, sheet)
    if not quiet:
        _report_notes(console, prepared, assessments)
        _report_skipped(console, prepared)
        _report_missing(console, prepared)
    system = _apply_weights(system, prepared.data, weights, None if quiet else console)
    catalog = _load_courses(courses, system, encoding)
    if not quiet:
        _report_notes(console, catalog, courses)
    if catalog.skipped and not quiet:
        console.print(f"[yellow]{len(catalog.skipped)} problem(s) in the course catalog; the rest was used:[/]")
        for p in catalog.skipped[:10]:
            console.print(f"  - {p}", highlight=False, soft_wrap=True)
    norm = IndicatorNormaliser(system).fit(prepared.data)
    gaps = diagnose_gaps(prepared.data, system, norm)
    periods = sorted(gaps["period"].astype(str).unique())
    period = period or periods[-1]
    if period not in periods:
        raise ConfigError(f"--period {period!r}: not in the data (periods: {', '.join(periods)})")
    current = gaps.loc[gaps["period"] == period]
    if budget_hours is None and budget_cost is None:
        say("[yellow]no --budget-hours or --budget-cost: every course that closes some gap may be planned[/]")
    plan, summary = plan_courses(current, catalog, system, budget_hours=budget_hours, budget_cost=budget_cost,
                                 method=method, n_jobs=n_jobs)
    _write(plan, out)
    written = [out]
    if gaps_out is not None:
        _write(gaps[GAP_COLUMNS].round({"score": 3, "target": 3, "gap": 3, "peer_percentile": 1}), gaps_out)
        written.append(gaps_out)
    if cohort_out is not None:
        _write(cohort_view(plan, catalog), cohort_out)
        written.append(cohort_out)
    fig = None
    if map_out is not None or track:
        from govml import plots

        mat = shortfall_matrix(gaps, by=map_by, period=period, names=system.names())
        label = {"community": "社区", "district": "区县", "worker_id": "社区工作者"}.get(map_by, map_by)
        fig = plots.heatmap(mat, title=f"能力短板图（{period}，低于目标的分值，0–100 分制）", fmt="{:.0f}",
                            colorbar_label="平均短板（分）", ylabel=label)
    if track:  # before saving: save_figure closes the figure
        from govml import tracking

        _track_diagnose(tracking, system, prepared, current, summary, plan, period, method, budget_hours,
                        budget_cost, fig, weights)
    if map_out is not None:
        from govml import plots

        plots.save_figure(fig, map_out)  # closes the figure
        written.append(map_out)
    elif fig is not None:
        import matplotlib.pyplot as plt

        plt.close(fig)
    status = summary["status"].value_counts().to_dict()
    flagged = int(current["flagged"].sum())
    res = {"period": period, "workers": int(summary.shape[0]), "flagged_shortfalls": flagged,
           "workers_planned": int(status.get("planned", 0)), "courses_planned": int(len(plan)),
           "objective": float(summary["objective"].sum()), "upper_bound": float(summary["upper_bound"].sum()),
           "hours": float(summary["hours"].sum()), "cost": float(summary["cost"].sum()), "status": status,
           "written": written, "skipped": len(prepared.skipped) + len(catalog.skipped),
           "missing_values": int(len(prepared.missing))}
    say(f"period {period}: {flagged} persistent shortfalls flagged; {res['workers_planned']} of {res['workers']} "
        f"workers get a plan ({len(plan)} course places, {res['hours']:.0f} h, cost {res['cost']:.0f}); "
        f"weighted gap closed {res['objective']:.1f} of {res['upper_bound']:.1f}")
    for k, v in status.items():
        if k not in ("planned", "no_gaps"):
            say(f"[yellow]{v} worker(s): {k.replace('_', ' ')}[/]")
    say("written: " + ", ".join(map(str, written)))
    return res


def _track_diagnose(tracking: Any, system: Any, prepared: Any, current: Any, summary: Any, plan: Any,
                    period: str, method: str, budget_hours: float | None, budget_cost: float | None, fig: Any,
                    weights: str = "config") -> None:
    with tracking.run("skills", run_name="diagnose", params={
            "period": period, "method": method, "budget_hours": budget_hours, "budget_cost": budget_cost,
            "indicators": len(system.indicator_ids), "weights": weights}):
        tracking.log_dict({a: system.overall_weights(a) for a in system.area_types}, "indicator_weights.json")
        tracking.log_params({"data": tracking.data_fingerprint(prepared.data, category_cols=("district", "area_type"))})
        tracking.log_metrics({
            "workers": summary.shape[0], "flagged_shortfalls": int(current["flagged"].sum()),
            "workers_planned": int((summary["status"] == "planned").sum()), "course_places": len(plan),
            "objective": float(summary["objective"].sum()), "upper_bound": float(summary["upper_bound"].sum()),
            "hours": float(summary["hours"].sum()), "cost": float(summary["cost"].sum()),
            "missing_values": len(prepared.missing), "skipped_problems": len(prepared.skipped)})
        if fig is not None:
            tracking.log_figure(fig, "shortfall_map.png")


@app.command("diagnose")
def diagnose_cmd(
    assessments: Path = typer.Argument(..., help="Assessment table (wide or long form)."),
    courses: Path = typer.Option(..., "--courses", help="Course catalog (course_id, title, hours, cost, indicators "
                                 "as id:strength;..., prerequisites, capacity)."),
    out: Path = typer.Option(..., "--out", help="Plan to write: worker_id, course_id, hours, cost, indicators, "
                             "gap_closed, reason."),
    config: Path = typer.Option(None, "--config", help=_CONFIG_HELP),
    budget_hours: float = typer.Option(None, "--budget-hours", help="Training hours per worker."),
    budget_cost: float = typer.Option(None, "--budget-cost", help="Training cost per worker (yuan)."),
    gaps_out: Path = typer.Option(None, "--gaps-out", help="Gap table for every period: worker_id, period, "
                                  "dimension, indicator, score, target, gap, peer_percentile, periods_below."),
    map_out: Path = typer.Option(None, "--map-out", help="Shortfall map (heatmap, .png/.svg) of the planned period."),
    period: str = typer.Option(None, "--period", help="Period to plan for (default: the latest)."),
    method: str = typer.Option("milp", "--method", help="milp (optimal, default) or greedy (ratio rule)."),
    map_by: str = typer.Option("community", "--map-by", help="Rows of the map: community, district or worker_id."),
    cohort_out: Path = typer.Option(None, "--cohort-out", help="Cohort view: courses to run, enrolled, sessions."),
    n_jobs: int = typer.Option(1, "--n-jobs", help="Processes for planning (large workforces)."),
    map_col: list[str] = typer.Option(None, "--map", help="Column mapping ours=yours, repeatable."),
    weights: str = typer.Option("config", "--weights", help=_WEIGHTS_HELP),
    encoding: str = typer.Option(None, "--encoding", help=ENCODING_HELP + " Of every CSV given."),
    sheet: str = typer.Option(None, "--sheet", help=SHEET_HELP + " Of the assessments."),
    track: bool = typer.Option(True, "--track/--no-track", help="Record the run in MLflow."),
) -> None:
    """Gap diagnosis per worker and indicator, the shortfall map, and optimal course plans."""
    from govml.errors import ConfigError

    if map_by not in ("community", "district", "worker_id"):
        raise ConfigError(f"--map-by must be community, district or worker_id, got {map_by!r}")
    run_diagnose(assessments, courses, out, config=config, budget_hours=budget_hours, budget_cost=budget_cost,
                 gaps_out=gaps_out, map_out=map_out, period=period, method=method, map_by=map_by,
                 cohort_out=cohort_out, n_jobs=n_jobs, track=track, mapping=map_col, weights=weights,
                 encoding=encoding, sheet=sheet)


# ---------------------------------------------------------------------------------------------------
# weights


@app.command("weights")
def weights_cmd(
    assessments: Path = typer.Argument(..., help="Assessment table."),
    config: Path = typer.Option(None, "--config", help=_CONFIG_HELP),
    period: str = typer.Option(None, "--period", help="Period to use (default: the latest)."),
    out: Path = typer.Option(None, "--out", help="Write the weight table here (.csv/.xlsx)."),
    ranking_out: Path = typer.Option(None, "--ranking-out", help="Write the TOPSIS ranking of workers here."),
    map_col: list[str] = typer.Option(None, "--map", help="Column mapping ours=yours, repeatable."),
    encoding: str = ENCODING,
    sheet: str = SHEET,
) -> None:
    """Entropy weights (熵权法) of the indicators from the data, beside the configured weights; TOPSIS ranking."""
    import pandas as pd
    from rich.table import Table

    from govml.errors import ConfigError
    from govml.skills import entropy_weights, load_indicator_system, topsis

    console = _console()
    _check_outputs([out, ranking_out])  # nothing is written when one output would be refused
    system = load_indicator_system(config)
    prepared = _load_assessments(assessments, system, map_col, encoding, sheet)
    _report_notes(console, prepared, assessments)
    _report_skipped(console, prepared)
    data = prepared.data
    periods = sorted(data["period"].astype(str).unique())
    period = _canonical_period(period) or periods[-1]
    if period not in periods:
        raise ConfigError(f"--period {period!r}: not in the data (periods: {', '.join(periods)})")
    cur = data.loc[data["period"] == period].set_index("worker_id")
    directions = {i.id: i.direction for i in system.indicators}
    present = [c for c in system.indicator_ids if cur[c].notna().any()]  # a column absent from the file
    ew = entropy_weights(cur[present], directions)
    cw = pd.Series(system.overall_weights(system.default_area_type))
    names = system.names()
    table = pd.DataFrame({"indicator": ew.index, "name": [names[i] for i in ew.index],
                          "entropy_weight": ew.to_numpy(), "config_weight": cw[ew.index].to_numpy()})
    t = Table(title=f"indicator weights ({period}, {len(cur.dropna())} complete rows)")
    for c in ("indicator", "name", "entropy", "configured"):
        t.add_column(c)
    for r in table.itertuples():
        t.add_row(r.indicator, r.name, f"{r.entropy_weight:.3f}", f"{r.config_weight:.3f}")
    console.print(t)
    if out is not None:
        _write(table, out)
    rank = topsis(cur[present], ew, directions).sort_values("rank")
    console.print("TOPSIS (entropy weights), top 5: " + ", ".join(f"{w} ({c:.3f})" for w, c in
                                                                   rank["closeness"].head(5).items()))
    if ranking_out is not None:
        _write(rank.reset_index(), ranking_out)


# ---------------------------------------------------------------------------------------------------
# the hash-chained log


@app.command("log-append")
def log_append_cmd(
    log_file: Path = typer.Argument(..., help="The JSON Lines log (created if missing)."),
    assessments: Path = typer.Argument(..., help="Assessment table whose rows are submitted."),
    config: Path = typer.Option(None, "--config", help=_CONFIG_HELP),
    map_col: list[str] = typer.Option(None, "--map", help="Column mapping ours=yours, repeatable."),
    encoding: str = ENCODING,
    sheet: str = SHEET,
) -> None:
    """Append one entry per worker and period to the tamper-evident log (refuses a tampered log)."""
    from govml.skills import load_indicator_system

    console = _console()
    _check_outputs(log_path=log_file)  # a broken log is refused before the table is read
    system = load_indicator_system(config)
    prepared = _load_assessments(assessments, system, map_col, encoding, sheet)
    _report_notes(console, prepared, assessments)
    _report_skipped(console, prepared)
    n, head = _append_log(log_file, prepared.data, system.indicator_ids, assessments.name)
    console.print(f"appended {n} entries to {log_file}; head: seq {head.get('seq')}, "
                  f"hash {str(head.get('hash', ''))[:16]}… (also in {log_file.name}.head)")


@app.command("verify-log")
def verify_log_cmd(
    log_file: Path = typer.Argument(..., help="The JSON Lines log."),
    head: Path = typer.Option(None, "--head", help="Head file ({seq, hash}) kept elsewhere; default "
                              "LOG.head when it exists. Needed to detect truncation."),
) -> None:
    """Verify the hash chain: exit 0 if intact, 1 if tampered (says which entries)."""

    from govml.errors import DataError
    from govml.skills import ledger

    console = _console()
    if not log_file.exists():
        raise DataError(message=f"{log_file}: file not found")
    head_path = head or log_file.with_name(log_file.name + ".head")
    head_data = None
    if head_path.exists():
        head_data = _head_json(head_path)
    elif head is not None:
        raise DataError(message=f"{head}: file not found")
    verdict = ledger.verify(_log_text(log_file).splitlines(), head=head_data)
    if verdict.intact:
        console.print(f"[green]{log_file}: {verdict.summary()}[/]"
                      + ("" if head_data else " (no head file: entries cut from or added at the end cannot be seen)"))
        raise typer.Exit(0)
    console.print(f"[bold red]{log_file}: {verdict.summary()}[/]", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------------
# demo


def demo_step(ctx: Any) -> list[Path]:
    """Score, diagnose and plan on the sample assessments; write the map, plans and a verified log."""
    samples = Path(ctx.samples_dir)
    a, c = samples / "assessments.csv", samples / "courses.csv"
    if not (a.exists() and c.exists()):
        _console().print(f"[yellow]skills: {a} or {c} missing; step skipped[/]")
        return []
    from govml.io import write_table
    from govml.skills import (
        IndicatorNormaliser,
        ledger,
        load_indicator_system,
        score_assessments,
        workforce_drivers,
    )

    system = load_indicator_system(None)
    prepared = _load_assessments(a, system)
    norm = IndicatorNormaliser(system).fit(prepared.data)
    scores = score_assessments(prepared.data, system, norm)
    written = [write_table(scores, ctx.report_path("skills", "scores.csv"))]
    res = run_diagnose(a, c, ctx.report_path("skills", "plan.csv"), budget_hours=24.0,
                       gaps_out=ctx.report_path("skills", "gaps.csv"), map_out=ctx.report_path("skills", "shortfall_map.png"),
                       cohort_out=ctx.report_path("skills", "cohort.csv"), track=True)
    written += res["written"]
    drivers = workforce_drivers(norm.transform(prepared.data), scores["composite"], system)
    written.append(write_table(drivers, ctx.report_path("skills", "drivers.csv")))
    log_path = ctx.report_path("skills", "assessment_log.jsonl")
    for p in (log_path, log_path.with_name(log_path.name + ".head")):
        if p.exists():
            p.unlink()
    _append_log(log_path, prepared.data, system.indicator_ids, a.name)
    verdict = ledger.verify(log_path.read_text(encoding="utf-8").splitlines())
    _console().print(f"assessment log: {verdict.summary()}")
    written.append(log_path)
    ctx.outputs["skills"] = {k: v for k, v in res.items() if k != "written"}
    return written
