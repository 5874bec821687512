"""Session 20 (issue 4, speed): the horizon-1 tree gate (``tree_gate="horizon1"``, the default).

The calibration models choose how many trees the forecaster keeps. On Boston 311 they keep none at every origin,
and learning that took four early-stopped models of ~51 trees each. The gate trains the horizon-1 calibration model
first and lets its own holdout rows choose a tree count (the pooled rule on them alone); when that is 0 the other
horizons' calibration models are not trained and no tree is kept. These tests hold the gate to the full run
(``tree_gate=None``): where it fires it must decide what the full run decides when that keeps no tree, and where it
does not fire nothing may change, bit for bit.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from govml.errors import ModelError
from govml.hotspot.forecast import HotspotForecaster
from hotspot_panels import toy_panel

SMALL = dict(n_estimators=60, learning_rate=0.1, num_leaves=7, min_child_samples=20, calibration_origins=4,
             early_stop=20)
COLS = ["yhat", "yhat_mean", "yhat_lo", "yhat_hi", "p_hotspot"]


def fit_counting(monkeypatch: pytest.MonkeyPatch, panel: pd.DataFrame, base: dict | None = None,
                 **params) -> tuple[HotspotForecaster, list[int]]:
    """The fitted forecaster and the number of boosting rounds of every LightGBM model it trained."""
    rounds: list[int] = []
    real = lgb.LGBMRegressor.fit

    def counting(self, *args, **kwargs):
        out = real(self, *args, **kwargs)
        rounds.append(self.booster_.current_iteration())
        return out

    monkeypatch.setattr(lgb.LGBMRegressor, "fit", counting)
    est = HotspotForecaster(horizon=3, **{**(SMALL if base is None else base), **params}).fit(panel)
    monkeypatch.setattr(lgb.LGBMRegressor, "fit", real)
    return est, rounds


def same_forecasts(a: HotspotForecaster, b: HotspotForecaster) -> None:
    pd.testing.assert_frame_equal(a.predict(3)[COLS + ["threshold"]], b.predict(3)[COLS + ["threshold"]],
                                  check_exact=True)


def test_gate_fires_where_no_tree_helps_and_decides_as_the_full_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # constant counts: the level is exact, so no tree can help at any horizon
    panel = toy_panel(np.full((30, 40), 3.0))
    gated, r_gated = fit_counting(monkeypatch, panel)
    full, r_full = fit_counting(monkeypatch, panel, tree_gate=None)
    assert gated.tree_gate_fired_ and not full.tree_gate_fired_
    assert gated.n_trees_by_horizon_ == full.n_trees_by_horizon_ == {1: 0, 2: 0, 3: 0}
    # the full run trains the three calibration models, the gate the horizon-1 one only; no final model either way
    assert len(r_full) == 3 and len(r_gated) == 1 and r_gated[0] == r_full[0]
    same_forecasts(gated, full)
    assert gated.point_weight_ == full.point_weight_ and gated.conformal_ == full.conformal_


def test_gate_leaves_a_panel_that_keeps_trees_bit_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    # every other week is 4x busier: the window means sit in the middle and the trees (lag_2) see the rhythm
    rng = np.random.default_rng(4)
    rate = np.where(np.arange(50) % 2 == 0, 8.0, 2.0)[None, :].repeat(60, axis=0)
    panel = toy_panel(rng.poisson(rate).astype(float))
    gated, r_gated = fit_counting(monkeypatch, panel)
    full, r_full = fit_counting(monkeypatch, panel, tree_gate=None)
    assert not gated.tree_gate_fired_
    assert gated.n_trees_ == full.n_trees_ >= 15
    assert r_gated == r_full and len(r_full) == 6  # 3 calibration + 3 final models, the same rounds
    same_forecasts(gated, full)


def drift_or_rhythm(kind: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    if kind == "drift":  # Poisson noise around rates that drift: no tree helps horizon 1 (the gate fires)
        rate = np.clip(3.0 + np.cumsum(rng.normal(0, 0.25, size=(40, 45)), axis=1), 0.3, None)
    else:  # a weak every-other-week rhythm (x1.15 / 1.15): a few trees help every horizon (it does not)
        rate = np.where(np.arange(50) % 2 == 0, 3.45, 3.0 / 1.15)[None, :].repeat(60, axis=0)
    return toy_panel(rng.poisson(rate).astype(float))


@pytest.mark.parametrize(("kind", "seed", "fires"), [("drift", 0, True), ("drift", 1, True), ("rhythm", 0, False),
                                                     ("rhythm", 2, False)])
def test_gate_fires_exactly_when_horizon_1_alone_keeps_no_tree(kind: str, seed: int, fires: bool) -> None:
    """The gate's decision is the pooled rule on the horizon-1 holdout rows alone — the choice
    ``tree_choice="per_horizon"`` makes for horizon 1 from the same (identically trained) calibration model; where it
    does not fire, or the full run keeps no tree either, the forecasts are the full run's."""
    panel = drift_or_rhythm(kind, seed)
    gated = HotspotForecaster(horizon=3, **SMALL).fit(panel)
    per_h = HotspotForecaster(horizon=3, tree_gate=None, tree_choice="per_horizon", **SMALL).fit(panel)
    full = HotspotForecaster(horizon=3, tree_gate=None, **SMALL).fit(panel)
    assert gated.tree_gate_fired_ == (per_h.n_trees_by_horizon_[1] == 0) == fires
    if gated.tree_gate_fired_:
        assert gated.n_trees_ == 0
    else:
        assert gated.n_trees_by_horizon_ == full.n_trees_by_horizon_
    if not gated.tree_gate_fired_ or full.n_trees_ == 0:
        same_forecasts(gated, full)


