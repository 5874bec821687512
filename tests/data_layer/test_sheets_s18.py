"""Session 18: a workbook whose first sheet is a one-column 说明 (notes) sheet and whose data sheet has ONE column
(only 留言详情, or only the column asked for) read the notes: neither sheet is a table of two columns, so the
session 17 rules fell back to the first sheet. The data sheet is read when its header names one of the columns
read (asked for, or a usual header name) and the first sheet's names none — and that is said."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from govml.io import read_table
from workbooks import write_workbook

NOTES = [["本表为网上留言导出，字段说明如下"], ["留言详情：市民留言的正文"], ["导出时间：2024年3月1日"]]
TEXTS = ["小区门口路灯坏了一个月", "楼下餐馆油烟很大", "公交站台没有遮雨棚"]


def _read(path: Path, caplog: pytest.LogCaptureFixture, **kw: object):  # noqa: ANN202
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(path, **kw)
    return df, [r.getMessage() for r in caplog.records if "sheet" in r.getMessage()]


def test_one_column_data_sheet_behind_notes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    book = write_workbook(tmp_path / "留言.xlsx", {"说明": NOTES, "留言": [["留言详情"], *([t] for t in TEXTS)]})
    df, said = _read(book, caplog)
    assert df.attrs["govml"]["sheet"] == "留言" and list(df.columns) == ["留言详情"]
    assert df["留言详情"].tolist() == TEXTS
    assert said == [f"{book}: sheet '留言' read, not the first sheet '说明': its header names the column '留言详情', "
                    "the first's names none of the columns read (notes?); --sheet NAME reads another"]
    # behind two sheets of notes, under a title row: the sheet is found, and its header under the title (session 19)
    titled = write_workbook(tmp_path / "t.xlsx", {"说明": NOTES, "填写须知": [["请勿修改表头"]],
                                                  "2月": [["2024年2月网上留言"], ["留言详情"], *([t] for t in TEXTS)]})
    df, said = _read(titled, caplog)
    assert df.attrs["govml"]["sheet"] == "2月" and len(said) == 1 and "'2月' read" in said[0]
    assert df.attrs["govml"]["header_row"] == 2 and df["留言详情"].tolist() == TEXTS
    # a sheet named is read as named
    assert read_table(book, sheet="说明").attrs["govml"]["sheet"] == "说明"


def test_the_column_asked_for(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """建议内容 is no usual header name: the sheet holding it is found when it is the column asked for."""
    book = write_workbook(tmp_path / "建议.xlsx", {"说明": NOTES, "建议": [["建议内容"], *([t] for t in TEXTS)]})
    df, said = _read(book, caplog, known_columns=["建议内容"])
    assert df.attrs["govml"]["sheet"] == "建议" and df["建议内容"].tolist() == TEXTS
    assert len(said) == 1 and "its header names the column '建议内容'" in said[0]
    df, said = _read(book, caplog)  # not asked for: nothing tells the data from the notes, the first is read
    assert df.attrs["govml"]["sheet"] == "说明" and not said


def test_what_was_read_before_is_read(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    one = [["留言详情"], *([t] for t in TEXTS)]
    # the data first: read, nothing said
    df, said = _read(write_workbook(tmp_path / "a.xlsx", {"留言": one, "说明": NOTES}), caplog)
    assert df.attrs["govml"]["sheet"] == "留言" and not said
    # a first sheet whose header names a column read is the first sheet's data, one column or not
    other = [["留言主题"], ["路灯"], ["油烟"]]
    df, said = _read(write_workbook(tmp_path / "b.xlsx", {"主题": other, "留言": one}), caplog)
    assert df.attrs["govml"]["sheet"] == "主题" and not said
    # a sheet that is a table (two columns or more) still comes before a one-column sheet
    table = [["编码", "甲", "乙"], ["1", "x", "y"], ["2", "z", "w"]]
    df, said = _read(write_workbook(tmp_path / "c.xlsx", {"说明": NOTES, "留言": one, "表1": table}), caplog)
    assert df.attrs["govml"]["sheet"] == "表1" and "which is not a table" in said[0]
    # no sheet names a column read: the first, as before
    df, said = _read(write_workbook(tmp_path / "d.xlsx", {"说明": NOTES, "备忘": [["周一开会"], ["周二检查"]]}),
                     caplog)
    assert df.attrs["govml"]["sheet"] == "说明" and not said
