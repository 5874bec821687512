"""Rolling-origin backtests of the forecaster against simple baselines, and the metrics.

At every origin the panel is **cut** at the origin (periods after it are removed before any model
sees it), each model is fitted on the cut panel and forecasts ``1..horizon`` periods ahead, and the
forecasts are compared with what happened. Nothing after an origin can reach a forecast made at
it: the models never receive it (tests/hotspot/test_hotspot_leakage.py perturbs every later count
and checks the forecasts are identical), nor the series of areas and categories whose first event comes after
it (:func:`known_at`; the forecasts at an origin are those of ``hotspots forecast`` on the events up to it).

Metrics per model, per horizon and overall (``horizon = "all"``):
``mae``, ``rmse``, ``wape`` (sum |error| / sum actual), ``poisson_deviance`` (mean; forecasts
clipped at 1e-3), and the hotspot metrics of crime forecasting computed on each *map* (all cells
of one origin × horizon) and averaged over maps: ``precision_top{k}pct`` (share of the predicted
top-k% cells that are among the actual top-k% cells), ``hitrate_top{k}pct`` (share of all events
that fall in the predicted top-k% cells) and ``pai_top{k}pct`` (hit rate / share of cells flagged,
the Predictive Accuracy Index). Models with intervals add ``coverage`` and ``interval_width``.

Models with ``p_hotspot`` (the probability that a cell exceeds its hotspot ``threshold``) add its scores
(:func:`hotspot_metrics`): ``hotspot_events`` (forecasts whose cell did exceed), ``hotspot_rate``,
``hotspot_p_mean``, ``hotspot_brier``, ``hotspot_log_loss`` (probabilities clipped to
[1e-4, 1 − 1e-4]), ``hotspot_ece`` (expected calibration error over 10 equal-width bins) and, against
the **reference** ``p_ref`` that needs no model — each cell's own past exceedance rate of that threshold at
the origin, ``(k + 0.5) / (n + 1)`` over its ``n`` periods since the data start up to the origin
(:func:`hotspot_reference`) — ``hotspot_brier_ref``, ``hotspot_log_loss_ref`` and the skills
``hotspot_brier_skill = 1 − brier / brier_ref`` (> 0: better than the reference), ``hotspot_log_loss_skill``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from govml.errors import DataError, ModelError
from govml.hotspot.panel import as_panel, panel_matrix, truncate

log = logging.getLogger(__name__)

TOPK_PCTS = (2, 5)


# -- metric functions ----------------------------------------------------------------------------
def poisson_deviance(y: np.ndarray, yhat: np.ndarray, eps: float = 1e-3) -> float:
    y = np.asarray(y, dtype=float)
    mu = np.maximum(np.asarray(yhat, dtype=float), eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(np.mean(2.0 * (term - (y - mu))))


def top_k_metrics(y: np.ndarray, yhat: np.ndarray, pct: float) -> dict[str, float]:
    """Precision, hit rate and PAI of the predicted top ``pct``% cells of one map.

    ``k = ceil(pct/100 × cells)``. A cell is in the actual top k when its count is above the k-th largest count,
    or equal to it and > 0 (cells tied with the k-th are equally "top": which of them a sort puts first is
    arbitrary). The flagged cells are the k with the largest forecasts; where forecasts tie at the k-th largest
    (a baseline's whole counts and equal means do, often), the slots left are shared equally among the tied cells
    (:func:`flag_weights`): each metric is its **expected value over a random order of the ties**, so it does not
    depend on the order of the cells (on how areas and categories are spelled: a stable sort in cell order moved
    the Boston baselines' top-2 % precision by up to 0.011 under a renaming, the sample's seasonal naive by 0.06).
    Precision = flagged cells in the actual top k / k; hit rate = events in the flagged cells / all events;
    PAI = hit rate / (k / cells).
    """
    y = np.asarray(y, dtype=float)
    yhat = np.asarray(yhat, dtype=float)
    n = len(y)
    k = max(1, math.ceil(pct / 100.0 * n))
    w = flag_weights(yhat, k)
    kth = np.partition(y, n - k)[n - k]  # the k-th largest count
    top = (y > kth) | ((y == kth) & (kth > 0))
    total = y.sum()
    hit_rate = float(np.dot(w, y) / total) if total > 0 else float("nan")
    return {
        f"precision_top{pct:g}pct": min(float(np.dot(w, top)), float(k)) / k,
        f"hitrate_top{pct:g}pct": hit_rate,
        f"pai_top{pct:g}pct": hit_rate / (k / n) if total > 0 else float("nan"),
    }


def flag_weights(score: np.ndarray, k: int) -> np.ndarray:
    """How much of a flag each cell gets when the ``k`` cells with the largest ``score`` are flagged: 1 above the
    k-th largest score, 0 below it, and for the cells tied at it an equal share of the slots left (the chance a
    random order of the ties flags each). Sums to ``k``; independent of the order of the cells. NaN scores count
    as the lowest."""
    s = np.nan_to_num(np.asarray(score, dtype=float), nan=-np.inf)
    n = len(s)
    k = min(max(int(k), 0), n)
    w = np.zeros(n)
    if k == 0:
        return w
    kth = np.partition(s, n - k)[n - k]
    above = s > kth
    tied = s == kth
    w[above] = 1.0
    w[tied] = (k - int(above.sum())) / int(tied.sum())
    return w


def point_metrics(y: np.ndarray, yhat: np.ndarray) -> dict[str, float]:
    y = np.asarray(y, dtype=float)
    yhat = np.asarray(yhat, dtype=float)
    err = yhat - y
    tot = np.abs(y).sum()
    return {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "wape": float(np.abs(err).sum() / tot) if tot > 0 else float("nan"),
        "poisson_deviance": poisson_deviance(y, yhat),
    }


def evaluate(preds: pd.DataFrame, pcts: Sequence[float] = TOPK_PCTS) -> pd.DataFrame:
    """Metrics per model × horizon and per model overall (``horizon == "all"``).

    ``preds`` has ``model, origin, horizon, y, yhat`` (and ``yhat_lo, yhat_hi`` for coverage). Where
    a model also gives its predictive mean (``yhat_mean``: govml's point ``yhat`` is shifted toward
    the median to lower MAE), the Poisson deviance — a score of a mean — and the top-k rankings use
    that mean; MAE, RMSE and WAPE always score ``yhat``.
    """
    rows = []
    for (model, h), g in list(preds.groupby(["model", "horizon"], sort=True)) + [
        ((m, "all"), g) for m, g in preds.groupby("model", sort=True)
    ]:
        rows.append({"model": model, "horizon": str(h), **_metrics_block(g, pcts)})
    return pd.DataFrame(rows)


def _metrics_block(g: pd.DataFrame, pcts: Sequence[float]) -> dict[str, float]:
    m: dict[str, float] = point_metrics(g["y"].to_numpy(), g["yhat"].to_numpy())
    rank_col = "yhat"
    if "yhat_mean" in g.columns and g["yhat_mean"].notna().all():
        rank_col = "yhat_mean"
        m["poisson_deviance"] = poisson_deviance(g["y"].to_numpy(), g["yhat_mean"].to_numpy())
    maps = [topk for _, mg in g.groupby(["origin", "horizon"], sort=False)
            for topk in [{k: v for pct in pcts for k, v in top_k_metrics(mg["y"].to_numpy(),
                                                                          mg[rank_col].to_numpy(), pct).items()}]]
    if maps:
        mm = pd.DataFrame(maps).mean(numeric_only=True)
        m.update({k: float(v) for k, v in mm.items()})
    if {"yhat_lo", "yhat_hi"} <= set(g.columns) and g["yhat_lo"].notna().any():
        inside = (g["y"] >= g["yhat_lo"]) & (g["y"] <= g["yhat_hi"])
        m["coverage"] = float(inside.mean())
        m["interval_width"] = float((g["yhat_hi"] - g["yhat_lo"]).mean())
    if {"p_hotspot", "threshold"} <= set(g.columns) and g["p_hotspot"].notna().any():
        m.update(hotspot_metrics(g))
    m["n"] = int(len(g))
    return m


# -- p_hotspot: scores, reference, reliability ------------------------------------------------------
LOG_LOSS_EPS = 1e-4
RELIABILITY_BINS = 10
#: size bands of the forecast mean for the reliability table (the intervals' bands, forecast._BIN_EDGES)
HOTSPOT_BANDS = (0.25, 1.0, 3.0, 10.0, 30.0)


def brier_score(p: np.ndarray, event: np.ndarray) -> float:
    """Mean squared difference between the probabilities and the 0/1 outcomes."""
    p, e = np.asarray(p, dtype=float), np.asarray(event, dtype=float)
    return float(np.mean((p - e) ** 2))


def log_loss(p: np.ndarray, event: np.ndarray, eps: float = LOG_LOSS_EPS) -> float:
    """Mean negative log-likelihood of the 0/1 outcomes, probabilities clipped to ``[eps, 1 − eps]``
    (a probability of exactly 0 for an event that happens would make it infinite)."""
    p = np.clip(np.asarray(p, dtype=float), eps, 1.0 - eps)
    e = np.asarray(event, dtype=float)
    return float(-np.mean(e * np.log(p) + (1.0 - e) * np.log1p(-p)))


def expected_calibration_error(p: np.ndarray, event: np.ndarray, bins: int = RELIABILITY_BINS) -> float:
    """Σ_bins (n_b / n) · |mean p_b − observed frequency_b| over ``bins`` equal-width bins of ``p``."""
    p, e = np.asarray(p, dtype=float), np.asarray(event, dtype=float)
    if len(p) == 0:
        return float("nan")
    b = np.minimum((p * bins).astype(int), bins - 1)
    n = np.bincount(b, minlength=bins)
    gap = np.abs(np.bincount(b, weights=p, minlength=bins) - np.bincount(b, weights=e, minlength=bins))
    return float(gap.sum() / n.sum())


def hotspot_metrics(g: pd.DataFrame, p_col: str = "p_hotspot") -> dict[str, float]:
    """Scores of ``p_col`` against the hotspot outcome ``y > threshold`` (rows where it is given); with a
    ``p_ref`` column, the reference's scores and the skills (see the module docstring)."""
    g = g[g[p_col].notna() & g["threshold"].notna()]
    event = (g["y"] > g["threshold"]).to_numpy(dtype=float)
    p = g[p_col].to_numpy(dtype=float)
    out = {"hotspot_events": float(event.sum()), "hotspot_rate": float(event.mean()) if len(event) else float("nan"),
           "hotspot_p_mean": float(p.mean()) if len(p) else float("nan"),
           "hotspot_brier": brier_score(p, event), "hotspot_log_loss": log_loss(p, event),
           "hotspot_ece": expected_calibration_error(p, event)}
    if "p_ref" in g.columns and g["p_ref"].notna().all() and len(g):
        r = g["p_ref"].to_numpy(dtype=float)
        out["hotspot_brier_ref"] = brier_score(r, event)
        out["hotspot_log_loss_ref"] = log_loss(r, event)
        out["hotspot_brier_skill"] = (1.0 - out["hotspot_brier"] / out["hotspot_brier_ref"]
                                      if out["hotspot_brier_ref"] > 0 else float("nan"))
        out["hotspot_log_loss_skill"] = (1.0 - out["hotspot_log_loss"] / out["hotspot_log_loss_ref"]
                                         if out["hotspot_log_loss_ref"] > 0 else float("nan"))
    return out


def hotspot_reference(cut: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """The no-model reference probability for each row of ``rows`` (``area, category, threshold``):
    the cell's past exceedance rate of the row's threshold, ``(k + 0.5) / (n + 1)``, ``k`` of its ``n``
    periods in ``cut`` (the panel cut at the origin: nothing after it) since the data start
    (:func:`govml.hotspot.forecast.data_start`, as the forecaster's threshold) above the threshold.
    The ``+ 0.5 / + 1`` (Krichevsky–Trofimov) keeps a cell that never exceeded off exactly 0. NaN for
    rows without a threshold or whose cell is not in ``cut``."""
    from govml.hotspot.forecast import data_start

    y, keys, _ = panel_matrix(cut)
    y = y[:, data_start(y):]
    idx = pd.MultiIndex.from_arrays([keys["area"].astype(str), keys["category"].astype(str)])
    pos = idx.get_indexer(pd.MultiIndex.from_arrays([rows["area"].astype(str), rows["category"].astype(str)]))
    thr = rows["threshold"].to_numpy(dtype=float)
    out = np.full(len(rows), np.nan)
    ok = (pos >= 0) & np.isfinite(thr)
    if ok.any() and y.shape[1] > 0:
        k = (y[pos[ok]] > thr[ok, None]).sum(axis=1)
        out[ok] = (k + 0.5) / (y.shape[1] + 1.0)
    return out


def hotspot_calibration(preds: pd.DataFrame, bins: int = RELIABILITY_BINS, by: str | None = None,
                        p_col: str = "p_hotspot") -> pd.DataFrame:
    """Reliability table of ``p_col`` against observed ``y > threshold`` in backtest forecasts.

    One row per bin of ``bins`` equal-width bins of the probability: ``mean_p``, ``observed`` (the
    hotspot frequency), ``n``. ``by="band"`` adds a ``band`` column, the size band of the forecast mean
    (``yhat_mean`` where given, else ``yhat``; bands split at :data:`HOTSPOT_BANDS`, labelled
    ``"<0.25"``, ``"0.25–1"`` … ``">=30"``), ``by="horizon"`` a ``horizon`` column: a table per group.
    """
    g = preds.dropna(subset=[p_col])
    if g.empty:
        raise DataError(message=f"no {p_col} in these predictions")
    hit = (g["y"] > g["threshold"]).astype(float)
    b = np.minimum((g[p_col].to_numpy() * bins).astype(int), bins - 1)
    t = pd.DataFrame({"bin": b, "p": g[p_col].to_numpy(), "hit": hit.to_numpy()})
    keys = ["bin"]
    if by == "band":
        t.insert(0, "band", size_band(g))
        keys = ["band", "bin"]
    elif by == "horizon":
        t.insert(0, "horizon", g["horizon"].to_numpy())
        keys = ["horizon", "bin"]
    elif by is not None:
        raise DataError(message=f"by must be None, 'band' or 'horizon', got {by!r}")
    out = t.groupby(keys, sort=True).agg(mean_p=("p", "mean"), observed=("hit", "mean"),
                                         n=("hit", "size")).reset_index()
    return out


def size_band(g: pd.DataFrame) -> np.ndarray:
    """The size band label of each forecast (its mean ``yhat_mean`` where given, else ``yhat``)."""
    col = "yhat_mean" if "yhat_mean" in g.columns and g["yhat_mean"].notna().all() else "yhat"
    edges = HOTSPOT_BANDS
    labels = [f"<{edges[0]:g}"] + [f"{a:g}–{b:g}" for a, b in zip(edges[:-1], edges[1:], strict=True)] + [
        f">={edges[-1]:g}"]
    return np.asarray(labels, dtype=object)[np.searchsorted(edges, g[col].to_numpy(dtype=float), side="right")]


def hotspot_reliability(preds: pd.DataFrame, bins: int = RELIABILITY_BINS) -> dict[str, Any]:
    """Per model with ``p_hotspot``: the reliability table (``bins`` bins) and, per size band of the
    forecast mean and per horizon, the scores of :func:`hotspot_metrics` (for metrics.json)."""
    out: dict[str, Any] = {}
    if "p_hotspot" not in preds.columns:
        return out
    for model, g in preds.groupby("model", sort=True):
        g = g[g["p_hotspot"].notna()]
        if g.empty:
            continue
        table = hotspot_calibration(g, bins)
        bands = {}
        for band, gb in g.assign(_band=size_band(g)).groupby("_band", sort=False):
            bands[str(band)] = {"n": int(len(gb)), **hotspot_metrics(gb)}
        order = [f"<{HOTSPOT_BANDS[0]:g}"] + [f"{a:g}–{b:g}" for a, b in zip(HOTSPOT_BANDS[:-1], HOTSPOT_BANDS[1:],
                                                                                strict=True)] + [f">={HOTSPOT_BANDS[-1]:g}"]
        out[str(model)] = {
            "bins": [{k: (int(v) if k in ("bin", "n") else float(v)) for k, v in r.items()}
                     for r in table.to_dict("records")],
            "bands": {b: bands[b] for b in order if b in bands},
        }
    return out


# -- the backtest ------------------------------------------------------------------------------
@dataclass
class BacktestResult:
    """Metrics (model × horizon, with ``"all"``), per-origin metrics, and every forecast."""

    metrics: pd.DataFrame
    per_origin: pd.DataFrame
    predictions: pd.DataFrame
    origins: list[pd.Timestamp]
    horizon: int
    excluded_models: dict[str, str] = field(default_factory=dict)
    fit_seconds: dict[str, float] = field(default_factory=dict)
    fit_cpu_seconds: dict[str, float] = field(default_factory=dict)
    #: what the backtest says about its origins (series not yet known at an origin, :func:`known_at`)
    notes: list[str] = field(default_factory=list)

    def overall(self) -> pd.DataFrame:
        """One row per model: the overall metrics."""
        return self.metrics[self.metrics["horizon"] == "all"].set_index("model").drop(columns="horizon")

    def best_baseline(self, metric: str = "rmse", models: Sequence[str] | None = None) -> str:
        ov = self.overall()
        base = list(models) if models is not None else [
            m for m in ov.index if str(m).startswith(BASELINE_NAMES_PREFIXES)]
        return str(ov.loc[base, metric].idxmin())

    def to_dict(self) -> dict[str, Any]:
        def clean(v: Any) -> Any:
            if isinstance(v, float) and not math.isfinite(v):
                return None
            return v

        by_model: dict[str, Any] = {}
        for _, r in self.metrics.iterrows():
            d = {k: clean(v) for k, v in r.items() if k not in ("model", "horizon")}
            by_model.setdefault(r["model"], {})["all" if r["horizon"] == "all" else f"h{r['horizon']}"] = d
        return {
            "horizon": self.horizon,
            "origins": [str(pd.Timestamp(o).date()) for o in self.origins],
            "metrics": by_model,
            "per_origin": [{k: clean(v) if not isinstance(v, pd.Timestamp) else str(v.date())
                            for k, v in r.items()} for r in self.per_origin.to_dict("records")],
            "excluded_models": dict(self.excluded_models),
            "fit_seconds": {k: round(v, 3) for k, v in self.fit_seconds.items()},
            "fit_cpu_seconds": {k: round(v, 3) for k, v in self.fit_cpu_seconds.items()},
            "hotspot_reliability": _clean_nested(hotspot_reliability(self.predictions), clean),
        }


BASELINE_NAMES_PREFIXES = ("last_value", "mean_", "seasonal_naive")


def _clean_nested(v: Any, clean: Callable[[Any], Any]) -> Any:
    if isinstance(v, dict):
        return {k: _clean_nested(x, clean) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean_nested(x, clean) for x in v]
    return clean(v)


def choose_origins(periods: pd.DatetimeIndex, horizon: int, n_origins: int = 8,
                   start: pd.Timestamp | str | None = None, min_history: int = 8) -> list[pd.Timestamp]:
    """``n_origins`` origins: the last ones whose ``horizon`` targets are all observed, or — with
    ``start`` — spread evenly from the first period on/after ``start`` to the last usable one."""
    last = len(periods) - 1 - horizon
    first_ok = min_history - 1
    if last < first_ok:
        raise DataError(message=f"too little history for a backtest: {len(periods)} periods, need at least "
                        f"{min_history + horizon} ({min_history} to train + {horizon} to score)")
    if start is not None:
        s = int(periods.searchsorted(pd.Timestamp(start)))
        s = max(s, first_ok)
        if s > last:
            raise DataError(message=f"start={pd.Timestamp(start).date()} (--start) leaves no origin with {horizon} "
                            f"observed periods after it (last usable origin: {periods[last].date()})")
        idx = np.unique(np.linspace(s, last, num=min(n_origins, last - s + 1)).round().astype(int))
    else:
        lo = max(first_ok, last - n_origins + 1)
        idx = np.arange(lo, last + 1)
    return [periods[i] for i in idx]


def known_at(cut: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The panel cut at an origin (:func:`truncate`) as the events up to that origin make it: without the areas and
    the categories that have no event yet, and their series.

    A dense panel crosses every area with every category of the **whole** data, so its cut still holds the series of
    an area or a category that first appears after the origin (zeros up to it). Those series are information from
    after the origin: a forecaster that pools over series (means per series, the level weights, the calibration)
    reads them, so adding a new category's events a week after an origin changed the forecasts made at it for every
    other series — and a forecast made on that date could not have known of them. Without them the cut is the panel
    :func:`govml.hotspot.panel.build_panel` makes from the events up to the origin (``hotspots forecast`` on the data
    up to the origin gives the backtest's forecasts there, bit for bit). Returns the cut (the same object when every
    area and category has an event up to it), and the names of the areas and categories left out."""
    gone: dict[str, list[str]] = {"area": [], "category": []}
    keep = np.ones(len(cut), dtype=bool)
    y = cut["y"].to_numpy(dtype=float)
    for col in ("area", "category"):
        codes = cut[col].cat.codes.to_numpy()
        n_names = len(cut[col].cat.categories)
        seen = np.bincount(codes, weights=y, minlength=n_names) > 0
        present = np.bincount(codes, minlength=n_names) > 0
        unseen = present & ~seen
        if unseen.any():
            gone[col] = [str(cut[col].cat.categories[i]) for i in np.flatnonzero(unseen)]
            keep &= seen[codes]
    if keep.all():
        return cut, [], []
    out = cut.loc[keep].reset_index(drop=True)
    for col in ("area", "category", "district"):
        if col in out.columns and isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].cat.remove_unused_categories()
    return out, gone["area"], gone["category"]


def run_backtest(
    panel: pd.DataFrame,
    models: Mapping[str, Any],
    origins: Sequence[pd.Timestamp | str] | int = 8,
    horizon: int = 4,
    *,
    start: pd.Timestamp | str | None = None,
    progress: Callable[[int, int, pd.Timestamp], None] | None = None,
    pcts: Sequence[float] = TOPK_PCTS,
) -> BacktestResult:
    """Rolling-origin backtest.

    ``models`` maps a name to an unfitted forecaster (``fit(panel) -> self``,
    ``predict(horizon) -> DataFrame``); each origin gets a fresh :func:`sklearn.base.clone`.
    ``origins`` is a list of period starts or a count (see :func:`choose_origins`). A model that
    cannot be fitted at an origin (e.g. seasonal naive without a season of history) is left out of
    that origin and named in ``excluded_models`` with the reason. ``progress(i, n, origin)`` is
    called after each origin (the CLI draws a progress bar with it).
    """
    import time

    panel = as_panel(panel)  # an analyst's panel (Arrow, text keys, a time zone, any order) as build_panel makes it
    y, keys, periods = panel_matrix(panel)
    if isinstance(origins, int):
        origins = choose_origins(periods, horizon, origins, start=start)
    origins = [pd.Timestamp(o) for o in origins]
    for o in origins:
        if o not in periods:
            raise DataError(message=f"origin {o.date()} is not a period start of the panel")
    actual = panel[["area", "category", "period_start", "y"]]
    frames = []
    per_origin = []
    excluded: dict[str, str] = {}
    unfitted: dict[str, int] = {}  # origins each model could not be fitted at
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}  # process CPU time: a fairer comparison than wall time on a busy machine
    notes: list[str] = []
    for i, origin in enumerate(origins):
        cut, new_areas, new_cats = known_at(truncate(panel, origin))  # nothing the origin could not know
        if new_areas or new_cats:
            said = "; ".join(f"{w} {', '.join(map(repr, v[:3]))}{f' and {len(v) - 3} more' if len(v) > 3 else ''}"
                             for w, v in (("area(s)", new_areas), ("category(ies)", new_cats)) if v)
            notes.append(f"origin {origin.date()}: {said} have no event up to it and are not forecast there "
                         "(their first events come later: a forecast made then could not know them)")
        at_origin = []
        for name, proto in models.items():
            est = clone(proto)
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                est.fit(cut)
            except ModelError as exc:
                excluded.setdefault(name, f"not fitted at {origin.date()}: {exc}")
                unfitted[name] = unfitted.get(name, 0) + 1
                continue
            fc = est.predict(horizon)
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t0
            cpu[name] = cpu.get(name, 0.0) + time.process_time() - c0
            fc = fc.assign(model=name, origin=origin)
            at_origin.append(fc)
        if not at_origin:
            raise ModelError(f"no model could be fitted at origin {origin.date()}")
        fo = pd.concat(at_origin, ignore_index=True)
        fo = fo.merge(actual, on=["area", "category", "period_start"], how="inner")
        if {"p_hotspot", "threshold"} <= set(fo.columns) and fo["p_hotspot"].notna().any():
            fo["p_ref"] = hotspot_reference(cut, fo)  # the no-model reference, from the cut panel only
        frames.append(fo)
        for name, g in fo.groupby("model", sort=True):
            per_origin.append({"model": name, "origin": origin, "step": i, **_metrics_block(g, pcts)})
        if progress is not None:
            progress(i + 1, len(origins), origin)
    preds = pd.concat(frames, ignore_index=True)
    for name in list(excluded):
        if name in set(preds["model"]):
            n_fit = len(origins) - unfitted.get(name, 0)
            excluded[name] = excluded[name] + (f" (not fitted at {unfitted.get(name, 0)} of {len(origins)} origins; "
                                               f"its metrics cover the other {n_fit} only)")
    cols = ["model", "origin", "area", "category", "period_start", "horizon", "y", "yhat"]
    extra = [c for c in ("yhat_mean", "yhat_lo", "yhat_hi", "p_hotspot", "threshold", "p_ref") if c in preds.columns]
    # alternative probabilities a model may give for comparison (p_hotspot_<name>; benchmarks)
    extra += sorted(c for c in preds.columns if str(c).startswith("p_hotspot_"))
    preds = preds[cols + extra]
    metrics = evaluate(preds, pcts)
    return BacktestResult(metrics=metrics, per_origin=pd.DataFrame(per_origin), predictions=preds,
                          origins=origins, horizon=horizon, excluded_models=excluded, fit_seconds=seconds,
                          fit_cpu_seconds=cpu, notes=notes)


def default_models(horizon: int = 4, season: int | None = 52, **forecaster_params: Any) -> dict[str, Any]:
    """``govml`` (the default :class:`HotspotForecaster`) and the baselines."""
    from govml.hotspot.baselines import default_baselines
    from govml.hotspot.forecast import HotspotForecaster

    return {"govml": HotspotForecaster(horizon=horizon, **forecaster_params), **default_baselines(season)}


def compare_to_baselines(result: BacktestResult, model: str = "govml") -> dict[str, Any]:
    """``model`` against the best baseline on each headline metric (the champion gate's input).

    Per metric: the model's value, the best baseline's name and value, the relative change and
    which direction is better. Empty when ``model`` is not in the result.
    """
    ov = result.overall()
    if model not in ov.index:
        return {}
    base = [m for m in ov.index if str(m).startswith(BASELINE_NAMES_PREFIXES)]
    out: dict[str, Any] = {}
    for metric, better in (("mae", "lower"), ("rmse", "lower"), ("wape", "lower"),
                           ("poisson_deviance", "lower"), ("precision_top2pct", "higher"),
                           ("precision_top5pct", "higher")):
        col = ov.loc[base, metric].dropna() if base else pd.Series(dtype=float)
        if col.empty:
            continue
        best = col.idxmin() if better == "lower" else col.idxmax()
        g, b = float(ov.loc[model, metric]), float(col[best])
        out[metric] = {model: g, "best_baseline": str(best), "baseline": b,
                       "relative_change": (g - b) / b if b else None, "better": better}
    if "coverage" in ov.columns and pd.notna(ov.loc[model, "coverage"]):
        out["coverage"] = float(ov.loc[model, "coverage"])
    return out
