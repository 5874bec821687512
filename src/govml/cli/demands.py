"""`govml demands ...` — the command-line face of this capability."""

from __future__ import annotations

from pathlib import Path

import typer

from govml.cli.options import ENCODING, SHEET

HELP = "Demand mining and early warning from resident messages: top demands, classifier, hot issues, surge alerts."

app = typer.Typer(help=HELP, no_args_is_help=True)


# ---- hot issues and alerts (text/hot_issues.py, text/alerts.py) ------------------------------------

def _read_for_text(path, *, text_cols, required, optional=(), encoding=None, sheet=None):
    """Read a message file with the user's column names; check the named columns; parse the time.

    Returns (frame, file name). ``required`` = [(option, column)], ``optional`` columns are kept when
    present. Several ``text_cols`` are joined in order (newline) into a ``_text`` column. Rows whose
    time (``--time-col`` in ``required``) is empty or unreadable are left out with a warning that counts
    them and names their rows (a column with no readable time at all is an error); a file with no data
    rows is an error.

    A column left at its canonical default (``text``, ``id``, ``created_at``, ``likes``, ...) that the
    file lacks is looked for under the names of known exports (:func:`govml.config.guess_column`:
    the profiles in configs/columns.yaml, then common names such as 留言详情 / 留言时间): a recognised
    column is copied under the canonical name, and a recognised title + text pair replaces the default
    ``text_cols`` in place (title first), so ``govml demands hot-issues 附件3.xlsx --out hot.csv`` works on
    the export as released. Every such choice is printed; naming the column with its option overrides it.
    """
    from rich.console import Console

    from govml.config import COLUMN_ALIASES, guess_column
    from govml.errors import DataError, Problem
    from govml.io import bad_times, columns_as_typed, read_table

    name = str(path)
    wanted = [*text_cols, *(c for _, c in required), *optional]
    hints = [a for c in wanted if c in COLUMN_ALIASES for a in COLUMN_ALIASES[c]]
    if text_cols == ["text"]:
        hints += list(COLUMN_ALIASES["title"])
    df = read_table(path, encoding=encoding, sheet=sheet, known_columns=[c for c in wanted if c] + hints)
    columns_as_typed(df, wanted, name)  # --time-col "留言 时间" as the header shows it: the column read as 留言时间
    have = list(map(str, df.columns))
    meta = df.attrs.get("govml", {})
    if meta.get("header_rows"):
        Console(stderr=True).print(f"[dim]{name}: header of two rows ({' and '.join(map(str, meta['header_rows']))}): "
                                   "merged header cells read as one name each", highlight=False)
    elif (meta.get("header_row") or 1) > 1:
        Console(stderr=True).print(f"[dim]{name}: header on row {meta['header_row']}: the row(s) above it were "
                                   "read as titles, not data", highlight=False)
    recognised = []
    sources: dict[str, str] = {}  # canonical column → the file's column it was recognised in
    if text_cols == ["text"] and "text" not in df.columns:
        found = [g for g in (guess_column("title", have), guess_column("text", have)) if g]
        if found:
            text_cols[:] = list(dict.fromkeys(col for col, _ in found))
            recognised.append(f"text ← {' + '.join(text_cols)} ({found[0][1]})")
    for col in [c for _, c in required] + list(optional):
        if col and col not in df.columns and col in COLUMN_ALIASES and col not in ("text", "title"):
            g = guess_column(col, have)
            if g:
                df[col] = df[g[0]]
                sources[col] = g[0]
                recognised.append(f"{col} ← {g[0]} ({g[1]})")
    if recognised:
        Console(stderr=True).print(f"[dim]{name}: columns recognised: " + "; ".join(recognised)
                                   + " (name others with --text-col / --id-col / --time-col ...)", highlight=False)
    problems = [Problem(name, None, col, f"a column '{col}' (set it with {opt})", found=", ".join(have))
                for opt, col in [*(("--text-col", c) for c in text_cols), *required] if col not in df.columns]
    if problems:
        raise DataError(problems)
    if not len(df):
        raise DataError(message=f"{name}: no data rows below the header (columns: {', '.join(have)})")
    id_col = dict(required).get("--id-col")
    if id_col:  # ids are how the output is joined back to the messages: an empty or repeated one is said
        _say_bad_ids(df, id_col, sources.get(id_col, id_col), name)
    time_col = dict(required).get("--time-col")
    if time_col:
        src = sources.get(time_col, time_col)
        parsed, bad, future, parts = bad_times(df, time_col, file=name, shown=src)
        from govml.io import date_notes

        for note in date_notes(df[time_col][~bad], src):  # Unix times and UTC offsets: converted to Beijing time, said
            Console(stderr=True).print(f"[yellow]note:[/] {name}: {note}", highlight=False)
        bad = bad | future
        if bad.all():  # an empty output with exit 0 (top) or "the table has no rows" (alerts) said nothing of why
            raise DataError(message=f"{name}, column '{src}': every row left out, nothing to read: " + "; ".join(parts)
                            + (" — times after tomorrow are taken as typing errors: is the exporting system's clock "
                               "or year wrong?" if future.all() else ""))
        if bad.any():
            Console(stderr=True).print(f"[yellow]warning:[/] {name}, column '{src}': {int(bad.sum())} of {len(df)} "
                                       "row(s) left out: " + "; ".join(parts), highlight=False)
            df = df.loc[~bad].copy()
            parsed = parsed[~bad]
        df[time_col] = parsed
    if text_cols:
        parts = [df[c].astype("string").fillna("") for c in text_cols]
        joined = parts[0]
        for p in parts[1:]:
            joined = joined.str.cat(p, sep="\n")
        df["_text"] = joined
        if time_col:
            _say_repeated_messages(df, time_col, sources.get(time_col, time_col), name)
    return df, name


def _say_repeated_messages(df, time_col: str, shown_col: str, name: str) -> None:  # noqa: ANN001
    """Warn (rows named) about messages whose text and time, to the second, are those of another row: an export
    that lists a message twice (teddycup 附件3 has 19 such pairs, one written 2019/4/26, the other 2019-04-26).
    They are counted as separate messages by every command — top's counts, hot issues' sizes, the alerts'
    observed counts — so this is said, not decided silently."""
    import pandas as pd
    from rich.console import Console

    from govml.io import source_rows

    text = df["_text"].fillna("").str.strip()
    key = pd.DataFrame({"t": df[time_col], "x": text})
    rep = key.duplicated(keep=False).to_numpy(dtype=bool) & (text != "").to_numpy(dtype=bool)
    if not rep.any():
        return
    n_extra = int((key.duplicated(keep="first").to_numpy(dtype=bool) & rep).sum())
    rows = source_rows(df)
    firsts = {}
    shown = []
    for r, k, d in zip(rows, zip(key["t"], key["x"], strict=True), rep, strict=True):
        if d:
            firsts.setdefault(k, []).append(r)
    for at in list(firsts.values())[:3]:
        shown.append(" & ".join(map(str, at[:3])) + (" …" if len(at) > 3 else ""))
    Console(stderr=True).print(
        f"[yellow]warning:[/] {name}: {n_extra} message(s) repeat the text of another row and its time in column "
        f"'{shown_col}' to the second (row {'; '.join(shown)}{' …' if len(firsts) > 3 else ''}): counted as separate "
        "messages. If the export lists some messages twice, remove the copies to count each once.", highlight=False)



