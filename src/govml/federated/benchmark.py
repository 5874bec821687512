"""Cross-community benchmarking (跨社区绩效对标) from securely summed statistics.

The unit is a community: its mean score per indicator (assessment tables) or its complaints per
week (event tables). Two secure sums give the citywide distribution without any district's
numbers being seen:

1. *moments*: per indicator ``[n, Σv, Σv²]`` → citywide count, mean and standard deviation (exact
   up to the fixed-point error of the secure sum);
2. *histogram*: per indicator the counts in ``bins`` equal bins over ``[lo, hi]`` (values outside
   fall into the end bins). ``lo``/``hi`` are agreed before any data is seen (``value-range``) or,
   without one, set to mean ± 4 sd from step 1. Percentiles and each community's percentile rank are
   read off the histogram by linear interpolation within a bin: the error is at most one bin width
   for percentiles and at most the share of communities in the same bin for ranks.

Each district then places its own communities in that distribution locally (:func:`standings`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from govml.federated.task import COMPLAINT_RATE

if TYPE_CHECKING:
    import pandas as pd

PERCENTILES = (10, 25, 50, 75, 90)


def community_values(df: pd.DataFrame, indicators: Sequence[str]) -> pd.DataFrame:
    """One row per community, one column per indicator (community means / complaints per week)."""
    import pandas as pd

    if list(indicators) == [COMPLAINT_RATE]:
        t = df["created_at"]
        weeks = max(1.0, (t.max() - t.min()).total_seconds() / (7 * 86400)) if t.notna().any() else 1.0
        counts = df.groupby("community", observed=True).size().astype("float64")
        return pd.DataFrame({COMPLAINT_RATE: counts / weeks})
    # rows in a canonical order first: a group's mean adds its values in row order, so the same rows in
    # another file order gave other last bits (and, without secure aggregation, another release)
    rows = df[["community", *indicators]].sort_values(["community", *indicators], kind="stable")
    return rows.groupby("community", observed=True)[list(indicators)].mean()


def moments_vector(values: pd.DataFrame, indicators: Sequence[str]) -> np.ndarray:
    out = []
    for col in indicators:
        v = values[col].dropna().to_numpy(dtype=np.float64)
        out += [float(v.size), float(v.sum()), float((v * v).sum())]
    return np.asarray(out, dtype=np.float64)


def clip_values(values: pd.DataFrame, value_range: tuple[float, float] | None) -> pd.DataFrame:
    return values if value_range is None else values.clip(lower=value_range[0], upper=value_range[1])


def ranges_from_moments(moments: np.ndarray, n_ind: int, width_sd: float = 4.0) -> list[tuple[float, float]]:
    out = []
    for k in range(n_ind):
        n, s, ss = moments[3 * k: 3 * k + 3]
        n = max(n, 1.0)
        mean = s / n
        sd = float(np.sqrt(max(ss / n - mean * mean, 0.0)))
        half = width_sd * sd if sd > 0 else max(abs(mean), 1.0)
        out.append((mean - half, mean + half))
    return out


def moments_from_histogram(hist: np.ndarray, ranges: Sequence[tuple[float, float]], bins: int) -> np.ndarray:
    """``[n, Σv, Σv²]`` per indicator read from (noisy) bin counts at the bin midpoints.

    Noisy counts are used as they are (negative ones included): the sums stay unbiased, whereas
    clipping at zero would pull every mean towards the middle of the range."""
    out = []
    for k, (lo, hi) in enumerate(ranges):
        c = hist[k * bins:(k + 1) * bins]
        mid = lo + (np.arange(bins) + 0.5) * (hi - lo) / bins
        out += [float(c.sum()), float((c * mid).sum()), float((c * mid * mid).sum())]
    return np.asarray(out, dtype=np.float64)


def bin_index(v: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    w = (hi - lo) / bins
    return np.clip(np.floor((v - lo) / w), 0, bins - 1).astype(np.int64)


def histogram_vector(values: pd.DataFrame, indicators: Sequence[str], ranges: Sequence[tuple[float, float]],
                     bins: int) -> np.ndarray:
    out = np.zeros(len(indicators) * bins, dtype=np.float64)
    for k, (col, (lo, hi)) in enumerate(zip(indicators, ranges, strict=True)):
        v = values[col].dropna().to_numpy(dtype=np.float64)
        out[k * bins:(k + 1) * bins] = np.bincount(bin_index(v, lo, hi, bins), minlength=bins)
    return out


def _hist_percentile(counts: np.ndarray, lo: float, hi: float, p: float) -> float:
    n = counts.sum()
    if n <= 0:
        return float("nan")
    w = (hi - lo) / counts.size
    target = p / 100.0 * n
    cum = np.cumsum(counts)
    b = int(np.searchsorted(cum, target, side="left"))
    b = min(b, counts.size - 1)
    before = cum[b - 1] if b > 0 else 0.0
    frac = 0.0 if counts[b] <= 0 else (target - before) / counts[b]
    return float(lo + w * (b + min(max(frac, 0.0), 1.0)))


def moment_error_bounds(n: float, mean: float, std: float, sum_error: float) -> tuple[float, float]:
    """Largest errors of mean and standard deviation when Σv and Σv² are each off by at most
    ``sum_error`` (the fixed-point bound of the secure sum) and n is exact."""
    if n <= 0:
        return float("nan"), float("nan")
    e = sum_error / n
    var_err = e + 2 * abs(mean) * e + e * e
    std_err = min(float(np.sqrt(var_err)), var_err / std) if std > 0 else float(np.sqrt(var_err))
    return e, std_err


def summarize(moments: np.ndarray, hist: np.ndarray, indicators: Sequence[str],
              ranges: Sequence[tuple[float, float]], bins: int, sum_error: float = 0.0) -> dict[str, dict[str, Any]]:
    """Citywide statistics per indicator from the two (unmasked, possibly noisy) sums; each row
    carries the error bounds of its mean and std implied by ``sum_error``."""
    out: dict[str, dict[str, Any]] = {}
    for k, col in enumerate(indicators):
        n, s, ss = (float(x) for x in moments[3 * k: 3 * k + 3])
        counts = np.clip(hist[k * bins:(k + 1) * bins], 0, None)
        lo, hi = ranges[k]
        mean = s / n if n > 0 else float("nan")
        var = max(ss / n - mean * mean, 0.0) if n > 0 else float("nan")
        row: dict[str, Any] = {"n": n, "mean": mean, "std": float(np.sqrt(var)), "lo": lo, "hi": hi,
                               "bin_width": (hi - lo) / bins, "counts": [float(c) for c in counts]}
        row["mean_error_bound"], row["std_error_bound"] = moment_error_bounds(n, mean, row["std"], sum_error)
        for p in PERCENTILES:
            row[f"p{p}"] = _hist_percentile(counts, lo, hi, p)
        out[col] = row
    return out


def rank_in(summary_row: dict[str, Any], v: np.ndarray) -> np.ndarray:
    """Percentile rank (0–100) of values ``v`` in a summarized citywide distribution."""
    counts = np.asarray(summary_row["counts"], dtype=np.float64)
    n = counts.sum()
    lo, hi = summary_row["lo"], summary_row["hi"]
    bins = counts.size
    w = (hi - lo) / bins
    b = bin_index(v, lo, hi, bins)
    cum_before = np.concatenate([[0.0], np.cumsum(counts)])[b]
    frac = np.clip((v - (lo + b * w)) / w, 0.0, 1.0)
    return 100.0 * (cum_before + counts[b] * frac) / max(n, 1.0)


def standings(values: pd.DataFrame, summary: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Where each of this district's communities stands: value, citywide mean, percentile rank."""
    import pandas as pd

    rows = []
    for col, row in summary.items():
        v = values[col].dropna()
        ranks = rank_in(row, v.to_numpy(dtype=np.float64))
        for community, value, rank in zip(v.index, v.to_numpy(), ranks, strict=True):
            rows.append({"community": community, "indicator": col, "value": float(value),
                         "citywide_mean": row["mean"], "citywide_median": row["p50"],
                         "percentile": float(rank)})
    return pd.DataFrame(rows)


