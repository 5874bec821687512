"""Session 8 (h3's dry run): intervals hold for the busy series of a sparse panel, not only for its zeros."""

from __future__ import annotations

import numpy as np

from govml.hotspot.forecast import HotspotForecaster
from hotspot_panels import toy_panel


def test_busy_series_of_a_sparse_panel_get_intervals_that_cover_them() -> None:
    rng = np.random.default_rng(0)
    S, T, busy = 120, 90, 12
    rate = np.full(S, 0.03)
    rate[:busy] = np.linspace(4.0, 20.0, busy)
    y = rng.poisson(rate[:, None], size=(S, T)).astype(float)
    hold = 10
    covered = []
    for o in range(T - hold, T):
        m = HotspotForecaster(horizon=1, n_estimators=40, random_state=0).fit(toy_panel(y[:, :o]))
        fc = m.predict(1).sort_values("area")
        lo, hi = fc["yhat_lo"].to_numpy()[:busy], fc["yhat_hi"].to_numpy()[:busy]
        covered.append((y[:busy, o] >= lo) & (y[:busy, o] <= hi))
    cover = float(np.mean(covered))
    # nominal 90 %: pooled with 108 near-zero series the quantiles of the scaled residuals are ~0 and the busy
    # series' intervals cover them about a third of the time
    assert cover >= 0.75, cover
