"""`hotspot_window`: the hotspot threshold over the last periods only — on a board that grew several-fold,
"above its own 90th percentile" over all history is true of nearly every busy cell."""

from __future__ import annotations

import numpy as np
import pytest

from govml.errors import GovmlError
from govml.hotspot.forecast import HotspotForecaster
from hotspot_panels import toy_panel


def test_a_recent_window_sets_the_threshold_of_a_grown_board() -> None:
    rng = np.random.default_rng(0)
    S, T = 20, 80
    rate = np.where(np.arange(T) < T - 6, 3.0, 12.0)        # the board grew fourfold 6 weeks ago
    y = rng.poisson(np.tile(rate, (S, 1))).astype(float)
    kw = {"horizon": 1, "n_estimators": 20, "random_state": 0}
    whole = HotspotForecaster(**kw).fit(toy_panel(y))
    recent = HotspotForecaster(hotspot_window=8, **kw).fit(toy_panel(y))
    np.testing.assert_allclose(recent.threshold_, np.maximum(np.quantile(y[:, -8:], 0.9, axis=1), 1.0))
    # over all history the 90th percentile is the old regime's, far below the current level
    assert np.median(whole.threshold_) < 12 < np.median(recent.threshold_)
    p_whole = whole.predict(1)["p_hotspot"].to_numpy()
    p_recent = recent.predict(1)["p_hotspot"].to_numpy()
    assert np.mean(p_whole) > 0.5 > np.mean(p_recent)
    with pytest.raises(GovmlError, match="hotspot_window"):
        HotspotForecaster(hotspot_window=0, **kw).fit(toy_panel(y))
