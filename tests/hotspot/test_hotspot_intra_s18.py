"""Session 18 (issue 4): information inside the periods — add_intra_period's columns, the ``tail_k`` level
candidates and ``intra_features`` (options, off by default)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.errors import ModelError
from govml.hotspot.forecast import LEVEL_WINDOWS, HotspotForecaster, intra_matrices
from govml.hotspot.panel import add_intra_period, build_panel

SMALL = dict(n_estimators=40, learning_rate=0.1, num_leaves=15, min_child_samples=10, calibration_origins=3)


def _events() -> tuple[pd.DataFrame, pd.Series]:
    """Two weeks (Mon 2024-01-01, Mon 2024-01-08) of one area × two categories, with close times."""
    rows = [  # time, category, close
        ("2024-01-01 09:00", "a", "2024-01-02 10:00"),   # Monday of week 1, closed in week 1
        ("2024-01-06 23:59", "a", None),                 # Saturday: in the last 2 days of week 1; never closed
        ("2024-01-07 12:00", "a", "2024-01-08 00:00"),   # Sunday: closed exactly at week 1's end → open then
        ("2024-01-07 18:00", "b", "2024-01-09 08:00"),   # Sunday, closed in week 2
        ("2024-01-08 00:00", "a", "2024-01-20 00:00"),   # the first instant of week 2 (not week 1's last day)
        ("2024-01-14 22:00", "b", "2024-01-14 23:00"),   # Sunday of week 2, closed the same day
    ]
    ev = pd.DataFrame({"created_at": pd.to_datetime([r[0] for r in rows]), "area": "X",
                       "category": [r[1] for r in rows]})
    return ev, pd.Series([r[2] for r in rows])


def test_tail_counts_and_backlog_by_hand() -> None:
    ev, close = _events()
    p = add_intra_period(build_panel(ev, freq="W", calendar=False), ev, close=close)
    p = p.set_index(["category", "period_start"])
    w1, w2 = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-08")
    assert list(p.loc[("a", w1), ["y", "tail_1", "tail_2", "tail_7"]]) == [3, 1, 2, 3]
    assert list(p.loc[("a", w2), ["y", "tail_1", "tail_6", "tail_7"]]) == [1, 0, 0, 1]
    assert list(p.loc[("b", w1), ["tail_1", "tail_2"]]) == [1, 1]
    assert list(p.loc[("b", w2), ["tail_1", "tail_7"]]) == [1, 1]
    # backlog at week 1's end: a's Saturday (never closed) and Sunday (closed at the end itself) cases; b's Sunday
    assert p.loc[("a", w1), "open_end"] == 2 and p.loc[("b", w1), "open_end"] == 1
    # at week 2's end: a's never-closed case and the one closing on the 20th; b's cases are both closed
    assert p.loc[("a", w2), "open_end"] == 2 and p.loc[("b", w2), "open_end"] == 0
    # tail_7 of a week is its count
    assert (p["tail_7"] == p["y"]).all()


def _weekly_events(n_periods: int = 56, seed: int = 7) -> tuple[pd.DataFrame, pd.Series]:
    """Events of 6 areas × 2 categories whose daily rate rises inside some weeks, with close times."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-02")
    rows = []
    for a in range(6):
        for c in range(2):
            base = rng.uniform(0.5, 6.0)
            for w in range(n_periods):
                tilt = rng.choice([-0.8, 0.0, 0.8])  # a week whose events bunch toward its end (rising) or start
                for d in range(7):
                    n = rng.poisson(base / 7 * (1 + tilt * (d - 3) / 3))
                    t = start + pd.Timedelta(days=7 * w + d) + pd.to_timedelta(rng.uniform(0, 86400, n), unit="s")
                    rows += [(x, f"A{a}", f"C{c}") for x in t]
    ev = pd.DataFrame(rows, columns=["created_at", "area", "category"]).sort_values("created_at", kind="stable")
    ev = ev.reset_index(drop=True)
    close = ev["created_at"] + pd.to_timedelta(rng.exponential(5.0, len(ev)), unit="D")
    close[rng.random(len(ev)) < 0.1] = pd.NaT
    return ev, close


def _panel(ev: pd.DataFrame, close: pd.Series) -> pd.DataFrame:
    return add_intra_period(build_panel(ev, freq="W", calendar=False), ev, close=close)


