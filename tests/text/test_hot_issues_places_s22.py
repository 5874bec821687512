"""Session 22: hot issues are not glued together by a kind of facility both places are getting.

On 附件3 two estates' messages against substations (A1区汇一城 and A3区杨美公园, both "建变电站") were one issue,
placed "A3区汇一城": the substation, written with a verb or a voltage in front (建变电站, 建110KV高压变电站), counted
as a place both messages name. Such a name now counts only when the messages' proper names (汇一城, 杨美公园)
share something; and an issue's district is the one written with its place name.
"""

from __future__ import annotations

import pandas as pd
import pytest

from govml.text.hot_issues import HotIssueFinder, proper_place


@pytest.mark.parametrize(("name", "proper"), [
    ("汇一城", True), ("杨美公园", True), ("荣立工贸化工厂", True), ("第一垃圾中转站", True), ("58车贷", True),
    ("建变电站", False), ("建110KV高压变电站", False), ("居民区附近搅拌站", False), ("旁违规建垃圾站", False),
    ("中间建垃圾站", False), ("变电站", False), ("工厂", False),
])
def test_proper_place(name: str, proper: bool) -> None:
    assert proper_place(name) is proper


def _finder() -> HotIssueFinder:
    return HotIssueFinder(text_cols=["title", "detail"], semantic_components=None)


def _frame(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame({"id": [str(i + 1) for i in range(len(rows))], "title": [r[0] for r in rows],
                         "detail": [r[1] for r in rows], "created_at": [r[2] for r in rows]})


def _groups(f: HotIssueFinder, df: pd.DataFrame) -> set[frozenset[str]]:
    f.fit(df)
    return {frozenset(df["id"][f.labels_ == k]) for k in set(f.labels_) - {-1}}


def test_two_estates_getting_a_substation_are_two_issues() -> None:
    df = _frame([
        ("反对在A1区汇一城小区边建110KV高压变电站", "汇一城小区居民担心变电站辐射影响身体健康，请领导重视", "2019-10-29 17:26"),
        ("A1区汇一城小区旁边建变电站距离太近", "汇一城小区业主反对在小区旁边建变电站，距离不到15米", "2019-11-21 12:00"),
        ("坚决反对A3区杨美公园建变电站", "杨美公园离学校和小区很近，建变电站辐射影响居民身体健康", "2019-10-31 10:49"),
        ("A3区杨美公园建变电站合理吗", "杨美公园周边都是密集居民区，建变电站影响居民健康，请领导重视", "2019-10-28 10:25"),
    ])
    f = _finder()
    assert _groups(f, df) == {frozenset({"1", "2"}), frozenset({"3", "4"})}
    assert sorted(f.issues_["place"]) == ["A1区汇一城", "A3区杨美公园"]


def test_one_estate_written_two_ways_stays_one_issue() -> None:
    # 丽发小区 is 丽发新城 written short: the two names share 丽发, so the facility still links them
    df = _frame([
        ("A2区丽发新城附近建搅拌站噪音扰民", "丽发新城小区旁边建搅拌站，噪音粉尘污染严重", "2019-11-02 10:18"),
        ("A市丽发小区建搅拌站，噪音污染严重", "丽发小区附近建搅拌站，噪音粉尘污染严重，居民无法休息", "2019-11-05 09:00"),
        ("丽发新城小区旁边建搅拌站", "搅拌站噪音粉尘污染严重，居民无法休息", "2019-11-08 21:00"),
    ])
    assert _groups(_finder(), df) == {frozenset({"1", "2", "3"})}


def test_the_district_is_the_one_written_with_the_place() -> None:
    # one title writes the estate with its district (A3区); two others name another district for the company
    # behind the noise: the issue is placed where the estate is, not in the district named most often
    df = _frame([
        ("A3区锦绣花园楼下快递夜间噪音扰民", "锦绣花园3栋楼下快递公司夜间装卸货物噪音扰民", "2019-06-01 22:00"),
        ("锦绣花园楼下快递噪音，A7县跨越速运分部请管一管", "锦绣花园楼下快递公司夜间装卸货物噪音扰民", "2019-06-03 22:00"),
        ("锦绣花园夜间快递装卸噪音，A7县跨越速运扰民", "锦绣花园楼下快递公司夜间装卸货物噪音扰民", "2019-06-05 22:00"),
    ])
    f = _finder()
    assert _groups(f, df) == {frozenset({"1", "2", "3"})}
    assert f.issues_["place"].tolist() == ["A3区锦绣花园"]
