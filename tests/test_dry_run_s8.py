"""Session 8 dry run (issues #3, #4): a new user's exports of unseen shapes, read and told as they are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from govml.io import read_table, source_rows


def _two_level_book(path: Path, n: int = 5) -> None:
    """Row 1: 编号 and 时间 merged down over rows 1-2, 留言信息 merged across its three sub-columns."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["编号", "留言信息", None, None, "时间"])
    ws.append([None, "用户", "主题", "详情", None])
    ws.merge_cells("A1:A2")
    ws.merge_cells("B1:D1")
    ws.merge_cells("E1:E2")
    for i in range(n):
        ws.append([100 + i, f"U{i}", f"主题{i}", f"详情{i}", f"2019/1/{i + 1} 8:00"])
    wb.save(path)


def test_a_two_row_merged_header_names_every_column(tmp_path: Path) -> None:
    path = tmp_path / "two.xlsx"
    _two_level_book(path)
    for known in ([], ["主题", "详情", "用户"], ["编号", "时间"]):  # either header row may be found first
        df = read_table(path, known_columns=known)
        assert list(df.columns) == ["编号", "用户", "主题", "详情", "时间"], known
        assert len(df) == 5 and df["编号"].tolist() == [100, 101, 102, 103, 104]
        assert source_rows(df) == [3, 4, 5, 6, 7]
        assert df.attrs["govml"]["header_rows"] == [1, 2]


