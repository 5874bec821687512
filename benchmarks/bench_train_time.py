"""`govml demands train` / `demands classify` time and memory with many categories (issue 3, session 13).

    .venv/bin/python benchmarks/bench_train_time.py [--data dev|generated] [--classes 7,15] [--n-jobs 1,2]
                                                     [--n 3000] [--out-dir DIR]

Each (categories, --n-jobs) runs ``govml demands train`` (title + details, 5 folds + the final fit) and then
``govml demands classify`` of the same messages with the saved model, each in a child process under
``/usr/bin/time -v`` when it exists, and prints: wall, user + system CPU, the largest process's max RSS, the peak
RSS summed over the process tree (the forked children of ``--n-jobs`` included; sampled every 0.5 s), the load
average at the start and end, and the CV macro-F1 from model.json. The runs of one category count must agree:
the CV report of model.json (macro-F1 per fold, per-class metrics, confusion) equal and the classify CSVs
byte-identical, else it says so and exits 1 (``--n-jobs`` does not change the model).

Data: ``--data dev`` (default when present) — the development data ``../shared/data/teddycup2020c/`` 附件3 + 附件4
labelled by title keyword rules into 7 first-level categories (4,489 labelled of 7,142) or the taxonomy's 15
(5,361; ``bench_classifier.py --write-keyword-set FILE --keyword-classes 15``); skips cleanly when absent.
``--data generated`` — ``--n`` synthetic messages over the categories (a seeded vocabulary of 40 words per
category, shared filler words, some words of another category), title + details; always runs.
Files go to ``--out-dir`` (default: a temporary folder, removed).

``--svm-fits`` (issue 3, session 14: ``DemandClassifier(column_order=...)``) times the classifier fit alone instead:
the features of all labelled messages are built once (as ``demands train``'s final fit builds them), then for
``--repeats`` rounds each value of ``--column-order`` (``none`` = the default, ``df`` = columns by document frequency)
fits the calibrated classifier on them in turn (the 3 calibration-fold SVMs + the SVM on all messages: what each of
the 6 models of ``demands train`` fits), alternating, so that both see the same machine load. It prints the CPU
seconds of each fit (this process: ``time.process_time``), their median per value, and how the models differ from
the first value's: predictions on the training messages that differ, the largest probability and weight
differences.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "teddycup2020c"
MAIN = "import sys; from govml.cli import main; sys.argv[0] = 'govml'; main()"


def generated(path: Path, n: int, classes: int, seed: int = 0) -> None:
    """``n`` messages over ``classes`` categories: 留言编号, 留言主题, 留言详情, 一级分类."""
    rng = np.random.default_rng(seed)
    pool = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    words = ["".join(rng.choice(pool, int(rng.integers(2, 4)))) for _ in range(classes * 40 + 300)]
    topic = [words[k * 40:(k + 1) * 40] for k in range(classes)]
    filler = words[classes * 40:]
    sizes = rng.dirichlet(np.full(classes, 2.0)) * n  # unequal category sizes, as in real exports
    labels = np.repeat(np.arange(classes), np.maximum(6, sizes.astype(int)))
    rows = []
    for i, k in enumerate(rng.permutation(labels)):
        own = list(rng.choice(topic[k], int(rng.integers(3, 8))))
        other = list(rng.choice(topic[int(rng.integers(classes))], int(rng.integers(0, 3))))
        body = own + other + list(rng.choice(filler, int(rng.integers(10, 40))))
        rng.shuffle(body)
        rows.append((i + 1, "关于" + "".join(own[:2]) + "的问题", "，".join(body) + "。", f"类别{k + 1:02d}"))
    pd.DataFrame(rows, columns=["留言编号", "留言主题", "留言详情", "一级分类"]).to_csv(path, index=False)


def dev(path: Path, classes: int) -> bool:
    if not (DATA / "hotspot_messages_full_附件3.csv").exists():
        return False
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_classifier.py"), "--write-keyword-set",
                    str(path), "--keyword-classes", str(classes)], check=True, cwd=ROOT)
    return True


def _tree_rss_kb(root: int) -> int:
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS")), 0)
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return total


def timed(args: list[str], log: Path) -> dict[str, float | str]:
    """Run ``govml ARGS`` in a child (under /usr/bin/time -v when present): wall, CPU, memory, load."""
    time_v = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    cmd = ([time_v, "-v"] if time_v else []) + [sys.executable, "-c", MAIN, *args]
    env = dict(os.environ, GOVML_HOME=tempfile.mkdtemp(prefix="govml_home_"))
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        peak = [0]

        def sample() -> None:
            while proc.poll() is None:
                peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
                time.sleep(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        rc = proc.wait()
        sampler.join()
    wall = time.perf_counter() - t0
    text = log.read_text(errors="replace")
    if rc != 0:
        raise SystemExit(f"govml {' '.join(args[:2])} failed (exit {rc}); see {log}:\n{text[-2000:]}")
    res: dict[str, float | str] = {"wall_s": round(wall, 1), "load_start": round(load0, 2),
                                   "load_end": round(os.getloadavg()[0], 2), "tree_peak_rss_mb": round(peak[0] / 1024)}
    for key, pat in (("user_s", r"User time \(seconds\): ([\d.]+)"), ("sys_s", r"System time \(seconds\): ([\d.]+)"),
                     ("max_rss_mb", r"Maximum resident set size \(kbytes\): (\d+)")):
        m = re.search(pat, text)
        if m:
            res[key] = round(float(m.group(1)) / (1024 if key == "max_rss_mb" else 1), 1)
    return res


def svm_fits(lab: Path, orders: list[str | None], repeats: int, cv: int) -> list[dict]:
    """CPU seconds of the calibrated classifier fit on ``lab``'s features for each column order, alternating."""
    from sklearn.base import clone

    from govml.text.classify import DemandClassifier, _linear_models, _proba, _union_fit_transform

    df = pd.read_csv(lab)
    df = df[df["一级分类"].notna()]
    texts = (df["留言主题"].fillna("") + "\n" + df["留言详情"].fillna("")).tolist()
    y = df["一级分类"].astype(str).to_numpy(dtype=object)
    est = DemandClassifier(min_class_count=max(2, cv))  # as `demands train` makes it (title + details)
    t0 = time.process_time()
    est.features_ = est._features(True)
    F = _union_fit_transform(est.features_, est._texts(texts))
    print(f"features: {F.shape[0]:,} messages × {F.shape[1]:,} columns, {F.nnz:,} non-zeros "
          f"({time.process_time() - t0:.1f} CPU s)", flush=True)
    n_min = int(np.unique(y, return_counts=True)[1].min())
    rows, first = [], None
    for r in range(repeats):
        for order in orders:
            model = clone(est).set_params(column_order=order)
            load0 = os.getloadavg()[0]
            t = time.process_time()
            clf = model._fit_classifier(F, y, n_min)
            cpu = time.process_time() - t
            row = {"repeat": r, "column_order": order or "none", "cpu_s": round(cpu, 2),
                   "load": round((load0 + os.getloadavg()[0]) / 2, 1)}
            if r == 0:
                proba, coef = _proba(clf, F), np.vstack([m.coef_ for m in _linear_models(clf)])
                if first is None:
                    first = (proba, coef)
                else:
                    row.update({"predictions_differ": int((proba.argmax(1) != first[0].argmax(1)).sum()),
                                "max_proba_diff": float(np.abs(proba - first[0]).max()),
                                "max_coef_diff": float(np.abs(coef - first[1]).max()),
                                "max_abs_coef": float(np.abs(first[1]).max())})
            rows.append(row)
            print(json.dumps(row), flush=True)
            del clf
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", choices=["dev", "generated"], default=None,
                    help="dev: 附件3 + 附件4 with keyword labels (default when present); generated: synthetic")
    ap.add_argument("--classes", default="7,15", help="category counts (dev: 7 and/or 15)")
    ap.add_argument("--n-jobs", default="1,2", help="--n-jobs values of demands train to compare")
    ap.add_argument("--n", type=int, default=3000, help="generated messages")
    ap.add_argument("--cv", type=int, default=5)
    ap.add_argument("--out-dir", type=Path, default=None, help="keep the files here (default: a temporary folder)")
    ap.add_argument("--svm-fits", action="store_true",
                    help="time the calibrated classifier fit alone, per --column-order value (CPU s), alternating")
    ap.add_argument("--column-order", default="none,df", help="with --svm-fits: DemandClassifier column_order values")
    ap.add_argument("--repeats", type=int, default=2, help="with --svm-fits: rounds of the alternating fits")
    args = ap.parse_args()
    data = args.data or ("dev" if (DATA / "hotspot_messages_full_附件3.csv").exists() else "generated")
    out = args.out_dir or Path(tempfile.mkdtemp(prefix="bench_train_time_"))
    out.mkdir(parents=True, exist_ok=True)
    ok = True
    table = []
    try:
        for k in [int(c) for c in args.classes.split(",")]:
            lab = out / f"lab{k}.csv"
            if data == "dev":
                if k not in (7, 15):
                    raise SystemExit("--data dev has 7 or 15 categories")
                if not dev(lab, k):
                    print(f"skipped: development data not found ({DATA})")
                    return
            else:
                generated(lab, args.n, k)
            if args.svm_fits:
                orders = [None if v == "none" else v for v in args.column_order.split(",")]
                fits = pd.DataFrame(svm_fits(lab, orders, args.repeats, args.cv)).assign(data=data, classes=k)
                table.append(fits)
                print(fits.groupby("column_order", sort=False)["cpu_s"].median().rename("median_cpu_s").to_string())
                continue
            first: tuple[dict, bytes] | None = None
            for j in [int(v) for v in args.n_jobs.split(",")]:
                mdir, pred = out / f"m{k}_j{j}", out / f"p{k}_j{j}.csv"
                train = timed(["demands", "train", str(lab), "--label-col", "一级分类", "--text-col", "留言主题",
                               "--text-col", "留言详情", "--id-col", "留言编号", "--model-dir", str(mdir),
                               "--cv", str(args.cv), "--n-jobs", str(j)], out / f"train{k}_j{j}.log")
                classify = timed(["demands", "classify", str(lab), "--model-dir", str(mdir), "--id-col", "留言编号",
                                  "--out", str(pred)], out / f"classify{k}_j{j}.log")
                meta = json.loads((mdir / "model.json").read_text(encoding="utf-8"))
                got = (meta["cv"], pred.read_bytes())
                same = "" if first is None else ("same" if got == first else "DIFFERENT")
                if first is None:
                    first = got
                elif got != first:
                    ok = False
                row = {"data": data, "classes": k, "n_train": meta["n_train"], "n_jobs": j,
                       "cv_macro_f1": round(meta["cv"]["macro_f1"], 4), "vs_first": same,
                       **{f"train_{a}": b for a, b in train.items()}, **{f"classify_{a}": b for a, b in classify.items()}}
                table.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
    finally:
        if args.out_dir is None:
            shutil.rmtree(out, ignore_errors=True)
    if args.svm_fits:
        print(pd.concat(table).to_string(index=False))
        return
    print(pd.DataFrame(table).to_string(index=False))
    if not ok:
        print("the --n-jobs runs of one category count differ (CV report or predictions)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
