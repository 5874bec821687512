"""DemandClassifier: CV quality on generated messages, calibration, persistence, CLI, bad input."""

from __future__ import annotations

import json
import logging
import random

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from govml.errors import ModelError
from govml.text.classify import DemandClassifier, as_texts, check_labels, cross_validate_classifier
from text_vocab import SHARED, VOCAB

OPEN = ["您好，", "尊敬的领导：", "", "请问，", "我要反映："]


def make_data(n_per_class: int = 30, seed: int = 0, noise: float = 0.15) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    classes = list(VOCAB)
    for lab in classes:
        for _ in range(n_per_class):
            own = rng.sample(VOCAB[lab], 2)
            if rng.random() < noise:  # a word of another class: not every message is clean
                own[1] = rng.choice(VOCAB[rng.choice(classes)])
            filler = rng.sample(SHARED, 3)
            texts.append(f"{rng.choice(OPEN)}A市A{rng.randint(1, 9)}区{filler[0]}{own[0]}的{filler[1]}，"
                         f"{own[1]}{filler[2]}，电话1{rng.choice('3589')}{rng.randint(0, 10**9 - 1):09d}，希望尽快处理")
            labels.append(lab)
    order = list(range(len(texts)))
    rng.shuffle(order)
    return [texts[i] for i in order], [labels[i] for i in order]


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture(scope="module")
def fitted(data):
    texts, labels = data
    return DemandClassifier().fit(texts, labels)


def test_cross_validated_macro_f1_above_floor(data):
    texts, labels = data
    rep = cross_validate_classifier(texts, labels, cv=5, seed=0)
    assert rep["macro_f1"] > 0.85, rep["macro_f1"]
    assert len(rep["fold_macro_f1"]) == 5 and rep["macro_f1_sd"] >= 0
    assert set(rep["per_class"]) == set(VOCAB)
    assert sum(v["support"] for v in rep["per_class"].values()) == rep["n"] == len(texts)
    assert np.array(rep["confusion"]).sum() == len(texts)
    # a shuffled-label control stays near chance: the floor is not trivially reached
    shuffled = list(labels)
    random.Random(1).shuffle(shuffled)
    assert cross_validate_classifier(texts, shuffled, cv=5, seed=0)["macro_f1"] < 0.4


def test_calibrated_confidence(fitted):
    texts, labels = make_data(20, seed=7, noise=0.3)
    proba = fitted.predict_proba(texts)
    assert np.allclose(proba.sum(axis=1), 1.0) and proba.shape == (len(texts), 7)
    conf = proba.max(axis=1)
    correct = fitted.classes_[proba.argmax(axis=1)] == np.array(labels)
    assert conf[correct].mean() > conf[~correct].mean()
    assert abs(conf.mean() - correct.mean()) < 0.15  # confidence tracks accuracy
    assert 0 < conf.min() and conf.max() <= 1


def test_estimator_conventions(fitted):
    est = DemandClassifier(C=0.3, char_ngrams=(2, 3))
    assert est.get_params()["C"] == 0.3 and est.get_params()["char_ngrams"] == (2, 3)
    twin = clone(est)
    assert twin.get_params() == est.get_params() and not hasattr(twin, "classes_")
    with pytest.raises(ModelError, match="not fitted"):
        DemandClassifier().predict(["加装电梯"])
    assert list(fitted.classes_) == sorted(VOCAB)


def test_unlabeled_text_joins_the_vocabulary(data):
    texts, labels = data
    plain = DemandClassifier(char_ngrams=None).fit(texts[:80], labels[:80])
    semi = DemandClassifier(char_ngrams=None).fit(texts[:80], labels[:80], unlabeled=["楼顶违建漏水的事情"] * 3)
    vocab_plain = plain.features_.transformer_list[0][1].vocabulary_
    vocab_semi = semi.features_.transformer_list[0][1].vocabulary_
    assert "漏水" not in vocab_plain and "漏水" in vocab_semi
    st = DemandClassifier(self_training=0.5).fit(texts[:80], labels[:80], unlabeled=texts[80:])
    assert st.n_pseudo_ > 0 and st.n_unlabeled_ == len(texts) - 80
    # labelled messages given again as unlabelled (e.g. the whole file) count once: the model is the plain one
    again = DemandClassifier(char_ngrams=None).fit(texts[:80], labels[:80], unlabeled=texts[:80])
    assert again.n_unlabeled_ == 0
    assert np.array_equal(again.predict_proba(texts[80:]), plain.predict_proba(texts[80:]))
    both = DemandClassifier(char_ngrams=None).fit(texts[:80], labels[:80], unlabeled=texts[60:100])
    assert both.n_unlabeled_ == 20


