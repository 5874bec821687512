"""Course plans for many workers at once: the per-worker algorithm of :mod:`govml.skills.courses`
(greedy plan, its optimality certificate, the bounded enumeration) run on padded
``workers × courses × gaps`` arrays, so the Python overhead is paid per batch, not per worker.

It makes the same decisions, in the same order, as :func:`govml.skills.courses.solve_worker`
(same course order, same tie-breaking, same bounds): tests check plans and objectives against
it. Candidate sets are computed once per distinct gap pattern. A worker whose enumeration would
grow past ``MAX_NODES`` partial plans is handed to :func:`solve_worker` (HiGHS).
"""

from __future__ import annotations

import math

import numpy as np

from govml.skills import courses as _c

BATCH = 128  # workers per padded batch


def solve_many(problems: list, cat, budget_hours: float | None, budget_cost: float | None,
               method: str = "milp", time_limit: float | None = None) -> list:
    """Plans for ``problems`` (same results as ``solve_worker`` one by one, much faster)."""
    H = math.inf if budget_hours is None else float(budget_hours)
    C = math.inf if budget_cost is None else float(budget_cost)
    out: list = [None] * len(problems)
    cache: dict = {}
    todo: list[tuple[int, np.ndarray]] = []
    for i, p in enumerate(problems):
        if len(p.gap_idx) == 0:
            out[i] = _c.WorkerPlan(p.worker_id, [], np.zeros(0), 0.0, 0.0, "no_gaps", method)
            continue
        key = (p.gap_idx.tobytes(), p.taken)
        cand = cache.get(key)
        if cand is None:
            cand = cache[key] = _c._candidates(p, cat, H, C)
        if len(cand) == 0:
            touches = (cat.strength[:, p.gap_idx] > 0).any(axis=1)
            status = "no_course_fits_budget" if touches.any() else "no_course_for_gaps"
            out[i] = _c.WorkerPlan(p.worker_id, [], np.zeros(len(p.gaps)), 0.0, float(p.values @ p.gaps),
                                   status, method)
            continue
        todo.append((i, cand))
    todo.sort(key=lambda t: (len(problems[t[0]].gap_idx), len(t[1])))
    P = cat.prerequisite_matrix()
    for s in range(0, len(todo), BATCH):
        part = todo[s:s + BATCH]
        _solve_batch(part, problems, cat, P, H, C, method, time_limit, out)
    return out


def _solve_batch(part, problems, cat, P, H, C, method, time_limit, out) -> None:
    B = len(part)
    n_real = np.array([len(c) for _, c in part])
    m_real = np.array([len(problems[i].gap_idx) for i, _ in part])
    n, m = int(n_real.max()), int(m_real.max())
    valid = np.arange(n)[None, :] < n_real[:, None]
    hours = np.full((B, n), np.inf)
    cost = np.full((B, n), np.inf)
    A = np.zeros((B, n, m))
    g = np.zeros((B, m))
    v = np.zeros((B, m))
    R = np.zeros((B, n, n), dtype=bool)
    ub = np.empty(B)
    for b, (i, cand) in enumerate(part):
        p = problems[i]
        k, q = len(cand), len(p.gap_idx)
        hours[b, :k] = cat.hours[cand]
        cost[b, :k] = cat.cost[cand]
        A[b, :k, :q] = cat.strength[np.ix_(cand, p.gap_idx)] * p.gaps
        g[b, :q] = p.gaps
        v[b, :q] = p.values
        R[b, :k, :k] = P[np.ix_(cand, cand)]
        ub[b] = float(p.values @ p.gaps)
    x = _greedy(A, g, v, hours, cost, valid, R, H, C)
    used = np.full(B, "greedy", dtype=object)
    failed = np.zeros(B, dtype=bool)
    if method == "milp":
        obj = (np.minimum(g, np.einsum("bn,bnm->bm", x.astype(float), A)) * v).sum(axis=1)
        cert = obj >= ub - 1e-9 * np.maximum(1.0, ub)
        used[cert] = "greedy_certified_optimal"
        rest = np.flatnonzero(~cert)
        if len(rest):
            if not (math.isfinite(H) or math.isfinite(C)):
                x[rest] = valid[rest]
                used[rest] = "no_budget_all_courses"
            else:
                xe, fail = _enumerate(A[rest], g[rest], v[rest], hours[rest], cost[rest], valid[rest], R[rest],
                                      n_real[rest], x[rest], H, C)
                x[rest] = xe
                used[rest] = "enumeration"
                failed[rest[fail]] = True
    for b, (i, cand) in enumerate(part):
        p = problems[i]
        if failed[b]:
            out[i] = _c.solve_worker(p, cat, None if math.isinf(H) else H, None if math.isinf(C) else C,
                                     method, time_limit)
            continue
        k, q = len(cand), len(p.gap_idx)
        Ab = A[b, :k, :q]
        xb = _c._prune(x[b, :k].astype(float), Ab, p.gaps, p.values, hours[b, :k], R[b, :k, :k])
        objb, z = _c._objective(Ab, p.gaps, p.values, xb)
        chosen = [int(cand[j]) for j in np.flatnonzero(xb)]
        out[i] = _c.WorkerPlan(p.worker_id, chosen, z, objb, float(ub[b]), "planned" if chosen else "nothing_gained",
                               str(used[b]))


