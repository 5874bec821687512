"""High-frequency and distinctive demands per group and period.

:func:`top_demands` turns messages into a table ``group, period_start, term, count, share,
distinctiveness, example``:

* **term** — a token of :class:`~govml.text.tokenize.GovTokenizer` (stop words, numbers, places and
  personal data already gone) or, with ``phrases=True``, a multi-word phrase: 2 or 3 tokens adjacent
  in the token stream, joined **without a separator** (``加装电梯`` + ``补贴`` → ``加装电梯补贴``), kept
  when at least ``min_phrase_count`` messages of the whole input contain it. A phrase that spells a
  word (小区 + 业主 = 小区业主, cut as one word in other messages) or another phrase (A + BC = AB + C) is
  the same term: one row, each message counted once. A word or phrase is
  left out of a group-period's list when it only occurs inside a longer phrase of the cell (same
  count), or when a longer phrase shown in the same list holds at least ``subsume_share`` (0.8) of
  its messages (``景园`` 47 and ``滨河`` 46 beside ``景园滨河`` 43 are one demand): the next terms
  move up. ``subsume_share=1`` keeps only the first rule.
* **count** — document frequency: the number of messages of the group-period that contain the term
  (a message repeating a word ten times counts once).
* **share** — ``count`` / number of messages in the group-period.
* **distinctiveness** — the z-score of the weighted log-odds ratio with an informative Dirichlet prior
  (Monroe, Colaresi & Quinn 2008, "Fightin' Words", eq. 16–22) of the term in this group against the
  *rest*: the other groups in the same period. When a period has a single group (no ``by``), the rest
  is the same group in all other periods, so the score says what is new in this period. Counts are
  the document frequencies above; the prior is ``α_w = prior_size · f_w / Σf`` with ``f_w`` the term's
  document frequency in the whole input and ``prior_size`` (default: the mean number of term
  occurrences per group-period) its total weight. |z| > 1.96 is the usual "clearly distinctive" line.
* **example** — one message of the group-period containing the term, masked with
  :func:`govml.privacy.mask` and cut to ``example_chars`` characters: the shortest one with at least
  ``example_min_chars`` characters (short, to the point, not a one-word title), else the longest.

Group-periods with fewer than ``min_messages`` (2) messages are left out (a warning says how many):
one message gives every one of its words a share of 1 and says nothing about what is frequent.
``min_count`` leaves out terms found in fewer messages of the group-period. The default ``"auto"``
asks for 2 messages in group-periods of at least :data:`AUTO_MIN_COUNT_FROM` (10) messages and 1 in
smaller ones: in a group-period of 10 or more messages a word of a single message says nothing about
what is frequent (with ``rank_by="distinctiveness"`` such words, rare everywhere, took places from
terms that recur), while in a smaller one the single messages are all there is to read (session 11,
docs/benchmarks.md). An integer asks for that many messages everywhere.

Without ``by`` the group is :data:`ALL_GROUP` (``"全部"``). ``rank_by`` chooses which terms are the
``top`` per group-period: ``"count"`` (high-frequency demands, ties broken by distinctiveness) or
``"distinctiveness"``. ``with_trend=True`` adds ``prev_share`` (the term's mean share in the same group
over the ``trend_periods`` previous periods that have messages; 0 when absent) and ``trend``
(``share - prev_share``).

Everything is counted with vectorised code (numpy + scipy.sparse); tokenizing is the slow part and
can be done beforehand (``tokens=``) or in worker processes (``n_jobs``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from govml.errors import DataError, Problem
from govml.io import label_text
from govml.text.tokenize import BREAK

log = logging.getLogger(__name__)

ALL_GROUP = "全部"
COLUMNS = ["group", "period_start", "term", "count", "share", "distinctiveness", "example"]
AUTO_MIN_COUNT_FROM = 10  # min_count="auto": count >= 2 in group-periods of at least this many messages
PERIODS = {"W": "W", "M": "M", "Q": "Q", "D": "D", "Y": "Y"}
EXAMPLE_MASK_BATCH = 20_000  # examples masked together (mask_many joins them into one string: bounded memory)


def period_starts(times: pd.Series, period: str = "M") -> pd.Series:
    """Start timestamp of the period (``W``: weeks starting Monday, ``M``, ``Q``, ``D``, ``Y``)."""
    if period not in PERIODS:
        raise DataError(message=f"period: expected one of {sorted(PERIODS)}, found {period!r}")
    return _period_starts(_beijing_times(times), period)


def _beijing_times(times: pd.Series) -> pd.Series:
    from govml.io import beijing_clock

    return beijing_clock(pd.to_datetime(times))  # on Beijing's clock, as govml reads every time (not the zone's own)


def _period_starts(t: pd.Series, period: str) -> pd.Series:
    if period not in PERIODS:
        raise DataError(message=f"period: expected one of {sorted(PERIODS)}, found {period!r}")
    return t.dt.to_period(PERIODS[period]).dt.start_time


def log_odds_z(y_i: np.ndarray, n_i: np.ndarray, y_j: np.ndarray, n_j: np.ndarray,
               alpha_w: np.ndarray, alpha_0: float | np.ndarray) -> np.ndarray:
    """Weighted log-odds z-scores with an informative Dirichlet prior (Monroe et al. 2008).

    ``y_i``/``y_j``: counts of word w in corpus i and j; ``n_i``/``n_j``: all word counts of each
    corpus; ``alpha_w``: prior pseudo-count of w; ``alpha_0``: the prior's total. Element-wise::

        δ = log((y_i+α_w)/(n_i+α_0−y_i−α_w)) − log((y_j+α_w)/(n_j+α_0−y_j−α_w))
        σ² = 1/(y_i+α_w) + 1/(y_j+α_w);   z = δ/σ
    """
    y_i = np.asarray(y_i, dtype=float)
    y_j = np.asarray(y_j, dtype=float)
    a = np.asarray(alpha_w, dtype=float)
    delta = (np.log(y_i + a) - np.log(n_i + alpha_0 - y_i - a)
             - np.log(y_j + a) + np.log(n_j + alpha_0 - y_j - a))
    var = 1.0 / (y_i + a) + 1.0 / (y_j + a)
    return delta / np.sqrt(var)


# ---------------------------------------------------------------------------------------------------


def _check_columns(df: pd.DataFrame, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError([Problem(file="<table>", row=None, column=c,
                                 expected=f"a column named {c!r} (columns: {', '.join(map(str, df.columns))})")
                         for c in missing])


def _doc_term_pairs(tokens: Sequence[Sequence[str]], phrases: bool, min_phrase_count: int,
                    ) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, np.ndarray]:
    """Unique (doc, term) pairs, the term strings, each term's two parts (-1 for single words) and whether it is
    a word (:func:`_one_term_per_string`):
    single words, plus adjacent 2- and 3-grams (never across :data:`~govml.text.tokenize.BREAK`) that
    at least ``min_phrase_count`` documents contain (sort-based counting; a 3-gram is only
    considered where both of its 2-grams are frequent). Parts: a 2-gram's two words, a 3-gram's two
    2-grams (-1 when the second is not frequent)."""
    n_docs = len(tokens)
    lengths = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=n_docs)
    total = int(lengths.sum())
    if total == 0:
        e = np.zeros(0, np.int64)
        return e, e, [], np.zeros((0, 2), np.int64), np.zeros(0, dtype=bool)
    flat = np.fromiter(chain.from_iterable(tokens), dtype=object, count=total)
    codes, vocab = pd.factorize(flat)  # in order of first use (rows in time order: the older term first on ties)
    del flat
    codes = codes.astype(np.int64)
    vocab_list: list[str] = list(vocab)
    V = len(vocab_list)
    doc = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    is_break = codes == (vocab_list.index(BREAK) if BREAK in vocab_list else -1)
    if is_break.any():
        uni = _unique_int(doc[~is_break] * V + codes[~is_break])
    else:
        uni = _unique_int(doc * V + codes)
    # int32 pairs when they fit (term ids < V + 2-grams + 3-grams <= 3 · total): half the memory
    dt = np.int32 if 3 * total < 2**31 and n_docs < 2**31 else np.int64
    docs, terms = [(uni // V).astype(dt)], [(uni % V).astype(dt)]
    del uni
    parts = [np.full((V, 2), -1, dtype=np.int64)]
    if phrases and total > 1:
        pos2 = np.flatnonzero((doc[:-1] == doc[1:]) & ~is_break[:-1] & ~is_break[1:])
        key2 = codes[pos2] * V + codes[pos2 + 1]
        freq2, d2, i2 = _frequent_keys(key2, doc[pos2], n_docs, min_phrase_count)
        base = len(vocab_list)
        docs.append(d2.astype(dt))
        terms.append((base + i2).astype(dt))
        vocab_arr = np.asarray(vocab_list, dtype=object)
        vocab_list.extend((vocab_arr[freq2 // V] + vocab_arr[freq2 % V]).tolist())
        parts.append(np.stack([freq2 // V, freq2 % V], axis=1))
        if len(freq2):
            # 3-grams where the 2-grams at p and p+1 are both frequent
            idx2 = _lookup(freq2, key2)  # hash lookup: much faster than searchsorted here
            is_f = np.zeros(total, dtype=bool)
            where = np.full(total, -1, dtype=np.int64)
            hit = idx2 >= 0
            is_f[pos2[hit]] = True
            where[pos2[hit]] = idx2[hit]
            del idx2, hit, key2, pos2
            p3 = np.flatnonzero(is_f[:-2] & is_f[1:-1]) if total > 2 else np.zeros(0, np.int64)
            del is_f
            key3 = where[p3] * V + codes[p3 + 2]
            del where
            freq3, d3, i3 = _frequent_keys(key3, doc[p3], n_docs, min_phrase_count)
            del key3, p3
            docs.append(d3.astype(dt))
            terms.append((len(vocab_list) + i3).astype(dt))
            big = np.asarray(vocab_list[base:], dtype=object)
            vocab_list.extend((big[freq3 // V] + vocab_arr[freq3 % V]).tolist())
            # second 2-gram of (a, b, c) = (b, c): find it among the frequent 2-grams
            first2 = freq3 // V
            bc = (freq2[first2] % V) * V + freq3 % V
            pos_bc = np.searchsorted(freq2, bc)
            second = np.where(_member(freq2, bc, pos_bc), base + pos_bc, -1)
            parts.append(np.stack([base + first2, second], axis=1))
    return _one_term_per_string(np.concatenate(docs, dtype=dt), np.concatenate(terms, dtype=dt), vocab_list,
                                np.concatenate(parts), n_docs)


def _one_term_per_string(doc: np.ndarray, term: np.ndarray, vocab: list[str], parts: np.ndarray, n_docs: int,
                         ) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, np.ndarray]:
    """One term per string: a phrase joined without a separator can spell a word of the dictionary
    (小区 + 业主 = 小区业主, which jieba also cuts as one word elsewhere) or another phrase (A + BC = AB + C).
    Such terms are merged into one, and each message counts once for it — before, the output could list 小区业主
    twice in one group-period, each row counting only the messages of one segmentation (附件3: 79 strings).
    The merged term is a word when one of its spellings is (``is_word``: kept at one message in a small
    group-period, as words are) and keeps the parts of its first phrase spelling (so 电梯 and 停运 that only
    occur inside 电梯停运 are still folded into it). Returns (doc, term, vocab, parts, is_word)."""
    is_word = parts[:, 0] < 0
    ids, uniq = pd.factorize(np.asarray(vocab, dtype=object))
    if len(uniq) == len(vocab):
        return doc, term, vocab, parts, is_word
    ids = ids.astype(np.int64)
    T = len(uniq)
    merged = np.bincount(ids, minlength=T) > 1  # strings of two or more terms
    term = ids[term].astype(term.dtype)
    hit = merged[term]
    if hit.any():  # a message holding two spellings of one string: its (doc, term) pair once
        key = _unique_int(term[hit].astype(np.int64) * n_docs + doc[hit])
        doc = np.concatenate([doc[~hit], (key % n_docs).astype(doc.dtype)])
        term = np.concatenate([term[~hit], (key // n_docs).astype(term.dtype)])
    word = np.zeros(T, dtype=bool)
    word[ids[is_word]] = True
    new_parts = np.full((T, 2), -1, dtype=np.int64)
    phrase = np.flatnonzero(~is_word)[::-1]  # the first phrase spelling of each string wins: written last
    new_parts[ids[phrase]] = np.where(parts[phrase] >= 0, ids[np.maximum(parts[phrase], 0)], -1)
    return doc, term, list(uniq), new_parts, word


def _member(sorted_keys: np.ndarray, x: np.ndarray, pos: np.ndarray | None = None) -> np.ndarray:
    if len(sorted_keys) == 0:
        return np.zeros(len(x), dtype=bool)
    if pos is None:
        pos = np.searchsorted(sorted_keys, x)
    return sorted_keys[np.minimum(pos, len(sorted_keys) - 1)] == x


def _frequent_keys(keys: np.ndarray, docs: np.ndarray, n_docs: int, min_docs: int,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keys that at least ``min_docs`` documents contain: (sorted frequent keys, and the unique
    (doc, index-into-frequent-keys) pairs of their occurrences)."""
    if len(keys) == 0:
        e = np.zeros(0, np.int64)
        return e, e, e
    uniq_keys = None
    if int(keys.max()) >= 2**62 // max(n_docs, 1):  # keep key * n_docs inside int64
        inv, uniq_keys = pd.factorize(keys, sort=True)
        keys = inv.astype(np.int64)
    kd = _unique_int(keys * n_docs + docs)
    k, d = kd // n_docs, kd % n_docs
    del kd
    new_key = np.r_[True, k[1:] != k[:-1]]
    starts = np.flatnonzero(new_key)
    counts = np.diff(np.r_[starts, len(k)])
    is_freq = counts >= min_docs
    frequent = k[starts][is_freq]
    grp = np.cumsum(new_key) - 1  # group of each (key, doc) pair; its index among the frequent keys:
    rank = np.cumsum(is_freq) - 1
    hit = is_freq[grp]
    idx = rank[grp[hit]]
    if uniq_keys is not None:
        frequent = np.asarray(uniq_keys)[frequent]
    return frequent, d[hit], idx


