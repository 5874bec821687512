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

The names are imported on first use (PEP 562 ``__getattr__``): ``import govml.hotspot.panel`` or
``.calendar`` (the CLI's reading and cleaning, the federated clients, the samples) no longer loads the
backtest and the forecaster, and with them scikit-learn and SciPy (session 13: ~1.3 s CPU of a 2.4 s import).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "BacktestResult": "backtest", "compare_to_baselines": "backtest", "default_models": "backtest",
    "evaluate": "backtest", "run_backtest": "backtest", "top_k_metrics": "backtest",
    "LastValue": "baselines", "MeanLast": "baselines", "SeasonalNaive": "baselines", "default_baselines": "baselines",
    "FeatureBuilder": "features", "FeatureSpec": "features", "make_features": "features",
    "HotspotForecaster": "forecast",
    "Exclusions": "panel", "as_panel": "panel", "build_panel": "panel", "clean_events": "panel", "panel_matrix": "panel",
    "truncate": "panel",
}

__all__ = [
    "BacktestResult", "Exclusions", "compare_to_baselines", "FeatureBuilder", "FeatureSpec", "HotspotForecaster", "LastValue",
    "MeanLast", "SeasonalNaive", "as_panel", "build_panel", "clean_events", "default_baselines", "default_models",
    "evaluate", "make_features", "panel_matrix", "run_backtest", "top_k_metrics", "truncate",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later reads do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and IDEs: the names as plain imports
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
    from govml.hotspot.panel import Exclusions, as_panel, build_panel, clean_events, panel_matrix, truncate
