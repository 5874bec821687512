"""One global LightGBM forecaster over all area × category series, with intervals and p_hotspot.

``HotspotForecaster(...).fit(panel).predict(horizon)`` forecasts every series ``1..horizon``
periods after the panel's last period.

* **Model.** One LightGBM over all series (count objective: Poisson by default, or Tweedie); area,
  category and district are categorical features. ``strategy="direct"`` trains one model per
  horizon ``h`` on (features at origin ``o``, count at ``o + h``); ``strategy="recursive"``
  trains the one-step model and feeds its forecasts back as observations; ``strategy="combined"``
  averages the two (``combine_weight``: the direct forecast's weight, 0.5, or ``"auto"``: chosen
  per horizon on the calibration holdout), the recursion reusing the direct one-step model.
* **Boosting from the level.** Each tree ensemble starts from ``log(level + 0.05)`` (LightGBM
  ``init_score``) and learns a multiplicative correction to it; ``offset_window=None`` boosts from
  a constant. With ``offset_window="auto"`` (default) the level is a convex combination of the
  means over the last 4, 8, 13, 26 and 52 periods, over every period so far, and two top-down
  candidates (the series' share of its category × the category's recent mean;
  :data:`LEVEL_WINDOWS`), the weights chosen on the panel's own past by
  :func:`choose_level_weights` (squared error of those means as forecasts at its last 26 origins,
  horizons ``1..horizon``): a short window where the level moves, the long mean where it does
  not. ``level_windows`` replaces the candidate set (e.g. adding the robust ``"med_8"`` /
  ``"trim_13"``: a window's median / its mean without the largest value). An int or tuple
  ``offset_window`` gives fixed windows with equal weights (``(4, 13)`` was the default before).
  Every forecast is capped at ``2 × the series' largest count so far + 1`` so that a correction
  learned on near-empty series cannot run away on a busy one. Options tried in round 4 and left off
  (docs/hotspots.md §7): the candidates ``"ewm_a"`` (exponential smoothing) and ``"tsb_a"``
  (Teunter–Syntetos–Babai, intermittent counts); ``level_tiers`` (weights per volume tier of series,
  :func:`volume_tiers`; ``describe()`` then gives their mean over series); ``level_features``
  (candidates as tree features ``lvl_<name>``); ``recency_halflife`` (training rows weighted by
  recency); ``n_bags`` (the final trees averaged over seeds). Session 8's options for the weight
  choice: ``level_halflife`` (the inner origins' squared errors weighted ``0.5 ** (age / halflife)``)
  and ``level_shrink`` (a share of the weight moved to equal weights; ``"auto"``: Stock & Watson's
  share from the numbers of candidates and inner origins, :func:`level_shrink_share`;
  ``level_shrink_prior="recent"``: toward equal weights on the candidates with a window of at most 13
  periods instead of all).
  Session 9's option ``level_break`` (``"down"``, ``"up"``, ``"both"``; None: off): where the last
  2–13 periods all lie beyond the range of the 13 before them, on one side, and their total is unlikely
  under that earlier level (negative binomial, p < 1e-4; a run over an official holiday is none), the level
  is the mean since that break (:func:`level_breaks`) — a series in its seasonal stop (street sweeping in
  winter) is forecast at its new level, not at the weighted window means that still hold the old one.
  ``untested_trees="none"`` (default since session 9; ``"all"`` before): a panel too short for the inner holdout (fewer
  than ``2 × horizon + calibration_origins + 4`` periods, e.g. a year of months) is forecast by the level
  alone instead of all ``n_estimators`` trees that no holdout chose (docs/hotspots.md §7, session 9).
* **How many trees.** With ``select_trees=True`` (default; calibration on) the
  calibration models' staged forecasts on the inner holdout pick the number of trees
  (0, 10, …, ``n_estimators``; 0 = the level alone) by RMSE/RMSE_level + MAE/MAE_level, taking the
  fewest trees within 0.01 of the best score; the final models are fitted with that many trees
  (``n_trees_``; ``tree_choice="per_horizon"``: one number per direct model,
  ``n_trees_by_horizon_``). The recursive strategy scores its one-step model's fed-back forecasts
  at every tree count the same way. The calibration models watch L2 and L1 on that holdout while they are trained
  and stop once either has not improved for ``early_stop`` (50) trees (``None``: all trees).
  ``tree_gate="horizon1"`` (default since session 20; ``None``: off) trains the horizon-1 calibration model first and
  scores its tree counts on its own holdout rows by the same rule — once when its holdout L2 or L1 has first stalled
  for 20 trees (stopping its training there when no tree is kept), and again at its ``early_stop``; when that keeps no
  tree, the other horizons' calibration models are not trained and no tree is kept (``tree_gate_fired_``). Where the
  gate does not fire the  forecasts are those of the full run, bit for bit; where it fires they differ only if the full run's pooled choice
  would have kept trees that horizon 1 alone does not want (1 of 64 benchmark origins, docs/hotspots.md §7).
* **Holidays** (``holidays="auto"``, default). The level's forecast of a period is multiplied by
  that period's holiday factor, ``1 + b_sf · (Spring Festival days) + b_hol · (other official
  holiday days)`` as shares of the period's days (from ``chinesecalendar``), the ``b`` estimated
  pooled on the panel's own past and shrunk toward 0 by their standard error
  (:func:`~govml.hotspot.holidays.estimate_holiday_factors`, ``holiday_factors_``): all 1 — nothing
  changes — when the panel holds no holiday or shows no clear effect (Boston 311). ``"fill"`` /
  ``"divide"`` also adjust the past holiday periods before the level's windows; ``None`` turns it off.
* **Data start.** ``fit`` leaves out the panel's leading periods that hold almost no events
  (:func:`data_start`): zeros from before data collection began are not observations, and the
  direct models would learn the jump out of them as a period-of-year effect.
* **Point forecast.** ``yhat_mean`` is the predicted conditional *mean* (what the Poisson objective
  estimates; use it for sums and rankings). ``yhat`` (``point="auto"``, default) is the mean moved
  toward the predictive median, ``(1 - w) * mean + w * median`` of a negative binomial with that
  mean and the holdout dispersion, ``w`` in 0, 0.1, …, 0.9 chosen per horizon on the calibration
  holdout: the lowest holdout MAE among the weights that cost at most ``point_rmse_tolerance``
  (0.5%) of the mean's holdout RMSE, and 0 unless it lowers the MAE by 0.2%
  (:func:`choose_point_weight`). ``w < 1`` keeps ``yhat`` strictly increasing in the mean, so the
  ranking of cells is the mean's. ``point="mean"``: ``yhat`` is the mean. ``point_rule="shift"``
  (session 11, an option): each cell's point minimises ``E|Y - p| + (p - mean)^2 / (2 s)`` under the same
  negative binomial (:func:`point_shift_forecast`), one scale ``s`` per horizon chosen by the same holdout
  test (:func:`choose_point_shift`): far more MAE per unit of squared shift when the predictive distribution
  is right, but out of sample it lost RMSE on most benchmark panels — the mix also pulls the busiest cells
  down, which their over-forecast means needed (docs/benchmarks.md, "Session 11"). With ``blend="auto"``
  (off by default: it did worse on Boston 311) the mean is first blended with the 4- or 13-period
  mean, the weight chosen per horizon on the calibration holdout to minimise RMSE/RMSE_ref +
  MAE/MAE_ref. See docs/hotspots.md.
* **Calibration.** Before the final fit, the same model is fitted on data that ends
  ``calibration_origins + horizon`` periods earlier and forecasts the last ``calibration_origins``
  origins (a small rolling-origin backtest inside ``fit``). From those out-of-sample forecasts:
  split-conformal intervals on variance-scaled residuals ``(y - yhat) / sqrt(yhat + 0.5)`` per
  horizon; a negative-binomial dispersion (for the point rule); and ``p_hotspot``
  (:class:`HotspotMap`): the negative-binomial ``P(y > threshold)`` with a dispersion per size band of
  the mean (``hotspot_dispersion="banded"``), recalibrated by an intercept and a slope on its logit fitted
  to the holdout's hotspot outcomes with a ridge toward no change (``hotspot_calibration="logistic"``,
  session 10). The isotonic map used before (``"isotonic"``, ``hotspot_dispersion="pooled"``) fitted its
  steps to the few hotspot events of a small holdout: out of sample it was worse than each cell's own past
  exceedance rate on the three smaller benchmark panels (docs/hotspots.md §3).
* **Hotspot threshold.** Per cell: the ``hotspot_quantile`` quantile of its own history (default
  the 90th percentile), at least ``min_hotspot_count``; a hotspot is ``y > threshold``.
  ``hotspot_window`` (periods; None = all history since the data start) takes the quantile over the
  last periods only — on a board that grew several-fold, "above its own 90th percentile" over all
  history holds for nearly every busy cell (``p_hotspot`` ≈ 1).
* **Explanations.** :meth:`explain` gives each forecast's top features from LightGBM's
  ``pred_contrib`` (contributions on the log scale of the Poisson model, relative to the offset
  level when there is one).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from govml._compat import FillsMissingParams
from govml.coverage import thin_lead_in
from govml.errors import ModelError
from govml.hotspot.baselines import forecast_frame
from govml.hotspot.features import FeatureBuilder, FeatureSpec, group_sums
from govml.hotspot.panel import panel_matrix

log = logging.getLogger(__name__)

_SCALE_C = 0.5
#: interval calibration per size of forecast (Mondrian conformal): the residuals of forecasts in each bin of
#: the forecast mean give that bin's quantiles; a bin with fewer than _BIN_MIN residuals borrows those of
#: the bins below it. One pooled set of quantiles lets the many near-zero cells of a sparse panel (whose
#: residuals are ~0) set the interval of every series: on 泰迪杯 area × category weekly no forecast ≥ 0.2
#: was covered (0 of 332) while the pooled coverage read 0.92.
_BIN_EDGES = (0.25, 1.0, 3.0, 10.0, 30.0)
_BIN_MIN = 50
_OFFSET_EPS = 0.05
_CAP_FACTOR = 2.0
_DATA_START_FRAC = 0.1
_TREE_TOLERANCE = 0.01
_EARLY_STOP_ROUNDS = 50  # calibration models stop once holdout L2 or L1 has not improved for this many trees
_GATE_ROUNDS = 20  # tree_gate: horizon 1's model is judged first when its holdout L2 or L1 has stalled this long
POINT_WEIGHTS = tuple(np.round(np.linspace(0.0, 0.9, 10), 2))  # w < 1 keeps yhat strictly increasing in the mean
_POINT_RMSE_TOL = 0.005  # the point rule may cost at most 0.5% of the holdout RMSE
_POINT_MIN_GAIN = 0.002  # ... and must lower the holdout MAE by at least 0.2%
POINT_RULES = ("mix", "shift")  # point_rule: mean–median mix (default) / per-cell Lagrangian shift (session 11)


BLEND_WINDOWS = (4, 13)
LEVEL_WINDOWS_PLAIN: tuple[int | str, ...] = (4, 8, 13, 26, 52, "all", "cat_4", "cat_13")  # the default before
LEVEL_WINDOWS: tuple[int | str, ...] = LEVEL_WINDOWS_PLAIN + ("med_8", "med_13")
LEVEL_ORIGINS = 26
SHARE_SPAN = 52  # "share_w": the series' share of the board's events over this many periods


def _group_share(cs_last: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each series' share of its group's events so far (an equal share while the group has none)."""
    n = int(groups.max()) + 1
    tot = group_sums(cs_last, groups)  # = np.add.at(zeros, groups, cs_last): row order from 0, the same values
    size = np.bincount(groups, minlength=n).astype(float)
    size = size.reshape((n,) + (1,) * (cs_last.ndim - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot[groups] > 0, cs_last / tot[groups], 1.0 / size[groups])


def _robust_window(y: np.ndarray, kind: str, w: int) -> np.ndarray:
    """(S × T) robust window statistic at every column: ``"med"`` the median of the last ``w``
    periods, ``"trim"`` their mean without the largest value (one spike, such as a storm week or a
    bulk report, does not carry into the level); fewer periods at the start."""
    S, T = y.shape
    out = np.zeros((S, T))
    head = min(T, w - 1)
    for t in range(head):  # the first columns: the periods so far
        win = y[:, : t + 1]
        out[:, t] = (np.median(win, axis=1) if kind == "med" else
                     (win.sum(axis=1) - win.max(axis=1)) / t if t > 0 else win[:, 0])
    if T >= w:
        from numpy.lib.stride_tricks import sliding_window_view

        step = max(1, 4_000_000 // (T * w))  # series per chunk: the median copies its windows
        for a in range(0, S, step):
            win = sliding_window_view(y[a: a + step], w, axis=1)  # chunk × (T - w + 1) × w, a view
            out[a: a + step, w - 1:] = (np.median(win, axis=2) if kind == "med" else
                                        (win.sum(axis=2) - win.max(axis=2)) / (w - 1))
    return out


def _robust_last(y: np.ndarray, kind: str, w: int) -> np.ndarray:
    """:func:`_robust_window`'s last column alone (what it gives there, the same arithmetic on the same
    values): the statistic of the last ``w`` periods, or of all of them when there are fewer."""
    T = y.shape[1]
    if T >= w:
        win = y[:, T - w:]
        return np.median(win, axis=1) if kind == "med" else (win.sum(axis=1) - win.max(axis=1)) / (w - 1)
    win = y[:, :T]
    if kind == "med":
        return np.median(win, axis=1)
    return (win.sum(axis=1) - win.max(axis=1)) / (T - 1) if T > 1 else win[:, 0]


def _smooth_kind(w: int | str) -> tuple[str, float] | None:
    """``"ewm_a"`` (exponentially weighted mean, smoothing ``a``) or ``"tsb_a"`` (Teunter–Syntetos–Babai
    intermittent-demand estimate, both smoothings ``a``)."""
    if isinstance(w, str) and (w.startswith("ewm_") or w.startswith("tsb_")):
        kind, a = w.split("_", 1)
        return kind, float(a)
    return None


def _smooth_window(y: np.ndarray, kind: str, a: float) -> np.ndarray:
    """(S × T) exponential-smoothing level at every column, from the columns up to it only.

    ``"ewm"``: simple exponential smoothing in its bias-corrected form (the weights ``(1 - a)^i`` of
    the periods so far, normalised; pandas ``ewm(alpha=a, adjust=True).mean()``), so a short history
    is not pulled toward an arbitrary starting value. ``"tsb"``: the Teunter–Syntetos–Babai method
    for intermittent demand — the probability of a non-zero period and the size of a non-zero count,
    each smoothed the same way (the size only at non-zero periods), forecast = probability × size
    (0 before the first event). Unlike Croston's method the probability also decays through a run of
    zeros, so a series that has gone quiet is forecast down.
    """
    S, T = y.shape
    out = np.zeros((S, T))
    d = 1.0 - a
    num = np.zeros(S)
    den = 0.0
    if kind == "ewm":
        for t in range(T):
            num = y[:, t] + d * num
            den = 1.0 + d * den
            out[:, t] = num / den
        return out
    pnum = np.zeros(S)
    znum = np.zeros(S)
    zden = np.zeros(S)
    for t in range(T):
        nz = y[:, t] > 0
        pnum = nz + d * pnum
        den = 1.0 + d * den
        znum = np.where(nz, y[:, t] + d * znum, znum)
        zden = np.where(nz, 1.0 + d * zden, zden)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, t] = np.where(zden > 0, (pnum / den) * znum / zden, 0.0)
    return out


CAT_TREND_CLIP = (0.5, 2.0)  # "cattr_a_b": the group's a/b-period ratio is clipped to this range


def _cat_trend_kind(w: int | str) -> tuple[int, int] | None:
    """``"cattr_a_b"`` as ``(a, b)`` (a < b); None for any other candidate."""
    if isinstance(w, str) and w.startswith("cattr_"):
        a, b = (int(v) for v in w.split("_")[1:3])
        if not 0 < a < b:
            raise ModelError(f"level candidate {w!r}: needs 0 < a < b")
        return a, b
    return None


def _cat_trend(share: np.ndarray, ma: np.ndarray, mb: np.ndarray) -> np.ndarray:
    """share × the group's a-period mean × (its a-period mean / its b-period mean), the ratio clipped."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(mb > 0, ma / np.where(mb > 0, mb, 1.0), 1.0)
    return share * ma * np.clip(r, *CAT_TREND_CLIP)


def _robust_kind(w: int | str) -> tuple[str, int] | None:
    if isinstance(w, str) and (w.startswith("med_") or w.startswith("trim_")):
        kind, k = w.split("_")
        return kind, int(k)
    return None


def _pooled_kind(w: int | str) -> tuple[str, int, int | str] | None:
    """``"area_w"``, ``"indep_w"``, ``"indepr_w"`` / ``"indepr_w_L"`` (the ratio over the last ``L``
    periods), ``"share_w"`` / ``"share_w_L"`` (the share over the last ``L`` periods, 52 by default), ``"eb_w"`` / ``"eb_w_L"`` (the long rate: ``"all"`` or the mean of the last ``L`` periods),
    ``"ebi_w"`` / ``"ebi_w_L"`` as ``(kind, w, L)``; None for any other candidate."""
    if isinstance(w, str) and w.split("_", 1)[0] in ("area", "indep", "indepr", "eb", "ebi", "share"):
        parts = w.split("_")
        dflt = SHARE_SPAN if parts[0] == "share" else "all"  # share_w: the share over the last 52 periods
        long: int | str = dflt if len(parts) < 3 else "all" if parts[2] == "all" else int(parts[2])
        return parts[0], int(parts[1]), long
    return None


def _inv_dispersion(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Method-of-moments ``1 / α`` per column of a Gamma–Poisson model, pooled over the series (rows):
    counts ``x`` with expectations ``e`` whose true rates are ``e · r``, ``r ~ Gamma(α, α)`` (mean 1), so
    ``E[(x - e)² - x] = e² / α``; ``1/α = max(0, Σ((x - e)² - x)) / Σ e²`` (0: no extra-Poisson spread)."""
    num = np.maximum(((x - e) ** 2 - x).sum(axis=0), 0.0)
    den = (e ** 2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, 0.0)


def _pooled_candidate(w: str, cs: np.ndarray, hi: np.ndarray, cats: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """(S × len(hi)) value of an area / independence / empirical-Bayes candidate at the columns whose
    period counts so far are ``hi`` (``cs``: S × (T + 1) cumulative sums, column 0 all zero), from the
    periods up to each column only (see :func:`level_candidates`)."""
    kind, k, long = _pooled_kind(w)
    lo = np.maximum(hi - k, 0)
    n = np.minimum(hi, k).astype(float)
    x = cs[:, hi] - cs[:, lo]  # each series' events in the window
    so_far = cs[:, hi]
    if kind == "area":
        return _group_share(so_far, areas) * (group_sums(x, areas) / n)[areas]
    if kind == "share":  # the series' share of the board over the last L periods × the board's recent mean
        span = so_far if long == "all" else cs[:, hi] - cs[:, np.maximum(hi - int(long), 0)]
        return _group_share(span, np.zeros(len(span), dtype=np.int64)) * (x.sum(axis=0) / n)
    if kind in ("indep", "indepr"):
        A, C = group_sums(x, areas), group_sums(x, cats)
        N = x.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(N > 0, A[areas] * C[cats] / (N * n), 0.0)
            if kind == "indepr":  # the series' own ratio to the independence model so far (or over the
                # last L periods), shrunk toward 1
                own = so_far if long == "all" else cs[:, hi] - cs[:, np.maximum(hi - int(long), 0)]
                As, Cs, Ns = group_sums(own, areas), group_sums(own, cats), own.sum(axis=0)
                e = np.where(Ns > 0, As[areas] * Cs[cats] / Ns, 0.0)
                inv = _inv_dispersion(own, e)
                out = out * (own * inv + 1.0) / (e * inv + 1.0)  # (x + α) / (e + α), α = 1 / inv
        return out
    # "eb": the window mean shrunk toward the long rate, more for series with fewer expected events;
    # "ebi": toward the independence model (area × category / all) over the long window instead
    span = so_far if long == "all" else cs[:, hi] - cs[:, np.maximum(hi - int(long), 0)]
    nl = hi if long == "all" else np.minimum(hi, int(long))
    if kind == "ebi":
        A, C, N = group_sums(span, areas), group_sums(span, cats), span.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mu = np.where(N > 0, A[areas] * C[cats] / (N * nl), 0.0)
    else:
        mu = span / nl
    e = n * mu
    inv = _inv_dispersion(x, e)
    a = e * inv / (e * inv + 1.0)  # = e / (e + α): the weight of the window's own mean
    return a * x / n + (1.0 - a) * mu


INTRA_FEATURES = ("rate_1", "rate_2", "rate_3", "rate_4", "ratio_1", "ratio_2", "ratio_3", "ratio_4", "slope",
                  "open")
"""``intra_features`` names (session 18): ``rate_k`` — the last ``k`` days' events × days / k; ``ratio_k`` — that
rate + 0.5 over the period's count + 0.5 (rising inside the period: > 1); ``slope`` — the least-squares slope of the
last 7 days' daily counts (events a day, per day); ``open`` — the open-case backlog at the period's end."""


def _is_tail(w: int | str) -> bool:
    return isinstance(w, str) and w.startswith("tail_") and w[5:].isdigit() and int(w[5:]) >= 1


def _intra_matrix(intra: dict[str, np.ndarray] | None, name: str) -> np.ndarray:
    if intra is None or name not in intra:
        raise ModelError(f"the level candidate or feature {name!r} needs information inside the periods: build the "
                         "panel with govml.hotspot.panel.add_intra_period(panel, events) (its tail_k / open_end "
                         "columns)")
    return intra[name]


def intra_columns(windows: tuple[int | str, ...], features: tuple[str, ...]) -> list[str]:
    """The panel columns (:func:`~govml.hotspot.panel.add_intra_period`) that these level candidates and
    ``intra_features`` read."""
    cols: set[str] = set()
    for w in windows:
        if _is_tail(w):
            cols.add(str(w))
    for f in features:
        if f not in INTRA_FEATURES and not (f.startswith(("rate_", "ratio_")) and f.split("_")[1].isdigit()):
            raise ModelError(f"intra_features: unknown feature {f!r}; known: {', '.join(INTRA_FEATURES)}")
        if f == "open":
            cols.add("open_end")
        elif f == "slope":
            cols.update(f"tail_{k}" for k in range(1, 8))
        else:
            cols.add(f"tail_{f.split('_')[1]}")
    return sorted(cols)


INTRA_LEVEL_TAILS: dict[str, tuple[int, ...]] = {"W": (2, 4), "M": (7, 14)}
"""Session 19: the ``tail_k`` level candidates of ``govml hotspots forecast|backtest --intra-period``
(:func:`intra_level_windows`), per period: weeks the last 2 and 4 days (session 18's ``govml_tail24``), months the
last 7 and 14 days — whole weeks, so every month's tail holds each weekday once or twice (the last 2 days of a month
are any two weekdays: a weekend-light series' tail rate would swing with the calendar). Days: none (a day has no
inside)."""


def intra_level_windows(freq: str) -> tuple[int | str, ...]:
    """:data:`LEVEL_WINDOWS` and the ``tail_k`` candidates of :data:`INTRA_LEVEL_TAILS` for ``freq`` (``W``, ``M``);
    a ``ModelError`` for daily periods, which have nothing inside them."""
    tails = INTRA_LEVEL_TAILS.get(str(freq).upper())
    if tails is None:
        raise ModelError(f"a {'day' if str(freq).upper() == 'D' else repr(freq)} period has no days inside it to read "
                         "the last days' rate from: tail_k level candidates need weekly (W) or monthly (M) periods")
    return LEVEL_WINDOWS + tuple(f"tail_{k}" for k in tails)


def intra_period_problem(panel: pd.DataFrame, windows: tuple[int | str, ...] | None = None,
                         features: tuple[str, ...] = ()) -> str | None:
    """Why ``panel`` cannot feed these ``tail_k`` level candidates and ``intra_features`` (None when it can): the
    reason :meth:`HotspotForecaster.fit` would raise as a ``ModelError`` — the columns from inside the periods are
    missing (the panel is not from :func:`~govml.hotspot.panel.add_intra_period`), or the events carry no time
    inside the periods (every event dated at its period's first day: a weekly export dated Monday, or dates at
    midnight of the period start). ``windows``: by default the ones of ``--intra-period`` for the panel's frequency.
    The command line asks this first and falls back to the default candidates, saying why (session 19)."""
    from govml.hotspot.features import infer_freq
    from govml.hotspot.panel import as_panel

    p = as_panel(panel)
    y, _, periods = panel_matrix(p)
    if windows is None:
        windows = intra_level_windows(p.attrs.get("freq") or infer_freq(periods))
    cols = intra_columns(tuple(windows), tuple(features))
    if not cols:
        return None
    start = data_start(y)
    return _intra_problem(p, cols, start, periods[start:])[1]


def _intra_problem(p: pd.DataFrame, cols: list[str], start: int,
                   periods: pd.DatetimeIndex) -> tuple[dict[str, np.ndarray] | None, str | None, np.ndarray | None]:
    """``_intra_src`` (the columns as S × T matrices from ``start``), the reason they cannot be used (or None) and
    each period's length in days — for :meth:`HotspotForecaster.fit` and :func:`intra_period_problem` alike."""
    from govml.hotspot.calendar import period_offset
    from govml.hotspot.features import infer_freq

    missing = [c for c in cols if c not in p.columns]
    if missing:
        return None, (f"intra_features / level_windows need the panel column(s) {', '.join(missing)} — information "
                      "inside the periods: build the panel with govml.hotspot.panel.add_intra_period(panel, "
                      "events[, close=...])"), None
    T = p["period_start"].nunique()
    src = {c: p[c].to_numpy(dtype=np.float64).reshape(-1, T)[:, start:] for c in cols}
    off = period_offset(infer_freq(periods))
    days = np.array([((q + off) - q).days for q in periods], dtype=np.float64)
    short = [c for c in cols if c.startswith("tail_") and int(c[5:]) < days.min()]
    n_events = float(p["y"].sum())
    if short and n_events >= 20 and all(src[c].sum() == 0 for c in short):
        # every event dated at its period's first day (a weekly export): the last days' rate would be 0, a
        # candidate that only scales the level down (teddycup_trim, session 18)
        return src, (f"the panel's events carry no time inside the periods: {', '.join(short)} hold no event of "
                     f"{n_events:.0f} (every event dated at its period's start?); the tail_k candidates and "
                     "intra_features need the events' own times"), days
    return src, None, days


def intra_matrices(src: dict[str, np.ndarray], y: np.ndarray, n_obs: int, days: np.ndarray,
                   features: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """S × ``y.shape[1]`` matrices of the information inside the periods, for the level candidates (``tail_k``:
    the last k days' rate scaled to the period) and the ``intra_features`` (``f_<name>``). ``src``: the panel's
    ``tail_k`` / ``open_end`` columns as S × T matrices; ``n_obs``: how many leading columns of ``y`` are
    observed periods (those read ``src``); the later ones are a recursion's forecasts, for which nothing inside the
    period is known: the rate is the forecast itself (events spread evenly over the period), the ratio 1, the slope
    0 and the backlog the last observed one. ``days``: each observed period's length in days."""
    S, T = y.shape
    n = min(n_obs, T)
    out: dict[str, np.ndarray] = {}

    def tail_rate(k: int) -> np.ndarray:
        m = np.array(y, dtype=np.float64, copy=True)
        m[:, :n] = src[f"tail_{k}"][:, :n] * (days[:n] / k)[None, :]
        return m

    for name in src:
        if name.startswith("tail_"):
            out[name] = tail_rate(int(name[5:]))
    for f in features:
        if f.startswith("rate_"):
            out[f"f_{f}"] = out[f"tail_{f[5:]}"]
        elif f.startswith("ratio_"):
            out[f"f_{f}"] = (out[f"tail_{f[6:]}"] + 0.5) / (y + 0.5)
        elif f == "slope":
            d = np.diff(np.stack([np.zeros((S, n))] + [src[f"tail_{k}"][:, :n] for k in range(1, 8)]), axis=0)
            x = np.arange(7, dtype=np.float64)[::-1]  # d[0] is the last day: the newest gets the largest x
            x = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
            sl = np.zeros((S, T))
            sl[:, :n] = np.tensordot(x, d, axes=(0, 0))
            out["f_slope"] = sl
        elif f == "open":
            op = np.empty((S, T))
            op[:, :n] = src["open_end"][:, :n]
            op[:, n:] = op[:, n - 1: n] if n > 0 else 0.0
            out["f_open"] = op
    return out


def level_candidates(y: np.ndarray, windows: tuple[int | str, ...] = LEVEL_WINDOWS,
                     groups: np.ndarray | None = None, areas: np.ndarray | None = None,
                     intra: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """(S × T × k) candidate levels at every origin column.

    ``w`` (int): the mean of the last ``w`` periods up to and including the column (fewer at the
    start); ``"all"``: the mean of every period so far; ``"cat_w"``: top-down — the series' share of
    its group's events so far times the group's total over the last ``w`` periods / ``w`` (groups:
    one code per series, by default the category; common shocks show in a group total long before a
    sparse series' own mean can see them); ``"med_w"`` / ``"trim_w"``: the median / the mean without
    the largest value of the last ``w`` periods (robust to a one-week spike); ``"cattr_a_b"`` (an option,
    session 11): ``cat_a`` × the group's ``a``- to ``b``-period mean ratio (clipped to 0.5–2) — the group's
    recent move extrapolated (the level replay gave it no gain: docs/benchmarks.md, "Session 11").

    Pooled candidates (options; ``areas``: one area code per series, by default one area):
    ``"area_w"`` — the series' share of its area's events so far times the area's total (all
    categories) over the last ``w`` periods / ``w`` (an area-wide shock); ``"share_w"`` (``"share_w_L"``)
    — classic top-down: the series' share of the whole board's events over the last 52 (``L``) periods
    (all so far when fewer; an equal share while the board has none) times the board's mean total over
    the last ``w`` periods (a board-wide shift in volume); ``"indep_w"`` — the two-way
    independence model of the last ``w`` periods, area total × category total / grand total, per
    period (a sparse cell borrows from its row and column); ``"indepr_w"`` — that times the series'
    own ratio to the independence model so far, shrunk toward 1 (Gamma–Poisson, ``(x + α) / (e + α)``);
    ``"eb_w"`` (``"eb_w_L"``) — empirical-Bayes shrinkage of the last-``w`` mean toward the long rate
    (the mean so far; of the last ``L`` periods): ``(x + α / μ · μ) / (w + α / μ)``, i.e. the weight
    ``e / (e + α)`` on the window mean, ``e = w · μ`` the expected events in the window, so a busy series
    keeps its window mean and a sparse one leans on its long rate. ``α`` (Gamma shape of the ratio of
    a series' window rate to its long rate) by the method of moments from the spread of all series
    at that column (:func:`_inv_dispersion`). ``"ebi_w"`` (``"ebi_w_L"``): the same shrinkage, toward
    the independence model of every period so far (of the last ``L`` periods) instead of the series'
    own long rate — a busy cell keeps its window mean, a sparse one borrows from its row and column.

    ``"tail_k"`` (session 18, an option): the rate of the period's **last ``k`` days** scaled to a whole period
    (``tail_k × days / k``), from ``intra`` (:func:`intra_matrices`: S × T matrices aligned with ``y``, built from the
    panel's ``tail_k`` columns, :func:`~govml.hotspot.panel.add_intra_period`).
    """
    S, T = y.shape
    cs = np.concatenate([np.zeros((S, 1)), np.cumsum(y, axis=1)], axis=1)
    hi = np.arange(1, T + 1)
    g = np.zeros(S, dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    ar = np.zeros(S, dtype=np.int64) if areas is None else np.asarray(areas, dtype=np.int64)
    share = gcs = None
    out = []
    for w in windows:
        rk = _robust_kind(w)
        sk = _smooth_kind(w)
        if _pooled_kind(w) is not None:
            out.append(_pooled_candidate(str(w), cs, hi, g, ar))
        elif _is_tail(w):
            out.append(_intra_matrix(intra, str(w)))
        elif rk is not None:
            out.append(_robust_window(y, *rk))
        elif sk is not None:
            out.append(_smooth_window(y, *sk))
        elif w == "all":
            out.append(cs[:, 1:] / hi)
        elif (ct := _cat_trend_kind(w)) is not None:
            if share is None:
                share = _group_share(cs[:, 1:], g)
                gcs = group_sums(cs, g)
            gm = [((gcs[:, hi] - gcs[:, np.maximum(hi - k, 0)]) / np.minimum(hi, k))[g] for k in ct]
            out.append(_cat_trend(share, gm[0], gm[1]))
        elif isinstance(w, str) and w.startswith("cat_"):
            if share is None:
                share = _group_share(cs[:, 1:], g)
                gcs = group_sums(cs, g)
            k = int(w[4:])
            lo = np.maximum(hi - k, 0)
            out.append(share * ((gcs[:, hi] - gcs[:, lo]) / np.minimum(hi, k))[g])
        else:
            lo = np.maximum(hi - int(w), 0)
            out.append((cs[:, hi] - cs[:, lo]) / np.minimum(hi, int(w)))
    return np.stack(out, axis=-1)


def level_at_end(y: np.ndarray, windows: tuple[int | str, ...] = LEVEL_WINDOWS,
                 groups: np.ndarray | None = None, areas: np.ndarray | None = None,
                 intra: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """(S × k) candidate levels at the last column only (what :func:`level_candidates` gives there; ``intra``:
    its matrices at that column, S × 1 or aligned with ``y``)."""
    S, T = y.shape
    g = np.zeros(S, dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    ar = np.zeros(S, dtype=np.int64) if areas is None else np.asarray(areas, dtype=np.int64)
    cs = None
    out = []
    for w in windows:
        rk = _robust_kind(w)
        sk = _smooth_kind(w)
        pk = _pooled_kind(w)
        if pk is not None:
            if cs is None:  # the sums so far at the few columns the candidates read
                cs = np.zeros((S, T + 1))
                cs[:, T] = y.sum(axis=1)
            for j in (pk[1], pk[2]):
                if isinstance(j, int) and T - j > 0:
                    cs[:, T - j] = y[:, : T - j].sum(axis=1)
            out.append(_pooled_candidate(str(w), cs, np.array([T]), g, ar)[:, 0])
        elif _is_tail(w):
            out.append(_intra_matrix(intra, str(w))[:, -1])
        elif rk is not None:
            out.append(_robust_last(y, *rk))
        elif sk is not None:
            out.append(_smooth_window(y, *sk)[:, -1])
        elif w == "all":
            out.append(y.mean(axis=1))
        elif (ct := _cat_trend_kind(w)) is not None:
            gm = []
            for k in ct:
                recent = np.zeros(int(g.max()) + 1)
                np.add.at(recent, g, y[:, max(0, T - k):].sum(axis=1))
                gm.append((recent / min(T, k))[g])
            out.append(_cat_trend(_group_share(y.sum(axis=1), g), gm[0], gm[1]))
        elif isinstance(w, str) and w.startswith("cat_"):
            k = int(w[4:])
            recent = np.zeros(int(g.max()) + 1)
            np.add.at(recent, g, y[:, max(0, T - k):].sum(axis=1))
            out.append(_group_share(y.sum(axis=1), g) * (recent / min(T, k))[g])
        else:
            out.append(y[:, max(0, T - int(w)):].mean(axis=1))
    return np.stack(out, axis=1)


LEVEL_BREAK_WINDOW = 13  # level_break: the periods before a run that set the level it broke from
LEVEL_BREAK_ALPHA = 1e-4  # ... and how unlikely the run's total must be under that level (each tail)
LEVEL_BREAK_MIN_RUN = 2  # a single period (a holiday dip, a storm week) is never a break
LEVEL_BREAK_MAX_RUN = 13  # ... and a run is looked at up to this long (then the 4–13-period windows hold it)


def level_breaks(y: np.ndarray, max_run: int = LEVEL_BREAK_MAX_RUN, window: int = LEVEL_BREAK_WINDOW,
                 alpha: float = LEVEL_BREAK_ALPHA, min_run: int = LEVEL_BREAK_MIN_RUN,
                 direction: str = "both", blocked: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A shift of level in the last periods before each column: ``(run, mean)``, both S × T.

    At column ``t`` the last ``r`` periods (``min_run <= r <= max_run``) are a *break* when every one of
    them lies beyond the range of the ``window`` periods before them, all on the same side (below their
    smallest or above their largest), and their total is unlikely under the earlier level: a negative
    binomial with the earlier window's mean and its own method-of-moments dispersion (Poisson when its
    variance is no larger than its mean; the mean at least ``1 / window``), tail probability below
    ``alpha``. ``run`` is the longest such ``r`` (0: no break) and ``mean`` the mean of those ``r``
    periods — the new level's estimate under a step change, where the window means and medians, and the
    weights the panel's own past gave them, still hold the old level (a seasonal stop: street sweeping
    from ~100 requests a week to ~5). A run needs ``window`` earlier periods; from the columns up to
    ``t`` only. ``direction``: ``"down"`` (falls only), ``"up"`` or ``"both"``. ``blocked`` (one flag per
    column, e.g. the periods holding an official holiday): a run with a blocked period in it is no break
    (a holiday's dip over two weeks, or the Spring Festival's, is not a new level).
    """
    from numpy.lib.stride_tricks import sliding_window_view
    from scipy import stats

    y = np.asarray(y, dtype=np.float64)
    S, T = y.shape
    run = np.zeros((S, T), dtype=np.int64)
    mean = np.zeros((S, T))
    if T < window + min_run or max_run < min_run:
        return run, mean
    cs = np.concatenate([np.zeros((S, 1)), np.cumsum(y, axis=1)], axis=1)
    cs2 = np.concatenate([np.zeros((S, 1)), np.cumsum(y**2, axis=1)], axis=1)
    cb = np.concatenate([[0], np.cumsum(np.zeros(T) if blocked is None else np.asarray(blocked, dtype=bool)[:T])])
    # the earlier window's min / max ending at each column j (valid from j = window - 1)
    wmin = np.full((S, T), np.nan)
    wmax = np.full((S, T), np.nan)
    step = max(1, 4_000_000 // (T * window))
    for a in range(0, S, step):
        win = sliding_window_view(y[a: a + step], window, axis=1)
        wmin[a: a + step, window - 1:] = win.min(axis=2)
        wmax[a: a + step, window - 1:] = win.max(axis=2)
    # the run's own min / max, grown one period at a time
    rmin = y.copy()
    rmax = y.copy()
    for r in range(1, min(max_run, T - window) + 1):
        if r > 1:
            rmin[:, r - 1:] = np.minimum(rmin[:, r - 1:], y[:, : T - r + 1])
            rmax[:, r - 1:] = np.maximum(rmax[:, r - 1:], y[:, : T - r + 1])
        if r < min_run:
            continue
        t = np.arange(window + r - 1, T)  # columns with a full earlier window before the run
        e = t - r  # the earlier window ends here
        lo_, hi_ = wmin[:, e], wmax[:, e]
        down = (rmax[:, t] < lo_) if direction in ("both", "down") else np.zeros((S, len(t)), dtype=bool)
        up = (rmin[:, t] > hi_) if direction in ("both", "up") else np.zeros((S, len(t)), dtype=bool)
        cand = (down | up) & (cb[t + 1] - cb[t + 1 - r] == 0)[None, :]
        if not cand.any():
            continue
        si, ti = np.nonzero(cand)
        tc, ec = t[ti], e[ti]
        m0 = (cs[si, ec + 1] - cs[si, ec + 1 - window]) / window
        v0 = (cs2[si, ec + 1] - cs2[si, ec + 1 - window]) / window - m0**2
        v0 = v0 * window / (window - 1)
        m0 = np.maximum(m0, 1.0 / window)
        disp = np.maximum(v0 - m0, 0.0) / m0**2  # NB: var = m + disp · m²
        tot = cs[si, tc + 1] - cs[si, tc + 1 - r]
        mu = r * m0
        with np.errstate(divide="ignore", invalid="ignore"):
            size = np.where(disp > 1e-9, r / np.maximum(disp, 1e-12), np.inf)  # r iid NB(m0, size 1/disp)
            p_nb = size / (size + mu)
            is_down = down[si, ti]
            p_lo = np.where(np.isfinite(size), stats.nbinom.cdf(tot, size, p_nb), stats.poisson.cdf(tot, mu))
            p_hi = np.where(np.isfinite(size), stats.nbinom.sf(tot - 1, size, p_nb), stats.poisson.sf(tot - 1, mu))
        ok = np.where(is_down, p_lo, p_hi) < alpha
        run[si[ok], tc[ok]] = r
        mean[si[ok], tc[ok]] = tot[ok] / r
    return run, mean


def _simplex_qp(G: np.ndarray, b: np.ndarray) -> np.ndarray:
    """argmin of w'Gw - 2b'w over the simplex (w >= 0, sum w = 1): a small convex QP (SLSQP)."""
    from scipy.optimize import minimize

    k = len(b)
    scale = float(np.trace(G)) / k or 1.0
    Gs, bs = G / scale, b / scale
    res = minimize(lambda w: w @ Gs @ w - 2.0 * bs @ w, np.full(k, 1.0 / k),
                   jac=lambda w: 2.0 * (Gs @ w) - 2.0 * bs, method="SLSQP", bounds=[(0.0, 1.0)] * k,
                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones(k)}],
                   options={"ftol": 1e-12, "maxiter": 500})
    w = np.clip(res.x, 0.0, None)
    w[w < 1e-4] = 0.0
    return w / w.sum()


LEVEL_SHRINK_KAPPA = 0.5  # level_shrink="auto": Stock & Watson's (2004) κ (they use 0.25, 0.5, 1)
LEVEL_RECENT_SPAN = 13  # level_shrink_prior="recent": candidates whose level window is at most this many periods


def _level_window(c: int | str) -> float:
    """How many recent periods a candidate measures the level over: the ``w`` of ``w`` / ``"med_w"`` /
    ``"trim_w"`` / ``"cat_w"`` / ``"area_w"`` / ``"indep_w"`` / ``"eb_w"`` / ``"share_w"`` … (a share of a
    group, or a long rate shrunk toward, is structure, not the level); ``"ewm_a"`` / ``"tsb_a"``: pandas'
    span ``2 / a - 1``; ``"all"``: infinite."""
    if isinstance(c, (int, np.integer)):
        return float(c)
    if (sk := _smooth_kind(c)) is not None:
        return 2.0 / sk[1] - 1.0
    if (rk := _robust_kind(c)) is not None:
        return float(rk[1])
    if (pk := _pooled_kind(c)) is not None:
        return float(pk[1])
    if (ct := _cat_trend_kind(c)) is not None:
        return float(ct[0])
    if isinstance(c, str) and c.startswith("cat_"):
        return float(c[4:])
    return float("inf")


def level_prior(windows: tuple[int | str, ...], prior: str = "equal") -> np.ndarray:
    """The weights the level weights are shrunk toward: ``"equal"`` (1/k each) or ``"recent"`` (equal
    weights on the candidates whose level window is at most :data:`LEVEL_RECENT_SPAN` periods,
    :func:`_level_window`: in the default set 4, 8, 13, cat_4, cat_13, med_8, med_13 — a prior that
    follows a change of level within a quarter; equal weights when the set has none)."""
    k = len(windows)
    if prior == "equal":
        return np.full(k, 1.0 / k)
    if prior != "recent":
        raise ModelError(f"level_shrink_prior must be 'equal' or 'recent', got {prior!r}")
    m = np.array([_level_window(c) <= LEVEL_RECENT_SPAN for c in windows], dtype=np.float64)
    return m / m.sum() if m.any() else np.full(k, 1.0 / k)


def choose_level_weights(y: np.ndarray, horizon: int, n_origins: int = LEVEL_ORIGINS,
                         windows: tuple[int | str, ...] = LEVEL_WINDOWS,
                         groups: np.ndarray | None = None, areas: np.ndarray | None = None,
                         halflife: float | None = None, shrink: float | str = 0.0,
                         prior: str = "equal", candidates: np.ndarray | None = None) -> np.ndarray:
    """Convex weights of the candidate levels that forecast ``y`` best (squared error) on its own past.

    A small backtest on ``y`` alone: at each of the last ``n_origins`` origins and every horizon
    ``1..horizon`` whose target is observed, the candidates at the origin forecast the target; the
    weights (>= 0, summing to 1) minimise the summed squared error. With no usable origin the first
    candidate gets all the weight. ``halflife`` (periods; ``None``: every origin counts the same)
    weights each forecast's squared error by ``0.5 ** (age / halflife)``, ``age`` = how many periods
    before the last one its target lies (:func:`level_gram`). ``shrink`` moves that share of the
    weight to the ``prior`` (:func:`level_prior`: equal weights, or equal weights on the recent
    candidates; :func:`level_weights_from_sums`); ``"auto"``: the share from the number of candidates
    and of (effective) inner origins, :func:`level_shrink_share`. ``candidates``: ``level_candidates(y,
    windows, groups, areas)`` when the caller has it already (the same values; not computed again).
    """
    M = level_candidates(y, windows, groups, areas) if candidates is None else candidates
    return _weights_for(M, y, horizon, n_origins, halflife, shrink, level_prior(tuple(windows), prior))


def _weights_for(M: np.ndarray, y: np.ndarray, horizon: int, n_origins: int, halflife: float | None,
                 shrink: float | str, prior: np.ndarray | None = None) -> np.ndarray:
    if isinstance(shrink, str):
        if shrink != "auto":
            raise ModelError(f"level_shrink must be a share in [0, 1] or 'auto', got {shrink!r}")
        shrink = level_shrink_share(M.shape[2], effective_origins(M.shape[1], n_origins, halflife))
    return level_weights_from_sums(*level_gram(M, y, horizon, n_origins, halflife), shrink=float(shrink), prior=prior)


def _recency(age: np.ndarray, halflife: float | None) -> np.ndarray:
    """Weight of a forecast whose target lies ``age`` periods before the last one."""
    if halflife is None:
        return np.ones(len(age))
    if not halflife > 0:
        raise ModelError(f"level_halflife must be > 0 periods or None, got {halflife!r}")
    return 0.5 ** (np.asarray(age, dtype=np.float64) / float(halflife))


def level_gram(M: np.ndarray, y: np.ndarray, horizon: int,
               n_origins: int = LEVEL_ORIGINS, halflife: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The sums of the level QP, ``(Σ A'A, Σ A't)`` (k × k, k), over the series of ``M``
    (:func:`level_candidates`, S × T × k) at the last ``n_origins`` origins × horizons ``1..horizon``.
    Sums over disjoint sets of series add up: a federation sums each district's part
    (:mod:`govml.federated.forecaster`). ``halflife``: each row weighted ``0.5 ** (age / halflife)``,
    ``age = T - 1 - (origin + h)`` (its target's distance from the last period: the same for every
    series, so the sums still add up)."""
    S, T, k = M.shape
    G = np.zeros((k, k))
    b = np.zeros(k)
    y = np.asarray(y, dtype=np.float64)
    for h in range(1, horizon + 1):
        origins = np.arange(max(0, T - 1 - h - n_origins + 1), T - h)
        if len(origins) == 0:
            continue
        A = M[:, origins, :].reshape(-1, k)
        t = y[:, origins + h].reshape(-1)
        if halflife is None:
            G += A.T @ A
            b += A.T @ t
        else:
            r = np.tile(_recency(T - 1 - (origins + h), halflife), S)  # rows: series-major
            Ar = A * r[:, None]
            G += Ar.T @ A
            b += Ar.T @ t
    return G, b


def effective_origins(T: int, n_origins: int = LEVEL_ORIGINS, halflife: float | None = None) -> float:
    """How many independent periods the level QP's sums rest on: its target periods (``min(n_origins,
    T - 1)``), or with ``halflife`` their effective number ``(Σ r)² / Σ r²`` (Kish) under the recency
    weights ``r``."""
    n = max(0, min(int(n_origins), int(T) - 1))
    if n == 0:
        return 0.0
    r = _recency(np.arange(n), halflife)
    return float(r.sum() ** 2 / (r**2).sum())


def level_shrink_share(k: int, n_eff: float, kappa: float = LEVEL_SHRINK_KAPPA) -> float:
    """The share of equal weights in the level weights: ``min(1, κ · k / (n_eff - k))`` (all when
    ``n_eff <= k``), Stock & Watson's (2004) shrinkage of estimated forecast-combination weights toward
    equal ones, ``1 - λ`` with ``λ = max(0, 1 - κ k / (t - h - k))``: ``k`` weights fitted on
    ``n_eff`` periods (:func:`effective_origins`). With the ten default candidates and 26 origins, κ
    = 0.5 gives 0.3125 (κ = 0.25: 0.156); a panel with no more target periods than candidates gets equal
    weights."""
    if k < 2:
        return 0.0
    if n_eff <= k:
        return 1.0
    return float(min(1.0, kappa * k / (n_eff - k)))


def level_weights_from_sums(G: np.ndarray, b: np.ndarray, shrink: float = 0.0,
                            prior: np.ndarray | None = None) -> np.ndarray:
    """Convex level weights from the QP's sums (:func:`level_gram`; ``G`` symmetric); with nothing to
    fit (``b`` all zero) the first candidate gets all the weight. ``shrink`` (in [0, 1]): that share of
    the weight moved to the ``prior`` (convex; equal weights when None), ``(1 - shrink) · w + shrink ·
    prior`` (0: the QP's weights exactly)."""
    k = len(b)
    if not np.asarray(b).any():
        w = np.zeros(k)
        w[0] = 1.0
        return w
    if not 0.0 <= shrink <= 1.0:
        raise ModelError(f"level_shrink must be a share in [0, 1] or 'auto', got {shrink!r}")
    w = _simplex_qp(G, b)
    if shrink == 0.0:
        return w
    p = np.full(k, 1.0 / k) if prior is None else np.asarray(prior, dtype=np.float64)
    return (1.0 - shrink) * w + shrink * p


def volume_tiers(y: np.ndarray, n_tiers: int, window: int = 52) -> np.ndarray:
    """Tier of each series (0 = quietest) by its mean count over the last ``window`` periods:
    ``n_tiers`` groups of about equal numbers of series (series with no events there: tier 0)."""
    m = y[:, max(0, y.shape[1] - window):].mean(axis=1)
    if n_tiers <= 1 or len(m) == 0:
        return np.zeros(len(m), dtype=np.int64)
    edges = np.quantile(m, np.linspace(0.0, 1.0, n_tiers + 1)[1:-1])
    return np.searchsorted(edges, m, side="right").astype(np.int64)


def choose_level_weights_tiered(y: np.ndarray, horizon: int, tiers: np.ndarray, n_origins: int = LEVEL_ORIGINS,
                                windows: tuple[int | str, ...] = LEVEL_WINDOWS,
                                groups: np.ndarray | None = None, areas: np.ndarray | None = None,
                                halflife: float | None = None, shrink: float | str = 0.0,
                                prior: str = "equal", candidates: np.ndarray | None = None) -> np.ndarray:
    """(S × k) per-series level weights: :func:`choose_level_weights` fitted separately on each tier
    of series (``tiers``: one code per series, e.g. :func:`volume_tiers`). The pooled squared error
    is dominated by the busiest series, so pooled weights suit them and not the sparse majority,
    whose best level is usually a longer (smoother) one. ``halflife``, ``shrink``, ``prior``, ``candidates``: as
    there, per tier."""
    M = level_candidates(y, windows, groups, areas) if candidates is None else candidates
    S, T, k = M.shape
    W = np.zeros((S, k))
    for tier in np.unique(tiers):
        rows = tiers == tier
        W[rows] = _weights_for(M[rows], y[rows], horizon, n_origins, halflife, shrink, level_prior(tuple(windows), prior))
    return W


def _choose_blend(mu: np.ndarray, bases: np.ndarray, obs: np.ndarray) -> tuple[float, int]:
    """Weight ``w`` and window index ``j`` of ``w * model + (1 - w) * mean_window`` on holdout data.

    Minimises RMSE/RMSE_ref + MAE/MAE_ref, the references being the best plain window mean on the
    same holdout: a blend must earn its place on both the squared and the absolute error.
    """
    def rmse(p: np.ndarray) -> float:
        return float(np.sqrt(np.mean((p - obs) ** 2)))

    def mae(p: np.ndarray) -> float:
        return float(np.mean(np.abs(p - obs)))

    r_ref = min(rmse(bases[:, j]) for j in range(bases.shape[1])) or 1.0
    a_ref = min(mae(bases[:, j]) for j in range(bases.shape[1])) or 1.0
    best = (np.inf, 1.0, 0)
    for j in range(bases.shape[1]):
        for w in np.linspace(0.0, 1.0, 11):
            p = w * mu + (1 - w) * bases[:, j]
            score = rmse(p) / r_ref + mae(p) / a_ref
            if score < best[0] - 1e-12:
                best = (score, float(w), j)
    return best[1], best[2]


COMBINE_WEIGHTS = tuple(np.round(np.linspace(0.0, 1.0, 11), 2))


def choose_combine_weight(direct: np.ndarray, recursive: np.ndarray, obs: np.ndarray,
                          weights: tuple[float, ...] = COMBINE_WEIGHTS) -> float:
    """Weight of the direct forecast in ``w * direct + (1 - w) * recursive`` with the lowest holdout
    squared error (ties to the weight nearest 0.5: equal weights are the robust default)."""
    best = (np.inf, 0.5)
    for w in sorted(weights, key=lambda v: abs(v - 0.5)):
        e = float(np.mean((w * direct + (1 - w) * recursive - obs) ** 2))
        if e < best[0] - 1e-12:
            best = (e, float(w))
    return best[1]


def nb_median(mu: np.ndarray, alpha: float) -> np.ndarray:
    """Median of NegBin(mean mu, variance mu + alpha mu^2) (Poisson when alpha ~ 0)."""
    from scipy import stats

    mu = np.maximum(np.asarray(mu, dtype=float), 1e-9)
    if alpha < 1e-6:
        return stats.poisson.ppf(0.5, mu)
    n = 1.0 / alpha
    return stats.nbinom.ppf(0.5, n, n / (n + mu))


def point_forecast(mu: np.ndarray, alpha: float, w: float) -> np.ndarray:
    """``(1 - w) * mean + w * predictive median`` (negative binomial with mean ``mu``, dispersion ``alpha``)."""
    if w <= 0:
        return np.asarray(mu, dtype=float)
    return (1.0 - w) * mu + w * nb_median(mu, alpha)


def choose_point_weight(mu: np.ndarray, obs: np.ndarray, alpha: float,
                        weights: tuple[float, ...] = POINT_WEIGHTS, rmse_tol: float = _POINT_RMSE_TOL,
                        min_gain: float = _POINT_MIN_GAIN) -> float:
    """Weight ``w`` of the predictive median in ``yhat = (1 - w) mean + w median``, chosen on holdout data.

    For sparse counts the mean minimises squared error and the median absolute error; shifting a
    forecast toward the median costs squared error only to second order (the squared shift) but
    gains absolute error to first order, mostly on low-rate cells, whose median is 0. The rule: the
    ``w`` with the lowest holdout MAE among those whose holdout RMSE is at most ``1 + rmse_tol``
    times the mean's; 0 unless it lowers the MAE by at least ``min_gain`` (relative). ``w < 1``
    keeps ``yhat`` strictly increasing in the mean, so a ranking by ``yhat`` is the ranking by the mean.
    """
    mu = np.asarray(mu, dtype=float)
    obs = np.asarray(obs, dtype=float)
    med = nb_median(mu, alpha)
    r0 = float(np.sqrt(np.mean((mu - obs) ** 2)))
    a0 = float(np.mean(np.abs(mu - obs)))
    best_w, best_a = 0.0, a0
    for w in weights:
        p = (1.0 - w) * mu + w * med
        r = float(np.sqrt(np.mean((p - obs) ** 2)))
        a = float(np.mean(np.abs(p - obs)))
        if r <= r0 * (1.0 + rmse_tol) and a < best_a - 1e-12:
            best_w, best_a = float(w), a
    return best_w if best_a <= a0 * (1.0 - min_gain) else 0.0


#: point_rule="shift": the scales s tried (a shift of at most s; large s reach a busy cell's median)
POINT_SHIFTS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0)


def nb_cdf(k: np.ndarray, mu: np.ndarray, alpha: float) -> np.ndarray:
    """P(Y <= k) for Y ~ NegBin(mean mu, variance mu + alpha mu^2) (Poisson when alpha ~ 0)."""
    from scipy import stats

    mu = np.maximum(np.asarray(mu, dtype=float), 1e-9)
    if alpha < 1e-6:
        return stats.poisson.cdf(k, mu)
    n = 1.0 / alpha
    return stats.nbinom.cdf(k, n, n / (n + mu))


def _shift_table(mu: np.ndarray, alpha: float, s_max: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The counts ``k`` around each mean that a shift of at most ``s_max`` can reach, and ``P(Y <= k)``."""
    mu = np.maximum(np.asarray(mu, dtype=float), 0.0)
    k0 = np.maximum(0.0, np.floor(mu - s_max))
    ks = k0[:, None] + np.arange(int(np.ceil(2 * s_max)) + 2)[None, :]
    return k0, ks, nb_cdf(ks, mu[:, None], alpha)


def _shift_points(mu: np.ndarray, table: tuple[np.ndarray, np.ndarray, np.ndarray], s: float) -> np.ndarray:
    k0, ks, F = table
    u = np.asarray(mu, dtype=float)[:, None] - s * (2.0 * F - 1.0)
    return k0 + np.clip(u - ks, 0.0, 1.0).sum(axis=1)


def point_shift_forecast(mu: np.ndarray, alpha: float, s: float) -> np.ndarray:
    """``argmin_p E|Y - p| + (p - mu)^2 / (2 s)`` for each cell, Y ~ NegBin(mean mu, dispersion alpha).

    The point that trades absolute error against squared error at one exchange rate for all cells
    (``point_rule="shift"``): minimising the summed expected absolute error under a budget on the
    summed squared shift gives this per cell with one Lagrange multiplier ``1 / (2 s)``. Its
    condition ``p = mu - s (2 F(p) - 1)`` moves a cell by at most ``s``, far only where the
    predictive CDF at the mean is far from 1/2 — low-rate cells, whose median is 0 — and hardly a
    busy cell, where ``F(mu)`` is near 1/2 (the linear mix ``(1 - w) mean + w median`` moves every
    cell by ``w`` × its mean–median gap, paying squared error where little absolute error is won).
    Solved in closed form: ``p = sum_k clip(u_k - k, 0, 1)`` over ``k >= 0`` with
    ``u_k = mu - s (2 F(k) - 1)`` (``u_k - k`` falls with ``k``). ``p >= 0`` and weakly increasing
    in ``mu`` (cells below about ``s (2 P(0) - 1)`` get 0), so a ranking by ``yhat`` never inverts
    one by the mean; ``s = 0`` gives the mean.
    """
    mu = np.asarray(mu, dtype=float)
    if s <= 0:
        return mu
    return _shift_points(mu, _shift_table(mu, alpha, s), s)


def choose_point_shift(mu: np.ndarray, obs: np.ndarray, alpha: float,
                       shifts: tuple[float, ...] = POINT_SHIFTS, rmse_tol: float = _POINT_RMSE_TOL,
                       min_gain: float = _POINT_MIN_GAIN) -> float:
    """Scale ``s`` of :func:`point_shift_forecast` chosen on holdout data, by the rule of
    :func:`choose_point_weight`: the lowest holdout MAE among the scales whose holdout RMSE is at most
    ``1 + rmse_tol`` times the mean's; 0 (the mean) unless it lowers the MAE by ``min_gain``."""
    mu = np.asarray(mu, dtype=float)
    obs = np.asarray(obs, dtype=float)
    if len(mu) == 0 or not shifts:
        return 0.0
    table = _shift_table(mu, alpha, max(shifts))
    r0 = float(np.sqrt(np.mean((mu - obs) ** 2)))
    a0 = float(np.mean(np.abs(mu - obs)))
    best_s, best_a = 0.0, a0
    for s in shifts:
        p = _shift_points(mu, table, float(s))
        r = float(np.sqrt(np.mean((p - obs) ** 2)))
        a = float(np.mean(np.abs(p - obs)))
        if r <= r0 * (1.0 + rmse_tol) and a < best_a - 1e-12:
            best_s, best_a = float(s), a
    return best_s if best_a <= a0 * (1.0 - min_gain) else 0.0


def _nb_sf(thr: np.ndarray, mu: np.ndarray, alpha: float) -> np.ndarray:
    """P(Y > thr) for Y ~ NegBin(mean mu, variance mu + alpha mu^2) (Poisson when alpha ~ 0)."""
    from scipy import stats

    k = np.floor(thr)
    mu = np.maximum(mu, 1e-9)
    if alpha < 1e-6:
        return stats.poisson.sf(k, mu)
    n = 1.0 / alpha
    p = n / (n + mu)
    return stats.nbinom.sf(k, n, p)


HOTSPOT_CALIBRATIONS = ("isotonic", "logistic", "logistic_ref", "none")
HOTSPOT_DISPERSIONS = ("pooled", "banded")
_HOTSPOT_RIDGE = 1.0  # "logistic": ridge penalty pulling (intercept, slope) toward (0, 1), the uncalibrated map
_HOTSPOT_P_CLIP = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), _HOTSPOT_P_CLIP, 1.0 - _HOTSPOT_P_CLIP)
    return np.log(p) - np.log1p(-p)


def exceedance_rate(y: np.ndarray, thr: np.ndarray) -> np.ndarray:
    """Each row's past exceedance rate of its threshold, ``(k + 0.5) / (n + 1)``: ``k`` of its ``n`` periods
    (columns of ``y``) above ``thr`` (Krichevsky–Trofimov: a cell that never exceeded is not at exactly 0)."""
    k = (y > np.asarray(thr, dtype=float)[:, None]).sum(axis=1)
    return (k + 0.5) / (y.shape[1] + 1.0)


def banded_dispersion(mu: np.ndarray, obs: np.ndarray, edges: tuple[float, ...] = _BIN_EDGES,
                      min_n: int = _BIN_MIN) -> list[float]:
    """Negative-binomial dispersion ``α`` (variance ``μ + α μ²``) by moments per size band of the forecast
    mean ``mu`` (bands split at ``edges``): ``max(0, Σ((y − μ)² − μ)) / Σ μ²`` over the band's holdout rows.
    A band with fewer than ``min_n`` rows takes in its neighbours (below first, then above) as the interval
    bands do; with too few rows even then, the pooled value."""
    mu, obs = np.asarray(mu, dtype=float), np.asarray(obs, dtype=float)

    def mom(sel: np.ndarray) -> float:
        d = float(np.sum(mu[sel] ** 2))
        return max(0.0, float(np.sum((obs[sel] - mu[sel]) ** 2 - mu[sel])) / d) if d > 0 else 0.0

    b = np.searchsorted(edges, mu, side="right")
    n_bins = len(edges) + 1
    pooled = mom(np.ones(len(mu), dtype=bool))
    out = []
    for k in range(n_bins):
        lo_k = hi_k = k
        sel = b == k
        while sel.sum() < min_n and (lo_k > 0 or hi_k < n_bins - 1):
            if lo_k > 0:
                lo_k -= 1
            else:
                hi_k += 1
            sel = (b >= lo_k) & (b <= hi_k)
        out.append(mom(sel) if sel.sum() >= min_n else pooled)
    return out


class HotspotMap:
    """``p_hotspot`` from a forecast mean and a threshold: the negative-binomial ``P(y > threshold)`` with a
    dispersion (one, or one per size band of the mean), then a calibration map fitted on holdout outcomes:
    ``"isotonic"`` (monotone, a step function), ``"logistic"`` (intercept and slope on the logit of the raw
    probability, Cox's recalibration, with a ridge penalty pulling them toward (0, 1) — no change — so a
    holdout with few or no hotspot events moves the raw probability little), ``"logistic_ref"`` (the same
    with a third term, the logit of the cell's own past exceedance rate of its threshold — what the
    negative binomial around the mean does not know about the cell's own spread —, its coefficient pulled
    toward 0), or ``"none"``."""

    def __init__(self, kind: str = "isotonic", dispersion: str = "pooled"):
        if kind not in HOTSPOT_CALIBRATIONS:
            raise ModelError(f"hotspot_calibration must be one of {HOTSPOT_CALIBRATIONS}, got {kind!r}")
        if dispersion not in HOTSPOT_DISPERSIONS:
            raise ModelError(f"hotspot_dispersion must be one of {HOTSPOT_DISPERSIONS}, got {dispersion!r}")
        self.kind = kind
        self.dispersion = dispersion
        self.alpha: float | list[float] = 0.0
        self.iso: Any = None
        self.coef: tuple[float, ...] = (0.0, 1.0)

    def raw(self, mu: np.ndarray, thr: np.ndarray) -> np.ndarray:
        mu = np.asarray(mu, dtype=float)
        thr = np.broadcast_to(np.asarray(thr, dtype=float), mu.shape)
        if isinstance(self.alpha, list):
            b = np.searchsorted(_BIN_EDGES, mu, side="right")
            out = np.empty(mu.shape)
            for k in np.unique(b):
                sel = b == k
                out[sel] = _nb_sf(thr[sel], mu[sel], self.alpha[k])
            return out
        return _nb_sf(thr, mu, float(self.alpha))

    def fit(self, mu: np.ndarray, obs: np.ndarray, thr: np.ndarray, pooled_alpha: float,
            ref: np.ndarray | None = None) -> HotspotMap:
        """Fit on holdout forecasts: means ``mu``, outcomes ``obs``, thresholds ``thr`` (and, for
        ``"logistic_ref"``, each row's past exceedance rate ``ref`` at its origin)."""
        self.alpha = banded_dispersion(mu, obs) if self.dispersion == "banded" else float(pooled_alpha)
        p_raw = self.raw(mu, thr)
        event = (np.asarray(obs, dtype=float) > np.asarray(thr, dtype=float)).astype(float)
        if self.kind == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            self.iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p_raw, event)
        elif self.kind == "logistic":
            self.coef = _ridge_logistic(_logit(p_raw)[:, None], event, _HOTSPOT_RIDGE)
        elif self.kind == "logistic_ref":
            if ref is None:
                raise ModelError("hotspot_calibration='logistic_ref' needs the cells' past exceedance rates")
            self.coef = _ridge_logistic(np.column_stack([_logit(p_raw), _logit(ref)]), event, _HOTSPOT_RIDGE)
        return self

    def predict(self, mu: np.ndarray, thr: np.ndarray, ref: np.ndarray | None = None) -> np.ndarray:
        p = self.raw(mu, thr)
        if self.kind == "isotonic" and self.iso is not None:
            return self.iso.predict(p)
        if self.kind in ("logistic", "logistic_ref"):
            cols = [_logit(p)]
            if self.kind == "logistic_ref":
                if ref is None:
                    raise ModelError("hotspot_calibration='logistic_ref' needs the cells' past exceedance rates")
                cols.append(_logit(np.broadcast_to(np.asarray(ref, dtype=float), p.shape)))
            z = self.coef[0] + np.column_stack(cols) @ np.asarray(self.coef[1:])
            return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))
        return p

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "dispersion": self.alpha}
        if self.kind in ("logistic", "logistic_ref"):
            out["intercept"], out["slope"] = self.coef[0], self.coef[1]
        if self.kind == "logistic_ref":
            out["ref_slope"] = self.coef[2]
        return out


