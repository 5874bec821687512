"""Semi-supervised multinomial naive Bayes with EM (issue 3, sixth study; Nigam et al. 2000): ``SemiSupervisedNB``
on generated count data and ``DemandClassifier(em_nb=...)`` on generated messages where only the unlabelled text
links the words of the test messages to a class; estimator contract and the saved model."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.naive_bayes import MultinomialNB

from govml.errors import ConfigError, ModelError
from govml.text.classify import DemandClassifier, SemiSupervisedNB
from text_vocab import SHARED, assert_round_trips


def make_counts(seed: int = 0, k: int = 3, n_lab: int = 3, n_unl: int = 100, n_test: int = 50):
    """Word counts for ``k`` classes, each with 8 SEEN and 8 UNSEEN words of its own and 10 shared words:
    labelled rows use SEEN words only, test rows UNSEEN words only, unlabelled rows both (so the unlabelled rows
    are the only link between a class and its UNSEEN words)."""
    rng = np.random.default_rng(seed)
    n_feat = k * 16 + 10
    shared = np.arange(k * 16, n_feat)

    def rows(c: int, n: int, seen: int, unseen: int) -> np.ndarray:
        X = np.zeros((n, n_feat))
        for i in range(n):
            words = np.r_[rng.choice(c * 16 + np.arange(8), seen), rng.choice(c * 16 + 8 + np.arange(8), unseen),
                          rng.choice(shared, 4)].astype(int)
            np.add.at(X[i], words, 1.0)
        return X

    lab = [rows(c, n_lab, 4, 0) for c in range(k)]
    unl = [rows(c, n_unl, 2, 2) for c in range(k)]
    test = [rows(c, n_test, 0, 4) for c in range(k)]
    y_lab = np.repeat(np.arange(k), n_lab).astype(str).astype(object)
    y_test = np.repeat(np.arange(k), n_test).astype(str).astype(object)
    Xu = np.vstack(unl)[rng.permutation(k * n_unl)]
    return sp.csr_matrix(np.vstack(lab)), y_lab, sp.csr_matrix(Xu), sp.csr_matrix(np.vstack(test)), y_test


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_em_learns_words_only_unlabelled_rows_show(seed):
    X, y, Xu, Xt, yt = make_counts(seed)
    labels_only = SemiSupervisedNB().fit(X, y)
    em = SemiSupervisedNB(unlabeled_weight=0.1, n_iter=10).fit(X, y, Xu)
    acc0 = float(np.mean(labels_only.predict(Xt) == yt))
    acc = float(np.mean(em.predict(Xt) == yt))
    assert labels_only.n_iter_ == 0 and 1 <= em.n_iter_ <= 10
    assert acc0 < 0.6  # the labels say nothing about the UNSEEN words: about chance (1/3)
    assert acc >= 0.9 and acc >= acc0 + 0.3
    assert float(np.mean(em.predict(X) == y)) == 1.0  # the labelled rows stay right
    # the class-balanced M-step learns them too
    bal = SemiSupervisedNB(unlabeled_weight=0.1, n_iter=10, balance_unlabeled=True).fit(X, y, Xu)
    assert float(np.mean(bal.predict(Xt) == yt)) >= 0.9
    # the weight λ of the unlabelled rows matters: λ = 0 is the labels-only model
    none = SemiSupervisedNB(unlabeled_weight=0.0).fit(X, y, Xu)
    assert np.array_equal(none.predict_proba(Xt), labels_only.predict_proba(Xt))


def test_without_unlabelled_rows_it_is_multinomial_nb():
    X, y, _, Xt, _ = make_counts(3)
    ours = SemiSupervisedNB(alpha=0.5, weights_dtype="float64").fit(X, y)
    ref = MultinomialNB(alpha=0.5).fit(X, y)
    assert np.allclose(ours.predict_proba(Xt), ref.predict_proba(Xt), rtol=1e-10, atol=1e-12)
    assert list(ours.classes_) == list(ref.classes_)
    # float32 (the default) rounds the log-probabilities once, at fit time
    f32 = SemiSupervisedNB(alpha=0.5).fit(X, y)
    assert np.array_equal(f32.feature_log_prob_, f32.feature_log_prob_.astype(np.float32).astype(np.float64))
    assert np.allclose(f32.predict_proba(Xt), ref.predict_proba(Xt), atol=1e-5)
    with pytest.raises(ModelError, match="weights_dtype"):
        SemiSupervisedNB(weights_dtype="half").fit(X, y)


def test_estimator_contract_and_state_round_trip():
    X, y, Xu, Xt, _ = make_counts(4)
    est = SemiSupervisedNB(alpha=0.2, unlabeled_weight=0.3, n_iter=3)
    assert clone(est).get_params() == est.get_params()
    fitted = est.fit(X, y, Xu)
    assert fitted is est and not hasattr(clone(est), "feature_log_prob_")
    copy = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(copy.predict_proba(Xt), fitted.predict_proba(Xt))


# DemandClassifier: words of no lexicon topic; labelled messages hold SEEN words of their class, test messages only
# UNSEEN ones, unlabelled messages one of each (a share with another class's SEEN word too)
WORDS = {
    "甲类": ["甲蓝", "甲橙", "甲柚", "甲梨", "甲桃", "甲杏"],
    "乙类": ["乙松", "乙柏", "乙桦", "乙杉", "乙榆", "乙槐"],
    "丙类": ["丙鹤", "丙鹭", "丙雀", "丙鸥", "丙燕", "丙鹂"],
    "丁类": ["丁铜", "丁锡", "丁铅", "丁镍", "丁钛", "丁锌"],
}


def make_messages(seed: int = 0, n_lab: int = 4, n_unl: int = 60, n_test: int = 20, noise: float = 0.1):
    rng = random.Random(seed)
    cls = list(WORDS)
    lab_t, lab_y, unl, test_t, test_y = [], [], [], [], []

    def msg(words: list[str]) -> str:
        f = rng.sample(SHARED, 3)
        return f"{f[0]}{words[0]}{f[1]}，{''.join(words[1:])}{f[2]}"

    for c in cls:
        seen, unseen = WORDS[c][:3], WORDS[c][3:]
        lab_t += [msg([rng.choice(seen)]) for _ in range(n_lab)]
        lab_y += [c] * n_lab
        for _ in range(n_unl):
            words = [rng.choice(seen), rng.choice(unseen)]
            if rng.random() < noise:
                words.append(rng.choice(WORDS[rng.choice([o for o in cls if o != c])][:3]))
            unl.append(msg(words))
        test_t += [msg([rng.choice(unseen)]) for _ in range(n_test)]
        test_y += [c] * n_test
    rng.shuffle(unl)
    return lab_t, lab_y, unl, test_t, test_y


def _acc(model, texts, labels) -> float:
    return float(np.mean(model.predict(texts) == np.array(labels)))


@pytest.mark.parametrize("seed", [0, 1])
def test_em_nb_member_uses_the_unlabelled_messages(seed):
    lab_t, lab_y, unl, test_t, test_y = make_messages(seed)
    labels_only = DemandClassifier(em_nb=0.3).fit(lab_t, lab_y)
    svm_unl = DemandClassifier().fit(lab_t, lab_y, unlabeled=unl)  # unlabelled text for the vocabulary only
    semi = DemandClassifier(em_nb=0.3).fit(lab_t, lab_y, unlabeled=unl)  # the other settings as by default
    base = max(_acc(labels_only, test_t, test_y), _acc(svm_unl, test_t, test_y))
    assert labels_only.em_nb_iter_ == 0 and semi.em_nb_iter_ >= 1
    assert base < 0.5
    assert _acc(semi, test_t, test_y) >= max(0.6, base + 0.25)
    assert _acc(semi, lab_t, lab_y) == 1.0
    proba = semi.predict_proba(test_t)
    assert np.allclose(proba.sum(axis=1), 1.0) and list(semi.classes_) == sorted(WORDS)
    # the naive Bayes alone (em_nb=1: no SVM fitted), on the word block only
    nb_words = DemandClassifier(em_nb=1.0, em_nb_blocks=("word",), em_nb_lambda=1.0).fit(lab_t, lab_y, unlabeled=unl)
    assert _acc(nb_words, test_t, test_y) >= 0.7


def test_em_nb_model_round_trips_and_holds_no_unlabelled_text(tmp_path):
    lab_t, lab_y, unl, test_t, _ = make_messages(3)
    est = DemandClassifier(em_nb=0.5, em_nb_blocks=("word", "char", "topic"))
    assert clone(est).get_params() == est.get_params()
    fitted = est.fit(lab_t, lab_y, unlabeled=unl)
    assert_round_trips(fitted, test_t[:5] + ["", "完全无关ＡＢＣ"], tmp_path / "m")
    blob = pickle.dumps(fitted)
    assert not [t for t in unl if t.encode("utf-8") in blob]  # features and weights, not messages
    skops_blob = (tmp_path / "m" / "model.skops").read_bytes()
    assert not [t for t in unl if t.encode("utf-8") in skops_blob]


def test_em_nb_blocks_must_exist():
    lab_t, lab_y, unl, test_t, _ = make_messages(0)
    with pytest.raises(ModelError, match="em_nb_blocks.*'nope'"):
        DemandClassifier(em_nb=0.5, em_nb_blocks=("word", "nope")).fit(lab_t, lab_y, unlabeled=unl)
    # the title blocks exist only for titled (multi-line) texts: skipped when absent, unless nothing is left
    one_line = DemandClassifier(em_nb=0.5, em_nb_blocks=("word", "title_topic")).fit(lab_t, lab_y, unlabeled=unl)
    assert "title_topic" not in one_line.blocks_
    assert one_line.classifier_.cols.tolist() == list(range(*one_line.blocks_["word"]))
    with pytest.raises(ModelError, match="none of"):
        DemandClassifier(em_nb=0.5, em_nb_blocks=("title",)).fit(lab_t, lab_y, unlabeled=unl)
    titled = [t.replace("，", "\n", 1) for t in lab_t]
    both = DemandClassifier(em_nb=0.5, em_nb_blocks=("word", "title_topic")).fit(titled, lab_y)
    lo, hi = both.blocks_["title_topic"]
    assert set(range(lo, hi)) <= set(both.classifier_.cols.tolist())


@pytest.mark.slow
def test_cli_train_with_em_nb(tmp_path):
    import json

    import pandas as pd
    from typer.testing import CliRunner

    from govml.cli import app
    from govml.cli.demands import UNLABELED_EM_NB

    lab_t, lab_y, unl, test_t, test_y = make_messages(0, n_lab=6)  # 6 a class: enough for 5-fold CV
    pd.DataFrame({"id": range(len(lab_t)), "text": lab_t, "category": lab_y}).to_csv(tmp_path / "lab.csv", index=False)
    pd.DataFrame({"text": unl}).to_csv(tmp_path / "unl.csv", index=False)
    pd.DataFrame({"id": range(len(test_t)), "text": test_t}).to_csv(tmp_path / "test.csv", index=False)
    runner = CliRunner()
    res = runner.invoke(app, ["demands", "train", str(tmp_path / "lab.csv"), "--model-dir", str(tmp_path / "m"),
                              "--unlabeled", str(tmp_path / "unl.csv"), "--em-nb", "0.5"])
    assert res.exit_code == 0, res.output
    assert "EM naive Bayes (weight 0.5)" in " ".join(res.output.split())
    meta = json.loads((tmp_path / "m" / "model.json").read_text(encoding="utf-8"))
    assert meta["settings"]["em_nb"] == 0.5 and meta["n_unlabeled"] == len(unl)
    res = runner.invoke(app, ["demands", "classify", str(tmp_path / "test.csv"), "--model-dir", str(tmp_path / "m"),
                              "--out", str(tmp_path / "pred.csv")])
    assert res.exit_code == 0, res.output
    assert float((pd.read_csv(tmp_path / "pred.csv")["category_pred"] == pd.Series(test_y)).mean()) >= 0.8
    # --unlabeled alone: the EM naive Bayes at its default weight; --em-nb 0: the vocabulary only
    res = runner.invoke(app, ["demands", "train", str(tmp_path / "lab.csv"), "--model-dir", str(tmp_path / "m2"),
                              "--unlabeled", str(tmp_path / "unl.csv")])
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "m2" / "model.json").read_text(encoding="utf-8"))
    assert meta["settings"]["em_nb"] == UNLABELED_EM_NB > 0
    res = runner.invoke(app, ["demands", "train", str(tmp_path / "lab.csv"), "--model-dir", str(tmp_path / "m3"),
                              "--unlabeled", str(tmp_path / "unl.csv"), "--em-nb", "0"])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "m3" / "model.json").read_text(encoding="utf-8"))["settings"]["em_nb"] is None
    # without --unlabeled: the default model (no naive Bayes); --em-nb alone is an error, so is a weight above 1
    res = runner.invoke(app, ["demands", "train", str(tmp_path / "lab.csv"), "--model-dir", str(tmp_path / "m4")])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "m4" / "model.json").read_text(encoding="utf-8"))["settings"]["em_nb"] is None
    res = runner.invoke(app, ["demands", "train", str(tmp_path / "lab.csv"), "--model-dir", str(tmp_path / "m5"),
                              "--em-nb", "0.3"])
    assert isinstance(res.exception, ConfigError) and "--unlabeled" in str(res.exception)
    res = runner.invoke(app, ["demands", "train", str(tmp_path / "lab.csv"), "--model-dir", str(tmp_path / "m5"),
                              "--unlabeled", str(tmp_path / "unl.csv"), "--em-nb", "1.5"])
    assert res.exit_code == 2 and "--em-nb" in res.output
