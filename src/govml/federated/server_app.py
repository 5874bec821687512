"""govml's Flower ServerApp: it coordinates districts and only ever sees aggregates.

:func:`run_federation` is the whole server logic; the ``@app.main`` function calls it with the
Grid Flower hands over (``flwr run`` in deployment or simulation) and writes the result as JSON to
``result-path`` when the run config names one. ``govml federated simulate`` calls it with an
in-process :class:`~govml.federated.grid.LocalGrid` — the same code, without Ray.

Every run starts with a *hello* round: each district loads and checks its own table and answers
with its public name, or with an error reply naming itself and the problem. Districts that fail
are left out (and listed in the result); the others go on. Districts that stop answering later are
listed as missing for the round in which they went silent.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, RecordDict
from flwr.serverapp import Grid, ServerApp

from govml.errors import ConfigError, FederatedError
from govml.federated import task as T

log = logging.getLogger(__name__)

STRATEGIES = ("fedavg", "fedprox", "fedmedian", "fedtrimmedavg", "krum")
SECURE_STRATEGIES = ("fedavg", "fedprox")

Progress = Callable[[int, dict[str, float]], None]


@dataclass
class Session:
    """One federated run as the server sees it."""

    grid: Grid
    cfg: dict[str, Any]
    progress: Progress | None = None
    names: dict[int, str] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)
    missing: dict[str, list[int]] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    pubkeys: dict[int, bytes] = field(default_factory=dict)
    timeout: float | None = None
    round: int = 0

    def name(self, node_id: int) -> str:
        return self.names.get(node_id, f"node {node_id}")

    def note(self, text: str) -> None:
        log.warning("%s", text)
        self.events.append(text)

    # -- messaging ----------------------------------------------------------------------------
    def ask(self, node_ids: Iterable[int], mtype: str, content: RecordDict
            ) -> tuple[dict[int, Message], dict[int, str], list[int]]:
        """Send ``content`` to nodes; returns (good replies, error reasons, nodes that never answered)."""
        node_ids = list(node_ids)
        msgs = [Message(content=content, dst_node_id=nid, message_type=mtype, group_id=str(self.round))
                for nid in node_ids]
        replies = list(self.grid.send_and_receive(msgs, timeout=self.timeout))
        good, bad = {}, {}
        for rep in replies:
            src = rep.metadata.src_node_id
            if rep.has_error():
                bad[src] = rep.error.reason or f"error code {rep.error.code}"
            else:
                good[src] = rep
        answered = set(good) | set(bad)
        silent = [n for n in node_ids if n not in answered]
        return good, bad, silent

    def _lost(self, nodes: list[int], why: str) -> None:
        for n in nodes:
            self.missing.setdefault(self.name(n), []).append(self.round)
            self.note(f"round {self.round}: district {self.name(n)} {why}")

    def hello(self, node_ids: list[int]) -> list[int]:
        good, bad, silent = self.ask(node_ids, "query.hello", RecordDict({"config": ConfigRecord(_wire_cfg(self.cfg))}))
        for nid, rep in good.items():
            self.names[nid] = str(rep.content.config_records["hello"]["district"])
        for nid, reason in bad.items():
            who = reason.split(":")[0]
            self.excluded[who.removeprefix("district ").strip() if who.startswith("district ") else f"node {nid}"] = reason
            self.note(f"excluded: {reason}")
        for nid in silent:
            self.excluded[f"node {nid}"] = "no answer to hello"
            self.note(f"excluded: node {nid} did not answer")
        return sorted(good)

    def exchange_keys(self, node_ids: list[int]) -> list[int]:
        good, bad, silent = self.ask(node_ids, "query.keys", RecordDict({"config": ConfigRecord(_wire_cfg(self.cfg))}))
        self._lost(list(bad) + silent, "gave no key and is left out of secure aggregation")
        self.pubkeys = {nid: rep.content.array_records["keys"]["pk"].numpy().astype(np.uint8).tobytes()
                        for nid, rep in good.items()}
        return sorted(good)

    def _peer_record(self, node_ids: list[int]) -> ArrayRecord:
        return ArrayRecord({str(n): Array(np.frombuffer(self.pubkeys[n], dtype=np.uint8).copy()) for n in node_ids})

    def aggregate(self, node_ids: list[int], mtype: str, records: dict[str, Any], length: int, scale: float,
                  tag: str, dp_scale: np.ndarray | None = None) -> tuple[np.ndarray, list[int]]:
        """Sum of the districts' vectors (securely when the run is secure); returns (sum, contributors)."""
        secure = bool(self.cfg.get("secure", True))
        cfg = _wire_cfg(self.cfg)
        cfg.update(dict(records.get("config", {})))
        cfg.update({"secure": secure, "scale": float(scale), "context": f"{tag}|round={self.round}",
                    "dp-shares": len(node_ids)})
        content = {**records, "config": ConfigRecord(cfg)}
        if secure:
            content["peer-keys"] = self._peer_record(node_ids)
        if dp_scale is not None:
            content["dp"] = ArrayRecord({"scale": Array(np.asarray(dp_scale, dtype=np.float64))})
        good, bad, silent = self.ask(node_ids, mtype, RecordDict(content))
        self._lost(list(bad), "failed: " + "; ".join(bad.values()) if bad else "failed")
        self._lost(silent, "did not answer (dropped out)")
        survivors = sorted(good)
        if not survivors:
            raise FederatedError(f"round {self.round}: no district answered {mtype}")
        if not secure:
            vecs = [good[n].content.array_records["vec"]["plain"].numpy().astype(np.float64) for n in survivors]
            return np.sum(vecs, axis=0), survivors
        from govml.federated.secagg import dequantize, unmask_sum

        min_secure = int(self.cfg.get("min-secure-districts", 2))
        if len(survivors) < min_secure:
            raise FederatedError(f"round {self.round}: only {len(survivors)} district(s) answered; secure "
                                 f"aggregation needs at least {min_secure} so no single district's numbers show")
        masked = [good[n].content.array_records["vec"]["masked"].numpy() for n in survivors]
        recoveries = []
        dropped = [n for n in node_ids if n not in good]
        if dropped:
            rcfg = ConfigRecord({"context": cfg["context"], "dropped": [str(d) for d in dropped], "length": int(length)})
            rgood, rbad, rsilent = self.ask(survivors, "query.unmask",
                                            RecordDict({"config": rcfg, "peer-keys": self._peer_record(node_ids)}))
            if rbad or rsilent:
                raise FederatedError(f"round {self.round}: the masks of dropped districts could not be removed "
                                     f"({len(rbad) + len(rsilent)} survivor(s) did not help)")
            recoveries = [rgood[n].content.array_records["vec"]["recovery"].numpy() for n in survivors]
        return dequantize(unmask_sum(masked, recoveries), scale), survivors


