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

from govml.errors import TrackingError

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


#: MLFLOW_LOGGING_LEVEL as the user's environment had it when govml.tracking was imported (None: not set)
_USER_MLFLOW_LEVEL = os.environ.get("MLFLOW_LOGGING_LEVEL")


def _mlflow_chatter_wanted() -> bool:
    """Whether MLflow's INFO lines and notices reach stderr: only with ``--debug`` / ``GOVML_DEBUG=1`` or when the
    user set ``MLFLOW_LOGGING_LEVEL`` themselves."""
    return bool(_USER_MLFLOW_LEVEL) or os.environ.get("GOVML_DEBUG", "") not in ("", "0")


def _quiet_mlflow_logs() -> None:
    """MLflow's own INFO lines ("Creating initial MLflow database tables…", "Updating database tables") off
    stderr — a cron log holds govml's lines and the warnings (MLflow's included); see :func:`_mlflow_chatter_wanted`."""
    if _mlflow_chatter_wanted():
        return
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # read when mlflow is first imported
    mlflow_log = logging.getLogger("mlflow")
    if mlflow_log.getEffectiveLevel() < logging.WARNING:  # mlflow was imported before: set it here
        mlflow_log.setLevel(logging.WARNING)


#: what MLflow prints (not logs) on every registration, whatever its log level
_REGISTRY_NOTICES = ("Successfully registered model '", "Created version '", "Registered model ")


@contextlib.contextmanager
def _without_registry_notices() -> Iterator[None]:
    """Around a registry call: MLflow's printed notices ("Successfully registered model 'govml-…'.", "Registered
    model '…' already exists. Creating a new version…", "Created version '4' of model …") are dropped; everything else written to stderr meanwhile (warnings) is passed on."""
    import io
    import sys

    if _mlflow_chatter_wanted():
        yield
        return
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stderr(buffer):
            yield
    finally:
        kept = [line for line in buffer.getvalue().splitlines(keepends=True)
                if not line.startswith(_REGISTRY_NOTICES)]
        if kept:
            sys.stderr.write("".join(kept))


_CHECKED_STORES: set[str] = set()

# the columns of MLflow's SQL store that hold a path into the store's artifacts folder
_PATH_COLUMNS = (("experiments", "experiment_id", "artifact_location"), ("runs", "run_uuid", "artifact_uri"),
                 ("logged_models", "model_id", "artifact_location"), ("model_versions", "rowid", "storage_location"),
                 ("model_versions", "rowid", "source"))


def relocate_store(db: str | os.PathLike[str]) -> dict[str, int]:
    """Point the paths a moved or copied store holds at its new folder; {table.column: rows changed}.

    govml's SQLite store keeps its artifacts beside the database (``mlruns/mlflow.db``, ``mlruns/artifacts/``), and
    MLflow writes absolute paths into the database (each experiment's artifact location, each run's, logged model's
    and registered version's). A store moved to another folder (a new ``GOVML_HOME``, a disk change, a backup
    restored elsewhere) would still point into the old folder: every model "(files deleted)", none loadable, and a
    copy's new runs writing into the original. The old folder is read from govml's experiments (artifact location
    ``<old>/artifacts``); paths under it are rewritten to this folder (``file://`` URIs and plain paths), other
    paths left as they are. Nothing changes when the store has not moved, or when the folder holds the database
    without an ``artifacts`` folder beside it."""
    import sqlite3

    db = Path(db).resolve()
    new_root = db.parent
    changed: dict[str, int] = {}
    if not (new_root / "artifacts").is_dir():  # the database alone (a copy to inspect): its paths are left alone
        return changed
    try:
        con = sqlite3.connect(str(db), timeout=30)
    except sqlite3.Error:
        return changed
    try:
        try:
            rows = con.execute("SELECT artifact_location FROM experiments WHERE name LIKE ?",
                               (f"{EXPERIMENT_PREFIX}-%",)).fetchall()
        except sqlite3.Error:  # not (yet) an MLflow database
            return changed
        from urllib.parse import unquote, urlparse

        olds = set()
        for (loc,) in rows:
            if loc and loc.startswith("file://") and loc.rstrip("/").endswith("/artifacts"):
                olds.add(Path(unquote(urlparse(loc).path)).parent)
        olds.discard(new_root)
        if not olds:
            return changed
        with con:
            for old_root in sorted(olds):
                prefixes = [(old_root.as_uri() + "/", new_root.as_uri() + "/"), (f"{old_root}/", f"{new_root}/")]
                for table, key, column in _PATH_COLUMNS:
                    try:
                        found = con.execute(f"SELECT {key}, {column} FROM {table}").fetchall()  # noqa: S608
                    except sqlite3.Error:  # an MLflow without this table or column
                        continue
                    for row_key, value in found:
                        for old, new in prefixes:
                            if isinstance(value, str) and value.startswith(old):
                                con.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?",  # noqa: S608
                                            (new + value[len(old):], row_key))
                                changed[f"{table}.{column}"] = changed.get(f"{table}.{column}", 0) + 1
                                break
        if changed:
            log.warning("the MLflow store %s was moved or copied from %s: its paths now point at this folder (%s)",
                        new_root, ", ".join(map(str, sorted(olds))),
                        ", ".join(f"{n} {k}" for k, n in sorted(changed.items())))
    finally:
        con.close()
    return changed


