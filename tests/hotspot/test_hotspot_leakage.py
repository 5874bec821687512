"""No information from after an origin may reach a forecast made at it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from govml.hotspot.backtest import run_backtest
from govml.hotspot.baselines import MeanLast
from govml.hotspot.features import FeatureBuilder, FeatureSpec
from govml.hotspot.forecast import HotspotForecaster
from govml.hotspot.panel import panel_matrix
from govml.samples.complaints import synthetic_panel

SMALL = dict(n_estimators=40, learning_rate=0.1, num_leaves=15, min_child_samples=10, calibration_origins=3)


def _perturb_after(panel: pd.DataFrame, origin: pd.Timestamp, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = panel.copy()
    later = out["period_start"] > origin
    out.loc[later, "y"] = rng.poisson(5.0, size=int(later.sum())).astype(float)
    return out


def test_forecasts_at_an_origin_ignore_everything_after_it() -> None:
    panel = synthetic_panel(n_areas=12, n_categories=3, n_periods=60, seed=3)
    periods = pd.DatetimeIndex(pd.unique(panel["period_start"]))
    origins = [periods[44], periods[50]]
    models = {"govml": HotspotForecaster(horizon=3, **SMALL),
              "recursive": HotspotForecaster(horizon=3, strategy="recursive", **SMALL),
              "combined": HotspotForecaster(horizon=3, strategy="combined", combine_weight="auto", **SMALL),
              "mean_4": MeanLast(4)}
    a = run_backtest(panel, models, origins=origins, horizon=3).predictions
    b = run_backtest(_perturb_after(panel, origins[0]), models, origins=[origins[0]], horizon=3).predictions
    cols = ["model", "area", "category", "period_start", "horizon", "yhat", "yhat_lo", "yhat_hi", "p_hotspot"]
    a0 = a[a["origin"] == origins[0]][cols].reset_index(drop=True)
    b0 = b[cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(a0, b0)
    # the perturbation did reach the scored outcomes, so the test could fail
    assert not np.allclose(a[a["origin"] == origins[0]]["y"].to_numpy(), b["y"].to_numpy())
    # and forecasts at the later origin, which may see the perturbed weeks, do change
    c = run_backtest(_perturb_after(panel, origins[0]), {"mean_4": MeanLast(4)}, origins=[origins[1]],
                     horizon=3).predictions
    assert not np.allclose(c["yhat"].to_numpy(), a[(a["origin"] == origins[1]) & (a["model"] == "mean_4")]["yhat"])


def test_features_at_an_origin_use_only_periods_up_to_it() -> None:
    panel = synthetic_panel(n_areas=6, n_categories=2, n_periods=70, seed=5, calendar=True)
    y, keys, periods = panel_matrix(panel)
    o = 40
    y2 = y.copy()
    y2[:, o + 1:] = np.random.default_rng(0).poisson(9.0, size=y2[:, o + 1:].shape)
    spec = FeatureSpec()
    f1 = FeatureBuilder(y, keys, periods, spec)
    f2 = FeatureBuilder(y2, keys, periods, spec)
    for h in (1, 4):
        a = f1.frame(h, [o]).drop(columns="y")
        b = f2.frame(h, [o]).drop(columns="y")
        pd.testing.assert_frame_equal(a, b)
    # the target itself does change, so the comparison above is not vacuous
    assert not np.allclose(f1.frame(1, [o])["y"], f2.frame(1, [o])["y"])


def test_information_inside_the_periods_after_an_origin_does_not_reach_it() -> None:
    """Session 18: the panel's columns from inside the periods (add_intra_period: the last days' events, the open-case
    backlog) read as tree features and level candidates — events after the origin's period end, and close times
    after it moved elsewhere after it, change nothing forecast at the origin."""
    from govml.hotspot.forecast import LEVEL_WINDOWS
    from govml.hotspot.panel import add_intra_period, build_panel

    rng = np.random.default_rng(11)
    start = pd.Timestamp("2023-01-02")
    n = rng.poisson(1.2, size=(8, 7 * 50))  # 4 areas × 2 categories, 50 weeks of days
    rows = [(start + pd.Timedelta(days=d, seconds=int(rng.integers(86400))), f"A{s // 2}", f"C{s % 2}")
            for s in range(8) for d in range(n.shape[1]) for _ in range(n[s, d])]
    ev = pd.DataFrame(rows, columns=["created_at", "area", "category"])
    close = ev["created_at"] + pd.to_timedelta(rng.exponential(6.0, len(ev)), unit="D")
    origin = start + pd.Timedelta(weeks=40)
    end = origin + pd.Timedelta(weeks=1)
    # the perturbed history: extra events after the origin's week, and close times after its end moved (still after)
    extra = ev[ev["created_at"] >= end].sample(frac=0.5, random_state=1).assign(
        created_at=lambda d: d["created_at"] + pd.Timedelta(hours=30))
    ev2 = pd.concat([ev, extra], ignore_index=True)
    close2 = pd.concat([close.where(close < end, close + pd.Timedelta(days=9)), extra["created_at"]], ignore_index=True)
    p1 = add_intra_period(build_panel(ev, freq="W", calendar=False), ev, close=close)
    p2 = add_intra_period(build_panel(ev2, freq="W", calendar=False), ev2, close=close2)
    kw = dict(level_windows=LEVEL_WINDOWS + ("tail_2", "tail_4"), intra_features=("ratio_2", "slope", "open"))
    models = {"intra": HotspotForecaster(horizon=3, **SMALL, **kw),
              "intra_direct": HotspotForecaster(horizon=3, strategy="direct", **SMALL, **kw)}
    a = run_backtest(p1, models, origins=[origin], horizon=3).predictions
    b = run_backtest(p2, models, origins=[origin], horizon=3).predictions
    cols = ["model", "area", "category", "period_start", "horizon", "yhat", "yhat_lo", "yhat_hi", "p_hotspot"]
    pd.testing.assert_frame_equal(a[cols].reset_index(drop=True), b[cols].reset_index(drop=True))
    # the perturbation did change the columns after the origin (so the test could fail)
    later1, later2 = p1[p1["period_start"] > origin], p2[p2["period_start"] > origin]
    for c in ("tail_2", "open_end", "y"):
        assert not np.array_equal(later1[c].to_numpy(), later2[c].to_numpy())


def test_the_backtest_commands_intra_period_option_sees_nothing_after_an_origin(tmp_path) -> None:
    """Session 19: ``govml hotspots backtest --intra-period`` builds the panel with the last days' counts from the
    events and fits ``govml_intra`` beside ``govml``: events added after the origin's week (some inside the last
    days of later weeks) and later events moved change no forecast made at the origin."""
    import json

    from typer.testing import CliRunner

    from govml.cli import app
    from hotspot_panels import intra_events

    ev = intra_events(n_weeks=36, seed=2)
    origin = pd.Timestamp("2023-01-02") + pd.Timedelta(weeks=28)
    end = origin + pd.Timedelta(weeks=1)
    later = ev["created_at"] >= end
    extra = ev[later].sample(frac=0.6, random_state=3).assign(created_at=lambda d: d["created_at"] + pd.Timedelta(days=2))
    ev2 = pd.concat([ev.assign(created_at=ev["created_at"].where(~later, ev["created_at"] + pd.Timedelta(hours=20))),
                     extra[extra["created_at"] < ev["created_at"].max()]], ignore_index=True)
    out = {}
    for name, frame in (("a", ev), ("b", ev2)):
        f = tmp_path / f"{name}.csv"
        frame.to_csv(f, index=False)
        r = CliRunner().invoke(app, ["hotspots", "backtest", str(f), "--time-col", "created_at", "--area-col",
                                     "community", "--category-col", "category", "--horizon", "2", "--origins", "1",
                                     "--start", str(origin.date()), "--intra-period", "--no-track", "--now",
                                     "2025-01-01", "--out", str(tmp_path / f"{name}.json"),
                                     "--predictions-out", str(tmp_path / f"{name}_p.csv")])
        assert r.exit_code == 0, r.output
        assert json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))["intra_period"]["used"] is True
        out[name] = pd.read_csv(tmp_path / f"{name}_p.csv")
    a, b = out["a"], out["b"]
    assert set(a["model"]) >= {"govml", "govml_intra"} and (a["origin"] == str(origin.date())).all()
    keys = ["model", "origin", "area", "category", "period_start", "horizon", "yhat"]
    pd.testing.assert_frame_equal(a[keys], b[keys])
    assert not np.array_equal(a["y"].to_numpy(), b["y"].to_numpy())  # the later weeks did change
