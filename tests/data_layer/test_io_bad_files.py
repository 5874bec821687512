"""The deliberately broken files in tests/data/bad/: the message (and exit code) each one gets.

Exit codes of `govml validate`: 0 usable (warnings allowed), 1 not usable (problems listed),
2 not readable at all (one line on stderr, no traceback).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from govml.cli import main
from govml.io import load
from govml.schemas import check_file

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"


def _validate(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("COLUMNS", "300")
    with pytest.raises(SystemExit) as exc:
        main(["validate", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return int(exc.value.code or 0), out, err


# file, validate options, expected one-line error on stderr
UNREADABLE = [
    ("empty.csv", [], "empty.csv: the file is empty (0 bytes); expected a header row and data"),
    ("binary_garbage.csv", [], "binary_garbage.csv: this is not a text table (binary content in its first bytes)"),
    ("gbk_messages.csv", ["--encoding", "utf-8"],
     "gbk_messages.csv: cannot be decoded as utf-8: invalid bytes b'\\xc8\\xd8\\xc7\\xf8' at byte 65 (line 2) "
     "(it looks like gbk); leave --encoding out to detect the encoding automatically"),
    ("ragged_row.csv", [], "ragged_row.csv, row 3: expected at most 5 cells (the header has 5), found '6 cells'"),
    ("not_really.xlsx", [], "not_really.xlsx: not a readable .xlsx workbook (not a ZIP archive, as .xlsx files are); "
     "if it is an old .xls or a CSV renamed, save it as .xlsx or .csv"),
]


@pytest.mark.parametrize("name,opts,message", UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_unreadable_files_get_one_line(capsys, monkeypatch, name: str, opts: list[str], message: str) -> None:  # noqa: ANN001
    code, out, err = _validate(capsys, monkeypatch, str(BAD / name), "--kind", "messages", *opts)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: ") and str(BAD / name) in err and message in err


# file, kind, options, [(row, column, substring of expected, found)]
UNUSABLE = [
    ("missing_column.csv", "messages", [],
     [(None, "created_at", "did you mean 'create_time'? map it with --map created_at=create_time",
       "columns: id, create_time, district, community, text")]),
    ("bad_dates.csv", "messages", [],
     [(3, "created_at", "a date/time such as 2019-02-28", "2024-13-45 10:00:00"),
      (4, "created_at", "a value (when the message was left)", "(empty)"),
      (5, "created_at", "a date/time such as 2019-02-28", "昨天下午")]),
    ("duplicate_ids.csv", "messages", [], [(4, "id", "a unique id (the same is on row 2)", "M001")]),
    ("embedded_newlines.csv", "messages", [], [(4, "created_at", "a date/time", "not a date")]),
    ("header_only.csv", "messages", [], [(None, None, "at least one data row", "only a header")]),
    ("bad_likes.csv", "messages", [], [(3, "likes", "a number ≥ 0", "-2"), (4, "likes", "a whole number", "很多")]),
    ("bad_courses.csv", "courses", [],
     [(3, "hours", "a number > 0", "0"), (4, "cost", "a number ≥ 0", "-5"),
      (4, "indicators", "name:strength pairs separated by ';'", "信息化能力=高"),
      (4, "prerequisites", "ids of courses in this catalog", "C99")]),
    ("bad_assessments.csv", "assessments", [],
     [(3, "area_type", "one of urban, rural", "郊区"), (3, "政策水平", "a number (indicator score)", "优秀"),
      (4, "worker × period", "a unique worker × period (the same is on row 2)", "W001, 2024Q1")]),
]


@pytest.mark.parametrize("name,kind,opts,problems", UNUSABLE, ids=[u[0] for u in UNUSABLE])
def test_unusable_files_list_every_problem(capsys, monkeypatch, name, kind, opts, problems) -> None:  # noqa: ANN001
    path = BAD / name
    report = check_file(path, kind)
    got = sorted(((p.row or 0, p.column or ""), p) for p in report.errors)
    assert len(got) == len(problems)
    for (_, p), (row, column, expected, found) in zip(got, sorted(problems, key=lambda x: (x[0] or 0, x[1] or "")),
                                                      strict=True):
        assert (p.file, p.row, p.column, p.found) == (str(path), row, column, found)
        assert expected in p.expected
    code, out, err = _validate(capsys, monkeypatch, str(path), "--kind", kind, *opts)
    assert code == 1 and err == ""
    assert f"✗ cannot be used as {kind}: {len(problems)} problem(s) to fix" in out
    for row, column, _, _found in problems:
        assert re.search(rf"│ {row if row else '-'}\s+│ {re.escape(column or '-')}\s+│", out), (row, column, out)


def test_gbk_file_is_read_when_detected(capsys, monkeypatch) -> None:  # noqa: ANN001
    code, out, _ = _validate(capsys, monkeypatch, str(BAD / "gbk_messages.csv"), "--kind", "messages")
    assert code == 0 and "CSV, encoding gbk, header on row 1" in out and "✓ usable as messages (3 rows" in out
    df = load(BAD / "gbk_messages.csv", "messages")
    assert df["district"].tolist() == ["芙蓉区", "天心区", "雨花区"]


def test_giant_cell_is_truncated_with_a_warning(capsys, monkeypatch) -> None:  # noqa: ANN001
    assert (BAD / "giant_cell.csv").stat().st_size > 1_048_576
    (w,) = check_file(BAD / "giant_cell.csv", "messages").warnings
    assert (w.row, w.column, w.found) == (3, "text", "349,528 characters")
    assert w.expected == "a text of at most 100,000 characters (kept the first 100,000)"
    code, out, _ = _validate(capsys, monkeypatch, str(BAD / "giant_cell.csv"), "--kind", "messages")
    assert code == 0 and "✓ usable as messages (3 rows, 1 warnings)" in out


def test_xlsx_with_two_title_rows_is_read_from_its_real_header(capsys, monkeypatch) -> None:  # noqa: ANN001
    path = BAD / "two_title_rows.xlsx"
    code, out, _ = _validate(capsys, monkeypatch, str(path), "--kind", "messages", "--profile", "hotline12345")
    assert code == 0
    assert "XLSX, sheet '工单', header on row 3" in out and "✓ usable as messages (3 rows, 0 warnings)" in out
    from govml.config import resolve_mapping

    df = load(path, "messages", mapping=resolve_mapping(profile="hotline12345"))
    assert df["id"].tolist() == ["M001", "M002", "M003"]
    assert df["created_at"].tolist() == [pd.Timestamp("2024-03-01 08:15"), pd.Timestamp("2024-03-02 12:00"),
                                         pd.Timestamp("2024-03-03")]
    assert df["text"].tolist() == ["小区门口路灯坏了 一个多月", "楼上装修噪音太大 希望处理", "垃圾清运不及时"]
    # without a mapping the header is still found, and the missing canonical names are explained
    report = check_file(path, "messages")
    assert report.meta["header_row"] == 3
    assert {p.column for p in report.errors} == {"id", "created_at", "district", "community", "text"}
    assert "use --profile hotline12345 or --map district=所属区县" in next(
        p.expected for p in report.errors if p.column == "district")


def test_committed_bad_files_are_what_the_script_makes(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_bad_files", BAD / "make_bad_files.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in BAD.iterdir() if p.suffix in (".csv", ".xlsx"))
    for name in made:
        if name.endswith(".csv") or name == "not_really.xlsx":
            assert (tmp_path / name).read_bytes() == (BAD / name).read_bytes(), name
        else:  # workbooks carry a save time: compare what they hold
            from govml.io import read_table

            assert read_table(tmp_path / name).equals(read_table(BAD / name)), name
