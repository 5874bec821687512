"""`govml retrain`, `govml models list`, `govml schedule`: exit codes, output, triggers, one tick."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import pytest
import yaml
from toy_adapter import make_data

from govml import retrain, tracking
from govml.cli import main
from govml.errors import ConfigError

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps table cells to the terminal width


def _config(tmp_path: Path, **spec) -> tuple[Path, str]:
    key = f"toy-{uuid.uuid4().hex[:8]}"
    name = f"govml-{key}"
    make_data(tmp_path / "data" / "d1.csv")
    cfg = {"models": {key: {"adapter": "toy_adapter:ToyAdapter", "registered_name": name,
                            "data": [str(tmp_path / "data" / "*.csv")], "min_improvement": 0.01,
                            "sanity_floor": 0.6, **spec}}}
    path = tmp_path / "retrain.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path, name


def _exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(argv)
    return info.value.code


def test_retrain_twice_then_list(tmp_path, capsys):
    config, name = _config(tmp_path)
    assert _exit_code(["retrain", "--config", str(config)]) == retrain.EXIT_PROMOTED
    out = capsys.readouterr().out
    assert name in out and "promoted" in out and "exit code 0" in out
    assert _exit_code(["retrain", "--config", str(config)]) == retrain.EXIT_KEPT
    out = capsys.readouterr().out
    assert "kept" in out and "not better than champion" in out
    assert _exit_code(["retrain", "--config", str(config), "--dry-run"]) == retrain.EXIT_KEPT
    assert "would-keep" in capsys.readouterr().out

    assert _exit_code(["models", "list", name]) == 0
    listing = capsys.readouterr().out
    assert "champion" in listing and "challenger" in listing and "accuracy" in listing
    assert {a: str(v) for a, v in tracking.client().get_registered_model(name).aliases.items()} == {
        "champion": "1", "challenger": "2"}


def test_retrain_refused_data_exits_1_and_bad_config_exits_2(tmp_path, capsys):
    config, _ = _config(tmp_path, checks={"min_rows": 10_000})
    assert _exit_code(["retrain", "--config", str(config)]) == retrain.EXIT_FAILED
    out = capsys.readouterr().out
    assert "refused" in out and "min_rows 10000" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("models:\n  x:\n    sanity_flor: 1\n", encoding="utf-8")
    assert _exit_code(["retrain", "--config", str(bad)]) == 2
    assert "models.x.sanity_flor" in capsys.readouterr().err
    assert _exit_code(["retrain", "--config", str(config), "--model", "nope"]) == 2
    assert "unknown model" in capsys.readouterr().err


def test_retrain_while_locked_exits_4_naming_the_holder(tmp_path, capsys):
    config, _ = _config(tmp_path)
    with retrain.retrain_lock():
        assert _exit_code(["retrain", "--config", str(config)]) == retrain.EXIT_LOCKED
    err = capsys.readouterr().err
    assert f"pid {os.getpid()}" in err and "another retrain is running" in err


def test_an_unreachable_server_exits_1(tmp_path, capsys, monkeypatch):
    config, _ = _config(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # nothing listens on port 9
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    assert _exit_code(["retrain", "--config", str(config)]) == retrain.EXIT_FAILED
    assert "the MLflow store at http://127.0.0.1:9 cannot be used" in capsys.readouterr().err


def test_schedule_triggers_fire_when_expected():
    utc = dt.UTC
    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=utc)  # a Monday, noon
    weekly = retrain.next_fire_times(retrain.make_trigger("weekly", "03:30", "wed", timezone="UTC"), 3, now)
    assert weekly == [dt.datetime(2026, 12, d, 3, 30, tzinfo=utc) for d in (2, 9, 16)]
    daily = retrain.next_fire_times(retrain.make_trigger("daily", "02:00", timezone="UTC"), 2, now)
    assert daily == [dt.datetime(2026, 12, 1, 2, 0, tzinfo=utc), dt.datetime(2026, 12, 2, 2, 0, tzinfo=utc)]
    hourly = retrain.next_fire_times(retrain.make_trigger("hourly", "00:15", timezone="UTC"), 2, now)
    assert hourly == [now.replace(minute=15), now.replace(hour=13, minute=15)]
    for bad in (("monthly", "03:00", "mon"), ("daily", "25:00", "mon"), ("weekly", "03:00", "someday")):
        with pytest.raises(ConfigError):
            retrain.make_trigger(*bad)


def test_schedule_rejects_bad_options(tmp_path, capsys):
    config, _ = _config(tmp_path)
    assert _exit_code(["schedule", "--every", "fortnightly", "--config", str(config)]) == 2
    assert "--every 'fortnightly'" in capsys.readouterr().err
    assert _exit_code(["schedule", "--config", str(tmp_path / "missing.yaml")]) == 2


def test_the_scheduler_runs_ticks_on_its_trigger(tmp_path, monkeypatch):
    from apscheduler.triggers.interval import IntervalTrigger

    calls = []
    monkeypatch.setattr(retrain, "scheduled_tick", lambda config, models, cwd: calls.append(config) or 3)
    seen = []
    started = dt.datetime.now(dt.UTC)
    ticks = retrain.serve_schedule(IntervalTrigger(seconds=1, timezone="UTC"), tmp_path / "r.yaml",
                                   on_tick=seen.append, stop_after=2)
    assert ticks == 2 and seen == [3, 3] and calls == [(tmp_path / "r.yaml").resolve()] * 2
    assert (dt.datetime.now(dt.UTC) - started).total_seconds() >= 1.5  # it waited for the trigger


def test_one_scheduled_tick_runs_a_tagged_retrain_in_a_subprocess(tmp_path, monkeypatch):
    import mlflow

    config, name = _config(tmp_path)
    src = HERE.parents[1] / "src"
    monkeypatch.setenv("PYTHONPATH", f"{src}{os.pathsep}{HERE}")
    cmd = retrain.retrain_command(config)
    assert cmd[-4:] == ["retrain", "--config", str(config), "--scheduled"]
    assert retrain.scheduled_tick(config, cwd=tmp_path) == retrain.EXIT_PROMOTED
    exp = mlflow.get_experiment_by_name("govml-retrain")
    runs = mlflow.search_runs([exp.experiment_id], output_format="list",
                              filter_string=f"tags.`govml.registered_name` = '{name}'")
    assert len(runs) == 1 and runs[0].data.tags["govml.scheduled"] == "true"
    assert tracking.get_alias(name, "champion") is not None
