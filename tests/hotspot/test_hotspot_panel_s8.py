"""Session 8 (h3's dry run): a space typed between two Chinese characters is no new category or area."""

from __future__ import annotations

import pandas as pd

from govml.hotspot.panel import clean_events


def test_a_space_between_two_characters_is_the_same_name() -> None:
    n = 30
    ev = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=n, freq="D").astype(str),
                       "area": ["A3区"] * (n - 3) + ["A3 区", "雨花 区", "雨花区"],
                       "cat": ["城乡建设"] * (n - 8) + ["城乡 建设"] * 6 + ["Back Bay", "back bay"]})
    clean, ex = clean_events(ev, time_col="t", area_col="area", category_col="cat", now="2025-01-01")
    assert set(clean["category"]) == {"城乡建设", "Back Bay"}
    assert set(clean["area"]) == {"A3区", "A3 区", "雨花区"}  # 'A3 区': a letter and a character, kept
    assert any("'城乡 建设' → '城乡建设' (6 row(s))" in note for note in ex.notes)