def test_a_two_row_header_in_a_gbk_csv(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    text = "编号,留言信息,,,时间\n,用户,主题,详情,\n" + "".join(
        f"{100 + i},U{i},主题{i},详情{i},2019/1/{i + 1} 8:00\n" for i in range(4))
    path.write_bytes(text.encode("gbk"))
    for known in ([], ["编号", "时间"], ["主题", "详情"]):
        df = read_table(path, known_columns=known)
        assert list(df.columns) == ["编号", "用户", "主题", "详情", "时间"], known
        assert df["编号"].tolist() == ["100", "101", "102", "103"]
        assert source_rows(df) == [3, 4, 5, 6]


def test_a_title_row_does_not_name_an_unnamed_column(tmp_path: Path) -> None:
    path = tmp_path / "titled.csv"
    path.write_text("2019年留言导出\n,主题,时间\n1,a,2019-01-01\n2,b,2019-01-02\n", encoding="utf-8")
    df = read_table(path)
    assert list(df.columns) == ["column_1", "主题", "时间"]
    assert df.attrs["govml"]["header_row"] == 2 and "header_rows" not in df.attrs["govml"]
    pd.testing.assert_series_equal(df["主题"], pd.Series(["a", "b"], name="主题", dtype="str"))


def _messages(path: Path, samples_dir: Path, n: int = 600) -> pd.DataFrame:
    """The first ``n`` sample messages under Chinese headers, as a GBK CSV (a board's export)."""
    df = pd.read_csv(samples_dir / "messages.csv", dtype=str).head(n)
    df = df.rename(columns={"id": "编号", "created_at": "受理时间", "district": "区县", "text": "内容",
                            "category": "类别"})
    df.to_csv(path, index=False, encoding="gbk")
    return df


def test_top_by_merges_spellings_and_counts_empty_groups(samples_dir: Path, tmp_path: Path) -> None:
    from cli_runner import govml

    src = tmp_path / "m.csv"
    df = _messages(src, samples_dir)
    df.loc[0:9, "区县"] = "青山 区"  # a space typed between two characters
    df.loc[10:14, "区县"] = " 青山区\u3000"
    df.loc[20:22, "区县"] = None
    df.to_csv(src, index=False, encoding="gbk")
    out = tmp_path / "top.csv"
    code, text = govml("demands", "top", src, "--by", "区县", "--text-col", "内容", "--time-col", "受理时间",
                       "--top", "3", "--out", out)
    assert code == 0, text
    res = pd.read_csv(out)
    assert set(res["group"]) == {"青山区", "云溪县", "临江区", "(空)"}
    flat = " ".join(text.split())
    assert "'青山 区' → '青山区' (10: row 2, 3, 4, 5, 6 …)" in flat
    assert "青山区\u3000" not in flat  # spaces at the ends are the reader's cleaning, not a spelling
    assert "3 of 600 message(s) have no group (row 22, 23, 24): counted as the group '(空)'" in flat
    # the empty group's count is its three messages
    empty = res[res["group"] == "(空)"]
    assert empty["count"].max() <= 3 and (empty["share"] <= 1).all()


def test_alerts_say_a_footer_once_and_the_title_rows(samples_dir: Path, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    from cli_runner import govml

    df = pd.read_csv(samples_dir / "messages.csv", dtype=str).head(800)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["留言导出"])
    ws.append(list(df.columns))
    for r in df.itertuples(index=False):
        ws.append(list(r))
    ws.append(["合计"] + [None] * (df.shape[1] - 1))
    src = tmp_path / "board.xlsx"
    wb.save(src)
    code, text = govml("demands", "alerts", src, "--out", tmp_path / "a.csv")
    assert code == 0, text
    flat = " ".join(text.split())
    said = [r for r in caplog.records if "below the data skipped" in r.getMessage()]
    assert len(said) == 1, said
    assert "header on row 2: the row(s) above it were read as titles" in flat


def test_train_takes_label_spellings_as_one_category(samples_dir: Path, tmp_path: Path) -> None:
    import json

    from cli_runner import govml

    src = tmp_path / "lab.csv"
    df = _messages(src, samples_dir, n=500)
    heat = df.index[df["类别"] == "供暖供水"]
    df.loc[heat[:6], "类别"] = "供暖 供水"  # six rows: enough to be a class of its own before
    df.loc[heat[6:9], "类别"] = "供暖供水　"
    df.to_csv(src, index=False, encoding="gbk")
    code, text = govml("demands", "train", src, "--label-col", "类别", "--text-col", "内容",
                       "--model-dir", tmp_path / "m", "--cv", "2")
    assert code == 0, text
    labels = json.loads((tmp_path / "m" / "model.json").read_text(encoding="utf-8"))["labels"]
    assert "供暖供水" in labels and not any(" " in v or "\u3000" in v for v in labels)
    assert len(labels) == df["类别"].str.replace(r"\s", "", regex=True).nunique()
    assert "'供暖 供水' → '供暖供水' (6: row" in " ".join(text.split())


def test_classify_says_empty_texts_once_with_their_rows(samples_dir: Path, tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    from cli_runner import govml

    df = pd.read_csv(samples_dir / "messages.csv", dtype=str)
    df.head(1500).to_csv(tmp_path / "lab.csv", index=False)
    code, text = govml("demands", "train", tmp_path / "lab.csv", "--model-dir", tmp_path / "m", "--cv", "2")
    assert code == 0, text
    big = pd.concat([df, df.head(12000 - len(df))], ignore_index=True)  # three chunks of 5,000
    big["id"] = [f"M{i}" for i in range(len(big))]
    big.loc[[3, 7000, 11000], "text"] = None
    big.to_csv(tmp_path / "big.csv", index=False)
    caplog.clear()
    code, text = govml("demands", "classify", tmp_path / "big.csv", "--model-dir", tmp_path / "m",
                       "--out", tmp_path / "p.csv")
    assert code == 0, text
    assert not [r for r in caplog.records if "empty text" in r.getMessage()]
    flat = " ".join(text.split())
    assert "3 message(s) with empty text (row 5, 7002, 11002) got no category" in flat
    res = pd.read_csv(tmp_path / "p.csv")
    assert res["category_pred"].isna().sum() == 3 and len(res) == 12000


def test_fingerprints_read_times_as_the_commands_do(tmp_path: Path) -> None:
    import warnings

    from cli_runner import govml
    from govml.cli.hotspots import _fingerprint

    rng = np.random.default_rng(1)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 120, 900), unit="D")
    ev = pd.DataFrame({"受理时间": [f"{d.year}年{d.month}月{d.day}日" for d in days],
                       "街道": rng.choice(["金桥", "朝阳", "桃源"], 900), "类别": rng.choice(["噪声", "供暖"], 900)})
    src = tmp_path / "ev.csv"
    ev.to_csv(src, index=False, encoding="gbk")
    fp = _fingerprint(read_table(src), "受理时间")
    assert (fp["date_min"], fp["date_max"]) == (str(min(days).date()), str(max(days).date()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, text = govml("hotspots", "forecast", src, "--time-col", "受理时间", "--area-col", "街道",
                           "--category-col", "类别", "--out", tmp_path / "fc.csv")
    assert code == 0, text
    assert not [w for w in caught if "infer format" in str(w.message)]


def test_classify_warns_about_messages_the_model_has_no_word_for(samples_dir: Path, tmp_path: Path) -> None:
    from cli_runner import govml

    df = pd.read_csv(samples_dir / "messages.csv", dtype=str)
    df.head(1500).to_csv(tmp_path / "lab.csv", index=False)
    code, text = govml("demands", "train", tmp_path / "lab.csv", "--model-dir", tmp_path / "m", "--cv", "2")
    assert code == 0, text
    new = df.iloc[2000:2100].copy()
    new.to_csv(tmp_path / "same.csv", index=False)
    code, text = govml("demands", "classify", tmp_path / "same.csv", "--model-dir", tmp_path / "m",
                       "--out", tmp_path / "p1.csv")
    assert code == 0, text
    assert "share no word" not in text
    new.iloc[[4, 50], new.columns.get_loc("text")] = ["Street Light Outages", "Pothole Repair (Internal)"]
    new.to_csv(tmp_path / "mixed.csv", index=False)
    code, text = govml("demands", "classify", tmp_path / "mixed.csv", "--model-dir", tmp_path / "m",
                       "--out", tmp_path / "p2.csv")
    assert code == 0, text
    assert "2 of 100 message(s) (2%) share no word with the messages the model was trained on (row 6, 52)" in (
        " ".join(text.split()))
    assert len(pd.read_csv(tmp_path / "p2.csv")) == 100


def test_backtest_says_once_where_intervals_could_not_be_calibrated(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    from cli_runner import govml

    rng = np.random.default_rng(2)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 366, 3000), unit="D")
    ev = pd.DataFrame({"时间": days.strftime("%Y/%m/%d %H:%M"), "区": rng.choice(["甲", "乙", "丙"], 3000),
                       "类": rng.choice(["噪声", "供暖", "停车"], 3000)})
    ev.to_csv(tmp_path / "ev.csv", index=False)
    code, text = govml("hotspots", "backtest", tmp_path / "ev.csv", "--time-col", "时间", "--area-col", "区",
                       "--category-col", "类", "--freq", "M", "--horizon", "1", "--origins", "4",
                       "--out", tmp_path / "bt.json")
    assert code == 0, text
    assert not [r for r in caplog.records if "too little history" in r.getMessage()]
    flat = " ".join(text.split())
    assert "origin(s) the history (8–9 periods) was too short to calibrate intervals" in flat


def test_empty_and_repeated_ids_are_said_with_their_rows(samples_dir: Path, tmp_path: Path) -> None:
    from cli_runner import govml

    df = pd.read_csv(samples_dir / "messages.csv", dtype=str).head(400)
    df.loc[[5, 9, 200], "id"] = df.loc[3, "id"]
    df.loc[[7, 8], "id"] = None
    df.to_csv(tmp_path / "m.csv", index=False)
    code, text = govml("demands", "hot-issues", tmp_path / "m.csv", "--out", tmp_path / "hot.csv")
    assert code == 0, text
    flat = " ".join(text.split())
    assert ("column 'id': 2 row(s) have no id (row 9, 10); 4 row(s) share 1 id(s) with another row "
            f"(e.g. '{df.loc[3, 'id']}': row 5, 7, 11, 202)") in flat
    code, text = govml("demands", "hot-issues", samples_dir / "messages.csv", "--top", "3", "--out", tmp_path / "h2.csv")
    assert code == 0 and "have no id" not in text and "share" not in text
