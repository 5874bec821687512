"""Session 17: ``reconcile=``'s loose ends — p_hotspot's map fitted on the reconciled holdout means (the ones predict
applies it to are reconciled), ``describe()`` naming the option, ``explain()`` saying it explains the cell model —
and the too-little-history error naming the parameter both ways. Small generated panels only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.errors import ModelError

SMALL = dict(horizon=3, n_estimators=20, learning_rate=0.1, num_leaves=7, min_child_samples=10, calibration_origins=3)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    from govml.samples.complaints import synthetic_panel

    return synthetic_panel(n_areas=4, n_categories=3, n_periods=50, seed=7)


@pytest.fixture(scope="module")
def base(panel: pd.DataFrame):  # noqa: ANN201
    return _fit(panel)


def _fit(panel: pd.DataFrame, keep: bool = False, **kw):  # noqa: ANN202
    from govml.hotspot.forecast import HotspotForecaster

    m = HotspotForecaster(**SMALL, **kw)
    m._keep_hotspot_holdout = keep  # keeps the inner holdout's (unreconciled) means
    return m.fit(panel)


def test_p_hotspot_map_is_fitted_on_the_reconciled_holdout(panel: pd.DataFrame, base) -> None:  # noqa: ANN001
    """td_total by hand: each holdout origin's cell means scaled to the total model's holdout mean at that origin,
    the map fitted on those — predict's p_hotspot is that map applied to the reconciled forecast mean."""
    from govml.hotspot.forecast import HotspotMap
    from govml.hotspot.reconcile import aggregate_panel

    m = _fit(panel, keep=True, reconcile="td_total")
    total = _fit(aggregate_panel(panel, None), keep=True)
    assert m.reconcile_["hotspot_map"] == "the reconciled holdout means"
    S = len(m.keys_)
    fc = m.predict(3)
    for h in (1, 2, 3):
        mu, obs, thr_rows, ref_rows = m.hotspot_holdout_[h]
        n_o = len(mu) // S
        cells = mu.reshape(n_o, S)
        scale = total.hotspot_holdout_[h][0] / cells.sum(axis=1)
        rec = (cells * scale[:, None]).reshape(-1)
        hm = HotspotMap(m.hotspot_calibration, m.hotspot_dispersion).fit(rec, obs, thr_rows, m.dispersion_[h], ref_rows)
        g = fc[fc["horizon"] == h]
        np.testing.assert_allclose(g["p_hotspot"], hm.predict(g["yhat_mean"].to_numpy(), m.threshold_,
                                                               m.hotspot_ref_), rtol=1e-12)
        # before session 17 the map was the cell model's own (fitted on the unreconciled means): no longer
        unrec = base.hotspot_map_[h].predict(g["yhat_mean"].to_numpy(), m.threshold_, m.hotspot_ref_)
        assert not np.allclose(g["p_hotspot"], unrec)
    # the rest of the calibration is the cell model's, as before
    assert m.dispersion_ == base.dispersion_ and m.conformal_ == base.conformal_


@pytest.mark.parametrize("method", ["wls_struct", "mint_shrink"])
def test_projection_methods_refit_the_map_and_keep_no_holdout(panel: pd.DataFrame, base, method: str) -> None:  # noqa: ANN001
    m = _fit(panel, reconcile=method)
    assert m.hotspot_holdout_ == {} and all(f.hotspot_holdout_ == {} for f in m.reconcile_["models"].values())
    assert m.reconcile_["hotspot_map"] == "the reconciled holdout means"
    assert any(m.hotspot_map_[h].describe() != base.hotspot_map_[h].describe() for h in (1, 2, 3))
    p = m.predict(3)["p_hotspot"]
    assert ((p >= 0) & (p <= 1)).all()


def test_describe_and_explain_name_the_option(panel: pd.DataFrame, base) -> None:  # noqa: ANN001
    assert "reconcile" not in base.describe()  # the default's description is as it was
    assert "explains" not in base.explain(2).columns
    m = _fit(panel, reconcile="wls_struct")
    d = m.describe()["reconcile"]
    assert d == {"method": "wls_struct", "applied": True, "aggregates": 1 + 4 + 3,
                 "levels": ["area", "category", "total"], "hotspot_map_fitted_on": "the reconciled holdout means",
                 "explain": "explain() explains the cell model before reconciliation"}
    ex = m.explain(2)
    assert ex["explains"].unique().tolist() == [
        "the cell model before reconcile='wls_struct': the reconciled forecast also moves with the area / category / "
        "total forecasts"]
    pd.testing.assert_frame_equal(ex.drop(columns="explains"), base.explain(2))  # the same cell model's reasons
    # nothing to reconcile (one category: the total only, and td_area has no level to scale to)
    from govml.samples.complaints import synthetic_panel

    one = _fit(synthetic_panel(n_areas=3, n_categories=1, n_periods=40, seed=1), reconcile="td_area")
    assert one.describe()["reconcile"]["applied"] is False


def test_too_little_history_names_the_parameter_both_ways() -> None:
    from govml.samples.complaints import synthetic_panel

    short = synthetic_panel(n_areas=2, n_categories=1, n_periods=8, seed=3)
    from govml.hotspot.forecast import HotspotForecaster

    with pytest.raises(ModelError, match="too little history") as err:
        HotspotForecaster(horizon=8, strategy="direct", calibration_origins=0, n_estimators=5).fit(short)
    msg = str(err.value)
    assert "horizon= (--horizon; now 8)" in msg and "strategy='recursive' (--strategy recursive)" in msg
