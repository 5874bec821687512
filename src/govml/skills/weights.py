"""Weights from data or judgement: entropy weight method (熵权法), AHP, and a TOPSIS ranking.

All three are the textbook forms used in Chinese evaluation practice:

* **Entropy weights** — columns min-max normalised (direction-aware), ``p_ij = x_ij / Σ_i x_ij``,
  entropy ``e_j = -(1/ln n) Σ_i p_ij ln p_ij`` (``0 ln 0 = 0``), weight ``(1 - e_j) / Σ (1 - e_k)``.
  An indicator that varies more across workers carries more information and gets more weight.
* **AHP** — weights are the principal eigenvector of a reciprocal pairwise-comparison matrix
  (Saaty 1–9 scale); ``CI = (λmax - n) / (n - 1)``, ``CR = CI / RI(n)`` with Saaty's random
  index; matrices with ``CR > 0.1`` are refused (:class:`ConfigError` showing CR).
* **TOPSIS** — vector-normalised, weighted matrix; distances to the ideal and anti-ideal
  alternative; closeness ``C = d⁻ / (d⁺ + d⁻)`` (1 = best), ranked descending.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from govml.errors import ConfigError, DataError

# Saaty's random consistency index RI(n), n = 1..15.
SAATY_RI = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49,
            11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59}
CR_LIMIT = 0.1


def _directions(columns: Sequence[str], directions: Mapping[str, str] | None) -> np.ndarray:
    d = directions or {}
    bad = {k: v for k, v in d.items() if v not in ("higher", "lower")}
    if bad:
        raise ConfigError(f"directions must be 'higher' or 'lower', got {bad}")
    return np.array([d.get(c, "higher") == "higher" for c in columns])


def entropy_weights(data: pd.DataFrame, directions: Mapping[str, str] | None = None) -> pd.Series:
    """Entropy weights of the columns of ``data`` (rows = workers, columns = indicators).

    Rows with any missing value are left out (entropy needs complete rows). A constant column
    carries no information and gets weight 0.
    """
    X = data.dropna(how="any")
    if len(X) < 2:
        raise DataError(message=f"entropy weights need at least 2 complete rows, found {len(X)}")
    v = X.to_numpy(dtype=float)
    higher = _directions(list(X.columns), directions)
    lo, hi = v.min(axis=0), v.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    norm = np.where(higher, (v - lo) / span, (hi - v) / span)
    col_sum = norm.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(col_sum > 0, norm / np.where(col_sum > 0, col_sum, 1.0), 0.0)
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = -plogp.sum(axis=0) / np.log(len(v))
    e = np.where(col_sum > 0, e, 1.0)  # constant column: no information
    d = 1.0 - e
    if d.sum() <= 0:
        raise DataError(message="entropy weights: every column is constant; no information to weigh")
    return pd.Series(d / d.sum(), index=X.columns, name="entropy_weight")


@dataclass(frozen=True)
class AhpResult:
    weights: np.ndarray
    lambda_max: float
    ci: float
    cr: float


def ahp_weights(matrix: np.ndarray | Sequence[Sequence[float]], *, cr_limit: float = CR_LIMIT) -> AhpResult:
    """Principal-eigenvector weights of a reciprocal pairwise comparison matrix, with CI and CR.

    Raises :class:`ConfigError` when the matrix is not square, positive and reciprocal, or when
    its consistency ratio exceeds ``cr_limit`` (0.1 by default).
    """
    A = np.asarray(matrix, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] < 1:
        raise ConfigError(f"AHP matrix must be square, got shape {A.shape}")
    n = A.shape[0]
    if n > max(SAATY_RI):
        raise ConfigError(f"AHP matrix has {n} rows; Saaty's RI is tabulated up to {max(SAATY_RI)}")
    if not np.all(np.isfinite(A)) or np.any(A <= 0):
        raise ConfigError("AHP matrix entries must be positive numbers")
    if not np.allclose(A * A.T, 1.0, rtol=1e-2):
        i, j = np.argwhere(~np.isclose(A * A.T, 1.0, rtol=1e-2))[0]
        raise ConfigError(f"AHP matrix is not reciprocal: a[{i}][{j}] = {A[i, j]:g} but a[{j}][{i}] = {A[j, i]:g} "
                          f"(expected {1 / A[i, j]:.4g})")
    vals, vecs = np.linalg.eig(A)
    k = int(np.argmax(vals.real))
    lam = float(vals[k].real)
    w = np.abs(vecs[:, k].real)
    w = w / w.sum()
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ri = SAATY_RI[n]
    cr = ci / ri if ri > 0 else 0.0
    if cr > cr_limit:
        raise ConfigError(f"AHP matrix is too inconsistent: consistency ratio CR = {cr:.3f} > {cr_limit} "
                          f"(λmax = {lam:.3f}, CI = {ci:.3f}, RI = {ri}); revise the pairwise judgements")
    return AhpResult(weights=w, lambda_max=lam, ci=float(ci), cr=float(cr))


def topsis(
    data: pd.DataFrame,
    weights: Mapping[str, float] | pd.Series | None = None,
    directions: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """TOPSIS closeness and rank of each row (alternative) of ``data`` (columns = criteria).

    Returns a DataFrame indexed like ``data`` with ``d_best``, ``d_worst``, ``closeness`` (0..1,
    higher is better) and ``rank`` (1 = best). Rows with missing values are left out.
    """
    X = data.dropna(how="any")
    if X.empty:
        raise DataError(message="TOPSIS needs at least one complete row")
    cols = list(X.columns)
    w = np.ones(len(cols)) if weights is None else np.array([float(pd.Series(weights)[c]) for c in cols])
    if np.any(w < 0) or w.sum() <= 0:
        raise ConfigError("TOPSIS weights must be non-negative and not all zero")
    w = w / w.sum()
    v = X.to_numpy(dtype=float)
    norms = np.sqrt((v ** 2).sum(axis=0))
    r = v / np.where(norms > 0, norms, 1.0)
    vw = r * w
    higher = _directions(cols, directions)
    best = np.where(higher, vw.max(axis=0), vw.min(axis=0))
    worst = np.where(higher, vw.min(axis=0), vw.max(axis=0))
    d_best = np.sqrt(((vw - best) ** 2).sum(axis=1))
    d_worst = np.sqrt(((vw - worst) ** 2).sum(axis=1))
    denom = d_best + d_worst
    closeness = np.where(denom > 0, d_worst / np.where(denom > 0, denom, 1.0), 1.0)
    out = pd.DataFrame({"d_best": d_best, "d_worst": d_worst, "closeness": closeness}, index=X.index)
    out["rank"] = out["closeness"].rank(ascending=False, method="min").astype(int)
    return out
