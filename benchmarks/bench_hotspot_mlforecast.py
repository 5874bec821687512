"""govml's hotspot forecaster vs Nixtla mlforecast: same panel, lags, origins, horizon and metrics.

    .venv/bin/python benchmarks/bench_hotspot_mlforecast.py [--dataset boston|sample] [--origins 8]

mlforecast needs pandas < 3, so it runs in its own venv (``benchmarks/mlforecast/setup_venv.sh``,
default ``/tmp/govml-mlforecast-venv``; built on first use, needs PyPI). Its forecasts come back as
Parquet and are scored here with govml's metric functions beside govml's own backtest. Times are
fit + predict per origin, summed over origins, both on one thread, as wall-clock and as process CPU
time (the fairer figure on a shared machine). What each side's time includes: mlforecast — its
feature building (lags, rolling/expanding means, week of year), one LightGBM of 200 trees per
horizon (direct) or one model fed back (recursive), and the forecasts. ``govml`` (the default) —
feature building, the level's weights, the inner calibration fit (one LightGBM per horizon on data
ending 8 weeks earlier, stopped early on the inner holdout; since session 20 horizon 1's first, and the others
only when horizon 1's own holdout rows keep a tree), choosing the number of trees, the
intervals, p_hotspot and the point rule, then the final fit with the chosen trees and the forecasts.
``govml_point`` — the point model only: no inner calibration, so no intervals, no tree choice (all
200 trees, ``untested_trees="all"``: since session 9 the default keeps no tree without a holdout, and this
row read the level alone until session 19) and the mean as the point. ``govml_noes`` — the default
without early stopping of the inner calibration models (round-1 behaviour for the trees). ``govml_nogate`` — the
default without the horizon-1 tree gate (session 20: ``tree_gate=None``, every horizon's calibration model trained;
the default before; the same forecasts on Boston). Skips cleanly
when the development data are absent.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_hotspot_boston import load_panel  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="boston", choices=["boston", "sample"])
    ap.add_argument("--origins", type=int, default=8)
    ap.add_argument("--horizon", type=int, default=4)
    ap.add_argument("--venv", type=Path, default=Path("/tmp/govml-mlforecast-venv"))
    args = ap.parse_args(argv)

    from govml.hotspot.backtest import choose_origins, evaluate, run_backtest
    from govml.hotspot.baselines import MeanLast
    from govml.hotspot.forecast import HotspotForecaster
    from govml.hotspot.panel import panel_matrix

    loaded = load_panel(args.dataset)
    if loaded is None:
        print(f"{args.dataset}: development data not found; skipped")
        return 0
    panel, _ = loaded
    _, keys, periods = panel_matrix(panel)
    H = args.horizon
    origins = choose_origins(periods, H, args.origins)
    if not (args.venv / "bin" / "python").exists():
        subprocess.run(["bash", str(HERE / "mlforecast" / "setup_venv.sh"), str(args.venv)], check=True)

    with tempfile.TemporaryDirectory() as tmp:
        uid = panel["area"].astype(str) + "|" + panel["category"].astype(str)
        long = pd.DataFrame({"unique_id": uid, "ds": panel["period_start"], "y": panel["y"]})
        long.to_parquet(Path(tmp) / "panel.parquet")
        t0 = time.perf_counter()
        subprocess.run([str(args.venv / "bin" / "python"), str(HERE / "mlforecast" / "mlf_backtest.py"),
                        "--panel", str(Path(tmp) / "panel.parquet"),
                        "--origins", ",".join(str(o.date()) for o in origins), "--horizon", str(H),
                        "--out", str(Path(tmp) / "preds.parquet"), "--times-out", str(Path(tmp) / "t.json")],
                       check=True)
        print(f"mlforecast subprocess wall time {time.perf_counter() - t0:.1f} s")
        mlf = pd.read_parquet(Path(tmp) / "preds.parquet")
        mlf_times = json.loads((Path(tmp) / "t.json").read_text())
        mlf_seconds, mlf_cpu = mlf_times["wall"], mlf_times["cpu"]
    parts = mlf["unique_id"].str.split("|", n=1, expand=True)
    mlf = mlf.assign(area=parts[0], category=parts[1], period_start=pd.to_datetime(mlf["ds"]),
                     origin=pd.to_datetime(mlf["origin"]))
    models = {"govml": HotspotForecaster(horizon=H),
              # untested_trees="all": without a holdout the default (since session 9) keeps no tree — the level
              # alone; this row is the 200-tree point model the comparison is about
              "govml_point": HotspotForecaster(horizon=H, calibration_origins=0, untested_trees="all"),
              "govml_noes": HotspotForecaster(horizon=H, early_stop=None),
              # session 20: the default before the horizon-1 tree gate (all four calibration models trained)
              "govml_nogate": HotspotForecaster(horizon=H, tree_gate=None),
              "mean_4": MeanLast(4)}
    res = run_backtest(panel, models, origins=origins, horizon=H,
                       progress=lambda i, n, o: print(f"  govml origin {i}/{n} {o.date()}", flush=True))
    actual = panel.assign(area=panel["area"].astype(str), category=panel["category"].astype(str))[
        ["area", "category", "period_start", "y"]]
    mlf = mlf.merge(actual, on=["area", "category", "period_start"], how="inner")
    gp = res.predictions.assign(area=res.predictions["area"].astype(str),
                                category=res.predictions["category"].astype(str))
    cols = ["model", "origin", "area", "category", "period_start", "horizon", "y", "yhat"]
    both = pd.concat([gp[cols + ["yhat_mean"]], mlf[cols]], ignore_index=True)
    ov = evaluate(both)
    ov = ov[ov["horizon"] == "all"].set_index("model")
    seconds = {**res.fit_seconds, **mlf_seconds}
    cpu = {**res.fit_cpu_seconds, **mlf_cpu}
    show = ["mae", "rmse", "wape", "poisson_deviance", "precision_top2pct", "precision_top5pct"]
    print(f"\n{args.dataset}: {len(keys)} series, {len(origins)} origins "
          f"{origins[0].date()} … {origins[-1].date()}, horizons 1..{H}\n")
    print("| model | " + " | ".join(show) + " | fit+predict wall s | CPU s (all origins) |")
    print("|---" * (len(show) + 3) + "|")
    for m, r in ov.iterrows():
        print(f"| {m} | " + " | ".join(f"{r[c]:.4f}" for c in show)
              + f" | {seconds.get(m, float('nan')):.1f} | {cpu.get(m, float('nan')):.1f} |")
    print(f"load average during the run: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
