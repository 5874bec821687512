"""Reading round 7b (session 20): every round-7 shape in every common file form.

    .venv/bin/python benchmarks/data_forms_cross.py run OUT [--only SHAPE,…] [--forms FORM,…] [--commands C,…]

Round 7 (benchmarks/data_real_exports_round7.py) tried each export shape in one file form. Here each message and
event shape (and data_samples/messages.csv, data_samples/complaints.csv) is written again as the forms a user's file
comes in:

    bom     UTF-8 with a byte-order mark (Excel "CSV UTF-8"); the shape's bytes kept where it already is UTF-8
    gbk     GBK, or GB18030 where GBK cannot encode the text (Excel "CSV" on a Chinese Windows)
    utf16   UTF-16 LE with a BOM, tab-separated (Excel "Unicode text")
    gz      the shape's bytes gzipped, .csv.gz
    xlsx    written with openpyxl (every cell a string, as read)
    tsv     UTF-8, tab-separated, .tsv
    crlf    the shape's bytes with CRLF line ends
    u16le   UTF-16 LE without a byte-order mark, tab-separated, .txt (round 8, session 21)
    u16be   UTF-16 BE without a byte-order mark, tab-separated, .txt (round 8)
    semi    UTF-8, semicolon-separated, .csv (a European-locale "CSV"; round 8)

A form that cannot represent the shape is skipped and said (e.g. GBK cannot hold the cut bytes of r06; the xlsx
form of an xlsx shape is the shape itself). On every file: ``govml validate FILE --kind messages|events`` (as
given, then ``validate --map`` with the shape's column options as --map canonical=column) and the shape's first
round-7 command (``demands top`` with the shape's options; ``hotspots forecast`` with its ``--now``; since round 8
also the train shapes r14t/r16 — ``validate --kind messages`` and ``demands train`` — and the skills shapes
r19s/r20s and data_samples/assessments.csv — ``validate --kind assessments``, ``skills score`` / ``skills diagnose``).
Every run is a forked child of one process that imported govml once (``govml.cli.main``, which the ``govml`` script
calls, fresh GOVML_HOME and working folder per run), so the whole grid costs minutes, not an interpreter start per
run. Writes OUT/runs.tsv (shape, form, command, exit code, flag, the last lines shown), OUT/skipped.tsv and each
run's whole output in OUT/work/SHAPE.FORM/COMMAND/run.log; a run whose output holds ``internal error`` or
``Traceback`` is flagged BUG, and a shape whose forms give different outputs (top.csv / fc.csv / scores.csv /
plan.csv / the trained model's metrics) FORMS DIFFER. Exit 1 when either happens. For "before" figures run it with
``PYTHONPATH=<git archive of the old tree>/src`` (the whole tree: govml reads configs/ beside src/). Needs
../shared/data (skips cleanly without).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import data_real_exports_round7 as r7  # noqa: E402

FORMS = ["bom", "gbk", "utf16", "gz", "xlsx", "tsv", "crlf", "u16le", "u16be", "semi"]
TRAIN_SHAPES = {"r14t", "r16"}
SKILL_SHAPES = {"r19s", "r20s"}
MSG_SHAPES = {"r01", "r02", "r04", "r05", "r06", "r07", "r08", "r09", "r10", "r11", "r12", "r13", "r14", "r15",
              "r18m"}
EV_SHAPES = {"r03", "r04e", "r07e", "r14e", "r17", "r18"}


def _kind(shape: str) -> str | None:
    stem = shape.split("_")[0]
    return ("messages" if stem in MSG_SHAPES else "events" if stem in EV_SHAPES else "train" if stem in TRAIN_SHAPES
            else "skills" if stem in SKILL_SHAPES else None)


def _source(path: Path) -> tuple[bytes, str | None, list[list[str]] | None, str]:
    """(raw bytes, the text if it decodes, the rows if they parse, how it was decoded)."""
    raw = path.read_bytes()
    if path.suffix == ".xlsx":
        import pandas as pd

        df = pd.read_excel(path, header=None, dtype=object)
        rows = [["" if (v is None or (isinstance(v, float) and v != v)) else str(v) for v in r]
                for r in df.itertuples(index=False)]
        if df.empty:  # header only is read as the header row by read_excel(header=None) anyway
            rows = [[str(c) for c in pd.read_excel(path, dtype=object).columns]]
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        return buf.getvalue().encode("utf-8"), buf.getvalue(), rows, "xlsx"
    for enc in ("utf-8-sig", "gbk", "gb18030"):
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        try:
            rows = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error:
            rows = None
        return raw, text, rows, enc
    return raw, None, None, "undecodable"


def make_forms(path: Path, dest: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """Write the forms of one shape file into dest; return ({form: file}, {form: why skipped})."""
    dest.mkdir(parents=True, exist_ok=True)
    raw, text, rows, enc = _source(path)
    stem = path.name.split(".")[0]
    made: dict[str, Path] = {}
    skipped: dict[str, str] = {}
    utf8_raw = enc in ("utf-8-sig", "xlsx")  # raw bytes already UTF-8 (possibly with a BOM, or cut characters)
    # the bytes of a UTF-8 file that does not decode (r06): kept as they are where the form allows
    broken_utf8 = text is None and raw.decode("utf-8", "replace").count("\ufffd") < 10

    def put(form: str, name: str, data: bytes) -> None:
        p = dest / name
        p.write_bytes(data)
        made[form] = p

    # bom
    if utf8_raw or broken_utf8:
        body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
        put("bom", f"{stem}.bom.csv", b"\xef\xbb\xbf" + body)
    elif text is not None:
        put("bom", f"{stem}.bom.csv", text.lstrip("\ufeff").encode("utf-8-sig"))
    # gbk / gb18030
    if text is None:
        skipped["gbk"] = "cut UTF-8 characters have no GBK form"
    else:
        t = text.replace("\ufeff", "")
        try:
            put("gbk", f"{stem}.gbk.csv", t.encode("gbk"))
        except UnicodeEncodeError:
            put("gbk", f"{stem}.gb18030.csv", t.encode("gb18030"))
    # tab-separated forms and xlsx need the rows
    if rows is None:
        for f in ("utf16", "tsv", "xlsx", "u16le", "u16be", "semi"):
            skipped[f] = "the text does not decode/parse as CSV" if text is None else "rows do not parse"
    else:
        rows = [[c.replace("\ufeff", "") if i == 0 else c for i, c in enumerate(r)] for r in rows]
        buf = io.StringIO()
        csv.writer(buf, delimiter="\t", lineterminator="\r\n").writerows(rows)
        put("utf16", f"{stem}.utf16.txt", b"\xff\xfe" + buf.getvalue().encode("utf-16-le"))
        put("u16le", f"{stem}.utf16le.txt", buf.getvalue().encode("utf-16-le"))  # the same without a BOM
        put("u16be", f"{stem}.utf16be.txt", buf.getvalue().encode("utf-16-be"))
        buf = io.StringIO()
        csv.writer(buf, delimiter="\t", lineterminator="\n").writerows(rows)
        put("tsv", f"{stem}.tsv", buf.getvalue().encode("utf-8"))
        buf = io.StringIO()
        csv.writer(buf, delimiter=";", lineterminator="\n").writerows(rows)
        put("semi", f"{stem}.semicolon.csv", buf.getvalue().encode("utf-8"))
        if path.suffix == ".xlsx":
            skipped["xlsx"] = "the shape is an xlsx file itself"
        else:
            from openpyxl import Workbook
            from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

            wb = Workbook()
            ws = wb.active
            bad = sum(bool(ILLEGAL_CHARACTERS_RE.search(c)) for r in rows for c in r)
            for r in rows:
                ws.append([ILLEGAL_CHARACTERS_RE.sub("", c) for c in r])
            wb.save(dest / f"{stem}.xlsx")
            made["xlsx"] = dest / f"{stem}.xlsx"
            if bad:
                skipped["xlsx-note"] = f"{bad} cells lost control characters xlsx cannot hold"
    # gz and crlf keep the bytes
    put("gz", f"{stem}.csv.gz", gzip.compress(raw, mtime=0))
    if path.suffix == ".xlsx":
        skipped["crlf"] = "an xlsx shape has no line ends (its CSV forms are above)"
    else:
        put("crlf", f"{stem}.crlf.csv", re.sub(rb"(?<!\r)\n", b"\r\n", raw))
    return made, skipped


def _fork_run(argv: list[str], cwd: Path, log: Path) -> int:
    """Run govml.cli.main(argv) in a forked child with its output in ``log``; return its exit code."""
    from govml.cli import main

    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            os.chdir(cwd)
            os.environ["GOVML_HOME"] = str(cwd / "home")
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), encoding="utf-8", line_buffering=True)
            sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), encoding="utf-8", line_buffering=True)
            sys.argv = ["govml", *argv]
            try:
                main(argv)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 99
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _maps(cmd: list[str], kind: str) -> list[str]:
    """--map options for validate from the shape's own column options (the last --text-col is the text)."""
    opts: dict[str, str] = {}
    for flag, val in zip(cmd, cmd[1:], strict=False):
        opts[flag] = val
    want = ({"--time-col": "created_at", "--text-col": "text", "--id-col": "id", "--by": "district"}
            if kind == "messages" else {"--time-col": "created_at", "--area-col": "community",
                                        "--category-col": "category"})
    out: list[str] = []
    for flag, canon in want.items():
        if flag in opts and opts[flag] != canon:
            out += ["--map", f"{canon}={opts[flag]}"]
    if kind == "messages" and opts.get("--by", "district") != "district":  # 附件3 has no community: the 区县
        out += ["--map", f"community={opts['--by']}"]
    if kind == "train":
        out = [m for flag, canon in (("--time-col", "created_at"), ("--text-col", "text"), ("--id-col", "id"),
                                     ("--label-col", "category")) if flag in opts for m in ("--map", f"{canon}={opts[flag]}")]
    if kind == "skills":
        out = [m for flag, val in zip(cmd, cmd[1:], strict=False) if flag == "--map" for m in (flag, val)]
    return out


