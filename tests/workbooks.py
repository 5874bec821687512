"""Excel workbooks built in the tests (several sheets, rows as lists)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook


def write_workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """Write ``sheets`` (sheet name → rows, each a list of cell values) to ``path`` as an .xlsx; return the path."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path
