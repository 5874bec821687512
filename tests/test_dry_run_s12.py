"""Session 12 dry run (issues #3, #4), round 4: 12345-hotline exports as the systems write them — one sheet per
month under a title row with 合计/注/制表人 rows below, 'no value' placeholders (NULL, nan, —, /), clock times said
with 晚上/深夜/午夜, Unix times and UTC offsets read on Beijing's clock — and the one category-path note. Inputs are
built here."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pandas as pd
import pytest

from cli_runner import govml
from govml.errors import ConfigError
from govml.hotspot.panel import Exclusions, _category_levels, clean_events
from govml.io import (
    category_from_levels,
    category_level_columns,
    category_paths,
    date_notes,
    parse_datetime,
    read_table,
    source_rows,
)
from workbooks import write_workbook as _book

HEADER = ["工单编号", "来电时间", "来电号码", "诉求内容", "处理结果", "所属街道", "所属社区", "一级分类", "二级分类", "满意度"]


# -- A. every time on Beijing's clock


def test_unix_times_and_offsets_are_converted_to_beijing_time() -> None:
    # one instant written five ways: all come out as 2019-02-28 11:25:05 Beijing time
    s = pd.Series(["2019-02-28T03:25:05Z", "2019-02-28T11:25:05+08:00", "2019-02-27T22:25:05-05:00",
                   "2019/2/28 3:25:05 +0000", "1551324305", "2019-02-28 11:25:05"])
    assert (parse_datetime(s) == pd.Timestamp("2019-02-28 11:25:05")).all()
    assert parse_datetime(pd.Series([1551324305123], dtype="int64")).iloc[0] == pd.Timestamp("2019-02-28 11:25:05.123")
    # the column mixed three offsets: converted, it is on one clock, and that is said with the plain rows
    notes = date_notes(s, "受理时间")
    assert notes[0].startswith("1 time(s) in column '受理时间' are Unix times") and "converted to Beijing time" in notes[0]
    assert "different UTC offsets (Z on 2 row(s), +08:00 on 1 row(s), -05:00 on 1 row(s))" in notes[1]
    assert "converted to Beijing time (UTC+8), so the column is on one clock" in notes[1]
    assert "the 1 time(s) written without an offset are read as written" in notes[1]
    (note,) = date_notes(pd.Series(["2019-02-27T22:25:05-05:00"] * 2), "t")
    assert note == "times in column 't' carry the UTC offset -05:00: converted to Beijing time (UTC+8)"
    # the 1986-1991 summer time of Asia/Shanghai is the clock of those summers
    assert parse_datetime(pd.Series(["1988-07-01T00:00:00Z"])).iloc[0] == pd.Timestamp("1988-07-01 09:00")
    # a time zone on the column (Parquet, pandas) or on the cells (datetimes built in Python)
    aware = pd.Series(pd.to_datetime(["2019-02-28 03:25:05"]).tz_localize("UTC"))
    assert parse_datetime(aware).iloc[0] == pd.Timestamp("2019-02-28 11:25:05")
    assert date_notes(aware, "t") == ["times in column 't' carry the time zone UTC: converted to Beijing time (UTC+8)"]
    assert date_notes(aware.dt.tz_convert("Asia/Shanghai"), "t") == []   # already Beijing's clock: nothing to say
    cells = pd.Series([dt.datetime(2019, 2, 28, 3, 25, 5, tzinfo=dt.UTC), dt.datetime(2019, 2, 28, 11, 25, 5)],
                      dtype=object)
    assert (parse_datetime(cells) == pd.Timestamp("2019-02-28 11:25:05")).all()


def test_validate_says_the_times_were_converted(tmp_path: Path) -> None:
    f = tmp_path / "hotline.csv"
    pd.DataFrame({"工单编号": ["1", "2"], "受理时间": ["1551324305", "1551410705"], "所属社区": "甲社区",
                  "问题分类": "物业"}).to_csv(f, index=False)
    rc, text = govml("validate", f, "--kind", "events", "--map", "created_at=受理时间", "--map", "community=所属社区",
                     "--map", "category=问题分类")
    said = " ".join(text.split())
    assert rc == 0 and "2 time(s) in column '受理时间' are Unix times" in said and "Beijing time" in said, text


def test_chinese_day_parts_milliseconds_and_dots() -> None:
    s = pd.Series(["2019年2月28日 下午3:05", "2019/2/28 下午 03:05:00", "2019/2/28 中午12:30", "2019/2/28 中午 1:30",
                   "2019/2/28 晚上 8:00", "2019/2/28 晚上12:00", "2019/2/28 凌晨 12:30", "2019/2/28 傍晚6:30",
                   "2019/2/28 深夜11:30", "2019/2/28 夜里2:30", "2019/2/28 午夜 12:10", "2019-02-28 15:05:00.000",
                   "2019.02.28", "2019.2.28 15:05", "2019年2月28日下午3点05分", "2019/2/28 上午"])
    got = parse_datetime(s).dt.strftime("%Y-%m-%d %H:%M").tolist()
    assert got == ["2019-02-28 15:05", "2019-02-28 15:05", "2019-02-28 12:30", "2019-02-28 13:30",
                   "2019-02-28 20:00", "2019-03-01 00:00",   # 晚上12点 is the midnight that ends the day
                   "2019-02-28 00:30", "2019-02-28 18:30", "2019-02-28 23:30", "2019-02-28 02:30",
                   "2019-02-28 00:10", "2019-02-28 15:05", "2019-02-28 00:00", "2019-02-28 15:05",
                   "2019-02-28 15:05", "2019-02-28 00:00"]


def test_compact_stamps_excel_turned_into_numbers() -> None:
    # a system writes 20230105150500 (yyyyMMddHHmmss) into its CSV; Excel opens and saves it as a number
    nums = pd.Series([20230105150500, 202301051505, 20230105, 20231305150500], dtype="int64")
    got = parse_datetime(nums, errors="coerce")
    assert got.iloc[:3].tolist() == [pd.Timestamp("2023-01-05 15:05"), pd.Timestamp("2023-01-05 15:05"),
                                     pd.Timestamp("2023-01-05")] and pd.isna(got.iloc[3])   # month 13: not a time
    assert parse_datetime(pd.Series([20230105150500, "2023-01-06"], dtype=object)).iloc[0] == pd.Timestamp("2023-01-05 15:05")


# -- a 12345 export: one sheet per month, title rows, footer rows, placeholders


def _hotline_book(path: Path, samples_dir: Path, months: int = 4) -> pd.DataFrame:
    """Sample complaints of 4 communities as a 12345 system exports them: a sheet per month (1月, 2月, …), each
    under a title row and an export-time row, with a 合计 row, a blank row, a 注 row and a 制表人 row below; 满意度
    written '—'/'NULL'/'/' when not asked; 处理结果 naming the caller's number."""
    ev = pd.read_csv(samples_dir / "complaints.csv", dtype=str)
    ev = ev[ev["community"].isin(sorted(ev["community"].unique())[:4])]
    t = pd.to_datetime(ev["created_at"])
    ev = ev[t < pd.Timestamp("2023-01-01") + pd.DateOffset(months=months)].reset_index(drop=True)
    t = pd.to_datetime(ev["created_at"])
    top = {c: ("城乡建设" if i % 2 else "环境保护") for i, c in enumerate(sorted(ev["category"].unique()))}
    word = ["上午" if h < 12 else "下午" for h in t.dt.hour]
    frame = pd.DataFrame({
        "工单编号": [f"{i:06d}" if i % 2 else f"GD{i:06d}" for i in range(len(ev))],
        "来电时间": [f"{x.year}年{x.month}月{x.day}日 {w}{(x.hour - 1) % 12 + 1}:{x.minute:02d}" for x, w in zip(t, word, strict=True)],
        "来电号码": [13800000000 + i for i in range(len(ev))],
        "诉求内容": ev["category"] + "问题反映",
        "处理结果": [f"已回访来电人1390000{i % 10000:04d}" if i % 3 == 0 else "已办结" for i in range(len(ev))],
        "所属街道": "东湖街道", "所属社区": ev["community"], "一级分类": ev["category"].map(top),
        "二级分类": ev["category"], "满意度": [["满意", "—", "NULL", "/"][i % 4] for i in range(len(ev))],
        "month": t.dt.month,
    })
    sheets = {}
    for m, g in frame.groupby("month"):
        rows: list[list[object]] = [[f"XX区12345热线工单明细表（2023年{m}月）"], ["导出时间：2023-06-01 09:00"], HEADER]
        rows += g[HEADER].to_numpy().tolist()
        rows += [["合计", f"{len(g)}条"], [], ["注：满意度“—”为未回访"], ["制表人：张三"]]
        sheets[f"{m}月"] = rows
    _book(path, sheets)
    return frame


