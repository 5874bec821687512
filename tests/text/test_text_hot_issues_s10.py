"""Session 10 (h3): a meaning-backed join across a long gap needs the two units' titles to agree in meaning.

Messages about different problems at one place share their context (the developer's name, the estate's
history), so their full texts look alike in meaning; the title is where the writer names the problem. The
bar is learnt from the input: the ``semantic_title_quantile`` (0.9) of the title meaning similarity of
random pairs of messages about different places."""

from __future__ import annotations

import numpy as np
import pandas as pd

from govml.text.hot_issues import HotIssueFinder

# the context every message about the estate repeats: its developer, its phase, the owners' dealings
_CTX = "新城控股开发商拒不回应五期业主诉求，五期业主多次去售楼部沟通，新城控股推诿，五期交房至今没有结果，请住建局督促新城控股。"
OLD = {"semantic_title_quantile": None, "semantic_median": False}


def _corpus() -> pd.DataFrame:
    """Rows 0–1: an estate's finishing price (January), row 2: its concrete (September) — a different
    problem in the same context; rows 3–4: a flat turned into a restaurant at another estate (February),
    row 5: the same restaurant's fumes in October. Elsewhere: the same kinds of problems at other estates
    (so that price, concrete and restaurants each have a meaning of their own) and other topics."""
    rows = []

    def add(title: str, detail: str, day: int) -> None:
        rows.append((title, detail, str(pd.Timestamp("2024-01-01") + pd.Timedelta(days=day))))

    add("新城花苑五期业主精装价格严重虚高", "五期精装价格严重虚高，价质不符，精装造价要重新核算。" + _CTX, 0)
    add("新城花苑五期精装造价重新核算何时完成", "五期精装价格质价不符，精装造价重新核算没有进展。" + _CTX, 12)
    add("新城花苑五期业主的楼栋混凝土强度不合格", "五期混凝土强度检测不合格，楼栋要拆除重建。" + _CTX, 240)
    add("青园小区违规住改商开饭店", "一楼住宅违规住改商开饭店，油烟直排，噪音扰民，街道和工商部门推诿。", 30)
    add("青园小区住改商饭店油烟扰民", "一楼住改商饭店油烟扰民，公共通道架设烟道，消防隐患，请工商部门查处。", 36)
    add("青园小区一楼饭店油烟至今还在扰民", "一楼违规住改商饭店仍在营业，油烟扰民，工商和街道互相推诿。", 270)
    for i, e in enumerate(["金桂苑", "翠湖花园", "枫林家园", "锦江名都", "学府名都", "汇景新村"]):
        add(f"{e}精装价格虚高", "精装价格虚高，精装造价不透明，价质不符。", 20 + 37 * i)
        add(f"{e}混凝土强度不合格", "混凝土强度检测不合格，楼板开裂，房屋质量堪忧。", 40 + 41 * i)
        add(f"{e}住改商开饭店", "住宅违规住改商开饭店，油烟扰民。", 60 + 43 * i)
    topics = [("社保卡丢失怎么补办", "社保卡丢了去哪里补办，需要带什么材料"),
              ("申请低保需要哪些材料", "家里困难想申请低保，需要准备哪些材料"),
              ("公积金贷款额度如何计算", "想用公积金贷款买房，额度怎么计算"),
              ("户口迁移需要什么手续", "孩子上学需要迁户口，手续怎么办理"),
              ("医保异地报销怎么办理", "在外地住院，医保怎么报销"),
              ("希望开通夜班公交", "晚上下班没有公交车，希望开通夜班线路"),
              ("孩子上小学的学位如何申请", "孩子明年上小学，学位怎么申请"),
              ("路口红绿灯时间太短", "行人过马路时间不够，老人过不去"),
              ("新能源车充电桩太少", "附近没有充电桩，充电很难"),
              ("养老金调整什么时候发放", "今年养老金调整什么时候到账"),
              ("出租车拒载怎么投诉", "晚上打车经常被拒载"),
              ("自来水有时发黄", "家里自来水经常发黄，能不能喝")]
    for i, (t, d) in enumerate(topics):
        add(t, d, 5 + 23 * i)
        add("请问" + t, "你好，" + d + "？谢谢", 159 + 23 * i)
    df = pd.DataFrame(rows, columns=["title", "detail", "created_at"])
    df.insert(0, "id", [f"m{i:02d}" for i in range(len(df))])
    return df


def _entry(f: HotIssueFinder, row: int) -> tuple[tuple, float]:
    (k,) = [k for k, j in enumerate(f._joins) if row in j[:2]]
    return f._joins[k], f._join_titles[k]


def test_a_different_problem_in_the_same_context_is_refused_by_the_titles() -> None:
    df = _corpus()
    new = HotIssueFinder(text_cols=("title", "detail"), semantic_components=12).fit(df)
    old = HotIssueFinder(text_cols=("title", "detail"), semantic_components=12, **OLD).fit(df)
    lab_new, lab_old = new.labels_, old.labels_
    # the price issue is found in January either way
    assert lab_new[0] >= 0 and lab_new[0] == lab_new[1]
    # before: the concrete message joined it on the full texts' meaning (the shared context)
    (entry, _) = _entry(old, 2)
    _, _, pair, unit_mean, _, _, ok, _, sem_mean = entry
    assert ok and 0.225 <= pair < 0.3 and unit_mean >= 0.075 and sem_mean >= 0.6  # a meaning-backed join
    assert lab_old[2] == lab_old[0]
    # now: the titles (price against concrete) do not agree in meaning: refused, the message stays alone
    (entry, title_mean) = _entry(new, 2)
    assert not entry[6] and entry[8] >= 0.6  # refused although the full texts agree
    assert new.title_bar_ is not None and title_mean < new.title_bar_
    assert lab_new[2] == -1