OPTIONS = dict(level_windows=LEVEL_WINDOWS + ("tail_2", "tail_4"), intra_features=("ratio_2", "slope", "open"))


def test_options_change_the_forecast_and_the_default_ignores_the_columns() -> None:
    ev, close = _weekly_events()
    p = _panel(ev, close)
    plain = build_panel(ev, freq="W", calendar=False)
    a = HotspotForecaster(horizon=2, **SMALL).fit(plain).predict()
    b = HotspotForecaster(horizon=2, **SMALL).fit(p).predict()
    pd.testing.assert_frame_equal(a, b)  # the default reads nothing of the new columns
    m = HotspotForecaster(horizon=2, **SMALL, **OPTIONS).fit(p)
    c = m.predict()
    assert not np.allclose(a["yhat_mean"], c["yhat_mean"])
    d = m.describe()
    assert d["intra_features"] == ["ratio_2", "slope", "open"] and {"tail_2", "tail_4"} <= set(d["level_weights"])
    assert {"intra_ratio_2", "intra_slope", "intra_open"} <= set(m.feature_names_)
    assert "intra_features" not in HotspotForecaster(horizon=2, **SMALL).fit(plain).describe()


def test_options_without_the_columns_or_with_an_unknown_feature_say_what_to_do() -> None:
    ev, close = _weekly_events(n_periods=30)
    plain = build_panel(ev, freq="W", calendar=False)
    with pytest.raises(ModelError, match="add_intra_period"):
        HotspotForecaster(horizon=2, **SMALL, level_windows=LEVEL_WINDOWS + ("tail_2",)).fit(plain)
    with pytest.raises(ModelError, match="open_end"):
        HotspotForecaster(horizon=2, **SMALL, intra_features=("open",)).fit(add_intra_period(plain, ev))
    with pytest.raises(ModelError, match="unknown feature 'trend'"):
        HotspotForecaster(horizon=2, **SMALL, intra_features=("trend",)).fit(_panel(ev, close))


def test_a_recursion_never_reads_inside_the_periods_it_forecasts() -> None:
    rng = np.random.default_rng(0)
    S, T, n = 5, 12, 8
    y = rng.poisson(3.0, (S, T)).astype(float)
    src = {f"tail_{k}": rng.poisson(0.4 * k, (S, T)).astype(float) for k in range(1, 8)}
    src["open_end"] = rng.poisson(2.0, (S, T)).astype(float)
    feats = ("rate_2", "ratio_2", "slope", "open")
    a = intra_matrices(src, y, n, np.full(T, 7.0), feats)
    src2 = {k: v.copy() for k, v in src.items()}
    for v in src2.values():
        v[:, n:] += 50.0
    b = intra_matrices(src2, y, n, np.full(T, 7.0), feats)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    # past the observed columns: events spread evenly (the rate is the forecast), ratio 1, slope 0, backlog carried
    np.testing.assert_allclose(a["tail_2"][:, n:], y[:, n:])
    np.testing.assert_allclose(a["f_ratio_2"][:, n:], 1.0)
    assert (a["f_slope"][:, n:] == 0).all() and (a["f_open"][:, n:] == src["open_end"][:, n - 1:n]).all()
    # inside: the last 2 days' rate scaled to the week
    np.testing.assert_allclose(a["tail_2"][:, :n], src["tail_2"][:, :n] * 3.5)


def test_reconciliation_sums_the_inside_counts_for_its_aggregate_models() -> None:
    """``reconcile=`` fits the same forecaster on area / category / total panels: their ``tail_k`` and ``open_end``
    are the sums of the cells' (counts of the same events), so the options work with it (it raised before)."""
    from govml.hotspot.reconcile import aggregate_panel

    ev, close = _weekly_events(n_periods=30)
    p = _panel(ev, close)
    tot = aggregate_panel(p, None)
    by_period = p.groupby("period_start")[["y", "tail_2", "open_end"]].sum()
    np.testing.assert_array_equal(tot.set_index("period_start")[["y", "tail_2", "open_end"]].to_numpy(),
                                  by_period.to_numpy())
    assert "tail_2" not in aggregate_panel(build_panel(ev, freq="W", calendar=False), "area").columns
    m = HotspotForecaster(horizon=2, **SMALL, reconcile="ols", level_windows=LEVEL_WINDOWS + ("tail_2",)).fit(p)
    f = m.predict()
    assert np.isfinite(f["yhat_mean"]).all() and m.describe()["reconcile"]
