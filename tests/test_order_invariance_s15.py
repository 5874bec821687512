"""Session 15: the same records give the same answer whatever the row order and the index (text and skills).

Each test builds a small table, runs a function on it and on the same rows in other orders (and with another
index), and compares. Before session 15 each of these came out differently: examples, terms at the cut-off, hot
issues' message lists and summaries were picked by row position on ties; ``score_assessments`` reset the caller's
index (and ``workforce_drivers`` then paired the wrong composites); a person's name in a community cell passed.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from tests.conftest import SAMPLES

ORDERS = [np.arange(6)[::-1], np.array([3, 1, 5, 0, 4, 2]), np.array([5, 0, 2, 4, 1, 3])]


# --------------------------------------------------------------------------------------------------
# top demands: examples and terms on ties


def _demands_frame() -> tuple[pd.DataFrame, list[list[str]]]:
    # one group, two months; in March 停车 and 电梯 have the same counts everywhere (a tie for the one place of
    # top=1), and the two messages holding 停车 are equally long (a tie for the example): the earlier one is shown
    texts = ["三号楼门口停车太乱了车都开不出去", "小区里面乱停车的现象越来越多了啊",
             "二号楼电梯经常坏掉老人上下楼困难", "电梯维修拖了半个月还没有人来处理",
             "小区绿化带里面的垃圾没有人清理掉", "楼道里的垃圾堆了好多天没人清运啊"]
    times = ["2024-03-05 09:00", "2024-03-02 09:00", "2024-03-07 10:00", "2024-03-09 11:00",
             "2024-02-03 08:00", "2024-02-10 08:00"]
    tokens = [["停车", "乱"], ["停车", "乱"], ["电梯", "老人"], ["电梯", "维修"], ["垃圾", "绿化"], ["垃圾", "清运"]]
    return pd.DataFrame({"text": texts, "created_at": times}), tokens


@pytest.mark.parametrize("top", [1, 3])
def test_top_demands_same_terms_and_examples_in_any_row_order(top: int) -> None:
    from govml.text.demands import top_demands

    df, tokens = _demands_frame()
    base = top_demands(df, tokens=tokens, top=top, phrases=False, min_count=1)
    march = base[base["period_start"] == pd.Timestamp("2024-03-01")]
    assert len(march) == min(top, 3)
    ex = dict(zip(march["term"], march["example"], strict=True))
    # a tie of count and distinctiveness: the term used first (停车, 2 March) before the later one (电梯, 7 March)
    assert "停车" in ex and (top > 1 or "电梯" not in ex)
    # equally long: the earlier message (2 March), though it is the second row
    assert ex["停车"] == "小区里面乱停车的现象越来越多了啊"
    for order in ORDERS:
        shuffled = df.iloc[order].set_axis([f"r{i}" for i in order[::-1]])
        out = top_demands(shuffled, tokens=[tokens[i] for i in order], top=top, phrases=False, min_count=1)
        pd.testing.assert_frame_equal(out, base)


def test_top_demands_example_ties_at_the_same_time_go_by_text() -> None:
    from govml.text.demands import top_demands

    df, tokens = _demands_frame()
    df.loc[0, "created_at"] = df.loc[1, "created_at"]  # the two 停车 messages now also written at the same time
    outs = [top_demands(df.iloc[o], tokens=[tokens[i] for i in o], top=3, phrases=False, min_count=1)
            for o in [np.arange(6), *ORDERS]]
    for out in outs[1:]:
        pd.testing.assert_frame_equal(out, outs[0])
    ex = outs[0].set_index("term")["example"]
    assert ex["停车"] == min(df.loc[0, "text"], df.loc[1, "text"])


# --------------------------------------------------------------------------------------------------
# hot issues


def _hot_frame() -> pd.DataFrame:
    rows = [
        ("M3", "2024-03-01 09:00", "幸福小区电梯频繁故障，老人上下楼很困难", "A1", 3),
        ("M1", "2024-03-01 09:00", "幸福小区电梯又坏了，希望尽快维修电梯", "A2", 0),
        ("M2", "2024-03-02 10:00", "幸福小区的电梯三天两头故障停运", "A3", 5),
        ("M4", "2024-03-03 10:00", "和平路夜间施工噪音太大影响休息", "A4", 1),
        ("M6", "2024-03-03 10:00", "和平路工地夜间施工噪音扰民严重", "A5", 1),
        ("M5", "2024-03-20 08:00", "建议社区多组织一些老年人活动", "A6", 0),
    ]
    df = pd.DataFrame(rows, columns=["id", "created_at", "text", "user_id", "likes"])
    df["community"] = "青山社区"
    return df


def test_hot_issues_same_issues_in_any_row_order() -> None:
    from govml.text.hot_issues import HotIssueFinder

    df = _hot_frame()
    base = HotIssueFinder().fit(df)
    assert len(base.issues_) == 2
    # written at the same time: by id (M1 before M3), not by row
    assert base.issues_.set_index("place")["message_ids"].to_dict()["幸福小区"] == "M1;M3;M2"
    for order in ORDERS:
        shuffled = df.iloc[order].set_axis([100 + 7 * i for i in order[::-1]])
        f = HotIssueFinder().fit(shuffled)
        pd.testing.assert_frame_equal(f.issues_, base.issues_)
        # learned per-row attributes follow the rows as given
        assert f.labels_.tolist() == base.labels_[order].tolist()
        assert f.places_ == [base.places_[i] for i in order]


# --------------------------------------------------------------------------------------------------
# skills: the caller's index, the drivers' pairing, names in place cells


@pytest.fixture(scope="module")
def workforce():
    from govml.skills import IndicatorNormaliser, load_indicator_system, prepare_assessments

    system = load_indicator_system(None)
    data = prepare_assessments(pd.read_csv(SAMPLES / "assessments.csv"), system).data
    return system, data, IndicatorNormaliser(system).fit(data)


def test_score_assessments_keeps_the_callers_index(workforce) -> None:
    from govml.skills import score_assessments

    system, data, norm = workforce
    base = score_assessments(data, system, norm)
    perm = np.random.default_rng(0).permutation(len(data))
    mine = data.iloc[perm].set_axis([f"row{i}" for i in range(len(data))])  # an analyst's frame, their labels
    scores = score_assessments(mine, system, norm)
    # rows sorted by worker and period as before; each keeps the label of its row of the frame given
    assert scores[["worker_id", "period"]].values.tolist() == base[["worker_id", "period"]].values.tolist()
    back = scores.loc[mine.index]  # joined back to the caller's frame by label
    assert back["worker_id"].tolist() == mine["worker_id"].tolist() and back["period"].tolist() == mine["period"].tolist()
    pd.testing.assert_frame_equal(scores.reset_index(drop=True), base.reset_index(drop=True))
    # a frame already sorted with a fresh index (what prepare_assessments hands over): unchanged output
    assert base.index.equals(pd.RangeIndex(len(data)))


def test_workforce_drivers_pair_composites_with_their_rows_in_any_order(workforce) -> None:
    from govml.skills import score_assessments, workforce_drivers

    system, data, norm = workforce
    base = workforce_drivers(norm.transform(data), score_assessments(data, system, norm)["composite"], system,
                             n_estimators=20)
    # the same worker-periods in another order, with a fresh 0..n-1 index (a frame built by the caller)
    mine = data.sample(frac=1.0, random_state=1).reset_index(drop=True)
    out = workforce_drivers(norm.transform(mine), score_assessments(mine, system, norm)["composite"], system,
                            n_estimators=20)
    # the composites paired with their own rows, and LightGBM (row subsampling) fed the rows in one order
    pd.testing.assert_frame_equal(out, base)


def test_assign_cards_keeps_labels_and_leaves_the_input_alone(workforce) -> None:
    from govml.skills import assign_cards, score_assessments

    system, data, norm = workforce
    scores = score_assessments(data, system, norm).drop(columns=["card", "card_reason"])
    mine = scores.iloc[::-1].set_axis(np.arange(len(scores))[::-1] * 10)
    cards = assign_cards(mine, system)
    assert "card" not in mine.columns
    assert cards.index.tolist() == sorted(mine.index.tolist())  # sorted by worker and period: labels follow
    again = assign_cards(scores, system)
    assert cards["card"].tolist() == again["card"].tolist()


def test_a_personal_name_in_a_community_cell_is_refused() -> None:
    from govml.skills import load_indicator_system, prepare_assessments
    from govml.skills.readings import looks_like_personal_name

    system = load_indicator_system(None)
    raw = pd.read_csv(SAMPLES / "assessments.csv").head(40)
    raw.loc[3, "community"] = "张伟"
    raw.loc[7, "community"] = "张家湾社区"
    raw.loc[9, "district"] = "欧阳娜娜"
    prep = prepare_assessments(raw, system)
    refused = {(p.row, p.column) for p in prep.skipped if "person's name" in p.expected}
    assert refused == {(5, "community"), (11, "district")}  # file rows: header on row 1
    assert all(p.found == "<NAME>" for p in prep.skipped if "person's name" in p.expected)
    assert "张家湾社区" in set(prep.data["community"]) and len(prep.data) == 38
    # places are places, with or without their kind; names that end as a place does are not told
    assert [looks_like_personal_name(v) for v in ("张伟", "王秀英", "欧阳娜娜", "张家湾社区", "王家村", "李庄",
                                                  "金桥", "杨家山", "高新区", "王山", "Zhang Wei")] == \
        [True, True, True, False, False, False, False, False, False, False, False]


def test_names_are_not_looked_for_among_places_written_without_their_kind() -> None:
    from govml.skills.readings import personal_name_cells

    bare = pd.DataFrame({"community": ["龙泉", "杨柳", "白石", "柳岸", "新港", "翠柳", "金桥"] * 3})
    assert personal_name_cells(bare) == []  # 杨柳 could be a name: in a file of bare names it cannot be told
    kinds = pd.DataFrame({"community": ["龙泉社区", "杨柳村", "白石社区", "张伟", "新港社区"]})
    assert personal_name_cells(kinds) == [(3, "community")]


def test_samples_have_no_names_in_place_cells() -> None:
    from govml.skills.readings import personal_name_cells

    for name in ("assessments.csv", "messages.csv"):
        assert personal_name_cells(pd.read_csv(SAMPLES / name, usecols=["community", "district"])) == []


# --------------------------------------------------------------------------------------------------
# SurgeDetector: no dict as a default; detectors saved with the dict read the same


def test_surge_detector_defaults_are_constructible_and_old_saves_read_the_same() -> None:
    from sklearn.utils.estimator_checks import check_parameters_default_constructible

    from govml.errors import ConfigError
    from govml.text.alerts import TOTAL_THRESHOLDS, SurgeDetector

    check_parameters_default_constructible("SurgeDetector", SurgeDetector())
    assert SurgeDetector().get_params()["total_thresholds"] == "default"
    rng = np.random.default_rng(11)
    start = pd.Timestamp("2024-01-01")
    rows = [(f"社区{g}", start + pd.Timedelta(days=7 * w + rng.uniform(0, 7)), "路灯不亮")
            for g in range(5) for w in range(26) for _ in range(rng.poisson(3))]
    rows += [("社区2", start + pd.Timedelta(days=7 * 24 + i * 0.4), "楼下飞线充电") for i in range(12)]
    df = pd.DataFrame(rows, columns=["community", "created_at", "text"])
    new = SurgeDetector(label_col=None, terms=False).fit(df).alerts_
    # a detector pickled while the default was the dict itself holds that dict: it reads the same
    old = SurgeDetector(label_col=None, terms=False)
    old.total_thresholds = dict(TOTAL_THRESHOLDS)
    old = pickle.loads(pickle.dumps(old))
    pd.testing.assert_frame_equal(old.fit(df).alerts_, new)
    assert len(new) and (new["level"] != "关注").any()
    # None: the categories' thresholds, as before
    strict = SurgeDetector(label_col=None, terms=False, total_thresholds=None).fit(df).alerts_
    assert (strict["level"] != "关注").sum() <= (new["level"] != "关注").sum()
    with pytest.raises(ConfigError, match="total_thresholds"):
        SurgeDetector(label_col=None, terms=False, total_thresholds="strict").fit(df)


def test_demand_classifier_and_its_cv_read_labelled_rows_in_one_order():
    """The same labelled messages in another row order give the same model and the same CV report (the calibration
    and CV folds are drawn by position; before session 15, 49 of 2,000 predictions differed on a shuffled file)."""
    from govml.text.classify import DemandClassifier, cross_validate_classifier

    lab = pd.read_csv(SAMPLES / "messages.csv").dropna(subset=["category"]).head(240)
    shuffled = lab.sample(frac=1, random_state=1)
    new = pd.read_csv(SAMPLES / "messages.csv")["text"].iloc[2000:2300].tolist()
    a = DemandClassifier().fit(lab["text"], lab["category"])
    b = DemandClassifier().fit(shuffled["text"], shuffled["category"])
    assert list(a.classes_) == list(b.classes_)
    assert np.array_equal(a.predict_proba(new), b.predict_proba(new))
    ra = cross_validate_classifier(lab["text"], lab["category"], cv=3)
    rb = cross_validate_classifier(shuffled["text"], shuffled["category"], cv=3)
    assert ra["fold_macro_f1"] == rb["fold_macro_f1"] and ra["confusion"] == rb["confusion"]
