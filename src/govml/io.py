"""Reading and writing tables: the messy exports people actually have, read correctly or refused clearly.

* :func:`read_table` reads CSV / TSV / TXT (optionally ``.gz``), XLSX, old Excel XLS (python-calamine),
  Parquet and JSON Lines into a DataFrame with the file's own column names. Text encodings (UTF-8, UTF-8
  with BOM, UTF-16 with or without BOM, GBK, GB18030) are detected; ``encoding=`` forces one. Text cells are
  cleaned (runs of tabs, newlines, full-width and non-breaking spaces become one space; ends stripped;
  empty → missing; a cell of only a 'no value' placeholder — ``NULL``, ``nan``, ``—``, ``/`` … — is missing too,
  said per column; ``="000123"`` and ``'000123``, Excel's text guards a web system writes into a CSV around ids,
  numbers and times, are read as the text inside). Workbooks: the sheet is chosen by name or index (default:
  the first naming the columns asked for, else the first naming two usual header names — 受理时间, 所属社区 … —,
  else the first that is a table and not a 说明 sheet of notes, else the first — said when it is not the first, and when other
  sheets have the same columns); ``sheet="all"`` reads every sheet with the header of that one as one table
  (an export of one sheet per month; row numbers stay each sheet's own and name it — ``1月!12`` in every message
  —, ``attrs["govml"]["sheet_rows"]`` says how many rows each sheet gave) and the header row is found automatically (title rows above it are skipped,
  footer rows such as 合计/注/制表人 below the data too). A ``.xls`` that is
  really an .xlsx or a text table is read as what it is (said). What web systems save as "Excel" is read too: an HTML
  table (``.xls``, ``.html``, ``.htm``; the charset its ``<meta>`` declares, else detected; ``rowspan``/``colspan`` as
  merged cells; every ``<table>`` a sheet, ``table1`` … or its ``<caption>``) and an Excel 2003 XML workbook
  (SpreadsheetML, ``.xls`` or ``.xml``; ``ss:Index`` gaps, ``ss:MergeAcross``/``MergeDown``), with every cell as text
  as in a CSV file (``ss:Type="Number"`` whole numbers without ``.0``) and sheets chosen as a workbook's.
* :func:`load` reads, maps the user's column names to the canonical ones, converts types, validates
  (see :mod:`govml.schemas`) and raises :class:`~govml.errors.DataError` listing every problem with
  its file, row and column.
* :func:`parse_datetime` understands ``2019/2/28 11:25:05``, ``2019-02-28``, ``2019-02-28 11:25``,
  ``20190228``, ``2019年2月28日``, ``2019年2月28日 星期四``, ``2019.02.28``, ISO 8601, Excel serial numbers (to
  the second), Unix seconds and milliseconds, ``20190228112505`` (also as the number Excel makes of it), real
  datetimes, 上午/下午/中午/晚上/凌晨/深夜/午夜 (``晚上12点`` is the midnight ending the day),
  12-hour clocks (``2019/2/28 下午 3:25``, ``02/28/2019 03:25 PM``) and day- or month-first dates
  (``28/02/2019``; the order is decided per column, an ambiguous column is reported, never guessed).
  Every time is read on Beijing's clock (UTC+8, ``Asia/Shanghai``; the result is time-zone-naive): Unix
  times (seconds since 1970-01-01 UTC), times written with a UTC offset (``2019-02-28T03:25:05Z``,
  ``…+0000``, ``…-05:00``; Java's ``Thu Feb 28 03:25:05 GMT 2019`` / ``… GMT+08:00 2019``, JavaScript's
  ``Thu Feb 28 2019 11:25:05 GMT+0800 (中国标准时间)``, RFC 1123's ``Thu, 28 Feb 2019 03:25:05 GMT``; Java's ``CST``
  is China Standard Time, read as written) and datetimes carrying a time zone are converted to it — so a column mixing
  offsets comes out on one clock —, times written without an offset are read as written. What was
  converted is said by :func:`date_notes` (``govml validate`` and the commands print it).
* :func:`write_table` and :func:`atomic_path` write atomically: a temp file in the same folder, renamed
  onto the target only when everything was written.

Row numbers are the ones a user sees in a spreadsheet: for CSV the header is row 1 and the first data
record row 2 (a record whose quoted cell spans several lines still counts as one row); for XLSX the
sheet's own row number; for JSON Lines the line number. ``read_table`` stores them in
``df.attrs["govml"]`` (plain JSON-able values) together with the detected encoding, sheet and
header row; :func:`source_rows` gives them as a list.
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import csv
import gzip
import io as _io
import json
import logging
import os
import re
import sys
import tempfile
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govml.errors import DataError, Problem, SheetRow

if TYPE_CHECKING:  # pandas is imported lazily so `govml --help` stays fast
    import numpy as np
    import pandas as pd

log = logging.getLogger(__name__)

__all__ = [
    "read_table",
    "load",
    "parse_datetime",
    "date_notes",
    "write_table",
    "check_output_path",
    "atomic_path",
    "clean_text",
    "detect_encoding",
    "source_rows",
    "blank_cells",
    "category_tree",
    "category_level",
    "category_paths",
    "category_level_columns",
    "category_from_levels",
    "TEXT_SUFFIXES",
    "SUPPORTED_SUFFIXES",
]

TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".jsonl", ".ndjson")
SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq", ".jsonl", ".ndjson",
                      ".html", ".htm", ".xml")

# every character Python's \s matches, plus zero-width space and BOM, spelled out so that pandas can
# hand the pattern to Arrow's RE2 (2-3x faster than the Python fallback \s forces)
_WS_CHARS = " \t\n\r\f\v\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
_WS_RUN = re.compile(f"[{_WS_CHARS}]+")
_HEADER_SCAN_ROWS = 30
#: The words that begin a total or average row of an office spreadsheet (合计, 小计, 平均分, 汇总 …): below the
#: data such a row is a footer row; in a worker-id column (govml.skills) the row is no worker.
TOTAL_ROW_WORDS = r"合\s*计|总\s*计|小\s*计|总平均|平\s*均|均\s*值|汇\s*总"
_FOOTER = re.compile(rf"^({TOTAL_ROW_WORDS}|制表|填表|填报|审核|负责人|联系人|备注|说明|注\s*[:：]|数据来源)")
#: footer rows told by their words alone, in a table of any width (one of 1–3 columns too, where a row of one or two
#: cells is an ordinary row): a total row (合计, 总计：15,393, 合计 700条) whose other cells are counts, and a note of
#: one cell that names what it is before a colon (注：…, 制表人：…, 数据来源：…)
_TOTAL_ROW = re.compile(rf"^(?:{TOTAL_ROW_WORDS})\s*(?:[:：]\s*)?(?:[\d,，.]+\s*[条件个次项人户]?)?$")
_COUNT_CELL = re.compile(r"^[\d,，.]+\s*[条件个次项人户%]?$")
_NOTE_ROW = re.compile(r"^(?:制表|填表|填报|审核|负责人|联系人|备注|说明|注|数据来源)[^:：]{0,4}[:：]")


# --------------------------------------------------------------------------------------------------
# small helpers


def _name(path: Path | str) -> str:
    return str(path)


def clean_text(value: Any) -> Any:
    """Collapse whitespace runs (tabs, newlines, ``\\r``, full-width and non-breaking spaces, zero-width
    spaces) to one space and strip the ends. Non-strings are returned unchanged; an empty result
    becomes ``None``."""
    if not isinstance(value, str):
        return value
    out = _WS_RUN.sub(" ", value).strip()
    return out or None


def _clean_series(s: pd.Series) -> pd.Series:
    """Vectorised :func:`clean_text` for a column of strings (returns an Arrow-backed ``str`` column)."""
    import pandas as pd

    s = s.astype("str") if not pd.api.types.is_string_dtype(s) else s
    out = s.str.replace(_WS_RUN.pattern, " ", regex=True).str.strip()
    return out.mask(out == "")


#: cells that say "no value" in the exports of database-backed systems and in hand-kept sheets (a whole cell
#: of only this; ``无`` is left alone: in 处理结果 or 满意度 it is an answer)
PLACEHOLDERS = frozenset({"NULL", "null", "Null", "NaN", "nan", "NAN", "None", "none", "NA", "N/A", "n/a", "#N/A",
                          "-", "--", "---", "—", "——", "－", "/", "／", "\\"})


def _clean_frame(df: pd.DataFrame, file: str = "<data>", meta: dict | None = None) -> pd.DataFrame:
    """Clean the column names and every text cell; columns of only strings become ``str`` dtype. A cell
    holding only a placeholder of :data:`PLACEHOLDERS` (``NULL``, ``nan``, ``—``, ``/``…) becomes missing,
    said once per file with the count per column (and kept in ``meta["placeholder_cells"]``). A header cell with a
    line break or space between two Chinese characters (``留言\n时间``: a header wrapped in its cell, ``区　县``
    spaced to line up) is read without it (``留言时间``, ``区县``: the names commands look for), said."""
    import pandas as pd

    names, tightened = [], []
    for i, c in enumerate(df.columns):
        name = _clean_header(c, i)
        tight = _CJK_GAP.sub("", name)
        if tight != name:
            tightened.append(f"{name!r} → {tight!r}")
        names.append(tight)
    df.columns = names
    if tightened:
        log.warning("%s: header cell(s) with a line break or space between Chinese characters read without it: %s",
                    file, ", ".join(tightened))
    _dedupe_columns(df, file)
    counts: dict[str, int] = {}
    for col in df.columns:
        s = df[col]
        if s.dtype == object:
            kinds = {type(v) for v in s.dropna()}
            if kinds == {str}:
                df[col] = _clean_series(s.astype("str"))
            elif str in kinds:
                df[col] = s.map(clean_text)  # mixed cells (xlsx numbers and text): clean the strings only
        elif pd.api.types.is_string_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype):
            df[col] = _clean_series(s)
        else:
            continue
        s = df[col]
        if s.dtype != object:
            s = df[col] = _unguard(s, file, str(col))
        hit = s.isin(PLACEHOLDERS).fillna(False).to_numpy(dtype=bool) if s.dtype != object else \
            s.map(lambda v: isinstance(v, str) and v in PLACEHOLDERS).to_numpy(dtype=bool)
        if hit.any():
            df[col] = s.mask(hit)
            counts[str(col)] = int(hit.sum())
    if counts:
        if meta is not None:
            meta["placeholder_cells"] = counts
        log.warning("%s: %s", file, placeholder_note(counts))
    return df


#: what web systems wrap a cell in so that Excel keeps its leading zeros / long digits as text: ="000123" (a
#: formula giving the text) and '000123 (the apostrophe Excel takes as "text follows", written into the file) —
#: only around what they are for: ids, phone numbers and times of at least 5 digits (GD000123, 2023-01-05 15:05)
_GUARDED = r"(?=(?:[^\d]*\d){5})[A-Za-z]{0,4}\d[\d\-/.: T]*"
_GUARD_EQ = f'^="({_GUARDED})"$'
_GUARD_APOSTROPHE = f"^'({_GUARDED})$"


def _unguard(s: pd.Series, file: str, column: str) -> pd.Series:
    """Text cells ``="000123"`` and ``'000123`` (Excel's text guards, written into a CSV) → ``000123``."""
    maybe = s.str.startswith(("'", '="')).fillna(False).to_numpy(dtype=bool)
    if not maybe.any():
        return s
    sub = s[maybe]
    out = sub.str.replace(_GUARD_EQ, r"\1", regex=True).str.replace(_GUARD_APOSTROPHE, r"\1", regex=True)
    changed = (out != sub).fillna(False)
    if not changed.any():
        return s
    s = s.copy()
    s[maybe] = out
    log.info("%s: %d cell(s) of column '%s' written as =\"…\" or '… (Excel's guard for leading zeros) read as the "
             "text inside", file, int(changed.sum()), column)
    return s


def placeholder_note(counts: Mapping[str, int]) -> str:
    """The line that says which cells were placeholders read as empty (``{column: cells}``)."""
    return (f"{sum(counts.values()):,} cell(s) holding only a placeholder for 'no value' (NULL, nan, —, / …) read as "
            "empty: " + ", ".join(f"'{c}' {n:,}" for c, n in counts.items()))


def _clean_header(c: Any, i: int) -> str:
    if c is None or (isinstance(c, float) and c != c):
        return f"column_{i + 1}"
    if isinstance(c, float) and c.is_integer():
        c = int(c)
    text = clean_text(str(c))
    return text if text else f"column_{i + 1}"


def _header_key(value: Any) -> Any:
    """A header cell (or a column name looked for) as header cells are compared: :func:`clean_text`, and no space
    between two Chinese characters (``留言\n时间`` names 留言时间, as :func:`_clean_frame` reads it)."""
    text = clean_text(value)
    return _CJK_GAP.sub("", text) if isinstance(text, str) else text


def _typed_key(value: Any) -> Any:
    """A column name as typed in an option, compared as the header was read: :func:`_header_key` after Unicode
    NFKC (full-width letters and digits typed with a Chinese input method, ``ＩＤ`` → ``ID``)."""
    return _header_key(unicodedata.normalize("NFKC", value)) if isinstance(value, str) else value


def columns_as_typed(df: pd.DataFrame, typed: Sequence[str | None], file: str = "<data>") -> dict[str, str]:
    """Match column options typed as the user sees the header to the columns as read, renaming them in ``df``.

    The reader takes the space out of a header cell between two Chinese characters (``留言 时间`` or a header
    wrapped in its cell, ``留言⏎时间``, reads ``留言时间``); an analyst who copies the name from Excel types
    ``--time-col "留言 时间"`` (or with a space around it, or full-width letters). A name not among the columns
    whose key (spaces collapsed and stripped, none between Chinese characters, NFKC) is the key of exactly one
    column names that column: the column is renamed to the name typed, so the command's own checks and messages
    go on with the user's name; said once. Names matching no column, or several, are left alone (the command's
    "expected a column" error lists the columns). Returns {column as read: name typed}."""
    keys: dict[Any, list[str]] = {}
    for c in df.columns:
        keys.setdefault(_typed_key(str(c)), []).append(c)
    renames: dict[str, str] = {}
    for t in dict.fromkeys(x for x in typed if x):
        if t in df.columns or not isinstance(t, str):
            continue
        hits = keys.get(_typed_key(t), [])
        if len(hits) == 1 and hits[0] not in renames and hits[0] not in typed:
            renames[hits[0]] = t
    if renames:
        df.columns = [renames.get(c, c) for c in df.columns]
        log.warning("%s: column name(s) typed as the header shows them matched to the column as read: %s",
                    file, ", ".join(f"'{t}' is '{c}'" for c, t in renames.items()))  # '区　县' as typed, not escaped
    return renames


def _dedupe_columns(df: pd.DataFrame, file: str = "<data>") -> None:
    seen: dict[str, int] = {}
    first: dict[str, int] = {}
    names = []
    for j, c in enumerate(df.columns):
        if c in seen:
            seen[c] += 1
            new = f"{c}.{seen[c]}"
            log.warning("%s: duplicate column name %r (columns %d and %d of the table): the copy is named %r — an "
                        "option naming %r reads the first; name %r to read the copy", file, c, first[c] + 1, j + 1,
                        new, c, new)
            names.append(new)
        else:
            seen[c] = 0
            first[c] = j
            names.append(c)
    df.columns = names


def blank_cells(values: pd.Series) -> np.ndarray:
    """Boolean array: which cells are empty — missing, or only whitespace — the rows that commands
    count apart ("no time", "no district") from unreadable ones."""
    return (values.isna() | (values.astype("string").str.strip() == "")).fillna(True).to_numpy(dtype=bool)


def label_text(values: pd.Series) -> pd.Series:
    """Labels (areas, groups, districts, codes) as a string Series, missing kept: a column of whole
    numbers that pandas read as floats because some cells are empty (Boston's city_council_district
    ``8.0``, an Excel column of district codes) is written as the numbers it holds, ``8`` — not ``8.0``,
    which joins back to nothing."""
    import pandas as pd

    if pd.api.types.is_float_dtype(values.dtype):
        v = values.dropna()
        if len(v) and bool((v == v.round()).all()) and bool((v.abs() < 2**53).all()):
            return values.astype("Int64").astype("string")
    elif values.dtype == object:
        return pd.Series([str(int(x)) if isinstance(x, float) and x.is_integer() else x
                          for x in values.to_numpy(dtype=object)], index=values.index, dtype="string")
    return values.astype("string")


_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff]) (?=[\u3400-\u9fff\uf900-\ufaff])")


def plain_names(values: pd.Series, *, cjk_spaces: bool = False) -> pd.Series:
    """Names as plain text (:func:`label_text`, so ``8.0`` read from a column with blanks is ``8``):
    Unicode NFKC (full-width letters and digits → ASCII), whitespace runs → one space, ends stripped (a
    string Series; missing stays missing). ``cjk_spaces=True`` also drops a space between two Chinese
    characters (``城乡 建设`` → ``城乡建设``: Chinese writes no spaces between words, so one typed there is a
    slip; ``Back Bay`` keeps its space)."""
    return _tidy_spaces(label_text(values).str.normalize("NFKC"), cjk_spaces)


def _tidy_spaces(out: pd.Series, cjk_spaces: bool) -> pd.Series:
    """Whitespace runs → one space, ends stripped; ``cjk_spaces``: no space between two Chinese characters."""
    out = out.str.replace(r"\s+", " ", regex=True).str.strip()
    if cjk_spaces and len(out):
        has = out.str.contains(" ", regex=False).fillna(False).to_numpy(dtype=bool)
        if has.any():
            out = out.copy()
            out[has] = [_CJK_GAP.sub("", v) for v in out[has].to_numpy(dtype=object)]
    return out


def merge_spellings(values: pd.Series, *, cjk_spaces: bool = False, as_written: bool = False) -> pd.Series:
    """Names as one spelling (index reset). Two names are the same when their :func:`plain_names` match
    up to case (``str.casefold``); each such group is written in its **most frequent** plain spelling
    (ties: the one met first) — ``Ｂａｃｋ Ｂａｙ``, ``back bay`` and ``Back Bay `` become ``Back Bay``
    when that is the commonest. Missing and blank names stay as they are (after :func:`plain_names`).
    Callers report what changed by comparing with their input. ``cjk_spaces``: as in :func:`plain_names`
    (a space between two Chinese characters is dropped). ``as_written``: each group is shown in its most
    frequent spelling as the user wrote it (spaces tidied, but full-width forms such as ``教育文体（A）`` kept):
    NFKC and case then only decide which names are the same, and a name written one way only is shown as
    written."""
    import pandas as pd

    values = values.reset_index(drop=True)
    plain = plain_names(values, cjk_spaces=cjk_spaces)
    key = plain.str.casefold()
    shown = _tidy_spaces(label_text(values), cjk_spaces) if as_written else plain
    seen = pd.DataFrame({"key": key, "plain": shown}).dropna()
    seen = seen[plain[seen.index] != ""]
    if not len(seen):
        return plain
    n = seen.groupby(["key", "plain"], sort=False).size().reset_index(name="n")  # first-met order
    display = n.loc[n.groupby("key", sort=False)["n"].idxmax()].set_index("key")["plain"]
    return plain.where(plain.isna() | (plain == ""), key.map(display))


#: what separates the levels of a category path (城乡建设/住房/物业管理, 城乡建设-物业, 交通 > 道路)
LEVEL_SEPARATORS = ("/", "／", ">", "＞", "→", "|", "｜", "\\", "-", "－", "—")


def category_tree(values: pd.Series) -> tuple[str, int, int, int] | None:
    """``(separator, most levels, distinct names, distinct first levels)`` when ``values`` are paths in a
    category tree — at least 80 % of the distinct names contain one separator of :data:`LEVEL_SEPARATORS`
    (with text on both sides) and their first levels are fewer than the names; else None."""
    import pandas as pd

    names = pd.Series(pd.unique(label_text(values).dropna()), dtype="str")
    names = names[names != ""]
    if len(names) < 2:
        return None
    best = None
    for sep in LEVEL_SEPARATORS:
        parts = names.str.split(sep, regex=False)
        has = parts.map(lambda p: len(p) > 1 and all(x.strip() for x in p))
        share = float(has.mean())
        if share < 0.8:
            continue
        firsts = parts.str[0].str.strip().nunique()
        if firsts < len(names) and (best is None or share > best[0]):
            best = (share, sep, int(parts.map(len).max()), len(names), int(firsts))
    return None if best is None else best[1:]


def category_level(values: pd.Series, level: int, sep: str) -> pd.Series:
    """The first ``level`` levels of each category path (``城乡建设/住房/物业管理`` → ``城乡建设`` at level 1),
    joined by ``sep`` as written; names with fewer levels stay whole, empty cells stay empty."""
    txt = label_text(values)
    parts = txt.str.split(sep, regex=False)
    return parts.map(lambda p: sep.join(x.strip() for x in p[:level]) if isinstance(p, list) else p).astype(txt.dtype)


#: how each kind of command says what it did with category paths: ``(used whole, cut to a level)``
_PATH_NOTES = {
    "forecast": ("column '{col}' holds category paths of up to {depth} levels split by '{sep}' (e.g. {example!r}): "
                 "forecast per whole path ({n:,} categories); --category-level 1 forecasts per first level "
                 "({firsts:,} categories)",
                 "column '{col}': categories cut to their first {level} level(s) of up to {depth} (split by '{sep}', "
                 "e.g. {example!r} → {cut!r}): {n:,} names → {k:,} categories"),
    "use": ("column '{col}': category paths of up to {depth} levels split by '{sep}', used whole ({n:,} categories); "
            "--category-level 1 uses their first level ({firsts:,} categories)",
            "column '{col}': category paths cut to their first {level} level(s) (split by '{sep}'): {n:,} names → "
            "{k:,} categories"),
}


def category_paths(values: pd.Series, column: str, level: int | None, *, wording: str = "use",
                   where: str | None = None) -> tuple[pd.Series, str | None]:
    """Categories written as paths of a category tree (a 12345 export's ``城乡建设/住房/物业管理``), as asked:
    ``(values, note)`` — the values whole (``level`` None) or cut to their first ``level`` levels
    (:func:`category_level`), and a note saying so (None when they are no paths). ``wording``: ``"forecast"``
    (the hotspot commands) or ``"use"`` (the demands commands); ``where`` names the file in the error.
    A ``level`` below 1, or one asked of a column holding no paths, raises :class:`~govml.errors.ConfigError`."""
    import pandas as pd

    from govml.errors import ConfigError

    if level is not None and level < 1:
        raise ConfigError(f"--category-level must be 1 or more (1 = the first level), got {level}")
    tree = category_tree(values)
    if tree is None:
        if level is not None:
            of = f" of {where}" if where else ""
            raise ConfigError(f"--category-level {level}: column '{column}'{of} holds no category paths (names such "
                              "as 城乡建设/住房/物业管理 or 城乡建设-物业, split by one of / - > |): leave the option out")
        return values, None
    sep, depth, n, firsts = tree
    whole, cut = _PATH_NOTES[wording]
    example = next(v for v in label_text(values).dropna() if sep in v) if "{example" in whole + cut else None
    if level is None:
        return values, whole.format(col=column, depth=depth, sep=sep, example=example, n=n, firsts=firsts)
    out = category_level(values, level, sep)
    short = category_level(pd.Series([example]), level, sep).iloc[0] if example is not None else None
    return out, cut.format(col=column, level=level, depth=depth, sep=sep, example=example, cut=short, n=n,
                           k=out.dropna().nunique())


_LEVEL_NUMBERS = {c: i for i, c in enumerate("一二三四五六七八九", start=1)} | {str(i): i for i in range(1, 10)}
_LEVEL_COLUMN = re.compile(r"^(?P<pre>.*?)(?P<n>[一二三四五六七八九1-9])\s*级\s*(?P<post>.*)$")
_SIZE_LEVELS = {"大": 1, "中": 2, "小": 3, "细": 4}
_SIZE_COLUMN = re.compile(r"^(?P<pre>.*?)(?P<n>[大中小细])\s*(?P<post>类.*)$")


def category_level_columns(columns: Sequence[Any], column: str) -> list[str]:
    """The columns that hold the levels of a category tree down to ``column``, top first, when ``column`` is one
    of several named by level (一级分类, 二级分类, 三级分类; 问题大类, 问题小类; 1级类别…: the same name but for the
    level); ``[]`` when ``column`` is no such column or the first level."""
    names = [str(c) for c in columns]
    for pattern, number in ((_LEVEL_COLUMN, _LEVEL_NUMBERS), (_SIZE_COLUMN, _SIZE_LEVELS)):
        m = pattern.match(str(column))
        if not m:
            continue
        mine = number[m["n"]]
        found = {}
        for c in names:
            o = pattern.match(c)
            if o and o["pre"] == m["pre"] and o["post"] == m["post"] and number[o["n"]] <= mine:
                found.setdefault(number[o["n"]], c)
        levels = [found[k] for k in sorted(found)]
        return levels if len(levels) > 1 else []
    return []


_PERIOD_HEADER = re.compile(r"^(?:(?:19|20)\d{2}\s*(?:年|[-/.])\s*)?(?:\d{1,2}\s*月(?:份)?|(?:19|20)\d{2}\s*[-/.]\s*\d{1,2}|"
                            r"第?\s*[一二三四1-4]\s*季度|Q[1-4]|第\s*\d{1,2}\s*周|(?:19|20)\d{2}\s*年?)$", re.IGNORECASE)


def period_columns(columns: Sequence[Any]) -> list[str]:
    """The columns named as periods (``1月`` … ``12月``, ``2019-01``, ``2019年3月``, ``一季度``, ``Q1``, ``第5周``, ``2019年``)
    when there are at least three of them: a statistics sheet of counts per period, one column each (wide), not a
    table of one row per event or message — what a command that needs a time column can say about it."""
    found = [str(c) for c in columns if isinstance(c, str) and _PERIOD_HEADER.match(_header_key(c) or "")]
    return found if len(found) >= 3 else []


def category_from_levels(df: pd.DataFrame, column: str) -> tuple[pd.Series, str | None]:
    """A category column that is one level of a tree kept in several columns (a 12345 export's 一级分类 /
    二级分类 / 三级分类): when some of its names occur under more than one parent (``其他`` under 城乡建设 and
    under 环境保护), those would be counted as one category — the column is then read as paths from the first
    level (``城乡建设/其他``; a missing parent is left out) and a note says so; else ``(df[column], None)``.
    The paths are split by ``/`` as :func:`category_paths` reads them (``--category-level`` cuts them)."""
    import pandas as pd

    levels = category_level_columns(df.columns, column)
    if not levels:
        return df[column], None
    parts = pd.DataFrame({c: plain_names(df[c]) for c in levels})
    parent = None
    for c in levels[:-1]:  # the parents' path, a missing level left out
        v = parts[c].where(parts[c] != "")
        parent = v if parent is None else (parent + "/" + v).fillna(parent).fillna(v)
    parent = parent.fillna("")
    pairs = pd.DataFrame({"name": parts[column], "parent": parent}).dropna()
    pairs = pairs[(pairs["name"] != "") & (pairs["parent"] != "")].drop_duplicates()
    under = pairs.groupby("name")["parent"].agg(lambda p: sorted(set(p)))
    shared = under[under.map(len) > 1]
    if shared.empty:
        return df[column], None
    name = parts[column]
    paths = (parent + "/" + name).where(parent != "", name).where(name.notna() & (name != ""))
    first = shared.index[0]
    shown = ", ".join(f"'{p}'" for p in shared.iloc[0][:3]) + (" …" if len(shared.iloc[0]) > 3 else "")
    note = (f"column '{column}' is level {len(levels)} of {' / '.join(levels)}, and {len(shared):,} of its names occur "
            f"under more than one {levels[-2]} (e.g. '{first}' under {shown}): read as paths "
            f"{'/'.join(levels)} (e.g. '{shared.iloc[0][0]}/{first}') so that they stay apart")
    return paths.astype("string"), note


def source_rows(df: pd.DataFrame) -> list[int]:
    """Row numbers (as the user sees them) of ``df``'s rows, from :func:`read_table`'s metadata.

    Works on filtered or re-sorted frames too, as long as their index still holds the labels
    ``read_table`` gave (0, 1, 2... per row read; don't ``reset_index`` before asking). Without
    metadata: ``position + 2`` (as in a CSV with the header on row 1). Rows of a workbook whose sheets were
    read as one table (``sheet="all"``) are :class:`~govml.errors.SheetRow` values: each says its sheet
    (``1月!12``) in every message that names it."""
    import pandas as pd

    meta = df.attrs.get("govml", {})
    runs = meta.get("rows")
    if runs is not None:
        if any(len(run) == 3 for run in runs):
            order = {name: k for k, name in enumerate(meta.get("sheets_read") or ())}
            for run in runs:
                if len(run) == 3:
                    order.setdefault(run[2], len(order))
            rows = []
            for run in runs:
                rows += SheetRow.run(range(run[0], run[1]), run[2], order[run[2]]) if len(run) == 3 else \
                    range(run[0], run[1])
        else:
            rows = [r for start, stop in runs for r in range(start, stop)]
        idx = df.index
        if len(idx) == 0:
            return []
        if pd.api.types.is_integer_dtype(idx) and idx.min() >= 0 and idx.max() < len(rows):
            return [rows[i] for i in idx]
    return [i + 2 for i in range(len(df))]


def _suffixes(path: Path) -> tuple[str, bool]:
    """(format suffix, gzipped?) — ``data.csv.gz`` → (".csv", True)."""
    sfx = [s.lower() for s in path.suffixes]
    gz = bool(sfx) and sfx[-1] == ".gz"
    if gz:
        sfx = sfx[:-1]
    return (sfx[-1] if sfx else ""), gz


# --------------------------------------------------------------------------------------------------
# encodings

_CJK_RANGES = (
    (0x2000, 0x2BFF),  # punctuation “ ” … —, currency €, letter-like ℃ №, numbers ①, arrows, shapes
    (0x2E80, 0x9FFF),  # CJK radicals, punctuation 。、, kana, bopomofo, compatibility ㎡, ideographs
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),  # full-width forms
    (0x20000, 0x3134F),
)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_CJK_CHAR = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _CJK_RANGES) + "·×÷°±]")


def _looks_chinese(text: str) -> bool:
    """Whether ≥ 90 % of the non-ASCII characters (in the first 2M characters) are Chinese text,
    punctuation or common symbols — a wrong GBK/GB18030 guess gives other characters."""
    sample = text[:2_000_000]
    non_ascii = len(_NON_ASCII.findall(sample))
    if not non_ascii:
        return True
    return len(_CJK_CHAR.findall(sample)) / non_ascii >= 0.9


def _looks_binary(raw: bytes) -> bool:
    head = raw[:8192]
    if not head:
        return False
    if b"\x00" in head:
        return True
    ctrl = sum(1 for b in head if b < 32 and b not in (9, 10, 13, 12, 27))
    return ctrl / len(head) > 0.05


def detect_encoding(raw: bytes, file: str = "<data>") -> str:
    """Name of the encoding of ``raw``: a BOM decides (``utf-8-sig``, ``utf-16``); else strict UTF-8;
    else GBK, else GB18030 (each verified by decoding everything and checking the non-ASCII text is
    Chinese). Raises :class:`DataError` naming the file when none fits."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if _looks_binary(raw):
        head = raw[:4096]
        # UTF-16 without a byte-order mark (some "Unicode text" exports): the one whose text has line ends,
        # no other control characters than tabs, and is Chinese or plain (the wrong byte order turns line
        # ends into other characters)
        for enc in ("utf-16-le", "utf-16-be"):
            try:
                text = raw[: len(raw) & ~1].decode(enc)
            except UnicodeDecodeError:
                continue
            sample = text[:200_000]
            if ("\n" in sample and not any(ord(c) < 32 and c not in "\t\r\n" for c in sample)
                    and _looks_chinese(sample)):
                log.info("%s: UTF-16 text without a byte-order mark, read as %s", file, enc)
                return enc
        if len(head) >= 4 and (head[1::2].count(0) > 0.3 * len(head) / 2 or head[0::2].count(0) > 0.3 * len(head) / 2):
            raise DataError(message=f"{file}: looks like UTF-16 text without a byte-order mark; "
                            "pass --encoding utf-16-le (or utf-16-be)")
        raise DataError(message=f"{file}: this is not a text table (binary content in its first bytes); "
                        "expected CSV/TSV text, XLSX, Parquet or JSON Lines")
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    for enc in ("gbk", "gb18030"):
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if _looks_chinese(text):
            return enc
    line = raw[: utf8_error.start].count(b"\n") + 1
    raise DataError(
        message=f"{file}: cannot tell the text encoding (not UTF-8: invalid byte at position "
        f"{utf8_error.start}, line {line}; not GBK/GB18030 Chinese either); "
        "pass --encoding (e.g. --encoding big5)"
    )


#: at most this many invalid byte sequences in an otherwise UTF-8 Chinese file are read as U+FFFD (said), not refused
UTF8_BAD_BYTES_READ = 20


def _utf8_but_a_few_bytes(raw: bytes, file: str) -> str | None:
    """The text of a file that is UTF-8 Chinese but for a few invalid byte sequences (a character cut in two by the
    exporting system, a stray byte of another encoding), each read as U+FFFD and said with its line; ``None`` when
    there are more than :data:`UTF8_BAD_BYTES_READ` or the rest is not Chinese text (then the encoding is another)."""
    bad: list[int] = []
    pos = 0
    while len(bad) <= UTF8_BAD_BYTES_READ:
        try:
            raw[pos:].decode("utf-8")
            break
        except UnicodeDecodeError as exc:
            bad.append(pos + exc.start)
            pos += exc.end
    if not bad or len(bad) > UTF8_BAD_BYTES_READ:
        return None
    text = raw.decode("utf-8", errors="replace")
    if sum(1 for c in text if ord(c) > 127 and c != "\ufffd") < 100 or not _looks_chinese(text):
        return None
    lines = [raw[:b].count(b"\n") + 1 for b in bad]
    log.warning("%s: UTF-8 but for %d invalid byte sequence(s) (line %s: a character cut by the exporting system?), "
                "each read as '\ufffd'; the rest of the file is read. If the file is in another encoding, pass "
                "--encoding", file, len(bad), ", ".join(map(str, dict.fromkeys(lines))))
    return text


def _decode(raw: bytes, file: str, encoding: str | None) -> tuple[str, str]:
    """(text, encoding used)."""
    if encoding is None:
        try:
            enc = detect_encoding(raw, file)
        except DataError:
            text = _utf8_but_a_few_bytes(raw, file)
            if text is None:
                raise
            return text, "utf-8"
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError as exc:  # a byte-order mark said UTF-8 (or UTF-16), and the bytes after it are not
            if enc == "utf-8-sig" and (text := _utf8_but_a_few_bytes(raw, file)) is not None:
                return text.removeprefix("\ufeff"), enc  # but for a few characters cut by the exporting system
            line = raw[: exc.start].count(b"\n") + 1
            raise DataError(message=f"{file}: starts with a byte-order mark for {enc}, but invalid bytes "
                            f"{raw[exc.start : exc.start + 4]!r} at byte {exc.start} (line {line}) follow; pass "
                            "--encoding E if it is in another encoding") from None
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DataError(message=f"{file}: unknown encoding {encoding!r} "
                        "(try utf-8, utf-8-sig, gbk or gb18030, or leave --encoding out to detect it)") from None
    utf8 = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        # UTF-8 asked for, and it is, but for a few characters cut by the exporting system: read as without --encoding
        if utf8 and (text := _utf8_but_a_few_bytes(raw, file)) is not None:
            return text.removeprefix("\ufeff"), "utf-8"
        line = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start : exc.start + 4]
        hint = ""
        try:
            hint = f" (it looks like {detect_encoding(raw, file)})"
        except DataError:
            pass
        raise DataError(
            message=f"{file}: cannot be decoded as {encoding}: invalid bytes {bad!r} at byte "
            f"{exc.start} (line {line}){hint}; leave --encoding out to detect the encoding automatically"
        ) from None
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8") and text.startswith("\ufeff"):
        text = text[1:]
    return text, encoding


def _read_bytes(path: Path, gz: bool) -> bytes:
    raw = path.read_bytes()
    if gz:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(message=f"{path}: not a valid gzip file ({exc})") from None
    return raw


# --------------------------------------------------------------------------------------------------
# header detection (XLSX and CSV)


def _is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and v != v)


