"""What a district loads, checks and keeps local — shared by the ClientApp, the simulator and tests.

A district's settings come from its Flower ``node_config`` (deployment: ``flower-supernode
--node-config 'data-path="..." district="..." mapping="{...}"'``; simulation: written by
:func:`govml.federated.simulation.simulate`):

``data-path``  its own table (CSV / Excel / Parquet / JSONL; read with :func:`govml.io.read_table`);
               ``<task>-path`` (e.g. ``benchmark-path``, ``demand-classifier-path``) overrides it
               for one task, so one SuperNode can serve every task
``district``   its public name (the only text a district ever sends: in its hello reply); without it the
               file's name (said in the district's log); two SuperNodes with one name are both left out
``mapping``    ``canonical=their column`` pairs, ``mapping="community=社区,text=留言详情"``, a ``[mapping]``
               table in a node config ``.toml`` file, or a JSON object (optional; :func:`parse_mapping`)
``encoding``   the table's text encoding when detection is not wanted (optional, as ``--encoding``)
``sheet``      an Excel sheet name or number, or ``all`` (one sheet per month read as one table; optional;
               without it the sheet naming the task's columns)
``output-dir`` where the district writes what it learns (standings, forecasts; optional; checked at hello)

``<task>-mapping``, ``<task>-sheet`` and ``<task>-encoding`` go with ``<task>-path``.

Under Flower's own simulation engine the node config holds only ``partition-id``; the run config
key ``sim-manifest`` then names a JSON list of node configs, one per partition.

The server's settings come from ``run_config`` (see ``[tool.flwr.app.config]`` in pyproject.toml).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govml.errors import DataError, FederatedError, Problem

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

TASKS = ("demand-classifier", "benchmark", "hotspot-forecaster")

# Error codes a district's reply carries when it cannot take part (Flower's own codes are < 1000).
DATA_ERROR = 4100
CONFIG_ERROR = 4101
TASK_ERROR = 4102

COMPLAINT_RATE = "complaints_per_week"


class _ToFlower(logging.Handler):
    """Hands govml's log records to Flower's logger ("flwr"), whose console handler is what a SuperNode's
    console and `flwr run --stream` / `flwr log` show."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            logging.getLogger("flwr").log(record.levelno, "govml: %s", record.getMessage())
        except Exception:  # never let logging break a district's reply
            self.handleError(record)


def route_logs_to_flower() -> None:
    """In a deployment's app processes (``flwr-serverapp``, ``flwr-clientapp``) govml's log lines — why a
    district was left out, the rows it set aside, which sheet was read, where the result went — reach the
    people who run them. Flower configures only its own logger there: govml's info lines were dropped and its
    warnings printed without a prefix by Python's last resort. The federated wing logs from INFO, the rest of
    govml from WARNING. Simulations never call this (their callers set up logging); records still propagate.
    Idempotent."""
    top, lg = logging.getLogger("govml"), logging.getLogger("govml.federated")
    if not any(isinstance(h, _ToFlower) for h in top.handlers):
        top.addHandler(_ToFlower())
        if lg.getEffectiveLevel() > logging.INFO:
            lg.setLevel(logging.INFO)


def flag(cfg: Mapping[str, Any], key: str, default: bool) -> bool:
    """A run-config switch: a bool, or its spelling in a string (``flwr run --run-config`` / the CLI may give
    ``"false"``, which ``bool()`` would read as on). Server and clients read every switch through this."""
    v = cfg.get(key, default)
    return v if isinstance(v, bool) else str(v).strip().lower() in ("1", "true", "yes", "on")


def choice(cfg: Mapping[str, Any], key: str, default: str, allowed: tuple[str, ...]) -> str:
    """A run-config word among ``allowed`` (case and surrounding spaces ignored; missing or empty: ``default``);
    anything else is a :class:`govml.errors.ConfigError` naming the key and the allowed words."""
    from govml.errors import ConfigError

    v = cfg.get(key)
    word = default if v is None or str(v).strip() == "" else str(v).strip().lower()
    if word not in allowed:
        raise ConfigError(f"run config {key} must be {' or '.join(allowed)}, got {v!r}")
    return word


