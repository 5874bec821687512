"""Session 21, reading round 8: what web systems save as "Excel" (docs/benchmarks.md "### Round 8 (session 21)").

12345-hotline platforms and 网格化 systems export "Excel" that is no workbook: an HTML table saved as .xls (GBK with
a ``<meta charset>``, a title row above the header, ``rowspan``/``colspan`` header cells, ``&nbsp;`` and ``<br>`` in
cells, several ``<table>``s on the page) or an Excel 2003 XML workbook (SpreadsheetML: ``ss:Index`` gaps,
``ss:MergeAcross``, ``ss:Type="Number|DateTime"``). Both were refused ("this .xls is a web page", or an unsupported
suffix .html/.xml); each is now read as the same table the same data saved as CSV gives. Also UTF-16 text without a
byte-order mark saved as .xls (was "not a readable Excel workbook")."""

from __future__ import annotations

import html
import logging
from pathlib import Path

import pandas as pd
import pytest

from cli_runner import govml
from govml.errors import DataError
from govml.io import parse_datetime, read_table, source_rows

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"


@pytest.fixture(scope="module")
def msgs() -> pd.DataFrame:
    """60 sample messages headed as a 12345 export; ids with leading zeros and long digit strings, as systems give."""
    df = pd.read_csv(SAMPLES / "messages.csv", nrows=60, dtype=str)
    ids = [f"{i:04d}" if i % 2 else f"2023120100{i:08d}" for i in range(len(df))]
    text = df["text"].str.replace("，", "，\n", n=1, regex=False)  # a line break in the cell (<br> in a page)
    return pd.DataFrame({"工单编号": ids, "受理时间": df["created_at"], "诉求内容": text,
                         "一级分类": df["category"], "所属区县": df["district"]})


def _td(v: object, extra: str = "") -> str:
    return f"<td{extra}>{html.escape(str(v))}</td>"


def _page(df: pd.DataFrame, *, charset: str = "gb2312", before: str = "", after: str = "") -> str:
    """The data as a hotline platform's 'export to Excel': a title row over the whole width, a header whose group
    诉求信息 spans 诉求内容 | 一级分类 (the other header cells merged down over both rows), &nbsp; and <br> in the
    text, a 合计 footer row."""
    cols = list(df.columns)
    head1 = "".join(_td(c, " rowspan=2") for c in cols[:2]) + '<td colspan="2">诉求信息</td>' + _td(cols[4], " rowspan=2")
    head2 = _td(cols[2]) + _td(cols[3])
    body = []
    for r in df.itertuples(index=False):
        text = html.escape(r[2]).replace("\n", "<br>").replace(" ", "&nbsp;")
        body.append("<tr>" + _td(r[0]) + _td(r[1]) + f"<td>{text}</td>" + _td(r[3]) + _td(r[4]) + "</tr>")
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset else ""
    return (f"<html><head>{meta}<title>导出</title><style>td{{mso-number-format:'\\@';}}</style></head><body>{before}"
            f'<table border="1"><tr><td colspan="5" align="center">2023年12345热线工单导出</td></tr>'
            f"<tr>{head1}</tr><tr>{head2}</tr>{''.join(body)}"
            f"<tr><td>合计</td><td>{len(df)}</td><td></td><td></td><td></td></tr></table>{after}</body></html>")


def _same_as_csv(df: pd.DataFrame, tmp_path: Path, got: pd.DataFrame) -> None:
    """``got`` is the frame the same data saved as CSV gives (values, column names, dtypes)."""
    plain = tmp_path / "plain.csv"
    df.to_csv(plain, index=False)
    want = read_table(plain)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_exact=True)


# -- 1. an HTML table saved as .xls, GBK with a <meta charset>, title row, rowspan/colspan header ------------------