def test_a_recurring_problem_named_alike_in_the_titles_still_joins() -> None:
    df = _corpus()
    f = HotIssueFinder(text_cols=("title", "detail"), semantic_components=12).fit(df)
    (entry, title_mean) = _entry(f, 5)
    _, _, pair, unit_mean, _, _, ok, _, sem_mean = entry
    assert pair < 0.3  # not a join by words: the meaning carries it
    assert ok and sem_mean >= 0.6 and title_mean >= f.title_bar_
    assert f.labels_[5] >= 0 and f.labels_[5] == f.labels_[3] == f.labels_[4]
    assert f.labels_[3] != f.labels_[0]


def test_the_title_bar_is_a_quantile_of_pairs_about_different_places() -> None:
    df = _corpus()
    bars = [HotIssueFinder(text_cols=("title", "detail"), semantic_components=12, semantic_title_quantile=q)
            .fit(df).title_bar_ for q in (0.5, 0.9, 0.99)]
    assert bars[0] < bars[1] < bars[2] <= 1.0 + 1e-9
    # with the title gate off there is no bar and the labels are those of the rule before
    off = HotIssueFinder(text_cols=("title", "detail"), semantic_components=12, **OLD).fit(df)
    assert off.title_bar_ is None and all(np.isnan(t) for t in off._join_titles)


class _Designed(HotIssueFinder):
    """Meaning vectors given (``_design``, one row per message), not learnt: the join rule on designed
    similarities."""

    def fit(self, df, y=None):  # noqa: ANN001, ANN201
        # the designed vectors are per input row: read the rows as given (fit reads them in time order since
        # session 15, so that another row order gives the same issues)
        return self._fit(df)

    def _semantic_vectors(self, cols, places, rows, titles=False):  # noqa: ANN001, ANN202
        z = self._design[rows]
        if not titles:
            return z
        use = np.concatenate([rows, np.setdiff1d(np.arange(len(places)), rows)])
        return z, self._design[use], use


def test_a_stray_member_does_not_dilute_the_meaning_of_a_recurring_problem() -> None:
    """A 7-message issue about a restaurant in a flat (one member about a snack shop's air conditioner,
    another problem linked by the place); two messages about the restaurant eight months later, 0.65 from
    each restaurant message in meaning and 0 from the air conditioner. The mean over all pairs, 0.557, is
    under the 0.6 bar; the typical member (the median of the members' mean similarities) is at 0.65."""
    rows = []

    def add(t: str, day: int) -> None:
        rows.append((t, str(pd.Timestamp("2024-02-01") + pd.Timedelta(days=day))))

    first = ["青园小区违规住改商开饭店", "青园小区住改商饭店油烟扰民", "青园小区住改商饭店烟道占用通道",
             "青园小区住改商饭店消防隐患", "青园小区住改商饭店营业执照违规", "青园小区住改商饭店噪音扰民",
             "青园小区住改商零食店空调外机扰民"]
    for i, t in enumerate(first):
        add(t, 3 * i)
    for i, t in enumerate(["青园小区住改商饭店问题谁来管", "青园小区住改商饭店还在营业"]):
        add(t, 240 + 5 * i)
    others = ["社保卡丢失怎么补办", "申请低保需要哪些材料", "公积金贷款额度如何计算", "户口迁移需要什么手续",
              "医保异地报销怎么办理", "希望开通夜班公交", "孩子上小学的学位如何申请", "路口红绿灯时间太短",
              "新能源车充电桩太少", "养老金调整什么时候发放", "出租车拒载怎么投诉", "自来水有时发黄"]
    others = others + ["请问" + t for t in others] + [t + "？" for t in others]
    for i, t in enumerate(others):
        add(t, 10 + 9 * i)
    for i, e in enumerate(["金桂苑", "翠湖花园", "枫林家园", "锦江名都", "学府名都", "汇景新村", "城市苑", "朝晖小区",
                           "长青花园", "丽发新城", "魅力之城", "星湖湾"]):
        add(f"{e}停车收费太贵", 30 + 7 * i)
        add(f"{e}电梯经常故障", 200 + 7 * i)
    df = pd.DataFrame(rows, columns=["text", "created_at"])
    df.insert(0, "id", [f"q{i:02d}" for i in range(len(df))])
    z = np.zeros((len(df), len(df)))
    z[:6, 0] = 1.0  # the restaurant
    z[6, 2] = 1.0  # the air conditioner
    z[7:9, 0], z[7:9, 1] = 0.65, np.sqrt(1 - 0.65**2)
    z[9:, 3:3 + len(df) - 9] = np.eye(len(df) - 9)  # everything else apart
    # words alone never join here (min_content_similarity_long 0.9): the meaning test decides
    params = {"semantic_components": 5, "min_content_similarity_long": 0.9, "semantic_relief": 0.2}
    results = {}
    for median in (False, True):
        f = _Designed(**params, semantic_median=median)
        f._design = z
        f.fit(df)
        (k,) = [k for k, j in enumerate(f._joins) if {j[0], j[1]} <= set(range(9))]
        results[median] = (f._joins[k], f.labels_)
    (entry, lab) = results[False]
    assert entry[4:6] == (7, 2) and not entry[6] and abs(entry[8] - (6 * 0.65 / 7)) < 1e-6
    assert lab[0] >= 0 and (lab[:7] == lab[0]).all() and lab[7] == lab[8] != lab[0]
    (entry, lab) = results[True]
    assert entry[6] and abs(entry[8] - 0.65) < 1e-6
    assert (lab[:9] == lab[0]).all()
