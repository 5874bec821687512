"""Cost of one secure release with double masking (optionally over a SecAgg+ k-neighbour graph) against
pairwise-only masking, in CPU seconds.

    .venv/bin/python benchmarks/bench_secagg.py N_DISTRICTS LENGTH [NEIGHBOURS: auto|all|k]

e.g. `bench_secagg.py 50 327687 12` (the classifier vector at K=5, F=2**16, 50 districts, k=12);
NEIGHBOURS defaults to `auto`, the run config's default (`secagg.auto_neighbours`: k = 12 at 50).
The server rebuilds every secret of the release in one pass (`reconstruct_many`, as the ServerApp
does). The last line adds it up for one release of every district run on one core (a simulation):
n x (mask + next bundle + reveal) + rebuild + remove masks.
"""

import sys
import time

import numpy as np

from govml.federated.secagg import (
    DistrictSecAgg,
    KeyPair,
    default_threshold,
    mask_vector,
    neighbourhood,
    quantize,
    reconstruct_many,
    resolve_neighbours,
    unmask_double,
)

n, d = int(sys.argv[1]), int(sys.argv[2])
k = resolve_neighbours(sys.argv[3] if len(sys.argv) > 3 else "auto", n)
reps = 3
ids = list(range(1, n + 1))
hoods = {i: neighbourhood(ids, k, i) for i in ids}
t = default_threshold(len(hoods[1]))
cl = {i: DistrictSecAgg(i) for i in ids}
epk = {i: c.start() for i, c in cl.items()}
c0 = time.process_time()
bund = {i: cl[i].setup(epk, t, k) for i in ids}
setup = (time.process_time() - c0) / n
q = quantize(np.random.default_rng(0).normal(size=d), 2.0**24)
old_keys = {i: KeyPair() for i in ids}
old_pubs = {i: kk.public_bytes for i, kk in old_keys.items()}
c0 = time.process_time()
for i in ids[:reps]:
    mask_vector(q, old_keys[i], i, old_pubs, "ctx")
old = (time.process_time() - c0) / reps
mp = {i: bund[i][1] for i in ids}
c0 = time.process_time()
for i in ids[:reps]:
    cl[i].mask(q, mp, "ctx")
new = (time.process_time() - c0) / reps
surv = ids[:-1]
drop = [ids[-1]]
c0 = time.process_time()
shares = {
    r: cl[r].reveal(surv, drop, {p: (bund[p][0], bund[p][2][r]) for p in ids if r in bund[p][2]})
    for r in surv
}
reveal = (time.process_time() - c0) / len(surv)
c0 = time.process_time()
got = reconstruct_many({**{("b", p): [shares[r][0][p] for r in surv if p in shares[r][0]] for p in surv},
                        **{("sk", p): [shares[r][1][p] for r in surv if p in shares[r][1]] for p in drop}}, t)
seeds = {p: got[("b", p)] for p in surv}
keys = {p: got[("sk", p)] for p in drop}
rec = time.process_time() - c0
c0 = time.process_time()
unmask_double([q] * len(surv), "ctx", seeds, keys, {s: mp[s] for s in surv}, hoods)
srv = time.process_time() - c0
print(
    f"n={n} d={d} neighbours={k or n - 1} t={t}: per district: set-up {setup:.3f} s, mask + next bundle "
    f"{new:.3f} s (pairwise-only mask {old:.3f} s), reveal {reveal:.4f} s; server: rebuild {len(seeds)}+{len(keys)} "
    f"secrets {rec:.3f} s, remove masks {srv:.3f} s"
)
print(f"one release, all districts on one core: {n * (new + reveal) + rec + srv:.3f} CPU s")
