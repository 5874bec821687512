"""Session 15 dry run of a deployment as district IT staff run it: the unhappy paths, each through the
function a SuperNode or the ServerApp calls (no processes: tests/federated/test_federated_deployment.py
runs the real thing once)."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest
from flwr.app import ConfigRecord, Context, Message, RecordDict

from govml.errors import ConfigError
from govml.federated import task as T

pytestmark = pytest.mark.xdist_group("flower")

BENCH = {"task": "benchmark", "indicators": "service,response", "secure": False}


@pytest.fixture()
def flower_lines(restore_logging):
    """What Flower's logger receives: a SuperNode's console, `flwr run --stream` / `flwr log`."""
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    keep = Keep(level=logging.INFO)
    logging.getLogger("flwr").addHandler(keep)
    yield seen
    logging.getLogger("flwr").removeHandler(keep)


def _district(assessments: pd.DataFrame, d: str = "区1") -> pd.DataFrame:
    return assessments[assessments["district"] == d]


def _hello(node_config: dict, run_config: dict = BENCH, app=None) -> Message:
    """One hello, as a SuperNode delivers it (``app(message, context)``)."""
    from govml.federated.client_app import clear_cache, make_client_app
    from govml.federated.grid import LocalGrid

    LocalGrid(run_id=1)  # sets the task identity a Message needs
    clear_cache()
    ctx = Context(run_id=1, node_id=7, node_config=dict(node_config), state=RecordDict(), run_config=dict(run_config))
    msg = Message(RecordDict({"config": ConfigRecord(dict(run_config))}), dst_node_id=7, message_type="query.hello")
    try:
        return (app or make_client_app())(msg, ctx)
    finally:
        clear_cache()


# -- the node config's mapping ---------------------------------------------------------------------

def test_mapping_pairs_pass_flowers_node_config_parser_and_escaped_json_does_not():
    """docs/federated.md's mapping="{\\"community\\": \\"社区\\"}" never reaches govml: Flower's --node-config
    parser cuts a double-quoted value at its first inner quote. Pairs pass whole."""
    import click
    from flwr.common.config import parse_config_args

    cfg = parse_config_args(['data-path="/d/x.csv" district="东城区" mapping="community=社区,sanitation=环境 卫生"'])
    assert T.parse_mapping(cfg["mapping"]) == {"community": "社区", "sanitation": "环境 卫生"}
    with pytest.raises(click.ClickException):
        parse_config_args(['data-path="/d/x.csv" mapping="{\\"community\\": \\"社区\\"}"'])
    # JSON still reads when it arrives (a TOML literal string, a node config file, the simulator)
    assert T.parse_mapping('{"community": "社区"}') == {"community": "社区"}
    assert T.parse_mapping({"community": "社区"}) == {"community": "社区"}
    assert T.parse_mapping("") == {} and T.parse_mapping(None) == {}


def test_mapping_table_of_a_node_config_file(tmp_path, assessments):
    """flower-supernode --node-config node.toml: a [mapping] table arrives flattened (mapping.community)."""
    from flwr.common.config import parse_config_args

    data = tmp_path / "区1.csv"
    _district(assessments).rename(columns={"community": "社区"}).to_csv(data, index=False)
    toml = tmp_path / "node.toml"
    toml.write_text(f'data-path = "{data}"\ndistrict = "东城区"\n\n[mapping]\ncommunity = "社区"\n', encoding="utf-8")
    cfg = parse_config_args([str(toml)])
    assert cfg["mapping.community"] == "社区"
    settings = T.node_settings(cfg, BENCH)
    assert settings["mapping"] == {"community": "社区"} and "mapping.community" not in settings
    df = T.validate(T.read_district_table(settings, "benchmark", BENCH), "benchmark", BENCH, file=str(data))
    assert df["community"].nunique() == 12
    with pytest.raises(ConfigError, match="both 'mapping' and a \\[mapping\\] table"):
        T.node_settings({**cfg, "mapping": "community=社区"}, BENCH)


@pytest.mark.parametrize(("value", "said"), [
    ("{community: 社区}", "is not JSON"),
    ("{'community': '社区'}", "is not JSON"),
    ('["社区"]', "a JSON list, not an object"),
    ('{"community": 3}', "is not a column name"),
    ("community=社区,sanitation", "'sanitation' is not a pair"),
    ("community=社区,community=社区名称", "mapped twice"),
])
def test_a_bad_mapping_is_a_configuration_error_that_says_how_to_write_it(value, said):
    with pytest.raises(ConfigError, match=said) as err:
        T.parse_mapping(value)
    assert "mapped twice" in said or 'mapping="community=社区,text=留言详情"' in str(err.value)


def test_bad_mapping_reply_names_the_district_and_was_a_bare_attribute_error(tmp_path, assessments):
    data = tmp_path / "d.csv"
    _district(assessments).to_csv(data, index=False)
    rep = _hello({"data-path": str(data), "district": "东城区", "mapping": "[1, 2]"})
    # before: code 4102 "district 东城区: AttributeError: 'list' object has no attribute 'items'"
    assert rep.has_error() and rep.error.code == T.CONFIG_ERROR
    assert rep.error.reason.startswith("district 东城区: ConfigError: node config 'mapping' is a JSON list")


def test_a_mapping_written_the_wrong_way_round_is_named_with_the_right_one(tmp_path, assessments):
    data = tmp_path / "d.csv"
    _district(assessments).rename(columns={"community": "社区", "service": "服务"}).to_csv(data, index=False)
    rep = _hello({"data-path": str(data), "district": "东城区",
                  "mapping": json.dumps({"社区": "community", "服务": "service"}, ensure_ascii=False)})
    assert rep.has_error() and rep.error.code == T.CONFIG_ERROR
    assert "wrong way round" in rep.error.reason
    assert 'mapping="community=社区,service=服务"' in rep.error.reason
    # a file that really has a column named like ours is not taken for a reversed mapping
    _district(assessments).assign(社区=lambda d: d["community"]).to_csv(data, index=False)
    ok = _hello({"data-path": str(data), "district": "东城区", "mapping": "community=社区"})
    assert not ok.has_error()


# -- the district's own table ------------------------------------------------------------------------

def test_chinese_headers_without_mapping_name_the_usual_header_and_the_fix(tmp_path, assessments, caplog):
    data = tmp_path / "d.csv"
    # an odd header that could be a data row's value if the header were missed: never sent, only logged locally
    _district(assessments).rename(columns={"community": "社区", "period": "13800138000"}).to_csv(data, index=False)
    with caplog.at_level(logging.WARNING, logger="govml.federated"):
        rep = _hello({"data-path": str(data), "district": "东城区"})
    assert rep.has_error() and rep.error.code == T.DATA_ERROR
    assert ("column 'community': expected a column named 'community' (or a mapping to it); the file has '社区', a "
            "usual name of it: add community=社区 to the node config's mapping") in rep.error.reason
    assert "13800138000" not in rep.error.reason  # the file's other headers stay in the district
    local = caplog.text
    assert "the columns read are:" in local and "13800138000" in local
    assert "this district cannot answer and is left out of the run" in local


def test_a_mapped_name_that_differs_in_spaces_or_width_names_the_files_header(tmp_path, assessments):
    data = tmp_path / "d.csv"
    _district(assessments).rename(columns={"community": "社区"}).to_csv(data, index=False)
    rep = _hello({"data-path": str(data), "district": "东城区", "mapping": "community=社 区"})
    assert rep.has_error()
    assert ("column '社 区': expected a column named '社 区' (mapped to 'community' in the node config); the file "
            "has '社区': correct the mapping to community=社区") in rep.error.reason


def test_a_workbook_is_read_on_the_sheet_that_holds_the_tasks_columns(tmp_path, assessments):
    book = tmp_path / "考核.xlsx"
    with pd.ExcelWriter(book) as w:
        pd.DataFrame({"说明": ["本表为2026年一季度考核"]}).to_excel(w, sheet_name="说明", index=False)
        _district(assessments).to_excel(w, sheet_name="考核", index=False)
    # before: the first sheet (说明) was read and every column was missing
    rep = _hello({"data-path": str(book), "district": "东城区"})
    assert not rep.has_error(), rep.error.reason if rep.has_error() else ""
    assert rep.content.metric_records["size"]["rows"] == len(_district(assessments))
    # a sheet named by the district is read as named; when it lacks the columns the reply says which sheets exist
    bad = _hello({"data-path": str(book), "district": "东城区", "sheet": "说明"})
    assert bad.has_error()
    assert ("考核.xlsx: expected the columns on the sheet read ('说明' of '说明', '考核'): name the right one with "
            'sheet="NAME" in the node config') in bad.error.reason


def test_an_unwritable_output_dir_fails_at_hello_not_after_the_run(tmp_path, assessments):
    data = tmp_path / "d.csv"
    _district(assessments).to_csv(data, index=False)
    afile = tmp_path / "afile"
    afile.write_text("x")
    rep = _hello({"data-path": str(data), "district": "东城区", "output-dir": str(afile / "out")})
    assert rep.has_error() and rep.error.code == T.CONFIG_ERROR
    assert rep.error.reason.startswith(f"district 东城区: ConfigError: node config output-dir '{afile / 'out'}' "
                                       "cannot be written")
    assert "standings.csv" in rep.error.reason
    # a folder that does not exist yet is made
    ok = _hello({"data-path": str(data), "district": "东城区", "output-dir": str(tmp_path / "new" / "out")})
    assert not ok.has_error() and (tmp_path / "new" / "out").is_dir()
    # the classifier writes nothing there: not checked
    msgs = tmp_path / "m.csv"
    pd.DataFrame({"text": ["小区噪音扰民", "路灯不亮"], "category": ["环境", "市政"]}).to_csv(msgs, index=False)
    cls = _hello({"data-path": str(msgs), "district": "东城区", "output-dir": str(afile / "out")},
                 {"task": "demand-classifier", "labels": "环境|市政"})
    assert not cls.has_error()


# -- the coordinator ---------------------------------------------------------------------------------

def _grid(tmp_path, assessments, nodes: dict[int, dict], run_config: dict):
    from govml.federated.client_app import make_client_app
    from govml.federated.grid import LocalGrid

    grid = LocalGrid(run_id=3)
    for nid, cfg in nodes.items():
        grid.add_node(nid, make_client_app(), cfg, run_config)
    return grid


def _files(tmp_path, assessments) -> dict[str, str]:
    from federated_apps import district_files

    return district_files(tmp_path, assessments)


def test_two_supernodes_answering_as_one_district_are_both_left_out(tmp_path, assessments):
    """Before: both took part under one name — the district's communities counted twice, one entry in
    district_rows, the name listed twice in `districts`."""
    from govml.federated.client_app import clear_cache
    from govml.federated.server_app import run_federation

    f = _files(tmp_path, assessments)
    cfg = {**BENCH, "min-districts": 2, "wait-for-districts": 0}
    nodes = {1: {"data-path": f["区1"], "district": "区1"}, 2: {"data-path": f["区2"], "district": "区2"},
             3: {"data-path": f["区3"], "district": "区3"}, 4: {"data-path": f["区3"]}}  # no district=: named 区3
    try:
        out = run_federation(_grid(tmp_path, assessments, nodes, cfg), cfg)
    finally:
        clear_cache()
    assert out["districts"] == ["区1", "区2"]
    assert sorted(out["excluded"]) == ["区3 (node 3)", "区3 (node 4)"]
    assert "2 SuperNodes (nodes 3, 4) answered as district '区3'" in out["excluded"]["区3 (node 4)"]
    assert sorted(out["district_rows"]) == ["区1", "区2"]
    assert out["summary"]["service"]["n"] == 24  # 12 communities in each of the two districts, none twice


def _main(grid, run_config):
    from govml.federated.client_app import clear_cache
    from govml.federated.server_app import main

    ctx = Context(run_id=3, node_id=0, node_config={}, state=RecordDict(), run_config=dict(run_config))
    try:
        return main(grid, ctx)
    finally:
        clear_cache()


def test_main_writes_completed_or_failed_status_and_stops_on_one_clear_line(tmp_path, assessments, app_defaults,
                                                                             flower_lines):
    from govml.federated.server_app import RunStopped

    f = _files(tmp_path, assessments)
    nodes = {1: {"data-path": f["区1"], "district": "区1"}, 2: {"data-path": f["区2"], "district": "区2"}}
    result = tmp_path / "res" / "result.json"  # a folder that does not exist yet
    cfg = {**app_defaults, **BENCH, "result-path": str(result), "wait-for-districts": 0}
    seen = flower_lines
    _main(_grid(tmp_path, assessments, nodes, cfg), cfg)
    ok = json.loads(result.read_text(encoding="utf-8"))
    assert ok["status"] == "completed" and ok["districts"] == ["区1", "区2"]
    # the coordinator's last line says who took part, who was left out, who stopped answering, where the file is
    assert seen[-1] == (f"govml: federated benchmark finished: 2 districts, left out: none; stopped answering: none; "
                        f"result written to {result} on the SuperLink's machine")
    # a wrong task: before, a traceback through run_federation and the previous result left in place
    bad = {**cfg, "task": "benchmrk"}
    with pytest.raises(RunStopped, match="run config 'task' must be one of") as err:
        _main(_grid(tmp_path, assessments, nodes, bad), bad)
    assert err.value.__cause__ is None and err.value.__suppress_context__
    failed = json.loads(result.read_text(encoding="utf-8"))
    assert failed == {"status": "failed", "run_id": 3, "task": "benchmrk", "error": str(err.value)}


def test_an_unwritable_result_path_stops_the_run_before_any_district_is_asked(tmp_path, assessments, app_defaults,
                                                                              restore_logging):
    from govml.federated.server_app import RunStopped

    f = _files(tmp_path, assessments)
    nodes = {1: {"data-path": f["区1"], "district": "区1"}, 2: {"data-path": f["区2"], "district": "区2"}}
    afile = tmp_path / "afile"
    afile.write_text("x")
    cfg = {**app_defaults, **BENCH, "result-path": str(afile / "result.json"), "wait-for-districts": 0}
    grid = _grid(tmp_path, assessments, nodes, cfg)
    with pytest.raises(RunStopped, match="result-path .* cannot be written on the SuperLink's machine: .*afile' is a "
                                         "file, not a folder; nothing was run"):
        _main(grid, cfg)
    assert all(n.delivered == 0 for n in grid._nodes.values())  # before: the whole run, then the error


def test_deployed_apps_log_through_flowers_logger(flower_lines):
    """A SuperNode's console and `flwr log` show Flower's logger only; govml's info lines went nowhere and its
    warnings came out unprefixed through Python's last resort."""
    from govml.federated import client_app

    assert client_app.deployment_log_mod in client_app.app._mods  # the app a SuperNode loads (pyproject)
    T.route_logs_to_flower()
    T.route_logs_to_flower()  # idempotent
    logging.getLogger("govml.federated.task").info("12 row(s) left out")
    logging.getLogger("govml.io").warning("sheet '考核' read")
    logging.getLogger("govml.io").info("not shown: the readers' details")
    assert flower_lines == ["govml: 12 row(s) left out", "govml: sheet '考核' read"]