def node_settings(node_config: Mapping[str, Any], run_config: Mapping[str, Any]) -> dict[str, Any]:
    """This district's settings, also under Flower's simulation engine (``partition-id`` only)."""
    cfg = dict(node_config)
    if "data-path" not in cfg and "partition-id" in cfg and run_config.get("sim-manifest"):
        manifest = json.loads(Path(str(run_config["sim-manifest"])).read_text(encoding="utf-8"))
        pid = int(cfg["partition-id"])
        if not 0 <= pid < len(manifest):
            raise FederatedError(f"partition-id {pid} is not in the simulation manifest ({len(manifest)} districts)")
        cfg.update(manifest[pid])
    task = str(run_config.get("task", "") or "")
    from govml.errors import ConfigError

    for key in ("mapping", f"{task}-mapping") if task else ("mapping",):
        table = {k.removeprefix(f"{key}."): v for k, v in cfg.items() if k.startswith(f"{key}.")}
        if table:  # a [mapping] table in a node config .toml file (Flower flattens it to mapping.<column> keys)
            for k in table:
                del cfg[f"{key}.{k}"]
            if cfg.get(key):
                raise ConfigError(f"the node config has both '{key}' and a [{key}] table: keep one")
            cfg[key] = table
    if task:  # a district holding one table per task: <task>-path, and its own <task>-mapping / -sheet / -encoding
        for key, target in (("path", "data-path"), ("mapping", "mapping"), ("sheet", "sheet"),
                            ("encoding", "encoding")):
            if cfg.get(f"{task}-{key}") not in (None, ""):
                cfg[target] = cfg[f"{task}-{key}"]
    if "data-path" not in cfg:
        raise FederatedError("this SuperNode has no 'data-path' in its node config "
                             "(start it with --node-config 'data-path=\"/path/to/table.csv\" district=\"...\"')")
    if not str(cfg.get("district") or "").strip():
        cfg["district"] = Path(str(cfg["data-path"])).stem  # the ClientApp's hello says so in the district's log
    return cfg


MAPPING_EXAMPLE = """--node-config '... mapping="community=社区,text=留言详情"'"""


def parse_mapping(value: Any) -> dict[str, str]:
    """The node config's ``mapping`` {canonical column: the district's column}. On a SuperNode's command line
    it is written as pairs, ``mapping="community=社区,text=留言详情"`` (a column whose name holds a comma goes in
    a ``[mapping]`` table; Flower's ``--node-config`` parser cuts a
    double-quoted value at the first inner ``"``, so JSON with escaped quotes never arrives whole); a node
    config file (``--node-config node.toml``) may hold a ``[mapping]`` table (see :func:`node_settings`).
    A JSON object (``mapping='{"community": "社区"}'``) or a dict is read too; anything else is a
    :class:`ConfigError` that says how to write it."""
    from govml.errors import ConfigError

    how = ("write it as govml's column=your column pairs separated by commas, e.g. "
           f"{MAPPING_EXAMPLE} (or a [mapping] table in a node config .toml file)")
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if isinstance(value, str) and not value.strip().startswith(("{", "[", '"')):
        out: dict[str, str] = {}
        for pair in (p for part in value.split(",") for p in part.split("，") if p.strip()):
            canon, sep, theirs = pair.partition("=")
            canon, theirs = canon.strip(), theirs.strip()
            if not sep or not canon or not theirs:
                raise ConfigError(f"node config 'mapping': {pair.strip()!r} is not a pair govml's column=your column: "
                                  f"{how}")
            if canon in out and out[canon] != theirs:
                raise ConfigError(f"node config 'mapping': {canon!r} is mapped twice ({out[canon]!r} and {theirs!r})")
            out[canon] = theirs
        return out
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"node config 'mapping' is not JSON ({exc.msg} at character {exc.pos}): {how}") from None
    if not isinstance(value, Mapping):
        raise ConfigError(f"node config 'mapping' is a JSON {type(value).__name__}, not an object: {how}")
    bad = [k for k, v in value.items() if not isinstance(v, str) or not str(v).strip()]
    if bad:
        raise ConfigError(f"node config 'mapping': the column for {', '.join(map(repr, bad))} is not a column name "
                          f"(a non-empty string): {how}")
    return {str(k).strip(): str(v) for k, v in value.items()}


