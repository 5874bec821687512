"""Check that the real Excel/CSV exports in ../shared/data read correctly with their text cleaned.

    .venv/bin/python benchmarks/data_real_exports.py

Prints, per file: rows × columns, sheet, header row, encoding, read time, whether any text cell still
holds a tab/newline/full-width space, how many 留言时间/答复时间 values parse as dates, and one cleaned
cell. Skips cleanly when the development data is absent. Prints counts only (no data is written).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def main() -> int:
    from govml.config import resolve_mapping
    from govml.io import parse_datetime, read_table
    from govml.schemas import check_file

    ted = DATA / "teddycup2020c"
    if not ted.is_dir():
        print(f"skipped: {ted} not found")
        return 0
    files = sorted((ted / "original").glob("*.xlsx")) + sorted(ted.glob("*.csv"))
    dirty = re.compile(r"[\t\n\r\u3000\u00a0]|  ")
    for f in files:
        t0 = time.perf_counter()
        df = read_table(f)
        dt = time.perf_counter() - t0
        meta = df.attrs["govml"]
        text_cols = [c for c in df.columns if str(df[c].dtype) in ("str", "string", "object")]
        n_dirty = sum(int(df[c].astype("str").str.contains(dirty).fillna(False).sum()) for c in text_cols)
        dates = {}
        for c in ("留言时间", "答复时间"):
            if c in df.columns:
                parsed = parse_datetime(df[c], errors="coerce")
                dates[c] = f"{int(parsed.notna().sum())}/{int(df[c].notna().sum())} parsed, " \
                           f"{parsed.min():%Y-%m-%d} → {parsed.max():%Y-%m-%d}"
        sample = next((str(df[c].dropna().iloc[0])[:40] for c in ("留言详情", "答复意见") if c in df.columns), "")
        print(f"{f.relative_to(DATA)}: {len(df)} rows × {df.shape[1]} cols, sheet={meta.get('sheet')}, "
              f"header_row={meta.get('header_row')}, encoding={meta.get('encoding')}, {dt:.2f} s")
        print(f"    columns: {', '.join(map(str, df.columns))}")
        if f.suffix == ".xlsx":
            from govml.io import _Workbook

            wb = _Workbook(f)
            raw_rows = wb.rows(meta["sheet"])
            raw_dirty = sum(1 for r in raw_rows[1:] for v in r if isinstance(v, str) and dirty.search(v))
            print(f"    text cells holding tab/newline/full-width space/double space: {raw_dirty} in the file, "
                  f"{n_dirty} after reading")
        else:
            print(f"    text cells still holding tab/newline/full-width space/double space: {n_dirty}")
        for c, s in dates.items():
            print(f"    {c}: {s}")
        if sample:
            print(f"    first text cell, cleaned: {sample}…")
    boston = DATA / "boston311_2015" / "boston311_2015_events.csv.gz"
    if boston.exists():
        t0 = time.perf_counter()
        report = check_file(boston, "events", mapping=resolve_mapping(profile="boston311"), max_problems=100000)
        dt = time.perf_counter() - t0
        by_col: dict[str, int] = {}
        for p in report.errors:
            by_col[f"{p.column}: {p.expected}"] = by_col.get(f"{p.column}: {p.expected}", 0) + 1
        print(f"{boston.relative_to(DATA)} as events (--profile boston311): {len(report.rows)} rows, "
              f"{len(report.errors)} errors, {len(report.warnings)} warnings, {dt:.2f} s")
        for k, v in sorted(by_col.items()):
            print(f"    {v} × {k}")
    _scaled_load()
    return 0


def _scaled_load(scale: int = 10) -> None:
    """load() speed on generated messages (scale × the sample), as CSV, GBK CSV, XLSX and Parquet."""
    import tempfile

    from govml import samples
    from govml.io import load, write_table

    if "messages" not in samples.GENERATORS:
        print("scaled load: skipped (no messages generator)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        src = [p for p in samples.get("messages")(Path(tmp), scale=scale, seed=0) if p.name == "messages.csv"][0]
        df = load(src, "messages")
        gbk = Path(tmp) / "messages_gbk.csv"
        gbk.write_bytes(src.read_text(encoding="utf-8").encode("gb18030"))
        variants = [("CSV UTF-8", src), ("CSV GB18030", gbk),
                    ("Parquet", write_table(df, Path(tmp) / "m.parquet")),
                    ("XLSX", write_table(df, Path(tmp) / "m.xlsx"))]
        for label, path in variants:
            t0 = time.perf_counter()
            out = load(path, "messages")
            dt = time.perf_counter() - t0
            print(f"load messages ×{scale} ({len(out):,} rows) from {label}: {dt:.2f} s "
                  f"({len(out) / dt:,.0f} rows/s, {path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    sys.exit(main())
