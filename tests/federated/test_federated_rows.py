"""`govml federated simulate` drops no row silently: every row read is used or counted by reason,
with the file's own column names and rows as the user sees them, centrally and per district."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from govml.cli import main

pytestmark = pytest.mark.xdist_group("flower")


def _run(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code


def _benchmark(tmp_path, ev: pd.DataFrame, *extra: str) -> dict:
    """``govml federated simulate`` (benchmark, complaint rate by ``district``, time ``受理时间``) on
    ``ev`` written as a CSV; its metrics.json."""
    data = tmp_path / "events.csv"
    ev.to_csv(data, index=False)
    out = tmp_path / "m.json"
    code = _run(["federated", "simulate", str(data), "--task", "benchmark", "--partition-col", "district",
                 "--time-col", "受理时间", "--out", str(out), *extra])
    assert code in (0, None)
    return json.loads(out.read_text(encoding="utf-8"))


def _rows(account):
    return {k: (v["rows"], v["column"], v["example_file_rows"]) for k, v in account["excluded"].items()}


def test_benchmark_counts_rows_without_a_district_and_a_one_row_district(tmp_path, messages, capsys):
    ev = messages[["district", "community"]].copy()
    ev["受理时间"] = pd.date_range("2024-01-01", periods=len(ev), freq="7h")
    ev.loc[[0, 5, 6], "district"] = None       # file rows 2, 7, 8
    ev.loc[10, "district"] = "单行区"            # file row 12: a district of one row
    m = _benchmark(tmp_path, ev, "--min-rows", "10")  # the default (1) lets it take part: see below
    assert m["clients"] == 3 and set(m["bytes_sent_per_client"]) == {"区1", "区2", "区3"}
    assert list(m["excluded"]) == ["单行区"] and "1 row(s)" in m["excluded"]["单行区"]
    d = m["data"]
    assert (d["rows_in"], d["rows_used"], d["excluded_total"]) == (900, 896, 4) and d["file"] == "events.csv"
    assert _rows(d) == {"missing_partition": (3, "district", [2, 7, 8]), "small_partition": (1, "district", [12])}
    assert set(d["by_district"]) == {"区1", "区2", "区3"}
    assert sum(a["rows_in"] for a in d["by_district"].values()) == 896
    shown = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert "900 row(s) read, 896 used, 4 left out" in shown
    assert "column 'district'; e.g. rows 2, 7, 8" in shown and "单行区" in shown


def test_by_default_every_district_with_rows_takes_part(tmp_path, messages):
    """50 small districts (4–13 rows): none is left out (the default --min-rows was 10, which left out a
    third of them, and their rows, in a 50-district run of 564 real messages)."""
    ev = messages[["district", "community"]].iloc[:400].copy()
    ev["受理时间"] = pd.date_range("2024-01-01", periods=len(ev), freq="7h")
    ev["district"] = [f"D{(i * 7) % 50 if i < 350 else i % 10:02d}" for i in range(len(ev))]
    sizes = ev["district"].value_counts()
    assert sizes.min() < 10 and len(sizes) == 50
    m = _benchmark(tmp_path, ev)
    assert m["clients"] == 50 and not m["excluded"] and len(m["bytes_sent_per_client"]) == 50
    assert (m["data"]["rows_in"], m["data"]["rows_used"], m["data"]["excluded_total"]) == (400, 400, 0)


def test_classifier_rows_reconcile_and_each_district_reports_its_own(messages):
    from govml.federated.simulation import simulate

    df = messages.iloc[:300].copy()
    df.loc[[3, 4], "text"] = ""          # file rows 5, 6 (district 区1, 区2)
    df.loc[7, "text"] = None             # file row 9 (区2)
    df.loc[[9, 12], "category"] = None   # file rows 11, 14 (区1, 区1)
    df.loc[20, "district"] = "  "        # file row 22: no district
    df.loc[20, "category"] = "孤类"      # … and the only row of its label
    res = simulate(df, "demand-classifier", "district", rounds=1, n_features=1024, secure=False, local_epochs=1)
    d = res["data"]
    assert d["rows_in"] == 300 and d["excluded_total"] == 6
    assert d["rows_used"] == res["train_rows"] + res["held_out_rows"] == 294
    assert _rows(d) == {"missing_partition": (1, "district", [22]), "missing_text": (3, "text", [5, 6, 9]),
                        "missing_category": (2, "category", [11, 14])}
    by = {k: _rows(v) for k, v in d["by_district"].items()}
    assert by["区1"] == {"missing_text": (1, "text", [5]), "missing_category": (2, "category", [11, 14])}
    assert by["区2"] == {"missing_text": (2, "text", [6, 9])} and by["区3"] == {}
    # what travelled: each district's counts only (no rows), the same as its own account
    assert res["district_rows"]["区1"] == {"rows_used": d["by_district"]["区1"]["rows_used"],
                                           "excluded": {"missing_text": 1, "missing_category": 2}}
    assert res["district_rows"]["区3"]["excluded"] == {}
    assert "孤类" not in res["model"]["labels"]  # a label seen only in a left-out row is no class


def test_forecaster_counts_unreadable_times_and_empty_cells_like_hotspots_backtest(tmp_path, capsys):
    rng = np.random.default_rng(3)
    rows = [{"受理时间": str(w + pd.Timedelta(hours=int(rng.integers(0, 160)))), "社区": f"d{d}c{a}",
             "类别": ("噪音", "停车")[int(rng.integers(2))], "街道": f"街道{d}"}
            for d in range(3) for a in range(2) for w in pd.date_range("2024-01-01", periods=30, freq="W-MON")
            for _ in range(2)]
    rows[4]["受理时间"] = "不详"     # file row 6
    rows[200]["受理时间"] = "不详"   # file row 202
    rows[7]["社区"] = ""             # file row 9
    rows[9]["街道"] = ""             # file row 11
    rows.append({"受理时间": "2024-03-05 10:00", "社区": "x", "类别": "噪音", "街道": "单行区"})  # file row 362
    data = tmp_path / "events.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    out = tmp_path / "fc.json"
    code = _run(["federated", "simulate", str(data), "--task", "hotspot-forecaster", "--partition-col", "街道",
                 "--community-col", "社区", "--label-col", "类别", "--time-col", "受理时间", "--n-trees", "2",
                 "--origins", "1", "--no-secure", "--no-central-replay", "--min-rows", "10", "--out", str(out)])
    assert code in (0, None)
    m = json.loads(out.read_text(encoding="utf-8"))
    d = m["data"]
    got = _rows(d)
    assert got["unparseable_time"] == (2, "受理时间", [6, 202])
    assert got["missing_area"] == (1, "社区", [9])
    assert got["missing_partition"] == (1, "街道", [11]) and got["small_partition"] == (1, "街道", [362])
    assert d["rows_in"] == 361 and d["rows_used"] + d["excluded_total"] == 361 and d["file"] == "events.csv"
    assert list(m["excluded"]) == ["单行区"] and m["clients"] == 3
    # each district validated its own table: 不详 in 街道0 (row 6) and 街道1 (row 202), counts travelled
    assert _rows(d["by_district"]["街道0"]) == {"unparseable_time": (1, "受理时间", [6]),
                                                "missing_area": (1, "社区", [9])}
    assert m["district_rows"]["街道1"]["excluded"] == {"unparseable_time": 1}
    assert m["district_rows"]["街道2"]["excluded"] == {}
    shown = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert "time could not be parsed (column '受理时间'; e.g. rows 6, 202)" in shown


def test_benchmark_complaint_rate_counts_unreadable_times(tmp_path, messages):
    """One unreadable time no longer rejects a whole district: the rows are counted by reason."""
    ev = messages[["district", "community"]].copy()
    ev["受理时间"] = pd.date_range("2024-01-01", periods=len(ev), freq="7h").astype(str)
    ev.loc[[3, 40], "受理时间"] = "不详"         # file rows 5, 42
    ev.loc[7, "受理时间"] = ""                   # file row 9
    ev.loc[12, "community"] = None               # file row 14
    m = _benchmark(tmp_path, ev)
    assert m["clients"] == 3 and not m["excluded"]
    d = m["data"]
    assert (d["rows_in"], d["rows_used"], d["excluded_total"]) == (900, 896, 4)
    assert _rows(d) == {"unparseable_time": (2, "受理时间", [5, 42]), "missing_time": (1, "受理时间", [9]),
                        "missing_community": (1, "community", [14])}
