"""Personal names, session 16 (govml.privacy NAME): the planted round 7 (tests/data_layer/privacy_cases.py
NAME_ROUND7_CASES / NAME_ROUND7_NEGATIVE_CASES, written before the session's rules and held out from them) and
the rules added this session, each with names it finds and the look-alikes it leaves:

- the role words left out of the gate in session 15 (管家, 社工, 工人, 同事; found with str.find) and new ones
  (同学, 朋友, 法官, 文书, 楼长, 村医, 受害人 …); case-text cues as strong as 投诉人 (反映人, 来电人, 留言人,
  求助人, 经办人) and 个叫;
- 于 after a role (业主于海家; not 业主于今年, 村民于是);
- a person-tagged word after a role before a word that follows names (老板李强说; not 业主孙子、, 住户谢谢);
- a dictionary word as a name after a title before a one-character word (所长严明却, 副镇长万里说; not 局长方才,
  副镇长万事不管, 校长扬言说道);
- given-name characters 业家月士会再栋 in a two-character given name that is no word (干部李祥再, 村民蒋银月);
- a one-character verb after a name, never its last character (店主黄磊卖 → 黄磊; not 业主肖钢诈骗 → 肖钢诈).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from govml import privacy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data_layer"))

import privacy_cases as pc  # noqa: E402

ROUND7 = pc.NAME_ROUND7_CASES + pc.NAME_ROUND7_NEGATIVE_CASES
# The two look-alikes the final rules still mask (a role word before a two-character non-word; a compound
# surname whose second character starts a word): counted by the floors below.
KNOWN_FALSE = ("管家高冷", "老板上官网查")


def test_round7_precision_and_recall() -> None:
    """81 names in 75 sentences, 81 look-alikes. The session-15 code (da872c3): precision 0.889 (16/18), recall
    0.198 (16/81). Session 16's first run: 0.957 / 0.825 (66/80, 司机王师傅 then a look-alike); final 0.971 (68/70)
    / 0.840 (68/81). Session 17 (round-8 rules): 1.000 (74/74) / 0.914 (74/81). Floors: one more false name or
    one more miss than session 17's still passes."""
    tp, fp, fn, detail = pc.score_name_cases(ROUND7)
    assert tp + fn == 81
    assert tp / (tp + fp) >= 0.98, "\n".join(detail)
    assert tp / (tp + fn) >= 0.90, "\n".join(detail)


def test_round7_look_alikes_are_left() -> None:
    pc.check_left_alone(pc.NAME_ROUND7_NEGATIVE_CASES, skip=KNOWN_FALSE)


