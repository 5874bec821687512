"""The demand classifier keeps the round with the best validation macro-F1 (issue 6): the round is chosen
on the districts' own validation rows (a seeded split of their training rows), never on the held-out
test rows that ``federated`` / ``centralized`` score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.federated import classifier as C
from govml.federated import task as T
from govml.federated.simulation import simulate

pytestmark = pytest.mark.xdist_group("flower")

KW = {"rounds": 8, "n_features": 2**12, "seed": 0, "secure": False}


class EvaluateRequests:
    """Client mod: the global model the server sends in each round's evaluate request, by round."""

    def __init__(self) -> None:
        self.models: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, msg, context, call_next):
        if msg.metadata.message_type == "evaluate":
            arrays = msg.content.array_records["arrays"]
            self.models[int(msg.metadata.group_id)] = (arrays["coef"].numpy().copy(), arrays["intercept"].numpy().copy())
        return call_next(msg, context)


@pytest.fixture(scope="module")
def noisy(messages):
    """The generated messages with more label noise (a third of the labels drawn at random): the validation
    curve peaks and then falls."""
    rng = np.random.default_rng(2)
    out = messages.copy()
    flip = rng.random(len(out)) < 0.35
    cats = sorted(out["category"].unique())
    out.loc[flip, "category"] = rng.choice(cats, int(flip.sum()))
    return out


@pytest.fixture(scope="module")
def run(noisy):
    """Without the final pass: the kept model is the chosen round's global model itself."""
    rec = EvaluateRequests()
    res = simulate(noisy, "demand-classifier", "district", mods=[rec], final_pass=False, **KW)
    return res, rec


@pytest.fixture(scope="module")
def default_run(noisy):
    return simulate(noisy, "demand-classifier", "district", **KW)


def test_the_kept_model_is_the_validation_best_rounds(run, noisy):
    res, rec = run
    sel = res["round_selection"]
    chosen = res["chosen_round"]
    assert sel["eval_rows"] == "validation" and sel["rounds_run"] == KW["rounds"] == len(res["history"])
    # the per-round federated evaluation is the validation curve the choice is made on
    val = [h["federated_eval_macro_f1"] for h in res["history"]]
    np.testing.assert_allclose(sel["validation_macro_f1"], val, atol=1e-6)
    # window 5, shrunk symmetrically at the ends (the first and the last round alone)
    smoothed = [np.mean(val[r - k:r + k + 1]) for r in range(len(val)) for k in [min(2, r, len(val) - 1 - r)]]
    np.testing.assert_allclose(sel["smoothed_validation_macro_f1"], smoothed, atol=1e-6)
    assert chosen == int(np.argmax(smoothed)) + 1 == sel["chosen_round"]
    assert 1 <= chosen < KW["rounds"]  # this data peaks before the last round: the choice matters here
    assert str(chosen) in sel["why"] and "validation" in sel["why"]
    # the returned model is that round's global model (the one the districts evaluated in round `chosen`)
    coef, intercept = rec.models[chosen]
    np.testing.assert_array_equal(res["model"]["coef"], coef)
    np.testing.assert_array_equal(res["model"]["intercept"], intercept)
    assert np.abs(res["model"]["coef"] - rec.models[KW["rounds"]][0]).max() > 1e-3
    # and its validation macro-F1 recomputed centrally on the pooled validation rows is the curve's value
    labels = res["model"]["labels"]
    vals = []
    for _, frame in noisy.groupby("district"):
        _te, va = T.validation_mask(frame, 0.2, sel["val_fraction"], 0)
        vals.append(frame[va])
    v = pd.concat(vals)
    y = C.label_index(labels, v["category"].to_numpy(dtype=object))
    X = C.featurize(v["text"].to_numpy(dtype=object), KW["n_features"])
    c = C.eval_counts(X, y, res["model"]["coef"], res["model"]["intercept"], len(labels))
    assert c["n"] == sel["validation_rows"] == res["validation_rows"]
    f1 = C.scores_from_counts(c["tp"], c["fp"], c["fn"], c["n"], c["correct"])["macro_f1"]
    assert f1 == pytest.approx(val[chosen - 1])


def test_the_final_pass_trains_the_chosen_rounds_on_every_training_row(run, default_run):
    res, _ = run
    sel = default_run["round_selection"]
    assert default_run["chosen_round"] == res["chosen_round"] and sel["validation_macro_f1"] == \
        res["round_selection"]["validation_macro_f1"]  # the same selection pass
    assert sel["final_pass"] and not res["round_selection"]["final_pass"]
    assert len(default_run["final_pass_history"]) == sel["final_pass_rounds"] == default_run["chosen_round"]
    assert default_run["training_rounds_total"] == KW["rounds"] + default_run["chosen_round"]
    assert "every training row" in sel["why"]
    # a different model, trained on the fit rows plus the validation rows
    assert np.abs(default_run["model"]["coef"] - res["model"]["coef"]).max() > 1e-3
    assert all(h["train_loss"] > 0 for h in default_run["final_pass_history"])


