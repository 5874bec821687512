"""Early-warning alerts: FDR on noise, recall of planted surges, past-only baselines, emerging terms, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govml.errors import ConfigError, DataError
from govml.text.alerts import (
    OUTPUT_COLUMNS,
    SurgeDetector,
    bh_qvalues,
    detect_alerts,
    discrete_bh_qvalues,
    period_start,
    plant_surges,
    score_alerts,
    window_max_pvalue,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data_samples"


def _noise(seed: int, groups: int = 30, cats: int = 5, weeks: int = 60, alpha: float = 0.0) -> pd.DataFrame:
    """Counts with no surge at all: Poisson (alpha=0) or negative binomial per cell, constant rate."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-02")
    g, c, t = [], [], []
    for gi in range(groups):
        for ci in range(cats):
            lam = rng.uniform(0.3, 5.0)
            if alpha > 0:
                n = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * lam), size=weeks)
            else:
                n = rng.poisson(lam, size=weeks)
            for w, k in enumerate(n):
                g += [f"社区{gi:02d}"] * k
                c += [f"类别{ci}"] * k
                t += list(start + pd.to_timedelta(7 * w + rng.uniform(0, 7, size=k), unit="D"))
    return pd.DataFrame({"community": g, "category": c, "created_at": t})


def test_bh_qvalues_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.5])
    # sorted 0.01, 0.03, 0.04, 0.5 → ×4/rank: 0.04, 0.06, 0.0533, 0.5 → running min from the top
    assert bh_qvalues(p) == pytest.approx([0.04, 0.0533333, 0.0533333, 0.5], abs=1e-6)
    assert len(bh_qvalues(np.array([]))) == 0


def test_discrete_bh_discounts_thin_cells():
    p = np.array([0.001, 0.2, 0.5, 0.9, 1.0, 1.0])
    # one window; cells 2–6 expect 0.01 messages: they cannot reach p ≤ 0.001, so the first cell's
    # q is ≈ its p alone, where plain BH multiplies by 6
    e = np.array([5.0, 0.01, 0.01, 0.01, 0.01, 0.01])
    q = discrete_bh_qvalues(p, [(e, np.full(6, 0.2))])
    assert q[0] < 0.0015 and bh_qvalues(p)[0] == pytest.approx(0.006)
    assert (q <= bh_qvalues(p) + 1e-12).all()
    # busy cells: no discount, plain BH (up to discreteness)
    q2 = discrete_bh_qvalues(p, [(np.full(6, 50.0), np.full(6, 0.01))])
    assert 0.003 < q2[0] <= 0.006


def test_window_max_pvalue_between_single_and_bonferroni():
    p = np.array([1e-2, 1e-4, 1e-8])
    adj = window_max_pvalue(p, (1, 2, 4))
    assert (adj > p).all() and (adj <= 3 * p).all()


def test_period_start():
    t = pd.Series(pd.to_datetime(["2024-03-06 10:00", "2024-03-10 23:59", "2024-03-11 00:00"]))
    assert list(period_start(t, "W")) == list(pd.to_datetime(["2024-03-04", "2024-03-04", "2024-03-11"]))
    assert list(period_start(t, "M")) == [pd.Timestamp("2024-03-01")] * 3
    with pytest.raises(ConfigError):
        period_start(t, "Q")


@pytest.mark.parametrize("seed, alpha", [(1, 0.0), (2, 0.0), (3, 0.3)])
def test_pure_noise_gives_almost_no_alerts(seed, alpha):
    df = _noise(seed, alpha=alpha)
    det = SurgeDetector(terms=False).fit(df)
    cells = det.cells_
    alerts = det.alerts_[det.alerts_["level"].isin(["预警", "告警"])]
    per_100 = 100 * len(alerts) / det.n_group_periods_
    assert per_100 <= 0.5, (len(alerts), det.n_group_periods_)
    # without the FDR control many more cells would pass a raw 1% test: the control is doing work
    assert (cells["p_value"] <= 0.01).sum() >= 5 * max(len(alerts), 1)
    if alpha > 0:
        assert 0.15 <= det.alpha_.iloc[-1] <= 0.5  # overdispersion estimated from the past


def test_negative_binomial_noise_over_several_seeds():
    # one seed is a lottery ticket: on these panels the Benjamini–Hochberg level itself (q ≤ 0.1 per
    # week over 150 cells) allows about 0.5 false alerts per 100 group-weeks; over four seeds the
    # detector must stay under the bar of 1 per 100 (measured: 0.76)
    n = gp = 0
    for seed in (3, 13, 23, 33):
        det = SurgeDetector(terms=False).fit(_noise(seed, alpha=0.3))
        n += int(det.alerts_["level"].isin(["预警", "告警"]).sum())
        gp += det.n_group_periods_
    assert 100 * n / gp <= 1.0, (n, gp)


