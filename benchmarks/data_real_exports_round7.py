"""Reading round 7 (session 20): export shapes not tried in rounds 1–6, built from the real development data.

    .venv/bin/python benchmarks/data_real_exports_round7.py build OUT      # write the shapes into OUT/in
    .venv/bin/python benchmarks/data_real_exports_round7.py run OUT [--only NAME,…]  # every checked command on them
    .venv/bin/python benchmarks/data_real_exports_round7.py devcheck FILE.pkl       # frames of the 21 dev/sample files
    .venv/bin/python benchmarks/data_real_exports_round7.py devcmp OLD.pkl NEW.pkl  # same frames and attrs?
    .venv/bin/python benchmarks/data_real_exports_round7.py readcost                # CPU of reading and parsing times
    .venv/bin/python benchmarks/data_real_exports_round7.py compare OUT_BEFORE OUT_AFTER  # exit codes, same outputs

The inputs come from ../shared/data (teddycup2020c 附件3, boston311_2015) and data_samples/messages.csv; they are
written under OUT (never into the repository). ``run`` calls ``.venv/bin/govml`` (or ``$GOVML``) with a fresh
GOVML_HOME per shape and writes OUT/runs.tsv: shape, command, exit code, and the last lines the user sees.
For "before" figures run it with ``PYTHONPATH=<git archive of the old tree>/src``. Skips cleanly without the data.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
TED = DATA / "teddycup2020c"
BOSTON = DATA / "boston311_2015" / "boston311_2015_events.csv.gz"
SAMPLES = ROOT / "data_samples"

A3_COLS = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "反对数", "点赞数", "区县"]
# the column options an analyst passes for the 附件3-like shapes (canonical names would not be found)
M_OPTS = ["--text-col", "留言主题", "--text-col", "留言详情", "--id-col", "留言编号", "--time-col", "留言时间",
          "--likes-col", "点赞数"]
E_OPTS = ["--time-col", "受理时间", "--area-col", "街道", "--category-col", "类别"]
T_OPTS = ["--text-col", "诉求内容", "--id-col", "工单编号", "--time-col", "受理时间", "--label-col", "一级分类"]


# -- the base tables ----------------------------------------------------------------------------------------------

def a3(n: int = 700) -> pd.DataFrame:
    """n 附件3 messages from 2019-11-01 on (as released: tabs and newlines in the text), with a 区县 from the title."""
    df = pd.read_csv(TED / "hotspot_messages_full_附件3.csv", dtype=str, keep_default_na=False)
    t = pd.to_datetime(df["留言时间"], format="mixed")
    df = df[t >= "2019-11-01"].assign(_t=t).sort_values(["_t", "留言编号"]).head(n).drop(columns="_t")
    df["区县"] = df["留言主题"].str.extract(r"([A-Z]\d{0,2}[区市县])", expand=False).fillna("A市")
    return df[A3_COLS].reset_index(drop=True)


def boston() -> pd.DataFrame:
    """Boston 311 2015: 4 neighbourhoods × the 4 biggest REASONs, headed 编号/受理时间/街道/类别."""
    df = pd.read_csv(BOSTON, dtype=str, usecols=["CASE_ENQUIRY_ID", "OPEN_DT", "REASON", "neighborhood"])
    areas = ["Dorchester", "Roxbury", "South Boston", "Back Bay"]
    reasons = df["REASON"].value_counts().index[:4]
    df = df[df["neighborhood"].isin(areas) & df["REASON"].isin(reasons)]
    return pd.DataFrame({"编号": df["CASE_ENQUIRY_ID"], "受理时间": df["OPEN_DT"], "街道": df["neighborhood"],
                         "类别": df["REASON"]}).reset_index(drop=True)


def train_base(n: int = 300) -> pd.DataFrame:
    df = pd.read_csv(SAMPLES / "messages.csv", dtype=str, nrows=n)
    return pd.DataFrame({"工单编号": df["id"], "受理时间": df["created_at"], "诉求内容": df["text"],
                         "一级分类": df["category"]})


# -- writers ----------------------------------------------------------------------------------------------------

def _csv(df: pd.DataFrame, path: Path, encoding: str = "utf-8", **kw: object) -> Path:
    if encoding == "gbk":  # 附件3's texts hold no-break and zero-width spaces, which GBK has not
        df = df.map(lambda v: v.encode("gbk", "ignore").decode("gbk") if isinstance(v, str) else v)
    df.to_csv(path, index=False, encoding=encoding, **kw)
    return path


def _xlsx(rows: list[list[object]], path: Path, *, autofilter: str | None = None, date1904: bool = False,
          formats: dict[int, str] | None = None) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for r in rows:
        ws.append(r)
    if autofilter:
        ws.auto_filter.ref = autofilter
    if date1904:
        wb.epoch = __import__("openpyxl").utils.datetime.CALENDAR_MAC_1904
    for col, fmt in (formats or {}).items():
        for cell in ws.iter_cols(min_col=col, max_col=col, min_row=2):
            for c in cell:
                c.number_format = fmt
    wb.save(path)
    return path


def _cache_formulas(path: Path, cached: dict[str, str]) -> None:
    """Give formula cells a cached value, as Excel saves them (openpyxl writes formulas without one)."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode()

                def put(m: re.Match[str]) -> str:
                    ref = m.group(1)
                    val = cached[ref].replace("&", "&amp;").replace("<", "&lt;")
                    return f'<c r="{ref}" t="str"><f>{m.group(2)}</f><v>{val}</v></c>'

                xml = re.sub(r'<c r="([A-Z]+\d+)"[^>]*><f>([^<]*)</f><v\s*/?>(?:</v>)?</c>', put, xml)
                data = xml.encode()
            zout.writestr(item, data)
    tmp.replace(path)


