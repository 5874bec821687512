"""Find and mask personal data in Chinese text.

Everything govml logs, stores in MLflow, writes as an example or sends over the wire goes through
:func:`mask` first. Each kind of personal data becomes a typed placeholder, so downstream counts
("how many messages leave a phone number") still work::

    >>> mask("您好，我是3栋2单元501室业主，电话138-1234-5678，车牌湘A·12345")
    '您好，我是<DOOR>业主，电话<PHONE>，车牌<PLATE>'

Kinds and placeholders (:data:`PLACEHOLDERS`):

========== ============== ==============================================================
kind       placeholder    what is found
========== ============== ==============================================================
EMAIL      ``<EMAIL>``    ``name@example.com``
IDCARD     ``<IDCARD>``   18-digit resident ID with a valid ISO 7064 MOD 11-2 check digit,
                          a known province code and a real birth date; 15-digit old IDs
                          only right after 身份证/证件号
BANKCARD   ``<BANKCARD>`` 16–19 digits (spaces/dashes every 4 allowed) passing Luhn, not
                          right after an order/case-number word (工单号, 编号, 订单号 …)
PHONE      ``<PHONE>``    mobile 1[3-9]x xxxx xxxx, optional +86/0086/86, spaces or dashes
TEL        ``<TEL>``      landline with area code: 010-12345678, (0731)88886666,
                          0731 8888 6666, extension 转123 / -123
PLATE      ``<PLATE>``    province abbreviation + letter + 5 (new-energy: 6) characters,
                          with or without ``·`` or a space
DOOR       ``<DOOR>``     the door part of an address: 3栋2单元501室, 12号楼3单元402,
                          5幢301室, 2单元501, 1102室 (the estate or road name is kept)
NAME       ``<NAME>``     a personal name found from a context cue, never from a model:
                          a self-introduction (我叫X, 姓名：X, 联系人：X, 户主X, 名叫X,
                          户名：X, 反映人/来电人/留言人/求助人/经办人X, 有个叫X的; 我是X, 本人X, 我母亲X only with a delimiter after the
                          name or a self-introduction word: 我是张伟家住…, 本人孙国庆要求…,
                          我是吴桂兰的儿子), a title after the name (X先生, X女士, X阿姨, X师傅, X老师,
                          X书记, X局长, X主任, X经理 …: only the name is masked, the title
                          is kept; officials' names too), a title before the name
                          (局长卢鸣鸿在, 社区书记王五，, 民警张晖、: a delimiter, a title or
                          a word that follows names must come next; or any word of jieba's
                          dictionary when the name is no word of it: 局长黄淼带头,
                          董事长罗平卫纠集, but 书记高度重视; a word of
                          ``resources/privacy/follow_words.txt`` — 拒不, 出警, 卷款 … — also
                          after a name that is a word tagged as a person's name, a noun or
                          a place: 队长严冬一起, 村支书高山拒不), a role word that is no
                          title before the name (业主张伟多次, 老板李强拖欠, 村民罗乔云、:
                          a common surname, no dictionary word; session 16: 管家, 社工, 工人,
                          同事, 法官, 村文书, 楼长, 村医, 受害人 … too, 于 (业主于海家), and a
                          word tagged as a person's name before a word that follows names:
                          老板李强说), the names listed after a
                          found one (联系人：张强、李丽; 、和及与), a quoted user name in a
                          reply (“X”网友); then a found name again in the same text
                          (组长何伟明有事，何伟明到了后) and its given name right before a
                          title (李炼红 … 炼红书记). The name must be a surname of
                          ``resources/privacy/surnames.txt`` (single or compound) and at
                          most two given-name characters. Already anonymised names (王某)
                          are left, and so is a "name" its text also writes before an
                          organisation word (温斯顿老师 … 温斯顿英语, 金太阳幼儿园).
                          Session 18: a list of names after 本组/该组/本村 (本组肖和均，
                          肖利红，…), a name before 是 after a kinship cue (我父亲陈国华是),
                          given names that start with 和 为 自 以 之 其 (刘和平, 李为民).
                          Session 19: 负责人：/经手人/控告人/信访人 X, 居民/接线员/老伴/其妻 X,
                          姓名：李 娜, X，男，…, 我就是X，, 去找X，, 自称“X”, 老张说, 小周每次,
                          杨老板, 司机金山把, 村支书向阳把, 出纳程芳一起, 医生朱红梅开, and
                          Tibetan and Uyghur names (扎西顿珠, 阿依古丽, 买买提·艾力).
                          Session 20: 司机金山每天, 门卫长江不让 (每天 每次 不让 不准 不许 不给 after such a word
                          name), 法人易兴祖， / 业主符金屏， (a boundary-tier surname and two characters before
                          、。，；).
========== ============== ==============================================================

Look-alikes are left alone: dates (20190228, 2019-02-28), amounts (12000元, ¥3,500.00), order and
case numbers (they fail the validity checks or follow an order-number word), years, area sizes,
times, postcodes; for names: 我是业主, 我是A市居民, 王府井, 张家界, 老师们, 语文老师, 保安师傅, 门卫大爷,
place names, titles without a name, words after a title (书记高度重视, 局长明查暗访, 业主任何,
局长信箱, A市长房…, 局长安排人员, 主任马上安排, 局长曾多次承诺, 所长石沉大海, 局长于百忙之中,
局长高姿态处理), words after a role (业主大会, 业主张贴的告示, 未经业主许可, 会计师). Full-width
characters (１３８…) are normalised for detection; the original span is masked. The scan is
fast: text without a digit, ``@``, a plate prefix or a name cue (one scan for all of them, see
:data:`_GATE_ALL`) is returned at once.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from importlib import resources
from itertools import accumulate
from typing import TYPE_CHECKING, NamedTuple

from govml.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["KINDS", "PLACEHOLDERS", "PIIMatch", "contains_pii", "find", "mask", "mask_joined", "mask_many",
           "mask_series"]

#: Kinds in priority order (an earlier kind wins where two candidates overlap).
KINDS: tuple[str, ...] = ("EMAIL", "IDCARD", "BANKCARD", "PHONE", "TEL", "PLATE", "DOOR", "NAME")
#: The placeholders :func:`mask` writes, one per kind, in the order of :data:`KINDS`.
PLACEHOLDERS: tuple[str, ...] = tuple(f"<{k}>" for k in KINDS)
_PLACEHOLDER = dict(zip(KINDS, PLACEHOLDERS, strict=True))


@dataclass(frozen=True, slots=True)
class PIIMatch:
    """One piece of personal data: its kind, its span in the original text and the text itself."""

    kind: str
    start: int
    end: int
    value: str


# --- normalisation ---------------------------------------------------------------------------
# Full-width ASCII (U+FF01..U+FF5E) -> ASCII and the ideographic space -> space: one character for
# one character, so spans found in the normalised text are spans of the original.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
for _dash in (0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212):  # hyphens and dashes: 0731—8556…
    _FULLWIDTH[_dash] = 0x2D
_HAS_FULLWIDTH = re.compile("[\uff01-\uff5e\u3000\u2010-\u2015\u2212]")

_PROV = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# The cheap gate on the raw text: every kind needs three digits in a row (ASCII or full-width),
# an '@' or a plate prefix. Most messages stop here.
_GATE = re.compile(rf"[0-9０-９]{{3}}|[@＠]|[{_PROV}]\s?[·•.．\-－]?\s?[A-Za-zＡ-Ｚａ-ｚ]")
# The same gate as one scan that starts with a character class (the regex engine skips ahead
# fast): a digit followed by two more, an '@', or a letter right after a plate prefix. A text has
# a match of _GATE_SCAN exactly when it has one of _GATE; matches never include the separators of
# mask_joined (_JOIN_SEPS), so the scan can run over many joined texts.
_D, _L, _DOT = "0-9０-９", "A-Za-zＡ-Ｚａ-ｚ", r"·•.．\-－"
_GATE_SCAN_FIRST = rf"{_D}@＠{_L}"
_GATE_SCAN_BODY = (
    rf"(?<=[{_D}])(?=[{_D}]{{2}})|(?<=[@＠])|(?<=[{_L}])(?:"  # (the plate look-behinds only after a letter)
    + "|".join(rf"(?<=[{_PROV}]{mid}[{_L}])"
               for mid in ("", r"\s", f"[{_DOT}]", r"\s\s", rf"\s[{_DOT}]", rf"[{_DOT}]\s", rf"\s[{_DOT}]\s"))
    + ")"
)
_GATE_SCAN = re.compile(f"[{_GATE_SCAN_FIRST}](?:{_GATE_SCAN_BODY})")
_SEP = "\x00"
_JOIN_SEPS = frozenset(map(chr, (*range(0x00, 0x09), *range(0x0E, 0x1C))))
# Numbers long enough to be a phone, landline, ID or card number: ≥ 7 digits, single separators.
# The number patterns run only in a window around each such cluster.
_CLUSTER = re.compile(r"[0-9](?:[\s\-()]{0,2}[0-9]){6,}")
# Where a door number may be: a building/unit word after a digit or letter, a digit before 室.
# The door pattern runs only in a window around each hint.
# (Written to start with one character class, so the regex engine skips ahead fast; the same
# matches as [0-9A-Za-z一…十]\s?(?:号楼|…)|[0-9]\s?室|[0-9]-[0-9]{1,2}-[0-9]{3}.)
_DOOR_HINT = re.compile(
    r"[0-9A-Za-z一二三四五六七八九十]"
    r"(?:\s?(?:号楼|栋|幢|座|号栋|单元)|(?<=[0-9])\s?室|(?<=[0-9])-[0-9]{1,2}-[0-9]{3})"
)

# --- patterns (run on normalised text) --------------------------------------------------------
_ORDER_WORDS = re.compile(
    r"(?:工单|单号|编号|订单|案号|案件号|流水号|批次|发票|快递|运单|合同号|文号|序号|批号|票号|条码|登记号|受理号)"
    r"(?:号码|号)?\s*(?:[:：是为]\s*)?$"
)
_ID_WORDS = re.compile(r"(?:身份证|证件|身份号|公民号)")

# The local part starts where a run of local-part characters starts (linear time on long runs).
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}"
    r"\.[A-Za-z]{2,24}(?![A-Za-z])"
)
_ID18 = re.compile(
    r"(?<![0-9A-Za-z])[1-9][0-9]{5}\s?(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:[0-2][0-9]|3[01])"
    r"\s?[0-9]{3}[0-9Xx](?![0-9A-Za-z])"
)
_ID15 = re.compile(
    r"(?<![0-9A-Za-z])[1-9][0-9]{5}[0-9]{2}(?:0[1-9]|1[0-2])(?:[0-2][0-9]|3[01])[0-9]{3}(?![0-9A-Za-z])"
)
_BANK = re.compile(
    r"(?<![0-9])[3-69][0-9]{3}(?:[ \-]?[0-9]{4}){2}[ \-]?[0-9]{4,7}(?:[ \-][0-9]{1,3})?(?![0-9])"
)
_PHONE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)\s?86[\s\-]?|86[\s\-]?|\(\+?86\)\s?)?"
    r"1[3-9](?:[\s\-]?[0-9]){9}(?![0-9])"
    # an amount or a count, not a phone: 13812345678元
    r"(?!\s?(?:元|万|亿|平方|米|吨|kg|KG|公斤|%))"
)
_AREA = r"0(?:10|2[0-9]|[3-9][0-9]{2})"
_TEL = re.compile(
    rf"(?<![0-9])(?:\(\s?{_AREA}\s?\)|{_AREA})\s?-{{0,2}}\s?[1-9][0-9]{{2,3}}[\s\-]?[0-9]{{4}}"
    r"(?:\s?(?:转|-|分机|ext\.?|EXT\.?)\s?[0-9]{1,5})?(?![0-9])"
)
_PLATE = re.compile(
    rf"[{_PROV}]\s?[·•.\-]?\s?[A-Za-z]\s?[·•.\-]?\s?"
    r"(?:[A-Za-z0-9]{5,6}|[A-Za-z0-9]{4}[挂学警港澳])(?![A-Za-z0-9])"
)
# After a bare room number (no 室/房/号): what would make it a quantity, not a door.
_NOT_UNIT = (
    r"(?![0-9]|\.[0-9]+\s?(?:平|㎡|m|M|米|元|万|%)|\s?(?:平|㎡|m|M|米|元|万|块|人|户|个|辆|年|月|日|次|号线|路|公里|千|余|多|家|台|名|位"
    r"|栋|幢|号楼|单元|%|分|度|小时|元))"
)
_ROOM = rf"[0-9]{{3,4}}(?:\s?(?:室|房|号(?![线楼院]))|{_NOT_UNIT})"
_CN_NUM = "[一二三四五六七八九十]{1,3}"
_DOOR = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    # building [+ unit] [+ floor] + room: 3栋2单元501室, 12号楼3单元402, 5幢301室, 8号楼1102, A3栋…,
    # 三栋二单元501
    rf"(?:[A-Za-z]?[0-9]{{1,3}}|[A-Za-z]|{_CN_NUM})\s?(?:号楼|栋|幢|座|号栋)\s?"
    rf"(?:(?:[0-9]{{1,2}}|{_CN_NUM})\s?单元\s?)?(?:(?:[0-9]{{1,2}}|{_CN_NUM})\s?(?:楼|层)\s?)?-?{_ROOM}"
    # unit + room: 2单元501室, 2单元501
    rf"|(?:[0-9]{{1,2}}|{_CN_NUM})\s?单元\s?(?:[0-9]{{1,2}}\s?(?:楼|层)\s?)?-?{_ROOM}"
    # a bare room: 1102室
    r"|[0-9]{3,4}\s?室(?![内外])"
    ")"
    # building-unit-room right after an estate name or 住: 翠湖苑3-2-501, 住3-2-501
    r"|(?<=[区苑园城村寓厦院期庭居住])[0-9]{1,2}-[0-9]{1,2}-[0-9]{3,4}(?![0-9\-年月日元万])(?:\s?(?:室|号|房))?"
)

_PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 "
    "71 81 82 91".split()
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_DIGITS_ONLY = re.compile(r"[^0-9Xx]")


def id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an 18-digit resident ID's first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _valid_birth(y: int, m: int, d: int) -> bool:
    try:
        born = date(y, m, d)
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def _valid_id18(digits: str) -> bool:
    if len(digits) != 18 or digits[:2] not in _PROVINCE_CODES:
        return False
    if not _valid_birth(int(digits[6:10]), int(digits[10:12]), int(digits[12:14])):
        return False
    return id_check_digit(digits[:17]) == digits[17].upper()


def _valid_id15(digits: str) -> bool:
    return (
        len(digits) == 15
        and digits[:2] in _PROVINCE_CODES
        and _valid_birth(1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))
    )


def luhn_ok(digits: str) -> bool:
    """Whether a digit string passes the Luhn check (bank card numbers do)."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = ord(c) - 48
        if i % 2:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _after_order_word(norm: str, start: int, lo: int = 0) -> bool:
    return _ORDER_WORDS.search(norm, max(lo, start - 10), start) is not None


def _windows(pattern: re.Pattern[str], norm: str, before: int, after: int,
             starts: list[int] | None = None) -> list[tuple[int, int, int, int]]:
    """Merged windows ``(start, end, text_start, longest)`` around each match of a cheap hint pattern
    (never cutting a number in two); ``longest`` is the length of the longest match in the window.
    With ``starts`` (:func:`mask_joined`: where each text of ``norm`` starts, then
    ``len(norm) + 1``) a window never leaves the text its match lies in."""
    windows: list[tuple[int, int, int, int]] = []
    append = windows.append
    lo, hi = 0, (len(norm) if starts is None else -1)
    # the window being built: (w_start, w_end, w_lo, w_long); appended when the next one is apart
    w_start = w_end = w_lo = w_long = -1
    for m in pattern.finditer(norm):
        ms, me = m.span()
        if ms >= hi and starts is not None:  # a match in a later text
            j = bisect_right(starts, ms) - 1
            lo, hi = starts[j], starts[j + 1] - 1
        start = ms - before
        if start < lo:
            start = lo
        end = me + after
        if end > hi:
            end = hi
        while end < hi and norm[end].isdigit():
            end += 1
        if start <= w_end and w_start >= 0:
            w_end, w_lo = end, lo
            if me - ms > w_long:
                w_long = me - ms
        else:
            if w_start >= 0:
                append((w_start, w_end, w_lo, w_long))
            w_start, w_end, w_lo, w_long = start, end, lo, me - ms
    if w_start >= 0:
        append((w_start, w_end, w_lo, w_long))
    return windows


# --- personal names ------------------------------------------------------------------------------
# Names are found from context cues, never from a model: a self-introduction (我叫X, 姓名：X,
# 联系人：X, 户主X, 名叫X; 我是X / 本人X only when a delimiter follows), a title after the name
# (X先生, X女士, X阿姨, X师傅, X老师, X书记, X局长, X经理 …; the title is kept) or a quoted user name
# in a reply (“X”网友). A candidate must be a surname from resources/privacy/surnames.txt followed by
# at most two given-name characters (none before a title), none of them a function word.


def _resource_words(name: str) -> dict[str, list[str]]:
    """Words of a resource file by ``[section]`` (words before any section under ``""``)."""
    text = resources.files("govml").joinpath("resources", "privacy", name).read_text(encoding="utf-8")
    out: dict[str, list[str]] = {"": []}
    section = ""
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            out.setdefault(section, [])
        elif line:
            out[section].extend(line.split())
    return out


