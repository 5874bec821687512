"""Alerts benchmark: surges planted into real messages (teddycup 附件3) and into data_samples.

Real messages: group = the area parsed from the title with ``[A-Z]\\d{0,2}[区市县]`` (the first
district/county code, else the first city code; messages without one are left out), category = a
keyword rule on title + text (first matching rule; 其他 otherwise), messages from 2019-01-01 on.
Surges are planted with :func:`govml.text.alerts.plant_surges`: random group × category cells with
history, each getting, for 1 or 2–4 consecutive weeks, extra messages cloned from the cell:
``max(min_extra, (factor − 1) × the cell's mean per week)`` under the **old** definition, and at
least ``min_sd`` × the cell's standard deviation per week as well under the **sd** definition.

Why two definitions: the old one gives busy, swinging cells (A市, A3区, A7县; 2–6 messages a week per
category, standard deviation 1.5–3.4) surges of +5 a week, 2–3 of their own standard deviations —
the size of the board's ordinary weekly swings. The ``oracle`` column measures that: a z-score that
knows every cell's mean and standard deviation over the whole year (the future included, which no
detector has), maximised over windows of 1, 2 and 4 weeks like the detector, with its threshold set
so that the unplanted data gives 1 exceedance per 100 group-weeks. Its recall is the best that
simple thresholding of the cell's own swing reaches at that false-alert rate. The old definition is
kept and reported beside the new one.

**Themed** cases (``themed ...``, same four sizes): each surge is a wave of variations of one seed
message of the cell (``plant_surges(themed=True)``: clauses of the seed each kept with probability
0.7, half with a clause of another message of the cell) — many residents writing about one problem,
visible in the words as well as the count. They run with emerging terms on and are scored three
ways: category alerts only, term alerts only, and both (hit by either; false alerts of both). The
truth's term is the seed text: a term alert hits when its key is one of the seed's words.
With the defaults (``evidence='gated'``: category cells raised by a surging term of the same cell;
``term_levels='watch'``: term cells stay at 关注, see :mod:`govml.text.alerts`) the term-only column
is 0; ``--params '{"term_levels": "full"}'`` scores the term alerts themselves, and
``--params '{"evidence": "category", "term_levels": "full"}'`` reproduces the method before.

Recall and false alerts per 100 group-weeks follow the definitions in :mod:`govml.text.alerts`; the
unplanted data is also run (its alerts are the board's own waves, counted as false in the planted
runs when ≥ 预警). Seeds 0–9 were used while developing the method, seeds 100–119 are held out; both
are reported, and recall by surge size (extra messages per week in units of the cell's standard
deviation) over all seeds.

Pure noise: the false alerts ≥ 预警 per 100 group-weeks on the panels of the noise tests (30
groups × 5 categories × 60 weeks, constant rates 0.3–5 a week; Poisson seeds 1, 2, 11, 12 and
negative-binomial α = 0.3 seeds 3, 13, 23, 33, 43, 53 — the test checks seeds 1, 2 and 3 only), and
the **trend panels** (:func:`trend_panel`: the same cells with every rate doubling over the 60 weeks,
linearly or exponentially, tripling, or flat at 1× and 2×; NB α = 0.3, seeds 1–12). ``--noise-only``
runs just these (about a minute).

Boston 311 (``--dataset boston``): the 2015 requests of ``../shared/data/boston311_2015``, group =
neighborhood (empty: ``(空)``), category = REASON, text = CASE_TITLE (24 groups × 53 weeks, 1,154 tested
neighbourhood-weeks), the same cases and planting. Its own waves are many and mostly real: the weeks and
request types of :data:`BOSTON_EVENTS` (the snow and thaw of 26 January – 30 March, the students' move-in
of late August – September, the storm of 4 August) are passed to :func:`score_alerts` as known events —
every neighbourhood × REASON × week of those weeks in which at least half the requests have the event's
TYPE — and a second false-alert column leaves them out. With ``--no-categories`` (each neighbourhood's
total) the known events are the neighbourhood-weeks of those weeks in which at least a quarter of all the
requests have the event's TYPE (:func:`boston_known_totals`). ``--n-seeds N`` (the first N seeds of each set)
and ``--groups N`` (the N largest neighbourhoods) keep it short: ``--dataset boston --n-seeds 5`` is
10 seeds × 8 cases, about 15 CPU minutes.

Run: ``.venv/bin/python benchmarks/bench_alerts.py`` (about 3 CPU minutes, the themed cases with
terms are most of it; skips the real-data part when ``../shared/data`` is absent). ``--cases old`` or
``--cases themed`` runs one kind; ``--seeds tuning`` or ``--seeds heldout`` runs one seed set;
``--params '{"ongoing": false}'`` passes settings to :class:`SurgeDetector` (JSON), e.g. to compare
with the method before the ``ongoing`` rule.

Equal false-alert rates (session 9): ``--q-grid 0.2,0.25,0.3`` scores every run again with the category cells'
alerts re-derived at each 预警 q (:func:`relevel`: exact, the q enters the levels only there; each fit is
checked against the detector's own q), so two settings can be compared along their recall / false-alert
curves instead of at one q. ``--noise-only --no-categories`` tests each group's total of the noise and trend
panels (the 5 categories summed); ``--samples-only [--no-categories]`` runs data_samples alone (totals: the
planted surges and hot issues are surges of each community's total).

Totals' prior (session 9b): ``--params '{"total_prior": "own"}'`` is the totals' expectation before (the group's
own recent volume as its prior, i.e. no shrinkage). data_samples' totals have no board-wide planted event (its
weeks are seasons, a trend and Poisson noise; the board's weekly totals are within 1.8 standard deviations of the
generator's rate in the weeks where the false alerts clustered), so an alert there outside a planted surge or hot
issue is a false alert. The ``mixed`` trend panel gives each group its own trend (tripling, flat, halving), the
case a prior from the group's long-run share of the board could lag.

Session 10: ``--samples-only --no-categories --oracle`` also tests data_samples' totals against the generator's own
weekly rates (:func:`generator_rates`, :func:`oracle_false`: the detector's test with the truth for its expectation)
on the data and on 10 Poisson draws of those rates (the detector fitted on each draw too), before / from week 60:
the false alerts a perfect expectation would still give at each 预警 q.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from govml.text.alerts import SurgeDetector, _period_index, period_start, plant_surges, score_alerts

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "teddycup2020c" / "hotspot_messages_full_附件3.csv"
BOSTON = ROOT.parent / "shared" / "data" / "boston311_2015" / "boston311_2015_events.csv.gz"
SAMPLES = ROOT / "data_samples"

RULES = [
    ("环境保护", r"噪音|噪声|污染|油烟|扰民|粉尘|灰尘|排放|臭|环保|搅拌"),
    ("教育文体", r"学校|学生|教育|老师|幼儿园|入学|学院|小学|中学|学位"),
    ("卫生计生", r"医院|医生|卫生|疫苗|生育|计生|看病|医疗"),
    ("劳动和社会保障", r"社保|工资|养老|医保|公积金|就业|劳动|保险|退休|欠薪"),
    ("交通运输", r"公交|交通|地铁|停车|路口|出租|高速|驾|红绿灯|车辆|道路"),
    ("商贸旅游", r"商户|市场|超市|消费|价格|旅游|商家|收费|店"),
    ("城乡建设", r"小区|物业|房|拆迁|违建|规划|开发商|装修|电梯|车位|施工|建设|改造"),
]
AREA = re.compile(r"[A-Z]\d{0,2}[区市县]")
# (label, factor, min_extra, weeks, min_sd): the old definition, then the one relative to the swing
CASES = [
    ("old: 2-4 wk, >=3x, >=+5", 3.0, 5, (2, 4), None),
    ("old: 1 wk, >=3x, >=+8", 3.0, 8, (1, 1), None),
    ("sd: 2-4 wk, >=3x, >=+5, >=3 sd", 3.0, 5, (2, 4), 3.0),
    ("sd: 1 wk, >=3x, >=+8, >=5 sd", 3.0, 8, (1, 1), 5.0),
]
# the same sizes, planted as themed waves (variations of one seed message of the cell)
THEMED = [("themed " + label, *rest) for label, *rest in CASES]


class CachedTokenizer:
    """GovTokenizer with a per-text cache: planted messages repeat the board's own texts."""

    def __init__(self) -> None:
        from govml.text.tokenize import GovTokenizer

        self.tok = GovTokenizer()
        self.cache: dict[str, list[str]] = {}

    def __call__(self, text: str) -> list[str]:
        return self.tokenize_many([text])[0]

    def tokenize_many(self, texts: list[str]) -> list[list[str]]:
        todo = list({t for t in texts if t not in self.cache})
        if todo:
            self.cache.update(zip(todo, self.tok.tokenize_many(todo), strict=True))
        return [self.cache[t] for t in texts]
