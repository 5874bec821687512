"""Nixtla mlforecast on the same panel, origins and horizon as govml's backtest.

Runs inside the separate venv made by ``setup_venv.sh`` (mlforecast needs pandas < 3); called by
``benchmarks/bench_hotspot_mlforecast.py``, which evaluates its forecasts with govml's metrics.

Input: a Parquet panel ``unique_id, ds, y`` (dense, weekly, Monday starts) and the origins.
Output: a Parquet of ``model, origin, unique_id, ds, horizon, yhat`` and a JSON of fit+predict
seconds per model
(``{"wall": {...}, "cpu": {...}}``: wall-clock and process CPU time). Same LightGBM settings as govml's default (Poisson, 200 trees, learning rate
0.06, 31 leaves, min 50 rows per leaf, 80% row/feature sampling, 1 thread) and the same lags and
rolling windows (lags 1, 2, 3, 4, 52; rolling mean/std 4 and 13 and the expanding mean on lag 1).
"""

from __future__ import annotations

import argparse
import json
import time

import lightgbm as lgb
import pandas as pd
from mlforecast import MLForecast
from mlforecast.lag_transforms import ExpandingMean, RollingMean, RollingStd


def make(direct: bool, horizon: int, threads: int) -> tuple[MLForecast, dict]:
    model = lgb.LGBMRegressor(objective="poisson", n_estimators=200, learning_rate=0.06, num_leaves=31,
                              min_child_samples=50, colsample_bytree=0.8, subsample=0.8, subsample_freq=1,
                              reg_lambda=1.0, n_jobs=threads, random_state=0, verbose=-1)
    fc = MLForecast(models={"lgbm": model}, freq="W-MON", lags=[1, 2, 3, 4, 52],
                    lag_transforms={1: [RollingMean(4), RollingStd(4), RollingMean(13), RollingStd(13),
                                        ExpandingMean()]},
                    date_features=["week"], num_threads=threads)
    return fc, ({"max_horizon": horizon} if direct else {})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--panel", required=True)
    ap.add_argument("--origins", required=True, help="comma-separated dates")
    ap.add_argument("--horizon", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--times-out", required=True)
    args = ap.parse_args()
    panel = pd.read_parquet(args.panel)
    panel["ds"] = pd.to_datetime(panel["ds"])
    panel["y"] = panel["y"].astype(float)
    frames, seconds, cpu = [], {}, {}
    for name, direct in (("mlforecast_recursive", False), ("mlforecast_direct", True)):
        total = ctotal = 0.0
        for o in [pd.Timestamp(x) for x in args.origins.split(",")]:
            train = panel[panel["ds"] <= o]
            fc, kw = make(direct, args.horizon, args.threads)
            t0, c0 = time.perf_counter(), time.process_time()
            fc.fit(train, static_features=[], dropna=False, **kw)
            pred = fc.predict(args.horizon)
            total += time.perf_counter() - t0
            ctotal += time.process_time() - c0
            pred = pred.rename(columns={"lgbm": "yhat"})
            pred["horizon"] = pred.groupby("unique_id").cumcount() + 1
            pred["origin"] = o
            pred["model"] = name
            frames.append(pred[["model", "origin", "unique_id", "ds", "horizon", "yhat"]])
            print(f"{name} origin {o.date()} done ({total:.1f} s)", flush=True)
        seconds[name] = total
        cpu[name] = ctotal
    pd.concat(frames, ignore_index=True).to_parquet(args.out)
    with open(args.times_out, "w", encoding="utf-8") as f:
        json.dump({"wall": seconds, "cpu": cpu}, f)


if __name__ == "__main__":
    main()
