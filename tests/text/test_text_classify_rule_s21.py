"""The decision rule of ``DemandClassifier`` (issue 3, session 21): ``decision_rule="proba"`` (the default) predicts the
argmax of the calibrated probabilities exactly as before; ``"prior"`` divides them by the training class shares to
the power ``prior_power``; ``"decision"`` takes the argmax of the linear model's decision values; ``"offsets"`` adds
per-class offsets to the log-probabilities, tuned for macro-F1 on the calibration's out-of-fold scores. The
probabilities (and so the confidence of a predicted class) are those of the default model under every rule; the
rule is learned inside ``fit`` (``class_offsets_``), cloned, pickled, and a model saved before it predicts as before."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import f1_score
from sklearn.model_selection import cross_val_predict

from govml.errors import ModelError
from govml.text.classify import (
    DemandClassifier,
    _calibrated_from_scores,
    _macro_f1_idx,
    _tune_offsets,
)
from old_models import old_file

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples" / "messages.csv"


@pytest.fixture(scope="module")
def rare():
    """Two large categories (A parking, B heating) and a rare one (R: a parking message with the start of a noise
    message appended — a weak marker), 9 of R in training: the calibrated argmax misses most held-out R messages."""
    df = pd.read_csv(SAMPLES)
    A = df[df.category == "停车管理"].text.sample(120, random_state=0).tolist()
    B = df[df.category == "供暖供水"].text.sample(80, random_state=0).tolist()
    N = df[df.category == "噪声扰民"].text.sample(40, random_state=0).tolist()
    R = [a + "。另外" + n[:12] for a, n in zip(A[80:], N, strict=True)]
    X, y = A[:60] + B[:60] + R[:9], ["A"] * 60 + ["B"] * 60 + ["R"] * 9
    Xt, yt = A[60:80] + B[60:80] + R[9:], np.array(["A"] * 20 + ["B"] * 20 + ["R"] * 31, dtype=object)
    return X, y, Xt, yt


@pytest.fixture(scope="module")
def plain(rare):
    X, y, _, _ = rare
    return DemandClassifier().fit(X, y)


def _recall(pred, yt, label):
    return float(np.mean(pred[yt == label] == label))


def test_default_rule_is_the_argmax_of_the_probabilities(rare, plain):
    _, _, Xt, _ = rare
    assert plain.decision_rule == "proba" and plain.class_offsets_ is None
    proba = plain.predict_proba(Xt)
    assert np.array_equal(plain.predict(Xt), plain.classes_[proba.argmax(axis=1)])
    frame = plain.predict_frame(Xt)
    assert frame["category_pred"].tolist() == list(plain.classes_[proba.argmax(axis=1)])
    assert np.array_equal(frame["confidence"].to_numpy(), np.round(proba.max(axis=1), 4))


@pytest.mark.parametrize("rule", ["prior", "decision", "offsets"])
def test_every_rule_keeps_the_default_models_probabilities(rare, plain, rule):
    X, y, Xt, _ = rare
    m = DemandClassifier(decision_rule=rule).fit(X, y)
    assert np.array_equal(m.predict_proba(Xt), plain.predict_proba(Xt))  # the same calibrated model, bit for bit
    proba, pred = m.predict_proba(Xt), m.predict(Xt)
    frame = m.predict_frame(Xt)
    assert frame["category_pred"].tolist() == list(pred)
    idx = np.searchsorted(m.classes_, pred)  # the confidence is the predicted category's probability
    assert np.array_equal(frame["confidence"].to_numpy(), np.round(proba[np.arange(len(idx)), idx], 4))


def test_offsets_raise_the_rare_class_recall_the_calibrated_argmax_misses(rare, plain):
    X, y, Xt, yt = rare
    base = plain.predict(Xt)
    assert _recall(base, yt, "R") < 0.2  # the constructed case: the default misses most of R
    m = DemandClassifier(decision_rule="offsets").fit(X, y)
    off = dict(zip(m.classes_, m.class_offsets_, strict=True))
    assert off["R"] > off["A"] and off["R"] > off["B"]  # tuned on the training part's out-of-fold scores
    pred = m.predict(Xt)
    assert _recall(pred, yt, "R") > _recall(base, yt, "R") + 0.1
    assert f1_score(yt, pred, average="macro") > f1_score(yt, base, average="macro")
    assert np.array_equal(pred, m.classes_[(np.log(m.predict_proba(Xt)) + m.class_offsets_).argmax(axis=1)])


def test_prior_rule_divides_by_the_class_shares_to_a_power(rare, plain):
    X, y, Xt, yt = rare
    share = np.array([60, 60, 9]) / 129
    recalls = []
    for g in (0.25, 1.0):
        m = DemandClassifier(decision_rule="prior", prior_power=g).fit(X, y)
        assert np.allclose(m.class_offsets_, -g * np.log(share))
        p = m.predict_proba(Xt)
        assert np.array_equal(m.predict(Xt), m.classes_[(p / share**g).argmax(axis=1)])
        recalls.append(_recall(m.predict(Xt), yt, "R"))
    assert _recall(plain.predict(Xt), yt, "R") < recalls[0] < recalls[1]


def test_decision_rule_is_the_argmax_of_the_svm_scores(rare):
    X, y, Xt, _ = rare
    m = DemandClassifier(decision_rule="decision").fit(X, y)
    svm = m.classifier_.calibrated_classifiers_[0].estimator
    d = svm.decision_function(m._transform(Xt))
    assert np.array_equal(m.predict(Xt), m.classes_[d.argmax(axis=1)])
    two = DemandClassifier(decision_rule="decision").fit(X[:120], y[:120])  # two classes: one score column
    d2 = two.classifier_.calibrated_classifiers_[0].estimator.decision_function(two._transform(Xt))
    assert np.array_equal(two.predict(Xt), two.classes_[(d2 > 0).astype(int)])


def test_offsets_are_tuned_on_the_calibrations_out_of_fold_scores(rare):
    X, y, _, _ = rare
    seen = {}
    orig = DemandClassifier._fit_rule

    def spy(self, clf, oof, yy, counts):
        seen.update(oof=oof, y=yy)
        return orig(self, clf, oof, yy, counts)

    DemandClassifier._fit_rule = spy
    try:
        m = DemandClassifier(decision_rule="offsets").fit(X, y)
    finally:
        DemandClassifier._fit_rule = orig
    order = sorted(range(len(X)), key=lambda i: (X[i], y[i]))  # fit reads the labelled rows in this order
    Xs = [X[i] for i in order]
    assert list(seen["y"]) == [y[i] for i in order]
    F = m._transform(Xs)
    cal = m._calibrated(m._linear(m.C_), 9)
    want = cross_val_predict(clone(cal.estimator), F, seen["y"], cv=cal.cv, method="decision_function")
    assert np.allclose(seen["oof"], want, atol=1e-6)  # the very scores the sigmoids were fitted on
    # and the calibrators map scores as predict_proba does
    cc = m.classifier_.calibrated_classifiers_[0]
    assert np.allclose(_calibrated_from_scores(cc, cc.estimator.decision_function(F)), m.predict_proba(Xs),
                       rtol=0, atol=1e-12)
    assert not hasattr(m, "_oof_scores")  # nothing of the training scores is kept on the model


def test_offsets_do_not_depend_on_n_jobs(rare):
    X, y, Xt, _ = rare
    a = DemandClassifier(decision_rule="offsets").fit(X, y)
    b = DemandClassifier(decision_rule="offsets", n_jobs=2).fit(X, y)
    assert np.array_equal(a.class_offsets_, b.class_offsets_)
    assert np.array_equal(a.predict(Xt), b.predict(Xt))


def test_tune_offsets_coordinate_ascent():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [60, 60, 10])
    s = rng.normal(size=(130, 3))
    s[np.arange(130), y] += 1.5
    s[:, 2] -= 1.2  # the rare class scored low: the argmax misses it
    before = _macro_f1_idx(y, s.argmax(axis=1), 3)
    assert before == pytest.approx(f1_score(y, s.argmax(axis=1), average="macro"))
    o = _tune_offsets(s, y, grid=np.arange(-2, 2.01, 0.25))
    assert o[2] > max(o[0], o[1])  # the rare class raised against both others
    assert _macro_f1_idx(y, (s + o).argmax(axis=1), 3) > before + 0.05
    assert np.array_equal(_tune_offsets(s, y, grid=np.arange(-2, 2.01, 0.25), shrink=0.5), o * 0.5)
    assert not _tune_offsets(s[:, [0, 1]], y.clip(0, 1), grid=[0.0]).any()  # nothing to move: zeros


def test_clone_pickle_and_a_model_saved_before_the_rule(rare):
    X, y, Xt, _ = rare
    m = DemandClassifier(decision_rule="offsets", prior_power=0.5)
    c = clone(m)
    assert c.get_params()["decision_rule"] == "offsets" and c.get_params()["prior_power"] == 0.5
    m.fit(X, y)
    back = pickle.loads(pickle.dumps(m))
    assert np.array_equal(back.class_offsets_, m.class_offsets_)
    assert np.array_equal(back.predict(Xt), m.predict(Xt))
    import skops.io as sio  # what govml demands train saves

    blob = sio.dumps(m)
    sk = sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))
    assert sk.decision_rule == "offsets" and np.array_equal(sk.class_offsets_, m.class_offsets_)
    assert np.array_equal(sk.predict(Xt), m.predict(Xt))
    # a model saved before session 21: no decision_rule / prior_power parameter, no class_offsets_
    old = pickle.loads(old_file(DemandClassifier().fit(X, y), "class_offsets_", "decision_rule", "prior_power",
                                version="0.1.0"))
    assert old.decision_rule == "proba" and old.class_offsets_ is None
    assert np.array_equal(old.predict(Xt), old.classes_[old.predict_proba(Xt).argmax(axis=1)])
    # even an old file loaded into a model whose rule would read the offsets predicts the argmax
    old.decision_rule = "offsets"
    old.class_offsets_ = None
    assert np.array_equal(old.predict(Xt), old.classes_[old.predict_proba(Xt).argmax(axis=1)])


def test_bad_rule_or_a_model_without_the_scores_it_reads(rare):
    X, y, _, _ = rare
    with pytest.raises(ModelError, match="decision_rule: expected one of"):
        DemandClassifier(decision_rule="argmax").fit(X, y)
    with pytest.raises(ModelError, match="not available with em_nb"):
        DemandClassifier(decision_rule="offsets", em_nb=0.3).fit(X, y)
    with pytest.raises(ModelError, match="not available with model 'ensemble'"):
        DemandClassifier(decision_rule="decision", model="ensemble").fit(X, y)
    with pytest.raises(ModelError, match="calibration_ensemble=True"):
        DemandClassifier(decision_rule="offsets", calibration_ensemble=True).fit(X, y)
    # "prior" reads only the class counts: any model
    m = DemandClassifier(decision_rule="prior", em_nb=0.3).fit(X, y)
    assert m.class_offsets_.shape == (3,)
    assert isinstance(m.classifier_, object) and not isinstance(m.classifier_, CalibratedClassifierCV)
