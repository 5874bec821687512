"""A multiplicative holiday factor per period, estimated on the panel's own past.

Chinese complaint hotlines (12345) go quiet over public holidays: in Spring Festival weeks a
community's counts fall to a fraction of a normal week's, and other official holidays (Qingming,
May Day, Dragon Boat, Mid-Autumn, National Day) lower them too (泰迪杯 2019: the National Day week at
0.31 of its neighbours, the Spring Festival week at 0.24). A window mean ignores this: it forecasts a
normal week into the holiday. :class:`~govml.hotspot.forecast.HotspotForecaster` multiplies its level
by the **target** period's factor (``holidays="auto"``, the default); ``holidays="fill"`` also fills
the past holiday periods' dips in before the level's windows (:func:`fill_holiday_dips`) and
``"divide"`` divides the past counts by their period's factor — both measured worse on the standard
panels (docs/hotspots.md §3, *Holidays*).

The factor of period ``t`` is ``f_t = 1 + b_sf * sf_t + b_hol * hol_t`` where ``sf_t`` and ``hol_t``
are the shares of the period's days that are Spring Festival holiday days and other official holiday
days (:func:`govml.hotspot.calendar.holiday_day_shares`, from ``chinesecalendar``; holidays are
published in advance, so the factor of a future period is known). 调休 make-up workdays are left out:
they fall next to a holiday, usually in the same week, so a year or two of data cannot tell their
effect from the holiday's (on the generated sample, with make-up days in, the 2023 Spring Festival
dip was put on them: −0.94 per make-up day share against −0.04 for the festival); the trees still
see ``makeup_days`` as a feature. The coefficients are estimated **pooled over all series** from the panel's own past only:

* each period's citywide total is compared with the median total of the ordinary periods (no holiday
  or make-up day) among its ``neighbours`` on either side (only periods of the data given), the ratio
  minus 1 being the period's effect;
* least squares of the holiday periods' effects on their day shares gives ``b``; its standard error
  comes from the scatter of the ordinary periods' ratios (their standard deviation: not a robust
  one, as a burst week in a holiday period moves the estimate as much as it would an ordinary
  period), which is what a holiday period's ratio would show if holidays did nothing;
* each coefficient is **shrunk toward 0** (a factor of 1) by ``max(0, 1 - c · se² / b²)`` with
  ``c = shrink`` (2 by default; a positive-part James–Stein rule): an effect within about 1.4 standard
  errors of 0 — what a panel without Chinese holidays (Boston) or a past with one short holiday shows
  by chance — is dropped, a clear one (a Spring Festival dip of 60 %) is kept almost whole.

A **lone holiday day** in a week or month (fewer than :data:`MIN_HOLIDAY_DAYS` official holiday days:
1 January on a weekday, the 7th day of National Day spilling into the next week) counts as no holiday
day (:func:`factor_shares`): such weeks stood at 1.03 of their ordinary neighbours on 泰迪杯 and at
0.91–1.04 (mean 0.99) on the generated sample — the calls move to the week's other days — while weeks
with two or more holiday days dip (``benchmarks/bench_holiday_weeks.py``).

With no holiday period in the data, or too few ordinary ones to judge the noise, every factor is 1
and the level is unchanged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from govml.hotspot.calendar import holiday_day_shares, period_offset, period_range

log = logging.getLogger(__name__)

NEIGHBOURS = {"D": 14, "W": 4, "M": 2}
"""Periods on either side whose ordinary members give a period's baseline, per frequency."""
SHRINK = 2.0
FACTOR_COLUMNS = ("spring_festival_days", "other_holiday_days")
"""The day shares the factor uses (the first two of :data:`govml.hotspot.calendar.HOLIDAY_DAY_COLUMNS`)."""
FACTOR_RANGE = (0.1, 3.0)
MIN_HOLIDAY_DAYS = 2
"""A week or month with fewer official holiday days than this is treated as ordinary by the factor."""


def factor_shares(starts: pd.DatetimeIndex, freq: str, min_days: int | None = None) -> np.ndarray:
    """(len(starts) × 2) Spring Festival and other holiday day shares (:data:`FACTOR_COLUMNS`) as the
    factor uses them: 0 for a week or month holding fewer than ``min_days`` official holiday days.

    A **lone holiday day** in a week — a one-day holiday such as 1 January on a weekday, or the last day
    of a long holiday spilling into the next week — showed no dip on either Chinese panel: 泰迪杯's
    weeks of 2019-10-07 (National Day's 7th day) and 2019-12-30 (New Year's Day) at 1.03 of their
    ordinary neighbours, the generated sample's six such weeks at 0.91–1.04 (mean 0.99); the calls move
    to the other days of the week. Weeks holding two or more days dip (0.24–0.93). Counting the lone days as
    1/7 of a holiday week put a factor of about 0.92 on 泰迪杯's New Year week of 2020. Daily periods
    keep every holiday day."""
    X = holiday_day_shares(pd.DatetimeIndex(starts), freq)[:, :2]
    min_days = MIN_HOLIDAY_DAYS if min_days is None else int(min_days)
    if freq == "D" or min_days <= 1 or len(X) == 0:
        return X
    starts = pd.DatetimeIndex(starts)
    days = np.asarray(((starts + period_offset(freq)) - starts).days, dtype=float)
    lone = np.rint(X.sum(axis=1) * days) < min_days
    X[lone] = 0.0
    return X


