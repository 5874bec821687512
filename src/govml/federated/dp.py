"""Differential-privacy noise for securely aggregated releases, and the (ε, δ) they spend.

The noise is *distributed*: each of ``n`` districts adds one share, and the shares sum to the noise
of the mechanism, so neither the server nor any district ever sees the noiseless aggregate
(with secure aggregation on). Gaussian noise splits as ``n`` shares N(0, σ²/n); Laplace(b) splits
as ``n`` differences of Gamma(1/n, b) variables (the Laplace law is infinitely divisible). If
districts drop out after adding noise, the released sum carries less noise than planned: the
accountant is told how many shares arrived and reports the ε actually spent.

Accounting is the classic one: Laplace with L1 sensitivity Δ and scale b gives ε = Δ / b (δ = 0);
Gaussian with L2 sensitivity Δ and standard deviation σ gives ε = Δ·sqrt(2 ln(1.25/δ)) / σ
(valid for ε ≤ 1, reported as is above that); releases compose by adding ε and δ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from govml.errors import ConfigError

__all__ = ["Mechanism", "noise_share", "laplace_scale", "gaussian_sigma", "Accountant", "gaussian_rdp_epsilon",
           "calibrate_noise_multiplier", "clip_update"]

MECHANISMS = ("laplace", "gaussian")


@dataclass(frozen=True)
class Mechanism:
    """One noisy release: ``kind`` in {"laplace", "gaussian"}, its scale (b or σ) and sensitivity."""

    kind: str
    scale: float
    sensitivity: float

    def epsilon(self, delta: float, shares_fraction: float = 1.0) -> float:
        """ε spent when only ``shares_fraction`` of the noise shares arrived."""
        # k of n noise shares carry k/n of the planned variance. For Gaussian noise the sum is again
        # Gaussian; for Laplace it is not, and we report the ε of a Laplace law of that variance.
        s = self.scale * math.sqrt(shares_fraction)
        if self.kind == "laplace":
            return self.sensitivity / s
        return self.sensitivity * math.sqrt(2 * math.log(1.25 / delta)) / s


def laplace_scale(epsilon: float, sensitivity: float) -> float:
    if epsilon <= 0:
        raise ConfigError(f"dp epsilon must be positive, got {epsilon}")
    return sensitivity / epsilon


def gaussian_sigma(epsilon: float, delta: float, sensitivity: float) -> float:
    if epsilon <= 0 or not 0 < delta < 1:
        raise ConfigError(f"dp needs epsilon > 0 and 0 < delta < 1, got epsilon={epsilon}, delta={delta}")
    return sensitivity * math.sqrt(2 * math.log(1.25 / delta)) / epsilon


def noise_share(kind: str, scale: float, n_shares: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """One district's share of the noise; ``n_shares`` shares sum to Laplace(scale) or N(0, scale²)."""
    if kind not in MECHANISMS:
        raise ConfigError(f"dp mechanism must be one of {MECHANISMS}, got {kind!r}")
    if n_shares < 1:
        raise ConfigError("dp needs at least one noise share")
    if kind == "gaussian":
        return rng.normal(0.0, scale / math.sqrt(n_shares), size=size)
    shape = 1.0 / n_shares
    return rng.gamma(shape, scale, size=size) - rng.gamma(shape, scale, size=size)


@dataclass
class Accountant:
    """Adds up the (ε, δ) of the releases of one run (basic composition)."""

    delta: float = 1e-5
    releases: list[tuple[str, Mechanism, float]] = field(default_factory=list)

    def record(self, name: str, mech: Mechanism, shares_fraction: float = 1.0) -> None:
        self.releases.append((name, mech, shares_fraction))

    @property
    def epsilon(self) -> float:
        return float(sum(m.epsilon(self.delta, f) for _, m, f in self.releases))

    @property
    def total_delta(self) -> float:
        return float(sum(self.delta for _, m, _f in self.releases if m.kind == "gaussian"))

    def report(self) -> dict[str, float | int]:
        return {"epsilon": self.epsilon, "delta": self.total_delta, "releases": len(self.releases)}


# -- client-level DP for model training (DP-FedAvg with distributed Gaussian noise) ---------------

_RDP_ORDERS = tuple([1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0, 24.0, 32.0,
                     48.0, 64.0, 96.0, 128.0, 256.0, 512.0])


def gaussian_rdp_epsilon(noise_multiplier: float, rounds: int, delta: float) -> float:
    """ε after ``rounds`` Gaussian releases with sensitivity 1 and std ``noise_multiplier`` (no
    sampling: every district takes part every round). Rényi DP of order α is α / (2 z²) per
    release; composition adds; ε = min over α of RDP + log(1/δ) / (α − 1)."""
    if noise_multiplier <= 0 or rounds < 1 or not 0 < delta < 1:
        raise ConfigError("need noise multiplier > 0, rounds >= 1 and 0 < delta < 1")
    return float(min(rounds * a / (2 * noise_multiplier**2) + math.log(1 / delta) / (a - 1) for a in _RDP_ORDERS))


def calibrate_noise_multiplier(epsilon: float, delta: float, rounds: int) -> float:
    """Smallest noise multiplier (to 0.1%) whose ``rounds`` releases spend at most ``epsilon``."""
    if epsilon <= 0:
        raise ConfigError(f"dp epsilon must be positive, got {epsilon}")
    lo, hi = 1e-3, 1.0
    while gaussian_rdp_epsilon(hi, rounds, delta) > epsilon:
        hi *= 2
        if hi > 1e6:
            raise ConfigError(f"epsilon {epsilon} is too small to reach with {rounds} rounds")
    while hi - lo > 1e-3 * hi:
        mid = (lo + hi) / 2
        if gaussian_rdp_epsilon(mid, rounds, delta) > epsilon:
            lo = mid
        else:
            hi = mid
    return hi


def clip_update(delta: np.ndarray, clip: float) -> tuple[np.ndarray, float]:
    """``delta`` scaled down to L2 norm at most ``clip``; returns (clipped, original norm)."""
    norm = float(np.linalg.norm(delta))
    return (delta * (clip / norm) if norm > clip else delta), norm
