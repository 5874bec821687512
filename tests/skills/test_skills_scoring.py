"""Scores, composites, cards, missing values, sources and long form on a hand-made system."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.errors import DataError
from govml.skills import IndicatorNormaliser, prepare_assessments, score_assessments


def _rows(*recs):
    base = {"community": "青山社区", "district": "青山区", "area_type": "urban"}
    return pd.DataFrame([{**base, **r} for r in recs])


def test_composite_hand_computed(tiny):
    df = _rows({"worker_id": "W1", "period": "2024Q1", "a": 90.0, "b": 10.0, "c": 70.0})
    prep = prepare_assessments(df, tiny)
    s = score_assessments(prep.data, tiny).iloc[0]
    # a: 90; b (lower, 0..50): 100*(50-10)/50 = 80; basic = (1*90 + 3*80)/4 = 82.5; pro = 70
    assert s["basic"] == pytest.approx(82.5)
    assert s["pro"] == pytest.approx(70.0)
    assert s["composite"] == pytest.approx(0.5 * 82.5 + 0.5 * 70)
    assert s["card"] == "none"


def test_resident_rating_blend(tiny):
    df = _rows({"worker_id": "W1", "period": "2024Q1", "a": 90.0, "b": 10.0, "c": 70.0, "resident_rating": 50.0})
    s = score_assessments(prepare_assessments(df, tiny).data, tiny).iloc[0]
    assert s["composite"] == pytest.approx(0.6 * 76.25 + 0.4 * 50)


def test_missing_value_is_not_zero(tiny):
    df = _rows({"worker_id": "W1", "period": "2024Q1", "a": np.nan, "b": 10.0, "c": 70.0})
    prep = prepare_assessments(df, tiny)
    assert prep.missing.to_dict("records") == [{"worker_id": "W1", "period": "2024Q1", "indicator": "a"}]
    s = score_assessments(prep.data, tiny).iloc[0]
    assert s["basic"] == pytest.approx(80.0)  # only b counts, not (0*1 + 80*3)/4
    assert s["n_missing"] == 1 and s["missing_indicators"] == "a"


def test_too_much_missing_leaves_composite_empty(tiny):
    df = _rows({"worker_id": "W1", "period": "2024Q1", "a": 50.0, "b": np.nan, "c": np.nan})
    s = score_assessments(prepare_assessments(df, tiny).data, tiny).iloc[0]
    assert np.isnan(s["composite"]) and s["insufficient_data"]
    assert "缺失指标过多" in s["card_reason"]


def test_cards_two_below_threshold_is_red_with_triggering_assessments(tiny):
    good, bad = {"a": 95.0, "b": 5.0, "c": 95.0}, {"a": 50.0, "b": 40.0, "c": 50.0}
    df = _rows({"worker_id": "W1", "period": "2024Q1", **bad}, {"worker_id": "W1", "period": "2024Q2", **good},
               {"worker_id": "W1", "period": "2024Q3", **bad}, {"worker_id": "W1", "period": "2024Q4", **good},
               {"worker_id": "W2", "period": "2024Q1", **good}, {"worker_id": "W2", "period": "2024Q2", **bad})
    s = score_assessments(prepare_assessments(df, tiny).data, tiny).set_index(["worker_id", "period"])
    assert s.loc[("W1", "2024Q1"), "card"] == "yellow"
    assert s.loc[("W1", "2024Q2"), "card"] == "yellow"
    assert s.loc[("W1", "2024Q3"), "card"] == "red"
    reason = s.loc[("W1", "2024Q3"), "card_reason"]
    assert "2024Q1 综合得分" in reason and "2024Q3 综合得分" in reason and "< 75" in reason
    assert s.loc[("W2", "2024Q1"), "card"] == "none" and s.loc[("W2", "2024Q2"), "card"] == "yellow"


def test_card_window_forgets_old_assessments(tiny_dict):
    from govml.skills import indicator_system_from_dict

    tiny_dict["cards"] = {"threshold": 75, "window": 2, "yellow": 1, "red": 2}
    system = indicator_system_from_dict(tiny_dict)
    good, bad = {"a": 95.0, "b": 5.0, "c": 95.0}, {"a": 50.0, "b": 40.0, "c": 50.0}
    df = _rows({"worker_id": "W1", "period": "2024Q1", **bad}, {"worker_id": "W1", "period": "2024Q2", **good},
               {"worker_id": "W1", "period": "2024Q3", **bad})
    s = score_assessments(prepare_assessments(df, system).data, system)
    assert s["card"].tolist() == ["yellow", "yellow", "yellow"]  # Q1 is outside Q3's window of 2


def test_sources_weighted_and_long_form_equals_wide(tiny):
    wide = _rows({"worker_id": "W1", "period": "2024Q1", "source": "resident_panel", "a": 60.0, "b": 10.0, "c": 70.0},
                 {"worker_id": "W1", "period": "2024Q1", "source": "superior", "a": 90.0, "b": 20.0, "c": np.nan})
    prep = prepare_assessments(wide, tiny)
    row = prep.data.iloc[0]
    assert row["a"] == pytest.approx((0.4 * 60 + 0.3 * 90) / 0.7)
    assert row["c"] == pytest.approx(70.0)  # only the resident panel rated c
    long = wide.melt(id_vars=["worker_id", "community", "district", "area_type", "period", "source"],
                     var_name="indicator", value_name="score")
    prep_long = prepare_assessments(long, tiny)
    pd.testing.assert_frame_equal(prep_long.data[["a", "b", "c"]], prep.data[["a", "b", "c"]])


def test_bad_cells_are_reported_and_the_rest_processed(tiny):
    df = _rows({"worker_id": "W1", "period": "2024Q1", "a": 150.0, "b": 10.0, "c": 70.0},
               {"worker_id": "W2", "period": "2024Q1", "a": np.nan, "b": np.nan, "c": np.nan},
               {"worker_id": "W3", "period": "2024Q1", "a": 80.0, "b": 10.0, "c": 70.0, "area_type": "suburb"},
               {"worker_id": "W4", "period": "2024Q1", "a": 80.0, "b": 10.0, "c": 70.0})
    df["zz_unknown"] = 1.0
    prep = prepare_assessments(df, tiny, file="a.csv")
    msgs = [str(p) for p in prep.skipped]
    assert any(m.startswith("a.csv, row 2, column 'a'") and "[0, 100]" in m and "150" in m for m in msgs)
    assert any("row 3" in m and "all 3 indicator values missing" in m for m in msgs)
    assert any("row 4, column 'area_type'" in m and "suburb" in m for m in msgs)
    assert any("column 'zz_unknown'" in m and "indicator id" in m for m in msgs)
    assert sorted(prep.data["worker_id"]) == ["W1", "W4"]
    assert np.isnan(prep.data.set_index("worker_id").loc["W1", "a"])


def test_long_form_unknown_indicator_reported(tiny):
    long = _rows({"worker_id": "W1", "period": "2024Q1", "indicator": "a", "score": 70.0},
                 {"worker_id": "W1", "period": "2024Q1", "indicator": "psych", "score": 70.0})
    prep = prepare_assessments(long, tiny, file="l.csv")
    assert any("row 3, column 'indicator'" in str(p) and "psych" in str(p) for p in prep.skipped)
    assert prep.data["a"].iloc[0] == 70.0


def test_missing_required_column_and_nothing_left(tiny):
    with pytest.raises(DataError, match="period"):
        prepare_assessments(pd.DataFrame({"worker_id": ["W1"], "community": ["x"], "district": ["y"], "a": [1.0]}), tiny)
    df = _rows({"worker_id": "W1", "period": "2024Q1", "a": np.nan, "b": np.nan, "c": np.nan})
    with pytest.raises(DataError, match="no usable assessment rows"):
        prepare_assessments(df, tiny)


def test_normaliser_zscore_and_target(tiny_dict):
    from govml.skills import indicator_system_from_dict

    tiny_dict["indicators"][0]["normalisation"] = "zscore"
    tiny_dict["indicators"][2]["normalisation"] = "target"
    system = indicator_system_from_dict(tiny_dict)
    X = pd.DataFrame({"a": [40.0, 60.0], "b": [10.0, 10.0], "c": [40.0, 100.0], "area_type": ["urban", "urban"]})
    S = IndicatorNormaliser(system).fit(X).transform(X)
    np.testing.assert_allclose(S["a"], [40.0, 60.0])  # mean 50, sd 10 -> z = -1, 1 -> 40, 60
    np.testing.assert_allclose(S["c"], [50.0, 100.0])  # 100*min(x/80, 1)
