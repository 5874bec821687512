"""Hierarchical reconciliation replay (session 16, issue 4): the default's cell forecasts reconciled with forecasts
of their sums, at the 8 origins of ``bench_hotspot_boston.py``.

    .venv/bin/python benchmarks/bench_hotspot_reconcile.py [--panels boston,boston_may,sample,teddycup_cat,teddycup_trim]
        [--origins 8] [--cache DIR] [--methods bu,ols,wls_struct,wls_var,mint_shrink,td_area,td_category,td_total]

At every origin the panel is cut (nothing after it is seen) and the default ``HotspotForecaster`` is fitted on the
cells and, separately, on each aggregate level of the grouped hierarchy (area totals, category totals, the grand
total; ``govml.hotspot.reconcile.hierarchy`` leaves out a level that repeats another). Its mean forecasts are
reconciled (``govml.hotspot.reconcile``) with ``W`` from the inner-holdout errors of the same fits (origins before the
cut only; the 7 + 6 + 5 + 4 holdout forecasts of horizons 1..4 pooled), negative cells clipped to 0, and the point
rule of the cell model re-applied to the reconciled mean (its weight and dispersion, per horizon). ``bu`` (bottom-up)
is the default itself; ``mint_h1`` is MinT-shrink with ``W`` from the horizon-1 errors only (7 rows, one per holdout
origin: the pooled rows of one origin are not independent, which makes Schäfer–Strimmer's λ too small). RMSE / MAE score the point, top-2 % precision ranks by the mean (as the backtest does); Δ are
against ``bu`` and against the best baseline (by RMSE / MAE / top-2 %, of ``default_baselines``). ``--cache DIR`` keeps
each panel's fits (a pickle) so a second run only re-reconciles. Panels whose data are absent are skipped.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from govml.hotspot.reconcile import aggregate_panel

sys.path.insert(0, str(Path(__file__).resolve().parent))

PANELS = {"boston": ("boston", None), "boston_may": ("boston", "2015-05-04"), "sample": ("sample", None),
          "teddycup_cat": ("teddycup_cat", None), "teddycup_trim": ("teddycup_trim", None),
          # checks at origins spread over the year (not the autumn ones) and on the sparser Boston panel
          "sample_spread": ("sample", "2024-01-15"), "teddycup_cat_spread": ("teddycup_cat", "2019-03-04"),
          "boston_type": ("boston_type", None)}
H = 4


def fit_one(panel: pd.DataFrame) -> dict:
    from govml.hotspot.forecast import HotspotForecaster
    from govml.hotspot.panel import panel_matrix

    m = HotspotForecaster(horizon=H)
    m._keep_hotspot_holdout = True  # the inner holdout's forecasts and outcomes: the errors for W
    m.fit(panel)
    fc = m.predict(H)
    S = len(fc) // H
    _, keys, _ = panel_matrix(panel)
    res = {}
    for h in range(1, H + 1):
        if h in m.hotspot_holdout_:
            mu, obs = m.hotspot_holdout_[h][:2]
            res[h] = (obs - mu).reshape(-1, S)  # (holdout origins × series), origins in order
    return {"mean": fc["yhat_mean"].to_numpy().reshape(S, H), "point": fc["yhat"].to_numpy().reshape(S, H),
            "names": keys[[c for c in ("area", "category") if c in keys]].astype(str).agg("|".join, axis=1).to_numpy(),
            "res": res, "disp": dict(m.dispersion_), "pw": dict(m.point_weight_),
            "n_trees": int(m.n_trees_)}


def collect(ds: str, start: str | None, n_origins: int) -> dict | None:
    from bench_hotspot_boston import load_panel

    from govml.errors import ModelError
    from govml.hotspot.backtest import choose_origins
    from govml.hotspot.baselines import default_baselines
    from govml.hotspot.panel import panel_matrix, truncate
    from govml.hotspot.reconcile import hierarchy

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        loaded = load_panel(ds)
    if loaded is None:
        return None
    panel = loaded[0]
    y0, keys, periods = panel_matrix(panel)
    T = len(periods)
    area = keys["area"].cat.codes.to_numpy()
    cat = keys["category"].cat.codes.to_numpy()
    C, labels = hierarchy(area, cat)
    levels = {lab.split(":")[0] for lab in labels}
    names = {"area": keys["area"].cat.categories.astype(str), "category": keys["category"].cat.categories.astype(str)}
    out = {"C": C, "labels": labels, "origins": [], "S": len(keys), "names": names}
    t0 = time.process_time()
    for o in choose_origins(periods, H, n_origins, start=start):
        cut = truncate(panel, o)
        j = periods.get_loc(o)
        rec = {"origin": o, "y": y0[:, j + 1: j + 1 + H], "bottom": fit_one(cut)}
        for lev in levels:
            rec[lev] = fit_one(aggregate_panel(cut, None if lev == "total" else lev))
        rec["baselines"] = {}
        for n, b in default_baselines(52 if T >= 52 + H + 8 else None).items():
            try:  # as run_backtest: a baseline that cannot be fitted at an origin is left out there
                rec["baselines"][n] = b.fit(cut).predict(H)["yhat"].to_numpy().reshape(-1, H)
            except ModelError:
                pass
        out["origins"].append(rec)
        print(f"  {ds} {start or ''} origin {o.date()} (trees {rec['bottom']['n_trees']}; "
              f"{time.process_time() - t0:.0f} CPU s)", flush=True)
    return out


def _row(rec: dict, lab: str, names: dict) -> tuple[str, int]:
    """The aggregate ``lab``'s fit and its row there (found by name: the aggregated panel's own order)."""
    lev, _, code = lab.partition(":")
    if lev == "total":
        return lev, 0
    name = names[lev][int(code)]
    want = f"{name}|all" if lev == "area" else f"all|{name}"
    return lev, int(np.flatnonzero(rec[lev]["names"] == want)[0])


def aggregate_forecasts(rec: dict, labels: list[str], names: dict, key: str) -> np.ndarray:
    """The aggregates' base forecasts (``key``: ``"mean"``) in the order of ``labels`` (rows of C)."""
    return np.vstack([rec[lev][key][i] for lev, i in (_row(rec, lab, names) for lab in labels)])


