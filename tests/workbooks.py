"""Excel workbooks built in the tests (several sheets, rows as lists)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook


def write_workbook(path: Path, sheets: dict[str, list[list[object]]], *, hidden: tuple[str, ...] = (),
                   merges: dict[str, list[str]] | None = None) -> Path:
    """Write ``sheets`` (sheet name → rows, each a list of cell values) to ``path`` as an .xlsx; return the path.
    ``hidden``: sheets hidden in Excel; ``merges``: sheet name → ranges merged as Excel merges them (``"C2:C4"``: the
    value stays in C2, the other cells are emptied)."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
        if name in hidden:
            ws.sheet_state = "hidden"
        for rng in (merges or {}).get(name, ()):
            ws.merge_cells(rng)
    wb.save(path)
    return path
