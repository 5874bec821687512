"""The federated forecaster's inner holdout: tree count, dispersion and point rule from district sums
equal the central rules on the pooled holdout; what the districts send stays numeric."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.errors import ModelError
from govml.federated import forecaster as FC
from govml.federated.forecaster import FederatedHotspotForecaster


def nb_panel(S: int = 60, T: int = 70, seed: int = 0, districts: int = 3) -> pd.DataFrame:
    """Sparse, overdispersed weekly counts (negative binomial, dispersion 1, mean ~0.7): the predictive
    median is often 0, so the point rule has absolute error to gain."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.7, 1.0, size=S)[:, None] * (1 + 0.3 * np.sin(np.arange(T) / 52 * 2 * np.pi))[None, :]
    y = rng.poisson(rng.gamma(1.0, rate)).astype(float)
    periods = pd.date_range("2023-01-02", periods=T, freq="W-MON")
    cats = np.array(["噪音", "停车"])[np.arange(S) % 2]
    return pd.DataFrame({"area": pd.Categorical(np.repeat([f"s{i:03d}" for i in range(S)], T)),
                         "category": pd.Categorical(np.repeat(cats, T)),
                         "district": pd.Categorical(np.repeat([f"区{i % districts}" for i in range(S)], T)),
                         "period_start": np.tile(periods, S), "y": y.reshape(-1)})


@pytest.fixture(scope="module")
def panel():
    return nb_panel()


@pytest.fixture(scope="module")
def fitted(panel):
    return FederatedHotspotForecaster(n_trees=10, point="auto", select_trees=True, secure=False).fit(panel)


def test_point_weight_from_district_sums_is_the_central_rule():
    from govml.hotspot.forecast import choose_point_weight

    rng = np.random.default_rng(3)
    chosen = set()
    for alpha, scale in ((0.0, 0.3), (0.8, 0.5), (1.5, 2.0), (0.3, 8.0)):
        mu = rng.gamma(0.8, scale, size=4000)
        obs = rng.poisson(rng.gamma(1.0 / max(alpha, 1e-3), mu * max(alpha, 1e-3))).astype(float)
        parts = np.array_split(rng.permutation(mu.size), 7)  # seven districts' cells
        sums = sum(FC.point_rule_sums(mu[p], obs[p], alpha) for p in parts)
        w = FC.point_weight_from_sums(sums)
        assert w == choose_point_weight(mu, obs, alpha)
        chosen.add(w)
    assert len(chosen) > 1 and max(chosen) > 0  # the cases exercise both outcomes of the rule


def test_the_calibration_model_is_the_model_on_the_cut_panel(panel, fitted):
    """The calibration model (rows with targets up to the cut) equals a fit on the panel truncated there."""
    T = panel["period_start"].nunique()
    first = T - 4 - 4
    cut = panel[panel["period_start"] <= np.sort(panel["period_start"].unique())[first]]
    ref = FederatedHotspotForecaster(n_trees=10, secure=False).fit(cut)
    np.testing.assert_allclose(fitted.calibration_booster_.base, ref.booster_.base)
    assert len(fitted.calibration_booster_.trees) == len(ref.booster_.trees) == 10
    for a, b in zip(fitted.calibration_booster_.trees, ref.booster_.trees, strict=True):
        assert a.feature == b.feature and a.threshold == b.threshold
        np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-12)


def test_tree_count_dispersion_and_point_weights_are_the_central_rules_on_the_pooled_holdout(panel, fitted):
    from govml.hotspot.forecast import HotspotForecaster, choose_point_weight, point_forecast

    m = fitted
    T, H = m.y_.shape[1], m.horizon
    first = T - H - m.calibration_origins
    grid = FC.tree_grid(m.n_trees)
    # the pooled holdout: every district's cells stacked (the sums never leave the districts in a fit)
    cal = m.calibration_booster_
    lev = None
    if m.level:
        from govml.hotspot.forecast import level_candidates

        cats = m.keys_["category"].cat.codes.to_numpy()
        M = level_candidates(m.y_, FC.level_windows(), cats)
        G = np.sum([FC.level_gram(M[idx][:, : first + 1], m.y_[idx][:, : first + 1], H) for idx, _fb in m._parts],
                   axis=0)
        lev = M @ FC.level_weights(G, M.shape[-1])
    pooled: dict[int, list] = {h: [] for h in range(1, H + 1)}
    for idx, fb in m._parts:
        hold = FC.holdout_forecasts(fb, m.feature_names_, m.categories_, cal, None if lev is None else lev[idx],
                                    first, H, grid, m.calibration_factors_)
        for h, (P, y) in hold.items():
            pooled[h].append((P, y))
    P = np.vstack([P for h in pooled for P, _y in pooled[h]])
    y = np.concatenate([y for h in pooled for _P, y in pooled[h]])
    assert P.shape == (len(y), len(grid)) and len(y) == 60 * (7 + 6 + 5 + 4)  # series × (origin, horizon) holdout cells
    j = HotspotForecaster(n_estimators=m.n_trees)._choose_trees(P, y, grid)
    assert m.n_trees_ == int(grid[j])
    weights = []
    for h in range(1, H + 1):
        mu = np.concatenate([P[:, j] for P, _y in pooled[h]])
        obs = np.concatenate([y for _P, y in pooled[h]])
        alpha = max(0.0, float(np.sum((obs - mu) ** 2 - mu) / np.sum(mu**2)))
        assert m.dispersion_[h] == pytest.approx(alpha, rel=1e-9)
        assert m.point_weight_[h] == choose_point_weight(mu, obs, alpha)
        weights.append(m.point_weight_[h])
    assert max(weights) > 0  # the rule moved the forecasts toward the median here
    fr = m.predict()
    assert {"yhat", "yhat_mean"} <= set(fr.columns)
    for h in range(1, H + 1):
        rows = fr[fr["horizon"] == h]
        want = point_forecast(rows["yhat_mean"].to_numpy(), m.dispersion_[h], m.point_weight_[h])
        np.testing.assert_allclose(rows["yhat"].to_numpy(), want, rtol=1e-12)
        if m.point_weight_[h] > 0:
            assert np.abs(rows["yhat"] - rows["yhat_mean"]).max() > 0.05
            # w < 1 keeps the ranking of cells: yhat is increasing in the mean
            order = np.argsort(rows["yhat_mean"].to_numpy(), kind="stable")
            assert np.all(np.diff(rows["yhat"].to_numpy()[order]) >= -1e-12)


