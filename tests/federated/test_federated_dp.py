"""govml's own Rényi-DP bound for the classifier's DP-FedAvg against Google's dp_accounting.

govml converts RDP to (ε, δ) with the classic bound ε = RDP(α) + log(1/δ)/(α − 1); dp_accounting's
``RdpAccountant`` (what Flower's ``flwr[dp]`` uses) applies a tighter conversion. On the same
orders govml's ε must never be below dp_accounting's (it would under-report the privacy spent) and
should not be much above it.
"""

from __future__ import annotations

import pytest

from govml.federated.dp import _RDP_ORDERS, calibrate_noise_multiplier, gaussian_rdp_epsilon

dp_accounting = pytest.importorskip("dp_accounting")


def _reference(z: float, rounds: int, delta: float) -> float:
    acc = dp_accounting.rdp.RdpAccountant(orders=list(_RDP_ORDERS))
    acc.compose(dp_accounting.GaussianDpEvent(z), rounds)  # no sampling: every district every round
    return float(acc.get_epsilon(delta))


@pytest.mark.parametrize("z,rounds,delta", [(0.8, 5, 1e-5), (1.1, 10, 1e-5), (2.0, 20, 1e-6), (5.0, 50, 1e-5)])
def test_govml_rdp_bound_is_conservative_and_close(z, rounds, delta):
    ours, ref = gaussian_rdp_epsilon(z, rounds, delta), _reference(z, rounds, delta)
    assert ref <= ours * (1 + 1e-9)
    assert ours <= 1.25 * ref


@pytest.mark.parametrize("eps,rounds", [(1.0, 5), (8.0, 10)])
def test_calibrated_noise_spends_at_most_the_target(eps, rounds):
    z = calibrate_noise_multiplier(eps, 1e-5, rounds)
    assert _reference(z, rounds, 1e-5) <= eps
