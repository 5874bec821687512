"""Hotspot forecaster vs baselines in an honest rolling-origin backtest, on real and sample data.

    .venv/bin/python benchmarks/bench_hotspot_boston.py                      # Boston 311 2015
    .venv/bin/python benchmarks/bench_hotspot_boston.py --dataset sample     # data_samples/complaints.csv
    .venv/bin/python benchmarks/bench_hotspot_boston.py --dataset teddycup   # 泰迪杯 2020 C weekly counts
    .venv/bin/python benchmarks/bench_hotspot_boston.py --start 2015-05-04   # origins spread May–Nov (a check)
    .venv/bin/python benchmarks/bench_hotspot_boston.py --dataset boston_type    # Boston 311, neighbourhood × TYPE
    .venv/bin/python benchmarks/bench_hotspot_boston.py --dataset teddycup_cat   # 泰迪杯 附件3 messages × category
    .venv/bin/python benchmarks/bench_hotspot_boston.py --dataset teddycup_trim  # 泰迪杯 weekly, without the thin end

Boston: ``../shared/data/boston311_2015/boston311_2015_events.csv.gz``, neighborhood × REASON × week
(weeks from Monday; the partial first and last weeks are dropped by build_panel). Sparser panels (session 7):
``boston_type`` — the same requests by neighborhood × TYPE, types with >= ``MIN_TYPE_EVENTS`` (52) requests
in the year (the rarer ones set aside by clean_events); ``teddycup_cat`` — the 附件3 messages with their own
timestamps, area parsed from the title and category from bench_alerts.py's keyword rule, areas with >=
``MIN_AREA_MESSAGES`` (40) messages, messages after ``TEDDYCUP_END`` (the export's thin end, from the week of
2020-01-06) set aside as future; ``teddycup_trim`` — ``teddycup`` without those thin weeks. Models (``--variants``):
the default ``govml`` (Poisson LightGBM boosting from the log of the level — window means and medians
weighted on the panel's own past — with the number of trees chosen on the inner holdout; the direct
per-horizon forecast averaged with the recursive one), ``govml_direct`` / ``govml_recursive`` (one
strategy alone), ``govml_prev`` (the round-2 default: direct, level without the medians),
``govml_med`` / ``govml_trim`` / ``govml_trim13`` (direct, the round-2 level plus median / trimmed-mean
candidates), ``govml_combined`` / ``govml_combined_auto`` (averaged with the round-2 level; weight 0.5
or chosen per horizon on the inner holdout), ``govml_perh`` (round 2 with a tree count per horizon),
``govml_recursive_all`` (recursive, all 200 trees, no early stopping),
``govml_all_trees`` (the default with all 200 trees), ``govml_v1`` (the first default: level = mean of
the 4- and 13-week means, all trees), ``lgbm_plain`` (no offset),
``offset4`` / ``offset13`` (one window), ``govml_blend`` / ``offset4_blend`` (blend with a window mean
chosen on the inner holdout), ``govml_tweedie`` (Tweedie objective, variance power 1.3; session 16: ``govml_tweedie11`` / ``govml_tweedie15``,
power 1.1 / 1.5), ``govml_mean`` (the mean as the point: ``point="mean"``),
``govml_pt0`` (the point rule allowed no holdout RMSE loss), ``govml_noes`` (no early stopping of the
calibration models), ``govml_nogate`` (session 20: ``tree_gate=None``, every horizon's calibration model trained
— the default before the horizon-1 gate); round 4 (docs/hotspots.md §7): ``govml_ewm`` / ``govml_tsb`` / ``govml_es`` (the
default's level plus exponential-smoothing / TSB candidates), ``govml_tier2`` / ``govml_tier3`` (level
weights per volume tier), ``govml_tsb_tier2``, ``govml_lvlfeat`` (level candidates as tree features),
``govml_rec26`` / ``govml_rec52`` (recency-weighted rows, half-life in periods), ``govml_bag3`` (3 seeds
of the final trees); session 5: ``govml_nohol`` (the default without the holiday factor,
``holidays=None``: the default before), ``govml_holfill`` / ``govml_holdiv`` (the factor on the target
week as in the default, and the past holiday weeks' dips filled in / the past counts divided by their
week's factor before the level's windows); session 6: ``govml_area`` / ``govml_indep`` / ``govml_indep4`` /
``govml_indepr`` / ``govml_eb`` (the default's level plus area top-down ``area_4``/``area_13``, two-way
independence ``indep_4``/``indep_13`` or ``indep_4`` alone, independence × the series' shrunk ratio
``indepr_4``/``indepr_13``, empirical-Bayes ``eb_4``/``eb_13``), ``govml_pooled`` (``area_4``, ``indep_4``,
``eb_4`` together), ``govml_ebi`` / ``govml_ebi26`` (plus ``ebi_4_4`` / ``ebi_4_26``: the 4-week mean
shrunk toward the independence model of the last 4 / 26 weeks, empirical Bayes); session 7: ``govml_share4`` /
``govml_share13`` / ``govml_share`` (plus ``share_4`` / ``share_13`` / both: the series' share of the board over
the last 52 weeks × the board's mean total over the last 4 / 13 weeks); session 7 (benchmark-only
prototypes, :func:`session7_variants`): ``govml_lvl`` / ``govml_lvl_mean`` / ``govml_lvl_direct_mean`` (no
trees; diagnostics), ``govml_1se`` / ``govml_pconf`` / ``govml_1se_pconf`` / ``govml_baglevel`` (tree count,
point rule, level weights made noise-aware by a bootstrap over series); session 8: ``govml_shrink`` (the level
weights shrunk toward equal weights, ``level_shrink="auto"``: Stock & Watson's share, κ = 0.5: 0.3125 with 10
candidates and 26 inner origins, all when a cut has no more target periods than candidates), ``govml_shrink025``
(the same with κ = 0.25), ``govml_shrink05`` / ``govml_shrink10`` (a fixed share of 0.3125 / 0.625: κ = 0.5 / 1
at 26 origins, whatever the cut's length), ``govml_jsshrink`` (a James–Stein share, :func:`session8_variants`), ``govml_hl26`` (the inner origins' errors weighted
by recency, half-life 26, ``level_halflife=26``), ``govml_hl52_shrink`` (half-life 52 and the shrinkage),
``govml_noshrink`` (``level_shrink=0``: no shrinkage, whatever the default), ``govml_shrink_recent`` (the
Stock & Watson share toward equal weights on the candidates with windows of at most 13 periods,
``level_shrink_prior="recent"``); session 9: ``govml_break`` / ``govml_break_both`` (the level restarts at a
fall of level in the last 2–13 weeks, ``level_break="down"``, or at a fall or a rise, ``"both"``), ``govml_untested0``
(``untested_trees="none"``: the level alone at origins too short for the inner holdout — the default since
session 9, so now the same as ``govml``; ``govml_untested_all`` is the default before; see
bench_hotspot_short.py); session 11: ``govml_shift`` (``point_rule="shift"``: each cell's point minimises
E|y - p| + (p - mean)² / (2s) under its negative binomial, ``s`` chosen on the inner holdout by the point rule's
test, instead of the mix ``(1 - w) mean + w median``); session 16: ``govml_rec_<method>`` (``reconcile=<method>``:
the cells reconciled with the same forecaster on the area / category / total panels — ``ols``, ``wls_struct``,
``wls_var``, ``mint_shrink``, ``td_area``, ``td_category``, ``td_total``; ``bench_hotspot_reconcile.py`` replays them
from one set of fits); and the baselines. ``--start D --consecutive`` takes
``--origins`` consecutive weeks from ``D`` (around a holiday); ``--by-holiday`` splits the scores by
target week: Spring Festival, other official holiday, the 4 weeks after one, and the rest. Skips cleanly (exit 0) when the
development data are absent. Prints a Markdown table; ``--json-out`` writes every metric; ``--top-series N``
lists the series that carry the squared error.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
MIN_TYPE_EVENTS = 52  # boston_type: a case type needs >= 52 requests in 2015 (109 types kept; 43 with 782 requests not)
MIN_AREA_MESSAGES = 40  # teddycup_cat: an area needs >= 40 messages (10 of 37 area codes, 99% of messages)
TEDDYCUP_END = "2020-01-05 23:59:59"  # teddycup_cat: the export's last full week is 2019-12-30


def load_panel(dataset: str, intra: bool = False) -> tuple[pd.DataFrame, dict] | None:
    """The dataset's panel and its exclusions; ``intra`` (session 18): with the columns from inside the weeks
    (:func:`govml.hotspot.panel.add_intra_period`: ``tail_1`` … ``tail_7`` and, where the data has close times —
    Boston's ``CLOSED_DT``, the sample's ``closed_at`` — ``open_end``)."""
    loaded = _load_panel(dataset, intra)
    if loaded is None or not intra:
        return None if loaded is None else loaded[:2]
    from govml.hotspot.panel import add_intra_period

    panel, ex, clean, close = loaded
    return add_intra_period(panel, clean, close=close), ex


def _close_times(raw: pd.DataFrame, clean: pd.DataFrame, col: str) -> pd.Series:
    """``raw[col]`` for each clean event (clean_events keeps the file rows it used: header = row 1)."""
    rows = np.asarray(clean.attrs["source_rows"], dtype=np.int64) - 2
    return raw[col].iloc[rows].reset_index(drop=True)


def _load_panel(dataset: str, intra: bool = False) -> tuple | None:
    from govml.hotspot.panel import build_panel, clean_events

    if dataset in ("boston", "boston_type"):
        f = DATA / "boston311_2015" / "boston311_2015_events.csv.gz"
        if not f.exists():
            return None
        cat = "REASON" if dataset == "boston" else "TYPE"
        ev = pd.read_csv(f, usecols=["OPEN_DT", "neighborhood", cat, *(["CLOSED_DT"] if intra else [])])
        # boston_type: the finer case type (158 in the year); types with fewer than MIN_TYPE_EVENTS requests
        # in the year are set aside by clean_events (counted, with example rows) as too rare to forecast
        clean, ex = clean_events(ev, time_col="OPEN_DT", area_col="neighborhood", category_col=cat,
                                 now="2016-01-01", file=f.name,
                                 **({} if dataset == "boston" else {"min_category_events": MIN_TYPE_EVENTS}))
        return (build_panel(clean, freq="W", exclusions=ex), ex.to_dict(), clean,
                _close_times(ev, clean, "CLOSED_DT") if intra else None)
    if dataset == "teddycup_cat":
        f = DATA / "teddycup2020c" / "hotspot_messages_full_附件3.csv"
        if not f.exists():
            return None
        from bench_alerts import real_messages  # area from the title, bench_alerts' keyword categories

        ev = real_messages()
        # the ten areas with >= 40 messages in the year (A市, A1–A9); the other 27 codes have 1–5 each
        n = ev["area"].value_counts()
        ev = ev[ev["area"].isin(n[n >= MIN_AREA_MESSAGES].index)]
        # the export thins out from the week of 2020-01-06 (35, 1, 2 messages against ~70 a week):
        # messages from then on are set aside as after `now`, so the last week is 2019-12-30
        clean, ex = clean_events(ev, time_col="created_at", area_col="area", category_col="category",
                                 now=TEDDYCUP_END, file=f.name)
        return build_panel(clean, freq="W", exclusions=ex), ex.to_dict(), clean, None
    if dataset == "sample":
        from govml.io import read_table

        f = ROOT / "data_samples" / "complaints.csv"
        raw = read_table(f)
        clean, ex = clean_events(raw, now="2025-01-01", file=f.name)
        return (build_panel(clean, freq="W", exclusions=ex), ex.to_dict(), clean,
                _close_times(raw, clean, "closed_at") if intra else None)
    if dataset in ("teddycup", "teddycup_trim"):
        f = DATA / "teddycup2020c" / "derived_weekly_counts_附件3_area_from_title.csv"
        if not f.exists():
            return None
        c = pd.read_csv(f)
        if dataset == "teddycup_trim":  # the same counts without the export's thin end (weeks from 2020-01-06)
            c = c[pd.to_datetime(c["week_start"]) + pd.Timedelta(days=1) <= pd.Timestamp(TEDDYCUP_END)]
        # one row per message: repeat each (area, week) by its count; weeks there start on Sunday
        ev = c.loc[c.index.repeat(c["count"])]
        ev = ev.assign(created_at=pd.to_datetime(ev["week_start"]) + pd.Timedelta(days=1), category="留言")
        # (every message of a week is dated its Monday here: nothing inside the weeks is known, tail_k = 0 for k < 7)
        clean, ex = clean_events(ev, time_col="created_at", area_col="area", category_col="category",
                                 now="2021-01-01", file=f.name)
        return build_panel(clean, freq="W", exclusions=ex), ex.to_dict(), clean, None
    raise SystemExit(f"unknown dataset {dataset!r}")


def _bootstrap_weights(n: int, seed: int, draws: int) -> np.ndarray:
    """(draws × n) multinomial counts: resamples of the n series with replacement, seeded."""
    return np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=draws).astype(float)


def session7_variants(H: int) -> dict:
    """Session 7 (issue 4) prototypes — benchmark-only subclasses, not options of the forecaster (none
    was adopted; docs/hotspots.md §7). Each makes one of the forecaster's decisions on the inner holdout
    noise-aware by a seeded bootstrap over series, or removes one (a diagnostic):

    * ``govml_lvl``: the trees cut to 0 at every origin (the level, averaged with its recursion, and the
      point rule): a diagnostic of what the trees add; ``govml_lvl_mean`` the same with the mean as the
      point (what the point rule adds); ``govml_lvl_direct_mean`` the level alone (direct, the mean).
    * ``govml_1se``: the number of trees by the one-standard-error rule: the fewest trees whose holdout
      score is within max(0.01, the bootstrap standard error over series of its difference from the best
      score) of the best (default: within 0.01).
    * ``govml_pconf``: the point rule's RMSE condition must hold at the 90% quantile of a bootstrap over
      series of the holdout RMSE ratio (default: on the holdout as it is).
    * ``govml_1se_pconf``: both.
    * ``govml_baglevel``: the level weights averaged over the simplex QP solved on 50 bootstrap resamples
      of the series (bagging the combination weights).
    """
    import govml.hotspot.forecast as F
    from govml.hotspot.forecast import HotspotForecaster

    def n_series(panel: pd.DataFrame) -> int:
        return len(panel) // panel["period_start"].nunique()

    class LevelOnly(HotspotForecaster):
        def _choose_trees(self, P: np.ndarray, t: np.ndarray, grid: np.ndarray) -> int:
            return 0

    class OneSE(HotspotForecaster):
        draws = 200

        def fit(self, panel: pd.DataFrame) -> OneSE:
            self.n_series_ = n_series(panel)
            return super().fit(panel)

        def _choose_trees(self, P: np.ndarray, t: np.ndarray, grid: np.ndarray) -> int:
            S, Hh, C = self.n_series_, self.horizon, self.calibration_origins
            # rows: per horizon h the S series × (H + C - h) holdout origins, series-major (_select_trees)
            sid = np.concatenate([np.repeat(np.arange(S), Hh + C - h) for h in range(1, Hh + 1) if Hh + C - h > 0])
            assert len(sid) == len(t)
            e = P - t[:, None]
            sse = np.zeros((S, P.shape[1]))
            sae = np.zeros((S, P.shape[1]))
            np.add.at(sse, sid, e**2)
            np.add.at(sae, sid, np.abs(e))

            def score(a: np.ndarray, b: np.ndarray) -> np.ndarray:
                return np.sqrt(a / np.maximum(a[..., :1], 1e-12)) + b / np.maximum(b[..., :1], 1e-12)

            full = score(sse.sum(0), sae.sum(0))
            W = _bootstrap_weights(S, self.random_state, self.draws)
            boot = score(W @ sse, W @ sae)
            jb = int(np.argmin(full))
            se = (boot - boot[:, [jb]]).std(axis=0)
            return int(np.flatnonzero(full <= full[jb] + np.maximum(F._TREE_TOLERANCE, se))[0])

    def confident_point_weight(mu: np.ndarray, obs: np.ndarray, alpha: float, *, S: int, q: float, seed: int,
                               weights: tuple[float, ...] = F.POINT_WEIGHTS, rmse_tol: float = F._POINT_RMSE_TOL,
                               min_gain: float = F._POINT_MIN_GAIN) -> float:
        sid = np.tile(np.arange(S), len(mu) // S)  # rows: the S series at each holdout origin in turn
        med = F.nb_median(mu, alpha)
        W = _bootstrap_weights(S, seed, 200)

        def sums(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return (np.bincount(sid, (p - obs) ** 2, minlength=S), np.bincount(sid, np.abs(p - obs), minlength=S))

        se0, ae0 = sums(mu)
        best_w, best_a = 0.0, ae0.sum()
        for w in weights:
            se, ae = sums((1.0 - w) * mu + w * med)
            ratio = np.sqrt((W @ se) / np.maximum(W @ se0, 1e-12))
            if np.quantile(ratio, q) <= 1.0 + rmse_tol and ae.sum() < best_a - 1e-12:
                best_w, best_a = float(w), float(ae.sum())
        return best_w if best_a <= ae0.sum() * (1.0 - min_gain) else 0.0

    class PointConf(HotspotForecaster):
        q = 0.9

        def fit(self, panel: pd.DataFrame) -> PointConf:
            # _calibrate looks choose_point_weight up in its module at call time: swap it for this fit only
            orig = F.choose_point_weight
            F.choose_point_weight = functools.partial(confident_point_weight, S=n_series(panel), q=self.q,
                                                      seed=self.random_state)
            try:
                return super().fit(panel)
            finally:
                F.choose_point_weight = orig

    class OneSEPointConf(OneSE, PointConf):
        pass

    class BagLevel(HotspotForecaster):
        draws = 50

        def _level_weights(self, y: np.ndarray) -> np.ndarray | None:
            sums = _series_level_sums(self, y)
            if sums is None:
                return super()._level_weights(y)
            G, b, W = sums
            return np.mean([F._simplex_qp(np.einsum("s,sij->ij", w, G), w @ b) for w in W if (w @ b).any()], axis=0)

    return {"govml_lvl": LevelOnly(horizon=H), "govml_lvl_mean": LevelOnly(horizon=H, point="mean"),
            "govml_lvl_direct_mean": LevelOnly(horizon=H, strategy="direct", point="mean"),
            "govml_1se": OneSE(horizon=H), "govml_pconf": PointConf(horizon=H),
            "govml_1se_pconf": OneSEPointConf(horizon=H), "govml_baglevel": BagLevel(horizon=H)}


def _series_level_sums(model, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``level_gram``'s least-squares sums kept per series (S × k × k, S × k) for a default-configured
    forecaster ``model``, with ``model.draws`` seeded bootstrap weights over the series; None when its level
    weights are not the pooled fit (the caller falls back)."""
    import govml.hotspot.forecast as F

    windows = model._level_windows()
    if windows is None or model.offset_window != "auto" or model.level_tiers > 1:
        return None
    M = F.level_candidates(y, windows, model.level_groups_, model.level_areas_)
    S, T, k = M.shape
    G, b = np.zeros((S, k, k)), np.zeros((S, k))
    for h in range(1, model.horizon + 1):
        origins = np.arange(max(0, T - 1 - h - F.LEVEL_ORIGINS + 1), T - h)
        A = M[:, origins, :]
        G += np.einsum("soi,soj->sij", A, A)
        b += np.einsum("soi,so->si", A, y[:, origins + h])
    return (G, b, _bootstrap_weights(S, model.random_state, model.draws)) if b.any() else None


