"""Session 17: a district's ClientApp under Flower's ``--isolation process`` (a ``flower-superexec`` the district
starts next to its SuperNode, from its own folder, possibly as another user; it still starts one
``flwr-clientapp`` per message). Dry run on loopback: scripts/federated/dry_run_isolation.py. Here, through the
functions a SuperNode calls: a "new process" is the ClientApp's module memory emptied before each message, and
"another folder" a chdir before it."""

from __future__ import annotations

import logging
import os

import pandas as pd
import pytest
from flwr.app import ConfigRecord, Context, Message, RecordDict

from govml.federated import client_app as CA
from govml.federated import task as T
from govml.federated.node_cache import RunStore, cache_root

pytestmark = pytest.mark.xdist_group("flower")

BENCH = {"task": "benchmark", "indicators": "service,response", "secure": False, "min-districts": 2,
         "wait-for-districts": 0}


def _files(tmp_path, assessments) -> dict[str, str]:
    out = {}
    for d, g in assessments.groupby("district"):
        out[d] = str(tmp_path / f"{d}.csv")
        g.to_csv(out[d], index=False)
    return out


def test_relative_node_config_paths_are_named_with_the_folder_they_are_read_against(tmp_path):
    node = {"data-path": "区1.csv", "output-dir": "out", "cache-dir": "cache", "district": "区1",
            "hotspot-forecaster-path": "events/区1.csv", "demand-classifier-path": str(tmp_path / "m.csv")}
    notes = T.relative_path_notes(node, cwd=tmp_path / "exec")
    assert len(notes) == 4
    assert notes[0].startswith(f"node config data-path '区1.csv' is a relative path: this ClientApp uses "
                               f"{tmp_path / 'exec' / '区1.csv'}")
    assert "flower-superexec was started in under --isolation process" in notes[0]
    assert [n.split("'")[0] for n in notes] == ["node config data-path ", "node config output-dir ",
                                                "node config cache-dir ", "node config hotspot-forecaster-path "]
    assert T.relative_path_notes({"data-path": str(tmp_path / "a.csv"), "cache-dir": "off", "output-dir": "",
                                  "district": "x"}) == []
    assert T.relative_path_notes({"data-path": "~/a.csv"}) == []  # ~ is the ClientApp user's home: absolute


def _hello(node_config: dict, app=None, run_id: int = 60, node_id: int = 8) -> Message:
    from govml.federated.grid import LocalGrid

    LocalGrid(run_id=run_id)  # sets the run id Flower's Message reads
    ctx = Context(run_id=run_id, node_id=node_id, node_config=dict(node_config), state=RecordDict(),
                  run_config=dict(BENCH))
    msg = Message(RecordDict({"config": ConfigRecord(dict(BENCH))}), dst_node_id=node_id, message_type="query.hello")
    try:
        return (app or CA.app)(msg, ctx)
    finally:
        CA.clear_cache()


def test_a_relative_data_path_under_process_isolation_is_explained_in_the_districts_log(
        tmp_path, assessments, monkeypatch, caplog, restore_logging):
    """The dry run's finding: the SuperNode started in the district's folder (data-path="区1.csv" next to it),
    flower-superexec from another one. The ClientApp runs in flower-superexec's folder: "file not found", and
    the district's log (the SuperNode's console) now says which folder the path was read against."""
    home, exec_dir = tmp_path / "district1", tmp_path / "district1" / "exec"
    exec_dir.mkdir(parents=True)
    assessments[assessments["district"] == "区1"].to_csv(home / "区1.csv", index=False)
    monkeypatch.chdir(exec_dir)
    caplog.set_level(logging.INFO)
    node = {"data-path": "区1.csv", "district": "区1", "cache-dir": str(tmp_path / "cache")}
    rep = _hello(node)
    assert rep.has_error() and rep.error.code == T.DATA_ERROR and "区1.csv: file not found" in rep.error.reason
    assert str(exec_dir) not in rep.error.reason  # the district's folders are not sent to the coordinator
    said = [r.getMessage() for r in caplog.records
            if r.name == "govml.federated.client_app" and "relative path" in r.getMessage()]
    assert said == [f"node config data-path '区1.csv' is a relative path: this ClientApp uses {exec_dir / '区1.csv'} "
                    f"(its working folder {exec_dir}: the SuperNode's under --isolation subprocess, the folder "
                    "flower-superexec was started in under --isolation process); write an absolute path"]
    # the same node config with the SuperExec started in the SuperNode's folder (subprocess isolation): it joins
    caplog.clear()
    monkeypatch.chdir(home)
    rep = _hello(node)
    assert not rep.has_error() and rep.content.config_records["hello"]["status"] == "ok"
    assert int(rep.content.metric_records["size"]["rows"]) == (assessments["district"] == "区1").sum()
    # an absolute path: no note
    caplog.clear()
    rep = _hello({**node, "data-path": str(home / "区1.csv")})
    assert not rep.has_error() and not [r for r in caplog.records if "relative path" in r.getMessage()]


