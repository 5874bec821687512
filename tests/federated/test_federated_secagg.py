"""Masked secure sums and distributed DP noise (no Flower run needed)."""

from __future__ import annotations

import numpy as np
import pytest

from govml.errors import FederatedError
from govml.federated import dp
from govml.federated.secagg import (
    KeyPair,
    dequantize,
    mask_vector,
    quantization_bound,
    quantize,
    recovery_vector,
    unmask_sum,
)


@pytest.fixture()
def federation():
    rng = np.random.default_rng(0)
    ids = [11, 42, 7, 99]
    keys = {i: KeyPair() for i in ids}
    pubs = {i: k.public_bytes for i, k in keys.items()}
    xs = {i: rng.normal(0, 10, size=500) for i in ids}
    return ids, keys, pubs, xs


def test_masks_cancel_and_error_is_within_the_stated_bound(federation):
    ids, keys, pubs, xs = federation
    scale = 2.0**16
    ys = [mask_vector(quantize(xs[i], scale), keys[i], i, pubs, "run1|r1") for i in ids]
    total = dequantize(unmask_sum(ys), scale)
    err = np.abs(total - sum(xs.values())).max()
    assert err <= quantization_bound(len(ids), scale)
    assert err > 0  # real values are quantised: the bound is not vacuous


def test_a_masked_vector_reveals_nothing_on_its_own(federation):
    ids, keys, pubs, xs = federation
    q = quantize(xs[11], 2.0**16)
    y = mask_vector(q, keys[11], 11, pubs, "ctx")
    assert np.mean(y == q) < 0.01
    top_bits = (y >> np.uint64(63)).astype(float)
    assert 0.4 < top_bits.mean() < 0.6  # uniform on 64 bits, unlike small plain numbers
    # a different context gives different masks (fresh per round)
    assert not np.array_equal(y, mask_vector(q, keys[11], 11, pubs, "ctx2"))


def test_drop_out_recovery(federation):
    ids, keys, pubs, xs = federation
    scale = 2.0**16
    ctx = "run1|r2"
    survivors, dropped = [11, 42, 7], {99}
    ys = [mask_vector(quantize(xs[i], scale), keys[i], i, pubs, ctx) for i in survivors]
    wrong = dequantize(unmask_sum(ys), scale)
    expected = sum(xs[i] for i in survivors)
    assert np.abs(wrong - expected).max() > 1e6  # masks of the missing district do not cancel
    rec = [recovery_vector(keys[i], i, pubs, dropped, ctx, 500) for i in survivors]
    assert np.abs(dequantize(unmask_sum(ys, rec), scale) - expected).max() <= quantization_bound(3, scale)


def test_counts_are_exact_and_bad_values_are_refused():
    assert quantization_bound(5, 1.0) == 0.0
    with pytest.raises(FederatedError):
        quantize(np.array([np.inf]), 1.0)
    k = KeyPair()
    with pytest.raises(FederatedError):
        mask_vector(quantize(np.ones(3), 1.0), k, 1, {1: k.public_bytes}, "c")


@pytest.mark.parametrize("kind", ["laplace", "gaussian"])
def test_noise_shares_sum_to_the_mechanism(kind):
    rng = np.random.default_rng(3)
    n, scale, size = 5, 2.0, 200_000
    total = sum(dp.noise_share(kind, scale, n, size, rng) for _ in range(n))
    target_var = 2 * scale**2 if kind == "laplace" else scale**2
    assert total.var() == pytest.approx(target_var, rel=0.03)
    if kind == "laplace":  # Laplace: E|X| = b
        assert np.abs(total).mean() == pytest.approx(scale, rel=0.03)


def test_accountant_composes_and_reports_fewer_shares():
    acct = dp.Accountant(delta=1e-5)
    acct.record("a", dp.Mechanism("laplace", dp.laplace_scale(0.5, 1.0), 1.0))
    acct.record("b", dp.Mechanism("laplace", dp.laplace_scale(0.5, 1.0), 1.0))
    assert acct.epsilon == pytest.approx(1.0)
    partial = dp.Accountant()
    partial.record("a", dp.Mechanism("laplace", 2.0, 1.0), shares_fraction=0.25)
    assert partial.epsilon == pytest.approx(1.0)  # half the noise std → twice the ε of 0.5