def _find_header(rows: Sequence[Sequence[Any]], known: set[str]) -> int:
    """Index (0-based, into ``rows``) of the header row among the first rows: the row naming the most
    known column names (two or more); in a one-column table, the first row naming a known column or a usual
    header name (:func:`_usual_header_names`: a title row above ``留言详情`` is one cell too); else the first row
    whose cells are mostly non-empty strings (title rows above it — one long cell, or a couple of notes — are
    skipped)."""
    scan = rows[:_HEADER_SCAN_ROWS]
    if not scan:
        return 0
    width = max((sum(not _is_blank(v) for v in r) for r in scan), default=0)
    if width == 0:
        return 0
    known_clean = {_header_key(k) for k in known if k}
    best, best_hits = None, 0
    for i, r in enumerate(scan):
        hits = sum(1 for v in r if isinstance(v, str) and _header_key(v) in known_clean)
        if hits > best_hits:
            best, best_hits = i, hits
    if best is not None and best_hits >= 2:
        return best
    if width == 1:  # one column (only 留言详情): a title row above it is one cell too — the header is the cell
        names = known_clean | _usual_header_names()  # naming a column read or a usual header name
        for i, r in enumerate(scan):
            if any(isinstance(v, str) and _header_key(v) in names for v in r):
                return i
    for i, r in enumerate(scan):
        cells = [v for v in r if not _is_blank(v)]
        if not cells:
            continue
        strings = sum(1 for v in cells if isinstance(v, str))
        if len(cells) >= max(1, 0.6 * width) and strings >= 0.8 * len(cells):
            return i
    return best if best is not None else 0