def test_bad_labels_are_warned_not_dropped_silently(data, caplog):
    texts, labels = data
    labels = list(labels)
    labels[4] = "城乡建没"  # a typo seen once
    labels[9] = None
    keep, issues = check_labels(labels)
    assert not keep[4] and not keep[9] and keep.sum() == len(labels) - 2
    assert {(i.label, i.positions) for i in issues} == {("城乡建没", (4,)), ("", (9,))}
    with caplog.at_level(logging.WARNING, logger="govml.text.classify"):
        model = DemandClassifier(char_ngrams=None).fit(texts, labels)
    assert "城乡建没" in caplog.text and "positions 4" in caplog.text
    assert "城乡建没" not in model.classes_ and model.n_excluded_ == 2


def test_awkward_texts(fitted):
    texts = ["", "   ", None, "13812345678", "😀😀🙏", "小區電梯加裝問題，請儘快處理", "拖欠工资" * 90_000]
    out = fitted.predict_frame(texts, ids=list("abcdefg"))
    assert list(out.columns) == ["id", "category_pred", "confidence"]
    assert out.loc[:2, "category_pred"].isna().all() and (out.loc[:2, "confidence"] == 0).all()
    assert out.loc[3:, "category_pred"].notna().all()
    assert out.loc[5, "category_pred"] == "城乡建设"  # traditional characters folded
    assert out.loc[6, "category_pred"] == "劳动和社会保障"  # a 1 MB message
    # a phone number alone carries no evidence: low confidence
    assert out.loc[3, "confidence"] < 0.5
    assert as_texts(pd.Series(["a", None], dtype="str")) == ["a", ""]


def test_save_load_round_trip(fitted, tmp_path):
    from govml.cli.demands import _save_model_dir, load_model_dir

    _save_model_dir(fitted, {"labels": list(fitted.classes_)}, tmp_path / "m")
    _save_model_dir(fitted, {"labels": list(fitted.classes_), "again": True}, tmp_path / "m")  # replaces
    model, meta = load_model_dir(tmp_path / "m")
    assert meta["again"] is True and sorted(p.name for p in (tmp_path / "m").iterdir()) == ["model.json",
                                                                                              "model.skops"]
    texts, _ = make_data(3, seed=3)
    assert np.allclose(model.predict_proba(texts), fitted.predict_proba(texts))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_compact_state_round_trips_bit_identically_without_touching_the_model(fitted):
    import pickle

    import cloudpickle
    import skops.io as sio

    tfidf = [(name, vec) for name, vec in fitted.features_.transformer_list if name in ("word", "char")]
    assert len(tfidf) == 2
    live = {name: vec.vocabulary_ for name, vec in tfidf}
    held_out, _ = make_data(4, seed=5)
    held_out += ["", "完全没见过的字词组合，ＡＢＣ１２３"]
    want = fitted.predict_proba(held_out)
    data = sio.dumps(fitted)
    types = sio.get_untrusted_types(data=data)
    assert all(t.split(".", 1)[0] in ("govml", "sklearn", "numpy", "scipy") for t in types), types
    copies = [sio.loads(data, trusted=types), pickle.loads(pickle.dumps(fitted)),
              cloudpickle.loads(cloudpickle.dumps(fitted))]
    for model in copies:
        assert np.array_equal(model.predict_proba(held_out), want)  # bit-identical, not just close
        assert not hasattr(model, "_packed_vocabularies_")
        for name, vec in model.features_.transformer_list:
            if name in live:
                assert vec.vocabulary_ == live[name] and len(vec.vocabulary_) > 100
        assert clone(model).get_params() == fitted.get_params()
        assert model.fit(*make_data(3, seed=6)).predict(held_out[:2]).shape == (2,)  # still a working estimator
    # saving never mutated the live model
    assert {name: vec.vocabulary_ for name, vec in tfidf} == live
    assert all(vec.vocabulary_ is live[name] for name, vec in tfidf)
    assert "_packed_vocabularies_" not in vars(fitted)


def test_unpackable_vocabulary_stays_a_dict():
    from govml.text.classify import _pack_vocabulary, _unpack_vocabulary

    vocab = {"加装电梯": 1, "a b": 0, "": 2}
    assert _unpack_vocabulary(_pack_vocabulary(vocab)) == vocab
    assert _pack_vocabulary({"a\x00b": 0}) is None  # the separator inside a term
    assert _pack_vocabulary({"a": 0, "b": 2}) is None  # not 0..n-1
    assert _pack_vocabulary({"a": 0, "b": 0}) is None


