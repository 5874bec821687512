"""Fixtures of the tracking tests: the toy adapter importable as ``toy_adapter``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture(autouse=True)
def _mlflow_on_this_home(_isolated_home):
    """Point MLflow's process-wide URI at this test's store (a test that used a server leaves it set)."""
    from govml import tracking

    tracking.configure()
