"""Events (one row per complaint) → a zero-filled area × category × period count panel.

Two steps, both DataFrame in / DataFrame out:

* :func:`clean_events` maps the user's columns to ``created_at``, ``area``, ``category`` (and
  ``district``), parses the times, and sets aside what cannot be used — unparseable or future
  times, empty or unknown areas, empty categories, categories too rare to forecast — counting
  every excluded row by reason in an :class:`Exclusions` record (never a silent drop).
* :func:`build_panel` counts the clean events per area × category × period (``D``, ``W`` =
  weeks starting Monday, ``M``), fills absent combinations with zeros, drops an incomplete first or
  last period (and says so; a month missing at most 3 days is kept), attaches the hierarchy (district),
  exposure, and the Chinese public holiday calendar per period.

The panel is the long frame ``area, category, [district], period_start, y, [exposure],
holiday_days, workdays, makeup_days, spring_festival`` sorted by area, category, period_start;
``area``, ``category`` and ``district`` are pandas ``category`` columns (what LightGBM wants).
Every area × category combination appears for every period (a dense, rectangular panel).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from govml.errors import DataError, Problem
from govml.hotspot.calendar import CALENDAR_COLUMNS, calendar_features, period_offset, period_start
from govml.io import label_text, merge_spellings, plain_names

log = logging.getLogger(__name__)

KEYS = ["area", "category", "period_start"]


@dataclass
class Exclusions:
    """What was set aside and why: counts per reason, a few example rows, and notes."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    rows_in: int = 0
    rows_used: int = 0

    REASONS = {
        "missing_time": "time is empty",
        "unparseable_time": "time could not be parsed",
        "placeholder_time": "time is a placeholder that systems write for 'no time' (1970-01-01 08:00, 1900-01-01, "
                            "0000-00-00 …)",
        "future_time": "time lies after the reference time (in the future)",
        "missing_area": "area is empty",
        "unknown_area": "area is not in the areas table",
        "missing_category": "category is empty",
        "rare_category": "category has too few events to forecast",
        "incomplete_period": "falls in an incomplete first or last period",
    }

    def add(self, reason: str, rows: np.ndarray | list[int], *, file_row_offset: int = 2) -> None:
        rows = list(rows)
        if not rows:
            return
        self.counts[reason] = self.counts.get(reason, 0) + len(rows)
        ex = self.examples.setdefault(reason, [])
        ex.extend(_file_row(r) + file_row_offset for r in rows[: max(0, 5 - len(ex))])

    @property
    def total(self) -> int:
        return int(sum(self.counts.values()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_in": self.rows_in,
            "rows_used": self.rows_used,
            "excluded_total": self.total,
            "excluded": {k: {"rows": v, "why": self.REASONS.get(k, k), "example_file_rows": self.examples.get(k, [])}
                         for k, v in self.counts.items()},
            "notes": list(self.notes),
        }

    def lines(self) -> list[str]:
        out = [f"{v} row(s) excluded: {self.REASONS.get(k, k)} (e.g. file rows "
               f"{', '.join(map(str, self.examples.get(k, [])))})" for k, v in self.counts.items()]
        return out + list(self.notes)


def _parse_times(values: pd.Series, file: str, column: str) -> pd.Series:
    """Parse times in the formats the readers accept; unparseable → NaT (counted by the caller)."""
    try:  # the data layer's parser knows Excel serials, 20190228, 2019/2/28 11:25:05 ...
        from govml.io import parse_datetime  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - only before the data layer lands
        parse_datetime = None
    if parse_datetime is not None:
        try:
            return pd.to_datetime(parse_datetime(values, file=file, column=column, errors="coerce"))
        except TypeError:
            pass
        except DataError:
            pass
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.to_datetime(values)
    s = values.astype("string").str.strip()
    out = pd.to_datetime(s, errors="coerce", format="mixed")
    # compact forms such as 20190228 and Excel serial days
    digits = s.str.fullmatch(r"\d{8}").fillna(False)
    if digits.any():
        out[digits] = pd.to_datetime(s[digits], format="%Y%m%d", errors="coerce")
    serial = s.str.fullmatch(r"\d{5}(\.\d+)?").fillna(False)
    if serial.any():
        out[serial] = pd.Timestamp("1899-12-30") + pd.to_timedelta(
            pd.to_numeric(s[serial]).astype(float), unit="D")
    return out


def _file_row(r: Any) -> int:
    """A row as shown: a plain ``int``, or the :class:`govml.errors.SheetRow` of a workbook read with
    ``--sheet all`` as it is (it names its sheet: ``1月!12``)."""
    return r if hasattr(r, "sheet") else int(r)


def _file_rows(events: pd.DataFrame) -> np.ndarray:
    """The user's row numbers (header = row 1) of each row: from govml.io's metadata when present (the rows of
    several sheets read as one table keep their sheet: an object array of them)."""
    try:
        from govml.io import source_rows

        rows = source_rows(events)
        if rows is not None and len(rows) == len(events):
            return np.asarray(rows, dtype=object if rows and hasattr(rows[0], "sheet") else np.int64)
    except (ImportError, KeyError, TypeError, ValueError):
        pass
    return np.arange(len(events), dtype=np.int64) + 2


def _canonical_names(values: pd.Series, ex: Exclusions, what: str, file_rows: np.ndarray) -> pd.Series:
    """Names as one spelling (:func:`govml.io.merge_spellings`: NFKC, spaces (also one between two Chinese
    characters) and case folded, the most frequent spelling shown); each spelling merged into another is
    reported in ``ex.notes`` with its rows (the rows are kept, under the merged name)."""
    raw = label_text(values.reset_index(drop=True))  # district 8 read as 8.0 beside blank cells is 8
    out = merge_spellings(raw, cjk_spaces=True)  # 城乡 建设 (a space typed between two characters) is 城乡建设
    changed = (raw != out).fillna(False).to_numpy()
    if changed.any():
        pairs = pd.DataFrame({"raw": raw[changed], "to": out[changed]}).value_counts().reset_index()
        pairs = pairs[pairs["to"] != ""]
        if len(pairs):
            shown = "; ".join(f"{r['raw']!r} → {r['to']!r} ({r['count']} row(s))" for _, r in pairs.head(5).iterrows())
            more = f" and {len(pairs) - 5} more" if len(pairs) > 5 else ""
            ex.notes.append(f"{len(pairs)} {what} spelling(s) with full-width characters, extra spaces or another "
                            f"upper/lower case merged into the most frequent spelling ({int(pairs['count'].sum())} "
                            f"row(s) renamed): {shown}{more} (e.g. file row {_file_row(file_rows[changed][0])})")
    return out


def clean_events(
    events: pd.DataFrame,
    *,
    time_col: str = "created_at",
    area_col: str = "community",
    category_col: str = "category",
    district_col: str | None = None,
    areas: pd.DataFrame | None = None,
    now: pd.Timestamp | str | None = None,
    min_category_events: int = 2,
    file: str = "events",
    category_level: int | None = None,
) -> tuple[pd.DataFrame, Exclusions]:
    """Canonical, usable events plus an account of every row set aside.

    Returns ``(clean, exclusions)``; ``clean`` has ``created_at`` (datetime), ``area``,
    ``category`` (strings) and ``district`` when ``district_col`` (or ``areas`` with a district
    column) gives one. ``areas`` (columns ``area`` and optionally ``district``) is the list of
    known areas: events in other areas are excluded as ``unknown_area``. ``now`` is the reference
    time for "future" (default: the current time). Categories written as paths of a category tree
    (``城乡建设/住房/物业管理``, ``城乡建设-物业``; :func:`govml.io.category_tree`) are kept whole and said in the
    notes; ``category_level=1`` keeps their first level (2 the first two …). Raises :class:`DataError` when a
    named column does not exist or nothing usable remains, :class:`ConfigError` for a ``category_level``
    on categories that are not paths.
    """
    missing = [c for c in (time_col, area_col, category_col, district_col) if c and c not in events.columns]
    if missing:
        from govml.io import period_columns

        have = ", ".join(map(str, events.columns))
        periods = period_columns(events.columns)
        wide = (f" — {periods[0]} … {periods[-1]} are periods: a table of counts per period, one column each, is not "
                "events; forecasting reads one row per event (its time, area and category), as a 12345 system exports "
                "its work orders") if periods else ""
        raise DataError([Problem(file, None, c, f"a column with this name — none in the file, whose columns are: "
                                 f"{have}{wide}") for c in missing])
    if len(events) == 0:
        raise DataError(message=f"{file}: no data rows below the header (columns "
                        f"{', '.join(map(str, events.columns))}); expected one row per event")
    ex = Exclusions(rows_in=int(len(events)))
    file_rows = _file_rows(events)
    t = _parse_times(events[time_col].reset_index(drop=True), file, time_col)
    area = _canonical_names(events[area_col], ex, "area", file_rows)
    cat = _canonical_names(_category_levels(events[category_col], category_col, category_level, ex, events), ex,
                           "category", file_rows)
    keep = np.ones(len(events), dtype=bool)

    from govml.io import blank_cells

    raw_t = events[time_col].reset_index(drop=True)
    empty_t = blank_cells(raw_t)
    bad = t.isna().to_numpy()
    ph = np.zeros(len(bad), dtype=bool)
    if (bad & ~empty_t).any():  # 1970-01-01 08:00, 1900-01-01, 0000-00-00: a system's "no time", not an unreadable one
        from govml.io import placeholder_times

        ph[np.flatnonzero(bad & ~empty_t)] = placeholder_times(raw_t[bad & ~empty_t])
    ex.add("missing_time", file_rows[bad & empty_t & keep], file_row_offset=0)
    ex.add("placeholder_time", file_rows[ph & keep], file_row_offset=0)
    ex.add("unparseable_time", file_rows[bad & ~empty_t & ~ph & keep], file_row_offset=0)
    if (bad & ~empty_t & ~ph).any():
        from govml.io import CLOCK_ONLY_HINT, _clock_only

        seen = pd.unique(raw_t[bad & ~empty_t & ~ph].astype("string"))
        hint = f"; {CLOCK_ONLY_HINT}" if _clock_only(raw_t) else ""
        ex.notes.append(f"{len(seen)} distinct time value(s) in column '{time_col}' could not be read as dates, "
                        f"e.g. {', '.join(repr(str(v)) for v in seen[:5])} (expected e.g. 2019-02-28, "
                        f"2019/2/28 11:25, 2019年2月28日 or an Excel date){hint}")
    from govml.io import date_notes

    ex.notes += date_notes(raw_t[~bad], time_col)
    keep &= ~bad
    ref = pd.Timestamp.now() if now is None else pd.Timestamp(now)
    fut = (t > ref).fillna(False).to_numpy()
    ex.add("future_time", file_rows[fut & keep], file_row_offset=0)
    keep &= ~fut
    miss_a = (area.isna() | (area == "")).to_numpy()
    ex.add("missing_area", file_rows[miss_a & keep], file_row_offset=0)
    keep &= ~miss_a
    district = None
    if areas is not None:
        if "area" not in areas.columns:
            raise DataError([Problem("areas", None, "area", "a column named 'area'")])
        # matched as the events' names are (NFKC, spaces, case); an event takes the table's spelling
        table = plain_names(areas["area"])
        by_key = dict(zip(table.str.casefold(), table, strict=True))
        area = area.str.casefold().map(by_key).fillna(area)
        known = set(table.dropna())
        unk = (~area.isin(known)).fillna(True).to_numpy()
        ex.add("unknown_area", file_rows[unk & keep], file_row_offset=0)
        keep &= ~unk
        if "district" in areas.columns and district_col is None:
            lut = dict(zip(table, areas["district"].astype("string"), strict=False))
            district = area.map(lut)
    if district_col is not None:
        district = _canonical_names(events[district_col], ex, "district", file_rows)
    miss_c = (cat.isna() | (cat == "")).to_numpy()
    ex.add("missing_category", file_rows[miss_c & keep], file_row_offset=0)
    keep &= ~miss_c
    n_cat, n_rows = int(cat[keep].nunique()), int(keep.sum())
    if n_cat > LIKELY_NOT_CATEGORIES and n_cat > 0.5 * n_rows:  # e.g. the titles named as the category column
        ex.notes.insert(0, f"column '{category_col}' holds {n_cat:,} different values in {n_rows:,} rows: is it "
                           "the category column? (a category column holds a few names, each with many events)")
    if min_category_events > 1:
        counts = cat[keep].value_counts()
        rare = counts[counts < min_category_events].index
        is_rare = cat.isin(rare).fillna(False).to_numpy()
        if keep[is_rare].any():
            ex.notes.append(f"{len(rare)} categor(y/ies) with fewer than {min_category_events} events "
                            f"excluded: {', '.join(map(str, list(rare)[:10]))}")
        ex.add("rare_category", file_rows[is_rare & keep], file_row_offset=0)
        keep &= ~is_rare
    out = pd.DataFrame({"created_at": t[keep].to_numpy(), "area": area[keep].to_numpy(),
                        "category": cat[keep].to_numpy()})
    if district is not None:
        out["district"] = district[keep].fillna("(unknown)").to_numpy()
    out.attrs["source_rows"] = file_rows[keep]
    ex.rows_used = int(keep.sum())
    if ex.rows_used == 0:
        which = "--now" if now is not None else "today; --now DATE sets another"
        late = (f" — every time is after the reference time {ref:%Y-%m-%d %H:%M} ({which}): is the exporting system's "
                "clock or year wrong?" if ex.counts.get("future_time") == ex.rows_in else "")
        raise DataError(message=f"{file}: no usable events left ({'; '.join(ex.lines())}){late}")
    for line in ex.lines():
        log.info("%s", line)
    return out, ex


def _category_levels(values: pd.Series, column: str, level: int | None, ex: Exclusions,
                     frame: pd.DataFrame | None = None) -> pd.Series:
    """The categories as asked (whole, or their first ``level`` levels), with a note when they are paths.
    ``frame`` (the events): a column that is one level of 一级分类 / 二级分类 / … whose names repeat under two
    parents is read as paths first (:func:`govml.io.category_from_levels`)."""
    from govml.io import category_from_levels, category_paths

    if frame is not None:
        values, level_note = category_from_levels(frame, column)
        if level_note:
            ex.notes.append(level_note)
    out, note = category_paths(values, column, level, wording="forecast")
    if note:
        ex.notes.append(note)
    return out


LIKELY_NOT_CATEGORIES = 100
"""More distinct categories than this, and more than one per two events: the named column is probably not a
category column (titles, ids, free text) — said first among the notes."""

INCOMPLETE_TOLERANCE = 0.1
"""A first or last period missing at most this share of its days (rounded down) is kept, not dropped: a month
whose data start on the 2nd (a quiet New Year's Day, an export cut a day short) still counts — dropping it would
lose the most recent month. Weeks and days tolerate no missing day (one day is 14 % of a week)."""


def incomplete_tolerance(days: int) -> int:
    """Missing days tolerated in a first/last period of ``days`` days (see :data:`INCOMPLETE_TOLERANCE`)."""
    return int(np.floor(INCOMPLETE_TOLERANCE * days + 1e-9))


def build_panel(
    events: pd.DataFrame,
    *,
    freq: str = "W",
    time_col: str = "created_at",
    area_col: str = "area",
    category_col: str = "category",
    district_col: str | None = None,
    exposure: pd.DataFrame | None = None,
    drop_incomplete: bool = True,
    exclusions: Exclusions | None = None,
    calendar: bool = True,
) -> pd.DataFrame:
    """Zero-filled counts per area × category × period, with hierarchy, exposure and calendar.

    ``events`` must have parsed times (run :func:`clean_events` first for raw user tables).
    ``district_col`` defaults to ``"district"`` when that column exists. ``exposure`` is a table
    with ``area`` and ``exposure`` (population or households). ``drop_incomplete`` removes a
    first/last period not fully covered by the data (counts in it would look like a dip; a month missing at most
    3 of its days is kept, :data:`INCOMPLETE_TOLERANCE`); the dropped events are counted in ``exclusions`` when one is given, and always logged.
    """
    for c in (time_col, area_col, category_col):
        if c not in events.columns:
            raise DataError([Problem("events", None, c, "a column with this name",
                                     f"columns {', '.join(map(str, events.columns))}")])
    if district_col is None and "district" in events.columns:
        district_col = "district"
    t = events[time_col]
    if not pd.api.types.is_datetime64_any_dtype(t):
        raise DataError([Problem("events", None, time_col, "parsed date-times (run clean_events first)",
                                 str(t.dtype))])
    if t.isna().any():
        raise DataError([Problem("events", int(np.flatnonzero(t.isna().to_numpy())[0]) + 2, time_col,
                                 "a date-time", "an empty value")])
    from govml.io import beijing_clock

    t = beijing_clock(t)  # weeks and months on Beijing's clock, as govml reads every time
    # names as text (area codes read as numbers, 8.0 from a column with blanks → 8; categories; Arrow strings); an
    # empty one is refused here (clean_events sets such rows aside) rather than sorted beside text
    names = {}
    for c in (area_col, category_col):
        v = label_text(events[c])
        if v.isna().any():
            raise DataError([Problem("events", int(np.flatnonzero(v.isna().to_numpy())[0]) + 2, c,
                                     "a name (clean_events sets rows without one aside)", "an empty value")])
        names[c] = v.astype(str)
    ps = period_start(t, freq)
    off = period_offset(freq)
    first, last = ps.min(), ps.max()
    if drop_incomplete:
        tmin, tmax = t.min(), t.max()
        drop, kept = [], []
        if last > first:
            for p, missing in ((first, (tmin.normalize() - first).days),
                               (last, (last + off - pd.Timedelta(days=1) - tmax.normalize()).days)):
                if missing <= 0:
                    continue
                days = (p + off - p).days
                (drop if missing > incomplete_tolerance(days) else kept).append((p, missing, days))
        for p, missing, days in kept:
            msg = (f"period starting {p.date()} lacks {missing} of its {days} days (data cover {tmin.date()} to "
                   f"{tmax.date()}): kept — at most {incomplete_tolerance(days)} missing days are tolerated, "
                   f"its count may be up to {missing / days:.0%} low")
            log.info("%s", msg)
            if exclusions is not None:
                exclusions.notes.append(msg)
        drop = [p for p, _, _ in drop]
        for p in drop:
            n = int((ps == p).sum())
            msg = (f"period starting {p.date()} is incomplete (data cover {tmin.date()} to {tmax.date()}): "
                   f"dropped with its {n} event(s)")
            # said once: to the caller's exclusions when it collects them (the command line lists their
            # notes), else as a warning
            log.log(logging.INFO if exclusions is not None else logging.WARNING, "%s", msg)
            if exclusions is not None:
                exclusions.notes.append(msg)
                src = events.attrs.get("source_rows")
                hit = np.flatnonzero((ps == p).to_numpy())
                exclusions.add("incomplete_period", src[hit] if src is not None and len(src) == len(ps) else hit,
                               file_row_offset=0 if src is not None and len(src) == len(ps) else 2)
                exclusions.rows_used -= n
        if drop:
            keep = ~ps.isin(drop).to_numpy()
            events, ps = events.loc[keep], ps[keep]
            names = {c: v[keep] for c, v in names.items()}
            if len(events) == 0:
                raise DataError(message="no complete period in the data (all events fall in one partial period)")
            first, last = ps.min(), ps.max()
    periods = pd.date_range(first, last, freq={"D": "D", "W": "W-MON", "M": "MS"}[freq])
    areas = sorted(pd.unique(names[area_col]))
    cats = sorted(pd.unique(names[category_col]))
    area_code = pd.Categorical(names[area_col], categories=areas).codes
    cat_code = pd.Categorical(names[category_col], categories=cats).codes
    per_code = periods.get_indexer(pd.DatetimeIndex(ps))
    A, C, T = len(areas), len(cats), len(periods)
    flat = (area_code.astype(np.int64) * C + cat_code) * T + per_code
    counts = np.bincount(flat, minlength=A * C * T).astype(np.float64)
    panel = pd.DataFrame({
        "area": pd.Categorical.from_codes(np.repeat(np.arange(A), C * T), categories=areas),
        "category": pd.Categorical.from_codes(np.tile(np.repeat(np.arange(C), T), A), categories=cats),
        "period_start": np.tile(periods.to_numpy(), A * C),
        "y": counts,
    })
    if district_col is not None:
        d = (events.assign(_a=names[area_col].to_numpy())
             .groupby("_a", observed=True)[district_col]
             .agg(lambda s: s.astype(str).mode().iloc[0]))
        dist = d.reindex(areas).fillna("(unknown)").astype(str)
        panel.insert(2, "district", pd.Categorical(np.repeat(dist.to_numpy(), C * T),
                                                   categories=sorted(dist.unique())))
    if exposure is not None:
        if not {"area", "exposure"} <= set(exposure.columns):
            raise DataError([Problem("exposure", None, c, "a column with this name")
                             for c in ("area", "exposure") if c not in exposure.columns])
        e = exposure.assign(area=exposure["area"].astype(str)).set_index("area")["exposure"]
        panel["exposure"] = panel["area"].astype(str).map(e).astype(float).to_numpy()
    if calendar:
        cal = calendar_features(periods, freq)
        panel = panel.merge(cal[["period_start", *CALENDAR_COLUMNS]], on="period_start", how="left")
    panel.attrs["freq"] = freq
    return panel


def panel_matrix(panel: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame, pd.DatetimeIndex]:
    """The panel's counts as a dense (series × periods) matrix, the series keys and the periods.

    The panel is first read as :func:`as_panel` reads it (a panel saved and read back, filtered, re-sorted or
    with Arrow columns is the same panel); then it must be rectangular: every series needs every period.
    """
    panel = as_panel(panel)
    periods = pd.DatetimeIndex(pd.unique(panel["period_start"])).sort_values()
    T = len(periods)
    n = len(panel)
    S = n // T
    keys_cols = [c for c in ("area", "category", "district", "exposure") if c in panel.columns]
    keys = panel[keys_cols].iloc[::T].reset_index(drop=True)
    y = panel["y"].to_numpy(dtype=np.float64).reshape(S, T)
    return y, keys, periods


PANEL_KEYS = ("area", "category", "district")
"""The key columns of a panel that the forecaster reads as categories (``district`` when present)."""


def as_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """``panel`` as :func:`build_panel` makes it, for a panel an analyst hands over in another shape: key columns
    (``area``, ``category``, ``district``) of any dtype (text, Arrow strings, whole numbers, object) become categories
    with sorted names; ``period_start`` as Arrow timestamps, text or with a time zone (read on Beijing's clock)
    becomes plain datetimes; ``y`` of any numeric dtype becomes floats; rows in any order (a filtered, shuffled or
    concatenated frame, any index) are sorted by area, category, period_start. A panel already in that shape is
    returned as it is (no copy). Raises :class:`DataError` for an empty panel, a missing column, an empty key, time
    or count, a negative count, or a panel where some series lacks some period (it is not rectangular)."""
    where = "panel"
    if not isinstance(panel, pd.DataFrame):
        raise DataError(message=f"{where}: expected a DataFrame (from build_panel), found {type(panel).__name__}")
    missing = [c for c in ("area", "category", "period_start", "y") if c not in panel.columns]
    if missing:
        raise DataError([Problem(where, None, c, "a column with this name (build the panel with build_panel)",
                                 f"columns {', '.join(map(str, panel.columns))}") for c in missing])
    if len(panel) == 0:
        raise DataError(message=f"{where}: the panel has no rows (a filter that kept nothing?); build it with "
                        "build_panel from the events")
    fixed: dict[str, Any] = {}

    def first_bad(mask: np.ndarray, column: str, expected: str, found: str) -> None:
        if mask.any():
            r = int(np.flatnonzero(mask)[0])
            raise DataError([Problem(where, None, column, expected, found)],
                            message=f"{where}, column {column!r}: expected {expected}, found {found} in "
                                    f"{int(mask.sum())} row(s), the first at position {r} (index {panel.index[r]!r})")

    ps = panel["period_start"]
    if not (isinstance(ps.dtype, np.dtype) and ps.dtype.kind == "M"):  # Arrow, tz-aware, text, object
        t = pd.to_datetime(ps, errors="coerce", format="mixed") if not pd.api.types.is_datetime64_any_dtype(ps) \
            else pd.to_datetime(ps)
        from govml.io import beijing_clock

        t = beijing_clock(t)
        if not (isinstance(t.dtype, np.dtype) and t.dtype.kind == "M"):  # Arrow timestamps without a zone
            t = t.astype("datetime64[ns]")
        fixed["period_start"] = t
        ps = t
    first_bad(ps.isna().to_numpy(), "period_start", "a period start date", "an empty or unreadable value")
    for c in PANEL_KEYS:
        if c in panel.columns and not isinstance(panel[c].dtype, pd.CategoricalDtype):
            v = label_text(panel[c])
            first_bad(v.isna().to_numpy(), c, "a name", "an empty value")
            v = v.astype(str)
            fixed[c] = pd.Categorical(v, categories=sorted(pd.unique(v)))
    y = panel["y"]
    if not (isinstance(y.dtype, np.dtype) and y.dtype == np.float64):
        if pd.api.types.is_bool_dtype(y) or not (pd.api.types.is_numeric_dtype(y) or y.dtype == object):
            raise DataError([Problem(where, None, "y", "counts (numbers)", str(y.dtype))])
        y = pd.to_numeric(y, errors="coerce").astype("float64")
        fixed["y"] = y
    first_bad(y.isna().to_numpy(), "y", "a count (0 when nothing happened)", "an empty or non-numeric value")
    first_bad((y < 0).to_numpy(), "y", "a count >= 0", "a negative value")
    out = panel.assign(**fixed) if fixed else panel
    periods = pd.DatetimeIndex(pd.unique(out["period_start"])).sort_values()
    T, n = len(periods), len(out)
    if n % T:
        raise DataError(message="the panel is not rectangular: every series needs every period "
                        "(build it with build_panel)")
    if not _sorted_rectangle(out, periods):
        key_cols = [c for c in PANEL_KEYS if c in out.columns]
        out = out.sort_values([*key_cols, "period_start"], kind="stable").reset_index(drop=True)
        if not _sorted_rectangle(out, periods):
            raise DataError(message="the panel is not rectangular: every area × category series needs every "
                            "period exactly once (build it with build_panel)")
        log.info("panel: rows sorted by area, category, period_start")
    return out


def _sorted_rectangle(panel: pd.DataFrame, periods: pd.DatetimeIndex) -> bool:
    """Rows are series after series, each with every period in order, and no series comes twice."""
    T = len(periods)
    S = len(panel) // T
    ps = panel["period_start"].to_numpy().reshape(S, T)
    if not (ps == periods.to_numpy()[None, :]).all():
        return False
    # categories by now; a district too when there is one (a federation's panel may name one area in two districts)
    codes = [panel[c].cat.codes.to_numpy().reshape(S, T) for c in PANEL_KEYS if c in panel.columns]
    if not all((k == k[:, :1]).all() for k in codes):
        return False  # a series' periods split over two blocks (rows sorted by period, then area)
    first = np.zeros(S, dtype=np.int64)
    for k in codes:
        first = first * (int(k.max()) + 2) + k[:, 0] + 1
    return len(np.unique(first)) == S  # no series twice


def truncate(panel: pd.DataFrame, origin: pd.Timestamp | str) -> pd.DataFrame:
    """The panel as it was known at ``origin``: periods up to and including it."""
    return panel.loc[panel["period_start"] <= pd.Timestamp(origin)].reset_index(drop=True)


def panel_notes(panel: pd.DataFrame, young: int = 4) -> list[str]:
    """Plain-language notes on series the forecaster can say little about (they are kept, not dropped)."""
    y, keys, periods = panel_matrix(panel)
    nz = y > 0
    first = np.where(nz.any(axis=1), nz.argmax(axis=1), -1)
    T = y.shape[1]
    notes = []
    last_only = int(np.sum(first == T - 1))
    if last_only:
        notes.append(f"{last_only} series start in the last period ({periods[-1].date()}): kept, forecast "
                     "from their area's and category's pooled history")
    recent = int(np.sum((first >= T - young) & (first < T - 1)))
    if recent:
        notes.append(f"{recent} series have fewer than {young} periods of history: kept, forecasts lean on "
                     "pooled information")
    never = int(np.sum(first < 0))
    if never:
        notes.append(f"{never} area × category combination(s) never had an event: kept as zero series")
    thin = thin_tail(y.sum(axis=0))
    if thin:
        k, n, typical = thin
        notes.append(f"the last {k} period(s) (from {periods[T - k].date()}) hold {n} event(s) in all against "
                     f"about {typical:g} a period before them: the data may end early (an export cut short); "
                     "forecasts start from this drop — if it is not real, end the data earlier (--now DATE)")
    return notes


def thin_tail(totals: np.ndarray, *, ratio: float = 0.2, max_periods: int = 4, window: int = 17,
              min_typical: float = 8.0) -> tuple[int, int, float] | None:
    """(periods, events in them, typical events a period) when the last 1..``max_periods`` periods each hold
    under ``ratio`` × the median period total of the last ``window`` periods (at least ``min_typical``),
    else None: the sign of an export cut short (附件3: ~75 messages a week, then 1 and 2)."""
    tot = np.asarray(totals, dtype=float)
    T = len(tot)
    if T < 2 * max_periods:
        return None
    typical = float(np.median(tot[max(0, T - window):]))
    if typical < min_typical:
        return None
    k = 0
    while k < max_periods and tot[T - 1 - k] < ratio * typical:
        k += 1
    if k == 0 or k == max_periods and tot[T - 1 - k] < ratio * typical:
        return None  # nothing thin, or a long quiet stretch: a real change, not a cut
    return k, int(tot[T - k:].sum()), round(typical, 1)


INTRA_TAIL_DAYS = (1, 2, 3, 4, 5, 6, 7)
""":func:`add_intra_period`: the ``tail_k`` columns it adds (events in the last ``k`` days of each period)."""


def add_intra_period(panel: pd.DataFrame, events: pd.DataFrame, *, time_col: str = "created_at",
                     area_col: str = "area", category_col: str = "category", close: pd.Series | str | None = None,
                     tail_days: tuple[int, ...] = INTRA_TAIL_DAYS, freq: str | None = None) -> pd.DataFrame:
    """``panel`` with information from *inside* its periods (session 18, issue 4; read by
    ``HotspotForecaster(intra_features=...)`` and the ``"tail_k"`` level candidates):

    * ``tail_k`` (``k`` in ``tail_days``): the events of each cell in the **last ``k`` days** of the period
      (``tail_7`` of a week is its count; together the columns give the period's last days one by one);
    * ``open_end`` (when ``close`` is given: the close times, a column of ``events`` or a Series aligned with its
      rows; empty = not closed): the cell's events opened before the period's end and not closed by then — the
      open-case backlog at the period's end.

    Each value at a period uses only events with times before that period's end (a close time at or after the
    end counts the case as open), so a feature read at an origin sees nothing later. ``events`` are the clean
    events the panel was built from (:func:`clean_events`); an event outside the panel's periods or cells adds
    nothing (an event opened before the first period still counts in the backlog while it is open).
    """
    panel = as_panel(panel)
    for c in (time_col, area_col, category_col):
        if c not in events.columns:
            raise DataError([Problem("events", None, c, "a column with this name",
                                     f"columns {', '.join(map(str, events.columns))}")])
    bad = [k for k in tail_days if int(k) < 1]
    if bad:
        raise DataError(message=f"add_intra_period: tail_days must be whole days >= 1, got {bad}")
    from govml.hotspot.features import infer_freq
    from govml.io import beijing_clock

    periods = pd.DatetimeIndex(pd.unique(panel["period_start"])).sort_values()
    freq = freq or panel.attrs.get("freq") or infer_freq(periods)
    T = len(periods)
    S = len(panel) // T
    t = events[time_col]
    if not pd.api.types.is_datetime64_any_dtype(t):
        raise DataError([Problem("events", None, time_col, "parsed date-times (run clean_events first)", str(t.dtype))])
    t = beijing_clock(t).reset_index(drop=True)
    keys = panel[["area", "category"]].iloc[::T].reset_index(drop=True)
    sid = pd.MultiIndex.from_frame(keys.astype(str)).get_indexer(
        pd.MultiIndex.from_arrays([label_text(events[area_col]).astype(str).to_numpy(),
                                   label_text(events[category_col]).astype(str).to_numpy()]))
    off = period_offset(freq)
    # nanoseconds throughout (times with sub-microsecond parts against period ends of another unit)
    ends = np.array([(p + off).to_datetime64() for p in periods], dtype="datetime64[ns]")
    ps = pd.DatetimeIndex(period_start(t, freq))
    col = periods.get_indexer(ps)
    ok = (sid >= 0) & (col >= 0) & t.notna().to_numpy()
    out = panel.copy()
    tn = t.to_numpy().astype("datetime64[ns]")
    for k in tail_days:
        k = int(k)
        inside = ok.copy()
        inside[ok] = tn[ok] >= ends[col[ok]] - np.timedelta64(k, "D")
        m = np.bincount(sid[inside] * T + col[inside], minlength=S * T).astype(np.float64)
        out[f"tail_{k}"] = m
    if close is not None:
        c = events[close] if isinstance(close, str) else pd.Series(close)
        if len(c) != len(events):
            raise DataError(message=f"add_intra_period: {len(c)} close times for {len(events)} events")
        ct = c if pd.api.types.is_datetime64_any_dtype(c) else pd.to_datetime(c, errors="coerce", format="mixed")
        ct = beijing_clock(ct).reset_index(drop=True)
        known = (sid >= 0) & t.notna().to_numpy() & (tn < ends[-1])
        # the column from which each event is open (its period; the first when opened before) and from which it is
        # closed (the first period whose end is after the close time; T: still open at the panel's end)
        opened = np.clip(np.searchsorted(ends, tn[known], side="right"), 0, T)
        cv = ct.to_numpy().astype("datetime64[ns]")[known]
        shut = np.where(np.isnat(cv), T, np.searchsorted(ends, np.where(np.isnat(cv), tn[known], cv), side="right"))
        shut = np.maximum(shut, opened)
        delta = np.zeros((S, T + 1))
        np.add.at(delta, (sid[known], opened), 1.0)
        np.add.at(delta, (sid[known], shut), -1.0)
        out["open_end"] = np.cumsum(delta, axis=1)[:, :T].reshape(-1)
    out.attrs.update(panel.attrs)
    return out
