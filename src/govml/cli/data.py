"""`govml validate` and `govml samples`: the data layer's face (and the `data` demo step)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from govml.schemas import Report

KINDS = ("messages", "events", "assessments", "courses")

#: sample files the demo validates, and as what
SAMPLE_FILES = (
    ("messages.csv", "messages"),
    ("complaints.csv", "events"),
    ("assessments.csv", "assessments"),
    ("courses.csv", "courses"),
)


def _check(file: Path, kind: str, *, encoding: str | None = None, sheet: str | None = None,
           header_row: int | None = None, mapping: dict[str, str] | None = None,
           max_problems: int = 50, drop_incomplete: bool = False, columns_config: Path | None = None) -> Report:
    from govml.config import header_aliases
    from govml.schemas import check_file

    # the header names the commands read (工号, 考核周期 …; more under aliases.<kind> in columns.yaml)
    aliases = header_aliases(kind, columns_config)
    return check_file(file, kind, mapping=mapping, encoding=encoding, sheet=sheet, header_row=header_row,
                      max_problems=max_problems, drop_incomplete=drop_incomplete, aliases=aliases)


def _where(report: Report) -> str:
    meta = report.meta
    fmt = meta.get("format", "?")
    bits = [{"html": "HTML (a web page)", "spreadsheetml": "Excel 2003 XML"}.get(fmt, str(fmt).upper())]
    if meta.get("encoding"):
        bits.append(f"encoding {meta['encoding']}")
    if meta.get("delimiter") and meta.get("delimiter") not in (",", "\t"):
        bits.append(f"delimiter {meta['delimiter']!r}")
    if len(meta.get("sheets_read") or []) > 1:  # --sheet all
        bits.append(f"sheets {', '.join(map(repr, meta['sheets_read']))} read together")
    elif meta.get("sheet"):
        bits.append(f"sheet {meta['sheet']!r}")
    if meta.get("header_row"):
        bits.append(f"header on row {meta['header_row']}")
    sheets = meta.get("sheets") or []
    if len(sheets) > 1:  # which sheet of how many was read is always said
        bits.append(f"the {'page' if fmt == 'html' else 'workbook'}'s {'tables' if fmt == 'html' else 'sheets'}: "
                    f"{', '.join(map(repr, sheets))}")
    return ", ".join(bits)


def _sorted(problems: list) -> list:
    """File-level problems first, then by row (stable within a row)."""
    return sorted(problems, key=lambda p: -1 if p.row is None else p.row)


def render_report(report: Report, console) -> None:  # noqa: ANN001 (rich Console, imported lazily)
    """Print a validation report with rich."""
    from rich.table import Table

    console.print(f"[bold]{report.file}[/] as [bold]{report.kind}[/]: {_where(report)}", highlight=False)
    # The file's data rows: --drop-incomplete's drops are counted back (the last line says how many were dropped).
    n_read = (report.n_rows + int(report.meta.get("dropped_rows") or 0) if report.frame is not None
              else len(report.rows))
    console.print(f"  {n_read} data rows, "
                  f"{len(report.columns_found)} columns: {', '.join(report.columns_found)}", highlight=False)
    if report.mapping:
        console.print("  column mapping: " + ", ".join(f"{k} ← {v}" for k, v in report.mapping.items()),
                      highlight=False)
    if report.meta.get("profile_unused"):
        console.print("  [dim]profile columns not in this file: " + ", ".join(report.meta["profile_unused"])
                      + "[/]", highlight=False)
    for note in report.meta.get("notes") or []:  # how the times were read (Unix times and UTC offsets converted to Beijing time)
        console.print(f"  [yellow]note:[/] {note}", highlight=False)
    if report.meta.get("indicators"):
        console.print(f"  {report.meta.get('assessment_form')} form, indicators: "
                      + ", ".join(map(str, report.meta["indicators"])), highlight=False)
    for title, problems, more, style in (
        ("errors", report.errors, report.truncated, "red"),
        ("warnings", report.warnings, report.warnings_truncated, "yellow"),
    ):
        if not problems:
            continue
        table = Table(title=f"{len(problems)}{'+' if more else ''} {title}", title_style=f"bold {style}",
                      title_justify="left", show_lines=False)
        for col in ("row", "column", "expected", "found"):
            table.add_column(col, overflow="fold")
        for p in _sorted(problems):
            found = p.found if p.found is None or len(p.found) <= 200 else p.found[:197] + "..."
            table.add_row("-" if p.row is None else str(p.row), p.column or "-", p.expected, found or "-")
        console.print(table)
        if more:
            console.print(f"  [{style}]... more {title} not shown (raise --max-problems)[/]")
    if report.ok:
        dropped = report.meta.get("dropped_rows")
        console.print(f"[bold green]✓ usable as {report.kind}[/] ({report.n_rows} rows"
                      + (f" after dropping {dropped:,} incomplete" if dropped else "") + ", "
                      f"{len(report.warnings)}{'+' if report.warnings_truncated else ''} warnings)")
    else:
        console.print(f"[bold red]✗ cannot be used as {report.kind}[/]: "
                      f"{len(report.errors)}{'+' if report.truncated else ''} problem(s) to fix")


def report_markdown(report: Report) -> str:
    """The report as a Markdown section (used by the demo); personal data in values is masked."""
    from govml.io import masked

    lines = [f"## `{Path(report.file).name}` as {report.kind}", "",
             f"- read as: {_where(report)}",
             f"- rows: {report.n_rows}; columns: {', '.join(report.columns_found)}"]
    if report.mapping:
        lines.append("- column mapping: " + ", ".join(f"{k} ← {v}" for k, v in report.mapping.items()))
    if report.meta.get("indicators"):
        lines.append(f"- {report.meta.get('assessment_form')} form, indicators: "
                     + ", ".join(map(str, report.meta["indicators"])))
    lines.append(f"- result: **{'usable' if report.ok else 'NOT usable'}** — {len(report.errors)} error(s), "
                 f"{len(report.warnings)} warning(s)")
    for title, problems in (("Errors", report.errors), ("Warnings", report.warnings)):
        if problems:
            lines += ["", f"{title}:", "", "| row | column | expected | found |", "| --- | --- | --- | --- |"]
            for p in _sorted([masked(p) for p in problems]):  # a report file is shared: mask personal data
                cells = ["-" if p.row is None else str(p.row), p.column or "-", p.expected, p.found or "-"]
                lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _problem_dict(p: Any) -> dict:
    """A problem as plain data; a row of a workbook whose sheets were read as one table (``--sheet all``) also
    names its sheet (``"sheet": "1月"``: the row number alone is in every sheet)."""
    import dataclasses

    out = dataclasses.asdict(p)
    if hasattr(p.row, "sheet"):
        out["row"], out["sheet"] = int(p.row), p.row.sheet
    return out


def report_dict(report: Report) -> dict:
    """The report as plain data (for ``--json``); personal data in values is masked."""
    from govml.io import masked

    meta = {k: v for k, v in report.meta.items() if k not in ("rows", "warnings")}
    return {
        "file": report.file, "kind": report.kind, "usable": report.ok, "rows": report.n_rows,
        "columns": report.columns_found, "mapping": dict(report.mapping), "read": meta,
        "errors": [_problem_dict(masked(p)) for p in report.errors], "errors_truncated": report.truncated,
        "warnings": [_problem_dict(masked(p)) for p in report.warnings],
        "warnings_truncated": report.warnings_truncated,
    }


def register(app: typer.Typer) -> None:
    """Add the data commands (`validate`, `samples`) to the root app."""

    @app.command("validate")
    def validate(
        file: Path = typer.Argument(..., help="The table to check: CSV, TSV, XLSX, Parquet or JSONL (.gz ok)."),
        kind: str = typer.Option(..., "--kind", "-k", help="What the table is: " + ", ".join(KINDS) + "."),
        encoding: str = typer.Option(None, "--encoding", help="Force a text encoding (default: detected: "
                                     "UTF-8, UTF-8-BOM, GBK, GB18030)."),
        sheet: str = typer.Option(None, "--sheet", help="Excel sheet: name or 0-based number (default: the first that names known columns, else the first); all: every sheet with the same header, read as one table."),
        header_row: int = typer.Option(None, "--header-row", help="Row number (from 1) of the header "
                                       "(default: found automatically, skipping title rows)."),
        map_: list[str] = typer.Option(None, "--map", help="Column mapping canonical=their_column, "
                                       "e.g. --map created_at=留言时间 (repeatable)."),
        profile: str = typer.Option(None, "--profile", help="A column-mapping profile from "
                                    "configs/columns.yaml (e.g. teddycup, boston311)."),
        columns_config: Path = typer.Option(None, "--columns-config", help="Another columns.yaml to take "
                                            "--profile (and more header names, aliases.KIND) from."),
        max_problems: int = typer.Option(50, "--max-problems", min=1, help="Stop listing after this many "
                                         "problems."),
        drop_incomplete: bool = typer.Option(False, "--drop-incomplete", help="Drop rows with an empty "
                                             "required value (warned) instead of refusing the table."),
        json_out: Path = typer.Option(None, "--json", help="Also write the report as JSON to this file."),
    ) -> None:
        """Check that a table can be used as messages, events, assessments or courses.

        Lists every problem with its file, row, column, what was expected and what was found;
        exits 0 when the table is usable (warnings allowed), 1 when it is not, 2 when the file
        cannot be read at all.
        """
        from rich.console import Console

        from govml.config import resolve_mapping
        from govml.errors import ConfigError

        if kind not in KINDS:
            raise ConfigError(f"--kind {kind!r}: expected one of {', '.join(KINDS)}")
        mapping = resolve_mapping(map_, profile=profile, path=columns_config)
        if mapping.kinds and kind not in mapping.kinds:
            Console(stderr=True).print(f"[yellow]note:[/] profile {profile!r} is meant for "
                                       f"{', '.join(mapping.kinds)}, not {kind}", highlight=False)
        report = _check(file, kind, encoding=encoding, sheet=sheet, header_row=header_row, mapping=mapping,
                        max_problems=max_problems, drop_incomplete=drop_incomplete, columns_config=columns_config)
        render_report(report, Console(soft_wrap=False))
        if json_out is not None:
            import json

            from govml.io import atomic_path

            with atomic_path(json_out) as tmp:
                tmp.write_text(json.dumps(report_dict(report), ensure_ascii=False, indent=1, default=str),
                               encoding="utf-8")
        raise typer.Exit(0 if report.ok else 1)

    @app.command("samples")
    def samples(
        out: Path = typer.Option(Path("data_samples"), "--out", help="Folder to write the sample files to."),
        scale: int = typer.Option(1, "--scale", min=1, help="Size multiplier (1 = the committed samples)."),
        seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same files)."),
        only: list[str] = typer.Option(None, "--only", help="Only these generators (repeatable)."),
    ) -> None:
        """Generate the sample data (deterministic); larger --scale for benchmarks."""
        from rich.console import Console

        from govml import samples as gen
        from govml.errors import ConfigError

        unknown = sorted(set(only or []) - set(gen.GENERATORS))
        if unknown:
            raise ConfigError(f"--only {', '.join(unknown)}: unknown generator(s); known: "
                              + (", ".join(sorted(gen.GENERATORS)) or "none"))
        written = gen.generate_all(out, scale=scale, seed=seed, only=only or None)
        console = Console(soft_wrap=True)  # paths stay on one line, copyable
        for p in written:
            console.print(f"  wrote {p}", highlight=False)
        console.print(f"{len(written)} file(s) under [bold]{out.resolve()}[/]")


def demo_step(ctx) -> list[Path]:  # noqa: ANN001 (govml.cli.demo.DemoContext)
    """Demo step: validate each sample file present and write reports/data/validation.md."""
    import logging

    from rich.console import Console

    from govml import tracking
    from govml.errors import DataError
    from govml.io import atomic_path

    log = logging.getLogger(__name__)
    console = Console(soft_wrap=True)
    sections = []
    metrics: dict[str, float] = {}
    for name, kind in SAMPLE_FILES:
        path = Path(ctx.samples_dir) / name
        if not path.exists():
            sections.append(f"## `{name}` as {kind}\n\n- not present in {ctx.samples_dir}\n")
            console.print(f"{name}: not in {ctx.samples_dir}", highlight=False)
            continue
        try:
            report = _check(path, kind)
        except DataError as exc:
            sections.append(f"## `{name}` as {kind}\n\n- unreadable: {exc}\n")
            metrics[f"{kind}_usable"] = 0.0
            console.print(f"{name}: [bold red]unreadable[/] as {kind}", highlight=False)
            continue
        sections.append(report_markdown(report))
        metrics[f"{kind}_rows"] = float(report.n_rows)
        metrics[f"{kind}_errors"] = float(len(report.errors))
        metrics[f"{kind}_warnings"] = float(len(report.warnings))
        metrics[f"{kind}_usable"] = float(report.ok)
        log.info("demo data: %s as %s: %s", name, kind, "usable" if report.ok else "NOT usable")
        console.print(f"{name}: " + ("usable" if report.ok else "[bold red]NOT usable[/]") + f" as {kind} "
                      f"({report.n_rows:,} row(s), {len(report.errors)} problem(s), {len(report.warnings)} warning(s))",
                      highlight=False)
    out = ctx.report_path("data", "validation.md")
    text = "# Sample data validation\n\n" + "\n".join(sections)
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    console.print(f"details (how each file was read, every problem with its row and column): {out}", highlight=False)
    try:
        with tracking.run("data", run_name="demo-validate"):
            tracking.log_metrics(metrics)
    except Exception:  # noqa: BLE001 — tracking is a record of the demo, not its purpose
        log.warning("could not record the data step in MLflow", exc_info=True)
    return [out]