def test_a_supernode_that_went_away_is_named_not_the_superlink(tmp_path, assessments):
    """A SuperNode killed mid-run: the SuperLink answers for it with "Node Unavailable" from its own node id (1).
    Before: the log and `missing` named a phantom "district node 1" and said the real one did not answer."""
    from flwr.app import Error
    from flwr.common.constant import SUPERLINK_NODE_ID

    from govml.federated.client_app import clear_cache
    from govml.federated.grid import LocalGrid
    from govml.federated.server_app import run_federation

    class KilledAfterHello(LocalGrid):
        def push_messages(self, messages):
            messages = list(messages)
            ids = super().push_messages([m for m in messages if not (m.metadata.dst_node_id == 3
                                                                      and m.metadata.message_type != "query.hello")])
            for m in messages:
                if m.metadata.dst_node_id == 3 and m.metadata.message_type != "query.hello":
                    m.metadata.__dict__["_message_id"] = f"gone-{len(self._replies)}"
                    rep = Message(Error(code=1, reason="Error: Node Unavailable — no heartbeat"), reply_to=m)
                    rep.metadata.__dict__["_src_node_id"] = SUPERLINK_NODE_ID
                    self._replies[m.metadata.message_id] = rep
                    ids = [*ids, m.metadata.message_id]
            return ids

    f = _files(tmp_path, assessments)
    cfg = {**BENCH, "secure": True, "min-districts": 2, "wait-for-districts": 0}
    grid = KilledAfterHello(run_id=5)
    from govml.federated.client_app import make_client_app

    for nid, d in ((2, "区1"), (3, "区2"), (4, "区3")):
        grid.add_node(nid, make_client_app(), {"data-path": f[d], "district": d}, cfg)
    try:
        out = run_federation(grid, cfg)
    finally:
        clear_cache()
    assert out["districts"] == ["区1", "区3"]
    assert out["missing"] == {"区2": [0]}
    assert not any("node 1" in e for e in out["events"])


