"""The defaults `flwr run` merges into a deployment's run config ([tool.flwr.app.config] in
pyproject.toml) must not change what the app does: a deployment carries `dp-clip = 1.0` although DP
is off, and before this test the demand classifier's districts then replied with the DP-FedAvg layout
(K·F + K + 1 values) while the server summed the secure layout (K·F + K + 2) — a garbage model about
half the time, in deployment only."""

from __future__ import annotations

import numpy as np
import pytest

from govml.federated.simulation import simulate

pytestmark = pytest.mark.xdist_group("flower")


def test_pyproject_defaults_hold_a_dp_clip_while_dp_is_off(app_defaults):
    cfg = app_defaults
    assert float(cfg["dp-clip"]) > 0 and float(cfg["dp-epsilon"]) == 0  # the situation this file guards


@pytest.mark.parametrize("secure", [True, False])
def test_classifier_with_deployment_defaults_equals_the_plain_simulation(messages, secure, app_defaults):
    plain = simulate(messages, "demand-classifier", "district", secure=secure, rounds=2, n_features=2**12, seed=3)
    deployed = simulate(messages, "demand-classifier", "district", secure=secure, rounds=2, n_features=2**12,
                        seed=3, base_run_config=app_defaults)
    assert deployed["missing"] == {} and deployed["excluded"] == {}
    for a, b in zip(plain["history"], deployed["history"], strict=True):
        assert b["train_loss"] >= 0
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-9, nan_ok=True)
        assert a["federated_eval_accuracy"] == pytest.approx(b["federated_eval_accuracy"])
    np.testing.assert_allclose(deployed["federated"]["macro_f1"], plain["federated"]["macro_f1"])


def test_benchmark_with_deployment_defaults_equals_the_plain_simulation(assessments, app_defaults):
    kw = {"indicators": ["service", "response"], "seed": 1}
    plain = simulate(assessments, "benchmark", "district", **kw)
    deployed = simulate(assessments, "benchmark", "district", base_run_config=app_defaults, **kw)
    assert deployed["federated"] == plain["federated"]



def test_switches_spelt_as_strings_are_read_as_meant():
    # `flwr run --run-config 'secure="false"'` gives a string; bool("false") would have read it as on
    from govml.federated.task import flag

    assert flag({"secure": "false"}, "secure", True) is False
    assert flag({"secure": " Off "}, "secure", True) is False
    assert flag({"secure": "TRUE"}, "secure", False) is True
    assert flag({"secure": 0}, "secure", True) is False
    assert flag({}, "secure", True) is True and flag({}, "secure", False) is False
    assert flag({"refit": False}, "refit", True) is False
