"""The champion gate, data checks, crash safety and the lock — with the toy adapter.

All tests of this module share the worker's embedded store (GOVML_HOME); each uses its own model
key and registered name, so their registries never meet.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from toy_adapter import make_data

from govml import retrain, tracking
from govml.errors import ConfigError, TrackingError

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"


def _spec(tmp_path: Path, data: str = "data/*.csv", **kw) -> tuple[str, str, retrain.RetrainConfig]:
    key = f"toy-{uuid.uuid4().hex[:8]}"
    name = f"govml-{key}"
    spec = {"adapter": "toy_adapter:ToyAdapter", "registered_name": name, "data": [str(tmp_path / data)],
            "min_improvement": 0.01, "sanity_floor": 0.6, **kw}
    return key, name, retrain.RetrainConfig.model_validate({"models": {key: spec}})


def _aliases(name: str) -> dict[str, str]:
    return {a: str(v) for a, v in tracking.client().get_registered_model(name).aliases.items()}


def _with_params(cfg: retrain.RetrainConfig, key: str, **params) -> retrain.RetrainConfig:
    cfg = cfg.model_copy(deep=True)
    cfg.models[key].params.update(params)
    return cfg


# ---- pure logic ---------------------------------------------------------------------------


@pytest.mark.parametrize(("ch", "champ", "gib", "margin", "floor", "promote"), [
    (0.80, None, True, 0.01, 0.5, True),      # first model clears the floor
    (0.40, None, True, 0.01, 0.5, False),     # first model below the floor
    (0.85, 0.80, True, 0.01, None, True),     # better by more than the margin
    (0.805, 0.80, True, 0.01, None, False),   # better, but not by the margin
    (0.80, 0.80, True, 0.0, None, False),     # a tie never promotes
    (0.75, 0.80, True, 0.0, None, False),     # worse
    (9.0, 10.0, False, 0.5, None, True),      # RMSE: lower is better
    (9.8, 10.0, False, 0.5, None, False),     # RMSE: lower, not by the margin
    (11.0, 10.0, False, 0.0, None, False),    # RMSE: higher is worse
    (12.0, None, False, 0.0, 10.0, False),    # RMSE above its ceiling
    (float("nan"), None, True, 0.0, None, False),
])
def test_gate_is_direction_aware(ch, champ, gib, margin, floor, promote):
    ok, reason = retrain.gate(ch, champ, gib, margin, floor, metric="m")
    assert ok is promote
    assert reason


def test_data_checks_against_last_fingerprint():
    checks = retrain.DataChecks(min_rows=10, min_rows_ratio=0.5)
    last = {"rows": 1000, "column_hash": "abc", "categories.group": {"a": 500, "b": 500}}
    assert retrain.check_against_last({"rows": 900, "column_hash": "abc",
                                       "categories.group": {"a": 450, "b": 450}}, last, checks) == []
    problems = retrain.check_against_last({"rows": 300, "column_hash": "xyz",
                                           "categories.group": {"a": 300}}, last, checks)
    text = " ".join(problems)
    assert "far fewer" in text and "columns changed" in text and "vanished: b" in text
    assert retrain.check_against_last({"rows": 5, "column_hash": "abc"}, None, checks) == [
        "only 5 rows (min_rows 10)"]
    named = {"rows": 1000, "column_names": ["a", "b"]}
    assert retrain.check_against_last({"rows": 1000, "column_names": ["a", "b", "c"]}, named, checks) == []
    assert retrain.check_against_last({"rows": 1000, "column_names": ["a"]}, named, checks) == [
        "column(s) missing since the last accepted data: b"]
    lenient = retrain.DataChecks(min_rows=10, min_rows_ratio=0.1, allow_vanished_categories=True)
    assert retrain.check_against_last({"rows": 300, "column_hash": "abc",
                                       "categories.group": {"a": 300}}, last, lenient) == []


def test_newest_file_by_mtime(tmp_path):
    old, new = tmp_path / "m_2.csv", tmp_path / "m_1.csv"
    old.write_text("x"), new.write_text("x")
    os.utime(old, (time.time() - 100, time.time() - 100))
    assert retrain.newest_file(["m_*.csv"], tmp_path) == new
    with pytest.raises(retrain.DataError, match="no data file matches"):
        retrain.newest_file(["nothing_*.csv"], tmp_path)


def test_config_errors_name_the_key(tmp_path):
    bad = tmp_path / "r.yaml"
    bad.write_text("models:\n  demand-classifier:\n    min_improvment: 0.1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="models.demand-classifier.min_improvment"):
        retrain.load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        retrain.load_config(tmp_path / "missing.yaml")


# ---- the pipeline -------------------------------------------------------------------------


def test_first_run_promotes_second_keeps_and_both_are_tracked(tmp_path):
    import mlflow

    make_data(tmp_path / "data" / "d1.csv")
    key, name, cfg = _spec(tmp_path)
    first = retrain.retrain(cfg)
    o = first.outcomes[0]
    assert (o.decision, first.exit_code) == ("promoted", retrain.EXIT_PROMOTED), o.reason
    assert o.challenger["accuracy"] > 0.8 and o.champion == {}
    assert _aliases(name) == {"champion": "1"}

    second = retrain.retrain(cfg)
    o2 = second.outcomes[0]
    assert (o2.decision, second.exit_code) == ("kept", retrain.EXIT_KEPT), o2.reason
    assert o2.champion_version == "1" and o2.challenger_version == "2"
    # champion and challenger were scored on the same holdout: same data, same model → same score
    assert o2.champion["accuracy"] == pytest.approx(o2.challenger["accuracy"])
    assert o2.champion["n"] == o2.challenger["n"]
    assert "not better than champion" in o2.reason
    assert _aliases(name) == {"champion": "1", "challenger": "2"}

    exp = mlflow.get_experiment_by_name("govml-retrain")
    parents = mlflow.search_runs([exp.experiment_id], output_format="list",
                                 filter_string=f"tags.`govml.decisions` LIKE '{key}=%'")
    assert sorted(r.data.tags["govml.exit_code"] for r in parents) == ["0", "3"]
    children = mlflow.search_runs([exp.experiment_id], output_format="list",
                                  filter_string=f"tags.`govml.model` = '{key}'")
    assert sorted(r.data.tags["govml.decision"] for r in children) == ["kept", "promoted"]
    summary = mlflow.artifacts.load_text(f"runs:/{second.run_id}/summary.md")
    assert name in summary and "kept" in summary
    assert "toy_holdout.png" in [a.path for a in tracking.client().list_artifacts(o2.run_id)]
    fp = mlflow.artifacts.load_dict(f"runs:/{o2.run_id}/data_fingerprint.json")
    assert fp["rows"] == 600 and set(fp["categories.group"]) == {"a", "b", "c"}

    from govml import models

    rows = [r for r in models.list_models() if r["name"] == name]
    assert [(r["version"], r["aliases"], r["status"]) for r in rows] == [
        ("2", ["challenger"], "validated"), ("1", ["champion"], "validated")]
    assert rows[1]["metrics"]["accuracy"] == pytest.approx(o.challenger["accuracy"], abs=1e-5)
    clf = models.load(name)
    assert hasattr(clf, "predict")
    with pytest.raises(TrackingError, match="has no alias 'nope'.*champion"):
        models.load(name, alias="nope")
    with pytest.raises(TrackingError, match="no registered model 'govml-missing'"):
        models.load("govml-missing")


def test_better_challenger_is_promoted_over_champion(tmp_path):
    make_data(tmp_path / "data" / "d1.csv")
    key, name, cfg = _spec(tmp_path)
    weak = retrain.retrain(_with_params(cfg, key, features=["x1"]))
    assert weak.outcomes[0].decision == "promoted"
    strong = retrain.retrain(cfg)
    o = strong.outcomes[0]
    assert o.decision == "promoted" and strong.exit_code == retrain.EXIT_PROMOTED, o.reason
    assert o.challenger["accuracy"] > o.champion["accuracy"] + 0.01
    assert "beats champion" in o.reason
    assert _aliases(name) == {"champion": "2"}


def test_degraded_data_is_refused_before_training_and_champion_kept(tmp_path):
    import mlflow

    make_data(tmp_path / "data" / "d1.csv")
    key, name, cfg = _spec(tmp_path)
    assert retrain.retrain(cfg).outcomes[0].decision == "promoted"
    # a newer export with a fraction of the rows and one group gone
    time.sleep(0.01)
    make_data(tmp_path / "data" / "d2.csv", n=150, groups=("a", "b"))
    report = retrain.retrain(cfg)
    o = report.outcomes[0]
    assert o.decision == "refused" and report.exit_code == retrain.EXIT_FAILED
    assert o.data_file.endswith("d2.csv")
    assert "far fewer than the 600" in o.reason and "vanished: c" in o.reason
    assert o.challenger == {} and o.challenger_version is None  # stopped before training
    assert _aliases(name) == {"champion": "1"}
    run = mlflow.get_run(o.run_id)
    assert run.info.status == "FAILED"
    assert run.data.tags["govml.data_check"] == "failed" and "far fewer" in run.data.tags["govml.reason"]
    # a schema error is refused the same way
    (tmp_path / "data" / "d3.csv").write_text("created_at,x1\n2026-01-01,1\n", encoding="utf-8")
    o3 = retrain.retrain(cfg).outcomes[0]
    assert o3.decision == "refused" and "missing column" in o3.reason
    assert _aliases(name) == {"champion": "1"}


def test_sanity_floor_blocks_a_bad_first_model(tmp_path):
    make_data(tmp_path / "data" / "d1.csv", noise=0.5)  # labels are coin flips
    key, name, cfg = _spec(tmp_path, sanity_floor=0.7)
    report = retrain.retrain(cfg)
    o = report.outcomes[0]
    assert o.decision == "kept" and report.exit_code == retrain.EXIT_KEPT
    assert "sanity floor" in o.reason
    assert _aliases(name) == {"challenger": "1"}  # validated, never champion


def test_dry_run_registers_nothing(tmp_path):
    make_data(tmp_path / "data" / "d1.csv")
    key, name, cfg = _spec(tmp_path)
    report = retrain.retrain(cfg, dry_run=True)
    assert report.outcomes[0].decision == "would-promote" and report.exit_code == 0
    assert tracking.get_alias(name, "champion") is None
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException):
        tracking.client().get_registered_model(name)


def _raise(*_a, **_k):
    raise RuntimeError("injected failure")


@pytest.mark.parametrize("step", ["train", "log_model", "register", "load_back", "challenger_alias",
                                  "champion_alias"])
def test_a_crash_at_any_step_leaves_the_champion_untouched(tmp_path, monkeypatch, step):
    import toy_adapter

    make_data(tmp_path / "data" / "d1.csv")
    key, name, cfg = _spec(tmp_path)
    assert retrain.retrain(_with_params(cfg, key, features=["x1"])).outcomes[0].decision == "promoted"

    if step == "train":
        monkeypatch.setattr(toy_adapter.ToyAdapter, "train", _raise)
    elif step == "log_model":
        monkeypatch.setattr(toy_adapter.ToyAdapter, "log_model", _raise)
    elif step == "register":
        monkeypatch.setattr(tracking, "register", _raise)
    elif step == "load_back":
        real = toy_adapter.ToyAdapter.load_model
        monkeypatch.setattr(toy_adapter.ToyAdapter, "load_model",
                            lambda self, uri: _raise() if uri.endswith("/2") else real(self, uri))
    else:
        real_set = tracking.set_alias
        target = "challenger" if step == "challenger_alias" else "champion"
        monkeypatch.setattr(tracking, "set_alias",
                            lambda n, a, v: _raise() if a == target else real_set(n, a, v))
    report = retrain.retrain(cfg)  # the challenger (both features) would be promoted
    o = report.outcomes[0]
    assert o.decision == "failed" and report.exit_code == retrain.EXIT_FAILED
    assert "injected failure" in o.reason
    aliases = _aliases(name)
    assert aliases["champion"] == "1"
    if step == "champion_alias":  # validated and aliased challenger: the only alias it may carry
        assert aliases == {"champion": "1", "challenger": "2"}
    else:
        assert aliases == {"champion": "1"}
    versions = {str(v.version): v.tags.get("govml.status") for v in
                tracking.client().search_model_versions(f"name = '{name}'")}
    if step == "load_back":
        assert versions["2"] == "invalid"


def test_runs_of_a_killed_retrain_are_closed(tmp_path):
    import mlflow

    exp_id = tracking.ensure_experiment(retrain.EXPERIMENT)
    import socket

    dead = tracking.client().create_run(exp_id, run_name="killed retrain",
                                        tags={"govml.host": socket.gethostname()})
    elsewhere = tracking.client().create_run(exp_id, run_name="another machine's retrain",
                                             tags={"govml.host": "some-other-host"})
    make_data(tmp_path / "data" / "d1.csv")
    _, _, cfg = _spec(tmp_path)
    retrain.retrain(cfg)
    run = mlflow.get_run(dead.info.run_id)
    assert run.info.status == "KILLED" and "died" in run.data.tags["govml.reason"]
    assert mlflow.get_run(elsewhere.info.run_id).info.status == "RUNNING"
    tracking.client().set_terminated(elsewhere.info.run_id, status="KILLED")


def test_scheduled_runs_are_tagged(tmp_path, monkeypatch):
    import mlflow

    monkeypatch.setenv("GOVML_SCHEDULED", "1")
    make_data(tmp_path / "data" / "d1.csv")
    _, _, cfg = _spec(tmp_path)
    report = retrain.retrain(cfg, dry_run=True)
    assert report.scheduled
    assert mlflow.get_run(report.run_id).data.tags["govml.scheduled"] == "true"
    assert mlflow.get_run(report.outcomes[0].run_id).data.tags["govml.scheduled"] == "true"


# ---- the lock -----------------------------------------------------------------------------


def test_a_second_retrain_is_locked_out_and_a_killed_holder_frees_the_lock(tmp_path, govml_home):
    env = {**os.environ, "GOVML_HOME": str(govml_home), "PYTHONPATH": f"{SRC}{os.pathsep}{HERE}"}
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; from govml.retrain import retrain_lock\n"
         "with retrain_lock():\n    print('held', flush=True); time.sleep(60)"],
        env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        make_data(tmp_path / "data" / "d1.csv")
        _, _, cfg = _spec(tmp_path)
        with pytest.raises(retrain.RetrainLocked, match=f"pid {holder.pid} on") as info:
            retrain.retrain(cfg)
        assert info.value.exit_code == retrain.EXIT_LOCKED == 4
        assert retrain.lock_holder()["pid"] == holder.pid
        # kill -9: the OS releases the lock; nothing stale is left behind
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        with retrain.retrain_lock(timeout_s=5):
            assert retrain.lock_holder()["pid"] == os.getpid()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)


# "load_back": killed after the new version was registered, before any alias points at it — the
# moment a careless order would leave a half-registered champion. (A kill while training is the
# simpler case; ToyAdapter(pause_at="train") reproduces it.)
@pytest.mark.parametrize("where", ["load_back"])
def test_kill_9_mid_retrain_leaves_the_champion_and_no_aliased_half_version(tmp_path, govml_home, where):
    import mlflow
    import yaml

    make_data(tmp_path / "data" / "d1.csv")
    key, name, cfg = _spec(tmp_path)
    assert retrain.retrain(_with_params(cfg, key, features=["x1"])).outcomes[0].decision == "promoted"
    marker = tmp_path / "paused"
    killed = _with_params(cfg, key, pause_at=where, pause_file=str(marker))
    config = tmp_path / "retrain.yaml"
    config.write_text(yaml.safe_dump(killed.model_dump()), encoding="utf-8")
    env = {**os.environ, "GOVML_HOME": str(govml_home), "PYTHONPATH": f"{SRC}{os.pathsep}{HERE}"}
    proc = subprocess.Popen([sys.executable, "-c", "from govml.cli import main; main()", "retrain",
                             "--config", str(config)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the retrain never paused"
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert _aliases(name) == {"champion": "1"}
    versions = {str(v.version): v.tags.get("govml.status") for v in
                tracking.client().search_model_versions(f"name = '{name}'")}
    assert versions == ({"1": "validated"} if where == "train" else {"1": "validated", "2": "pending"})
    # the next retrain gets the lock, closes the dead runs and promotes normally
    report = retrain.retrain(cfg)
    assert report.outcomes[0].decision == "promoted", report.outcomes[0].reason
    assert _aliases(name)["champion"] == report.outcomes[0].challenger_version
    exp = mlflow.get_experiment_by_name("govml-retrain")
    dead = mlflow.search_runs([exp.experiment_id], output_format="list",
                              filter_string=f"tags.`govml.model` = '{key}' AND attributes.status = 'KILLED'")
    assert len(dead) == 1
