"""Course catalogs and per-worker course plans under an hours and/or cost budget.

**Catalog** (``courses`` table): ``course_id, title, hours (> 0), cost (>= 0), indicators`` where
``indicators`` is ``id:strength;id:strength`` (a bare ``id`` means strength 1). The strength
``s ∈ (0, 1]`` is the share of a worker's gap on that indicator the course can close. Optional
``prerequisites`` (``id;id``), ``capacity`` (class size, > 0) and ``mode``.

**Plan for one worker** (exact, the default ``method="milp"``)::

    maximise    Σ_i v_i z_i                       v_i: indicator weight in the composite
    subject to  z_i ≤ g_i                         g_i: gap on the 0–100 score scale (> 0)
                z_i ≤ Σ_c s_ci g_i x_c            closure is capped at the gap
                Σ_c hours_c x_c ≤ H,  Σ_c cost_c x_c ≤ C
                x_c ≤ x_p  for each prerequisite p of c not already taken
                x_c ∈ {0, 1},  z_i ≥ 0

This integer program is solved exactly. Courses are first prefiltered to those that touch the
worker's gaps and fit the budget on their own (plus their prerequisites). Then, fastest first:

1. the greedy plan, when it closes every gap (it reaches the upper bound ``Σ v_i g_i``); with no
   budget at all, every candidate (the set is prerequisite-closed; the objective never decreases);
2. a bounded, vectorised enumeration (branch and bound by levels, :func:`_enumerate`) — exact,
   about a millisecond for a typical worker;
3. ``scipy.optimize.milp`` (HiGHS, relative gap 1e-9, with a tiny penalty on hours so that among
   equally good plans the shorter one wins) when the enumeration would grow past
   :data:`MAX_NODES` partial plans (``engine="highs"`` forces this route).

Tests check all three against brute force. The objective is the weighted gap closed — composite
points regained before the resident-rating blend. Courses that add nothing are pruned from the
final plan (longest first) unless another chosen course needs them.

``method="greedy"``: repeatedly add the course with the best ratio of marginal weighted gap closed
to budget share used (``hours/H + cost/C``), prerequisites permitting — fast, never better than
the MILP.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from govml.errors import ConfigError, DataError, Problem
from govml.skills.indicators import IndicatorSystem

log = logging.getLogger(__name__)

PLAN_COLUMNS = ["worker_id", "course_id", "hours", "cost", "indicators", "gap_closed", "reason"]
HOURS_PENALTY = 1e-7  # per hour, in objective units: breaks ties towards shorter plans only
_TOL = 1e-9


@dataclass
class Catalog:
    """A validated course catalog, as arrays (row ``c`` = course ``course_ids[c]``)."""

    course_ids: list[str]
    titles: list[str]
    hours: np.ndarray
    cost: np.ndarray
    capacity: np.ndarray  # 0 = no limit
    strength: np.ndarray  # courses × indicators (system.indicator_ids order)
    prerequisites: list[list[int]]
    indicator_ids: list[str]
    skipped: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how cells and columns were read (said, not problems)

    @property
    def n_courses(self) -> int:
        return len(self.course_ids)

    def index(self) -> dict[str, int]:
        return {c: k for k, c in enumerate(self.course_ids)}

    def prerequisite_matrix(self) -> np.ndarray:
        """``P[c, q]``: course ``c`` needs course ``q`` (computed once)."""
        P = self.__dict__.get("_prerequisite_matrix")
        if P is None or P.shape[0] != self.n_courses:
            P = np.zeros((self.n_courses, self.n_courses), dtype=bool)
            for c, qs in enumerate(self.prerequisites):
                P[c, qs] = True
            self.__dict__["_prerequisite_matrix"] = P
        return P


def parse_courses(df: pd.DataFrame, system: IndicatorSystem, *, file: str = "<courses>",
                  header_row: int = 1) -> Catalog:
    """Validate a course table against the indicator system.

    Rows with a bad ``hours``/``cost``/``capacity``, a course that trains no known indicator, an
    unknown or circular prerequisite are skipped and recorded in ``Catalog.skipped``; unknown
    indicator names inside ``indicators`` are dropped from that course and recorded.
    """
    rows_in_file = None
    if df.attrs.get("govml", {}).get("rows") is not None:  # runs of rows: govml.io.source_rows spells them out
        from govml.io import source_rows

        rows_in_file = source_rows(df)
    if rows_in_file is None or len(rows_in_file) != len(df):
        rows_in_file = [i + header_row + 1 for i in range(len(df))]
    from govml.skills import readings

    df = df.reset_index(drop=True)
    df, aliased = readings.alias_columns(df, readings.COURSE_ALIASES)
    notes = list(aliased)
    read_as: dict[str, int] = {}
    need = ["course_id", "title", "hours", "indicators"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError([Problem(file, None, c, "a required column of the course table") for c in missing],
                        message=f"{file}: required column(s) missing: {', '.join(missing)} "
                                f"(found: {', '.join(map(str, df.columns))})")
    ind_pos = {i: k for k, i in enumerate(system.indicator_ids)}
    by_name = {name: i for i, name in system.names().items() if name not in ind_pos}
    problems: list[Problem] = []
    rows: list[dict] = []
    seen: set[str] = set()
    for i, rec in enumerate(df.to_dict("records")):
        r = rows_in_file[i]  # an int (a sheet's SheetRow with --sheet all, shown 1月!12)
        cid = str(rec["course_id"]).strip() if rec.get("course_id") == rec.get("course_id") else ""
        if not cid:
            problems.append(Problem(file, r, "course_id", "a non-empty course id (row skipped)", found=""))
            continue
        if cid in seen:
            problems.append(Problem(file, r, "course_id", "a unique course id (duplicate skipped)", found=cid))
            continue
        hours = readings.read_hours(rec.get("hours"))
        if hours == hours and not isinstance(rec.get("hours"), (int, float, np.number)):
            try:
                float(str(rec.get("hours")))
            except ValueError:
                read_as["hours"] = read_as.get("hours", 0) + 1
        if not (hours == hours and hours > 0):
            problems.append(Problem(file, r, "hours", "a number of hours > 0 (course skipped)", found=str(rec.get("hours"))))
            continue
        cost_raw = rec.get("cost", 0.0)
        cost = 0.0 if cost_raw is None or cost_raw != cost_raw else readings.read_money(cost_raw)
        if cost == cost and isinstance(cost_raw, str):
            try:
                float(cost_raw)
            except ValueError:
                read_as["cost"] = read_as.get("cost", 0) + 1
        if not (cost == cost and cost >= 0):
            problems.append(Problem(file, r, "cost", "a cost >= 0 (course skipped)", found=str(cost_raw)))
            continue
        cap_raw = rec.get("capacity")
        cap = 0
        if readings.is_unlimited(cap_raw):
            read_as["capacity"] = read_as.get("capacity", 0) + 1
        elif cap_raw is not None and cap_raw == cap_raw and str(cap_raw).strip() != "":
            capv = pd.to_numeric(pd.Series([cap_raw]), errors="coerce").iloc[0]
            if not (capv == capv and capv > 0 and float(capv).is_integer()):
                problems.append(Problem(file, r, "capacity", "a whole number > 0 (course skipped)", found=str(cap_raw)))
                continue
            cap = int(capv)
        strengths = np.zeros(len(ind_pos))
        spec = rec.get("indicators")
        spec = "" if spec is None or spec != spec else str(spec)
        for part in [p.strip() for p in spec.replace("；", ";").split(";") if p.strip()]:
            name, _, val = part.partition(":")
            name = name.strip()
            if name in by_name:
                name = by_name[name]
                read_as["indicators"] = read_as.get("indicators", 0) + 1
            if name not in ind_pos:
                problems.append(Problem(file, r, "indicators", "indicator ids from the configuration "
                                        "(this one is ignored for the course)", found=name))
                continue
            try:
                s = float(val) if val.strip() else 1.0
            except ValueError:
                s = float("nan")
            if not (0 < s <= 1):
                problems.append(Problem(file, r, "indicators", f"a strength in (0, 1] for {name} "
                                        "(ignored for the course)", found=val.strip()))
                continue
            strengths[ind_pos[name]] = max(strengths[ind_pos[name]], s)
        if not strengths.any():
            problems.append(Problem(file, r, "indicators", "at least one known indicator the course trains "
                                    "(course skipped: it trains nothing)", found=spec))
            continue
        pre = rec.get("prerequisites")
        pre = "" if pre is None or pre != pre else str(pre)
        pre_ids = [p.strip() for p in pre.replace("；", ";").split(";") if p.strip()]
        title = rec.get("title")
        rows.append({"course_id": cid, "title": "" if title != title else str(title), "hours": float(hours),
                     "cost": float(cost), "capacity": cap, "strength": strengths, "pre": pre_ids, "_row": r})
        seen.add(cid)
    # prerequisites: unknown ids and cycles remove the course (and, transitively, what needs it)
    in_file = {str(v).strip() for v in df["course_id"] if v == v}
    changed = True
    while changed:
        changed = False
        ids = {row["course_id"] for row in rows}
        keep = []
        for row in rows:
            bad = [p for p in row["pre"] if p not in ids or p == row["course_id"]]
            if bad:
                dropped = [p for p in bad if p in in_file and p != row["course_id"]]
                why = (f": {', '.join(dropped)} {'was' if len(dropped) == 1 else 'were'} itself left out"
                       if dropped else "")
                problems.append(Problem(file, row["_row"], "prerequisites", "ids of courses in the catalog "
                                        f"(course skipped{why})", found=";".join(bad)))
                changed = True
            else:
                keep.append(row)
        rows = keep
    rows = _drop_cycles(rows, file, problems)
    if not rows:
        raise DataError(problems[:20], message=f"{file}: no usable course left", truncated=len(problems) > 20)
    pos = {row["course_id"]: k for k, row in enumerate(rows)}
    return Catalog(
        course_ids=[row["course_id"] for row in rows],
        titles=[row["title"] for row in rows],
        hours=np.array([row["hours"] for row in rows]),
        cost=np.array([row["cost"] for row in rows]),
        capacity=np.array([row["capacity"] for row in rows], dtype=int),
        strength=np.vstack([row["strength"] for row in rows]),
        prerequisites=[[pos[p] for p in row["pre"]] for row in rows],
        indicator_ids=list(system.indicator_ids),
        skipped=problems,
        notes=notes + ([_READ_AS_NOTE + ", ".join(f"{k} {v}" for k, v in read_as.items())] if read_as else []),
    )


_READ_AS_NOTE = ("cells read by their certain meaning (￥1,200 and 1,200元 = 1200 yuan, 免费 = 0, 6学时 = 6 hours, 不限 = no "
                 "capacity limit, an indicator's Chinese name = its id): ")


def _drop_cycles(rows: list[dict], file: str, problems: list[Problem]) -> list[dict]:
    by_id = {row["course_id"]: row for row in rows}
    state: dict[str, int] = {}
    cyclic: set[str] = set()

    def visit(cid: str, stack: list[str]) -> None:
        if state.get(cid) == 2:
            return
        if state.get(cid) == 1:
            cyclic.update(stack[stack.index(cid):])
            return
        state[cid] = 1
        for p in by_id[cid]["pre"]:
            visit(p, stack + [p])
        state[cid] = 2

    for cid in by_id:
        visit(cid, [cid])
    if not cyclic:
        return rows
    # anything depending (transitively) on a cyclic course goes too
    bad = set(cyclic)
    changed = True
    while changed:
        changed = False
        for row in rows:
            if row["course_id"] not in bad and any(p in bad for p in row["pre"]):
                bad.add(row["course_id"])
                changed = True
    for row in rows:
        if row["course_id"] in bad:
            problems.append(Problem(file, row["_row"], "prerequisites", "prerequisites without a cycle (course skipped)",
                                    found=";".join(row["pre"])))
    return [row for row in rows if row["course_id"] not in bad]


# ---------------------------------------------------------------------------------------------
# per-worker problem


@dataclass
class WorkerProblem:
    worker_id: str
    gap_idx: np.ndarray  # indicator positions with a gap
    gaps: np.ndarray  # gap points (> 0)
    values: np.ndarray  # weights v_i
    taken: frozenset[int] = frozenset()


@dataclass
class WorkerPlan:
    worker_id: str
    courses: list[int]
    closure: np.ndarray  # z_i per gap indicator (gap points)
    objective: float
    upper_bound: float
    status: str
    method: str


def _candidates(p: WorkerProblem, cat: Catalog, H: float, C: float) -> np.ndarray:
    """Courses that touch the worker's gaps and fit the budget alone, plus their prerequisites;
    a course whose prerequisite cannot fit (or was dropped) is dropped."""
    P = cat.prerequisite_matrix()
    fits = (cat.hours <= H + _TOL) & (cat.cost <= C + _TOL)
    taken = np.zeros(cat.n_courses, dtype=bool)
    taken[list(p.taken)] = True
    cand = (cat.strength[:, p.gap_idx] > 0).any(axis=1) & fits & ~taken
    if not P.any():
        return np.flatnonzero(cand)
    bad = np.zeros(cat.n_courses, dtype=bool)  # cannot be planned: does not fit, or needs such a course
    while True:
        need = P[cand].any(axis=0) & ~cand & ~taken
        if not need.any():
            break
        bad |= need & ~fits
        drop = cand & P[:, bad].any(axis=1)
        if drop.any():  # (once dropped, never added back: a chain c → a → b with b too big ends here)
            bad |= drop
            cand &= ~drop
            continue
        cand |= need
    while True:
        bad = cand & P[:, ~(cand | taken)].any(axis=1)
        if not bad.any():
            break
        cand &= ~bad
    return np.flatnonzero(cand)


def _objective(A: np.ndarray, g: np.ndarray, v: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    z = np.minimum(g, x @ A)
    return float(v @ z), z


def _greedy(cand: np.ndarray, A: np.ndarray, g: np.ndarray, v: np.ndarray, cat: Catalog, H: float, C: float,
            taken: frozenset[int]) -> np.ndarray:
    n = len(cand)
    x = np.zeros(n)
    hours, cost = cat.hours[cand], cat.cost[cand]
    denom = (hours / H if math.isfinite(H) else 0.0) + (cost / C if math.isfinite(C) and C > 0 else 0.0)
    if not (math.isfinite(H) or (math.isfinite(C) and C > 0)):
        denom = hours
    denom = np.maximum(denom, 1e-12)
    R = cat.prerequisite_matrix()[np.ix_(cand, cand)].astype(float)  # R[k, q] = 1: k needs q (taken: not in cand)
    has_pre = R.any()
    used_h = used_c = 0.0
    closed = np.zeros(len(g))
    while True:
        gain = (np.minimum(g, closed + A) - closed) @ v  # marginal gain of adding each course
        ok = (x == 0) & (used_h + hours <= H + _TOL) & (used_c + cost <= C + _TOL) & (gain > _TOL)
        if has_pre:
            ok &= (R @ (1.0 - x)) == 0
        if not ok.any():
            return x
        ratio = np.where(ok, gain / denom, -np.inf)
        k = int(np.argmax(ratio))
        x[k] = 1.0
        used_h += hours[k]
        used_c += cost[k]
        closed = np.minimum(g, closed + A[k])


MAX_NODES = 400_000  # partial plans kept per level before the exact search hands over to HiGHS


def _enumerate(cand: np.ndarray, A: np.ndarray, g: np.ndarray, v: np.ndarray, cat: Catalog, H: float, C: float,
               taken: frozenset[int], x0: np.ndarray) -> np.ndarray | None:
    """Exact best subset by bounded, vectorised enumeration (branch and bound by levels).

    Subsets are grown in a fixed course order (best standalone value per hour first), one level
    (number of courses) at a time, all partial plans of a level as arrays. A child is dropped when
    it breaks a budget, or when the course adds nothing (and is nobody's prerequisite: with a
    capped, submodular objective it can add nothing later either); a partial plan is not grown
    when even its optimistic bound — current value plus the remaining budget times the best value
    per hour (and per yuan) of the courses still allowed, capped by the gap left — cannot reach
    the best plan so far (initially ``x0``, the greedy plan). Returns ``None`` (caller falls back
    to HiGHS) when a level would exceed :data:`MAX_NODES`.
    """
    n = len(cand)
    W = (n + 62) // 63  # words of 63 bits per subset mask
    hours, cost = cat.hours[cand], cat.cost[cand]
    standalone = np.minimum(A, g) @ v
    rh = standalone / hours
    rc = standalone / np.maximum(cost, 1e-9) if math.isfinite(C) else np.full(n, np.inf)
    order = np.lexsort((hours, -rh))
    inv = np.empty(n, dtype=int)
    inv[order] = np.arange(n)
    A, hours, cost, rh, rc = A[order], hours[order], cost[order], rh[order], rc[order]
    # suffix maxima: best ratio among courses after position j
    sm_h = np.r_[np.maximum.accumulate(rh[::-1])[::-1][1:], 0.0]
    sm_c = np.r_[np.maximum.accumulate(rc[::-1])[::-1][1:], 0.0]
    word, bit = np.arange(n) // 63, np.left_shift(np.int64(1), (np.arange(n) % 63).astype(np.int64))
    Pc = cat.prerequisite_matrix()[np.ix_(cand, cand)][np.ix_(order, order)]  # taken ones are not in cand
    req = np.zeros((n, W), dtype=np.int64)  # prerequisite bits per position
    for w in range(W):
        sl = slice(63 * w, 63 * (w + 1))
        req[:, w] = (Pc[:, sl].astype(np.int64) * bit[sl]).sum(axis=1)
    is_pre = Pc.any(axis=0)
    dependents = np.flatnonzero(req.any(axis=1))
    total = float(v @ g)

    dep_word, dep_bit, dep_req = word[dependents], bit[dependents], req[dependents]

    def feasible(mask: np.ndarray) -> np.ndarray:
        has = (mask[:, dep_word] & dep_bit) != 0  # (subsets, dependents)
        sat = ((mask[:, None, :] & dep_req[None]) == dep_req[None]).all(axis=2)
        return (~has | sat).all(axis=1)

    x0o = x0[order]
    best_obj = float(np.minimum(g, x0o @ A) @ v)
    best_mask = np.zeros(W, dtype=np.int64)
    for j in np.flatnonzero(x0o > 0):
        best_mask[word[j]] |= bit[j]
    best_h = float(hours @ x0o)
    tol = 1e-9 * max(1.0, total)
    # level 1
    last = np.arange(n)
    clos = np.minimum(A, g)
    hu, co = hours.copy(), cost.copy()
    mask = np.zeros((n, W), dtype=np.int64)
    mask[np.arange(n), word] = bit
    keep = (hu <= H + _TOL) & (co <= C + _TOL)
    last, clos, hu, co, mask = last[keep], clos[keep], hu[keep], co[keep], mask[keep]
    while len(last):
        obj = clos @ v
        ok = feasible(mask) if len(dependents) else np.ones(len(obj), dtype=bool)
        if ok.any():
            cand_obj = np.where(ok, obj, -np.inf)
            j = int(np.argmax(cand_obj - 1e-12 * hu))
            if cand_obj[j] > best_obj + tol or (abs(cand_obj[j] - best_obj) <= tol and hu[j] < best_h - _TOL):
                best_obj, best_mask, best_h = float(cand_obj[j]), mask[j].copy(), float(hu[j])
        # bound: can a parent still beat the best?
        rem = total - obj
        bh = (H - hu) * sm_h[last] if math.isfinite(H) else np.full(len(obj), np.inf)
        bc = (C - co) * sm_c[last] if math.isfinite(C) else np.full(len(obj), np.inf)
        bound = obj + np.minimum(rem, np.minimum(bh, bc))
        grow = (bound >= best_obj - tol) & (last < n - 1)
        if not grow.any():
            break
        last, clos, hu, co, mask = last[grow], clos[grow], hu[grow], co[grow], mask[grow]
        counts = n - 1 - last
        m = int(counts.sum())
        if m > MAX_NODES:
            return None
        parent = np.repeat(np.arange(len(last)), counts)
        offs = np.r_[0, np.cumsum(counts)[:-1]]
        child = last[parent] + 1 + (np.arange(m) - offs[parent])
        nh, nc = hu[parent] + hours[child], co[parent] + cost[child]
        fit = (nh <= H + _TOL) & (nc <= C + _TOL)
        parent, child, nh, nc = parent[fit], child[fit], nh[fit], nc[fit]
        ncl = np.minimum(g, clos[parent] + A[child])
        gain = (ncl - clos[parent]) @ v
        useful = (gain > 1e-12) | is_pre[child]
        if not useful.all():
            parent, child, nh, nc, ncl = parent[useful], child[useful], nh[useful], nc[useful], ncl[useful]
        mask = mask[parent]
        mask[np.arange(len(child)), word[child]] |= bit[child]
        last, clos, hu, co = child, ncl, nh, nc
    x_sorted = ((best_mask[word] & bit) != 0).astype(float)
    return x_sorted[inv]


def _prune(x: np.ndarray, A: np.ndarray, g: np.ndarray, v: np.ndarray, hours: np.ndarray,
           needs: np.ndarray) -> np.ndarray:
    """Drop chosen courses (longest first) that add nothing and no other chosen course needs
    (``needs[j, k]``: course ``j`` needs course ``k``)."""
    best, _ = _objective(A, g, v, x)
    chosen = np.flatnonzero(x > 0)
    for k in chosen[np.argsort(-hours[chosen], kind="stable")]:
        if (needs[:, k] & (x > 0)).any():
            continue
        x2 = x.copy()
        x2[k] = 0
        if _objective(A, g, v, x2)[0] >= best - 1e-12:
            x = x2
    return x


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """HiGHS may print debugging lines on the C-level stdout; keep them out of the user's output."""
    try:
        fd = os.dup(1)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            try:
                yield
            finally:
                os.dup2(fd, 1)
    finally:
        os.close(fd)


