"""Hierarchical (grouped) reconciliation of cell forecasts with forecasts of their sums (session 16, issue 4).

A panel's cells are area × category; their sums — each area's total, each category's total, the grand total — form
a grouped hierarchy. Forecasts made separately at every level are *incoherent* (the cells' forecasts do not add up
to the totals' forecasts); reconciliation maps all of them to coherent cell forecasts (Hyndman et al. 2011;
Wickramasuriya, Athanasopoulos & Hyndman 2019, "MinT"):

    ỹ_b = ŷ_b − (W_ba − W_bb Cᵀ) (U ᵀW U)⁻¹ (ŷ_a − C ŷ_b),     U = [I; −Cᵀ],

``C`` (aggregates × cells) the summing matrix below the aggregates, ``W`` the (nodes × nodes) covariance of the base
forecasts' errors, nodes ordered aggregates first, then cells. ``W`` by method: ``"ols"`` the identity, ``"wls_struct"``
the number of cells under each node (structural scaling), ``"wls_var"`` the base errors' variances (MinT with a
diagonal covariance), ``"mint_shrink"`` their covariance shrunk toward its diagonal (Schäfer & Strimmer's λ).
The variances come from errors made **before** the forecast origin (the forecaster's inner holdout): no leakage.
Only the aggregates' gaps ``ŷ_a − C ŷ_b`` are inverted, so the cost is cubic in the number of aggregates (areas +
categories + 1), not of cells. ``top_down`` is the cheap variant: each group's cells scaled to its total's forecast.

Reconciled cell forecasts can be negative (a cell's share of a gap exceeds its forecast); :func:`clip_negative`
sets them to 0 — the forecast is then a little above coherent (the clipped mass is reported).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from govml.errors import ModelError

log = logging.getLogger(__name__)

METHODS = ("ols", "wls_struct", "wls_var", "mint_shrink", "td_area", "td_category", "td_total")
_VAR_FLOOR = 1e-6  # relative floor of an error variance (a cell that was always 0 and forecast 0 has none)


def hierarchy(areas: np.ndarray, categories: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """The summing matrix ``C`` (aggregates × cells) of the grouped hierarchy total / area / category above the
    cells with codes ``areas`` and ``categories``, and each aggregate's label (``"total"``, ``"area:<code>"``,
    ``"category:<code>"``). A level that repeats another is left out: areas when every area has one cell (they are
    the cells), categories when there is one category (it is the total), and the same for areas."""
    areas = np.asarray(areas, dtype=np.int64)
    categories = np.asarray(categories, dtype=np.int64)
    m = len(areas)
    if len(categories) != m:
        raise ModelError(f"hierarchy: {m} area codes but {len(categories)} category codes")
    rows, labels = [np.ones(m)], ["total"]
    for name, codes in (("area", areas), ("category", categories)):
        groups = np.unique(codes)
        if len(groups) <= 1 or len(groups) == m:  # one group = the total; one cell a group = the cells
            continue
        for g in groups:
            rows.append((codes == g).astype(float))
            labels.append(f"{name}:{g}")
    return np.vstack(rows), labels


def shrink_covariance(E: np.ndarray) -> tuple[np.ndarray, float]:
    """Schäfer–Strimmer shrinkage of the (uncentred) covariance of the error rows ``E`` (n_obs × nodes) toward its
    diagonal, as in MinT-shrink (R ``hts::shrink.estim``): ``λ·D + (1 − λ)·Σ̂``; returns the matrix and ``λ``."""
    E = np.asarray(E, dtype=float)
    n = E.shape[0]
    cov = E.T @ E / n
    d = np.diag(cov).copy()
    floor = _VAR_FLOOR * max(float(d.mean()), 1e-12)
    sd = np.sqrt(np.maximum(d, floor))
    if n < 2:
        return np.diag(np.maximum(d, floor)), 1.0
    xs = E / sd
    cor = cov / np.outer(sd, sd)
    v = (xs.T**2 @ xs**2 - (xs.T @ xs) ** 2 / n) / (n * (n - 1))
    np.fill_diagonal(v, 0.0)
    off = cor**2
    np.fill_diagonal(off, 0.0)
    lam = float(min(1.0, max(0.0, v.sum() / off.sum()))) if off.sum() > 0 else 1.0
    W = (1.0 - lam) * cov
    W[np.diag_indices_from(W)] = np.maximum(d, floor)
    return W, lam


def error_covariance(method: str, C: np.ndarray, E: np.ndarray | None = None) -> np.ndarray:
    """``W`` (nodes × nodes, aggregates first) for ``method``; ``E`` (n_obs × nodes): past base-forecast errors."""
    na, m = C.shape
    if method == "ols":
        return np.eye(na + m)
    if method == "wls_struct":
        return np.diag(np.concatenate([C.sum(axis=1), np.ones(m)]))
    if E is None or len(E) == 0:
        raise ModelError(f"reconcile method {method!r} needs past forecast errors at every node")
    if method == "wls_var":
        d = np.mean(np.asarray(E, dtype=float) ** 2, axis=0)
        return np.diag(np.maximum(d, _VAR_FLOOR * max(float(d.mean()), 1e-12)))
    if method == "mint_shrink":
        return shrink_covariance(E)[0]
    raise ModelError(f"reconcile method must be one of {METHODS}, got {method!r}")


def reconcile(yb: np.ndarray, ya: np.ndarray, C: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Reconciled cell forecasts (cells × H) from the cells' ``yb`` (cells × H) and the aggregates' ``ya``
    (aggregates × H) base forecasts, ``W`` the nodes' error covariance (aggregates first). Not clipped."""
    na = C.shape[0]
    Waa, Wab, Wba, Wbb = W[:na, :na], W[:na, na:], W[na:, :na], W[na:, na:]
    WbbCt = Wbb @ C.T
    A = Waa - Wab @ C.T - C @ Wba + C @ WbbCt  # Uᵀ W U
    gap = ya - C @ yb
    return yb - (Wba - WbbCt) @ np.linalg.solve(A, gap)


