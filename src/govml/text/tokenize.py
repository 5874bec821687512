"""GovTokenizer: Chinese tokens for governance messages, picklable and clone-safe.

Pipeline for one text (identical on every backend and in every process):

1. ``None``/NA/non-strings and blank text give ``[]``.
2. Unicode NFKC (full-width letters/digits/punctuation → half-width), then — when
   ``fold_traditional`` — traditional characters folded to simplified with a character table from
   ``hanziconv`` (a handful of characters that are also ordinary simplified characters, e.g. 著 乾 於,
   are left alone).
3. Personal data masked with :func:`govml.privacy.mask` (phone, landline, ID card, bank card, e-mail,
   plate, door number, personal name). The placeholders (``<PHONE>`` …, the kinds of
   :data:`govml.privacy.PLACEHOLDERS`) are **dropped**: personal data never becomes
   a token, so it can never be counted as a demand.
4. Anonymised place codes (``A市``, ``A3区``, ``K8县``, ``B镇``: one capital letter, up to two digits,
   then 省/市/区/县/镇/乡) are cut out before segmentation. With ``keep_places=False`` (default) they
   are dropped; with ``keep_places=True`` each is emitted whole as a token (``"A3区"``) in its place.
   :func:`places` lists them for a text.
5. Segmentation with jieba's algorithm and jieba's default dictionary plus govml's governance
   dictionary (``resources/text/governance_dict.txt``, plus ``extra_words``). ``backend="rjieba"`` uses
   the Rust port (≈30× faster, identical output for the same dictionary and input — the benchmark
   checks every message), ``"jieba"`` the reference implementation, ``"auto"`` rjieba when installed.
   Whitespace runs become one space, and the ASCII characters ``. _ -`` become spaces (the two implementations treat them
   differently inside Latin/digit runs).
6. Each raw token is mapped once (memoised per process): lower-cased; dropped when shorter than
   ``min_len`` characters (single characters), punctuation/emoji/symbols only, a number, date,
   time, amount or quantity (``2019年``, ``3月``, ``5号``, ``200元``, ``3.5``), or a stop word (general
   Chinese + message-board filler: 您好, 请问, 希望, 领导, 反映, 谢谢, 麻烦, 尽快 …); otherwise folded
   onto its canonical synonym (停车位 → 车位, 电梯加装 → 加装电梯 …) and dropped when the canonical
   form is a stop word.

:meth:`GovTokenizer.tokenize_many` gives exactly ``[tok(t) for t in texts]`` (checked on every message
by ``benchmarks/bench_tokenizer.py``) but works on batches of texts joined by a separator character
that is a segmentation boundary: one translate, one segmenter call and one C-level token mapping per
batch; NFKC runs only on the texts that need it, and masking (:func:`govml.privacy.mask_joined`)
searches only the texts that pass :func:`govml.privacy.mask`'s cheap gate, all at once. Each term
of the result is one shared string object per process. With ``n_jobs`` > 1 the calling process and
``n_jobs - 1`` forked children take batches from a shared counter until none is left; the children
send their token lists back with ``marshal``.

The object stores only its constructor parameters (plain values). The segmenter and resources are
built lazily, once per process, in a module-level cache keyed by a hash of the dictionary contents,
so pickling, ``copy.deepcopy`` and ``sklearn.base.clone`` are cheap and safe, and the tokenizer can be
passed as ``tokenizer=`` to scikit-learn vectorizers inside pipelines and ``cross_val_predict``.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import logging
import marshal
import os
import pickle
import re
import sys
import threading
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from govml._compat import fill_missing_params
from govml.privacy import PLACEHOLDERS as PRIVACY_PLACEHOLDERS

log = logging.getLogger(__name__)

BACKENDS = ("auto", "rjieba", "jieba")
#: With ``mark_breaks=True`` this token stands where punctuation, whitespace, emoji, a number, a
#: place code or personal data was: multi-word phrases never run across it.
BREAK = "|"

#: Anonymised place codes as they appear in the real message boards (A市, A3区, K8县).
PLACE_PATTERN = r"(?<![A-Za-z0-9])[A-Z][0-9]{0,2}[省市区县镇乡]"
_PLACE_RE = re.compile(PLACE_PATTERN)
# The placeholders govml.privacy writes (<PHONE>, <NAME> …), from its own list, so a new kind is
# dropped here too.
_PLACEHOLDERS = PRIVACY_PLACEHOLDERS
_PLACEHOLDER_ALT = "|".join(re.escape(p) for p in _PLACEHOLDERS)
_PLACEHOLDER_RE = re.compile(_PLACEHOLDER_ALT)
_SPLIT_RE = re.compile(rf"{_PLACEHOLDER_ALT}|({PLACE_PATTERN})")

_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_WORDCHAR_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fffA-Za-z]")
_NUM = r"[0-9零〇一二三四五六七八九十百千万亿两几半.,:/%+]+"
_UNIT = (r"(?:年|月|日|号|时|点|分|秒|元|块|角|万|万元|亿|亿元|千|百|个|岁|周|天|次|楼|层|栋|幢|单元|户|间|套|"
         r"平|平米|平方|平方米|米|公里|千米|吨|度|斤|公斤|辆|人|名|位|家|条|份|期|届|路|号线|号楼|小时|分钟|"
         r"余|多|余元|多元|多万|余万|多年|余年|年度|月份|季度|倍|成|%|号院|排|组)?")
_NUMBER_RE = re.compile(rf"^(?:第?{_NUM}{_UNIT})+$")
# Batch encoding (:func:`GovTokenizer.tokenize_many`): messages joined by _MSG_SEP (a non-word,
# non-space character: a segmentation boundary in jieba and rjieba, its own one-character token) are
# segmented in one call; the output terms come back joined by _ITEM_SEP.
_MSG_SEP = "\x02"
_ITEM_SEP = "\x01"
_BREAK_RUN = re.compile(r"\|(?:\x01\|)+")
_SEP_SPACE = _MSG_SEP + " "
_SPACE_SEP = " " + _MSG_SEP
# PLACE_PATTERN written to start with a character class (the regex engine then skips ahead fast).
_PLACE_FAST_RE = re.compile(r"[A-Z](?<![A-Za-z0-9][A-Z])[0-9]{0,2}[省市区县镇乡]")
# Characters of hanziconv's traditional table that are also ordinary simplified characters.
_KEEP_CHARS = set("著乾於藉瞭餘夥")


def _resource_lines(name: str) -> list[str]:
    text = resources.files("govml").joinpath("resources", "text", name).read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def governance_dictionary() -> list[tuple[str, int, str]]:
    """The shipped governance dictionary: ``(word, freq, pos)`` triples."""
    out = []
    for ln in _resource_lines("governance_dict.txt"):
        parts = ln.split()
        word, freq = parts[0], int(parts[1])
        pos = parts[2] if len(parts) > 2 else "n"
        out.append((word, freq, pos))
    return out


def stop_words() -> frozenset[str]:
    """The shipped stop words (general Chinese + message-board filler)."""
    words: set[str] = set()
    for ln in _resource_lines("stopwords.txt"):
        words.update(ln.split())
    return frozenset(words)


def synonyms() -> dict[str, str]:
    """The shipped synonym map ``variant -> canonical``."""
    out = {}
    for ln in _resource_lines("synonyms.txt"):
        variant, canonical = ln.split()[:2]
        out[variant] = canonical
    return out


def places(text: Any) -> list[str]:
    """Anonymised place codes in ``text`` (after NFKC), in order, e.g. ``['A市', 'A3区']``."""
    if not isinstance(text, str) or not text:
        return []
    return _PLACE_RE.findall(unicodedata.normalize("NFKC", text))


def text_config_model() -> type:
    """The pydantic model of ``configs/text.yaml``: ``extra_words`` (word → frequency, or a list of
    words), ``stop_words`` (list), ``synonyms`` (variant → canonical), ``backend``, ``keep_places``,
    ``fold_traditional``. Unknown keys are refused."""
    from pydantic import BaseModel, ConfigDict, Field, field_validator

    class _TextConfig(BaseModel):
        model_config = ConfigDict(extra="forbid")
        extra_words: dict[str, int] | list[str] = Field(default_factory=dict)
        stop_words: list[str] = Field(default_factory=list)
        synonyms: dict[str, str] = Field(default_factory=dict)
        backend: str = "auto"
        keep_places: bool = False
        fold_traditional: bool = True

        @field_validator("extra_words")
        @classmethod
        def _freqs(cls, v: Any) -> Any:
            if isinstance(v, dict):
                bad = [w for w, f in v.items() if f < 1]
                if bad:
                    raise ValueError(f"frequencies must be positive integers (e.g. 2000), not for {bad}")
            return v

        @field_validator("backend")
        @classmethod
        def _backend(cls, v: str) -> str:
            if v not in BACKENDS:
                raise ValueError(f"one of {BACKENDS}")
            return v

    return _TextConfig


# ---------------------------------------------------------------------------------------------------
# per-process engines


@dataclass
class _Engine:
    cut: Any  # callable str -> list[str]
    backend: str
    stop: frozenset[str]
    syn: dict[str, str]
    min_len: int
    memo: dict[str, str]
    lock: threading.Lock
    batch_maps: dict[bool, _BatchMap] | None = None

    def batch_map(self, breaks: bool) -> _BatchMap:
        """The token → encoded output table of the batch path (see :func:`_tokenize_batch`)."""
        maps = self.batch_maps
        if maps is None:
            maps = self.batch_maps = {}
        m = maps.get(breaks)
        if m is None:
            m = maps[breaks] = _BatchMap(self, breaks)
        return m

    def remember(self, tok: str) -> str:
        m = self.map_token(tok)
        if len(self.memo) < _MEMO_LIMIT:
            self.memo[tok] = m
        return m

    def map_token(self, tok: str) -> str:
        """The token's output form: a term, "" (skipped: stop word, single character) or
        :data:`BREAK` (punctuation, whitespace, emoji, a number: phrases do not run across it)."""
        t = tok.strip().lower()
        if not _WORDCHAR_RE.search(t) or _NUMBER_RE.match(t):
            return BREAK
        if len(t) < self.min_len or t in self.stop:
            return ""
        t = self.syn.get(t, t)
        if t in self.stop:
            return ""
        return t


class _BatchMap(dict):
    """``raw token -> encoded output``, filled on first sight: a term, ``""`` (skipped) or
    :data:`BREAK` (``""`` too without ``mark_breaks``); the message separator maps to itself. Used
    as ``map(table.__getitem__, tokens)`` so known tokens cost one C-level lookup."""

    def __init__(self, engine: _Engine, breaks: bool) -> None:
        super().__init__({_MSG_SEP: _MSG_SEP})
        self._engine = engine
        self._breaks = breaks

    def __missing__(self, tok: str) -> str:
        m = self._engine.map_token(tok)
        if m == BREAK and not self._breaks:
            m = ""
        elif m and m != BREAK:
            if _ITEM_SEP in m or _MSG_SEP in m or BREAK in m:
                raise _Unencodable(m)
            # interned: token lists that come back from a worker process (marshal) then share these
            # string objects instead of holding new copies
            m = sys.intern(m)
        if len(self) < _MEMO_LIMIT:
            self[tok] = m
        return m


class _Unencodable(Exception):
    """A term holds a separator character of the batch encoding (only a configured synonym can)."""


_ENGINES: dict[str, _Engine] = {}
_ENGINES_LOCK = threading.Lock()
_TRAD_TABLE: dict[int, str] | None = None
_MEMO_LIMIT = 2_000_000


def _trad_table() -> dict[int, str]:
    global _TRAD_TABLE
    if _TRAD_TABLE is None:
        table: dict[int, str] = {}
        try:
            from hanziconv import charmap
        except ImportError:  # pragma: no cover - hanziconv is a dependency
            log.warning("hanziconv is not installed: traditional characters are not folded")
        else:
            simp = set(charmap.simplified_charmap)
            for t, s in zip(charmap.traditional_charmap, charmap.simplified_charmap, strict=True):
                if t != s and t not in simp and t not in _KEEP_CHARS:
                    table[ord(t)] = s
        _TRAD_TABLE = table
    return _TRAD_TABLE


_FOLD_TABLES: dict[bool, dict[int, str]] = {}


def _fold_table(traditional: bool) -> dict[int, str]:
    """Full-width ASCII forms and the ideographic space → their NFKC forms, plus (optionally)
    traditional → simplified characters, as one ``str.translate`` table."""
    table = _FOLD_TABLES.get(traditional)
    if table is None:
        table = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
        table[0x3000] = " "
        if traditional:
            table.update(_trad_table())
        _FOLD_TABLES[traditional] = table
    return table


_FOLD_RES: dict[bool, re.Pattern[str]] = {}


def _fast_fold(text: str, traditional: bool) -> tuple[str, bool]:
    """``text.translate(_fold_table(traditional))``, faster on long text: only the characters that
    occur are replaced (``str.translate`` looks every non-ASCII character up in a dict). Also says
    whether ``text`` holds whitespace other than U+0020 and U+3000 (the same scan finds it)."""
    table = _fold_table(traditional)
    pattern = _FOLD_RES.get(traditional)
    if pattern is None:
        pattern = _FOLD_RES[traditional] = re.compile(
            "[" + "".join(re.escape(chr(cp)) for cp in sorted(table)) + _OTHER_SPACE + "]")
    for ch in _FOLD_COMMON:  # most of the work: replaced first, so findall returns few characters
        if ch in text:
            text = text.replace(ch, table[ord(ch)])
    other_space = False
    for ch in set(pattern.findall(text)):
        rep = table.get(ord(ch))
        if rep is None:
            other_space = True
        else:
            text = text.replace(ch, rep)
    return text, other_space


# Whitespace characters of str.split() other than U+0020 and U+3000 (U+3000 is in the fold table),
# as the inside of a regex character class.
_OTHER_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f"
# A space that " ".join(t.split()) would drop: before another space, a separator or the end.
_SPACE_DROPPED = re.compile(" (?=[ " + _MSG_SEP + r"]|\Z)")


_FOLD_COMMON = "，！？：；（）\u3000"  # full-width punctuation of everyday Chinese text


def _resolve_backend(backend: str) -> str:
    if backend not in BACKENDS:
        from govml.errors import ConfigError

        raise ConfigError(f"GovTokenizer backend: expected one of {BACKENDS}, found {backend!r}")
    if backend == "auto":
        try:
            import rjieba  # noqa: F401
        except ImportError:
            log.info("rjieba is not installed: using jieba (slower, same output)")
            return "jieba"
        return "rjieba"
    return backend


def _make_cut(backend: str, words: Sequence[tuple[str, int, str]], hmm: bool) -> Any:
    if backend == "rjieba":
        import rjieba

        seg = rjieba.Jieba()
        for w, f, p in words:
            seg.add_word(w, f, p)

        def cut(text: str, _cut=seg.cut, _hmm=hmm) -> list[str]:
            return _cut(text, _hmm)

        return cut
    import jieba

    jieba.setLogLevel(logging.WARNING)
    seg = jieba.Tokenizer()
    seg.initialize()
    for w, f, p in words:
        seg.add_word(w, f, p)

    def cut_j(text: str, _seg=seg, _hmm=hmm) -> list[str]:
        return _seg.lcut(text, HMM=_hmm)

    return cut_j


# ---------------------------------------------------------------------------------------------------


class GovTokenizer:
    """Callable tokenizer: ``GovTokenizer()(text) -> list[str]``.

    Parameters (all stored as given; nothing is loaded until first use)
    ----------
    backend : "auto" | "rjieba" | "jieba"
        Segmenter implementation (same output; jieba is the reference and the fallback).
    hmm : bool
        jieba's HMM for unknown words (on in both backends by default).
    keep_places : bool
        Emit anonymised place codes (A市, A3区) as whole tokens instead of dropping them.
    min_len : int
        Shortest token kept, in characters (2 drops single characters).
    fold_traditional : bool
        Fold traditional characters to simplified before segmentation.
    mask_pii : bool
        Mask personal data first (keep True unless the text is already masked).
    extra_words : mapping word -> freq, or iterable of words (freq 2000)
        Added to the governance dictionary (e.g. from ``configs/text.yaml``).
    extra_stop_words : iterable of str
    extra_synonyms : mapping variant -> canonical
    use_stop_words : bool
        Drop stop words (False keeps them, e.g. for bigram context).
    mark_breaks : bool
        Put :data:`BREAK` (``"|"``) where punctuation, whitespace, emoji, numbers, place codes or
        personal data were (one per run, never first or last), so that phrase counting
        (:func:`govml.text.demands.top_demands`) does not join words across sentences. Stop words
        and single characters are skipped without a break.
    """

    def __init__(
        self,
        backend: str = "auto",
        hmm: bool = True,
        keep_places: bool = False,
        min_len: int = 2,
        fold_traditional: bool = True,
        mask_pii: bool = True,
        extra_words: Mapping[str, int] | Iterable[str] | None = None,
        extra_stop_words: Iterable[str] | None = None,
        extra_synonyms: Mapping[str, str] | None = None,
        use_stop_words: bool = True,
        mark_breaks: bool = False,
    ) -> None:
        self.backend = backend
        self.hmm = hmm
        self.keep_places = keep_places
        self.min_len = min_len
        self.fold_traditional = fold_traditional
        self.mask_pii = mask_pii
        self.extra_words = extra_words
        self.extra_stop_words = extra_stop_words
        self.extra_synonyms = extra_synonyms
        self.use_stop_words = use_stop_words
        self.mark_breaks = mark_breaks

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | Any | None, **overrides: Any) -> GovTokenizer:
        """A tokenizer from a parsed ``configs/text.yaml`` (a mapping or the pydantic model)."""
        if config is None:
            return cls(**overrides)
        cfg = dict(config.model_dump() if hasattr(config, "model_dump") else config)
        words = cfg.get("extra_words") or None
        params: dict[str, Any] = {
            "extra_words": dict(words) if isinstance(words, Mapping) else (list(words) if words else None),
            "extra_stop_words": list(cfg.get("stop_words") or []) or None,
            "extra_synonyms": dict(cfg.get("synonyms") or {}) or None,
        }
        for k in ("backend", "keep_places", "fold_traditional"):
            if k in cfg:
                params[k] = cfg[k]
        params.update(overrides)
        return cls(**params)

    # -- scikit-learn style parameter access (so clone/get_params work) ---------------------------
    _PARAMS = ("backend", "hmm", "keep_places", "min_len", "fold_traditional", "mask_pii",
               "extra_words", "extra_stop_words", "extra_synonyms", "use_stop_words", "mark_breaks")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._PARAMS}

    def set_params(self, **params: Any) -> GovTokenizer:
        for k, v in params.items():
            if k not in self._PARAMS:
                raise ValueError(f"GovTokenizer has no parameter {k!r}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        default = GovTokenizer()
        changed = [f"{k}={getattr(self, k)!r}" for k in self._PARAMS
                   if getattr(self, k) != getattr(default, k)]
        return f"GovTokenizer({', '.join(changed)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GovTokenizer) and self.get_params() == other.get_params()

    def __hash__(self) -> int:
        return hash(self.engine_key())

    # -- resources ---------------------------------------------------------------------------------
    def _words(self) -> list[tuple[str, int, str]]:
        words = governance_dictionary()
        base_freq = {w: f for w, f, _ in words}
        extra = self.extra_words
        if extra:
            items = extra.items() if isinstance(extra, Mapping) else ((w, 2000) for w in extra)
            for w, f in items:
                words.append((str(w), int(f), "n"))
                base_freq[str(w)] = int(f)
        # synonym variants must segment whole: give them the canonical term's frequency
        known = set(base_freq)
        for variant, canonical in self._synonyms().items():
            if variant not in known and _CJK_RE.search(variant):
                words.append((variant, base_freq.get(canonical, 2000), "n"))
                known.add(variant)
        return words

    def _synonyms(self) -> dict[str, str]:
        syn = synonyms()
        if self.extra_synonyms:
            syn.update({str(k): str(v) for k, v in dict(self.extra_synonyms).items()})
        return syn

    def _stop(self) -> frozenset[str]:
        if not self.use_stop_words:
            return frozenset()
        stop = set(stop_words())
        if self.extra_stop_words:
            stop.update(str(w) for w in self.extra_stop_words)
        return frozenset(stop)

    def engine_key(self) -> str:
        """Hash of everything the engine depends on (dictionary contents, stop words, synonyms…)."""
        payload = json.dumps(
            [_resolve_backend(self.backend), bool(self.hmm), int(self.min_len), self._words(),
             sorted(self._stop()), sorted(self._synonyms().items())],
            ensure_ascii=False,
        )
        return hashlib.sha1(payload.encode("utf-8")).hexdigest()

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._PARAMS:
            self.__dict__.pop("_engine_cache", None)
        object.__setattr__(self, name, value)

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._PARAMS}  # plain parameters only

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in fill_missing_params(type(self), state).items():  # parameters added since it was saved
            object.__setattr__(self, k, v)

    def _engine(self) -> _Engine:
        eng = self.__dict__.get("_engine_cache")
        if eng is None:
            eng = self._lookup_engine()
            object.__setattr__(self, "_engine_cache", eng)
        return eng

    def _lookup_engine(self) -> _Engine:
        # key: the instance's plain-value signature, then the hash of the resources it resolves to
        sig = self._signature()
        eng = _ENGINES.get(sig)
        if eng is not None:
            return eng
        with _ENGINES_LOCK:
            eng = _ENGINES.get(sig)
            if eng is None:
                key = self.engine_key()
                eng = _ENGINES.get(key)
                if eng is None:
                    backend = _resolve_backend(self.backend)
                    eng = _Engine(cut=_make_cut(backend, self._words(), bool(self.hmm)), backend=backend,
                                  stop=self._stop(), syn=self._synonyms(), min_len=int(self.min_len),
                                  memo={}, lock=threading.Lock())
                    _ENGINES[key] = eng
                _ENGINES[sig] = eng
        return eng

    def _signature(self) -> str:
        return "sig:" + repr(sorted((k, _freeze(v)) for k, v in self.get_params().items()))

    @property
    def resolved_backend(self) -> str:
        return _resolve_backend(self.backend)

    # -- tokenizing --------------------------------------------------------------------------------
    def prepare(self, text: Any) -> str:
        """The text as handed to the segmenter (NFKC, folded, masked; places kept as found)."""
        if not isinstance(text, str):
            return ""
        # one translate pass does what NFKC does to full-width forms (and folds traditional
        # characters); full NFKC runs only when other compatibility characters remain (①, ㎡, ﹝…)
        table = _fold_table(self.fold_traditional)
        t = text.translate(table)
        if not unicodedata.is_normalized("NFKC", t):
            t = unicodedata.normalize("NFKC", t).translate(table)
        t = " ".join(t.split())  # whitespace runs -> one space
        if self.mask_pii:
            from govml.privacy import mask

            t = mask(t)
        return t

    def segment(self, text: Any) -> list[str]:
        """Raw segmenter tokens of the prepared text (before stop words/synonyms), places removed."""
        t = self.prepare(text)
        cut = self._engine().cut
        out: list[str] = []
        for piece in _split_pieces(t):
            if type(piece) is _Place:
                continue
            out.extend(cut(_ascii_split(piece)))
        return out

    def __call__(self, text: Any) -> list[str]:
        if not isinstance(text, str) or not text or text.isspace():
            return []
        eng = self._engine()
        t = self.prepare(text)
        memo = eng.memo
        cut = eng.cut
        out: list[str] = []
        append = out.append
        breaks = self.mark_breaks
        if not breaks:  # fast path: one list comprehension per piece
            get = memo.get
            for piece in _split_pieces(t):
                if type(piece) is _Place:
                    if self.keep_places:
                        append(str(piece))
                    continue
                toks = cut(_ascii_split(piece))
                ms = [get(tok) for tok in toks]
                if None in ms:
                    ms = [eng.remember(tok) if m is None else m for tok, m in zip(toks, ms, strict=True)]
                out.extend([m for m in ms if m and m != BREAK])
            return out
        for piece in _split_pieces(t):
            if type(piece) is _Place:
                if self.keep_places:
                    append(str(piece))
                elif breaks and out and out[-1] != BREAK:
                    append(BREAK)
                continue
            if breaks and out and out[-1] != BREAK:
                append(BREAK)  # a placeholder or place code was here
            for tok in cut(_ascii_split(piece)):
                m = memo.get(tok)
                if m is None:
                    m = eng.map_token(tok)
                    if len(memo) < _MEMO_LIMIT:
                        memo[tok] = m
                if m:
                    if m != BREAK:
                        append(m)
                    elif breaks and out and out[-1] != BREAK:
                        append(BREAK)
        if breaks and out and out[-1] == BREAK:
            out.pop()
        return out

    def tokenize_many(self, texts: Iterable[Any], n_jobs: int = 1, chunk_size: int | None = None,
                      progress: Any = None) -> list[list[str]]:
        """Tokens of every text, in order: the same as ``[self(t) for t in texts]``, much faster.

        Texts are tokenized in batches of ``chunk_size`` texts: one segmenter call per batch and
        C-level string operations instead of Python work per message and token (see
        :meth:`_encode_batch`). ``chunk_size=None`` (default) sizes batches to about 300,000
        characters, judged from the first 1,000 texts (100 to 20,000 texts a batch): on 200,000
        36-character messages 8,149 a batch take 8-11 % less CPU than 2,000; on 380-character
        messages 8,000 a batch take ~13 % more than 1,000-2,000, and 750 the same as 2,000 (measured
        on a busy machine, ``benchmarks/bench_tokenizer.py``). ``n_jobs`` processes (-1 = all
        cores): this one and ``n_jobs - 1`` forked
        children (the texts and the loaded dictionary are shared, not pickled) take batches until
        none is left; the output is identical to the single-process path (serial inside daemonic
        workers, which may not fork, and where fork does not exist a pool of spawned workers is
        used). ``progress`` is an optional callable ``progress(n_done_texts)``."""
        texts = _as_list(texts)
        self._engine()  # load once here: forked workers inherit it
        if self.mask_pii:
            from govml.privacy import _compile_gates

            _compile_gates()  # the masking patterns too (compiled on first use: ~0.17 s each process otherwise)
        size = _auto_chunk_size(texts) if chunk_size is None else max(1, int(chunk_size))
        # the result is hundreds of thousands of small lists (no cycles): without this the cyclic
        # garbage collector rescans the growing heap again and again (~20 % of the time)
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._tokenize_many(texts, _n_jobs(n_jobs), size, progress)
        finally:
            if gc_was_enabled:
                gc.enable()

    def _tokenize_many(self, texts: list[Any], n_jobs: int, chunk_size: int,
                       progress: Any) -> list[list[str]]:
        n = len(texts)
        n_batches = -(-n // min(chunk_size, _SMALL_BATCH))  # too few for forking to pay: serial
        import multiprocessing as mp

        if n_jobs <= 1 or n_batches < 4 or mp.current_process().daemon:  # (daemons may not fork)
            out: list[list[str]] = []
            for start in range(0, n, chunk_size):
                out.extend(_decode(self._encode_batch(texts[start:start + chunk_size])))
                if progress is not None:
                    progress(min(start + chunk_size, n))
            return out
        if "fork" not in mp.get_all_start_methods():  # pragma: no cover - platforms without fork
            return self._tokenize_spawned(texts, n_jobs, chunk_size, progress)
        return _forked(self, texts, min(n_jobs, n_batches), chunk_size, progress)

    def _tokenize_spawned(self, texts: list[Any], n_jobs: int, chunk_size: int,
                          progress: Any) -> list[list[str]]:  # pragma: no cover - no fork
        import multiprocessing as mp

        per_task = max(chunk_size, min(10_000, -(-len(texts) // (n_jobs * 8))))
        tasks = [(self, texts[i:i + per_task], chunk_size) for i in range(0, len(texts), per_task)]
        out: list[list[str]] = []
        with mp.get_context().Pool(min(n_jobs, len(tasks))) as pool:
            for encoded in pool.imap(_tokenize_task, tasks):
                for enc in encoded:
                    out.extend(_decode(enc))
                if progress is not None:
                    progress(len(out))
        return out

    def _encode_batch(self, texts: list[Any]) -> str | list[list[str]]:
        """The tokens of ``texts``: a list of token lists, or (with ``mark_breaks``) one string —
        terms joined by ``\\x01``, messages by ``\\x02`` — that :func:`_decode` splits.

        The same steps as :meth:`prepare` and :meth:`__call__`, on the whole batch at once, with
        the texts joined by a separator character that no step changes and that is a segmentation
        boundary: one translate (full-width forms, traditional characters) over the joined texts;
        NFKC only for the texts it changes; whitespace runs → one space; personal data masked by
        :func:`govml.privacy.mask_joined` (each text as :func:`govml.privacy.mask` masks it alone;
        one regex scan skips the texts without personal data) with a space where the placeholder
        would be; place codes → spaces (a boundary, like the piece split of ``__call__``); one
        segmenter call (each message is segmented exactly as alone); tokens mapped through a
        per-process table in C (``map``/``filter``), so each term is one shared string object; the
        flat result split into messages at the separators (``list.index``). Texts holding a
        separator character, ``keep_places`` and unencodable synonyms take the reference path."""
        try:
            joined = _MSG_SEP.join(texts)
        except TypeError:  # None, NaN, pd.NA …: no tokens, like an empty text
            joined = _MSG_SEP.join([t if isinstance(t, str) else "" for t in texts])
        if self.keep_places or _ITEM_SEP in joined or joined.count(_MSG_SEP) != len(texts) - 1:
            return [self(t) for t in texts]
        eng = self._engine()
        joined, other_space = _fast_fold(joined, bool(self.fold_traditional))
        if not unicodedata.is_normalized("NFKC", joined):  # (NFKC gives no whitespace but U+0020)
            table = _fold_table(bool(self.fold_traditional))
            joined = _MSG_SEP.join([
                p if unicodedata.is_normalized("NFKC", p) else unicodedata.normalize("NFKC", p).translate(table)
                for p in joined.split(_MSG_SEP)])
        # whitespace runs -> one space, none at the ends of a text (" ".join(t.split()) for each t);
        # nothing to do where the only whitespace is single spaces inside the texts
        if (other_space or joined[:1] == " " or _SPACE_DROPPED.search(joined) is not None
                or _SEP_SPACE in joined):
            joined = " ".join(joined.split())
            if _SEP_SPACE in joined:
                joined = joined.replace(_SEP_SPACE, _MSG_SEP)
            if _SPACE_SEP in joined:
                joined = joined.replace(_SPACE_SEP, _MSG_SEP)
        if self.mask_pii:
            from govml.privacy import mask_joined

            joined = mask_joined(joined, _MSG_SEP, replacement=" ")
        if "<" in joined:  # placeholders that were in the text (masking wrote spaces)
            for ph in _PLACEHOLDERS:
                joined = joined.replace(ph, " ")
        if _PLACE_FAST_RE.search(joined):
            joined = _PLACE_FAST_RE.sub(" ", joined)
        table_map = eng.batch_map(bool(self.mark_breaks))
        try:
            mapped = filter(None, map(table_map.__getitem__, eng.cut(_ascii_split(joined))))
            if self.mark_breaks:
                return _BREAK_RUN.sub(BREAK, _ITEM_SEP.join(mapped))
            return _split_list(list(mapped), _MSG_SEP)
        except _Unencodable:
            return [self(t) for t in texts]


_BATCH_CHARS = 300_000  # characters a batch of tokenize_many (chunk_size=None)
_SMALL_BATCH = 2000  # fewer than 4 batches of this many texts are tokenized in one process


def _auto_chunk_size(texts: list[Any]) -> int:
    """Texts per batch for about :data:`_BATCH_CHARS` characters, from the first 1,000 texts."""
    sample = texts[:1000]
    chars = sum(len(t) for t in sample if isinstance(t, str))
    per_text = max(1.0, chars / max(1, len(sample)))
    return int(min(20_000, max(100, _BATCH_CHARS / per_text)))


def _split_list(vals: list[str], sep: str) -> list[list[str]]:
    """``vals`` cut at the items equal to ``sep`` (dropped), like ``str.split`` on a list."""
    out: list[list[str]] = []
    append = out.append
    index = vals.index
    i = 0
    try:
        while True:
            j = index(sep, i)
            append(vals[i:j])
            i = j + 1
    except ValueError:
        append(vals[i:])
    return out


def _decode(enc: str | list[list[str]]) -> list[list[str]]:
    """Token lists from :meth:`GovTokenizer._encode_batch`'s result."""
    if not isinstance(enc, str):
        return enc
    strip = _ITEM_SEP + BREAK
    split = _ITEM_SEP
    return [q.split(split) if (q := p.strip(strip)) else [] for p in enc.split(_MSG_SEP)]