def test_html_xls_gbk_title_row_and_merged_header(tmp_path: Path, msgs: pd.DataFrame,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    page = tmp_path / "工单导出.xls"
    page.write_bytes(_page(msgs).encode("gbk"))
    with caplog.at_level(logging.INFO, logger="govml.io"):
        df = read_table(page)  # was: DataError "this .xls is a web page … save it as .xlsx or .csv"
    meta = df.attrs["govml"]
    assert (meta["format"], meta["encoding"], meta["header_rows"], meta["footer_rows"]) == ("html", "gbk", [2, 3], [64])
    assert source_rows(df)[:2] == [4, 5]
    assert "a web page (an HTML table, as web systems export 'Excel') named .xls" in caplog.text
    # &nbsp; and <br> read as the spaces and line breaks of any cell: the CSV frame of the same data
    _same_as_csv(msgs, tmp_path, df)
    assert df["工单编号"].tolist() == msgs["工单编号"].tolist()  # 0001, 202312010000000000: text, as written


def test_html_xls_through_the_cli_gives_the_csv_output(tmp_path: Path, msgs: pd.DataFrame) -> None:
    page = tmp_path / "page.xls"
    page.write_bytes(_page(msgs).encode("gbk"))
    plain = tmp_path / "plain.csv"
    msgs.to_csv(plain, index=False, encoding="gbk")
    opts = ["--by", "所属区县", "--text-col", "诉求内容", "--time-col", "受理时间", "--id-col", "工单编号"]
    rc, text = govml("demands", "top", plain, *opts, "--out", tmp_path / "a.csv")
    assert rc == 0, text
    rc, text = govml("demands", "top", page, *opts, "--out", tmp_path / "b.csv")
    assert rc == 0, text  # was exit 2: "this .xls is a web page"
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    rc, text = govml("validate", page, "--kind", "events", "--map", "created_at=受理时间", "--map", "community=所属区县",
                     "--map", "category=一级分类")
    assert rc == 0 and "HTML (a web page), encoding gbk, sheet 'table1', header on row 3" in " ".join(text.split()), text


def test_html_encoding_declared_detected_and_forced(tmp_path: Path, msgs: pd.DataFrame,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    small = msgs.head(5)
    utf8 = tmp_path / "utf8.html"  # a UTF-8 page whose template still says gb2312
    utf8.write_text(_page(small), encoding="utf-8")
    nometa = tmp_path / "nometa.htm"  # GBK, no charset declared: detected as a CSV file's
    nometa.write_bytes(_page(small, charset="").encode("gbk"))
    wrong = tmp_path / "wrong.xls"  # GBK bytes under a utf-8 label
    wrong.write_bytes(_page(small, charset="utf-8").encode("gbk"))
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        frames = [read_table(f) for f in (utf8, nometa, wrong)]
    assert [f.attrs["govml"]["encoding"] for f in frames] == ["utf-8", "gbk", "gbk"]
    for f in frames:
        pd.testing.assert_frame_equal(f, frames[0], check_exact=True)
    assert "declares the charset 'gb2312' but is UTF-8 text" in caplog.text
    assert "declares the charset 'utf-8' but its bytes are not in it: read as gbk" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="govml.io"):  # --encoding wins over the declared charset
        forced = read_table(wrong, encoding="gbk")
    assert forced.attrs["govml"]["encoding"] == "gbk" and "declares" not in caplog.text
    with pytest.raises(DataError, match=r"wrong.xls: cannot be decoded as utf-8"):
        read_table(wrong, encoding="utf-8")
    java = tmp_path / "java.xls"  # a Java server's default label over GBK bytes: every byte is "in" Latin-1
    java.write_bytes(_page(small, charset="ISO-8859-1").encode("gbk"))
    assert read_table(java).attrs["govml"]["encoding"] == "gbk"
    pd.testing.assert_frame_equal(read_table(java), frames[0], check_exact=True)


# -- 2. an Excel 2003 XML workbook (SpreadsheetML) ------------------------------------------------------------------

def _ssml(sheets: dict[str, str]) -> str:
    body = "".join(f'<Worksheet ss:Name="{n}"><Table>{rows}</Table></Worksheet>' for n, rows in sheets.items())
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<?mso-application progid="Excel.Sheet"?>\n'
            '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
            'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet" xmlns:x="urn:schemas-microsoft-com:office:excel" '
            f'xmlns:html="http://www.w3.org/TR/REC-html40">{body}</Workbook>')


