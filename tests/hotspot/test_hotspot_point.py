"""The point rule: yhat = (1 - w) mean + w predictive median, w chosen on the inner holdout."""

from __future__ import annotations

import numpy as np
from scipy import stats

from govml.hotspot.forecast import HotspotForecaster, choose_point_weight, nb_median, point_forecast
from govml.samples.complaints import synthetic_panel


def test_nb_median_matches_scipy_and_poisson_limit() -> None:
    mu = np.array([0.1, 0.5, 0.7, 1.0, 3.0, 10.0])
    assert np.array_equal(nb_median(mu, 0.0), stats.poisson.ppf(0.5, mu))
    assert np.array_equal(nb_median(mu, 0.0)[:3], [0.0, 0.0, 1.0])  # Poisson median is 0 below ln 2
    n = 1 / 0.5
    assert np.array_equal(nb_median(mu, 0.5), stats.nbinom.ppf(0.5, n, n / (n + mu)))


def test_sparse_poisson_cells_get_a_median_weight_and_lower_mae() -> None:
    # known answer: cells with a true Poisson rate of 0.3 (median 0) and the mean as forecast;
    # moving toward 0 lowers MAE at once and costs RMSE only to second order
    rng = np.random.default_rng(0)
    mu = np.full(20_000, 0.3)
    obs = rng.poisson(mu).astype(float)
    w = choose_point_weight(mu, obs, alpha=0.0)
    assert w > 0
    p = point_forecast(mu, 0.0, w)
    assert np.mean(np.abs(p - obs)) < np.mean(np.abs(mu - obs)) * 0.97
    assert np.sqrt(np.mean((p - obs) ** 2)) <= np.sqrt(np.mean((mu - obs) ** 2)) * 1.005 + 1e-12


def test_busy_cells_keep_the_mean() -> None:
    # integer rates: the Poisson median equals the mean, nothing to gain, so the rule keeps w = 0
    rng = np.random.default_rng(1)
    mu = np.repeat([5.0, 20.0], 10_000)
    obs = rng.poisson(mu).astype(float)
    assert choose_point_weight(mu, obs, alpha=0.0) == 0.0


def test_point_is_increasing_in_the_mean() -> None:
    mu = np.linspace(0.0, 8.0, 400)
    for w in (0.3, 0.9):
        assert np.all(np.diff(point_forecast(mu, 0.2, w)) > 0)


def test_forecaster_point_rule_consistent_with_mean_and_intervals() -> None:
    panel = synthetic_panel(n_areas=15, n_categories=3, n_periods=70, seed=2)
    kw = dict(horizon=2, n_estimators=30, num_leaves=7, min_child_samples=10)
    a = HotspotForecaster(**kw).fit(panel)
    b = HotspotForecaster(point="mean", **kw).fit(panel)
    pa, pb = a.predict(), b.predict()
    # the mean, intervals' centre, p_hotspot are the same model; only the point differs
    np.testing.assert_allclose(pa["yhat_mean"], pb["yhat"])
    np.testing.assert_allclose(pa["p_hotspot"], pb["p_hotspot"])
    assert all(v == 0.0 for v in b.point_weight_.values())
    for h, w in a.point_weight_.items():
        g = pa[pa["horizon"] == h]
        expect = point_forecast(g["yhat_mean"].to_numpy(), a.dispersion_[h], w)
        np.testing.assert_allclose(g["yhat"], expect)
    assert (pa["yhat_lo"] <= pa["yhat"]).all() and (pa["yhat"] <= pa["yhat_hi"]).all()
    # ranking by yhat is the ranking by the mean
    for _, g in pa.groupby("horizon"):
        assert np.array_equal(np.argsort(-g["yhat"].to_numpy(), kind="stable"),
                              np.argsort(-g["yhat_mean"].to_numpy(), kind="stable"))


def test_staged_raw_equals_prefix_predictions() -> None:
    import lightgbm as lgb

    from govml.hotspot.forecast import _staged_raw

    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4))
    y = rng.poisson(np.exp(0.5 * X[:, 0]))
    m = lgb.LGBMRegressor(objective="poisson", n_estimators=37, num_leaves=7, verbose=-1).fit(X, y)
    grid = np.array([0, 10, 20, 30, 40])
    S = _staged_raw(m, X, grid)
    assert np.allclose(S[:, 0], 0.0)
    for j, k in enumerate(grid[1:], start=1):
        full = m.booster_.predict(X, raw_score=True, num_iteration=min(k, 37))
        np.testing.assert_allclose(S[:, j], full, rtol=1e-9, atol=1e-9)


def test_deviance_and_ranking_score_the_mean_when_given() -> None:
    import pandas as pd

    from govml.hotspot.backtest import evaluate, poisson_deviance

    y = np.array([0.0, 1.0, 4.0, 0.0])
    mean = np.array([0.4, 1.2, 3.5, 0.3])
    point = np.array([0.1, 1.0, 3.2, 0.0])
    p = pd.DataFrame({"model": "m", "origin": 0, "horizon": 1, "y": y, "yhat": point, "yhat_mean": mean})
    ov = evaluate(p).set_index("horizon").loc["all"]
    assert np.isclose(ov["poisson_deviance"], poisson_deviance(y, mean))
    assert np.isclose(ov["mae"], np.mean(np.abs(point - y)))


def test_calibration_models_stop_when_the_holdout_stalls_and_keep_their_trees() -> None:
    import lightgbm as lgb

    from govml.hotspot.forecast import _StopWhenStalled

    rng = np.random.default_rng(3)
    X = rng.normal(size=(2000, 3))
    y = rng.poisson(np.exp(0.8 * X[:, 0]))
    Xv = rng.normal(size=(500, 3))
    yv = rng.poisson(1.0, size=500)  # unrelated to X: every tree fits noise as far as the holdout is concerned
    m = lgb.LGBMRegressor(objective="poisson", n_estimators=400, num_leaves=15, min_child_samples=5,
                          metric="None", verbose=-1)
    m.fit(X, y, eval_X=(Xv,), eval_y=(yv,), eval_metric=["l2", "l1"], callbacks=[_StopWhenStalled(20)])
    b = m.booster_
    n = b.num_trees()
    assert 20 < n < 400
    best = min(int(np.argmin(m.evals_result_["valid_0"][k])) for k in ("l2", "l1"))
    assert n == best + 20 + 1  # every tree trained is kept (not cut back to the best iteration)
    # and a holdout that keeps improving trains every tree
    m2 = lgb.LGBMRegressor(objective="poisson", n_estimators=60, num_leaves=15, metric="None", verbose=-1)
    m2.fit(X, y, eval_X=(X[:500],), eval_y=(y[:500],), eval_metric=["l2"], callbacks=[_StopWhenStalled(20)])
    assert m2.booster_.num_trees() == 60