SEEDS = {"tuning": range(10), "heldout": range(100, 120)}
SIZE_BINS = [0, 2, 3, 4, 5, np.inf]


def _area(title: str) -> str | None:
    """The most specific area code in a title: a district/county (A5区, A7县) before a city (A市)."""
    codes = AREA.findall(title)
    return next((c for c in codes if c[-1] in "区县"), codes[0] if codes else None)


def real_messages() -> pd.DataFrame:
    df = pd.read_csv(REAL)
    df["created_at"] = pd.to_datetime(df["留言时间"], format="mixed")
    df["text"] = df["留言主题"].astype(str) + "\n" + df["留言详情"].astype(str).str.strip()
    df["area"] = [_area(t) for t in df["留言主题"].astype(str)]
    cat = pd.Series("其他", index=df.index, dtype=object)
    done = pd.Series(False, index=df.index)
    for name, pat in RULES:
        hit = df["text"].str.contains(pat) & ~done
        cat[hit] = name
        done |= hit
    df["category"] = cat
    df = df[df["area"].notna() & (df["created_at"] >= "2019-01-01")].reset_index(drop=True)
    return df[["created_at", "area", "category", "text"]]


#: Boston 311 (2015): weeks and request types of the real surges read in session 7 (docs/benchmarks.md):
#: the record snow of 26 January – 15 February and the thaw after it (plowing, snow complaints, hydrants
#: and bus stops dug out, space savers, unshovelled sidewalks, potholes), the students' move-in around
#: 1 September (move-in issues, bulk trash, living conditions, abandoned bicycles) and the storm of
#: 4 August (fallen trees). (first week, last week, TYPE pattern)
BOSTON_EVENTS = [
    ("2015-01-26", "2015-03-30", r"Snow|Space Saver|Unshoveled|Fire Department Request|MBTA Request|Alert Boston|"
                                 r"General Comments For a Program|Fire Hydrant|Pothole"),
    ("2015-08-24", "2015-09-28", r"Student Move-in|CE Collection|Unsatisfactory Living|Poor Conditions of Property|"
                                 r"Abandoned Bicycle"),
    ("2015-08-03", "2015-08-31", r"Tree Emergencies|Tree Maintenance"),
]


def boston_messages(groups: int | None = None) -> pd.DataFrame:
    """Boston 311 requests of 2015: group = neighborhood (empty: (空)), category = REASON, text = CASE_TITLE
    (``groups``: the largest neighbourhoods only). The column ``TYPE`` is kept for :func:`boston_known`."""
    df = pd.read_csv(BOSTON, usecols=["OPEN_DT", "CASE_TITLE", "REASON", "TYPE", "neighborhood"])
    df = pd.DataFrame({"created_at": pd.to_datetime(df["OPEN_DT"]),
                       "area": df["neighborhood"].fillna("(空)").astype(str),
                       "category": df["REASON"].fillna("(空)").astype(str),
                       "text": df["CASE_TITLE"].fillna("").astype(str), "TYPE": df["TYPE"].fillna("").astype(str)})
    if groups:
        keep = df["area"].value_counts().index[:groups]
        df = df[df["area"].isin(keep)].reset_index(drop=True)
    return df


def boston_known(df: pd.DataFrame) -> pd.DataFrame:
    """The real surges as known events (score_alerts' ``known_events``): every area × category × week of
    :data:`BOSTON_EVENTS` in which at least half of the cell's requests have a TYPE of that event."""
    week = period_start(df["created_at"], "W")
    rows = []
    for first, last, pat in BOSTON_EVENTS:
        sel = (week >= first) & (week <= last)
        sub = df[sel].assign(week=week[sel], hit=df.loc[sel, "TYPE"].str.contains(pat))
        share = sub.groupby(["area", "category", "week"])["hit"].mean()
        for g, c, w in share[share >= 0.5].index:
            rows.append({"area": g, "category": c, "start": w,
                         "end": w + pd.Timedelta(days=7) - pd.Timedelta(seconds=1)})
    return pd.DataFrame(rows, columns=["area", "category", "start", "end"])


