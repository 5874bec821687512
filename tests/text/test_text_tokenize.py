"""GovTokenizer: governance terms, stop words, synonyms, personal data, pickling, sklearn, backends."""

from __future__ import annotations

import copy
import pickle
import random
import re

import numpy as np
import pandas as pd
import pytest

from govml.text.tokenize import GovTokenizer, governance_dictionary, places, stop_words, synonyms
from text_vocab import tokenize_in_daemon

TOPICS = ["加装电梯", "飞线充电", "老旧小区改造", "消防通道", "车位捆绑", "噪声扰民", "适老化改造", "物业费",
          "垃圾分类", "占道经营", "停车位", "电梯加装", "广场舞", "油烟扰民", "学位", "医保报销", "拖欠工资"]
OPEN = ["您好，", "尊敬的领导：", "请问", "", "领导好！", "我要反映一个问题，"]
BODY = ["我是A市A{d}区{c}小区的居民，", "{c}社区", "K{d}县{c}镇", "本人住在A市{c}花园，"]
MID = ["小区{t}问题一直没有解决，", "{t}的事情拖了很久，", "关于{t}，大家意见很大，", "{t}太严重了！！", "咨询{t}政策。"]
CLOSE = ["希望尽快处理，谢谢！", "麻烦领导重视。", "请尽快解决😀", "联系电话13912345678。", "2019年3月5日反映。", ""]
COMMUNITIES = ["幸福", "和平", "阳光", "金色", "东湖", "白沙", "梅溪湖", "望城"]


