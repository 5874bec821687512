"""Where collection began: a thin lead-in with a few busy periods in it is cut where collection settles;
a sparse board whose quiet periods are spread throughout keeps everything."""

from __future__ import annotations

import numpy as np

from govml.coverage import thin_lead_in
from govml.hotspot.forecast import data_start


def test_a_thin_lead_in_with_isolated_busy_periods_is_cut_where_collection_settles() -> None:
    rng = np.random.default_rng(0)
    lead = rng.poisson(2.0, 60).astype(float)
    lead[[12, 40]] = 30.0                      # two busy early weeks inside years of a barely used board
    rest = rng.poisson(80.0, 50).astype(float)
    tot = np.concatenate([lead, rest])
    assert thin_lead_in(tot, 8.0) == 60
    y = np.vstack([tot / 2, tot / 2])
    assert data_start(y) == 60                 # before: the first busy week (12) counted as the start
    # one quiet week after the start (a holiday) does not move the start
    tot2 = tot.copy()
    tot2[75] = 1.0
    assert thin_lead_in(tot2, 8.0) == 60


def test_no_lead_in_and_spread_quiet_periods_keep_everything() -> None:
    rng = np.random.default_rng(1)
    assert thin_lead_in(rng.poisson(80.0, 100).astype(float), 8.0) == 0
    sparse = rng.poisson(0.5, 200).astype(float)   # 60 % empty weeks, spread through the year
    assert thin_lead_in(sparse, 0.2) == 0
    assert thin_lead_in(np.zeros(10), 1.0) == 0 and thin_lead_in(np.array([5.0]), 1.0) == 0
    # a board whose lead-in is half busy is not cut either (at most a quarter of it may reach the floor)
    mixed = np.concatenate([np.tile([30.0, 1.0], 20), np.full(40, 30.0)])
    assert thin_lead_in(mixed, 8.0) == 0