def _store_db(uri: str) -> Path | None:
    """The SQLite file of a ``sqlite:///`` URI whose artifacts are kept beside it (the embedded layout), or None."""
    if not uri.startswith("sqlite:///") or sqlite_artifacts(uri) is None:
        return None
    return Path(uri[len("sqlite:///"):].split("?", 1)[0]).expanduser()


def configure() -> str:
    """Point mlflow at govml's store; returns the tracking URI. Safe to call repeatedly.

    The first time in a process for a SQLite store: a store that was moved to another folder is pointed at its new
    place (:func:`relocate_store`)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # no bars in CLI/cron output
    _quiet_mlflow_logs()
    import mlflow

    uri = tracking_uri()
    if uri not in _CHECKED_STORES:
        _CHECKED_STORES.add(uri)
        db = _store_db(uri)
        if db is not None and db.is_file():
            relocate_store(db)
    # mlflow.set_tracking_uri also writes MLFLOW_TRACKING_URI (and the registry one) into the
    # environment; put the user's environment back so "is a server configured?" stays answerable
    # and a later GOVML_HOME change in the same process is honoured.
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    try:
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return uri


def is_embedded() -> bool:
    """True when govml writes to its embedded local store (no ``MLFLOW_TRACKING_URI`` set)."""
    return not os.environ.get("MLFLOW_TRACKING_URI")


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
    if is_embedded():
        artifact_location = local_store()[1].as_uri()
    else:
        artifact_location = sqlite_artifacts(os.environ.get("MLFLOW_TRACKING_URI", ""))
    return mlflow.create_experiment(name, artifact_location=artifact_location)


def sqlite_artifacts(uri: str) -> str | None:
    """For ``MLFLOW_TRACKING_URI=sqlite:///…/mlflow.db``: the ``artifacts`` folder beside the database file (as a
    ``file://`` URI), the embedded store's layout — MLflow's own default is ``./mlruns`` of whatever folder the
    first run happened to start in (a cron job's or a notebook's), apart from the database. None for other URIs."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix):
        return None
    db = uri[len(prefix):].split("?", 1)[0]
    if not db or db == ":memory:":
        return None
    return (Path(db).expanduser().resolve().parent / "artifacts").as_uri()


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


def metric_name(name: str, taken: set[str] | None = None) -> str:
    """``name`` as MLflow accepts a metric name (letters of any script, digits, ``_ - . space : /``): any other
    character becomes ``_`` (a per-class metric ``f1.教育文体（A）`` is logged as ``f1.教育文体_A_``; the exact
    labels are in the run's cv_report.json); ``_2``, ``_3`` … is added when that name is in ``taken``."""
    import re

    base = re.sub(r"[^\w.\- :/]", "_", name)
    out, n = base, 1
    while taken is not None and out in taken:
        n += 1
        out = f"{base}_{n}"
    return out


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    import math

    import mlflow

    clean: dict[str, float] = {}
    for k, v in metrics.items():
        if v is not None and isinstance(v, (int, float)) and math.isfinite(float(v)):
            clean[metric_name(str(k), set(clean))] = float(v)
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


