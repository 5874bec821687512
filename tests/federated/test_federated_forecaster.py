"""The federated hotspot forecaster: citywide features, secure = plain, backtest against LightGBM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.federated.forecaster import FederatedHotspotForecaster

pytestmark = pytest.mark.xdist_group("flower")


@pytest.fixture(scope="module")
def events(make_events):
    return make_events(3)


@pytest.fixture(scope="module")
def panel(events):
    from govml.hotspot.panel import build_panel

    return build_panel(events, district_col="district")


def test_citywide_features_equal_the_pooled_ones(panel):
    from govml.hotspot.features import FeatureBuilder, FeatureSpec
    from govml.hotspot.panel import panel_matrix

    m = FederatedHotspotForecaster(n_trees=2, max_depth=2).fit(panel)
    y, keys, periods = panel_matrix(panel)
    pooled = FeatureBuilder(y, keys, periods, FeatureSpec(categoricals=("category",)))
    for idx, fb in m._parts:
        for name in ("city_mean_4", "city_mean_13", "city_trend"):
            np.testing.assert_allclose(fb.mats[name], pooled.mats[name][idx], rtol=1e-5, atol=1e-5)
        # a district's own pooled features stay its own
        np.testing.assert_allclose(fb.mats["dist_mean_4"], pooled.mats["dist_mean_4"][idx], rtol=1e-5)


def test_secure_and_plain_fits_give_the_same_forecast(panel):
    a = FederatedHotspotForecaster(n_trees=10, secure=True).fit(panel).predict()
    b = FederatedHotspotForecaster(n_trees=10, secure=False).fit(panel).predict()
    assert list(a.columns) == ["area", "category", "district", "period_start", "horizon", "yhat"]
    assert len(a) == panel.groupby(["area", "category"]).ngroups * 4
    # fixed-point error (2^-20 per district and bin) can flip a near-tie split: equal to 1e-3
    np.testing.assert_allclose(a["yhat"], b["yhat"], rtol=1e-3)


def test_backtest_against_central_lightgbm_on_the_same_origins(panel):
    from govml.hotspot.backtest import run_backtest
    from govml.hotspot.forecast import HotspotForecaster

    res = run_backtest(panel, {"federated": FederatedHotspotForecaster(n_trees=40),
                               "centralized": HotspotForecaster(horizon=4, n_estimators=100)}, origins=2, horizon=4)
    m = res.metrics[res.metrics["horizon"] == "all"].set_index("model")
    assert set(res.predictions["model"]) == {"federated", "centralized"}
    # 2 origins × 36 series is a noisy yardstick: here within 10% of the central LightGBM (which also
    # blends in a recent mean); the ≤ 1.03 target is measured on the samples' 8 origins (docs/benchmarks.md)
    assert m.loc["federated", "rmse"] <= 1.10 * m.loc["centralized", "rmse"]
    naive = np.sqrt(((res.predictions["y"] - res.predictions["y"].mean()) ** 2).mean())
    assert m.loc["federated", "rmse"] < naive  # it learned the series' levels


def test_the_flower_app_grows_the_same_model(events, tmp_path):
    """ServerApp + ClientApps (each district reading its own file) = the in-process forecaster."""
    from federated_apps import forecaster_config, read_forecasts, run_forecaster_app
    from govml.federated.wire import WireRecorder
    from govml.hotspot.panel import build_panel, panel_matrix

    pooled = build_panel(events, district_col="district", drop_incomplete=False)
    expected = FederatedHotspotForecaster(n_trees=6, secure=True).fit(pooled).predict()
    _y, keys, periods = panel_matrix(pooled)
    rec = WireRecorder(keep_messages=True)
    res = run_forecaster_app(events, tmp_path, forecaster_config(events, periods), run_id=77, node_base=1000,
                             mods=[rec])
    assert res["forecasts_written"] == 3 and res["excluded"] == {} and res["rounds"] == 6
    got = read_forecasts(tmp_path)
    both = got.merge(expected, on=["area", "category", "horizon"], suffixes=("_flower", "_inproc"))
    assert len(both) == len(expected)
    np.testing.assert_allclose(both["yhat_flower"], both["yhat_inproc"], rtol=1e-3)
    # what the districts sent: masked uint64 vectors (and counts of forecast series), nothing else
    for _node, m in rec.messages:
        t = m.metadata.message_type
        if t in ("query.city", "query.gbdt"):
            assert set(m.content.array_records["vec"]) == {"masked"}
            assert m.content.array_records["vec"]["masked"].numpy().dtype == np.uint64
            assert not m.content.config_records and not m.content.metric_records
        elif t == "query.forecast":
            assert dict(m.content.metric_records["forecast"]) == {"series": 12}  # 4 areas × 3 categories


def test_districts_own_sums_give_the_central_metrics():
    """Point sums and secure counts at thresholds = backtest.evaluate on the pooled cells."""
    from govml.federated import forecaster as FC
    from govml.hotspot.backtest import point_metrics, top_k_metrics

    rng = np.random.default_rng(1)
    S, M = 900, 6
    y = rng.poisson(rng.gamma(1.0, 3.0, size=(S, M))).astype(float)
    yhat = np.exp(rng.normal(0, 1, size=(S, M))) + 0.3 * y
    yhat[:60, 5] = yhat[:, 5].max() + 1.0  # 60 forecasts tied at the top: k-th place is a tie for 2% and 5%
    parts = np.array_split(rng.permutation(S), 5)  # five districts' cells
    sums = sum(FC.point_sums(y[p], yhat[p]) for p in parts)
    central = point_metrics(y.ravel(), yhat.ravel())
    for k, v in FC.metrics_from_sums(sums).items():
        assert v == pytest.approx(central[k] if k != "n" else S * M, rel=1e-12)
    for pct in (2, 5):
        search = FC.TopKSearch(sums[:, 0], pct)
        while not search.finished():
            thr = search.thresholds()
            search.update(thr, sum(np.stack([FC.counts_at_least(y[p], thr[0]), FC.counts_at_least(yhat[p], thr[1])])
                                   for p in parts))
        assert search.done().all()
        kth, hi, lo = search.hit_thresholds()
        prec = search.precision(sum(FC.top_hits(y[p], yhat[p], kth, hi, lo) for p in parts))
        want = np.array([top_k_metrics(y[:, j], yhat[:, j], pct)[f"precision_top{pct}pct"] for j in range(M)])
        ties = search.c_lo[1] != search.k
        assert not ties[:5].any() and ties[5]
        np.testing.assert_array_equal(prec[:5], want[:5])  # exact without ties
        assert abs(prec[5] - want[5]) <= 1.0 / search.k[5] * (search.c_lo[1, 5] - search.c_hi[1, 5])


def _as_files(events):
    return events.rename(columns={"area": "community"})


def test_backtest_scored_by_the_districts_equals_the_central_backtest(events):
    """Flower app backtest (districts score their own cells; only masked sums travel) = run_backtest
    of the same model on the pooled panel, on the same origins."""
    from govml.federated.simulation import simulate_forecaster
    from govml.federated.wire import WireRecorder

    rec = WireRecorder(keep_messages=True)
    r = simulate_forecaster(_as_files(events), "district", n_trees=8, origins=2, secure=True, mods=[rec])
    bt = r["backtest"]
    assert len(bt["origins"]) == 2 and bt["maps_with_tied_forecasts"] == 0
    assert bt["metrics"]["all"]["n"] == 2 * 4 * 36  # origins × horizons × cells
    fed = bt["metrics"]["all"]
    for k in ("rmse", "mae", "wape", "poisson_deviance"):
        assert fed[k] == pytest.approx(r["central"][k], rel=1e-6)
    assert fed["precision_top2pct"] == r["central"]["precision_top2pct"]
    assert set(bt["metrics"]) == {"all", "h1", "h2", "h3", "h4"} and len(bt["per_origin"]) == 2
    scored = [m for _n, m in rec.messages if m.metadata.message_type == "query.score"]
    assert scored
    for m in scored:  # every scoring reply is a masked uint64 vector, nothing else
        assert set(m.content.array_records["vec"]) == {"masked"}
        assert m.content.array_records["vec"]["masked"].numpy().dtype == np.uint64
        assert not m.content.config_records and not m.content.metric_records


def test_a_district_leaving_mid_tree_does_not_stop_the_run(make_events):
    """One of four districts fails in the middle of a tree (a fifth has a broken file): the tree is regrown with the other three,
    the run finishes, the result and the log name the district, and the backtest RMSE (on the cells of
    the districts that finished) is within 2% of a run without that district from the start."""
    from govml.federated.simulation import simulate_forecaster

    ev = _as_files(make_events(5, seed=11))
    kw = {"n_trees": 8, "origins": 2, "secure": True, "reference": False}
    # 区0's file lacks its community column (left out at hello); 区2 fails after 20 messages
    broken = simulate_forecaster(ev, "district", faults={"区0": "broken", "区2": "fail:20"}, **kw)
    without = simulate_forecaster(ev[ev["district"] != "区2"], "district", faults={"区0": "broken"}, **kw)
    assert list(broken["excluded"]) == ["区0"] and "community" in broken["excluded"]["区0"]
    left = broken["left_during_run"]
    assert [d["district"] for d in left] == ["区2"] and "tree" in left[0]["during"]
    assert any("区2" in e and "left the run" in e for e in broken["events"])
    assert any("grown again" in e for e in broken["events"])
    assert sorted(broken["backtest"]["districts_scored"]) == sorted(without["backtest"]["districts_scored"])
    a, b = broken["backtest"]["metrics"]["all"], without["backtest"]["metrics"]["all"]
    assert a["n"] == b["n"]
    assert abs(a["rmse"] / b["rmse"] - 1) <= 0.02


def test_forecaster_with_deployment_defaults_equals_the_plain_simulation(events, app_defaults):
    from govml.federated.simulation import simulate_forecaster

    ev = events.rename(columns={"area": "community"})
    kw = {"n_trees": 4, "origins": 1, "secure": True, "reference": False}
    plain = simulate_forecaster(ev, "district", **kw)
    deployed = simulate_forecaster(ev, "district", base_run_config=app_defaults, **kw)
    assert deployed["backtest"]["metrics"]["all"] == plain["backtest"]["metrics"]["all"]
    assert deployed["backtest"]["origins"] == plain["backtest"]["origins"]


def test_the_level_is_the_central_rule_on_the_pooled_panel(panel):
    """Each district's level candidates (cat_w from the citywide sums) are the pooled panel's rows; the
    weights from the summed level sums are the central rule's; boosting starts from that level."""
    from govml.federated import forecaster as FC
    from govml.hotspot.forecast import choose_level_weights, level_candidates
    from govml.hotspot.panel import panel_matrix

    y, keys, _periods = panel_matrix(panel)
    cats = keys["category"].cat.codes.to_numpy()
    windows = FC.level_windows()
    assert any(str(w).startswith("cat_") for w in windows)  # the top-down candidates need citywide sums
    pooled = level_candidates(y, windows, cats)
    city = np.zeros((cats.max() + 1, y.shape[1] + 1))
    np.add.at(city[:, :-1], cats, y)
    city[:, -1] = np.bincount(cats)
    grams = []
    for d in keys["district"].unique():
        rows = np.flatnonzero((keys["district"] == d).to_numpy())
        M = FC.district_level_candidates(y[rows], cats[rows], city, windows)
        np.testing.assert_allclose(M, pooled[rows], rtol=1e-12, atol=1e-12)
        grams.append(FC.level_gram(M, y[rows], 4))
    k = len(windows)
    w = FC.level_weights(np.sum(grams, axis=0), k)
    np.testing.assert_allclose(w, choose_level_weights(y, 4, windows=windows, groups=cats), atol=1e-6)
    # the in-process forecaster (secure sums) finds the same weights and starts from that level
    m = FederatedHotspotForecaster(n_trees=3, secure=True).fit(panel)
    np.testing.assert_allclose(m.level_weights_, w, atol=1e-3)
    assert m.booster_.base == 0.0
    flat = FederatedHotspotForecaster(n_trees=3, secure=True, level=False).fit(panel)
    assert flat.level_weights_ is None and flat.booster_.base != 0.0
    # with no trees the forecast is exp(log(level + 0.05)) at the last period (the central offset)
    lvl = FederatedHotspotForecaster(n_trees=0, secure=False).fit(panel)
    fc = lvl.predict(1).sort_values(["area", "category"])
    want = pd.DataFrame({"area": keys["area"].astype(str), "category": keys["category"].astype(str),
                         "lvl": pooled[:, -1, :] @ lvl.level_weights_}).sort_values(["area", "category"])
    np.testing.assert_allclose(fc["yhat"].to_numpy(), want["lvl"].to_numpy() + 0.05, rtol=1e-9, atol=1e-12)
