"""Scale: 3,655 communities × 10 categories × 156 weeks — fit and forecast 4 weeks ahead.

    .venv/bin/python benchmarks/bench_hotspot_scale.py [--areas 3655] [--categories 10] [--weeks 156] [--threads 2]

A generated Poisson panel (govml.samples.complaints.synthetic_panel: area and category rates,
yearly seasonality, trends) of the size of Nanjing's community network. Reports wall time of
fit + predict (default HotspotForecaster: direct models for 4 horizons, inner calibration) and the
process's peak resident memory. Target: < 5 minutes and < 8 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--areas", type=int, default=3655)
    ap.add_argument("--categories", type=int, default=10)
    ap.add_argument("--weeks", type=int, default=156)
    ap.add_argument("--horizon", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--previous-default", action="store_true",
                    help="the default before the combined strategy and the median level candidates (a cost reference)")
    args = ap.parse_args(argv)

    from govml.hotspot.forecast import LEVEL_WINDOWS_PLAIN, HotspotForecaster
    from govml.samples.complaints import synthetic_panel

    t0 = time.perf_counter()
    panel = synthetic_panel(n_areas=args.areas, n_categories=args.categories, n_periods=args.weeks, seed=0,
                            n_districts=12, calendar=True)
    t_gen = time.perf_counter() - t0
    print(f"panel: {len(panel):,} rows ({args.areas} areas × {args.categories} categories × {args.weeks} weeks), "
          f"generated in {t_gen:.1f} s", flush=True)
    t1, c1 = time.perf_counter(), time.process_time()
    extra = dict(strategy="direct", level_windows=LEVEL_WINDOWS_PLAIN) if args.previous_default else {}
    model = HotspotForecaster(horizon=args.horizon, n_jobs=args.threads, **extra).fit(panel)
    t_fit = time.perf_counter() - t1
    fc = model.predict(args.horizon)
    t_all = time.perf_counter() - t1
    cpu = time.process_time() - c1
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"fit {t_fit:.1f} s, fit + predict {t_all:.1f} s ({len(fc):,} forecasts), peak RSS {peak_gb:.2f} GB, "
          f"threads {args.threads}; CPU (user + system) {cpu:.1f} s")
    print(f"trees kept on the inner holdout: {model.n_trees_} of {model.n_estimators}; level weights "
          f"{model.describe()['level_weights']}")
    ok = t_all < 300 and peak_gb < 8
    print("target (< 300 s, < 8 GB):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
