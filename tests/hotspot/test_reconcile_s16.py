"""Session 16 (issue 4): hierarchical reconciliation of cell forecasts with forecasts of their area / category /
grand totals (``govml.hotspot.reconcile``) — the closed form against the textbook MinT projection, coherence, the
top-down variant, the shrunk covariance and the clipping; small generated panels only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.errors import ModelError
from govml.hotspot.reconcile import (
    clip_negative,
    error_covariance,
    hierarchy,
    reconcile,
    shrink_covariance,
    top_down,
)

AREA = np.repeat(np.arange(3), 4)  # 3 areas × 4 categories = 12 cells
CAT = np.tile(np.arange(4), 3)


def _textbook(yb: np.ndarray, ya: np.ndarray, C: np.ndarray, W: np.ndarray) -> np.ndarray:
    """G = (Sᵀ W⁻¹ S)⁻¹ Sᵀ W⁻¹ applied to the stacked base forecasts (Wickramasuriya et al. 2019, eq. 9)."""
    S = np.vstack([C, np.eye(C.shape[1])])
    Wi = np.linalg.inv(W)
    return np.linalg.solve(S.T @ Wi @ S, S.T @ Wi @ np.vstack([ya, yb]))


def test_hierarchy_rows_and_redundant_levels() -> None:
    C, labels = hierarchy(AREA, CAT)
    assert labels == ["total", "area:0", "area:1", "area:2", "category:0", "category:1", "category:2", "category:3"]
    assert C.shape == (8, 12)
    assert np.array_equal(C[0], np.ones(12))
    assert np.array_equal(C[1], (AREA == 0).astype(float))
    assert np.array_equal(C[4], (CAT == 0).astype(float))
    # one category (泰迪杯 weekly): the areas are the cells and the category is the total — only the total is left
    C1, lab1 = hierarchy(np.arange(5), np.zeros(5, dtype=int))
    assert lab1 == ["total"] and C1.shape == (1, 5)
    with pytest.raises(ModelError, match="area codes"):
        hierarchy(AREA, CAT[:-1])


@pytest.mark.parametrize("method", ["ols", "wls_struct", "wls_var", "mint_shrink"])
def test_reconcile_is_the_mint_projection_and_coherent(method: str) -> None:
    rng = np.random.default_rng(1)
    C, _ = hierarchy(AREA, CAT)
    yb = rng.gamma(2.0, 2.0, size=(12, 3))
    ya = C @ yb * rng.uniform(0.8, 1.3, size=(8, 1))  # incoherent aggregates
    E = rng.normal(size=(25, 20)) @ np.diag(rng.uniform(0.5, 3.0, 20))
    E[:, 8:] += rng.normal(size=(25, 1))  # a common error component, so the covariance has off-diagonals
    W = error_covariance(method, C, E)
    got = reconcile(yb, ya, C, W)
    assert np.allclose(got, _textbook(yb, ya, C, W), atol=1e-9)
    assert not np.allclose(got, yb)  # the aggregates did move the cells
    # coherent base forecasts are a fixed point of every projection
    assert np.allclose(reconcile(yb, C @ yb, C, W), yb, atol=1e-9)


def test_ols_by_hand() -> None:
    # two cells and their total: OLS spreads the total's gap over the three nodes equally
    C = np.ones((1, 2))
    got = reconcile(np.array([[1.0], [2.0]]), np.array([[6.0]]), C, error_covariance("ols", C))
    assert np.allclose(got[:, 0], [2.0, 3.0])  # gap 3, one third to each node: the total becomes 5 = 2 + 3
    # structural scaling weights the total by its 2 cells: gap 3 × 1 / (2 + 1 + 1) per cell
    got = reconcile(np.array([[1.0], [2.0]]), np.array([[6.0]]), C, error_covariance("wls_struct", C))
    assert np.allclose(got[:, 0], [1.75, 2.75])


def test_variance_weights_follow_the_errors() -> None:
    # the total's forecast was far more accurate than the cells': the reconciled cells nearly sum to it
    C = np.ones((1, 2))
    E = np.column_stack([np.full(10, 0.01), np.ones(10), np.ones(10)]) * np.resize([1, -1], (10, 1))
    got = reconcile(np.array([[1.0], [2.0]]), np.array([[6.0]]), C, error_covariance("wls_var", C, E))
    assert abs(got.sum() - 6.0) < 1e-3 and np.allclose(got[:, 0] - [1.0, 2.0], 1.5, atol=1e-3)
    with pytest.raises(ModelError, match="past forecast errors"):
        error_covariance("mint_shrink", C, None)
    with pytest.raises(ModelError, match="must be one of"):
        error_covariance("bogus", C, E)


def test_shrink_covariance() -> None:
    rng = np.random.default_rng(3)
    common = rng.normal(size=(200, 1))
    E = common + 0.1 * rng.normal(size=(200, 6))  # nearly perfectly correlated: little shrinkage
    W, lam = shrink_covariance(E)
    assert 0.0 <= lam < 0.05
    assert np.allclose(np.diag(W), np.mean(E**2, axis=0))  # the diagonal is never shrunk
    noise = rng.normal(size=(8, 6))  # independent, few rows: mostly the diagonal
    _, lam2 = shrink_covariance(noise)
    assert lam2 > 0.5
    W0, _ = shrink_covariance(np.zeros((5, 3)))  # no errors at all: a positive diagonal, still invertible
    assert np.all(np.diag(W0) > 0)


def test_top_down_and_clip() -> None:
    C, labels = hierarchy(AREA, CAT)
    rows = [i for i, lab in enumerate(labels) if lab.startswith("area:")]
    yb = np.arange(12, dtype=float)[:, None] * np.ones((1, 2))
    yb[4:8] = 0.0  # area 1's cells all forecast 0: they keep 0 whatever its total says
    ya = np.array([[12.0, 6.0], [5.0, 5.0], [100.0, 50.0]])
    got = top_down(yb, ya, C[rows])
    assert np.allclose(C[rows][[0, 2]] @ got, ya[[0, 2]])
    assert np.allclose(got[4:8], 0.0)
    assert np.allclose(got[:4, 0] / got[:4, 0].sum(), yb[:4, 0] / yb[:4, 0].sum())  # shares kept
    clipped, share = clip_negative(np.array([[-1.0, 2.0], [3.0, -1.0]]))
    assert np.array_equal(clipped, [[0.0, 2.0], [3.0, 0.0]]) and share == pytest.approx(2 / 7)


# -- the forecaster's option ------------------------------------------------------------------------------------
SMALL = dict(horizon=3, n_estimators=20, learning_rate=0.1, num_leaves=7, min_child_samples=10, calibration_origins=3)


@pytest.fixture(scope="module")
def panel():  # noqa: ANN201
    from govml.samples.complaints import synthetic_panel

    return synthetic_panel(n_areas=4, n_categories=3, n_periods=50, seed=7)


def _fit(panel, **kw):  # noqa: ANN001, ANN202
    from govml.hotspot.forecast import HotspotForecaster

    return HotspotForecaster(**SMALL, **kw).fit(panel)


@pytest.fixture(scope="module")
def base(panel):  # noqa: ANN001, ANN201
    return _fit(panel)


def test_option_off_is_the_default_and_adds_nothing(panel, base) -> None:  # noqa: ANN001
    from govml.hotspot.forecast import HotspotForecaster

    assert HotspotForecaster().get_params()["reconcile"] is None
    a = base
    b = _fit(panel, reconcile=None)
    assert not hasattr(a, "reconcile_") and a.hotspot_holdout_ == {}
    pd.testing.assert_frame_equal(a.predict(3), b.predict(3))


@pytest.mark.parametrize("method", ["wls_struct", "mint_shrink", "td_area"])
def test_reconciled_forecasts(panel, base, method: str) -> None:  # noqa: ANN001
    from govml.hotspot.forecast import point_forecast

    m = _fit(panel, reconcile=method)
    fc, fb = m.predict(3), base.predict(3)
    rec = m.reconcile_
    assert m.hotspot_holdout_ == {}  # the holdout errors were used for W and dropped
    assert [lab.split(":")[0] for lab in rec["labels"]].count("area") == 4
    assert sorted(rec["models"]) == ["area", "category", "total"]
    mu = fc["yhat_mean"].to_numpy().reshape(-1, 3)
    mu0 = fb["yhat_mean"].to_numpy().reshape(-1, 3)
    ya = np.vstack([rec["models"][lev].predict(3)["yhat_mean"].to_numpy().reshape(-1, 3)[i] for lev, i in rec["rows"]])
    C = rec["C"]
    if method == "td_area":
        sel = [j for j, lab in enumerate(rec["labels"]) if lab.startswith("area:")]
        assert np.allclose(C[sel] @ mu, ya[sel])  # each area's cells sum to its own forecast
    else:
        assert np.allclose(mu, np.maximum(reconcile(mu0, ya, C, rec["W"]), 0.0))
        if method == "mint_shrink":  # W from the holdout errors: not the structural one
            assert not np.allclose(rec["W"], error_covariance("wls_struct", C))
    assert not np.allclose(mu, mu0) and (mu >= 0).all()
    # intervals, the point and p_hotspot all follow the reconciled mean
    for h in (1, 2, 3):
        g = fc[fc["horizon"] == h]
        m_h = g["yhat_mean"].to_numpy()
        assert np.allclose(g["yhat"], point_forecast(m_h, m.dispersion_[h], m.point_weight_[h]))
        assert np.allclose(g["p_hotspot"], m._p_hotspot(m_h, h))
        assert (g["yhat_lo"] <= g["yhat"]).all() and (g["yhat"] <= g["yhat_hi"]).all()


def test_reconciled_forecasts_ignore_everything_after_the_origin(panel) -> None:  # noqa: ANN001
    from govml.hotspot.panel import truncate

    periods = pd.DatetimeIndex(pd.unique(panel["period_start"]))
    o = periods[40]
    later = panel.copy()
    sel = later["period_start"] > o
    later.loc[sel, "y"] = np.random.default_rng(2).poisson(6.0, size=int(sel.sum())).astype(float)
    a = _fit(truncate(panel, o), reconcile="mint_shrink").predict(3)
    b = _fit(truncate(later, o), reconcile="mint_shrink").predict(3)
    pd.testing.assert_frame_equal(a, b)
    c = _fit(truncate(later, periods[44]), reconcile="mint_shrink").predict(3)  # a later cut sees the change
    assert not np.allclose(c["yhat_mean"], a["yhat_mean"])


def test_bad_method_and_one_category() -> None:
    from govml.samples.complaints import synthetic_panel

    with pytest.raises(ModelError, match="reconcile must be"):
        _fit(synthetic_panel(n_areas=2, n_categories=2, n_periods=40, seed=1), reconcile="bottom_up")
    one = synthetic_panel(n_areas=3, n_categories=1, n_periods=40, seed=1)
    m = _fit(one, reconcile="ols")
    assert m.reconcile_["labels"] == ["total"]  # the areas are the cells: only the total is left
    td = _fit(one, reconcile="td_area")
    assert td.reconcile_ is None  # nothing to scale to
    pd.testing.assert_frame_equal(td.predict(3), _fit(one).predict(3))
