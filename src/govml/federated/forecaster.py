"""Federated hotspot forecaster: histogram boosting over districts' own panels.

:class:`FederatedHotspotForecaster` follows the hotspot wing's forecaster protocol
(``fit(panel) -> self``, ``predict(horizon) -> frame``), so :func:`govml.hotspot.backtest.run_backtest`
scores it on the same origins as ``govml hotspots backtest`` scores the central LightGBM model.
Inside ``fit`` the panel is split by its ``district`` column and every district works on its own
series only:

1. features from :class:`govml.hotspot.features.FeatureBuilder` on the district's own series
   (lags, rolling means/stds, age, pooled district and area trends, calendar); the *citywide*
   pooled trends (``city_mean_*``, ``city_trend``) come from one secure sum of per-category count
   sums and series counts — the same values the central model computes on the pooled panel;
2. each boosting level, the district sends per node × feature × bin sums of the Poisson
   gradient, hessian and count (:func:`govml.federated.gbdt.local_histograms`) through pairwise
   masking (:mod:`govml.federated.secagg`); the sum of the masked vectors is the pooled histogram,
   so the trees are those a pooled fit with the same bins would grow;
3. optionally (``select_trees``, ``point="auto"``) the central model's inner-holdout choices — the
   number of trees, the negative-binomial dispersion and the point rule's weight per horizon — from
   two secure sums of the districts' holdout error sums (section "the central model's tree count and
   point rule", below).

Series identifiers (areas) never become features: they are district-specific. Bins are public
(log-spaced count bins, :meth:`BinEdges.counts`). This class runs the districts in one process
(simulation and backtests); the Flower app runs the same steps as messages (server_app
``_forecaster``), and with ``backtest-origins`` it also scores the backtest from sums the districts
compute on their own cells (:func:`point_sums`, :func:`counts_at_least`, :func:`top_hits`,
:class:`TopKSearch`, below) — the same metrics as :func:`govml.hotspot.backtest.evaluate`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from govml._compat import FillsMissingParams
from govml.errors import ModelError
from govml.federated.gbdt import BinEdges, Booster, GBDTParams, Tree, base_sums, fit, local_histograms

log = logging.getLogger(__name__)


def _window_mean(g: np.ndarray, w: int) -> np.ndarray:
    """Mean over the last ``w`` observed columns up to and including each column."""
    S, T = g.shape
    cs = np.concatenate([np.zeros((S, 1)), np.cumsum(g, axis=1)], axis=1)
    hi = np.arange(1, T + 1)
    lo = np.maximum(hi - w, 0)
    return (cs[:, hi] - cs[:, lo]) / np.minimum(np.arange(1, T + 1), w)[None, :]


def district_builder(y: np.ndarray, keys: pd.DataFrame, periods: pd.DatetimeIndex, spec: Any,
                     categories: list[str]) -> Any:
    """A district's FeatureBuilder with the agreed category list (so category codes agree)."""
    from govml.hotspot.features import FeatureBuilder

    keys = keys.reset_index(drop=True).copy()
    keys["category"] = pd.Categorical(keys["category"].astype(str), categories=categories)
    with np.errstate(invalid="ignore", divide="ignore"):  # pooled means of categories it lacks
        return FeatureBuilder(y, keys, periods, spec)


def city_data_start(city: np.ndarray) -> int:
    """The central model's ``data_start`` (:func:`govml.hotspot.forecast.data_start`: the first period whose
    citywide total reaches 10 % of the 90th percentile of the period totals) from the summed
    :func:`city_sums` (categories × (periods + 1): the last column holds series counts) — the totals the
    districts already send, so no further message is needed."""
    from govml.hotspot.forecast import data_start

    return data_start(np.asarray(city, dtype=np.float64)[:, :-1].sum(axis=0, keepdims=True))


def city_sums(fb: Any, n_cat: int) -> np.ndarray:
    """Per category: the count summed over the district's series per period, and its series count."""
    cat = fb.keys["category"].cat.codes.to_numpy()
    sums = np.zeros((n_cat, fb.y.shape[1] + 1))
    np.add.at(sums[:, :-1], cat, fb.y)
    sums[:, -1] = np.bincount(cat, minlength=n_cat)
    return sums


def apply_city(fb: Any, total: np.ndarray, spec: Any) -> None:
    """Replace the district-level ``city_*`` features by citywide ones from summed :func:`city_sums`."""
    if not spec.pooled:
        return
    city = total[:, :-1] / np.maximum(total[:, -1:], 1.0)
    ws = sorted(spec.pooled_windows)
    g = city[fb.keys["category"].cat.codes.to_numpy()]
    means = {w: _window_mean(g, w) for w in ws}
    for w in ws:
        fb.mats[f"city_mean_{w}"] = means[w].astype(np.float32)
    if len(ws) >= 2:
        fb.mats["city_trend"] = ((means[ws[0]] + 0.05) / (means[ws[-1]] + 0.05)).astype(np.float32)


def feature_names(fb: Any) -> list[str]:
    """Model inputs: the builder's features without series identifiers, then ``horizon``."""
    return [n for n in fb.feature_names() if n not in ("area", "district")]


def feature_matrix(fr: pd.DataFrame, names: list[str], categories: list[str], h: int) -> np.ndarray:
    cols = []
    for name in names:
        v = fr[name]
        if isinstance(v.dtype, pd.CategoricalDtype):
            v = pd.Categorical(v.astype(str), categories=categories).codes.astype(np.float64)
        cols.append(np.asarray(v, dtype=np.float64))
    cols.append(np.full(len(fr), float(h)))
    return np.column_stack(cols)