def _two_level_header(rows: Sequence[Sequence[Any]], h: int) -> tuple[list[Any], int, int | None]:
    """A header of two rows, as spreadsheets export merged header cells: (header cells, index of the last
    header row, index of the other header row or None).

    A merged block over two rows keeps its name in the upper row only (``留言编号`` merged down over rows
    1–2) and a group name spans sub-columns in the upper row (``留言信息`` over ``留言用户 | 留言主题``).
    ``h`` (the row :func:`_find_header` chose) may be either row:

    * the lower row, with blank cells over data whose upper neighbour (a row of at least two names, not
      a one-cell title) names them: those names are taken from the upper row;
    * the upper row, when the row below is blank under each of its single-column names and names every
      column it leaves blank (the sub-columns of a group): the lower row's names are taken, the upper
      row's where the lower is blank, and the data start below the lower row.
    """
    header = list(rows[h]) if h < len(rows) else []
    below = rows[h + 1 : h + 1 + _HEADER_SCAN_ROWS]
    width = max([len(header)] + [len(r) for r in below])
    cells = header + [None] * (width - len(header))

    def has_data(j: int, start: int) -> bool:
        return any(j < len(r) and not _is_blank(r[j]) for r in rows[start : start + _HEADER_SCAN_ROWS])

    gaps = [j for j in range(width) if _is_blank(cells[j]) and has_data(j, h + 1)]
    if not gaps:
        if h > 0:  # a row of group names above a full header (留言 over 编号 … 时间, 答复 over 意见 | 时间)
            grouped = _group_names(rows[h - 1], cells)
            if grouped is not None:
                return grouped, h, h - 1
        return header, h, None
    if h > 0:
        up = list(rows[h - 1]) + [None] * max(0, width - len(rows[h - 1]))
        named = [v for v in up if not _is_blank(v)]
        if len(named) >= 2 and all(isinstance(up[j], str) and not _is_blank(up[j]) for j in gaps):
            names = [up[j] if j in gaps else cells[j] for j in range(width)]
            return _group_names(up, names) or names, h, h - 1
    if h + 1 < len(rows):
        low = list(rows[h + 1]) + [None] * max(0, width - len(rows[h + 1]))
        filled = [j for j in range(width) if not _is_blank(low[j])]
        # a single-column name: followed by another name (or the end), not by a group's blank cells
        single = [j for j in range(width) if not _is_blank(cells[j])
                  and (j + 1 >= width or not _is_blank(cells[j + 1]))]
        if (filled and all(isinstance(low[j], str) for j in filled)
                and all(not _is_blank(low[j]) for j in gaps)
                and all(_is_blank(low[j]) for j in single)
                and all(has_data(j, h + 2) for j in filled)):
            names = [cells[j] if _is_blank(low[j]) else low[j] for j in range(width)]
            return _group_names(cells, names) or names, h + 1, h
    return header, h, None


def _group_names(upper: Sequence[Any], names: Sequence[Any]) -> list[Any] | None:
    """A header's names with the group names of the row above joined to them where that is what tells columns
    apart: ``留言`` over ``编号 | 时间 | 详情`` and ``答复`` over ``意见 | 时间`` (merged across their columns) name
    ``答复时间`` apart from ``留言时间`` — a name that repeats under two groups, or one that joined is a usual header
    name (:func:`_usual_header_names`: 留言时间, 答复时间) —; other names are kept. ``None`` when nothing is joined.
    A group is a short name (no colon: not a note) followed by blank cells (its merged span) in ``upper``."""
    width = len(names)
    up = list(upper)[:width] + [None] * max(0, width - len(upper))
    if sum(not _is_blank(v) for v in up) < 2:
        return None  # a title row of one cell, no groups
    keys = [_header_key(n) if isinstance(n, str) else None for n in names]
    repeated = {k for k in keys if k is not None and keys.count(k) > 1}
    usual = _usual_header_names()
    out, group = list(names), None
    for j in range(width):
        if not _is_blank(up[j]):
            g = up[j]
            group = (g if isinstance(g, str) and len(g.strip()) <= 12 and not re.search("[:：]", g)
                     and j + 1 < width and _is_blank(up[j + 1]) else None)
        if group is None or keys[j] is None or keys[j] == _header_key(group):
            continue
        joined = _header_key(group) + keys[j]
        if keys[j] in repeated or joined in usual:
            out[j] = joined
    return out if out != list(names) else None


# --------------------------------------------------------------------------------------------------
# readers


def _frame_from_rows(
    header: Sequence[Any], records: list[Sequence[Any]], rows: list[int], file: str, meta: dict,
    all_text: bool = False,
) -> pd.DataFrame:
    import pandas as pd

    header = list(header)
    if records:
        longest = max(len(header), max(len(r) for r in records))
        records = [r if len(r) == longest else list(r) + [None] * (longest - len(r)) for r in records]
        raw = pd.DataFrame.from_records(records)
    else:
        raw = pd.DataFrame(columns=range(len(header)))
    return _finish_frame(raw, header, rows, file, meta, all_text=all_text)


def _finish_frame(
    raw: pd.DataFrame, header: list[Any], rows: list[int], file: str, meta: dict, all_text: bool = False,
) -> pd.DataFrame:
    """From cells under integer column labels and the header's cells to the cleaned frame: unnamed
    empty columns, blank and footer rows dropped, row numbers kept, rows longer than the header refused."""
    import numpy as np

    if raw.shape[1] < len(header):
        for j in range(raw.shape[1], len(header)):
            raw[j] = None
    raw.columns = range(raw.shape[1])
    blank = raw.isna() | raw.isin([""])
    # trailing empty header cells with no data under them are dropped
    width = len(header)
    while width and _is_blank(header[width - 1]) and bool(blank[width - 1].all()):
        width -= 1
    if raw.shape[1] > width:
        extra = ~blank.iloc[:, width:].all(axis=1).to_numpy()
        if extra.any():
            problems = [Problem(file, rows[i], None, f"at most {width} cells (the header has {width})",
                                f"{int((~blank.iloc[i]).to_numpy().nonzero()[0].max()) + 1} cells")
                        for i in np.flatnonzero(extra)[:50]]
            raise DataError(problems=problems, truncated=int(extra.sum()) > 50,
                            message=None if len(problems) == 1 else f"{file}: rows with more cells than the header")
    # other columns with neither a name nor data (e.g. a sheet starting in column C) are dropped too
    cols = [j for j in range(width) if not (_is_blank(header[j]) and bool(blank[j].all()))]
    df = raw.iloc[:, cols].copy()
    df.columns = [header[j] for j in cols]
    # wholly blank records (blank lines / empty sheet rows) are dropped, keeping row numbers right
    keep = ~blank.iloc[:, cols].all(axis=1).to_numpy() if cols else np.zeros(len(df), dtype=bool)
    repeats = _header_repeats(df, [header[j] for j in cols], keep)
    if repeats.any():  # exports joined one after another (copy /b a.csv+b.csv, a sheet pasted below another)
        shown = [rows[i] for i in np.flatnonzero(repeats)]
        meta["header_repeats"] = shown
        log.warning("%s: row(s) %s repeat the header (files or sheets joined one after another?): not read as data",
                    file, ", ".join(map(str, shown[:20])) + (f" … ({len(shown)} in all)" if len(shown) > 20 else ""))
        keep &= ~repeats
    # footer rows of official spreadsheets (合计…, 制表人：…, 注：…) below the data are dropped too
    filled = (~blank.iloc[:, cols]).sum(axis=1).to_numpy() if cols else np.zeros(len(df), dtype=int)
    footer: list[int] = []
    for i in range(len(df) - 1, -1, -1):
        if not keep[i]:
            continue
        cells = [v for v in df.iloc[i] if not _is_blank(v)]
        first = cells[0] if cells else None
        if isinstance(first, str) and (
                (len(cols) >= 4 and filled[i] <= 2 and _FOOTER.match(first.strip()))
                or (_TOTAL_ROW.match(first.strip())
                    and all(isinstance(v, (int, float)) or _COUNT_CELL.match(str(v).strip()) for v in cells[1:]))
                or (filled[i] == 1 and _NOTE_ROW.match(first.strip()))):
            keep[i] = False
            footer.append(rows[i])
        else:
            break
    if footer:
        meta["footer_rows"] = sorted(footer)
        log.warning("%s: footer row(s) %s below the data skipped", file, ", ".join(map(str, sorted(footer))))
    if not keep.all():
        df = df[keep].reset_index(drop=True)
        rows = [r for r, k in zip(rows, keep, strict=True) if k]
    if all_text:
        df = df.astype("str")
    df = _clean_frame(df, file, meta)
    for c in df.columns:  # xlsx numbers/datetimes in object columns: let pandas infer a proper dtype
        if df[c].dtype == object:
            inferred = df[c].infer_objects()
            if inferred.dtype != object:
                df[c] = inferred
            elif df[c].isna().all():
                df[c] = df[c].astype("str")
    meta["rows"] = _compact_rows(rows)
    df.attrs["govml"] = meta
    return df


def _header_repeats(df: pd.DataFrame, names: Sequence[Any], keep: np.ndarray) -> np.ndarray:
    """Which rows repeat the header: every named column's cell is its header name (as header cells are compared:
    :func:`_header_key`, so a byte-order mark or spaces in front of the repeated row do not hide it), at least two
    named columns, no other cell filled. Such a row is never data: two exports joined one after another."""
    import numpy as np

    out = np.zeros(len(df), dtype=bool)
    named = [(j, _header_key(n)) for j, n in enumerate(names) if isinstance(n, str) and _header_key(n)]
    if len(named) < 2 or not len(df):
        return out
    j0, key0 = named[0]
    first = df.iloc[:, j0].to_numpy(dtype=object)
    longest = 4 * len(key0) + 8
    cand = [i for i, v in enumerate(first) if keep[i] and isinstance(v, str) and len(v) <= longest
            and _header_key(v) == key0]
    for i in cand:
        cells = df.iloc[i]
        if all(_header_key(cells.iloc[j]) == k for j, k in named[1:]) and all(
                _is_blank(cells.iloc[j]) for j in range(len(names)) if not (isinstance(names[j], str)
                                                                           and _header_key(names[j]))):
            out[i] = True
    return out


def _compact_rows(rows: Sequence[int]) -> list[list[Any]]:
    """Row numbers as runs ``[[start, stop), ...]``: pandas deep-copies ``attrs`` on every operation
    (a long list there costs seconds) and Parquet stores them as JSON, so they stay small and plain. Rows of
    a sheet of several read as one table (:class:`~govml.errors.SheetRow`) make runs ``[start, stop, sheet]``;
    a run never spans two sheets."""
    runs: list[list[Any]] = []
    for r in rows:
        sheet = getattr(r, "sheet", None)
        n = int(r)
        last = runs[-1] if runs else None
        if last is not None and last[1] == n and (last[2] if len(last) == 3 else None) == sheet:
            last[1] = n + 1
        else:
            runs.append([n, n + 1] if sheet is None else [n, n + 1, sheet])
    return runs


def _sniff_delimiter(text: str, suffix: str) -> str:
    """The delimiter, from the first non-blank record. A record whose quoted cell holds a line break (a header
    cell wrapped with Alt+Enter, saved by Excel as "Unicode text") runs on over the next lines: its first line
    alone would hold no delimiter and a tab-separated file would be read as one column."""
    first = ""
    lines = iter(text[:65536].splitlines())
    for line in lines:
        if line.strip():
            first = line
            for _ in range(50):  # inside a quoted cell: the record goes on (a stray quote: 50 lines at most)
                if not first.count('"') % 2:
                    break
                more = next(lines, None)
                if more is None:
                    break
                first += "\n" + more
            break
    if suffix == ".tsv":
        return "\t"
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0 or (counts[","] and counts[","] >= counts[best]):
        return ","
    return best


def _refuse_misnamed(raw: bytes, file: str) -> None:
    """Workbooks saved under a text name get a message that says what they are."""
    if raw.startswith(b"PK\x03\x04"):
        raise DataError(message=f"{file}: this is an Excel workbook (or another ZIP file), not text; "
                        "rename it to .xlsx")
    if raw.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise DataError(message=f"{file}: this is an old Excel 97-2003 (.xls) workbook, not text; rename it to .xls")
    if raw.startswith(b"PAR1"):
        raise DataError(message=f"{file}: this is a Parquet file, not text; rename it to .parquet")


def _csv_records(text: str, delim: str, file: str, limit: int | None = None) -> list[list[str]]:
    """Records parsed by Python's csv module (``limit``: only the first ones)."""
    old_limit = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delim)
        records: list[list[str]] = []
        try:
            for rec in reader:
                records.append(rec)
                if limit is not None and len(records) >= limit:
                    break
        except csv.Error as exc:
            raise DataError(message=f"{file}: not readable as {'TSV' if delim == chr(9) else 'CSV'} "
                            f"near line {reader.line_num}: {exc}") from None
    finally:
        csv.field_size_limit(old_limit)
    return records


def _read_delimited(path: Path, suffix: str, gz: bool, encoding: str | None, header_row: int | None,
                    known: set[str]) -> pd.DataFrame:
    import pandas as pd

    file = _name(path)
    raw = _read_bytes(path, gz)
    if not raw.strip():
        raise DataError(message=f"{file}: the file is empty ({len(raw)} bytes); expected a header row and data")
    _refuse_misnamed(raw, file)
    text, enc = _decode(raw, file, encoding)
    delim = _sniff_delimiter(text, suffix)
    want = max(_HEADER_SCAN_ROWS, header_row or 0)
    # the first MB usually holds the first records: when a record starts after them, they are whole
    head = _csv_records(text[: 1 << 20], delim, file, limit=want + 1)
    if len(head) > want:
        head = head[:want]
    elif len(text) > 1 << 20:
        head = _csv_records(text, delim, file, limit=want)
    if header_row is not None:
        if header_row > len(head):
            n = len(_csv_records(text, delim, file))
            if header_row > n:
                raise DataError(message=f"{file}: --header-row {header_row} is outside the file (it has {n} rows)")
        h = header_row - 1
        two = None
    else:
        h = _find_header(head, known)
        two_header, h, two = _two_level_header(head, h)
    meta = {"file": file, "format": "tsv" if delim == "\t" else "csv", "encoding": enc, "delimiter": delim,
            "sheet": None, "header_row": h + 1}
    if two is not None:
        meta["header_rows"] = [two + 1, h + 1]
        log.info("%s: header of two rows (%d and %d): merged header cells read as one name each", file, two + 1, h + 1)
    width = max(len(r) for r in head) if head else 1
    # fast path: pandas' C parser (5x faster, a third of the memory); rows longer than the first ones
    # (or anything else it cannot parse) go the careful way, which names the rows at fault
    try:
        table = pd.read_csv(_io.BytesIO(raw), encoding=enc, sep=delim, header=None, names=list(range(width)), dtype="str",
                            keep_default_na=False, na_values=[""], skip_blank_lines=False, engine="c",
                            quoting=csv.QUOTE_MINIMAL, doublequote=True, escapechar=None)
    except (pd.errors.ParserError, ValueError) as exc:
        log.debug("%s: fast CSV parser failed (%s); using the csv module", file, exc)
        table = None
    if table is not None:
        del text
        if two is not None:
            header = two_header
        elif h < len(head):
            header = list(head[h])  # exactly the header's cells (pandas pads it to the widest row)
        else:
            header = [None if _is_blank(v) else v for v in table.iloc[h].tolist()]
            while header and header[-1] is None:
                header.pop()
        data = table.iloc[h + 1 :].reset_index(drop=True)
        data.columns = range(data.shape[1])
        rows = list(range(h + 2, h + 2 + len(data)))
        return _finish_frame(data, header, rows, file, meta, all_text=True)
    records = _csv_records(text, delim, file)
    if h >= len(records):
        raise DataError(message=f"{file}: --header-row {h + 1} is outside the file (it has {len(records)} rows)")
    data_records = records[h + 1 :]
    rows = list(range(h + 2, h + 2 + len(data_records)))
    return _frame_from_rows(two_header if two is not None else records[h], data_records, rows, file, meta,
                            all_text=True)


#: read .xlsx with python-calamine (Rust, ~6x faster than openpyxl) when it is installed
USE_CALAMINE = True


