"""Session 14 dry run of `govml retrain` as its operators run it (cron, a log file, a typo in the YAML, a store
that cannot be written, a cell with a phone number): each test pins one fix. Toy adapter, generated data."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml
from toy_adapter import ToyAdapter, make_data

from govml import models, retrain, tracking
from govml.cli import main
from govml.errors import ConfigError, DataError, Problem


def _config(tmp_path: Path, **spec) -> tuple[Path, str, str]:
    key = f"toy-{uuid.uuid4().hex[:8]}"
    name = f"govml-{key}"
    if not (tmp_path / "data").exists():
        make_data(tmp_path / "data" / "d1.csv")
    cfg = {"models": {key: {"adapter": "toy_adapter:ToyAdapter", "registered_name": name,
                            "data": [str(tmp_path / "data" / "*.csv")], "min_improvement": 0.01,
                            "sanity_floor": 0.6, **spec}}}
    path = tmp_path / f"{key}.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path, key, name


def _cli(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    cap = capsys.readouterr()
    return info.value.code, cap.out, cap.err


def _retrain_runs(key: str) -> list:
    import mlflow

    exp = mlflow.get_experiment_by_name("govml-retrain")
    if exp is None:
        return []
    return mlflow.search_runs([exp.experiment_id], output_format="list",
                              filter_string=f"tags.`govml.model` = '{key}'")


# ---- the YAML ---------------------------------------------------------------------------------


def test_config_messages_name_the_key_what_was_found_and_the_fix(tmp_path, monkeypatch):
    def problem(text: str) -> str:
        path = tmp_path / "r.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            retrain.load_config(path)
        return str(info.value)

    msg = problem("models:\n  m:\n    sanity_flor: 0.3\n")
    assert "models.m.sanity_flor: unknown key (did you mean 'sanity_floor'?" in msg
    msg = problem("models:\n  m:\n    checks:\n      min_row: 5\n")
    assert "did you mean 'min_rows'?" in msg
    assert "found 'five'" in problem("models:\n  m:\n    min_improvement: five\n")
    assert "expected a mapping" in problem("- demand-classifier\n")
    # one path instead of a list is what an operator writes: it is read as a list of one
    cfg = tmp_path / "one.yaml"
    cfg.write_text("models:\n  m:\n    data: incoming/messages_*.csv\n", encoding="utf-8")
    assert retrain.load_config(cfg).models["m"].data == ["incoming/messages_*.csv"]
    # a relative --config from cron's folder: the message says where it looked and what to do
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        retrain.load_config(Path("configs/retrain.yaml"))
    assert str(tmp_path / "configs" / "retrain.yaml") in str(info.value) and "cd " in str(info.value)


def test_unknown_task_or_params_key_is_exit_2_before_any_run(tmp_path, capsys):
    config, key, _ = _config(tmp_path, adapter=None)  # a key that is not a built-in task, no adapter
    code, out, err = _cli(["retrain", "--config", str(config)], capsys)
    assert code == 2 and f"models.{key}: unknown task" in err
    assert _retrain_runs(key) == []  # nothing was started or logged (was: a "failed" run, exit 1)

    typo = tmp_path / "typo.yaml"
    typo.write_text(yaml.safe_dump({"models": {"demand-classifier": {"data": ["x.csv"],
                                                                     "params": {"holdout_week": 4}}}}))
    code, _, err = _cli(["retrain", "--config", str(typo)], capsys)
    assert code == 2 and "models.demand-classifier.params" in err and "did you mean 'holdout_weeks'?" in err
    with pytest.raises(TypeError, match="did you mean 'n_estimators'"):
        retrain.HotspotForecasterAdapter(n_estimator=50)
    # sheet/encoding for an adapter whose load_data cannot take them: said before anything runs
    with pytest.raises(ConfigError, match="sheet set, but ToyAdapter.load_data takes no such argument"):
        retrain.make_adapter("t", retrain.ModelSpec(adapter="toy_adapter:ToyAdapter", sheet=1))


def test_a_store_folder_that_cannot_be_written_is_exit_1_naming_govml_home(tmp_path, capsys, monkeypatch):
    config, _, _ = _config(tmp_path)
    not_a_folder = tmp_path / "home-is-a-file"
    not_a_folder.write_text("x")
    monkeypatch.setenv("GOVML_HOME", str(not_a_folder))
    code, _, err = _cli(["retrain", "--config", str(config)], capsys)
    assert code == retrain.EXIT_FAILED  # was 2, "error: …/mlruns: Not a directory"
    assert f"GOVML_HOME={not_a_folder}" in err and "cannot be used" in err
    # a lock file that cannot be opened (a read-only store folder, here a folder in its place) was exit 70,
    # "internal error: OSError … (this is a bug in govml …)"
    home = tmp_path / "home"
    (home / "mlruns" / "retrain.lock").mkdir(parents=True)
    monkeypatch.setenv("GOVML_HOME", str(home))
    code, _, err = _cli(["retrain", "--config", str(config)], capsys)
    assert code == retrain.EXIT_FAILED and "internal error" not in err and f"GOVML_HOME={home}" in err


def test_a_sqlite_uri_keeps_artifacts_beside_its_database(tmp_path, monkeypatch):
    import mlflow

    db = tmp_path / "store" / "mlflow.db"
    db.parent.mkdir()
    elsewhere = tmp_path / "cron-folder"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    exp_id = tracking.ensure_experiment(f"s14-{uuid.uuid4().hex[:6]}")
    location = mlflow.get_experiment(exp_id).artifact_location
    assert location == (tmp_path / "store" / "artifacts").as_uri()  # was <current folder>/mlruns/<id>
    assert not (elsewhere / "mlruns").exists()
    assert tracking.sqlite_artifacts("http://mlflow.internal:5000") is None


# ---- what a cron log and MLflow show ----------------------------------------------------------


def test_a_log_file_gets_whole_reasons_and_the_version_in_service(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # what rich assumes when the output is a file
    config, key, name = _config(tmp_path, checks={"min_rows": 500})
    code, out, _ = _cli(["retrain", "--config", str(config)], capsys)
    assert code == retrain.EXIT_PROMOTED
    assert f"{name}: promoted — no champion yet; challenger accuracy" in out
    assert "champion before this run: none" in out
    # a smaller export is refused: the whole reason on one line, and which version stays in service
    make_data(tmp_path / "data" / "d2.csv", n=100, seed=1)
    code, out, _ = _cli(["retrain", "--config", str(config)], capsys)
    assert code == retrain.EXIT_FAILED
    assert "d2.csv: data refused before training: only 100 rows (min_rows 500); 100 rows, far fewer than " \
           "the 600 of the last accepted data (min_rows_ratio 0.5)" in out
    assert "champion before this run: v1" in out and "None rows" not in out
    (run,) = [r for r in _retrain_runs(key) if r.data.tags.get("govml.decision") == "refused"]
    assert run.data.tags["govml.champion_version"] == "1"


def test_a_first_run_in_a_new_store_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GOVML_HOME", str(tmp_path / "fresh-home"))
    monkeypatch.setenv("COLUMNS", "200")
    config, _, _ = _config(tmp_path, checks={"min_rows": 10_000})  # refused: no training needed
    code, out, _ = _cli(["retrain", "--config", str(config)], capsys)
    assert code == retrain.EXIT_FAILED
    assert "this run created a new, empty MLflow store" in out
    _, out, _ = _cli(["retrain", "--config", str(config)], capsys)
    assert "new, empty MLflow store" not in out


class _PiiAdapter(ToyAdapter):
    """Refuses its file the way govml.io does, quoting a cell that holds a phone number."""

    def load_data(self, path, mapping):
        raise DataError(problems=[Problem(path.name, 7, "created_at", "a date/time", "联系人张伟 13812345678")],
                        message=f"{path.name}: cannot be used")


class _BuggyAdapter(ToyAdapter):
    def train(self, frame):
        raise KeyError("13812345678")


def test_refusals_and_crashes_reach_mlflow_masked_and_without_a_traceback(tmp_path, monkeypatch, caplog):
    import mlflow

    monkeypatch.setitem(retrain.ADAPTERS, "pii-toy", _PiiAdapter)
    monkeypatch.setitem(retrain.ADAPTERS, "buggy-toy", _BuggyAdapter)
    make_data(tmp_path / "data" / "d1.csv")
    cfg = retrain.RetrainConfig.model_validate({"models": {
        f"pii-toy-{uuid.uuid4().hex[:6]}": {"task": "pii-toy", "data": [str(tmp_path / "data" / "*.csv")]},
        f"bug-toy-{uuid.uuid4().hex[:6]}": {"task": "buggy-toy", "data": [str(tmp_path / "data" / "*.csv")]}}})
    monkeypatch.delenv("GOVML_DEBUG", raising=False)
    report = retrain.retrain(cfg)
    refused, failed = report.outcomes
    assert refused.decision == "refused" and "<PHONE>" in refused.reason and "13812345678" not in refused.reason
    assert failed.decision == "failed" and "traceback.txt" in failed.reason
    # the terminal gets one line, "retrain of … failed: KeyError: '<PHONE>'" (was: the whole traceback)
    (line,) = [r for r in caplog.records if r.name == "govml.retrain" and "failed" in r.getMessage()]
    assert "KeyError" in line.getMessage() and "13812345678" not in line.getMessage() and not line.exc_info
    summary = mlflow.artifacts.load_text(f"runs:/{report.run_id}/summary.md")
    assert "13812345678" not in summary
    for o in (refused, failed):
        assert "13812345678" not in mlflow.get_run(o.run_id).data.tags["govml.reason"]
    text = mlflow.artifacts.load_text(f"runs:/{failed.run_id}/traceback.txt")
    assert "in train" in text and "13812345678" not in text


def test_a_dry_run_does_not_move_the_data_baseline(tmp_path):
    make_data(tmp_path / "data" / "d1.csv", n=600)
    key = f"toy-{uuid.uuid4().hex[:8]}"
    spec = {"adapter": "toy_adapter:ToyAdapter", "registered_name": f"govml-{key}",
            "data": [str(tmp_path / "data" / "*.csv")], "checks": {"min_rows": 10}}
    cfg = retrain.RetrainConfig.model_validate({"models": {key: spec}})
    assert retrain.retrain(cfg).outcomes[0].decision == "promoted"
    # an operator tries a merged export with --dry-run (3x the rows) …
    trial = tmp_path / "trial" / "merged.csv"
    make_data(trial, n=1800, seed=2)
    tried = cfg.model_copy(deep=True)
    tried.models[key].data = [str(trial)]
    assert retrain.retrain(tried, dry_run=True).outcomes[0].decision.startswith("would-")
    # … the next weekly export (as big as the last real one) is still compared with the last real run
    make_data(tmp_path / "data" / "d2.csv", n=600, seed=3)
    o = retrain.retrain(cfg).outcomes[0]
    assert o.decision in ("promoted", "kept"), o.reason  # was: refused, "600 rows, far fewer than the 1800"


def test_plain_summary_lines_and_table_without_rows(tmp_path):
    from rich.console import Console

    from govml.cli.retrain import summary_lines, summary_table

    o = retrain.Outcome("m", "govml-m", "refused", "empty.csv: the file is empty", metric="rmse",
                        greater_is_better=False, data_file="/x/empty.csv", rows=None, champion_version="3")
    report = retrain.RetrainReport([o], "run1")
    assert summary_lines(report) == [
        "govml-m: refused — empty.csv: the file is empty",
        "  data empty.csv; rmse (lower is better): challenger -, champion -; champion before this run: v3"]
    console = Console(width=200, record=True)
    console.print(summary_table(report))
    assert "None" not in console.export_text()


def test_the_forecaster_wrapper_is_defined_without_mlflows_type_hint_warning(monkeypatch, capfd):
    from govml import models

    monkeypatch.setattr(models, "_PYFUNC_CLASS", None)
    monkeypatch.delitem(models.__dict__, "GovmlPyfunc", raising=False)
    cls = models._pyfunc_class()
    assert cls.__module__ == "govml.models" and models.GovmlPyfunc is cls
    assert "type hints" not in capfd.readouterr().err


def test_built_in_adapters_read_the_configured_sheet(tmp_path):
    import pandas as pd

    rows = [{"id": f"M{i}", "created_at": f"2026-0{1 + i % 9}-0{1 + i % 9} 10:00:00", "district": "青山区",
             "community": "金桥社区", "text": "楼道灯坏了", "category": "市政设施"} for i in range(12)]
    book = tmp_path / "export.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.DataFrame(rows[:4]).to_excel(writer, sheet_name="上周", index=False)
        pd.DataFrame(rows).to_excel(writer, sheet_name="本周", index=False)
    spec = retrain.ModelSpec(sheet="本周")
    adapter = retrain.make_adapter("demand-classifier", spec)
    assert len(adapter.load_data(book, {}, **retrain._read_options(spec))) == 12
    assert len(adapter.load_data(book, {})) == 4  # default: the first sheet


def test_schedule_refuses_an_unknown_or_disabled_model_at_start(tmp_path, capsys):
    config, key, _ = _config(tmp_path)
    code, _, err = _cli(["schedule", "--config", str(config), "--model", "nope"], capsys)
    assert code == 2 and "unknown model(s) ['nope']" in err  # was: started, and every tick exited 2
    off, key, _ = _config(tmp_path, enabled=False)
    code, _, err = _cli(["retrain", "--config", str(off)], capsys)
    assert code == 2 and f"{key}: enabled: false" in err


def test_the_registry_says_which_version_replaced_a_champion_and_on_what_data(tmp_path):
    make_data(tmp_path / "data" / "d1.csv")
    key = f"toy-{uuid.uuid4().hex[:8]}"
    name = f"govml-{key}"
    spec = {"adapter": "toy_adapter:ToyAdapter", "registered_name": name, "data": [str(tmp_path / "data" / "*.csv")],
            "min_improvement": 0.01, "params": {"features": ["x1"]}}
    cfg = retrain.RetrainConfig.model_validate({"models": {key: spec}})
    assert retrain.retrain(cfg).outcomes[0].decision == "promoted"
    cfg.models[key].params = {}  # both features: clearly better
    report = retrain.retrain(cfg)
    assert report.outcomes[0].decision == "promoted"
    c = tracking.client()
    v1, v2 = (c.get_model_version(name, v) for v in ("1", "2"))
    assert v1.tags["govml.replaced_by"].startswith("v2 ") and "govml.replaced_by" not in v2.tags
    assert v2.tags["govml.data_file"] == "d1.csv"


def test_a_champion_whose_files_were_deleted_leaves_a_validated_challenger_to_promote(tmp_path, capsys):
    import shutil
    from urllib.parse import urlparse

    import mlflow

    make_data(tmp_path / "data" / "d1.csv")
    key = f"toy-{uuid.uuid4().hex[:8]}"
    name = f"govml-{key}"
    cfg = retrain.RetrainConfig.model_validate({"models": {key: {
        "adapter": "toy_adapter:ToyAdapter", "registered_name": name, "data": [str(tmp_path / "data" / "*.csv")]}}})
    assert retrain.retrain(cfg).outcomes[0].decision == "promoted"
    v1 = tracking.client().get_model_version(name, "1")
    assert models.files_present(v1.source) is True
    shutil.rmtree(urlparse(mlflow.get_logged_model(v1.source.rsplit("/", 1)[-1]).artifact_location).path)
    assert models.files_present(v1.source) is False

    o = retrain.retrain(cfg).outcomes[0]
    # was: failed with "MlflowException: No such artifact: ''", nothing registered — every week again
    assert o.decision == "failed" and "the champion (version 1" in o.reason
    assert f"`govml models promote {name} 2`" in o.reason
    aliases = {a: str(v) for a, v in tracking.client().get_registered_model(name).aliases.items()}
    assert aliases == {"champion": "1", "challenger": "2"}

    listed = {r["version"]: r["files"] for r in models.list_models() if r["name"] == name}
    assert listed == {"2": True, "1": False}  # `govml models list` shows v1 "validated (files deleted)"
    from govml.cli.models import models_table

    status = {v: st for v, st in zip(models_table(name).columns[1]._cells, models_table(name).columns[4]._cells,
                                     strict=True)}
    assert status == {"2": "validated", "1": "validated [red](files deleted)[/]"}
    code, out, _ = _cli(["models", "promote", name, "2"], capsys)
    assert code == 0 and "champion is now version 2 (was 1)" in out
    code, _, err = _cli(["models", "promote", name, "1"], capsys)  # back to the one whose files are gone: refused
    assert code != 0 and "no longer in the store" in err
    aliases = {a: str(v) for a, v in tracking.client().get_registered_model(name).aliases.items()}
    assert aliases == {"champion": "2"}
    assert tracking.client().get_model_version(name, "1").tags["govml.replaced_by"].endswith("(by hand)")
    code, _, err = _cli(["models", "promote", name, "9"], capsys)
    assert code == 2 and "no version 9" in err and "versions: 2, 1" in err
