"""Synthetic district data for the federated tests (the sample data is not needed)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

TOPICS = {
    "城乡建设": ["小区", "物业", "电梯", "违建", "楼道", "加装", "维修", "房屋"],
    "环境保护": ["噪音", "油烟", "垃圾", "污水", "异味", "排放", "工地", "扬尘"],
    "交通运输": ["公交", "停车", "道路", "拥堵", "红绿灯", "站台", "占道", "车辆"],
    "教育文体": ["学校", "学位", "幼儿园", "学生", "教师", "图书馆", "体育", "招生"],
    "卫生计生": ["医院", "医保", "疫苗", "诊所", "挂号", "药店", "卫生", "防疫"],
}
COMMON = ["反映", "希望", "尽快", "处理", "问题", "居民", "社区", "解决", "情况", "最近", "附近", "严重"]


def make_messages(n: int = 900, districts: int = 3, seed: int = 0, label_noise: float = 0.1) -> pd.DataFrame:
    """Messages whose category mix differs by district (non-IID), with a little label noise."""
    rng = np.random.default_rng(seed)
    cats = list(TOPICS)
    rows = []
    for i in range(n):
        d = i % districts
        mix = np.roll(np.array([0.4, 0.25, 0.15, 0.12, 0.08]), d)
        cat = cats[rng.choice(len(cats), p=mix)]
        words = list(rng.choice(TOPICS[cat], size=3)) + list(rng.choice(COMMON, size=4))
        if rng.random() < 0.3:  # a distracting word from another topic
            other = cats[rng.integers(len(cats))]
            words.append(rng.choice(TOPICS[other]))
        rng.shuffle(words)
        label = cats[rng.integers(len(cats))] if rng.random() < label_noise else cat
        rows.append({"id": f"m{i:05d}", "district": f"区{d + 1}", "community": f"区{d + 1}社区{rng.integers(8)}",
                     "text": "".join(words), "category": label})
    return pd.DataFrame(rows)


def make_assessments(districts: int = 3, communities: int = 12, workers: int = 6, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(districts):
        for c in range(communities):
            level = rng.normal(70 + 4 * d, 8)
            for w in range(workers):
                rows.append({"worker_id": f"w{d}{c}{w}", "district": f"区{d + 1}", "community": f"区{d + 1}社区{c}",
                             "period": "2026Q1", "service": float(np.clip(level + rng.normal(0, 5), 0, 100)),
                             "response": float(np.clip(level * 0.9 + rng.normal(0, 7), 0, 100))})
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def messages() -> pd.DataFrame:
    return make_messages()


def make_sparse_messages(n: int = 600, districts: int = 50, seed: int = 4, vocab: int = 150) -> pd.DataFrame:
    """Messages like real ones: each names 4 of its category's ``vocab`` rare words (made-up 5-letter
    words, so most appear in a few messages of a few districts) among 4 common ones."""
    import string

    rng = np.random.default_rng(seed)
    cats = list(TOPICS)
    letters = np.array(list(string.ascii_lowercase))
    words = {c: ["".join(rng.choice(letters, 5)) for _ in range(vocab)] for c in cats}
    common = ["".join(rng.choice(letters, 5)) for _ in range(30)]
    p = np.array([0.4, 0.25, 0.15, 0.12, 0.08])
    rows = []
    for i in range(n):
        c = cats[rng.choice(len(cats), p=p)]
        w = list(rng.choice(words[c], 4)) + list(rng.choice(common, 4))
        rng.shuffle(w)
        rows.append({"id": f"m{i:05d}", "district": f"D{i % districts:02d}", "text": " ".join(w), "category": c})
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def fifty_small_districts() -> pd.DataFrame:
    """600 messages in 50 districts of 12 (a city's districts with a few hundred labelled messages)."""
    return make_sparse_messages()


@pytest.fixture(scope="session")
def assessments() -> pd.DataFrame:
    return make_assessments()


@pytest.fixture(scope="session")
def app_defaults() -> dict:
    """The [tool.flwr.app.config] defaults that `flwr run` merges into a deployment's run config."""
    import tomllib
    from pathlib import Path

    with open(Path(__file__).resolve().parents[2] / "pyproject.toml", "rb") as fh:
        return dict(tomllib.load(fh)["tool"]["flwr"]["app"]["config"])


def _make_events(districts: int = 3, seed: int = 4) -> pd.DataFrame:
    """Weekly complaint events of ``districts`` districts × 4 areas × 3 categories (70 weeks)."""
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2024-01-01", periods=70, freq="W-MON")
    rows = []
    for d in range(districts):
        for a in range(4):
            for c, cat in enumerate(["噪音", "停车", "垃圾"]):
                base = 1.0 + 0.8 * a + 1.2 * c + 0.5 * d
                season = 1 + 0.4 * np.sin(np.arange(70) / 52 * 2 * np.pi + c)
                trend = 1 + 0.01 * np.arange(70) * (c == 1)
                counts = rng.poisson(base * season * trend)
                for w, n in zip(weeks, counts, strict=True):
                    rows += [{"created_at": w + pd.Timedelta(hours=int(h)), "area": f"区{d}社区{a}",
                              "category": cat, "district": f"区{d}"} for h in rng.integers(0, 160, n)]
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def make_events():
    """The hotspot forecaster tests' event generator (``make_events(districts, seed)``)."""
    return _make_events


@pytest.fixture()
def reads(monkeypatch):
    """Every read of a district's table, by file."""
    from govml.federated import task as T

    seen: list[str] = []
    real = T.read_district_table

    def counted(settings, *a, **kw):
        seen.append(str(settings["data-path"]))
        return real(settings, *a, **kw)

    monkeypatch.setattr(T, "read_district_table", counted)
    return seen


@pytest.fixture()
def restore_logging():
    """The deployed app (and the CLI's main()) route govml's log to Flower's logger: undo it after the test."""
    saved = {name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers),
                    logging.getLogger(name).propagate) for name in ("govml", "govml.federated")}
    yield
    for name, (level, handlers, propagate) in saved.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).setLevel(level)
        logging.getLogger(name).propagate = propagate