def test_saved_model_is_much_smaller_than_with_dict_vocabularies(monkeypatch):
    import skops.io as sio
    from sklearn.base import BaseEstimator

    # two categories (so the SVM weights, which stay float64, are small beside the vocabulary) and
    # varied text so the character 1–4-gram vocabulary is large, as it is on real messages
    rng = random.Random(7)
    pool = "".join(w for words in VOCAB.values() for w in words) + "".join(SHARED)
    texts = ["".join(rng.choice(pool) for _ in range(60)) for _ in range(120)]
    labels = ["城乡建设" if i % 2 else "环境保护" for i in range(len(texts))]
    model = DemandClassifier().fit(texts, labels)
    assert len(model.features_.transformer_list[1][1].vocabulary_) > 10_000
    compact = sio.dumps(model)
    monkeypatch.setattr(DemandClassifier, "__getstate__", BaseEstimator.__getstate__)
    monkeypatch.setattr(DemandClassifier, "__setstate__", BaseEstimator.__setstate__)
    plain = sio.dumps(model)
    assert len(plain) >= 5 * len(compact), (len(plain), len(compact))


@pytest.mark.slow
def test_cli_train_classify_top_end_to_end(tmp_path):
    from typer.testing import CliRunner

    from govml.cli import app

    texts, labels = make_data(12, seed=11)
    labels[0] = "卫生计身"  # typo seen once
    texts[1] = ""
    df = pd.DataFrame({"编号": range(100, 100 + len(texts)), "标题": [t[:12] for t in texts],
                       "详情": [t[12:] for t in texts], "类别": labels,
                       "时间": pd.date_range("2024-01-01", periods=len(texts), freq="D").strftime("%Y/%m/%d %H:%M:%S")})
    src = tmp_path / "msgs.csv"
    df.to_csv(src, index=False, encoding="gbk")
    runner = CliRunner()
    common = ["--text-col", "标题", "--text-col", "详情", "--id-col", "编号", "--time-col", "时间"]
    res = runner.invoke(app, ["demands", "train", str(src), "--label-col", "类别", "--model-dir",
                              str(tmp_path / "model"), *common])
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    assert "卫生计身" in flat and "row(s) 2" in flat and "macro-F1" in flat and "accuracy" in flat
    assert "empty text (rows 3)" in flat
    meta = json.loads((tmp_path / "model" / "model.json").read_text(encoding="utf-8"))
    assert meta["labels"] == sorted(VOCAB) and meta["text_cols"] == ["标题", "详情"]
    assert 0 <= meta["cv"]["macro_f1"] <= 1 and len(meta["cv"]["fold_macro_f1"]) == 5
    assert meta["govml_version"] and meta["n_excluded"] == 2
    # two text columns: the first (the title) also gets its own blocks (issue 3, fourth study)
    assert meta["settings"]["title_weight"] == 0.5 and meta["settings"]["title_lexicon_weight"] == 0.5
    from govml.cli.demands import load_model_dir

    assert list(load_model_dir(tmp_path / "model")[0].blocks_) == ["word", "char", "topic", "title", "title_topic"]
    import mlflow

    from govml import tracking

    tracking.configure()
    runs = mlflow.search_runs(experiment_names=[tracking.experiment_name("demand-classifier")])
    assert len(runs) >= 1 and "metrics.cv_macro_f1" in runs.columns
    # the fitted model itself is logged as an MLflow model that loads back and predicts
    logged = mlflow.search_logged_models(experiment_ids=[runs["experiment_id"].iloc[0]], output_format="list")
    assert logged, "demands train logged no MLflow model"
    loaded = mlflow.sklearn.load_model(logged[0].model_uri)
    assert set(loaded.predict(df["详情"].head(5).tolist())) <= set(VOCAB)
    # the estimator is stored once: the run's model_dir artifact holds model.json only
    arts = [a.path for a in tracking.client().list_artifacts(runs["run_id"].iloc[0], "model_dir")]
    assert arts == ["model_dir/model.json"], arts

    pred = tmp_path / "pred.csv"
    res = runner.invoke(app, ["demands", "classify", str(src), "--model-dir", str(tmp_path / "model"),
                              "--id-col", "编号", "--out", str(pred)])
    assert res.exit_code == 0, res.output
    out = pd.read_csv(pred)
    assert list(out.columns) == ["id", "category_pred", "confidence"] and len(out) == len(df)
    assert out["id"].tolist() == df["编号"].tolist()
    ok = out["category_pred"].notna()
    assert (out.loc[ok, "category_pred"] == df.loc[ok, "类别"]).mean() > 0.8

    top = tmp_path / "top.csv"
    res = runner.invoke(app, ["demands", "top", str(src), *common[:4], "--time-col", "时间", "--by", "类别",
                              "--top", "3", "--out", str(top)])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(top)
    assert list(t.columns) == ["group", "period_start", "term", "count", "share", "distinctiveness", "example"]
    assert not t["example"].str.contains(r"1[3589]\d{9}").any()


