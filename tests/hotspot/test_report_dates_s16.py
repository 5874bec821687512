"""Efficiency tables read times in every form the readers accept (session 16: `2024年7月1日` was silently lost)."""

from __future__ import annotations

import pandas as pd
import pytest

from govml.hotspot.report import efficiency_tables


def test_efficiency_tables_read_chinese_dates_and_utc_offsets() -> None:
    ev = pd.DataFrame({"t": ["2024-07-01 09:00", "2024年7月1日", "2024/7/2 9:05", "2024-07-03T01:00:00+00:00"],
                       "c": ["2024-07-02 09:00", "2024年7月3日", "2024/7/2 19:05", "2024-07-04"],
                       "a": ["x", "x", "y", "y"]})
    out = efficiency_tables(ev, time_col="t", area_col="a", closed_col="c")
    days = out["median_days"]["2024Q3"]
    assert days["x"] == pytest.approx((1.0 + 2.0) / 2)  # 2024年7月1日 → 7月3日: 2 days (was left out: 1.0)
    # 9:05 → 19:05 (10 h) and 01:00 UTC = 09:00 Beijing on 3 July → 4 July 00:00 (15 h)
    assert days["y"] == pytest.approx((10 / 24 + 15 / 24) / 2)
