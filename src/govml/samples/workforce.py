"""Sample community-worker assessments, a course catalog and the planted shortfalls (deterministic).

Writes ``assessments.csv`` (wide: one row per worker and quarter, one column per indicator of the
packaged ``indicators.yaml``, plus ``area_type`` and ``resident_rating``), ``courses.csv`` and
``truth_gaps.csv`` (``worker_id, indicator, from_period``: where a worker was *planted* below
target, from that quarter on). Outside the planted shortfalls every value meets its target except
single-quarter dips (never two in a row, never in the last quarter), and a few values are missing
(never a planted one), so a correct diagnosis flags exactly the planted shortfalls.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

try:  # the same districts and communities as messages.csv
    from govml.samples.messages import DISTRICTS
except ImportError:  # pragma: no cover - the messages generator ships with govml
    DISTRICTS = {
        "青山区": ("urban", ["青山社区", "翠柳社区", "金桥社区", "明德社区"]),
        "临江区": ("urban", ["滨江社区", "望江社区", "新港社区", "临江社区"]),
        "云溪县": ("rural", ["云溪镇社区", "溪口村", "白石村", "桃源村"]),
    }
def _periods(n: int) -> list[str]:
    out = []
    year, q = 2024, 1
    for _ in range(n):
        out.append(f"{year}Q{q}")
        q += 1
        if q == 5:
            year, q = year + 1, 1
    return out


def _system():
    from importlib import resources

    from govml.skills.indicators import load_indicator_system, resolve_config_path

    packaged = Path(str(resources.files("govml") / "resources" / "indicators.yaml"))
    return load_indicator_system(packaged if packaged.is_file() else resolve_config_path(None))


def make_assessments(n_workers: int = 320, n_periods: int = 4, seed: int = 0, system=None,
                     planted_share: float = 0.3, missing_rate: float = 0.004, dip_rate: float = 0.03,
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(assessments, truth) — in memory; :func:`generate` writes them."""
    system = system or _system()
    rng = np.random.default_rng(seed)
    periods = _periods(n_periods)
    comms = [(d, c, at) for d, (at, cs) in DISTRICTS.items() for c in cs]
    workers = [f"W{k + 1:04d}" for k in range(n_workers)]
    where = rng.integers(0, len(comms), n_workers)
    weak = rng.random(n_workers) < 0.1  # low resident ratings: some composites fall under 75
    inds = system.indicators
    m, T = len(inds), len(periods)
    # planted shortfalls
    truth = []
    planted = np.full((n_workers, m), -1)  # first period index below target, -1 = none
    for w in np.flatnonzero(rng.random(n_workers) < planted_share):
        k = rng.integers(1, 4)
        for j in rng.choice(m, size=k, replace=False):
            start = int(rng.integers(0, max(1, T - 1)))  # at least two quarters below target
            planted[w, j] = start
            truth.append({"worker_id": workers[w], "indicator": inds[j].id, "from_period": periods[start]})
    rows = []
    for w in range(n_workers):
        d, c, at = comms[where[w]]
        # one allowed transient dip per worker-indicator at most, never in the last period
        dip_at = np.where(rng.random(m) < dip_rate, rng.integers(0, max(1, T - 1), m), -1)
        for t, period in enumerate(periods):
            rec = {"worker_id": workers[w], "community": c, "district": d, "area_type": at, "period": period}
            for j, ind in enumerate(inds):
                lo, hi = ind.range
                tgt = ind.target_for(at)
                up = 1.0 if ind.direction == "higher" else -1.0
                room = (hi - tgt) if up > 0 else (tgt - lo)
                short_room = (tgt - lo) if up > 0 else (hi - tgt)
                integer = ind.unit in ("个", "场")
                below = planted[w, j] >= 0 and t >= planted[w, j]
                dip = dip_at[j] == t and not (planted[w, j] >= 0)
                if below or dip:
                    frac = rng.uniform(0.15, 0.45) if below else rng.uniform(0.03, 0.1)
                    delta = max(frac * short_room, 1.0 if integer else 0.5)
                    v = tgt - up * delta
                else:
                    frac = rng.uniform(0.05, 0.35) * (0.5 if weak[w] else 1.0)
                    v = tgt + up * min(frac * room, room)
                v = float(np.clip(v, lo, hi))
                if integer:
                    # round away from the target so rounding never crosses it
                    v = float(np.floor(v)) if (below or dip) == (up > 0) else float(np.ceil(v))
                rec[ind.id] = round(v, 1)
                if not (planted[w, j] >= 0) and rng.random() < missing_rate:
                    rec[ind.id] = np.nan
            base = rng.normal(62 if weak[w] else 84, 4)
            rec["resident_rating"] = round(float(np.clip(base, 0, 100)), 1)
            rows.append(rec)
    df = pd.DataFrame(rows)
    cols = ["worker_id", "community", "district", "area_type", "period", "resident_rating"] + [i.id for i in inds]
    return df[cols], pd.DataFrame(truth, columns=["worker_id", "indicator", "from_period"]).sort_values(
        ["worker_id", "indicator"]).reset_index(drop=True)


