"""The indicator system: validation messages, defaults, and a new indicator added in YAML only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from govml.errors import ConfigError
from govml.skills import (
    IndicatorNormaliser,
    diagnose_gaps,
    load_indicator_system,
    parse_courses,
    plan_courses,
    prepare_assessments,
    score_assessments,
)

ROOT = Path(__file__).resolve().parents[2]


def test_default_config_valid_and_packaged_copy_identical():
    system = load_indicator_system(ROOT / "configs" / "indicators.yaml")
    assert [d.name for d in system.dimensions] == ["基础服务", "民生响应", "专业能力", "创新发展"]
    assert 16 <= len(system.indicator_ids) <= 24
    assert (ROOT / "configs" / "indicators.yaml").read_bytes() == (
        ROOT / "src" / "govml" / "resources" / "indicators.yaml").read_bytes()
    for area in system.area_types:
        assert sum(system.overall_weights(area).values()) == pytest.approx(1.0)
    assert system.source_weights()["resident_panel"] == pytest.approx(0.4)


def test_default_path_falls_back_to_packaged_copy(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ here
    system = load_indicator_system(None)
    assert "policy_knowledge" in system.indicator_ids


def _write(tmp_path, data) -> Path:
    p = tmp_path / "ind.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


def test_unknown_key_names_file_and_key(tmp_path, tiny_dict):
    tiny_dict["indicators"][0]["weigth"] = 2
    p = _write(tmp_path, tiny_dict)
    with pytest.raises(ConfigError) as exc:
        load_indicator_system(p)
    assert str(p) in str(exc.value) and "indicators[0].weigth" in str(exc.value)


def test_unknown_dimension_and_target_outside_range(tmp_path, tiny_dict):
    tiny_dict["indicators"][2]["dimension"] = "nope"
    with pytest.raises(ConfigError, match="unknown dimension 'nope'"):
        load_indicator_system(_write(tmp_path, tiny_dict))
    tiny_dict["indicators"][2]["dimension"] = "pro"
    tiny_dict["indicators"][2]["target"] = 120
    with pytest.raises(ConfigError, match="outside range"):
        load_indicator_system(_write(tmp_path, tiny_dict))


def test_ahp_in_yaml_sets_dimension_weights_and_refuses_inconsistency(tmp_path, tiny_dict):
    tiny_dict["dimension_ahp"] = {"order": ["basic", "pro"], "matrix": [[1, 3], ["1/3", 1]]}
    system = load_indicator_system(_write(tmp_path, tiny_dict))
    assert system.dimension_weights("urban") == pytest.approx({"basic": 0.75, "pro": 0.25})
    tiny_dict["dimensions"].append({"id": "inno", "name": "创新发展"})
    tiny_dict["indicators"].append({"id": "d", "name": "丁", "dimension": "inno", "target": 50})
    tiny_dict["dimension_ahp"] = {"order": ["basic", "pro", "inno"],
                                  "matrix": [[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]]}
    with pytest.raises(ConfigError, match=r"dimension_ahp.matrix.*CR = "):
        load_indicator_system(_write(tmp_path, tiny_dict))


def test_new_indicator_flows_through_scoring_gaps_and_plans(tmp_path):
    data = yaml.safe_load((ROOT / "configs" / "indicators.yaml").read_text(encoding="utf-8"))
    data["indicators"].append({"id": "mental_health", "name": "心理健康服务", "dimension": "livelihood",
                               "direction": "higher", "unit": "分", "normalisation": "minmax",
                               "range": [0, 100], "target": 75, "weight": 1.0})
    system = load_indicator_system(_write(tmp_path, data))
    from govml.samples.workforce import make_assessments

    df, _ = make_assessments(n_workers=40, n_periods=3, seed=3, system=system, planted_share=0.0)
    df.loc[df["worker_id"] == "W0001", "mental_health"] = 50.0  # persistently 25 below target
    prep = prepare_assessments(df, system)
    norm = IndicatorNormaliser(system).fit(prep.data)
    scores = score_assessments(prep.data, system, norm)
    assert scores["composite"].notna().all()
    gaps = diagnose_gaps(prep.data, system, norm)
    g = gaps[(gaps["worker_id"] == "W0001") & (gaps["indicator"] == "mental_health") & (gaps["period"] == "2024Q3")]
    assert g["gap"].iloc[0] == pytest.approx(25.0) and g["periods_below"].iloc[0] == 3 and g["flagged"].iloc[0]
    courses = pd.DataFrame({"course_id": ["M1"], "title": ["心理健康服务实务"], "hours": [8], "cost": [500],
                            "indicators": ["mental_health:0.6"]})
    cat = parse_courses(courses, system)
    plan, summary = plan_courses(gaps[gaps["period"] == "2024Q3"], cat, system, budget_hours=8)
    row = plan[plan["worker_id"] == "W0001"]
    assert row["course_id"].tolist() == ["M1"]
    assert "心理健康服务低于目标 25 分" in row["reason"].iloc[0]
    assert np.isfinite(row["gap_closed"].iloc[0]) and row["gap_closed"].iloc[0] > 0


def test_indicator_ahp_within_a_dimension(tmp_path, tiny_dict):
    # basic has a and b: a is 3 times as important as b -> 0.75 / 0.25 (replaces the weights 1 and 3)
    tiny_dict["dimensions"][0]["indicator_ahp"] = {"order": ["a", "b"], "matrix": [[1, 3], ["1/3", 1]]}
    system = load_indicator_system(_write(tmp_path, tiny_dict))
    assert system.indicator_weights("urban")["a"] == pytest.approx(0.75)
    assert system.overall_weights("urban")["b"] == pytest.approx(0.5 * 0.25)
    tiny_dict["dimensions"][0]["indicator_ahp"]["order"] = ["a", "c"]
    with pytest.raises(ConfigError, match="indicator_ahp.order must list each of its indicators"):
        load_indicator_system(_write(tmp_path, tiny_dict))


def test_with_indicator_weights_replaces_within_dimension_weights(tiny):
    s2 = tiny.with_indicator_weights({"a": 0.2, "b": 0.2, "c": 0.6})
    assert s2.indicator_weights("urban") == pytest.approx({"a": 0.5, "b": 0.5, "c": 1.0})
    assert s2.dimension_weights("urban") == tiny.dimension_weights("urban")
    with pytest.raises(ConfigError, match="unknown indicators"):
        tiny.with_indicator_weights({"zz": 1.0})


def test_score_with_entropy_weights_changes_composites(tmp_path, samples_dir):
    from typer.testing import CliRunner

    from govml.cli import app

    runner = CliRunner()
    outs = {}
    for how in ("config", "entropy"):
        outs[how] = tmp_path / f"{how}.csv"
        r = runner.invoke(app, ["skills", "score", str(samples_dir / "assessments.csv"), "--out", str(outs[how]),
                                "--weights", how, "--no-track"])
        assert r.exit_code == 0, r.output
    a, b = pd.read_csv(outs["config"]), pd.read_csv(outs["entropy"])
    assert "entropy weights from" in r.output
    assert not np.allclose(a["composite"], b["composite"]) and b["composite"].between(0, 100).all()
