"""Tokenizer throughput and segmentation identity (issue 3, item 1).

    .venv/bin/python benchmarks/bench_tokenizer.py [--n 200000] [--baseline-n 20000] [--jobs 2] [--repeat 3]

Messages: the ``messages`` generator of ``govml.samples`` at ``--scale`` when it is registered (about
8,000 messages per scale unit), else this script's own generator (message-board sentences with
phone numbers, place codes, dates and governance topics; 40–400 characters).

Measures, in characters per second:
  * baseline — a plain ``jieba.lcut`` loop over the raw texts (default dictionary), on the first
    ``--baseline-n`` messages (it is slow; characters/s does not depend on the count), ``--repeat``
    times (best and median; speed-ups compare best with best and median with median);
  * govml — ``GovTokenizer().tokenize_many(texts, n_jobs=--jobs)`` on all messages: NFKC,
    traditional folding, personal-data masking, segmentation (rjieba), stop words, synonyms, in
    forked processes (start-up included); ``--repeat`` runs, best and median reported, with the CPU
    time of this process and its children;
  * the same single-process (wall and CPU time), and masking alone (``govml.privacy.mask`` one text
    at a time, and ``govml.privacy.mask_many``) single-process.
Identity: ``GovTokenizer(backend="rjieba").segment(t) == GovTokenizer(backend="jieba").segment(t)``
for every message (the jieba side runs in ``--jobs`` processes), parallel == serial tokens, and the
batch path of ``tokenize_many`` == ``tok(t)`` one message at a time (the reference path) for every
message, for the default tokenizer and for ``mark_breaks=True``. Wall-clock figures depend on what
else runs: the load average at start and end is printed, and the figures are also given in CPU
time (``*_cpu_*``); ``speedup_2core_cpu_bound`` is what ``--jobs`` processes would reach if the
CPU time of the parallel run were spread evenly over the cores (an upper bound, for a busy machine);
``others_cpu_and_steal_seconds_during_parallel`` (Linux) says how much CPU other jobs used, and the
hypervisor stole, during each parallel timing: a 2-process wall-clock figure is only clean where both
are near 0. ``--profile`` adds the CPU seconds of one single-process run by function
(``profile_1proc_cpu_seconds``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

TOPICS = ["加装电梯", "飞线充电", "老旧小区改造", "消防通道被占用", "车位捆绑销售", "夜间施工噪声扰民", "适老化改造",
          "物业费上涨", "垃圾分类", "占道经营", "停车位不够", "电梯加装补贴", "广场舞噪音", "油烟直排", "学位不足",
          "医保报销", "拖欠农民工工资", "公交线路调整", "道路积水", "路灯不亮", "违章建筑", "群租房", "养老服务",
          "不动产证办不下来", "拆迁补偿", "供暖不热", "自来水停水", "渣土车扬尘", "幼儿园收费", "社保断缴"]
PLACES = ["A市A{d}区", "A{d}区", "K{d}县", "B市", "A市"]
ESTATES = ["幸福家园", "和平里小区", "阳光花园", "金色华庭", "东湖社区", "白沙新村", "梅溪湖壹号", "望城春天"]
FILLER = ["您好！", "尊敬的领导：", "请问", "领导好，", "我要反映一个问题：", "本人是业主，"]
DETAIL = ["{p}{e}的{t}问题已经持续{n}个月了，", "{e}{n}栋楼下{t}，严重影响居民生活。", "从{y}年{m}月开始，{t}一直没人管，",
          "多次拨打12345和物业电话{ph}都没有结果，", "邻居们都很有意见，{t}怎么处理？", "物业说要等街道审批，已经等了{n}天，",
          "交了{n}00元押金还是没有解决{t}，", "聯繫電話{ph}，請儘快處理{t}。", "这个问题涉及{n}户居民😀，", "身份证号{idc}，"]
CLOSE = ["希望尽快处理，谢谢！", "麻烦领导重视。", "盼复。", "请尽快解决！！", "联系电话{ph}。", ""]


def _id18(rng: random.Random) -> str:
    first = f"{rng.choice(['110105', '430104', '310101'])}19{rng.randint(50, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(100, 999)}"
    w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return first + "10X98765432"[sum(int(a) * b for a, b in zip(first, w, strict=True)) % 11]


def synthetic_messages(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        t = rng.choice(TOPICS)
        parts = [rng.choice(FILLER)]
        for _ in range(rng.randint(1, 8)):
            parts.append(rng.choice(DETAIL).format(
                p=rng.choice(PLACES).format(d=rng.randint(1, 9)), e=rng.choice(ESTATES), t=rng.choice([t, rng.choice(TOPICS)]),
                n=rng.randint(2, 30), y=rng.randint(2015, 2020), m=rng.randint(1, 12),
                ph=f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}", idc=_id18(rng)))
        parts.append(rng.choice(CLOSE).format(ph=f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}"))
        out.append("".join(parts))
    return out


def load_messages(n: int, seed: int) -> tuple[list[str], str]:
    try:
        from govml.samples import GENERATORS, get

        if "messages" in GENERATORS:
            import pandas as pd

            with tempfile.TemporaryDirectory() as d:
                scale = 25
                paths = get("messages")(Path(d), scale=scale, seed=seed)
                csv = next(p for p in paths if Path(p).name.startswith("messages"))
                texts = pd.read_csv(csv)["text"].dropna().astype(str).tolist()
            if len(texts) >= n:
                return texts[:n], f"govml.samples messages --scale {scale}"
            return texts + synthetic_messages(n - len(texts), seed), f"govml.samples messages --scale {scale} + synthetic"
    except Exception as exc:  # noqa: BLE001 - fall back to the script's own generator
        print(f"(govml.samples messages unavailable: {exc}; using synthetic messages)", file=sys.stderr)
    return synthetic_messages(n, seed), "synthetic (bench_tokenizer.synthetic_messages)"


def _machine_busy() -> tuple[float, float] | None:
    """(CPU seconds all processes on the machine have run, CPU seconds stolen by the hypervisor) so
    far, from /proc/stat (Linux); None elsewhere. The difference over a timing, minus this script's
    own CPU time, is what other jobs used meanwhile."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / tick, v[7] / tick