def test_gate_applies_to_the_pooled_direct_choice_only() -> None:
    panel = toy_panel(np.full((30, 40), 3.0))
    for params in ({"tree_choice": "per_horizon"}, {"strategy": "recursive"}, {"early_stop": None}):
        est = HotspotForecaster(horizon=3, **{**SMALL, **params}).fit(panel)
        assert not est.tree_gate_fired_ and est.n_trees_ == 0, params
    with pytest.raises(ModelError, match="tree_gate must be None or 'horizon1'"):
        HotspotForecaster(horizon=3, tree_gate="h1", **SMALL).fit(panel)


JUDGED = {**SMALL, "n_estimators": 100, "early_stop": 50}  # the judge (after 20 stalled trees) runs before the stop


@pytest.mark.parametrize(("kind", "seed", "fires"), [("drift", 0, True), ("drift", 1, True), ("rhythm", 4, False)])
def test_judge_after_20_stalled_trees(monkeypatch: pytest.MonkeyPatch, kind: str, seed: int, fires: bool) -> None:
    """The gate judges the horizon-1 model the first time its holdout loss has stalled for ``_GATE_ROUNDS`` trees:
    where no tree is kept then, its training stops there (21 rounds, not 51); otherwise it trains on to the
    ``early_stop`` rule exactly as without the judge (the same rounds for every model, the same forecasts)."""
    import govml.hotspot.forecast as F

    if kind == "drift":  # no tree helps horizon 1
        panel = drift_or_rhythm(kind, seed)
    else:  # a strong rhythm: trees help every horizon from the first ones
        rng = np.random.default_rng(seed)
        panel = toy_panel(rng.poisson(np.where(np.arange(50) % 2 == 0, 8.0, 2.0)[None, :].repeat(60, axis=0))
                          .astype(float))
    gate_rounds = F._GATE_ROUNDS
    judged, r_judged = fit_counting(monkeypatch, panel, base=JUDGED)
    monkeypatch.setattr(F, "_GATE_ROUNDS", 10**6)  # no judge: the gate reads the model at its early stop
    unjudged, r_unjudged = fit_counting(monkeypatch, panel, base=JUDGED)
    assert judged.tree_gate_fired_ == unjudged.tree_gate_fired_ == fires
    if fires:
        # one model each (the gate fired), stopped gate_rounds after its best tree by the judge instead of 50 after
        assert len(r_judged) == len(r_unjudged) == 1 and r_unjudged[0] - r_judged[0] == 50 - gate_rounds
        assert judged.n_trees_ == 0
    else:
        assert r_judged == r_unjudged and len(r_judged) == 6 and judged.n_trees_ >= 15
    same_forecasts(judged, unjudged)