_SURNAME_WORDS = _resource_words("surnames.txt")
#: single-character surnames accepted before a title whatever precedes them
_SURNAMES_COMMON = frozenset(_SURNAME_WORDS["common"])
#: the other single-character surnames (before a title only after a non-Chinese character or a cue)
_SURNAMES_BOUNDARY = frozenset(_SURNAME_WORDS["boundary"]) - _SURNAMES_COMMON
_SURNAMES_COMPOUND = frozenset(_SURNAME_WORDS["compound"])
_NOT_NAMES = frozenset(_resource_words("not_names.txt")[""])
# Characters that do not occur in a given name here: function words, and characters that follow a
# name (男/女, 住, 电话 …), numerals, some that start a title (先生, 阿姨, 老师 …; a title right
# after a surname is also checked by _TITLE_AT).
_GIVEN_NO = frozenset(
    "的了在是和与及或把被让给对向从请找问说等也都就还又再很不没这那个们吗呢吧啊着过于因为所将已其之而且并但"
    "若某男女今现住系电手联身反投举先业家区村镇路街市县省局院所楼栋号室门店厂司物社委会部处站队组科班校车却仅"
    "房场老阿叔姨伯爷奶婆妈哥姐师傅记士十百千万年月日我你他她它您课姓人工婚口"
)
# The characters never in a given name even right before a delimiter after a strong cue
# (联系人：石向): the other characters of _GIVEN_NO do occur in names.
_GIVEN_NEVER = frozenset("的了们吗呢吧啊着过某人工课姓我你他她它您叫是在")
# Surnames that are function words right after a title or a list separator (纪委书记和保安, 局长向,
# 书记于百忙之中) or alone before a title (向书记反映): never a name there.
_NOT_SURNAME_AFTER = frozenset("和与及向于对给跟同把被让将在为从")
# What follows 向/和 + title when they are a preposition, not a surname (向市长反映, 和市长信箱).
_ADDRESS_WORD = re.compile(
    "(?:副|总|老)?[\u4e00-\u9fff]{2,3}?(?:反映|反应|投诉|举报|写信|汇报|求助|咨询|请示|申诉|报告|建议|提出|信箱|热线|"
    "信访|留言|请求|问好|致敬|说明|表达|诉说|反馈|求救|呼吁|申请|寻求|说|讲|提|问|求)"
)
# What may stand right before a boundary-tier surname at a title (besides a non-Chinese character).
_NAME_PREV_OK = frozenset("的与和找请问给向对跟同叫是位名个被让及等、称即")
_TITLES = (
    "先生", "女士", "小姐", "阿姨", "大爷", "大妈", "大娘", "大叔", "大姐", "大哥", "叔叔", "奶奶", "爷爷", "伯伯",
    "婆婆", "师傅", "老师", "同志", "医生", "律师", "警官", "书记", "局长", "主任", "经理", "董事长", "科长", "处长",
    "所长", "院长", "校长", "村长", "镇长", "区长", "市长", "县长", "厅长", "部长", "组长", "队长", "站长", "乡长",
    "社长", "会长", "主席", "总监", "秘书长", "大队长", "中队长", "支队长",
    "老板", "老板娘",  # session 19: 施工队的杨老板说 (a role before a name too: _ROLE_TITLES)
)
# Titles that may stand right BEFORE a name (局长卢鸣鸿, 社区书记王五, 民警张晖): each checked on the real
# message board (附件3/附件4), where a title is followed by a name far more often than by a word that
# starts with a surname (书记高度重视, 局长明查暗访, 主任何时 are kept by the rules of
# _name_after_title). 市长/区长/县长 not right after a place code (A市长房…, A7县长龙街道: a place name).
_PRE_TITLES = (
    "局长", "书记", "主任", "站长", "所长", "科长", "队长", "镇长", "乡长", "村长", "组长", "经理", "董事长",
    "主席", "处长", "院长", "校长", "厅长", "部长", "民警", "网格员", "支书", "负责人", "法人代表", "会长",
    "县长", "市长", "区长",  # not after a place code: A市长房…, A7县长龙街道, K2区长丰 (see _name_candidates)
    "大队长", "中队长", "支队长",
    "园长",  # session 17: 园长赵敏私自
    # session 19: 经手人戴军签了字 (found from 手: _CUE_TRIGGER); from 附件3/附件4: 控告人潘平安, 信访人黄尊富，
    "经手人", "控告人", "信访人",
)
# Session 19: titles before a name that a form writes with a colon (负责人：龚晓燕, 经手人：戴军, 控告人:潘平安,
# 被控告人:彭凌，): the name is read as right after the title (_name_after_title; 被控告人:西地省A市 is none).
_COLON_TITLES = ("负责人", "经手人", "控告人", "信访人")
# Role words that are no title (session 15): a name may follow them (业主张伟, 老板李强, 会计王芳, 保安刘军,
# 主治医生陈明, 村民罗乔云, 法人徐平), but an ordinary word follows them more often (业主大会, 业主陆续,
# 保安公司, 村民代表). After one of them a name is taken only with a common or compound surname and
# the evidence of a name after a title (a delimiter, a title, a word that follows names, a word of the
# dictionary after a name that is none), never a word of jieba's dictionary before a delimiter or a
# one-character follower (业主张贴的告示, 保安陈述了), never 于 (工作人员于2019年). Each word was read on
# 附件3/附件4 (docs/benchmarks.md, session 15). 业主 not before 任 (物业主任), 会计 not before 师.
_ROLES = (
    "业主", "老板", "老板娘", "会计", "出纳", "保安", "护士", "店主", "店长", "快递员", "司机", "教练", "队员",
    "辅警", "协警", "租客", "房东", "邻居", "员工", "市民", "家长", "患者", "保洁员", "施工员", "包工头", "工作人员",
    "承办人", "村民", "住户", "法人", "业务员", "置业顾问", "门卫", "干部", "股东", "病人",
    # session 16: the six left out for speed in session 15 (found with str.find, see _FIND_ROLES) but 来电人
    # (a strong cue now), and roles and titles of case texts and replies: 法官王敏, 村文书周树仁, 片警赵刚,
    # 网格长张丽, 楼长陈华, 村医刘明, 调解员李红, 受害人陈小红, 报案人赵磊, 我朋友陈强 (经办人: a strong cue)
    "管家", "社工", "工人", "同事", "同学", "朋友", "主管", "法官", "片警", "文书", "楼长", "网格长", "村医",
    "调解员", "指导员", "教导员", "受害人", "被害人", "报案人",
    # session 17: 客服周婷说, 辅导员王强要求, 租户林森在
    "客服", "辅导员", "租户",
    # session 19: 居民侯艳林 (附件3), 接线员夏雨态度, 安全员韦东都, 承包人龙飞用; a spouse named after 其 or 老伴
    # (其妻李翠兰冒领, 我和老伴孔凡英都)
    "居民", "接线员", "安全员", "承包人", "老伴", "其妻", "其妻子", "其夫", "其丈夫",
)
# The character each role word is found from by the gate: its least frequent one in the generated messages
# and 附件3 (session 15 counts: 递 28, 练 30, 板 236 … 主 3699; 业 7787), or one the gate looks for anyway
# (民 of 民警, 户 of 户主, 长, 法). Left out for what they cost the gate against the names they bring on
# 附件3/附件4 (none or one): 管家, 社工, 同事, 工人, 来电人, 经办人 (管 家 工 来 电 办 事 are frequent).
_ROLE_TRIGGER = {
    "业主": "主", "老板": "板", "老板娘": "娘", "会计": "计", "出纳": "纳", "保安": "保", "护士": "士", "店主": "店",
    "店长": "店", "快递员": "递", "司机": "机", "教练": "练", "队员": "队", "辅警": "辅", "协警": "协", "租客": "客",
    "房东": "东", "邻居": "邻", "员工": "员", "市民": "民", "家长": "长", "患者": "者", "保洁员": "洁", "施工员": "员", "包工头": "包",
    "工作人员": "员", "承办人": "承", "村民": "民", "住户": "户", "法人": "法", "业务员": "员", "置业顾问": "顾",
    "门卫": "卫", "干部": "干", "股东": "股", "病人": "病", "医生": "医", "老师": "师", "律师": "律",
    # session 16: from a character the gate looks for already (官 of 警官, 长, 医, 员, 经, 主) or a rare one
    # (朋 片 文 害 案: 0-196 in the generated 20,000)
    "朋友": "朋", "主管": "主", "法官": "官", "片警": "片", "文书": "文", "楼长": "长", "网格长": "长",
    "村医": "医", "调解员": "员", "指导员": "员", "教导员": "员", "受害人": "害", "被害人": "害", "报案人": "案",
    "客服": "客", "辅导员": "员", "租户": "户",
    "居民": "民", "接线员": "员", "安全员": "员", "承包人": "承", "老伴": "伴", "其妻": "妻", "其妻子": "妻",
    "其夫": "夫", "其丈夫": "夫",
}
# Role words found with str.find instead (each character frequent: 管 家 社 工 同 事 学; _find_cue_hits): over
# the joined texts of mask_joined that is one C-level scan a word.
_FIND_ROLES = ("管家", "社工", "工人", "同事", "同学")
# Titles that are roles too (老师贺敏体罚学生, 主治医生陈明说, 律师钟华收了): a name after them as after a role.
_ROLE_TITLES = ("医生", "老师", "律师", "老板", "老板娘")
_ROLE_NOT_BEFORE = {"业主": "任", "会计": "师", "村医": "生"}
_STRONG_CUES = (
    "我叫", "我名叫", "名叫", "我的名字叫", "我的名字是", "本人叫", "本人姓名", "姓名", "联系人", "户主", "申请人",
    "投诉人", "举报人", "当事人", "收件人", "收货人", "被申请人", "被投诉人", "户名", "开户名", "账户名", "收款人",
    # session 16: who wrote or called in, as 投诉人 (反映人：李桂兰, 来电人周敏反映, 留言人王建平，), who handled it
    # (经办人：孙强); 个叫 (有个叫王强的)
    "反映人", "来电人", "留言人", "来信人", "诉求人", "求助人", "经办人", "个叫",
)
# Strong cues found with str.find (反 映 来 电 人 frequent) and the character each other new one is found
# from (_trigger would take a frequent one: 来 of 来信人, 求 of 诉求人, 个 of 个叫).
_FIND_STRONG = ("反映人", "来电人")
_CUE_TRIGGER = {"来信人": "信", "诉求人": "诉", "求助人": "助", "个叫": "叫", "留言人": "留", "经办人": "经",
                "经手人": "手", "控告人": "控", "信访人": "访"}
_WEAK_CUES = (
    "我是", "本人",
    *(f"{who}{kin}" for who in ("我", "我的") for kin in ("母亲", "父亲", "妈妈", "爸爸", "儿子", "女儿", "丈夫",
                                                        "妻子", "爱人", "哥哥", "姐姐", "弟弟", "妹妹")),
)
_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
# Session 18: a list of names right after 本组/该组/同组/本村/该村 (本组肖和均，肖利红，肖运鸿，陈松长四家人; 附件4):
# two or more names, each a common or compound surname and one or two characters, separated by ，、, (_list_after_cue).
_LIST_CUES = ("本组", "该组", "同组", "本村", "该村")
_LIST_ITEM = ("(?:[" + "".join(sorted(_SURNAME_WORDS["common"])) + "]|" + "|".join(sorted(_SURNAME_WORDS["compound"]))
              + ")")
# (\u3000 here and ＂ in _ROLE_SUR: the gate reads the raw text, where a space or quote mark may still be full-width;
# session 20)
_LIST_CUE_REST = f"{_LIST_ITEM}[{_HAN}]{{1,2}}[，、,][ \t\u3000]?{_LIST_ITEM}"
# Session 19: a common surname after 小/老 as a name (网格员小周每次, 老李家的狗, 隔壁的老王说; the surname is masked):
# before a delimiter, 家, 每次 or a one-character word of _XIAO_FOLLOW, after no Chinese character or one of _XIAO_PREV
# (not 奔小康，, 一点小钱都不给: _name_xiao).
_XIAO_FOLLOW = "说把却又也让就还都对将被曾已仍便竟称讲家"
_XIAO_PREV = frozenset("的员是找叫和跟给让被与同对问请个位户长主民工机卫板医师客")
# The words of jieba's dictionary (at least 20 frequent) of 小/老 and a common surname that are no way of calling a
# person (小麦 wheat, 小康 well-off, 老赖 defaulter …; read from the dictionary in session 19: 小张, 老李, 老马, 老高 are
# kept).
_XIAO_NOT = frozenset(("小孔", "小康", "小牛", "小钱", "小麦", "小龙", "小叶", "小童", "小许", "老牛", "老赖", "老庄",
                       "老童", "老尚"))
_XIAO_AT = (f"[小老][{''.join(sorted(_SURNAMES_COMMON))}](?=[{_XIAO_FOLLOW}，。、；,;!！?？]|每次)")
# Session 19: parts of Tibetan and Uyghur names as written in Chinese (扎西顿珠, 次仁卓玛, 阿依古丽, 买买提·艾力): two
# or more of them in a row (a middle dot between two allowed) are a name wherever they stand (_ETHNIC). Each part is
# rare outside names, and two in a row rarer still (和平措施, 中央金库 hold one).
_ETHNIC_PARTS = (
    "扎西", "顿珠", "次仁", "卓玛", "格桑", "达瓦", "多吉", "旺堆", "平措", "央金", "拉姆", "德吉", "曲珍", "益西", "仁增",
    "洛桑", "丹增", "索朗", "白玛", "强巴", "边巴", "普布", "米玛", "巴桑", "次旦", "旦增", "才让", "桑吉", "卓嘎", "央宗",
    "措姆", "旺姆", "德庆", "琼达", "拉巴", "尼玛", "罗布", "嘉措", "加措", "群培", "泽仁", "仁青", "贡嘎", "扎巴",
    "阿依", "古丽", "买买提", "艾力", "阿不都", "阿布都", "阿卜杜", "吐尔逊", "艾买提", "帕提", "迪丽", "热娜", "努尔",
    "依明", "热依", "阿迪力", "艾尔肯", "麦麦提", "库尔班", "玉苏甫", "热合曼", "吾斯曼", "米娜", "热巴", "阿力木",
    "依力", "艾则孜", "木拉提", "卡德尔", "祖丽", "娜扎", "阿迪拉", "艾克拜尔", "沙吾提", "吐逊", "伊力", "哈力克",
)
_ETHNIC_ALT = "|".join(sorted(_ETHNIC_PARTS, key=len, reverse=True))
# The character each part is found from by the gate: its least frequent one in the generated 20,000 and 附件3 (session
# 19 counts: 扎 22, 西 3,461; 玛 10, 卓 41; 多 9,158, 吉 38 …).
_ETHNIC_TRIGGER = {
    "扎西": "扎", "顿珠": "顿", "次仁": "仁", "卓玛": "玛", "格桑": "桑", "达瓦": "瓦", "多吉": "吉", "旺堆": "旺", "平措": "措",
    "央金": "央", "拉姆": "姆", "德吉": "吉", "曲珍": "珍", "益西": "益", "仁增": "仁", "洛桑": "洛", "丹增": "丹", "索朗": "朗",
    "白玛": "玛", "强巴": "巴", "边巴": "巴", "普布": "布", "米玛": "玛", "巴桑": "桑", "次旦": "旦", "旦增": "旦", "才让": "才",
    "桑吉": "桑", "卓嘎": "嘎", "央宗": "宗", "措姆": "姆", "旺姆": "姆", "德庆": "庆", "琼达": "琼", "拉巴": "巴", "尼玛": "尼",
    "罗布": "罗", "嘉措": "措", "加措": "措", "群培": "培", "泽仁": "泽", "仁青": "仁", "贡嘎": "嘎", "扎巴": "扎", "阿依": "阿",
    "古丽": "古", "买买提": "买", "艾力": "艾", "阿不都": "阿", "阿布都": "阿", "阿卜杜": "卜", "吐尔逊": "逊", "艾买提": "艾",
    "帕提": "帕", "迪丽": "迪", "热娜": "娜", "努尔": "努", "依明": "依", "热依": "依", "阿迪力": "迪", "艾尔肯": "艾",
    "麦麦提": "麦", "库尔班": "尔", "玉苏甫": "甫", "热合曼": "曼", "吾斯曼": "曼", "米娜": "娜", "热巴": "巴", "阿力木": "阿",
    "依力": "依", "艾则孜": "孜", "木拉提": "木", "卡德尔": "尔", "祖丽": "祖", "娜扎": "娜", "阿迪拉": "迪", "艾克拜尔": "艾",
    "沙吾提": "吾", "吐逊": "逊", "伊力": "伊", "哈力克": "哈",
}
_ETHNIC_DOTS = "·•・‧"
_QUOTES_OPEN, _QUOTES_CLOSE = "“\"「『", "”\"」』"
# Session 19: reported speech (…说我就是郑大勇，…; 你去找马建国，他是…): a common or compound surname and one or two
# given-name characters right before a delimiter, no word of jieba's dictionary (_name_after_speech). Found with
# str.find (找 是 就 are frequent characters).
_SPEECH_CUES = ("我就是", "去找")
_SPEECH_REST = re.compile(f"(?:[{''.join(sorted(_SURNAME_WORDS['common']))}]|{'|'.join(sorted(_SURNAME_WORDS['compound']))})"
                          f"[{_HAN}]{{1,3}}(?![{_HAN}])")