# -- double masking (what the Flower app runs) ------------------------------------------------------

from flwr.app import Message  # noqa: E402

from govml.federated import client_app as CA  # noqa: E402
from govml.federated.grid import LocalGrid  # noqa: E402
from govml.federated.secagg import (  # noqa: E402
    DistrictSecAgg,
    RefusedRequest,
    create_shares,
    default_threshold,
    mask_keypair,
    reconstruct,
    reconstruct_many,
    self_mask,
    unmask_double,
)
from govml.federated.server_app import Session, unmask_requests  # noqa: E402

SCALE = 2.0**16
DIM = 2000


def test_default_threshold_is_a_strict_majority():
    assert [default_threshold(n) for n in (2, 3, 4, 5, 50)] == [2, 2, 3, 3, 26]
    with pytest.raises(RefusedRequest, match="more than half"):
        d = DistrictSecAgg(1)
        pk = d.start()
        d.setup({1: pk, 2: KeyPair().public_bytes, 3: KeyPair().public_bytes, 4: KeyPair().public_bytes}, 2)


def test_shamir_shares_rebuild_the_secret_from_any_threshold_subset_and_not_from_fewer():
    from Crypto.Protocol.SecretSharing import Shamir

    rng = np.random.default_rng(3)
    secrets = {i: rng.bytes(16) for i in range(6)}
    shares = {i: create_shares(s, 4, 7) for i, s in secrets.items()}
    assert all(len(sh) == 20 for v in shares.values() for sh in v)
    # different subsets of indices per secret (and in any order) rebuild every secret in one pass
    picks = {i: [v[j] for j in rng.permutation(7)[: 4 + i % 3]] for i, v in shares.items()}
    assert reconstruct_many(picks, 4) == secrets
    # the batched Lagrange sum equals pycryptodome's own combine
    low = sorted(picks[0], key=lambda sh: int.from_bytes(sh[:4], "little"))[:4]
    assert Shamir.combine([(int.from_bytes(sh[:4], "little"), sh[4:]) for sh in low]) == secrets[0]
    # three shares of a threshold-4 secret give something else, or are refused
    with pytest.raises(FederatedError, match="3 share"):
        reconstruct(shares[1][:3], 4)
    assert reconstruct_many({0: shares[1][:3]}, 3)[0] != secrets[1]
    with pytest.raises(FederatedError, match="conflicting"):
        bad = shares[2][1][:4] + bytes(16)
        reconstruct([shares[2][0], shares[2][1], bad, shares[2][3]], 3)


def _districts(ids, t, neighbours=0):
    cl = {i: DistrictSecAgg(i) for i in ids}
    epk = {i: c.start() for i, c in cl.items()}
    return cl, {i: c.setup(epk, t, neighbours) for i, c in cl.items()}


@pytest.mark.parametrize("dropped", [set(), {99}, {99, 7}])
def test_double_masked_sum_is_exact_with_and_without_drop_outs(federation, dropped):
    ids, _keys, _pubs, xs = federation
    ids = ids + [5]
    xs = {**xs, 5: -xs[11]}
    t = 3
    cl, bundles = _districts(ids, t)
    surv = [i for i in ids if i not in dropped]
    mask_pks = {i: bundles[i][1] for i in ids}
    ys = {i: cl[i].mask(quantize(xs[i], SCALE), mask_pks, "r1")[0] for i in surv}
    b_sh, k_sh = {i: [] for i in surv}, {i: [] for i in dropped}
    for r in surv:
        b, sk = cl[r].reveal(surv, sorted(dropped), {p: (bundles[p][0], bundles[p][2][r]) for p in ids})
        assert set(b) == set(surv) and set(sk) == set(dropped)
        for p, v in b.items():
            b_sh[p].append(v)
        for p, v in sk.items():
            k_sh[p].append(v)
    total = unmask_double([ys[i] for i in surv], "r1", {p: reconstruct(v, t) for p, v in b_sh.items()},
                          {p: reconstruct(v, t) for p, v in k_sh.items()}, {i: mask_pks[i] for i in surv})
    expected = unmask_sum([quantize(xs[i], SCALE) for i in surv])
    assert np.array_equal(total, expected)  # bit-identical to the sum of the quantised vectors
    # every district's next bundle is fresh: a new mask key and a new seed
    assert all(cl[i].index == 1 and cl[i].mask_public != mask_pks[i] for i in surv)


