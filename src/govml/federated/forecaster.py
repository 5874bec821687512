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
   so the trees are those a pooled fit with the same bins would grow.

Series identifiers (areas) never become features: they are district-specific. Bins are public
(log-spaced count bins, :meth:`BinEdges.counts`). This class runs the districts in one process
(simulation and backtests); running the same steps through the Flower app is the next step (see
docs/federated.md).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

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
                  train_window: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Stacked rows of horizons 1..horizon whose targets are observed."""
    T = fb.y.shape[1]
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


def forecast_matrix(fb: Any, names: list[str], categories: list[str], booster: Booster, H: int) -> np.ndarray:
    """(series × H) expected counts made at the district panel's last period."""
    T = fb.y.shape[1]
    out = np.zeros((fb.y.shape[0], H))
    for h in range(1, H + 1):
        out[:, h - 1] = booster.predict(feature_matrix(fb.frame(h, [T - 1]), names, categories, h))
    return out


def n_model_features(periods: pd.DatetimeIndex, spec: Any) -> int:
    """How many inputs the booster has (the server computes it without any data)."""
    keys = pd.DataFrame({"area": pd.Categorical(["a"]), "category": pd.Categorical(["c"]),
                         "district": pd.Categorical(["d"])})
    fb = district_builder(np.zeros((1, len(periods))), keys, periods, spec, ["c"])
    return len(feature_names(fb)) + 1


class _Secure:
    """Pairwise-masked sums across the districts of one fit (fresh keys per fit)."""

    def __init__(self, n: int, secure: bool, scale: float = 2.0**20) -> None:
        from govml.federated.secagg import KeyPair

        self.secure = secure
        self.scale = scale
        self.keys = {i + 2: KeyPair() for i in range(n)} if secure else {}
        self.pubs = {i: k.public_bytes for i, k in self.keys.items()}
        self.calls = 0
        self.bytes_per_district = np.zeros(n, dtype=np.int64)  # 8 bytes per summed coordinate

    def sum(self, vectors: list[np.ndarray]) -> np.ndarray:
        self.bytes_per_district += np.array([v.size * 8 for v in vectors], dtype=np.int64)
        if not self.secure:
            self.calls += 1
            return np.sum(vectors, axis=0)
        from govml.federated.secagg import dequantize, mask_vector, quantize, unmask_sum

        self.calls += 1
        ctx = f"fit|{self.calls}"
        masked = [mask_vector(quantize(v.ravel(), self.scale), k, nid, self.pubs, ctx)
                  for (nid, k), v in zip(self.keys.items(), vectors, strict=True)]
        return dequantize(unmask_sum(masked), self.scale).reshape(vectors[0].shape)


class FederatedHotspotForecaster(BaseEstimator):
    """Direct multi-horizon count forecaster trained across districts (see module docstring).

    One booster for all horizons (``horizon`` is a feature). Parameters are stored as given.
    """

    def __init__(self, horizon: int = 4, n_trees: int = 60, max_depth: int = 4, learning_rate: float = 0.1,
                 n_bins: int = 32, max_value: float = 1000.0, min_child_count: int = 50, reg_lambda: float = 1.0,
                 train_window: int | None = None, secure: bool = True, spec: Any = None) -> None:
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

    # -- public API -----------------------------------------------------------------------------
    def fit(self, panel: pd.DataFrame) -> FederatedHotspotForecaster:
        from govml.hotspot.panel import panel_matrix

        y, keys, periods = panel_matrix(panel)
        T = y.shape[1]
        self.categories_ = [str(c) for c in keys["category"].astype("category").cat.categories]
        parts = self._builders(y, keys, periods)
        parts_names = list(keys["district"].astype("category").cat.categories)
        sec = _Secure(len(parts), self.secure)
        spec = self._spec()
        total = sec.sum([city_sums(fb, len(self.categories_)) for _idx, fb in parts])
        for _idx, fb in parts:
            apply_city(fb, total, spec)
        self.feature_names_ = feature_names(parts[0][1])
        data = [training_rows(fb, self.feature_names_, self.categories_, self.horizon, self.train_window)
                for _idx, fb in parts]
        if sum(len(yy) for _x, yy in data) == 0:
            raise ModelError(f"too little history to train: {T} periods")
        edges = BinEdges.counts(data[0][0].shape[1], max_value=self.max_value, n_bins=self.n_bins)
        bins = [edges.transform(x) for x, _y in data]
        s = sec.sum([base_sums(yy) for _x, yy in data])
        base = float(np.log(max(s[0], 1e-9) / max(s[1], 1.0)))
        raws = [np.full(len(yy), base) for _x, yy in data]
        done = [0]

        def hist_fn(trees: list[Tree], tree: Tree, frontier: list[int]) -> np.ndarray:
            for tr in trees[done[0]:]:
                for i, b in enumerate(bins):
                    raws[i] = raws[i] + tr.predict(b)
            done[0] = len(trees)
            return sec.sum([local_histograms(b, yy, r, tree, frontier, edges.n_bins)
                            for b, (_x, yy), r in zip(bins, data, raws, strict=True)])

        params = GBDTParams(n_trees=self.n_trees, max_depth=self.max_depth, learning_rate=self.learning_rate,
                            reg_lambda=self.reg_lambda, min_child_count=self.min_child_count)
        self.booster_: Booster = fit(hist_fn, base, edges, params)
        self.secure_sums_ = sec.calls
        self.bytes_per_district_ = {str(parts_names[i]): int(b) for i, b in enumerate(sec.bytes_per_district)}
        self.y_, self.keys_, self.periods_ = y, keys, periods
        self._parts = parts
        return self

    def predict(self, horizon: int | None = None) -> pd.DataFrame:
        """Forecasts ``1..horizon`` periods after the panel's last period (``yhat``: expected count)."""
        from govml.hotspot.baselines import forecast_frame

        if not hasattr(self, "booster_"):
            raise ModelError("this forecaster is not fitted yet")
        H = horizon or self.horizon
        if H > self.horizon:
            raise ModelError(f"fitted for horizons up to {self.horizon}, asked for {H}")
        out = np.zeros((self.y_.shape[0], H))
        for idx, fb in self._parts:  # each district predicts its own series with the shared model
            out[idx] = forecast_matrix(fb, self.feature_names_, self.categories_, self.booster_, H)
        return forecast_frame(self.keys_, self.periods_, out)