_NAME_CUE = re.compile(
    "(?P<strong>" + "|".join(sorted(_STRONG_CUES, key=len, reverse=True)) + ")"
    + rf"[ \t]?(?:是|为|系)?[ \t]?[:：，,]?[ \t]?[{_QUOTES_OPEN}]?"
    + "|(?P<weak>" + "|".join(sorted(_WEAK_CUES, key=len, reverse=True)) + r")(?P<colon>[ \t]?[:：][ \t]?)?"
    + "|(?P<title>(?:副|总|老)?(?:" + "|".join(sorted(_TITLES, key=len, reverse=True)) + "))(?!们)"
    + "|(?P<pretitle>" + "|".join(w + (r"(?:[ \t]?[:：][ \t]?)?" if w in _COLON_TITLES else "")
                                  for w in sorted(set(_PRE_TITLES) - set(_TITLES), key=len, reverse=True)) + ")"
    + "|(?P<role>" + "|".join(w + (f"(?!{_ROLE_NOT_BEFORE[w]})" if w in _ROLE_NOT_BEFORE else "")
                              for w in sorted(_ROLES, key=len, reverse=True)) + ")"
    + "|(?P<listcue>" + "|".join(_LIST_CUES) + ")(?=" + _LIST_CUE_REST + ")"
    + "|(?P<speech>" + "|".join(_SPEECH_CUES) + ")"
    + f"|(?P<ethnic>(?:{_ETHNIC_ALT})(?:[{_ETHNIC_DOTS}]?(?:{_ETHNIC_ALT}))+)"
    + f"|(?P<xiao>{_XIAO_AT})"
    + r"|(?P<sexmark>[,，](?:男|女)[,，、])"
    + rf"|自称[ \t]?[{_QUOTES_OPEN}](?P<quoted3>[{_HAN}]{{2,4}})[{_QUOTES_CLOSE}]"
    + rf"|[{_QUOTES_OPEN}](?P<quoted>[{_HAN}]{{2,4}})[{_QUOTES_CLOSE}][ \t]?网友"
    + rf"|网友[ \t]?[{_QUOTES_OPEN}](?P<quoted2>[{_HAN}]{{2,4}})[{_QUOTES_CLOSE}]"
)
_TITLE_AT = re.compile("(?:副|总|老)?(?:" + "|".join(sorted(_TITLES, key=len, reverse=True)) + ")")


def _first_chars(pattern: str) -> frozenset[str] | None:
    """Every character a match of ``pattern`` can start with (a superset: look-arounds are not followed), read from
    the parsed pattern; None when that is not known (a match may be empty, start with any character, a negated or
    large class …)."""
    try:  # CPython's own regex parser (re._parser since 3.11): private, so a Python without it gets None (no skip)
        from re import _constants as sre_c
        from re import _parser as sre_parse
    except ImportError:
        return None

    def seq(items: object) -> tuple[set[str] | None, bool]:  # (first characters, may match empty)
        first: set[str] = set()
        for op, av in items:
            f, empty = item(op, av)
            if f is None:
                return None, False
            first |= f
            if not empty:
                return first, False
        return first, True

    def item(op: object, av: object) -> tuple[set[str] | None, bool]:
        if op is sre_c.LITERAL:
            return {chr(av)}, False
        if op is sre_c.IN:
            chars: set[str] = set()
            for o, a in av:
                if o is sre_c.LITERAL:
                    chars.add(chr(a))
                elif o is sre_c.RANGE and a[1] - a[0] < 256:
                    chars.update(map(chr, range(a[0], a[1] + 1)))
                else:
                    return None, False
            return chars, False
        if op is sre_c.SUBPATTERN:
            return seq(av[3]) if not av[1] & re.IGNORECASE else (None, False)
        if op is sre_c.BRANCH:
            first: set[str] = set()
            empty = False
            for alt in av[1]:
                f, e = seq(alt)
                if f is None:
                    return None, False
                first |= f
                empty = empty or e
            return first, empty
        if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            f, e = seq(av[2])
            return f, e or av[0] == 0
        if op in (sre_c.ASSERT, sre_c.ASSERT_NOT, sre_c.AT):
            return set(), True
        return None, False

    first, empty = seq(sre_parse.parse(pattern))
    return None if first is None or empty else frozenset(first)


# The characters a cue of _NAME_CUE starts with (session 20): _name_candidates tries _NAME_CUE.match only there.
_NAME_CUE_FIRST = _first_chars(_NAME_CUE.pattern)
_SURNAME_ANY = "".join(sorted(_SURNAMES_COMMON | _SURNAMES_BOUNDARY | {c for w in _SURNAMES_COMPOUND for c in w}))
_SURNAME_CHARS = "".join(sorted(_SURNAMES_COMMON | _SURNAMES_BOUNDARY | {c[0] for c in _SURNAMES_COMPOUND}))
_SURNAMES_COMPOUND_FIRST = frozenset(w[0] for w in _SURNAMES_COMPOUND)
# The cheap gate for names, and where to look for them: a strong cue; 我是/本人 (and the kinship
# cues) before a surname; a title one to three characters after a surname; a quote mark next to
# 网友. Each cue word is found from its least frequent character (the regex engine skips ahead to
# the characters of a one-character class fast): a literal, the rest of the word around it in a
# look-behind and a look-ahead. A hit is then read by _NAME_CUE from up to _CUE_BACK characters
# earlier. (On the raw text: space, colon and quote may still be full-width there.)
_SP = "[ \\t\u3000]?"
_G_OPEN, _G_CLOSE = _QUOTES_OPEN + "＂", _QUOTES_CLOSE + "＂"
# The characters of the cue words, most frequent first (附件3 and generated messages); a word is
# found from its character latest in this list or not in it.
_FREQUENT = "的区是我人市公小大主请开理中部生经本处老收社会户事同子长所村局被县校名站书投报院诉当医任记件款儿组系姓申联镇师监警科律字"
_CUE_BACK = 5


# What follows a name right after 我是/本人 with no delimiter (我是张伟家住…, 本人孙国庆要求…): the words
# of a self-introduction going on, not what follows a place or a trade (我是宁乡人在外, 我是司机在路上:
# those are words, or end in 人).
_SELF_FOLLOW = ("家住", "住在", "现住", "原住", "居住", "住址", "实名", "想", "要", "就是", "今年", "现年", "系", "男，",
                "女，",
                "身份证", "电话", "手机", "联系", "反映", "投诉", "举报", "要求", "申请", "在", "于",
                *(f"的{kin}" for kin in ("儿子", "女儿", "母亲", "父亲", "妻子", "丈夫", "爱人", "家属", "孙子",
                                         "孙女", "哥哥", "姐姐", "弟弟", "妹妹", "老伴")))


# After 我是/本人 (and the kinship cues): a colon, or a surname and at most three more characters
# before a delimiter, or a surname and one or two more characters before a word of _SELF_FOLLOW.
_WEAK_REST = (f"(?:{_SP}[:：]{_SP}[{_SURNAME_CHARS}]|[{_SURNAME_CHARS}][{_HAN}]{{1,3}}(?![{_HAN}])"
              f"|[{_SURNAME_CHARS}][{_HAN}]{{1,2}}(?:{'|'.join(sorted(_SELF_FOLLOW, key=len, reverse=True))}))")
# 我 and 本 are too frequent to be the gate's triggers: these two cues are found by scans of their own (_FIND_SCANS).
_FIND_CUES = ("我是", "本人")
# After a kinship cue (我父亲, 我爱人 …) a name before 是 too (session 18: 我父亲陈国华是退伍军人; 我是X是 is none).
_WEAK_REST_KIN = f"(?:{_WEAK_REST}|[{_SURNAME_CHARS}][{_HAN}]{{1,2}}是)"
# after a role word: a common surname, a compound one, or 于 and a character (业主于海家: _name_after_yu)
_ROLE_SUR = (f"[ \t\u3000{_QUOTES_OPEN}＂]?(?:[{''.join(sorted(_SURNAMES_COMMON))}]|{'|'.join(sorted(_SURNAMES_COMPOUND))}"
             f"|于[{_HAN}])")  # session 17: a space or a quote mark before the name (业主 黄丽华 反映, 业主“张海燕”)
# Session 19. Second characters of a two-character word that is a name after a role with no common surname first
# (司机金山把, 保安长江对): rivers, mountains, seas, peaks, woods (as given names are); and what must come next.
_NATURE_FINALS = "江河山海峰林川湖"
_ROLE_WORD_FOLLOW = "说把却又也让就还都对将被曾已仍便竟称讲"
# Session 20: two-character words after such a name (round 9: 货车司机金山每天凌晨…, 门卫长江不让外卖员进).
_ROLE_WORD_FOLLOW_TWO = ("每天", "每次", "不让", "不准", "不许", "不给")
# Boundary-tier surnames a name after a role may start with (出纳程芳一起): not the function words, and the words
# that must follow the name (not a delimiter: 司机方来，来则… on 附件4).
_ROLE_BOUNDARY_SUR = "".join(sorted(_SURNAMES_BOUNDARY - _NOT_SURNAME_AFTER))
_ROLE_BOUNDARY_FOLLOW = ("一起", "都", "说", "也")
# Session 20: the delimiters after a three-character name with a boundary-tier surname after a role (法人易兴祖，).
_ROLE_BOUNDARY_END = "、。,;"
# One-character words after a dictionary word that is a name after a title (_FOLLOW_ONE_WORD_NAME, below)
_ONE_WORD_FOLLOW = "说把却又也让就还都到在对给将被曾已仍便竟称讲"
# (cue, what must follow it or None): 我是/本人, the role words of _FIND_ROLES, the strong cues of _FIND_STRONG
_FIND_ALL = ((*((c, _WEAK_REST) for c in _FIND_CUES), *((c, _ROLE_SUR) for c in _FIND_ROLES),
              *((c, None) for c in _FIND_STRONG), *((c, _SPEECH_REST.pattern) for c in _SPEECH_CUES)))
# 小/老 + a common surname (session 19: _name_xiao): two scans of their own, each from a literal (小 and 老 as the
# gate's triggers cost ~24 ms on the generated 20,000, one scan from [小老] ~8 ms, these two ~1.3 ms: 小区 is everywhere)
_XIAO_SCANS = tuple(re.compile(c + _XIAO_AT[4:]) for c in "小老")
# Session 20: each cue of _FIND_ALL as one scan from its literal (the regex engine finds a literal prefix as fast as
# str.find) with what must follow it in a look-ahead, so the check runs in C, not in a Python loop per occurrence
# (我是 and 本人 occur ~41,000 times in the generated 200,000). A cue found where its look-ahead fails is passed by
# one character, not by its length as a str.find loop would: the same hits, as no cue overlaps itself (checked here).
for _cue, _ in _FIND_ALL:
    assert not any(_cue[k:] == _cue[: len(_cue) - k] for k in range(1, len(_cue))), _cue
_FIND_SCANS = (*(re.compile(re.escape(c) + (f"(?={rest})" if rest else "")) for c, rest in _FIND_ALL), *_XIAO_SCANS)


def _find_cue_hits(text: str) -> list[int]:
    """Where 我是 or 本人 starts in ``text`` with what _WEAK_REST asks for after it, a role word of
    _FIND_ROLES before a surname, a strong cue of _FIND_STRONG, a cue of _SPEECH_CUES before a name, or
    小/老 before a surname (_XIAO_AT), in order."""
    hits: list[int] = []
    for scan in _FIND_SCANS:
        hits += [m.start() for m in scan.finditer(text)]
    hits.sort()
    return hits


def _trigger(word: str) -> int:
    """The index of the character a cue word is found from: its least frequent one, except that
    all ...长 titles share 长 and all ...户... cues share 户 (fewer distinct triggers, fewer hits)."""
    if word in _CUE_TRIGGER:
        return word.index(_CUE_TRIGGER[word])
    if word.endswith("长"):
        return len(word) - 1
    if "户" in word:
        return word.index("户")
    return max(range(len(word)), key=lambda i: (_FREQUENT.find(word[i]) if word[i] in _FREQUENT else 99, -i))


class _Alt(NamedTuple):
    """One way a place can pass the name gate: the cue word's own characters around its trigger character
    (``behind``: a look-behind ending with the trigger or ""; ``ahead``: the characters right after the trigger,
    a regex of literals or ""), what must hold besides (``rest``: a key of the rests of _name_gate_alts or "" for
    nothing; ``pure``: the whole check when it is none of these) and the character right after / before the
    trigger that every match has (None: any)."""

    behind: str
    ahead: str
    rest: str
    next: str | None
    prev: str | None
    pure: str = ""
    check: str = ""  # a filter the cue word's check in the first dispatch has instead (a superset of the rest)

    def literal(self) -> str:
        """The check of the cue word alone (zero-width, after the trigger)."""
        return self.pure or self.behind + (f"(?={self.ahead})" if self.ahead else "")


def _name_gate_alts() -> tuple[dict[str, list[_Alt]], dict[str, tuple[str, bool]]]:
    """Trigger character -> the alternatives the name gate checks after it (_Alt); and the rests: key ->
    (regex, whether it is read after the cue word's characters (True) or where the trigger ends (False))."""
    alts: dict[str, list[_Alt]] = {}
    rests: dict[str, tuple[str, bool]] = {}
    han, sur = f"[{_HAN}]", f"[{_SURNAME_ANY}]"

    def rest(key: str, pattern: str, after_word: bool = True) -> str:
        assert rests.setdefault(key, (pattern, after_word)) == (pattern, after_word), key
        return key

    def add(c: str, behind: str, ahead: str, key: str, nxt: str | None, prev: str | None) -> None:
        alts.setdefault(c, []).append(_Alt(behind, ahead, key, nxt, prev))

    weak_rest = _WEAK_REST_KIN  # the weak cues of the gate are the kinship cues (我是/本人: _FIND_CUES)
    words = ([(c, "") for c in _STRONG_CUES if c not in _FIND_STRONG]
             + [(c, rest("kin", weak_rest)) for c in _WEAK_CUES if c not in _FIND_CUES])
    for word, key in words:
        k = _trigger(word)
        c, before = word[k], re.escape(word[:k])
        add(c, f"(?<={before}{re.escape(c)})" if before else "", re.escape(word[k + 1 :]), key,
            word[k + 1] if k + 1 < len(word) else None, word[k - 1] if k else None)
    # titles, by trigger character and its place in the word: the characters before it, a surname
    # one to three characters before the title (the rest "title<k>"), what follows the trigger
    by_place: dict[tuple[str, int], list[str]] = {}
    for t in _TITLES:
        for prefix in ("", "副", "总", "老"):  # found from the title's own trigger
            word, k = prefix + t, len(prefix) + _trigger(t)
            by_place.setdefault((word[k], k), []).append(word)
    for (c, k), ws in by_place.items():
        word_before = f"(?<=(?:{'|'.join(sorted({re.escape(w[:k]) for w in ws}))}){re.escape(c)})" if k else ""
        surname = "|".join(f"(?<={sur}{han * g}{'.' * (k + 1)})" for g in range(3))
        afters = sorted({re.escape(w[k + 1 :]) for w in ws}, key=len, reverse=True)
        ahead = "|".join(afters) if afters != [""] else ""
        key = rest(f"title{k}", f"(?:{surname})", after_word=False)
        for w in ws:
            add(c, word_before, ahead, key, w[k + 1] if k + 1 < len(w) else None, w[k - 1] if k else None)
    # 局长卢鸣鸿: a common or compound surname right after the title, or a boundary-tier one with two
    # more characters (what _name_after_title can accept: 局长段志刚， and 民警段志刚上门)
    after_sur = (f"(?:[{''.join(sorted(_SURNAMES_COMMON | {w[0] for w in _SURNAMES_COMPOUND}))}]"
                 f"|[{''.join(sorted(_SURNAMES_BOUNDARY - _NOT_SURNAME_AFTER))}]{han}{{2}})")
    after_sur = f"(?:{after_sur}|于{han})"  # 局长于洋表示 (_name_after_yu)
    # after a role: a common surname or a compound one (not 太 of 太史: 医生太少), or 于 (session 16)
    # session 19: a boundary-tier surname and a character before 一起/都/说/也 (出纳程芳一起: _role_boundary_name), a
    # word name ending in a nature character before a one-character word (司机金山把: _role_word_name)
    role_sur = (f"(?:{_ROLE_SUR}|[{_ROLE_BOUNDARY_SUR}]{han}(?:" + "|".join(_ROLE_BOUNDARY_FOLLOW) + ")"
                + f"|[{_ROLE_BOUNDARY_SUR}]{han}{{2}}[{_ROLE_BOUNDARY_END}，；]"
                + f"|[{''.join(sorted(set(_SURNAME_CHARS) - _SURNAMES_COMMON))}][{_NATURE_FINALS}](?:[{_ROLE_WORD_FOLLOW}]|{'|'.join(_ROLE_WORD_FOLLOW_TWO)}))")
    after_sur = f"(?:{after_sur}|向{han}(?:[{_ONE_WORD_FOLLOW}]|带人))"  # 村支书向阳把 (session 19)
    colon_sur = f"(?:{after_sur}|{_SP}[:：]{_SP}[{_SURNAME_CHARS}])"  # 负责人：向冬云 (session 19)
    keys = {after_sur: rest("pretitle", after_sur), colon_sur: rest("colon", colon_sur), role_sur: rest("role", role_sur)}
    for word, after in [(w, colon_sur if w in _COLON_TITLES else after_sur) for w in _PRE_TITLES] + [(w, role_sur) for w in (*_ROLES, *_ROLE_TITLES)
                                                               if w not in _FIND_ROLES]:
        k = word.index(_ROLE_TRIGGER[word]) if after is role_sur else _trigger(word)
        c = word[k]
        add(c, f"(?<={re.escape(word[:k + 1])})" if k else "", re.escape(word[k + 1 :]), keys[after],
            word[k + 1] if k + 1 < len(word) else None, word[k - 1] if k else None)
    for cue in _LIST_CUES:  # 本组肖和均，肖利红 (session 18): found from 组 or 村 (triggers of 组长, 村民)
        add(cue[1], f"(?<={cue})", "", rest("list", _LIST_CUE_REST), None, None)
    for p in _ETHNIC_PARTS:  # 扎西顿珠, 阿依古丽 (session 19): a part, found from its rarest character (_ETHNIC_TRIGGER)
        k = p.index(_ETHNIC_TRIGGER[p])
        add(p[k], f"(?<={p[:k + 1]})" if k else "", p[k + 1 :], "", p[k + 1] if k + 1 < len(p) else None,
            p[k - 1] if k else None)
    for c in "男女":  # 廖建军，男，六十二岁 (session 19: _name_before_sex)
        alts.setdefault(c, []).append(_Alt("", "", "", None, None, f"(?<=[，,]{c})(?=[，,、])"))
    add("称", "(?<=自称)", "", rest("self", f"{_SP}[{_G_OPEN}]{han}{{2,4}}[{_G_CLOSE}]"), None, "自")
    for q in _G_OPEN:  # (the filter: what the rest reads before 网友 is 3 to 6 characters, none a line break)
        alts.setdefault(q, []).append(_Alt("", "", rest("quote", f"{han}{{2,4}}[{_G_CLOSE}]{_SP}网友"), None, None,
                                           check=".{3,6}网友"))
    add("网", "", "友", rest("netizen", f"{_SP}[{_G_OPEN}]{han}{{2,4}}[{_G_CLOSE}]"), "友", None)
    return alts, rests


