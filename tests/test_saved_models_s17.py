"""Session 17: a model saved by an older govml — before a parameter existed — loads with that parameter set
(``govml._compat.FillsMissingParams``), predicts as before, and scikit-learn's ``get_params`` / ``clone`` / ``repr``
work on it. The old file is simulated by deleting the parameter from the model's state before it is written."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone

from govml._compat import FillsMissingParams, fill_missing_params, init_defaults
from old_models import old_file

SMALL = dict(horizon=2, n_estimators=15, learning_rate=0.1, num_leaves=7, min_child_samples=10,
             calibration_origins=2)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    from govml.samples.complaints import synthetic_panel

    return synthetic_panel(n_areas=3, n_categories=2, n_periods=36, seed=4)


@pytest.fixture(scope="module")
def forecaster(panel):  # noqa: ANN001, ANN201
    from govml.hotspot.forecast import HotspotForecaster

    return HotspotForecaster(**SMALL).fit(panel)


def test_old_hotspot_forecaster_loads_predicts_and_clones(forecaster, caplog) -> None:  # noqa: ANN001
    from govml.hotspot.forecast import HotspotForecaster

    with pytest.raises(AttributeError):  # what an old file gives without the fill (plain BaseEstimator)
        bare = BaseEstimator.__new__(HotspotForecaster)
        bare.__dict__.update({k: v for k, v in forecaster.__dict__.items() if k != "reconcile"})
        bare.get_params()
    with caplog.at_level(logging.INFO, logger="govml._compat"):
        old = pickle.loads(old_file(forecaster, "reconcile", "hotspot_window"))
    assert "reconcile=None" in caplog.text and "hotspot_window=None" in caplog.text
    assert old.reconcile is None and old.hotspot_window is None
    pd.testing.assert_frame_equal(old.predict(2), forecaster.predict(2))
    assert old.get_params() == forecaster.get_params()
    fresh = clone(old)
    assert fresh.get_params()["reconcile"] is None and not hasattr(fresh, "models_")
    assert "HotspotForecaster(" in repr(old) and repr(old) == repr(forecaster)
    # a model saved now loads with nothing filled and nothing said
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="govml._compat"):
        same = pickle.loads(pickle.dumps(forecaster))
    assert caplog.text == ""
    pd.testing.assert_frame_equal(same.predict(2), forecaster.predict(2))


class Scaled(FillsMissingParams, BaseEstimator):
    """A small estimator skops can write (numpy state only): the mixin as govml's skops-saved models carry it."""

    def __init__(self, scale: float = 2.0, shift: float = 0.0):
        self.scale, self.shift = scale, shift

    def fit(self, X: np.ndarray) -> Scaled:
        self.mean_ = np.asarray(X, dtype=float).mean(axis=0)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=float) - self.mean_) * self.scale + self.shift


class Smoothed(FillsMissingParams, BaseEstimator):
    _old_param_values = {"smooth": False}  # models saved before `smooth` existed did not smooth

    def __init__(self, alpha: float = 1.0, smooth: bool = True, extra: tuple = (1, 2)):
        self.alpha, self.smooth, self.extra = alpha, smooth, extra


class NoBase(FillsMissingParams):  # no parent __setstate__: the attributes are set as pickle would
    def __init__(self, k: int = 5):
        self.k = k


def test_old_model_through_skops(panel, tmp_path) -> None:  # noqa: ANN001
    """skops (MLflow's format for govml's sklearn models when skops can write them — the classifier; the forecaster
    goes to cloudpickle, which loads like pickle) builds the object with ``__new__`` and hands the loaded attributes to
    ``__setstate__``: the same fill. The old file: a model whose parameter attribute is not there when dumped."""
    sio = pytest.importorskip("skops.io")
    from govml.hotspot.baselines import MeanLast

    X = np.arange(12.0).reshape(4, 3)
    model = Scaled().fit(X)
    expected = model.predict(X)
    del model.shift
    path = tmp_path / "old.skops"
    sio.dump(model, path)
    loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    assert loaded.get_params() == {"scale": 2.0, "shift": 0.0}
    np.testing.assert_array_equal(loaded.predict(X), expected)
    assert clone(loaded).get_params() == {"scale": 2.0, "shift": 0.0}
    # a fitted baseline (pandas state: saved with pickle/cloudpickle) from before its parameter existed
    base = MeanLast(window=4).fit(panel)
    old = pickle.loads(old_file(base, "window"))
    assert old.get_params() == {"window": 4}
    pd.testing.assert_frame_equal(old.predict(3), base.predict(3))


def test_old_indicator_normaliser() -> None:
    from govml.skills.scoring import IndicatorNormaliser

    assert issubclass(IndicatorNormaliser, FillsMissingParams)
    assert "system" not in init_defaults(IndicatorNormaliser)  # a required parameter has no default to fill


def test_old_values_override_the_default() -> None:
    """A parameter whose current default would change what an old model did is filled with the value that
    reproduces it (``_old_param_values``), not with the default."""

    m = pickle.loads(old_file(Smoothed(alpha=2.0), "smooth", "extra"))
    assert m.get_params() == {"alpha": 2.0, "smooth": False, "extra": (1, 2)}
    state = {"alpha": 3.0, "smooth": True, "extra": ()}
    assert fill_missing_params(Smoothed, state) is state  # nothing missing: the same dict, untouched

    nb = NoBase.__new__(NoBase)
    nb.__setstate__({"fitted_": np.ones(2)})
    assert nb.k == 5 and nb.fitted_.sum() == 2.0