def test_planted_surges_are_found():
    df = _noise(4)
    # clear surges: 2–4 weeks at ≥ 4× the cell's mean, at least 8 extra messages a week
    planted, truth = plant_surges(df, by="community", label_col="category", time_col="created_at",
                                  n_surges=20, factor=4.0, min_extra=8, duration=(2, 4), seed=7)
    det = SurgeDetector(terms=False).fit(planted)
    s = score_alerts(det.cells_, truth, by="community", period="W", n_group_periods=det.n_group_periods_)
    assert s["recall"] >= 0.9, s
    assert s["false_per_100"] <= 1.0, s


def test_expected_uses_only_the_past():
    df = _noise(5, groups=8, cats=3, weeks=70)
    df["text"] = "小区停车难"
    det = SurgeDetector(terms=False).fit(df)
    t_idx = 60
    cut = det.periods_[t_idx]
    # corrupt period t and everything after it: other categories, groups, times, a new category
    rng = np.random.default_rng(0)
    bad = df.copy()
    fut = bad["created_at"] >= cut
    bad.loc[fut, "category"] = rng.choice(["类别0", "类别2", "新类别"], size=int(fut.sum()))
    extra = bad[fut].sample(n=300, replace=True, random_state=1).assign(community="社区新")
    bad = pd.concat([bad, extra, bad[fut].assign(category="类别1")], ignore_index=True)
    det2 = SurgeDetector(terms=False).fit(bad)
    assert det2.periods_[t_idx] == cut
    a = det.cells_[det.cells_["period_start"] == cut].set_index(["group", "key"]).sort_index()
    b = det2.cells_[det2.cells_["period_start"] == cut].set_index(["group", "key"]).sort_index()
    b = b.loc[a.index]
    # the one-period baseline and the overdispersion of period t (windows ending at t may differ:
    # they include the corrupted observation of t itself, never in the expectation)
    np.testing.assert_allclose(a["baseline"].to_numpy(float), b["baseline"].to_numpy(float), rtol=1e-12)
    np.testing.assert_allclose(det.alpha_.iloc[: t_idx + 1].to_numpy(), det2.alpha_.iloc[: t_idx + 1].to_numpy(),
                               rtol=1e-12)
    assert not np.allclose(a["observed"].to_numpy(float), b["observed"].to_numpy(float))


def test_seasonal_factor_raises_expectation_after_a_year():
    # every group doubles category 0 in the same four weeks each year: the second year expects it
    rng = np.random.default_rng(3)
    start = pd.Timestamp("2022-01-03")
    rows = []
    for g in range(20):
        for w in range(110):
            lam = 2.0 * (3.0 if (w % 52) in (30, 31, 32, 33) else 1.0)
            for _ in range(rng.poisson(lam)):
                rows.append((f"g{g}", "供暖", start + pd.Timedelta(days=7 * w + rng.uniform(0, 7))))
    df = pd.DataFrame(rows, columns=["community", "category", "created_at"])
    det = SurgeDetector(terms=False).fit(df)
    c = det.cells_
    first = c[c["period_start"] == start + pd.Timedelta(weeks=31)]
    second = c[c["period_start"] == start + pd.Timedelta(weeks=52 + 31)]
    before = c[c["period_start"] == start + pd.Timedelta(weeks=52 + 29)]
    # last year's season lifts this year's expectation before the rise is seen in the group
    assert second["baseline"].mean() > 1.6 * before["baseline"].mean()
    n_first = first["level"].isin(["预警", "告警"]).sum()
    n_second = second["level"].isin(["预警", "告警"]).sum()
    assert n_second < n_first


