"""Scheduled retraining with a champion gate.

``govml retrain --config configs/retrain.yaml`` (what cron, a systemd timer or ``govml schedule``
calls) runs :func:`retrain`: for each enabled model it

1. finds the newest data file (paths or globs, newest by modification time) and loads it;
2. checks the data against the fingerprint of the last run whose data passed (schema errors, far
   fewer rows, a category that vanished) and stops *before training* when something is wrong;
3. trains a challenger on everything but the recent holdout and evaluates it there;
4. logs the model, registers a new version (no alias yet), loads that version back from the
   registry and re-evaluates it (the numbers must agree), then points ``challenger`` at it;
5. evaluates the current ``champion`` on the *same* holdout and promotes the challenger (moves
   ``champion``) only when it is better by the configured margin on the configured metric — or,
   when there is no champion yet, when it clears the sanity floor.

The champion alias is moved by one registry call, and only as the last step: a crash or a kill at
any earlier point leaves the champion untouched, and a version that was not loaded back and
validated never carries an alias. A file lock (see :func:`retrain_lock`) keeps two retrains
from running at once.

The capability-specific work lives in *task adapters* (:class:`TaskAdapter`); the gate, lock,
registry and safety logic here are generic. Built-in adapters: ``demand-classifier`` and
``hotspot-forecaster``; ``adapter: "module:Class"`` in the config plugs in another one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import difflib
import glob
import importlib
import json
import logging
import math
import os
import socket
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from govml import tracking
from govml.errors import ConfigError, DataError, GovmlError, TrackingError

log = logging.getLogger(__name__)

EXPERIMENT = "retrain"  # -> MLflow experiment "govml-retrain"

# Exit codes of `govml retrain` (2 is a usage/configuration error, from the CLI).
EXIT_PROMOTED = 0  # at least one model promoted, no failure
EXIT_FAILED = 1  # a model failed, or its new data was refused
EXIT_KEPT = 3  # nothing promoted, nothing failed: every champion kept
EXIT_LOCKED = 4  # another retrain holds the lock

Decision = Literal["promoted", "kept", "refused", "failed", "would-promote", "would-keep"]


class RetrainLocked(TrackingError):
    """Another retrain is running (it holds the lock)."""

    exit_code = EXIT_LOCKED


class RetrainFailed(TrackingError):
    """The retrain could not run at all (e.g. the MLflow store cannot be reached)."""

    exit_code = EXIT_FAILED


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


class DataChecks(BaseModel):
    """Checks on new data, run before training. Compared with the last run whose data passed."""

    model_config = ConfigDict(extra="forbid")

    min_rows: int = Field(50, ge=1, description="refuse data with fewer rows than this")
    min_rows_ratio: float = Field(0.5, ge=0, le=1, description="refuse when rows < ratio × last rows")
    allow_vanished_categories: bool = Field(False, description="accept a category that disappeared")


class ModelSpec(BaseModel):
    """One model to retrain (a key under ``models:`` in retrain.yaml)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    task: str | None = Field(None, description="built-in adapter name; default: the key itself")
    adapter: str | None = Field(None, description='"module:Class" of a custom TaskAdapter')
    registered_name: str | None = None
    data: list[str] = Field(default_factory=list, description="paths or globs; the newest file is used")
    mapping: dict[str, str] = Field(default_factory=dict, description="column mapping for govml.io.load")
    sheet: str | int | None = Field(None, description="workbook sheet (name, or number from 0) of the data files")
    encoding: str | None = Field(None, description="text encoding of CSV data files (default: detected)")
    metric: str | None = None
    greater_is_better: bool | None = None
    min_improvement: float = Field(0.0, ge=0, description="challenger must beat champion by this much")
    sanity_floor: float | None = Field(None, description="a first model (no champion) must reach this")
    refresh_if_no_worse: bool = Field(
        False, description="also promote a challenger that is no worse than the champion when its data "
        "reaches later than the champion's (forecasters must forecast from the newest history)")
    checks: DataChecks = Field(default_factory=DataChecks)
    params: dict[str, Any] = Field(default_factory=dict, description="passed to the adapter")

    @field_validator("data", mode="before")
    @classmethod
    def _one_path(cls, value: Any) -> Any:
        """``data: incoming/messages_*.csv`` (one path, not a list) is read as a list of one."""
        return [value] if isinstance(value, str) else value


class RetrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lock_timeout_s: float = Field(0.0, ge=0, description="wait this long for a running retrain")
    models: dict[str, ModelSpec]


def load_config(path: str | Path) -> RetrainConfig:
    """Read and validate a retrain YAML file; :class:`ConfigError` names the file and the key."""
    import yaml

    path = Path(path)
    if not path.is_file():
        where = "" if path.is_absolute() else f" (looked for {Path.cwd() / path}: run from the project folder, " \
            "e.g. `cd /srv/govml && govml retrain …` in cron, or give --config an absolute path)"
        raise ConfigError(f"{path}: retrain config not found{where}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with a `models:` key, found {type(raw).__name__}")
    try:
        return RetrainConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: " + "; ".join(_config_problem(e) for e in exc.errors()[:3])) from exc


