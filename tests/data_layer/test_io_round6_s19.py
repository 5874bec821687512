"""Session 19, dry run round 6: export shapes nobody had tried (docs/benchmarks.md "### Round 6 (session 19)").

Each test builds its shape from data_samples/messages.csv / complaints.csv (a few rows) or generated cells:
a title row above a one-column sheet's header; sheets hidden in Excel (a template with example rows, a lookup
list); cells merged down a column (a report grouped by street); header cells wrapped or spaced (留言\\n时间, 区　县);
total and note rows below a table of one to three columns; group names over a header (留言 | 答复 over 时间);
capped counts (999+, 10万+)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from govml import io as govml_io
from govml.io import read_table, source_rows
from govml.schemas import to_number
from workbooks import write_workbook

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"
TEXTS = ["小区门口路灯坏了一个月", "楼下餐馆油烟很大", "公交站台没有遮雨棚"]


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    """Twelve complaints of data_samples in Chinese headers, sorted by 街道 then 类别 (a report grouped by street)."""
    df = pd.read_csv(SAMPLES / "complaints.csv", nrows=12, dtype=str)
    out = pd.DataFrame({"编号": df["id"], "受理时间": df["created_at"], "街道": df["district"], "类别": df["category"]})
    return out.sort_values(["街道", "类别", "编号"]).reset_index(drop=True)


def _said(caplog: pytest.LogCaptureFixture, word: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if word in r.getMessage()]


# -- 1. a title row above a one-column sheet's header (session 18's leftover) ------------------------------------

def test_title_row_above_a_one_column_header(tmp_path: Path) -> None:
    rows = [["2019年留言汇总"], ["留言详情"], *([t] for t in TEXTS)]
    book = write_workbook(tmp_path / "one.xlsx", {"留言": rows})
    csv = tmp_path / "one.csv"
    csv.write_text("\n".join(r[0] for r in rows) + "\n", encoding="gbk")
    for path in (book, csv):
        df = read_table(path)
        assert list(df.columns) == ["留言详情"] and df["留言详情"].tolist() == TEXTS, path
        assert df.attrs["govml"]["header_row"] == 2 and source_rows(df) == [3, 4, 5]
    # a column of no usual name is found when it is the column asked for; not asked for, the first row is the header
    other = write_workbook(tmp_path / "建议.xlsx", {"建议": [["2024年建议汇总"], ["建议内容"], *([t] for t in TEXTS)]})
    assert read_table(other, known_columns=["建议内容"])["建议内容"].tolist() == TEXTS
    assert list(read_table(other).columns) == ["2024年建议汇总"]
    # behind notes, under a title row (session 18's test took the title for the header)
    notes = [["本表为网上留言导出"], ["留言详情：市民留言的正文"]]
    titled = write_workbook(tmp_path / "t.xlsx", {"说明": notes, "2月": [["2024年2月网上留言"], ["留言详情"],
                                                                    *([t] for t in TEXTS)]})
    df = read_table(titled)
    assert df.attrs["govml"]["sheet"] == "2月" and df["留言详情"].tolist() == TEXTS
    # a one-column sheet without a title: row 1 is the header, as before
    assert read_table(write_workbook(tmp_path / "p.xlsx", {"S": [["留言详情"], *([t] for t in TEXTS)]})
                      ).attrs["govml"]["header_row"] == 1


# -- 2. sheets hidden in Excel -------------------------------------------------------------------------------------

@pytest.mark.parametrize("calamine", [True, False])
def test_hidden_sheets_are_not_read_unless_named(tmp_path: Path, events: pd.DataFrame,
                                                 caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
                                                 calamine: bool) -> None:
    monkeypatch.setattr(govml_io, "USE_CALAMINE", calamine)
    head = list(events.columns)
    half = len(events) // 2
    template = [head, ["示例0001", "2023-01-01 08:00:00", "示例街道", "示例类别"]]
    sheets = {"模板": template, "1月": [head, *events.iloc[:half].values.tolist()],
              "2月": [head, *events.iloc[half:].values.tolist()]}
    book = write_workbook(tmp_path / "months.xlsx", sheets, hidden=("模板",))
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(book, known_columns=["受理时间", "街道", "类别"])
    assert df.attrs["govml"]["sheet"] == "1月" and len(df) == half  # was: the template's one example row
    assert _said(caplog, "hidden in the workbook") == [f"{book}: sheet(s) '模板' hidden in the workbook (a template or lookup "
                                       "list?): not read; --sheet NAME reads one"]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        both = read_table(book, sheet="all")
    assert both.attrs["govml"]["sheets_read"] == ["1月", "2月"] and len(both) == len(events)
    assert "示例街道" not in set(both["街道"]) and "sheets_not_read" not in both.attrs["govml"]
    assert not _said(caplog, "not read: their header")
    assert read_table(book, sheet="模板")["街道"].tolist() == ["示例街道"]  # named: read
    # a hidden lookup list (the drop-down's 街道 and 类别) in front of the data is not taken for the data
    lookup = write_workbook(tmp_path / "dict.xlsx", {"字典": [["街道", "类别"], ["云溪县", "供暖供水"]],
                                                      "工单": [head, *events.values.tolist()]}, hidden=("字典",))
    df = read_table(lookup, known_columns=["受理时间", "街道", "类别"])
    assert df.attrs["govml"]["sheet"] == "工单" and len(df) == len(events)


# -- 3. cells merged down a column ---------------------------------------------------------------------------------

def _merged_ranges(df: pd.DataFrame, first_row: int) -> tuple[list[list[object]], list[str]]:
    """Rows of ``df`` with each run of equal 街道 (column C) and 街道+类别 (column D) emptied below its first cell,
    and the ranges Excel would merge."""
    rows = df.values.tolist()
    ranges = []
    for j, letter, keys in ((2, "C", df["街道"]), (3, "D", df["街道"] + "|" + df["类别"])):
        start = 0
        for i in range(1, len(df) + 1):
            if i == len(df) or keys.iat[i] != keys.iat[start]:
                if i - start > 1:
                    ranges.append(f"{letter}{start + first_row}:{letter}{i - 1 + first_row}")
                    for k in range(start + 1, i):
                        rows[k][j] = None
                start = i
    return rows, ranges


def test_cells_merged_down_a_column_are_read_in_every_row(tmp_path: Path, events: pd.DataFrame,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    rows, ranges = _merged_ranges(events, first_row=3)
    assert ranges  # the sample has runs to merge
    head = list(events.columns)
    note = ["注：本表由12345平台导出", None, None, None]
    book = write_workbook(tmp_path / "grouped.xlsx", {"工单": [["2023年1月工单汇总"], head, *rows, note]},
                          merges={"工单": ["A1:D1", *ranges, f"A{len(rows) + 3}:D{len(rows) + 3}"]})
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(book)
    # was: 街道/类别 empty below each block's first row (the hotspot panel left those rows out)
    pd.testing.assert_frame_equal(df[["编号", "街道", "类别"]].astype(str),
                                  events[["编号", "街道", "类别"]].astype(str), check_dtype=False)
    assert df.attrs["govml"]["footer_rows"] == [len(rows) + 3]  # the merged note: a footer, not filled
    filled = df.attrs["govml"]["merged_cells_filled"]
    assert list(filled) == ["街道", "类别"] and filled["街道"] == _blank(rows, 2) and filled["类别"] == _blank(rows, 3)
    assert len(_said(caplog, "merged down a column")) == 1
    # --sheet all fills each sheet's own blocks
    book2 = write_workbook(tmp_path / "two.xlsx", {"1月": [head, *rows], "2月": [head, *rows]},
                           merges={"1月": [_shift(r, -1) for r in ranges], "2月": [_shift(r, -1) for r in ranges]})
    both = read_table(book2, sheet="all")
    assert both["街道"].tolist() == events["街道"].tolist() * 2


def _blank(rows: list[list[object]], j: int) -> int:
    return sum(r[j] is None for r in rows)


def _shift(rng: str, by: int) -> str:
    """``C4:C6`` → ``C3:C5`` for ``by=-1``."""
    a, b = rng.split(":")
    return f"{a[0]}{int(a[1:]) + by}:{b[0]}{int(b[1:]) + by}"


# -- 4. header cells wrapped in their cell or spaced to line up ------------------------------------------------------

def test_header_cells_with_line_breaks_or_spaces(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    msgs = pd.read_csv(SAMPLES / "messages.csv", nrows=4, dtype=str)
    head = ["留言\n编号", "留言\n时间", "留言　详情", "区　县", "Back Bay"]
    body = msgs[["id", "created_at", "text", "district", "channel"]].values.tolist()
    book = write_workbook(tmp_path / "wrapped.xlsx", {"Sheet1": [["2023年留言"], head, *body]})
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(book, known_columns=["留言时间", "留言详情"])
    # was: 留言 编号, 留言 时间 … — no command found its columns (exit 2, "expected a column 'text'")
    assert list(df.columns) == ["留言编号", "留言时间", "留言详情", "区县", "Back Bay"]
    assert df.attrs["govml"]["header_row"] == 2 and df["留言编号"].tolist() == msgs["id"].tolist()
    assert len(_said(caplog, "between Chinese characters")) == 1 and "'区 县' → '区县'" in _said(caplog, "区县")[0]
    from govml.config import guess_column

    assert guess_column("created_at", df.columns)[0] == "留言时间"
    csv = tmp_path / "spaced.csv"
    csv.write_bytes("编　号,受理\n时间,街　　道\n1,2023-01-01,云溪县\n".replace("受理\n时间", '"受理\n时间"').encode("gbk"))
    assert list(read_table(csv).columns) == ["编号", "受理时间", "街道"]


# -- 5. total and note rows below a narrow table ----------------------------------------------------------------------

def test_total_and_note_rows_below_a_narrow_table(tmp_path: Path, events: pd.DataFrame,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    three = events[["受理时间", "街道", "类别"]]
    path = tmp_path / "three.csv"
    path.write_text(three.to_csv(index=False) + f"合计,,{len(three)}\n,,\n注：数据来源于12345平台,,\n制表人：张三,,\n",
                    encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(path)
    n = len(three)
    assert len(df) == n and df.attrs["govml"]["footer_rows"] == [n + 2, n + 4, n + 5]  # was: 3 event rows
    two = tmp_path / "two.csv"
    two.write_text("留言时间,留言详情\n" + "".join(f"2023-01-0{i + 1},{t}\n" for i, t in enumerate(TEXTS))
                   + "总计：3条,\n", encoding="utf-8")
    assert read_table(two)["留言详情"].tolist() == TEXTS
    # a total row carrying sums in a wide table (three cells: 合计, 反对数, 点赞数) is one too (was: a message row)
    wide = tmp_path / "wide.csv"
    wide.write_text("留言编号,留言时间,留言主题,留言详情,反对数,点赞数\n" + "".join(
        f"{i},2023-01-0{i + 1},主题{i},{t},0,{i}\n" for i, t in enumerate(TEXTS)) + "合计,,,,0,3\n", encoding="utf-8")
    df = read_table(wide)
    assert len(df) == 3 and df.attrs["govml"]["footer_rows"] == [5]
    # an ordinary last row that merely starts with such a word is data: a message, a total row with a name in it
    kept = tmp_path / "kept.csv"
    kept.write_text("留言详情\n" + "\n".join(TEXTS) + "\n说明一下情况，路灯还是没修\n", encoding="utf-8")
    assert len(read_table(kept)) == 4
    named = tmp_path / "named.csv"
    named.write_text("工号,社区,得分\nW1,定王台社区,80\n合计,定王台社区,80\n", encoding="utf-8")
    assert len(read_table(named)) == 2


# -- 6. group names over a header -----------------------------------------------------------------------------------

def test_group_names_tell_repeated_columns_apart(tmp_path: Path) -> None:
    body = [["2023-01-05 10:00", "已转交", "M1", "2023-01-03 08:00", "路灯坏了"],
            ["2023-01-06 11:00", "已办结", "M2", "2023-01-04 09:00", "油烟扰民"]]
    book = write_workbook(tmp_path / "two.xlsx", {"S": [["答复", None, "留言", None, None],
                                                        ["时间", "意见", "编号", "时间", "详情"], *body]},
                          merges={"S": ["A1:B1", "C1:E1"]})
    df = read_table(book)
    # was: 时间, 意见, 编号, 时间.1, 详情 — the demands commands took 时间 (the reply's time) for created_at
    assert list(df.columns) == ["答复时间", "意见", "留言编号", "留言时间", "留言详情"]
    assert df.attrs["govml"]["header_rows"] == [1, 2] and source_rows(df) == [3, 4]
    from govml.config import guess_column

    assert guess_column("created_at", df.columns)[0] == "留言时间"
    # groups whose joined names are no usual name and do not repeat: the header's own names, as before
    plain = write_workbook(tmp_path / "p.xlsx", {"S": [["基本信息", None, "考核得分", None],
                                                       ["工号", "社区", "服务意识", "政策水平"], ["W1", "甲", 80, 70]]})
    assert list(read_table(plain).columns) == ["工号", "社区", "服务意识", "政策水平"]


# -- 7. capped counts ------------------------------------------------------------------------------------------------

def test_capped_counts_read_as_the_number_written(caplog: pytest.LogCaptureFixture) -> None:
    s = pd.Series(["999+", "10万+", "1.2万＋", "100以上", "1,234", "--", "暂无", "3", "很多"])
    with caplog.at_level(logging.WARNING, logger="govml.schemas"):
        num, bad = to_number(s, "点赞数")
    # was: 999+ / 10万+ / 1.2万＋ / 100以上 not numbers (hot issues counted them as 0 likes)
    assert num.tolist()[:5] == [999, 100000, 12000, 100, 1234] and num[5:7].isna().all() and num[7] == 3
    assert bad.tolist() == [False] * 8 + [True]
    assert _said(caplog, "at least") == ["4 count(s) in column '点赞数' written as at least that many (e.g. '999+': "
                                         "a board's capped display) read as the number written"]
    # govml validate reads them alike, with a note (was: "a whole number" errors, the file refused)
    from govml.schemas import validate

    msgs = pd.DataFrame({"id": ["1", "2", "3"], "created_at": ["2023-01-01"] * 3, "text": TEXTS,
                         "district": ["甲区"] * 3, "community": ["乙社区"] * 3, "点赞数": ["999+", "10万+", "3"]})
    report = validate(msgs, "messages", mapping={"likes": "点赞数"})
    assert report.ok and report.frame["likes"].tolist() == [999, 100000, 3]
    assert report.meta["notes"] == ["2 count(s) in column '点赞数' written as at least that many (e.g. '999+': a "
                                    "board's capped display) read as the number written"]


# -- 8. a wide statistics sheet: counts per period, one column each -------------------------------------------------

def test_period_columns_tell_a_wide_table_of_counts() -> None:
    from govml.io import period_columns

    assert period_columns(["街道", *(f"{m}月" for m in range(1, 13))]) == [f"{m}月" for m in range(1, 13)]
    assert period_columns(["社区", "2019-01", "2019年2月", "2019/03", "合计"]) == ["2019-01", "2019年2月", "2019/03"]
    assert period_columns(["社区", "一季度", "二季度", "三季度"]) == ["一季度", "二季度", "三季度"]
    # events and messages: no period columns (one 2019年 column is no wide table)
    assert period_columns(["编号", "受理时间", "街道", "类别"]) == []
    assert period_columns(["留言编号", "留言时间", "留言详情", "2019年", "1月"]) == []


def test_hotspots_on_a_wide_table_of_counts_say_what_it_is() -> None:
    from govml.errors import DataError
    from govml.hotspot.panel import clean_events

    wide = pd.DataFrame({"街道": ["甲街道", "乙街道"], **{f"{m}月": [m, 2 * m] for m in range(1, 13)}})
    with pytest.raises(DataError) as exc:
        clean_events(wide, time_col="created_at", area_col="街道", category_col="category", file="月报.xlsx")
    text = str(exc.value)
    assert "1月 … 12月 are periods: a table of counts per period" in text and "created_at" in text
    # an events file missing a column gets no such hint
    with pytest.raises(DataError) as exc:
        clean_events(pd.DataFrame({"受理时间": ["2024-01-02"], "街道": ["甲"]}), time_col="受理时间", area_col="街道",
                     category_col="category", file="e.csv")
    assert "are periods" not in str(exc.value)
