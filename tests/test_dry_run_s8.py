"""Session 8 dry run (issues #3, #4): a new user's exports of unseen shapes, read and told as they are."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd

from govml.io import read_table, source_rows


def _two_level_book(path: Path, n: int = 5) -> None:
    """Row 1: 编号 and 时间 merged down over rows 1-2, 留言信息 merged across its three sub-columns."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["编号", "留言信息", None, None, "时间"])
    ws.append([None, "用户", "主题", "详情", None])
    ws.merge_cells("A1:A2")
    ws.merge_cells("B1:D1")
    ws.merge_cells("E1:E2")
    for i in range(n):
        ws.append([100 + i, f"U{i}", f"主题{i}", f"详情{i}", f"2019/1/{i + 1} 8:00"])
    wb.save(path)


def test_a_two_row_merged_header_names_every_column(tmp_path: Path) -> None:
    path = tmp_path / "two.xlsx"
    _two_level_book(path)
    for known in ([], ["主题", "详情", "用户"], ["编号", "时间"]):  # either header row may be found first
        df = read_table(path, known_columns=known)
        assert list(df.columns) == ["编号", "用户", "主题", "详情", "时间"], known
        assert len(df) == 5 and df["编号"].tolist() == [100, 101, 102, 103, 104]
        assert source_rows(df) == [3, 4, 5, 6, 7]
        assert df.attrs["govml"]["header_rows"] == [1, 2]


def test_a_two_row_header_in_a_gbk_csv(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    text = "编号,留言信息,,,时间\n,用户,主题,详情,\n" + "".join(
        f"{100 + i},U{i},主题{i},详情{i},2019/1/{i + 1} 8:00\n" for i in range(4))
    path.write_bytes(text.encode("gbk"))
    for known in ([], ["编号", "时间"], ["主题", "详情"]):
        df = read_table(path, known_columns=known)
        assert list(df.columns) == ["编号", "用户", "主题", "详情", "时间"], known
        assert df["编号"].tolist() == ["100", "101", "102", "103"]
        assert source_rows(df) == [3, 4, 5, 6]


def test_a_title_row_does_not_name_an_unnamed_column(tmp_path: Path) -> None:
    path = tmp_path / "titled.csv"
    path.write_text("2019年留言导出\n,主题,时间\n1,a,2019-01-01\n2,b,2019-01-02\n", encoding="utf-8")
    df = read_table(path)
    assert list(df.columns) == ["column_1", "主题", "时间"]
    assert df.attrs["govml"]["header_row"] == 2 and "header_rows" not in df.attrs["govml"]
    pd.testing.assert_series_equal(df["主题"], pd.Series(["a", "b"], name="主题", dtype="str"))
