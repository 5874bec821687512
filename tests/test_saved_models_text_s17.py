"""Session 17 (after saved_models_text_federated.patch): the text and federated estimators carry
govml._compat.FillsMissingParams — a model saved before a parameter existed loads with it set, and get_params /
clone / repr work. DemandClassifier fills from _OLD_DEFAULTS (the value that reproduces old models)."""

from __future__ import annotations

import pytest
from sklearn.base import clone

from govml.federated.forecaster import FederatedHotspotForecaster
from govml.text.alerts import SurgeDetector
from govml.text.classify import DemandClassifier, SemiSupervisedNB, TopicLexiconFeatures
from govml.text.hot_issues import HotIssueFinder
from govml.text.tokenize import GovTokenizer

CLASSES = [GovTokenizer, SurgeDetector, HotIssueFinder, DemandClassifier, TopicLexiconFeatures, SemiSupervisedNB,
           FederatedHotspotForecaster]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_parameter_can_be_missing_from_an_old_state(cls: type) -> None:
    model = cls()
    state = model.__getstate__() if cls is GovTokenizer else dict(model.__dict__)
    params = model.get_params()
    old_values = getattr(cls, "_old_param_values", {})
    for name in params:
        old = cls.__new__(cls)
        old.__setstate__({k: v for k, v in state.items() if k != name})
        assert getattr(old, name) == old_values.get(name, params[name]), name
        assert set(clone(old).get_params()) == set(params)
        assert repr(old)


def test_demand_classifier_old_default_is_the_old_behaviour() -> None:
    state = {k: v for k, v in DemandClassifier().__dict__.items() if k != "calibration_ensemble"}
    old = DemandClassifier.__new__(DemandClassifier)
    old.__setstate__(state)
    assert old.calibration_ensemble is True
