"""Secure aggregation over Flower's Message API: pairwise masks plus Shamir-shared self masks.

Fixed-point encoding: ``q(x)`` is ``round(x * scale)`` as a two's-complement uint64. The sum of the
districts' ``q(x_i)`` is exact mod 2**64 (counts use ``scale=1``); decoded real sums are within
``n_clients * 0.5 / scale`` per coordinate (:func:`quantization_bound`).

**Double masking (SecAgg / SecAgg+, Bonawitz et al. 2017; Bell et al. 2020)** — what the Flower app
runs (:class:`DistrictSecAgg` in each district, :func:`unmask_double` on the server). Each release
(one masked reply; identified by a *context* string) uses a fresh *bundle* per district: a 16-byte
mask-key seed ``c_i`` (the X25519 mask key pair ``(sk_i, C_i)`` is derived from it by HKDF) and a
16-byte self-mask seed ``b_i``. District ``i`` sends

    y_i = q(x_i) + PRG(b_i) + sum_{j > i} PRG(s_ij) - sum_{j < i} PRG(s_ji)      (mod 2**64)

with ``s_ij`` = HKDF(X25519(sk_i, C_j), context) and PRG the ChaCha20 keystream (keyed by HKDF of
``b_i`` for the self mask). Before a bundle is used, its ``b_i`` and ``c_i`` are Shamir-shared
(threshold ``t``; pycryptodome's ``Shamir`` over GF(2^128), one 16-byte block per secret, called
directly: Flower's wrapper starts a thread pool per call) among the release's districts, each share
encrypted to its recipient (AES-GCM under an HKDF key of a per-run X25519 *encryption* pair; the
server relays ciphertexts it cannot read). 128-bit secrets match the 128-bit field of the sharing.

Cost (issue 6): the encryption keys are fixed for the run, so each district derives the AES key it
shares with a peer once and keeps it in its state (``ek|peer``; it is no more secret than ``esk``,
which is already there). Mask keys are fresh per release by design and are never cached. The server
rebuilds all secrets of one release in one pass (:func:`reconstruct_many`): the Lagrange
coefficients depend only on which share indices arrived, so they are computed once per index set. After the release, for every district the survivors
reveal EITHER its ``b``-share (it replied: the server removes ``PRG(b_i)``) OR its ``c``-share (it
dropped: the server rebuilds ``c_i`` and removes the pairwise masks the survivors shared with it),
never both for the same bundle: each district keeps what it has revealed in its state and refuses
a request that would reveal the other share. A bundle is used for exactly one release (each masked
reply deals the shares of the district's next bundle), so a revealed seed or mask key never
unmasks another release. With ``2t > n`` the server cannot collect ``t`` shares of both kinds for
one bundle, so a late reply of a district it declared dropped stays masked by ``PRG(b_i)``.

SecAgg+'s neighbour graph (opt-in, ``neighbours = k``): masks and shares only within a ring
neighbourhood (:func:`neighbourhood`) fixed at set-up, threshold a majority of it, and nobody unmasks
a survivor set that falls apart into groups (:func:`connected`): O(n·k·d) masking instead of O(n²·d).

Pairwise masks only (:func:`mask_vector`, :func:`recovery_vector`, :func:`unmask_sum`) remain for
in-process use (``FederatedHotspotForecaster``), where one harness runs every district anyway.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from govml.errors import ConfigError, FederatedError

__all__ = [
    "KeyPair",
    "quantize",
    "dequantize",
    "pairwise_mask",
    "mask_vector",
    "recovery_vector",
    "unmask_sum",
    "quantization_bound",
    "DistrictSecAgg",
    "RefusedRequest",
    "default_threshold",
    "auto_neighbours",
    "resolve_neighbours",
    "reconstruct",
    "reconstruct_many",
    "create_shares",
    "self_mask",
    "mask_keypair",
    "unmask_double",
    "neighbourhood",
    "connected",
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


def _keystream(seed: bytes, length: int) -> np.ndarray:
    """``length`` uint64 values of the ChaCha20 keystream under ``seed`` (read-only view, no copy)."""
    enc = Cipher(algorithms.ChaCha20(seed, b"\x00" * 16), mode=None).encryptor()
    return np.frombuffer(enc.update(bytes(8 * length)), dtype=np.uint64)


def pairwise_mask(seed: bytes, length: int) -> np.ndarray:
    """Expand a 32-byte seed into ``length`` uniform uint64 values (ChaCha20 keystream)."""
    return _keystream(seed, length).copy()


def _derive(secret: bytes, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO_PREFIX + label.encode()).derive(secret)


def self_mask(seed: bytes, length: int) -> np.ndarray:
    """A district's self mask ``PRG(b)`` from its 16-byte self-mask seed."""
    return pairwise_mask(_derive(bytes(seed), "self-mask"), length)


