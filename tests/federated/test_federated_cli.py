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


def _events(tmp_path, districts: int = 3, seed: int = 5):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = []
    for d in range(districts):
        for a in range(3):
            for cat in ("噪音", "停车"):
                for w in pd.date_range("2024-01-01", periods=40, freq="W-MON"):
                    for _ in range(rng.poisson(1 + a + d)):
                        rows.append({"受理时间": w + pd.Timedelta(hours=int(rng.integers(0, 160))),
                                     "社区": f"d{d}c{a}", "类别": cat, "街道": f"街道{d}"})
    data = tmp_path / "events.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    return data


FORECASTER_ARGS = ["--task", "hotspot-forecaster", "--partition-col", "街道", "--community-col", "社区",
                   "--label-col", "类别", "--time-col", "受理时间", "--n-trees", "6"]


def _forecaster_run_ids():
    import mlflow

    from govml import tracking

    tracking.configure()
    exp = mlflow.get_experiment_by_name(tracking.experiment_name("federated"))
    if exp is None:
        return set()
    runs = mlflow.search_runs([exp.experiment_id], filter_string="tags.`govml.task` = 'hotspot-forecaster'",
                              output_format="list")
    return {r.info.run_id for r in runs}


def test_simulate_hotspot_forecaster_through_the_app(tmp_path, govml_home):
    data = _events(tmp_path)
    out = tmp_path / "fc.json"
    before = _forecaster_run_ids()
    code = _run(["federated", "simulate", str(data), *FORECASTER_ARGS, "--origins", "2", "--out", str(out)])
    assert code in (0, None)
    m = json.loads(out.read_text(encoding="utf-8"))
    for side in ("federated", "centralized", "federated_model_central_replay"):
        assert set(m[side]) >= {"rmse", "mae", "precision_top2pct"}
    assert m["clients"] == 3 and len(m["origins"]) == 2 and m["rounds"] == 6
    assert set(m["bytes_sent_per_client"]) == {"街道0", "街道1", "街道2"}
    assert min(m["bytes_sent_per_client"].values()) > 0
    assert m["excluded"] == {} and m["missing"] == {} and m["left_during_run"] == []
    # the districts scored their own cells: the central replay of the same model agrees to rounding
    assert m["central_replay_comparable"] is True and m["max_rel_diff_central_replay"] < 1e-6
    for k in ("rmse", "mae", "wape", "poisson_deviance"):
        assert m["federated"][k] == pytest.approx(m["federated_model_central_replay"][k], rel=1e-6)
    assert m["federated"]["precision_top2pct"] == m["federated_model_central_replay"]["precision_top2pct"]
    # the central LightGBM forecaster is a different model on the same cells
    assert m["centralized"]["rmse"] != pytest.approx(m["federated"]["rmse"], rel=1e-6)
    assert m["ratio_rmse"] == pytest.approx(m["federated"]["rmse"] / m["centralized"]["rmse"])
    assert m["federated"]["n"] == 2 * 4 * 18  # origins × horizon × (area, category) cells
    assert [o["origin"] for o in m["federated_per_origin"]] == m["origins"]
    assert m["holidays"]["on"] is True  # --holidays auto (default): the factors are reported per model

    import mlflow

    new = _forecaster_run_ids() - before
    assert len(new) == 1  # one run per federated training
    client = mlflow.tracking.MlflowClient()
    run = client.get_run(new.pop())
    assert sorted(h.step for h in client.get_metric_history(run.info.run_id, "tree_leaves")) == list(range(1, 7))
    assert sorted(h.step for h in client.get_metric_history(run.info.run_id, "origin_rmse")) == [1, 2]
    for k in ("federated_rmse", "centralized_rmse", "federated_model_central_replay_rmse", "ratio_rmse"):
        assert k in run.data.metrics


def test_simulate_hotspot_forecaster_names_a_broken_district_and_a_dropout(tmp_path, govml_home, capsys):
    data = _events(tmp_path, districts=4, seed=7)
    out = tmp_path / "fc.json"
    code = _run(["federated", "simulate", str(data), *FORECASTER_ARGS, "--origins", "1", "--no-secure",
                 "--fault", "街道1=broken", "--fault", "街道2=fail:20", "--no-central-replay", "--out", str(out)])
    assert code in (0, None)
    m = json.loads(out.read_text(encoding="utf-8"))
    assert list(m["excluded"]) == ["街道1"] and "community" in m["excluded"]["街道1"]  # its file lacks it
    # 街道2 answers 20 messages, then fails (inside the boosting): named, the run goes on without it
    assert [d["district"] for d in m["left_during_run"]] == ["街道2"] and "tree" in m["left_during_run"][0]["during"]
    assert sorted(m["districts_scored"]) == ["街道0", "街道3"]
    assert m["clients"] == 4 and m["secure"] is False
    # scored on the two districts that finished: 1 origin × 4 weeks × 2 × 3 areas × 2 categories
    assert m["federated"]["n"] == 4 * 2 * 3 * 2
    assert "federated_model_central_replay" not in m and set(m["centralized"]) >= {"rmse", "precision_top2pct"}
    shown = capsys.readouterr().out
    assert "街道1" in shown and "街道2" in shown