class _Workbook:
    """The little of a workbook that reading needs, over python-calamine or openpyxl."""

    def __init__(self, path: Path, xls: bool = False) -> None:
        import zipfile

        self.path = path
        self._xls = xls
        self._cal = None
        self._wb = None
        file = _name(path)
        if xls:  # Excel 97-2003: python-calamine reads it, openpyxl cannot
            bad = f"{file}: not a readable Excel 97-2003 (.xls) workbook ({{}}); open it in Excel/WPS and save it as .xlsx"
            try:
                import python_calamine
            except ImportError:
                raise DataError(message=f"{file}: reading an old Excel (.xls) workbook needs python-calamine "
                                "(pip install python-calamine); or save it as .xlsx or .csv") from None
            try:
                self._cal = python_calamine.CalamineWorkbook.from_path(str(path))
            except Exception as exc:  # CalamineError, broken OLE2 container
                raise DataError(message=bad.format(f"{exc.__class__.__name__}: {exc}")) from None
            self._calamine_sheets()
            return
        bad = (f"{file}: not a readable .xlsx workbook ({{}}); if it is an old .xls or a CSV renamed, "
               "save it as .xlsx or .csv")
        if not zipfile.is_zipfile(path):
            raise DataError(message=bad.format("not a ZIP archive, as .xlsx files are"))
        if USE_CALAMINE:
            try:
                import python_calamine
            except ImportError:
                python_calamine = None
            if python_calamine is not None:
                try:
                    if path.suffix.lower() in (".xlsx", ".xlsm"):
                        self._cal = python_calamine.CalamineWorkbook.from_path(str(path))
                    else:  # an .xlsx under another name (.xls): told by its content, not its name
                        with open(path, "rb") as fh:
                            self._cal = python_calamine.CalamineWorkbook.from_filelike(fh)
                except Exception as exc:  # CalamineError and zip errors: the file is not a workbook
                    raise DataError(message=bad.format(f"{exc.__class__.__name__}: {exc}")) from None
                self._calamine_sheets()
                return
        import openpyxl

        try:
            # openpyxl goes by the name: an .xlsx named .xls is handed over as bytes
            src = path if path.suffix.lower() in (".xlsx", ".xlsm") else _io.BytesIO(path.read_bytes())
            self._wb = openpyxl.load_workbook(src, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise DataError(message=bad.format(f"{exc.__class__.__name__}: {exc}")) from None
        self.names = list(self._wb.sheetnames)
        self.hidden = {n for n in self.names if getattr(self._wb[n], "sheet_state", "visible") != "visible"}

    def _calamine_sheets(self) -> None:
        self.names = list(self._cal.sheet_names)
        #: sheets hidden in Excel (templates, lookup lists for data validation): not read unless named
        self.hidden = {m.name for m in self._cal.sheets_metadata if str(m.visible).rsplit(".", 1)[-1] != "Visible"}

    def merged(self, name: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """The sheet's merged cell ranges, ``((first row, first column), (last row, last column))`` 0-based and
        inclusive, as :meth:`rows` counts them (python-calamine; openpyxl's read-only mode does not tell them: [])."""
        if self._cal is None:
            return []
        try:
            return list(self._sheet(name).merged_cell_ranges or [])
        except Exception:  # noqa: BLE001 — a workbook calamine cannot tell them for: read as before
            return []

    def _sheet(self, name: str) -> Any:
        """python-calamine's sheet (parsed once: :meth:`rows` and :meth:`merged` of one sheet share it)."""
        if getattr(self, "_last", (None, None))[0] != name:
            self._last = (name, self._cal.get_sheet_by_name(name))
        return self._last[1]

    def rows(self, name: str, nrows: int | None = None) -> list[tuple[Any, ...]]:
        """The sheet's rows from row 1 (empty cells None; date-only cells as midnight datetimes)."""
        import datetime as _dt

        if self._cal is not None:
            raw = self._sheet(name).to_python(skip_empty_area=False, nrows=nrows)

            def fix(v: Any) -> Any:
                if v == "":
                    return None
                if type(v) is float and v.is_integer() and abs(v) < 2**53:
                    return int(v)  # as openpyxl: Excel stores 3 and 3.0 alike
                if type(v) is _dt.date:
                    return _dt.datetime(v.year, v.month, v.day)
                return v

            return [tuple(fix(v) for v in r) for r in raw]
        ws = self._wb[name]
        with contextlib.suppress(Exception):
            ws.reset_dimensions()
        return [tuple(r) for r in ws.iter_rows(max_row=nrows, values_only=True)]

    def _sheet_xml(self, name: str, until: bytes | None = None) -> bytes | None:
        """The worksheet XML of the sheet ``name`` of an .xlsx archive (its member found once from workbook.xml and
        its relations); with ``until``, only its start, up to the first ``until`` (read in chunks: the data need not
        be inflated). None for an Excel 97-2003 file, or when the sheet cannot be found in the archive."""
        import zipfile

        if self._xls:  # an Excel 97-2003 file is no ZIP archive of XML
            return None
        try:
            with zipfile.ZipFile(self.path) as z:
                members = getattr(self, "_members", None)
                if members is None:
                    members = self._members = _sheet_members(z)
                member = members.get(name)
                if member is None:
                    return None
                if until is None:
                    return z.read(member)
                head = b""
                with z.open(member) as fh:
                    while until not in head and len(head) < 1 << 24:
                        chunk = fh.read(1 << 16)
                        if not chunk:
                            break
                        head += chunk
                return head
        except Exception:  # noqa: BLE001 — an archive laid out unusually: nothing to say rather than a failed read
            return None

    def unsaved_formulas(self, name: str) -> list[str]:
        """Cells of an .xlsx sheet (``B2`` …, in file order) that hold a formula but no saved result: a program
        (Apache POI, openpyxl …) wrote the formula and no spreadsheet ever calculated it, so every reader sees the
        cell empty. [] for other workbooks."""
        xml = self._sheet_xml(name)
        if xml is None or b"<f" not in xml and b":f" not in xml:
            return []
        return [m.group(1).decode("ascii") for m in _UNSAVED_FORMULA.finditer(xml)]

    def hidden_columns(self, name: str) -> list[int]:
        """0-based numbers of the columns an .xlsx sheet hides (``<col … hidden="1">``, read from the top of the
        sheet's XML: the column widths come before the data). [] for other workbooks."""
        out: list[int] = []
        for m in _COL_TAG.finditer(self._sheet_xml(name, until=b"<sheetData") or b""):
            a = dict(_XML_ATTR.findall(m.group(1)))
            if a.get(b"hidden") in (b"1", b"true") and a.get(b"min", b"").isdigit() and a.get(b"max", b"").isdigit():
                lo, hi = int(a[b"min"]), int(a[b"max"])
                out.extend(range(lo - 1, min(hi, lo + 200)))  # a hidden run to the sheet's last column (max=16384)
        return sorted(set(out))

    def close(self) -> None:
        if self._wb is not None:
            self._wb.close()


_COL_TAG = re.compile(rb"<(?:\w+:)?col\b([^>]*)>")
_XML_ATTR = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')


#: a cell whose content is a formula and no result (no ``<v>``, or an empty one as openpyxl writes):
#: ``<c r="B2"><f>TEXT(E2,"…")</f><v></v></c>``; also a shared formula's ``<f t="shared" si="0"/>`` and a namespace
#: prefix (``<x:c>``) as some programs write
_UNSAVED_FORMULA = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3}[0-9]+)"[^>]*>\s*'
                              rb'(?:<(?:\w+:)?f\b[^>]*/>|<(?:\w+:)?f\b[^>]*>[^<]*</(?:\w+:)?f>)\s*'
                              rb'(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>')


def _sheet_members(z: Any) -> dict[str, str]:
    """Sheet name → its worksheet XML's member in the .xlsx archive ``z`` (from workbook.xml and its relations)."""
    import posixpath
    import xml.etree.ElementTree as ET

    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    book = ET.fromstring(z.read("xl/workbook.xml"))
    rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {el.get("Id"): el.get("Target") for el in rels}
    out = {}
    for el in book.iter():
        target = targets.get(el.get(rel_ns)) if el.tag.rsplit("}", 1)[-1] == "sheet" else None
        if target:
            out[el.get("name")] = (target.lstrip("/") if target.startswith("/")
                                   else posixpath.normpath(posixpath.join("xl", target)))
    return out


def _emptyish_column(rows: Sequence[Sequence[Any]], sample: int = 200) -> bool:
    """Whether a column is empty in at least half of the first and last ``sample`` rows below the first row — where
    a column of formulas without results would show (the check that costs nothing, before reading the XML)."""
    body = rows[1:]
    if len(body) > 2 * sample:
        body = [*body[:sample], *body[-sample:]]
    width = max((len(r) for r in body), default=0)
    return any(2 * sum(1 for r in body if j >= len(r) or r[j] is None) >= len(body) for j in range(width))


def _say_sheet_notes(wb: Any, file: str, sheets: dict[str, Sequence[Sequence[Any]]]) -> None:
    """What the cells of the sheets read (name → rows) do not show: formulas whose result was never saved (read as
    empty; the sheet's XML is read again only when a column is mostly empty, :func:`_emptyish_column`), and columns
    with data hidden in Excel — read like the others (a table has no notion of a hidden column; what a command uses is
    chosen by name), said so that a column the analyst hid (an internal id, a helper formula) is not silently read."""
    from openpyxl.utils import get_column_letter

    if not hasattr(wb, "unsaved_formulas"):  # the tables of a web page or XML workbook
        return
    for name, rows in sheets.items():
        cells = wb.unsaved_formulas(name) if _emptyish_column(rows) else []
        if cells:
            log.warning("%s, sheet %r: %d cell(s) hold a formula whose result was never saved in the file (%s%s) — a "
                        "program wrote the formulas and no spreadsheet calculated them, so they are read as empty; "
                        "open the file in Excel or WPS and save it (the results are then stored), or export the "
                        "values", file, name, len(cells), ", ".join(cells[:6]), " …" if len(cells) > 6 else "")
        shown = []
        for j in wb.hidden_columns(name):
            if not any(j < len(r) and not _is_blank(r[j]) for r in rows):
                continue  # a hidden empty column: nothing read
            head = next((str(r[j]).strip() for r in rows[:_HEADER_SCAN_ROWS] if j < len(r) and isinstance(r[j], str)
                         and r[j].strip()), None)
            shown.append(get_column_letter(j + 1) + (f" ({head!r})" if head else ""))
        if shown:
            log.warning("%s, sheet %r: column(s) hidden in Excel are read as data like the others: %s", file, name,
                        ", ".join(shown))


def _usual_header_names() -> set[str]:
    """Every kind of table's canonical column names and usual header names (:data:`govml.config.HEADER_ALIASES`:
    留言时间, 受理时间, 所属社区, 工号 …), cleaned as header cells are."""
    from govml.config import HEADER_ALIASES

    names = {n for table in HEADER_ALIASES.values() for canon, ns in table.items() for n in (canon, *ns)}
    return {_header_key(n) for n in names}


def _header_hits(rows: Sequence[Sequence[Any]], names: set[str]) -> int:
    """The most cells of one row (of the top ``rows``) that are one of ``names``."""
    return max((sum(1 for v in r if isinstance(v, str) and _header_key(v) in names) for r in rows), default=0)


def _looks_like_table(rows: Sequence[Sequence[Any]]) -> bool:
    """A row of two or more cells with another below it: a table (a 说明 / notes sheet is a column of sentences)."""
    filled = [sum(not _is_blank(v) for v in r) for r in rows]
    return any(a >= 2 and b >= 2 for a, b in zip(filled, filled[1:], strict=False))


def _pick_sheet(wb: _Workbook, known: set[str]) -> str:
    """The sheet read when none is named: the first whose top rows name at least two of ``known`` (the columns
    asked for); else the first naming two usual header names of any kind of table (:func:`_usual_header_names`:
    受理时间, 所属社区 …); else the first that looks like a table (a header and a data row of two or more cells,
    not a 说明 sheet of sentences); else, when the first sheet's top rows name none of those columns, the first
    whose top rows name one (a one-column data sheet: only 留言详情, or only the column asked for); else the first
    sheet. A sheet other than the first is said (a warning). Sheets hidden in Excel (a template with example rows, the
    lookup lists of a data-validation drop-down) are not candidates — said, as they are what the analyst does not see."""
    names = [n for n in wb.names if n not in wb.hidden] or list(wb.names)
    if len(names) < len(wb.names):
        log.warning("%s: sheet(s) %s hidden in the workbook (a template or lookup list?): not read; --sheet NAME reads "
                    "one", _name(wb.path), ", ".join(repr(n) for n in wb.names if n not in names))
    if len(names) < 2:
        return names[0]
    tops: dict[str, list[tuple[Any, ...]]] = {}

    def top(name: str) -> list[tuple[Any, ...]]:
        if name not in tops:
            tops[name] = wb.rows(name, nrows=_HEADER_SCAN_ROWS)
        return tops[name]

    file, first = _name(wb.path), names[0]
    known_clean = {_header_key(k) for k in known if k}
    if known_clean:
        for name in names:
            if _header_hits(top(name), known_clean) >= 2:
                if name != first:
                    log.warning("%s: sheet %r read, not the first sheet %r: it names the columns asked for "
                                "(the first does not); --sheet NAME reads another", file, name, first)
                return name
    usual = _usual_header_names()
    for name in names:
        if _header_hits(top(name), usual) >= 2:
            if name != first:
                log.warning("%s: sheet %r read, not the first sheet %r: its header has the usual column names "
                            "(留言时间, 受理时间, 社区 …), the first's has not; --sheet NAME reads another",
                            file, name, first)
            return name
    for name in names:
        if _looks_like_table(top(name)):
            if name != first:
                log.warning("%s: sheet %r read, not the first sheet %r, which is not a table (notes? one column "
                            "of text); --sheet NAME reads another", file, name, first)
            return name
    # no sheet is a table of two columns or more: a one-column data sheet (only 留言详情) behind a 说明 sheet
    names_one = known_clean | usual
    if not _header_hits(top(first), names_one):
        for name in names[1:]:
            column = _header_name(top(name), names_one)
            if column is not None:
                log.warning("%s: sheet %r read, not the first sheet %r: its header names the column %r, the "
                            "first's names none of the columns read (notes?); --sheet NAME reads another",
                            file, name, first, column)
                return name
    return first


def _header_name(rows: Sequence[Sequence[Any]], names: set[str]) -> str | None:
    """The first cell of the top ``rows`` that is one of ``names`` (cleaned as header cells are), as written."""
    for r in rows:
        for v in r:
            if isinstance(v, str) and _header_key(v) in names:
                return v
    return None


def _same_header_sheets(wb: _Workbook, title: str, rows: Sequence[Sequence[Any]]) -> list[str]:
    """The other sheets whose header (found as for the sheet read) names the same columns, with data below."""
    def header(rs: Sequence[Sequence[Any]]) -> tuple[str, ...]:
        if not rs:
            return ()
        h = _find_header(rs, set())
        return tuple(clean_text(str(v)) for v in rs[h] if not _is_blank(v)) if h < len(rs) else ()

    mine = header(rows[:_HEADER_SCAN_ROWS])
    if len(mine) < 2:
        return []
    out = []
    for name in wb.names:
        if name == title or name in wb.hidden:
            continue
        top = wb.rows(name, nrows=_HEADER_SCAN_ROWS + 1)
        if header(top[:_HEADER_SCAN_ROWS]) == mine and len(top) > 1:
            out.append(name)
    return out


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _utf16_without_bom(head: bytes) -> bool:
    """Whether the first bytes of a file are UTF-16 text without a byte-order mark (Excel's "Unicode text" as some
    systems write it, saved as .xls), told as :func:`detect_encoding` tells it."""
    try:
        with _quiet_log():
            return detect_encoding(head[:4096] if len(head) > 4096 else head) in ("utf-16-le", "utf-16-be")
    except DataError:
        return False


@contextlib.contextmanager
def _quiet_log() -> Iterator[None]:
    """Hold back this module's INFO lines (a sniff of the first bytes says nothing the whole read does not)."""
    level = log.level
    log.setLevel(max(logging.WARNING, log.getEffectiveLevel()))
    try:
        yield
    finally:
        log.setLevel(level)


def _read_xls(path: Path, sheet: str | int | None, header_row: int | None, known: set[str],
              encoding: str | None) -> pd.DataFrame:
    """A file named .xls: an Excel 97-2003 workbook (read with python-calamine), or — as web systems export
    "Excel" — an .xlsx, an HTML table, an Excel 2003 XML workbook or a tab- or comma-separated text under that name
    (each read as what it is, said)."""
    file = _name(path)
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if not head:
        raise DataError(message=f"{file}: the file is empty (0 bytes); expected an Excel workbook")
    if head.startswith(_OLE2[:4]):
        return _read_xlsx(path, sheet, header_row, known, xls=True)
    if head.startswith(b"PK\x03\x04"):
        log.warning("%s: an .xlsx workbook named .xls: read as .xlsx", file)
        return _read_xlsx(path, sheet, header_row, known)
    if re.match(rb"(?i)\s*mime-version\s*:", head) or b"multipart/related" in head[:2048].lower():
        raise DataError(message=f"{file}: a single-file web page (MHTML, Excel's 'Web archive') named .xls, not a table "
                        "govml reads; open it in Excel/WPS and save it as .xlsx or .csv")
    kind = _web_kind(head)
    if kind is not None:
        log.warning("%s: %s named .xls (not an Excel 97-2003 workbook): read as %s", file,
                    *(("an Excel 2003 XML workbook (SpreadsheetML)", "such") if kind == "spreadsheetml" else
                      ("a web page (an HTML table, as web systems export 'Excel')", "its table(s)")))
        return _read_web(path, kind, sheet, header_row, known, encoding)
    if _looks_binary(head) and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) \
            and not _utf16_without_bom(head):
        raise DataError(message=f"{file}: not a readable Excel workbook: neither Excel 97-2003 (.xls) nor .xlsx "
                        "content; open it in Excel/WPS and save it as .xlsx or .csv")
    log.warning("%s: a text table named .xls (not a workbook): read as delimited text", file)
    return _read_delimited(path, ".txt", False, encoding, header_row, known)


#: ``--sheet all`` (or ``*``): every sheet with the header of the one picked, read as one table
ALL_SHEETS = ("all", "*")


def _read_xlsx(path: Path, sheet: str | int | None, header_row: int | None, known: set[str],
               xls: bool = False, wb: Any = None) -> pd.DataFrame:
    """A workbook's sheet (``wb``: the tables of a web page or XML workbook, :class:`_WebTables`, read alike)."""
    file = _name(path)
    if wb is None:
        if path.stat().st_size == 0:
            raise DataError(message=f"{file}: the file is empty (0 bytes); expected an Excel workbook")
        wb = _Workbook(path, xls=xls)
    try:
        names = wb.names
        if isinstance(sheet, str) and sheet.strip().lower() in ALL_SHEETS and sheet not in names:
            return _read_all_sheets(wb, file, header_row, known, xls)
        if sheet is None:
            title = _pick_sheet(wb, known)
        elif isinstance(sheet, int) or (isinstance(sheet, str) and sheet not in names and sheet.isdigit()):
            idx = int(sheet)
            if not 0 <= idx < len(names):
                raise DataError(message=f"{file}: there is no sheet number {idx} (sheets, counted from 0: "
                                + ", ".join(f"{i}={n!r}" for i, n in enumerate(names)) + ")")
            title = names[idx]
        elif sheet in names:
            title = sheet
        else:
            raise DataError(message=f"{file}: no sheet named {sheet!r}; the sheets are "
                            + ", ".join(repr(n) for n in names))
        all_rows = wb.rows(title)
        merged = wb.merged(title)
        others = _same_header_sheets(wb, title, all_rows) if sheet is None and len(names) > 1 else []
        _say_sheet_notes(wb, file, {title: all_rows})
    finally:
        wb.close()
    if others:
        log.warning("%s: sheet %r read; sheet(s) %s have the same columns and were not read (one export split "
                    "over several sheets?) — --sheet all reads them together, --sheet NAME another one", file, title,
                    ", ".join(repr(n) for n in others))
    elif sheet is None and len(names) > 1:
        log.info("%s: sheet %r read (the workbook's other sheets: %s)", file, title,
                 ", ".join(repr(n) for n in names if n != title))
    meta: dict[str, Any] = {"file": file, "format": getattr(wb, "format", "xls" if xls else "xlsx"),
                            "encoding": getattr(wb, "encoding", None), "sheet": title, "sheets": names}
    if others:
        meta["same_header_sheets"] = others
    return _one_sheet(all_rows, title, header_row, known, file, meta, merged, all_text=getattr(wb, "all_text", False))


def _one_sheet(all_rows: list[tuple[Any, ...]], title: str, header_row: int | None, known: set[str], file: str,
               meta: dict, merged: Sequence[tuple[tuple[int, int], tuple[int, int]]] = (),
               all_text: bool = False) -> pd.DataFrame:
    """One sheet's rows → its frame (header found, or ``header_row``; title rows above and footer rows below
    skipped; the sheet's own row numbers in ``meta``; cells of a block merged down a column below the header
    read with the block's value: :func:`_fill_merged`)."""
    if not any(any(not _is_blank(v) for v in r) for r in all_rows):
        raise DataError(message=f"{file}: sheet {title!r} is empty; expected a header row and data")
    if header_row is not None:
        if not 1 <= header_row <= len(all_rows):
            raise DataError(message=f"{file}: --header-row {header_row} is outside sheet {title!r} "
                            f"(it has {len(all_rows)} rows)")
        h = header_row - 1
        header, two = list(all_rows[h]), None
    else:
        header, h, two = _two_level_header(all_rows, _find_header(all_rows, known))
    data = _fill_merged(all_rows, h, merged, file, title, header, meta)
    rows = list(range(h + 2, h + 2 + len(data)))
    meta["header_row"] = h + 1
    if two is not None:
        meta["header_rows"] = [two + 1, h + 1]
        log.info("%s: header of two rows (%d and %d): merged header cells read as one name each", file, two + 1, h + 1)
    return _frame_from_rows(header, data, rows, file, meta, all_text=all_text)