def make_messages(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        t = rng.choice(TOPICS)
        c = rng.choice(COMMUNITIES)
        d = rng.randint(1, 9)
        out.append(rng.choice(OPEN) + rng.choice(BODY).format(d=d, c=c) + rng.choice(MID).format(t=t)
                   + rng.choice(MID).format(t=rng.choice(TOPICS)) + rng.choice(CLOSE))
    return out


@pytest.fixture(scope="module")
def tok() -> GovTokenizer:
    return GovTokenizer()


def test_dictionary_has_300_real_terms():
    words = governance_dictionary()
    assert len(words) >= 300
    assert len({w for w, _, _ in words}) == len(words)
    assert all(f >= 500 and pos in {"n", "vn"} for _, f, pos in words)


@pytest.mark.parametrize("backend", ["rjieba", "jieba"])
def test_governance_terms_kept_whole(backend):
    tok = GovTokenizer(backend=backend)
    syn = synonyms()
    missing = []
    for w, _, _ in governance_dictionary():
        expected = syn.get(w, w)
        for sentence in (f"我们小区的{w}问题", f"关于{w}的建议"):
            if expected not in tok(sentence):
                missing.append((sentence, tok(sentence)))
    assert missing == []


def test_stop_words_and_synonyms(tok):
    toks = tok("您好，请问领导，希望尽快处理停车位和电梯加装的问题，谢谢，麻烦了")
    for filler in ["您好", "请问", "领导", "希望", "尽快", "谢谢", "麻烦"]:
        assert filler in stop_words()
        assert filler not in toks
    assert toks.count("车位") == 1 and "停车位" not in toks
    assert "加装电梯" in toks and "电梯加装" not in toks


def test_personal_data_never_a_token(tok):
    text = ("我的手机13812345678，座机0731-84567890，身份证11010519491231002X，邮箱zhang.san@example.com，"
            "车牌湘A12345，住幸福小区3栋502室，垃圾分类没人管")
    toks = tok(text)
    assert "垃圾分类" in toks
    joined = "".join(toks)
    for piece in ["138", "1234", "0731", "002x", "zhang", "example", "com", "a12345", "502", "phone", "idcard"]:
        assert piece not in joined, (piece, toks)
    assert tok("13812345678") == []


def test_numbers_dates_punctuation_single_chars_emoji_dropped(tok):
    toks = tok("2019年3月5日，3.5万元、200元，第3次反映！！！😀🙏 ～ 水 电 物业费")
    assert toks == ["物业费"]


def test_full_width_and_traditional_folded(tok):
    assert tok("ＡＢＣ小區的電梯加裝問題，請儘快處理") == tok("ABC小区的电梯加装问题，请尽快处理")
    assert "加装电梯" in tok("電梯加裝")
    assert "显著" in tok("显著提高")  # ordinary simplified characters are not touched


def test_places_dropped_or_kept():
    text = "A市A3区幸福小区和K8县白沙镇的加装电梯"
    assert places(text) == ["A市", "A3区", "K8县"]
    dropped = GovTokenizer()(text)
    assert not any(t in dropped for t in ["A市", "A3区", "a3区", "K8县", "a3", "k8"])
    kept = GovTokenizer(keep_places=True)(text)
    assert kept[:2] == ["A市", "A3区"] and "K8县" in kept and "加装电梯" in kept


def test_empty_na_and_arrow_strings(tok):
    s = pd.Series(["加装电梯", None, "", "   ", "飞线充电问题"], dtype="str")
    assert tok.tokenize_many(s) == [["加装电梯"], [], [], [], ["飞线充电"]]
    assert tok(pd.NA) == [] and tok(np.nan) == [] and tok(None) == []


def test_one_megabyte_message(tok):
    text = "小区加装电梯问题，" * 40_000
    toks = tok(text)
    assert len(text.encode("utf-8")) > 1_000_000 and toks.count("加装电梯") == 40_000


def test_picklable_deepcopy_clone(tok):
    from sklearn.base import clone

    msgs = make_messages(50)
    for other in (pickle.loads(pickle.dumps(tok)), copy.deepcopy(tok), clone(tok)):
        assert other == tok and other is not tok
        assert [other(m) for m in msgs] == [tok(m) for m in msgs]
    t2 = clone(GovTokenizer(extra_words={"楼顶违建": 3000}, extra_stop_words=["小区"]))
    assert t2.get_params()["extra_words"] == {"楼顶违建": 3000}
    assert t2("小区楼顶违建") == ["楼顶违建"]


def test_extra_synonyms_change_output():
    assert "车位" in GovTokenizer()("车位")
    assert GovTokenizer(extra_synonyms={"车位": "停车"})("车位") == ["停车"]


def test_in_pipeline_with_cross_val_predict():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline

    rng = random.Random(1)
    texts, labels = [], []
    for _ in range(120):
        lab = rng.randrange(2)
        t = rng.choice(["加装电梯", "老旧小区改造", "适老化改造"] if lab else ["噪声扰民", "油烟扰民", "广场舞"])
        texts.append(f"您好，小区的{t}问题，希望尽快处理")
        labels.append(lab)
    pipe = make_pipeline(TfidfVectorizer(tokenizer=GovTokenizer(), token_pattern=None, lowercase=False),
                         LogisticRegression())
    pred = cross_val_predict(pipe, pd.Series(texts, dtype="str").to_numpy(dtype=object), labels, cv=3, n_jobs=2)
    assert (pred == np.array(labels)).mean() > 0.95


def test_parallel_equals_serial(tok):
    msgs = make_messages(3000, seed=3) + [None, "", "加装电梯"]
    serial = tok.tokenize_many(msgs)
    done = []
    parallel = tok.tokenize_many(msgs, n_jobs=2, chunk_size=500, progress=done.append)
    assert parallel == serial
    assert done[-1] == len(msgs)


def test_rjieba_segments_like_jieba():
    msgs = make_messages(2000, seed=5)
    fast, ref = GovTokenizer(backend="rjieba"), GovTokenizer(backend="jieba")
    assert fast.resolved_backend == "rjieba" and ref.resolved_backend == "jieba"
    assert [fast.segment(m) for m in msgs] == [ref.segment(m) for m in msgs]
    assert [fast(m) for m in msgs] == [ref(m) for m in msgs]


def test_bad_backend_is_config_error():
    from govml.errors import ConfigError

    with pytest.raises(ConfigError, match="backend"):
        GovTokenizer(backend="spacy")("加装电梯")


TRICKY = [None, float("nan"), "", "   ", "\t\n", "加装电梯", "电话 138 1234  5678 ，\t邮箱 a.b-c_d@example.com",
          "车牌湘A·12345  湘 A 12346，3栋2单元501室", "身份证\n11010519491231002X 工单号13812345678",
          "A市A3区<PHONE>K8县B镇的加装电梯", "ＡＢＣ１２３　全角，聯繫電話１３８１２３４５６７８，請儘快處理",
          "①号楼㎡ ﹝飞线充电﹞", "控制字符\x01加装\x02电梯\x00飞线充电", "emoji😀😀 test_foo-bar.baz 3.5元 2019-02-28",
          "\r\n夜间施工扰民\r\n路面积水\u3000暖气不热\u00a0电梯停运", "x" * 3000 + "加装电梯" * 50]


@pytest.mark.parametrize("params", [{}, {"mark_breaks": True}, {"keep_places": True, "mark_breaks": True},
                                    {"use_stop_words": False}, {"fold_traditional": False},
                                    {"mask_pii": False, "mark_breaks": True}, {"backend": "jieba"}])
def test_batches_equal_one_by_one(params):
    tok = GovTokenizer(**params)
    msgs = TRICKY + make_messages(300, seed=7) + TRICKY[::-1]
    expected = [tok(m) for m in msgs]
    for chunk_size in (1, 7, 1000):
        assert tok.tokenize_many(msgs, chunk_size=chunk_size) == expected
    assert tok.tokenize_many(msgs[2:], chunk_size=50) == expected[2:]
    assert tok.tokenize_many([]) == []


@pytest.mark.parametrize("params", [{}, {"mark_breaks": True}])
def test_whitespace_fast_path_equals_one_by_one(params):
    """A batch whose only whitespace is single spaces inside the texts skips the whitespace step; one
    character of any other whitespace, or a space at an edge or next to another, takes it."""
    import sys

    from govml.text.tokenize import _OTHER_SPACE

    others = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace() and c not in " \u3000"]
    assert re.fullmatch(f"[{_OTHER_SPACE}]+", "".join(others)) and not re.search(f"[{_OTHER_SPACE}]", " \u3000a")
    tok = GovTokenizer(**params)
    base = [" ".join(m.replace("，", " ").split()) for m in make_messages(40, seed=29)]
    assert sum(" " in m for m in base) > 10  # single spaces inside the texts, none at their edges
    expected = [tok(m) for m in base]
    assert tok.tokenize_many(base, chunk_size=1000) == expected
    odd = [" " + base[0], base[0] + " ", base[0].replace(" ", "  "), base[0] + " \u3000", "\u3000" + base[0],
           " ", "\u3000", "①  ㎡", "身份证110105  20100101007X 加装电梯", "身份证110105\u3000\u300020100101007X"]
    # a whitespace run inside an ID number hides it from masking (20100101007x would be a token):
    # only the whitespace step makes the run one space
    odd += [f"身份证110105{c}{c}20100101007X，加装{c}电梯" for c in others]
    assert "20100101007x" not in tok(odd[-1]) and "20100101007x" in GovTokenizer(mask_pii=False)(odd[-1])
    for o in odd:
        one = tok(o)
        for pos in (0, 20, len(base)):
            msgs = base[:pos] + [o] + base[pos:]
            assert tok.tokenize_many(msgs, chunk_size=1000) == expected[:pos] + [one] + expected[pos:], repr(o)


