"""Session 18: a model saved by an older govml lacks the LEARNED attributes fit() sets since (govml._compat). Each
class declares, per attribute its methods read, the value a model saved before it existed had
(``_old_learned_values``: filled on load, predicts as before) or that no value reproduces it
(``_required_learned``: reading it raises ModelError naming the govml that saved the file and "retrain").
The old file is simulated as in the session 17 tests: the attribute is left out of the pickled state."""

from __future__ import annotations

import copy
import logging
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator

from govml import __version__
from govml._compat import MISSING_KEY, VERSION_KEY, FillsMissingParams
from govml.errors import ModelError
from old_models import old_file


class Shifted(FillsMissingParams, BaseEstimator):
    """A small estimator with one learned attribute added later that a value reproduces (``shift_``: 0 before it
    existed) and one that none does (``scale_``); ``mean_`` marks it fitted."""

    _old_learned_values = {"shift_": 0.0, "seen_": {}}
    _required_learned = ("scale_",)

    def __init__(self, shift: bool = True):
        self.shift = shift

    def fit(self, X: np.ndarray) -> Shifted:
        X = np.asarray(X, dtype=float)
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0) + 1.0
        self.shift_ = 1.5 if self.shift else 0.0
        self.seen_ = {"rows": len(X)}
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "mean_"):
            raise ModelError("Shifted is not fitted")
        out = (np.asarray(X, dtype=float) - self.mean_) / self.scale_
        return out + self.shift_ if getattr(self, "optional_", None) is None else out


X = np.arange(12.0).reshape(4, 3)


def test_a_value_that_reproduces_is_filled_and_said(caplog) -> None:  # noqa: ANN001
    unshifted = Shifted(shift=False).fit(X)  # what a model from before shift_ existed did: no shift
    with caplog.at_level(logging.INFO, logger="govml._compat"):
        old = pickle.loads(old_file(Shifted(shift=False).fit(X), "shift_", "seen_"))
    assert "learned attribute(s) added since set to the value such a model had: shift_=0.0, seen_={}" in caplog.text
    assert "an older govml (the file records no govml version" in caplog.text
    np.testing.assert_array_equal(old.predict(X), unshifted.predict(X))
    a, b = (pickle.loads(old_file(Shifted().fit(X), "seen_")) for _ in range(2))
    a.seen_["x"] = 1
    assert b.seen_ == {} and Shifted._old_learned_values["seen_"] == {}  # each model its own copy of the value
    # a model saved now: nothing filled, nothing said, the govml that wrote it is in the file and not kept on load
    caplog.clear()
    model = Shifted().fit(X)
    assert pickle.loads(pickle.dumps(model)).__dict__.keys() == model.__dict__.keys()
    assert model.__getstate__()[VERSION_KEY] == __version__ and VERSION_KEY not in vars(model)
    with caplog.at_level(logging.INFO, logger="govml._compat"):
        np.testing.assert_array_equal(copy.deepcopy(model).predict(X), model.predict(X))
    assert caplog.text == ""


def test_an_attribute_nothing_reproduces_is_a_clear_error_where_it_is_read(caplog) -> None:  # noqa: ANN001
    with caplog.at_level(logging.WARNING, logger="govml._compat"):
        old = pickle.loads(old_file(Shifted().fit(X), "scale_", version="0.0.9"))  # it loads
    assert "Shifted saved by govml 0.0.9 has no scale_" in caplog.text and "retrain" in caplog.text
    with pytest.raises(ModelError) as exc:
        old.predict(X)
    msg = str(exc.value)
    assert "Shifted" in msg and "saved by govml 0.0.9" in msg and "'scale_'" in msg
    assert f"retrain the model with this govml ({__version__})" in msg
    with pytest.raises(ModelError, match="saved by an older govml"):
        _ = pickle.loads(old_file(Shifted().fit(X), "scale_")).scale_
    # getattr with a default and hasattr of anything else: as ever
    assert getattr(old, "optional_", None) is None and not hasattr(old, "other_")
    with pytest.raises(AttributeError, match="'Shifted' object has no attribute 'other_'"):
        _ = old.other_
    # saved again (still without scale_), loaded again: the same error, now naming the govml that wrote it last
    again = pickle.loads(pickle.dumps(old))
    assert MISSING_KEY not in again.__getstate__()
    with pytest.raises(ModelError, match=f"saved by govml {__version__}"):
        again.predict(X)
    # refitted: learned again, nothing missing
    np.testing.assert_array_equal(old.fit(X).predict(X), Shifted().fit(X).predict(X))


