"""How the skills tables read what a district HR office writes (session 13 dry run).

Only spellings whose meaning is certain are read; the rest is named, never guessed:

* **column names** in Chinese (工号, 社区, 考核周期, 居民评分 …; 课程编号, 学时 …) when our column is absent and
  exactly one of its usual Chinese names is present; an indicator column or long-form ``indicator`` value
  written as the indicator's Chinese ``name`` from the configuration (环境卫生整治 → ``sanitation``);
* **periods** spelt ``2024年第一季度`` / ``2024年一季度`` / ``2024 Q1`` / ``2024-Q1`` → ``2024Q1``, ``2024年3月`` /
  ``2024-3`` / ``2024/03`` / ``2024.3`` → ``2024-03``, ``2024年上半年`` → ``2024H1``, ``2024年度`` → ``2024``, so that
  periods sort in time order (``2024年10月`` after ``2024年9月``); a file mixing quarters and months is said;
  an impossible period (``2024Q5``, ``2024-13``) is a row problem;
* **scores** with full-width digits (``８８``), the indicator's own unit after the number (``85分`` for a
  分 indicator, ``85%`` for a % one, ``30小时``); ``缺考`` / ``缺评`` / ``未考核`` … mean no value (missing, never
  zero; named); grades (``优/良/中/差``) and Chinese numerals are named as not numbers;
* **course cells**: ``￥1,200`` / ``1200元`` / ``免费`` (0) costs, ``6学时`` / ``6小时`` hours, ``不限`` capacity;
* **summary rows** (合计 / 总计 / 小计 / 平均 in the worker id) are named as such and left out.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from govml.config import HEADER_ALIASES
from govml.config import alias_columns as _alias_columns
from govml.io import TOTAL_ROW_WORDS

#: the header names of the two skills tables: govml.config's one table per kind (``govml validate`` reads them too;
#: ``configs/columns.yaml`` may add more under ``aliases.assessments`` / ``aliases.courses``, which the commands apply)
ASSESSMENT_ALIASES: dict[str, tuple[str, ...]] = HEADER_ALIASES["assessments"]
COURSE_ALIASES: dict[str, tuple[str, ...]] = HEADER_ALIASES["courses"]


def alias_columns(df: pd.DataFrame, aliases: dict[str, tuple[str, ...]]) -> tuple[pd.DataFrame, list[str]]:
    """Rename a Chinese column to ours when ours is absent and exactly one of its names is present
    (:func:`govml.config.alias_columns`). Returns the frame (``attrs`` kept) and the notes (``period ← 考核周期``)."""
    return _alias_columns(df, aliases)


# --------------------------------------------------------------------------------------------------
# periods

# a quarter written with any one digit (2024年第五季度 is an impossible quarter, a row problem — not a label that sorts
# after 2024Q4 as text and becomes the "latest" period of the whole file)
_CN_DIGIT = {**{c: k for k, c in enumerate("一二三四五六七八九", start=1)}, **{str(k): k for k in range(10)}}
_Q = re.compile(r"^(?P<y>\d{4})\s*(?:年\s*(?:第\s*)?(?P<cq>[一二三四五六七八九0-9])\s*季度?|[-_/ ]?[Qq](?P<q>\d{1,2}))$")
_Q_FIRST = re.compile(r"^[Qq](?P<q>\d{1,2})[\s\-_/]*(?P<y>\d{4})$")
_M = re.compile(r"^(?P<y>\d{4})\s*(?:年\s*(?P<cm>\d{1,2})\s*月份?|[-/.](?P<m>\d{1,2})|[Mm](?P<mm>\d{1,2}))$")
_H = re.compile(r"^(?P<y>\d{4})\s*(?:年\s*(?P<h>上|下)半年|[Hh](?P<hn>\d))$")
_Y = re.compile(r"^(?P<y>\d{4})\s*(?:年度?)?$")


def canonical_period(value: str) -> tuple[str, str | None, bool]:
    """``(label, kind, ok)``: a recognised spelling in its sortable form (kind ``quarter`` / ``month`` /
    ``half`` / ``year``), or the value as written with kind ``None``; ``ok`` False for an impossible one."""
    v = unicodedata.normalize("NFKC", value).strip()
    m = _Q.match(v) or _Q_FIRST.match(v)
    if m:
        q = _CN_DIGIT[m.group("cq")] if m.groupdict().get("cq") else int(m.group("q"))
        return (f"{m.group('y')}Q{q}", "quarter", True) if 1 <= q <= 4 else (value, "quarter", False)
    m = _M.match(v)
    if m:
        mo = int(m.group("cm") or m.group("m") or m.group("mm"))
        return (f"{m.group('y')}-{mo:02d}", "month", True) if 1 <= mo <= 12 else (value, "month", False)
    m = _H.match(v)
    if m:
        h = 1 if m.group("h") == "上" else 2 if m.group("h") == "下" else int(m.group("hn"))
        return (f"{m.group('y')}H{h}", "half", True) if h in (1, 2) else (value, "half", False)
    m = _Y.match(v)
    if m:
        return m.group("y"), "year", True
    return value, None, True


def read_periods(s: pd.Series) -> tuple[pd.Series, pd.Series, list[str]]:
    """Canonical period labels, a mask of impossible ones, and notes (what was rewritten, mixed kinds)."""
    uniq = pd.unique(s.dropna())
    table = {u: canonical_period(str(u)) for u in uniq}
    out = s.map(lambda v: table[v][0] if v in table else v).astype("string")
    bad = s.map(lambda v: v in table and not table[v][2]).astype(bool)
    notes: list[str] = []
    changed = sorted({f"{u} → {t[0]}" for u, t in table.items() if t[2] and t[0] != str(u)})
    if changed:
        shown = ", ".join(changed[:6]) + (f" and {len(changed) - 6} more" if len(changed) > 6 else "")
        notes.append(f"period: read {shown} (so that periods sort in time order)")
    kinds = {t[1] for t in table.values() if t[2]}
    if len(kinds - {None}) > 1:
        notes.append(f"period: the file mixes {' and '.join(sorted(str(k) for k in kinds - {None}))} labels; each "
                     "label is its own period (not merged), and 'latest' is by text order — check them")
    if None in kinds and len(kinds) > 1:
        odd = sorted(str(u) for u, t in table.items() if t[1] is None)[:5]
        notes.append(f"period: label(s) {', '.join(odd)} are no year-quarter / year-month; they sort as text")
    return out, bad, notes


# --------------------------------------------------------------------------------------------------
# numbers

ABSENT = ("缺考", "缺评", "未考核", "未考", "免考", "缺席", "请假", "未参加", "未参评", "未评")
GRADES = frozenset("优良中差") | {"优秀", "良好", "中等", "合格", "不合格", "较差", "基本合格", "及格", "不及格",
                                  "A", "B", "C", "D", "E"}
_UNIT_TAILS = {"分": ("分",), "%": ("%", "％"), "小时": ("小时", "h", "H"), "场": ("场", "场次", "次"),
               "个": ("个", "项"), "次": ("次",), "人": ("人", "人次")}
_NUM = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")


def read_scores(raw: pd.Series, unit: str | None) -> tuple[pd.Series, pd.Series, pd.Series, int]:
    """``(values, not_a_number, absent, rewritten)`` for an indicator column in ``unit``.

    Numbers stay as they are; text cells are read when certain (full-width digits, the unit after the
    number; ``unit=None``, a column whose unit is not known: 分 or %); ``absent`` marks cells that say the
    worker was not assessed (缺考 …: no value)."""
    vals = pd.to_numeric(raw, errors="coerce")
    txt = raw.astype("string").str.strip()
    todo = vals.isna() & txt.notna() & (txt != "")
    absent = pd.Series(False, index=raw.index)
    n_rewritten = 0
    if todo.any():
        tails = ("分", "%", "％") if unit is None else _UNIT_TAILS.get(unit, (unit,) if unit else ())
        for i, t in txt[todo].items():
            v = unicodedata.normalize("NFKC", str(t)).strip()
            if v in ABSENT:
                absent[i] = True
                continue
            for tail in tails:
                if v.endswith(tail):
                    v = v[: -len(tail)].strip()
                    break
            if _NUM.match(v):
                vals[i] = float(v)
                n_rewritten += 1
    notnum = vals.isna() & txt.notna() & (txt != "") & ~absent
    return vals.astype(float), notnum.fillna(False).astype(bool), absent, n_rewritten


def number_expectation(found: str) -> str:
    """What a non-number cell needed, with why it was not read when that is telling."""
    v = unicodedata.normalize("NFKC", found).strip()
    if v in GRADES:
        return ("a number (value left out; grades like 优/良/中/差 are not turned into scores — their points "
                "differ between offices: write the points)")
    if re.fullmatch(r"[零〇一二三四五六七八九十百点]+(?:分)?", v):
        return "a number written in digits (value left out)"
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+,\d+", v):
        return "a number without a comma (value left out: 1,2 may be 1.2 or 12)"
    return "a number (value left out)"


_SUMMARY = re.compile(rf"^(?:{TOTAL_ROW_WORDS})")  # the words io skips as footer rows


def summary_rows(ids: pd.Series) -> pd.Series:
    """Rows whose worker id says they are a total or average (合计, 平均分, 小计 …), not a worker."""
    return ids.astype("string").str.strip().str.match(_SUMMARY).fillna(False).astype(bool)


# --------------------------------------------------------------------------------------------------
# course cells

_MONEY = re.compile(r"^(?:[￥¥]|RMB|人民币)?\s*(?P<n>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?:元|块)?(?:/人)?$")
_HOURS = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*(?:学时|课时|小时|h|H)?$")
FREE = ("免费", "无费用", "不收费")
UNLIMITED = ("不限", "不限制", "无限制", "无上限")


def read_money(value: object) -> float:
    """A cost cell as yuan (NaN when it is none of the certain spellings)."""
    if value is None or value != value:
        return np.nan
    if isinstance(value, (int, float, np.number)):
        return float(value)
    v = unicodedata.normalize("NFKC", str(value)).strip()
    if v in FREE:
        return 0.0
    m = _MONEY.match(v)
    return float(m.group("n").replace(",", "")) if m else np.nan


def read_hours(value: object) -> float:
    if value is None or value != value:
        return np.nan
    if isinstance(value, (int, float, np.number)):
        return float(value)
    m = _HOURS.match(unicodedata.normalize("NFKC", str(value)).strip())
    return float(m.group("n")) if m else np.nan


def is_unlimited(value: object) -> bool:
    return value is not None and value == value and unicodedata.normalize("NFKC", str(value)).strip() in UNLIMITED


# --------------------------------------------------------------------------------------------------
# personal names in place cells: the rule lives in govml.schemas (`govml validate` refuses the same cells)

from govml.schemas import PLACE_SHARE, ends_as_place, looks_like_personal_name, personal_name_cells  # noqa: E402,F401