def mask_keypair(seed: bytes) -> KeyPair:
    """The X25519 mask key pair of a bundle, derived from its 16-byte (Shamir-shared) mask-key seed."""
    return KeyPair(_derive(bytes(seed), "mask-key"))


def _signed_masks(keys: KeyPair, my_id: int, peers: dict[int, bytes], context: str, length: int,
                  only: set[int] | None = None) -> np.ndarray:
    """Sum of ``+PRG(s)`` for peers above ``my_id`` minus that for peers below: one keystream per peer,
    added in place (mod 2**64)."""
    total = np.zeros(length, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for pid, pub in sorted(peers.items()):
            if pid == my_id or (only is not None and pid not in only):
                continue
            m = _keystream(keys.shared_seed(pub, context), length)
            if my_id < pid:
                np.add(total, m, out=total)
            else:
                np.subtract(total, m, out=total)
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


# -- double masking ------------------------------------------------------------------------------

SECRET_LEN = 16  # self-mask and mask-key seeds: one GF(2^128) block each
SHARE_LEN = 20  # a Shamir share of a 16-byte secret: 4-byte little-endian index + 16-byte value
_SEALED_LEN = 12 + 2 * SHARE_LEN + 16  # nonce + (b-share, c-share) + GCM tag


class RefusedRequest(FederatedError):
    """A district refuses a secure-aggregation request that would weaken its privacy."""


def default_threshold(n_districts: int, min_secure: int = 2) -> int:
    """Shares needed to rebuild a seed or mask key: a strict majority of the districts (at least
    ``min_secure``, at most ``n_districts``). ``2t > n`` is what stops the server from collecting
    both kinds of share for one district (see the module docstring)."""
    return min(n_districts, max(min_secure, n_districts // 2 + 1))


def auto_neighbours(n_districts: int, min_secure: int = 2) -> int:
    """SecAgg+ neighbours per district for ``secagg-neighbours = auto`` (0: the complete graph).

    ``k = 2 * ceil(log2 n)`` (Bell et al. 2020: ``k = O(log n)`` keeps every neighbourhood's honest
    majority and its survivors with high probability), raised to ``2 * min_secure - 2`` so that a
    strict majority of a neighbourhood of ``k + 1`` is never below ``min_secure``. While the ring
    would still hold half of the districts (``2k >= n``: up to 20 districts) it saves little and
    tolerates fewer drop-outs, so the complete graph of plain SecAgg is kept. 50 districts: k = 12
    (neighbourhoods of 13, threshold 7); 100: 14; 1,000: 20."""
    n = int(n_districts)
    if n < 3:
        return 0
    k = max(2 * math.ceil(math.log2(n)), 2 * int(min_secure) - 2)
    return 0 if 2 * k >= n else k


def resolve_neighbours(setting: Any, n_districts: int, min_secure: int = 2) -> int:
    """The mask graph a run uses: ``"auto"`` (or ``0``, empty, ``None``) → :func:`auto_neighbours`;
    ``"all"`` (or ``-1``) → 0, the complete graph; an integer ``k >= 2`` → a ring of ``k``
    neighbours (the complete graph when ``k >= n - 1``)."""
    text = "auto" if setting is None else str(setting).strip().lower()
    if text in ("", "auto", "0"):
        return auto_neighbours(n_districts, min_secure)
    if text in ("all", "complete", "-1"):
        return 0
    try:
        k = int(text)
    except ValueError:
        k = -2
    if k < 2:
        raise ConfigError(f"secagg-neighbours must be auto, all or a number of neighbours >= 2, got {setting!r}")
    return k


def neighbourhood(ids: list[int], neighbours: int, me: int) -> set[int]:
    """``me`` and its neighbours in SecAgg+'s graph: on the ring of the sorted node ids (random
    64-bit numbers), the ``ceil(neighbours / 2)`` nearest on each side. ``neighbours <= 0`` or at
    least ``len(ids) - 1``: everybody (the complete graph of plain SecAgg)."""
    ids = sorted(int(i) for i in ids)
    n = len(ids)
    if neighbours <= 0 or neighbours >= n - 1:
        return set(ids)
    h = (neighbours + 1) // 2
    if 2 * h + 1 >= n:
        return set(ids)
    pos = ids.index(int(me))
    return {ids[(pos + j) % n] for j in range(-h, h + 1)}


def connected(survivors: list[int], ids: list[int], neighbours: int) -> bool:
    """Whether the districts that answered still form one group in the mask graph. If they fell
    apart, the sum of each group would show on its own, so nobody reveals anything then."""
    surv = {int(x) for x in survivors}
    if not surv:
        return False
    seen, todo = set(), [min(surv)]
    while todo:
        v = todo.pop()
        if v in seen:
            continue
        seen.add(v)
        todo.extend((neighbourhood(ids, neighbours, v) & surv) - seen)
    return seen == surv


def _aad(sender: int, recipient: int, index: int) -> bytes:
    return f"govml-secagg-v2|{sender}|{recipient}|{index}".encode()


def share_key(enc: KeyPair, peer_public: bytes) -> bytes:
    """The AES key two districts share for the run: HKDF(X25519(enc, peer))."""
    return enc.shared_seed(peer_public, "share-key")


def seal(enc: KeyPair | bytes, peer_public: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-GCM encryption under HKDF(X25519(enc, peer)) (or under ``enc`` itself when it is that
    32-byte key already); ``aad`` binds sender, recipient and bundle."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = enc if isinstance(enc, bytes) else share_key(enc, peer_public)
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(enc: KeyPair | bytes, peer_public: bytes, sealed: bytes, aad: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = enc if isinstance(enc, bytes) else share_key(enc, peer_public)
    try:
        return AESGCM(key).decrypt(sealed[:12], sealed[12:], aad)
    except InvalidTag:
        raise RefusedRequest("secure aggregation: an encrypted share does not open (wrong sender, recipient "
                             "or bundle)") from None


def create_shares(secret: bytes, threshold: int, num: int) -> list[bytes]:
    """Shamir shares (``threshold`` of ``num``) of a 16-byte secret, each ``index (4 bytes, little
    endian) + value (16 bytes)``: pycryptodome's ``Shamir.split`` called directly (one block)."""
    from Crypto.Protocol.SecretSharing import Shamir

    if len(secret) != SECRET_LEN:
        raise FederatedError(f"secure aggregation: a secret has {len(secret)} bytes, expected {SECRET_LEN}")
    return [int(i).to_bytes(4, "little") + v for i, v in Shamir.split(threshold, num, secret, ssss=False)]


def _lagrange_at_zero(xs: tuple[int, ...]) -> list[Any]:
    """Coefficients ``l_j(0)`` over GF(2^128) for share indices ``xs`` (pycryptodome's field element,
    the same arithmetic as ``Shamir.combine``)."""
    from Crypto.Protocol.SecretSharing import _Element

    els = [_Element(x) for x in xs]
    out = []
    for j, x_j in enumerate(els):
        num, den = _Element(1), _Element(1)
        for m, x_m in enumerate(els):
            if m != j:
                num *= x_m
                den *= x_j + x_m
        out.append(num * den.inverse())
    return out


def reconstruct_many(shares: dict[Any, list[bytes]], threshold: int) -> dict[Any, bytes]:
    """Rebuild several 16-byte secrets, each from at least ``threshold`` of its Shamir shares.

    Equals ``Shamir.combine`` on the ``threshold`` lowest-indexed shares of each secret; the Lagrange
    coefficients (the costly part: one field inversion per share) are computed once per set of
    indices and reused for every secret that arrived with the same indices (all of them, normally)."""
    from Crypto.Protocol.SecretSharing import _Element

    coefs: dict[tuple[int, ...], list[Any]] = {}
    out = {}
    for key, shs in shares.items():
        if len(shs) < threshold:
            raise FederatedError(f"secure aggregation: {len(shs)} share(s) of a secret, {threshold} needed")
        parsed = {}
        for sh in shs:
            if len(sh) != SHARE_LEN:
                raise FederatedError(f"secure aggregation: a share has {len(sh)} bytes, expected {SHARE_LEN}")
            idx = int.from_bytes(sh[:4], "little")
            if idx < 1 or parsed.get(idx, sh[4:]) != sh[4:]:
                raise FederatedError("secure aggregation: shares do not combine to a secret (bad or conflicting "
                                     "share index)")
            parsed[idx] = sh[4:]
        if len(parsed) < threshold:
            raise FederatedError(f"secure aggregation: {len(parsed)} distinct share(s) of a secret, {threshold} "
                                 "needed")
        xs = tuple(sorted(parsed)[:threshold])
        if xs not in coefs:
            coefs[xs] = _lagrange_at_zero(xs)
        acc = _Element(0)
        for c, x in zip(coefs[xs], xs, strict=True):
            acc += c * _Element(parsed[x])
        out[key] = acc.encode()
    return out


def reconstruct(shares: list[bytes], threshold: int) -> bytes:
    """Rebuild a 16-byte secret from at least ``threshold`` Shamir shares."""
    return reconstruct_many({0: list(shares)}, threshold)[0]


class DistrictSecAgg:
    """One district's side of double-masked secure aggregation.

    All of its state is :attr:`state`, a flat ``dict`` of str → bytes/int/str that the ClientApp
    keeps in the node's ``context.state`` between messages: the per-run encryption key, the peers'
    encryption public keys and the threshold fixed at set-up, the AES key shared with each peer for
    the run (``ek|peer``, derived once), the current bundle (index, mask-key seed, self-mask seed) and,
    per peer, which share has been revealed for each of its bundles
    (``rev|peer`` → one character per bundle index: ``-`` nothing, ``b`` seed share, ``s`` key share).
    """

    def __init__(self, node_id: int, state: dict[str, Any] | None = None) -> None:
        self.node_id = int(node_id)
        self.state: dict[str, Any] = dict(state or {})

    # set-up ---------------------------------------------------------------------------------------
    def start(self) -> bytes:
        """A fresh encryption key pair for the run; returns its public key (forget everything else)."""
        enc = KeyPair()
        self.state = {"esk": enc.private_bytes}
        return enc.public_bytes

    def setup(self, enc_publics: dict[int, bytes], threshold: int, neighbours: int = 0
              ) -> tuple[int, bytes, dict[int, bytes]]:
        """Store the districts' encryption keys, the threshold and the mask graph (``neighbours``
        per district, 0: all); deal the first bundle among this district's neighbourhood."""
        if "esk" not in self.state:
            raise FederatedError("secure aggregation: key set-up before the encryption key was made")
        if "t" in self.state:
            raise RefusedRequest("secure aggregation: the run's keys are already set up")
        n = len(neighbourhood(list(enc_publics), int(neighbours), self.node_id))
        if enc_publics.get(self.node_id) != self._enc().public_bytes:
            raise RefusedRequest("secure aggregation: the key list does not hold this district's own key")
        if not 2 * threshold > n or threshold < 2:
            raise RefusedRequest(f"secure aggregation: threshold {threshold} for {n} districts; it must be at "
                                 "least 2 and more than half of them, otherwise the server could collect both "
                                 "shares of one district")
        self.state["t"] = int(threshold)
        self.state["k"] = int(neighbours)
        for pid, pub in enc_publics.items():
            if len(pub) != 32:
                raise FederatedError("secure aggregation: a public key does not have 32 bytes")
            self.state[f"epk|{int(pid)}"] = bytes(pub)
        return self._deal(0, sorted(self.hood))

    @property
    def threshold(self) -> int:
        return int(self.state["t"])

    @property
    def ids(self) -> list[int]:
        """Every district of the run's key set-up."""
        return sorted(int(k.split("|", 1)[1]) for k in self.state if k.startswith("epk|"))

    @property
    def hood(self) -> set[int]:
        """This district and its neighbours in the mask graph (fixed at set-up)."""
        return neighbourhood(self.ids, int(self.state.get("k", 0)), self.node_id)

    @property
    def index(self) -> int:
        return int(self.state["index"])

    @property
    def mask_public(self) -> bytes:
        return mask_keypair(bytes(self.state["csk"])).public_bytes

    def _enc(self) -> KeyPair:
        return KeyPair(bytes(self.state["esk"]))

    def _share_key(self, pid: int) -> bytes:
        """The AES key for shares between this district and ``pid``, derived once per run and kept in
        the state (``ek|pid``): the encryption keys it comes from are fixed for the run."""
        key = self.state.get(f"ek|{int(pid)}")
        if key is None:
            key = share_key(self._enc(), self._epk(pid))
            self.state[f"ek|{int(pid)}"] = key
        return bytes(key)

    def _epk(self, pid: int) -> bytes:
        pub = self.state.get(f"epk|{int(pid)}")
        if pub is None:
            raise RefusedRequest(f"secure aggregation: node {pid} was not part of this run's key set-up")
        return bytes(pub)

    def _deal(self, index: int, recipients: list[int]) -> tuple[int, bytes, dict[int, bytes]]:
        """Make bundle ``index`` (mask key pair + self-mask seed), Shamir-share both secrets among
        ``recipients`` (this district included) and encrypt each recipient's shares to it."""
        t = self.threshold
        if len(recipients) < t:
            raise RefusedRequest(f"secure aggregation: {len(recipients)} district(s) left, fewer than the "
                                 f"threshold {t}")
        mask_seed, seed = os.urandom(SECRET_LEN), os.urandom(SECRET_LEN)
        b_shares = create_shares(seed, t, len(recipients))
        c_shares = create_shares(mask_seed, t, len(recipients))
        sealed = {r: seal(self._share_key(r), b"", b_shares[j] + c_shares[j], _aad(self.node_id, r, index))
                  for j, r in enumerate(recipients)}
        self.state.update({"index": int(index), "csk": mask_seed, "b": seed})
        return index, mask_keypair(mask_seed).public_bytes, sealed

    # one release ----------------------------------------------------------------------------------
    def mask(self, q: np.ndarray, mask_publics: dict[int, bytes], context: str
             ) -> tuple[np.ndarray, tuple[int, bytes, dict[int, bytes]]]:
        """Double-mask ``q`` with the current bundle, then deal the next bundle among the same districts.

        Returns the masked vector and ``(next index, next mask public key, sealed shares per recipient)``.
        """
        if "csk" not in self.state:
            raise FederatedError("secure aggregation: this district has no key for the run (keys round missing)")
        if mask_publics.get(self.node_id) != self.mask_public:
            raise RefusedRequest("secure aggregation: the server's key list does not hold this district's "
                                 "current mask key")
        for p in mask_publics:
            self._epk(int(p))
        hood = self.hood
        peers = sorted(int(p) for p in mask_publics if int(p) in hood)
        if len(peers) < self.threshold:
            raise RefusedRequest(f"secure aggregation: asked to mask among {len(peers)} district(s), fewer than "
                                 f"the threshold {self.threshold}")
        q = np.asarray(q, dtype=np.uint64).ravel()
        own = mask_keypair(bytes(self.state["csk"]))
        with np.errstate(over="ignore"):
            y = _signed_masks(own, self.node_id, {p: mask_publics[p] for p in peers}, context, q.size)
            y += q
            y += self_mask(bytes(self.state["b"]), q.size)
        nxt = self._deal(self.index + 1, peers)  # the used bundle is gone from the state
        return y, nxt

    def reveal(self, survivors: list[int], dropped: list[int], sealed: dict[int, tuple[int, bytes]]
               ) -> tuple[dict[int, bytes], dict[int, bytes]]:
        """Shares for the server: self-mask seed shares of ``survivors``, mask-key shares of ``dropped``.

        ``sealed[p] = (bundle index, ciphertext from p to this district)``. Refuses (and reveals
        nothing) when the request is inconsistent or would give the server both shares of one bundle.
        """
        surv, drop = {int(p) for p in survivors}, {int(p) for p in dropped}
        if surv & drop:
            raise RefusedRequest("secure aggregation: a district is listed both as answered and as dropped")
        if self.node_id not in surv:
            raise RefusedRequest("secure aggregation: asked to help unmask a release this district is said to "
                                 "have missed")
        hood = self.hood
        if len(surv & hood) < self.threshold:
            raise RefusedRequest(f"secure aggregation: only {len(surv & hood)} district(s) of this one's "
                                 f"neighbourhood said to have answered, fewer than the threshold {self.threshold}; "
                                 "nothing is revealed")
        if not connected(sorted(surv), self.ids, int(self.state.get("k", 0))):
            raise RefusedRequest("secure aggregation: the districts said to have answered fall apart into groups "
                                 "whose own sums would show; nothing is revealed")
        plan: list[tuple[int, int, str, bytes]] = []
        for p in sorted(surv | drop):
            if p not in sealed or p not in hood:
                continue
            index, ct = sealed[p]
            if int(index) < 0:
                raise RefusedRequest("secure aggregation: a bundle index is negative")
            kind = "b" if p in surv else "sk"
            before = {"b": "b", "s": "sk"}.get(str(self.state.get(f"rev|{p}", ""))[int(index):int(index) + 1])
            if before is not None and before != kind:
                raise RefusedRequest(f"secure aggregation: refused — node {p}'s {'seed' if before == 'b' else 'key'} "
                                     f"share of bundle {index} was already revealed; revealing its "
                                     f"{'seed' if kind == 'b' else 'key'} share too would unmask its vector")
            if len(ct) != _SEALED_LEN:
                raise RefusedRequest("secure aggregation: an encrypted share has the wrong length")
            plain = unseal(self._share_key(p), b"", bytes(ct), _aad(p, self.node_id, int(index)))
            plan.append((p, int(index), kind, plain[:SHARE_LEN] if kind == "b" else plain[SHARE_LEN:]))
        b_out, sk_out = {}, {}
        for p, index, kind, share in plan:
            seen = str(self.state.get(f"rev|{p}", "")).ljust(index + 1, "-")
            self.state[f"rev|{p}"] = seen[:index] + kind[0] + seen[index + 1:]
            (b_out if kind == "b" else sk_out)[p] = share
        return b_out, sk_out


def unmask_double(masked: list[np.ndarray], context: str, seeds: dict[int, bytes], dropped_keys: dict[int, bytes],
                  mask_publics: dict[int, bytes], hoods: dict[int, set[int]] | None = None) -> np.ndarray:
    """Server side: sum of the survivors' masked vectors minus their self masks (``seeds``, rebuilt
    from b-shares) and minus the pairwise masks they shared with dropped districts (whose mask-key
    seeds ``dropped_keys`` were rebuilt from key shares). ``mask_publics``: survivors' keys;
    ``hoods``: each dropped district's neighbourhood in the mask graph (default: everybody)."""
    total = unmask_sum(masked)
    n = total.size
    with np.errstate(over="ignore"):
        for seed in seeds.values():
            total -= self_mask(seed, n)
        for d, sk in dropped_keys.items():
            # survivor s added +m (s < d) or -m (s > d) for d: the negative of d's own signed masks
            near = {s: pk for s, pk in mask_publics.items() if s != d and (hoods is None or s in hoods[d])}
            total += _signed_masks(mask_keypair(sk), d, near, context, n)
    return total
