"""Course planning at scale: 100,000 workers × 30 indicators against a 200-course catalog.

    .venv/bin/python benchmarks/bench_skills.py                 # the full benchmark (2 processes)
    .venv/bin/python benchmarks/bench_skills.py --workers 5000  # a quick look

Synthetic, seeded data: each worker falls short on each indicator with probability ``--gap-rate``
(gap U(2, 30) points on the 0–100 scale; weights of a 4-dimension system); courses train one to
three indicators (strength U(0.2, 0.9)), 4–16 hours, 200–2,000 yuan, a fifth need a prerequisite.
Budget: ``--budget-hours`` and ``--budget-cost`` per worker. Reports the time and peak memory of
planning with the exact method (default) and the greedy ratio rule, their total objectives (weighted
gap closed), how each worker was solved, and checks every plan against the budgets.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np
import pandas as pd

from govml.skills.courses import Catalog, build_problems, solve_all


def make_catalog(n_courses: int, n_ind: int, rng: np.random.Generator) -> Catalog:
    strength = np.zeros((n_courses, n_ind))
    for c in range(n_courses):
        k = rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15])
        strength[c, rng.choice(n_ind, size=k, replace=False)] = rng.uniform(0.2, 0.9, k)
    pre = [[int(rng.integers(c))] if c > 20 and rng.random() < 0.2 else [] for c in range(n_courses)]
    return Catalog(course_ids=[f"C{c:03d}" for c in range(n_courses)], titles=[""] * n_courses,
                   hours=rng.choice([4.0, 6.0, 8.0, 12.0, 16.0], n_courses),
                   cost=rng.integers(2, 21, n_courses) * 100.0, capacity=np.full(n_courses, 30),
                   strength=strength, prerequisites=pre, indicator_ids=[f"i{k:02d}" for k in range(n_ind)])


def make_gaps(n_workers: int, n_ind: int, gap_rate: float, rng: np.random.Generator) -> pd.DataFrame:
    dim = np.arange(n_ind) % 4
    w = rng.uniform(0.5, 1.5, n_ind)
    w = np.array([w[k] / w[dim == dim[k]].sum() for k in range(n_ind)]) * 0.25
    mask = rng.random((n_workers, n_ind)) < gap_rate
    wi, ii = np.nonzero(mask)
    return pd.DataFrame({"worker_id": [f"W{k:06d}" for k in wi], "indicator": [f"i{k:02d}" for k in ii],
                         "gap_points": rng.uniform(2, 30, len(wi)), "weight": w[ii]})


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (the pool's workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + kids) / 1024.0  # Linux: KiB; children's peak is the largest single child


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=100_000)
    ap.add_argument("--indicators", type=int, default=30)
    ap.add_argument("--courses", type=int, default=200)
    ap.add_argument("--gap-rate", type=float, default=0.1)
    ap.add_argument("--budget-hours", type=float, default=24.0)
    ap.add_argument("--budget-cost", type=float, default=3000.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-greedy", action="store_true")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    cat = make_catalog(args.courses, args.indicators, rng)
    t0 = time.perf_counter()
    gaps = make_gaps(args.workers, args.indicators, args.gap_rate, rng)
    problems = build_problems(gaps, cat)
    t_build = time.perf_counter() - t0
    out: dict = {"workers": args.workers, "indicators": args.indicators, "courses": args.courses,
                 "gaps": int(len(gaps)), "budget_hours": args.budget_hours, "budget_cost": args.budget_cost,
                 "jobs": args.jobs, "build_s": round(t_build, 2)}
    for method in ("milp",) + (() if args.skip_greedy else ("greedy",)):
        t, cpu = time.perf_counter(), cpu_seconds()
        plans = solve_all(problems, cat, args.budget_hours, args.budget_cost, method=method, n_jobs=args.jobs)
        dt, dcpu = time.perf_counter() - t, cpu_seconds() - cpu
        hours = np.array([cat.hours[p.courses].sum() for p in plans])
        cost = np.array([cat.cost[p.courses].sum() for p in plans])
        assert (hours <= args.budget_hours + 1e-9).all() and (cost <= args.budget_cost + 1e-9).all()
        out[method] = {"seconds": round(dt, 1), "cpu_seconds": round(dcpu, 1), "objective": round(float(sum(p.objective for p in plans)), 2),
                       "upper_bound": round(float(sum(p.upper_bound for p in plans)), 2),
                       "how": pd.Series([p.method for p in plans]).value_counts().to_dict(),
                       "status": pd.Series([p.status.split(" ")[0] for p in plans]).value_counts().to_dict(),
                       "courses_planned": int(sum(len(p.courses) for p in plans))}
        print(f"{method}: {dt:.1f} s, objective {out[method]['objective']}", file=sys.stderr, flush=True)
    if "greedy" in out:
        out["greedy_vs_milp"] = round(out["greedy"]["objective"] / out["milp"]["objective"], 4)
    out["peak_rss_mb"] = round(peak_rss_mb(), 0)
    out["load_average_1min_at_end"] = round(__import__("os").getloadavg()[0], 2)
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return out


if __name__ == "__main__":
    main()
