"""Session 8 (issue 4): how the level weights are chosen — recency-weighted inner origins
(``level_halflife``) and shrinkage toward equal weights (``level_shrink``, ``level_shrink_prior``), on
generated panels."""

from __future__ import annotations

import numpy as np
import pytest

from govml.errors import GovmlError
from govml.hotspot.forecast import (
    LEVEL_ORIGINS,
    LEVEL_SHRINK_KAPPA,
    LEVEL_WINDOWS,
    HotspotForecaster,
    _simplex_qp,
    choose_level_weights,
    choose_level_weights_tiered,
    effective_origins,
    level_candidates,
    level_gram,
    level_prior,
    level_shrink_share,
    level_weights_from_sums,
    volume_tiers,
)
from govml.hotspot.panel import panel_matrix
from govml.samples.complaints import synthetic_panel

SHORT = {4, 8, 13, "med_8", "med_13"}  # the candidates that follow a shift within a quarter


def _shifted(seed: int, S: int = 200, T: int = 80, shift: int = 75) -> np.ndarray:
    """Stationary Poisson series whose rates halve (even series) or rise by half (odd series) from
    period ``shift`` on: the last 5 of the 26 inner targets are after the shift. The board total hardly
    moves, so the category top-down candidates cannot follow it; only a series' own short windows can."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(2.0, 3.0, size=(S, 1)) * np.ones((1, T))
    down = np.arange(S) % 2 == 0
    rate[down, shift:] *= 0.5
    rate[~down, shift:] *= 1.5
    return rng.poisson(rate).astype(float)


def _short(w: np.ndarray) -> float:
    return float(sum(v for c, v in zip(LEVEL_WINDOWS, w, strict=True) if c in SHORT))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recency_weighting_moves_weight_to_short_windows_after_a_shift(seed: int) -> None:
    y = _shifted(seed)
    plain = _short(choose_level_weights(y, 4))
    hl8 = _short(choose_level_weights(y, 4, halflife=8.0))
    hl4 = _short(choose_level_weights(y, 4, halflife=4.0))
    # unweighted, the 21 stationary inner targets outvote the 5 after the shift: the long means carry
    # most of the weight; counting recent targets more moves it to the short windows, more so the
    # shorter the half-life
    assert plain < 0.5
    assert plain < hl8 < hl4
    assert hl4 > plain + 0.3
    # and no shift, no move: on stationary series both choices leave the short windows little weight
    calm = np.random.default_rng(seed).poisson(np.random.default_rng(seed + 10).gamma(2.0, 3.0, size=(200, 1))
                                               * np.ones((1, 80))).astype(float)
    assert _short(choose_level_weights(calm, 4)) < 0.5
    assert _short(choose_level_weights(calm, 4, halflife=8.0)) < 0.5


def test_no_shrinkage_and_no_halflife_give_the_plain_weights_exactly() -> None:
    y = _shifted(3)
    M = level_candidates(y, LEVEL_WINDOWS)
    G, b = level_gram(M, y, 4)
    plain = _simplex_qp(G, b)  # the rule before session 8
    assert np.array_equal(choose_level_weights(y, 4), plain)
    assert np.array_equal(choose_level_weights(y, 4, halflife=None, shrink=0.0), plain)
    assert np.array_equal(level_weights_from_sums(G, b, shrink=0.0), plain)
    # a half-life far longer than the 26 inner origins is the plain rule up to rounding
    Gl, bl = level_gram(M, y, 4, halflife=1e12)
    np.testing.assert_allclose(Gl, G, rtol=1e-9)
    np.testing.assert_allclose(bl, b, rtol=1e-9)


def test_shrinkage_mixes_the_plain_weights_with_equal_ones() -> None:
    y = _shifted(4)
    k = len(LEVEL_WINDOWS)
    plain = choose_level_weights(y, 4)
    for s in (0.1, 0.5):
        np.testing.assert_allclose(choose_level_weights(y, 4, shrink=s), (1 - s) * plain + s / k, atol=1e-12)
    np.testing.assert_allclose(choose_level_weights(y, 4, shrink=1.0), np.full(k, 1.0 / k))
    share = level_shrink_share(k, effective_origins(y.shape[1], LEVEL_ORIGINS))
    assert share == pytest.approx(LEVEL_SHRINK_KAPPA * k / (LEVEL_ORIGINS - k))
    np.testing.assert_allclose(choose_level_weights(y, 4, shrink="auto"), (1 - share) * plain + share / k,
                               atol=1e-12)


def test_the_recent_prior_is_equal_weights_on_the_short_windows() -> None:
    p = dict(zip(LEVEL_WINDOWS, level_prior(LEVEL_WINDOWS, "recent"), strict=True))
    assert {c for c, v in p.items() if v > 0} == {4, 8, 13, "cat_4", "cat_13", "med_8", "med_13"}
    assert all(v == pytest.approx(1 / 7) for v in p.values() if v > 0)
    assert np.allclose(level_prior(LEVEL_WINDOWS, "equal"), 1 / len(LEVEL_WINDOWS))
    # other candidates by their level window: ewm_0.3 spans 2/0.3 - 1 ≈ 5.7 periods, ewm_0.1 19, trim_26 26
    extra = ("ewm_0.3", "ewm_0.1", "trim_26", "eb_4_52", "share_13", "all")
    assert level_prior(extra, "recent").tolist() == [1 / 3, 0.0, 0.0, 1 / 3, 1 / 3, 0.0]
    assert np.allclose(level_prior((26, 52, "all"), "recent"), 1 / 3)  # none recent: equal weights
    y = _shifted(8)
    plain = choose_level_weights(y, 4)
    rec = level_prior(LEVEL_WINDOWS, "recent")
    np.testing.assert_allclose(choose_level_weights(y, 4, shrink=0.4, prior="recent"), 0.6 * plain + 0.4 * rec,
                               atol=1e-12)
    assert np.array_equal(choose_level_weights(y, 4, shrink=0.0, prior="recent"), plain)
    with pytest.raises(GovmlError):
        choose_level_weights(y, 4, shrink=0.4, prior="long")


def test_shrink_share_and_effective_origins() -> None:
    # Stock & Watson: 10 weights on 26 periods, κ = 0.25 → 0.25 · 10 / 16
    assert level_shrink_share(10, 26.0, 0.25) == pytest.approx(0.15625)
    assert level_shrink_share(10, 26.0, 0.5) == pytest.approx(0.3125)
    assert level_shrink_share(10, 10.0) == 1.0  # no more periods than weights: equal weights
    assert level_shrink_share(10, 12.0, 1.0) == 1.0  # capped at all
    assert level_shrink_share(1, 26.0) == 0.0  # one candidate: nothing to shrink
    assert effective_origins(80, 26) == 26.0
    assert effective_origins(10, 26) == 9.0  # a short panel has fewer target periods
    assert effective_origins(1, 26) == 0.0
    # recency weights lower the effective number (Kish), the more the shorter the half-life
    n8, n26 = effective_origins(80, 26, 8.0), effective_origins(80, 26, 26.0)
    r = 0.5 ** (np.arange(26) / 8.0)
    assert n8 == pytest.approx(r.sum() ** 2 / (r**2).sum())
    assert n8 < n26 < 26.0
    # so the same κ shrinks more when recent origins count more: the half-life's noise is paid for
    assert level_shrink_share(10, n8) > level_shrink_share(10, n26) > level_shrink_share(10, 26.0)


@pytest.mark.parametrize("kw", [dict(halflife=4.0), dict(shrink=0.3), dict(shrink="auto"),
                                dict(shrink="auto", prior="recent"),
                                dict(halflife=8.0, shrink="auto"), dict(halflife=2.0, shrink=1.0)])
def test_weights_are_convex(kw: dict) -> None:
    y = _shifted(5, S=60)
    w = choose_level_weights(y, 3, **kw)
    assert w.shape == (len(LEVEL_WINDOWS),)
    assert (w >= 0).all()
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    W = choose_level_weights_tiered(y, 3, volume_tiers(y, 2), **kw)
    assert (W >= 0).all()
    np.testing.assert_allclose(W.sum(axis=1), 1.0, atol=1e-12)
    # nothing to fit (no events): the first candidate, shrinkage or not
    assert choose_level_weights(np.zeros((4, 30)), 2, **kw).tolist() == [1.0] + [0.0] * (len(LEVEL_WINDOWS) - 1)


def test_weighted_sums_still_add_up_over_series() -> None:
    """A federation sums each district's level_gram: the recency weights depend on the period only."""
    y = _shifted(6, S=40)
    M = level_candidates(y, LEVEL_WINDOWS)
    G, b = level_gram(M, y, 4, halflife=6.0)
    parts = [level_gram(M[r], y[r], 4, halflife=6.0) for r in (slice(0, 13), slice(13, 40))]
    np.testing.assert_allclose(parts[0][0] + parts[1][0], G, rtol=1e-12)
    np.testing.assert_allclose(parts[0][1] + parts[1][1], b, rtol=1e-12)


