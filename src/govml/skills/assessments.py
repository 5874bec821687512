"""Bring an assessment table into the canonical wide form, checking it against the indicator system.

Accepted layouts (column names are ours; map yours with ``govml.io``):

* **wide** — ``worker_id, community, district, period`` + one column per indicator id; optional
  ``area_type`` (urban/rural…), ``resident_rating`` (0–100), ``source`` (one row per source).
* **long** — the same base columns + ``indicator``, ``score`` (one row per indicator).

With a ``source`` column the indicator value of a worker and period is the source-weighted mean
(``sources:`` in the configuration) over the sources that rated it.

Problems that concern single cells or rows (an unknown indicator, a value out of its range, an
unknown area type or source, a worker-period with every value missing, a duplicated row) do not
stop the run: the cell or row is left out and the problem is recorded in
:attr:`Prepared.skipped` with file, row, column, expectation and the value found. Problems that
make the whole table unusable (a missing required column, no indicator column) raise
:class:`govml.errors.DataError`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from govml.errors import DataError, Problem
from govml.skills.indicators import IndicatorSystem

log = logging.getLogger(__name__)

BASE_COLUMNS = ["worker_id", "community", "district", "period"]
OPTIONAL_COLUMNS = ["area_type", "resident_rating", "source"]
LONG_COLUMNS = ["indicator", "score"]
# Row numbers in messages: header is row 1, the first data row is row 2 (as a spreadsheet shows it).
_ROW_OFFSET = 2


@dataclass
class Prepared:
    """The canonical wide table (one row per worker and period) and what was left out."""

    data: pd.DataFrame
    indicators: list[str]
    skipped: list[Problem] = field(default_factory=list)
    missing: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["worker_id", "period", "indicator"]))
    notes: list[str] = field(default_factory=list)  # how cells and columns were read (said, not problems)

    def summary(self) -> dict[str, int]:
        return {
            "rows": int(len(self.data)),
            "workers": int(self.data["worker_id"].nunique()) if len(self.data) else 0,
            "periods": int(self.data["period"].nunique()) if len(self.data) else 0,
            "skipped_problems": len(self.skipped),
            "missing_values": int(len(self.missing)),
            "workers_with_missing": int(self.missing["worker_id"].nunique()) if len(self.missing) else 0,
        }


def _row_numbers(df: pd.DataFrame, header_row: int) -> list[int]:
    """File row of each frame row: from ``govml.io`` metadata when the frame was read by it."""
    if df.attrs.get("govml", {}).get("rows") is not None:  # runs of rows: govml.io.source_rows spells them out
        from govml.io import source_rows

        rows = source_rows(df)
        if len(rows) == len(df):
            return rows
    return [int(i) + header_row + 1 for i in range(len(df))]


def prepare_assessments(df: pd.DataFrame, system: IndicatorSystem, *, file: str = "<assessments>",
                        header_row: int = 1) -> Prepared:
    """Validate ``df`` against ``system`` and return the canonical wide table.

    Row numbers in problems come from ``govml.io``'s metadata when ``df`` was read by it, else row
    ``i`` of the frame is taken to be line ``i + header_row + 1`` of the file.
    """
    from govml.skills import readings

    rownums = _row_numbers(df, header_row)
    df = df.reset_index(drop=True)
    df, notes = _chinese_columns(df, system)
    missing_cols = [c for c in BASE_COLUMNS if c not in df.columns]
    if missing_cols:
        raise DataError([Problem(file, None, c, "a required column of the assessment table") for c in missing_cols],
                        message=f"{file}: required column(s) missing: {', '.join(missing_cols)} "
                                f"(found: {', '.join(map(str, df.columns))})")
    problems: list[Problem] = []
    known = set(system.indicator_ids)
    is_long = all(c in df.columns for c in LONG_COLUMNS)

    if is_long:
        df = _long_to_wide(df, system, file, problems, rownums, notes)
    else:
        extra = [c for c in df.columns if c not in BASE_COLUMNS + OPTIONAL_COLUMNS and c not in known]
        for c in extra:
            if pd.api.types.is_numeric_dtype(df[c]) or _mostly_numeric(df[c]):
                problems.append(Problem(file, None, str(c), "an indicator id from the configuration "
                                        f"({', '.join(system.indicator_ids[:6])}, ...)", found=str(c)))
        df = df.copy()
        df["_row"] = rownums
    present = [i for i in system.indicator_ids if i in df.columns]
    if not present:
        raise DataError(message=f"{file}: no indicator columns found; expected some of "
                                f"{', '.join(system.indicator_ids)} (or long form with 'indicator' and 'score')")

    out = df[[c for c in BASE_COLUMNS + OPTIONAL_COLUMNS if c in df.columns] + present + ["_row"]].copy()
    total = readings.summary_rows(out["worker_id"])
    for r, v in zip(out.loc[total, "_row"], out.loc[total, "worker_id"], strict=True):
        problems.append(Problem(file, int(r), "worker_id", "a worker id (a total or average row: left out)",
                                found=str(v)))
    out = out.loc[~total]
    for c in BASE_COLUMNS:
        out[c] = out[c].astype("string").str.strip()
        blank = out[c].isna() | (out[c] == "")
        for r in out.loc[blank, "_row"]:
            problems.append(Problem(file, int(r), c, "a non-empty value (row skipped)", found=""))
        out = out.loc[~blank]
    # an id holding personal data (a phone or ID-card number …) is refused, never masked: these columns are copied as
    # written into scores, gaps, plans, maps and the log (`govml validate` refuses the same cells)
    from govml.schemas import ASSESSMENT_ID_COLUMNS, PERSONAL_ID_WHY, personal_data_cells

    personal = personal_data_cells(out, ASSESSMENT_ID_COLUMNS)
    for pos, c, why, shown in personal:
        problems.append(Problem(file, int(out["_row"].iat[pos]), c, f"{why} (row skipped; {PERSONAL_ID_WHY})",
                                found=shown))
    if personal:
        out = out.loc[~np.isin(np.arange(len(out)), [pos for pos, *_ in personal])]
    # a person's name (张伟) in a place column written with its kinds (…社区, …村): refused alike (session 15)
    named = readings.personal_name_cells(out, ("community", "district"))
    for pos, c in named:
        what = {"community": "community", "district": "district"}[c]
        problems.append(Problem(file, int(out["_row"].iat[pos]), c,
                                f"a {what} name, not a person's name (row skipped; {PERSONAL_ID_WHY})", found="<NAME>"))
    if named:
        out = out.loc[~np.isin(np.arange(len(out)), [pos for pos, _ in named])]
    raw_period = out["period"]
    out["period"], impossible, period_notes = readings.read_periods(raw_period)
    notes += period_notes
    for r, v in zip(out.loc[impossible, "_row"], raw_period[impossible], strict=True):
        problems.append(Problem(file, int(r), "period", "a possible period (quarter 1-4, month 1-12; row skipped)",
                                found=str(v)))
    out = out.loc[~impossible]

    # area type
    if "area_type" in out.columns:
        from govml.schemas import KINDS

        aliases = {k: v for k, v in KINDS["assessments"].column("area_type").aliases.items()
                   if v in system.area_types}  # 城市 / 农村 (as `govml validate` reads them)
        at = out["area_type"].astype("string").str.strip()
        named = at.isin(list(aliases))
        if named.any():
            notes.append("area_type: " + ", ".join(f"{k} → {aliases[k]}" for k in sorted(set(at[named])))
                         + " (as govml validate reads them)")
            at = at.where(~named, at.map(aliases))
        at = at.str.lower().fillna(system.default_area_type)
        bad = ~at.isin(system.area_types)
        for r, v in zip(out.loc[bad, "_row"], at[bad], strict=True):
            problems.append(Problem(file, int(r), "area_type", f"one of {system.area_types} (row skipped)", found=str(v)))
        out["area_type"] = at
        out = out.loc[~bad]
    else:
        out["area_type"] = system.default_area_type
        if len(system.area_types) > 1:
            notes.append(f"no area_type column: every worker is assessed as {system.default_area_type} "
                         f"(default_area_type of the configuration; the targets of {', '.join(system.area_types)} "
                         "differ — add an area_type column, e.g. 城市/农村, where that is wrong)")

    # numeric values and ranges
    rewritten: dict[str, int] = {}
    fractions: list[str] = []  # a % indicator written as fractions (0.85): said, never multiplied
    for ind_id in present:
        ind = system.indicator(ind_id)
        raw = out[ind_id]
        vals, notnum, absent, n_read = readings.read_scores(raw, ind.unit)
        for r, v in zip(out.loc[notnum, "_row"], raw[notnum], strict=True):
            problems.append(Problem(file, int(r), ind_id, readings.number_expectation(str(v)), found=str(v)))
        for r, v in zip(out.loc[absent, "_row"], raw[absent], strict=True):
            problems.append(Problem(file, int(r), ind_id, "a number; this says the worker was not assessed "
                                    "(read as no value: missing, never zero)", found=str(v)))
        if n_read:
            rewritten[ind_id] = n_read
        if ind.unit == "%" and vals.notna().sum() >= 3 and vals.max() <= 1 and vals.max() > 0 and ind.range[1] > 1:
            fractions.append(ind_id)
        lo, hi = ind.range
        oor = vals.notna() & ((vals < lo) | (vals > hi))
        for r, v in zip(out.loc[oor, "_row"], vals[oor], strict=True):
            problems.append(Problem(file, int(r), ind_id, f"a value in [{lo:g}, {hi:g}] {ind.unit} (value left out)",
                                    found=f"{v:g}"))
        out[ind_id] = vals.where(~oor).astype(float)
    if fractions:
        notes.append(f"{', '.join(fractions)}: a percentage holding only values between 0 and 1 — fractions "
                     "(0.85 for 85%)? They are read as written (0.85%); multiply by 100 in the file if so")
    if rewritten:
        notes.append("scores written with full-width digits or the indicator's unit (85分, 85%) read as numbers: "
                     + ", ".join(f"{k} {v}" for k, v in rewritten.items()))
    if "resident_rating" in out.columns:
        raw = out["resident_rating"]
        vals, notnum, absent, _ = readings.read_scores(raw, "分")
        for r, v in zip(out.loc[notnum | absent, "_row"], raw[notnum | absent], strict=True):
            problems.append(Problem(file, int(r), "resident_rating", readings.number_expectation(str(v)),
                                    found=str(v)))
        lo, hi = system.resident_rating.range
        oor = vals.notna() & ((vals < lo) | (vals > hi))
        for r, v in zip(out.loc[oor, "_row"], vals[oor], strict=True):
            problems.append(Problem(file, int(r), "resident_rating", f"a value in [{lo:g}, {hi:g}] (value left out)",
                                    found=f"{v:g}"))
        out["resident_rating"] = vals.where(~oor).astype(float)

    if "source" in out.columns:
        out = _combine_sources(out, system, present, file, problems)
    else:
        values = present + [c for c in ("resident_rating",) if c in out.columns]
        out = _merge_duplicates(out, ["worker_id", "period"], values, file, problems, "worker and period")

    all_missing = out[present].isna().all(axis=1)
    for r, w, p in zip(out.loc[all_missing, "_row"], out.loc[all_missing, "worker_id"],
                       out.loc[all_missing, "period"], strict=True):
        problems.append(Problem(file, int(r), None, "at least one indicator value (worker-period skipped)",
                                found=f"worker {w}, {p}: all {len(present)} indicator values missing"))
    out = out.loc[~all_missing]
    if out.empty:
        raise DataError(problems[:20], message=f"{file}: no usable assessment rows left", truncated=len(problems) > 20)

    # indicators configured but absent from the file are missing for everyone (reported, never zero)
    for ind_id in system.indicator_ids:
        if ind_id not in out.columns:
            out[ind_id] = np.nan
            problems.append(Problem(file, None, ind_id, "a column for this configured indicator "
                                    "(treated as missing for every worker)"))
    out = out.sort_values(["worker_id", "period"]).reset_index(drop=True)
    m = out[["worker_id", "period", *system.indicator_ids]].melt(
        id_vars=["worker_id", "period"], var_name="indicator", value_name="v")
    missing = m.loc[m["v"].isna(), ["worker_id", "period", "indicator"]].reset_index(drop=True)
    cols = [c for c in BASE_COLUMNS + ["area_type", "resident_rating"] if c in out.columns]
    data = out[cols + system.indicator_ids].copy()
    if problems and log.isEnabledFor(logging.INFO):  # a log may be kept and shared: personal data masked
        from govml.io import masked

        for p in problems:
            log.info("skipped: %s", masked(p))
    return Prepared(data=data, indicators=list(system.indicator_ids), skipped=problems, missing=missing,
                    notes=notes)


def _chinese_columns(df: pd.DataFrame, system: IndicatorSystem) -> tuple[pd.DataFrame, list[str]]:
    """Our column names for the usual Chinese ones, and indicator ids for the configuration's indicator names."""
    from govml.skills import readings

    # a header cell with a space before or after the name (typed in Excel: 'worker_id ', '社区　') is that name,
    # unless the bare name is a column too
    names = [str(c) for c in df.columns]
    bare = [n.strip() for n in names]
    spaced = {c: b for c, n, b in zip(df.columns, names, bare, strict=True)
              if b != n and b and b not in names and bare.count(b) == 1}
    notes: list[str] = []
    if spaced:
        attrs = dict(df.attrs)
        df = df.rename(columns=spaced)
        df.attrs.update(attrs)
        notes.append(f"{len(spaced)} column name(s) read without the spaces around them: "
                     + ", ".join(repr(str(c)) for c in list(spaced)[:4]) + (" ..." if len(spaced) > 4 else ""))
    df, aliased = readings.alias_columns(df, readings.ASSESSMENT_ALIASES)
    notes += list(aliased)
    cols = [str(c) for c in df.columns]
    by_name = {name: i for i, name in system.names().items()}
    ren = {c: by_name[c] for c in cols if c in by_name and by_name[c] not in cols}
    if ren:
        attrs = dict(df.attrs)
        df = df.rename(columns=ren)
        df.attrs.update(attrs)
        shown = ", ".join(f"{v} ← {k}" for k, v in list(ren.items())[:4])
        notes.append(f"{len(ren)} indicator column(s) named by their Chinese name in the configuration: {shown}"
                     + (" ..." if len(ren) > 4 else ""))
    return df, notes


