"""Session 11 dry run (issues #3, #4), round 3: export shapes not tried before — 12345-hotline category paths,
UTF-16 without a BOM, workbooks with several sheets, dates with weekdays / Unix times / UTC offsets / a date
split from its clock time, counts written 1.2万 and ids Excel wrote as 1.9E+14. Inputs are built here."""

from __future__ import annotations

import logging
import struct
from pathlib import Path

import pandas as pd
import pytest

from cli_runner import govml
from govml.errors import ConfigError, DataError
from govml.hotspot.panel import clean_events
from govml.io import category_level, category_tree, date_notes, parse_datetime, read_table
from govml.schemas import validate
from workbooks import write_workbook as _book

FORECAST_COLUMNS = "area,category,period_start,horizon,yhat,yhat_lo,yhat_hi,p_hotspot"


def test_dates_with_weekdays_unix_times_and_serials_as_text() -> None:
    s = pd.Series(["2019年2月28日 星期四", "2019年2月28日（周四）11:25", "2019-02-28 (礼拜四) 11:25:05", "1551324305",
                   "1551324305000", "43524.475752", "12345", None])
    got = parse_datetime(s, errors="coerce")
    assert got.iloc[0] == pd.Timestamp("2019-02-28")
    assert got.iloc[1] == pd.Timestamp("2019-02-28 11:25")
    assert got.iloc[2] == pd.Timestamp("2019-02-28 11:25:05")
    # Unix seconds / milliseconds count from 1970-01-01 UTC: 1551324305 is 03:25:05 UTC, 11:25:05 in Beijing
    assert got.iloc[3] == got.iloc[4] == pd.Timestamp("2019-02-28 11:25:05")
    assert got.iloc[5] == pd.Timestamp("2019-02-28 11:25:05")  # a serial is shown to the second, as Excel does
    assert pd.isna(got.iloc[6]) and pd.isna(got.iloc[7])  # 5 digits below the serial range stay unread
    # Java's Date.toString (Chinese systems' exports), English month names, offsets with a space or hours only
    other = pd.Series(["Thu Feb 28 11:25:05 CST 2019", "28-Feb-2019", "Feb 28, 2019 11:25", "2019-02-28 11:25:05 +0800",
                       "2019-02-28T11:25:05+08"])
    assert parse_datetime(other).dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2019-02-28 11:25", "2019-02-28 00:00", "2019-02-28 11:25", "2019-02-28 11:25", "2019-02-28 11:25"]
    numeric = parse_datetime(pd.Series([1551324305, 1551324305123], dtype="int64"))
    assert numeric.tolist() == [pd.Timestamp("2019-02-28 11:25:05"), pd.Timestamp("2019-02-28 11:25:05.123")]


def test_how_a_time_column_was_read_is_said() -> None:
    (note,) = date_notes(pd.Series(["1551324305", "1551324306"]), "受理时间")
    assert note.startswith("2 time(s) in column '受理时间' are Unix times") and "converted to Beijing time" in note
    (note,) = date_notes(pd.Series(["2019-02-28T03:25:05Z", "2019-02-28T04:00:00+00:00"]), "t")
    assert "are UTC" in note and "converted to Beijing time (UTC+8, 8 hours later)" in note
    (note,) = date_notes(pd.Series(["2019-02-28T11:25:05+08:00"] * 3 + ["2019-02-28T03:25:05Z"]), "t")
    assert "different UTC offsets (+08:00 on 3 row(s), Z on 1 row(s))" in note and "on one clock" in note
    assert date_notes(pd.Series(["2019-02-28T11:25:05+08:00", "2019/2/28 11:25:05"]), "t") == []
    # the panel lists them with its other notes
    ev = pd.DataFrame({"t": [str(1551324305 + 86400 * i) for i in range(30)], "a": "甲", "c": "噪声"})
    _, ex = clean_events(ev, time_col="t", area_col="a", category_col="c", now="2025-01-01")
    assert any("Unix times" in n for n in ex.notes)


