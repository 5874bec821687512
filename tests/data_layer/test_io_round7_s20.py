"""Session 20, dry run round 7: export shapes nobody had tried (docs/benchmarks.md "### Round 7 (session 20)").

Each test builds its shape from data_samples (a few rows) or generated cells: column options typed as the user
sees a spaced or wrapped header (``--time-col "留言 时间"``); two exports joined one after another (the header
repeated inside the data); placeholder times for "no time" (1970-01-01 08:00:00, 1900-01-01, 0000-00-00); a UTF-8
file with a character cut by the exporting system."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from cli_runner import govml
from govml.errors import DataError
from govml.io import bad_times, parse_datetime, read_table, source_rows
from govml.schemas import check_file
from workbooks import write_workbook

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"


@pytest.fixture(scope="module")
def msgs() -> pd.DataFrame:
    """60 sample messages headed as a 12345 export: 留言编号, 留言时间, 留言详情, 区县."""
    df = pd.read_csv(SAMPLES / "messages.csv", nrows=60, dtype=str)
    return pd.DataFrame({"留言编号": df["id"], "留言时间": df["created_at"], "留言详情": df["text"],
                         "区县": df["district"]})


def _said(caplog: pytest.LogCaptureFixture, word: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if word in r.getMessage()]


# -- 1. column options typed as the header shows them ---------------------------------------------------------------

def test_column_options_typed_as_the_header_shows(tmp_path: Path, msgs: pd.DataFrame) -> None:
    plain = tmp_path / "plain.csv"
    msgs.to_csv(plain, index=False, encoding="gbk")
    spaced = tmp_path / "spaced.csv"  # the header as a system spaced it to line up; the user copies it from Excel
    msgs.rename(columns={"留言时间": "留言 时间", "留言详情": "留言 详情", "区县": "区　县"}).to_csv(
        spaced, index=False, encoding="gbk")
    rc, text = govml("demands", "top", plain, "--by", "区县", "--text-col", "留言详情", "--time-col", "留言时间",
                     "--out", tmp_path / "a.csv")
    assert rc == 0, text
    # was: exit 2 "expected a column '留言 时间' (set it with --time-col), found '留言编号, 留言时间 …'"
    rc, text = govml("demands", "top", spaced, "--by", "区　县", "--text-col", " 留言 详情", "--time-col", "留言 时间",
                     "--out", tmp_path / "b.csv")
    assert rc == 0, text
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_hotspot_column_options_typed_as_the_header_shows(tmp_path: Path) -> None:
    from govml.cli.hotspots import prepare

    df = pd.read_csv(SAMPLES / "complaints.csv", nrows=3000, dtype=str)
    path = tmp_path / "ev.csv"
    pd.DataFrame({"受理\n时间": df["created_at"], "所属 社区": df["community"], "ＩＤ": df["id"],
                  "问题类别": df["category"]}).to_csv(path, index=False)
    kw = dict(district_col=None, freq="W", now="2024-01-01", min_category_events=1)
    raw, panel, _ = prepare(path, time_col="受理 时间", area_col="所属社区 ", category_col="问题类别", **kw)
    assert len(panel) and "受理 时间" in raw.columns and "所属社区 " in raw.columns
    ref = tmp_path / "ref.csv"
    pd.DataFrame({"受理时间": df["created_at"], "所属社区": df["community"], "问题类别": df["category"]}).to_csv(
        ref, index=False)
    _, panel_ref, _ = prepare(ref, time_col="受理时间", area_col="所属社区", category_col="问题类别", **kw)
    pd.testing.assert_frame_equal(panel, panel_ref)


def test_columns_as_typed_matches_one_column_or_none(caplog: pytest.LogCaptureFixture) -> None:
    from govml.io import columns_as_typed

    df = pd.DataFrame({"留言时间": [1], "ID": [2], "类别": [3], "类 别x": [4]})
    df.attrs["govml"] = {"rows": [[2, 3]]}
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        got = columns_as_typed(df, ["留言 时间", "ＩＤ", "类别", None, "不存在"], "f.csv")
    assert got == {"留言时间": "留言 时间", "ID": "ＩＤ"}
    assert list(df.columns) == ["留言 时间", "ＩＤ", "类别", "类 别x"] and df.attrs["govml"] == {"rows": [[2, 3]]}
    assert _said(caplog, "typed as the header shows") == [
        "f.csv: column name(s) typed as the header shows them matched to the column as read: '留言 时间' is '留言时间', "
        "'ＩＤ' is 'ID'"]
    # two columns of the same key: neither is guessed
    two = pd.DataFrame({"区县": [1], "区 县x": [2], "区　县": [3]})
    assert columns_as_typed(two, ["区 县"]) == {} and list(two.columns) == ["区县", "区 县x", "区　县"]


# -- 2. two exports joined one after another ---------------------------------------------------------------------

def test_a_repeated_header_is_not_data(tmp_path: Path, msgs: pd.DataFrame, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "joined.csv"
    text = "\ufeff" + msgs.iloc[:25].to_csv(index=False) + "\ufeff" + msgs.iloc[25:].to_csv(index=False)
    path.write_text(text, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(path)
    # was: 61 rows, row 27 holding 留言编号/留言时间/… (demands: "1 with an unreadable time (row 27 …, e.g. '留言时间')")
    assert len(df) == 60 and df["留言编号"].tolist() == msgs["留言编号"].tolist()
    assert source_rows(df)[24:26] == [26, 28] and df.attrs["govml"]["header_repeats"] == [27]
    assert _said(caplog, "repeat the header") == [f"{path}: row(s) 27 repeat the header (files or sheets joined one "
                                                  "after another?): not read as data"]
    rows = [list(msgs.columns), *msgs.iloc[:10].values.tolist(), list(msgs.columns), *msgs.iloc[10:20].values.tolist()]
    book = write_workbook(tmp_path / "pasted.xlsx", {"Sheet1": rows})
    df = read_table(book)
    assert len(df) == 20 and df.attrs["govml"]["header_repeats"] == [12]
    # a row naming the columns with something else in it is data (a message that quotes the header, say)
    other = tmp_path / "other.csv"
    other.write_text("编号,时间,内容\n1,2023-01-01,停车难\n编号,时间,内容：编号和时间都不对\n", encoding="utf-8")
    assert len(read_table(other)) == 2


# -- 3. placeholder times for "no time" -----------------------------------------------------------------------------

def test_placeholder_times_are_no_time(tmp_path: Path, msgs: pd.DataFrame) -> None:
    values = pd.Series(["1970-01-01 08:00:00", "1970/1/1 0:00", "1900-01-01 00:00:00", "0000-00-00 00:00:00",
                        "0000-00-00", "2019-11-01 08:00:00", "1970-01-01 09:15:00", "1900-01-01 08:00:00", None,
                        "1899-12-30 00:00:00", "1753-01-01"])
    got = parse_datetime(values, errors="coerce")
    # was: 1970-01-01 08:00 and 1900-01-01 read as times (demands top wrote periods 1900-01 and 1970-01; the hotspot
    # panel ran from 1900: 6,052 weeks, every forecast hot)
    assert got.isna().tolist() == [True, True, True, True, True, False, False, False, True, True, True]
    from govml.io import placeholder_times

    assert placeholder_times(values).tolist() == [True] * 5 + [False] * 4 + [True, True]
    m = msgs.copy()
    m.loc[[3, 9], "留言时间"] = "1970-01-01 08:00:00"
    m.loc[14, "留言时间"] = "0000-00-00 00:00:00"
    m.loc[20, "留言时间"] = "不详"
    parsed, bad, future, parts = bad_times(m, "留言时间")
    assert bad.sum() == 4 and not future.any()
    assert parts == ["3 with a placeholder time that systems write for 'no time' (1970-01-01 08:00, 1900-01-01, "
                     "0000-00-00 …) (row 5, 11, 16, e.g. '1970-01-01 08:00:00')",
                     "1 with an unreadable time (row 22, e.g. '不详')"]
    with pytest.raises(DataError, match="this is what systems write for 'no time'"):
        parse_datetime(pd.Series(["1970-01-01 08:00:00"]))
    # validate: an optional time (closed_at) holding 1970-01-01 is empty, not an error; a required one is empty
    ev = pd.DataFrame({"id": ["a", "b", "c"], "created_at": ["2023-01-02 08:00", "1900-01-01 00:00:00", "2023-01-03"],
                       "community": ["金桥社区"] * 3, "category": ["噪声"] * 3,
                       "closed_at": ["1970-01-01 08:00:00", "2023-01-05", "0000-00-00 00:00:00"]})
    path = tmp_path / "ev.csv"
    ev.to_csv(path, index=False)
    report = check_file(path, "events")
    errors = [(p.row, p.column, p.expected) for p in report.errors]
    assert [(r, c) for r, c, _ in errors] == [(3, "created_at")] and errors[0][2].startswith("a value")
    notes = report.meta.get("notes", [])
    assert any("'closed_at' hold a placeholder time" in n and "'1970-01-01 08:00:00' 1" in n for n in notes), notes


def test_demands_top_leaves_placeholder_times_out(tmp_path: Path, msgs: pd.DataFrame) -> None:
    m = msgs.copy()
    m.loc[m.index % 4 == 1, "留言时间"] = "1970-01-01 08:00:00"
    path = tmp_path / "m.csv"
    m.to_csv(path, index=False)
    rc, text = govml("demands", "top", path, "--text-col", "留言详情", "--time-col", "留言时间", "--period", "M",
                     "--out", tmp_path / "top.csv")
    assert rc == 0, text
    assert sorted(pd.read_csv(tmp_path / "top.csv")["period_start"].unique()) == ["2023-01-01"]  # was: + 1970-01-01
    assert "15 with a placeholder time that systems write for 'no time'" in " ".join(text.split())


# -- 4. UTF-8 with a character cut by the exporting system --------------------------------------------------------

def test_utf8_with_a_few_bad_bytes_is_read_and_said(tmp_path: Path, msgs: pd.DataFrame,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    raw = bytearray(msgs.to_csv(index=False).encode("utf-8"))
    at = raw.find(msgs.loc[30, "留言详情"].encode("utf-8"))
    del raw[at + 1]  # the first character loses a byte
    path = tmp_path / "cut.csv"
    path.write_bytes(bytes(raw))
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(path)
    # was: "cannot tell the text encoding (not UTF-8: invalid byte at position …; not GBK/GB18030 Chinese either)"
    assert len(df) == 60 and df.attrs["govml"]["encoding"] == "utf-8"
    assert df.loc[30, "留言详情"].startswith("\ufffd") and df.loc[31, "留言详情"] == msgs.loc[31, "留言详情"]
    line = bytes(raw[:at]).count(b"\n") + 1
    assert _said(caplog, "invalid byte") == [
        f"{path}: UTF-8 but for 1 invalid byte sequence(s) (line {line}: a character cut by the exporting system?), "
        "each read as '\ufffd'; the rest of the file is read. If the file is in another encoding, pass --encoding"]
    # many broken characters, or text that is not Chinese: still refused (the encoding is another one)
    many = bytearray(raw)
    for k in range(2, 27):  # 25 more messages cut
        del many[many.find(msgs.loc[k, "留言详情"].encode("utf-8")) + 1]
    path.write_bytes(bytes(many))
    with pytest.raises(DataError, match="cannot tell the text encoding"):
        read_table(path)
    path.write_bytes("name,city\nJosé,Málaga\nRenée,Genève\n".encode("latin-1"))
    with pytest.raises(DataError, match="cannot tell the text encoding"):
        read_table(path)


# -- 5. duplicate column names ------------------------------------------------------------------------------------

def test_duplicate_column_names_say_the_file_and_how_to_name_the_copy(tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("编号,时间,内容,时间,,,\n1,2023-01-01 08:00,停车难,2023-01-09 10:00,,,\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(path)
    assert list(df.columns) == ["编号", "时间", "内容", "时间.1"]  # the trailing empty columns dropped
    # was: "duplicate column name '时间': the copy is named '时间.1'" (no file, no way to read the copy said)
    assert _said(caplog, "duplicate column") == [
        f"{path}: duplicate column name '时间' (columns 2 and 4 of the table): the copy is named '时间.1' — an option "
        "naming '时间' reads the first; name '时间.1' to read the copy"]


# -- 6. every row left out -----------------------------------------------------------------------------------------

def test_every_row_left_out_is_an_error_that_says_why(tmp_path: Path, msgs: pd.DataFrame) -> None:
    m = msgs.copy()
    m["留言时间"] = (pd.to_datetime(m["留言时间"]) + pd.DateOffset(years=20)).dt.strftime("%Y/%m/%d %H:%M:%S")
    path = tmp_path / "future.csv"
    m.to_csv(path, index=False)
    common = ["--text-col", "留言详情", "--time-col", "留言时间"]
    # was: top exit 0 with "Wrote 0 rows"; alerts exit 2 "the table has no rows (columns …)" of a 60-row file
    for cmd in (["top", "--period", "M"], ["alerts", "--by", "区县", "--no-terms"]):
        rc, text = govml("demands", cmd[0], path, *cmd[1:], *common, "--out", tmp_path / f"{cmd[0]}.csv")
        flat = " ".join(text.split())
        assert rc == 2 and "column '留言时间': every row left out, nothing to read: 60 with a time in the future" in flat
        assert "is the exporting system's clock or year wrong?" in flat and not (tmp_path / f"{cmd[0]}.csv").exists()


def test_skills_map_typed_as_the_header_shows(tmp_path: Path) -> None:
    asm = pd.read_csv(SAMPLES / "assessments.csv", dtype=str, nrows=16)
    plain = tmp_path / "plain.csv"
    asm.to_csv(plain, index=False)
    spaced = tmp_path / "spaced.csv"  # an office system's own names, spaced to line up
    asm.rename(columns={"worker_id": "人员　代码", "community": "所在 网格"}).to_csv(spaced, index=False, encoding="gbk")
    rc, text = govml("skills", "score", plain, "--no-track", "--out", tmp_path / "a.csv")
    assert rc == 0, text
    # was: exit 2 "required column(s) missing: worker_id, community (found: 人员代码, 所在网格, …)"
    rc, text = govml("skills", "score", spaced, "--map", "worker_id=人员　代码", "--map", "community=所在 网格",
                     "--no-track", "--out", tmp_path / "b.csv")
    assert rc == 0, text
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_validate_map_typed_as_the_header_shows(tmp_path: Path, msgs: pd.DataFrame) -> None:
    path = tmp_path / "spaced.csv"
    m = msgs.assign(社区="金桥社区").rename(columns={"留言时间": "留言 时间", "留言详情": "留言 详情", "区县": "区 县"})
    m.to_csv(path, index=False, encoding="gbk")
    mapping = {"id": "留言编号", "created_at": "留言 时间", "text": "留言 详情", "district": "区 县", "community": "社区"}
    report = check_file(path, "messages", mapping=mapping)
    # was: warnings "a column '留言 时间' for the mapping created_at=留言 时间: no such column", then created_at missing
    assert not report.errors and not report.warnings, (report.errors, report.warnings)
    assert report.mapping["created_at"] == "留言 时间" and len(report.rows) == 60


def test_a_full_width_space_typed_is_said_as_typed(caplog: pytest.LogCaptureFixture) -> None:
    from govml.io import columns_as_typed

    df = pd.DataFrame({"区县": [1]})
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        columns_as_typed(df, ["区　县"], "f.csv")
    assert _said(caplog, "typed as") == ["f.csv: column name(s) typed as the header shows them matched to the column as "
                                         "read: '区　县' is '区县'"]  # not '区\\u3000县'


def test_federated_options_typed_as_the_header_shows(tmp_path: Path, msgs: pd.DataFrame) -> None:
    from rich.console import Console

    from govml.cli.federated import _read_input

    path = tmp_path / "spaced.csv"
    msgs.rename(columns={"留言详情": "留言 详情", "区县": "区　县"}).to_csv(path, index=False)
    # was: DataError "no partition column '区 县' (columns: 留言编号, 留言时间, 留言详情, 区县)"
    df, mapping, _ = _read_input(path, "classifier", "区 县", {"text": "留言 详情"}, Console(file=None, quiet=True))
    assert df["区 县"].tolist() == msgs["区县"].tolist() and df["留言 详情"].tolist() == msgs["留言详情"].tolist()
    assert mapping == {"text": "留言 详情"}


def test_utf8_asked_for_with_a_few_bad_bytes_is_read_as_without_encoding(tmp_path: Path, msgs: pd.DataFrame,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    """`--encoding utf-8` on such a file (lead, session 20; was: 'cannot be decoded as utf-8 …, leave --encoding
    out'): the same frame and the same warning as without it; a file in another encoding is still refused."""
    raw = bytearray(msgs.to_csv(index=False).encode("utf-8"))
    del raw[raw.find(msgs.loc[30, "留言详情"].encode("utf-8")) + 1]
    path = tmp_path / "cut.csv"
    path.write_bytes(b"\xef\xbb\xbf" + bytes(raw))  # with a byte-order mark, as Excel writes UTF-8
    auto = read_table(path)
    for enc in ("utf-8", "UTF8", "utf-8-sig"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="govml.io"):
            got = read_table(path, encoding=enc)
        pd.testing.assert_frame_equal(got, auto)
        assert list(got.columns) == list(msgs.columns)  # no byte-order mark left in the first name
        assert len(_said(caplog, "invalid byte")) == 1
    for k in range(2, 27):  # 25 more messages cut: not "a few"; a clear error, not a bare UnicodeDecodeError
        del raw[raw.find(msgs.loc[k, "留言详情"].encode("utf-8")) + 1]
    path.write_bytes(b"\xef\xbb\xbf" + bytes(raw))
    with pytest.raises(DataError, match=r"cut\.csv: starts with a byte-order mark for utf-8-sig, but invalid bytes"):
        read_table(path)
    path.write_bytes(msgs.to_csv(index=False).encode("gbk"))
    with pytest.raises(DataError, match="cannot be decoded as utf-8"):
        read_table(path, encoding="utf-8")
