"""Personal names (NAME) in govml.privacy: cues, spans, look-alikes, batch equality, the tokenizer.

Precision and recall on the planted name cases are in test_privacy_cases.py (privacy_cases.py).
"""

from __future__ import annotations

import random
import re

import pytest

from govml import privacy


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我叫朱琦梦，想反映小区停车的问题。", "我叫<NAME>，想反映小区停车的问题。"),
        ("我叫陈福如今年七十岁了。", "我叫<NAME>今年七十岁了。"),
        ("本人刘建国，男，系春华镇居民。", "本人<NAME>，男，系春华镇居民。"),
        ("本人：邱少华，女。", "本人：<NAME>，女。"),
        ("姓名：何艳银，住址：桃源村。", "姓名：<NAME>，住址：桃源村。"),
        ("户主康国斌在拆迁中受伤。", "户主<NAME>在拆迁中受伤。"),
        ("联系人：刘女士13607311234", "联系人：<NAME>女士<PHONE>"),
        ("请与黄先生联系。", "请与<NAME>先生联系。"),
        ("教育局李鸿局长给出了两个方案。", "教育局<NAME>局长给出了两个方案。"),
        ("物业孟总经理一直不出面。", "物业<NAME>总经理一直不出面。"),
        ("肯请谭大队长保留信息。", "肯请<NAME>大队长保留信息。"),
        ("非常感谢杨书记对我们的关心。", "非常感谢<NAME>书记对我们的关心。"),
        ("欧阳先生反映路灯不亮。", "<NAME>先生反映路灯不亮。"),
        ("“范红星”网友：您好！", "“<NAME>”网友：您好！"),
        ("网友“罗志勇”：您好！", "网友“<NAME>”：您好！"),
        ("我母亲陈秀英，今年78岁。", "我母亲<NAME>，今年78岁。"),
    ],
)
def test_names_found_from_cues_and_titles_kept(text: str, expected: str) -> None:
    assert privacy.mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "我是业主，楼上漏水。",
        "我是一名退休教师。",
        "我是A市居民。",
        "我是XX小区的住户。",
        "我是党员，也是楼栋长。",
        "我是东北人，在这边打工。",
        "周末去王府井逛了一圈，张家界的门票太贵。",
        "高铁站、李宁牌、黄花镇、马坡岭、中国。",
        "老师们辛苦了，各位领导好！",
        "请书记关注一下，局长您好。",
        "语文老师、保安师傅、门卫大爷、物业方经理、代课老师。",
        "申请人王某已提交材料，户名李某。",
        "网友“UU008848”：您好！",
        "一家名叫一米阳光的影楼。",
        "只是位于组长家门前。",
    ],
)
def test_name_look_alikes_kept(text: str) -> None:
    assert privacy.mask(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("局党委书记、局长卢鸣鸿在会上讲话。", "局党委书记、局长<NAME>在会上讲话。"),
        ("请主任李四同志尽快回复。", "请主任<NAME>同志尽快回复。"),
        ("区城管局局长李明带队检查。", "区城管局局长<NAME>带队检查。"),
        ("副局长张建华说这事归街道。", "副局长<NAME>说这事归街道。"),
        ("社区书记王五，请关注。", "社区书记<NAME>，请关注。"),
        ("派出所民警毛骏还为他们辩解。", "派出所民警<NAME>还为他们辩解。"),
        ("科长杨博认为不是其职责。", "科长<NAME>认为不是其职责。"),  # not 杨博认
        ("负责人肖总，当时在场。", "负责人<NAME>总，当时在场。"),
        ("A8县委副书记、县长周晖的重视。", "A8县委副书记、县长<NAME>的重视。"),
        ("联系人：张强、李丽，电话见附件。", "联系人：<NAME>、<NAME>，电话见附件。"),
        ("户主系：沈国生、蒋斌建、彭生儒等八人。", "户主系：<NAME>、<NAME>、<NAME>等八人。"),
        ("申请人周红及周平两位同志已到场。", "申请人<NAME>及<NAME>两位同志已到场。"),
        ("户主：符，家里三口人。", "户主：<NAME>，家里三口人。"),
        ("尊敬的向书记：您好！", "尊敬的<NAME>书记：您好！"),
        ("主任邓兆先召集村民开会。", "主任<NAME>召集村民开会。"),  # 先: not 先生
        ("2018年，市长曹军立带领教育部门调研。", "2018年，市长<NAME>带领教育部门调研。"),
        ("交警大队副大队长王利绍说经调查属实。", "交警大队副大队长<NAME>说经调查属实。"),
    ],
)
def test_names_after_a_title_and_in_lists(text: str, expected: str) -> None:
    assert privacy.mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "请书记高度重视此事。",
        "局长明查暗访，为老百姓做主。",
        "恳请书记于百忙之中抽空关注。",
        "纪委书记和保安都在场。",
        "业主任何时候都可以查询。",
        "请拨打局长热线，或写信到局长信箱。",
        "书记处的同志说他是主任科员。",
        "镇长办公室没人，所长您好！",
        "向书记反映过多次，也向市长反映过。",
        "局长申诉，书记明查，局长商议，",
        "物业经理何来的执法权？主任何尝不想解决？",
        "森林公安民警严格、公正执法。",
        "A市长房云时代小区，A7县长龙街道，K2区长丰廉租房。",
        "原镇长、原书记、纪检组长、车队长都来了。",
        "局长高兴地说。",
        "拆迁户名单，姓名权、肖像权。",
        "我叫车，车一直没来。",
    ],
)
def test_title_and_list_look_alikes_kept(text: str) -> None:
    assert privacy.mask(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("现任校长黄淼带头乱收学员空调费。", "现任校长<NAME>带头乱收学员空调费。"),
        ("艾弗瑞教育董事长罗平卫纠集20到30人。", "艾弗瑞教育董事长<NAME>纠集20到30人。"),
        ("A3区教育局局长李鸿指着地图上的一个红点。", "A3区教育局局长<NAME>指着地图上的一个红点。"),  # not 李鸿指
        ("社区书记黄寒心胸狭窄。", "社区书记<NAME>心胸狭窄。"),
        ("办案民警毛浚却一直拖延。", "办案民警<NAME>却一直拖延。"),
        ("董事长邢森虽已辞职。", "董事长<NAME>虽已辞职。"),
        ("妇女主任张秀兰挨家挨户登记。", "妇女主任<NAME>挨家挨户登记。"),  # 挨家 starts 挨家挨户
        ("社区民警段志刚上门调解。", "社区民警<NAME>上门调解。"),  # a boundary-tier surname: two characters
        ("村主任周树仁丶村文书都在。", "村主任<NAME>丶村文书都在。"),
        ("书记曾国宪等相关村干部。", "书记<NAME>等相关村干部。"),
    ],
)
def test_names_after_a_title_followed_by_a_word(text: str, expected: str) -> None:
    assert privacy.mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "局长高度关注此事。",  # 高度 is a word
        "主任马上安排人员处理。",
        "局长安排人员到现场。",  # 安排: a boundary-tier surname and a word
        "书记明确表示支持。",
        "科长严格把关，局长郑重承诺。",
        "局长曾多次承诺，负责人曾多次找到我司。",  # 曾: "once"
        "董事长孙子结婚，村长毛病太多。",
        "时任县长批示同意。",
        "感谢两位同志，这两位同志点石成金。",
    ],
)
def test_words_after_a_title_kept(text: str) -> None:
    assert privacy.mask(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a found name again in the same text
        ("组长何伟明有事，何伟明到了后又走了。", "组长<NAME>有事，<NAME>到了后又走了。"),
        ("举报人：黄尊富。镇政府多次与黄尊富协商。", "举报人：<NAME>。镇政府多次与<NAME>协商。"),
        # two characters: before a delimiter, a title, a word that follows names, or (session 15) a word
        # of the dictionary more frequent than the one the name's last character would start (明天, not 芳明)
        ("我叫王芳，王芳说，王芳明天来。", "我叫<NAME>，<NAME>说，<NAME>明天来。"),
        # the shorter name found elsewhere in the text: 朝 is "towards"
        ("民警张晖、李强到场。民警张晖朝我们大喊。", "民警<NAME>、<NAME>到场。民警<NAME>朝我们大喊。"),
        # a given name alone before a title, the full name found in the text
        ("联系人：李炼红。请炼红书记关注此事。", "联系人：<NAME>。请<NAME>书记关注此事。"),
        ("联系人：王建国。建国书记很关心。", "联系人：<NAME>。建国书记很关心。"),  # 建国 is a word
    ],
)
def test_a_found_name_elsewhere_in_the_same_text(text: str, expected: str) -> None:
    assert privacy.mask(text) == expected
    assert privacy.mask(expected) == expected