#: the output files compared between the forms of one shape (a model folder: its metrics, without timings)
OUTPUTS = ("demands_top/top.csv", "hotspots_forecast/fc.csv", "skills_score/scores.csv", "skills_diagnose/plan.csv")
_VOLATILE = re.compile(r"second|time|_at$|date|path|file|^input$|version|host|elapsed|created|trained", re.I)


def _untimed(data: object) -> object:
    """A JSON value without what differs between runs of the same data: timings, dates, paths, file names."""
    if isinstance(data, dict):
        return {k: _untimed(v) for k, v in data.items() if not _VOLATILE.search(str(k))}
    if isinstance(data, list):
        return [_untimed(v) for v in data]
    return data


def output_digest(work: Path) -> str | None:
    """sha256 (8 hex) of what a run wrote in ``work``: a CSV output, else a trained model folder's JSON files without
    timings and paths; None when it wrote neither."""
    import hashlib
    import json

    for f in sorted(work.glob("*.csv")):
        return hashlib.sha256(f.read_bytes()).hexdigest()[:8]
    metrics = sorted(work.glob("m_*/*.json")) + sorted(work.glob("model/*.json"))
    if metrics:
        data = {m.name: _untimed(json.loads(m.read_text(encoding="utf-8"))) for m in metrics}
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return None


