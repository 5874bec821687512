"""Declared features for the global forecaster, computed vectorised over the whole panel.

A :class:`FeatureSpec` says *which* features to make (lags, rolling windows, seasonal lag,
calendar, pooled district/citywide trends, series age); :func:`make_features` makes them for every
series at once. The panel is dense (every series has every period), so the counts are a
``series × periods`` matrix and every feature is a column shift or a cumulative sum over it —
no loop over series anywhere.

Features are indexed by the **origin** (the last observed period) and a **horizon** ``h``: a row
describes what is known at the end of period ``o`` and its target is the count in period
``o + h``. Everything from the counts uses periods ``≤ o`` only; the only things known about
``o + h`` itself are its calendar (holidays, make-up days — published in advance) and, for the
seasonal lag, the count one season before it (which lies at or before ``o`` when ``h ≤ season``).

Names: ``lag_k`` is the k-th most recent observed count (``lag_1`` = the count at the origin),
``roll_mean_w``/``roll_std_w`` the mean/std over the last ``w`` observed periods, ``exp_mean`` the
mean since the series' first event, ``age`` periods since the first event (-1: none yet),
``since_last`` periods since the last event, ``seasonal_lag`` the count one season before the
target, ``dist_*``/``city_*``/``area_*`` pooled means per series of the district × category, the
category citywide and the area over all categories, ``tgt_*`` the target period's calendar,
``org_*`` the origin period's calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from govml.hotspot.calendar import CALENDAR_COLUMNS, calendar_matrix
from govml.hotspot.panel import panel_matrix

CATEGORICAL = ("area", "category", "district")


@dataclass(frozen=True)
class FeatureSpec:
    """Which features to compute. All windows count periods of the panel's frequency."""

    lags: tuple[int, ...] = (1, 2, 3, 4, 52)
    rolling_windows: tuple[int, ...] = (4, 13)
    rolling_std: bool = True
    expanding_mean: bool = True
    season_length: int | None = 52
    calendar: bool = True
    pooled: bool = True
    pooled_windows: tuple[int, ...] = (4, 13)
    age: bool = True
    categoricals: tuple[str, ...] = field(default=CATEGORICAL)

    def max_lookback(self) -> int:
        return max([*self.lags, *self.rolling_windows, *(self.pooled_windows if self.pooled else ()), 1])


def infer_freq(periods: pd.DatetimeIndex) -> str:
    if len(periods) < 2:
        return "W"
    step = (periods[1] - periods[0]).days
    return "D" if step == 1 else "W" if step == 7 else "M"


def _shift_cols(m: np.ndarray, k: int) -> np.ndarray:
    """Column ``o`` of the result holds ``m[:, o - k]`` (NaN where that is before the start)."""
    out = np.full(m.shape, np.nan, dtype=np.float32)
    if k == 0:
        out[:] = m
    elif k < m.shape[1]:
        out[:, k:] = m[:, :-k]
    return out


def _window_sum(cs: np.ndarray, w: int) -> np.ndarray:
    """Sum over the last ``w`` columns up to and including ``o`` from a cumulative sum (with 0 column)."""
    T = cs.shape[1] - 1
    hi = np.arange(1, T + 1)
    lo = np.maximum(hi - w, 0)
    return cs[:, hi] - cs[:, lo]


def group_sums(y: np.ndarray, codes: np.ndarray, n_groups: int | None = None) -> np.ndarray:
    """(groups × C) sums of the rows of ``y`` (S × C) by ``codes`` (one per row; ``n_groups`` defaults to the
    largest code + 1): each group's rows added in row order from 0, as ``np.add.at(zeros, codes, y)`` adds them
    (the same values), through a sparse indicator matrix (``np.add.at`` on rows was ~5× slower: a recursive step
    of the scale benchmark spent most of its time in it). Used by the features and the level candidates."""
    from scipy import sparse

    n = (int(codes.max()) + 1 if len(codes) else 1) if n_groups is None else n_groups
    ind = sparse.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(n, len(codes)))
    return np.asarray(ind @ np.asarray(y, dtype=np.float64))


