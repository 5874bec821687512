"""0–100 indicator scores, dimension sub-scores, composites and red/yellow cards.

* :class:`IndicatorNormaliser` (scikit-learn transformer) turns raw indicator values into 0–100
  scores where higher is always better (see ``configs/indicators.yaml`` for the three methods);
  ``fit`` learns only what z-scores need (mean and standard deviation per indicator).
* :func:`score_assessments` computes, per worker and period, each dimension's score (weighted mean
  of the indicators present, weights renormalised — a missing value is never a zero), the composite
  (dimension-weighted, blended with ``resident_rating`` when present) and the cards.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from govml._compat import FillsMissingParams
from govml.errors import ModelError
from govml.skills.indicators import IndicatorSystem

log = logging.getLogger(__name__)

CARD_NONE, CARD_YELLOW, CARD_RED = "none", "yellow", "red"


class IndicatorNormaliser(FillsMissingParams, TransformerMixin, BaseEstimator):
    """Raw indicator values (wide table) → 0–100 scores, higher is better.

    Parameters
    ----------
    system : IndicatorSystem
        The indicator system (normalisation, direction, range and targets per indicator).

    Attributes
    ----------
    mean_, std_ : dict[str, float]
        Mean and standard deviation of each z-score indicator in the data seen by ``fit``.
    """

    _required_learned = ("std_",)  # learned attributes (govml._compat); mean_ marks it fitted

    def __init__(self, system: IndicatorSystem):
        self.system = system

    def fit(self, X: pd.DataFrame, y: object = None) -> IndicatorNormaliser:
        self.mean_: dict[str, float] = {}
        self.std_: dict[str, float] = {}
        for ind in self.system.indicators:
            if ind.normalisation == "zscore":
                v = pd.to_numeric(X[ind.id], errors="coerce") if ind.id in X.columns else pd.Series(dtype=float)
                v = v.dropna()
                self.mean_[ind.id] = float(v.mean()) if len(v) else float(np.mean(ind.range))
                self.std_[ind.id] = float(v.std(ddof=0)) if len(v) > 1 else 0.0
        self.n_features_in_ = len(self.system.indicators)
        return self

    def _check(self) -> None:
        if not hasattr(self, "mean_"):
            raise ModelError("IndicatorNormaliser is not fitted: call fit() first")

    def scale(self, indicator_id: str, values: np.ndarray | pd.Series, area_type: np.ndarray | pd.Series) -> np.ndarray:
        """Score (0–100) of raw ``values`` of one indicator; ``area_type`` aligned with ``values``."""
        self._check()
        ind = self.system.indicator(indicator_id)
        x = np.asarray(values, dtype=float)
        higher = ind.direction == "higher"
        if ind.normalisation == "minmax":
            lo, hi = ind.range
            s = (x - lo) / (hi - lo) if higher else (hi - x) / (hi - lo)
            s = 100.0 * s
        elif ind.normalisation == "zscore":
            mu, sd = self.mean_[ind.id], self.std_[ind.id]
            z = (x - mu) / sd if sd > 0 else np.zeros_like(x)
            s = 50.0 + 10.0 * (z if higher else -z)
        else:  # target
            t = self.targets(indicator_id, area_type)
            with np.errstate(divide="ignore", invalid="ignore"):
                s = 100.0 * (x / t if higher else np.where(x > 0, t / np.where(x > 0, x, 1.0), 1.0))
        return np.clip(s, 0.0, 100.0)

    def targets(self, indicator_id: str, area_type: np.ndarray | pd.Series) -> np.ndarray:
        """Raw target of an indicator for each area type given."""
        ind = self.system.indicator(indicator_id)
        table = {a: ind.target_for(a) for a in self.system.area_types}
        return pd.Series(np.asarray(area_type, dtype=object)).map(table).to_numpy(dtype=float)

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Indicator scores (columns = indicator ids) with ``X``'s index; missing stays missing."""
        self._check()
        area = X["area_type"] if "area_type" in X.columns else pd.Series(self.system.default_area_type, index=X.index)
        out = {}
        for ind in self.system.indicators:
            col = X[ind.id] if ind.id in X.columns else pd.Series(np.nan, index=X.index)
            out[ind.id] = self.scale(ind.id, col.to_numpy(dtype=float), area.to_numpy(dtype=object))
        return pd.DataFrame(out, index=X.index)


def weight_matrix(system: IndicatorSystem, area_type: pd.Series) -> pd.DataFrame:
    """Per-row overall indicator weights (rows aligned with ``area_type``)."""
    table = pd.DataFrame({a: system.overall_weights(a) for a in system.area_types}).T
    return table.loc[area_type.to_numpy(dtype=object)].set_axis(area_type.index)