# --------------------------------------------------------------------------------------------
# Models: logging, registry, aliases
# --------------------------------------------------------------------------------------------

CHAMPION = "champion"
CHALLENGER = "challenger"

#: Registered-model names per capability (the registry's vocabulary, shared with the CLI).
REGISTERED_NAMES = {
    "demand-classifier": "govml-demand-classifier",
    "hotspot-forecaster": "govml-hotspot-forecaster",
}

# Module roots whose types a skops-saved model may contain and still be loaded back.
# Anything else (a builtin function, a foreign class) makes govml save with cloudpickle instead.
_TRUSTED_ROOTS = ("govml", "sklearn", "numpy", "scipy", "lightgbm", "jieba", "rjieba", "pandas")


def client() -> Any:
    """An :class:`mlflow.MlflowClient` on govml's store."""
    from mlflow import MlflowClient

    uri = configure()
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def pip_requirements(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Pinned requirements of a govml model, given explicitly (inference would cost ~7 s a model)."""
    from importlib import metadata

    reqs = []
    for dist in ("mlflow", "scikit-learn", "pandas", "numpy", "scipy", "skops", "cloudpickle", *extra):
        try:
            reqs.append(f"{dist}=={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            continue
    return reqs


def mask_example(example: Any, text_cols: list[str] | tuple[str, ...] | None = None) -> Any:
    """A copy of an input example with personal data masked in its text (``govml.privacy.mask``).

    Works on a DataFrame (``text_cols``, default: every object/string column), a Series or list
    of strings, or a single string. Other inputs are returned unchanged.
    """
    if example is None:
        return None
    import pandas as pd

    def _m(v: Any) -> Any:
        if not isinstance(v, str):
            return v
        from govml.privacy import mask

        return mask(v)

    if isinstance(example, pd.DataFrame):
        out = example.copy()
        cols = text_cols if text_cols is not None else [
            c for c in out.columns if out[c].dtype == object or pd.api.types.is_string_dtype(out[c])]
        for c in cols:
            out[c] = [_m(v) for v in out[c].tolist()]
        return out
    if isinstance(example, pd.Series):
        return pd.Series([_m(v) for v in example.tolist()], name=example.name, index=example.index)
    if isinstance(example, (list, tuple)):
        return [_m(v) for v in example]
    if isinstance(example, str):
        return _m(example)
    return example


def _skops_trust(model: Any) -> list[str] | None:
    """Types to trust when a skops-saved model is loaded back; None when skops cannot save it."""
    try:
        import skops.io as sio

        untrusted = sio.get_untrusted_types(data=sio.dumps(model))
    except Exception as exc:  # skops cannot serialise some objects: fall back to cloudpickle
        log.info("skops cannot save %s (%s); using cloudpickle", type(model).__name__, exc)
        return None
    foreign = [t for t in untrusted if t.split(".", 1)[0] not in _TRUSTED_ROOTS]
    if foreign:
        log.info("model holds types outside govml's trusted set %s; using cloudpickle", foreign)
        return None
    return list(untrusted)


@contextlib.contextmanager
def _quiet_schema_hints() -> Iterator[None]:
    """Silence MLflow's integer-column schema hint and cloudpickle caution while logging a model
    (govml chose those on purpose; they would clutter every retrain's terminal and cron log)."""
    import warnings

    pyfunc_log = logging.getLogger("mlflow.pyfunc")
    level = pyfunc_log.level
    pyfunc_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*Inferred schema contains integer.*")
            yield
    finally:
        pyfunc_log.setLevel(level)


@contextlib.contextmanager
def _reuse_skops_file(model: Any, saved_file: str | Path | None) -> Iterator[None]:
    """While MLflow logs ``model`` in the skops format, its model file is a copy of ``saved_file`` (what
    ``skops.io.dump`` wrote of the same model): no second ``skops.io.dump``, and none of the loads MLflow makes of
    the file it wrote (a trial ``skops.io.load`` after the dump, then the model loaded again to check the input
    example): those loads of that file give ``model`` itself, which the file is a copy of. For ``govml demands
    train`` on 4,489 messages that is two serialisations of the model and one more copy of it in memory (~0.4 GB,
    the command's memory peak) saved. Another model or format, or an MLflow without these functions
    (``mlflow.sklearn._save_model`` / ``_load_model_from_local_file``), is saved and loaded by MLflow as before."""
    import inspect
    import shutil

    import mlflow.sklearn

    save_fn = getattr(mlflow.sklearn, "_save_model", None)
    load_fn = getattr(mlflow.sklearn, "_load_model_from_local_file", None)
    try:
        save_params = inspect.signature(save_fn) if save_fn is not None else None
        load_params = inspect.signature(load_fn) if load_fn is not None else None
    except (TypeError, ValueError):
        save_params = load_params = None
    if (saved_file is None or save_params is None
            or not {"sk_model", "output_path", "serialization_format"} <= set(save_params.parameters)):
        yield
        return
    written: set[str] = set()

    def bound(params: Any, args: Any, kwargs: Any) -> dict[str, Any]:
        try:
            return dict(params.bind(*args, **kwargs).arguments)
        except TypeError:
            return {}

    def save(*args: Any, **kwargs: Any) -> Any:
        a = bound(save_params, args, kwargs)
        if a.get("sk_model") is model and a.get("serialization_format") == "skops":
            shutil.copyfile(saved_file, a["output_path"])
            written.add(os.path.realpath(a["output_path"]))
            log.debug("MLflow model file %s copied from %s (not serialised again)", a["output_path"], saved_file)
            return None
        return save_fn(*args, **kwargs)

    def load(*args: Any, **kwargs: Any) -> Any:
        a = bound(load_params, args, kwargs)
        path = a.get("path")
        if path is not None and a.get("serialization_format") == "skops" and os.path.realpath(path) in written:
            return model  # the file is a copy of what skops wrote of this very model
        return load_fn(*args, **kwargs)

    mlflow.sklearn._save_model = save
    if load_params is not None and {"path", "serialization_format"} <= set(load_params.parameters):
        mlflow.sklearn._load_model_from_local_file = load
    try:
        yield
    finally:
        mlflow.sklearn._save_model = save_fn
        mlflow.sklearn._load_model_from_local_file = load_fn


def log_sklearn_model(
    model: Any,
    name: str = "model",
    input_example: Any = None,
    registered_name: str | None = None,
    signature: Any = None,
    text_cols: list[str] | tuple[str, ...] | None = None,
    extra_pip: list[str] | tuple[str, ...] = (),
    skops_trusted_types: list[str] | None = None,
    saved_file: str | Path | None = None,
) -> str:
    """Log a fitted scikit-learn estimator/pipeline to the active run; returns its model URI.

    The input example is masked first (:func:`mask_example`); the signature is inferred from it
    when not given. Saved with skops when every type in the model is trusted (govml, sklearn,
    numpy, scipy...), else with cloudpickle. ``registered_name`` also registers a version (no alias:
    use :func:`register` + :func:`set_alias` for gated promotion). ``skops_trusted_types``: the
    model's types as :func:`skops.io.get_untrusted_types` listed them when the caller already saved
    it with skops — spares a second full serialisation (slow for large TF-IDF vocabularies); types
    outside govml's trusted set still fall back to cloudpickle. ``saved_file``: the file ``skops.io.dump``
    already wrote of this very model (with ``skops_trusted_types`` the types it lists): MLflow's model folder
    gets a copy of it instead of a second serialisation, and MLflow's loads of it while logging (a trial load,
    the input example's check) use the model in memory (:func:`_reuse_skops_file`; ``govml demands train``: the
    model-dir's model.skops).
    """
    import mlflow
    import mlflow.sklearn

    configure()
    example = mask_example(input_example, text_cols)
    if skops_trusted_types is not None and all(
            t.split(".", 1)[0] in _TRUSTED_ROOTS for t in skops_trusted_types):
        trusted: list[str] | None = list(skops_trusted_types)
        reuse = saved_file  # the caller's skops file of this model, with the types it lists
    else:
        trusted = _skops_trust(model)
        reuse = None
    fmt = {"serialization_format": "skops", "skops_trusted_types": trusted} if trusted is not None else {
        "serialization_format": "cloudpickle"}
    try:
        with _quiet_schema_hints(), _reuse_skops_file(model, reuse):
            info = mlflow.sklearn.log_model(
                model, name=name, input_example=example, signature=signature,
                pip_requirements=pip_requirements(extra_pip), **fmt)
    except Exception as exc:
        raise TrackingError(f"could not log model {name!r} to MLflow at {tracking_uri()}: {exc}") from exc
    if registered_name:
        register(info.model_uri, registered_name)
    return info.model_uri


def log_pyfunc_model(
    python_model: Any,
    name: str = "model",
    input_example: Any = None,
    registered_name: str | None = None,
    signature: Any = None,
    artifacts: Mapping[str, str] | None = None,
    text_cols: list[str] | tuple[str, ...] | None = None,
    extra_pip: list[str] | tuple[str, ...] = (),
) -> str:
    """Log an :class:`mlflow.pyfunc.PythonModel` (e.g. a wrapper that needs govml code); returns its URI.

    The wrapper is cloudpickled; govml must be importable where it is loaded back (same venv, or
    ``pip install`` govml there). The input example is masked; the signature inferred from it.
    """
    import mlflow
    import mlflow.pyfunc

    configure()
    example = mask_example(input_example, text_cols)
    try:
        with _quiet_schema_hints():
            info = mlflow.pyfunc.log_model(
                name=name, python_model=python_model, input_example=example, signature=signature,
                artifacts=dict(artifacts) if artifacts else None,
                pip_requirements=pip_requirements(("lightgbm", *extra_pip)))
    except Exception as exc:
        raise TrackingError(f"could not log model {name!r} to MLflow at {tracking_uri()}: {exc}") from exc
    if registered_name:
        register(info.model_uri, registered_name)
    return info.model_uri


def register(model_uri: str, name: str, tags: Mapping[str, Any] | None = None) -> str:
    """Register a logged model as a new version of ``name`` (created if needed); returns the version.

    The new version carries no alias: promotion is a separate, explicit step (:func:`set_alias`).
    """
    import mlflow

    configure()
    try:
        with _without_registry_notices():
            mv = mlflow.register_model(model_uri, name, tags={k: str(v) for k, v in (tags or {}).items()})
    except Exception as exc:
        raise TrackingError(f"could not register {model_uri} as {name!r}: {exc}") from exc
    return str(mv.version)


def set_alias(name: str, alias: str, version: str | int) -> None:
    """Point ``name@alias`` at ``version`` (one atomic registry call; moves it if already set)."""
    try:
        client().set_registered_model_alias(name, alias, str(version))
    except Exception as exc:
        raise TrackingError(f"could not set alias {name}@{alias} -> version {version}: {exc}") from exc


def delete_alias(name: str, alias: str) -> None:
    """Remove ``name@alias`` if it exists."""
    if get_alias(name, alias) is not None:
        client().delete_registered_model_alias(name, alias)


def get_alias(name: str, alias: str) -> Any | None:
    """The :class:`ModelVersion` behind ``name@alias``, or None when the model or alias does not exist."""
    from mlflow.exceptions import MlflowException

    try:
        return client().get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        code = getattr(exc, "error_code", "")
        if code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND") or "not found" in str(
                exc).lower() or "does not exist" in str(exc).lower():
            return None
        raise TrackingError(f"could not read alias {name}@{alias}: {exc}") from exc
