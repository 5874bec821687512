"""Fifty districts on Chinese data, through the command line exactly as a user runs it (issue 6).

    .venv/bin/python benchmarks/bench_federated_cn.py [--task classifier|forecaster|benchmark ...]
        [--partition hash50|place ...] [--labels hand|reply ...] [--workdir DIR] [--reference]

Data: the development data ``../shared/data/teddycup2020c/`` (skips cleanly when absent). Every input is
written at run time to ``--workdir`` (a temporary folder by default; never into the repository):

* classifier — the labelled messages of ``benchmarks/bench_classifier.py``: ``hand`` (564 messages of
  附件3/附件4 labelled by title into the 7 contest categories) and ``reply`` (806 messages of 附件4
  labelled by the department in the government's reply); columns id, 留言主题, 留言详情, category (the CLI
  joins title and details itself);
* forecaster and benchmark — all 4,326 messages of 附件3 (留言编号, 留言时间 as released, the 4 stray
  messages of 2017–18 included), area = the place code in the title (a district/county code such as
  A3区 before a city code such as A市: ``bench_alerts._area``), category = ``bench_alerts.RULES`` (keyword
  rule on title + details, 其他 otherwise).

District columns (made here, at run time):

* ``hash50`` — a seeded hash (blake2b of "0|" + message id) into 50 districts D01…D50: 5–19 labelled
  messages each (hand), 8–27 (reply); for the forecaster and the benchmark a community is district ×
  area (``community50``), so communities nest in districts and the central model sees the same series;
* ``place`` — the place code itself (63 / 81 districts for the label sets, most with 1–9 messages, a
  message without a code in 未注明; 37 for 附件3, where the area is then one community per district).

Each run is ``govml federated simulate INPUT --task … --partition-col COL [column options] --out
metrics.json`` with default settings, under ``/usr/bin/time -v`` (peak RSS of the whole federation: the
server and every district run in that one process), with a fresh ``GOVML_HOME``. One JSON line per run:
federated and centralized metrics on the same held-out data, their ratio, clients, districts left out,
seconds per round, CPU seconds, peak RSS, bytes sent per district (max / median), the load average; for
the classifier also the round kept (chosen on the districts' validation rows), the rounds run and those of
the final pass, and the validation curve.
``--reference`` adds, for the classifier, scikit-learn's LogisticRegression fitted to convergence on
the same hashed features and held-out rows (what a well-trained central linear model reaches).
``--replay-rounds N`` replays the classifier's rounds in numpy instead (:func:`replay_rounds`: the round
choice and the final pass on three validation splits, with the all-rows held-out curve).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "teddycup2020c"
GOVML = [str(Path(sys.executable).parent / "govml")]  # the console script, as a user runs it


def hash50(ids, seed: int = 0, n: int = 50) -> list[str]:
    return [f"D{int.from_bytes(hashlib.blake2b(f'{seed}|{i}'.encode(), digest_size=8).digest(), 'little') % n + 1:02d}"
            for i in ids]


def write_inputs(workdir: Path, tasks: list[str], labels: list[str]) -> dict[str, Path]:
    """The inputs a user would have, written under ``workdir`` (never the repository)."""
    import pandas as pd

    sys.path.insert(0, str(ROOT / "benchmarks"))
    out: dict[str, Path] = {}
    if "classifier" in tasks:
        import bench_classifier as bc

        loaded = bc.load()
        if loaded is None:
            return {}
        hand, allm = loaded
        sets = {"hand": hand, "reply": bc.load_reply_labels(allm) if "reply" in labels else None}
        for name in labels:
            d = sets[name]
            t = pd.DataFrame({"id": d["src"].astype(str) + "-" + d["留言编号"].astype(str), "留言主题": d["留言主题"],
                              "留言详情": d["留言详情"], "category": d["label"]})
            t["hash50"] = hash50(t["id"])
            t["place"] = d["留言主题"].astype(str).str.extract(r"([A-Z]\d{0,2}[区市县])")[0].fillna("未注明").to_numpy()
            out[f"classifier-{name}"] = workdir / f"labelled_{name}.csv"
            t.to_csv(out[f"classifier-{name}"], index=False)
    if {"forecaster", "benchmark"} & set(tasks):
        from bench_alerts import REAL, RULES, _area

        if not REAL.exists():
            return out
        df = pd.read_csv(REAL)
        text = df["留言主题"].astype(str) + "\n" + df["留言详情"].astype(str).str.strip()
        cat = pd.Series("其他", index=df.index, dtype=object)
        done = pd.Series(False, index=df.index)
        for name, pat in RULES:
            hit = text.str.contains(pat) & ~done
            cat[hit] = name
            done |= hit
        ev = pd.DataFrame({"留言编号": df["留言编号"], "留言时间": df["留言时间"],
                           "area": [_area(t) for t in df["留言主题"].astype(str)], "category": cat})
        ev["hash50"] = hash50(ev["留言编号"])
        ev["community50"] = (ev["hash50"] + "|" + ev["area"].fillna("")).where(ev["area"].notna())
        ev["place"] = ev["area"]
        out["events"] = workdir / "messages_附件3.csv"
        ev.to_csv(out["events"], index=False)
    return out


def run_cli(args: list[str], workdir: Path, tag: str) -> dict:
    """One ``govml federated simulate`` run under /usr/bin/time -v; metrics.json plus time and memory."""
    metrics = workdir / f"{tag}.json"
    env = {**os.environ, "GOVML_HOME": str(workdir / f"home_{tag}"), "MLFLOW_DISABLE_TELEMETRY": "true"}
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    cmd = [*timer, *GOVML, "federated", "simulate", *args, "--out", str(metrics)]
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=workdir)
    wall = time.perf_counter() - t0
    (workdir / f"{tag}.log").write_text(proc.stdout + "\n" + proc.stderr, encoding="utf-8")
    info: dict = {"command": "govml federated simulate " + " ".join(args) + " --out metrics.json", "exit": proc.returncode,
                  "wall_s": round(wall, 1), "load_before": round(load, 2), "log": str(workdir / f"{tag}.log")}
    if m := re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr):
        info["peak_rss_mb"] = round(int(m.group(1)) / 1024)
    cpu = [float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", proc.stderr)]
    if cpu:
        info["cpu_s"] = round(sum(cpu), 1)
    if proc.returncode != 0 or not metrics.exists():
        info["error"] = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return info
    res = json.loads(metrics.read_text(encoding="utf-8"))
    sent = sorted(res.get("bytes_sent_per_client", {}).values())
    info.update({"clients": res.get("clients"), "excluded": len(res.get("excluded", {})),
                 "rows_left_out": res.get("data", {}).get("excluded_total"),
                 "bytes_per_district_max": sent[-1] if sent else None,
                 "bytes_per_district_median": sent[len(sent) // 2] if sent else None})
    task = res.get("task")
    if task == "demand-classifier":
        sel = res.get("round_selection") or {}
        info.update({"strategy": res.get("strategy"), "rounds": res.get("rounds"),
                     "chosen_round": res.get("chosen_round"), "max_rounds": res.get("max_rounds"),
                     "final_pass_rounds": sel.get("final_pass_rounds"),
                     "training_rounds_total": res.get("training_rounds_total"),
                     "validation_rows": res.get("validation_rows"),
                     "validation_macro_f1": sel.get("validation_macro_f1"),
                     "centralized_model": res.get("centralized_model"),
                     "centralized_same_procedure": res.get("centralized_candidates", {}).get("same_procedure"),
                     "federated": res["federated"], "centralized": res["centralized"],
                     "ratio_macro_f1": round(res["ratio_macro_f1"], 4), "held_out_rows": res["held_out_rows"],
                     "seconds_per_round": round(res["seconds_per_round"], 2)})
    elif task == "hotspot-forecaster":
        keep = ("rmse", "mae", "precision_top2pct")
        info.update({"federated": {k: round(res["federated"][k], 4) for k in keep},
                     "centralized": {k: round(res["centralized"][k], 4) for k in keep},
                     "ratio_rmse": round(res["ratio_rmse"], 4), "origins": len(res["origins"]),
                     "series": res.get("series"), "data_start": res.get("data_start"),
                     "max_rel_diff_central_replay": res.get("max_rel_diff_central_replay"),
                     "round_trips": res.get("round_trips"),
                     "seconds_per_round_trip": round(res.get("seconds_per_round_trip", float("nan")), 3),
                     "seconds_per_tree": round(res["seconds"] / max(res["rounds"], 1), 1)})
    else:
        info.update({k: res.get(k) for k in ("max_abs_diff_moments", "max_abs_diff_percentiles",
                                             "max_abs_diff_percentile_rank", "stated_error")})
        info["within_stated_error"] = all(res[f"max_abs_diff_{k}"] <= res["stated_error"][k] + 1e-12
                                          for k in ("moments", "percentiles", "percentile_rank"))
        info["seconds_per_round"] = round(res["seconds_per_round"], 2)
    return info


def converged_reference(path: Path, part: str) -> dict:
    """scikit-learn LogisticRegression to convergence on the simulator's features and held-out rows."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    from govml.federated import classifier as C
    from govml.federated import task as T

    df = pd.read_csv(path)
    df["text"] = df["留言主题"].fillna("") + "\n" + df["留言详情"].fillna("")
    m = T.eval_mask(df, 0.2, 0)
    X = C.featurize(df["text"].to_numpy(dtype=object), 2**16)
    y = df["category"].astype(str).to_numpy()
    out = {}
    for c in (10.0, 100.0):
        pred = LogisticRegression(C=c, max_iter=3000).fit(X[~m], y[~m]).predict(X[m])
        out[f"C={c:g}"] = {"macro_f1": round(float(f1_score(y[m], pred, average="macro")), 4),
                           "accuracy": round(float(accuracy_score(y[m], pred)), 4)}
    return out