def test_default_batches_hold_about_300k_characters():
    from govml.text.tokenize import _auto_chunk_size

    assert _auto_chunk_size(["加装电梯" * 9] * 50) == 300_000 // 36
    assert _auto_chunk_size(["加装电梯" * 9] * 1000 + ["字" * 10_000] * 2000) == 300_000 // 36  # first 1,000
    assert _auto_chunk_size(["字" * 1_000_000]) == 100
    assert _auto_chunk_size([None] * 10 + [""] * 10) == _auto_chunk_size([]) == 20_000


def test_default_batches_still_fork_for_moderate_inputs(monkeypatch):
    import govml.text.tokenize as tokenize_module

    sizes = []
    forked = tokenize_module._forked
    monkeypatch.setattr(tokenize_module, "_forked", lambda *a: sizes.append(a[3]) or forked(*a))
    tok = GovTokenizer()
    msgs = make_messages(9000, seed=31)  # two default batches, but worth two processes
    expected = tok.tokenize_many(msgs, chunk_size=2000)
    assert tok.tokenize_many(msgs) == expected and sizes == []
    assert tok.tokenize_many(msgs, n_jobs=2) == expected
    assert sizes == [tokenize_module._auto_chunk_size(msgs)] and len(msgs) <= 2 * sizes[0]


def test_alert_terms_are_single_tokens(tok):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    terms = pd.read_csv(root / "data_samples" / "truth_surges.csv")["term"].unique().tolist()
    syn = synonyms()
    for term in terms + ["路面积水", "暖气不热", "电梯停运", "夜间施工", "施工扰民"]:
        for sentence in (f"小区{term}严重", f"最近{term}，请尽快处理"):
            assert syn.get(term, term) in tok(sentence), (sentence, tok(sentence))
    assert tok("小区路面积水严重") == ["小区", "路面积水"]
    assert tok("工地夜间施工扰民") == ["工地", "夜间施工", "扰民"]


