"""The federated hotspot forecaster leaves out the panel's near-empty leading weeks as the central model
does (``data_start``, docs/hotspots.md §3): a few stray events long before an export really starts put
structural zeros in front of every series. The start comes from the citywide weekly totals the districts
already send (govml.federated.forecaster.city_data_start); the app leaves those weeks out of the agreed
periods and trains again on the weeks that remain."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.federated.forecaster import FederatedHotspotForecaster, city_data_start, city_sums

pytestmark = pytest.mark.xdist_group("flower")


def _events_with_stray_early_ones(seed: int = 0) -> pd.DataFrame:
    """3 districts × 2 communities × 2 categories, 40 weeks of steady counts from 2024-01-01, and 3 stray
    events in 2023 (weeks 2023-03-06, 2023-07-10, 2023-11-13): 43 near-empty weeks before the data."""
    rng = np.random.default_rng(seed)
    rows = []
    for week in pd.date_range("2024-01-01", periods=40, freq="W-MON"):
        for d in range(3):
            for a in range(2):
                for c, cat in enumerate(("噪声扰民", "占道经营")):
                    n = int(rng.poisson(3 + 2 * a + c + d))
                    rows += [{"created_at": week + pd.Timedelta(days=k % 5, hours=9 + k % 8),
                              "community": f"区{d}社区{a}", "category": cat, "district": f"区{d}"} for k in range(n)]
    for d, day in enumerate(("2023-03-07", "2023-07-11", "2023-11-14")):
        rows.append({"created_at": pd.Timestamp(day) + pd.Timedelta(hours=10), "community": f"区{d}社区0",
                     "category": "噪声扰民", "district": f"区{d}"})
    return pd.DataFrame(rows)


def test_city_data_start_is_the_central_rule_on_the_citywide_totals():
    from govml.federated.forecaster import district_builder
    from govml.hotspot.features import FeatureSpec
    from govml.hotspot.forecast import data_start
    from govml.hotspot.panel import build_panel, panel_matrix

    ev = _events_with_stray_early_ones().rename(columns={"community": "area"})
    y, keys, periods = panel_matrix(build_panel(ev, district_col="district", drop_incomplete=False))
    cats = [str(c) for c in keys["category"].astype("category").cat.categories]
    fb = district_builder(y, keys, periods, FeatureSpec(categoricals=("category",)), cats)
    start = city_data_start(city_sums(fb, len(cats)))
    assert start == data_start(y) and pd.Timestamp(periods[start]) == pd.Timestamp("2024-01-01")


def test_in_process_forecaster_leaves_out_the_leading_weeks():
    from govml.hotspot.panel import build_panel

    ev = _events_with_stray_early_ones().rename(columns={"community": "area"})
    panel = build_panel(ev, district_col="district", drop_incomplete=False)
    fed = FederatedHotspotForecaster(n_trees=2, secure=False).fit(panel)
    assert fed.data_start_ == 43 and pd.Timestamp(fed.periods_[0]) == pd.Timestamp("2024-01-01")
    clean = FederatedHotspotForecaster(n_trees=2, secure=False).fit(
        panel[panel["period_start"] >= "2024-01-01"].reset_index(drop=True))
    assert clean.data_start_ == 0
    a, b = fed.predict(), clean.predict()
    assert np.allclose(a["yhat"].to_numpy(), b["yhat"].to_numpy(), rtol=1e-9)


def test_flower_app_leaves_out_the_leading_weeks_like_the_central_model():
    """Through the app (secure sums, the districts' own panels): the run names the weeks it left out, the
    districts' scores equal the same model replayed centrally, and the model is the one grown on the
    events from 2024 alone."""
    from govml.federated.simulation import simulate_forecaster

    ev = _events_with_stray_early_ones()
    kw = {"n_trees": 3, "origins": 2, "secure": True, "lightgbm": False}
    r = simulate_forecaster(ev, "district", **kw)
    # the agreed weeks start at 2023-07-10 (the first stray's week is incomplete: the central cleaning drops
    # it, as `govml hotspots backtest` does): 25 near-empty weeks with the 2 other strays
    assert r["data_start"] == {"weeks_left_out": 25, "first_week": "2024-01-01", "events_before": 2}
    assert any("first 25 week(s)" in e and "2024-01-01" in e for e in r["events"])
    fed = r["backtest"]["metrics"]["all"]
    for k in ("rmse", "mae"):
        assert fed[k] == pytest.approx(r["central"][k], rel=1e-6)
    later = simulate_forecaster(ev[ev["created_at"] >= "2024-01-01"], "district", **kw)
    assert "data_start" not in later
    assert fed["rmse"] == pytest.approx(later["backtest"]["metrics"]["all"]["rmse"], rel=1e-6)


def test_the_command_line_reports_the_weeks_left_out(tmp_path, capsys):
    import json

    from govml.cli import main

    data = tmp_path / "events.csv"
    _events_with_stray_early_ones().to_csv(data, index=False)
    out = tmp_path / "m.json"
    with pytest.raises(SystemExit) as exc:
        main(["federated", "simulate", str(data), "--task", "hotspot-forecaster", "--partition-col", "district",
              "--n-trees", "1", "--origins", "1", "--no-secure", "--no-central-replay", "--out", str(out)])
    assert exc.value.code in (0, None)
    assert json.loads(out.read_text(encoding="utf-8"))["data_start"]["first_week"] == "2024-01-01"
    shown = " ".join(capsys.readouterr().out.split())
    assert "data start: the first 25 week(s) before 2024-01-01 hold 2 event(s)" in shown