@dataclass
class HolidayFactors:
    """Fitted holiday coefficients (per day share, :data:`FACTOR_COLUMNS`) and how they were judged."""

    freq: str
    coef: np.ndarray = field(default_factory=lambda: np.zeros(2))
    raw: np.ndarray = field(default_factory=lambda: np.zeros(2))
    se: np.ndarray = field(default_factory=lambda: np.full(2, np.nan))
    n_periods: np.ndarray = field(default_factory=lambda: np.zeros(2, dtype=int))
    noise: float = float("nan")
    min_days: int = MIN_HOLIDAY_DAYS

    @property
    def active(self) -> bool:
        return bool(np.any(self.coef != 0.0))

    def factors(self, starts: pd.DatetimeIndex) -> np.ndarray:
        """The factor of each period starting at ``starts`` (1 where no holiday or no effect)."""
        if not self.active:
            return np.ones(len(starts))
        X = factor_shares(pd.DatetimeIndex(starts), self.freq, self.min_days)
        return np.clip(1.0 + X @ self.coef, *FACTOR_RANGE)

    def describe(self) -> dict[str, object]:
        return {name: {"coef": round(float(c), 4), "estimate": round(float(r), 4),
                       "se": None if np.isnan(s) else round(float(s), 4), "periods": int(n)}
                for name, c, r, s, n in zip(FACTOR_COLUMNS, self.coef, self.raw, self.se, self.n_periods,
                                            strict=True)} | {"noise": None if np.isnan(self.noise)
                                                             else round(float(self.noise), 4)}


def estimate_holiday_factors(y: np.ndarray, periods: pd.DatetimeIndex, freq: str,
                             neighbours: int | None = None, shrink: float = SHRINK,
                             min_days: int | None = None) -> HolidayFactors:
    """Holiday coefficients from the counts ``y`` (series × periods, every column observed) alone.

    Periods with fewer than ``min_days`` holiday days (:func:`factor_shares`) take no part in the
    regression and get a factor of 1; they are not ordinary baselines either."""
    min_days = MIN_HOLIDAY_DAYS if min_days is None else int(min_days)
    out = HolidayFactors(freq=freq, min_days=min_days)
    T = y.shape[1]
    if T == 0:
        return out
    P = pd.DatetimeIndex(periods[:T])
    special = holiday_day_shares(P, freq).any(axis=1)  # make-up days too: such a period is no ordinary baseline
    X = factor_shares(P, freq, min_days)
    out.n_periods = (X > 0).sum(axis=0)
    if not special.any():
        return out
    tot = np.asarray(y, dtype=float).sum(axis=0)
    base, _ = _ordinary_neighbours(tot, special, int(neighbours or NEIGHBOURS.get(freq, 4)))
    ok = np.isfinite(base) & (base > 0)
    r = np.where(ok, tot / np.where(ok, base, 1.0) - 1.0, np.nan)
    calm = ok & ~special
    if calm.sum() < 4:
        return out
    dev = r[calm]
    out.noise = float(np.std(dev, ddof=1))
    rows = ok & X.any(axis=1)
    cols = np.flatnonzero(X[rows].any(axis=0))
    if not rows.any() or len(cols) == 0:
        return out
    A = X[rows][:, cols]
    b, *_ = np.linalg.lstsq(A, r[rows], rcond=None)
    cov = out.noise ** 2 * np.linalg.pinv(A.T @ A)
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    keep = np.zeros(len(b))
    nz = np.abs(b) > 0
    keep[nz] = np.maximum(0.0, 1.0 - shrink * se[nz] ** 2 / b[nz] ** 2)
    out.raw[cols] = b
    out.se[cols] = se
    out.coef[cols] = b * keep
    if out.active:
        log.info("holiday factors (per day share, shrunk): %s", out.describe())
    return out