def test_names_are_not_carried_from_one_text_to_another() -> None:
    texts = ["组长何伟明有事，", "何伟明到了后又走了。", "联系人：李炼红。", "请炼红书记关注此事。"]
    expected = ["组长<NAME>有事，", "何伟明到了后又走了。", "联系人：<NAME>。", "请炼红书记关注此事。"]
    assert [privacy.mask(t) for t in texts] == expected
    assert privacy.mask_many(texts) == expected


def test_the_word_list_is_read_on_first_use_not_at_import() -> None:
    import subprocess
    import sys

    code = ("import govml.privacy as p; assert p._WORDS is None; p.mask('局长黄淼带头'); "
            "w, s, person, _ = p._WORDS; assert w['高度'] >= 20 and s['挨家'] >= 20 and '田野' in person")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_name_kind_can_be_left_out_or_chosen() -> None:
    text = "我叫朱琦梦，电话13812345678"
    assert privacy.mask(text, kinds=["PHONE"]) == "我叫朱琦梦，电话<PHONE>"
    assert privacy.mask(text, kinds=["name"]) == "我叫<NAME>，电话13812345678"
    assert [(m.kind, m.value) for m in privacy.find(text)] == [("NAME", "朱琦梦"), ("PHONE", "13812345678")]


def test_surname_lists_ship_with_the_package() -> None:
    assert {"王", "李", "张", "刘", "陈"} <= privacy._SURNAMES_COMMON
    assert {"欧阳", "司马", "诸葛", "上官"} <= privacy._SURNAMES_COMPOUND
    assert not privacy._SURNAMES_COMMON & privacy._SURNAMES_BOUNDARY
    assert len(privacy._SURNAMES_COMMON | privacy._SURNAMES_BOUNDARY) >= 300
    assert "党员" in privacy._NOT_NAMES