def test_cli_missing_column_is_one_clear_error(tmp_path, capsys):
    from govml.cli import main

    src = tmp_path / "m.csv"
    pd.DataFrame({"id": [1, 2], "text": ["加装电梯", "拖欠工资"], "category": ["a", "b"]}).to_csv(src, index=False)
    with pytest.raises(SystemExit) as exc:
        main(["demands", "train", str(src), "--label-col", "没有", "--model-dir", str(tmp_path / "m2")])
    err = " ".join(capsys.readouterr().err.split())
    assert exc.value.code == 2 and "没有" in err and "--label-col" in err and "m.csv" in err
    assert not (tmp_path / "m2").exists()


@pytest.mark.parametrize("model", ["ensemble", "ensemble+nb"])
def test_ensemble_of_block_models(data, model, tmp_path):
    texts, labels = data
    rep = cross_validate_classifier(texts, labels, cv=3, seed=0, estimator=DemandClassifier(model=model))
    assert rep["macro_f1"] > 0.85, rep["macro_f1"]
    fitted = DemandClassifier(model=model).fit(texts, labels)
    clf = fitted.classifier_
    # one member per feature block (+ naive Bayes over both), each reading its own columns
    assert len(clf.members) == (4 if model == "ensemble+nb" else 3)  # word, char, topic (+ NB)
    (wlo, whi), (clo, chi), (tlo, thi) = fitted.blocks_["word"], fitted.blocks_["char"], fitted.blocks_["topic"]
    assert wlo == 0 and whi == clo and chi == tlo and thi == fitted._transform(texts[:1]).shape[1]
    new, _ = make_data(5, seed=5)
    proba = fitted.predict_proba(new)
    assert proba.shape == (len(new), 7) and np.allclose(proba.sum(axis=1), 1.0)
    members = [m.predict_proba(fitted._transform(new)[:, lo:hi]) for m, (lo, hi) in zip(clf.members, clf.spans,
                                                                                         strict=True)]
    assert np.allclose(proba, np.mean(members, axis=0))
    # the ensemble saves and loads like the default model
    from govml.cli.demands import _save_model_dir, load_model_dir

    _save_model_dir(fitted, {"labels": list(fitted.classes_)}, tmp_path / "m")
    loaded, _ = load_model_dir(tmp_path / "m")
    assert np.allclose(loaded.predict_proba(new), proba)
    with pytest.raises(ModelError, match="ensemble"):
        DemandClassifier(model="forest").fit(texts, labels)


def test_C_auto_picks_from_the_grid_on_training_data_only(data):
    texts, labels = data
    fitted = DemandClassifier(C="auto", C_grid=(0.001, 1.0)).fit(texts, labels)
    # C=0.001 under-fits badly on this separable data: the inner CV must prefer 1.0
    assert fitted.C_ == 1.0
    assert DemandClassifier(C=0.7).fit(texts[:60], labels[:60]).C_ == 0.7
    assert DemandClassifier(C="auto", C_grid=(0.4,)).fit(texts[:60], labels[:60]).C_ == 0.4


def test_title_repeat_weights_the_first_line(data):
    texts, labels = data
    est = DemandClassifier(title_repeat=2)
    assert est._texts(["标题\n详情", "无标题", "\n详情"]) == ["标题\n标题\n标题\n详情", "无标题", "\n详情"]
    assert DemandClassifier()._texts(["标题\n详情"]) == ["标题\n详情"]
    # a title naming one category, details naming another (twice as long): the title wins only when repeated
    probe = ["拖欠工资\n您好，小区加装电梯的问题，加装电梯多次反映"]
    plain = DemandClassifier(char_ngrams=None).fit(texts, labels)
    titled = DemandClassifier(char_ngrams=None, title_repeat=4).fit(texts, labels)
    assert plain.predict(probe)[0] == "城乡建设"
    assert titled.predict(probe)[0] == "劳动和社会保障"