def _lookup(keys: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Position of each value of ``x`` in the unique array ``keys`` (-1 when absent), by hashing."""
    if len(keys) == 0:
        return np.full(len(x), -1, dtype=np.int64)
    return pd.Index(keys).get_indexer(x).astype(np.int64, copy=False)


def _subsumed(cg: np.ndarray, ct: np.ndarray, cy: np.ndarray, parts: np.ndarray, T: int,
              chunk: int = 4_000_000, *, share: float = 1.0, eligible: np.ndarray | None = None,
              grand: bool = False) -> np.ndarray:
    """Cells whose term is a part of a phrase cell of the same group-period that holds at least
    ``share`` of the part's messages (``share=1``: the same count; a phrase's messages are a subset of
    each part's) — phrase cells taken ``chunk`` at a time, to bound the temporaries; only phrase
    cells where ``eligible`` is True (those that can be shown) subsume; ``grand``: a 3-gram also
    subsumes the words of its 2-grams."""
    drop = np.zeros(len(cg), dtype=bool)
    part0, part1 = np.ascontiguousarray(parts[:, 0]), np.ascontiguousarray(parts[:, 1])
    if len(cg) == 0 or not (part0[ct] >= 0).any():
        return drop
    key = cg.astype(np.int64) * T + ct
    is_sorted = bool(np.all(key[1:] >= key[:-1]))  # cells come sorted by (group-period, term)
    order = None if is_sorted else np.argsort(key, kind="stable")
    sorted_key = key if is_sorted else key[order]
    last = len(sorted_key) - 1
    for start in range(0, len(cg), chunk):
        is_ph = part0[ct[start:start + chunk]] >= 0
        if eligible is not None:
            is_ph &= eligible[start:start + chunk]
        phrase = start + np.flatnonzero(is_ph)
        if len(phrase) == 0:
            continue
        ct_ph = ct[phrase]
        g_ph, y_ph = cg[phrase].astype(np.int64) * T, cy[phrase]
        p0, p1 = part0[ct_ph], part1[ct_ph]  # 1-d gathers: much faster than parts[ct_ph]
        # a 3-gram's parts are 2-grams; their words are inside it too (景园 in 景园滨河捆绑)
        subs = [p0, p1] + ([np.where(p >= 0, q[np.maximum(p, 0)], -1) for p in (p0, p1) for q in (part0, part1)]
                           if grand else [])
        for sub in subs:
            has = np.flatnonzero(sub >= 0)
            want = g_ph[has] + sub[has]
            pos = np.minimum(np.searchsorted(sorted_key, want), last)
            found = sorted_key[pos] == want
            idx = pos if order is None else order[pos]
            # count(phrase) <= count(part) always; share=1 keeps the exact-equality test
            covered = (cy[idx] == y_ph[has]) if share >= 1.0 else (y_ph[has] >= share * cy[idx] - 1e-9)
            drop[idx[found & covered]] = True
    return drop


def _unique_int(a: np.ndarray) -> np.ndarray:
    """Sorted unique values of an integer array (sort-based: faster than np.unique's hash path here). NumPy's stable
    sort (timsort for int64) is used: the (doc, term) keys come in sorted runs of a document each, which it merges
    (24M keys: 2.5 → 0.8 s); on random keys it is no slower than the default quicksort."""
    if len(a) == 0:
        return a
    s = np.sort(a, kind="stable")
    return s[np.r_[True, s[1:] != s[:-1]]]


def top_demands(
    df: pd.DataFrame,
    text_col: str = "text",
    time_col: str = "created_at",
    by: str | None = None,
    period: str = "M",
    top: int = 20,
    phrases: bool = True,
    *,
    tokens: Sequence[Sequence[str]] | None = None,
    tokenizer: Any = None,
    rank_by: str = "count",
    min_count: int | str = "auto",
    min_phrase_count: int = 3,
    min_messages: int = 2,
    subsume_share: float = 0.8,
    prior_size: float | None = None,
    with_trend: bool = False,
    trend_periods: int = 3,
    example_min_chars: int = 15,
    example_chars: int = 120,
    n_jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Top ``top`` demand terms per group and period (see the module docstring for every column).

    ``tokens``: token lists aligned with ``df`` rows (skips tokenizing); else ``tokenizer`` (default
    ``GovTokenizer()``) runs on ``df[text_col]`` with ``n_jobs`` processes. Rows without a time are
    excluded and logged; a missing column raises :class:`~govml.errors.DataError`.
    """
    if rank_by not in ("count", "distinctiveness"):
        raise DataError(message=f"rank_by: expected 'count' or 'distinctiveness', found {rank_by!r}")
    _check_min_count(min_count)
    _check_columns(df, [text_col, time_col] + ([by] if by else []))
    n_all = len(df)
    if period not in PERIODS:
        raise DataError(message=f"period: expected one of {sorted(PERIODS)}, found {period!r}")
    when = _beijing_times(df[time_col])
    starts = _period_starts(when, period)
    if tokens is None:
        if tokenizer is None:
            from govml.text.tokenize import GovTokenizer

            tokenizer = GovTokenizer(mark_breaks=True)
        tokens = tokenizer.tokenize_many(df[text_col], n_jobs=n_jobs, progress=progress)
    elif len(tokens) != n_all:
        raise DataError(message=f"tokens: expected {n_all} token lists (one per row), found {len(tokens)}")
    keep = starts.notna().to_numpy()
    if not keep.all():
        log.warning("top_demands: %d of %d rows have no %s and are left out", int((~keep).sum()), n_all, time_col)
    idx = np.flatnonzero(keep)
    all_groups = label_text(df[by]).fillna("(空)").to_numpy(dtype=object) if by else None
    idx = _canonical_rows(idx, when, df[text_col], all_groups)
    tokens = [tokens[i] for i in idx] if len(idx) < n_all or bool((np.diff(idx) < 0).any()) else list(tokens)
    texts = df[text_col].to_numpy(dtype=object)[idx]
    starts = starts.to_numpy()[idx]
    if by:
        groups = all_groups[idx]
    else:
        groups = np.full(len(idx), ALL_GROUP, dtype=object)
    out_cols = COLUMNS + (["prev_share", "trend"] if with_trend else [])
    if len(idx) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in out_cols})

    clock = _Clock()
    # group-period codes
    g_codes, g_uniques = pd.factorize(groups, sort=True)
    p_codes, p_uniques = pd.factorize(starts, sort=True)
    gp_key = g_codes.astype(np.int64) * len(p_uniques) + p_codes
    gp_codes, gp_uniques = pd.factorize(gp_key, sort=True)
    n_gp = len(gp_uniques)
    gp_group = (gp_uniques // len(p_uniques)).astype(np.int64)
    gp_period = (gp_uniques % len(p_uniques)).astype(np.int64)
    n_docs_gp = np.bincount(gp_codes, minlength=n_gp)

    clock("group-period codes")
    # binary document-term matrix → counts per group-period
    doc, term, vocab, parts, is_word = _doc_term_pairs(tokens, phrases, min_phrase_count)
    T = len(vocab)
    if T == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in out_cols})
    clock("doc-term pairs")
    # group-period × term document frequencies straight from the (doc, term) pairs: scipy's
    # coo → csr is a counting sort plus a per-row sort, no n × T matrix and no product
    C = sp.csr_matrix((np.ones(len(doc), dtype=np.float64), (gp_codes.astype(doc.dtype)[doc], term)),
                      shape=(n_gp, T))
    C.sum_duplicates()  # canonical: cells sorted by (gp, term), duplicates summed
    # cells as int32 codes where they fit (cast to int64 before any key arithmetic)
    cg = np.repeat(np.arange(n_gp, dtype=C.indices.dtype), np.diff(C.indptr))
    ct, cy = C.indices, C.data
    clock("sparse counts")
    df_w = np.bincount(term, minlength=T).astype(np.float64)  # corpus document frequency
    n_g = np.bincount(cg, weights=cy, minlength=n_gp)  # term occurrences per group-period
    alpha0 = float(prior_size) if prior_size else float(n_g.mean())
    alpha_w = alpha0 * df_w / df_w.sum()
    n_periods = len(p_uniques)
    groups_in_period = np.bincount(gp_period, minlength=n_periods)
    n_p = np.bincount(gp_period, weights=n_g, minlength=n_periods)
    n_g_total = n_g.sum()

    # top per group-period: drop phrases seen once in the cell and words/phrases subsumed by a
    # longer phrase with the same count in the cell (they only occur inside it); group-periods with
    # fewer than min_messages messages say nothing about frequency (one message: every word has share 1)
    need = _min_counts(min_count, n_docs_gp)
    shown = cy >= need[cg]
    ok = shown & (is_word[ct] | (cy >= 2))
    ok &= ~_subsumed(cg, ct, cy, parts, T, eligible=shown)
    small = n_docs_gp < min_messages
    if small.any():
        ok &= ~small[cg]
        n_small, n_left = int(small.sum()), int(n_docs_gp[small].sum())
        log.warning("top_demands: %d group-period%s with fewer than %d messages left out (%d message%s in all: "
                    "too few to tell a frequent word)", n_small, "" if n_small == 1 else "s", min_messages, n_left,
                    "" if n_left == 1 else "s")
    cg, ct, cy = cg[ok], ct[ok], cy[ok]
    clock("filter")
    # then, among the terms shown, a word or phrase is left out when a longer phrase also shown holds
    # at least subsume_share of its messages (景园 47 and 滨河 46 beside 景园滨河 43: one demand, not
    # three); the next terms move up. With the count ranking only cells that can make the top are
    # scored (count >= the group's k-th count); k grows when left-out terms leave a group short.
    merge = phrases and subsume_share < 1.0
    k = top + max(1, top // 4) if merge else top  # a few spare cells: the usual merges need no second pass
    while True:
        cand = _count_candidates(cg, cy, n_gp, k) if rank_by == "count" else None
        c_g, c_t, c_y = (cg, ct, cy) if cand is None else (cg[cand], ct[cand], cy[cand])
        z = _cell_z(c_g, c_t, c_y, gp_period, gp_codes, doc, term, T, n_periods, n_g, n_p, n_g_total,
                    groups_in_period, df_w, alpha_w, alpha0)
        order = _ranking(c_g, c_t, c_y, z, rank_by)
        c_g, c_t, c_y, z = c_g[order], c_t[order], c_y[order], z[order]
        alive = np.ones(len(c_g), dtype=bool)
        sel = _rank_within(c_g, alive) < top
        while merge:
            s_idx = np.flatnonzero(sel)
            gone = _subsumed(c_g[s_idx], c_t[s_idx], c_y[s_idx], parts, T, share=subsume_share, grand=True)
            if not gone.any():
                break
            alive[s_idx[gone]] = False
            sel = alive & (_rank_within(c_g, alive) < top)
        if cand is None or k >= len(cy):
            break
        # exact only when every group that lost terms still had candidates to spare
        n_alive = np.bincount(c_g, weights=alive, minlength=n_gp)
        n_all = np.bincount(cg, minlength=n_gp)
        n_cand = np.bincount(c_g, minlength=n_gp)
        short = (n_alive < top) & (n_all > n_cand)
        if not short.any():
            break
        k += int((n_cand - n_alive)[short].max())
    clock("log-odds and ranking")
    cg, ct, cy, z = c_g[sel], c_t[sel], c_y[sel], z[sel]

    clock("top selection")
    examples = _examples(doc, term, gp_codes, texts, cg, ct, T, example_min_chars, example_chars)
    clock("examples")
    vocab_arr = np.asarray(vocab, dtype=object)
    out = pd.DataFrame({
        "group": np.asarray(g_uniques, dtype=object)[gp_group[cg]],
        "period_start": pd.DatetimeIndex(p_uniques)[gp_period[cg]],
        "term": vocab_arr[ct],
        "count": cy.astype(np.int64),
        "share": cy / n_docs_gp[cg],
        "distinctiveness": np.round(z, 3),
        "example": examples,
    })
    if with_trend:
        prev = _prev_share(C, n_docs_gp, gp_group, gp_period, cg, ct, trend_periods)
        out["prev_share"] = prev
        out["trend"] = out["share"] - prev
    clock("output table")
    return out.reset_index(drop=True)


def _canonical_rows(idx: np.ndarray, when: pd.Series, texts: pd.Series, groups: np.ndarray | None) -> np.ndarray:
    """``idx`` (row positions) in one order whatever the order of the input: by time, then text, then group — only
    identical rows keep their order. Everything that breaks a tie by position (the terms' codes: the older term
    first; the example: the earliest message) then gives the same answer for the same messages in another order;
    rows already in time order (an export sorted by time) keep it."""
    if len(idx) < 2:
        return idx
    t = when.to_numpy()[idx].astype("datetime64[ns]").view(np.int64)
    if bool((np.diff(t) > 0).all()):  # strictly in time order: nothing to break
        return idx
    keys = [t, _text_ranks(texts, idx)]
    if groups is not None:
        keys.append(pd.factorize(groups[idx], sort=True)[0])
    return idx[np.lexsort(keys[::-1])]


def _text_ranks(texts: pd.Series, idx: np.ndarray) -> np.ndarray:
    """Dense ranks of ``texts[idx]`` in code-point order (what is not a string ranks as ``""``): equal texts, equal
    ranks. An Arrow-backed column is ranked by Arrow (UTF-8 byte order is code-point order); otherwise the distinct
    texts are sorted in Python — both much faster than ``pd.factorize(sort=True)`` on a million texts (3.2 s →
    0.8 / 1.7 s)."""
    arr = texts.array
    if isinstance(arr, pd.arrays.ArrowStringArray):
        import pyarrow as pa
        import pyarrow.compute as pc

        a = pa.array(arr).take(pa.array(idx)).fill_null("")
        return np.asarray(pc.rank(a, sort_keys="ascending", tiebreaker="dense"), dtype=np.int64)
    vals = texts.to_numpy(dtype=object)[idx]
    codes, uniq = pd.factorize(np.asarray([x if isinstance(x, str) else "" for x in vals], dtype=object))
    order = sorted(range(len(uniq)), key=list(uniq).__getitem__)
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(uniq), dtype=np.int64)
    return rank[codes]