def test_emerging_term_alert():
    rng = np.random.default_rng(11)
    start = pd.Timestamp("2024-01-01")
    base = ["小区路灯不亮", "垃圾清运不及时", "楼道堆放杂物", "停车位太少", "噪音扰民", "物业服务差"]
    rows = []
    for g in range(6):
        for w in range(30):
            for _ in range(rng.poisson(4)):
                rows.append((f"社区{g}", start + pd.Timedelta(days=7 * w + rng.uniform(0, 7)),
                             base[rng.integers(len(base))], "其他"))
    for i in range(9):  # a new problem: electric bikes charged from flying wires, in one community
        rows.append(("社区2", start + pd.Timedelta(days=7 * 25 + i * 0.5), "楼下有人飞线充电很危险", "其他"))
    df = pd.DataFrame(rows, columns=["community", "created_at", "text", "category"])
    det = SurgeDetector(label_col=None).fit(df)
    al = det.alerts_
    hit = al[(al["kind"] == "term") & (al["group"] == "社区2") & al["key"].str.contains("飞线充电")]
    assert len(hit) == 1 and hit["level"].iloc[0] in ("预警", "告警"), al
    # the other words of the same messages are folded into it, not separate alerts
    cell = det.cells_[(det.cells_["kind"] == "term") & (det.cells_["key"] == "飞线充电")
                      & (det.cells_["level"] != "")]
    assert "危险" in cell["related"].iloc[0]
    assert not ((al["group"] == "社区2") & (al["key"] == "危险")).any()
    assert hit["period_start"].iloc[0] == start + pd.Timedelta(weeks=25)
    assert set(al["kind"]) == {"term"}
    assert not al[al["level"].isin(["预警", "告警"])]["key"].isin(["路灯", "垃圾", "噪音"]).any()


def test_user_errors():
    df = _noise(1, groups=2, cats=2, weeks=8)
    with pytest.raises(DataError, match="district"):
        SurgeDetector(by="district", terms=False).fit(df)
    with pytest.raises(ConfigError):
        SurgeDetector(period="Q", terms=False).fit(df)
    bad = df.astype({"created_at": str})
    bad.loc[4, "created_at"] = "昨天"
    with pytest.raises(DataError) as err:
        SurgeDetector(terms=False).fit(bad)
    assert err.value.problems[0].row == 6 and err.value.problems[0].column == "created_at"


def test_detect_alerts_columns_and_monthly():
    df = _noise(6, groups=10, cats=3, weeks=120)
    out = detect_alerts(df, period="M", terms=False)
    assert list(out.columns) == OUTPUT_COLUMNS
    assert (pd.to_datetime(out["period_start"]).dt.day == 1).all()


def _cli_frame() -> tuple[pd.DataFrame, pd.DataFrame]:
    df = _noise(8, groups=6, cats=3, weeks=30)
    df["text"] = "小区停车难，希望增加车位"
    planted, truth = plant_surges(df, by="community", label_col="category", time_col="created_at",
                                  n_surges=3, factor=4.0, min_extra=12, seed=2)
    planted = planted.sort_values("created_at").reset_index(drop=True)
    planted.insert(0, "id", np.arange(len(planted)))
    planted["created_at"] = pd.to_datetime(planted["created_at"]).dt.strftime("%Y/%m/%d %H:%M:%S")
    return planted, truth


def test_cli_alerts_end_to_end(tmp_path):
    from govml.cli import main

    planted, truth = _cli_frame()
    src = tmp_path / "msgs.csv"
    planted.to_csv(src, index=False)
    out = tmp_path / "alerts.csv"
    with pytest.raises(SystemExit) as ex:
        main(["demands", "alerts", str(src), "--by", "community", "--period", "W", "--out", str(out)])
    assert ex.value.code == 0
    res = pd.read_csv(out)
    assert list(res.columns) == OUTPUT_COLUMNS
    strong = res[res["level"].isin(["预警", "告警"]) & (res["kind"] == "category")]
    for _, r in truth.iterrows():
        assert ((strong["group"] == r["community"]) & (strong["key"] == r["category"])
                & (pd.to_datetime(strong["period_start"]) == r["start"])).any(), r


def test_cli_alerts_without_category_column_says_so(tmp_path, capsys):
    from govml.cli import main

    planted, _ = _cli_frame()
    src = tmp_path / "msgs.csv"
    planted.drop(columns="category").rename(columns={"community": "社区"}).to_csv(src, index=False)
    out = tmp_path / "alerts.csv"
    with pytest.raises(SystemExit) as ex:
        main(["demands", "alerts", str(src), "--by", "社区", "--out", str(out)])
    assert ex.value.code == 0
    assert "term alerts only" in " ".join(capsys.readouterr().out.split())
    res = pd.read_csv(out)
    assert list(res.columns) == OUTPUT_COLUMNS
    assert set(res["kind"]) <= {"term"}


