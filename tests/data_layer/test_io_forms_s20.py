"""Session 20, round 7b: the round-7 shapes in every common file form (benchmarks/data_forms_cross.py).

A workbook with header cells wrapped (Alt+Enter) saved by Excel as "Unicode text" (UTF-16 LE with a BOM,
tab-separated, .txt): the first header cell is quoted and runs over two lines, so its first line holds no tab; the
delimiter was taken from that line alone (a comma) and the table read as one column ("row 3371: expected at most 1
cells (the header has 1)", exit 2)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from cli_runner import govml
from govml.io import read_table

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"


def _unicode_text(rows: list[list[str]], path: Path) -> Path:
    """Rows as Excel's "Unicode text": UTF-16 LE with a BOM, tabs, CRLF, cells with a line break quoted."""
    buf = io.StringIO()
    csv.writer(buf, delimiter="\t", lineterminator="\r\n").writerows(rows)
    path.write_bytes(b"\xff\xfe" + buf.getvalue().encode("utf-16-le"))
    return path


@pytest.fixture(scope="module")
def wrapped_rows() -> list[list[str]]:
    df = pd.read_csv(SAMPLES / "messages.csv", nrows=40, dtype=str)
    header = ["留言\n编号", "留言\n时间", "留言\n详情", "区　县"]
    return [header, *([r.id, r.created_at, r.text, r.district] for r in df.itertuples())]


@pytest.mark.parametrize("suffix", [".txt", ".csv"])
def test_unicode_text_with_wrapped_header_is_read_as_tab_separated(tmp_path: Path, wrapped_rows: list[list[str]],
                                                                   suffix: str) -> None:
    f = _unicode_text(wrapped_rows, tmp_path / f"export{suffix}")
    df = read_table(f)
    assert df.shape == (40, 4)
    assert df.attrs["govml"]["delimiter"] == "\t"
    assert df.iloc[:, 0].tolist() == [r[0] for r in wrapped_rows[1:]]
    assert df.iloc[:, 2].tolist() == [r[2] for r in wrapped_rows[1:]]


def test_unicode_text_with_wrapped_header_through_the_cli(tmp_path: Path, wrapped_rows: list[list[str]]) -> None:
    f = _unicode_text(wrapped_rows, tmp_path / "export.txt")
    code, out = govml("demands", "top", f, "--text-col", "留言 详情", "--time-col", "留言 时间", "--id-col",
                      "留言 编号", "--by", "区　县", "--period", "M", "--out", tmp_path / "top.csv")
    assert code == 0, out
    top = pd.read_csv(tmp_path / "top.csv")
    assert len(top) > 0


def test_comma_file_with_a_wrapped_first_cell_stays_comma(tmp_path: Path, wrapped_rows: list[list[str]]) -> None:
    """The same rows comma-separated (cells holding tabs are quoted): still read with commas."""
    rows = [[*r[:2], r[2] + "\t附件", r[3]] for r in wrapped_rows]
    f = tmp_path / "export.csv"
    with open(f, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    df = read_table(f)
    assert df.shape == (40, 4)
    assert df.attrs["govml"]["delimiter"] == ","
    assert df.iloc[:, 0].tolist() == [r[0] for r in rows[1:]]
    assert all(t.endswith("附件") for t in df.iloc[:, 2])  # the tab inside the cell stays in its cell
