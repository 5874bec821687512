"""The forecaster: output shape, intervals near nominal on Poisson data, p_hotspot, explanations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from govml.errors import ModelError
from govml.hotspot.backtest import hotspot_calibration, run_backtest
from govml.hotspot.features import FeatureSpec, make_features
from govml.hotspot.forecast import HotspotForecaster
from govml.samples.complaints import synthetic_panel

SMALL = dict(n_estimators=60, learning_rate=0.1, num_leaves=15, min_child_samples=20)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return synthetic_panel(n_areas=30, n_categories=4, n_periods=80, seed=11)


def test_forecast_columns_shapes_and_dates(panel: pd.DataFrame) -> None:
    model = HotspotForecaster(horizon=3, calibration_origins=3, **SMALL)
    assert model.get_params()["horizon"] == 3 and clone(model).get_params() == model.get_params()
    assert not hasattr(model, "models_")
    fc = model.fit(panel).predict(3)
    assert model.fit(panel) is model
    n_series = 30 * 4
    assert len(fc) == n_series * 3
    for col in ("area", "category", "period_start", "horizon", "yhat", "yhat_lo", "yhat_hi", "p_hotspot"):
        assert col in fc.columns
    last = panel["period_start"].max()
    assert sorted(fc["period_start"].unique()) == list(pd.date_range(last, periods=4, freq="W-MON")[1:])
    assert (fc["yhat"] >= 0).all() and (fc["yhat_lo"] <= fc["yhat"]).all() and (fc["yhat"] <= fc["yhat_hi"]).all()
    assert fc["p_hotspot"].between(0, 1).all()
    assert model.calibrated_ and set(model.conformal_) == {1, 2, 3}
    with pytest.raises(ModelError, match="horizons up to 3"):
        model.predict(5)


def test_direct_and_recursive_strategies_and_errors(panel: pd.DataFrame) -> None:
    rec = HotspotForecaster(horizon=2, strategy="recursive", calibration_origins=2, **SMALL).fit(panel)
    assert set(rec.models_) == {1}
    assert len(rec.predict(2)) == 30 * 4 * 2
    with pytest.raises(ModelError, match="strategy"):
        HotspotForecaster(strategy="magic").fit(panel)
    with pytest.raises(ModelError, match="not fitted"):
        HotspotForecaster().predict(1)
    short = panel[panel["period_start"] <= panel["period_start"].min() + pd.Timedelta(weeks=3)]
    with pytest.raises(ModelError, match="too little history"):
        HotspotForecaster(horizon=4, calibration_origins=0, **SMALL).fit(short)


def test_intervals_cover_near_nominal_and_p_hotspot_is_calibrated(panel: pd.DataFrame) -> None:
    periods = pd.DatetimeIndex(pd.unique(panel["period_start"]))
    model = HotspotForecaster(horizon=2, interval=0.9, calibration_origins=6, **SMALL)
    res = run_backtest(panel, {"govml": model}, origins=list(periods[[60, 64, 68, 72, 76]]), horizon=2)
    cov = res.overall().loc["govml", "coverage"]
    assert 0.85 <= cov <= 0.96, cov
    rel = hotspot_calibration(res.predictions, bins=5)
    p = res.predictions
    observed = float((p["y"] > p["threshold"]).mean())
    assert abs(float(p["p_hotspot"].mean()) - observed) < 0.05
    assert rel["n"].sum() == len(p)


def test_explanations_name_features_with_values(panel: pd.DataFrame) -> None:
    model = HotspotForecaster(horizon=2, calibration_origins=0, **SMALL).fit(panel)
    ex = model.explain(top=3)
    assert len(ex) == 30 * 4 * 2 * 3
    assert set(ex["rank"]) == {1, 2, 3}
    assert set(ex["feature"]) <= set(model.feature_names_)
    first = ex.iloc[0]
    assert first["text"].startswith(f"{first['feature']}=")
    # contributions are sorted by size within each forecast
    g = ex.groupby(["area", "category", "horizon"], observed=True)["contribution"]
    assert (g.apply(lambda s: list(np.abs(s)) == sorted(np.abs(s), reverse=True))).all()


def test_make_features_declared_spec(panel: pd.DataFrame) -> None:
    spec = FeatureSpec(lags=(1, 2), rolling_windows=(3,), season_length=None, calendar=False, pooled=False)
    f = make_features(panel, spec, horizon=1)
    assert {"lag_1", "lag_2", "roll_mean_3", "roll_std_3", "exp_mean", "age"} <= set(f.columns)
    assert "seasonal_lag" not in f.columns and "city_mean_4" not in f.columns
    assert isinstance(f["area"].dtype, pd.CategoricalDtype)
    one = f[(f["area"] == "A0000") & (f["category"] == "C00")].reset_index(drop=True)
    ys = panel[(panel["area"] == "A0000") & (panel["category"] == "C00")]["y"].to_numpy()
    assert one.loc[10, "lag_1"] == ys[10] and one.loc[10, "lag_2"] == ys[9]
    assert one.loc[10, "roll_mean_3"] == pytest.approx(ys[8:11].mean())
    assert one.loc[10, "y"] == ys[11]


def test_blend_choice_by_hand_and_in_fit(panel: pd.DataFrame) -> None:
    from govml.hotspot.forecast import _choose_blend

    obs = np.array([0.0, 1.0, 3.0, 5.0])
    bases = np.stack([np.full(4, 2.0), np.full(4, 9.0)], axis=1)
    assert _choose_blend(obs.copy(), bases, obs) == (1.0, 0)  # a perfect model takes all the weight
    assert _choose_blend(np.full(4, 50.0), np.stack([obs, obs + 7], axis=1), obs) == (0.0, 0)
    m = HotspotForecaster(horizon=2, blend="auto", calibration_origins=3, **SMALL).fit(panel)
    assert set(m.blend_window_.values()) <= {4, 13}
    assert all(0.0 <= w <= 1.0 for w in m.blend_weight_.values())
    assert len(m.predict(2)) == 30 * 4 * 2


def test_forecasts_are_capped_by_each_series_history(panel: pd.DataFrame) -> None:
    class Runaway:  # a model whose correction explodes, as one learned on near-empty series can
        def predict(self, X: pd.DataFrame, raw_score: bool = False) -> np.ndarray:
            return np.full(len(X), 30.0)

    model = HotspotForecaster(horizon=2, calibration_origins=0, **SMALL).fit(panel)
    model.models_ = {1: Runaway(), 2: Runaway()}
    fc = model.predict(2)
    assert fc["yhat"].max() < 1e6
    cap = panel.groupby(["area", "category"], observed=True)["y"].max() * 2 + 1
    joined = fc.join(cap.rename("cap"), on=["area", "category"])
    assert (joined["yhat"] <= joined["cap"] + 1e-9).all()