_COURSE_WORDS = ["基础", "实务", "进阶", "案例研修"]
_MODES = ["线下", "线上", "混合"]


def make_courses(seed: int = 0, system=None, n_workshops: int = 14) -> pd.DataFrame:
    """A catalog: one foundation course per indicator, advanced courses (prerequisite: the
    foundation), and workshops training two or three indicators."""
    system = system or _system()
    rng = np.random.default_rng(seed + 1)
    rows = []
    k = 1
    found: dict[str, str] = {}
    for ind in system.indicators:
        cid = f"C{k:03d}"
        found[ind.id] = cid
        rows.append({"course_id": cid, "title": f"{ind.name}基础培训", "hours": float(rng.choice([4, 6, 8])),
                     "cost": float(rng.choice([200, 300, 400, 500])), "indicators": f"{ind.id}:{rng.uniform(0.3, 0.5):.2f}",
                     "prerequisites": "", "capacity": int(rng.choice([30, 40, 50])), "mode": str(rng.choice(_MODES))})
        k += 1
    for ind in system.indicators[::2]:
        cid = f"C{k:03d}"
        rows.append({"course_id": cid, "title": f"{ind.name}进阶研修", "hours": float(rng.choice([8, 12, 16])),
                     "cost": float(rng.choice([800, 1200, 1600])), "indicators": f"{ind.id}:{rng.uniform(0.6, 0.9):.2f}",
                     "prerequisites": found[ind.id], "capacity": int(rng.choice([20, 25, 30])), "mode": "线下"})
        k += 1
    ids = [i.id for i in system.indicators]
    names = {i.id: i.name for i in system.indicators}
    for _ in range(n_workshops):
        pick = rng.choice(len(ids), size=int(rng.integers(2, 4)), replace=False)
        spec = ";".join(f"{ids[j]}:{rng.uniform(0.25, 0.6):.2f}" for j in pick)
        title = "、".join(names[ids[j]] for j in pick[:2]) + "综合实训"
        rows.append({"course_id": f"C{k:03d}", "title": title, "hours": float(rng.choice([6, 8, 12])),
                     "cost": float(rng.choice([600, 900, 1200])), "indicators": spec, "prerequisites": "",
                     "capacity": int(rng.choice([25, 30, 40])), "mode": str(rng.choice(_MODES))})
        k += 1
    return pd.DataFrame(rows)


def generate(out_dir: Path, scale: int = 1, seed: int = 0) -> list[Path]:
    """Write assessments.csv, courses.csv and truth_gaps.csv into ``out_dir``."""
    from govml.io import write_table

    out_dir = Path(out_dir)
    system = _system()
    a, truth = make_assessments(n_workers=320 * scale, seed=seed, system=system)
    courses = make_courses(seed=seed, system=system)
    return [write_table(a, out_dir / "assessments.csv"), write_table(courses, out_dir / "courses.csv"),
            write_table(truth, out_dir / "truth_gaps.csv")]
