"""`govml federated simulate` in the form the issue checks."""

from __future__ import annotations

import json

import pytest

from govml.cli import main

pytestmark = pytest.mark.xdist_group("flower")


def _run(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code


def test_simulate_classifier_writes_metrics_and_logs_rounds(tmp_path, messages, govml_home):
    data = tmp_path / "msgs.csv"
    messages.rename(columns={"text": "留言详情", "category": "一级分类"}).to_csv(data, index=False)
    out = tmp_path / "metrics.json"
    code = _run(["federated", "simulate", str(data), "--task", "demand-classifier", "--partition-col", "district",
                 "--rounds", "3", "--secure", "--text-col", "留言详情", "--label-col", "一级分类",
                 "--n-features", "4096", "--out", str(out)])
    assert code in (0, None)
    m = json.loads(out.read_text(encoding="utf-8"))
    for key in ("federated", "centralized", "rounds", "clients", "bytes_sent_per_client"):
        assert key in m
    assert set(m["federated"]) >= {"macro_f1", "accuracy"} and set(m["centralized"]) >= {"macro_f1", "accuracy"}
    assert m["rounds"] == 3 and m["clients"] == 3
    assert set(m["bytes_sent_per_client"]) == {"区1", "区2", "区3"}

    import mlflow

    from govml import tracking

    tracking.configure()
    exp = mlflow.get_experiment_by_name(tracking.experiment_name("federated"))
    runs = mlflow.search_runs([exp.experiment_id], output_format="list")
    run = runs[0]
    hist = mlflow.tracking.MlflowClient().get_metric_history(run.info.run_id, "federated_eval_macro_f1")
    assert sorted(h.step for h in hist) == [1, 2, 3]
    assert "federated_macro_f1" in run.data.metrics and "centralized_macro_f1" in run.data.metrics


def test_simulate_benchmark_with_dp(tmp_path, assessments):
    data = tmp_path / "scores.csv"
    assessments.to_csv(data, index=False)
    out = tmp_path / "bench.json"
    code = _run(["federated", "simulate", str(data), "--task", "benchmark", "--partition-col", "district",
                 "--indicators", "service,response", "--dp-epsilon", "4", "--value-range", "0:100",
                 "--out", str(out)])
    assert code in (0, None)
    m = json.loads(out.read_text(encoding="utf-8"))
    assert m["dp"]["epsilon"] == pytest.approx(4.0)
    assert "max_abs_diff" in m and m["clients"] == 3


def test_user_errors_are_one_line(tmp_path, messages, capsys):
    data = tmp_path / "msgs.csv"
    messages.to_csv(data, index=False)
    code = _run(["federated", "simulate", str(data), "--task", "demand-classifier", "--partition-col", "街道",
                 "--out", str(tmp_path / "m.json")])
    assert code == 2
    assert "街道" in capsys.readouterr().err
    code = _run(["federated", "simulate", str(data), "--task", "forecast", "--partition-col", "district"])
    assert code == 2


def test_simulate_hotspot_forecaster_backtest(tmp_path):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(5)
    rows = []
    for d in range(3):
        for a in range(3):
            for cat in ("噪音", "停车"):
                for w in pd.date_range("2024-01-01", periods=40, freq="W-MON"):
                    for _ in range(rng.poisson(1 + a + d)):
                        rows.append({"受理时间": w + pd.Timedelta(hours=int(rng.integers(0, 160))),
                                     "社区": f"d{d}c{a}", "类别": cat, "街道": f"街道{d}"})
    data = tmp_path / "events.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    out = tmp_path / "fc.json"
    code = _run(["federated", "simulate", str(data), "--task", "hotspot-forecaster", "--partition-col", "街道",
                 "--community-col", "社区", "--label-col", "类别", "--time-col", "受理时间", "--origins", "1",
                 "--n-trees", "10", "--out", str(out)])
    assert code in (0, None)
    m = json.loads(out.read_text(encoding="utf-8"))
    for side in ("federated", "centralized"):
        assert set(m[side]) == {"rmse", "mae", "precision_top2pct"}
    assert m["clients"] == 3 and len(m["origins"]) == 1 and m["rounds"] == 10
    assert set(m["bytes_sent_per_client"]) == {"街道0", "街道1", "街道2"}
