"""Is ``p_hotspot`` honest? Its scores out of sample on the real panels, for the map in use and alternatives.

    .venv/bin/python benchmarks/bench_hotspot_phot.py --dataset boston          # Boston 311 2015, 8 last weeks
    .venv/bin/python benchmarks/bench_hotspot_phot.py --dataset boston_type --json-out phot.json
    .venv/bin/python benchmarks/bench_hotspot_phot.py --dataset sample --start 2024-01-15   # origins spread

The panels are ``bench_hotspot_boston.py``'s (imported: ``boston``, ``boston_type``, ``teddycup_cat``,
``teddycup_trim``, ``sample``, ``teddycup``). One rolling-origin backtest of the default forecaster
(``run_backtest``: the panel cut at each origin) whose every fit also gives ``p_hotspot_<variant>``: the same
holdout forecasts inside the fit mapped by each variant of :class:`govml.hotspot.forecast.HotspotMap`
(``--variants``; ``iso_pooled`` is the default before session 10, ``logit_banded`` the default since: the
run checks that the default's variant equals ``p_hotspot``):

* ``iso_pooled`` / ``iso_banded`` — isotonic map of the negative-binomial ``P(y > threshold)``, dispersion by
  moments pooled over all holdout forecasts / per size band of the forecast mean (the intervals' bands);
* ``logit_pooled`` / ``logit_banded`` — intercept and slope on the logit of the raw probability, ridge toward
  no change (Cox recalibration);
* ``raw_pooled`` / ``raw_banded`` — the negative binomial alone, no map;
* ``logref_pooled`` / ``logref_banded`` — ``logit_*`` with a third term, the logit of the cell's own past
  exceedance rate of its threshold (the reference below, computed inside the fit at each inner holdout origin).

Point forecasts are the default's for every variant (one fit). Scores (``govml.hotspot.backtest``): Brier,
log loss (clipped at 1e-4), ECE over 10 bins, the hotspot events, and the reference that needs no model (the
cell's past exceedance rate of its threshold at the origin, ``(k + 0.5) / (n + 1)``), overall, per horizon and
per size band; per origin, the Brier and log-loss differences of each variant against ``iso_pooled`` (mean ±
standard error over origins, and at how many origins the variant is better). Skips (exit 0) when the panel's
data are absent.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

VARIANTS = {"iso_pooled": ("isotonic", "pooled"), "iso_banded": ("isotonic", "banded"),
            "logit_pooled": ("logistic", "pooled"), "logit_banded": ("logistic", "banded"),
            "raw_pooled": ("none", "pooled"), "raw_banded": ("none", "banded"),
            "logref_pooled": ("logistic_ref", "pooled"), "logref_banded": ("logistic_ref", "banded")}


def variant_forecaster(variants: list[str], **params):
    """The default forecaster whose ``predict`` also gives ``p_hotspot_<variant>`` for each variant, each map
    fitted on the fit's own inner holdout forecasts (``hotspot_holdout_``)."""
    from govml.hotspot.forecast import HotspotForecaster, HotspotMap

    class PhotVariants(HotspotForecaster):
        _keep_hotspot_holdout = True

        def fit(self, panel: pd.DataFrame) -> PhotVariants:
            super().fit(panel)
            self.variant_maps_ = {v: {h: HotspotMap(*VARIANTS[v]).fit(mu, obs, thr, self.dispersion_[h], ref)
                                      for h, (mu, obs, thr, ref) in self.hotspot_holdout_.items()}
                                  for v in variants}
            return self

        def predict(self, horizon: int | None = None) -> pd.DataFrame:
            out = super().predict(horizon)
            H = horizon or self.horizon
            m = out["yhat_mean"].to_numpy().reshape(-1, H)
            for v, maps in self.variant_maps_.items():
                p = np.column_stack([self._p_hotspot(m[:, h - 1], min(h, self.horizon), maps.get(min(h, self.horizon)))
                                     for h in range(1, H + 1)])
                out[f"p_hotspot_{v}"] = p.reshape(-1)
            return out

    return PhotVariants(**params)


def score_table(preds: pd.DataFrame, variants: list[str]) -> pd.DataFrame:
    from govml.hotspot.backtest import hotspot_metrics, size_band

    rows = []
    groups = [("all", "all", preds)]
    groups += [("horizon", f"h{h}", g) for h, g in preds.groupby("horizon", sort=True)]
    bands = size_band(preds)
    groups += [("band", b, preds[bands == b]) for b in pd.unique(bands)]
    for kind, name, g in groups:
        for v in variants:
            m = hotspot_metrics(g, p_col=f"p_hotspot_{v}")
            rows.append({"group": kind, "value": name, "variant": v, "n": len(g), **m})
    return pd.DataFrame(rows)