def _greedy(A, g, v, hours, cost, valid, R, H, C) -> np.ndarray:
    """:func:`courses._greedy` for a batch (``x`` boolean, workers × courses)."""
    B, n, _ = A.shape
    with np.errstate(invalid="ignore"):
        denom = (hours / H if math.isfinite(H) else 0.0) + (cost / C if math.isfinite(C) and C > 0 else 0.0)
    if not (math.isfinite(H) or (math.isfinite(C) and C > 0)):
        denom = hours
    denom = np.maximum(np.where(valid, denom, np.inf), 1e-12)
    has_pre = bool(R.any())
    x = np.zeros((B, n), dtype=bool)
    used_h = np.zeros(B)
    used_c = np.zeros(B)
    closed = np.zeros(g.shape)
    rows = np.arange(B)
    while len(rows):
        Ar, gr, vr, cl = A[rows], g[rows], v[rows], closed[rows]
        gain = np.einsum("bnm,bm->bn", np.minimum(gr[:, None, :], cl[:, None, :] + Ar) - cl[:, None, :], vr)
        xr = x[rows]
        ok = (~xr & valid[rows] & (used_h[rows, None] + hours[rows] <= H + _c._TOL)
              & (used_c[rows, None] + cost[rows] <= C + _c._TOL) & (gain > _c._TOL))
        if has_pre:
            ok &= ~(R[rows] & ~xr[:, None, :]).any(axis=2)
        go = ok.any(axis=1)
        rows, ok, gain = rows[go], ok[go], gain[go]
        if not len(rows):
            break
        ratio = np.where(ok, gain / denom[rows], -np.inf)
        k = np.argmax(ratio, axis=1)
        x[rows, k] = True
        used_h[rows] += hours[rows, k]
        used_c[rows] += cost[rows, k]
        closed[rows] = np.minimum(g[rows], closed[rows] + A[rows, k])
    return x