def test_round7_batch_equals_one_by_one_and_is_idempotent() -> None:
    pc.check_batch_equals_one_by_one(ROUND7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # roles found with str.find, and new roles
        ("物业管家邬娟巧给我提供了租房信息。", "物业管家<NAME>给我提供了租房信息。"),
        ("社工刘红答应帮忙申请补助。", "社工<NAME>答应帮忙申请补助。"),
        ("工人蒋建军从楼上摔下来。", "工人<NAME>从楼上摔下来。"),
        ("我同事李光铁也看到了。", "我同事<NAME>也看到了。"),
        ("我同学张海涛的孩子也在这所学校。", "我同学<NAME>的孩子也在这所学校。"),
        ("我的朋友陈新万曾实名举报。", "我的朋友<NAME>曾实名举报。"),
        ("庭长法官欧兵阳直接下裁定书。", "庭长法官<NAME>直接下裁定书。"),
        ("村文书周树枝私自改了名单。", "村文书<NAME>私自改了名单。"),
        ("楼长陈华私自收取费用。", "楼长<NAME>私自收取费用。"),
        ("受害人刘小红至今还在医院。", "受害人<NAME>至今还在医院。"),
        # case-text cues
        ("反映人：李桂兰，家住A3区。", "反映人：<NAME>，家住A3区。"),
        ("来电人周敏反映小区停水。", "来电人<NAME>反映小区停水。"),
        ("留言人王建平，请尽快处理。", "留言人<NAME>，请尽快处理。"),
        ("求助人李岡，身份证号码见附件。", "求助人<NAME>，身份证号码见附件。"),
        ("经办人：孙强，联系电话见回执。", "经办人：<NAME>，联系电话见回执。"),
        ("派出所安排了一个叫蒋黔楚的所长接待我们。", "派出所安排了一个叫<NAME>的所长接待我们。"),
        # 于 after a role
        ("业主于海家的狗咬伤了小孩。", "业主<NAME>家的狗咬伤了小孩。"),
        ("村民于红的低保被取消。", "村民<NAME>的低保被取消。"),
        # a person-tagged word after a role, before a word that follows names
        ("老板李强说下个月发工资。", "老板<NAME>说下个月发工资。"),
        ("村民陈云家的房子被冲垮了。", "村民<NAME>家的房子被冲垮了。"),
        ("司机马超把车停在消防通道上。", "司机<NAME>把车停在消防通道上。"),
        # a dictionary word as a name after a title, before a one-character word
        ("所长严明却一直没有回复。", "所长<NAME>却一直没有回复。"),
        ("副镇长万里说下个月动工。", "副镇长<NAME>说下个月动工。"),
        ("村主任方正把征地款扣下不发。", "村主任<NAME>把征地款扣下不发。"),
        ("书记江山让我们回去等通知。", "书记<NAME>让我们回去等通知。"),
        ("镇长文明又说归县里管。", "镇长<NAME>又说归县里管。"),
        # given-name characters of _GIVEN_RELAX
        ("正处级干部李祥再侵占国有资产。", "正处级干部<NAME>侵占国有资产。"),
        ("村民蒋银月口头反映情况。", "村民<NAME>口头反映情况。"),
        ("工作人员蒋彬、唐溶、鲁月红四人到场。", "工作人员<NAME>、<NAME>、<NAME>四人到场。"),
        ("经理陈月英答应退款后又反悔。", "经理<NAME>答应退款后又反悔。"),
        # a one-character verb after the name
        ("店主黄磊卖过期食品。", "店主<NAME>卖过期食品。"),
        ("保安李军推了我母亲一把。", "保安<NAME>推了我母亲一把。"),
        ("房东张敏华扣了我两千块押金。", "房东<NAME>扣了我两千块押金。"),
        ("业主肖钢诈骗而报警。", "业主<NAME>诈骗而报警。"),
    ],
)
def test_session16_rules_find_names(text: str, expected: str) -> None:
    assert privacy.mask(text) == expected
    assert privacy.mask_many([text, "无关的文字", text]) == [expected, "无关的文字", expected]
    assert privacy.mask(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        # role words before a word
        "工人阶级是领导阶级。",
        "同事关系不好处理。",
        "社工机构的人来过一次。",
        "管家服务费每月两百元。",
        "来电人称其母亲受到虐待。",
        "经办人员态度恶劣。",
        "同学会上听说了这件事。",
        "我朋友圈里都在转。",
        "工人师傅说明天来修。",
        "法官助理说等通知。",
        "主管部门不作为。",
        "村医生活补助没有发。",
        "网格长期缺人。",
        "楼长安排大家轮流打扫。",
        "受害人家属情绪激动。",
        "报案人称电动车被盗。",
        # 于 after a role: a preposition
        "工人于凌晨两点还在施工。",
        "业主于今年三月入住。",
        "村民于是自发修路。",
        "保安于心不忍。",
        # person-tagged words after a role that are no names, or before a delimiter
        "业主孙子、孙女都住这里。",
        "住户谢谢大家。",
        "业主许可擅自改建。",
        # 村民陈云，2017年入户。: a name since session 17 (tests/data_layer/privacy_round8_s17_test.py)
        # words after a title
        "局长方才说过会处理。",
        "副镇长万事不管。",
        "主任万分着急。",
        "科长万般推脱。",
        "局长郑重承诺。",
        "院长张口就骂人。",
        "就被校长扬言说道不能请假。",
        "局长严明纪律。",
        "局长文明执法。",
        # 家 before a place character; a given name that is a word
        "村民李家湾组的道路没硬化。",
        "业主王会计说要等。",
        "村民张开会说的。",
    ],
)
def test_session16_look_alikes_are_left(text: str) -> None:
    assert privacy.mask(text) == text
    assert privacy.mask_many(["无关", text]) == ["无关", text]
