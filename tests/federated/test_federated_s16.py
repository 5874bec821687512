"""Session 16, the deployment leftovers of session 15: a district's table read once per run (and the run's state
kept between messages) although Flower 1.42 starts one ClientApp process per message; districts told why they
were left out; a result a coordinator's script can check. Each through the functions a SuperNode or the ServerApp
calls: a "new process" is the ClientApp's module memory emptied before each message."""

from __future__ import annotations

import json
import logging
import os
import stat
import time

import numpy as np
import pandas as pd
import pytest
from flwr.app import ConfigRecord, Context, Message, RecordDict

from federated_apps import new_process
from govml.federated import client_app as CA
from govml.federated import task as T

pytestmark = pytest.mark.xdist_group("flower")

BENCH = {"task": "benchmark", "indicators": "service,response", "secure": False, "min-districts": 2,
         "wait-for-districts": 0}


@pytest.fixture()
def district_log(caplog):
    caplog.set_level(logging.INFO, logger="govml.federated.client_app")
    return caplog


def _files(tmp_path, assessments) -> dict[str, str]:
    from federated_apps import district_files

    return district_files(tmp_path, assessments)


def _run(nodes: dict[int, dict], cfg: dict, mods: list | None, run_id: int = 16):
    from govml.federated.grid import LocalGrid
    from govml.federated.server_app import run_federation

    grid = LocalGrid(run_id=run_id)
    for nid, node_config in nodes.items():
        grid.add_node(nid, CA.make_client_app(mods=mods), node_config, cfg)
    try:
        return run_federation(grid, cfg), grid
    finally:
        CA.clear_cache()


# -- 1. the table read once per run -------------------------------------------------------------------------

def test_benchmark_reads_each_districts_table_once_per_run_with_a_process_per_message(tmp_path, assessments, reads):
    """Session 15's deployment: every message re-read and re-validated the table (a new process each)."""
    f = _files(tmp_path, assessments)
    cache = tmp_path / "cache"
    nodes = {i: {"data-path": f[d], "district": d, "cache-dir": str(cache)} for i, d in ((1, "区1"), (2, "区2"),
                                                                                         (3, "区3"))}
    before, grid = _run({i: {**n, "cache-dir": "off"} for i, n in nodes.items()}, BENCH, [new_process, CA.run_cache_mod])
    per_district_before = {p: reads.count(p) for p in f.values()}
    delivered = {nid: n.delivered for nid, n in grid._nodes.items()}
    reads.clear()
    now, _ = _run(nodes, BENCH, [new_process, CA.run_cache_mod])
    assert sorted(reads) == sorted(f.values())  # once per district
    assert all(v == delivered[1] - 1 >= 4 for v in per_district_before.values())  # every message but query.done
    for col in ("service", "response"):
        assert now["summary"][col]["mean"] == pytest.approx(before["summary"][col]["mean"], abs=1e-12)
        assert now["summary"][col]["p50"] == pytest.approx(before["summary"][col]["p50"], abs=1e-12)
    assert not any(cache.glob("run-*")), "the run's folders are deleted at query.done"