def _wire_cfg(cfg: dict[str, Any]) -> dict[str, Any]:
    """The run settings every district needs with each message (no server-only keys)."""
    keys = ("task", "indicators", "labels", "n-features", "local-epochs", "lr", "l2", "batch-size",
            "proximal-mu", "eval-fraction", "seed", "value-range", "dp-mechanism",
            "categories", "periods", "horizon", "n-bins", "max-value")
    out = {}
    for k in keys:
        if k in cfg and cfg[k] is not None and cfg[k] != "":
            out[k] = cfg[k]
    return out


# -- tasks --------------------------------------------------------------------------------------

def _benchmark(s: Session, nodes: list[int]) -> dict[str, Any]:
    from govml.federated import benchmark as B
    from govml.federated.dp import Accountant, Mechanism, gaussian_sigma, laplace_scale

    inds = T.indicator_list(s.cfg)
    k = len(inds)
    bins = int(s.cfg.get("bins", 200))
    scale = float(s.cfg.get("fixed-point-scale", 2.0**20))
    vrange = s.cfg.get("value-range")
    eps = float(s.cfg.get("dp-epsilon", 0.0) or 0.0)
    mech_kind = str(s.cfg.get("dp-mechanism", "laplace"))
    delta = float(s.cfg.get("dp-delta", 1e-5))
    acct = Accountant(delta=delta / k if eps > 0 else delta)
    hist_dp = None
    if eps > 0:
        # With DP only the histogram is released (L1 sensitivity 1 when one community is added or
        # removed); mean and spread are read from it, so the whole ε goes to one release per indicator.
        if not vrange:
            raise ConfigError("differential privacy needs a public value range (value-range = [lo, hi], or "
                              "--value-range LO:HI) to fix the bins before any data is seen")
        eps_r = eps / k
        sigma = (gaussian_sigma(eps_r, acct.delta, 1.0) if mech_kind == "gaussian" else laplace_scale(eps_r, 1.0))
        hist_dp = np.full(k * bins, sigma)
    got = nodes
    if eps > 0:
        ranges = [(float(vrange[0]), float(vrange[1]))] * k
    else:
        s.round = 1
        moments, got = s.aggregate(nodes, "query.moments", {}, 3 * k, scale, "moments")
        ranges = ([(float(vrange[0]), float(vrange[1]))] * k if vrange else B.ranges_from_moments(moments, k))
    s.round = 2
    hist_scale = 1.0 if hist_dp is None else scale
    hcfg = {"config": ConfigRecord({"lo": [r[0] for r in ranges], "hi": [r[1] for r in ranges], "bins": bins})}
    hist, got2 = s.aggregate(got, "query.hist", hcfg, k * bins, hist_scale, "hist", hist_dp)
    if hist_dp is not None:
        for j in range(k):
            acct.record(f"hist[{inds[j]}]", Mechanism(mech_kind, float(hist_dp[0]), 1.0), len(got2) / len(got))
        moments = B.moments_from_histogram(hist, ranges, bins)
    from govml.federated.secagg import quantization_bound

    sum_error = quantization_bound(len(got), scale) if hist_dp is None else 0.0
    summary = B.summarize(moments, hist, inds, ranges, bins, sum_error=sum_error)
    if hist_dp is not None:  # moments read from bins: midpoints are within half a bin of each value
        for (lo, hi), col in zip(ranges, inds, strict=True):
            summary[col]["mean_error_bound"] = summary[col]["std_error_bound"] = (hi - lo) / bins / 2
    if s.progress:
        s.progress(2, {f"{c}.mean": v["mean"] for c, v in summary.items()})
    # give every district the summary so it can place its own communities
    s.round = 3
    names = ["n", "mean", "std", "lo", "hi", "bin_width"] + [f"p{p}" for p in B.PERCENTILES]
    stats = np.array([[summary[c][nm] for nm in names] for c in inds], dtype=np.float64)
    counts = np.array([summary[c]["counts"] for c in inds], dtype=np.float64)
    content = RecordDict({"config": ConfigRecord(_wire_cfg(s.cfg)),
                          "summary": ArrayRecord({"stats": Array(stats), "counts": Array(counts)})})
    good, bad, silent = s.ask(got2, "query.standings", content)
    s._lost(list(bad) + silent, "did not receive the citywide summary")

    return {"summary": summary, "indicators": inds, "bins": bins,
            "rounds": 2, "contributors": [s.name(n) for n in got2],
            "quantization_bound_sums": sum_error,
            "quantization_bound_moments": max(max(r["mean_error_bound"], r["std_error_bound"])
                                              for r in summary.values()),
            "dp": ({**acct.report(), "mechanism": mech_kind, "noise_scale_per_bin": float(hist_dp[0]),
                    "shares": len(got2)} if hist_dp is not None else None)}


