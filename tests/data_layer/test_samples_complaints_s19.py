"""The sample complaint generator's true rates (session 19): the rates the events are drawn from, and the events
unchanged by the refactoring that exposes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from govml.samples import complaints as C

ROOT = Path(__file__).resolve().parents[2]


def test_the_sample_file_is_what_the_generator_writes(tmp_path: Path) -> None:
    C.generate(tmp_path)
    assert (tmp_path / "complaints.csv").read_bytes() == (ROOT / "data_samples" / "complaints.csv").read_bytes()


def test_rates_are_the_means_the_events_are_drawn_from() -> None:
    ev = C.complaint_events(seed=5, weeks=60)
    rates = C.complaint_rates(seed=5, weeks=60)
    cells = sum(len(cs) for _, cs in C.DISTRICTS.values()) * len(C.CATEGORIES)
    assert len(rates) == cells * 60 and (rates["rate"] > 0).all()
    total = rates["rate"].sum()
    assert abs(len(ev) - total) < 4 * np.sqrt(total)  # a Poisson total around its mean
    # per cell: the events' counts follow the rates (one draw from another seed would not)
    n = ev.groupby(["community", "category"]).size()
    lam = rates.groupby(["community", "category"])["rate"].sum()
    other = C.complaint_rates(seed=6, weeks=60).groupby(["community", "category"])["rate"].sum()
    z = ((n.reindex(lam.index, fill_value=0) - lam) / np.sqrt(lam)).to_numpy()
    z_other = ((n.reindex(other.index, fill_value=0) - other) / np.sqrt(other)).to_numpy()
    assert np.mean(z**2) < 1.5 < np.mean(z_other**2)
    # weekly periods start on the generator's start date (a Monday), one per week
    assert pd.Timestamp(rates["period_start"].min()) == pd.Timestamp("2023-01-02")
    assert rates.groupby(["community", "category"])["period_start"].nunique().eq(60).all()


def test_the_rising_cells_rise_in_their_rates() -> None:
    rates = C.complaint_rates()
    for district, community, cat in C.RISING:
        r = rates[(rates["community"] == community) & (rates["category"] == cat)].sort_values("period_start")
        assert (r["district"] == district).all()
        end, before = r["rate"].iloc[-4:].mean(), r["rate"].iloc[-56:-52].mean()  # the same weeks a year apart
        assert end / before > 2.5, (community, cat, end, before)