def _check_min_count(min_count: Any) -> None:
    ok = min_count == "auto" if isinstance(min_count, str) else (
        isinstance(min_count, int | np.integer) and not isinstance(min_count, bool) and min_count >= 1)
    if not ok:
        raise DataError(message=f"min_count: expected a whole number of messages >= 1 or 'auto', found {min_count!r}")


def _min_counts(min_count: int | str, n_docs_gp: np.ndarray) -> np.ndarray:
    """The number of messages a term needs in each group-period: ``min_count``, or with ``"auto"``
    2 where the group-period has at least :data:`AUTO_MIN_COUNT_FROM` messages and 1 below."""
    if isinstance(min_count, str):
        return np.where(n_docs_gp >= AUTO_MIN_COUNT_FROM, 2, 1)
    return np.full(len(n_docs_gp), int(min_count), dtype=np.int64)


def _ranking(cg: np.ndarray, ct: np.ndarray, cy: np.ndarray, z: np.ndarray, rank_by: str) -> np.ndarray:
    """Order of the cells: by group-period, then count (or z), then z (or count), then term — one
    composite key."""
    zrank = np.empty(len(z), dtype=np.int64)
    zrank[np.lexsort((ct, -np.round(z, 6)))] = np.arange(len(z))  # 0 = highest z
    crank = (int(cy.max(initial=0)) - cy).astype(np.int64)       # 0 = highest count
    n_z, n_c = len(z) + 1, int(crank.max(initial=0)) + 1
    if rank_by == "count":
        within = crank * n_z + zrank
        span = n_c * n_z
    else:
        within = zrank
        span = n_z
    if span * (int(cg.max(initial=0)) + 1) < 2**62:
        return np.argsort(cg.astype(np.int64) * span + within)
    return np.lexsort((within, cg))  # pragma: no cover - astronomically many cells


