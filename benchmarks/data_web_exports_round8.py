"""Reading round 8 (session 21): what web systems save as "Excel", built from the real development data.

    .venv/bin/python benchmarks/data_web_exports_round8.py build OUT                 # the shapes into OUT/in
    .venv/bin/python benchmarks/data_web_exports_round8.py run OUT [--only NAME,…]   # every checked command on each
    .venv/bin/python benchmarks/data_web_exports_round8.py compare OUT_BEFORE OUT_AFTER  # exit codes side by side
    .venv/bin/python benchmarks/data_web_exports_round8.py table OUT_BEFORE OUT_AFTER    # the Markdown table
    .venv/bin/python benchmarks/data_web_exports_round8.py readcost OUT/in               # CPU of read_table per form

12345-hotline platforms, 网格化 systems and other government web systems export "Excel" that is no workbook: an HTML
table saved under .xls (GBK/GB2312 with a <meta charset>, or UTF-8; &nbsp; and <br> in cells; rowspan/colspan; a
title row over the header; 合计/制表人 rows below; several <table>s on the page) or an Excel 2003 XML workbook
(SpreadsheetML: ss:Index gaps where cells are blank, ss:MergeAcross, ss:Type="Number|DateTime"). Each shape here is
one of four base tables written in one such form; the same table is written as a plain UTF-8 CSV (``*.csv``, the
reference) and every command is run on both:

    msg  700 messages of teddycup2020c 附件3 (from 2019-11-01, a 区县 from the title; benchmarks/data_real_exports_round7)
    ev   Boston 311 2015: 4 neighbourhoods × the 4 biggest REASONs (12,767 events), headed 编号/受理时间/街道/类别
    tr   300 data_samples/messages.csv rows headed 工单编号/受理时间/诉求内容/一级分类 (demands train)
    sk   data_samples/assessments.csv (skills diagnose with data_samples/courses.csv)

    w01  HTML .xls, GBK with <meta … charset=gb2312> (characters GBK lacks as &#NNN;), a title row over the width,
         spaces as &nbsp;, line breaks as <br>, a 合计 row and a 制表人 row below
    w02  HTML .xls, UTF-8 <meta charset="utf-8">, a two-row header (a group name over two columns, the others merged
         down), a navigation table and a 汇总 table (caption) before the data's
    w03  .html: a bare <table> (<thead>/<th>, <tbody>), GBK, no charset declared
    w04  HTML .xls, the area column merged down (rowspan) over runs of equal values, as a report grouped by area
    w05  SpreadsheetML .xls: a merged title row (MergeAcross), a blank row skipped with ss:Index, blank cells left out
         (ss:Index on the next), numbers as Number (whole numbers as Excel writes them), times as DateTime
    w06  SpreadsheetML .xml: a 说明 worksheet first, the data second, a hidden 字典 worksheet; every cell a String
    w07  UTF-16 LE text without a byte-order mark, tab-separated, named .xls

``run`` calls ``govml.cli.main`` (what the ``govml`` script calls) in a forked child of one process per run
(benchmarks/data_forms_cross.py: fresh GOVML_HOME and working folder) and writes OUT/runs.tsv (shape, command, exit code, flag,
output digest, the last lines shown) and each run's output in OUT/work/SHAPE/COMMAND/run.log; a run whose output
holds ``internal error`` or ``Traceback`` is flagged BUG, and a shape whose output differs from its CSV's DIFFERS
(checked for every output file: top.csv, hot.csv, alerts.csv, pred.csv, fc.csv, bt.json, plan.csv, the model
folder's metrics). For "before" figures run it with ``PYTHONPATH=<git archive of the old tree>/src`` (the
whole tree: govml reads configs/ beside src/, and a src-only archive runs with default settings). Needs
../shared/data (skips cleanly without).
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import data_forms_cross as dfc  # noqa: E402
import data_real_exports_round7 as r7  # noqa: E402

SAMPLES = r7.SAMPLES
COURSES = SAMPLES / "courses.csv"
SHAPES = ["w01", "w02", "w03", "w04", "w05", "w06", "w07"]


# -- the base tables and their commands ---------------------------------------------------------------------------

def bases() -> dict[str, pd.DataFrame]:
    sk = pd.read_csv(SAMPLES / "assessments.csv", dtype=str, keep_default_na=False)
    return {"msg": r7.a3(), "ev": r7.boston(), "tr": r7.train_base(), "sk": sk}


#: a column of times (written as DateTime in w05) and the column merged down in w04, per base
TIME_COL = {"msg": "留言时间", "ev": "受理时间", "tr": "受理时间", "sk": None}
AREA_COL = {"msg": "区县", "ev": "街道", "tr": "一级分类", "sk": "community"}
#: the columns the two-row header of w02 groups under one name
GROUP = {"msg": ("留言内容", ["留言主题", "留言详情"]), "ev": ("地点与类别", ["街道", "类别"]),
         "tr": ("诉求", ["诉求内容", "一级分类"]), "sk": ("所在", ["community", "district"])}


def commands(base: str, f: str) -> list[tuple[str, list[str]]]:
    """(label, args without the leading 'govml') of every checked command on file f of the base."""
    if base == "msg":
        o = r7.M_OPTS
        maps = ["--map", "created_at=留言时间", "--map", "text=留言详情", "--map", "id=留言编号", "--map",
                "community=区县"]
        return [("validate", ["validate", f, "--kind", "messages", *maps]),
                ("top", ["demands", "top", f, "--by", "区县", "--period", "M", *o, "--out", "top.csv"]),
                ("hot-issues", ["demands", "hot-issues", f, "--top", "10", *o, "--out", "hot.csv"]),
                ("alerts", ["demands", "alerts", f, "--by", "区县", "--no-terms", *o, "--out", "alerts.csv"]),
                ("classify", ["demands", "classify", f, "--model-dir", "{MODEL}", *o, "--out", "pred.csv"])]
    if base == "ev":
        o = [*r7.E_OPTS, "--now", "2016-01-01", "--no-track"]
        maps = ["--map", "created_at=受理时间", "--map", "community=街道", "--map", "category=类别"]
        return [("validate", ["validate", f, "--kind", "events", *maps]),
                ("forecast", ["hotspots", "forecast", f, *o, "--out", "fc.csv"]),
                ("backtest", ["hotspots", "backtest", f, *o, "--origins", "2", "--out", "bt.json"])]
    if base == "tr":
        maps = ["--map", "created_at=受理时间", "--map", "text=诉求内容", "--map", "id=工单编号", "--map",
                "category=一级分类"]
        return [("validate", ["validate", f, "--kind", "messages", *maps]),
                ("train", ["demands", "train", f, *r7.T_OPTS, "--cv", "2", "--model-dir", "model"])]
    return [("validate", ["validate", f, "--kind", "assessments"]),
            ("diagnose", ["skills", "diagnose", f, "--courses", str(COURSES), "--no-track", "--out", "plan.csv"])]


# -- writers ------------------------------------------------------------------------------------------------------

def _cell_html(v: str) -> str:
    """A cell as a web system writes it: escaped, spaces as &nbsp;, line breaks as <br>."""
    return html.escape(v, quote=False).replace("\r\n", "\n").replace("\n", "<br>").replace(" ", "&nbsp;")


def _page(body: str, charset: str | None) -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset else ""
    return (f'<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head>{meta}<title>导出</title>'
            "<style>td{mso-number-format:'\\@';}</style></head><body>" + body + "</body></html>")


def _rows_html(df: pd.DataFrame, rowspan_col: str | None = None) -> str:
    vals = df.to_numpy(dtype=object)
    j = list(df.columns).index(rowspan_col) if rowspan_col else None
    runs: dict[int, int] = {}  # first row of a run → its length
    if j is not None:
        i = 0
        while i < len(vals):
            k = i
            while k + 1 < len(vals) and vals[k + 1][j] == vals[i][j] and vals[i][j] != "":
                k += 1
            runs[i] = k - i + 1
            i = k + 1
    out = []
    for i, row in enumerate(vals):
        cells = []
        for c, v in enumerate(row):
            if c == j:
                if i not in runs:
                    continue  # inside a run: the merged cell above covers it
                span = f' rowspan="{runs[i]}"' if runs[i] > 1 else ""
                cells.append(f"<td{span}>{_cell_html(v)}</td>")
            else:
                cells.append(f"<td>{_cell_html(v)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "\n".join(out)


def w01(df: pd.DataFrame) -> bytes:
    n = df.shape[1]
    head = "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in df.columns) + "</tr>"
    body = (f'<table border="1"><tr><td colspan="{n}">2023年12345热线工单导出（{len(df)}条）</td></tr>{head}\n'
            f"{_rows_html(df)}\n<tr><td>合计</td><td colspan=\"{n - 1}\">{len(df)}条</td></tr>"
            f'<tr><td colspan="{n}">制表人：张三　　导出时间：2023-12-31 17:00</td></tr></table>')
    return _page(body, "gb2312").encode("gbk", "xmlcharrefreplace")


def w02(df: pd.DataFrame, group: tuple[str, list[str]]) -> bytes:
    name, members = group
    cols = list(df.columns)
    first = cols.index(members[0])
    df = df[[*cols[:first], *members, *[c for c in cols[first:] if c not in members]]]
    top, low = [], []
    for c in df.columns:
        if c == members[0]:
            top.append(f'<th colspan="{len(members)}">{html.escape(name)}</th>')
        if c in members:
            low.append(f"<th>{html.escape(c)}</th>")
        else:
            top.append(f'<th rowspan="2">{html.escape(c)}</th>')
    nav = '<table><tr><td><a href="/">首页</a></td><td><a href="/export">导出</a></td><td>帮助</td></tr></table>'
    summary = ('<table><caption>汇总</caption><tr><td>项目</td><td>数量</td></tr>'
               f"<tr><td>记录数</td><td>{len(df)}</td></tr></table>")
    body = (f'{nav}{summary}<table border="1"><thead><tr>{"".join(top)}</tr><tr>{"".join(low)}</tr></thead>'
            f"<tbody>{_rows_html(df)}</tbody></table>")
    return _page(body, "utf-8").encode("utf-8")


def w03(df: pd.DataFrame) -> bytes:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in df.columns)
    return (f'<table border="1"><thead><tr>{head}</tr></thead><tbody>\n{_rows_html(df)}\n</tbody></table>'
            ).encode("gbk", "xmlcharrefreplace")


def w04(df: pd.DataFrame, area: str) -> bytes:
    head = "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in df.columns) + "</tr>"
    return _page(f'<table border="1">{head}\n{_rows_html(df, area)}</table>', "utf-8").encode("utf-8")


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _ssml_cell(v: str, typed: bool, is_time: bool, index: int | None) -> str:
    idx = f' ss:Index="{index}"' if index is not None else ""
    kind, text = "String", v
    if typed and is_time:
        t = pd.to_datetime(v, format="mixed", errors="coerce")
        if not pd.isna(t):
            kind, text = "DateTime", t.strftime("%Y-%m-%dT%H:%M:%S.000")
    elif typed and _NUMBER.fullmatch(v) and not (len(v) > 1 and v.startswith("0") and "." not in v):
        f = float(v)
        kind, text = "Number", (str(int(f)) if f.is_integer() and abs(f) < 2**53 else repr(f))
    return f'<Cell{idx}><Data ss:Type="{kind}">{html.escape(text, quote=False)}</Data></Cell>'


def _ssml_rows(df: pd.DataFrame, typed: bool, time_col: str | None, first_row: int | None = None) -> str:
    out = []
    tcol = list(df.columns).index(time_col) if time_col in df.columns else None
    for i, row in enumerate(df.to_numpy(dtype=object)):
        cells, gap = [], False
        for c, v in enumerate(row):
            if v == "":
                gap = True  # Excel leaves a blank cell out; the next cell says its column
                continue
            cells.append(_ssml_cell(v, typed, c == tcol, c + 1 if gap else None))
            gap = False
        idx = f' ss:Index="{first_row}"' if i == 0 and first_row else ""
        out.append(f"<Row{idx}>{''.join(cells)}</Row>")
    return "\n".join(out)


def _ssml_book(sheets: list[tuple[str, str, bool]]) -> str:
    body = ""
    for name, rows, hidden in sheets:
        opts = ('<WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel"><Visible>SheetHidden</Visible>'
                "</WorksheetOptions>" if hidden else "")
        body += f'<Worksheet ss:Name="{html.escape(name)}"><Table>\n{rows}\n</Table>{opts}</Worksheet>\n'
    return ('<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
            '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:o="urn:schemas-microsoft-com:office:'
            'office" xmlns:x="urn:schemas-microsoft-com:office:excel" xmlns:ss="urn:schemas-microsoft-com:office:'
            'spreadsheet" xmlns:html="http://www.w3.org/TR/REC-html40">\n' + body + "</Workbook>\n")


def w05(df: pd.DataFrame, time_col: str | None) -> bytes:
    n = df.shape[1]
    head = "".join(f'<Cell><Data ss:Type="String">{html.escape(c)}</Data></Cell>' for c in df.columns)
    title = f'<Row><Cell ss:MergeAcross="{n - 1}"><Data ss:Type="String">工单导出</Data></Cell></Row>'
    rows = f'{title}\n<Row ss:Index="3">{head}</Row>\n{_ssml_rows(df, True, time_col)}'
    return _ssml_book([("Sheet1", rows, False)]).encode("utf-8")


def w06(df: pd.DataFrame) -> bytes:
    head = "".join(f'<Cell><Data ss:Type="String">{html.escape(c)}</Data></Cell>' for c in df.columns)
    notes = '<Row><Cell><Data ss:Type="String">本表由系统导出，请勿修改表头。</Data></Cell></Row>'
    lookup = (f"<Row>{head}</Row>\n"
              + "".join(f'<Row><Cell><Data ss:Type="String">示例{i}</Data></Cell></Row>' for i in range(3)))
    return _ssml_book([("说明", notes, False), ("数据", f"<Row>{head}</Row>\n{_ssml_rows(df, False, None)}", False),
                       ("字典", lookup, True)]).encode("utf-8")


def w07(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False, sep="\t", lineterminator="\r\n").encode("utf-16-le")


def build(out: Path) -> dict[str, tuple[str, str]]:
    """Write every shape into ``out``; return {file name: (base, shape)} (the reference CSVs are shape 'csv')."""
    out.mkdir(parents=True, exist_ok=True)
    made: dict[str, tuple[str, str]] = {}
    for base, df in bases().items():
        df = df.fillna("").astype(str)
        files = {
            "csv": (f"{base}.csv", df.to_csv(index=False).encode("utf-8")),
            "w01": (f"{base}_w01_html_gbk.xls", w01(df)),
            "w02": (f"{base}_w02_html_utf8_tables.xls", w02(df, GROUP[base])),
            "w03": (f"{base}_w03_bare_table.html", w03(df)),
            "w04": (f"{base}_w04_html_rowspan.xls", w04(df, AREA_COL[base])),
            "w05": (f"{base}_w05_ssml.xls", w05(df, TIME_COL[base])),
            "w06": (f"{base}_w06_ssml_sheets.xml", w06(df)),
            "w07": (f"{base}_w07_utf16le_nobom.xls", w07(df)),
        }
        for shape, (name, data) in files.items():
            (out / name).write_bytes(data)
            made[name] = (base, shape)
    r7._csv(r7.train_base(), out / "train_plain.csv")
    return made


# -- running ------------------------------------------------------------------------------------------------------

def _digest(work: Path) -> str:
    """sha256 (12 hex) of the command's output: its --out file, or the model folder's metrics (train)."""
    for name in ("top.csv", "hot.csv", "alerts.csv", "pred.csv", "fc.csv", "plan.csv"):
        if (work / name).exists():
            return hashlib.sha256((work / name).read_bytes()).hexdigest()[:12]
    if (work / "bt.json").exists():  # without the seconds it took, the file's name, its own row numbers and the notes
        data = json.loads((work / "bt.json").read_text(encoding="utf-8"))  # on its title/footer rows
        data.pop("events", None)
        for k in ("excluded", "notes"):
            data.get("data", {}).pop(k, None)
        return hashlib.sha256(json.dumps(_untimed(data), sort_keys=True).encode()).hexdigest()[:12]
    if (work / "model").is_dir():
        metrics = sorted((work / "model").glob("*.json"))
        if metrics:
            data = {m.name: _untimed(json.loads(m.read_text(encoding="utf-8"))) for m in metrics}
            return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return "-"


_VOLATILE = re.compile(r"second|time|_at$|date|path|file|^input$|version|host|elapsed|created|trained", re.I)


def _untimed(data: object) -> object:
    """A JSON value without what differs between runs of the same data: timings, dates, paths, file names."""
    if isinstance(data, dict):
        return {k: _untimed(v) for k, v in data.items() if not _VOLATILE.search(str(k))}
    if isinstance(data, list):
        return [_untimed(v) for v in data]
    return data


def run(out: Path, only: set[str] | None = None) -> int:
    os.environ.update(COLUMNS="200", NO_COLOR="1", MLFLOW_DISABLE_TELEMETRY="true")
    import sklearn  # noqa: F401

    import govml.cli  # noqa: F401  (imported once, before the forks)

    inp = out / "in"
    made = build(inp)
    model = out / "model"
    if not (model / "model.skops").exists():
        home = out / "home_model"
        home.mkdir(parents=True, exist_ok=True)
        dfc._fork_run(["demands", "train", str(inp / "train_plain.csv"), *r7.T_OPTS, "--cv", "2", "--model-dir",
                       str(model)], home, home / "train.log")
    total = bugs = 0
    rows = []
    for name, (base, shape) in made.items():
        if only and shape != "csv" and not any(name.startswith(o) or shape == o for o in only):
            continue
        for label, args in commands(base, str(inp / name)):
            args = [a.replace("{MODEL}", str(model)) for a in args]
            work = out / "work" / Path(name).stem / label
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            log = work / "run.log"
            rc = dfc._fork_run(args, work, log)
            text = log.read_text(encoding="utf-8", errors="replace")
            flag = "BUG" if ("internal error" in text or "Traceback" in text or rc in (70, 99) or rc < 0) else "ok"
            total += 1
            bugs += flag == "BUG"
            digest = _digest(work)
            seen = r7._shown(text)
            rows.append((base, shape, name, label, rc, flag, digest, seen))
            print(f"{name:34s} {label:10s} rc={rc:<3d} {flag:3s} {digest:12s} {seen[:200]}", flush=True)
    with open(out / "runs.tsv", "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write("\t".join(map(str, r)) + "\n")
    # every shape's output against its base's CSV
    ref = {(b, lab): (rc, d) for b, s, _, lab, rc, _, d, _ in rows if s == "csv"}
    differ = 0
    for b, s, name, lab, rc, _, d, _ in rows:
        if s == "csv" or (b, lab) not in ref:
            continue
        same = (rc, d) == ref[(b, lab)]
        differ += not same
        if not same:
            print(f"DIFFERS from {b}.csv: {name} {lab}: rc {rc} vs {ref[(b, lab)][0]}, output {d} vs {ref[(b, lab)][1]}")
    print(f"{total} runs, {bugs} flagged (internal error / Traceback), {differ} differ from the CSV's")
    return 1 if bugs or differ else 0


def compare(before: Path, after: Path) -> None:
    """Exit codes of two ``run`` folders side by side, per shape × command, and how many changed."""
    def codes(folder: Path) -> dict[tuple[str, str], tuple[str, str]]:
        out = {}
        for line in (folder / "runs.tsv").read_text(encoding="utf-8").splitlines():
            _, _, name, label, rc, _, digest, *_ = line.split("\t")
            out[(name, label)] = (rc, digest)
        return out

    a, b = codes(before), codes(after)
    moved: dict[str, int] = {}
    for key in sorted(set(a) | set(b)):
        change = f"{a.get(key, ('-', ''))[0]} → {b.get(key, ('-', ''))[0]}"
        moved[change] = moved.get(change, 0) + 1
        print(f"{key[0]:34s} {key[1]:10s} {change}")
    print("exit codes before → after: " + ", ".join(f"{k}: {v}" for k, v in sorted(moved.items())))


def table(before: Path, after: Path) -> None:
    """The Markdown table of shapes × bases: exit codes before → after, and whether the outputs equal the CSV's."""
    def load(folder: Path) -> list[list[str]]:
        return [line.split("\t") for line in (folder / "runs.tsv").read_text(encoding="utf-8").splitlines()]

    a, b = load(before), load(after)
    for r in b:  # digests again from the outputs kept (what counts as volatile may have been refined since the run)
        r[6] = _digest(after / "work" / Path(r[2]).stem / r[3])
    ref = {(r[0], r[3]): (r[4], r[6]) for r in b if r[1] == "csv"}
    old = {(r[2], r[3]): r[4] for r in a}
    cells: dict[tuple[str, str], list[str]] = {}
    for base, shape, name, label, rc, _flag, digest, *_ in b:
        codes_ = cells.setdefault((shape, base), [])
        same = "=" if (rc, digest) == ref.get((base, label)) else "≠"
        codes_.append(f"{old.get((name, label), '-')}→{rc}{same if shape != 'csv' else ''}")
    bases_ = ["msg", "ev", "tr", "sk"]
    print("| shape | " + " | ".join(bases_) + " |")
    print("|---|" + "---|" * len(bases_))
    for shape in ["csv", *SHAPES]:
        print(f"| {shape} | " + " | ".join(" ".join(cells.get((shape, bb), ["–"])) for bb in bases_) + " |")