def run(out: Path, only: set[str] | None, forms: list[str], commands: set[str] | None = None) -> int:
    import shutil

    os.environ.update(COLUMNS="200", NO_COLOR="1", MLFLOW_DISABLE_TELEMETRY="true")
    import pandas  # noqa: F401
    import sklearn  # noqa: F401

    import govml.cli  # noqa: F401  (imported once, before the forks)

    inp = out / "in"
    cmds = r7.build(inp)
    shapes: list[tuple[str, Path, str, list[str]]] = []
    for shape, runs in cmds.items():
        kind = _kind(shape)
        if kind is None:
            continue
        shapes.append((shape, inp / shape, kind, runs[0]))
    samples = r7.SAMPLES
    shapes.append(("assessments.csv", samples / "assessments.csv", "skills",
                   ["skills", "diagnose", "assessments.csv", "--courses", str(samples / "courses.csv"), "--no-track",
                    "--out", "plan.csv"]))
    shapes.append(("messages.csv", samples / "messages.csv", "messages",
                   ["demands", "top", "messages.csv", "--by", "district", "--period", "M", "--out", "top.csv"]))
    shapes.append(("complaints.csv", samples / "complaints.csv", "events",
                   ["hotspots", "forecast", "complaints.csv", "--now", "2024-01-01", "--no-track", "--out", "fc.csv"]))
    if only:
        shapes = [s for s in shapes if any(s[0].startswith(o) for o in only)]
    total = bugs = 0
    with open(out / "runs.tsv", "w", encoding="utf-8") as fh, open(out / "skipped.tsv", "w", encoding="utf-8") as sk:
        for shape, path, kind, cmd in shapes:
            made, skipped = make_forms(path, out / "forms" / path.name.split(".")[0])
            for form, why in skipped.items():
                sk.write(f"{shape}\t{form}\t{why}\n")
                print(f"{shape:28s} {form:6s} skipped: {why}", flush=True)
            for form in forms:
                if form not in made:
                    continue
                f = made[form]
                vkind = {"train": "messages", "skills": "assessments"}.get(kind, kind)
                plan = [("validate", ["validate", str(f), "--kind", vkind]),
                        ("validate --map", ["validate", str(f), "--kind", vkind, *_maps(cmd, kind)]),
                        (" ".join(cmd[:2]), [cmd[0], cmd[1], str(f), *cmd[3:]])]
                for label, args in plan:
                    if commands and label not in commands:
                        continue
                    work = out / "work" / f"{path.name.split('.')[0]}.{form}" / label.replace(" ", "_")
                    shutil.rmtree(work, ignore_errors=True)
                    work.mkdir(parents=True)
                    log = work / "run.log"
                    rc = _fork_run(args, work, log)
                    text = log.read_text(encoding="utf-8", errors="replace")
                    flag = "BUG" if ("internal error" in text or "Traceback" in text or rc in (70, 99)
                                     or rc < 0) else "ok"
                    total += 1
                    bugs += flag == "BUG"
                    seen = r7._shown(text)
                    fh.write(f"{shape}\t{form}\t{label}\t{rc}\t{flag}\t{seen}\n")
                    fh.flush()
                    print(f"{shape:28s} {form:6s} {label:18s} rc={rc:<3d} {flag:3s} {seen[:220]}", flush=True)
    print(f"{total} runs, {bugs} flagged (internal error / Traceback)")
    # the forms of one shape should give the same output: a form read differently shows up here
    differ = 0
    for path in (s[1] for s in shapes):
        stem = path.name.split(".")[0]
        sums = {d.name.removeprefix(stem + "."): digest for d in sorted((out / "work").glob(stem + ".*"))
                for w in [*(d / o.split("/")[0] for o in OUTPUTS), d / "demands_train"]
                if w.is_dir() and (digest := output_digest(w)) is not None}
        if len(set(sums.values())) > 1:
            differ += 1
        print(f"{stem}: {' '.join(f'{k}={v}' for k, v in sums.items()) or 'no output'}"
              f"{'  FORMS DIFFER' if len(set(sums.values())) > 1 else ''}")
    print(f"{differ} shape(s) whose forms gave different outputs")
    return 1 if bugs or differ else 0


def main(argv: list[str]) -> int:
    if not r7.TED.is_dir() or not r7.BOSTON.exists():
        print(f"skipped: {r7.DATA} not found")
        return 0
    if len(argv) < 2 or argv[0] != "run":
        print(__doc__)
        return 2
    out = Path(argv[1])
    only = forms = commands = None
    rest = argv[2:]
    while rest:
        opt, val, *rest = rest
        if opt == "--only":
            only = set(val.split(","))
        elif opt == "--forms":
            forms = val.split(",")
        elif opt == "--commands":
            commands = set(val.split(","))
        else:
            print(__doc__)
            return 2
    out.mkdir(parents=True, exist_ok=True)
    return run(out, only, forms or FORMS, commands)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
