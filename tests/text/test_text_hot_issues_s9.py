"""Session 9 (h6): a single message about a large issue's problem joins it across a long gap although
it shares little text with most of the issue's members (the mean over all pairs dilutes it)."""

from __future__ import annotations

import pandas as pd

from govml.text.hot_issues import HotIssueFinder


def _parking_corpus() -> pd.DataFrame:
    """One estate's parking spaces sold bundled with the flats: 13 messages in August in many wordings,
    two of which speak of staff (职工) buying; one message two months earlier about staff having to buy
    a space with the flat; unrelated messages elsewhere from which the meaning is learnt."""
    issue = ["伊景园滨河苑捆绑销售车位", "伊景园滨河苑违规捆绑车位销售", "伊景园滨河苑开发商捆绑车位",
             "伊景园滨河苑车位捆绑侵害业主权益", "坚决反对伊景园滨河苑捆绑车位", "伊景园滨河苑捆绑车位合法吗",
             "伊景园滨河苑买房必须捆绑车位", "伊景园滨河苑车位捆绑销售请求查处", "伊景园滨河苑强行捆绑车位十二万",
             "投诉伊景园滨河苑捆绑车位", "伊景园滨河苑车位捆绑何时解决", "伊景园滨河苑职工购房被迫购买捆绑车位",
             "伊景园滨河苑职工购房时捆绑购买车位"]
    rows = [(t, str(pd.Timestamp("2024-08-01") + pd.Timedelta(days=2 * i))) for i, t in enumerate(issue)]
    rows.append(("伊景园滨河苑要求职工购房时必须同时购买车位", "2024-06-10"))
    elsewhere = ["金桂苑停车收费太贵", "翠湖花园停车位收费不合理", "医院停车收费混乱", "社保卡丢失怎么补办",
                 "申请低保需要哪些材料", "公积金贷款额度如何计算", "户口迁移需要什么手续", "残疾人补贴怎么申请",
                 "医保异地报销怎么办理", "建议在人民公园增设健身器材", "希望开通夜班公交", "楼道里堆放杂物存在消防隐患",
                 "孩子上小学的学位如何申请", "老旧小区改造什么时候开始", "菜价太高了", "路口红绿灯时间太短",
                 "新能源车充电桩太少", "垃圾分类投放点离家太远", "养老金调整什么时候发放", "图书馆周末能否延长开放",
                 "出租车拒载怎么投诉", "农村宅基地如何审批", "公园里的路灯坏了好几盏", "自来水有时发黄"]
    rows += [(t, str(pd.Timestamp("2022-01-05") + pd.Timedelta(days=31 * i))) for i, t in enumerate(elsewhere)]
    df = pd.DataFrame(rows, columns=["text", "created_at"])
    df.insert(0, "id", [f"p{i:02d}" for i in range(len(df))])
    return df


def test_a_message_joins_a_large_issue_on_its_nearest_members_not_the_diluted_mean() -> None:
    df = _parking_corpus()
    single, staff = 13, 12  # the June message; the August message closest to it
    f = HotIssueFinder(semantic_components=4).fit(df)
    lab = f.labels_
    assert lab[staff] >= 0 and lab[single] == lab[staff]
    assert (lab == lab[staff]).sum() >= 10  # a large issue, not a pair
    (entry,) = [j for j in f._joins if single in j[:2]]
    _, _, pair, unit_mean, size_a, size_b, ok, _, sem_mean = entry
    assert ok and min(size_a, size_b) == 1 and max(size_a, size_b) >= 10
    assert unit_mean >= 0.075 and sem_mean >= 0.6
    # the mean over all pairs (the rule before, join_neighbours=None) is diluted below the bar: refused
    g = HotIssueFinder(semantic_components=4, join_neighbours=None).fit(df)
    (old,) = [j for j in g._joins if single in j[:2]]
    assert not old[6] and old[3] < 0.075 and old[2] == pair
    assert g.labels_[single] == -1
    # words alone (no meaning) keep average linkage: still refused
    h = HotIssueFinder(semantic_components=None).fit(df)
    assert h.labels_[single] == -1
