"""Session-7 level candidate ``share_w`` (an option): the series' share of the whole board's events over
the last 52 periods (all so far when fewer) × the board's mean total over the last ``w`` periods —
values worked by hand on tiny panels, and no information after the origin."""

from __future__ import annotations

import numpy as np
import pytest

from govml.hotspot.forecast import level_at_end, level_candidates

Y3 = np.array([[1.0, 2.0, 3.0, 0.0],
               [0.0, 1.0, 1.0, 2.0],
               [3.0, 1.0, 0.0, 2.0]])
SHARE = ("share_2", "share_4", "share_2_2", "share_3_all")


def test_share_candidate_by_hand() -> None:
    M = level_candidates(Y3, ("share_2", "share_2_2"), np.array([0, 1, 0]), np.array([0, 0, 1]))
    # last column: fewer than 52 periods, so the shares are over all 4: 6/16, 4/16, 6/16; the board's
    # totals per period 4, 4, 4, 4 → mean of the last 2 = 4 (categories and areas play no part)
    assert np.allclose(M[:, -1, 0], [6 / 16 * 4, 4 / 16 * 4, 6 / 16 * 4])
    # "share_w_L": the share over the last L = 2 periods only: 3/8, 3/8, 2/8
    assert np.allclose(M[:, -1, 1], [3 / 8 * 4, 3 / 8 * 4, 2 / 8 * 4])
    # second column: shares so far 3/8, 1/8, 4/8 × board mean (4 + 4) / 2
    assert np.allclose(M[:, 1, 0], [3 / 8 * 4, 1 / 8 * 4, 4 / 8 * 4])
    # a board that shifts: the share is long-run, the total recent
    y = np.array([[2.0, 2.0, 2.0, 1.0, 1.0], [6.0, 6.0, 6.0, 3.0, 3.0]])
    lev = level_candidates(y, ("share_2",))[:, -1, 0]
    assert np.allclose(lev, [0.25 * 4.0, 0.75 * 4.0])
    # a board with no events yet: equal shares of nothing
    assert np.allclose(level_candidates(np.zeros((3, 2)), ("share_4",))[:, :, 0], 0.0)


def test_share_uses_the_last_52_periods_by_default() -> None:
    T = 60
    y = np.zeros((2, T))
    y[0, :8] = 5.0  # series 0 busy only in the first 8 periods, which fall outside the 52-period span
    y[1, :] = 1.0
    lev = level_candidates(y, ("share_4", "share_4_all"))[:, -1, :]
    assert np.allclose(lev[:, 0], [0.0, 1.0])  # share over the last 52: 0 and 1; board mean of last 4: 1
    assert np.allclose(lev[:, 1], [40 / 100, 60 / 100])  # share over all 60 periods
    assert np.allclose(level_at_end(y, ("share_4", "share_4_all")), lev)


@pytest.mark.parametrize("cut", [0, 1, 5, 20, 58, 69])
def test_share_uses_only_the_past(cut: int) -> None:
    rng = np.random.default_rng(cut)
    S, T = 12, 70
    y = rng.poisson(rng.gamma(1.0, 2.0, size=(S, 1)) * np.linspace(0.5, 2.0, T)).astype(float)
    z = y.copy()
    z[:, cut + 1:] = rng.poisson(9.0, size=(S, T - cut - 1))  # every count after the cut changed
    full = level_candidates(y, SHARE)
    pert = level_candidates(z, SHARE)
    assert np.array_equal(full[:, : cut + 1], pert[:, : cut + 1])
    # the end-of-panel shortcut the forecaster uses gives the matrix's values at the cut
    assert np.allclose(level_at_end(y[:, : cut + 1], SHARE), full[:, cut, :], rtol=1e-12, atol=1e-12)
    if cut < T - 1:  # the candidates do react to what comes after, so the test could fail
        assert not np.allclose(full[:, -1], pert[:, -1])
