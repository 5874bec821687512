"""Rising series: how far the default is from the truth on the sample, and whether a trend rule can close it.

    .venv/bin/python benchmarks/bench_hotspot_ramp.py                       # the sample against its true rates
    .venv/bin/python benchmarks/bench_hotspot_ramp.py --screen [--z 2,4,6,8]  # the trend rule on every panel

Session 19 (issue 4). The generated sample (``data_samples/complaints.csv``) plants four rising hotspots (a cell's
rate grows steadily to 4× over the last 26 weeks). Its true weekly rates are known
(:func:`govml.samples.complaints.complaint_rates`), so the first part scores them as a forecast ("oracle") at the
8 origins of ``bench_hotspot_boston.py --dataset sample``, beside the default and the baselines, and prints the
four rising cells' mean forecast, truth and count.

``--screen``: a per-series trend rule applied to the default's backtest forecasts after the fact (no refit): a
series is flagged at an origin when the Poisson trend score test over its last 26 periods (conditional on their
total, the periods' index against uniform) gives z > Z, the same test without the last 4 periods z > Z/2, the 26
periods hold ≥ 10 events and their last 13 average > 1.5 × the periods before; a flagged series' mean forecast is
replaced by its log-linear Poisson fit at the origin (not extrapolated), the point ``yhat`` scaled alike. Panels
as in ``bench_hotspot_boston.py`` (Boston REASON at the Oct–Nov and May–Nov origins, Boston TYPE, the sample,
泰迪杯 × category; those it cannot find are skipped).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

W = 26  # the trend window (periods)


def trend_z(y: np.ndarray) -> float:
    """Poisson trend score test: (Σ t·y − N·t̄) / √(N·var t); 0 below 8 events."""
    n = y.sum()
    if n < 8:
        return 0.0
    t = np.arange(len(y), dtype=float)
    return float(((t * y).sum() - n * t.mean()) / np.sqrt(n * t.var()))


def loglinear_end(y: np.ndarray) -> float:
    """The log-linear Poisson fit's mean at the last period (Newton's method)."""
    t = np.arange(len(y), dtype=float)
    tc = t - t.mean()
    a, b = np.log(max(y.mean(), 1e-3)), 0.0
    for _ in range(50):
        mu = np.exp(a + b * tc)
        g = np.array([(y - mu).sum(), ((y - mu) * tc).sum()])
        h = np.array([[mu.sum(), (mu * tc).sum()], [(mu * tc).sum(), (mu * tc * tc).sum()]])
        step = np.linalg.solve(h + 1e-9 * np.eye(2), g)
        a, b = a + step[0], b + step[1]
        if np.abs(step).max() < 1e-9:
            break
    return float(np.exp(a + b * tc[-1]))


def backtest(panel: pd.DataFrame, start: str | None) -> pd.DataFrame:
    from govml.hotspot.backtest import run_backtest
    from govml.hotspot.baselines import default_baselines
    from govml.hotspot.forecast import HotspotForecaster

    res = run_backtest(panel, {"govml": HotspotForecaster(horizon=4), **default_baselines(52)}, origins=8,
                       horizon=4, start=start)
    return res.predictions


def overall(preds: pd.DataFrame) -> pd.DataFrame:
    from govml.hotspot.backtest import evaluate

    ev = evaluate(preds)
    return ev[ev["horizon"] == "all"].set_index("model")[["mae", "rmse", "precision_top2pct", "precision_top5pct"]]


def sample_against_truth() -> None:
    from bench_hotspot_boston import _load_panel

    from govml.samples.complaints import RISING, complaint_rates

    panel = _load_panel("sample")[0]
    preds = backtest(panel, None)
    rates = complaint_rates().rename(columns={"community": "area"})
    rates["period_start"] = pd.to_datetime(rates["period_start"])
    base = preds[preds["model"] == "mean_13"].drop(columns=["yhat"])
    oracle = base.merge(rates[["area", "category", "period_start", "rate"]], on=["area", "category", "period_start"],
                        how="left", validate="m:1").rename(columns={"rate": "yhat"}).assign(model="oracle")
    assert oracle["yhat"].notna().all(), "a backtest cell has no generator rate"
    tab = overall(pd.concat([preds, oracle], ignore_index=True))
    print("### The sample against its true rates (8 origins, h 1–4; `oracle` = the generator's weekly rates)\n")
    print("| model | MAE | RMSE | top-2% | top-5% |\n| --- | --- | --- | --- | --- |")
    for m, r in tab.iterrows():
        print(f"| {m} | {r['mae']:.4f} | {r['rmse']:.4f} | {r['precision_top2pct']:.3f} | {r['precision_top5pct']:.3f} |")
    g = preds[preds["model"] == "govml"]
    m13 = preds[preds["model"] == "mean_13"]
    print("\nThe four rising cells (mean over the 32 forecasts: actual, default's mean, mean_13, truth):\n")
    print("| cell | actual | default | mean_13 | truth |\n| --- | --- | --- | --- | --- |")
    for _, area, cat in RISING:
        sel = (g["area"] == area) & (g["category"] == cat)
        o = oracle[(oracle["area"] == area) & (oracle["category"] == cat)]
        mm = m13[(m13["area"] == area) & (m13["category"] == cat)]
        print(f"| {area} · {cat} | {g.loc[sel, 'y'].mean():.2f} | {g.loc[sel, 'yhat_mean'].mean():.2f} | "
              f"{mm['yhat'].mean():.2f} | {o['yhat'].mean():.2f} |")


def with_trend_rule(panel: pd.DataFrame, preds: pd.DataFrame, z: float) -> tuple[pd.DataFrame, int, int]:
    from govml.hotspot.panel import panel_matrix

    y, keys, periods = panel_matrix(panel)
    periods = pd.DatetimeIndex(periods)
    g = preds[preds["model"] == "govml"].copy()
    new_mean = g["yhat_mean"].to_numpy(dtype=float).copy()
    flagged = tested = 0
    for origin, idx in g.groupby("origin").groups.items():
        t_end = int(periods.get_loc(pd.Timestamp(origin))) + 1
        if t_end < W + 13:
            continue
        rec, before = y[:, t_end - W:t_end], y[:, :t_end - W]
        zs = np.array([trend_z(r) for r in rec])
        zb = np.array([trend_z(r[:-4]) for r in rec])
        rise = rec[:, -13:].mean(axis=1) > 1.5 * np.maximum(before.mean(axis=1), 1e-9)
        flag = (zs > z) & (zb > z / 2) & (rec.sum(axis=1) >= 10) & rise
        tested += len(zs)
        flagged += int(flag.sum())
        level = {(keys["area"].iloc[i], keys["category"].iloc[i]): loglinear_end(rec[i].astype(float))
                 for i in np.flatnonzero(flag)}
        rows = g.loc[idx]
        pos = g.index.get_indexer(idx)
        for p, a, c in zip(pos, rows["area"], rows["category"], strict=True):
            if (a, c) in level:
                new_mean[p] = level[(a, c)]
    old = g["yhat_mean"].to_numpy(dtype=float)
    scale = np.divide(g["yhat"].to_numpy(dtype=float), old, out=np.ones_like(old), where=old > 0)
    out = g.assign(model=f"govml_trend_z{z:g}", yhat=scale * new_mean, yhat_mean=new_mean)
    return out, flagged, tested


def screen(zs: list[float]) -> None:
    from bench_hotspot_boston import _load_panel

    print("| panel | z | flagged / series × origins | ΔRMSE | ΔMAE | top-2% (default → rule) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for ds, start in (("boston", None), ("boston", "2015-05-04"), ("boston_type", None), ("sample", None),
                      ("teddycup_cat", None)):
        loaded = _load_panel(ds)
        if loaded is None:
            print(f"| {ds} | – | data not found: skipped | | | |")
            continue
        panel = loaded[0]
        preds = backtest(panel, start)
        base = overall(preds).loc["govml"]
        name = ds + (f" from {start}" if start else "")
        for z in zs:
            ruled, flagged, tested = with_trend_rule(panel, preds, z)
            r = overall(ruled).iloc[0]
            print(f"| {name} | {z:g} | {flagged} / {tested} | {100 * (r['rmse'] / base['rmse'] - 1):+.2f}% | "
                  f"{100 * (r['mae'] / base['mae'] - 1):+.2f}% | {base['precision_top2pct']:.3f} → "
                  f"{r['precision_top2pct']:.3f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--screen", action="store_true", help="the trend rule on every panel instead of the truth table")
    ap.add_argument("--z", default="2,4,6,8", help="with --screen: the z thresholds (comma-separated)")
    args = ap.parse_args()
    if args.screen:
        screen([float(v) for v in args.z.split(",")])
    else:
        sample_against_truth()


if __name__ == "__main__":
    main()