def _enumerate(A, g, v, hours, cost, valid, R, n_real, x0, H, C) -> tuple[np.ndarray, np.ndarray]:
    """:func:`courses._enumerate` for a batch: (plans, failed) — ``failed`` where a worker's level
    would exceed ``MAX_NODES`` partial plans."""
    B, n, _ = A.shape
    TOL = _c._TOL
    W = (n + 62) // 63
    standalone = np.einsum("bnm,bm->bn", np.minimum(A, g[:, None, :]), v)
    hz = np.where(valid, hours, 1.0)
    rh = np.where(valid, standalone / hz, 0.0)
    if math.isfinite(C):
        rc = np.where(valid, standalone / np.maximum(np.where(valid, cost, 1.0), 1e-9), 0.0)
    else:
        rc = np.full((B, n), np.inf)
    order = np.lexsort((hours, -rh), axis=-1)
    tk = np.take_along_axis
    A = tk(A, order[:, :, None], axis=1)
    hours, cost, rh, rc = tk(hours, order, 1), tk(cost, order, 1), tk(rh, order, 1), tk(rc, order, 1)
    valid, x0 = tk(valid, order, 1), tk(x0, order, 1)
    R = tk(tk(R, order[:, :, None], axis=1), order[:, None, :], axis=2)
    sm_h = np.concatenate([np.maximum.accumulate(rh[:, ::-1], axis=1)[:, ::-1][:, 1:], np.zeros((B, 1))], axis=1)
    sm_c = np.concatenate([np.maximum.accumulate(rc[:, ::-1], axis=1)[:, ::-1][:, 1:], np.zeros((B, 1))], axis=1)
    pos = np.arange(n)
    word = pos // 63
    bit = np.left_shift(np.int64(1), (pos % 63).astype(np.int64))
    req = np.zeros((B, n, W), dtype=np.int64)
    best_mask = np.zeros((B, W), dtype=np.int64)
    for w in range(W):
        sl = slice(63 * w, 63 * (w + 1))
        req[:, :, w] = (R[:, :, sl].astype(np.int64) * bit[sl]).sum(axis=2)
        best_mask[:, w] = (x0[:, sl].astype(np.int64) * bit[sl]).sum(axis=1)
    is_pre = R.any(axis=1)
    total = (v * g).sum(axis=1)
    best_obj = (np.minimum(g, np.einsum("bn,bnm->bm", x0.astype(float), A)) * v).sum(axis=1)
    best_h = np.where(x0, hours, 0.0).sum(axis=1)
    tol = 1e-9 * np.maximum(1.0, total)
    failed = np.zeros(B, dtype=bool)
    # level 1
    keep = valid & (hours <= H + TOL) & (cost <= C + TOL)
    wk, last = np.nonzero(keep)
    clos = np.minimum(A[wk, last], g[wk])
    hu, co = hours[wk, last], cost[wk, last]
    mask = np.zeros((len(wk), W), dtype=np.int64)
    mask[np.arange(len(wk)), word[last]] = bit[last]
    need = req[wk, last]
    while len(wk):
        obj = (clos * v[wk]).sum(axis=1)
        ok = ((need & ~mask) == 0).all(axis=1)
        key = np.where(ok, obj - 1e-12 * hu, -np.inf)
        starts = np.flatnonzero(np.r_[True, wk[1:] != wk[:-1]])
        segmax = np.maximum.reduceat(key, starts)
        rep = np.repeat(segmax, np.diff(np.r_[starts, len(wk)]))
        hits = np.flatnonzero((key == rep) & np.isfinite(key))
        if len(hits):
            _, fi = np.unique(wk[hits], return_index=True)
            j = hits[fi]
            wj = wk[j]
            oj, bo, tj = obj[j], best_obj[wj], tol[wj]
            upd = (oj > bo + tj) | ((np.abs(oj - bo) <= tj) & (hu[j] < best_h[wj] - TOL))
            j, wj = j[upd], wj[upd]
            best_obj[wj], best_mask[wj], best_h[wj] = obj[j], mask[j], hu[j]
        rem = total[wk] - obj
        with np.errstate(invalid="ignore"):
            bh = (H - hu) * sm_h[wk, last] if math.isfinite(H) else np.full(len(obj), np.inf)
            bc = (C - co) * sm_c[wk, last] if math.isfinite(C) else np.full(len(obj), np.inf)
        bound = obj + np.minimum(rem, np.minimum(bh, bc))
        grow = (bound >= best_obj[wk] - tol[wk]) & (last < n_real[wk] - 1)
        if not grow.any():
            break
        wk, last, clos, hu, co, mask, need = (wk[grow], last[grow], clos[grow], hu[grow], co[grow], mask[grow],
                                              need[grow])
        counts = n_real[wk] - 1 - last
        over = np.bincount(wk, weights=counts, minlength=B) > _c.MAX_NODES
        if over.any():
            failed |= over
            k = ~over[wk]
            wk, last, clos, hu, co, mask, need, counts = (wk[k], last[k], clos[k], hu[k], co[k], mask[k], need[k],
                                                          counts[k])
        if not len(wk):
            break
        # children that fit both budgets, in (parent, course) order — the order solve_worker uses
        hw, cw = hours[wk], cost[wk]
        fitm = ((hu[:, None] + hw <= H + TOL) & (co[:, None] + cw <= C + TOL) & (pos[None, :] > last[:, None])
                & valid[wk])
        parent, child = np.nonzero(fitm)
        wc = wk[parent]
        nh, nc = hu[parent] + hw[parent, child], co[parent] + cw[parent, child]
        cp = clos[parent]
        ncl = np.minimum(g[wc], cp + A[wc, child])
        gain = ((ncl - cp) * v[wc]).sum(axis=1)
        useful = (gain > 1e-12) | is_pre[wc, child]
        if not useful.all():
            parent, child, wc, nh, nc, ncl = (parent[useful], child[useful], wc[useful], nh[useful], nc[useful],
                                              ncl[useful])
        mask = mask[parent]
        mask[np.arange(len(child)), word[child]] |= bit[child]
        need = need[parent] | req[wc, child]
        wk, last, clos, hu, co = wc, child, ncl, nh, nc
    x_sorted = (best_mask[:, word] & bit) != 0
    x = np.zeros((B, n), dtype=bool)
    np.put_along_axis(x, order, x_sorted, axis=1)
    return x, failed
