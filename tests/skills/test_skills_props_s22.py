"""Cross-checks and metamorphic properties of the checked `govml skills` commands (session 22).

Every figure is recomputed here from the raw sample file and the documented formulas
(docs/skills.md, configs/indicators.yaml), not from govml's own helpers: composites and cards,
gaps, optimal plans against brute force over every subset of candidate courses, entropy weights
and TOPSIS; the same records in another row order, encoding or file form give the same bytes;
every kind of tampering with the assessment log is named, and a second submission is said.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from govml.cli import app

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "indicators.yaml"


@pytest.fixture(scope="module")
def runner():
    from typer.testing import CliRunner

    return CliRunner()


@pytest.fixture(scope="module")
def cfg() -> dict:
    return yaml.safe_load(CONFIG.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def raw(samples_dir) -> pd.DataFrame:
    return pd.read_csv(samples_dir / "assessments.csv")


# --- the documented formulas, written out once more -------------------------------------------------


def _target(ind: dict, area: str) -> float:
    t = ind["target"]
    return float(t[area] if isinstance(t, dict) else t)


def _score(ind: dict, x: float, area: str, zs: dict) -> float:
    """docs/skills.md "Scores": minmax / zscore / target, direction-aware, clipped to 0..100."""
    if x != x:
        return math.nan
    lo, hi = ind["range"]
    higher = ind["direction"] == "higher"
    if ind["normalisation"] == "minmax":
        s = 100 * ((x - lo) / (hi - lo) if higher else (hi - x) / (hi - lo))
    elif ind["normalisation"] == "zscore":
        m, sd = zs[ind["id"]]
        s = 50 + 10 * ((x - m) / sd if higher else (m - x) / sd)
    else:
        t = _target(ind, area)
        s = 100 * min(x / t, 1) if higher else 100 * min(t / x, 1)
    return min(max(s, 0.0), 100.0)


def _dim_weights(cfg: dict, area: str) -> dict[str, float]:
    w = {d["id"]: d.get("weights_by_area", {}).get(area, d["weight"]) for d in cfg["dimensions"]}
    return {k: v / sum(w.values()) for k, v in w.items()}


def _ind_weight(ind: dict, area: str) -> float:
    return ind.get("weights_by_area", {}).get(area, ind["weight"])


def _overall_weights(cfg: dict, area: str) -> dict[str, float]:
    out = {}
    for d, dw in _dim_weights(cfg, area).items():
        inds = [i for i in cfg["indicators"] if i["dimension"] == d]
        tot = sum(_ind_weight(i, area) for i in inds)
        out.update({i["id"]: dw * _ind_weight(i, area) / tot for i in inds})
    return out


def _zscore_stats(cfg: dict, raw: pd.DataFrame) -> dict:
    return {i["id"]: (raw[i["id"]].mean(), raw[i["id"]].std(ddof=0)) for i in cfg["indicators"]
            if i["normalisation"] == "zscore"}


def _composite(cfg: dict, row: pd.Series, zs: dict) -> float:
    area = row["area_type"]
    dw = _dim_weights(cfg, area)
    num = den = missing = 0.0
    for d, w in dw.items():
        inds = [i for i in cfg["indicators"] if i["dimension"] == d]
        tot = sum(_ind_weight(i, area) for i in inds)
        s_num = s_den = 0.0
        for i in inds:
            s = _score(i, row[i["id"]], area, zs)
            if s != s:
                missing += w * _ind_weight(i, area) / tot
                continue
            s_num += _ind_weight(i, area) * s
            s_den += _ind_weight(i, area)
        if s_den:
            num += w * s_num / s_den
            den += w
    ic = num / den if missing <= cfg["missing"]["max_missing_share"] + 1e-12 else math.nan
    rr = row.get("resident_rating", math.nan)
    w = cfg["resident_rating"]["weight"]
    return (1 - w) * ic + w * rr if rr == rr else ic


# --- score ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scores(runner, samples_dir, tmp_path_factory):
    """`skills score` on the sample file, on its rows shuffled and written as GBK, and on its rows
    reversed in an .xlsx: the three score files as bytes (the first also as a frame)."""
    tmp = tmp_path_factory.mktemp("score")
    src = pd.read_csv(samples_dir / "assessments.csv", dtype=str, keep_default_na=False)
    shuffled = tmp / "shuffled_gbk.csv"
    src.iloc[np.random.default_rng(22).permutation(len(src))].to_csv(shuffled, index=False, encoding="gbk")
    xlsx = tmp / "reversed.xlsx"
    pd.read_csv(samples_dir / "assessments.csv").iloc[::-1].to_excel(xlsx, index=False)
    out = {}
    for name, path in (("csv", samples_dir / "assessments.csv"), ("gbk", shuffled), ("xlsx", xlsx)):
        target = tmp / f"scores_{name}.csv"
        r = runner.invoke(app, ["skills", "score", str(path), "--config", str(CONFIG), "--out", str(target),
                                "--no-track"])
        assert r.exit_code == 0, r.output
        out[name] = target.read_bytes()
    return out


def test_score_is_the_same_for_any_row_order_encoding_and_file_form(scores):
    assert scores["gbk"] == scores["csv"]
    assert scores["xlsx"] == scores["csv"]


def test_composites_dimension_weights_and_cards_recomputed_by_hand(scores, cfg, raw, tmp_path):
    (tmp_path / "s.csv").write_bytes(scores["csv"])
    got = pd.read_csv(tmp_path / "s.csv").set_index(["worker_id", "period"])
    assert len(got) == len(raw) == 1280
    zs = _zscore_stats(cfg, raw)
    hand = pd.Series({(r.worker_id, r.period): _composite(cfg, r, zs) for _, r in raw.iterrows()})
    hand = hand.reindex(got.index)
    assert (hand.isna() == got["composite"].isna()).all()
    np.testing.assert_allclose(got["composite"].dropna(), hand.dropna(), rtol=0, atol=1e-9)
    # cards: composites below the threshold among the last `window` assessments (docs: 龙岗 rule)
    c = cfg["cards"]
    expected = []
    for _, g in hand.groupby(level=0, sort=False):
        vals = g.sort_index().tolist()
        for k in range(len(vals)):
            n = sum(1 for x in vals[max(0, k - c["window"] + 1):k + 1] if x == x and x < c["threshold"])
            expected.append("red" if n >= c["red"] else "yellow" if n >= c["yellow"] else "none")
    assert got.sort_index()["card"].tolist() == expected
    assert (got["card"] == "red").sum() > 0  # the sample has planted low scorers: the check is not vacuous


# --- diagnose: gaps and optimal plans ---------------------------------------------------------------


def _catalog(samples_dir):
    cat = pd.read_csv(samples_dir / "courses.csv", dtype=str, keep_default_na=False)
    strength = {r.course_id: {kv.split(":")[0]: float(kv.split(":")[1]) for kv in r.indicators.split(";")}
                for r in cat.itertuples()}
    hours = dict(zip(cat.course_id, cat.hours.astype(float), strict=True))
    cost = dict(zip(cat.course_id, cat.cost.astype(float), strict=True))
    pre = {r.course_id: [p for p in r.prerequisites.split(";") if p] for r in cat.itertuples()}
    return strength, hours, cost, pre


def _best_by_brute_force(g: dict, v: dict, strength, hours, cost, pre, H: float, C: float) -> tuple[float, int]:
    """max Σ v_i min(g_i, Σ_c s_ci g_i x_c) over every subset of the candidate courses (those training a gap
    and fitting the budget alone, plus their prerequisites) that fits both budgets with its prerequisites."""
    cand = {c for c in strength if any(i in g for i in strength[c]) and hours[c] <= H and cost[c] <= C}
    while more := {p for c in cand for p in pre[c]} - cand:
        cand |= more
    cand = sorted(cand)
    n = len(cand)
    masks = np.array(list(itertools.product([0, 1], repeat=n)), dtype=bool).reshape(-1, n)
    ok = (masks @ np.array([hours[c] for c in cand]) <= H + 1e-9) & (masks @ np.array([cost[c] for c in cand])
                                                                      <= C + 1e-9)
    for k, c in enumerate(cand):
        for p in pre[c]:
            ok &= ~masks[:, k] | masks[:, cand.index(p)]
    inds = sorted(g)
    reach = np.array([[strength[c].get(i, 0.0) * g[i] for i in inds] for c in cand]).reshape(n, len(inds))
    closed = np.minimum(np.array([g[i] for i in inds]), masks[ok].astype(float) @ reach)
    return float((closed @ np.array([v[i] for i in inds])).max()), n


@pytest.mark.parametrize("H,C", [(16.0, 1500.0), (24.0, None)])
def test_plans_are_optimal_within_budget_and_gaps_are_target_minus_score(runner, samples_dir, tmp_path, cfg, raw,
                                                                         H, C):
    plan_p, gaps_p = tmp_path / "plan.csv", tmp_path / "gaps.csv"
    args = ["skills", "diagnose", str(samples_dir / "assessments.csv"), "--courses", str(samples_dir / "courses.csv"),
            "--config", str(CONFIG), "--budget-hours", str(H), "--out", str(plan_p), "--gaps-out", str(gaps_p),
            "--no-track"] + ([] if C is None else ["--budget-cost", str(C)])
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    plan = pd.read_csv(plan_p)
    strength, hours, cost, pre = _catalog(samples_dir)
    C = math.inf if C is None else C
    ind = {i["id"]: i for i in cfg["indicators"]}
    zs = _zscore_stats(cfg, raw)
    last = raw[raw["period"] == raw["period"].max()]
    by_worker = {w: grp["course_id"].tolist() for w, grp in plan.groupby("worker_id")}
    n_planned = 0
    for _, row in last.iterrows():
        area, ow = row["area_type"], _overall_weights(cfg, row["area_type"])
        g, v = {}, {}
        for i, spec in ind.items():
            if row[i] == row[i]:
                gp = _score(spec, _target(spec, area), area, zs) - _score(spec, row[i], area, zs)
                if gp > 1e-9:
                    g[i], v[i] = gp, ow[i]
        mine = by_worker.get(row["worker_id"], [])
        # budgets, prerequisites, no course twice
        assert sum(hours[c] for c in mine) <= H + 1e-9 and sum(cost[c] for c in mine) <= C + 1e-9
        assert all(p in mine for c in mine for p in pre[c]) and len(set(mine)) == len(mine)
        got = sum(v[i] * min(g[i], sum(strength[c].get(i, 0.0) * g[i] for c in mine)) for i in g)
        if not g:
            assert not mine
            continue
        best, n_cand = _best_by_brute_force(g, v, strength, hours, cost, pre, H, C)
        assert n_cand <= 14
        assert got == pytest.approx(best, rel=1e-9, abs=1e-12), row["worker_id"]
        # gap_closed shares add up to the objective (4 decimals in the file)
        assert plan.loc[plan["worker_id"] == row["worker_id"], "gap_closed"].sum() == pytest.approx(got, abs=1e-3)
        n_planned += bool(mine)
    assert n_planned > 50
    # gaps.csv: gap = target − score (score − target when lower is better), in the indicator's unit
    gaps = pd.read_csv(gaps_p).merge(
        raw.melt(id_vars=["worker_id", "period", "area_type"], value_vars=list(ind), var_name="indicator",
                 value_name="x"), on=["worker_id", "period", "indicator"])
    assert len(gaps) == raw[list(ind)].notna().sum().sum()
    t = np.array([_target(ind[i], a) for i, a in zip(gaps["indicator"], gaps["area_type"], strict=True)])
    higher = np.array([ind[i]["direction"] == "higher" for i in gaps["indicator"]])
    np.testing.assert_allclose(gaps["target"], t)
    np.testing.assert_allclose(gaps["score"], gaps["x"])
    np.testing.assert_allclose(gaps["gap"], np.where(higher, t - gaps["x"], gaps["x"] - t), atol=1e-9)
    # peer_percentile: average-rank percentile of the 0–100 score among the same area type and period (0.1 in
    # the file); periods_below: consecutive periods below target up to this one
    gaps["s"] = [_score(ind[i], x, a, zs) for i, x, a in zip(gaps["indicator"], gaps["x"], gaps["area_type"],
                                                             strict=True)]
    pct = gaps.groupby(["period", "area_type", "indicator"])["s"].rank(method="average", pct=True) * 100
    assert (pct - gaps["peer_percentile"]).abs().max() <= 0.05 + 1e-9
    gaps = gaps.sort_values(["worker_id", "indicator", "period"])
    k = {p: n for n, p in enumerate(sorted(gaps["period"].unique()))}
    run, runs, prev = 0, [], None
    for w, i, p, gap in zip(gaps["worker_id"], gaps["indicator"], gaps["period"], gaps["gap"], strict=True):
        run = (run if prev == (w, i, k[p] - 1) else 0) + 1 if gap > 0 else 0  # a period without a value breaks it
        runs.append(run)
        prev = (w, i, k[p])
    assert runs == gaps["periods_below"].tolist()


def test_a_course_already_taken_is_not_planned_again_and_counts_as_prerequisite(tiny):
    from govml.skills import parse_courses, plan_courses

    courses = pd.DataFrame({"course_id": ["B", "ADV", "X"], "title": ["基础", "进阶", "其他"], "hours": [8, 8, 4],
                            "cost": [100, 100, 100], "indicators": ["a:0.3", "a:1", "c:0.5"],
                            "prerequisites": ["", "B", ""]})
    cat = parse_courses(courses, tiny, file="courses.csv")
    gaps = pd.DataFrame({"worker_id": ["W1", "W2", "W2"], "period": "2024Q4", "indicator": ["a", "a", "c"],
                         "gap": [20.0, 20.0, 10.0], "gap_points": [20.0, 20.0, 10.0], "weight": [0.5, 0.5, 0.5]})
    taken = pd.DataFrame({"worker_id": ["W1", "W2"], "course_id": ["B", "X"]})
    plan, summary = plan_courses(gaps, cat, tiny, budget_hours=8, taken=taken)
    mine = plan.groupby("worker_id")["course_id"].apply(sorted).to_dict()
    assert mine["W1"] == ["ADV"]  # B done: ADV alone fits the 8 hours and closes the whole gap
    assert mine["W2"] == ["B"]  # X done (not again); ADV needs B: 16 h do not fit
    _, untaken = plan_courses(gaps, cat, tiny, budget_hours=8)
    w1 = summary.set_index("worker_id").loc["W1", "objective"]
    assert w1 == pytest.approx(10.0) and w1 > untaken.set_index("worker_id").loc["W1", "objective"]


# --- weights ----------------------------------------------------------------------------------------


def test_entropy_weights_and_topsis_recomputed_by_hand(runner, samples_dir, tmp_path, cfg, raw):
    w_p, r_p = tmp_path / "w.csv", tmp_path / "rank.csv"
    r = runner.invoke(app, ["skills", "weights", str(samples_dir / "assessments.csv"), "--config", str(CONFIG),
                            "--out", str(w_p), "--ranking-out", str(r_p)])
    assert r.exit_code == 0, r.output
    ids = [i["id"] for i in cfg["indicators"]]
    low = {i["id"] for i in cfg["indicators"] if i["direction"] == "lower"}
    X = raw[raw["period"] == raw["period"].max()].set_index("worker_id")[ids].dropna()
    n = len(X)
    d = {}
    for j in ids:
        x = X[j].to_numpy()
        y = (x.max() - x) / np.ptp(x) if j in low else (x - x.min()) / np.ptp(x)
        p = y / y.sum()
        d[j] = 1 + sum(q * math.log(q) for q in p if q > 0) / math.log(n)  # 1 − e_j
    w = {j: d[j] / sum(d.values()) for j in ids}
    got = pd.read_csv(w_p).set_index("indicator")["entropy_weight"]
    np.testing.assert_allclose(got[ids], [w[j] for j in ids], rtol=0, atol=1e-12)
    # TOPSIS with those weights: vector normalisation, ideal / anti-ideal, closeness d⁻ / (d⁺ + d⁻)
    V = np.column_stack([w[j] * X[j] / math.sqrt((X[j] ** 2).sum()) for j in ids])
    lower = np.array([j in low for j in ids])
    best = np.where(lower, V.min(axis=0), V.max(axis=0))
    worst = np.where(lower, V.max(axis=0), V.min(axis=0))
    dp, dm = np.sqrt(((V - best) ** 2).sum(axis=1)), np.sqrt(((V - worst) ** 2).sum(axis=1))
    hand = pd.Series(dm / (dp + dm), index=X.index)
    rank = pd.read_csv(r_p).set_index("worker_id")
    assert len(rank) == n
    np.testing.assert_allclose(rank.loc[hand.index, "closeness"], hand, rtol=0, atol=1e-12)
    assert rank.sort_values("rank").index.tolist() == hand.sort_values(ascending=False).index.tolist()


def test_entropy_and_topsis_ignore_row_order_and_units(raw, cfg):
    """Min-max and vector normalisation make both blind to a column's unit (×k) and to row order."""
    from govml.skills import entropy_weights, topsis

    ids = [i["id"] for i in cfg["indicators"]]
    dirs = {i["id"]: i["direction"] for i in cfg["indicators"]}
    X = raw[raw["period"] == raw["period"].max()].set_index("worker_id")[ids]
    Y = X.sample(frac=1.0, random_state=3) * np.linspace(0.5, 60, len(ids))
    pd.testing.assert_series_equal(entropy_weights(X, dirs), entropy_weights(Y, dirs), rtol=1e-12)
    a, b = topsis(X, entropy_weights(X, dirs), dirs), topsis(Y, entropy_weights(Y, dirs), dirs)
    pd.testing.assert_series_equal(a["closeness"], b["closeness"].loc[a.index], rtol=1e-9)


