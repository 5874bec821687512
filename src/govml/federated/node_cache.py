"""A district's run cache on its own machine: the table read once per run, the run's state kept between messages.

In a deployment Flower 1.42's SuperNode starts one ``flwr-clientapp`` process per message (its SuperExec,
``--isolation subprocess``, the default), so the ClientApp's module memory is empty at every message: at
session 15 each message read and validated the district's file again (~1.2 s CPU for a 30,000-row CSV, ~2.2 s
for the same as .xlsx), and the hotspot forecaster's boosting state (its rows' bins, the predictions so far,
the level candidates, the backtest forecasts kept for scoring) was lost between messages, so a deployed
forecaster run stopped at its first histogram round ("boosting asked for histograms before the base round").
Flower keeps ``context.state`` per run in the SuperNode, but govml puts no record of the table there (it
travels to every app process and stays in the SuperNode's memory after the run).

:class:`RunStore` keeps them in a folder of the district's own machine (never sent anywhere):

- **where**: ``<cache-dir>/run-<run id>-node-<node id>/``; ``cache-dir`` is a node config key (default:
  ``$XDG_CACHE_HOME/govml/federated``, else ``~/.cache/govml/federated``; ``cache-dir="off"``: no cache, each
  message reads the table again and the forecaster cannot run in a deployment);
- **permissions**: the folders 0700, the files 0600, checked to belong to the SuperNode's user (a cache folder
  of another user, or a symbolic link, is refused: its pickles would run that user's code);
- **keyed by** the run and node ids and, per entry, the task, the columns the task reads (its indicators),
  the table's settings (path, sheet, encoding, mapping) and what the entry is (the table, the classifier's
  rows, the forecaster's state); the table's file is fingerprinted (absolute path, size, mtime);
- **what**: the benchmark's and the forecaster's validated table (only the columns the task uses), the
  forecaster's boosting state; for the demand classifier **no message text** (since session 18): per row its
  hashed features (the run's ``n-features``), its category and its two split hashes, and the rows set aside
  (counts, columns, file row numbers) — :func:`govml.federated.client_app._classifier_state`;
- **one version per run**: the table is read once, at the run's first message that needs it (hello), and every
  later message of the run uses that copy; a file changed during the run is not read again — the district's
  log says so once, and the next run reads the new file;
- **removed** when the run ends (the coordinator's ``query.done``: completed, failed or this district left
  out), and, for a run that never said so (the coordinator's machine stopped), by the next run's hello on this
  machine once it is :data:`STALE_HOURS` old.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import shutil
import stat
import tempfile
import time
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

from govml.errors import ConfigError

log = logging.getLogger(__name__)

STALE_HOURS = 24.0  # a run folder untouched this long belongs to a run that ended without query.done
OFF = ("off", "none", "false", "no", "0")
# whose folder the cache is: the ClientApp's process user (flower-superexec's under --isolation process)
_WHO = "the user the ClientApp runs as (the SuperNode's; under --isolation process, flower-superexec's)"


def cache_root(node_config: Mapping[str, Any]) -> Path | None:
    """The node's cache folder (not created here); None when the node config turns the cache off."""
    value = node_config.get("cache-dir")
    if value is not None and str(value).strip().lower() in OFF:
        return None
    if value is not None and str(value).strip():
        return Path(str(value).strip()).expanduser().absolute()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser().absolute() / "govml" / "federated"


def private_dir(path: Path) -> Path:
    """``path`` as a folder only this user can open (made 0700 if missing; tightened if it is ours)."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = os.lstat(path)
    except OSError as exc:
        raise ConfigError(f"node config cache-dir: {str(path)!r} cannot be made ({exc.strerror or exc}); name a "
                          f"folder {_WHO} can write, or cache-dir=\"off\"") from None
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"node config cache-dir: {str(path)!r} is not a folder (a link or a file); "
                          f"name a folder of {_WHO}, or cache-dir=\"off\"")
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise ConfigError(f"node config cache-dir: {str(path)!r} belongs to another user; name a folder of "
                          f"{_WHO}, or cache-dir=\"off\"")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def file_fingerprint(path: str) -> dict[str, Any]:
    """What says a table file changed: its absolute path, size and modification time (ns)."""
    p = Path(str(path)).expanduser().absolute()
    try:
        st = p.stat()
    except OSError:
        return {"path": str(p), "size": None, "mtime_ns": None}
    return {"path": str(p), "size": int(st.st_size), "mtime_ns": int(st.st_mtime_ns)}


def _entry_name(key: tuple) -> str:
    kind = str(key[2]).split("-")[0] if len(key) > 2 else "entry"
    kind = "".join(c for c in kind if c.isalnum()) or "entry"
    return f"{kind}-{hashlib.sha256(repr(key).encode()).hexdigest()[:24]}.pkl"


class RunStore:
    """The cache of one run on one node (see the module docstring)."""

    def __init__(self, root: Path, run_id: int, node_id: int) -> None:
        self.root = root
        self.folder = root / f"run-{int(run_id)}-node-{int(node_id)}"
        self.touched: dict[tuple, Any] = {}  # mutable entries used by this message: written back at its end
        self.reads = 0  # entries loaded from disk by this message
        self.writes = 0

    @classmethod
    def for_context(cls, node_config: Mapping[str, Any], run_id: int, node_id: int) -> RunStore | None:
        root = cache_root(node_config)
        return None if root is None else cls(root, run_id, node_id)

    def _ready(self) -> Path:
        private_dir(self.root)
        return private_dir(self.folder)

    def get(self, key: tuple) -> tuple[bool, Any]:
        """(found, value) of ``key`` in this run's folder."""
        path = self.folder / _entry_name(key)
        if not path.is_file():
            return False, None
        self._ready()  # the folder is still ours and private before its pickles are trusted
        with open(path, "rb") as fh:
            stored_key, value = pickle.load(fh)  # noqa: S301 - written by this user into a 0700 folder
        if stored_key != key:  # a hash collision (never seen): rebuild
            return False, None
        self.reads += 1
        return True, value

    def put(self, key: tuple, value: Any) -> None:
        folder = self._ready()
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)  # 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump((key, value), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, folder / _entry_name(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.writes += 1

    def touch(self, key: tuple, value: Any) -> None:
        """A mutable entry (the forecaster's state) used by this message: written back by :meth:`flush`."""
        self.touched[key] = value

    def flush(self) -> None:
        for key, value in self.touched.items():
            self.put(key, value)
        self.touched.clear()

    def discard(self, key: tuple) -> None:
        (self.folder / _entry_name(key)).unlink(missing_ok=True)

    def remove(self) -> bool:
        """Delete this run's folder (the run ended); True when there was one."""
        if not self.folder.exists():
            return False
        shutil.rmtree(self.folder, ignore_errors=True)
        return True

    def sweep(self, max_age_hours: float = STALE_HOURS) -> list[str]:
        """Delete the folders of other runs untouched for ``max_age_hours`` (ended without query.done)."""
        if not self.root.is_dir():
            return []
        gone, limit = [], time.time() - max_age_hours * 3600
        for d in self.root.glob("run-*-node-*"):
            if d == self.folder or not d.is_dir() or d.is_symlink():
                continue
            newest = max([d.stat().st_mtime, *(f.stat().st_mtime for f in d.iterdir() if f.is_file())])
            if newest < limit:
                shutil.rmtree(d, ignore_errors=True)
                gone.append(d.name)
        return gone


def entry_key(run_id: int, node_id: int, *parts: Hashable) -> tuple:
    return (int(run_id), int(node_id), *parts)
