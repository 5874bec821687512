"""`govml federated simulate` with default settings on messy real-world input: exports in GBK or
Excel with Chinese headers, partition values with blanks / spaces / case variants, districts of a few
rows or with no usable row, a label seen once, an --out folder that does not exist yet. Every case
ends with exit 0 and a metrics file, or exit 2 and one line naming the file — never a traceback."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from govml.cli import main

pytestmark = pytest.mark.xdist_group("flower")

CLF = ["--task", "demand-classifier", "--rounds", "2", "--n-features", "1024"]


def _run(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code


def _annex2(messages: pd.DataFrame) -> pd.DataFrame:
    """A stand-in for the 附件2 message-board export (its headers), with a district column 区县."""
    m = messages.iloc[:300]
    return pd.DataFrame({"留言编号": m["id"], "留言用户": "U1", "留言主题": m["text"].str[:4],
                         "留言时间": "2020/1/6 9:00:00", "留言详情": m["text"], "一级标签": m["category"],
                         "区县": m["district"]})


@pytest.mark.parametrize("fmt", ["gbk", "xlsx"])
def test_classifier_reads_a_chinese_export_without_column_options(tmp_path, messages, govml_home, capsys, fmt):
    df = _annex2(messages)
    data = tmp_path / ("附件2.csv" if fmt == "gbk" else "附件2.xlsx")
    if fmt == "gbk":
        df.to_csv(data, index=False, encoding="gbk")
    else:
        df.to_excel(data, index=False)
    out = tmp_path / "not" / "yet" / "metrics.json"  # --out in a folder that does not exist
    code = _run(["federated", "simulate", str(data), *CLF, "--partition-col", "区县", "--out", str(out)])
    assert code in (0, None)
    m = json.loads(out.read_text(encoding="utf-8"))
    assert m["clients"] == 3 and m["data"]["rows_in"] == 300 and m["data"]["excluded_total"] == 0
    assert m["train_rows"] + m["held_out_rows"] == 300
    err = " ".join(capsys.readouterr().err.split())
    assert "text ← 留言主题 + 留言详情" in err and "category ← 一级标签" in err and "id ← 留言编号" in err


def test_missing_partition_column_names_the_file_and_the_likely_one(tmp_path, messages, capsys):
    data = tmp_path / "附件2.csv"
    _annex2(messages).to_csv(data, index=False)
    code = _run(["federated", "simulate", str(data), *CLF, "--partition-col", "district",
                 "--out", str(tmp_path / "m.json")])
    assert code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "附件2.csv" in err and "'district'" in err and "--partition-col 区县" in err and "Traceback" not in err


def test_partition_blanks_spaces_and_case_variants(tmp_path, messages, govml_home, capsys):
    ev = messages.iloc[:300].copy()
    ev["district"] = ev["district"].map({"区1": "Qingshan", "区2": "Linjiang", "区3": "Yunxi"}).astype(object)
    ev.loc[ev.index[::5], "district"] = ev.loc[ev.index[::5], "district"].str.upper()
    ev.loc[ev.index[1::5], "district"] = " " + ev.loc[ev.index[1::5], "district"].str.lower() + "  "
    ev.loc[[3, 8], "district"] = ["", "   "]  # file rows 5 and 10: no district
    ev.loc[13, "district"] = None           # file row 15
    data = tmp_path / "msgs.csv"
    ev.to_csv(data, index=False)
    out = tmp_path / "m.json"
    assert _run(["federated", "simulate", str(data), *CLF, "--partition-col", "district", "--out", str(out)]) in (0, None)
    m = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(m["bytes_sent_per_client"]) == ["Linjiang", "Qingshan", "Yunxi"]
    d = m["data"]
    assert d["excluded"]["missing_partition"]["rows"] == 3
    assert d["excluded"]["missing_partition"]["example_file_rows"] == [5, 10, 15]
    assert d["rows_in"] == 300 == d["rows_used"] + d["excluded_total"]
    notes = " ".join(d["notes"])
    assert "'QINGSHAN', 'qingshan' taken as 'Qingshan'" in notes
    assert "taken as" in " ".join(capsys.readouterr().out.split())


def test_classifier_tiny_and_unusable_districts_are_named_and_the_others_go_on(tmp_path, messages, govml_home,
                                                                            capsys, caplog):
    ev = messages.iloc[:300].copy()
    tiny = messages.iloc[300:302].assign(district="小镇")             # file rows 302-303
    bad = messages.iloc[302:322].assign(district="坏区", text="  ")   # file rows 304-323: no text at all
    once = messages.iloc[[322]].assign(category="唯一类别")            # a label seen once (file row 324)
    data = tmp_path / "msgs.csv"
    pd.concat([ev, tiny, bad, once], ignore_index=True).to_csv(data, index=False, encoding="gbk")
    out = tmp_path / "m.json"
    assert _run(["federated", "simulate", str(data), *CLF, "--partition-col", "district", "--min-rows", "5",
                 "--out", str(out)]) in (0, None)
    m = json.loads(out.read_text(encoding="utf-8"))
    assert set(m["bytes_sent_per_client"]) == {"区1", "区2", "区3", "坏区"}
    assert set(m["excluded"]) == {"小镇", "坏区"}
    # the unusable district is named with the user's file and rows, not the district's own copy
    assert m["excluded"]["坏区"].startswith("district 坏区 (20 row(s): rows 304–323): msgs.csv, column 'text'")
    # as the district sent it (and the server logged it): its own table, named after it — not a temporary file
    assert "坏区.csv, column 'text'" in m["excluded_as_sent"]["坏区"] and "district_0" not in m["excluded_as_sent"]["坏区"]
    d = m["data"]
    assert d["rows_in"] == 323 == d["rows_used"] + d["excluded_total"]
    assert d["excluded"]["failed_district"]["rows"] == 20 and d["excluded"]["small_partition"]["rows"] == 2
    captured = capsys.readouterr()
    shown = " ".join(captured.out.split())
    assert "小镇" in shown and "坏区" in shown and "rows 304–323" in shown
    logged = " ".join((captured.err + caplog.text).split())
    assert "excluded: district 坏区: data problem: 坏区.csv" in logged and "district_0" not in logged


def _events(n_districts: int = 3, seed: int = 5) -> pd.DataFrame:
    """Complaint events under the headers of a Chinese export (受理时间 / 社区 / 一级标签 / 区县)."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(n_districts):
        for a in range(3):
            for cat in ("噪音", "停车"):
                for w in pd.date_range("2024-01-01", periods=30, freq="W-MON"):
                    rows += [{"受理时间": str(w + pd.Timedelta(hours=int(h))), "社区": f"d{d}c{a}", "一级标签": cat,
                              "区县": f"街道{d}"} for h in rng.integers(0, 160, rng.poisson(1 + a + d))]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("task", ["benchmark", "hotspot-forecaster"])
