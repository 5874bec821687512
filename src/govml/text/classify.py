"""DemandClassifier: message category with calibrated confidence, for a few hundred labels.

Model (defaults chosen on hand-labelled real message-board data; see docs/benchmarks.md):

* features — the union of
  - word 1–2-gram TF-IDF over :class:`~govml.text.tokenize.GovTokenizer` tokens (governance terms whole,
    stop words, numbers, places and personal data gone), sublinear tf;
  - character 1–4-gram TF-IDF over the prepared text (NFKC, traditional folded, personal data masked,
    place codes such as ``A3区`` removed), sublinear tf;
  - one feature per topic of a governance topic lexicon (``resources/text/topic_lexicon.txt``: 25
    public-service topics — property management, housing market, public transport, schools, medical
    care, social insurance, wages, pollution, noise, commerce, market regulation, tourism … — each a list
    of terms): log(1 + hits), L2-normalised (:class:`TopicLexiconFeatures`). The topics are finer than
    any label set; a few hundred labels are enough to map them onto the user's own categories;
  - when the texts have a title (a multi-line text's first line: ``govml demands train`` joins its
    ``--text-col`` columns with newlines, so ``--text-col 留言主题 --text-col 留言详情`` makes 留言主题 the title),
    the title read on its own: character 1–3-gram TF-IDF (``title_weight`` 0.5) and the topic-lexicon
    counts of the title alone (``title_lexicon_weight`` 0.5) — titles are short and topical, and in the
    whole-text blocks they are drowned by the details;
  each L2-normalised; ``word_weight`` scales the word block against the character block,
  ``lexicon_weight`` the topic block (``None`` or 0 drops it).
* classifier — a linear SVM (``LinearSVC``, ``class_weight="balanced"``) fitted on all training messages,
  whose scores are calibrated into probabilities by ``CalibratedClassifierCV(ensemble=False)`` (sigmoid
  fitted on the decision values of an internal stratified CV with up to 3 folds); its weights are
  rounded to float32 values at fit time, so they are saved as float32 losslessly. ``model="lr"`` uses
  a balanced multinomial logistic regression instead (already probabilistic, calibrated the same way).
* decision rule — the predicted category is the argmax of those probabilities (``decision_rule="proba"``).
  Session 21 screened rules meant for macro-F1 (the calibrated argmax under-predicts the rarest categories:
  商贸旅游 5 predicted for 21 true at 200 reply labels): the argmax of the SVM scores, the probabilities divided by
  the class shares to a power, per-class log-probability offsets tuned for macro-F1 on the calibration's
  out-of-fold scores (no extra fit), a balanced logistic regression on those scores; none gained +0.010 on three
  of the four benchmark cells (:class:`DemandClassifier`, docs/benchmarks.md). ``"prior"``, ``"offsets"`` and
  ``"decision"`` are options; the probabilities, and so the confidence, are the same under every rule.
* unlabelled messages (``fit(X, y, unlabeled=...)``) — the TF-IDF vocabulary and IDF weights are learned on
  labelled + unlabelled text; with ``em_nb=w`` (what ``govml demands train --unlabeled`` uses, w = 0.3) the
  calibrated SVM's probabilities are mixed with weight w with those of a multinomial naive Bayes fitted by EM on
  the labelled and unlabelled messages (:class:`SemiSupervisedNB`, Nigam et al. 2000) over the word, topic and
  title-topic blocks (issue 3, sixth study: the first use of unlabelled text that gained on both label sets of
  real messages; docs/benchmarks.md). Two other semi-supervised methods are options, off by
  default because neither gave a gain beyond the draw-to-draw noise on both label sets of real messages
  (issue 3, fifth study): self-training (``self_training=<threshold>``, with per-class caps
  ``self_training_balance``, ``self_training_rounds``, ``self_training_weight`` and an agreement view
  ``self_training_agree``) and the topic lexicon grown from the unlabelled text by co-occurrence
  (``lexicon_expand``). Both help on generated data built for them (tests/text/test_text_classify_unlabeled.py).
  The saved model holds no unlabelled message: only terms (vocabulary, grown lexicon) and weights (the naive
  Bayes: one float32 log-probability per class and feature of its blocks).

Bad input is handled, never silently dropped: missing labels and labels seen fewer than
``min_class_count`` times are excluded with a warning naming the label and the rows; empty or
whitespace-only texts are excluded from training with a count; at prediction they get no category
and confidence 0 (:meth:`DemandClassifier.predict_frame`).

:func:`cross_validate_classifier` gives stratified k-fold metrics (macro-F1 per fold, mean ± sd,
pooled per-class precision/recall/F1/support, accuracy, confusion matrix); unlabelled text joins each
fold's training only. Its folds analyse each text once (:func:`shared_analysis`: every block's n-gram counts
are kept per text and each fold's TF-IDF is rebuilt from them exactly as scikit-learn builds it, so models
and probabilities are bit for bit those of separate fits); ``govml demands train`` runs the final fit inside
the same :func:`shared_analysis` block: on 4,489 labelled messages of 附件3 + 附件4 (title + details, 5 folds
+ final fit) it went from 148 s wall / 149 CPU s to 70 s / 71 CPU s (load ~1), peak RSS unchanged (1.6 GB);
most of what is left is the 24 linear-SVM fits (5 folds × (3 calibration folds + 1) + 4 for the final model).
Session 10 (same model, file and predictions): the peak came from saving — MLflow serialised the model again and
loaded it back twice (its trial load, its input-example check: one more copy of the model, +0.43 GB), and the
weight packing's checks copied the weight matrix (``skops.dump`` +0.48 GB); now MLflow's file is a copy of
model.skops (``tracking.log_sklearn_model(saved_file=...)``), the checks go a chunk at a time (+0.07 GB), the
analyses are dropped before the final SVM (:meth:`_AnalysisCache.last_fit`), the term dict is freed at once and
the feature matrix is not copied: peak RSS 1.63 → 1.32 GB (``/usr/bin/time -v``, docs/benchmarks.md).
Session 13 (many categories; same model, file contents and predictions): with 15 categories (5,361 messages, 2.7
million features) the linear SVMs are ~80 % of ``govml demands train`` — liblinear fits one binary problem per
category over all messages, one after another (~2.6 CPU s each here), and each of the 6 models fits 4 SVMs
(3 calibration folds + all messages), so the time grows with the number of categories. The SVMs' results depend
on the order of those fits (liblinear's one random stream runs through the categories), so they are not split
by category; ``n_jobs`` (``govml demands train --n-jobs``) fits the 4 SVMs of a calibration side by side in
forked processes instead, bit for bit the serial model (:func:`_fit_calibrated_forked`). The save packed the
model's state twice (``skops.io.dump`` calls ``__reduce__`` and then ``__getstate__``); inside
:func:`reuse_state` it is packed once (15 categories: 15.9 → 8.8 CPU s).
Session 14: ``column_order="df"`` (off by default) has the linear-model fits read the columns ordered by document
frequency, the weights put back in the features' order: 8–16 % less CPU per calibrated fit with 15 categories, the
same predictions on every benchmark draw (not bit for bit: float64 sums in another order).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import logging
import zlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone

from govml._compat import FillsMissingParams
from govml.errors import ModelError
from govml.text.tokenize import GovTokenizer

log = logging.getLogger(__name__)

__all__ = ["DemandClassifier", "LabelIssue", "SemiSupervisedNB", "TopicLexiconFeatures", "as_texts", "check_labels",
           "cross_validate_classifier", "load_topic_lexicon", "parse_topic_lexicon", "reuse_state", "shared_analysis"]


def as_texts(X: Any) -> list[str]:
    """Texts as a list of Python strings ('' for missing): accepts lists, arrays, pandas Series
    (Arrow-backed too) and one-column DataFrames (several columns are joined with '。')."""
    if isinstance(X, pd.DataFrame):
        cols = [X[c].astype("string").fillna("") for c in X.columns]
        joined = cols[0]
        for c in cols[1:]:
            joined = joined.str.cat(c, sep="。")
        X = joined
    if hasattr(X, "to_numpy"):
        X = X.to_numpy(dtype=object)
    return [x if isinstance(x, str) else "" for x in X]


@dataclass(frozen=True)
class LabelIssue:
    """A label that cannot be learned: ``label`` and the 0-based positions of its rows."""

    label: str
    positions: tuple[int, ...]
    reason: str


def check_labels(y: Sequence[Any], min_class_count: int = 2) -> tuple[np.ndarray, list[LabelIssue]]:
    """Which rows can be used for training (boolean mask) and the issues found: missing labels and
    labels seen fewer than ``min_class_count`` times (e.g. a typo seen once)."""
    labels = [None if (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA
                       or (isinstance(v, str) and not v.strip())) else str(v).strip() for v in y]
    keep = np.array([v is not None for v in labels], dtype=bool)
    issues: list[LabelIssue] = []
    missing = tuple(int(i) for i in np.flatnonzero(~keep))
    if missing:
        issues.append(LabelIssue("", missing, "missing label"))
    counts = Counter(v for v in labels if v is not None)
    for lab, n in sorted(counts.items()):
        if n < min_class_count:
            pos = tuple(i for i, v in enumerate(labels) if v == lab)
            keep[list(pos)] = False
            issues.append(LabelIssue(lab, pos, f"label seen {n} time(s) (fewer than {min_class_count}): "
                                                "a typo? excluded from training"))
    return keep, issues


class _PrepareText:
    """Picklable preprocessor for the character block: prepared text without place codes, lower-cased."""

    def __init__(self, tokenizer: GovTokenizer) -> None:
        self.tokenizer = tokenizer

    def __call__(self, text: Any) -> str:
        from govml.text.tokenize import _PLACE_RE, _PLACEHOLDER_RE

        t = self.tokenizer.prepare(text)
        return _PLACEHOLDER_RE.sub(" ", _PLACE_RE.sub(" ", t)).lower()


class _TitleText:
    """Picklable preprocessor for the title blocks: the first line of a multi-line text (the title when
    ``govml demands train`` joins several ``--text-col`` columns with newlines), prepared as the character
    block's text; '' for a single-line text."""

    def __init__(self, tokenizer: GovTokenizer) -> None:
        self.tokenizer = tokenizer

    def __call__(self, text: Any) -> str:
        head, sep, _ = (text if isinstance(text, str) else "").partition("\n")
        return _PrepareText(self.tokenizer)(head) if sep and head.strip() else ""


def _has_title(texts: Sequence[str]) -> bool:
    """Whether any text is multi-line with a non-empty first line (so the title blocks have something to read)."""
    return any(head.strip() and sep for head, sep, _ in (t.partition("\n") for t in texts))


def load_topic_lexicon(name: str = "topic_lexicon.txt") -> dict[str, list[str]]:
    """The packaged topic lexicon (``resources/text/<name>``): ``{topic: [term, ...]}``, in file order."""
    from importlib import resources

    text = resources.files("govml").joinpath("resources", "text", name).read_text(encoding="utf-8")
    return parse_topic_lexicon(text, f"resources/text/{name}")


