"""Alerts benchmark: surges planted into real messages (teddycup 附件3) and into data_samples.

Real messages: group = the area parsed from the title with ``[A-Z]\\d{0,2}[区市县]`` (the first
district/county code, else the first city code; messages without one are left out), category = a keyword rule on title + text (first matching rule; 其他
otherwise), messages from 2019-01-01 on. Surges are planted with
:func:`govml.text.alerts.plant_surges` (random group × category cells with history, each getting
``max(min_extra, (factor − 1) × mean per period)`` extra messages cloned from the cell within one
period, for 1 or 2–4 consecutive periods). Recall and false alerts per 100 group-periods follow the
definitions in
:mod:`govml.text.alerts`. The same data without planting is also run: alerts there are the real
data's own surges (counted as false in the planted runs when they are ≥ 预警). Seeds 0–9 were used
while developing the method, seeds 100–119 are held out; both are reported.

Run: ``.venv/bin/python benchmarks/bench_alerts.py`` (skips the real-data part when
``../shared/data`` is absent).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pandas as pd

from govml.text.alerts import SurgeDetector, plant_surges, score_alerts

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "teddycup2020c" / "hotspot_messages_full_附件3.csv"
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


def run_case(name: str, df: pd.DataFrame, *, by: str, period: str, seeds: range, n_surges: int,
             factor: float, min_extra: int, duration: tuple[int, int], terms: bool) -> list[dict]:
    rows = []
    t0 = time.perf_counter()
    base = SurgeDetector(by=by, period=period, terms=terms).fit(df)
    nat = base.alerts_["level"].value_counts()
    print(f"[{name}] {len(df)} messages, {len(base.groups_)} groups, {len(base.periods_)} periods, "
          f"{base.n_group_periods_} tested group-periods; unplanted: 告警 {nat.get('告警', 0)}, "
          f"预警 {nat.get('预警', 0)}, 关注 {nat.get('关注', 0)} ({time.perf_counter() - t0:.1f} s)")
    for seed in seeds:
        planted, truth = plant_surges(df, by=by, label_col="category", time_col="created_at", text_col="text",
                                      n_surges=n_surges, factor=factor, min_extra=min_extra,
                                      duration=duration, period=period, seed=seed)
        det = SurgeDetector(by=by, period=period, terms=terms).fit(planted)
        s = score_alerts(det.cells_, truth, by=by, period=period, n_group_periods=det.n_group_periods_)
        # the same without window coverage: an alert counts only for its own period_start
        strict = score_alerts(det.cells_.drop(columns="window"), truth, by=by, period=period,
                              n_group_periods=det.n_group_periods_)
        s.update(case=name, seed=seed, factor=factor, min_extra=min_extra, weeks=f"{duration[0]}-{duration[1]}",
                 false_per_100_strict=strict["false_per_100"])
        rows.append(s)
        print(f"  seed {seed}: recall {s['recall']:.2f} ({s['hits']}/{s['n_surges']}), "
              f"false alerts {s['false_alerts']} = {s['false_per_100']:.2f} per 100 group-periods "
              f"(counting each alert at its period only: {strict['false_per_100']:.2f})")
    return rows


def main() -> int:
    rows = []
    if REAL.exists():
        df = real_messages()
        # like data_samples' surges: 2–4 weeks at ≥ 3× the cell's mean and ≥ 5 extra messages a week;
        # and a harder case: one week, ≥ 3× and ≥ 8 extra messages
        # seeds 0–9 were used while developing the method; seeds 100–119 are held out
        for seeds, label in ((range(10), "tuning seeds 0-9"), (range(100, 120), "held-out seeds 100-119")):
            for factor, min_extra, duration in ((3.0, 5, (2, 4)), (3.0, 8, (1, 1))):
                rows += run_case(f"teddycup 附件3, weekly, {label}", df, by="area", period="W",
                                 seeds=seeds, n_surges=10, factor=factor, min_extra=min_extra,
                                 duration=duration, terms=False)
    else:
        print(f"skip real data: {REAL} not found")
    msgs = SAMPLES / "messages.csv"
    truth_path = SAMPLES / "truth_surges.csv"
    if msgs.exists() and truth_path.exists():
        from govml.io import load
        from govml.text.tokenize import GovTokenizer

        df = load(msgs, "messages")
        truth = pd.read_csv(truth_path)
        hot_path = SAMPLES / "truth_hot_issues.csv"
        hot = pd.read_csv(hot_path) if hot_path.exists() else None
        tok = GovTokenizer()
        t0 = time.perf_counter()
        det = SurgeDetector(by="community", period="W", tokenizer=tok).fit(df)
        secs = time.perf_counter() - t0
        s = score_alerts(det.cells_, truth, by="community", period="W", n_group_periods=det.n_group_periods_,
                         known_events=hot, tokenizer=tok)
        cat = score_alerts(det.cells_[det.cells_["kind"] == "category"], truth, by="community", period="W",
                           n_group_periods=det.n_group_periods_, known_events=hot, tokenizer=tok)
        print(f"[data_samples planted surges, weekly, {len(df)} messages, {secs:.1f} s] recall {s['recall']:.2f} "
              f"({s['hits']}/{s['n_surges']}), false alerts {s['false_alerts']} = {s['false_per_100']:.2f} per 100 "
              f"group-periods ({s['group_periods']}); category alerts alone: recall {cat['recall']:.2f}, "
              f"false {cat['false_per_100']:.2f} per 100")
    if rows:
        res = pd.DataFrame(rows)
        print(res.groupby(["case", "weeks", "factor", "min_extra"])[["recall", "false_per_100", "false_per_100_strict"]]
              .agg(["mean", "min", "max"]).round(3).T.to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