def test_bad_values_are_user_errors() -> None:
    y = _shifted(7, S=20)
    for kw in (dict(shrink=1.5), dict(shrink=-0.1), dict(shrink="lots"), dict(halflife=0.0), dict(halflife=-3.0)):
        with pytest.raises(GovmlError):
            choose_level_weights(y, 2, **kw)


def test_forecaster_parameters_reach_the_level_weights() -> None:
    panel = synthetic_panel(n_areas=8, n_categories=2, n_periods=60, seed=11)
    small = dict(horizon=2, strategy="direct", n_estimators=20, num_leaves=7, min_child_samples=10,
                 calibration_origins=2, holidays=None)
    plain = HotspotForecaster(**small).fit(panel).level_weights_
    shrunk = HotspotForecaster(**small, level_shrink="auto").fit(panel)
    y, _keys, _periods = panel_matrix(panel)
    k = len(LEVEL_WINDOWS)
    share = level_shrink_share(k, effective_origins(y.shape[1] - shrunk.data_start_, LEVEL_ORIGINS))
    assert 0.0 < share < 1.0
    np.testing.assert_allclose(shrunk.level_weights_, (1 - share) * plain + share / k, atol=1e-12)
    assert sum(shrunk.describe()["level_weights"].values()) == pytest.approx(1.0)
    toward = HotspotForecaster(**small, level_shrink="auto", level_shrink_prior="recent").fit(panel).level_weights_
    np.testing.assert_allclose(toward, (1 - share) * plain + share * level_prior(LEVEL_WINDOWS, "recent"), atol=1e-12)
    recent = HotspotForecaster(**small, level_halflife=4.0).fit(panel).level_weights_
    assert (recent >= 0).all() and recent.sum() == pytest.approx(1.0)
    assert not np.allclose(recent, plain)
