"""Session 22 (hB): cross-checks of the demands commands' outputs against the raw messages, and their
metamorphic properties (row order, duplicated files, renamed groups)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
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


# ---- the outputs recomputed from the raw messages (data_samples) ---------------------------------------------

def _samples(samples_dir) -> pd.DataFrame:  # noqa: ANN001
    return pd.read_csv(samples_dir / "messages.csv", parse_dates=["created_at"])


def _grams(tokens: list[str]) -> set[str]:
    """Every term a message holds: its words and its 2-3-word phrases within a clause, joined."""
    from govml.text.tokenize import BREAK

    return {"".join(tokens[i:i + n]) for n in (1, 2, 3) for i in range(len(tokens) - n + 1)
            if BREAK not in tokens[i:i + n]}


def test_top_recounted_from_the_messages(samples_dir):
    # count = messages of the group-week holding the term, share = count / messages of the group-week, weeks from
    # Monday, example = the shortest message (>= 15 characters) of the group-week holding it, masked
    from govml.privacy import mask
    from govml.text.tokenize import GovTokenizer

    df = _samples(samples_dir)
    tokens = GovTokenizer(mark_breaks=True).tokenize_many(df["text"])
    res = top_demands(df, by="community", period="W", tokens=tokens)
    assert len(res) > 1000 and not res.duplicated(["group", "period_start", "term"]).any()
    assert (res["period_start"].dt.day_of_week == 0).all() and (res["period_start"] == res["period_start"].dt.normalize()).all()
    grams = [_grams(t) for t in tokens]
    week = df["created_at"].dt.to_period("W").dt.start_time
    cells = df.groupby([df["community"], week]).indices
    for r in res.itertuples():
        rows = cells[(r.group, r.period_start)]
        holding = [i for i in rows if r.term in grams[i]]
        assert r.count == len(holding), r
        assert r.share == pytest.approx(len(holding) / len(rows))
        lengths = {i: len(df["text"].iloc[i]) for i in holding}
        long = [n for n in lengths.values() if n >= 15]
        best = [i for i, n in lengths.items() if n == (min(long) if long else max(lengths.values()))]
        assert r.example in {" ".join(mask(df["text"].iloc[i]).split()) for i in best}, r


def test_hot_issues_recounted_from_the_messages(samples_dir):
    # ids of different issues disjoint and all in the input; n_messages = ids; first/last_seen = the ids' times;
    # hottest first; the summary is a clause of one of its messages (after 'place：'); the place is written in them
    import re

    from govml.privacy import mask
    from govml.text.hot_issues import OUTPUT_COLUMNS, HotIssueFinder

    df = _samples(samples_dir)
    df = df[df["created_at"] < "2023-07-01"]
    hot = HotIssueFinder(text_cols=("text",), likes_col="likes", user_col="user_id").fit(df).issues_[OUTPUT_COLUMNS]
    assert len(hot) > 50
    by_id = df.set_index("id")
    ids = [s.split(";") for s in hot["message_ids"]]
    flat = [i for x in ids for i in x]
    assert len(flat) == len(set(flat)) and set(flat) <= set(df["id"])
    assert list(hot["n_messages"]) == [len(x) for x in ids]
    assert list(hot["rank"]) == list(range(1, len(hot) + 1)) and hot["heat"].is_monotonic_decreasing
    for r, x in zip(hot.itertuples(), ids, strict=True):
        sub = by_id.loc[x]
        assert (pd.Timestamp(r.first_seen), pd.Timestamp(r.last_seen)) == (sub["created_at"].min(), sub["created_at"].max())
        assert sub["created_at"].is_monotonic_increasing
        clause = r.summary.removeprefix(f"{r.place}：")
        assert any(clause in " ".join(mask(t).split()) for t in sub["text"]), r
        assert len(re.sub(r"<[A-Z]+>|手机|电话|身份证号", "", clause)) >= 2, r  # was 车站巷：手机<PHONE>
        place = re.sub(r"^[A-Z]\d{0,2}[区县]", "", r.place)
        assert any(place in t for t in sub["text"]), r


def test_alerts_observed_recounted_and_levels_as_documented(samples_dir):
    # every tested cell's observed = messages of the group × category (× term) in its window of 1, 2 or 4 weeks
    # ending at period_start; p in [0, 1], expected >= 0, no period after the data's last; each alert meets the
    # README's rule for its level
    from govml.text.alerts import SurgeDetector
    from govml.text.tokenize import GovTokenizer

    df = _samples(samples_dir)
    det = SurgeDetector(by="community", period="W", label_col="category", text_col="text").fit(df)
    cells, alerts = det.cells_, det.alerts_
    week = df["created_at"].dt.to_period("W").dt.start_time
    assert cells["p_value"].between(0, 1).all() and (cells["expected"] >= 0).all()
    assert (cells["period_start"] <= week.max()).all() and (cells["period_start"].dt.day_of_week == 0).all()
    weeks = pd.DatetimeIndex(sorted(week.unique()))
    pos = pd.Series(np.arange(len(weeks)), index=weeks)
    wk = pos[week].to_numpy()
    cat = cells[cells["kind"] == "category"]
    tested = pd.MultiIndex.from_arrays([cat["group"], cat["key"]])
    counts = pd.crosstab([df["community"], df["category"]], wk)  # rows (group, category) × week positions
    counts = counts.reindex(counts.index.union(tested.unique()), fill_value=0)  # categories a group never had
    cum = np.concatenate([np.zeros((len(counts), 1), int), counts.to_numpy().cumsum(axis=1)], axis=1)
    row = pd.Series(np.arange(len(counts)), index=counts.index)
    r = row[tested].to_numpy()
    t = pos[cat["period_start"]].to_numpy()
    w = cat["window"].to_numpy().astype(int)
    assert (cum[r, t + 1] - cum[r, np.maximum(t + 1 - w, 0)] == cat["observed"].to_numpy()).all()
    term = cells[cells["kind"] == "term"]
    assert len(term) > 10
    toks = [set(x) for x in GovTokenizer().tokenize_many(df["text"])]
    rows_of = df.groupby("community").indices
    picked = pd.concat([term[term["level"].notna()], term.sample(min(len(term), 300), random_state=0)])
    assert picked["level"].notna().sum() > 10  # every term alert, and a sample of the other term cells
    for c in picked.itertuples():
        rows = rows_of[c.group]
        t = pos[c.period_start]
        rows = rows[(wk[rows] <= t) & (wk[rows] > t - c.window)]
        assert sum(c.key in toks[i] for i in rows) == c.observed, c
    a = alerts.merge(cells[["group", "period_start", "kind", "key", "q_value"]], on=["group", "period_start", "kind", "key"])
    assert len(a) == len(alerts) > 20
    ratio = a["observed"] / a["expected"]
    q, p, o = a["q_value"], a["p_value"], a["observed"]
    cat_rules = {"告警": (q <= 0.01) & (ratio >= 3) & (o >= 6),
                 "预警": ((q <= 0.125) & (ratio >= 2) & (o >= 4)) | ((p <= 0.05) & (ratio >= 1.5) & (o >= 4)),
                 "关注": (p <= 0.01) & (ratio >= 1.5) & (o >= 3)}
    term_rules = {"告警": (q <= 0.001) & (ratio >= 5) & (o >= 6), "预警": (q <= 0.01) & (ratio >= 3) & (o >= 4),
                  "关注": (p <= 0.001) & (ratio >= 3) & (o >= 4)}
    for level in ("告警", "预警", "关注"):
        at = a["level"] == level
        assert (cat_rules[level] | (a["kind"] != "category"))[at].all(), level
        assert (term_rules[level] | (a["kind"] != "term"))[at].all(), level


def test_hot_issue_summary_skips_contact_details():
    from govml.text.hot_issues import _first_clause

    assert _first_clause("尊敬的领导：手机<PHONE>,车站巷两边长期乱停车,早晚高峰堵得走不动") == "车站巷两边长期乱停车"
    assert _first_clause("身份证号<IDCARD>，小区门口垃圾没人清") == "小区门口垃圾没人清"
    assert _first_clause("<NAME>家门口垃圾堆放很久") == "<NAME>家门口垃圾堆放很久"
    assert _first_clause("电话多次打不通，没人管") == "电话多次打不通"


def test_discrete_bh_counts_a_threshold_equal_to_an_attainable_value_up_to_rounding():
    # the threshold is a cell's own p-value computed on another path: a few ulps below the attainable value it
    # stands for, it must still count it (it did not: q-values moved by up to 9e-4 when the groups were renamed)
    from scipy import stats

    from govml.text.alerts import _attainable_tail_sums

    mu, size = np.array([1.0]), np.array([2.0])
    t = stats.nbinom.sf(2, size[0], size[0] / (size[0] + mu[0]))
    exact, below = _attainable_tail_sums(mu, size, np.array([t, np.nextafter(np.nextafter(t, 0), 0)]))
    assert below == exact == pytest.approx(t)


def test_alerts_same_after_renaming_the_groups(samples_dir):
    # another spelling of every group (another sort order) changes only the names: the q-values moved by up to 9e-4
    # (two scores in alerts.csv changed) through float noise in near-tied p-values
    from govml.text.alerts import SurgeDetector

    df = _samples(samples_dir)
    names = sorted(df["community"].unique())
    new = dict(zip(names, [f"组{i:02d}" for i in np.random.default_rng(0).permutation(len(names))], strict=True))
    kw = {"by": "community", "period": "W", "label_col": "category", "text_col": "text", "terms": False}
    a = SurgeDetector(**kw).fit(df).cells_
    renamed = df.assign(community=df["community"].map(new)).sample(frac=1, random_state=1)
    b = SurgeDetector(**kw).fit(renamed).cells_
    b["group"] = b["group"].map({v: k for k, v in new.items()})
    key = ["group", "period_start", "kind", "key"]
    a, b = a.set_index(key).sort_index(), b.set_index(key).sort_index()
    assert a.index.equals(b.index)
    assert (a["observed"] == b["observed"]).all() and (a["level"].fillna("") == b["level"].fillna("")).all()
    for col in ("expected", "p_value", "q_value"):
        assert np.allclose(a[col], b[col], rtol=1e-12, atol=1e-14), col
