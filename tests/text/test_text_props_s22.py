"""Session 22 (hB): cross-checks of the demands commands' outputs against the raw messages, and their
metamorphic properties (row order, duplicated files, renamed groups)."""

from __future__ import annotations

import pandas as pd

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
