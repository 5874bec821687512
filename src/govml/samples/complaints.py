"""Generated complaint events (``data_samples/complaints.csv``) and synthetic count panels.

The events imitate a 12345-hotline export for three districts — 青山区 and 临江区 (urban) and
云溪县 (rural) — over 2023–2024: one row per complaint with ``id, created_at, district,
community, category, closed_at, status``. What is planted, so that forecasts have something to
find:

* community sizes and category mixes differ (urban communities complain more about noise, parking and
  property management, rural ones about water, heating and drainage);
* seasonality (noise and sanitation peak in summer, heating/power complaints in winter);
* Spring Festival weeks dip to ~40% of normal, other official holidays to ~70% (from
  ``chinesecalendar``);
* a regime change: from 2024-03-04 a new property-management rule raises 物业服务 complaints by
  60% in 临江区;
* four rising hotspots: community × category cells whose rate grows steadily over the last
  26 weeks of 2024;
* handling times (log-normal, slower in the rural county and for 市政设施 repairs); complaints from the
  last weeks are partly still open (``status`` 办理中, no ``closed_at``).

:func:`synthetic_panel` makes a dense count panel directly (for tests and the scale benchmark).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DISTRICTS = {  # the communities of data_samples/messages.csv
    "青山区": ("urban", ["书院社区", "金桥社区", "朝阳社区", "枫林社区", "翠柳社区", "东湖社区",
                       "明德社区", "文昌社区", "青山社区", "幸福里社区", "和平社区"]),
    "临江区": ("urban", ["锦绣社区", "望江社区", "新港社区", "滨江社区", "银杏社区", "月湖社区",
                       "春晖社区", "临江社区", "长乐社区", "南门社区", "柳岸社区"]),
    "云溪县": ("rural", ["上坪村", "桃源村", "龙泉村", "白石村", "石桥村", "溪口村", "云溪镇社区",
                       "清水村", "柳塘村", "高桥村", "杨柳村"]),
}

CATEGORIES = {  # the categories of data_samples/messages.csv: (weekly rate per urban community,
    # rural multiplier, season shape)
    "环境卫生": (0.8, 0.9, "summer"),
    "噪声扰民": (0.7, 0.3, "summer"),
    "物业服务": (0.8, 0.15, "flat"),
    "市政设施": (0.5, 0.8, "flat"),
    "停车管理": (0.8, 0.3, "flat"),
    "供暖供水": (0.5, 1.2, "winter"),
    "排水与积水": (0.3, 1.0, "summer"),
    "加装电梯与适老化": (0.3, 0.2, "flat"),
    "教育托育": (0.3, 0.7, "flat"),
    "医疗养老": (0.3, 1.0, "flat"),
    "消防安全": (0.2, 0.8, "winter"),
}

RISING = [("临江区", "新港社区", "噪声扰民"), ("青山区", "金桥社区", "环境卫生"),
          ("云溪县", "石桥村", "供暖供水"), ("青山区", "翠柳社区", "停车管理")]

REGIME_START = pd.Timestamp("2024-03-04")


def _season(kind: str, week_of_year: np.ndarray) -> np.ndarray:
    phase = 2 * np.pi * (week_of_year - 1) / 52.0
    if kind == "summer":
        return 1.0 + 0.35 * np.sin(phase - np.pi / 2)  # peak around week 27
    if kind == "winter":
        return 1.0 + 0.35 * np.cos(phase)  # peak around week 1
    return np.ones_like(week_of_year, dtype=float)


def _holiday_factor(days: pd.DatetimeIndex) -> np.ndarray:
    from govml.hotspot.calendar import day_info

    f = np.ones(len(days))
    for i, d in enumerate(days):
        hol, _work, _mk, spring = day_info(d.date())
        if spring:
            f[i] = 0.4
        elif hol:
            f[i] = 0.7
    return f


def _cell_rates(rng: np.random.Generator, days: pd.DatetimeIndex, scale: int = 1):  # noqa: ANN202 (a generator)
    """Each cell's daily Poisson mean, in the generator's draw order: yields ``(district, community, category,
    kind, lam_t)``. The caller must draw ``rng.poisson(lam_t)`` after each one (the draws interleave)."""
    hol = _holiday_factor(days)
    woy = days.isocalendar().week.to_numpy().astype(float)
    t_idx = np.arange(len(days))
    comm_list = [(d, c, kind) for d, (kind, cs) in DISTRICTS.items() for c in cs]
    if scale > 1:
        comm_list = [(d, f"{c}{k}" if k else c, kind) for k in range(scale) for d, c, kind in comm_list]
    size = rng.lognormal(0.0, 0.45, size=len(comm_list))
    last_26 = days >= days[-1] - pd.Timedelta(weeks=26)
    for ci, (district, community, kind) in enumerate(comm_list):
        for cat, (rate, rural_mult, shape) in CATEGORIES.items():
            lam = 0.85 * rate * size[ci] * (rural_mult if kind == "rural" else 1.0) / 7.0
            mix = rng.lognormal(0.0, 0.3)
            lam_t = lam * mix * _season(shape, woy) * hol
            lam_t = lam_t * (1.0 + 0.04 * rng.standard_normal(len(days))).clip(0.5)
            if cat == "物业服务" and district == "临江区":
                lam_t = np.where(days >= REGIME_START, lam_t * 1.6, lam_t)
            if (district, community, cat) in RISING:
                ramp = np.where(last_26, (t_idx - t_idx[last_26][0]) / last_26.sum(), 0.0)
                lam_t = lam_t * (1.0 + 3.0 * ramp)
            yield district, community, cat, kind, lam_t


def complaint_rates(scale: int = 1, seed: int = 0, start: str = "2023-01-02", weeks: int = 104) -> pd.DataFrame:
    """The expected complaints per community × category × week that :func:`complaint_events` draws from
    (the same arguments): ``district, community, category, period_start, rate`` — the truth a forecast of
    the sample can be scored against (``benchmarks/bench_hotspot_ramp.py``)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, periods=weeks * 7, freq="D")
    periods = days[::7]
    out = []
    for district, community, cat, _kind, lam_t in _cell_rates(rng, days, scale):
        rng.poisson(lam_t)  # the events' draw, discarded: keeps the next cell's rates those of the events
        out.append(pd.DataFrame({"district": district, "community": community, "category": cat,
                                 "period_start": periods, "rate": lam_t.reshape(weeks, 7).sum(axis=1)}))
    return pd.concat(out, ignore_index=True)