def replay_rounds(path: Path, part: str, rounds: int, val_seeds: tuple[int, ...] = (0, 1, 2)) -> dict:
    """The classifier's rounds replayed in numpy (plain FedAdam, no Flower, no masks; the districts' shuffles
    seeded by their index), to see what the round choice and the final pass do on several validation splits
    (``task.eval_mask(..., purpose="validation")`` with seeds ``val_seeds``; the test rows stay those of
    seed 0). Per split: the chosen round (5-round mean, as the federation), the held-out macro-F1 of the
    chosen round's model, of the final pass (the all-rows replay's model of that round), and the ratio of
    the final pass to the better of the LogisticRegression and the pooled procedure (its own choice, its
    final pass), as ``_score_classifier`` computes them."""
    import numpy as np
    import pandas as pd

    from govml.federated import classifier as C
    from govml.federated import task as T
    from govml.federated.simulation import _central_logistic

    df = pd.read_csv(path)
    df["text"] = df["留言主题"].fillna("").astype(str) + "\n" + df["留言详情"].fillna("").astype(str)
    labels = sorted(df["category"].astype(str).unique())
    K = len(labels)
    X = C.featurize(df["text"].to_numpy(dtype=object), 2**16)
    y = C.label_index(labels, df["category"].astype(str).to_numpy(dtype=object))
    te = np.asarray(T.eval_mask(df, 0.2, 0))
    dist = df[part].astype(str).to_numpy()
    names = sorted(set(dist))

    def f1(W, b, m):
        c = C.eval_counts(X[m], y[m], W, b, K)
        return C.scores_from_counts(c["tp"], c["fp"], c["fn"], c["n"], c["correct"])["macro_f1"]

    def curves(fit, va):
        W, b, srv = np.zeros((K, X.shape[1]), np.float32), np.zeros(K, np.float32), C.ServerAdam()
        Wp, bp, srvp = W.copy(), b.copy(), C.ServerAdam()
        out = {"val": [], "test": [], "pval": [], "ptest": []}
        for r in range(1, rounds + 1):
            sw, sb, n = np.zeros((K, X.shape[1])), np.zeros(K), 0
            for i, d in enumerate(names):
                m = fit & (dist == d)
                Wl, bl, _ = C.local_train(X[m], y[m], W, b, C.TrainSettings(), r * 7919 + i)
                sw, sb, n = sw + m.sum() * Wl, sb + m.sum() * bl, n + int(m.sum())
            W, b = srv.step([W, b], [sw / n, sb / n])
            Wl, bl, _ = C.local_train(X[fit], y[fit], Wp, bp, C.TrainSettings(), r - 1)
            Wp, bp = srvp.step([Wp, bp], [Wl, bl])
            out["val"].append(f1(W, b, va) if va.any() else float("nan"))
            out["pval"].append(f1(Wp, bp, va) if va.any() else float("nan"))
            out["test"].append(f1(W, b, te))
            out["ptest"].append(f1(Wp, bp, te))
        return out

    def choose(scores):
        ch = C.RoundChooser(5)
        for v in scores:
            ch.add(v, None)
        return ch.best()

    lr = _central_logistic(X[~te], y[~te], K, 0)
    lr_f1 = f1(lr[0], lr[1], te)
    full = curves(~te, np.zeros(len(df), dtype=bool))
    res = {"districts": len(names), "lr": round(lr_f1, 4), "fixed_10": round(full["test"][9], 4),
           "all_rows_test_curve": [round(x, 3) for x in full["test"]], "splits": {}}
    for vs in val_seeds:
        va = np.asarray(T.eval_mask(df, 0.2, vs, purpose="validation")) & ~te
        c = curves(~te & ~va, va)
        r, pr = choose(c["val"]), choose(c["pval"])
        cen = max(lr_f1, full["ptest"][pr - 1])
        res["splits"][vs] = {"validation_rows": int(va.sum()), "chosen": r, "chosen_round_model": round(c["test"][r - 1], 4),
                             "final_pass": round(full["test"][r - 1], 4), "central": round(cen, 4),
                             "ratio": round(full["test"][r - 1] / cen, 3),
                             "validation_curve": [round(x, 3) for x in c["val"]]}
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", action="append", choices=["classifier", "forecaster", "benchmark"])
    ap.add_argument("--partition", action="append", choices=["hash50", "place"])
    ap.add_argument("--labels", action="append", choices=["hand", "reply"])
    ap.add_argument("--workdir", type=Path, default=None, help="where inputs, metrics and logs go (kept)")
    ap.add_argument("--reference", action="store_true", help="classifier: converged scikit-learn reference")
    ap.add_argument("--extra", default="", help="further CLI options for every run, e.g. '--rounds 10'")
    ap.add_argument("--replay-rounds", type=int, default=0,
                    help="classifier: instead of the CLI runs, replay this many rounds in numpy on 3 validation "
                         "splits (round choice and final pass; replay_rounds)")
    a = ap.parse_args(argv)
    tasks = a.task or ["classifier", "forecaster", "benchmark"]
    parts = a.partition or ["hash50", "place"]
    labels = a.labels or ["hand", "reply"]
    if not DATA.exists():
        print(f"skipped: {DATA} not found (development data absent)")
        return 0
    tmp = None
    if a.workdir is None:
        tmp = tempfile.mkdtemp(prefix="govml-fed-cn-")
        workdir = Path(tmp)
    else:
        workdir = a.workdir
        workdir.mkdir(parents=True, exist_ok=True)
    inputs = write_inputs(workdir, tasks, labels)
    if not inputs:
        print("skipped: the development data or benchmarks/data labels are absent")
        return 0
    extra = a.extra.split()
    if a.replay_rounds:
        for part in parts:
            for lab in labels:
                info = replay_rounds(inputs[f"classifier-{lab}"], part, a.replay_rounds)
                print(json.dumps({"task": "classifier-replay", "labels": lab, "partition": part, **info},
                                 ensure_ascii=False), flush=True)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        return 0
    for task in tasks:
        for part in parts:
            if task == "classifier":
                for lab in labels:
                    f = inputs[f"classifier-{lab}"]
                    info = run_cli([f.name, "--task", "demand-classifier", "--partition-col", part, *extra],
                                   workdir, f"classifier_{lab}_{part}")
                    if a.reference:
                        info["converged_central_reference"] = converged_reference(f, part)
                    print(json.dumps({"task": "demand-classifier", "labels": lab, "partition": part, **info},
                                     ensure_ascii=False), flush=True)
                continue
            f = inputs["events"]
            community = "community50" if part == "hash50" else "area"
            cols = ["--community-col", community, "--time-col", "留言时间"]
            if task == "forecaster":
                args = [f.name, "--task", "hotspot-forecaster", "--partition-col", part, *cols,
                        "--label-col", "category", *extra]
            else:
                args = [f.name, "--task", "benchmark", "--partition-col", part, *cols, *extra]
            info = run_cli(args, workdir, f"{task}_{part}")
            print(json.dumps({"task": task, "partition": part, **info}, ensure_ascii=False), flush=True)
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