def _fill_merged(all_rows: list[tuple[Any, ...]], h: int, merged: Sequence[tuple[tuple[int, int], tuple[int, int]]],
                 file: str, title: str, header: Sequence[Any], meta: dict) -> list[tuple[Any, ...]]:
    """The data rows (below the header row ``h``), each cell of a block merged down one column (a report grouped by
    街道 or 类别, the street written once over its rows) holding the block's value, as the sheet shows it — the
    file keeps the value in the block's first cell only, so its other rows read empty. Said (a warning), with the
    columns; blocks across several columns (a merged note) or reaching into the header are left as they are."""
    data = all_rows[h + 1 :]
    fill = [((r0, c0), r1) for (r0, c0), (r1, c1) in merged if c0 == c1 and h < r0 < r1 and r0 < len(all_rows)]
    if not fill:
        return data
    data = list(data)
    filled: dict[int, int] = {}
    for (r0, c), r1 in fill:
        value = all_rows[r0][c] if c < len(all_rows[r0]) else None
        if _is_blank(value):
            continue
        for r in range(r0 + 1, min(r1, len(all_rows) - 1) + 1):
            row = data[r - h - 1]
            if c < len(row) and not _is_blank(row[c]):
                continue
            row = list(row) + [None] * max(0, c + 1 - len(row))
            row[c] = value
            data[r - h - 1] = tuple(row)
            filled[c] = filled.get(c, 0) + 1
    if filled:
        filled = dict(sorted(filled.items()))
        names = [str(header[c]) if c < len(header) and not _is_blank(header[c]) else f"column_{c + 1}" for c in filled]
        meta["merged_cells_filled"] = dict(zip(names, filled.values(), strict=True))
        log.warning("%s: sheet %r: cells merged down a column (%s) read with the merged block's value in each of its "
                    "rows, as the sheet shows them: %s", file, title, ", ".join(names),
                    ", ".join(f"'{n}' {k:,} cell(s)" for n, k in zip(names, filled.values(), strict=True)))
    return data


def _read_all_sheets(wb: _Workbook, file: str, header_row: int | None, known: set[str], xls: bool) -> pd.DataFrame:
    """``--sheet all``: the sheet :func:`_pick_sheet` picks and every other sheet whose header names the same
    columns (a 12345 system's export of one sheet per month), read each as its own sheet (title rows, footer
    rows) and stacked in workbook order. Row numbers stay each sheet's own and carry it: ``meta["rows"]`` holds
    runs ``[start, stop, sheet]`` (:func:`source_rows` gives :class:`~govml.errors.SheetRow` values, shown
    ``1月!12``); ``meta["sheet_rows"]`` counts the rows each sheet gave (``[name, number of rows read]`` in
    order); footer rows are named ``sheet!row``."""
    import pandas as pd

    try:
        first = _pick_sheet(wb, known)
        first_rows = wb.rows(first)
        together = {first, *_same_header_sheets(wb, first, first_rows)}
        order = [n for n in wb.names if n in together]
        sheets = {n: (first_rows if n == first else wb.rows(n)) for n in order}
        merges = {n: wb.merged(n) for n in order}
        _say_sheet_notes(wb, file, sheets)
    finally:
        wb.close()
    frames, rows, footer, parts = [], [], [], []
    placeholders: dict[str, int] = {}
    meta: dict[str, Any] = {}
    columns = None
    for name, all_rows in sheets.items():
        m: dict[str, Any] = {}
        with _quiet_footer():
            df = _one_sheet(all_rows, name, header_row, known, file, m, merges[name],
                            all_text=getattr(wb, "all_text", False))
        if columns is None:
            columns, meta = list(df.columns), m
        elif list(df.columns) != columns:  # a header that differs in order: line the columns up by name
            extra = [c for c in df.columns if c not in columns and df[c].notna().any()]
            if extra:  # data under no header name (column_4) in this sheet only: not dropped unsaid
                first_row = source_rows(df)[int(df[extra].notna().any(axis=1).to_numpy().argmax())]
                log.warning("%s: --sheet all: sheet %r has data in column(s) %s (e.g. row %s!%d), which sheet %r does "
                            "not have (no header name above them?): not read", file, name,
                            ", ".join(map(str, extra)), name, first_row, order[0])
            df = df.reindex(columns=columns)
        frames.append(df)
        rows += SheetRow.run(source_rows(df), name, len(parts)) if len(sheets) > 1 else source_rows(df)
        if m.get("footer_rows"):
            footer.append(f"{name}!" + ",".join(map(str, m["footer_rows"])))
        for col, n in (m.get("placeholder_cells") or {}).items():
            placeholders[col] = placeholders.get(col, 0) + n
        parts.append([name, len(df)])
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    for c in out.columns:  # a column typed differently by two sheets (numbers in one, text in another)
        if out[c].dtype == object:
            inferred = out[c].infer_objects()
            if inferred.dtype != object:
                out[c] = inferred
    meta.pop("footer_rows", None)
    meta.pop("placeholder_cells", None)
    if placeholders:
        meta["placeholder_cells"] = placeholders
        log.warning("%s: %s", file, placeholder_note(placeholders))
    meta.update({"file": file, "format": getattr(wb, "format", "xls" if xls else "xlsx"),
                 "encoding": getattr(wb, "encoding", None), "sheet": order[0],
                 "sheets": list(wb.names), "sheets_read": order, "sheet_rows": parts, "rows": _compact_rows(rows)})
    if footer:
        meta["footer_rows"] = footer
        log.warning("%s: footer row(s) %s below the data skipped", file, ", ".join(footer))
    out.attrs["govml"] = meta
    if len(order) > 1:
        log.warning("%s: sheets %s read together as one table (%s rows; row numbers are each sheet's own)", file,
                    ", ".join(repr(n) for n in order), " + ".join(f"{n:,}" for _, n in parts))
    else:
        log.warning("%s: --sheet all: no other sheet has the columns of sheet %r; only it was read", file, order[0])
    left = [n for n in wb.names if n not in together and n not in wb.hidden]
    if left:  # a month whose export gained or lost a column is not dropped unsaid
        meta["sheets_not_read"] = left
        log.warning("%s: --sheet all: sheet(s) %s not read: their header names other columns than sheet %r", file,
                    ", ".join(repr(n) for n in left), order[0])
    return out


@contextlib.contextmanager
def _quiet_footer() -> Iterator[None]:
    """Hold back the per-sheet footer and placeholder warnings of :func:`_finish_frame` (one line for all
    sheets is said)."""
    class _NoFooter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "footer row(s)" not in str(record.msg) and not (
                record.args and isinstance(record.args, tuple) and "placeholder" in str(record.args[-1]))

    f = _NoFooter()
    log.addFilter(f)
    try:
        yield
    finally:
        log.removeFilter(f)


# --------------------------------------------------------------------------------------------------
# what web systems save as "Excel": an HTML table, or an Excel 2003 XML workbook (SpreadsheetML)

WEB_SUFFIXES = (".html", ".htm", ".xml")
_SSML = "urn:schemas-microsoft-com:office:spreadsheet"
_SSML_EXCEL = "urn:schemas-microsoft-com:office:excel"
_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml\b[^>]*\?>", re.I)
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_ENCODING = re.compile(rb"""^\s*<\?xml\b[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""", re.I)
#: the labels web pages give Chinese text: GB2312 and GBK pages are GBK (WHATWG reads both so), GB18030 its superset
_GB_LABELS = {"gb2312": "gbk", "gb_2312": "gbk", "gb_2312-80": "gbk", "x-gbk": "gbk", "gbk": "gbk", "cp936": "gbk",
              "euc-cn": "gbk", "csgb2312": "gbk", "gb18030": "gb18030"}


def _web_kind(head: bytes) -> str | None:
    """``"spreadsheetml"`` (an Excel 2003 XML workbook), ``"html"`` (a web page or a bare ``<table>``) or ``None``,
    told by the first bytes (in UTF-8, GBK … or UTF-16)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", errors="ignore")
    elif head[1:200:2].count(0) > 50:
        text = head.decode("utf-16-le", errors="ignore")
    elif head[0:200:2].count(0) > 50:
        text = head.decode("utf-16-be", errors="ignore")
    else:
        text = head.decode("latin-1")
    s = text.lstrip("\ufeff\xef\xbb\xbf").lstrip().lower()
    book = re.search(r"<(?:ss:)?workbook\b", s)
    page = re.search(r"<(?:html|body|table|meta|!doctype\s+html)\b", s)
    if book and _SSML in s and (page is None or book.start() < page.start()):
        return "spreadsheetml"
    if page is not None and (s.startswith("<") or page.start() < 1024):
        return "html"
    return None


def _web_decode(raw: bytes, file: str, encoding: str | None, kind: str) -> tuple[str, str]:
    """(text, encoding used) of a web page or XML workbook: ``encoding`` (``--encoding``) wins; then a byte-order
    mark; then the charset the file declares (``<meta charset>``, ``<meta http-equiv … charset=…>``, ``<?xml …
    encoding=…?>``; GB2312 read as GBK, as browsers do); else (none, unknown, or the bytes are not in it: said) the
    encoding is detected as for a CSV file."""
    if encoding is not None or raw.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(raw, file, encoding)
    head = raw[:8192]
    m = (_XML_ENCODING.match(head) if kind == "spreadsheetml" else None) or _CHARSET.search(head)
    if m is not None:
        label = m.group(1).decode("ascii", "replace").lower()
        enc = _GB_LABELS.get(label, label)
        try:
            codecs.lookup(enc)
        except LookupError:
            log.warning("%s: declares the charset %r, which Python does not know: the encoding is detected", file,
                        label)
            return _decode(raw, file, None)
        if codecs.lookup(enc).name in ("iso8859-1", "cp1252", "latin-1") and re.search(
                rb"[\x80-\xff]", raw):  # a Java server's default label over Chinese bytes: every byte is
            try:  # "in" Latin-1, so the label cannot be checked by decoding
                with _quiet_log():
                    text, used = _decode(raw, file, None)
            except DataError:  # Latin-1 text indeed (Café)
                text, used = "", enc
            if used in ("utf-8", "gbk", "gb18030") and _looks_chinese(text) and _CJK_CHAR.search(text):
                log.warning("%s: declares the charset %r but holds Chinese text in %s: read as %s", file, label, used,
                            used)
                return text, used
            return raw.decode(enc), enc
        if enc in ("gbk", "gb18030"):
            try:  # a page labelled GB2312 but saved as UTF-8 (its label copied from an old template)
                text = raw.decode("utf-8")
                if _NON_ASCII.search(text):
                    log.warning("%s: declares the charset %r but is UTF-8 text: read as UTF-8", file, label)
                    return text, "utf-8"
            except UnicodeDecodeError:
                pass
        for e in (enc, "gb18030") if enc == "gbk" else (enc,):
            try:
                return raw.decode(e), e
            except UnicodeDecodeError:
                continue
        text, used = _decode(raw, file, None)
        log.warning("%s: declares the charset %r but its bytes are not in it: read as %s (detected); --encoding E "
                    "reads it in another", file, label, used)
        return text, used
    return _decode(raw, file, None)


def _cell_text(el: Any) -> str | None:
    """A ``<td>``'s text as the browser shows it (``&nbsp;`` a space; ``<br>`` and block elements line breaks, which
    :meth:`_WebTables._html` put in once for the page); ``None`` when blank."""
    text = "".join(el.itertext())
    return text if text.strip() else None


def _span(el: Any, attr: str) -> int:
    """A ``rowspan``/``colspan`` as browsers take it: a whole number ≥ 1 (anything else: 1), at most 1000."""
    v = el.get(attr)
    if v is None:
        return 1
    v = v.strip().rstrip(";")
    return min(max(int(v), 1), 1000) if v.isascii() and v.isdigit() else 1


class _WebTables:
    """The tables of a web page, or the worksheets of an Excel 2003 XML workbook, read as the sheets of a workbook
    (the interface of :class:`_Workbook`): cells as text, merged cells (``rowspan``/``colspan``,
    ``ss:MergeAcross``/``ss:MergeDown``) with their value in the first cell and the ranges told by :meth:`merged`,
    as Excel opens the file."""

    all_text = True

    def __init__(self, path: Path, kind: str, encoding: str | None) -> None:
        self.path = path
        self.format = kind
        file = _name(path)
        raw = path.read_bytes()
        if not raw.strip():
            raise DataError(message=f"{file}: the file is empty ({len(raw)} bytes); expected "
                            + ("an Excel 2003 XML workbook" if kind == "spreadsheetml" else "a web page with a table"))
        text, self.encoding = _web_decode(raw, file, encoding, kind)
        text = _XML_DECL.sub("", text.lstrip("\ufeff"), count=1)
        if kind == "spreadsheetml":  # a database's stray control character (\x01, \x0b …) is no XML: lxml refuses
            text = _CONTROL_CHARS.sub(" ", text)  # the file; read as a space (a CSV reads \x0b, \x1c–\x1f so too)
        self._rows: dict[str, list[tuple[Any, ...]]] = {}
        self._merged: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = {}
        self.hidden: set[str] = set()
        if kind == "spreadsheetml":
            self._spreadsheetml(text, file)
        else:
            self._html(text, file)
        self.names = list(self._rows)

    def _add(self, name: str, cells: dict[tuple[int, int], Any], merged: list) -> None:
        height = max((r for r, _ in cells), default=-1) + 1
        width = max((c for _, c in cells), default=-1) + 1
        grid = [[None] * width for _ in range(height)]
        for (r, c), v in cells.items():
            grid[r][c] = v
        base, k = name, 2
        while name in self._rows:
            name, k = f"{base} ({k})", k + 1
        self._rows[name] = [tuple(r) for r in grid]
        self._merged[name] = [((r0, c0), (min(r1, height - 1), c1)) for (r0, c0), (r1, c1) in merged]

    def _html(self, text: str, file: str) -> None:
        try:
            from lxml import etree
        except ImportError:
            raise DataError(message=f"{file}: reading a web page saved as Excel needs lxml (pip install lxml); or "
                            "open it in Excel/WPS and save it as .xlsx or .csv") from None
        parser = etree.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)
        try:
            doc = etree.fromstring(text, parser=parser)
        except Exception as exc:  # noqa: BLE001 — lxml's errors on a document it cannot parse
            raise DataError(message=f"{file}: not a readable web page ({exc.__class__.__name__}: {exc})") from None
        if doc is None:
            raise DataError(message=f"{file}: a web page with no table in it (no <table> element); expected a table "
                            "of data, as a web system's 'export to Excel' saves")
        for el in doc.iter("script", "style"):  # no text of a cell
            el.text = None
            del el[:]
        for el in doc.iter("br", "p", "div", "li", "tr"):  # a line break in a cell (later one space, as any cell's)
            el.tail = "\n" + (el.tail or "")
        tables = list(doc.iter("table"))
        for n, table in enumerate(tables, start=1):  # table3: the third <table> of the page
            cells: dict[tuple[int, int], Any] = {}
            taken: set[tuple[int, int]] = set()  # the cells below a rowspan's first row
            merged = []
            # as a browser lays them out: <thead> rows first, <tfoot> rows (a 合计 row) last wherever they are written
            trs = [*table.xpath("./thead/tr"), *table.xpath("./tr | ./tbody/tr"), *table.xpath("./tfoot/tr")]
            for r, tr in enumerate(trs):
                c = 0
                for td in tr:
                    if td.tag not in ("td", "th"):
                        continue
                    while (r, c) in taken:
                        c += 1
                    rs, cs = _span(td, "rowspan"), _span(td, "colspan")
                    v = _cell_text(td)
                    if v is not None:
                        cells[(r, c)] = v
                    if rs > 1 or cs > 1:
                        rs = min(rs, len(trs) - r)
                        taken.update((r + i, c + j) for i in range(1, rs) for j in range(cs))
                        merged.append(((r, c), (r + rs - 1, c + cs - 1)))
                    c += cs
            if not cells:
                continue
            caption = table.find("caption")
            name = clean_text(_cell_text(caption)) if caption is not None else None
            self._add(name or f"table{n}", cells, merged)
        if not self._rows:
            raise DataError(message=f"{file}: a web page with no table in it ("
                            + ("its <table> elements are empty" if tables else "no <table> element")
                            + "); expected a table of data, as a web system's 'export to Excel' saves")

    def _spreadsheetml(self, text: str, file: str) -> None:
        from lxml import etree

        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)
        try:
            root = etree.fromstring(text.encode("utf-8"), parser=parser)
        except etree.XMLSyntaxError as exc:
            raise DataError(message=f"{file}: not a readable Excel 2003 XML workbook: broken XML near line "
                            f"{exc.lineno} ({exc.msg}); open it in Excel/WPS and save it as .xlsx") from None
        ss = f"{{{_SSML}}}"

        def attr(el: Any, name: str) -> str | None:
            v = el.get(ss + name)
            return v if v is not None else el.get(name)

        def number(el: Any, name: str, default: int) -> int:
            v = attr(el, name)
            try:
                return int(v) if v is not None else default
            except ValueError:
                raise DataError(message=f"{file}: line {el.sourceline}: ss:{name}={v!r} is not a whole "
                                "number") from None

        sheets = root.findall(ss + "Worksheet")
        if not sheets:
            raise DataError(message=f"{file}: an Excel 2003 XML workbook with no worksheet (no <Worksheet> element)")
        for i, ws in enumerate(sheets):
            name = attr(ws, "Name") or f"Sheet{i + 1}"
            cells: dict[tuple[int, int], Any] = {}
            merged = []
            table = ws.find(ss + "Table")
            r = -1
            for row in table.iterfind(ss + "Row") if table is not None else ():
                fancy = bool(row.keys())  # most rows and cells have no attribute: read fast
                r = number(row, "Index", r + 2) - 1 if fancy else r + 1
                c = -1
                for cell in row.iterfind(ss + "Cell"):
                    across = down = 0
                    if cell.keys():
                        c = number(cell, "Index", c + 2) - 1
                        across, down = number(cell, "MergeAcross", 0), number(cell, "MergeDown", 0)
                    else:
                        c += 1
                    v = _ssml_value(cell.find(ss + "Data"), ss)
                    if v is not None:
                        cells[(r, c)] = v
                    if across > 0 or down > 0:
                        merged.append(((r, c), (r + max(down, 0), c + max(across, 0))))
                    c += max(across, 0)
                if fancy:
                    r += max(number(row, "Span", 0), 0)
            visible = ws.find(f"{{{_SSML_EXCEL}}}WorksheetOptions/{{{_SSML_EXCEL}}}Visible")
            before = len(self._rows)
            self._add(name, cells, merged)
            if visible is not None and (visible.text or "").strip() in ("SheetHidden", "SheetVeryHidden"):
                self.hidden.add(list(self._rows)[before])

    def merged(self, name: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        return self._merged[name]

    def rows(self, name: str, nrows: int | None = None) -> list[tuple[Any, ...]]:
        return self._rows[name][:nrows] if nrows is not None else self._rows[name]

    def close(self) -> None:
        pass


def _ssml_value(data: Any, ss: str) -> str | None:
    """A SpreadsheetML ``<Data>`` as the text a CSV export of the sheet would hold: a number as written, but a whole
    number without ``.0`` or an exponent (ids: ``1.2345678E+7`` → ``12345678``); a ``DateTime`` as
    ``2023-12-01 08:30:00`` (a date only at midnight, a clock only on Excel's day 0); ``Boolean`` as TRUE/FALSE;
    strings (rich text too) as written."""
    if data is None:
        return None
    kind = (data.get(ss + "Type") or data.get("Type") or "String").strip()
    text = "".join(data.itertext()) if len(data) else (data.text or "")  # rich text: <B>, <Font> … inside
    if not text.strip():
        return None
    t = text.strip()
    if kind == "Number":
        if re.fullmatch(r"[+-]?\d+", t):
            return t
        try:
            f = float(t)
        except ValueError:
            return t
        if f.is_integer() and abs(f) < 2**53:
            return str(int(f))
        short = repr(f)
        return short if "e" not in short and "n" not in short else t
    if kind == "DateTime":
        m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?", t)
        if m is None:
            return t
        day, clock, frac = m.group(1), m.group(2), (m.group(3) or "").rstrip("0").rstrip(".")
        if day in ("1899-12-31", "1899-12-30", "1900-01-00"):
            return clock + frac
        return day if clock == "00:00:00" and not frac else f"{day} {clock}{frac}"
    if kind == "Boolean":
        return {"1": "TRUE", "0": "FALSE"}.get(t, t)
    return text


def _read_web(path: Path, kind: str, sheet: str | int | None, header_row: int | None, known: set[str],
              encoding: str | None) -> pd.DataFrame:
    """A web page's tables or an Excel 2003 XML workbook's worksheets, read as a workbook's sheets (the table or
    worksheet chosen as sheets are: ``sheet`` by name or number from 0, else :func:`_pick_sheet`)."""
    wb = _WebTables(path, kind, encoding)
    return _read_xlsx(path, sheet, header_row, known, wb=wb)


def _read_web_file(path: Path, suffix: str, sheet: str | int | None, header_row: int | None, known: set[str],
                   encoding: str | None) -> pd.DataFrame:
    """A file named .html/.htm (a web page: its tables) or .xml (an Excel 2003 XML workbook), told by its content:
    a workbook under such a name is read as one (said)."""
    file = _name(path)
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith((_OLE2[:4], b"PK\x03\x04")):
        log.warning("%s: an Excel workbook named %s: read as a workbook", file, suffix)
        return _read_xls(path, sheet, header_row, known, encoding)
    kind = _web_kind(head)
    if kind is None and suffix != ".xml":
        kind = "html"  # no <html>/<table> in its first bytes: told below whether a table follows
    if kind is None:
        if not head.strip():
            raise DataError(message=f"{file}: the file is empty ({path.stat().st_size} bytes); expected an Excel "
                            "2003 XML workbook")
        raise DataError(message=f"{file}: an XML file that is not an Excel 2003 XML workbook (SpreadsheetML: "
                        "<Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\">); expected a table: "
                        "open it in Excel/WPS and save it as .xlsx or .csv")
    return _read_web(path, kind, sheet, header_row, known, encoding)


def _read_jsonl(path: Path, gz: bool, encoding: str | None) -> pd.DataFrame:
    import pandas as pd

    file = _name(path)
    raw = _read_bytes(path, gz)
    if not raw.strip():
        raise DataError(message=f"{file}: the file is empty ({len(raw)} bytes); expected one JSON object per line")
    text, enc = _decode(raw, file, encoding)
    records, rows, problems = [], [], []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(file, n, None, "one JSON object per line", f"{line[:40]} ({exc.msg})"))
            continue
        if not isinstance(obj, dict):
            problems.append(Problem(file, n, None, "a JSON object", type(obj).__name__))
            continue
        records.append(obj)
        rows.append(n)
    if problems:
        raise DataError(problems=problems[:50], truncated=len(problems) > 50,
                        message=None if len(problems) == 1 else f"{file}: lines that are not JSON objects")
    df = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    meta = {"file": file, "format": "jsonl", "encoding": enc, "sheet": None, "header_row": None,
            "rows": _compact_rows(rows)}
    df = _clean_frame(df, file, meta)
    df.attrs["govml"] = meta
    return df


def _read_parquet(path: Path) -> pd.DataFrame:
    import pandas as pd
    import pyarrow

    file = _name(path)
    if path.stat().st_size == 0:
        raise DataError(message=f"{file}: the file is empty (0 bytes); expected a Parquet file")
    try:
        df = pd.read_parquet(path)
    except (pyarrow.ArrowException, OSError, ValueError) as exc:
        raise DataError(message=f"{file}: not a readable Parquet file ({exc})") from None
    df = df.reset_index(drop=not any(n is not None for n in df.index.names))
    meta = {"file": file, "format": "parquet", "encoding": None, "sheet": None, "header_row": 1,
            "rows": [[2, len(df) + 2]]}
    df = _clean_frame(df, file, meta)
    df.attrs["govml"] = meta
    return df


def read_table(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    known_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Read a table with its own column names, text cleaned.

    ``encoding`` forces a text encoding (CSV/TSV/JSONL); ``sheet`` picks a workbook's sheet (name or
    0-based index; default the first naming two of ``known_columns``, else the first naming two usual header names
    — 受理时间, 所属社区 … —, else the first that is a table, not a 说明 sheet of notes: :func:`_pick_sheet`; a sheet
    other than the first is said); ``header_row`` (1-based, as in the spreadsheet) overrides
    header detection; ``known_columns`` (column names expected in the file) helps find the header row.
    CSV/TSV cells are returned as strings (types are converted by :func:`load`); XLSX, Parquet and
    JSON keep their own types. Metadata (encoding, sheet, header row, row numbers) is in
    ``df.attrs["govml"]``.
    """
    p = Path(path)
    file = _name(p)
    if not p.exists():
        raise DataError(message=f"{file}: file not found")
    if p.is_dir():
        raise DataError(message=f"{file}: is a folder, expected a table file")
    if header_row is not None and header_row < 1:
        raise DataError(message=f"{file}: --header-row must be 1 or more (rows count from 1), got {header_row}")
    suffix, gz = _suffixes(p)
    known = set(known_columns)
    if suffix in (".csv", ".tsv", ".txt", ""):
        df = _read_delimited(p, suffix, gz, encoding, header_row, known)
    elif suffix in (".jsonl", ".ndjson"):
        df = _read_jsonl(p, gz, encoding)
    elif suffix in (".xlsx", ".xlsm") and not gz:
        df = _read_xlsx(p, sheet, header_row, known)
    elif suffix in (".parquet", ".pq") and not gz:
        df = _read_parquet(p)
    elif suffix == ".xls" and not gz:
        df = _read_xls(p, sheet, header_row, known, encoding)
    elif suffix in WEB_SUFFIXES and not gz:
        df = _read_web_file(p, suffix, sheet, header_row, known, encoding)
    elif suffix == ".json":
        raise DataError(message=f"{file}: plain .json is not supported; expected JSON Lines "
                        "(.jsonl: one object per line)")
    else:
        raise DataError(message=f"{file}: unsupported file type {suffix!r}; expected one of "
                        + ", ".join(SUPPORTED_SUFFIXES) + " (CSV/TSV/JSONL may be .gz)")
    if sheet is not None and df.attrs["govml"].get("format") not in ("xlsx", "xls", "html", "spreadsheetml"):
        log.warning("%s: --sheet is only used for Excel files and web pages; ignored", file)
    log.info("%s: read %d rows × %d columns (%s)", file, len(df), df.shape[1],
             ", ".join(f"{k}={v}" for k, v in df.attrs["govml"].items() if k in ("encoding", "sheet", "header_row")))
    return df