_SHARED: dict[int, tuple[Any, ...]] = {}
_SHARED_KEYS = itertools.count()


def _claim(counter: Any) -> int:
    """The next batch number (shared between the forked processes)."""
    with counter.get_lock():
        b = counter.value
        counter.value = b + 1
    return b


def _forked(tok: GovTokenizer, texts: list[Any], n_jobs: int, size: int, progress: Any) -> list[list[str]]:
    """``tokenize_many`` in ``n_jobs`` processes: this one and ``n_jobs - 1`` forked children (the
    texts and the loaded dictionary are shared, not pickled). All take batches of ``size`` texts
    from a shared counter until none is left, so a busy core slows the work down but does not hold
    it up. The children send each batch's token lists as soon as it is done (``marshal``: each
    distinct term once); a thread here receives them while this process works on its own batches.
    A batch a child did not deliver (it failed or was killed) is done here."""
    import multiprocessing as mp

    t0 = time.perf_counter()
    ctx = mp.get_context("fork")
    n = len(texts)
    bounds = _batch_bounds(n, size, n_jobs)
    n_batches = len(bounds)
    counter = ctx.Value("q", 0)
    done = ctx.Array("q", n_jobs, lock=False)  # texts finished by each process, for ``progress``
    key = next(_SHARED_KEYS)
    _SHARED[key] = (tok, texts, bounds, counter, done)
    children = []
    readers = []
    results: list[Any] = [None] * n_batches
    failed: list[int] = []
    mine = 0
    try:
        for w in range(1, n_jobs):
            recv, send = ctx.Pipe(duplex=False)
            _widen_pipe(send)
            proc = ctx.Process(target=_child, args=(key, w, send), daemon=True)
            proc.start()
            send.close()
            children.append((proc, recv))
        for _, recv in children:  # threads only after the last fork
            reader = threading.Thread(target=_collect, args=(recv, results, failed), daemon=True)
            reader.start()
            readers.append(reader)
        t1 = time.perf_counter()
        while (b := _claim(counter)) < n_batches:
            a, e = bounds[b]
            results[b] = _decode(tok._encode_batch(texts[a:e]))
            done[0] += e - a
            mine += 1
            if progress is not None:
                progress(sum(done))
        t2 = time.perf_counter()
        for reader in readers:
            reader.join()
        for proc, recv in children:
            recv.close()
            # it has sent everything and is exiting: reaped in the background, not waited for here
            threading.Thread(target=proc.join, daemon=True).start()
    finally:
        _SHARED.pop(key, None)
        if len(readers) < len(children) or any(r.is_alive() for r in readers):  # pragma: no cover
            for proc, _ in children:  # only after an error here
                if proc.is_alive():
                    proc.terminate()
                    proc.join()
        t3 = time.perf_counter()
    if failed:
        log.warning("%d tokenizer worker process(es) ended early: their batches are redone here", len(failed))
    for b, (a, e) in enumerate(bounds):
        if results[b] is None:
            results[b] = _decode(tok._encode_batch(texts[a:e]))
    log.debug("tokenize_many: %d processes started in %.3f s; %d of %d batches done here in %.3f s; "
              "the others in %.3f s more", n_jobs, t1 - t0, mine, n_batches, t2 - t1, t3 - t2)
    if progress is not None:
        progress(n)
    out = list(itertools.chain.from_iterable(results))
    log.debug("tokenize_many: %.3f s in all", time.perf_counter() - t0)
    return out


