"""Precision and recall of govml.privacy per kind on the planted cases (privacy_cases.py)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import privacy_cases as pc  # noqa: E402

from govml import privacy  # noqa: E402

FLOOR = 0.98
# NAME recall is lower: a name after a title followed directly by a word is found only when jieba's
# dictionary knows the word (or resources/privacy/follow_words.txt lists it) and the name is no word
# (a word tagged as a person's name, a noun or a place only before a listed word); a given name alone
# before a title only when it is no word (王建国 … 建国书记), a found two-character name again only
# before a delimiter, a title or a word that follows names (何伟，何伟明确表示), and 学校校长金明，(a
# boundary-tier surname, one given-name character, a delimiter) and 董事长许家明承诺 (家) stay missed:
# 4 of 226 planted names (sessions 11-13), recall 0.982 (session 13: 10, 0.956).
RECALL_FLOOR = {"NAME": 0.97}  # session 14: 0.982; 0.97 leaves room for two misses
ALL_POSITIVE = pc.POSITIVE_CASES + pc.HARD_POSITIVE_CASES
ALL_NEGATIVE = pc.NEGATIVE_CASES + pc.HARD_NEGATIVE_CASES


def score_cases(cases: list[str]) -> tuple[Counter, Counter, Counter, list[str]]:
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    misses: list[str] = []
    for case in cases:
        text, expected = pc.parse(case)
        got = {(m.kind, m.start, m.end) for m in privacy.find(text)}
        want = set(expected)
        for k, _, _ in got & want:
            tp[k] += 1
        for k, s, e in got - want:
            fp[k] += 1
            misses.append(f"FP {k} {text[s:e]!r} in {text!r}")
        for k, s, e in want - got:
            fn[k] += 1
            misses.append(f"FN {k} {text[s:e]!r} in {text!r}")
    return tp, fp, fn, misses


def test_planted_set_is_large_and_covers_every_kind() -> None:
    kinds = Counter(k for c in ALL_POSITIVE for k, _, _ in pc.parse(c)[1])
    assert sum(kinds.values()) >= 150
    assert set(kinds) == set(privacy.KINDS)
    assert min(kinds.values()) >= 15
    assert len(ALL_NEGATIVE) >= 100
    assert all(not pc.parse(c)[1] for c in ALL_NEGATIVE)


@pytest.mark.parametrize("kind", privacy.KINDS)
def test_precision_and_recall_per_kind(kind: str) -> None:
    tp, fp, fn, misses = score_cases(ALL_POSITIVE + ALL_NEGATIVE)
    precision = tp[kind] / max(1, tp[kind] + fp[kind])
    recall = tp[kind] / max(1, tp[kind] + fn[kind])
    detail = "\n".join(m for m in misses if f" {kind} " in m)
    assert tp[kind] > 0
    assert precision >= FLOOR, f"{kind} precision {precision:.3f}\n{detail}"
    assert recall >= RECALL_FLOOR.get(kind, FLOOR), f"{kind} recall {recall:.3f}\n{detail}"


def test_no_look_alike_is_masked() -> None:
    for case in ALL_NEGATIVE:
        assert privacy.mask(case) == case


def test_bad_check_digits_are_not_ids_or_cards() -> None:
    valid = pc.make_id("430102", "19900101", "123")
    assert privacy.find(f"身份证{valid}")[0].kind == "IDCARD"
    assert not [m for m in privacy.find(f"身份证{pc.bad_id(valid)}") if m.kind == "IDCARD"]
    card = pc.CARDS[0]
    assert privacy.mask(f"卡号{card}") == "卡号<BANKCARD>"
    broken = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert privacy.mask(f"卡号{broken}") == f"卡号{broken}"