def complaint_events(scale: int = 1, seed: int = 0, start: str = "2023-01-02", weeks: int = 104) -> pd.DataFrame:
    """The sample complaint events as a DataFrame (see the module docstring)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, periods=weeks * 7, freq="D")
    rows = []
    for district, community, cat, kind, lam_t in _cell_rates(rng, days, scale):
        n = rng.poisson(lam_t)
        for di in np.flatnonzero(n):
            for _ in range(n[di]):
                rows.append((di, district, community, cat, kind))
    di = np.array([r[0] for r in rows])
    secs = rng.integers(7 * 3600, 21 * 3600, size=len(rows))
    created = days[di] + pd.to_timedelta(secs, unit="s")
    cats = np.array([r[3] for r in rows], dtype=object)
    rural = np.array([r[4] == "rural" for r in rows])
    mean_days = np.where(rural, 6.0, 3.5) * np.where(cats == "市政设施", 2.5, 1.0)
    handle = rng.lognormal(np.log(mean_days), 0.7)
    closed = created + pd.to_timedelta(np.round(handle * 86400), unit="s")
    cutoff = days[-1] + pd.Timedelta(days=1)
    open_ = closed >= cutoff
    df = pd.DataFrame({
        "created_at": created,
        "district": [r[1] for r in rows],
        "community": [r[2] for r in rows],
        "category": cats,
        "closed_at": closed.where(~open_),
        "status": np.where(open_, "办理中", "已办结"),
    }).sort_values(["created_at", "community", "category"], kind="stable").reset_index(drop=True)
    df.insert(0, "id", [f"C{i:06d}" for i in range(1, len(df) + 1)])
    df["created_at"] = df["created_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    df["closed_at"] = df["closed_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return df


def generate(out_dir: Path, scale: int = 1, seed: int = 0) -> list[Path]:
    """Write ``complaints.csv`` into ``out_dir`` (atomically); ``scale`` multiplies the communities."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    df = complaint_events(scale=scale, seed=seed)
    path = out_dir / "complaints.csv"
    try:
        from govml.io import write_table  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - before the data layer lands
        write_table = None
    if write_table is not None:
        write_table(df, path)
    else:  # pragma: no cover
        tmp = path.with_suffix(".csv.tmp")
        df.to_csv(tmp, index=False)
        tmp.replace(path)
    return [path]


def synthetic_panel(n_areas: int = 50, n_categories: int = 5, n_periods: int = 104, seed: int = 0,
                    start: str = "2022-01-03", n_districts: int = 5, calendar: bool = False) -> pd.DataFrame:
    """A dense weekly Poisson count panel in the shape :func:`govml.hotspot.panel.build_panel` makes.

    Rates differ by area and category, with yearly seasonality and a slow trend; counts are drawn
    from a Poisson distribution (so the true predictive distribution is known in tests).
    """
    from govml.hotspot.calendar import CALENDAR_COLUMNS, calendar_features

    rng = np.random.default_rng(seed)
    periods = pd.date_range(start, periods=n_periods, freq="W-MON")
    S = n_areas * n_categories
    base = rng.lognormal(-0.3, 0.9, size=n_areas)[:, None] * rng.lognormal(0.0, 0.6, size=n_categories)[None, :]
    base = base.reshape(S)
    phase = rng.uniform(0, 2 * np.pi, size=S)
    t = np.arange(n_periods)
    season = 1.0 + 0.3 * np.sin(2 * np.pi * t[None, :] / 52.0 + phase[:, None])
    trend = 1.0 + rng.normal(0, 0.004, size=S)[:, None] * t[None, :]
    lam = np.clip(base[:, None] * season * trend, 0.01, None)
    y = rng.poisson(lam).astype(np.float64)
    areas = [f"A{i:04d}" for i in range(n_areas)]
    cats = [f"C{j:02d}" for j in range(n_categories)]
    dist_of_area = np.arange(n_areas) % max(1, n_districts)
    panel = pd.DataFrame({
        "area": pd.Categorical.from_codes(np.repeat(np.arange(n_areas), n_categories * n_periods), categories=areas),
        "category": pd.Categorical.from_codes(np.tile(np.repeat(np.arange(n_categories), n_periods), n_areas),
                                              categories=cats),
        "district": pd.Categorical.from_codes(np.repeat(dist_of_area, n_categories * n_periods),
                                              categories=[f"D{k}" for k in range(max(1, n_districts))]),
        "period_start": np.tile(periods.to_numpy(), S),
        "y": y.reshape(-1),
    })
    if calendar:
        cal = calendar_features(periods, "W")
        panel = panel.merge(cal[["period_start", *CALENDAR_COLUMNS]], on="period_start", how="left")
    panel.attrs["freq"] = "W"
    panel.attrs["true_rate"] = lam.reshape(-1)
    return panel