def test_events_export_with_a_tiny_and_an_unusable_district(tmp_path, govml_home, capsys, task):
    ev = _events()
    tiny = ev.iloc[:3].assign(区县="小镇")
    bad = ev.iloc[:25].assign(区县="坏区", 受理时间="不详")  # no readable time at all
    once = ev.iloc[[0]].assign(一级标签="唯一类别")
    full = pd.concat([ev, tiny, bad, once], ignore_index=True)
    n = len(full)
    data = tmp_path / "events.xlsx"
    full.to_excel(data, index=False)
    out = tmp_path / "new" / "m.json"
    extra = ["--origins", "1", "--n-trees", "2", "--no-central-replay"] if task == "hotspot-forecaster" else []
    code = _run(["federated", "simulate", str(data), "--task", task, "--partition-col", "区县", *extra,
                 "--min-rows", "5", "--out", str(out)])
    assert code in (0, None)
    m = json.loads(out.read_text(encoding="utf-8"))
    assert set(m["excluded"]) == {"小镇", "坏区"}
    first = len(ev) + 3 + 2  # file row of 坏区's first row (header on row 1)
    why = m["excluded"]["坏区"]
    assert why.startswith(f"district 坏区 (25 row(s): rows {first}–{first + 24}): events.xlsx, rows {first}–")
    assert "column '受理时间': expected a date/time" in why and "district_0" not in why
    d = m["data"]
    assert d["rows_in"] == n == d["rows_used"] + d["excluded_total"]
    if task == "benchmark":  # its rows counted as its district's failure
        assert d["excluded"]["failed_district"]["rows"] == 25
    else:  # the forecaster's central cleaning counts them by reason already (and the category seen once)
        assert "failed_district" not in d["excluded"] and d["excluded"]["unparseable_time"]["rows"] == 25
        assert d["excluded"]["rare_category"]["example_file_rows"] == [n + 1]
    err = " ".join(capsys.readouterr().err.split())
    assert "community ← 社区" in err and "created_at ← 受理时间" in err and "Traceback" not in err