def training_rows(fb: Any, names: list[str], categories: list[str], horizon: int,
                  train_window: int | None, last: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stacked rows of horizons 1..horizon whose targets are observed (up to column ``last``: the
    panel's last by default; an earlier one for the calibration model, see :func:`holdout_sums`)."""
    T = fb.y.shape[1] if last is None else last + 1
    X, Y = [], []
    for h in range(1, horizon + 1):
        hi = T - 1 - h
        lo = 1 if train_window is None else max(1, hi - train_window + 1)
        if hi < lo:
            continue
        fr = fb.frame(h, np.arange(lo, hi + 1))
        X.append(feature_matrix(fr, names, categories, h))
        Y.append(fr["y"].to_numpy(dtype=np.float64))
    if not X:
        return np.zeros((0, len(names) + 1)), np.zeros(0)
    return np.vstack(X), np.concatenate(Y)


def forecast_matrix(fb: Any, names: list[str], categories: list[str], booster: Booster, H: int,
                    level: np.ndarray | None = None, fac: np.ndarray | None = None) -> np.ndarray:
    """(series × H) expected counts made at the district panel's last period (``level``: the series'
    level there, which the trees correct multiplicatively; ``fac``: the holiday factors of the
    panel's columns and the ``H`` after it, :func:`holiday_factors` — the level of horizon ``h`` is
    multiplied by the factor of its target column ``T − 1 + h``, as the central model does)."""
    T = fb.y.shape[1]
    out = np.zeros((fb.y.shape[0], H))
    for h in range(1, H + 1):
        off = 0.0
        if level is not None:
            lev = np.asarray(level, dtype=np.float64) * (1.0 if fac is None else float(fac[T - 1 + h]))
            off = np.log(lev + LEVEL_EPS)
        out[:, h - 1] = np.exp(booster.raw(feature_matrix(fb.frame(h, [T - 1]), names, categories, h)) + off)
    return out


# -- the central model's holiday factor, federated -----------------------------------------------
#
# govml.hotspot.forecast.HotspotForecaster (holidays="auto") multiplies the level's forecast of
# column o + h by that column's holiday factor (govml.hotspot.holidays), estimated from the citywide
# total of every period up to the model's last target column — the column sums of the pooled counts
# and nothing else. Every district already holds those totals: the summed city_sums (per category and
# period) that the citywide features and the top-down level candidates use. So each district (and the
# server, which holds the same sum) computes the same factors with no further message.

HOLIDAY_MODES = ("auto", "off", None)


def holiday_factors(city: np.ndarray, periods: pd.DatetimeIndex, freq: str, n: int, last: int | None = None,
                    holidays: str | None = "auto") -> tuple[Any, np.ndarray]:
    """``(HolidayFactors or None, factors of columns 0 … n − 1)`` from the summed :func:`city_sums`
    (categories × (T + 1)): estimated on the citywide totals of columns ``0 … last`` (all by default)
    with :func:`govml.hotspot.holidays.estimate_holiday_factors` — what the central model estimates
    on its pooled panel's columns ``0 … last`` — and read from the calendar past the panel. All 1
    with ``holidays`` off or without a clear holiday effect."""
    from govml.hotspot.holidays import estimate_holiday_factors, factors_for_columns

    if holidays not in HOLIDAY_MODES:
        raise ModelError(f"holidays must be 'auto' or None ('off'), got {holidays!r}")
    if holidays in (None, "off") or len(periods) == 0:
        return None, np.ones(n)
    tot = np.asarray(city, dtype=np.float64)[:, :-1].sum(axis=0)
    T = len(tot) if last is None else last + 1
    hf = estimate_holiday_factors(tot[None, :T], pd.DatetimeIndex(periods), freq)
    return hf, factors_for_columns(hf, pd.Timestamp(periods[0]), n)



# -- the central model's level, federated --------------------------------------------------------
#
# govml.hotspot.forecast.HotspotForecaster boosts from a *level*: a convex mix of candidate window
# means (LEVEL_WINDOWS) whose weights minimise the squared error of the mix as a forecast on the
# panel's own past (choose_level_weights: a k × k QP whose data are Σ A'A and Σ A't over rows).
# Every series belongs to one district, so each district computes its series' candidates locally
# — the top-down "cat_w" candidates from the citywide category totals it already receives — and
# sends only its part of Σ A'A and Σ A't (k² + k numbers per model) inside the secure base sum. The
# server solves the same QP (so the weights equal the central rule's on the pooled panel) and
# boosting starts from log(level + 0.05) per row, as LightGBM's init_score does centrally.

LEVEL_EPS = 0.05  # as govml.hotspot.forecast: log(level + 0.05) is the offset
LEVEL_WIRE = 2.0**-10  # the level sums travel ×2^-10: at the secure sums' 2^20 fixed point that is 2^10,
#                       room for Σ A'A up to ~9e15 (2^63 / 2^10) and still 1e-3 absolute precision


def level_windows() -> tuple[int | str, ...]:
    """The central model's default level candidates (``govml.hotspot.forecast.LEVEL_WINDOWS``)."""
    from govml.hotspot.forecast import LEVEL_WINDOWS

    return tuple(LEVEL_WINDOWS)


def district_level_candidates(y: np.ndarray, cat_codes: np.ndarray, city: np.ndarray,
                              windows: tuple[int | str, ...]) -> np.ndarray:
    """(S × T × k) candidate levels of a district's own series, equal to what
    :func:`govml.hotspot.forecast.level_candidates` gives for them on the pooled panel (category
    groups): the series' own windows with that function, and the top-down ``cat_w`` candidates (the
    series' share of its category's citywide events so far × the category's citywide mean over the
    last ``w`` periods) from ``city`` — the summed :func:`city_sums` (categories × (T + 1): per period
    totals, then series counts)."""
    from govml.hotspot.forecast import level_candidates

    y = np.asarray(y, dtype=np.float64)
    S, T = y.shape
    own = [w for w in windows if not (isinstance(w, str) and w.startswith("cat_"))]
    M_own = level_candidates(y, tuple(own)) if own else np.zeros((S, T, 0))
    g = np.asarray(cat_codes, dtype=np.int64)
    cs = np.concatenate([np.zeros((S, 1)), np.cumsum(y, axis=1)], axis=1)
    gcs = np.concatenate([np.zeros((city.shape[0], 1)), np.cumsum(city[:, :T], axis=1)], axis=1)
    size = np.maximum(city[:, -1], 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(gcs[g, 1:] > 0, cs[:, 1:] / gcs[g, 1:], (1.0 / size[g])[:, None])
    hi = np.arange(1, T + 1)
    out, j = [], 0
    for w in windows:
        if isinstance(w, str) and w.startswith("cat_"):
            k = int(w[4:])
            lo = np.maximum(hi - k, 0)
            out.append(share * ((gcs[:, hi] - gcs[:, lo]) / np.minimum(hi, k))[g])
        else:
            out.append(M_own[:, :, j])
            j += 1
    return np.stack(out, axis=-1)


def level_gram(M: np.ndarray, y: np.ndarray, horizon: int) -> np.ndarray:
    """A district's part of the central level QP, flat: ``[Σ A'A (k × k), Σ A't (k)]`` over its series
    at the last ``LEVEL_ORIGINS`` origins × horizons (:func:`govml.hotspot.forecast.level_gram`)."""
    from govml.hotspot.forecast import LEVEL_ORIGINS
    from govml.hotspot.forecast import level_gram as central_gram

    G, b = central_gram(M, y, horizon, LEVEL_ORIGINS)
    return np.concatenate([G.ravel(), b])


def level_weights(gram: np.ndarray, k: int) -> np.ndarray:
    """The convex weights from the summed :func:`level_gram` (the central rule's QP; the first
    candidate alone when no origin was usable). The sums arrive through fixed-point secure
    aggregation, so ``G`` is made exactly symmetric first."""
    from govml.hotspot.forecast import level_weights_from_sums

    gram = np.asarray(gram, dtype=np.float64)
    G, b = gram[: k * k].reshape(k, k), gram[k * k: k * k + k]
    return level_weights_from_sums((G + G.T) / 2.0, b)


def training_offsets(level: np.ndarray, horizon: int, train_window: int | None,
                     last: int | None = None, fac: np.ndarray | None = None) -> np.ndarray:
    """``log(level · fac[o + h] + 0.05)`` at the origin ``o`` of every row of :func:`training_rows`
    (same order; ``fac``: the holiday factors of the columns, :func:`holiday_factors`; none = 1)."""
    T = level.shape[1] if last is None else last + 1
    out = []
    for h in range(1, horizon + 1):
        hi = T - 1 - h
        lo = 1 if train_window is None else max(1, hi - train_window + 1)
        if hi < lo:
            continue
        seg = level[:, lo: hi + 1]
        if fac is not None:  # the level forecasts the target column o + h: times that column's factor
            seg = seg * np.asarray(fac, dtype=np.float64)[None, lo + h: hi + 1 + h]
        out.append(seg.reshape(-1))  # series-major, as FeatureBuilder.frame
    return np.log(np.concatenate(out) + LEVEL_EPS) if out else np.zeros(0)


# -- the central model's tree count and point rule, federated ------------------------------------
#
# govml.hotspot.forecast.HotspotForecaster fits a *calibration* model on the panel cut
# ``calibration_origins + horizon`` periods before its end, forecasts the last ``calibration_origins``
# origins (the inner holdout), and there chooses the number of trees (staged forecasts, score
# RMSE/RMSE_level + MAE/MAE_level, the fewest trees within 0.01 of the best), a negative-binomial
# dispersion per horizon, and the point rule's weight per horizon (``yhat = (1 - w) mean + w median``:
# the lowest holdout MAE among the w whose RMSE is within 0.5 % of the mean's, 0 unless it gains
# 0.2 %). Every one of these is a function of sums over holdout cells, and every cell belongs to one
# district: each district forecasts its own holdout cells with the calibration model and sends
#   1. per horizon × candidate tree count: [n, Σe², Σ|e|, Σ((y − μ)² − μ), Σμ²]  (:func:`staged_sums`);
#   2. per horizon × candidate w (after the server sent the dispersions): [n, Σ|e|, Σe²]
#      (:func:`point_rule_sums`)
# as two secure sums (numbers only, ×2^-10 on the wire like the level sums). The server applies the
# central rules to the summed vectors (:func:`choose_trees_from_sums`, :func:`dispersion_from_sums`,
# :func:`point_weight_from_sums`), so the choices equal the central rules' on the pooled holdout.

POINT_RMSE_TOL = 0.005  # as govml.hotspot.forecast: the point rule may cost at most 0.5 % of the holdout RMSE
POINT_MIN_GAIN = 0.002  # ... and must lower the holdout MAE by at least 0.2 %
TREE_TOLERANCE = 0.01  # as govml.hotspot.forecast: the fewest trees within 0.01 of the best score
HOLDOUT_WIRE = 2.0**-10  # holdout sums travel ×2^-10 (room for sums up to ~4e15 at the 2^20 fixed point)


UNTESTED_TREES = ("none", "all")


def untested_level_alone(untested_trees: str, select_trees: bool, level: bool) -> bool:
    """Whether a model with no inner holdout is the level alone (0 trees): ``untested_trees="none"``
    with the tree count chosen on the holdout (``select_trees``) and a level to forecast from — the
    central model's rule (``govml.hotspot.forecast.HotspotForecaster``, session 9)."""
    return untested_trees == "none" and bool(select_trees) and bool(level)


def point_weights() -> tuple[float, ...]:
    """The central point rule's candidate weights (``govml.hotspot.forecast.POINT_WEIGHTS``)."""
    from govml.hotspot.forecast import POINT_WEIGHTS

    return tuple(float(w) for w in POINT_WEIGHTS)


def tree_grid(n_trees: int) -> np.ndarray:
    """Candidate tree counts, as the central model's ``0, n/20, …, n`` (0 = the level alone)."""
    grid = np.arange(0, n_trees + 1, max(1, n_trees // 20))
    return np.unique(np.append(grid, n_trees)).astype(np.int64)


def holdout_forecasts(fb: Any, names: list[str], categories: list[str], booster: Booster,
                      level: np.ndarray | None, first: int, horizon: int,
                      grid: np.ndarray, fac: np.ndarray | None = None) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """A district's inner-holdout forecasts by a calibration model (trained on columns up to ``first``):
    per horizon ``h``, ``(staged, obs)`` over its series × the origins ``first … T − 1 − h``
    (series-major rows): ``staged[:, j]`` the expected counts with the first ``grid[j]`` trees. ``fac``:
    the calibration model's holiday factors (estimated on columns ``0 … first``), the level at origin
    ``o`` times ``fac[o + h]``."""
    T = fb.y.shape[1]
    hold = np.arange(first, T - 1)
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for h in range(1, horizon + 1):
        origins = hold[hold + h <= T - 1]
        if origins.size == 0 or fb.y.shape[0] == 0:
            continue
        X = feature_matrix(fb.frame(h, origins), names, categories, h)
        bins = booster.edges.transform(X)
        raw = np.full(len(X), booster.base)
        if level is not None:
            lev = level[:, origins] if fac is None else level[:, origins] * np.asarray(fac)[None, origins + h]
            raw = raw + np.log(lev.reshape(-1) + LEVEL_EPS)
        staged = np.empty((len(X), len(grid)))
        k = 0
        for j, K in enumerate(grid):
            while k < min(int(K), len(booster.trees)):
                raw = raw + booster.trees[k].predict(bins)
                k += 1
            staged[:, j] = np.exp(raw)
        out[h] = (staged, fb.y[:, origins + h].reshape(-1).astype(np.float64))
    return out


HOLDOUT_SUMS = ("n", "sq_err", "abs_err", "disp_num", "disp_den")


def staged_sums(hold: dict[int, tuple[np.ndarray, np.ndarray]], horizon: int, n_grid: int) -> np.ndarray:
    """(horizon × tree counts × 5): ``[n, Σe², Σ|e|, Σ((y − μ)² − μ), Σμ²]`` over the district's holdout
    cells (:func:`holdout_forecasts`): the tree choice's errors and the dispersion's moments."""
    out = np.zeros((horizon, n_grid, len(HOLDOUT_SUMS)))
    for h, (P, y) in hold.items():
        e = P - y[:, None]
        out[h - 1, :, 0] = float(len(y))
        out[h - 1, :, 1] = (e**2).sum(0)
        out[h - 1, :, 2] = np.abs(e).sum(0)
        out[h - 1, :, 3] = (e**2 - P).sum(0)
        out[h - 1, :, 4] = (P**2).sum(0)
    return out


def choose_trees_from_sums(sums: np.ndarray, tol: float = TREE_TOLERANCE) -> int:
    """Index of the tree count the central rule picks from summed :func:`staged_sums` (horizons pooled):
    score RMSE/RMSE_0 + MAE/MAE_0 (index 0: the level alone), the fewest trees within ``tol`` of the
    best (``HotspotForecaster._choose_trees``)."""
    s = np.asarray(sums, dtype=np.float64).sum(0)
    n = np.maximum(s[:, 0], 1.0)
    rmse, mae = np.sqrt(np.maximum(s[:, 1], 0.0) / n), np.maximum(s[:, 2], 0.0) / n
    score = rmse / max(rmse[0], 1e-12) + mae / max(mae[0], 1e-12)
    return int(np.flatnonzero(score <= score.min() + tol)[0])


def dispersion_from_sums(row: np.ndarray) -> float:
    """The central negative-binomial dispersion ``max(0, Σ((y − μ)² − μ) / Σμ²)`` from one summed
    :func:`staged_sums` row (one horizon, one tree count)."""
    num, den = float(row[3]), float(row[4])
    return max(0.0, num / den) if den > 0 else 0.0


def point_rule_sums(mu: np.ndarray, obs: np.ndarray, alpha: float,
                    weights: tuple[float, ...] | None = None) -> np.ndarray:
    """((1 + weights) × 3): ``[n, Σ|p − y|, Σ(p − y)²]`` of the mean (row 0) and of every candidate
    ``p = (1 − w) μ + w · median`` (negative binomial with mean μ, dispersion ``alpha``)."""
    from govml.hotspot.forecast import nb_median

    weights = point_weights() if weights is None else weights
    mu = np.asarray(mu, dtype=np.float64)
    obs = np.asarray(obs, dtype=np.float64)
    out = np.zeros((1 + len(weights), 3))
    if mu.size == 0:
        return out
    med = nb_median(mu, alpha)
    for i, p in enumerate([mu] + [(1.0 - w) * mu + w * med for w in weights]):
        e = p - obs
        out[i] = (float(mu.size), np.abs(e).sum(), (e**2).sum())
    return out


def apply_point_rule(mean: np.ndarray, dispersions: dict[int, float] | list[float],
                     weights: dict[int, float] | list[float]) -> np.ndarray:
    """(series × H) point forecasts from the expected counts: column ``h - 1`` is
    ``(1 − w_h) mean + w_h median`` (negative binomial, dispersion ``dispersions[h]``); ``dispersions``
    and ``weights`` are dicts by horizon (1-based) or lists in horizon order."""
    from govml.hotspot.forecast import point_forecast

    mean = np.asarray(mean, dtype=np.float64)
    out = mean.copy()
    for h in range(1, mean.shape[1] + 1):
        a = dispersions[h] if isinstance(dispersions, dict) else dispersions[h - 1]
        w = weights[h] if isinstance(weights, dict) else weights[h - 1]
        out[:, h - 1] = point_forecast(mean[:, h - 1], float(a), float(w))
    return out


def point_weight_from_sums(sums: np.ndarray, weights: tuple[float, ...] | None = None,
                           rmse_tol: float = POINT_RMSE_TOL, min_gain: float = POINT_MIN_GAIN) -> float:
    """The central point rule (:func:`govml.hotspot.forecast.choose_point_weight`) on summed
    :func:`point_rule_sums`: the lowest MAE among the weights whose RMSE is at most ``1 + rmse_tol``
    times the mean's; 0 unless it lowers the MAE by ``min_gain``."""
    weights = point_weights() if weights is None else weights
    s = np.asarray(sums, dtype=np.float64)
    n = max(s[0, 0], 1.0)
    r0, a0 = float(np.sqrt(max(s[0, 2], 0.0) / n)), float(s[0, 1] / n)
    best_w, best_a = 0.0, a0
    for w, (_n, ae, se) in zip(weights, s[1:], strict=True):
        r, a = float(np.sqrt(max(se, 0.0) / n)), float(ae / n)
        if r <= r0 * (1.0 + rmse_tol) and a < best_a - 1e-12:
            best_w, best_a = float(w), a
    return best_w if best_a <= a0 * (1.0 - min_gain) else 0.0


def n_model_features(periods: pd.DatetimeIndex, spec: Any) -> int:
    """How many inputs the booster has (the server computes it without any data)."""
    keys = pd.DataFrame({"area": pd.Categorical(["a"]), "category": pd.Categorical(["c"]),
                         "district": pd.Categorical(["d"])})
    fb = district_builder(np.zeros((1, len(periods))), keys, periods, spec, ["c"])
    return len(feature_names(fb)) + 1


class _Secure:
    """Pairwise-masked sums across the districts of one fit (fresh keys per fit)."""

    def __init__(self, n: int, secure: bool, scale: float = 2.0**20, masks: bool = True) -> None:
        from govml.federated.secagg import KeyPair

        self.secure = secure
        self.scale = scale
        self.masks = masks
        self.keys = {i + 2: KeyPair() for i in range(n)} if secure and masks else {}
        self.pubs = {i: k.public_bytes for i, k in self.keys.items()}
        self.calls = 0
        self.bytes_per_district = np.zeros(n, dtype=np.int64)  # 8 bytes per summed coordinate

    def sum(self, vectors: list[np.ndarray]) -> np.ndarray:
        self.bytes_per_district += np.array([v.size * 8 for v in vectors], dtype=np.int64)
        if not self.secure:
            self.calls += 1
            return np.sum(vectors, axis=0)
        from govml.federated.secagg import dequantize, mask_vector, quantize, unmask_sum

        scale = self.scale
        self.calls += 1
        if not self.masks:  # the masks cancel exactly: the same sum without the O(n²) keystream
            return dequantize(unmask_sum([quantize(v.ravel(), scale) for v in vectors]),
                              scale).reshape(vectors[0].shape)
        ctx = f"fit|{self.calls}"
        masked = [mask_vector(quantize(v.ravel(), scale), k, nid, self.pubs, ctx)
                  for (nid, k), v in zip(self.keys.items(), vectors, strict=True)]
        return dequantize(unmask_sum(masked), scale).reshape(vectors[0].shape)


class FederatedHotspotForecaster(FillsMissingParams, BaseEstimator):
    """Direct multi-horizon count forecaster trained across districts (see module docstring).

    One booster for all horizons (``horizon`` is a feature). Parameters are stored as given.
    ``masks=False`` (with ``secure=True``) adds the districts' fixed-point encodings without the
    pairwise masks: the masks cancel exactly, so the sums — and the model — are bit for bit those of
    a secure run, without its O(districts² × length) keystream (a reference for simulations).

    The central model's inner-holdout choices (module section "the central model's tree count and
    point rule"): ``select_trees=True`` grows a calibration model with ``n_trees`` trees on the panel
    cut ``calibration_origins + horizon`` periods before its end and keeps the tree count (0, …,
    ``n_trees``) its holdout forecasts score best (``n_trees_``); ``point="auto"`` makes ``yhat`` the
    mean moved toward the negative-binomial median by the weight chosen per horizon on that holdout
    (``point_weight_``, ``dispersion_``; ``yhat_mean`` is then the mean). Both default off: the
    Flower app (server_app ``_forecaster``) grows the plain model, and ``govml federated simulate``
    replays it with these defaults.

    ``holidays="auto"`` (the default, as the central model's): the level's forecast of a column is
    multiplied by that column's holiday factor, estimated from the citywide totals the districts
    already hold (module section "the central model's holiday factor"): the calibration model's
    from its cut, the final model's from the whole panel (``holiday_factors_``); ``None`` / ``"off"``:
    no factor. Without a level (``level=False``) there is nothing to multiply.

    ``untested_trees="none"`` (the default, as the central model's since session 9; ``"all"``: before):
    with ``select_trees=True`` and a level, a panel too short for the inner holdout (fewer than
    ``2 × horizon + calibration_origins + 4`` periods) or ``calibration_origins=0`` gives ``n_trees_ = 0``:
    the forecast is the level (× the holiday factors) alone instead of ``n_trees`` trees no holdout
    chose (docs/hotspots.md §7, session 9). No histogram is asked for then (no boosting round).
    """

    # a model saved before the level (6928ba1) / the holiday factor (9a322b1) existed had neither (govml._compat):
    # the parameters that say so, and the learned state predict reads then (None: forecast without a level / factor)
    _old_param_values = {"level": False, "holidays": None}
    _old_learned_values = {"_levels": None, "_fac": None, "level_weights_": None, "holiday_factors_": None}
    # read by predict and learned from the data: a file without one is retrained (booster_ marks the model fitted)
    _required_learned = ("y_", "keys_", "periods_", "categories_", "feature_names_", "_parts", "dispersion_",
                         "point_weight_")

    def __init__(self, horizon: int = 4, n_trees: int = 10, max_depth: int = 4, learning_rate: float = 0.1,
                 n_bins: int = 32, max_value: float = 1000.0, min_child_count: int = 50, reg_lambda: float = 1.0,
                 train_window: int | None = None, secure: bool = True, spec: Any = None,
                 masks: bool = True, level: bool = True, point: str = "mean", select_trees: bool = False,
                 calibration_origins: int = 4, point_rmse_tolerance: float = POINT_RMSE_TOL,
                 holidays: str | None = "auto", untested_trees: str = "none") -> None:
        self.horizon = horizon
        self.n_trees = n_trees
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.n_bins = n_bins
        self.max_value = max_value
        self.min_child_count = min_child_count
        self.reg_lambda = reg_lambda
        self.train_window = train_window
        self.secure = secure
        self.spec = spec
        self.masks = masks
        self.level = level
        self.point = point
        self.select_trees = select_trees
        self.calibration_origins = calibration_origins
        self.point_rmse_tolerance = point_rmse_tolerance
        self.holidays = holidays
        self.untested_trees = untested_trees

    def _spec(self):
        from govml.hotspot.features import FeatureSpec

        return self.spec if self.spec is not None else FeatureSpec(categoricals=("category",))

    # -- per-district work ----------------------------------------------------------------------
    def _builders(self, y: np.ndarray, keys: pd.DataFrame, periods: pd.DatetimeIndex) -> list[tuple[np.ndarray, Any]]:
        if "district" not in keys.columns:
            raise ModelError("the federated forecaster needs a 'district' column in the panel (who holds which series)")
        codes = keys["district"].astype("category").cat.codes.to_numpy()
        out = []
        for d in np.unique(codes):
            idx = np.flatnonzero(codes == d)
            out.append((idx, district_builder(y[idx], keys.iloc[idx], periods, self._spec(), self.categories_)))
        if len(out) < 2:
            raise ModelError("a federation needs at least two districts in the panel")
        return out

    def _factors(self, last: int) -> tuple[Any, np.ndarray | None]:
        """The holiday factors of a model whose last target column is ``last`` (columns 0 … T + H − 1),
        from the summed citywide sums; ``None`` when they are all 1."""
        fb = self._parts[0][1]
        hf, fac = holiday_factors(self._total, fb.periods, fb.freq, fb.y.shape[1] + self.horizon, last,
                                  self.holidays)
        return hf, (fac if hf is not None and hf.active else None)

    def _grow(self, parts: list[tuple[np.ndarray, Any]], Ms: list[np.ndarray] | None, sec: _Secure,
              last: int, n_trees: int) -> tuple[Booster, np.ndarray | None, list[np.ndarray] | None]:
        """One booster on the rows whose targets lie at or before column ``last`` (the whole panel, or
        the calibration model's cut): base sums (+ the level's QP sums), then histograms per level.
        With a level, the model's holiday factors (:meth:`_factors`) are left in ``self._grown_fac``."""
        data = [training_rows(fb, self.feature_names_, self.categories_, self.horizon, self.train_window, last)
                for _idx, fb in parts]
        if sum(len(yy) for _x, yy in data) == 0:
            raise ModelError(f"too little history to train: {last + 1} periods")
        edges = BinEdges.counts(data[0][0].shape[1], max_value=self.max_value, n_bins=self.n_bins)
        bins = [edges.transform(x) for x, _y in data]
        s = sec.sum([base_sums(yy) for _x, yy in data])
        base = float(np.log(max(s[0], 1e-9) / max(s[1], 1.0)))
        raws = [np.full(len(yy), base) for _x, yy in data]
        weights, levels = None, None
        if Ms is not None:  # boost from the central model's level (module section "the central model's level")
            gram = sec.sum([level_gram(M[:, : last + 1], fb.y[:, : last + 1], self.horizon) * LEVEL_WIRE
                            for M, (_idx, fb) in zip(Ms, parts, strict=True)]) / LEVEL_WIRE
            weights = level_weights(gram, Ms[0].shape[-1])
            levels = [M @ weights for M in Ms]
            base = 0.0  # the offset replaces the constant start (LightGBM's init_score does the same)
            self._grown_hf, self._grown_fac = self._factors(last)
            raws = [training_offsets(L, self.horizon, self.train_window, last, self._grown_fac) for L in levels]
        done = [0]

        def hist_fn(trees: list[Tree], tree: Tree, frontier: list[int]) -> np.ndarray:
            for tr in trees[done[0]:]:
                for i, b in enumerate(bins):
                    raws[i] = raws[i] + tr.predict(b)
            done[0] = len(trees)
            return sec.sum([local_histograms(b, yy, r, tree, frontier, edges.n_bins)
                            for b, (_x, yy), r in zip(bins, data, raws, strict=True)])

        params = GBDTParams(n_trees=n_trees, max_depth=self.max_depth, learning_rate=self.learning_rate,
                            reg_lambda=self.reg_lambda, min_child_count=self.min_child_count)
        return fit(hist_fn, base, edges, params), weights, levels

    def _calibrate(self, parts: list[tuple[np.ndarray, Any]], Ms: list[np.ndarray] | None, sec: _Secure,
                   first: int) -> None:
        """Tree count, dispersion and point weights from the districts' holdout sums (two secure sums)."""
        H = self.horizon
        booster, _w, levels = self._grow(parts, Ms, sec, first, self.n_trees)
        self.calibration_booster_ = booster
        fac = self._grown_fac if levels is not None else None
        self.calibration_holiday_factors_ = self._grown_hf if levels is not None else None
        self.calibration_factors_ = fac  # per column (T + H), None when all 1: what the holdout level is multiplied by
        grid = tree_grid(self.n_trees) if self.select_trees else np.array([self.n_trees], dtype=np.int64)
        holds = [holdout_forecasts(fb, self.feature_names_, self.categories_, booster,
                                   None if levels is None else levels[i], first, H, grid, fac)
                 for i, (_idx, fb) in enumerate(parts)]
        staged = sec.sum([staged_sums(hd, H, len(grid)) * HOLDOUT_WIRE for hd in holds]) / HOLDOUT_WIRE
        j = choose_trees_from_sums(staged) if self.select_trees else 0
        self.n_trees_ = int(grid[j])
        self.holdout_scores_ = {int(K): {"rmse": float(np.sqrt(max(row[1], 0.0) / max(row[0], 1.0))),
                                         "mae": float(row[2] / max(row[0], 1.0))}
                                for K, row in zip(grid, staged.sum(0), strict=True)}
        log.info("federated forecaster: %d of %d trees chosen on the inner holdout", self.n_trees_, self.n_trees)
        self.dispersion_ = {h: dispersion_from_sums(staged[h - 1, j]) for h in range(1, H + 1)}
        if self.point == "auto":
            W = point_weights()
            sums = sec.sum([np.stack([point_rule_sums(hd[h][0][:, j], hd[h][1], self.dispersion_[h], W)
                                      if h in hd else np.zeros((1 + len(W), 3)) for h in range(1, H + 1)])
                            * HOLDOUT_WIRE for hd in holds]) / HOLDOUT_WIRE
            self.point_weight_ = {h: point_weight_from_sums(sums[h - 1], W, rmse_tol=self.point_rmse_tolerance)
                                  for h in range(1, H + 1)}
        self.calibrated_ = True

    # -- public API -----------------------------------------------------------------------------
    def fit(self, panel: pd.DataFrame) -> FederatedHotspotForecaster:
        from govml.hotspot.panel import panel_matrix

        if self.point not in ("auto", "mean"):
            raise ModelError(f"point must be 'auto' or 'mean', got {self.point!r}")
        if self.holidays not in HOLIDAY_MODES:
            raise ModelError(f"holidays must be 'auto' or None ('off'), got {self.holidays!r}")
        if self.untested_trees not in UNTESTED_TREES:
            raise ModelError(f"untested_trees must be 'all' or 'none', got {self.untested_trees!r}")
        y, keys, periods = panel_matrix(panel)
        T, H = y.shape[1], self.horizon
        self.categories_ = [str(c) for c in keys["category"].astype("category").cat.categories]
        parts = self._builders(y, keys, periods)
        parts_names = list(keys["district"].astype("category").cat.categories)
        sec = _Secure(len(parts), self.secure, masks=self.masks)
        spec = self._spec()
        total = sec.sum([city_sums(fb, len(self.categories_)) for _idx, fb in parts])
        start = city_data_start(total)
        self.data_start_ = start
        if start > 0:  # as the central model: near-empty leading weeks are before data collection began
            log.info("the panel's first %d period(s) (before %s) hold almost no events (%d in all, from the "
                     "citywide sums): left out of the model, as the central model does", start,
                     pd.Timestamp(periods[start]).date(), int(total[:, :start].sum()))
            y, periods = y[:, start:], periods[start:]
            T = y.shape[1]
            parts = self._builders(y, keys, periods)
            total = sec.sum([city_sums(fb, len(self.categories_)) for _idx, fb in parts])
        for _idx, fb in parts:
            apply_city(fb, total, spec)
        self._total, self._parts = total, parts  # the holiday factors come from the citywide totals
        self._grown_hf, self._grown_fac = None, None
        self.calibration_holiday_factors_, self.calibration_factors_ = None, None
        self.feature_names_ = feature_names(parts[0][1])
        Ms = None
        if self.level:  # each district's level candidates at every column (causal: the cut reuses them)
            Ms = [district_level_candidates(fb.y, fb.keys["category"].cat.codes.to_numpy(), total, level_windows())
                  for _idx, fb in parts]
        self.n_trees_ = self.n_trees
        self.dispersion_ = {h: 0.0 for h in range(1, H + 1)}
        self.point_weight_ = {h: 0.0 for h in range(1, H + 1)}
        self.holdout_scores_: dict[int, dict[str, float]] = {}
        self.calibrated_ = False
        first = T - H - self.calibration_origins  # first inner-holdout origin column, as the central model
        if (self.select_trees or self.point == "auto") and self.calibration_origins > 0 and first - H >= 4:
            self._calibrate(parts, Ms, sec, first)
        untested = untested_level_alone(self.untested_trees, self.select_trees, self.level)
        if not self.calibrated_ and (self.select_trees or self.point == "auto"):
            log.warning("%s: %s, yhat = the mean", f"too little history for an inner holdout ({T} periods)"
                        if self.calibration_origins > 0 else "no inner holdout (calibration_origins=0)",
                        "the level alone (0 trees; untested_trees='none')" if untested
                        else f"{self.n_trees} trees no holdout chose")
        if not self.calibrated_ and untested:  # as the central model: the trees must earn their place
            self.n_trees_ = 0
        self.booster_, self.level_weights_, self._levels = self._grow(parts, Ms, sec, T - 1, self.n_trees_)
        self.holiday_factors_ = self._grown_hf if Ms is not None else None
        self._fac = self._grown_fac if Ms is not None else None
        self.secure_sums_ = sec.calls
        self.bytes_per_district_ = {str(parts_names[i]): int(b) for i, b in enumerate(sec.bytes_per_district)}
        self.y_, self.keys_, self.periods_ = y, keys, periods
        self._parts = parts
        return self

    def predict(self, horizon: int | None = None) -> pd.DataFrame:
        """Forecasts ``1..horizon`` periods after the panel's last period (``yhat``: the expected count,
        or with ``point="auto"`` the point rule's value, the expected count then in ``yhat_mean``)."""
        from govml.hotspot.baselines import forecast_frame

        if not hasattr(self, "booster_"):
            raise ModelError("this forecaster is not fitted yet")
        H = horizon or self.horizon
        if H > self.horizon:
            raise ModelError(f"fitted for horizons up to {self.horizon}, asked for {H}")
        out = np.zeros((self.y_.shape[0], H))
        for i, (idx, fb) in enumerate(self._parts):  # each district predicts its own series with the shared model
            out[idx] = forecast_matrix(fb, self.feature_names_, self.categories_, self.booster_, H,
                                       level=None if self._levels is None else self._levels[i][:, -1],
                                       fac=self._fac)
        if self.point != "auto":
            return forecast_frame(self.keys_, self.periods_, out)
        fr = forecast_frame(self.keys_, self.periods_, apply_point_rule(out, self.dispersion_, self.point_weight_))
        fr["yhat_mean"] = out.reshape(-1)
        return fr


# -- backtest metrics from the districts' own sums (deployment: the server sees aggregates only) --
#
# ``govml.hotspot.backtest.evaluate`` scores forecasts on the pooled rows. Every one of its point
# metrics is a ratio of sums over rows, and the top-k% precision of a map (one origin × horizon)
# needs only how many cells lie at or above a threshold: so each district sums over its own cells,
# the server adds the (masked) sums and finds the thresholds by counting (:class:`TopKSearch`).

POINT_SUMS = ("n", "abs_err", "sq_err", "abs_y", "deviance")


def point_sums(y: np.ndarray, yhat: np.ndarray, eps: float = 1e-3, mean: np.ndarray | None = None) -> np.ndarray:
    """Per map (column): ``[n, Σ|ŷ−y|, Σ(ŷ−y)², Σ|y|, Σ Poisson deviance]`` over the rows (cells). With
    ``mean`` (the expected counts behind a point-rule ``yhat``) the deviance scores the mean, as
    :func:`govml.hotspot.backtest.evaluate` does with ``yhat_mean``."""
    y = np.asarray(y, dtype=np.float64)
    yhat = np.asarray(yhat, dtype=np.float64)
    err = yhat - y
    mu = np.maximum(yhat if mean is None else np.asarray(mean, dtype=np.float64), eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
    dev = 2.0 * (term - (y - mu))
    return np.stack([np.full(y.shape[1], float(y.shape[0])), np.abs(err).sum(0), (err**2).sum(0),
                     np.abs(y).sum(0), dev.sum(0)], axis=1)


def metrics_from_sums(sums: np.ndarray) -> dict[str, float]:
    """``mae``, ``rmse``, ``wape``, ``poisson_deviance`` and ``n`` from (summed) :func:`point_sums` rows."""
    n, ae, se, ay, dev = np.asarray(sums, dtype=np.float64).reshape(-1, len(POINT_SUMS)).sum(0)
    n = max(n, 1.0)
    return {"mae": float(ae / n), "rmse": float(np.sqrt(se / n)), "wape": float(ae / ay) if ay > 0 else float("nan"),
            "poisson_deviance": float(dev / n), "n": int(round(n))}


def counts_at_least(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """``out[j, i]`` = how many rows have ``values[:, j] >= thresholds[j, i]`` (one map per column)."""
    values = np.asarray(values, dtype=np.float64)
    thr = np.asarray(thresholds, dtype=np.float64)
    out = np.zeros(thr.shape, dtype=np.float64)
    for j in range(values.shape[1]):
        v = np.sort(values[:, j])
        out[j] = v.size - np.searchsorted(v, thr[j], side="left")
    return out


def top_hits(y: np.ndarray, yhat: np.ndarray, kth: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Per map: ``[hits with ŷ >= hi, hits with lo <= ŷ < hi]``; a hit is an actual top-k cell
    (``y > kth``, or ``y == kth > 0``: the rule of :func:`govml.hotspot.backtest.top_k_metrics`)."""
    y = np.asarray(y, dtype=np.float64)
    yhat = np.asarray(yhat, dtype=np.float64)
    hit = (y > kth[None, :]) | ((y == kth[None, :]) & (kth[None, :] > 0))
    above = yhat >= hi[None, :]
    tied = (yhat >= lo[None, :]) & ~above
    return np.stack([(hit & above).sum(0), (hit & tied).sum(0)], axis=1).astype(np.float64)


class TopKSearch:
    """The k-th largest value of every map, found by counting how many cells lie at or above
    thresholds (the counts are secure sums; no cell's value is ever sent).

    Two searches run side by side per map: the actual counts ``y`` (integers: the search ends with
    the exact k-th largest count) and the forecasts ``ŷ`` (it ends with a threshold above which
    exactly ``k`` forecasts lie, which *is* the predicted top-k set; when forecasts tie at the k-th
    place, with the tied value bracketed to 1e-12 relative). Each stage sends ``m`` thresholds per
    map and search: first a public log-spaced grid, then an even grid inside the bracket, which
    shrinks the bracket ``m + 1`` times per stage.
    """

    def __init__(self, n: np.ndarray, pct: float, m: int = 256, max_stages: int = 16) -> None:
        import math

        self.n = np.asarray(n, dtype=np.int64)
        self.k = np.array([max(1, math.ceil(pct / 100.0 * int(x))) for x in self.n], dtype=np.int64)
        M = len(self.n)
        self.m, self.max_stages, self.stages = m, max_stages, 0
        # bracket: count(v >= lo) >= k > count(v >= hi); every value is >= 0, so lo = 0 holds at the start
        self.lo = np.zeros((2, M))
        self.hi = np.full((2, M), np.inf)
        self.c_lo = np.tile(self.n.astype(np.float64), (2, 1))
        self.c_hi = np.zeros((2, M))

    def done(self) -> np.ndarray:
        y_done = (self.hi[0] - self.lo[0]) <= 1.0
        f_done = (self.c_lo[1] == self.k) | (np.isfinite(self.hi[1])
                                             & ((self.hi[1] - self.lo[1]) <= 1e-12 * np.maximum(self.hi[1], 1e-300)))
        return np.stack([y_done, f_done])

    def finished(self) -> bool:
        return bool(self.done().all()) or self.stages >= self.max_stages

    def thresholds(self) -> np.ndarray:
        """(2, maps, m) thresholds to count at: [0] actual counts, [1] forecasts."""
        M, m = self.lo.shape[1], self.m
        out = np.empty((2, M, m))
        grid = np.geomspace(1e-6, 1e7, m)
        for s in range(2):
            for j in range(M):
                lo, hi = self.lo[s, j], self.hi[s, j]
                if not np.isfinite(hi):
                    t = np.ceil(grid) if s == 0 else grid
                else:
                    t = np.linspace(lo, hi, m + 2)[1:-1]
                    if s == 0:
                        t = np.clip(np.ceil(t), lo + 1, max(hi - 1, lo + 1))
                out[s, j] = t
        return out

    def update(self, thr: np.ndarray, counts: np.ndarray) -> None:
        """Narrow each bracket with the summed counts at ``thr`` (both shaped (2, maps, m))."""
        self.stages += 1
        done = self.done()
        for s in range(2):
            for j in range(thr.shape[1]):
                if done[s, j]:
                    continue
                t, c = thr[s, j], counts[s, j]
                ok = c >= self.k[j]
                if ok.any():
                    i = int(np.flatnonzero(ok)[-1] if s == 0 else np.argmax(np.where(ok, t, -np.inf)))
                    if t[i] > self.lo[s, j]:
                        self.lo[s, j], self.c_lo[s, j] = t[i], c[i]
                if (~ok).any():
                    i = int(np.argmin(np.where(~ok, t, np.inf)))
                    if t[i] < self.hi[s, j]:
                        self.hi[s, j], self.c_hi[s, j] = t[i], c[i]

    def hit_thresholds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(kth, hi, lo)`` for :func:`top_hits`: the k-th largest actual count, and the forecast
        bracket (``hi = lo`` when exactly k forecasts lie at or above ``lo``)."""
        kth = self.lo[0].copy()
        exact = self.c_lo[1] == self.k
        hi = np.where(exact, self.lo[1], self.hi[1])
        return kth, hi, self.lo[1].copy()

    def precision(self, hits: np.ndarray) -> np.ndarray:
        """Per map precision from summed :func:`top_hits`. With forecasts tied at the k-th place the
        tied cells share the remaining places (expected precision under a random tie-break; the
        central metric breaks ties by cell order, which a district cannot know)."""
        exact = self.c_lo[1] == self.k
        above = np.where(exact, self.c_lo[1], self.c_hi[1])
        tied = np.where(exact, 0.0, self.c_lo[1] - self.c_hi[1])
        share = np.where(tied > 0, (self.k - above) / np.maximum(tied, 1.0), 0.0)
        overlap = np.minimum(hits[:, 0] + share * hits[:, 1], self.k)
        return overlap / self.k

    def ties(self) -> int:
        """Maps whose k-th forecast is tied with the next one (precision there is an expectation)."""
        return int(np.sum(self.c_lo[1] != self.k))
