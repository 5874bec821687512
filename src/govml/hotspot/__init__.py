"""Complaint hotspot forecasting: events → panel → features → global LightGBM → honest backtest.

Public API::

    from govml.hotspot import clean_events, build_panel, FeatureSpec, make_features
    from govml.hotspot import HotspotForecaster, run_backtest, default_models

    clean, exclusions = clean_events(events, time_col="created_at", area_col="community",
                                     category_col="category")
    panel = build_panel(clean, freq="W", exclusions=exclusions)
    forecast = HotspotForecaster(horizon=4).fit(panel).predict(4)
    result = run_backtest(panel, default_models(4), origins=8, horizon=4)
    result.metrics, result.predictions
"""

from govml.hotspot.backtest import (
    BacktestResult,
    compare_to_baselines,
    default_models,
    evaluate,
    run_backtest,
    top_k_metrics,
)
from govml.hotspot.baselines import LastValue, MeanLast, SeasonalNaive, default_baselines
from govml.hotspot.features import FeatureBuilder, FeatureSpec, make_features
from govml.hotspot.forecast import HotspotForecaster
from govml.hotspot.panel import Exclusions, build_panel, clean_events, panel_matrix, truncate

__all__ = [
    "BacktestResult", "Exclusions", "compare_to_baselines", "FeatureBuilder", "FeatureSpec", "HotspotForecaster", "LastValue",
    "MeanLast", "SeasonalNaive", "build_panel", "clean_events", "default_baselines", "default_models",
    "evaluate", "make_features", "panel_matrix", "run_backtest", "top_k_metrics", "truncate",
]