# The name gate's trigger characters by how often they occur in the generated 200,000 messages and the 17,100 text
# cells of 附件3/附件4 together, most frequent first (session 20: 主 31,843, 民 31,069, 经 27,467 … 仁 3,679 the 30th);
# the others come after them.
_TRIGGERS_BY_FREQUENCY = ("主民经法村户记长医东保机申儿员手联信“组益病任网店文件当诉仁卫协队计害支案买片先者访款纳才师字板依留"
                          "邻姓承负干助律举客包总女控布央称官父货母培志泽顾士措丹股爱木叫巴男朋练妻递夫洁旦古努妈辅顿庆罗")
# Group sizes (session 20, best of 9 on both sets: the gate's scan over the generated 200,000 and 附件3/附件4 16-18 %
# faster than groups of 12 in the old order; 6,6,8,… and 2,4,6,… close behind).
_GATE_GROUP_SIZES = (3, 5, 8, 12, 16, 20, 24, 28, 32)


def _name_gate_pattern(by_frequency: str | None = None, group_sizes: tuple[int, ...] | None = None) -> tuple[str, str]:
    """The name gate's trigger characters (escaped for a character class) and the regex that follows one
    (``by_frequency``, ``group_sizes``: _TRIGGERS_BY_FREQUENCY and _GATE_GROUP_SIZES when None)."""
    by_frequency = _TRIGGERS_BY_FREQUENCY if by_frequency is None else by_frequency
    group_sizes = _GATE_GROUP_SIZES if group_sizes is None else group_sizes
    alts, rests = _name_gate_alts()
    # Filters the cue words' check adds (session 21; each lets through every place where the full check holds):
    # the first character of a rest read after the word, for the words found from the most frequent triggers
    # (业主的, 居民， and 书记您 are most of the places a cue word is found and its rest fails); a word character
    # right before a title (the first of the one to three characters a surname ends, always a Han character).
    first = {key: _first_chars(pattern) for key, (pattern, after_word) in rests.items() if after_word}
    often = frozenset(by_frequency[:_GATE_FILTERED])
    han_is_word = _han_is_word()

    def literal(c: str, a: _Alt) -> str:
        if a.pure or not a.rest:
            return a.literal()
        if not rests[a.rest][1]:
            k = int(a.rest[len("title"):])
            return a.literal() + (f"(?<=\\w{'.' * (k + 1)})" if han_is_word else "")
        chars = first[a.rest]
        if a.check:
            return a.behind + f"(?={a.check})"
        if c not in often or chars is None:
            return a.literal()
        return a.behind + f"(?={a.ahead}[{re.escape(''.join(sorted(chars)))}])"

    def branch(c: str, forms: Iterable[str], checks: bool = True) -> str:
        # one-character checks first (most hits are 我们, 长期 …: no cue), then the alternatives
        pre = f"(?<={re.escape(c)})" if checks else re.escape(c)
        if checks:
            nexts = {a.next for a in alts[c]}
            prevs = {a.prev for a in alts[c]}
            if None not in nexts:
                pre += f"(?=[{re.escape(''.join(sorted(nexts)))}])"
            if None not in prevs:
                pre += f"(?<=[{re.escape(''.join(sorted(prevs)))}]{re.escape(c)})"
        return pre + "(?:" + "|".join(dict.fromkeys(forms)) + ")"

    # One character class of the triggers, then the alternatives of the trigger found: the regex
    # engine tries alternatives one after the other, so they are dispatched in groups (a one-character
    # look-behind each), the most frequent trigger characters first (_TRIGGERS_BY_FREQUENCY), the first
    # groups small. (The order changes no match: every alternative is a look-around after the trigger.)
    rank = {c: i for i, c in enumerate(by_frequency)}
    order = sorted(alts, key=lambda c: (rank.get(c, len(rank)), _FREQUENT.find(c) if c in _FREQUENT else 99))
    groups, i = [], 0
    for size in group_sizes:
        groups.append(order[i : i + size])
        i += size
    groups += [order[i : i + group_sizes[-1]] for i in range(i, len(order), group_sizes[-1])]
    groups = [g for g in groups if g]
    words = "|".join(f"(?<=[{re.escape(''.join(g))}])(?:" + "|".join(branch(c, (literal(c, a) for a in alts[c])) for c in g)
                     + ")" for g in groups)
    # Session 21: that dispatch checks the cue words alone (and the filters); it is most of the scan's time, as
    # most trigger characters start no cue word. Where a word is found (15,432 of the 214,874 trigger characters of
    # 附件3/附件4, 2,329 of 55,836 in the generated 50,000; 37,459 and 16,182 without the filters), the place is
    # checked in full, from the trigger again (a look-behind): each kind of rest (a surname after a role word, a
    # kinship cue's name, a surname before a title …) written once, after the words that need it (a class of
    # their triggers first, then a branch per trigger that the engine skips by its first character; the words'
    # characters after the trigger consumed in a look-ahead when the rest follows them). The same places as when
    # each word held its own rest, but 99 large character classes instead of 1,183 (the class of Han characters 29
    # times instead of 575; the compile ~0.08 s instead of ~0.85 s: re's compiler, pure Python, spends ~0.5 ms on
    # each class of surnames and ~1.5 ms on each class of Han characters).
    families: dict[str, dict[str, str]] = {}
    for c in order:
        for key in dict.fromkeys(a.rest for a in alts[c]):
            forms = [a.literal() if not key or not rests[key][1] else a.behind + a.ahead
                     for a in alts[c] if a.rest == key]
            families.setdefault(key, {})[c] = branch(c, forms, checks=False)
    full = []
    for key, branches in families.items():
        triggers = re.escape("".join(branches))
        inner = "(?:" + "|".join(branches.values()) + ")"
        if key and rests[key][1]:
            full.append(f"[{triggers}](?<=(?={inner}{rests[key][0]}).)")
        else:
            full.append(f"[{triggers}](?<={inner}){rests[key][0] if key else ''}")
    return re.escape("".join(order)), f"(?>{words})(?<=" + "|".join(full) + ")"


# How many of the most frequent triggers get the first-character filter (_name_gate_pattern).
_GATE_FILTERED = 8


def _han_is_word() -> bool:
    """Whether every Han character and surname is a word character (\\w: alphanumeric) for this Python's Unicode
    data (the filter before a title)."""
    return ("".join(map(chr, (*range(0x3400, 0x4DC0), *range(0x4E00, 0xA000)))) + _SURNAME_ANY).isalnum()


class _LazyRegex:
    """A pattern built and compiled on first use: the two name-gate patterns took ~1 s each to compile (~0.08 s
    since session 21), which every ``import govml.privacy`` (the tokenizer, the CLI) paid before any text was
    masked; building their text takes ~10 ms more (session 21: at first use too)."""

    def __init__(self, build: Callable[[], str]) -> None:
        self._build = build
        self._pattern: str | None = None
        self._compiled: re.Pattern[str] | None = None

    @property
    def pattern(self) -> str:
        if self._pattern is None:
            self._pattern = self._build()
        return self._pattern

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern)
        return self._compiled

    def __getattr__(self, name: str) -> object:  # search, match, finditer …
        return getattr(self.compiled(), name)


_GATE_PARTS: tuple[str, str] | None = None
_GATE_ORDER = (_TRIGGERS_BY_FREQUENCY, _GATE_GROUP_SIZES)  # (as at import)


def _gate_parts() -> tuple[str, str]:
    """_name_gate_pattern(), built once."""
    global _GATE_PARTS
    if _GATE_PARTS is None:
        _GATE_PARTS = _name_gate_pattern(*_GATE_ORDER)
    return _GATE_PARTS


def _name_gate() -> str:
    first, body = _gate_parts()
    return f"[{first}](?:{body})"


def _gate_all() -> str:
    first, body = _gate_parts()
    return f"[{_GATE_SCAN_FIRST}{first}](?:(?<=[{_GATE_SCAN_FIRST}])(?:{_GATE_SCAN_BODY})|(?<=[{first}])(?:{body}))"


_NAME_GATE = _LazyRegex(_name_gate)
# Both gates as one scan (what mask_joined runs, and mask first): a text has a match exactly when
# it has one of _GATE_SCAN or of _NAME_GATE (_find_cue_hits is the rest of the name gate).
_GATE_ALL = _LazyRegex(_gate_all)


def _compile_gates() -> None:
    """Compile the name-gate patterns and read the word list now (a caller about to fork workers:
    they inherit them)."""
    _NAME_GATE.compiled()
    _GATE_ALL.compiled()
    _dictionary()


# --- word evidence for a name followed directly by a verb (局长黄淼带头, 董事长罗平卫纠集) -----------
# jieba's dictionary (a dependency of govml; ~349,000 words with their frequencies in a general
# corpus) says which character pairs are words or start one. Read on first use, not at import
# (~0.3 s).
# (The frequency of a word: at least 20, two digits from 20 or three and more.)
_WORD_LINE = re.compile(r"^([\u4e00-\u9fff]{2,}) ([2-9][0-9]|[1-9][0-9]{2,}) ([a-z]+)", re.M)
_WORDS: tuple[dict[str, int], dict[str, int], frozenset[str], frozenset[str]] | None = None
# the 2-3 character words tagged as a noun or a place (n, ns, nz: 高山, 马力, 陆海), read with _WORDS
_NOUNS: frozenset[str] = frozenset()
# two-character common nouns at least 900 frequent (姿态, 风格, 态度, 水平): never the given name of a
# single surname after a title (局长高姿态处理, 主任高风格，); 建平 (528), 建军 (170) are names. Read with _WORDS.
_ATTR_NOUNS: frozenset[str] = frozenset()
# two-character words tagged as a time, an adverb, a pronoun, a numeral, a conjunction … (昨天, 此次, 本月,
# 近日): never the given name after 于 (局长于昨天, 书记于此次会上). Read with _WORDS.
_NOT_GIVEN_TAGS = frozenset(("t", "tg", "c", "d", "dg", "ad", "r", "rr", "rz", "m", "mq", "f", "p", "q", "u", "y"))
_NOT_GIVEN: frozenset[str] = frozenset()
# two-character words of jieba's dictionary less than 20 frequent that start with a surname and are not
# tagged as a person's name or a place (钱款, 高息, 申领; not 苏纳, 苏波: ns): no name after a role word (业主钱款被, 村干部高息借贷), and not
# looked for again when found elsewhere (当事人申领 …). Read with _WORDS.
_LOW_LINE = re.compile(r"^([\u4e00-\u9fff]{2}) (?:1?[0-9]) ([a-z]+)", re.M)
_LOW_WORDS: frozenset[str] = frozenset()
# two-character words (at least 20 frequent) that start with a surname and may be a person's name after a
# title before a word that follows names (session 16: 村主任方正把, 书记江山让): tagged as a person's name or a
# place; and before a one-character word only, adjectives and numerals under 1,000 frequent (_WORD_NAMES_ONE:
# 所长严明却, 副镇长万里说; not 严肃 1,650, 科长万般推脱, 局长郑重承诺 — nor the adverbs, times and common nouns:
# 方才, 万事, 严格 …). Read with _WORDS.
_WORD_NAMES: frozenset[str] = frozenset()
_WORD_NAMES_ONE: frozenset[str] = frozenset()
# Characters that end at least 6 of the 2-3 character words (at least 20 frequent) tagged as a person's name
# with a common surname (强 9, 云 16, 东 15, 娜 6, 超 9, 正 10; not 谢 1, 述 1, 贴 1, 可 5, 问 1, 口 5), kinship
# words aside (子 儿 爷 哥 …):
# a person-tagged word after a role is a name only with one of them last (老板李强说, 村民陈云家; not 业主孙子、,
# 住户谢谢, 业主许可, 律师顾问). Read with _WORDS.
_NAME_FINALS: frozenset[str] = frozenset()
_KIN_FINALS = frozenset("子儿爷哥姐弟妹娘婆夫妻嫂叔伯公母父婶舅侄孙")
# two-character words tagged as a place whose first character is a common surname (高山, 黄河, 江山; session 17): a
# name after a role before a word that follows names (村民高山家, 门卫黄河每天), as a person-tagged word. Read with _WORDS.
_PLACE_NAMES: frozenset[str] = frozenset()
# two-character verbs (at least 20 frequent) that end with a common surname (照顾, 感谢, 兼顾; session 18): a lone
# surname before a title is none right after its verb's first character (照顾奶奶: no 顾奶奶). Read with _WORDS.
_VERB_SUR: frozenset[str] = frozenset()


def _verb_sur() -> frozenset[str]:
    """:data:`_VERB_SUR`, the dictionary read first."""
    _dictionary()
    return _VERB_SUR


def _dictionary() -> tuple[dict[str, int], dict[str, int], frozenset[str], frozenset[str]]:
    """``(words, starts, person, idiom_starts)`` from jieba's dictionary, its words of Chinese
    characters at least 20 frequent: the 2-3 character words and their frequency; the first two
    characters of every word and the highest frequency of a word that starts with them (挨家 of
    挨家挨户); the 2-3 character words tagged as a person's name (nr: 李强, 田野, 陆军 — and, the tags
    being rough, 陈述, 孙子); the first two and three characters of the words of four or more (石沉, 石沉大 of 石沉大海)."""
    global _WORDS
    if _WORDS is None:
        from importlib.util import find_spec
        from pathlib import Path

        spec = find_spec("jieba")
        if spec is None or spec.origin is None:  # pragma: no cover - jieba is a dependency
            raise ConfigError("govml.privacy needs jieba's dictionary (pip install jieba)")
        text = (Path(spec.origin).parent / "dict.txt").read_text(encoding="utf-8")
        found = _WORD_LINE.findall(text)
        pairs = sorted(((w, int(f)) for w, f, _ in found), key=lambda x: x[1])
        # ascending frequency: the last (highest) one of a key stays
        _WORDS = ({w: n for w, n in pairs if len(w) <= 3}, {w[:2]: n for w, n in pairs},
                  frozenset(w for w, _, tag in found if len(w) <= 3 and tag.startswith("nr")),
                  frozenset(p for w, _, _ in found if len(w) >= 4 for p in (w[:2], w[:3])))
        global _NOUNS, _ATTR_NOUNS, _NOT_GIVEN, _LOW_WORDS, _WORD_NAMES, _WORD_NAMES_ONE, _NAME_FINALS
        first = set(_SURNAME_CHARS)
        _WORD_NAMES = frozenset(w for w, f, tag in found if len(w) == 2 and w[0] in first and (
            tag.startswith("nr") or tag == "ns"))
        _WORD_NAMES_ONE = frozenset(w for w, f, tag in found if len(w) == 2 and w[0] in first
                                    and tag in ("a", "m") and int(f) < 1000)
        finals: dict[str, int] = {}
        for w, _, tag in found:
            if len(w) <= 3 and tag.startswith("nr") and w[0] in _SURNAMES_COMMON:
                finals[w[-1]] = finals.get(w[-1], 0) + 1
        _NAME_FINALS = frozenset(c for c, k in finals.items() if k >= 6) - _KIN_FINALS
        global _PLACE_NAMES, _VERB_SUR
        _VERB_SUR = frozenset(w for w, f, tag in found if len(w) == 2 and tag == "v" and w[1] in _SURNAMES_COMMON)
        _PLACE_NAMES = frozenset(w for w, f, tag in found if len(w) == 2 and tag == "ns" and w[0] in _SURNAMES_COMMON)
        _LOW_WORDS = frozenset(w for w, tag in _LOW_LINE.findall(text)
                               if w[0] in first and not tag.startswith(("nr", "ns", "nz")))
        _NOUNS = frozenset(w for w, _, tag in found if len(w) <= 3 and tag in ("n", "ns", "nz"))
        _ATTR_NOUNS = frozenset(w for w, f, tag in found if len(w) == 2 and tag == "n" and int(f) >= 900)
        _NOT_GIVEN = frozenset(w for w, _, tag in found if len(w) == 2 and tag in _NOT_GIVEN_TAGS)
    return _WORDS


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _given_ok(given: str, veto: frozenset[str] = _GIVEN_NO) -> bool:
    for c in given:  # (a loop, not all() over a generator: called ~15,000 times on the generated 200,000)
        if c in veto or not ("\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf"):
            return False
    return True