def test_forecaster_rejects_dp(tmp_path, capsys):
    data = _events(tmp_path)
    code = _run(["federated", "simulate", str(data), *FORECASTER_ARGS, "--dp-epsilon", "1",
                 "--out", str(tmp_path / "x.json")])
    assert code == 2 and "--dp-epsilon" in capsys.readouterr().err


def test_simulate_benchmark_over_a_secagg_plus_neighbourhood(tmp_path, assessments):
    """--secagg-neighbours k: masks and shares only within a ring of k neighbours; the sums (and so
    every statistic) are those of the complete graph."""
    df = assessments.copy()
    codes = {c: i for i, c in enumerate(sorted(df["community"].astype(str).unique()))}
    df["grp"] = [f"组{codes[str(c)] % 6}" for c in df["community"]]
    data = tmp_path / "scores.csv"
    df.to_csv(data, index=False)
    res = {}
    for k in ("0", "2"):
        out = tmp_path / f"bench_{k}.json"
        code = _run(["federated", "simulate", str(data), "--task", "benchmark", "--partition-col", "grp",
                     "--indicators", "service,response", "--secagg-neighbours", k, "--out", str(out)])
        assert code in (0, None)
        res[k] = json.loads(out.read_text(encoding="utf-8"))
    assert res["0"]["clients"] == res["2"]["clients"] == 6
    assert res["2"]["secure_neighbours"] == 2 and res["0"]["secure_neighbours"] == 0
    assert res["2"]["federated"] == res["0"]["federated"]


def test_simulate_hotspot_forecaster_robust_names_a_poisoned_district(tmp_path, govml_home, capsys):
    """The checked command form plus --robust: a district sending ×20 histograms is left out by name."""
    data = _events(tmp_path, districts=4, seed=7)
    out = tmp_path / "fc.json"
    for policy in ("rescale", "exclude"):
        code = _run(["federated", "simulate", str(data), *FORECASTER_ARGS, "--origins", "1", "--no-secure",
                     "--robust", "--robust-policy", policy, "--fault", "街道2=poison:20", "--no-central-replay",
                     "--out", str(out)])
        assert code in (0, None)
        m = json.loads(out.read_text(encoding="utf-8"))
        assert m["robust"] is True and m["robust_policy"] == policy
        if policy == "exclude":
            assert [d["district"] for d in m["excluded_districts"]] == ["街道2"] and not m["rescaled_districts"]
            assert "root" in m["excluded_districts"][0]["reason"] and m["excluded_districts"][0]["round"] >= 1
            assert sorted(m["districts_scored"]) == ["街道0", "街道1", "街道3"]
        else:
            assert [d["district"] for d in m["rescaled_districts"]] == ["街道2"] and not m["excluded_districts"]
            assert m["rescaled_districts"][0]["gh_factor"] == pytest.approx(20.0)
            assert sorted(m["districts_scored"]) == ["街道0", "街道1", "街道2", "街道3"]
        assert "街道2" in capsys.readouterr().out


def test_robust_forecaster_needs_no_secure(tmp_path, capsys):
    data = _events(tmp_path)
    code = _run(["federated", "simulate", str(data), *FORECASTER_ARGS, "--robust", "--out", str(tmp_path / "x.json")])
    assert code == 2 and "--no-secure" in capsys.readouterr().err
    code = _run(["federated", "simulate", str(data), *FORECASTER_ARGS, "--no-secure", "--strategy", "fedmedian",
                 "--out", str(tmp_path / "x.json")])
    assert code == 2 and "--robust" in capsys.readouterr().err


def test_simulate_holidays_option_is_checked(tmp_path, capsys):
    data = _events(tmp_path)
    code = _run(["federated", "simulate", str(data), *FORECASTER_ARGS, "--holidays", "maybe",
                 "--out", str(tmp_path / "x.json")])
    assert code == 2 and "--holidays must be auto or off" in capsys.readouterr().err
