"""The labels-only naive Bayes mix (issue 3, seventh study; not the default): ``DemandClassifier(em_nb=w,
em_nb_blocks=None)`` fitted without unlabelled text is exactly (1 − w) × the default model's probabilities + w ×
those of sklearn's ``MultinomialNB`` on the same features; w = 0 is the default model; it saves and loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.naive_bayes import MultinomialNB

from govml.text.classify import DemandClassifier
from text_vocab import assert_round_trips

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples" / "messages.csv"


@pytest.fixture(scope="module")
def split():
    """30 training and 10 held-out messages of each of 5 categories of the sample messages (seeded)."""
    df = pd.read_csv(SAMPLES)
    df = df[df["category"].isin(["停车管理", "供暖供水", "噪声扰民", "医疗养老", "教育托育"])]
    df = df.groupby("category", group_keys=False).sample(40, random_state=0)
    test = df.groupby("category", group_keys=False).head(10)
    train = df.drop(test.index)
    return (train["text"].tolist(), train["category"].tolist(), test["text"].tolist(),
            test["category"].tolist())


@pytest.fixture(scope="module")
def plain(split):
    X, y, _, _ = split
    return DemandClassifier().fit(X, y)


@pytest.mark.parametrize(("w", "alpha"), [(0.1, 1e-3), (0.3, 1e-2)])
def test_mix_is_svm_and_multinomial_nb_on_the_same_features(split, plain, w, alpha):
    X, y, Xt, yt = split
    mix = DemandClassifier(em_nb=w, em_nb_alpha=alpha, em_nb_blocks=None).fit(X, y)
    assert mix.em_nb_iter_ == 0 and mix.n_unlabeled_ == 0 and mix.classifier_.cols is None
    F, Ft = mix.features_.transform(X), mix.features_.transform(Xt)
    assert (Ft != plain.features_.transform(Xt)).nnz == 0  # the features do not depend on the mix
    nb = MultinomialNB(alpha=alpha).fit(F, np.array(y, dtype=object))
    want = (1 - w) * plain.predict_proba(Xt) + w * nb.predict_proba(Ft)
    got = mix.predict_proba(Xt)
    assert list(mix.classes_) == list(plain.classes_) == list(nb.classes_)
    assert np.allclose(got, want, atol=1e-5)  # the naive Bayes weights are rounded to float32 values
    assert np.allclose(got.sum(axis=1), 1.0) and (got >= 0).all()
    # the mixed model still separates these five well-distinguished categories
    assert float(np.mean(mix.predict(Xt) == np.array(yt))) >= 0.8


def test_weight_zero_is_the_default_model(split, plain):
    X, y, Xt, _ = split
    zero = DemandClassifier(em_nb=0.0, em_nb_blocks=None).fit(X, y)
    assert np.array_equal(zero.predict_proba(Xt), plain.predict_proba(Xt))
    assert type(zero.classifier_) is type(plain.classifier_)


def test_mixed_model_round_trips(split, tmp_path):
    X, y, Xt, _ = split
    mix = DemandClassifier(em_nb=0.1, em_nb_alpha=1e-3, em_nb_blocks=None).fit(X, y)
    assert_round_trips(mix, Xt[:5] + ["", "完全无关ＡＢＣ"], tmp_path / "m")