def boston_known_totals(df: pd.DataFrame, min_share: float = 0.25) -> pd.DataFrame:
    """The real surges of a neighbourhood's *total* (``--no-categories``): every area × week of
    :data:`BOSTON_EVENTS` in which at least ``min_share`` of the area's requests have a TYPE of that event
    (the record snow, the students' move-in, the August storm made the whole week's count). Keyed by the
    totals' category, so that score_alerts counts an alert there as neither hit nor false."""
    from govml.text.alerts import TOTAL_KEY

    week = period_start(df["created_at"], "W")
    rows = []
    for first, last, pat in BOSTON_EVENTS:
        sel = (week >= first) & (week <= last)
        sub = df[sel].assign(week=week[sel], hit=df.loc[sel, "TYPE"].str.contains(pat))
        share = sub.groupby(["area", "week"])["hit"].mean()
        for g, w in share[share >= min_share].index:
            rows.append({"area": g, "category": TOTAL_KEY, "start": w,
                         "end": w + pd.Timedelta(days=7) - pd.Timedelta(seconds=1)})
    return pd.DataFrame(rows, columns=["area", "category", "start", "end"]).drop_duplicates()


class Oracle:
    """Max over 1/2/4-week windows of ``(sum − w·mean)/(sd·√w)`` with each cell's whole-year mean and
    standard deviation; threshold: 1 exceedance per 100 tested group-weeks of the unplanted data."""

    def __init__(self, df: pd.DataFrame, *, by: str, n_group_periods: int, min_history: int = 4) -> None:
        t, self.periods = _period_index(period_start(df["created_at"], "W"), "W")
        T = len(self.periods)
        work = pd.DataFrame({"g": df[by].to_numpy(), "c": df["category"].to_numpy(), "t": t})
        self.first = work.groupby("g")["t"].min().to_dict()
        self.min_history = min_history
        self.cells = {k: np.bincount(v["t"].to_numpy(), minlength=T).astype(float)
                      for k, v in work.groupby(["g", "c"])}
        z = np.concatenate([self.z(k, y) for k, y in self.cells.items()])
        z = np.sort(z[np.isfinite(z)])[::-1]
        self.threshold = float(z[int(0.01 * n_group_periods)])

    def z(self, key: tuple[str, str], y: np.ndarray) -> np.ndarray:
        base = self.cells[key]
        m, sd = base.mean(), max(base.std(ddof=1), 1e-9)
        out = np.full(len(y), -np.inf)
        for w in (1, 2, 4):
            s = np.convolve(y, np.ones(w), "valid")
            out[w - 1:] = np.maximum(out[w - 1:], (s - w * m) / (sd * np.sqrt(w)))
        out[: self.first[key[0]] + self.min_history] = -np.inf
        return out

    def hit(self, row: pd.Series, by: str) -> bool:
        key = (row[by], row["category"])
        y = self.cells[key].copy()
        t0 = self.periods.get_loc(pd.Timestamp(row["start"]))
        y[t0: t0 + int(row["periods"])] += row["extra_per_period"]
        return bool((self.z(key, y)[t0: t0 + int(row["periods"]) + 3] > self.threshold).any())


PARAMS: dict = {}
#: --no-categories: the board without its category column (each area's total is tested, category 全部)
OPTS: dict = {"oracle": False, "no_categories": False, "dataset": "teddycup", "known": None, "n_seeds": None, "groups": None,
              "q_grid": ()}


def relevel(det: SurgeDetector, q: float) -> pd.DataFrame:
    """``det.cells_`` with the category cells' alerts (≥ 预警) re-derived at 预警 ``q_value ≤ q`` (``--q-grid``).

    Exact, not an approximation: the 预警 q enters the levels only through ``SurgeDetector._levels`` (告警 and
    the ``evidence='gated'`` route do not depend on it); term cells keep their levels. The cells of categories
    younger than ``min_history`` periods (``new_categories='watch'``) stay below 预警. :func:`main` checks that
    the detector's own q reproduces its levels."""
    cells = det.cells_.copy()
    th = det._thresholds()
    cat = (cells["kind"] == "category").to_numpy()
    obs = cells["observed"].to_numpy(float)
    ratio = obs / np.maximum(cells["expected"].to_numpy(float), 1e-9)
    qv = cells["q_value"].to_numpy(float)
    w, a = th["预警"], th["告警"]
    up = ((qv <= q) & (ratio >= w["ratio"]) & (obs >= w["min_count"])) | (
        (qv <= a["q"]) & (ratio >= a["ratio"]) & (obs >= a["min_count"]))
    if det.evidence == "gated" and "p_term" in cells.columns:
        up |= ((cells["p_value"].to_numpy(float) <= det.gate_p) & (ratio >= det.combined_ratio)
               & (obs >= w["min_count"]) & (cells["p_term"].fillna(1.0).to_numpy(float) <= det.gate_term_p))
    first = {k: det.periods_.get_loc(v) for k, v in det.new_categories_.items()}
    if first:
        t = det.periods_.get_indexer(pd.to_datetime(cells["period_start"]))
        f = cells["key"].map(first).fillna(-10**9).to_numpy(float)
        up &= ~(t - f < det.min_history)
    lv = cells["level"].fillna("").to_numpy(object).copy()
    lv[cat] = np.where(up[cat], "预警", np.where(np.isin(lv[cat], ALERT), "关注", lv[cat]))
    cells["level"] = lv
    return cells


ALERT = ("预警", "告警")


def _input(df: pd.DataFrame) -> pd.DataFrame:
    df = df.drop(columns=["TYPE"], errors="ignore")
    return df.drop(columns=["category"]) if OPTS["no_categories"] else df


