"""Synthetic category vocabulary shared by the classifier tests (on sys.path via pytest's `pythonpath`)."""

VOCAB = {
    "城乡建设": ["加装电梯", "物业费", "老旧小区改造", "违建", "拆迁补偿", "不动产证", "停水", "路灯"],
    "环境保护": ["噪声扰民", "油烟扰民", "污水直排", "扬尘污染", "垃圾焚烧", "异味", "夜间施工", "光污染"],
    "交通运输": ["出租车", "网约车", "公路硬化", "收费站", "货车超载", "客运班车", "驾驶证", "高速出口"],
    "教育文体": ["幼儿园", "学位", "补课", "教师编制", "入学", "校车", "学费", "图书馆"],
    "劳动和社会保障": ["拖欠工资", "社保", "养老保险", "劳动合同", "工伤认定", "退休金", "失业保险", "加班费"],
    "商贸旅游": ["虚假宣传", "退费难", "景区门票", "缺斤少两", "假冒伪劣", "预付卡", "传销", "农贸市场"],
    "卫生计生": ["医院", "医生", "疫苗接种", "计划生育", "独生子女", "药价", "卫生院", "医患纠纷"],
}
SHARED = ["小区", "居民", "问题", "多次", "街道", "社区", "业主", "处理", "部门", "情况"]


TOPICS = {
    "交通": ["公交车", "地铁站", "红绿灯", "停车位", "道路拥堵"],
    "教育": ["学校", "老师", "幼儿园", "学位", "入学"],
    "环境": ["噪音", "油烟", "污水", "垃圾", "粉尘"],
    "医疗": ["医院", "医生", "看病", "挂号", "药价"],
    "住房": ["物业", "小区", "电梯", "开发商", "房产证"],
}
FILLER = ["希望", "有关部门", "尽快", "处理", "市民", "反映", "问题", "长期", "严重", "影响", "生活"]


def topic_messages(n_per: int, topics: dict[str, list[str]] = TOPICS, seed: int = 0,
                   mix: float = 0.2) -> tuple[list[str], list[str]]:
    """``n_per`` short messages per topic (title line + body) from two topic words and four fillers; a share ``mix``
    of them also carries another topic's word, so the topics are not separable. Returns (texts, labels)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for lab, words in topics.items():
        for _ in range(n_per):
            body = list(rng.choice(words, 2)) + list(rng.choice(FILLER, 4))
            if rng.random() < mix:
                body.append(str(rng.choice([w for k, v in topics.items() if k != lab for w in v])))
            rng.shuffle(body)
            texts.append(f"关于{body[0]}的问题\n" + "，".join(map(str, body)) + "。")
            labels.append(lab)
    return texts, labels


def assert_round_trips(fitted, held_out, folder) -> None:
    """``fitted`` predicts ``held_out`` bit-identically after skops (govml/sklearn/numpy/scipy types
    only), pickle, and govml's model folder (``folder``)."""
    import pickle

    import numpy as np
    import skops.io as sio

    from govml.cli.demands import _save_model_dir, load_model_dir

    want = fitted.predict_proba(held_out)
    data = sio.dumps(fitted)
    types = sio.get_untrusted_types(data=data)
    assert all(t.split(".", 1)[0] in ("govml", "sklearn", "numpy", "scipy") for t in types), types
    for copy in (sio.loads(data, trusted=types), pickle.loads(pickle.dumps(fitted))):
        assert np.array_equal(copy.predict_proba(held_out), want)
    _save_model_dir(fitted, {"labels": list(fitted.classes_)}, folder)
    loaded, _ = load_model_dir(folder)
    assert np.array_equal(loaded.predict_proba(held_out), want)


def weekly_messages(counts, seed: int = 0, start: str = "2023-01-02"):
    """Messages with the given count per group and week (times spread within the week), no category column
    (the alerts tests of the totals)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    first = pd.Timestamp(start)
    g, t = [], []
    for name, per_week in counts.items():
        for w, k in enumerate(per_week):
            g += [name] * int(k)
            t += list(first + pd.to_timedelta(7 * w + rng.uniform(0, 7, size=int(k)), unit="D"))
    return pd.DataFrame({"community": g, "created_at": t})


def tokenize_in_daemon(msgs):
    """Tokenize in two worker processes from inside a (daemonic) pool worker: (is it a daemon, tokens)."""
    import multiprocessing as mp

    from govml.text.tokenize import GovTokenizer

    return mp.current_process().daemon, GovTokenizer().tokenize_many(msgs, n_jobs=2, chunk_size=50)