def _ref_segment(chunk: list[str]) -> list[list[str]]:
    from govml.text.tokenize import GovTokenizer

    tok = GovTokenizer(backend="jieba")
    return [tok.segment(t) for t in chunk]


def profile_one_run(tok, texts: list[str]) -> dict[str, float]:
    """CPU seconds of one single-process ``tokenize_many`` by step. Each step is one call per batch
    (timed by a wrapper put in place for this run only, so the timing adds almost nothing):
    ``cut`` rjieba's segmenter, ``mask_joined`` masking, ``_fast_fold`` full-width/traditional
    folding, ``_split_list`` cutting the batch's terms into messages, ``_ascii_split`` the ``. _ -``
    replacement; ``rest of _encode_batch`` is joining, the NFKC and whitespace checks, the
    place-code scan and the token mapping (``map``/``filter``/``list`` over every token)."""
    import govml.privacy as privacy_module
    import govml.text.tokenize as tokenize_module

    spent: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*a, **k):
            c = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[name] = spent.get(name, 0.0) + time.process_time() - c
        return wrapper

    eng = tok._engine()
    saved = [(privacy_module, "mask_joined"), (eng, "cut")] + [
        (tokenize_module, n) for n in ("_fast_fold", "_split_list", "_ascii_split")]
    originals = [getattr(obj, name) for obj, name in saved]
    for (obj, name), fn in zip(saved, originals, strict=True):
        setattr(obj, name, timed(name, fn))
    try:
        c0 = time.process_time()
        tok.tokenize_many(texts)
        total = time.process_time() - c0
    finally:
        for (obj, name), fn in zip(saved, originals, strict=True):
            setattr(obj, name, fn)
    out = {"total": round(total, 3)}
    out.update({k: round(v, 3) for k, v in spent.items()})
    out["rest of _encode_batch"] = round(total - sum(spent.values()), 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--baseline-n", type=int, default=20_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-identity", action="store_true")
    ap.add_argument("--profile", action="store_true",
                    help="also profile one single-process run (CPU seconds per function, cProfile)")
    args = ap.parse_args()

    from govml.privacy import mask, mask_many
    from govml.text.tokenize import GovTokenizer

    texts, source = load_messages(args.n, args.seed)
    nchars = sum(map(len, texts))
    res: dict[str, object] = {"messages": len(texts), "characters": nchars, "source": source,
                              "cores": os.cpu_count(), "jobs": args.jobs,
                              "load_average_1min_start": round(os.getloadavg()[0], 1)}

    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    base = texts[: args.baseline_n]
    base_chars = sum(map(len, base))
    walls, cpus = [], []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        for t in base:
            jieba.lcut(t)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    res["baseline_jieba_lcut_chars_per_s"] = round(base_chars / min(walls))
    res["baseline_jieba_lcut_median_chars_per_s"] = round(base_chars / statistics.median(walls))
    res["baseline_jieba_lcut_cpu_chars_per_s"] = round(base_chars / min(cpus))

    mask_texts = texts[: args.baseline_n * 5]
    mask_chars = sum(map(len, mask_texts))
    t0 = time.perf_counter()
    for t in mask_texts:
        mask(t)
    res["mask_only_chars_per_s"] = round(mask_chars / (time.perf_counter() - t0))
    t0 = time.perf_counter()
    mask_many(mask_texts)
    res["mask_many_chars_per_s"] = round(mask_chars / (time.perf_counter() - t0))

    tok = GovTokenizer()
    tok("预热")  # dictionary load is a one-off (≈0.3 s), not throughput
    walls, cpus = [], []
    serial: list[list[str]] = []
    for _ in range(args.repeat):
        del serial  # not freed inside the timing
        t0, c0 = time.perf_counter(), time.process_time()
        serial = tok.tokenize_many(texts)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    res["govml_1proc_chars_per_s"] = round(nchars / min(walls))
    res["govml_1proc_median_chars_per_s"] = round(nchars / statistics.median(walls))
    res["govml_1proc_cpu_chars_per_s"] = round(nchars / min(cpus))

    if args.profile:
        res["profile_1proc_cpu_seconds"] = profile_one_run(tok, texts)

    walls, cpus, others = [], [], []
    parallel: list[list[str]] = []
    for _ in range(args.repeat):
        del parallel
        c0, k0 = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
        m0 = _machine_busy()
        t0 = time.perf_counter()
        parallel = tok.tokenize_many(texts, n_jobs=args.jobs)
        walls.append(time.perf_counter() - t0)
        m1 = _machine_busy()
        while multiprocessing.active_children():  # the workers are reaped in the background
            time.sleep(0.001)
        k1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(time.process_time() - c0 + (k1.ru_utime - k0.ru_utime) + (k1.ru_stime - k0.ru_stime))
        if m0 is not None and m1 is not None:
            others.append((round(m1[0] - m0[0] - cpus[-1], 2), round(m1[1] - m0[1], 2)))
    base = res["baseline_jieba_lcut_chars_per_s"]
    res["govml_parallel_chars_per_s"] = round(nchars / min(walls))
    res["govml_parallel_median_chars_per_s"] = round(nchars / statistics.median(walls))
    res["govml_parallel_seconds"] = [round(w, 3) for w in walls]
    res["govml_parallel_cpu_seconds"] = [round(c, 3) for c in cpus]
    if others:  # CPU seconds other jobs ran (and the hypervisor stole) during each parallel timing
        res["others_cpu_and_steal_seconds_during_parallel"] = others
    res["parallel_equals_serial"] = parallel == serial
    res["speedup_vs_jieba_lcut"] = round(res["govml_parallel_chars_per_s"] / base, 1)
    res["speedup_median_vs_jieba_lcut"] = round(
        res["govml_parallel_median_chars_per_s"] / res["baseline_jieba_lcut_median_chars_per_s"], 1)
    res["speedup_1proc_vs_jieba_lcut"] = round(res["govml_1proc_chars_per_s"] / base, 1)
    res["speedup_1proc_cpu_vs_jieba_lcut_cpu"] = round(
        res["govml_1proc_cpu_chars_per_s"] / res["baseline_jieba_lcut_cpu_chars_per_s"], 1)
    res["speedup_2core_cpu_bound"] = round(
        nchars / (min(cpus) / min(args.jobs, os.cpu_count() or 1)) / res["baseline_jieba_lcut_cpu_chars_per_s"], 1)
    res["load_average_1min_after_timing"] = round(os.getloadavg()[0], 1)

    if not args.no_identity:
        one_by_one = [tok(t) for t in texts]  # the reference path, message by message
        same = sum(a == b for a, b in zip(serial, one_by_one, strict=True))
        res["batch_equals_one_by_one"] = f"{same}/{len(texts)}"
        del one_by_one
        brk = GovTokenizer(mark_breaks=True)
        batch = brk.tokenize_many(texts, n_jobs=args.jobs)
        same = sum(a == brk(t) for a, t in zip(batch, texts, strict=True))
        res["batch_equals_one_by_one_mark_breaks"] = f"{same}/{len(texts)}"
        del batch
        fast = GovTokenizer(backend="rjieba")
        t0 = time.perf_counter()
        fast_seg = [fast.segment(t) for t in texts]
        chunks = [texts[i:i + 5000] for i in range(0, len(texts), 5000)]
        ref_seg: list[list[str]] = []
        with ProcessPoolExecutor(max_workers=args.jobs) as ex:
            for r in ex.map(_ref_segment, chunks):
                ref_seg.extend(r)
        same = sum(a == b for a, b in zip(fast_seg, ref_seg, strict=True))
        res["identical_segmentation"] = f"{same}/{len(texts)}"
        res["identity_check_seconds"] = round(time.perf_counter() - t0, 1)

    res["load_average_1min_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(res, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