def noise_panel(seed: int, alpha: float, groups: int = 30, cats: int = 5, weeks: int = 60) -> pd.DataFrame:
    """The pure-noise panel of tests/text/test_text_alerts.py (same generator, same seeds)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-02")
    g, c, t = [], [], []
    for gi in range(groups):
        for ci in range(cats):
            lam = rng.uniform(0.3, 5.0)
            n = (rng.negative_binomial(1 / alpha, 1 / (1 + alpha * lam), size=weeks) if alpha > 0
                 else rng.poisson(lam, size=weeks))
            for w, k in enumerate(n):
                g += [f"社区{gi:02d}"] * k
                c += [f"类别{ci}"] * k
                t += list(start + pd.to_timedelta(7 * w + rng.uniform(0, 7, size=k), unit="D"))
    return pd.DataFrame({"community": g, "category": c, "created_at": t})


#: rate multipliers over the weeks of a trend panel (week index / last week = x)
TRENDS = {"flat": lambda x: np.ones_like(x), "flat1.5": lambda x: np.full_like(x, 1.5),
          "flat2": lambda x: np.full_like(x, 2.0), "lin2": lambda x: 1 + x, "exp2": lambda x: 2 ** x,
          "lin3": lambda x: 1 + 2 * x}
#: groups on their own trends (group i: tripling, flat, halving by i mod 3): a group's share of the board
#: drifts, the case that a prior from the group's long-run share (``total_prior='board'``) could lag
MIXED = ("lin3", "flat", "half")
TRENDS["half"] = lambda x: 1 - 0.5 * x


def trend_panel(seed: int, alpha: float, shape: str = "lin2", groups: int = 30, cats: int = 5,
                weeks: int = 60) -> pd.DataFrame:
    """noise_panel's cells (a constant rate 0.3–5 a week each) times a trend over the weeks (:data:`TRENDS`:
    ``lin2`` doubles linearly, ``exp2`` exponentially, ``lin3`` triples; ``flat2`` is twice the rate
    throughout; ``mixed``: each group on its own trend, :data:`MIXED`); no surge anywhere. ``attrs['rates']``
    holds the true rates (groups × cats × weeks). The same generator as
    tests/text/test_text_alerts_baseline.py's ``_trend_noise`` (``lin2``)."""
    rng = np.random.default_rng(seed)
    x = np.arange(weeks) / (weeks - 1)
    g, c, w = [], [], []
    rates = np.zeros((groups, cats, weeks))
    for gi in range(groups):
        f = TRENDS[MIXED[gi % 3] if shape == "mixed" else shape](x)
        for ci in range(cats):
            lam = rng.uniform(0.3, 5.0) * f
            rates[gi, ci] = lam
            n = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * lam)) if alpha > 0 else rng.poisson(lam)
            g.append(np.full(n.sum(), gi))
            c.append(np.full(n.sum(), ci))
            w.append(np.repeat(np.arange(weeks), n))
    gg, cc, ww = np.concatenate(g), np.concatenate(c), np.concatenate(w)
    t = pd.Timestamp("2023-01-02") + pd.to_timedelta(7 * ww + rng.uniform(0, 7, size=len(ww)), unit="D")
    out = pd.DataFrame({"community": [f"社区{i:02d}" for i in gg], "category": [f"类别{i}" for i in cc],
                        "created_at": t})
    out.attrs["rates"] = rates
    return out


def _noise_fit(panel: pd.DataFrame) -> SurgeDetector:
    if OPTS["no_categories"]:     # each group's total (the 5 categories summed) is the one cell, 全部
        panel = panel.drop(columns="category")
    det = SurgeDetector(terms=False, **PARAMS).fit(panel)
    _check_relevel(det, quiet=True)
    return det


def _q_note(dets: list[SurgeDetector], gp: int) -> str:
    if not OPTS["q_grid"]:
        return ""
    n = {q: sum(int(relevel(d, q)["level"].isin(ALERT).sum()) for d in dets) for q in OPTS["q_grid"]}
    return "; 预警 at q ≤ " + ", ".join(f"{q:g}: {100 * v / gp:.2f}" for q, v in n.items())


def noise(trend_seeds: range = range(1, 13)) -> None:
    what = "totals (category column dropped), " if OPTS["no_categories"] else ""
    for alpha, seeds in ((0.0, (1, 2, 11, 12)), (0.3, (3, 13, 23, 33, 43, 53))):
        n, gp, dets = [], 0, []
        for seed in seeds:
            det = _noise_fit(noise_panel(seed, alpha))
            n.append(int(det.alerts_["level"].isin(["预警", "告警"]).sum()))
            gp += det.n_group_periods_
            dets.append(det)
        kind = "Poisson" if alpha == 0 else f"negative binomial α={alpha}"
        print(f"[pure noise, {what}{kind}] alerts >= 预警 per seed {dict(zip(seeds, n, strict=True))}: "
              f"{100 * sum(n) / gp:.2f} per 100 group-weeks{_q_note(dets, gp)}", flush=True)
    for shape in ("flat", "lin2", "exp2", "lin3", "flat2", "mixed"):
        n, gp, wins, dets = [], 0, {}, []
        for seed in trend_seeds:
            det = _noise_fit(trend_panel(seed, 0.3, shape))
            strong = det.cells_[det.cells_["level"].isin(["预警", "告警"])]
            n.append(len(strong))
            gp += det.n_group_periods_
            dets.append(det)
            for k, v in strong["window"].value_counts().items():
                wins[int(k)] = wins.get(int(k), 0) + int(v)
        print(f"[trend panel {shape}, {what}negative binomial α=0.3, seeds {trend_seeds.start}-{trend_seeds.stop - 1}] "
              f"alerts >= 预警 {sum(n)} = {100 * sum(n) / gp:.2f} per 100 group-weeks (per seed {n}; "
              f"by window {dict(sorted(wins.items()))}){_q_note(dets, gp)}", flush=True)


