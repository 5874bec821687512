"""Registered models for notebooks and scripts: ``load(name, alias="champion")``, ``list_models()``.

Names are the registry's (``govml-demand-classifier``, ``govml-hotspot-forecaster``, ...); the short
task names (``demand-classifier``) are accepted too. Aliases: ``champion`` (in service) and
``challenger`` (the last validated candidate that was not promoted).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from govml import tracking
from govml.errors import TrackingError

log = logging.getLogger(__name__)


def _resolve(name: str) -> str:
    """The registry name of ``name``: a task name (``demand-classifier``), a registry name, or a retrain.yaml model
    key whose registered name is ``govml-KEY`` (``需求 分类`` → ``govml-需求 分类``) when that one is registered."""
    if name in tracking.REGISTERED_NAMES:
        return tracking.REGISTERED_NAMES[name]
    if name.startswith(f"{tracking.EXPERIMENT_PREFIX}-"):
        return name
    prefixed = f"{tracking.EXPERIMENT_PREFIX}-{name}"
    try:
        c = tracking.client()
        c.get_registered_model(name)
        return name
    except Exception:
        try:
            c.get_registered_model(prefixed)
            return prefixed
        except Exception:
            return name


def registered_names() -> list[str]:
    """The names of the registered models of govml's store, sorted."""
    try:
        return sorted(rm.name for rm in tracking.client().search_registered_models(max_results=1000))
    except Exception as exc:
        raise TrackingError(f"could not read the model registry at {tracking.tracking_uri()}: {exc}") from exc


def _unknown_model(name: str) -> TrackingError:
    names = registered_names()
    import difflib

    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    return TrackingError(f"no registered model {name!r} in {tracking.tracking_uri()}; "
                         + (f"did you mean {close[0]!r}? " if close else "")
                         + f"registered: {', '.join(names) if names else 'none (run `govml retrain` first)'}")


def list_models() -> list[dict[str, Any]]:
    """One dict per registered version, newest first within each model.

    Keys: ``name``, ``version``, ``aliases`` (list), ``status`` (pending/validated/invalid),
    ``metric`` (the gate's metric name), ``metrics`` (dict from the version's tags), ``run_id``,
    ``created`` (UTC datetime), ``source``, ``files`` (:func:`files_present`), ``stage`` (MLflow's deprecated
    stage when one was set in its UI — ``Archived`` … —, else ``""``).
    """
    import datetime as dt

    c = tracking.client()
    rows: list[dict[str, Any]] = []
    try:
        registered = list(c.search_registered_models(max_results=1000))
    except Exception as exc:
        raise TrackingError(f"could not read the model registry at {tracking.tracking_uri()}: {exc}") from exc
    for rm in sorted(registered, key=lambda r: r.name):
        aliases: dict[str, list[str]] = {}
        for alias, version in (rm.aliases or {}).items():
            aliases.setdefault(str(version), []).append(alias)
        versions = c.search_model_versions(f"name = '{rm.name}'")
        for mv in sorted(versions, key=lambda v: int(v.version), reverse=True):
            tags = dict(mv.tags or {})
            metrics = {k.removeprefix("govml.metric."): float(v) for k, v in tags.items()
                       if k.startswith("govml.metric.")}
            rows.append({
                "name": rm.name, "version": str(mv.version),
                "aliases": sorted(aliases.get(str(mv.version), [])),
                "status": tags.get("govml.status", ""), "metric": tags.get("govml.metric", ""),
                "stage": "" if (mv.current_stage or "None") == "None" else str(mv.current_stage),
                "metrics": metrics, "run_id": mv.run_id or tags.get("govml.run_id", ""),
                "created": dt.datetime.fromtimestamp(mv.creation_timestamp / 1000, tz=dt.UTC),
                "source": mv.source, "files": files_present(mv.source),
            })
    return rows