def _not_a_word(cand: str) -> bool:
    return cand not in _NOT_NAMES and cand[:2] not in _NOT_NAMES and cand[:3] not in _NOT_NAMES


def _surname_len(norm: str, s: int) -> list[int]:
    """Lengths of the surnames (2 = compound, 1 = single) that start at ``s``, longest first."""
    out = []
    if norm[s : s + 2] in _SURNAMES_COMPOUND:
        out.append(2)
    if s < len(norm) and (norm[s] in _SURNAMES_COMMON or norm[s] in _SURNAMES_BOUNDARY):
        out.append(1)
    return out


def _boundary_at(norm: str, e: int) -> bool:
    """Whether no Chinese character follows position ``e`` (end, punctuation, digit, space …).

    A placeholder's ``<`` or ``>`` is no boundary: what it replaced may have been a Chinese
    character (a plate, 三栋…), and masking twice must give what masking once gave. 丶 (a CJK
    character) is a list mark here: 村主任周树仁丶村文书."""
    return e >= len(norm) or not (_is_han(norm[e]) or norm[e] in "<>") or norm[e] == "丶"


_SURNAME_ONLY_END = frozenset("，。；、,;")
_FOLLOW = tuple(
    "男 女 今年 现年 系 是 的 在 于 住 家住 现住 居住 电话 手机 联系 身份证 性别 年龄 出生 因 向 和 与 及 等 反映 投诉 "
    "举报 说 称 同志 先生 女士".split()
)


def _name_after(norm: str, s: int, strong: bool, kin: bool = False) -> tuple[int, int] | None:
    """The name that starts at ``s`` after a self-introduction cue, or None (``kin``: after a kinship cue, 我父亲 …,
    a name before 是 too)."""
    for sl in _surname_len(norm, s):
        g0 = s + sl
        if _TITLE_AT.match(norm, g0):  # 我是王书记：the title rule finds the surname
            continue
        if _TITLE_AT.match(norm, g0 + 1):
            e = g0 + 1  # 户主王建先生 → 王建
            if _given_ok(norm[g0:e]) and _not_a_word(norm[s:e]):
                return s, e
            continue
        tier_ok = sl == 2 or norm[s] in _SURNAMES_COMMON
        veto = _GIVEN_NEVER if strong else _GIVEN_NO
        if strong and g0 < len(norm) and norm[g0] in " \t\u3000":  # 姓名：李 娜, 反映人：刘 洋， (session 19)
            span = _name_split(norm, s, g0)
            if span is not None:
                return span
        for gl in (2, 1):  # a delimiter right after the name (after 我是/本人 not a letter or digit: 我是余易贷P2P)
            e = g0 + gl
            if (e <= len(norm) and _given_ok(norm[g0:e], veto) and _boundary_at(norm, e)
                    and (strong or e == len(norm) or not norm[e].isalnum()) and _not_a_word(norm[s:e])):
                return s, e
        if not strong:
            span = _name_after_weak(norm, s, sl, g0, tier_ok, kin)
            if span is not None:
                return span
            continue
        for gl in (1, 2):  # a word that follows names (今年, 男, 电话 …)
            e = g0 + gl
            if e <= len(norm) and _given_ok(norm[g0:e]) and norm.startswith(_FOLLOW, e) and _not_a_word(norm[s:e]):
                return s, e
        e = g0 + 2
        if tier_ok and e < len(norm) and _mid_given(norm, g0, e) and _mid_end_ok(norm, e):
            return s, e  # 联系人杨其林一直 (session 18)
        if tier_ok and e <= len(norm) and _given_ok(norm[g0:e]) and _not_a_word(norm[s:e]):
            if norm.startswith(_FOLLOW_AFTER_TITLE_LONG, g0 + 1) and _given_ok(norm[g0], veto):
                return s, g0 + 1  # 当事人韩梅拒绝调解: 韩梅
            if _place_at(norm, g0 + 1) and _given_ok(norm[g0], veto):
                return s, g0 + 1  # 求助人刘金长龙街道居民: 刘金 (session 17)
            return s, e
        if norm[g0 : g0 + 1] in _SURNAME_ONLY_END and (tier_ok or norm[max(0, s - 2) : s].rstrip(" \t")[-1:] in ":："):
            # 户主：符，: a surname alone (a boundary-tier one after a colon: not 拆迁户名单，, 姓名权、)
            return s, g0
    return None


def _name_split(norm: str, s: int, g0: int) -> tuple[int, int] | None:
    """A name written with one space between the surname at ``s`` and the given name (a form: 姓名：李 娜  性别：女,
    反映人：刘 洋，住址): one or two given-name characters, then a space, a delimiter or the end; the name without
    the space no word of jieba's dictionary (session 19)."""
    for gl in (2, 1):
        e = g0 + 1 + gl
        cand = norm[s:g0] + norm[g0 + 1 : e]
        if (e <= len(norm) and _given_ok(norm[g0 + 1 : e]) and _boundary_at(norm, e) and _not_a_word(cand)
                and (cand not in _dictionary()[0] or cand in _dictionary()[2])):
            return s, e
    return None


def _name_after_speech(norm: str, s: int) -> tuple[int, int] | None:
    """The name right after 我就是 / 去找 (session 19: 他说我就是郑大勇，…; 你去找马建国，他是…): a common or compound
    surname and one or two given-name characters, then a delimiter; the name no word of jieba's dictionary (我就是
    本小区的业主, 你去找社区, 去找房东，) unless one tagged as a person's name."""
    words, _, persons, _ = _dictionary()
    for sl in _surname_len(norm, s):
        if sl == 1 and norm[s] not in _SURNAMES_COMMON:
            continue
        for gl in (2, 1):
            e = s + sl + gl
            cand = norm[s:e]
            if (e <= len(norm) and _given_ok(norm[s + sl : e]) and _boundary_at(norm, e) and not norm[e : e + 1].isalnum()
                    and _not_a_word(cand) and (cand not in words or cand in persons) and cand not in _LOW_WORDS):
                return s, e
    return None


def _name_xiao(norm: str, s: int, lo: int) -> tuple[int, int] | None:
    """The common surname after 小/老 at ``s`` (小周, 老李; the cue pattern has checked what follows): 小/老 stands at
    the text's start, after a character that is not Chinese or after one of _XIAO_PREV (网格员小周, 隔壁的老王; not
    奔小康), 小X/老X is none of _XIAO_NOT (小钱, 小康: 全民小康，on 附件4), and no place follows (老毛家桥市场 on
    附件3). Session 19."""
    if s > lo and _is_han(norm[s - 1]) and norm[s - 1] not in _XIAO_PREV:
        return None
    pair = norm[s : s + 2]
    if (pair in _XIAO_NOT or pair in _NOT_NAMES or (norm[s + 2 : s + 3] == "家" and norm[s + 3 : s + 4] in _PLACE_END)):
        return None
    return s + 1, s + 2


def _name_before_sex(norm: str, e: int, lo: int) -> tuple[int, int] | None:
    """The name right before ，男， / ，女， (a case record: 廖建军，男，六十二岁; session 19) that starts the text or
    follows a character that is not Chinese: a surname and one or two given-name characters, no word of jieba's
    dictionary unless one tagged as a person's name."""
    words, _, persons, _ = _dictionary()
    for k in (3, 2, 4):
        s = e - k
        if s < lo or (s > lo and (_is_han(norm[s - 1]) or norm[s - 1] in "<>")):
            continue
        for sl in _surname_len(norm, s):
            cand = norm[s:e]
            if (1 <= k - sl <= 2 and _given_ok(cand[sl:]) and _not_a_word(cand)
                    and (cand not in words or cand in persons) and cand not in _LOW_WORDS):
                return s, e
    return None


# What ends a place name after a name with no delimiter (求助人刘金长龙街道, 投诉人王平岳麓区, 来电人张丽雨花区;
# session 17): two Chinese characters, then one of these (not 市民, 区域 …).
_PLACE_SUFFIX = ("街道", "社区", "小区", "大道", "区", "镇", "乡", "县", "市", "路")
_PLACE_SUFFIX_NOT = ("市民", "区域", "市场", "县城", "镇上", "路过", "路上", "路边", "区别", "乡下", "乡亲", "市里")


def _place_at(norm: str, k: int) -> bool:
    """Whether a place name of two Chinese characters and a suffix (长龙街道, 岳麓区) starts at ``k``."""
    return (k + 3 <= len(norm) and _is_han(norm[k]) and _is_han(norm[k + 1])
            and norm.startswith(_PLACE_SUFFIX, k + 2) and not norm.startswith(_PLACE_SUFFIX_NOT, k + 2))


def _name_after_weak(norm: str, s: int, sl: int, g0: int, tier_ok: bool, kin: bool = False) -> tuple[int, int] | None:
    """The name at ``s`` after 我是/本人 (no colon) followed by a word of :data:`_SELF_FOLLOW`: a common or
    compound surname and one or two given-name characters that are no word of jieba's dictionary
    (我是周边居民, 我是白领 …) and do not start one of four or more characters. Two given-name characters
    unless the second one starts such a word itself (我是张伟要求 → 张伟). After a kinship cue (``kin``) 是 follows
    a name too, and a given name may start with a function character (session 18: 我父亲陈国华是, 我丈夫刘和平在)."""
    if not tier_ok:
        return None
    idiom_starts = _dictionary()[3]
    for gl in (2, 1):
        e = g0 + gl
        if e >= len(norm) or not _not_a_word(norm[s:e]):
            continue
        if not _given_ok(norm[g0:e]) and not (kin and gl == 2 and _mid_given(norm, g0, e)):
            continue
        if gl == 2 and (norm.startswith(_SELF_FOLLOW, g0 + 1) or (kin and norm[g0 + 1] == "是")):
            continue
        cand = norm[s:e]
        # 3 characters: the first two may be a word tagged as a person's name (本人龙飞利家住)
        if (_is_word(cand, sl, person_ok=gl == 2) or cand in idiom_starts
                or not (norm.startswith(_SELF_FOLLOW, e) or (kin and norm[e] == "是"))):
            continue
        return s, e
    return None


def _name_before(norm: str, e: int, lo: int, min_start: int, surname_only: bool = False) -> tuple[int, int] | None:
    """The name (or surname) that ends at ``e``, right before a title, or None; ``lo`` is where
    the text starts, the name starts at ``min_start`` or later. ``surname_only``: a lone surname only (before
    老板: 包工头杨老板; not 中石化老板, 石矿老板, 58车贷老板 — a business before 老板; session 19)."""
    for k in (4, 3, 2, 1):
        s = e - k
        if s < min_start:
            continue
        cand = norm[s:e]
        for sl in (2, 1):
            if sl > k or k - sl > 2 or (surname_only and k != sl):
                continue
            sur = cand[:sl]
            if sl == 2:
                if sur not in _SURNAMES_COMPOUND:
                    continue
            elif sur not in _SURNAMES_COMMON:
                if sur not in _SURNAMES_BOUNDARY:
                    continue
                prev = norm[s - 1] if s > lo else ""
                if prev and not _boundary_at(norm, s - 1) and (prev not in _NAME_PREV_OK or prev + sur in _NOT_NAMES):
                    continue
            elif s > lo and norm[s - 1] + sur in _NOT_NAMES:  # 提高医生
                continue
            elif k == 1 and s > lo and norm[s - 1 : s + 1] in _verb_sur():  # 照顾奶奶, 感谢书记 (session 18)
                continue
            if sl == 1 and k >= 2 and cand[-1] in _SURNAMES_COMMON and (k == 2 or sur not in _SURNAMES_COMMON):
                continue  # 感谢杨书记, 和肖警官, 纪检周书记: the surname is the one right before the title
            if k == 1 and sur in _NOT_SURNAME_AFTER and _ADDRESS_WORD.match(norm, e):
                continue  # 向书记反映, 和市长信箱: a function word, not a surname (尊敬的向书记：is one)
            if k == 1 and (sur == "原" or norm[s : e + 2] in ("车队长", "车组长")):  # 原镇长 (former)
                continue
            if _given_ok(cand[sl:]) and (k == sl or (_not_a_word(cand) and cand[sl:] not in _NOT_NAMES)):
                if k == 2 and sur in _SURNAMES_BOUNDARY and _is_word(cand, 1, person_ok=True):
                    continue  # 。海洋局长期: a word (a boundary-tier surname + one character)
                return s, e
    return None


# What may follow a name found after a title or in a list (besides a delimiter or a title): a word
# that follows names (同志, 等, 在, 带队, 表示 …). Not 高度重视 (书记高度重视: 高 is a surname).
_FOLLOW_AFTER_TITLE_LONG = ("等人", "带队", "带领", "表示", "指出", "回应", "主持", "召集", "亲自", "代表", "约谈",
                            "接待", "一行", "两位", "二人", "三人", "本人", "同意", "答应", "承诺", "告诉", "要求",
                            "负责", "分管", "多次", "一直", "立即", "认为", "进行", "高度重视", "同志", "咨询",
                            "汇报", "签收", "签字", "答复", "提出", "出示", "介绍", "部署", "报告", "面对", "取得",
                            "沟通", "确实", "做出", "作出", "花费", "包庇", "状告", "提拔", "上任", "强占", "出面",
                            "办公室", "分别", "独断", "接访", "无法", "拒绝", "出事", "牵头", "专门", "当即", "存在",
                            "所反映", "私自", "违法", "态度", "明知", "自己", "能够", "声称", "辩称", "回复",
                            "两次", "移交", "利用", "委托", "难辞")
# Verbs and adverbs after a name read from resources/privacy/follow_words.txt (session 14): those jieba's
# dictionary lacks (拒不, 出警, 卷款: 经理孙立波拒不退还) and those that end a name which is itself a word
# tagged as a person's name (保安队长严冬一起, 村委会主任雷鸣竟然).
_FOLLOW_WORDS_FILE = _resource_words("follow_words.txt")
_FOLLOW_MISSING = frozenset(_FOLLOW_WORDS_FILE.get("missing", []))
_FOLLOW_AFTER_TITLE_LONG += tuple(
    w for w in dict.fromkeys(_FOLLOW_WORDS_FILE.get("missing", []) + _FOLLOW_WORDS_FILE.get("known", []))
    if w not in _FOLLOW_AFTER_TITLE_LONG
)
# Session 18: words of a household or a count (于建国夫妇, 于建国兄弟俩, 陈和顺两户, 肖运财三户) and verbs of complaints
# jieba's dictionary lacks (出租车司机宋涛拒载, 网约车司机宋涛绕路, 村医刘明无证).
_FOLLOW_AFTER_TITLE_LONG += ("夫妇", "夫妻", "兄弟", "姐妹", "父子", "母子", "母女", "父女", "两户", "三户", "四户", "两家",
                             "拒载", "绕路", "绕道", "无证", "无照", "抽逃")
# the words of two or more characters that follow names, as a set (session 16: no name is one of them)
_FOLLOW_WORDS = frozenset(_FOLLOW_AFTER_TITLE_LONG)
# Session 19: 班主任罗丹强制学生, 村支书向阳带人强拆 (round 6).
_FOLLOW_AFTER_TITLE_LONG += ("强制", "带人")
_FOLLOW_WORDS = frozenset(_FOLLOW_AFTER_TITLE_LONG)
_FOLLOW_AFTER_TITLE = (*_FOLLOW, *_FOLLOW_AFTER_TITLE_LONG, "也", "已", "用", "开",
                       "曾", "对", "为", "任", "不", "没", "还", "就", "都", "将", "把", "被", "让", "给", "当",
                       "从", "到", "来", "去", "外", "家", "未", "每", "又", "（", "(")
_LIST_SEPS = frozenset("、和及与")
# 局长高兴地说; 先 科 举 其 万 向 do occur in given names there (主任邓兆先召集, 负责人郑科先同志,
# 副主任王举贤在, 董事长邢明向（: with a delimiter or a following word after the name, and 王先生 is a title)
# 虽 亦 乃 竟 皆 遂 仍: one-character words after a name (董事长邢森虽已辞职), never in a given name.
_GIVEN_NO_AFTER = (_GIVEN_NO - frozenset("先科举其万向")) | frozenset("地虽亦乃竟皆遂仍")


