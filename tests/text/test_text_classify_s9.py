"""Session 9 (issue 3, the cost of `govml demands train` / `classify`): shared text analysis gives the same
models bit for bit; the vocabulary check comes from the prediction's own features."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from govml.text import classify
from govml.text.classify import DemandClassifier, cross_validate_classifier, shared_analysis


@pytest.fixture(scope="module")
def messages(samples_dir: Path) -> tuple[list[str], list[str]]:
    """600 sample messages as 'title\\ndetails' (the title: the text up to its first comma), with labels."""
    df = pd.read_csv(samples_dir / "messages.csv", dtype=str).dropna(subset=["text", "category"]).head(600)
    texts = [t.replace("，", "\n", 1) for t in df["text"]]
    return texts, df["category"].tolist()


def _assert_same_fitted(a: DemandClassifier, b: DemandClassifier) -> None:
    for (name, va), (_, vb) in zip(a.features_.transformer_list, b.features_.transformer_list, strict=True):
        assert sorted(vars(va)) == sorted(vars(vb)), name
        if hasattr(va, "vocabulary_"):
            assert list(va.vocabulary_.items()) == list(vb.vocabulary_.items()), name  # same numbering and order
            assert va._tfidf.idf_.tobytes() == vb._tfidf.idf_.tobytes(), name
    for ma, mb in zip(classify._linear_models(a.classifier_), classify._linear_models(b.classifier_), strict=True):
        assert ma.coef_.tobytes() == mb.coef_.tobytes()


@pytest.mark.parametrize("params", [{}, {"char_min_df": 2, "word_ngrams": (1, 1)}])
def test_shared_analysis_fits_the_same_model_bit_for_bit(messages, params) -> None:
    texts, labels = messages
    train, test = slice(0, 450), slice(450, 600)
    est = DemandClassifier(**params)
    plain = clone(est).fit(texts[train], labels[train])
    with shared_analysis():
        # another subset first: its terms are numbered in another order than the fit below meets them
        clone(est).fit(texts[150:], labels[150:])
        shared = clone(est).fit(texts[train], labels[train])
        p_shared = shared.predict_proba(texts[test])
        F_shared = shared._transform(texts[train])
        A = est._features(True).fit_transform(texts[train]).tocsr()
        B = classify._union_fit_transform(est._features(True), texts[train])
    assert set(shared.blocks_) == {"word", "char", "topic", "title", "title_topic"}
    _assert_same_fitted(plain, shared)
    assert plain.predict_proba(texts[test]).tobytes() == p_shared.tobytes()
    F_plain = plain._transform(texts[train])
    for M, N in ((F_plain, F_shared), (A, B)):  # the same entries, stored in the same order
        assert np.array_equal(M.indptr, N.indptr) and np.array_equal(M.indices, N.indices)
        assert M.data.tobytes() == N.data.tobytes()


def test_shared_analysis_with_unlabelled_messages_and_naive_bayes(messages) -> None:
    texts, labels = messages
    est = DemandClassifier(em_nb=0.3)
    plain = clone(est).fit(texts[:300], labels[:300], unlabeled=texts[200:])
    with shared_analysis():
        shared = clone(est).fit(texts[:300], labels[:300], unlabeled=texts[200:])
        p_shared = shared.predict_proba(texts[300:])
    assert shared.n_unlabeled_ == 300
    _assert_same_fitted(plain, shared)
    assert plain.predict_proba(texts[300:]).tobytes() == p_shared.tobytes()


@contextlib.contextmanager
def _no_sharing():
    class _Nothing:
        def expect(self, texts):
            pass

    yield _Nothing()


def test_cross_validation_report_is_unchanged_by_the_shared_analysis(messages, monkeypatch) -> None:
    texts, labels = messages
    shared = cross_validate_classifier(texts[:400], labels[:400], cv=3, seed=1)
    monkeypatch.setattr(classify, "shared_analysis", _no_sharing)
    plain = cross_validate_classifier(texts[:400], labels[:400], cv=3, seed=1)
    assert shared == plain


def test_known_words_come_from_the_prediction_features(messages) -> None:
    texts, labels = messages
    model = DemandClassifier().fit(texts[:300], labels[:300])
    new = [*texts[300:340], "hello world, nothing here", "", "   ", "Zzzz qqqq 12345"]
    frame = model.predict_frame(new, known_words=True)
    word = dict(model.features_.transformer_list)["word"]
    old = np.diff(word.transform(new).tocsr().indptr)  # what `govml demands classify` computed before: a 2nd pass
    assert frame["known_words"].tolist() == old.tolist()
    assert frame["known_words"].iloc[-4:].tolist() == [0, 0, 0, 0] and (frame["known_words"].iloc[:40] > 0).all()
    plain = model.predict_frame(new)
    assert "known_words" not in plain.columns
    assert plain.equals(frame.drop(columns="known_words"))
    no_words = DemandClassifier(word_ngrams=None).fit(texts[:300], labels[:300])
    assert "known_words" not in no_words.predict_frame(new, known_words=True).columns


def test_shared_analysis_nests_and_ends_with_its_block(messages) -> None:
    texts, labels = messages
    with shared_analysis() as outer:
        with shared_analysis() as inner:
            assert inner is outer
        DemandClassifier().fit(texts[:100], labels[:100])
        assert outer.blocks  # the block's analyses were kept
    assert classify._SHARED.get() is None


def test_prediction_features_are_counted_as_scikit_learn_counts_them(messages) -> None:
    texts, labels = messages
    model = DemandClassifier().fit(texts[:300], labels[:300])
    new = [*texts[300:], "", "hello world", "物业物业物业费"]
    fast = classify._union_transform(model.features_, new)
    plain = model.features_.transform(new)  # scikit-learn's own transform of every block
    assert np.array_equal(fast.indptr, plain.indptr) and np.array_equal(fast.indices, plain.indices)
    assert fast.data.tobytes() == plain.data.tobytes()
    topic = dict(model.features_.transformer_list)["topic"]
    counts = classify._vocabulary_counts(topic.counter_, new)
    expected = topic.counter_.transform(new)
    assert (counts != expected).nnz == 0 and np.array_equal(counts.indices, expected.indices)
    assert counts.dtype == expected.dtype and counts.sum() > 0
