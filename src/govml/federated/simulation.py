"""Simulate a federation on one table: one district per value of a column.

:func:`simulate` writes each partition to its own file (a district's own table), starts govml's
ClientApp once per district on an in-process :class:`~govml.federated.grid.LocalGrid`, runs the
ServerApp logic (:func:`~govml.federated.server_app.run_federation`) and scores the result against
the centralized computation on exactly the same held-out rows:

* demand classifier — ``macro_f1`` and ``accuracy`` of the federated and of the centralized model
  (same model, same optimiser, pooled training rows) on the union of the districts' held-out rows;
* benchmark — the federated citywide statistics against the plain pooled computation
  (max absolute differences, next to the stated quantisation bounds).

``faults`` injects what real federations see: ``{"district": "broken"}`` (its file lacks a required
column), ``"dropout"`` (it stops answering after the first round), ``"poison:F"`` (its model update
is scaled by F: the classifier's weight update, :func:`scaled_update_mod`; the hotspot forecaster's
histogram replies, :func:`scaled_histogram_mod`, with ``poison-gh:F`` and ``poison-all:F``).
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from govml.errors import ConfigError, DataError
from govml.federated import task as T
from govml.io import blank_cells

if TYPE_CHECKING:
    import pandas as pd

    from govml.federated.grid import LocalGrid

log = logging.getLogger(__name__)

CANONICAL = {"demand-classifier": ("text", "category", "id"), "benchmark": ("community", "created_at")}


def scaled_update_mod(factor: float):
    """Client mod that scales a district's model update (w_local − w_global) by ``factor``: a poisoned
    or buggy district, for robustness tests and simulations."""
    from flwr.app import Array, ArrayRecord, Message, RecordDict

    def mod(msg: Message, context: Any, call_next: Any) -> Message:
        reply = call_next(msg, context)
        if msg.metadata.message_type != "train" or reply.has_error() or "arrays" not in reply.content.array_records:
            return reply
        g = msg.content.array_records["arrays"]
        r = reply.content.array_records["arrays"]
        new = {k: Array((g[k].numpy() + factor * (r[k].numpy() - g[k].numpy())).astype(np.float32)) for k in r}
        content = RecordDict({"arrays": ArrayRecord(new), "metrics": reply.content.metric_records["metrics"]})
        return Message(content, reply_to=msg)

    return mod


POISON_SCOPES = {"poison": "hist", "poison-gh": "gh", "poison-all": "all"}


def scale_reply(vec: np.ndarray, message_type: str, phase: str, factor: float, scope: str) -> np.ndarray:
    """What a poisoned forecaster district sends: its honest vector ``vec`` scaled by ``factor``.

    ``scope``: ``hist`` — the histogram replies (``query.gbdt``, phase ``hist``), every channel (Σg,
    Σh, count); ``gh`` — the same replies, Σg and Σh only (counts honest); ``all`` — every vector it
    sends for the model: citywide sums (count sums *and* series counts), base sums ``[Σy, n]`` and
    histograms (every channel): a district that consistently claims ``factor`` copies of each series.
    Scoring replies are never scaled."""
    if message_type == "query.gbdt" and phase == "hist":
        if scope == "gh":
            out = vec.reshape(-1, 3).copy()
            out[:, :2] *= factor
            return out.ravel()
        return vec * factor
    if scope == "all" and (message_type == "query.city" or (message_type == "query.gbdt" and phase == "base")):
        return vec * factor
    return vec


def scaled_histogram_mod(factor: float, scope: str = "hist"):
    """Client mod for the hotspot forecaster: the district scales what it sends as its model update
    (:func:`scale_reply`) *before* it is masked, so it works with and without secure aggregation. The
    mod only marks the district's own ``context.state``; ``client_app._release`` applies it."""
    from flwr.app import ConfigRecord, Message

    from govml.federated.client_app import DRILL_RECORD

    if scope not in POISON_SCOPES.values():
        raise ConfigError(f"unknown poison scope {scope!r} (one of {', '.join(POISON_SCOPES.values())})")

    def mod(msg: Message, context: Any, call_next: Any) -> Message:
        context.state.config_records[DRILL_RECORD] = ConfigRecord({"factor": float(factor), "scope": scope})
        return call_next(msg, context)

    return mod


def _districts(df: pd.DataFrame, partition_col: str, mapping: Mapping[str, str] | None, min_rows: int,
               faults: Mapping[str, str] | None
               ) -> tuple[dict[str, str], dict[str, pd.DataFrame], dict[str, str], T.RowAccount, dict[str, str]]:
    """(column mapping without empty entries, one table per district, faults checked against them, the
    rows left out before partitioning, the districts left out as too small → why)."""
    parts, account, small = _partitions(df, partition_col, min_rows)
    faults = dict(faults or {})
    unknown = [d for d in faults if d not in parts]
    if unknown:
        raise ConfigError(f"faults name unknown district(s): {', '.join(unknown)}")
    return {k: v for k, v in (mapping or {}).items() if v}, parts, faults, account, small


