"""Session 18: the demand classifier's run folder keeps no message text — per row the hashed features, the category
and the two split hashes — and gives the results it gave when it kept the table (same rows for any fraction the
server sends after hello). Through the functions a SuperNode calls: a "new process" is the ClientApp's module memory
emptied before each message (as tests/federated/test_federated_s16.py)."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pandas as pd
import pytest
from flwr.app import ConfigRecord, Context, Message, RecordDict

from federated_apps import new_process
from govml.federated import client_app as CA
from govml.federated import task as T

pytestmark = pytest.mark.xdist_group("flower")


def _cfg(messages, **extra) -> dict:
    return {"task": "demand-classifier", "labels": "|".join(sorted(messages["category"].unique())),
            "n-features": 512, "num-rounds": 2, "secure": False, "min-districts": 2, "wait-for-districts": 0,
            "val-fraction": 0.2, "refit": True, "final-test-eval": True, **extra}


def _files(tmp_path, messages, drop_id: bool = False) -> dict[str, str]:
    out = {}
    for d, g in messages.groupby("district"):
        out[d] = str(tmp_path / f"{d}.csv")
        (g.drop(columns="id") if drop_id else g).to_csv(out[d], index=False)
    return out


def _run(nodes: dict[int, dict], cfg: dict, mods: list | None, run_id: int):
    from govml.federated.grid import LocalGrid
    from govml.federated.server_app import run_federation

    grid = LocalGrid(run_id=run_id)
    for nid, node_config in nodes.items():
        grid.add_node(nid, CA.make_client_app(mods=mods), node_config, cfg)
    try:
        return run_federation(grid, dict(cfg))
    finally:
        CA.clear_cache()


def _same(a: dict, b: dict) -> bool:
    """Every score, chosen round, byte count and the model's arrays bit for bit (run ids and timings aside)."""
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in ("seconds", "run_id")}
        if isinstance(x, list):
            return [strip(v) for v in x]
        if isinstance(x, np.ndarray):
            return (x.dtype.str, x.shape, x.tobytes())
        return x

    return strip(a) == strip(b)


# -- the split from the kept hashes -------------------------------------------------------------------------

@pytest.mark.parametrize("with_id", [True, False])
def test_kept_split_hashes_give_the_tables_split_for_any_fraction(messages, with_id):
    df = messages.iloc[:300] if with_id else messages.iloc[:300].drop(columns="id")
    u_test, u_val = T.row_hashes(df, 3), T.row_hashes(df, 3, purpose="validation")
    assert u_test.dtype == np.uint64 and not np.array_equal(u_test, u_val)
    for ef, vf in ((0.2, 0.2), (0.2, 0.0), (0.35, 0.1), (0.0, 0.5)):
        te, va = T.validation_mask(df, ef, vf, 3)
        te2, va2 = T.split_from_hashes(u_test, u_val, ef, vf)
        assert np.array_equal(te, te2) and np.array_equal(va, va2) and not (te2 & va2).any()
    assert 30 < int(T.eval_mask(df, 0.2, 3).sum()) < 90  # about a fifth: the hash is uniform
    assert not np.array_equal(T.eval_mask(df, 0.2, 3), T.eval_mask(df, 0.2, 4))  # the seed matters


def test_hashing_is_row_by_row_so_the_kept_rows_slice_to_any_split(messages):
    from govml.federated import classifier as C

    texts = messages["text"].to_numpy(dtype=object)[:200]
    X = C.featurize(texts, 512)
    rows = np.flatnonzero(T.eval_mask(messages.iloc[:200], 0.3, 0))
    part, alone = X[rows], C.featurize(texts[rows], 512)
    for a in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(part, a), getattr(alone, a))
    assert part.dtype == alone.dtype and X[np.array([], dtype=np.int64)].shape == (0, 512)


# -- what the run folder holds ------------------------------------------------------------------------------

def _hello(node_config: dict, cfg: dict, run_id: int = 80, node_id: int = 5) -> Message:
    from govml.federated.grid import LocalGrid

    LocalGrid(run_id=run_id)
    ctx = Context(run_id=run_id, node_id=node_id, node_config=dict(node_config), state=RecordDict(),
                  run_config=dict(cfg))
    msg = Message(RecordDict({"config": ConfigRecord({k: v for k, v in cfg.items() if k in ("task", "labels",
                                                                                             "n-features", "seed")})}),
                  dst_node_id=node_id, message_type="query.hello")
    try:
        return CA.app(msg, ctx)  # the app a SuperNode loads: run_cache_mod included
    finally:
        CA.clear_cache()


