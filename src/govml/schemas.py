"""The canonical tables govml works on, and the checks that decide whether a user's table can be used.

Four kinds: ``messages`` (resident messages / hotline records), ``events`` (complaints, for hotspot
forecasting), ``assessments`` (worker assessment scores, wide or long form) and ``courses`` (a
training-course catalog). :func:`check_file` reads a file, applies the column mapping, converts types
and runs every check, collecting *all* problems (up to a limit) into a :class:`Report`: ``errors``
make the table unusable, ``warnings`` do not. :func:`govml.io.load` raises a
:class:`~govml.errors.DataError` from the errors.

A capability adds checks of its own with :func:`register_check`::

    def scores_in_range(df, report):
        for pos in np.flatnonzero(df["score"] > 100):
            report.error("score", "a score between 0 and 100", df["score"].iat[pos], pos=pos)

    register_check("assessments", scores_in_range)
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govml.errors import DataError, Problem

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

#: Text cells longer than this are truncated (with a warning naming the row): a cell this long is a
#: paste accident, and keeping it would slow every tokenizer and model downstream.
MAX_TEXT_CHARS = 100_000

TYPES = ("string", "text", "datetime", "number", "int", "category")


@dataclass(frozen=True)
class Column:
    """One canonical column. ``type``: string (ids, names), text (free text, cleaned, length-checked),
    datetime, number (float), int (whole number), category (a short label). ``min``/``max`` bound
    numbers (``gt`` makes ``min`` exclusive); ``choices`` restricts categories (after ``aliases``
    maps the user's words to ours); ``unique`` forbids repeated values; ``capped`` reads a count a message board
    shows capped (``999+``, ``10万+``) as the number written (:func:`to_number`)."""

    name: str
    type: str
    required: bool = False
    description: str = ""
    min: float | None = None
    max: float | None = None
    gt: bool = False
    unique: bool = False
    choices: tuple[str, ...] | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)
    capped: bool = False

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"unknown column type {self.type!r}; expected one of {TYPES}")


@dataclass(frozen=True)
class Kind:
    name: str
    description: str
    columns: tuple[Column, ...]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


_AREA_TYPES = {"城市": "urban", "城镇": "urban", "城区": "urban", "社区": "urban", "Urban": "urban",
               "URBAN": "urban", "农村": "rural", "乡村": "rural", "村": "rural", "Rural": "rural",
               "RURAL": "rural"}

KINDS: dict[str, Kind] = {
    "messages": Kind("messages", "resident messages or 12345-hotline records", (
        Column("id", "string", True, "the message's id", unique=True),
        Column("created_at", "datetime", True, "when the message was left"),
        Column("district", "string", True, "the district (区/县)"),
        Column("community", "string", True, "the community (社区/村)"),
        Column("text", "text", True, "the message text"),
        Column("title", "text", description="the message's subject line"),
        Column("category", "category", description="its demand category"),
        Column("channel", "category", description="how it arrived (hotline, web, app…)"),
        Column("likes", "int", description="number of likes (≥ 0)", min=0, capped=True),
        Column("status", "category", description="handling status"),
        Column("closed_at", "datetime", description="when it was closed"),
        Column("user_id", "string", description="who left it (pseudonymous id)"),
    )),
    "events": Kind("events", "complaint or service-request events (one row each)", (
        Column("created_at", "datetime", True, "when the complaint was made"),
        Column("community", "string", True, "the area it concerns (community, neighbourhood…)"),
        Column("category", "category", True, "its category"),
        Column("id", "string", description="the event's id", unique=True),
        Column("district", "string", description="the district"),
        Column("closed_at", "datetime", description="when it was closed"),
        Column("status", "category", description="handling status"),
    )),
    "assessments": Kind("assessments", "community workers' assessment scores (one column per indicator, "
                        "or long form indicator + score)", (
        Column("worker_id", "string", True, "the worker's id"),
        Column("community", "string", True, "the worker's community"),
        Column("district", "string", True, "the district"),
        Column("period", "string", True, "the assessment period (e.g. 2024Q1)"),
        Column("area_type", "category", description="urban or rural", choices=("urban", "rural"),
               aliases=_AREA_TYPES),
        Column("resident_rating", "number", description="residents' rating (≥ 0)", min=0),
        Column("source", "category", description="who scored (self, supervisor, residents…)"),
        Column("indicator", "string", description="long form: the indicator's name"),
        Column("score", "number", description="long form: the score"),
    )),
    "courses": Kind("courses", "a training-course catalog", (
        Column("course_id", "string", True, "the course's id", unique=True),
        Column("title", "text", True, "the course's title"),
        Column("hours", "number", True, "its length in hours (> 0)", min=0, gt=True),
        Column("cost", "number", description="its cost (≥ 0)", min=0),
        Column("indicators", "string", description="what it trains: name:strength;name:strength"),
        Column("prerequisites", "string", description="course ids needed first: id;id"),
        Column("capacity", "int", description="places (> 0)", min=0, gt=True),
        Column("mode", "category", description="online / offline / mixed…"),
    )),
}

Check = Callable[["pd.DataFrame", "Report"], None]
_CHECKS: dict[str, list[Check]] = {k: [] for k in KINDS}


def register_check(kind: str, func: Check) -> Check:
    """Add ``func(df, report)`` to the checks run for ``kind`` (after the built-in ones, on the
    converted frame). It reports with ``report.error(column, expected, found, pos=...)`` /
    ``report.warn(...)`` (``pos``: 0-based position in ``df``). Returns ``func`` (usable as a
    decorator with :func:`functools.partial`). Registering the same function twice is a no-op."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(KINDS)}")
    if func not in _CHECKS[kind]:
        _CHECKS[kind].append(func)
    return func