def season_panel(seed: int, amp: float, groups: int = 30, weeks: int = 156, alpha: float = 0.1) -> pd.DataFrame:
    """Three years of weekly totals (no categories, no surges) whose groups turn with *opposite* seasons: the
    first third ("rural") peak in January, the rest ("urban") in July, rate ``λ_g · (1 ± amp·cos)`` with
    ``λ_g`` uniform 1–10 a week, negative binomial α. The board's pooled seasonal factor follows the urban
    majority, so a rural group's expectation turns the wrong way."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-02")
    w = np.arange(weeks)
    g, t = [], []
    for gi in range(groups):
        phase = 0.0 if gi < groups // 3 else np.pi
        lam = rng.uniform(1.0, 10.0) * (1 + amp * np.cos(2 * np.pi * w / 52.18 - phase))
        n = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * lam))
        for wk, k in enumerate(n):
            g += [f"社区{gi:02d}"] * int(k)
            t += list(start + pd.to_timedelta(7 * wk + rng.uniform(0, 7, size=int(k)), unit="D"))
    return pd.DataFrame({"community": g, "created_at": t})


def seasons(seeds: range = range(1, 7)) -> None:
    """False alerts (every alert: nothing is planted) on :func:`season_panel` from week 60 on, where a season
    of history exists and the seasonal factor is last year's (before: the first year's momentum), by group kind;
    recall of 20 surges per seed planted from week 64 on; with ``--q-grid`` both at each 预警 q (false alerts over
    both kinds) — compare variants at equal false rates."""
    from govml.text.alerts import TOTAL_KEY, plant_surges

    for amp in (0.0, 0.3, 0.6):
        n, gp = {"rural": 0, "urban": 0}, {"rural": 0, "urban": 0}
        hits, n_surges, qs = 0, 0, {}
        for seed in seeds:
            panel = season_panel(seed, amp)
            det = SurgeDetector(terms=False, **PARAMS).fit(panel)
            c = det.cells_[det.cells_["period_start"] >= det.periods_[60]]
            # recall: 20 surges (×2 the group's mean, at least +5 a week, 1–3 weeks) from week 64 on
            planted, truth = plant_surges(panel.assign(category=TOTAL_KEY), by="community", label_col="category",
                                          time_col="created_at", n_surges=20, factor=2.0, min_extra=5,
                                          duration=(1, 3), seed=seed, skip_first=64)
            dp = SurgeDetector(terms=False, **PARAMS).fit(planted.drop(columns="category"))
            sc = score_alerts(dp.cells_, truth, by="community", period="W", n_group_periods=dp.n_group_periods_)
            hits += sc["hits"]
            n_surges += sc["n_surges"]
            for q in OPTS["q_grid"]:
                cq = relevel(det, q)
                cq = cq[cq["period_start"] >= det.periods_[60]]
                sq = score_alerts(relevel(dp, q), truth, by="community", period="W", n_group_periods=1)
                f0, h0 = qs.get(q, (0, 0))
                qs[q] = (f0 + int(cq["level"].isin(ALERT).sum()), h0 + sq["hits"])
            rural = c["group"].str[2:].astype(int) < 10
            for name, sel in (("rural", rural), ("urban", ~rural)):
                n[name] += int(c.loc[sel, "level"].isin(ALERT).sum())
                gp[name] += int((sel & (c["window"] == 1)).sum())
        print(f"[opposite seasons, totals, amplitude {amp}, NB α=0.1, seeds {seeds.start}-{seeds.stop - 1}, weeks "
              f"60-155] alerts >= 预警 per 100 group-weeks: rural (10 groups, winter peak) "
              f"{100 * n['rural'] / gp['rural']:.2f} ({n['rural']}), urban (20, summer peak) "
              f"{100 * n['urban'] / gp['urban']:.2f} ({n['urban']}); recall of planted surges {hits / n_surges:.3f} "
              f"({hits}/{n_surges})", flush=True)
        gp_all = gp["rural"] + gp["urban"]
        for q, (f, h) in qs.items():
            print(f"    预警 at q ≤ {q:g}: false {100 * f / gp_all:.2f} per 100 ({f}), recall {h / n_surges:.3f}")


EVIDENCE = ("category", "term", "both")


def _score_by_evidence(cells: pd.DataFrame, truth: pd.DataFrame, *, by: str, n: int, tok) -> dict[str, dict]:
    """Scores with category alerts only, term alerts only, and both (a surge is hit by either)."""
    out = {}
    for ev in EVIDENCE:
        sel = cells if ev == "both" else cells[cells["kind"] == ev]
        out[ev] = score_alerts(sel, truth, by=by, period="W", n_group_periods=n, tokenizer=tok)
    return out


def run_case(df: pd.DataFrame, oracle: Oracle, label: str, seeds: range, factor: float, min_extra: int,
             weeks: tuple[int, int], min_sd: float | None, *, by: str = "area", themed: bool = False,
             terms: bool = False, tok=None) -> tuple[list[dict], list[dict]]:
    runs, surges = [], []
    for seed in seeds:
        planted, truth = plant_surges(df, by=by, label_col="category", time_col="created_at", text_col="text",
                                      n_surges=10, factor=factor, min_extra=min_extra, duration=weeks,
                                      period="W", seed=seed, min_sd=min_sd, themed=themed)
        det = SurgeDetector(by=by, period="W", terms=terms, tokenizer=tok, **PARAMS).fit(_input(planted))
        _check_relevel(det, quiet=True)
        scores = _score_by_evidence(det.cells_, truth, by=by, n=det.n_group_periods_, tok=tok)
        s = scores["both"]
        known = OPTS["known"]
        s_known = (score_alerts(det.cells_, truth, by=by, period="W", n_group_periods=det.n_group_periods_,
                                known_events=known, tokenizer=tok) if known is not None else None)
        for _, row in truth.iterrows():
            one = score_alerts(det.cells_, truth.loc[[row.name]], by=by, period="W", n_group_periods=1,
                               tokenizer=tok)
            surges.append({"case": label, "seed": seed, "size_sd": row["size_sd"], "hit": one["hits"],
                           "oracle": oracle.hit(row, by)})
        run = {"case": label, "seed": seed, "recall": s["recall"], "false_per_100": s["false_per_100"]}
        for q in OPTS["q_grid"]:
            sq = score_alerts(relevel(det, q), truth, by=by, period="W", n_group_periods=det.n_group_periods_,
                              tokenizer=tok)
            run[f"recall@{q:g}"], run[f"false@{q:g}"] = sq["recall"], sq["false_per_100"]
        if s_known is not None:
            run["false_known"] = s_known["false_per_100"]
        if terms:
            for ev in ("category", "term"):
                run[f"recall_{ev}"] = scores[ev]["recall"]
                run[f"false_{ev}"] = scores[ev]["false_per_100"]
        runs.append(run)
        extra = (f" (category {scores['category']['recall']:.2f} / {scores['category']['false_alerts']}, "
                 f"term {scores['term']['recall']:.2f} / {scores['term']['false_alerts']})" if terms else "")
        if s_known is not None:
            extra += f" (real surges excluded: {s_known['false_alerts']} = {s_known['false_per_100']:.2f})"
        print(f"  [{label}] seed {seed}: recall {s['recall']:.2f} ({s['hits']}/{s['n_surges']}), "
              f"false alerts {s['false_alerts']} = {s['false_per_100']:.2f} per 100 group-weeks{extra}", flush=True)
    return runs, surges


def _check_relevel(det: SurgeDetector, quiet: bool = False) -> None:
    """``--q-grid``: the detector's own 预警 q must reproduce its alerts exactly (every fit is checked), and the
    unplanted board's alerts at each q are printed."""
    if not OPTS["q_grid"]:
        return
    own = det._thresholds()["预警"]["q"]
    same = relevel(det, own)["level"].isin(ALERT).to_numpy() == det.cells_["level"].isin(ALERT).to_numpy()
    if not same.all():
        raise SystemExit(f"relevel does not reproduce the detector's levels at q {own}: {(~same).sum()} cells differ")
    if quiet:
        return
    n = {q: int(relevel(det, q)["level"].isin(ALERT).sum()) for q in OPTS["q_grid"]}
    print("unplanted, alerts >= 预警 by 预警 q: " + ", ".join(
        f"{q:g}: {v} = {100 * v / det.n_group_periods_:.2f} per 100" for q, v in n.items()))


