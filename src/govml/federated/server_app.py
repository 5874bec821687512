"""govml's Flower ServerApp: it coordinates districts and only ever sees aggregates.

:func:`run_federation` is the whole server logic; the ``@app.main`` function calls it with the
Grid Flower hands over (``flwr run`` in deployment or simulation) and writes the result as JSON to
``result-path`` when the run config names one. ``govml federated simulate`` calls it with an
in-process :class:`~govml.federated.grid.LocalGrid` — the same code, without Ray.

Every run starts with a *hello* round: each district loads and checks its own table and answers
with its public name, or with an error reply naming itself and the problem. Districts that fail
are left out (and listed in the result); the others go on. Districts that stop answering later are
listed as missing for the round in which they went silent. Every district that answered hello is sent
``query.done`` when the run ends for it (left out at hello, completed, or failed): its own log says so and it
deletes what it kept for the run (govml.federated.node_cache).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, RecordDict
from flwr.serverapp import Grid, ServerApp

from govml.errors import ConfigError, FederatedError, GovmlError
from govml.federated import task as T
from govml.federated.task import choice, flag

log = logging.getLogger(__name__)

STRATEGIES = ("fedadam", "fedavg", "fedprox", "fedmedian", "fedtrimmedavg", "krum")
SECURE_STRATEGIES = ("fedadam", "fedavg", "fedprox")

Progress = Callable[[int, dict[str, float]], None]


@dataclass
class Session:
    """One federated run as the server sees it."""

    grid: Grid
    cfg: dict[str, Any]
    progress: Progress | None = None
    names: dict[int, str] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)
    district_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: dict[str, list[int]] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    pubkeys: dict[int, bytes] = field(default_factory=dict)
    bundles: dict[int, tuple[int, bytes, dict[int, bytes]]] = field(default_factory=dict)
    threshold: int = 2
    neighbours: int = 0  # SecAgg+ mask graph: neighbours per district (0: every district)
    setup_ids: list[int] = field(default_factory=list)
    timeout: float | None = None
    round: int = 0
    answered: list[int] = field(default_factory=list)  # nodes that answered hello (ready or not)
    told: set[int] = field(default_factory=set)  # nodes sent query.done

    def tell(self, notes: dict[int, tuple[str, str]]) -> None:
        """``query.done`` to each node (status, note): the district logs the coordinator's notice about itself —
        never another district's — and deletes its run's cache folder (govml.federated.node_cache). A short
        wait (at most 60 s): a district that misses it keeps its folder until its next run's sweep."""
        notes = {n: v for n, v in notes.items() if n not in self.told}
        if not notes:
            return
        self.told.update(notes)
        msgs = [Message(content=RecordDict({"done": ConfigRecord({"status": st, "note": note})}), dst_node_id=nid,
                        message_type="query.done", group_id=str(self.round)) for nid, (st, note) in notes.items()]
        try:
            list(self.grid.send_and_receive(msgs, timeout=min(self.timeout or 60.0, 60.0)))
        except Exception as exc:  # noqa: BLE001 - the run's result does not depend on it
            log.warning("could not tell %d district(s) that the run ended: %s", len(msgs), exc)

    def farewell(self, took_part: list[int], error: str | None = None) -> None:
        """The run ended: tell every district that answered hello and did not stop answering how it ended
        for it (the left-out ones were told at hello)."""
        notes = {}
        for nid in self.answered:
            name = self.name(nid)
            if name in self.missing:
                continue
            if error is not None:
                notes[nid] = ("failed", "the coordinator's run stopped before the end (the coordinator's log says "
                                        "why); nothing was computed for this district")
            elif nid in took_part:
                notes[nid] = ("completed", f"finished; this district took part ({len(took_part)} districts)")
            else:
                notes[nid] = ("left-out", f"finished without this district: {self.excluded.get(name, 'left out during the run')}")
        self.tell(notes)

    def name(self, node_id: int) -> str:
        return self.names.get(node_id, f"node {node_id}")

    def ordered(self, node_ids: Iterable[int]) -> list[int]:
        """``node_ids`` in the run's fixed order: by district name (what a district keeps from run to run), the
        node id only between nodes without a name. Never by node id alone, nor by arrival: node ids are drawn
        anew at every SuperNode start and replies arrive in any order, and a float sum or average taken in
        another order differs in its last bits (docs/federated.md, "Reproducing a run")."""
        return sorted({int(n) for n in node_ids}, key=lambda n: (n not in self.names, self.names.get(n, ""), n))

    def note(self, text: str) -> None:
        log.warning("%s", text)
        self.events.append(text)

    # -- messaging ----------------------------------------------------------------------------
    def ask(self, node_ids: Iterable[int], mtype: str, content: RecordDict
            ) -> tuple[dict[int, Message], dict[int, str], list[int]]:
        """Send ``content`` to nodes; returns (good replies, error reasons, nodes that never answered)."""
        return self.ask_each({nid: content for nid in node_ids}, mtype)

    def _lost(self, nodes: list[int], why: str) -> None:
        for n in self.ordered(nodes):
            self.missing.setdefault(self.name(n), []).append(self.round)
            self.note(f"round {self.round}: district {self.name(n)} {why}")

    def hello(self, node_ids: list[int]) -> list[int]:
        good, bad, silent = self.ask(node_ids, "query.hello", RecordDict({"config": ConfigRecord(_wire_cfg(self.cfg))}))
        self.answered = sorted([*good, *bad])
        left_out: dict[int, tuple[str, str]] = {}
        for nid, rep in good.items():
            self.names[nid] = str(rep.content.config_records["hello"]["district"])
        good = {nid: good[nid] for nid in self.ordered(good)}  # by name, not in the order the replies came
        bad = dict(sorted(bad.items(), key=lambda kv: (kv[1], kv[0])))
        for nid, rep in good.items():
            size = rep.content.metric_records.get("size")
            if size is not None:  # the rows the district set aside while validating its table: counts only
                counts = {k.removeprefix("excluded."): int(v) for k, v in size.items() if k.startswith("excluded.")}
                self.district_rows[self.names[nid]] = {"rows_used": int(size.get("rows", 0)), "excluded": counts}
                if counts:
                    self.note(f"district {self.names[nid]} left out "
                              + ", ".join(f"{v} row(s) ({k})" for k, v in counts.items()) + " of its table")
        by_name: dict[str, list[int]] = {}
        for nid in good:
            by_name.setdefault(self.names[nid], []).append(nid)
        for name, ids in by_name.items():
            if len(ids) < 2:
                continue
            # two SuperNodes answering as one district: the same table started twice (its rows would count
            # twice) or districts without district= in their node config (named after their files); which one
            # is right cannot be told, so none of them takes part
            self.district_rows.pop(name, None)
            nodes = ", ".join(str(n) for n in sorted(ids))
            for nid in ids:
                del good[nid]
                self.names[nid] = f"{name} (node {nid})"
                self.excluded[self.names[nid]] = (
                    f"district {name}: {len(ids)} SuperNodes (nodes {nodes}) answered as district {name!r}; each "
                    "SuperNode needs its own district=\"...\" in its --node-config (one without it is named after "
                    "its data file) and a table must be served by one SuperNode only — none of them takes part")
                # the districts themselves are told (before session 16 only the coordinator's log said it)
                left_out[nid] = ("left-out", f"this SuperNode (node {nid}) is left out: " + self.excluded[self.names[nid]])
            self.note(f"excluded: {len(ids)} SuperNodes (nodes {nodes}) answered as district {name!r}; none of them "
                      "takes part (give each its own district= in its node config)")
        for nid, reason in bad.items():
            who = reason.split(":")[0]
            self.excluded[who.removeprefix("district ").strip() if who.startswith("district ") else f"node {nid}"] = reason
            self.note(f"excluded: {reason}")
            left_out[nid] = ("left-out", f"left out at the start: {reason}")  # its own reply's reason
        for nid in silent:
            self.excluded[f"node {nid}"] = "no answer to hello"
            # no ClientApp ran for it (seen in the session-17 dry run: a district under --isolation process whose
            # flower-superexec was not started — its SuperNode's log stops at "Receiving: query.hello")
            self.note(f"excluded: node {nid} did not answer (the district whose SuperNode log says 'SuperNode ID: "
                      f"{nid}': no ClientApp answered there within round-timeout; under --isolation process, is its "
                      "flower-superexec running?)")
        self.tell(left_out)
        return self.ordered(good)

    def ask_each(self, contents: dict[int, RecordDict], mtype: str
                 ) -> tuple[dict[int, Message], dict[int, str], list[int]]:
        """Like :meth:`ask`, with one content per node (e.g. the shares addressed to it)."""
        msgs = [Message(content=c, dst_node_id=nid, message_type=mtype, group_id=str(self.round))
                for nid, c in contents.items()]
        replies = list(self.grid.send_and_receive(msgs, timeout=self.timeout))
        # a reply answers the message it names: the SuperLink's own "Node Unavailable" error for a district
        # whose SuperNode went away comes from the SuperLink's node id (1), not the district's
        sent = {m.metadata.message_id: m.metadata.dst_node_id for m in msgs if m.metadata.message_id}
        good, bad = {}, {}
        for rep in replies:
            src = sent.get(rep.metadata.reply_to_message_id, rep.metadata.src_node_id)
            if rep.has_error():
                bad[src] = rep.error.reason or f"error code {rep.error.code}"
            else:
                good[src] = rep
        silent = [n for n in contents if n not in good and n not in bad]
        return good, bad, silent

    # -- secure aggregation (double masking, see govml.federated.secagg) ------------------------------
    def exchange_keys(self, node_ids: list[int]) -> list[int]:
        """Two rounds: each district's encryption public key; then, with everybody's keys and the
        threshold, each district's first bundle (mask public key + encrypted shares for every district)."""
        from govml.federated.secagg import default_threshold, neighbourhood, resolve_neighbours

        cfg = _wire_cfg(self.cfg)
        good, bad, silent = self.ask(node_ids, "query.keys", RecordDict({"config": ConfigRecord({**cfg, "phase": "enc"})}))
        self._lost(list(bad) + silent, "gave no key and is left out of secure aggregation")
        self.pubkeys = {nid: rep.content.array_records["keys"]["pk"].numpy().astype(np.uint8).tobytes()
                        for nid, rep in good.items()}
        nodes = sorted(good)
        min_secure = int(self.cfg.get("min-secure-districts", 2))
        k = resolve_neighbours(self.cfg.get("secagg-neighbours", "auto"), len(nodes), min_secure)
        hood = len(neighbourhood(nodes, k, nodes[0])) if nodes else 0
        t = int(self.cfg.get("secagg-threshold") or 0) or default_threshold(hood, min_secure)
        if len(nodes) < max(t, min_secure, 2):
            raise FederatedError(f"only {len(nodes)} district(s) took part in the key exchange; secure aggregation "
                                 f"needs at least {max(t, min_secure, 2)}")
        if not 2 * t > hood:
            raise ConfigError(f"secagg-threshold {t} for neighbourhoods of {hood} districts: it must be more than "
                              "half of them (otherwise a server could collect both shares of one district)")
        self.threshold, self.neighbours, self.setup_ids = t, k, list(nodes)
        content = RecordDict({"config": ConfigRecord({**cfg, "phase": "bundle", "threshold": t, "neighbours": k}),
                              "peer-keys": self._peer_record(nodes)})
        good, bad, silent = self.ask(nodes, "query.keys", content)
        self._lost(list(bad) + silent, "did not finish the key exchange and is left out of secure aggregation")
        self.bundles = {nid: _bundle_from(rep.content.array_records["next"]) for nid, rep in good.items()}
        nodes = self.ordered(good)
        if len(nodes) < t:
            raise FederatedError(f"only {len(nodes)} district(s) finished the key exchange; the threshold is {t}"
                                 + _missing_text(self, [n for n in self.pubkeys if n not in good]))
        log.info("secure aggregation: %d districts, neighbourhoods of %d, threshold %d (shares needed to remove "
                 "masks)", len(nodes), hood, t)
        return nodes

    def _peer_record(self, node_ids: list[int]) -> ArrayRecord:
        return ArrayRecord({str(n): Array(np.frombuffer(self.pubkeys[n], dtype=np.uint8).copy()) for n in node_ids})

    def _mask_record(self, node_ids: list[int]) -> ArrayRecord:
        return ArrayRecord({str(n): Array(np.frombuffer(self.bundles[n][1], dtype=np.uint8).copy())
                            for n in node_ids})

    def aggregate(self, node_ids: list[int], mtype: str, records: dict[str, Any], length: int, scale: float,
                  tag: str, dp_scale: np.ndarray | None = None) -> tuple[np.ndarray, list[int]]:
        """Sum of the districts' vectors (securely when the run is secure); returns (sum, contributors)."""
        return self._collect(node_ids, mtype, records, length, scale, tag, dp_scale, each=False)

    def gather(self, node_ids: list[int], mtype: str, records: dict[str, Any], length: int,
               tag: str) -> dict[int, np.ndarray]:
        """Each district's own plain vector (robust options: needs ``secure = false``)."""
        if flag(self.cfg, "secure", True):
            raise ConfigError("each district's own reply is only visible with secure = false")
        return self._collect(node_ids, mtype, records, length, 1.0, tag, None, each=True)

    def _collect(self, node_ids: list[int], mtype: str, records: dict[str, Any], length: int, scale: float,
                 tag: str, dp_scale: np.ndarray | None, each: bool) -> Any:
        secure = flag(self.cfg, "secure", True)
        if secure:  # a district that dropped out of a secure sum has no unused bundle: it stays out
            node_ids = [n for n in node_ids if n in self.bundles]
        cfg = _wire_cfg(self.cfg)
        cfg.update(dict(records.get("config", {})))
        cfg.update({"secure": secure, "scale": float(scale), "context": f"{tag}|round={self.round}",
                    "dp-shares": len(node_ids)})
        content = {**records, "config": ConfigRecord(cfg)}
        if secure:
            content["peer-keys"] = self._mask_record(node_ids)
        if dp_scale is not None:
            content["dp"] = ArrayRecord({"scale": Array(np.asarray(dp_scale, dtype=np.float64))})
        good, bad, silent = self.ask(node_ids, mtype, RecordDict(content))
        kind = "masked" if secure else "plain"
        for n in self.ordered(good):  # a reply of the wrong layout would be summed into garbage: refuse it
            vec_rec = good[n].content.array_records.get("vec")
            size = vec_rec[kind].numpy().size if vec_rec is not None and kind in vec_rec else None
            if size != length:
                bad[n] = (f"district {self.name(n)}: its {mtype} reply holds {size} values, expected {length} "
                          "(a different govml version or settings?)")
                del good[n]
        for n in self.ordered(bad):
            self._lost([n], f"failed: {bad[n]}")
        self._lost(silent, "did not answer (dropped out)")
        survivors = self.ordered(good)  # a plain float sum in the run's order, not the node ids'
        if not survivors:
            raise FederatedError(f"round {self.round}: no district answered {mtype}")
        if not secure:
            vecs = [good[n].content.array_records["vec"]["plain"].numpy().astype(np.float64) for n in survivors]
            if each:
                return dict(zip(survivors, vecs, strict=True))
            return np.sum(vecs, axis=0), survivors
        from govml.federated.secagg import dequantize

        total = self._unmask(node_ids, survivors, {n: good[n] for n in survivors}, str(cfg["context"]), mtype)
        return dequantize(total, scale), survivors

    def _unmask(self, node_ids: list[int], survivors: list[int], replies: dict[int, Message], context: str,
                mtype: str) -> np.ndarray:
        """Ask the survivors for seed shares of every survivor and mask-key shares of every dropped
        district, rebuild those secrets and remove the masks; the survivors' next bundles replace the used ones."""
        from govml.federated.secagg import connected, neighbourhood, reconstruct_many, unmask_double

        t = self.threshold
        min_secure = int(self.cfg.get("min-secure-districts", 2))
        dropped = [n for n in node_ids if n not in replies]
        if len(survivors) < max(t, min_secure):
            raise FederatedError(f"round {self.round}: {len(survivors)} of {len(node_ids)} districts answered "
                                 f"{mtype}; removing the masks needs at least {max(t, min_secure)} (threshold t={t})"
                                 + _missing_text(self, dropped))
        used = {n: self.bundles[n] for n in node_ids}
        hoods = {n: neighbourhood(self.setup_ids, self.neighbours, n) for n in node_ids}
        for n in node_ids:
            if len(hoods[n] & set(survivors)) < t:
                raise FederatedError(f"round {self.round}: {len(hoods[n] & set(survivors))} district(s) of "
                                     f"{self.name(n)}'s neighbourhood answered {mtype}; removing its masks needs "
                                     f"{t} (threshold t={t})"
                                     + _missing_text(self, self.ordered(hoods[n] & set(dropped))))
        if not connected(survivors, self.setup_ids, self.neighbours):
            raise FederatedError(f"round {self.round}: the districts that answered {mtype} fall apart into groups "
                                 "of the mask graph whose own sums would show; nothing is unmasked"
                                 + _missing_text(self, dropped))
        good, bad, silent = self.ask_each(unmask_requests(used, survivors, dropped, context), "query.unmask")
        for n in self.ordered(bad):
            self.note(f"round {self.round}: district {self.name(n)} did not help remove the masks: {bad[n]}")
        for n in self.ordered(silent):
            self.note(f"round {self.round}: district {self.name(n)} did not answer the unmask request")
        b_sh: dict[int, list[bytes]] = {n: [] for n in survivors}
        k_sh: dict[int, list[bytes]] = {n: [] for n in dropped}
        for rep in good.values():
            for kind, dest in (("b", b_sh), ("sk", k_sh)):
                rec = rep.content.array_records.get(kind)
                for key, arr in (rec.items() if rec is not None else []):
                    if int(key) in dest:
                        dest[int(key)].append(arr.numpy().astype(np.uint8).tobytes())
        short = [n for n, v in {**b_sh, **k_sh}.items() if len(v) < t]
        if short:
            helpers = ", ".join(self.name(n) for n in self.ordered(good)) or "none"
            raise FederatedError(f"round {self.round}: only {len(good)} district(s) helped remove the masks "
                                 f"({helpers}); the masks of {', '.join(self.name(n) for n in short)} need "
                                 f"{t} shares each" + _missing_text(self, [n for n in survivors if n not in good]
                                                                      + dropped))
        secrets = reconstruct_many({**{("b", n): v for n, v in b_sh.items()},
                                    **{("sk", n): v for n, v in k_sh.items()}}, t)  # one pass, shared Lagrange
        seeds = {n: secrets[("b", n)] for n in b_sh}
        keys = {n: secrets[("sk", n)] for n in k_sh}
        masked = [replies[n].content.array_records["vec"]["masked"].numpy() for n in survivors]
        total = unmask_double(masked, context, seeds, keys, {n: used[n][1] for n in survivors}, hoods)
        for n in survivors:
            self.bundles[n] = _bundle_from(replies[n].content.array_records["next"])
        for n in dropped:
            self.bundles.pop(n, None)
        return total


