"""DemandClassifier's title blocks: the first line of a multi-line text (the title when `govml demands train`
joins several --text-col columns) read on its own — character n-grams and topic-lexicon counts."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.base import clone

from govml.text.classify import DemandClassifier, TopicLexiconFeatures, _TitleText, cross_validate_classifier
from govml.text.tokenize import GovTokenizer
from text_vocab import SHARED, VOCAB, assert_round_trips

LEX = {"noise": ["噪音", "扰民"], "wages": ["工资", "欠薪"], "bus": ["公交", "站台"]}


def test_title_text_is_the_prepared_first_line_of_multi_line_texts_only():
    t = _TitleText(GovTokenizer())
    assert t("小区噪音ＡＢＣ\n详情：工资") == "小区噪音abc"
    assert t("只有一行的留言") == "" and t("") == "" and t(None) == ""
    assert t("\n标题为空，只有详情") == "" and t("  \n详情") == ""


def test_title_topic_counts_read_the_first_line_only():
    f = TopicLexiconFeatures(lexicon=LEX, title_only=True).fit([])
    X = f.transform(["噪音扰民\n工资工资欠薪", "工资噪音", "公交\n"]).toarray()
    assert np.allclose(X[0], [1, 0, 0])  # the details' three wage hits are not counted
    assert not X[1].any()  # a single-line text has no title
    assert np.allclose(X[2], [0, 0, 1])
    whole = TopicLexiconFeatures(lexicon=LEX).fit([]).transform(["噪音扰民\n工资工资欠薪"]).toarray()
    assert whole[0, 1] > whole[0, 0] > 0  # the whole-text block sees both


def make_titled(n_per_class: int = 16, seed: int = 0, noise_words: int = 2) -> tuple[list[str], list[str]]:
    """Title = the class's own term + filler; details = filler and `noise_words` terms of random other classes
    (the details are misleading, the title is not)."""
    rng = random.Random(seed)
    texts, labels = [], []
    classes = list(VOCAB)
    for lab in classes:
        for _ in range(n_per_class):
            others = [rng.choice(VOCAB[rng.choice([c for c in classes if c != lab])]) for _ in range(noise_words)]
            fill = rng.sample(SHARED, 4)
            texts.append(f"关于{fill[0]}{rng.choice(VOCAB[lab])}的问题\n{fill[1]}{others[0]}，{fill[2]}"
                         f"{''.join(others[1:])}{fill[3]}，希望处理")
            labels.append(lab)
    return texts, labels


def test_title_blocks_are_added_for_titled_texts_and_help_when_the_details_mislead():
    texts, labels = make_titled()
    fitted = DemandClassifier(title_weight=1.0, title_lexicon_weight=1.0).fit(texts, labels)
    assert list(fitted.blocks_) == ["word", "char", "topic", "title", "title_topic"]
    # the title block's vocabulary holds title n-grams only (no detail-only term such as 希望处理's 希望)
    title_vocab = fitted.features_.transformer_list[3][1].vocabulary_
    assert "关于" in title_vocab and "希望" not in title_vocab
    # single-line texts: nothing to read, no title blocks (the model is the plain one)
    flat = [t.replace("\n", "，") for t in texts]
    assert list(DemandClassifier(title_weight=1.0, title_lexicon_weight=1.0).fit(flat, labels).blocks_) == [
        "word", "char", "topic"]
    # the details name other classes' terms: reading the title on its own raises cross-validated macro-F1
    plain = cross_validate_classifier(texts, labels, cv=4, seed=0,
                                      estimator=DemandClassifier(title_weight=None, title_lexicon_weight=None))
    titled = cross_validate_classifier(texts, labels, cv=4, seed=0,
                                       estimator=DemandClassifier(title_weight=1.0, title_lexicon_weight=None))
    assert titled["macro_f1"] > plain["macro_f1"] + 0.2, (titled["macro_f1"], plain["macro_f1"])  # 0.74 vs 0.34
    # 64 messages in 4 folds: the fold draw alone moves it (seeds 0-3: 0.739 / 0.817 / 0.717 / 0.758; plain 0.29-0.39;
    # 0.84 with the folds drawn in the caller's row order before session 15)
    assert titled["macro_f1"] > 0.70


def test_title_blocks_are_on_by_default():
    params = DemandClassifier().get_params()
    assert params["title_weight"] == 0.5 and params["title_lexicon_weight"] == 0.5 and params["title_ngrams"] == (1, 3)
    texts, labels = make_titled(6, seed=3)
    assert list(DemandClassifier().fit(texts, labels).blocks_) == ["word", "char", "topic", "title", "title_topic"]


@pytest.mark.parametrize("params", [{"title_weight": 1.0}, {"title_weight": 0.5, "title_lexicon_weight": 1.0}])
def test_titled_model_round_trips_bit_identically(params, tmp_path):
    texts, labels = make_titled(8, seed=1)
    fitted = DemandClassifier(**params).fit(texts, labels)
    assert clone(fitted).get_params()["title_weight"] == params["title_weight"]
    held_out = ["幼儿园学位不够\n详情", "只有一行：拖欠工资", "", "\n详情里有医院"]
    assert_round_trips(fitted, held_out, tmp_path / "m")


def test_models_saved_before_the_title_parameters_load_without_title_blocks():
    texts, labels = make_titled(8, seed=2)
    fitted = DemandClassifier(title_weight=None, title_lexicon_weight=None).fit(texts, labels)
    state = fitted.__getstate__()
    for name in ("title_weight", "title_ngrams", "title_lexicon_weight"):
        state.pop(name)
    topic = state["features_"].transformer_list[2][1]
    tstate = topic.__getstate__()
    tstate.pop("title_only")
    old_topic = TopicLexiconFeatures.__new__(TopicLexiconFeatures)
    old_topic.__setstate__(tstate)
    assert old_topic.title_only is False
    old = DemandClassifier.__new__(DemandClassifier)
    old.__setstate__(state)
    assert old.get_params()["title_weight"] is None and old.get_params()["title_lexicon_weight"] is None
    assert np.array_equal(old.predict_proba(texts[:5]), fitted.predict_proba(texts[:5]))