def parse_topic_lexicon(text: str, source: str = "lexicon") -> dict[str, list[str]]:
    """``{topic: [term, ...]}`` from lexicon text: one topic a line, ``topic: term term ...``; ``#`` starts
    a comment line; a topic named on several lines collects all their terms."""
    lexicon: dict[str, list[str]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        topic, sep, terms = line.partition(":")
        if not sep or not topic.strip() or not terms.split():
            raise ModelError(f"{source} line {n}: expected 'topic: term term ...', found {line!r}")
        lexicon.setdefault(topic.strip(), []).extend(terms.split())
    return lexicon


class TopicLexiconFeatures(FillsMissingParams, TransformerMixin, BaseEstimator):
    """One feature per topic of a lexicon: how often the topic's terms occur in the text.

    Each term is counted wherever it occurs as a substring of the prepared text (lower-cased, personal
    data masked, as the character block sees it); a topic's count is the sum over its terms, turned into
    ``log(1 + count)`` and each row L2-normalised (rows with no hit stay zero). The features are few
    (one per topic) and shared by every message that uses any of a topic's words, so a classifier trained
    on a few hundred labels can tie words it has never seen labelled to a category through their topic.

    Parameters: ``lexicon`` — ``{topic: [term, ...]}``; ``None`` = the packaged
    ``resources/text/topic_lexicon.txt`` (:func:`load_topic_lexicon`). ``tokenizer`` — the
    :class:`GovTokenizer` whose ``prepare`` normalises the text (default ``GovTokenizer()``).
    ``title_only`` — count only in the first line of a multi-line text (the title; :class:`_TitleText`).
    """

    _old_param_values = {"title_only": False}  # a model saved before the parameter existed
    # learned attributes (govml._compat): all three since the class existed; a file without one cannot transform
    _required_learned = ("topics_", "term_topic_", "counter_")

    def __init__(self, lexicon: dict[str, Sequence[str]] | None = None, tokenizer: GovTokenizer | None = None,
                 title_only: bool = False) -> None:
        self.lexicon = lexicon
        self.tokenizer = tokenizer
        self.title_only = title_only

    def fit(self, X: Any, y: Any = None) -> TopicLexiconFeatures:
        from sklearn.feature_extraction.text import CountVectorizer

        lexicon = load_topic_lexicon() if self.lexicon is None else self.lexicon
        tok = self.tokenizer if self.tokenizer is not None else GovTokenizer()
        prep = _PrepareText(tok)
        terms = sorted({prep(t).strip() for ts in lexicon.values() for t in ts} - {""})
        if not terms:
            raise ModelError("TopicLexiconFeatures: the lexicon has no terms")
        self.topics_ = np.array(list(lexicon), dtype=object)
        index = {t: i for i, t in enumerate(terms)}
        tt = np.zeros((len(terms), len(self.topics_)), dtype=np.float64)
        for j, ts in enumerate(lexicon.values()):
            for t in {prep(t).strip() for t in ts} - {""}:
                tt[index[t], j] = 1.0
        self.term_topic_ = tt
        lengths = [len(t) for t in terms]
        self.counter_ = CountVectorizer(analyzer="char", preprocessor=_TitleText(tok) if self.title_only else prep,
                                        vocabulary=terms,
                                        ngram_range=(min(lengths), max(lengths))).fit([""])
        return self

    def transform(self, X: Any) -> Any:
        import scipy.sparse as sp
        from sklearn.preprocessing import normalize

        counts = _vocabulary_counts(self.counter_, as_texts(X)) @ self.term_topic_
        return normalize(sp.csr_matrix(np.log1p(counts)))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array([f"topic:{t}" for t in self.topics_], dtype=object)

    def __getstate__(self) -> dict[str, Any]:
        """State with the term counter's ``vocabulary_`` packed (skops writes a dict item by item: ~0.9 kB a
        term) and its ``vocabulary`` parameter (the same terms as a list, ~0.4 kB a term in skops) left out
        when it lists exactly those terms in index order (rebuilt on loading); the term-topic matrix deflated.
        The live transformer is not touched."""
        state = super().__getstate__()
        counter = state.get("counter_")
        vocab = getattr(counter, "vocabulary_", None)
        arr = _pack_vocabulary(vocab)
        if arr is not None:
            counter = copy.copy(counter)
            del counter.vocabulary_
            state = dict(state, counter_=counter, _packed_vocabulary_=_zip_array(arr))
            terms = counter.vocabulary
            if isinstance(terms, list) and len(terms) == len(vocab) and all(vocab.get(t) == i for i, t in
                                                                            enumerate(terms)):
                counter.vocabulary = None
                state["_vocabulary_param_packed_"] = True
        tt = state.get("term_topic_")
        if isinstance(tt, np.ndarray):
            state = dict(state, term_topic_=_zip_array(tt))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        packed = state.pop("_packed_vocabulary_", None)
        if packed is not None:
            state["counter_"].vocabulary_ = _unpack_vocabulary(_unzip_array(packed))
        if state.pop("_vocabulary_param_packed_", False):
            state["counter_"].vocabulary = list(state["counter_"].vocabulary_)  # terms in index order
        if "term_topic_" in state:
            state["term_topic_"] = _unzip_array(state["term_topic_"])
        super().__setstate__(state)


# -- shared text analysis (issue 3: the cost of `govml demands train`) ----------------------------------------


class _TermCounts:
    """Every text's term counts for one TF-IDF block, analysed once: each text's row holds its terms' global ids
    (numbered as first met) in the order the analyzer first yields them, with their counts. From these rows
    :meth:`fit_counts` and :meth:`transform_counts` rebuild exactly what scikit-learn's ``CountVectorizer``
    gives for any subset of the texts (vocabulary numbered, and each row's entries stored, as it does), so the
    TF-IDF weights computed from them are bit for bit those of ``TfidfVectorizer``."""

    def __init__(self, analyze: Any, dtype: Any, expected: Sequence[str] = ()) -> None:
        self.analyze = analyze
        self.dtype = dtype
        self.expected = list(expected)  # texts to analyse with the first ones asked for (one vocabulary sort)
        self.terms: list[str] = []
        self._vocab: defaultdict[str, int] | None = None  # term -> global id; dropped between batches (memory)
        self.row_of: dict[str, int] = {}
        self.indptr = np.zeros(1, dtype=np.int64)
        self.indices = np.zeros(0, dtype=np.int32)  # global ids (int32: the memory of a few million entries)
        self.data = np.zeros(0, dtype=np.int32)
        self._alpha: np.ndarray | None = None  # each global id's rank in sorted term order
        self._maps: Any = None  # fitted vectorizer -> (its vocabulary_, global id -> its column)

    def rows(self, texts: Sequence[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys([*texts, *self.expected]) if t not in self.row_of]
        self.expected = []
        if new:
            from itertools import islice

            vocab = self.vocab()
            n_terms = len(vocab)
            ind: list[int] = []
            val: list[int] = []
            ptr = [0]
            for t in new:
                counter = Counter([vocab[f] for f in self.analyze(t)])  # keys in the order first met, as sklearn's
                ind.extend(counter)
                val.extend(counter.values())
                ptr.append(len(ind))
            self.terms.extend(islice(vocab, n_terms, None))
            n0 = len(self.row_of)
            for i, t in enumerate(new):
                self.row_of[t] = n0 + i
            self.indptr = np.concatenate([self.indptr, self.indptr[-1] + np.asarray(ptr[1:], dtype=np.int64)])
            self.indices = np.concatenate([self.indices, np.asarray(ind, dtype=np.int32)])
            self.data = np.concatenate([self.data, np.asarray(val, dtype=np.int32)])
            self._alpha = None
            self._drop_vocab()  # ~100 bytes a term: rebuilt from the terms when new texts or terms are looked up
        return np.fromiter((self.row_of[t] for t in texts), dtype=np.int64, count=len(texts))

    def _drop_vocab(self) -> None:
        """Forget the term -> id dict now: its ``default_factory`` (its own ``__len__``) makes it a reference cycle,
        which only the cyclic garbage collector would free — some time later, holding ~100 bytes a term (char
        n-grams of a few thousand messages: ~200 MB) into the fits that follow."""
        if self._vocab is not None:
            self._vocab.default_factory = None
            self._vocab = None

    def vocab(self) -> dict[str, int]:
        """Term -> global id; a term not in it yet gets the next id when looked up with ``[]``."""
        if self._vocab is None:
            self._vocab = defaultdict(None, zip(self.terms, range(len(self.terms)), strict=True))
            self._vocab.default_factory = self._vocab.__len__
        return self._vocab

    def _gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        starts, lengths = self.indptr[rows], np.diff(self.indptr)[rows]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        pos = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
        return indptr, self.indices[pos], self.data[pos]

    def _csr(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, n_cols: int) -> Any:
        import scipy.sparse as sp

        idx = np.int64 if indptr[-1] > np.iinfo(np.int32).max else np.int32
        return sp.csr_array((data, indices.astype(idx), indptr.astype(idx)), shape=(len(indptr) - 1, n_cols),
                            dtype=self.dtype)

    def alpha(self) -> np.ndarray:
        if self._alpha is None or len(self._alpha) != len(self.terms):
            order = np.array(sorted(range(len(self.terms)), key=self.terms.__getitem__), dtype=np.int64)
            self._alpha = np.empty(len(order), dtype=np.int32)
            self._alpha[order] = np.arange(len(order), dtype=np.int32)
        return self._alpha

    def fit_counts(self, vec: Any, texts: Sequence[str]) -> tuple[dict[str, int], Any]:
        """``(vocabulary_, X)`` as ``CountVectorizer.fit_transform`` (no ``max_features``) leaves them: terms
        numbered as first met in ``texts`` and each row sorted by that number (``sort_indices``), columns
        pruned by document frequency, then renumbered in sorted term order without re-sorting the rows."""
        from numbers import Integral

        indptr, g, data = self._gather(self.rows(texts))
        n_doc = len(indptr) - 1
        uniq, first = np.unique(g, return_index=True)
        met = np.empty(len(self.terms), dtype=np.int32)  # global id -> number as first met in these texts
        met[uniq[np.argsort(first, kind="stable")]] = np.arange(len(uniq), dtype=np.int32)
        del first
        local = met[g]
        del g
        # each row's entries ordered by that number (row-major key: rows stay in place)
        perm = np.argsort(np.repeat(np.arange(n_doc, dtype=np.int64) * len(uniq), np.diff(indptr)) + local,
                          kind="stable")
        local, data = local[perm], data[perm]
        del perm
        if vec.binary:
            data = np.ones_like(data)
        df = np.bincount(local, minlength=len(uniq))
        high = vec.max_df if isinstance(vec.max_df, Integral) else vec.max_df * n_doc
        low = vec.min_df if isinstance(vec.min_df, Integral) else vec.min_df * n_doc
        if high < low:
            raise ValueError("max_df corresponds to < documents than min_df")
        mask = (df <= high) & (df >= low)
        if not mask.any():
            raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
        by_met = uniq[np.argsort(met[uniq], kind="stable")]  # global ids in first-met order
        kept = by_met[mask]
        rank = np.empty(len(kept), dtype=np.int32)  # each kept term's number in sorted term order
        rank[np.argsort(self.alpha()[kept], kind="stable")] = np.arange(len(kept), dtype=np.int32)
        new = np.full(len(uniq), -1, dtype=np.int32)
        new[mask] = rank
        cols = new[local]
        del local
        keep = cols >= 0
        counts = np.diff(np.r_[0, np.cumsum(keep)][indptr])
        indptr = np.zeros(n_doc + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        vocabulary = dict(zip(np.array(self.terms, dtype=object)[kept].tolist(), rank.tolist(), strict=True))
        col = np.full(len(self.terms), -1, dtype=np.int32)  # global id -> column, for transform_counts
        col[kept] = rank
        self._remember(vec, vocabulary, col, True)
        return vocabulary, self._csr(data[keep], cols[keep], indptr, len(kept))

    def _remember(self, vec: Any, vocabulary: dict[str, int], col: np.ndarray, own: bool) -> None:
        """``vec``'s global id -> column map; ``own``: fitted here (all its terms were known then)."""
        import weakref

        if self._maps is None:
            self._maps = weakref.WeakKeyDictionary()
        self._maps[vec] = (vocabulary, col, own)

    def transform_counts(self, vec: Any, texts: Sequence[str]) -> Any:
        """``CountVectorizer.transform`` of a fitted ``vec``: counts of its vocabulary's terms, rows sorted."""
        rows = self.rows(texts)
        vocab = vec.vocabulary_
        entry = self._maps.get(vec) if self._maps is not None else None
        if entry is None or entry[0] is not vocab or (len(entry[1]) < len(self.terms) and not entry[2]):
            # a vectorizer fitted elsewhere (or before terms met since): look its terms up
            col = np.full(len(self.terms), -1, dtype=np.int32)
            get = self.vocab().get
            for term, j in vocab.items():
                i = get(term)
                if i is not None:
                    col[i] = j
            entry = (vocab, col, False)
            self._remember(vec, *entry)
        elif len(entry[1]) < len(self.terms):  # terms met since: none is in a vocabulary fitted here
            entry = (vocab, np.r_[entry[1], np.full(len(self.terms) - len(entry[1]), -1, dtype=np.int32)], True)
            self._remember(vec, *entry)
        indptr, g, data = self._gather(rows)
        cols = entry[1][g]
        keep = cols >= 0
        counts = np.diff(np.r_[0, np.cumsum(keep)][indptr])
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        X = self._csr(data[keep], cols[keep], indptr, len(vocab))
        X.sort_indices()
        if vec.binary:
            X.data.fill(1)
        return X


class _TopicRows:
    """A :class:`TopicLexiconFeatures` block's rows, computed once per text (they depend on the text alone)."""

    def __init__(self, expected: Sequence[str] = ()) -> None:
        self.expected = list(expected)
        self.row_of: dict[str, int] = {}
        self.matrix: Any = None

    def rows(self, transformer: Any, texts: Sequence[str]) -> Any:
        import scipy.sparse as sp

        new = [t for t in dict.fromkeys([*texts, *self.expected]) if t not in self.row_of]
        self.expected = []
        if new:
            n0 = len(self.row_of)
            for i, t in enumerate(new):
                self.row_of[t] = n0 + i
            block = transformer.transform(new)
            self.matrix = block if self.matrix is None else sp.vstack([self.matrix, block]).tocsr()
        idx = np.fromiter((self.row_of[t] for t in texts), dtype=np.int64, count=len(texts))
        return self.matrix[idx]


def _analysis_key(block: Any) -> tuple[Any, ...] | None:
    """What a block's analysis of a text depends on (equal keys: equal analyses); None: not shared."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    def part(obj: Any) -> Any:
        if obj is None or isinstance(obj, GovTokenizer):
            return obj
        if type(obj) in (_PrepareText, _TitleText):
            return (type(obj).__name__, obj.tokenizer if obj.tokenizer is not None else GovTokenizer())
        raise TypeError

    try:
        if type(block) is TfidfVectorizer:
            if (block.vocabulary is not None or block.max_features is not None or block.input != "content"
                    or not isinstance(block.analyzer, str)):
                return None
            stop = block.stop_words if block.stop_words is None or isinstance(block.stop_words, str) else tuple(
                sorted(block.stop_words))
            return ("tfidf", block.analyzer, tuple(block.ngram_range), block.lowercase, block.token_pattern, stop,
                    block.strip_accents, block.encoding, block.decode_error, part(block.preprocessor),
                    part(block.tokenizer), np.dtype(block.dtype).str)
        if type(block) is TopicLexiconFeatures:
            lex = None if block.lexicon is None else tuple((k, tuple(v)) for k, v in block.lexicon.items())
            return ("topic", bool(block.title_only), lex,
                    block.tokenizer if block.tokenizer is not None else GovTokenizer())
    except TypeError:
        return None
    return None


class _AnalysisCache:
    """Analyses of texts shared by the fits and predictions made inside :func:`shared_analysis`."""

    def __init__(self) -> None:
        self.blocks: dict[tuple[Any, ...], Any] = {}
        self.expected: list[str] = []
        self.release_after_features = False

    def last_fit(self) -> None:
        """The next :meth:`DemandClassifier.fit` is the last use of these analyses: it drops them once its features
        are built, before its classifier is fitted (``govml demands train``'s final fit after the folds: the
        per-text n-gram counts no longer take memory beside the SVM's). The model is the same."""
        self.release_after_features = True

    def release(self) -> None:
        """Drop every analysis kept (later fits and predictions in the block analyse their texts afresh)."""
        for found in self.blocks.values():
            if isinstance(found, _TermCounts):
                found._drop_vocab()
        self.blocks = {}
        self.expected = []
        self.release_after_features = False

    def expect(self, texts: Sequence[str]) -> None:
        """Texts that will be asked for: each block analyses them with its first texts (so the vocabulary is
        sorted once, not again after each batch of new texts)."""
        self.expected.extend(texts)

    def get(self, block: Any) -> Any:
        key = _analysis_key(block)
        if key is None:
            return None
        try:
            found = self.blocks.get(key)
        except TypeError:  # an unhashable part
            return None
        if found is None:
            if key[0] == "tfidf":
                block._validate_ngram_range()
                found = _TermCounts(block.build_analyzer(), block.dtype, self.expected)
            else:
                found = _TopicRows(self.expected)
            self.blocks[key] = found
        return found


_SHARED: contextvars.ContextVar[_AnalysisCache | None] = contextvars.ContextVar("govml_classify_shared", default=None)


@contextlib.contextmanager
def shared_analysis() -> Any:
    """Inside the block, :class:`DemandClassifier` fits and predictions (this thread's) analyse each text once:
    every feature block's n-gram counts of a text are computed the first time it is seen and reused by every
    later fit or prediction on it — the folds of :func:`cross_validate_classifier` and a final fit on the
    same messages (what ``govml demands train`` does). The models and predictions are bit for bit those
    made without it (scikit-learn's own vocabulary numbering, row order and TF-IDF code are reproduced; tests
    compare). Memory: the counts of the texts seen, kept until the block ends. Nested blocks share the outer
    one's analyses."""
    if _SHARED.get() is not None:
        yield _SHARED.get()
        return
    token = _SHARED.set(_AnalysisCache())
    try:
        yield _SHARED.get()
    finally:
        _SHARED.reset(token)


_STATE_MEMO: contextvars.ContextVar[dict[int, Any] | None] = contextvars.ContextVar("govml_classify_state",
                                                                                  default=None)


@contextlib.contextmanager
def reuse_state() -> Any:
    """Inside the block, :meth:`DemandClassifier.__getstate__` packs each model once and hands the same state to
    every later call: ``skops.io.dump`` asks for it twice (its ``__reduce__`` check, then ``__getstate__``),
    and packing the weights (their lossless checks, zlib) is most of the save — with 15 categories × 2.7
    million features ~20 CPU s a time. The saved file holds the same state. The model must not change inside
    the block (``govml demands train`` saves it there, after fitting)."""
    if _STATE_MEMO.get() is not None:
        yield
        return
    token = _STATE_MEMO.set({})
    try:
        yield
    finally:
        _STATE_MEMO.reset(token)


def _union_fit_transform(union: Any, texts: list[str]) -> Any:
    """``union.fit_transform(texts).tocsr()``, with the shared analyses when :func:`shared_analysis` is on."""
    from sklearn.pipeline import FeatureUnion

    cache = _SHARED.get()
    if cache is None or type(union) is not FeatureUnion:
        return union.fit_transform(texts).tocsr()
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.utils import _align_api_if_sparse

    union.transformer_list = list(union.transformer_list)
    union._validate_transformers()
    union._validate_transformer_weights()
    Xs = []
    for _, block, weight in union._iter():
        shared = cache.get(block)
        if isinstance(shared, _TermCounts):  # TfidfVectorizer.fit_transform
            block.build_analyzer()  # its checks (and the attributes they set), as fit makes them
            block._validate_params()
            block._check_params()
            block._warn_for_unused_params()
            block._validate_vocabulary()
            block._tfidf = TfidfTransformer(norm=block.norm, use_idf=block.use_idf, smooth_idf=block.smooth_idf,
                                            sublinear_tf=block.sublinear_tf)
            block.vocabulary_, X = shared.fit_counts(block, texts)
            X = _align_api_if_sparse(X)
            block._tfidf.fit(X)
            res = block._tfidf.transform(X, copy=False)
        elif isinstance(shared, _TopicRows):
            res = shared.rows(block.fit(texts), texts)
        else:
            res = block.fit_transform(texts)
        Xs.append(res if weight is None else res * weight)
    return union._hstack(Xs).tocsr()


def _vocabulary_counts(vec: Any, texts: Sequence[str]) -> Any:
    """``vec.transform(texts)`` of a fitted ``CountVectorizer`` (or the counts of a ``TfidfVectorizer``): the
    same matrix (each text's counts of the vocabulary's terms, rows sorted), counted per text with
    ``Counter`` and one look-up per distinct term instead of scikit-learn's per-occurrence loop."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    if (type(vec) not in (CountVectorizer, TfidfVectorizer) or not isinstance(vec.analyzer, str)
            or vec.input != "content" or not hasattr(vec, "vocabulary_")):
        return vec.transform(texts) if type(vec) is CountVectorizer else CountVectorizer.transform(vec, texts)
    import scipy.sparse as sp
    from sklearn.utils import _align_api_if_sparse

    if isinstance(texts, str):
        raise ValueError("Iterable over raw text documents expected, string object received.")
    vec._check_vocabulary()
    analyze, get = vec.build_analyzer(), vec.vocabulary_.get
    ind: list[int] = []
    val: list[int] = []
    ptr = [0]
    for t in texts:
        for term, n in Counter(analyze(t)).items():
            j = get(term)
            if j is not None:
                ind.append(j)
                val.append(n)
        ptr.append(len(ind))
    idx = np.int64 if len(ind) > np.iinfo(np.int32).max else np.int32
    X = sp.csr_array((np.asarray(val, dtype=np.intc), np.asarray(ind, dtype=idx), np.asarray(ptr, dtype=idx)),
                     shape=(len(ptr) - 1, len(vec.vocabulary_)), dtype=vec.dtype)
    X.sort_indices()
    if vec.binary:
        X.data.fill(1)
    return _align_api_if_sparse(X)


def _union_transform(union: Any, texts: list[str]) -> Any:
    """``union.transform(texts)``, with the shared analyses when :func:`shared_analysis` is on (else each
    TF-IDF block counted by :func:`_vocabulary_counts`)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion
    from sklearn.utils import _align_api_if_sparse
    from sklearn.utils.validation import check_is_fitted

    if type(union) is not FeatureUnion:
        return union.transform(texts)
    cache = _SHARED.get()
    Xs = []
    for _, block, weight in union._iter():
        shared = cache.get(block) if cache is not None else None
        if shared is None and type(block) is TfidfVectorizer:  # TfidfVectorizer.transform
            check_is_fitted(block, msg="The TF-IDF vectorizer is not fitted")
            res = block._tfidf.transform(_vocabulary_counts(block, texts), copy=False)
        elif isinstance(shared, _TermCounts):  # TfidfVectorizer.transform
            check_is_fitted(block, msg="The TF-IDF vectorizer is not fitted")
            block._check_vocabulary()
            res = block._tfidf.transform(_align_api_if_sparse(shared.transform_counts(block, texts)), copy=False)
        elif isinstance(shared, _TopicRows):
            res = shared.rows(block, texts)
        else:
            res = block.transform(texts)
        Xs.append(res if weight is None else res * weight)
    return union._hstack(Xs)


class _ProbaAverage:
    """Average of the probabilities of fitted classifiers, each reading its own column span of the features."""

    def __init__(self, members: list[Any], spans: list[tuple[int, int]]) -> None:
        self.members = members
        self.spans = spans
        self.classes_ = members[0].classes_

    def predict_proba(self, F: Any) -> np.ndarray:
        return np.mean([_proba(m, F[:, lo:hi]) for m, (lo, hi) in zip(self.members, self.spans, strict=True)],
                       axis=0)


def _float32_values(w: np.ndarray) -> np.ndarray:
    """``w.astype(np.float32).astype(np.float64)`` (same values, same memory layout), made a row at a time: no
    float32 copy of the whole matrix beside the two float64 ones (7 classes × 2.2 million features: 62 MB)."""
    out = np.empty_like(w, dtype=np.float64)
    if w.ndim != 2:
        out[...] = w.astype(np.float32)
        return out
    for i in range(w.shape[0]):
        out[i] = w[i].astype(np.float32)
    return out


def _linear_models(clf: Any) -> list[Any]:
    """The fitted linear models (those with a ``coef_``) inside a classifier: itself, the per-fold (or single)
    estimators of a ``CalibratedClassifierCV``, the members of a :class:`_ProbaAverage`."""
    if isinstance(clf, _ProbaAverage):
        return [m for member in clf.members for m in _linear_models(member)]
    if isinstance(clf, _ProbaMix):
        return _linear_models(clf.first) if clf.first is not None else []
    if hasattr(clf, "calibrated_classifiers_"):
        return [m for cc in clf.calibrated_classifiers_ for m in _linear_models(cc.estimator)]
    return [clf] if hasattr(clf, "coef_") else []


def _columns_by_frequency(F: Any) -> tuple[Any, np.ndarray]:
    """``(Fp, inv)``: a copy of the sparse matrix ``F`` with its columns ordered by document frequency (how many rows
    hold the column), most frequent first (ties in column order), each row's entries sorted; ``inv[j]`` is column
    ``j``'s position in ``Fp``, so ``F[:, j]`` equals ``Fp[:, inv[j]]`` and weights ``w`` fitted on ``Fp`` are
    ``w[:, inv]`` in ``F``'s order (:func:`_reorder_columns`).

    Why (issue 3, session 13 lead, measured in session 14): liblinear's coordinate descent walks each message's
    entries and reads and updates the weight of each column; with the frequent columns first those accesses stay
    in fewer cache lines. The calibrated fit (4 SVMs) of the 15-category set (5,361 messages × 2.7 million columns)
    took 130 → 119 and 149 → 126 CPU s (alternating runs, load 7–11); sorting each row's entries alone gains
    nothing (docs/benchmarks.md). The fits are the same problem with the columns renamed, so the weights differ
    only by the order of float64 sums (there: no prediction changed, probabilities within 4e-10). ``F`` itself is
    not changed (it may be held elsewhere: a cache, the folds): a copy of its data is made (+12 bytes a non-zero:
    81 MB there)."""
    F = F.tocsr()
    n = F.shape[1]
    df = np.bincount(F.indices, minlength=n)
    order = np.argsort(-df, kind="stable")
    idx = F.indices.dtype
    inv = np.empty(n, dtype=idx)
    inv[order] = np.arange(n, dtype=idx)
    Fp = type(F)((F.data.copy(), inv[F.indices], F.indptr.copy()), shape=F.shape)
    Fp.sort_indices()
    return Fp, inv


def _reorder_columns(w: np.ndarray, inv: np.ndarray) -> None:
    """``w[...] = w[:, inv]`` in place, a row at a time (no second weight matrix: 15 categories × 2.7 million
    features are 0.3 GB)."""
    if w.ndim == 1:
        w[...] = w[inv]
        return
    for i in range(w.shape[0]):
        w[i] = w[i][inv]


def _proba(model: Any, F: Any) -> np.ndarray:
    """Probabilities of a fitted classifier; softmax of the decision scores when it has none."""
    if hasattr(model, "predict_proba"):
        return model.predict_proba(F)
    s = model.decision_function(F)
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


_DECISION_RULES = ("proba", "prior", "decision", "offsets")  # DemandClassifier(decision_rule=...)
_TUNED_RULES = ("offsets",)  # tuned on the calibration's out-of-fold scores
_DECISION_SPACE = ("decision",)  # rules that read the linear model's decision values
_RULE_OFFSET_GRID = tuple(np.round(np.arange(-2.0, 2.01, 0.25), 2))  # log-probability offsets of "offsets"
_RULE_SWEEPS = 2  # coordinate-ascent passes of the offsets
_RULE_SHRINK = 0.5  # the tuned offsets times this (session 21's screen: 0.5 lost less than 1 on hand labels)


def _macro_f1_idx(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    """Macro-F1 over the ``k`` classes (0..k-1) present in ``y`` or ``pred``, as scikit-learn's ``f1_score(average=
    "macro")`` (a class absent from both is left out; 0 when it has no true positive)."""
    tp = np.bincount(y[pred == y], minlength=k).astype(float)
    n_true = np.bincount(y, minlength=k)
    n_pred = np.bincount(pred, minlength=k)
    seen = (n_true + n_pred) > 0
    f1 = np.divide(2 * tp, n_true + n_pred, out=np.zeros(k), where=seen)
    return float(f1[seen].mean())


def _tune_offsets(scores: np.ndarray, y: np.ndarray, grid: Sequence[float], sweeps: int = 2,
                  shrink: float = 1.0) -> np.ndarray:
    """Per-class additive offsets ``o`` that maximise the macro-F1 of ``argmax(scores + o)`` against ``y`` (class
    indices) by coordinate ascent: each class's offset in turn set to the best value of ``grid`` (ties: the one
    nearest 0), ``sweeps`` passes; an offset changes only when the macro-F1 rises. Then multiplied by ``shrink``."""
    k = scores.shape[1]
    o = np.zeros(k)
    best = _macro_f1_idx(y, scores.argmax(axis=1), k)
    by_size = sorted(grid, key=lambda g: (abs(g), g))  # ties go to the offset nearest 0
    for _ in range(int(sweeps)):
        moved = False
        for c in range(k):
            cand = o.copy()
            top, top_g = best, o[c]
            for g in by_size:
                cand[c] = g
                f = _macro_f1_idx(y, (scores + cand).argmax(axis=1), k)
                if f > top + 1e-12:
                    top, top_g = f, g
            if top_g != o[c]:
                o[c], best, moved = top_g, top, True
        if not moved:
            break
    return o * float(shrink)


def _calibrated_from_scores(cc: Any, scores: np.ndarray) -> np.ndarray:
    """The probabilities a fitted scikit-learn ``_CalibratedClassifier`` (one of ``calibrated_classifiers_``) gives
    for the decision values ``scores`` of its estimator (n × k, or n × 1 / n for two classes): its
    ``predict_proba`` without computing the scores again (so out-of-fold scores can be calibrated as it would)."""
    from sklearn.preprocessing import LabelEncoder

    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 1:
        scores = scores.reshape(-1, 1)
    n_classes = len(cc.classes)
    proba = np.zeros((scores.shape[0], n_classes))
    pos = LabelEncoder().fit(cc.classes).transform(cc.estimator.classes_)
    for idx, s, calibrator in zip(pos, scores.T, cc.calibrators, strict=False):
        proba[:, idx + 1 if n_classes == 2 else idx] = calibrator.predict(s)
    if n_classes == 2:
        proba[:, 0] = 1.0 - proba[:, 1]
        return proba
    den = proba.sum(axis=1, keepdims=True)
    return np.divide(proba, den, out=np.full_like(proba, 1 / n_classes), where=den != 0)


def _two_columns(d: np.ndarray) -> np.ndarray:
    """Decision values as one column per class (a binary model's single column ``d`` becomes ``[-d, d]``)."""
    d = np.asarray(d, dtype=float)
    return np.column_stack([-d.ravel(), d.ravel()]) if d.ndim == 1 or d.shape[1] == 1 else d


def _log_proba(p: np.ndarray) -> np.ndarray:
    return np.log(np.clip(p, 1e-12, None))


class SemiSupervisedNB(FillsMissingParams, ClassifierMixin, BaseEstimator):
    """Multinomial naive Bayes fitted by EM on labelled and unlabelled rows (Nigam, McCallum, Thrun & Mitchell
    2000, "Text classification from labeled and unlabeled documents using EM").

    Starts from :class:`sklearn.naive_bayes.MultinomialNB` fitted on the labelled rows; then ``n_iter`` times:
    E-step — class posteriors of the unlabelled rows; M-step — ``MultinomialNB`` refitted on the labelled rows
    (weight 1) plus each unlabelled row once per class with weight ``unlabeled_weight`` × its posterior (λ in
    the paper; posteriors below ``min_posterior`` are dropped). Stops early when no posterior moves by more
    than ``tol``. ``balance_unlabeled``: each class's unlabelled weight is rescaled to its share of the labelled
    rows (so EM cannot hand most unlabelled rows to one class). Without unlabelled rows it is plain ``MultinomialNB``. Works on any non-negative features
    (counts or TF-IDF).

    Only the class log-priors and the per-class feature log-probabilities are kept (``class_log_prior_``,
    ``feature_log_prob_``), rounded to float32 values when ``weights_dtype="float32"`` (saved as float32
    losslessly, deflated); no unlabelled row is stored. ``n_iter_``: EM iterations run.
    """

    # learned attributes (govml._compat): all since the class existed; a file without one cannot predict
    _required_learned = ("classes_", "class_log_prior_", "feature_log_prob_")

    def __init__(self, alpha: float = 0.1, unlabeled_weight: float = 0.1, n_iter: int = 5, fit_prior: bool = True,
                 tol: float = 1e-3, min_posterior: float = 1e-3, weights_dtype: str = "float32",
                 balance_unlabeled: bool = False) -> None:
        self.alpha = alpha
        self.balance_unlabeled = balance_unlabeled
        self.unlabeled_weight = unlabeled_weight
        self.n_iter = n_iter
        self.fit_prior = fit_prior
        self.tol = tol
        self.min_posterior = min_posterior
        self.weights_dtype = weights_dtype

    def _nb(self) -> Any:
        from sklearn.naive_bayes import MultinomialNB

        return MultinomialNB(alpha=float(self.alpha), fit_prior=bool(self.fit_prior))

    def fit(self, X: Any, y: Any, X_unlabeled: Any = None, sample_weight: Any = None) -> SemiSupervisedNB:
        import scipy.sparse as sp

        y = np.asarray(y, dtype=object)
        w = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        nb = self._nb().fit(X, y, sample_weight=w)
        self.n_iter_ = 0
        if X_unlabeled is not None and X_unlabeled.shape[0] and float(self.unlabeled_weight) > 0:
            Xu = sp.csr_matrix(X_unlabeled)
            post = nb.predict_proba(Xu)
            share = np.array([w[y == c].sum() for c in nb.classes_]) / w.sum()
            for _ in range(int(self.n_iter)):
                soft = post
                if self.balance_unlabeled:  # each class's unlabelled mass as its labelled share (no class swallows)
                    soft = post * (share * len(post) / np.maximum(post.sum(axis=0), 1e-12))
                rows, cols = np.nonzero(post >= float(self.min_posterior))
                nb = self._nb().fit(sp.vstack([sp.csr_matrix(X), Xu[rows]]).tocsr(), np.r_[y, nb.classes_[cols]],
                                    sample_weight=np.r_[w, float(self.unlabeled_weight) * soft[rows, cols]])
                new = nb.predict_proba(Xu)
                self.n_iter_ += 1
                moved = float(np.abs(new - post).max())
                post = new
                if moved <= float(self.tol):
                    break
        self.classes_ = nb.classes_
        self.class_log_prior_ = nb.class_log_prior_
        flp = nb.feature_log_prob_
        if self.weights_dtype == "float32":
            flp = flp.astype(np.float32).astype(np.float64)
        elif self.weights_dtype != "float64":
            raise ModelError(f"SemiSupervisedNB weights_dtype: expected 'float64' or 'float32', "
                             f"found {self.weights_dtype!r}")
        self.feature_log_prob_ = flp
        self.n_features_in_ = flp.shape[1]
        return self

    def predict_log_proba(self, X: Any) -> np.ndarray:
        from scipy.special import logsumexp

        jll = np.asarray(X @ self.feature_log_prob_.T) + self.class_log_prior_
        return jll - logsumexp(jll, axis=1, keepdims=True)

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.exp(self.predict_log_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_log_proba(X).argmax(axis=1)]

    def __getstate__(self) -> dict[str, Any]:
        """State with ``feature_log_prob_`` stored as float32 when that is lossless, deflated."""
        state = super().__getstate__()
        flp = state.get("feature_log_prob_")
        if isinstance(flp, np.ndarray) and flp.dtype == np.float64 and flp.size >= _PACK_MIN_SIZE:
            as32 = flp.astype(np.float32)
            state = dict(state, feature_log_prob_=_zip_array(as32 if _same_bits(as32.astype(np.float64), flp)
                                                             else flp))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        if isinstance(state.get("feature_log_prob_"), dict):
            state["feature_log_prob_"] = _unzip_array(state["feature_log_prob_"]).astype(np.float64)
        super().__setstate__(state)


class _ProbaMix:
    """``(1 - weight) ×`` the probabilities of ``first`` (on all features) ``+ weight ×`` those of ``second`` (on
    the feature columns ``cols``; all when None); both have the same ``classes_``."""

    def __init__(self, first: Any, second: Any, weight: float, cols: np.ndarray | None) -> None:
        self.first = first
        self.second = second
        self.weight = weight
        self.cols = cols
        self.classes_ = second.classes_

    def predict_proba(self, F: Any) -> np.ndarray:
        w = float(self.weight)
        p2 = self.second.predict_proba(F if self.cols is None else F[:, self.cols])
        if self.first is None or w >= 1.0:
            return p2
        return (1.0 - w) * _proba(self.first, F) + w * p2


_VOCAB_SEP = "\x00"  # never in a term (checked when packing; a vocabulary holding it stays a dict)


def _pack_vocabulary(vocab: Any) -> np.ndarray | None:
    """A TF-IDF ``vocabulary_`` dict as one uint8 array: the terms in index order, UTF-8, NUL-separated;
    None when it cannot be packed losslessly (not a dict of str terms with indices 0..n-1, or a term with NUL)."""
    if not isinstance(vocab, dict) or not vocab:
        return None
    terms: list[Any] = [None] * len(vocab)
    for term, idx in vocab.items():
        i = int(idx)
        if not isinstance(term, str) or _VOCAB_SEP in term or not 0 <= i < len(terms) or terms[i] is not None:
            return None
        terms[i] = term
    return np.frombuffer(_VOCAB_SEP.join(terms).encode("utf-8"), dtype=np.uint8)


def _unpack_vocabulary(packed: Any) -> dict[str, int]:
    terms = np.asarray(packed, dtype=np.uint8).tobytes().decode("utf-8").split(_VOCAB_SEP)
    return dict(zip(terms, range(len(terms)), strict=True))


_PACK_MIN_SIZE = 1024  # smaller arrays are saved as they are


def _zip_array(a: np.ndarray) -> dict[str, Any]:
    """An array as zlib-deflated bytes (uint8), its dtype and shape: TF-IDF vocabularies, SVM weights (many
    share a value: a term seen in one message gets that message's weight) and idf indices shrink 3–4×."""
    a = np.ascontiguousarray(a)
    return {"zlib": np.frombuffer(zlib.compress(a.tobytes(), 6), dtype=np.uint8), "dtype": a.dtype.str,
            "shape": np.array(a.shape, dtype=np.int64)}


def _unzip_array(z: Any) -> np.ndarray:
    """The array of :func:`_zip_array`; a plain array (saved before compression) is returned as it is."""
    if isinstance(z, np.ndarray):
        return z
    raw = zlib.decompress(np.asarray(z["zlib"], dtype=np.uint8).tobytes())
    return np.frombuffer(raw, dtype=np.dtype(z["dtype"])).reshape(tuple(int(n) for n in z["shape"])).copy()


_SAME_BITS_CHUNK = 1 << 20  # elements compared at a time


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Same shape, dtype and bit pattern (-0.0 is not 0.0; NaNs by their bits). Compared as unsigned integers a
    chunk at a time, with no byte copy of either array (``tobytes``: two more copies of a saved model's weight
    matrix, ~250 MB for 7 classes × 2.2 million features, at the memory peak of ``govml demands train``)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.itemsize not in (1, 2, 4, 8) or a.dtype.hasobject:
        return a.tobytes() == b.tobytes()
    unsigned = np.dtype(f"u{a.dtype.itemsize}")
    layout = (a.flags.c_contiguous, a.flags.f_contiguous)
    if layout == (b.flags.c_contiguous, b.flags.f_contiguous) and any(layout):
        fa, fb = a.ravel(order="K"), b.ravel(order="K")  # views, both in the same (memory) order
    else:
        fa, fb = np.ravel(a), np.ravel(b)  # both in C order (copies only here)
    fa, fb = fa.view(unsigned), fb.view(unsigned)
    return all(np.array_equal(fa[i:i + _SAME_BITS_CHUNK], fb[i:i + _SAME_BITS_CHUNK])
               for i in range(0, fa.size, _SAME_BITS_CHUNK))


def _pack_weights(w: Any) -> dict[str, Any] | None:
    """A float64 weight matrix (``coef_``), losslessly: a bit mask of its non-zero entries (by bit pattern, so
    -0.0 stays -0.0) and their values — as float32 when every value is a float32 number (``weights_dtype=
    "float32"`` rounds them so at fit time), else float64. None for anything else or small arrays."""
    if not isinstance(w, np.ndarray) or w.dtype != np.float64 or w.size < _PACK_MIN_SIZE:
        return None
    order = "F" if w.flags.f_contiguous and not w.flags.c_contiguous else "C"
    flat = w.ravel(order=order)
    nonzero = flat.view(np.uint64) != 0
    values = _nonzero_float32(flat, nonzero)
    if values is None:
        values = flat[nonzero]
    packed = {"shape": np.array(w.shape, dtype=np.int64), "order": order,
              "nonzero": _zip_array(np.packbits(nonzero)), "values": _zip_array(values)}
    del nonzero, values
    return packed if _unpacks_to(packed, flat) else None


def _nonzero_float32(flat: np.ndarray, nonzero: np.ndarray) -> np.ndarray | None:
    """``flat[nonzero]`` as float32 when every one of those values is a float32 number, else None — a chunk at a
    time (no float64 copy of the values beside their float32 one: memory at ``govml demands train``'s save)."""
    parts = []
    for i in range(0, flat.size, _SAME_BITS_CHUNK):
        v = flat[i:i + _SAME_BITS_CHUNK][nonzero[i:i + _SAME_BITS_CHUNK]]
        v32 = v.astype(np.float32)
        if not _same_bits(v32.astype(np.float64), v):
            return None
        parts.append(v32)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def _unpacks_to(packed: dict[str, Any], flat: np.ndarray) -> bool:
    """Whether :func:`_unpack_weights` gives back ``flat`` (the matrix in ``packed["order"]``), checked a chunk at a
    time as :func:`_unpack_weights` fills it: no full float64 matrix made for the check."""
    if int(np.prod([int(n) for n in packed["shape"]])) != flat.size:
        return False
    nonzero = np.unpackbits(_unzip_array(packed["nonzero"]), count=flat.size).astype(bool)
    z = packed["values"]
    values = np.frombuffer(zlib.decompress(np.asarray(z["zlib"], dtype=np.uint8).tobytes()), dtype=np.dtype(z["dtype"]))
    if values.size != int(nonzero.sum()):
        return False
    at = 0
    for i in range(0, flat.size, _SAME_BITS_CHUNK):
        nz = nonzero[i:i + _SAME_BITS_CHUNK]
        chunk = np.zeros(nz.size, dtype=np.float64)
        n = int(nz.sum())
        chunk[nz] = values[at:at + n]
        at += n
        if not _same_bits(chunk, flat[i:i + _SAME_BITS_CHUNK]):
            return False
    return True


def _unpack_weights(packed: dict[str, Any]) -> np.ndarray:
    shape = tuple(int(s) for s in packed["shape"])
    nonzero = np.unpackbits(_unzip_array(packed["nonzero"]), count=int(np.prod(shape))).astype(bool)
    flat = np.zeros(nonzero.size, dtype=np.float64)
    flat[nonzero] = _unzip_array(packed["values"])
    return flat.reshape(shape, order=packed["order"])


def _pack_levels(a: Any) -> dict[str, Any] | None:
    """A float array with few distinct values (TF-IDF ``idf_``: one value per document frequency) as its
    distinct values and a uint8/uint16 index; None when not lossless or not worth it."""
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f" or a.ndim != 1 or a.size < _PACK_MIN_SIZE:
        return None
    levels, index = np.unique(a, return_inverse=True)
    if len(levels) > 65536:
        return None
    packed = {"levels": levels, "index": _zip_array(index.astype(np.uint8 if len(levels) <= 256 else np.uint16))}
    return packed if _same_bits(_unpack_levels(packed), a) else None


def _unpack_levels(packed: dict[str, Any]) -> np.ndarray:
    return packed["levels"][_unzip_array(packed["index"])]


_BLOCK_NAMES = ("word", "char", "topic", "title", "title_topic")  # DemandClassifier's feature blocks, in order

# parameters added after models were first saved, with the value that reproduces those models
_OLD_DEFAULTS = {"calibration_ensemble": True, "weights_dtype": "float64", "char_min_df": None, "title_weight": None,
                 "title_ngrams": (1, 3), "title_lexicon_weight": None, "calibration_folds": 3,
                 "self_training_balance": None, "self_training_weight": 1.0, "self_training_rounds": 1,
                 "self_training_agree": False,
                 "lexicon_expand": None, "lexicon_expand_weight": 0.5, "lexicon_expand_min_df": 5,
                 "em_nb": None, "em_nb_lambda": 0.1, "em_nb_alpha": 1e-3, "em_nb_iter": 5,
                 "em_nb_blocks": ("word", "topic", "title_topic"),
                 "em_nb_prior": True, "em_nb_balance": False, "n_jobs": None, "column_order": None}


class DemandClassifier(FillsMissingParams, ClassifierMixin, BaseEstimator):
    """Category of a resident message, with calibrated confidence.

    Default (issue 3): word 1–2-grams + character 1–4-grams + the topic-lexicon block (weight 1) + for titled
    texts the title blocks (character 1–3-grams and topic counts of the title alone, weight 0.5 each), sublinear
    tf, balanced ``LinearSVC`` with C=0.5, sigmoid calibration.
    Title blocks (issue 3, fourth study; paired difference to the model without them, mean over draws and the
    draws won; weights chosen on draws 0–4 among 6 title variants, later draws confirmatory): hand 200 +0.013
    (8 of 15), hand 400 +0.009 (7 of 10), reply 200 +0.012 (8 of 10), reply 400 +0.008 (6 of 10) — small but
    positive on both label sets at both sizes; the character title block alone at weight 1, draws 0–4 (hand
    200: 0–14): +0.008 / +0.008 / +0.012 / +0.013. Within
    noise or worse: unlabelled text for the vocabulary and IDF (``unlabeled=`` 2,000 other messages, or the
    messages being cross-validated themselves), 5 calibration folds; below the default on draw 0 (hand 200):
    NB-SVM log-count-ratio scaling (−0.15 to −0.19), an SVM averaged with complement NB (−0.08) or with
    logistic regression (−0.01, 15× slower); a multinomial logistic calibrator instead of per-class sigmoids
    (−0.04 and −0.06 on draws 0–1).
    Semi-supervised options (issue 3, fifth study; 200 labelled + 2,000 unlabelled messages, paired difference
    to the model without unlabelled text, hand / reply labels): screened on draws 0–1, the grown lexicon
    (``lexicon_expand=30``, weight 0.5) +0.017 / +0.001 and class-balanced self-training −0.026 to +0.014 on reply
    (one draw −0.046, another +0.063); confirmed on draws 5–9, the grown lexicon −0.002 ± 0.021 / −0.001 ± 0.020
    (400 labelled, draws 5–6: −0.009 / −0.004), self-training (threshold 0, cap 1× the labelled count a round,
    3 rounds) −0.008 ± 0.023 / +0.022 ± 0.039, vocabulary and IDF alone −0.002 ± 0.007 / +0.003 ± 0.010 —
    no gain beyond noise on both label sets, so all stay off by default.
    EM naive Bayes (issue 3, sixth study; ``em_nb``, same benchmark, paired difference to the model without
    unlabelled text, hand / reply labels): settings screened on draws 0–1 (α 1e-4–1e-2, λ 0–0.1, 1 or 5 EM
    iterations, class-balanced M-step or not, all blocks or word + topic + title topic, weight 0.15–1); the naive
    Bayes alone loses 0.2–0.4 once EM uses the unlabelled messages (its mixture collapses), mixed in at 0.3 over
    the word and topic blocks it gains. Confirmed on draws 5–9 at 200 labelled messages (w 0.3, λ 0.1, α 1e-3,
    5 iterations): +0.023 ± 0.015 (4 of 5 draws won) / +0.038 ± 0.043 (4 of 5; draws 10–14 added on reply:
    +0.029 ± 0.042, 4 of 5); at 400 labelled messages +0.018 ± 0.020 (3 of 5) / +0.018 ± 0.028 (4 of 5). The
    same naive Bayes on the labels alone: −0.012 ± 0.015 / −0.009 ± 0.033 at 200, so the gain comes from the
    unlabelled messages; the unlabelled text for the vocabulary alone: −0.002 ± 0.007 / +0.003 ± 0.010.
    ``govml demands train --unlabeled`` uses it (weight 0.3); ``fit`` without ``em_nb`` does not.
    Labels-only naive Bayes mix (issue 3, seventh study; ``em_nb=w, em_nb_blocks=None`` fitted without unlabelled
    text: (1 − w) × this model + w × ``MultinomialNB`` over every block; same benchmark, paired difference to the
    default, hand / reply labels): not adopted. The sixth study's screen had seen +0.026 / −0.002 (w 0.15, α 1e-4,
    draws 0–1) with the 2,000 unlabelled messages in the vocabulary and IDF (λ 0); on the labels alone the same
    setting gives −0.006 / −0.024 (draws 0–2), and on draws 0–2 no setting of α 1e-4 / 1e-3 / 1e-2 × w 0.1 / 0.15 /
    0.3 (nor ``ComplementNB``, α 1e-3–1, w 0.1 / 0.3) gains on reply labels (−0.010 to −0.083, 0 or 1 of 3 draws
    won). The least bad, w 0.1 and α 1e-3, confirmed on draws 5–9: −0.002 ± 0.013 (2 of 5 won) / −0.005 ± 0.008
    (1 of 5) at 200 labelled messages, −0.000 ± 0.010 / +0.001 ± 0.007 at 400 — no gain. With the unlabelled
    messages (the sixth study's setting, draws 5–9, 200): +0.008 ± 0.013 / +0.032 ± 0.044, below ``em_nb=0.3``'s
    +0.023 ± 0.015 / +0.038 ± 0.043 on the same draws.
    Decision rule (issue 3, session 21; ``decision_rule``; same benchmark, paired difference to the default rule —
    the argmax of the calibrated probabilities — on the same fold models, hand / reply labels): screened on draws
    0–2 at 200 and 400 labels (``bench_classifier.py --rule-screen``: one fit per fold, every rule applied), the
    probabilities divided by the training class shares to the power 0.25 (``"prior"``) was the only rule ahead in all
    four cells (+0.008 / +0.022 at 200, +0.007 / +0.022 at 400); power 0.5 +0.025 / +0.025 and −0.007 / +0.019,
    power 1 (the balanced posterior) −0.001 / −0.010 and −0.026 / −0.029; offsets on the log-probabilities tuned for
    macro-F1 on the out-of-fold scores (coordinate ascent, grid ±2 by 0.25, shrunk by half: ``"offsets"``) +0.007 /
    +0.013, +0.002 / +0.017 (unshrunk +0.000 / +0.011, −0.003 / +0.018); the SVM scores' argmax (``"decision"``)
    +0.002 / −0.026, +0.006 / −0.006; offsets on the SVM scores (−0.003 at hand 400), the power tuned on the
    out-of-fold scores (+0.001 / +0.006 at 400) and a balanced logistic regression on them (stacking; −0.014 /
    −0.010 at 400) each weaker in some cell. Confirmed on draws 5–9 (mean ± sd, draws won):
    ``"prior"`` (0.25) +0.003 ± 0.018 (3 of 5) / +0.010 ± 0.030 (3) at 200, +0.002 ± 0.007 (3) / +0.005 ± 0.012 (4)
    at 400; ``"offsets"`` +0.003 ± 0.036 (2) / +0.022 ± 0.028 (4), −0.007 ± 0.010 (1) / +0.002 ± 0.008 (3);
    ``"decision"`` −0.014 / −0.023, −0.002 / −0.009; the generated sample messages (11 categories, draws 0–2):
    −0.001 / −0.002 (prior), −0.001 / −0.005 (offsets). Below the adoption bar (+0.010 in three of the four
    cells): options, off. The ``"decision"`` rule changes 1–3.5 % of the predictions; the calibrated argmax and the
    SVM scores' argmax both under-predict the rarest categories, so the shortfall is the SVM's, not the calibration's.
    Saved-model size (issue 3, third study; same benchmark, 5 draws, paired difference to the model with three
    calibration-fold SVMs): ``calibration_ensemble=False`` (one SVM on all messages, calibration from
    cross-validated scores) +0.025 ± 0.022 / +0.010 ± 0.008 (hand, 200 / 400), +0.035 ± 0.023 / +0.017 ± 0.024
    (reply); float32 weights on top changed no macro-F1 on any of the 20 draws — both are the default.
    ``char_min_df=2`` on top of those: −0.011 ± 0.012 / −0.002 ± 0.005 (hand), −0.001 ± 0.007 / +0.006 ±
    0.007 (reply), a loss at hand-200, so it stays an option (vocabulary 275k → 66k; the saved model about
    a third of the size). Saved with :meth:`__getstate__`'s lossless packing, ``govml demands train`` on 400
    reply-labelled messages (7 classes) writes a model.skops of 3.0 MB instead of 52.3 MB (docs/benchmarks.md).
    ``benchmarks/bench_classifier.py`` on two label sets of real messages (title + details joined by a
    newline): ``--labels hand`` — 564 messages labelled by the developers from their titles following the
    contest taxonomy; ``--labels reply`` — 806 messages of 附件4 labelled at run time by the department
    named in the government's reply (independent of the message text). 5 stratified draws per size,
    5-fold CV, macro-F1 mean ± sd over draws (paired difference to the old default ± its sd over draws):

    ======================  ======================  ======================  ======================  ======================
    variant                 hand, 200               hand, 400               reply, 200              reply, 400
    ======================  ======================  ======================  ======================  ======================
    no lexicon (old)        0.659 ± 0.027           0.725 ± 0.022           0.540 ± 0.042           0.609 ± 0.026
    lexicon_weight=1 (new)  0.745 (+0.085 ± 0.058)  0.787 (+0.062 ± 0.037)  0.628 (+0.087 ± 0.065)  0.687 (+0.077 ± 0.045)
    lexicon_weight=0.5      0.747 (+0.088 ± 0.054)  0.788 (+0.064 ± 0.031)  0.616 (+0.076 ± 0.063)  0.681 (+0.071 ± 0.049)
    lexicon_weight=2        0.747 (+0.087 ± 0.055)  0.784 (+0.059 ± 0.033)  0.620 (+0.079 ± 0.058)  0.682 (+0.073 ± 0.058)
    lexicon 1 + title 1     0.755 (+0.096 ± 0.057)  0.789 (+0.065 ± 0.039)  0.631 (+0.091 ± 0.061)  0.686 (+0.077 ± 0.050)
    title_repeat=1          0.666 (+0.007 ± 0.025)  0.731 (+0.007 ± 0.008)  0.545 (+0.005 ± 0.007)  0.614 (+0.005 ± 0.007)
    peer word TF-IDF + SVM  0.412 (−0.247 ± 0.050)  0.584 (−0.141 ± 0.020)  0.375 (−0.165 ± 0.036)  0.476 (−0.134 ± 0.041)
    peer char 1–3 + SVM     0.497 (−0.163 ± 0.041)  0.648 (−0.077 ± 0.027)  0.431 (−0.110 ± 0.037)  0.517 (−0.092 ± 0.029)
    ======================  ======================  ======================  ======================  ======================

    The lexicon block won on every draw but one (reply, 200: −0.003) and the weight hardly matters, so it
    became the default at weight 1; title weighting adds nothing beyond noise. The new default's paired
    margin over the character peer: +0.248 / +0.139 (hand, 200 / 400), +0.197 / +0.170 (reply).
    With the lexicon on, within noise on both label sets: C=1, C=0.2, ``char_ngrams=(1, 3)`` or ``(2, 4)``,
    a lexicon twice as long (874 terms); ``model="ensemble"`` loses 0.03–0.05. Half the lexicon (every
    other term) keeps about half the gain (400 messages: +0.026 hand, +0.041 reply). Earlier study, without the
    lexicon, hand labels, paired difference to the then default at 200 / 400 messages: ``C="auto"`` (inner
    3-fold over 0.1/0.3/1/3) +0.002 / −0.000; ``model="ensemble"`` −0.013 / +0.001; ``model="ensemble+nb"``
    −0.061 at 200; ``word_weight=1.5`` −0.005 / +0.000; ``char_ngrams=(2, 4)`` −0.013 / −0.002;
    ``sublinear_tf=False`` −0.011 at 200; ``calibration="isotonic"`` −0.005 / +0.000 — none beyond noise.
    ``model="lr"``: one 5-fold CV of 200 messages took 35 s against 2 s (load ~3), too slow for
    ``govml demands train``. ``lsa_components=100`` with 2,000 unlabelled messages (2 draws only):
    0.633/0.655 at 200 and 0.698/0.712 at 400 messages, against 0.638/0.658 and 0.743/0.757 for the same
    unlabelled text without LSA, and ~50 s per fit: not recommended.

    Parameters (stored as given)
    ----------
    model : "svm" | "lr" | "ensemble" | "ensemble+nb" — "ensemble" averages the calibrated
        probabilities of one linear SVM per feature block (word, character); "ensemble+nb" adds a
        calibrated complement naive Bayes over both blocks.
    C : float | "auto" — inverse regularisation of the linear model; "auto" picks the best of
        ``C_grid`` by macro-F1 in an inner stratified 3-fold CV on the training messages (``C_``).
    word_ngrams, char_ngrams : (min, max) n-gram ranges; ``None`` drops that block.
    word_weight : float — weight of the word block relative to the character block.
    min_df : int — minimum document frequency of a feature.
    max_features : int | None — per block.
    calibration : "sigmoid" | "isotonic" | None — None keeps the raw model (LR probabilities, or
        softmax of SVM scores).
    class_weight : "balanced" | None
    self_training : float | None — with unlabelled messages passed to ``fit``: the confidence a prediction
        needs to become a pseudo-label (``None``: no pseudo-labels; 0 is a threshold too).
    self_training_balance : float | None — at most ceil(k × this × the class's labelled count) pseudo-labels
        a class in round k, the most confident first (``None``: no cap).
    self_training_weight : float — sample weight of a pseudo-labelled message (labelled ones weigh 1).
    self_training_rounds : int — rounds of pseudo-labelling (each re-predicts the unlabelled messages and
        refits on the labelled ones + that round's pseudo-labels).
    self_training_agree : bool — keep only pseudo-labels that a second model, fitted on another view of the
        labelled text (the title blocks, else the word and topic blocks), predicts too.
    lexicon_expand : int | None — with unlabelled messages: grow the topic lexicon by co-occurrence (labels
        unused; :meth:`_expand_lexicon`) by up to this many words a topic, counted in a block of their own.
    lexicon_expand_weight : float — weight of that block.
    lexicon_expand_min_df : int — a word must occur in this many (labelled + unlabelled) messages to join.
    min_class_count : int — labels seen fewer times are excluded (with a warning).
    tokenizer : GovTokenizer | None — default ``GovTokenizer()``.
    random_state : int
    sublinear_tf : bool — 1 + log(tf) instead of raw counts in both blocks.
    C_grid : sequence of float — the candidates of ``C="auto"``.
    title_repeat : int — the first line of a multi-line text (the title when ``govml demands train``
        joins several ``--text-col`` columns with newlines) is repeated this many extra times.
    lsa_components : int | None — with unlabelled messages, a truncated SVD (LSA) of the TF-IDF space
        fitted on labelled + unlabelled text; its L2-normalised coordinates are appended to the features.
    lexicon_weight : float | None — weight of the topic-lexicon block (one feature per topic, see
        :class:`TopicLexiconFeatures`); ``None`` or 0 drops the block (the model before issue 3's second study).
    lexicon : dict[str, list[str]] | None — ``{topic: [term, ...]}`` for that block; ``None`` = the packaged
        ``resources/text/topic_lexicon.txt``. Write your own (or extend the packaged one, see
        :func:`load_topic_lexicon`) for messages of another domain; topics need not match your labels.
    calibration_ensemble : bool — ``False`` (default): one linear model fitted on all messages, calibrated on
        cross-validated decision values; ``True``: one calibrated model per calibration fold, probabilities
        averaged (three weight matrices; the default before the saved-model size study).
    weights_dtype : "float32" | "float64" — "float32" rounds the linear weights to float32 values after
        fitting (the model predicts with those values, before and after saving; half the saved size).
    char_min_df : int | None — minimum document frequency of the character block (``None`` = ``min_df``).
    title_weight : float | None — weight of a character ``title_ngrams`` TF-IDF block over the title alone (the
        first line of a multi-line text, as ``govml demands train`` joins ``--text-col`` columns; a text whose
        first line is empty has no title); the block exists only when some training text has a title.
    title_ngrams : (min, max) — n-gram range of that block.
    title_lexicon_weight : float | None — weight of a topic-lexicon block counting the title's hits only.
    calibration_folds : int — folds of the internal CV that calibrates the scores (fewer when a class is small).
    em_nb : float | None — weight w of a multinomial naive Bayes fitted by EM on the labelled and the unlabelled
        messages (:class:`SemiSupervisedNB`; Nigam et al. 2000): the probabilities are (1 − w) × the calibrated
        SVM's + w × the naive Bayes' (1: the naive Bayes alone, no SVM fitted; ``None``: off). Without unlabelled
        messages the naive Bayes is fitted on the labels alone (a plain ``MultinomialNB``; no gain on real
        messages, see above).
    em_nb_lambda : float — weight λ of an unlabelled message in the M-step (times its class posteriors).
    em_nb_alpha : float — additive smoothing of the naive Bayes; small, because its inputs are the L2-normalised
        TF-IDF blocks (a message's values sum to a few units, not to its word count).
    em_nb_iter : int — EM iterations at most (fewer when the posteriors stop moving).
    em_nb_blocks : sequence of str | None — the feature blocks the naive Bayes reads (of "word", "char", "topic",
        "title", "title_topic"; the title blocks are skipped for texts without a title); ``None``: all.
    em_nb_prior : bool — learn the class priors (else uniform).
    em_nb_balance : bool — rescale each class's unlabelled weight to its labelled share in the M-step.
    n_jobs : int | None — processes for the linear-model fits of the calibration (``model`` "svm" or "lr"): the
        internal CV's fold models and the model on all messages are fitted side by side, this process and
        ``n_jobs - 1`` forked children (-1: one per core; ``None`` or 1: one after the other). The model is the
        same bit for bit (each fit is the one made in turn; tests compare). Faster in wall time on free cores,
        not in CPU time; each child holds one fold's model (about classes × features × 16 bytes: 15 categories ×
        2.7 million features ≈ 0.65 GB) beside this process's (issue 3, session 13; docs/benchmarks.md).
    decision_rule : "proba" | "prior" | "decision" | "offsets" — how the category is chosen (the probabilities, and
        the confidence ``predict_frame`` reports — the chosen category's probability —, are the same under every
        rule): "proba" (default) the argmax of the calibrated probabilities; "prior" the argmax of the probabilities
        divided by the training class shares to the power ``prior_power`` (favours rare categories; any model);
        "decision" the argmax of the linear SVM's (or logistic regression's) decision values; "offsets" the argmax of
        the log-probabilities plus per-class offsets tuned in ``fit`` for macro-F1 on the out-of-fold decision values
        the calibration is fitted on (no extra fit; coordinate ascent over −2…2 by 0.25, halved). "decision" and
        "offsets" need ``model`` "svm" or "lr", no ``em_nb`` and no ``self_training`` ("offsets" also calibration with
        ``calibration_ensemble=False``); what the rule learned is ``class_offsets_`` (None under "proba"). A model
        saved before this parameter predicts as it did (the argmax). No rule gained enough on real messages to be the
        default (issue 3, session 21, above).
    prior_power : float — the exponent of the class shares under ``decision_rule="prior"`` (0: the argmax; 1: the
        balanced posterior, too far on real messages).
    column_order : "df" | None — ``"df"``: the linear-model fits (``model`` "svm" or "lr") read the feature columns
        ordered by document frequency in the training messages, most frequent first (each row's entries sorted),
        and the weights are put back in the features' order afterwards (:func:`_columns_by_frequency`); the
        model predicts as usual. The same model up to float64 round-off (the fit sums in another order), not bit
        for bit. ``None``: the columns as the feature blocks build them. Costs one copy of the training matrix
        during the fit. 15 categories × 2.7 million features: 8–16 % less CPU per calibrated SVM fit; on 18
        benchmark draws (200 and 400 labels) no cross-validated prediction changed — off by default all the same
        (the gain is within the load noise at a few hundred labels; CPU measured for "svm" only; issue 3, session
        14; docs/benchmarks.md).
    """

    _old_param_values = _OLD_DEFAULTS  # models saved before these parameters existed behave as they were trained
    # learned attributes (govml._compat): a model saved before the optional LSA block / the self-training lexicon
    # matrix / the stored block spans had none (None: not used; the spans are then worked out as they were)
    _old_learned_values = {"lsa_": None, "lexicon_x_": None, "blocks_": None, "class_offsets_": None}
    _required_learned = ("features_", "classes_")  # since the first DemandClassifier; classifier_ marks it fitted

    def __init__(
        self,
        model: str = "svm",
        C: float = 0.5,
        word_ngrams: tuple[int, int] | None = (1, 2),
        char_ngrams: tuple[int, int] | None = (1, 4),
        word_weight: float = 1.0,
        min_df: int = 1,
        max_features: int | None = None,
        calibration: str | None = "sigmoid",
        class_weight: str | None = "balanced",
        self_training: float | None = None,
        min_class_count: int = 2,
        tokenizer: GovTokenizer | None = None,
        random_state: int = 0,
        sublinear_tf: bool = True,
        C_grid: Sequence[float] = (0.1, 0.3, 1.0, 3.0),
        title_repeat: int = 0,
        lsa_components: int | None = None,
        lexicon_weight: float | None = 1.0,
        lexicon: dict[str, Sequence[str]] | None = None,
        calibration_ensemble: bool = False,
        weights_dtype: str = "float32",
        char_min_df: int | None = None,
        title_weight: float | None = 0.5,
        title_ngrams: tuple[int, int] = (1, 3),
        title_lexicon_weight: float | None = 0.5,
        calibration_folds: int = 3,
        self_training_balance: float | None = None,
        self_training_weight: float = 1.0,
        self_training_rounds: int = 1,
        self_training_agree: bool = False,
        lexicon_expand: int | None = None,
        lexicon_expand_weight: float = 0.5,
        lexicon_expand_min_df: int = 5,
        em_nb: float | None = None,
        em_nb_lambda: float = 0.1,
        em_nb_alpha: float = 1e-3,
        em_nb_iter: int = 5,
        em_nb_blocks: Sequence[str] | None = ("word", "topic", "title_topic"),
        em_nb_prior: bool = True,
        em_nb_balance: bool = False,
        n_jobs: int | None = None,
        column_order: str | None = None,
        decision_rule: str = "proba",
        prior_power: float = 0.25,
    ) -> None:
        self.model = model
        self.C = C
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.word_weight = word_weight
        self.min_df = min_df
        self.max_features = max_features
        self.calibration = calibration
        self.class_weight = class_weight
        self.self_training = self_training
        self.min_class_count = min_class_count
        self.tokenizer = tokenizer
        self.random_state = random_state
        self.sublinear_tf = sublinear_tf
        self.C_grid = C_grid
        self.title_repeat = title_repeat
        self.lsa_components = lsa_components
        self.lexicon_weight = lexicon_weight
        self.lexicon = lexicon
        self.calibration_ensemble = calibration_ensemble
        self.weights_dtype = weights_dtype
        self.char_min_df = char_min_df
        self.title_weight = title_weight
        self.title_ngrams = title_ngrams
        self.title_lexicon_weight = title_lexicon_weight
        self.calibration_folds = calibration_folds
        self.self_training_balance = self_training_balance
        self.self_training_weight = self_training_weight
        self.self_training_rounds = self_training_rounds
        self.self_training_agree = self_training_agree
        self.lexicon_expand = lexicon_expand
        self.lexicon_expand_weight = lexicon_expand_weight
        self.lexicon_expand_min_df = lexicon_expand_min_df
        self.em_nb = em_nb
        self.em_nb_lambda = em_nb_lambda
        self.em_nb_alpha = em_nb_alpha
        self.em_nb_iter = em_nb_iter
        self.em_nb_blocks = em_nb_blocks
        self.em_nb_prior = em_nb_prior
        self.em_nb_balance = em_nb_balance
        self.n_jobs = n_jobs
        self.column_order = column_order
        self.decision_rule = decision_rule
        self.prior_power = prior_power

    # -- building blocks ---------------------------------------------------------------------------
    def _tok(self) -> GovTokenizer:
        return self.tokenizer if self.tokenizer is not None else GovTokenizer()

    def _features(self, has_title: bool = False) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        tok = self._tok()
        blocks = []
        weights = {}
        if self.word_ngrams:
            blocks.append(("word", TfidfVectorizer(tokenizer=tok, token_pattern=None, lowercase=False,
                                                   ngram_range=tuple(self.word_ngrams), sublinear_tf=self.sublinear_tf,
                                                   min_df=self.min_df, max_features=self.max_features)))
            weights["word"] = float(self.word_weight)
        if self.char_ngrams:
            blocks.append(("char", TfidfVectorizer(analyzer="char", preprocessor=_PrepareText(tok),
                                                   ngram_range=tuple(self.char_ngrams), sublinear_tf=self.sublinear_tf,
                                                   min_df=self.min_df if self.char_min_df is None else self.char_min_df,
                                                   max_features=self.max_features)))
            weights["char"] = 1.0
        if self.lexicon_weight:
            blocks.append(("topic", TopicLexiconFeatures(lexicon=self.lexicon, tokenizer=tok)))
            weights["topic"] = float(self.lexicon_weight)
        if has_title and self.title_weight:
            blocks.append(("title", TfidfVectorizer(analyzer="char", preprocessor=_TitleText(tok),
                                                    ngram_range=tuple(self.title_ngrams),
                                                    sublinear_tf=self.sublinear_tf, min_df=self.min_df,
                                                    max_features=self.max_features)))
            weights["title"] = float(self.title_weight)
        if has_title and self.title_lexicon_weight:
            blocks.append(("title_topic", TopicLexiconFeatures(lexicon=self.lexicon, tokenizer=tok, title_only=True)))
            weights["title_topic"] = float(self.title_lexicon_weight)
        if not blocks:
            raise ModelError("DemandClassifier: word_ngrams and char_ngrams are both None: no features")
        return FeatureUnion(blocks, transformer_weights=weights)

    def _linear(self, C: float) -> Any:
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC

        if self.model in ("svm", "ensemble", "ensemble+nb"):
            return LinearSVC(C=C, class_weight=self.class_weight, random_state=self.random_state)
        if self.model == "lr":
            return LogisticRegression(C=C, class_weight=self.class_weight, max_iter=2000)
        raise ModelError(f"DemandClassifier model: expected 'svm', 'lr', 'ensemble' or 'ensemble+nb', "
                         f"found {self.model!r}")

    def _calibrated(self, est: Any, n_min: int) -> Any:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.model_selection import StratifiedKFold

        if self.calibration and n_min >= 2:
            cv = StratifiedKFold(n_splits=min(int(self.calibration_folds), n_min), shuffle=True,
                                 random_state=self.random_state)
            return CalibratedClassifierCV(est, method=self.calibration, cv=cv, ensemble=bool(self.calibration_ensemble))
        return est

    def _choose_C(self, F: Any, y: np.ndarray, n_min: int) -> float:
        """``C`` as given, or (``C="auto"``) the best of ``C_grid`` by macro-F1 in an inner stratified
        3-fold CV on the training messages only."""
        if not (isinstance(self.C, str) and self.C == "auto"):
            return float(self.C)
        grid = [float(c) for c in self.C_grid]
        if n_min < 2 or len(grid) == 1:
            return grid[len(grid) // 2]
        from sklearn.model_selection import GridSearchCV, StratifiedKFold

        cv = StratifiedKFold(n_splits=min(3, n_min), shuffle=True, random_state=self.random_state)
        search = GridSearchCV(self._linear(grid[0]), {"C": grid}, scoring="f1_macro", cv=cv).fit(F, y)
        return float(search.best_params_["C"])

    def _fit_classifier(self, F: Any, y: np.ndarray, n_min: int, sample_weight: np.ndarray | None = None) -> Any:
        if self.column_order not in (None, "df"):
            raise ModelError(f"DemandClassifier column_order: expected None or 'df', found {self.column_order!r}")
        import scipy.sparse as sp

        inv = None
        if self.column_order == "df" and self.model in ("svm", "lr") and sp.issparse(F):
            F, inv = _columns_by_frequency(F)
        clf = self._fit_classifier_raw(F, y, n_min, sample_weight)
        if inv is not None:
            del F  # the reordered copy, before the weights are put back in the features' order
            for m in _linear_models(clf):
                _reorder_columns(m.coef_, inv)
        if self.weights_dtype == "float32":
            # the weights are rounded to float32 values once, here: the model computes with exactly the
            # values it saves (as float32, see __getstate__), so predictions are identical after a round trip
            for m in _linear_models(clf):
                m.coef_ = _float32_values(m.coef_)
        elif self.weights_dtype != "float64":
            raise ModelError(f"DemandClassifier weights_dtype: expected 'float64' or 'float32', "
                             f"found {self.weights_dtype!r}")
        return clf

    def _fit_classifier_raw(self, F: Any, y: np.ndarray, n_min: int, sample_weight: np.ndarray | None = None) -> Any:
        C = self._choose_C(F, y, n_min)
        self.C_ = C
        if self.model in ("svm", "lr"):
            if sample_weight is not None:
                return self._calibrated(self._linear(C), n_min).fit(F, y, sample_weight=sample_weight)
            cal = self._calibrated(self._linear(C), n_min)
            from govml.text.tokenize import _n_jobs

            jobs = _n_jobs(self.n_jobs)
            # a tuned decision rule reads the calibration's out-of-fold decision values (no extra fit)
            oof: list[np.ndarray] | None = [] if self.decision_rule in _TUNED_RULES else None
            if jobs > 1 or oof is not None:
                fitted = _fit_calibrated_forked(cal, F, y, jobs, oof)
                if fitted is not None:
                    if oof:
                        self._oof_scores = oof[0]
                    return fitted
            fitted = cal.fit(F, y)
            if oof is not None and hasattr(fitted, "calibrated_classifiers_"):  # (no fork here: fitted again)
                from sklearn.model_selection import cross_val_predict

                self._oof_scores = cross_val_predict(clone(cal.estimator), F, y, cv=cal.cv, method="decision_function")
            return fitted
        if sample_weight is not None:
            raise ModelError(f"DemandClassifier: weighted pseudo-labels need model 'svm' or 'lr', not {self.model!r}")
        self._linear(C)  # validates the model name
        members, spans = [], []
        for lo, hi in self.blocks_.values():
            members.append(self._calibrated(self._linear(C), n_min).fit(F[:, lo:hi], y))
            spans.append((lo, hi))
        if self.model == "ensemble+nb":
            from sklearn.naive_bayes import ComplementNB

            members.append(self._calibrated(ComplementNB(), n_min).fit(F, y))
            spans.append((0, max(hi for _, hi in self.blocks_.values())))
        return _ProbaAverage(members, spans)

    def _texts(self, texts: list[str]) -> list[str]:
        """With ``title_repeat`` > 0, the first line of a multi-line text (the title when several text
        columns are joined, as ``govml demands train --text-col`` does) is repeated that many extra times."""
        n = int(self.title_repeat or 0)
        if n <= 0:
            return texts
        out = []
        for t in texts:
            head, sep, _ = t.partition("\n")
            out.append((head + "\n") * n + t if sep and head.strip() else t)
        return out

    def _block_spans(self) -> dict[str, tuple[int, int]]:
        spans, lo = {}, 0
        for name, vec in self.features_.transformer_list:
            vocab = getattr(vec, "vocabulary_", None)
            hi = lo + (len(vocab) if vocab is not None else len(vec.get_feature_names_out()))
            spans[name] = (lo, hi)
            lo = hi
        return spans

    def _transform(self, texts: list[str]) -> Any:
        import scipy.sparse as sp

        texts = self._texts(texts)
        F = _union_transform(self.features_, texts)
        if getattr(self, "lsa_", None) is not None:
            from sklearn.preprocessing import normalize

            F = sp.hstack([F, sp.csr_matrix(normalize(self.lsa_.transform(F)))]).tocsr()
        if getattr(self, "lexicon_x_", None) is not None:
            F = sp.hstack([F, float(self.lexicon_expand_weight) * self.lexicon_x_.transform(texts)]).tocsr()
        return F

    # -- fitting -----------------------------------------------------------------------------------
    def fit(self, X: Any, y: Sequence[Any], unlabeled: Any = None) -> DemandClassifier:
        texts = as_texts(X)
        y_list = list(y.to_numpy(dtype=object) if hasattr(y, "to_numpy") else y)
        if len(texts) != len(y_list):
            raise ModelError(f"DemandClassifier.fit: {len(texts)} texts but {len(y_list)} labels")
        keep, issues = check_labels(y_list, self.min_class_count)
        if not getattr(self, "_cv_fold_fit", False):  # a fold's positions are not the caller's: _cv_fold says it
            for issue in issues:
                rows = ", ".join(str(p) for p in issue.positions[:20])
                log.warning("label %r (%d row(s), positions %s): %s", issue.label, len(issue.positions), rows,
                            issue.reason)
        empty = np.array([not t.strip() for t in texts])
        if (empty & keep).any():
            log.warning("%d labelled message(s) have empty text and are excluded from training",
                        int((empty & keep).sum()))
        keep &= ~empty
        self.label_issues_ = issues
        self.n_excluded_ = int((~keep).sum())
        X_train = [t for t, k in zip(texts, keep, strict=True) if k]
        y_train = np.array([str(v).strip() for v, k in zip(y_list, keep, strict=True) if k], dtype=object)
        # one row order whatever the caller's: the same labelled messages sorted another way give the same model
        # (the calibration folds are drawn by position: 49 of 2,000 predictions had differed, session 15)
        order = _canonical_order(X_train, y_train)
        X_train, y_train = [X_train[i] for i in order], y_train[order]
        classes, counts = np.unique(y_train, return_counts=True)
        if len(classes) < 2:
            raise ModelError(f"DemandClassifier.fit: need at least 2 categories with {self.min_class_count}+ "
                             f"labelled messages each, found {len(classes)}")
        extra = [t for t in as_texts(unlabeled) if t.strip()] if unlabeled is not None else []
        if extra:  # a labelled message also given as unlabelled (e.g. the whole file) counts once
            seen = set(X_train)
            extra = sorted(t for t in extra if t not in seen)  # (one order, as the labelled ones)
        self.features_ = self._features(_has_title(X_train + extra))
        all_texts = self._texts(X_train + extra)
        F_all = _union_fit_transform(self.features_, all_texts)  # one pass over the text
        cache = _SHARED.get()
        if cache is not None and cache.release_after_features:  # the last fit of a shared_analysis block
            cache.release()
        self.blocks_ = self._block_spans()
        self.lsa_ = None
        self.lexicon_x_ = None
        n_lab = len(X_train)
        if self.lsa_components and extra:
            import scipy.sparse as sp
            from sklearn.decomposition import TruncatedSVD
            from sklearn.preprocessing import normalize

            k = int(min(self.lsa_components, F_all.shape[0] - 1, F_all.shape[1] - 1))
            self.lsa_ = TruncatedSVD(n_components=k, random_state=self.random_state).fit(F_all)
            F_all = sp.hstack([F_all, sp.csr_matrix(normalize(self.lsa_.transform(F_all)))]).tocsr()
        if self.lexicon_expand and extra:
            import scipy.sparse as sp

            expanded = self._expand_lexicon(F_all, all_texts)
            if expanded:
                self.lexicon_x_ = TopicLexiconFeatures(lexicon=expanded, tokenizer=self._tok()).fit(all_texts)
                F_all = sp.hstack([F_all, float(self.lexicon_expand_weight)
                                   * self.lexicon_x_.transform(all_texts)]).tocsr()
        F = F_all if F_all.shape[0] == n_lab else F_all[:n_lab]  # (a slice would copy it: memory)
        nb_only = self.em_nb is not None and float(self.em_nb) >= 1.0 and self.self_training is None
        self._check_rule()
        clf = None if nb_only else self._fit_classifier(F, y_train, int(counts.min()))
        self.n_pseudo_ = 0
        if self.self_training is not None and extra:
            clf = self._self_train(clf, F, y_train, F_all[n_lab:], classes, counts)
        self.em_nb_iter_ = 0
        if self.em_nb is not None and float(self.em_nb) > 0:
            clf = self._mix_em_nb(clf, F, y_train, F_all[n_lab:] if extra else None)
        self.classifier_ = clf
        self.classes_ = clf.classes_
        self.class_counts_ = dict(zip(classes.tolist(), counts.tolist(), strict=True))
        self.class_offsets_ = self._fit_rule(clf, self.__dict__.pop("_oof_scores", None), y_train, counts)
        self.n_unlabeled_ = len(extra)
        return self

    # -- the decision rule -------------------------------------------------------------------------
    def _check_rule(self) -> None:
        """The ``decision_rule`` is known, and the model has what it reads (before anything is fitted)."""
        rule = self.decision_rule
        if rule not in _DECISION_RULES:
            raise ModelError(f"DemandClassifier decision_rule: expected one of {list(_DECISION_RULES)}, found {rule!r}")
        if rule in ("proba", "prior"):
            return
        why = []
        if self.model not in ("svm", "lr"):
            why.append(f"model {self.model!r}")
        if rule in _TUNED_RULES and not self.calibration:
            why.append("calibration None")
        if rule in _TUNED_RULES and self.calibration_ensemble:
            why.append("calibration_ensemble=True")
        if self.em_nb is not None and float(self.em_nb) > 0:
            why.append("em_nb")
        if self.self_training is not None:
            why.append("self_training")
        if why:
            raise ModelError(f"DemandClassifier decision_rule={rule!r} reads one linear model's "
                             + ("out-of-fold calibration scores" if rule in _TUNED_RULES else "decision values")
                             + f": not available with {', '.join(why)} (use 'proba' or 'prior')")

    def _fit_rule(self, clf: Any, oof: np.ndarray | None, y: np.ndarray, counts: np.ndarray) -> np.ndarray | None:
        """``class_offsets_``: what the rule adds to the log-probabilities (decision values for the decision-space
        rules) before the argmax; None for ``"proba"`` (the plain argmax). ``oof``: the out-of-fold decision values
        of the calibration (rows in ``y``'s order), for the tuned rules."""
        rule = self.decision_rule
        k = len(clf.classes_)
        if rule == "proba":
            return None
        if rule == "decision":
            return np.zeros(k)
        if rule == "prior":  # (counts: np.unique's order, the classes' order)
            return -float(self.prior_power) * np.log(counts / counts.sum())
        if oof is None:
            log.warning("DemandClassifier decision_rule=%r: no out-of-fold scores (a class with fewer than 2 "
                        "messages: no calibration); predicting the argmax of %s", rule,
                        "the decision values" if rule in _DECISION_SPACE else "the probabilities")
            return np.zeros(k)
        logp = _log_proba(_calibrated_from_scores(clf.calibrated_classifiers_[0], oof))
        return _tune_offsets(logp, np.searchsorted(clf.classes_, y), _RULE_OFFSET_GRID, sweeps=_RULE_SWEEPS,
                             shrink=_RULE_SHRINK)

    def _decision_values(self, F: Any) -> np.ndarray:
        """The linear model's decision values (one column per class) for the decision-space rules."""
        clf = self.classifier_
        if hasattr(clf, "calibrated_classifiers_"):
            if len(clf.calibrated_classifiers_) != 1:
                raise ModelError("DemandClassifier: the decision rule needs calibration_ensemble=False")
            clf = clf.calibrated_classifiers_[0].estimator
        if not hasattr(clf, "decision_function"):
            raise ModelError(f"DemandClassifier decision_rule={self.decision_rule!r}: the fitted classifier "
                             f"({type(clf).__name__}) has no decision values")
        return _two_columns(clf.decision_function(F))

    def _decide(self, F: Any, proba: np.ndarray) -> np.ndarray:
        """Index of the predicted class per row: the argmax of the probabilities (``decision_rule="proba"``, and a
        model saved before the rule existed), else of the rule's scores plus ``class_offsets_``."""
        off = getattr(self, "class_offsets_", None)
        if off is None:
            return proba.argmax(axis=1)
        if self.decision_rule in _DECISION_SPACE:
            return (self._decision_values(F) + off).argmax(axis=1)
        return (_log_proba(proba) + off).argmax(axis=1)

    # -- unlabelled messages -----------------------------------------------------------------------
    def _self_train(self, clf: Any, F: Any, y: np.ndarray, Fu: Any, classes: np.ndarray, counts: np.ndarray) -> Any:
        """``self_training_rounds`` rounds of pseudo-labelling: unlabelled messages predicted with at least
        ``self_training`` confidence join the training set with weight ``self_training_weight``; with
        ``self_training_balance`` = b, at most ceil(k × b × labelled count) of each class in round k, the most
        confident first (so the pseudo-labels keep the labelled class mix instead of flooding the largest class,
        and grow round by round). Each round refits on the labelled messages + that round's pseudo-labels."""
        import scipy.sparse as sp

        n_min = int(counts.min())
        label_count = dict(zip(classes.tolist(), counts.tolist(), strict=True))
        sel = np.zeros(Fu.shape[0], dtype=bool)
        view = self._second_view() if self.self_training_agree else None
        if view is not None:  # a second model that sees another view of the text (labelled messages only)
            other = self._fit_classifier_raw(F[:, view], y, n_min)
            other_pred = other.classes_[_proba(other, Fu[:, view]).argmax(axis=1)]
        for k in range(1, max(1, int(self.self_training_rounds)) + 1):
            proba = _proba(clf, Fu)
            conf = proba.max(axis=1)
            pred = clf.classes_[proba.argmax(axis=1)]
            sel = conf >= float(self.self_training)
            if view is not None:
                sel &= other_pred == pred
            if self.self_training_balance is not None:
                capped = np.zeros_like(sel)
                for c in clf.classes_:
                    idx = np.flatnonzero(sel & (pred == c))
                    cap = int(np.ceil(k * float(self.self_training_balance) * label_count.get(c, 0)))
                    capped[idx[np.argsort(-conf[idx], kind="stable")[:cap]]] = True
                sel = capped
            if not sel.any():
                break
            w = np.r_[np.ones(F.shape[0]), np.full(int(sel.sum()), float(self.self_training_weight))]
            clf = self._fit_classifier(sp.vstack([F, Fu[sel]]).tocsr(), np.r_[y, pred[sel]], n_min,
                                       sample_weight=None if float(self.self_training_weight) == 1.0 else w)
        self.n_pseudo_ = int(sel.sum())
        return clf

    def _mix_em_nb(self, clf: Any, F: Any, y: np.ndarray, Fu: Any) -> _ProbaMix:
        """``clf`` mixed with a :class:`SemiSupervisedNB` (weight ``em_nb``) fitted by EM on the labelled features
        and those of the unlabelled messages (``Fu``; None: labels only), over the blocks ``em_nb_blocks``."""
        cols = None
        if self.em_nb_blocks is not None:
            unknown = [b for b in self.em_nb_blocks if b not in _BLOCK_NAMES]
            if unknown:
                raise ModelError(f"DemandClassifier em_nb_blocks: no feature block {unknown}; expected some of "
                                 f"{list(_BLOCK_NAMES)}")
            names = [b for b in self.em_nb_blocks if b in self.blocks_]  # e.g. title blocks: only for titled texts
            if not names:
                raise ModelError(f"DemandClassifier em_nb_blocks: none of {list(self.em_nb_blocks)} is a block of "
                                 f"this model ({list(self.blocks_)})")
            cols = np.concatenate([np.arange(*self.blocks_[b]) for b in names])
        nb = SemiSupervisedNB(alpha=self.em_nb_alpha, unlabeled_weight=self.em_nb_lambda, n_iter=self.em_nb_iter,
                              fit_prior=self.em_nb_prior, weights_dtype=self.weights_dtype,
                              balance_unlabeled=self.em_nb_balance)
        nb.fit(F if cols is None else F[:, cols], y, None if Fu is None else (Fu if cols is None else Fu[:, cols]))
        self.em_nb_iter_ = nb.n_iter_
        return _ProbaMix(clf, nb, float(self.em_nb), cols)

    def _second_view(self) -> np.ndarray:
        """Columns of the agreement model of ``self_training_agree``: the title blocks when the texts have a
        title, else the word and topic blocks (the character block left out)."""
        names = [n for n in ("title", "title_topic") if n in self.blocks_] or [
            n for n in ("word", "topic") if n in self.blocks_]
        return np.concatenate([np.arange(*self.blocks_[n]) for n in names])

    def _expand_lexicon(self, F_all: Any, texts: list[str]) -> dict[str, list[str]]:
        """The topic lexicon grown from the (labelled + unlabelled) text by co-occurrence, labels unused: for
        each word (a unigram of the word block, 2+ characters, in at least ``lexicon_expand_min_df`` messages,
        not already a term) the mean topic profile of the messages holding it; a word joins the topic that
        dominates that profile (share ≥ 0.5 and at least 3× the topic's corpus-wide mean), the
        ``lexicon_expand`` words with the highest share × log(document frequency) per topic. Returns
        ``{topic: new words}`` for topics that gained words ({} when none did): a block of its own beside the
        topic block, which counts the original terms."""
        lexicon = load_topic_lexicon() if self.lexicon is None else dict(self.lexicon)
        if "word" not in self.blocks_:
            return {}
        lo, hi = self.blocks_["word"]
        if "topic" in self.blocks_:
            tlo, thi = self.blocks_["topic"]
            T = F_all[:, tlo:thi]
        else:
            T = TopicLexiconFeatures(lexicon=lexicon, tokenizer=self._tok()).fit(texts).transform(texts)
        B = (F_all[:, lo:hi] > 0).astype(np.float64).tocsc()
        df = np.asarray(B.sum(axis=0)).ravel()
        words = dict(self.features_.transformer_list)["word"].get_feature_names_out()
        known = {t for ts in lexicon.values() for t in ts}
        ok = (df >= int(self.lexicon_expand_min_df)) & np.array(
            [" " not in w and len(w) >= 2 and w not in known for w in words], dtype=bool)
        if not ok.any():
            return {}
        cols = np.flatnonzero(ok)
        prof = np.asarray((B[:, cols].T @ T).todense() if hasattr(T, "todense") else B[:, cols].T @ T)
        prof = prof / df[cols][:, None]
        share = prof / np.maximum(prof.sum(axis=1, keepdims=True), 1e-12)
        base = np.asarray(T.mean(axis=0)).ravel()
        best = share.argmax(axis=1)
        rows = np.arange(len(cols))
        lift = prof[rows, best] / np.maximum(base[best], 1e-12)
        score = share[rows, best] * np.log(df[cols])
        good = (share[rows, best] >= 0.5) & (lift >= 3.0)
        topics = list(lexicon)
        out: dict[str, list[str]] = {}
        for j, topic in enumerate(topics):
            idx = np.flatnonzero(good & (best == j))
            idx = idx[np.argsort(-score[idx], kind="stable")][: int(self.lexicon_expand)]
            if len(idx):
                out[topic] = [str(words[cols[i]]) for i in idx]
        return out

    # -- persistence -------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """Pickle/cloudpickle/skops state, compact and lossless; the live model is not touched (what is
        replaced in the state is a copy):

        * each TF-IDF ``vocabulary_`` (a dict of up to ~10^5–10^6 terms, which skops would write item by
          item) as one uint8 array (:func:`_pack_vocabulary`), deflated (:func:`_zip_array`; files saved
          before hold it plain, and still load);
        * each TF-IDF ``idf_`` as its few distinct values and a uint8/uint16 index (:func:`_pack_levels`);
        * each linear model's ``coef_`` as a non-zero mask and the non-zero values, float32 when they are
          all float32 numbers (:func:`_pack_weights`), both deflated.

        Every array comes back bit for bit, so predictions are identical after a round trip. Inside
        :func:`reuse_state` the state is made once per model (``skops.io.dump`` asks for it twice)."""
        memo = _STATE_MEMO.get()
        if memo is not None:
            hit = memo.get(id(self))
            if hit is not None and hit[0] is self:
                return dict(hit[1])
        state = self._packed_state()
        if memo is not None:
            memo[id(self)] = (self, state)
            return dict(state)
        return state

    def _packed_state(self) -> dict[str, Any]:
        state = super().__getstate__()
        features = state.get("features_")
        if features is not None and hasattr(features, "transformer_list"):
            packed, idfs, blocks = {}, {}, []
            for name, vec in features.transformer_list:
                arr = _pack_vocabulary(getattr(vec, "vocabulary_", None))
                tfidf = getattr(vec, "_tfidf", None)
                idf = _pack_levels(getattr(tfidf, "idf_", None)) if tfidf is not None else None
                if arr is not None or idf is not None:
                    vec = copy.copy(vec)
                if arr is not None:
                    del vec.vocabulary_
                    packed[name] = _zip_array(arr)
                if idf is not None:
                    vec._tfidf = copy.copy(tfidf)
                    del vec._tfidf.idf_
                    idfs[name] = idf
                blocks.append((name, vec))
            if packed or idfs:
                features = copy.copy(features)
                features.transformer_list = blocks
                state = dict(state, features_=features)
                if packed:
                    state["_packed_vocabularies_"] = packed
                if idfs:
                    state["_packed_idf_"] = idfs
        clf = state.get("classifier_")
        if clf is not None:
            coefs = [m.coef_ for m in _linear_models(clf)]
            weights = [_pack_weights(c) for c in coefs]
            if any(w is not None for w in weights):
                # a copy of the classifier without the packed weight arrays (memo: those are never copied)
                memo = {id(c): None for c, w in zip(coefs, weights, strict=True) if w is not None}
                state = dict(state, classifier_=copy.deepcopy(clf, memo), _packed_weights_=weights)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        packed = state.pop("_packed_vocabularies_", None)
        idfs = state.pop("_packed_idf_", None)
        weights = state.pop("_packed_weights_", None)
        if packed or idfs:
            for name, vec in state["features_"].transformer_list:
                if packed and name in packed:
                    vec.vocabulary_ = _unpack_vocabulary(_unzip_array(packed[name]))
                if idfs and name in idfs:
                    vec._tfidf.idf_ = _unpack_levels(idfs[name])
        if weights:
            for m, w in zip(_linear_models(state["classifier_"]), weights, strict=True):
                if w is not None:
                    m.coef_ = _unpack_weights(w)
        super().__setstate__(state)  # FillsMissingParams: parameters added since the model was saved (_OLD_DEFAULTS)

    # -- predicting --------------------------------------------------------------------------------
    def _check(self) -> None:
        if not hasattr(self, "classifier_"):
            raise ModelError("DemandClassifier: not fitted (call fit first, or load a trained model)")

    def predict_proba(self, X: Any) -> np.ndarray:
        self._check()
        return _proba(self.classifier_, self._transform(as_texts(X)))

    def predict(self, X: Any) -> np.ndarray:
        self._check()
        F = self._transform(as_texts(X))
        return self.classes_[self._decide(F, _proba(self.classifier_, F))]

    def predict_frame(self, X: Any, ids: Sequence[Any] | None = None, known_words: bool = False) -> pd.DataFrame:
        """``id, category_pred, confidence``; empty texts get no category and confidence 0.

        ``known_words=True`` adds a column ``known_words``: how many distinct terms of the word block's
        vocabulary (the words and word pairs of the training messages) each text holds, read from the
        features the prediction computes anyway; 0 for a text with words means it shares no word with the
        training messages, so its category is a guess (``govml demands classify`` says so). The column is
        left out when the model has no word block (``word_ngrams=None``)."""
        self._check()
        texts = as_texts(X)
        F = self._transform(texts)
        proba = _proba(self.classifier_, F)
        idx = self._decide(F, proba)
        pred = self.classes_[idx].astype(object)
        conf = proba[np.arange(len(idx)), idx]  # the predicted category's probability (the max under "proba")
        empty = np.array([not t.strip() for t in texts], dtype=bool)
        if empty.any():
            log.warning("%d message(s) have empty text: no category predicted (confidence 0)", int(empty.sum()))
            pred[empty] = None
            conf[empty] = 0.0
        frame = pd.DataFrame({
            "id": list(ids) if ids is not None else list(range(len(texts))),
            "category_pred": pd.Series(pred, dtype="string"),
            "confidence": np.round(conf, 4),
        })
        span = (getattr(self, "blocks_", None) or self._block_spans()).get("word") if known_words else None
        if span is not None:
            inside = np.r_[0, np.cumsum((F.indices >= span[0]) & (F.indices < span[1]))]
            frame["known_words"] = inside[F.indptr[1:]] - inside[F.indptr[:-1]]
        return frame


# ---------------------------------------------------------------------------------------------------


def _canonical_order(texts: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Positions of ``texts``/``labels`` sorted by (text, label): the order fits and folds read labelled rows in."""
    return np.array(sorted(range(len(texts)), key=lambda i: (texts[i], labels[i])), dtype=np.intp)


def cross_validate_classifier(
    texts: Any,
    labels: Sequence[Any],
    unlabeled: Any = None,
    cv: int = 5,
    seed: int = 0,
    estimator: DemandClassifier | Any | None = None,
    progress: Any = None,
) -> dict[str, Any]:
    """Stratified ``cv``-fold cross-validation. Returns a report dict::

        {"macro_f1": mean, "macro_f1_sd": sd, "accuracy": pooled, "fold_macro_f1": [...],
         "fold_accuracy": [...], "per_class": {label: {precision, recall, f1, support}},
         "labels": [...], "confusion": [[...]], "n": n, "n_excluded": k, "cv": cv}

    Rows whose label cannot be learned (see :func:`check_labels`) or whose text is empty are left
    out of the folds (``n_excluded``). ``estimator`` defaults to ``DemandClassifier()`` (any sklearn
    classifier over raw texts works; ``unlabeled`` is passed to ``fit`` when it accepts it).
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
    from sklearn.model_selection import StratifiedKFold

    X = as_texts(texts)
    y_list = list(labels.to_numpy(dtype=object) if hasattr(labels, "to_numpy") else labels)
    keep, _ = check_labels(y_list, max(2, cv))
    keep &= np.array([bool(t.strip()) for t in X])
    Xk = np.array([t for t, k in zip(X, keep, strict=True) if k], dtype=object)
    yk = np.array([str(v).strip() for v, k in zip(y_list, keep, strict=True) if k], dtype=object)
    order = _canonical_order(Xk, yk)  # the folds are drawn by position: one order whatever the caller's
    Xk, yk = Xk[order], yk[order]
    if len(np.unique(yk)) < 2:
        raise ModelError(f"cross-validation needs at least 2 categories with {cv}+ labelled messages each")
    est = estimator if estimator is not None else DemandClassifier()
    skf = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    pred = np.empty(len(yk), dtype=object)
    fold_f1, fold_acc = [], []
    with shared_analysis() as shared:  # each text analysed once for all folds (same results)
        if isinstance(est, DemandClassifier):
            shared.expect(est._texts([*Xk.tolist(), *(as_texts(unlabeled) if unlabeled is not None else [])]))
        for i, (tr, te) in enumerate(skf.split(Xk, yk)):
            _cv_fold(est, Xk, yk, tr, te, unlabeled, pred, fold_f1, fold_acc)
            if progress is not None:
                progress(i + 1)
    labs = sorted(np.unique(yk).tolist())
    prec, rec, f1, sup = precision_recall_fscore_support(yk, pred, labels=labs, zero_division=0)
    return {
        "macro_f1": float(np.mean(fold_f1)),
        "macro_f1_sd": float(np.std(fold_f1, ddof=1)) if len(fold_f1) > 1 else 0.0,
        "accuracy": float(accuracy_score(yk, pred)),
        "fold_macro_f1": fold_f1,
        "fold_accuracy": fold_acc,
        "per_class": {lab: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                      for lab, p, r, f, s in zip(labs, prec, rec, f1, sup, strict=True)},
        "labels": labs,
        "confusion": confusion_matrix(yk, pred, labels=labs).tolist(),
        "n": int(len(yk)),
        "n_excluded": int((~keep).sum()),
        "cv": cv,
        "seed": seed,
    }


def _cv_fold(est: Any, Xk: np.ndarray, yk: np.ndarray, tr: np.ndarray, te: np.ndarray, unlabeled: Any,
             pred: np.ndarray, fold_f1: list[float], fold_acc: list[float]) -> None:
    from sklearn.metrics import accuracy_score, f1_score

    model = clone(est)
    if isinstance(model, DemandClassifier):
        model._cv_fold_fit = True  # its label check runs on the fold's training part: said here, by label
    if unlabeled is not None and _accepts_unlabeled(model):
        model.fit(list(Xk[tr]), yk[tr], unlabeled=unlabeled)
    else:
        model.fit(list(Xk[tr]), yk[tr])
    short = [i for i in getattr(model, "label_issues_", []) if i.label]
    if short:  # a category with about min_class_count messages has fewer in a fold's training part
        log.warning("cross-validation fold %d: %s left out of the fold's model (fewer than %d training messages "
                    "in the fold); their %d test message(s) in the fold count as misclassified",
                    len(fold_f1) + 1, ", ".join(f"{i.label!r} ({len(i.positions)})" for i in short),
                    model.min_class_count, int(np.isin(yk[te], [i.label for i in short]).sum()))
    p = model.predict(list(Xk[te]))
    pred[te] = p
    fold_f1.append(float(f1_score(yk[te], p, average="macro")))
    fold_acc.append(float(accuracy_score(yk[te], p)))


def _fit_calibrated_forked(cal: Any, F: Any, y: np.ndarray, jobs: int, scores: list[Any] | None = None) -> Any:
    """``cal.fit(F, y)`` of a ``CalibratedClassifierCV(ensemble=False)`` with its linear-model fits side by side:
    this process fits the model on all messages, then takes the internal CV's folds that ``jobs - 1`` forked
    children have not taken (each child: one fold's model at a time, its decision values on the fold's held-out
    part sent back). The same steps as scikit-learn's (``cross_val_predict`` with the labels encoded, the
    fold's rows cut as ``F[train]``, each fit seeded by the estimator's ``random_state``), so the model is bit
    for bit the serial one; the warnings of the children's fits are raised here. None when this cannot be done
    (another calibration, no ``fork``, a daemon process, a fold without every class, an unknown scikit-learn
    layout): the caller fits as usual. A fold a child did not deliver is fitted here.

    Why not scikit-learn's own ``CalibratedClassifierCV(n_jobs=...)`` (tried in session 13): it runs the folds
    in joblib's loky workers, which cap BLAS threads — the ``lr`` model's sigmoid calibrators then differ in the
    last bits from the serial fit —, drop the workers' ConvergenceWarnings (1 of 4 reached the caller), copy the
    feature matrix to each worker, and fit the model on all messages after the folds, not beside them.

    ``scores`` (a list): the out-of-fold decision values the calibrators were fitted on are appended to it (n × k;
    n × 1 for two classes) — what ``DemandClassifier``'s tuned ``decision_rule`` reads; ``jobs`` 1 fits in turn."""
    import inspect
    import multiprocessing as mp
    import threading
    import warnings

    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.preprocessing import LabelEncoder

    try:
        from sklearn.calibration import _fit_calibrator
    except ImportError:  # pragma: no cover (scikit-learn moved it)
        return None
    if (type(cal) is not CalibratedClassifierCV or cal.ensemble is not False or cal.method not in ("sigmoid", "isotonic")
            or not hasattr(cal.cv, "split") or not hasattr(cal.estimator, "decision_function")
            or list(inspect.signature(_fit_calibrator).parameters)[:6] != ["clf", "predictions", "y", "classes",
                                                                          "method", "xp"]
            or "fork" not in mp.get_all_start_methods() or mp.current_process().daemon):
        return None
    y = np.asarray(y)
    classes = LabelEncoder().fit(y).classes_
    if len(classes) < 2 or np.unique(y, return_counts=True)[1].min() < cal.cv.get_n_splits():
        return None  # (scikit-learn refuses it with its own message)
    splits = list(cal.cv.split(F, y))
    y_enc = LabelEncoder().fit_transform(y)
    n_children = min(jobs - 1, len(splits))

    def fold(i: int) -> tuple[np.ndarray, list[Any]]:
        tr, te = splits[i]
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            m = clone(cal.estimator).fit(F[tr], y_enc[tr])
            if len(m.classes_) != len(classes):  # pragma: no cover (stratified folds hold every class)
                raise ModelError("a calibration fold lacks a category")
            pred = m.decision_function(F[te])
        return pred, [(w.message, w.category) for w in said]

    ctx = mp.get_context("fork")
    counter = ctx.Value("q", 0)

    def claim() -> int:
        with counter.get_lock():
            i = counter.value
            counter.value = i + 1
        return i

    results: list[Any] = [None] * len(splits)
    children, readers = [], []
    try:
        for _ in range(n_children):
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_calibration_child, args=(fold, claim, len(splits), send), daemon=True)
            proc.start()
            send.close()
            children.append((proc, recv))
        for _, recv in children:  # threads only after the last fork
            reader = threading.Thread(target=_calibration_collect, args=(recv, results), daemon=True)
            reader.start()
            readers.append(reader)
        full = clone(cal.estimator).fit(F, y)
        while (i := claim()) < len(splits):
            results[i] = fold(i)
        for reader in readers:
            reader.join()
    finally:
        for proc, recv in children:
            recv.close()
            if any(r.is_alive() for r in readers):  # pragma: no cover (only after an error here)
                proc.terminate()
            proc.join(timeout=10)
            if proc.is_alive():  # pragma: no cover — it has sent all it had (its pipe is closed) but hangs on exit
                proc.terminate()
                proc.join()
    for i, got in enumerate(results):
        if got is None:  # a child failed (its error, if any, comes again here)
            results[i] = fold(i)
    for _, said in results:
        for message, category in said:
            warnings.warn(message, category, stacklevel=2)
    test = np.concatenate([te for _, te in splits])
    inv = np.empty(len(test), dtype=int)
    inv[test] = np.arange(len(test))
    predictions = np.concatenate([p for p, _ in results])[inv]
    if len(classes) == 2:
        predictions = predictions.reshape(-1, 1)
    if scores is not None:
        scores.append(predictions)
    cal.classes_ = classes
    cal.calibrated_classifiers_ = [_fit_calibrator(full, predictions, y, classes, cal.method, xp=np)]
    if hasattr(full, "n_features_in_"):
        cal.n_features_in_ = full.n_features_in_
    return cal


def _calibration_child(fold: Any, claim: Any, n: int, send: Any) -> None:
    """A forked child of :func:`_fit_calibrated_forked`: fits folds until none is left, sending each result."""
    try:
        while (i := claim()) < n:
            try:
                send.send((i, fold(i)))
            except Exception:  # noqa: BLE001 — the parent fits this fold itself (and says its error)
                send.send((i, None))
    finally:
        send.close()


def _calibration_collect(recv: Any, results: list[Any]) -> None:
    """Thread of :func:`_fit_calibrated_forked`: stores a child's fold results as they come."""
    try:
        while True:
            i, got = recv.recv()
            if got is not None:
                results[i] = got
    except (EOFError, OSError):
        pass


def _accepts_unlabeled(model: Any) -> bool:
    import inspect

    try:
        return "unlabeled" in inspect.signature(model.fit).parameters
    except (TypeError, ValueError):
        return False
