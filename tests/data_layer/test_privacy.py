"""govml.privacy: formats, look-alikes, API behaviour and properties (hypothesis)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
import privacy_cases as pc  # noqa: E402

from govml import privacy  # noqa: E402
from govml.errors import ConfigError, GovmlError  # noqa: E402


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("电话138 1234 5678。", "电话<PHONE>。"),
        ("电话138-1234-5678。", "电话<PHONE>。"),
        ("电话+86 13812345678。", "电话<PHONE>。"),
        ("电话0086-13812345678。", "电话<PHONE>。"),
        ("电话86-13812345678。", "电话<PHONE>。"),
        ("座机010-12345678", "座机<TEL>"),
        ("座机(0731)88886666", "座机<TEL>"),
        ("座机0731 8888 6666转123，", "座机<TEL>，"),
        ("邮箱a.b@qq.com。", "邮箱<EMAIL>。"),
        ("车牌湘A·12345停在这", "车牌<PLATE>停在这"),
        ("车牌湘AD12345停在这", "车牌<PLATE>停在这"),
        ("车牌湘A 12345停在这", "车牌<PLATE>停在这"),
        ("幸福里小区3栋2单元501室漏水", "幸福里小区<DOOR>漏水"),
        ("桃源小区12号楼3单元402业主", "桃源小区<DOOR>业主"),
        ("滨江花园5幢301室", "滨江花园<DOOR>"),
        ("锦绣家园8号楼1102，", "锦绣家园<DOOR>，"),
        ("住在翠湖苑3-2-501，漏水", "住在翠湖苑<DOOR>，漏水"),
        ("我住3-2-501室", "我住<DOOR>"),
        ("5栋二单元501的住户", "<DOOR>的住户"),
        ("三栋二单元501室", "<DOOR>"),
        ("梅溪湖g4栋二楼204号房", "梅溪湖<DOOR>房"),
        ("违建：16栋101.17栋102。", "违建：<DOOR>.<DOOR>。"),
        ("电话0731——85561234", "电话<TEL>"),
    ],
)
def test_formats(text: str, expected: str) -> None:
    assert privacy.mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "20190228",
        "2019-02-28",
        "2019年2月28日",
        "12000元",
        "¥3,500.00",
        "3.5万元",
        "工单号2019022800123",
        "编号 201903150012",
        "2019年",
        "120平方米",
        "89.5㎡",
        "11:25:05",
        "邮编410000",
        "第35条",
        "小区有12栋 300户",
        "3室2厅",
        "时间2019-2-28 11:00",
        "翠湖苑3-2-2019年",
        "一栋楼",
        "3栋 120.5平方米",
        "离19.18栋住宅",
        "三单元门口",
        "12345热线",
    ],
)
def test_look_alikes_kept(text: str) -> None:
    assert privacy.mask(text) == text
    assert not privacy.contains_pii(text)


def test_full_width_digits_detected_and_original_span_masked() -> None:
    text = "手机１３８１２３４５６７８，谢谢"
    found = privacy.find(text)
    assert [(m.kind, m.value) for m in found] == [("PHONE", "１３８１２３４５６７８")]
    assert privacy.mask(text) == "手机<PHONE>，谢谢"


def test_find_reports_spans_in_order() -> None:
    text = "3栋2单元501室的业主，电话13812345678，邮箱x@163.com"
    found = privacy.find(text)
    assert [m.kind for m in found] == ["DOOR", "PHONE", "EMAIL"]
    for m in found:
        assert text[m.start : m.end] == m.value


def test_email_wins_over_the_phone_inside_it() -> None:
    assert privacy.mask("发到13812345678@qq.com") == "发到<EMAIL>"


def test_kinds_limit_what_is_masked() -> None:
    text = "电话13812345678，车牌湘A12345"
    assert privacy.mask(text, kinds=["PHONE"]) == "电话<PHONE>，车牌湘A12345"
    assert privacy.mask(text, kinds=["plate"]) == "电话13812345678，车牌<PLATE>"
    assert [m.kind for m in privacy.find(text, kinds=["<PLATE>"])] == ["PLATE"]
    with pytest.raises(ConfigError, match="unknown personal-data kind"):
        privacy.mask(text, kinds=["SSN"])
    assert issubclass(ConfigError, GovmlError)


def test_fifteen_digit_ids_only_with_an_id_word() -> None:
    assert privacy.mask("身份证430102900101123") == "身份证<IDCARD>"
    assert privacy.mask("批号430102900101123") == "批号430102900101123"


def test_placeholders_and_non_str() -> None:
    assert privacy.PLACEHOLDERS == (
        "<EMAIL>",
        "<IDCARD>",
        "<BANKCARD>",
        "<PHONE>",
        "<TEL>",
        "<PLATE>",
        "<DOOR>",
        "<NAME>",
    )
    assert privacy.mask("") == ""
    with pytest.raises(TypeError):
        privacy.mask(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", ["str", "object", "string", "category"])
def test_mask_series_keeps_na_index_and_dtype(dtype: str) -> None:
    s = pd.Series(
        ["电话13812345678", None, "没有个人信息", "3栋2单元501室"],
        index=[10, 11, 12, 13],
        dtype=dtype,
        name="text",
    )
    out = privacy.mask_series(s)
    assert out.dtype == s.dtype or dtype == "category" and isinstance(out.dtype, pd.CategoricalDtype)
    assert list(out.index) == [10, 11, 12, 13]
    assert out.name == "text"
    assert out[10] == "电话<PHONE>"
    assert pd.isna(out[11])
    assert out[12] == "没有个人信息"
    assert out[13] == "<DOOR>"


# --- properties ------------------------------------------------------------------------------
# Common Chinese characters and punctuation without digits, letters or plate prefixes, so the
# surrounding text itself holds no personal data and never joins a number. (A number directly
# followed by an amount or measure word — 元, 万, 亿, 米, 吨, % — is an amount, not a phone: those
# characters are not in the alphabet.)
_CJK = st.text(
    alphabet="的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所同日手又行意动方期它头经长儿回位分爱老因很给名法间斯知世什两次使身者被高已亲其进此话常与活正感，。！？、：；（）“”《》 \n",
    max_size=40,
)


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(["110105", "430102", "320582", "440304", "510107", "650102", "810000"]))
    born = draw(
        st.dates(min_value=pd.Timestamp("1900-01-01").date(), max_value=pd.Timestamp("2024-12-31").date())
    )
    seq = draw(st.integers(0, 999))
    ident = pc.make_id(region, born.strftime("%Y%m%d"), f"{seq:03d}")
    return ident.lower() if draw(st.booleans()) else ident


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    digits = (
        "1"
        + draw(st.sampled_from("3456789"))
        + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9)))
    )
    style = draw(st.sampled_from(["plain", "space", "dash", "+86", "0086", "86-"]))
    if style == "space":
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if style == "dash":
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    return {"plain": "", "+86": "+86 ", "0086": "0086", "86-": "86-"}[style] + digits


@settings(max_examples=300, deadline=None)
@given(before=_CJK, after=_CJK, ident=valid_ids())
def test_any_valid_id_in_chinese_text_is_masked_rest_kept(before: str, after: str, ident: str) -> None:
    assert privacy.mask(before + ident + after) == before + "<IDCARD>" + after


@settings(max_examples=300, deadline=None)
@given(before=_CJK, after=_CJK, phone=mobiles())
def test_any_mobile_in_chinese_text_is_masked_rest_kept(before: str, after: str, phone: str) -> None:
    assert privacy.mask(before + phone + after) == before + "<PHONE>" + after


_ANY = st.text(
    alphabet=st.sampled_from(
        list("0123456789１３８ -+()@.·栋单元室号楼幢湘京AaDx我的电话是车牌邮箱qcom，。\n")
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(text=_ANY)
def test_mask_is_idempotent(text: str) -> None:
    once = privacy.mask(text)
    assert privacy.mask(once) == once


# A mobile number as written in the text: 11 digits, single spaces or dashes between the groups.
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9](?:[\s\-]?[0-9]{4}){2}(?![0-9])")
_WORDS = st.text(
    alphabet="的一了我不人在他有这个上们来到时大地子中你说生国着就那和要她出也得里后自以会家可下而过",  # no 是/为: "工单是…"
    min_size=1,
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(
    chunks=st.lists(
        st.one_of(mobiles(), st.sampled_from(["2019年", "120平方米", "12000元", "3栋", "工单", "0731"])),
        max_size=8,
    ),
    seps=st.lists(_WORDS, min_size=9, max_size=9),
)
def test_no_mobile_survives_masking(chunks: list[str], seps: list[str]) -> None:
    """Mobiles among look-alikes, each number separated from the next by some words: none survives."""
    text = seps[0] + "".join(c + sep for c, sep in zip(chunks, seps[1:], strict=False))
    masked = privacy.mask(text)
    assert not _MOBILE.search(masked), masked
    assert masked.count("<PHONE>") == sum(1 for c in chunks if c[-1].isdigit() and c != "0731")


def test_long_message_masked_throughout() -> None:
    """A long message (here ~240,000 characters) is masked everywhere, with no overlap confusion."""
    sentence = (
        "您好，我是3栋2单元501室业主，电话138-1234-5678，车牌湘A·12345，邮箱ab@qq.com。2019年物业费12000元。"
    )
    masked = "您好，我是<DOOR>业主，电话<PHONE>，车牌<PLATE>，邮箱<EMAIL>。2019年物业费12000元。"
    assert privacy.mask(sentence * 4000) == masked * 4000
    assert privacy.mask("a" * 100_000 + "@") == "a" * 100_000 + "@"


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80))
def test_any_unicode_text_never_raises_and_is_idempotent(text: str) -> None:
    once = privacy.mask(text)
    assert privacy.mask(once) == once
    for m in privacy.find(text):
        assert text[m.start : m.end] == m.value and m.kind in privacy.KINDS