def _config_problem(error: Mapping[str, Any]) -> str:
    """One pydantic error as ``key.path: what is wrong (found …)``, with the allowed keys for a misspelt one."""
    loc = [str(p) for p in error["loc"]]
    where = ".".join(loc)
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        close = difflib.get_close_matches(loc[-1], allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"{where}: unknown key ({hint}allowed: {', '.join(allowed)})"
    if error["type"] == "missing":
        return f"{where}: missing (required)"
    found = error.get("input")
    shown = repr(found) if not isinstance(found, (dict, list)) else type(found).__name__
    return f"{where}: {error['msg']} (found {shown[:80]})"


def _allowed_keys(loc: list[str]) -> list[str]:
    """The keys allowed at ``loc`` (``[]``: the top level; ``[models, KEY]``: a model; ``[…, checks]``)."""
    if not loc:
        return list(RetrainConfig.model_fields)
    if loc[-1] == "checks":
        return list(DataChecks.model_fields)
    return list(ModelSpec.model_fields)


# --------------------------------------------------------------------------------------------
# Task adapters
# --------------------------------------------------------------------------------------------


@runtime_checkable
class TaskAdapter(Protocol):
    """What the retrain pipeline needs from a capability. Construct with ``Adapter(**spec.params)``."""

    registered_name: str
    metric: str  # key of evaluate()'s dict that the gate compares
    greater_is_better: bool
    time_col: str | None  # for the data fingerprint
    category_cols: tuple[str, ...]  # categories that must not vanish

    def load_data(self, path: Path, mapping: Mapping[str, str], sheet: str | int | None = None,
                  encoding: str | None = None) -> Any:
        """Read one data file into a frame; raise DataError on schema problems.

        ``sheet`` / ``encoding`` are passed only when the model's retrain.yaml entry sets them, so an adapter
        whose files never need them may leave them out of its signature."""

    def check_data(self, frame: Any) -> list[str]:
        """Task-specific problems with the frame (e.g. too few labels); empty when fine."""

    def split(self, frame: Any) -> tuple[Any, Any]:
        """(training frame, recent holdout frame)."""

    def train(self, frame: Any) -> Any:
        """A fitted model."""

    def evaluate(self, model: Any, holdout: Any) -> dict[str, float]:
        """Metrics of ``model`` on ``holdout`` (must include ``metric``)."""

    def log_model(self, model: Any, frame: Any) -> str:
        """Log the model to the active MLflow run (masked input example, signature); its URI."""

    def load_model(self, model_uri: str) -> Any:
        """Load a model logged by :meth:`log_model` back, in a form :meth:`evaluate` takes."""

    # optional: def log_plots(self, model, holdout) -> None — figures for the active run


#: built-in adapters: task name -> "module:Class"
ADAPTERS: dict[str, str] = {
    "demand-classifier": "govml.retrain:DemandClassifierAdapter",
    "hotspot-forecaster": "govml.retrain:HotspotForecasterAdapter",
}


def _import(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    if not attr:
        raise ConfigError(f"adapter {target!r}: expected 'module:Class'")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"adapter {target!r} cannot be imported: {exc}") from exc


def make_adapter(key: str, spec: ModelSpec) -> TaskAdapter:
    target = spec.adapter or ADAPTERS.get(spec.task or key)
    if target is None:
        task = spec.task or key
        close = difflib.get_close_matches(task, list(ADAPTERS), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(f"models.{key}: unknown task {task!r}; {hint}built-in: {', '.join(ADAPTERS)} "
                          "(a key of your own needs task: BUILT-IN or adapter: 'module:Class')")
    factory = _import(target) if isinstance(target, str) else target
    try:
        adapter = factory(**spec.params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"models.{key}.params: {exc}") from exc
    wanted = [k for k in ("sheet", "encoding") if getattr(spec, k) is not None]
    if wanted:
        import inspect

        takes = inspect.signature(adapter.load_data).parameters
        missing = [k for k in wanted if k not in takes and not any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in takes.values())]
        if missing:
            raise ConfigError(f"models.{key}: {', '.join(missing)} set, but {type(adapter).__name__}.load_data "
                              "takes no such argument")
    return adapter


def _read_options(spec: ModelSpec) -> dict[str, Any]:
    """``sheet`` / ``encoding`` of a model's data files, for ``adapter.load_data`` (only those set)."""
    return {k: getattr(spec, k) for k in ("sheet", "encoding") if getattr(spec, k) is not None}


# --------------------------------------------------------------------------------------------
# Lock
# --------------------------------------------------------------------------------------------


def lock_path() -> Path:
    """The retrain lock: next to the embedded store (``GOVML_HOME/mlruns/retrain.lock``)."""
    p = tracking.home() / "mlruns"
    p.mkdir(parents=True, exist_ok=True)
    return p / "retrain.lock"


def lock_holder() -> dict[str, Any] | None:
    """Who holds (or last held) the lock: pid, host, started, command — or None."""
    info = lock_path().with_suffix(".holder.json")
    try:
        return json.loads(info.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _store_unusable(exc: OSError) -> RetrainFailed:
    return RetrainFailed(f"the MLflow store folder {tracking.home() / 'mlruns'} cannot be used "
                         f"({exc.strerror or type(exc).__name__}); GOVML_HOME="
                         f"{os.environ.get('GOVML_HOME') or '(not set: the current folder)'} must be a folder "
                         "this user can write to")


@contextlib.contextmanager
def retrain_lock(timeout_s: float = 0.0) -> Iterator[Path]:
    """Hold the retrain lock, or raise :class:`RetrainLocked` naming the holder.

    The lock is an OS file lock (``fcntl``/``msvcrt`` via filelock): the kernel releases it when
    the holding process dies, even by ``kill -9``, so a crashed retrain never leaves a stale lock
    behind. The holder record (pid, host, start time) beside it names the running retrain in the
    "another retrain is running" message; a retrain removes it when it ends, so a record found by
    the next holder was left by a retrain that died, which is said (:func:`_take_over`). It guards
    one machine / one ``GOVML_HOME``; machines sharing one MLflow server need their schedules not to
    overlap.
    """
    import filelock

    try:
        path = lock_path()
    except OSError as exc:
        raise _store_unusable(exc) from exc
    lock = filelock.FileLock(str(path), timeout=timeout_s)
    try:
        lock.acquire()
    except filelock.Timeout:
        holder = lock_holder() or {}
        who = (f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, "
               f"started {holder.get('started', '?')}") if holder else "unknown holder"
        if holder and holder.get("host") == socket.gethostname() and _pid_alive(holder.get("pid")) is False:
            who += (f"; pid {holder.get('pid')} is no longer running, yet the lock is still held — by a process it "
                    f"started? `fuser {path}` names it")
        raise RetrainLocked(f"another retrain is running ({who}); lock {path}. "
                            "Wait for it to finish (or raise lock_timeout_s).") from None
    except OSError as exc:  # a read-only store folder, a full disk (filelock's Timeout is an OSError too)
        raise _store_unusable(exc) from exc
    info = path.with_suffix(".holder.json")
    try:
        _take_over(lock_holder())
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "removed_at_exit": True}
        tmp = path.with_suffix(".holder.tmp")
        try:
            tmp.write_text(json.dumps(record), encoding="utf-8")
            os.replace(tmp, info)
        except OSError as exc:
            raise _store_unusable(exc) from exc
        yield path
    finally:
        with contextlib.suppress(OSError):  # a finished retrain leaves no holder record: one left behind is stale
            if (lock_holder() or {}).get("pid") == os.getpid():
                info.unlink()
        lock.release()


def _pid_alive(pid: Any) -> bool | None:
    """Whether process ``pid`` runs on this machine (None: cannot be told)."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except (OSError, TypeError, ValueError, AttributeError):
        return None
    return True


def _take_over(previous: Mapping[str, Any] | None) -> None:
    """Say so when the holder record of a retrain that did not finish is left beside the lock we now hold.

    A retrain removes its record when it ends (also on an error); one that was killed (``kill -9``, the machine
    shut down, out of memory) cannot: the OS released its lock when it died, so the lock is free, and this run
    takes over with a warning naming it (its MLflow runs still RUNNING are then marked KILLED). Records of govml
    versions before the removal (no ``removed_at_exit``) were left by every run and say nothing."""
    if not previous or not previous.get("removed_at_exit"):
        return
    if previous.get("pid") == os.getpid() and previous.get("host") == socket.gethostname():
        return
    here = previous.get("host") == socket.gethostname()
    state = {False: "no longer running", True: "running, but no longer holding the lock", None: "state unknown"}[
        _pid_alive(previous.get("pid")) if here else None]
    log.warning("stale retrain lock taken over: the retrain of pid %s on %s (started %s) did not finish — killed or "
                "shut down (pid %s: %s); the OS released its lock, this run goes ahead", previous.get("pid", "?"),
                previous.get("host", "?"), previous.get("started", "?"), previous.get("pid", "?"), state)


# --------------------------------------------------------------------------------------------
# Data: newest file, checks against the last fingerprint
# --------------------------------------------------------------------------------------------


def newest_file(patterns: list[str], base: Path | None = None) -> Path:
    """The most recently modified file matching any of the paths/globs (relative to ``base``)."""
    base = Path(base) if base is not None else Path.cwd()
    found: list[Path] = []
    for pat in patterns:
        full = pat if os.path.isabs(pat) else str(base / pat)
        found += [Path(p) for p in glob.glob(full, recursive=True) if os.path.isfile(p)]
    if not found:
        hint = ("; relative paths are read from the current folder: run from the project folder (cron: "
                "`cd /srv/govml && govml retrain …`) or write absolute paths") if any(
                    not os.path.isabs(p) for p in patterns) else ""
        raise DataError(message=f"no data file matches {patterns} (relative to {base}){hint}")
    return max(found, key=lambda p: (p.stat().st_mtime, str(p)))


_CHANGED = ("the file changed while it was read (size or modification time): it is still being written — the next "
            "run takes it once it is complete")


def _file_state(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


#: a file whose last line has no line break and that was modified this recently is taken as still being written
RECENT_S = 300.0


def incomplete_file(path: Path, now: float | None = None) -> str | None:
    """Why ``path`` looks like a file still being written or cut off (a copy that stopped), or None.

    Workbooks (.xlsx/.xlsm) and Parquet files carry an end marker (a ZIP's end-of-central-directory record,
    Parquet's ``PAR1``): a file without it is incomplete. A text table (CSV/TSV/TXT) whose last line has no line
    break is cut off when that line holds an open quote or fewer fields than the header, or when it was modified in
    the last :data:`RECENT_S` seconds (an export still being written); an old file that merely lacks the final line
    break (a hand-saved file) is read as before. :func:`_pipeline` also refuses a file that changes while it is read.
    """
    import time as _time

    try:
        size = path.stat().st_size
        mtime = path.stat().st_mtime
        if size == 0:
            return None  # the reader says "the file is empty"
        with open(path, "rb") as f:
            head = f.read(8)
            f.seek(max(0, size - 65_558))
            tail = f.read()
    except OSError:
        return None  # the reader reports what cannot be opened
    suffix = path.suffix.lower()
    age = (now if now is not None else _time.time()) - mtime
    if suffix in (".xlsx", ".xlsm") and head.startswith(b"PK\x03\x04") and b"PK\x05\x06" not in tail:
        return (f"the workbook is incomplete ({size:,} bytes, its end is missing: not a whole .xlsx) — still being "
                f"written or copied (modified {_ago(age)}), or the copy stopped; the next run takes it once it is whole")
    if suffix == ".parquet" and head.startswith(b"PAR1") and not tail.endswith(b"PAR1"):
        return (f"the Parquet file is incomplete ({size:,} bytes, its end marker is missing) — still being written "
                f"(modified {_ago(age)}), or the copy stopped")
    if suffix not in (".csv", ".tsv", ".txt") or tail.endswith((b"\n", b"\r")):
        return None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in tail[-200:]:
        return None  # UTF-16: the reader's business
    with open(path, "rb") as f:
        first = f.readline()
    sep = b"\t" if suffix == ".tsv" or first.count(b"\t") > first.count(b",") else b","
    last = tail[tail.rfind(b"\n") + 1:]
    with open(path, "rb") as f:
        quotes = f.read().count(b'"')
    why = None
    if quotes % 2:
        why = "its last line ends inside a quoted cell"
    elif b'"' not in last and last.count(sep) < first.count(sep):
        why = f"its last line has {last.count(sep) + 1} of the header's {first.count(sep) + 1} fields"
    elif age < RECENT_S:
        why = f"its last line has no line break and the file was modified {_ago(age)}"
    if why is None:
        return None
    return (f"the file looks incomplete — {why}: still being written (modified {_ago(age)}), or the copy stopped; "
            "the next run takes it once it is complete")


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def check_against_last(fp: Mapping[str, Any], last: Mapping[str, Any] | None, checks: DataChecks) -> list[str]:
    """Problems of new data (fingerprint ``fp``) compared with the last accepted one."""
    problems = []
    if fp["rows"] < checks.min_rows:
        problems.append(f"only {fp['rows']} rows (min_rows {checks.min_rows})")
    if not last:
        return problems
    if last.get("column_names") and fp.get("column_names") is not None:
        lost = [c for c in last["column_names"] if c not in fp["column_names"]]
        if lost:  # new columns are fine; a column the last accepted data had must not disappear
            problems.append(f"column(s) missing since the last accepted data: {', '.join(map(str, lost))}")
    elif last.get("column_hash") and fp.get("column_hash") != last["column_hash"]:
        problems.append("the columns changed since the last accepted data")
    last_rows = int(last.get("rows", 0))
    if last_rows and fp["rows"] < checks.min_rows_ratio * last_rows:
        problems.append(f"{fp['rows']} rows, far fewer than the {last_rows} of the last accepted data "
                        f"(min_rows_ratio {checks.min_rows_ratio})")
    if not checks.allow_vanished_categories:
        for key, counts in last.items():
            if key.startswith("categories.") and isinstance(counts, dict):
                now = fp.get(key, {})
                gone = sorted(c for c in counts if c not in now and c != "<NA>")
                if gone:
                    problems.append(f"{key.split('.', 1)[1]} value(s) vanished: {', '.join(gone[:10])}")
    return problems


def _other_config(key: str, name: str, config_file: str | None) -> str | None:
    """Why model ``key`` of ``config_file`` must not run: another config file that still exists retrains the same
    model in this store (the last accepted data of ``key`` or the champion of ``name`` came from it) — or None.

    Two configs sharing one store with the same model key / registered name (two districts' copies of
    retrain.yaml) would compare each other's data (a refusal naming categories that "vanished") and replace each
    other's champion. A config that was renamed or moved (the other file no longer exists) is the same config: no
    refusal. Runs and versions of govml before session 15 carry no ``govml.config`` and are not compared."""
    import mlflow

    if not config_file:
        return None
    mine = Path(config_file).resolve()
    found: list[tuple[str, str]] = []
    try:
        exp_id = tracking.ensure_experiment(EXPERIMENT)
        runs = mlflow.search_runs(
            experiment_ids=[exp_id], output_format="list", max_results=1, order_by=["start_time DESC"],
            filter_string=f"tags.`govml.model` = '{key}' AND tags.`govml.data_check` = 'passed' "
                          "AND tags.`govml.dry_run` = 'false'")
        if runs and runs[0].data.tags.get("govml.config"):
            found.append((runs[0].data.tags["govml.config"], f"the last accepted data of model {key!r} "
                                                             f"(run {runs[0].info.run_id[:12]})"))
        champ = tracking.get_alias(name, tracking.CHAMPION)
        if champ is not None and (champ.tags or {}).get("govml.config"):
            found.append((champ.tags["govml.config"], f"the champion of {name} (v{champ.version})"))
    except Exception as exc:  # the check must never block a retrain by itself
        log.warning("could not check which config last retrained %s: %s", key, exc)
        return None
    for other, what in found:
        if Path(other) != mine and Path(other).is_file():
            return (f"{what} came from another config, {other}, which still exists; this is {mine}. Two configs "
                    f"sharing one store must give their models different keys and registered_name (e.g. "
                    f"`{key}-{mine.stem}:` with `registered_name: {name}-{mine.stem}`), or use separate stores "
                    "(GOVML_HOME); if that file is an old copy of this one, delete it")
    return None


def last_fingerprint(model_key: str) -> dict[str, Any] | None:
    """The data fingerprint of the last retrain of ``model_key`` whose data passed the checks.

    A ``--dry-run`` is not one: an operator trying a file out must not move what the next scheduled run's data is
    compared with (runs of older govml versions carry no ``govml.dry_run`` tag and count).
    """
    import mlflow

    exp_id = tracking.ensure_experiment(EXPERIMENT)
    runs = mlflow.search_runs(
        experiment_ids=[exp_id], output_format="list", max_results=50, order_by=["start_time DESC"],
        filter_string=f"tags.`govml.model` = '{model_key}' AND tags.`govml.data_check` = 'passed'")
    runs = [r for r in runs if r.data.tags.get("govml.dry_run") != "true"]
    if not runs:
        return None
    try:
        return mlflow.artifacts.load_dict(f"runs:/{runs[0].info.run_id}/data_fingerprint.json")
    except Exception as exc:  # an unreadable artifact must not block retraining forever
        log.warning("could not read the last data fingerprint of %s: %s", model_key, exc)
        return None


# --------------------------------------------------------------------------------------------
# The gate
# --------------------------------------------------------------------------------------------


def gate(
    challenger: float,
    champion: float | None,
    greater_is_better: bool,
    min_improvement: float = 0.0,
    sanity_floor: float | None = None,
    metric: str = "metric",
) -> tuple[bool, str]:
    """(promote?, reason). Direction-aware; a first model must clear ``sanity_floor``."""
    if challenger is None or not math.isfinite(challenger):
        return False, f"challenger {metric} is not a finite number ({challenger})"
    if sanity_floor is not None:
        ok = challenger >= sanity_floor if greater_is_better else challenger <= sanity_floor
        if not ok:
            return False, (f"challenger {metric} {challenger:.4f} misses the sanity floor {sanity_floor} "
                           f"({'≥' if greater_is_better else '≤'} required)")
    if champion is None or not math.isfinite(champion):
        floor = f"passes the sanity floor {sanity_floor}" if sanity_floor is not None else "(no sanity floor set)"
        return True, f"no champion yet; challenger {metric} {challenger:.4f} {floor}"
    gain = (challenger - champion) if greater_is_better else (champion - challenger)
    if gain >= min_improvement and gain > 0:
        return True, (f"challenger {metric} {challenger:.4f} beats champion {champion:.4f} "
                      f"by {gain:.4f} (≥ margin {min_improvement})")
    if gain <= 0:
        return False, (f"challenger {metric} {challenger:.4f} is not better than champion {champion:.4f} "
                       f"(gain {gain:+.4f}; margin {min_improvement})")
    return False, (f"challenger {metric} {challenger:.4f} beats champion {champion:.4f} by only {gain:.4f}, "
                   f"below the margin {min_improvement}")


# --------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    model: str
    registered_name: str
    decision: Decision
    reason: str
    metric: str = ""
    greater_is_better: bool = True
    data_file: str | None = None
    rows: int | None = None
    challenger: dict[str, float] = dataclasses.field(default_factory=dict)
    champion: dict[str, float] = dataclasses.field(default_factory=dict)
    challenger_version: str | None = None
    champion_version: str | None = None  # the champion before this retrain
    run_id: str | None = None
    seconds: float = 0.0


@dataclasses.dataclass
class RetrainReport:
    outcomes: list[Outcome]
    run_id: str | None
    dry_run: bool = False
    scheduled: bool = False

    @property
    def exit_code(self) -> int:
        decisions = [o.decision for o in self.outcomes]
        if any(d in ("failed", "refused") for d in decisions):
            return EXIT_FAILED
        if any(d in ("promoted", "would-promote") for d in decisions):
            return EXIT_PROMOTED
        return EXIT_KEPT

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "dry_run": self.dry_run, "scheduled": self.scheduled,
                "exit_code": self.exit_code, "models": [dataclasses.asdict(o) for o in self.outcomes]}

    def markdown(self) -> str:
        lines = ["# govml retrain summary", "",
                 f"exit code {self.exit_code}{' (dry run)' if self.dry_run else ''}"
                 f"{' (scheduled)' if self.scheduled else ''}", "",
                 "| model | data | rows | metric | challenger | champion | decision | reason |",
                 "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for o in self.outcomes:
            lines.append(
                f"| {o.registered_name} | {Path(o.data_file).name if o.data_file else '-'} | {o.rows or '-'} | "
                f"{o.metric} | {_fmt(o.challenger.get(o.metric))} (v{o.challenger_version or '-'}) | "
                f"{_fmt(o.champion.get(o.metric))} (v{o.champion_version or '-'}) | {o.decision} | "
                f"{o.reason.replace('|', '/')} |")
        return "\n".join(lines) + "\n"


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.4f}"


class _Stop(Exception):
    """Internal: end one model's retrain with a decision (refused/failed) and a reason."""

    def __init__(self, decision: Decision, reason: str) -> None:
        super().__init__(reason)
        self.decision = decision
        self.reason = reason


def _close_dead_runs() -> None:
    """Mark this machine's retrain runs left RUNNING by a killed retrain as KILLED.

    We hold the lock, so no retrain of this machine is alive; runs of other machines (a shared
    server) are left alone.
    """
    import mlflow

    exp_id = tracking.ensure_experiment(EXPERIMENT)
    host = socket.gethostname().replace("'", "")
    stale = mlflow.search_runs(experiment_ids=[exp_id], output_format="list",
                               filter_string=f"attributes.status = 'RUNNING' AND tags.`govml.host` = '{host}'")
    c = tracking.client()
    for r in stale:
        c.set_tag(r.info.run_id, "govml.reason", "the retrain process died (found still RUNNING)")
        c.set_terminated(r.info.run_id, status="KILLED")
        log.warning("marked run %s of a dead retrain as KILLED", r.info.run_id)


def prepare(cfg: RetrainConfig, only: list[str] | None = None) -> dict[str, TaskAdapter]:
    """The adapters of the models a retrain would run ({key: adapter}, config order); :class:`ConfigError` (exit 2)
    for an unknown ``--model``, nothing enabled, a misspelt task or ``params:`` key — before the lock and before any
    MLflow run, so that neither ``govml retrain`` nor ``govml schedule`` (at start, not at every tick) logs a
    configuration mistake as a failed model."""
    if only:
        unknown = sorted(set(only) - set(cfg.models))
        if unknown:
            raise ConfigError(f"unknown model(s) {unknown}; the config has {sorted(cfg.models)}")
    keys = [k for k, s in cfg.models.items() if s.enabled and (not only or k in only)]
    if not keys:
        off = [k for k in (only or cfg.models) if not cfg.models[k].enabled]
        raise ConfigError("no enabled model to retrain" + (f" ({', '.join(off)}: enabled: false)" if off else ""))
    return {k: make_adapter(k, cfg.models[k]) for k in keys}


def retrain(
    config: RetrainConfig | str | Path,
    only: list[str] | None = None,
    dry_run: bool = False,
    scheduled: bool | None = None,
    base_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> RetrainReport:
    """Retrain every enabled model of ``config`` behind the champion gate; see the module doc.

    ``only`` restricts to these model keys; ``dry_run`` trains and evaluates challenger and
    champion but registers and promotes nothing. Relative data paths resolve against
    ``base_dir`` (default: the current folder). Raises :class:`RetrainLocked` when another
    retrain holds the lock, :class:`ConfigError` for a bad config; everything that goes wrong
    with one model is reported in its :class:`Outcome` instead.
    """
    cfg = config if isinstance(config, RetrainConfig) else load_config(config)
    config_file = None if isinstance(config, RetrainConfig) else str(config)
    adapters = prepare(cfg, only)
    keys = list(adapters)
    if scheduled is None:
        scheduled = bool(os.environ.get("GOVML_SCHEDULED"))
    say = progress or (lambda msg: log.info("%s", msg))

    with retrain_lock(cfg.lock_timeout_s):
        try:
            tracking.configure()
            _close_dead_runs()
        except Exception as exc:
            raise RetrainFailed(f"the MLflow store at {tracking.tracking_uri()} cannot be used: "
                                f"{type(exc).__name__}: {str(exc)[:300]}") from exc
        tags = {"govml.kind": "retrain", "govml.dry_run": str(dry_run).lower(),
                "govml.host": socket.gethostname().replace("'", ""), "govml.pid": str(os.getpid()),
                "govml.cwd": str(Path.cwd() if base_dir is None else Path(base_dir).resolve())}
        if not isinstance(config, RetrainConfig):
            tags["govml.config"] = str(Path(config).resolve())
        if scheduled:
            tags["govml.scheduled"] = "true"
        stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        with tracking.run(EXPERIMENT, run_name=f"retrain {stamp}", tags=tags,
                          params={"models": ",".join(keys), "dry_run": dry_run}) as parent:
            outcomes = []
            for key in keys:
                say(f"{key}: start")
                outcomes.append(_retrain_one(key, cfg.models[key], dry_run, scheduled, base_dir, say,
                                             adapter=adapters[key], config_file=config_file))
                say(f"{key}: {outcomes[-1].decision} — {outcomes[-1].reason}")
            report = RetrainReport(outcomes, parent.info.run_id, dry_run=dry_run, scheduled=scheduled)
            tracking.log_dict(report.to_dict(), "summary.json")
            import mlflow

            mlflow.log_text(report.markdown(), "summary.md")
            mlflow.set_tags({"govml.exit_code": str(report.exit_code),
                             "govml.decisions": ",".join(f"{o.model}={o.decision}" for o in outcomes)})
            tracking.log_metrics({"promoted": sum(o.decision == "promoted" for o in outcomes)})
    return report


def _retrain_one(key: str, spec: ModelSpec, dry_run: bool, scheduled: bool, base_dir: Path | None,
                 say: Callable[[str], None], adapter: TaskAdapter | None = None,
                 config_file: str | None = None) -> Outcome:
    import mlflow

    t0 = time.perf_counter()
    if adapter is None:
        try:
            adapter = make_adapter(key, spec)
        except ConfigError as exc:
            return Outcome(key, spec.registered_name or key, "failed", str(exc))
    name = spec.registered_name or adapter.registered_name
    metric = spec.metric or adapter.metric
    gib = adapter.greater_is_better if spec.greater_is_better is None else spec.greater_is_better
    out = Outcome(key, name, "failed", "", metric=metric, greater_is_better=gib)
    tags = {"govml.model": key, "govml.registered_name": name, "govml.dry_run": str(dry_run).lower(),
            "govml.host": socket.gethostname().replace("'", ""), "govml.pid": str(os.getpid())}
    if config_file:
        tags["govml.config"] = str(Path(config_file).resolve())
    if scheduled:
        tags["govml.scheduled"] = "true"
    with tracking.run(EXPERIMENT, run_name=key, tags=tags, nested=True,
                      params={"metric": metric, "greater_is_better": gib,
                              "min_improvement": spec.min_improvement, "sanity_floor": spec.sanity_floor,
                              **{f"adapter.{k}": v for k, v in spec.params.items()}}) as child:
        out.run_id = child.info.run_id
        try:
            _pipeline(key, spec, adapter, name, metric, gib, dry_run, base_dir, out, say, config_file)
        except _Stop as stop:
            out.decision, out.reason = stop.decision, stop.reason
        except GovmlError as exc:
            out.decision, out.reason = "failed", str(exc)
        except Exception as exc:  # a bug or an infrastructure failure: report it, champion untouched
            # one line on the terminal (the traceback with --debug / GOVML_DEBUG=1); the traceback, masked, is
            # kept with the run for the bug report
            import traceback

            log.error("retrain of %s failed: %s: %s", key, type(exc).__name__, _masked(str(exc))[:500],
                      exc_info=os.environ.get("GOVML_DEBUG", "") not in ("", "0"))
            with contextlib.suppress(Exception):
                mlflow.log_text(_masked(traceback.format_exc()), "traceback.txt")
            out.decision, out.reason = "failed", (f"{type(exc).__name__}: {exc} (traceback: traceback.txt of "
                                                  f"run {out.run_id})")
        out.seconds = round(time.perf_counter() - t0, 2)
        # a refused file's message quotes the cells it could not read: personal data in them is masked
        # before the reason reaches the terminal, MLflow's tags and summary.md/json
        out.reason = _masked(out.reason)
        if out.champion_version is None and out.decision in ("refused", "failed"):  # stopped before step 4: still
            # say which version is in service (a promoted first model has no "champion before this run")
            with contextlib.suppress(Exception):
                champ = tracking.get_alias(name, tracking.CHAMPION)
                if champ is not None:
                    out.champion_version = str(champ.version)
                    mlflow.set_tag("govml.champion_version", out.champion_version)
        mlflow.set_tags({"govml.decision": out.decision, "govml.reason": out.reason[:4000]})
    if out.decision in ("failed", "refused"):
        tracking.client().set_terminated(out.run_id, status="FAILED")
    return out


def _masked(text: str) -> str:
    """``text`` with personal data (phone numbers, ID numbers, names after 联系人/姓名 …) masked (govml.privacy)."""
    from govml.privacy import mask

    try:
        return mask(text)
    except Exception as exc:  # masking must never turn a refusal into a crash
        log.warning("could not mask a retrain message: %s", exc)
        return text


def _pipeline(key: str, spec: ModelSpec, adapter: TaskAdapter, name: str, metric: str, gib: bool,
              dry_run: bool, base_dir: Path | None, out: Outcome, say: Callable[[str], None],
              config_file: str | None = None) -> None:
    import mlflow

    # 0. one store, two configs with the same model: refused before their data and champions get mixed up
    shared = _other_config(key, name, config_file)
    if shared:
        raise _Stop("refused", shared)

    # 1. newest data, loaded and validated
    try:
        path = newest_file(spec.data, base_dir)
    except DataError as exc:
        raise _Stop("refused", str(exc)) from exc
    out.data_file = str(path)
    mlflow.set_tag("govml.data_file", path.name)
    from govml import io

    before = _file_state(path)
    cut = incomplete_file(path)
    try:
        if cut is None:  # the reader's hints name retrain.yaml's keys (mapping:, sheet:, encoding:), not CLI options
            with io.settings_from(config_file or "retrain.yaml", f"models.{key}"):
                frame = adapter.load_data(path, spec.mapping, **_read_options(spec))
    except DataError as exc:
        cut = incomplete_file(path) or (None if _file_state(path) == before else _CHANGED)
        mlflow.set_tag("govml.data_check", "failed")
        raise _Stop("refused", f"{path.name}: data refused before training: {cut or exc}") from exc
    if cut is None and _file_state(path) != before:
        cut = _CHANGED
    if cut is not None:
        mlflow.set_tag("govml.data_check", "failed")
        raise _Stop("refused", f"{path.name}: data refused before training: {cut}")
    out.rows = len(frame)

    # 2. checks against the last accepted data
    fp = tracking.data_fingerprint(frame, time_col=adapter.time_col, category_cols=list(adapter.category_cols))
    fp["file"] = path.name
    fp["column_names"] = [str(c) for c in frame.columns]  # names only, never values
    tracking.log_dict(fp, "data_fingerprint.json")
    tracking.log_metrics({"data.rows": fp["rows"]})
    problems = check_against_last(fp, last_fingerprint(key), spec.checks) + list(adapter.check_data(frame))
    if problems:
        mlflow.set_tag("govml.data_check", "failed")
        tracking.log_dict({"problems": problems}, "data_problems.json")
        raise _Stop("refused", f"{path.name}: data refused before training: " + "; ".join(problems))
    mlflow.set_tag("govml.data_check", "passed")

    # 3. challenger: train without the recent holdout, evaluate on it
    train, holdout = adapter.split(frame)
    tracking.log_metrics({"data.train_rows": len(train), "data.holdout_rows": len(holdout)})
    say(f"{key}: training on {len(train)} rows, holdout {len(holdout)} rows")
    model = adapter.train(train)
    ch = _checked_metrics(adapter.evaluate(model, holdout), metric, "challenger")
    out.challenger = ch
    tracking.log_metrics({f"challenger.{k}": v for k, v in ch.items()})
    if hasattr(adapter, "log_plots"):  # optional; a plot must never fail a retrain
        try:
            adapter.log_plots(model, holdout)
        except Exception as exc:
            log.warning("%s: plots not logged: %s", key, exc)

    # 4. champion on the same holdout
    champ_mv = tracking.get_alias(name, tracking.CHAMPION)
    champ_value = None
    broken = None  # why the champion could not be scored: no gate, champion kept, the challenger still registered
    if champ_mv is not None:
        out.champion_version = str(champ_mv.version)
        mlflow.set_tag("govml.champion_version", out.champion_version)
        try:
            champ_model = adapter.load_model(f"models:/{name}/{champ_mv.version}")
            cm = _checked_metrics(adapter.evaluate(champ_model, holdout), metric, "champion")
        except _Stop:
            raise
        except Exception as exc:
            broken = (f"the champion (version {champ_mv.version}, {champ_mv.source}) could not be loaded or "
                      f"evaluated on the new holdout: {type(exc).__name__}: {str(exc)[:300]} — if its files were "
                      "deleted from the store, the model in service cannot be loaded either")
        else:
            out.champion = cm
            champ_value = cm[metric]
            tracking.log_metrics({f"champion.{k}": v for k, v in cm.items()})

    if broken is not None:
        promote, reason = False, broken
    else:
        promote, reason = gate(ch[metric], champ_value, gib, spec.min_improvement, spec.sanity_floor, metric)
    if not promote and broken is None and spec.refresh_if_no_worse and champ_value is not None and champ_mv is not None:
        gain = (ch[metric] - champ_value) if gib else (champ_value - ch[metric])
        floor_ok, _ = gate(ch[metric], None, gib, 0.0, spec.sanity_floor, metric)
        champ_max = (champ_mv.tags or {}).get("govml.data_max", "")
        if floor_ok and gain >= -1e-12 and fp.get("date_max", "") > champ_max:
            promote = True
            reason = (f"challenger {metric} {ch[metric]:.4f} is no worse than champion {champ_value:.4f} and "
                      f"its data reaches {fp.get('date_max')} (champion's: {champ_max or 'unknown'}): "
                      "promoted to refresh the model on newer data")
    mlflow.set_tag("govml.gate", "not run" if broken else "pass" if promote else "fail")
    if dry_run:
        if broken:
            raise _Stop("failed", f"dry run: {broken}")
        out.decision, out.reason = ("would-promote" if promote else "would-keep"), f"dry run: {reason}"
        return

    # 5. log → register (no alias) → load back and validate → challenger alias
    model_uri = adapter.log_model(model, train)
    version = tracking.register(model_uri, name, tags={
        **({"govml.config": str(Path(config_file).resolve())} if config_file else {}),
        "govml.status": "pending", "govml.run_id": out.run_id, "govml.metric": metric,
        "govml.data_max": fp.get("date_max", ""), "govml.data_rows": fp["rows"], "govml.data_file": path.name,
        **{f"govml.metric.{k}": f"{v:.6g}" for k, v in ch.items()}})
    out.challenger_version = version
    mlflow.set_tag("govml.challenger_version", version)
    c = tracking.client()
    try:
        reloaded = adapter.load_model(f"models:/{name}/{version}")
        again = _checked_metrics(adapter.evaluate(reloaded, holdout), metric, "reloaded challenger")
    except _Stop:
        raise
    except Exception as exc:
        c.set_model_version_tag(name, version, "govml.status", "invalid")
        raise _Stop("failed", f"version {version} could not be loaded back from the registry: "
                              f"{type(exc).__name__}: {exc}") from exc
    if abs(again[metric] - ch[metric]) > 1e-6 * max(1.0, abs(ch[metric])):
        c.set_model_version_tag(name, version, "govml.status", "invalid")
        raise _Stop("failed", f"version {version} loaded back from the registry scores {metric} "
                              f"{again[metric]:.6f}, not the {ch[metric]:.6f} measured before logging")
    c.set_model_version_tag(name, version, "govml.status", "validated")
    tracking.set_alias(name, tracking.CHALLENGER, version)
    if broken:  # the gate could not compare: an operator decides, with the validated challenger at hand
        c.set_model_version_tag(name, version, "govml.decision", "not compared: champion unusable")
        c.set_model_version_tag(name, version, "govml.reason", broken[:4000])
        raise _Stop("failed", f"{broken}. Challenger v{version} ({metric} {ch[metric]:.4f}) is validated and "
                              f"aliased challenger; `govml models promote {name} {version}` puts it in service")

    # 6. the gate moves the champion alias — one registry call, the last step
    if promote:
        tracking.set_alias(name, tracking.CHAMPION, version)
        c.set_model_version_tag(name, version, "govml.decision", "promoted")
        if champ_mv is not None:  # the registry then tells which version served until when, and why it ended
            with contextlib.suppress(Exception):
                c.set_model_version_tag(name, str(champ_mv.version), "govml.replaced_by",
                                        f"v{version} {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
        with contextlib.suppress(Exception):  # cosmetic: the champion is no longer a challenger
            tracking.delete_alias(name, tracking.CHALLENGER)
        out.decision, out.reason = "promoted", reason
    else:
        c.set_model_version_tag(name, version, "govml.decision", "kept champion")
        out.decision, out.reason = "kept", reason
    c.set_model_version_tag(name, version, "govml.reason", reason[:4000])


def _checked_metrics(metrics: Mapping[str, float], metric: str, who: str) -> dict[str, float]:
    clean = {k: float(v) for k, v in metrics.items()}
    if metric not in clean:
        raise _Stop("failed", f"the {who}'s evaluation has no metric {metric!r} (has {sorted(clean)})")
    return clean


# --------------------------------------------------------------------------------------------
# Scheduling (for places without cron / systemd timers)
# --------------------------------------------------------------------------------------------

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def make_trigger(every: str, at: str = "03:00", day: str = "mon", timezone: str | None = None) -> Any:
    """An APScheduler CronTrigger: ``hourly`` (at minute MM of ``at``), ``daily`` at HH:MM,
    ``weekly`` on ``day`` at HH:MM. :class:`ConfigError` for anything else."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        hh, mm = (int(x) for x in at.split(":"))
        if not (0 <= hh < 24 and 0 <= mm < 60):
            raise ValueError
    except ValueError:
        raise ConfigError(f"--at {at!r}: expected HH:MM (24-hour clock)") from None
    tz = timezone or _local_tz()
    if every == "hourly":
        return CronTrigger(minute=mm, timezone=tz)
    if every == "daily":
        return CronTrigger(hour=hh, minute=mm, timezone=tz)
    if every == "weekly":
        d = day.lower()[:3]
        if d not in _DAYS:
            raise ConfigError(f"--day {day!r}: expected one of {', '.join(_DAYS)}")
        return CronTrigger(day_of_week=d, hour=hh, minute=mm, timezone=tz)
    raise ConfigError(f"--every {every!r}: expected hourly, daily or weekly")


def _local_tz() -> Any:
    return dt.datetime.now().astimezone().tzinfo


def next_fire_times(trigger: Any, n: int = 3, now: dt.datetime | None = None) -> list[dt.datetime]:
    """The next ``n`` times ``trigger`` fires after ``now``."""
    now = now or dt.datetime.now(dt.UTC)
    out: list[dt.datetime] = []
    prev = None
    for _ in range(n):
        nxt = trigger.get_next_fire_time(prev, now)
        if nxt is None:
            break
        out.append(nxt)
        prev, now = nxt, nxt + dt.timedelta(seconds=1)
    return out


def cron_line(every: str, at: str = "03:00", day: str = "mon", config: str | Path = "configs/retrain.yaml",
              models: list[str] | None = None, log_file: str | Path = "logs/retrain.log",
              cwd: str | Path | None = None, executable: str | Path | None = None) -> str:
    """A crontab line that runs ``govml retrain --scheduled`` on the schedule ``govml schedule`` would keep.

    Written to work pasted as it is: cron starts jobs in ``HOME`` with ``PATH=/usr/bin:/bin`` and none of the
    user's variables, through ``sh``, and reads ``%`` as a line break. So the line ``cd``s into ``cwd`` (default:
    the current folder; relative data paths are read from there), calls this environment's ``govml`` by its
    absolute path, gives the config and the log file as absolute paths, creates the log's folder, quotes every
    path (spaces), escapes ``%``, and carries ``GOVML_HOME`` / ``MLFLOW_TRACKING_URI`` when they are set here (so
    the runs go to the store this shell sees). :class:`ConfigError` for a schedule :func:`make_trigger` refuses.
    """
    import shlex
    import sys

    make_trigger(every, at, day)  # the same checks and messages
    hh, mm = (int(x) for x in at.split(":"))
    fields = {"hourly": f"{mm} * * * *", "daily": f"{mm} {hh} * * *",
              "weekly": f"{mm} {hh} * * {(_DAYS.index(day.lower()[:3]) + 1) % 7}"}[every]
    base = Path(cwd).resolve() if cwd is not None else Path.cwd()
    if executable is None:
        script = Path(sys.executable).parent / ("govml.exe" if os.name == "nt" else "govml")
        executable = script if script.exists() else Path(sys.argv[0]).resolve()
    config, log_file = (p if Path(p).is_absolute() else base / p for p in (config, log_file))
    env = " ".join(f"{k}={shlex.quote(os.environ[k])}" for k in ("GOVML_HOME", "MLFLOW_TRACKING_URI")
                   if os.environ.get(k))
    cmd = [str(executable), "retrain", "--config", str(config), "--scheduled"]
    for m in models or []:
        cmd += ["--model", m]
    line = (f"cd {shlex.quote(str(base))} && mkdir -p {shlex.quote(str(Path(log_file).parent))} && "
            f"{env + ' ' if env else ''}{shlex.join(cmd)} >> {shlex.quote(str(log_file))} 2>&1")
    return f"{fields}  {line.replace('%', chr(92) + '%')}"


def retrain_command(config: str | Path, models: list[str] | None = None, dry_run: bool = False) -> list[str]:
    """The command one scheduled tick runs: this Python's ``govml retrain ... --scheduled``."""
    import sys

    cmd = [sys.executable, "-c", "import sys; sys.argv[0] = 'govml'; from govml.cli import main; main()",
           "retrain", "--config", str(config), "--scheduled"]
    for m in models or []:
        cmd += ["--model", m]
    if dry_run:
        cmd.append("--dry-run")
    return cmd


def scheduled_tick(config: str | Path, models: list[str] | None = None, dry_run: bool = False,
                   cwd: str | Path | None = None) -> int:
    """One tick of ``govml schedule``: run the retrain in a subprocess (GOVML_SCHEDULED=1); its exit code.

    A subprocess keeps the scheduler alive whatever the retrain does (a crash, a memory blow-up),
    and gives each retrain a fresh interpreter.
    """
    import subprocess

    env = {**os.environ, "GOVML_SCHEDULED": "1"}
    started = time.perf_counter()
    rc = subprocess.call(retrain_command(config, models, dry_run), env=env, cwd=cwd)
    log.info("scheduled retrain finished with exit code %s after %.0f s", rc, time.perf_counter() - started)
    return rc


def serve_schedule(trigger: Any, config: str | Path, models: list[str] | None = None,
                   on_tick: Callable[[int], None] | None = None, stop_after: int | None = None) -> int:
    """Run :func:`scheduled_tick` on ``trigger`` until interrupted (APScheduler BlockingScheduler),
    or until ``stop_after`` ticks; returns the number of ticks run.

    Ticks never overlap (``max_instances=1``; a tick missed while the previous one runs is
    coalesced into one), and the retrain lock guards against a cron job running at the same time.
    """
    from apscheduler.schedulers.blocking import BlockingScheduler

    config = Path(config).resolve()
    cwd = Path.cwd()
    ticks = [0]

    def job() -> None:
        rc = scheduled_tick(config, models, cwd=cwd)
        ticks[0] += 1
        if on_tick:
            on_tick(rc)
        if stop_after is not None and ticks[0] >= stop_after:
            sched.shutdown(wait=False)

    sched = BlockingScheduler(timezone=getattr(trigger, "timezone", None) or _local_tz())
    sched.add_job(job, trigger, id="govml-retrain", max_instances=1, coalesce=True,
                  misfire_grace_time=3600)
    sched.start()
    return ticks[0]


# --------------------------------------------------------------------------------------------
# Built-in adapters
# --------------------------------------------------------------------------------------------


def _check_params(params: Mapping[str, Any], estimator: Any, own: tuple[str, ...]) -> None:
    """TypeError naming a key of ``params:`` that neither the adapter (``own``) nor ``estimator`` takes — at
    construction, so that a misspelt key is a configuration error (exit 2) before anything is trained."""
    import inspect

    takes = [n for n in inspect.signature(estimator.__init__).parameters if n != "self"]
    unknown = [k for k in params if k not in takes]
    if unknown:
        close = difflib.get_close_matches(unknown[0], [*own, *takes], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise TypeError(f"unknown key(s) {', '.join(map(repr, unknown))}{hint}; the adapter takes "
                        f"{', '.join(own)}, {estimator.__name__} takes {', '.join(takes)}")


def _weeks_split(frame: Any, time_col: str, weeks: int) -> tuple[Any, Any]:
    import pandas as pd

    cut = frame[time_col].max() - pd.Timedelta(weeks=weeks)
    return frame[frame[time_col] <= cut], frame[frame[time_col] > cut]


class DemandClassifierAdapter:
    """The demand classifier (``govml.text.classify.DemandClassifier``) on labelled messages.

    Holdout: the last ``holdout_weeks`` weeks of labelled messages (by ``created_at``); metric:
    macro-F1 over the categories present in the holdout (a category the model never predicts
    scores 0). Logged with ``mlflow.sklearn`` (a masked ``text`` input example and a signature);
    other keyword arguments go to ``DemandClassifier``.
    """

    registered_name = tracking.REGISTERED_NAMES["demand-classifier"]
    metric = "macro_f1"
    greater_is_better = True
    time_col = "created_at"
    category_cols = ("category",)

    def __init__(self, holdout_weeks: int = 4, min_holdout: int = 30, min_per_class: int = 5,
                 **classifier_params: Any) -> None:
        from govml.text.classify import DemandClassifier

        _check_params(classifier_params, DemandClassifier, ("holdout_weeks", "min_holdout", "min_per_class"))
        self.holdout_weeks = holdout_weeks
        self.min_holdout = min_holdout
        self.min_per_class = min_per_class
        # YAML gives lists; scikit-learn's n-gram ranges must be tuples
        self.classifier_params = {k: tuple(v) if isinstance(v, list) else v for k, v in classifier_params.items()}

    def load_data(self, path: Path, mapping: Mapping[str, str], sheet: str | int | None = None,
                  encoding: str | None = None) -> Any:
        from govml import io

        frame = io.load(path, "messages", mapping=dict(mapping) or None, sheet=sheet, encoding=encoding)
        if "category" not in frame.columns:
            raise DataError(message=f"{path.name}: no 'category' column — the classifier needs labelled "
                                    "messages (map yours with mapping: {category: YOUR_COLUMN})")
        labelled = frame[frame["category"].notna() & frame["text"].notna()].reset_index(drop=True)
        labelled["category"] = labelled["category"].astype(str)
        return labelled

    def check_data(self, frame: Any) -> list[str]:
        problems = []
        counts = frame["category"].value_counts()
        if len(counts) < 2:
            problems.append(f"{len(counts)} labelled categor{'y' if len(counts) == 1 else 'ies'}; need at least 2")
        rare = counts[counts < self.min_per_class]
        if len(rare):
            problems.append(f"categories with fewer than {self.min_per_class} labelled messages: "
                            + ", ".join(f"{k} ({v})" for k, v in rare.items()))
        _, holdout = _weeks_split(frame, self.time_col, self.holdout_weeks)
        if len(holdout) < self.min_holdout:
            problems.append(f"only {len(holdout)} labelled messages in the last {self.holdout_weeks} weeks "
                            f"(min_holdout {self.min_holdout})")
        return problems

    def split(self, frame: Any) -> tuple[Any, Any]:
        return _weeks_split(frame, self.time_col, self.holdout_weeks)

    def train(self, frame: Any) -> Any:
        from govml.text.classify import DemandClassifier

        return DemandClassifier(**self.classifier_params).fit(
            frame["text"].to_numpy(dtype=object).tolist(), frame["category"].to_numpy(dtype=object).tolist())

    def evaluate(self, model: Any, holdout: Any) -> dict[str, float]:
        import numpy as np
        from sklearn.metrics import accuracy_score, f1_score

        y = holdout["category"].astype(str).to_numpy(dtype=object)
        pred = np.asarray(model.predict(holdout["text"].to_numpy(dtype=object).tolist()), dtype=object).astype(str)
        labels = sorted(set(y))
        return {"macro_f1": float(f1_score(y, pred, labels=labels, average="macro", zero_division=0)),
                "accuracy": float(accuracy_score(y, pred)), "holdout_rows": float(len(y))}

    def log_plots(self, model: Any, holdout: Any) -> None:
        """The challenger's confusion matrix on the holdout (rows: true category)."""
        import pandas as pd

        from govml import plots

        pred = [str(p) for p in model.predict(holdout["text"].to_numpy(dtype=object).tolist())]
        table = pd.crosstab(pd.Series(holdout["category"].astype(str).tolist(), name="true"),
                            pd.Series(pred, name="predicted"))
        fig = plots.heatmap(table, title="混淆矩阵 confusion matrix (holdout)", xlabel="predicted", ylabel="true")
        tracking.log_figure(fig, "confusion_matrix.png")
        import matplotlib.pyplot as plt

        plt.close(fig)

    def log_model(self, model: Any, frame: Any) -> str:
        import pandas as pd
        from mlflow.models import infer_signature

        example = tracking.mask_example(pd.DataFrame({"text": frame["text"].head(3).astype(str).tolist()}))
        preds = model.predict(example["text"].tolist())
        signature = infer_signature(example, pd.Series(list(preds), name="category").astype(str))
        return tracking.log_sklearn_model(model, input_example=example, signature=signature,
                                          extra_pip=("jieba", "rjieba"))

    def load_model(self, model_uri: str) -> Any:
        import mlflow.sklearn

        return mlflow.sklearn.load_model(model_uri)


class HotspotForecasterAdapter:
    """The hotspot forecaster (``govml.hotspot.forecast.HotspotForecaster``) on complaint events.

    Evaluation: a rolling-origin backtest over the last ``n_origins`` origins of the panel built
    from the new events (``govml.hotspot.backtest.run_backtest``): the model is *refitted* at each
    origin with its own parameters, so challenger and champion are compared as recipes on the
    same data and origins (a fitted forecaster carries its own history and cannot be scored on
    someone else's). Metric: RMSE (lower is better); MAE, WAPE and Poisson deviance logged too.
    The registered version is the challenger fitted on the whole new panel, logged as a pyfunc
    (input: a DataFrame with ``horizon``; output: the forecast frame). Other keyword arguments go
    to ``HotspotForecaster`` (e.g. ``n_estimators``, ``horizon``).
    """

    registered_name = tracking.REGISTERED_NAMES["hotspot-forecaster"]
    metric = "rmse"
    greater_is_better = False
    time_col = "created_at"
    category_cols = ("category",)

    def __init__(self, n_origins: int = 3, freq: str = "W", min_events: int = 200,
                 **forecaster_params: Any) -> None:
        from govml.hotspot.forecast import HotspotForecaster

        _check_params(forecaster_params, HotspotForecaster, ("n_origins", "freq", "min_events"))
        self.n_origins = n_origins
        self.freq = freq
        self.min_events = min_events
        self.forecaster_params = forecaster_params
        self._panels: dict[int, Any] = {}
        self._scores: dict[tuple[int, str], dict[str, float]] = {}

    def load_data(self, path: Path, mapping: Mapping[str, str], sheet: str | int | None = None,
                  encoding: str | None = None) -> Any:
        from govml import io
        from govml.hotspot.panel import clean_events

        raw = io.load(path, "events", mapping=dict(mapping) or None, sheet=sheet, encoding=encoding)
        events, excl = clean_events(raw, file=path.name)
        if excl.total:
            log.info("%s: %d event(s) set aside: %s", path.name, excl.total, "; ".join(excl.lines()))
        return events

    def check_data(self, frame: Any) -> list[str]:
        if len(frame) < self.min_events:
            return [f"only {len(frame)} usable events (min_events {self.min_events})"]
        return []

    def split(self, frame: Any) -> tuple[Any, Any]:
        # the backtest holds the last origins out by itself; the registered model sees everything
        return frame, frame

    def _panel(self, events: Any) -> Any:
        key = id(events)
        if key not in self._panels:
            from govml.hotspot.panel import build_panel

            self._panels[key] = build_panel(events, freq=self.freq)
        return self._panels[key]

    def train(self, frame: Any) -> Any:
        from govml.hotspot.forecast import HotspotForecaster

        return HotspotForecaster(**self.forecaster_params).fit(self._panel(frame))

    def evaluate(self, model: Any, holdout: Any) -> dict[str, float]:
        from sklearn.base import clone

        from govml.hotspot.backtest import run_backtest

        recipe = clone(model)
        key = (id(holdout), repr(sorted(recipe.get_params(deep=False).items())))
        if key not in self._scores:  # the same recipe on the same data scores the same: fit once
            first = not self._scores
            result = run_backtest(self._panel(holdout), {"model": recipe}, origins=self.n_origins,
                                  horizon=recipe.horizon)
            overall = result.overall().loc["model"]
            self._scores[key] = {k: float(overall[k]) for k in ("rmse", "mae", "wape", "poisson_deviance")
                                 if k in overall.index}
            if first:  # the challenger's per-origin metrics, one step per origin, and its curve
                for step, row in enumerate(result.per_origin.sort_values("origin").to_dict("records")):
                    tracking.log_metrics({f"backtest.{k}": row[k] for k in ("rmse", "mae") if k in row},
                                         step=step)
                self._last_predictions = result.predictions
        return dict(self._scores[key])

    def log_plots(self, model: Any, holdout: Any) -> None:
        """Backtest curve: total actual vs forecast complaints per target period (all origins)."""
        import matplotlib.pyplot as plt

        from govml import plots

        preds = getattr(self, "_last_predictions", None)
        if preds is None or preds.empty:
            return
        one = preds[preds["horizon"] == 1].groupby("period_start")[["y", "yhat"]].sum()
        plots.setup_cjk()
        fig, ax = plt.subplots(figsize=(7, 3.5))
        ax.plot(one.index, one["y"], marker="o", label="actual 实际")
        ax.plot(one.index, one["yhat"], marker="x", label="forecast h=1 预测")
        ax.set_title("backtest: complaints per period (all areas)")
        ax.legend()
        fig.autofmt_xdate()
        tracking.log_figure(fig, "backtest_curve.png")
        plt.close(fig)

    def log_model(self, model: Any, frame: Any) -> str:
        import pandas as pd
        from mlflow.models import infer_signature

        from govml.models import pyfunc_wrapper

        example = pd.DataFrame({"horizon": [int(model.horizon)]})
        out = model.predict(int(model.horizon)).head(5)
        with warnings.catch_warnings():  # 'horizon' is an integer that is never missing: MLflow's hint is noise
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer", category=UserWarning)
            signature = infer_signature(example, out)
            return tracking.log_pyfunc_model(pyfunc_wrapper(model, "forecaster"), input_example=example,
                                             signature=signature, extra_pip=("chinesecalendar",))

    def load_model(self, model_uri: str) -> Any:
        import mlflow.pyfunc

        inner = mlflow.pyfunc.load_model(model_uri).unwrap_python_model()
        return getattr(inner, "model", inner)
