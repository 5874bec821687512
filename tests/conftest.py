"""Suite-wide fixtures: nothing a test does may write into the project folder or a user's MLflow."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MPLBACKEND", "Agg")


def _runs_long(item: pytest.Item) -> bool:
    return item.get_closest_marker("slow") is not None or item.path.suffix == ".ipynb"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long tests (marked ``slow``, and the notebooks) first, each file's order kept otherwise.

    ``make test`` runs ``-n 2 --dist loadgroup``: xdist hands out the ``xdist_group``s with the most tests
    first, then the single tests in this order. Collected last, the notebooks (up to a minute each) made the
    suite's tail: one worker still running one while the other had nothing left. Started first, they overlap
    the ``flower`` group on the other worker and the short tests fill in at the end."""
    items.sort(key=lambda item: not _runs_long(item))  # stable: the rest keep their order


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


@pytest.fixture(autouse=True)
def _reset_mlflow_globals():
    """mlflow keeps the tracking/registry URI and the active run in process globals: a test that
    points them at a temporary (or deliberately dead) server must not leak that into the next test
    run by the same worker."""
    yield
    if "mlflow" not in sys.modules:
        return
    import mlflow
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    while mlflow.active_run() is not None:
        mlflow.end_run()
    tracking_utils._tracking_uri = None
    registry_utils._registry_uri = None
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        os.environ.pop(var, None)
