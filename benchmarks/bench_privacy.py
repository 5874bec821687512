"""Personal-data masking: throughput of govml.privacy.mask and precision/recall per kind.

    .venv/bin/python benchmarks/bench_privacy.py [--scale 25] [--repeat 3]

1. Throughput of ``mask`` over ~220,000 generated messages (``govml.samples.messages`` at scale 25),
   in characters per second of CPU time (``time.process_time``, best of ``--repeat``: the shared
   development machine is busy, and CPU time is what one core gives) and of wall time; ``mask_series``
   on the same texts as an Arrow-backed pandas Series.
2. The same on the real message-board texts of ../shared/data/teddycup2020c (title + body; longer,
   and nearly every one holds digits), when present; counts of what is found per kind.
3. Precision and recall per kind on the planted cases of tests/data_layer/privacy_cases.py (personal
   names: NAME_CASES, NAME_TITLE_CASES and NAME_VERB_CASES in the first round, NAME_HARD_CASES,
   NAME_TITLE_HARD_CASES and NAME_VERB_HARD_CASES in the second), and for names alone by the round
   they were written in (also the held-out rounds 6, 7, 8, 9 and 10: NAME_ROLE_CASES, NAME_ROUND7_CASES,
   NAME_ROUND8_CASES, NAME_ROUND9_CASES, NAME_ROUND10_CASES).
4. Precision and recall on the personal data planted in the generated sample (scale 1; it plants no
   names, so a NAME found there would be a false positive and show as a row).

Prints Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "data_layer"))

import pandas as pd  # noqa: E402

from govml import privacy  # noqa: E402
from govml.samples import messages  # noqa: E402

REAL = ROOT.parent / "shared" / "data" / "teddycup2020c" / "hotspot_messages_full_附件3.csv"


def throughput(texts: list[str], repeat: int) -> tuple[float, float]:
    """(CPU chars/s, wall chars/s), best of ``repeat``."""
    n = sum(map(len, texts))
    mask = privacy.mask
    best_cpu = best_wall = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        for t in texts:
            mask(t)
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - t0)
    return n / best_cpu, n / best_wall


def score(pairs: list[tuple[set, set]]) -> pd.DataFrame:
    """Per-kind precision/recall from (expected, found) sets of (kind, ...) tuples."""
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    for want, got in pairs:
        for x in got & want:
            tp[x[0]] += 1
        for x in got - want:
            fp[x[0]] += 1
        for x in want - got:
            fn[x[0]] += 1
    rows = []
    for k in privacy.KINDS:
        if tp[k] + fn[k] + fp[k] == 0:
            continue
        rows.append(
            {
                "kind": k,
                "planted": tp[k] + fn[k],
                "found": tp[k] + fp[k],
                "precision": tp[k] / max(1, tp[k] + fp[k]),
                "recall": tp[k] / max(1, tp[k] + fn[k]),
            }
        )
    return pd.DataFrame(rows)


def md(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for r in df.itertuples(index=False):
        lines.append("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in r) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=int, default=25)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    if getattr(privacy, "_WORDS", 0) is None:  # the word list of the name rules, read on first use
        c0 = time.process_time()
        privacy._dictionary()
        print(f"jieba's word list for the name rules read in {time.process_time() - c0:.2f} s CPU (once a process)")
    t0 = time.perf_counter()
    sample = messages.build(scale=args.scale, seed=0)
    texts = sample.messages["text"].tolist()
    print(
        f"generated {len(texts):,} messages (scale {args.scale}) in {time.perf_counter() - t0:.1f} s; "
        f"{sum(map(len, texts)) / len(texts):.1f} characters on average"
    )
    cpu, wall = throughput(texts, args.repeat)
    series = pd.Series(texts, dtype="str")
    c0 = time.process_time()
    privacy.mask_series(series)
    series_cpu = sum(map(len, texts)) / (time.process_time() - c0)
    print("\n### Throughput\n")
    print(
        "| texts | messages | mean length | mask, CPU chars/s | mask, wall chars/s | mask_series, CPU chars/s |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    print(
        f"| generated (scale {args.scale}) | {len(texts):,} | {sum(map(len, texts)) / len(texts):.0f} | "
        f"{cpu / 1e6:.1f} M | {wall / 1e6:.1f} M | {series_cpu / 1e6:.1f} M |"
    )
    if REAL.exists():
        real = pd.read_csv(REAL)
        rtexts = (real["留言主题"].astype(str) + " " + real["留言详情"].astype(str)).tolist()
        rcpu, rwall = throughput(rtexts, args.repeat)
        print(
            f"| teddycup2020c 附件3 (real) | {len(rtexts):,} | {sum(map(len, rtexts)) / len(rtexts):.0f} | "
            f"{rcpu / 1e6:.1f} M | {rwall / 1e6:.1f} M | |"
        )
        found = Counter(m.kind for t in rtexts for m in privacy.find(t))
        print(
            "\nFound in the real texts (already anonymised by the publisher: phone numbers there are "
            "written 0000-00000000): " + ", ".join(f"{k} {v}" for k, v in sorted(found.items()))
        )
    else:
        print(f"(real texts not found at {REAL}: skipped)")

    import privacy_cases as pc

    for label, pos, neg in (
        ("first round", pc.POSITIVE_CASES, pc.NEGATIVE_CASES),
        ("second round, harder", pc.HARD_POSITIVE_CASES, pc.HARD_NEGATIVE_CASES),
    ):
        pairs = []
        for case in pos + neg:
            text, expected = pc.parse(case)
            pairs.append((set(expected), {(m.kind, m.start, m.end) for m in privacy.find(text)}))
        print(
            f"\n### Planted cases, {label} ({len(pos)} sentences with personal data, {len(neg)} look-alikes)\n"
        )
        print(md(score(pairs)))

    print("\n### Personal names by planted round (NAME only; the rounds above include them)\n")
    print("| round | sentences with names | look-alikes | planted | found | precision | recall |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, pos, neg in (
        ("session 11, first (NAME_CASES)", pc.NAME_CASES, pc.NAME_NEGATIVE_CASES),
        ("session 11, second (NAME_HARD_CASES)", pc.NAME_HARD_CASES, pc.NAME_HARD_NEGATIVE_CASES),
        ("session 12, first: titles before names, lists (NAME_TITLE_CASES)", pc.NAME_TITLE_CASES,
         pc.NAME_TITLE_NEGATIVE_CASES),
        ("session 12, second (NAME_TITLE_HARD_CASES)", pc.NAME_TITLE_HARD_CASES, pc.NAME_TITLE_HARD_NEGATIVE_CASES),
        ("session 13, first: a word right after the name, names again (NAME_VERB_CASES)",
         getattr(pc, "NAME_VERB_CASES", []), getattr(pc, "NAME_VERB_NEGATIVE_CASES", [])),
        ("session 13, second (NAME_VERB_HARD_CASES)", getattr(pc, "NAME_VERB_HARD_CASES", []),
         getattr(pc, "NAME_VERB_HARD_NEGATIVE_CASES", [])),
        ("session 15, round 6: role words, dictionary words as names, 于 (NAME_ROLE_CASES)",
         getattr(pc, "NAME_ROLE_CASES", []), getattr(pc, "NAME_ROLE_NEGATIVE_CASES", [])),
        ("session 16, round 7: more roles, case-text cues, given-name characters (NAME_ROUND7_CASES)",
         getattr(pc, "NAME_ROUND7_CASES", []), getattr(pc, "NAME_ROUND7_NEGATIVE_CASES", [])),
        ("session 17, round 8: places and words as names after a role, cue into a place, names again (NAME_ROUND8_CASES)",
         getattr(pc, "NAME_ROUND8_CASES", []), getattr(pc, "NAME_ROUND8_NEGATIVE_CASES", [])),
        ("session 18, round 9: kinship + 是, function characters in given names, lists after 本组 (NAME_ROUND9_CASES)",
         getattr(pc, "NAME_ROUND9_CASES", []), getattr(pc, "NAME_ROUND9_NEGATIVE_CASES", [])),
        ("session 19, round 10: 联系人/负责人：, 同志/师傅/小周/老李, 张 三, X，男，, 我就是/去找, minority names (NAME_ROUND10_CASES)",
         getattr(pc, "NAME_ROUND10_CASES", []), getattr(pc, "NAME_ROUND10_NEGATIVE_CASES", [])),
    ):
        if not pos:
            continue
        pairs = []
        for case in pos + neg:
            text, expected = pc.parse(case)
            pairs.append(({x for x in expected if x[0] == "NAME"},
                          {(m.kind, m.start, m.end) for m in privacy.find(text) if m.kind == "NAME"}))
        r = score(pairs).iloc[0]
        print(f"| {label} | {len(pos)} | {len(neg)} | {r.planted} | {r.found} | {r.precision:.3f} | {r.recall:.3f} |")

    small = messages.build(scale=1, seed=0)
    planted: dict[str, set] = {}
    for mid, kind, value in small.pii:
        planted.setdefault(mid, set()).add((kind, value))
    pairs = [
        (planted.get(mid, set()), {(m.kind, m.value) for m in privacy.find(t)})
        for mid, t in zip(small.messages["id"], small.messages["text"], strict=True)
    ]
    print(f"\n### Generated sample (data_samples/messages.csv: {len(small.messages):,} messages)\n")
    print(md(score(pairs)))


if __name__ == "__main__":
    main()
