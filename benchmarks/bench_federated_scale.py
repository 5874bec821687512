"""Fifty districts on one machine: every federated task, time per round, bytes, peak memory.

    .venv/bin/python benchmarks/bench_federated_scale.py [--task benchmark|demand-classifier|hotspot-forecaster]
        [--districts 50] [--rounds 3] [--n-trees 20] [--origins 2] [--no-secure] [--no-level]
        [--secagg-neighbours auto|all|k] [--write-events FILE] [--point auto|mean] [--select-trees]

Districts: Boston 311 (2015) cut into its largest ``--districts`` ward × police-district areas
(wards written as "Ward 3" or "3" are the same ward); a community is such an area × ZIP code, so
communities nest in districts. Each task runs in a child process (``os.wait4`` gives that
process's own peak RSS: the whole federation — server, every district's ClientApp and their data —
lives in it, on one core). Reads ../shared/data/boston311_2015 (skips cleanly when absent).
Prints one JSON line per task:

* ``benchmark``          secure citywide statistics of complaints per week per community;
  max |federated − plain| next to the stated error;
* ``demand-classifier``  secure FedAvg, CASE_TITLE → REASON (10 most frequent), macro-F1 and
  accuracy of federated vs centralized on the same held-out rows, seconds per round;
* ``hotspot-forecaster`` the Flower app's backtest (districts score their own cells) vs the same
  model backtested centrally and central LightGBM, on the same origins; seconds per round trip
  (one tree level, one scoring step) and per tree. ``--point`` / ``--select-trees``: the run config's
  ``forecaster-point`` / ``forecaster-select-trees`` (the central model's inner-holdout choices made
  from the districts' holdout sums; ``--n-trees`` is then the largest count) — passed only when given,
  for a ``simulate_forecaster`` that has them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOSTON = ROOT.parent / "shared" / "data" / "boston311_2015" / "boston311_2015_events.csv.gz"
TASKS = ("benchmark", "demand-classifier", "hotspot-forecaster")


def boston_districts(n: int):
    """Boston 311 with ``district`` (one of the ``n`` largest ward × police-district areas) and
    ``community`` (district × ZIP code)."""
    import pandas as pd

    df = pd.read_csv(BOSTON, usecols=["CASE_ENQUIRY_ID", "OPEN_DT", "CASE_TITLE", "REASON", "ward",
                                      "police_district", "LOCATION_ZIPCODE"])
    df = df.dropna(subset=["OPEN_DT", "CASE_TITLE", "REASON", "ward", "police_district"])
    ward = df["ward"].astype(str).str.extract(r"(\d+)")[0].astype(float)
    police = df["police_district"].astype(str).str.replace("-", "", regex=False).str.strip()
    df = df.assign(district=[f"W{int(w):02d}-{p}" if w == w else None for w, p in zip(ward, police, strict=True)])
    df = df.dropna(subset=["district"])
    keep = df["district"].value_counts().head(n).index
    df = df[df["district"].isin(keep)]
    zipc = df["LOCATION_ZIPCODE"].fillna(0).astype(float).astype(int).astype(str)
    return df.assign(community=df["district"] + "|" + zipc)


def run_task(task: str, args: argparse.Namespace) -> dict:
    from govml.federated.simulation import simulate, simulate_forecaster

    df = boston_districts(args.districts)
    t0, c0 = time.perf_counter(), time.process_time()
    if task == "benchmark":
        r = simulate(df, "benchmark", "district", mapping={"community": "community", "created_at": "OPEN_DT"},
                     secure=args.secure, min_rows=1, secagg_neighbours=args.secagg_neighbours)
        row = {"communities": r["federated"]["complaints_per_week"]["n"],
               "max_abs_diff_moments": r["max_abs_diff_moments"],
               "max_abs_diff_percentiles": r["max_abs_diff_percentiles"], "stated_error": r["stated_error"],
               "federated_mean": r["federated"]["complaints_per_week"]["mean"],
               "plain_mean": r["centralized"]["complaints_per_week"]["mean"], "rounds": 2,
               "seconds_per_round": round(r["seconds"] / 2, 2)}
    elif task == "demand-classifier":
        top = df["REASON"].value_counts().head(10).index
        r = simulate(df[df["REASON"].isin(top)], "demand-classifier", "district",
                     mapping={"text": "CASE_TITLE", "category": "REASON", "id": "CASE_ENQUIRY_ID"},
                     rounds=args.rounds, secure=args.secure, n_features=2**14, min_rows=1,
                     secagg_neighbours=args.secagg_neighbours)
        row = {"rounds": r["rounds"], "train_rows": r["train_rows"], "held_out_rows": r["held_out_rows"],
               "federated": r["federated"], "centralized": r["centralized"],
               "ratio_macro_f1": round(r["ratio_macro_f1"], 4), "seconds_per_round": round(r["seconds_per_round"], 2)}
    else:
        top = df["REASON"].value_counts().head(args.categories).index
        r = simulate_forecaster(df[df["REASON"].isin(top)], "district",
                                mapping={"community": "community", "category": "REASON", "created_at": "OPEN_DT"},
                                n_trees=args.n_trees, origins=args.origins, secure=args.secure, min_rows=1,
                                lightgbm=True, level=args.level, secagg_neighbours=args.secagg_neighbours,
                                **({"point": args.point} if args.point else {}),
                                **({"select_trees": True} if args.select_trees else {}))
        bt = r["backtest"]
        keep = ("rmse", "mae", "precision_top2pct")
        row = {"series": r["series"], "origins": bt["origins"], "n_trees": args.n_trees, "level": r.get("level"),
               "secure_neighbours": r.get("secure_neighbours"), "secure_threshold": r.get("secure_threshold"),
               "ratio_rmse": round(bt["metrics"]["all"]["rmse"] / r["lightgbm"]["rmse"], 4),
               "federated": {k: bt["metrics"]["all"][k] for k in keep},
               "central_same_model": {k: r["central"][k] for k in keep},
               "central_lightgbm": {k: r["lightgbm"][k] for k in keep},
               "maps_with_tied_forecasts": bt["maps_with_tied_forecasts"],
               "round_trips": r["round_trips"], "seconds_per_round_trip": round(r["seconds_per_round_trip"], 3),
               "seconds_per_tree": round(r["seconds"] / (args.n_trees * len(bt["origins"])), 2),
               "inner_holdout": r.get("inner_holdout"),
               "ratio_mae": round(bt["metrics"]["all"]["mae"] / r["lightgbm"]["mae"], 4),
               "central_fit_seconds": r["central_fit_seconds"]}
    sent = r["bytes_sent_per_client"]
    row.update({"task": task, "clients": r["clients"], "secure": args.secure, "excluded": r.get("excluded"),
                "federation_seconds": round(r["seconds"], 1),
                "task_wall_seconds": round(time.perf_counter() - t0, 1),
                "task_cpu_seconds": round(time.process_time() - c0, 1),
                "bytes_per_client_max": max(sent.values()), "bytes_per_client_median": sorted(sent.values())[len(sent) // 2]})
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", action="append", choices=TASKS, default=None)
    ap.add_argument("--districts", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3, help="classifier rounds")
    ap.add_argument("--n-trees", type=int, default=20, help="forecaster trees per origin")
    ap.add_argument("--origins", type=int, default=2, help="forecaster backtest origins")
    ap.add_argument("--categories", type=int, default=8, help="forecaster: most frequent REASONs kept")
    ap.add_argument("--no-secure", dest="secure", action="store_false")
    ap.add_argument("--no-level", dest="level", action="store_false", help="forecaster: boost from a constant")
    ap.add_argument("--secagg-neighbours", default="auto", help="auto | all | k (SecAgg+ ring)")
    ap.add_argument("--point", choices=("auto", "mean"), default=None, help="forecaster: the point rule")
    ap.add_argument("--select-trees", action="store_true", help="forecaster: tree count on the inner holdout")
    ap.add_argument("--write-events", type=Path, default=None,
                    help="write the forecaster's events (--districts, --categories) to this CSV for "
                         "`govml federated simulate FILE --task hotspot-forecaster --partition-col district "
                         "--community-col community --label-col REASON --time-col OPEN_DT` and stop")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if not BOSTON.exists():
        print(json.dumps({"skipped": f"{BOSTON} not found"}))
        return
    if args.write_events is not None:
        df = boston_districts(args.districts)
        df = df[df["REASON"].isin(df["REASON"].value_counts().head(args.categories).index)]
        df[["OPEN_DT", "REASON", "district", "community"]].to_csv(args.write_events, index=False)
        print(json.dumps({"events": len(df), "districts": int(df["district"].nunique()), "file": str(args.write_events)}))
        return
    if args.child:  # one task in this process; the parent measures our peak RSS
        logging.disable(logging.WARNING)
        print(json.dumps(run_task(args.task[0], args), ensure_ascii=False, default=str), flush=True)
        return
    for task in args.task or TASKS:
        argv = [sys.executable, __file__, "--child", "--task", task, "--districts", str(args.districts),
                "--rounds", str(args.rounds), "--n-trees", str(args.n_trees), "--origins", str(args.origins),
                "--categories", str(args.categories), "--secagg-neighbours", str(args.secagg_neighbours)]
        argv += ([] if args.secure else ["--no-secure"]) + ([] if args.level else ["--no-level"])
        argv += (["--point", args.point] if args.point else []) + (["--select-trees"] if args.select_trees else [])
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        out = proc.stdout.read() if proc.stdout else ""
        _pid, status, usage = os.wait4(proc.pid, 0)
        line = out.strip().splitlines()[-1] if out.strip() else "{}"
        row = json.loads(line) if line.startswith("{") else {"task": task, "error": out[-500:]}
        row["peak_rss_mb"] = round(usage.ru_maxrss / 1024)
        row["exit_status"] = os.waitstatus_to_exitcode(status)
        row["load_average"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps(row, ensure_ascii=False, default=str), flush=True)


if __name__ == "__main__":
    main()
