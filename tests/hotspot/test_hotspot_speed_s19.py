"""Session 19 (issue 4, speed): the forecasts a fit makes without work whose result is not used.

A horizon whose model is None (no tree kept: the level alone) reads no feature, so ``_predict_matrix`` builds
none for it — on Boston 311 the default keeps no tree and the recursion rebuilt the features at every step of
every holdout origin and of the forecast for nothing. These tests hold the shortcut to the full path: the
session-18 ``_predict_matrix`` (below, as it was), which builds the features at every step whatever the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.hotspot.forecast import _CAP_FACTOR, HotspotForecaster

SMALL = dict(n_estimators=30, learning_rate=0.1, num_leaves=7, min_child_samples=20, calibration_origins=4)


def full_path(est, y_hist, keys, periods, models, horizon, fb=None, weights=None, strategy=None):
    """``HotspotForecaster._predict_matrix`` before session 19: the features built at every step."""
    strategy = strategy or est.strategy
    if strategy == "combined":
        d = full_path(est, y_hist, keys, periods, models, horizon, fb, weights, "direct")
        r = full_path(est, y_hist, keys, periods, models, horizon, fb, weights, "recursive")
        cw = np.array([est.combine_weight_.get(min(h, est.horizon), 0.5) for h in range(1, horizon + 1)])
        return cw * d + (1.0 - cw) * r
    spec = est._spec()
    if fb is None:
        fb = est._builder(y_hist, keys, periods, spec, last_only=True)
    o = y_hist.shape[1] - 1
    out = np.zeros((y_hist.shape[0], horizon))
    cap = _CAP_FACTOR * y_hist.max(axis=1) + 1.0
    if strategy == "direct":
        lev = est._level_at(y_hist, weights, 0)
        fac = est._fac(o + 1 + horizon)
        for h in range(1, horizon + 1):
            X = fb.frame(h, [o])
            out[:, h - 1] = est._predict_rows(models[h], X, None if lev is None else lev * fac[o + h])
        return np.clip(out, 0.0, cap[:, None])
    from govml.hotspot.calendar import FREQS

    y_ext, per = y_hist, periods
    n_obs = y_hist.shape[1]
    obs_kw = {"n_obs": n_obs} if getattr(est, "_intra_src", None) else {}
    for h in range(1, horizon + 1):
        if h > 1:
            fb = est._builder(y_ext, keys, per, spec, last_only=True, **obs_kw)
        X = fb.frame(1, [y_ext.shape[1] - 1])
        out[:, h - 1] = np.clip(est._predict_rows(models[1], X, est._level_at(y_ext, weights, n_obs=n_obs)),
                                0.0, cap)
        y_ext = np.concatenate([y_ext, out[:, h - 1:h]], axis=1)
        per = pd.date_range(per[0], periods=len(per) + 1, freq=FREQS[fb.freq])
    return out


@pytest.fixture(scope="module")
def fitted():
    """A combined forecaster that keeps all its trees (so each horizon can be given a model or None), on a panel
    with a holiday effect (the level's target factor changes along the recursion) and 2 districts."""
    from govml.samples.complaints import synthetic_panel

    panel = synthetic_panel(n_areas=10, n_categories=3, n_periods=70, seed=5, n_districts=2, calendar=True)
    est = HotspotForecaster(horizon=3, select_trees=False, **SMALL).fit(panel)
    assert all(m is not None for m in est.models_.values())
    return est, panel


@pytest.mark.parametrize("none_at", [(), (1,), (2, 3), (1, 2, 3)])
def test_level_only_horizons_forecast_as_the_full_path(fitted, none_at) -> None:
    est, _ = fitted
    models = {h: None if h in none_at else m for h, m in est.models_.items()}
    y, keys, periods = est.y_, est.keys_, est.periods_
    fb = est._builder(y, keys, periods)  # the calibration's way: one builder of every column, read at o
    for strategy in ("direct", "recursive", "combined"):
        for o in (y.shape[1] - 5, y.shape[1] - 1):
            for given in (None, fb):
                args = (y[:, : o + 1], keys, periods[: o + 1], models, 3)
                new = est._predict_matrix(*args, fb=given, weights=est.level_weights_, strategy=strategy)
                old = full_path(est, *args, fb=given, weights=est.level_weights_, strategy=strategy)
                np.testing.assert_array_equal(new, old, err_msg=f"{strategy} o={o} fb={given is not None}")
    # a recursion longer than the horizon the models were fitted for (the recursive strategy's predict(H > horizon))
    args = (y, keys, periods, models, 6)
    np.testing.assert_array_equal(est._predict_matrix(*args, weights=est.level_weights_, strategy="recursive"),
                                  full_path(est, *args, weights=est.level_weights_, strategy="recursive"))


def test_no_tree_kept_builds_no_features_and_forecasts_as_the_full_path(fitted, monkeypatch) -> None:
    """No calibration holdout: the level alone (no tree kept). predict builds no feature and gives the full
    path's frame; the level moves along the recursion (its windows take in the forecasts)."""
    _, panel = fitted
    lone = HotspotForecaster(horizon=3, **dict(SMALL, calibration_origins=0)).fit(panel)
    assert lone.n_trees_ == 0 and all(m is None for m in lone.models_.values())
    fc = lone.predict(3)
    assert fc.groupby("horizon")["yhat_mean"].mean().nunique() == 3
    built = []
    real = HotspotForecaster._builder
    monkeypatch.setattr(HotspotForecaster, "_builder", lambda self, *a, **k: built.append(1) or real(self, *a, **k))
    pd.testing.assert_frame_equal(lone.predict(3), fc, check_exact=True)
    assert built == []
    monkeypatch.setattr(HotspotForecaster, "_predict_matrix", full_path)
    pd.testing.assert_frame_equal(lone.predict(3), fc, check_exact=True)
    assert len(built) >= 2  # the full path built them


def test_iso_week_is_pandas_isocalendar() -> None:
    """The target period's week of year (``tgt_period_of_year``) in integer arithmetic: every day of 1900–2100
    (53-week years, weeks across the new year) and zoned dates read on their own clock."""
    from govml.hotspot.features import iso_week

    days = pd.date_range("1900-01-01", "2100-12-31", freq="D")
    np.testing.assert_array_equal(iso_week(days), days.isocalendar().week.to_numpy().astype(np.int64))
    zoned = pd.date_range("2020-12-25", periods=20, freq="D", tz="Asia/Shanghai")
    np.testing.assert_array_equal(iso_week(zoned), zoned.isocalendar().week.to_numpy().astype(np.int64))
    assert iso_week(pd.DatetimeIndex(["2020-12-31", "2021-01-03", "2021-01-04"])).tolist() == [53, 53, 1]


def test_tree_choice_reads_early_stoppings_holdout_frames(monkeypatch) -> None:
    """The tree choice scores the rows early stopping watched: it reuses their frames (built once per horizon),
    and the fit is the one that builds them again. ``tree_gate=None``: every horizon's calibration model is trained
    (session 20's default gate trains only the horizon-1 one where that keeps no tree, and builds no other frame)."""
    from govml.hotspot.features import FeatureBuilder
    from govml.samples.complaints import synthetic_panel

    class Rebuild(HotspotForecaster):
        def _select_trees(self, *a, **k):
            self._hold_X = None
            return super()._select_trees(*a, **k)

    panel = synthetic_panel(n_areas=8, n_categories=3, n_periods=60, seed=9, n_districts=2)
    calls: list[tuple[int, tuple[int, ...]]] = []
    real = FeatureBuilder.frame

    def frame(self, horizon, origins, series=None):
        calls.append((horizon, tuple(np.asarray(origins).tolist())))
        return real(self, horizon, origins, series)

    monkeypatch.setattr(FeatureBuilder, "frame", frame)
    reuse = HotspotForecaster(horizon=3, tree_gate=None, **SMALL).fit(panel)
    T = reuse.y_.shape[1]
    holdouts = [(h, tuple(range(T - 3 - 4, T - h))) for h in (1, 2, 3)]
    assert [calls.count(k) for k in holdouts] == [1, 1, 1]
    assert reuse._hold_X is None  # not kept in the fitted model
    calls.clear()
    again = Rebuild(horizon=3, tree_gate=None, **SMALL).fit(panel)
    assert [calls.count(k) for k in holdouts] == [2, 2, 2]
    assert again.n_trees_by_horizon_ == reuse.n_trees_by_horizon_
    pd.testing.assert_frame_equal(again.predict(3), reuse.predict(3), check_exact=True)