def unmask_requests(bundles: dict[int, tuple[int, bytes, dict[int, bytes]]], survivors: list[int],
                    dropped: list[int], context: str) -> dict[int, RecordDict]:
    """One ``query.unmask`` request per survivor: who answered, who dropped, and the encrypted shares
    of every district's used bundle that are addressed to that survivor."""
    out = {}
    for r in survivors:
        peers = [p for p in sorted(bundles) if r in bundles[p][2]]
        out[r] = RecordDict({
            "config": ConfigRecord({"context": context, "survivors": [str(n) for n in survivors],
                                    "dropped": [str(n) for n in dropped], "peers": [str(p) for p in peers],
                                    "indices": [int(bundles[p][0]) for p in peers]}),
            "shares": ArrayRecord({str(p): Array(np.frombuffer(bundles[p][2][r], dtype=np.uint8).copy())
                                   for p in peers})})
    return out


def _bundle_from(rec: ArrayRecord) -> tuple[int, bytes, dict[int, bytes]]:
    """(index, mask public key, encrypted shares per recipient) from a district's ``next`` record."""
    shares = {int(k.split("|", 1)[1]): v.numpy().astype(np.uint8).tobytes() for k, v in rec.items()
              if k.startswith("to|")}
    return int(rec["index"].numpy().ravel()[0]), rec["pk"].numpy().astype(np.uint8).tobytes(), shares