def readcost(folder: Path, repeat: int = 3) -> None:
    """CPU seconds (best of ``repeat``) of read_table on each built file of msg and ev (OUT/in of ``run``/``build``)."""
    import logging
    import time

    from govml.io import read_table

    logging.disable(logging.WARNING)
    for base in ("ev", "msg"):
        for f in [folder / f"{base}.csv", *sorted(folder.glob(f"{base}_w*"))]:
            best = float("inf")
            for _ in range(repeat):
                t0 = time.process_time()
                df = read_table(f)
                best = min(best, time.process_time() - t0)
            print(f"{f.name:34s} {best:.3f} s CPU  ({len(df):,} rows × {df.shape[1]} columns)")


def main(argv: list[str]) -> int:
    if not r7.TED.is_dir() or not r7.BOSTON.exists():
        print(f"skipped: {r7.DATA} not found")
        return 0
    if not argv:
        print(__doc__)
        return 2
    cmd, *rest = argv
    if cmd == "build":
        made = build(Path(rest[0]))
        print(f"{len(made)} files written to {rest[0]}")
    elif cmd == "run":
        only = set(rest[2].split(",")) if len(rest) > 2 and rest[1] == "--only" else None
        out = Path(rest[0])
        out.mkdir(parents=True, exist_ok=True)
        return run(out, only)
    elif cmd == "compare":
        compare(Path(rest[0]), Path(rest[1]))
    elif cmd == "table":
        table(Path(rest[0]), Path(rest[1]))
    elif cmd == "readcost":
        readcost(Path(rest[0]))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
