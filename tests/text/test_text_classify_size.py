"""DemandClassifier saved-model size (issue 3): one SVM weight matrix, stored compactly and losslessly."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest
import skops.io as sio
from sklearn.base import BaseEstimator

import govml.text.classify as classify
from govml.errors import ModelError
from govml.text.classify import (
    _OLD_DEFAULTS,
    DemandClassifier,
    _linear_models,
    _pack_levels,
    _pack_vocabulary,
    _pack_weights,
    _unpack_levels,
    _unpack_weights,
    _unzip_array,
)
from text_vocab import SHARED, VOCAB


def make_data(n_per_class: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Short messages: two words of the category, two shared words."""
    rng = random.Random(seed)
    rows = [(f"{rng.choice(SHARED)}{' '.join(rng.sample(words, 2))}，{rng.choice(SHARED)}希望尽快处理", lab)
            for lab, words in VOCAB.items() for _ in range(n_per_class)]
    rng.shuffle(rows)
    return [t for t, _ in rows], [lab for _, lab in rows]


def _roundtrips(model):
    data = sio.dumps(model)
    types = sio.get_untrusted_types(data=data)
    assert all(t.split(".", 1)[0] in ("govml", "sklearn", "numpy", "scipy") for t in types), types
    return [sio.loads(data, trusted=types), pickle.loads(pickle.dumps(model))]


def _varied_data(seed=7, n=210):
    """7 categories, text varied enough that the character 1–4-gram vocabulary is large (as on real messages)."""
    rng = random.Random(seed)
    pool = "".join(w for words in VOCAB.values() for w in words) + "".join(SHARED)
    classes = list(VOCAB)
    texts = [rng.choice(VOCAB[classes[i % 7]]) + "".join(rng.choice(pool) for _ in range(60)) for i in range(n)]
    return texts, [classes[i % 7] for i in range(n)]


def test_seven_class_model_is_much_smaller_than_the_previous_layout(monkeypatch):
    texts, labels = _varied_data()
    new = DemandClassifier().fit(texts, labels)
    assert len(new.features_.transformer_list[1][1].vocabulary_) > 20_000
    (svm,) = _linear_models(new.classifier_)  # one SVM (cross-validated calibration), not one per fold
    assert svm.coef_.shape == (7, new.blocks_["topic"][1])
    assert np.array_equal(svm.coef_.astype(np.float32).astype(np.float64), svm.coef_)  # float32 values
    old = DemandClassifier(**_OLD_DEFAULTS).fit(texts, labels)
    assert len(_linear_models(old.classifier_)) == 3
    size_new = len(sio.dumps(new))
    # the previous layout: three float64 weight matrices and float64 idf saved as they are
    monkeypatch.setattr(classify, "_pack_weights", lambda w: None)
    monkeypatch.setattr(classify, "_pack_levels", lambda a: None)
    size_old = len(sio.dumps(old))
    assert size_old >= 3 * size_new, (size_old, size_new)
    # and lossless packing alone already shrinks the previous model
    monkeypatch.undo()
    assert len(sio.dumps(old)) <= 0.8 * size_old


@pytest.mark.parametrize("params", [
    {},  # default: one SVM, float32 weights
    dict(_OLD_DEFAULTS),  # three SVMs, float64 weights
    {"calibration": None},
    {"model": "ensemble"},
    {"model": "lr", "weights_dtype": "float64", "calibration_ensemble": False},
])
def test_predictions_are_bit_identical_after_a_round_trip(params):
    texts, labels = _varied_data(n=105)
    held_out = make_data(2, seed=11)[0] + ["", "完全没见过的字词组合，ＡＢＣ１２３"]
    fitted = DemandClassifier(**params).fit(texts, labels)
    want = fitted.predict_proba(held_out)
    live = [m.coef_ for m in _linear_models(fitted.classifier_)]
    live_idf = [vec.idf_ for name, vec in fitted.features_.transformer_list if name in ("word", "char")]
    assert live and all(c.dtype == np.float64 for c in live)
    for model in _roundtrips(fitted):
        assert np.array_equal(model.predict_proba(held_out), want)  # bit-identical, not just close
        got = [m.coef_ for m in _linear_models(model.classifier_)]
        assert all(a.tobytes() == b.tobytes() and a.dtype == b.dtype for a, b in zip(got, live, strict=True))
        idf = [vec.idf_ for name, vec in model.features_.transformer_list if name in ("word", "char")]
        assert all(a.tobytes() == b.tobytes() for a, b in zip(idf, live_idf, strict=True))
        assert not [k for k in vars(model) if k.startswith("_packed")]
        topic, live_topic = model.features_.transformer_list[-1][1], fitted.features_.transformer_list[-1][1]
        assert topic.counter_.vocabulary_ == live_topic.counter_.vocabulary_ and len(topic.counter_.vocabulary_) > 100
        assert np.array_equal(topic.term_topic_, live_topic.term_topic_) and not vars(topic).get("_packed_vocabulary_")
        # the counter's vocabulary parameter is left out of the saved state and rebuilt, in the same order
        assert topic.counter_.vocabulary == live_topic.counter_.vocabulary == list(live_topic.counter_.vocabulary_)
        assert model.get_params() == fitted.get_params()
    # saving never touched the live model
    assert all(m.coef_ is c for m, c in zip(_linear_models(fitted.classifier_), live, strict=True))
    assert isinstance(fitted.features_.transformer_list[-1][1].counter_.vocabulary_, dict)
    assert isinstance(fitted.features_.transformer_list[-1][1].counter_.vocabulary, list)
    assert all(vec.idf_ is i for (name, vec), i in zip(
        [b for b in fitted.features_.transformer_list if b[0] in ("word", "char")], live_idf, strict=True))