def make_strategy(name: str, n_districts: int):
    """The Flower strategy object that aggregates plain (non-secure) updates."""
    from flwr.serverapp import strategy as S

    common = {"min_train_nodes": 1, "min_evaluate_nodes": 1, "min_available_nodes": 1}
    if name in ("fedavg", "fedprox"):
        return S.FedAvg(**common)
    if name == "fedmedian":
        return S.FedMedian(**common)
    if name == "fedtrimmedavg":
        return S.FedTrimmedAvg(beta=0.2, **common)
    if name == "krum":
        return S.Krum(num_malicious_nodes=max(1, (n_districts - 3) // 2), **common)
    raise ConfigError(f"unknown strategy {name!r} (one of {', '.join(STRATEGIES)})")


def _classifier(s: Session, nodes: list[int]) -> dict[str, Any]:
    from govml.federated import classifier as C

    labels = [x for x in str(s.cfg["labels"]).split("|") if x]
    if len(labels) < 2:
        raise ConfigError("the demand classifier needs at least two categories in 'labels'")
    K, F = len(labels), int(s.cfg.get("n-features", 2**16))
    rounds = int(s.cfg.get("num-rounds", 5))
    secure = bool(s.cfg.get("secure", True))
    name = str(s.cfg.get("strategy", "fedavg"))
    if secure and name not in SECURE_STRATEGIES:
        raise ConfigError(f"strategy {name} needs each district's own update and cannot run under secure "
                          "aggregation; choose fedavg/fedprox or turn secure aggregation off (--no-secure)")
    strategy = make_strategy(name, len(nodes))
    scale = float(s.cfg.get("fixed-point-scale", 2.0**24))
    eps = float(s.cfg.get("dp-epsilon", 0.0) or 0.0)
    dp_delta = float(s.cfg.get("dp-delta", 1e-5))
    clip = float(s.cfg.get("dp-clip", 1.0) or 1.0)
    sigma = 0.0
    z_used: list[float] = []
    if eps > 0:
        from govml.federated.dp import calibrate_noise_multiplier

        if name not in SECURE_STRATEGIES:
            raise ConfigError("differential privacy averages clipped updates: use fedavg or fedprox")
        z = calibrate_noise_multiplier(eps, dp_delta, rounds)
        sigma = z * clip
    W = np.zeros((K, F), dtype=np.float32)
    b = np.zeros(K, dtype=np.float32)
    history = []
    active = list(nodes)
    for r in range(1, rounds + 1):
        s.round = r
        t0 = time.perf_counter()
        train_cfg = {"server-round": r, "proximal-mu": float(s.cfg.get("proximal-mu", 0.0))
                     if name == "fedprox" else 0.0}
        records = {"arrays": ArrayRecord({"coef": Array(W), "intercept": Array(b)})}
        if eps > 0:
            dp_cfg = {**train_cfg, "dp-clip": clip, "dp-mechanism": "gaussian", "dp-noisy-length": K * F + K}
            vec, got = s.aggregate(active, "train", {**records, "config": ConfigRecord(dp_cfg)}, K * F + K + 1,
                                   scale, "train", dp_scale=np.array([sigma]))
            count = max(vec[-1], 1.0)
            W = (W + vec[:K * F].reshape(K, F) / count).astype(np.float32)
            b = (b + vec[K * F:K * F + K] / count).astype(np.float32)
            train_loss = float("nan")
            z_used.append(sigma / clip * np.sqrt(len(got) / len(active)))  # fewer shares, less noise
        elif secure:
            vec, got = s.aggregate(active, "train", {**records, "config": ConfigRecord(train_cfg)},
                                   K * F + K + 2, scale, "train")
            n = vec[-2]
            W = (vec[:K * F] / n).reshape(K, F).astype(np.float32)
            b = (vec[K * F:K * F + K] / n).astype(np.float32)
            train_loss = float(vec[-1] / n)
        else:
            cfg = dict(_wire_cfg(s.cfg))
            cfg.update(train_cfg)
            cfg["secure"] = False
            good, bad, silent = s.ask(active, "train", RecordDict({**records, "config": ConfigRecord(cfg)}))
            s._lost(list(bad), "failed to train: " + "; ".join(bad.values()) if bad else "failed")
            s._lost(silent, "did not answer (dropped out)")
            got = sorted(good)
            if not got:
                raise FederatedError(f"round {r}: no district returned an update")
            arrays, metrics = strategy.aggregate_train(r, [good[n] for n in got])
            W = arrays["coef"].numpy().astype(np.float32)
            b = arrays["intercept"].numpy().astype(np.float32)
            train_loss = float(metrics.get("train-loss", float("nan"))) if metrics else float("nan")
        active = got
        ev_records = {"arrays": ArrayRecord({"coef": Array(W), "intercept": Array(b)})}
        if secure:
            ev, _ = s.aggregate(active, "evaluate", ev_records, 3 * K + 2, 1.0, "evaluate")
        else:
            cfg = dict(_wire_cfg(s.cfg))
            cfg["secure"] = False
            good, bad, silent = s.ask(active, "evaluate", RecordDict({**ev_records, "config": ConfigRecord(cfg)}))
            s._lost(list(bad) + silent, "did not evaluate")
            ev = np.sum([good[n].content.array_records["vec"]["plain"].numpy() for n in sorted(good)], axis=0)
        ev = np.rint(ev).astype(np.int64)
        sc = C.scores_from_counts(ev[:K], ev[K:2 * K], ev[2 * K:3 * K], int(ev[3 * K]), int(ev[3 * K + 1]))
        row = {"round": r, "train_loss": train_loss, "federated_eval_accuracy": sc["accuracy"],
               "federated_eval_macro_f1": sc["macro_f1"], "districts": len(got),
               "seconds": time.perf_counter() - t0}
        history.append(row)
        if s.progress:
            s.progress(r, row)
    dp_report = None
    if eps > 0:
        from govml.federated.dp import _RDP_ORDERS

        spent = min(sum(a / (2 * z * z) for z in z_used) + np.log(1 / dp_delta) / (a - 1) for a in _RDP_ORDERS)
        dp_report = {"epsilon": float(spent), "delta": dp_delta, "target_epsilon": eps, "clip": clip,
                     "noise_multiplier": sigma / clip, "mechanism": "gaussian", "accounting": "rdp",
                     "note": "client-level (a district's whole update); evaluation counts are not noised"}
    return {"model": {"coef": W, "intercept": b, "labels": labels, "n_features": F}, "history": history,
            "rounds": rounds, "strategy": name, "contributors": [s.name(n) for n in active], "dp": dp_report}


def _forecaster(s: Session, nodes: list[int]) -> dict[str, Any]:
    """Histogram boosting over the districts' own panels (see govml.federated.forecaster)."""
    import pandas as pd

    from govml.federated import forecaster as FC
    from govml.federated.gbdt import BinEdges, GBDTParams, Tree, fit
    from govml.hotspot.features import FeatureSpec

    cats = [c for c in str(s.cfg.get("categories", "")).split("|") if c]
    periods = [str(p) for p in (s.cfg.get("periods") or [])]
    if not periods and s.cfg.get("panel-start") and s.cfg.get("panel-end"):
        # weeks start on Monday, as in govml.hotspot (calendar.FREQS["W"])
        start = pd.Timestamp(str(s.cfg["panel-start"])).normalize()
        start -= pd.Timedelta(days=start.dayofweek)
        periods = [str(p.date()) for p in pd.date_range(start, pd.Timestamp(str(s.cfg["panel-end"])), freq="W-MON")]
        s.cfg["periods"] = periods
    if not cats or len(periods) < 3:
        raise ConfigError("the hotspot forecaster needs the agreed 'categories' (separated by |) and the weeks of "
                          "the panel ('panel-start' and 'panel-end', or a 'periods' list) in the run config")
    T, n_cat = len(periods), len(cats)
    F = FC.n_model_features(pd.DatetimeIndex(pd.to_datetime(periods)), FeatureSpec(categoricals=("category",)))
    edges = BinEdges.counts(F, max_value=float(s.cfg.get("max-value", 1000.0)), n_bins=int(s.cfg.get("n-bins", 32)))
    B = edges.n_bins
    scale = float(s.cfg.get("fixed-point-scale", 2.0**20))
    s.round = 1
    city, active = s.aggregate(nodes, "query.city", {}, n_cat * (T + 1), 1.0, "city")
    city_rec = ArrayRecord({"sums": Array(city.reshape(n_cat, T + 1))})
    s.round = 2
    bs, active = s.aggregate(active, "query.gbdt", {"config": ConfigRecord({"phase": "base"}), "city": city_rec},
                             2, scale, "base")
    base = float(np.log(max(bs[0], 1e-9) / max(bs[1], 1.0)))

    def tree_record(trees: list[Tree]) -> ArrayRecord:
        return ArrayRecord({f"{i:05d}": Array(t.to_arrays()) for i, t in enumerate(trees)})

    def hist_fn(trees: list[Tree], tree: Tree, frontier: list[int]) -> np.ndarray:
        s.round += 1
        rec = {"config": ConfigRecord({"phase": "hist", "base": base, "frontier": [int(f) for f in frontier]}),
               "trees": tree_record(trees), "tree": ArrayRecord({"tree": Array(tree.to_arrays())})}
        vec, got = s.aggregate(active, "query.gbdt", rec, len(frontier) * F * B * 3, scale, "hist")
        if got != active:
            raise FederatedError(f"round {s.round}: {', '.join(s.name(n) for n in active if n not in got)} left "
                                 "during boosting; histograms of a tree must come from the same districts")
        return vec.reshape(len(frontier), F, B, 3)

    params = GBDTParams(n_trees=int(s.cfg.get("num-rounds", 60)), max_depth=int(s.cfg.get("max-depth", 4)),
                        learning_rate=float(s.cfg.get("learning-rate", 0.1)),
                        min_child_count=int(s.cfg.get("min-child-count", 50)))

    def on_tree(t: int, tree: Tree) -> None:
        if s.progress:
            s.progress(t + 1, {"leaves": float(sum(1 for f in tree.feature if f < 0))})

    booster = fit(hist_fn, base, edges, params, on_tree=on_tree)
    s.round += 1
    good, bad, silent = s.ask(active, "query.forecast", RecordDict({
        "config": ConfigRecord({**_wire_cfg(s.cfg), "base": base}), "trees": tree_record(booster.trees)}))
    s._lost(list(bad) + silent, "did not forecast")
    return {"model": {"base": base, "trees": [t.to_arrays() for t in booster.trees]}, "rounds": params.n_trees,
            "messages_per_district": s.round, "contributors": [s.name(n) for n in active],
            "forecasts_written": len(good)}


def run_federation(grid: Grid, run_config: dict[str, Any], progress: Progress | None = None) -> dict[str, Any]:
    """The server side of one federated run; returns what the server learned (aggregates only)."""
    cfg = dict(run_config)
    task = str(cfg.get("task", ""))
    if task not in T.TASKS:
        raise ConfigError(f"run config 'task' must be one of {', '.join(T.TASKS)}, got {task!r}")
    vr = cfg.get("value-range")
    if isinstance(vr, str):
        vr = [float(x) for x in vr.split(":")] if vr.strip() else None
    if vr is not None and (len(vr) != 2 or not float(vr[0]) < float(vr[1])):
        raise ConfigError(f"value-range must be LO:HI with LO < HI, got {cfg.get('value-range')!r}")
    cfg["value-range"] = [float(vr[0]), float(vr[1])] if vr else None
    timeout = cfg.get("round-timeout")
    s = Session(grid=grid, cfg=cfg, progress=progress, timeout=float(timeout) if timeout else None)
    min_nodes = int(cfg.get("min-districts", 2))
    deadline = time.monotonic() + float(cfg.get("wait-for-districts", 60))
    while len(list(grid.get_node_ids())) < min_nodes and time.monotonic() < deadline:
        time.sleep(1.0)
    nodes = sorted(grid.get_node_ids())
    nodes = s.hello(nodes)
    if len(nodes) < min_nodes:
        raise FederatedError(f"only {len(nodes)} district(s) can take part; at least {min_nodes} are needed "
                             + (f"(left out: {'; '.join(s.excluded.values())})" if s.excluded else ""))
    if bool(cfg.get("secure", True)):
        nodes = s.exchange_keys(nodes)
    out = (_benchmark(s, nodes) if task == "benchmark" else _forecaster(s, nodes) if task == "hotspot-forecaster"
           else _classifier(s, nodes))
    out.update({"task": task, "districts": [s.name(n) for n in nodes], "excluded": s.excluded,
                "missing": s.missing, "events": s.events, "secure": bool(cfg.get("secure", True))})
    return out


def to_jsonable(result: dict[str, Any]) -> dict[str, Any]:
    """The result without arrays (the model goes to MLflow / a file, not into JSON)."""
    out = {k: v for k, v in result.items() if k != "model"}
    return json.loads(json.dumps(out, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    result = run_federation(grid, dict(context.run_config))
    path = context.run_config.get("result-path")
    if path:
        from govml.io import atomic_path

        with atomic_path(str(path)) as tmp:
            tmp.write_text(json.dumps(to_jsonable(result), ensure_ascii=False, indent=2), encoding="utf-8")
    log.info("federated %s finished: %d districts, left out: %s", result["task"], len(result["districts"]),
             result["excluded"] or "none")