def test_a_district_refuses_to_reveal_both_shares_of_one_bundle():
    ids = [1, 2, 3, 4, 5]
    cl, bundles = _districts(ids, 3)
    sealed = {p: (bundles[p][0], bundles[p][2][2]) for p in ids}
    b, sk = cl[2].reveal([1, 2, 3], [4, 5], sealed)
    assert set(b) == {1, 2, 3} and set(sk) == {4, 5}
    assert cl[2].state["rev|1"] == "b" and cl[2].state["rev|4"] == "s"  # one character per bundle
    assert cl[2].reveal([1, 2, 3], [4, 5], sealed) == (b, sk)  # the same request again: same answer
    state_before = dict(cl[2].state)
    with pytest.raises(RefusedRequest, match="already revealed"):
        cl[2].reveal([2, 3, 4], [1, 5], sealed)  # now says 4 answered and 1 dropped
    assert cl[2].state == state_before  # nothing was revealed or recorded
    with pytest.raises(RefusedRequest, match="both"):
        cl[2].reveal([1, 2, 3, 4], [4], sealed)
    with pytest.raises(RefusedRequest, match="fewer than the threshold"):
        cl[2].reveal([2, 3], [1, 4, 5], sealed)
    with pytest.raises(RefusedRequest, match="said to have missed"):  # never its own mask key
        cl[3].reveal([1, 2, 4], [3], {p: (bundles[p][0], bundles[p][2][3]) for p in ids})
    with pytest.raises(RefusedRequest, match="does not open"):  # a share is bound to its recipient
        cl[3].reveal([1, 2, 3], [], {1: (0, bundles[1][2][2])})


# -- the same through Flower messages: an honest and a lying server --------------------------------

def _flower_federation(n: int, drop_after: dict[int, int] | None = None, seed: int = 0):
    rng = np.random.default_rng(seed)
    ids = [101 + 17 * i for i in range(n)]
    xs = {i: rng.normal(0, 10, size=DIM) for i in ids}
    grid = LocalGrid(run_id=3)
    for i in ids:
        app = CA.make_client_app()

        @app.query("vector")
        def vector(msg: Message, context, _x=xs[i]) -> Message:
            return Message(CA._release(_x, msg, context, CA._run_config(msg, context)), reply_to=msg)

        grid.add_node(i, app, {}, {}, drop_after=(drop_after or {}).get(i))
    s = Session(grid=grid, cfg={"secure": True, "min-secure-districts": 2})
    s.names = {i: f"区{k + 1}" for k, i in enumerate(ids)}
    return s, ids, xs


def test_flower_secure_sum_recovers_drop_outs_and_names_who_is_missing():
    s, ids, xs = _flower_federation(5)
    nodes = s.exchange_keys(ids)
    assert s.threshold == 3 and nodes == ids
    total, got = s.aggregate(nodes, "query.vector", {}, DIM, SCALE, "v")
    assert got == ids
    assert np.array_equal(quantize(total, SCALE), unmask_sum([quantize(xs[i], SCALE) for i in ids]))
    # two districts drop before the second sum (their key shares rebuild the masks), three remain = t
    s2, ids2, xs2 = _flower_federation(5, drop_after={101: 3, 118: 3})
    nodes = s2.exchange_keys(ids2)
    s2.round = 1
    s2.aggregate(nodes, "query.vector", {}, DIM, SCALE, "v")
    s2.round = 2
    total, got = s2.aggregate(nodes, "query.vector", {}, DIM, SCALE, "v")
    assert got == [135, 152, 169]
    assert np.array_equal(quantize(total, SCALE), unmask_sum([quantize(xs2[i], SCALE) for i in got]))
    assert set(s2.missing) == {"区1", "区2"}
    # three drop out: two survivors are fewer than t = 3 → a clear failure naming the missing districts
    s3, ids3, _ = _flower_federation(5, drop_after={101: 2, 118: 2, 135: 2})
    nodes = s3.exchange_keys(ids3)
    with pytest.raises(FederatedError, match=r"2 of 5 districts answered.*at least 3.*missing: 区1, 区2, 区3"):
        s3.aggregate(nodes, "query.vector", {}, DIM, SCALE, "v")