def _milp(cand: np.ndarray, A: np.ndarray, g: np.ndarray, v: np.ndarray, cat: Catalog, H: float, C: float,
          taken: frozenset[int], time_limit: float | None) -> tuple[np.ndarray, str]:
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    n, m = len(cand), len(g)
    hours, cost = cat.hours[cand], cat.cost[cand]
    c = np.r_[HOURS_PENALTY * hours, -v]
    rows, cols, vals, ub = [], [], [], []
    # z_i - Σ_c A_ci x_c <= 0
    ci, ii = np.nonzero(A)
    rows += ii.tolist()
    cols += ci.tolist()
    vals += (-A[ci, ii]).tolist()
    rows += list(range(m))
    cols += list(range(n, n + m))
    vals += [1.0] * m
    ub += [0.0] * m
    r = m
    for per_course, budget in ((hours, H), (cost, C)):  # the hours budget, then the cost budget (when set)
        if math.isfinite(budget):
            rows += [r] * n
            cols += list(range(n))
            vals += per_course.tolist()
            ub.append(budget)
            r += 1
    local = {int(cc): k for k, cc in enumerate(cand)}
    for k, cc in enumerate(cand):
        for q in cat.prerequisites[cc]:
            if q in taken:
                continue
            rows += [r, r]
            cols += [k, local[q]]
            vals += [1.0, -1.0]
            ub.append(0.0)
            r += 1
    Amat = coo_array((vals, (rows, cols)), shape=(r, n + m)).tocsr()
    opts = {"mip_rel_gap": 1e-9, "presolve": True}
    if time_limit:
        opts["time_limit"] = time_limit
    with _quiet_stdout():
        res = milp(c, constraints=LinearConstraint(Amat, -np.inf, np.array(ub)),
                   integrality=np.r_[np.ones(n), np.zeros(m)], bounds=Bounds(np.zeros(n + m), np.r_[np.ones(n), g]),
                   options=opts)
    if res.x is None:
        return np.zeros(n), f"solver: {res.message}"
    return (res.x[:n] > 0.5).astype(float), "optimal" if res.status == 0 else f"solver: {res.message}"


