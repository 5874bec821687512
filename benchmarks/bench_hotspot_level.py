"""Level-only replay: the forecaster's level (no trees, the mean as the point) at the backtest origins.

    .venv/bin/python benchmarks/bench_hotspot_level.py [--rules pooled,nonneg,per_horizon,tiers2,quiet_tsb]
        [--inner 13,26,52] [--sets default,+tsb,+ewm,+area,+indep,+eb,+area_4+eb_13,+share_4]
        [--panels standard|sparse|all]

On both Boston panels the default keeps no tree, so its forecast is the level (averaged with the
level's recursion, then the point rule): this replays the level alone at the 8 origins of
``bench_hotspot_boston.py`` (Boston Oct–Nov, Boston May–Nov, the generated sample, 泰迪杯) in
seconds, to screen level rules before a full backtest. Rules: ``pooled`` (the default: simplex weights
on the last ``--inner`` origins, horizons 1..4 pooled), ``nonneg`` (non-negative weights without the
sum-to-one constraint: a scale), ``per_horizon`` (simplex weights per horizon), ``tiers2`` (pooled
weights per volume tier, ``level_tiers=2``), ``quiet_tsb`` (the default's level for the busier half of
the series, the ``+tsb`` level for the quieter half), ``shrinkNN`` (the simplex weights shrunk NN% toward
equal weights); session 8 (the weight choice under regime drift):
``hlN`` (the inner origins' squared errors weighted ``0.5 ** (age / N)``, ``level_halflife=N``), ``auto``
(``level_shrink="auto"``: Stock & Watson's share of equal weights, κ = 0.5), ``swK`` (the same with κ = K),
``hlN_auto`` / ``hlN_swK`` (both; the share then from the effective number of origins), and ``…_recent`` (e.g.
``sw0.5_recent``: shrunk toward equal weights on the candidates with windows of at most 13 periods). Sets: ``default`` (``LEVEL_WINDOWS``), the named ones below, or ``+c1+c2…``: the
default plus the candidates ``c1``, ``c2``, … (any ``level_windows`` name, e.g. ``+area_4+eb_13``; session 18:
``+tail_2+tail_4`` — the last days' rate of the origin's week, the panels then built with
``add_intra_period``; rule ``pooled`` only).
Prints RMSE, MAE and top-2% precision, the
RMSE of the busier and quieter half and the MAE of the quieter half. Data as in ``bench_hotspot_boston.py`` (panels it cannot find are
skipped).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

PANELS = [("boston", None), ("boston", "2015-05-04"), ("sample", None), ("teddycup", None)]
SPARSE = [("teddycup_trim", None), ("boston_type", None), ("teddycup_cat", None)]  # session 7's sparser panels


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rules", default="pooled")
    ap.add_argument("--inner", default="26", help="inner origins for the weights (comma-separated)")
    ap.add_argument("--sets", default="default,+ewm,+tsb")
    ap.add_argument("--panels", default="standard", choices=["standard", "sparse", "all"],
                    help="standard: Boston Oct–Nov and May–Nov, sample, 泰迪杯; sparse: teddycup_trim, "
                         "boston_type, teddycup_cat; all: both")
    args = ap.parse_args(argv)

    from bench_hotspot_boston import load_panel
    from scipy.optimize import nnls

    from govml.hotspot.backtest import choose_origins, top_k_metrics
    from govml.hotspot.forecast import (
        LEVEL_SHRINK_KAPPA,
        LEVEL_WINDOWS,
        _simplex_qp,
        choose_level_weights,
        choose_level_weights_tiered,
        data_start,
        effective_origins,
        intra_matrices,
        level_at_end,
        level_candidates,
        level_shrink_share,
        volume_tiers,
    )
    from govml.hotspot.panel import panel_matrix

    sets = {"default": LEVEL_WINDOWS, "+ewm": LEVEL_WINDOWS + ("ewm_0.1", "ewm_0.3"),
            "+tsb": LEVEL_WINDOWS + ("tsb_0.1", "tsb_0.3"), "+ewm.2": LEVEL_WINDOWS + ("ewm_0.2",),
            "+tsb.2": LEVEL_WINDOWS + ("tsb_0.2",), "+tsb.1": LEVEL_WINDOWS + ("tsb_0.1",),
            "+ewm.1": LEVEL_WINDOWS + ("ewm_0.1",), "+tsb.05": LEVEL_WINDOWS + ("tsb_0.05",),
            # session 6: area top-down, two-way independence, empirical-Bayes shrinkage
            "+area": LEVEL_WINDOWS + ("area_4", "area_13"), "+indep": LEVEL_WINDOWS + ("indep_4", "indep_13"),
            "+indepr": LEVEL_WINDOWS + ("indepr_4", "indepr_13"), "+eb": LEVEL_WINDOWS + ("eb_4", "eb_13"),
            "+eb52": LEVEL_WINDOWS + ("eb_4_52", "eb_13_52"),
            # the short window means replaced by their empirical-Bayes shrunk versions
            "ebswap": tuple(f"eb_{w}" if w in (4, 8, 13) else w for w in LEVEL_WINDOWS),
            "ebswap4": tuple("eb_4" if w == 4 else w for w in LEVEL_WINDOWS),
            # session 7: the category top-down candidates replaced by the board-wide ones
            "shareswap": tuple({"cat_4": "share_4", "cat_13": "share_13"}.get(str(w), w) for w in LEVEL_WINDOWS)}
    for name in args.sets.split(","):
        if name not in sets and name.startswith("+"):
            sets[name] = LEVEL_WINDOWS + tuple(c if not c.isdigit() else int(c) for c in name[1:].split("+"))
    H = 4

    def drift_rule(rule: str) -> dict | None:  # session 8: "hl8", "auto", "sw0.5", "hl13_auto"
        kw: dict = {}
        for part in rule.split("_"):
            if part.startswith("hl") and part[2:].replace(".", "", 1).isdigit():
                kw["halflife"] = float(part[2:])
            elif part == "auto":
                kw["kappa"] = LEVEL_SHRINK_KAPPA
            elif part == "recent":
                kw["prior"] = "recent"
            elif part.startswith("sw") and part[2:].replace(".", "", 1).isdigit():
                kw["kappa"] = float(part[2:])
            else:
                return None
        return kw

    def weights(y: np.ndarray, W: tuple, g: np.ndarray, rule: str, n_o: int, h: int,
                intra: dict | None = None) -> np.ndarray:
        if intra is not None:  # session 18: candidates from inside the periods (the pooled rule)
            if rule != "pooled":
                raise SystemExit("sets with tail_k candidates take --rules pooled only")
            return choose_level_weights(y, H, n_origins=n_o, windows=W, groups=g, areas=a,
                                        candidates=level_candidates(y, W, g, a, intra))
        if (kw := drift_rule(rule)) is not None:
            hl = kw.get("halflife")
            share = (level_shrink_share(len(W), effective_origins(y.shape[1], n_o, hl), kw["kappa"])
                     if "kappa" in kw else 0.0)
            return choose_level_weights(y, H, n_origins=n_o, windows=W, groups=g, areas=a, halflife=hl,
                                        shrink=share, prior=kw.get("prior", "equal"))
        if rule in ("pooled", "quiet_tsb"):
            return choose_level_weights(y, H, n_origins=n_o, windows=W, groups=g, areas=a)
        if rule.startswith("shrink"):  # toward equal weights: "shrink50" = half QP, half uniform
            lam = int(rule[6:]) / 100.0
            return (1 - lam) * choose_level_weights(y, H, n_origins=n_o, windows=W, groups=g, areas=a) + lam / len(W)
        if rule == "tiers2":
            return choose_level_weights_tiered(y, H, volume_tiers(y, 2), n_origins=n_o, windows=W, groups=g,
                                               areas=a)
        M = level_candidates(y, W, g, a)
        S, T, k = M.shape
        hs = [h] if rule == "per_horizon" else range(1, H + 1)
        A = np.concatenate([M[:, np.arange(max(0, T - 1 - j - n_o + 1), T - j), :].reshape(-1, k) for j in hs])
        t = np.concatenate([y[:, np.arange(max(0, T - 1 - j - n_o + 1), T - j) + j].reshape(-1) for j in hs])
        return _simplex_qp(A.T @ A, A.T @ t) if rule == "per_horizon" else nnls(A, t)[0]

    rows = []
    need_intra = any("tail_" in str(c) for name in args.sets.split(",") for c in sets[name])
    panels = {"standard": PANELS, "sparse": SPARSE, "all": PANELS + SPARSE}[args.panels]
    for ds, start in panels:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            loaded = load_panel(ds, intra=need_intra)
        if loaded is None:
            print(f"{ds}: data not found; skipped")
            continue
        y0, keys, periods = panel_matrix(loaded[0])
        src0 = ({c: loaded[0][c].to_numpy(dtype=np.float64).reshape(y0.shape) for c in loaded[0].columns
                 if c.startswith("tail_")} if need_intra else {})
        days0 = np.full(len(periods), 7.0)
        g = keys["category"].cat.codes.to_numpy().astype(np.int64)
        a = keys["area"].cat.codes.to_numpy().astype(np.int64)
        idx = [periods.get_loc(o) for o in choose_origins(periods, H, 8, start=start)]
        label = ds + (" May–Nov" if start else "")
        for name in args.sets.split(","):
            W = sets[name]
            for rule in args.rules.split(","):
                for n_o in (int(v) for v in args.inner.split(",")):
                    P, Y, tiers_all, tops = [], [], [], []
                    for o in idx:
                        y = y0[:, : o + 1]
                        s0 = data_start(y)
                        y = y[:, s0:]
                        intra = (intra_matrices({c: v[:, s0: o + 1] for c, v in src0.items()}, y, y.shape[1],
                                                days0[s0: o + 1]) if any("tail_" in str(c) for c in W) else None)
                        tiers = volume_tiers(y, 2)
                        L = level_at_end(y, W, g, a, intra)
                        w1 = None if rule == "per_horizon" else weights(y, W, g, rule, n_o, 1, intra)  # same for every h
                        for h in range(1, H + 1):
                            w = w1 if w1 is not None else weights(y, W, g, rule, n_o, h)
                            lev = L @ w if w.ndim == 1 else np.sum(L * w, axis=1)
                            if rule == "quiet_tsb":
                                Lt = level_at_end(y, sets["+tsb"], g, a)
                                lt = Lt @ choose_level_weights(y, H, n_origins=n_o, windows=sets["+tsb"], groups=g,
                                                               areas=a)
                                lev = np.where(tiers == 0, lt, lev)
                            P.append(lev)
                            Y.append(y0[:, o + h])
                            tiers_all.append(tiers)
                            tops.append(top_k_metrics(y0[:, o + h], lev, 2)["precision_top2pct"])
                    P, Y, T_ = (np.concatenate(v) for v in (P, Y, tiers_all))

                    def rmse(m: np.ndarray, P: np.ndarray = P, Y: np.ndarray = Y) -> float:
                        return float(np.sqrt(np.mean((P[m] - Y[m]) ** 2)))

                    rows.append(dict(panel=label, set=name, rule=rule, inner=n_o, rmse=rmse(np.ones(len(P), bool)),
                                     mae=float(np.mean(np.abs(P - Y))), top2=float(np.mean(tops)),
                                     rmse_busy=rmse(T_ == 1), rmse_quiet=rmse(T_ == 0),
                                     mae_quiet=float(np.mean(np.abs(P - Y)[T_ == 0]))))
        print(f"{label}: done", flush=True)
    df = pd.DataFrame(rows)
    ref = df[(df["set"] == "default") & (df["rule"] == "pooled") & (df["inner"] == 26)].set_index("panel")["rmse"]
    if len(ref):
        df["d_rmse_pct"] = 100 * (df["rmse"] / df["panel"].map(ref) - 1)
    print(df.round(4).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