class LyingSession(Session):
    """A server that says district ``victim`` dropped out although its masked reply arrived."""

    victim: int = 0
    late: Message | None = None
    unmask_replies: list[Message] = []

    def ask(self, node_ids, mtype, content):
        good, bad, silent = super().ask(node_ids, mtype, content)
        if mtype == "query.vector" and self.victim in good:
            self.late = good.pop(self.victim)
            silent = [*silent, self.victim]
        return good, bad, silent

    def ask_each(self, contents, mtype):
        good, bad, silent = super().ask_each(contents, mtype)
        self.unmask_replies = list(good.values())
        return good, bad, silent


def test_a_lying_server_cannot_unmask_the_late_reply_of_a_dropped_district():
    s, ids, xs = _flower_federation(5)
    s.__class__ = LyingSession
    s.victim = victim = ids[0]
    nodes = s.exchange_keys(ids)
    used = dict(s.bundles)
    total, got = s.aggregate(nodes, "query.vector", {}, DIM, SCALE, "v")
    assert victim not in got  # the others' sum is still right...
    assert np.array_equal(quantize(total, SCALE), unmask_sum([quantize(xs[i], SCALE) for i in got]))
    # ... and the server now holds the victim's masked reply and t shares of its mask key
    y = s.late.content.array_records["vec"]["masked"].numpy()
    sk_shares = [m.content.array_records["sk"][str(victim)].numpy().astype(np.uint8).tobytes()
                 for m in s.unmask_replies]
    victim_key = reconstruct(sk_shares, s.threshold)
    assert mask_keypair(victim_key).public_bytes == used[victim][1]  # really the victim's mask key
    # asking for the victim's seed shares as well is refused by every district
    replies = s.grid.send_and_receive([
        Message(content=c, dst_node_id=r, message_type="query.unmask")
        for r, c in unmask_requests(used, ids, [], "v|round=0").items()])
    refused = [r for r in replies if r.has_error() and "already revealed" in r.error.reason]
    assert {r.metadata.src_node_id for r in refused} == set(got)  # all but the victim, who holds 1 share < t
    # what the server can rebuild: the reply minus every pairwise mask = q(x) + PRG(b), uniform noise
    pairwise = recovery_vector(mask_keypair(victim_key), victim, {i: used[i][1] for i in ids}, set(got),
                               "v|round=0", DIM)
    with np.errstate(over="ignore"):
        best = y - pairwise
    q = quantize(xs[victim], SCALE)
    assert np.mean(best == q) < 0.01
    assert 0.45 < (best >> np.uint64(63)).mean() < 0.55  # uniform on 64 bits, unlike small fixed-point values
    assert abs(np.corrcoef(best.view(np.int64).astype(float), xs[victim])[0, 1]) < 0.1
    # the only thing missing is the self mask, whose seed the districts kept back
    seed_shares = []
    for r in got:
        sa = CA._keys(s.grid.node_context(r))
        plain = _open_for_test(sa, victim, used[victim], r)
        seed_shares.append(plain)
    with np.errstate(over="ignore"):
        assert np.array_equal(best - self_mask(reconstruct(seed_shares, s.threshold), DIM), q)