def solve_worker(p: WorkerProblem, cat: Catalog, budget_hours: float | None, budget_cost: float | None,
                 method: str = "milp", time_limit: float | None = None, engine: str = "auto") -> WorkerPlan:
    """Best course set for one worker (see the module docstring for the model).

    ``method="milp"`` is exact. ``engine`` picks how: ``"auto"`` — greedy certificate, else the
    bounded enumeration (:func:`_enumerate`), else HiGHS; ``"highs"`` — always HiGHS (unless the
    greedy plan is certified optimal). ``WorkerPlan.method`` says which one answered.
    """
    H = math.inf if budget_hours is None else float(budget_hours)
    C = math.inf if budget_cost is None else float(budget_cost)
    ub = float(p.values @ p.gaps)
    if len(p.gap_idx) == 0:
        return WorkerPlan(p.worker_id, [], np.zeros(0), 0.0, 0.0, "no_gaps", method)
    cand = _candidates(p, cat, H, C)
    if len(cand) == 0:
        touches = (cat.strength[:, p.gap_idx] > 0).any(axis=1)
        status = "no_course_fits_budget" if touches.any() else "no_course_for_gaps"
        return WorkerPlan(p.worker_id, [], np.zeros(len(p.gaps)), 0.0, ub, status, method)
    A = cat.strength[np.ix_(cand, p.gap_idx)] * p.gaps  # closure each course can bring, gap points
    Pc = cat.prerequisite_matrix()[np.ix_(cand, cand)]
    x = _greedy(cand, A, p.gaps, p.values, cat, H, C, p.taken)
    obj, _ = _objective(A, p.gaps, p.values, x)
    used = "greedy"
    status = "planned"
    if method == "milp":
        if obj >= ub - 1e-9 * max(1.0, ub):
            used = "greedy_certified_optimal"
        elif not (math.isfinite(H) or math.isfinite(C)):
            # no budget: the objective never decreases, so every candidate (a prerequisite-closed
            # set) is optimal; pruning below removes what adds nothing
            x, used = np.ones(len(cand)), "no_budget_all_courses"
        else:
            xe = _enumerate(cand, A, p.gaps, p.values, cat, H, C, p.taken, x) if engine == "auto" else None
            if xe is not None:
                x, used = xe, "enumeration"
            else:
                xm, st = _milp(cand, A, p.gaps, p.values, cat, H, C, p.taken, time_limit)
                objm, _ = _objective(A, p.gaps, p.values, xm)
                if st == "optimal" or objm >= obj:
                    x, used = xm, "milp"
                status = "planned" if st == "optimal" else f"planned ({st}; best found kept)"
    elif method != "greedy":
        raise ConfigError(f"unknown planning method {method!r}: use 'milp' or 'greedy'")
    x = _prune(x, A, p.gaps, p.values, cat.hours[cand], Pc)
    obj, z = _objective(A, p.gaps, p.values, x)
    chosen = [int(cand[k]) for k in np.flatnonzero(x)]
    if not chosen:
        status = "nothing_gained"
    return WorkerPlan(p.worker_id, chosen, z, obj, ub, status, used)


