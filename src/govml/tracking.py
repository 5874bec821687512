"""One thin layer over MLflow: where runs go, how they are named, what is logged.

Embedded default: a local store inside the project folder — SQLite backend at
``./mlruns/mlflow.db`` and artifacts under ``./mlruns/artifacts`` (relative to ``GOVML_HOME`` when
set, else the current folder). ``MLFLOW_TRACKING_URI`` points govml at a shared server instead.

Nothing here logs raw text or personal data: :func:`data_fingerprint` summarises a table by counts,
date ranges and hashes only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

EXPERIMENT_PREFIX = "govml"


def home() -> Path:
    return Path(os.environ.get("GOVML_HOME", ".")).resolve()


def local_store() -> tuple[str, Path]:
    """(tracking URI, artifact root) of the embedded local store."""
    root = home() / "mlruns"
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{root / 'mlflow.db'}", root / "artifacts"


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or local_store()[0]


def configure() -> str:
    """Point mlflow at govml's store; returns the tracking URI. Safe to call repeatedly."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def experiment_name(capability: str) -> str:
    return f"{EXPERIMENT_PREFIX}-{capability}"


def ensure_experiment(capability: str) -> str:
    """Create (if needed) the experiment for a capability; returns its id."""
    import mlflow

    configure()
    name = experiment_name(capability)
    exp = mlflow.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    artifact_location = None
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        artifact_location = local_store()[1].as_uri()
    return mlflow.create_experiment(name, artifact_location=artifact_location)


@contextlib.contextmanager
def run(
    capability: str,
    run_name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    nested: bool = False,
) -> Iterator[Any]:
    """Start an MLflow run in the capability's experiment; yields the active run."""
    import mlflow

    exp_id = ensure_experiment(capability)
    all_tags = {"govml.capability": capability}
    if os.environ.get("GOVML_SCHEDULED"):
        all_tags["govml.scheduled"] = "true"
    all_tags.update(tags or {})
    with mlflow.start_run(experiment_id=exp_id, run_name=run_name, tags=all_tags, nested=nested) as active:
        if params:
            log_params(params)
        yield active


def log_params(params: Mapping[str, Any]) -> None:
    import mlflow

    flat = {k: (json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, (dict, list, tuple)) else v)
            for k, v in params.items()}
    mlflow.log_params({k: str(v)[:6000] for k, v in flat.items()})


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    import math

    import mlflow

    clean = {k: float(v) for k, v in metrics.items()
             if v is not None and isinstance(v, (int, float)) and math.isfinite(float(v))}
    if clean:
        mlflow.log_metrics(clean, step=step)


def log_figure(fig: Any, name: str) -> None:
    import mlflow

    mlflow.log_figure(fig, name)


def log_dict(data: Mapping[str, Any], name: str) -> None:
    import mlflow

    mlflow.log_dict(dict(data), name)


def data_fingerprint(
    df: Any,
    time_col: str | None = None,
    category_cols: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """Counts, date range, column-name hash and category counts of a table — never raw values of text."""
    import pandas as pd

    fp: dict[str, Any] = {
        "rows": int(len(df)),
        "columns": int(df.shape[1]),
        "column_hash": hashlib.sha256("\x1f".join(map(str, df.columns)).encode()).hexdigest()[:16],
    }
    if time_col and time_col in df.columns:
        t = pd.to_datetime(df[time_col], errors="coerce")
        if t.notna().any():
            fp["date_min"] = str(t.min().date())
            fp["date_max"] = str(t.max().date())
    for col in category_cols:
        if col in df.columns:
            counts = df[col].astype("string").fillna("<NA>").value_counts()
            fp[f"categories.{col}"] = {str(k): int(v) for k, v in counts.head(200).items()}
    return fp