def test_batch_masking_equals_mask_one_by_one():
    from govml.privacy import PLACEHOLDERS, mask, mask_joined, mask_many

    rng = random.Random(11)
    pieces = ["13812345678", "138 1234 5678", "0731-84567890", "11010519491231002X", "工单号", "身份证",
              "湘A12345", "湘  A·12345", "3栋2单元501室", "住3-2-501", "a.b@example.com", "６２２２０２",
              "430102900101123", "6222021234567890128", "2019年3月5日", "A市A3区", "加装电梯", "，", " ", "\t",
              "1", "22", "区", "号楼", "我叫王小明", "张先生", "户主：", "李", "老师们", "，本人"]
    texts = ["", " ", "13812345678"] + ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
                                         for _ in range(3000)]
    for kinds in (None, ["PHONE", "door"]):
        expected = [mask(t, kinds) for t in texts]
        assert mask_many(texts, kinds) == expected
        assert mask_joined("\x02".join(texts), "\x02", kinds).split("\x02") == expected
    assert mask_many(["电话13812345678", "a\x00b"]) == ["电话<PHONE>", "a\x00b"]  # separator in a text
    placeholder = re.compile("|".join(map(re.escape, PLACEHOLDERS)))
    spaced = mask_joined("\x03".join(texts), "\x03", replacement=" ").split("\x03")
    assert spaced == [placeholder.sub(" ", mask(t)) for t in texts]  # no "<" in the texts
    with pytest.raises(ValueError, match="sep"):
        mask_joined("a|b", "|")


def test_jieba_is_the_fallback_without_rjieba(monkeypatch):
    import sys

    import govml.text.tokenize as tokenize_module

    msgs = make_messages(200, seed=13) + TRICKY
    fast = GovTokenizer(backend="rjieba")
    expected = [fast(m) for m in msgs]
    monkeypatch.setitem(sys.modules, "rjieba", None)  # import rjieba now raises ImportError
    monkeypatch.setattr(tokenize_module, "_ENGINES", {})
    tok = GovTokenizer()
    assert tok.resolved_backend == "jieba"
    assert [tok(m) for m in msgs] == expected
    assert tok.tokenize_many(msgs, n_jobs=2, chunk_size=40) == expected
    assert tok._engine().backend == "jieba"


@pytest.mark.parametrize("params", [{}, {"mark_breaks": True}])
def test_more_processes_than_cores_and_progress(params):
    tok = GovTokenizer(**params)
    msgs = make_messages(1200, seed=17) + TRICKY
    expected = [tok(m) for m in msgs]
    done = []
    assert tok.tokenize_many(msgs, n_jobs=3, chunk_size=100, progress=done.append) == expected
    assert done == sorted(done) and done[-1] == len(msgs)
    out = tok.tokenize_many(msgs + msgs[:5], n_jobs=2, chunk_size=100)
    assert out[-5:] == expected[:5] and out[-5] is not out[0]  # separate lists, even for repeated texts


def test_a_worker_that_dies_does_not_lose_batches(monkeypatch, caplog):
    import os

    import govml.text.tokenize as tokenize_module

    tok = GovTokenizer()
    msgs = make_messages(800, seed=19)
    expected = tok.tokenize_many(msgs)

    def dying_child(key, w, conn):  # claims a batch, then the process ends without a word
        tokenize_module._claim(tokenize_module._SHARED[key][3])
        os._exit(3)

    monkeypatch.setattr(tokenize_module, "_child", dying_child)
    with caplog.at_level("WARNING", logger="govml.text.tokenize"):
        assert tok.tokenize_many(msgs, n_jobs=2, chunk_size=50) == expected
    assert "ended early" in caplog.text


def test_tokenize_many_inside_a_daemonic_worker():
    import multiprocessing as mp

    msgs = make_messages(400, seed=23)
    with mp.get_context("spawn").Pool(1) as pool:  # Pool workers are daemons: they may not fork
        # the worker imports the function by module name: text_vocab (on pytest's pythonpath) works under
        # `pytest` as under `python -m pytest`; a function of this module needed the repository root on
        # sys.path, and a worker that cannot import it dies and leaves the pool waiting — hence the timeout
        daemon, out = pool.apply_async(tokenize_in_daemon, (msgs,)).get(timeout=300)
    assert daemon and out == GovTokenizer().tokenize_many(msgs)