def _open_for_test(sa, sender, bundle, recipient):
    """Test-only: what the districts hold and never reveal (the seed share), to close the argument."""
    from govml.federated.secagg import SHARE_LEN, _aad, unseal

    plain = unseal(sa._enc(), sa._epk(sender), bundle[2][recipient], _aad(sender, recipient, bundle[0]))
    return plain[:SHARE_LEN]


def test_single_masking_would_have_leaked_the_late_reply(federation):
    """Why double masking: with pairwise masks only, the same lie gives the server the exact vector."""
    ids, keys, pubs, xs = federation
    y = mask_vector(quantize(xs[11], SCALE), keys[11], 11, pubs, "c")
    others = [i for i in ids if i != 11]
    with np.errstate(over="ignore"):
        # the survivors' recovery vectors for the "dropped" district 11 are minus its pairwise masks
        rebuilt = y + sum((recovery_vector(keys[i], i, pubs, {11}, "c", 500) for i in others),
                          np.zeros(500, dtype=np.uint64))
    assert np.array_equal(rebuilt, quantize(xs[11], SCALE))


# -- SecAgg+ neighbour graph ------------------------------------------------------------------------

def test_neighbourhoods_form_a_ring_and_connectivity_is_checked():
    from govml.federated.secagg import connected, neighbourhood

    ids = [50, 10, 40, 20, 30, 60, 70]
    assert neighbourhood(ids, 2, 10) == {70, 10, 20}
    assert neighbourhood(ids, 4, 40) == {20, 30, 40, 50, 60}
    assert neighbourhood(ids, 0, 40) == set(ids) == neighbourhood(ids, 6, 40)
    assert all(a in neighbourhood(ids, 2, b) for b in ids for a in neighbourhood(ids, 2, b))  # symmetric
    assert connected([10, 20, 30, 40], ids, 2)
    assert not connected([10, 20, 40, 50], ids, 2)  # 30 and 60/70 gone: {10, 20} and {40, 50} apart


def test_flower_secure_sum_over_a_neighbour_graph():
    s, ids, xs = _flower_federation(9)
    s.cfg["secagg-neighbours"] = 4
    nodes = s.exchange_keys(ids)
    assert s.threshold == 3  # strict majority of a neighbourhood of 5
    # each district deals shares to its 5-district neighbourhood only (4 peers + itself)
    assert all(len(b[2]) == 5 for b in s.bundles.values())
    total, got = s.aggregate(nodes, "query.vector", {}, DIM, SCALE, "v")
    assert np.array_equal(quantize(total, SCALE), unmask_sum([quantize(xs[i], SCALE) for i in ids]))
    # two drop-outs far apart on the ring: every neighbourhood keeps 3 districts, sums stay exact
    s2, ids2, xs2 = _flower_federation(9, drop_after={ids[0]: 2, ids[4]: 2})
    s2.cfg["secagg-neighbours"] = 4
    nodes = s2.exchange_keys(ids2)
    total, got = s2.aggregate(nodes, "query.vector", {}, DIM, SCALE, "v")
    assert got == [i for i in ids2 if i not in (ids[0], ids[4])]
    assert np.array_equal(quantize(total, SCALE), unmask_sum([quantize(xs2[i], SCALE) for i in got]))


def test_a_graph_that_falls_apart_is_not_unmasked():
    # ring of 7 with one neighbour on each side: losing two districts that are not adjacent splits
    # the others into two groups whose own sums would show — the server stops, districts refuse
    s, ids, _ = _flower_federation(7, drop_after={ids_: 2 for ids_ in (118, 186)})
    s.cfg["secagg-neighbours"] = 2
    nodes = s.exchange_keys(ids)
    assert s.threshold == 2
    with pytest.raises(FederatedError, match="fall apart.*missing: 区2, 区6"):
        s.aggregate(nodes, "query.vector", {}, DIM, SCALE, "v")
    cl, bundles = _districts([1, 2, 3, 4, 5, 6, 7], 2, neighbours=2)
    assert set(bundles[3][2]) == {2, 3, 4}
    with pytest.raises(RefusedRequest, match="fall apart"):
        cl[3].reveal([3, 4, 6, 7], [1, 2, 5], {p: (bundles[p][0], bundles[p][2][3]) for p in (2, 3, 4)})


