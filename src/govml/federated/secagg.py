"""Secure aggregation by pairwise masking over Flower's Message API.

Every district holds an X25519 key pair for the run. For each masked release (identified by a
*context* string: run, round, purpose) two districts ``i < j`` derive the same seed from their
Diffie-Hellman shared secret (HKDF-SHA256 with the context as ``info``) and expand it with ChaCha20
into a vector of uniform 64-bit integers ``m_ij``. District ``i`` sends

    y_i = q(x_i) + sum_{j > i} m_ij - sum_{j < i} m_ji      (mod 2**64)

where ``q`` is fixed-point quantisation (``round(x * scale)`` as a two's-complement integer). Each
``y_i`` is uniformly distributed on its own; the masks cancel in ``sum_i y_i``, which equals
``sum_i q(x_i)`` exactly (mod 2**64). The sum is exact for counts (``scale=1``); for real values
the error of the decoded sum is at most ``n_clients * 0.5 / scale`` per coordinate.

Drop-outs: when a district that took part in the key exchange does not send its masked vector,
the server asks the survivors for the masks they shared with the missing districts
(:func:`recovery_vector`) and removes them. Threat model: an honest-but-curious server (it follows
the protocol but looks at what it receives) and honest districts. A server that *lies* about a
drop-out could combine one district's masked vector with the recovered masks; Flower's SecAgg+
closes that gap with double masking and Shamir-shared self-masks. See docs/federated.md.
"""

from __future__ import annotations

import numpy as np
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from govml.errors import FederatedError

__all__ = [
    "KeyPair",
    "quantize",
    "dequantize",
    "pairwise_mask",
    "mask_vector",
    "recovery_vector",
    "unmask_sum",
    "quantization_bound",
]

_INFO_PREFIX = b"govml-secagg-v1|"


class KeyPair:
    """An X25519 key pair; only :attr:`public_bytes` ever leaves the district."""

    def __init__(self, private_bytes: bytes | None = None) -> None:
        self._sk = (X25519PrivateKey.from_private_bytes(private_bytes) if private_bytes is not None
                    else X25519PrivateKey.generate())

    @property
    def private_bytes(self) -> bytes:
        return self._sk.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                      serialization.NoEncryption())

    @property
    def public_bytes(self) -> bytes:
        return self._sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def shared_seed(self, peer_public: bytes, context: str) -> bytes:
        if len(peer_public) != 32:
            raise FederatedError(f"secure aggregation: a peer public key has {len(peer_public)} bytes, expected 32")
        shared = self._sk.exchange(X25519PublicKey.from_public_bytes(bytes(peer_public)))
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                    info=_INFO_PREFIX + context.encode()).derive(shared)


def quantize(x: np.ndarray, scale: float) -> np.ndarray:
    """Fixed-point encode ``x`` as uint64 (two's complement of ``round(x * scale)``)."""
    v = np.rint(np.asarray(x, dtype=np.float64) * scale)
    if not np.all(np.isfinite(v)) or np.any(np.abs(v) >= 2.0**62):
        raise FederatedError("secure aggregation: a value is not finite or too large for the fixed-point "
                             f"scale {scale:g}; lower the scale or clip the values")
    return v.astype(np.int64).view(np.uint64)


def dequantize(q: np.ndarray, scale: float) -> np.ndarray:
    """Decode a (summed) uint64 vector back to floats."""
    return np.asarray(q, dtype=np.uint64).view(np.int64).astype(np.float64) / scale


def quantization_bound(n_clients: int, scale: float) -> float:
    """Largest absolute error of a decoded sum of ``n_clients`` quantised vectors."""
    return 0.0 if scale == 1 else n_clients * 0.5 / scale


def pairwise_mask(seed: bytes, length: int) -> np.ndarray:
    """Expand a 32-byte seed into ``length`` uniform uint64 values (ChaCha20 keystream)."""
    enc = Cipher(algorithms.ChaCha20(seed, b"\x00" * 16), mode=None).encryptor()
    return np.frombuffer(enc.update(b"\x00" * (8 * length)), dtype=np.uint64).copy()


def _signed_masks(keys: KeyPair, my_id: int, peers: dict[int, bytes], context: str, length: int,
                  only: set[int] | None = None) -> np.ndarray:
    total = np.zeros(length, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for pid, pub in sorted(peers.items()):
            if pid == my_id or (only is not None and pid not in only):
                continue
            m = pairwise_mask(keys.shared_seed(pub, context), length)
            if my_id < pid:
                total += m
            else:
                total -= m
    return total


def mask_vector(q: np.ndarray, keys: KeyPair, my_id: int, peers: dict[int, bytes], context: str) -> np.ndarray:
    """Add this district's pairwise masks to a quantised vector ``q`` (uint64)."""
    q = np.asarray(q, dtype=np.uint64).ravel()
    if len([p for p in peers if p != my_id]) < 1:
        raise FederatedError("secure aggregation needs at least two districts")
    with np.errstate(over="ignore"):
        return q + _signed_masks(keys, my_id, peers, context, q.size)


def recovery_vector(keys: KeyPair, my_id: int, peers: dict[int, bytes], dropped: set[int], context: str,
                    length: int) -> np.ndarray:
    """The masks this (surviving) district added for peers that dropped out."""
    return _signed_masks(keys, my_id, peers, context, length, only=set(dropped))


def unmask_sum(masked: list[np.ndarray], recoveries: list[np.ndarray] | None = None) -> np.ndarray:
    """Server side: sum of masked vectors minus the survivors' recovery vectors (mod 2**64)."""
    if not masked:
        raise FederatedError("secure aggregation: no masked vector arrived")
    total = np.zeros_like(np.asarray(masked[0], dtype=np.uint64).ravel())
    with np.errstate(over="ignore"):
        for y in masked:
            total += np.asarray(y, dtype=np.uint64).ravel()
        for r in recoveries or []:
            total -= np.asarray(r, dtype=np.uint64).ravel()
    return total