# --------------------------------------------------------------------------------------------------
# dates

_SEP_DATE = re.compile(
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{1,2})(?::(?P<S>\d{1,2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?: ?(?P<z>Z|[+-]\d{2}(?::?\d{2})?))?)?$"
)
_COMPACT_DATE = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:[ T]?(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})?)?$")
_OFFSET_TAIL = r"(?<=\d) ?(?:Z|[+-]\d{2}(?::?\d{2})?)$"  # only after a time (see _strip_offset)
_FAST_FORMATS = (
    (r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?: ?(?:Z|[+-]\d{2}(?::?\d{2})?))?)?", "ISO8601"),
    (r"\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}", "%Y/%m/%d %H:%M:%S"),
    (r"\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{1,2}", "%Y/%m/%d %H:%M"),
    (r"\d{4}/\d{1,2}/\d{1,2}", "%Y/%m/%d"),
    (r"\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}", "%Y-%m-%d %H:%M:%S"),
    (r"\d{4}-\d{1,2}-\d{1,2}", "%Y-%m-%d"),
    (r"\d{8}", "%Y%m%d"),
)
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
SERIAL_MIN, SERIAL_MAX = 20000, 80000  # 1954-10-03 .. 2119-01-10
_EXCEL_EPOCH = "1899-12-30"


_WEEKDAY = r"[(（]?\s*(?:星期|周|礼拜)[一二三四五六日天]\s*[)）]?"


def _normalise_date_text(s: pd.Series) -> pd.Series:
    s = s.str.strip()
    # 2019年2月28日 星期四, 2019-02-28（周四）11:25: the weekday says nothing the date does not
    s = s.str.replace(_WEEKDAY, " ", regex=True)
    s = s.str.replace(r"\s+", " ", regex=True)
    # 2019年2月28日 11时25分05秒 → 2019-2-28 11:25:05 ; 2019/2/28, 2019.02.28 → 2019-2-28
    s = s.str.replace(r"(\d)\s*年\s*(\d)", r"\1-\2", regex=True)
    s = s.str.replace(r"(\d)\s*月\s*(\d)", r"\1-\2", regex=True)
    s = s.str.replace(r"(\d)\s*[日号]\s*", r"\1 ", regex=True)
    s = s.str.replace(r"(\d)\s*[时點点:：]\s*(\d)", r"\1:\2", regex=True)
    s = s.str.replace(r"(\d)\s*分\s*(\d)", r"\1:\2", regex=True)
    s = s.str.replace(r"[分秒]$", "", regex=True)
    s = s.str.replace(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})", r"\1-\2-\3", regex=True)
    return s.str.strip()


_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                         "dec"), start=1)}
_MON = r"(?P<mon>(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))[a-z]*\.?"
_NAMED_MONTH = (
    # Java's Date.toString (Chinese systems' exports): Thu Feb 28 11:25:05 CST 2019 (CST, China Standard Time, and
    # other zone names: read as the clock time written); … GMT 2019, … UTC 2019, … GMT+08:00 2019: converted from
    # that offset to Beijing time, as 2019-02-28T03:25:05Z is (see _zone_offsets; so are the last two shapes)
    re.compile(r"^(?:[A-Za-z]{3},?\s+)?" + _MON + r"\s+(?P<d>\d{1,2})\s+(?P<t>\d{1,2}:\d{2}(?::\d{2})?)\s+"
               r"(?:(?P<zone>[A-Z]{2,5})(?P<off>[+-]\d{1,2}(?::?\d{2})?)?\s+)?(?P<y>\d{4})$"),
    re.compile(r"^(?P<d>\d{1,2})[- ]" + _MON + r"[- ](?P<y>\d{4})(?P<t>\s+\d{1,2}:\d{2}(?::\d{2})?)?$"),  # 28-Feb-2019
    re.compile(r"^" + _MON + r"\s+(?P<d>\d{1,2}),?\s+(?P<y>\d{4})(?P<t>\s+\d{1,2}:\d{2}(?::\d{2})?)?$"),  # Feb 28, 2019
    # JavaScript's Date.toString (web systems' front ends): Thu Feb 28 2019 11:25:05 GMT+0800 (中国标准时间)
    re.compile(r"^(?:[A-Za-z]{3},?\s+)?" + _MON + r"\s+(?P<d>\d{1,2})\s+(?P<y>\d{4})\s+(?P<t>\d{1,2}:\d{2}(?::\d{2})?)"
               r"\s+(?P<zone>GMT|UTC)(?P<off>[+-]\d{1,2}(?::?\d{2})?)?(?:\s*[(（][^)）]*[)）])?$"),
    # RFC 1123 / 2822 (HTTP, e-mail, JavaScript's toUTCString): Thu, 28 Feb 2019 03:25:05 GMT, … 11:25:05 +0800
    re.compile(r"^[A-Za-z]{3},?\s+(?P<d>\d{1,2})\s+" + _MON + r"\s+(?P<y>\d{4})\s+(?P<t>\d{1,2}:\d{2}(?::\d{2})?)"
               r"(?:\s+(?P<zone>GMT|UTC|UT)?(?P<off>[+-]\d{2}:?\d{2})?)?$"),
)


def _zone_offsets(zone: pd.Series, off: pd.Series) -> pd.Series:
    """The UTC offset (``+00:00``, ``+08:00``, ``-05:00``) of the zones of :data:`_NAMED_MONTH`'s shapes that say
    one: ``GMT``, ``UTC``, ``UT`` alone (UTC) or with an offset (``GMT+08:00``, ``GMT+8``, ``UTC-0500``), or an
    offset alone (RFC 2822's ``+0800``); missing for zone names (Java's ``CST``: China Standard Time, read as
    written; others are not guessed) and where none is written."""
    utc = zone.str.upper().isin(["GMT", "UTC", "UT"]).fillna(False).astype(bool)
    parts = off.str.extract(r"^(?P<s>[+-])(?P<h>\d{1,2}):?(?P<m>\d{2})?$")
    written = parts["s"] + parts["h"].str.zfill(2) + ":" + parts["m"].fillna("00")
    return written.where(off.notna(), "+00:00").where(utc | (zone.isna() & off.notna()))


def _named_months(norm: pd.Series) -> pd.Series:
    """Dates with English month names (the shapes of :data:`_NAMED_MONTH`) rewritten year first (a time in GMT /
    UTC / GMT+hh:mm / +hhmm keeps its offset, written as ISO 8601 does, for the caller to convert)."""
    has = norm.str.contains(r"(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", regex=True).fillna(False)
    if not has.any():
        return norm
    out = norm.copy()
    for pattern in _NAMED_MONTH:
        m = out[has].str.extract(pattern)
        hit = m["y"].notna()
        if hit.any():
            m = m[hit]
            mon = m["mon"].str.lower().map(_MONTHS).astype("int64").astype("str")
            tail = (" " + _zone_offsets(m["zone"], m["off"])).fillna("") if "zone" in m else ""
            out.loc[m.index] = (m["y"] + "-" + mon + "-" + m["d"] + " " + m["t"].fillna("").str.strip()).str.strip() \
                + tail
    return out


_PM = r"(?i)(?:下午|晚上|中午|傍晚|\bP\.?M\.?(?![a-z]))"
_AM = r"(?i)(?:上午|凌晨|早上|早晨|清晨|\bA\.?M\.?(?![a-z]))"
#: 深夜/夜里/半夜/午夜: 11 is 23:00, 2 is 02:00 and 12 is 00:00 (midnight)
_NIGHT = r"(?:深夜|夜里|夜间|半夜|午夜)"
_DMY = re.compile(r"^(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<y>\d{4})(?P<rest>(?:[ T].*)?)$")


def _day_month_first(norm: pd.Series) -> pd.Series:
    """Dates written day or month first (28/02/2019, 02/28/2019 11:25 PM) rewritten year first. The order
    is decided for the whole column: a first field above 12 means day first, a second one above 12 month
    first; a column where both occur, or neither (every value ambiguous, such as 01/05/2015), is left
    unparsed rather than guessed."""
    m = norm.str.extract(_DMY)
    hit = m["y"].notna()
    if not hit.any():
        return norm
    a = m.loc[hit, "a"].astype("int64")
    b = m.loc[hit, "b"].astype("int64")
    day_first, month_first = bool((a > 12).any()), bool((b > 12).any())
    if day_first == month_first:
        log.warning("dates such as %r: day/month order %s; left unparsed", norm[hit].iloc[0],
                    "inconsistent in the column" if day_first else "ambiguous (no day above 12)")
        return norm
    d, mo = (a, b) if day_first else (b, a)
    out = norm.copy()
    out.loc[hit] = (m.loc[hit, "y"] + "-" + mo.astype("str") + "-" + d.astype("str")
                    + m.loc[hit, "rest"].fillna("")).str.replace("T", " ", regex=False)
    return out


def _from_parts(parts: pd.DataFrame) -> pd.Series:
    import pandas as pd

    cols = {"year": "y", "month": "m", "day": "d", "hour": "H", "minute": "M", "second": "S"}
    frame = pd.DataFrame({k: pd.to_numeric(parts[v], errors="coerce").fillna(0 if k in ("hour", "minute", "second") else -1)
                          for k, v in cols.items() if v in parts})
    for k in ("hour", "minute", "second"):
        if k not in frame:
            frame[k] = 0
    ok = (frame["year"] > 0) & frame["month"].between(1, 12) & frame["day"].between(1, 31) & \
        frame["hour"].between(0, 23) & frame["minute"].between(0, 59) & frame["second"].between(0, 59)
    out = pd.Series(pd.NaT, index=parts.index, dtype="datetime64[ns]")
    if ok.any():
        good = frame[ok].astype("int64")
        out.loc[ok] = _ns(pd.to_datetime(good, errors="coerce"))
    if "f" in parts:
        frac = parts["f"].where(ok)
        has = frac.notna()
        if has.any():
            ns = frac[has].astype("str").str.ljust(9, "0").str[:9].astype("int64")
            out.loc[has] = out[has] + pd.to_timedelta(ns.to_numpy(), unit="ns")
    return out


DATE_MIN, DATE_MAX = "1900-01-01", "2200-12-31 23:59:59.999999"


def _ns(values: pd.Series) -> pd.Series:
    """``datetime64[ns]``; dates outside 1900–2200 (typos such as 0201 or 1500) become NaT (then
    reported as not dates) instead of overflowing nanoseconds."""
    import pandas as pd

    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    inside = (values >= pd.Timestamp(DATE_MIN)) & (values <= pd.Timestamp(DATE_MAX))
    return values.where(inside).astype("datetime64[ns]")