def files_present(source: str | None) -> bool | None:
    """Whether the files of a registered version (its ``source``) are still in a local store: ``False`` when they
    were deleted (the version cannot be loaded, whatever its status says), ``None`` when that cannot be told here
    (a remote artifact store, an unknown kind of source)."""
    from urllib.parse import unquote, urlparse

    if not source:
        return None
    location = source
    if source.startswith("models:/") and "/" not in source.removeprefix("models:/"):  # a logged model (MLflow 3)
        try:
            import mlflow

            location = mlflow.get_logged_model(source.removeprefix("models:/")).artifact_location
        except Exception:  # the logged model itself is gone, or the store cannot say
            return None
    parsed = urlparse(location)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path)).exists()
    if parsed.scheme == "" and location.startswith("/"):
        return Path(location).exists()
    return None


def promote(name: str, version: str | int) -> str | None:
    """Put ``version`` of ``name`` in service by hand (alias ``champion``); returns the version it replaced.

    For when the gate could not decide — e.g. the champion's files were deleted from the store and a retrain
    registered and validated a challenger but could not compare it. Only a version a retrain loaded back and
    validated (tag ``govml.status=validated``) is accepted; the registry records who replaced whom.
    """
    import datetime as dt

    full = _resolve(name)
    c = tracking.client()
    try:
        mv = c.get_model_version(full, str(version))
    except Exception as exc:
        rows = [r for r in list_models() if r["name"] == full]
        if not rows:
            raise _unknown_model(name) from exc
        raise TrackingError(f"no version {version} of {full!r} in {tracking.tracking_uri()}; versions: "
                            f"{', '.join(r['version'] for r in rows)}") from exc
    status = (mv.tags or {}).get("govml.status", "")
    if status != "validated":
        why = {"invalid": "invalid: loaded back from the registry, it could not be loaded or did not score what it "
                          "scored before it was logged",
               "pending": "pending: its retrain stopped (killed or crashed) before loading it back and checking it",
               }.get(status, status or "not marked validated (it was not registered by a retrain)")
        ok = [r["version"] for r in list_models() if r["name"] == full and r["status"] == "validated"
              and r["files"] is not False and not r["stage"]]
        raise TrackingError(f"{full} version {version} is {why}; only a version a retrain loaded back and validated "
                            f"can be put in service (validated: {', '.join(ok) if ok else 'none'})")
    stage = mv.current_stage if (mv.current_stage or "None") != "None" else ""
    if stage == "Archived":
        raise TrackingError(f"{full} version {version} was archived (stage Archived, set in MLflow's UI): it is not "
                            "put in service while archived; move it out of Archived in the UI (or MlflowClient()."
                            f"transition_model_version_stage({full!r}, {str(version)!r}, 'None')) if it should be")
    if files_present(mv.source) is False:
        raise TrackingError(f"{full} version {version}: its files are no longer in the store ({mv.source}); it "
                            "cannot be loaded, so it cannot be put in service")
    old = tracking.get_alias(full, tracking.CHAMPION)
    if old is not None and str(old.version) == str(version):
        return str(old.version)  # already in service: nothing to change (the CLI says so)
    tracking.set_alias(full, tracking.CHAMPION, str(version))
    stamp = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    c.set_model_version_tag(full, str(version), "govml.decision", f"promoted by hand {stamp}")
    if old is not None and str(old.version) != str(version):
        c.set_model_version_tag(full, str(old.version), "govml.replaced_by", f"v{version} {stamp} (by hand)")
    challenger = tracking.get_alias(full, tracking.CHALLENGER)
    if challenger is not None and str(challenger.version) == str(version):
        tracking.delete_alias(full, tracking.CHALLENGER)
    return None if old is None else str(old.version)


def model_uri(name: str, alias: str = tracking.CHAMPION) -> str:
    """``models:/NAME@alias`` after checking it exists; :class:`TrackingError` lists what does."""
    full = _resolve(name)
    if tracking.get_alias(full, alias) is None:
        existing = list_models()
        mine = [r for r in existing if r["name"] == full]
        if not mine:
            raise _unknown_model(full)
        have = sorted({a for r in mine for a in r["aliases"]})
        raise TrackingError(f"model {full!r} has no alias {alias!r}; its aliases: "
                            f"{', '.join(have) if have else 'none'} (versions {', '.join(r['version'] for r in mine)})")
    return f"models:/{full}@{alias}"


