"""Session 9: a history too short for the inner holdout. The federated forecaster (in process and through
the Flower app) follows the central model's ``untested_trees="none"``: with the tree count chosen on the
holdout and a level, no holdout means 0 trees — the forecast is the level (× the holiday factors) alone,
the central model's level-alone forecast; ``"all"`` keeps the ``n_trees`` no holdout chose. Also: training
targets that hold no event at all fit and forecast (no crash) in both paths."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pandas as pd
import pytest

from govml.errors import GovmlError, ModelError
from govml.federated.forecaster import FederatedHotspotForecaster

pytestmark = pytest.mark.xdist_group("flower")

CATS = ("噪音", "停车")


def _events(y: np.ndarray, start: str = "2024-03-04") -> pd.DataFrame:
    """Complaint events from an (S × T) weekly count matrix: series ``s`` is area ``区{s % 3}社区{s // 6}``,
    category ``CATS[(s // 3) % 2]`` (3 districts)."""
    weeks = pd.date_range(start, periods=y.shape[1], freq="W-MON")
    rows = []
    for s in range(y.shape[0]):
        d, cat = s % 3, CATS[(s // 3) % 2]
        for w, n in zip(weeks, y[s].astype(int), strict=True):
            rows += [{"created_at": w + pd.Timedelta(days=k % 5, hours=9 + k % 8), "area": f"区{d}社区{s // 6}",
                      "category": cat, "district": f"区{d}"} for k in range(n)]
    return pd.DataFrame(rows)


def _short_counts(T: int = 14, S: int = 18, seed: int = 3) -> np.ndarray:
    """14 weeks: under 2 × horizon + calibration_origins + 4 = 16, so no inner holdout."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(2.0, 1.5, size=S)[:, None] * (1 + 0.2 * np.sin(np.arange(T) / 3.0))[None, :]
    return rng.poisson(rate).astype(float)


@pytest.fixture(scope="module")
def short_events() -> pd.DataFrame:
    return _events(_short_counts())


@pytest.fixture(scope="module")
def short_panel(short_events) -> pd.DataFrame:
    from govml.hotspot.panel import build_panel

    return build_panel(short_events, district_col="district", drop_incomplete=False)


@pytest.fixture(scope="module")
def level_alone(short_panel) -> FederatedHotspotForecaster:
    return FederatedHotspotForecaster(n_trees=6, secure=True, point="auto", select_trees=True).fit(short_panel)


def test_a_short_panel_is_the_central_level_alone_forecast(short_panel, level_alone, caplog):
    from govml.hotspot.forecast import HotspotForecaster

    central = HotspotForecaster(horizon=4, strategy="direct").fit(short_panel)
    assert not central.calibrated_ and central.n_trees_ == 0  # the central rule this follows
    m = level_alone
    assert not m.calibrated_ and m.n_trees_ == 0 and m.booster_.trees == []
    np.testing.assert_allclose(m.level_weights_, central.level_weights_, atol=1e-3)
    got = m.predict()
    want = central.predict()
    both = got.merge(want, on=["area", "category", "horizon"], suffixes=("_fed", "_central"))
    assert len(both) == len(want) == 4 * short_panel.groupby(["area", "category"], observed=True).ngroups
    # the level alone: exp(log(level + 0.05)) federated, the level itself centrally (the existing tolerance
    # of the federated-vs-central level tests, test_federated_forecaster_holidays)
    np.testing.assert_allclose(both["yhat_fed"], both["yhat_mean_central"] + 0.05, rtol=2e-3)
    np.testing.assert_allclose(got["yhat"], got["yhat_mean"])  # no holdout: no point rule
    # fewer secure sums: the citywide, base and level sums only (no histogram is asked for)
    with caplog.at_level(logging.WARNING, logger="govml.federated.forecaster"):
        old = FederatedHotspotForecaster(n_trees=6, secure=True, point="auto", select_trees=True,
                                         untested_trees="all").fit(short_panel)
    assert "6 trees no holdout chose" in caplog.text
    assert m.secure_sums_ < old.secure_sums_


def test_all_keeps_the_untested_trees(short_panel, level_alone):
    old = FederatedHotspotForecaster(n_trees=6, secure=True, point="auto", select_trees=True,
                                     untested_trees="all").fit(short_panel)
    assert old.n_trees_ == 6 and len(old.booster_.trees) == 6
    a, b = old.predict()["yhat"].to_numpy(), level_alone.predict()["yhat"].to_numpy()
    assert np.abs(a - b).max() > 1e-3  # the trees moved the forecast: the option matters here
    # untested_trees only replaces a tree count the holdout would have chosen: a fixed count stays
    fixed = FederatedHotspotForecaster(n_trees=6, secure=False).fit(short_panel)
    assert fixed.n_trees_ == 6 and len(fixed.booster_.trees) == 6
    # ... and without a level there is nothing to forecast from: the trees stay
    flat = FederatedHotspotForecaster(n_trees=6, secure=False, select_trees=True, level=False).fit(short_panel)
    assert flat.n_trees_ == 6
    with pytest.raises(ModelError, match="untested_trees"):
        FederatedHotspotForecaster(untested_trees="some").fit(short_panel)


def test_no_inner_holdout_at_all_is_the_level_alone_too(tmp_path):
    """calibration_origins=0 on a long panel: no holdout, as centrally (HotspotForecaster with C = 0); the
    Flower app (calibration-origins = 0) grows no tree either."""
    from federated_apps import forecaster_config, read_forecasts, run_forecaster_app
    from govml.hotspot.panel import build_panel, panel_matrix

    events = _events(_short_counts(T=30))
    long = build_panel(events, district_col="district", drop_incomplete=False)
    m = FederatedHotspotForecaster(n_trees=4, secure=True, select_trees=True, calibration_origins=0).fit(long)
    assert m.n_trees_ == 0
    cal = FederatedHotspotForecaster(n_trees=4, secure=False, select_trees=True).fit(long)
    assert cal.calibrated_ and set(cal.holdout_scores_) == {0, 1, 2, 3, 4}  # a long panel still chooses
    _y, _keys, periods = panel_matrix(long)
    res = run_forecaster_app(events, tmp_path, forecaster_config(
        events, periods, **{"forecaster-select-trees": True, "calibration-origins": 0}), run_id=95, node_base=9500)
    assert res["model"]["trees"] == [] and res["inner_holdout"]["level_alone"] == ["final model"]
    both = read_forecasts(tmp_path).merge(m.predict(), on=["area", "category", "horizon"], suffixes=("_f", "_i"))
    assert len(both) == 4 * 18
    np.testing.assert_allclose(both["yhat_f"], both["yhat_i"], rtol=1e-3)


def test_a_level_alone_model_pickles_and_forecasts_the_same(level_alone):
    back = pickle.loads(pickle.dumps(level_alone))
    pd.testing.assert_frame_equal(back.predict(), level_alone.predict())
    X = np.zeros((3, len(back.booster_.edges.edges)))
    np.testing.assert_array_equal(back.booster_.raw(X), back.booster_.base)  # no tree: the offset alone


def test_the_flower_app_gives_the_level_alone_too(short_events, short_panel, level_alone, tmp_path):
    """ServerApp + ClientApps: the final model has no tree (no histogram round), the districts'
    forecasts are the in-process ones; ``forecaster-untested-trees = "all"`` grows num-rounds trees."""
    from federated_apps import forecaster_config, read_forecasts, run_forecaster_app
    from govml.hotspot.panel import panel_matrix

    _y, _keys, periods = panel_matrix(short_panel)
    base = {"forecaster-point": "auto", "forecaster-select-trees": True}
    res = run_forecaster_app(short_events, tmp_path, forecaster_config(short_events, periods, **base),
                             run_id=91, node_base=9100, out_prefix="none")
    assert res["model"]["trees"] == [] and res["forecasts_written"] == 3
    assert res["inner_holdout"]["level_alone"] == ["final model"] and res["inner_holdout"]["untested_trees"] == "none"
    assert any("the level alone (0 trees" in e for e in res["events"])
    got = read_forecasts(tmp_path, "none")
    both = got.merge(level_alone.predict(), on=["area", "category", "horizon"], suffixes=("_flower", "_inproc"))
    assert len(both) == len(got) == 4 * 18
    np.testing.assert_allclose(both["yhat_flower"], both["yhat_inproc"], rtol=1e-3)
    old = run_forecaster_app(short_events, tmp_path, forecaster_config(
        short_events, periods, **base, **{"forecaster-untested-trees": "all"}), run_id=92, node_base=9200,
        out_prefix="all")
    assert len(old["model"]["trees"]) == 6 and old["inner_holdout"]["level_alone"] == []
    assert old["messages_per_district"] > res["messages_per_district"]
    with pytest.raises(GovmlError, match="forecaster-untested-trees"):
        run_forecaster_app(short_events, tmp_path, forecaster_config(
            short_events, periods, **{"forecaster-untested-trees": "maybe"}), run_id=93, node_base=9300)


def _no_event_counts(T: int = 30) -> np.ndarray:
    """Events in the first two weeks only: every training target (weeks 2 …) holds no event."""
    y = np.zeros((18, T))
    y[:, :2] = 3.0
    return y


def _panel(y: np.ndarray, start: str = "2024-03-04") -> pd.DataFrame:
    """The panel of :func:`_events` (every week, also those without an event)."""
    S, T = y.shape
    weeks = pd.date_range(start, periods=T, freq="W-MON")
    s = np.arange(S)
    return pd.DataFrame({"area": pd.Categorical(np.repeat([f"区{i % 3}社区{i // 6}" for i in s], T)),
                         "category": pd.Categorical(np.repeat([CATS[(i // 3) % 2] for i in s], T)),
                         "district": pd.Categorical(np.repeat([f"区{i % 3}" for i in s], T)),
                         "period_start": np.tile(weeks, S), "y": y.reshape(-1)})


def test_training_targets_without_an_event_fit_and_forecast_in_process():
    panel = _panel(_no_event_counts())
    for kw in ({"select_trees": True, "point": "auto"}, {"level": False}, {"n_trees": 0}):
        m = FederatedHotspotForecaster(**{"n_trees": 4, "secure": True, **kw}).fit(panel)
        fr = m.predict()
        assert np.isfinite(fr["yhat"]).all() and (fr["yhat"] >= 0).all() and fr["yhat"].max() < 0.1


def test_training_targets_without_an_event_run_through_the_flower_app(tmp_path):
    from federated_apps import forecaster_config, read_forecasts, run_forecaster_app

    y = _no_event_counts()
    events, panel = _events(y), _panel(y)
    periods = pd.DatetimeIndex(panel["period_start"].unique())
    res = run_forecaster_app(events, tmp_path, forecaster_config(
        events, periods, **{"forecaster-point": "auto", "forecaster-select-trees": True}), run_id=94, node_base=9400)
    ref = FederatedHotspotForecaster(n_trees=6, secure=True, point="auto", select_trees=True).fit(panel)
    assert res["forecasts_written"] == 3 and res["inner_holdout"]["models"]["final model"]["n_trees"] == ref.n_trees_
    got = read_forecasts(tmp_path)
    want = ref.predict()
    both = got.merge(want, on=["area", "category", "horizon"], suffixes=("_flower", "_inproc"))
    assert len(both) == len(got) == 4 * 18 and np.isfinite(got["yhat"]).all() and got["yhat"].max() < 0.1
    np.testing.assert_allclose(both["yhat_flower"], both["yhat_inproc"], rtol=1e-3)


def test_a_backtest_mixing_short_and_long_origins_equals_its_central_replay():
    """The first origins have no inner holdout, the later ones do: in the app's lockstep the
    short model takes part in the citywide and base sums only, the others grow and choose their trees;
    the districts' scores equal the in-process forecaster's on the same origins (its default "none")."""
    from govml.federated.simulation import simulate_forecaster

    ev = _events(_short_counts(T=22)).rename(columns={"area": "community"})
    r = simulate_forecaster(ev, "district", n_trees=6, origins=4, secure=True, point="auto", select_trees=True)
    ih = r["inner_holdout"]
    assert ih["level_alone"] and ih["models"] and len(ih["level_alone"]) + len(ih["models"]) == 4
    assert not set(ih["level_alone"]) & set(ih["models"])
    fed = r["backtest"]["metrics"]["all"]
    for k in ("rmse", "mae", "wape", "poisson_deviance"):
        assert fed[k] == pytest.approx(r["central"][k], rel=1e-6)
    old = simulate_forecaster(ev, "district", n_trees=6, origins=4, secure=True, point="auto", select_trees=True,
                              reference=False, untested_trees="all")
    assert old["inner_holdout"]["level_alone"] == [] and old["backtest"]["metrics"]["all"]["mae"] != fed["mae"]