# -- the shapes -------------------------------------------------------------------------------------------------

def build(out: Path) -> dict[str, list[list[str]]]:
    """Write every shape into ``out``; return {shape file: [command args without the leading 'govml']}."""
    out.mkdir(parents=True, exist_ok=True)
    m = a3()
    ev = boston()
    tr = train_base()
    cmds: dict[str, list[list[str]]] = {}

    def msg_cmds(f: str, opts: list[str], by: str = "区县") -> list[list[str]]:
        return [["demands", "top", f, "--by", by, "--period", "M", *opts, "--out", "top.csv"],
                ["demands", "hot-issues", f, "--top", "10", *opts, "--out", "hot.csv"],
                ["demands", "alerts", f, "--by", by, "--no-terms", *opts, "--out", "alerts.csv"],
                ["demands", "classify", f, "--model-dir", "{MODEL}", *opts, "--out", "pred.csv"]]

    def ev_cmds(f: str, opts: list[str] = E_OPTS, now: str = "2016-01-01") -> list[list[str]]:
        tail = ["--now", now] if now else []
        return [["hotspots", "forecast", f, *opts, *tail, "--no-track", "--out", "fc.csv"],
                ["hotspots", "backtest", f, *opts, *tail, "--origins", "2", "--no-track", "--out", "bt.json"]]

    def train_cmds(f: str, opts: list[str] = T_OPTS) -> list[list[str]]:
        return [["demands", "train", f, *opts, "--cv", "2", "--model-dir", "m_" + Path(f).stem]]

    # r01 header cells spaced between two Chinese characters; options typed as the user sees the header
    h = {"留言编号": "留言 编号", "留言主题": "留言 主题", "留言时间": "留言 时间", "留言详情": "留言 详情", "区县": "区 县"}
    _csv(m.rename(columns=h), out / "r01_spaced_header.csv", encoding="gbk")
    typed = ["--text-col", "留言 主题", "--text-col", "留言 详情", "--id-col", "留言 编号", "--time-col", "留言 时间",
             "--likes-col", "点赞数"]
    cmds["r01_spaced_header.csv"] = msg_cmds("r01_spaced_header.csv", typed, by="区 县")
    # r02 header cells wrapped (Alt+Enter) in xlsx; options typed with the two lines joined by a space, or with
    # spaces around (copied from Excel), or the full-width space the header has
    wrapped = {"留言编号": "留言\n编号", "留言主题": "留言\n主题", "留言时间": "留言\n时间", "留言详情": "留言\n详情",
               "区县": "区　县"}
    mw = m.rename(columns=wrapped)
    _xlsx([list(mw.columns), *mw.values.tolist()], out / "r02_wrapped_header.xlsx")
    typed2 = ["--text-col", "留言 主题", "--text-col", " 留言详情 ", "--id-col", "留言 编号", "--time-col", "留言 时间 ",
              "--likes-col", "点赞数"]
    cmds["r02_wrapped_header.xlsx"] = msg_cmds("r02_wrapped_header.xlsx", typed2, by="区　县")
    # r03 events: options typed with a trailing space, a full-width space, full-width letters in the header
    e3 = ev.rename(columns={"编号": "ＩＤ", "类别": "类　别"})
    _csv(e3, out / "r03_event_options.csv", encoding="gbk")
    cmds["r03_event_options.csv"] = ev_cmds("r03_event_options.csv", ["--time-col", "受理时间 ", "--area-col", "街道",
                                                                      "--category-col", "类 别"])
    # r04 placeholder dates for "missing": epoch zero (as Beijing time), 1900-01-01, MySQL's zero date
    m4 = m.copy()
    idx = m4.index
    m4.loc[idx % 10 == 3, "留言时间"] = "1970-01-01 08:00:00"
    m4.loc[idx % 20 == 7, "留言时间"] = "1900-01-01 00:00:00"
    m4.loc[idx % 30 == 11, "留言时间"] = "0000-00-00 00:00:00"
    _csv(m4, out / "r04_placeholder_dates.csv")
    cmds["r04_placeholder_dates.csv"] = msg_cmds("r04_placeholder_dates.csv", M_OPTS)
    e4 = ev.copy()
    e4.loc[e4.index % 10 == 3, "受理时间"] = "1970-01-01 08:00:00"
    e4.loc[e4.index % 20 == 7, "受理时间"] = "1900-01-01 00:00:00"
    e4.loc[e4.index % 30 == 11, "受理时间"] = "0000-00-00 00:00:00"
    _csv(e4, out / "r04e_placeholder_dates.csv")
    cmds["r04e_placeholder_dates.csv"] = ev_cmds("r04e_placeholder_dates.csv")
    # r05 GB18030-only characters (CJK extension B, not in GBK) in the text, saved as GB18030
    m5 = m.copy()
    m5.loc[m5.index % 7 == 0, "留言详情"] = m5["留言详情"] + "（𠮷野家旁，䶮字路口）"
    m5.loc[m5.index % 7 == 0, "留言主题"] = "𠮷" + m5["留言主题"]
    _csv(m5, out / "r05_gb18030_only.csv", encoding="gb18030")
    cmds["r05_gb18030_only.csv"] = msg_cmds("r05_gb18030_only.csv", M_OPTS)
    # r06 UTF-8 with a few cells cut in the middle of a character (a truncating export)
    raw = m.to_csv(index=False).encode("utf-8")
    cuts = [m.to_csv(index=False).encode("utf-8").find(m.loc[i, "留言主题"].encode()) for i in (50, 300, 600)]
    raw = bytearray(raw)
    for c in sorted(cuts, reverse=True):
        raw[c + 1:c + 2] = b""  # the first character loses its second byte
    (out / "r06_broken_utf8.csv").write_bytes(bytes(raw))
    cmds["r06_broken_utf8.csv"] = msg_cmds("r06_broken_utf8.csv", M_OPTS)
    # r07 two exports concatenated: the second half starts with its own BOM and header
    half = len(m) // 2
    text = "\ufeff" + m.iloc[:half].to_csv(index=False) + "\ufeff" + m.iloc[half:].to_csv(index=False)
    (out / "r07_concatenated.csv").write_text(text, encoding="utf-8")
    cmds["r07_concatenated.csv"] = msg_cmds("r07_concatenated.csv", M_OPTS)
    e7 = "\ufeff" + ev.iloc[:7000].to_csv(index=False) + "\ufeff" + ev.iloc[7000:].to_csv(index=False)
    (out / "r07e_concatenated.csv").write_text(e7, encoding="utf-8")
    cmds["r07e_concatenated.csv"] = ev_cmds("r07e_concatenated.csv")
    # r08 duplicate column names (时间 twice: the message's and the reply's) and trailing empty columns
    m8 = m.rename(columns={"留言时间": "时间"})
    m8.insert(4, "时间 ", pd.to_datetime(m["留言时间"], format="mixed").add(pd.Timedelta(days=9)).dt.strftime("%Y/%m/%d %H:%M:%S"))
    lines = m8.to_csv(index=False).replace("时间 ,", "时间,", 1).splitlines()
    (out / "r08_dup_columns.csv").write_text("\n".join(line + ",,," for line in lines) + "\n", encoding="utf-8")
    cmds["r08_dup_columns.csv"] = msg_cmds("r08_dup_columns.csv", [*M_OPTS[:6], "--time-col", "时间",
                                                                   "--likes-col", "点赞数"])
    # r09 xlsx with an autofilter, 区县 as a formula with its cached value, dates stored as text
    rows = [list(m.columns)] + [[*r[:7], f'=IFERROR(MID(C{i + 2},1,2),"A市")'] for i, r in enumerate(m.values.tolist())]
    p9 = _xlsx(rows, out / "r09_formulas_filter.xlsx", autofilter=f"A1:H{len(m) + 1}")
    _cache_formulas(p9, {f"H{i + 2}": v for i, v in enumerate(m["区县"])})
    cmds["r09_formulas_filter.xlsx"] = msg_cmds("r09_formulas_filter.xlsx", M_OPTS)
    # r10 a Mac workbook (1904 date system), times as date cells
    t10 = pd.to_datetime(m["留言时间"], format="mixed")
    rows = [list(m.columns)] + [[*r[:3], t.to_pydatetime(), *r[4:]] for r, t in zip(m.values.tolist(), t10, strict=True)]
    _xlsx(rows, out / "r10_date1904.xlsx", date1904=True, formats={4: "yyyy/m/d h:mm:ss"})
    cmds["r10_date1904.xlsx"] = msg_cmds("r10_date1904.xlsx", M_OPTS)
    # r11 xlsx: times as Excel serial numbers in General format (the date format lost)
    serial = (t10 - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)
    rows = [list(m.columns)] + [[*r[:3], float(s), *r[4:]] for r, s in zip(m.values.tolist(), serial, strict=True)]
    _xlsx(rows, out / "r11_serial_general.xlsx")
    cmds["r11_serial_general.xlsx"] = msg_cmds("r11_serial_general.xlsx", M_OPTS)
    # r12 one column mixing two date forms: 2019/11/5 11:25:05 and US 11/05/2019 11:25 AM (a merged export)
    m12 = m.copy()
    us = t10.dt.strftime("%m/%d/%Y %I:%M %p")
    m12.loc[m12.index % 2 == 1, "留言时间"] = us[m12.index % 2 == 1]
    _csv(m12, out / "r12_mixed_us.csv")
    cmds["r12_mixed_us.csv"] = msg_cmds("r12_mixed_us.csv", M_OPTS)
    # r13 Chinese clock forms: 2019-11-5 下午3:05 and 2019年11月5日 15时30分 (without seconds)
    m13 = m.copy()
    hr = t10.dt.hour
    ampm = hr.map(lambda x: "上午" if x < 12 else "下午")
    h12 = ((hr + 11) % 12 + 1).astype(str)
    form_a = t10.dt.year.astype(str) + "-" + t10.dt.month.astype(str) + "-" + t10.dt.day.astype(str) + " " + ampm \
        + h12 + ":" + t10.dt.strftime("%M")
    form_b = t10.dt.strftime("%Y年") + t10.dt.month.astype(str) + "月" + t10.dt.day.astype(str) + "日 " \
        + hr.astype(str) + "时" + t10.dt.minute.astype(str) + "分"
    m13["留言时间"] = form_a.where(m13.index % 2 == 0, form_b)
    _csv(m13, out / "r13_cn_clock.csv", encoding="gbk")
    cmds["r13_cn_clock.csv"] = msg_cmds("r13_cn_clock.csv", M_OPTS)
    # r14 header only (an export of an empty query), CSV and xlsx
    (out / "r14_header_only.csv").write_text(",".join(A3_COLS) + "\n", encoding="utf-8")
    _xlsx([A3_COLS], out / "r14_header_only.xlsx")
    (out / "r14e_header_only.csv").write_text("编号,受理时间,街道,类别\n", encoding="gbk")
    (out / "r14t_header_only.csv").write_text("工单编号,受理时间,诉求内容,一级分类\n", encoding="utf-8")
    cmds["r14_header_only.csv"] = msg_cmds("r14_header_only.csv", M_OPTS)
    cmds["r14_header_only.xlsx"] = msg_cmds("r14_header_only.xlsx", M_OPTS)[:1]
    cmds["r14e_header_only.csv"] = ev_cmds("r14e_header_only.csv")
    cmds["r14t_header_only.csv"] = train_cmds("r14t_header_only.csv")
    # r15 line ends \r\r\n (a Windows text written again through a text-mode writer)
    (out / "r15_crcrlf.csv").write_bytes(m.to_csv(index=False, lineterminator="\r\r\n").encode("utf-8"))
    cmds["r15_crcrlf.csv"] = msg_cmds("r15_crcrlf.csv", M_OPTS)
    # r16 train: numeric labels 1–7 (codes of the category list)
    t16 = tr.copy()
    codes = {c: i for i, c in enumerate(sorted(tr["一级分类"].unique()), start=1)}
    t16["一级分类"] = t16["一级分类"].map(codes)
    _csv(t16, out / "r16_numeric_labels.csv")
    cmds["r16_numeric_labels.csv"] = train_cmds("r16_numeric_labels.csv")
    rows = [list(t16.columns)] + t16.values.tolist()
    _xlsx(rows, out / "r16_numeric_labels.xlsx")
    cmds["r16_numeric_labels.xlsx"] = train_cmds("r16_numeric_labels.xlsx")
    # r17 hotspots: the category blank on 30 % of rows
    e17 = ev.copy()
    e17.loc[e17.index % 10 < 3, "类别"] = ""
    _csv(e17, out / "r17_blank_category.csv")
    cmds["r17_blank_category.csv"] = ev_cmds("r17_blank_category.csv")
    # r18 hotspots: every event in the future (dates moved 13 years on: 2028), default --now
    e18 = ev.copy()
    e18["受理时间"] = (pd.to_datetime(e18["受理时间"]) + pd.DateOffset(years=13)).dt.strftime("%Y-%m-%d %H:%M:%S")
    _csv(e18, out / "r18_future.csv")
    cmds["r18_future.csv"] = ev_cmds("r18_future.csv", now="")
    m18 = m.copy()
    m18["留言时间"] = (t10 + pd.DateOffset(years=8)).dt.strftime("%Y/%m/%d %H:%M:%S")
    _csv(m18, out / "r18m_future.csv")
    cmds["r18m_future.csv"] = msg_cmds("r18m_future.csv", M_OPTS)[:1] + msg_cmds("r18m_future.csv", M_OPTS)[2:3]
    # r19 skills: two quarterly exports of assessments joined one after another (the header again in the middle)
    asm = pd.read_csv(SAMPLES / "assessments.csv", dtype=str)
    asm = asm[asm["worker_id"].isin(asm["worker_id"].unique()[:12])]
    first, second = asm[asm["period"].isin(["2024Q1", "2024Q2"])], asm[~asm["period"].isin(["2024Q1", "2024Q2"])]
    (out / "r19s_assess_joined.csv").write_text("\ufeff" + first.to_csv(index=False) + "\ufeff"
                                                + second.to_csv(index=False), encoding="utf-8")
    skills = [["skills", "score", "r19s_assess_joined.csv", "--no-track", "--out", "scores.csv"],
              ["skills", "diagnose", "r19s_assess_joined.csv", "--courses", str(SAMPLES / "courses.csv"),
               "--no-track", "--out", "plan.csv"]]
    cmds["r19s_assess_joined.csv"] = skills
    _csv(asm, out / "r19s_assess_plain.csv")
    cmds["r19s_assess_plain.csv"] = [[a.replace("r19s_assess_joined", "r19s_assess_plain") for a in c] for c in skills]
    # r20 skills: headers of the office's own system spaced to line up (人员　代码, 所在 网格); --map typed as shown
    sp = asm.rename(columns={"worker_id": "人员　代码", "community": "所在 网格", "district": "所属 街道"})
    _csv(sp, out / "r20s_assess_spaced.csv", encoding="gbk")
    maps = ["--map", "worker_id=人员　代码", "--map", "community=所在 网格", "--map", "district=所属 街道"]
    cmds["r20s_assess_spaced.csv"] = [["skills", "score", "r20s_assess_spaced.csv", *maps, "--no-track",
                                       "--out", "scores.csv"]]
    # the model every classify runs with (trained on the plain sample)
    _csv(tr, out / "train_plain.csv")
    return cmds