def _name_after_title(norm: str, e: int, role: bool = False) -> tuple[int, int] | None:
    """The name that starts at ``e``, right after a title (局长卢鸣鸿, 社区书记王五) or a list
    separator after a name (张三、李四), or None. A common or compound surname and one or two
    given-name characters, then a delimiter, a title or a word that follows names (同志, 在, 等,
    带队 …); a boundary-tier surname (和, 明, 申 …: 局长明查暗访, 局长申诉，) only with two given-name
    characters and a delimiter, or as :func:`_follows_boundary_one` says; 于 as :func:`_name_after_yu`
    says (书记于百忙之中 is none). With ``role`` (after a role word that is no title: 业主, 老板, 保安 …)
    a common or compound surname only, and a word of jieba's dictionary only before a word of
    _FOLLOW_AFTER_TITLE_LONG (老板李强拖欠, not 业主张贴的)."""
    n = len(norm)
    if e >= n:
        return None
    if role and norm[e] not in _SURNAMES_COMMON:
        span = _role_word_name(norm, e)  # 司机金山把, 保安长江对 (session 19)
        if span is not None:
            return span
    if norm[e] in _NOT_SURNAME_AFTER:
        if norm[e] == "于":  # after a role too (session 16: 业主于海家, 村民于红的; not 业主于今年, 村民于是)
            return _name_after_yu(norm, e)
        if norm[e] == "向" and not role:
            return _xiang_word_name(norm, e)  # 村支书向阳把 (session 19)
        return None
    for sl in _surname_len(norm, e):
        g0 = e + sl
        if g0 >= n or _TITLE_AT.match(norm, g0):  # 局长王书记: the title rule finds 王
            continue
        if role and sl == 2 and (norm[e + 1 : e + 3] in _dictionary()[0] or norm[e + 1 : e + 3] in _MODERN_WORDS):
            continue  # 老板上官网查, 老板上官方网站 (session 17): 官网, 官方 are words; 老板上官云 is a name
        common = sl == 2 or norm[e] in _SURNAMES_COMMON
        if role and not common:
            span = _role_boundary_name(norm, e) if sl == 1 else None
            if span is not None:
                return span  # 出纳程芳一起, 出纳程芳都 (session 19)
            continue
        if common and norm[g0] == "总" and (_boundary_at(norm, g0 + 1)
                                            or norm.startswith(_FOLLOW_AFTER_TITLE, g0 + 1)):
            return e, g0  # 负责人肖总，, 负责人彭总答复: the surname
        for gl in (2, 1) if common else (2,):
            end = g0 + gl
            if ((common or (not role and norm[e : e + 2] not in _dictionary()[1])) and gl == 2 and end < n
                    and _mid_given(norm, g0, end) and _mid_end_ok(norm, end)
                    and not _is_word(norm[e:end], sl, person_ok=True) and _not_a_word(norm[e:end])):
                return e, end  # 老板刘和平拒不, 网格员李为民多次, 村民陈和平、陈和顺 (session 18)
            # a given name that is a word tagged as a person's name (医生朱红梅开: 朱红 is a word; session 19)
            person_given = (sl == 1 and gl == 2 and common and end <= n and norm[g0:end] in _dictionary()[2]
                            and norm[g0:end] not in _NOT_NAMES and norm[e:end] not in _NOT_NAMES
                            and norm[e:end] not in _dictionary()[0])
            if end > n or not _given_ok_at(norm, g0, end, _GIVEN_NO_AFTER) or not (
                    _not_a_word(norm[e:end]) or person_given):
                continue
            if gl == 2 and norm.startswith(_FOLLOW_AFTER_TITLE_LONG, g0 + 1):  # 科长杨博认为
                continue
            if gl == 2 and norm[end - 1] in _VERB_ONE:  # 店主黄磊卖的: 黄磊 (session 16)
                continue
            if role and gl == 1 and sl == 1 and _role_person(norm, e, end):
                return e, end  # 老板李强说, 村民陈云家 (session 16)
            if norm[g0:end] in _NOT_NAMES or norm[g0 : g0 + 2] in _NOT_NAMES:  # 局长曾表示
                continue
            if gl == 2 and sl == 1 and norm[g0:end] in _attr_nouns():  # 局长高姿态处理, 主任高风格，
                continue
            if gl == 2 and sl == 1 and norm[e:end] in _dictionary()[3]:  # 业主何去何从
                continue
            if role and not person_given and (_is_word(norm[e:end], sl, person_ok=sl == 2) or norm[e:end] in _LOW_WORDS
                                              or norm[e:end] in _MODERN_WORDS):  # 老板上官云一直: a person-tagged word (session 18)
                continue  # 业主张贴的告示, 保安陈述了, 未经业主许可擅自, 业主钱款被
            if role and norm[e] in _VERB_NOT_SURNAME and (gl == 1 or norm[g0:end] in _dictionary()[1]):
                continue  # 业主曾向A7县…, 业主曾多次; 村民曾照雄 is a name
            if _boundary_at(norm, end) or (common and _TITLE_AT.match(norm, end)):
                return e, end
            if (common and norm.startswith(_FOLLOW_AFTER_TITLE, end)
                    and (person_given or not _is_word(norm[e:end], sl, person_ok=True))
                    and not (norm[e] in _VERB_NOT_SURNAME and norm[g0 : g0 + 2] in _dictionary()[0])):
                return e, end  # not 局长郑重承诺 (a word), 局长曾多次承诺 (曾 + a word); 书记曾国宪等
            if common and norm.startswith(_FOLLOW_AFTER_TITLE_LONG, end) and _noun_name(norm, e, end, sl):
                return e, end  # 村支书高山拒不, 组长陆海涛私分: a noun as a name, before a listed word
            if (common and end < n and norm[end] in _VERB_ONE
                    and (person_given or not _is_word(norm[e:end], sl, person_ok=True))
                    and norm[end - 1 : end + 1] not in _dictionary()[1]):
                return e, end  # 保安李军推了, 房东张敏华扣了 (session 16); not 业主肖钢诈骗 (诈骗)
        if not role and sl == 1 and g0 + 1 < n and _word_name(norm, e, g0 + 1):
            return e, g0 + 1  # 所长严明当场, 副镇长万里说, 村主任方正把, 书记江山让 (session 16)
        if not common and g0 + 1 < n and (_follows_boundary_one(norm, e, g0)
                                          or _follows_boundary_one(norm, e, g0, person=True)):
            return e, g0 + 1
        if g0 + 1 < n and _is_han(norm[g0 + 1]) and norm[e] not in _VERB_NOT_SURNAME:
            span = _name_before_word(norm, e, sl, common, role)
            if span is not None:
                return span
    return None


# Session 16. Characters the given-name veto refuses that occur in names after a title or a role (干部李祥再,
# 业主王建业, 村主任张家明, 经理陈月英, 民警赵士杰, 社区主任李会军, 包工头杨国栋): allowed in a two-character given
# name that is no word of jieba's dictionary (会计, 家长, 月底, 再说, 护士, 开会 are), 家 not before a character
# that ends a place name (村民李家湾组, 王家坝).
_GIVEN_RELAX = frozenset("业家月士会再栋")
# Words that jieba's dictionary (from about 2012) lacks and that follow a role word or make up a compound
# surname's second character and the next one (管家高冷，, 老板上官网查; session 17).
_MODERN_WORDS = frozenset(("高冷", "官网", "官微", "高铁", "高配", "高薪"))
_PLACE_END = frozenset("湾坝岭沟冲坪塘桥村庄寨屯河山口港店园湖洲堡台营圩垸铺场院界")
# One-character verbs after a name (店主黄磊卖, 老板王涛打, 保安李军推, 房东张敏华扣): never the last given-name
# character, and evidence of a name after a title or a role word. Session 16.
_VERB_ONE = frozenset("卖打推扣骂拿收抢砸踢撕偷骗欠拦抓砍逼签帮")
# One-character words after a dictionary word that is a name after a title (所长严明却, 副镇长万里说, 村主任方正把,
# 书记江山让, 镇长文明又): see _word_name. Not 不 没 的 地 (副镇长万事不管, 所长严厉地说). Session 16.
_FOLLOW_ONE_WORD_NAME = frozenset(_ONE_WORD_FOLLOW)
# Adverbs that an adjective does not come before: after one of them an adjective word of _WORD_NAMES_ONE is a name
# (所长严明当场, 副局长万里迟迟; session 17; not 局长郑重承诺, 科长万般推脱: verbs).
_FOLLOW_ADVERB_NAME = ("当场", "当即", "迟迟", "亲自", "始终", "至今", "从未", "从不", "一直", "一再", "多次", "屡次")


def _given_ok_at(norm: str, g0: int, end: int, veto: frozenset[str]) -> bool:
    """:func:`_given_ok` on ``norm[g0:end]``, or a two-character given name with a character of _GIVEN_RELAX; that
    given name may be a word (王建业) only before a word that follows names (业主王建业私自; session 17)."""
    given = norm[g0:end]
    if _given_ok(given, veto):
        return True
    if len(given) != 2 or not _given_ok(given, veto - _GIVEN_RELAX):
        return False
    if given in _LOW_WORDS or (given[0] == "家" and given[1] in _PLACE_END):
        return False
    if given[1] == "家" and norm[end : end + 1] in ("的", "里", "门"):  # 村民司马青家的: 司马青 (session 18)
        return False
    if given in _dictionary()[0]:
        return (given[-1] in _GIVEN_RELAX and given not in _NOT_GIVEN and given not in _FOLLOW_WORDS
                and norm.startswith(_FOLLOW_AFTER_TITLE_LONG, end))
    return True


# Session 18. Function characters that start two-character given names (刘和平, 李为民, 张自力, 陈之恒, 王以成,
# 杨其林): _GIVEN_NO refuses them (局长王和大家, 经理张为难我们, 主任李自己), so they are taken only as the first of two
# given-name characters that are no function word (以前, 之后, 其实, 为了, 自己: _NOT_GIVEN), the second no vetoed
# character nor, after 和, a surname (业主王和李), and only before a delimiter, a title, a word that follows names or
# a one-character verb or adverb, the last given-name character and the next one starting no word (王和大家).
_GIVEN_MID = frozenset("和为自以之其")


def _mid_given(norm: str, g0: int, end: int) -> bool:
    """Whether ``norm[g0:end]`` is a two-character given name that starts with a character of _GIVEN_MID."""
    given = norm[g0:end]
    if len(given) != 2 or given[0] not in _GIVEN_MID or not _given_ok(given[1], _GIVEN_NO_AFTER):
        return False
    if given[0] == "和" and (given[1] in _SURNAMES_COMMON or given[1] in _SURNAMES_BOUNDARY):
        return False
    _dictionary()
    return given not in _NOT_GIVEN and given not in _FOLLOW_WORDS and given not in _NOT_NAMES


def _mid_end_ok(norm: str, end: int) -> bool:
    """The evidence after a name with a given name of :func:`_mid_given` that ends at ``end``."""
    if _boundary_at(norm, end) or _TITLE_AT.match(norm, end):
        return True
    words, starts, _, _ = _dictionary()
    if norm[end - 1 : end + 1] in starts or norm[end] == "家":
        return False
    return (norm.startswith(_FOLLOW_AFTER_TITLE, end) or norm[end] in _VERB_ONE or norm[end] in _FOLLOW_ONE_WORD_NAME
            or norm[end] in _FOLLOW_ONE)


# Delimiters after which a person-tagged word after a role is a name (session 17: 业主李强、王伟, 村民陈云，今年七十岁,
# 老板马超。); session 15 had refused them (wrong 5 times of 6 on 附件3/4, before _NAME_FINALS).
_ROLE_NAME_END = frozenset("，、。：:,；;")


def _role_person(norm: str, e: int, end: int) -> bool:
    """A word tagged as a person's name after a role word (老板李强说, 村民陈云家, 司机马超把; session 16): its last
    character ends many names (_NAME_FINALS), and a word that follows names, a one-character adverb or verb
    comes next (not a delimiter: 村民陈云，was right once, a person-tagged word before a delimiter after a
    role wrong five times on 附件3/4 in session 15), and it and the next character start no longer word."""
    words, starts, persons, idiom_starts = _dictionary()
    cand = norm[e:end]
    place = cand in _PLACE_NAMES and cand not in persons
    if (not place and (cand not in persons or cand[-1] not in _NAME_FINALS)) or cand in _FOLLOW_WORDS:
        return False
    if end >= len(norm):
        return not place
    if norm[e : end + 1] in idiom_starts or norm[e : end + 1] in words:
        return False
    if norm[end] in _ROLE_NAME_END and not place:  # 业主李强、王伟, 村民陈云， (session 17)
        return True
    return (norm.startswith(_FOLLOW_AFTER_TITLE, end) or norm[end] in _VERB_ONE or norm[end] in _FOLLOW_ONE)


def _word_name(norm: str, e: int, end: int) -> bool:
    """A two-character word of jieba's dictionary (a single surname and one character) as a name after a title
    (session 16): tagged as a person's name or a place, or an adjective or numeral under 1,000 frequent
    (_WORD_NAMES, _WORD_NAMES_ONE: 严明, 万里, 方正, 江山, 文明; a person-tagged one ending in a character of
    _NAME_FINALS: not 张口), none of not_names.txt (严格, 向阳), it and the next character
    start no word (局长万里迢迢), and a one-character word of _FOLLOW_ONE_WORD_NAME or a word that follows names
    comes next (所长严明当场, 副镇长万里说, 村主任方正把; not 局长严明纪律, 局长文明执法, 经理高峰期)."""
    if end >= len(norm):
        return False
    words, starts, persons, idiom_starts = _dictionary()
    cand = norm[e:end]
    if (cand in _NOT_NAMES or norm[e : end + 1] in idiom_starts or norm[e : end + 1] in words
            or cand in _FOLLOW_WORDS):  # 校长扬言说道: 扬言 (tagged as a name) follows names
        return False
    if cand in _WORD_NAMES_ONE:
        return norm[end] in _FOLLOW_ONE_WORD_NAME or norm.startswith(_FOLLOW_ADVERB_NAME, end)
    if cand not in _WORD_NAMES or (cand in persons and cand[-1] not in _NAME_FINALS):  # 院长张口就骂人
        return False
    return norm[end] in _FOLLOW_ONE_WORD_NAME or norm.startswith(_FOLLOW_AFTER_TITLE_LONG, end)


def _noun_name(norm: str, e: int, end: int, sl: int) -> bool:
    """Whether a name candidate that is a word (or starts with one) may still be a name before a word
    of two or more characters that follows names (_FOLLOW_AFTER_TITLE_LONG): the word is a noun or a
    place of jieba's dictionary (高山拒不, 马力威胁, 陆海涛私分), not an adverb, an adjective or a time
    (主任马上, 局长严格, 经理白天, 队长陆续 …), and the candidate and the next character are not the
    start of a word of four or more (高山 of 高山流水 only before 流)."""
    words, _, _, idiom_starts = _dictionary()
    cand = norm[e:end]
    if cand in idiom_starts and (len(cand) == 3 or norm[e : end + 1] in idiom_starts) or not _not_a_word(cand):
        return False
    if cand in words:
        return cand in _NOUNS
    return sl == 1 and len(cand) == 3 and cand[:2] in _NOUNS


def _follows_boundary_one(norm: str, e: int, g0: int, person: bool = False) -> bool:
    """Whether a boundary-tier surname at ``e`` and the one given-name character at ``g0`` are a name:
    followed by a word that follows names of two or more characters (组长程亮冒领, 社区主任金鑫一直推诿),
    the two characters starting no word of jieba's dictionary (局长明确表示, 局长方面表示 are words).
    With ``person``: the two characters are a word tagged as a person's name instead (社区书记常青至今,
    组长金山私自; session 15), and they and the next character start no word of four or more."""
    cand = norm[e : g0 + 1]
    if not (_given_ok(norm[g0], _GIVEN_NO_VERB) and _not_a_word(cand) and norm[g0] not in _NOT_NAMES
            and norm.startswith(_FOLLOW_AFTER_TITLE_LONG, g0 + 1) and not norm.startswith(_FOLLOW_AFTER_TITLE_LONG, g0)):
        return False
    _, starts, persons, idiom_starts = _dictionary()
    if person:
        return cand in persons and norm[e : g0 + 2] not in idiom_starts
    return cand not in starts




def _role_word_name(norm: str, e: int) -> tuple[int, int] | None:
    """A two-character word of jieba's dictionary tagged as a person's name or a place that starts with a
    boundary-tier surname or the first character of a compound one and ends with a character of _NATURE_FINALS, as a
    name right after a role word (session 19: 司机金山把快递扔, 保安长江对老人; 金 is a boundary-tier surname, 长 only
    starts 长孙): then a one-character word of _ROLE_WORD_FOLLOW or (session 20) a word of _ROLE_WORD_FOLLOW_TWO
    (货车司机金山每天, 门卫长江不让), the word and the next character starting no word (not 村民金山区, 门卫长江路,
    保安长江大桥)."""
    end = e + 2
    if end >= len(norm) or norm[e + 1] not in _NATURE_FINALS or not (
            norm[end] in _ROLE_WORD_FOLLOW or norm.startswith(_ROLE_WORD_FOLLOW_TWO, end)):
        return None
    words, _, _, idiom_starts = _dictionary()
    cand = norm[e:end]
    if (cand not in _WORD_NAMES or cand in _NOT_NAMES or cand in _FOLLOW_WORDS or norm[e : end + 1] in words
            or norm[e : end + 1] in idiom_starts):
        return None
    return e, end


def _xiang_word_name(norm: str, e: int) -> tuple[int, int] | None:
    """向 + one character as a name right after a title (session 19: 村支书向阳把低保名额…, 村支书向阳带人强拆): 向 is a
    preposition there far more often (书记向群众道歉, 书记向阳光小区的业主道歉), so only a two-character word tagged
    as a person's name (向阳; not_names.txt lists it for 向阳小区), then a one-character word of _FOLLOW_ONE_WORD_NAME
    or a word that follows names, the word and the next character starting no word."""
    end = e + 2
    if end >= len(norm):
        return None
    words, _, persons, idiom_starts = _dictionary()
    cand = norm[e:end]
    if cand not in persons or norm[e : end + 1] in words or norm[e : end + 1] in idiom_starts:
        return None
    if norm[end] in _FOLLOW_ONE_WORD_NAME or norm.startswith(_FOLLOW_AFTER_TITLE_LONG, end):
        return e, end
    return None