def test_one_supernode_serving_two_tasks_has_a_mapping_per_task(tmp_path, assessments, caplog):
    """<task>-path gave one SuperNode a table per task, but one mapping for both: a messages export whose
    community column is 所属社区 beside an assessment table's 社区 could not be served."""
    scores = tmp_path / "考核.csv"
    _district(assessments).rename(columns={"community": "社区"}).to_csv(scores, index=False)
    msgs = tmp_path / "留言.csv"
    pd.DataFrame({"留言详情": ["小区噪音扰民", "路灯不亮", "垃圾没人清"], "一级分类": ["环境", "市政", "环境"]}
                 ).to_csv(msgs, index=False)
    node = {"data-path": str(scores), "mapping": "community=社区", "demand-classifier-path": str(msgs),
            "demand-classifier-mapping": "text=留言详情,category=一级分类"}
    assert not _hello({**node, "district": "东城区"}).has_error()
    cls_cfg = {"task": "demand-classifier", "labels": "环境|市政"}
    rep = _hello({**node, "district": "东城区"}, cls_cfg)
    assert not rep.has_error(), rep.error.reason if rep.has_error() else ""
    assert rep.content.metric_records["size"]["rows"] == 3
    # without district= the SuperNode is named after the task's file — said in its own log
    with caplog.at_level(logging.WARNING, logger="govml.federated"):
        rep = _hello(node, cls_cfg)
    assert rep.content.config_records["hello"]["district"] == "留言"
    assert "the node config has no district=: this SuperNode answers as '留言'" in caplog.text


