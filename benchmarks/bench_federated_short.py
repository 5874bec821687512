"""Panels too short for the federated forecaster's inner holdout: n_trees untested trees vs the level alone.

    .venv/bin/python benchmarks/bench_federated_short.py --dataset boston            # weekly cuts of 10 and 13 weeks
    .venv/bin/python benchmarks/bench_federated_short.py --dataset boston --freq M   # a year of months, cut at 6..11

The federated counterpart of ``bench_hotspot_short.py`` (same cuts, same scoring): each cut is forecast by
``FederatedHotspotForecaster`` with the deployment defaults (``point="auto"``, ``select_trees=True``,
``--n-trees`` trees, plain sums) and ``untested_trees="all"`` (the trees no holdout chose) or ``"none"`` (the
level alone: exp(log(level + 0.05)) = level + 0.05, the boosting offset with no tree; ``level_exact`` is
that minus 0.05, the central model's level-alone forecast — a diagnostic column). Areas are split into ``--districts`` districts by their code (area i → district i mod k).
Skips cleanly (exit 0) when the development data are absent.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_hotspot_boston import DATA, load_panel  # noqa: E402
from bench_hotspot_short import _score, monthly_boston  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="boston",
                    choices=["boston", "boston_type", "sample", "teddycup", "teddycup_trim", "teddycup_cat"])
    ap.add_argument("--freq", default="W", choices=["W", "M"])
    ap.add_argument("--lengths", default="10,13")
    ap.add_argument("--horizon", type=int, default=4)
    ap.add_argument("--n-trees", type=int, default=10)
    ap.add_argument("--districts", type=int, default=3)
    args = ap.parse_args(argv)
    logging.disable(logging.WARNING)

    from govml.federated.forecaster import FederatedHotspotForecaster

    H = args.horizon
    panel = monthly_boston() if args.freq == "M" else (lambda r: None if r is None else r[0])(load_panel(args.dataset))
    if panel is None:
        print(f"{args.dataset}: development data not found under {DATA}; skipped")
        return 0
    panel = panel.copy()
    codes = panel["area"].astype("category").cat.codes.to_numpy()
    panel["district"] = pd.Categorical([f"d{c % args.districts}" for c in codes])
    periods = pd.DatetimeIndex(sorted(panel["period_start"].unique()))
    T = len(periods)
    if args.freq == "M":
        cuts = [(0, L) for L in range(6, min(12, T))]
    else:
        cuts = [(s, L) for L in (int(v) for v in args.lengths.split(","))
                for s in range(0, T - L - H + 1, max(1, (T - L - H) // 5))]
    kw = {"horizon": H, "n_trees": args.n_trees, "secure": False, "point": "auto", "select_trees": True}
    models = {"all_trees": lambda: FederatedHotspotForecaster(untested_trees="all", **kw),
              "level": lambda: FederatedHotspotForecaster(untested_trees="none", **kw)}
    key = ["area", "category", "period_start"]
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
        j = j.assign(cut=f"{periods[s].date()}+{L}", level_exact=lambda d: np.maximum(d["level"] - 0.05, 0.0))
        rows.append(j)
        print(f"cut {periods[s].date()}+{L}: " + "; ".join(
            "{} RMSE {:.3f} MAE {:.3f} sum/actual {:.2f}".format(c, *_score(j, c)) for c in (*models, "level_exact")), flush=True)
    A = pd.concat(rows, ignore_index=True)
    pooled = {c: dict(zip(("rmse", "mae", "sum_ratio"), _score(A, c), strict=True)) for c in (*models, "level_exact")}
    per_cut = A.groupby("cut").apply(lambda d: pd.Series({c: _score(d, c)[0] for c in models}), include_groups=False)
    better = int((per_cut["level"] < per_cut["all_trees"]).sum())
    print(f"\n{args.dataset} {args.freq}: {len(rows)} cuts, {len(A)} forecasts; pooled: " + "; ".join(
        f"{c} RMSE {v['rmse']:.4f} MAE {v['mae']:.4f} sum/actual {v['sum_ratio']:.3f}" for c, v in pooled.items()))
    print(f"level vs {args.n_trees} untested trees: RMSE {100 * (pooled['level']['rmse'] / pooled['all_trees']['rmse'] - 1):+.1f}%, "
          f"MAE {100 * (pooled['level']['mae'] / pooled['all_trees']['mae'] - 1):+.1f}%; lower RMSE on {better} of "
          f"{len(per_cut)} cuts; CPU seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
