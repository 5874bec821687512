"""The federated demand classifier against centralized training, robust options and faults."""

from __future__ import annotations

import numpy as np
import pytest

from govml.errors import ConfigError
from govml.federated.simulation import simulate

pytestmark = pytest.mark.xdist_group("flower")

KW = {"rounds": 5, "n_features": 2**14, "seed": 0}


@pytest.fixture(scope="module")
def plain(messages):
    return simulate(messages, "demand-classifier", "district", secure=False, **KW)


@pytest.fixture(scope="module")
def secure(messages):
    return simulate(messages, "demand-classifier", "district", secure=True, **KW)


def test_federated_matches_centralized_on_the_same_held_out_rows(secure):
    assert secure["clients"] == 3 and secure["rounds"] == 5
    assert secure["federated"]["macro_f1"] >= 0.98 * secure["centralized"]["macro_f1"]
    assert secure["centralized"]["accuracy"] > 0.8  # the task is learnable: the comparison means something
    assert secure["held_out_rows"] > 100
    # the last round's federated evaluation (summed tp/fp/fn) equals scoring the final model centrally
    last = secure["history"][-1]
    assert last["federated_eval_macro_f1"] == pytest.approx(secure["federated"]["macro_f1"])
    assert last["federated_eval_accuracy"] == pytest.approx(secure["federated"]["accuracy"])


def test_secure_aggregation_gives_the_plain_fedavg_model(plain, secure):
    # same seeds, same local training: the masked sum decodes to FedAvg up to fixed-point error
    assert np.abs(plain["model"]["coef"] - secure["model"]["coef"]).max() < 1e-5
    assert np.abs(plain["model"]["intercept"] - secure["model"]["intercept"]).max() < 1e-5
    assert all(b > 0 for b in secure["bytes_sent_per_client"].values())


def test_a_broken_district_is_named_and_the_others_go_on(messages, caplog):
    res = simulate(messages, "demand-classifier", "district", secure=True, faults={"区2": "broken"}, **KW)
    assert res["districts"] == sorted(res["districts"]) or set(res["districts"]) == {"区1", "区3"}
    assert set(res["districts"]) == {"区1", "区3"}
    assert "区2" in res["excluded"]
    reason = res["excluded"]["区2"]
    assert "category" in reason and "district 区2" in reason
    assert res["federated"]["macro_f1"] > 0.8


def test_a_district_that_drops_out_is_reported_and_secure_sums_recover(messages):
    res = simulate(messages, "demand-classifier", "district", secure=True, faults={"区3": "dropout"}, **KW)
    assert res["missing"] == {"区3": [2]}  # it answered the key exchange and round 1, then went silent
    assert [h["districts"] for h in res["history"]] == [3] + [2] * (KW["rounds"] - 1)
    assert any("区3" in e and "dropped out" in e for e in res["events"])
    assert res["federated"]["macro_f1"] > 0.8


@pytest.mark.parametrize("strategy", ["fedmedian", "krum"])
def test_robust_strategies_resist_a_poisoned_district(messages, plain, strategy):
    faults = {"区2": "poison:20"}
    poisoned_avg = simulate(messages, "demand-classifier", "district", secure=False, faults=faults, **KW)
    robust = simulate(messages, "demand-classifier", "district", secure=False, strategy=strategy, faults=faults, **KW)
    clean = plain["federated"]["macro_f1"]
    assert poisoned_avg["federated"]["macro_f1"] < 0.5 * clean  # the attack works against plain FedAvg
    assert robust["federated"]["macro_f1"] >= 0.98 * clean


def test_robust_strategy_cannot_run_under_secure_aggregation(messages):
    with pytest.raises(ConfigError, match="secure"):
        simulate(messages, "demand-classifier", "district", secure=True, strategy="krum", **KW)


def test_client_level_dp_spends_the_target_epsilon(messages, secure):
    res = simulate(messages, "demand-classifier", "district", secure=True, dp_epsilon=8.0, dp_clip=1.0, **KW)
    dp = res["dp"]
    assert dp["accounting"] == "rdp" and dp["mechanism"] == "gaussian"
    assert 7.9 <= dp["epsilon"] <= 8.0  # calibrated to the target, composed over the 5 rounds
    assert dp["noise_multiplier"] > 1.0
    # the noise is really there: the model differs from secure FedAvg without DP
    assert np.abs(res["model"]["coef"] - secure["model"]["coef"]).max() > 1e-3
