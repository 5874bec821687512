"""govml.tracking: the store, fingerprints without personal data, models that load back."""

from __future__ import annotations

import os
import uuid

import numpy as np
import pandas as pd
import pytest

from govml import models, tracking

PHONE = "13812345678"


def test_embedded_store_lives_under_govml_home_and_env_is_left_alone(govml_home):
    uri = tracking.configure()
    assert uri == f"sqlite:///{govml_home / 'mlruns' / 'mlflow.db'}"
    assert tracking.is_embedded() and "MLFLOW_TRACKING_URI" not in os.environ
    exp_id = tracking.ensure_experiment("layer-test")
    import mlflow

    assert mlflow.get_experiment(exp_id).artifact_location == (govml_home / "mlruns" / "artifacts").as_uri()


def test_server_uri_overrides(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    assert tracking.tracking_uri() == "http://127.0.0.1:9" and not tracking.is_embedded()


def test_fingerprint_has_counts_and_hashes_never_text():
    df = pd.DataFrame({"created_at": ["2026-01-01", "2026-02-03", None],
                       "text": [f"我的电话{PHONE}，楼道漏水", "噪音扰民", "停车难"],
                       "category": ["漏水", "噪音", None]})
    fp = tracking.data_fingerprint(df, time_col="created_at", category_cols=["category"])
    assert fp["rows"] == 3 and fp["columns"] == 3
    assert (fp["date_min"], fp["date_max"]) == ("2026-01-01", "2026-02-03")
    assert fp["categories.category"] == {"漏水": 1, "噪音": 1, "<NA>": 1}
    assert PHONE not in repr(fp) and "楼道" not in repr(fp)
    assert tracking.data_fingerprint(df.rename(columns={"text": "body"}))["column_hash"] != fp["column_hash"]


def test_input_examples_are_masked():
    ex = pd.DataFrame({"text": [f"联系{PHONE}"], "n": [1]})
    masked = tracking.mask_example(ex)
    assert PHONE not in masked["text"].iloc[0] and masked["n"].iloc[0] == 1
    assert PHONE in ex["text"].iloc[0]  # the caller's frame is untouched
    assert PHONE not in tracking.mask_example([f"联系{PHONE}"])[0]
    assert tracking.mask_example(None) is None


def test_pip_requirements_are_explicit_pins():
    reqs = tracking.pip_requirements(("lightgbm",))
    assert any(r.startswith("mlflow==") for r in reqs) and any(r.startswith("lightgbm==") for r in reqs)


class _Horizon:
    """A stand-in for a govml object whose predict takes a horizon, not a DataFrame."""

    def predict(self, horizon=None):
        return pd.DataFrame({"horizon": list(range(1, (horizon or 2) + 1)), "yhat": 1.5})


def test_sklearn_and_pyfunc_models_round_trip_through_the_registry():
    import mlflow.pyfunc
    from sklearn.linear_model import LogisticRegression

    X = pd.DataFrame(np.random.default_rng(0).normal(size=(60, 2)), columns=["a", "b"])
    clf = LogisticRegression().fit(X, (X["a"] > 0).astype(int))
    name_s, name_p = f"govml-layer-{uuid.uuid4().hex[:6]}", f"govml-layer-{uuid.uuid4().hex[:6]}"
    with tracking.run("layer-test", run_name="round trip"):
        uri_s = tracking.log_sklearn_model(clf, input_example=X.head(2))
        uri_p = tracking.log_pyfunc_model(models.pyfunc_wrapper(_Horizon(), "forecaster"), name="fc",
                                          input_example=pd.DataFrame({"horizon": [3]}))
    v = tracking.register(uri_s, name_s)
    assert tracking.get_alias(name_s, "champion") is None  # registering never aliases
    tracking.set_alias(name_s, "champion", v)
    assert str(tracking.get_alias(name_s, "champion").version) == v
    back = models.load(name_s)
    np.testing.assert_array_equal(back.predict(X), clf.predict(X))
    assert list(models.load(name_s, flavor="pyfunc").predict(X.head(3))) == list(clf.predict(X.head(3)))

    tracking.set_alias(name_p, "champion", tracking.register(uri_p, name_p))
    native = models.load(name_p)
    assert isinstance(native, _Horizon)
    out = mlflow.pyfunc.load_model(f"models:/{name_p}@champion").predict(pd.DataFrame({"horizon": [3]}))
    assert list(out["horizon"]) == [1, 2, 3]
    tracking.delete_alias(name_p, "champion")
    assert tracking.get_alias(name_p, "champion") is None
    with pytest.raises(models.TrackingError, match="flavor"):
        models.load(name_s, flavor="onnx")


def _double(x):
    return x * 2


def test_skops_only_for_trusted_types_else_cloudpickle():
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    X, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
    plain = make_pipeline(StandardScaler(), LinearRegression()).fit(X, y)
    assert tracking._skops_trust(plain) is not None  # all sklearn/numpy: skops
    custom = make_pipeline(FunctionTransformer(_double), LinearRegression()).fit(X, y)
    assert tracking._skops_trust(custom) is None  # a test-module function: cloudpickle


def test_trusted_types_given_by_the_caller_spare_a_serialisation_but_not_the_check(monkeypatch):
    """log_sklearn_model(skops_trusted_types=...) skips the trial skops dump when every type is in
    govml's trusted set, and still falls back to the check (and cloudpickle) when one is not."""
    import mlflow
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    X = pd.DataFrame(np.random.default_rng(1).normal(size=(40, 2)), columns=["a", "b"])
    clf = LogisticRegression().fit(X, (X["b"] > 0).astype(int))
    trusted = sio.get_untrusted_types(data=sio.dumps(clf))
    calls = []
    real = tracking._skops_trust
    monkeypatch.setattr(tracking, "_skops_trust", lambda m: calls.append(m) or real(m))
    with tracking.run("layer-test", run_name="trusted given"):
        uri = tracking.log_sklearn_model(clf, input_example=X.head(2), skops_trusted_types=trusted)
        assert calls == []
        uri_foreign = tracking.log_sklearn_model(clf, name="m2", input_example=X.head(2),
                                                 skops_trusted_types=[*trusted, "evil.module.Thing"])
        assert len(calls) == 1  # a foreign type in the caller's list: checked again
    back = mlflow.sklearn.load_model(uri)
    np.testing.assert_array_equal(back.predict(X), clf.predict(X))
    np.testing.assert_array_equal(mlflow.sklearn.load_model(uri_foreign).predict(X), clf.predict(X))
