"""top_demands: counts, shares, phrases, weighted log-odds, examples, trend."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest

from govml.errors import DataError
from govml.text.demands import ALL_GROUP, COLUMNS, log_odds_z, top_demands


def test_log_odds_matches_hand_computation():
    # word w: 10 of 100 word counts in corpus i, 2 of 200 in corpus j; prior α_w = 1, α_0 = 20
    y_i, n_i, y_j, n_j, a_w, a_0 = 10, 100, 2, 200, 1.0, 20.0
    delta = math.log(11 / (100 + 20 - 10 - 1)) - math.log(3 / (200 + 20 - 2 - 1))
    sigma = math.sqrt(1 / 11 + 1 / 3)
    got = log_odds_z(np.array([y_i]), n_i, np.array([y_j]), n_j, np.array([a_w]), a_0)[0]
    assert got == pytest.approx(delta / sigma, rel=1e-12)
    assert got == pytest.approx(3.0519, abs=1e-3)  # ln(11/109) − ln(3/217) = 1.98787; σ = 0.651339
    # symmetric: swapping the corpora flips the sign
    back = log_odds_z(np.array([y_j]), n_j, np.array([y_i]), n_i, np.array([a_w]), a_0)[0]
    assert back == pytest.approx(-got)


def test_tiny_table_counts_share_and_distinctiveness():
    df = pd.DataFrame({
        "text": ["电梯 电梯 维修", "电梯 噪声", "噪声 噪声", "噪声 维修"],
        "created_at": pd.to_datetime(["2024-01-03", "2024-01-20", "2024-01-05", "2024-01-09"]),
        "community": ["甲", "甲", "乙", "乙"],
    })
    tokens = [t.split() for t in df["text"]]
    out = top_demands(df, by="community", tokens=tokens, phrases=False, prior_size=6.0, top=10)
    assert list(out.columns) == COLUMNS
    a = out[out.group == "甲"].set_index("term")
    assert a.loc["电梯", "count"] == 2  # document frequency: the first message counts once
    assert a.loc["电梯", "share"] == pytest.approx(1.0)
    assert a.loc["维修", "share"] == pytest.approx(0.5)
    # hand check of 电梯 in 甲: DF counts 甲 {电梯:2, 维修:1, 噪声:1} n=4; 乙 {噪声:2, 维修:1} n=3
    # corpus DF: 电梯 2, 维修 2, 噪声 3 (total 7) → α_电梯 = 6·2/7
    alpha = 6.0 * 2 / 7
    delta = math.log((2 + alpha) / (4 + 6 - 2 - alpha)) - math.log((0 + alpha) / (3 + 6 - 0 - alpha))
    z = delta / math.sqrt(1 / (2 + alpha) + 1 / alpha)
    assert a.loc["电梯", "distinctiveness"] == pytest.approx(z, abs=1e-3)
    assert a.loc["电梯", "distinctiveness"] > 0 > a.loc["噪声", "distinctiveness"]
    assert (out["period_start"] == pd.Timestamp("2024-01-01")).all()


def _planted(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    rng = random.Random(seed)
    common = ["停车难", "物业费", "垃圾分类", "路灯", "噪声扰民", "绿化带", "下水道", "公交站"]
    rows = []
    for i in range(n):
        comm = f"社区{rng.randrange(6)}"
        month = rng.choice(["2024-03", "2024-04"])
        words = rng.sample(common, 3)
        if comm == "社区3" and rng.random() < 0.6:
            words.append("飞线充电")
        if rng.random() < 0.01:
            words.append("飞线充电")
        rows.append({"id": i, "community": comm, "created_at": f"{month}-{rng.randint(1, 28):02d}",
                     "text": f"您好，我家电话13812345678，小区{words[0]}和{'、'.join(words[1:])}的问题希望尽快处理"})
    df = pd.DataFrame(rows)
    df["created_at"] = pd.to_datetime(df["created_at"])
    return df


def test_planted_distinctive_term_found_for_its_group():
    df = _planted()
    out = top_demands(df, by="community", period="M", top=5, rank_by="distinctiveness")
    for month in pd.to_datetime(["2024-03-01", "2024-04-01"]):
        best = out[(out.group == "社区3") & (out.period_start == month)].iloc[0]
        assert best["term"] == "飞线充电" and best["distinctiveness"] > 5
        others = out[(out.group != "社区3") & (out.period_start == month) & (out.term == "飞线充电")]
        assert others.empty
    # examples are masked messages that contain the term
    ex = out.loc[out.term == "飞线充电", "example"]
    assert ex.str.contains("飞线充电").all() and not ex.str.contains("13812345678").any()
    assert ex.str.contains("<PHONE>").all()


def test_no_by_gives_one_group_phrases_and_trend():
    df = _planted(600, seed=1)
    out = top_demands(df, period="M", top=30, with_trend=True, min_phrase_count=3)
    assert set(out["group"]) == {ALL_GROUP}
    assert list(out.columns) == COLUMNS + ["prev_share", "trend"]
    months = sorted(out.period_start.unique())
    first = out[out.period_start == months[0]]
    assert (first["prev_share"] == 0).all()
    second = out[out.period_start == months[1]].set_index("term")
    s1 = out[out.period_start == months[0]].set_index("term")["share"]
    common = second.index.intersection(s1.index)
    assert len(common) > 0
    for term in common:
        assert second.loc[term, "prev_share"] == pytest.approx(s1.loc[term])
    # a planted phrase: 2 adjacent tokens joined without a separator
    toks_phrase = top_demands(pd.DataFrame({"text": ["加装电梯 补贴 申请"] * 4 + ["加装电梯 排队"] * 2,
                                             "created_at": pd.Timestamp("2024-05-02")}),
                              tokens=[["加装电梯", "补贴", "申请"]] * 4 + [["加装电梯", "排队"]] * 2, top=10)
    terms = dict(zip(toks_phrase.term, toks_phrase["count"], strict=True))
    # parts that only occur inside a longer phrase with the same count are left out
    assert terms == {"加装电梯": 6, "加装电梯补贴申请": 4, "排队": 2}
    assert "加装电梯排队" not in terms  # only 2 messages < min_phrase_count=3


def test_phrases_do_not_cross_sentences():
    # (突出, not 很大: 很大 is a stop word since session 11)
    texts = ["小区消防隐患突出。派人来看看", "消防隐患突出！派人来处理", "消防隐患突出，派人来吧", "消防隐患突出派人来"]
    out = top_demands(pd.DataFrame({"text": texts, "created_at": pd.Timestamp("2024-05-02")}), top=20)
    terms = dict(zip(out.term, out["count"], strict=True))
    assert "突出派人来" not in terms and "消防隐患突出" in terms and terms["消防隐患突出"] == 4


def test_count_ranking_and_shares_sum():
    df = _planted(400, seed=2)
    out = top_demands(df, by="community", top=3, phrases=False)
    for _, g in out.groupby(["group", "period_start"]):
        assert len(g) <= 3
        assert list(g["count"]) == sorted(g["count"], reverse=True)
        n_msgs = ((df.community == g.group.iloc[0])
                  & (df.created_at.dt.to_period("M").dt.start_time == g.period_start.iloc[0])).sum()
        assert np.allclose(g["share"], g["count"] / n_msgs)


def test_errors_and_empty():
    df = pd.DataFrame({"text": ["a"], "created_at": [pd.Timestamp("2024-01-01")]})
    with pytest.raises(DataError, match="district"):
        top_demands(df, by="district")
    with pytest.raises(DataError, match="period"):
        top_demands(df, period="X")
    empty = top_demands(pd.DataFrame({"text": ["", None], "created_at": pd.to_datetime(["2024-01-01", None])}))
    assert list(empty.columns) == COLUMNS and empty.empty


def test_top_n_is_the_head_of_the_full_ranking_and_chunks_agree(monkeypatch):
    # the count ranking only scores cells that can reach a group's top: same rows as cutting the
    # full ranking; the subsumption check gives the same result in small chunks
    rng = np.random.default_rng(3)
    words = [f"词{i}" for i in range(40)]
    tokens = [list(rng.choice(words, rng.integers(3, 9), p=np.r_[[0.1] * 5, [0.5 / 35] * 35])) for _ in range(600)]
    df = pd.DataFrame({"text": [" ".join(t) for t in tokens], "community": rng.choice(["甲", "乙", "丙"], 600),
                       "created_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90, 600), "D")})
    full = top_demands(df, by="community", tokens=tokens, top=10_000, min_phrase_count=2)
    head = full.groupby(["group", "period_start"], sort=False).head(4).reset_index(drop=True)
    pd.testing.assert_frame_equal(top_demands(df, by="community", tokens=tokens, top=4, min_phrase_count=2), head)
    import govml.text.demands as demands

    monkeypatch.setattr(demands._subsumed, "__defaults__", (7,))
    pd.testing.assert_frame_equal(top_demands(df, by="community", tokens=tokens, top=10_000, min_phrase_count=2), full)