def needed_columns(task: str, run_config: Mapping[str, Any]) -> list[str]:
    """The canonical columns ``task`` cannot do without (as :func:`validate` checks them)."""
    if task == "demand-classifier":
        return ["text", "category"]
    if task == "benchmark":
        inds = indicator_list(run_config)
        return ["community", "created_at"] if inds == [COMPLAINT_RATE] else ["community", *inds]
    if task == "hotspot-forecaster":
        return ["community", "category", "created_at"]
    return []


def usual_names(task: str, run_config: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Usual header names of the task's columns (:data:`govml.config.HEADER_ALIASES`: 社区 → community …):
    used to find the sheet and header row, and named in the hint when a column is missing (never read by
    them silently: a district says which column it means in its ``mapping``)."""
    from govml.config import HEADER_ALIASES

    kind = ("messages" if task == "demand-classifier" else "assessments"
            if task == "benchmark" and indicator_list(run_config) != [COMPLAINT_RATE] else "events")
    return dict(HEADER_ALIASES.get(kind, {}))


#: tasks whose districts write what they learn to their ``output-dir``
WRITES_OUTPUT = ("benchmark", "hotspot-forecaster")

#: node config keys that name a file or folder on the district's machine (besides ``<task>-path``)
PATH_KEYS = ("data-path", "output-dir", "cache-dir")


def relative_path_notes(node_config: Mapping[str, Any], cwd: str | Path | None = None) -> list[str]:
    """A line for each node config path that is relative, naming the folder it is read against.

    The ClientApp resolves a relative path against the folder its ``flwr-clientapp`` process runs in: under
    ``--isolation subprocess`` (Flower's default) the SuperNode's (the SuperExec it starts inherits it), under
    ``--isolation process`` the folder ``flower-superexec`` was started in — a path that worked next to the
    SuperNode is then "file not found", and a relative ``output-dir`` is made elsewhere without an error.
    For the district's own log (the absolute folder is not sent)."""
    from govml.federated.node_cache import OFF

    base = Path(cwd) if cwd is not None else Path.cwd()
    keys = [*PATH_KEYS, *sorted(k for k in node_config if str(k).endswith("-path") and k != "data-path")]
    notes = []
    for key in keys:
        value = node_config.get(key)
        if value is None or not str(value).strip() or (key == "cache-dir" and str(value).strip().lower() in OFF):
            continue
        path = Path(str(value).strip()).expanduser()
        if not path.is_absolute():
            notes.append(f"node config {key} {str(value)!r} is a relative path: this ClientApp uses {base / path} "
                         f"(its working folder {base}: the SuperNode's under --isolation subprocess, the folder "
                         "flower-superexec was started in under --isolation process); write an absolute path")
    return notes


def check_output_dir(settings: Mapping[str, Any], task: str) -> None:
    """The node config's ``output-dir`` can be written (made if missing) — checked when the district joins a
    run of a task that writes there, not at its end (a forecaster district would lose its forecasts after
    the whole run). A :class:`ConfigError` naming the folder and why."""
    from govml.errors import ConfigError
    from govml.io import probe_writable

    out = settings.get("output-dir")
    if not out or task not in WRITES_OUTPUT:
        return
    folder = Path(str(out)).expanduser()
    try:
        if folder.exists() and not folder.is_dir():
            raise ConfigError(f"node config output-dir {str(out)!r} is a file, not a folder")
        probe_writable(folder)
    except OSError as exc:
        raise ConfigError(f"node config output-dir {str(out)!r} cannot be written ({exc.strerror or exc}); "
                          f"this district would not get its {'standings.csv' if task == 'benchmark' else 'forecasts.csv'}"
                          ": give a folder the ClientApp's user can write (the SuperNode's; under --isolation process, flower-superexec's)") from None


def _canonical_names(task: str | None, run_config: Mapping[str, Any]) -> set[str]:
    """govml's own column names (every kind of table's, and the task's indicators)."""
    from govml.config import HEADER_ALIASES

    names = {c for table in HEADER_ALIASES.values() for c in table}
    names |= {"id", "text", "category", "created_at", "community", "district", "worker_id"}
    return names | set(needed_columns(task, run_config) if task else [])


def read_district_table(settings: Mapping[str, Any], task: str | None = None,
                        run_config: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Read the district's table and rename its columns to the canonical names.

    With ``task`` the sheet of a workbook (when the node config names none) and the header row are found by
    the columns the task needs (their mapped and usual names), as the CLI's readers find them."""
    from govml.errors import ConfigError
    from govml.io import read_table, settings_from

    mapping = parse_mapping(settings.get("mapping"))
    known: list[str] = []
    if task:
        need = needed_columns(task, run_config or {})
        usual = usual_names(task, run_config or {})
        known = list(dict.fromkeys([*need, "id", "worker_id", *mapping.values(),
                                    *(n for c in need for n in usual.get(c, ()))]))
    # the readers' notes name the node config's keys (sheet="NAME"), not the command line's (--sheet NAME)
    with settings_from("the SuperNode's node config", task or "", style="node-config"):
        df = read_table(settings["data-path"], encoding=settings.get("encoding") or None,
                        sheet=settings.get("sheet") or None, known_columns=known)
    cols = {str(c) for c in df.columns}
    ours = _canonical_names(task, run_config or {})
    reversed_ = [(k, v) for k, v in mapping.items() if k in cols and v not in cols and v in ours and k not in ours]
    if reversed_:
        right = ",".join(f"{v}={k}" for k, v in reversed_)
        theirs, ours_ = ", ".join(repr(k) for k, _ in reversed_), ", ".join(repr(v) for _, v in reversed_)
        are = "are columns" if len(reversed_) > 1 else "is a column"
        raise ConfigError(f"node config 'mapping' is the wrong way round: {theirs} {are} of the file, {ours_} "
                          f"{'are' if len(reversed_) > 1 else 'is'} not; govml's column comes first: mapping=\"{right}\"")
    rename = {user: canonical for canonical, user in mapping.items() if user in df.columns and user != canonical}
    clash = [c for c in rename.values() if c in df.columns]
    if clash:  # the file also has a column under our name: the mapping says which one is meant
        log.warning("%s: column(s) %s not used: the node config's mapping names %s for them", settings["data-path"],
                    ", ".join(map(repr, clash)), ", ".join(repr(u) for u, c in rename.items() if c in clash))
        attrs = dict(df.attrs)
        df = df.drop(columns=clash)
        df.attrs = attrs
    out = df.rename(columns=rename)
    # errors name the district's own columns, not the canonical ones
    out.attrs["govml_source_columns"] = {canonical: str(user) for canonical, user in mapping.items()
                                         if str(user) != canonical}
    return out


def _numeric(df: pd.DataFrame, col: str, file: str, problems: list[Problem]) -> pd.Series:
    from govml.io import source_rows
    from govml.skills.readings import read_scores

    raw = df[col]
    # 85分 / 85% / full-width digits read as the skills commands read them; 缺考 … is no value (never zero)
    vals, bad, _absent, _ = read_scores(raw, None)
    rows = source_rows(df)
    for i in list(bad.to_numpy().nonzero()[0][:5]):
        problems.append(Problem(file, rows[i], col, "a number", str(raw.iloc[i])))
    return vals.astype("float64")


def validate(df: pd.DataFrame, task: str, run_config: Mapping[str, Any], file: str) -> pd.DataFrame:
    """The columns ``task`` needs, checked and typed; raises :class:`DataError` naming every problem."""
    import pandas as pd

    problems: list[Problem] = []
    source = dict(df.attrs.get("govml_source_columns") or {})
    account = RowAccount()

    def col_name(c: str) -> str:
        """The district's own name of canonical column ``c``."""
        return source.get(c, c)

    def need(cols: list[str]) -> bool:
        missing = [c for c in cols if c not in df.columns]
        for c in missing:
            problems.append(Problem(file, None, col_name(c), _missing_expected(df, c, source, task, run_config), None))
        if missing:
            _sheet_problem(df, file, problems)
            # the district's own log (never the wire: a header row the reader missed could hold cell values)
            log.warning("%s: the columns read are: %s", file, ", ".join(map(str, df.columns)) or "none")
        return not missing

    if task == "demand-classifier":
        if not need(["text", "category"]):
            raise DataError(problems=problems, message=f"{file}: cannot be used for the demand classifier")
        out = df[["text", "category"] + (["id"] if "id" in df.columns else [])].copy()
        out["text"] = out["text"].astype("string")
        out["category"] = out["category"].astype("string")
        no_text = _blank(out["text"])
        no_cat = _blank(out["category"]) & ~no_text
        account.add("missing_text", df[no_text], col_name("text"))
        account.add("missing_category", df[no_cat], col_name("category"))
        out = out[~no_text & ~no_cat]
        if out.empty:
            problems.append(Problem(file, None, "text", "at least one row with text and a category", "none"))
    elif task == "benchmark":
        indicators = indicator_list(run_config)
        if indicators == [COMPLAINT_RATE]:
            if not need(["community", "created_at"]):
                raise DataError(problems=problems, message=f"{file}: cannot be used for benchmarking")
            from govml.io import parse_datetime, source_rows

            out = df[["community", "created_at"]].copy()
            parsed = parse_datetime(out["created_at"], file=file, column=col_name("created_at"),
                                    rows=source_rows(df), errors="coerce")
            bad = parsed.isna().to_numpy()
            if bad.all() and len(out):  # no readable time at all: the column is wrong — say what was found
                parse_datetime(out["created_at"], file=file, column=col_name("created_at"),
                               rows=source_rows(df), max_problems=10)
            empty = _blank(out["created_at"])
            account.add("missing_time", df[bad & empty], col_name("created_at"))
            account.add("unparseable_time", df[bad & ~empty], col_name("created_at"))
            out = out.assign(created_at=parsed)[~bad]
        else:
            if not need(["community", *indicators]):
                raise DataError(problems=problems, message=f"{file}: cannot be used for benchmarking")
            out = df[["community"]].copy()
            for col in indicators:
                out[col] = _numeric(df, col, file, problems)
            if "worker_id" in df.columns:  # a 合计 / 平均 row of the export is no worker: it would count as one
                from govml.skills.readings import summary_rows

                total = summary_rows(df["worker_id"]).to_numpy()
                account.add("total_row", df[total], col_name("worker_id"))
                out = out[~total]
        out["community"] = out["community"].astype("string")
        no_comm = _blank(out["community"])
        account.add("missing_community", df.loc[out.index[no_comm]], col_name("community"))
        out = out[~no_comm]
        if out.empty:
            problems.append(Problem(file, None, "community", "at least one row with a community", "none"))
    elif task == "hotspot-forecaster":
        if not need(["community", "category", "created_at"]):
            raise DataError(problems=problems, message=f"{file}: cannot be used for the hotspot forecaster")
        # the same cleaning as `govml hotspots backtest` (times it cannot read, empty areas or
        # categories, future times: counted, never silent); rare categories are decided on the pooled
        # data (the run config's agreed categories), so a district keeps every category here
        from govml.hotspot.panel import clean_events

        try:
            clean, ex = clean_events(df, time_col="created_at", area_col="community", category_col="category",
                                     min_category_events=1, file=file)
        except DataError as exc:  # no usable event: say which column is to blame
            problems.extend(_no_events_problems(df, file, col_name, str(exc).splitlines()[0][:300]))
            clean, ex = None, None
        if ex is not None:
            for reason, n in ex.counts.items():
                column = {"missing_area": "community", "missing_category": "category"}.get(reason, "created_at")
                account.counts[reason] = {"rows": int(n), "column": col_name(column),
                                          "example_file_rows": list(ex.examples.get(reason, []))}
            account.notes += [n for n in ex.notes if not n.startswith("header on row")]
            out = clean.rename(columns={"area": "community"})[["community", "category", "created_at"]]
        else:
            out = df.iloc[:0][["community", "category", "created_at"]]
    else:
        raise FederatedError(f"unknown federated task {task!r} (one of {', '.join(TASKS)})")
    if problems:
        raise DataError(problems=problems, message=f"{file}: {len(problems)} problem(s) for task {task}")
    result = pd.DataFrame(out).reset_index(drop=True)
    account.rows_in, account.rows_used = int(len(df)), int(len(result))
    for line in account.lines():  # the ClientApp's hello says them (at INFO), once per run
        log.debug("%s: %s", file, line)
    result.attrs["govml_exclusions"] = account
    return result


def _missing_expected(df: pd.DataFrame, c: str, source: Mapping[str, str], task: str,
                      run_config: Mapping[str, Any]) -> str:
    """What a missing column ``c`` should be, with the fix when the file shows it: a mapped name that differs
    from a header only in spaces, width or case, or a usual name of the column (社区 for community). Only
    govml's usual names and names equal to the district's own mapping are named (they travel in the error reply)."""
    import unicodedata

    def norm(x: object) -> str:
        return "".join(unicodedata.normalize("NFKC", str(x)).split()).casefold()

    usual = [n for n in usual_names(task, run_config).get(c, ()) if n in df.columns and n != c]
    if c in source:
        theirs = source[c]
        out = f"a column named {theirs!r} (mapped to {c!r} in the node config)"
        near = [str(h) for h in df.columns if norm(h) == norm(theirs)]
        if near:  # the same name up to spaces, width or case: naming it tells no more than the mapping
            out += f"; the file has {near[0]!r}: correct the mapping to {c}={near[0]}"
        elif usual:
            out += f"; the file has {usual[0]!r}, a usual name of it: map {c}={usual[0]}"
        return out
    out = f"a column named {c!r} (or a mapping to it)"
    if usual:
        out += f"; the file has {usual[0]!r}, a usual name of it: add {c}={usual[0]} to the node config's mapping"
    return out


def _sheet_problem(df: pd.DataFrame, file: str, problems: list[Problem]) -> None:
    """A workbook of several sheets whose sheet read lacks columns: say which sheet was read and which exist."""
    meta = df.attrs.get("govml") or {}
    sheets = [str(x) for x in meta.get("sheets") or []]
    if len(sheets) > 1 and meta.get("sheet") is not None and not meta.get("sheets_read"):
        problems.append(Problem(file, None, None, f"the columns on the sheet read ({meta['sheet']!r} of "
                                f"{', '.join(map(repr, sheets))}): name the right one with sheet=\"NAME\" in the "
                                "node config", None))


def _no_events_problems(df: pd.DataFrame, file: str, col_name: Any, why: str) -> list[Problem]:
    """Why a forecaster district has no usable event, by column: no readable time at all (the rows
    and what was expected, as ``parse_datetime`` reports them), no community, no category — else the
    cleaning's own summary."""
    from govml.io import parse_datetime, source_rows

    if len(df):
        rows = source_rows(df)
        parsed = parse_datetime(df["created_at"], file=file, column=col_name("created_at"), rows=rows, errors="coerce")
        if parsed.isna().all():
            try:
                parse_datetime(df["created_at"], file=file, column=col_name("created_at"), rows=rows, max_problems=10)
            except DataError as exc:
                if exc.problems:
                    return list(exc.problems)
            return [Problem(file, None, col_name("created_at"), "a readable date/time in at least one row", "none")]
        for c, what in (("community", "a community"), ("category", "a category")):
            if _blank(df[c]).all():
                return [Problem(file, None, col_name(c), f"at least one row with {what}", "none")]
    return [Problem(file, None, None, "at least one event with a time, a community and a category", why)]


def _blank(s: pd.Series) -> Any:
    """Empty cells: missing, or only whitespace (:func:`govml.io.blank_cells`)."""
    from govml.io import blank_cells

    return blank_cells(s)


class RowAccount:
    """Rows a district set aside while validating its table, by reason: counts, the column (the
    district's own name) and a few example rows as the user sees them (:func:`govml.io.source_rows`).
    Only the counts leave a district (:meth:`wire_counts`, in its hello reply)."""

    REASONS = {
        "missing_text": "text is empty",
        "missing_category": "category is empty",
        "missing_community": "community is empty",
        "missing_area": "community is empty",
        "missing_time": "time is empty",
        "unparseable_time": "time could not be parsed",
        "future_time": "time lies after the reference time (in the future)",
        "missing_partition": "the partition (district) column is empty",
        "total_row": "a total or average row (合计 / 平均 …), not a worker",
        "small_partition": "its district has too few rows to take part",
        "unknown_label": "its category is not one of the run's labels",
        "rare_category": "category has too few events to forecast",
        "incomplete_period": "falls in an incomplete first or last period",
    }

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, Any]] = {}
        self.notes: list[str] = []
        self.rows_in = 0
        self.rows_used = 0

    def add(self, reason: str, rows: pd.DataFrame, column: str, *, examples: int = 5) -> None:
        """Count ``rows`` (a slice of the table as read, index intact) under ``reason``."""
        from govml.io import source_rows

        if len(rows) == 0:
            return
        entry = self.counts.setdefault(reason, {"rows": 0, "column": column, "example_file_rows": []})
        entry["rows"] += int(len(rows))
        ex = entry["example_file_rows"]
        # a row of a workbook read with --sheet all keeps its sheet (SheetRow, shown 1月!12; JSON: govml.io.json_rows)
        ex.extend(r if hasattr(r, "sheet") else int(r) for r in source_rows(rows)[: max(0, examples - len(ex))])

    @property
    def total(self) -> int:
        return int(sum(v["rows"] for v in self.counts.values()))

    def to_dict(self) -> dict[str, Any]:
        return {"rows_in": self.rows_in, "rows_used": self.rows_used, "excluded_total": self.total,
                "excluded": {k: {**v, "why": self.REASONS.get(k, k)} for k, v in self.counts.items()},
                "notes": list(self.notes)}

    def lines(self) -> list[str]:
        return [f"{v['rows']} row(s) left out: {self.REASONS.get(k, k)} (column '{v['column']}'; e.g. rows "
                f"{', '.join(map(str, v['example_file_rows']))})" for k, v in self.counts.items()] + list(self.notes)

    def wire_counts(self) -> dict[str, int]:
        """What may travel: the number of rows per reason (no rows, no values)."""
        return {f"excluded.{k}": int(v["rows"]) for k, v in self.counts.items()}


def indicator_list(run_config: Mapping[str, Any]) -> list[str]:
    raw = str(run_config.get("indicators", "") or "")
    cols = [c.strip() for c in raw.split(",") if c.strip()]
    return cols or [COMPLAINT_RATE]


def wire_reason(err: Exception, district: str) -> str:
    """An error description safe to send to the server: file name, rows, columns, expectations —
    never the offending cell values (they may be personal data)."""
    if isinstance(err, DataError) and err.problems:
        return f"district {district}: data problem: " + problems_text(err.problems)
    return f"district {district}: {type(err).__name__}: {str(err).splitlines()[0][:300] if str(err) else ''}"


def problems_text(problems: list[Problem], file: str | None = None, groups: int = 10) -> str:
    """Problems grouped by file, column and expectation, each with its rows compacted (``rows 4–9, 12``)
    — no cell values. ``file`` names them all (e.g. the user's INPUT instead of a district's copy)."""
    from collections import defaultdict

    by: dict[tuple[str, str | None, str], list[int]] = defaultdict(list)
    for p in problems:
        by[(file or Path(p.file).name, p.column, p.expected)].extend([p.row] if p.row is not None else [])
    parts = []
    for (name, col, expected), rows in list(by.items())[:groups]:
        where = [name] + ([row_span(sorted(rows))] if rows else []) + ([f"column '{col}'"] if col is not None else [])
        parts.append(f"{', '.join(where)}: expected {expected}")
    more = f" (+{len(by) - groups} more)" if len(by) > groups else ""
    return "; ".join(parts) + more


def row_span(rows: list[int], runs_shown: int = 6) -> str:
    """File rows compacted: ``row 7``, ``rows 902–941``, ``rows 3, 7, 9–12 …``."""
    runs: list[list[int]] = []
    for r in rows:
        if runs and r == runs[-1][1] + 1:
            runs[-1][1] = r
        elif not runs or r != runs[-1][1]:
            runs.append([r, r])
    shown = [f"{a}–{b}" if b > a else str(a) for a, b in runs[:runs_shown]]
    word = "row" if len(runs) == 1 and runs[0][0] == runs[0][1] else "rows"
    return f"{word} " + ", ".join(shown) + (" …" if len(runs) > runs_shown else "")


def row_hashes(df: pd.DataFrame, seed: int, purpose: str = "") -> Any:
    """Each row's uniform 64-bit hash (``uint64``) behind :func:`eval_mask`: blake2b of the row's ``id`` (or its
    text, else its index) salted with ``purpose`` and ``seed``. Kept per row, they give the split for any
    fraction (:func:`hash_mask`) without the ids or texts they came from (the demand classifier's run folder)."""
    import numpy as np

    if "id" in df.columns:
        keys = df["id"].astype("string").fillna("").to_numpy(dtype=object)
    else:
        keys = (df["text"].astype("string").fillna("") if "text" in df.columns
                else df.index.astype("string")).to_numpy(dtype=object)
    salt = (f"{purpose}|" if purpose else "").encode() + str(seed).encode()
    return np.array([int.from_bytes(hashlib.blake2b(salt + str(k).encode(), digest_size=8).digest(), "little")
                     for k in keys], dtype=np.uint64)


def canonical_order(df: pd.DataFrame, seed: int, hashes: Any = None) -> Any:
    """Positions of ``df``'s rows in an order that does not depend on the file's: by :func:`row_hashes`
    (a pseudo-random order keyed by each row's id), ties by id, text and category. The demand classifier's
    local SGD shuffles these positions, so the same rows in another file order (an export sorted another
    way) train the same model; before session 22 the shuffle permuted the file's order. ``hashes``: the rows'
    :func:`row_hashes` with ``seed`` when already computed."""
    import numpy as np
    import pandas as pd

    keys = pd.DataFrame({"u": row_hashes(df, seed) if hashes is None else np.asarray(hashes)})
    for c in ("id", "text", "category"):
        if c in df.columns:
            keys[c] = df[c].astype("string").fillna("").to_numpy(dtype=object)
    return np.asarray(keys.sort_values(list(keys.columns), kind="stable").index, dtype=np.int64)


def district_seed(seed: int, district: str, *counters: int) -> int:
    """A district's seed for one draw of a run (the classifier's local SGD shuffle of round ``counters``): a
    64-bit blake2b of the run config's ``seed``, the ``counters`` and the district's name — the name it answers
    hello with (node config ``district``, else its data file's name, :func:`node_settings`), which it keeps
    from run to run. Never the SuperNode's node id: a deployment draws node ids anew at every SuperNode start,
    so a seed built from one gives another model on the same data and config (docs/federated.md, "Reproducing
    a run"). Not Python's ``hash()``, which differs from process to process."""
    text = "|".join(["govml-district-seed", str(int(seed)), *(str(int(c)) for c in counters), str(district)])
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def hash_mask(u: Any, fraction: float) -> Any:
    """The rows whose hash (:func:`row_hashes`) falls in the first ``fraction`` of its range (in 1/10,000ths)."""
    import numpy as np

    return (np.asarray(u, dtype=np.uint64) % np.uint64(10_000)).astype(np.int64) < int(round(fraction * 10_000))


def eval_mask(df: pd.DataFrame, fraction: float, seed: int, purpose: str = "") -> Any:
    """Deterministic held-out rows: a hash of the row's ``id`` (or its text and position) with ``seed``.

    The simulator's centralized baseline uses the same function, so federated and centralized models
    are scored on exactly the same rows. ``purpose`` salts the hash for a second, independent split:
    ``"validation"`` picks the demand classifier's validation rows among a district's training rows
    (:func:`validation_mask`); the default ``""`` gives the held-out test rows as before.
    """
    return hash_mask(row_hashes(df, seed, purpose), fraction)


def split_from_hashes(u_test: Any, u_val: Any, eval_fraction: float, val_fraction: float) -> tuple[Any, Any]:
    """:func:`validation_mask` from the rows' kept hashes (:func:`row_hashes` with purposes ``""`` and
    ``"validation"``): the same rows for any fractions, the table no longer needed."""
    import numpy as np

    test = hash_mask(u_test, eval_fraction)
    if val_fraction <= 0:
        return test, np.zeros_like(test)
    return test, hash_mask(u_val, val_fraction) & ~test


def validation_mask(df: pd.DataFrame, eval_fraction: float, val_fraction: float, seed: int) -> tuple[Any, Any]:
    """(test rows, validation rows) of a district's table: the held-out test rows of :func:`eval_mask`,
    and, among the other rows, about ``val_fraction`` of them by an independent hash (salted
    ``"validation|"``) — the rows on which the demand classifier's round is chosen. The rest train."""
    u_val = row_hashes(df, seed, purpose="validation") if val_fraction > 0 else None
    return split_from_hashes(row_hashes(df, seed), u_val, eval_fraction, val_fraction)