def test_monthly_sheets_are_read_together_with_sheet_all(samples_dir: Path, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    book = tmp_path / "hotline.xlsx"
    frame = _hotline_book(book, samples_dir)
    per_month = frame.groupby("month").size().tolist()
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        first = read_table(book, known_columns=["来电时间", "所属社区"])
    assert len(first) == per_month[0]
    assert any("have the same columns and were not read" in r.getMessage() and "--sheet all reads them together"
               in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(book, sheet="all", known_columns=["来电时间", "所属社区"])
    meta = df.attrs["govml"]
    assert len(df) == len(frame) and df["工单编号"].tolist() == frame["工单编号"].tolist()   # leading zeros kept
    assert meta["sheets_read"] == ["1月", "2月", "3月", "4月"] and [n for _, n in meta["sheet_rows"]] == per_month
    # row numbers are each sheet's own: data start on row 4 of every sheet, under the two title rows
    rows = source_rows(df)
    assert rows[0] == 4 and rows[per_month[0]] == 4 and rows[per_month[0] - 1] == 3 + per_month[0]
    n1 = per_month[0]
    assert meta["footer_rows"][0] == f"1月!{n1 + 4},{n1 + 6},{n1 + 7}" and len(meta["footer_rows"]) == 4
    # the placeholders of every sheet are empty, said once for the workbook
    assert df["满意度"].isna().sum() == (frame["满意度"] != "满意").sum()
    assert meta["placeholder_cells"] == {"满意度": int((frame["满意度"] != "满意").sum())}
    said = [r.getMessage() for r in caplog.records]
    assert sum("placeholder" in s for s in said) == 1 and sum("footer row(s)" in s for s in said) == 1
    assert any("sheets '1月', '2月', '3月', '4月' read together as one table" in s for s in said)
    assert parse_datetime(df["来电时间"]).notna().all()
    # a month whose export has another column is not read, and that is said
    wb_rows = {"说明": [["本表为12345热线工单导出"]], "1月": [HEADER[:3], ["1", "2023-01-01", "138"]],
               "2月": [HEADER[:3], ["2", "2023-02-01", "139"]], "3月": [HEADER[:4], ["3", "2023-03-01", "137", "噪音"]]}
    _book(tmp_path / "cols.xlsx", wb_rows)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        two = read_table(tmp_path / "cols.xlsx", sheet="all", known_columns=HEADER[:2])
    assert two["工单编号"].tolist() == ["1", "2"] and two.attrs["govml"]["sheets_not_read"] == ["说明", "3月"]
    assert any("sheet(s) '说明', '3月' not read: their header names other columns than sheet '1月'" in r.getMessage()
               for r in caplog.records)
    # a sheet named "all" is that sheet
    _book(tmp_path / "named.xlsx", {"说明": [["x"]], "all": [HEADER[:3], ["1", "2023-01-01", "138"]]})
    assert read_table(tmp_path / "named.xlsx", sheet="all").attrs["govml"]["sheet"] == "all"


def test_hotspots_and_demands_read_every_monthly_sheet(samples_dir: Path, tmp_path: Path) -> None:
    book = tmp_path / "hotline.xlsx"
    frame = _hotline_book(book, samples_dir)
    cols = ["--time-col", "来电时间", "--area-col", "所属社区", "--category-col", "一级分类"]
    rc, text = govml("hotspots", "forecast", book, *cols, "--sheet", "all", "--horizon", "2", "--now", "2025-01-01",
                     "--out", tmp_path / "fc.csv", "--no-track")
    flat = " ".join(text.split())
    assert rc == 0 and f"{len(frame):,} event row(s) read" in flat, text
    fc = pd.read_csv(tmp_path / "fc.csv")
    assert sorted(fc["category"].unique()) == ["城乡建设", "环境保护"] and fc["area"].nunique() == 4
    out = tmp_path / "top.csv"
    rc, text = govml("demands", "top", book, "--sheet", "all", "--text-col", "诉求内容", "--text-col", "处理结果",
                     "--time-col", "来电时间", "--by", "满意度", "--top", "50", "--out", out)
    assert rc == 0, text
    top = pd.read_csv(out, dtype=str)
    assert sorted(top["period_start"].unique()) == ["2023-01-01", "2023-02-01", "2023-03-01", "2023-04-01"]
    assert set(top["group"]) <= {"满意", "(空)"}     # '—', 'NULL' and '/' are no groups of their own
    # the caller's number in 处理结果 is masked in the examples that show it
    assert top["example"].str.contains("来电人<").any() and not top["example"].str.contains("1390000").any()


# -- B. the category-path note in one place


def test_category_paths_say_the_same_for_every_command() -> None:
    paths = pd.Series(["城乡建设/住房/物业管理", "城乡建设/住房/租赁", "环境保护/噪声", None])
    same, note = category_paths(paths, "问题分类", None, wording="use")
    assert same is paths and note == ("column '问题分类': category paths of up to 3 levels split by '/', used whole "
                                      "(3 categories); --category-level 1 uses their first level (2 categories)")
    cut, note = category_paths(paths, "问题分类", 2, wording="forecast")
    assert cut.iloc[:3].tolist() == ["城乡建设/住房", "城乡建设/住房", "环境保护/噪声"] and pd.isna(cut.iloc[3])
    assert note == ("column '问题分类': categories cut to their first 2 level(s) of up to 3 (split by '/', e.g. "
                    "'城乡建设/住房/物业管理' → '城乡建设/住房'): 3 names → 2 categories")
    plain = pd.Series(["噪声", "物业"])
    assert category_paths(plain, "c", None) == (plain, None)
    with pytest.raises(ConfigError, match="column 'c' of board.xlsx holds no category paths"):
        category_paths(plain, "c", 1, where="board.xlsx")
    with pytest.raises(ConfigError, match="--category-level must be 1 or more"):
        category_paths(paths, "c", 0)


# -- the category tree in columns: 一级分类 / 二级分类 / 三级分类


def test_a_level_column_whose_names_repeat_under_two_parents_is_read_as_paths() -> None:
    assert category_level_columns(["工单编号", "一级分类", "二级分类", "三级分类"], "三级分类") == ["一级分类", "二级分类", "三级分类"]
    assert category_level_columns(["问题大类", "问题小类"], "问题小类") == ["问题大类", "问题小类"]
    assert category_level_columns(["一级分类", "二级分类"], "一级分类") == []   # the first level has no parent
    assert category_level_columns(["二级分类", "所属社区"], "二级分类") == []
    df = pd.DataFrame({"一级分类": ["城乡建设", "环境保护", "城乡建设", None, "环境保护"],
                       "二级分类": ["其他", "其他", "物业", "其他", "噪声"]})
    paths, note = category_from_levels(df, "二级分类")
    assert paths.tolist() == ["城乡建设/其他", "环境保护/其他", "城乡建设/物业", "其他", "环境保护/噪声"]
    assert note.startswith("column '二级分类' is level 2 of 一级分类 / 二级分类, and 1 of its names occur under more "
                           "than one 一级分类 (e.g. '其他' under '城乡建设', '环境保护')")
    unique = df.assign(二级分类=["维修", "其他", "物业", "其他", "噪声"])   # no name under two parents: as written
    same, note = category_from_levels(unique, "二级分类")
    assert note is None and same.tolist() == unique["二级分类"].tolist()
    # the hotspot panel does the same when it is given the events (see panel._category_levels)
    ex = Exclusions(rows_in=len(df))
    cut = _category_levels(df["二级分类"], "二级分类", 1, ex, df)
    assert cut.tolist() == ["城乡建设", "环境保护", "城乡建设", "其他", "环境保护"] and "level 2 of" in ex.notes[0]


def test_hotspot_events_keep_a_repeated_level_name_apart() -> None:
    """`hotspots forecast --category-col 二级分类` on a tree in columns: clean_events hands the events to the
    category reading, so 其他 under two parents is two categories, and the note says why."""
    ev = pd.DataFrame({"来电时间": [f"2024-01-0{d} 10:00" for d in range(1, 7)],
                       "所属社区": ["东园", "西园", "东园", "西园", "东园", "西园"],
                       "一级分类": ["城乡建设", "环境保护", "城乡建设", "环境保护", "城乡建设", "环境保护"],
                       "二级分类": ["其他", "其他", "其他", "其他", "物业", "噪声"]})
    clean, ex = clean_events(ev, time_col="来电时间", area_col="所属社区", category_col="二级分类",
                             now="2024-02-01", min_category_events=1)
    assert sorted(clean["category"].unique()) == ["城乡建设/其他", "城乡建设/物业", "环境保护/其他", "环境保护/噪声"]
    assert any("level 2 of 一级分类 / 二级分类" in n for n in ex.notes)


def test_train_keeps_apart_a_name_under_two_parents(samples_dir: Path, tmp_path: Path) -> None:
    msg = pd.read_csv(samples_dir / "messages.csv", dtype=str).head(400)
    cats = sorted(msg["category"].unique())
    top = {c: ("城乡建设" if i % 2 else "环境保护") for i, c in enumerate(cats)}
    other = {cats[0]: "其他", cats[1]: "其他"}   # under 环境保护 and under 城乡建设
    f = tmp_path / "hotline.csv"
    pd.DataFrame({"工单编号": msg["id"], "诉求内容": msg["text"], "一级分类": msg["category"].map(top),
                  "二级分类": msg["category"].map(other).fillna(msg["category"])}).to_csv(f, index=False)
    rc, text = govml("demands", "train", f, "--text-col", "诉求内容", "--id-col", "工单编号", "--label-col", "二级分类",
                     "--model-dir", tmp_path / "m", "--cv", "2")
    flat = " ".join(text.split())
    assert rc == 0, text
    assert "column '二级分类' is level 2 of 一级分类 / 二级分类" in flat and "'其他' under '城乡建设', '环境保护'" in flat
    assert "城乡建设/其他" in flat and "环境保护/其他" in flat   # two categories in the metrics, not one '其他'


def test_excel_text_guards_and_placeholders_in_a_csv(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    f = tmp_path / "export.csv"
    f.write_text('工单编号,来电时间,诉求内容,所属社区,处理结果\n'
                 '="000123",="2023-01-05 15:05:00",小区噪音,甲社区,无\n'
                 "'000124,'2023-01-06 08:00:00,路灯不亮,NULL,—\n"
                 "GD000125,—,'引号开头的话,/,nan\n"
                 "'12,2023-01-07,'12,=\"丙社区\",/\n", encoding="gbk")
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(f)
    assert df["工单编号"].tolist() == ["000123", "000124", "GD000125", "'12"]   # the guards kept the zeros; gone now
    assert df["所属社区"].iloc[3] == '="丙社区"'   # unwrapped only around ids, numbers and times (5 digits or more)
    assert df["来电时间"].iloc[:2].tolist() == ["2023-01-05 15:05:00", "2023-01-06 08:00:00"]
    assert df["诉求内容"].iloc[2] == "'引号开头的话"                          # an apostrophe before words is text
    assert df["所属社区"].iloc[0] == "甲社区" and df["所属社区"].iloc[1:3].isna().all()
    assert df["处理结果"].iloc[0] == "无" and df["处理结果"].iloc[1:].isna().all()   # 无 is an answer, kept
    assert df["诉求内容"].iloc[3] == "'12"
    assert df.attrs["govml"]["placeholder_cells"] == {"来电时间": 1, "所属社区": 2, "处理结果": 3}
    (said,) = [r.getMessage() for r in caplog.records]
    assert "6 cell(s) holding only a placeholder for 'no value'" in said and "'所属社区' 2" in said
    # an empty time is told apart from an unreadable one: '—' is no time, not a bad date
    parsed = parse_datetime(df["来电时间"], errors="coerce")
    assert parsed.iloc[:2].notna().all() and pd.isna(df["来电时间"].iloc[2])