def _mostly_numeric(s: pd.Series) -> bool:
    v = pd.to_numeric(s, errors="coerce")
    return bool(v.notna().mean() > 0.8) if len(s) else False


def _long_to_wide(df: pd.DataFrame, system: IndicatorSystem, file: str, problems: list[Problem],
                  rownums: list[int], notes: list[str] | None = None) -> pd.DataFrame:
    df = df.copy()
    df["_row"] = rownums
    ind = df["indicator"].astype("string").str.strip()
    by_name = {name: i for i, name in system.names().items() if name not in system.indicator_ids}
    named = ind.isin(list(by_name))
    if named.any():
        ind = ind.where(~named, ind.map(by_name))
        if notes is not None:
            notes.append(f"indicator: {int(named.sum())} row(s) name the indicator by its Chinese name "
                         "in the configuration (read as its id)")
    unknown = ~ind.isin(system.indicator_ids)
    for r, v in zip(df.loc[unknown, "_row"], ind[unknown], strict=True):
        problems.append(Problem(file, int(r), "indicator", "an indicator id from the configuration (row skipped)",
                                found=str(v)))
    df = df.loc[~unknown].assign(indicator=ind[~unknown])
    keys = ["worker_id", "period"] + (["source"] if "source" in df.columns else [])
    df = _merge_duplicates(df, keys + ["indicator"], ["score"] + [c for c in ("resident_rating",) if c in df.columns],
                           file, problems,
                           "worker, period" + (", source" if "source" in keys else "") + " and indicator")
    # one community / district / area type per worker-period (and source) over its indicator rows, whatever their
    # order (session 17; it was the first row's): the one most rows give, said when they differ
    attrs = [c for c in ("community", "district", "area_type") if c in df.columns]
    first = _one_per_key(df, keys, attrs, file, problems, by="rows")
    if "resident_rating" in df.columns:  # written on every indicator row: one value, or left out when they differ
        first = first.join(_one_value_per_key(df, keys, "resident_rating", file, problems,
                                              "worker, period" + (", source" if "source" in keys else "")))
    wide = df.pivot_table(index=keys, columns="indicator", values="score", aggfunc="first", dropna=False)
    wide.columns = [str(c) for c in wide.columns]
    return first.join(wide, how="left").reset_index()