# ---------------------------------------------------------------------------------------------
# many workers

_CAT: Catalog | None = None


def _init_pool(cat: Catalog) -> None:
    global _CAT
    _CAT = cat


def _solve_chunk(args: tuple) -> list[WorkerPlan]:
    from govml.skills._batch import solve_many

    problems, H, C, method, time_limit = args
    assert _CAT is not None
    return solve_many(problems, _CAT, H, C, method, time_limit)


def build_problems(gaps: pd.DataFrame, cat: Catalog, taken: pd.DataFrame | None = None) -> list[WorkerProblem]:
    """One problem per worker from a gap table (``worker_id, indicator, gap_points, weight``).

    Only positive gaps count. ``taken`` (``worker_id, course_id``) lists courses already completed:
    they are not planned again and count as satisfied prerequisites.
    """
    pos = {i: k for k, i in enumerate(cat.indicator_ids)}
    g = gaps.loc[gaps["gap_points"] > _TOL, ["worker_id", "indicator", "gap_points", "weight"]]
    g = g.loc[g["indicator"].isin(pos)]
    done: dict[str, frozenset[int]] = {}
    if taken is not None and len(taken):
        idx = cat.index()
        t = taken.loc[taken["course_id"].astype(str).isin(idx)]
        for w, grp in t.groupby("worker_id"):
            done[str(w)] = frozenset(idx[str(c)] for c in grp["course_id"])
    workers = pd.unique(gaps["worker_id"].astype(str))
    wid = g["worker_id"].astype(str).to_numpy(dtype=object)
    ind = g["indicator"].map(pos).to_numpy(dtype=int)
    gp = g["gap_points"].to_numpy(dtype=float)
    wt = g["weight"].to_numpy(dtype=float)
    order = np.argsort(wid, kind="stable")
    wid, ind, gp, wt = wid[order], ind[order], gp[order], wt[order]
    uniq, start = np.unique(wid, return_index=True)
    ends = np.r_[start[1:], len(wid)] if len(wid) else np.zeros(0, dtype=int)
    bounds = dict(zip(uniq.tolist(), zip(start.tolist(), ends.tolist(), strict=True), strict=True))
    out = []
    for w in workers:
        if w in bounds:
            a, b = bounds[w]
            out.append(WorkerProblem(w, ind[a:b], gp[a:b], wt[a:b], done.get(w, frozenset())))
        else:
            out.append(WorkerProblem(w, np.zeros(0, dtype=int), np.zeros(0), np.zeros(0), done.get(w, frozenset())))
    return out


