"""Scale: 3,655 communities × 10 categories × 156 weeks — fit and forecast 4 weeks ahead.

    .venv/bin/python benchmarks/bench_hotspot_scale.py [--areas 3655] [--categories 10] [--weeks 156] [--threads 2]
                                                      [--quiet-load 2]

A generated Poisson panel (govml.samples.complaints.synthetic_panel: area and category rates,
yearly seasonality, trends) of the size of Nanjing's community network. Reports the wall time and the
CPU time (user + system, this process) of fit + predict (default HotspotForecaster: direct models for 4
horizons, inner calibration), the process's peak resident memory, and the machine's 1-minute load average
before, during (sampled every 2 s) and after. Target: < 5 minutes and < 8 GB on 2 cores.

The verdict (session 13): the memory is judged as measured. The time is judged on the wall clock only when
the 1-minute load stayed at or under ``--quiet-load`` (default 2: the 2 cores of the target) throughout;
otherwise the machine was shared, the wall figure says how busy it was rather than how fast the code is, and
the verdict is given on the CPU time — the process's own work, which on 2 free cores takes at most about
that long (this process computes or waits on nothing else; a second thread can only shorten it). A CPU time
over the bar is a miss whatever the load.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time

BAR_SECONDS = 300.0
BAR_GB = 8.0


class LoadSampler:
    """The 1-minute load average at start, every ``every`` seconds while running, and at stop."""

    def __init__(self, every: float = 2.0):
        self.every = every
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self.samples.append(os.getloadavg()[0])
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])


def verdict(wall: float, cpu: float, peak_gb: float, loads: list[float], quiet_load: float = 2.0) -> tuple[bool, str]:
    """(met, one line): the bar (< BAR_SECONDS, < BAR_GB) judged on the wall time when every load sample is
    at most ``quiet_load``, else on the CPU time, saying that the wall figure is no verdict."""
    mem_ok = peak_gb < BAR_GB
    mem = f"peak RSS {peak_gb:.2f} GB {'<' if mem_ok else '>='} {BAR_GB:g} GB"
    quiet = bool(loads) and max(loads) <= quiet_load
    if quiet:
        ok = wall < BAR_SECONDS and mem_ok
        return ok, (f"target (< {BAR_SECONDS:g} s, < {BAR_GB:g} GB): {'met' if ok else 'NOT met'} — judged on the "
                    f"wall time {wall:.1f} s (1-minute load ≤ {quiet_load:g} throughout: max {max(loads):.2f}); {mem}")
    ok = cpu < BAR_SECONDS and mem_ok
    busy = f"max {max(loads):.2f}" if loads else "not read"
    return ok, (f"target (< {BAR_SECONDS:g} s, < {BAR_GB:g} GB): {'met' if ok else 'NOT met'} — judged on the CPU "
                f"time {cpu:.1f} s (user + system of this process); the wall time {wall:.1f} s is no verdict: "
                f"the machine was shared (1-minute load over {quiet_load:g}: {busy}); {mem}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--areas", type=int, default=3655)
    ap.add_argument("--categories", type=int, default=10)
    ap.add_argument("--weeks", type=int, default=156)
    ap.add_argument("--horizon", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quiet-load", type=float, default=2.0,
                    help="the wall time is the verdict only if the 1-minute load stays at or under this (default 2)")
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
    extra = dict(strategy="direct", level_windows=LEVEL_WINDOWS_PLAIN) if args.previous_default else {}
    with LoadSampler() as load:
        t1, c1 = time.perf_counter(), time.process_time()
        model = HotspotForecaster(horizon=args.horizon, n_jobs=args.threads, **extra).fit(panel)
        t_fit = time.perf_counter() - t1
        fc = model.predict(args.horizon)
        t_all = time.perf_counter() - t1
        cpu = time.process_time() - c1
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    s = load.samples
    print(f"1-minute load: {s[0]:.2f} before, {s[-1]:.2f} after, {min(s):.2f}–{max(s):.2f} during "
          f"({len(s)} samples)")
    print(f"fit {t_fit:.1f} s, fit + predict {t_all:.1f} s wall, {cpu:.1f} s CPU (user + system) "
          f"({len(fc):,} forecasts), peak RSS {peak_gb:.2f} GB, threads {args.threads}")
    print(f"trees kept on the inner holdout: {model.n_trees_} of {model.n_estimators}; level weights "
          f"{model.describe()['level_weights']}")
    print(verdict(t_all, cpu, peak_gb, s, args.quiet_load)[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
