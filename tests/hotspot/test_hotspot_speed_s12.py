"""Session 12: the forecaster's faster paths give the values of the paths they replace, bit for bit.

The fit computes the level candidates once per panel (the calibration's weights read their first columns), the
recursive steps read one column of the robust windows and of the target calendar, group sums go through a sparse
indicator matrix instead of ``np.add.at``, and tree selection reads only the leaves it meets. Each is checked
against the computation it replaced, on values that are not whole numbers (so a changed order of additions would
show).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.hotspot.features import FeatureBuilder, FeatureSpec, group_sums
from govml.hotspot.forecast import (
    HotspotForecaster,
    _leaf_table,
    _robust_last,
    _robust_window,
    _staged_raw,
    level_at_end,
    level_candidates,
)
from govml.samples.complaints import synthetic_panel

CANDIDATES = (4, 8, 13, 26, "all", "cat_4", "cat_13", "med_8", "med_13", "trim_13", "ewm_0.3", "tsb_0.2",
              "area_4", "indep_4", "indepr_4_26", "eb_4", "ebi_4_26", "share_4", "cattr_4_13")


def _counts(S: int, T: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = rng.poisson(rng.gamma(0.6, 3.0, size=(S, 1)) * np.ones((1, T))).astype(float)
    return y * rng.choice([1.0, 0.1, 1.0 / 3.0], size=(S, 1))  # fractions: a changed order of additions shows


def test_candidates_of_a_cut_panel_are_the_first_columns_of_the_whole_panels() -> None:
    # what the fit's one level_candidates per panel relies on: column o reads columns <= o only, the same way
    y = _counts(60, 70)
    rng = np.random.default_rng(1)
    g, a = rng.integers(0, 4, 60), rng.integers(0, 9, 60)
    full = level_candidates(y, CANDIDATES, g, a)
    for L in (1, 2, 9, 13, 40, 69):
        np.testing.assert_array_equal(level_candidates(y[:, :L], CANDIDATES, g, a), full[:, :L])


@pytest.mark.parametrize("kind", ["med", "trim"])
@pytest.mark.parametrize("T", [1, 2, 7, 8, 12, 13, 14, 30])
def test_robust_last_is_the_robust_windows_last_column(kind: str, T: int) -> None:
    y = _counts(40, T, seed=T)
    for w in (4, 8, 13):
        np.testing.assert_array_equal(_robust_last(y, kind, w), _robust_window(y[:, max(0, T - w):], kind, w)[:, -1])
        np.testing.assert_array_equal(_robust_last(y, kind, w), _robust_window(y, kind, w)[:, -1])


@pytest.mark.parametrize("ndim", [1, 2])
def test_group_sums_add_rows_as_add_at_does(ndim: int) -> None:
    rng = np.random.default_rng(2)
    x = rng.random((300, 25) if ndim == 2 else 300) * 7.0
    codes = rng.integers(0, 11, 300)
    ref = np.zeros((11,) + x.shape[1:])
    np.add.at(ref, codes, x)
    np.testing.assert_array_equal(group_sums(x, codes), ref)
    np.testing.assert_array_equal(group_sums(x, codes, 11), ref)


def test_last_only_builder_rows_equal_the_full_builders_last_row() -> None:
    # the last-only builder now reads the target calendar of its one row (a daily panel: one day, not all T)
    S, T = 12, 400
    y = _counts(S, T, seed=3)
    keys = pd.DataFrame({"area": pd.Categorical([f"a{i % 4}" for i in range(S)]),
                         "category": pd.Categorical([f"c{i // 4}" for i in range(S)])})
    periods = pd.date_range("2018-12-20", periods=T, freq="D")  # crosses two Spring Festivals and 国庆
    full = FeatureBuilder(y, keys, periods, FeatureSpec(season_length=7))
    last = FeatureBuilder(y, keys, periods, FeatureSpec(season_length=7), last_only=True)
    for h in (1, 5, 14):
        a = full.frame(h, [T - 1])
        b = last.frame(h, [T - 1])
        pd.testing.assert_frame_equal(a, b)
        assert b["tgt_holiday_days"].dtype == np.float32


def test_leaf_table_from_the_leaves_met_equals_the_model_dump() -> None:
    lgb = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(4)
    X = rng.normal(size=(2000, 5))
    y = rng.poisson(np.exp(0.5 * X[:, 0]))
    b = lgb.LGBMRegressor(objective="poisson", n_estimators=40, num_leaves=15, min_child_samples=5,
                          verbose=-1).fit(X, y).booster_
    leaves = np.asarray(b.predict(X[:300], pred_leaf=True), dtype=np.int64)
    cols = np.arange(leaves.shape[1])[None, :]
    np.testing.assert_array_equal(_leaf_table(b, leaves)[cols, leaves], _leaf_table(b)[cols, leaves])
    raw = _staged_raw(type("M", (), {"booster_": b})(), X[:300], np.array([0, 10, 40]))
    np.testing.assert_allclose(raw[:, -1], b.predict(X[:300], raw_score=True), rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(raw[:, 0], 0.0)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return synthetic_panel(n_areas=12, n_categories=3, n_periods=70, seed=5, n_districts=3)


def test_fit_with_the_shared_candidates_forecasts_as_with_fresh_ones(panel: pd.DataFrame, monkeypatch) -> None:
    kw = dict(horizon=3, n_estimators=20, level_tiers=2)
    a = HotspotForecaster(**kw).fit(panel)
    assert a._cand_cache is None  # not kept in the fitted model
    fa = a.predict(3)

    def fresh(self, y):  # the computation before session 12: every call computes them again
        return level_candidates(y, self._level_windows(), self.level_groups_, self.level_areas_)

    monkeypatch.setattr(HotspotForecaster, "_candidates", fresh)
    b = HotspotForecaster(**kw).fit(panel)
    pd.testing.assert_frame_equal(fa, b.predict(3))
    np.testing.assert_array_equal(a.level_weights_, b.level_weights_)
    assert a.n_trees_by_horizon_ == b.n_trees_by_horizon_


def test_panel_attrs_are_left_alone_and_not_read(panel: pd.DataFrame) -> None:
    big = panel.copy()
    big.attrs = {"freq": "W", "true_rate": np.arange(len(panel), dtype=float)}
    fa = HotspotForecaster(horizon=2, n_estimators=20, strategy="direct").fit(panel).predict(2)
    fb = HotspotForecaster(horizon=2, n_estimators=20, strategy="direct").fit(big).predict(2)
    pd.testing.assert_frame_equal(fa, fb)
    assert set(big.attrs) == {"freq", "true_rate"} and len(big.attrs["true_rate"]) == len(panel)


def test_level_at_end_matches_the_candidates_last_column_where_the_arithmetic_is_shared() -> None:
    # the robust candidates at the end read the same windows as the full candidates' last column
    y = _counts(30, 50, seed=6)
    full = level_candidates(y, ("med_8", "med_13", "trim_13"))
    np.testing.assert_array_equal(level_at_end(y, ("med_8", "med_13", "trim_13")), full[:, -1])