def test_forecaster_grows_the_same_model_with_a_process_per_message(tmp_path, make_events, reads):
    """Before: the boosting state lived in the ClientApp's memory only, so a deployed forecaster stopped at its
    first histogram round ("boosting asked for histograms before the base round") — and each message re-read
    the file. Now the run's folder carries it: the same forecasts as in one process, one read per district."""
    import sys
    from pathlib import Path

    from govml.errors import FederatedError
    from govml.hotspot.panel import build_panel, panel_matrix

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from federated_apps import forecaster_config, read_forecasts, run_forecaster_app

    events = make_events(3)
    _y, _keys, periods = panel_matrix(build_panel(events, district_col="district", drop_incomplete=False))
    cfg = forecaster_config(events, periods, **{"num-rounds": 2, "secure": False})
    (tmp_path / "mem").mkdir()
    run_forecaster_app(events, tmp_path / "mem", cfg, run_id=31, node_base=10)
    expected = read_forecasts(tmp_path / "mem")
    reads.clear()

    cache = tmp_path / "cache"

    def with_cache(msg, context, call_next):
        context.node_config["cache-dir"] = str(cache)
        return call_next(msg, context)

    (tmp_path / "dep").mkdir()
    res = run_forecaster_app(events, tmp_path / "dep", cfg, run_id=32, node_base=10,
                             mods=[with_cache, new_process, CA.run_cache_mod])
    assert res["forecasts_written"] == 3 and res["excluded"] == {} and res["missing"] == {}
    assert len(reads) == 3 and len(set(reads)) == 3
    got = read_forecasts(tmp_path / "dep")
    both = got.merge(expected, on=["area", "category", "horizon"], suffixes=("_dep", "_mem"))
    assert len(both) == len(expected) == 144  # 36 series × 4 horizons
    np.testing.assert_allclose(both["yhat_dep"], both["yhat_mem"], rtol=1e-12)
    assert not any(cache.glob("run-*"))

    def off(msg, context, call_next):
        context.node_config["cache-dir"] = "off"
        return call_next(msg, context)

    (tmp_path / "off").mkdir()
    with pytest.raises(FederatedError, match="no district answered query.gbdt"):  # session 15's deployment
        run_forecaster_app(events, tmp_path / "off", cfg, run_id=33, node_base=10,
                           mods=[off, new_process, CA.run_cache_mod])


def test_classifier_keeps_its_hashed_rows_between_processes(tmp_path, messages, reads):
    """Train and evaluate messages featurised the district's texts again at every message before."""
    cfg = {"task": "demand-classifier", "labels": "|".join(sorted(messages["category"].unique())),
           "n-features": 512, "num-rounds": 2, "secure": False, "min-districts": 2, "wait-for-districts": 0,
           "val-fraction": 0.2, "refit": False, "final-test-eval": True}
    files = {}
    for d, g in messages.groupby("district"):
        files[d] = str(tmp_path / f"{d}.csv")
        g.to_csv(files[d], index=False)
    nodes = {i: {"data-path": files[d], "district": d} for i, d in enumerate(sorted(files), start=1)}
    mem, _ = _run(nodes, cfg, None, run_id=60)
    reads.clear()
    cache = tmp_path / "cache"
    dep, grid = _run({i: {**n, "cache-dir": str(cache)} for i, n in nodes.items()}, cfg,
                     [new_process, CA.run_cache_mod], run_id=61)
    assert len(reads) == 3 and min(n.delivered for n in grid._nodes.values()) >= 6
    def rounds(res):
        return [{k: v for k, v in h.items() if k != "seconds"} for h in res["history"]]

    assert dep["test"] == mem["test"] and rounds(dep) == rounds(mem) and len(rounds(dep)) == 2
    assert not any(cache.glob("run-*"))


def test_a_file_changed_during_the_run_is_not_mixed_with_the_version_read_at_hello(tmp_path, assessments,
                                                                                   district_log):
    f = _files(tmp_path, assessments)
    cache = tmp_path / "cache"
    nodes = {i: {"data-path": f[d], "district": d, "cache-dir": str(cache)} for i, d in ((1, "区1"), (2, "区2"),
                                                                                         (3, "区3"))}
    plain, _ = _run(nodes, BENCH, [new_process, CA.run_cache_mod], run_id=40)
    changed = assessments[assessments["district"] == "区1"].iloc[:10].assign(service=0.0)

    def edit_after_hello(msg, context, call_next):
        reply = call_next(msg, context)
        if msg.metadata.message_type == "query.hello" and context.node_id == 1:
            time.sleep(0.01)  # a new mtime even on a coarse clock
            changed.to_csv(f["区1"], index=False)
        return reply

    district_log.clear()
    now, _ = _run(nodes, BENCH, [edit_after_hello, new_process, CA.run_cache_mod], run_id=41)
    assert now["summary"]["service"]["mean"] == pytest.approx(plain["summary"]["service"]["mean"], abs=1e-12)
    assert now["district_rows"]["区1"]["rows_used"] == plain["district_rows"]["区1"]["rows_used"] == 72
    said = [r.getMessage() for r in district_log.records if "changed after this run read it" in r.getMessage()]
    assert len(said) == 1 and f["区1"] in said[0] and "the next run reads the new file" in said[0]
    again, _ = _run(nodes, BENCH, [new_process, CA.run_cache_mod], run_id=42)  # the next run: the new file
    assert again["district_rows"]["区1"]["rows_used"] == 10


