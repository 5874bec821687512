"""Alerts, session 9: rows with an empty category cell are counted, not tested as a category of their own
(they were the category ``(空)``, listed among the categories starting mid-series); empty *groups* stay ``(空)``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from govml.text.alerts import ALERT_LEVELS, MISSING_KEY, TOTAL_KEY, SurgeDetector, plant_surges, score_alerts

START = pd.Timestamp("2023-01-02")


def _panel(groups: int = 20, weeks: int = 40, seed: int = 7) -> pd.DataFrame:
    """Poisson messages per group × category × week, three categories at constant rates 1, 2 and 3."""
    rng = np.random.default_rng(seed)
    g, c, days = [], [], []
    for gi in range(groups):
        for ci, lam in enumerate((1.0, 2.0, 3.0)):
            n = rng.poisson(lam, size=weeks)
            g += [f"社区{gi:02d}"] * int(n.sum())
            c += [f"类别{ci}"] * int(n.sum())
            days += [7 * w + rng.uniform(0, 7, size=int(k)) for w, k in enumerate(n)]
    t = START + pd.to_timedelta(np.concatenate(days), unit="D")  # the same times, converted once
    return pd.DataFrame({"community": g, "category": c, "created_at": t})


def _blank_from(df: pd.DataFrame, week: int, share: float, seed: int = 0) -> pd.DataFrame:
    """The export stops filling the category of ``share`` of the rows from ``week`` on (None, '' and ' ')."""
    rng = np.random.default_rng(seed)
    out = df.copy().astype({"category": object})
    late = ((out["created_at"] - START).dt.days // 7 >= week).to_numpy()
    hit = np.flatnonzero(late & (rng.random(len(out)) < share))
    out.loc[out.index[hit], "category"] = rng.choice(np.array([None, "", " "], dtype=object), size=len(hit))
    return out


def test_empty_category_cells_are_counted_not_a_new_category():
    df = _panel()
    blanked = _blank_from(df, week=20, share=0.3)
    n_blank = int(blanked["category"].isna().sum() + blanked["category"].astype("string").str.strip().eq("").sum())
    assert n_blank > 300
    det = SurgeDetector(terms=False).fit(blanked)
    # not listed among the categories that start mid-series, not tested as one
    assert MISSING_KEY not in det.new_categories_ and not det.new_categories_
    assert set(det.cells_["key"]) == {"类别0", "类别1", "类别2"}
    assert det.n_no_category_ == n_blank
    # the categorised rows are still tested against their own volume: the expectations follow the 30 % drop of
    # every category from week 20 (the pooled prior must not count the rows without a category)
    mu = det.expected_[0]
    week = ((blanked["created_at"] - START).dt.days // 7).to_numpy()
    has = blanked["category"].astype("string").str.strip().fillna("").ne("").to_numpy()
    late = slice(30, 40)
    ratio = (has & (week >= 30)).sum() / mu[:, :, late].sum()
    assert 0.93 < ratio < 1.07, ratio
    # and the drop raises no alert anywhere, beyond what the same panel gives without blanks
    base = SurgeDetector(terms=False).fit(df)
    strong = det.alerts_["level"].isin(ALERT_LEVELS).sum()
    assert strong <= base.alerts_["level"].isin(ALERT_LEVELS).sum() + 1
    assert base.n_no_category_ == 0


def test_a_surge_still_found_when_some_categories_are_empty():
    df = _panel(groups=10, weeks=40, seed=3)
    planted, truth = plant_surges(df, by="community", label_col="category", time_col="created_at",
                                  n_surges=6, factor=4.0, min_extra=8, duration=(2, 3), seed=2)
    det = SurgeDetector(terms=False).fit(_blank_from(planted, week=0, share=0.1, seed=1))
    s = score_alerts(det.cells_, truth, by="community", period="W", n_group_periods=det.n_group_periods_)
    assert s["recall"] >= 5 / 6 and s["false_per_100"] <= 1.0, s


def test_category_column_empty_everywhere_tests_the_totals_and_empty_groups_stay_named():
    df = _panel(groups=6, weeks=30)
    df["category"] = None
    df.loc[df.index[::7], "community"] = None          # some messages without a group: the group (空)
    det = SurgeDetector(terms=False).fit(df)
    assert set(det.cells_["key"]) == {TOTAL_KEY}
    assert det.n_no_category_ == len(df)
    assert MISSING_KEY in det.groups_
    # the same as a file without the column
    plain = SurgeDetector(terms=False, label_col=None).fit(df.drop(columns="category"))
    pd.testing.assert_frame_equal(det.cells_, plain.cells_)


def test_word_evidence_with_empty_categories_on_the_sample_board(samples_dir) -> None:
    """With text (terms and the gated word evidence), 5 % of data_samples' categories emptied at random: the rows
    are counted, their words go to the group's terms only, the planted surges are still found (the count alone
    misses two of the eight borderline ones at this thinning, as it did when they were the category (空))."""
    from govml.io import load

    df = load(samples_dir / "messages.csv", "messages").astype({"category": object})
    truth = pd.read_csv(samples_dir / "truth_surges.csv")
    hot = pd.read_csv(samples_dir / "truth_hot_issues.csv")
    blank = np.random.default_rng(0).random(len(df)) < 0.05
    df.loc[blank, "category"] = None
    det = SurgeDetector(by="community").fit(df)
    cat = det.cells_[det.cells_["kind"] == "category"]
    assert MISSING_KEY not in set(cat["key"]) and not det.new_categories_
    covered = (pd.to_datetime(df["created_at"]) >= det.coverage_start_).to_numpy()   # 8 stray rows before it
    assert det.n_no_category_ == int((blank & covered).sum()) > 400
    assert (cat["related"].fillna("") != "").any()             # the word evidence still raises cells
    assert (det.cells_["kind"] == "term").any()
    s = score_alerts(det.cells_, truth, by="community", period="W", n_group_periods=det.n_group_periods_,
                     known_events=hot)
    assert s["hits"] >= 6 and s["false_per_100"] <= 1.0, s


def test_cli_says_rows_without_a_category_and_lists_no_new_category(samples_dir, tmp_path) -> None:
    """`demands alerts`: empty category cells are said with their rows as not a category of their own (was
    "counted as the category '(空)'", and '(空)' among the categories starting mid-series); a column empty
    in every row gives the totals."""
    from cli_runner import govml

    df = pd.read_csv(samples_dir / "messages.csv")
    df.loc[df.index[5000:5040], "category"] = None          # the export stops filling the column, mid-series
    src = tmp_path / "m.csv"
    df.to_csv(src, index=False)
    out = tmp_path / "a.csv"
    code, text = govml("demands", "alerts", src, "--no-terms", "--out", out)
    assert code == 0, text
    flat = " ".join(text.split())
    assert "40 of 8816 message(s) have no category (row 5002, 5003" in flat and "not a category of their own" in flat
    assert "mid-series" not in flat and MISSING_KEY not in set(pd.read_csv(out)["key"])
    df.assign(category=None).to_csv(src, index=False)
    code, text = govml("demands", "alerts", src, "--no-terms", "--out", out)
    assert code == 0, text
    assert "is empty in every row" in " ".join(text.split())
    assert set(pd.read_csv(out)["key"]) == {TOTAL_KEY}