# --- the assessment log -----------------------------------------------------------------------------


@pytest.fixture
def log(runner, samples_dir, tmp_path):
    src = tmp_path / "a.csv"
    pd.read_csv(samples_dir / "assessments.csv").head(6).to_csv(src, index=False)
    path = tmp_path / "log.jsonl"
    r = runner.invoke(app, ["skills", "log-append", str(path), str(src), "--config", str(CONFIG)])
    assert r.exit_code == 0, r.output
    return path, src


def _verify(runner, path):
    r = runner.invoke(app, ["skills", "verify-log", str(path)])
    return r.exit_code, " ".join(r.output.split())


def _edit(line: str, **change) -> str:
    e = json.loads(line)
    e["payload"]["scores"].update(change)
    return json.dumps(e, ensure_ascii=False)


def test_every_kind_of_tampering_exits_1_naming_the_entry(runner, log):
    from govml.skills import ledger

    path, _ = log
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6 and _verify(runner, path)[0] == 0
    forged = ledger.build_entries([{"worker_id": "W9999", "period": "2024Q4", "scores": {}}],
                                  last=json.loads(lines[-1]))[0]
    cases = {
        "edited: seq 3": lines[:3] + [_edit(lines[3], sanitation=99.9)] + lines[4:],
        "removed: seq 4": lines[:4] + lines[5:],
        "reordered: seq 2, 3": lines[:2] + [lines[3], lines[2]] + lines[4:],
        "truncated": lines[:-1] + [lines[-1][: len(lines[-1]) // 2]],
        "appended: seq 6": lines + [ledger.entry_line(forged)],  # a valid hash: only the head shows it
    }
    for expected, text in cases.items():
        path.write_text("\n".join(text) + "\n", encoding="utf-8")
        rc, out = _verify(runner, path)
        assert rc == 1 and expected in out, (expected, out)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _verify(runner, path)[0] == 0
    # without the head a longer valid chain cannot be told from an honest one: the message says so
    path.with_name(path.name + ".head").unlink()
    path.write_text("\n".join(lines + [ledger.entry_line(forged)]) + "\n", encoding="utf-8")
    rc, out = _verify(runner, path)
    assert rc == 0 and "added at the end cannot be seen" in out


def test_a_second_submission_of_a_worker_period_is_said_and_kept(runner, log, tmp_path):
    path, src = log
    r = runner.invoke(app, ["skills", "log-append", str(path), str(src), "--config", str(CONFIG)])
    out = " ".join(r.output.split())
    assert r.exit_code == 0 and "6 of 6 worker-periods are already in log.jsonl" in out
    assert "6 with the same scores" in out
    changed = tmp_path / "b.csv"
    df = pd.read_csv(src)
    df.loc[0, "sanitation"] = 12.5
    df.to_csv(changed, index=False)
    r = runner.invoke(app, ["skills", "log-append", str(path), str(changed), "--config", str(CONFIG)])
    assert r.exit_code == 0 and "5 with the same scores" in " ".join(r.output.split())
    assert _verify(runner, path)[0] == 0 and len(path.read_text(encoding="utf-8").splitlines()) == 18


def test_a_larger_budget_never_plans_less_and_greedy_never_beats_the_optimum(samples_dir):
    from govml.skills import (
        diagnose_gaps,
        load_indicator_system,
        parse_courses,
        plan_courses,
        prepare_assessments,
    )

    system = load_indicator_system(CONFIG)
    prep = prepare_assessments(pd.read_csv(samples_dir / "assessments.csv"), system)
    gaps = diagnose_gaps(prep.data, system)
    gaps = gaps[gaps["period"] == gaps["period"].max()]
    cat = parse_courses(pd.read_csv(samples_dir / "courses.csv", dtype=str, keep_default_na=False), system)
    prev = None
    for H in (6, 12, 24, None):  # each budget's plans are feasible under the next one
        _, s = plan_courses(gaps, cat, system, budget_hours=H)
        obj = s.set_index("worker_id")["objective"]
        if prev is not None:
            assert (obj >= prev - 1e-9).all() and obj.sum() > prev.sum()
        prev = obj
        if H == 12:
            _, greedy = plan_courses(gaps, cat, system, budget_hours=H, method="greedy")
            g = greedy.set_index("worker_id")["objective"]
            assert (g <= obj + 1e-9).all() and g.sum() < obj.sum()
