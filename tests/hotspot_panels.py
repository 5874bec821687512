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
