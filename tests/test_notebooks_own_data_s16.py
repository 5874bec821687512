"""The notebooks on an analyst's own file (session 16 dry run): the one data cell (``DATA`` / ``GOVML_DATA``) and
the readers behind it (:mod:`govml.notebook`).

One notebook is run headless on a messy file the test writes (03_skills: the fastest of the three, ~10 s of CPU);
the readers the other two use are tested directly on small GBK files with Chinese headers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from govml.errors import DataError
from govml.notebook import data_file, read_events, read_messages

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"


def _outputs(nb, i: int) -> str:
    """The text a cell showed (streams, results, errors)."""
    out = []
    for o in nb.cells[i].get("outputs", []):
        if o["output_type"] == "stream":
            out.append(o["text"])
        elif o["output_type"] == "error":
            out.append(f"{o['ename']}: {o['evalue']}")
        else:
            out.append(str(o.get("data", {}).get("text/plain", "")))
    return "".join(out)


def _cell(nb, needle: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if needle in c.source)


@pytest.mark.xdist_group("notebooks")
def test_skills_notebook_runs_on_an_own_gbk_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from govml.skills import load_indicator_system

    names = load_indicator_system(ROOT / "configs" / "indicators.yaml").names()
    a = pd.read_csv(SAMPLES / "assessments.csv", dtype=str)
    a = a[a["worker_id"].isin(sorted(a["worker_id"].unique())[:40])].reset_index(drop=True)   # 160 rows
    quarters = {"2024Q1": "2024年第一季度", "2024Q2": "2024年第二季度", "2024Q3": "2024年第三季度",
                "2024Q4": "2024年第四季度"}
    a["period"] = a["period"].map(quarters)
    a.loc[5, "sanitation"] = "缺考"             # no score: missing, named
    a.loc[9, "satisfaction"] = "优"             # a grade, not a number: named, left out
    a = a.rename(columns={"worker_id": "工号", "community": "社区", "district": "街道", "period": "考核周期",
                          "resident_rating": "居民评分", **{k: v for k, v in names.items() if k in a.columns}})
    a.insert(1, "姓名", "张三")
    own = tmp_path / "社区工作者考核.csv"
    with open(own, "w", encoding="gbk") as f:
        f.write("2024年度社区工作者考核汇总表\n")   # a title row above the header
        a.to_csv(f, index=False)
    monkeypatch.setenv("GOVML_DATA", str(own))
    monkeypatch.delenv("GOVML_COURSES", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")

    nb = nbformat.read(ROOT / "notebooks" / "03_skills.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()

    read = _outputs(nb, _cell(nb, "read_assessments(OWN"))
    assert "Your data: 社区工作者考核.csv (encoding gbk; header on row 2" in read
    assert "worker_id ← 工号" in read and "period ← 考核周期" in read
    assert "2024年第一季度 → 2024Q1" in read
    assert "'rows': 160, 'workers': 40, 'periods': 4" in read
    # the grade is named with its row (header on row 2: data row 10 of the frame is line 12) and column
    assert "row 12" in read and "优" in read
    gaps = _outputs(nb, _cell(nb, "flagged_shortfalls(gaps)"))
    assert "in 社区工作者考核.csv" in gaps and "planted" not in gaps   # no comparison with the sample's truth
    heat = nb.cells[_cell(nb, "plots.heatmap(matrix")]
    assert any("image/png" in o.get("data", {}) for o in heat.outputs)      # the shortfall map is shown
    plan = _outputs(nb, _cell(nb, "plan_courses(current"))
    assert "worker_id" in plan and "course_id" in plan and "reason" in plan


def _gbk(path: Path, df: pd.DataFrame) -> Path:
    df.to_csv(path, index=False, encoding="gbk")
    return path


def test_read_messages_recognises_chinese_headers_and_names_bad_dates(tmp_path: Path, capsys) -> None:
    m = pd.read_csv(SAMPLES / "messages.csv", dtype=str).head(60)
    df = pd.DataFrame({"编号": m["id"], "留言时间": m["created_at"], "留言内容": m["text"], "所属社区": m["community"]})
    df.loc[3, "留言时间"] = "昨天"
    df.loc[7, "留言时间"] = ""
    df.loc[11, "留言时间"] = "2031-05-01 10:00"
    got = read_messages(_gbk(tmp_path / "留言.csv", df))
    said = capsys.readouterr().out
    assert len(got.frame) == 57 and got.group == "community" and got.label is None
    assert got.text_cols == ("text",) and "likes" not in got.frame and "user_id" not in got.frame
    assert "created_at ← 留言时间" in said and "text ← 留言内容" in said and "community ← 所属社区" in said
    # the three rows left out, by their file row (header = row 1) and why
    assert "column '留言时间': 3 of 60 row(s) left out" in said
    assert "1 with no time (row 9)" in said and "(row 5, e.g. '昨天')" in said and "(row 13, e.g. '2031" in said
    assert "no category column" in said and "no likes column" in said
    assert got.frame["created_at"].dtype.kind == "M"


def test_read_messages_title_and_detail_joined_and_missing_text_named(tmp_path: Path) -> None:
    df = pd.DataFrame({"留言编号": ["1", "2"], "留言主题": ["A5区路灯坏了", "A7县噪音"], "留言时间": ["2019/2/28 11:25:05",
                       "2019年3月1日"], "留言详情": [" 晚上很黑 ", "施工太吵"], "点赞数": ["3", "1,2"]})
    got = read_messages(_gbk(tmp_path / "附件3.csv", df), quiet=True)
    assert got.text_cols == ("title", "detail") and got.group == "area"
    assert list(got.frame["text"]) == ["A5区路灯坏了\n晚上很黑", "A7县噪音\n施工太吵"]
    assert list(got.frame["area"]) == ["A5区", "A7县"] and list(got.frame["likes"]) == [3, 12]
    with pytest.raises(DataError, match=r"COLUMNS = \{'text': 'its name'\}"):
        read_messages(_gbk(tmp_path / "no_text.csv", df[["留言编号", "留言时间", "点赞数"]]), quiet=True)


def test_read_events_without_category_is_one_category(tmp_path: Path, capsys) -> None:
    e = pd.read_csv(SAMPLES / "complaints.csv", dtype=str).head(50)
    df = pd.DataFrame({"受理时间": e["created_at"], "社区": e["community"], "办理状态": e["status"]})
    got = read_events(_gbk(tmp_path / "工单.csv", df))
    said = capsys.readouterr().out
    # the file's own names are kept (the panel's notes name them); the missing category is one, 全部
    assert got.columns == {"created_at": "受理时间", "status": "办理状态", "community": "社区", "category": "category"}
    assert set(got.frame["category"]) == {"全部"} and got.label is None and len(got.frame) == 50
    assert "no category column" in said and "created_at ← 受理时间" in said


def test_data_file_reads_the_environment_and_names_a_missing_file(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOVML_DATA", raising=False)
    assert data_file(None) is None
    f = tmp_path / "x.csv"
    f.write_text("a\n1\n")
    monkeypatch.setenv("GOVML_DATA", str(f))
    assert data_file(None) == f
    assert data_file(str(f)) == f
    with pytest.raises(DataError, match="nope.xlsx: file not found .* set DATA"):
        data_file(str(tmp_path / "nope.xlsx"))


def test_read_assessments_says_a_thin_period_that_would_become_the_latest(tmp_path: Path, capsys) -> None:
    from govml.notebook import read_assessments
    from govml.skills import load_indicator_system

    system = load_indicator_system(ROOT / "configs" / "indicators.yaml")
    a = pd.read_csv(SAMPLES / "assessments.csv", dtype=str)
    a = a[a["worker_id"].isin(sorted(a["worker_id"].unique())[:12])].reset_index(drop=True)   # 48 rows
    a["period"] = a["period"].str.replace("2024Q", "2024年第", regex=False) + "季度"
    a.loc[6, "period"] = "2042年第一季度"   # a typing error (2024 → 2042): a possible quarter, the latest by far
    a.loc[9, "period"] = "2024年第五季度"   # no quarter 5: a row problem since session 16 (it had sorted last too)
    a = a.rename(columns={"worker_id": "工号", "period": "考核周期"})
    read_assessments(_gbk(tmp_path / "考核.csv", a), system)
    said = capsys.readouterr().out
    assert "period '2042Q1': 1 row(s) (row 8) against 11 in a typical period" in said, said
    assert "It sorts last" in said
    assert "2024年第五季度" in said and "row 11" in said, said


def test_read_messages_groups_by_a_street_column_or_the_one_named(tmp_path: Path) -> None:
    m = pd.read_csv(SAMPLES / "messages.csv", dtype=str).head(30)
    frame = pd.DataFrame({"时间": m["created_at"], "内容": m["text"], "街道": m["district"]})
    got = read_messages(_gbk(tmp_path / "街道.csv", frame), quiet=True)
    assert got.group == "region" and got.columns["region"] == "街道"
    assert set(got.frame["region"]) == set(m["district"]) and got.frame["id"].iloc[0] == "row2"
    both = _gbk(tmp_path / "网格.csv", frame.assign(网格=m["community"]))
    assert read_messages(both, quiet=True).columns["region"] == "网格"   # the more local of the two
    got = read_messages(both, quiet=True, columns={"region": "街道"})
    assert got.columns["region"] == "街道" and set(got.frame["region"]) == set(m["district"])