def test_a_clock_time_column_points_to_the_date_column(tmp_path: Path) -> None:
    clock = pd.Series(["11:25:05", "20:00:00", "下午3:25"])
    with pytest.raises(DataError) as exc:
        parse_datetime(clock, file="f.csv", column="时间")
    assert "clock times without a date" in str(exc.value) and "--time-col" in str(exc.value)
    with pytest.raises(DataError) as exc:   # one bad value among dates is only that value
        parse_datetime(pd.Series(["2019-02-28", "2019-03-01", "11:25"]), file="f.csv", column="t")
    assert "clock times" not in str(exc.value)
    f = tmp_path / "split.csv"
    pd.DataFrame({"日期": ["2024-01-01", "2024-01-02"] * 10, "时间": ["08:00:00", "17:30:00"] * 10,
                  "社区": "甲社区", "类别": "噪声"}).to_csv(f, index=False)
    rc, text = govml("hotspots", "forecast", f, "--time-col", "时间", "--area-col", "社区", "--category-col", "类别",
                     "--out", tmp_path / "fc.csv", "--no-track")
    assert rc == 2 and "clock times without a date" in " ".join(text.split()), text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(tmp_path: Path, encoding: str) -> None:
    f = tmp_path / "unicode.txt"
    text = "工单编号\t受理时间\t诉求内容\r\n" + "".join(f"GD{i:04d}\t2019/2/{i + 1} 10:00\t楼道灯坏了{i}\r\n" for i in range(5))
    f.write_bytes(text.encode(encoding))
    df = read_table(f)
    assert df.attrs["govml"]["encoding"] == encoding and df.attrs["govml"]["delimiter"] == "\t"
    assert list(df.columns) == ["工单编号", "受理时间", "诉求内容"]
    assert df["工单编号"].tolist() == [f"GD{i:04d}" for i in range(5)] and df["诉求内容"].iloc[4] == "楼道灯坏了4"
    plain = tmp_path / "plain.csv"
    plain.write_bytes("id,text\n1,ab\n".encode("utf-16-be"))  # letters only: the byte order is still told
    assert read_table(plain)["text"].tolist() == ["ab"]




def test_which_sheet_is_read_is_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    head = ["工单编号", "受理时间", "所属社区"]
    half1 = [head] + [[f"A{i}", f"2019-01-0{i + 1}", "甲社区"] for i in range(3)]
    half2 = [head] + [[f"B{i}", f"2019-07-0{i + 1}", "乙社区"] for i in range(2)]
    split = tmp_path / "split.xlsx"
    _book(split, {"上半年": half1, "下半年": half2, "汇总": [["社区", "件数"], ["甲社区", 3]]})
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(split)
    assert df["工单编号"].tolist() == ["A0", "A1", "A2"] and df.attrs["govml"]["same_header_sheets"] == ["下半年"]
    (said,) = [r.getMessage() for r in caplog.records]
    assert "sheet '上半年' read; sheet(s) '下半年' have the same columns and were not read" in said
    caplog.clear()
    notes_first = tmp_path / "notes_first.xlsx"
    _book(notes_first, {"说明": [["本表为12345热线工单导出"]], "明细": half1})
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(notes_first, known_columns=head)
    assert df.attrs["govml"]["sheet"] == "明细" and len(df) == 3
    assert any("sheet '明细' read, not the first sheet '说明'" in r.getMessage() for r in caplog.records)


def _path_events(path: Path, samples_dir: Path, *, sep: str = "/", weeks: int = 30) -> pd.DataFrame:
    """Sample complaints of 4 communities as a 12345 export whose 问题分类 is a category path (大类/小类)."""
    df = pd.read_csv(samples_dir / "complaints.csv", dtype=str)
    df = df[df["community"].isin(sorted(df["community"].unique())[:4])]
    df = df[pd.to_datetime(df["created_at"]) < pd.Timestamp("2023-01-02") + pd.Timedelta(weeks=weeks)]
    top = {c: ("城乡建设" if i % 2 else "环境保护") for i, c in enumerate(sorted(df["category"].unique()))}
    out = pd.DataFrame({"工单编号": df["id"], "受理时间": df["created_at"], "所属社区": df["community"],
                        "问题分类": df["category"].map(top) + sep + df["category"]})
    out.to_csv(path, index=False, encoding="gbk")
    return out


