"""Alerts on panels shaped like real exports: a category that starts mid-series (a new service type), and
rates with a linear trend (an app being adopted) — the artefacts read on Boston 311 (docs/benchmarks.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.text.alerts import ALERT_LEVELS, SurgeDetector

START = pd.Timestamp("2023-01-02")


def _panel(rates: dict[str, np.ndarray], groups: int, seed: int, alpha: float = 0.0) -> pd.DataFrame:
    """Messages per group × category × week drawn around ``rates[category][week]`` (Poisson, or
    negative binomial with dispersion ``alpha``), each group at its own random scale 0.5–2."""
    rng = np.random.default_rng(seed)
    g, c, t = [], [], []
    for gi in range(groups):
        scale = rng.uniform(0.5, 2.0)
        for cat, lam in rates.items():
            mu = np.asarray(lam, dtype=float) * scale
            if alpha > 0:
                n = np.where(mu > 0, rng.negative_binomial(1 / alpha, 1 / (1 + alpha * np.maximum(mu, 1e-9))), 0)
            else:
                n = rng.poisson(mu)
            for w, k in enumerate(n):
                g += [f"社区{gi:02d}"] * int(k)
                c += [cat] * int(k)
                t += list(START + pd.to_timedelta(7 * w + rng.uniform(0, 7, size=int(k)), unit="D"))
    return pd.DataFrame({"community": g, "category": c, "created_at": t})


def _strong(det: SurgeDetector) -> pd.DataFrame:
    return det.alerts_[det.alerts_["level"].isin(ALERT_LEVELS)]


def test_a_category_that_starts_mid_series_is_watched_until_it_has_history():
    weeks, onset = 40, 20
    rates = {f"类别{i}": np.full(weeks, r) for i, r in enumerate((1.0, 2.0, 3.0))}
    rates["新服务"] = np.where(np.arange(weeks) >= onset, 3.0, 0.0)          # a service type opened in week 20
    df = _panel(rates, groups=20, seed=7)
    # one real surge of the new category once it has history: +15 in one group, week 30
    extra = pd.DataFrame({"community": "社区03", "category": "新服务",
                          "created_at": START + pd.to_timedelta(7 * 30 + np.linspace(0.1, 6.9, 15), unit="D")})
    df = pd.concat([df, extra], ignore_index=True)
    det = SurgeDetector(terms=False).fit(df)
    new = det.alerts_[det.alerts_["key"] == "新服务"]
    first = START + pd.Timedelta(weeks=onset)
    young = new[new["period_start"] < first + pd.Timedelta(weeks=det.min_history)]
    # its first weeks have no baseline (expected ≈ 0): on the watch list, never 预警/告警
    assert len(young) > 0 and set(young["level"]) == {"关注"}
    # the new service's alerts are the planted surge's: its group, windows covering week 30
    strong_new = det.cells_[(det.cells_["key"] == "新服务") & det.cells_["level"].isin(ALERT_LEVELS)]
    surge = START + pd.Timedelta(weeks=30)
    window_start = strong_new["period_start"] - pd.to_timedelta(7 * (strong_new["window"] - 1), unit="D")
    assert len(strong_new) and (strong_new["group"] == "社区03").all()
    assert ((window_start <= surge) & (strong_new["period_start"] >= surge)).all()
    # elsewhere nothing: at most 1 alert per 100 group-weeks
    assert len(_strong(det)) - len(strong_new) <= det.n_group_periods_ / 100
    # before (new_categories='test'): every group's first weeks of the new service were alerts
    old = SurgeDetector(terms=False, new_categories="test").fit(df)
    old_new = _strong(old)[_strong(old)["key"] == "新服务"]
    assert (old_new["period_start"] < first + pd.Timedelta(weeks=det.min_history)).sum() >= 10


def test_new_category_share_counts_from_its_first_period():
    # the pooled part of a cell's expectation is the group's volume × the category's share; for a category
    # that exists only since week 40 of 60 the share must be counted from week 40, not diluted by the 40
    # weeks before it (then the expectation falls ~20 % short)
    weeks, onset = 60, 40
    rates = {"类别0": np.full(weeks, 4.0), "新服务": np.where(np.arange(weeks) >= onset, 4.0, 0.0)}
    df = _panel(rates, groups=15, seed=3)
    week = ((df["created_at"] - START).dt.days // 7).to_numpy()
    late = slice(50, 60)
    for setting, lo, hi in (("watch", 0.9, 1.1), ("test", 1.15, 1.5)):
        det = SurgeDetector(terms=False, new_categories=setting).fit(df)
        mu = det.expected_[0][:, sorted(rates).index("新服务"), late].sum()
        observed = ((df["category"] == "新服务").to_numpy() & (week >= 50)).sum()
        assert lo < observed / mu < hi, (setting, observed / mu)


def test_linear_trend_without_surges_stays_quiet():
    # an app being adopted: every cell's rate doubles linearly over 60 weeks, no surge anywhere
    weeks = 60
    rng = np.random.default_rng(0)
    rates = {f"类别{i}": np.linspace(1.0, 2.0, weeks) * r for i, r in enumerate(rng.uniform(0.3, 5.0, size=5))}
    for alpha in (0.0, 0.3):
        n, gp = 0, 0
        for seed in (1, 2, 3, 4):
            det = SurgeDetector(terms=False).fit(_panel(rates, groups=30, seed=seed, alpha=alpha))
            n += len(_strong(det))
            gp += det.n_group_periods_
        # ≤ 1 per 100 group-weeks (measured: Poisson 0.09, negative binomial α = 0.3 0.60; the same panels
        # without the trend, at the mean rate: 0.03 and 0.67)
        assert 100 * n / gp <= 1.0, (alpha, n, gp)


def test_cli_names_the_categories_that_start_mid_series(tmp_path, capsys):
    from govml.cli import main

    weeks = 30
    rates = {"类别0": np.full(weeks, 3.0), "新服务": np.where(np.arange(weeks) >= 20, 3.0, 0.0)}
    df = _panel(rates, groups=6, seed=5)
    src, out = tmp_path / "msgs.csv", tmp_path / "alerts.csv"
    df.to_csv(src, index=False)
    with pytest.raises(SystemExit) as ex:
        main(["demands", "alerts", str(src), "--out", str(out), "--no-terms"])
    assert ex.value.code == 0
    said = " ".join(capsys.readouterr().out.split())
    first = (START + pd.Timedelta(weeks=20)).date()
    assert f"1 category starts mid-series: 新服务 ({first})" in said
    res = pd.read_csv(out, parse_dates=["period_start"])
    young = res[(res["key"] == "新服务") & (res["period_start"] < pd.Timestamp(first) + pd.Timedelta(weeks=4))]
    assert set(young["level"]) <= {"关注"}
