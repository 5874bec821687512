"""Masking CPU of two govml copies, alternated in one process, and where the time goes.

    .venv/bin/python benchmarks/bench_privacy_ab.py --before /tmp/before/src [--n 200000] [--rounds 7] [--sets generated,real]
    .venv/bin/python benchmarks/bench_privacy_ab.py --parts [--n 200000]
    .venv/bin/python benchmarks/bench_privacy_ab.py --first-use [--before /tmp/before/src] [--runs 5]

``--before``: the ``src`` folder of another copy (``git archive <commit> src | tar -x -C /tmp/before``). Its
``govml/privacy.py`` is loaded as a second module beside the one this interpreter imports, and both run
``mask_joined`` (what ``GovTokenizer.tokenize_many`` calls: ~300,000-character batches joined with the tokenizer's
separator, ``replacement=" "``) over the same batches, the order of the two versions alternating round by round.
Each batch keeps its minimum CPU time (``time.process_time``) over the rounds; the sums are printed with the change
and whether the outputs are equal. In-process alternation with minima is much less disturbed by other jobs than
two separate benchmark runs (session 20: load 2–5, repeat runs within ±2 %).

``--parts``: the CPU seconds of each step of ``mask_joined`` for the code imported (mean of 3 passes): the gate
scan, the cue scans, the sub-texts and normalisation, the number / name candidates, choosing and replacing.

``--first-use``: what a fresh process pays before its first masked text (session 21), each copy in ``--runs``
fresh processes (alternated; medians): the CPU seconds of ``import govml.privacy``, of compiling the two name-gate
patterns (``_NAME_GATE``, ``_GATE_ALL``) and of the first ``mask()`` of a message with a name (after the compiles:
jieba's word list is read there).

Text sets (benchmarks/check_privacy_identity.py): ``generated`` (``--n`` messages of bench_tokenizer's generator,
seed 0) and ``real`` (the 17,100 text cells of ../shared/data/teddycup2020c 附件3/附件4, when present).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_privacy_identity import SEP, batches, text_sets  # noqa: E402

import govml.privacy as after  # noqa: E402


def load_before(src: str):
    spec = importlib.util.spec_from_file_location("privacy_before", Path(src) / "govml" / "privacy.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["privacy_before"] = module
    spec.loader.exec_module(module)
    return module


def alternate(before, texts: list[str], rounds: int) -> tuple[float, float, bool]:
    bs = batches(texts)
    best = {"before": [float("inf")] * len(bs), "after": [float("inf")] * len(bs)}
    for r in range(rounds):
        order = (("before", before), ("after", after))
        for label, module in order if r % 2 == 0 else order[::-1]:
            for i, b in enumerate(bs):
                c = time.process_time()
                module.mask_joined(b, SEP, replacement=" ")
                best[label][i] = min(best[label][i], time.process_time() - c)
    same = all(after.mask_joined(b, SEP, replacement=" ") == before.mask_joined(b, SEP, replacement=" ") for b in bs)
    return sum(best["before"]), sum(best["after"]), same


def parts(texts: list[str], passes: int = 3) -> dict[str, float]:
    from govml.privacy import (
        _GATE_ALL,
        _choose,
        _find_cue_hits,
        _gate_bounds,
        _name_candidates,
        _normalise,
        _number_candidates,
        _replace,
        _starts,
    )

    spent: dict[str, float] = {}

    def tick(key: str, c: float) -> float:
        now = time.process_time()
        spent[key] = spent.get(key, 0.0) + now - c
        return now

    for _ in range(passes):
        for text in batches(texts):
            c = time.process_time()
            bounds = _gate_bounds(text, SEP, _GATE_ALL.search)
            c = tick("gate scan", c)
            hits = _find_cue_hits(text)
            c = tick("cue scans", c)
            if hits:
                n = len(text)
                more = {(text.rfind(SEP, 0, i) + 1, b if (b := text.find(SEP, i)) >= 0 else n) for i in hits}
                bounds = sorted(more.union(bounds))
            pieces = [text[a:b] for a, b in bounds]
            sub = SEP.join(pieces)
            norm = _normalise(sub)
            c = tick("sub-texts and normalise", c)
            starts = _starts(pieces)
            numbers = _number_candidates(norm, starts)
            c = tick("number, door and plate candidates", c)
            names = _name_candidates(norm, starts)
            c = tick("name candidates", c)
            _replace(sub, _choose(norm, numbers + names), None, " ")
            tick("choose and replace", c)
    return {k: v / passes for k, v in spent.items()}


_FIRST_USE = """
import time
c = time.process_time()
import govml.privacy as p
a = time.process_time()
p._NAME_GATE.compiled()
b = time.process_time()
p._GATE_ALL.compiled()
g = time.process_time()
p.mask("业主张伟反映：楼下噪音扰民，电话13812345678。")
print(a - c, b - a, g - b, time.process_time() - g)
"""


def first_use(before: str | None, runs: int) -> None:
    """Fresh processes, alternated: import, the two gate compiles, the first mask, for this copy and ``before``."""
    copies = {"after": str(Path(after.__file__).resolve().parents[1])}
    if before:
        copies = {"before": before, **copies}
    got: dict[str, list[list[float]]] = {k: [] for k in copies}
    for _ in range(runs):
        for label, src in copies.items():
            env = {**os.environ, "PYTHONPATH": src}
            out = subprocess.run([sys.executable, "-c", _FIRST_USE], env=env, capture_output=True, text=True, check=True)
            got[label].append([float(v) for v in out.stdout.split()])
    for label, rows in got.items():
        med = [statistics.median(col) for col in zip(*rows, strict=True)]
        print(f"{label:6s} ({copies[label]}): CPU s, median of {runs} fresh processes: import {med[0]:.3f}, "
              f"_NAME_GATE {med[1]:.3f}, _GATE_ALL {med[2]:.3f} (both {med[1] + med[2]:.3f}), first mask {med[3]:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", help="src folder of the other copy")
    ap.add_argument("--parts", action="store_true", help="CPU per step of mask_joined for this copy")
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--sets", default="generated,real")
    ap.add_argument("--first-use", action="store_true", help="fresh-process cost before the first masked text")
    ap.add_argument("--runs", type=int, default=5, help="fresh processes per copy for --first-use")
    args = ap.parse_args()
    if args.first_use:
        first_use(args.before, args.runs)
        return
    if not args.before and not args.parts:
        ap.error("give --before SRC and/or --parts")
    sets = text_sets(args.n)
    after._compile_gates()
    if args.parts:
        spent = parts(sets["generated"])
        for key, value in spent.items():
            print(f"{key:36s} {value:.3f}")
        print(f"{'total':36s} {sum(spent.values()):.3f}")
    if args.before:
        before = load_before(args.before)
        before._compile_gates()
        for name in args.sets.split(","):
            if name not in sets:
                print(f"{name}: not available (development data absent)")
                continue
            tb, ta, same = alternate(before, sets[name], args.rounds)
            print(f"{name}: {len(sets[name])} texts; mask_joined CPU s (sum of per-batch minima of {args.rounds}): "
                  f"before {tb:.3f} after {ta:.3f} ({(ta - tb) / tb * 100:+.1f} %), same output: {same}")


if __name__ == "__main__":
    main()