def aggregate_errors(rec: dict, labels: list[str], names: dict) -> np.ndarray | None:
    """Inner-holdout errors (rows: holdout origin × horizon, pooled) at every node, aggregates first."""
    blocks = []
    where = [_row(rec, lab, names) for lab in labels]
    for h in sorted(rec["bottom"]["res"]):
        cols = [rec[lev]["res"][h][:, i] for lev, i in where]
        blocks.append(np.column_stack([*cols, rec["bottom"]["res"][h]]))
    return np.vstack(blocks) if blocks else None  # None: a cut too short for the inner holdout


def replay(data: dict, methods: list[str]) -> pd.DataFrame:
    from govml.hotspot.backtest import top_k_metrics
    from govml.hotspot.forecast import point_forecast
    from govml.hotspot.reconcile import (
        clip_negative,
        error_covariance,
        reconcile,
        shrink_covariance,
        top_down,
    )

    C, labels = data["C"], data["labels"]
    acc: dict[str, dict[str, list]] = {}
    lams: list[float] = []
    gates: list[bool] = []
    agg_err: dict[str, list] = {}  # per level: (the level's own forecast − actual, the cells' sum − actual)
    for rec in data["origins"]:
        b = rec["bottom"]
        ya = aggregate_forecasts(rec, labels, data["names"], "mean")
        for i, lab in enumerate(labels):
            ye = C[i] @ rec["y"]
            agg_err.setdefault(lab.split(":")[0], []).append(np.stack([ya[i] - ye, C[i] @ b["mean"] - ye]))
        E = aggregate_errors(rec, labels, data["names"])
        Y = rec["y"]
        cand: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
        for meth in methods:
            if meth == "bu":
                cand[meth] = (b["mean"], b["point"], 0.0)
                continue
            if meth.endswith("_gate"):  # reconcile only where the total's own model beat the cells' sum on the holdout
                tot = labels.index("total")
                own = sum(float(np.sum(rec["total"]["res"][h][:, 0] ** 2)) for h in rec["bottom"]["res"])
                summed = sum(float(np.sum(rec["bottom"]["res"][h].sum(axis=1) ** 2)) for h in rec["bottom"]["res"])
                use = bool(rec["bottom"]["res"]) and own < summed
                gates.append(use)
                if not use:
                    cand[meth] = (b["mean"], b["point"], 0.0)
                    continue
                inner = meth[: -len("_gate")]
                if inner.startswith("td_"):
                    rows = [i for i, lab in enumerate(labels) if lab.split(":")[0] == inner[3:]]
                    mu, clip = top_down(b["mean"], ya[rows], C[rows]), 0.0
                else:
                    mu, clip = clip_negative(reconcile(b["mean"], ya, C, error_covariance(inner, C, E)))
                del tot
            elif meth.startswith("td_"):
                lev = meth[3:]
                rows = [i for i, lab in enumerate(labels) if lab.split(":")[0] == lev]
                if not rows:
                    continue
                mu, clip = top_down(b["mean"], ya[rows], C[rows]), 0.0
            elif E is None and meth in ("wls_var", "mint_shrink", "mint_h1"):  # no holdout: as the option does
                mu, clip = clip_negative(reconcile(b["mean"], ya, C, error_covariance("wls_struct", C)))
            elif meth == "mint_h1":  # MinT-shrink from the horizon-1 errors only (one row per holdout origin)
                W = error_covariance("mint_shrink", C, E[: len(rec["bottom"]["res"][1])])
                mu, clip = clip_negative(reconcile(b["mean"], ya, C, W))
            else:
                W = error_covariance(meth, C, E)
                mu, clip = clip_negative(reconcile(b["mean"], ya, C, W))
                if meth == "mint_shrink":
                    lams.append(shrink_covariance(E)[1])
            pt = np.column_stack([point_forecast(mu[:, h], b["disp"][h + 1], b["pw"][h + 1]) for h in range(H)])
            cand[meth] = (mu, pt, clip)
        for name, p in rec["baselines"].items():
            cand[name] = (p, p, 0.0)
        for name, (mu, pt, clip) in cand.items():
            a = acc.setdefault(name, {"e": [], "top": [], "clip": [], "sum": [], "ysum": []})
            a["e"].append((pt - Y).ravel())
            a["top"] += [top_k_metrics(Y[:, h], mu[:, h], 2)["precision_top2pct"] for h in range(H)]
            a["clip"].append(clip)
            a["sum"].append(mu.sum())
            a["ysum"].append(Y.sum())
    rows = []
    for name, a in acc.items():
        e = np.concatenate(a["e"])
        rows.append({"method": name, "rmse": float(np.sqrt(np.mean(e**2))), "mae": float(np.mean(np.abs(e))),
                     "top2": float(np.mean(a["top"])), "clip_pct": 100 * float(np.mean(a["clip"])),
                     "mean_sum_ratio": float(np.sum(a["sum"]) / np.sum(a["ysum"]))})
    df = pd.DataFrame(rows).set_index("method")
    base = [n for n in df.index if n.startswith(("last_value", "mean_", "seasonal"))]
    rb, ab, pb = df.loc[base, "rmse"].min(), df.loc[base, "mae"].min(), df.loc[base, "top2"].max()
    df["d_rmse_bu"] = 100 * (df["rmse"] / df.loc["bu", "rmse"] - 1)
    df["d_mae_bu"] = 100 * (df["mae"] / df.loc["bu", "mae"] - 1)
    df["d_rmse_base"] = 100 * (df["rmse"] / rb - 1)
    df["d_mae_base"] = 100 * (df["mae"] / ab - 1)
    df["top2_base"] = pb
    print("aggregates' mean forecasts, RMSE of the level's own model / of the sum of the cells' (bottom-up): " + "; ".join(
        f"{lev} {np.sqrt(np.mean(np.concatenate(v, axis=1)[0] ** 2)):.3f} / "
        f"{np.sqrt(np.mean(np.concatenate(v, axis=1)[1] ** 2)):.3f}" for lev, v in agg_err.items()))
    if gates:
        print(f"gate (the total's own model beat the cells' sum on the inner holdout): {sum(gates)} of {len(gates)} "
              "origin × method fits")
    if lams:
        print(f"mint_shrink: λ (shrinkage toward the diagonal) per origin {', '.join(f'{v:.2f}' for v in lams)}; "
              f"nodes {C.shape[0] + C.shape[1]} ({C.shape[0]} aggregates), error rows {len(E)}")
    return df.drop(index=base).reset_index()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--panels", default="boston,boston_may,sample,teddycup_cat,teddycup_trim",
                    help=f"comma-separated, of {', '.join(PANELS)}")
    ap.add_argument("--origins", type=int, default=8)
    ap.add_argument("--methods", default="bu,ols,wls_struct,wls_var,mint_shrink,td_area,td_category,td_total")
    ap.add_argument("--cache", type=Path, default=None, help="keep / reuse each panel's fits here")
    args = ap.parse_args(argv)
    logging.disable(logging.WARNING)
    methods = args.methods.split(",")
    out = []
    for key in args.panels.split(","):
        ds, start = PANELS[key]
        f = args.cache / f"reconcile_{key}_{args.origins}.pkl" if args.cache else None
        if f is not None and f.exists():
            data = pickle.loads(f.read_bytes())
        else:
            data = collect(ds, start, args.origins)
            if data is None:
                print(f"{key}: data not found; skipped")
                continue
            if f is not None:
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_bytes(pickle.dumps(data))
        df = replay(data, methods)
        df.insert(0, "panel", key)
        print(df.round(4).to_string(index=False), flush=True)
        out.append(df)
    if out:
        print("\nall panels:")
        print(pd.concat(out).round(4).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
