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

_CN_DIGIT = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_Q = re.compile(r"^(?P<y>\d{4})\s*(?:年\s*(?:第\s*)?(?P<cq>[一二三四1-4])\s*季度?|[-_/ ]?[Qq](?P<q>\d{1,2}))$")
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
# personal names in place cells

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


def _surnames() -> tuple[frozenset[str], frozenset[str]]:
    """The common single-character and the compound surnames of ``resources/privacy/surnames.txt``."""
    from importlib import resources

    text = resources.files("govml").joinpath("resources", "privacy", "surnames.txt").read_text(encoding="utf-8")
    words: dict[str, list[str]] = {}
    section = ""
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif line:
            words.setdefault(section, []).extend(line.split())
    return frozenset(words.get("common", ())), frozenset(words.get("compound", ()))


_SURNAME_SETS: list[tuple[frozenset[str], frozenset[str]]] = []


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
    if not _SURNAME_SETS:
        _SURNAME_SETS.append(_surnames())
    common, compound = _SURNAME_SETS[0]
    if v[:2] in compound:
        return 3 <= len(v) <= 4
    return v[0] in common and len(v) <= 3


def personal_name_cells(df: pd.DataFrame, columns: tuple[str, ...] = ("community", "district"), *,
                        place_share: float = PLACE_SHARE) -> list[tuple[int, str]]:
    """``(position, column)`` of the place cells of ``df`` that hold a person's name, by position then column: cells
    that :func:`looks_like_personal_name` in a column where at least ``place_share`` of the non-empty cells end as a
    place does (a name stands out only among places written with their kind)."""
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