def _cell(kind: str, v: object, attrs: str = "") -> str:
    return f'<Cell{attrs}><Data ss:Type="{kind}">{html.escape(str(v))}</Data></Cell>'


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    df = pd.read_csv(SAMPLES / "complaints.csv", dtype=str)
    df = df[df["community"].isin(df["community"].unique()[:3])].head(1500).reset_index(drop=True)
    df["id"] = [str(202312010000 + 7 * i) for i in range(len(df))]  # a system's numeric ids
    return df[["id", "created_at", "community", "category"]]


def _events_ssml(ev: pd.DataFrame) -> str:
    """The events as a 网格化 system's Excel 2003 XML export: a merged title row, an empty row skipped with ss:Index,
    an empty column C skipped with ss:Index on the cells after it, ids as Number cells (written 1.0E3 / 12.0),
    受理时间 as DateTime cells."""
    head = (_cell("String", "编号") + _cell("String", "受理时间") + _cell("String", "所属社区", ' ss:Index="4"')
            + _cell("String", "问题分类"))
    title = _cell("String", "工单导出", ' ss:MergeAcross="4"')
    rows = [f"<Row>{title}</Row>", f'<Row ss:Index="3">{head}</Row>']
    for i, r in enumerate(ev.itertuples(index=False)):
        num = f"{float(r.id):.1f}" if i % 2 else f"{float(r.id):.15E}"
        when = pd.Timestamp(r.created_at).strftime("%Y-%m-%dT%H:%M:%S.000")
        rows.append("<Row>" + _cell("Number", num) + _cell("DateTime", when)
                    + _cell("String", r.community, ' ss:Index="4"') + _cell("String", r.category) + "</Row>")
    return _ssml({"Sheet1": "".join(rows)})


@pytest.mark.parametrize("suffix", [".xml", ".xls"])
def test_spreadsheetml_index_gaps_and_datetime(tmp_path: Path, events: pd.DataFrame, suffix: str) -> None:
    book = tmp_path / f"events{suffix}"
    book.write_text(_events_ssml(events), encoding="utf-8")
    df = read_table(book)  # was: .xml an unsupported file type; .xls "this .xls is a web page"
    meta = df.attrs["govml"]
    assert (meta["format"], meta["sheet"], meta["header_row"], source_rows(df)[0]) == ("spreadsheetml", "Sheet1", 3, 4)
    assert list(df.columns) == ["编号", "受理时间", "所属社区", "问题分类"]
    assert df["编号"].tolist() == events["id"].tolist()  # Number cells: whole numbers without .0 or an exponent
    assert parse_datetime(df["受理时间"]).tolist() == pd.to_datetime(events["created_at"]).tolist()


def test_spreadsheetml_through_the_cli_gives_the_csv_forecast(tmp_path: Path, events: pd.DataFrame) -> None:
    book = tmp_path / "events.xml"
    book.write_text(_events_ssml(events), encoding="utf-8")
    plain = tmp_path / "events.csv"
    events.rename(columns={"id": "编号", "created_at": "受理时间", "community": "所属社区",
                           "category": "问题分类"}).to_csv(plain, index=False)
    opts = ["--time-col", "受理时间", "--area-col", "所属社区", "--category-col", "问题分类", "--now", "2024-01-01",
            "--no-track"]
    rc, text = govml("hotspots", "forecast", plain, *opts, "--out", tmp_path / "a.csv")
    assert rc == 0, text
    rc, text = govml("hotspots", "forecast", book, *opts, "--out", tmp_path / "b.csv")
    assert rc == 0, text  # was exit 2: "unsupported file type '.xml'"
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