def load(name: str, alias: str = tracking.CHAMPION, flavor: str = "native") -> Any:
    """Load ``name@alias`` from the registry.

    ``flavor="native"`` gives the original object back (a scikit-learn estimator for sklearn
    models, the wrapped python model for pyfunc ones); ``flavor="pyfunc"`` gives MLflow's generic
    ``PyFuncModel`` (``.predict(DataFrame)``).
    """
    import mlflow
    import mlflow.pyfunc

    uri = model_uri(name, alias)
    pyfunc = mlflow.pyfunc.load_model(uri)
    if flavor == "pyfunc":
        return pyfunc
    if flavor != "native":
        raise TrackingError(f"flavor must be 'native' or 'pyfunc', not {flavor!r}")
    flavors = pyfunc.metadata.flavors
    if "sklearn" in flavors:
        import mlflow.sklearn

        return mlflow.sklearn.load_model(uri)
    if "lightgbm" in flavors:
        import mlflow.lightgbm

        return mlflow.lightgbm.load_model(uri)
    inner = pyfunc.unwrap_python_model()
    return getattr(inner, "model", inner)


def pyfunc_wrapper(model: Any, kind: str) -> Any:
    """An :class:`mlflow.pyfunc.PythonModel` around a govml object whose ``predict`` does not take a
    DataFrame. ``kind``: ``"forecaster"`` (input: a DataFrame with a ``horizon`` column; returns the
    forecast frame), ``"text"`` (input: a ``text`` column; returns labels) or anything else (the
    DataFrame is passed on). Log it with :func:`govml.tracking.log_pyfunc_model`; :func:`load` with
    ``flavor="native"`` returns the wrapped object again. (The class is defined on first use so that
    importing govml.models does not import MLflow.)
    """
    return _pyfunc_class()(model, kind)


_PYFUNC_CLASS: Any = None


def _pyfunc_class() -> Any:
    global _PYFUNC_CLASS
    if _PYFUNC_CLASS is None:
        import warnings

        import mlflow.pyfunc

        # MLflow's "add type hints to predict" warning, in yellow escape codes in every cron log: predict takes
        # several input shapes on purpose, described by the signature it is logged with. (MLflow sets its own
        # warning filter around that check, so a filter here would not reach it: the class's definition shows none.)
        with warnings.catch_warnings():
            warnings.showwarning = lambda *args, **kwargs: None
            _PYFUNC_CLASS = _define_pyfunc_class(mlflow.pyfunc.PythonModel)
    return _PYFUNC_CLASS


def _define_pyfunc_class(base: Any) -> Any:
    """The pyfunc class (MLflow imported by the caller)."""
    class GovmlPyfunc(base):
        """Pyfunc face of a govml model; ``kind`` picks how the input DataFrame is read."""

        def __init__(self, model: Any, kind: str) -> None:
            self.model = model
            self.kind = kind

        def predict(self, context, model_input, params=None):  # noqa: ANN001 (MLflow's API)
            if self.kind == "forecaster":
                horizon = None
                if model_input is not None and "horizon" in getattr(model_input, "columns", ()):
                    horizon = int(model_input["horizon"].iloc[0])
                return self.model.predict(horizon)
            if self.kind == "text":
                return self.model.predict(model_input["text"].astype(str).tolist())
            return self.model.predict(model_input)

    GovmlPyfunc.__module__ = __name__
    GovmlPyfunc.__qualname__ = "GovmlPyfunc"
    globals()["GovmlPyfunc"] = GovmlPyfunc
    return GovmlPyfunc


def __getattr__(name: str) -> Any:  # unpickling looks up govml.models.GovmlPyfunc
    if name == "GovmlPyfunc":
        return _pyfunc_class()
    raise AttributeError(name)
