"""`govml demands ...` — the command-line face of this capability."""

from __future__ import annotations

from pathlib import Path

import typer

HELP = "Demand mining and early warning from resident messages: top demands, classifier, hot issues, surge alerts."

app = typer.Typer(help=HELP, no_args_is_help=True)


# ---- hot issues and alerts (text/hot_issues.py, text/alerts.py) ------------------------------------

def _read_for_text(path, *, text_cols, required, optional=(), encoding=None, sheet=None):
    """Read a message file with the user's column names; check the named columns; parse the time.

    Returns (frame, file name). ``required`` = [(option, column)], ``optional`` columns are kept when
    present. Several ``text_cols`` are joined in order (newline) into a ``_text`` column.
    """
    from govml.errors import DataError, Problem
    from govml.io import parse_datetime, read_table, source_rows

    name = str(path)
    wanted = [*text_cols, *(c for _, c in required), *optional]
    df = read_table(path, encoding=encoding, sheet=sheet, known_columns=[c for c in wanted if c])
    have = list(map(str, df.columns))
    problems = [Problem(name, None, col, f"a column '{col}' (set it with {opt})", found=", ".join(have))
                for opt, col in [*(("--text-col", c) for c in text_cols), *required] if col not in df.columns]
    if problems:
        raise DataError(problems)
    time_col = dict(required).get("--time-col")
    if time_col:
        df[time_col] = parse_datetime(df[time_col], file=name, column=time_col, rows=source_rows(df))
    if text_cols:
        parts = [df[c].astype("string").fillna("") for c in text_cols]
        joined = parts[0]
        for p in parts[1:]:
            joined = joined.str.cat(p, sep="\n")
        df["_text"] = joined
    return df, name


@app.command("hot-issues")
def hot_issues_cmd(
    input: Path = typer.Argument(..., help="Message table (CSV/Excel/Parquet/JSONL; UTF-8 or GBK)."),
    out: Path = typer.Option(..., "--out", help="Where to write the ranked issues (.csv/.xlsx/.parquet)."),
    top: int = typer.Option(20, "--top", help="Keep the N hottest issues (0 = all)."),
    text_col: list[str] = typer.Option(None, "--text-col",
                                       help="Text column(s), repeatable, joined in order; the first is "
                                            "used for places and summaries (e.g. the title). Default: text."),
    id_col: str = typer.Option("id", "--id-col", help="Message id column."),
    time_col: str = typer.Option("created_at", "--time-col", help="Time column."),
    likes_col: str = typer.Option("likes", "--likes-col", help="Likes column (0 when absent)."),
    user_col: str = typer.Option("user_id", "--user-col",
                                 help="User column for distinct users (each message its own user when absent)."),
    window_days: float = typer.Option(90.0, help="Only messages at most this many days apart are linked."),
    min_similarity: float = typer.Option(0.08, help="Text similarity needed to link two messages at one place."),
    encoding: str = typer.Option(None, help="Text encoding of a CSV (detected when omitted)."),
    sheet: str = typer.Option(None, help="Excel sheet name (first sheet when omitted)."),
) -> None:
    """Group messages about the same problem at the same place and rank them by heat.

    Output columns: rank, issue_id, heat, n_messages, first_seen, last_seen, place, summary,
    message_ids (';'-separated, in time order).
    """
    from rich.console import Console
    from rich.table import Table

    from govml import tracking
    from govml.io import write_table
    from govml.text.hot_issues import OUTPUT_COLUMNS, HotIssueFinder

    console = Console()
    text_cols = list(text_col or ["text"])
    df, name = _read_for_text(input, text_cols=text_cols, required=[("--id-col", id_col), ("--time-col", time_col)],
                              optional=[likes_col, user_col], encoding=encoding, sheet=sheet)
    if likes_col not in df.columns:
        console.print(f"[yellow]No '{likes_col}' column: likes count as 0 in the heat index.")
    if user_col not in df.columns:
        console.print(f"[yellow]No '{user_col}' column: each message counts as a distinct user.")
    params = {"window_days": window_days, "min_similarity": min_similarity, "top": top,
              "text_cols": len(text_cols)}
    with console.status(f"Grouping {len(df):,} messages into issues…"):
        finder = HotIssueFinder(text_cols=tuple(text_cols), id_col=id_col, time_col=time_col,
                                likes_col=likes_col if likes_col in df.columns else None,
                                user_col=user_col if user_col in df.columns else None,
                                window_days=window_days, min_similarity=min_similarity).fit(df)
    issues = finder.issues_[OUTPUT_COLUMNS]
    if top:
        issues = issues.head(top)
    write_table(issues, out)
    with tracking.run("demand-alerts", run_name="hot-issues", params=params):
        tracking.log_metrics({"messages": len(df), "issues": len(finder.issues_),
                              "messages_in_issues": int((finder.labels_ >= 0).sum()),
                              "top_heat": float(issues["heat"].iloc[0]) if len(issues) else 0.0})
    table = Table(title=f"Hot issues in {name} (top {min(len(issues), 10)} of {len(finder.issues_)})")
    for c in ("rank", "heat", "n_messages", "last_seen", "place", "summary"):
        table.add_column(c)
    for _, r in issues.head(10).iterrows():
        table.add_row(str(r["rank"]), f"{r['heat']:.2f}", str(r["n_messages"]), str(r["last_seen"])[:10],
                      str(r["place"]), str(r["summary"]))
    console.print(table)
    console.print(f"Wrote {len(issues)} issues to [bold]{out}[/]")


