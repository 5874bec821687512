"""Rolling-origin backtests of the forecaster against simple baselines, and the metrics.

At every origin the panel is **cut** at the origin (periods after it are removed before any model
sees it), each model is fitted on the cut panel and forecasts ``1..horizon`` periods ahead, and the
forecasts are compared with what happened. Nothing after an origin can reach a forecast made at
it: the models never receive it (tests/hotspot/test_hotspot_leakage.py perturbs every later count
and checks the forecasts are identical).

Metrics per model, per horizon and overall (``horizon = "all"``):
``mae``, ``rmse``, ``wape`` (sum |error| / sum actual), ``poisson_deviance`` (mean; forecasts
clipped at 1e-3), and the hotspot metrics of crime forecasting computed on each *map* (all cells
of one origin × horizon) and averaged over maps: ``precision_top{k}pct`` (share of the predicted
top-k% cells that are among the actual top-k% cells), ``hitrate_top{k}pct`` (share of all events
that fall in the predicted top-k% cells) and ``pai_top{k}pct`` (hit rate / share of cells flagged,
the Predictive Accuracy Index). Models with intervals add ``coverage`` and ``interval_width``.
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
from govml.hotspot.panel import panel_matrix, truncate

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

    ``k = ceil(pct/100 × cells)``. The actual top-k set is the k cells with the most events
    (ties broken by cell order, as for the predictions: a stable sort). Precision = overlap / k;
    hit rate = events in the predicted top-k / all events; PAI = hit rate / (k / cells).
    """
    y = np.asarray(y, dtype=float)
    yhat = np.asarray(yhat, dtype=float)
    n = len(y)
    k = max(1, math.ceil(pct / 100.0 * n))
    pred_top = np.argsort(-yhat, kind="stable")[:k]
    act_top = np.argsort(-y, kind="stable")[:k]
    # an actual top-k cell must have at least one event; ties at the k-th value count as hits
    kth = y[act_top[-1]]
    hits_in_pred = y[pred_top]
    overlap = int(np.sum((hits_in_pred > kth) | ((hits_in_pred == kth) & (kth > 0))))
    overlap = min(overlap, k)
    total = y.sum()
    hit_rate = float(hits_in_pred.sum() / total) if total > 0 else float("nan")
    return {
        f"precision_top{pct:g}pct": overlap / k,
        f"hitrate_top{pct:g}pct": hit_rate,
        f"pai_top{pct:g}pct": hit_rate / (k / n) if total > 0 else float("nan"),
    }


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
    m["n"] = int(len(g))
    return m


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
        }


BASELINE_NAMES_PREFIXES = ("last_value", "mean_", "seasonal_naive")


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
            raise DataError(message=f"--start {pd.Timestamp(start).date()} leaves no origin with {horizon} "
                            f"observed periods after it (last usable origin: {periods[last].date()})")
        idx = np.unique(np.linspace(s, last, num=min(n_origins, last - s + 1)).round().astype(int))
    else:
        lo = max(first_ok, last - n_origins + 1)
        idx = np.arange(lo, last + 1)
    return [periods[i] for i in idx]


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
    for i, origin in enumerate(origins):
        cut = truncate(panel, origin)
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
    extra = [c for c in ("yhat_mean", "yhat_lo", "yhat_hi", "p_hotspot", "threshold") if c in preds.columns]
    preds = preds[cols + extra]
    metrics = evaluate(preds, pcts)
    return BacktestResult(metrics=metrics, per_origin=pd.DataFrame(per_origin), predictions=preds,
                          origins=origins, horizon=horizon, excluded_models=excluded, fit_seconds=seconds,
                          fit_cpu_seconds=cpu)


def default_models(horizon: int = 4, season: int | None = 52, **forecaster_params: Any) -> dict[str, Any]:
    """``govml`` (the default :class:`HotspotForecaster`) and the baselines."""
    from govml.hotspot.baselines import default_baselines
    from govml.hotspot.forecast import HotspotForecaster

    return {"govml": HotspotForecaster(horizon=horizon, **forecaster_params), **default_baselines(season)}


def hotspot_calibration(preds: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Reliability table of ``p_hotspot`` against observed ``y > threshold`` in backtest forecasts."""
    g = preds.dropna(subset=["p_hotspot"])
    if g.empty:
        raise DataError(message="no p_hotspot in these predictions")
    hit = (g["y"] > g["threshold"]).astype(float)
    b = np.minimum((g["p_hotspot"].to_numpy() * bins).astype(int), bins - 1)
    t = pd.DataFrame({"bin": b, "p": g["p_hotspot"].to_numpy(), "hit": hit.to_numpy()})
    out = t.groupby("bin").agg(mean_p=("p", "mean"), observed=("hit", "mean"), n=("hit", "size")).reset_index()
    return out


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
