"""The Flower app's inner holdout (calibration models in the lockstep, holdout sums from the districts)
= the in-process forecaster's; the point rule reaches the districts' forecasts and their scores."""

from __future__ import annotations

import numpy as np
import pytest

from govml.federated.forecaster import FederatedHotspotForecaster

pytestmark = pytest.mark.xdist_group("flower")


def test_the_flower_app_chooses_what_the_in_process_forecaster_chooses(make_events, tmp_path):
    from federated_apps import forecaster_config, read_forecasts, run_forecaster_app
    from govml.federated.wire import WireRecorder
    from govml.hotspot.panel import build_panel, panel_matrix

    events = make_events(3)
    pooled = build_panel(events, district_col="district", drop_incomplete=False)
    ref = FederatedHotspotForecaster(n_trees=6, secure=True, point="auto", select_trees=True).fit(pooled)
    expected = ref.predict()
    _y, _keys, periods = panel_matrix(pooled)
    cfg = forecaster_config(events, periods, **{"forecaster-point": "auto", "forecaster-select-trees": True})
    rec = WireRecorder(keep_messages=True)
    res = run_forecaster_app(events, tmp_path, cfg, run_id=78, node_base=2000, mods=[rec])
    info = res["inner_holdout"]["models"]["final model"]
    assert info["n_trees"] == ref.n_trees_ and len(res["model"]["trees"]) == ref.n_trees_
    assert info["point_weight"] == [ref.point_weight_[h] for h in range(1, 5)]
    np.testing.assert_allclose(info["dispersion"], [ref.dispersion_[h] for h in range(1, 5)], atol=1e-4)
    got = read_forecasts(tmp_path)
    both = got.merge(expected, on=["area", "category", "horizon"], suffixes=("_flower", "_inproc"))
    assert len(both) == len(expected)
    np.testing.assert_allclose(both["yhat_flower"], both["yhat_inproc"], rtol=1e-3)
    np.testing.assert_allclose(both["yhat_mean_flower"], both["yhat_mean_inproc"], rtol=1e-3)
    holdout = [m for _n, m in rec.messages if m.metadata.message_type == "query.holdout"]
    assert len(holdout) >= 2
    for m in holdout:  # masked uint64 vectors only
        assert set(m.content.array_records["vec"]) == {"masked"}
        assert m.content.array_records["vec"]["masked"].numpy().dtype == np.uint64
        assert not m.content.config_records and not m.content.metric_records


def test_the_backtest_with_the_point_rule_equals_its_central_replay(make_events):
    from govml.federated.simulation import simulate_forecaster

    ev = make_events(3).rename(columns={"area": "community"})
    r = simulate_forecaster(ev, "district", n_trees=8, origins=2, secure=True, point="auto", select_trees=True)
    fed = r["backtest"]["metrics"]["all"]
    for k in ("rmse", "mae", "wape", "poisson_deviance"):
        assert fed[k] == pytest.approx(r["central"][k], rel=1e-6)
    assert fed["precision_top2pct"] == r["central"]["precision_top2pct"]  # ranked by the mean, as evaluate does
    assert len(r["inner_holdout"]["models"]) == 2
    plain = simulate_forecaster(ev, "district", n_trees=8, origins=2, secure=True, point="mean", select_trees=False,
                                reference=False)
    assert plain["inner_holdout"]["on"] is False
    assert plain["backtest"]["metrics"]["all"]["mae"] != fed["mae"]