def per_origin_diffs(preds: pd.DataFrame, variants: list[str], ref: str = "iso_pooled") -> pd.DataFrame:
    from govml.hotspot.backtest import brier_score, log_loss

    rows = []
    for o, g in preds.groupby("origin", sort=True):
        e = (g["y"] > g["threshold"]).to_numpy(dtype=float)
        r = {"origin": o}
        for v in variants + ["ref"]:
            p = g["p_ref" if v == "ref" else f"p_hotspot_{v}"].to_numpy(dtype=float)
            r[f"brier_{v}"] = brier_score(p, e)
            r[f"logloss_{v}"] = log_loss(p, e)
        rows.append(r)
    t = pd.DataFrame(rows)
    out = []
    for v in variants + ["ref"]:
        if v == ref:
            continue
        for s in ("brier", "logloss"):
            d = t[f"{s}_{v}"] - t[f"{s}_{ref}"]
            out.append({"variant": v, "score": s, "mean_diff": d.mean(),
                        "se": d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan"),
                        "better_origins": int((d < 0).sum()), "origins": len(d)})
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="boston",
                    choices=["boston", "boston_type", "sample", "teddycup", "teddycup_trim", "teddycup_cat"])
    ap.add_argument("--origins", type=int, default=8)
    ap.add_argument("--start", default=None, help="spread the origins evenly from this date")
    ap.add_argument("--horizon", type=int, default=4)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--json-out", type=Path, default=None)
    ap.add_argument("--predictions-out", type=Path, default=None, help="every forecast with its probabilities (CSV)")
    args = ap.parse_args(argv)

    from bench_hotspot_boston import load_panel

    from govml.hotspot.backtest import run_backtest

    variants = [v for v in args.variants.split(",") if v]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; known: {list(VARIANTS)}")
    loaded = load_panel(args.dataset)
    if loaded is None:
        print(f"{args.dataset}: data absent; skipped")
        return 0
    panel, _ = loaded
    n_series = panel.groupby(["area", "category"], observed=True).ngroups
    print(f"{args.dataset}: {n_series} series × {panel['period_start'].nunique()} periods, "
          f"mean count {panel['y'].mean():.3f}", flush=True)
    t0 = time.perf_counter()
    res = run_backtest(panel, {"govml": variant_forecaster(variants, horizon=args.horizon)},
                       origins=args.origins, horizon=args.horizon, start=args.start,
                       progress=lambda i, n, o: print(f"  origin {i}/{n} {o.date()} ({time.perf_counter() - t0:.0f} s)",
                                                      flush=True))
    preds = res.predictions
    from govml.hotspot.forecast import HotspotForecaster

    d = HotspotForecaster()
    default = next((v for v, kd in VARIANTS.items() if kd == (d.hotspot_calibration, d.hotspot_dispersion)), None)
    if default in variants:  # the default map: its variant's column must be p_hotspot itself
        same = np.array_equal(preds["p_hotspot"].to_numpy(), preds[f"p_hotspot_{default}"].to_numpy())
        print(f"{default} == p_hotspot (the default): {same}")
    tab = score_table(preds, variants)
    cols = ["hotspot_events", "hotspot_rate", "hotspot_p_mean", "hotspot_brier", "hotspot_brier_ref",
            "hotspot_brier_skill", "hotspot_log_loss", "hotspot_log_loss_ref", "hotspot_log_loss_skill", "hotspot_ece"]
    print(f"\n{len(res.origins)} origins {res.origins[0].date()} … {res.origins[-1].date()}, horizons 1..{args.horizon}")
    print("\n| group | variant | n | " + " | ".join(c.replace("hotspot_", "") for c in cols) + " |")
    print("|---" * (len(cols) + 3) + "|")
    for r in tab.itertuples():
        print(f"| {r.value} | {r.variant} | {r.n} | " + " | ".join(
            "–" if pd.isna(getattr(r, c)) else (f"{getattr(r, c):.0f}" if c == "hotspot_events" else f"{getattr(r, c):.4f}")
            for c in cols) + " |")
    diffs = per_origin_diffs(preds, variants) if "iso_pooled" in variants else pd.DataFrame()
    if not diffs.empty:
        print("\nper origin, against iso_pooled (the default before session 10; negative = better): mean "
              "difference ± se, origins better")
        for r in diffs.itertuples():
            print(f"  {r.variant:13s} {r.score:8s} {r.mean_diff:+.5f} ± {r.se:.5f}  {r.better_origins}/{r.origins}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps({
            "dataset": args.dataset, "origins": [str(o.date()) for o in res.origins], "variants": variants,
            "scores": tab.to_dict("records"), "per_origin_vs_iso_pooled": diffs.to_dict("records"),
        }, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    if args.predictions_out:
        keep = ["origin", "area", "category", "period_start", "horizon", "y", "yhat_mean", "threshold", "p_ref",
                "p_hotspot"] + [f"p_hotspot_{v}" for v in variants]
        p = preds[keep].copy()
        p["area"], p["category"] = p["area"].astype(str), p["category"].astype(str)
        p.to_csv(args.predictions_out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
