"""Session 13 dry run (issues #3, #4): a workbook of monthly sheets read as one table (``--sheet all``) names the
sheet of every row a message names — ``1月!4``, as the footer note does: row 4 is in every sheet —, in the
checked commands (validate, demands top / alerts, hotspots forecast), in row sets and in row runs; Java's and
JavaScript's ``Date.toString`` and RFC 1123 times in GMT / UTC / GMT+hh:mm are read on Beijing's clock. Inputs are
built here."""

from __future__ import annotations

import copy
import json
import logging
import pickle
from pathlib import Path

import pandas as pd
import pytest

from cli_runner import govml
from govml import schemas
from govml.errors import Problem, SheetRow
from govml.io import _compact_rows, date_notes, parse_datetime, read_table, source_rows
from workbooks import write_workbook

HEADER = ["工单编号", "受理时间", "所属社区", "问题分类", "诉求内容"]
EVENTS = {"created_at": "受理时间", "community": "所属社区", "category": "问题分类", "id": "工单编号"}


def _monthly_book(path: Path) -> Path:
    """Three monthly sheets (1月–3月) of 8 complaints each (sheet rows 2–9); the same row number is bad in two
    sheets: row 4 holds an unreadable time in 1月 ('不详') and in 2月 ('待定'), and no time in 3月; row 3 of 2月
    repeats the id of row 3 of 1月."""
    sheets = {}
    for m in (1, 2, 3):
        rows: list[list[object]] = [HEADER]
        for i in range(8):
            rows.append([f"GD{m}{i:03d}", f"2023-{m:02d}-{3 * i + 1:02d} 09:30", ["东湖社区", "西湖社区"][i % 2],
                         ["噪音扰民", "物业管理"][(i // 2) % 2], "楼上装修噪音扰民，请尽快处理"])
        sheets[f"{m}月"] = rows
    sheets["1月"][3][1], sheets["2月"][3][1], sheets["3月"][3][1] = "不详", "待定", None
    sheets["2月"][2][0] = sheets["1月"][2][0]
    return write_workbook(path, sheets)


def test_a_sheet_row_is_an_int_that_names_its_sheet() -> None:
    a, b = SheetRow(12, "1月", 0), SheetRow(12, "2月", 1)
    assert str(a) == repr(a) == f"{a}" == "1月!12" and f"row {b}" == "row 2月!12" and int(a) == 12
    assert a != b and a == 12 and len({a, b}) == 2 and len({(a, "t"), (SheetRow(12, "1月"), "t")}) == 1
    # ordered by the sheet's place in the workbook, then by row; the next row stays on its sheet
    assert sorted([b, SheetRow(3, "2月", 1), SheetRow(40, "1月", 0), a]) == [a, SheetRow(40, "1月"), SheetRow(3, "2月"), b]
    assert str(sorted([b, SheetRow(3, "2月", 1), a])) == "[1月!12, 2月!3, 2月!12]"
    assert a + 1 == SheetRow(13, "1月") and (a + 1).sheet == "1月" and a + 1 != SheetRow(13, "2月") and b - a == 0
    # copied (pandas deep-copies attrs), pickled, and as JSON the bare number
    back = pickle.loads(pickle.dumps(b))
    assert copy.deepcopy(a).sheet == "1月" and back == b and back.order == 1 and json.dumps([a]) == "[12]"
    assert str(Problem("f.xlsx", a, "受理时间", "a date", "不详")) == "f.xlsx, row 1月!12, column '受理时间': expected a date, " \
                                                                  "found '不详'"
    # runs of rows never span two sheets, even where the numbers follow on
    rows = [*SheetRow.run(range(2, 4), "A", 0), *SheetRow.run(range(4, 6), "B", 1)]
    assert _compact_rows(rows) == [[2, 4, "A"], [4, 6, "B"]] and _compact_rows([2, 3, 4, 6]) == [[2, 5], [6, 7]]


def test_sheet_all_rows_carry_their_sheet_through_checks_and_filters(tmp_path: Path) -> None:
    book = _monthly_book(tmp_path / "hotline.xlsx")
    df = read_table(book, sheet="all")
    assert df.attrs["govml"]["rows"] == [[2, 10, "1月"], [2, 10, "2月"], [2, 10, "3月"]]
    rows = source_rows(df)
    assert [str(r) for r in rows[6:10]] == ["1月!8", "1月!9", "2月!2", "2月!3"]
    assert [str(r) for r in source_rows(df[df["所属社区"] == "西湖社区"].iloc[3:6])] == ["1月!9", "2月!3", "2月!5"]
    report = schemas.check_file(book, "events", mapping=EVENTS, sheet="all")
    said = [str(p) for p in report.errors]
    f = f"{book}, row"
    assert f"{f} 1月!4, column 'created_at': expected a date/time such as 2019-02-28 or 2019/2/28 11:25:05, found '不详'" \
        in said and f"{f} 2月!4, column 'created_at': expected a date/time such as 2019-02-28 or 2019/2/28 11:25:05, " \
        "found '待定'" in said
    # 3月!4 is empty: reported, not taken for the 1月!4 already flagged in the same column (row 4 of another sheet)
    assert any(s.startswith(f"{f} 3月!4, column 'created_at': expected a value") for s in said), said
    assert f"{f} 2月!3, column 'id': expected a unique id (the same is on row 1月!3), found 'GD1001'" in said
    assert len(said) == 4
    # dropping the incomplete row keeps every other row's sheet in step (the runs are re-made per row)
    report = schemas.check_file(book, "events", mapping={k: v for k, v in EVENTS.items() if k != "id"}, sheet="all",
                                drop_incomplete=True)
    kept = source_rows(report.frame)
    assert len(kept) == 23 and "3月!4" not in map(str, kept) and [str(r) for r in kept[16:19]] == ["3月!2", "3月!3", "3月!5"]
    assert report.frame.attrs["govml"]["rows"][-2:] == [[2, 4, "3月"], [5, 10, "3月"]]
    assert any(str(p).endswith("empty on rows 3月!4'") for p in report.warnings), [str(p) for p in report.warnings]
    # one sheet (or a CSV) reads and says its rows exactly as before: plain numbers
    one = read_table(book, sheet="1月")
    assert one.attrs["govml"]["rows"] == [[2, 10]] and all(type(r) is int for r in source_rows(one))
    (p,) = [p for p in schemas.check_file(book, "events", mapping=EVENTS, sheet="2月").errors]
    assert str(p).startswith(f"{book}, row 4, column 'created_at': expected a date/time") and type(p.row) is int


def test_data_under_no_header_in_one_sheet_is_not_dropped_unsaid(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    head = ["工单编号", "受理时间", "所属社区"]
    book = write_workbook(tmp_path / "b.xlsx", {"1月": [head, ["1", "2023-01-01", "东湖"], ["2", "2023-01-02", "东湖"]],
                                                "2月": [head, ["3", "2023-02-01", "东湖"], ["4", "2023-02-02", "东湖", "补充说明"]]})
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(book, sheet="all")
    assert list(df.columns) == head and len(df) == 4
    assert any("sheet '2月' has data in column(s) column_4 (e.g. row 2月!3), which sheet '1月' does not have" in m
               for m in caplog.messages), caplog.messages


def test_validate_and_demands_name_the_sheet_of_each_row(tmp_path: Path) -> None:
    book = _monthly_book(tmp_path / "hotline.xlsx")
    maps = [a for k, v in EVENTS.items() for a in ("--map", f"{k}={v}")]
    rc, text = govml("validate", book, "--kind", "events", "--sheet", "all", *maps, "--json", tmp_path / "v.json")
    cells = [line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│")]
    assert rc == 1 and [c for c in cells if c] == ["1月!4", "2月!3", "2月!4", "3月!4"], text
    errors = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))["errors"]  # the JSON names the sheet too
    assert [(e["sheet"], e["row"]) for e in errors if e["column"] == "created_at"] == [("1月", 4), ("2月", 4), ("3月", 4)]
    for command in (["top"], ["alerts", "--label-col", "问题分类", "--by", "所属社区"]):
        rc, text = govml("demands", *command, book, "--sheet", "all", "--text-col", "诉求内容", "--time-col", "受理时间",
                         "--out", tmp_path / f"{command[0]}.csv")
        flat = " ".join(text.split())
        assert rc == 0 and "(row 1月!4, 2月!4, e.g. '不详')" in flat and "3月!4" in flat, text


def test_hotspots_forecast_names_the_sheet_of_excluded_rows(tmp_path: Path) -> None:
    book = _monthly_book(tmp_path / "hotline.xlsx")
    rc, text = govml("hotspots", "forecast", book, "--sheet", "all", "--time-col", "受理时间", "--area-col", "所属社区",
                     "--category-col", "问题分类", "--horizon", "1", "--now", "2024-01-01", "--out", tmp_path / "fc.csv",
                     "--no-track")
    flat = " ".join(text.split())
    assert rc == 0 and "time could not be parsed (e.g. file rows 1月!4, 2月!4)" in flat, text
    assert "time is empty (e.g. file row 3月!4)" in flat or "time is empty (e.g. file rows 3月!4)" in flat, text


def test_java_times_in_gmt_and_utc_are_converted_to_beijing_time() -> None:
    s = pd.Series(["Thu Feb 28 03:25:05 GMT 2019", "Thu Feb 28 03:25:05 UTC 2019", "Thu Feb 28 11:25:05 GMT+08:00 2019",
                   "Wed Feb 27 22:25:05 GMT-05:00 2019", "Thu Feb 28 03:25:05 GMT+0000 2019", "Thu Feb 28 11:25:05 GMT+8 2019",
                   "Thu Feb 28 11:25:05 CST 2019"])
    assert (parse_datetime(s) == pd.Timestamp("2019-02-28 11:25:05")).all()
    # another zone name is not guessed: read as the clock time written, as CST (China Standard Time) is
    assert parse_datetime(pd.Series(["Thu Feb 28 11:25:05 JST 2019"])).iloc[0] == pd.Timestamp("2019-02-28 11:25:05")
    (note,) = date_notes(s[:2], "受理时间")
    assert note.startswith("times in column '受理时间' are UTC (written with GMT or UTC): converted to Beijing time (UTC+8")
    (note,) = date_notes(pd.Series(["2019-02-28T03:25:05Z", "Thu Feb 28 03:25:05 GMT 2019"]), "t")
    assert "are UTC (written with Z, +00:00, GMT or UTC)" in note
    (note,) = date_notes(s, "t")
    assert "different UTC offsets (Z on 3 row(s), +08:00 on 2 row(s), -05:00 on 1 row(s))" in note
    assert "the 1 time(s) written without an offset are read as written" in note
    assert date_notes(pd.Series(["Thu Feb 28 11:25:05 CST 2019"] * 2), "t") == []
    # the same instant as JavaScript's Date.toString and RFC 1123 / 2822 (HTTP, e-mail, toUTCString) write it
    web = pd.Series(["Thu Feb 28 2019 11:25:05 GMT+0800 (中国标准时间)", "Thu Feb 28 2019 03:25:05 GMT+0000 (UTC)",
                     "Thu, 28 Feb 2019 03:25:05 GMT", "Thu, 28 Feb 2019 11:25:05 +0800", "Wed, 27 Feb 2019 22:25:05 -0500"])
    assert (parse_datetime(web) == pd.Timestamp("2019-02-28 11:25:05")).all()
    (note,) = date_notes(web, "t")
    assert "different UTC offsets (+08:00 on 2 row(s), Z on 2 row(s), -05:00 on 1 row(s))" in note, note
    assert parse_datetime(pd.Series(["Thu, 28 Feb 2019 11:25:05"])).iloc[0] == pd.Timestamp("2019-02-28 11:25:05")


def test_skills_say_the_rows_the_reader_saw(samples_dir: Path, tmp_path: Path) -> None:
    """skills took ``attrs["govml"]["rows"]`` (runs of rows) for one number per row: a one-row table crashed
    (``int([2, 3])``) and a blank line shifted every row it named."""
    lines = (samples_dir / "assessments.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "one.csv").write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    rc, text = govml("skills", "score", tmp_path / "one.csv", "--out", tmp_path / "s1.csv", "--no-track")
    assert rc == 0, text
    head = lines[0].split(",")
    cells = lines[3].split(",")
    cells[head.index("sanitation")] = "9O"
    (tmp_path / "gap.csv").write_text("\n".join([*lines[:3], "", ",".join(cells)]) + "\n", encoding="utf-8")
    rc, text = govml("skills", "score", tmp_path / "gap.csv", "--out", tmp_path / "s2.csv", "--no-track")
    assert rc == 0 and "gap.csv, row 5, column 'sanitation': expected a number" in " ".join(text.split()), text


def test_federated_simulate_and_a_district_read_every_sheet(tmp_path: Path) -> None:
    """``govml federated simulate --sheet all`` (io's hint names it) and a district's node config ``sheet = "all"``
    read the monthly sheets as one table (they had no way to: the first sheet only)."""
    from govml.federated.task import read_district_table

    sheets = {}
    for m in (1, 2, 3):
        rows = [["受理时间", "所属街道", "所属社区"]]
        rows += [[f"2024-0{m}-{d:02d} 09:00", "东区" if d % 2 else "西区", f"社区{d % 3}"] for d in range(1, 9)]
        sheets[f"{m}月"] = rows
    book = write_workbook(tmp_path / "hotline.xlsx", sheets)
    rc, text = govml("federated", "simulate", book, "--sheet", "all", "--task", "benchmark", "--partition-col", "所属街道",
                     "--community-col", "所属社区", "--time-col", "受理时间", "--out", tmp_path / "m.json")
    assert rc == 0, text
    assert json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))["data"]["rows_in"] == 24
    df = read_district_table({"data-path": str(book), "sheet": "all"})
    assert len(df) == 24 and str(df.attrs["govml"]["rows"][-1][2]) == "3月"
    assert len(read_district_table({"data-path": str(book)})) == 8
