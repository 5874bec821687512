"""Long daily panel: 10 years of days, 16 series × 3,652 days — fit and forecast 14 days ahead.

    .venv/bin/python benchmarks/bench_hotspot_daily.py [--horizon 14] [--strategy combined] [--profile out.prof]

The panel of session 11's dry run (docs/benchmarks.md, "Round 3 (session 11)"): Boston 311 2015 from
``../shared/data/boston311_2015/``, the 4 busiest neighbourhoods × the 4 busiest reasons, replayed into each year
2010–2019 (a third of the year's requests drawn at random per year, 55,420 events; 29 Feb as 28 Feb), counted per
day. Reports the CPU time (user + system, this process: the figure to compare on a shared machine) and wall time
of building the panel and of fit + predict, the process's peak resident memory, and a checksum of the forecast
(``--out`` writes it) so that two versions of the code can be compared. Skips cleanly (exit 0) when the
development data are absent.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "boston311_2015" / "boston311_2015_events.csv.gz"


def ten_year_events() -> pd.DataFrame:
    """Boston 311 2015 (4 neighbourhoods × 4 reasons) replayed into 2010–2019, a third of the requests each year."""
    b = pd.read_csv(DATA, usecols=["OPEN_DT", "neighborhood", "REASON"], dtype=str).dropna()
    b["t"] = pd.to_datetime(b["OPEN_DT"])
    top_n = b["neighborhood"].value_counts().index[:4]
    top_r = b["REASON"].value_counts().index[:4]
    s = b[b["neighborhood"].isin(top_n) & b["REASON"].isin(top_r)]
    parts = []
    for k, year in enumerate(range(2010, 2020)):
        part = s.sample(frac=0.33, random_state=k).copy()
        part["t"] = part["t"].map(lambda x, y=year: x.replace(year=y, day=28) if (x.month == 2 and x.day == 29)
                                  else x.replace(year=y))
        parts.append(part)
    ten = pd.concat(parts)
    return pd.DataFrame({"created_at": ten["t"].dt.floor("s"), "area": ten["neighborhood"],
                         "category": ten["REASON"]})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--horizon", type=int, default=14)
    ap.add_argument("--strategy", default="combined")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, help="write the forecast CSV here")
    ap.add_argument("--profile", type=Path, help="write a cProfile of fit + predict here")
    args = ap.parse_args(argv)
    if not DATA.exists():
        print(f"skipped: {DATA} not found (development data)")
        return 0

    from govml.hotspot.forecast import HotspotForecaster
    from govml.hotspot.panel import build_panel, clean_events

    c0, t0 = time.process_time(), time.perf_counter()
    clean, ex = clean_events(ten_year_events(), area_col="area", now="2020-01-01")
    panel = build_panel(clean, freq="D", exclusions=ex)
    n_series = panel.groupby(["area", "category"], observed=True).ngroups
    print(f"panel: {len(panel):,} rows ({n_series} series × {panel['period_start'].nunique()} days), built in "
          f"{time.process_time() - c0:.1f} s CPU / {time.perf_counter() - t0:.1f} s wall", flush=True)
    model = HotspotForecaster(horizon=args.horizon, strategy=args.strategy, n_jobs=args.threads)
    prof = None
    if args.profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    c1, t1 = time.process_time(), time.perf_counter()
    model.fit(panel)
    fc = model.predict(args.horizon)
    cpu, wall = time.process_time() - c1, time.perf_counter() - t1
    if prof is not None:
        prof.disable()
        prof.dump_stats(str(args.profile))
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    text = fc.to_csv(index=False, float_format="%.17g")
    if args.out:
        args.out.write_text(text)
    print(f"fit + predict: {cpu:.1f} s CPU, {wall:.1f} s wall ({len(fc):,} forecasts, strategy {args.strategy}, "
          f"threads {args.threads}); peak RSS {peak_gb:.2f} GB; trees kept {model.n_trees_} of {model.n_estimators}")
    print(f"forecast sha256 {hashlib.sha256(text.encode()).hexdigest()[:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
