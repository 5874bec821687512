"""Gap diagnosis: planted shortfalls found exactly, persistence, trend, percentiles, the map, drivers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.samples.workforce import make_assessments
from govml.skills import (
    GAP_COLUMNS,
    IndicatorNormaliser,
    diagnose_gaps,
    flagged_shortfalls,
    load_indicator_system,
    prepare_assessments,
    score_assessments,
    shortfall_matrix,
    workforce_drivers,
)


@pytest.fixture(scope="module")
def generated():
    system = load_indicator_system(None)
    df, truth = make_assessments(n_workers=150, n_periods=5, seed=11, system=system)
    prep = prepare_assessments(df, system)
    norm = IndicatorNormaliser(system).fit(prep.data)
    return system, prep, norm, diagnose_gaps(prep.data, system, norm), truth


def test_every_planted_shortfall_found_and_nothing_else(generated):
    system, prep, norm, gaps, truth = generated
    assert len(truth) > 30
    flagged = flagged_shortfalls(gaps)
    found = set(zip(flagged["worker_id"], flagged["indicator"], strict=True))
    planted = set(zip(truth["worker_id"], truth["indicator"], strict=True))
    assert found == planted
    # persistence is counted from the planted quarter on
    last = gaps["period"].max()
    periods = sorted(gaps["period"].unique())
    for rec in truth.itertuples():
        row = gaps[(gaps["worker_id"] == rec.worker_id) & (gaps["indicator"] == rec.indicator) & (gaps["period"] == last)]
        assert row["periods_below"].iloc[0] == len(periods) - periods.index(rec.from_period)


def test_sample_files_planted_truth(samples_dir):
    from govml.io import load

    system = load_indicator_system(None)
    prep = prepare_assessments(load(samples_dir / "assessments.csv", "assessments"), system)
    assert prep.data["worker_id"].nunique() >= 300 and prep.data["period"].nunique() >= 4
    assert not prep.skipped and len(prep.missing) > 0
    gaps = diagnose_gaps(prep.data, system)
    truth = pd.read_csv(samples_dir / "truth_gaps.csv")
    f = flagged_shortfalls(gaps)
    assert set(zip(f["worker_id"], f["indicator"], strict=True)) == set(zip(truth["worker_id"], truth["indicator"], strict=True))


def test_gap_sign_direction_and_columns(tiny):
    df = pd.DataFrame({"worker_id": ["W1", "W1", "W1"], "community": "c", "district": "d", "area_type": "rural",
                       "period": ["2024Q1", "2024Q2", "2024Q3"], "a": [60.0, 65.0, 75.0], "b": [30.0, 25.0, 22.0],
                       "c": [90.0, 90.0, 90.0]})
    gaps = diagnose_gaps(prepare_assessments(df, tiny).data, tiny)
    assert list(gaps.columns[: len(GAP_COLUMNS)]) == GAP_COLUMNS
    a = gaps[gaps["indicator"] == "a"].set_index("period")
    assert a["target"].tolist() == [70.0, 70.0, 70.0]  # rural target
    assert a["gap"].tolist() == pytest.approx([10.0, 5.0, -5.0])
    assert a["periods_below"].tolist() == [1, 2, 0]
    b = gaps[gaps["indicator"] == "b"].set_index("period")  # lower is better, target 20 hours
    assert b["gap"].tolist() == pytest.approx([10.0, 5.0, 2.0])
    assert b["periods_below"].tolist() == [1, 2, 3]
    assert b["flagged"].tolist() == [False, True, True]
    # trend: score points of b = 100*(50-x)/50 = 40, 50, 56 -> slope of (0,40),(1,50),(2,56) = 8
    assert b.loc["2024Q3", "trend"] == pytest.approx(8.0)
    assert b.loc["2024Q3", "gap_points"] == pytest.approx(4.0)
    c = gaps[gaps["indicator"] == "c"]
    assert (c["gap"] < 0).all() and not c["flagged"].any()


def test_periods_below_broken_by_a_missing_period(tiny):
    df = pd.DataFrame({"worker_id": "W1", "community": "c", "district": "d", "period": ["2024Q1", "2024Q2", "2024Q3"],
                       "a": [60.0, np.nan, 60.0], "b": [10.0, 10.0, 10.0], "c": [90.0, 90.0, 90.0]})
    gaps = diagnose_gaps(prepare_assessments(df, tiny).data, tiny)
    a = gaps[gaps["indicator"] == "a"]
    assert a["period"].tolist() == ["2024Q1", "2024Q3"] and a["periods_below"].tolist() == [1, 1]


def test_peer_percentile_within_area_type(tiny):
    df = pd.DataFrame({"worker_id": ["U1", "U2", "R1", "R2"], "community": "c", "district": "d",
                       "area_type": ["urban", "urban", "rural", "rural"], "period": "2024Q1",
                       "a": [50.0, 90.0, 10.0, 20.0], "b": 10.0, "c": 80.0})
    gaps = diagnose_gaps(prepare_assessments(df, tiny).data, tiny)
    p = gaps[gaps["indicator"] == "a"].set_index("worker_id")["peer_percentile"]
    assert p.to_dict() == {"R1": 50.0, "R2": 100.0, "U1": 50.0, "U2": 100.0}


def test_shortfall_matrix_chinese_columns(generated):
    system, prep, norm, gaps, truth = generated
    m = shortfall_matrix(gaps, by="community", names=system.names())
    assert "政策法规掌握度" in m.columns and np.nanmin(m.to_numpy()) == 0.0  # NaN: no value in that cell
    assert m.sum(axis=1).is_monotonic_decreasing


def test_drivers_rank_planted_indicator_first():
    system = load_indicator_system(None)
    df, truth = make_assessments(n_workers=200, n_periods=2, seed=5, system=system, planted_share=0.0)
    rng = np.random.default_rng(0)
    low = rng.random(len(df)) < 0.3
    df.loc[low, "satisfaction"] = 20.0  # a large shortfall on one heavily weighted indicator
    prep = prepare_assessments(df, system)
    norm = IndicatorNormaliser(system).fit(prep.data)
    scores = score_assessments(prep.data, system, norm)
    d = workforce_drivers(norm.transform(prep.data), scores["composite"], system, n_estimators=60)
    assert d["indicator"].iloc[0] == "satisfaction"
    assert d["mean_contribution_low"].iloc[0] < 0
