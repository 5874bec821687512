"""A worker-period's community, district and area type when its sources (or a long form's indicator rows) disagree:
the one most of them give, ties to the higher-weighted sources then text order, said with the worker, the period and
every value — the same whatever the order of the file's rows (session 17; it was the first row's)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from govml.skills import prepare_assessments, score_assessments

BASE = {"community": "青山社区", "district": "青山区", "area_type": "urban"}


def _rows(*recs: dict) -> pd.DataFrame:
    return pd.DataFrame([{**BASE, **r} for r in recs])


def _shuffles(df: pd.DataFrame, n: int = 6):  # noqa: ANN202
    rng = np.random.default_rng(17)
    yield df
    yield df.iloc[::-1].reset_index(drop=True)
    for _ in range(n):
        yield df.iloc[rng.permutation(len(df))].reset_index(drop=True)


def _same_whatever_the_order(df: pd.DataFrame, system) -> object:  # noqa: ANN001
    ref = prepare_assessments(df, system, file="a.csv")
    ref_scores = score_assessments(ref.data, system)
    for other in _shuffles(df):
        got = prepare_assessments(other, system, file="a.csv")
        pd.testing.assert_frame_equal(got.data, ref.data, check_exact=True)
        pd.testing.assert_frame_equal(score_assessments(got.data, system), ref_scores, check_exact=True)
        # the same problems (their row numbers are the shuffled file's)
        assert sorted((p.column, p.expected.split(":")[0]) for p in got.skipped) == \
            sorted((p.column, p.expected.split(":")[0]) for p in ref.skipped)
    return ref


def test_sources_disagreeing_on_the_community_most_sources_win(tiny, caplog) -> None:  # noqa: ANN001
    df = _rows({"worker_id": "W1", "period": "2024Q1", "source": "superior", "community": "白沙社区",
                "a": 90.0, "b": 10.0, "c": 70.0},
               {"worker_id": "W1", "period": "2024Q1", "source": "resident_panel", "a": 60.0, "b": 12.0, "c": 75.0},
               {"worker_id": "W2", "period": "2024Q1", "source": "superior", "a": 80.0, "b": 20.0, "c": 60.0},
               {"worker_id": "W1", "period": "2024Q1", "source": "third_party", "a": 70.0, "b": 14.0, "c": 65.0},
               {"worker_id": "W2", "period": "2024Q1", "source": "third_party", "a": 82.0, "b": 21.0, "c": 66.0})
    with caplog.at_level(logging.WARNING, logger="govml.skills.assessments"):
        prep = _same_whatever_the_order(df, tiny)
    w1 = prep.data.set_index("worker_id").loc["W1"]
    assert w1["community"] == "青山社区"  # resident_panel and third_party against superior alone
    assert w1["a"] == pytest.approx(0.4 * 60 + 0.3 * 90 + 0.3 * 70)  # the scores of every source still count
    said = [(p.row, p.expected, p.found) for p in prep.skipped if p.column == "community"]
    assert said == [(2, "one community for worker W1 in 2024Q1: its sources give different ones — 青山社区 kept (the "
                     "one most sources give); correct the file",
                     "青山社区 (sources resident_panel, third_party) / 白沙社区 (source superior)")]
    assert "worker W1 in 2024Q1" in caplog.text and "白沙社区" in caplog.text
    assert prep.data.set_index("worker_id").loc["W2", "community"] == "青山社区"  # agreeing sources: nothing said
    assert len(said) == 1


def test_a_tie_goes_to_the_higher_weighted_source_then_text_order(tiny) -> None:  # noqa: ANN001
    # resident_panel weighs 0.4, superior and third_party 0.3 each
    df = _rows({"worker_id": "W1", "period": "2024Q1", "source": "superior", "district": "白沙区",
                "a": 90.0, "b": 10.0, "c": 70.0},
               {"worker_id": "W1", "period": "2024Q1", "source": "resident_panel", "district": "青山区",
                "a": 60.0, "b": 12.0, "c": 75.0},
               {"worker_id": "W2", "period": "2024Q1", "source": "superior", "district": "青山区",
                "a": 80.0, "b": 20.0, "c": 60.0},
               {"worker_id": "W2", "period": "2024Q1", "source": "third_party", "district": "白沙区",
                "a": 82.0, "b": 21.0, "c": 66.0})
    prep = _same_whatever_the_order(df, tiny)
    d = prep.data.set_index("worker_id")["district"]
    assert d["W1"] == "青山区"  # the resident panel (0.4) against the superior (0.3)
    assert d["W2"] == sorted(["青山区", "白沙区"])[0]  # 0.3 against 0.3: the first in text order
    said = {p.found: p.expected for p in prep.skipped if p.column == "district"}
    assert "a tie: the one its higher-weighted sources give" in said["青山区 (source resident_panel) / 白沙区 (source "
                                                                      "superior)"]
    assert any("a tie: the first in text order" in m and "worker W2" in m for m in said.values())


def test_long_form_rows_disagreeing_on_the_community_and_rating(tiny) -> None:  # noqa: ANN001
    long = pd.DataFrame({"worker_id": ["W1"] * 3 + ["W2"] * 3, "district": "青山区", "area_type": "urban",
                         "community": ["青山社区", "白沙社区", "青山社区", "白沙社区", "白沙社区", "白沙社区"],
                         "period": "2024Q1", "indicator": ["a", "b", "c"] * 2,
                         "score": [90.0, 10.0, 70.0, 80.0, 20.0, 60.0],
                         "resident_rating": [88.0, 88.0, 70.0, 75.0, np.nan, 75.0]})
    prep = _same_whatever_the_order(long, tiny)
    data = prep.data.set_index("worker_id")
    assert data.loc["W1", "community"] == "青山社区" and data.loc["W2", "community"] == "白沙社区"
    assert np.isnan(data.loc["W1", "resident_rating"]) and data.loc["W2", "resident_rating"] == 75.0
    said = [(p.row, p.column, p.expected, p.found) for p in prep.skipped]
    assert (2, "community", "one community for worker W1 in 2024Q1: its rows give different ones — 青山社区 kept (the "
            "one most of its rows give); correct the file", "青山社区 (rows 2, 4) / 白沙社区 (row 3)") in said
    assert any(c == "resident_rating" and f == "70 / 88" for _, c, _, f in said)


def test_long_form_with_sources(tiny) -> None:  # noqa: ANN001
    recs = []
    for src, comm, vals in (("resident_panel", "青山社区", (61.0, 11.0, 71.0)),
                            ("superior", "白沙社区", (93.0, 13.0, 77.0)),
                            ("third_party", "白沙社区", (67.0, 17.0, 79.0))):
        for ind, v in zip("abc", vals, strict=True):
            recs.append({"worker_id": "W1", "period": "2024Q1", "source": src, "indicator": ind, "score": v,
                         "community": comm, "district": "青山区"})
    prep = _same_whatever_the_order(pd.DataFrame(recs), tiny)
    row = prep.data.iloc[0]
    assert row["community"] == "白沙社区"  # two sources against one, though the one weighs more
    assert row["a"] == pytest.approx(0.4 * 61 + 0.3 * 93 + 0.3 * 67)