def _say_bad_ids(df, id_col: str, shown_col: str, name: str) -> None:  # noqa: ANN001
    """Warn (rows named) about empty ids and ids used by more than one row: the output's ids (classify's
    id, hot-issues' message_ids) cannot be joined back to those messages unambiguously."""
    from rich.console import Console

    from govml.io import blank_cells, label_text, source_rows

    rows = source_rows(df)
    empty = blank_cells(df[id_col])
    ids = label_text(df[id_col]).str.strip()
    dup = (ids.duplicated(keep=False) & ~empty).to_numpy(dtype=bool)
    parts = []
    if empty.any():
        at = [r for r, e in zip(rows, empty, strict=True) if e]
        parts.append(f"{len(at)} row(s) have no id (row {_rows_shown(at)})")
    if dup.any():
        groups = ids[dup].groupby(ids[dup], sort=False).size()
        first = groups.index[0]
        at = [r for r, v, d in zip(rows, ids.fillna(""), dup, strict=True) if d and v == first]
        parts.append(f"{int(dup.sum())} row(s) share {len(groups)} id(s) with another row (e.g. {first!r}: row "
                     f"{_rows_shown(at, 5)})")
    if parts:
        Console(stderr=True).print(f"[yellow]warning:[/] {name}, column '{shown_col}': " + "; ".join(parts)
                                   + ": the output cannot be joined back to them by id (kept; give each message "
                                   "its own id, or name another column with --id-col)", highlight=False)


def _rows_shown(rows: list[int], limit: int = 10) -> str:
    return ", ".join(map(str, rows[:limit])) + (" …" if len(rows) > limit else "")


_CATEGORY_LEVEL_HELP = ("For categories written as paths (城乡建设/住房/物业管理, 城乡建设-物业): keep the first N "
                        "levels (1 = 城乡建设). Default: the whole path (said when the categories are paths).")


def _category_paths(df, col: str, name: str, level, console) -> None:  # noqa: ANN001
    """Categories written as paths of a category tree (a 12345 export's 城乡建设/住房/物业管理): said; ``level``
    keeps their first levels, in place (as ``govml hotspots --category-level``; :func:`govml.io.category_paths`)."""
    from govml.io import category_from_levels, category_paths

    by_level, level_note = category_from_levels(df, col)  # 二级分类 beside 一级分类: a name under two parents
    if level_note:
        df[col] = by_level
        console.print(f"[yellow]note:[/] {name}, {level_note}", highlight=False)
    out, note = category_paths(df[col], col, level, wording="use", where=name)
    if note:
        if level is not None:
            df[col] = out
        console.print(f"[yellow]note:[/] {name}, {note}", highlight=False)


def _one_spelling(df, col: str, name: str, what: str, console, say_empty: bool = True) -> None:  # noqa: ANN001
    """Write the names in ``df[col]`` (groups, categories) in one spelling each, in place: full-width
    letters and digits, stray spaces (also one between two Chinese characters: ``城乡 建设``) and another
    upper/lower case are the same name, shown in its most frequent spelling as written (full-width forms kept:
    a label ``教育文体（A）`` stays so; :func:`govml.io.merge_spellings` with ``as_written``).
    Each spelling merged into another is said once with its rows; empty cells are counted and said
    (they are grouped as ``(空)`` by the commands)."""
    import numpy as np
    import pandas as pd

    from govml.io import label_text, merge_spellings, source_rows

    raw = df[col]
    merged = merge_spellings(raw, cjk_spaces=True, as_written=True)
    merged.index = df.index
    before = label_text(raw)
    empty = merged.isna() | (merged == "")
    changed = (~empty & (before != merged)).fillna(False).to_numpy(dtype=bool)
    rows = source_rows(df)
    if changed.any():
        pairs = pd.DataFrame({"was": before[changed].to_numpy(dtype=object), "now": merged[changed].to_numpy(dtype=object),
                              "row": np.asarray(rows, dtype=object)[changed]})
        # a spelling that differs only in spaces at its ends is not worth a line of its own: they are
        # counted together; the others are listed with their rows
        ends = pairs["was"].map(lambda v: str(v).strip()) == pairs["now"]
        parts = []
        if ends.any():
            parts.append(f"{int(ends.sum())} with spaces at the ends")
        for (was, now), g in pairs[~ends].groupby(["was", "now"], sort=False):
            parts.append(f"{was!r} → {now!r} ({len(g)}: row {_rows_shown(g['row'].tolist(), 5)})")
        console.print(f"[yellow]note:[/] {name}, column '{col}': {int(changed.sum())} {what} name(s) written another "
                      "way (full-width characters, extra spaces, case) taken as the most frequent spelling: "
                      + "; ".join(parts[:10]) + (f" and {len(parts) - 10} more" if len(parts) > 10 else ""),
                      highlight=False)
    n_empty = int(empty.sum())
    if n_empty and say_empty:
        at = [r for r, e in zip(rows, empty.to_numpy(dtype=bool), strict=True) if e]
        console.print(f"[yellow]note:[/] {name}, column '{col}': {n_empty} of {len(df)} message(s) have no {what} "
                      f"(row {_rows_shown(at)}): counted as the {what} '(空)'", highlight=False)
    df[col] = merged.mask(merged == "")


def _quiet_columns(input, encoding, sheet) -> set[str]:  # noqa: ANN001
    """The column names of ``input`` (a first look before the real read): the reader's warnings
    (footer rows skipped …) are said by the real read, not twice."""
    import logging

    from govml.io import read_table

    said = logging.getLogger("govml.io")
    level = said.level
    said.setLevel(logging.ERROR)
    try:
        return set(map(str, read_table(input, encoding=encoding, sheet=sheet).columns))
    finally:
        said.setLevel(level)


