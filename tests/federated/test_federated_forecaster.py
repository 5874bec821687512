"""The federated hotspot forecaster: citywide features, secure = plain, backtest against LightGBM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.federated.forecaster import FederatedHotspotForecaster

pytestmark = pytest.mark.xdist_group("flower")


@pytest.fixture(scope="module")
def events():
    rng = np.random.default_rng(4)
    weeks = pd.date_range("2024-01-01", periods=70, freq="W-MON")
    rows = []
    for d in range(3):
        for a in range(4):
            for c, cat in enumerate(["噪音", "停车", "垃圾"]):
                base = 1.0 + 0.8 * a + 1.2 * c + 0.5 * d
                season = 1 + 0.4 * np.sin(np.arange(70) / 52 * 2 * np.pi + c)
                trend = 1 + 0.01 * np.arange(70) * (c == 1)
                counts = rng.poisson(base * season * trend)
                for w, n in zip(weeks, counts, strict=True):
                    rows += [{"created_at": w + pd.Timedelta(hours=int(h)), "area": f"区{d}社区{a}",
                              "category": cat, "district": f"区{d}"} for h in rng.integers(0, 160, n)]
    return pd.DataFrame(rows)


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
    from govml.federated.client_app import clear_cache, make_client_app
    from govml.federated.grid import LocalGrid
    from govml.federated.server_app import run_federation
    from govml.hotspot.panel import build_panel, panel_matrix

    pooled = build_panel(events, district_col="district", drop_incomplete=False)
    expected = FederatedHotspotForecaster(n_trees=6, secure=True).fit(pooled).predict()
    _y, keys, periods = panel_matrix(pooled)
    cfg = {"task": "hotspot-forecaster", "secure": True, "num-rounds": 6, "horizon": 4,
           "categories": "|".join(sorted(events["category"].unique())),
           "panel-start": str(periods[0].date()), "panel-end": str(periods[-1].date())}  # as in pyproject
    from govml.federated.wire import WireRecorder

    rec = WireRecorder(keep_messages=True)
    grid = LocalGrid(run_id=77)
    for i, (d, g) in enumerate(events.groupby("district")):
        path = tmp_path / f"{d}.csv"
        g.drop(columns=["district"]).rename(columns={"area": "community"}).to_csv(path, index=False)
        grid.add_node(1000 + i, make_client_app(mods=[rec]), {"data-path": str(path), "district": d,
                                                    "output-dir": str(tmp_path / f"out{i}")}, cfg)
    try:
        res = run_federation(grid, cfg)
    finally:
        clear_cache()
    assert res["forecasts_written"] == 3 and res["excluded"] == {} and res["rounds"] == 6
    got = pd.concat([pd.read_csv(p) for p in sorted(tmp_path.glob("out*/forecasts.csv"))])
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
