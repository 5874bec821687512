"""The federated demand classifier against centralized training, robust options and faults."""

from __future__ import annotations

import numpy as np
import pandas as pd
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
    # the centralized reference is the better of the federation's procedure on the pooled rows and a
    # LogisticRegression with C chosen by cross-validation on the training rows (here the latter: on this
    # small generated corpus its regularisation is worth ~0.03 macro-F1 over the unregularised federation)
    cands = secure["centralized_candidates"]
    assert set(cands) == {"same_procedure", "logistic_regression"} and cands["logistic_regression"]["C"] in (1, 10, 100)
    assert secure["centralized"]["macro_f1"] == max(c["macro_f1"] for c in cands.values())
    assert secure["centralized_model"] == max(cands, key=lambda k: cands[k]["macro_f1"])
    # each side chooses its own round on its own validation curve (here the federation round 4 of 5, the pooled
    # procedure round 1 of 5: macro-F1 0.854 against 0.881 on 174 held-out rows; without the choice 0.848 against 0.816)
    assert secure["federated"]["macro_f1"] >= 0.96 * cands["same_procedure"]["macro_f1"]
    assert secure["federated"]["macro_f1"] >= 0.95 * secure["centralized"]["macro_f1"]
    assert secure["ratio_macro_f1"] == pytest.approx(secure["federated"]["macro_f1"] / secure["centralized"]["macro_f1"])
    assert secure["centralized"]["accuracy"] > 0.8  # the task is learnable: the comparison means something
    assert secure["held_out_rows"] > 100
    # each round's federated evaluation (summed tp/fp/fn) is on the districts' validation rows, where the
    # round is chosen; the kept round is then trained again on every training row (the final pass). The
    # held-out rows score only the kept model (test_federated_classifier_rounds.py: the summed test counts
    # equal the central scoring, and the test rows never change the choice)
    sel = secure["round_selection"]
    assert sel["eval_rows"] == "validation" and sel["final_pass"] and secure["validation_rows"] > 50
    assert [h["federated_eval_macro_f1"] for h in secure["history"]] == pytest.approx(sel["validation_macro_f1"])
    assert 1 <= secure["chosen_round"] <= 5 and len(secure["final_pass_history"]) == secure["chosen_round"]


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


@pytest.fixture(scope="module")
def plain_fedavg(messages):
    return simulate(messages, "demand-classifier", "district", secure=False, strategy="fedavg", select_round=False, **KW)


@pytest.mark.parametrize("strategy", ["fedmedian", "krum"])
def test_robust_strategies_resist_a_poisoned_district(messages, plain_fedavg, strategy):
    # the robust strategies replace FedAvg's average (no server Adam step): compared with clean FedAvg
    faults = {"区2": "poison:20"}
    poisoned_avg = simulate(messages, "demand-classifier", "district", secure=False, strategy="fedavg", faults=faults,
                            **KW)
    # the aggregate alone, without the round choice: Krum's global model is one district's model, a different
    # one each round, so its validation curve jumps (0.82, 0.72, 0.87 in rounds 3-5) and the smoothed choice
    # keeps round 4 (0.856 after the final pass, against 0.873 for the last round)
    robust = simulate(messages, "demand-classifier", "district", secure=False, strategy=strategy, faults=faults,
                      select_round=False, **KW)
    clean = plain_fedavg["federated"]["macro_f1"]
    # the attack works against plain FedAvg: 0.466 against 0.878 clean (0.409 before session 19, whose local
    # shuffles were seeded with the node ids: the margin depends on the draw, hence 0.6, not 0.5)
    assert poisoned_avg["federated"]["macro_f1"] < 0.6 * clean
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


def test_a_district_whose_rows_are_all_held_out_takes_part(messages):
    """Its training set is empty: it used to fail with a bare ``StopIteration`` (scikit-learn's hasher on
    no texts) and drop out of a 50-district run; now it trains nothing and its held-out rows count."""
    from govml.federated.task import eval_mask

    df = messages.iloc[:300].copy()
    held = messages.iloc[300:][eval_mask(messages.iloc[300:], 0.2, 0)].index[:2]
    small = messages.loc[held].assign(district="小区4")
    res = simulate(pd.concat([df, small], ignore_index=True), "demand-classifier", "district", rounds=2,
                   n_features=1024, seed=0)
    assert "小区4" in res["districts"] and not res["excluded"] and not res.get("missing")
    assert not any("StopIteration" in e for e in res["events"])
    assert res["held_out_rows"] == int(eval_mask(df, 0.2, 0).sum()) + 2


def test_fedadam_learns_from_fifty_small_districts_where_fedavg_does_not(fifty_small_districts):
    """50 districts of ~12 messages (as a city's 50 districts with a few hundred labelled messages): FedAvg
    weights a district's update by its share of the rows and stalls (macro-F1 far below the pooled model);
    the default server Adam step reaches the centralized model."""
    df = fifty_small_districts
    kw = {"rounds": 5, "n_features": 2**14, "seed": 0}
    adam = simulate(df, "demand-classifier", "district", **kw)  # as deployed: secure sums over a ring of 12
    # the FedAvg baseline without the masks: the same model (masked sums equal plain ones, see
    # test_secure_aggregation_gives_the_plain_fedavg_model) at 8 s instead of 39 s CPU for 50 districts
    avg = simulate(df, "demand-classifier", "district", strategy="fedavg", secure=False, **kw)
    assert adam["strategy"] == "fedadam" and adam["clients"] == 50 and not adam["excluded"]
    assert adam["federated"]["macro_f1"] >= 0.98 * adam["centralized"]["macro_f1"]
    assert adam["federated"]["macro_f1"] > 0.7
    assert avg["federated"]["macro_f1"] < 0.5 * adam["federated"]["macro_f1"]
