"""The demands commands on an export as released: Chinese headers, no column options."""

from __future__ import annotations

import pandas as pd
import pytest

from govml.config import COLUMN_ALIASES, guess_column
from govml.errors import DataError

SAMPLES = "data_samples/messages.csv"
TEDDYCUP = {"id": "留言编号", "user_id": "留言用户", "created_at": "留言时间", "text": "留言详情", "likes": "点赞数",
            "category": "一级标签"}


def _export(tmp_path, n: int = 1500, suffix: str = ".csv", cols=TEDDYCUP):
    df = pd.read_csv(SAMPLES).head(n)
    out = df.rename(columns=cols)[list(cols.values())]
    out.insert(2, "留言主题", df["text"].str.slice(0, 12))  # a title column, as in 附件2/3/4
    path = tmp_path / f"export{suffix}"
    if suffix == ".xlsx":
        out.to_excel(path, index=False)
    else:
        out.to_csv(path, index=False, encoding="gbk", errors="replace")
    return path, df


def test_guess_column_profiles_then_common_names():
    headers = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "点赞数"]
    assert guess_column("text", headers) == ("留言详情", "profile teddycup")
    assert guess_column("title", headers) == ("留言主题", "profile teddycup")
    assert guess_column("created_at", ["序号", " 受理时间 ", "内容"])[0] == " 受理时间 "
    assert guess_column("text", ["序号", "受理时间", "内容"]) == ("内容", "common name")
    assert guess_column("community", headers) is None
    assert guess_column("nonsense", headers) is None
    # an export that splits the date from the clock time: the date column, not the clock (session 11)
    assert guess_column("created_at", ["工单编号", "时间", "日期", "诉求内容"]) == ("日期", "common name")
    assert guess_column("category", ["受理时间", "所属社区", "问题分类"]) == ("问题分类", "common name")
    assert all(isinstance(v, tuple) and v for v in COLUMN_ALIASES.values())


def test_hot_issues_on_an_export_without_column_options(tmp_path, capsys):
    from govml.cli import main

    path, df = _export(tmp_path)
    out = tmp_path / "hot.csv"
    with pytest.raises(SystemExit) as ex:
        main(["demands", "hot-issues", str(path), "--out", str(out)])
    assert ex.value.code == 0
    said = " ".join(capsys.readouterr().err.split())
    assert "text ← 留言主题 + 留言详情" in said and "created_at ← 留言时间" in said and "likes ← 点赞数" in said
    hot = pd.read_csv(out)
    ids = {i for cell in hot["message_ids"] for i in str(cell).split(";")}
    assert ids and ids <= set(df["id"])          # the ids come from 留言编号


def test_train_and_classify_on_an_excel_export(tmp_path, capsys):
    from govml.cli import main

    path, df = _export(tmp_path, n=400, suffix=".xlsx")
    raw = pd.read_excel(path)
    raw.loc[3, "一级标签"] = None          # an empty label and a typo seen once: both named once, left out
    raw.loc[5, "一级标签"] = "城乡建没"
    raw.to_excel(path, index=False)
    model = tmp_path / "model"
    with pytest.raises(SystemExit) as ex:
        main(["demands", "train", str(path), "--label-col", "一级标签", "--model-dir", str(model), "--cv", "3"])
    assert ex.value.code == 0
    got = capsys.readouterr()
    said = " ".join((got.out + got.err).split())
    assert "row(s) 5: the label is empty; 1 row(s) excluded from training" in said
    assert ("row(s) 7: label '城乡建没' seen 1 time(s) (fewer than 3): a typo?; 1 row(s) excluded from training"
            in said)
    assert "missing label" not in said and said.count("excluded from training") == 2
    df = df.drop(index=[3, 5]).reset_index(drop=True)
    import json

    meta = json.loads((model / "model.json").read_text(encoding="utf-8"))
    assert meta["text_cols"] == ["留言主题", "留言详情"]
    out = tmp_path / "pred.csv"
    with pytest.raises(SystemExit) as ex:
        main(["demands", "classify", str(path), "--model-dir", str(model), "--out", str(out)])
    assert ex.value.code == 0
    pred = pd.read_csv(out)
    assert list(pred["id"]) == list(raw["留言编号"])
    pred = pred[pred["id"].isin(df["id"])].reset_index(drop=True)
    assert (pred["category_pred"] == df["category"]).mean() > 0.8
    # a header-only file is a clear error (was a ValueError from the vectoriser: exit 70)
    header = tmp_path / "header.xlsx"
    pd.read_excel(path).head(0).to_excel(header, index=False)
    with pytest.raises(SystemExit) as ex:
        main(["demands", "classify", str(header), "--model-dir", str(model), "--out", str(tmp_path / "p2.csv")])
    assert ex.value.code == 2 and not (tmp_path / "p2.csv").exists()