# -- 3. several tables / worksheets: --sheet ------------------------------------------------------------------------

def test_several_tables_and_sheet(tmp_path: Path, msgs: pd.DataFrame, caplog: pytest.LogCaptureFixture) -> None:
    nav = '<table><tr><td><a href="/">首页</a></td><td>导出</td></tr></table>'
    summary = '<table><caption>汇总</caption><tr><td>区县</td><td>件数</td></tr><tr><td>A区</td><td>3</td></tr></table>'
    page = tmp_path / "page.xls"
    page.write_bytes(_page(msgs.head(8), before=nav + summary).encode("gbk"))
    with caplog.at_level(logging.WARNING, logger="govml.io"):
        df = read_table(page, known_columns=["受理时间", "诉求内容"])
    # each table is named by its place on the page (table3: the third), or its <caption>
    assert (df.attrs["govml"]["sheet"], df.attrs["govml"]["sheets"]) == ("table3", ["table1", "汇总", "table3"])
    assert "sheet 'table3' read, not the first sheet 'table1'" in caplog.text and len(df) == 8
    assert read_table(page, sheet="汇总")["件数"].tolist() == ["3"]
    assert read_table(page, sheet=1)["区县"].tolist() == ["A区"]
    assert len(read_table(page, sheet="2")) == 8
    with pytest.raises(DataError, match=r"page.xls: no sheet named '明细'; the sheets are 'table1', '汇总', 'table3'"):
        read_table(page, sheet="明细")
    rc, text = govml("validate", page, "--kind", "events", "--sheet", "table3", "--map", "created_at=受理时间",
                     "--map", "community=所属区县", "--map", "category=一级分类")
    assert rc == 0 and "the page's tables: 'table1', '汇总', 'table3'" in " ".join(text.split()), text
    # worksheets of an XML workbook: named as in Excel, a hidden one not read unless named
    rows = _cell("String", "受理时间") + _cell("String", "所属社区")
    book = tmp_path / "book.xml"
    book.write_text(_ssml({"说明": '<Row><Cell><Data ss:Type="String">导出说明</Data></Cell></Row>',
                           "3月": f"<Row>{rows}</Row><Row>{_cell('DateTime', '2024-03-01T08:00:00.000')}"
                                  f"{_cell('String', '甲社区')}</Row>",
                           "4月": f"<Row>{rows}</Row><Row>{_cell('DateTime', '2024-04-01T08:00:00.000')}"
                                  f"{_cell('String', '乙社区')}</Row>"}), encoding="utf-8")
    assert read_table(book)["所属社区"].tolist() == ["甲社区"]
    assert read_table(book, sheet="4月")["所属社区"].tolist() == ["乙社区"]
    both = read_table(book, sheet="all")
    assert both["所属社区"].tolist() == ["甲社区", "乙社区"] and both.attrs["govml"]["sheets_read"] == ["3月", "4月"]


# -- 4. a page with no table; an XML file that is no workbook -------------------------------------------------------

def test_a_page_with_no_table_is_one_clear_error(tmp_path: Path) -> None:
    login = tmp_path / "导出.xls"  # the session had expired: the system saved its login page
    login.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><form>登录超时，请重新登录'
                     "</form></body></html>", encoding="utf-8")
    with pytest.raises(DataError, match=r"导出.xls: a web page with no table in it \(no <table> element\)"):
        read_table(login)
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body><table><tr><td> </td></tr></table></body></html>", encoding="utf-8")
    with pytest.raises(DataError, match=r"empty.html: a web page with no table in it \(its <table> elements are"):
        read_table(empty)
    other = tmp_path / "feed.xml"
    other.write_text('<?xml version="1.0"?><rss><channel><title>x</title></channel></rss>', encoding="utf-8")
    with pytest.raises(DataError, match=r"feed.xml: an XML file that is not an Excel 2003 XML workbook"):
        read_table(other)
    broken = tmp_path / "broken.xml"
    broken.write_text(_ssml({"S": "<Row><Cell><Data>1</Data></Cell>"}), encoding="utf-8")
    with pytest.raises(DataError, match=r"broken.xml: not a readable Excel 2003 XML workbook: broken XML near line"):
        read_table(broken)
    mhtml = tmp_path / "archive.xls"  # Excel's "single file web page": MIME parts, no table to read as text
    mhtml.write_text('MIME-Version: 1.0\nContent-Type: multipart/related; boundary="----=_NextPart"\n\n'
                     "------=_NextPart\nContent-Type: text/html\n\n<html><table><tr><td>a</td></tr></table></html>",
                     encoding="utf-8")
    with pytest.raises(DataError, match=r"archive.xls: a single-file web page \(MHTML"):
        read_table(mhtml)
    rc, text = govml("validate", login, "--kind", "messages")
    assert rc == 2 and "a web page with no table in it" in text and "Traceback" not in text, text