def check_budget(cat: Catalog, budget_hours: float | None, budget_cost: float | None) -> None:
    """Refuse a budget no course fits (a clear message beats an empty plan)."""
    if budget_hours is not None and not budget_hours > 0:
        raise ConfigError(f"--budget-hours must be > 0, got {budget_hours}")
    if budget_cost is not None and not budget_cost >= 0:
        raise ConfigError(f"--budget-cost must be >= 0, got {budget_cost}")
    H = math.inf if budget_hours is None else budget_hours
    C = math.inf if budget_cost is None else budget_cost
    fits = (cat.hours <= H + _TOL) & (cat.cost <= C + _TOL)
    if not fits.any():
        k_h, k_c = int(np.argmin(cat.hours)), int(np.argmin(cat.cost))
        parts = []
        if budget_hours is not None:
            parts.append(f"hours budget {budget_hours:g} (shortest course: {cat.course_ids[k_h]}, {cat.hours[k_h]:g} h)")
        if budget_cost is not None:
            parts.append(f"cost budget {budget_cost:g} (cheapest course: {cat.course_ids[k_c]}, {cat.cost[k_c]:g})")
        raise ConfigError("no course in the catalog fits the budget: " + "; ".join(parts))


def solve_all(problems: list[WorkerProblem], cat: Catalog, budget_hours: float | None = None,
              budget_cost: float | None = None, method: str = "milp", n_jobs: int = 1,
              chunk_size: int = 2000, time_limit: float | None = None) -> list[WorkerPlan]:
    """Solve every worker's problem (``n_jobs`` processes; order preserved).

    Workers are solved in padded batches (:func:`govml.skills._batch.solve_many`: the same
    greedy certificate and bounded enumeration as :func:`solve_worker`, vectorised across
    workers, with the same plans); each process gets at least ``chunk_size`` workers at a time.
    """
    from govml.skills._batch import solve_many

    if method not in ("milp", "greedy"):
        raise ConfigError(f"unknown planning method {method!r}: use 'milp' or 'greedy'")
    check_budget(cat, budget_hours, budget_cost)
    if n_jobs <= 1 or len(problems) < 2 * chunk_size:
        return solve_many(problems, cat, budget_hours, budget_cost, method, time_limit)
    import multiprocessing as mp

    chunk_size = max(chunk_size, -(-len(problems) // (4 * n_jobs)))
    chunks = [(problems[k:k + chunk_size], budget_hours, budget_cost, method, time_limit)
              for k in range(0, len(problems), chunk_size)]
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ctx.Pool(n_jobs, initializer=_init_pool, initargs=(cat,)) as pool:
        parts = pool.map(_solve_chunk, chunks, chunksize=1)
    return [p for part in parts for p in part]


def plans_to_frames(plans: list[WorkerPlan], problems: list[WorkerProblem], cat: Catalog,
                    gaps: pd.DataFrame | None = None, system: IndicatorSystem | None = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(plan table with :data:`PLAN_COLUMNS`, per-worker summary).

    ``gap_closed`` of a course is its share of the weighted gap closed (closure of an indicator is
    split between the chosen courses that train it in proportion to what each could close alone).
    ``reason`` explains in Chinese, from ``gaps`` (raw gap and unit) and ``system`` (names).
    """
    names = system.names() if system is not None else {}
    direction = {i.id: i.direction for i in system.indicators} if system is not None else {}
    units = {i.id: i.unit for i in system.indicators} if system is not None else {}
    raw_gap: dict[tuple[str, str], float] = {}
    if gaps is not None:
        g = gaps.loc[gaps["gap_points"] > _TOL]
        raw_gap = dict(zip(zip(g["worker_id"].astype(str), g["indicator"], strict=True), g["gap"].astype(float),
                           strict=True))
    rows = []
    summary = []
    for plan, prob in zip(plans, problems, strict=True):
        hours_used = float(cat.hours[plan.courses].sum()) if plan.courses else 0.0
        cost_used = float(cat.cost[plan.courses].sum()) if plan.courses else 0.0
        summary.append({"worker_id": plan.worker_id, "status": plan.status, "method": plan.method,
                        "n_gaps": int(len(prob.gap_idx)), "n_courses": len(plan.courses),
                        "objective": plan.objective, "upper_bound": plan.upper_bound,
                        "hours": hours_used, "cost": cost_used})
        if not plan.courses:
            continue
        A = cat.strength[np.ix_(plan.courses, prob.gap_idx)] * prob.gaps
        tot = A.sum(axis=0)
        share = np.divide(A, tot, out=np.zeros_like(A), where=tot > 0)
        closed = share * plan.closure  # gap points closed by each course per indicator
        for k, c in enumerate(plan.courses):
            inds = [cat.indicator_ids[prob.gap_idx[j]] for j in np.flatnonzero(A[k] > 0)]
            gap_closed = float(closed[k] @ prob.values)
            parts = []
            for j in np.flatnonzero(A[k] > 0):
                iid = cat.indicator_ids[prob.gap_idx[j]]
                gval = raw_gap.get((plan.worker_id, iid))
                word = "高于" if direction.get(iid) == "lower" else "低于"
                nm = names.get(iid, iid)
                if gval is not None:
                    parts.append(f"{nm}{word}目标 {_fmt_gap(abs(gval), units.get(iid, ''))}")
                else:
                    parts.append(f"{nm}未达目标")
            if parts:
                reason = "，".join(parts) + "，本课程针对该项" if len(parts) == 1 else \
                    "；".join(parts) + "，本课程针对这些项"
            else:
                needers = [cat.course_ids[j] for j in plan.courses if c in cat.prerequisites[j]]
                reason = f"为课程 {'、'.join(needers)} 的先修课"
            rows.append({"worker_id": plan.worker_id, "course_id": cat.course_ids[c], "hours": float(cat.hours[c]),
                         "cost": float(cat.cost[c]), "indicators": ";".join(inds), "gap_closed": round(gap_closed, 4),
                         "reason": reason})
    plan_df = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    return plan_df, pd.DataFrame(summary)


def _fmt_gap(value: float, unit: str) -> str:
    num = f"{value:.0f}" if value >= 10 else f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{num}%" if unit == "%" else f"{num} {unit}".rstrip()


def cohort_view(plan: pd.DataFrame, cat: Catalog) -> pd.DataFrame:
    """Which courses to run and how often: enrolled workers, sessions = ceil(enrolled / capacity)."""
    if plan.empty:
        return pd.DataFrame(columns=["course_id", "title", "enrolled", "capacity", "sessions", "teaching_hours",
                                     "total_cost", "gap_closed"])
    idx = cat.index()
    agg = plan.groupby("course_id").agg(enrolled=("worker_id", "nunique"), gap_closed=("gap_closed", "sum"),
                                        total_cost=("cost", "sum")).reset_index()
    k = agg["course_id"].map(idx)
    agg["title"] = [cat.titles[i] for i in k]
    cap = cat.capacity[k.to_numpy()]
    agg["capacity"] = np.where(cap > 0, cap, np.nan)
    agg["sessions"] = np.where(cap > 0, np.ceil(agg["enrolled"] / np.where(cap > 0, cap, 1)), 1).astype(int)
    agg["teaching_hours"] = agg["sessions"] * cat.hours[k.to_numpy()]
    agg = agg.sort_values(["enrolled", "course_id"], ascending=[False, True]).reset_index(drop=True)
    return agg[["course_id", "title", "enrolled", "capacity", "sessions", "teaching_hours", "total_cost", "gap_closed"]]


def plan_courses(gaps: pd.DataFrame, cat: Catalog, system: IndicatorSystem | None = None, *,
                 budget_hours: float | None = None, budget_cost: float | None = None, method: str = "milp",
                 taken: pd.DataFrame | None = None, n_jobs: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plans for every worker in ``gaps`` (one period: pass the latest period's rows).

    Returns ``(plan, summary)``: the plan table (:data:`PLAN_COLUMNS`) and one summary row per
    worker (``status``: planned / no_gaps / no_course_for_gaps / no_course_fits_budget /
    nothing_gained; ``objective`` and ``upper_bound`` in weighted gap points; hours and cost used).
    """
    if gaps["period"].nunique() > 1 if "period" in gaps.columns else False:
        raise DataError(message="plan_courses expects the gaps of one period; filter to the period to plan for")
    problems = build_problems(gaps, cat, taken)
    plans = solve_all(problems, cat, budget_hours, budget_cost, method=method, n_jobs=n_jobs)
    return plans_to_frames(plans, problems, cat, gaps, system)
