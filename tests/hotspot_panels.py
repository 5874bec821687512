"""A dense toy panel from an (S × T) count matrix, shared by the hotspot tests (on sys.path through
pytest's ``pythonpath = ["tests"]``)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def toy_panel(y: np.ndarray) -> pd.DataFrame:
    """One category, areas ``a000…``, weekly periods from 2023-01-02: the columns ``build_panel`` gives."""
    S, T = y.shape
    periods = pd.date_range("2023-01-02", periods=T, freq="W-MON")
    return pd.DataFrame({
        "area": pd.Categorical(np.repeat([f"a{i:03d}" for i in range(S)], T)),
        "category": pd.Categorical(["c"] * (S * T)),
        "period_start": np.tile(periods, S),
        "y": y.reshape(-1),
    })


def intra_events(n_weeks: int = 40, n_areas: int = 4, n_categories: int = 2, seed: int = 0,
                 start: str = "2023-01-02") -> pd.DataFrame:
    """Complaint events (``created_at``, ``community``, ``category``) with their own times inside the weeks: daily
    Poisson counts whose rate rises or falls inside some weeks (so the last days say something the week does not),
    times spread over each day. Vectorised: one draw for all series × days."""
    rng = np.random.default_rng(seed)
    S = n_areas * n_categories
    base = rng.uniform(0.3, 1.2, size=(S, 1))
    tilt = rng.choice([-0.8, 0.0, 0.8], size=(S, n_weeks)).repeat(7, axis=1)
    dow = np.tile(np.arange(7), n_weeks)[None, :]
    n = rng.poisson(base * (1 + tilt * (dow - 3) / 3))
    s_idx, d_idx = np.nonzero(n)
    reps = n[s_idx, d_idx]
    s_idx, d_idx = np.repeat(s_idx, reps), np.repeat(d_idx, reps)
    secs = rng.integers(7 * 3600, 22 * 3600, size=len(d_idx))
    t = pd.Timestamp(start) + pd.to_timedelta(d_idx * 86400 + secs, unit="s")
    ev = pd.DataFrame({"created_at": t, "community": [f"社区{s // n_categories}" for s in s_idx],
                       "category": [f"类别{s % n_categories}" for s in s_idx]})
    return ev.sort_values("created_at", kind="stable").reset_index(drop=True)