def test_category_paths_are_said_and_cut_to_a_level(samples_dir: Path, tmp_path: Path) -> None:
    assert category_tree(pd.Series(["城乡建设/住房/物业管理", "城乡建设/住房/租赁", "环境保护/噪声"])) == ("/", 3, 3, 2)
    assert category_tree(pd.Series(["城乡建设-物业", "城乡建设-供水", "交通-道路"]))[0] == "-"
    assert category_tree(pd.Series(["噪声", "物业", "供水/排水"])) is None   # one name with a slash: no tree
    cut = category_level(pd.Series(["城乡建设 / 住房/物业", "环境保护", None]), 2, "/")
    assert cut.iloc[:2].tolist() == ["城乡建设/住房", "环境保护"] and pd.isna(cut.iloc[2])
    ev = _path_events(tmp_path / "hotline.csv", samples_dir)
    kw = {"time_col": "受理时间", "area_col": "所属社区", "category_col": "问题分类", "now": "2025-01-01"}
    whole, ex = clean_events(ev, **kw)
    n_paths = ev["问题分类"].nunique()
    assert whole["category"].nunique() == n_paths
    assert any("holds category paths of up to 2 levels split by '/'" in n and f"({n_paths} categories)" in n
               and "--category-level 1 forecasts per first level (2 categories)" in n for n in ex.notes)
    first, ex = clean_events(ev, category_level=1, **kw)
    assert sorted(first["category"].unique()) == ["城乡建设", "环境保护"] and len(first) == len(whole)
    assert any(f"{n_paths} names → 2 categories" in n for n in ex.notes)
    with pytest.raises(ConfigError, match="holds no category paths"):
        clean_events(ev, time_col="受理时间", area_col="所属社区", category_col="所属社区", category_level=1)


def test_hotspots_forecast_per_first_level(samples_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "hotline.csv"
    _path_events(f, samples_dir, sep="-", weeks=20)
    out = tmp_path / "fc.csv"
    rc, text = govml("hotspots", "forecast", f, "--time-col", "受理时间", "--area-col", "所属社区",
                     "--category-col", "问题分类", "--category-level", "1", "--horizon", "2", "--now", "2025-01-01",
                     "--out", out, "--no-track")
    assert rc == 0, text
    fc = pd.read_csv(out)
    assert ",".join(fc.columns) == FORECAST_COLUMNS
    assert sorted(fc["category"].unique()) == ["城乡建设", "环境保护"] and len(fc) == 4 * 2 * 2
    assert (fc["yhat_lo"] <= fc["yhat"]).all() and (fc["yhat"] <= fc["yhat_hi"]).all()
    assert "categories cut to their first 1 level(s)" in " ".join(text.split())
    # --encoding and --sheet reach the reader: a GBK file forced as UTF-8 is one clear line
    rc, text = govml("hotspots", "backtest", f, "--time-col", "受理时间", "--area-col", "所属社区",
                     "--category-col", "问题分类", "--encoding", "utf-8", "--out", tmp_path / "m.json", "--no-track")
    assert rc == 2 and "cannot be decoded as utf-8" in text and "it looks like gbk" in text, text


def test_counts_written_with_units_and_ids_in_scientific_notation() -> None:
    df = pd.DataFrame({"id": ["000123", "000124", "000125", "000126"], "created_at": "2019-02-28",
                       "district": "A区", "community": "甲社区", "text": "路灯不亮",
                       "likes": ["1,234", "1.2万", "-", "3k"]})
    rep = validate(df, "messages", file="board.csv")
    assert rep.ok, rep.errors
    out = rep.frame
    assert out["id"].tolist() == ["000123", "000124", "000125", "000126"]   # leading zeros kept
    assert out["likes"].tolist()[:2] == [1234, 12000] and pd.isna(out["likes"].iloc[2])
    assert out["likes"].iloc[3] == 3000
    sci = df.assign(id=["1.9E+14", "1.9E+14", "2.0E+14", "7"])
    (p,) = validate(sci, "messages", file="board.csv").errors
    assert (p.row, p.column, p.found) == (3, "id", "1.9E+14") and "scientific notation" in p.expected


# -- old Excel (.xls): a minimal BIFF8 workbook in an OLE2 container, written here (no .xls writer is installed)

def _biff_rec(rtype: int, data: bytes) -> bytes:
    return struct.pack("<HH", rtype, len(data)) + data


def _biff_text(s: str, long: bool = True) -> bytes:
    return struct.pack("<H" if long else "<B", len(s)) + b"\x01" + s.encode("utf-16-le")


def _biff8(sheets: dict[str, list[list[object]]]) -> bytes:
    def sheet(rows: list[list[object]]) -> bytes:
        out = _biff_rec(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0, 0, 0, 0x0600))  # BOF, worksheet
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                out += (_biff_rec(0x0204, struct.pack("<HHH", i, j, 15) + _biff_text(v)) if isinstance(v, str)
                        else _biff_rec(0x0203, struct.pack("<HHHd", i, j, 15, float(v))))  # LABEL / NUMBER
        return out + _biff_rec(0x000A, b"")
    head = _biff_rec(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0x0600)) + _biff_rec(0x0042, b"\xb0\x04")
    bodies = [sheet(rows) for rows in sheets.values()]
    pos = len(head) + sum(len(_biff_rec(0x0085, bytes(6) + _biff_text(n, False))) for n in sheets) + 4
    for name, body in zip(sheets, bodies, strict=True):  # BOUNDSHEET: where each sheet starts
        head += _biff_rec(0x0085, struct.pack("<IBB", pos, 0, 0) + _biff_text(name, False))
        pos += len(body)
    return head + _biff_rec(0x000A, b"") + b"".join(bodies)