def _serial_to_datetime(values: pd.Series) -> pd.Series:
    """Excel serial days → datetimes, to the second (as Excel shows them: 43524.475752 is 11:25:05, not
    11:25:04.973 — a serial written with 5–6 decimals is only that precise)."""
    import pandas as pd

    sec = (values.astype("float64") * 86_400).round()
    return pd.Timestamp(_EXCEL_EPOCH) + pd.to_timedelta(sec, unit="s")


#: Unix times: 10-digit seconds and 13-digit milliseconds since 1970-01-01 UTC, 2001-09-09 to 2038-01-19
#: (other shapes of numbers are never read as them: 8 digits are 20190228, 5 digits Excel serials)
EPOCH_S_MIN, EPOCH_S_MAX = 1_000_000_000, 2_147_483_647
_EPOCH_TEXT = re.compile(r"^(?:\d{10}|\d{13})(?:\.0+)?$")


def _epoch_to_datetime(num: pd.Series) -> pd.Series:
    """Seconds (10 digits) or milliseconds (13 digits) since 1970-01-01 UTC as Beijing clock times; others NaT."""
    import pandas as pd

    num = num.astype("float64")
    sec = num.where(num.between(EPOCH_S_MIN, EPOCH_S_MAX))
    ms = num.between(EPOCH_S_MIN * 1000, EPOCH_S_MAX * 1000 + 999)
    sec = sec.mask(ms, (num / 1000).round(3))
    return _utc_to_beijing(pd.to_datetime((sec * 1000).round(), unit="ms", errors="coerce").astype("datetime64[ns]"))


#: the clock every time is read on: Beijing time (UTC+8; the zone's 1986–1991 summer time included)
BEIJING = "Asia/Shanghai"


def beijing_clock(t: pd.Series) -> pd.Series:
    """Time-zone-aware times → time-zone-naive Beijing clock times (naive ones are returned as they are): a week or
    month is Beijing's, not UTC's (a message at 07:00 on a Monday in Beijing is 23:00 on Sunday in UTC) — for frames
    an analyst hands to the Python API with zoned times (``utc=True``, Arrow timestamps with a zone)."""
    if getattr(t.dt, "tz", None) is None:
        return t
    return t.dt.tz_convert(BEIJING).dt.tz_localize(None)


def _utc_to_beijing(utc: pd.Series) -> pd.Series:
    """Time-zone-naive UTC times → time-zone-naive Beijing clock times."""
    return _ns(utc.dt.tz_localize("UTC").dt.tz_convert(BEIJING))


def _offset_minutes(z: pd.Series) -> pd.Series:
    """UTC offsets as written (``Z``, ``+08``, ``+0800``, ``+08:00``, ``-05:00``) → minutes east of UTC (float;
    missing where none)."""
    import pandas as pd

    m = z.str.extract(r"^(?P<s>[+-])(?P<h>\d{2}):?(?P<m>\d{2})?$")
    minutes = pd.to_numeric(m["h"], errors="coerce") * 60 + pd.to_numeric(m["m"], errors="coerce").fillna(0)
    minutes = minutes.where(m["s"] != "-", -minutes)
    return minutes.mask(z == "Z", 0.0).astype("float64")


def _shift_to_beijing(wall: pd.Series, z: pd.Series) -> pd.Series:
    """Clock times ``wall`` written with the UTC offsets ``z`` (missing: none written, kept as written) as
    Beijing clock times."""
    import pandas as pd

    minutes = _offset_minutes(z.reindex(wall.index))
    has = minutes.notna() & wall.notna()
    if not has.any():
        return wall
    out = wall.copy()
    utc = wall[has] - pd.to_timedelta(minutes[has], unit="m")
    out.loc[has] = _utc_to_beijing(utc)
    return out


#: what systems write for "no time" (a date field never set): Unix time 0 as UTC or on Beijing's clock, 1900-01-01 —
#: at exactly these times, never an event's (and, below, the ones before 1900)
PLACEHOLDER_TIMES = ("1970-01-01 00:00:00", "1970-01-01 08:00:00", "1900-01-01 00:00:00")
#: the same before 1900 (outside the dates read, so told by their text): Excel's day 0 and 1 (1899-12-30/31), SQL
#: Server's smallest datetime (1753-01-01), MySQL's zero date — at midnight
_ZERO_DATE = (r"(?:0{4}[-/.]0{1,2}[-/.]0{1,2}|1899[-/.]12[-/.]3[01]|1753[-/.]0?1[-/.]0?1)"
              r"(?:[ T]0{1,2}:0{2}(?::0{2}(?:\.0+)?)?)?")
PLACEHOLDER_TIME_HINT = "a placeholder time that systems write for 'no time' (1970-01-01 08:00, 1900-01-01, 0000-00-00 …)"


def _parse_times(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(parsed datetime64[ns] series, mask of values that could not be parsed, mask of placeholders for "no time"
    — :data:`PLACEHOLDER_TIMES`, NaT in the parsed series, not in the first mask)."""
    import numpy as np
    import pandas as pd

    out, bad = _parse_datetime_values(series)
    ph = out.isin(pd.to_datetime(list(PLACEHOLDER_TIMES))).to_numpy(dtype=bool, copy=True)
    badv = bad.to_numpy(dtype=bool)
    if badv.any():
        zero = series[badv].astype("str").str.strip().str.fullmatch(_ZERO_DATE).fillna(False).to_numpy(dtype=bool)
        if zero.any():
            at = np.flatnonzero(badv)[zero]
            ph[at] = True
            badv = badv.copy()
            badv[at] = False
    if ph.any():
        out = out.mask(ph)
    return out, pd.Series(badv, index=series.index), pd.Series(ph, index=series.index)


def placeholder_times(series: pd.Series) -> np.ndarray:
    """Boolean array: which values are a placeholder for "no time" (:data:`PLACEHOLDER_TIMES`, 0000-00-00) — the
    values :func:`parse_datetime` reads as NaT although they are dates, for a caller that says why rows are left out."""
    return _parse_times(series)[2].to_numpy(dtype=bool)


def _parse_datetime_values(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(parsed datetime64[ns] series, mask of non-missing values that could not be parsed)."""
    import datetime as _dt

    import numpy as np
    import pandas as pd

    s = series
    index = s.index
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        out = _ns(s.dt.tz_convert(BEIJING))  # a zone is known: on Beijing's clock (said by date_notes)
        return out, s.notna() & out.isna()
    if pd.api.types.is_datetime64_any_dtype(s):
        out = _ns(s)
        return out, s.notna() & out.isna()
    out = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    missing = s.isna()
    if pd.api.types.is_bool_dtype(s):
        return out, ~missing
    if pd.api.types.is_numeric_dtype(s):
        num = s.astype("float64")
        serial = num.between(SERIAL_MIN, SERIAL_MAX)
        compact = num.between(19000101, 21001231) & (num % 1 == 0)
        epoch = (num.between(EPOCH_S_MIN, EPOCH_S_MAX) | num.between(EPOCH_S_MIN * 1000, EPOCH_S_MAX * 1000 + 999))
        if serial.any():
            out.loc[serial] = _serial_to_datetime(num[serial])
        if epoch.any():
            out.loc[epoch] = _epoch_to_datetime(num[epoch])
        if compact.any():
            out.loc[compact] = _ns(pd.to_datetime(num[compact].astype("int64").astype("str"), format="%Y%m%d",
                                                  errors="coerce"))
        # 20230105150500 / 202301051505: a system's yyyyMMddHHmm(ss) that Excel turned into a number
        for lo, hi, fmt in ((190001010000, 210012312359, "%Y%m%d%H%M"), (19000101000000, 21001231235959, "%Y%m%d%H%M%S")):
            stamp = num.between(lo, hi) & (num % 1 == 0)
            if stamp.any():
                out.loc[stamp] = _ns(pd.to_datetime(num[stamp].astype("int64").astype("str"), format=fmt, errors="coerce"))
        return out, ~missing & out.isna()
    # object / string: real datetimes (xlsx), numbers (xlsx) and text
    is_obj = s.dtype == object
    text_mask = ~missing
    if is_obj:
        vals = s.to_numpy(dtype=object)
        is_dt = np.array([isinstance(v, (_dt.datetime, _dt.date, pd.Timestamp)) for v in vals], dtype=bool)
        is_num = np.array([isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                           for v in vals], dtype=bool)
        if is_dt.any():
            aware = np.array([getattr(v, "tzinfo", None) is not None for v in vals[is_dt]], dtype=bool)
            sub_index = index[is_dt]
            if (~aware).any():
                out.loc[sub_index[~aware]] = _ns(pd.to_datetime(pd.Series(vals[is_dt][~aware], index=sub_index[~aware],
                                                                          dtype=object), errors="coerce"))
            if aware.any():  # datetimes with a zone (built in Python, not read from a file): on Beijing's clock
                out.loc[sub_index[aware]] = _ns(pd.to_datetime(pd.Series(vals[is_dt][aware], index=sub_index[aware],
                                                                         dtype=object), errors="coerce",
                                                               utc=True).dt.tz_convert(BEIJING))
        if is_num.any():
            sub, _ = _parse_datetime_values(pd.Series(vals[is_num], index=index[is_num]).astype("float64"))
            out.loc[is_num] = sub
        text_mask = text_mask & ~pd.Series(is_dt | is_num, index=index)
    if text_mask.any():
        txt = s[text_mask].astype("str").str.strip()
        parsed = pd.Series(pd.NaT, index=txt.index, dtype="datetime64[ns]")
        todo = pd.Series(True, index=txt.index)
        # fast paths: whole-column parsing of the common shapes (vectorised, ~100x the slow path)
        for pattern, fmt in _FAST_FORMATS:
            hit = txt[todo].str.fullmatch(pattern).fillna(False).astype(bool)
            if not hit.any():
                continue
            idx = hit[hit].index
            # ISO 8601 with a UTC offset: converted to Beijing time (said by date_notes)
            vals = txt[idx]
            zone = None
            if fmt == "ISO8601":
                timed = vals.str.len() > 10  # 2019-02-28 ends in -28, which is no offset
                zone = vals.where(timed).str.extract(f"({_OFFSET_TAIL})")[0].str.strip()
                vals = vals.where(~timed, vals.str.replace(_OFFSET_TAIL, "", regex=True))
            got = _ns(pd.to_datetime(vals, format=fmt, errors="coerce"))
            if zone is not None and zone.notna().any():
                got = _shift_to_beijing(got, zone)
            parsed.loc[idx] = got
            todo.loc[idx[got.notna().to_numpy()]] = False
        if todo.any():
            parsed.loc[todo] = _parse_date_text_slow(txt[todo])
        out.loc[text_mask] = parsed
    return out, ~missing & out.isna()


def _parse_date_text_slow(txt: pd.Series) -> pd.Series:
    """Every supported text shape (Chinese 年月日, dots, compact digits, serial numbers...)."""
    import pandas as pd

    norm = _normalise_date_text(txt.map(lambda v: unicodedata.normalize("NFKC", v)))
    # 上午/下午 (Chinese Windows exports), AM/PM (US exports): a 12-hour clock
    pm = norm.str.contains(_PM, regex=True).fillna(False).astype(bool)
    am = norm.str.contains(_AM, regex=True).fillna(False).astype(bool)
    night = norm.str.contains(_NIGHT, regex=True).fillna(False).astype(bool)
    evening = norm.str.contains("晚上", regex=False).fillna(False).astype(bool)
    if (pm | am | night).any():
        norm = norm.str.replace(_PM, " ", regex=True).str.replace(_AM, " ", regex=True)
        norm = norm.str.replace(_NIGHT, " ", regex=True)
        norm = norm.str.replace(r"\s+", " ", regex=True).str.strip()
    norm = _day_month_first(_named_months(norm))
    parsed = pd.Series(pd.NaT, index=txt.index, dtype="datetime64[ns]")
    m1 = norm.str.extract(_SEP_DATE)
    hit1 = m1["y"].notna()
    if hit1.any():
        parsed.loc[hit1] = _from_parts(m1[hit1])
        if (pm | am | night).any():
            hour = parsed.dt.hour
            timed = m1["H"].notna()
            # 晚上12点 is the midnight that ends the day (00:00 of the next), 中午12点/下午12点 noon
            parsed = parsed.mask(pm & timed & ((hour < 12) | (evening & (hour == 12))), parsed + pd.Timedelta(hours=12))
            parsed = parsed.mask(am & timed & (hour == 12), parsed - pd.Timedelta(hours=12))
            parsed = parsed.mask(night & timed & hour.between(6, 11), parsed + pd.Timedelta(hours=12))
            parsed = parsed.mask(night & timed & (hour == 12), parsed - pd.Timedelta(hours=12))
        if m1["z"].notna().any():  # 2019/2/28 11:25:05 +08:00: on Beijing's clock
            parsed = _shift_to_beijing(parsed, m1["z"])
    rest = ~hit1
    if rest.any():
        m2 = norm[rest].str.extract(_COMPACT_DATE)
        hit2 = m2["y"].notna()
        if hit2.any():
            parsed.loc[hit2[hit2].index] = _from_parts(m2[hit2])
        rest = rest & ~hit2.reindex(txt.index, fill_value=False)
    if rest.any():
        ser = norm[rest]
        ser_hit = ser.str.fullmatch(_SERIAL.pattern).fillna(False).astype(bool)
        if ser_hit.any():
            num = ser[ser_hit].astype("float64")
            inr = num.between(SERIAL_MIN, SERIAL_MAX)
            if inr.any():
                parsed.loc[num[inr].index] = _serial_to_datetime(num[inr])
        rest = rest & parsed.isna()
    if rest.any():
        ser = norm[rest]
        ep_hit = ser.str.fullmatch(_EPOCH_TEXT.pattern).fillna(False).astype(bool)
        if ep_hit.any():
            parsed.loc[ep_hit[ep_hit].index] = _epoch_to_datetime(ser[ep_hit].astype("float64"))
    return parsed


_OFFSET = re.compile(r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)\s*$")
_CLOCK_ONLY = re.compile(r"^\s*(?:上午|下午|晚上|凌晨|中午|早上|傍晚|深夜|夜里|半夜|午夜)?\s*\d{1,2}[:：时]\d{1,2}(?:[:：分]\d{1,2}秒?)?\s*(?:[AaPp]\.?[Mm]\.?)?\s*$")


def bad_times(df: pd.DataFrame, col: str, *, file: str = "<data>", shown: str | None = None, now: Any = None,
              limit: int = 10) -> tuple[pd.Series, np.ndarray, np.ndarray, list[str]]:
    """``df[col]`` read as times, and what must be left out: ``(parsed, unreadable, future, parts)``.

    ``unreadable`` marks empty and unreadable cells, ``future`` times after tomorrow (a typing error: 2031 for 2021
    would open years of empty periods); ``parts`` says each kind with its rows as the file numbers them and an
    example ("2 with no time (row 7, 8)", "3 with an unreadable time (row 5, 12, 22, e.g. '不详')"). A column with
    no readable time at all is an error listing what it holds (the column is wrong, not a few rows). The commands
    and the notebooks' readers leave the same rows out with the same words."""
    import numpy as np
    import pandas as pd

    raw = df[col]
    shown = shown or col
    rows = source_rows(df)
    parsed, _, placeholder = _parse_times(raw)
    bad = parsed.isna().to_numpy()
    if len(bad) and bad.all():
        parse_datetime(raw, file=file, column=shown, rows=rows, max_problems=10)
    ref = pd.Timestamp.now(tz=parsed.dt.tz) if now is None else pd.Timestamp(now)
    future = (parsed > ref + pd.Timedelta(days=1)).fillna(False).to_numpy(bool)
    empty = blank_cells(raw)
    ph = placeholder.to_numpy(dtype=bool)
    parts = []
    for what, mask in (("no time", bad & empty),
                       (PLACEHOLDER_TIME_HINT, ph),
                       ("an unreadable time", bad & ~empty & ~ph), ("a time in the future", future)):
        if mask.any():
            at = [rows[i] for i in np.flatnonzero(mask)]
            shown_rows = ", ".join(map(str, at[:limit])) + (" …" if len(at) > limit else "")
            eg = "" if what == "no time" else f", e.g. {str(raw[mask].iloc[0])!r}"
            parts.append(f"{len(at)} with {what} (row {shown_rows}{eg})")
    return parsed, bad, future, parts


def date_notes(series: pd.Series, column: str | None = None) -> list[str]:
    """What a reader should know about how a time column was read, in plain words: times that were converted
    to Beijing time (UTC+8) — Unix times, times written with a UTC offset other than +08:00 (ISO 8601's ``Z`` /
    ``+hh:mm``, Java's ``GMT`` / ``UTC`` / ``GMT+hh:mm``; a column mixing offsets is named: converted, it is on one
    clock) and datetimes carrying another time zone. Times written
    without an offset are read as written and need no note (unless they sit beside converted ones)."""
    import pandas as pd

    col = f" in column '{column}'" if column else ""
    notes: list[str] = []
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        s = series.dropna()
        if len(s) and bool((s.dt.tz_convert(BEIJING).dt.tz_localize(None) != s.dt.tz_localize(None)).any()):
            notes.append(f"times{col} carry the time zone {series.dt.tz}: converted to Beijing time (UTC+8)")
        return notes
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        num = series.astype("float64")
        n_epoch = int((num.between(EPOCH_S_MIN, EPOCH_S_MAX) | num.between(EPOCH_S_MIN * 1000, EPOCH_S_MAX * 1000 + 999)).sum())
        txt = None
    elif pd.api.types.is_datetime64_any_dtype(series):
        return notes
    else:
        txt = series.dropna()
        txt = txt[[isinstance(v, str) for v in txt]] if txt.dtype == object else txt.astype("str")
        n_epoch = int(txt.str.fullmatch(_EPOCH_TEXT.pattern).sum()) if len(txt) else 0
    if n_epoch:
        notes.append(f"{n_epoch:,} time(s){col} are Unix times (seconds or milliseconds since 1970-01-01 UTC, e.g. "
                     "1551324305): converted to Beijing time (UTC+8, 8 hours later than UTC)")
    if txt is not None and len(txt):
        off = txt.str.extract(_OFFSET)[0].dropna()
        java = 0  # Java's / JavaScript's Date.toString, RFC 1123 in GMT / UTC / +hh:mm (Thu Feb 28 03:25:05 GMT 2019)
        maybe_java = txt.str.contains(r"(?:GMT|UTC?|\d [+-]\d{4})(?:[ +-]|$)", regex=True).fillna(False).astype(bool)
        if maybe_java.any():
            named = txt[maybe_java]
            for pattern in _NAMED_MONTH:
                if "zone" in pattern.groupindex and len(named):
                    m = named.str.extract(pattern)
                    java_off = _zone_offsets(m["zone"], m["off"]).dropna()
                    java += len(java_off)
                    off = pd.concat([off, java_off]) if len(java_off) else off
                    named = named[m["y"].isna().to_numpy()]
        if len(off):
            off = (off.str.replace(r"^([+-]\d{2})(\d{2})$", r"\1:\2", regex=True)
                   .str.replace(r"^([+-]\d{2})$", r"\1:00", regex=True).replace({"+00:00": "Z", "-00:00": "Z"}))
            counts = off.value_counts()
            plain = len(txt) - len(off) - n_epoch
            without = (f"; the {plain:,} time(s) written without an offset are read as written (taken to be "
                       "Beijing time)") if plain > 0 else ""
            if len(counts) > 1:
                shown = ", ".join(f"{k} on {v:,} row(s)" for k, v in counts.head(5).items())
                notes.append(f"times{col} carry different UTC offsets ({shown}): each is converted to Beijing time "
                             f"(UTC+8), so the column is on one clock{without}")
            elif counts.index[0] == "Z":
                written = "Z or +00:00" if not java else "GMT or UTC" if java == len(off) else "Z, +00:00, GMT or UTC"
                notes.append(f"times{col} are UTC (written with {written}): converted to Beijing time (UTC+8, 8 "
                             f"hours later), so days and weeks are counted on Beijing's clock{without}")
            elif counts.index[0] != "+08:00":
                notes.append(f"times{col} carry the UTC offset {counts.index[0]}: converted to Beijing time "
                             f"(UTC+8){without}")
    return notes


def _clock_only(values: pd.Series) -> bool:
    """Whether (nearly) all of these values are clock times without a date (11:25:05, 下午3:25)."""
    vals = values.dropna().astype("str").head(1000)
    return len(vals) > 0 and float(vals.str.fullmatch(_CLOCK_ONLY.pattern).mean()) >= 0.9


CLOCK_ONLY_HINT = ("they are clock times without a date: the date is probably in another column (an export that "
                   "splits 日期 and 时间) — pass that one with --time-col")


def parse_datetime(
    series: pd.Series,
    *,
    file: str = "<data>",
    column: str | None = None,
    rows: Sequence[int] | None = None,
    errors: str = "raise",
    max_problems: int = 50,
) -> pd.Series:
    """Parse dates/times in any of the supported forms into ``datetime64[ns]`` (time-zone-naive).

    Values that cannot be parsed raise a :class:`DataError` listing each one with its row
    (``rows``: the user's row numbers for ``series``' positions; default position + 2, as in a CSV
    with a header on row 1) — or, with ``errors="coerce"``, become ``NaT``.
    """
    if errors not in ("raise", "coerce"):
        raise ValueError("errors must be 'raise' or 'coerce'")
    out, unreadable, placeholder = _parse_times(series)
    bad = unreadable | placeholder
    if errors == "raise" and bad.any():
        rownums = list(rows) if rows is not None else [i + 2 for i in range(len(series))]
        positions = [i for i, b in enumerate(bad.to_numpy()) if b]
        ph = placeholder.to_numpy()
        problems = [
            Problem(file, rownums[i], column, "a date/time such as 2019-02-28 or 2019/2/28 11:25:05"
                    + (" (this is what systems write for 'no time')" if ph[i] else ""), str(series.iloc[i]))
            for i in positions[:max_problems]
        ]
        hint = f"; {CLOCK_ONLY_HINT}" if _clock_only(series) else ""
        raise DataError(problems=problems, message=f"{file}: {len(positions)} value(s) are not dates"
                        + (f" in column '{column}'" if column else "") + hint, truncated=len(positions) > max_problems)
    return out


# --------------------------------------------------------------------------------------------------
# writing


def probe_writable(folder: str | os.PathLike[str]) -> Path:
    """Make ``folder`` (and its parents) when missing and check that a file can be created in it — so a command
    refuses a folder it cannot write before its work, not after. Raises ``OSError`` (the caller names its option)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd, probe = tempfile.mkstemp(prefix=".govml-probe.", dir=folder)
    os.close(fd)
    os.unlink(probe)
    return folder


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; on success it is renamed onto ``path`` (atomic on
    one file system), on any exception it is removed and ``path`` is left as it was."""
    target = Path(path)
    _check_output_folder(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:  # a read-only place, a full disk ...: one clear line naming the output
        raise DataError(message=f"{target}: cannot write here ({exc.strerror or exc}: "
                        f"{exc.filename or target.parent})") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"{tmp}: nothing was written to the temporary file for {target}")
        with contextlib.suppress(OSError):  # keep the permissions a normal write would give
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def json_rows(data: Any, _path: frozenset[int] = frozenset()) -> Any:
    """``data`` with every :class:`~govml.errors.SheetRow` (a row of a workbook read with ``--sheet all``) written
    as it is shown, ``"1月!12"`` — JSON would write the bare number, which is in every sheet; plain row numbers
    stay numbers. Dicts, lists and tuples are walked (copied); a container inside itself is a ``ValueError``, as
    :func:`json.dumps` says it."""
    if isinstance(data, SheetRow):
        return str(data)
    if isinstance(data, (dict, list)) or type(data) is tuple:
        if id(data) in _path:
            raise ValueError("Circular reference detected")
        inner = _path | {id(data)}
        if isinstance(data, dict):
            return {json_rows(k, inner): json_rows(v, inner) for k, v in data.items()}
        items = [json_rows(v, inner) for v in data]
        return items if isinstance(data, list) else tuple(items)
    return data


def write_json(data: Any, path: str | os.PathLike[str], *, indent: int | None = 2) -> Path:
    """Write ``data`` as UTF-8 JSON (non-ASCII kept readable; dates and other objects via ``str``; rows of several
    sheets as ``"1月!12"``, :func:`json_rows`) atomically: a failed write leaves any old file as it was. Returns
    the path."""
    import json

    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(json_rows(data), ensure_ascii=False, indent=indent, default=str),
                       encoding="utf-8")
    return target


