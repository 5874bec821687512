"""Hot issues (热点问题挖掘): group messages about the same problem at the same place, rank the groups.

How messages are grouped
------------------------
1. **Places.** Each message gets a set of place names found by patterns — estate, road, building,
   school, site names ending in 小区/花园/苑/园/城/府/湾/路/街/工地/学校/医院/市场/村/镇… — after
   the anonymised administrative codes (``A市``, ``A5区``, ``K8县``, ``西地省``) and leading verbs
   (投诉, 反映, 关于, 坚决反对…) are stripped; words that end in a place suffix but name no place
   (政府, 公交线路, 开园, 居民, 有限公司, 临街…) are not places. Places come from the first text column
   (the title) when it names one, else from the start of the whole text.
2. **Similarity.** TF-IDF over character 2–3-grams of the masked text (or over the tokens of a
   tokenizer you pass, e.g. :class:`govml.text.tokenize.GovTokenizer`), sublinear tf; with several
   text columns each column is vectorised on its own and the first (the title) weighs
   ``title_weight`` in the combined cosine similarity.
3. **Candidate links.** Two messages are linked when their similarity is at least
   ``min_similarity``, they were written at most ``window_days`` apart, they belong to the same
   ``group_col`` value (``community`` by default, when the column exists), and their places are
   compatible (some pair of names shares at least ``place_overlap`` of the shorter name's character
   bigrams). When either message names no place the bar is ``min_similarity_no_place`` instead.
   A kind of facility written with what is done to it (建变电站, 110KV高压变电站, 旁违规建垃圾站: see
   :func:`proper_place`) is no evidence on its own: when both messages also name proper places (汇一城,
   杨美公园) that are not compatible and share no character bigram without their kind, they are not
   linked — two estates each getting a substation are two problems; 丽发小区 and 丽发新城 share 丽发.
4. **Clusters.** Connected components of that graph, each split by average-linkage agglomerative
   clustering cut at ``1 - min_average_similarity`` so that one chain of pairwise links cannot
   glue unrelated problems together. The distance is ``1 - similarity`` over every pair of the
   component (``full_linkage``, components up to 400 messages; also pairs below the link
   threshold), 1 for pairs that may not be one issue (too far apart, other group, incompatible
   places). Groups of at least ``min_messages`` messages are issues. A component of more than
   3,000 messages (a city-wide export without a community column can chain tens of thousands) is
   first cut into the connected components of its stronger links, the similarity raised 0.05 at a
   time until every part fits (:func:`_split_large`); only pairs of one group and at most
   ``window_days`` apart are ever compared.
5. **Recurring problems.** Real problems come back after a quiet spell (a factory's smell every
   summer, a school's internships every year). Two messages written more than ``window_days`` and
   at most ``long_window_days`` (400) apart are a *candidate* when their main place — the first
   specific place named, else the first road or village — is the same name (in one group) and their
   *content* (the first text column with its place names and administrative codes removed, TF-IDF
   of character 2–3-grams) has a cosine similarity of at least ``min_content_similarity_long``
   (0.3). Candidates, strongest first, join the issues found in step 4 (or single messages) they
   belong to when the mean content similarity over all pairs of the two is at least
   ``min_content_similarity_join`` (0.1): one repeated message inside an issue about something else
   does not pull that issue in. ``min_content_similarity_long=None`` switches this step off. Content
   rather than full similarity, because the shared place name alone makes two messages about
   different problems of one estate look alike.
6. **Meaning (joins on by default, ``semantic_components=50``; strays off).** The finder learns a
   *semantic* space from the input itself at run time: latent semantic analysis (truncated SVD, seeded
   with ``random_state``, fitted on at most ``semantic_sample`` messages) of the TF-IDF of all text
   columns with place names and codes removed, the 20,000 most frequent character n-grams that occur in
   at least two messages. Character n-grams that occur in the same messages (实习, 工厂, 打工) load on the
   same components, so two messages can be close without sharing a word. It is used in two places:
   *strays* (``semantic_stray_ratio``, e.g. 0.4): before step 5, an issue of at least 3 messages whose
   other members agree (mean semantic similarity ≥ 0.5 among them) loses a member whose mean
   similarity to them is below that fraction of theirs, the farthest first (a barber's noise among a
   college's internship messages, linked by the place name); *joins* (``semantic_relief``, 0.75;
   ``None`` = words only): a long-gap pair is also a candidate when its content similarity is at least
   ``semantic_relief × min_content_similarity_long`` and its semantic similarity at least
   ``min_semantic_similarity_long`` (0.5); such a candidate (and any candidate whose units' mean
   content similarity is short of ``min_content_similarity_join``) joins when the mean content
   similarity is at least ``semantic_relief × min_content_similarity_join`` and the mean semantic
   similarity at least ``min_semantic_similarity_join`` (0.6). For this meaning-backed test, when one
   unit has at least ``join_neighbours`` (3) times as many messages as the other, the content
   similarity is taken from the smaller unit's side: the mean over its members of each one's mean
   similarity to its ``join_neighbours`` nearest members of the larger unit (a message naming one
   estate's parking-space bundling joins the 56-message issue about it; the mean over all 56 pairs,
   0.027, had diluted it; on the word-only test, average linkage stays). ``join_neighbours=None``:
   the mean over all pairs everywhere (the rule before session 9). Two more conditions of the meaning
   test (session 10): *the typical member* (``semantic_median``, on): when the mean semantic similarity
   is short of the bar, the median of the members' mean similarities to the other unit (members of both
   units) stands for it — one member about something else (a snack shop's air conditioner in an issue
   about a restaurant in a flat) no longer drags a recurring problem under the bar; *titles*
   (``semantic_title_quantile``, 0.9; ``None`` = off): the two units' titles alone (the first text column,
   places removed, projected into the same space) must agree in meaning at least as much as the 90th
   percentile of random pairs of messages about different places (``title_bar_``, learnt from the input:
   0.24 on 附件3) — messages about different problems at one place share their context (the developer,
   the estate's history) in the detail, so their full texts look alike; the title is where the writer
   names the problem (an estate's finishing price and its concrete: full texts 0.617, titles 0.16). With
   one text column the title is the text and the title test is skipped. ``semantic_relief=0`` lets meaning
   alone join (too loose on real boards: templates such as 请A市加快… look alike in meaning).
   ``semantic_components=None`` switches meaning off (words only, the rule before session 6). On the
   real board (附件3, docs/benchmarks.md) the joins bring the college internship problem from 5 to 8 of
   its 9 messages and add 9 joining pairs: 7 read as the same problem, 2 plausible, 1 wrong (one
   estate's price and concrete complaints, refused since session 10 by the title test; the median lets
   青青家园's 住改商 complaints, 7 + 2 messages, join) — about the word-only joins' rate (40 of 43
   right) — for ~20 % more fitting time. Strays stay off: ~25 of 27 splits are right, but they cost a known
   problem a rank.

Heat index
----------
For an issue with ``n`` messages from ``u`` distinct users, ``L`` likes in total, first and last
message ``s`` days apart, and last message ``a`` days before the reference time (the newest message
in the input unless given)::

    heat = w_messages * ln(1 + n) + w_users * ln(1 + u) + w_likes * ln(1 + L)
           + w_span * ln(1 + s / 7) + w_recency * 2 ** (-a / half_life_days)

Defaults: ``w_messages = 1.0, w_users = 1.0, w_likes = 0.3, w_span = -0.3, w_recency = 1.0,
half_life_days = 90``. Logarithms keep one viral message (thousands of likes) from outranking a
problem many residents wrote about. The span weight is negative: a *hot* issue is concentrated —
30 messages in three weeks outrank 30 messages spread over a year (−0.3·ln(1 + s/7): −0.42 for
three weeks, −1.2 for a year). The recency term is worth at most one "doubling" of messages.
Weights are configurable (``weights=`` a dict with any of those keys).

An issue joined across a long gap (step 5) is as hot as its hottest **burst** — a run of its
messages at most ``window_days`` apart — with that burst's own messages, users, likes, span and
recency: a problem is hot when many write about it at once, and the quiet months between two
summers neither lower its heat (span) nor do the earlier summers add to it. ``n_bursts`` in
``issues_`` says how many bursts an issue has; ``span_days``, ``first_seen`` and ``last_seen``
cover the whole issue. An issue of one burst keeps the formula above unchanged.

Place: the issue's most frequent place name, after the district written with it in the titles
(``A1区汇一城``; else the district its titles name most often). Summary: the place followed by the first clause of the issue's most central message (the member
with the highest mean similarity to the others), taken from the first text column, masked with
:func:`govml.privacy.mask`.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from govml._compat import FillsMissingParams
from govml.errors import DataError, Problem, cell_text

log = logging.getLogger(__name__)


OUTPUT_COLUMNS = ["rank", "issue_id", "heat", "n_messages", "first_seen", "last_seen", "place",
                  "summary", "message_ids"]

DEFAULT_WEIGHTS = {"messages": 1.0, "users": 1.0, "likes": 0.3, "span": -0.3, "recency": 1.0}

_ADMIN = r"(?:[A-Z]\d{0,2}[省市区县]|[\u4e00-\u9fa5]{1,2}省)"
_ADMIN_RE = re.compile(_ADMIN)
# Longer suffixes first so that 小区 wins over 区, 幼儿园 over 园.
_SUFFIXES = [
    "小区", "花园", "家园", "新村", "新城", "公寓", "大厦", "广场", "山庄", "公馆", "华府", "名苑",
    "雅苑", "国际", "社区", "街道", "大道", "工地", "项目", "学校", "小学", "中学", "大学", "学院",
    "幼儿园", "医院", "市场", "公园", "车站", "搅拌站", "搅拌厂", "商城", "公司", "集团", "银行", "平台",
    "驾校", "物业", "车贷", "案", "名都", "花都", "华都", "大院", "中心", "食堂", "宿舍", "居", "村", "镇", "乡", "苑",
    "园", "府", "湾", "城", "庭", "邸", "路", "街", "巷", "桥", "厂", "站",
]
_PLACE_RE = re.compile(
    r"([\u4e00-\u9fa5A-Za-z0-9]{2,10}?(?:" + "|".join(_SUFFIXES) + r"))"
    r"(?![管市区])"
)
# matches that end a common word rather than a place name: (市/人民/相关)政府, (公交)线路, (何时)开园, 居民/居住
_NOT_PLACE_ENDS = ("政府", "线路", "开园")
_LEAD = re.compile(
    r"^(?:关于|对于|投诉|反映|举报|实名举报|建议|请问|咨询|请求|恳请|要求|希望|坚决反对|反对|强烈要求|"
    r"严惩|请|问|为|给|在|到|从|把|我是|我们|我家|我|本|该|此|这个|那个|整个|所在|居住的|位于|的|"
    r"配套|普惠性|普惠|公办|民办|私立|公立|附近|周边|旁边|对面|楼下|门口|小区|社区|修建|新建|违建|"
    r"违规|非法|无证)+"
)
_GENERIC = {
    "小区", "社区", "花园", "广场", "学校", "医院", "市场", "公园", "道路", "马路", "公路", "铁路",
    "街道", "城市", "农村", "村", "镇", "乡", "路", "街", "城", "园", "苑", "府", "湾", "厂", "站",
    "工地", "项目", "学院", "大学", "中学", "小学", "幼儿园", "新城", "省城", "县城", "全城", "进城",
    "出路", "线路", "网站", "车站", "加油站", "出租车站", "公交站", "电站", "城区", "城乡", "老城",
    "公司", "集团", "银行", "平台", "驾校", "物业", "物业公司", "开发商", "案", "小区物业", "旧城", "新区",
    "中心", "食堂", "宿舍", "大院", "服务中心", "活动中心", "市中心", "城市中心", "居", "邻居", "民居", "新居",
    "搅拌站", "搅拌厂", "垃圾站", "安置小区", "安置房", "还建小区", "地铁站", "商城", "商品房", "定向商品房", "门面", "商铺",
    "开园", "临街", "十字路", "断头路", "有限公司", "股份有限公司", "有限责任公司", "分公司",
    "总公司", "子公司", "公交公司", "人民医院",
}
# Place names by how precisely they locate a problem: an estate or a site pins it down; a road or a
# village less so; a street office (街道), town or community covers many unrelated problems.
_BROAD_SUFFIXES = ("街道", "镇", "乡", "社区", "县城", "新区")
_MEDIUM_SUFFIXES = ("路", "街", "大道", "巷", "桥", "村")


def place_level(name: str) -> int:
    """2 for a specific place (estate, building, site, school, company), 1 for a road or village,
    0 for a broad area (街道, 镇, 乡, 社区)."""
    if name.endswith(_BROAD_SUFFIXES):
        return 0
    if name.endswith(_MEDIUM_SUFFIXES):
        return 1
    return 2


_CLAUSE_RE = re.compile(r"[。！？!?；;，,：:\n\r\t]+")


# function characters that never sit inside a place name: a match that contains one starts after it
_SPLIT_RE = re.compile(r"^.*[的了是在把被给对向从也还就要能会不没这那我你他她们条些过]")


def _strip_place(name: str) -> str:
    name = _ADMIN_RE.sub("", name)
    name = _SPLIT_RE.sub("", name)
    prev = None
    while prev != name:
        prev = name
        name = _LEAD.sub("", name)
    return name


def extract_places(text: str) -> list[str]:
    """Place names in ``text`` (estates, roads, sites, schools...), administrative codes stripped.

    >>> extract_places("投诉A2区丽发新城附近建搅拌站噪音扰民")
    ['丽发新城', '建搅拌站']
    >>> [proper_place(p) for p in _]
    [True, False]
    >>> extract_places("坚决反对伊景园滨河苑强制捆绑销售车位")
    ['伊景园滨河苑']
    """
    if not isinstance(text, str) or not text:
        return []
    out: list[str] = []
    # Administrative codes are separators: split on them so a match never spans 'A市A5区'.
    for chunk in _ADMIN_RE.split(text):
        names: list[tuple[str, int, int]] = []
        for m in _PLACE_RE.finditer(chunk):
            name = _strip_place(m.group(1))
            if name.endswith(_NOT_PLACE_ENDS) or (name.endswith("居") and chunk[m.end(1):m.end(1) + 1] in ("民", "住")):
                continue
            start = m.end(1) - len(name)
            # a short name glued to the next one is one name cut at an inner suffix: 伊景园|滨河苑
            if names and names[-1][2] == start and len(names[-1][0]) <= 3 and names[-1][0] not in _GENERIC:
                prev = names.pop()
                name, start = prev[0] + name, prev[1]
            names.append((name, start, m.end(1)))
        for name, _, _ in names:
            if len(name) < 2 or name in _GENERIC or name in out:
                continue
            out.append(name)
    return out


def admin_codes(text: str) -> list[str]:
    """Anonymised administrative codes (``A5区``, ``K8县``...) in order of appearance, deduplicated."""
    if not isinstance(text, str):
        return []
    seen: list[str] = []
    for m in re.finditer(r"[A-Z]\d{0,2}[区县]|[A-Z]\d{0,2}市(?![\u4e00-\u9fa5]{0,1}区)", text):
        code = m.group(0)
        if code not in seen:
            seen.append(code)
    return seen


# Kinds of facility a message names when it says what is built, not where: 建变电站, 旁违规建垃圾站,
# 110KV高压变电站. Such a name is no evidence that two messages are about one place.
_FACILITY_KIND = re.compile(r"(?:变电站|变电所|电站|搅拌站|搅拌厂|垃圾站|垃圾中转站|中转站|加油站|焚烧厂|基站|"
                            r"充电站|水泥厂|化工厂|工厂|地铁站|公交站|车站|站|厂)$")
_FACILITY_DEBRIS = re.compile(r"[建修拆设装迁改扩旁边遭撤让个座0-9A-Za-z]|附近|中间|侧面|对面|违规|非法|大型|小型|"
                              r"混凝土|混泥土|水泥|高压|居民区|居住区|居然|现有|开发商")


def proper_place(name: str) -> bool:
    """Whether a specific place name names one place (汇一城, 杨美公园, 荣立工贸化工厂) rather than a kind
    of facility with words around it (建变电站, 居民区附近搅拌站, 110KV高压变电站)."""
    m = _FACILITY_KIND.search(name)
    if m is None:
        return True
    prefix = name[: m.start()]
    return len(prefix) >= 2 and _FACILITY_DEBRIS.search(prefix) is None


def _places_conflict(full_a: Sequence[frozenset[str]], full_b: Sequence[frozenset[str]],
                     core_a: Sequence[frozenset[str]], core_b: Sequence[frozenset[str]], overlap: float) -> bool:
    """Whether two messages whose places look compatible only through a kind of facility (both say 建变电站)
    name different places by their proper names: both name one (``full_*``: character bigrams of the proper
    names), no pair of them is compatible, and no two of their names without their kind (``core_*``) share a
    bigram — 汇一城 and 杨美公园 conflict; 丽发小区 and 丽发新城 do not."""
    return (bool(full_a) and bool(full_b) and not _places_compatible(full_a, full_b, overlap)
            and not any(x & y for x in core_a for y in core_b))


def _bigrams(s: str) -> frozenset[str]:
    return frozenset(s[i:i + 2] for i in range(len(s) - 1)) if len(s) > 1 else frozenset([s])


def _places_compatible(a: Sequence[frozenset[str]], b: Sequence[frozenset[str]], overlap: float) -> bool:
    for x in a:
        for y in b:
            inter = len(x & y)
            if inter and inter / min(len(x), len(y)) >= overlap:
                return True
    return False


def heat_index(
    n_messages: float,
    n_users: float,
    likes: float,
    span_days: float,
    age_days: float,
    *,
    weights: dict[str, float] | None = None,
    half_life_days: float = 90.0,
) -> float:
    """The heat of one issue (see the module docstring for the formula)."""
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    return (w["messages"] * math.log1p(n_messages) + w["users"] * math.log1p(n_users)
            + w["likes"] * math.log1p(max(likes, 0.0)) + w["span"] * math.log1p(max(span_days, 0.0) / 7.0)
            + w["recency"] * 2.0 ** (-max(age_days, 0.0) / half_life_days))


_GREETING_RE = re.compile(r"您好|你好|领导|书记|主任|尊敬|本人|我是|我住|我家住|我们是|谢谢|麻烦|反映一个问题|"
                          r"我想反映|反映一下|请问|^关于")


# a clause that only gives contact details (手机<PHONE>, 身份证号<IDCARD>, 联系电话：<PHONE>): nothing of the problem
_CONTACT_RE = re.compile(r"<[A-Z_]+>|联系电话|联系方式|电话|手机号?码?|座机|身份证号?码?|邮箱|微信号?|号码|[qQ]{2}|[:：\s]")


def _first_clause(text: str, max_len: int = 40) -> str:
    """The first clause of ``text`` that says something (greetings, self-introductions and contact details
    skipped: data_samples' summaries read 嘉禾花园：手机<PHONE>)."""
    text = (text or "").strip()
    parts = [p.strip() for p in _CLAUSE_RE.split(text) if len(p.strip()) >= 4]
    for part in parts:
        if not _GREETING_RE.search(part) and len(_CONTACT_RE.sub("", part)) >= 2:
            return part[:max_len]
    return (parts[0] if parts else text)[:max_len]


def _core(name: str) -> str:
    """``name`` without its kind (小区, 安置小区, 公司…), when at least two characters remain."""
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def _names_place(clause: str, place: str) -> bool:
    """Whether ``clause`` already names ``place`` (its administrative code aside), so the summary does
    not repeat the place in front: literally, or by the name without its kind (小区, 公司…) — at least
    60 % of its character bigrams in the clause (绿地海外滩二期 for 绿地海外滩小区), or a place name of
    the clause that shares 60 % of the shorter one's (中茂城 for 星沙中茂城). 和谐安置小区 does not name
    上坪安置小区."""
    bare = _ADMIN_RE.sub("", place)
    if not bare or bare in clause:
        return True
    grams = _bigrams(_core(bare))
    if sum(g in clause for g in grams) >= 0.6 * len(grams):
        return True
    return _places_compatible([grams], [_bigrams(_core(p)) for p in extract_places(clause)], 0.6)


MAX_LINKAGE = 3000  # largest component clustered by average linkage (a dense n × n distance matrix)


#: the most similar pairs kept per message when linking (memory: a board of 100,000 short look-alike
#: messages — 311 titles, hotline templates — has billions of pairs above the threshold; Boston 311's
#: 121,145 titles took 24 GB). Copies of one text (similarity 1) are kept as a chain — each linked to the
#: copies just before and after it in time — and do not count toward the limit, so a text written
#: hundreds of times still reaches the other wordings of its issue.
MAX_NEIGHBOURS = 100
_SAME_TEXT = 1.0 - 1e-6


def _top_per_row(s, k: int, offset: int = 0):  # noqa: ANN001, ANN202 (scipy CSR in and out)
    """CSR ``s`` (rows ``offset`` + i's own column is ``offset + i``) with, per row, the ``k`` largest
    entries below :data:`_SAME_TEXT` (ties: the first by column) and, of the entries at it (copies), the
    nearest column on each side of the row's own."""
    counts = np.diff(s.indptr)
    if not len(counts) or counts.max() <= k + 1:
        return s
    keep = np.ones(len(s.data), dtype=bool)
    for r in np.flatnonzero(counts > k + 1):
        a, b = s.indptr[r], s.indptr[r + 1]
        v, c = s.data[a:b], s.indices[a:b]
        same = v >= _SAME_TEXT
        k_row = np.zeros(b - a, dtype=bool)
        if same.any():
            own = offset + r
            cs = np.where(same, c, -1)
            left, right = cs[(cs >= 0) & (cs < own)], cs[cs > own]
            near = ([left.max()] if len(left) else []) + ([right.min()] if len(right) else []) + [own]
            k_row |= same & np.isin(c, near)
        other = np.flatnonzero(~same)
        if len(other):
            k_row[other[np.argsort(-v[other], kind="stable")[:k]]] = True
        keep[a:b] = k_row
    s = s.copy()
    s.data[~keep] = 0
    s.eliminate_zeros()
    return s


def _split_large(graph, idx: np.ndarray, limit: int, thr: float | None = None,
                 step: float = 0.05) -> list[np.ndarray]:
    """``idx`` (one connected component of ``graph``) as pieces of at most ``limit`` messages: a larger
    component is cut into the connected components of its links at a similarity ``step`` above the
    last cut (at first, above its weakest link), raised until it falls apart, then each part again
    (average linkage needs a dense matrix per piece; a city-wide export without a community column
    can chain tens of thousands of messages). A piece still larger at similarity 1 is returned whole."""
    from scipy.sparse.csgraph import connected_components

    if len(idx) <= limit:
        return [idx]
    sub = graph[idx][:, idx].tocsr()
    if thr is None:
        thr = float(sub.data.min()) if sub.nnz else 1.0
    while True:
        thr += step
        if thr > 1.0 + 1e-9:
            return [idx]
        cut = sub.copy()
        cut.data[cut.data < thr] = 0
        cut.eliminate_zeros()
        n_c, c = connected_components(cut, directed=False)
        if n_c > 1:
            break
    log.info("hot issues: %d linked messages split at similarity %.2f into %d parts", len(idx), thr, n_c)
    out: list[np.ndarray] = []
    for k in range(n_c):
        out.extend(_split_large(graph, idx[c == k], limit, thr, step))
    return out


class HotIssueFinder(FillsMissingParams, BaseEstimator):
    """Group messages about the same problem at the same place and rank the groups by heat.

    Parameters are described in the module docstring. ``fit(df)`` expects the columns named by
    ``text_cols`` (one or more; the first is the title used for places and summaries), ``id_col``
    and ``time_col``; ``likes_col`` and ``user_col`` are used when present (likes count as 0,
    each message as its own user otherwise).

    Learned attributes: ``labels_`` (issue number per input row, -1 for messages in no issue),
    ``issues_`` (one row per issue, ranked, columns :data:`OUTPUT_COLUMNS` plus ``n_users``,
    ``likes``, ``span_days``, ``n_bursts``), ``places_`` (extracted place names per row),
    ``n_long_links_`` (message pairs that joined issues across a long gap), ``n_strays_`` (members
    split off their issue by meaning; 0 unless ``semantic_stray_ratio`` is set), ``title_bar_`` (the
    bar of the title test of meaning-backed joins, learnt from the input; ``None`` when it is off, with
    one text column, or when no join was looked for).
    """

    def __init__(
        self,
        *,
        text_cols: Sequence[str] = ("text",),
        id_col: str = "id",
        time_col: str = "created_at",
        likes_col: str | None = "likes",
        user_col: str | None = "user_id",
        group_col: str | None = "community",
        tokenizer: Callable[[str], list[str]] | None = None,
        min_similarity: float = 0.08,
        min_similarity_no_place: float = 0.25,
        min_average_similarity: float = 0.03,
        place_overlap: float = 0.6,
        window_days: float = 30.0,
        min_content_similarity_long: float | None = 0.3,
        min_content_similarity_join: float = 0.1,
        join_neighbours: int | None = 3,
        long_window_days: float = 400.0,
        title_weight: float = 0.6,
        min_messages: int = 2,
        weights: dict[str, float] | None = None,
        half_life_days: float = 90.0,
        reference_time: str | pd.Timestamp | None = None,
        block_size: int = 2000,
        full_linkage: bool = True,
        semantic_components: int | None = 50,
        min_semantic_similarity_long: float = 0.5,
        min_semantic_similarity_join: float = 0.6,
        semantic_relief: float | None = 0.75,
        semantic_stray_ratio: float | None = None,
        semantic_title_quantile: float | None = 0.9,
        semantic_median: bool = True,
        semantic_sample: int = 5000,
        random_state: int = 0,
    ) -> None:
        self.full_linkage = full_linkage
        self.semantic_components = semantic_components
        self.min_semantic_similarity_long = min_semantic_similarity_long
        self.min_semantic_similarity_join = min_semantic_similarity_join
        self.semantic_relief = semantic_relief
        self.semantic_stray_ratio = semantic_stray_ratio
        self.semantic_title_quantile = semantic_title_quantile
        self.semantic_median = semantic_median
        self.semantic_sample = semantic_sample
        self.random_state = random_state
        self.text_cols = text_cols
        self.id_col = id_col
        self.time_col = time_col
        self.likes_col = likes_col
        self.user_col = user_col
        self.group_col = group_col
        self.tokenizer = tokenizer
        self.min_similarity = min_similarity
        self.min_similarity_no_place = min_similarity_no_place
        self.min_average_similarity = min_average_similarity
        self.place_overlap = place_overlap
        self.window_days = window_days
        self.min_content_similarity_long = min_content_similarity_long
        self.min_content_similarity_join = min_content_similarity_join
        self.join_neighbours = join_neighbours
        self.long_window_days = long_window_days
        self.title_weight = title_weight
        self.min_messages = min_messages
        self.weights = weights
        self.half_life_days = half_life_days
        self.reference_time = reference_time
        self.block_size = block_size

    # -- helpers -----------------------------------------------------------------------------
    def _check(self, df: pd.DataFrame) -> list[str]:
        cols = [self.text_cols] if isinstance(self.text_cols, str) else list(self.text_cols)
        problems = [Problem("<input>", None, c, "a column of this name")
                    for c in [*cols, self.id_col, self.time_col] if c not in df.columns]
        if problems:
            problems[0:0] = []
            raise DataError(problems, message="hot issues: missing column(s): "
                            + ", ".join(p.column for p in problems if p.column)
                            + f" (have: {', '.join(map(str, df.columns))})")
        if not cols:
            raise DataError(message="hot issues: at least one text column is needed")
        return cols

    def _vectorize(self, texts: list[str], extra: list[str] | None = None):
        """TF-IDF rows (sublinear tf, smooth idf); features in more than 30% of messages dropped. With
        ``extra``, also the rows of those texts in the same space (the features and idf of ``texts``)."""
        from scipy import sparse
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

        if self.tokenizer is None:
            # hashing: no vocabulary to build and sort (char n-grams of long texts are many)
            hv = HashingVectorizer(analyzer="char", ngram_range=(2, 3), n_features=2**21, alternate_sign=False,
                                   norm=None, lowercase=True, dtype=np.float32)
        else:
            hv = HashingVectorizer(tokenizer=self.tokenizer, token_pattern=None, lowercase=False,
                                   n_features=2**21, alternate_sign=False, norm=None, dtype=np.float32)
        counts = hv.transform(texts).tocsc()
        if counts.nnz == 0:
            empty = sparse.csr_matrix((len(texts), 1), dtype=np.float32)
            return empty if extra is None else (empty, sparse.csr_matrix((len(extra), 1), dtype=np.float32))
        df = np.diff(counts.indptr)
        if len(texts) >= 10:
            keep = np.flatnonzero((df > 0) & (df <= 0.3 * len(texts)))
        else:
            keep = np.flatnonzero(df > 0)
        counts = counts[:, keep]
        if extra is None:
            return TfidfTransformer(sublinear_tf=True, norm=None).fit_transform(counts.tocsr())
        tf = TfidfTransformer(sublinear_tf=True, norm=None).fit(counts.tocsr())
        return tf.transform(counts.tocsr()), tf.transform(hv.transform(extra).tocsc()[:, keep].tocsr())

    def _similarity_matrix(self, blocks: list, groups: np.ndarray | None = None,
                           tday: np.ndarray | None = None) -> object:
        """Sparse matrix of combined cosine similarities at or above the lower link threshold;
        with ``groups`` (one code per message) only pairs within a group are computed (messages of
        different groups are never one issue), with ``tday`` (days) only pairs at most
        ``window_days`` apart (more are never linked), in row blocks of at most ~20M products each."""
        from scipy import sparse
        from sklearn.preprocessing import normalize

        if len(blocks) == 1:
            weights = [1.0]
        else:
            rest = (1.0 - self.title_weight) / (len(blocks) - 1)
            weights = [self.title_weight] + [rest] * (len(blocks) - 1)
        # sqrt-weighted blocks: the dot product of the stacked rows is the weighted mean of cosines
        stacked = sparse.hstack([normalize(b) * math.sqrt(w) for b, w in zip(blocks, weights, strict=True)]).tocsr()
        self._stacked = stacked
        n = stacked.shape[0]
        thr = min(self.min_similarity, self.min_similarity_no_place)
        if groups is None:
            members = [np.arange(n)]
        else:
            order = np.argsort(groups, kind="stable")
            members = np.split(order, np.flatnonzero(np.diff(groups[order])) + 1) if n else []
        rows, cols, vals = [], [], []
        for idx in members:
            if tday is not None:
                idx = idx[np.argsort(tday[idx], kind="stable")]
                t = tday[idx]
            sub = stacked[idx]
            step = max(1, min(self.block_size, 20_000_000 // max(len(idx), 1)))
            for start in range(0, len(idx), step):
                stop = min(start + step, len(idx))
                lo, hi = 0, len(idx)
                if tday is not None:  # the rows written within window_days of this block's rows
                    lo = int(np.searchsorted(t, t[start] - self.window_days, side="left"))
                    hi = int(np.searchsorted(t, t[stop - 1] + self.window_days, side="right"))
                s = (sub[start:stop] @ sub[lo:hi].T).tocsr()
                s.data[s.data < thr] = 0
                s.eliminate_zeros()
                s = _top_per_row(s, MAX_NEIGHBOURS, start - lo).tocoo()
                rows.append(idx[start + s.row])
                cols.append(idx[lo + s.col])
                vals.append(s.data)
        if not rows:
            return sparse.csr_matrix((n, n))
        return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))

    def _content_vectors(self, first_col: list[str], places: list[list[str]], rows: np.ndarray):
        """Unit rows (TF-IDF of character 2–3-grams) of the *content* of ``rows``: the first text
        column with the message's place names and the administrative codes removed, so that two
        messages about one place are compared by what they say about it."""
        from sklearn.preprocessing import normalize

        content = []
        for i in rows:
            text = _ADMIN_RE.sub(" ", first_col[i])
            for name in sorted(places[i], key=len, reverse=True):
                text = text.replace(name, " ")
            content.append(text)
        return normalize(self._vectorize(content)).tocsr()

    def _semantic_vectors(self, cols: list[list[str]], places: list[list[str]], rows: np.ndarray,
                          titles: bool = False):
        """Unit rows (dense, ``semantic_components`` columns) of the *meaning* of ``rows``: latent
        semantic analysis (truncated SVD) of the TF-IDF of all text columns, place names and
        administrative codes removed, learnt from this input at run time — character n-grams that occur
        in the same messages (实习, 工厂, 打工, 学生 in messages about one school's internships) load on
        the same components, so two messages can be close without sharing a word. The SVD is fitted on
        ``rows`` plus a sample of the other messages (at most ``semantic_sample`` in all, drawn with
        ``random_state``); ``None`` when the corpus is too small for it. With ``titles``: ``(z, zt, use)``,
        ``z`` as without, and the rows of the titles alone (the first text column, places removed,
        projected into the same space) of all the messages the space was learnt from (``use``, ``rows``
        first), or ``(None, None, None)``."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.preprocessing import normalize

        n = len(places)
        rng = np.random.default_rng(self.random_state)
        others = np.setdiff1d(np.arange(n), rows)
        extra = max(0, self.semantic_sample - len(rows))
        if len(others) > extra:
            others = np.sort(rng.choice(others, size=extra, replace=False))
        use = np.concatenate([rows, others])
        texts, heads = [], []
        for i in use:
            text = _ADMIN_RE.sub(" ", "\n".join(c[i] for c in cols))
            head = _ADMIN_RE.sub(" ", cols[0][i]) if titles else ""
            for name in sorted(places[i], key=len, reverse=True):
                text = text.replace(name, " ")
                head = head.replace(name, " ")
            texts.append(text)
            heads.append(head)
        xt = None
        if titles:
            x, xt = self._vectorize(texts, heads)
            x = x.tocsc()
        else:
            x = self._vectorize(texts).tocsc()
        df = np.diff(x.indptr)
        # features of at least two messages (co-occurrence), the 20,000 most frequent: the SVD's cost
        top = np.sort(np.argsort(-df, kind="stable")[:20_000])
        x = normalize(x[:, top[df[top] >= 2]].tocsr())
        k = int(self.semantic_components or 0)
        if k < 1 or min(x.shape) <= k + 1:
            return (None, None, None) if titles else None
        fit_rows = np.arange(len(use))
        if len(use) > self.semantic_sample:
            fit_rows = np.sort(rng.choice(len(use), size=self.semantic_sample, replace=False))
        svd = TruncatedSVD(k, random_state=self.random_state).fit(x[fit_rows])
        if titles:
            xt = normalize(xt.tocsc()[:, top[df[top] >= 2]].tocsr())
            return normalize(svd.transform(x[: len(rows)])), normalize(svd.transform(xt)), use
        return normalize(svd.transform(x[: len(rows)]))

    def _join_recurring(self, labels: np.ndarray, cols: list[list[str]], places: list[list[str]],
                        groups: np.ndarray | None, tday: np.ndarray) -> tuple:
        """Join issues (and single messages) about one problem that recurs after a quiet gap.

        Candidates: two messages written more than ``window_days`` and at most ``long_window_days``
        apart whose main place (the first specific place named, else the first road or village) is
        the same name in one group, and whose content similarity is at least
        ``min_content_similarity_long``. Their units (the issues found within the window, or the
        single messages) are joined, strongest candidate first, when the mean content similarity over
        all pairs of the two units is at least ``min_content_similarity_join`` (average linkage on the
        content, so one repeated message does not pull a different problem in). Returns the new
        labels, the message pairs that joined units (rows, cols, content similarities) and a log of
        the candidates considered."""
        from scipy import sparse

        n = len(labels)
        self._join_titles, self.title_bar_ = [], None  # title meaning of each candidate judged; its bar
        none = (labels, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), [])
        if self.min_content_similarity_long is None or self.long_window_days <= self.window_days:
            return none
        buckets: dict[tuple[int, str], list[int]] = {}
        for i, ps in enumerate(places):
            main = next((p for p in ps if place_level(p) == 2), None) or next(
                (p for p in ps if place_level(p) == 1), None)
            if main is not None:
                buckets.setdefault((int(groups[i]) if groups is not None else 0, main), []).append(i)
        spread = [np.asarray(m) for m in buckets.values() if len(m) > 1 and np.ptp(tday[m]) > self.window_days]
        if not spread:
            return none
        next_label = int(labels.max()) + 1 if n and labels.max() >= 0 else 0
        unit = labels.copy()
        alone = np.flatnonzero(labels < 0)
        unit[alone] = next_label + np.arange(len(alone))
        touched = np.unique(unit[np.concatenate(spread)])
        rows_needed = np.flatnonzero(np.isin(unit, touched))
        pos = np.full(n, -1)
        pos[rows_needed] = np.arange(len(rows_needed))
        x = self._content_vectors(cols[0], places, rows_needed)
        z = zt = None
        # the title test needs a title apart from the text: with one text column it would repeat the meaning test
        titles = self.semantic_title_quantile is not None and len(cols) > 1
        if self.semantic_components and self.semantic_relief is not None:
            if getattr(self, "_z", None) is not None:
                z = self._z[rows_needed]
                if titles and getattr(self, "_zt", None) is not None:
                    zt_use, use = self._zt, np.arange(n)
                    zt = zt_use[rows_needed]
            elif titles:
                z, zt_use, use = self._semantic_vectors(cols, places, rows_needed, titles=True)
                zt = zt_use[: len(rows_needed)] if zt_use is not None else None
            else:
                z = self._semantic_vectors(cols, places, rows_needed)
            if zt is not None:
                main_code = np.full(n, -1)
                codes: dict[str, int] = {}
                for (_, name), members in buckets.items():
                    main_code[members] = codes.setdefault(name, len(codes))
                self.title_bar_ = self._title_bar(zt_use, main_code[use])
                del zt_use
        relief = self.semantic_relief if z is not None else 1.0
        pr, pc, pv, pw = [], [], [], []
        spread = [idx[np.argsort(tday[idx], kind="stable")] for idx in spread]
        gather = pos[np.concatenate(spread)]
        xs = x[gather]  # the buckets' rows one after another (one gather)
        zs = z[gather].astype(np.float32) if z is not None else None
        offset = 0
        for idx in spread:
            t = tday[idx]
            sub = xs[offset:offset + len(idx)]
            zsub = zs[offset:offset + len(idx)] if zs is not None else None
            offset += len(idx)
            step = max(1, min(self.block_size, 20_000_000 // len(idx)))
            for start in range(0, len(idx), step):
                stop = min(start + step, len(idx))
                lo = int(np.searchsorted(t, t[start] + self.window_days, side="right"))
                if lo >= len(idx):
                    break
                hi = int(np.searchsorted(t, t[stop - 1] + self.long_window_days, side="right"))
                s = (sub[start:stop] @ sub[lo:hi].T).tocoo()
                if zsub is None:
                    a, b, sv, sw = s.row, s.col, s.data, np.zeros(len(s.data))
                    hit = sv >= self.min_content_similarity_long
                else:  # content or meaning: every pair of the block has a semantic similarity
                    sem = zsub[start:stop] @ zsub[lo:hi].T
                    con = np.zeros(sem.shape, dtype=np.float32)
                    con[s.row, s.col] = s.data
                    a, b = np.nonzero((con >= self.min_content_similarity_long)
                                      | ((con >= relief * self.min_content_similarity_long)
                                         & (sem >= self.min_semantic_similarity_long)))
                    sv, sw = con[a, b], sem[a, b]
                    hit = np.ones(len(a), dtype=bool)
                a, b = start + a, lo + b
                gap = t[b] - t[a]
                keep = hit & (gap > self.window_days) & (gap <= self.long_window_days) & (unit[idx[a]] != unit[idx[b]])
                pr.append(idx[a[keep]])
                pc.append(idx[b[keep]])
                pv.append(sv[keep])
                pw.append(sw[keep])
        r, c, v, w = np.concatenate(pr), np.concatenate(pc), np.concatenate(pv), np.concatenate(pw)
        if not len(r):
            return none
        # strongest candidates first; average linkage on content between the two units' members
        # each unit's summed content rows: the mean similarity over all pairs of two units is the dot
        # product of their sums divided by both sizes
        order = np.lexsort((-w, -v))  # content first, then meaning
        involved = np.unique(np.concatenate([unit[r], unit[c]]))
        in_rows = np.flatnonzero(np.isin(unit[rows_needed], involved))
        row_unit = np.searchsorted(involved, unit[rows_needed][in_rows])  # unit of each row, 0..k-1
        x_in = x[in_rows]
        z_in = z[in_rows] if z is not None else None
        zt_in = zt[in_rows] if zt is not None and self.title_bar_ is not None else None
        del x, z, zt
        parent = np.arange(len(involved))
        size = np.bincount(row_unit, minlength=len(involved)).astype(float)
        ua, ub = np.searchsorted(involved, unit[r]), np.searchsorted(involved, unit[c])

        def roots(u: np.ndarray) -> np.ndarray:
            while True:
                p = parent[u]
                if (p == u).all():
                    return u
                u = p

        used, joins = [], []
        pending = order
        strength_rank = np.empty(len(order), dtype=int)
        strength_rank[order] = np.arange(len(order))
        while len(pending):
            # one round: every pending candidate is judged on the units as they stand; a candidate
            # whose unit was joined earlier in the round waits for the next round
            root_of = roots(np.arange(len(involved)))
            sums = sparse.csr_matrix((np.ones(len(in_rows)), (root_of[row_unit], np.arange(len(in_rows)))),
                                     shape=(len(involved), len(in_rows))) @ x_in
            zsums = tsums = None
            if z_in is not None:
                zsums = np.zeros((len(involved), z_in.shape[1]))
                np.add.at(zsums, root_of[row_unit], z_in)
            if zt_in is not None:
                tsums = np.zeros((len(involved), zt_in.shape[1]))
                np.add.at(tsums, root_of[row_unit], zt_in)
            ra, rb = root_of[ua[pending]], root_of[ub[pending]]
            live = ra != rb
            pending, ra, rb = pending[live], ra[live], rb[live]
            # one candidate per pair of units, the strongest: the mean similarity is the pair's
            first = np.sort(np.unique(np.minimum(ra, rb) * len(involved) + np.maximum(ra, rb), return_index=True)[1])
            pending, ra, rb = pending[first], ra[first], rb[first]
            changed = np.zeros(len(involved), dtype=bool)
            later = []
            by_root = bounds = None  # the rows of each unit, for the k-nearest test (made when first needed)
            for i0 in range(0, len(pending), 1000):
                ka, kb, kk = ra[i0:i0 + 1000], rb[i0:i0 + 1000], pending[i0:i0 + 1000]
                wait = changed[ka] | changed[kb]
                later.extend(kk[wait])
                ka, kb, kk = ka[~wait], kb[~wait], kk[~wait]
                sims = np.asarray(sums[ka].multiply(sums[kb]).sum(axis=1)).ravel() / (size[ka] * size[kb])
                sems = ((zsums[ka] * zsums[kb]).sum(axis=1) / (size[ka] * size[kb]) if zsums is not None
                        else np.full(len(ka), np.nan))
                heads = ((tsums[ka] * tsums[kb]).sum(axis=1) / (size[ka] * size[kb]) if tsums is not None
                         else np.full(len(ka), np.nan))
                for k, a, b, m, ms, mt in zip(kk, ka, kb, sims, sems, heads, strict=True):
                    if changed[a] or changed[b]:
                        later.append(k)
                        continue
                    # average linkage on content for the words; for meaning, a unit at least
                    # join_neighbours times the size of the other is judged from the smaller one's side
                    by_words = v[k] >= self.min_content_similarity_long and m >= self.min_content_similarity_join
                    kn = self.join_neighbours
                    unequal = bool(kn) and max(size[a], size[b]) >= kn * min(size[a], size[b])
                    if (not by_words and zsums is not None and self.semantic_median
                            and ms < self.min_semantic_similarity_join):
                        # the typical member's meaning: the median of the members' mean similarities
                        if by_root is None:
                            by_root = np.argsort(root_of[row_unit], kind="stable")
                            bounds = np.searchsorted(root_of[row_unit][by_root], np.arange(len(involved) + 1))
                        ia, ib = by_root[bounds[a]:bounds[a + 1]], by_root[bounds[b]:bounds[b + 1]]
                        sab = z_in[ia] @ z_in[ib].T
                        ms = max(ms, float(np.median(np.concatenate([sab.mean(axis=1), sab.mean(axis=0)]))))
                    if (not by_words and unequal and ms >= self.min_semantic_similarity_join
                            and m < relief * self.min_content_similarity_join):
                        if by_root is None:
                            by_root = np.argsort(root_of[row_unit], kind="stable")
                            bounds = np.searchsorted(root_of[row_unit][by_root], np.arange(len(involved) + 1))
                        m = max(m, self._nearest_mean(x_in, by_root, bounds, a, b, size))
                    ok = by_words or (m >= relief * self.min_content_similarity_join
                                      and ms >= self.min_semantic_similarity_join
                                      and (tsums is None or mt >= self.title_bar_))
                    joins.append((int(r[k]), int(c[k]), float(v[k]), float(m), int(size[a]), int(size[b]), bool(ok),
                                  float(w[k]), float(ms)))
                    self._join_titles.append(float(mt))
                    if ok:
                        parent[b] = a
                        size[a] += size[b]
                        changed[a] = changed[b] = True
                        used.append(k)
            later = np.asarray(later, dtype=int)
            pending = later[np.argsort(strength_rank[later], kind="stable")]
        log.info("hot issues: %d candidate pairs across a long gap between %d units, %d joins",
                 len(r), len(involved), len(used))
        if not used:
            return labels, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), joins
        used = np.asarray(used)
        root_of = roots(np.arange(len(involved)))
        merged = unit.copy()
        is_in = np.isin(unit, involved)
        merged[is_in] = involved[root_of[np.searchsorted(involved, unit[is_in])]]
        counts = pd.Series(merged).map(pd.Series(merged).value_counts()).to_numpy()
        keep = counts >= self.min_messages
        new = np.full(n, -1, dtype=int)
        new[keep] = pd.factorize(merged[keep])[0]
        return new, r[used], c[used], v[used], joins

    def _title_bar(self, zt: np.ndarray, main: np.ndarray, n_pairs: int = 20_000) -> float | None:
        """The bar of the title test: the ``semantic_title_quantile`` of the title meaning similarity of
        random pairs of messages about different places (``main``: main place codes, -1 none), drawn with
        ``random_state`` from the messages the meaning was learnt from; ``None`` below 100 such pairs."""
        rng = np.random.default_rng(self.random_state)
        a, b = rng.integers(0, len(zt), n_pairs), rng.integers(0, len(zt), n_pairs)
        keep = (a != b) & ((main[a] != main[b]) | (main[a] < 0))
        if keep.sum() < 100:
            return None
        s = (zt[a[keep]] * zt[b[keep]]).sum(axis=1)
        # a cosine: at most 1 (float32 sums of unit vectors can come out at 1.0000002 for two identical titles)
        return min(float(np.quantile(s, self.semantic_title_quantile)), 1.0)

    def _nearest_mean(self, x, by_root: np.ndarray, bounds: np.ndarray, a: int, b: int, size: np.ndarray) -> float:
        """Content similarity of two units of unequal size seen from the smaller one: the mean, over its
        members, of each member's mean similarity to its ``join_neighbours`` nearest members of the
        other unit. The mean over all pairs dilutes a message that matches a large issue on its topic
        but shares little text with most members (a 56-message issue about one estate's parking spaces
        and one message naming the developer); requiring k close members, not one, still keeps a single
        repeated message inside an issue about something else from pulling that issue in."""
        if size[a] > size[b]:
            a, b = b, a
        small, large = by_root[bounds[a]:bounds[a + 1]], by_root[bounds[b]:bounds[b + 1]]
        s = x[small] @ x[large].T
        s = s.toarray() if hasattr(s, "toarray") else np.asarray(s)
        k = min(int(self.join_neighbours), s.shape[1])
        top = np.partition(s, s.shape[1] - k, axis=1)[:, s.shape[1] - k:]
        return float(top.mean())

    def _split_strays(self, labels: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Issues of at least 3 messages whose other members agree in meaning (mean semantic similarity
        of at least 0.5 among them) lose a member whose mean similarity to them is below
        ``semantic_stray_ratio`` times theirs, the farthest first (a noise complaint at a college among
        messages about its internships); issues left below ``min_messages`` dissolve."""
        labels = labels.copy()
        order = np.argsort(labels, kind="stable")
        order = order[labels[order] >= 0]
        groups = np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)
        for idx in groups:
            while len(idx) >= 3:
                sims = z[idx] @ z[idx].T
                np.fill_diagonal(sims, 0.0)
                k = len(idx)
                mean = sims.sum(axis=1) / (k - 1)
                j = int(np.argmin(mean))
                rest = (sims.sum() - 2 * sims[j].sum()) / ((k - 1) * (k - 2))
                if rest < 0.5 or mean[j] >= self.semantic_stray_ratio * rest:
                    break
                labels[idx[j]] = -1
                self.n_strays_ += 1
                idx = np.delete(idx, j)
            if len(idx) < self.min_messages:
                labels[idx] = -1
        out = np.full(len(labels), -1, dtype=int)
        keep = labels >= 0
        out[keep] = pd.factorize(labels[keep], sort=True)[0]
        return out

    # -- fit ---------------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame, y: object = None) -> HotIssueFinder:
        """Find and rank the issues of ``df`` (see the class docstring for what is learned).

        The rows are read in one canonical order — by time, then id, then the cells of the other columns used
        (:meth:`_canonical_order`) — so that the same messages in another row order (an export sorted by another
        column, a shuffled file) give the same issues, ranks, places, summaries and message lists; ``labels_`` and
        ``places_`` follow the rows as given. Ties elsewhere (the most central message, the most frequent place, the
        order of message ids written at the same time) were broken by row position."""
        order = self._canonical_order(df)
        if order is None:
            return self._fit(df)
        self._fit(df.iloc[order])
        back = np.empty(len(order), dtype=np.int64)
        back[order] = np.arange(len(order))
        self.labels_ = self.labels_[back]
        self.places_ = [self.places_[i] for i in back]
        self._joins = [(int(order[r]), int(order[c]), *rest) for r, c, *rest in self._joins]
        return self

    def _canonical_order(self, df: pd.DataFrame) -> np.ndarray | None:
        """Positions of ``df``'s rows sorted by time, id, the text columns, group, user and likes (each cell as
        text); ``None`` when that is the order given, or when a time cannot be read (:meth:`_fit` says which)."""
        cols = self._check(df)
        if len(df) < 2:
            return None
        times = pd.to_datetime(df[self.time_col], errors="coerce", format="mixed")
        if times.isna().any():
            return None
        from govml.io import beijing_clock

        keys = [beijing_clock(times).to_numpy().astype("datetime64[ns]").view(np.int64)]
        for c in [self.id_col, *cols, self.group_col, self.user_col, self.likes_col]:
            if c and c in df.columns:
                keys.append(pd.factorize(df[c].astype("string").fillna("").to_numpy(dtype=object), sort=True)[0])
        order = np.lexsort(keys[::-1])  # the last key is the primary one: time first
        return None if bool((order == np.arange(len(order))).all()) else order

    def _fit(self, df: pd.DataFrame) -> HotIssueFinder:
        from scipy import sparse
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.sparse.csgraph import connected_components
        from scipy.spatial.distance import squareform

        from govml.privacy import mask

        cols = self._check(df)
        n = len(df)
        from govml.io import beijing_clock

        # first_seen / last_seen and the day windows on Beijing's clock
        times = beijing_clock(pd.to_datetime(df[self.time_col], errors="coerce", format="mixed"))
        bad = times.isna().to_numpy()
        if bad.any():
            from govml.io import source_rows

            file, user_rows = df.attrs.get("govml", {}).get("file", "<input>"), source_rows(df)
            rows = np.flatnonzero(bad)[:20]
            raise DataError([Problem(file, user_rows[r], self.time_col, "a date/time",
                                     cell_text(df[self.time_col].iloc[r])) for r in rows],
                            truncated=bad.sum() > 20)
        texts_by_col = [df[c].astype("string").fillna("").str.strip().tolist() for c in cols]
        titles = texts_by_col[0]
        full = ["\n".join(t[i] for t in texts_by_col) for i in range(n)]
        masked_cols = [[mask(t) for t in col] for col in texts_by_col]

        places: list[list[str]] = []
        for i in range(n):
            p = extract_places(masked_cols[0][i])
            if not p and len(cols) > 1:
                p = extract_places("\n".join(c[i] for c in masked_cols[1:])[:80])
            if not p and len(cols) == 1:
                p = extract_places(masked_cols[0][i][:80])
            places.append(p)
        # Compare messages by their places: two messages that both name a specific place (estate,
        # site, school...) must share it; otherwise roads and villages count too. Broad areas (街道,
        # 镇, 社区) alone never make a link.
        spec_grams = [[_bigrams(p) for p in ps if place_level(p) == 2] for ps in places]
        proper = [[p for p in ps if place_level(p) == 2 and proper_place(p)] for ps in places]
        proper_grams = [[_bigrams(p) for p in ps] for ps in proper]
        core_grams = [[_bigrams(_core(p)) for p in ps] for ps in proper]

        def conflict(a: int, b: int) -> bool:
            return _places_conflict(proper_grams[a], proper_grams[b], core_grams[a], core_grams[b], self.place_overlap)
        place_grams = [[_bigrams(p) for p in ps if place_level(p) >= 1] for ps in places]
        self.places_ = places

        if n == 0:
            self.labels_ = np.zeros(0, dtype=int)
            self.n_components_ = 0
            self.n_long_links_ = 0
            self.n_strays_ = 0
            self.title_bar_, self._joins, self._join_titles = None, [], []
            self.issues_ = pd.DataFrame(columns=OUTPUT_COLUMNS + ["n_users", "likes", "span_days", "n_bursts"])
            return self
        blocks = [self._vectorize(c) for c in masked_cols]
        gcode = None
        if self.group_col and self.group_col in df.columns:  # one issue lives in one community
            gcode = pd.factorize(df[self.group_col].astype("string").fillna(""))[0]
        tday = (times - times.min()).dt.total_seconds().to_numpy() / 86400.0 if n else np.zeros(0)
        sim = self._similarity_matrix(blocks, gcode, tday).tocoo()
        rows, cols_, vals = sim.row, sim.col, sim.data
        keep = rows < cols_
        rows, cols_, vals = rows[keep], cols_[keep], vals[keep]
        keep = np.abs(tday[rows] - tday[cols_]) <= self.window_days
        if gcode is not None:
            keep &= gcode[rows] == gcode[cols_]
        rows, cols_, vals = rows[keep], cols_[keep], vals[keep]
        ok = np.zeros(len(rows), dtype=bool)
        for k, (a, b, v) in enumerate(zip(rows, cols_, vals, strict=True)):
            if place_grams[a] and place_grams[b]:
                pa, pb = (spec_grams[a], spec_grams[b]) if spec_grams[a] and spec_grams[b] else (
                    place_grams[a], place_grams[b])
                ok[k] = (v >= self.min_similarity and _places_compatible(pa, pb, self.place_overlap)
                         and not conflict(a, b))
            else:
                ok[k] = v >= self.min_similarity_no_place
        rows, cols_, vals = rows[ok], cols_[ok], vals[ok]
        graph = sparse.coo_matrix((vals, (rows, cols_)), shape=(n, n)).tocsr()
        graph = graph.maximum(graph.T)
        n_comp, comp = connected_components(graph, directed=False) if n else (0, np.zeros(0, int))

        labels = np.full(n, -1, dtype=int)
        next_label = 0
        members_of = pd.Series(np.arange(n)).groupby(comp).agg(list) if n else []
        pieces: list[np.ndarray] = []
        for members in members_of:
            if len(members) >= self.min_messages:
                pieces.extend(_split_large(graph, np.asarray(members), MAX_LINKAGE))
        for idx in pieces:
            if len(idx) < self.min_messages:
                continue
            if len(idx) > MAX_LINKAGE:  # near-identical messages at any threshold: one issue
                labels[idx] = next_label
                next_label += 1
                continue
            if len(idx) == 2:
                labels[idx] = next_label
                next_label += 1
                continue
            if self.full_linkage and len(idx) <= 400:
                # every pair's similarity (also below the link threshold), zero where the pair may
                # not be one issue (too far apart in time, other group, incompatible places)
                xs = self._stacked[idx]
                sub = (xs @ xs.T).toarray()
                far = np.abs(tday[idx][:, None] - tday[idx][None, :]) > self.window_days
                if gcode is not None:
                    far |= gcode[idx][:, None] != gcode[idx][None, :]
                for a in range(len(idx)):
                    for b in range(a + 1, len(idx)):
                        pa, pb = place_grams[idx[a]], place_grams[idx[b]]
                        if pa and pb:
                            sa, sb = spec_grams[idx[a]], spec_grams[idx[b]]
                            if sa and sb:
                                pa, pb = sa, sb
                            if not _places_compatible(pa, pb, self.place_overlap) or conflict(idx[a], idx[b]):
                                far[a, b] = far[b, a] = True
                sub[far] = 0.0
            else:
                sub = graph[idx][:, idx].toarray()
            dist = 1.0 - sub
            np.fill_diagonal(dist, 0.0)
            dist = np.clip(dist, 0.0, 1.0)
            z = linkage(squareform(dist, checks=False), method="average")
            cut = fcluster(z, t=1.0 - self.min_average_similarity, criterion="distance")
            for c in np.unique(cut):
                m = idx[cut == c]
                if len(m) >= self.min_messages:
                    labels[m] = next_label
                    next_label += 1
        self._stacked = None
        # -- strays: a member far in meaning from the rest of its issue leaves it -------------------
        self._z, self._zt, self.n_strays_ = None, None, 0
        if self.semantic_components and self.semantic_stray_ratio is not None and (labels >= 0).any():
            if self.semantic_title_quantile is not None and len(masked_cols) > 1:
                self._z, self._zt, _ = self._semantic_vectors(masked_cols, places, np.arange(n), titles=True)
            else:
                self._z = self._semantic_vectors(masked_cols, places, np.arange(n))
            if self._z is not None:
                labels = self._split_strays(labels, self._z)
        # -- recurring problems: join issues (and single messages) across a longer gap ------------
        labels, lr, lc, lv, self._joins = self._join_recurring(labels, masked_cols, places, gcode, tday)
        self._z = self._zt = None
        self.n_long_links_ = len(lr)
        next_label = int(labels.max()) + 1 if n and labels.max() >= 0 else 0
        if len(lr):  # the joining pairs count in the centrality used for the summary
            extra = sparse.coo_matrix((lv, (lr, lc)), shape=(n, n)).tocsr()
            graph = graph + extra + extra.T
        self.labels_ = labels
        self.n_components_ = int(n_comp)
        self._stacked = None

        # -- describe and rank the issues ----------------------------------------------------
        ref = pd.Timestamp(self.reference_time) if self.reference_time is not None else (
            times.max() if n else pd.Timestamp.now())
        likes = np.zeros(n)
        if self.likes_col and self.likes_col in df.columns:
            # 1,234 / 1.2万 / - read as an export writes them (pd.to_numeric made them 0 without a word)
            from govml.schemas import to_number

            num, bad = to_number(df[self.likes_col], self.likes_col)
            if bad.any():
                log.warning("%d like count(s) in column '%s' are not numbers (e.g. %r): counted as 0", int(bad.sum()),
                            self.likes_col, str(df[self.likes_col][bad.to_numpy()].iloc[0]))
            likes = num.fillna(0).clip(lower=0).to_numpy()
        users = (df[self.user_col].astype("string").fillna("").to_numpy(dtype=object)
                 if self.user_col and self.user_col in df.columns else np.arange(n).astype(str))
        ids = df[self.id_col].astype("string").fillna("").to_numpy(dtype=object)
        ref_day = (ref - times.min()).total_seconds() / 86400.0 if n else 0.0
        records = []
        for lab in range(next_label):
            idx = np.flatnonzero(labels == lab)
            t = times.iloc[idx]
            first, last = t.min(), t.max()
            span = (last - first).total_seconds() / 86400.0
            age = (ref - last).total_seconds() / 86400.0
            n_users = len({u for u in users[idx] if u}) or len(idx)
            total_likes = float(likes[idx].sum())
            heat = heat_index(len(idx), n_users, total_likes, span, age, weights=self.weights,
                              half_life_days=self.half_life_days)
            # bursts: runs of messages at most window_days apart; an issue joined across a longer gap
            # (a recurring problem) is as hot as its hottest burst
            by_time = idx[np.argsort(tday[idx], kind="stable")]
            bursts = np.split(by_time, np.flatnonzero(np.diff(tday[by_time]) > self.window_days) + 1)
            if len(bursts) > 1:
                heat = max(heat_index(len(b), len({u for u in users[b] if u}) or len(b), float(likes[b].sum()),
                                      tday[b[-1]] - tday[b[0]], ref_day - tday[b[-1]], weights=self.weights,
                                      half_life_days=self.half_life_days) for b in bursts)
            sub = graph[idx][:, idx]
            centrality = np.asarray(sub.sum(axis=1)).ravel()
            central = idx[int(np.argmax(centrality))]
            place = self._issue_place(idx, masked_cols[0])
            clause = _first_clause(masked_cols[0][central])
            summary = clause if _names_place(clause, place) else f"{place}：{clause}"
            order = idx[np.argsort(t.to_numpy(), kind="stable")]
            records.append({
                "issue_id": lab, "heat": round(heat, 4), "n_messages": len(idx), "n_users": n_users,
                "likes": total_likes, "span_days": round(span, 2), "n_bursts": len(bursts), "first_seen": first, "last_seen": last,
                "place": place, "summary": summary,
                "message_ids": ";".join(str(ids[i]) for i in order),
            })
        issues = pd.DataFrame.from_records(records, columns=[
            "issue_id", "heat", "n_messages", "n_users", "likes", "span_days", "n_bursts", "first_seen", "last_seen",
            "place", "summary", "message_ids"])
        issues = issues.sort_values(["heat", "n_messages", "first_seen"], ascending=[False, False, True],
                                    kind="stable").reset_index(drop=True)
        # issue ids follow the ranking: H0001 is the hottest
        relabel = {old: i for i, old in enumerate(issues["issue_id"])}
        self.labels_ = np.array([relabel.get(x, -1) for x in labels], dtype=int)
        issues.insert(0, "rank", np.arange(1, len(issues) + 1))
        issues["issue_id"] = [f"H{i + 1:04d}" for i in range(len(issues))]
        self.issues_ = issues[OUTPUT_COLUMNS + ["n_users", "likes", "span_days", "n_bursts"]]
        del full, titles
        return self

    def _issue_place(self, idx: np.ndarray, titles: list[str]) -> str:
        """The issue's place: its most frequent administrative code plus most frequent place name."""
        names: Counter[str] = Counter()
        codes: Counter[str] = Counter()
        for i in idx:
            for p in self.places_[i]:
                names[p] += 1
            for c in admin_codes(titles[i]):
                codes[c] += 1
        if not names:
            return codes.most_common(1)[0][0] if codes else ""
        # prefer the shortest name among those nearly as frequent as the top one (drops verb debris)
        top_count = names.most_common(1)[0][1]
        cands = [p for p, c in names.items() if c >= max(1, 0.6 * top_count)]
        contained = [p for p in cands if sum(p in q for q in cands) >= 2]
        best = max(contained or cands, key=lambda p: (names[p], -len(p)))
        # the district written with the name itself ("A1区汇一城"), else the one its titles name most often:
        # an issue's other messages may name another district (a neighbour's, a wrong one)
        near: Counter[str] = Counter()
        written = re.compile(r"([A-Z]\d{0,2}[区县])[\u4e00-\u9fa5]{0,8}?" + re.escape(best))
        for i in idx:
            near.update(m.group(1) for m in written.finditer(titles[i]))
        district = [c for c, _ in (near or codes).most_common() if c.endswith(("区", "县"))]
        return f"{district[0]}{best}" if district else best

    def fit_predict(self, df: pd.DataFrame, y: object = None) -> np.ndarray:
        return self.fit(df).labels_


def hot_issues(
    df: pd.DataFrame,
    *,
    text_cols: Sequence[str] | str = ("text",),
    id_col: str = "id",
    time_col: str = "created_at",
    likes_col: str | None = "likes",
    user_col: str | None = "user_id",
    top: int | None = None,
    **params: object,
) -> pd.DataFrame:
    """Ranked hot issues of a message table: columns :data:`OUTPUT_COLUMNS`.

    ``first_seen``/``last_seen`` are timestamps, ``message_ids`` the member ids joined by ``;``
    in time order. ``params`` go to :class:`HotIssueFinder`.
    """
    if isinstance(text_cols, str):
        text_cols = (text_cols,)
    finder = HotIssueFinder(text_cols=tuple(text_cols), id_col=id_col, time_col=time_col,
                            likes_col=likes_col, user_col=user_col, **params).fit(df)
    out = finder.issues_[OUTPUT_COLUMNS]
    return out.head(top).reset_index(drop=True) if top else out
