"""Personal names, session 15 (govml.privacy NAME): the rules added this session, each with names it finds
and the look-alikes it leaves. The planted round of the session (held out from tuning) is
tests/data_layer/privacy_cases.NAME_ROLE_CASES, scored by test_privacy_cases.test_round6_names.

- a name after a role word that is no title (业主, 老板, 会计, 保安, 村民, 法人, 工作人员 …; 医生, 老师, 律师
  as roles after them): a common or compound surname, never a word of jieba's dictionary (业主许可, 保安陈述);
- 于 after a title (副局长于洋表示), not 于 the preposition (局长于百忙之中, 局长于昨天, 书记于此次);
- a boundary-tier surname and a word tagged as a person's name before a listed word (社区书记常青至今);
- times and 只是 after a name (站长夏军上周说), a found two-character name again before a word (蒋勇现在);
- a single surname with a common noun as its given name is none (局长高姿态处理, 主任高风格);
- 物业主任王强: the 业主任何 guard only where 任 starts a word.
"""

from __future__ import annotations

import pytest

from govml import privacy


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # roles
        ("业主张伟多次向物业反映漏水问题。", "业主<NAME>多次向物业反映漏水问题。"),
        ("包工头黄俊借口有事，但黄俊没到场。", "包工头<NAME>借口有事，但<NAME>没到场。"),
        ("法人范可风跑路，员工血汗钱无人管。", "法人<NAME>跑路，员工血汗钱无人管。"),
        ("村民罗乔云、唐文金反映井水干了。", "村民<NAME>、<NAME>反映井水干了。"),
        ("工作人员蒋彬、唐溶弄虚作假。", "工作人员<NAME>、<NAME>弄虚作假。"),
        ("老板娘叶青说不退钱。", "老板娘<NAME>说不退钱。"),
        ("老板王总一直不露面。", "老板<NAME>总一直不露面。"),
        ("村民曾照雄，向您反映一个问题。", "村民<NAME>，向您反映一个问题。"),  # 曾 + two characters
        ("主治医生陈明说手术很成功。", "主治医生<NAME>说手术很成功。"),
        ("老师贺敏体罚学生。", "老师<NAME>体罚学生。"),
        ("律师钟华收了代理费却不出庭。", "律师<NAME>收了代理费却不出庭。"),
        ("物业主任王强，电话打不通。", "物业主任<NAME>，电话打不通。"),
        # 于 after a title
        ("副局长于洋表示会尽快处理。", "副局长<NAME>表示会尽快处理。"),
        ("民警于斌、李浩到场调解。", "民警<NAME>、<NAME>到场调解。"),
        ("社区主任于海涛多次推诿。", "社区主任<NAME>多次推诿。"),
        # a person-tagged word after a boundary-tier surname, before a listed word
        ("社区书记常青至今没有回复。", "社区书记<NAME>至今没有回复。"),
        ("组长金山私自收取卫生费。", "组长<NAME>私自收取卫生费。"),
        # times after a name; a found name again before a word
        ("站长夏军上周说会处理，夏军今天又说不归他管。", "站长<NAME>上周说会处理，<NAME>今天又说不归他管。"),
        ("书记蒋勇答应过，可蒋勇现在不接电话。", "书记<NAME>答应过，可<NAME>现在不接电话。"),
        ("民警孔亮到场后，孔亮只是口头警告。", "民警<NAME>到场后，<NAME>只是口头警告。"),
    ],
)
def test_session15_rules_find_names(text: str, expected: str) -> None:
    assert privacy.mask(text) == expected
    assert privacy.mask_many([text, "无关的文字", text]) == [expected, "无关的文字", expected]
    assert privacy.mask(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        # a role word before an ordinary word
        "业主大会还没开，物业就涨价了。",
        "业主张贴的告示被撕了。",  # 张贴: a word (tagged as a person's name)
        "未经业主许可擅自出售车位。",  # 许可
        "保安陈述了当时的情况。",
        "业主钱款被中介卷走。",  # 钱款: a word of the dictionary less than 20 frequent
        "社区村干部高息借贷不还。",
        "小区业主曾向A7县各级主管反映。",  # 曾 "once"
        "村民何去何从？",  # an idiom
        "会计师事务所出具的报告有问题。",
        "老板娘说不退钱。",
        "医生太少，排队太久。",  # 太 of 太史 is no surname alone
        "业主高度关注此事。",
        "工作人员于2019年3月上门查看。",  # no 于 after a role
        "业主任何时候都可以来。",
        # 村民陈云，2017年入户。 is a name since session 17 (a person-tagged word with a name-final character before a
        # delimiter after a role: tests/data_layer/privacy_round8_s17_test.py); 业主孙子、, 住户谢谢。 stay left
        # 于 after a title: a preposition
        "局长于百忙之中接待了我们。",
        "局长于3月5日到现场查看。",
        "书记于会上表示要严肃处理。",
        "主任于心不忍，帮我们垫付了费用。",
        "局长于是派人来看。",
        "局长于昨天到场。",
        "书记于此次会议上表态。",
        # a title before a word
        "局长明确表示会处理。",
        "局长高姿态处理了此事。",
        "主任高风格，主动让出车位。",
        "书记向阳光小区的业主道歉。",
    ],
)
def test_session15_look_alikes_are_left(text: str) -> None:
    assert privacy.mask(text) == text
    assert privacy.mask_many(["无关", text]) == ["无关", text]


def test_a_name_again_needs_a_found_name_in_the_same_text() -> None:
    """蒋勇现在 is a name only where 蒋勇 was found in that text; mask_many keeps texts apart."""
    texts = ["书记蒋勇答应过。", "蒋勇现在不接电话。"]
    assert privacy.mask_many(texts) == ["书记<NAME>答应过。", texts[1]]
