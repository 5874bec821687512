"""The federated hotspot forecaster multiplies its level by the central model's holiday factor, estimated
from the citywide totals the districts already hold (govml.federated.forecaster, "the central model's
holiday factor"): the same factors, the same festival-week dip, the same model through the Flower app."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.federated.forecaster import FederatedHotspotForecaster

pytestmark = pytest.mark.xdist_group("flower")

FESTIVAL = pd.Timestamp("2025-01-27")  # the week of 2025-01-28 … 02-04 (Spring Festival)
ORDINARY = pd.Timestamp("2025-01-20")


def _festival_events(seed: int = 0) -> pd.DataFrame:
    """3 districts × 2 areas × 2 categories, weekly counts constant (a little noise), the Spring
    Festival weeks of 2023 and 2024 at 40 %; the panel ends in the week of 2025-01-13."""
    from govml.hotspot.calendar import day_info

    rng = np.random.default_rng(seed)
    rows = []
    for week in pd.date_range("2023-01-02", "2025-01-13", freq="W-MON"):
        spring = any(day_info((week + pd.Timedelta(days=d)).date())[3] for d in range(7))
        for d in range(3):
            for a in range(2):
                for c, cat in enumerate(("噪声扰民", "占道经营")):
                    n = int(round((8 + 2 * a + 3 * c + d + rng.integers(-1, 2)) * (0.4 if spring else 1.0)))
                    rows += [{"created_at": week + pd.Timedelta(days=k % 5, hours=9 + k % 8), "area": f"区{d}社区{a}",
                              "category": cat, "district": f"区{d}"} for k in range(n)]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def events():
    return _festival_events()


@pytest.fixture(scope="module")
def panel(events):
    from govml.hotspot.panel import build_panel

    return build_panel(events, district_col="district", drop_incomplete=False)


def _week_mean(fr: pd.DataFrame, col: str = "yhat") -> pd.Series:
    return fr.groupby("period_start")[col].mean()


def test_factors_are_the_central_models_on_the_pooled_panel(panel):
    from govml.hotspot.forecast import HotspotForecaster
    from govml.hotspot.holidays import estimate_holiday_factors
    from govml.hotspot.panel import panel_matrix

    central = HotspotForecaster(horizon=4, n_estimators=5, calibration_origins=0).fit(panel)
    fed = FederatedHotspotForecaster(n_trees=2, secure=True, point="auto", select_trees=True).fit(panel)
    assert central.holiday_factors_.active and central.holiday_factors_.coef[0] < -0.4  # a clear festival dip
    np.testing.assert_allclose(fed.holiday_factors_.coef, central.holiday_factors_.coef, rtol=1e-9, atol=1e-12)
    # the calibration model's factors: estimated on its own cut (columns up to the first holdout origin)
    y, _keys, periods = panel_matrix(panel)
    first = y.shape[1] - 4 - 4
    cal = estimate_holiday_factors(y[:, : first + 1], periods, "W")
    np.testing.assert_allclose(fed.calibration_holiday_factors_.coef, cal.coef, rtol=1e-9, atol=1e-12)
    off = FederatedHotspotForecaster(n_trees=2, holidays=None).fit(panel)
    assert off.holiday_factors_ is None
    with pytest.raises(Exception, match="holidays must be"):
        FederatedHotspotForecaster(n_trees=2, holidays="divide").fit(panel)


def test_the_festival_week_is_forecast_low(panel):
    auto = FederatedHotspotForecaster(n_trees=6, secure=True).fit(panel)
    off = FederatedHotspotForecaster(n_trees=6, secure=True, holidays="off").fit(panel)
    a, o = _week_mean(auto.predict()), _week_mean(off.predict())
    assert o[FESTIVAL] > 8 and a[FESTIVAL] < 0.6 * o[FESTIVAL]
    assert abs(a[ORDINARY] - o[ORDINARY]) < 0.05 * o[ORDINARY]  # an ordinary week is left alone
    # the factor is the central one: the festival week's share of its days times the fitted coefficient
    fac = auto._fac[auto.y_.shape[1]:]
    assert fac[0] == pytest.approx(1.0) and fac[1] < 0.6
    assert fac[1] == pytest.approx(auto.holiday_factors_.factors(pd.DatetimeIndex([FESTIVAL]))[0], rel=1e-12)
    # secure and plain sums give the same model (the totals are integers: exact in fixed point)
    plain = FederatedHotspotForecaster(n_trees=6, secure=False).fit(panel)
    np.testing.assert_allclose(plain.predict()["yhat"], auto.predict()["yhat"], rtol=1e-3)


def test_with_no_trees_the_forecast_is_the_central_level_times_the_factor(panel):
    from govml.hotspot.forecast import HotspotForecaster
    from govml.hotspot.panel import panel_matrix

    central = HotspotForecaster(horizon=4, n_estimators=5, calibration_origins=0).fit(panel)
    fed = FederatedHotspotForecaster(n_trees=0, secure=False).fit(panel)
    np.testing.assert_allclose(fed.level_weights_, central.level_weights_, atol=1e-3)
    y, keys, _periods = panel_matrix(panel)
    want = np.column_stack([central._level_at(y, central.level_weights_, h) for h in range(1, 5)])
    got = fed.predict().sort_values(["horizon"], kind="stable")
    order = pd.DataFrame({"area": keys["area"].astype(str), "category": keys["category"].astype(str)})
    for h in range(1, 5):
        g = got[got["horizon"] == h].merge(order.assign(want=want[:, h - 1]), on=["area", "category"])
        np.testing.assert_allclose(g["yhat"], g["want"] + 0.05, rtol=2e-3)
    assert want[:, 1].mean() < 0.6 * want[:, 0].mean()  # horizon 2 is the festival week


def test_a_panel_without_a_clear_holiday_effect_is_unchanged(make_events):
    from govml.hotspot.panel import build_panel

    pooled = build_panel(make_events(3), district_col="district", drop_incomplete=False)
    auto = FederatedHotspotForecaster(n_trees=4, secure=False).fit(pooled)
    off = FederatedHotspotForecaster(n_trees=4, secure=False, holidays=None).fit(pooled)
    assert not auto.holiday_factors_.active and auto._fac is None
    np.testing.assert_array_equal(auto.predict()["yhat"], off.predict()["yhat"])


def test_the_flower_app_grows_the_same_model(events, panel, tmp_path):
    """ServerApp + ClientApps (the deployment defaults: point rule, trees chosen on the inner holdout)
    = the in-process forecaster with the holiday factor; with it off, an ordinary-week forecast."""
    from federated_apps import forecaster_config, read_forecasts, run_forecaster_app
    from govml.hotspot.panel import panel_matrix

    ref = FederatedHotspotForecaster(n_trees=6, secure=True, point="auto", select_trees=True).fit(panel)
    expected = ref.predict()
    _y, _keys, periods = panel_matrix(panel)
    got = {}
    for mode in ("auto", "off"):
        cfg = forecaster_config(events, periods, **{"forecaster-point": "auto", "forecaster-select-trees": True,
                                                    "forecaster-holidays": mode})
        res = run_forecaster_app(events, tmp_path, cfg, run_id=79, node_base=3000, out_prefix=mode)
        got[mode] = read_forecasts(tmp_path, mode, parse_dates=["period_start"])
        if mode == "auto":
            assert res["holidays"]["on"]
            coef = res["holidays"]["factors"]["final model"]["spring_festival_days"]["coef"]
            assert coef == pytest.approx(ref.holiday_factors_.coef[0], abs=1e-4)
            info = res["inner_holdout"]["models"]["final model"]
            assert info["n_trees"] == ref.n_trees_
            assert info["point_weight"] == [ref.point_weight_[h] for h in range(1, 5)]
        else:
            assert res["holidays"] == {"on": False, "factors": {}}
    both = got["auto"].merge(expected, on=["area", "category", "horizon"], suffixes=("_flower", "_inproc"))
    assert len(both) == len(expected)
    np.testing.assert_allclose(both["yhat_flower"], both["yhat_inproc"], rtol=1e-3)
    np.testing.assert_allclose(both["yhat_mean_flower"], both["yhat_mean_inproc"], rtol=1e-3)
    a, o = _week_mean(got["auto"], "yhat_mean"), _week_mean(got["off"], "yhat_mean")
    assert a[FESTIVAL] < 0.6 * o[FESTIVAL]