def _role_boundary_name(norm: str, e: int) -> tuple[int, int] | None:
    """A boundary-tier surname (程, 金, 方 …; not 和 向 于 …) and one given-name character right after a role word
    (session 19: 村会计和出纳程芳一起做假账, round 6's 出纳程芳都不在). The role gate takes common surnames only (业主代表,
    村民安全 …), so: the two characters start no word, the given-name character ends many names (_NAME_FINALS), and
    a word of _ROLE_BOUNDARY_FOLLOW comes next (会计程亮说: 计程 of 计程车 does not matter). Tried first with two given-name characters or a delimiter next: 13 false spans on 附件3/附件4 (确保安全生产,
    居民车拥量也, 司机方来，, 物业主管申报 …) against 3 names (法人易兴祖，, 业主符金屏，). Session 20: those three, as a
    boundary-tier surname and two given-name characters before 、。，；, none of the two-character pieces (surname and
    first given-name character, the given name, the role's last character and the surname) starting a word, the
    name no word: on 附件3/附件4 法人易兴祖，and 业主符金屏，(twice) and nothing else (确保安全度汛。 before the last
    condition)."""
    words, starts, _, _ = _dictionary()
    end3 = e + 3
    if (end3 < len(norm) and norm[end3] in _ROLE_BOUNDARY_END and norm[e] in _ROLE_BOUNDARY_SUR
            and _given_ok(norm[e + 1 : end3], _GIVEN_NO_AFTER) and norm[e : e + 2] not in starts
            and norm[e - 1 : e + 1] not in starts  # 确保安全度汛。: 安全 (保安 is no role there)
            and norm[e + 1 : end3] not in starts and norm[e:end3] not in words and norm[e : e + 2] not in _LOW_WORDS
            and norm[e + 1 : end3] not in _LOW_WORDS and _not_a_word(norm[e:end3])):
        return e, end3  # 法人易兴祖，, 业主符金屏， (session 20)
    end = e + 2
    if (end >= len(norm) or norm[e] not in _ROLE_BOUNDARY_SUR or norm[e : end] in starts
            or norm[e + 1] not in _NAME_FINALS):
        return None
    cand = norm[e:end]
    if cand in _LOW_WORDS or not _not_a_word(cand) or not _given_ok(norm[e + 1], _GIVEN_NO_AFTER):
        return None
    if norm.startswith(_ROLE_BOUNDARY_FOLLOW, end):
        return e, end
    return None


def _name_after_yu(norm: str, e: int) -> tuple[int, int] | None:
    """A name with the surname 于 right after a title (副局长于洋表示, 社区主任于海涛多次推诿, 民警于斌、),
    or None: 于 is a preposition there far more often (局长于百忙之中, 局长于3月5日, 书记于会上, 局长于是,
    主任于心不忍). One or two given-name characters that start no time, adverb, pronoun or numeral
    (于昨天, 于此次, 于本月), 于 and the first one no word unless a noun, a place or a person's name
    (于是, 于今; 于洋 is a place), nor the start of a word of four or more (于心不忍); then a
    delimiter, a title or a word that follows names."""
    n = len(norm)
    words, _, persons, idiom_starts = _dictionary()
    if norm[e + 1 : e + 3] in _NOT_GIVEN:
        return None
    head = norm[e : e + 2]
    if head in idiom_starts or (head in words and head not in _NOUNS and head not in persons):
        return None
    for gl in (2, 1):
        end = e + 1 + gl
        if end > n or not _given_ok(norm[e + 1 : end], _GIVEN_NO_AFTER) or not _not_a_word(norm[e:end]):
            continue
        if norm[e + 1 : end] in _NOT_NAMES or (gl == 2 and norm.startswith(_FOLLOW_AFTER_TITLE_LONG, e + 2)):
            continue
        if _boundary_at(norm, end) or _TITLE_AT.match(norm, end) or norm.startswith(_FOLLOW_AFTER_TITLE, end):
            return e, end
    return None


# Characters that start no given name after a title when a word follows (邢森虽潜逃, 陈蕊仅于): words
# of one character that follow a name, besides those of _GIVEN_NO.
_GIVEN_NO_VERB = _GIVEN_NO_AFTER | frozenset("曾速硬跟")
# Surnames that are an adverb right after a title when a word follows (负责人曾多次找到): not here,
# and before a word that follows names not when a word comes next (局长曾多次承诺; 书记曾国宪等 is a name).
_VERB_NOT_SURNAME = frozenset("曾")
# One-character words that may follow a name (潘小军速赶赴, 毛浚却一直, 陈蕊仅于): adverbs and conjunctions.
_FOLLOW_ONE = frozenset("却虽仅亦乃竟皆均便即遂则才仍速硬以之")


def _attr_nouns() -> frozenset[str]:
    """:data:`_ATTR_NOUNS`, the dictionary read first."""
    _dictionary()
    return _ATTR_NOUNS


def _is_word(cand: str, sl: int, person_ok: bool = False) -> bool:
    """Whether a name candidate (a surname of ``sl`` characters and the given name) is a word of
    jieba's dictionary, or its first two characters are one after a single surname (高度重 of 高度重视);
    with ``person_ok`` a word tagged as a person's name is none (站长韦小宝说, 所长田野带领)."""
    words, _, person, _ = _dictionary()
    if cand in words:
        return not (person_ok and cand in person)
    if sl == 1 and len(cand) == 3 and cand[1] == "家" and cand[2] not in _PLACE_END_FAMILY and cand[1:] not in words:
        return False  # 周家豪 (周家 is a word: the Zhou family), not 周家湾, 王家屋场, 李家里 (session 18)
    return sl == 1 and len(cand) == 3 and cand[:2] in words and not (person_ok and cand[:2] in person)


# What ends a place or a household after a surname and 家 (周家湾, 王家屋场, 李家门口): not a given name there.
_PLACE_END_FAMILY = _PLACE_END | frozenset("屋巷街组门里中人户族")


def _name_before_word(norm: str, e: int, sl: int, common: bool, role: bool = False) -> tuple[int, int] | None:
    """A name right after a title followed directly by a word (局长黄淼带头, 董事长罗平卫纠集, 局长李鸿指着):
    a surname (``sl`` characters at ``e``) and one or two given-name characters that are no word of
    jieba's dictionary (书记高度重视, 科长严格把关, 董事长孙子结婚 are words), then what starts a word of
    the dictionary or an adverb of _FOLLOW_ONE. Two given-name characters unless the second one starts
    a more frequent word than the one after it (李鸿指着地图: 指着 against 着地). A boundary-tier surname
    (段, 金, 安, 方 …: 局长安排人员) only with two given-name characters that start no word either."""
    words, starts, _, idiom_starts = _dictionary()
    g0 = e + sl
    for gl in (2, 1) if common else (2,):
        end = g0 + gl
        if end >= len(norm) or not _given_ok_at(norm, g0, end, _GIVEN_NO_VERB):
            continue
        if gl == 2 and norm[end - 1] in _VERB_ONE:  # 店主黄磊卖过期食品: 黄磊 (session 16)
            continue
        cand = norm[e:end]
        if not _not_a_word(cand) or norm[g0:end] in _NOT_NAMES or norm[g0 : g0 + 2] in _NOT_NAMES:
            continue
        if _is_word(cand, sl) or (sl == 1 and cand in idiom_starts):  # 所长石沉大海, 院长高风亮节
            continue
        if gl == 2 and sl == 1 and norm[g0:end] in _ATTR_NOUNS:  # 局长高姿态处理
            continue
        if role and norm[e:end] in _LOW_WORDS:  # 村干部高息借贷
            continue
        if not common and (cand[:2] in starts or cand in starts or norm[g0:end] in starts):
            continue
        follow = starts.get(norm[end : end + 2], 0)
        if not follow and norm[end] not in _FOLLOW_ONE:
            continue
        if gl == 2 and (starts.get(norm[end - 1 : end + 1], 0) > follow or norm[end - 1 : end + 1] in _FOLLOW_MISSING):
            continue  # 武斌拒不接访: 拒不 (follow_words.txt) is no word of the dictionary
        return e, end
    return None


# What may stand between a role word and a name set off from it (session 17): a space, an opening quote mark.
_ROLE_NAME_OPEN = frozenset(" \t\u3000" + _QUOTES_OPEN)


def _name_set_off(norm: str, e: int) -> tuple[int, int] | None:
    """A name set off after a role word by a space or quote marks (业主 黄丽华 反映, 业主“张海燕”在): a common or
    compound surname and one or two given-name characters, then the same space or the closing quote mark (or,
    after a space, the end of the text or a delimiter), the name no word of jieba's dictionary. Session 17."""
    opener = norm[e]
    closers = _QUOTES_CLOSE if opener in _QUOTES_OPEN else " \t\u3000"
    s = e + 1
    for sl in _surname_len(norm, s):
        if sl == 1 and norm[s] not in _SURNAMES_COMMON:
            continue
        for gl in (2, 1):
            end = s + sl + gl
            if end > len(norm) or not _given_ok(norm[s + sl : end]) or not _not_a_word(norm[s:end]):
                continue
            if _is_word(norm[s:end], sl, person_ok=True) or norm[s:end] in _LOW_WORDS:
                continue
            if (end < len(norm) and norm[end] in closers) or (opener not in _QUOTES_OPEN and _boundary_at(norm, end)):
                return s, end
    return None


# What ends a list of names after 本组 … (陈松长四家人, 肖运财三户, 王五等): a count of households or people, 等.
_LIST_CUE_END = re.compile("[两二三四五六七八九十几]+(?:家|户|位|个|人)|等|共")


def _list_after_cue(norm: str, e: int) -> list[tuple[int, int]]:
    """The names listed right after 本组/该组/本村 … at ``e`` (session 18): two or more, separated by ，、, each a
    common or compound surname and one or two given-name characters (a function character first only as
    :func:`_mid_given` says), no word of jieba's dictionary, the last one before a delimiter, a word that follows
    names or a count (四家人, 三户, 等). All or none."""
    n = len(norm)
    items: list[tuple[int, int]] = []
    pos = e
    while pos < n:
        found = None
        for sl in _surname_len(norm, pos):
            if sl == 1 and norm[pos] not in _SURNAMES_COMMON:
                continue
            g0 = pos + sl
            for gl in (2, 1):
                end = g0 + gl
                if end > n or not (_given_ok(norm[g0:end]) or (gl == 2 and _mid_given(norm, g0, end))):
                    continue
                cand = norm[pos:end]
                if not _not_a_word(cand) or _is_word(cand, sl, person_ok=True) or cand in _LOW_WORDS:
                    continue
                sep = end < n and norm[end] in "，、," and end + 1 < n
                last = (_boundary_at(norm, end) or norm.startswith(_FOLLOW_AFTER_TITLE_LONG, end)
                        or _LIST_CUE_END.match(norm, end) is not None)
                if sep or last:
                    found = (pos, end, sep)
                    break
            if found:
                break
        if found is None:
            break
        items.append(found[:2])
        if not found[2]:
            break
        pos = found[1] + 1
        if norm[pos] in " \t":
            pos += 1
    if len(items) < 2:
        return []
    a, b = items[-1]
    if not (_boundary_at(norm, b) or norm.startswith(_FOLLOW_AFTER_TITLE_LONG, b) or _LIST_CUE_END.match(norm, b)):
        items.pop()  # the last one before a separator but what follows it is no name
        if len(items) < 2:
            return []
    return items


def _name_list(norm: str, e: int) -> list[tuple[str, int, int]]:
    """The names listed right after a name that ends at ``e``: 、X, 和X, 及X, 与X (沈国生、蒋斌)."""
    out: list[tuple[str, int, int]] = []
    while e < len(norm) - 1 and norm[e] in _LIST_SEPS:
        span = _name_after_title(norm, e + 1)
        if span is None:
            break
        out.append(("NAME", *span))
        e = span[1]
    return out


def _name_candidates(norm: str, starts: list[int] | None = None) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    weak: set[int] = set()  # where the names found after 我是/本人 without a colon start
    search, match = _NAME_GATE.search, _NAME_CUE.match
    cue_first = _NAME_CUE_FIRST
    found = _find_cue_hits(norm)  # 我是/本人, merged with the gate's hits in order
    pos = 0
    while True:
        hit = search(norm, pos)
        j = bisect_left(found, pos)
        if hit is None and j == len(found):
            break
        t = min(hit.start() if hit is not None else len(norm), found[j] if j < len(found) else len(norm))
        for s0 in range(max(pos, t - _CUE_BACK), t + 1):  # the cue that holds the hit
            if cue_first is not None and norm[s0] not in cue_first:  # no cue starts here
                continue
            m = match(norm, s0)
            if m is not None and m.end() > t:
                break
        else:  # 老师们 …
            pos = t + 1
            continue
        pos = m.end()
        kind = m.lastgroup
        after = None  # a name right after a title (局长卢鸣鸿), besides one before it (王书记卫欧阳)
        if kind == "title":
            ts = m.start()
            lo = 0 if starts is None else starts[bisect_right(starts, ts) - 1]
            # not into the name found before it
            span = _name_before(norm, ts, lo, max(lo, out[-1][2]) if out else lo,
                                surname_only=m.group(kind).startswith("老板"))
            if (m.group(kind).lstrip("副总老") in _PRE_TITLES
                    and not (m.group(kind) == "主任" and ts > lo and norm[ts - 1] == "业"  # 业主任何, 业主任意
                             and norm[ts + 1 : ts + 3] in _dictionary()[1])  # not 物业主任王强
                    and not (m.group(kind) in ("市长", "区长", "县长") and ts > lo and norm[ts - 1].isascii()
                             and norm[ts - 1].isalnum())):
                after = _name_after_title(norm, m.end())
            elif m.group(kind) in _ROLE_TITLES:  # 主治医生陈明说, 老师贺敏体罚学生 (as after a role)
                after = _name_after_title(norm, m.end(), role=True)
        elif kind == "listcue":  # 本组肖和均，肖利红，… (session 18)
            for sp in _list_after_cue(norm, m.end()):
                out.append(("NAME", *sp))
            continue
        elif kind == "pretitle":  # 民警张晖, 负责人王强
            span = _name_after_title(norm, m.end())
            if span is None and m.group(kind).rstrip(" \t")[-1:] in ":：":
                # 负责人：向冬云 (session 19): after a colon as after 姓名：, no character of _GIVEN_NO in the given name
                strong = _name_after(norm, m.end(), True)
                if strong is not None and _given_ok(norm[strong[0] + 1 : strong[1]]):
                    span = strong
        elif kind == "role":  # 业主张伟, 老板李强 (session 15)
            span = _name_after_title(norm, m.end(), role=True)
            if span is None and m.end() < len(norm) and norm[m.end()] in _ROLE_NAME_OPEN:
                span = _name_set_off(norm, m.end())
        elif kind == "speech":  # 我就是郑大勇，, 你去找马建国， (session 19)
            span = _name_after_speech(norm, m.end())
        elif kind == "ethnic":  # 扎西顿珠, 阿依古丽, 买买提·艾力 (session 19)
            span = m.span(kind)
        elif kind == "xiao":  # 小周每次, 老李家 (session 19)
            lo = 0 if starts is None else starts[bisect_right(starts, m.start()) - 1]
            span = _name_xiao(norm, m.start(), lo)
        elif kind == "sexmark":  # 廖建军，男， (session 19)
            lo = 0 if starts is None else starts[bisect_right(starts, m.start()) - 1]
            span = _name_before_sex(norm, m.start(), max(lo, out[-1][2]) if out else lo)
        elif kind in ("quoted", "quoted2", "quoted3"):
            qs, qe = m.span(kind)
            span = None
            for sl in _surname_len(norm, qs):
                if 1 <= qe - qs - sl <= 2 and _given_ok(norm[qs + sl : qe]) and _not_a_word(norm[qs:qe]):
                    span = (qs, qe)
                    break
        else:  # a self-introduction; 本人：X is as strong as 姓名：X
            span = _name_after(norm, m.end(), kind == "strong" or m.group("colon") is not None,
                               kin=kind == "weak" and m.group("weak") not in _FIND_CUES)
            if span is not None and kind == "weak" and m.group("colon") is None:
                weak.add(span[0])  # 本人华悦城（: named again, a wrong one would be wrong again
        for sp in (span, after):
            if sp is not None:
                out.append(("NAME", sp[0], sp[1]))
                out += _name_list(norm, sp[1])
    return _name_references(norm, out, starts, weak) if out else out


# Words that follow the name of a school, a firm or an estate, not a person's (温斯顿英语, 温斯顿员工,
# 金太阳幼儿园): a found name that its text also writes before one of them is no name there.
_ORG_AFTER = ("英语", "培训", "学校", "学院", "幼儿园", "小学", "中学", "大学", "教育", "公司", "集团", "医院",
              "诊所", "酒店", "宾馆", "超市", "商场", "广场", "花园", "小区", "物业", "校区", "员工", "门店", "机构",
              "银行", "药房", "药店", "餐厅", "饭店", "工厂", "楼盘", "置业", "地产", "房产", "家园", "新城",
              "国际", "科技", "汽车", "中心", "有限", "分店", "总店", "专卖")