# -- running ----------------------------------------------------------------------------------------------------

def _shown(text: str, n: int = 3) -> str:
    """The last n lines the user sees, minus progress bars and blank lines."""
    keep = [ln.strip() for ln in text.splitlines() if ln.strip() and not re.search(r"━|\d+%\s*\|", ln)]
    return " ⏎ ".join(keep[-n:]).replace("\t", " ")


def run(out: Path, only: set[str] | None = None) -> None:
    """Run the commands of every shape (or those starting with a name in ``only``); each run's whole output is kept
    in OUT/work/SHAPE/COMMAND.log, one line per run in OUT/runs.tsv."""
    inp = out / "in"
    cmds = build(inp)
    govml = os.environ.get("GOVML", str(ROOT / ".venv" / "bin" / "govml"))
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", MLFLOW_DISABLE_TELEMETRY="true")
    model = out / "model"
    if not (model / "model.skops").exists() and not any(model.glob("*")):
        subprocess.run([govml, "demands", "train", str(inp / "train_plain.csv"), *T_OPTS, "--cv", "2",
                        "--model-dir", str(model)], cwd=out, env=dict(env, GOVML_HOME=str(out / "home_model")),
                       capture_output=True, text=True, check=False)
    with open(out / "runs.tsv", "a", encoding="utf-8") as fh:
        for shape, runs in cmds.items():
            if only and not any(shape.startswith(o) for o in only):
                continue
            work = out / "work" / Path(shape).stem
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            for args in runs:
                args = [a.replace("{MODEL}", str(model)) for a in args]
                args[2] = str(inp / args[2])
                p = subprocess.run([govml, *args], cwd=work, env=dict(env, GOVML_HOME=str(work / "home")),
                                   capture_output=True, text=True, check=False, timeout=900)
                seen = _shown(p.stdout + "\n" + p.stderr)
                label = " ".join(args[:2])
                (work / f"{args[1]}.log").write_text(f"$ govml {' '.join(args)}\nrc={p.returncode}\n"
                                                     + p.stdout + "\n" + p.stderr, encoding="utf-8")
                fh.write(f"{shape}\t{label}\t{p.returncode}\t{seen}\n")
                fh.flush()
                print(f"{shape:28s} {label:20s} rc={p.returncode}  {seen[:300]}", flush=True)


