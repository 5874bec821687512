"""A real `mlflow server` on loopback: a retrain over HTTP, the registry checked through the client API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from toy_adapter import make_data

from govml import retrain, tracking


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path):
    port = _free_port()
    store = tmp_path / "server"
    store.mkdir()
    log = open(store / "server.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--backend-store-uri", f"sqlite:///{store / 'mlflow.db'}",
         "--artifacts-destination", str(store / "artifacts")],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        # MLflow 3's server also starts a job runner (a huey consumer and its workers, ~8 processes) for GenAI
        # evaluation jobs and trace roll-ups; tracking and the model registry do not use it. Off, the server
        # is 2 processes and starts on about half the CPU (measured: 21 s against 37 s, docs/contributing.md).
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
    url = f"http://127.0.0.1:{port}"
    try:
        # A server that dies ends the wait at once (proc.poll()); a healthy one answers in ~21 s on a quiet
        # machine, several times that when the machine is loaded, so the wait only bounds a hung start.
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("mlflow server did not start:\n"
                            + (store / "server.log").read_text(errors="replace")[-3000:])
            time.sleep(0.5)
        yield url, store
    finally:
        if proc.poll() is None:  # the server and its uvicorn worker: one process group, stopped together
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        log.close()


@pytest.mark.slow
@pytest.mark.xdist_group("mlflow-server")
def test_retrain_against_a_real_server(tmp_path, monkeypatch, mlflow_server):
    from mlflow import MlflowClient

    url, store = mlflow_server
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    assert tracking.configure() == url and not tracking.is_embedded()

    key = f"toy-{uuid.uuid4().hex[:8]}"
    name = f"govml-{key}"
    make_data(tmp_path / "data" / "d1.csv")
    base = {"adapter": "toy_adapter:ToyAdapter", "registered_name": name,
            "data": [str(tmp_path / "data" / "*.csv")], "min_improvement": 0.01, "sanity_floor": 0.6}
    weak = retrain.RetrainConfig.model_validate({"models": {key: {**base, "params": {"features": ["x1"]}}}})
    strong = retrain.RetrainConfig.model_validate({"models": {key: base}})

    first = retrain.retrain(weak)
    assert first.outcomes[0].decision == "promoted", first.outcomes[0].reason
    second = retrain.retrain(strong)
    assert second.outcomes[0].decision == "promoted", second.outcomes[0].reason
    assert second.outcomes[0].champion_version == "1"

    c = MlflowClient(tracking_uri=url, registry_uri=url)
    rm = c.get_registered_model(name)
    assert {a: str(v) for a, v in rm.aliases.items()} == {"champion": "2"}
    versions = sorted(c.search_model_versions(f"name = '{name}'"), key=lambda v: int(v.version))
    assert [str(v.version) for v in versions] == ["1", "2"]
    assert all(v.tags["govml.status"] == "validated" for v in versions)
    assert c.get_model_version_by_alias(name, "champion").tags["govml.decision"] == "promoted"

    exp = c.get_experiment_by_name("govml-retrain")
    parents = c.search_runs([exp.experiment_id], filter_string="tags.`govml.kind` = 'retrain'")
    assert sorted(r.data.tags["govml.exit_code"] for r in parents) == ["0", "0"]
    # the artifacts went to the server's store, not to GOVML_HOME
    assert any(Path(store / "artifacts").rglob("MLmodel"))
    import mlflow.sklearn

    model = mlflow.sklearn.load_model(f"models:/{name}@champion")
    assert hasattr(model, "predict")
