"""Session 13 dry run of the skills commands on what a district HR office exports: Chinese column names and
indicator names, periods written 2024年第一季度 / 2024年9月 (which sorted as text: 2024年10月 came before 2024年9月),
scores written 85分 / 85% / ８８ / 缺考 / 优, total rows (合计 / 平均), course cells ￥1,200 / 免费 / 6学时 / 不限,
quarterly sheets read with --sheet all, a log file that is not UTF-8. Inputs are built here."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cli_runner import govml
from govml.skills import indicator_system_from_dict, parse_courses, prepare_assessments
from govml.skills.readings import alias_columns, canonical_period, read_money, read_scores
from workbooks import write_workbook

SYSTEM = {
    "area_types": ["urban", "rural"],
    "default_area_type": "urban",
    "dimensions": [{"id": "basic", "name": "基础服务", "weight": 0.5}, {"id": "pro", "name": "专业能力", "weight": 0.5}],
    "indicators": [
        {"id": "a", "name": "环境卫生整治", "dimension": "basic", "unit": "分", "range": [0, 100], "target": 80},
        {"id": "b", "name": "事项办结率", "dimension": "basic", "unit": "%", "range": [0, 100], "target": 85},
        {"id": "c", "name": "个案工作能力", "dimension": "pro", "unit": "分", "range": [0, 100], "target": 80},
    ],
    "cards": {"threshold": 75, "window": 2, "yellow": 1, "red": 2},
}


@pytest.fixture
def system():
    return indicator_system_from_dict(SYSTEM, source="s13.yaml")


@pytest.fixture
def config(tmp_path) -> Path:
    p = tmp_path / "indicators.yaml"
    p.write_text(yaml.safe_dump(SYSTEM, allow_unicode=True), encoding="utf-8")
    return p


def _rows(periods, workers=("W1", "W2", "W3")) -> list[dict]:
    return [{"worker_id": w, "community": "东湖社区", "district": "云溪区", "period": p,
             "a": 70.0 + k + j, "b": 90.0 - k, "c": 82.0 + j} for j, p in enumerate(periods) for k, w in enumerate(workers)]


@pytest.mark.parametrize(("written", "label"), [
    ("2024年第一季度", "2024Q1"), ("2024年一季度", "2024Q1"), ("2024年1季度", "2024Q1"), ("2024 Q3", "2024Q3"),
    ("2024-q4", "2024Q4"), ("Q2 2024", "2024Q2"), ("2024年3月", "2024-03"), ("2024-3", "2024-03"),
    ("2024/10", "2024-10"), ("２０２４年９月", "2024-09"), ("2024年上半年", "2024H1"), ("2024年度", "2024"),
    ("2024Q1", "2024Q1"), ("2024-03", "2024-03"), ("第1期", "第1期")])
def test_periods_are_read_in_a_form_that_sorts_in_time_order(written, label):
    assert canonical_period(written)[0] == label and canonical_period(written)[2]


def test_an_impossible_period_is_named_and_its_rows_left_out(system):
    df = pd.DataFrame(_rows(["2024Q3", "2024Q5"]))
    prep = prepare_assessments(df, system, file="a.csv")
    assert sorted(prep.data["period"].unique()) == ["2024Q3"]
    bad = [p for p in prep.skipped if p.column == "period"]
    assert [p.row for p in bad] == [5, 6, 7] and bad[0].found == "2024Q5"


def test_month_periods_sort_in_time_order_so_the_latest_is_october(system):
    df = pd.DataFrame(_rows(["2024年9月", "2024年10月", "2024年8月"]))
    prep = prepare_assessments(df, system, file="a.csv")
    assert sorted(prep.data["period"].unique()) == ["2024-08", "2024-09", "2024-10"]
    assert any("2024年10月 → 2024-10" in n for n in prep.notes)
    # text order had put 2024年10月 first and 2024年9月 last
    assert sorted(["2024年9月", "2024年10月", "2024年8月"])[-1] == "2024年9月"


def test_mixed_quarters_and_months_are_said(system):
    prep = prepare_assessments(pd.DataFrame(_rows(["2024年第一季度", "2024-06"])), system, file="a.csv")
    assert any("mixes month and quarter" in n for n in prep.notes)
    assert set(prep.data["period"]) == {"2024Q1", "2024-06"}


def test_scores_in_the_indicators_unit_are_read_and_the_rest_named_with_why():
    raw = pd.Series(["85分", "８８", " 90 ", "缺考", "优", "八十五", "1,2", "85%", None, ""], dtype=object)
    vals, notnum, absent, n = read_scores(raw, "分")
    assert vals.iloc[:3].tolist() == [85.0, 88.0, 90.0] and n == 2  # ' 90 ' is a number already
    assert absent.tolist() == [False, False, False, True] + [False] * 6
    assert notnum.tolist() == [False] * 4 + [True, True, True, True, False, False]  # 85% is no 分 value
    pct, notnum_pct, _, _ = read_scores(pd.Series(["85%", "86.5％", "0.9"]), "%")
    assert pct.tolist() == [85.0, 86.5, 0.9] and not notnum_pct.any()


def test_a_chinese_export_is_read_and_totals_grades_and_absences_named(system):
    rows = _rows(["2024年第一季度", "2024年第二季度"])
    df = pd.DataFrame(rows).rename(columns={"worker_id": "工号", "community": "社区", "district": "街道",
                                            "period": "考核周期", "a": "环境卫生整治", "b": "事项办结率", "c": "个案工作能力"})
    df.insert(1, "姓名", "张伟")
    df["备注"] = "联系电话13812345678"
    df = df.astype(object)
    df.loc[0, "环境卫生整治"] = "75分"
    df.loc[1, "事项办结率"] = "缺考"
    df.loc[2, "个案工作能力"] = "良"
    df["居民评分"] = [88.0, "优", 90.0, 85.0, 86.0, 87.0]
    total = {c: "" for c in df.columns} | {"工号": "合计", "社区": "东湖社区", "街道": "云溪区", "考核周期": "2024年第二季度",
                                           "环境卫生整治": 500.0}
    df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    prep = prepare_assessments(df, system, file="考核.csv")
    d = prep.data
    assert list(d.columns[:4]) == ["worker_id", "community", "district", "period"] and "姓名" not in d.columns
    assert "备注" not in d.columns and "resident_rating" in d.columns
    assert sorted(d["period"].unique()) == ["2024Q1", "2024Q2"] and len(d) == 6 and "合计" not in set(d["worker_id"])
    w1 = d.loc[(d["worker_id"] == "W1") & (d["period"] == "2024Q1")].iloc[0]
    assert w1["a"] == 75.0 and pd.isna(d.loc[(d["worker_id"] == "W2") & (d["period"] == "2024Q1"), "b"]).all()
    found = {(p.row, p.column): p for p in prep.skipped}
    assert "not assessed" in found[(3, "b")].expected and "grades" in found[(4, "c")].expected
    assert found[(3, "resident_rating")].found == "优"
    assert "total or average" in found[(8, "worker_id")].expected
    assert any("worker_id ← 工号" in n and "district ← 街道" in n for n in prep.notes)
    assert any("indicator column(s) named by their Chinese name" in n for n in prep.notes)


def test_long_form_names_indicators_by_their_chinese_names(system):
    wide = pd.DataFrame(_rows(["2024Q1"]))
    long = wide.melt(id_vars=["worker_id", "community", "district", "period"], value_vars=["a", "b", "c"],
                     var_name="indicator", value_name="score")
    long["indicator"] = long["indicator"].map({"a": "环境卫生整治", "b": "事项办结率", "c": "c"})
    prep = prepare_assessments(long, system, file="long.csv")
    assert prep.skipped == [] and prep.data.set_index("worker_id").loc["W2", "a"] == 71.0


def test_two_columns_that_could_be_the_community_are_said_and_neither_used():
    df = pd.DataFrame({"社区": ["x"], "所属社区": ["y"], "工号": ["W1"]})
    out, notes = alias_columns(df, {"community": ("社区", "所属社区"), "worker_id": ("工号",)})
    assert list(out.columns) == ["社区", "所属社区", "worker_id"]
    assert any("several columns could be it (社区, 所属社区)" in n for n in notes)


def test_a_course_catalog_as_an_office_writes_it(system):
    df = pd.DataFrame({
        "课程编号": ["C1", "C2", "C3", "C4", "C5", "C6"],
        "课程名称": ["卫生", "办结", "个案", "进阶", "免费课", "零学时"],
        "学时": ["6学时", 8, "4小时", 6, 2, 0],
        "费用": ["￥1,200", "1200元", "¥300", "500", "免费", 100],
        "对应指标": ["环境卫生整治:0.4", "b:0.3", "个案工作能力:0.5", "c:0.2", "a:0.1", "a:0.1"],
        "先修课程": ["", "", "", "C6", "", ""],
        "容量": ["不限", 30, "", 20, 10, 10]})
    cat = parse_courses(df, system, file="courses.csv")
    assert cat.course_ids == ["C1", "C2", "C3", "C5"]
    assert cat.hours.tolist() == [6.0, 8.0, 4.0, 2.0] and cat.cost.tolist() == [1200.0, 1200.0, 300.0, 0.0]
    assert cat.capacity.tolist() == [0, 30, 0, 10] and cat.strength[0, 0] == 0.4 and cat.strength[2, 2] == 0.5
    msgs = {(p.row, p.column): p.expected for p in cat.skipped}
    assert "hours > 0" in msgs[(7, "hours")] and "C6 was itself left out" in msgs[(5, "prerequisites")]
    assert any("course_id ← 课程编号" in n for n in cat.notes) and any("hours 2, cost 4, capacity 1, indicators 2" in n for n in cat.notes)
    assert read_money("1,200.5 元") == 1200.5 and read_money("约1200") != read_money("约1200")  # NaN: not certain


def test_cli_quarterly_sheets_with_sheet_all_and_a_log_that_is_not_utf8(tmp_path, config):
    sheets = {}
    for q in ("2024Q1", "2024Q2"):
        rows = pd.DataFrame(_rows([q]))
        sheets[q] = [[f"{q}考核表"], list(rows.columns), *rows.to_numpy().tolist(), ["合计"]]
    book = write_workbook(tmp_path / "quarters.xlsx", sheets)
    out = tmp_path / "scores.csv"
    rc, text = govml("skills", "score", book, "--sheet", "all", "--out", out, "--config", config, "--no-track")
    assert rc == 0, text
    assert sorted(pd.read_csv(out)["period"].unique()) == ["2024Q1", "2024Q2"]
    rc, text = govml("skills", "weights", book, "--sheet", "all", "--config", config)
    assert rc == 0 and "2024Q2" in text, text
    bad = tmp_path / "log.jsonl"
    bad.write_bytes("第一行\n".encode("gbk"))
    rc, text = govml("skills", "verify-log", bad)
    assert rc == 2 and "line 1: byte 0xb5 is not UTF-8" in text, text
    rc, text = govml("skills", "log-append", bad, book, "--sheet", "all", "--config", config)
    assert rc == 2 and "not UTF-8" in text and bad.read_bytes() == "第一行\n".encode("gbk"), text


def test_the_skipped_log_masks_personal_data(system, caplog):
    df = pd.DataFrame(_rows(["2024Q1"])).astype(object)
    df.loc[0, "a"] = "请假，电话13812345678"
    with caplog.at_level(logging.INFO, logger="govml.skills.assessments"):
        prep = prepare_assessments(df, system, file="a.csv")
    assert prep.skipped[0].found == "请假，电话13812345678"  # the user's own terminal shows the cell
    assert "skipped" in caplog.text and "13812345678" not in caplog.text


def test_nothing_is_half_written_and_period_options_are_read_as_the_data(tmp_path, config):
    data = tmp_path / "a.csv"
    pd.DataFrame(_rows(["2024年第一季度", "2024年第二季度"])).to_csv(data, index=False)
    courses = tmp_path / "c.csv"
    pd.DataFrame({"course_id": ["C1"], "title": ["t"], "hours": [4], "indicators": ["a:0.5"]}).to_csv(courses, index=False)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"seq": 0}\n', encoding="utf-8")
    scores = tmp_path / "scores.csv"
    rc, text = govml("skills", "score", data, "--out", scores, "--log", broken, "--config", config, "--no-track")
    assert rc == 2 and "not intact" in text and not scores.exists(), text  # were: scores written, then refused
    plan = tmp_path / "plan.csv"
    for bad in (["--gaps-out", tmp_path / "gaps.doc"], ["--map-out", tmp_path / "map.txt"]):
        rc, text = govml("skills", "diagnose", data, "--courses", courses, "--out", plan, *bad, "--config", config,
                         "--no-track")
        assert rc == 2 and ("expected .csv" in text or "cannot draw a figure as .txt" in text), text
        assert not plan.exists()  # map.txt was an internal error (ValueError) after plan.csv was written
    rc, text = govml("skills", "diagnose", data, "--courses", courses, "--out", plan, "--period", "2024年第一季度",
                     "--config", config, "--no-track")
    assert rc == 0 and "period 2024Q1:" in text, text
    rc, text = govml("skills", "weights", data, "--period", "2024年第二季度", "--config", config)
    assert rc == 0 and "indicator weights (2024Q2" in text, text
    rc, text = govml("skills", "weights", data, "--period", "2025Q1", "--config", config)
    assert rc == 2 and "--period '2025Q1': not in the data (periods: 2024Q1, 2024Q2)" in text, text


def test_a_column_of_unknown_unit_reads_points_and_percentages():
    vals, notnum, absent, n = read_scores(pd.Series(["85分", "86%", "缺考", "30小时", 87.5]), None)
    assert vals.iloc[:2].tolist() == [85.0, 86.0] and vals.iloc[4] == 87.5 and n == 2
    assert absent.tolist() == [False, False, True, False, False] and notnum.tolist() == [False] * 3 + [True, False]


def test_area_types_in_chinese_fractions_and_a_missing_area_type_are_said(system):
    df = pd.DataFrame(_rows(["2024Q1"]))
    df["b"] = [0.91, 0.88, 0.86]  # 事项办结率 (%) written as fractions
    prep = prepare_assessments(df, system, file="a.csv")
    assert any(n.startswith("b: a percentage holding only values between 0 and 1") for n in prep.notes)
    assert any(n.startswith("no area_type column: every worker is assessed as urban") for n in prep.notes)
    assert prep.data["b"].tolist() == [0.91, 0.88, 0.86]  # read as written, never multiplied
    df["area_type"] = ["农村", "城市", "乡镇"]
    prep = prepare_assessments(df, system, file="a.csv")
    assert prep.data.set_index("worker_id")["area_type"].to_dict() == {"W1": "rural", "W2": "urban"}
    assert [(p.row, p.found) for p in prep.skipped] == [(4, "乡镇")]
    assert any("农村 → rural" in n for n in prep.notes)