def _name_references(norm: str, out: list[tuple[str, int, int]], starts: list[int] | None,
                     weak: set[int]) -> list[tuple[str, int, int]]:
    """The names found, then the same names elsewhere in the same text (within-text back-references):

    - a three-character name whose first two characters are also found as a whole name in that text
      is that name (民警张晖、… 民警张晖朝伪造: 张晖, 朝 is "towards");
    - another occurrence of a found name of three or more characters (组长何伟明有事，何伟明到了后),
      or of two when no Chinese character, a title or a word that follows names (在, 说, 表示 …)
      follows it; not a name that is a word of jieba's dictionary, nor one found only after
      我是/本人 without a colon (本人华悦城（: a name found wrongly stays one, not many);
    - the given name of a found single-surname name with two given-name characters, right before
      a title (李炼红 … 炼红书记: 炼红), unless it is a word of the dictionary (王建国 … 建国书记) or
      the surname precedes it (then the whole name is found again)."""

    def text_of(a: int) -> int:
        return 0 if starts is None else bisect_right(starts, a) - 1

    def bounds(j: int) -> tuple[int, int]:
        return (0, len(norm)) if starts is None else (starts[j], starts[j + 1] - 1)

    # a "name" the same text also writes before an organisation word is the organisation's name
    # (温斯顿老师 … 温斯顿英语培训学校, 温斯顿员工): none of its places is a name
    vetoed: set[tuple[int, str]] = set()
    checked: set[tuple[int, str]] = set()
    for _, a, b in out:
        key = (text_of(a), norm[a:b])
        if b - a < 2 or key in checked:
            continue
        checked.add(key)
        lo, hi = bounds(key[0])
        k = norm.find(key[1], lo, hi)
        while k >= 0:
            if norm.startswith(_ORG_AFTER, k + b - a):
                vetoed.add(key)
                break
            k = norm.find(key[1], k + 1, hi)
    if vetoed:
        out = [x for x in out if (text_of(x[1]), norm[x[1] : x[2]]) not in vetoed]
    found: dict[int, set[str]] = {}
    for _, a, b in out:
        found.setdefault(text_of(a), set()).add(norm[a:b])
    res = list(out)
    for i, (kind, a, b) in enumerate(out):
        if (b - a == 3 and norm[a] not in _SURNAMES_COMPOUND_FIRST and norm[a : b - 1] in found[text_of(a)]
                and not _boundary_at(norm, b) and not _TITLE_AT.match(norm, b)
                and not norm.startswith(_FOLLOW_AFTER_TITLE, b)):
            res[i] = (kind, a, b - 1)
    by_text: dict[int, set[str]] = {}  # the names to look for again, as cut
    for _, a, b in res:
        if a not in weak:
            by_text.setdefault(text_of(a), set()).add(norm[a:b])
    words, word_starts, _, _ = _dictionary()
    extra: list[tuple[str, int, int]] = []
    for j, names in by_text.items():
        lo, hi = bounds(j)
        for name in names:
            if name in words and name in _WORD_NAMES and len(name) == 2:
                extra += _word_name_again(norm, name, lo, hi, res)
                continue
            if len(name) < 2 or name in words or name in _LOW_WORDS:
                continue
            k = norm.find(name, lo, hi)
            while k >= 0:
                end = k + len(name)
                if (len(name) >= 3 or _boundary_at(norm, end) or _TITLE_AT.match(norm, end)
                        or norm.startswith(_FOLLOW_AFTER_TITLE, end)
                        or _word_after_name(norm, k, end, words, word_starts)):
                    extra.append(("NAME", k, end))
                k = norm.find(name, end, hi)
            if len(name) == 3 and name[0] not in _SURNAMES_COMPOUND_FIRST and name[1:] not in words:
                given = name[1:]
                k = norm.find(given, lo, hi)
                while k >= 0:
                    end = k + 2
                    if _TITLE_AT.match(norm, end) and (k == lo or norm[k - 1] != name[0]):
                        extra.append(("NAME", k, end))
                    k = norm.find(given, end, hi)
    lone = [x for x in res if x[2] - x[1] == 1]
    if extra and lone:  # a lone surname found inside a found name named again (广东周南武老板: 周南武, not 武; session 19)
        covered = {i for _, a, b in extra for i in range(a, b)}
        res = [x for x in res if x[2] - x[1] > 1 or x[1] not in covered]
    return res + extra


def _word_name_again(norm: str, name: str, lo: int, hi: int,
                     found: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """A found name that is a word of jieba's dictionary tagged as a person's name or a place (江山, 高山), named
    again in the same text (session 17: 局长江山说会处理，可江山至今, 村民高山反映…，高山家的): only before a
    one-character word of _FOLLOW_ONE_WORD_NAME, 家 or an adverb of _FOLLOW_ADVERB_NAME, after no Chinese
    character or a one-character word (可, 但, 而 …), the word and the next character starting no word."""
    words, starts, _, idiom_starts = _dictionary()
    have = {(a, b) for _, a, b in found}
    out = []
    k = norm.find(name, lo, hi)
    while k >= 0:
        end = k + 2
        if ((k, end) not in have and end < hi
                and (norm[end] in _FOLLOW_ONE_WORD_NAME or norm[end] == "家" or norm.startswith(_FOLLOW_ADVERB_NAME, end)
                     or norm.startswith(_FOLLOW_AGAIN, end))
                and norm[k : end + 1] not in words and norm[k : end + 1] not in idiom_starts
                and (k == lo or not _is_han(norm[k - 1]) or norm[k - 1] in _BEFORE_NAME_AGAIN)):
            out.append(("NAME", k, end))
        k = norm.find(name, end, hi)
    return out


# Two-character words after a word name named again (session 18: …，江山后来再也没露面): adverbs of time and degree.
_FOLLOW_AGAIN = ("后来", "再也", "根本", "仍然", "依然", "已经", "竟然", "居然", "马上", "随后", "从此")
# One-character words that may come right before a name named again (可江山至今): conjunctions and adverbs.
_BEFORE_NAME_AGAIN = frozenset("可但而又且并就却让叫找给和与跟同被")


def _word_after_name(norm: str, k: int, end: int, words: dict[str, int], starts: dict[str, int]) -> bool:
    """Whether a found two-character name at ``k`` is followed by a word of jieba's dictionary (蒋勇现在
    不接电话, 何伟明确表示; session 15): the next two characters start a word, more frequent than the
    one the name's last character and the next one would start (王平时: 平时), and the name and the next
    character start no word (张家界 of a name 张家)."""
    follow = starts.get(norm[end : end + 2], 0)
    return (follow > 0 and starts.get(norm[end - 1 : end + 1], 0) < follow
            and norm[k : end + 1] not in starts and norm[k : end + 1] not in words)


def _candidates(norm: str, starts: list[int] | None = None, *, numbers: bool = True,
                names: bool = True) -> list[tuple[str, int, int]]:
    """Validated (kind, start, end) spans on the normalised text, in priority order (may overlap):
    the number, e-mail, plate and door kinds (unless not ``numbers``: the text fails their gate),
    then names (unless not ``names``). ``starts``: see :func:`_number_candidates`."""
    out = _number_candidates(norm, starts) if numbers else []
    if names:
        out += _name_candidates(norm, starts)
    return out


def _number_candidates(norm: str, starts: list[int] | None = None) -> list[tuple[str, int, int]]:
    """Validated (kind, start, end) spans of every kind but NAME, in priority order (may overlap).

    With ``starts`` (see :func:`_windows`), ``norm`` holds several texts joined by a separator no
    pattern matches: the spans found in each text, and their order relative to each other, are those
    ``_candidates`` finds in that text alone (windows and look-backs stay inside the text)."""
    out: list[tuple[str, int, int]] = []
    if "@" in norm:
        if starts is None:
            out += [("EMAIL", m.start(), m.end()) for m in _EMAIL.finditer(norm)]
        else:  # only the texts with an '@' (the e-mail pattern scans slowly)
            at = norm.find("@")
            while at >= 0:
                j = bisect_right(starts, at) - 1
                lo, hi = starts[j], starts[j + 1] - 1
                out += [("EMAIL", m.start(), m.end()) for m in _EMAIL.finditer(norm, lo, hi)]
                at = norm.find("@", hi)
    windows = _windows(_CLUSTER, norm, 8, 10, starts)  # room for a +86 prefix and an extension
    # An ID (15 or 18 digits) or card number (16-19) lies in one digit cluster (a run of digits with
    # gaps of at most two separators: a whole _CLUSTER match) at least 15 characters long.
    long_windows = [w for w in windows if w[3] >= 15]
    for ws, we, lo, _ in long_windows:
        for m in _ID18.finditer(norm, ws, we):
            if _valid_id18(_DIGITS_ONLY.sub("", m.group())) and not _after_order_word(norm, m.start(), lo):
                out.append(("IDCARD", m.start(), m.end()))
        for m in _ID15.finditer(norm, ws, we):
            s = m.start()
            if _valid_id15(m.group()) and _ID_WORDS.search(norm, max(lo, s - 12), s):
                out.append(("IDCARD", s, m.end()))
    for ws, we, lo, _ in long_windows:
        for m in _BANK.finditer(norm, ws, we):
            s, e = m.start(), m.end()
            if _after_order_word(norm, s, lo):
                continue
            text = m.group()
            ends = [e]
            cut = max(text.rfind(" "), text.rfind("-"))
            if cut > 0 and len(text) - cut <= 4:  # a trailing 1-3 digit group may not belong to the card
                ends.append(s + cut)
            for end in ends:
                digits = _DIGITS_ONLY.sub("", norm[s:end])
                if 16 <= len(digits) <= 19 and luhn_ok(digits):
                    out.append(("BANKCARD", s, end))
                    break
    for ws, we, lo, _ in windows:
        out += [
            ("PHONE", m.start(), m.end())
            for m in _PHONE.finditer(norm, ws, we)
            if not _after_order_word(norm, m.start(), lo)
        ]
    for ws, we, _, _ in windows:
        out += [("TEL", m.start(), m.end()) for m in _TEL.finditer(norm, ws, we)]
    for m in _PLATE.finditer(norm):
        if any(c.isdigit() for c in m.group()):
            out.append(("PLATE", m.start(), m.end()))
    for ws, we, _, _ in _windows(_DOOR_HINT, norm, 6, 18, starts):
        out += [("DOOR", m.start(), m.end()) for m in _DOOR.finditer(norm, ws, we)]
    return out


def _normalise(text: str) -> str:
    """``text.translate(_FULLWIDTH)``; only the characters that occur are replaced (``translate``
    looks every non-ASCII character up)."""
    search = _HAS_FULLWIDTH.search
    m = search(text)
    while m is not None:  # each character found replaced everywhere, then the next one not replaced yet
        ch = m.group()
        text = text.replace(ch, chr(_FULLWIDTH[ord(ch)]))
        m = search(text, m.start() + 1)  # (one character for one: nothing before it is left)
    return text


def _choose(norm: str, candidates: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Non-overlapping spans, earlier candidates first (priority order), sorted by start."""
    chosen: list[tuple[str, int, int]] = []
    if not candidates:
        return chosen
    taken = bytearray(len(norm))  # 1 where an earlier (higher-priority) span lies
    for kind, s, e in candidates:
        # strip separators a pattern may have taken at its edges
        while s < e and norm[s] in " \t\r\n":
            s += 1
        while e > s and norm[e - 1] in " \t\r\n":
            e -= 1
        if s < e and taken.find(1, s, e) < 0:
            chosen.append((kind, s, e))
            taken[s:e] = b"\x01" * (e - s)
    chosen.sort(key=lambda t: t[1])
    return chosen


def _resolve(text: str) -> list[tuple[str, int, int]]:
    if not text:
        return []
    if _GATE_ALL.search(text) is None:
        numbers, names = False, bool(_find_cue_hits(text))
        if not names:
            return []
    else:
        numbers = _GATE.search(text) is not None
        names = _NAME_GATE.search(text) is not None or bool(_find_cue_hits(text))
    norm = _normalise(text)
    return _choose(norm, _candidates(norm, numbers=numbers, names=names))


def _replace(text: str, spans: list[tuple[str, int, int]], wanted: frozenset[str] | None,
             replacement: str | None = None) -> str:
    parts: list[str] = []
    pos = 0
    for kind, s, e in spans:
        if wanted is not None and kind not in wanted:
            continue
        parts.append(text[pos:s])
        parts.append(_PLACEHOLDER[kind] if replacement is None else replacement)
        pos = e
    parts.append(text[pos:])
    return "".join(parts)


def _check_kinds(kinds: Iterable[str] | None) -> frozenset[str] | None:
    if kinds is None:
        return None
    if isinstance(kinds, str):
        kinds = [kinds]
    wanted = frozenset(k.strip("<>").upper() for k in kinds)
    unknown = sorted(wanted - set(KINDS))
    if unknown:
        raise ConfigError(f"unknown personal-data kind(s) {unknown}; known kinds: {', '.join(KINDS)}")
    return wanted


def find(text: str, kinds: Iterable[str] | None = None) -> list[PIIMatch]:
    """All personal data in ``text``, left to right, as :class:`PIIMatch` (non-overlapping)."""
    if not isinstance(text, str):
        raise TypeError(f"find() takes a str, not {type(text).__name__}")
    wanted = _check_kinds(kinds)
    return [
        PIIMatch(kind, s, e, text[s:e]) for kind, s, e in _resolve(text) if wanted is None or kind in wanted
    ]


def mask(text: str, kinds: Iterable[str] | None = None) -> str:
    """``text`` with each piece of personal data replaced by its placeholder (e.g. ``<PHONE>``).

    ``kinds`` limits masking to some kinds (names as in :data:`KINDS`). Masking is idempotent.
    """
    if not isinstance(text, str):
        raise TypeError(f"mask() takes a str, not {type(text).__name__}")
    spans = _resolve(text)
    if not spans:
        return text
    return _replace(text, spans, _check_kinds(kinds))


def _starts(parts: list[str]) -> list[int]:
    """Where each part starts in ``sep.join(parts)`` (one-character ``sep``), then the length + 1."""
    return list(accumulate(map((1).__add__, map(len, parts)), initial=0))


def mask_many(texts: Iterable[str], kinds: Iterable[str] | None = None) -> list[str]:
    """``[mask(t, kinds) for t in texts]``, much faster on many short texts: the texts are scanned
    together (see :func:`mask_joined`)."""
    texts = list(texts)
    for t in texts:
        if not isinstance(t, str):
            raise TypeError(f"mask_many() takes strings, not {type(t).__name__}")
    if not texts:
        return []
    joined = _SEP.join(texts)
    if joined.count(_SEP) != len(texts) - 1:  # a text holds the separator itself
        return [mask(t, kinds) for t in texts]
    return mask_joined(joined, _SEP, kinds).split(_SEP)


def _gate_bounds(text: str, sep: str, scan: Callable[..., re.Match[str] | None]) -> list[tuple[int, int]]:
    """``(start, end)`` of the texts of ``sep``-joined ``text`` in which ``scan`` finds a match (a
    match never holds the separator), in order."""
    n = len(text)
    find, rfind = text.find, text.rfind
    bounds: list[tuple[int, int]] = []
    append = bounds.append
    hit = scan(text)
    while hit is not None:
        a = rfind(sep, 0, hit.start()) + 1
        b = find(sep, hit.end())
        if b < 0:
            append((a, n))
            break
        append((a, b))
        hit = scan(text, b + 1)
    return bounds


def mask_joined(text: str, sep: str, kinds: Iterable[str] | None = None, *,
                replacement: str | None = None) -> str:
    """Several texts joined by ``sep``, each masked as :func:`mask` masks it alone: the same as
    ``sep.join(mask(p, kinds) for p in text.split(sep))``, without a Python call per text.

    ``sep`` must be a control character that no pattern matches (U+0000–U+0008, U+000E–U+001B), so
    no match runs across two texts; windows and look-backs are kept inside each text. One regex scan
    finds the texts that pass :func:`mask`'s cheap gate; only those are searched, all at once.
    ``replacement``, when given, is written instead of the placeholders (e.g. ``" "``)."""
    if not isinstance(text, str):
        raise TypeError(f"mask_joined() takes a str, not {type(text).__name__}")
    if sep not in _JOIN_SEPS:
        raise ValueError(f"mask_joined: sep must be one of U+0000-U+0008, U+000E-U+001B, not {sep!r}")
    wanted = _check_kinds(kinds)
    # the texts that pass either gate (mask() returns the others unchanged), as (start, end) in text
    bounds = _gate_bounds(text, sep, _GATE_ALL.search)
    cue_hits = _find_cue_hits(text)
    if cue_hits:
        n, find, rfind = len(text), text.find, text.rfind
        more = {(rfind(sep, 0, i) + 1, b if (b := find(sep, i)) >= 0 else n) for i in cue_hits}
        bounds = sorted(more.union(bounds))
    if not bounds:
        return text
    sub_parts = [text[a:b] for a, b in bounds]
    sub = sep.join(sub_parts)
    norm = _normalise(sub)
    spans = _choose(norm, _candidates(norm, _starts(sub_parts)))
    if not spans:
        return text
    out: list[str] = []
    pos = 0
    for (a, b), masked in zip(bounds, _replace(sub, spans, wanted, replacement).split(sep), strict=True):
        out.append(text[pos:a])
        out.append(masked)
        pos = b
    out.append(text[pos:])
    return "".join(out)


def contains_pii(text: str) -> bool:
    """Whether ``text`` holds any personal data :func:`find` would report."""
    if not isinstance(text, str):
        raise TypeError(f"contains_pii() takes a str, not {type(text).__name__}")
    return bool(_resolve(text))


def mask_series(series: pd.Series, kinds: Iterable[str] | None = None) -> pd.Series:
    """:func:`mask` over a pandas Series of text (str, object, string or category dtype); missing
    values stay missing, the index, name and dtype are kept."""
    import pandas as pd

    _check_kinds(kinds)
    if isinstance(series.dtype, pd.CategoricalDtype):  # mask each category once
        cats = [c for c in series.cat.categories if isinstance(c, str)]
        mapping = {c: c for c in series.cat.categories}
        mapping.update(zip(cats, mask_many(cats, kinds), strict=True))
        return series.map(mapping).astype("category")
    values = series.to_numpy(dtype=object)
    masked = iter(mask_many([v for v in values if isinstance(v, str)], kinds))
    out = [next(masked) if isinstance(v, str) else v for v in values]
    return pd.Series(out, index=series.index, name=series.name, dtype=series.dtype)
