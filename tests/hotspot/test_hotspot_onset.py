"""Direct h-step rows are aligned (target y[o + h], features from periods <= o), and structural
zeros before data collection began do not turn into a calendar-week correction (the 泰迪杯 failure)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from govml.hotspot.features import FeatureBuilder, FeatureSpec
from govml.hotspot.forecast import HotspotForecaster, data_start

SMALL = dict(n_estimators=60, learning_rate=0.1, num_leaves=15, min_child_samples=10, calibration_origins=3)


def _panel(y: np.ndarray, start: str = "2017-06-05") -> pd.DataFrame:
    S, T = y.shape
    periods = pd.date_range(start, periods=T, freq="W-MON")
    areas = [f"A{i}" for i in range(S)]
    return pd.DataFrame({
        "area": pd.Categorical(np.repeat(areas, T)),
        "category": pd.Categorical(["c"] * (S * T)),
        "period_start": np.tile(periods.to_numpy(), S),
        "y": y.reshape(-1).astype(float),
    })


def test_direct_rows_target_o_plus_h_and_use_only_periods_up_to_o() -> None:
    rng = np.random.default_rng(0)
    y = rng.poisson(4.0, size=(5, 70)).astype(float)
    periods = pd.date_range("2020-01-06", periods=70, freq="W-MON")
    keys = pd.DataFrame({"area": pd.Categorical([f"A{i}" for i in range(5)]),
                         "category": pd.Categorical(["c"] * 5)})
    spec = FeatureSpec()
    fb = FeatureBuilder(y, keys, periods, spec)
    names = [n for n in fb.feature_names() if n not in ("area", "category")]
    for h in (1, 2, 4):
        for o in (20, 40, 60):
            X = fb.frame(h, [o])
            np.testing.assert_array_equal(X["y"].to_numpy(), y[:, o + h])
            assert (X["period_start"] == periods[o + h]).all() and (X["origin"] == periods[o]).all()
            y2 = y.copy()
            y2[:, o + 1:] = rng.poisson(50.0, size=y2[:, o + 1:].shape)
            X2 = FeatureBuilder(y2, keys, periods, spec).frame(h, [o])
            # the seasonal lag (one season before the target) is <= o for h <= 52
            pd.testing.assert_frame_equal(X[names], X2[names])
            # the same row at predict time on the cut panel (features at its last column)
            X3 = FeatureBuilder(y[:, : o + 1], keys, periods[: o + 1], spec).frame(h, [o])
            pd.testing.assert_frame_equal(X[names], X3[names])


def test_data_start_skips_leading_near_empty_periods() -> None:
    y = np.zeros((3, 30))
    y[0, 2] = 1  # a stray early event
    y[:, 10:] = 5
    assert data_start(y) == 10
    assert data_start(np.full((3, 30), 2.0)) == 0
    assert data_start(np.zeros((3, 30))) == 0


def test_stray_early_events_do_not_blow_up_h_ge_2_in_the_onset_weeks() -> None:
    # like the 泰迪杯 export: 4 stray messages, then every area starts in the same (first ISO) week;
    # the origin is a year later, so the h >= 2 targets fall in the weeks where the areas started
    rng = np.random.default_rng(1)
    S, T0, T1 = 10, 82, 51
    levels = np.geomspace(1.0, 30.0, S)
    y = np.zeros((S, T0 + T1))
    y[S - 1, [0, 49, 72, 75]] = 1
    y[:, T0:] = rng.poisson(levels[:, None], size=(S, T1))
    panel = _panel(y)
    assert pd.Timestamp(panel["period_start"].unique()[T0]).isocalendar().week == 1
    f = HotspotForecaster(horizon=4, **SMALL).fit(panel)
    assert f.data_start_ == T0
    fc = f.predict()
    mu = fc["yhat"].to_numpy().reshape(S, 4)
    ratio = mu / levels[:, None]
    assert ratio.max() < 2.0 and ratio.min() > 0.5, np.round(ratio, 2)
