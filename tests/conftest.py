"""Suite-wide fixtures: nothing a test does may write into the project folder or a user's MLflow."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def govml_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A per-worker GOVML_HOME (holds the embedded MLflow store) shared by the tests of a session."""
    return tmp_path_factory.mktemp("govml_home")


@pytest.fixture(autouse=True)
def _isolated_home(govml_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVML_HOME", str(govml_home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES
