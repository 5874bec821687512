"""Each holiday week's citywide total against its ordinary neighbours, on the Chinese panels.

    .venv/bin/python benchmarks/bench_holiday_weeks.py [--dataset sample,teddycup]

The evidence behind the holiday factor's rules (``govml.hotspot.holidays``): for every week holding an
official holiday day, its citywide total ÷ the median total of the ordinary weeks (no holiday or make-up
day) within ±4 weeks, with the holiday names and the number of holiday days in the week. Weeks with a
single holiday day ("lone": 1 January on a weekday, the last day of a long holiday spilling into the next
week) are marked; the factor treats them as ordinary (``MIN_HOLIDAY_DAYS``). Panels as in
``bench_hotspot_boston.py`` (skipped when the data are absent), from their data start.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="sample,teddycup")
    args = ap.parse_args(argv)

    import chinese_calendar as cc
    from bench_hotspot_boston import load_panel

    from govml.hotspot.calendar import holiday_day_shares
    from govml.hotspot.forecast import data_start
    from govml.hotspot.holidays import MIN_HOLIDAY_DAYS, _ordinary_neighbours
    from govml.hotspot.panel import panel_matrix

    for ds in args.dataset.split(","):
        loaded = load_panel(ds)
        if loaded is None:
            print(f"{ds}: data not found, skipped")
            continue
        y, _, periods = panel_matrix(loaded[0])
        s = data_start(y)
        y, periods = y[:, s:], periods[s:]
        X = holiday_day_shares(periods, "W")
        tot = y.sum(axis=0)
        base, _ = _ordinary_neighbours(tot, X.any(axis=1), 4)
        print(f"\n{ds}: {y.shape[0]} series, weeks {periods[0].date()} … {periods[-1].date()}")
        print("| week | holidays | holiday days | total | ÷ ordinary neighbours | |")
        print("| --- | --- | --- | --- | --- | --- |")
        ratios = {"lone": [], "2+": []}
        for t in np.flatnonzero(X[:, :2].any(axis=1)):
            days = [periods[t].date() + dt.timedelta(i) for i in range(7)]
            names = sorted({cc.holidays[d] for d in days if d in cc.holidays})
            n = sum(d in cc.holidays for d in days)
            r = tot[t] / base[t] if np.isfinite(base[t]) and base[t] > 0 else float("nan")
            kind = "lone" if n < MIN_HOLIDAY_DAYS else "2+"
            ratios[kind].append(r)
            print(f"| {periods[t].date()} | {', '.join(names)} | {n} | {tot[t]:.0f} | {r:.2f} | {kind} |")
        for kind, rs in ratios.items():
            rs = [r for r in rs if np.isfinite(r)]
            if rs:
                print(f"{kind}: {len(rs)} weeks, ratio {min(rs):.2f}–{max(rs):.2f} (mean {np.mean(rs):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