def _missing_text(s: Session, nodes: list[int]) -> str:
    return f"; missing: {', '.join(s.name(n) for n in nodes)}" if nodes else ""


def _wire_cfg(cfg: dict[str, Any]) -> dict[str, Any]:
    """The run settings every district needs with each message (no server-only keys)."""
    keys = ("task", "indicators", "labels", "n-features", "local-epochs", "lr", "l2", "batch-size",
            "proximal-mu", "eval-fraction", "val-fraction", "seed", "value-range", "dp-mechanism",
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
    if name in ("fedadam", "fedavg", "fedprox"):  # fedadam: FedAvg's average, then the server's Adam step
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
    secure = flag(s.cfg, "secure", True)
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
        if name == "fedadam":  # Adam's per-coordinate scale would lift every noisy coordinate to the step size
            name = "fedavg"
            s.note("differential privacy: the server averages the noisy updates (FedAvg), not FedAdam's step")
        z = calibrate_noise_multiplier(eps, dp_delta, rounds)
        sigma = z * clip
    # the round is chosen on the districts' own validation rows (a seeded split of their training rows,
    # task.validation_mask), never on the held-out test rows; select-round = false: the last round, no split
    select = flag(s.cfg, "select-round", True)
    s.cfg["val-fraction"] = float(s.cfg.get("val-fraction", 0.2)) if select else 0.0
    eval_rows = "validation" if select and s.cfg["val-fraction"] > 0 else "test"
    chooser = C.RoundChooser(window=int(s.cfg.get("round-window", 5)), patience=int(s.cfg.get("round-patience", 0)))
    def train_round(step: int, r: int, W: np.ndarray, b: np.ndarray, active: list[int], server: Any,
                    all_rows: bool) -> tuple[np.ndarray, np.ndarray, list[int], float]:
        """One round (message step ``step``; ``r``: the round's number within its pass, which seeds the
        districts' shuffles): the districts' local SGD from (W, b) on their fit rows — on fit + validation
        rows with ``all_rows`` (the final pass) — then the aggregate and the server step."""
        before = (W, b)
        s.round = step
        train_cfg = {"server-round": r, "proximal-mu": float(s.cfg.get("proximal-mu", 0.0))
                     if name == "fedprox" else 0.0, "train-on-validation": bool(all_rows)}
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
            W = (vec[:K * F] / n).reshape(K, F)
            b = vec[K * F:K * F + K] / n
            if server is None:
                W, b = W.astype(np.float32), b.astype(np.float32)
            train_loss = float(vec[-1] / n)
        else:
            cfg = dict(_wire_cfg(s.cfg))
            cfg.update(train_cfg)
            cfg["secure"] = False
            good, bad, silent = s.ask(active, "train", RecordDict({**records, "config": ConfigRecord(cfg)}))
            s._lost(list(bad), "failed to train: " + "; ".join(bad[n] for n in s.ordered(bad)) if bad else "failed")
            s._lost(silent, "did not answer (dropped out)")
            got = s.ordered(good)  # Flower's FedAvg and the float64 average sum in this order
            if not got:
                raise FederatedError(f"round {step}: no district returned an update")
            arrays, metrics = strategy.aggregate_train(step, [good[n] for n in got])
            W = arrays["coef"].numpy().astype(np.float32)
            b = arrays["intercept"].numpy().astype(np.float32)
            if server is not None:  # the average in float64, as the secure sum decodes it (Adam scales tiny deltas)
                sizes = {m: float(good[m].content.metric_records["metrics"]["num-examples"]) for m in got}
                total = sum(sizes.values())
                W = sum(sizes[m] * good[m].content.array_records["arrays"]["coef"].numpy().astype(np.float64)
                        for m in got) / total
                b = sum(sizes[m] * good[m].content.array_records["arrays"]["intercept"].numpy().astype(np.float64)
                        for m in got) / total
            train_loss = float(metrics.get("train-loss", float("nan"))) if metrics else float("nan")
        if server is not None:
            W, b = server.step(before, [W, b])
        return W, b, got, train_loss

    def new_server() -> C.ServerAdam | None:
        return C.ServerAdam(lr=float(s.cfg.get("server-lr", 1.0))) if name == "fedadam" else None

    W = np.zeros((K, F), dtype=np.float32)
    b = np.zeros(K, dtype=np.float32)
    server = new_server()
    history = []
    active = list(nodes)
    stopped = False
    eval_n = 0
    for r in range(1, rounds + 1):
        t0 = time.perf_counter()
        W, b, got, train_loss = train_round(r, r, W, b, active, server, all_rows=False)
        active = got
        sc, eval_n = _classifier_eval(s, active, W, b, K, eval_rows)
        chooser.add(sc["macro_f1"], (W, b))
        # federated_eval_*: the summed counts of the rows named by round_selection.eval_rows (validation rows
        # when the round is chosen; the held-out test rows only with select-round = false)
        row = {"round": r, "train_loss": train_loss, "federated_eval_accuracy": sc["accuracy"],
               "federated_eval_macro_f1": sc["macro_f1"], "districts": len(got), "seconds": time.perf_counter() - t0}
        history.append(row)
        if s.progress:
            s.progress(r, row)
        if select and chooser.should_stop():
            stopped = True
            break
    run = len(history)
    chosen = chooser.best() if eval_rows == "validation" else run
    if eval_rows == "validation":
        W, b = chooser.model()
    # the final pass: the chosen number of rounds again from zero, on every training row (fit + validation).
    # The validation rows are a fifth of the training rows, and on a few hundred rows the model trained
    # without them is clearly worse (docs/federated.md). Not under DP: its noise is calibrated for num-rounds.
    refit = eval_rows == "validation" and eval_n > 0 and flag(s.cfg, "refit", True) and eps <= 0
    refit_history = []
    if refit:
        W = np.zeros((K, F), dtype=np.float32)
        b = np.zeros(K, dtype=np.float32)
        server = new_server()
        for r in range(1, chosen + 1):
            t0 = time.perf_counter()
            W, b, got, train_loss = train_round(run + r, r, W, b, active, server, all_rows=True)
            active = got
            row = {"round": r, "train_loss": train_loss, "districts": len(got), "seconds": time.perf_counter() - t0}
            refit_history.append(row)
            if s.progress:
                s.progress(run + r, {"final_pass_train_loss": train_loss})
    dp_report = None
    if eps > 0:
        from govml.federated.dp import _RDP_ORDERS

        spent = min(sum(a / (2 * z * z) for z in z_used) + np.log(1 / dp_delta) / (a - 1) for a in _RDP_ORDERS)
        dp_report = {"epsilon": float(spent), "delta": dp_delta, "target_epsilon": eps, "clip": clip,
                     "noise_multiplier": sigma / clip, "mechanism": "gaussian", "accounting": "rdp",
                     "note": "client-level (a district's whole update); evaluation counts are not noised — "
                             "neither the test counts nor the validation counts that choose the round, so the "
                             "choice of round is not covered by epsilon"}
    sm = chooser.smoothed()
    if not select:
        why = "select-round = false: the last round's model"
    elif eval_rows != "validation" or np.isnan(sm[chosen - 1]):
        why = "no validation rows (val-fraction 0 or every district too small): the last round's model"
    else:
        lo, hi = chooser.span(chosen)
        why = (f"round {chosen} of {run}: the best mean validation macro-F1 of rounds {lo}–{hi} "
               f"({sm[chosen - 1]:.4f}; round {chosen} alone {chooser.scores_[chosen - 1]:.4f}) on {eval_n} validation "
               "rows, summed tp/fp/fn of the districts' own validation rows")
        if stopped:
            why += f"; stopped early: no better round in the {chooser.patience} rounds after it"
        why += (f"; then {chosen} round(s) again from zero on every training row (fit + validation)" if refit
                else "; the model of that round (trained without the validation rows)")
    selection = {**chooser.report(), "chosen_round": chosen, "rounds_run": run, "max_rounds": rounds,
                 "stopped_early": stopped, "final_pass": refit, "final_pass_rounds": len(refit_history),
                 "eval_rows": eval_rows, "validation_rows": eval_n if eval_rows == "validation"
                 else 0, "val_fraction": float(s.cfg["val-fraction"]), "why": why}
    if eval_rows != "validation":  # the per-round scores were on the test rows (history): no validation curve
        selection.pop("smoothed_validation_macro_f1")
        selection["validation_macro_f1"] = []
    out = {"model": {"coef": W, "intercept": b, "labels": labels, "n_features": F}, "history": history,
           "rounds": run, "max_rounds": rounds, "chosen_round": chosen, "round_selection": selection,
           "final_pass_history": refit_history, "training_rounds_total": run + len(refit_history),
           "strategy": name, "contributors": [s.name(n) for n in active], "dp": dp_report}
    if flag(s.cfg, "final-test-eval", True):  # the kept model on the held-out test rows (one more sum)
        s.round += 1
        sc, n_test = _classifier_eval(s, active, W, b, K, "test")
        out["test"] = {**sc, "rows": n_test}
    return out


def _classifier_eval(s: Session, active: list[int], W: np.ndarray, b: np.ndarray, K: int, rows: str
                     ) -> tuple[dict[str, float], int]:
    """Accuracy and macro-F1 of the global model from the districts' summed tp/fp/fn on their ``rows``
    (``validation`` or ``test``); returns (scores, rows counted)."""
    from govml.federated import classifier as C

    ev_records = {"arrays": ArrayRecord({"coef": Array(W), "intercept": Array(b)})}
    if flag(s.cfg, "secure", True):
        ev, _ = s.aggregate(active, "evaluate", {**ev_records, "config": ConfigRecord({"eval-rows": rows})},
                            3 * K + 2, 1.0, "evaluate")
    else:
        cfg = dict(_wire_cfg(s.cfg))
        cfg.update({"secure": False, "eval-rows": rows})
        good, bad, silent = s.ask(active, "evaluate", RecordDict({**ev_records, "config": ConfigRecord(cfg)}))
        s._lost(list(bad) + silent, "did not evaluate")
        ev = np.sum([good[n].content.array_records["vec"]["plain"].numpy() for n in s.ordered(good)], axis=0)
    ev = np.rint(ev).astype(np.int64)
    return (C.scores_from_counts(ev[:K], ev[K:2 * K], ev[2 * K:3 * K], int(ev[3 * K]), int(ev[3 * K + 1])),
            int(ev[3 * K]))


class _DistrictsLeft(Exception):  # noqa: N818 — a signal: the set of districts changed mid-step
    pass


class _Rescreen(Exception):  # noqa: N818 — a signal: a district failed the robust checks, train again
    pass


class _DataStart(Exception):  # noqa: N818 — a signal: the panel's leading weeks are before data collection
    def __init__(self, start: int, events: int, active: list[int]) -> None:
        super().__init__(start)
        self.start, self.events, self.active = start, events, active


def _forecaster(s: Session, nodes: list[int]) -> dict[str, Any]:
    """:func:`_forecaster_run`, with the central model's data start (``govml.hotspot.forecast.data_start``):
    when the citywide weekly totals of the first training sums show that the panel's leading weeks hold
    almost no events (e.g. 4 stray messages in the 18 months before an export really starts), those
    weeks are left out of the agreed periods — the districts build their panels again on the weeks
    that remain — and training starts again, as the central model drops them before it fits. The totals
    are the column sums of the citywide sums every district sends anyway (no further data, one more
    round of those sums only when weeks are left out). ``data_start`` in the result says how many weeks."""
    try:
        return _forecaster_run(s, nodes)
    except _DataStart as ds:
        periods = [str(p) for p in s.cfg["periods"]]
        s.cfg["periods"] = periods[ds.start:]
        s.cfg["data-start-applied"] = ds.start
        s.note(f"round {s.round}: the panel's first {ds.start} week(s) (before {periods[ds.start]}) hold "
               f"{ds.events} event(s) in all, under 10% of the 90th percentile of the weekly citywide totals: "
               "taken as before data collection began and left out, as the central model does; training starts "
               f"again from {periods[ds.start]}")
        out = _forecaster_run(s, ds.active)
        out["data_start"] = {"weeks_left_out": ds.start, "first_week": periods[ds.start], "events_before": ds.events}
        return out


def _forecaster_run(s: Session, nodes: list[int]) -> dict[str, Any]:
    """Histogram boosting over the districts' own panels (see govml.federated.forecaster).

    With ``backtest-origins = N`` the server first runs the rolling-origin backtest of ``govml
    hotspots backtest`` (the same origins: :func:`govml.hotspot.backtest.choose_origins` on the
    panel's weeks): one model per origin on the weeks up to it, each district keeps its own
    forecasts, and the metrics come from sums the districts compute on their own cells
    (:func:`_score_backtest`). A district that leaves is dropped from the run: the tree being grown
    is grown again from its root with the districts that remain, and the result and the log say
    who left and when (``left_during_run``).
    """
    import pandas as pd

    from govml.federated import forecaster as FC
    from govml.federated.gbdt import BinEdges, Booster, GBDTParams, RegrowTree, Tree, fit_many, pack_trees
    from govml.hotspot.features import FeatureSpec

    cats = [c for c in str(s.cfg.get("categories", "")).split("|") if c]
    periods = [str(p) for p in (s.cfg.get("periods") or [])]
    if not periods and s.cfg.get("panel-start") and s.cfg.get("panel-end"):
        # weeks start on Monday, as in govml.hotspot (calendar.FREQS["W"])
        start = pd.Timestamp(str(s.cfg["panel-start"])).normalize()
        start -= pd.Timedelta(days=start.day_of_week)
        periods = [str(p.date()) for p in pd.date_range(start, pd.Timestamp(str(s.cfg["panel-end"])), freq="W-MON")]
        s.cfg["periods"] = periods
    if not cats or len(periods) < 3:
        raise ConfigError("the hotspot forecaster needs the agreed 'categories' (separated by |) and the weeks of "
                          "the panel ('panel-start' and 'panel-end', or a 'periods' list) in the run config")
    T, n_cat = len(periods), len(cats)
    pidx = pd.DatetimeIndex(pd.to_datetime(periods))
    F = FC.n_model_features(pidx, FeatureSpec(categoricals=("category",)))
    edges = BinEdges.counts(F, max_value=float(s.cfg.get("max-value", 1000.0)), n_bins=int(s.cfg.get("n-bins", 32)))
    B = edges.n_bins
    scale = float(s.cfg.get("fixed-point-scale", 2.0**20))
    horizon = int(s.cfg.get("horizon", 4))
    min_nodes = max(int(s.cfg.get("min-districts", 2)), 1)
    params = GBDTParams(n_trees=int(s.cfg.get("num-rounds", 10)), max_depth=int(s.cfg.get("max-depth", 4)),
                        learning_rate=float(s.cfg.get("learning-rate", 0.1)),
                        min_child_count=int(s.cfg.get("min-child-count", 50)))
    state: dict[str, Any] = {"active": list(nodes)}
    left: list[dict[str, Any]] = []
    robust = flag(s.cfg, "forecaster-robust", False)
    policy = str(s.cfg.get("forecaster-robust-policy") or "rescale")
    if policy not in ("rescale", "exclude"):
        raise ConfigError(f"forecaster-robust-policy must be rescale or exclude, got {policy!r}")
    # boost from the central model's level (docs/federated.md); the robust checks' chain starts from a
    # constant base, so the robust option keeps the constant start
    with_level = flag(s.cfg, "forecaster-level", True) and not robust
    k_lev = len(FC.level_windows()) if with_level else 0
    blk = 2 + (k_lev * k_lev + k_lev if with_level else 0)  # base reply per model: [Σy, n] (+ level sums)
    level_info: dict[str, Any] = {}
    # the central model's holiday factor (govml.federated.forecaster): each district computes it from the
    # citywide sums it receives; the server, holding the same sums, reports it (no further message)
    from govml.federated.client_app import holidays_mode

    try:
        holidays = holidays_mode(s.cfg) if with_level else None
    except GovmlError as exc:
        raise ConfigError(str(exc)) from exc
    holiday_info: dict[str, Any] = {}
    # the central model's inner-holdout choices (govml.federated.forecaster): a calibration model per
    # model, grown in the same lockstep (under the robust option its histograms are checked like the
    # model's; the holdout sums are not — they only choose among bounded candidates: a tree count, a w)
    point = str(s.cfg.get("forecaster-point") or "mean")
    if point not in ("auto", "mean"):
        raise ConfigError(f"forecaster-point must be auto or mean, got {point!r}")
    select = flag(s.cfg, "forecaster-select-trees", False)
    cal_origins = int(s.cfg.get("calibration-origins", 4))
    calibrate = (point == "auto" or select) and cal_origins > 0
    # the central model's untested_trees (session 9): a model with no inner holdout to choose its tree count
    # on is the level alone ("none", default) instead of num-rounds trees no holdout chose ("all")
    untested = choice(s.cfg, "forecaster-untested-trees", "none", FC.UNTESTED_TREES)
    level_alone = FC.untested_level_alone(untested, select, with_level)
    no_holdout: list[str] = []  # models given the level alone
    holdout_info: dict[str, Any] = {}
    screened: list[dict[str, Any]] = []  # districts whose replies failed the robust checks
    rescaled: dict[str, dict[str, Any]] = {}  # districts whose scaled replies were divided back
    from govml.federated import screening as SC

    copies = SC.CopyScreen()  # robust option: districts sending every count g-fold (poison-all)
    s.round = 0

    def shrink(got: list[int], where: str) -> bool:
        """Keep only the districts that answered; True when some left (each named in the log)."""
        gone = [n for n in state["active"] if n not in got]
        for n in gone:
            left.append({"district": s.name(n), "round": s.round, "during": where})
            s.note(f"round {s.round}: district {s.name(n)} left the run during {where}; "
                   f"{len(got)} district(s) go on")
        state["active"] = s.ordered(got)
        if len(got) < min_nodes:
            raise FederatedError(f"round {s.round}: only {len(got)} district(s) remain; at least {min_nodes} "
                                 f"are needed (left: {', '.join(d['district'] for d in left)})")
        return bool(gone)

    def screen_out(bad: dict[int, str], where: str) -> None:
        """Robust option: leave out the districts whose replies cannot be honest, for the rest of the run."""
        for n, why in ((n, bad[n]) for n in s.ordered(bad)):
            screened.append({"district": s.name(n), "round": s.round, "during": where, "reason": why})
            s.note(f"round {s.round}: district {s.name(n)} failed the robust check during {where} ({why}); "
                   "it is left out for the rest of the run")
        state["active"] = [n for n in state["active"] if n not in bad]
        if len(state["active"]) < min_nodes:
            raise FederatedError(f"round {s.round}: only {len(state['active'])} district(s) remain after the robust "
                                 f"checks; at least {min_nodes} are needed "
                                 f"(left out: {', '.join(d['district'] for d in screened)})")

    def rescaled_note(n: int, factors: tuple[float, float], where: str) -> None:
        """Robust option, policy rescale: a reply that was an exact multiple of an honest one."""
        name = s.name(n)
        if name not in rescaled:
            rescaled[name] = {"district": name, "round": s.round, "during": where, "count_factor": factors[0],
                              "gh_factor": factors[1], "replies": 0}
            s.note(f"round {s.round}: district {name} sent histograms scaled ×{factors[1]:.6g} (counts "
                   f"×{factors[0]:.6g}) against its declared totals during {where}; divided back and kept")
        rescaled[name]["replies"] += 1

    def plain_sum(vecs: dict[int, np.ndarray]) -> np.ndarray:
        return np.sum([vecs[n] for n in s.ordered(vecs)], axis=0)  # the run's order, not the node ids'

    def train(cuts: list[int], labels: list[str]) -> list[tuple[float, Any, Any, Any]]:
        """One model per cut: ``(base, booster, level weights, point rule)``; with the inner holdout
        (``forecaster-point = "auto"`` / ``forecaster-select-trees``) each model's calibration model
        (cut ``calibration-origins + horizon`` weeks earlier) grows in the same lockstep, the districts
        score it on their holdout cells (two secure sums), and the central rules pick the tree count,
        the dispersion and the point weight per horizon (``point rule``: ``(dispersions, weights)``)."""
        if not calibrate:
            zero = set(cuts) if level_alone else set()  # select-trees with calibration-origins = 0
            if zero:
                no_holdout.extend(labels)
                s.note(f"{', '.join(labels)}: no inner holdout (calibration-origins = 0): the level alone "
                       "(0 trees; forecaster-untested-trees = none)")
            return [(*m, None) for m in train_plain(cuts, labels, zero)]
        cal = {c: c - horizon - cal_origins + 1 for c in cuts if c - horizon - cal_origins - horizon >= 4}
        zero = {c for c in cuts if c not in cal} if level_alone else set()
        for c in cuts:
            if c not in cal:
                if c in zero:
                    no_holdout.append(labels[cuts.index(c)])
                s.note(f"{labels[cuts.index(c)]}: too little history for an inner holdout ({c} weeks): "
                       + ("the level alone (0 trees; forecaster-untested-trees = none)" if c in zero
                          else f"{params.n_trees} trees no holdout chose") + ", yhat = the mean")
        names = dict(zip(cuts, labels, strict=True))
        all_cuts = sorted(set(cuts) | set(cal.values()))
        grown = dict(zip(all_cuts, train_plain(all_cuts, [names.get(c, f"calibration model, {c} weeks")
                                                           for c in all_cuts], zero), strict=True))
        mc = [c for c in cuts if c in cal]
        H = horizon
        chosen = {c: (0 if c in zero else params.n_trees, None) for c in cuts}
        if mc:
            grid = FC.tree_grid(params.n_trees) if select else np.array([params.n_trees], dtype=np.int64)
            G, W = len(grid), FC.point_weights()
            what = names[mc[0]] if len(mc) == 1 else f"{len(mc)} backtest models"

            def ask(phase: str, extra: dict[str, Any], length: int) -> np.ndarray:
                while True:  # a district that leaves: its sums are missing, ask the others again
                    s.round += 1
                    cfg = {"phase": phase, "cuts": mc, "cal-cuts": [cal[c] for c in mc], "grid": [int(k) for k in grid],
                           "cal-bases": [grown[cal[c]][0] for c in mc], **extra}
                    if grown[cal[mc[0]]][2] is not None:
                        cfg["level-weights"] = [float(x) for c in mc for x in grown[cal[c]][2]]
                    rec = {"config": ConfigRecord(cfg), "trees": ArrayRecord(
                        {str(cal[c]): Array(pack_trees(grown[cal[c]][1].trees)) for c in mc})}
                    vec, got = s.aggregate(state["active"], "query.holdout", rec, length, scale, f"holdout-{phase}")
                    if not shrink(got, f"{what}: inner holdout"):
                        return vec / FC.HOLDOUT_WIRE

            staged = ask("staged", {}, len(mc) * H * G * len(FC.HOLDOUT_SUMS)).reshape(len(mc), H, G, -1)
            js = [FC.choose_trees_from_sums(v) if select else 0 for v in staged]
            disp = [[FC.dispersion_from_sums(staged[i, h, js[i]]) for h in range(H)] for i in range(len(mc))]
            pws = [[0.0] * H for _ in mc]
            if point == "auto":
                release = [cal[c] for c in mc if cal[c] not in cuts]
                ps = ask("point", {"tree-counts": [int(grid[j]) for j in js], "dispersions": [a for d in disp for a in d],
                                   "release-cuts": release}, len(mc) * H * (1 + len(W)) * 3).reshape(len(mc), H, 1 + len(W), 3)
                pws = [[FC.point_weight_from_sums(ps[i, h], W) for h in range(H)] for i in range(len(mc))]
            for i, c in enumerate(mc):
                chosen[c] = (int(grid[js[i]]), (disp[i], pws[i]) if point == "auto" else None)
                holdout_info[names[c]] = {"n_trees": int(grid[js[i]]), "dispersion": [round(a, 6) for a in disp[i]],
                                          "point_weight": pws[i]}
        out = []
        for c in cuts:
            base, booster, lw = grown[c]
            k, rule = chosen[c]
            booster.trees = booster.trees[:k]  # the first k trees are the model grown with k trees
            out.append((base, booster, lw, rule))
        return out

    def train_plain(cuts: list[int], labels: list[str], zero: set[int] | None = None) -> list[tuple[float, Any, Any]]:
        """:func:`train_once`; with the robust option, again from the citywide sums without a district
        whose base sums or histograms failed a check (every sum it took part in is suspect)."""
        for _attempt in range(len(nodes)):
            try:
                return train_once(cuts, labels, zero or set())
            except _Rescreen:
                continue
        raise FederatedError("robust checks: districts kept failing")

    def train_once(cuts: list[int], labels: list[str], zero: set[int]) -> list[tuple[float, Any, Any]]:
        """One model per cut, grown in lockstep: every step is one secure sum for all of them. The cuts in
        ``zero`` (the level alone) take part in the citywide and base sums only: no tree is grown for them."""
        from govml.federated import screening as SC

        what = labels[0] if len(labels) == 1 else f"{len(labels)} backtest models"
        s.round += 1
        city_len = sum(n_cat * (c + 1) for c in cuts)
        ends = np.cumsum([n_cat * (c + 1) for c in cuts])[:-1]
        own_city: dict[int, list[np.ndarray]] = {}
        if robust:
            vecs = s.gather(state["active"], "query.city", {"config": ConfigRecord({"cuts": cuts})}, city_len, "city")
            shrink(s.ordered(vecs), f"{what}: citywide sums")
            for n in s.ordered(vecs):  # every count a multiple of g: g copies of each series? (confirmed below)
                if copies.city(n, [vecs[n]]) > 1:
                    vecs[n] = copies.divide(n, vecs[n])
            own_city = {n: [v.reshape(n_cat, c + 1) for c, v in zip(cuts, np.split(vec, ends), strict=True)]
                        for n, vec in vecs.items()}
            bad = {n: f"cut {c}: {why}" for n, mats in own_city.items() for c, m in zip(cuts, mats, strict=True)
                   if (why := SC.check_city(m, c))}
            screen_out(bad, f"{what}: citywide sums")
            city = plain_sum({n: v for n, v in vecs.items() if n not in bad})
        else:
            city, got = s.aggregate(state["active"], "query.city", {"config": ConfigRecord({"cuts": cuts})},
                                    city_len, 1.0, "city")
            shrink(got, f"{what}: citywide sums")
        if "data-start-applied" not in s.cfg:  # the central model's data start, from the sums just taken
            first = int(np.argmin(cuts))
            mat = np.split(city, ends)[first].reshape(n_cat, cuts[first] + 1)
            start = FC.city_data_start(mat)
            s.cfg["data-start-applied"] = 0
            if start > 0:
                raise _DataStart(start, int(round(mat[:, :start].sum())), list(state["active"]))
        city_rec = ArrayRecord({str(c): Array(v.reshape(n_cat, c + 1))
                                for c, v in zip(cuts, np.split(city, ends), strict=True)})
        if holidays:  # what the districts will multiply their level by (the same sums, the same rule)
            for c, v, lab in zip(cuts, np.split(city, ends), labels, strict=True):
                hf, _fac = FC.holiday_factors(v.reshape(n_cat, c + 1), pidx[:c], "W", c, None, holidays)
                holiday_info[lab] = hf.describe() if hf is not None and hf.active else None
        s.round += 1
        base_rec = {"config": ConfigRecord({"phase": "base", "cuts": cuts, "level": with_level}), "city": city_rec}
        screen = SC.HistogramScreen(rescale=policy == "rescale")
        if robust:
            vecs = s.gather(state["active"], "query.gbdt", base_rec, 2 * len(cuts), "base")
            shrink(s.ordered(vecs), f"{what}: base scores")
            vecs = {n: copies.divide(n, v) for n, v in vecs.items()}
            bad = {}
            for n, vec in vecs.items():
                for i, c in enumerate(cuts):
                    if why := SC.check_base(vec[2 * i:2 * i + 2], own_city[n][i], c, horizon):
                        bad[n] = f"cut {c}: {why}"
                        break
            if bad:  # its city sums or its base sums lie: the citywide features took them in
                screen_out(bad, f"{what}: base scores")
                raise _Rescreen
            bs = plain_sum(vecs)
        else:
            bs, got = s.aggregate(state["active"], "query.gbdt", base_rec, blk * len(cuts), scale, "base")
            shrink(got, f"{what}: base scores")
        bs = bs.reshape(len(cuts), blk)
        bases = [float(np.log(max(v[0], 1e-9) / max(v[1], 1.0))) for v in bs]
        weights: list[np.ndarray] = []
        if with_level:  # the central level rule's QP on the summed level sums; boosting starts from the level
            weights = [FC.level_weights(v[2:] / FC.LEVEL_WIRE, k_lev) for v in bs]
            bases = [0.0] * len(cuts)
            level_info.update({"windows": [str(w) for w in FC.level_windows()],
                               "weights": {lab: [round(float(x), 6) for x in w]
                                           for lab, w in zip(labels, weights, strict=True)}})
        if robust:
            for n, vec in vecs.items():
                for i in range(len(cuts)):
                    screen.start(n, i, vec[2 * i:2 * i + 2], bases[i])

        def hist_many(reqs: dict[int, tuple[list[Tree], Tree, list[int]]]) -> dict[int, np.ndarray]:
            s.round += 1
            keys = sorted(reqs)
            sizes = [len(reqs[i][2]) for i in keys]
            hist_cfg = {"phase": "hist", "cuts": [cuts[i] for i in keys], "bases": [bases[i] for i in keys],
                        "frontier-sizes": sizes, "frontier": [int(f) for i in keys for f in reqs[i][2]]}
            if weights:
                hist_cfg["level-weights"] = [float(x) for i in keys for x in weights[i]]
            rec = {"config": ConfigRecord(hist_cfg),
                   "trees": ArrayRecord({str(cuts[i]): Array(pack_trees(reqs[i][0])) for i in keys}),
                   "tree": ArrayRecord({str(cuts[i]): Array(reqs[i][1].to_arrays()) for i in keys})}
            where = "; ".join(f"{labels[i]}: tree {len(reqs[i][0]) + 1}" for i in keys[:3]) + (
                " …" if len(keys) > 3 else "")
            if robust:
                vecs = s.gather(state["active"], "query.gbdt", rec, sum(sizes) * F * B * 3, "hist")
                bad = {}
                for n in s.ordered(vecs):
                    before = copies.factor(n)
                    vecs[n], seen = copies.hist(n, vecs[n])
                    g = copies.confirmed.get(n, 0)
                    if seen == "refuted":
                        s.note(f"round {s.round}: district {s.name(n)}'s citywide counts are all multiples of {before}, "
                               f"its histogram counts are not (common factor {copies.bound[n]}); training starts again")
                        raise _Rescreen
                    if seen == "confirmed" and policy == "exclude":
                        bad[n] = f"every count it sent is a multiple of {g} (as if it held {g} copies of each series)"
                    elif seen == "confirmed":
                        rescaled[s.name(n)] = {"district": s.name(n), "round": s.round, "during": where,
                                               "count_factor": float(g), "gh_factor": float(g), "replies": 0,
                                               "copies": g}
                        s.note(f"round {s.round}: district {s.name(n)} sent every count as a multiple of {g} (as if "
                               f"it held {g} copies of each series) from its citywide sums on; divided by {g} and kept")
                    if n in copies.confirmed and s.name(n) in rescaled:
                        rescaled[s.name(n)]["replies"] += 1
                for n, own in vecs.items():
                    if n in bad:
                        continue
                    blocks = np.split(own, np.cumsum([k * F * B * 3 for k in sizes])[:-1])
                    kept = []
                    for i, k, blk in zip(keys, sizes, blocks, strict=True):
                        v = screen.check(n, i, bases[i], *reqs[i], blk.reshape(k, F, B, 3))
                        if v.reason:
                            bad[n] = f"{labels[i]}: {v.reason}"
                            break
                        kept.append(v.hists.ravel())
                        if v.factors:
                            rescaled_note(n, v.factors, where)
                    if n not in bad:
                        vecs[n] = np.concatenate(kept)
                if bad:  # everything it sent so far is suspect: train again without it
                    screen_out(bad, where)
                    raise _Rescreen
                vec, got = plain_sum(vecs), s.ordered(vecs)
            else:
                vec, got = s.aggregate(state["active"], "query.gbdt", rec, sum(sizes) * F * B * 3, scale, "hist")
            if shrink(got, where):
                # the parents' histograms held the departed district's rows: regrow the unfinished trees
                s.note(f"round {s.round}: the unfinished tree of each model ({where}) is grown again from its "
                       f"root with the {len(got)} remaining district(s)")
                raise RegrowTree
            parts = np.split(vec, np.cumsum([n * F * B * 3 for n in sizes])[:-1])
            return {i: v.reshape(n, F, B, 3) for i, n, v in zip(keys, sizes, parts, strict=True)}

        def on_tree(i: int, t: int, tree: Tree) -> None:
            if s.progress and i == grow[0]:  # the first model that grows trees (not one given the level alone)
                s.progress(t + 1, {"leaves": float(sum(1 for f in tree.feature if f < 0))})

        grow = [i for i, c in enumerate(cuts) if c not in zero]

        def hist_grown(reqs: dict[int, tuple[list[Tree], Tree, list[int]]]) -> dict[int, np.ndarray]:
            got = hist_many({grow[j]: r for j, r in reqs.items()})
            return {j: got[grow[j]] for j in reqs}

        boosters = [Booster(base=b, trees=[], edges=edges) for b in bases]
        if grow:
            for i, b in zip(grow, fit_many(hist_grown, [bases[i] for i in grow], edges, params,
                                           on_tree=lambda j, t, tree: on_tree(grow[j], t, tree)), strict=True):
                boosters[i] = b
        return [(b, m, weights[i] if weights else None) for i, (b, m) in enumerate(zip(bases, boosters, strict=True))]

    def forecast(models: list[tuple[float, Any, Any, Any]], cuts: list[int], what: str, backtest: bool) -> int:
        s.round += 1
        cfg = {**_wire_cfg(s.cfg), "cuts": cuts, "bases": [m[0] for m in models]}
        if models[0][2] is not None:
            cfg["level-weights"] = [float(x) for m in models for x in m[2]]
        if any(m[3] is not None for m in models):  # the point rule; a model without a holdout keeps the mean
            cfg["dispersions"] = [float(a) for m in models for a in (m[3][0] if m[3] else [0.0] * horizon)]
            cfg["point-weights"] = [float(w) for m in models for w in (m[3][1] if m[3] else [0.0] * horizon)]
        if backtest:
            cfg["origin-indices"] = list(range(len(cuts)))
        good, bad, silent = s.ask(state["active"], "query.forecast", RecordDict({
            "config": ConfigRecord(cfg),
            "trees": ArrayRecord({str(c): Array(pack_trees(m[1].trees)) for c, m in zip(cuts, models, strict=True)})}))
        s._lost(list(bad) + silent, "did not forecast")
        if backtest:
            shrink(s.ordered(good), f"{what}: forecasts")
        return len(good)

    out: dict[str, Any] = {"rounds": params.n_trees}
    n_origins = int(s.cfg.get("backtest-origins", 0) or 0)
    if n_origins > 0:
        from govml.hotspot.backtest import choose_origins

        origins = choose_origins(pidx, horizon, n_origins)
        cuts = [int(pidx.get_loc(o)) + 1 for o in origins]
        models = train(cuts, [f"backtest origin {o.date()}" for o in origins])
        forecast(models, cuts, "backtest", True)
        # score-districts: score on these districts' cells only (compare runs on the same cells)
        only = {x for x in str(s.cfg.get("score-districts") or "").split("|") if x}
        scorers = {"active": [n for n in state["active"] if not only or s.name(n) in only]}
        if not scorers["active"]:
            raise ConfigError(f"score-districts names no district that is still in the run: {', '.join(sorted(only))} "
                              f"(in the run: {', '.join(s.name(n) for n in state['active'])})")

        def shrink_scorers(got: list[int], where: str) -> bool:
            gone = [n for n in scorers["active"] if n not in got]
            shrink([n for n in state["active"] if n not in gone], where)
            scorers["active"] = [n for n in scorers["active"] if n in got]
            return bool(gone)

        out["backtest"] = _score_backtest(s, scorers, shrink_scorers, [str(o.date()) for o in origins], horizon)
    if n_origins <= 0 or not flag(s.cfg, "backtest-only", False):
        final, = train([T], ["final model"])
        base, booster, lw, _rule = final
        out["model"] = {"base": base, "trees": [t.to_arrays() for t in booster.trees],
                        "level_weights": None if lw is None else [float(x) for x in lw]}
        out["forecasts_written"] = forecast([final], [T], "final model", False)
    out["level"] = {"on": with_level, **level_info}
    out["holidays"] = {"on": bool(holidays), "factors": holiday_info}
    out["inner_holdout"] = {"on": calibrate, "point": point, "select_trees": select, "models": holdout_info,
                            "untested_trees": untested, "level_alone": no_holdout}
    out.update({"messages_per_district": s.round, "contributors": [s.name(n) for n in state["active"]],
                "left_during_run": left, "robust": robust, "robust_policy": policy if robust else None,
                "excluded_districts": screened, "rescaled_districts": list(rescaled.values())})
    return out


def _score_backtest(s: Session, state: dict[str, Any], shrink: Callable[[list[int], str], bool],
                    origins: list[str], horizon: int) -> dict[str, Any]:
    """Backtest metrics from the districts' own sums: ``mae``/``rmse``/``wape``/``poisson_deviance``
    from summed point sums, ``precision_top{k}pct`` per map (origin × horizon) from secure counts
    (:class:`govml.federated.forecaster.TopKSearch`), averaged over maps as
    :func:`govml.hotspot.backtest.evaluate` does. If a district leaves while scoring, scoring starts
    again with the others (every number must come from the same cells)."""
    from govml.federated import forecaster as FC

    pcts = [float(p) for p in str(s.cfg.get("top-pcts", "2")).split(",") if p.strip()]
    eval_scale = float(s.cfg.get("eval-fixed-point-scale", 2.0**16))
    M = len(origins) * horizon
    base_cfg = {"origins": list(range(len(origins)))}
    for _attempt in range(len(state["active"])):
        try:
            s.round += 1
            sums, got = s.aggregate(state["active"], "query.score",
                                    {"config": ConfigRecord({**base_cfg, "phase": "sums"})},
                                    M * len(FC.POINT_SUMS), eval_scale, "score-sums")
            if shrink(got, "backtest scoring"):
                raise _DistrictsLeft
            sums = sums.reshape(M, len(FC.POINT_SUMS))
            n = np.rint(sums[:, 0]).astype(np.int64)
            prec: dict[str, np.ndarray] = {}
            ties, stages = 0, 0
            for pct in pcts:
                search = FC.TopKSearch(n, pct)
                while not search.finished():
                    thr = search.thresholds()
                    s.round += 1
                    rec = {"config": ConfigRecord({**base_cfg, "phase": "count"}),
                           "thresholds": ArrayRecord({"y": Array(thr[0]), "yhat": Array(thr[1])})}
                    counts, got = s.aggregate(state["active"], "query.score", rec, thr.size, 1.0, "score-count")
                    if shrink(got, "backtest scoring"):
                        raise _DistrictsLeft
                    search.update(thr, np.rint(counts).reshape(thr.shape))
                kth, hi, lo = search.hit_thresholds()
                s.round += 1
                rec = {"config": ConfigRecord({**base_cfg, "phase": "hits"}),
                       "thresholds": ArrayRecord({"kth": Array(kth), "hi": Array(hi), "lo": Array(lo)})}
                hits, got = s.aggregate(state["active"], "query.score", rec, M * 2, 1.0, "score-hits")
                if shrink(got, "backtest scoring"):
                    raise _DistrictsLeft
                prec[f"precision_top{pct:g}pct"] = search.precision(np.rint(hits).reshape(M, 2))
                ties += search.ties()
                stages += search.stages
            break
        except _DistrictsLeft:
            continue
    else:
        raise FederatedError("backtest scoring: districts kept leaving")

    def block(rows: np.ndarray) -> dict[str, float]:
        m = FC.metrics_from_sums(sums[rows])
        m.update({k: float(np.mean(v[rows])) for k, v in prec.items()})
        return m

    idx = np.arange(M)
    by_h = {f"h{h}": block(idx[idx % horizon == h - 1]) for h in range(1, horizon + 1)}
    per_origin = [{"origin": o, **block(idx[idx // horizon == i])} for i, o in enumerate(origins)]
    return {"origins": origins, "horizon": horizon, "metrics": {"all": block(idx), **by_h},
            "per_origin": per_origin, "districts_scored": [s.name(n) for n in state["active"]],
            "maps_with_tied_forecasts": ties, "threshold_stages": stages,
            "note": "every metric is computed from sums over the districts' own cells; "
                    "quantisation error of the point sums at most n_districts * 0.5 / eval scale"}


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
    if task == "hotspot-forecaster" and flag(cfg, "forecaster-robust", False) and flag(cfg, "secure", True):
        raise ConfigError("forecaster-robust checks each district's own histograms, which secure aggregation "
                          "hides: set secure = false (--no-secure) to use it")
    timeout = cfg.get("round-timeout")
    s = Session(grid=grid, cfg=cfg, progress=progress, timeout=float(timeout) if timeout else None)
    min_nodes = int(cfg.get("min-districts", 2))
    deadline = time.monotonic() + float(cfg.get("wait-for-districts", 60))
    while len(list(grid.get_node_ids())) < min_nodes and time.monotonic() < deadline:
        time.sleep(1.0)
    nodes = sorted(grid.get_node_ids())
    nodes = s.hello(nodes)
    try:
        if len(nodes) < min_nodes:
            raise FederatedError(f"only {len(nodes)} district(s) can take part; at least {min_nodes} are needed "
                                 + (f"(left out: {'; '.join(describe_left_out(s.excluded))})" if s.excluded else ""))
        if flag(cfg, "secure", True):
            nodes = s.exchange_keys(nodes)
        out = (_benchmark(s, nodes) if task == "benchmark" else _forecaster(s, nodes)
               if task == "hotspot-forecaster" else _classifier(s, nodes))
    except BaseException as exc:
        s.farewell([], error=str(exc))  # the districts delete what they kept for the run
        raise
    screened = {str(d.get("district")) for d in out.get("excluded_districts") or []}
    took_part = [n for n in nodes if s.name(n) not in s.missing and s.name(n) not in s.excluded
                 and s.name(n) not in screened]
    s.farewell(took_part)
    out.update({"task": task, "districts": [s.name(n) for n in nodes], "excluded": s.excluded,
                "district_rows": s.district_rows, "missing": s.missing, "events": s.events, "secure": flag(cfg, "secure", True),
                "secure_threshold": s.threshold if flag(cfg, "secure", True) else None,
                "secure_neighbours": s.neighbours if flag(cfg, "secure", True) else None})
    return out


def to_jsonable(result: dict[str, Any]) -> dict[str, Any]:
    """The result without arrays (the model goes to MLflow / a file, not into JSON)."""
    out = {k: v for k, v in result.items() if k != "model"}
    return json.loads(json.dumps(out, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def check_result_path(path: str) -> Path:
    """``result-path`` can be written (its folder is made if missing) — checked before the run, not after it.
    The path is on the SuperLink's machine (the ServerApp runs there), relative to its working folder."""
    import os
    import tempfile

    target = Path(str(path)).expanduser().absolute()
    if target.is_dir():
        raise ConfigError(f"run config result-path {str(path)!r} is a folder; name the JSON file to write")
    above = next((p for p in target.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise ConfigError(f"run config result-path {str(path)!r} cannot be written on the SuperLink's machine: "
                          f"{str(above)!r} is a file, not a folder; nothing was run")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=target.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"run config result-path {str(path)!r} cannot be written on the SuperLink's machine "
                          f"({exc.strerror or exc}: {exc.filename or target.parent}); nothing was run") from None
    return target


class RunStopped(Exception):
    """A deployment run stopped on a user's error (bad run config, too few districts …); its message is the
    govml error's — raised without the library's traceback, so Flower's log ends on that line."""


def _write_result(path: Path, payload: dict[str, Any]) -> None:
    from govml.io import atomic_path

    with atomic_path(str(path)) as tmp:
        tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")


app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    """A deployment's run (`flwr run`): the run config checked, the federation run, the result written to
    ``result-path`` with ``"status": "completed"`` — or, when the run stops, ``{"status": "failed", "error": …}``
    there (a script reading the file never takes the previous run's result for this one's) and one clear line
    in the log before Flower's report of the failed run. Both carry ``"run_id"`` (the id `flwr run` prints):
    `flwr run --stream` exits 0 whatever the run's end (Flower 1.42), so a coordinator's script checks the file
    with ``govml federated result PATH --run-id N`` (exit 0 completed, 1 failed) or ``flwr ls --run-id N``."""
    T.route_logs_to_flower()
    cfg = dict(context.run_config)
    path = str(cfg.get("result-path") or "").strip()
    target = None
    try:  # (a misspelt run-config key never gets here: `flwr run` refuses it, "[code: 15] Invalid run configuration")
        target = check_result_path(path) if path else None
        result = run_federation(grid, cfg)
    except Exception as exc:
        error = str(exc) if isinstance(exc, GovmlError) else f"{type(exc).__name__}: {exc}"
        if target is not None:
            try:
                _write_result(target, {"status": "failed", "run_id": int(context.run_id),
                                       "task": str(cfg.get("task", "")), "error": error})
            except Exception as write_exc:  # noqa: BLE001 - the run's own error is what matters
                log.warning("could not write the failed status to %s: %s", target, write_exc)
        if isinstance(exc, GovmlError):
            log.error("the run stopped: %s", error)
            raise RunStopped(error) from None
        raise
    if target is not None:
        _write_result(target, {"status": "completed", "run_id": int(context.run_id), **to_jsonable(result)})
    gone = "; ".join(f"{d} (from round {min(r)})" for d, r in result["missing"].items() if r)
    log.info("federated %s finished: %d districts, left out: %s; stopped answering: %s%s", result["task"],
             len(result["districts"]), "; ".join(describe_left_out(result["excluded"])) or "none", gone or "none",
             f"; result written to {target} on the SuperLink's machine" if target is not None else "")


def describe_left_out(excluded: dict[str, str]) -> list[str]:
    """One line per reason for the districts left out: ``"区2: <reason>"``, or, for several districts with
    the same problem (a column missing in every file), ``"27 districts (区1, 区2, … and 19 more), each:
    <reason>"`` with the district's own name written as ``<district>`` — instead of 27 copies."""
    import re

    groups: dict[str, list[str]] = {}
    for name, reason in excluded.items():
        key = str(reason).replace(str(name), "<district>")
        key = re.sub(r"^district <district>(?: \(\d[\d,]* row\(s\)(?:: [^)]*)?\))?: ", "", key)  # its own rows go too
        groups.setdefault(key, []).append(str(name))
    out = []
    for reason, names in groups.items():
        if len(names) == 1:
            own = str(excluded[names[0]])
            out.append(own if own.startswith(f"district {names[0]}") else f"{names[0]}: {own}")
        else:
            shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
            out.append(f"{len(names)} districts ({shown}), each: {reason}")
    return out
