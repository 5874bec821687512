"""Which indicators drive low composite scores across the workforce (LightGBM + SHAP contributions).

A LightGBM regressor learns the composite from the indicators' 0–100 scores (missing values stay
missing — LightGBM routes them itself); ``predict(pred_contrib=True)`` gives exact TreeSHAP
contributions per worker-period and indicator. Reported per indicator: the mean absolute
contribution over everyone, and the mean contribution among low composites (below the card
threshold, or the lowest decile when none is) — negative values are what pulls low scorers down.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from govml.errors import DataError, ModelError
from govml.skills.indicators import IndicatorSystem

log = logging.getLogger(__name__)


def workforce_drivers(indicator_scores: pd.DataFrame, composite: pd.Series, system: IndicatorSystem, *,
                      low_threshold: float | None = None, n_estimators: int = 200, seed: int = 0,
                      n_jobs: int = 1) -> pd.DataFrame:
    """Rank indicators by their SHAP contribution to the composite.

    ``n_jobs``: LightGBM threads. One by default (as the hotspot forecaster): a few hundred worker-periods gain
    nothing from threads, and on a busy machine two OpenMP threads spin at every boosting round (session 9: the
    demo's skills step took 124.7 s with 2 threads at load 3.5, 4.7 s with 1).

    ``indicator_scores``: 0–100 scores (``IndicatorNormaliser.transform``), rows aligned with
    ``composite``. Returns ``indicator, name, dimension, mean_abs_contribution,
    mean_contribution_low, share`` sorted by ``mean_contribution_low`` (most negative first).
    """
    import lightgbm as lgb

    composite = _aligned(indicator_scores, composite)
    ok = composite.notna().to_numpy()
    X = indicator_scores.loc[ok, system.indicator_ids].astype(float)
    y = composite.to_numpy(dtype=float)[ok]
    # the rows in one order, by their values (LightGBM's row subsampling draws by position): the same worker-periods
    # in another order give the same drivers (session 15)
    order = np.lexsort([X[c].to_numpy() for c in reversed(system.indicator_ids)] + [y])
    X, y = X.iloc[order], y[order]
    if len(y) < 20:
        raise ModelError(f"driver analysis needs at least 20 scored worker-periods, found {len(y)}")
    thr = system.cards.threshold if low_threshold is None else low_threshold
    low = y < thr
    if low.sum() < 5:
        low = y <= np.quantile(y, 0.1)
    model = lgb.LGBMRegressor(n_estimators=n_estimators, learning_rate=0.05, num_leaves=15, min_child_samples=10,
                              subsample=0.8, subsample_freq=1, colsample_bytree=0.9, random_state=seed,
                              n_jobs=n_jobs, verbose=-1, deterministic=True, force_row_wise=True)
    model.fit(X, y)
    contrib = model.predict(X, pred_contrib=True)[:, :-1]  # last column is the expected value
    mean_abs = np.abs(contrib).mean(axis=0)
    names = system.names()
    dim = {i.id: i.dimension for i in system.indicators}
    out = pd.DataFrame({
        "indicator": system.indicator_ids,
        "name": [names[i] for i in system.indicator_ids],
        "dimension": [names[dim[i]] for i in system.indicator_ids],
        "mean_abs_contribution": mean_abs,
        "mean_contribution_low": contrib[low].mean(axis=0),
    })
    out["share"] = out["mean_abs_contribution"] / max(out["mean_abs_contribution"].sum(), 1e-12)
    out.attrs["n_low"] = int(low.sum())
    out.attrs["r2_train"] = float(model.score(X, y))
    return out.sort_values("mean_contribution_low").reset_index(drop=True)


def _aligned(indicator_scores: pd.DataFrame, composite: pd.Series) -> pd.Series:
    """``composite`` in the row order of ``indicator_scores``. By index label when both indexes are unique and the
    composite's labels are all among the scores' (the composites re-sorted — ``scores.sort_values("composite")`` —
    or kept for one period only: read by position, each worker would get another's composite; rows without a
    composite are left out); else by position when the lengths agree (an index reset on one side;
    :func:`~govml.skills.score_assessments` keeps ``data``'s labels since session 15 — it reset them before, and a
    ``data`` not sorted by worker and period was then paired with other workers' composites). Other lengths:
    :class:`DataError`."""
    if not isinstance(composite, pd.Series):
        composite = pd.Series(np.asarray(composite, dtype=float))
    a, b = indicator_scores.index, composite.index
    if b.equals(a):
        return composite
    if a.is_unique and b.is_unique and b.isin(a).all():
        return composite.reindex(a)
    if len(a) != len(b):
        raise DataError(message=f"workforce_drivers: composite has {len(b)} row(s), indicator_scores {len(a)}; "
                                "expected one composite per row of indicator_scores (the same worker-periods, "
                                "or a subset of its index labels)")
    return pd.Series(composite.to_numpy(), index=a, name=composite.name)
