"""Session 20 (reading round 7, hC): the hotspot panel says placeholder times for "no time" (1970-01-01 08:00,
1900-01-01, 0000-00-00) as such, and a file whose every time is in the future names the reference time."""

from __future__ import annotations

import pandas as pd
import pytest

from govml.errors import DataError
from govml.hotspot.panel import clean_events


def _events(times: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"created_at": times, "community": ["金桥社区"] * len(times), "category": ["噪声"] * len(times)})


def test_placeholder_times_are_said_as_no_time() -> None:
    times = ["2023-01-02 08:00", "1970-01-01 08:00:00", "1900-01-01 00:00:00", "0000-00-00 00:00:00", "不详",
             "2023-01-03 09:00"]
    out, ex = clean_events(_events(times), now=pd.Timestamp("2024-01-01"))
    assert len(out) == 2
    # was: 1970-01-01 and 1900-01-01 used as times (a panel from 1900: 6,052 weeks on Boston), 0000-00-00 "could not
    # be read as dates"
    assert ex.counts == {"placeholder_time": 3, "unparseable_time": 1}
    assert ex.examples["placeholder_time"] == [3, 4, 5]
    assert any("'不详'" in n for n in ex.notes) and not any("0000-00-00 00:00:00'" in n for n in ex.notes)


def test_every_time_in_the_future_names_the_reference_time() -> None:
    with pytest.raises(DataError, match=r"every time is after the reference time 2024-01-01 00:00 \(--now\): is the "
                                        "exporting system's clock or year wrong"):
        clean_events(_events(["2030-01-02 08:00", "2030-02-02 08:00"]), now=pd.Timestamp("2024-01-01"))
    with pytest.raises(DataError) as info:  # one time before it: the usual message, no guess about the clock
        clean_events(_events(["2030-01-02 08:00", "不详"]), now=pd.Timestamp("2024-01-01"))
    assert "every time" not in str(info.value)
