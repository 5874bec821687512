"""`govml skills score / diagnose / weights` end to end on the sample data, and bad inputs."""

from __future__ import annotations

import pandas as pd
import pytest

from govml.cli import app


@pytest.fixture(scope="module")
def runner():
    from typer.testing import CliRunner

    return CliRunner()


def test_diagnose_writes_exact_columns_and_respects_budget(runner, tmp_path, samples_dir):
    plan, gaps, png, cohort = (tmp_path / n for n in ("plan.csv", "gaps.csv", "map.png", "cohort.csv"))
    r = runner.invoke(app, ["skills", "diagnose", str(samples_dir / "assessments.csv"), "--courses",
                            str(samples_dir / "courses.csv"), "--config", "configs/indicators.yaml",
                            "--budget-hours", "20", "--budget-cost", "1500", "--out", str(plan),
                            "--gaps-out", str(gaps), "--map-out", str(png), "--cohort-out", str(cohort)])
    assert r.exit_code == 0, r.output
    p = pd.read_csv(plan)
    assert list(p.columns) == ["worker_id", "course_id", "hours", "cost", "indicators", "gap_closed", "reason"]
    per = p.groupby("worker_id")[["hours", "cost"]].sum()
    assert (per["hours"] <= 20).all() and (per["cost"] <= 1500).all() and len(per) > 50
    g = pd.read_csv(gaps)
    assert list(g.columns) == ["worker_id", "period", "dimension", "indicator", "score", "target", "gap",
                               "peer_percentile", "periods_below"]
    assert g["period"].nunique() == 4
    # every planned worker has a planted shortfall in the latest period
    truth = pd.read_csv(samples_dir / "truth_gaps.csv")
    assert set(p["worker_id"]) <= set(truth["worker_id"])
    assert png.stat().st_size > 10_000 and len(pd.read_csv(cohort)) > 0
    assert "persistent shortfalls flagged" in r.output


def test_score_command(runner, tmp_path, samples_dir):
    out = tmp_path / "scores.csv"
    r = runner.invoke(app, ["skills", "score", str(samples_dir / "assessments.csv"), "--out", str(out), "--no-track"])
    assert r.exit_code == 0, r.output
    s = pd.read_csv(out)
    for col in ("worker_id", "period", "composite", "basic", "livelihood", "professional", "innovation", "card",
                "card_reason"):
        assert col in s.columns
    assert s["composite"].between(0, 100).all()
    assert set(s["card"]) <= {"none", "yellow", "red"} and (s["card"] == "red").any()


def test_bad_inputs_are_named_and_the_rest_processed(runner, tmp_path, samples_dir, caplog):
    df = pd.read_csv(samples_dir / "assessments.csv").head(40)
    df = df.rename(columns={"smart_governance": "smart_govt"})  # unknown indicator name
    df.loc[3, "policy_knowledge"] = 180  # out of range
    ind = [c for c in df.columns if c not in ("worker_id", "community", "district", "area_type", "period",
                                              "resident_rating", "smart_govt")]
    df.loc[5, ind] = None  # a worker-period with every value missing
    df.loc[5, "smart_govt"] = None
    df["sanitation"] = df["sanitation"].astype(object)
    df.loc[8, "sanitation"] = "9O"  # not a number (a typed letter O): that value is left out, the row kept
    df.loc[9, "sanitation"] = "n/a"  # a 'no value' placeholder: read as empty, said once for the column
    bad = tmp_path / "bad.csv"
    df.to_csv(bad, index=False)
    courses = pd.read_csv(samples_dir / "courses.csv", dtype=str)
    courses.loc[0, "hours"] = "0"
    courses.loc[1, "indicators"] = "psychology:0.5"  # trains nothing we know
    bad_courses = tmp_path / "courses.csv"
    courses.to_csv(bad_courses, index=False)
    out = tmp_path / "plan.csv"
    r = runner.invoke(app, ["skills", "diagnose", str(bad), "--courses", str(bad_courses),
                            "--budget-hours", "16", "--out", str(out), "--no-track"])
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "column 'smart_govt'" in text
    assert "row 5, column 'policy_knowledge'" in text and "180" in text
    assert "row 7" in text and "all 19 indicator values missing" in text
    assert "smart_governance" in text  # the configured indicator that is now missing for everyone
    assert "row 10, column 'sanitation'" in text and "'9O'" in text
    assert "row 11, column 'sanitation'" not in text
    assert any("placeholder for 'no value'" in m and "'sanitation' 1" in m for m in caplog.messages)
    assert "courses.csv, row 2, column 'hours'" in text
    assert "courses.csv, row 3, column 'indicators'" in text and "trains nothing" in text
    assert out.exists()


def test_budget_no_course_fits_is_one_clear_line(tmp_path, samples_dir, capsys):
    from govml.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["skills", "diagnose", str(samples_dir / "assessments.csv"), "--courses", str(samples_dir / "courses.csv"),
              "--budget-hours", "1", "--out", str(tmp_path / "p.csv"), "--no-track"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "no course in the catalog fits the budget" in err and "Traceback" not in err


def test_weights_command(runner, tmp_path, samples_dir):
    out, rank = tmp_path / "w.csv", tmp_path / "r.csv"
    r = runner.invoke(app, ["skills", "weights", str(samples_dir / "assessments.csv"), "--out", str(out),
                            "--ranking-out", str(rank)])
    assert r.exit_code == 0, r.output
    w = pd.read_csv(out)
    assert w["entropy_weight"].sum() == pytest.approx(1.0) and w["config_weight"].sum() == pytest.approx(1.0)
    assert pd.read_csv(rank)["rank"].min() == 1


def test_long_form_greedy_period_and_score_log(runner, tmp_path, samples_dir):
    df = pd.read_csv(samples_dir / "assessments.csv").head(200)
    long = df.melt(id_vars=["worker_id", "community", "district", "area_type", "period", "resident_rating"],
                   var_name="indicator", value_name="score").dropna(subset=["score"])
    src = tmp_path / "long.csv"
    long.to_csv(src, index=False)
    plan = tmp_path / "plan.csv"
    r = runner.invoke(app, ["skills", "diagnose", str(src), "--courses", str(samples_dir / "courses.csv"),
                            "--budget-cost", "800", "--method", "greedy", "--period", "2024Q3", "--out", str(plan),
                            "--no-track"])
    assert r.exit_code == 0, r.output
    assert "period 2024Q3" in " ".join(r.output.split())
    p = pd.read_csv(plan)
    assert (p.groupby("worker_id")["cost"].sum() <= 800).all()
    r = runner.invoke(app, ["skills", "diagnose", str(src), "--courses", str(samples_dir / "courses.csv"),
                            "--period", "2030Q1", "--out", str(plan), "--no-track"])
    assert r.exit_code != 0 and "2030Q1" in str(r.exception)
    log = tmp_path / "a.jsonl"
    r = runner.invoke(app, ["skills", "score", str(src), "--out", str(tmp_path / "s.csv"), "--log", str(log),
                            "--no-track"])
    assert r.exit_code == 0, r.output
    assert len(log.read_text(encoding="utf-8").splitlines()) == 200
    assert (tmp_path / "a.jsonl.head").exists()
