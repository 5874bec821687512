"""Duplicated worker-periods are read together, the same whatever the order of the file's rows (session 16).

Before, the first row in file order was kept and the rest skipped: a file sorted another way (or a correction
appended at the bottom) gave other scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.skills import prepare_assessments, score_assessments


def _rows(*recs):
    base = {"community": "青山社区", "district": "青山区", "area_type": "urban"}
    return pd.DataFrame([{**base, **r} for r in recs])


def _both_orders(df, system):
    a = prepare_assessments(df, system, file="a.csv")
    b = prepare_assessments(df.iloc[::-1].reset_index(drop=True), system, file="a.csv")
    return a, b


def test_same_duplicate_is_read_once_and_said(tiny):
    df = _rows({"worker_id": "W1", "period": "2024Q1", "a": 90.0, "b": 10.0, "c": 70.0},
               {"worker_id": "W2", "period": "2024Q1", "a": 80.0, "b": 20.0, "c": 60.0},
               {"worker_id": "W1", "period": "2024Q1", "a": 90.0, "b": 10.0, "c": 70.0})
    prep = prepare_assessments(df, tiny, file="a.csv")
    assert len(prep.data) == 2
    w1 = prep.data.set_index("worker_id").loc["W1"]
    assert (w1["a"], w1["b"], w1["c"]) == (90.0, 10.0, 70.0)
    msgs = [str(p) for p in prep.skipped]
    assert msgs == ["a.csv, row 4, column 'worker_id': expected one row per worker and period (the same worker and "
                    "period as row 2: read together with it)"]


def test_disagreeing_values_are_left_out_whatever_the_order(tiny):
    # a correction appended below the first entry: which one is right the file does not say
    df = _rows({"worker_id": "W1", "period": "2024Q1", "a": 90.0, "b": 10.0, "c": np.nan},
               {"worker_id": "W2", "period": "2024Q1", "a": 80.0, "b": 20.0, "c": 60.0},
               {"worker_id": "W1", "period": "2024Q1", "a": 60.0, "b": 10.0, "c": 75.0})
    a, b = _both_orders(df, tiny)
    pd.testing.assert_frame_equal(a.data, b.data)
    w1 = a.data.set_index("worker_id").loc["W1"]
    assert np.isnan(w1["a"])          # 90 vs 60: left out, never one of them
    assert w1["b"] == 10.0            # the same in both rows
    assert w1["c"] == 75.0            # given by one row only
    msgs = [str(p) for p in a.skipped]
    assert ("a.csv, row 2, column 'a': expected one value per worker and period: rows 2 and 4 give different ones "
            "(value left out; keep one row), found '60 / 90'") in msgs
    assert a.missing.to_dict("records") == [{"worker_id": "W1", "period": "2024Q1", "indicator": "a"}]
    s = score_assessments(a.data, tiny).set_index("worker_id")
    assert s.loc["W1", "n_missing"] == 1


def test_disagreeing_community_skips_the_worker_period(tiny):
    df = _rows({"worker_id": "W1", "period": "2024Q1", "a": 90.0, "b": 10.0, "c": 70.0},
               {"worker_id": "W2", "period": "2024Q1", "a": 80.0, "b": 20.0, "c": 60.0},
               {"worker_id": "W1", "period": "2024Q1", "a": 90.0, "b": 10.0, "c": 70.0, "community": "白沙社区"})
    a, b = _both_orders(df, tiny)
    pd.testing.assert_frame_equal(a.data, b.data)
    assert a.data["worker_id"].tolist() == ["W2"]
    msgs = [str(p) for p in a.skipped]
    assert any("column 'community'" in m and "rows 2 and 4" in m and "skipped" in m and "白沙社区 / 青山社区" in m
               for m in msgs)


def test_long_form_duplicate_scores(tiny):
    long = pd.DataFrame({"worker_id": "W1", "community": "青山社区", "district": "青山区", "area_type": "urban",
                         "period": "2024Q1", "indicator": ["a", "b", "c", "a", "b"],
                         "score": [90.0, 10.0, 70.0, 85.0, 10.0]})
    a, b = _both_orders(long, tiny)
    pd.testing.assert_frame_equal(a.data, b.data)
    row = a.data.iloc[0]
    assert np.isnan(row["a"]) and row["b"] == 10.0 and row["c"] == 70.0
    msgs = [str(p) for p in a.skipped]
    assert any("column 'score'" in m and "worker, period and indicator" in m and "rows 2 and 5" in m
               and "'85 / 90'" in m for m in msgs)


def test_source_duplicates_read_together(tiny):
    wide = _rows({"worker_id": "W1", "period": "2024Q1", "source": "resident_panel", "a": 60.0, "b": 10.0, "c": 70.0},
                 {"worker_id": "W1", "period": "2024Q1", "source": "superior", "a": 90.0, "b": 20.0, "c": np.nan},
                 {"worker_id": "W1", "period": "2024Q1", "source": "resident_panel", "a": 60.0, "b": 30.0,
                  "c": 70.0})
    a, b = _both_orders(wide, tiny)
    pd.testing.assert_frame_equal(a.data, b.data)
    row = a.data.iloc[0]
    assert row["a"] == pytest.approx((0.4 * 60 + 0.3 * 90) / 0.7)
    assert row["b"] == pytest.approx(20.0)  # the resident panel's b (10 vs 30) left out: the superior's alone
    assert any("worker, period and source" in str(p) and "'10 / 30'" in str(p) for p in a.skipped)


def test_an_impossible_quarter_in_chinese_is_a_row_problem_not_the_latest_period(tiny):
    """2024年第五季度 was kept as a label that sorts after 2024Q4 as text: it became the file's latest period (one
    card, nothing flagged for anyone else). Found in the session-16 notebook dry run."""
    from govml.skills.readings import canonical_period

    assert canonical_period("2024年第五季度") == ("2024年第五季度", "quarter", False)
    assert canonical_period("2024年第四季度") == ("2024Q4", "quarter", True)
    df = _rows({"worker_id": "W1", "period": "2024年第四季度", "a": 90.0, "b": 10.0, "c": 70.0},
               {"worker_id": "W2", "period": "2024年第五季度", "a": 80.0, "b": 20.0, "c": 60.0})
    prep = prepare_assessments(df, tiny, file="a.csv")
    assert prep.data["period"].tolist() == ["2024Q4"]
    assert any("row 3, column 'period'" in str(p) and "五" in str(p) for p in prep.skipped)