def _fmt(x: pd.Series) -> str:
    return f"{x.mean():.2f} ({x.min():.2f}-{x.max():.2f})"


def real_data(seed_sets: list[str], cases: str = "all") -> None:
    boston = OPTS["dataset"] == "boston"
    df = boston_messages(OPTS["groups"]) if boston else real_messages()
    if boston:  # the real surges: category cells, or (totals) the area-weeks the events made
        OPTS["known"] = boston_known_totals(df) if OPTS["no_categories"] else boston_known(df)
    if OPTS["no_categories"]:
        from govml.text.alerts import TOTAL_KEY

        df["category"] = TOTAL_KEY  # surges are planted into each area's total
    tok = CachedTokenizer()
    t0 = time.perf_counter()
    base = SurgeDetector(by="area", period="W", terms=False, **PARAMS).fit(_input(df))
    nat = base.alerts_["level"].value_counts()
    _check_relevel(base)
    name = "Boston 311 2015, by neighborhood x REASON" if boston else "teddycup 附件3"
    print(f"[{name}] {len(df)} messages, {len(base.groups_)} areas, {len(base.periods_)} weeks, "
          f"{base.n_group_periods_} tested area-weeks; unplanted: 告警 {nat.get('告警', 0)}, 预警 {nat.get('预警', 0)}, "
          f"关注 {nat.get('关注', 0)} ({time.perf_counter() - t0:.1f} s)")
    with_terms = SurgeDetector(by="area", period="W", tokenizer=tok, **PARAMS).fit(_input(df))
    strong = with_terms.alerts_[with_terms.alerts_["level"].isin(["预警", "告警"])]
    n_kind = strong["kind"].value_counts()
    print(f"unplanted, with terms: alerts >= 预警 category {n_kind.get('category', 0)}, term {n_kind.get('term', 0)} "
          f"= {100 * len(strong) / with_terms.n_group_periods_:.2f} per 100 area-weeks")
    if OPTS["known"] is not None:
        for d, label in ((base, "no terms"), (with_terms, "with terms")):
            k = score_alerts(d.cells_, OPTS["known"].iloc[:0], by="area", period="W",
                             n_group_periods=d.n_group_periods_, known_events=OPTS["known"])
            print(f"unplanted, {label}, the real surges of BOSTON_EVENTS excluded ({len(OPTS['known'])} area x "
                  f"{'' if OPTS['no_categories'] else 'category x '}weeks): {k['false_alerts']} alerts >= 预警 = {k['false_per_100']:.2f} per 100 area-weeks")
    oracle = Oracle(df, by="area", n_group_periods=base.n_group_periods_, min_history=base.min_history)
    print(f"oracle z threshold (1 natural exceedance per 100 area-weeks): {oracle.threshold:.2f}")
    table, sizes = [], []
    todo = [(c, False) for c in CASES] * (cases in ("all", "old")) + [(c, True) for c in THEMED] * (
        cases in ("all", "themed"))
    for name in seed_sets:
        for (label, factor, min_extra, weeks, min_sd), themed in todo:
            # the cloned cases as before (categories only); themed waves with terms, scored by evidence
            seeds = SEEDS[name] if not OPTS["n_seeds"] else SEEDS[name][: OPTS["n_seeds"]]
            runs, surges = run_case(df, oracle, label, seeds, factor, min_extra, weeks, min_sd,
                                    themed=themed, terms=themed, tok=tok)
            r, s = pd.DataFrame(runs), pd.DataFrame(surges)
            row = {"seeds": f"{name} {seeds.start}-{seeds.stop - 1}", "case": label,
                   "recall": _fmt(r["recall"]), "false/100": _fmt(r["false_per_100"]),
                   "oracle recall": f"{s['oracle'].mean():.2f}"}
            if "false_known" in r.columns:
                row["false/100, real surges excluded"] = _fmt(r["false_known"])
            for q in OPTS["q_grid"]:
                row[f"q<={q:g}"] = f"{r[f'recall@{q:g}'].mean():.3f} / {r[f'false@{q:g}'].mean():.3f}"
            if themed:
                row.update({"category only": f"{r['recall_category'].mean():.2f} / {r['false_category'].mean():.2f}",
                            "term only": f"{r['recall_term'].mean():.2f} / {r['false_term'].mean():.2f}"})
            table.append(row)
            sizes.append(s.assign(seeds=name))
    print("\n" + pd.DataFrame(table).fillna("").to_string(index=False))
    s = pd.concat(sizes, ignore_index=True)
    s["size"] = pd.cut(s["size_sd"], SIZE_BINS, right=False)
    by_size = s.groupby(["size"], observed=True).agg(surges=("hit", "size"), recall=("hit", "mean"),
                                                     oracle=("oracle", "mean"))
    print("\nrecall by surge size (extra per week / the cell's sd), all cases and seed sets:")
    print(by_size.round(2).to_string())
    by_case = s.groupby(["case", "seeds", "size"], observed=True)["hit"].agg(["size", "mean"]).round(2)
    print("\nby case, seed set and size:\n" + by_case.to_string())