# -- the 21 development and sample files: the same frames before and after ----------------------------------------

def dev_files() -> list[Path]:
    files = sorted((TED / "original").glob("*.xlsx")) + sorted(TED.glob("*.csv"))
    files += sorted((DATA / "boston311_2015").glob("*.csv*"))
    files += sorted(p for p in SAMPLES.glob("*.csv"))
    return files


def devcheck(dest: Path) -> None:
    from govml.io import parse_datetime, read_table

    frames = {}
    for f in dev_files():
        df = read_table(f)
        times = pd.DataFrame({c: parse_datetime(df[c], errors="coerce") for c in df.columns
                              if re.search(r"时间|_DT$|_at$|week_start|period_start", str(c))})
        frames[str(f)] = (df, dict(df.attrs.get("govml", {})), times)
    with open(dest, "wb") as fh:
        pickle.dump(frames, fh)
    print(f"{len(frames)} files → {dest}")


def devcmp(old: Path, new: Path) -> int:
    a = pickle.loads(old.read_bytes())
    b = pickle.loads(new.read_bytes())
    bad = 0
    for f in sorted(set(a) | set(b)):
        if f not in a or f not in b:
            print(f"only in one: {f}")
            bad += 1
            continue
        try:
            pd.testing.assert_frame_equal(a[f][0], b[f][0], check_exact=True)
            pd.testing.assert_frame_equal(a[f][2], b[f][2], check_exact=True)  # the time columns, parsed
            same_attrs = repr(a[f][1]) == repr(b[f][1])
        except AssertionError as exc:
            print(f"DIFFERENT frame: {f}: {str(exc)[:300]}")
            bad += 1
            continue
        print(f"{'same' if same_attrs else 'ATTRS DIFFER'}: {Path(f).name} {a[f][0].shape}, times parsed: "
              f"{', '.join(f'{c} {int(n)}' for c, n in a[f][2].notna().sum().items()) or '–'}")
        bad += not same_attrs
    print(f"{len(a)} files, {bad} different")
    return 1 if bad else 0


