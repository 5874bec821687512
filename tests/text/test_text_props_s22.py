"""Session 22 (hB): cross-checks of the demands commands' outputs against the raw messages, and their
metamorphic properties (row order, duplicated files, renamed groups)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tests.cli_runner import govml

from govml.text.demands import top_demands


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"text": [f"m{i}" for i in range(n)],
                         "created_at": pd.date_range("2024-03-04", periods=n, freq="h")})


def test_top_phrase_spelling_a_word_is_one_term_counted_once_per_message():
    # jieba cuts 小区业主 as one word in some messages and as 小区 + 业主 in others: the phrase 小区业主 and the
    # word 小区业主 are one term (before: two rows 小区业主 in the same group-period, counting 4 and 2)
    tokens = [["小区", "业主", "投诉", "噪声"]] * 4 + [["小区业主", "投诉"]] * 2 + [["小区业主", "小区", "业主"]]
    res = top_demands(_frame(len(tokens)), tokens=tokens, top=20, min_count=1)
    rows = res[res["term"] == "小区业主"]
    assert len(rows) == 1
    assert rows["count"].iloc[0] == 7  # the message with both spellings counts once
    assert not res.duplicated(["group", "period_start", "term"]).any()


def test_top_phrases_of_two_segmentations_are_one_term():
    # A + BC and AB + C spell the same 3-character phrase: one row, every message counted
    tokens = [["加装", "电梯补贴"]] * 3 + [["加装电梯", "补贴"]] * 3
    res = top_demands(_frame(len(tokens)), tokens=tokens, top=20, min_count=1)
    rows = res[res["term"] == "加装电梯补贴"]
    assert len(rows) == 1 and rows["count"].iloc[0] == 6


def test_top_words_inside_a_merged_phrase_are_still_folded_into_it():
    # 电梯 and 停运 only occur inside 电梯停运 (cut as two words or as one): they are not listed beside it
    tokens = [["电梯", "停运", "投诉"]] * 3 + [["电梯停运", "投诉"]] * 2
    res = top_demands(_frame(len(tokens)), tokens=tokens, top=20, min_count=1)
    assert not {"电梯", "停运"} & set(res["term"])
    assert res.set_index("term")["count"]["电梯停运"] == 5


def _messages_csv(path, rows):  # noqa: ANN001
    pd.DataFrame(rows, columns=["id", "created_at", "community", "text"]).to_csv(path, index=False)
    return path


def test_top_says_messages_listed_twice_and_counts_them(tmp_path):
    # an export that lists a message twice (附件3: 19 pairs, one 2019/4/26, the other 2019-04-26): the copies are
    # counted as messages of their own, and the terminal says which rows repeat another
    rows = [(f"M{i}", f"2024-03-0{1 + i % 5} 10:00:00", "金桥社区", f"金桥小区电梯停运第{i}天，老人下不了楼") for i in range(6)]
    rows += [("M9", "2024-03-01 10:00:00", "金桥社区", rows[0][3]), ("M10", "2024-03-01 10:00:00", "金桥社区", rows[0][3])]
    src = _messages_csv(tmp_path / "m.csv", rows)
    code, out = govml("demands", "top", src, "--by", "community", "--out", tmp_path / "top.csv")
    assert code == 0, out
    said = " ".join(out.split())
    assert "2 message(s) repeat the text of another row" in said and "row 2 & 8 & 9" in said
    top = pd.read_csv(tmp_path / "top.csv")
    assert top["count"].max() == 8 and (top["share"] <= 1).all()  # every copy counted, as said


def test_repeated_text_at_another_time_is_not_said(tmp_path):
    rows = [(f"M{i}", f"2024-03-0{1 + i} 10:00:00", "金桥社区", "金桥小区电梯停运，老人下不了楼") for i in range(4)]
    src = _messages_csv(tmp_path / "m.csv", rows)
    code, out = govml("demands", "top", src, "--out", tmp_path / "top.csv")
    assert code == 0, out
    assert "repeat the text" not in out


def test_alerts_emerging_terms_use_the_text_config_as_top_does(tmp_path):
    # `demands alerts` tokenized with the built-in words only, ignoring configs/text.yaml (its stop words and synonyms),
    # so its emerging terms were not the words of `demands top`

    rng = np.random.default_rng(0)
    base = ["小区道路破损需要修补", "路灯不亮晚上很黑", "垃圾清运不及时有异味", "楼下广场舞声音太大", "停车位不够乱停车"]
    t0 = pd.Timestamp("2024-01-01 09:00")
    rows = [(f"M{w}-{k}", t0 + pd.Timedelta(weeks=w, hours=7 * k), "金桥社区", base[rng.integers(len(base))])
            for w in range(20) for k in range(5)]
    rows += [(f"N{k}", t0 + pd.Timedelta(weeks=20, hours=5 * k), "金桥社区", f"楼道里有人飞线充电很危险，第{k}次反映")
             for k in range(8)]
    src = _messages_csv(tmp_path / "m.csv", rows)
    cfg = tmp_path / "text.yaml"
    cfg.write_text("synonyms:\n  飞线充电: 私拉电线\n", encoding="utf-8")
    code, out = govml("demands", "alerts", src, "--text-config", cfg, "--out", tmp_path / "a.csv")
    assert code == 0, out
    alerts = pd.read_csv(tmp_path / "a.csv")
    assert list(alerts.loc[alerts["kind"] == "term", "key"]) == ["私拉电线"]