_PIECES = [
    "我叫", "我是", "本人", "本人：", "姓名：", "联系人", "户主", "名叫“", "”网友", "网友“", "”", "我母亲",
    "王", "李", "欧阳", "文", "卫", "经", "于", "建国", "芳", "小梅", "福如", "先生", "女士", "书记", "局长",
    "总经理", "老师们", "大队长", "，", "。", " ", "的", "位", "13812345678", "3栋2单元501室", "A市", "业主",
    "今年", "男", "某", "\t", "局长", "民警", "、", "和", "同志", "鸣鸿", "业", "主任", "A", "市长",
    "黄淼", "带头", "指着", "何伟明", "衡花", "高度",
]


def _fuzz_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["", "我叫朱琦梦，"] + ["".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 9))) for _ in range(n)]


def test_batch_masking_of_names_equals_mask_one_by_one() -> None:
    texts = _fuzz_texts(3000, seed=5)
    expected = [privacy.mask(t) for t in texts]
    assert sum("<NAME>" in t for t in expected) > 300  # the fuzz does make names
    assert privacy.mask_many(texts) == expected
    assert privacy.mask_joined("\x02".join(texts), "\x02").split("\x02") == expected
    spaced = privacy.mask_joined("\x03".join(texts), "\x03", replacement=" ").split("\x03")
    placeholder = re.compile("|".join(map(re.escape, privacy.PLACEHOLDERS)))
    assert spaced == [placeholder.sub(" ", t) for t in expected]  # no "<" in the fuzz pieces
    for kinds in (["NAME"], ["PHONE", "DOOR"]):
        assert privacy.mask_many(texts, kinds) == [privacy.mask(t, kinds) for t in texts]


def test_name_masking_is_idempotent() -> None:
    for t in _fuzz_texts(1000, seed=9):
        once = privacy.mask(t)
        assert privacy.mask(once) == once, t


def test_the_tokenizer_drops_names() -> None:
    from govml.text.tokenize import _PLACEHOLDERS, GovTokenizer

    assert "<NAME>" in _PLACEHOLDERS and set(_PLACEHOLDERS) == set(privacy.PLACEHOLDERS)
    tok = GovTokenizer()
    texts = ["我叫朱琦梦，小区加装电梯的问题请尽快解决", "请黄建军先生回复<NAME>的问题"]
    out = tok.tokenize_many(texts)
    assert out == [tok(t) for t in texts]
    flat = {w for toks in out for w in toks}
    assert "加装电梯" in flat
    assert not {w for w in flat if any(c in w for c in "朱琦梦黄建军")}
    assert not any("NAME" in w.upper() for w in flat)