def test_simulations_do_not_note_relative_paths(tmp_path, assessments, monkeypatch, caplog):
    """The note belongs to the deployed app (deployment_log_mod): a simulation reads in one process."""
    monkeypatch.chdir(tmp_path)
    assessments[assessments["district"] == "区1"].to_csv(tmp_path / "区1.csv", index=False)
    caplog.set_level(logging.INFO)
    rep = _hello({"data-path": "区1.csv", "district": "区1"}, app=CA.make_client_app())
    assert not rep.has_error()
    assert not [r for r in caplog.records if "relative path" in r.getMessage()]


def test_the_run_state_survives_a_new_process_in_another_folder_per_message(tmp_path, assessments):
    """``--isolation process``: each message a new flwr-clientapp (module memory empty) started by a long-lived
    flower-superexec from its own folder — here a different folder at each message. With absolute paths in the
    node config the run reads each table once and its result equals one in-memory run's, to the last bit."""
    from govml.federated.grid import LocalGrid
    from govml.federated.server_app import run_federation

    f = _files(tmp_path, assessments)
    folders = [tmp_path / f"exec{i}" for i in range(3)]
    for d in folders:
        d.mkdir()
    seen: list[str] = []
    here = os.getcwd()

    def new_process_elsewhere(msg, context, call_next):
        CA._CACHE.clear()
        os.chdir(folders[len(seen) % len(folders)])
        seen.append(os.getcwd())
        try:
            return call_next(msg, context)
        finally:
            os.chdir(here)

    reads: list[str] = []
    real = T.read_district_table

    def counted(settings, *a, **kw):
        reads.append(str(settings["data-path"]))
        return real(settings, *a, **kw)

    def run(mods, cache):
        grid = LocalGrid(run_id=17)
        for nid, d in ((1, "区1"), (2, "区2"), (3, "区3")):
            node = {"data-path": f[d], "district": d, "output-dir": str(tmp_path / f"out-{cache}-{nid}")}
            if cache:
                node["cache-dir"] = str(tmp_path / cache)
            grid.add_node(nid, CA.make_client_app(mods=mods), node, BENCH)
        try:
            return run_federation(grid, BENCH)
        finally:
            CA.clear_cache()

    mem = run(None, "")
    T.read_district_table = counted
    try:
        dep = run([new_process_elsewhere, CA.run_cache_mod], "cache")
    finally:
        T.read_district_table = real
    assert len(set(seen)) == 3 and len(seen) >= 12  # hello, moments, hist, standings (and done) × 3 districts
    assert sorted(reads) == sorted(f.values())  # one read per district
    assert dep["summary"] == mem["summary"] and dep["excluded"] == {} and dep["missing"] == {}
    for nid in (1, 2, 3):
        assert (pd.read_csv(tmp_path / f"out-cache-{nid}" / "standings.csv")
                .equals(pd.read_csv(tmp_path / f"out--{nid}" / "standings.csv")))
    assert not list((tmp_path / "cache").glob("run-*"))  # deleted at query.done


def test_a_cache_dir_the_clientapp_user_cannot_make_says_whose_folder_it_must_be(tmp_path, monkeypatch):
    """flower-superexec run as a system user without a home (HOME=/nonexistent): the default cache folder cannot
    be made; the error names the user the ClientApp runs as, not only "the SuperNode's"."""
    from govml.errors import ConfigError

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "afile"))
    (tmp_path / "afile").write_text("x")
    root = cache_root({})
    assert root == tmp_path / "afile" / ".cache" / "govml" / "federated"
    with pytest.raises(ConfigError, match=r"cache-dir: .* cannot be made \(Not a directory\); name a folder the user "
                       r"the ClientApp runs as \(the SuperNode's; under --isolation process, flower-superexec's\)"):
        RunStore(root, 1, 2).put(("k",), 1)


def test_a_supernode_whose_clientapp_never_runs_is_named_with_the_hint_to_start_its_superexec(tmp_path, assessments,
                                                                                            caplog):
    """The dry run with one district's flower-superexec not started (--isolation process): its SuperNode takes
    the hello and says nothing more; the coordinator's log now names where to look (before: only
    ``excluded: node N did not answer``); the result keeps ``"node N": "no answer to hello"``."""
    from govml.federated.grid import LocalGrid
    from govml.federated.server_app import run_federation

    f = _files(tmp_path, assessments)
    grid = LocalGrid(run_id=71)
    for nid, d in ((1, "区1"), (2, "区2"), (3, "区3")):
        grid.add_node(nid, CA.make_client_app(), {"data-path": f[d], "district": d}, BENCH,
                      drop_after=0 if nid == 3 else None)
    caplog.set_level(logging.INFO, logger="govml.federated.server_app")
    try:
        res = run_federation(grid, BENCH)
    finally:
        CA.clear_cache()
    assert sorted(res["districts"]) == ["区1", "区2"]
    assert res["excluded"] == {"node 3": "no answer to hello"}
    assert ("excluded: node 3 did not answer (the district whose SuperNode log says 'SuperNode ID: 3': no ClientApp "
            "answered there within round-timeout; under --isolation process, is its flower-superexec running?)"
            in [r.getMessage() for r in caplog.records])
