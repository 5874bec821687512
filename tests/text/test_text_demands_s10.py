"""top_demands on what an analyst reads (session 10): a one-message period is not a trend, and a word
that nearly always occurs inside a longer phrase shown beside it is one demand, not two."""

from __future__ import annotations

import numpy as np
import pandas as pd

import govml.text.demands as demands
from govml.text.demands import top_demands


def _frame(tokens: list[list[str]], months: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"text": [" ".join(t) for t in tokens], "created_at": pd.to_datetime(months)})


def test_a_period_with_one_message_is_left_out():
    # 2018-11 holds one message (a name in it): every word of it had share 1.0 and a z near 2 (real
    # 附件3 data: 20 rows of fragments such as 朱琦梦, 特来求 for a single message)
    tokens = [["朱琦梦", "购房补贴", "通不过"]] + [["噪声", "扰民"], ["噪声", "施工"], ["停车", "收费"]] * 3
    months = ["2018-11-05"] + ["2019-05-03"] * 9
    out = top_demands(_frame(tokens, months), tokens=tokens, phrases=False, top=10)
    assert set(out["period_start"]) == {pd.Timestamp("2019-05-01")}
    assert "朱琦梦" not in set(out["term"])
    assert out.set_index("term").loc["噪声", "count"] == 6
    # the old output is kept on request
    old = top_demands(_frame(tokens, months), tokens=tokens, phrases=False, top=10, min_messages=1)
    one = old[old["period_start"] == pd.Timestamp("2018-11-01")]
    assert set(one["term"]) == {"朱琦梦", "购房补贴", "通不过"} and (one["share"] == 1.0).all()


def _estate(n_phrase: int = 9, n_alone: int = 1, n_other: int = 12) -> tuple[list[list[str]], list[str]]:
    # 景园 and 滨河 occur mostly as the estate name 景园滨河; 小区 and 车位 are other demands
    tokens = ([["景园", "滨河", "车位"]] * n_phrase + [["景园", "绿化"]] * n_alone
              + [["滨河", "路灯"]] * n_alone + [["小区", "停车"]] * n_other)
    return tokens, ["2019-08-10"] * len(tokens)


def test_words_nearly_always_inside_a_shown_phrase_are_left_out():
    tokens, months = _estate()
    # min_count=1: the terms that move up are single-message words (the default "auto" asks for 2
    # messages in a month of 23)
    out = top_demands(_frame(tokens, months), tokens=tokens, top=6, min_phrase_count=3, min_count=1)
    terms = dict(zip(out["term"], out["count"], strict=True))
    # 景园 10 and 滨河 10 hold the phrase 景园滨河 in 9 of their 10 messages (0.9 >= 0.8): left out,
    # and the freed places go to the next terms
    assert "景园" not in terms and "滨河" not in terms
    assert terms == {"小区停车": 12, "景园滨河车位": 9, "绿化": 1, "路灯": 1}
    # a part stays when the phrase holds less than subsume_share of its messages (9 of 13 < 0.8)
    tokens, months = _estate(n_alone=4)
    terms = set(top_demands(_frame(tokens, months), tokens=tokens, top=6, min_phrase_count=3)["term"])
    assert {"景园", "滨河", "景园滨河车位"} <= terms
    # subsume_share=1 is the old rule (same count only)
    tokens, months = _estate()
    terms = set(top_demands(_frame(tokens, months), tokens=tokens, top=6, min_phrase_count=3,
                            subsume_share=1.0)["term"])
    assert {"景园", "滨河"} <= terms


def test_a_part_stays_when_the_phrase_that_holds_it_is_not_shown():
    # real 2019-12: 丽发新城 31 and its part 新城 34; a phrase below the top-N cut must not take its
    # part away with it (old behaviour with a ratio before ranking: both were gone)
    tokens = ([["丽发", "新城", "搅拌站"]] * 8 + [["新城", "学校"]]
              + [["噪声"]] * 20 + [["停车"]] * 15 + [["丽发"]] * 3)
    df = _frame(tokens, ["2019-12-02"] * len(tokens))

    def terms(top: int) -> dict[str, int]:
        out = top_demands(df, tokens=tokens, top=top, min_phrase_count=3, min_count=1)  # 学校 1 moves up
        return dict(zip(out["term"], out["count"], strict=True))

    # 丽发 11, 新城 9 rank third and fourth; the phrase 丽发新城搅拌站 (8) is not shown at top=4, so
    # 新城 stays
    assert terms(4) == {"噪声": 20, "停车": 15, "丽发": 11, "新城": 9}
    # at top=5 the phrase is shown and holds 8 of 新城's 9 messages: 新城 leaves, the next term moves
    # up; 丽发 stays (8 of 11 < 0.8)
    assert terms(5) == {"噪声": 20, "停车": 15, "丽发": 11, "丽发新城搅拌站": 8, "学校": 1}


def test_count_candidates_grow_when_left_out_terms_leave_a_group_short(monkeypatch):
    # scoring only the cells that can reach the top must give the rows of scoring every cell, also
    # when merged parts free places in the top
    rng = np.random.default_rng(5)
    names = [["景园", "滨河"], ["丽发", "新城"], ["金桥", "社区"], ["芙蓉", "大道"]]
    words = [f"词{i}" for i in range(30)]
    tokens = []
    for _ in range(500):
        t = list(rng.choice(words, rng.integers(1, 4)))
        if rng.random() < 0.5:
            t = list(names[rng.integers(len(names))]) + t
        tokens.append(t)
    df = pd.DataFrame({"text": [" ".join(t) for t in tokens], "community": rng.choice(["甲", "乙"], 500),
                       "created_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 60, 500), "D")})
    got = top_demands(df, by="community", tokens=tokens, top=5, min_phrase_count=3)
    assert not set(got["term"]) & {"景园", "滨河", "丽发", "新城"}
    monkeypatch.setattr(demands, "_count_candidates", lambda *a, **k: None)
    pd.testing.assert_frame_equal(top_demands(df, by="community", tokens=tokens, top=5, min_phrase_count=3), got)
    assert (got.groupby(["group", "period_start"]).size() == 5).all()


def test_scoring_more_candidates_when_the_spare_ones_run_out(monkeypatch):
    # top=3 scores the cells with a count >= the 4th count first (景园, 滨河, 景园滨河, 噪声); two parts
    # leave, so 停车 (below that cut) must be scored in a second pass to fill the third place
    tokens = [["景园", "滨河"]] * 9 + [["景园"], ["滨河"]] + [["噪声"]] * 5 + [["停车"]] * 4 + [["路灯"]] * 3
    df = _frame(tokens, ["2019-08-10"] * len(tokens))
    got = top_demands(df, tokens=tokens, top=3, min_phrase_count=3)
    assert list(zip(got["term"], got["count"], strict=True)) == [("景园滨河", 9), ("噪声", 5), ("停车", 4)]
    monkeypatch.setattr(demands, "_count_candidates", lambda *a, **k: None)
    pd.testing.assert_frame_equal(top_demands(df, tokens=tokens, top=3, min_phrase_count=3), got)
