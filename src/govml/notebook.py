"""Reading an analyst's own file in the notebooks (a face, like the command line: it prints what it read).

The notebooks ``01_demands`` / ``02_hotspots`` / ``03_skills`` / ``04_tracking`` have one cell near the top::

    DATA = None      # your file (.csv in UTF-8 or GBK, .xlsx/.xls, .parquet); None = the shipped data
    SHEET = None     # which sheet of a workbook (name or number from 0); None = the first with the columns
    ENCODING = None  # e.g. "gbk"; None = detected
    COLUMNS = {}     # only for a column that is not recognised: {"text": "反映内容", "community": "网格"}

or, without editing the notebook, the environment variables ``GOVML_DATA`` / ``GOVML_SHEET`` /
``GOVML_ENCODING`` (``GOVML_DATA=my.xlsx jupyter nbconvert --to notebook --execute 01_demands.ipynb``).
The file is read by govml's own reader (:func:`govml.io.read_table`: encodings, sheets, title rows above the
header, footers) and its columns are found under their usual Chinese names (:mod:`govml.config`'s
``HEADER_ALIASES`` and the profiles of ``configs/columns.yaml``). Each reader prints one block saying which file,
sheet and header row were read, which column became which, and which rows were left out and why; a file that
cannot be used raises :class:`~govml.errors.DataError` naming the file, column and rows, and what to set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from govml.errors import DataError, Problem

ENV_DATA, ENV_SHEET, ENV_ENCODING = "GOVML_DATA", "GOVML_SHEET", "GOVML_ENCODING"

#: group (area) columns of a message or complaint export, most local first: 社区 before 街道 before 区县
GROUP_NAMES: tuple[str, ...] = ("社区", "所属社区", "社区名称", "社区/街道", "村（社区）", "村(社区)", "村/社区", "村居",
                                "网格", "community", "街道", "所属街道", "街道（镇）", "街镇", "街道/社区", "区县", "所属区县",
                                "区", "所属区", "district")
_AREA_IN_TITLE = re.compile(r"[A-Z]\d{0,2}[区市县]")  # 泰迪杯 titles: A5区, A7县, A市


def setting(value: Any, env: str) -> Any:
    """``value`` when it is set (not None / ""), else the environment variable ``env`` (None when unset)."""
    if value is not None and value != "":
        return value
    v = os.environ.get(env, "").strip()
    return v or None


def data_file(value: str | os.PathLike[str] | None = None, env: str = ENV_DATA) -> Path | None:
    """The analyst's file: ``value`` (the notebook's ``DATA``) or ``$GOVML_DATA``; None = the shipped data.
    ``~`` is expanded; a file that does not exist is a :class:`DataError` saying where it was looked for."""
    v = setting(None if value is None else str(value), env)
    if v is None:
        return None
    p = Path(v).expanduser()
    if not p.exists():
        raise DataError(message=f"{v}: file not found (looked for {p.resolve()}; the notebook runs in "
                                f"{Path.cwd()}): set DATA (or {env}) to the full path of your file")
    return p


def _sheet(value: Any) -> Any:
    v = setting(value, ENV_SHEET)
    return int(v) if isinstance(v, str) and v.isdigit() else v


@dataclass
class Loaded:
    """What a reader found: the canonical ``frame`` and the choices the notebook needs."""

    frame: pd.DataFrame
    file: str
    columns: dict[str, str] = field(default_factory=dict)  # canonical → the file's column
    group: str | None = None  # messages: the column to group by (community, district or the title's area)
    label: str | None = None  # the category column, None when the file has none
    text_cols: tuple[str, ...] = ("text",)
    notes: list[str] = field(default_factory=list)
    n_read: int | None = None  # the rows read from the file (before rows were left out)
    #: the notes that concern the demands notebook only (likes, users, alerts, areas, the span): not a
    #: classifier's business (:func:`labelled_messages` leaves them out)
    demands_only: frozenset[str] = frozenset()


def _where(meta: Mapping[str, Any], file: str) -> str:
    parts = []
    if meta.get("sheet") is not None:
        sheets = meta.get("sheets") or []
        parts.append(f"sheet '{meta['sheet']}'" + (f" of {', '.join(map(repr, sheets))}" if len(sheets) > 1 else ""))
    if meta.get("encoding"):
        parts.append(f"encoding {meta['encoding']}")
    if meta.get("header_rows"):
        parts.append(f"header on rows {' and '.join(map(str, meta['header_rows']))} (merged)")
    elif (meta.get("header_row") or 1) > 1:
        parts.append(f"header on row {meta['header_row']} (the row(s) above it read as titles)")
    if meta.get("footer_rows"):
        parts.append(f"footer row(s) {', '.join(map(str, meta['footer_rows']))} not read as data")
    return f"{file}" + (f" ({'; '.join(parts)})" if parts else "")


def _rows_text(rows: Sequence[Any], limit: int = 8) -> str:
    return ", ".join(map(str, rows[:limit])) + (f" … ({len(rows)} rows)" if len(rows) > limit else "")


def _find(df: pd.DataFrame, canonical: str, names: Sequence[str], given: Mapping[str, str]) -> str | None:
    """The file's column for ``canonical``: the one named in ``given``, the canonical name itself, or the first
    of ``names`` present (names compare without surrounding spaces and case)."""
    if canonical in given:
        return given[canonical]
    have = {str(c).strip().casefold(): c for c in df.columns}
    for n in (canonical, *names):
        if str(n).strip().casefold() in have:
            return have[str(n).strip().casefold()]
    return None


def _check_given(df: pd.DataFrame, given: Mapping[str, str], file: str) -> None:
    bad = [(k, v) for k, v in given.items() if v not in df.columns]
    if bad:
        have = ", ".join(map(str, df.columns))
        raise DataError([Problem(file, None, v, f"a column named '{v}' for {k} (COLUMNS = {{'{k}': '{v}'}}) — the "
                                 f"file's columns are: {have}") for k, v in bad])


def _times(df: pd.DataFrame, col: str, file: str, notes: list[str], shown: str | None = None,
           now: Any = None) -> pd.DataFrame:
    """Parse ``col`` (the file's ``shown``); rows with no time, an unreadable one or one in the future are left
    out and named (as the commands leave them out: :func:`govml.io.bad_times`)."""
    from govml.io import bad_times

    shown = shown or col
    parsed, bad, future, parts = bad_times(df, col, file=file, shown=shown, now=now, limit=8)
    out = df.copy()
    out[col] = parsed
    drop = bad | future
    if drop.any():
        notes.append(f"column '{shown}': {int(drop.sum())} of {len(df)} row(s) left out — " + "; ".join(parts)
                     + ". Correct them in the file to keep them.")
        out = out.loc[~drop]
    return out


def _say(loaded: Loaded, what: str, meta: Mapping[str, Any], n_read: int, quiet: bool) -> None:
    if quiet:
        return
    print(f"Your data: {_where(meta, loaded.file)} — {n_read:,} rows read, {len(loaded.frame):,} used as {what}.")
    if loaded.columns:
        print("  columns: " + ", ".join(f"{k} ← {v}" for k, v in loaded.columns.items()))
    for n in loaded.notes:
        print("  • " + n)


def _read(path: Path, known: list[str], sheet: Any, encoding: Any) -> pd.DataFrame:
    from govml.io import read_table

    return read_table(path, encoding=setting(encoding, ENV_ENCODING), sheet=_sheet(sheet), known_columns=known)


def read_messages(path: str | os.PathLike[str], *, sheet: str | int | None = None, encoding: str | None = None,
                  columns: Mapping[str, str] | None = None, quiet: bool = False) -> Loaded:
    """An analyst's message export as the demands notebook uses it.

    ``frame`` has ``id``, ``created_at`` (parsed), ``text`` (title and details joined by a newline when the file
    has both; ``title`` / ``detail`` kept), ``likes`` and ``user_id`` when present, ``category`` when present and
    not empty, and the group column (``community``, else ``district``, else ``region`` — ``columns["region"]`` or
    the first of :data:`GROUP_NAMES` present, e.g. 街道 —, else ``area`` parsed from 泰迪杯-style titles such as
    ``A5区``, else one group ``全部``). ``columns`` ({canonical: the file's column}) names a
    column that is not recognised. Raises :class:`DataError` when there is no text or no time column."""
    from govml.config import COLUMN_ALIASES, guess_column
    from govml.io import label_text
    from govml.schemas import to_number

    path = Path(path)
    file = path.name
    given = dict(columns or {})
    known = [*given.values(), *(n for ns in COLUMN_ALIASES.values() for n in ns), *GROUP_NAMES,
             "id", "created_at", "text", "title", "likes", "user_id", "category"]
    raw = _read(path, known, sheet, encoding)
    meta = dict(raw.attrs.get("govml", {}))
    _check_given(raw, given, file)
    have = [str(c) for c in raw.columns]
    found: dict[str, str] = {}
    for canon in ("id", "created_at", "title", "text", "likes", "user_id", "category", "channel"):
        if canon in given:
            found[canon] = given[canon]
        elif canon in have:
            found[canon] = canon
        else:
            g = guess_column(canon, have)
            if g and g[0] not in found.values():
                found[canon] = g[0]
    for canon in ("community", "district"):
        col = given.get(canon) or _find(raw, canon, COLUMN_ALIASES.get(canon, ()), {})
        if col and col not in found.values():
            found[canon] = col
    group_col = found.get("community") or found.get("district")
    if "region" in given:  # any column to group by (网格, 片区 …), named by the analyst
        group_col = found["region"] = given["region"]
    elif group_col is None:  # 街道, 社区/街道, 村居 …: the first of the usual area names present
        group_col = _find(raw, "region", GROUP_NAMES, {})
        if group_col is not None:
            found["region"] = group_col
    notes: list[str] = []
    if "text" not in found and "title" not in found:
        raise DataError([Problem(file, None, "text", "a column with the message text (留言详情, 留言内容, 诉求内容, "
                                 "内容, 留言主题 …) — none recognised; name yours with COLUMNS = {'text': 'its name'}",
                                 found=", ".join(have))])
    if "created_at" not in found:
        raise DataError([Problem(file, None, "created_at", "a column with when each message was left (留言时间, "
                                 "受理时间, 日期 …) — none recognised; name yours with COLUMNS = "
                                 "{'created_at': 'its name'}", found=", ".join(have))])
    df = pd.DataFrame(index=raw.index)
    df.attrs["govml"] = meta
    for canon, col in found.items():
        df[canon] = raw[col]
    df = _times(df, "created_at", file, notes, found["created_at"])
    df.attrs["govml"] = meta
    if "title" in found and "text" in found:
        df["detail"] = df["text"].astype("string").fillna("").str.strip()
        df["title"] = df["title"].astype("string").fillna("")
        df["text"] = df["title"] + "\n" + df["detail"]
        text_cols: tuple[str, ...] = ("title", "detail")
    else:
        src = "text" if "text" in found else "title"
        df["text"] = df[src].astype("string").fillna("")
        df["title"] = df["text"]
        text_cols = ("text",)
    empty = df["text"].str.strip().eq("").to_numpy(bool)
    if empty.all():
        raise DataError([Problem(file, None, found.get("text", found.get("title")), "some message text",
                                 "(every cell empty)")])
    demands_only: list[str] = []

    def demands_note(text: str) -> None:  # a note for the demands notebook, not for a classifier
        notes.append(text)
        demands_only.append(text)

    if "id" in found:
        ids = df["id"].astype("string").str.strip()
        dup = ids.isna() | ids.eq("") | ids.duplicated(keep=False)
        if dup.any():
            notes.append(f"column '{found['id']}': {int(dup.sum())} empty or repeated id(s) — the file's row "
                         "numbers are used as ids instead")
            ids = pd.Series([f"row{r}" for r in _rows(df)], index=df.index, dtype="string")
        df["id"] = ids
    else:
        df["id"] = pd.Series([f"row{r}" for r in _rows(df)], index=df.index, dtype="string")
        notes.append("no id column (留言编号, 工单编号 …): the file's row numbers are the ids (row12 …)")
    if "likes" in found:
        likes, bad = to_number(df["likes"])
        if bad.any():
            demands_note(f"column '{found['likes']}': {int(bad.sum())} value(s) are not numbers (counted as 0)")
        df["likes"] = likes.fillna(0).clip(lower=0).astype(int)
    else:
        demands_note("no likes column (点赞数): likes count as 0 in the heat of hot issues")
    if "user_id" in found:
        df["user_id"] = df["user_id"].astype("string")
    else:
        demands_note("no user column (留言用户): each message counts as a different user")
    label = None
    if "category" in found:
        cat = label_text(df["category"])
        if cat.notna().any():
            df["category"] = cat
            label = "category"
            if cat.isna().any():
                demands_note(f"column '{found['category']}': {int(cat.isna().sum())} message(s) without a category "
                             "(left out of the category alerts)")
        else:
            df = df.drop(columns="category")
            notes.append(f"column '{found['category']}' is empty in every row: treated as no category")
    if label is None:
        demands_note("no category column (一级分类, 诉求类别 …): alerts are on each area's total (category 全部), "
                     "backed by emerging terms")
    if group_col is not None:
        key = next(k for k, v in found.items() if v == group_col)
        g = label_text(df[key])
        n_blank = int(g.isna().sum())
        df[key] = g.fillna("未注明")
        group = key
        if n_blank:
            notes.append(f"column '{group_col}': {n_blank} message(s) without a value, grouped as 未注明")
    else:
        area = df["title"].map(_area_of)
        if area.notna().mean() >= 0.5:
            df["area"] = area.fillna("未注明")
            group = "area"
            demands_note("no community / district column: the area is the district code in the title (A5区 …)")
        else:
            df["area"] = "全部"
            group = "area"
            demands_note("no community / district column (社区, 街道, 区县 …): all messages are one area, 全部 "
                         "(name one with COLUMNS = {'community': 'its name'})")
    if empty.any():
        demands_note(f"{int(empty.sum())} message(s) with no text (kept; they add no words)")
    days = df["created_at"].max() - df["created_at"].min()
    if days < pd.Timedelta(days=56):
        demands_note(f"the messages span {days.days + 1} day(s): the alerts test only weeks with 4 weeks of history "
                     "before them (emerging terms 12), so they say little here; the demand tables and hot issues "
                     "are unaffected")
    shown = {k: v for k, v in found.items() if k not in ("channel",)}
    if text_cols == ("title", "detail"):
        shown["text"] = f"{found['title']} + {found['text']}"
        shown.pop("title")
    loaded = Loaded(df.reset_index(drop=True), file, shown, group, label, text_cols, notes, len(raw),
                    frozenset(demands_only))
    loaded.frame.attrs["govml"] = meta
    _say(loaded, "messages", meta, len(raw), quiet)
    return loaded


def labelled_messages(loaded: Loaded, *, quiet: bool = False) -> pd.DataFrame:
    """The messages of ``loaded`` (:func:`read_messages`, best read with ``quiet=True``) as the retrain's demand
    classifier reads them (the tracking notebook writes them to a CSV its retrain configuration names): the
    canonical message table — ``id``, ``created_at``, ``district``, ``community``, ``text``, ``category`` — of the
    messages with a category and some text. ``community`` is the file's area column (社区, else 街道 …; ``全部`` when
    it has none), ``district`` its district column or ``未注明``. Prints what was read, as the readers do, with the
    notes that concern a classifier (rows left out and why). A file without categories is a :class:`DataError`
    saying what to set: the classifier learns from labelled messages."""
    df = loaded.frame
    if loaded.label is None or "category" not in df:
        raise DataError([Problem(loaded.file, None, "category", "a category column (一级分类, 诉求类别, 问题分类 …) — "
                                 "the demand classifier learns from labelled messages; none recognised (or every cell "
                                 "empty): name yours with COLUMNS = {'category': 'its name'}",
                                 found=", ".join(loaded.columns.values()))])
    area = df["community"] if "community" in df else df[loaded.group] if loaded.group in df else "全部"
    out = pd.DataFrame({"id": df["id"].astype("string"),
                        "created_at": pd.to_datetime(df["created_at"]).dt.strftime("%Y-%m-%d %H:%M:%S"),
                        "district": df["district"].astype("string").fillna("未注明") if "district" in df else "未注明",
                        "community": area, "text": df["text"].astype("string").str.strip(),
                        "category": df["category"].astype("string")})
    no_label, no_text = out["category"].isna(), out["text"].fillna("").eq("")
    out = out.loc[~no_label & ~no_text].reset_index(drop=True)
    if not quiet:
        meta = df.attrs.get("govml", {})
        n_read = loaded.n_read if loaded.n_read is not None else len(df)
        print(f"Your data: {_where(meta, loaded.file)} — {n_read:,} rows read, {len(out):,} labelled messages for "
              f"the classifier ({out['category'].nunique()} categories).")
        print("  columns: " + ", ".join(f"{k} ← {v}" for k, v in loaded.columns.items()
                                        if k in ("id", "created_at", "text", "category", "community", "district",
                                                 "region")))
        for n in loaded.notes:
            if n not in loaded.demands_only:
                print("  • " + n)
        if no_label.any():
            print(f"  • {int(no_label.sum())} message(s) without a category: left out (the classifier learns from "
                  "labelled ones)")
        if (no_text & ~no_label).any():
            print(f"  • {int((no_text & ~no_label).sum())} message(s) with no text: left out")
    return out


def _rows(df: pd.DataFrame) -> list[Any]:
    from govml.io import source_rows

    return source_rows(df)


def _area_of(title: Any) -> str | None:
    codes = _AREA_IN_TITLE.findall(str(title))
    return next((c for c in codes if c[-1] in "区县"), codes[0] if codes else None)


def read_events(path: str | os.PathLike[str], *, sheet: str | int | None = None, encoding: str | None = None,
                columns: Mapping[str, str] | None = None, quiet: bool = False) -> Loaded:
    """An analyst's complaint export as the hotspots notebook uses it: the file's own rows and column names (so that
    :func:`govml.hotspot.clean_events`, which parses the times and sets bad rows aside, names the file's columns),
    and ``columns`` = {canonical: the file's column} for ``created_at``, ``community``, ``category`` and, when
    present, ``closed_at``, ``status``, ``district``, ``id``. A file without a category column gets one,
    ``category`` = ``全部`` (said); without an area column, ``community`` = ``全部``."""
    from govml.config import header_aliases

    path = Path(path)
    file = path.name
    given = dict(columns or {})
    names = dict(header_aliases("events"))  # 受理时间, 所属社区, 问题类别, 办结时间, 办理状态 … (+ configs/columns.yaml)
    names["community"] = tuple(dict.fromkeys((*names.get("community", ()), *GROUP_NAMES)))
    known = [*given.values(), *(n for ns in names.values() for n in ns), "created_at", "community", "category"]
    raw = _read(path, known, sheet, encoding)
    meta = dict(raw.attrs.get("govml", {}))
    _check_given(raw, given, file)
    found: dict[str, str] = {}
    for canon in ("created_at", "category", "closed_at", "status", "district", "id", "community"):
        col = _find(raw, canon, names.get(canon, ()), given)
        if col is not None and col not in found.values():
            found[canon] = str(col)
    if "created_at" not in found:
        raise DataError([Problem(file, None, "created_at", "a column with when each complaint was made (受理时间, "
                                 "投诉时间, 日期 …) — none recognised; name yours with COLUMNS = "
                                 "{'created_at': 'its name'}", found=", ".join(map(str, raw.columns)))])
    df = raw.copy()
    df.attrs["govml"] = meta
    notes: list[str] = []
    shown = dict(found)
    for canon, what in (("category", "no category column (问题类别, 诉求类别 …): one category, 全部 — the forecasts "
                                     "are per area"),
                        ("community", "no area column (所属社区, 社区, 街道 …): one area, 全部 (name one with COLUMNS = "
                                      "{'community': 'its name'})")):
        if canon not in found:
            name = canon if canon not in df.columns else f"_{canon}"
            df[name] = "全部"
            found[canon] = name
            notes.append(what)
    if "closed_at" not in found and "status" not in found:
        notes.append("no closing time or status column (办结时间, 办理状态): the handling-efficiency section is skipped")
    loaded = Loaded(df, file, found, found["community"], found["category"] if "category" in shown else None, (),
                    notes)
    _say(Loaded(df, file, shown, notes=notes), "complaints (before cleaning)", meta, len(raw), quiet)
    return loaded


def parsed_times(events: pd.DataFrame, columns: Sequence[str | None], within: pd.Series | None = None) -> pd.DataFrame:
    """``events`` with ``columns`` read as times in any form the readers accept (empty or unreadable: NaT) and, with
    ``within`` (the cleaned events' times), only the rows whose first column lies in its range — the rows the panel
    counted, not the ones :func:`govml.hotspot.clean_events` set aside (a year typed 2031 …)."""
    from govml.io import parse_datetime

    out = events.copy()
    for c in columns:
        if c and c in out and not pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = pd.Series(parse_datetime(out[c].astype("string"), errors="coerce").to_numpy(), index=out.index)
    first = next(c for c in columns if c)
    if within is not None and len(within):
        out = out[out[first].between(within.min(), within.max())]
    return out


def read_assessments(path: str | os.PathLike[str], system: Any, *, sheet: str | int | None = None,
                     encoding: str | None = None, columns: Mapping[str, str] | None = None,
                     quiet: bool = False) -> Any:
    """An analyst's assessment table read as ``govml skills diagnose`` reads it: Chinese headers (工号, 社区,
    考核周期 …, indicator columns under the indicator's Chinese name), bad rows named and left out. Returns
    :func:`govml.skills.prepare_assessments`'s result (``.data``, ``.skipped``, ``.notes``) and prints what was
    read."""
    from govml.config import alias_columns, header_aliases
    from govml.skills.assessments import BASE_COLUMNS, OPTIONAL_COLUMNS, prepare_assessments

    path = Path(path)
    given = dict(columns or {})
    known = (BASE_COLUMNS + OPTIONAL_COLUMNS + ["indicator", "score"] + system.indicator_ids
             + [n for names in header_aliases("assessments").values() for n in names]
             + list(system.names().values()) + list(given.values()))
    raw = _read(path, known, sheet, encoding)
    meta = dict(raw.attrs.get("govml", {}))
    _check_given(raw, given, path.name)
    if given:
        raw = raw.rename(columns={v: k for k, v in given.items()})
        raw.attrs["govml"] = meta
    df, notes = alias_columns(raw, header_aliases("assessments"))
    prepared = prepare_assessments(df, system, file=path.name)
    prepared.notes[:0] = [n for n in notes if n not in prepared.notes]
    prepared.notes += _thin_periods(prepared.data, df)
    if not quiet:
        print(f"Your data: {_where(meta, path.name)} — {len(raw):,} rows read.")
        for n in prepared.notes:
            print("  • " + n)
        if prepared.skipped:
            print(f"  {len(prepared.skipped)} problem(s); those cells or rows were left out, the rest is used:")
            for p in prepared.skipped[:10]:
                print(f"    - {p}")
            if len(prepared.skipped) > 10:
                print(f"    - … and {len(prepared.skipped) - 10} more (prepared.skipped lists them all)")
    return prepared


def read_courses(path: str | os.PathLike[str], system: Any, *, sheet: str | int | None = None,
                 encoding: str | None = None, quiet: bool = False) -> Any:
    """An analyst's course catalog read as ``govml skills plan`` reads it (课程编号, 课程名称, 学时 … recognised);
    returns :func:`govml.skills.parse_courses`'s result and prints what was read."""
    from govml.config import alias_columns, header_aliases
    from govml.skills import parse_courses

    path = Path(path)
    known = (["course_id", "title", "hours", "cost", "indicators", "prerequisites", "capacity", "mode"]
             + [n for names in header_aliases("courses").values() for n in names])
    raw = _read(path, known, sheet, encoding)
    meta = dict(raw.attrs.get("govml", {}))
    df, notes = alias_columns(raw, header_aliases("courses"))
    catalog = parse_courses(df, system, file=path.name)
    catalog.notes[:0] = [n for n in notes if n not in catalog.notes]
    if not quiet:
        print(f"Your courses: {_where(meta, path.name)} — {len(raw):,} rows read.")
        for n in catalog.notes:
            print("  • " + n)
        if catalog.skipped:
            print(f"  {len(catalog.skipped)} problem(s) left out: " + "; ".join(map(str, catalog.skipped[:5]))
                  + (" …" if len(catalog.skipped) > 5 else ""))
    return catalog


def _thin_periods(data: pd.DataFrame, df: pd.DataFrame) -> list[str]:
    """A period with a handful of rows beside full ones is most often a typing error (2024年第五季度, 2025Q1 for
    2024Q1); as the last label in sort order it would become the notebook's "latest period" for the whole team."""
    from govml.io import source_rows
    from govml.skills.readings import canonical_period

    counts = data["period"].value_counts() if "period" in data and len(data) else pd.Series(dtype=int)
    if len(counts) < 3 or "period" not in df:
        return []
    typical = float(counts.median())
    latest = max(counts.index)
    labels = [canonical_period(str(v))[0] if pd.notna(v) else None for v in df["period"]]
    rows = source_rows(df)
    out = []
    for p, n in counts[counts < 0.1 * typical].items():
        at = [r for r, lab in zip(rows, labels, strict=True) if lab == p]
        out.append(f"period '{p}': {n} row(s) (row {_rows_text(at)}) against {typical:.0f} in a typical period — a "
                   "typing error? " + ("It sorts last, so the sections below take it as the latest period: correct "
                                       "it in the file." if p == latest else "Correct it in the file if so."))
    return out