@app.command("alerts")
def alerts_cmd(
    input: Path = typer.Argument(..., help="Message table (CSV/Excel/Parquet/JSONL; UTF-8 or GBK)."),
    out: Path = typer.Option(..., "--out", help="Where to write the alerts (.csv/.xlsx/.parquet)."),
    by: str = typer.Option("community", "--by", help="Group column (community, district, any column)."),
    period: str = typer.Option("W", "--period", help="W (weeks from Monday) or M (calendar months)."),
    label_col: str = typer.Option("category", "--label-col",
                                  help="Category column; when absent only term alerts are made."),
    text_col: list[str] = typer.Option(None, "--text-col",
                                       help="Text column(s) for emerging terms, repeatable. Default: text."),
    time_col: str = typer.Option("created_at", "--time-col", help="Time column."),
    terms: bool = typer.Option(True, "--terms/--no-terms", help="Also flag emerging terms."),
    all_cells: bool = typer.Option(False, "--all-cells", help="Write every tested cell, not only alerts."),
    encoding: str = typer.Option(None, help="Text encoding of a CSV (detected when omitted)."),
    sheet: str = typer.Option(None, help="Excel sheet name (first sheet when omitted)."),
) -> None:
    """Surges per group × category × period and emerging terms, with false-discovery control.

    Output columns: group, period_start, kind (category|term), key, observed, expected,
    score (−log10 BH q-value), p_value, level (关注 watch / 预警 warning / 告警 alarm).
    """
    from rich.console import Console
    from rich.table import Table

    from govml import tracking
    from govml.errors import ConfigError
    from govml.io import write_table
    from govml.text.alerts import OUTPUT_COLUMNS, SurgeDetector

    console = Console()
    period = period.upper()
    if period not in ("W", "M"):
        raise ConfigError(f"--period must be W or M, got {period!r}")
    from govml.io import read_table

    # an explicitly named text column must exist; the default 'text' may be absent (then no terms)
    text_cols = list(text_col or [])
    if terms and not text_cols:
        have = set(map(str, read_table(input, encoding=encoding, sheet=sheet).columns))
        if "text" in have:
            text_cols = ["text"]
        else:
            terms = False
            console.print(f"[yellow]No 'text' column in {input}: category alerts only "
                          "(name the text column(s) with --text-col).")
    df, name = _read_for_text(input, text_cols=text_cols if terms else [],
                              required=[("--by", by), ("--time-col", time_col)], optional=[label_col],
                              encoding=encoding, sheet=sheet)
    has_labels = label_col in df.columns
    if not has_labels:
        if not terms:
            raise ConfigError(f"{name}: no '{label_col}' column (set --label-col) and --no-terms: nothing to test")
        console.print(f"[yellow]No '{label_col}' column in {name}: term alerts only "
                      "(name the category column with --label-col).")
    det = SurgeDetector(by=by, period=period, label_col=label_col if has_labels else None, time_col=time_col,
                        text_col="_text" if terms else None, terms=terms)
    with console.status(f"Testing {len(df):,} messages by {by} × period {period}…"):
        det.fit(df)
    if all_cells:
        res = det.cells_.copy()
        res["expected"] = res["expected"].astype(float).round(3)
        res["score"] = res["score"].astype(float).round(3)
        res["level"] = res["level"].fillna("")
        res = res[OUTPUT_COLUMNS]
    else:
        res = det.alerts_
    write_table(res, out)
    counts = det.alerts_["level"].value_counts()
    params = {"by": by, "period": period, "terms": terms, "has_categories": has_labels}
    with tracking.run("demand-alerts", run_name="alerts", params=params):
        tracking.log_metrics({"messages": len(df), "groups": len(det.groups_), "periods": len(det.periods_),
                              "group_periods": det.n_group_periods_, "cells_tested": len(det.cells_),
                              "alerts_watch": int(counts.get("关注", 0)), "alerts_warning": int(counts.get("预警", 0)),
                              "alerts_alarm": int(counts.get("告警", 0))})
    shown = det.alerts_[det.alerts_["level"].isin(["预警", "告警"])].tail(15)
    table = Table(title=f"Alerts in {name}: 告警 {counts.get('告警', 0)}, 预警 {counts.get('预警', 0)}, "
                        f"关注 {counts.get('关注', 0)} over {det.n_group_periods_} group-periods (latest 15 ≥ 预警)")
    for c in ("group", "period_start", "kind", "key", "observed", "expected", "level"):
        table.add_column(c)
    for _, r in shown.iterrows():
        table.add_row(str(r["group"]), str(r["period_start"])[:10], r["kind"], str(r["key"]), str(r["observed"]),
                      f"{r['expected']:.1f}", r["level"])
    console.print(table)
    console.print(f"Wrote {len(res)} rows to [bold]{out}[/]")
