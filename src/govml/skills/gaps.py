"""Gap diagnosis per worker × period × dimension × indicator, and the shortfall map.

For every indicator value present (missing values produce no row; they are listed by
:func:`govml.skills.assessments.prepare_assessments`):

* ``score`` / ``target`` — raw value and the area type's target, in the indicator's unit;
* ``gap`` — shortfall in the indicator's unit, **positive = below target** (``target - score`` when
  higher is better, ``score - target`` when lower is better); negative means the target is beaten;
* ``gap_points`` — the same shortfall on the 0–100 score scale (``norm(target) - norm(score)``),
  comparable across indicators; ``weight`` — the indicator's weight in the composite for the
  worker's area type; ``weighted_gap = weight × max(gap_points, 0)`` (composite points lost);
* ``peer_percentile`` — percentile (0–100, higher = better) of the worker's 0–100 score among
  workers of the same area type in the same period;
* ``periods_below`` — consecutive periods, up to and including this one, below target (a period
  without a value breaks the run);
* ``trend`` — least-squares slope of the 0–100 score over the worker's periods so far (points per
  period; 0 with a single period);
* ``flagged`` — below target now and for at least ``diagnosis.persistent_periods`` periods.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from govml.skills.indicators import IndicatorSystem
from govml.skills.scoring import IndicatorNormaliser

GAP_COLUMNS = ["worker_id", "period", "dimension", "indicator", "score", "target", "gap", "peer_percentile",
               "periods_below"]


def period_order(periods: pd.Series | list[str]) -> dict[str, int]:
    """Position of each period label in time order (labels like 2024Q1 or 2024-03 sort as text)."""
    return {p: k for k, p in enumerate(sorted(pd.unique(pd.Series(list(periods), dtype="string").dropna())))}


def diagnose_gaps(data: pd.DataFrame, system: IndicatorSystem,
                  normaliser: IndicatorNormaliser | None = None) -> pd.DataFrame:
    """Long gap table for every worker, period and indicator present in ``data`` (canonical wide)."""
    if normaliser is None:
        normaliser = IndicatorNormaliser(system).fit(data)
    area = data["area_type"] if "area_type" in data.columns else pd.Series(system.default_area_type, index=data.index)
    ids = ["worker_id", "community", "district", "area_type", "period"]
    base = data.assign(area_type=area)[[c for c in ids if c in data.columns or c == "area_type"]]
    porder = period_order(data["period"])
    frames = []
    dim_of = {i.id: i.dimension for i in system.indicators}
    weights = {a: system.overall_weights(a) for a in system.area_types}
    for ind in system.indicators:
        x = data[ind.id].to_numpy(dtype=float)
        ok = ~np.isnan(x)
        if not ok.any():
            continue
        a = area.to_numpy(dtype=object)[ok]
        xv = x[ok]
        t = normaliser.targets(ind.id, a)
        gap = (t - xv) if ind.direction == "higher" else (xv - t)
        s_norm = normaliser.scale(ind.id, xv, a)
        t_norm = normaliser.scale(ind.id, t, a)
        f = base.loc[ok].copy()
        f["dimension"] = dim_of[ind.id]
        f["indicator"] = ind.id
        f["score"] = xv
        f["target"] = t
        f["gap"] = gap
        f["score_points"] = s_norm
        f["gap_points"] = t_norm - s_norm
        f["weight"] = pd.Series(a).map(lambda v, _i=ind.id: weights[v][_i]).to_numpy(dtype=float)
        frames.append(f)
    g = pd.concat(frames, ignore_index=True)
    g["weighted_gap"] = g["weight"] * g["gap_points"].clip(lower=0)
    g["_t"] = g["period"].map(porder).astype(int)
    g["peer_percentile"] = 100.0 * g.groupby(["period", "area_type", "indicator"])["score_points"].rank(
        pct=True, method="average")
    g = g.sort_values(["worker_id", "indicator", "_t"]).reset_index(drop=True)
    below = (g["gap"] > 1e-9).to_numpy()
    t = g["_t"].to_numpy()
    same = (g["worker_id"].to_numpy(dtype=object)[1:] == g["worker_id"].to_numpy(dtype=object)[:-1]) & (
        g["indicator"].to_numpy(dtype=object)[1:] == g["indicator"].to_numpy(dtype=object)[:-1])
    contiguous = np.r_[False, same & (t[1:] == t[:-1] + 1)]
    run = np.zeros(len(g), dtype=int)
    for k in range(len(g)):  # linear pass; a vectorised cumsum trick is not worth the obscurity here
        run[k] = (run[k - 1] + 1 if contiguous[k] else 1) if below[k] else 0
    g["periods_below"] = run
    # expanding least-squares slope of score_points on period index, per worker × indicator
    key = g["worker_id"].astype(str) + "\x1f" + g["indicator"]
    grp = g.assign(_x=g["_t"].astype(float), _y=g["score_points"], _xy=g["_t"] * g["score_points"],
                   _xx=g["_t"].astype(float) ** 2, _n=1.0).groupby(key.to_numpy(), sort=False)
    cs = grp[["_x", "_y", "_xy", "_xx", "_n"]].cumsum()
    denom = cs["_n"] * cs["_xx"] - cs["_x"] ** 2
    g["trend"] = ((cs["_n"] * cs["_xy"] - cs["_x"] * cs["_y"]) / denom.where(denom > 0)).fillna(0.0)
    g["flagged"] = (g["gap"] > 1e-9) & (g["periods_below"] >= system.diagnosis.persistent_periods)
    names = system.names()
    g["indicator_name"] = g["indicator"].map(names)
    g["dimension_name"] = g["dimension"].map(names)
    g["unit"] = g["indicator"].map({i.id: i.unit for i in system.indicators})
    cols = GAP_COLUMNS + ["community", "district", "area_type", "dimension_name", "indicator_name", "unit",
                          "score_points", "gap_points", "weight", "weighted_gap", "trend", "flagged"]
    g = g.sort_values(["worker_id", "period", "indicator"]).reset_index(drop=True)
    order = {i: k for k, i in enumerate(system.indicator_ids)}
    g = g.iloc[np.lexsort((g["indicator"].map(order).to_numpy(), g["period"].map(porder).to_numpy(),
                           g["worker_id"].to_numpy(dtype=object).astype(str)))].reset_index(drop=True)
    return g[[c for c in cols if c in g.columns]]


def latest_period(gaps: pd.DataFrame) -> str:
    return max(gaps["period"].astype(str).unique())


def flagged_shortfalls(gaps: pd.DataFrame, period: str | None = None) -> pd.DataFrame:
    """Flagged (persistent) shortfalls in ``period`` (default: the latest period)."""
    period = period or latest_period(gaps)
    return gaps.loc[(gaps["period"] == period) & gaps["flagged"]].reset_index(drop=True)


def shortfall_matrix(gaps: pd.DataFrame, by: str = "community", period: str | None = None,
                     value: str = "gap_points", names: dict[str, str] | None = None,
                     max_rows: int | None = 40) -> pd.DataFrame:
    """Rows (``by``: community, district or worker_id) × indicators: mean positive shortfall.

    ``value="gap_points"`` (default) is on the 0–100 score scale so indicators compare; rows are
    sorted by total shortfall and cut to ``max_rows``; columns get Chinese names when ``names``
    (id → name, e.g. ``system.names()``) is given.
    """
    period = period or latest_period(gaps)
    g = gaps.loc[gaps["period"] == period]
    m = g.assign(_v=g[value].clip(lower=0)).pivot_table(index=by, columns="indicator", values="_v",
                                                         aggfunc="mean", observed=True)
    present = [c for c in pd.unique(gaps["indicator"]) if c in m.columns]
    m = m[present]
    m = m.loc[m.sum(axis=1).sort_values(ascending=False).index]
    if max_rows is not None:
        m = m.head(max_rows)
    if names:
        m = m.rename(columns=names)
    m.index = m.index.astype(str)
    m.columns.name = None
    return m