def _batch_bounds(n: int, size: int, n_jobs: int) -> list[tuple[int, int]]:
    """``(start, end)`` of the batches of :func:`_forked`: ``size`` texts each, but the last
    ``2 * n_jobs`` batches' worth are cut in quarters, so that the processes finish close together."""
    head = max(0, n - 2 * n_jobs * size)
    quarter = max(1, size // 4)
    return ([(a, min(a + size, head)) for a in range(0, head, size)]
            + [(a, min(a + quarter, n)) for a in range(head, n, quarter)])


def _widen_pipe(conn: Any) -> None:
    """A 1 MiB pipe buffer where the platform allows it, so that a child rarely waits for the
    reader thread (which needs the GIL between reads)."""
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):  # pragma: no cover - not Linux, or over a limit
        pass


def _collect(recv: Any, results: list[Any], failed: list[int]) -> None:
    """Reader thread of :func:`_forked`: one child's batches, until its empty end message."""
    try:
        while data := recv.recv_bytes():
            for b, enc in (marshal if data[:1] == b"m" else pickle).loads(memoryview(data)[1:]):
                results[b] = _decode(enc)
    except (EOFError, OSError):
        failed.append(1)


_SEND_EVERY = 4  # batches per message from a child: each distinct term is serialised once per message


def _child(key: int, w: int, conn: Any) -> None:
    """A forked worker of :func:`_forked`: batches from the shared counter, sent a few at a time."""
    tok, texts, bounds, counter, done = _SHARED[key]
    pending: list[tuple[int, Any]] = []
    while True:
        b = _claim(counter)
        if b < len(bounds):
            a, e = bounds[b]
            pending.append((b, tok._encode_batch(texts[a:e])))
            done[w] += e - a
        if pending and (len(pending) >= _SEND_EVERY or b >= len(bounds)):
            try:
                data = b"m" + marshal.dumps(pending)
            except ValueError:  # pragma: no cover - a str subclass in a token list
                data = b"p" + pickle.dumps(pending, protocol=pickle.HIGHEST_PROTOCOL)
            conn.send_bytes(data)
            pending = []
        if b >= len(bounds):
            break
    conn.send_bytes(b"")
    conn.close()


