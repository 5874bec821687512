"""`govml validate` refuses a person's name written as a community or district (张伟 among …社区 / …村), as the skills
commands leave those rows out — one rule, `govml.schemas.personal_name_cells` (session 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from cli_runner import govml
from govml.schemas import personal_name_cells
from govml.skills import readings

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"


def _assessments(community: list[str]) -> pd.DataFrame:
    rows = [{"worker_id": f"W{k}", "community": community[k], "district": "云溪区", "period": p, "a": 70.0 + k + j}
            for j, p in enumerate(("2024Q1", "2024Q2")) for k in range(len(community))]
    return pd.DataFrame(rows)


def test_validate_refuses_a_name_among_places_and_the_skills_reader_skips_the_same_rows(tmp_path: Path):
    p = tmp_path / "a.csv"
    _assessments(["东湖社区", "柳塘村", "张伟", "金桥街道", "王家湾社区"]).to_csv(p, index=False)
    rc, out = govml("validate", p, "--kind", "assessments", "--json", tmp_path / "v.json")
    assert rc == 1, out
    report = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))
    assert [(e["row"], e["column"], e["found"]) for e in report["errors"]] == [(4, "community", "<NAME>"),
                                                                               (9, "community", "<NAME>")]
    assert report["errors"][0]["expected"].startswith("a community name, not a person's name (personal data")
    assert "张伟" not in (tmp_path / "v.json").read_text(encoding="utf-8") and "张伟" not in out
    # the skills reader refuses the same cells (the same function)
    assert readings.personal_name_cells is personal_name_cells
    assert personal_name_cells(pd.read_csv(p)) == [(2, "community"), (7, "community")]


def test_validate_keeps_bare_place_names_and_the_samples(tmp_path: Path):
    p = tmp_path / "b.csv"
    _assessments(["龙泉", "杨柳", "东湖", "张伟", "石门"]).to_csv(p, index=False)  # bare names: a name cannot be told
    rc, out = govml("validate", p, "--kind", "assessments")
    assert rc == 0, out
    rc, out = govml("validate", SAMPLES / "assessments.csv", "--kind", "assessments")
    assert rc == 0, out
