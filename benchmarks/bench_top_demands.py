"""Top demands at scale (issue 3, item 2): 1,000,000 messages, 3,655 communities × 12 months.

    .venv/bin/python benchmarks/bench_top_demands.py [--n 1000000] [--groups 3655] [--months 12] [--min-count auto|N]

Tokens are given (tokenizing is benchmarked separately in bench_tokenizer.py and is excluded here):
each message gets 8–40 tokens drawn from a Zipf-like vocabulary of 60,000 terms (governance
dictionary terms first), with recurring 2–3-token phrases, so that phrases=True has real work to do.
The messages' text (for the masked examples) is the joined tokens. Times
``top_demands(df, by="community", period="M", top=20, phrases=True, tokens=tokens)`` end to end
(counting, log-odds, examples including masking) and prints the figures as JSON, with the CPU
seconds of the call (single-threaded, so wall time on an idle 2-core machine), the load average and
the peak resident memory of the whole script (corpus generation included: about 1.4 GB of it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import numpy as np
import pandas as pd


def make_corpus(n: int, groups: int, months: int, seed: int = 0) -> tuple[pd.DataFrame, list[list[str]]]:
    from govml.text.tokenize import governance_dictionary

    rng = np.random.default_rng(seed)
    gov = [w for w, _, _ in governance_dictionary()]
    syll = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    extra = {a + b for a, b in zip(rng.choice(syll, 80_000), rng.choice(syll, 80_000), strict=True)}
    vocab = np.array(gov + sorted(extra - set(gov))[: 60_000 - len(gov)], dtype=object)
    p = 1.0 / np.arange(1, len(vocab) + 1) ** 1.05
    p /= p.sum()
    lengths = rng.integers(8, 41, n)
    flat = rng.choice(len(vocab), size=int(lengths.sum()), p=p)
    # plant recurring phrases: copy a frequent pair into 20% of the messages
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    some = rng.random(n) < 0.2
    flat[starts[some]] = rng.integers(0, 40, some.sum())
    flat[starts[some] + 1] = flat[starts[some]] + 1
    words = vocab[flat]
    tokens = np.split(words, np.cumsum(lengths)[:-1])
    tokens = [t.tolist() for t in tokens]
    community = rng.integers(0, groups, n)
    day = rng.integers(0, months * 30, n)
    df = pd.DataFrame({
        "id": np.arange(n),
        "community": pd.Series([f"C{c:04d}" for c in community], dtype="str"),
        "created_at": pd.Timestamp("2025-01-01") + pd.to_timedelta(day, unit="D"),
        "text": pd.Series(["，".join(t[:12]) for t in tokens], dtype="str"),
    })
    return df, tokens


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--groups", type=int, default=3655)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--min-count", default="auto", help="top_demands' min_count: auto (the default) or N")
    args = ap.parse_args()
    min_count = args.min_count if args.min_count == "auto" else int(args.min_count)

    from govml.text.demands import top_demands

    t0 = time.perf_counter()
    df, tokens = make_corpus(args.n, args.groups, args.months)
    gen_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    out = top_demands(df, by="community", period="M", top=args.top, phrases=True, tokens=tokens, min_count=min_count)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({
        "messages": args.n, "min_count": min_count, "groups": int(df["community"].nunique()),
        "group_periods": int(out.groupby(["group", "period_start"]).ngroups),
        "tokens": int(sum(map(len, tokens))), "rows_out": len(out),
        "seconds_generate": round(gen_s, 1), "seconds_top_demands": round(dt, 1),
        "cpu_seconds_top_demands": round(cpu, 1), "load_average_1min": round(os.getloadavg()[0], 1),
        "peak_rss_gb_whole_script": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "tokenization_included": False,
    }, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