def _ridge_logistic(x: np.ndarray, e: np.ndarray, ridge: float) -> tuple[float, ...]:
    """``(a, b_1, …)`` maximising the log-likelihood of the 0/1 ``e`` under ``sigmoid(a + x @ b)`` less
    ``ridge``/2 · (a² + (b_1 − 1)² + b_2² + …): a ridge toward "the first column as it is". Newton's method
    with step halving (a full Newton step can overshoot on a few events far out in the tail); the objective
    is strictly concave, so this converges, and the penalty keeps it well posed with no or all events.
    ``x``: one column or ``(n, k)``."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    e = np.asarray(e, dtype=float)
    X = np.column_stack([np.ones(len(x)), x])
    prior = np.zeros(X.shape[1])
    prior[1] = 1.0

    def objective(beta: np.ndarray) -> float:
        z = X @ beta
        return float(np.sum(e * z - np.logaddexp(0.0, z)) - 0.5 * ridge * np.sum((beta - prior) ** 2))

    beta = prior.copy()
    f = objective(beta)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(X @ beta, -35, 35)))
        g = X.T @ (e - p) - ridge * (beta - prior)
        Hm = (X * (p * (1 - p))[:, None]).T @ X + ridge * np.eye(X.shape[1])
        step = np.linalg.solve(Hm, g)
        t = 1.0
        while t > 1e-8:
            f_new = objective(beta + t * step)
            if f_new >= f - 1e-12:
                break
            t *= 0.5
        beta, f_old, f = beta + t * step, f, f_new
        if np.max(np.abs(t * step)) < 1e-9 or abs(f - f_old) < 1e-12 * max(1.0, abs(f)):
            break
    return tuple(float(b) for b in beta)


class HotspotForecaster(FillsMissingParams, BaseEstimator):
    """Global LightGBM count forecaster for an area × category × period panel.

    Parameters are stored as given (scikit-learn contract); learned state ends in ``_``.
    """

    _keep_hotspot_holdout = False  # True: hotspot_holdout_ keeps the inner holdout (benchmarks/bench_hotspot_phot.py)
    # learned attributes of a model saved by an older govml (govml._compat, session 18). Added since, with the value
    # a model saved before them had in effect (the path predict/describe then took): no point shift (point_rule
    # "mix"), no fitted p_hotspot map (the pooled negative binomial), no past exceedance rates, no size-band
    # conformal quantiles (the pooled ones), no holiday factors, no kept inner holdout, no horizon-1 tree gate (session
    # 20; whether it fired is for reading only):
    _old_learned_values = {"point_shift_": {}, "hotspot_map_": {}, "hotspot_ref_": None, "conformal_bins_": {},
                           "holiday_factors_": None, "hotspot_holdout_": {}, "tree_gate_fired_": False}
    # read by predict/explain/describe and learned from the data (no value reproduces them): a file without one
    # is retrained — ModelError where it is read. models_ marks the model fitted (its "not fitted" error stands).
    _required_learned = ("y_", "keys_", "periods_", "feature_names_", "threshold_", "calibrated_", "conformal_",
                         "dispersion_", "blend_weight_", "blend_window_", "point_weight_", "combine_weight_",
                         "n_trees_", "n_trees_by_horizon_", "level_weights_", "level_groups_", "level_areas_",
                         "data_start_")

    def __init__(
        self,
        horizon: int = 4,
        strategy: str = "combined",
        spec: FeatureSpec | None = None,
        objective: str = "poisson",
        tweedie_variance_power: float = 1.3,
        n_estimators: int = 200,
        learning_rate: float = 0.06,
        num_leaves: int = 31,
        min_child_samples: int = 50,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        max_bin: int = 63,
        train_window: int | None = None,
        max_train_rows: int | None = 600_000,
        calibration_origins: int = 4,
        offset_window: int | str | tuple[int, ...] | None = "auto",
        level_windows: tuple[int | str, ...] | None = None,
        blend: str | None = None,
        combine_weight: float | str = 0.5,
        point: str = "auto",
        point_rmse_tolerance: float = _POINT_RMSE_TOL,
        point_rule: str = "mix",
        select_trees: bool = True,
        tree_choice: str = "pooled",
        early_stop: int | None = _EARLY_STOP_ROUNDS,
        tree_gate: str | None = "horizon1",
        interval: float = 0.9,
        hotspot_quantile: float = 0.9,
        min_hotspot_count: float = 1.0,
        hotspot_window: int | None = None,
        hotspot_calibration: str = "logistic",
        hotspot_dispersion: str = "banded",
        level_tiers: int = 1,
        level_halflife: float | None = None,
        level_shrink: float | str = 0.0,
        level_shrink_prior: str = "equal",
        level_break: str | None = None,
        untested_trees: str = "none",
        level_features: tuple[int | str, ...] | None = None,
        recency_halflife: float | None = None,
        n_bags: int = 1,
        holidays: str | None = "auto",
        n_jobs: int = 1,
        random_state: int = 0,
        reconcile: str | None = None,
        intra_features: tuple[str, ...] | None = None,
    ):
        self.horizon = horizon
        self.strategy = strategy
        self.spec = spec
        self.objective = objective
        self.tweedie_variance_power = tweedie_variance_power
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.max_bin = max_bin
        self.train_window = train_window
        self.max_train_rows = max_train_rows
        self.calibration_origins = calibration_origins
        self.offset_window = offset_window
        self.level_windows = level_windows
        self.blend = blend
        self.combine_weight = combine_weight
        self.point = point
        self.point_rmse_tolerance = point_rmse_tolerance
        self.point_rule = point_rule
        self.select_trees = select_trees
        self.tree_choice = tree_choice
        self.early_stop = early_stop
        self.tree_gate = tree_gate
        self.interval = interval
        self.hotspot_quantile = hotspot_quantile
        self.min_hotspot_count = min_hotspot_count
        self.hotspot_window = hotspot_window
        self.hotspot_calibration = hotspot_calibration
        self.hotspot_dispersion = hotspot_dispersion
        self.level_tiers = level_tiers
        self.level_halflife = level_halflife
        self.level_shrink = level_shrink
        self.level_shrink_prior = level_shrink_prior
        self.level_break = level_break
        self.untested_trees = untested_trees
        self.level_features = level_features
        self.recency_halflife = recency_halflife
        self.n_bags = n_bags
        self.holidays = holidays
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.reconcile = reconcile
        self.intra_features = intra_features

    # -- helpers -------------------------------------------------------------------------------
    def _spec(self) -> FeatureSpec:
        return self.spec if self.spec is not None else FeatureSpec()

    def _lgbm(self, seed_offset: int = 0) -> Any:
        import lightgbm as lgb

        params: dict[str, Any] = dict(
            objective=self.objective, n_estimators=self.n_estimators, learning_rate=self.learning_rate,
            num_leaves=self.num_leaves, min_child_samples=self.min_child_samples,
            colsample_bytree=self.colsample_bytree, subsample=0.8, subsample_freq=1,
            reg_lambda=self.reg_lambda, max_bin=self.max_bin, n_jobs=self.n_jobs, random_state=self.random_state + seed_offset,
            verbose=-1, max_cat_to_onehot=8, cat_smooth=20.0, force_col_wise=True,
        )
        if self.objective == "tweedie":
            params["tweedie_variance_power"] = self.tweedie_variance_power
        return lgb.LGBMRegressor(**params)

    def _builder(self, y: np.ndarray, keys: pd.DataFrame, periods: pd.DatetimeIndex,
                 spec: FeatureSpec | None = None, last_only: bool = False, n_obs: int | None = None) -> FeatureBuilder:
        """The feature builder, plus the ``level_features`` candidates (``lvl_<name>``) and the ``intra_features``
        (``intra_<name>``) when asked. ``last_only``: the features at the last column only (a recursive step; same
        values); ``n_obs``: how many leading columns of ``y`` are observed (the rest: a recursion's forecasts)."""
        fb = FeatureBuilder(y, keys, periods, spec or self._spec(), last_only=last_only)
        if self.level_features:
            M = level_candidates(y, tuple(self.level_features), self.level_groups_, self.level_areas_,
                                 self._intra(y, n_obs))
            for j, w in enumerate(self.level_features):
                fb.mats[f"lvl_{w}"] = M[:, -1:, j].astype(np.float32) if last_only else M[:, :, j].astype(np.float32)
        if self.intra_features:
            intra = self._intra(y, n_obs)
            for f in self.intra_features:
                m = intra[f"f_{f}"]
                fb.mats[f"intra_{f}"] = (m[:, -1:] if last_only else m).astype(np.float32)
        return fb

    def _intra(self, y: np.ndarray, n_obs: int | None = None, level: bool = False) -> dict[str, np.ndarray] | None:
        """:func:`intra_matrices` for ``y`` (its first ``n_obs`` columns observed: all by default), or None when
        neither a ``tail_k`` candidate nor ``intra_features`` is asked for. ``level``: for the level's candidates,
        whose ``y`` is :meth:`_deholiday`'s — the ``tail_k`` counts adjusted for holidays the same way (session 19,
        :func:`~govml.hotspot.holidays.adjust_tail_counts`; ``holidays="fill"`` / ``"divide"`` only)."""
        src = getattr(self, "_intra_src", None)
        if not src:
            return None
        n = y.shape[1] if n_obs is None else int(n_obs)
        if level:
            src = self._deholiday_tails(src, min(n, y.shape[1]))
        return intra_matrices(src, y, n, self._intra_days, tuple(self.intra_features or ()))

    def _deholiday_tails(self, src: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
        """``src`` with its ``tail_k`` counts of the first ``n`` columns (those :meth:`_deholiday` adjusted in ``y``:
        a fill reads only the columns it is given) adjusted for holidays as the counts are."""
        hf = getattr(self, "holiday_factors_", None)
        if hf is None or not hf.active or self.holidays not in ("fill", "divide"):
            return src
        from govml.hotspot.calendar import period_range
        from govml.hotspot.holidays import adjust_tail_counts

        periods = period_range(self._period0, n, hf.freq)
        return {c: adjust_tail_counts(m[:, :n], int(c[5:]), periods, hf, self.holidays) if c.startswith("tail_")
                else m for c, m in src.items()}

    def _read_intra(self, panel: pd.DataFrame, start: int, periods: pd.DatetimeIndex) -> None:
        """The panel's columns from inside its periods that the options read (S × T from ``start``), or none."""
        self._intra_src = None
        cols = intra_columns(self._level_windows() or (), tuple(self.intra_features or ()))
        if not cols:
            return
        from govml.hotspot.panel import as_panel

        src, problem, days = _intra_problem(as_panel(panel), cols, start, periods)
        if problem is not None:
            raise ModelError(problem)
        self._intra_src, self._intra_days = src, days

    def _model_horizons(self) -> list[int]:
        if self.strategy == "direct":
            return list(range(1, self.horizon + 1))
        if self.strategy == "combined":  # the direct models; the recursion reuses the one-step model
            return list(range(1, self.horizon + 1))
        if self.strategy == "recursive":
            return [1]
        raise ModelError(f"strategy must be 'direct', 'recursive' or 'combined', got {self.strategy!r}")

    def _level_windows(self) -> tuple[int | str, ...] | None:
        if self.offset_window is None:
            return None
        if isinstance(self.offset_window, str):
            if self.offset_window != "auto":
                raise ModelError(f"offset_window must be 'auto', a window, a tuple of windows or None, "
                                 f"got {self.offset_window!r}")
            return LEVEL_WINDOWS if self.level_windows is None else tuple(self.level_windows)
        return (self.offset_window,) if isinstance(self.offset_window, int) else tuple(self.offset_window)

    def _candidates(self, y: np.ndarray) -> np.ndarray:
        """``level_candidates`` of ``y`` (S × T × k), kept for the next call with the same array: the
        calibration's and the final fit's level weights and levels all read those of the one panel (the
        calibration's weights its first columns: a candidate at column ``o`` reads columns ``<= o`` only, with
        the same arithmetic, so they are the values of the cut panel). ``fit`` drops it at its end."""
        windows = self._level_windows()
        cache = getattr(self, "_cand_cache", None)
        if cache is not None and cache[0] is y and cache[1] == windows:
            return cache[2]
        M = level_candidates(y, windows, self.level_groups_, self.level_areas_, self._intra(y, level=True))
        self._cand_cache = (y, windows, M)
        return M

    def _level_weights(self, y: np.ndarray, candidates: np.ndarray | None = None) -> np.ndarray | None:
        """Weights of the level's window means, from ``y`` only (the data the models may see);
        ``candidates``: ``y``'s level candidates when the caller has them."""
        windows = self._level_windows()
        if windows is None:
            return None
        if self.offset_window == "auto":
            if self.level_tiers > 1:
                return choose_level_weights_tiered(y, self.horizon, volume_tiers(y, int(self.level_tiers)),
                                                   windows=windows, groups=self.level_groups_,
                                                   areas=self.level_areas_, halflife=self.level_halflife,
                                                   shrink=self.level_shrink, prior=self.level_shrink_prior,
                                                   candidates=candidates)
            return choose_level_weights(y, self.horizon, windows=windows, groups=self.level_groups_,
                                        areas=self.level_areas_, halflife=self.level_halflife,
                                        shrink=self.level_shrink, prior=self.level_shrink_prior,
                                        candidates=candidates)
        return np.full(len(windows), 1.0 / len(windows))

    def _level(self, y: np.ndarray, weights: np.ndarray | None) -> np.ndarray | None:
        """(S × T) level the models boost from: the weighted window means at every origin column."""
        if weights is None:
            return None
        M = self._candidates(y)
        lev = M @ weights if weights.ndim == 1 else np.einsum("stk,sk->st", M, weights)
        return self._after_break(y, lev)

    def _after_break(self, y: np.ndarray, lev: np.ndarray) -> np.ndarray:
        """``lev`` (S × T, or S: at the last column of ``y``) with the mean since a recent shift of level
        (:func:`level_breaks`; ``level_break``: ``"down"``, ``"up"`` or ``"both"``) where there is one."""
        if self.level_break is None:
            return lev
        if self.level_break not in ("down", "up", "both"):
            raise ModelError(f"level_break must be None, 'down', 'up' or 'both', got {self.level_break!r}")
        k = LEVEL_BREAK_MAX_RUN
        T = y.shape[1]
        hol = np.zeros(T, dtype=bool)  # the panel's periods with an official holiday day (none past its end)
        n = min(T, len(self._holiday_periods))
        hol[:n] = self._holiday_periods[:n]
        if lev.ndim == 1:  # the last column only: the periods it reads
            a = max(0, T - k - LEVEL_BREAK_WINDOW)
            run, mean = level_breaks(y[:, a:], k, direction=self.level_break, blocked=hol[a:])
            run, mean = run[:, -1], mean[:, -1]
        else:
            run, mean = level_breaks(y, k, direction=self.level_break, blocked=hol)
        return np.where(run > 0, mean, lev)

    def _fit_holidays(self, y: np.ndarray, periods: pd.DatetimeIndex, freq: str) -> None:
        """The holiday factors from ``y`` (the columns the models may see), for :meth:`_fac`."""
        from govml.hotspot.holidays import estimate_holiday_factors

        self.holiday_factors_ = (estimate_holiday_factors(y, periods, freq) if self.holidays in ("auto", "fill", "divide")
                                 else None)
        self._fac_cache = np.ones(0)

    def _fac(self, n: int) -> np.ndarray:
        """The holiday factors of the fitted panel's columns ``0..n-1`` (past the panel: the calendar's
        future periods); all 1 without an active holiday effect."""
        hf = getattr(self, "holiday_factors_", None)
        if hf is None or not hf.active:
            return np.ones(n)
        if len(self._fac_cache) < n:
            from govml.hotspot.holidays import factors_for_columns

            self._fac_cache = factors_for_columns(hf, self._period0, max(n, len(self._fac_cache) + 64))
        return self._fac_cache[:n]

    def _deholiday(self, y: np.ndarray) -> np.ndarray:
        """What the level's windows average: the counts as they are (``holidays="auto"``, the default,
        and without an active holiday effect); with ``holidays="fill"`` the holiday periods' dips filled
        in from ``y`` itself (:func:`~govml.hotspot.holidays.fill_holiday_dips`), with ``"divide"`` the
        counts divided by their period's fitted factor."""
        hf = getattr(self, "holiday_factors_", None)
        if hf is None or not hf.active or self.holidays == "auto":
            return y
        if self.holidays == "divide":
            return y / self._fac(y.shape[1])[None, :]
        from govml.hotspot.calendar import period_range
        from govml.hotspot.holidays import fill_holiday_dips

        return fill_holiday_dips(y, period_range(self._period0, y.shape[1], hf.freq), hf.freq)

    def _fit_models(self, fb: FeatureBuilder, last_target: int, n_trees: int | dict[int, int] | None = None,
                    early_stop: bool = False, gate: bool = False) -> tuple[dict[int, Any], np.ndarray | None]:
        """One model per needed horizon, trained on targets at column indices <= ``last_target``,
        and the level weights chosen on the same data.

        ``early_stop`` (calibration models, direct strategy, with a level): each horizon's model
        watches L2 and L1 on the holdout origins after ``last_target`` (columns ``last_target ..
        T - 1 - h``, targets observed) and stops once either has not improved for
        ``_EARLY_STOP_ROUNDS`` trees; the number of trees is then chosen on the same holdout.

        ``gate`` (``tree_gate="horizon1"``, with ``early_stop``): the horizon-1 model is trained first and its own
        holdout rows choose a tree count (the pooled rule on them alone); when that is 0 the other horizons' models
        are not trained (None: the level alone) and ``_select_trees`` keeps no tree (``_gate_fired``).
        """
        rng = np.random.default_rng(self.random_state)
        models = {}
        names = fb.feature_names()
        if early_stop:  # each horizon's holdout rows, which the tree choice reads again (_select_trees)
            self._hold_X: dict[int, tuple[np.ndarray, pd.DataFrame]] | None = {}
            self._gate_fired = False
        gated = False
        first_origin = 1
        self._fit_holidays(fb.y[:, : last_target + 1], fb.periods, fb.freq)
        y_lv = self._deholiday(fb.y)  # the level averages holiday-adjusted counts ...
        weights = self._level_weights(y_lv[:, : last_target + 1],
                                      None if self._level_windows() is None or self.offset_window != "auto"
                                      else self._candidates(y_lv)[:, : last_target + 1])
        level = self._level(y_lv, weights)
        fac = self._fac(fb.y.shape[1] + self.horizon)  # ... and is multiplied by the target period's factor
        for h in self._model_horizons():
            k_h = n_trees.get(h) if isinstance(n_trees, dict) else n_trees
            hi = last_target - h
            lo = first_origin if self.train_window is None else max(first_origin, hi - self.train_window + 1)
            if hi < lo:
                raise ModelError(f"too little history to train the horizon-{h} model: need at least "
                                 f"{first_origin + h + 1} periods, have {last_target + 1} (use a smaller "
                                 f"horizon= (--horizon; now {self.horizon}), strategy='recursive' (--strategy "
                                 "recursive), or more history)")
            origins = np.arange(lo, hi + 1)
            S = fb.y.shape[0]
            n_rows = S * len(origins)
            series = None
            if self.max_train_rows and n_rows > self.max_train_rows:
                keep_s = max(1, self.max_train_rows // len(origins))
                series = np.sort(rng.choice(S, size=min(S, keep_s), replace=False))
            if (k_h == 0 or gated) and level is not None:  # the level alone: no correction to learn
                models[h] = None
                continue
            X = fb.frame(h, origins, series)
            if not X["y"].to_numpy().any():  # no event among the targets: LightGBM's Poisson refuses it
                if level is None:
                    raise ModelError(f"no event in the horizon-{h} training targets (periods up to column "
                                     f"{last_target}): nothing to learn a count model from")
                models[h] = None  # the level alone (0 where there were no events)
                continue
            model = self._lgbm(h)
            if k_h:
                model.set_params(n_estimators=k_h)
            off = None
            if level is not None:
                sidx = np.arange(S) if series is None else series
                off = np.log(level[np.repeat(sidx, len(origins)), np.tile(origins, len(sidx))]
                             * np.tile(fac[origins + h], len(sidx)) + _OFFSET_EPS)
            fit_kw: dict[str, Any] = {}
            hold = np.arange(last_target, fb.y.shape[1] - h)
            if early_stop and level is not None and len(hold):
                Xv = fb.frame(h, hold)
                self._hold_X[h] = (hold, Xv[names])
                fit_kw = dict(eval_X=(self._hold_X[h][1],), eval_y=(Xv["y"].to_numpy(),),
                              eval_init_score=[np.log((level[:, hold] * fac[hold + h]).reshape(-1) + _OFFSET_EPS)],
                              eval_metric=["l2", "l1"],
                              callbacks=[_StopWhenStalled(int(self.early_stop), *(
                                  (_GATE_ROUNDS, self._gate_judge(fb, weights, last_target))
                                  if gate and h == 1 and _GATE_ROUNDS < int(self.early_stop) else ()))])
                model.set_params(metric="None")
            if self.recency_halflife:  # recent origins count more (a level that shifts)
                age = hi - np.tile(origins, S if series is None else len(series))  # rows series-major
                fit_kw["sample_weight"] = 0.5 ** (age / float(self.recency_halflife))
            model.fit(X[names], X["y"].to_numpy(), init_score=off, **fit_kw)
            if self.n_bags > 1 and not early_stop:  # final models: average the raw scores of seeds
                bag = [model]
                for b in range(1, int(self.n_bags)):
                    mb = self._lgbm(h + 1000 * b)
                    if k_h:
                        mb.set_params(n_estimators=k_h)
                    mb.fit(X[names], X["y"].to_numpy(), init_score=off, **fit_kw)
                    bag.append(mb)
                model = _BaggedModel(bag)
            models[h] = model
            if gate and early_stop and h == 1 and level is not None and fit_kw.get("eval_X") is not None:
                # tree_gate="horizon1": the horizon-1 model judged on its own holdout rows first; no tree kept
                # there, none is tried for the other horizons (their models are not trained)
                judged = getattr(self, "_h1_judged", None)  # the judge's forecasts, when training stopped there
                staged = (judged[1] if judged is not None and judged[0] == model.booster_.current_iteration() else
                          self._staged_holdout(fb.y, fb, model, weights, last_target, 1))
                self._h1_staged, self._h1_judged = (model, staged), None
                gated = self._gate_fired = self._choose_trees(*staged[:2], self._tree_grid(), quiet=True) == 0
                if gated:
                    log.info("tree gate: the horizon-1 calibration model keeps no tree on its holdout rows; the "
                             "other horizons' calibration models are not trained (the level alone)")
        return models, weights

    def _gate_judge(self, fb: FeatureBuilder, weights: np.ndarray, last_target: int) -> Any:
        """tree_gate: the test the horizon-1 calibration model meets while it is trained, the first time its holdout
        L2 or L1 has stalled for ``_GATE_ROUNDS`` trees: True (stop there) when its trees so far, scored on its own
        holdout rows by the tree-count rule, keep none; otherwise it trains on to the ``early_stop`` rule."""
        def judge(booster: Any) -> bool:
            staged = self._staged_holdout(fb.y, fb, _BoosterModel(booster), weights, last_target, 1)
            self._h1_judged = (booster.current_iteration(), staged)
            return self._choose_trees(*staged[:2], self._tree_grid(), quiet=True) == 0
        return judge

    def _predict_rows(self, model: Any, X: pd.DataFrame, level: np.ndarray | None) -> np.ndarray:
        if model is None:
            return level + 0.0
        if level is None:
            return model.predict(X[self.feature_names_])
        return np.exp(model.predict(X[self.feature_names_], raw_score=True) + np.log(level + _OFFSET_EPS))

    def _predict_matrix(self, y_hist: np.ndarray, keys: pd.DataFrame, periods: pd.DatetimeIndex,
                        models: dict[int, Any], horizon: int, fb: FeatureBuilder | None = None,
                        weights: np.ndarray | None = None, strategy: str | None = None) -> np.ndarray:
        """(S × horizon) mean forecasts made at the last column of ``y_hist``.

        ``fb`` may be built on a longer panel: its features at column ``o`` use columns ``<= o``
        only, so reading them at ``o = y_hist.shape[1] - 1`` is the same (the recursive path uses
        it for its first step only). ``strategy`` (default: the estimator's) picks the path;
        ``"combined"`` is ``combine_weight_[h] * direct + (1 - combine_weight_[h]) * recursive``.
        """
        strategy = strategy or self.strategy
        spec = self._spec()
        if strategy == "combined":
            if fb is None and any(models.get(h) is not None for h in range(1, min(horizon, self.horizon) + 1)):
                fb = self._builder(y_hist, keys, periods, spec, last_only=True)  # one for both halves
            d = self._predict_matrix(y_hist, keys, periods, models, horizon, fb, weights, "direct")
            r = self._predict_matrix(y_hist, keys, periods, models, horizon, fb, weights, "recursive")
            cw = np.array([self.combine_weight_.get(min(h, self.horizon), 0.5) for h in range(1, horizon + 1)])
            return cw * d + (1.0 - cw) * r
        o = y_hist.shape[1] - 1
        out = np.zeros((y_hist.shape[0], horizon))
        cap = _CAP_FACTOR * y_hist.max(axis=1) + 1.0  # guard against a runaway multiplicative correction
        # a horizon whose model is None is the level alone: no feature is read, so none is built (session 19:
        # on Boston no tree is kept and the frames were built for nothing — the same forecasts)
        if strategy == "direct":
            lev = self._level_at(y_hist, weights, 0)
            fac = self._fac(o + 1 + horizon)
            for h in range(1, horizon + 1):
                if models[h] is None:
                    X = None
                else:
                    if fb is None:  # only the last origin is read
                        fb = self._builder(y_hist, keys, periods, spec, last_only=True)
                    X = fb.frame(h, [o])
                out[:, h - 1] = self._predict_rows(models[h], X, None if lev is None else lev * fac[o + h])
            return np.clip(out, 0.0, cap[:, None])
        from govml.hotspot.calendar import FREQS

        y_ext, per = y_hist, periods
        n_obs = y_hist.shape[1]  # the columns after it are the recursion's forecasts
        obs_kw = {"n_obs": n_obs} if getattr(self, "_intra_src", None) else {}  # (the builder's signature otherwise)
        trees = models[1] is not None  # else the level alone: each step only extends y (the level reads nothing else)
        for h in range(1, horizon + 1):
            X = None
            if trees:
                if h > 1 or fb is None:  # only the last column is read
                    fb = self._builder(y_ext, keys, per, spec, last_only=True, **obs_kw)
                X = fb.frame(1, [y_ext.shape[1] - 1])
            out[:, h - 1] = np.clip(self._predict_rows(models[1], X, self._level_at(y_ext, weights, n_obs=n_obs)),
                                    0.0, cap)
            y_ext = np.concatenate([y_ext, out[:, h - 1:h]], axis=1)
            if trees:
                per = pd.date_range(per[0], periods=len(per) + 1, freq=FREQS[fb.freq])
        return out

    def _level_at(self, y_hist: np.ndarray, weights: np.ndarray | None, h: int = 1,
                  n_obs: int | None = None) -> np.ndarray | None:
        """The level at the last column ``o`` of ``y_hist`` (one value per series) as the forecast of
        column ``o + h``: the weighted candidates of the holiday-adjusted counts times the holiday
        factor of column ``o + h`` (``h = 0``: without a target factor). ``n_obs``: the observed columns of
        ``y_hist`` (default all; the rest are a recursion's forecasts)."""
        if weights is None:
            return None
        y_lv = self._deholiday(y_hist)
        L = level_at_end(y_lv, self._level_windows(), self.level_groups_, self.level_areas_,
                         self._intra(y_lv, n_obs, level=True))
        lev = self._after_break(y_lv, L @ weights if weights.ndim == 1 else np.sum(L * weights, axis=1))
        return lev * self._fac(y_hist.shape[1] + h)[-1] if h > 0 else lev

    def _thresholds(self, y_hist: np.ndarray) -> np.ndarray:
        if self.hotspot_window is not None:
            if int(self.hotspot_window) < 1:
                raise ModelError(f"hotspot_window must be 1 or more periods (or None: all), got {self.hotspot_window!r}")
            y_hist = y_hist[:, -int(self.hotspot_window):]
        q = np.quantile(y_hist, self.hotspot_quantile, axis=1)
        return np.maximum(q, self.min_hotspot_count)

    # -- public API ----------------------------------------------------------------------------
    def fit(self, panel: pd.DataFrame) -> HotspotForecaster:
        """Calibrate on an inner rolling-origin holdout, then fit on the whole panel."""
        y, keys, periods = panel_matrix(panel)
        # the keys carry the panel's attrs (a synthetic panel's true rates: 5.7M numbers at the scale target), which
        # pandas deep-copies on every column read; nothing here reads them
        keys.attrs = {}
        start = data_start(y)
        if start > 0:
            log.info("the panel's first %d period(s) (before %s) hold almost no events (%d in all): treated "
                     "as before data collection began and left out of the model", start,
                     pd.Timestamp(periods[start]).date(), int(y[:, :start].sum()))
            y, periods = y[:, start:], periods[start:]
        self.data_start_ = start
        self._read_intra(panel, start, periods)
        if self.holidays not in ("auto", "fill", "divide", None, "off"):
            raise ModelError(f"holidays must be 'auto', 'fill', 'divide' or None ('off'), got {self.holidays!r}")
        if self.reconcile is not None:  # said before the cell model is fitted (minutes on a large panel), not after
            from govml.hotspot.reconcile import METHODS as _RECONCILE

            if self.reconcile not in _RECONCILE:
                raise ModelError(f"reconcile must be None or one of {', '.join(_RECONCILE)}, got {self.reconcile!r}")
        self._period0 = pd.Timestamp(periods[0]) if len(periods) else pd.Timestamp(0)
        self.level_groups_ = (keys["category"].cat.codes.to_numpy().astype(np.int64)
                              if "category" in keys and isinstance(keys["category"].dtype, pd.CategoricalDtype)
                              else np.zeros(len(keys), dtype=np.int64))
        self.level_areas_ = (keys["area"].cat.codes.to_numpy().astype(np.int64)
                             if "area" in keys and isinstance(keys["area"].dtype, pd.CategoricalDtype)
                             else pd.factorize(keys["area"])[0].astype(np.int64) if "area" in keys
                             else np.zeros(len(keys), dtype=np.int64))
        spec = self._spec()
        T = y.shape[1]
        H = self.horizon
        fb = self._builder(y, keys, periods, spec)
        self.feature_names_ = fb.feature_names()
        self._holiday_periods = np.zeros(T, dtype=bool)
        if self.level_break is not None:  # level_break: a run over a holiday period is no break
            from govml.hotspot.calendar import calendar_matrix

            self._holiday_periods = calendar_matrix(pd.DatetimeIndex(periods), fb.freq)[:, 0] > 0
        self.calibrated_ = False
        self.conformal_ = {h: (-1.645, 1.645) for h in range(1, H + 1)}
        self.conformal_bins_: dict[int, list[tuple[float, float]]] = {}
        self.dispersion_ = {h: 0.0 for h in range(1, H + 1)}
        self.hotspot_map_: dict[int, HotspotMap] = {}
        self.hotspot_holdout_: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        HotspotMap(self.hotspot_calibration, self.hotspot_dispersion)  # checks the options
        self.blend_weight_ = {h: 1.0 for h in range(1, H + 1)}
        self.blend_window_ = {h: BLEND_WINDOWS[0] for h in range(1, H + 1)}
        self.point_weight_ = {h: 0.0 for h in range(1, H + 1)}
        self.point_shift_ = {h: 0.0 for h in range(1, H + 1)}
        if self.point_rule not in POINT_RULES:
            raise ModelError(f"point_rule must be one of {POINT_RULES}, got {self.point_rule!r}")
        if self.combine_weight != "auto" and not 0.0 <= float(self.combine_weight) <= 1.0:
            raise ModelError(f"combine_weight must be 'auto' or a number in [0, 1], got {self.combine_weight!r}")
        self.combine_weight_ = {h: 0.5 if self.combine_weight == "auto" else float(self.combine_weight)
                                for h in range(1, H + 1)}
        if self.point not in ("auto", "mean"):
            raise ModelError(f"point must be 'auto' or 'mean', got {self.point!r}")
        if self.tree_choice not in ("pooled", "per_horizon"):
            raise ModelError(f"tree_choice must be 'pooled' or 'per_horizon', got {self.tree_choice!r}")
        if self.tree_gate not in (None, "horizon1"):
            raise ModelError(f"tree_gate must be None or 'horizon1', got {self.tree_gate!r}")
        self.n_trees_ = self.n_estimators
        self.n_trees_by_horizon_ = {h: self.n_estimators for h in self._model_horizons()}
        self.tree_gate_fired_ = False  # set by the calibration (tree_gate)
        C = self.calibration_origins
        first_holdout = T - H - C  # first holdout origin column
        if self.untested_trees not in ("all", "none"):
            raise ModelError(f"untested_trees must be 'all' or 'none', got {self.untested_trees!r}")
        if C > 0 and first_holdout - H >= 4:
            self._calibrate(y, keys, periods, fb, first_holdout)
        elif C > 0:
            log.warning("too little history to calibrate intervals and p_hotspot (%d periods); using "
                        "Poisson intervals and uncalibrated probabilities%s", T,
                        "; the level alone is the forecast (no holdout to choose trees on)"
                        if self.untested_trees == "none" else
                        f"; all {self.n_estimators} trees kept, none chosen on a holdout")
        if (not self.calibrated_ and self.untested_trees == "none" and self.select_trees
                and self._level_windows() is not None):
            # no inner holdout to choose the number of trees on: the level alone (the trees must earn their place)
            self.n_trees_ = 0
            self.n_trees_by_horizon_ = {h: 0 for h in self._model_horizons()}
        self.models_, self.level_weights_ = self._fit_models(fb, T - 1, n_trees=self.n_trees_by_horizon_)
        self._cand_cache = None  # the level candidates (S × T × k) are not kept in the fitted model
        self.y_, self.keys_, self.periods_ = y, keys, periods
        self.threshold_ = self._thresholds(y)
        self.hotspot_ref_ = exceedance_rate(y, self.threshold_)  # each cell's past exceedance rate
        if self.reconcile is not None:  # session 16, an option: reconcile with the area / category / total forecasts
            from govml.hotspot.reconcile import fit_reconciliation

            fit_reconciliation(self, panel)
        return self

    def _calibrate(self, y: np.ndarray, keys: pd.DataFrame, periods: pd.DatetimeIndex,
                   fb: FeatureBuilder, first_holdout: int) -> None:
        H = self.horizon
        T = y.shape[1]
        early = bool(self.select_trees and self.early_stop)
        gate = bool(early and self.tree_gate == "horizon1" and self.tree_choice == "pooled"
                    and self.strategy != "recursive")
        models, weights = self._fit_models(fb, first_holdout, early_stop=early, gate=gate)
        thr = self._thresholds(y[:, : first_holdout + 1])
        rec: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {h: [] for h in range(1, H + 1)}
        staged: dict[tuple[int, int], np.ndarray] = {}
        if self.select_trees and weights is not None:
            if self.strategy == "recursive":
                self.n_trees_, staged = self._select_trees_recursive(y, keys, periods, fb, models, weights,
                                                                     first_holdout)
                self.n_trees_by_horizon_ = {1: self.n_trees_}
            else:
                self.n_trees_by_horizon_, staged = self._select_trees(y, fb, models, weights, first_holdout)
                self.n_trees_ = max(self.n_trees_by_horizon_.values())
            models = self._truncate_models(models, self.n_trees_by_horizon_)
        self.tree_gate_fired_ = bool(getattr(self, "_gate_fired", False))
        self._hold_X = self._hold_lev = self._h1_staged = self._h1_judged = None  # not kept in the fitted model
        self._gate_fired = False
        direct_hold: dict[int, list[np.ndarray]] = {h: [] for h in range(1, H + 1)}
        rec_hold: dict[int, list[np.ndarray]] = {h: [] for h in range(1, H + 1)}
        for o in range(first_holdout, T - 1):
            nh = min(H, T - 1 - o)
            if self.strategy == "combined":  # direct (staged or predicted) and recursive, combined below
                d = (np.column_stack([staged[(o, h)] for h in range(1, nh + 1)]) if staged else
                     self._predict_matrix(y[:, : o + 1], keys, periods[: o + 1], models, nh, fb=fb,
                                          weights=weights, strategy="direct"))
                r = self._predict_matrix(y[:, : o + 1], keys, periods[: o + 1], models, nh, fb=fb,
                                         weights=weights, strategy="recursive")
                for h in range(1, nh + 1):
                    direct_hold[h].append(d[:, h - 1])
                    rec_hold[h].append(r[:, h - 1])
                mu = np.zeros((y.shape[0], 0))
            elif staged:  # the holdout forecasts with the chosen trees, already computed by tree selection
                mu = np.column_stack([staged[(o, h)] for h in range(1, nh + 1)])
            else:
                mu = self._predict_matrix(y[:, : o + 1], keys, periods[: o + 1], models, nh, fb=fb,
                                          weights=weights)
            bases = np.stack([y[:, max(0, o - w + 1): o + 1].mean(axis=1) for w in BLEND_WINDOWS], axis=1)
            for h in range(1, mu.shape[1] + 1):
                rec[h].append((mu[:, h - 1], y[:, o + h], bases))
        if self.strategy == "combined":
            for h in range(1, H + 1):
                if not direct_hold[h]:
                    continue
                n_o = len(direct_hold[h])
                obs_h = np.concatenate([y[:, first_holdout + i + h] for i in range(n_o)])
                d, r = np.concatenate(direct_hold[h]), np.concatenate(rec_hold[h])
                self.combine_weight_[h] = (choose_combine_weight(d, r, obs_h) if self.combine_weight == "auto"
                                           else float(self.combine_weight))
                cw = self.combine_weight_[h]
                for i in range(n_o):
                    o = first_holdout + i
                    bases = np.stack([y[:, max(0, o - w + 1): o + 1].mean(axis=1) for w in BLEND_WINDOWS], axis=1)
                    rec[h].append((cw * direct_hold[h][i] + (1 - cw) * rec_hold[h][i], y[:, o + h], bases))
        alpha = 1.0 - self.interval
        for h in range(1, H + 1):
            if not rec[h]:
                continue
            mu = np.concatenate([r[0] for r in rec[h]])
            obs = np.concatenate([r[1] for r in rec[h]])
            base = np.concatenate([r[2] for r in rec[h]])
            if self.blend == "auto":
                w, j = _choose_blend(mu, base, obs)
                self.blend_weight_[h] = w
                self.blend_window_[h] = BLEND_WINDOWS[j]
                mu = w * mu + (1 - w) * base[:, j]
            r = (obs - mu) / np.sqrt(mu + _SCALE_C)
            n = len(r)
            lo_q = max(0.0, np.floor((n + 1) * alpha / 2) / n)
            hi_q = min(1.0, np.ceil((n + 1) * (1 - alpha / 2)) / n)
            self.conformal_[h] = (float(np.quantile(r, lo_q)), float(np.quantile(r, hi_q)))
            self.conformal_bins_[h] = _conformal_bins(r, mu, alpha)
            denom = float(np.sum(mu**2))
            self.dispersion_[h] = max(0.0, float(np.sum((obs - mu) ** 2 - mu) / denom)) if denom > 0 else 0.0
            if self.point == "auto" and self.point_rule == "shift":
                self.point_shift_[h] = choose_point_shift(mu, obs, self.dispersion_[h],
                                                          rmse_tol=self.point_rmse_tolerance)
            elif self.point == "auto":
                self.point_weight_[h] = choose_point_weight(mu, obs, self.dispersion_[h],
                                                            rmse_tol=self.point_rmse_tolerance)
            thr_rows = np.tile(thr, len(rec[h]))
            # p_hotspot's map, fitted on the same holdout forecasts (its own dispersion when banded; the
            # point rule above keeps the pooled one, so yhat does not depend on the p_hotspot options)
            # each holdout row's cell: its past exceedance rate of the threshold at that row's origin
            ref_rows = np.concatenate([exceedance_rate(y[:, : first_holdout + i + 1], thr)
                                       for i in range(len(rec[h]))])
            if self._keep_hotspot_holdout or self.reconcile is not None:  # benchmarks refit other maps on it;
                # reconcile: the errors for W (fit_reconciliation drops them after); not kept in a saved model
                self.hotspot_holdout_[h] = (mu, obs, thr_rows, ref_rows)
            hm = HotspotMap(self.hotspot_calibration, self.hotspot_dispersion).fit(mu, obs, thr_rows,
                                                                                   self.dispersion_[h], ref_rows)
            self.hotspot_map_[h] = hm
        self.calibrated_ = True

    def _select_trees(self, y: np.ndarray, fb: FeatureBuilder, models: dict[int, Any], weights: np.ndarray,
                      first_holdout: int) -> tuple[dict[int, int], dict[tuple[int, int], np.ndarray]]:
        """Number of trees (0 = the level alone) that forecasts the inner holdout best, per horizon.

        Staged forecasts of the calibration models at every ``n_estimators / 20`` trees, pooled
        over the holdout origins and horizons, scored by RMSE/RMSE_level + MAE/MAE_level (the level
        alone is the reference: the trees must earn their place on both losses). Ties go to fewer
        trees, and so does any score within ``_TREE_TOLERANCE`` (0.01) of the best. With
        ``tree_choice="per_horizon"`` each horizon's model gets its own number, scored on its own
        holdout rows. Returns the numbers and the holdout forecasts with them, per (origin column,
        horizon), which the calibration reuses.
        """
        S = y.shape[0]
        grid = self._tree_grid()
        preds, obs, where = [], [], []
        h1 = getattr(self, "_h1_staged", None)  # the gate's horizon-1 forecasts, when it judged this model
        for h in range(1, self.horizon + 1):
            got = (h1[1] if h == 1 and h1 is not None and h1[0] is models[1] else
                   self._staged_holdout(y, fb, models[h], weights, first_holdout, h,
                                        level_only=getattr(self, "_gate_fired", False)))
            if got is None:
                continue
            preds.append(got[0])
            obs.append(got[1])
            where.append((h, got[2]))
        if getattr(self, "_gate_fired", False):  # tree_gate: horizon 1 kept no tree, the others were not trained
            js = {h: 0 for h, _ in where}
        elif self.tree_choice == "per_horizon":
            js = {h: self._choose_trees(pr, ob, grid) for (h, _), pr, ob in zip(where, preds, obs, strict=True)}
        else:
            j = self._choose_trees(np.concatenate(preds), np.concatenate(obs), grid)
            js = {h: j for h, _ in where}
        ks = {h: int(grid[js.get(h, js[max(js)])]) for h in range(1, self.horizon + 1)}
        chosen: dict[tuple[int, int], np.ndarray] = {}
        for (h, origins), pr in zip(where, preds, strict=True):
            m = pr[:, js[h]].reshape(S, len(origins))
            for i, o in enumerate(origins):
                chosen[(int(o), h)] = m[:, i]
        return ks, chosen

    def _staged_holdout(self, y: np.ndarray, fb: FeatureBuilder, model: Any, weights: np.ndarray, first_holdout: int,
                        h: int, level_only: bool = False
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Horizon ``h``'s inner-holdout forecasts (series-major rows × the tree grid; capped as in ``predict``), the
        observed counts and the holdout origins (None when no origin has its target observed). ``level_only``: the
        grid's first column (0 trees, the level alone) only, without the model."""
        T = y.shape[1]
        holdout = np.arange(first_holdout, T - 1)
        n_o = int(np.sum(holdout + h <= T - 1))
        if n_o == 0:
            return None
        origins = holdout[:n_o]
        cache = getattr(self, "_hold_lev", None)
        if cache is None or cache[0] != first_holdout or cache[1] is not weights:
            lev = np.column_stack([self._level_at(y[:, : o + 1], weights, 0) for o in holdout])  # S × origins
            cap = np.column_stack([_CAP_FACTOR * y[:, : o + 1].max(axis=1) + 1.0 for o in holdout])
            self._hold_lev = cache = (first_holdout, weights, lev, cap)
        lev, cap = cache[2], cache[3]
        fac = self._fac(T + self.horizon)
        base = np.log(lev[:, :n_o] * fac[origins + h] + _OFFSET_EPS).reshape(-1)
        if level_only:
            raw = np.zeros((len(base), 1))
        else:
            kept = self._hold_X.get(h) if getattr(self, "_hold_X", None) else None  # early stopping's frame
            X = kept[1] if kept is not None and np.array_equal(kept[0], origins) else \
                fb.frame(h, origins)[self.feature_names_]
            # on n_jobs threads: a prediction sets LightGBM's (process-wide) OpenMP thread count, and a judge's
            # prediction with the default (all cores) made the rest of that model's training ~2x the CPU (measured)
            raw = _staged_raw(model, X, self._tree_grid(), num_threads=self.n_jobs)  # series-major rows
        pred = np.clip(np.exp(raw + base[:, None]), 0.0, cap[:, :n_o].reshape(-1)[:, None])
        return pred, y[:, origins + h].reshape(-1), origins

    def _tree_grid(self) -> np.ndarray:
        return np.arange(0, self.n_estimators + 1, max(1, self.n_estimators // 20))

    def _choose_trees(self, P: np.ndarray, t: np.ndarray, grid: np.ndarray, quiet: bool = False) -> int:
        """Index into ``grid`` of the tree count whose holdout forecasts (columns of ``P``) score best.

        Score RMSE/RMSE_level + MAE/MAE_level (column 0 is the level alone); the fewest trees within
        ``_TREE_TOLERANCE`` of the best score (a few holdout origins are a noisy judge; the level
        alone is the safer fallback).
        """
        t = t[:, None]
        rmse = np.sqrt(np.mean((P - t) ** 2, axis=0))
        mae = np.mean(np.abs(P - t), axis=0)
        score = rmse / max(rmse[0], 1e-12) + mae / max(mae[0], 1e-12)
        j = int(np.flatnonzero(score <= score.min() + _TREE_TOLERANCE)[0])
        if not quiet:
            log.info("trees chosen on the inner holdout: %d of %d (score %.4f; level alone 2.0000)", int(grid[j]),
                     self.n_estimators, float(score.min()))
        return j

    def _select_trees_recursive(self, y: np.ndarray, keys: pd.DataFrame, periods: pd.DatetimeIndex,
                                fb: FeatureBuilder, models: dict[int, Any], weights: np.ndarray,
                                first_holdout: int) -> tuple[int, dict[tuple[int, int], np.ndarray]]:
        """The recursive strategy's number of trees, chosen like the direct one's.

        The one-step calibration model cut at each tree count of the grid forecasts every holdout
        origin recursively (its own forecasts fed back) for horizons ``1..horizon``; the same score
        as the direct strategy's, pooled over origins and horizons, picks the count.
        """
        T = y.shape[1]
        grid = self._tree_grid()
        holdout = np.arange(first_holdout, T - 1)
        # an early-stopped model forecasts the same at every count past its last tree: one path for those
        trained = models[1].booster_.current_iteration() if models.get(1) is not None else 0
        paths: list[dict[int, np.ndarray]] = []
        done: dict[int, dict[int, np.ndarray]] = {}
        for k in np.minimum(grid, trained):
            if int(k) not in done:
                m = self._truncate_models(models, int(k))
                done[int(k)] = {int(o): self._predict_matrix(y[:, : o + 1], keys, periods[: o + 1], m,
                                                             min(self.horizon, T - 1 - int(o)), fb=fb,
                                                             weights=weights)
                                for o in holdout}
            paths.append(done[int(k)])
        cols, obs = [], []
        for o in holdout:
            nh = paths[0][int(o)].shape[1]
            cols.append(np.stack([p[int(o)].T.reshape(-1) for p in paths], axis=1))  # horizon-major rows
            obs.append(y[:, o + 1: o + 1 + nh].T.reshape(-1))
        j = self._choose_trees(np.concatenate(cols), np.concatenate(obs), grid)
        chosen = {(int(o), h): paths[j][int(o)][:, h - 1] for o in holdout for h in range(1, paths[j][int(o)].shape[1] + 1)}
        return int(grid[j]), chosen

    @staticmethod
    def _truncate_models(models: dict[int, Any], k: int | dict[int, int]) -> dict[int, Any]:
        """The calibration models cut to their first ``k`` trees (per horizon when ``k`` is a dict;
        None for 0: the level alone)."""
        ks = k if isinstance(k, dict) else {h: k for h in models}
        return {h: None if ks[h] == 0 else _BoosterModel(m.booster_, ks[h]) for h, m in models.items()}

    def _check(self) -> None:
        if not hasattr(self, "models_"):
            raise ModelError("HotspotForecaster is not fitted: call fit(panel) first")

    def predict(self, horizon: int | None = None) -> pd.DataFrame:
        """Forecasts for every series, ``1..horizon`` periods after the panel's last period.

        Columns: ``area, category, [district], period_start, horizon, yhat, yhat_lo, yhat_hi,
        p_hotspot, threshold``.
        """
        self._check()
        H = horizon or self.horizon
        if H > self.horizon and self.strategy != "recursive":
            raise ModelError(f"this forecaster was fitted for horizons up to {self.horizon}, asked for {H}")
        mu = self._predict_matrix(self.y_, self.keys_, self.periods_, self.models_, H, weights=self.level_weights_)
        if self.reconcile is not None:  # the reconciled mean (a model saved before session 16 loads with
            # reconcile=None: govml._compat); intervals, p_hotspot and the point follow from it
            from govml.hotspot.reconcile import apply_reconciliation

            mu = apply_reconciliation(self, mu)
        lo = np.zeros_like(mu)
        hi = np.zeros_like(mu)
        p = np.zeros_like(mu)
        pt = np.zeros_like(mu)
        for h in range(1, H + 1):
            hh = min(h, self.horizon)
            w = self.blend_weight_.get(hh, 1.0)
            base = self.y_[:, -self.blend_window_.get(hh, BLEND_WINDOWS[0]):].mean(axis=1)
            mu[:, h - 1] = w * mu[:, h - 1] + (1 - w) * base
            m = mu[:, h - 1]
            q_lo, q_hi = self.conformal_.get(hh, (-1.645, 1.645))
            bins = getattr(self, "conformal_bins_", {}).get(hh)
            if bins:
                qb = np.asarray(bins, dtype=float)[np.searchsorted(_BIN_EDGES, m, side="right")]
                q_lo, q_hi = qb[:, 0], qb[:, 1]
            s = np.sqrt(m + _SCALE_C)
            lo[:, h - 1] = np.maximum(0.0, m + q_lo * s)
            hi[:, h - 1] = np.maximum(m + q_hi * s, lo[:, h - 1])
            p[:, h - 1] = self._p_hotspot(m, hh)
            # the point: the mean shifted toward the predictive median by the weight chosen on the holdout
            if getattr(self, "point_shift_", {}).get(hh, 0.0) > 0:  # point_rule="shift"
                pt[:, h - 1] = point_shift_forecast(m, self.dispersion_.get(hh, 0.0), self.point_shift_[hh])
            else:
                pt[:, h - 1] = point_forecast(m, self.dispersion_.get(hh, 0.0), self.point_weight_.get(hh, 0.0))
            lo[:, h - 1] = np.minimum(lo[:, h - 1], pt[:, h - 1])
            hi[:, h - 1] = np.maximum(hi[:, h - 1], pt[:, h - 1])
        out = forecast_frame(self.keys_, self.periods_, pt)
        out["yhat_mean"] = mu.reshape(-1)
        out["yhat_lo"] = lo.reshape(-1)
        out["yhat_hi"] = hi.reshape(-1)
        out["p_hotspot"] = p.reshape(-1)
        out["threshold"] = np.repeat(self.threshold_, H)
        return out

    def _p_hotspot(self, m: np.ndarray, hh: int, hmap: HotspotMap | None = None) -> np.ndarray:
        """P(y > threshold) of forecasts with mean ``m`` at horizon ``hh``: the fitted map (or ``hmap``);
        uncalibrated, the negative binomial with the pooled dispersion (Poisson without a holdout)."""
        hmap = hmap if hmap is not None else getattr(self, "hotspot_map_", {}).get(hh)
        if hmap is not None:
            return hmap.predict(m, self.threshold_, getattr(self, "hotspot_ref_", None))
        return _nb_sf(self.threshold_, m, self.dispersion_.get(hh, 0.0))

    def explain(self, horizon: int | None = None, top: int = 3) -> pd.DataFrame:
        """Top ``top`` features behind each forecast, from LightGBM ``pred_contrib``.

        Columns: ``area, category, period_start, horizon, rank, feature, value, contribution,
        text``; contributions are on the model's log scale (positive = pushes the forecast up).
        For the recursive strategy the one-step model's reasons are shown for every horizon; for the
        combined one, each horizon's direct model's (the recursive half reuses the one-step model).
        With ``reconcile=`` these are the reasons of the cell model's forecast **before** reconciliation (the
        reconciled mean also moves with the area / category / total forecasts): the frame then has a column
        ``explains`` saying so.
        """
        self._check()
        H = horizon or self.horizon
        fb = self._builder(self.y_, self.keys_, self.periods_, last_only=True)
        names = self.feature_names_
        o = self.y_.shape[1] - 1
        frames = []
        for h in range(1, min(H, self.horizon) + 1):
            X = fb.frame(h, [o])
            model = self.models_[1 if self.strategy == "recursive" else h]
            if model is None:  # no trees chosen: the forecast is the level itself
                contrib = np.zeros((len(X), len(names)))
            else:
                contrib = model.predict(X[names], pred_contrib=True)[:, :-1]
            order = np.argsort(-np.abs(contrib), axis=1)[:, :top]
            rows = np.repeat(np.arange(len(X)), order.shape[1])
            feats = order.reshape(-1)
            vals = X[names].iloc[:, :].to_numpy(dtype=object)[rows, feats]
            c = contrib[rows, feats]
            fnames = np.asarray(names, dtype=object)[feats]
            text = [f"{f}={_fmt(v)} ({cc:+.2f})" for f, v, cc in zip(fnames, vals, c, strict=True)]
            frames.append(pd.DataFrame({
                "area": X["area"].to_numpy()[rows] if "area" in X else None,
                "category": X["category"].to_numpy()[rows] if "category" in X else None,
                "period_start": X["period_start"].to_numpy()[rows],
                "horizon": h, "rank": np.tile(np.arange(1, order.shape[1] + 1), len(X)),
                "feature": fnames, "value": [_fmt(v) for v in vals], "contribution": c, "text": text,
            }))
        out = pd.concat(frames, ignore_index=True)
        if self.reconcile is not None:  # not the forecast's reasons as a whole: said in the frame itself
            out["explains"] = (f"the cell model before reconcile={self.reconcile!r}: the reconciled forecast also "
                               "moves with the area / category / total forecasts")
        return out

    def describe(self) -> dict[str, Any]:
        """Plain-data summary of the configuration and calibration (for logging)."""
        self._check()
        return {
            "strategy": self.strategy, "objective": self.objective, "horizon": self.horizon,
            "spec": asdict(self._spec()), "calibrated": self.calibrated_,
            "n_trees": self.n_trees_, "n_trees_by_horizon": self.n_trees_by_horizon_,
            "level_weights": None if self.level_weights_ is None else dict(zip(
                [str(w) for w in self._level_windows()],
                [float(v) for v in (self.level_weights_ if self.level_weights_.ndim == 1
                                    else self.level_weights_.mean(axis=0))], strict=True)),
            "holidays": None if self.holiday_factors_ is None else self.holiday_factors_.describe(),
            "point_weight": self.point_weight_, "point_shift": getattr(self, "point_shift_", {}), "combine_weight": self.combine_weight_, "blend_weight": self.blend_weight_, "blend_window": self.blend_window_, "conformal": self.conformal_, "conformal_bins": getattr(self, "conformal_bins_", {}), "dispersion": self.dispersion_,
            "hotspot_map": {h: m.describe() for h, m in getattr(self, "hotspot_map_", {}).items()},
            **({} if self.reconcile is None else {"reconcile": self._describe_reconcile()}),
            **({} if not self.intra_features else {"intra_features": list(self.intra_features)}),
        }

    def _describe_reconcile(self) -> dict[str, Any] | None:
        from govml.hotspot.reconcile import describe_reconciliation

        return describe_reconciliation(self)


def _conformal_bins(r: np.ndarray, mu: np.ndarray, alpha: float) -> list[tuple[float, float]]:
    """Split-conformal quantiles (lo, hi) of the scaled residuals ``r`` per bin of the forecast mean ``mu``
    (:data:`_BIN_EDGES`). A bin with fewer than :data:`_BIN_MIN` residuals takes in its neighbours (below
    first, then above) until it has them, never the near-zero bin 0 unless it is its own; when even that
    is too few, the Poisson ±1.645 (the scaled residual of a Poisson count is about standard normal)."""
    b = np.searchsorted(_BIN_EDGES, mu, side="right")
    n_bins = len(_BIN_EDGES) + 1
    floor = (-1.645, 1.645)
    out = []
    for k in range(n_bins):
        lo_k = hi_k = k
        first = 0 if k == 0 else 1
        sel = b == k
        while sel.sum() < _BIN_MIN and (lo_k > first or hi_k < n_bins - 1):
            if lo_k > first:
                lo_k -= 1
            else:
                hi_k += 1
            sel = (b >= lo_k) & (b <= hi_k)
        n = int(sel.sum())
        if n < _BIN_MIN:
            out.append(floor)
            continue
        rk = r[sel]
        lo_q = max(0.0, np.floor((n + 1) * alpha / 2) / n)
        hi_q = min(1.0, np.ceil((n + 1) * (1 - alpha / 2)) / n)
        out.append((float(np.quantile(rk, lo_q)), float(np.quantile(rk, hi_q))))
    return out


class _StopWhenStalled:
    """LightGBM callback: stop once any validation metric has not improved for ``rounds`` iterations,
    keeping every tree trained so far (``lightgbm.early_stopping`` would cut the model back to its
    best iteration for the first metric, and the number of trees is chosen afterwards on a score
    of its own)."""

    order = 30

    def __init__(self, rounds: int, judge_rounds: int | None = None, judge: Any = None):
        self.rounds = rounds
        self.best: dict[str, tuple[float, int]] = {}
        # tree_gate: the first time a metric has stalled for judge_rounds, judge(booster) may stop training there
        self.judge_rounds, self.judge = judge_rounds, judge

    def __call__(self, env: Any) -> None:
        import lightgbm as lgb

        stalled = judge = False
        for _, name, value, higher_better in env.evaluation_result_list or []:
            v = -value if higher_better else value
            b = self.best.get(name)
            if b is None or v < b[0]:
                self.best[name] = (v, env.iteration)
            elif env.iteration - b[1] >= self.rounds:
                stalled = True
            elif self.judge is not None and env.iteration - b[1] >= self.judge_rounds:
                judge = True
        if judge and not stalled:
            judge_now, self.judge = self.judge, None  # once
            stalled = bool(judge_now(env.model))
        if stalled:
            raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list)


class _BoosterModel:
    """A fitted LightGBM booster behind the few ``LGBMRegressor`` methods the forecaster calls."""

    def __init__(self, booster: Any, num_iteration: int | None = None):
        self.booster_ = booster
        self.num_iteration = num_iteration

    def predict(self, X: pd.DataFrame, raw_score: bool = False, pred_contrib: bool = False,
                pred_leaf: bool = False) -> np.ndarray:
        return self.booster_.predict(X, raw_score=raw_score, pred_contrib=pred_contrib, pred_leaf=pred_leaf,
                                     num_iteration=self.num_iteration)


class _BaggedModel:
    """The average of several LightGBM models' raw scores (seed bagging); ``predict`` on the raw
    scale (and ``pred_contrib``) averages, the mean scale is the exponential of the average (Poisson)."""

    def __init__(self, models: list[Any]):
        self.models = models
        self.booster_ = models[0].booster_

    def predict(self, X: pd.DataFrame, raw_score: bool = False, pred_contrib: bool = False,
                pred_leaf: bool = False) -> np.ndarray:
        if pred_leaf:
            return self.models[0].predict(X, pred_leaf=True)
        if pred_contrib:
            return np.mean([m.predict(X, pred_contrib=True) for m in self.models], axis=0)
        raw = np.mean([m.predict(X, raw_score=True) for m in self.models], axis=0)
        return raw if raw_score else np.exp(raw)


def _leaf_table(booster: Any, leaves: np.ndarray | None = None) -> np.ndarray:
    """(trees × max leaves) leaf values of a LightGBM booster.

    ``leaves`` (rows × trees, from ``pred_leaf``): only the leaves that occur there are read, each with
    ``get_leaf_output`` (the stored double itself: the same values ``dump_model``'s JSON gives at 17 significant
    digits, without dumping and parsing every tree — that was ~15% of a daily panel's fit). Without ``leaves``:
    every leaf, from one ``dump_model``."""
    if leaves is not None:
        leaves = np.asarray(leaves, dtype=np.int64)
        n_trees = leaves.shape[1]
        width = int(leaves.max()) + 1 if leaves.size else 1
        seen = np.zeros(n_trees * width, dtype=bool)
        seen[(leaves + np.arange(n_trees)[None, :] * width).reshape(-1)] = True
        table = np.zeros(n_trees * width)
        get = booster.get_leaf_output
        for f in np.flatnonzero(seen):
            table[f] = get(int(f // width), int(f % width))
        return table.reshape(n_trees, width)
    trees = booster.dump_model()["tree_info"]
    width = max(int(t.get("num_leaves", 1)) for t in trees) if trees else 1
    table = np.zeros((len(trees), width))
    for i, t in enumerate(trees):
        stack = [t["tree_structure"]]
        while stack:
            node = stack.pop()
            if "leaf_value" in node and "split_index" not in node:
                table[i, int(node.get("leaf_index", 0))] = float(node["leaf_value"])
            else:
                stack.extend((node["left_child"], node["right_child"]))
    return table


def _staged_raw(model: Any, X: pd.DataFrame, grid: np.ndarray, num_threads: int | None = None) -> np.ndarray:
    """(rows × len(grid)) raw scores of ``model`` using its first ``k`` trees for each k in ``grid``.

    Every tree of the booster is used (not a ``best_iteration``): one ``pred_leaf`` call, the leaf
    values from one model dump, and a cumulative sum (k = 0 gives 0; k past the last tree, all trees).
    """
    b = model.booster_
    # num_iteration explicit: a booster trained with early stopping would otherwise stop at its best_iteration
    kw = {} if num_threads is None else {"num_threads": int(num_threads)}
    leaves = np.asarray(b.predict(X, pred_leaf=True, num_iteration=b.current_iteration(), **kw),
                        dtype=np.int64).reshape(len(X), -1)
    n_trees = leaves.shape[1]
    vals = _leaf_table(b, leaves)[np.arange(n_trees)[None, :], leaves]
    cum = np.concatenate([np.zeros((len(X), 1)), np.cumsum(vals, axis=1)], axis=1)
    return cum[:, np.minimum(grid, n_trees)]


def data_start(y: np.ndarray, frac: float = _DATA_START_FRAC) -> int:
    """Column where data collection began: the first period whose total over all series reaches
    ``frac`` × the 90th percentile of the period totals (0 when the first period already does).

    A panel is dense from the first event *anywhere*, so a few stray early events (e.g. four
    messages spread over the 18 months before an export really starts) put a long run of
    structural zeros in front of every series. Those zeros are not observations: kept, every
    series "jumps" from nothing to its level in the same few calendar weeks, and the direct
    models for h >= 2 learn that jump as a huge correction tied to the target's period of year,
    which they then apply to the same weeks a year later (docs/hotspots.md, section 3). A thin lead-in
    with isolated busier periods in it (years of a barely used board) is cut where collection settles
    (:func:`govml.coverage.thin_lead_in`), not at its first busy period.
    """
    if y.size == 0:
        return 0
    tot = y.sum(axis=0)
    ref = float(np.quantile(tot, 0.9))
    if ref <= 0:
        return 0
    ok = np.flatnonzero(tot >= frac * ref)
    first = int(ok[0]) if len(ok) else 0
    # a long thin lead-in with a few busier periods in it (a board that was barely used for years) starts
    # where collection settles, not at its first busy period (govml.coverage.thin_lead_in)
    return max(first, thin_lead_in(tot, frac * ref))


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        return "NA" if np.isnan(v) else f"{v:.3g}"
    return str(v)
