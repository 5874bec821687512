"""The message sample generator and the committed data_samples/ message files."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from govml import privacy
from govml.samples import GENERATORS, messages

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"
FILES = ("messages.csv", "truth_surges.csv", "truth_hot_issues.csv")


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    from govml.io import load

    return load(SAMPLES / "messages.csv", kind="messages")


@pytest.fixture(scope="module")
def sample_set() -> messages.SampleSet:
    return messages.build(scale=1, seed=0)


def test_registered() -> None:
    assert GENERATORS["messages"] == "govml.samples.messages:generate"


def test_committed_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    written = messages.generate(tmp_path, scale=1, seed=0)
    assert [p.name for p in written] == list(FILES)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes(), name


def test_deterministic_and_seed_matters(tmp_path: Path) -> None:
    a = messages.build(scale=1, seed=3)
    b = messages.build(scale=1, seed=3)
    pd.testing.assert_frame_equal(a.messages, b.messages)
    assert a.pii == b.pii
    c = messages.build(scale=1, seed=4)
    assert not a.messages["text"].head(50).equals(c.messages["text"].head(50))


def test_sizes() -> None:
    assert (SAMPLES / "messages.csv").stat().st_size <= 2.2e6
    total = sum(p.stat().st_size for p in SAMPLES.iterdir() if p.is_file())
    assert total < 5e6


def test_shape_of_the_committed_messages(committed: pd.DataFrame) -> None:
    df = committed
    assert 8_000 <= len(df) <= 10_000
    assert list(df.columns[:5]) == ["id", "created_at", "district", "community", "text"]
    assert df["id"].is_unique
    assert df["created_at"].min() >= pd.Timestamp("2023-01-01")
    assert df["created_at"].max() < pd.Timestamp("2025-01-01")
    assert df["created_at"].dt.to_period("M").nunique() == 24
    assert set(df["district"]) >= {"青山区", "临江区", "云溪县"}
    per_comm = df.groupby("community")["district"].nunique()
    assert len(per_comm) >= 30 and per_comm.max() == 1  # names unique across districts
    sizes = df["community"].value_counts()
    assert sizes.max() > 3 * sizes.min()  # communities of different sizes
    assert df["category"].nunique() >= 8
    assert set(df["channel"]) == set(messages.CHANNELS)
    assert set(df["status"]) == set(messages.STATUSES)
    assert (df["likes"] >= 0).all() and df["likes"].max() >= 100 and df["likes"].median() == 0
    closed = df["status"] == "已办结"
    assert df.loc[closed, "closed_at"].notna().all() and df.loc[~closed, "closed_at"].isna().all()
    assert (df.loc[closed, "closed_at"] > df.loc[closed, "created_at"]).all()
    assert df["text"].nunique() > 0.8 * len(df)  # varied wording


def test_seasons(committed: pd.DataFrame) -> None:
    month = committed["created_at"].dt.month
    cat = committed["category"]

    def share(category: str, months: set[int]) -> float:
        sel = cat == category
        return (sel & month.isin(months)).sum() / sel.sum()

    assert share("供暖供水", {11, 12, 1, 2}) > 0.5  # 4 months of 12
    assert share("排水与积水", {6, 7, 8}) > 0.5  # 3 months of 12
    heating = committed["text"].str.contains("暖气")
    assert (heating & month.isin({11, 12, 1, 2, 3})).sum() > 4 * (heating & month.isin({5, 6, 7, 8, 9})).sum()
    assert (committed["created_at"].dt.year == 2024).sum() > (committed["created_at"].dt.year == 2023).sum()


def _weekly(df: pd.DataFrame, community: str, category: str) -> pd.Series:
    sel = df[(df["community"] == community) & (df["category"] == category)]
    weeks = pd.date_range("2023-01-02", "2024-12-23", freq="W-MON")
    return sel["created_at"].dt.to_period("W-SUN").dt.start_time.value_counts().reindex(weeks, fill_value=0)


def test_planted_surges_are_visible(committed: pd.DataFrame) -> None:
    surges = pd.read_csv(SAMPLES / "truth_surges.csv")
    assert 6 <= len(surges) <= 10
    assert list(surges.columns[:6]) == ["district", "community", "category", "term", "start", "end"]
    for s in surges.itertuples():
        weekly = _weekly(committed, s.community, s.category)
        start, end = pd.Timestamp(s.start), pd.Timestamp(s.end)
        assert start.weekday() == 0 and end.weekday() == 6
        n_weeks = (end - start).days // 7 + 1
        assert 2 <= n_weeks <= 6
        inside = (weekly.index >= start) & (weekly.index <= end)
        baseline = weekly[~inside].mean()
        assert weekly[inside].sum() >= 3 * baseline * n_weeks, s
        win = committed[(committed["community"] == s.community) & committed["created_at"].between(start, end
                        + pd.Timedelta(days=1))]
        assert win["text"].str.contains(s.term).sum() >= 2 * n_weeks
        assert (committed.loc[committed["community"] == s.community, "district"] == s.district).all()


def test_hot_issues(committed: pd.DataFrame) -> None:
    hot = pd.read_csv(SAMPLES / "truth_hot_issues.csv")
    assert 6 <= len(hot) <= 10
    assert list(hot.columns[:8]) == ["issue_key", "district", "community", "place", "category", "start", "end",
                                     "message_ids"]
    by_id = committed.set_index("id")
    for h in hot.itertuples():
        ids = h.message_ids.split(";")
        assert 8 <= len(ids) <= 40 and len(ids) == h.n_messages
        rows = by_id.loc[ids]  # every id exists
        assert rows["user_id"].is_unique
        assert (rows["community"] == h.community).all() and (rows["category"] == h.category).all()
        assert rows["text"].str.contains(h.place, regex=False).all()
        assert rows["created_at"].min().normalize() == pd.Timestamp(h.start)
        assert rows["created_at"].max().normalize() == pd.Timestamp(h.end)
        assert rows["likes"].max() >= 20


def test_planted_personal_data_found_by_privacy(sample_set: messages.SampleSet) -> None:
    df = sample_set.messages
    with_pii = {mid for mid, _, _ in sample_set.pii}
    assert 0.07 <= len(with_pii) / len(df) <= 0.13
    assert {k for _, k, _ in sample_set.pii} == set(privacy.KINDS) - {"BANKCARD", "NAME"}  # no names planted
    planted: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for mid, kind, value in sample_set.pii:
        planted[mid].add((kind, value))
    missed, extra = [], []
    for mid, text in zip(df["id"], df["text"], strict=True):
        got = {(m.kind, m.value) for m in privacy.find(text)}
        missed += list(planted.get(mid, set()) - got)
        extra += list(got - planted.get(mid, set()))
    assert not missed, missed[:5]
    assert not extra, extra[:5]  # the dates, amounts, areas and buildings in the texts are not masked


def test_scale_multiplies(tmp_path: Path) -> None:
    s = messages.build(scale=2, seed=0)
    assert 2 * 8_000 <= len(s.messages) <= 2 * 10_000
    assert s.messages["community"].nunique() >= 60
    assert s.messages["district"].nunique() == 6
    assert len(s.surges) == 16 and len(s.hot_issues) == 16
    assert s.messages.groupby("community")["district"].nunique().max() == 1


def test_bad_scale_is_a_user_error() -> None:
    from govml.errors import ConfigError

    with pytest.raises(ConfigError, match="scale"):
        messages.build(scale=0)