def _hello(node_config: dict, run_id: int = 50, node_id: int = 7, mtype: str = "query.hello",
           content: RecordDict | None = None) -> Message:
    from govml.federated.grid import LocalGrid

    LocalGrid(run_id=run_id)
    ctx = Context(run_id=run_id, node_id=node_id, node_config=dict(node_config), state=RecordDict(),
                  run_config=dict(BENCH))
    msg = Message(content or RecordDict({"config": ConfigRecord(dict(BENCH))}), dst_node_id=node_id,
                  message_type=mtype)
    try:
        return CA.app(msg, ctx)  # the app a SuperNode loads: run_cache_mod included
    finally:
        CA.clear_cache()


def test_the_run_folder_is_private_keyed_by_run_and_node_and_deleted_at_done(tmp_path, assessments,
                                                                             restore_logging):
    assert CA.run_cache_mod in CA.app._mods
    f = _files(tmp_path, assessments)
    cache = tmp_path / "cache"
    node = {"data-path": f["区1"], "district": "区1", "cache-dir": str(cache)}
    stale, recent = cache / "run-1-node-7", cache / "run-2-node-7"
    for d in (stale, recent):
        d.mkdir(parents=True)
        (d / "table-x.pkl").write_bytes(b"")
    old = time.time() - 25 * 3600
    for p in (stale / "table-x.pkl", stale):
        os.utime(p, (old, old))
    assert not _hello(node).has_error()
    folder = cache / "run-50-node-7"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700 and stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = list(folder.iterdir())
    assert len(files) == 1 and files[0].name.startswith("benchmark-")
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert not stale.exists() and recent.exists()  # a run that never said it ended: gone after 24 h
    # the validated table (what every later message of the run uses), not the file's raw columns
    _key, kept = pd.read_pickle(files[0])
    assert list(kept["df"].columns) == ["community", "service", "response"] and kept["file"]["path"] == f["区1"]
    done = RecordDict({"done": ConfigRecord({"status": "completed", "note": "finished; this district took part"})})
    rep = _hello(node, mtype="query.done", content=done)
    assert not rep.has_error() and dict(rep.content.metric_records["done"]) == {"done": 1}
    assert not folder.exists() and recent.exists()


def test_a_cache_folder_that_is_a_link_is_refused_with_the_node_config_key(tmp_path, assessments, restore_logging):
    f = _files(tmp_path, assessments)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    rep = _hello({"data-path": f["区1"], "district": "区1", "cache-dir": str(tmp_path / "link")})
    assert rep.has_error() and rep.error.code == T.CONFIG_ERROR
    assert "cache-dir" in rep.error.reason and "district 区1" in rep.error.reason
    assert not any((tmp_path / "elsewhere").iterdir())
    (tmp_path / "afile").write_text("x")
    rep = _hello({"data-path": f["区1"], "district": "区1", "cache-dir": str(tmp_path / "afile" / "sub")})
    assert rep.has_error() and rep.error.code == T.CONFIG_ERROR and "cannot be made (Not a directory)" in rep.error.reason


@pytest.fixture()
def restore_logging():
    """The deployed app routes govml's log to Flower's logger: undo it after the test."""
    saved = {name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers))
             for name in ("govml", "govml.federated")}
    yield
    for name, (level, handlers) in saved.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).setLevel(level)


# -- 2. districts told why they are left out -----------------------------------------------------------------

def _told(caplog) -> list[str]:
    """What the districts' logs say at query.done."""
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("run ")]


