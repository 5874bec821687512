"""DemandClassifier's topic-lexicon block: the packaged lexicon, topic counts, their use, persistence."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.base import clone

from govml.errors import ModelError
from govml.text.classify import (
    DemandClassifier,
    TopicLexiconFeatures,
    cross_validate_classifier,
    load_topic_lexicon,
    parse_topic_lexicon,
)
from text_vocab import assert_round_trips

LEX = {"noise": ["噪音", "扰民", "轰鸣"], "wages": ["工资", "欠薪", "讨薪"], "bus": ["公交", "站台"]}
FILLER = ["小区", "居民", "多次反映", "街道", "社区", "希望处理", "情况", "附近"]


def test_packaged_lexicon_is_well_formed():
    lex = load_topic_lexicon()
    assert len(lex) >= 20
    assert all(len(terms) >= 5 for terms in lex.values()), {t: len(v) for t, v in lex.items() if len(v) < 5}
    for topic in ("pollution", "noise", "schools", "medical_care", "social_insurance", "public_transport",
                  "tourism", "property_management"):
        assert topic in lex
    assert "噪音" in lex["noise"] and "公积金" in lex["housing_security"]


def test_parse_topic_lexicon_and_its_errors():
    text = "# comment\n\na: 甲 乙\nb:丙\na: 丁\n"
    assert parse_topic_lexicon(text) == {"a": ["甲", "乙", "丁"], "b": ["丙"]}
    with pytest.raises(ModelError, match="my.txt line 2"):
        parse_topic_lexicon("a: 甲\nno colon here\n", "my.txt")
    with pytest.raises(ModelError, match="line 1"):
        parse_topic_lexicon("a:\n")


def test_topic_counts_are_log_scaled_and_normalised():
    f = TopicLexiconFeatures(lexicon=LEX).fit([])
    assert list(f.get_feature_names_out()) == ["topic:noise", "topic:wages", "topic:bus"]
    X = f.transform(["噪音扰民，噪音", "公交站台噪音", "没有任何主题词", "", "ＡＢＣ拖欠工资"]).toarray()
    assert np.allclose(X[0], [1, 0, 0])  # 3 hits, one topic
    ratio = np.log1p(2) / np.log1p(1)  # bus: 公交 + 站台; noise: 噪音
    assert np.isclose(X[1, 2] / X[1, 0], ratio) and np.isclose(np.linalg.norm(X[1]), 1.0)
    assert not X[2].any() and not X[3].any()
    assert np.allclose(X[4], [0, 1, 0])  # full-width text is normalised first
    # terms are matched on the prepared text, as the character block sees it (case folded)
    g = TopicLexiconFeatures(lexicon={"x": ["ABC"], "y": ["噪音"]}).fit([])
    assert g.transform(["abc", "ＡＢＣ"]).toarray()[:, 0].tolist() == [1.0, 1.0]
    with pytest.raises(ModelError, match="no terms"):
        TopicLexiconFeatures(lexicon={"x": []}).fit([])


def make_topic_data(seed: int = 0) -> tuple[list[str], list[str]]:
    """Training messages use only the first two terms of each lexicon topic; the third never appears."""
    rng = random.Random(seed)
    texts, labels = [], []
    for lab, topic in (("环境保护", "noise"), ("劳动和社会保障", "wages"), ("交通运输", "bus")):
        for _ in range(12):
            f = rng.sample(FILLER, 3)
            texts.append(f"{f[0]}{rng.choice(LEX[topic][:2])}{f[1]}，{f[2]}")
            labels.append(lab)
    return texts, labels


def test_lexicon_block_ties_unseen_words_to_a_category_through_their_topic():
    texts, labels = make_topic_data()
    probes = ["街道附近轰鸣", "社区居民讨薪"]  # 轰鸣 / 讨薪: in the lexicon, never in a training message
    with_lex = DemandClassifier(lexicon=LEX, lexicon_weight=2.0).fit(texts, labels)
    assert with_lex.blocks_["topic"][1] - with_lex.blocks_["topic"][0] == 3
    assert with_lex._transform(probes).shape[1] == with_lex.blocks_["topic"][1]
    assert list(with_lex.predict(probes)) == ["环境保护", "劳动和社会保障"]
    # the same words without the lexicon block are unknown: the model has nothing to go on
    without = DemandClassifier(lexicon_weight=None).fit(texts, labels)
    assert "topic" not in without.blocks_
    p = without.predict_proba(probes)
    assert p.max() < with_lex.predict_proba(probes).max(axis=1).min()


def test_default_model_uses_the_packaged_lexicon_and_options_clone():
    texts, labels = make_topic_data()
    assert DemandClassifier().get_params()["lexicon_weight"] == 1.0  # on by default (issue 3, second study)
    est = DemandClassifier()
    assert clone(est).get_params()["lexicon_weight"] == 1.0 and clone(est).get_params()["lexicon"] is None
    fitted = est.fit(texts, labels)
    names = [n for n, _ in fitted.features_.transformer_list]
    assert names == ["word", "char", "topic"]
    assert len(fitted.features_.transformer_list[2][1].topics_) == len(load_topic_lexicon())
    rep = cross_validate_classifier(texts, labels, cv=3, seed=0, estimator=DemandClassifier(lexicon=LEX,
                                                                                          lexicon_weight=1.0))
    assert rep["macro_f1"] > 0.9, rep["macro_f1"]


@pytest.mark.parametrize("model", ["svm", "ensemble"])
def test_lexicon_model_round_trips_bit_identically(model, tmp_path):
    texts, labels = make_topic_data(1)
    fitted = DemandClassifier(model=model, lexicon_weight=1.0).fit(texts, labels)
    held_out = ["工地夜间轰鸣扰民", "", "公交站台太远", "完全无关的内容ＡＢＣ１２３"]
    assert_round_trips(fitted, held_out, tmp_path / "m")