def readcost(repeat: int = 5) -> None:
    """CPU seconds (best of ``repeat``) of read_table and of parse_datetime on the biggest development files."""
    import time

    from govml.io import parse_datetime, read_table

    for f, col in ((BOSTON, "OPEN_DT"), (TED / "original" / "rollbear_full_附件3.xlsx", "留言时间"),
                   (TED / "hotspot_messages_full_附件3.csv", "留言时间")):
        best_read = best_parse = float("inf")
        for _ in range(repeat):
            t0 = time.process_time()
            df = read_table(f)
            t1 = time.process_time()
            parse_datetime(df[col], errors="coerce")
            t2 = time.process_time()
            best_read, best_parse = min(best_read, t1 - t0), min(best_parse, t2 - t1)
        print(f"{f.name}: read_table {best_read:.3f} s CPU, parse_datetime({col}) {best_parse:.3f} s CPU "
              f"(best of {repeat}, {len(df):,} rows)")


def compare(before: Path, after: Path) -> None:
    """Exit codes of two ``run`` folders side by side (runs.tsv), and which outputs are byte-identical."""
    import hashlib

    def codes(folder: Path) -> dict[tuple[str, str], str]:
        out = {}
        for line in (folder / "runs.tsv").read_text(encoding="utf-8").splitlines():
            shape, cmd, rc, *_ = line.split("\t")
            out[(shape, cmd)] = rc
        return out

    a, b = codes(before), codes(after)
    moved: dict[str, int] = {}
    for key in sorted(set(a) | set(b)):
        change = f"{a.get(key, '-')} → {b.get(key, '-')}"
        moved[change] = moved.get(change, 0) + 1
        print(f"{key[0]:28s} {key[1]:20s} {change}")
    print("exit codes before → after: " + ", ".join(f"{k}: {v}" for k, v in sorted(moved.items())))
    for folder in (before, after):
        sums: dict[str, list[str]] = {}
        for f in sorted((folder / "work").glob("*/*.*")):
            if f.suffix in (".csv", ".json") and f.name != "bt.json":
                sums.setdefault(f"{f.name} {hashlib.sha256(f.read_bytes()).hexdigest()[:12]}", []).append(f.parent.name)
        print(f"{folder}: byte-identical outputs")
        for k, shapes in sums.items():
            if len(shapes) > 1:
                print(f"    {k}: {', '.join(shapes)}")


def main(argv: list[str]) -> int:
    if not TED.is_dir() or not BOSTON.exists():
        print(f"skipped: {DATA} not found")
        return 0
    if not argv:
        print(__doc__)
        return 2
    cmd, *rest = argv
    if cmd == "build":
        cmds = build(Path(rest[0]))
        print(f"{len(cmds)} shapes written to {rest[0]}")
    elif cmd == "run":
        only = set(rest[2].split(",")) if len(rest) > 2 and rest[1] == "--only" else None
        run(Path(rest[0]), only)
    elif cmd == "devcheck":
        devcheck(Path(rest[0]))
    elif cmd == "devcmp":
        return devcmp(Path(rest[0]), Path(rest[1]))
    elif cmd == "readcost":
        readcost()
    elif cmd == "compare":
        compare(Path(rest[0]), Path(rest[1]))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
