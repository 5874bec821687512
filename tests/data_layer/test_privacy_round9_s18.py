"""Personal names, session 18 (govml.privacy NAME): the planted round 9 (privacy_cases.py NAME_ROUND9_CASES /
NAME_ROUND9_NEGATIVE_CASES, committed before the session's rules and first run on the session-17 code) and the rules
added this session, each with names it finds and look-alikes it leaves (none of them from round 9):

- a kinship cue before a name and 是 (我母亲李秀珍是);
- a function character first in a two-character given name (刘和平, 李为民, 张自力, 陈之恒, 杨其林), before a
  delimiter, a title, a word that follows names or a one-character verb (not 经理张为难我们, 局长王和大家);
- a list of names after 本组/该组/同组/本村/该村 (本组肖和均，肖利红，肖运鸿，陈松长四家人);
- a surname + 家 + a character that ends no place as a name after a role (老板吴家俊让; not 村民周家湾组);
- 村民司马林家的: the name without 家; a person-tagged name with a compound surname after a role (老板司马光一直);
- household and count words, complaint verbs after a name (夫妇, 兄弟, 两户, 拒载, 绕路, 无证, 抽逃);
- a word name named again before an adverb of time (高山后来);
- no lone surname before a title right after a verb that ends with it (照顾爷爷, 感谢书记, 不顾老师).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from govml import privacy

sys.path.insert(0, str(Path(__file__).resolve().parent))

import privacy_cases as pc  # noqa: E402

ROUND9 = pc.NAME_ROUND9_CASES + pc.NAME_ROUND9_NEGATIVE_CASES


def test_round9_precision_and_recall() -> None:
    """47 names in 40 sentences, 35 look-alikes. Session-17 code (a09dc78): precision 0.923 (24/26), recall 0.511
    (24/47); session 18's rules: 1.000 (43/43) / 0.915 (43/47). Floors: one more false name or one more miss pass."""
    tp, fp, fn, detail = pc.score_name_cases(ROUND9)
    assert tp + fn == 47
    assert tp / (tp + fp) >= 0.97, "\n".join(detail)
    assert tp / (tp + fn) >= 0.89, "\n".join(detail)


def test_rounds_7_and_8_gains_of_session18() -> None:
    """Round 7: 74/81 → 81/81; round 8: 43/47 → 45/47; no false name in either."""
    tp, fp, fn, detail = pc.score_name_cases(pc.NAME_ROUND7_CASES + pc.NAME_ROUND7_NEGATIVE_CASES)
    assert fp == 0, "\n".join(detail)
    assert tp >= 80, "\n".join(detail)
    tp, fp, fn, detail = pc.score_name_cases(pc.NAME_ROUND8_CASES + pc.NAME_ROUND8_NEGATIVE_CASES)
    assert fp == 0, "\n".join(detail)
    assert tp >= 45, "\n".join(detail)


def test_round9_look_alikes_are_left() -> None:
    pc.check_left_alone(pc.NAME_ROUND9_NEGATIVE_CASES)


def test_round9_batch_equals_one_by_one_and_is_idempotent() -> None:
    pc.check_batch_equals_one_by_one(ROUND9)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我母亲李秀珍是退休教师。", "我母亲<NAME>是退休教师。"),
        ("我爱人王为民在外地打工。", "我爱人<NAME>在外地打工。"),
        ("村民赵和生说要修路。", "村民<NAME>说要修路。"),
        ("联系人黄其昌一直没回电话。", "联系人<NAME>一直没回电话。"),
        ("本村李明、王刚等人来闹事。", "本村<NAME>、<NAME>等人来闹事。"),
        ("同组黄国平、谢冬梅两户没有分到钱。", "同组<NAME>、<NAME>两户没有分到钱。"),
        ("老板吴家俊让我们加班。", "老板<NAME>让我们加班。"),
        ("村民司马林家的房子漏水。", "村民<NAME>家的房子漏水。"),
        ("老板司马光一直躲着。", "老板<NAME>一直躲着。"),
        ("村民张小军夫妇外出务工。", "村民<NAME>夫妇外出务工。"),
        ("出租车司机刘波拒载。", "出租车司机<NAME>拒载。"),
        ("局长高山说要整改，高山后来调走了。", "局长<NAME>说要整改，<NAME>后来调走了。"),
    ],
)
def test_session18_names(text: str, expected: str) -> None:
    assert privacy.mask(text) == expected
    assert privacy.mask_many(["无关", text]) == ["无关", expected]


@pytest.mark.parametrize(
    "text",
    [
        "我母亲是退休教师。",
        "我父亲高血压是老毛病。",
        "经理张为难我们。",
        "局长王和大家一起吃饭。",
        "业主李自己修的。",
        "业主张和王一起去。",
        "书记李以身作则。",
        "本组王家湾、李家冲两个地方。",
        "该组刘家、王家两户。",
        "本组村民反映道路破损严重。",
        "司机金山区方向的车。",
        "村民周家湾组反映。",
        "村民李家里没人。",
        "感谢书记的关心。",
        "我在家照顾爷爷。",
        "不顾老师劝阻。",
    ],
)
def test_session18_look_alikes_are_left(text: str) -> None:
    assert privacy.mask(text) == text
    assert privacy.mask_many(["无关", text]) == ["无关", text]
