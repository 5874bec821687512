"""Same masking before and after a change to govml.privacy: every output string compared.

    .venv/bin/python benchmarks/check_privacy_identity.py --before /tmp/before/src [--n 50000]

``--before``: the ``src`` folder of another copy of govml (e.g. ``git archive HEAD src | tar -x -C /tmp/before``);
the code under test is the one this interpreter imports (``src/`` of this checkout). Each side runs in its own
process (``PYTHONPATH``) on the same texts:

  (a) every planted case of tests/data_layer/privacy_cases.py (every module-level list of strings, marks removed),
  (b) every text cell of the real message board, ../shared/data/teddycup2020c: 附件3 留言主题/留言详情 and 附件4
      留言主题/留言详情/答复意见 (17,100 cells), when present,
  (c) ``--n`` generated messages (benchmarks/bench_tokenizer.py's ``load_messages``, seed 0), made once here,

and writes, for each set: ``mask`` one text at a time, ``mask_many`` over the set, ``mask_many`` with
``kinds=("NAME", "PHONE")``, ``find`` spans, ``contains_pii`` and ``mask_joined`` with the tokenizer's separator
and ``replacement=" "`` over batches of ~300,000 characters (what ``GovTokenizer.tokenize_many`` calls). Prints
how many strings differ per set and function (all must be 0) and exits 1 when any does.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "teddycup2020c"
REAL_COLUMNS = {"hotspot_messages_full_附件3.csv": ("留言主题", "留言详情"),
                "replies_full_附件4.csv": ("留言主题", "留言详情", "答复意见")}
SEP = "\x02"  # govml.text.tokenize._MSG_SEP


def text_sets(n: int) -> dict[str, list[str]]:
    sys.path.insert(0, str(ROOT / "tests" / "data_layer"))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import privacy_cases
    from bench_tokenizer import load_messages

    planted: list[str] = []
    for name in sorted(vars(privacy_cases)):
        value = getattr(privacy_cases, name)
        if name.isupper() and isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            planted += [privacy_cases.parse(v)[0] for v in value]
    sets = {"planted": planted}
    if all((REAL / f).exists() for f in REAL_COLUMNS):
        import pandas as pd

        real: list[str] = []
        for f, cols in REAL_COLUMNS.items():
            frame = pd.read_csv(REAL / f, dtype=str, keep_default_na=False)
            for c in cols:
                real += frame[c].tolist()
        sets["real"] = real
    sets["generated"] = load_messages(n, 0)[0]
    return sets


def batches(texts: list[str], size: int = 300_000) -> list[str]:
    out, cur, k = [], [], 0
    for t in texts:
        cur.append(t)
        k += len(t)
        if k >= size:
            out.append(SEP.join(cur))
            cur, k = [], 0
    if cur:
        out.append(SEP.join(cur))
    return out


def run_side(inp: str, out: str) -> None:
    """Mask every set with the govml this interpreter imports; write the outputs to ``out``."""
    from govml import privacy

    with open(inp, "rb") as f:
        sets = pickle.load(f)
    res: dict[str, dict[str, list]] = {}
    for name, texts in sets.items():
        res[name] = {
            "mask": [privacy.mask(t) for t in texts],
            "mask_many": privacy.mask_many(texts),
            "mask_many_name_phone": privacy.mask_many(texts, kinds=("NAME", "PHONE")),
            "find": [[(m.kind, m.start, m.end) for m in privacy.find(t)] for t in texts],
            "contains_pii": [privacy.contains_pii(t) for t in texts],
            "mask_joined_space": [privacy.mask_joined(b, SEP, replacement=" ") for b in batches(texts)],
        }
    res["_module"] = {"file": [privacy.__file__]}
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        pickle.dump(res, f)
    os.replace(tmp, out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", type=Path, help="src folder of the code before the change")
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--side", nargs=2, help=argparse.SUPPRESS)  # internal: IN OUT
    args = ap.parse_args()
    if args.side:
        run_side(*args.side)
        return
    if args.before is None or not (args.before / "govml" / "privacy.py").exists():
        ap.error("--before must be a src folder holding govml/privacy.py")
    sets = text_sets(args.n)
    print({k: len(v) for k, v in sets.items()})
    with tempfile.TemporaryDirectory() as d:
        inp = os.path.join(d, "in.pkl")
        with open(inp, "wb") as f:
            pickle.dump(sets, f)
        results = {}
        for side, src in (("before", args.before.resolve()), ("after", ROOT / "src")):
            out = os.path.join(d, f"{side}.pkl")
            env = dict(os.environ, PYTHONPATH=str(src))
            subprocess.run([sys.executable, __file__, "--side", inp, out], check=True, env=env, cwd=d)
            with open(out, "rb") as f:
                results[side] = pickle.load(f)
    before, after = results["before"], results["after"]
    print("before:", before["_module"]["file"][0], " after:", after["_module"]["file"][0])
    if before["_module"] == after["_module"]:
        sys.exit("both sides imported the same module: check --before")
    bad = 0
    for name in sets:
        for fn, outs in before[name].items():
            other = after[name][fn]
            diff = sum(a != b for a, b in zip(outs, other, strict=True))
            bad += diff
            changed = sum(a != t for a, t in zip(outs, sets[name], strict=True)) if fn in ("mask", "mask_many") else ""
            print(f"{name:10s} {fn:22s} strings {len(outs):6d}  differ {diff}" + (f"  (masked: {changed})" if changed != "" else ""))
            if diff:
                for a, b in [(a, b) for a, b in zip(outs, other, strict=True) if a != b][:3]:
                    a, b = str(a), str(b)
                    k = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
                    k = max(0, k - 40)  # from a little before the first difference
                    print("   before:", repr(a[k : k + 120]), "\n   after: ", repr(b[k : k + 120]))
    print("IDENTICAL" if not bad else f"DIFFERENT: {bad}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