def test_alerts_without_group_or_category_is_one_group(tmp_path, capsys):
    from govml.cli import main

    path, _ = _export(tmp_path, n=3000, cols={k: v for k, v in TEDDYCUP.items() if k != "category"})
    out = tmp_path / "alerts.csv"
    with pytest.raises(SystemExit) as ex:
        main(["demands", "alerts", str(path), "--out", str(out)])
    assert ex.value.code == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "all messages are one group" in said
    res = pd.read_csv(out)
    assert set(res["group"]) <= {"全部"}
    # the table's title says how many alerts it shows (it said "latest 15" even with none)
    n = int(res["level"].isin(["预警", "告警"]).sum())
    assert (f"the latest {min(n, 15)} ≥ 预警" if n else "none ≥ 预警") in said


def test_unrecognised_columns_still_name_the_option(tmp_path):
    from govml.cli import main

    path = tmp_path / "x.csv"
    pd.DataFrame({"foo": ["a"], "bar": ["2024-01-01"]}).to_csv(path, index=False)
    with pytest.raises(SystemExit) as ex:
        main(["demands", "top", str(path), "--out", str(tmp_path / "t.csv")])
    assert ex.value.code == 2
    with pytest.raises(DataError, match="--text-col"):
        from govml.cli.demands import _read_for_text

        _read_for_text(path, text_cols=["text"], required=[("--time-col", "created_at")])


def test_unreadable_and_empty_times_are_left_out_and_counted(tmp_path, capsys):
    from govml.cli import main

    path, df = _export(tmp_path, n=800)
    raw = pd.read_csv(path, encoding="gbk")
    raw.loc[[3, 10, 20], "留言时间"] = "不详"
    raw.loc[[5, 6], "留言时间"] = None
    raw.to_csv(path, index=False, encoding="gbk")
    for cmd in ("top", "hot-issues", "alerts"):
        out = tmp_path / f"{cmd}.csv"
        with pytest.raises(SystemExit) as ex:
            main(["demands", cmd, str(path), "--out", str(out), "--id-col", "留言编号"])
        assert ex.value.code == 0, cmd
        said = " ".join(capsys.readouterr().err.split())
        assert "column '留言时间': 5 of 800 row(s) left out" in said, said
        assert "2 with no time (row 7, 8)" in said and "3 with an unreadable time (row 5, 12, 22, e.g. '不详')" in said
    hot = pd.read_csv(tmp_path / "hot-issues.csv")
    ids = {i for cell in hot["message_ids"] for i in str(cell).split(";")}
    assert not ids & set(df["id"].iloc[[3, 5, 6, 10, 20]])


def test_no_readable_time_or_no_rows_is_an_error(tmp_path, capsys):
    from govml.cli import main

    path, _ = _export(tmp_path, n=50)
    raw = pd.read_csv(path, encoding="gbk")
    raw["留言时间"] = "不详"
    raw.to_csv(path, index=False, encoding="gbk")
    with pytest.raises(SystemExit) as ex:
        main(["demands", "top", str(path), "--out", str(tmp_path / "t.csv")])
    assert ex.value.code == 2
    assert "留言时间" in capsys.readouterr().err
    header = tmp_path / "header.csv"
    raw.head(0).to_csv(header, index=False, encoding="gbk")
    for cmd in ("top", "hot-issues", "alerts"):
        with pytest.raises(SystemExit) as ex:
            main(["demands", cmd, str(header), "--out", str(tmp_path / "o.csv")])
        assert ex.value.code == 2, cmd
        assert "no data rows" in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "t.csv").exists()


def test_library_time_errors_name_the_file_and_its_rows(tmp_path):
    """SurgeDetector / HotIssueFinder on a frame from read_table: the file, the user's row (past a title
    row) and 'empty' instead of NaT."""
    from govml.io import read_table
    from govml.text.alerts import SurgeDetector
    from govml.text.hot_issues import HotIssueFinder

    df = pd.read_csv(SAMPLES).head(60)
    df.loc[4, "created_at"] = None
    path = tmp_path / "m.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame([["某街道留言导出"]]).to_excel(xw, index=False, header=False)
        df.to_excel(xw, index=False, startrow=2)
    frame = read_table(path)
    for model in (SurgeDetector(terms=False), HotIssueFinder()):
        with pytest.raises(DataError) as ex:
            model.fit(frame)
        p = ex.value.problems[0]
        assert (p.file.endswith("m.xlsx"), p.row, p.found) == (True, 8, "empty"), str(ex.value)
