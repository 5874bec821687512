"""Federated tasks on real data: federated vs centralized, time per round, bytes, memory.

    .venv/bin/python benchmarks/bench_federated.py [--part boston-bench|boston-clf|ward-clf|ray] [--rounds 5]
        [--dp-epsilon E --dp-clip C]   (client-level DP for the classifier parts)

* boston-bench — complaints per week per ward, districts = Boston's 10 city-council districts,
  secure sums (and with DP ε = 1): max |federated − plain| next to the stated error.
* boston-clf  — demand classifier CASE_TITLE → REASON (10 most frequent reasons), districts =
  23 neighborhoods, secure FedAvg: macro-F1 / accuracy against centralized on the same held-out rows.
* ward-clf    — the same with 55 wards as districts (the "~50 districts on 2 cores" check).
* ray         — the same 3-district synthetic classifier through Flower's Ray simulation engine
  (`flwr.simulation.run_simulation`) to compare start-up and round times with the in-process grid.
* robust-samples / robust-boston — the hotspot forecaster (Flower app, plain sums) with one district
  sending scaled replies (``--faults``, default ``poison:20``, ``poison-gh:20``, ``poison:0.05``,
  ``poison:-1``: the largest district), without and with the robust option (``forecaster-robust``,
  ``--robust-policy rescale|exclude``), and a clean run without and with it; every
  run scored on the same cells (the other districts', ``score-districts``) on the same origins.
  ``--origins`` / ``--n-trees`` keep it short. Samples: data_samples/complaints.csv by district;
  Boston: the 10 most frequent REASONs, area = council district × ward, districts = council districts.

Reads ../shared/data/boston311_2015 (skips cleanly when absent). Prints one JSON line per part.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOSTON = ROOT.parent / "shared" / "data" / "boston311_2015" / "boston311_2015_events.csv.gz"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _boston():
    import pandas as pd

    if not BOSTON.exists():
        print(json.dumps({"skipped": f"{BOSTON} not found"}))
        sys.exit(0)
    df = pd.read_csv(BOSTON, usecols=["CASE_ENQUIRY_ID", "OPEN_DT", "CASE_TITLE", "REASON", "neighborhood",
                                      "city_council_district", "ward"])
    return df.dropna(subset=["CASE_TITLE", "REASON", "neighborhood", "city_council_district", "ward"])


def boston_bench() -> list[dict]:
    from govml.federated.simulation import simulate

    df = _boston()
    df = df.assign(council=df["city_council_district"].astype(int).astype(str))
    out = []
    for dp in (None, 1.0):
        t0 = time.perf_counter()
        kw = {"dp_epsilon": dp, "value_range": (0.0, 100.0)} if dp else {}
        r = simulate(df, "benchmark", "council", mapping={"community": "ward", "created_at": "OPEN_DT"},
                     secure=True, **kw)
        out.append({"part": "boston-bench", "dp_epsilon": dp, "clients": r["clients"],
                    "communities": r["federated"]["complaints_per_week"]["n"],
                    "max_abs_diff_moments": r["max_abs_diff_moments"],
                    "max_abs_diff_percentiles": r["max_abs_diff_percentiles"],
                    "max_abs_diff_percentile_rank": r["max_abs_diff_percentile_rank"],
                    "stated_error": r["stated_error"], "dp": r.get("dp"),
                    "plain_mean": r["centralized"]["complaints_per_week"]["mean"],
                    "federated_mean": r["federated"]["complaints_per_week"]["mean"],
                    "bytes_max": max(r["bytes_sent_per_client"].values()),
                    "seconds": round(time.perf_counter() - t0, 2), "rss_mb": round(_rss_mb())})
    return out


def boston_clf(partition: str, rounds: int, dp_epsilon: float | None = None, dp_clip: float = 1.0) -> list[dict]:
    from govml.federated.simulation import simulate

    df = _boston()
    top = df["REASON"].value_counts().head(10).index
    df = df[df["REASON"].isin(top)]
    out = []
    for secure in (True,):
        t0 = time.perf_counter()
        r = simulate(df, "demand-classifier", partition,
                     mapping={"text": "CASE_TITLE", "category": "REASON", "id": "CASE_ENQUIRY_ID"},
                     rounds=rounds, secure=secure, n_features=2**14, min_rows=50, dp_epsilon=dp_epsilon,
                     dp_clip=dp_clip)
        out.append({"part": f"{partition}-clf", "secure": secure, "dp": r.get("dp"),
                    "clients": r["clients"], "rounds": r["rounds"],
                    "train_rows": r["train_rows"], "held_out_rows": r["held_out_rows"],
                    "federated": r["federated"], "centralized": r["centralized"],
                    "ratio_macro_f1": round(r["ratio_macro_f1"], 4),
                    "seconds_per_round": round(r["seconds_per_round"], 2),
                    "bytes_max_per_client": max(r["bytes_sent_per_client"].values()),
                    "seconds": round(time.perf_counter() - t0, 1), "rss_mb": round(_rss_mb())})
    return out


def ray_compare() -> list[dict]:
    """The same app under Flower's Ray simulation: 3 districts, plain benchmark task."""
    import tempfile

    import numpy as np
    import pandas as pd
    from flwr.app import Context
    from flwr.clientapp import ClientApp
    from flwr.serverapp import Grid, ServerApp
    from flwr.simulation import run_simulation

    from govml.federated.client_app import make_client_app
    from govml.federated.server_app import run_federation

    rng = np.random.default_rng(0)
    tmp = Path(tempfile.mkdtemp(prefix="govml-ray-"))
    manifest = []
    for d in range(3):
        part = pd.DataFrame({"community": [f"c{d}-{i % 12}" for i in range(240)],
                             "score": rng.normal(70 + 3 * d, 8, size=240)})
        path = tmp / f"d{d}.csv"
        part.to_csv(path, index=False)
        manifest.append({"data-path": str(path), "district": f"D{d}"})
    (tmp / "manifest.json").write_text(json.dumps(manifest))
    cfg = {"task": "benchmark", "indicators": "score", "secure": True, "sim-manifest": str(tmp / "manifest.json")}
    result: dict = {}

    def inject(msg, context, call_next):  # run_simulation gives the ClientApp an empty (read-only) run config
        ctx = Context(run_id=context.run_id, node_id=context.node_id, node_config=context.node_config,
                      state=context.state, run_config={**context.run_config, **cfg})
        return call_next(msg, ctx)

    client: ClientApp = make_client_app(mods=[inject])
    server = ServerApp()

    @server.main()
    def main(grid: Grid, context: Context) -> None:
        t = time.perf_counter()
        result.update(run_federation(grid, cfg))
        result["server_seconds"] = time.perf_counter() - t

    t0 = time.perf_counter()
    run_simulation(server_app=server, client_app=client, num_supernodes=3,
                   backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}})
    total = time.perf_counter() - t0
    return [{"part": "ray", "clients": 3, "total_seconds": round(total, 1),
             "federation_seconds": round(result.get("server_seconds", float("nan")), 2),
             "districts": result.get("districts"), "mean": result.get("summary", {}).get("score", {}).get("mean")}]


