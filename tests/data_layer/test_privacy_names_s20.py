"""Personal names, session 20 (govml.privacy NAME): two rules, each with the names it finds and look-alikes it leaves.

- a word name ending in 江河山海… after a role before 每天 每次 不让 不准 不许 不给 (round 9's 货车司机金山每天,
  门卫长江不让: the last two misses of round 9);
- a boundary-tier surname and two given-name characters after a role before 、。，； (法人易兴祖，, 业主符金屏，on
  附件4), no two-character piece starting a word (not 确保安全度汛。, the one false span of the first version on
  附件3/附件4).

And a fix: the name gate reads the raw text, where a space or a quote mark may still be full-width, but missed a
full-width quote mark before a name after a role (业主＂张海燕＂) and an ideographic space in a list after 本组: such a
name was masked only in a text that passed the gate otherwise (a phone number), and by mask_many, not mask.

On the 17,100 text cells of 附件3/附件4 the two rules add three spans (易兴祖, 符金屏 twice) and no other; on 200,000
generated messages none (benchmarks/check_privacy_identity.py against the code before them lists every change).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from govml import privacy

sys.path.insert(0, str(Path(__file__).resolve().parent))

import privacy_cases as pc  # noqa: E402


def test_round9_all_found_now() -> None:
    """Round 9: 45 → 47 of 47 (货车司机金山每天, 门卫长江不让), no false name."""
    tp, fp, fn, detail = pc.score_name_cases(pc.NAME_ROUND9_CASES + pc.NAME_ROUND9_NEGATIVE_CASES)
    assert tp + fn == 47
    assert fp == 0, "\n".join(detail)
    assert tp == 47, "\n".join(detail)


def test_other_rounds_kept() -> None:
    for cases, found in ((pc.NAME_ROLE_CASES + pc.NAME_ROLE_NEGATIVE_CASES, 79),
                         (pc.NAME_ROUND7_CASES + pc.NAME_ROUND7_NEGATIVE_CASES, 81),
                         (pc.NAME_ROUND8_CASES + pc.NAME_ROUND8_NEGATIVE_CASES, 47),
                         (pc.NAME_ROUND10_CASES + pc.NAME_ROUND10_NEGATIVE_CASES, 46)):
        tp, fp, fn, detail = pc.score_name_cases(cases)
        assert fp == 0, "\n".join(detail)
        assert tp == found, "\n".join(detail)


@pytest.mark.parametrize(("text", "expected"), [
    ("货车司机金山每天凌晨在小区里按喇叭。", "货车司机<NAME>每天凌晨在小区里按喇叭。"),
    ("门卫长江不让外卖员进小区。", "门卫<NAME>不让外卖员进小区。"),
    ("保安长江不许拍照", "保安<NAME>不许拍照"),
    ("司机金山每次都乱停", "司机<NAME>每次都乱停"),
    ("法人易兴祖，从社会上纠集20多名闲散人员", "法人<NAME>，从社会上纠集20多名闲散人员"),
    ("我是新府名邸业主符金屏，家住在5栋", "我是新府名邸业主<NAME>，家住在5栋"),
    ("业主符金屏、王五", "业主<NAME>、<NAME>"),
])
def test_session20_names(text: str, expected: str) -> None:
    assert privacy.mask(text) == expected
    assert privacy.mask_many(["无关", text]) == ["无关", expected]


@pytest.mark.parametrize("text", [
    "确保安全度汛。", "保安全部撤离，", "居民方便面、", "业主管理费，", "司机常开车，", "员工程序员，", "村民安置房，",
    "司机连夜赶，", "房东单方面，", "业主时常说，", "业主全体、", "居民安全感。", "司机方向盘，", "店主管理费，",
    "业主安居房；", "业主强烈要求，", "业主万分感谢，", "门卫长江路不让停车", "村民金山区每天都有", "保安长江大桥不让过",
    "司机金山区每天都跑",
])
def test_session20_look_alikes_are_left(text: str) -> None:
    assert privacy.mask(text) == text
    assert privacy.mask_many(["无关", text]) == ["无关", text]


@pytest.mark.parametrize("text", ["业主＂张海燕＂在闹", "本组肖和均，\u3000肖利红，肖运鸿三户"])
@pytest.mark.parametrize("tail", ["", "，电话13812345678"])
def test_full_width_space_and_quote_pass_the_gate(text: str, tail: str) -> None:
    masked = privacy.mask(text + tail)
    assert "<NAME>" in masked
    assert masked.count("<NAME>") == (1 if text.startswith("业主") else 3)
    assert privacy.mask_many(["无关", text + tail]) == ["无关", masked]