def plain_summary(all_values: pd.DataFrame, indicators: Sequence[str]) -> dict[str, dict[str, float]]:
    """The centralised computation on pooled community values (what federated must match).

    Percentiles use the inverted empirical CDF (``numpy.percentile(method="inverted_cdf")``): the
    definition the binned estimate converges to as bins get narrower."""
    out = {}
    for col in indicators:
        v = all_values[col].dropna().to_numpy(dtype=np.float64)
        row = {"n": float(v.size), "mean": float(v.mean()), "std": float(v.std())}
        for p in PERCENTILES:
            row[f"p{p}"] = float(np.percentile(v, p, method="inverted_cdf"))
        out[col] = row
    return out


def plain_ranks(all_values: pd.DataFrame, col: str, v: np.ndarray) -> np.ndarray:
    pooled = np.sort(all_values[col].dropna().to_numpy(dtype=np.float64))
    below = np.searchsorted(pooled, v, side="left")
    upto = np.searchsorted(pooled, v, side="right")
    return 100.0 * (below + upto) / 2.0 / max(pooled.size, 1)


def compare(fed: dict[str, dict[str, Any]], plain: dict[str, dict[str, float]]) -> dict[str, float]:
    """Max absolute differences federated − plain, by statistic family."""
    d_moments, d_pct, within = 0.0, 0.0, True
    for col, p in plain.items():
        f = fed[col]
        dm, ds = abs(f["mean"] - p["mean"]), abs(f["std"] - p["std"])
        d_moments = max(d_moments, dm, ds, abs(f["n"] - p["n"]))
        if "mean_error_bound" in f:
            within &= bool(dm <= f["mean_error_bound"] and ds <= f["std_error_bound"])
        for q in PERCENTILES:
            d_pct = max(d_pct, abs(f[f"p{q}"] - p[f"p{q}"]))
    return {"max_abs_diff_moments": d_moments, "max_abs_diff_percentiles": d_pct,
            "moments_within_bounds": within}