@dataclass
class Report:
    """What :func:`check_file` found. ``errors`` make the table unusable; ``warnings`` do not.

    ``rows`` holds the user's row number of each row of the table checked (:func:`govml.io.source_rows`), kept in
    step when rows are dropped; from a workbook whose sheets were read as one table they are
    :class:`~govml.errors.SheetRow` values, so every problem names its sheet (``1月!12``) and ``_flagged`` (the
    cells already reported) tells row 12 of one sheet from row 12 of another."""

    file: str
    kind: str
    max_problems: int = 50
    meta: dict[str, Any] = field(default_factory=dict)
    columns_found: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    rows: list[int] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    truncated: bool = False
    warnings_truncated: bool = False
    frame: pd.DataFrame | None = None
    _flagged: set[tuple[int | None, str | None]] = field(default_factory=set, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def n_rows(self) -> int:
        return 0 if self.frame is None else len(self.frame)

    def _row(self, pos: int | None) -> int | None:
        if pos is None:
            return None
        return self.rows[pos] if 0 <= pos < len(self.rows) else pos + 2

    def has_error(self, column: str | None, pos: int | None) -> bool:
        """Whether an error is already recorded for this cell (to report each cell once)."""
        return (self._row(pos), column) in self._flagged

    def error(self, column: str | None, expected: str, found: Any = None, *, pos: int | None = None) -> None:
        self._flagged.add((self._row(pos), column))
        if len(self.errors) >= self.max_problems:
            self.truncated = True
            return
        self.errors.append(Problem(self.file, self._row(pos), column, expected, _show(found)))

    def warn(self, column: str | None, expected: str, found: Any = None, *, pos: int | None = None) -> None:
        if len(self.warnings) >= self.max_problems:
            self.warnings_truncated = True
            return
        self.warnings.append(Problem(self.file, self._row(pos), column, expected, _show(found)))

    def raise_if_errors(self) -> None:
        if self.errors:
            raise DataError(problems=list(self.errors), truncated=self.truncated,
                            message=f"{self.file}: cannot be used as {self.kind} ({len(self.errors)}"
                            f"{'+' if self.truncated else ''} problem(s))")


def _show(v: Any) -> str | None:
    if v is None:
        return None
    try:
        import pandas as pd

        if pd.isna(v):
            return "(empty)"
    except (TypeError, ValueError):
        pass
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# --------------------------------------------------------------------------------------------------
# mapping


def _profile_hints() -> dict[str, dict[str, str]]:
    """{profile: {canonical: their column}} from the default configs/columns.yaml (empty if absent)."""
    try:
        from govml.config import load_column_profiles

        return {name: dict(p.columns) for name, p in load_column_profiles().profiles.items()}
    except Exception:  # suggestions are a courtesy: a broken or missing file must not hide the real problem
        log.debug("column profiles unavailable for suggestions", exc_info=True)
        return {}


def apply_mapping(df: pd.DataFrame, kind: Kind, mapping: Mapping[str, str], report: Report) -> pd.DataFrame:
    """Rename the user's columns to canonical names ({canonical: theirs}); unknown target names are
    allowed (they rename extra columns, e.g. indicators)."""
    from_profile = getattr(mapping, "from_profile", set())
    typed = [t for c, t in mapping.items() if c not in from_profile and t not in df.columns]
    if typed:  # --map created_at="留言 时间" as the header shows it: the column read as 留言时间 (said)
        from govml.io import columns_as_typed

        attrs = df.attrs
        df = df.copy(deep=False)
        df.attrs = attrs
        columns_as_typed(df, typed, report.file)
    cols = list(df.columns)
    new: dict[str, Any] = {}
    for canon, theirs in mapping.items():
        if theirs not in df.columns and canon in from_profile:
            report.meta.setdefault("profile_unused", []).append(f"{canon}={theirs}")
            continue
        if theirs not in df.columns:
            report.warn(canon, f"a column '{theirs}' for the mapping {canon}={theirs}",
                        "no such column; mapping not used")
            continue
        if canon in df.columns and canon != theirs and canon not in mapping.values():
            report.error(canon, f"one column for '{canon}'", f"both '{canon}' and '{theirs}' (mapped to it); "
                         "rename or drop one")
            continue
        new[canon] = df[theirs]
        report.mapping[canon] = theirs
    if not new:
        return df
    out = {}
    for c in cols:
        targets = [k for k, v in report.mapping.items() if v == c]
        if targets:
            for t in targets:
                out[t] = new[t]
        elif c not in new:
            out[c] = df[c]
    import pandas as pd

    result = pd.DataFrame(out, index=df.index)
    result.attrs = df.attrs
    return result


def _missing_column(kind: Kind, col: Column, df: pd.DataFrame, mapping: Mapping[str, str],
                    report: Report, hints: dict[str, dict[str, str]],
                    aliases: Mapping[str, Sequence[str]] = {}) -> None:  # noqa: B006 (read only)
    found = list(df.columns)
    original = report.columns_found or found
    expected = f"a column '{col.name}' ({col.description})"
    if col.name in mapping and mapping[col.name] not in found:
        expected += f"; the mapping {col.name}={mapping[col.name]} names a column that is not in the file"
    else:
        canonical = {c.name for c in kind.columns}
        unmapped = [c for c in found if c not in canonical]
        close = difflib.get_close_matches(col.name, unmapped, n=1, cutoff=0.6)
        profiles = sorted(name for name, cols in hints.items() if cols.get(col.name) in found)
        usual = [n for n in aliases.get(col.name, ()) if n in unmapped]
        if close:
            expected += f"; did you mean '{close[0]}'? map it with --map {col.name}={close[0]}"
        elif profiles:
            theirs = hints[profiles[0]][col.name]
            expected += (f"; '{theirs}' looks like it: use --profile {profiles[0]} or --map {col.name}={theirs}")
        elif usual:  # a usual name of it (more than one, for the kinds read by them)
            expected += (f"; '{usual[0]}' looks like it (a usual name of it"
                         + (f"; so do {', '.join(repr(u) for u in usual[1:])}" if len(usual) > 1 else "")
                         + f"): map it with --map {col.name}={usual[0]}")
        else:
            expected += f"; map one of your columns to it with --map {col.name}=YOUR_COLUMN"
    report.error(col.name, expected, "columns: " + ", ".join(original) if original else "no columns")


# --------------------------------------------------------------------------------------------------
# conversions


def _as_string(s: pd.Series) -> pd.Series:
    """Any column → cleaned ``str`` (integral floats lose their ``.0``: Excel ids come back as floats)."""
    import pandas as pd

    from govml.io import _clean_series, clean_text

    if pd.api.types.is_string_dtype(s) and s.dtype != object:
        return s
    if pd.api.types.is_float_dtype(s):
        vals = [None if v != v else (str(int(v)) if float(v).is_integer() else repr(float(v))) for v in s]
        return pd.Series(vals, index=s.index, dtype="str")
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return s.astype("str").mask(s.isna())
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.strftime("%Y-%m-%d %H:%M:%S").astype("str")

    def one(v: Any) -> Any:
        if v is None or (isinstance(v, float) and v != v):
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return clean_text(str(v)) if not isinstance(v, str) else v

    out = pd.Series([one(v) for v in s], index=s.index, dtype="str")
    return _clean_series(out)


def _to_number(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(float series, mask of non-empty values that are not numbers)."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(s):
        return pd.Series(float("nan"), index=s.index), s.notna()
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64"), pd.Series(False, index=s.index)
    txt = _as_string(s)
    norm = txt.map(lambda v: None if v is None or v != v else unicodedata.normalize("NFKC", v)
                   .replace(",", "").replace(" ", "").replace("%", ""), na_action="ignore")
    num = pd.to_numeric(norm, errors="coerce").astype("float64")
    # 1.2万 / 3千 / 1.5k / 2w: how counts (likes, views) are shown on Chinese boards and in some exports
    scaled = norm.astype("string").str.extract(_SCALED_NUMBER)
    hit = scaled["n"].notna() & num.isna()
    if hit.any():
        num = num.mask(hit, pd.to_numeric(scaled["n"][hit], errors="coerce")
                       * scaled["u"][hit].str.lower().map(_NUMBER_UNITS).astype("float64"))
    return num, txt.notna() & num.isna()


_SCALED_NUMBER = r"^(?P<n>\d+(?:\.\d+)?)(?P<u>万|千|亿|[kKwW])$"
_NUMBER_UNITS = {"万": 1e4, "千": 1e3, "亿": 1e8, "k": 1e3, "w": 1e4}


def to_number(s: pd.Series, column: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Counts and amounts as exports write them — ``1,234``, ``1.2万``, ``3k``, ``85%``, full-width digits; ``-``,
    ``无``, ``N/A`` and empty cells are missing — as ``(float series, mask of non-empty values that are not
    numbers)``: what :func:`validate` reads a number column with, for callers that read one themselves (like
    counts). A count a message board shows capped, ``999+`` / ``10万+`` (at least that many), is read as the number
    it names — the least it can be, not 0 — and said (``column`` names it)."""
    s, note = _capped_counts(_blank_placeholders(s), column)
    if note:
        log.warning("%s", note)
    return _to_number(s)


def _capped_counts(s: pd.Series, column: str | None) -> tuple[pd.Series, str | None]:
    """``999+`` / ``10万+`` / ``100以上`` → ``999`` / ``10万`` / ``100`` (then read by :func:`_to_number`), and the note
    that says so (``None`` when there is none)."""
    import pandas as pd

    if not (s.dtype == object or pd.api.types.is_string_dtype(s)):
        return s, None
    txt = s.astype("string")
    capped = txt.str.fullmatch(_AT_LEAST).fillna(False).to_numpy(dtype=bool)
    if not capped.any():
        return s, None
    note = (f"{int(capped.sum())} count(s)" + (f" in column '{column}'" if column else "")
            + f" written as at least that many (e.g. {str(txt[capped].iloc[0])!r}: a board's capped display) read as "
            "the number written")
    return s.mask(capped, txt.str.replace(r"\s*(?:\+|＋|以上)$", "", regex=True)), note


#: ``999+``, ``10万+``, ``1.2w+``, ``100以上``: a capped count
_AT_LEAST = r"\s*[\d,，]+(?:\.\d+)?\s*(?:万|千|亿|[kKwW])?\s*(?:\+|＋|以上)\s*"


#: What spreadsheets write for "no value" in a number or date column: read as missing, not as an error.
MISSING_TOKENS = frozenset({"-", "--", "—", "——", "–", "/", "无", "暂无", "空", "NA", "N/A", "n/a", "na",
                            "null", "NULL", "None", "none", "nan", "NaN", "#N/A"})


def _blank_placeholders(s: pd.Series) -> pd.Series:
    import pandas as pd

    if s.dtype == object or pd.api.types.is_string_dtype(s):
        hit = s.isin(MISSING_TOKENS)
        if hit.any():
            return s.mask(hit)
    return s


def _convert(df: pd.DataFrame, col: Column, report: Report) -> None:
    import numpy as np
    import pandas as pd

    from govml.io import _parse_times

    name = col.name
    s = df[name]
    if col.type in ("datetime", "number", "int"):
        s = _blank_placeholders(s)
    if col.type in ("string", "text", "category"):
        out = _as_string(s)
        if col.type == "text":
            lengths = out.str.len()
            for pos in np.flatnonzero((lengths > MAX_TEXT_CHARS).fillna(False).to_numpy()):
                report.warn(name, f"a text of at most {MAX_TEXT_CHARS:,} characters (kept the first "
                            f"{MAX_TEXT_CHARS:,})", f"{int(lengths.iat[pos]):,} characters", pos=pos)
            if (lengths > MAX_TEXT_CHARS).any():
                out = out.str.slice(0, MAX_TEXT_CHARS)
        if col.type == "category" and col.aliases:
            out = out.replace(dict(col.aliases))
        if col.choices:
            bad = out.notna() & ~out.isin(col.choices)
            for pos in np.flatnonzero(bad.to_numpy()):
                report.error(name, "one of " + ", ".join(col.choices), out.iat[pos], pos=pos)
        df[name] = out
    elif col.type == "datetime":
        from govml.io import date_notes

        out, bad, placeholder = _parse_times(s)
        if placeholder.any():  # 1970-01-01 08:00, 1900-01-01, 0000-00-00: a system's "no time" — empty, said
            shown = s[placeholder.to_numpy()].astype("str").value_counts()
            report.meta.setdefault("notes", []).append(
                f"{int(placeholder.sum()):,} cell(s) of '{report.mapping.get(name, name)}' hold a placeholder time that "
                "systems write for 'no time' (" + ", ".join(f"'{v}' {n:,}" for v, n in shown.head(3).items())
                + "): read as empty")
        notes = date_notes(s[~(bad | placeholder).to_numpy()], report.mapping.get(name, name))
        if notes:  # how the times were read (Unix times and offsets converted to Beijing time): said by `govml validate`
            report.meta.setdefault("notes", []).extend(notes)
        for pos in np.flatnonzero(bad.to_numpy()):
            report.error(name, "a date/time such as 2019-02-28 or 2019/2/28 11:25:05", s.iat[pos], pos=pos)
        future = out > pd.Timestamp.now() + pd.Timedelta(days=1)
        for pos in np.flatnonzero(future.fillna(False).to_numpy()):
            report.warn(name, "a date that is not in the future", s.iat[pos], pos=pos)
        df[name] = out
    else:  # number / int
        if col.capped:
            s, note = _capped_counts(s, report.mapping.get(name, name))
            if note:  # said by `govml validate`, as the date notes are
                report.meta.setdefault("notes", []).append(note)
        num, bad = _to_number(s)
        for pos in np.flatnonzero(bad.to_numpy()):
            report.error(name, "a whole number" if col.type == "int" else "a number", s.iat[pos], pos=pos)
        if col.type == "int":
            frac = num.notna() & (num % 1 != 0)
            for pos in np.flatnonzero(frac.to_numpy()):
                report.error(name, "a whole number", num.iat[pos], pos=pos)
        if col.min is not None:
            low = (num <= col.min) if col.gt else (num < col.min)
            for pos in np.flatnonzero(low.fillna(False).to_numpy()):
                report.error(name, f"a number {'>' if col.gt else '≥'} {col.min:g}", num.iat[pos], pos=pos)
        if col.max is not None:
            for pos in np.flatnonzero((num > col.max).fillna(False).to_numpy()):
                report.error(name, f"a number ≤ {col.max:g}", num.iat[pos], pos=pos)
        if col.type == "int" and not (bad.any() or (num.notna() & (num % 1 != 0)).any()):
            df[name] = num.astype("Int64")
        else:
            df[name] = num


def _check_unique(df: pd.DataFrame, cols: Sequence[str], report: Report, label: str) -> None:
    import numpy as np

    key = df[list(cols)]
    complete = key.notna().all(axis=1)
    dup = key.duplicated(keep=False) & complete
    if not dup.any():
        return
    first: dict[tuple, int] = {}
    for pos in np.flatnonzero(dup.to_numpy()):
        k = tuple(key.iloc[pos])
        if k in first:
            value = k[0] if len(k) == 1 else ", ".join(map(str, k))
            why = (" — an id Excel showed in scientific notation and exported so: its last digits are lost; format "
                   "the column as text (文本) and export again" if len(k) == 1 and _SCI_ID.match(str(value)) else "")
            report.error(cols[0] if len(cols) == 1 else label,
                         f"a unique {label} (the same is on row {report._row(first[k])}){why}", value, pos=pos)
        else:
            first[k] = pos


_SCI_ID = re.compile(r"^\d(?:\.\d+)?[eE]\+?\d+$")


# --------------------------------------------------------------------------------------------------
# kind-specific checks


def _check_messages(df: pd.DataFrame, report: Report) -> None:
    _check_closed_after_created(df, report)


def _check_events(df: pd.DataFrame, report: Report) -> None:
    _check_closed_after_created(df, report)


def _check_closed_after_created(df: pd.DataFrame, report: Report) -> None:
    import numpy as np

    if "closed_at" in df and "created_at" in df:
        bad = (df["closed_at"] < df["created_at"]).fillna(False)
        for pos in np.flatnonzero(bad.to_numpy()):
            report.warn("closed_at", f"a time after created_at ({df['created_at'].iat[pos]})",
                        df["closed_at"].iat[pos], pos=pos)


def _check_personal_ids(df: pd.DataFrame, report: Report) -> None:
    for pos, col, why, shown in personal_data_cells(df, ASSESSMENT_ID_COLUMNS):
        report.error(col, f"{why} ({PERSONAL_ID_WHY})", shown, pos=pos)
    # a person's name (张伟) among places written with their kind (…社区, …村): the skills commands skip the same rows
    for pos, col in personal_name_cells(df, ("community", "district")):
        report.error(col, f"a {col} name, not a person's name ({PERSONAL_ID_WHY})", "<NAME>", pos=pos)


def _check_assessments(df: pd.DataFrame, report: Report) -> None:
    import numpy as np

    kind = KINDS["assessments"]
    canon = {c.name for c in kind.columns}
    meta = report.meta
    if "indicator" in df.columns or "score" in df.columns:
        meta["assessment_form"] = "long"
        for need in ("indicator", "score"):
            if need not in df.columns:
                report.error(need, f"a column '{need}' (long form needs both indicator and score)",
                             "columns: " + ", ".join(df.columns))
        for need in ("indicator", "score"):
            if need in df.columns:
                for pos in np.flatnonzero(df[need].isna().to_numpy()):
                    if not report.has_error(need, pos):
                        report.error(need, "a value", "(empty)", pos=pos)
        key = ["worker_id", "period", "indicator"] + (["source"] if "source" in df.columns else [])
        if all(k in df.columns for k in key):
            _check_unique(df, key, report, "worker × period × indicator" + (" × source" if len(key) == 4 else ""))
        meta["indicators"] = sorted(df["indicator"].dropna().unique().tolist()) if "indicator" in df else []
        _check_personal_ids(df, report)
        return
    meta["assessment_form"] = "wide"
    _check_personal_ids(df, report)
    indicators = []
    for c in df.columns:
        if c in canon:
            continue
        num, bad = _to_number(df[c])
        present = df[c].notna().sum()
        if present == 0 or bad.sum() > 0.1 * present:
            continue  # not an indicator (a name, a note…): kept as it is
        indicators.append(c)
        for pos in np.flatnonzero(bad.to_numpy()):
            report.error(c, "a number (indicator score)", df[c].iat[pos], pos=pos)
        df[c] = num
    meta["indicators"] = indicators
    if not indicators:
        report.error(None, "at least one indicator column of numeric scores (wide form), or the columns "
                     "indicator + score (long form)", "columns: " + ", ".join(df.columns))
    key = ["worker_id", "period"] + (["source"] if "source" in df.columns else [])
    if all(k in df.columns for k in key):
        _check_unique(df, key, report, "worker × period" + (" × source" if len(key) == 3 else ""))


#: the personal-data kinds (govml.privacy) that must not stand in an identifier column, and how they are named
ID_PERSONAL_KINDS = {"PHONE": "a mobile number", "TEL": "a landline number", "IDCARD": "an ID-card number",
                     "BANKCARD": "a bank-card number", "EMAIL": "an e-mail address"}
PERSONAL_ID_WHY = "personal data: an id is copied as written into every output"
#: assessment columns copied as written into every output (scores, gaps, plans, maps, the hash-chained log)
ASSESSMENT_ID_COLUMNS = ("worker_id", "community", "district", "period")


def personal_data_cells(df: pd.DataFrame, columns: Sequence[str]) -> list[tuple[int, str, str, str]]:
    """Cells of identifier ``columns`` holding personal data (a phone or ID-card number …, :data:`ID_PERSONAL_KINDS`)
    as ``(position, column, what was expected, the cell masked)`` (say why with :data:`PERSONAL_ID_WHY`), by position then column. An identifier is copied as
    written into every output, so such a cell is refused, never masked: masking would merge or rename an id."""
    import numpy as np
    import pandas as pd

    from govml import privacy

    out = []
    for col in columns:
        if col not in df.columns:
            continue
        values = df[col]
        text = values.astype("string")
        found: dict[str, tuple[str, str] | None] = {}
        uniq = pd.Series(text.dropna().unique(), dtype="string")
        # every kind looked for has 7+ digits (full-width ones too) or an @, and a number alone is one only with 11+
        # digits or a leading 0 (a mobile has 11, an ID card 15/18, a bank card 16-19, a landline its area code):
        # the rest (W0001, staff numbers 20240001) cannot hold one
        short_number = uniq.str.fullmatch(r"[1-9]\d{0,9}").fillna(False)
        maybe = uniq[((uniq.str.count(r"\d") >= 7) | uniq.str.contains("@", regex=False)) & ~short_number]
        for v in maybe:
            hits = privacy.find(str(v), ID_PERSONAL_KINDS)
            if not hits:
                found[v] = None
                continue
            kinds = list(dict.fromkeys(ID_PERSONAL_KINDS[h.kind] for h in hits))
            what = {"worker_id": "worker id", "community": "community name", "district": "district name"}.get(col, col)
            whole = len(hits) == 1 and hits[0].value.strip() == str(v).strip()
            why = f"a {what}, not {kinds[0]}" if whole else f"a {what} without {' or '.join(kinds)} in it"
            found[v] = (why, privacy.mask(str(v), ID_PERSONAL_KINDS))
        refused = [v for v, f in found.items() if f is not None]
        if refused:
            for pos in np.flatnonzero(text.isin(refused).fillna(False).to_numpy(dtype=bool)):
                out.append((int(pos), col, *found[text.iat[pos]]))
    return sorted(out, key=lambda t: (t[0], columns.index(t[1])))


# --------------------------------------------------------------------------------------------------
# personal names in place cells (session 15; was govml.skills.readings)

#: endings of a place name (a community, village, street office, district…): a cell ending so is a place whatever
#: it starts with (张家湾社区, 王家村, 李庄, 杨家山, 金桥, 岳北) — also the short names written without their kind
_PLACE_ENDS = (
    "社区", "小区", "居委会", "村委会", "居委", "村委", "委会", "办事处", "管委会", "街道", "新区", "片区", "园区",
    "村", "镇", "乡", "街", "区", "县", "市", "州", "省", "旗", "盟", "里", "苑", "园", "城", "湾", "庄", "屯", "寨",
    "坊", "营", "堡", "港", "桥", "路", "巷", "岭", "峰", "湖", "河", "江", "溪", "塘", "池", "坪", "坝", "沟", "洲",
    "滩", "浦", "泾", "埠", "铺", "店", "集", "场", "厂", "站", "院", "府", "庭", "邸", "门", "口", "岗", "台", "坡",
    "垸", "圩", "组", "队", "社", "片", "居", "家", "岛", "矿", "所", "局", "委", "山", "冲", "甸", "弄", "田", "庙",
    "阁", "泉", "石", "岸", "渡", "坳", "坑", "垄", "垅", "东", "西", "南", "北", "新",
)
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")
#: a place column is read for personal names only when at least this share of its cells end as a place does (the
#: file writes its places with their kind: 张伟 among …社区 / …村 stands out; in a file of bare names — 龙泉, 杨柳 —
#: a name cannot be told from a place)
PLACE_SHARE = 0.8


def _surname_sets() -> tuple[frozenset[str], frozenset[str]]:
    """The common single-character and the compound surnames of ``resources/privacy/surnames.txt`` (privacy's)."""
    from govml import privacy

    return privacy._SURNAMES_COMMON, privacy._SURNAMES_COMPOUND


def _plain(value: object) -> str | None:
    return unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else None


def ends_as_place(value: object) -> bool:
    """Whether a cell ends as a place name does (:data:`_PLACE_ENDS`)."""
    v = _plain(value)
    return bool(v) and v.endswith(_PLACE_ENDS)


def looks_like_personal_name(value: object) -> bool:
    """Whether a community or district cell could be a person's name rather than a place: two to four Chinese
    characters — a frequent surname (``[common]`` or ``[compound]`` of ``resources/privacy/surnames.txt``) and one or
    two more — that do not end as a place name does (:data:`_PLACE_ENDS`: 社区, 村, 街道, 区, 湾, 庄, 桥, 山 …).
    ``张伟``, ``王秀英``, ``欧阳娜娜`` are names; ``张家湾社区``, ``王家村``, ``李庄``, ``高新区``, ``金桥`` are places.
    Names that end as places do (``王山``, ``张东``) and rarer surnames are not told (see :func:`personal_name_cells`
    for when a column is read at all)."""
    v = _plain(value)
    if v is None or not 2 <= len(v) <= 4 or not _HAN.match(v) or v.endswith(_PLACE_ENDS):
        return False
    common, compound = _surname_sets()
    if v[:2] in compound:
        return 3 <= len(v) <= 4
    return v[0] in common and len(v) <= 3


def personal_name_cells(df: pd.DataFrame, columns: tuple[str, ...] = ("community", "district"), *,
                        place_share: float = PLACE_SHARE) -> list[tuple[int, str]]:
    """``(position, column)`` of the place cells of ``df`` that hold a person's name, by position then column: cells
    that :func:`looks_like_personal_name` in a column where at least ``place_share`` of the non-empty cells end as a
    place does (a name stands out only among places written with their kind)."""
    import numpy as np

    out = []
    for col in columns:
        if col not in df.columns:
            continue
        text = df[col].astype("string")
        counts = text[text.str.strip().fillna("") != ""].value_counts()
        uniq = list(counts.index)
        placed = sum(int(n) for v, n in counts.items() if ends_as_place(v))
        if not uniq or placed < place_share * int(counts.sum()):
            continue
        names = [v for v in uniq if looks_like_personal_name(v)]
        if names:
            out += [(int(p), col) for p in np.flatnonzero(text.isin(names).fillna(False).to_numpy(dtype=bool))]
    return sorted(out, key=lambda t: (t[0], columns.index(t[1])))


def _split_list(v: str) -> list[str]:
    return [p.strip() for p in v.replace("；", ";").replace("，", ";").replace(",", ";").split(";") if p.strip()]


def _check_courses(df: pd.DataFrame, report: Report) -> None:
    if "indicators" in df.columns:
        for pos, v in enumerate(df["indicators"]):
            if v is None or v != v:
                continue
            for part in _split_list(v):
                name, sep, strength = part.replace("：", ":").partition(":")
                try:
                    ok = bool(sep) and bool(name.strip()) and float(strength) > 0
                except ValueError:
                    ok = False
                if not ok:
                    report.error("indicators", "name:strength pairs separated by ';' (strength a number > 0)",
                                 part, pos=pos)
    if "prerequisites" in df.columns and "course_id" in df.columns:
        ids = set(df["course_id"].dropna())
        for pos, v in enumerate(df["prerequisites"]):
            if v is None or v != v:
                continue
            for pid in _split_list(v):
                if pid not in ids:
                    report.error("prerequisites", "ids of courses in this catalog, separated by ';'", pid, pos=pos)
                elif pid == df["course_id"].iat[pos]:
                    report.error("prerequisites", "other courses (a course cannot require itself)", pid, pos=pos)


_BUILTIN: dict[str, Check] = {
    "messages": _check_messages,
    "events": _check_events,
    "assessments": _check_assessments,
    "courses": _check_courses,
}


def _drop_incomplete(df: pd.DataFrame, spec: Kind, report: Report) -> pd.DataFrame:
    import numpy as np

    required = [c.name for c in spec.columns if c.required and c.name in df.columns]
    empty = df[required].isna()
    drop = empty.any(axis=1).to_numpy()
    if not drop.any():
        return df
    for name in required:
        positions = np.flatnonzero(empty[name].to_numpy())
        if len(positions):
            first = ", ".join(str(report._row(p)) for p in positions[:5]) + (", …" if len(positions) > 5 else "")
            report.warn(name, f"a value ({spec.column(name).description}); --drop-incomplete dropped the "
                        f"{len(positions):,} rows where it is empty", f"empty on rows {first}")
    report.meta["dropped_rows"] = int(drop.sum())
    report.rows = [r for r, d in zip(report.rows, drop, strict=True) if not d]
    out = df[~drop].reset_index(drop=True)
    out.attrs = df.attrs
    return out


# --------------------------------------------------------------------------------------------------
# entry points


#: the kinds whose usual header names (govml.config.HEADER_ALIASES) :func:`validate` reads as ours, as the
#: commands that read them (``govml skills …``) do; messages and events columns are guessed by the commands one by
#: one (first name present wins), and validate names the likely column instead (a required one in its error, an
#: optional one — 办结时间, 办理状态 — in a note)
READ_BY_ALIAS = ("assessments", "courses")


def _aliases(kind: str, aliases: Mapping[str, Sequence[str]] | None) -> Mapping[str, Sequence[str]]:
    from govml.config import HEADER_ALIASES

    return HEADER_ALIASES.get(kind, {}) if aliases is None else aliases


def known_column_names(kind: str, mapping: Mapping[str, str] | None = None,
                       aliases: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """Names that may appear in the header of a ``kind`` file (canonical names, mapped names, the
    names in the column profiles and, for the kinds read by them, the usual header names) — used to find the
    header row."""
    names = [c.name for c in KINDS[kind].columns]
    names += list((mapping or {}).values())
    for cols in _profile_hints().values():
        names += list(cols.values())
    # every kind's usual names help to find the header row and the sheet (受理时间, 所属社区 … under a title row,
    # a data sheet behind a 说明 sheet), also for the kinds whose columns validate only names in its hints
    names += [n for ns in _aliases(kind, aliases).values() for n in ns if n not in names]
    return names


def _optional_by_usual_name(df: pd.DataFrame, kind: str, aliases: Mapping[str, Sequence[str]] | None,
                            report: Report) -> None:
    """For the kinds validate does not read by their usual names (messages, events): an optional column of ours
    that is absent while a usual name of it is in the file (办结时间 for closed_at, 办理状态 for status) is said in a
    note with the ``--map`` that has it checked — without the note it would pass unchecked and unsaid."""
    spec = KINDS[kind]
    canonical = {c.name for c in spec.columns}
    have = [str(c) for c in df.columns if str(c) not in canonical]
    table = _aliases(kind, aliases)
    hints = _profile_hints()
    notes = []
    for col in spec.columns:
        if col.required or col.name in df.columns or col.name in report.mapping:
            continue
        usual = [n for n in table.get(col.name, ()) if n in have]
        if usual:
            profiles = sorted(name for name, cols in hints.items() if cols.get(col.name) == usual[0])
            notes.append(f"{col.name} ({col.description}): '{usual[0]}' looks like it, not checked unless mapped: "
                         f"--map {col.name}={usual[0]}" + (f" (or --profile {profiles[0]})" if profiles else ""))
    if notes:
        report.meta["notes"] = [*(report.meta.get("notes") or []), *notes]


def _read_by_alias(df: pd.DataFrame, kind: str, aliases: Mapping[str, Sequence[str]] | None,
                   report: Report) -> pd.DataFrame:
    """Our column for its usual header name (工号 → worker_id) when ours is absent and exactly one is present, as
    the skills commands read them (:func:`govml.config.alias_columns`); recorded in the mapping, doubts in the notes."""
    from govml.config import alias_columns

    table = {c: ns for c, ns in _aliases(kind, aliases).items() if c not in report.mapping}
    out, notes = alias_columns(df, table)
    if out is not df:
        for c_new, c_old in zip(out.columns, df.columns, strict=True):
            if c_new != c_old:
                report.mapping[str(c_new)] = str(c_old)
    doubts = [n for n in notes if not n.startswith("columns read by")]
    if doubts:
        report.meta["notes"] = [*(report.meta.get("notes") or []), *doubts]
    return out


def validate(df: pd.DataFrame, kind: str, *, mapping: Mapping[str, str] | None = None,
             file: str | None = None, max_problems: int = 50, drop_incomplete: bool = False,
             aliases: Mapping[str, Sequence[str]] | None = None) -> Report:
    """Map, convert and check ``df`` (as returned by :func:`govml.io.read_table`); returns a
    :class:`Report` whose ``frame`` is the canonical table (``None`` if required columns are missing).

    For assessments and courses (:data:`READ_BY_ALIAS`) a column the mapping leaves absent is also found by its
    usual header name (``aliases``, default ``govml.config.HEADER_ALIASES[kind]``; the CLI passes
    :func:`govml.config.header_aliases`, which adds the names of ``configs/columns.yaml``), as the skills commands
    find it.

    ``drop_incomplete=True`` drops rows where a required value is empty (one warning per column,
    with the count and the first rows) instead of reporting each as an error."""
    from govml.io import source_rows

    if kind not in KINDS:
        raise DataError(message=f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if max_problems < 1:
        raise DataError(message=f"max_problems must be 1 or more, got {max_problems}")
    spec = KINDS[kind]
    meta = dict(df.attrs.get("govml", {}))
    report = Report(file=file or meta.get("file", "<data>"), kind=kind, max_problems=max_problems, meta=meta,
                    columns_found=[str(c) for c in df.columns], rows=source_rows(df))
    mapping = mapping if mapping is not None else {}
    if meta.get("footer_rows"):
        report.warn(None, "data rows only (footer rows below the data were skipped)",
                    "rows " + ", ".join(map(str, meta["footer_rows"])))
    for c in report.columns_found:  # read_table renames a repeated header "x" to "x.1", "x.2"...
        base, dot, n = c.rpartition(".")
        if dot and n.isdigit() and base in report.columns_found:
            report.warn(c, f"one column named '{base}' (a repeated header; the copy is read as '{c}')", base)
    df = apply_mapping(df, spec, mapping, report)
    if report.errors:  # the columns themselves are wrong: checking cells would only add noise
        return report
    if kind in READ_BY_ALIAS:
        df = _read_by_alias(df, kind, aliases, report)
    else:
        _optional_by_usual_name(df, kind, aliases, report)
    if len(df) == 0:
        report.error(None, "at least one data row", "only a header" if len(df.columns) else "nothing")
        return report
    missing = [c for c in spec.columns if c.required and c.name not in df.columns]
    if missing:
        hints = _profile_hints()
        for col in missing:
            _missing_column(spec, col, df, mapping, report, hints, _aliases(kind, aliases))
        return report
    df = df.copy()
    if drop_incomplete:
        df = _drop_incomplete(df, spec, report)
        if len(df) == 0:
            report.error(None, "at least one row with every required value", "none left")
            return report
    for col in spec.columns:
        if col.name in df.columns:
            _convert(df, col, report)
    for col in spec.columns:
        if col.required and col.name in df.columns:
            import numpy as np

            for pos in np.flatnonzero(df[col.name].isna().to_numpy()):
                if not report.has_error(col.name, pos):
                    report.error(col.name, f"a value ({col.description})", "(empty)", pos=pos)
        if col.unique and col.name in df.columns:
            _check_unique(df, [col.name], report, col.name)
    _BUILTIN[kind](df, report)
    for check in _CHECKS[kind]:
        check(df, report)
    order = [c.name for c in spec.columns if c.name in df.columns]
    df = df[order + [c for c in df.columns if c not in order]]
    from govml.io import _compact_rows

    meta["rows"] = _compact_rows(report.rows)
    meta["warnings"] = [dataclasses.asdict(w) for w in report.warnings]  # plain, JSON-able
    meta["kind"] = kind
    meta["mapping"] = dict(report.mapping)
    df.attrs["govml"] = meta
    report.frame = df
    return report


def check_file(path: str | Path, kind: str, *, mapping: Mapping[str, str] | None = None,
               encoding: str | None = None, sheet: str | int | None = None, header_row: int | None = None,
               max_problems: int = 50, drop_incomplete: bool = False,
               aliases: Mapping[str, Sequence[str]] | None = None) -> Report:
    """Read ``path`` (:func:`govml.io.read_table`) and :func:`validate` it as ``kind`` (``aliases``: see there).
    Unreadable files raise :class:`DataError`; everything else ends up in the report."""
    from govml.io import read_table

    if kind not in KINDS:
        raise DataError(message=f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    df = read_table(path, encoding=encoding, sheet=sheet, header_row=header_row,
                    known_columns=known_column_names(kind, mapping, aliases))
    return validate(df, kind, mapping=mapping, file=str(path), max_problems=max_problems,
                    drop_incomplete=drop_incomplete, aliases=aliases)
