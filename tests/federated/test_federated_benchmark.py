"""Cross-community benchmarking from secure sums, against the plain pooled computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.errors import ConfigError
from govml.federated.simulation import simulate

pytestmark = pytest.mark.xdist_group("flower")

INDS = ["service", "response"]


@pytest.fixture(scope="module")
def secure(assessments):
    return simulate(assessments, "benchmark", "district", indicators=INDS, secure=True)


def test_statistics_equal_the_plain_computation_up_to_the_stated_error(secure):
    err = secure["stated_error"]
    assert secure["moments_within_bounds"] is True  # each indicator's mean/std within its own bound
    assert secure["max_abs_diff_moments"] <= err["moments"]
    assert secure["max_abs_diff_percentiles"] <= err["percentiles"]
    assert secure["max_abs_diff_percentile_rank"] <= err["percentile_rank"]
    for ind in INDS:
        assert secure["federated"][ind]["n"] == 36


def test_each_district_writes_its_communities_standings(secure):
    assert secure["standings_written"] == 3
    assert secure["missing"] == {} and secure["excluded"] == {}
    assert secure["secure_threshold"] == 2 and secure["secure_neighbours"] == 0  # 2 of 3, complete graph


def test_plain_and_secure_agree(assessments, secure):
    plain = simulate(assessments, "benchmark", "district", indicators=INDS, secure=False)
    for ind in INDS:
        for k in ("mean", "std", "p50"):
            assert plain["federated"][ind][k] == pytest.approx(secure["federated"][ind][k], abs=1e-5)


def test_complaint_rates_per_community(messages):
    events = messages.assign(created_at=pd.date_range("2026-01-01", periods=len(messages), freq="3h"))
    res = simulate(events, "benchmark", "district", secure=True)
    assert res["indicators"] == ["complaints_per_week"]
    assert res["max_abs_diff_moments"] <= res["stated_error"]["moments"]
    assert res["federated"]["complaints_per_week"]["n"] == events["community"].nunique()


def test_drop_out_after_the_key_exchange(assessments):
    res = simulate(assessments, "benchmark", "district", indicators=INDS, secure=True, faults={"区1": "dropout"})
    # it answered the key exchange and round 1 (moments) and is silent in round 2 (histogram):
    # its masks there are removed with the two survivors' key shares
    assert res["missing"] == {"区1": [2]}
    assert any(e.startswith("round 2: district 区1") and "dropped out" in e for e in res["events"])
    assert set(res["districts"]) == {"区1", "区2", "区3"} and sorted(res["contributors"]) == ["区2", "区3"]
    # the histogram holds the two remaining districts only, unmasked correctly
    assert sum(res["summary"]["service"]["counts"]) == 24


def test_secagg_neighbours_reach_the_run_and_the_sums_stay_exact(assessments):
    communities = sorted(assessments["community"].unique())
    seven = assessments.assign(district=assessments["community"].map(
        {c: f"片{i % 7 + 1}" for i, c in enumerate(communities)}))
    ring = simulate(seven, "benchmark", "district", indicators=INDS, secure=True, secagg_neighbours=2,
                    faults={"片4": "dropout"})
    full = simulate(seven, "benchmark", "district", indicators=INDS, secure=True, faults={"片4": "dropout"})
    assert ring["secure_neighbours"] == 2 and full["secure_neighbours"] == 0
    assert ring["missing"] == full["missing"] == {"片4": [2]}
    assert ring["summary"]["service"]["counts"] == full["summary"]["service"]["counts"]
    stayed = seven.loc[seven["district"] != "片4", "community"].nunique()
    assert sum(ring["summary"]["service"]["counts"]) == stayed == 36 - 5  # communities of the six that stayed
    assert ring["max_abs_diff_moments"] <= ring["stated_error"]["moments"]


def test_differential_privacy_spends_the_stated_epsilon(assessments):
    res = simulate(assessments, "benchmark", "district", indicators=INDS, secure=True, dp_epsilon=2.0,
                   value_range=(0.0, 100.0))
    assert res["dp"]["epsilon"] == pytest.approx(2.0)
    assert res["dp"]["mechanism"] == "laplace"
    assert np.isfinite(res["federated"]["service"]["mean"])
    with pytest.raises(ConfigError, match="value range"):
        simulate(assessments, "benchmark", "district", indicators=INDS, dp_epsilon=1.0)


def test_non_numeric_indicator_is_reported_with_row_and_district(assessments):
    bad = assessments.copy()
    bad["service"] = bad["service"].astype(object)
    bad.loc[bad.index[bad["district"] == "区3"][2], "service"] = "优秀"
    res = simulate(bad, "benchmark", "district", indicators=INDS, secure=True)
    assert set(res["districts"]) == {"区1", "区2"}
    reason = res["excluded"]["区3"]
    assert "row 4" in reason and "service" in reason and "a number" in reason
    assert "优秀" not in reason  # cell values never go on the wire