def _rank_within(cg: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """0-based rank of each alive cell among the alive cells of its group-period (cells sorted by
    group-period); a large number for the others."""
    if len(cg) == 0:
        return np.zeros(0, dtype=np.int64)
    c = np.cumsum(alive, dtype=np.int64)
    first = np.r_[0, np.flatnonzero(np.diff(cg)) + 1]
    before = (c[first] - alive[first])
    rank = c - 1 - np.repeat(before, np.diff(np.r_[first, len(cg)]))
    return np.where(alive, rank, np.iinfo(np.int64).max)


def _count_candidates(cg: np.ndarray, cy: np.ndarray, n_gp: int, top: int) -> np.ndarray | None:
    """Cells whose count is at least the ``top``-th highest count of their group-period (ties
    included), or None when every cell qualifies or the histogram would be too large."""
    if len(cy) == 0:
        return None
    ci = cy.astype(np.int64)
    m = int(ci.max())
    if n_gp * (m + 1) > 50_000_000:  # pragma: no cover - huge counts in many groups
        return None
    hist = np.bincount(cg.astype(np.int64) * (m + 1) + (m - ci), minlength=n_gp * (m + 1)).reshape(n_gp, m + 1)
    reach = np.cumsum(hist, axis=1) >= top  # column j: count m - j
    j = np.where(reach.any(axis=1), reach.argmax(axis=1), m)  # no column reaches top: keep all
    cand = ci >= (m - j)[cg]
    return None if cand.all() else cand


def _cell_z(cg: np.ndarray, ct: np.ndarray, cy: np.ndarray, gp_period: np.ndarray, gp_codes: np.ndarray,
            doc: np.ndarray, term: np.ndarray, T: int, n_periods: int, n_g: np.ndarray, n_p: np.ndarray,
            n_g_total: float, groups_in_period: np.ndarray, df_w: np.ndarray, alpha_w: np.ndarray,
            alpha0: float) -> np.ndarray:
    """Log-odds z of each cell against the rest: the other groups of the same period; a lone group
    → itself in the other periods."""
    cell_p = gp_period[cg]
    if n_periods * T <= 20_000_000:  # period × term document frequencies, dense
        pt = np.bincount(gp_period[gp_codes[doc]] * T + term, minlength=n_periods * T)
        y_period = pt[cell_p * T + ct].astype(np.float64)
    else:  # pragma: no cover - very many periods × terms
        key = gp_period[gp_codes[doc]] * T + term
        uk, cnt = np.unique(key, return_counts=True)
        y_period = cnt[np.searchsorted(uk, cell_p * T + ct)].astype(np.float64)
    lone = groups_in_period[cell_p] == 1
    y_rest = np.where(lone, df_w[ct] - cy, y_period - cy)
    n_rest = np.where(lone, n_g_total - n_g[cg], n_p[cell_p] - n_g[cg])
    return log_odds_z(cy, n_g[cg], y_rest, n_rest, alpha_w[ct], alpha0)


class _Clock:
    """Logs the seconds each stage took (DEBUG level)."""

    def __init__(self) -> None:
        import time

        self._time = time.process_time if __import__("os").environ.get("GOVML_CPU_CLOCK") else time.perf_counter
        self._t = self._time()

    def __call__(self, stage: str) -> None:
        now = self._time()
        log.debug("top_demands: %s %.2f s", stage, now - self._t)
        self._t = now


def _examples(doc: np.ndarray, term: np.ndarray, gp_codes: np.ndarray, texts: np.ndarray,
              cg: np.ndarray, ct: np.ndarray, T: int, min_chars: int, max_chars: int) -> list[str]:
    """The example of each cell: the shortest message with at least ``min_chars`` characters, else the longest;
    among messages of that length the first document (documents in :func:`_canonical_rows` order: the earliest,
    then the first in text order)."""
    from govml.privacy import mask_many

    if len(cg) == 0:  # no group-period kept (each has fewer than min_messages messages, or no term passes)
        return []
    want = _unique_int(cg.astype(np.int64) * T + ct)
    sel_term = np.zeros(T, dtype=bool)
    sel_term[ct] = True
    m = np.flatnonzero(sel_term[term])  # only pairs of a selected term can hit a selected cell
    d = doc[m]
    w = _lookup(want, gp_codes[d] * T + term[m])
    hit = w >= 0
    d, w = d[hit], w[hit]
    lengths = np.fromiter((len(t) if isinstance(t, str) else 0 for t in texts), dtype=np.int64, count=len(texts))
    L = lengths[d]
    # shortest with >= min_chars, else longest: score ascending; ties: the first document (the earliest)
    score = np.where(L >= min_chars, L, 10**9 - L)
    order = np.lexsort((d, score, w))
    w_sorted = w[order]
    firsts = np.r_[0, np.flatnonzero(np.diff(w_sorted)) + 1]
    best = np.zeros(len(want), dtype=np.int64)
    best[w_sorted[firsts]] = d[order][firsts]
    rows = best[_lookup(want, cg.astype(np.int64) * T + ct)]
    shown, at = np.unique(rows, return_inverse=True)  # a message is the example of several cells: masked once
    raws = [texts[di] if isinstance(texts[di], str) else "" for di in shown.tolist()]
    cut = [r[: max_chars + 200] for r in raws]
    masked: list[str] = []
    for start in range(0, len(cut), EXAMPLE_MASK_BATCH):  # mask_many: the same as mask per text, ~5× faster
        masked.extend(mask_many(cut[start:start + EXAMPLE_MASK_BATCH]))
    examples = []
    for raw, m in zip(raws, masked, strict=True):
        s = " ".join(m.split())
        if len(s) > max_chars or len(raw) > max_chars + 200:
            s = s[: max_chars - 1] + "…"
        examples.append(s)
    return [examples[i] for i in at.tolist()]


def _prev_share(C: sp.csr_matrix, n_docs_gp: np.ndarray, gp_group: np.ndarray, gp_period: np.ndarray,
                cg: np.ndarray, ct: np.ndarray, k: int) -> np.ndarray:
    """Mean share of the term in the same group over the k previous periods with messages."""
    n_periods = int(gp_period.max()) + 1
    n_groups = int(gp_group.max()) + 1
    gp_of = np.full((n_groups, n_periods), -1, dtype=np.int64)
    gp_of[gp_group, gp_period] = np.arange(len(gp_group))
    total = np.zeros(len(cg))
    seen = np.zeros(len(cg))
    for lag in range(1, k + 1):
        p = gp_period[cg] - lag
        okp = p >= 0
        prev_gp = np.full(len(cg), -1, dtype=np.int64)
        prev_gp[okp] = gp_of[gp_group[cg[okp]], p[okp]]
        has = prev_gp >= 0
        if has.any():
            counts = np.asarray(C[prev_gp[has], ct[has]]).ravel()
            total[has] += counts / n_docs_gp[prev_gp[has]]
            seen[has] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(seen > 0, total / np.maximum(seen, 1), 0.0)
