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
