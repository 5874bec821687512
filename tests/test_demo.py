"""`govml demo` end to end: every step in STEPS runs and writes files that exist; the command says
where the outputs are. Generic on purpose: capabilities add their steps during development."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from govml.cli.demo import STEPS

ROOT = Path(__file__).resolve().parents[1]

# Runs the real `govml demo` command, recording what run_demo returned (step -> files) as JSON.
_DRIVER = """
import json, os, sys
import govml.cli.demo as demo
_orig = demo.run_demo
def _recording(ctx, only=None):
    written = _orig(ctx, only=only)
    with open(os.environ["GOVML_TEST_WRITTEN"], "w", encoding="utf-8") as f:
        json.dump({k: [str(p) for p in v] for k, v in written.items()}, f)
    return written
demo.run_demo = _recording
from govml.cli import main
main(sys.argv[1:])
"""


@pytest.mark.slow
def test_demo_end_to_end(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    record = tmp_path / "written.json"
    env = dict(os.environ, COLUMNS="1000", GOVML_TEST_WRITTEN=str(record))
    r = subprocess.run([sys.executable, "-c", _DRIVER, "demo", "--samples", str(ROOT / "data_samples"),
                        "--reports", str(reports), "--quick"],
                       cwd=ROOT, capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert f"All outputs are under {reports.resolve()}" in r.stdout
    written = json.loads(record.read_text(encoding="utf-8"))
    assert list(written) == [name for name, _ in STEPS]
    for name, paths in written.items():
        assert paths, f"demo step {name!r} wrote nothing"
        for p in paths:
            path = Path(p)
            assert path.exists() and path.stat().st_size > 0, f"step {name!r}: {p} missing or empty"
            assert reports.resolve() in path.resolve().parents, f"step {name!r} wrote outside reports/: {p}"
    # the data step: every committed sample file validates as usable
    validation = (reports / "data" / "validation.md").read_text(encoding="utf-8")
    present = [n for n in ("messages.csv", "complaints.csv", "assessments.csv", "courses.csv")
               if (ROOT / "data_samples" / n).exists()]
    assert present, "no sample files to validate"
    assert validation.count("result: **usable**") == len(present), validation
    assert "NOT usable" not in validation
    # the demo records its runs in the embedded MLflow store under GOVML_HOME (no server)
    from mlflow.tracking import MlflowClient

    from govml import tracking

    store = Path(os.environ["GOVML_HOME"]) / "mlruns" / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{store}")
    exp = client.get_experiment_by_name(tracking.experiment_name("data"))
    assert exp is not None
    runs = client.search_runs([exp.experiment_id])
    assert runs and runs[0].data.metrics.get("courses_usable") == 1.0