def test_the_test_rows_never_choose_the_round(default_run, noisy):
    """Changing only the held-out test rows' labels changes the test scores, never the round or the model."""
    res = default_run
    labels = sorted(noisy["category"].unique())
    test = np.zeros(len(noisy), dtype=bool)
    for _, frame in noisy.groupby("district"):
        test[noisy.index.get_indexer(frame.index[T.eval_mask(frame, 0.2, 0)])] = True
    changed = noisy.copy()
    # every held-out row gets the next category: the test labels are now mostly wrong
    nxt = {a: labels[(i + 1) % len(labels)] for i, a in enumerate(labels)}
    changed.loc[test, "category"] = changed.loc[test, "category"].map(nxt)
    other = simulate(changed, "demand-classifier", "district", **KW)
    assert other["chosen_round"] == res["chosen_round"]
    assert other["round_selection"]["validation_macro_f1"] == res["round_selection"]["validation_macro_f1"]
    np.testing.assert_array_equal(other["model"]["coef"], res["model"]["coef"])
    cands, other_cands = res["centralized_candidates"], other["centralized_candidates"]
    assert other_cands["same_procedure"]["chosen_round"] == cands["same_procedure"]["chosen_round"]
    assert other["federated"]["macro_f1"] < 0.5 * res["federated"]["macro_f1"]  # the test rows did change


def test_the_pooled_procedure_chooses_its_round_the_same_way(default_run):
    res = default_run
    same = res["centralized_candidates"]["same_procedure"]
    assert 1 <= same["chosen_round"] <= KW["rounds"]
    assert res["train_rows"] > res["validation_rows"] > 0 and res["held_out_rows"] > 100


def test_patience_stops_early_and_keeps_the_best_round(noisy):
    res = simulate(noisy, "demand-classifier", "district", round_patience=2,
                   **{**KW, "rounds": 30})
    sel = res["round_selection"]
    assert sel["stopped_early"] and sel["rounds_run"] == res["chosen_round"] + 2 < 30
    assert len(res["history"]) == sel["rounds_run"] == res["rounds"] and sel["max_rounds"] == 30
    assert "stopped early" in sel["why"]


def test_select_round_off_keeps_the_last_round_and_scores_the_test_rows(noisy):
    res = simulate(noisy, "demand-classifier", "district", select_round=False, **KW)
    sel = res["round_selection"]
    assert res["chosen_round"] == KW["rounds"] and sel["eval_rows"] == "test" and res["validation_rows"] == 0
    # as before round selection: the per-round federated evaluation is on the held-out rows, and the
    # last round's summed counts equal scoring the final model centrally
    assert res["history"][-1]["federated_eval_macro_f1"] == pytest.approx(res["federated"]["macro_f1"])


@pytest.mark.parametrize("secure", [False, True])
def test_final_test_eval_is_the_simulators_score(noisy, secure):
    """``final-test-eval`` (deployment: no simulator to score the held-out rows) sums the districts' test
    counts of the kept model: the same macro-F1 as the simulator's central scoring."""
    res = simulate(noisy, "demand-classifier", "district", base_run_config={"final-test-eval": True},
                   **{**KW, "rounds": 4, "secure": secure})
    assert res["test"]["rows"] == res["held_out_rows"]
    assert res["test"]["macro_f1"] == pytest.approx(res["federated"]["macro_f1"])
    assert res["test"]["accuracy"] == pytest.approx(res["federated"]["accuracy"])


def test_round_chooser_smooths_breaks_ties_early_and_keeps_only_candidates():
    ch = C.RoundChooser(window=3)
    for r, v in enumerate([0.5, 0.7, 0.6, 0.9, 0.4, 0.4, 0.4], start=1):
        ch.add(v, r)
        assert len(ch.models_) <= 2  # the best round whose score is final and the last h = 1 rounds at most
    # smoothed: .5 .6 .733 .633 .567 .4 .4 → round 3 (not the single best round 4)
    assert ch.best() == 3 and ch.model() == 3
    tie = C.RoundChooser(window=1)
    for r, v in enumerate([0.5, 0.8, 0.8], start=1):
        tie.add(v, r)
    assert tie.best() == 2
    short = C.RoundChooser(window=5)  # a short run: the ends count alone, the middle round is the mean of all 3
    for r, v in enumerate([0.80, 0.85, 0.90], start=1):
        short.add(v, r)
    assert short.smoothed() == pytest.approx([0.80, 0.85, 0.90]) and short.best() == 3
    none = C.RoundChooser()
    for r in range(1, 4):
        none.add(float("nan"), r)
    assert none.best() == 3 and none.model() == 3
    pat = C.RoundChooser(window=1, patience=2)
    for v in (0.5, 0.6, 0.55):
        pat.add(v, v)
        assert not pat.should_stop()
    pat.add(0.58, 0.58)
    assert pat.should_stop() and pat.model() == 0.6