def test_cli_alerts_bad_group_column(tmp_path, capsys):
    from govml.cli import main

    planted, _ = _cli_frame()
    src = tmp_path / "msgs.csv"
    planted.to_csv(src, index=False)
    with pytest.raises(SystemExit) as ex:
        main(["demands", "alerts", str(src), "--by", "街道", "--out", str(tmp_path / "a.csv")])
    assert ex.value.code == 2
    err = capsys.readouterr().err
    assert "街道" in err and "--by" in err


@pytest.mark.skipif(not (SAMPLES / "truth_surges.csv").exists(), reason="data_samples not generated")
def test_planted_surges_in_data_samples():
    from govml.io import load
    from govml.text.tokenize import GovTokenizer

    df = load(SAMPLES / "messages.csv", "messages")
    truth = pd.read_csv(SAMPLES / "truth_surges.csv")
    hot = pd.read_csv(SAMPLES / "truth_hot_issues.csv")  # genuine surges too: neither hits nor false
    tok = GovTokenizer()
    det = SurgeDetector(by="community", period="W", tokenizer=tok).fit(df)
    s = score_alerts(det.cells_, truth, by="community", period="W", n_group_periods=det.n_group_periods_,
                     known_events=hot, tokenizer=tok)
    assert s["recall"] >= 0.9, s
    assert s["false_per_100"] <= 1.0, s
    # the hot issues themselves are flagged (a category or term alert in their window)
    found = score_alerts(det.cells_, hot, by="community", period="W", n_group_periods=det.n_group_periods_)
    assert found["recall"] >= 0.75, found


def test_spike_that_is_over_alerts_once():
    # one week of +20 messages in one cell: the weeks after it are back to normal, so the 2- and
    # 4-week windows that still contain the spike must not raise it again (``ongoing``); without
    # the rule they do
    df = _noise(9, groups=10, cats=3, weeks=50)
    start = pd.Timestamp("2023-01-02") + pd.Timedelta(weeks=40)
    spike = pd.DataFrame({"community": "社区03", "category": "类别1",
                          "created_at": start + pd.to_timedelta(np.linspace(0.1, 6.9, 20), unit="D")})
    df = pd.concat([df, spike], ignore_index=True)

    def weeks(det):
        al = det.alerts_[(det.alerts_["group"] == "社区03") & (det.alerts_["key"] == "类别1")
                         & det.alerts_["level"].isin(["预警", "告警"])]
        return sorted((pd.to_datetime(al["period_start"]) - start).dt.days // 7)

    assert weeks(SurgeDetector(terms=False).fit(df)) == [0]
    late = weeks(SurgeDetector(terms=False, ongoing=False).fit(df))
    assert late[0] == 0 and len(late) > 1, late


def test_plant_surges_min_sd_sizes_by_the_cells_swing():
    df = _noise(12, groups=6, cats=3, weeks=40, alpha=0.5)
    kw = dict(by="community", label_col="category", time_col="created_at", n_surges=8, factor=2.0,
              min_extra=1, duration=(2, 3), seed=3)
    _, old = plant_surges(df, **kw)
    planted, new = plant_surges(df, **kw, min_sd=4.0)
    assert (new["size_sd"] >= 4.0 - 1e-9).all(), new
    assert (new["extra_per_period"] >= old["extra_per_period"]).all()
    assert (old["size_sd"] < 4.0).any()          # the old rule alone gives smaller surges in swinging cells
    # the truth's sd is the cell's own: recompute one
    r = new.iloc[0]
    t = period_start(pd.to_datetime(df["created_at"]), "W")
    cell = t[(df["community"] == r["community"]) & (df["category"] == r["category"])]
    weeks = pd.date_range(t.min(), t.max(), freq="W-MON")
    counts = cell.value_counts().reindex(weeks, fill_value=0)
    assert r["cell_sd"] == pytest.approx(counts.std(ddof=1))
    assert len(planted) == len(df) + int((new["extra_per_period"] * new["periods"]).sum())


def test_dispersion_by_maximum_likelihood():
    # negative-binomial noise with α = 0.3 and no extra Poisson-scale term: the likelihood fit finds
    # both, from the past only, and keeps false alerts as rare as the least-squares fit
    df = _noise(3, alpha=0.3)
    det = SurgeDetector(terms=False, dispersion_fit="ml").fit(df)
    assert 0.2 <= det.alpha_.iloc[-1] <= 0.4, det.alpha_.iloc[-1]
    assert det.phi_.iloc[-1] <= 0.1, det.phi_.iloc[-1]
    alerts = det.alerts_[det.alerts_["level"].isin(["预警", "告警"])]
    assert 100 * len(alerts) / det.n_group_periods_ <= 0.5
