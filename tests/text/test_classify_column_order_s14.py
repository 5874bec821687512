"""DemandClassifier(column_order="df"): the linear-model fits read the feature columns ordered by document frequency
(most frequent first) and the weights are put back in the features' order (issue 3, session 14: less CPU per SVM fit
with many features). The same model up to float64 round-off: here the predictions are those of the default, the
probabilities within 1e-6, the float64 weights within 1e-9 relative; saved, loaded and cloned with the option; a
model saved before the parameter existed loads and refits as it was trained."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import skops.io as sio
from sklearn.base import clone

from govml.errors import ModelError
from govml.text import classify
from govml.text.classify import DemandClassifier, _columns_by_frequency, _linear_models, _reorder_columns
from text_vocab import topic_messages


def _messages(n_per: int, seed: int = 0) -> tuple[list[str], list[str]]:
    return topic_messages(n_per, seed=seed, mix=0.3)


def _coefs(model: DemandClassifier) -> list[np.ndarray]:
    return [m.coef_ for m in _linear_models(model.classifier_)]


def test_columns_by_frequency_renames_the_columns_and_leaves_the_matrix_alone():
    rng = np.random.default_rng(0)
    dense = rng.random((30, 12)) * (rng.random((30, 12)) < rng.random(12))  # column densities 0–1
    F = sp.csr_array(dense)
    for i in range(F.shape[0]):  # rows unsorted, as scikit-learn's TF-IDF leaves them
        lo, hi = F.indptr[i], F.indptr[i + 1]
        F.indices[lo:hi], F.data[lo:hi] = F.indices[lo:hi][::-1].copy(), F.data[lo:hi][::-1].copy()
    F.has_sorted_indices = False
    before = (F.data.copy(), F.indices.copy(), F.indptr.copy())
    Fp, inv = _columns_by_frequency(F)
    assert all(np.array_equal(a, b) for a, b in zip(before, (F.data, F.indices, F.indptr), strict=True))
    assert np.array_equal(Fp.toarray()[:, inv], dense)
    df = np.diff(Fp.tocsc().indptr)
    assert (np.diff(df) <= 0).all() and df[0] == (dense != 0).sum(axis=0).max()
    assert Fp.has_sorted_indices
    w = rng.random((3, 12))
    got = w.copy()
    _reorder_columns(got, inv)
    assert np.array_equal(got, w[:, inv])  # weights of Fp's columns, in F's order


@pytest.mark.parametrize(("model", "dtype", "rtol"), [
    ("svm", "float64", 1e-9),
    ("svm", "float32", 2.0 ** -22),  # float32 weights: one may round 1 ulp apart
    ("lr", "float32", 2.0 ** -22),
], ids=["svm-float64", "svm-float32", "lr-float32"])
def test_the_option_gives_the_default_model_up_to_round_off(model, dtype, rtol, monkeypatch):
    texts, labels = _messages(14)
    new, _ = _messages(8, seed=1)
    calls = []
    real = classify._columns_by_frequency

    def spy(F):
        Fp, inv = real(F)
        calls.append((F.shape, np.diff(Fp.tocsc().indptr)))
        return Fp, inv

    monkeypatch.setattr(classify, "_columns_by_frequency", spy)
    base = DemandClassifier(model=model, weights_dtype=dtype).fit(texts, labels)
    assert not calls
    ordered = DemandClassifier(model=model, weights_dtype=dtype, column_order="df").fit(texts, labels)
    assert len(calls) == 1
    shape, df = calls.pop()
    assert shape == (len(texts), ordered.classifier_.n_features_in_) and (np.diff(df) <= 0).all()
    assert df[0] > df[-1]  # the order did change
    for a, b in zip(_coefs(base), _coefs(ordered), strict=True):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=1e-12)
    assert np.array_equal(ordered.predict(new), base.predict(new))
    np.testing.assert_allclose(ordered.predict_proba(new), base.predict_proba(new), rtol=0, atol=1e-6)


def test_cross_validation_with_the_option_gives_the_same_predictions():
    texts, labels = _messages(12, seed=2)
    base = classify.cross_validate_classifier(texts, labels, cv=3)
    ordered = classify.cross_validate_classifier(texts, labels, cv=3, estimator=DemandClassifier(column_order="df"))
    assert ordered["confusion"] == base["confusion"] and ordered["fold_macro_f1"] == base["fold_macro_f1"]


def test_saved_loaded_and_cloned_with_the_option():
    texts, labels = _messages(10, seed=3)
    new, _ = _messages(5, seed=4)
    est = DemandClassifier(column_order="df").fit(texts, labels)
    want = est.predict_proba(new)
    data = sio.dumps(est)
    for back in (sio.loads(data, trusted=sio.get_untrusted_types(data=data)), pickle.loads(pickle.dumps(est))):
        assert back.get_params()["column_order"] == "df"
        assert back.predict_proba(new).tobytes() == want.tobytes()
    twin = clone(est)
    assert twin.get_params() == est.get_params() and not hasattr(twin, "classifier_")
    assert twin.fit(texts, labels).predict_proba(new).tobytes() == want.tobytes()  # the fit is deterministic


def test_a_model_saved_before_the_option_loads_predicts_and_refits_as_trained(monkeypatch):
    texts, labels = _messages(10, seed=5)
    new, _ = _messages(5, seed=6)
    old = DemandClassifier().fit(texts, labels)
    want = old.predict_proba(new)
    # the state main's code saved: this code's packed state without the new parameter
    real = DemandClassifier.__getstate__
    monkeypatch.setattr(DemandClassifier, "__getstate__",
                        lambda self: {k: v for k, v in real(self).items() if k != "column_order"})
    data = sio.dumps(old)
    pickled = pickle.dumps(old)
    monkeypatch.undo()
    assert b"column_order" not in pickled
    for loaded in (sio.loads(data, trusted=sio.get_untrusted_types(data=data)), pickle.loads(pickled)):
        assert loaded.get_params()["column_order"] is None
        assert loaded.predict_proba(new).tobytes() == want.tobytes()
        assert clone(loaded).fit(texts, labels).predict_proba(new).tobytes() == want.tobytes()


def test_an_unknown_column_order_is_refused():
    texts, labels = _messages(4, seed=7)
    with pytest.raises(ModelError, match="column_order"):
        DemandClassifier(column_order="alphabetical").fit(texts, labels)