def _ole2(stream: bytes) -> bytes:
    """One stream named Workbook (padded to 4096 bytes: no mini stream), one directory and one FAT sector."""
    end, free = 0xFFFFFFFE, 0xFFFFFFFF
    stream += bytes(max(4096, -(-len(stream) // 512) * 512) - len(stream))
    n = len(stream) // 512
    fat = [i + 1 for i in range(n - 1)] + [end, end, 0xFFFFFFFD]
    fat += [free] * (128 - len(fat))

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        b = name.encode("utf-16-le") + b"\x00\x00"
        return (b.ljust(64, b"\x00") + struct.pack("<HBBIII", len(b), kind, 1, free, free, child) + bytes(36)
                + struct.pack("<IIi", start, size, 0))
    directory = (entry("Root Entry", 5, 1, end, 0) + entry("Workbook", 2, free, 0, len(stream))).ljust(512, b"\x00")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<IIIIIIIII", 0, 1, n, 0, 4096, end, 0, end, 0) + struct.pack("<109I", n + 1, *[free] * 108))
    return header + stream + directory + struct.pack("<128I", *fat)


def test_old_excel_xls_and_what_web_systems_name_xls(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    head = ["工单编号", "受理时间", "所属社区", "问题分类"]
    rows = [[f"GD{i:03d}", 43466 + 7 * i + 0.375, "甲社区" if i % 2 else "乙社区", "城乡建设/物业"] for i in range(6)]
    xls = tmp_path / "工单.xls"
    xls.write_bytes(_ole2(_biff8({"说明": [["12345热线工单导出"]], "工单": [head, *rows]})))
    df = read_table(xls, known_columns=head)
    meta = df.attrs["govml"]
    assert (meta["format"], meta["sheet"], meta["sheets"]) == ("xls", "工单", ["说明", "工单"])
    assert list(df.columns) == head and df["工单编号"].tolist() == [f"GD{i:03d}" for i in range(6)]
    assert parse_datetime(df["受理时间"]).iloc[1] == pd.Timestamp("2019-01-08 09:00")
    rc, text = govml("hotspots", "forecast", xls, "--time-col", "受理时间", "--area-col", "所属社区",
                     "--category-col", "问题分类", "--horizon", "1", "--now", "2025-01-01", "--out", tmp_path / "fc.csv",
                     "--no-track")
    assert rc == 0, text
    fc = pd.read_csv(tmp_path / "fc.csv")
    assert ",".join(fc.columns) == FORECAST_COLUMNS and sorted(fc["area"]) == ["乙社区", "甲社区"]
    first = tmp_path / "first.xlsx"   # the data on the first of several sheets: which one is still said
    _book(first, {"工单": [head, *rows], "汇总": [["社区", "件数"], ["甲社区", 3]]})
    rc, text = govml("hotspots", "forecast", first, "--time-col", "受理时间", "--area-col", "所属社区",
                     "--category-col", "问题分类", "--horizon", "1", "--now", "2025-01-01", "--out", tmp_path / "f2.csv",
                     "--no-track")
    assert rc == 0 and "sheet '工单' of first.xlsx read, the first of '工单', '汇总'" in " ".join(text.split()), text
    # what web systems save as "Excel": an .xlsx, a text table, an HTML page, or a broken file
    named = tmp_path / "xlsx.xls"
    _book(named, {"S": [head, *rows]})
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        assert len(read_table(named)) == 6
    text_xls = tmp_path / "text.xls"
    text_xls.write_text("\t".join(head) + "\n" + "GD1\t2019-01-01\t甲社区\t物业\n", encoding="gbk")
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        assert read_table(text_xls)["所属社区"].tolist() == ["甲社区"]
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "an .xlsx workbook named .xls" in said and "a text table named .xls" in said
    html = tmp_path / "page.xls"
    html.write_text("<html><body><table><tr><td>工单编号</td><td>所属社区</td></tr><tr><td>GD1</td><td>甲社区</td></tr>"
                    "</table></body></html>", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="govml.io"):  # was refused: "this .xls is a web page"
        assert read_table(html)["所属社区"].tolist() == ["甲社区"]
    assert "a web page (an HTML table, as web systems export 'Excel') named .xls" in caplog.text
    broken = tmp_path / "broken.xls"
    broken.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(DataError, match=r"broken.xls: not a readable Excel 97-2003 \(.xls\) workbook"):
        read_table(broken)


def test_validate_says_how_times_were_read_and_which_sheet(tmp_path: Path) -> None:
    f = tmp_path / "hotline.csv"
    pd.DataFrame({"工单编号": ["1", "2"], "受理时间": ["2019-02-28T03:25:05Z", "2019-03-01T01:00:00Z"],
                  "所属社区": "甲社区", "问题分类": "城乡建设/物业"}).to_csv(f, index=False)
    cols = ["--map", "created_at=受理时间", "--map", "community=所属社区", "--map", "category=问题分类"]
    rc, text = govml("validate", f, "--kind", "events", *cols)
    said = " ".join(text.split())
    assert rc == 0 and "note: times in column '受理时间' are UTC" in said and "converted to Beijing time" in said, text
    book = tmp_path / "book.xlsx"
    _book(book, {"说明": [["导出说明"]], "工单": [["受理时间", "所属社区", "问题分类"], ["2019-01-01", "甲社区", "物业"]]})
    rc, text = govml("validate", book, "--kind", "events", *cols)
    assert rc == 0 and "sheet '工单', header on row 1, the workbook's sheets: '说明', '工单'" in " ".join(text.split()), text


def _path_messages(path: Path, samples_dir: Path, weeks: int = 40) -> pd.DataFrame:
    """Sample messages of 4 communities whose 问题分类 is a category path (大类/小类), as a 12345 export writes it."""
    df = pd.read_csv(samples_dir / "messages.csv", dtype=str)
    df = df[df["community"].isin(sorted(df["community"].unique())[:4])]
    df = df[pd.to_datetime(df["created_at"]) < pd.to_datetime(df["created_at"]).min() + pd.Timedelta(weeks=weeks)]
    top = {c: ("城乡建设" if i % 2 else "环境保护") for i, c in enumerate(sorted(df["category"].unique()))}
    out = pd.DataFrame({"工单编号": df["id"], "受理时间": df["created_at"], "所属社区": df["community"],
                        "诉求内容": df["text"], "问题分类": df["category"].map(top) + "/" + df["category"]})
    out.to_csv(path, index=False)
    return out


def test_demands_alerts_and_train_say_category_paths_and_cut_them(samples_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "hotline.csv"
    msgs = _path_messages(f, samples_dir)
    cols = ["--by", "所属社区", "--label-col", "问题分类", "--text-col", "诉求内容", "--time-col", "受理时间",
            "--id-col", "工单编号", "--no-terms"]
    out = tmp_path / "a.csv"
    rc, text = govml("demands", "alerts", f, *cols, "--out", out)
    assert rc == 0, text
    flat = " ".join(text.split())
    n = msgs["问题分类"].nunique()
    assert f"category paths of up to 2 levels split by '/', used whole ({n} categories)" in flat, text
    assert "--category-level 1 uses their first level (2 categories)" in flat
    rc, text = govml("demands", "alerts", f, *cols, "--category-level", "1", "--out", out)
    assert rc == 0, text
    assert f"cut to their first 1 level(s) (split by '/'): {n} names → 2 categories" in " ".join(text.split())
    got = pd.read_csv(out)
    assert list(got.columns) == ["group", "period_start", "kind", "key", "observed", "expected", "score", "p_value",
                                 "level"]
    assert len(got) and set(got.loc[got["kind"] == "category", "key"]) <= {"城乡建设", "环境保护"}
    # a level asked of a column that holds no paths, and a level below 1: one line before any work
    rc, text = govml("demands", "train", f, "--label-col", "所属社区", "--text-col", "诉求内容", "--category-level", "1",
                     "--model-dir", tmp_path / "m")
    assert rc == 2 and "holds no category paths" in text, text
    rc, text = govml("demands", "alerts", f, *cols, "--category-level", "0", "--out", out)
    assert rc == 2 and "--category-level must be 1 or more" in text, text