def score_assessments(data: pd.DataFrame, system: IndicatorSystem,
                      normaliser: IndicatorNormaliser | None = None) -> pd.DataFrame:
    """Composite, dimension scores and cards per worker and period.

    ``data`` is the canonical wide table (:func:`govml.skills.assessments.prepare_assessments`).
    Returns ``worker_id, community, district, area_type, period, composite, <dimension ids>,
    indicator_composite, resident_rating, n_missing, missing_indicators, card, card_reason`` sorted
    by worker and period, each row keeping the index label of its row of ``data`` (join the scores back to
    ``data``, or hand ``scores["composite"]`` to :func:`~govml.skills.workforce_drivers` with
    ``normaliser.transform(data)``, by label whatever the order of ``data``'s rows; before session 15 the index was
    reset, so a frame not sorted by worker and period was paired with other workers' composites by label).
    ``composite`` is empty (NaN) when more than ``missing.max_missing_share`` of the indicator weight is missing.
    """
    if normaliser is None:
        normaliser = IndicatorNormaliser(system).fit(data)
    S = normaliser.transform(data)
    area = data["area_type"] if "area_type" in data.columns else pd.Series(system.default_area_type, index=data.index)
    W = weight_matrix(system, area)[S.columns]
    present = S.notna()
    dims = system.dimension_ids
    dim_of = {i.id: i.dimension for i in system.indicators}
    out = data[[c for c in ("worker_id", "community", "district", "area_type", "period") if c in data.columns]].copy()
    dim_w = pd.DataFrame({a: system.dimension_weights(a) for a in system.area_types}).T.loc[
        area.to_numpy(dtype=object)].set_axis(data.index)
    num = pd.Series(0.0, index=data.index)
    den = pd.Series(0.0, index=data.index)
    for d in dims:
        cols = [c for c in S.columns if dim_of[c] == d]
        w = W[cols].where(present[cols], 0.0)
        wsum = w.sum(axis=1)
        score = (S[cols].fillna(0.0) * w).sum(axis=1) / wsum.where(wsum > 0)
        out[d] = score
        ok = score.notna()
        num += (score.fillna(0.0) * dim_w[d]).where(ok, 0.0)
        den += dim_w[d].where(ok, 0.0)
    indicator_composite = num / den.where(den > 0)
    missing_share = W.where(~present, 0.0).sum(axis=1)
    too_much = missing_share > system.missing.max_missing_share + 1e-12
    indicator_composite = indicator_composite.where(~too_much)
    out["indicator_composite"] = indicator_composite
    rw = system.resident_rating.weight
    if "resident_rating" in data.columns and rw > 0:
        rr = data["resident_rating"].astype(float)
        out["resident_rating"] = rr
        out["composite"] = np.where(rr.notna(), (1 - rw) * indicator_composite + rw * rr, indicator_composite)
    else:
        out["resident_rating"] = np.nan
        out["composite"] = indicator_composite
    out["n_missing"] = (~present).sum(axis=1).astype(int)
    names = np.array(S.columns, dtype=object)
    out["missing_indicators"] = [";".join(names[~row]) for row in present.to_numpy()]
    out["insufficient_data"] = too_much.to_numpy()
    out = out.sort_values(["worker_id", "period"], kind="stable")  # labels kept: they name data's rows
    out = assign_cards(out, system)
    order = ["worker_id", "community", "district", "area_type", "period", "composite", *dims,
             "indicator_composite", "resident_rating", "n_missing", "missing_indicators", "insufficient_data",
             "card", "card_reason"]
    return out[[c for c in order if c in out.columns]]


def assign_cards(scores: pd.DataFrame, system: IndicatorSystem) -> pd.DataFrame:
    """Red/yellow cards per worker and period from ``cards:`` in the configuration.

    Within the worker's last ``window`` assessments up to and including the period, the composites
    below ``threshold`` are counted: ``>= red`` → ``red``, ``>= yellow`` → ``yellow``, else ``none``.
    ``card_reason`` names the assessments that triggered the card (period and composite). Returns ``scores``
    sorted by worker and period with two more columns, index labels kept (``scores`` itself is not changed).
    """
    rule = system.cards
    scores = scores.sort_values(["worker_id", "period"], kind="stable")
    cards: list[str] = []
    reasons: list[str] = []
    for _, g in scores.groupby("worker_id", sort=False):
        periods = g["period"].tolist()
        comp = g["composite"].tolist()
        insuff = g["insufficient_data"].tolist() if "insufficient_data" in g else [False] * len(g)
        for k in range(len(g)):
            lo = max(0, k - rule.window + 1)
            below = [(periods[j], comp[j]) for j in range(lo, k + 1)
                     if comp[j] == comp[j] and comp[j] < rule.threshold]
            n = len(below)
            card = CARD_RED if n >= rule.red else CARD_YELLOW if n >= rule.yellow else CARD_NONE
            reason = "；".join(f"{p} 综合得分 {c:.1f} < {rule.threshold:g}" for p, c in below)
            if insuff[k]:
                reason = (reason + "；" if reason else "") + f"{periods[k]} 缺失指标过多，未计综合得分"
            cards.append(card)
            reasons.append(reason)
    scores["card"] = cards
    scores["card_reason"] = reasons
    return scores