def test_a_threshold_that_is_not_a_majority_is_refused():
    from govml.errors import ConfigError

    s, ids, _ = _flower_federation(5)
    s.cfg["secagg-threshold"] = 2
    with pytest.raises(ConfigError, match="more than half"):
        s.exchange_keys(ids)


# -- secagg-neighbours = auto: the complete graph for few districts, a SecAgg+ ring of O(log n) above --

def test_the_auto_neighbour_rule():
    from govml.errors import ConfigError
    from govml.federated.secagg import auto_neighbours, resolve_neighbours

    # complete graph (0) while the ring would hold half of the districts, then k = 2·ceil(log2 n)
    assert [auto_neighbours(n) for n in (2, 3, 7, 16, 20)] == [0] * 5
    assert [auto_neighbours(n) for n in (21, 30, 33, 50, 64, 65, 100, 1000)] == [10, 10, 12, 12, 12, 14, 14, 20]
    assert all(auto_neighbours(n) % 2 == 0 for n in range(2, 3000))
    # the threshold's needs: a majority of a neighbourhood never falls below min-secure-districts
    assert auto_neighbours(50, min_secure=10) == 18 and default_threshold(18 + 1, 10) == 10
    assert default_threshold(auto_neighbours(50) + 1) == 7  # 50 districts: neighbourhoods of 13, t = 7
    for setting in ("auto", 0, "0", None, "", " AUTO "):
        assert resolve_neighbours(setting, 50) == 12 and resolve_neighbours(setting, 12) == 0
    assert resolve_neighbours("all", 500) == resolve_neighbours(-1, 500) == 0
    assert resolve_neighbours("6", 50) == resolve_neighbours(6, 50) == 6
    for bad in (1, "1", "-3", "ring", 2.5):
        with pytest.raises(ConfigError, match="secagg-neighbours"):
            resolve_neighbours(bad, 50)


def test_auto_neighbours_at_30_districts_sums_stay_exact_with_drop_outs():
    ids30 = [101 + 17 * i for i in range(30)]  # _flower_federation's ids: ring order = list order
    dropped = [ids30[i] for i in (0, 1, 2, 3, 4, 12, 20)]  # five neighbours in a row, and two more apart
    s, ids, xs = _flower_federation(30, drop_after={i: 2 for i in dropped})
    assert "secagg-neighbours" not in s.cfg  # the default: auto
    nodes = s.exchange_keys(ids)
    assert (s.neighbours, s.threshold) == (10, 6)  # a ring of 10 neighbours, majority of 11
    assert all(len(b[2]) == 11 for b in s.bundles.values())  # shares dealt within the neighbourhood only
    total, got = s.aggregate(nodes, "query.vector", {}, DIM, SCALE, "v")
    assert sorted(got) == [i for i in ids if i not in dropped]
    assert got == s.ordered(got)  # listed in the run's order: by name (区1, 区10, …), not by node id
    assert np.array_equal(quantize(total, SCALE), unmask_sum([quantize(xs[i], SCALE) for i in got]))
    assert len(s.missing) == 7
    # six neighbours in a row: the middle one's neighbourhood keeps 5 < t = 6 survivors → a clear stop
    s2, ids2, _ = _flower_federation(30, drop_after={i: 2 for i in ids30[10:16]})
    nodes = s2.exchange_keys(ids2)
    with pytest.raises(FederatedError, match=r"neighbourhood answered.*needs 6 \(threshold t=6\)"):
        s2.aggregate(nodes, "query.vector", {}, DIM, SCALE, "v")
    # "all" keeps the complete graph of plain SecAgg at any size
    s3, ids3, _ = _flower_federation(30)
    s3.cfg["secagg-neighbours"] = "all"
    s3.exchange_keys(ids3)
    assert (s3.neighbours, s3.threshold) == (0, 16)
