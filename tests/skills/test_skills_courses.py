"""Course plans: MILP = brute force, greedy <= MILP, budgets and prerequisites respected, bad catalogs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govml.errors import ConfigError, DataError
from govml.skills import cohort_view, parse_courses, plan_courses
from govml.skills.courses import Catalog, WorkerProblem, solve_worker


def _catalog(rng, n_courses, n_ind, prereq_share=0.3):
    strength = np.where(rng.random((n_courses, n_ind)) < 0.35, rng.uniform(0.2, 1.0, (n_courses, n_ind)), 0.0)
    for c in range(n_courses):
        if not strength[c].any():
            strength[c, rng.integers(n_ind)] = rng.uniform(0.2, 1.0)
    pre = [[int(rng.integers(c))] if c > 0 and rng.random() < prereq_share else [] for c in range(n_courses)]
    return Catalog(course_ids=[f"C{c}" for c in range(n_courses)], titles=[""] * n_courses,
                   hours=rng.integers(2, 13, n_courses).astype(float), cost=rng.integers(1, 10, n_courses) * 100.0,
                   capacity=np.zeros(n_courses, dtype=int), strength=strength, prerequisites=pre,
                   indicator_ids=[f"i{k}" for k in range(n_ind)])


def _brute(p, cat, H, C):
    best = 0.0
    n = cat.n_courses
    for r in range(n + 1):
        for subset in itertools.combinations(range(n), r):
            s = set(subset)
            if any(c in p.taken for c in s):
                continue
            if cat.hours[list(s)].sum() > H + 1e-9 or cat.cost[list(s)].sum() > C + 1e-9:
                continue
            if any(q not in s and q not in p.taken for c in s for q in cat.prerequisites[c]):
                continue
            reach = np.zeros(len(p.gap_idx))
            for c in s:
                reach += cat.strength[c, p.gap_idx] * p.gaps
            best = max(best, float(p.values @ np.minimum(p.gaps, reach)))
    return best


def _problem(rng, n_ind, taken=frozenset()):
    k = int(rng.integers(1, n_ind + 1))
    idx = np.sort(rng.choice(n_ind, size=k, replace=False))
    return WorkerProblem("W", idx, rng.uniform(2, 30, k), rng.uniform(0.01, 0.1, k), taken)


def _check_plan(plan, p, cat, H, C):
    s = set(plan.courses)
    assert cat.hours[list(s)].sum() <= H + 1e-9
    assert cat.cost[list(s)].sum() <= C + 1e-9
    assert all(q in s or q in p.taken for c in s for q in cat.prerequisites[c])
    assert not (s & set(p.taken))


def test_milp_equals_brute_force_and_greedy_never_better():
    rng = np.random.default_rng(42)
    used = {"milp": 0, "enumeration": 0}
    for case in range(60):
        cat = _catalog(rng, n_courses=int(rng.integers(3, 10)), n_ind=int(rng.integers(1, 5)))
        taken = frozenset([0]) if case % 7 == 0 else frozenset()
        p = _problem(rng, len(cat.indicator_ids), taken)
        H = float(rng.integers(4, 25))
        C = math.inf if case % 2 else float(rng.integers(2, 20) * 100)
        best = _brute(p, cat, H, C)
        Cb = None if math.isinf(C) else C
        exact = solve_worker(p, cat, H, Cb, method="milp")  # certificate / bounded enumeration
        highs = solve_worker(p, cat, H, Cb, method="milp", engine="highs")  # HiGHS integer program
        greedy = solve_worker(p, cat, H, Cb, method="greedy")
        used["enumeration"] += exact.method == "enumeration"
        used["milp"] += highs.method == "milp"
        assert exact.objective == pytest.approx(best, rel=1e-7, abs=1e-9), f"case {case}"
        assert highs.objective == pytest.approx(best, rel=1e-7, abs=1e-9), f"case {case}"
        assert greedy.objective <= exact.objective + 1e-9
        for plan in (exact, highs, greedy):
            _check_plan(plan, p, cat, H, C)
    # both exact engines were exercised, not only the greedy certificate
    assert used["milp"] >= 20 and used["enumeration"] >= 20


def test_enumeration_falls_back_to_highs_when_too_large(monkeypatch):
    from govml.skills import courses

    rng = np.random.default_rng(3)
    cat = _catalog(rng, n_courses=9, n_ind=3)
    p = WorkerProblem("W", np.arange(3), np.array([30.0, 30.0, 30.0]), np.array([0.1, 0.05, 0.08]))
    best = _brute(p, cat, 20, math.inf)
    monkeypatch.setattr(courses, "MAX_NODES", 1)
    plan = solve_worker(p, cat, 20, None)
    assert plan.method in ("milp", "greedy_certified_optimal")
    assert plan.objective == pytest.approx(best, rel=1e-7)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), H=st.floats(1, 40), C=st.one_of(st.none(), st.floats(0, 3000)),
       method=st.sampled_from(["milp", "greedy"]))
def test_budgets_never_exceeded(seed, H, C, method):
    rng = np.random.default_rng(seed)
    cat = _catalog(rng, n_courses=12, n_ind=5)
    p = _problem(rng, 5)
    plan = solve_worker(p, cat, H, C, method=method)
    _check_plan(plan, p, cat, H, math.inf if C is None else C)
    assert 0 <= plan.objective <= plan.upper_bound + 1e-9


def test_no_budget_takes_every_useful_course_even_behind_a_useless_prerequisite():
    cat = Catalog(course_ids=["BASE", "ADV", "X"], titles=[""] * 3, hours=np.array([8.0, 8.0, 4.0]),
                  cost=np.zeros(3), capacity=np.zeros(3, dtype=int), strength=np.array([[0.0, 0.5], [1.0, 0.0],
                                                                                        [0.0, 0.4]]),
                  prerequisites=[[], [0], []], indicator_ids=["x", "y"])
    p = WorkerProblem("W", np.array([0]), np.array([10.0]), np.array([1.0]))
    plan = solve_worker(p, cat, None, None)
    assert sorted(plan.courses) == [0, 1] and plan.objective == pytest.approx(_brute(p, cat, math.inf, math.inf))
    assert solve_worker(p, cat, None, None, method="greedy").objective == 0.0  # the ratio rule cannot see it


def test_prerequisite_already_taken_frees_budget():
    cat = Catalog(course_ids=["BASE", "ADV"], titles=["", ""], hours=np.array([8.0, 8.0]), cost=np.zeros(2),
                  capacity=np.zeros(2, dtype=int), strength=np.array([[0.1], [1.0]]), prerequisites=[[], [0]],
                  indicator_ids=["x"])
    p = WorkerProblem("W", np.array([0]), np.array([10.0]), np.array([1.0]))
    assert solve_worker(p, cat, 8, None).courses == [0]  # ADV needs BASE: 16 h do not fit
    p_taken = WorkerProblem("W", np.array([0]), np.array([10.0]), np.array([1.0]), frozenset([0]))
    plan = solve_worker(p_taken, cat, 8, None)
    assert plan.courses == [1] and plan.objective == pytest.approx(10.0)


def _courses_df():
    return pd.DataFrame({
        "course_id": ["C1", "C2", "C3", "C4", "C5", "C6", "C7"],
        "title": ["甲基础", "甲进阶", "乙", "空", "未知", "环1", "环2"],
        "hours": [4, 8, 6, 4, 4, 4, 4],
        "cost": [100, 200, 150, 100, 100, 100, 100],
        "indicators": ["a:0.5", "a:0.9;zz:0.5", "b:1", "", "zz:0.4", "c:0.5", "c:0.5"],
        "prerequisites": ["", "C1", "", "", "", "C7", "C6"],
        "capacity": [2, 30, None, 10, 10, 10, 10],
    })


def test_parse_courses_reports_and_keeps_the_rest(tiny):
    cat = parse_courses(_courses_df(), tiny, file="courses.csv")
    assert cat.course_ids == ["C1", "C2", "C3"]
    msgs = [str(p) for p in cat.skipped]
    assert any("row 5, column 'indicators'" in m and "trains nothing" in m for m in msgs)  # C4
    assert any("row 6, column 'indicators'" in m and "trains nothing" in m for m in msgs)  # C5: only unknown
    assert any("row 3, column 'indicators'" in m and "'zz'" in m for m in msgs)  # C2 keeps a, drops zz
    assert sum("cycle" in m for m in msgs) == 2  # C6 <-> C7


def test_plan_frames_reason_cohort_and_budget_messages(tiny):
    cat = parse_courses(_courses_df(), tiny)
    gaps = pd.DataFrame({"worker_id": ["W1", "W2", "W3", "W4"], "period": "2024Q1", "indicator": ["a", "a", "a", "c"],
                         "gap": [18.0, 10.0, -3.0, 5.0], "gap_points": [18.0, 10.0, -3.0, 5.0],
                         "weight": [0.1, 0.1, 0.1, 0.5]})
    plan, summary = plan_courses(gaps, cat, tiny, budget_hours=12)
    assert list(plan.columns) == ["worker_id", "course_id", "hours", "cost", "indicators", "gap_closed", "reason"]
    w1 = plan[plan["worker_id"] == "W1"].set_index("course_id")
    assert set(w1.index) == {"C1", "C2"}  # C2 needs C1; 12 h fit both
    assert w1.loc["C1", "reason"] == "甲指标低于目标 18 分，本课程针对该项"
    assert w1["gap_closed"].sum() == pytest.approx(0.1 * 18)
    st = summary.set_index("worker_id")["status"]
    assert st["W3"] == "no_gaps" and st["W4"] == "no_course_for_gaps"
    cv = cohort_view(plan, cat).set_index("course_id")
    assert cv.loc["C1", "enrolled"] == 2 and cv.loc["C1", "sessions"] == 1
    plan3, _ = plan_courses(pd.concat([gaps, gaps.assign(worker_id=gaps["worker_id"] + "b")]), cat, tiny,
                            budget_hours=12)
    assert cohort_view(plan3, cat).set_index("course_id").loc["C1", "sessions"] == 2  # 4 enrolled, capacity 2
    with pytest.raises(ConfigError, match="no course in the catalog fits the budget.*shortest course: C1, 4 h"):
        plan_courses(gaps, cat, tiny, budget_hours=3)
    _, s2 = plan_courses(gaps, cat, tiny, budget_cost=150)
    assert s2.set_index("worker_id").loc["W1", "status"] == "planned"


def test_plan_needs_one_period_and_catalog_not_empty(tiny):
    with pytest.raises(DataError, match="no usable course"):
        parse_courses(_courses_df().iloc[3:5], tiny)
    cat = parse_courses(_courses_df(), tiny)
    gaps = pd.DataFrame({"worker_id": ["W1", "W1"], "period": ["2024Q1", "2024Q2"], "indicator": ["a", "a"],
                         "gap": [5.0, 5.0], "gap_points": [5.0, 5.0], "weight": [0.1, 0.1]})
    with pytest.raises(DataError, match="one period"):
        plan_courses(gaps, cat, tiny)


def test_parallel_equals_serial():
    from govml.skills.courses import build_problems, solve_all

    rng = np.random.default_rng(7)
    cat = _catalog(rng, 15, 6, prereq_share=0.2)
    rows = [{"worker_id": f"W{w}", "indicator": f"i{k}", "gap_points": rng.uniform(1, 20), "weight": 0.1}
            for w in range(60) for k in range(6) if rng.random() < 0.4]
    probs = build_problems(pd.DataFrame(rows), cat)
    a = solve_all(probs, cat, 16, None, n_jobs=1)
    b = solve_all(probs, cat, 16, None, n_jobs=2, chunk_size=10)
    assert [p.objective for p in a] == pytest.approx([p.objective for p in b])
