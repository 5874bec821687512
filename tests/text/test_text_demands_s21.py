"""Session 21: top_demands' canonical row order and examples made cheaper, the same answer."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govml.privacy import mask
from govml.text.demands import _text_ranks, top_demands

TEXTS = ["乙", "甲", None, "", "甲", "𠀀 emoji 😀", "Ａ全角", "a", "甲乙", "乙", "\u3000", "z" * 5]


def _reference(texts: list, idx: np.ndarray) -> np.ndarray:
    vals = [texts[i] if isinstance(texts[i], str) else "" for i in idx]
    return pd.factorize(np.asarray(vals, dtype=object), sort=True)[0]


@pytest.mark.parametrize("dtype", ["str", object])
def test_text_ranks_are_code_point_dense_ranks(dtype):
    s = pd.Series(TEXTS, dtype=dtype)
    if dtype == "str":
        assert isinstance(s.array, pd.arrays.ArrowStringArray)  # the Arrow path is the one taken
    for idx in (np.arange(len(TEXTS)), np.array([11, 3, 5, 0, 0, 9, 2])):
        got = _text_ranks(s, idx)
        ref = _reference(TEXTS, idx)
        # dense ranks may start at 0 or 1: the order and the ties are what count
        assert (np.argsort(got, kind="stable") == np.argsort(ref, kind="stable")).all()
        assert (np.diff(np.sort(got)) <= 1).all()
        assert len(np.unique(got)) == len(np.unique(ref))


def _messages(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = ["停车难", "加装电梯", "噪音扰民", "垃圾分类", "路灯不亮", "漏水", "物业费", "飞线充电"]
    texts = []
    for i in range(n):
        w = rng.choice(words, 3)
        phone = f"，电话1380013{i % 10000:04d}" if i % 3 == 0 else ""
        texts.append(f"小区{w[0]}问题，{w[1]}，还有{w[2]}，请尽快处理{phone}")
    return pd.DataFrame({
        "community": rng.choice(["东园社区", "西园社区", "南湖社区"], n),
        # day resolution: many messages share a time, so the text order breaks the ties
        "created_at": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D"),
        "text": texts,
    })


def test_same_output_for_arrow_and_object_text_and_any_row_order():
    df = _messages()
    a = top_demands(df.astype({"text": "str"}), by="community", period="M")
    b = top_demands(df.astype({"text": object}), by="community", period="M")
    c = top_demands(df.sample(frac=1, random_state=3).astype({"text": object}), by="community", period="M")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)


def test_examples_are_masked_like_mask_and_shared_messages_masked_once(monkeypatch):
    import govml.text.demands as demands

    monkeypatch.setattr(demands, "EXAMPLE_MASK_BATCH", 7)  # several batches
    df = _messages()
    out = top_demands(df, by="community", period="M")
    assert out["example"].str.contains("1380013").sum() == 0  # phone numbers never shown
    texts = set(df["text"])
    by_masked = {" ".join(mask(t).split()): t for t in texts}
    assert set(out["example"]) <= set(by_masked)  # every example is one message, masked as mask() masks it
    assert out["example"].str.contains("<PHONE>", regex=False).any()


def test_text_ranks_on_a_chunked_arrow_column():
    # a column joined from two files (pd.concat) is one Arrow array in two chunks
    s = pd.concat([pd.Series(["乙", "甲", None], dtype="str"), pd.Series(["丙", "甲"], dtype="str")], ignore_index=True)
    got = _text_ranks(s, np.arange(5))
    # code-point order: "" (None) < 丙 (U+4E19) < 乙 (U+4E59) < 甲 (U+7532); equal texts, equal ranks
    assert got.tolist() == [3, 4, 1, 2, 4]