def _distinct(s: pd.Series) -> list:
    """The distinct values of ``s`` (missing and blank left out), in a fixed order (sorted by their text)."""
    v = s.dropna()
    if v.dtype == object or isinstance(v.dtype, pd.StringDtype):
        v = v.astype("string").str.strip()
        v = v[v != ""]
    return sorted(pd.unique(v).tolist(), key=str)


def _shown(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _merge_duplicates(df: pd.DataFrame, keys: list[str], values: list[str], file: str, problems: list[Problem],
                      what: str) -> pd.DataFrame:
    """One row per ``keys``, whatever the order of the file's rows (session 16).

    Rows sharing the keys are read together: a value given by one row (or the same by several) is kept; values
    that differ are left out (missing, never a guess) and reported with the rows that give them. Rows that
    disagree on the community, district or area type cannot be read together: the key is skipped and said. Before,
    the first row in file order was kept, so the same records in another order gave other scores."""
    dupmask = df.duplicated(keys, keep=False)
    if not dupmask.any():
        return df
    attrs = [c for c in ("community", "district", "area_type") if c in df.columns and c not in keys]
    dup = df.loc[dupmask]
    merged: list[dict] = []
    for key, g in dup.groupby(keys, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        g = g.sort_values("_row", kind="stable")
        rows = list(g["_row"])  # as the file shows them (a workbook's rows keep their sheet)
        first = rows[0]
        listed = ", ".join(str(r) for r in rows[:-1]) + f" and {rows[-1]}"
        rec = dict(zip(keys, key, strict=True))
        rec["_row"] = first
        clash = False
        for c in attrs:
            vals = _distinct(g[c])
            if len(vals) > 1:
                clash = True
                problems.append(Problem(file, first, c, f"one {c} per {what}: rows {listed} give different "
                                        f"ones ({what} skipped; keep one row)", found=" / ".join(map(str, vals))))
            rec[c] = vals[0] if vals else g[c].iloc[0]
        if clash:
            continue
        for c in values:
            vals = _distinct(g[c])
            if len(vals) > 1:
                problems.append(Problem(file, first, c, f"one value per {what}: rows {listed} give different "
                                        "ones (value left out; keep one row)",
                                        found=" / ".join(_shown(v) for v in vals)))
                rec[c] = np.nan if pd.api.types.is_float_dtype(g[c].dtype) else pd.NA
            else:
                rec[c] = vals[0] if vals else g[c].iloc[0]
        for c in g.columns:
            rec.setdefault(c, g[c].iloc[0])
        for r in rows[1:]:
            problems.append(Problem(file, r, keys[0], f"one row per {what} (the same {what} as row {rows[0]}: "
                                    "read together with it)"))
        merged.append(rec)
    out = pd.concat([df.loc[~dupmask], pd.DataFrame(merged, columns=df.columns).astype(df.dtypes.to_dict())],
                    ignore_index=False) if merged else df.loc[~dupmask]
    return out.sort_values("_row", kind="stable")


def _combine_sources(out: pd.DataFrame, system: IndicatorSystem, present: list[str], file: str,
                     problems: list[Problem]) -> pd.DataFrame:
    weights = system.source_weights()
    src = out["source"].astype("string").str.strip()
    bad = ~src.isin(list(weights))
    for r, v in zip(out.loc[bad, "_row"], src[bad], strict=True):
        problems.append(Problem(file, int(r), "source", f"one of {sorted(weights)} (row skipped)", found=str(v)))
    out = out.loc[~bad].assign(source=src[~bad])
    values = present + [c for c in ("resident_rating",) if c in out.columns]
    out = _merge_duplicates(out, ["worker_id", "period", "source"], values, file, problems,
                            "worker, period and source")
    # one row per worker, period and source now: in that order, the sums below add up in the same order whatever the
    # order of the file's rows (the same scores to the last bit)
    out = out.sort_values(["worker_id", "period", "source"], kind="stable")
    w = out["source"].map(weights).astype(float)
    keys = ["worker_id", "period"]
    agg = out[keys].copy()
    for c in present:
        agg[c + "__wx"] = out[c] * w
        agg[c + "__w"] = w.where(out[c].notna(), 0.0)
    sums = agg.groupby(keys, sort=False).sum()
    res = pd.DataFrame(index=sums.index)
    for c in present:
        den = sums[c + "__w"]
        res[c] = (sums[c + "__wx"] / den).where(den > 0)
    # one community / district / area type per worker-period over its sources, whatever the order of the rows
    # (session 17; it was the first row's): the one most sources give, ties to the higher-weighted sources
    attrs = [c for c in ("community", "district", "area_type") if c in out.columns]
    meta = _one_per_key(out, keys, attrs, file, problems, by="sources", weights=weights)
    if "resident_rating" in out.columns:
        meta["resident_rating"] = out.groupby(keys, sort=False)["resident_rating"].mean()
    return meta.join(res).reset_index()


def _one_per_key(df: pd.DataFrame, keys: list[str], attrs: list[str], file: str, problems: list[Problem], *,
                 by: str, weights: dict[str, float] | None = None) -> pd.DataFrame:
    """One value of each of ``attrs`` (community, district, area type) per ``keys``, and the key's first file row
    (``_row``), the same whatever the order of ``df``'s rows.

    Where the rows of a key agree (the usual case) that value is kept. Where they differ, the value given by the most
    rows (``by="rows"``: a long form's indicator rows) or sources (``by="sources"``: one row per source) is kept; a
    tie goes to the value whose sources weigh more in the configuration (``weights``), then to the first in text
    order. Each such choice is reported (a :class:`Problem` at the key's first row and a log warning) with the
    worker, the period and every value with the rows or sources that give it."""
    grouped = df.groupby(keys, sort=False, dropna=False)
    res = grouped.agg({**{c: "first" for c in attrs}, "_row": "min"})
    if not attrs:
        return res
    counts = grouped[attrs].nunique()
    for c in attrs:
        clashing = counts.index[counts[c] > 1]
        if not len(clashing):
            continue
        sub = df.set_index(keys).loc[clashing]
        for key, g in sub.groupby(level=list(range(len(keys))), sort=True):
            key = key if isinstance(key, tuple) else (key,)
            vals = g[c].astype("string").str.strip()
            who = (g["source"].astype(str) if by == "sources" and "source" in g else g["_row"].astype(int))
            rank = []
            for v in sorted(set(vals.dropna()) - {""}):
                mask = (vals == v).fillna(False).to_numpy()
                givers = sorted(who[mask].tolist())
                weight = sum(float((weights or {}).get(str(x), 0.0)) for x in givers) if by == "sources" else 0.0
                rank.append((-len(givers), -weight, v, givers))
            rank.sort(key=lambda t: (t[0], t[1], t[2]))
            chosen = rank[0][2]
            tie = len(rank) > 1 and rank[1][0] == rank[0][0]
            why = ("the one most sources give" if by == "sources" else "the one most of its rows give")
            if tie:
                why = ("a tie: the one its higher-weighted sources give" if by == "sources" and rank[1][1] != rank[0][1]
                       else "a tie: the first in text order")
            keyd = dict(zip(keys, key, strict=True))
            first_row = int(g["_row"].min())
            unit = "source" if by == "sources" else "row"
            shown = " / ".join(f"{v} ({unit}{'s' if len(gv) > 1 else ''} {', '.join(map(str, gv))})"
                               for _, _, v, gv in rank)
            p = Problem(file, first_row, c, f"one {c} for worker {keyd['worker_id']} in {keyd['period']}"
                        + (f" (source {keyd['source']})" if "source" in keyd else "")
                        + f": its {unit}s give different ones — {chosen} kept ({why}); correct the file",
                        found=shown)
            problems.append(p)
            log.warning("%s", p)
            res.loc[key if len(keys) > 1 else key[0], c] = chosen
    return res


def _one_value_per_key(df: pd.DataFrame, keys: list[str], c: str, file: str, problems: list[Problem],
                       what: str) -> pd.Series:
    """The value of ``c`` per ``keys`` when its rows agree, else missing (left out, never one of them) and said —
    the rule of :func:`_merge_duplicates` for values, for a value written on every row of a key (a long form's
    ``resident_rating``)."""
    grouped = df.groupby(keys, sort=False, dropna=False)[c]
    res = grouped.first()
    n = grouped.nunique()
    for key in n.index[n > 1]:
        key_t = key if isinstance(key, tuple) else (key,)
        g = df.loc[(df[keys] == pd.Series(dict(zip(keys, key_t, strict=True)))).all(axis=1)]
        vals = _distinct(g[c])
        rows = sorted(int(r) for r in g["_row"])
        problems.append(Problem(file, rows[0], c, f"one value per {what}: its rows give different ones (value left "
                                "out; write it the same on every row)", found=" / ".join(_shown(v) for v in vals)))
        res.loc[key] = np.nan
    return res