def test_an_unfitted_model_gets_no_learned_attribute() -> None:
    unfitted = pickle.loads(pickle.dumps(Shifted()))
    assert not hasattr(unfitted, "shift_") and MISSING_KEY not in vars(unfitted)
    with pytest.raises(ModelError, match="not fitted"):
        unfitted.predict(X)
    # the attribute that marks a model fitted is not declared: its own error stands
    no_mean = pickle.loads(old_file(Shifted().fit(X), "mean_"))
    with pytest.raises(ModelError, match="Shifted is not fitted"):
        no_mean.predict(X)


def test_through_skops(tmp_path) -> None:  # noqa: ANN001
    sio = pytest.importorskip("skops.io")
    model = Shifted(shift=False).fit(X)
    expected = model.predict(X)
    del model.shift_
    path = tmp_path / "old.skops"
    sio.dump(model, path)
    loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    assert loaded.shift_ == 0.0
    np.testing.assert_array_equal(loaded.predict(X), expected)


# -- govml's estimators ---------------------------------------------------------------------------------------


def _learned(model: object) -> set[str]:
    return {k for k in vars(model) if k.endswith("_") and not k.startswith("__")}


@pytest.fixture(scope="module")
def demands():  # noqa: ANN201
    from govml.text.classify import DemandClassifier
    from text_vocab import topic_messages

    texts, labels = topic_messages(12, seed=3)
    return texts, DemandClassifier().fit(texts, labels)


def test_demand_classifier(demands) -> None:  # noqa: ANN001
    from govml.text.classify import DemandClassifier

    texts, model = demands
    want = model.predict_frame(texts, known_words=True)
    assert model.lsa_ is None and model.lexicon_x_ is None  # the default model: the values an old model had
    for name in DemandClassifier._old_learned_values:
        old = pickle.loads(old_file(model, name))
        assert getattr(old, name) is None, name
        pd.testing.assert_frame_equal(old.predict_frame(texts, known_words=True), want)
    parts = {"features_": ("_packed_vocabularies_", "_packed_idf_")}  # the vocabularies are saved packed apart
    for name in DemandClassifier._required_learned:
        old = pickle.loads(old_file(model, name, packed=parts.get(name, ())))
        with pytest.raises(ModelError, match=f"DemandClassifier: the model saved by .*'{name}'.*retrain"):
            old.predict_frame(texts, known_words=True)
    # the topic-lexicon block inside it, the same way
    from govml.text.classify import TopicLexiconFeatures

    block = next(v for _, v in model.features_.transformer_list if isinstance(v, TopicLexiconFeatures))
    assert _learned(block) == set(TopicLexiconFeatures._required_learned)
    for name in TopicLexiconFeatures._required_learned:
        packed = ("_packed_vocabulary_", "_vocabulary_param_packed_") if name == "counter_" else ()
        old = pickle.loads(old_file(block, name, packed=packed))
        with pytest.raises(ModelError, match=f"TopicLexiconFeatures: .*'{name}'"):
            old.transform(texts[:3]) if name != "topics_" else old.get_feature_names_out()


def test_semi_supervised_nb() -> None:
    from govml.text.classify import SemiSupervisedNB

    rng = np.random.default_rng(0)
    F, y = rng.poisson(1.0, size=(40, 6)), np.repeat(["a", "b"], 20)
    nb = SemiSupervisedNB().fit(F, y)
    assert _learned(nb) - {"n_features_in_", "n_iter_"} == set(SemiSupervisedNB._required_learned)
    for name in SemiSupervisedNB._required_learned:
        with pytest.raises(ModelError, match=f"SemiSupervisedNB: .*'{name}'"):
            pickle.loads(old_file(nb, name)).predict(F)