def _unused_column(default: str, flag: str) -> typer.models.OptionInfo:
    """A column option a demands command accepts but does not use, so that one set of column options
    (--id-col, --time-col, --label-col, --likes-col) works for every demands command."""
    return typer.Option(default, flag, help="Accepted so that one set of column options works for every "
                                            "demands command; not used here.")

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
    label_col: str = _unused_column("category", "--label-col"),
    user_col: str = typer.Option("user_id", "--user-col",
                                 help="User column for distinct users (each message its own user when absent)."),
    group_col: str = typer.Option("community", "--group-col",
                                  help="Messages of different values here are never one issue (when present)."),
    window_days: float = typer.Option(30.0, help="Only messages at most this many days apart are linked."),
    min_similarity: float = typer.Option(0.08, help="Text similarity needed to link two messages at one place."),
    long_window_days: float = typer.Option(400.0, help="A problem that recurs (same main place, similar words) "
                                                       "joins one issue across gaps up to this many days; "
                                                       "0 = off."),
    semantic: int = typer.Option(50, "--semantic", min=0,
                                 help="Meaning-level similarity learnt from the input (LSA dimensions) for the "
                                      "joins of recurring problems; 0 = off (words only)."),
    strays: float = typer.Option(0.0, "--strays", min=0.0, max=1.0,
                                 help="With --semantic: a member whose mean similarity in meaning to the rest of "
                                      "its issue is below this fraction of theirs leaves it (e.g. 0.4); 0 = off."),
    encoding: str = ENCODING,
    sheet: str = SHEET,
) -> None:
    """Group messages about the same problem at the same place and rank them by heat.

    Output columns: rank, issue_id, heat, n_messages, first_seen, last_seen, place, summary,
    message_ids (';'-separated, in time order).
    """
    from rich.console import Console
    from rich.table import Table

    from govml import tracking
    from govml.io import check_output_path, write_table
    from govml.text.hot_issues import OUTPUT_COLUMNS, HotIssueFinder

    console = Console()
    check_output_path(out)  # a bad --out is refused now, not after the work
    text_cols = list(text_col or ["text"])
    df, name = _read_for_text(input, text_cols=text_cols, required=[("--id-col", id_col), ("--time-col", time_col)],
                              optional=[likes_col, user_col, group_col], encoding=encoding, sheet=sheet)
    if likes_col not in df.columns:
        console.print(f"[yellow]No '{likes_col}' column: likes count as 0 in the heat index.")
    if user_col not in df.columns:
        console.print(f"[yellow]No '{user_col}' column: each message counts as a distinct user.")
    params = {"window_days": window_days, "min_similarity": min_similarity, "long_window_days": long_window_days,
              "top": top, "semantic": semantic, "strays": strays,
              "text_cols": len(text_cols), "group_col": group_col if group_col in df.columns else None}
    with console.status(f"Grouping {len(df):,} messages into issues…"):
        finder = HotIssueFinder(text_cols=tuple(text_cols), id_col=id_col, time_col=time_col,
                                likes_col=likes_col if likes_col in df.columns else None,
                                user_col=user_col if user_col in df.columns else None,
                                group_col=group_col if group_col in df.columns else None,
                                window_days=window_days, min_similarity=min_similarity,
                                long_window_days=long_window_days,  # <= window_days: no joins
                                semantic_components=semantic or None,
                                semantic_stray_ratio=strays if semantic and strays else None).fit(df)
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
    category_level: int = typer.Option(None, "--category-level", help=_CATEGORY_LEVEL_HELP),
    text_col: list[str] = typer.Option(None, "--text-col",
                                       help="Text column(s) for emerging terms, repeatable. Default: text."),
    time_col: str = typer.Option("created_at", "--time-col", help="Time column."),
    id_col: str = _unused_column("id", "--id-col"),
    likes_col: str = _unused_column("likes", "--likes-col"),
    terms: bool = typer.Option(True, "--terms/--no-terms", help="Also flag emerging terms."),
    all_cells: bool = typer.Option(False, "--all-cells", help="Write every tested cell, not only alerts."),
    text_config: Path = typer.Option(None, "--text-config",
                                     help="Tokenizer extensions for the emerging terms, as for `demands top` "
                                          "(default configs/text.yaml when present)."),
    encoding: str = ENCODING,
    sheet: str = SHEET,
) -> None:
    """Surges per group × category × period and emerging terms, with false-discovery control.

    Output columns: group, period_start, kind (category|term), key, observed, expected,
    score (−log10 BH q-value), p_value, level (关注 watch / 预警 warning / 告警 alarm).
    """
    from rich.console import Console
    from rich.table import Table

    from govml import tracking
    from govml.errors import ConfigError
    from govml.io import check_output_path, write_table
    from govml.text.alerts import OUTPUT_COLUMNS, TOTAL_KEY, SurgeDetector

    console = Console()
    check_output_path(out)  # a bad --out is refused now, not after the work
    period = period.upper()
    if period not in ("W", "M"):
        raise ConfigError(f"--period must be W or M, got {period!r}")

    # an explicitly named text column must exist; the default 'text' may be absent (then no terms)
    text_cols = list(text_col or [])
    if terms and not text_cols:
        from govml.config import guess_column

        have = _quiet_columns(input, encoding, sheet)
        if "text" in have or guess_column("text", have) or guess_column("title", have):
            text_cols = ["text"]  # _read_for_text recognises title + text of known exports
        else:
            terms = False
            console.print(f"[yellow]No 'text' column in {input}: category alerts only "
                          "(name the text column(s) with --text-col).")
    # with --no-terms, named text columns still feed the category alerts' word evidence (evidence='gated')
    default_by = by == "community"  # the default group may be absent: then the whole file is one group
    df, name = _read_for_text(input, text_cols=text_cols,
                              required=[*([] if default_by else [("--by", by)]), ("--time-col", time_col)],
                              optional=[label_col, *([by] if default_by else [])], encoding=encoding, sheet=sheet)
    if by not in df.columns:
        df[by] = "全部"
        console.print(f"[yellow]No '{by}' column in {name}: all messages are one group, '全部' "
                      "(name a group column with --by).")
    else:
        _one_spelling(df, by, name, "group", console)
    has_labels = label_col in df.columns
    no_category: list[int] = []
    if has_labels:
        # an empty category cell is not a category of its own (the detector counts and leaves it out)
        _category_paths(df, label_col, name, category_level, console)
        _one_spelling(df, label_col, name, "category", console, say_empty=False)
        from govml.io import source_rows

        blank = df[label_col].isna().to_numpy(dtype=bool)
        no_category = [r for r, b in zip(source_rows(df), blank, strict=True) if b]
        if len(df) and blank.all():
            console.print(f"[yellow]{name}: the category column '{label_col}' is empty in every row: alerts on each "
                          f"group's total messages (category {TOTAL_KEY}), backed by emerging terms.",
                          highlight=False)
            has_labels = False
        elif no_category:
            console.print(f"[yellow]note:[/] {name}, column '{label_col}': {len(no_category)} of {len(df)} message(s) "
                          f"have no category (row {_rows_shown(no_category)}): not a category of their own, left out "
                          "of the category alerts (their words still count in the group's emerging terms)",
                          highlight=False)
    else:
        console.print(f"[yellow]No '{label_col}' column in {name}: alerts on each group's total messages "
                      f"(category {TOTAL_KEY}), backed by emerging terms (name the category column with "
                      "--label-col).")
    # the words of `demands top` and `train`: configs/text.yaml's dictionary, stop words and synonyms too
    tokenizer = _text_tokenizer(text_config)[0] if text_cols else None
    det = SurgeDetector(by=by, period=period, label_col=label_col if label_col in df.columns else None,
                        time_col=time_col,
                        text_col="_text" if text_cols else None, terms=terms, tokenizer=tokenizer)
    import logging

    said = logging.getLogger("govml.text.alerts")  # its one warning (messages before the coverage) is said
    level = said.level                              # below, with the file's name, from n_before_coverage_
    said.setLevel(logging.ERROR)
    try:
        with console.status(f"Testing {len(df):,} messages by {by} × period {period}…"):
            det.fit(df)
    finally:
        said.setLevel(level)
    if det.n_before_coverage_:
        console.print(f"[yellow]{name}: {det.n_before_coverage_} message(s) before {det.coverage_start_.date()} lie "
                      "before the data's coverage (a sparse lead-in) and are left out of the baselines.",
                      highlight=False)
    if det.new_categories_ and has_labels:
        shown = sorted(det.new_categories_.items(), key=lambda kv: kv[1])
        listed = ", ".join(f"{k} ({v.date()})" for k, v in shown[:8]) + (
            f" and {len(shown) - 8} more" if len(shown) > 8 else "")
        console.print(f"[yellow]{len(shown)} categor{'y starts' if len(shown) == 1 else 'ies start'} mid-series: "
                      f"{listed}. Without a baseline they stay on the watch list (关注) for their first "
                      f"{det.min_history} periods.")
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
    if no_category and has_labels:
        params["messages_without_category"] = det.n_no_category_
    with tracking.run("demand-alerts", run_name="alerts", params=params):
        tracking.log_metrics({"messages": len(df), "groups": len(det.groups_), "periods": len(det.periods_),
                              "group_periods": det.n_group_periods_, "cells_tested": len(det.cells_),
                              "alerts_watch": int(counts.get("关注", 0)), "alerts_warning": int(counts.get("预警", 0)),
                              "alerts_alarm": int(counts.get("告警", 0))})
    shown = det.alerts_[det.alerts_["level"].isin(["预警", "告警"])].tail(15)
    which = f"the latest {len(shown)} ≥ 预警" if len(shown) else "none ≥ 预警"
    table = Table(title=f"Alerts in {name}: 告警 {counts.get('告警', 0)}, 预警 {counts.get('预警', 0)}, "
                        f"关注 {counts.get('关注', 0)} over {det.n_group_periods_} group-periods ({which})")
    for c in ("group", "period_start", "kind", "key", "observed", "expected", "level"):
        table.add_column(c)
    for _, r in shown.iterrows():
        table.add_row(str(r["group"]), str(r["period_start"])[:10], r["kind"], str(r["key"]), str(r["observed"]),
                      f"{r['expected']:.1f}", r["level"])
    console.print(table)
    console.print(f"Wrote {len(res)} rows to [bold]{out}[/]")