def _group_mean(y: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Per-series matrix of the mean count over the series sharing the same group code."""
    n_groups = int(codes.max()) + 1
    sums = group_sums(y, codes, n_groups)
    sizes = np.bincount(codes, minlength=n_groups).astype(float)
    return (sums / sizes[:, None])[codes]


class FeatureBuilder:
    """Origin-indexed feature matrices for one panel (computed once, reused for every horizon)."""

    def __init__(self, y: np.ndarray, keys: pd.DataFrame, periods: pd.DatetimeIndex, spec: FeatureSpec,
                 freq: str | None = None, last_only: bool = False):
        """``last_only``: compute the features at the last column only (``mats`` hold one column;
        :meth:`frame` then serves the last origin only) — the recursive forecast's steps need
        nothing else. The values are bit-identical to the full builder's at that column."""
        self.y = y
        self.keys = keys
        self.periods = periods
        self.spec = spec
        self.freq = freq or infer_freq(periods)
        self.mats: dict[str, np.ndarray] = {}
        self._frames_cal: dict[int, np.ndarray] = {}
        self.last_only = last_only
        self._col0 = y.shape[1] - 1 if last_only else 0  # column index of mats[:, 0]
        if last_only:
            self._compute_last()
        else:
            self._compute()

    @classmethod
    def from_panel(cls, panel: pd.DataFrame, spec: FeatureSpec) -> FeatureBuilder:
        y, keys, periods = panel_matrix(panel)
        return cls(y, keys, periods, spec)

    # -- origin-indexed features ---------------------------------------------------------------
    def _compute(self) -> None:
        y, spec = self.y, self.spec
        S, T = y.shape
        m = self.mats
        for k in spec.lags:
            m[f"lag_{k}"] = _shift_cols(y, k - 1)
        cs = np.concatenate([np.zeros((S, 1)), np.cumsum(y, axis=1)], axis=1)
        cs2 = np.concatenate([np.zeros((S, 1)), np.cumsum(y * y, axis=1)], axis=1)
        n_avail = np.arange(1, T + 1)[None, :]
        for w in spec.rolling_windows:
            n = np.minimum(n_avail, w)
            mean = _window_sum(cs, w) / n
            m[f"roll_mean_{w}"] = mean.astype(np.float32)
            if spec.rolling_std:
                var = np.maximum(_window_sum(cs2, w) / n - mean * mean, 0.0)
                m[f"roll_std_{w}"] = np.sqrt(var).astype(np.float32)
        nz = y > 0
        if spec.age or spec.expanding_mean:
            any_seen = np.maximum.accumulate(nz, axis=1)
            first = np.where(nz.any(axis=1), nz.argmax(axis=1), T)[:, None]
            cols = np.arange(T)[None, :]
            age = np.where(any_seen, cols - first, -1).astype(np.float32)
            if spec.age:
                m["age"] = age
                last_idx = np.where(nz, cols, -1)
                last_idx = np.maximum.accumulate(last_idx, axis=1)
                m["since_last"] = np.where(last_idx >= 0, cols - last_idx, -1).astype(np.float32)
            if spec.expanding_mean:
                with np.errstate(invalid="ignore", divide="ignore"):
                    m["exp_mean"] = np.where(age >= 0, cs[:, 1:] / (age + 1), 0.0).astype(np.float32)
        if spec.pooled:
            for name, codes in self._pooled_groups().items():
                g = _group_mean(y, codes)
                gcs = np.concatenate([np.zeros((S, 1)), np.cumsum(g, axis=1)], axis=1)
                means = {}
                for w in spec.pooled_windows:
                    means[w] = _window_sum(gcs, w) / np.minimum(n_avail, w)
                    m[f"{name}_mean_{w}"] = means[w].astype(np.float32)
                ws = sorted(spec.pooled_windows)
                if len(ws) >= 2:
                    m[f"{name}_trend"] = ((means[ws[0]] + 0.05) / (means[ws[-1]] + 0.05)).astype(np.float32)
        if spec.calendar:
            cal = calendar_matrix(self.periods, self.freq).astype(np.float32)
            for j, c in enumerate(CALENDAR_COLUMNS):
                m[f"org_{c}"] = np.broadcast_to(cal[None, :, j], (S, T))

    def _compute_last(self) -> None:
        """:meth:`_compute` at the last column only (S × 1 matrices), with the same arithmetic —
        the same cumulative sums differenced, the same dtypes — so that the values are identical."""
        y, spec = self.y, self.spec
        S, T = y.shape
        m = self.mats
        for k in spec.lags:
            col = np.full((S, 1), np.nan, dtype=np.float32)
            if k - 1 < T:
                col[:, 0] = y[:, T - k]
            m[f"lag_{k}"] = col
        cs = np.concatenate([np.zeros((S, 1)), np.cumsum(y, axis=1)], axis=1)
        cs2 = np.concatenate([np.zeros((S, 1)), np.cumsum(y * y, axis=1)], axis=1)
        for w in spec.rolling_windows:
            n = min(T, w)
            lo = max(T - w, 0)
            mean = (cs[:, T] - cs[:, lo]) / n
            m[f"roll_mean_{w}"] = mean.astype(np.float32)[:, None]
            if spec.rolling_std:
                var = np.maximum((cs2[:, T] - cs2[:, lo]) / n - mean * mean, 0.0)
                m[f"roll_std_{w}"] = np.sqrt(var).astype(np.float32)[:, None]
        nz = y > 0
        if spec.age or spec.expanding_mean:
            seen = nz.any(axis=1)
            first = np.where(seen, nz.argmax(axis=1), T)
            age = np.where(seen, (T - 1) - first, -1).astype(np.float32)
            if spec.age:
                m["age"] = age[:, None]
                last_idx = np.where(seen, T - 1 - np.argmax(nz[:, ::-1], axis=1), -1)
                m["since_last"] = np.where(last_idx >= 0, (T - 1) - last_idx, -1).astype(np.float32)[:, None]
            if spec.expanding_mean:
                with np.errstate(invalid="ignore", divide="ignore"):
                    m["exp_mean"] = np.where(age >= 0, cs[:, T] / (age + 1), 0.0).astype(np.float32)[:, None]
        if spec.pooled:
            for name, codes in self._pooled_groups().items():
                n_groups = int(codes.max()) + 1
                sums = group_sums(y, codes, n_groups)
                sizes = np.bincount(codes, minlength=n_groups).astype(float)
                gcs = np.concatenate([np.zeros((n_groups, 1)), np.cumsum(sums / sizes[:, None], axis=1)], axis=1)
                means = {}
                for w in spec.pooled_windows:
                    means[w] = ((gcs[:, T] - gcs[:, max(T - w, 0)]) / min(T, w))[codes]
                    m[f"{name}_mean_{w}"] = means[w].astype(np.float32)[:, None]
                ws = sorted(spec.pooled_windows)
                if len(ws) >= 2:
                    m[f"{name}_trend"] = ((means[ws[0]] + 0.05) / (means[ws[-1]] + 0.05)).astype(np.float32)[:, None]
        if spec.calendar:
            cal = calendar_matrix(self.periods[-1:], self.freq).astype(np.float32)
            for j, c in enumerate(CALENDAR_COLUMNS):
                m[f"org_{c}"] = np.broadcast_to(cal[None, :, j], (S, 1))

    def _pooled_groups(self) -> dict[str, np.ndarray]:
        groups: dict[str, np.ndarray] = {}
        cat = self.keys["category"].cat.codes.to_numpy() if "category" in self.keys else None
        if cat is not None:
            groups["city"] = cat.astype(np.int64)
            if "district" in self.keys:
                d = self.keys["district"].cat.codes.to_numpy().astype(np.int64)
                groups["dist"] = d * (int(cat.max()) + 1) + cat
        if "area" in self.keys:
            groups["area"] = self.keys["area"].cat.codes.to_numpy().astype(np.int64)
        return groups

    # -- rows for a horizon --------------------------------------------------------------------
    def feature_names(self) -> list[str]:
        names = list(self.mats)
        if self.spec.season_length:
            names.append("seasonal_lag")
        if self.spec.calendar:
            names += [f"tgt_{c}" for c in CALENDAR_COLUMNS] + ["tgt_period_of_year"]
        names += [c for c in self.spec.categoricals if c in self.keys.columns]
        if "exposure" in self.keys.columns:
            names.append("exposure")
        return names

    def frame(self, horizon: int, origins: np.ndarray | list[int], series: np.ndarray | None = None) -> pd.DataFrame:
        """Feature rows for (series × origin column indices) at ``horizon``, plus keys and target.

        Columns: ``area, category, [district], origin, period_start`` (the target period),
        ``horizon``, the features, and ``y`` (the target count; NaN when not yet observed).
        """
        origins = np.asarray(origins, dtype=np.int64)
        S, T = self.y.shape
        if self.last_only and (origins != T - 1).any():
            raise ValueError("a last_only FeatureBuilder serves the last origin only")
        sidx = np.arange(S) if series is None else np.asarray(series)
        # rows ordered series-major
        rs = np.repeat(sidx, len(origins))
        ro = np.tile(origins, len(sidx))
        out: dict[str, object] = {}
        for c in self.keys.columns:
            if c == "exposure":
                continue
            out[c] = self.keys[c].to_numpy()[rs] if not isinstance(self.keys[c].dtype, pd.CategoricalDtype) \
                else pd.Categorical.from_codes(self.keys[c].cat.codes.to_numpy()[rs],
                                               categories=self.keys[c].cat.categories)
        origin_dates = self.periods.to_numpy()[ro]
        out["origin"] = origin_dates
        target_dates = self._target_dates(horizon)
        out["period_start"] = target_dates[ro]
        out["horizon"] = np.full(len(rs), horizon, dtype=np.int16)
        for name, mat in self.mats.items():
            out[name] = mat[rs, ro - self._col0]
        if self.spec.season_length:
            k = self.spec.season_length - horizon  # target - season = origin - k
            src = ro - k
            ok = (k >= 0) & (src >= 0)
            vals = np.full(len(rs), np.nan, dtype=np.float32)
            if k >= 0:
                vals[ok] = self.y[rs[ok], src[ok]]
            out["seasonal_lag"] = vals
        if self.spec.calendar:
            cal = self._target_calendar(horizon, target_dates)  # rows from column self._col0
            for j, c in enumerate(CALENDAR_COLUMNS):
                out[f"tgt_{c}"] = cal[ro - self._col0, j]
            out["tgt_period_of_year"] = cal[ro - self._col0, -1]
        tgt = ro + horizon
        yv = np.full(len(rs), np.nan)
        inside = tgt < T
        yv[inside] = self.y[rs[inside], tgt[inside]]
        out["y"] = yv
        df = pd.DataFrame(out)
        if "exposure" in self.keys.columns:
            df["exposure"] = self.keys["exposure"].to_numpy()[rs]
        return df

    def _target_calendar(self, horizon: int, target_dates: np.ndarray) -> np.ndarray:
        """(T × 5) float32: the target periods' calendar columns and period of year (once per horizon); a
        ``last_only`` builder's: the last origin's row only (1 × 5: a recursive step of a daily panel read the
        calendar of all its T target days for one row)."""
        if horizon not in self._frames_cal:
            td = pd.DatetimeIndex(target_dates[self._col0:])
            cal = calendar_matrix(td, self.freq)[:, : len(CALENDAR_COLUMNS)]
            poy = iso_week(td) if self.freq == "W" else (
                td.day_of_year.to_numpy() if self.freq == "D" else td.month.to_numpy())
            self._frames_cal[horizon] = np.column_stack([cal, poy]).astype(np.float32)
        return self._frames_cal[horizon]

    def _target_dates(self, horizon: int) -> np.ndarray:
        """Date of period ``o + horizon`` for every origin column ``o`` (extends past the panel)."""
        from govml.hotspot.calendar import FREQS

        ext = pd.date_range(self.periods[0], periods=len(self.periods) + horizon, freq=FREQS[self.freq])
        return ext.to_numpy()[horizon:]


def iso_week(dates: pd.DatetimeIndex) -> np.ndarray:
    """ISO 8601 week numbers of ``dates`` (``DatetimeIndex.isocalendar().week``, the same integers) in
    integer arithmetic on the days: the week of a day is that of its week's Thursday, counted from the 1st of
    the Thursday's year. ``isocalendar`` builds a DataFrame per call, ~10 ms; a recursive step asks for one date
    (session 19)."""
    days = pd.DatetimeIndex(dates).tz_localize(None).to_numpy().astype("datetime64[D]")
    monday0 = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday: Monday = 0
    thursday = days + (3 - monday0)
    return (thursday - thursday.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64) // 7 + 1


def make_features(panel: pd.DataFrame, spec: FeatureSpec | None = None, horizon: int = 1,
                  origins: list[int] | np.ndarray | None = None) -> pd.DataFrame:
    """Feature rows for every series at the given origin column indices (default: every period).

    The target column ``y`` holds the count ``horizon`` periods after the origin (NaN past the
    panel's end). See the module docstring for the feature names.
    """
    fb = FeatureBuilder.from_panel(panel, spec or FeatureSpec())
    T = fb.y.shape[1]
    return fb.frame(horizon, np.arange(T) if origins is None else origins)
