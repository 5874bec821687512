"""Session 13: the hotspot package imports its parts on first use, and the scale benchmark's verdict says which
clock it judged on."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import govml.hotspot as hotspot

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_hotspot_scale.py"


def test_reading_and_cleaning_do_not_load_the_models() -> None:
    # the CLI's `prepare` (panel) and the samples (calendar) no longer pay for scikit-learn and SciPy
    code = ("import sys, govml.hotspot.panel, govml.hotspot.calendar; "
            "print(sorted(m for m in ('sklearn', 'scipy', 'lightgbm', 'govml.hotspot.backtest', "
            "'govml.hotspot.forecast') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", hotspot.__all__)
def test_every_public_name_is_the_submodules_object(name: str) -> None:
    where = {"BacktestResult": "backtest", "run_backtest": "backtest", "default_models": "backtest",
             "HotspotForecaster": "forecast", "FeatureSpec": "features", "MeanLast": "baselines",
             "build_panel": "panel", "clean_events": "panel"}
    value = getattr(hotspot, name)
    assert value.__module__.startswith("govml.hotspot.")
    assert getattr(importlib.import_module(value.__module__), name) is value
    if name in where:
        assert value.__module__ == f"govml.hotspot.{where[name]}"
    assert name in dir(hotspot)


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'HotspotForecastor'"):
        hotspot.HotspotForecastor  # noqa: B018
    with pytest.raises(ImportError):
        exec("from govml.hotspot import nothing_here", {})


def _bench():
    spec = importlib.util.spec_from_file_location("bench_hotspot_scale", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_scale_verdict_reads_the_wall_clock_only_on_a_quiet_machine() -> None:
    verdict = _bench().verdict
    # quiet: the wall time is the verdict, both ways
    ok, line = verdict(250.0, 240.0, 2.3, [0.4, 1.2, 1.9])
    assert ok and "judged on the wall time 250.0 s" in line and "met" in line
    ok, line = verdict(320.0, 240.0, 2.3, [0.4, 1.2, 2.0])
    assert not ok and "NOT met" in line and "wall time 320.0 s" in line
    # shared: a long wall time is no miss when the CPU time is under the bar ...
    ok, line = verdict(900.0, 128.0, 2.3, [1.0, 6.5, 8.0])
    assert ok and "judged on the CPU time 128.0 s" in line and "is no verdict" in line and "max 8.00" in line
    # ... but a CPU time over the bar is a miss whatever the load, and so is the memory
    ok, line = verdict(900.0, 310.0, 2.3, [6.0, 8.0])
    assert not ok and "NOT met" in line
    ok, line = verdict(100.0, 90.0, 8.5, [0.5])
    assert not ok and "peak RSS 8.50 GB >= 8 GB" in line