def _tokenize_task(task: tuple[Any, ...]) -> list[str | list[list[str]]]:  # pragma: no cover - no fork
    """One task of the spawned workers: a slice of the texts, encoded batch by batch."""
    tok, texts, size = task
    return [tok._encode_batch(texts[i:i + size]) for i in range(0, len(texts), size)]


def _ascii_split(piece: str) -> str:
    return piece.replace(".", " ").replace("_", " ").replace("-", " ")


class _Place(str):
    """A place code piece of :func:`_split_pieces`."""


def _split_pieces(t: str) -> list[str]:
    """Split prepared text at placeholders and place codes. Place codes come back as :class:`_Place`;
    placeholders vanish; empty pieces are skipped."""
    if "<" not in t and not _PLACE_RE.search(t):
        return [t] if t else []
    out = []
    pos = 0
    for m in _SPLIT_RE.finditer(t):
        if m.start() > pos:
            out.append(t[pos:m.start()])
        if m.group(1):
            out.append(_Place(m.group(1)))
        pos = m.end()
    if pos < len(t):
        out.append(t[pos:])
    return out


def _freeze(v: Any) -> Any:
    if isinstance(v, Mapping):
        return tuple(sorted((str(k), _freeze(x)) for k, x in v.items()))
    if isinstance(v, (list, tuple, set, frozenset)):
        items = [_freeze(x) for x in v]
        return tuple(sorted(items, key=repr)) if isinstance(v, (set, frozenset)) else tuple(items)
    return v


def _as_list(texts: Iterable[Any]) -> list[Any]:
    if hasattr(texts, "to_numpy"):
        return list(texts.to_numpy(dtype=object))  # pandas (Arrow strings, NA) → python objects
    return list(texts)


def _n_jobs(n_jobs: int | None) -> int:
    cpus = os.cpu_count() or 1
    if n_jobs is None or n_jobs == 0:
        return 1
    if n_jobs < 0:
        return max(1, cpus + 1 + n_jobs)
    return n_jobs