def session8_variants(H: int) -> dict:
    """Session 8 (issue 4) prototypes — benchmark-only subclasses, not options of the forecaster:

    * ``govml_shrink025``: ``level_shrink="auto"`` with κ = 0.25 (the default κ is 0.5).
    * ``govml_jsshrink``: the level weights shrunk toward equal weights by a **James–Stein** share,
      ``min(1, tr Var(w) / |w - 1/k|²)``, ``Var(w)`` over the simplex QP solved on 40 seeded bootstrap
      resamples of the series (the weights' sampling noise against their distance from equal weights:
      a panel of few or quiet series shrinks a lot, a large one little).
    """
    import govml.hotspot.forecast as F
    from govml.hotspot.forecast import HotspotForecaster

    class SteinLevel(HotspotForecaster):
        draws = 40

        def _level_weights(self, y: np.ndarray) -> np.ndarray | None:
            sums = _series_level_sums(self, y)
            if sums is None:
                return super()._level_weights(y)
            G, b, W = sums
            k = b.shape[1]
            w = F._simplex_qp(G.sum(axis=0), b.sum(axis=0))
            boot = np.array([F._simplex_qp(np.einsum("s,sij->ij", d, G), d @ b) for d in W if (d @ b).any()])
            var = float(((boot - boot.mean(axis=0)) ** 2).sum(axis=1).mean())
            share = min(1.0, var / max(float(((w - 1.0 / k) ** 2).sum()), 1e-12))
            return (1.0 - share) * w + share / k

    class Kappa025(HotspotForecaster):  # level_shrink="auto" with κ = 0.25 instead of LEVEL_SHRINK_KAPPA
        def _level_weights(self, y: np.ndarray) -> np.ndarray | None:
            windows = self._level_windows()
            share = F.level_shrink_share(len(windows), F.effective_origins(y.shape[1], F.LEVEL_ORIGINS), 0.25)
            return F.choose_level_weights(y, self.horizon, windows=windows, groups=self.level_groups_,
                                          areas=self.level_areas_, shrink=share)

    return {"govml_jsshrink": SteinLevel(horizon=H), "govml_shrink025": Kappa025(horizon=H)}