def generator_rates(periods: pd.DatetimeIndex, groups: list[str]) -> np.ndarray:
    """data_samples' expected messages per community and week (groups × periods) as its generator draws them
    (:func:`govml.samples.messages.build`, seed 0, scale 1: base rate × community weight × category mix ×
    month season × trend × weekday, summed over categories; planted surges and hot issues not included)."""
    import random

    from govml.samples import messages as gen

    comms = gen._communities(1, random.Random(11))          # build(seed=0): random.Random(0 * 7919 + 11)
    days = pd.date_range(gen.START, gen.END, freq="D")
    frac = np.arange(gen.N_DAYS) / gen.N_DAYS
    weekday = np.where(days.day_of_week.to_numpy() >= 5, 0.8, 1.06)
    mix = np.array([gen._SHARE[c.area] for c in comms])
    season = np.ones((len(gen.CATEGORIES), gen.N_DAYS))
    for k, cat in enumerate(gen.CATEGORIES):
        if cat in gen._SEASON:
            season[k] = np.array(gen._SEASON[cat])[days.month.to_numpy() - 1]
        season[k] *= 1 + (0.12 + gen._TREND.get(cat, 0.0)) * frac
    w = np.array([c.weight for c in comms])
    w *= len(comms) / w.sum()
    rate = (gen._BASE_RATE * w[:, None, None] * mix[:, :, None] * season[None] * weekday[None, None]).sum(axis=1)
    weeks = days - pd.to_timedelta(days.day_of_week, unit="D")
    by_week = pd.DataFrame(rate.T, index=weeks, columns=[c.name for c in comms]).groupby(level=0).sum()
    return by_week.reindex(index=periods, columns=groups).fillna(0.0).to_numpy().T


def oracle_false(Y: np.ndarray, rate: np.ndarray, tested: np.ndarray, planted: np.ndarray, q: float,
                 windows: tuple[int, ...] = (1, 2, 4)) -> np.ndarray:
    """False alerts ≥ 预警 per period of a detector that knows every expected count (``rate``, groups × periods):
    the detector's test with the truth for its expectation — Poisson windows of 1, 2 and 4 periods (a longer one
    only while its last period is above the rate), Bonferroni over the windows, discrete Benjamini–Hochberg per
    period over the tested groups, 预警's ratio ≥ 2 and count ≥ 4. ``planted``: group-periods of planted episodes
    (an alert whose window covers one is not counted)."""
    from scipy import stats

    from govml.text.alerts import discrete_bh_qvalues

    out = np.zeros(Y.shape[1], int)
    for t in range(Y.shape[1]):
        gs = np.flatnonzero(tested[:, t])
        if not len(gs):
            continue
        best, obs, exp = np.ones(len(gs)), np.zeros(len(gs)), np.ones(len(gs))
        cover = np.zeros(len(gs), bool)
        null = []
        for w in windows:
            s0 = t - w + 1
            if s0 < 0:
                null.append((np.full(len(gs), np.nan), np.full(len(gs), np.nan)))
                continue
            o, e = Y[gs, s0:t + 1].sum(axis=1), rate[gs, s0:t + 1].sum(axis=1)
            null.append((e, np.full(len(gs), 1e-9)))
            p = stats.poisson.sf(o - 1, e)
            if w > 1:
                p = np.where(Y[gs, t] > rate[gs, t], p, 1.0)
            b = p < best
            best[b], obs[b], exp[b], cover[b] = p[b], o[b], e[b], planted[gs, s0:t + 1].any(axis=1)[b]
        qv = discrete_bh_qvalues(np.minimum(1.0, best * len(windows)), null)
        out[t] = int(((qv <= q) & (obs / exp >= 2) & (obs >= 4) & ~cover).sum())
    return out


def samples_oracle(det: SurgeDetector, df: pd.DataFrame, truth: pd.DataFrame, hot: pd.DataFrame | None,
                   qs: tuple[float, ...], n_sims: int = 10) -> None:
    """``--samples-only --no-categories --oracle``: data_samples' totals against a detector that knows the
    generator's rates (:func:`generator_rates`, :func:`oracle_false`), on the data and on ``n_sims`` Poisson
    draws of the rates (nothing planted; the detector fitted on each draw too), at each 预警 q; before / from
    week 60 (where last year's seasonal factor starts)."""
    G, T = len(det.groups_), len(det.periods_)
    gi = {g: i for i, g in enumerate(det.groups_)}
    rate = generator_rates(det.periods_, det.groups_)
    t_msg = det.periods_.get_indexer(period_start(pd.to_datetime(df["created_at"]), "W"))
    g_msg = df["community"].astype(str).map(gi).to_numpy()
    ok = t_msg >= 0
    Y = np.zeros((G, T))
    np.add.at(Y, (g_msg[ok], t_msg[ok]), 1)
    first = np.argmax(Y > 0, axis=1)
    tested = (np.arange(T)[None, :] - first[:, None]) >= det.min_history
    planted = np.zeros((G, T), bool)
    for d in (truth, hot) if hot is not None else (truth,):
        for _, r in d.iterrows():
            s0 = period_start(pd.Series([pd.Timestamp(r["start"])]), "W").iloc[0]
            for p in pd.date_range(s0, pd.Timestamp(r["end"]), freq="W-MON"):
                if p in det.periods_:
                    planted[gi[str(r["community"])], det.periods_.get_loc(p)] = True
    base = rate[tested & ~planted].sum()
    print(f"  generator-rate oracle: the generator's rates give {base:.0f} messages in the unplanted tested "
          f"community-weeks, the data {Y[tested & ~planted].sum():.0f}")
    first_year = np.arange(T) < 60
    for q in qs:
        f = oracle_false(Y, rate, tested, planted, q)
        print(f"  oracle, data, 预警 at q ≤ {q:g}: false alerts {f.sum()} ({f[first_year].sum()} before week 60) in "
              f"{(f > 0).sum()} weeks; tested community-weeks before / from week 60: "
              f"{tested[:, first_year].sum()} / {tested[:, ~first_year].sum()}")
    rng = np.random.default_rng(20261201)
    o_sum = {q: np.zeros(2) for q in qs}
    d_sum = {q: np.zeros(2) for q in qs}
    for _ in range(n_sims):
        draw = rng.poisson(rate)
        for q in qs:
            f = oracle_false(draw.astype(float), rate, tested, np.zeros_like(planted), q)
            o_sum[q] += [f[first_year].sum(), f[~first_year].sum()]
        gg, tt = np.nonzero(draw)
        n = draw[gg, tt]
        msgs = pd.DataFrame({"community": np.repeat(np.asarray(det.groups_, dtype=object)[gg], n),
                             "created_at": np.repeat(det.periods_[tt], n) + pd.Timedelta(days=3, hours=12)})
        dsim = SurgeDetector(by="community", period="W", terms=False, label_col=None, **PARAMS).fit(msgs)
        ts = dsim.periods_.get_indexer(pd.to_datetime(dsim.cells_["period_start"]))
        for q in qs:
            al = relevel(dsim, q)["level"].isin(ALERT).to_numpy()
            d_sum[q] += [int((al & (ts < 60)).sum()), int((al & (ts >= 60)).sum())]
    for q in qs:
        o, d = o_sum[q] / n_sims, d_sum[q] / n_sims
        print(f"  {n_sims} Poisson draws of the generator's rates (nothing planted), 预警 at q ≤ {q:g}, mean false "
              f"alerts before / from week 60: oracle {o[0]:.1f} / {o[1]:.1f}, detector {d[0]:.1f} / {d[1]:.1f}")


