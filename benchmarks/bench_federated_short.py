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
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_hotspot_boston import DATA, load_panel  # noqa: E402
from bench_hotspot_short import monthly_boston, run_cuts, short_cuts, summarise  # noqa: E402


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
    kw = {"horizon": H, "n_trees": args.n_trees, "secure": False, "point": "auto", "select_trees": True}
    models = {"all_trees": lambda: FederatedHotspotForecaster(untested_trees="all", **kw),
              "level": lambda: FederatedHotspotForecaster(untested_trees="none", **kw)}

    def level_exact(j: pd.DataFrame, cut: pd.DataFrame, s: int, L: int) -> pd.DataFrame:
        return j.assign(level_exact=np.maximum(j["level"] - 0.05, 0.0))

    rows, cpu = run_cuts(panel, periods, short_cuts(periods, args.freq, args.lengths, H), models, H, level_exact,
                         ("level_exact",))
    summarise(rows, models, ("level_exact",), cpu, f"{args.dataset} {args.freq}", f"{args.n_trees} untested trees")
    return 0


if __name__ == "__main__":
    sys.exit(main())
