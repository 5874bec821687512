"""Session 14: one header-alias table per kind of table, read by ``govml validate`` and the commands alike
(validate had refused the skills' Chinese headers 工号/考核周期 … that ``govml skills`` reads); personal data in an
assessment's identifier cells (a phone number as the community reached scores.csv); rows of several sheets
(``--sheet all``) named ``1月!4`` in JSON outputs (they were bare row numbers, which are in every sheet).
Inputs are built here."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cli_runner import govml
from govml.config import (
    COLUMN_ALIASES,
    HEADER_ALIASES,
    alias_columns,
    guess_column,
    header_aliases,
    load_column_profiles,
)
from govml.errors import ConfigError, SheetRow
from govml.io import json_rows, write_json
from govml.schemas import check_file, personal_data_cells
from workbooks import write_workbook

SYSTEM = {
    "area_types": ["urban", "rural"],
    "default_area_type": "urban",
    "dimensions": [{"id": "basic", "name": "基础服务", "weight": 1.0}],
    "indicators": [
        {"id": "a", "name": "环境卫生整治", "dimension": "basic", "unit": "分", "range": [0, 100], "target": 80},
        {"id": "b", "name": "事项办结率", "dimension": "basic", "unit": "%", "range": [0, 100], "target": 85},
    ],
    "cards": {"threshold": 75, "window": 2, "yellow": 1, "red": 2},
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    p = tmp_path / "indicators.yaml"
    p.write_text(yaml.safe_dump(SYSTEM, allow_unicode=True), encoding="utf-8")
    return p


def _assessments(**over: list) -> pd.DataFrame:
    """3 workers × 2 quarters, our column names (``over`` replaces columns)."""
    rows = [{"worker_id": w, "姓名": n, "community": "东湖社区", "district": "云溪区", "period": p,
             "a": 70.0 + k + j, "b": 90.0 - k}
            for j, p in enumerate(("2024Q1", "2024Q2")) for k, (w, n) in enumerate((("W1", "张伟"), ("W2", "李娜"),
                                                                                     ("W3", "王芳")))]
    df = pd.DataFrame(rows)
    for col, values in over.items():
        df[col] = values
    return df


CN = {"worker_id": "工号", "community": "社区", "district": "街道", "period": "考核周期"}


# --------------------------------------------------------------------------------------------------
# (a) one table per kind


def test_one_table_per_kind_that_the_skills_readers_and_the_message_commands_take_theirs_from():
    from govml.skills import readings

    assert set(HEADER_ALIASES) == {"messages", "events", "assessments", "courses"}
    assert readings.ASSESSMENT_ALIASES is HEADER_ALIASES["assessments"]
    assert readings.COURSE_ALIASES is HEADER_ALIASES["courses"]
    assert COLUMN_ALIASES is HEADER_ALIASES["messages"]
    assert HEADER_ALIASES["events"]["created_at"] == HEADER_ALIASES["messages"]["created_at"]
    assert "text" not in HEADER_ALIASES["events"]  # events have no text column
    assert HEADER_ALIASES["assessments"]["worker_id"][0] == "工号"
    with pytest.raises(ConfigError, match="unknown kind of table 'workers'"):
        header_aliases("workers")


def test_validate_reads_the_chinese_headers_the_skills_commands_read(tmp_path: Path, config: Path):
    p = tmp_path / "a.csv"
    _assessments().rename(columns=CN).to_csv(p, index=False, encoding="gbk")
    rep = check_file(p, "assessments")
    assert rep.ok, rep.errors
    assert rep.mapping == {"worker_id": "工号", "community": "社区", "district": "街道", "period": "考核周期"}
    assert rep.meta["indicators"] == ["a", "b"]  # 姓名 is text: never an indicator
    rc, out = govml("validate", p, "--kind", "assessments")
    assert rc == 0 and "worker_id ← 工号" in out and "usable as assessments" in out
    rc, out = govml("skills", "score", p, "--config", config, "--out", tmp_path / "s.csv", "--no-track")
    assert rc == 0, out
    assert "worker_id ← 工号" in out
    assert len(pd.read_csv(tmp_path / "s.csv")) == 6


def test_validate_reads_the_chinese_course_headers(tmp_path: Path):
    p = tmp_path / "c.csv"
    pd.DataFrame({"课程编号": ["C1", "C2"], "课程名称": ["环境整治", "办结"], "学时": [6, 8],
                  "对应指标": ["a:0.5", "b:0.4"], "先修课程": ["", "C1"]}).to_csv(p, index=False)
    rep = check_file(p, "courses")
    assert rep.ok, rep.errors
    assert rep.mapping["course_id"] == "课程编号" and rep.mapping["prerequisites"] == "先修课程"
    assert list(rep.frame["hours"]) == [6.0, 8.0]


def test_two_names_for_one_column_are_said_and_neither_is_used(tmp_path: Path):
    p = tmp_path / "a.csv"
    _assessments().rename(columns={**CN, "period": "考核周期"}).assign(周期="2024").to_csv(p, index=False)
    rep = check_file(p, "assessments")
    assert not rep.ok and [e.column for e in rep.errors] == ["period"]
    assert "'考核周期' looks like it" in rep.errors[0].expected and "'周期'" in rep.errors[0].expected
    assert any("period: several columns could be it (考核周期, 周期)" in n for n in rep.meta["notes"])


def test_a_mapping_given_wins_over_the_usual_name(tmp_path: Path):
    p = tmp_path / "a.csv"
    _assessments().rename(columns=CN).assign(人员代码=["X1", "X2", "X3"] * 2).to_csv(p, index=False)
    rep = check_file(p, "assessments", mapping={"worker_id": "人员代码"})
    assert rep.ok and rep.mapping["worker_id"] == "人员代码"
    assert sorted(rep.frame["worker_id"].unique()) == ["X1", "X2", "X3"]


def test_files_with_our_names_read_exactly_as_before(tmp_path: Path):
    p = tmp_path / "a.csv"
    _assessments().to_csv(p, index=False)
    rep = check_file(p, "assessments")
    assert rep.ok and rep.mapping == {} and not rep.meta.get("notes")


def test_columns_yaml_adds_names_per_kind_for_validate_and_the_commands(tmp_path: Path, config: Path,
                                                                        monkeypatch: pytest.MonkeyPatch):
    cfg = tmp_path / "columns.yaml"
    cfg.write_text(yaml.safe_dump({"aliases": {"assessments": {"worker_id": ["人员代码"]},
                                               "messages": {"text": ["群众诉求"]}}}, allow_unicode=True),
                   encoding="utf-8")
    assert header_aliases("assessments", cfg)["worker_id"][-1] == "人员代码"
    assert header_aliases("assessments", cfg)["period"] == HEADER_ALIASES["assessments"]["period"]
    assert "人员代码" not in HEADER_ALIASES["assessments"]["worker_id"]  # the built-in table is left as it is
    assert guess_column("text", ["编号", "群众诉求"], cfg) == ("群众诉求", "common name")
    p = tmp_path / "a.csv"
    _assessments().rename(columns={**CN, "worker_id": "人员代码"}).to_csv(p, index=False)
    rc, out = govml("validate", p, "--kind", "assessments")
    assert rc == 1 and "worker_id" in out
    rc, out = govml("validate", p, "--kind", "assessments", "--columns-config", cfg)
    assert rc == 0 and "worker_id ← 人员代码" in out
    monkeypatch.setenv("GOVML_CONFIG_DIR", str(tmp_path))  # where the commands take configs/columns.yaml from
    rc, out = govml("skills", "score", p, "--config", config, "--out", tmp_path / "s.csv", "--no-track")
    assert rc == 0 and "worker_id ← 人员代码" in out, out


def test_a_wrong_kind_under_aliases_is_one_clear_error(tmp_path: Path):
    cfg = tmp_path / "columns.yaml"
    cfg.write_text("aliases:\n  workers:\n    worker_id: [人员代码]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"columns.yaml: key 'aliases.workers.*'messages', 'events', 'assessments' "
                                          r"or 'courses' \(found 'workers'\)"):
        load_column_profiles(cfg)


def test_alias_columns_keeps_attrs_and_prefers_the_county_level_district():
    df = pd.DataFrame({"区县": ["云溪区"], "街道": ["东湖街道"], "工号": ["W1"]})
    df.attrs["govml"] = {"rows": [[2, 3]]}
    out, notes = alias_columns(df, HEADER_ALIASES["assessments"])
    assert list(out.columns) == ["district", "街道", "worker_id"] and out.attrs == df.attrs
    assert notes == ["columns read by their Chinese names: worker_id ← 工号, district ← 区县 (街道 not used)"]


def test_a_missing_message_column_names_its_usual_name():
    from govml.schemas import validate

    df = pd.DataFrame({"id": ["1"], "来电时间": ["2024-01-01"], "district": ["a"], "community": ["b"], "text": ["t"]})
    rep = validate(df, "messages")
    assert [e.column for e in rep.errors] == ["created_at"]
    assert "'来电时间' looks like it (a usual name of it): map it with --map created_at=来电时间" in rep.errors[0].expected


# --------------------------------------------------------------------------------------------------
# (b) personal data in identifier cells


def test_personal_data_in_an_identifier_cell_is_found_and_masked_in_what_is_shown():
    df = pd.DataFrame({"worker_id": ["W1", "W2", "110101199003071233", "W4"],
                       "community": ["13812345678", "幸福社区（张伟13812345678）", "东湖社区", "东湖社区"],
                       "district": ["云溪区", "云溪区", "云溪区", "云溪区 0731-88886666"],
                       "period": ["2024Q1"] * 4})
    got = personal_data_cells(df, ["worker_id", "community", "district", "period"])
    assert [(pos, col) for pos, col, *_ in got] == [(0, "community"), (1, "community"), (2, "worker_id"),
                                                    (3, "district")]
    assert got[0][2:] == ("a community name, not a mobile number", "<PHONE>")
    assert got[1][2:] == ("a community name without a mobile number in it", "幸福社区（张伟<PHONE>）")
    assert got[2][2:] == ("a worker id, not an ID-card number", "<IDCARD>")
    assert got[3][2] == "a district name without a landline number in it"
    clean = pd.DataFrame({"worker_id": ["W0001", "20240001"], "community": ["柳塘村", "3号社区"], "period": ["2024Q1"] * 2})
    assert personal_data_cells(clean, ["worker_id", "community", "period"]) == []


def test_validate_refuses_a_phone_number_as_a_community_and_masks_it_in_json(tmp_path: Path):
    p = tmp_path / "a.csv"
    _assessments(community=["13812345678", "幸福社区（张伟13812345678）", "东湖社区", "东湖社区", "东湖社区",
                            "东湖社区"]).to_csv(p, index=False)
    rc, out = govml("validate", p, "--kind", "assessments", "--json", tmp_path / "v.json")
    assert rc == 1 and "cannot be used as assessments: 2 problem(s)" in out
    report = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))
    assert [(e["row"], e["column"], e["found"]) for e in report["errors"]] == [
        (2, "community", "<PHONE>"), (3, "community", "幸福社区（张伟<PHONE>）")]
    assert report["errors"][0]["expected"].startswith("a community name, not a mobile number (personal data")
    assert "13812345678" not in (tmp_path / "v.json").read_text(encoding="utf-8")


def test_skills_score_leaves_out_rows_whose_ids_hold_personal_data(tmp_path: Path, config: Path,
                                                                    caplog: pytest.LogCaptureFixture):
    p = tmp_path / "a.csv"
    _assessments(community=["13812345678"] + ["东湖社区"] * 5,
                 district=["云溪区"] * 3 + ["云溪区 110101199003071233"] + ["云溪区"] * 2).to_csv(p, index=False)
    with caplog.at_level(logging.INFO, logger="govml.cli.skills"):
        rc, out = govml("skills", "score", p, "--config", config, "--out", tmp_path / "s.csv", "--no-track")
    assert rc == 0, out
    assert "row 2, column 'community': expected a community name, not a mobile number (row skipped" in out
    assert "row 5, column 'district': expected a district name without an ID-card number in it" in out
    scores = (tmp_path / "s.csv").read_text(encoding="utf-8")
    assert "13812345678" not in scores and "110101199003071233" not in scores
    assert len(pd.read_csv(tmp_path / "s.csv")) == 4  # W1 2024Q1 and W1 2024Q2 left out
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "13812345678" not in out + logged and "110101199003071233" not in out + logged


# --------------------------------------------------------------------------------------------------
# (c) rows of several sheets in JSON


def test_json_rows_names_the_sheet_and_leaves_plain_rows(tmp_path: Path):
    rows = SheetRow.run([4, 5], "1月")
    data = {"excluded": {"x": {"example_file_rows": [*rows, SheetRow(4, "2月", 1)]}}, "plain": [4, 5], "t": (1, 2)}
    assert json_rows(data) == {"excluded": {"x": {"example_file_rows": ["1月!4", "1月!5", "2月!4"]}},
                               "plain": [4, 5], "t": (1, 2)}
    write_json(data, tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))["excluded"]["x"]["example_file_rows"] == \
        ["1月!4", "1月!5", "2月!4"]
    write_json({"plain": [4, 5]}, tmp_path / "p.json")
    assert (tmp_path / "p.json").read_text(encoding="utf-8") == '{\n  "plain": [\n    4,\n    5\n  ]\n}'
    loop: dict = {}
    loop["self"] = [loop]
    with pytest.raises(ValueError, match="Circular"):
        json_rows(loop)


def test_hotspots_backtest_metrics_name_the_sheet_of_excluded_rows(tmp_path: Path):
    sheets = {}
    for m in range(1, 7):
        rows: list[list[object]] = [["受理时间", "社区", "类别"]]
        for d in range(1, 29, 2):
            for c in ("东湖社区", "西湖社区"):
                rows.append([f"2024-{m:02d}-{d:02d} 09:00", c, "噪音" if d % 4 == 1 else "卫生"])
        rows[3][2] = None  # row 4 of every sheet: no category
        sheets[f"{m}月"] = rows
    book = write_workbook(tmp_path / "book.xlsx", sheets)
    rc, out = govml("hotspots", "backtest", book, "--sheet", "all", "--time-col", "受理时间", "--area-col", "社区",
                    "--category-col", "类别", "--origins", "1", "--horizon", "1", "--no-track",
                    "--out", tmp_path / "m.json")
    assert rc == 0, out
    ex = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))["data"]["excluded"]["missing_category"]
    assert ex["rows"] == 6 and ex["example_file_rows"] == ["1月!4", "2月!4", "3月!4", "4月!4", "5月!4"]


def test_the_skills_reader_checks_the_columns_it_takes_for_ids(config: Path):
    """A header typed with spaces around it ('社区 ') or under a usual name is checked too: the skills reader takes it
    for the community, then leaves the row out (in Python as on the command line); free text is not an id."""
    from govml.skills.assessments import prepare_assessments
    from govml.skills.indicators import load_indicator_system

    system = load_indicator_system(config)
    df = pd.DataFrame({"工号 ": ["W1", "W2"], "社区 ": ["13812345678", "东湖社区"], "街道": ["云溪区", "云溪区"],
                       "考核周期": ["2024Q1", "2024Q1"], "a": [80, 90], "b": [70, 75], "备注": ["13900000000", ""]})
    prepared = prepare_assessments(df, system, file="a.csv")
    assert [(p.row, p.column, p.found) for p in prepared.skipped] == [(2, "community", "<PHONE>")]
    assert prepared.data["worker_id"].tolist() == ["W2"]  # 备注 (free text, never read) is not an id


def test_federated_simulate_metrics_name_the_sheet_of_rows_left_out(tmp_path: Path):
    """Needs /tmp/s14/h5/federated_task_sheetrows.patch (federated/task.py RowAccount.add kept int(r) only)."""
    sheets = {}
    for m in (1, 2, 3):
        rows: list[list[object]] = [["受理时间", "所属街道", "所属社区"]]
        rows += [[f"2024-0{m}-{d:02d} 09:00", "东区" if d % 2 else "西区", f"社区{d % 3}"] for d in range(1, 9)]
        rows[2][0] = "不详"  # row 3 of every sheet: a time that is no time
        sheets[f"{m}月"] = rows
    book = write_workbook(tmp_path / "hotline.xlsx", sheets)
    rc, out = govml("federated", "simulate", book, "--sheet", "all", "--task", "benchmark", "--partition-col", "所属街道",
                    "--community-col", "所属社区", "--time-col", "受理时间", "--out", tmp_path / "m.json")
    assert rc == 0, out
    data = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))["data"]
    assert data["excluded"]["unparseable_time"]["example_file_rows"] == ["1月!3", "2月!3", "3月!3"]
    assert data["by_district"]["西区"]["excluded"]["unparseable_time"]["example_file_rows"] == ["1月!3", "2月!3", "3月!3"]