def test_models_saved_before_the_new_parameters_load_and_predict_as_trained(monkeypatch):
    texts, labels = make_data(8, seed=2)
    old = DemandClassifier(**_OLD_DEFAULTS).fit(texts, labels)
    want = old.predict_proba(texts[:10])
    # the state such a model was saved with: no new parameters, weights and idf as plain arrays
    monkeypatch.setattr(DemandClassifier, "__getstate__", lambda self: {
        k: v for k, v in BaseEstimator.__getstate__(self).items() if k not in _OLD_DEFAULTS})
    data = sio.dumps(old)
    pickled = pickle.dumps(old)
    monkeypatch.undo()
    for loaded in (sio.loads(data, trusted=sio.get_untrusted_types(data=data)), pickle.loads(pickled)):
        assert {k: loaded.get_params()[k] for k in _OLD_DEFAULTS} == _OLD_DEFAULTS
        assert np.array_equal(loaded.predict_proba(texts[:10]), want)
        assert len(_linear_models(loaded.classifier_)) == 3
        again = _roundtrips(loaded)[0]  # and it saves in the new layout
        assert np.array_equal(again.predict_proba(texts[:10]), want)


def test_state_of_the_first_packed_layout_still_loads():
    # the layout saved before this study: plain uint8 vocabularies, no other packing, no new parameters
    texts, labels = make_data(8, seed=3)
    old = DemandClassifier(**_OLD_DEFAULTS).fit(texts, labels)
    want = old.predict_proba(texts[:10])
    plain = {k: v for k, v in BaseEstimator.__getstate__(old).items() if k not in _OLD_DEFAULTS}
    state = dict(plain, _packed_vocabularies_={
        name: _pack_vocabulary(vec.vocabulary_) for name, vec in old.features_.transformer_list
        if name in ("word", "char")})
    loaded = DemandClassifier.__new__(DemandClassifier)
    loaded.__setstate__(state)
    assert np.array_equal(loaded.predict_proba(texts[:10]), want)


def test_weight_and_level_packing_is_lossless():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(7, 600))
    w[:, ::3] = 0.0
    w[0, 1] = -0.0
    p = _pack_weights(w)
    values = _unzip_array(p["values"])
    assert values.dtype == np.float64 and values.size == (w != 0).sum() + 1  # -0.0 kept
    back = _unpack_weights(p)
    assert back.tobytes() == w.tobytes() and np.signbit(back[0, 1])
    w32 = w.astype(np.float32).astype(np.float64)
    p32 = _pack_weights(np.asfortranarray(w32))
    assert _unzip_array(p32["values"]).dtype == np.float32
    back = _unpack_weights(p32)
    assert back.flags.f_contiguous and np.array_equal(back, w32)
    assert _pack_weights(w[:, :10]) is None and _pack_weights(w.astype(np.float32)) is None
    idf = rng.choice([1.0, 2.5, 3.25, np.log(7) + 1], size=5000)
    q = _pack_levels(idf)
    assert _unzip_array(q["index"]).dtype == np.uint8 and _unpack_levels(q).tobytes() == idf.tobytes()
    assert _pack_levels(rng.normal(size=70_000)) is None  # too many distinct values: saved as it is
    assert _pack_levels(np.where(np.arange(2000) % 2, 0.0, -0.0)) is None  # 0.0 and -0.0 would merge


def test_bad_weights_dtype_is_a_clear_error():
    texts, labels = make_data(3)
    with pytest.raises(ModelError, match="weights_dtype"):
        DemandClassifier(weights_dtype="float16").fit(texts, labels)
