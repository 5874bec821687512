"""DemandClassifier(n_jobs=...): the calibration's linear-model fits side by side in forked processes give the
model of the serial fit bit for bit (issue 3, session 13: `demands train` time with many classes)."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

from govml.text.classify import DemandClassifier, _fit_calibrated_forked, cross_validate_classifier
from text_vocab import TOPICS
from text_vocab import topic_messages as _messages


def _same_model(a: DemandClassifier, b: DemandClassifier, texts: list[str]) -> None:
    ca, cb = a.classifier_, b.classifier_
    assert type(ca) is type(cb)
    assert set(vars(ca)) == set(vars(cb))
    np.testing.assert_array_equal(ca.classes_, cb.classes_)
    assert len(ca.calibrated_classifiers_) == len(cb.calibrated_classifiers_) == 1
    ea, eb = ca.calibrated_classifiers_[0], cb.calibrated_classifiers_[0]
    assert ea.estimator.coef_.tobytes() == eb.estimator.coef_.tobytes()
    assert ea.estimator.intercept_.tobytes() == eb.estimator.intercept_.tobytes()
    for ka, kb in zip(ea.calibrators, eb.calibrators, strict=True):
        assert pickle.dumps(vars(ka)) == pickle.dumps(vars(kb))
    assert a.predict_proba(texts).tobytes() == b.predict_proba(texts).tobytes()


@pytest.mark.parametrize("model", ["svm", "lr"])
def test_forked_calibration_fits_give_the_serial_model_bit_for_bit(model):
    texts, labels = _messages(14, TOPICS)
    new, _ = _messages(6, TOPICS, seed=1)
    serial = DemandClassifier(model=model, random_state=3).fit(texts, labels)
    for jobs in (2, 4):  # fewer and more processes than folds + 1
        forked = DemandClassifier(model=model, random_state=3, n_jobs=jobs).fit(texts, labels)
        _same_model(serial, forked, new)


def test_the_forked_path_is_taken_and_matches_calibrated_fit():
    import scipy.sparse as sp
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(0)
    X = sp.random(60, 40, density=0.2, random_state=0, format="csr")
    y = np.array(["甲", "乙", "丙"] * 20)
    X = X + sp.csr_matrix((y == "甲")[:, None] * rng.random((60, 40)) * 0.3)

    def cal():
        cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
        return CalibratedClassifierCV(LinearSVC(C=0.5, class_weight="balanced", random_state=0), cv=cv,
                                      ensemble=False)

    serial = cal().fit(X, y)
    forked = _fit_calibrated_forked(cal(), X, y, 2)
    assert forked is not None
    assert forked.predict_proba(X).tobytes() == serial.predict_proba(X).tobytes()
    assert (forked.calibrated_classifiers_[0].estimator.coef_.tobytes()
            == serial.calibrated_classifiers_[0].estimator.coef_.tobytes())


def test_forked_calibration_two_categories_and_small_classes():
    topics = {k: TOPICS[k] for k in ("交通", "教育")}
    texts, labels = _messages(9, topics)
    texts, labels = texts[:11], labels[:11]  # 9 + 2: the small class makes 2 calibration folds
    new, _ = _messages(4, topics, seed=2)
    serial = DemandClassifier().fit(texts, labels)
    forked = DemandClassifier(n_jobs=2).fit(texts, labels)
    _same_model(serial, forked, new)


def test_cross_validation_with_forked_fits_is_unchanged():
    texts, labels = _messages(12, TOPICS)
    a = cross_validate_classifier(texts, labels, cv=3, estimator=DemandClassifier())
    b = cross_validate_classifier(texts, labels, cv=3, estimator=DemandClassifier(n_jobs=2))
    assert a == b


def test_forked_fit_hands_back_what_it_cannot_do():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.svm import LinearSVC

    X = np.abs(np.random.default_rng(0).normal(size=(20, 5)))
    y = np.array(["a", "b"] * 10)
    assert _fit_calibrated_forked(CalibratedClassifierCV(LinearSVC(), cv=3, ensemble=True), X, y, 2) is None
    assert _fit_calibrated_forked(CalibratedClassifierCV(MultinomialNB(), cv=3, ensemble=False), X, y, 2) is None
    # a category with fewer messages than folds: scikit-learn's own error, not ours
    y_small = np.array(["a"] * 18 + ["b"] * 2)
    assert _fit_calibrated_forked(CalibratedClassifierCV(LinearSVC(), cv=3, ensemble=False), X, y_small, 2) is None


def test_warnings_of_the_childrens_fits_are_raised_here():
    from sklearn.exceptions import ConvergenceWarning

    texts, labels = _messages(10, TOPICS)
    est = DemandClassifier(n_jobs=3)
    est._linear_orig = est._linear

    def few_iterations(C):  # noqa: N802
        m = est._linear_orig(C)
        m.set_params(max_iter=1)
        return m

    est._linear = few_iterations
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        est.fit(texts, labels)
    n = sum(issubclass(w.category, ConvergenceWarning) for w in said)
    assert n == 4  # the 3 calibration folds (children and this process) and the model on all messages
