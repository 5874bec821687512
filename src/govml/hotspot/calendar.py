"""Chinese public holidays and make-up workdays (调休) as calendar information per period.

The holiday schedule comes from the maintained ``chinesecalendar`` package. It knows the official
State Council schedule for a fixed range of years (2004–2026 in version 1.11) and raises for later
dates; for those years we fall back to the fixed-date holidays (元旦 1 Jan, 劳动节 1 May, 国庆
1–7 Oct) and no make-up workdays, and log a warning saying so. Lunar holidays (Spring Festival,
Qingming, Dragon Boat, Mid-Autumn) are therefore missing in fallback years.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

FREQS = {"D": "D", "W": "W-MON", "M": "MS"}
"""Our frequency codes → pandas period-start frequencies (weeks start on Monday)."""

CALENDAR_COLUMNS = ["holiday_days", "workdays", "makeup_days", "spring_festival"]


def period_offset(freq: str) -> pd.DateOffset:
    if freq == "D":
        return pd.offsets.Day(1)
    if freq == "W":
        return pd.offsets.Week(1)
    if freq == "M":
        return pd.offsets.MonthBegin(1)
    raise ValueError(f"freq must be one of D, W, M; got {freq!r}")


def period_start(times: pd.Series | pd.DatetimeIndex, freq: str) -> pd.Series:
    """The start of the period (day, Monday-week, month) each timestamp falls in."""
    t = pd.to_datetime(pd.Series(times)).dt.normalize()
    if freq == "D":
        return t
    if freq == "W":
        return t - pd.to_timedelta(t.dt.day_of_week, unit="D")
    if freq == "M":
        return t.dt.to_period("M").dt.start_time
    raise ValueError(f"freq must be one of D, W, M; got {freq!r}")


def period_range(start: pd.Timestamp, periods: int, freq: str) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=periods, freq=FREQS[freq])


@lru_cache(maxsize=1)
def _known_years() -> tuple[int, int]:
    import chinese_calendar as cc

    days = list(cc.holidays) + list(cc.workdays)
    return min(days).year, max(days).year


def _fallback_day(d: dt.date) -> tuple[bool, bool, bool, bool]:
    fixed = (d.month == 1 and d.day == 1) or (d.month == 5 and d.day == 1) or (d.month == 10 and d.day <= 7)
    return fixed, not (fixed or d.weekday() >= 5), False, False


@lru_cache(maxsize=100_000)
def day_info(d: dt.date) -> tuple[bool, bool, bool, bool]:
    """(is_official_holiday, is_workday, is_makeup_workday, is_spring_festival) for one date."""
    import chinese_calendar as cc

    lo, hi = _known_years()
    if not lo <= d.year <= hi:
        return _fallback_day(d)
    is_work = bool(cc.is_workday(d))
    makeup = is_work and d.weekday() >= 5
    name = cc.holidays.get(d)
    official_holiday = name is not None
    spring = name == "Spring Festival"
    return official_holiday, is_work, makeup, spring


@lru_cache(maxsize=100_000)
def _period_row(start: pd.Timestamp, freq: str) -> tuple[int, int, int, int, int]:
    """(holiday_days, workdays, makeup_days, spring_festival, fallback) of the period starting at ``start``."""
    lo, hi = _known_years()
    end = start + period_offset(freq)
    hol = work = mk = spring = fb = 0
    d = start.date()
    stop = end.date()
    while d < stop:
        if not lo <= d.year <= hi:
            fb = 1
            h, w, m, sp = _fallback_day(d)
        else:
            h, w, m, sp = day_info(d)
        hol += int(h)
        work += int(w)
        mk += int(m)
        spring = max(spring, int(sp))
        d += dt.timedelta(days=1)
    return hol, work, mk, spring, fb


def _warn_fallback(years: tuple[int, ...]) -> None:
    lo, hi = _known_years()
    log.warning(
        "chinesecalendar knows holidays for %d–%d only; for %s the calendar falls back to "
        "fixed-date holidays (1 Jan, 1 May, 1–7 Oct) with no make-up workdays and no lunar holidays",
        lo, hi, ", ".join(map(str, years)),
    )


def calendar_matrix(starts: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """(len(starts) × 5) int array: the :data:`CALENDAR_COLUMNS` and ``fallback`` of each period, in order.

    Cached per period (a backtest asks for the same few hundred periods many times); the fallback
    warning is logged on every call that meets a fallback period.
    """
    starts = pd.DatetimeIndex(starts)
    if len(starts) == 0:
        return np.zeros((0, 5), dtype=np.int16)
    rows = np.array([_period_row(s, freq) for s in starts], dtype=np.int16)
    if rows[:, 4].any():
        lo, hi = _known_years()
        years = sorted({d.year for s in starts[rows[:, 4] == 1]
                        for d in pd.date_range(s, s + period_offset(freq) - pd.Timedelta(days=1), freq="D")
                        if not lo <= d.year <= hi})
        _warn_fallback(tuple(years))
    return rows


HOLIDAY_DAY_COLUMNS = ["spring_festival_days", "other_holiday_days", "makeup_days"]


@lru_cache(maxsize=100_000)
def _period_days(start: pd.Timestamp, freq: str) -> tuple[int, int, int, int]:
    """(Spring Festival holiday days, other official holiday days, make-up workdays, days) in the period."""
    lo, hi = _known_years()
    end = (start + period_offset(freq)).date()
    sf = oth = mk = n = 0
    d = start.date()
    while d < end:
        h, _w, m, sp = day_info(d) if lo <= d.year <= hi else _fallback_day(d)
        sf += int(sp)
        oth += int(h and not sp)
        mk += int(m)
        n += 1
        d += dt.timedelta(days=1)
    return sf, oth, mk, n


def holiday_day_shares(starts: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """(len(starts) × 3) shares of each period's days that are Spring Festival holiday days, other
    official holiday days and 调休 make-up workdays (:data:`HOLIDAY_DAY_COLUMNS`), for the
    holiday-aware level (:mod:`govml.hotspot.holidays`). Fallback years (after chinesecalendar's
    last) have fixed-date holidays only, as in :func:`calendar_matrix`."""
    starts = pd.DatetimeIndex(starts)
    if len(starts) == 0:
        return np.zeros((0, 3))
    rows = np.array([_period_days(s, freq) for s in starts], dtype=float)
    return rows[:, :3] / rows[:, 3:4]


def calendar_features(starts: pd.DatetimeIndex | pd.Series, freq: str) -> pd.DataFrame:
    """Calendar information for each period starting at ``starts``.

    Columns: ``period_start``, ``holiday_days`` (official public-holiday days in the period),
    ``workdays`` (days worked, make-up days included), ``makeup_days`` (调休 weekend workdays),
    ``spring_festival`` (1 when any Spring Festival holiday day falls in it), ``fallback``
    (1 when the period lies outside chinesecalendar's years and fixed-date holidays were used).
    """
    starts = pd.DatetimeIndex(pd.to_datetime(pd.Series(starts)).drop_duplicates().sort_values())
    rows = calendar_matrix(starts, freq)
    out = pd.DataFrame(rows, columns=[*CALENDAR_COLUMNS, "fallback"])
    out.insert(0, "period_start", starts)
    for c in [*CALENDAR_COLUMNS, "fallback"]:
        out[c] = out[c].astype(np.int16)
    return out