def test_sublinear_tf_and_lsa_options(data):
    texts, labels = data
    raw = DemandClassifier(sublinear_tf=False).fit(texts[:60], labels[:60])
    assert [v.sublinear_tf for n, v in raw.features_.transformer_list if n != "topic"] == [False, False]
    lsa = DemandClassifier(lsa_components=10).fit(texts[:80], labels[:80], unlabeled=texts[80:])
    width = lsa.features_.transform(texts[:2]).shape[1]
    F = lsa._transform(texts[:2])
    assert lsa.lsa_.n_components == 10 and F.shape[1] == width + 10
    assert np.allclose(np.linalg.norm(F[:, width:].toarray(), axis=1), 1.0)  # LSA block L2-normalised
    assert DemandClassifier(lsa_components=10).fit(texts[:80], labels[:80]).lsa_ is None  # needs unlabelled text
    assert set(lsa.predict(texts[80:90])) <= set(VOCAB)


def test_cli_train_lexicon_options(tmp_path, capsys):
    """--lexicon FILE extends the packaged topics (the model uses them); --no-lexicon drops the block;
    both together, and a malformed lexicon line, are clear errors."""
    from typer.testing import CliRunner

    from govml.cli import app
    from govml.text.classify import load_topic_lexicon

    texts, labels = make_data(8, seed=3)
    src = tmp_path / "msgs.csv"
    pd.DataFrame({"text": texts, "category": labels}).to_csv(src, index=False)
    lex = tmp_path / "lex.txt"
    lex.write_text("# 自编主题\n夜市管理: 夜市 摊贩\nproperty_management: 电梯维保\n", encoding="utf-8")
    runner = CliRunner()

    def train(*extra, out="m"):
        return runner.invoke(app, ["demands", "train", str(src), "--model-dir", str(tmp_path / out), "--cv", "3",
                                   *extra])

    res = train("--lexicon", str(lex), out="lex")
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "lex" / "model.json").read_text(encoding="utf-8"))
    n_packaged = len(load_topic_lexicon())
    assert meta["settings"]["lexicon"].startswith("packaged + ") and f"({n_packaged + 1} topics" in meta["settings"]["lexicon"]
    from govml.cli.demands import load_model_dir

    model = load_model_dir(tmp_path / "lex")[0]
    block = dict(model.features_.transformer_list)["topic"]
    assert "夜市管理" in list(block.topics_) and len(block.topics_) == n_packaged + 1

    res = train("--no-lexicon", out="plain")
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "plain" / "model.json").read_text(encoding="utf-8"))
    assert meta["settings"]["lexicon_weight"] is None
    assert meta["settings"]["title_weight"] is None  # one text column: no title blocks

    from govml.cli import main

    def fails(*extra, out):
        with pytest.raises(SystemExit) as ex:
            main(["demands", "train", str(src), "--model-dir", str(tmp_path / out), "--cv", "3", *extra])
        assert ex.value.code != 0
        assert not (tmp_path / out).exists()
        return " ".join(capsys.readouterr().err.split())

    assert "contradict" in fails("--lexicon", str(lex), "--no-lexicon", out="both")
    lex.write_text("夜市管理 夜市 摊贩\n", encoding="utf-8")
    err = fails("--lexicon", str(lex), out="bad")
    assert str(lex) in err and "line 1" in err and "topic: term" in err


def test_a_category_too_small_for_a_folds_training_part_is_said_per_fold_by_name(caplog):
    # session 11: a category with cv labelled messages has cv - 1 in each fold's training part, below the model's
    # min_class_count (cv): each fold's model left it out and logged "positions …" of the fold's own subset,
    # which are no rows of the user's file
    texts, labels = make_data(n_per_class=12, seed=4)
    keep = [i for i, lab in enumerate(labels) if lab != labels[0]] + [i for i, lab in enumerate(labels)
                                                                     if lab == labels[0]][:3]
    texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
    with caplog.at_level("WARNING", logger="govml.text.classify"):
        rep = cross_validate_classifier(texts, labels, cv=3, seed=0, estimator=DemandClassifier(min_class_count=3))
    msgs = [r.getMessage() for r in caplog.records]
    assert not any("positions" in m for m in msgs), msgs
    folds = [m for m in msgs if m.startswith("cross-validation fold")]
    assert len(folds) == 3 and all(f"{labels[-1]!r} (2)" in m and "fewer than 3" in m for m in folds), folds
    assert rep["per_class"][labels[-1]]["recall"] == 0.0 and rep["per_class"][labels[-1]]["support"] == 3
    # a fit of its own still says the positions of its input
    caplog.clear()
    with caplog.at_level("WARNING", logger="govml.text.classify"):
        DemandClassifier(min_class_count=3).fit(texts[:-1], labels[:-1])
    assert any("positions" in r.getMessage() for r in caplog.records)
