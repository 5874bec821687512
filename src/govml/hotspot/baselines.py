"""The simple forecasters every model must beat: last value, mean of the last k, seasonal naive.

They share the forecaster interface (``fit(panel) -> self``, ``predict(horizon) -> DataFrame``
with ``area, category, period_start, horizon, yhat``) so the backtest treats them like the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from govml._compat import FillsMissingParams
from govml.errors import ModelError
from govml.hotspot.calendar import FREQS
from govml.hotspot.features import infer_freq
from govml.hotspot.panel import panel_matrix


def forecast_frame(keys: pd.DataFrame, periods: pd.DatetimeIndex, yhat: np.ndarray) -> pd.DataFrame:
    """Long frame of an (S × H) forecast matrix made at the last period of ``periods``."""
    S, H = yhat.shape
    freq = infer_freq(periods)
    future = pd.date_range(periods[-1], periods=H + 1, freq=FREQS[freq])[1:]
    out = {c: np.repeat(keys[c].to_numpy(), H) if not isinstance(keys[c].dtype, pd.CategoricalDtype)
           else pd.Categorical.from_codes(np.repeat(keys[c].cat.codes.to_numpy(), H), categories=keys[c].cat.categories)
           for c in keys.columns if c in ("area", "category", "district")}
    out["period_start"] = np.tile(future.to_numpy(), S)
    out["horizon"] = np.tile(np.arange(1, H + 1, dtype=np.int16), S)
    out["yhat"] = yhat.reshape(-1)
    return pd.DataFrame(out)


class _Baseline(FillsMissingParams, BaseEstimator):
    _required_learned = ("keys_", "periods_")  # learned attributes (govml._compat); y_ marks the model fitted

    def fit(self, panel: pd.DataFrame) -> _Baseline:
        self.y_, self.keys_, self.periods_ = panel_matrix(panel)
        return self

    def _check(self) -> None:
        if not hasattr(self, "y_"):
            raise ModelError(f"{type(self).__name__} is not fitted: call fit(panel) first")

    def predict(self, horizon: int) -> pd.DataFrame:
        self._check()
        return forecast_frame(self.keys_, self.periods_, self._matrix(horizon))

    def _matrix(self, horizon: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class LastValue(_Baseline):
    """Every future period = the last observed count."""

    def _matrix(self, horizon: int) -> np.ndarray:
        return np.repeat(self.y_[:, -1:], horizon, axis=1)


class MeanLast(_Baseline):
    """Every future period = the mean of the last ``window`` observed counts (fewer if shorter)."""

    def __init__(self, window: int = 4):
        self.window = window

    def _matrix(self, horizon: int) -> np.ndarray:
        return np.repeat(self.y_[:, -self.window:].mean(axis=1, keepdims=True), horizon, axis=1)


class SeasonalNaive(_Baseline):
    """Period ``o + h`` = the count one season earlier, ``o + h - season``.

    Needs at least ``season`` observed periods from the data's start (as the forecaster finds it:
    near-empty leading periods before data collection began are not a season to copy — 附件3's four
    stray messages of 2017-18 made a year of zeros its "last year"); :meth:`fit` raises
    :class:`ModelError` otherwise.
    """

    def __init__(self, season: int = 52):
        self.season = season

    def fit(self, panel: pd.DataFrame) -> SeasonalNaive:
        from govml.hotspot.forecast import data_start  # forecast imports this module

        super().fit(panel)
        start = data_start(self.y_)
        if self.y_.shape[1] - start < self.season:
            lead = (f" from its data start {self.periods_[start].date()} ({start} near-empty leading period(s) "
                    "before it)" if start else "")
            raise ModelError(f"seasonal naive needs {self.season} periods of history, "
                             f"the panel has {self.y_.shape[1] - start}{lead}")
        return self

    def _matrix(self, horizon: int) -> np.ndarray:
        T = self.y_.shape[1]
        cols = [T - self.season + h - 1 for h in range(1, horizon + 1)]
        cols = [c if c < T else c - self.season for c in cols]
        return self.y_[:, cols]


def default_baselines(season: int | None = 52) -> dict[str, _Baseline]:
    out: dict[str, _Baseline] = {"last_value": LastValue(), "mean_4": MeanLast(4), "mean_13": MeanLast(13)}
    if season:
        out[f"seasonal_naive_{season}"] = SeasonalNaive(season)
    return out