def test_two_supernodes_with_one_district_name_are_told_in_their_own_logs(tmp_path, assessments, district_log):
    """Session 15: both left out, the coordinator told, the districts' own logs silent."""
    f = _files(tmp_path, assessments)
    cache = tmp_path / "cache"
    nodes = {1: {"data-path": f["区1"], "district": "区1"}, 2: {"data-path": f["区2"], "district": "区2"},
             3: {"data-path": f["区3"], "district": "区3"}, 4: {"data-path": f["区3"], "district": "区3"}}
    nodes = {n: {**c, "cache-dir": str(cache)} for n, c in nodes.items()}
    out, _ = _run(nodes, BENCH, [new_process, CA.run_cache_mod])
    assert out["districts"] == ["区1", "区2"] and set(out["excluded"]) == {"区3 (node 3)", "区3 (node 4)"}
    lines = _told(district_log)
    left = [s for s in lines if "goes on without this district" in s]
    assert len(left) == 2
    for nid in (3, 4):
        mine = [s for s in left if f"this SuperNode (node {nid}) is left out" in s]
        assert len(mine) == 1 and "2 SuperNodes (nodes 3, 4) answered as district '区3'" in mine[0]
        assert "district=" in mine[0]
    took = [s for s in lines if "took part (2 districts)" in s]
    assert len(took) == 2
    # what a district is told names itself only: no other district's name or file
    assert not any("区1" in s or "区2" in s or f["区1"] in s for s in left)
    assert not any(cache.glob("run-*"))


def test_a_failed_run_tells_every_district_and_deletes_their_folders(tmp_path, assessments, district_log):
    from govml.errors import FederatedError

    f = _files(tmp_path, assessments)
    cache = tmp_path / "cache"
    nodes = {1: {"data-path": f["区1"], "district": "区1"}, 2: {"data-path": f["区2"], "district": "区2"},
             3: {"data-path": str(tmp_path / "nope.csv"), "district": "区3"}}
    nodes = {n: {**c, "cache-dir": str(cache)} for n, c in nodes.items()}
    with pytest.raises(FederatedError, match="only 2 district"):
        _run(nodes, {**BENCH, "min-districts": 3}, [new_process, CA.run_cache_mod])
    lines = _told(district_log)
    assert sum("stopped: the coordinator's run stopped before the end" in s for s in lines) == 2
    bad = [s for s in lines if "left out at the start" in s]
    assert len(bad) == 1 and "nope.csv" in bad[0] and "file not found" in bad[0]
    assert not any("区1" in s for s in lines if "stopped" in s)  # the others' reasons are not spread
    assert not any(cache.glob("run-*"))


# -- 3. what a coordinator's script can rely on ---------------------------------------------------------------

def test_result_file_names_its_run_and_the_check_command_exits_by_status(tmp_path, assessments, app_defaults,
                                                                         restore_logging):
    from typer.testing import CliRunner

    from govml.cli import app
    from govml.federated.grid import LocalGrid
    from govml.federated.server_app import RunStopped, main

    f = _files(tmp_path, assessments)
    result = tmp_path / "result.json"
    cfg = {**app_defaults, **BENCH, "result-path": str(result)}

    def deploy(run_id: int, run_config: dict) -> None:
        grid = LocalGrid(run_id=run_id)
        for nid, d in ((1, "区1"), (2, "区2")):
            grid.add_node(nid, CA.make_client_app(), {"data-path": f[d], "district": d}, run_config)
        ctx = Context(run_id=run_id, node_id=0, node_config={}, state=RecordDict(), run_config=dict(run_config))
        try:
            main(grid, ctx)
        finally:
            CA.clear_cache()

    runner = CliRunner()
    deploy(81, cfg)
    assert json.loads(result.read_text(encoding="utf-8"))["run_id"] == 81
    ok = runner.invoke(app, ["federated", "result", str(result), "--run-id", "81"])
    assert ok.exit_code == 0 and "completed run 81" in ok.output and "2 districts" in ok.output
    with pytest.raises(RunStopped):
        deploy(82, {**cfg, "min-districts": 3})
    failed = runner.invoke(app, ["federated", "result", str(result), "--run-id", "82"])
    assert failed.exit_code == 1 and "failed run 82" in failed.output and "only 2 district" in failed.output
    # a stale file (this run never wrote one) and no file at all: refused, exit 2 (govml's usage errors)
    from govml.cli import main as cli_main

    for args, said in ((["--run-id", "83"], "the result of run 82, not of run 83"), ([], None)):
        target = str(result) if said else str(tmp_path / "missing.json")
        with pytest.raises(SystemExit) as ex:
            cli_main(["federated", "result", target, *args])
        assert ex.value.code == 2