INTRA_VARIANTS = ("govml_tail24", "govml_tail1234", "govml_intra", "govml_intra_open", "govml_intra_all",
                  "govml_tail24_intra")


def session18_variants(H: int) -> dict:
    """Session 18 (issue 4): what happened inside the origin's week — the last days' events
    (:func:`govml.hotspot.panel.add_intra_period`) as level candidates (``tail_k``: the last k days' rate × 7) or as
    tree features (``intra_features``): ``govml_tail24`` (+ ``tail_2``, ``tail_4``), ``govml_tail1234`` (+ ``tail_1`` …
    ``tail_4``), ``govml_intra`` (trees: ``ratio_2``, ``ratio_4``, ``slope``), ``govml_intra_open`` (those and the
    open-case backlog ``open``), ``govml_intra_all`` (``rate_1`` … ``rate_4``, ``ratio_1`` … ``ratio_4``, ``slope``,
    ``open``), ``govml_tail24_intra`` (``govml_tail24`` and ``govml_intra`` together)."""
    from govml.hotspot.forecast import LEVEL_WINDOWS, HotspotForecaster

    tree = ("ratio_2", "ratio_4", "slope")
    return {
        "govml_tail24": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("tail_2", "tail_4")),
        "govml_tail1234": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("tail_1", "tail_2", "tail_3",
                                                                                      "tail_4")),
        "govml_intra": HotspotForecaster(horizon=H, intra_features=tree),
        "govml_intra_open": HotspotForecaster(horizon=H, intra_features=(*tree, "open")),
        "govml_intra_all": HotspotForecaster(horizon=H, intra_features=(
            "rate_1", "rate_2", "rate_3", "rate_4", "ratio_1", "ratio_2", "ratio_3", "ratio_4", "slope", "open")),
        "govml_tail24_intra": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("tail_2", "tail_4"),
                                                intra_features=tree),
    }


