"""Where data collection really began, from the totals per period (shared by hotspots and alerts).

Exports often start with a thin lead-in: a few stray old records, or years in which a board was barely
used before it became the channel (泰迪杯 附件3 + 附件4 by month: 0–22 messages a month in 2011–2016, 25–75 in
2017–2018 with a few busier months, ~250 from 2019). Counted as history, such a lead-in makes every
later period look like a surge (alerts) or sets each cell's hotspot threshold from near-empty years
(hotspots). :func:`thin_lead_in` finds the cut that best separates a thin lead-in from a collected rest,
tolerating isolated busy periods inside the lead-in (one busy early week must not count as the start).
"""

from __future__ import annotations

import numpy as np

LEAD_IN_MAX_OK = 0.25
"""A lead-in is cut only when at most this share of its periods reach the collection floor …"""
REST_MIN_OK = 0.8
"""… and at least this share of the periods after the cut reach it (a sparse board whose quiet periods are
spread throughout has no lead-in to cut)."""


def thin_lead_in(totals: np.ndarray, floor: float) -> int:
    """The first period after a thin lead-in (0 when there is none).

    A period is *collected* when its total reaches ``floor``. The cut ``t`` minimises the periods on the
    wrong side of it — collected ones before ``t`` plus uncollected ones from ``t`` on (earliest on ties) —
    and is kept only when at most :data:`LEAD_IN_MAX_OK` of the periods before it and at least
    :data:`REST_MIN_OK` of those from it on are collected."""
    tot = np.asarray(totals, dtype=float)
    T = len(tot)
    if T < 2 or floor <= 0:
        return 0
    ok = tot >= floor
    before = np.concatenate([[0], np.cumsum(ok)])             # collected periods before t, t = 0..T
    after = np.concatenate([np.cumsum((~ok)[::-1])[::-1], [0]])  # uncollected periods from t on
    t = int(np.argmin(before + after))
    if t == 0 or t >= T:
        return 0
    if ok[:t].mean() <= LEAD_IN_MAX_OK and ok[t:].mean() >= REST_MIN_OK:
        return t
    return 0