def samples() -> None:
    msgs = SAMPLES / "messages.csv"
    truth_path = SAMPLES / "truth_surges.csv"
    if not (msgs.exists() and truth_path.exists()):
        print("skip data_samples: not generated")
        return
    from govml.io import load
    from govml.text.tokenize import GovTokenizer

    df = load(msgs, "messages")
    truth = pd.read_csv(truth_path)
    hot_path = SAMPLES / "truth_hot_issues.csv"
    hot = pd.read_csv(hot_path) if hot_path.exists() else None
    tok = GovTokenizer()
    what = ""
    if OPTS["no_categories"]:
        # each community's total: the planted surges and hot issues are surges of the total (category 全部)
        from govml.text.alerts import TOTAL_KEY

        df = df.drop(columns="category")
        truth = truth.assign(category=TOTAL_KEY)
        hot = hot.assign(category=TOTAL_KEY) if hot is not None else None
        what = ", totals (category column dropped)"
    t0 = time.perf_counter()
    det = SurgeDetector(by="community", period="W", tokenizer=tok, **PARAMS).fit(df)
    secs = time.perf_counter() - t0
    _check_relevel(det, quiet=True)
    s = score_alerts(det.cells_, truth, by="community", period="W", n_group_periods=det.n_group_periods_,
                     known_events=hot, tokenizer=tok)
    cat = score_alerts(det.cells_[det.cells_["kind"] == "category"], truth, by="community", period="W",
                       n_group_periods=det.n_group_periods_, known_events=hot, tokenizer=tok)
    for q in OPTS["q_grid"]:
        sq = score_alerts(relevel(det, q), truth, by="community", period="W", n_group_periods=det.n_group_periods_,
                          known_events=hot, tokenizer=tok)
        print(f"  预警 at q ≤ {q:g}: recall {sq['recall']:.2f} ({sq['hits']}/{sq['n_surges']}), false alerts "
              f"{sq['false_alerts']} = {sq['false_per_100']:.2f} per 100")
    print(f"[data_samples planted surges{what}, weekly, {len(df)} messages, {secs:.1f} s] recall {s['recall']:.2f} "
          f"({s['hits']}/{s['n_surges']}), false alerts {s['false_alerts']} = {s['false_per_100']:.2f} per 100 "
          f"group-periods ({s['group_periods']}); category alerts alone: recall {cat['recall']:.2f}, "
          f"false {cat['false_alerts']} = {cat['false_per_100']:.2f} per 100")
    if OPTS.get("oracle") and OPTS["no_categories"]:
        samples_oracle(det, df, truth, hot, OPTS["q_grid"] or (det._thresholds()["预警"]["q"],))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", choices=["tuning", "heldout", "both"], default="both")
    ap.add_argument("--params", default="{}", help="SurgeDetector settings as JSON")
    ap.add_argument("--cases", choices=["all", "old", "themed"], default="all",
                    help="cloned surges (old and sd definitions), themed waves, or both")
    ap.add_argument("--no-categories", action="store_true",
                    help="real data only: drop the category column (alerts on each area's total and its terms)")
    ap.add_argument("--dataset", choices=["teddycup", "boston"], default="teddycup",
                    help="real data: teddycup 附件3 (by area) or Boston 311 2015 (by neighborhood x REASON)")
    ap.add_argument("--n-seeds", type=int, default=None, help="only the first N seeds of each seed set")
    ap.add_argument("--groups", type=int, default=None, help="Boston: the N largest neighbourhoods only")
    ap.add_argument("--noise-only", action="store_true",
                    help="only the pure-noise and trend panels (generated; about a minute); with --no-categories "
                         "each group's total of the panel is tested")
    ap.add_argument("--samples-only", action="store_true",
                    help="only data_samples' planted surges (with --no-categories: each community's total)")
    ap.add_argument("--season-only", action="store_true",
                    help="only the opposite-seasons panel (generated totals over 3 years, 6 seeds, planted and not; ~20 s)")
    ap.add_argument("--q-grid", default="",
                    help="comma-separated 预警 q values: every run is also scored with the category cells' alerts "
                         "re-derived at each (exact, post hoc; recall / false per 100 per value)")
    ap.add_argument("--oracle", action="store_true",
                    help="with --samples-only --no-categories: false alerts of a detector that knows the generator's "
                         "rates, on the data and on 10 Poisson draws of those rates (the detector fitted on each too)")
    args = ap.parse_args(argv)
    OPTS.update(oracle=args.oracle, no_categories=args.no_categories, dataset=args.dataset, n_seeds=args.n_seeds, groups=args.groups,
                q_grid=tuple(float(x) for x in args.q_grid.split(",") if x.strip()))
    PARAMS.update(json.loads(args.params))
    if PARAMS:
        print(f"SurgeDetector settings: {PARAMS}")
    if args.noise_only:
        noise()
        return 0
    if args.samples_only:
        samples()
        return 0
    if args.season_only:
        seasons()
        return 0
    if args.dataset == "boston":
        if BOSTON.exists():
            real_data(["tuning", "heldout"] if args.seeds == "both" else [args.seeds], args.cases)
        else:
            print(f"skip Boston: {BOSTON} not found")
        return 0
    if REAL.exists():
        real_data(["tuning", "heldout"] if args.seeds == "both" else [args.seeds], args.cases)
    else:
        print(f"skip real data: {REAL} not found")
    if not args.no_categories:
        samples()
        noise()
    return 0


if __name__ == "__main__":
    sys.exit(main())