def print_top_series(preds: pd.DataFrame, model: str, n: int) -> None:
    """Which series carry the squared error: the n series with the largest summed squared error of the
    best baseline by RMSE, with every model's sum there, and the share of the total they carry."""
    p = preds.assign(se=(preds["yhat"] - preds["y"]) ** 2)
    tab = p.pivot_table(index=["area", "category"], columns="model", values="se", aggfunc="sum", observed=True)
    base = [m for m in tab.columns if m.startswith(("last_value", "mean_", "seasonal"))]
    ref = tab[base].sum().idxmin()
    mean_y = p[p["model"] == ref].groupby(["area", "category"], observed=True)["y"].mean()
    top = tab.sort_values(ref, ascending=False).head(n)
    share = top.sum() / tab.sum()
    print(f"\nsquared error by series (summed over origins and horizons; the {n} largest for {ref} of "
          f"{len(tab)} series carry {100 * share[ref]:.0f}% of its total, {100 * share[model]:.0f}% of {model}'s):")
    cols = [model, *(c for c in tab.columns if c not in (model,))]
    print(top[cols].assign(mean_y=mean_y.reindex(top.index)).round(1).to_string())
    tot = tab.sum()
    print("total: " + ", ".join(f"{c} {tot[c]:.0f}" for c in cols))