def test_excel_with_a_title_row_and_numeric_districts_with_blanks(tmp_path, messages, govml_home):
    """An export with a title above the header and council numbers as districts: Excel gives 1.0 / 2.0
    beside the blank cells; the districts are "1", "2", "3"."""
    m = _annex2(messages)[["留言编号", "留言详情", "一级标签", "区县"]]
    m = m.assign(区县=m["区县"].map({"区1": 1, "区2": 2, "区3": 3}).astype("float"))
    m.loc[m.index[::9], "区县"] = np.nan
    data = tmp_path / "留言.xlsx"
    with pd.ExcelWriter(data) as w:
        pd.DataFrame([["2020年留言汇总表"]]).to_excel(w, index=False, header=False)
        m.to_excel(w, index=False, startrow=2)
    out = tmp_path / "m.json"
    assert _run(["federated", "simulate", str(data), *CLF, "--partition-col", "区县", "--out", str(out)]) in (0, None)
    d = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(d["bytes_sent_per_client"]) == ["1", "2", "3"]
    missing = d["data"]["excluded"]["missing_partition"]
    assert missing["rows"] == 34 and missing["example_file_rows"][:2] == [4, 13]  # header on row 3


def test_too_few_usable_districts_stop_with_the_input_rows_named(tmp_path, messages, capsys):
    ev = messages.iloc[:200].copy()
    ev = ev[ev["district"] != "区3"]
    ev.loc[ev["district"] == "区2", "text"] = ""  # 区2 has no usable row: one district is left
    data = tmp_path / "msgs.csv"
    ev.to_csv(data, index=False, encoding="gbk")
    code = _run(["federated", "simulate", str(data), *CLF, "--partition-col", "district",
                 "--out", str(tmp_path / "m.json")])
    assert code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "error: msgs.csv: only 1 district(s) can take part" in err
    assert "district 区2 (67 row(s): rows 3, 5, 7," in err and "msgs.csv, column 'text'" in err
    assert "district_0" not in err and "Traceback" not in err


def test_a_column_missing_in_every_district_is_said_once(tmp_path, capsys):
    """Every district's file lacks the community column: the run cannot start (exit 2) and the error names
    the districts and the problem once, not once per district (27 copies on a real 27-district export)."""
    from govml.cli import main

    df = pd.read_csv("data_samples/complaints.csv").drop(columns=["community"])
    src = tmp_path / "nocomm.csv"
    df.to_csv(src, index=False)
    with pytest.raises(SystemExit) as ex:
        main(["federated", "simulate", str(src), "--task", "benchmark", "--partition-col", "district",
              "--out", str(tmp_path / "m.json")])
    assert ex.value.code == 2
    cap = capsys.readouterr()
    said = " ".join((cap.err + " " + cap.out).split())
    err = said[said.index("can take part"):]
    assert "3 districts (" in err and err.count("column 'community'") == 1


def test_describe_left_out_groups_the_same_problem_and_keeps_single_ones() -> None:
    from govml.federated.server_app import describe_left_out

    lines = describe_left_out({
        "区1": "district 区1 (12 row(s): rows 2–13): a.csv, column 'x': expected a column named 'x'",
        "区2": "district 区2 (3 row(s): rows 14, 16, 20): a.csv, column 'x': expected a column named 'x'",
        "区3": "district 区3: 4 row(s), fewer than the 10 a district needs to take part"})
    assert lines == ["2 districts (区1, 区2), each: a.csv, column 'x': expected a column named 'x'",
                     "district 区3: 4 row(s), fewer than the 10 a district needs to take part"]
