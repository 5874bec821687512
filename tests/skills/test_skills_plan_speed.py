"""The batched planner (``solve_many``, used by ``solve_all``/``plan_courses``) gives the same plans
and objectives as ``solve_worker`` one worker at a time — including padding across workers with
different candidate and gap counts, prerequisites, courses already taken and the HiGHS fallback."""

from __future__ import annotations

import numpy as np
import pytest

from govml.skills import _batch
from govml.skills import courses as cm
from govml.skills.courses import Catalog, WorkerProblem, solve_all, solve_worker


def _catalog(rng, n_courses=60, n_ind=12):
    strength = np.zeros((n_courses, n_ind))
    for c in range(n_courses):
        k = int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15]))
        strength[c, rng.choice(n_ind, size=k, replace=False)] = rng.uniform(0.2, 1.0, k)
    pre = [[int(rng.integers(c))] if c > 3 and rng.random() < 0.25 else [] for c in range(n_courses)]
    # a few exact duplicates make ties (equal objective, equal hours) that must break the same way
    for c in range(5, n_courses, 17):
        strength[c] = strength[c - 1]
    hours = rng.choice([2.0, 4.0, 6.0, 8.0, 12.0], n_courses)
    cost = rng.integers(1, 15, n_courses) * 100.0
    hours[5::17], cost[5::17] = hours[4::17][: len(hours[5::17])], cost[4::17][: len(cost[5::17])]
    return Catalog(course_ids=[f"C{c:02d}" for c in range(n_courses)], titles=[""] * n_courses, hours=hours,
                   cost=cost, capacity=np.zeros(n_courses, dtype=int), strength=strength, prerequisites=pre,
                   indicator_ids=[f"i{k}" for k in range(n_ind)])


def _workers(rng, n, n_ind, n_courses):
    out = []
    for w in range(n):
        k = int(rng.choice([0, 1, 2, 3, 4, 6], p=[0.05, 0.2, 0.3, 0.25, 0.15, 0.05]))
        idx = np.sort(rng.choice(n_ind, size=k, replace=False))
        gaps = rng.uniform(2, 30, k)
        if w % 11 == 0 and k:
            gaps[:] = 10.0  # equal gaps: more ties
        taken = frozenset(rng.choice(n_courses, size=2, replace=False).tolist()) if w % 9 == 0 else frozenset()
        out.append(WorkerProblem(f"W{w:03d}", idx, gaps, rng.uniform(0.01, 0.1, k), taken))
    return out


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.worker_id == y.worker_id
        assert x.courses == y.courses, x.worker_id
        assert x.objective == pytest.approx(y.objective, rel=1e-12, abs=1e-12), x.worker_id
        assert x.upper_bound == pytest.approx(y.upper_bound, rel=1e-12, abs=1e-12)
        assert (x.status, x.method) == (y.status, y.method), x.worker_id
        np.testing.assert_allclose(x.closure, y.closure, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("seed", "H", "C", "method"), [
    (0, 24.0, 3000.0, "milp"), (1, 16.0, None, "milp"), (2, None, 1500.0, "milp"), (3, None, None, "milp"),
    (4, 24.0, 3000.0, "greedy"), (5, 10.0, 800.0, "milp"),
])
def test_batched_plans_equal_per_worker_plans(seed, H, C, method, monkeypatch):
    rng = np.random.default_rng(seed)
    cat = _catalog(rng)
    probs = _workers(rng, 300, len(cat.indicator_ids), cat.n_courses)
    monkeypatch.setattr(_batch, "BATCH", 37)  # several batches of mixed sizes
    ref = [solve_worker(p, cat, H, C, method) for p in probs]
    _same(_batch.solve_many(probs, cat, H, C, method), ref)
    _same(solve_all(probs, cat, H, C, method=method), ref)
    assert sum(p.objective for p in ref) > 0


def test_batched_hands_large_enumerations_to_highs(monkeypatch):
    rng = np.random.default_rng(7)
    cat = _catalog(rng, n_courses=30, n_ind=4)
    probs = _workers(rng, 60, 4, cat.n_courses)
    monkeypatch.setattr(cm, "MAX_NODES", 20)
    ref = [solve_worker(p, cat, 20.0, 2000.0) for p in probs]
    got = _batch.solve_many(probs, cat, 20.0, 2000.0)
    assert any(p.method == "milp" for p in got)
    for x, y in zip(got, ref, strict=True):
        assert x.objective == pytest.approx(y.objective, rel=1e-7, abs=1e-9)
        assert x.method == y.method


def test_prerequisite_chain_through_a_course_over_budget_terminates():
    # C2 needs C1, C1 needs C0, C0 alone breaks the hours budget: neither C1 nor C2 can be planned
    # (this used to loop forever while building the candidate set)
    strength = np.array([[1.0, 0.0], [0.0, 0.5], [0.0, 1.0], [0.0, 0.3]])
    cat = Catalog(course_ids=["C0", "C1", "C2", "C3"], titles=[""] * 4, hours=np.array([30.0, 4.0, 4.0, 4.0]),
                  cost=np.zeros(4), capacity=np.zeros(4, dtype=int), strength=strength,
                  prerequisites=[[], [0], [1], []], indicator_ids=["a", "b"])
    p = WorkerProblem("W", np.array([1]), np.array([10.0]), np.array([1.0]))
    for plan in (solve_worker(p, cat, 10.0, None), _batch.solve_many([p], cat, 10.0, None)[0]):
        assert plan.courses == [3]
        assert plan.objective == pytest.approx(3.0)