def holiday_groups(starts: pd.Series) -> pd.Series:
    """Each target week's group: ``spring`` (a Spring Festival day in it), ``holiday`` (another official
    holiday day), ``after`` (one of the 4 weeks after a holiday week: the window means still hold the
    dip) or ``normal``."""
    from govml.hotspot.calendar import calendar_features

    weeks = pd.DatetimeIndex(sorted(pd.to_datetime(starts).unique()))
    lo = weeks[0] - pd.Timedelta(weeks=4)
    allw = pd.date_range(lo, weeks[-1], freq="W-MON")
    cal = calendar_features(allw, "W").set_index("period_start")
    hol = cal["holiday_days"] > 0
    after = hol.astype(int).rolling(5, min_periods=1).max().astype(bool) & ~hol
    grp = pd.Series("normal", index=cal.index)
    grp[after] = "after"
    grp[hol] = "holiday"
    grp[cal["spring_festival"] > 0] = "spring"
    return pd.to_datetime(starts).map(grp)


def print_holiday_split(preds: pd.DataFrame, models: list[str]) -> None:
    from govml.hotspot.backtest import evaluate

    p = preds[preds["model"].isin(models)].copy()
    p["group"] = holiday_groups(p["period_start"]).to_numpy()
    print("\nby target week (RMSE / MAE / top-2% precision / sum of forecast means ÷ sum of actuals; "
          "n = forecasts):")
    for grp, g in p.groupby("group", sort=True):
        ov = evaluate(g.drop(columns="group"))
        ov = ov[ov["horizon"] == "all"].set_index("model")
        mean = g["yhat_mean"].fillna(g["yhat"]) if "yhat_mean" in g else g["yhat"]
        bias = mean.groupby(g["model"]).sum() / g.groupby("model")["y"].sum()
        print(f"  {grp} (n per model {int(ov['n'].iloc[0])}): " + "; ".join(
            f"{m} {ov.loc[m, 'rmse']:.4f} / {ov.loc[m, 'mae']:.4f} / {ov.loc[m, 'precision_top2pct']:.3f}"
            f" / {bias[m]:.2f}" for m in models if m in ov.index))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="boston", choices=["boston", "boston_type", "sample", "teddycup", "teddycup_trim", "teddycup_cat"])
    ap.add_argument("--origins", type=int, default=8)
    ap.add_argument("--start", default=None, help="spread the origins evenly from this date (a check on "
                    "origins the defaults were not chosen on); default: the last --origins weeks")
    ap.add_argument("--horizon", type=int, default=4)
    ap.add_argument("--consecutive", action="store_true",
                    help="with --start: --origins consecutive weeks from --start (e.g. around a holiday) "
                    "instead of origins spread to the end of the data")
    ap.add_argument("--variants", default="govml,govml_recursive,lgbm_plain",
                    help="comma-separated model variants besides the baselines")
    ap.add_argument("--json-out", type=Path, default=None)
    ap.add_argument("--by-holiday", action="store_true",
                    help="also print RMSE / MAE / top-2%% for target weeks with an official holiday "
                    "(Spring Festival apart), the weeks after one, and the others")
    ap.add_argument("--top-series", type=int, default=0, metavar="N",
                    help="also print the N series with the largest squared error (of the best baseline) and "
                    "the share of the total they carry")
    args = ap.parse_args(argv)

    from govml.hotspot.backtest import run_backtest
    from govml.hotspot.baselines import default_baselines
    from govml.hotspot.forecast import (
        LEVEL_ORIGINS,
        LEVEL_WINDOWS,
        LEVEL_WINDOWS_PLAIN,
        HotspotForecaster,
        level_shrink_share,
    )

    loaded = load_panel(args.dataset, intra=any(v in INTRA_VARIANTS for v in args.variants.split(",")))
    if loaded is None:
        print(f"{args.dataset}: development data not found under {DATA}; skipped")
        return 0
    panel, data = loaded
    n_series = panel[["area", "category"]].drop_duplicates().shape[0]
    T = panel["period_start"].nunique()
    print(f"{args.dataset}: {n_series} series × {T} weeks, mean count {panel['y'].mean():.3f}, "
          f"zeros {100 * (panel['y'] == 0).mean():.1f}%")
    H = args.horizon
    variants = {
        "govml": HotspotForecaster(horizon=H),
        "govml_nohol": HotspotForecaster(horizon=H, holidays=None),
        "govml_holfill": HotspotForecaster(horizon=H, holidays="fill"),
        "govml_holdiv": HotspotForecaster(horizon=H, holidays="divide"),
        "govml_all_trees": HotspotForecaster(horizon=H, select_trees=False),
        "govml_v1": HotspotForecaster(horizon=H, offset_window=(4, 13), select_trees=False),
        "govml_recursive": HotspotForecaster(horizon=H, strategy="recursive"),
        "govml_recursive_all": HotspotForecaster(horizon=H, strategy="recursive", select_trees=False,
                                                 early_stop=None),
        "govml_prev": HotspotForecaster(horizon=H, strategy="direct", level_windows=LEVEL_WINDOWS_PLAIN),
        "govml_direct": HotspotForecaster(horizon=H, strategy="direct"),
        "govml_med": HotspotForecaster(horizon=H, strategy="direct", level_windows=LEVEL_WINDOWS_PLAIN + ("med_8", "med_13")),
        "govml_trim": HotspotForecaster(horizon=H, strategy="direct", level_windows=LEVEL_WINDOWS_PLAIN + ("trim_4", "trim_8")),
        "govml_trim13": HotspotForecaster(horizon=H, strategy="direct",
                                          level_windows=LEVEL_WINDOWS_PLAIN + ("trim_13", "trim_26")),
        "govml_perh": HotspotForecaster(horizon=H, strategy="direct", level_windows=LEVEL_WINDOWS_PLAIN,
                                        tree_choice="per_horizon"),
        "govml_combined": HotspotForecaster(horizon=H, strategy="combined", level_windows=LEVEL_WINDOWS_PLAIN),
        "govml_combined_auto": HotspotForecaster(horizon=H, strategy="combined", combine_weight="auto",
                                                 level_windows=LEVEL_WINDOWS_PLAIN),
        # round 4 candidates (docs/hotspots.md §7): exponential-smoothing / intermittent-demand levels
        "govml_ewm": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("ewm_0.1", "ewm_0.3")),
        "govml_tsb": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("tsb_0.1", "tsb_0.3")),
        "govml_es": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("ewm_0.1", "ewm_0.3",
                                                                               "tsb_0.1", "tsb_0.3")),
        "govml_lvlfeat": HotspotForecaster(horizon=H, level_features=("ewm_0.1", "ewm_0.3", "tsb_0.1", "med_8",
                                                                      "cat_4")),
        "govml_rec26": HotspotForecaster(horizon=H, recency_halflife=26),
        "govml_rec52": HotspotForecaster(horizon=H, recency_halflife=52),
        "govml_bag3": HotspotForecaster(horizon=H, n_bags=3),
        "govml_tier2": HotspotForecaster(horizon=H, level_tiers=2),
        "govml_tier3": HotspotForecaster(horizon=H, level_tiers=3),
        "govml_tsb_tier2": HotspotForecaster(horizon=H, level_tiers=2,
                                             level_windows=LEVEL_WINDOWS + ("tsb_0.1", "tsb_0.3")),
        # session 6 candidates (docs/hotspots.md §7): area top-down, two-way independence, empirical Bayes
        "govml_area": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("area_4", "area_13")),
        "govml_indep": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("indep_4", "indep_13")),
        "govml_indep4": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("indep_4",)),
        "govml_indepr": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("indepr_4", "indepr_13")),
        "govml_eb": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("eb_4", "eb_13")),
        "govml_pooled": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("area_4", "indep_4", "eb_4")),
        "govml_ebi": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("ebi_4_4",)),
        "govml_ebi26": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("ebi_4_26",)),
        # session 7 (h5): classic top-down — the series' 52-week share of the board × the board's last-w mean
        "govml_share4": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("share_4",)),
        "govml_share13": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("share_13",)),
        "govml_share": HotspotForecaster(horizon=H, level_windows=LEVEL_WINDOWS + ("share_4", "share_13")),
        "lgbm_plain": HotspotForecaster(horizon=H, offset_window=None),
        "govml_tweedie": HotspotForecaster(horizon=H, objective="tweedie"),  # variance power 1.3
        # session 16 (issue 4): the Tweedie objective's variance power (1.3 above)
        "govml_tweedie11": HotspotForecaster(horizon=H, objective="tweedie", tweedie_variance_power=1.1),
        "govml_tweedie15": HotspotForecaster(horizon=H, objective="tweedie", tweedie_variance_power=1.5),
        "govml_mean": HotspotForecaster(horizon=H, point="mean"),
        "govml_pt0": HotspotForecaster(horizon=H, point_rmse_tolerance=0.0),
        "govml_shift": HotspotForecaster(horizon=H, point_rule="shift"),  # session 11: per-cell Lagrangian point
        "govml_noes": HotspotForecaster(horizon=H, early_stop=None),
        # session 20: the default before the horizon-1 tree gate (every horizon's calibration model trained)
        "govml_nogate": HotspotForecaster(horizon=H, tree_gate=None),
        "offset4": HotspotForecaster(horizon=H, offset_window=4, blend=None),
        "offset4_blend": HotspotForecaster(horizon=H, offset_window=4, blend="auto"),
        "offset13": HotspotForecaster(horizon=H, offset_window=13, blend=None),
        "govml_blend": HotspotForecaster(horizon=H, blend="auto"),
        **session7_variants(H),
        **session8_variants(H),
        # session 8 (issue 4): the level weights' choice under regime drift (docs/hotspots.md §7)
        "govml_shrink": HotspotForecaster(horizon=H, level_shrink="auto"),
        "govml_shrink05": HotspotForecaster(horizon=H, level_shrink=level_shrink_share(len(LEVEL_WINDOWS),
                                                                                        LEVEL_ORIGINS, 0.5)),
        "govml_shrink10": HotspotForecaster(horizon=H, level_shrink=level_shrink_share(len(LEVEL_WINDOWS),
                                                                                        LEVEL_ORIGINS, 1.0)),
        "govml_hl26": HotspotForecaster(horizon=H, level_halflife=26),
        "govml_hl52_shrink": HotspotForecaster(horizon=H, level_halflife=52, level_shrink="auto"),
        "govml_noshrink": HotspotForecaster(horizon=H, level_shrink=0.0),
        "govml_shrink_recent": HotspotForecaster(horizon=H, level_shrink="auto", level_shrink_prior="recent"),
        # session 9 (issue 4): a shift of level in the last periods (a seasonal stop) restarts the level
        "govml_break": HotspotForecaster(horizon=H, level_break="down"),
        "govml_break_both": HotspotForecaster(horizon=H, level_break="both"),
        "govml_untested0": HotspotForecaster(horizon=H, untested_trees="none"),  # = govml since session 9
        "govml_untested_all": HotspotForecaster(horizon=H, untested_trees="all"),  # the default before session 9
        # session 16 (issue 4): cells reconciled with the same forecaster on the area / category / total panels
        **{f"govml_rec_{m}": HotspotForecaster(horizon=H, reconcile=m)
           for m in ("ols", "wls_struct", "wls_var", "mint_shrink", "td_area", "td_category", "td_total")},
        # session 18 (issue 4): information inside the last week (the panel gets add_intra_period's columns)
        **session18_variants(H),
    }
    models = {k: variants[k] for k in args.variants.split(",") if k}
    models.update(default_baselines(52 if T >= 52 + H + 8 else None))
    t0 = time.perf_counter()
    origins: int | list = args.origins
    if args.consecutive and args.start:
        weeks = pd.DatetimeIndex(sorted(panel["period_start"].unique()))
        s0 = int(weeks.searchsorted(pd.Timestamp(args.start)))
        origins = list(weeks[s0: s0 + args.origins])
    res = run_backtest(panel, models, origins=origins, horizon=H, start=args.start,
                       progress=lambda i, n, o: print(f"  origin {i}/{n} {o.date()} "
                                                      f"({time.perf_counter() - t0:.0f} s)", flush=True))
    ov = res.overall()
    cols = ["mae", "rmse", "wape", "poisson_deviance", "precision_top2pct", "precision_top5pct",
            "hitrate_top5pct", "pai_top5pct", "coverage"]
    print(f"\n{len(res.origins)} origins {res.origins[0].date()} … {res.origins[-1].date()}, horizons 1..{H}; "
          f"fit+predict seconds per model (all origins): "
          + ", ".join(f"{k} {v:.1f}" for k, v in res.fit_seconds.items())
          + "; CPU seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in res.fit_cpu_seconds.items()))
    print("\n| model | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for m, r in ov.iterrows():
        print(f"| {m} | " + " | ".join("–" if pd.isna(r.get(c)) else f"{r[c]:.4f}" for c in cols) + " |")
    base = [m for m in ov.index if m.startswith(("last_value", "mean_", "seasonal"))]
    for m in [k for k in models if k not in base and k in ov.index]:  # an excluded baseline has no row
        rb, ab = ov.loc[base, "rmse"].min(), ov.loc[base, "mae"].min()
        pb = ov.loc[base, "precision_top2pct"].max()
        print(f"{m}: RMSE {100 * (ov.loc[m, 'rmse'] / rb - 1):+.1f}% vs best baseline "
              f"({ov.loc[base, 'rmse'].idxmin()}), MAE {100 * (ov.loc[m, 'mae'] / ab - 1):+.1f}% "
              f"({ov.loc[base, 'mae'].idxmin()}), top-2% precision {ov.loc[m, 'precision_top2pct']:.3f} vs "
              f"{pb:.3f} ({ov.loc[base, 'precision_top2pct'].idxmax()})")
    per_h = res.metrics[(res.metrics["horizon"] != "all") & res.metrics["model"].isin(list(variants))]
    print("\nper horizon (RMSE): " + "; ".join(
        f"{m}: " + ", ".join(f"h{r.horizon} {r.rmse:.3f}" for r in g.itertuples())
        for m, g in per_h.groupby("model")))
    if args.top_series:
        print_top_series(res.predictions, next(k for k in models if k in variants), args.top_series)
    if args.by_holiday:
        print_holiday_split(res.predictions, list(models))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps({"dataset": args.dataset, "data": data, **res.to_dict()},
                                            ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
