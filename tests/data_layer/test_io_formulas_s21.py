"""Session 21: formulas a program wrote into an .xlsx and no spreadsheet ever calculated (read as empty) are said,
naming the cells — before, a time column of such formulas only gave 'time is empty'; columns hidden in Excel are
said too (read as data, as before)."""
from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from govml.io import _UNSAVED_FORMULA, read_table


def _events_book(path: Path, formulas: bool = True, n: int = 30) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "工单"
    ws.append(["id", "created_at", "community", "category", "备注", "raw"])
    for i in range(1, n + 1):
        when = f'=TEXT(F{i + 1},"yyyy-mm-dd")' if formulas else f"2024-01-{i % 28 + 1:02d}"
        ws.append([i, when, "东园社区" if i % 2 else "西园社区", "噪声", None, 45000 + i])
    wb.save(path)
    return path


def _with_results(src: Path, dst: Path) -> Path:
    """The same workbook as a spreadsheet saves it: every formula with its result stored (``<v>…</v>``)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"(<c r=\"B(\d+)\")>(<f>[^<]*</f>)<v></v>",
                              lambda m: m.group(1) + b' t="str">' + m.group(3) + b"<v>2024-01-0"
                              + str(int(m.group(2)) % 9 + 1).encode() + b"</v>", data)
            zout.writestr(item, data)
    return dst


def test_formulas_without_results_are_named(tmp_path, caplog):
    path = _events_book(tmp_path / "导出.xlsx")
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(path)
    assert df["created_at"].isna().all()  # read as empty, as every reader reads them
    said = [r.getMessage() for r in caplog.records if "never saved" in r.getMessage()]
    assert len(said) == 1, caplog.text
    assert "sheet '工单': 30 cell(s) hold a formula" in said[0]
    assert "(B2, B3, B4, B5, B6, B7 …)" in said[0] and "open the file in Excel or WPS and save it" in said[0]


def test_formulas_with_saved_results_and_empty_columns_are_not_flagged(tmp_path, caplog):
    saved = _with_results(_events_book(tmp_path / "raw.xlsx"), tmp_path / "saved.xlsx")
    plain = _events_book(tmp_path / "plain.xlsx", formulas=False)  # a 备注 column empty in every row: no formulas
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        a = read_table(saved)
        b = read_table(plain)
    assert a["created_at"].notna().all() and b["created_at"].notna().all()
    assert "never saved" not in caplog.text


@pytest.mark.parametrize(("xml", "cells"), [
    (b'<c r="B2"><f>A2*2</f></c>', ["B2"]),                                    # no <v> at all
    (b'<c r="AB12" s="1"><f t="shared" si="0"/><v/></c>', ["AB12"]),            # a shared formula, empty <v/>
    (b'<x:c r="C3"><x:f>SUM(A1:A2)</x:f><x:v></x:v></x:c>', ["C3"]),            # a namespace prefix
    (b'<c r="B2"><f>A2*2</f><v>4</v></c><c r="B3" t="str"><f>A3</f><v>x</v></c>', []),  # results saved
    (b'<c r="B2" t="inlineStr"><is><t>f</t></is></c>', []),                     # text, no formula
])
def test_the_cell_pattern(xml, cells):
    assert [m.group(1).decode() for m in _UNSAVED_FORMULA.finditer(b"<sheetData><row>" + xml + b"</row>")] == cells


def test_the_command_says_why_the_times_are_empty(tmp_path):
    path = _events_book(tmp_path / "events.xlsx")
    env = {**os.environ, "GOVML_HOME": str(tmp_path / "home"), "COLUMNS": "300"}
    res = subprocess.run([sys.executable, "-c", "from govml.cli import main; main()", "hotspots", "forecast",
                          str(path), "--out", str(tmp_path / "f.csv")], capture_output=True, text=True, env=env,
                         timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode != 0  # no usable events: every time is a formula without a result
    assert "30 cell(s) hold a formula whose result was never saved" in " ".join(out.split()), out
    assert "time is empty" in out


def _hidden_book(path: Path, hide: tuple[str, ...]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "工单"
    ws.append(["序号", "id", "created_at", "community", "category", "内部时间", "备用"])
    for i in range(1, 21):
        ws.append([i, f"GD{i:03d}", f"2024-01-{i:02d} 08:00", "东园社区", "噪声", 1704067200 + i, None])
    for col in hide:
        ws.column_dimensions[col].hidden = True
    wb.save(path)
    return path


def test_columns_hidden_in_excel_are_said_and_read(tmp_path, caplog):
    path = _hidden_book(tmp_path / "hidden.xlsx", ("A", "F"))
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(path)
    assert df["序号"].tolist()[:3] == [1, 2, 3] and "内部时间" in df.columns  # read as data, as before
    said = [r.getMessage() for r in caplog.records if "hidden in Excel" in r.getMessage()]
    assert len(said) == 1, caplog.text
    assert said[0].endswith("sheet '工单': column(s) hidden in Excel are read as data like the others: "
                            "A ('序号'), F ('内部时间')"), said


def test_no_hidden_column_no_word_and_a_run_to_the_last_column(tmp_path, caplog):
    plain = _hidden_book(tmp_path / "plain.xlsx", ())
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        read_table(plain)
    assert "hidden in Excel" not in caplog.text
    # a run hidden to Excel's last column (<col min="7" max="16384" hidden="1"/>): only the columns with data named
    src = _hidden_book(tmp_path / "run.xlsx", ())
    dst = tmp_path / "run2.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data.replace(b"<sheetData>", b'<cols><col min="6" max="16384" hidden="1"/></cols><sheetData>', 1)
            zout.writestr(item, data)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        read_table(dst)
    said = [r.getMessage() for r in caplog.records if "hidden in Excel" in r.getMessage()]
    assert len(said) == 1 and said[0].endswith("F ('内部时间'), G ('备用')"), said