def test_hello_keeps_hashed_rows_categories_and_split_hashes_not_the_text(tmp_path, messages, restore_logging):
    f = _files(tmp_path, messages)
    g = messages[messages["district"] == "区1"]
    cfg = _cfg(messages)
    rep = _hello({"data-path": f["区1"], "district": "区1", "cache-dir": str(tmp_path / "cache")}, cfg)
    assert not rep.has_error() and int(rep.content.metric_records["size"]["rows"]) == len(g) == 300
    files = list((tmp_path / "cache" / "run-80-node-5").iterdir())
    assert [p.name.split("-")[0] for p in files] == ["classifier"]  # no table entry
    blob = files[0].read_bytes()
    assert not [t for t in g["text"] if t.encode() in blob] and b"m00000" not in blob  # no text, no id
    _key, kept = pickle.loads(blob)
    assert kept["layout"] == CA.CLASSIFIER_LAYOUT and kept["rows"] == 300 and kept["X"].shape == (300, 512)
    assert sorted(kept["categories"]) == sorted(g["category"].unique())
    order = T.canonical_order(g, 0)  # kept in an order that does not depend on the file's (session 22)
    assert [kept["categories"][c] for c in kept["codes"]] == list(g["category"].iloc[order])
    assert np.array_equal(kept["u_test"], T.row_hashes(g, 0)[order]) and kept["file"]["path"] == f["区1"]
    assert not [k for k, v in kept.items() if isinstance(v, pd.DataFrame | pd.Series)]


def test_no_message_text_in_the_run_folder_and_the_results_of_the_table(tmp_path, messages, reads):
    """After every message of a run (secure: key rounds, unmasking, the final pass, the held-out score) the run
    folder holds no message's text; the result is the in-memory run's bit for bit, with one read per district."""
    f = _files(tmp_path, messages)
    texts = {d: [t.encode() for t in g["text"]] for d, g in messages.groupby("district")}
    cache = tmp_path / "cache"
    seen: list[tuple[str, int]] = []

    def scan(msg, context, call_next):
        reply = call_next(msg, context)
        for p in cache.glob("run-*/*"):
            blob = p.read_bytes()
            seen.append((p.name, sum(t in blob for d in texts for t in texts[d])))
        return reply

    cfg = _cfg(messages, secure=True, refit=False)
    nodes = {i: {"data-path": f[d], "district": d} for i, d in enumerate(sorted(f), start=1)}
    mem = _run(nodes, cfg, None, run_id=81)
    reads.clear()
    dep = _run({i: {**n, "cache-dir": str(cache)} for i, n in nodes.items()}, cfg,
               [scan, new_process, CA.run_cache_mod], run_id=82)
    assert len(reads) == 3 and seen and {name.split("-")[0] for name, _ in seen} == {"classifier"}
    assert max(n for _, n in seen) == 0
    assert _same(dep, mem) and dep["chosen_round"] >= 1 and dep["test"]["rows"] > 100
    assert not any(cache.glob("run-*"))  # deleted at query.done


def test_an_entry_of_the_old_layout_is_never_read(tmp_path, messages, reads, caplog):
    """The session-17 code kept the validated table (texts) and each split's hashed rows in the run folder; an
    entry it left (or any other layout under the new key) must not be read as the new one."""
    from govml.federated.node_cache import RunStore, file_fingerprint

    f = _files(tmp_path, messages, drop_id=True)  # the split hashes each row's text: no id column
    cfg = _cfg(messages, **{"select-round": False})  # val-fraction 0 after hello
    nodes = {i: {"data-path": f[d], "district": d} for i, d in enumerate(sorted(f), start=1)}
    clean = _run(nodes, cfg, None, run_id=83)
    cache = tmp_path / "cache"
    other = messages.sample(frac=1.0, random_state=1).assign(category="环境保护")  # wrong rows, one category
    for nid, nc in nodes.items():
        store = RunStore(cache, 84, nid)
        settings = T.node_settings(nc, cfg)
        old_table = (84, nid, *CA._table_key(cfg, settings))  # session 17's table entry
        store.put(old_table, {"df": other[["text", "category"]].reset_index(drop=True),
                              "file": file_fingerprint(nc["data-path"]), "noted": False})
        for rows in ("fit", "validation", "test", "train"):  # its per-split entries
            store.put((84, nid, f"X-{rows}-0.0", 0.2, 0, 512, cfg["labels"]), ("not", "rows"))
        new_key = (84, nid, "classifier-rows", CA.CLASSIFIER_LAYOUT, *CA._table_key(cfg, settings), 0, 512)
        store.put(new_key, {"layout": "govml-classifier-rows/1", "rows": 3})  # another layout under the new key
    caplog.set_level(logging.INFO, logger="govml.federated.client_app")
    reads.clear()
    dep = _run({i: {**n, "cache-dir": str(cache)} for i, n in nodes.items()}, cfg,
               [new_process, CA.run_cache_mod], run_id=84)
    assert _same(dep, clean) and dep["round_selection"]["eval_rows"] == "test"
    assert len(reads) == 3  # built again once per district, at hello
    assert sum("has another layout" in r.getMessage() for r in caplog.records if r.name == CA.__name__) == 3