def _ordinary_neighbours(tot: np.ndarray, special: np.ndarray, k: int,
                         cols: np.ndarray | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    """For each column (or each of ``cols``): the median total of the ordinary columns (not
    ``special``) within ``k`` on either side, NaN with fewer than 2, and those columns."""
    T = len(tot)
    ordinary = np.flatnonzero(~special)
    cols = np.arange(T) if cols is None else cols
    base = np.full(len(cols), np.nan)
    nears = []
    for i, t in enumerate(cols):
        near = ordinary[(np.abs(ordinary - t) <= k) & (ordinary != t)]
        nears.append(near)
        if len(near) >= 2:
            base[i] = np.median(tot[near])
    return base, nears


def fill_holiday_dips(y: np.ndarray, periods: pd.DatetimeIndex, freq: str,
                      neighbours: int | None = None, min_days: int | None = None) -> np.ndarray:
    """The counts with each holiday period's dip filled in, from ``y`` alone (what the level averages).

    In a period with official holiday days the citywide total is ``r`` times the median total of the
    ordinary periods around it (:func:`estimate_holiday_factors`' neighbours); each series gets back
    ``(1 - r)`` times its own mean over those ordinary periods: ``y + (1 - r) · m`` (at least 0). The
    filled total is the neighbours' median, and a series' expected count is its ordinary rate, with
    less noise than dividing by ``r`` would give a sparse series (a single event in a holiday week
    stays one event, plus a fraction of the series' usual count). Make-up-only periods are left as
    they are. Only the columns of ``y`` are used: a holiday in the last column is judged from the
    periods before it.
    """
    T = y.shape[1]
    if T == 0:
        return y
    P = pd.DatetimeIndex(periods[:T])
    hol = np.flatnonzero(factor_shares(P, freq, min_days).any(axis=1))
    if len(hol) == 0:
        return y
    tot = np.asarray(y, dtype=float).sum(axis=0)
    base, nears = _ordinary_neighbours(tot, holiday_day_shares(P, freq).any(axis=1), int(neighbours or NEIGHBOURS.get(freq, 4)), hol)
    out = np.array(y, dtype=float, copy=True)
    for t, b, near in zip(hol, base, nears, strict=True):
        if not np.isfinite(b) or b <= 0:
            continue
        r = min(max(tot[t] / b, FACTOR_RANGE[0]), FACTOR_RANGE[1])
        out[:, t] = np.maximum(0.0, out[:, t] + (1.0 - r) * y[:, near].mean(axis=1))
    return out


def factors_for_columns(hf: HolidayFactors | None, start: pd.Timestamp, n: int) -> np.ndarray:
    """The factors of ``n`` consecutive periods from ``start`` (all 1 without fitted holidays)."""
    if hf is None or not hf.active:
        return np.ones(n)
    return hf.factors(period_range(pd.Timestamp(start), n, hf.freq))


def tail_factor_shares(starts: pd.DatetimeIndex, freq: str, k: int, min_days: int | None = None) -> np.ndarray:
    """(len(starts) × 2) the Spring Festival and other holiday day shares of each period's **last ``k`` days**, as
    :func:`factor_shares` counts them for the whole period: 0 in a period whose holiday days are too few to count
    (the lone-day rule), and the period's own shares when ``k`` covers it. What the holiday factor of a ``tail_k``
    count (``--intra-period``, session 19) is made of: ``1 + shares @ coef``, the per-day effect the factor assumes
    (a holiday day at ``1 + b`` of an ordinary day) averaged over the tail's days."""
    starts = pd.DatetimeIndex(starts)
    X = factor_shares(starts, freq, min_days)
    if len(starts) == 0:
        return X
    ends = starts + period_offset(freq)
    days = np.asarray((ends - starts).days, dtype=int)
    out = X.copy()
    part = np.flatnonzero((days > k) & X.any(axis=1))  # holiday periods whose tail is a part of them
    if len(part):
        tail_days = pd.DatetimeIndex(np.concatenate([
            pd.date_range(ends[i] - pd.Timedelta(days=k), periods=k, freq="D").to_numpy() for i in part]))
        out[part] = holiday_day_shares(tail_days, "D")[:, :2].reshape(len(part), k, 2).mean(axis=1)
    return out


def adjust_tail_counts(tail: np.ndarray, k: int, periods: pd.DatetimeIndex, hf: HolidayFactors,
                       mode: str) -> np.ndarray:
    """The counts of the periods' last ``k`` days (S × T, :func:`govml.hotspot.panel.add_intra_period`'s
    ``tail_k``) adjusted for holidays the way ``mode`` adjusts the whole periods' counts before the level's windows
    (``HotspotForecaster(holidays=...)``), so that the ``tail_k`` level candidates and the window means read the same
    kind of counts: ``"divide"`` — divided by the factor of the tail's own days (:func:`tail_factor_shares`: a tail
    that covers the period is divided by the period's factor, exactly as its count is); ``"fill"`` — the tail's own
    dip filled in (:func:`fill_holiday_dips` on the tail counts: each holiday period's tail total against the tails
    of its ordinary neighbours). ``"auto"`` adjusts no past count, neither does it adjust the tails: ``tail`` as it is.
    """
    if mode not in ("fill", "divide") or not hf.active or tail.shape[1] == 0:
        return tail
    P = pd.DatetimeIndex(periods[: tail.shape[1]])
    if mode == "fill":
        return fill_holiday_dips(tail, P, hf.freq)  # as HotspotForecaster._deholiday fills the counts
    f = np.clip(1.0 + tail_factor_shares(P, hf.freq, int(k), hf.min_days) @ hf.coef, *FACTOR_RANGE)
    return tail / f[None, :]
