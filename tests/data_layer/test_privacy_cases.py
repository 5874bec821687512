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
# 4 of 226 planted names (sessions 11-13), recall 0.982 (session 13: 10, 0.956). Session 15: 何伟明确表示
# is found (a found name again before a dictionary word); 3 missed, recall 0.987.
RECALL_FLOOR = {"NAME": 0.98}  # session 15: 0.987 (223/226); 0.98 leaves room for one miss
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


def test_round6_names() -> None:
    """Session 15's planted round (privacy_cases.NAME_ROLE_CASES: roles, dictionary words as names, 于 after a
    title), held out from tuning: first run 0.957 / 0.848; now 62 of 63 found are right (黄磊卖: a one-character
    verb after the name, 店主黄磊卖过期食品) and 62 of 79 names are found. Missed: role names that are
    dictionary words (老板李强, 快递员马超: refused after a role, as 业主许可, 保安陈述), roles the gate leaves out
    for speed (物业管家, 社工, 工人, 来电人), 宋涛 (绕路), 于海 after a role, 程芳 (出纳 after 和), 朱红梅 (朱红),
    严明, 万里, 方正, 江山, 文明 (words before one-character followers), 向阳 (not_names.txt). Session 16: 74 of 74
    found are right and 74 of 79 names are found (0.937); still missed: 宋涛 (绕路), 程芳 (出纳 after 和), 朱红梅
    (朱红), 所长严明当场 (an adjective before a two-character word), 向阳 (not_names.txt)."""
    tp, fp, fn, misses = score_cases(pc.NAME_ROLE_CASES + pc.NAME_ROLE_NEGATIVE_CASES)
    detail = "\n".join(misses)
    assert tp["NAME"] + fn["NAME"] == 79 and len(pc.NAME_ROLE_NEGATIVE_CASES) == 80
    assert set(fp) <= {"NAME"} and set(fn) <= {"NAME"}, detail
    assert tp["NAME"] / (tp["NAME"] + fp["NAME"]) >= 0.98, detail
    assert tp["NAME"] / (tp["NAME"] + fn["NAME"]) >= 0.92, detail  # session 16: 0.937 (74/79)
    for case in pc.NAME_ROLE_NEGATIVE_CASES:
        assert privacy.mask(case) == case