# -- 5. ids kept as text --------------------------------------------------------------------------------------------

def test_ids_kept_as_text(tmp_path: Path) -> None:
    rows = [("0012", "12.0", "1.2345678901234E+13", "202312010000123456", "3.5")]
    page = tmp_path / "ids.html"
    page.write_text("<table><tr><td>工单编号</td><td>序号</td><td>证件号</td><td>长编号</td><td>评分</td></tr>"
                    + "".join("<tr>" + "".join(_td(v) for v in r) + "</tr>" for r in rows) + "</table>",
                    encoding="utf-8")
    got = read_table(page)
    assert got.iloc[0].tolist() == list(rows[0]) and all(pd.api.types.is_string_dtype(t) for t in got.dtypes)
    book = tmp_path / "ids.xml"
    head = "".join(_cell("String", c) for c in ("工单编号", "序号", "证件号", "长编号", "评分"))
    data = (_cell("String", "0012") + _cell("Number", "12.0") + _cell("Number", "1.2345678901234E+13")
            + _cell("Number", "202312010000123456") + _cell("Number", "3.5000000000000004"))
    book.write_text(_ssml({"S": f"<Row>{head}</Row><Row>{data}</Row>"}), encoding="utf-8")
    got = read_table(book)
    assert got.iloc[0].tolist() == ["0012", "12", "12345678901234", "202312010000123456", "3.5000000000000004"]


def test_tfoot_total_row_is_a_footer_row_wherever_written(tmp_path: Path) -> None:
    page = tmp_path / "t.htm"  # HTML 4 lets <tfoot> come before <tbody>; a browser shows it last
    page.write_text("<table><thead><tr><th>所属社区</th><th>问题分类</th><th>件数</th><th>受理时间</th></tr></thead>"
                    "<tfoot><tr><td>合计</td><td></td><td>5</td><td></td></tr></tfoot><tbody>"
                    "<tr><td>甲社区</td><td>物业</td><td>2</td><td>2024-01-01</td></tr>"
                    "<tr><td>乙社区</td><td>噪音</td><td>3</td><td>2024-01-02</td></tr></tbody></table>", encoding="utf-8")
    df = read_table(page)
    assert df["所属社区"].tolist() == ["甲社区", "乙社区"] and df.attrs["govml"]["footer_rows"] == [4]


# -- 6. UTF-16 text without a byte-order mark saved as .xls -----------------------------------------------------------

@pytest.mark.parametrize("enc", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_named_xls(tmp_path: Path, msgs: pd.DataFrame, enc: str) -> None:
    f = tmp_path / "unicode.xls"
    f.write_bytes(msgs.to_csv(index=False, sep="\t", lineterminator="\r\n").encode(enc))
    df = read_table(f)  # was: "not a readable Excel workbook: neither Excel 97-2003 (.xls) nor .xlsx content"
    assert (df.attrs["govml"]["encoding"], df.attrs["govml"]["delimiter"]) == (enc, "\t")
    _same_as_csv(msgs, tmp_path, df)
