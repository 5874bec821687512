"""`govml demo`: run every capability end to end on the sample data.

Each capability contributes one *step*: a function ``demo_step(ctx: DemoContext) -> list[Path]``
living in its own CLI module (``govml.cli.<wing>``). Steps are listed in :data:`STEPS` in the order
they run; a step may use outputs of earlier ones through ``ctx.outputs``.

Around the steps the demo is written for a first-time user (a new colleague on ``make demo``, a street
office's IT person on ``govml demo --samples THEIR_FOLDER``): it checks ``--only``, ``--samples`` and
``--reports`` before spending minutes, says what each step does and how far it is, keeps going when one
step fails (the failure is one line; the exit code says so at the end), and keeps the reports folder
honest: one demo at a time writes into it (a lock), each run's files are recorded in
``.govml-demo.json``, and what an earlier run wrote for a step is removed before that step runs again —
so a step skipped or failed now leaves nothing old behind that looks new. Files the demo did not
write are never touched.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

# (name, "module:function") in run order. A capability adds its line when it lands.
STEPS: list[tuple[str, str]] = [
    ("data", "govml.cli.data:demo_step"),
    ("demands", "govml.cli.demands:demo_step"),
    ("demands-alerts", "govml.cli.demands:demo_step_alerts"),
    ("hotspots", "govml.cli.hotspots:demo_step"),
    ("federated", "govml.cli.federated:demo_step"),
    ("skills", "govml.cli.skills:demo_step"),
    ("tracking", "govml.cli.retrain:demo_step"),
]

#: what each step does (printed before it runs) and where its figures are explained
ABOUT: dict[str, tuple[str, str]] = {
    "data": ("checks each input file as `govml validate` does: how it was read, every problem with its row and column",
             "README, \"Data formats accepted\""),
    "demands": ("top demands per community and month; trains the demand-category classifier (3-fold cross-validation) "
                "and classifies the messages", "README, \"Top demands and the category classifier\""),
    "demands-alerts": ("hot issues (messages about one thing, grouped) and early-warning alerts per community and week "
                       "(告警 alarm > 预警 warning > 关注 watch)",
                       "README, \"Hot issues (热点问题) and early warning (民情预警)\""),
    "hotspots": ("complaint hotspots: backtest of the forecaster against simple baselines (lower mae/rmse is better), "
                 "a forecast of the next weeks and heatmaps", "docs/hotspots.md"),
    "federated": ("three districts train the classifier and compare indicators together (an in-process simulation; "
                  "no raw row leaves a district)", "docs/federated.md"),
    "skills": ("community workers: scores, skill gaps, course plans under a 24-hour budget, a verified assessment log",
               "docs/skills.md"),
    "tracking": ("two scheduled-style retrains into the MLflow store: a new model is promoted only when it beats the "
                 "one in service", "README, \"Tracking and scheduled retraining\""),
}

#: the files of a samples folder the steps read (``govml samples --out DIR`` makes them all)
INPUT_FILES: tuple[str, ...] = ("messages.csv", "complaints.csv", "assessments.csv", "courses.csv")

#: steps that need at least one of these files in the samples folder: without any, the step is skipped without
#: being started (the tracking step would otherwise write its config, skip both retrains and look done)
STEP_INPUTS: dict[str, tuple[str, ...]] = {"tracking": ("messages.csv", "complaints.csv")}

#: other shapes of an input file the steps do not read (they read the CSV above)
_OTHER_SUFFIXES = (".xlsx", ".xls", ".tsv", ".txt", ".jsonl", ".parquet", ".csv.gz", ".tsv.gz")

MANIFEST = ".govml-demo.json"
LOCK = ".govml-demo.lock"


@dataclass
class DemoContext:
    samples_dir: Path
    reports_dir: Path
    tracking_uri: str | None
    seed: int = 0
    quick: bool = False
    outputs: dict[str, object] = field(default_factory=dict)
    #: step -> "ok", "skipped", "failed: …" or "interrupted", filled by :func:`run_demo`
    status: dict[str, str] = field(default_factory=dict)
    #: the prepared (checked, locked) reports folder; :func:`run_demo` prepares one when it is None
    folder: ReportsFolder | None = None
    #: every path :meth:`report_path` handed out (what the steps write; cleared by :func:`run_demo` per step)
    handed_out: list[Path] = field(default_factory=list)
    #: step -> why it did not do its work although it returned files (e.g. the tracking step wrote its config but
    #: every model was disabled): set by the step (:meth:`skip`); such a step is reported skipped, not ticked
    skipped: dict[str, str] = field(default_factory=dict)
    #: set by :func:`run_demo` on Ctrl-C: ``step`` (None: between steps), ``index``, ``of``, ``partial`` (its
    #: partial outputs removed), ``earlier`` (files of its earlier run removed before it started), ``done``
    #: (steps finished before it), ``not_run``
    interrupted: dict[str, Any] | None = None

    def skip(self, step: str, why: str) -> None:
        """Say that ``step`` did not do its work (``why``) even though it returns the files it wrote."""
        self.skipped[step] = why

    def report_path(self, *parts: str) -> Path:
        p = self.reports_dir.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        self.handed_out.append(p)
        return p

    def last_weeks(self, messages: Path, step: str, weeks: int = 26) -> Path:
        """``--quick``'s smaller message table: the rows of ``messages`` (a sample CSV with ``created_at``) from
        its last ``weeks`` weeks, written to ``reports/<step>/messages_last<weeks>w.csv``."""
        import pandas as pd

        from govml.io import atomic_path

        msgs = pd.read_csv(messages, dtype=str)
        when = pd.to_datetime(msgs["created_at"], errors="coerce")
        out = self.report_path(step, f"messages_last{weeks}w.csv")
        with atomic_path(out) as tmp:
            msgs[when > when.max() - pd.Timedelta(weeks=weeks)].to_csv(tmp, index=False)
        return out


def step_names() -> list[str]:
    return [name for name, _ in STEPS]


def check_only(only: list[str] | None) -> list[str] | None:
    """``--only`` as given, or a :class:`GovmlError` naming an unknown step (and the one meant, when close)."""
    from govml.errors import GovmlError

    if not only:
        return None
    names = step_names()
    for name in only:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            raise GovmlError(f"--only {name!r}: no such demo step"
                             + (f" (did you mean {close[0]!r}?)" if close else "")
                             + f"; the steps are: {', '.join(names)}")
    return list(only)


def _debug() -> bool:
    if os.environ.get("GOVML_DEBUG", "") not in ("", "0"):
        return True
    try:
        from govml.cli import _state
    except ImportError:  # pragma: no cover - the package is always there
        return False
    return bool(_state.get("debug"))


def _size_ok(p: Path) -> bool:
    """A written output is there and not empty (a folder: holds at least one non-empty file)."""
    if p.is_dir():
        return any(f.is_file() and f.stat().st_size > 0 for f in p.rglob("*"))
    return p.is_file() and p.stat().st_size > 0


def _rel(p: Path, root: Path) -> str:
    try:
        return str(p.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(p)


# ---------------------------------------------------------------------------------------------------
# the reports folder: lock, manifest of what each step wrote


class ReportsFolder:
    """The ``--reports`` folder of one demo run: checked writable, locked against a second demo, and with
    a record (``.govml-demo.json``) of the files each step wrote."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock_fd: int | None = None
        self.steps: dict[str, dict[str, Any]] = {}

    # checks before any step runs ------------------------------------------------------------------
    def prepare(self) -> None:
        from govml.errors import GovmlError
        from govml.io import probe_writable

        root = self.root
        if root.exists() and not root.is_dir():
            raise GovmlError(f"--reports {root}: this is a file, not a folder; pass a folder (it is made if missing)")
        try:
            probe_writable(root)
        except OSError as exc:
            raise GovmlError(f"--reports {root}: cannot write there ({exc.strerror or type(exc).__name__}"
                             + (f": {exc.filename}" if exc.filename and str(exc.filename) != str(root) else "")
                             + "); pass --reports with a folder you can write to") from exc
        self._take_lock()
        self.steps = self._read_manifest()

    def _take_lock(self) -> None:
        from govml.errors import GovmlError

        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on POSIX: no lock
            return
        path = self.root / LOCK
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = ""
            with contextlib.suppress(OSError, ValueError):
                holder = os.read(fd, 200).decode("utf-8", "replace").strip()
            os.close(fd)
            raise GovmlError(f"--reports {self.root}: another govml demo is writing into this folder"
                             + (f" ({holder})" if holder else "")
                             + "; wait for it to finish, or pass another --reports") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}, started {datetime.now().astimezone():%Y-%m-%d %H:%M:%S}".encode())
        self._lock_fd = fd

    def release(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    def _read_manifest(self) -> dict[str, dict[str, Any]]:
        path = self.root / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            steps = data.get("steps", {})
            return {str(k): dict(v) for k, v in steps.items() if isinstance(v, dict)}
        except (OSError, ValueError, AttributeError):
            return {}

    def _write_manifest(self) -> None:
        from govml.io import atomic_path

        data = {"note": "written by `govml demo`: the files each step wrote in its last run (paths relative to "
                        "this folder); the demo removes a step's files before running it again",
                "steps": self.steps}
        with contextlib.suppress(OSError), atomic_path(self.root / MANIFEST) as tmp:
            tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")

    # around each step -----------------------------------------------------------------------------
    def clear_step(self, name: str) -> list[str]:
        """Remove the files the last run of step ``name`` wrote (only those, only inside this folder)."""
        old = self.steps.pop(name, None) or {}
        removed = []
        root = self.root.resolve()
        for rel in old.get("files", []):
            p = (root / rel).resolve()
            if root not in p.parents or not p.is_file():
                continue
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(rel)
        self.steps[name] = {"status": "running", "started": datetime.now().astimezone().isoformat(timespec="seconds"),
                            "files": []}
        self._write_manifest()
        return removed

    def record(self, name: str, status: str, paths: list[Path]) -> None:
        files: list[str] = []
        for p in paths:  # a folder output: every file in it
            for f in ([p] if p.is_file() else sorted(p.rglob("*")) if p.is_dir() else []):
                if f.is_file() and _rel(f, self.root) not in files:
                    files.append(_rel(f, self.root))
        entry = self.steps.get(name, {})
        entry.update(status=status, finished=datetime.now().astimezone().isoformat(timespec="seconds"),
                     files=files)
        self.steps[name] = entry
        self._write_manifest()

    def older_files(self, since: float, skip: set[str], limit: int = 5000) -> list[str]:
        """Files under the folder not modified since ``since`` (this run's start), leaving out ``skip`` (recorded
        files of steps not run now), hidden files and the MLflow store; at most ``limit`` files are looked at."""
        from govml import tracking

        store = (tracking.home() / "mlruns").resolve()
        out: list[str] = []
        seen = 0
        for dirpath, dirnames, filenames in os.walk(self.root):
            d = Path(dirpath)
            dirnames[:] = [n for n in dirnames if not n.startswith(".") and (d / n).resolve() != store]
            for n in filenames:
                seen += 1
                if seen > limit:
                    return out
                if n.startswith("."):
                    continue
                p = d / n
                rel = _rel(p, self.root)
                with contextlib.suppress(OSError):
                    if rel not in skip and p.stat().st_mtime < since:
                        out.append(rel)
        return sorted(out)


# ---------------------------------------------------------------------------------------------------
# the run


def _remove_partial(handed_out: list[Path], since: float) -> int:
    """Remove what a step that failed or was interrupted wrote (the paths it asked :meth:`DemoContext.report_path`
    for, files written since ``since``): its outputs would be incomplete. Returns how many files were removed."""
    n = 0
    for p in dict.fromkeys(handed_out):
        for f in ([p] if p.is_file() else list(p.rglob("*")) if p.is_dir() else []):
            with contextlib.suppress(OSError):
                if f.is_file() and f.stat().st_mtime >= since - 1:
                    f.unlink()
                    n += 1
    return n


def _fmt_s(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def run_demo(ctx: DemoContext, only: list[str] | None = None) -> dict[str, list[Path]]:
    """Run the steps (all, or those in ``only``) in order; returns step -> the files it wrote ([] when it was
    skipped or failed). A step that fails is reported in one line and ``ctx.status[step]`` says why; the others
    still run. Ctrl-C removes what the interrupted step had written so far and stops."""
    from rich.console import Console
    from rich.markup import escape

    from govml.errors import GovmlError

    console = Console()
    only = check_only(only)
    folder = ctx.folder
    own_folder = folder is None
    if folder is None:
        folder = ReportsFolder(ctx.reports_dir)
        folder.prepare()
    written: dict[str, list[Path]] = {}
    selected = [(n, t) for n, t in STEPS if not only or n in only]
    t_start = time.perf_counter()
    current: tuple[int, str] | None = None  # the step running now (index, name)
    removed: list[str] = []
    try:
        for i, (name, target) in enumerate(selected, 1):
            current, removed = (i, name), []
            needs = STEP_INPUTS.get(name)
            if needs and not any((Path(ctx.samples_dir) / f).is_file() for f in needs):
                console.rule(f"[bold]demo {i}/{len(selected)}: {name}")
                removed = folder.clear_step(name)
                ctx.status[name] = "skipped"
                written[name] = []
                folder.record(name, "skipped", [])
                console.print(f"[yellow]– {name} skipped[/]: it needs {' or '.join(needs)}, not in {ctx.samples_dir}"
                              + (f" (removed {len(removed)} file(s) it wrote in an earlier run)" if removed else ""),
                              highlight=False)
                current = None
                continue
            module_name, func_name = target.split(":")
            func = getattr(importlib.import_module(module_name), func_name)
            what = ABOUT.get(name, ("", ""))[0]
            console.rule(f"[bold]demo {i}/{len(selected)}: {name}")
            if what:
                console.print(what, highlight=False, markup=False)
            removed = folder.clear_step(name)
            if removed:
                console.print(f"(removed {len(removed)} file(s) this step wrote in an earlier run)", highlight=False)
            ctx.handed_out = []
            t0 = time.perf_counter()
            wall0 = time.time()
            try:
                paths = [Path(p) for p in (func(ctx) or [])]
            except KeyboardInterrupt:
                ctx.status[name] = "interrupted"
                n = _remove_partial(ctx.handed_out, wall0)
                folder.record(name, "interrupted", [])
                ctx.interrupted = {"step": name, "index": i, "of": len(selected), "partial": n,
                                   "earlier": len(removed)}
                console.print(f"[bold red]✗ {name} interrupted[/] after {_fmt_s(time.perf_counter() - t0)}"
                              + (f"; its {n} partial output(s) removed" if n else "")
                              + "; steps finished before it keep their outputs; run the demo again to redo it",
                              highlight=False)
                raise
            except Exception as exc:  # noqa: BLE001 — one failing step must not hide the others
                if _debug():
                    raise
                kind = "error" if isinstance(exc, GovmlError) else \
                    f"internal error: {type(exc).__name__} (a bug in govml; rerun with --debug for the traceback)"
                hint = ""
                if "--map" in str(exc) or "--profile" in str(exc):
                    hint = ("\n  `govml demo` takes no --map or --profile: rename the file's columns to govml's names "
                             "(README, \"Data formats accepted\"), or run the capability's own command on it, which "
                             "takes them (`govml --help`)")
                ctx.status[name] = f"failed: {exc}"
                written[name] = []
                n = _remove_partial(ctx.handed_out, wall0)
                folder.record(name, "failed", [])
                console.print(f"[bold red]✗ {name} failed[/] ({_fmt_s(time.perf_counter() - t0)}) — "
                              + escape(f"{kind}: {exc}" + (f" (its {n} partial output(s) removed)" if n else "")
                                       + hint),
                              highlight=False, soft_wrap=True)
                continue
            written[name] = paths
            took = _fmt_s(time.perf_counter() - t0)
            current = None
            if not paths or name in ctx.skipped:
                ctx.status[name] = "skipped"
                folder.record(name, "skipped", paths + ctx.handed_out)  # what it wrote is removed on the next run
                why = ctx.skipped.get(name) or f"its input is not in {ctx.samples_dir}"
                console.print(f"[yellow]– {name} skipped[/] ({took}): {why}"
                              + (f" (wrote {len(paths)} file(s): {', '.join(_rel(p, ctx.reports_dir) for p in paths)})"
                                 if paths else ""), highlight=False)
                continue
            bad = [p for p in paths if not _size_ok(p)]
            ctx.status[name] = "ok" if not bad else "failed: missing or empty: " + ", ".join(map(str, bad))
            folder.record(name, "ok" if not bad else "failed", paths + ctx.handed_out)
            console.print(f"[green]✓[/] {name} ({took}; {_fmt_s(time.perf_counter() - t_start)} so far) — "
                          f"{len(paths)} output(s) in {ctx.reports_dir}", highlight=False)
            for p in bad:
                console.print(f"[bold red]  {p}: said written, but missing or empty[/]", highlight=False)
    except KeyboardInterrupt:
        if ctx.interrupted is None:  # between two steps, or while one was being set up
            ctx.interrupted = {"step": current[1] if current else None, "index": current[0] if current else None,
                               "of": len(selected), "partial": 0, "earlier": len(removed) if current else 0}
        ctx.interrupted.update(done=[n for n, s in ctx.status.items() if s != "interrupted"],
                               not_run=[n for n, _ in selected if n not in ctx.status and n != ctx.interrupted["step"]])
        raise
    finally:
        if own_folder:
            folder.release()
    return written


def interrupted_line(ctx: DemoContext | None, stage: str = "steps") -> str:
    """The demo's last line after Ctrl-C: the step it stopped in, what was removed, what is left as it was.
    ``stage``: ``"before"`` (no step had started), ``"steps"`` (:func:`run_demo` filled ``ctx.interrupted``) or
    ``"after"`` (every step had finished; the summary was being printed)."""
    if stage == "before" or ctx is None:
        return "demo interrupted (Ctrl-C) before its first step: nothing was written or removed"
    info = ctx.interrupted
    if stage == "after" or not info:
        return "demo interrupted (Ctrl-C) after its last step: every step's outputs are in place; the summary was not shown"
    step = info.get("step")
    if step:
        removed = []
        if info.get("partial"):
            removed.append(f"its {info['partial']} partial output(s)")
        if info.get("earlier"):
            removed.append(f"the {info['earlier']} file(s) it wrote in an earlier run")
        where = (f"in step {step} ({info['index']}/{info['of']}); removed: "
                 + (" and ".join(removed) if removed else "nothing (it had written nothing yet)"))
    else:
        where = "between two steps; nothing removed"
    done, not_run = info.get("done") or [], info.get("not_run") or []
    return (f"demo interrupted (Ctrl-C) {where}; "
            + (f"finished before it, outputs kept: {', '.join(done)}; " if done else "")
            + (f"not run: {', '.join(not_run)}; " if not_run else "")
            + (f"`govml demo --only {step}` redoes it" if step else "run `govml demo` again to finish"))


# ---------------------------------------------------------------------------------------------------
# the command


def _project_samples() -> Path | None:
    """The project's data_samples/ (an editable install or a source checkout), when it is there."""
    p = Path(__file__).resolve().parents[3] / "data_samples"
    return p if p.is_dir() else None


def _resolve_samples(samples: Path | None) -> tuple[Path, str | None]:
    """The samples folder and, when the default was not in the current folder, a note saying which one is used."""
    from govml.errors import GovmlError

    if samples is None:
        here = Path("data_samples")
        if here.is_dir():
            return here, None
        project = _project_samples()
        if project is not None:
            return project, (f"no data_samples/ in the current folder ({Path.cwd()}): using the project's, "
                             f"{project}")
        raise GovmlError(f"data_samples: sample-data folder not found in {Path.cwd()} (run from the project root, "
                         "or pass --samples; `govml samples --out DIR` makes one)")
    if samples.is_file():
        raise GovmlError(f"--samples {samples}: this is a file; pass the folder that holds "
                         f"{', '.join(INPUT_FILES)} (any of them)")
    if not samples.is_dir():
        raise GovmlError(f"--samples {samples}: sample-data folder not found (run from the project root, "
                         "or pass --samples; `govml samples --out DIR` makes one)")
    return samples, None


def input_notes(samples: Path) -> tuple[list[str], list[str]]:
    """(input files present, one line per thing worth saying about the folder's files)."""
    present = [n for n in INPUT_FILES if (samples / n).is_file()]
    notes = []
    for n in INPUT_FILES:
        if n in present:
            continue
        stem = n[: -len(".csv")]
        others = sorted(p.name for p in samples.iterdir() if p.is_file() and p.name.lower() in
                        {stem + s for s in _OTHER_SUFFIXES})
        if others:
            notes.append(f"{others[0]} is not read by the demo (it reads {n}): save it as {n} (UTF-8 or GBK CSV) — "
                         f"`govml validate {samples / others[0]} --kind {_KIND[n]}` checks it first")
    return present, notes


_KIND = {"messages.csv": "messages", "complaints.csv": "events", "assessments.csv": "assessments",
         "courses.csv": "courses"}


def _store_line() -> str:
    from govml import tracking

    if not tracking.is_embedded():
        return f"MLflow: {tracking.tracking_uri()} (MLFLOW_TRACKING_URI)"
    home = os.environ.get("GOVML_HOME")
    return (f"MLflow store: {tracking.home() / 'mlruns'} ("
            + (f"GOVML_HOME={home}" if home else "GOVML_HOME not set: the current folder") + ")")


def _check_store() -> None:
    """The embedded MLflow store's folder can be written (else every step would fail on its run record)."""
    from govml import tracking
    from govml.errors import GovmlError
    from govml.io import probe_writable

    if not tracking.is_embedded():
        return
    store = tracking.home() / "mlruns"
    try:
        probe_writable(store)
    except OSError as exc:
        raise GovmlError(f"the MLflow store folder {store} cannot be written ({exc.strerror or type(exc).__name__}); "
                         "set GOVML_HOME to a folder you can write to (the store goes in its mlruns/)") from exc


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        samples: Path = typer.Option(None, help="Folder with the sample data (messages.csv, complaints.csv, "
                                     "assessments.csv, courses.csv; any of them). Default: ./data_samples, else "
                                     "the project's."),
        reports: Path = typer.Option(Path("reports"), help="Where the demo writes its outputs."),
        only: list[str] = typer.Option(None, "--only", help="Run only these steps (repeatable): "
                                       + ", ".join(step_names()) + "."),
        quick: bool = typer.Option(False, help="Smaller settings (fewer rounds/origins) for a fast check."),
        seed: int = typer.Option(0, help="Random seed."),
    ) -> None:
        """Run every capability end to end on the sample data; outputs go under reports/."""
        from rich.console import Console

        console = Console()
        state: dict[str, Any] = {"ctx": None, "stage": "before"}
        try:
            _demo(console, state, samples, reports, only, quick, seed)
        except KeyboardInterrupt:  # typer would exit 130 without a word: say where it stopped and what was removed
            console.print(f"[bold red]{interrupted_line(state['ctx'], state['stage'])}[/]", highlight=False,
                          soft_wrap=True)
            raise typer.Exit(130) from None


def _demo(console: Any, state: dict[str, Any], samples: Path | None, reports: Path, only: list[str] | None,
          quick: bool, seed: int) -> None:
    """The demo command's body; ``state`` says how far it got (``ctx``, ``stage``) for the Ctrl-C line."""
    from rich.table import Table

    from govml.errors import GovmlError

    only = check_only(only)
    samples_dir, note = _resolve_samples(samples)
    present, notes = input_notes(samples_dir)
    if not present:
        raise GovmlError(f"--samples {samples_dir}: none of {', '.join(INPUT_FILES)} is in this folder"
                         + ("; " + "; ".join(notes) if notes else "")
                         + " (`govml samples --out DIR` makes a sample folder)")
    _check_store()
    folder = ReportsFolder(reports)
    folder.prepare()
    try:
        n_steps = len(only) if only else len(STEPS)
        console.print(f"govml demo: {n_steps} step(s) on {samples_dir.resolve()}"
                      + (f" (found: {', '.join(present)})" if len(present) < len(INPUT_FILES) else ""),
                      highlight=False, soft_wrap=True)
        for line in ([note] if note else []) + notes:
            console.print(f"[yellow]note:[/] {line}", highlight=False, soft_wrap=True)
        console.print(f"outputs: {reports.resolve()};  {_store_line()}", highlight=False, soft_wrap=True)
        if not only:
            console.print("This takes about 3–4 minutes of CPU time — about 3 minutes on a quiet 2-core machine, up "
                          "to half an hour on a busy one (--quick does less); each step says when it is done.",
                          highlight=False, soft_wrap=True)
        ctx = DemoContext(samples_dir=samples_dir, reports_dir=reports,
                          tracking_uri=os.environ.get("MLFLOW_TRACKING_URI"), seed=seed, quick=quick,
                          folder=folder)
        t0 = time.time()
        state.update(ctx=ctx, stage="steps")
        written = run_demo(ctx, only=only)
        state["stage"] = "after"
        not_run = {n for n, _ in STEPS if n not in written}
        skip = {f for n in not_run for f in folder.steps.get(n, {}).get("files", [])}
        older = folder.older_files(t0, skip)
    finally:
        folder.release()

    table = Table(title="govml demo — outputs")
    table.add_column("step")
    table.add_column("result")
    table.add_column("written (under " + str(reports) + ")")
    table.add_column("what it is / read more")
    for name, paths in written.items():
        status = ctx.status.get(name, "ok")
        result = "ok" if status == "ok" else status.split(":")[0]
        files = "\n".join(_rel(p, reports) for p in paths) or "-"
        table.add_row(name, result, files, ABOUT.get(name, ("", ""))[1])
    console.print(table)
    earlier = [n for n, _ in STEPS if n in not_run and folder.steps.get(n, {}).get("status") == "ok"]
    if earlier:
        console.print("Left from an earlier run (not run now): " + ", ".join(
            f"{n} ({folder.steps[n].get('finished', '?')})" for n in earlier), highlight=False, soft_wrap=True)
    older = [f for f in older if f not in skip]
    if older:
        console.print(f"[yellow]{len(older)} file(s) under {reports} were not written by this run[/] "
                      f"(an older demo or another program): {', '.join(older[:5])}"
                      + (" …" if len(older) > 5 else "") + f" — delete {reports} first for a clean folder",
                      highlight=False, soft_wrap=True)
    console.print(f"All outputs are under [bold]{reports.resolve()}[/]")
    console.print("Next: your own files — `govml validate FILE --kind messages|events|assessments|courses` "
                  "(README, \"Data formats accepted\"), then `govml demo --samples YOUR_FOLDER` with them named "
                  f"{', '.join(INPUT_FILES)}; the runs — `{_mlflow_exe()} ui --backend-store-uri "
                  f"{_ui_uri()}`; every command — `govml --help`.", highlight=False, soft_wrap=True)
    failed = [n for n, s in ctx.status.items() if s.startswith("failed")]
    if failed:
        raise GovmlError(f"demo finished with {len(failed)} failed step(s): {', '.join(failed)} (see above); "
                         "the other steps' outputs are in place")


def _mlflow_exe() -> str:
    """``mlflow`` of the environment govml runs in (``.venv/bin/mlflow`` after ``make demo``), else plain ``mlflow``."""
    import sys

    exe = Path(sys.executable).parent / "mlflow"
    return str(exe) if exe.is_file() else "mlflow"


def _ui_uri() -> str:
    from govml import tracking

    return tracking.tracking_uri()