def _partitions(df: pd.DataFrame, col: str, min_rows: int
                ) -> tuple[dict[str, pd.DataFrame], T.RowAccount, dict[str, str]]:
    """One table per value of ``col`` (index and ``read_table``'s row metadata intact), the account of
    the rows left out (an empty ``col``; a district under ``min_rows`` rows) and the small districts."""
    if col not in df.columns:
        raise DataError(message=f"partition column {col!r} not in the table (columns: {', '.join(map(str, df.columns))})")
    df = _with_rows(df)
    account = T.RowAccount()
    account.rows_in = int(len(df))
    keys = df[col].astype("string")
    empty = blank_cells(keys)
    account.add("missing_partition", df[empty], col)
    keys = keys.where(~empty)
    parts = {str(k): df[(keys == k).fillna(False).to_numpy(dtype=bool)] for k in sorted(keys.dropna().unique())}
    small = {k: v for k, v in parts.items() if len(v) < min_rows}
    why: dict[str, str] = {}
    for k, v in small.items():
        account.add("small_partition", v, col)
        why[k] = f"district {k}: {len(v)} row(s), fewer than the {min_rows} a district needs to take part"
    if small:
        log.warning("left out %d district(s) with fewer than %d rows: %s", len(small), min_rows,
                    ", ".join(list(small)[:10]))
    parts = {k: v for k, v in parts.items() if len(v) >= min_rows}
    if len(parts) < 2:
        raise DataError(message=f"partitioning by {col!r} gives {len(parts)} district(s) with at least "
                        f"{min_rows} rows; a federation needs at least 2"
                        + (f" ({'; '.join(account.lines())})" if account.counts else ""))
    return parts, account, why


def _local_run(seed: int, n_nodes: int, workdir: str | Path | None
               ) -> tuple[list[int], tempfile.TemporaryDirectory | None, Path, LocalGrid]:
    """What a simulated run starts from: the districts' node ids and the run id (drawn from ``seed``, in that
    order), the folder of the district files (``workdir``, else a temporary one: the caller cleans it up) and the
    grid the nodes join."""
    from govml.federated.grid import LocalGrid

    rng = np.random.default_rng(seed)
    node_ids = [int(x) for x in rng.integers(1, 2**62, size=n_nodes)]
    tmp = tempfile.TemporaryDirectory(prefix="govml-fed-") if workdir is None else None
    root = Path(workdir or tmp.name)  # type: ignore[union-attr]
    root.mkdir(parents=True, exist_ok=True)
    return node_ids, tmp, root, LocalGrid(run_id=int(rng.integers(1, 2**31)))


def district_file(root: Path, index: int, name: str) -> Path:
    """Where the simulator writes district ``name``'s table: a file named after the district (in a folder of
    its own), so that what the district reports — and the server logs, e.g. ``excluded: district 坏区: data
    problem: 坏区.csv, column 'text' …`` — names the district's table, not a temporary ``district_003.csv``."""
    import re

    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", str(name)).strip(" .")[:80] or "district"
    folder = root / f"d{index:03d}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{safe}.csv"


