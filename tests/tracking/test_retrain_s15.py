"""Session 15 dry run of `govml retrain`, `govml schedule` and `govml models` as operators run them (round 2): each
test pins one fix. Toy adapter or a refused file (nothing heavy is trained), generated data."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from toy_adapter import make_data

from govml import io, models, retrain, tracking
from govml.cli import main
from govml.errors import DataError, TrackingError


def _cli(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    cap = capsys.readouterr()
    return info.value.code, cap.out, cap.err


def _toy(tmp_path: Path, key: str | None = None, **spec) -> tuple[retrain.RetrainConfig, str, str]:
    key = key or f"toy-{uuid.uuid4().hex[:8]}"
    name = spec.pop("registered_name", f"govml-{key}")
    if not (tmp_path / "data").exists():
        make_data(tmp_path / "data" / "d1.csv")
    cfg = retrain.RetrainConfig.model_validate({"models": {key: {
        "adapter": "toy_adapter:ToyAdapter", "registered_name": name, "data": [str(tmp_path / "data" / "*.csv")],
        **spec}}})
    return cfg, key, name


# ---- the reader's hints name retrain.yaml's keys ------------------------------------------------


def test_reader_hints_name_the_retrain_yaml_key_and_the_model(tmp_path):
    import pandas as pd

    rows = pd.DataFrame({"id": ["M1", "M2"], "created_at": ["2026-01-05 10:00", "2026-01-06 10:00"],
                         "区县": ["青山区", "青山区"], "community": ["金桥社区"] * 2, "text": ["楼道灯坏了"] * 2})
    csv = tmp_path / "messages.csv"
    rows.to_csv(csv, index=False)
    with pytest.raises(DataError) as outside:  # every other reader: the CLI options, as before
        io.load(csv, "messages")
    assert "--map district=区县" in str(outside.value)
    with io.settings_from(tmp_path / "retrain.yaml", "models.demand-classifier"), pytest.raises(DataError) as inside:
        io.load(csv, "messages")
    text = str(inside.value)
    assert "--map" not in text
    assert "`mapping: {district: 区县}` under models.demand-classifier in retrain.yaml" in text
    with io.settings_from("r.yaml", "models.m"):
        assert io.option_hint("a.xlsx: … the first does not); --sheet NAME reads another") == \
            "a.xlsx: … the first does not); `sheet: NAME` under models.m in r.yaml reads another"
        assert io.option_hint("x.csv: not UTF-8; pass --encoding (e.g. --encoding big5)") == \
            "x.csv: not UTF-8; set `encoding:` under models.m in r.yaml (e.g. `encoding: big5`)"
        assert "leave `encoding:` (under models.m in r.yaml) out" in io.option_hint("leave --encoding out to detect")
        assert io.option_hint("--category-level 1") == "--category-level 1"  # not a reader setting of retrain.yaml
    assert io.option_hint("--sheet NAME") == "--sheet NAME"  # outside the block


def test_a_retrain_refusal_names_the_key_under_the_model(tmp_path):
    bad = tmp_path / "data" / "messages.csv"
    bad.parent.mkdir()
    bad.write_text("id,created_at,区县,community,text,category\nM1,2026-01-05 10:00,青山区,金桥社区,灯坏了,市政\n",
                   encoding="utf-8")
    config = tmp_path / "district-a.yaml"
    config.write_text(yaml.safe_dump({"models": {"demand-classifier": {
        "registered_name": f"govml-dc-{uuid.uuid4().hex[:6]}", "data": [str(bad)]}}}), encoding="utf-8")
    (o,) = retrain.retrain(config).outcomes
    assert o.decision == "refused"
    assert "`mapping: {district: 区县}` under models.demand-classifier in district-a.yaml" in o.reason
    assert "--map" not in o.reason


# ---- a file still being written ------------------------------------------------------------------


def test_a_file_still_being_written_is_refused_not_trained_on(tmp_path):
    whole = make_data(tmp_path / "whole.csv", n=200)
    raw = whole.read_bytes()
    cut = tmp_path / "cut.csv"  # cut in the middle of a row
    cut.write_bytes(raw[: raw.rindex(b"\n", 0, len(raw) // 2) + 9])
    assert "fields" in retrain.incomplete_file(cut)
    quoted = tmp_path / "quoted.csv"
    quoted.write_bytes(b'id,text\n1,"ok"\n2,"still be')
    assert "inside a quoted cell" in retrain.incomplete_file(quoted)
    no_break = tmp_path / "no_break.csv"  # whole rows, no final line break: recent = still being written
    no_break.write_bytes(raw.rstrip(b"\n"))
    assert "modified" in retrain.incomplete_file(no_break)
    old = time.time() - 3600  # … but an old hand-saved file without the final line break is read as before
    os.utime(no_break, (old, old))
    assert retrain.incomplete_file(no_break) is None
    assert retrain.incomplete_file(whole) is None
    book = tmp_path / "export.xlsx"
    import pandas as pd

    pd.DataFrame({"a": range(500)}).to_excel(book, index=False)
    assert retrain.incomplete_file(book) is None
    book.write_bytes(book.read_bytes()[: book.stat().st_size * 2 // 3])
    assert "the workbook is incomplete" in retrain.incomplete_file(book)

    # the pipeline refuses it before training; the champion (none here) untouched, nothing registered
    data = tmp_path / "incoming"
    data.mkdir()
    (data / "d.csv").write_bytes(cut.read_bytes())
    cfg, _, name = _toy(tmp_path, data=[str(data / "*.csv")])
    (o,) = retrain.retrain(cfg).outcomes
    assert o.decision == "refused" and "the file looks incomplete" in o.reason and o.challenger_version is None
    assert models.registered_names().count(name) == 0


def test_a_file_that_changes_while_it_is_read_is_refused(tmp_path, monkeypatch):
    from toy_adapter import ToyAdapter

    class Growing(ToyAdapter):  # the export job appends while the retrain reads
        def load_data(self, path, mapping):
            frame = super().load_data(path, mapping)
            with open(path, "a", encoding="utf-8") as f:
                f.write("2026-06-01,a,0.1,0.2,1\n")
            return frame

    monkeypatch.setitem(retrain.ADAPTERS, "growing-toy", Growing)
    make_data(tmp_path / "data" / "d1.csv")
    cfg = retrain.RetrainConfig.model_validate({"models": {f"grow-{uuid.uuid4().hex[:6]}": {
        "task": "growing-toy", "data": [str(tmp_path / "data" / "*.csv")]}}})
    (o,) = retrain.retrain(cfg).outcomes
    assert o.decision == "refused" and "changed while it was read" in o.reason


# ---- the lock ------------------------------------------------------------------------------------


def test_a_dead_holders_record_is_taken_over_with_a_line_and_a_live_holder_still_blocks(tmp_path, caplog):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path = retrain.lock_path()
    record = {"pid": dead.pid, "host": __import__("socket").gethostname(), "started": "2026-12-01T03:00:00+00:00",
              "removed_at_exit": True}
    path.with_suffix(".holder.json").write_text(json.dumps(record), encoding="utf-8")
    with retrain.retrain_lock():
        assert retrain.lock_holder()["pid"] == os.getpid()
    (line,) = [r.getMessage() for r in caplog.records if "stale retrain lock" in r.getMessage()]
    assert f"pid {dead.pid}" in line and "no longer running" in line and "started 2026-12-01T03:00:00" in line
    assert retrain.lock_holder() is None  # a finished retrain leaves no record behind

    # a live retrain (another process holding the lock) still blocks: exit 4, naming it
    ready = tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, pathlib; from govml import retrain\n"
        "with retrain.retrain_lock():\n"
        f"    pathlib.Path({str(ready)!r}).write_text('x'); time.sleep(60)\n")], env=os.environ.copy())
    try:
        deadline = time.time() + 60
        while not ready.exists() and time.time() < deadline:
            time.sleep(0.2)
        assert ready.exists()
        with pytest.raises(retrain.RetrainLocked) as info, retrain.retrain_lock():
            pass
        assert info.value.exit_code == retrain.EXIT_LOCKED and f"pid {holder.pid}" in str(info.value)
    finally:
        holder.kill()
        holder.wait()
    caplog.clear()
    with retrain.retrain_lock():  # the holder killed: its record is stale, taken over with the line
        pass
    assert any(f"pid {holder.pid}" in r.getMessage() and "stale" in r.getMessage() for r in caplog.records)


# ---- what reaches the cron log --------------------------------------------------------------------


def test_mlflow_notices_stay_out_of_an_operators_log(tmp_path, monkeypatch, capfd):
    monkeypatch.delenv("GOVML_DEBUG", raising=False)
    monkeypatch.setattr(tracking, "_USER_MLFLOW_LEVEL", None)
    tracking.configure()
    import logging

    assert logging.getLogger("mlflow").getEffectiveLevel() >= logging.WARNING
    cfg, _, name = _toy(tmp_path)
    capfd.readouterr()
    assert retrain.retrain(cfg).outcomes[0].decision == "promoted"
    err = capfd.readouterr().err
    assert "Successfully registered model" not in err and "Created version" not in err
    assert "INFO mlflow" not in err
    with tracking._without_registry_notices():  # anything else written meanwhile is passed on
        print("Created version '3' of model 'x'.\nsomething else", file=sys.stderr)
    assert capfd.readouterr().err == "something else\n"


# ---- govml models ----------------------------------------------------------------------------------


def test_models_commands_on_a_store_with_several_models_and_a_chinese_name(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    cfg, key, name = _toy(tmp_path, key="需求 分类", registered_name=f"govml-需求 分类 {uuid.uuid4().hex[:4]}")
    other, _, other_name = _toy(tmp_path)
    for _ in range(2):
        retrain.retrain(cfg)
    retrain.retrain(other)
    code, out, _ = _cli(["models", "list", name], capsys)
    assert code == 0 and name.split()[0] in out
    # an unknown name: was an empty table saying "no registered model yet" (exit 0) in a store holding models
    code, _, err = _cli(["models", "list", "govml-nope"], capsys)
    assert code == 2 and "no registered model 'govml-nope'" in err and other_name in err
    # the version already in service: said, nothing changed (was "champion is now version 1 (was 1)", retagged)
    code, out, _ = _cli(["models", "promote", name, "1"], capsys)
    assert code == 0 and "already the champion; nothing changed" in out
    c = tracking.client()
    assert c.get_model_version(name, "1").tags["govml.decision"] == "promoted"
    # a failed (invalid) or unfinished (pending) version: refused, saying why and which can be promoted
    c.set_model_version_tag(name, "2", "govml.status", "invalid")
    code, _, err = _cli(["models", "promote", name, "2"], capsys)
    assert code == 2 and "did not score what it scored" in err and "(validated: 1)" in err
    c.set_model_version_tag(name, "2", "govml.status", "pending")
    with pytest.raises(TrackingError, match="killed or crashed"):
        models.promote(name, "2")
    # an archived version (MLflow's UI): refused, and `models list` shows the stage
    c.set_model_version_tag(name, "2", "govml.status", "validated")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c.transition_model_version_stage(name, "2", "Archived")
    with pytest.raises(TrackingError, match="archived"):
        models.promote(name, "2")
    assert {r["version"]: r["stage"] for r in models.list_models() if r["name"] == name} == {"2": "Archived",
                                                                                             "1": ""}
    # the short name (the retrain.yaml key of a model registered as govml-KEY) is accepted
    short = other_name.removeprefix("govml-")
    assert models._resolve(short) == other_name


# ---- a store moved to another folder ----------------------------------------------------------------


def test_a_moved_store_is_pointed_at_its_new_folder(tmp_path, monkeypatch, caplog):
    import shutil

    old_home, new_home = tmp_path / "old home", tmp_path / "new home"
    monkeypatch.setenv("GOVML_HOME", str(old_home))
    tracking.configure()
    cfg, _, name = _toy(tmp_path)
    assert retrain.retrain(cfg).outcomes[0].decision == "promoted"
    shutil.move(str(old_home), str(new_home))
    monkeypatch.setenv("GOVML_HOME", str(new_home))
    tracking._CHECKED_STORES.clear()
    tracking.configure()  # was: every version "(files deleted)", the champion not loadable
    assert any("was moved or copied" in r.getMessage() for r in caplog.records)
    (row,) = [r for r in models.list_models() if r["name"] == name]
    assert row["files"] is True
    import mlflow

    assert mlflow.get_experiment_by_name("govml-retrain").artifact_location.startswith((new_home / "mlruns").as_uri())
    assert models.load(name) is not None
    assert tracking.relocate_store(new_home / "mlruns" / "mlflow.db") == {}  # once only


# ---- govml schedule → crontab ---------------------------------------------------------------------------


def test_schedule_prints_a_crontab_line_that_works_pasted_as_it_is(tmp_path, monkeypatch, capsys):
    project = tmp_path / "my project"  # a space in the path
    project.mkdir()
    monkeypatch.chdir(project)
    config = project / "retrain.yaml"
    config.write_text("models:\n  demand-classifier:\n    data: [incoming/*.csv]\n", encoding="utf-8")
    monkeypatch.setenv("GOVML_HOME", str(project / "store 50%"))
    code, out, _ = _cli(["schedule", "--config", "retrain.yaml", "--cron", "--every", "weekly", "--day", "sun",
                         "--at", "04:30"], capsys)
    assert code == 0
    line = out.strip()
    assert line.startswith("30 4 * * 0  cd ") and "\\%" in line and "--scheduled" in line
    # run its command as cron does: sh, from HOME, PATH=/usr/bin:/bin, no other variables; `%` unescaped by cron
    command = line.split("  ", 1)[1].replace("\\%", "%")
    config.write_text("models:\n  demand-classifier:\n    enabled: false\n", encoding="utf-8")  # exit 2, fast
    rc = subprocess.call(["/bin/sh", "-c", command], cwd="/", env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    log = (project / "logs" / "retrain.log").read_text(encoding="utf-8")
    assert rc == 2 and "no enabled model to retrain" in log  # govml ran, with this config, into this log
    assert shlex.quote(str(project / "store 50%")).replace("%", "\\%") in line  # the store this shell uses


# ---- two configs, one store ------------------------------------------------------------------------------


def test_two_configs_sharing_one_store_and_model_are_refused_saying_so(tmp_path):
    key = f"toy-{uuid.uuid4().hex[:6]}"
    files = {}
    for district, groups in (("a", ("a", "b", "c")), ("b", ("x", "y", "z"))):
        make_data(tmp_path / district / "d.csv", groups=groups)
        files[district] = tmp_path / f"district-{district}.yaml"
        files[district].write_text(yaml.safe_dump({"models": {key: {
            "adapter": "toy_adapter:ToyAdapter", "registered_name": f"govml-{key}",
            "data": [str(tmp_path / district / "*.csv")]}}}), encoding="utf-8")
    assert retrain.retrain(files["a"]).outcomes[0].decision == "promoted"
    (o,) = retrain.retrain(files["b"]).outcomes
    # was: refused "group value(s) vanished: a, b, c" (district a's data) — or, same groups, a's champion replaced
    assert o.decision == "refused" and f"came from another config, {files['a']}" in o.reason
    assert "vanished" not in o.reason and f"registered_name: govml-{key}-district-b" in o.reason
    assert o.champion_version == "1"
    files["a"].rename(tmp_path / "old-name.yaml")  # a renamed config is the same config: no refusal for that
    (o,) = retrain.retrain(tmp_path / "old-name.yaml").outcomes
    assert "another config" not in o.reason