def robust_forecaster(which: str, origins: int, n_trees: int, faults: list[str], policy: str) -> list[dict]:
    import os

    import pandas as pd

    from govml.federated.simulation import simulate_forecaster

    if which == "samples":
        df = pd.read_csv(ROOT / "data_samples" / "complaints.csv")
        col, mapping = "district", None
    else:
        df = _boston()
        df = df[df["REASON"].isin(df["REASON"].value_counts().head(10).index)]
        council = df["city_council_district"].astype(int).astype(str)
        df = df.assign(council=council, area=council + "-" + df["ward"].astype(str))
        col, mapping = "council", {"community": "area", "category": "REASON", "created_at": "OPEN_DT"}
    target = str(df[col].astype(str).value_counts().index[0])  # the largest district lies
    honest = sorted(d for d in df[col].astype(str).unique() if d != target)
    runs = [("clean", {}, False), ("clean", {}, True)]
    runs += [(f, {target: f}, rob) for f in faults for rob in (False, True)]
    out = []
    for name, fault, robust in runs:
        c0, t0 = time.process_time(), time.perf_counter()
        r = simulate_forecaster(df, col, mapping=mapping, n_trees=n_trees, origins=origins, secure=False,
                                faults=fault, robust=robust, robust_policy=policy, reference=False,
                                score_districts=honest)
        m = r["backtest"]["metrics"]["all"]
        out.append({"part": f"robust-{which}", "fault": name, "district": target if fault else None,
                    "robust": robust, "rmse": m["rmse"], "mae": m["mae"], "precision_top2pct": m["precision_top2pct"],
                    "cells": m["n"], "origins": r["backtest"]["origins"], "n_trees": n_trees,
                    "clients": r["clients"], "scored": len(r["backtest"]["districts_scored"]),
                    "policy": policy if robust else None,
                    "excluded_districts": [(d["district"], d["round"], d["reason"]) for d in r["excluded_districts"]],
                    "rescaled_districts": [(d["district"], d["round"], d["count_factor"], d["gh_factor"], d["replies"])
                                           for d in r["rescaled_districts"]],
                    "cpu_s": round(time.process_time() - c0, 1), "wall_s": round(time.perf_counter() - t0, 1),
                    "load": round(os.getloadavg()[0], 1)})
        print(json.dumps(out[-1], ensure_ascii=False, default=str), flush=True)
    return []


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", action="append",
                    choices=["boston-bench", "boston-clf", "ward-clf", "ray", "robust-samples", "robust-boston"],
                    default=None)
    ap.add_argument("--origins", type=int, default=2, help="robust-*: backtest origins")
    ap.add_argument("--n-trees", type=int, default=60, help="robust-*: trees per model")
    ap.add_argument("--robust-policy", default="rescale", choices=["rescale", "exclude"])
    ap.add_argument("--faults", default="poison:20,poison-gh:20,poison:0.05,poison:-1",
                    help="robust-*: faults of the largest district (each run without and with the robust option)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dp-epsilon", type=float, default=None, help="client-level DP for the classifier parts")
    ap.add_argument("--dp-clip", type=float, default=1.0)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    parts = args.part or ["boston-bench", "boston-clf"]
    for part in parts:
        if part == "boston-bench":
            rows = boston_bench()
        elif part == "boston-clf":
            rows = boston_clf("neighborhood", args.rounds, args.dp_epsilon, args.dp_clip)
        elif part == "ward-clf":
            rows = boston_clf("ward", args.rounds, args.dp_epsilon, args.dp_clip)
        elif part.startswith("robust-"):
            if part == "robust-boston" and not BOSTON.exists():
                rows = [{"skipped": f"{BOSTON} not found"}]
            else:
                rows = robust_forecaster(part.split("-", 1)[1], args.origins, args.n_trees, args.faults.split(","),
                                          args.robust_policy)
        else:
            rows = ray_compare()
        for row in rows:
            print(json.dumps(row, ensure_ascii=False, default=str), flush=True)


if __name__ == "__main__":
    main()
