"""Panels too short for the forecaster's inner holdout: all (untested) trees vs the level alone.

    .venv/bin/python benchmarks/bench_hotspot_short.py --dataset boston            # weekly cuts of 10 and 13 weeks
    .venv/bin/python benchmarks/bench_hotspot_short.py --dataset boston --freq M   # a year of months, cut at 6..11
    .venv/bin/python benchmarks/bench_hotspot_short.py --dataset sample --json-out /tmp/short.json

A panel with fewer than ``2 × horizon + calibration_origins + 4`` periods (16 weeks at the defaults, any
year of months) leaves no inner holdout: ``HotspotForecaster`` then keeps all ``n_estimators`` trees that
nothing chose (``untested_trees="all"``, the default before session 9) or forecasts by the level alone
(``untested_trees="none"``, the default since). Each cut keeps ``L`` consecutive periods of a benchmark panel
(``bench_hotspot_boston.load_panel``; ``--freq M``: Boston 311 2015 by neighbourhood × REASON and month),
fits both on it and scores the next ``--horizon`` periods; the mean of the cut's last 4 periods is the
reference. Cuts: for each length in ``--lengths``, 6 starts spread over the panel (``--freq M``: every
length from 6 to 11 months, from January). Prints per-cut and pooled RMSE, MAE and the sum of forecasts
over the sum of actuals; skips cleanly (exit 0) when the development data are absent.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_hotspot_boston import DATA, load_panel  # noqa: E402


def monthly_boston() -> pd.DataFrame | None:
    from govml.hotspot.panel import build_panel, clean_events

    f = DATA / "boston311_2015" / "boston311_2015_events.csv.gz"
    if not f.exists():
        return None
    ev = pd.read_csv(f, usecols=["OPEN_DT", "neighborhood", "REASON"])
    clean, ex = clean_events(ev, time_col="OPEN_DT", area_col="neighborhood", category_col="REASON",
                             now="2016-01-01", file=f.name)
    return build_panel(clean, freq="M", exclusions=ex)


def _score(d: pd.DataFrame, col: str) -> tuple[float, float, float]:
    e = d[col] - d["y"]
    return float(np.sqrt((e**2).mean())), float(e.abs().mean()), float(d[col].sum() / max(d["y"].sum(), 1e-12))


def short_cuts(periods: pd.DatetimeIndex, freq: str, lengths: str, H: int) -> list[tuple[int, int]]:
    """(start, length) of each cut: ``--freq M`` every length 6..11 from the first month; weekly, for each length
    in ``lengths``, 6 starts spread over the panel."""
    T = len(periods)
    if freq == "M":
        return [(0, L) for L in range(6, min(12, T))]
    return [(s, L) for L in (int(v) for v in lengths.split(","))
            for s in range(0, T - L - H + 1, max(1, (T - L - H) // 5))]


def run_cuts(panel: pd.DataFrame, periods: pd.DatetimeIndex, cuts: list[tuple[int, int]], models: dict,
             H: int, extra=None, extra_cols: tuple[str, ...] = ()) -> tuple[list[pd.DataFrame], dict[str, float]]:  # noqa: ANN001
    """Fit every model on each cut (none may calibrate: that is this benchmark's case), forecast the next ``H``
    periods; one frame per cut with ``y``, a column per model, and ``extra(j, cut, s, L)``'s columns."""
    key = ["area", "category", "period_start"]
    T = len(periods)
    rows, cpu = [], dict.fromkeys(models, 0.0)
    for s, L in cuts:
        if s + L >= T:
            continue
        cut = panel[(panel["period_start"] >= periods[s]) & (panel["period_start"] < periods[s + L])]
        fut = panel[(panel["period_start"] >= periods[s + L]) & (panel["period_start"] <= periods[min(T, s + L + H) - 1])]
        j = fut[key + ["y"]].assign(area=lambda d: d["area"].astype(str), category=lambda d: d["category"].astype(str))
        for name, make in models.items():
            c0 = time.process_time()
            m = make().fit(cut)
            fc = m.predict()
            cpu[name] += time.process_time() - c0
            if m.calibrated_:
                raise SystemExit(f"cut {periods[s].date()}+{L} is long enough to calibrate: not this benchmark's case")
            fc = fc[key + ["yhat"]].rename(columns={"yhat": name})
            j = j.merge(fc.assign(area=fc["area"].astype(str), category=fc["category"].astype(str)), on=key)
        if extra is not None:
            j = extra(j, cut, s, L)
        j = j.assign(cut=f"{periods[s].date()}+{L}")
        rows.append(j)
        print(f"cut {periods[s].date()}+{L}: " + "; ".join(
            "{} RMSE {:.3f} MAE {:.3f} sum/actual {:.2f}".format(c, *_score(j, c)) for c in (*models, *extra_cols)),
            flush=True)
    return rows, cpu


def summarise(rows: list[pd.DataFrame], models: dict, extra_cols: tuple[str, ...], cpu: dict[str, float], label: str,
              against: str) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Pooled RMSE / MAE / sum ratio per column and per-cut RMSE; prints 'level' against 'all_trees'."""
    A = pd.concat(rows, ignore_index=True)
    pooled = {c: dict(zip(("rmse", "mae", "sum_ratio"), _score(A, c), strict=True)) for c in (*models, *extra_cols)}
    per_cut = A.groupby("cut").apply(lambda d: pd.Series({c: _score(d, c)[0] for c in models}), include_groups=False)
    better = int((per_cut["level"] < per_cut["all_trees"]).sum())
    print(f"\n{label}: {len(rows)} cuts, {len(A)} forecasts; pooled: " + "; ".join(
        f"{c} RMSE {v['rmse']:.4f} MAE {v['mae']:.4f} sum/actual {v['sum_ratio']:.3f}" for c, v in pooled.items()))
    print(f"level vs {against}: RMSE {100 * (pooled['level']['rmse'] / pooled['all_trees']['rmse'] - 1):+.1f}%, "
          f"MAE {100 * (pooled['level']['mae'] / pooled['all_trees']['mae'] - 1):+.1f}%; lower RMSE on {better} of "
          f"{len(per_cut)} cuts; CPU seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
    return A, pooled, per_cut


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="boston",
                    choices=["boston", "boston_type", "sample", "teddycup", "teddycup_trim", "teddycup_cat"])
    ap.add_argument("--freq", default="W", choices=["W", "M"], help="M: Boston 311 by month (--dataset boston)")
    ap.add_argument("--lengths", default="10,13", help="weekly cut lengths (periods)")
    ap.add_argument("--horizon", type=int, default=4)
    ap.add_argument("--json-out", type=Path, default=None)
    args = ap.parse_args(argv)
    logging.disable(logging.WARNING)  # "too little history to calibrate", once per cut: that is the point

    from govml.hotspot.forecast import HotspotForecaster

    H = args.horizon
    if args.freq == "M":
        if args.dataset != "boston":
            raise SystemExit("--freq M is for --dataset boston")
        panel = monthly_boston()
    else:
        loaded = load_panel(args.dataset)
        panel = None if loaded is None else loaded[0]
    if panel is None:
        print(f"{args.dataset}: development data not found under {DATA}; skipped")
        return 0
    periods = pd.DatetimeIndex(sorted(panel["period_start"].unique()))
    models = {"all_trees": lambda: HotspotForecaster(horizon=H, untested_trees="all"),
              "level": lambda: HotspotForecaster(horizon=H, untested_trees="none")}

    def mean_4(j: pd.DataFrame, cut: pd.DataFrame, s: int, L: int) -> pd.DataFrame:
        last4 = (cut[cut["period_start"] >= periods[s + L - 4]]
                 .assign(area=lambda d: d["area"].astype(str), category=lambda d: d["category"].astype(str))
                 .groupby(["area", "category"])["y"].mean().rename("mean_4").reset_index())
        return j.merge(last4, on=["area", "category"], how="left").fillna({"mean_4": 0.0})

    rows, cpu = run_cuts(panel, periods, short_cuts(periods, args.freq, args.lengths, H), models, H, mean_4, ("mean_4",))
    A, pooled, per_cut = summarise(rows, models, ("mean_4",), cpu, f"{args.dataset} {args.freq}", "all trees")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps({"dataset": args.dataset, "freq": args.freq, "pooled": pooled,
                                             "per_cut_rmse": per_cut.round(6).to_dict("index")}, indent=1),
                                 encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