def test_indicator_normaliser(samples_dir) -> None:  # noqa: ANN001
    from govml.skills import IndicatorNormaliser, load_indicator_system, prepare_assessments

    system = load_indicator_system(None)
    data = prepare_assessments(pd.read_csv(samples_dir / "assessments.csv"), system).data
    norm = IndicatorNormaliser(system).fit(data)
    with pytest.raises(ModelError, match="IndicatorNormaliser: .*'std_'.*retrain"):
        pickle.loads(old_file(norm, "std_")).transform(data)
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(norm)).transform(data), norm.transform(data))


# -- the hotspot forecasters (their declarations come with /tmp/s18/hE/hotspot.patch and federated.patch) ----------

SMALL = dict(horizon=2, n_estimators=15, learning_rate=0.1, num_leaves=7, min_child_samples=10,
             calibration_origins=2)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    from govml.samples.complaints import synthetic_panel

    return synthetic_panel(n_areas=3, n_categories=2, n_periods=36, seed=4)


def _declared(cls: type) -> bool:
    return "_required_learned" in vars(cls)


def _hotspot_forecaster() -> type:
    from govml.hotspot.forecast import HotspotForecaster

    return HotspotForecaster


def _federated() -> type:
    from govml.federated.forecaster import FederatedHotspotForecaster

    return FederatedHotspotForecaster


needs_hotspot_patch = pytest.mark.skipif(not _declared(_hotspot_forecaster()),
                                         reason="needs /tmp/s18/hE/hotspot.patch (session 18: the lead applies it)")
needs_federated_patch = pytest.mark.skipif(not _declared(_federated()),
                                           reason="needs /tmp/s18/hE/federated.patch (session 18: the lead applies it)")


def test_hotspot_forecaster(panel) -> None:  # noqa: ANN001
    HotspotForecaster = _hotspot_forecaster()
    model = HotspotForecaster(**SMALL).fit(panel)
    fills, required = HotspotForecaster._old_learned_values, HotspotForecaster._required_learned
    assert _learned(model) == {"models_", *fills, *required}  # every learned attribute is declared
    calls = {"predict": lambda m: m.predict(2), "explain": lambda m: m.explain(2), "describe": lambda m: m.describe()}
    for name, value in fills.items():
        old = pickle.loads(old_file(model, name))
        then = copy.deepcopy(model)
        setattr(then, name, copy.deepcopy(value))  # the model as one from before the attribute existed was
        pd.testing.assert_frame_equal(old.predict(2), then.predict(2))
        assert old.describe() == then.describe(), name
    # point_rule="mix" learns no shift: the same as a model from before point_shift_ existed, to the bit
    pd.testing.assert_frame_equal(pickle.loads(old_file(model, "point_shift_")).predict(2), model.predict(2))
    for name in required:
        old = pickle.loads(old_file(model, name))
        failed = []
        for call, f in calls.items():
            try:
                f(old)
            except ModelError as e:
                assert f"'{name}'" in str(e) and "retrain" in str(e), (name, call, e)
                failed.append(call)
        assert failed or name == "data_start_", name  # read by at least one (data_start_: by fit only)


def test_baselines(panel) -> None:  # noqa: ANN001
    from govml.hotspot.baselines import MeanLast

    base = MeanLast(window=4).fit(panel)
    for name in ("keys_", "periods_"):
        with pytest.raises(ModelError, match=f"MeanLast: .*'{name}'.*retrain"):
            pickle.loads(old_file(base, name)).predict(3)


def test_federated_forecaster(panel) -> None:  # noqa: ANN001
    Fed = _federated()
    model = Fed(n_trees=6, level=False, holidays=None).fit(panel)  # what a model from before the level had
    assert model._levels is None and model._fac is None
    want = model.predict()
    old = pickle.loads(old_file(model, "_levels", "_fac", "level_weights_", "holiday_factors_", "level", "holidays"))
    assert old.get_params()["level"] is False and old.get_params()["holidays"] is None
    pd.testing.assert_frame_equal(old.predict(), want)
    for name in Fed._required_learned:
        if name in ("dispersion_", "point_weight_"):
            continue  # read with point="auto" only
        with pytest.raises(ModelError, match=f"FederatedHotspotForecaster: .*'{name}'.*retrain"):
            pickle.loads(old_file(model, name)).predict()
    auto = Fed(n_trees=6, point="auto", select_trees=True).fit(panel)
    with pytest.raises(ModelError, match="'point_weight_'"):
        pickle.loads(old_file(auto, "point_weight_")).predict()
