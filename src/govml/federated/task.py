"""What a district loads, checks and keeps local — shared by the ClientApp, the simulator and tests.

A district's settings come from its Flower ``node_config`` (deployment: ``flower-supernode
--node-config 'data-path="..." district="..." mapping="{...}"'``; simulation: written by
:func:`govml.federated.simulation.simulate`):

``data-path``  its own table (CSV / Excel / Parquet / JSONL; read with :func:`govml.io.read_table`);
               ``<task>-path`` (e.g. ``benchmark-path``, ``demand-classifier-path``) overrides it
               for one task, so one SuperNode can serve every task
``district``   its public name (the only text a district ever sends: in its hello reply)
``mapping``    JSON ``{canonical column: the district's column}`` (optional)
``encoding``   the table's text encoding when detection is not wanted (optional, as ``--encoding``)
``sheet``      an Excel sheet name or number, or ``all`` (one sheet per month read as one table; optional)
``output-dir`` where the district writes what it learns (its communities' standings; optional)

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
    if task and cfg.get(f"{task}-path"):  # a district holding one table per task
        cfg["data-path"] = cfg[f"{task}-path"]
    if "data-path" not in cfg:
        raise FederatedError("this SuperNode has no 'data-path' in its node config "
                             "(start it with --node-config 'data-path=\"/path/to/table.csv\" district=\"...\"')")
    cfg.setdefault("district", Path(str(cfg["data-path"])).stem)
    return cfg


def read_district_table(settings: Mapping[str, Any]) -> pd.DataFrame:
    """Read the district's table and rename its columns to the canonical names."""
    from govml.io import read_table

    df = read_table(settings["data-path"], encoding=settings.get("encoding") or None,
                    sheet=settings.get("sheet") or None)
    mapping = settings.get("mapping") or {}
    if isinstance(mapping, str):
        try:
            mapping = json.loads(mapping) if mapping.strip() else {}
        except json.JSONDecodeError as exc:
            raise DataError(message=f"node config 'mapping' is not JSON: {exc}") from exc
    rename = {user: canonical for canonical, user in mapping.items() if user in df.columns and user != canonical}
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
            if c in source:
                expected = f"a column named {source[c]!r} (mapped to {c!r} in the node config)"
            else:
                expected = f"a column named {c!r} (or a mapping to it)"
            problems.append(Problem(file, None, col_name(c), expected, None))
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
    for line in account.lines():
        log.info("%s: %s", file, line)
    result.attrs["govml_exclusions"] = account
    return result


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


def eval_mask(df: pd.DataFrame, fraction: float, seed: int, purpose: str = "") -> Any:
    """Deterministic held-out rows: a hash of the row's ``id`` (or its text and position) with ``seed``.

    The simulator's centralized baseline uses the same function, so federated and centralized models
    are scored on exactly the same rows. ``purpose`` salts the hash for a second, independent split:
    ``"validation"`` picks the demand classifier's validation rows among a district's training rows
    (:func:`validation_mask`); the default ``""`` gives the held-out test rows as before.
    """
    import numpy as np

    if "id" in df.columns:
        keys = df["id"].astype("string").fillna("").to_numpy(dtype=object)
    else:
        keys = (df["text"].astype("string").fillna("") if "text" in df.columns
                else df.index.astype("string")).to_numpy(dtype=object)
    salt = (f"{purpose}|" if purpose else "").encode() + str(seed).encode()
    u = np.array([int.from_bytes(hashlib.blake2b(salt + str(k).encode(), digest_size=8).digest(), "little")
                  for k in keys], dtype=np.uint64)
    return (u % np.uint64(10_000)).astype(np.int64) < int(round(fraction * 10_000))


def validation_mask(df: pd.DataFrame, eval_fraction: float, val_fraction: float, seed: int) -> tuple[Any, Any]:
    """(test rows, validation rows) of a district's table: the held-out test rows of :func:`eval_mask`,
    and, among the other rows, about ``val_fraction`` of them by an independent hash (salted
    ``"validation|"``) — the rows on which the demand classifier's round is chosen. The rest train."""
    test = eval_mask(df, eval_fraction, seed)
    if val_fraction <= 0:
        return test, test & False
    return test, eval_mask(df, val_fraction, seed, purpose="validation") & ~test