def _with_rows(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with ``read_table``'s row metadata: a frame made in Python (index 0..n-1, no metadata)
    gets the rows it would have as a CSV (header on row 1), so its slices keep their row numbers."""
    import pandas as pd

    if df.attrs.get("govml", {}).get("rows") is not None or not isinstance(df.index, pd.RangeIndex) \
            or df.index.start != 0 or df.index.step != 1:
        return df
    out = df.copy(deep=False)
    out.attrs = {**df.attrs, "govml": {**df.attrs.get("govml", {}), "rows": [(2, len(df) + 2)]}}
    return out


def data_account(before: T.RowAccount, districts: Mapping[str, T.RowAccount],
                 central: T.RowAccount | None = None) -> dict[str, Any]:
    """metrics.json's ``data``: every row read is used or counted by reason, with the file's column
    names and example rows as the user sees them; ``by_district`` holds each district's own account.
    ``central``: the pooled cleaning that decides what is used (the forecaster's panel) instead of the
    sum of the districts' accounts."""
    total = T.RowAccount()
    total.rows_in = before.rows_in
    for acc in (before, *([central] if central is not None else districts.values())):
        for k, v in acc.counts.items():
            entry = total.counts.setdefault(k, {"rows": 0, "column": v["column"], "example_file_rows": []})
            entry["rows"] += v["rows"]
            entry["example_file_rows"] = sorted(entry["example_file_rows"] + v["example_file_rows"])[:5]
        total.notes += acc.notes
    total.rows_used = int(central.rows_used if central is not None else sum(a.rows_used for a in districts.values()))
    out = total.to_dict()
    out["by_district"] = {name: acc.to_dict() for name, acc in districts.items()}
    return out


def data_lines(data: Mapping[str, Any]) -> list[str]:
    """The ``data`` account as console lines: totals, then each reason with its column and rows."""
    out = [f"{data['rows_in']} row(s) read, {data['rows_used']} used, {data['excluded_total']} left out"]
    for k, v in data["excluded"].items():
        who = [d for d, acc in data.get("by_district", {}).items() if k in acc["excluded"]]
        rows = f"; e.g. rows {', '.join(map(str, v['example_file_rows']))}" if v["example_file_rows"] else ""
        out.append(f"{v['rows']} row(s): {v['why']} (column '{v['column']}'{rows})"
                   + (f" — in district(s) {', '.join(who[:8])}{' …' if len(who) > 8 else ''}" if who else ""))
    return out + list(dict.fromkeys(data.get("notes", [])))


def simulate(
    df: pd.DataFrame,
    task: str,
    partition_col: str,
    *,
    mapping: Mapping[str, str] | None = None,
    rounds: int = 30,
    secure: bool = True,
    dp_epsilon: float | None = None,
    dp_mechanism: str = "laplace",
    dp_clip: float = 1.0,
    value_range: tuple[float, float] | None = None,
    indicators: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    strategy: str = "fedadam",
    n_features: int = 2**16,
    local_epochs: int = 2,
    lr: float = 2.0,
    proximal_mu: float = 0.01,
    eval_fraction: float = 0.2,
    bins: int | None = None,
    min_rows: int = 1,
    seed: int = 0,
    faults: Mapping[str, str] | None = None,
    mods: list | None = None,
    progress: Callable[[int, dict[str, float]], None] | None = None,
    workdir: str | Path | None = None,
    secagg_neighbours: int | str = "auto",
    base_run_config: Mapping[str, Any] | None = None,
    select_round: bool = True,
    round_patience: int = 0,
    final_pass: bool = True,
) -> dict[str, Any]:
    """Run ``task`` across the partitions of ``df`` and compare with the centralized computation.

    Demand classifier: ``rounds`` is the most rounds run; with ``select_round`` (run config
    ``select-round``) the round is chosen on the districts' validation rows and trained again on every
    training row (``result["round_selection"]``, docs/federated.md); ``round_patience`` (``round-patience``,
    0 = off) stops that many rounds after the best one; ``final_pass`` (``refit``) False keeps the chosen
    round's model as it is (trained without the validation rows).

    ``faults``: ``{district: "broken" | "dropout" | "poison:FACTOR"}``; a ``dropout`` district answers
    everything up to the end of round 1 (the key exchange included) and is silent from round 2 on.
    ``secagg_neighbours``: SecAgg+ mask graph (run config ``secagg-neighbours``): ``"auto"`` (default;
    also 0) the complete graph up to 20 districts and a ring of ``2·ceil(log2 n)`` neighbours above
    (:func:`govml.federated.secagg.auto_neighbours`), ``"all"`` the complete graph, ``k >= 2`` a ring.
    ``base_run_config``: run-config values under the ones set here — e.g. the `[tool.flwr.app.config]`
    defaults that `flwr run` merges into a deployment's run config (a test runs with them)."""
    from govml.federated import client_app as CA
    from govml.federated.server_app import run_federation, to_jsonable

    if task not in T.TASKS:
        raise ConfigError(f"task must be one of {', '.join(T.TASKS)}, got {task!r}")
    if task == "hotspot-forecaster":  # rounds = trees; backtest scored by the districts
        return simulate_forecaster(df, partition_col, mapping=mapping, n_trees=rounds, secure=secure,
                                   min_rows=min_rows, seed=seed, faults=faults, mods=mods, progress=progress,
                                   workdir=workdir, secagg_neighbours=secagg_neighbours,
                                   base_run_config=base_run_config)
    mapping, parts, faults, left_out, small = _districts(df, partition_col, mapping, min_rows, faults)

    run_cfg: dict[str, Any] = {**dict(base_run_config or {}),
                               "task": task, "num-rounds": int(rounds), "secure": bool(secure), "seed": int(seed),
                               "eval-fraction": float(eval_fraction), "strategy": strategy,
                               "local-epochs": int(local_epochs), "lr": float(lr), "proximal-mu": float(proximal_mu),
                               "n-features": int(n_features), "bins": int(bins or (20 if dp_epsilon else 200)),
                               "min-districts": 2, "secagg-neighbours": str(secagg_neighbours)}
    user_cols = {c: mapping.get(c, c) for c in CANONICAL[task]}
    if task == "demand-classifier":
        if labels is None:
            lab_col = user_cols["category"]
            if lab_col not in df.columns:
                raise DataError(message=f"no category column {lab_col!r} (use --label-col)")
            # the labels of the rows that take part (a label seen only in a left-out row is no class)
            taking_part = np.concatenate([p[lab_col].astype("string").dropna().unique() for p in parts.values()])
            labels = sorted({str(x) for x in taking_part if str(x).strip()})
        run_cfg["labels"] = "|".join(str(x) for x in labels)
    else:
        run_cfg["indicators"] = ",".join(indicators or [T.COMPLAINT_RATE])
        if value_range is not None:
            run_cfg["value-range"] = [float(value_range[0]), float(value_range[1])]
        if dp_epsilon:
            run_cfg.update({"dp-epsilon": float(dp_epsilon), "dp-mechanism": dp_mechanism})
    if dp_epsilon and task == "demand-classifier":
        run_cfg.update({"dp-epsilon": float(dp_epsilon), "dp-clip": float(dp_clip)})
    if task == "demand-classifier":
        run_cfg.update({"select-round": bool(select_round), "round-patience": int(round_patience),
                        "refit": bool(final_pass)})
        # the simulator scores the kept model on the pooled held-out rows itself (the same numbers as the
        # districts' summed test counts: test_federated_classifier_rounds.py); a deployment sums them
        run_cfg.setdefault("final-test-eval", False)

    node_ids, tmp, root, grid = _local_run(seed, len(parts), workdir)
    from govml.federated.client_app import make_client_app

    try:
        for nid, (name, part) in zip(node_ids, parts.items(), strict=True):
            fault = faults.get(name, "")
            frame = part
            if fault == "broken":
                frame = part.drop(columns=[user_cols["category" if task == "demand-classifier" else "community"]])
            path = district_file(root, len(grid._nodes), name)
            frame = frame.reset_index(drop=True)
            frame.attrs = {}  # read_table's metadata (row numbers of the whole file) is not the partition's
            frame.to_csv(path, index=False, encoding="utf-8")
            node_cfg = {"data-path": str(path), "district": name, "mapping": json.dumps(mapping, ensure_ascii=False),
                        "output-dir": str(root / f"out_{len(grid._nodes):03d}")}
            extra = list(mods or [])
            drop_after = None
            if fault == "dropout":  # silent from round 2 on: see _round_one_messages
                drop_after = _round_one_messages(task, secure, bool(dp_epsilon))
            elif fault.startswith("poison:"):
                extra.append(scaled_update_mod(float(fault.split(":", 1)[1])))
            elif fault not in ("", "broken"):
                raise ConfigError(f"unknown fault {fault!r} (broken, dropout, poison:FACTOR)")
            grid.add_node(nid, make_client_app(mods=extra), node_cfg, run_cfg, drop_after=drop_after)
        t0 = time.perf_counter()
        result = run_federation(grid, run_cfg, progress=progress)
        seconds = time.perf_counter() - t0
        name_of = {nid: name for nid, name in zip(node_ids, parts, strict=True)}
        bytes_sent = {name_of[n]: b for n, b in grid.bytes_sent().items()}
        valid = {name: _valid_frame(part, task, run_cfg, mapping, name) for name, part in parts.items()
                 if name in result["districts"]}
        accounts = {name: frame.attrs["govml_exclusions"] for name, frame in valid.items()}
        if task == "demand-classifier":
            scores = _score_classifier(result, valid, run_cfg)
        else:
            scores = _score_benchmark(result, valid, run_cfg, root, name_of)
        unknown = scores.pop("unknown_label_rows", {})
        for name, n in unknown.items():  # rows whose category is not one of the run's labels
            accounts[name].counts["unknown_label"] = {"rows": int(n), "column": mapping.get("category", "category"),
                                                      "example_file_rows": []}
            accounts[name].rows_used -= int(n)
        out = to_jsonable(result)
        out.update(scores)
        out["excluded"] = {**small, **out.get("excluded", {})}
        out["data"] = data_account(left_out, accounts)
        out.update({"clients": len(parts), "partition_col": partition_col, "seconds": seconds,
                    "seconds_per_round": seconds / max(int(out.get("rounds", 1)), 1),
                    "bytes_sent_per_client": bytes_sent})
        if task == "demand-classifier":
            out["model"] = result["model"]
        return out
    finally:
        CA.clear_cache()
        if tmp is not None:
            tmp.cleanup()


def _round_one_messages(task: str, secure: bool, dp: bool) -> int:
    """Messages a district answers up to the end of round 1. ``query.hello``; with secure aggregation
    two ``query.keys`` (encryption key, then the first bundle); then per secure sum the request and
    one ``query.unmask``. Round 1 holds two sums for the classifier (train, evaluate) and one for the
    benchmark (moments) — none with differential privacy, whose first sum (the histogram) is round 2."""
    sums = 2 if task == "demand-classifier" else (0 if dp else 1)
    return 1 + (2 if secure else 0) + sums * (2 if secure else 1)


def _valid_frame(part: pd.DataFrame, task: str, cfg: dict[str, Any], mapping: Mapping[str, str],
                 name: str) -> pd.DataFrame:
    """The district's table as it validates it (same function), on the rows of the file as read: its
    account (``attrs["govml_exclusions"]``) names the user's rows and columns."""
    rename = {u: c for c, u in mapping.items() if u in part.columns and u != c}
    frame = part.rename(columns=rename)
    frame.attrs = {**part.attrs, "govml_source_columns": {c: str(u) for c, u in mapping.items() if str(u) != c}}
    return T.validate(frame, task, cfg, file=f"district {name}")


def _score_classifier(result: dict[str, Any], valid: dict[str, pd.DataFrame], cfg: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    from govml.federated import classifier as C

    labels = result["model"]["labels"]
    sel = result.get("round_selection") or {}
    val_fraction = float(sel.get("val_fraction", 0.0)) if sel.get("eval_rows") == "validation" else 0.0
    fits, vals, tests = [], [], []
    for frame in valid.values():  # the districts' own splits (same function, same seed), in their row order
        frame = frame.iloc[T.canonical_order(frame, int(cfg["seed"]))]
        te, va = T.validation_mask(frame, float(cfg["eval-fraction"]), val_fraction, int(cfg["seed"]))
        fits.append(frame[~te & ~va])
        vals.append(frame[va])
        tests.append(frame[te])
    unknown = {name: int((C.label_index(labels, f["category"].to_numpy(dtype=object)) < 0).sum())
               for name, f in valid.items()}
    fit, val, test = pd.concat(fits), pd.concat(vals), pd.concat(tests)
    tok = C.default_tokenizer()

    def rows(frame: pd.DataFrame) -> tuple[Any, np.ndarray]:
        y = C.label_index(labels, frame["category"].to_numpy(dtype=object))
        return C.featurize(frame["text"].to_numpy(dtype=object)[y >= 0], int(cfg["n-features"]), tok), y[y >= 0]

    (Xfit, yfit), (Xva, yva), (Xte, yte) = rows(fit), rows(val), rows(test)
    K = len(labels)
    settings = C.TrainSettings(epochs=int(cfg["local-epochs"]), lr=float(cfg["lr"]))
    server = C.ServerAdam(lr=float(cfg.get("server-lr", 1.0))) if result.get("strategy") == "fedadam" else None
    # the pooled procedure chooses its round as the federation does: same rule, on the pooled validation rows
    chooser = C.RoundChooser(int(sel.get("window", 5)), int(sel.get("patience", 0))) if val_fraction > 0 else None
    W, b = C.train_pooled(Xfit, yfit, K, settings, int(sel.get("max_rounds", cfg["num-rounds"])), int(cfg["seed"]),
                          server, validation=(Xva, yva) if chooser else None, chooser=chooser,
                          refit=bool(sel.get("final_pass")))
    import scipy.sparse as sp

    Xtr, ytr = sp.vstack([Xfit, Xva]).tocsr(), np.concatenate([yfit, yva])  # every training row (fit + validation)

    def score(coef: np.ndarray, intercept: np.ndarray) -> dict[str, float]:
        c = C.eval_counts(Xte, yte, coef, intercept, K)
        return C.scores_from_counts(c["tp"], c["fp"], c["fn"], c["n"], c["correct"])

    fed = score(result["model"]["coef"], result["model"]["intercept"])
    candidates = {"same_procedure": score(W, b) | ({"chosen_round": chooser.best()} if chooser else {})}
    lr = _central_logistic(Xtr, ytr, K, int(cfg["seed"]))
    if lr is not None:
        candidates["logistic_regression"] = score(*lr[:2]) | {"C": lr[2]}
    # the centralized reference is the better of the two on the held-out rows: the federation's own
    # procedure on the pooled rows (one "district"), and a scikit-learn LogisticRegression on the same
    # features with C chosen by cross-validation on the training rows — on a few hundred rows the same
    # procedure is far from converged (泰迪杯 messages: 0.41–0.49 against 0.60–0.65), and a federated model
    # that only matches a weak central one proves nothing
    best = max(candidates, key=lambda k: candidates[k]["macro_f1"])
    cen = {k: v for k, v in candidates[best].items() if k not in ("C", "chosen_round")}
    return {"federated": fed, "centralized": cen, "centralized_model": best,
            "centralized_candidates": candidates, "held_out_rows": int(yte.size), "train_rows": int(ytr.size),
            "validation_rows": int(yva.size),
            "ratio_macro_f1": fed["macro_f1"] / cen["macro_f1"] if cen["macro_f1"] else float("nan"),
            "unknown_label_rows": {k: v for k, v in unknown.items() if v}}


CENTRAL_C = (1.0, 10.0, 100.0)
CENTRAL_CV_ROWS = 5000


def _central_logistic(X, y: np.ndarray, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray, float] | None:
    """A multinomial LogisticRegression on the pooled training rows, C from :data:`CENTRAL_C` by 3-fold
    macro-F1 on at most :data:`CENTRAL_CV_ROWS` of them, as (coef, intercept) over all ``n_classes``
    (classes absent from the training rows never predicted); None with fewer than 2 classes or 6 rows."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, cross_val_score

    classes = np.unique(y)
    if len(classes) < 2 or len(y) < 6:
        return None
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    sub = np.sort(rng.choice(len(y), CENTRAL_CV_ROWS, replace=False)) if len(y) > CENTRAL_CV_ROWS else np.arange(len(y))
    folds = KFold(3, shuffle=True, random_state=seed)
    # only the hashed columns some training row uses: with L2 the others' weights are 0 at the optimum, and
    # fitting on them made each fit ~50× slower (900 messages × 2¹⁴ columns: 2.2 s → 0.04 s)
    cols = np.unique(X.nonzero()[1])
    Xc = X[:, cols]
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)  # a class missing from a fold
        cv = {c: float(np.mean(cross_val_score(LogisticRegression(C=c, max_iter=1000), Xc[sub], y[sub],
                                               cv=folds, scoring="f1_macro"))) for c in CENTRAL_C}
        c_best = max(CENTRAL_C, key=lambda c: (cv[c], -c))
        model = LogisticRegression(C=c_best, max_iter=1000).fit(Xc, y)
    W = np.zeros((n_classes, X.shape[1]), np.float64)
    b = np.full(n_classes, -1e9)
    if len(model.classes_) == 2:  # binary: one row of logits for the second class against the first
        W[model.classes_[1], cols], b[model.classes_[1]] = model.coef_[0], model.intercept_[0]
        b[model.classes_[0]] = 0.0
    else:
        W[np.ix_(model.classes_, cols)], b[model.classes_] = model.coef_, model.intercept_
    return W, b, c_best


def _score_benchmark(result: dict[str, Any], valid: dict[str, pd.DataFrame], cfg: dict[str, Any], root: Path,
                     name_of: dict[int, str]) -> dict[str, Any]:
    import pandas as pd

    from govml.federated import benchmark as B

    inds = result["indicators"]
    vrange = cfg.get("value-range")
    per = []
    for frame in valid.values():
        v = B.clip_values(B.community_values(frame, inds), tuple(vrange) if vrange else None)
        per.append(v)
    pooled = pd.concat(per, ignore_index=True)
    plain = B.plain_summary(pooled, inds)
    fed = {c: {k: v for k, v in row.items() if k != "counts"} for c, row in result["summary"].items()}
    diffs = B.compare(result["summary"], plain)
    rank_diff = 0.0
    for v in per:
        for col in inds:
            x = v[col].dropna().to_numpy(dtype=np.float64)
            rank_diff = max(rank_diff, float(np.abs(B.rank_in(result["summary"][col], x)
                                                     - B.plain_ranks(pooled, col, x)).max(initial=0.0)))
    max_bin_share = max(max(row["counts"]) / max(sum(row["counts"]), 1.0) for row in result["summary"].values())
    standings_files = sorted(str(p) for p in root.glob("out_*/standings.csv"))
    return {
        "federated": fed,
        "centralized": plain,
        "max_abs_diff": max(diffs["max_abs_diff_moments"], diffs["max_abs_diff_percentiles"]),
        "moments_within_bounds": diffs["moments_within_bounds"],
        "max_abs_diff_moments": diffs["max_abs_diff_moments"],
        "max_abs_diff_percentiles": diffs["max_abs_diff_percentiles"],
        "max_abs_diff_percentile_rank": rank_diff,
        "stated_error": {"moments": result["quantization_bound_moments"],
                         "percentiles": max(row["bin_width"] for row in result["summary"].values()),
                         "percentile_rank": 100.0 * max_bin_share,
                         # with DP the bounds above cover binning only; this is the noise on top
                         "dp_noise_scale_per_bin": (result.get("dp") or {}).get("noise_scale_per_bin", 0.0)},
        "standings_written": len(standings_files),
    }


def failing_mod(after: int):
    """Client mod: the district answers ``after`` messages, then fails every later one with an error
    reply (a SuperNode whose ClientApp crashes from then on) — a drop-out for robustness tests."""
    from flwr.app import Error, Message

    seen = {"n": 0}

    def mod(msg: Message, context: Any, call_next: Any) -> Message:
        seen["n"] += 1
        if seen["n"] > after:
            return Message(Error(code=4102, reason="simulated failure: the district stopped working"), reply_to=msg)
        return call_next(msg, context)

    return mod


def forecaster_panel(df: pd.DataFrame, partition_col: str, mapping: Mapping[str, str] | None = None, *,
                     exclusions: T.RowAccount | None = None, file: str = "events",
                     min_category_events: int = 2) -> pd.DataFrame:
    """The pooled weekly panel of an event table (``district`` = the partition), as the central
    backtest sees it: cleaned by :func:`govml.hotspot.panel.clean_events`, as `govml hotspots backtest`
    cleans it (unreadable or future times, empty communities or categories, rare categories and
    incomplete first or last weeks are left out and counted in ``exclusions`` with the file's rows;
    a row with an empty partition is counted as ``missing_partition``)."""
    import pandas as pd

    from govml.hotspot.panel import Exclusions, build_panel, clean_events

    m = {c: (mapping or {}).get(c) or c for c in ("community", "category", "created_at")}
    for c in [*m.values(), partition_col]:
        if c not in df.columns:
            raise DataError(message=f"column {c!r} not in the table (columns: {', '.join(map(str, df.columns))})")
    keys = df[partition_col].astype("string")
    empty = blank_cells(keys)
    if exclusions is not None:
        exclusions.add("missing_partition", df[empty], partition_col)
    ev = df[~empty]
    names = sorted(keys[~empty].unique())
    code = pd.Series(pd.Categorical(keys[~empty], categories=names).codes, index=ev.index).map(lambda i: f"d{i}")
    ev = ev.assign(_govml_district=code)
    clean, ex = clean_events(ev, time_col=m["created_at"], area_col=m["community"], category_col=m["category"],
                             district_col="_govml_district", min_category_events=min_category_events, file=file)
    clean["district"] = clean["district"].map({f"d{i}": str(n) for i, n in enumerate(names)})
    inc = Exclusions()
    panel = build_panel(clean, district_col="district", calendar=False, exclusions=inc)
    if exclusions is not None:
        column = {"missing_area": m["community"], "missing_category": m["category"],
                  "rare_category": m["category"]}
        for acc in (ex, inc):
            for reason, n in acc.counts.items():
                entry = exclusions.counts.setdefault(reason, {"rows": 0, "column": column.get(reason, m["created_at"]),
                                                             "example_file_rows": []})
                entry["rows"] += int(n)
                entry["example_file_rows"] = (entry["example_file_rows"] + list(acc.examples.get(reason, [])))[:5]
            exclusions.notes += acc.notes
        exclusions.rows_used = int(ex.rows_used - inc.total)
    return panel


def simulate_forecaster(
    df: pd.DataFrame,
    partition_col: str,
    *,
    mapping: Mapping[str, str] | None = None,
    n_trees: int = 10,
    max_depth: int = 4,
    horizon: int = 4,
    origins: int = 8,
    secure: bool = True,
    min_rows: int = 1,
    seed: int = 0,
    faults: Mapping[str, str] | None = None,
    mods: list | None = None,
    reference: bool = True,
    lightgbm: bool = False,
    progress: Callable[[int, dict[str, float]], None] | None = None,
    workdir: str | Path | None = None,
    secagg_neighbours: int | str = "auto",
    base_run_config: Mapping[str, Any] | None = None,
    robust: bool = False,
    robust_policy: str = "rescale",
    score_districts: Sequence[str] | None = None,
    level: bool = True,
    file: str | None = None,
    point: str = "auto",
    select_trees: bool = True,
    holidays: str | None = "auto",
    untested_trees: str = "none",
) -> dict[str, Any]:
    """The federated hotspot forecaster's backtest through the Flower app, scored by the districts.

    Each partition becomes a district with its own event file; the ServerApp runs the backtest on
    the origins of ``govml hotspots backtest`` and combines the districts' own evaluation sums
    (``result["backtest"]``). With ``reference`` the same model is backtested centrally
    (:class:`FederatedHotspotForecaster` on the pooled panel of the districts that finished, scored
    by :func:`govml.hotspot.backtest.run_backtest`): ``result["central"]`` — the two agree to
    rounding when no district left during the run (a district that leaves mid-run has already
    reached the citywide and early sums, which the replay on the finishing districts cannot repeat). ``lightgbm`` adds the central LightGBM forecaster on the same origins.
    ``faults``: ``{district: "broken" | "dropout" | "dropout:K" (silent after K messages) | "fail:K"
    (error replies after K messages) | "poison:F" | "poison-gh:F" | "poison-all:F" (scaled replies:
    :func:`scale_reply`)}``. ``robust``: run config ``forecaster-robust`` — the server checks every
    district's own replies (:mod:`govml.federated.screening`; needs ``secure=False``) and leaves out a
    district that fails (``result["excluded_districts"]``); ``robust_policy`` (``forecaster-robust-policy``):
    ``rescale`` divides a reply that is an exact multiple of an honest one back and keeps it
    (``result["rescaled_districts"]``), ``exclude`` leaves its district out too. ``score_districts``: score the backtest
    on these districts' cells only (run config ``score-districts``: runs compared on the same cells). ``base_run_config``: as for :func:`simulate`. :func:`simulate` with ``task="hotspot-forecaster"`` calls
    this (``rounds`` = trees per model). ``secagg_neighbours``: as for :func:`simulate`
    (run config ``secagg-neighbours``; ``"auto"``, ``"all"`` or ``k``). ``level`` (run config
    ``forecaster-level``): boost from the central model's level (its candidate weights from secure
    sums) instead of a constant; the robust option keeps the constant start. ``file``: the table's
    name, for the row account (``result["data"]``: every row read is used or counted by reason).
    ``point`` (run config ``forecaster-point``, ``"auto"`` or ``"mean"``) and ``select_trees``
    (``forecaster-select-trees``; ``n_trees`` is then the largest count, 0 … n_trees): the central model's
    inner-holdout choices made from the districts' holdout sums (``result["inner_holdout"]``).
    ``holidays`` (run config ``forecaster-holidays``, ``"auto"`` or ``None``/``"off"``): the level times
    the target week's holiday factor, as the central model's ``holidays="auto"`` (``result["holidays"]``);
    the central LightGBM reference (``lightgbm``) gets the same setting. ``untested_trees`` (run config
    ``forecaster-untested-trees``, ``"none"`` or ``"all"``): with ``select_trees``, a model with no inner
    holdout is the level alone (0 trees) or keeps ``n_trees`` (``result["inner_holdout"]["level_alone"]``);
    the central replay and the LightGBM reference get the same setting.
    """
    import pandas as pd

    from govml.federated import client_app as CA
    from govml.federated.server_app import run_federation, to_jsonable

    if robust and secure:
        raise ConfigError("the robust option checks each district's own histograms, which secure aggregation "
                          "hides: use it with secure=False (--no-secure)")
    mapping, parts, faults, left_out, small = _districts(df, partition_col, mapping, min_rows, faults)
    unknown = sorted(set(score_districts or []) - set(parts))
    if unknown:
        raise ConfigError(f"score_districts names unknown district(s): {', '.join(unknown)}")
    pooled = pd.concat(parts.values())
    pooled.attrs = dict(next(iter(parts.values())).attrs)  # read_table's row metadata: exclusions name the file's rows
    central = T.RowAccount()
    panel = forecaster_panel(pooled, partition_col, mapping, exclusions=central, file=str(file or "events"))
    periods = pd.DatetimeIndex(pd.unique(panel["period_start"])).sort_values()
    categories = [str(c) for c in panel["category"].cat.categories]
    run_cfg: dict[str, Any] = {**dict(base_run_config or {}),
                               "task": "hotspot-forecaster", "secure": bool(secure), "num-rounds": int(n_trees),
                               "max-depth": int(max_depth), "horizon": int(horizon), "categories": "|".join(categories),
                               "periods": [str(p.date()) for p in periods], "backtest-origins": int(origins),
                               "backtest-only": True, "min-districts": 2, "seed": int(seed),
                               "secagg-neighbours": str(secagg_neighbours), "forecaster-robust": bool(robust),
                               "forecaster-robust-policy": str(robust_policy), "forecaster-level": bool(level),
                               "forecaster-point": str(point), "forecaster-select-trees": bool(select_trees),
                               "forecaster-holidays": "off" if holidays in (None, "off") else str(holidays),
                               "forecaster-untested-trees": str(untested_trees),
                               "score-districts": "|".join(score_districts or [])}
    node_ids, tmp, root, grid = _local_run(seed, len(parts), workdir)
    community = mapping.get("community", "community")
    try:
        for nid, (name, part) in zip(node_ids, parts.items(), strict=True):
            fault = faults.get(name, "")
            frame = part.drop(columns=[community]) if fault == "broken" else part
            path = district_file(root, len(grid._nodes), name)
            frame = frame.reset_index(drop=True)
            frame.attrs = {}
            frame.to_csv(path, index=False, encoding="utf-8")
            node_cfg = {"data-path": str(path), "district": name, "mapping": json.dumps(mapping, ensure_ascii=False)}
            extra, drop_after = list(mods or []), None
            if fault == "dropout":  # silent from its 12th message on: inside the first origin's boosting
                drop_after = 11
            elif fault.startswith("dropout:"):
                drop_after = int(fault.split(":", 1)[1])
            elif fault.startswith("fail:"):
                extra.append(failing_mod(int(fault.split(":", 1)[1])))
            elif fault.split(":", 1)[0] in POISON_SCOPES and ":" in fault:
                kind, factor = fault.split(":", 1)
                try:
                    extra.append(scaled_histogram_mod(float(factor), POISON_SCOPES[kind]))
                except ValueError as exc:
                    raise ConfigError(f"fault {fault!r}: the factor must be a number") from exc
            elif fault not in ("", "broken"):
                raise ConfigError(f"unknown fault {fault!r} (broken, dropout:K, fail:K, poison:F, poison-gh:F, "
                                  "poison-all:F)")
            grid.add_node(nid, CA.make_client_app(mods=extra), node_cfg, run_cfg, drop_after=drop_after)
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        result = run_federation(grid, run_cfg, progress=progress)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        name_of = {nid: name for nid, name in zip(node_ids, parts, strict=True)}
        out = to_jsonable(result)
        out.update({"clients": len(parts), "partition_col": partition_col, "seconds": seconds, "cpu_seconds": cpu,
                    "round_trips": int(result["messages_per_district"]),
                    "seconds_per_round_trip": seconds / max(int(result["messages_per_district"]), 1),
                    "bytes_sent_per_client": {name_of[n]: b for n, b in grid.bytes_sent().items()},
                    "series": int(panel.groupby(["area", "category"], observed=True).ngroups)})
        out["excluded"] = {**small, **out.get("excluded", {})}
        accounts = {name: _valid_frame(part, "hotspot-forecaster", run_cfg, mapping, name)
                    .attrs["govml_exclusions"] for name, part in parts.items() if name in result["districts"]}
        out["data"] = data_account(left_out, accounts, central)
    finally:
        CA.clear_cache()
        if tmp is not None:
            tmp.cleanup()
    if reference or lightgbm:
        from govml.federated.forecaster import FederatedHotspotForecaster
        from govml.hotspot.backtest import run_backtest

        scored = set(result["backtest"]["districts_scored"])
        sub = panel[panel["district"].astype(str).isin(scored)].reset_index(drop=True)
        models: dict[str, Any] = {}
        if reference:
            models["central"] = FederatedHotspotForecaster(horizon=horizon, n_trees=n_trees, max_depth=max_depth,
                                                           secure=secure, masks=False, level=level and not robust,
                                                           point=point, select_trees=select_trees,
                                                           holidays=None if holidays in (None, "off") else holidays,
                                                           untested_trees=untested_trees)
        if lightgbm:
            from govml.hotspot.forecast import HotspotForecaster

            models["lightgbm"] = HotspotForecaster(horizon=horizon, holidays=None if holidays in (None, "off")
                                                   else holidays, untested_trees=untested_trees)
        bt = run_backtest(sub, models, [pd.Timestamp(o) for o in result["backtest"]["origins"]], horizon)
        ov = bt.metrics[bt.metrics["horizon"] == "all"].set_index("model")
        keep = ("rmse", "mae", "wape", "poisson_deviance", "precision_top2pct")
        for name in models:
            out[name] = {k: float(ov.loc[name, k]) for k in keep}
        out["central_fit_seconds"] = {k: round(v, 2) for k, v in bt.fit_seconds.items()}
    return out