def top_down(yb: np.ndarray, ya: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Each aggregate's cells (rows of ``C``, which must not overlap) scaled so that they sum to its forecast;
    cells in no aggregate, or in one whose cells are all forecast 0, keep their forecast."""
    out = np.array(yb, dtype=float, copy=True)
    for i in range(C.shape[0]):
        sel = C[i] > 0
        tot = yb[sel].sum(axis=0)
        scale = np.where(tot > 0, ya[i] / np.where(tot > 0, tot, 1.0), 1.0)
        out[sel] = yb[sel] * scale
    return out


def clip_negative(yb: np.ndarray) -> tuple[np.ndarray, float]:
    """Negative reconciled forecasts set to 0, and the clipped mass as a share of the forecasts' total."""
    neg = float(-np.minimum(yb, 0.0).sum())
    return np.maximum(yb, 0.0), neg / max(float(np.abs(yb).sum()), 1e-12)


# -- the forecaster's option (HotspotForecaster(reconcile=...)) ------------------------------------------------------
NEEDS_ERRORS = ("wls_var", "mint_shrink")


def aggregate_panel(panel: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """``panel`` summed to one series per ``by`` (``"area"``, ``"category"``) or to the grand total (``None``);
    the other key is ``"all"`` (districts and exposure are not carried: the totals are not one district's). The
    counts from inside the periods (``tail_k``, ``open_end``: :func:`govml.hotspot.panel.add_intra_period`) are
    counts of the same events and are summed with ``y``, so the aggregate models can use the same options."""
    keys = [by, "period_start"] if by else ["period_start"]
    counts = ["y"] + [c for c in panel.columns if c == "open_end" or (c.startswith("tail_") and c[5:].isdigit())]
    g = panel.groupby(keys, observed=True, sort=True)[counts].sum().reset_index()
    for k in ("area", "category"):
        if k != by:
            g[k] = "all"
    g[by or "area"] = g[by or "area"].astype(str)
    return g[["area", "category", "period_start", *counts]]


def _holdout_errors(model: Any) -> dict[int, np.ndarray]:
    """The inner holdout's errors of a fitted forecaster, per horizon: (holdout origins × series), in origin order."""
    S = len(model.keys_)
    return {h: (v[1] - v[0]).reshape(-1, S) for h, v in sorted(model.hotspot_holdout_.items())}


def fit_reconciliation(model: Any, panel: pd.DataFrame) -> None:
    """Fit ``model``'s reconciliation (``model.reconcile``, one of :data:`METHODS`) after ``model`` itself was
    fitted on ``panel``: the same forecaster (``reconcile=None``) on each aggregate level of the hierarchy, and ``W``
    from the inner-holdout errors of all of them (origins before the panel's end only). Sets ``reconcile_``
    (``None`` where there is nothing to reconcile: one cell) and leaves ``hotspot_holdout_`` as the model keeps it."""
    from sklearn.base import clone

    from govml.hotspot.panel import as_panel

    method = model.reconcile
    if method not in METHODS:
        raise ModelError(f"reconcile must be None or one of {METHODS}, got {method!r}")
    keys = model.keys_
    holdout = dict(model.hotspot_holdout_)  # the inner holdout's means: p_hotspot's map is refitted on them reconciled
    errors = _holdout_errors(model) if method in NEEDS_ERRORS else {}
    if not model._keep_hotspot_holdout:
        model.hotspot_holdout_ = {}
    model.reconcile_ = None
    if len(keys) < 2:
        return
    C, labels = hierarchy(model.level_areas_, model.level_groups_)
    if method.startswith("td_") and not any(lab.split(":")[0] == method[3:] for lab in labels):
        return  # that level repeats another here (one category, or one cell an area): nothing to scale to
    panel = as_panel(panel)
    names = {"area": keys["area"].astype(str).to_numpy(), "category": keys["category"].astype(str).to_numpy()}
    fits: dict[str, Any] = {}
    rows: list[tuple[str, int]] = []
    for lab in labels:
        lev = lab.split(":")[0]
        if lev not in fits:
            sub = clone(model).set_params(reconcile=None)
            sub._keep_hotspot_holdout = True  # its holdout means: W (NEEDS_ERRORS) and the reconciled holdout
            fits[lev] = sub.fit(aggregate_panel(panel, None if lev == "total" else lev))
        if lev == "total":
            rows.append((lev, 0))
            continue
        first = int(np.flatnonzero((model.level_areas_ if lev == "area" else model.level_groups_)
                                   == int(lab.split(":")[1]))[0])
        want = names[lev][first]
        rows.append((lev, int(np.flatnonzero(fits[lev].keys_[lev].astype(str).to_numpy() == want)[0])))
    W = None
    if method in NEEDS_ERRORS:
        agg_err = {lev: _holdout_errors(f) for lev, f in fits.items()}
        hs = [h for h in errors if all(h in e for e in agg_err.values())]
        if not hs:
            log.warning("reconcile=%r: no inner holdout to estimate the error covariance on; structural "
                        "weights (wls_struct) instead", method)
        else:
            E = np.vstack([np.column_stack([*(agg_err[lev][h][:, i] for lev, i in rows), errors[h]]) for h in hs])
            W = error_covariance(method, C, E)
    if W is None and not method.startswith("td_"):
        W = error_covariance("wls_struct" if method in NEEDS_ERRORS else method, C)
    model.reconcile_ = {"C": C, "labels": labels, "rows": rows, "models": fits, "W": W, "method": method}
    model.reconcile_["hotspot_map"] = _refit_hotspot_maps(model, holdout)
    for f in fits.values():  # the aggregate models keep no holdout
        f.hotspot_holdout_ = {}


def _reconciled(rec: dict[str, Any], mu: np.ndarray, ya: np.ndarray) -> np.ndarray:
    """The cells' means ``mu`` (cells × columns) reconciled with the aggregates' ``ya`` (aggregates × columns, in
    ``rec["rows"]`` order) as ``rec`` says; negative cells clipped to 0."""
    C = rec["C"]
    if rec["method"].startswith("td_"):
        sel = [j for j, lab in enumerate(rec["labels"]) if lab.split(":")[0] == rec["method"][3:]]
        return top_down(mu, ya[sel], C[sel])
    return clip_negative(reconcile(mu, ya, C, rec["W"]))[0]


def _refit_hotspot_maps(model: Any, holdout: dict[int, tuple]) -> str:
    """Refit ``model``'s p_hotspot maps on its inner holdout's means **reconciled** with the aggregate models'
    holdout means at the same origins (the ones ``predict`` applies the maps to are reconciled). Returns what the maps
    were fitted on, for :meth:`describe`. ``W`` is the one fitted (for ``wls_var``/``mint_shrink`` from these same
    holdout errors: in-sample for the map's fit, never after the origin). Where a horizon's holdout cannot be
    reconciled the same way (no map, an aggregate model without the same origins), its map stays the one fitted on
    the unreconciled means, and that is said."""
    from govml.hotspot.forecast import HotspotMap

    rec = model.reconcile_
    maps = getattr(model, "hotspot_map_", {}) or {}
    if not maps or not holdout:
        return "no map (no inner holdout: uncalibrated p_hotspot from the reconciled mean)"
    S = len(model.keys_)
    done, kept = [], []
    for h in sorted(maps):
        if h not in holdout:
            kept.append(h)
            continue
        mu, obs, thr_rows, ref_rows = holdout[h]
        n_o = len(mu) // S
        agg: dict[str, np.ndarray] = {}
        for lev, f in rec["models"].items():
            hold = getattr(f, "hotspot_holdout_", {}).get(h)
            if hold is None or len(hold[0]) != n_o * len(f.keys_):
                break
            agg[lev] = hold[0].reshape(n_o, len(f.keys_))
        if len(agg) != len(rec["models"]):
            kept.append(h)
            continue
        ya = np.vstack([agg[lev][:, i] for lev, i in rec["rows"]])  # aggregates × origins
        mu_rec = _reconciled(rec, mu.reshape(n_o, S).T, ya).T.reshape(-1)
        model.hotspot_map_[h] = HotspotMap(model.hotspot_calibration, model.hotspot_dispersion).fit(
            mu_rec, obs, thr_rows, model.dispersion_[h], ref_rows)
        done.append(h)
    if kept:
        log.warning("reconcile=%r: p_hotspot's map at horizon(s) %s stays fitted on the unreconciled holdout means "
                    "(an aggregate model has no holdout at the same origins)", model.reconcile, kept)
    if not done:
        return "the unreconciled holdout means (the holdout could not be reconciled)"
    return ("the reconciled holdout means" if not kept else
            f"the reconciled holdout means (horizons {done}; unreconciled at {kept})")


def apply_reconciliation(model: Any, mu: np.ndarray) -> np.ndarray:
    """``mu`` (cells × H, the model's mean forecasts) reconciled with its aggregate models' forecasts; negative
    cells clipped to 0."""
    rec = getattr(model, "reconcile_", None)
    if rec is None:
        return mu
    H = mu.shape[1]
    preds = {lev: f.predict(H)["yhat_mean"].to_numpy().reshape(-1, H) for lev, f in rec["models"].items()}
    ya = np.vstack([preds[lev][i] for lev, i in rec["rows"]])
    return _reconciled(rec, mu, ya)


def describe_reconciliation(model: Any) -> dict[str, Any] | None:
    """What :meth:`HotspotForecaster.describe` says of the option: None when it is off."""
    method = getattr(model, "reconcile", None)
    if method is None:
        return None
    rec = getattr(model, "reconcile_", None)
    if rec is None:
        return {"method": method, "applied": False, "why": "nothing to reconcile (one cell, or the level to scale to "
                                                                  "repeats another)"}
    return {"method": method, "applied": True, "aggregates": len(rec["labels"]),
            "levels": sorted(rec["models"]),
            "hotspot_map_fitted_on": rec.get("hotspot_map", "the unreconciled holdout means (a model saved before "
                                                            "session 17)"),
            "explain": "explain() explains the cell model before reconciliation"}