def test_the_rows_a_district_sets_aside_are_said_once_at_hello(tmp_path, assessments, caplog):
    """Every message starts a new ClientApp process that reads the table again: the account is said at hello,
    not with every one of a forecaster's ~240 messages."""
    data = tmp_path / "d.csv"
    _district(assessments).assign(community=lambda d: d["community"].mask(d.index % 9 == 0)).to_csv(data, index=False)
    with caplog.at_level(logging.INFO, logger="govml.federated"):
        rep = _hello({"data-path": str(data), "district": "东城区"})
    assert not rep.has_error()
    said = [r.getMessage() for r in caplog.records if "row(s) left out" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(f"{data}: 8 row(s) left out: community is empty")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="govml.federated"):
        T.validate(T.read_district_table({"data-path": str(data)}, "benchmark", BENCH), "benchmark", BENCH, str(data))
    assert not [r for r in caplog.records if "row(s) left out" in r.getMessage()]


def test_make_certs_does_not_replace_a_federations_ca_when_districts_are_added(tmp_path, capsys):
    """Before: re-running make_certs.py to add a district replaced the CA, the SuperLink's certificate and
    district1's key (now the new district's), left district2's stale key and dropped A and B from index.json."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "federated" / "make_certs.py"
    spec = importlib.util.spec_from_file_location("make_certs_s15", path)
    mc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mc)
    out = tmp_path / "certs"
    mc.main([str(out), "--district", "东城区", "--district", "西城区"])
    ca, key1 = (out / "ca.crt").read_bytes(), (out / "supernodes" / "district1.pub").read_bytes()
    with pytest.raises(SystemExit):
        mc.main([str(out), "--district", "朝阳区"])
    assert "already holds a CA" in capsys.readouterr().err
    mc.main([str(out), "--district", "朝阳区", "--add"])
    assert (out / "ca.crt").read_bytes() == ca and (out / "supernodes" / "district1.pub").read_bytes() == key1
    index = json.loads((out / "supernodes" / "index.json").read_text(encoding="utf-8"))
    assert index == {"district1": "东城区", "district2": "西城区", "district3": "朝阳区"}
    assert (out / "supernodes" / "district3.pub").read_bytes().startswith(b"ecdsa-sha2-nistp384 ")
    with pytest.raises(SystemExit):
        mc.main([str(out), "--district", "东城区", "--add"])
    assert "东城区 already has a key pair" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        mc.main([str(tmp_path / "other"), "--district", "东城区", "--district", "东城区"])
    assert "given twice: 东城区" in capsys.readouterr().err


def test_reader_notes_name_the_node_config_keys(tmp_path, caplog):
    """A district's log and errors name the node config's keys (sheet="NAME"), not the CLI's (--sheet NAME)."""
    from pathlib import Path

    from govml.errors import DataError
    from govml.federated.task import read_district_table

    book = tmp_path / "考核.xlsx"
    with pd.ExcelWriter(book) as w:
        pd.DataFrame({"说明": ["本表为考核数据"]}).to_excel(w, sheet_name="说明", index=False)
        pd.read_csv(Path(__file__).resolve().parents[2] / "data_samples" / "assessments.csv").head(30).to_excel(w, sheet_name="考核", index=False)
    with caplog.at_level(logging.INFO, logger="govml.io"):
        df = read_district_table({"data-path": str(book), "district": "x"}, task="benchmark",
                                 run_config={"indicators": "sanitation"})
    assert len(df) == 30
    notes = " ".join(r.getMessage() for r in caplog.records if "first sheet" in r.getMessage())
    assert "`sheet=\"NAME\"` in the SuperNode's node config" in notes and "--sheet" not in notes
    gbk = tmp_path / "考核.csv"
    pd.read_csv(Path(__file__).resolve().parents[2] / "data_samples" / "assessments.csv").head(20).rename(
        columns={"community": "社区"}).to_csv(gbk, index=False, encoding="gbk")
    with pytest.raises(DataError) as err:  # a reader's error (not only load's) is rewritten too
        read_district_table({"data-path": str(gbk), "district": "x", "encoding": "utf-8"}, task="benchmark",
                            run_config={"indicators": "sanitation"})
    assert "leave `encoding=` (in the SuperNode's node config) out" in str(err.value), str(err.value)
    assert "--encoding" not in str(err.value)
    # outside a district the readers' notes keep the command-line options
    from govml import io

    assert io.option_hint("a.xlsx: --sheet NAME reads another") == "a.xlsx: --sheet NAME reads another"
