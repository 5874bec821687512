"""Validation: canonical tables, every problem collected with file/row/column, mapping, extra checks."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from govml import schemas
from govml.config import resolve_mapping
from govml.errors import DataError
from govml.io import load, source_rows

HEADER = "id,created_at,district,community,text"
GOOD = ["M001,2024-03-01 08:15:00,芙蓉区,定王台社区,路灯坏了",
        "M002,2024/3/2 19:40:12,天心区,坡子街社区,噪音太大",
        "M003,20240303,雨花区,侯家塘社区,垃圾清运不及时"]


def _csv(tmp_path: Path, header: str, rows: list[str], name: str = "t.csv") -> Path:
    p = tmp_path / name
    p.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return p


def test_load_messages_converts_types(tmp_path: Path) -> None:
    p = _csv(tmp_path, HEADER + ",likes,closed_at", [r + f",{i},2024-04-01" for i, r in enumerate(GOOD)])
    df = load(p, "messages")
    assert list(df.columns[:5]) == ["id", "created_at", "district", "community", "text"]
    assert str(df["created_at"].dtype) == "datetime64[ns]"
    assert df["created_at"].tolist() == [pd.Timestamp("2024-03-01 08:15"), pd.Timestamp("2024-03-02 19:40:12"),
                                         pd.Timestamp("2024-03-03")]
    assert str(df["likes"].dtype) == "Int64" and df["likes"].tolist() == [0, 1, 2]
    assert pd.api.types.is_string_dtype(df["id"])
    assert df.attrs["govml"]["kind"] == "messages" and df.attrs["govml"]["warnings"] == []


def test_all_problems_are_collected_with_rows(tmp_path: Path) -> None:
    rows = ["M001,2024-03-01,芙蓉区,定王台社区,路灯坏了",
            "M002,not-a-date,天心区,,噪音太大",
            "M001,2024-03-05,雨花区,侯家塘社区,",
            "M004,2024-02-30,雨花区,侯家塘社区,ok"]
    p = _csv(tmp_path, HEADER, rows)
    with pytest.raises(DataError) as exc:
        load(p, "messages")
    got = sorted((pr.row, pr.column) for pr in exc.value.problems)
    assert got == [(3, "community"), (3, "created_at"), (4, "id"), (4, "text"), (5, "created_at")]
    assert all(pr.file == str(p) for pr in exc.value.problems)
    dup = next(pr for pr in exc.value.problems if pr.column == "id")
    assert dup.expected == "a unique id (the same is on row 2)" and dup.found == "M001"
    assert str(p) in str(exc.value) and "cannot be used as messages (5 problem(s))" in str(exc.value)


def test_max_problems_truncates(tmp_path: Path) -> None:
    p = _csv(tmp_path, HEADER, [f"M{i},bad,区,社区,文本" for i in range(30)])
    with pytest.raises(DataError) as exc:
        load(p, "messages", max_problems=7)
    assert len(exc.value.problems) == 7 and exc.value.truncated
    assert [pr.row for pr in exc.value.problems] == list(range(2, 9))
    assert "(more problems not shown)" in str(exc.value)


def test_missing_column_names_it_lists_columns_and_suggests(tmp_path: Path) -> None:
    p = _csv(tmp_path, HEADER.replace("created_at", "create_time"), GOOD)
    report = schemas.check_file(p, "messages")
    (pr,) = report.errors
    assert pr.column == "created_at" and pr.row is None
    assert "did you mean 'create_time'? map it with --map created_at=create_time" in pr.expected
    assert pr.found == "columns: id, create_time, district, community, text"
    # a profile's column name is recognised and the profile suggested
    p2 = _csv(tmp_path, "留言编号,留言时间,district,community,留言详情", GOOD, name="t2.csv")
    msgs = {pr.column: pr.expected for pr in schemas.check_file(p2, "messages").errors}
    assert "'留言时间' looks like it: use --profile teddycup or --map created_at=留言时间" in msgs["created_at"]
    df = load(p2, "messages", mapping=resolve_mapping(profile="teddycup"))
    assert len(df) == 3 and df["text"].iloc[0] == "路灯坏了"


def test_mapping_rules(tmp_path: Path) -> None:
    p = _csv(tmp_path, "编号,时间,区,社区,内容,id", [r + ",X" for r in GOOD])
    mapping = {"id": "编号", "created_at": "时间", "district": "区", "community": "社区", "text": "内容"}
    report = schemas.check_file(p, "messages", mapping=mapping)
    assert [(e.column, e.found) for e in report.errors] == [
        ("id", "both 'id' and '编号' (mapped to it); rename or drop one")]
    p = _csv(tmp_path, "编号,时间,区,内容", [",".join(r.split(",")[:3] + r.split(",")[4:]) for r in GOOD],
             name="m.csv")
    mapping = {"id": "编号", "created_at": "时间", "district": "区", "community": "区", "text": "内容",
               "likes": "点赞"}
    report = schemas.check_file(p, "messages", mapping=mapping)
    assert report.ok
    assert report.frame["community"].tolist() == report.frame["district"].tolist()  # one column, two roles
    (w,) = report.warnings
    assert (w.column, w.found) == ("likes", "no such column; mapping not used")
    # a profile's columns that a file lacks are normal: no warning, just noted
    report = schemas.check_file(p, "messages", mapping=resolve_mapping(
        ["id=编号", "created_at=时间", "district=区", "community=区", "text=内容"], profile="hotline12345"))
    assert report.ok and report.warnings == []
    assert "closed_at=办结时间" in report.meta["profile_unused"]


def test_excel_ids_lose_their_float_suffix(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["id", "created_at", "district", "community", "text"])
    ws.append([1001.0, 45353.25, "区", "社区", "文本"])
    ws.append([1002, "2024-03-02", "区", "社区", "文本"])
    wb.save(tmp_path / "x.xlsx")
    df = load(tmp_path / "x.xlsx", "messages")
    assert df["id"].tolist() == ["1001", "1002"]
    assert df["created_at"].tolist() == [pd.Timestamp("2024-03-02 06:00"), pd.Timestamp("2024-03-02")]


def test_warnings_do_not_block(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    big = "长" * (schemas.MAX_TEXT_CHARS + 10)
    rows = [GOOD[0] + ",2024-02-01", "M002,2099-01-01,天心区,坡子街社区,未来,", f"M003,2024-03-03,雨花区,侯家塘社区,{big},"]
    p = _csv(tmp_path, HEADER + ",closed_at", rows)
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = load(p, "messages")
    warnings = {(w["row"], w["column"]): w for w in df.attrs["govml"]["warnings"]}
    assert set(warnings) == {(2, "closed_at"), (3, "created_at"), (4, "text")}
    assert warnings[(3, "created_at")]["expected"] == "a date that is not in the future"
    assert warnings[(4, "text")]["found"] == f"{schemas.MAX_TEXT_CHARS + 10:,} characters"
    import json

    json.dumps(df.attrs)  # metadata stays JSON-able: pandas writes it into Parquet files
    assert len(df["text"].iloc[2]) == schemas.MAX_TEXT_CHARS  # truncated, as the warning says
    assert len(caplog.records) == 3


def test_header_only_and_unknown_kind(tmp_path: Path) -> None:
    p = _csv(tmp_path, HEADER, [])
    with pytest.raises(DataError, match="at least one data row"):
        load(p, "messages")
    with pytest.raises(DataError, match="unknown kind 'posts'"):
        load(p, "posts")


def test_events(tmp_path: Path) -> None:
    p = _csv(tmp_path, "created_at,community,category,id", ["2024-01-01,A,噪音,1", "2024-01-02,B,,2"])
    report = schemas.check_file(p, "events")
    assert [(e.row, e.column, e.found) for e in report.errors] == [(3, "category", "(empty)")]


def test_assessments_wide_and_long(tmp_path: Path) -> None:
    wide = _csv(tmp_path, "worker_id,community,district,period,area_type,姓名,服务意识,政策水平",
                ["W1,A,X,2024Q1,城市,张三,80,70", "W2,B,X,2024Q1,农村,李四,90,75.5",
                 "W3,B,X,2024Q1,rural,王五,85,"], name="wide.csv")
    df = load(wide, "assessments")
    meta = df.attrs["govml"]
    assert meta["assessment_form"] == "wide" and meta["indicators"] == ["服务意识", "政策水平"]
    assert df["area_type"].tolist() == ["urban", "rural", "rural"]
    assert df["政策水平"].tolist()[:2] == [70.0, 75.5] and pd.isna(df["政策水平"].iloc[2])
    assert df["姓名"].tolist() == ["张三", "李四", "王五"]  # not numeric: kept, not an indicator
    long = _csv(tmp_path, "worker_id,community,district,period,indicator,score",
                ["W1,A,X,2024Q1,服务意识,80", "W1,A,X,2024Q1,服务意识,81", "W1,A,X,2024Q1,政策水平,abc"],
                name="long.csv")
    report = schemas.check_file(long, "assessments")
    assert report.meta["assessment_form"] == "long"
    assert sorted((e.row, e.column) for e in report.errors) == [(3, "worker × period × indicator"), (4, "score")]
    nothing = _csv(tmp_path, "worker_id,community,district,period,备注", ["W1,A,X,2024Q1,好"], name="none.csv")
    (e,) = schemas.check_file(nothing, "assessments").errors
    assert "at least one indicator column" in e.expected


def test_courses(tmp_path: Path) -> None:
    p = _csv(tmp_path, "course_id,title,hours,cost,indicators,prerequisites,capacity",
             ["C1,调解,8,200,调解能力:0.8；沟通能力:0.5,,30", "C2,应急,2.5,0,应急处置:1,C1,20",
              "C3,自指,1,0,,C3,1.5"])
    report = schemas.check_file(p, "courses")
    assert [(e.row, e.column) for e in report.errors] == [(4, "capacity"), (4, "prerequisites")]
    assert report.errors[1].expected == "other courses (a course cannot require itself)"


def test_register_check_adds_problems(tmp_path: Path) -> None:
    def scores_at_most_100(df: pd.DataFrame, report: schemas.Report) -> None:
        for c in df.attrs.get("govml", {}).get("indicators", []) or report.meta.get("indicators", []):
            for pos in (df[c] > 100).fillna(False).to_numpy().nonzero()[0]:
                report.error(c, "a score between 0 and 100", df[c].iat[pos], pos=pos)

    p = _csv(tmp_path, "worker_id,community,district,period,服务意识", ["W1,A,X,Q1,80", "W2,A,X,Q1,180"])
    assert schemas.check_file(p, "assessments").ok
    schemas.register_check("assessments", scores_at_most_100)
    schemas.register_check("assessments", scores_at_most_100)  # idempotent
    try:
        (e,) = schemas.check_file(p, "assessments").errors
        assert (e.row, e.column, e.expected, e.found) == (3, "服务意识", "a score between 0 and 100", "180")
    finally:
        schemas._CHECKS["assessments"].remove(scores_at_most_100)
    with pytest.raises(ValueError, match="unknown kind"):
        schemas.register_check("nope", scores_at_most_100)


def test_drop_incomplete(tmp_path: Path) -> None:
    rows = ["2024-01-01,A,噪音,1", "2024-01-02,,噪音,2", "2024-01-03,B,,3", "bad,C,噪音,4", ",D,噪音,5"]
    p = _csv(tmp_path, "created_at,community,category,id", rows)
    strict = schemas.check_file(p, "events")
    assert sorted((e.row, e.column) for e in strict.errors) == [
        (3, "community"), (4, "category"), (5, "created_at"), (6, "created_at")]
    report = schemas.check_file(p, "events", drop_incomplete=True)
    assert [(e.row, e.column, e.found) for e in report.errors] == [(5, "created_at", "bad")]  # not empty: kept
    assert sorted((w.column, w.found) for w in report.warnings) == [
        ("category", "empty on rows 4"), ("community", "empty on rows 3"), ("created_at", "empty on rows 6")]
    assert report.meta["dropped_rows"] == 3
    p2 = _csv(tmp_path, "created_at,community,category,id", [r for r in rows if not r.startswith("bad")], "ok.csv")
    df = load(p2, "events", drop_incomplete=True)
    assert df["id"].tolist() == ["1"] and source_rows(df) == [2]


def test_logged_warnings_and_report_files_mask_personal_data(tmp_path: Path) -> None:
    from govml.cli.data import report_markdown

    p = _csv(tmp_path, HEADER, ["M1,2099-01-01 13800138000,区,社区,文本"])
    report = schemas.check_file(p, "messages")
    assert report.errors and "13800138000" in report.errors[0].found  # the user's own terminal sees it
    md = report_markdown(report)
    assert "13800138000" not in md and "<PHONE>" in md
    from govml.errors import Problem
    from govml.io import masked

    assert masked(Problem("f", 2, "c", "x", "请回电13800138000")).found == "请回电<PHONE>"
    assert masked(Problem("f", 2, "c", "x", None)).found is None


def test_xlsx_sheet_with_known_columns_is_chosen(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "说明"
    wb.active.append(["本表由系统导出，请勿修改"])
    ws = wb.create_sheet("数据")
    ws.append(HEADER.split(","))
    ws.append(GOOD[0].split(","))
    wb.save(tmp_path / "two.xlsx")
    df = load(tmp_path / "two.xlsx", "messages")
    assert df.attrs["govml"]["sheet"] == "数据" and df["id"].tolist() == ["M001"]


def test_repeated_header_is_warned(tmp_path: Path) -> None:
    p = _csv(tmp_path, HEADER + ",text", [r + ",又一列" for r in GOOD])
    report = schemas.check_file(p, "messages")
    assert report.ok
    assert [(w.column, w.found) for w in report.warnings] == [("text.1", "text")]
    assert report.frame["text.1"].tolist() == ["又一列"] * 3


def test_placeholders_for_no_value_in_number_and_date_columns(tmp_path: Path) -> None:
    p = _csv(tmp_path, HEADER + ",likes,closed_at", [GOOD[0] + ",—,无", GOOD[1] + ",N/A,-", GOOD[2] + ",/,2024-05-01"])
    df = load(p, "messages")
    assert df["likes"].isna().all() and df["closed_at"].isna().tolist() == [True, True, False]
    p = _csv(tmp_path, HEADER, ["M1,—,区,社区,文本"], name="req.csv")
    (e,) = schemas.check_file(p, "messages").errors
    assert (e.row, e.column, e.found) == (2, "created_at", "(empty)")


def test_footer_rows_of_official_sheets_are_skipped_with_a_warning(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER.split(","))
    for r in GOOD:
        ws.append(r.split(","))
    ws.append([])
    ws.append(["合计", "3条"])
    ws.append(["制表人：张三", None, None, "审核人：李四"])
    wb.save(tmp_path / "f.xlsx")
    report = schemas.check_file(tmp_path / "f.xlsx", "messages")
    assert report.ok and report.n_rows == 3
    assert [(w.row, w.found) for w in report.warnings] == [(None, "rows 6, 7")]
    # a data row that merely starts with such a word, with its cells filled, is data
    p = _csv(tmp_path, HEADER, [*GOOD, "备注1,2024-03-04,区,社区,文本"])
    assert schemas.check_file(p, "messages").n_rows == 4


def test_assessment_sheet_with_title_and_group_header_rows(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["2024年第一季度社区工作者考核汇总"])
    ws.append(["基本信息", None, None, None, "考核得分"])
    ws.append(["工号", "社区", "街道", "考核期", "服务意识", "政策水平"])
    ws.append(["W1", "定王台社区", "芙蓉区", "2024Q1", 82, "75%"])
    ws.append(["W2", "坡子街社区", "天心区", "2024Q1", "９０", 68.5])
    wb.save(tmp_path / "a.xlsx")
    mapping = {"worker_id": "工号", "community": "社区", "district": "街道", "period": "考核期"}
    df = load(tmp_path / "a.xlsx", "assessments", mapping=mapping)
    assert df.attrs["govml"]["header_row"] == 3 and source_rows(df) == [4, 5]
    assert df.attrs["govml"]["indicators"] == ["服务意识", "政策水平"]
    assert df["服务意识"].tolist() == [82.0, 90.0] and df["政策水平"].tolist() == [75.0, 68.5]