def test_the_final_model_is_the_first_chosen_trees_of_a_plain_fit(panel, fitted):
    """The chosen count only truncates: the final booster = a plain fit with that many trees, and its
    mean forecast is the plain model's."""
    plain = FederatedHotspotForecaster(n_trees=fitted.n_trees_, secure=False).fit(panel)
    a = fitted.predict().sort_values(["area", "category", "horizon"])
    b = plain.predict().sort_values(["area", "category", "horizon"])
    np.testing.assert_allclose(a["yhat_mean"].to_numpy(), b["yhat"].to_numpy(), rtol=1e-9)


def test_secure_sums_give_the_same_choices_and_only_numbers_travel(panel, fitted, monkeypatch):
    sent: list[list[np.ndarray]] = []
    orig = FC._Secure.sum

    def recording(self, vectors):
        sent.append([np.array(v, copy=True) for v in vectors])
        return orig(self, vectors)

    monkeypatch.setattr(FC._Secure, "sum", recording)
    m = FederatedHotspotForecaster(n_trees=10, point="auto", select_trees=True, secure=True).fit(panel)
    assert m.n_trees_ == fitted.n_trees_ and m.point_weight_ == fitted.point_weight_
    for h in range(1, 5):
        assert m.dispersion_[h] == pytest.approx(fitted.dispersion_[h], abs=1e-4)
    np.testing.assert_allclose(m.predict()["yhat"], fitted.predict()["yhat"], rtol=1e-3, atol=1e-6)
    G, W = len(FC.tree_grid(10)), len(FC.point_weights())
    for vectors in sent:  # one float vector per district, all of the same shape: sums, never rows
        assert len(vectors) == 3
        assert all(isinstance(v, np.ndarray) and v.dtype == np.float64 for v in vectors)
        assert len({v.shape for v in vectors}) == 1
    shapes = [v[0].shape for v in sent]
    assert (4, G, len(FC.HOLDOUT_SUMS)) in shapes and (4, 1 + W, 3) in shapes
    n_rows = panel.groupby("district", observed=True).size().min()
    assert all(int(np.prod(s)) != n_rows for s in shapes)


def test_options_and_short_panels(panel):
    with pytest.raises(ModelError, match="point"):
        FederatedHotspotForecaster(point="median").fit(panel)
    short = panel[panel["period_start"] < np.sort(panel["period_start"].unique())[14]]
    m = FederatedHotspotForecaster(n_trees=5, point="auto", select_trees=True, secure=False).fit(short)
    # no holdout to choose the tree count on: the level alone (untested_trees="none", as the central model)
    assert not m.calibrated_ and m.n_trees_ == 0 and set(m.point_weight_.values()) == {0.0}
    fr = m.predict()
    np.testing.assert_allclose(fr["yhat"], fr["yhat_mean"])
    old = FederatedHotspotForecaster(n_trees=5, point="auto", select_trees=True, secure=False,
                                     untested_trees="all").fit(short)
    assert not old.calibrated_ and old.n_trees_ == 5 and len(old.booster_.trees) == 5
    plain = FederatedHotspotForecaster(n_trees=5, secure=False).fit(panel)
    assert not plain.calibrated_ and "yhat_mean" not in plain.predict().columns


def test_district_scores_of_a_point_forecast_are_evaluates():
    """MAE / RMSE score the point yhat, the deviance the mean behind it (backtest.evaluate's yhat_mean)."""
    from govml.hotspot.backtest import evaluate

    rng = np.random.default_rng(5)
    mean = rng.gamma(0.8, 1.0, size=3000)
    y = rng.poisson(mean).astype(float)
    yhat = FC.apply_point_rule(mean[:, None], [0.5], [0.6])[:, 0]
    parts = np.array_split(np.arange(y.size), 4)
    sums = sum(FC.point_sums(y[p, None], yhat[p, None], mean=mean[p, None]) for p in parts)
    got = FC.metrics_from_sums(sums)
    preds = pd.DataFrame({"model": "m", "origin": pd.Timestamp("2024-01-01"), "horizon": 1, "y": y, "yhat": yhat,
                          "yhat_mean": mean})
    want = evaluate(preds).set_index("horizon").loc["all"]
    for k in ("mae", "rmse", "wape", "poisson_deviance"):
        assert got[k] == pytest.approx(float(want[k]), rel=1e-12)
    assert FC.metrics_from_sums(FC.point_sums(y[:, None], yhat[:, None]))["poisson_deviance"] != pytest.approx(
        got["poisson_deviance"], rel=1e-3)