def _check_output_folder(target: Path) -> None:
    """Refuse an output whose folder cannot be made or written: a part of the path that is a file
    (``data.csv/out.csv``), or a nearest existing folder that this user cannot write into (tried with a
    temporary file, removed at once). Creates nothing."""
    folder = target.parent
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return
        probe = probe.parent
    if not probe.is_dir():
        raise DataError(message=f"{target}: cannot write here: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise DataError(message=f"{target}: cannot write here: the folder {probe} is not writable")
    try:  # permissions are not all: a read-only mount, /sys or /proc, or root on a locked folder
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise DataError(message=f"{target}: cannot write here: the folder {probe} is not writable "
                        f"({exc.strerror or exc})") from exc


def check_output_path(path: str | os.PathLike[str], *, table: bool = True) -> Path:
    """Refuse, before any long work, an output path the writers would refuse after it: a folder, or (for
    ``table=True``, what :func:`write_table` writes) a suffix other than .csv/.tsv/.parquet/.jsonl/.xlsx,
    or a place that cannot be written (a file where a folder should be, a folder not writable).
    Returns the path."""
    target = Path(path)
    if target.is_dir():
        raise DataError(message=f"{target}: is a folder; expected the path of a file to write")
    _check_output_folder(target)
    if table:
        suffix, gz = _suffixes(target)
        if suffix not in (".csv", ".tsv", ".parquet", ".jsonl", ".xlsx") or (
                gz and suffix not in (".csv", ".tsv", ".jsonl")):
            raise DataError(message=f"{target}: cannot write {''.join(target.suffixes) or 'a file without suffix'}; "
                            "expected .csv, .tsv, .parquet, .jsonl or .xlsx (.csv/.tsv/.jsonl may end in .gz)")
    return target


def write_table(df: pd.DataFrame, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write ``df`` atomically; the format follows the suffix: ``.csv`` (UTF-8 without BOM; add
    ``.gz`` to compress), ``.tsv``, ``.parquet``, ``.jsonl`` (UTF-8, one object per line, dates
    ISO 8601), ``.xlsx``. Extra keyword arguments go to the pandas writer. Returns the path."""
    target = check_output_path(path)
    suffix, gz = _suffixes(target)
    df = df.copy(deep=False)
    df.attrs = {}  # read metadata (rows, warnings) describes the source file, not this output
    with atomic_path(target) as tmp:
        if suffix in (".csv", ".tsv"):
            if "quoting" not in kwargs and _has_bare_cr(df):
                kwargs["quoting"] = csv.QUOTE_ALL  # a lone \r is not quoted by default, and would split the row
            df.to_csv(tmp, index=False, encoding="utf-8", sep="," if suffix == ".csv" else "\t",
                      compression="gzip" if gz else None, **kwargs)
        elif suffix == ".jsonl":
            df.to_json(tmp, orient="records", lines=True, force_ascii=False, date_format="iso",
                       compression="gzip" if gz else None, **kwargs)
        elif suffix == ".parquet":
            df.to_parquet(tmp, index=False, **kwargs)
        else:
            out = df.copy()
            for c in out.columns:  # Excel has no time zones
                if hasattr(out[c], "dt") and getattr(out[c].dt, "tz", None) is not None:
                    out[c] = out[c].dt.tz_localize(None)
            _write_xlsx(out, tmp, **kwargs)
    return target


def _has_bare_cr(df: pd.DataFrame) -> bool:
    import pandas as pd

    for c in df.columns:
        s = df[c]
        if s.dtype == object:
            if any(isinstance(v, str) and "\r" in v for v in s):
                return True
        elif pd.api.types.is_string_dtype(s) and bool(s.str.contains("\r", regex=False).fillna(False).any()):
            return True
    return False


_XLSX_MAX_CHARS = 32_767  # Excel's limit on one cell's text


def _write_xlsx(df: pd.DataFrame, path: Path, sheet_name: str = "Sheet1") -> None:
    """Write with openpyxl; text starting with '=' stays text (never a formula: formula injection).
    Control characters a worksheet cannot hold (copied into messages from other programs) are removed
    and text longer than Excel's 32,767 characters a cell is cut there; both are counted in a warning."""
    import math

    import pandas as pd
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    fixed = {"control": 0, "long": 0}

    def fit(text: str) -> str:
        if ILLEGAL_CHARACTERS_RE.search(text):
            fixed["control"] += 1
            text = ILLEGAL_CHARACTERS_RE.sub("", text)
        if len(text) > _XLSX_MAX_CHARS:
            fixed["long"] += 1
            text = text[:_XLSX_MAX_CHARS]
        return text

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_name)
    ws.append([fit(str(c)) for c in df.columns])
    for row in df.itertuples(index=False, name=None):
        cells = []
        for v in row:
            if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                cells.append(None)
                continue
            if hasattr(v, "to_pydatetime"):
                v = v.to_pydatetime()
            elif hasattr(v, "item") and not isinstance(v, str):
                v = v.item()  # numpy scalar
            if isinstance(v, str):
                v = fit(v)
            cell = WriteOnlyCell(ws, value=v)
            if isinstance(v, str) and v.startswith("="):
                cell.data_type = "s"
            cells.append(cell)
        ws.append(cells)
    wb.save(path)
    if fixed["control"]:
        log.warning("%s: %d text cell(s) had control characters an Excel sheet cannot hold: removed", path.name,
                    fixed["control"])
    if fixed["long"]:
        log.warning("%s: %d text cell(s) longer than Excel's %d characters: cut there (write .csv to keep "
                    "them whole)", path.name, fixed["long"], _XLSX_MAX_CHARS)


# --------------------------------------------------------------------------------------------------
# Where the reader's settings come from: the words of a hint

#: (config file name, section, style) while the reader's settings come from a file, not command-line options;
#: style "yaml" (retrain.yaml: ``mapping: {a: b}``) or "node-config" (a Flower SuperNode: ``mapping="a=b"``)
_SETTINGS_FROM: contextvars.ContextVar[tuple[str, str, str] | None] = contextvars.ContextVar(
    "govml_io_settings_from", default=None)

# command-line option in a reader's message → the key a YAML file's section gives the same setting with
_OPTION_RE = re.compile(
    r"(?P<profile>use --profile \S+ or (?=--map))"  # a retrain.yaml has no profiles: the mapping is all
    r"|(?P<pass>\bpass (?=--(?:encoding|sheet|map)\b))"
    r"|--map (?P<ours>[^\s=,;()]+)=(?P<theirs>[^\s,;()]+)|(?P<map>--map\b)"
    r"|--sheet (?P<sheet>NAME|all)\b|(?P<anysheet>--sheet\b)"
    r"|--encoding (?P<enc>[\w-]+)|(?P<anyenc>--encoding\b)"
    r"|(?P<timecol>pass that one with --time-col)")


def _option_key(m: re.Match[str], style: str = "yaml") -> tuple[str, str]:
    """(the key that replaces the option matched, words after it); ("", replacement) for a non-key change.

    ``style`` "yaml" writes retrain.yaml's keys (``mapping: {a: b}``), "node-config" a SuperNode's
    ``--node-config`` keys (``mapping="a=b"``, ``sheet="NAME"``)."""
    node = style == "node-config"

    def key(name: str, value: str | None = None) -> str:
        if value is None:
            return f"`{name}=`" if node else f"`{name}:`"
        return f'`{name}="{value}"`' if node else f"`{name}: {value}`"

    if m["profile"]:
        return "", "use "
    if m["pass"]:
        return "", "set "
    if m["ours"]:
        if node:
            return key("mapping", f"{m['ours']}={m['theirs']}"), ""
        return f"`mapping: {{{m['ours']}: {m['theirs']}}}`", ""
    if m["map"]:
        return key("mapping"), ""
    if m["sheet"]:
        return key("sheet", m["sheet"]), ""
    if m["anysheet"]:
        return key("sheet"), ""
    if m["enc"]:
        try:
            codecs.lookup(m["enc"])
        except LookupError:  # "leave --encoding out …": the word after it is no encoding
            return key("encoding"), f" {m['enc']}"
        return key("encoding", m["enc"]), ""
    if m["anyenc"]:
        return key("encoding"), ""
    if node:  # timecol: "map that one with" it
        return key("mapping", "created_at=THAT_COLUMN"), ""
    return "`mapping: {created_at: THAT_COLUMN}`", ""


@contextlib.contextmanager
def settings_from(config: str | os.PathLike[str], section: str, style: str = "yaml") -> Iterator[None]:
    """Within this block the readers' messages name the keys of ``config`` instead of command-line options.

    For a caller whose reader settings come from a YAML file — ``govml retrain``: retrain.yaml's per-model
    ``mapping:``, ``sheet:`` and ``encoding:``, ``section`` = ``models.KEY`` —, a message's ``--map district=区县``
    is written ``mapping: {district: 区县}`` (the first key of a message followed by ``under models.KEY in
    retrain.yaml``), ``--sheet NAME`` ``sheet: NAME``, ``--encoding big5`` ``encoding: big5``: an operator is not
    told to pass options the command does not have. It covers :func:`load`'s errors and warnings and what this
    module logs; outside the block (every other reader) nothing changes. See :func:`option_hint`.

    ``style="node-config"``: the settings are a Flower SuperNode's ``--node-config`` keys (``mapping="a=b"``,
    ``sheet="NAME"``, ``encoding="X"``), ``config`` names where they are (e.g. "the SuperNode's node config") and
    ``section`` is "" or the task whose ``<task>-path`` is read."""
    if style not in ("yaml", "node-config"):
        raise ValueError(f"style must be 'yaml' or 'node-config', not {style!r}")
    from govml.errors import ConfigError

    name = Path(config).name if style == "yaml" else str(config)
    token = _SETTINGS_FROM.set((name, str(section), style))
    try:
        yield
    except (DataError, ConfigError) as exc:  # any reader's error raised in the block (not only load's)
        hinted = _hinted_error(exc)
        if hinted is None:
            raise
        raise hinted from exc
    finally:
        _SETTINGS_FROM.reset(token)


def option_hint(text: str) -> str:
    """``text`` with the readers' command-line options written as the keys of the file the settings come from,
    inside :func:`settings_from`; ``text`` itself outside it."""
    where = _SETTINGS_FROM.get()
    if where is None or "--" not in text:
        return text
    config, section, style = where
    said = [False]
    place = f"under {section} in {config}" if section and style == "yaml" else f"in {config}"

    def sub(m: re.Match[str]) -> str:
        key, after = _option_key(m, style)
        if not key:
            return after
        if m["timecol"]:
            key = f"map that one with {key}"
        if not said[0]:  # the first key of the message says where it goes
            said[0] = True
            key += f" ({place})" if after else f" {place}"
        return key + after

    return _OPTION_RE.sub(sub, text)


class _OptionHints(logging.Filter):
    """Rewrites this module's log lines with :func:`option_hint` inside :func:`settings_from`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SETTINGS_FROM.get() is not None:
            text = record.getMessage()
            hinted = option_hint(text)
            if hinted != text:
                record.msg, record.args = hinted, None
        return True


log.addFilter(_OptionHints())


def _hinted_problem(problem: Problem) -> Problem:
    import dataclasses

    return dataclasses.replace(problem, expected=option_hint(problem.expected))


def _hinted_error(exc: Exception) -> Exception | None:
    """``exc`` (a DataError/ConfigError from a reader) with its hints rewritten, or None when nothing changed."""
    from govml.errors import ConfigError

    if isinstance(exc, DataError):
        problems = [_hinted_problem(p) for p in exc.problems]
        message = option_hint(exc.message) if exc.message else exc.message
        if problems == exc.problems and message == exc.message:
            return None
        return DataError(problems=problems, message=message, truncated=exc.truncated)
    if isinstance(exc, ConfigError):
        text = option_hint(str(exc))
        return None if text == str(exc) else ConfigError(text)
    return None


# --------------------------------------------------------------------------------------------------
# load = read + map + validate


def masked(problem: Problem) -> Problem:
    """``problem`` with personal data in its ``found`` value masked (for logs, reports, MLflow)."""
    import dataclasses

    from govml.privacy import mask

    if not problem.found:
        return problem
    return dataclasses.replace(problem, found=mask(problem.found))


def load(
    path: str | os.PathLike[str],
    kind: str,
    *,
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    max_problems: int = 50,
    drop_incomplete: bool = False,
) -> pd.DataFrame:
    """Read ``path`` as a canonical table of ``kind`` (``messages``, ``events``, ``assessments``,
    ``courses``): rename the user's columns with ``mapping`` ({canonical: their column}), convert
    types (dates → ``datetime64``), validate. Raises :class:`DataError` listing every problem
    (file, row, column, expected, found; at most ``max_problems``); warnings are logged and kept in
    ``df.attrs["govml"]["warnings"]``. ``drop_incomplete=True`` drops rows with an empty required value
    (with a warning per column) instead of refusing the table."""
    from govml import schemas
    from govml.errors import ConfigError

    try:
        report = schemas.check_file(path, kind, mapping=mapping, encoding=encoding, sheet=sheet,
                                    header_row=header_row, max_problems=max_problems,
                                    drop_incomplete=drop_incomplete)
    except (DataError, ConfigError) as exc:  # a hint names the settings' file keys inside settings_from
        hinted = _hinted_error(exc)
        if hinted is None:
            raise
        raise hinted from exc
    for w in report.warnings:
        log.warning("%s", masked(w))
    if report.errors:
        raise DataError(problems=[_hinted_problem(p) for p in report.errors], truncated=report.truncated,
                        message=f"{report.file}: cannot be used as {kind} ({len(report.errors)}"
                        f"{'+' if report.truncated else ''} problem(s))")
    assert report.frame is not None
    return report.frame
