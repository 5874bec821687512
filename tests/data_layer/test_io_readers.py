"""Readers: every format, every encoding, text cleaning, header detection, row numbers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from govml.errors import DataError
from govml.io import clean_text, detect_encoding, read_table, source_rows
from workbooks import write_workbook as _xlsx

ROWS = [
    ["M001", "2024-03-01 08:15:00", "芙蓉区", "定王台社区", "路灯坏了\t\t一个多月\n\n晚上　　看不见"],
    ["M002", "2024/3/2 19:40:12", "天心区", "坡子街社区", "噪音\u3000\t太大"],
]
HEADER = ["id", "created_at", "district", "community", "text"]


def _csv_text(sep: str = ",") -> str:
    lines = [sep.join(HEADER)]
    for r in ROWS:
        lines.append(sep.join(f'"{v}"' if ("\n" in v or sep in v) else v for v in r))
    return "\n".join(lines) + "\n"


def _check_frame(df: pd.DataFrame) -> None:
    assert list(df.columns) == HEADER
    assert len(df) == 2
    assert df["text"].tolist() == ["路灯坏了 一个多月 晚上 看不见", "噪音 太大"]
    assert df["district"].tolist() == ["芙蓉区", "天心区"]


@pytest.mark.parametrize("encoding,expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gbk"), ("utf-16", "utf-16"),
])
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str, expected: str) -> None:
    p = tmp_path / "m.csv"
    p.write_bytes(_csv_text().encode(encoding))
    df = read_table(p)
    _check_frame(df)
    assert df.attrs["govml"]["encoding"] == expected
    assert "\ufeff" not in df.columns[0]


def test_gb18030_only_characters_are_detected(tmp_path: Path) -> None:
    # 𠀀 (U+20000) and € are not in GBK but are in GB18030
    text = "id,text\nA1,\U00020000字€\n"
    p = tmp_path / "g.csv"
    p.write_bytes(text.encode("gb18030"))
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")
    df = read_table(p)
    assert df.attrs["govml"]["encoding"] == "gb18030"
    assert df["text"].tolist() == ["\U00020000字€"]


def test_forced_encoding_is_used_and_a_wrong_one_is_refused_clearly(tmp_path: Path) -> None:
    p = tmp_path / "gbk.csv"
    p.write_bytes(_csv_text().encode("gbk"))
    _check_frame(read_table(p, encoding="gbk"))
    with pytest.raises(DataError) as exc:
        read_table(p, encoding="utf-8")
    msg = str(exc.value)
    assert str(p) in msg and "cannot be decoded as utf-8" in msg
    assert "(line 2)" in msg and "it looks like gbk" in msg and "leave --encoding out" in msg
    with pytest.raises(DataError, match="unknown encoding 'klingon'"):
        read_table(p, encoding="klingon")


def test_undetectable_encoding_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "latin.csv"
    p.write_bytes("id,text\n1,café crème brûlée à la française\n".encode("cp1252"))
    with pytest.raises(DataError, match=r"cannot tell the text encoding .* pass --encoding"):
        read_table(p)
    assert read_table(p, encoding="cp1252")["text"].iloc[0] == "café crème brûlée à la française"


def test_detect_encoding_bytes() -> None:
    assert detect_encoding("纯文本".encode()) == "utf-8"
    assert detect_encoding(b"plain ascii") == "utf-8"
    assert detect_encoding("中文".encode("gbk")) == "gbk"


def test_tsv_gz_and_sniffed_tab_csv(tmp_path: Path) -> None:
    tsv = tmp_path / "m.tsv"
    tsv.write_text(_csv_text("\t"), encoding="utf-8")
    _check_frame(read_table(tsv))
    gz = tmp_path / "m.csv.gz"
    gz.write_bytes(gzip.compress(_csv_text().encode("gbk")))
    df = read_table(gz)
    _check_frame(df)
    assert df.attrs["govml"]["encoding"] == "gbk"
    tab_named_csv = tmp_path / "tab.csv"  # Excel "Unicode text" saved as .csv
    tab_named_csv.write_bytes(_csv_text("\t").encode("utf-16"))
    _check_frame(read_table(tab_named_csv))


def test_jsonl_and_parquet(tmp_path: Path) -> None:
    jl = tmp_path / "m.jsonl"
    jl.write_text("\n".join(json.dumps(dict(zip(HEADER, r, strict=True)), ensure_ascii=False) for r in ROWS)
                  + "\n\n", encoding="utf-8")
    df = read_table(jl)
    _check_frame(df)
    assert source_rows(df) == [1, 2]
    pq = tmp_path / "m.parquet"
    pd.DataFrame(ROWS, columns=HEADER).to_parquet(pq)
    _check_frame(read_table(pq))


def test_bad_jsonl_line_is_reported_with_its_line(tmp_path: Path) -> None:
    jl = tmp_path / "bad.jsonl"
    jl.write_text('{"id": 1}\n{"id": 2\n[3]\n', encoding="utf-8")
    with pytest.raises(DataError) as exc:
        read_table(jl)
    rows = [(p.row, p.expected) for p in exc.value.problems]
    assert rows == [(2, "one JSON object per line"), (3, "a JSON object")]


def test_embedded_newlines_keep_record_row_numbers(tmp_path: Path) -> None:
    p = tmp_path / "nl.csv"
    p.write_text('id,text\nA,"one\ntwo\r\nthree"\n\nB,plain\nC,"x\ny"\n', encoding="utf-8")
    df = read_table(p)
    assert df["id"].tolist() == ["A", "B", "C"]
    assert df["text"].tolist() == ["one two three", "plain", "x y"]
    # header row 1, A row 2, a blank record row 3 (dropped), B row 4, C row 5
    assert source_rows(df) == [2, 4, 5]


def test_clean_text() -> None:
    assert clean_text("\n\t\t\u3000\u3000书记您好，\r\n我是\u00a0学生\u200b。\n\t") == "书记您好， 我是 学生 。"
    assert clean_text(" \t\n") is None
    assert clean_text(42) == 42




def test_xlsx_header_detection_sheet_choice_and_types(tmp_path: Path) -> None:
    import datetime as dt

    rows = [["某街道2024年一季度留言汇总"], [], ["制表：某某", None, None, "日期：2024-04-01"], HEADER,
            ["M001", dt.datetime(2024, 3, 1, 8, 15), "芙蓉区", "定王台社区", ROWS[0][4]],
            [None, None, None, None, None],
            [1002, 45353.5, "天心区", "坡子街社区", ROWS[1][4]]]
    p = _xlsx(tmp_path / "w.xlsx", {"说明": [["这个表是说明"]], "数据": rows})
    df = read_table(p, sheet="数据")
    assert df.attrs["govml"]["header_row"] == 4 and df.attrs["govml"]["sheet"] == "数据"
    assert list(df.columns) == HEADER
    assert df["text"].tolist() == ["路灯坏了 一个多月 晚上 看不见", "噪音 太大"]
    assert source_rows(df) == [5, 7]  # the sheet's own row numbers; the empty row 6 is dropped
    assert df["id"].tolist() == ["M001", 1002]  # xlsx keeps its own cell types; load() converts
    assert read_table(p, sheet=1).attrs["govml"]["sheet"] == "数据"
    assert read_table(p, sheet="1").attrs["govml"]["sheet"] == "数据"
    first = read_table(p)  # session 17: no sheet named, the data sheet behind a 说明 (notes) sheet is read
    assert first.attrs["govml"]["sheet"] == "数据" and first.attrs["govml"]["sheets"] == ["说明", "数据"]
    assert first["text"].tolist() == df["text"].tolist()
    with pytest.raises(DataError) as exc:
        read_table(p, sheet="Sheet1")
    assert "no sheet named 'Sheet1'; the sheets are '说明', '数据'" in str(exc.value)
    with pytest.raises(DataError, match="no sheet number 5"):
        read_table(p, sheet=5)


def test_header_row_override_and_known_columns(tmp_path: Path) -> None:
    rows = [["标题", "说明", "备注"], ["a", "b", "c"], ["工单编号", "受理时间", "诉求内容"], ["1", "2024-01-01", "x"]]
    p = _xlsx(tmp_path / "h.xlsx", {"S": rows})
    assert read_table(p).attrs["govml"]["header_row"] == 1  # no hint: the first full text row
    df = read_table(p, known_columns=["工单编号", "受理时间", "诉求内容"])
    assert df.attrs["govml"]["header_row"] == 3 and list(df.columns) == ["工单编号", "受理时间", "诉求内容"]
    df = read_table(p, header_row=3)
    assert df["诉求内容"].tolist() == ["x"] and source_rows(df) == [4]
    with pytest.raises(DataError, match="--header-row 9 is outside sheet 'S'"):
        read_table(p, header_row=9)
    csv = tmp_path / "h.csv"
    csv.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    assert list(read_table(csv, header_row=3).columns) == ["工单编号", "受理时间", "诉求内容"]


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(DataError, match=r"old.xls: not a readable Excel 97-2003 \(.xls\) workbook"):
        read_table(tmp_path / "old.xls")  # session 11: .xls is read (python-calamine); this one is broken
    (tmp_path / "x.docx").write_bytes(b"PK")
    with pytest.raises(DataError, match="unsupported file type '.docx'"):
        read_table(tmp_path / "x.docx")
    with pytest.raises(DataError, match="is a folder"):
        read_table(tmp_path)


def test_duplicate_and_blank_header_names(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_text("id,text,text,,\n1,a,b,c,\n", encoding="utf-8")
    df = read_table(p)
    assert list(df.columns) == ["id", "text", "text.1", "column_4"]


def test_xlsx_mixed_cells_are_cleaned(tmp_path: Path) -> None:
    p = _xlsx(tmp_path / "mixed.xlsx", {"S": [["id", "text"], [1, 110], [2, "  报警\n\t电话  "], [3, None]]})
    df = read_table(p)
    assert df["text"].tolist()[:2] == [110, "报警 电话"] and pd.isna(df["text"].iloc[2])


def test_utf16_without_bom_is_detected(tmp_path: Path) -> None:
    p = tmp_path / "u16.csv"
    p.write_bytes(_csv_text().encode("utf-16-le"))
    df = read_table(p)  # session 11: read (its byte order told by its line ends), no longer refused with a hint
    assert df.attrs["govml"]["encoding"] == "utf-16-le"
    _check_frame(df)
    _check_frame(read_table(p, encoding="utf-16-le"))


@pytest.mark.parametrize("calamine", [True, False], ids=["calamine", "openpyxl"])
def test_both_xlsx_engines_read_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calamine: bool) -> None:
    import datetime as dt

    import govml.io

    monkeypatch.setattr(govml.io, "USE_CALAMINE", calamine)
    rows = [["标题"], HEADER, ["M001", dt.datetime(2024, 3, 1, 8, 15), "芙蓉区", "定王台社区", ROWS[0][4]],
            [1002, dt.date(2024, 3, 2), "天心区", "坡子街社区", 7]]
    p = _xlsx(tmp_path / "e.xlsx", {"S": rows})
    df = read_table(p)
    assert df.attrs["govml"]["header_row"] == 2 and source_rows(df) == [3, 4]
    assert df["id"].tolist() == ["M001", 1002]
    assert df["created_at"].tolist() == [pd.Timestamp("2024-03-01 08:15"), pd.Timestamp("2024-03-02")]
    assert df["text"].tolist() == ["路灯坏了 一个多月 晚上 看不见", 7]
    with pytest.raises(DataError, match="not a readable .xlsx workbook"):
        read_table(Path(__file__).resolve().parents[1] / "data" / "bad" / "not_really.xlsx")


def test_workbooks_named_csv_say_what_they_are(tmp_path: Path) -> None:
    xlsx = _xlsx(tmp_path / "real.xlsx", {"S": [HEADER]})
    renamed = tmp_path / "renamed.csv"
    renamed.write_bytes(xlsx.read_bytes())
    with pytest.raises(DataError, match="this is an Excel workbook .* rename it to .xlsx"):
        read_table(renamed)
    old = tmp_path / "old.csv"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    with pytest.raises(DataError, match=r"old Excel 97-2003 \(.xls\) workbook"):
        read_table(old)


@pytest.mark.parametrize("calamine", [True, False], ids=["calamine", "openpyxl"])
def test_sheet_starting_away_from_a1_keeps_sheet_row_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             calamine: bool) -> None:
    import govml.io

    monkeypatch.setattr(govml.io, "USE_CALAMINE", calamine)
    wb = Workbook()
    ws = wb.active
    for j, name in enumerate(HEADER):
        ws.cell(row=4, column=3 + j, value=name)
        ws.cell(row=5, column=3 + j, value=ROWS[0][j])
        ws.cell(row=7, column=3 + j, value=ROWS[1][j])
    wb.save(tmp_path / "offset.xlsx")
    df = read_table(tmp_path / "offset.xlsx")
    assert df.attrs["govml"]["header_row"] == 4 and source_rows(df) == [5, 7]
    assert list(df.columns) == HEADER  # the empty columns A and B are dropped
    _check_frame(df)


_title = st.text(alphabet=st.sampled_from(list("年度汇总表制单位：街道2024 ")), min_size=1, max_size=20).filter(str.strip)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(titles=st.lists(st.lists(_title, min_size=1, max_size=2), max_size=3), blank_before=st.booleans())
def test_header_found_below_any_title_rows(tmp_path: Path, titles: list[list[str]], blank_before: bool) -> None:
    top: list[list[object]] = [list(t) for t in titles] + ([[]] if blank_before else [])
    p = _xlsx(tmp_path / "t.xlsx", {"S": top + [HEADER] + [list(r) for r in ROWS]})
    df = read_table(p)
    assert df.attrs["govml"]["header_row"] == len(top) + 1
    assert source_rows(df) == [len(top) + 2, len(top) + 3]
    _check_frame(df)
    csv = tmp_path / "t.csv"
    csv.write_text("\n".join(",".join(map(str, r)) for r in top) + ("\n" if top else "") + _csv_text(),
                   encoding="utf-8")
    df = read_table(csv)
    assert df.attrs["govml"]["header_row"] == len(top) + 1 and source_rows(df) == [len(top) + 2, len(top) + 3]


def test_source_rows_follow_filtering_and_sorting(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("id,n\na,3\n\nb,1\nc,2\n", encoding="utf-8")
    df = read_table(p)
    assert source_rows(df) == [2, 4, 5]
    assert source_rows(df[df["id"] != "b"]) == [2, 5]
    assert source_rows(df.sort_values("n")) == [4, 5, 2]
    assert source_rows(df.iloc[0:0]) == []
    assert source_rows(pd.DataFrame({"x": [1, 2]})) == [2, 3]


TRICKY = ('标题：某街道留言\n'
          'id,text,n\n'
          'A,"one\ntwo\r\nthree",1\n'
          '\n'
          'B,"say ""hi"", ok",2\n'
          'C,"x\ry",\n'
          'D,  spaced\t\tout ,4\n')


@pytest.mark.parametrize("fast", [True, False], ids=["pandas-c", "csv-module"])
def test_both_csv_paths_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast: bool) -> None:
    if not fast:
        def refuse(*a, **k):  # noqa: ANN002, ANN003, ANN202
            raise pd.errors.ParserError("forced")

        monkeypatch.setattr(pd, "read_csv", refuse)
    p = tmp_path / "t.csv"
    p.write_bytes(TRICKY.encode("gbk"))
    df = read_table(p, known_columns=["id", "text"])
    assert df.attrs["govml"]["header_row"] == 2 and df.attrs["govml"]["encoding"] == "gbk"
    assert df["id"].tolist() == ["A", "B", "C", "D"]
    assert df["text"].tolist() == ["one two three", 'say "hi", ok', "x y", "spaced out"]
    assert df["n"].tolist()[:2] == ["1", "2"] and pd.isna(df["n"].iloc[2])
    assert source_rows(df) == [3, 5, 6, 7]


def test_a_long_row_far_down_is_named(tmp_path: Path) -> None:
    lines = ["id,text"] + [f"R{i},文本{i}" for i in range(40)]
    lines[36] += ",多余"
    p = tmp_path / "long.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        read_table(p)
    assert str(exc.value) == f"{p}, row 37: expected at most 2 cells (the header has 2), found '3 cells'"


def test_the_data_sheet_is_read_when_a_notes_sheet_comes_first(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                                                ) -> None:
    """Session 17: with no sheet named and no column asked for, a 说明 sheet in front of the data was read as the
    data (its one sentence became the header). The sheet with the usual header names is read, else the first that
    is a table; which one is said; a workbook whose first sheet is the data reads it as before."""
    import logging

    notes = [["本表为12345热线工单导出，字段说明如下"], ["受理时间：市民来电的时间"], ["办结时间：工单办结的时间"]]
    data = [["2024年1月工单"], ["工单编号", "受理时间", "所属社区", "诉求内容"],
            ["GD1", "2024-01-02 09:00", "甲社区", "路灯坏了"], ["GD2", "2024-01-03 10:00", "乙社区", "噪音"]]
    book = _xlsx(tmp_path / "hotline.xlsx", {"说明": notes, "工单": data, "汇总": [["社区", "件数"], ["甲社区", 1]]})
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(book)
    assert df.attrs["govml"]["sheet"] == "工单" and df.attrs["govml"]["header_row"] == 2
    assert df["工单编号"].tolist() == ["GD1", "GD2"]
    assert any("sheet '工单' read, not the first sheet '说明': its header has the usual column names" in r.getMessage()
               for r in caplog.records)
    # headers no table knows: the first sheet that is a table, not the notes
    odd = [["编码", "甲", "乙"], ["1", "x", "y"], ["2", "z", "w"]]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(_xlsx(tmp_path / "odd.xlsx", {"说明": notes, "表1": odd}))
    assert df.attrs["govml"]["sheet"] == "表1" and list(df.columns) == ["编码", "甲", "乙"]
    assert any("not the first sheet '说明', which is not a table" in r.getMessage() for r in caplog.records)
    # the data first: read as before, nothing said
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(_xlsx(tmp_path / "first.xlsx", {"工单": data, "说明": notes}))
    assert df.attrs["govml"]["sheet"] == "工单" and not caplog.records
    assert read_table(book, sheet="说明").attrs["govml"]["sheet"] == "说明"  # a sheet named is read