# ---- top demands and the category classifier (text/demands.py, text/classify.py) ------------------

MODEL_FILE = "model.skops"
MODEL_JSON = "model.json"


def _text_tokenizer(text_config: Path | None):
    """GovTokenizer from configs/text.yaml (or --text-config); built-ins only when no file exists."""
    from govml.config import config_path, load_yaml_model
    from govml.text.tokenize import GovTokenizer, text_config_model

    path = text_config if text_config is not None else config_path("text.yaml")
    if text_config is None and not Path(path).exists():
        return GovTokenizer(), None
    return GovTokenizer.from_config(load_yaml_model(path, text_config_model())), str(path)


def _topic_lexicon(path: Path) -> dict[str, list[str]]:
    """The packaged topic lexicon extended by the user's file (``topic: term term ...`` lines)."""
    from govml.config import read_utf8_text
    from govml.text.classify import load_topic_lexicon, parse_topic_lexicon

    merged = load_topic_lexicon()
    for topic, terms in parse_topic_lexicon(read_utf8_text(path, "lexicon file (--lexicon)"), str(path)).items():
        merged.setdefault(topic, []).extend(terms)
    return merged


def _progress_tokenize(tokenizer, texts, console, label: str, n_jobs: int = 1):
    """Tokenize with a rich progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    texts = list(texts)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as prog:
        task = prog.add_task(label, total=len(texts))
        return tokenizer.tokenize_many(texts, n_jobs=n_jobs, chunk_size=None,
                                       progress=lambda done: prog.update(task, completed=done))


@app.command("top")
def top_cmd(
    input: Path = typer.Argument(..., help="Message table (CSV/Excel/Parquet/JSONL; UTF-8 or GBK)."),
    out: Path = typer.Option(..., "--out", help="Where to write the table (.csv/.xlsx/.parquet)."),
    by: str = typer.Option(None, "--by", help="Group column (district, community, any column). "
                                              "Without it every message is in one group, '全部'."),
    period: str = typer.Option("M", "--period", help="W (weeks from Monday), M (months) or Q (quarters)."),
    top: int = typer.Option(20, "--top", help="Terms per group and period."),
    rank_by: str = typer.Option("count", "--rank-by", help="count (high-frequency) or distinctiveness."),
    phrases: bool = typer.Option(True, "--phrases/--no-phrases", help="Also count 2–3-word phrases."),
    min_count: str = typer.Option("auto", "--min-count",
                                  help="A term needs at least N messages of the group-period to be listed. "
                                       "auto: 2 in group-periods of 10 or more messages, 1 in smaller ones."),
    text_col: list[str] = typer.Option(None, "--text-col",
                                       help="Text column(s), repeatable, joined in order. Default: text."),
    time_col: str = typer.Option("created_at", "--time-col", help="Time column."),
    id_col: str = _unused_column("id", "--id-col"),
    label_col: str = _unused_column("category", "--label-col"),
    likes_col: str = _unused_column("likes", "--likes-col"),
    jobs: int = typer.Option(1, "--jobs", help="Worker processes for tokenizing (-1 = all cores)."),
    text_config: Path = typer.Option(None, "--text-config",
                                     help="Tokenizer extensions (default configs/text.yaml when present)."),
    encoding: str = ENCODING,
    sheet: str = SHEET,
) -> None:
    """High-frequency and distinctive demand terms per group and period.

    Output columns: group, period_start, term, count (messages containing the term), share (count /
    messages of the group-period), distinctiveness (weighted log-odds z-score, informative Dirichlet
    prior, against the other groups of the period), example (the shortest message containing the
    term, personal data masked). Stop words: the packaged list plus `stop_words` of --text-config.
    """
    from rich.console import Console
    from rich.table import Table

    from govml.errors import ConfigError
    from govml.io import check_output_path, write_table
    from govml.text.demands import top_demands

    console = Console()
    check_output_path(out)  # a bad --out is refused now, not after the work
    period = period.upper()
    if period not in ("W", "M", "Q"):
        raise ConfigError(f"--period must be W, M or Q, got {period!r}")
    if rank_by not in ("count", "distinctiveness"):
        raise ConfigError(f"--rank-by must be count or distinctiveness, got {rank_by!r}")
    if top < 1:
        raise ConfigError(f"--top must be at least 1, got {top}")
    mc: int | str = min_count.strip().lower()
    if mc != "auto":
        if not str(mc).isdigit() or int(mc) < 1:
            raise ConfigError(f"--min-count must be auto or a whole number of at least 1, got {min_count!r}")
        mc = int(mc)
    text_cols = list(text_col or ["text"])
    required = [("--time-col", time_col)] + ([("--by", by)] if by else [])
    df, name = _read_for_text(input, text_cols=text_cols, required=required, encoding=encoding, sheet=sheet)
    if by:
        _one_spelling(df, by, name, "group", console)
    tokenizer, _ = _text_tokenizer(text_config)
    tokenizer.set_params(mark_breaks=True)  # phrases never run across punctuation
    tokens = _progress_tokenize(tokenizer, df["_text"], console, f"Tokenizing {len(df):,} messages", jobs)
    with console.status("Counting terms and phrases…"):
        res = top_demands(df, text_col="_text", time_col=time_col, by=by, period=period, top=top,
                          phrases=phrases, tokens=tokens, rank_by=rank_by, min_count=mc)
    write_table(res, out)
    latest = res[res["period_start"] == res["period_start"].max()] if len(res) else res
    table = Table(title=f"Top demands in {name}, latest period ({len(res):,} rows written)")
    for c in ("group", "period_start", "term", "count", "share", "distinctiveness"):
        table.add_column(c)
    for _, r in latest.head(15).iterrows():
        table.add_row(str(r["group"]), str(r["period_start"])[:10], str(r["term"]), str(r["count"]),
                      f"{r['share']:.1%}", f"{r['distinctiveness']:.2f}")
    console.print(table)
    console.print(f"Wrote {len(res)} rows to [bold]{out}[/]")


def _print_label_issues(console, issues, rows, name: str, label_col: str) -> None:
    for issue in issues:
        shown = ", ".join(str(rows[i]) for i in issue.positions[:20])
        more = f" (+{len(issue.positions) - 20} more)" if len(issue.positions) > 20 else ""
        # the reason already says what is wrong ("missing label", "label seen 1 time(s) …: a typo?"); the
        # label itself is named once, and "excluded from training" said once, with the count
        reason = issue.reason.removesuffix(" excluded from training").rstrip(" ;")
        what = f"label {issue.label!r} {reason.removeprefix('label ')}" if issue.label else "the label is empty"
        console.print(f"[yellow]warning:[/] {name}, column '{label_col}', row(s) {shown}{more}: {what}; "
                      f"{len(issue.positions)} row(s) excluded from training", highlight=False)


def _label_order(label: str) -> tuple:
    """Sort key: runs of digits compare as numbers (类别2 before 类别10), the rest as text."""
    import re

    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", str(label)) if p)


def _metrics_table(report: dict, title: str):
    from rich.table import Table

    table = Table(title=title)
    for c in ("category", "precision", "recall", "F1", "support"):
        table.add_column(c, justify="right" if c != "category" else "left")
    # numbered labels (1, 2, … 10) in their numbers' order, not as text sorts them (1, 10, 11, 2 …)
    for lab, m in sorted(report["per_class"].items(), key=lambda kv: _label_order(kv[0])):
        table.add_row(lab, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", str(m["support"]))
    table.add_section()
    table.add_row("macro-F1 (mean ± sd over folds)", "", "",
                  f"{report['macro_f1']:.3f} ± {report['macro_f1_sd']:.3f}", str(report["n"]))
    table.add_row("accuracy", "", "", f"{report['accuracy']:.3f}", "")
    return table


def _save_model_dir(model, meta: dict, model_dir: Path) -> list[str]:
    """Write model.skops + model.json into a fresh folder, then swap it into place (atomic rename);
    returns the types skops needs trusted to load it back."""
    import json
    import os
    import shutil
    import tempfile

    import skops.io as sio

    model_dir = Path(model_dir)
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{model_dir.name}.", dir=model_dir.parent))
    from govml.text.classify import reuse_state

    try:
        with reuse_state():  # skops asks for the model's packed state twice: it is made once
            sio.dump(model, tmp / MODEL_FILE)
        trusted = sio.get_untrusted_types(file=tmp / MODEL_FILE)
        meta = dict(meta, skops_trusted_types=trusted)
        (tmp / MODEL_JSON).write_text(json.dumps(meta, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        old = None
        if model_dir.exists():
            old = model_dir.parent / f".{model_dir.name}.old-{os.getpid()}"
            os.replace(model_dir, old)
        os.replace(tmp, model_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return list(trusted)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_model_dir(model_dir: Path):
    """(DemandClassifier, model.json dict) from a folder written by `govml demands train`."""
    import json

    import skops.io as sio

    from govml.errors import ModelError

    model_dir = Path(model_dir)
    f, j = model_dir / MODEL_FILE, model_dir / MODEL_JSON
    if not f.exists() or not j.exists():
        raise ModelError(f"{model_dir}: expected {MODEL_FILE} and {MODEL_JSON} written by `govml demands train`")
    meta = json.loads(j.read_text(encoding="utf-8"))
    untrusted = sio.get_untrusted_types(file=f)
    foreign = [t for t in untrusted if t.split(".", 1)[0] not in ("govml", "sklearn", "numpy", "scipy")]
    if foreign:
        raise ModelError(f"{f}: refusing to load types outside govml/scikit-learn/numpy/scipy: {foreign}")
    return sio.load(f, trusted=untrusted), meta


def _confusion_figure(report: dict):
    import pandas as pd

    from govml.plots import heatmap

    labs = report["labels"]
    cm = pd.DataFrame(report["confusion"], index=labs, columns=labs)
    return heatmap(cm, title="Confusion matrix (cross-validation)", cmap="Blues", xlabel="predicted",
                   ylabel="true")


# what --unlabeled does besides the vocabulary (issue 3, sixth study): an EM-trained naive Bayes at this weight
UNLABELED_EM_NB = 0.3


@app.command("train")
def train_cmd(
    input: Path = typer.Argument(..., help="Labelled message table (CSV/Excel/Parquet/JSONL)."),
    model_dir: Path = typer.Option(..., "--model-dir", help="Folder for model.skops + model.json (replaced)."),
    label_col: str = typer.Option("category", "--label-col", help="Category column."),
    category_level: int = typer.Option(None, "--category-level", help=_CATEGORY_LEVEL_HELP),
    unlabeled: Path = typer.Option(None, "--unlabeled",
                                   help="Unlabelled messages of the same kind (same --text-col columns), e.g. "
                                        "a few thousand: they join the vocabulary and its weights and train a "
                                        "naive Bayes by EM that is mixed with the SVM (--em-nb); with "
                                        "--self-training also pseudo-labels. Measured on real messages with 200 "
                                        "labels and 2,000 unlabelled: macro-F1 +0.02 to +0.04."),
    text_col: list[str] = typer.Option(None, "--text-col",
                                       help="Text column(s), repeatable, joined in order. Default: text."),
    id_col: str = typer.Option("id", "--id-col", help="Message id column (only recorded; may be absent)."),
    time_col: str = typer.Option("created_at", "--time-col",
                                 help="Time column (for the data fingerprint; may be absent)."),
    likes_col: str = _unused_column("likes", "--likes-col"),
    cv: int = typer.Option(5, "--cv", help="Cross-validation folds (stratified)."),
    self_training: float = typer.Option(None, "--self-training",
                                        help="With --unlabeled: also pseudo-label unlabelled messages "
                                             "predicted with at least this confidence (e.g. 0.9). Off by "
                                             "default: measured no gain beyond noise."),
    no_self_training: bool = typer.Option(False, "--no-self-training",
                                          help="With --unlabeled: no pseudo-labels (the default); the "
                                               "unlabelled text only fits the vocabulary and its weights."),
    em_nb: float = typer.Option(None, "--em-nb", min=0.0, max=1.0,
                                help="With --unlabeled: weight (0-1) of a multinomial naive Bayes fitted by EM on "
                                     "the labelled + unlabelled messages, mixed with the SVM's probabilities "
                                     f"(default {UNLABELED_EM_NB} with --unlabeled; 1 = the naive Bayes alone; 0 = "
                                     "off: the unlabelled text then only fits the vocabulary and its weights)."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    text_config: Path = typer.Option(None, "--text-config",
                                     help="Tokenizer extensions (default configs/text.yaml when present)."),
    encoding: str = ENCODING,
    sheet: str = SHEET,
    lexicon: Path = typer.Option(None, "--lexicon",
                                 help="Topic lexicon file (UTF-8; one topic a line: 'topic: term term ...') "
                                      "added to the packaged one; a topic in both gets the terms of both."),
    no_lexicon: bool = typer.Option(False, "--no-lexicon", help="Leave out the topic-lexicon feature block."),
    no_title: bool = typer.Option(False, "--no-title",
                                  help="Do not also read the first --text-col (the title) on its own; by default, "
                                       "with several --text-col columns, the first gets its own feature blocks."),
    n_jobs: int = typer.Option(1, "--n-jobs",
                               help="Processes for the SVM fits of each model's calibration (-1: one per core): "
                                    "the same model and metrics, faster on free cores; each extra process needs "
                                    "about categories × features × 16 bytes more memory (15 categories of a few "
                                    "thousand messages: ~0.65 GB)."),
) -> None:
    """Train the category classifier: prints cross-validated metrics, saves the model, logs an MLflow run."""
    import datetime as dt

    import numpy as np
    import pandas as pd
    from rich.console import Console
    from rich.progress import Progress

    from govml import __version__, tracking
    from govml.errors import ConfigError
    from govml.io import check_output_path, read_table, source_rows
    from govml.text.classify import DemandClassifier, check_labels, cross_validate_classifier, shared_analysis

    console = Console()
    check_output_path(Path(model_dir) / "model.json", table=False)  # a --model-dir under a file, or not writable: now, not after CV
    if cv < 2:
        raise ConfigError(f"--cv must be at least 2, got {cv}")
    text_cols = list(text_col or ["text"])
    df, name = _read_for_text(input, text_cols=text_cols, required=[("--label-col", label_col)],
                              optional=[id_col, time_col], encoding=encoding, sheet=sheet)
    rows = source_rows(df)
    _category_paths(df, label_col, name, category_level, console)
    _one_spelling(df, label_col, name, "category", console, say_empty=False)  # empty labels: check_labels says
    texts = df["_text"].to_numpy(dtype=object)
    labels = df[label_col].to_numpy(dtype=object)
    keep, issues = check_labels(labels, min_class_count=max(2, cv))
    _print_label_issues(console, issues, rows, name, label_col)
    empty = np.array([not (isinstance(t, str) and t.strip()) for t in texts])
    if (empty & keep).any():
        shown = ", ".join(str(rows[i]) for i in np.flatnonzero(empty & keep)[:20])
        console.print(f"[yellow]warning:[/] {name}: {int((empty & keep).sum())} labelled row(s) with empty text "
                      f"(rows {shown}) excluded from training", highlight=False)
    keep &= ~empty
    unl_texts = None
    if unlabeled is not None:
        u = read_table(unlabeled, encoding=encoding, known_columns=text_cols)
        missing = [c for c in text_cols if c not in u.columns]
        if missing:
            from govml.errors import DataError, Problem

            raise DataError([Problem(str(unlabeled), None, c, f"a column '{c}' (the same --text-col as the "
                                     "labelled file)", found=", ".join(map(str, u.columns))) for c in missing])
        parts = [u[c].astype("string").fillna("") for c in text_cols]
        joined = parts[0]
        for p in parts[1:]:
            joined = joined.str.cat(p, sep="\n")
        unl_texts = [t for t in joined.to_numpy(dtype=object) if isinstance(t, str) and t.strip()]
        console.print(f"Unlabelled messages from {unlabeled}: {len(unl_texts):,}")
    tokenizer, cfg_path = _text_tokenizer(text_config)
    if lexicon is not None and no_lexicon:
        raise ConfigError("--lexicon and --no-lexicon contradict each other: give one of them")
    if no_self_training and self_training is not None:
        raise ConfigError("--self-training and --no-self-training contradict each other: give one of them")
    if em_nb is not None and unlabeled is None:
        raise ConfigError("--em-nb needs --unlabeled (the naive Bayes learns from the unlabelled messages)")
    est = DemandClassifier(tokenizer=tokenizer, random_state=seed,
                           self_training=None if no_self_training else self_training,
                           em_nb=(UNLABELED_EM_NB if em_nb is None else em_nb or None) if unl_texts else None,
                           min_class_count=max(2, cv), lexicon_weight=None if no_lexicon else 1.0,
                           lexicon=_topic_lexicon(lexicon) if lexicon is not None else None,
                           # one text column: its first line is no title
                           **({"title_weight": None, "title_lexicon_weight": None}
                              if no_title or len(text_cols) < 2 else {}),
                           **({"n_jobs": n_jobs} if n_jobs != 1 else {}))
    X, y = texts[keep], labels[keep]
    console.print(f"Training on {int(keep.sum()):,} labelled messages ({len(set(map(str, y)))} categories); "
                  f"{int((~keep).sum())} row(s) excluded")
    # the folds and the final fit analyse each message once (shared_analysis: the same model, bit for bit)
    with Progress(console=console, transient=True) as prog, shared_analysis() as shared:
        task = prog.add_task(f"{cv}-fold cross-validation", total=cv + 1)
        report = cross_validate_classifier(list(X), list(y), unlabeled=unl_texts, cv=cv, seed=seed, estimator=est,
                                           progress=lambda i: prog.update(task, completed=i))
        shared.last_fit()  # the analyses are dropped once the final model's features are built (memory)
        model = est.fit(list(X), list(y), unlabeled=unl_texts)
        prog.update(task, completed=cv + 1)
    console.print(_metrics_table(report, f"Cross-validated metrics ({cv} folds, {name})"))
    if model.n_pseudo_:
        console.print(f"Self-training: {model.n_pseudo_:,} unlabelled messages pseudo-labelled in the final model")
    if model.em_nb:
        console.print(f"EM naive Bayes (weight {model.em_nb:g}): {model.em_nb_iter_} EM iteration(s) over "
                      f"{len(unl_texts or []):,} unlabelled messages in the final model")
    settings = {k: (repr(v) if k == "tokenizer" else v) for k, v in est.get_params().items()}
    if lexicon is not None:  # the packaged lexicon + the user's file: name the file, not 400+ terms
        settings["lexicon"] = (f"packaged + {lexicon} ({len(est.lexicon)} topics, "
                               f"{sum(map(len, est.lexicon.values()))} terms)")
    meta = {
        "govml_version": __version__, "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "labels": list(map(str, model.classes_)), "class_counts": model.class_counts_,
        "text_cols": text_cols, "id_col": id_col, "label_col": label_col, "input": str(input),
        "n_train": int(keep.sum()), "n_excluded": int((~keep).sum()), "n_unlabeled": len(unl_texts or []),
        "n_pseudo_labels": model.n_pseudo_, "settings": settings, "text_config": cfg_path,
        "cv": {k: report[k] for k in ("macro_f1", "macro_f1_sd", "accuracy", "fold_macro_f1", "fold_accuracy",
                                      "per_class", "labels", "confusion", "n", "cv", "seed")},
    }
    trusted = _save_model_dir(model, meta, model_dir)
    params = {"cv": cv, "seed": seed, "unlabeled": bool(unl_texts), "self_training": est.self_training,
              "em_nb": est.em_nb,
              "text_cols": text_cols, "label_col": label_col, **{f"model.{k}": v for k, v in settings.items()}}
    with tracking.run("demand-classifier", run_name="train", params=params) as active:
        for i, (f1, acc) in enumerate(zip(report["fold_macro_f1"], report["fold_accuracy"], strict=True)):
            tracking.log_metrics({"fold_macro_f1": f1, "fold_accuracy": acc}, step=i)
        tracking.log_metrics({"cv_macro_f1": report["macro_f1"], "cv_macro_f1_sd": report["macro_f1_sd"],
                              "cv_accuracy": report["accuracy"], "n_train": int(keep.sum()),
                              "n_unlabeled": len(unl_texts or []),
                              **{f"f1.{k}": v["f1"] for k, v in report["per_class"].items()}})
        fp_time = time_col if time_col in df.columns else None
        fp_df = df.drop(columns=["_text"])
        if fp_time:  # the times as the commands read them (年月日, serial numbers …), not pandas' guess
            from govml.io import parse_datetime

            fp_df[fp_time] = parse_datetime(fp_df[fp_time], errors="coerce")
        tracking.log_dict(tracking.data_fingerprint(fp_df, time_col=fp_time, category_cols=[label_col]),
                          "data_fingerprint.json")
        tracking.log_dict(meta["cv"], "cv_report.json")
        tracking.log_figure(_confusion_figure(report), "confusion_matrix.png")
        import mlflow
        from mlflow.models import infer_signature

        # model.json (columns, labels, CV) beside the model; model.skops is not stored twice: the MLflow
        # model below holds the same estimator
        mlflow.log_artifact(str(model_dir / MODEL_JSON), artifact_path="model_dir")
        # The model itself, in a form MLflow loads back (mlflow.sklearn / pyfunc), with a masked example.
        example = tracking.mask_example(pd.DataFrame({"text": [str(t) for t in list(X)[:3]]}), ["text"])
        signature = infer_signature(example, pd.Series(list(model.predict(example["text"].tolist())),
                                                       name="category").astype(str))
        # the MLflow model's file is a copy of model-dir's model.skops: the model is serialised once
        model_uri = tracking.log_sklearn_model(model, input_example=example, signature=signature,
                                               extra_pip=("jieba", "rjieba"), skops_trusted_types=trusted,
                                               saved_file=model_dir / MODEL_FILE)
        run_id = active.info.run_id
    console.print(f"Saved the model to [bold]{model_dir}[/] (MLflow run {run_id}, model {model_uri})")


@app.command("classify")
def classify_cmd(
    input: Path = typer.Argument(..., help="Message table to classify (CSV/Excel/Parquet/JSONL)."),
    model_dir: Path = typer.Option(..., "--model-dir", help="Folder written by `govml demands train`."),
    out: Path = typer.Option(..., "--out", help="Where to write id, category_pred, confidence."),
    text_col: list[str] = typer.Option(None, "--text-col",
                                       help="Text column(s), repeatable, joined in order. Default: the "
                                            "model's training columns when present, else text."),
    id_col: str = typer.Option("id", "--id-col", help="Message id column."),
    time_col: str = _unused_column("created_at", "--time-col"),
    label_col: str = _unused_column("category", "--label-col"),
    likes_col: str = _unused_column("likes", "--likes-col"),
    encoding: str = ENCODING,
    sheet: str = SHEET,
) -> None:
    """Predict the category of each message with a calibrated confidence (0–1)."""
    import numpy as np
    from rich.console import Console
    from rich.progress import Progress

    from govml.io import check_output_path, write_table

    console = Console()
    check_output_path(out)  # a bad --out is refused now, not after the work
    model, meta = load_model_dir(model_dir)
    text_cols = list(text_col or [])
    if not text_cols:
        have = _quiet_columns(input, encoding, sheet)
        trained = list(meta.get("text_cols") or [])
        text_cols = trained if trained and all(c in have for c in trained) else ["text"]
    df, name = _read_for_text(input, text_cols=text_cols, required=[("--id-col", id_col)],
                              encoding=encoding, sheet=sheet)
    texts = df["_text"].to_numpy(dtype=object)
    parts = []
    step = 5000
    import logging

    said = logging.getLogger("govml.text.classify")  # its empty-text warning comes per chunk: said once below,
    level = said.level                                # with the rows
    said.setLevel(logging.ERROR)
    unknown = []  # positions of messages with text but no word the model was trained on
    try:
        with Progress(console=console, transient=True) as prog:
            task = prog.add_task(f"Classifying {len(df):,} messages", total=len(df))
            for start in range(0, len(df), step):
                chunk = list(texts[start:start + step])
                frame = model.predict_frame(chunk, ids=df[id_col].iloc[start:start + step].tolist(), known_words=True)
                if "known_words" in frame:  # the word block's hits, from the features the prediction computed
                    nnz = frame.pop("known_words").to_numpy()
                    has_text = np.array([isinstance(t, str) and bool(t.strip()) for t in chunk])
                    unknown.extend((start + np.flatnonzero((nnz == 0) & has_text)).tolist())
                parts.append(frame)
                prog.update(task, completed=min(start + step, len(df)))
    finally:
        said.setLevel(level)
    import pandas as pd

    from govml.io import source_rows

    res = pd.concat(parts, ignore_index=True) if parts else model.predict_frame([], ids=[])
    empty = res["category_pred"].isna().to_numpy(dtype=bool)
    if empty.any():
        at = [r for r, e in zip(source_rows(df), empty, strict=True) if e]
        console.print(f"[yellow]warning:[/] {name}: {len(at)} message(s) with empty text (row {_rows_shown(at)}) "
                      "got no category (confidence 0)", highlight=False)
    if unknown:
        rows = source_rows(df)
        at = [rows[i] for i in unknown]
        console.print(f"[yellow]warning:[/] {name}: {len(at):,} of {len(df):,} message(s) ({len(at) / len(df):.0%}) share "
                      f"no word with the messages the model was trained on (row {_rows_shown(at)}): their category "
                      "is a guess. Are these the kind of messages the model learnt (language, columns: --text-col)?",
                      highlight=False)
    write_table(res, out)
    counts = res["category_pred"].value_counts()
    console.print(f"Predicted {len(res):,} messages: " + ", ".join(f"{k} {v}" for k, v in counts.items())
                  + f"; mean confidence {res['confidence'].mean():.2f}", highlight=False)
    console.print(f"Wrote [bold]{out}[/]")


def demo_step(ctx) -> list[Path]:  # noqa: ANN001 (govml.cli.demo.DemoContext)
    """Top demands, classifier training (CV) and classification on the sample messages (``--quick``: the classifier
    trained on the last 26 weeks with 2 folds)."""
    from rich.console import Console
    from typer.testing import CliRunner

    from govml.cli import app as root

    console = Console()
    src = Path(ctx.samples_dir) / "messages.csv"
    if not src.exists():
        console.print(f"[yellow]demands: {src} missing (run `govml samples --out {ctx.samples_dir}`); step skipped[/]")
        return []
    top = ctx.report_path("demands", "top_demands.csv")
    model_dir = ctx.report_path("demands", "classifier")
    pred = ctx.report_path("demands", "predictions.csv")
    runner = CliRunner()
    # --quick: the classifier learns from the last 26 weeks with 2 folds (about half the time of all 8,816 messages
    # with 3); top demands and classification still read every message
    train_src, folds = (ctx.last_weeks(src, "demands"), "2") if ctx.quick else (src, "3")
    for args in (["demands", "top", str(src), "--by", "community", "--period", "M", "--top", "10", "--out", str(top)],
                 ["demands", "train", str(train_src), "--label-col", "category", "--model-dir", str(model_dir),
                  "--seed", str(ctx.seed), "--cv", folds],
                 ["demands", "classify", str(src), "--model-dir", str(model_dir), "--out", str(pred)]):
        res = runner.invoke(root, args, catch_exceptions=False)
        console.print(res.output, highlight=False, markup=False)
        if res.exit_code != 0:
            from govml.errors import GovmlError

            raise GovmlError(f"demo step demands: `govml {' '.join(args)}` failed (exit {res.exit_code})")
    ctx.outputs["demands_model_dir"] = model_dir
    return [top, model_dir / MODEL_JSON, pred]


def _alert_figure(det, df, hot, by: str):  # noqa: ANN001, ANN202
    """Two panels a leader can read: the strongest category alert's weekly series against its
    expected level, and the hottest issues by heat."""
    import matplotlib.pyplot as plt
    import numpy as np

    from govml.plots import setup_cjk
    from govml.text.alerts import period_start

    setup_cjk()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5), gridspec_kw={"width_ratios": [3, 2]})
    cells = det.cells_[det.cells_["kind"] == "category"]
    strong = cells[cells["level"].isin(["预警", "告警"])].sort_values("score", ascending=False)
    if len(strong):
        g, key = strong.iloc[0]["group"], strong.iloc[0]["key"]
        sel = cells[(cells["group"] == g) & (cells["key"] == key)].sort_values("period_start")
        weeks = period_start(df[det.time_col], det.period)
        mask = df[by].astype(str) == str(g)
        if det.label_col is not None and det.label_col in df.columns:  # without categories: the group's total
            mask &= df[det.label_col].astype(str) == str(key)
        obs = df[mask].groupby(weeks).size().reindex(det.periods_, fill_value=0)
        ax1.bar(obs.index, obs.to_numpy(), width=5 if det.period == "W" else 20, color="#9fb3c8", label="留言数")
        ax1.plot(sel["period_start"], sel["baseline"].astype(float), color="#2c3e50", label="预期（仅用历史）")
        for lvl, color in (("预警", "#e67e22"), ("告警", "#c0392b")):
            hit = sel[sel["level"] == lvl]
            ax1.scatter(hit["period_start"], obs.reindex(hit["period_start"]).to_numpy(), color=color, zorder=3,
                        s=40, label=f"{lvl}（截至该周的 1–4 周窗口）")
        ax1.set_title(f"{g} · {key}：每周留言与预期")
        ax1.legend(loc="upper left", fontsize=9)
        ax1.grid(alpha=0.3)
    else:
        ax1.text(0.5, 0.5, "无 预警/告警", ha="center", va="center")
        ax1.set_axis_off()
    top = hot.head(10).iloc[::-1]
    labels = [f"{p or '（无地点）'}·{s[:12]}" for p, s in zip(top["place"], top["summary"], strict=True)]
    ax2.barh(np.arange(len(top)), top["heat"].astype(float), color="#c0392b")
    ax2.set_yticks(np.arange(len(top)), labels, fontsize=8)
    ax2.set_title("热点问题（热度）")
    ax2.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def demo_step_alerts(ctx) -> list[Path]:  # noqa: ANN001 (govml.cli.demo.DemoContext)
    """Hot issues and early-warning alerts on the sample messages, with a figure; scored against the
    planted truth when data_samples has it."""
    import pandas as pd
    from rich.console import Console

    from govml import tracking
    from govml.io import write_table
    from govml.plots import save_figure
    from govml.text.alerts import OUTPUT_COLUMNS as ALERT_COLUMNS
    from govml.text.alerts import SurgeDetector, score_alerts
    from govml.text.hot_issues import OUTPUT_COLUMNS as HOT_COLUMNS
    from govml.text.hot_issues import HotIssueFinder
    from govml.text.tokenize import GovTokenizer

    console = Console()
    samples = Path(ctx.samples_dir)
    src = samples / "messages.csv"
    if not src.exists():
        console.print(f"[yellow]demands-alerts: {src} missing (run `govml samples --out {samples}`); step skipped[/]")
        return []
    # read as `govml demands hot-issues / alerts` read it (the demands step's commands do): an export's own column
    # names (留言详情, 留言时间 …) recognised, rows without a readable time left out with a warning — not stricter
    # than the step before it on the same file (session 16)
    text_cols = ["text"]
    df, _ = _read_for_text(src, text_cols=text_cols, required=[("--id-col", "id"), ("--time-col", "created_at")],
                           optional=["likes", "user_id", "community", "category"])
    if "community" not in df.columns:
        df["community"] = "全部"
        console.print(f"[yellow]No 'community' column in {src}: all messages are one group, '全部'.")
    tok = GovTokenizer()
    hot = HotIssueFinder(text_cols=tuple(text_cols), likes_col="likes" if "likes" in df.columns else None,
                         user_col="user_id" if "user_id" in df.columns else None).fit(df)
    det = SurgeDetector(by="community", period="W", tokenizer=tok, text_col="_text",
                        label_col="category" if "category" in df.columns else None).fit(df)
    hot_path = ctx.report_path("demands", "hot_issues.csv")
    alerts_path = ctx.report_path("demands", "alerts.csv")
    fig_path = ctx.report_path("demands", "alerts.png")
    write_table(hot.issues_[HOT_COLUMNS].head(20), hot_path)
    write_table(det.alerts_[ALERT_COLUMNS], alerts_path)
    counts = det.alerts_["level"].value_counts()
    metrics = {"messages": len(df), "issues": len(hot.issues_), "alerts_alarm": int(counts.get("告警", 0)),
               "alerts_warning": int(counts.get("预警", 0)), "alerts_watch": int(counts.get("关注", 0)),
               "group_periods": det.n_group_periods_}
    truth_path = samples / "truth_surges.csv"
    if truth_path.exists():
        hot_truth = samples / "truth_hot_issues.csv"
        known = pd.read_csv(hot_truth) if hot_truth.exists() else None
        s = score_alerts(det.cells_, pd.read_csv(truth_path), by="community", period="W",
                         n_group_periods=det.n_group_periods_, known_events=known, tokenizer=tok)
        metrics.update(surge_recall=s["recall"], false_alerts_per_100=s["false_per_100"])
        console.print(f"planted surges found: {s['hits']}/{s['n_surges']} (recall {s['recall']:.2f}); false alerts "
                      f"{s['false_alerts']} = {s['false_per_100']:.2f} per 100 community-weeks")
    fig = _alert_figure(det, df, hot.issues_, "community")
    with tracking.run("demand-alerts", run_name="demo", params={"by": "community", "period": "W"}):
        tracking.log_metrics(metrics)
        tracking.log_figure(fig, "alerts.png")
    save_figure(fig, fig_path)
    console.print(f"{len(hot.issues_)} hot issues (top: {hot.issues_.iloc[0]['summary'] if len(hot.issues_) else '-'}); "
                  f"alerts: 告警 {metrics['alerts_alarm']}, 预警 {metrics['alerts_warning']}, "
                  f"关注 {metrics['alerts_watch']}", highlight=False)
    return [hot_path, alerts_path, fig_path]
