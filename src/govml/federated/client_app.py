"""govml's Flower ClientApp: what runs inside each district.

Message types it answers (all replies are numbers, except the district's name in its hello):

``query.hello``      load and validate the district's table → ``{"district", "status"}`` + row count,
                     or an error reply (code 4100) that names the district and the problem
``query.keys``       a fresh X25519 public key for secure aggregation (the private key stays in
                     the node's local ``context.state``)
``query.moments``    benchmark step 1: per indicator ``[n, Σv, Σv²]`` (masked when secure)
``query.hist``       benchmark step 2: per indicator counts in the agreed bins (masked when secure)
``query.unmask``     the masks this district shared with districts that dropped out
``query.standings``  receive the citywide summary, place the district's communities in it, write
                     them to ``output-dir`` (if set); reply: how many communities were placed
``train``            demand classifier: local SGD from the global weights (masked n·weights when secure;
                     with DP the clipped update plus a Gaussian noise share)
``evaluate``         demand classifier: tp/fp/fn per class on the district's held-out rows
``query.city``       hotspot forecaster: per category, count sums per week and series counts
``query.gbdt``       hotspot forecaster: base sums, then Σg/Σh/count histograms for the asked nodes
``query.forecast``   hotspot forecaster: forecast the district's own series with the final trees and
                     write ``forecasts.csv`` to ``output-dir``; reply: how many series
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Error, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from govml.errors import DataError, GovmlError
from govml.federated import task as T
from govml.federated.wire import wire_guard_mod

log = logging.getLogger(__name__)

_CACHE: dict[tuple[int, int, str], Any] = {}


def _settings(context: Context) -> dict[str, Any]:
    return T.node_settings(context.node_config, context.run_config)


def _run_config(msg: Message, context: Context) -> dict[str, Any]:
    """Run settings: the run config, overridden by what the server sent in this message."""
    cfg = dict(context.run_config)
    if "config" in msg.content.config_records:
        cfg.update(dict(msg.content.config_records["config"]))
    return cfg


def _district_data(context: Context, cfg: dict[str, Any]):
    """The district's validated table (cached for the run)."""
    settings = _settings(context)
    key = (context.run_id, context.node_id, str(cfg.get("task")))
    if key not in _CACHE:
        df = T.read_district_table(settings)
        _CACHE[key] = T.validate(df, str(cfg["task"]), cfg, file=str(settings["data-path"]))
    return _CACHE[key]


def _guard(fn: Callable[[Message, Context], Message]) -> Callable[[Message, Context], Message]:
    """Turn a district's own failure into an error reply naming the district (never raw values)."""

    @functools.wraps(fn)
    def wrapper(msg: Message, context: Context) -> Message:
        try:
            return fn(msg, context)
        except Exception as exc:
            try:
                district = str(_settings(context)["district"])
            except Exception:
                district = f"node {context.node_id}"
            code = T.DATA_ERROR if isinstance(exc, DataError) else (
                T.CONFIG_ERROR if isinstance(exc, GovmlError) else T.TASK_ERROR)
            reason = T.wire_reason(exc, district)
            log.info("%s", reason)
            return Message(Error(code=code, reason=reason), reply_to=msg)

    return wrapper


# -- secure aggregation helpers -----------------------------------------------------------------

def _keys(context: Context):
    from govml.federated.secagg import KeyPair

    rec = context.state.config_records.get("govml-secagg")
    if rec is None or "sk" not in rec:
        return None
    return KeyPair(bytes(rec["sk"]))


def _peer_keys(msg: Message) -> dict[int, bytes]:
    rec = msg.content.array_records.get("peer-keys")
    if rec is None:
        return {}
    return {int(k): bytes(v.numpy().astype(np.uint8).tobytes()) for k, v in rec.items()}


def _release(vec: np.ndarray, msg: Message, context: Context, cfg: dict[str, Any]) -> RecordDict:
    """Reply carrying ``vec`` (float) — noised with this district's DP share if asked, and
    quantised and masked when the server asked for secure aggregation."""
    vec = np.asarray(vec, dtype=np.float64).ravel()
    if msg.content.array_records.get("dp") is not None:
        from govml.federated.dp import noise_share

        dp = msg.content.array_records["dp"]
        scales = dp["scale"].numpy().astype(np.float64)
        if scales.size == 1 and vec.size > 1:  # one σ for the first dp-noisy-length coordinates
            noisy = int(cfg.get("dp-noisy-length", vec.size))
            scales = np.where(np.arange(vec.size) < noisy, scales[0], 0.0)
        n_shares = int(cfg.get("dp-shares", 1))
        rng = np.random.default_rng()
        vec = vec + noise_share(str(cfg.get("dp-mechanism", "laplace")), 1.0, n_shares, vec.size, rng) * scales
    if bool(cfg.get("secure", False)):
        from govml.federated.secagg import mask_vector, quantize

        keys = _keys(context)
        if keys is None:
            raise GovmlError("secure aggregation: this district has no key for the run (keys round missing)")
        masked = mask_vector(quantize(vec, float(cfg["scale"])), keys, context.node_id, _peer_keys(msg),
                             str(cfg["context"]))
        return RecordDict({"vec": ArrayRecord({"masked": Array(masked)})})
    return RecordDict({"vec": ArrayRecord({"plain": Array(vec)})})


# -- the app ------------------------------------------------------------------------------------

def make_client_app(mods: list | None = None) -> ClientApp:
    """govml's ClientApp with the wire guard plus any extra ``mods`` (outermost first)."""
    app = ClientApp(mods=[*(mods or []), wire_guard_mod])

    @app.query("hello")
    @_guard
    def hello(msg: Message, context: Context) -> Message:
        cfg = _run_config(msg, context)
        settings = _settings(context)
        df = _district_data(context, cfg)
        return Message(RecordDict({
            "hello": ConfigRecord({"district": str(settings["district"]), "status": "ok"}),
            "size": MetricRecord({"rows": int(len(df))}),
        }), reply_to=msg)

    @app.query("keys")
    @_guard
    def keys(msg: Message, context: Context) -> Message:
        from govml.federated.secagg import KeyPair

        kp = KeyPair()
        context.state.config_records["govml-secagg"] = ConfigRecord({"sk": kp.private_bytes})
        pk = np.frombuffer(kp.public_bytes, dtype=np.uint8).copy()
        return Message(RecordDict({"keys": ArrayRecord({"pk": Array(pk)})}), reply_to=msg)

    @app.query("unmask")
    @_guard
    def unmask(msg: Message, context: Context) -> Message:
        from govml.federated.secagg import recovery_vector

        cfg = _run_config(msg, context)
        keys_ = _keys(context)
        if keys_ is None:
            raise GovmlError("secure aggregation: no key for this run")
        dropped = {int(x) for x in cfg.get("dropped", [])}
        vec = recovery_vector(keys_, context.node_id, _peer_keys(msg), dropped, str(cfg["context"]),
                              int(cfg["length"]))
        return Message(RecordDict({"vec": ArrayRecord({"recovery": Array(vec)})}), reply_to=msg)

    @app.query("moments")
    @_guard
    def moments(msg: Message, context: Context) -> Message:
        from govml.federated import benchmark as B

        cfg = _run_config(msg, context)
        inds = T.indicator_list(cfg)
        values = B.community_values(_district_data(context, cfg), inds)
        vrange = cfg.get("value-range")
        values = B.clip_values(values, tuple(vrange) if vrange else None)
        return Message(_release(B.moments_vector(values, inds), msg, context, cfg), reply_to=msg)

    @app.query("hist")
    @_guard
    def hist(msg: Message, context: Context) -> Message:
        from govml.federated import benchmark as B

        cfg = _run_config(msg, context)
        inds = T.indicator_list(cfg)
        values = B.community_values(_district_data(context, cfg), inds)
        lo, hi = list(cfg["lo"]), list(cfg["hi"])
        vec = B.histogram_vector(values, inds, list(zip(lo, hi, strict=True)), int(cfg["bins"]))
        return Message(_release(vec, msg, context, cfg), reply_to=msg)

    @app.query("standings")
    @_guard
    def standings(msg: Message, context: Context) -> Message:
        from govml.federated import benchmark as B

        cfg = _run_config(msg, context)
        inds = T.indicator_list(cfg)
        summary = summary_from_record(msg, inds)
        values = B.community_values(_district_data(context, cfg), inds)
        table = B.standings(values, summary)
        out_dir = _settings(context).get("output-dir")
        if out_dir:
            from govml.io import write_table

            Path(str(out_dir)).mkdir(parents=True, exist_ok=True)
            write_table(table, Path(str(out_dir)) / "standings.csv")
        return Message(RecordDict({"standings": MetricRecord({"communities": int(values.shape[0])})}),
                       reply_to=msg)

    @app.query("city")
    @_guard
    def city(msg: Message, context: Context) -> Message:
        from govml.federated import forecaster as FC

        cfg = _run_config(msg, context)
        st = _forecast_state(context, cfg)
        return Message(_release(FC.city_sums(st["fb"], len(st["categories"])).ravel(), msg, context, cfg),
                       reply_to=msg)

    @app.query("gbdt")
    @_guard
    def gbdt(msg: Message, context: Context) -> Message:
        from govml.federated import forecaster as FC
        from govml.federated.gbdt import Tree, base_sums, local_histograms

        cfg = _run_config(msg, context)
        st = _forecast_state(context, cfg)
        if cfg.get("phase") == "base":
            sums = msg.content.array_records["city"]["sums"].numpy()
            FC.apply_city(st["fb"], sums, st["spec"])
            X, y = FC.training_rows(st["fb"], st["names"], st["categories"], st["horizon"], None)
            st.update({"X": X, "y": y, "bins": st["edges"].transform(X), "done": 0, "raw": None})
            return Message(_release(base_sums(y), msg, context, cfg), reply_to=msg)
        if st.get("y") is None:
            raise GovmlError("boosting asked for histograms before the base round")
        if st["raw"] is None:
            st["raw"] = np.full(len(st["y"]), float(cfg["base"]))
        trees = _trees(msg)
        for tr in trees[st["done"]:]:
            st["raw"] = st["raw"] + tr.predict(st["bins"])
        st["done"] = len(trees)
        tree = Tree.from_arrays(msg.content.array_records["tree"]["tree"].numpy())
        frontier = [int(x) for x in cfg["frontier"]]
        hist = local_histograms(st["bins"], st["y"], st["raw"], tree, frontier, st["edges"].n_bins)
        return Message(_release(hist.ravel(), msg, context, cfg), reply_to=msg)

    @app.query("forecast")
    @_guard
    def forecast(msg: Message, context: Context) -> Message:
        from govml.federated import forecaster as FC
        from govml.federated.gbdt import Booster
        from govml.hotspot.baselines import forecast_frame

        cfg = _run_config(msg, context)
        st = _forecast_state(context, cfg)
        booster = Booster(base=float(cfg["base"]), trees=_trees(msg), edges=st["edges"])
        yhat = FC.forecast_matrix(st["fb"], st["names"], st["categories"], booster, st["horizon"])
        out_dir = _settings(context).get("output-dir")
        if out_dir:
            from govml.io import write_table

            Path(str(out_dir)).mkdir(parents=True, exist_ok=True)
            write_table(forecast_frame(st["fb"].keys, st["fb"].periods, yhat), Path(str(out_dir)) / "forecasts.csv")
        return Message(RecordDict({"forecast": MetricRecord({"series": int(yhat.shape[0])})}), reply_to=msg)

    @app.train()
    @_guard
    def train(msg: Message, context: Context) -> Message:
        from govml.federated import classifier as C

        cfg = _run_config(msg, context)
        X, y = _classifier_rows(context, cfg, held_out=False)
        arrays = msg.content.array_records["arrays"]
        coef, intercept = arrays["coef"].numpy(), arrays["intercept"].numpy()
        settings = C.TrainSettings(epochs=int(cfg.get("local-epochs", 2)), lr=float(cfg.get("lr", 2.0)),
                                   l2=float(cfg.get("l2", 1e-5)), batch_size=int(cfg.get("batch-size", 32)),
                                   proximal_mu=float(cfg.get("proximal-mu", 0.0)))
        seed = int(cfg.get("seed", 0)) * 1_000_003 + int(cfg.get("server-round", 0)) * 7919 + context.node_id % 65521
        W, b, loss = C.local_train(X, y, coef, intercept, settings, seed)
        n = int(y.size)
        if float(cfg.get("dp-clip", 0.0) or 0.0) > 0:  # DP-FedAvg: clipped update + a noise share
            from govml.federated.dp import clip_update

            delta = np.concatenate([(W.astype(np.float64) - coef).ravel(), b.astype(np.float64) - intercept])
            clipped, _norm = clip_update(delta, float(cfg["dp-clip"]))
            return Message(_release(np.concatenate([clipped, [1.0]]), msg, context, cfg), reply_to=msg)
        if bool(cfg.get("secure", False)):
            vec = np.concatenate([n * W.ravel().astype(np.float64), n * b.astype(np.float64), [float(n), n * loss]])
            return Message(_release(vec, msg, context, cfg), reply_to=msg)
        return Message(RecordDict({
            "arrays": ArrayRecord({"coef": Array(W), "intercept": Array(b)}),
            "metrics": MetricRecord({"num-examples": n, "train-loss": loss}),
        }), reply_to=msg)

    @app.evaluate()
    @_guard
    def evaluate(msg: Message, context: Context) -> Message:
        from govml.federated import classifier as C

        cfg = _run_config(msg, context)
        X, y = _classifier_rows(context, cfg, held_out=True)
        arrays = msg.content.array_records["arrays"]
        k = arrays["coef"].shape[0]
        c = C.eval_counts(X, y, arrays["coef"].numpy(), arrays["intercept"].numpy(), k)
        vec = np.concatenate([c["tp"], c["fp"], c["fn"], [c["n"], c["correct"]]]).astype(np.float64)
        if bool(cfg.get("secure", False)):
            return Message(_release(vec, msg, context, cfg), reply_to=msg)
        return Message(RecordDict({"vec": ArrayRecord({"plain": Array(vec)}),
                                   "metrics": MetricRecord({"num-examples": int(c["n"])})}), reply_to=msg)

    return app


def _classifier_rows(context: Context, cfg: dict[str, Any], held_out: bool):
    from govml.federated import classifier as C

    key = (context.run_id, context.node_id, f"X-{held_out}")
    if key not in _CACHE:
        df = _district_data(context, cfg)
        labels = [s for s in str(cfg["labels"]).split("|") if s]
        mask = T.eval_mask(df, float(cfg.get("eval-fraction", 0.2)), int(cfg.get("seed", 0)))
        part = df[mask] if held_out else df[~mask]
        y = C.label_index(labels, part["category"].to_numpy(dtype=object))
        keep = y >= 0
        if (~keep).any():
            log.info("%d rows have a category outside the agreed label set and are left out", int((~keep).sum()))
        texts = part["text"].to_numpy(dtype=object)[keep]
        _CACHE[key] = (C.featurize(texts, int(cfg["n-features"])), y[keep])
    return _CACHE[key]


def _trees(msg: Message) -> list:
    from govml.federated.gbdt import Tree

    rec = msg.content.array_records.get("trees")
    if rec is None:
        return []
    return [Tree.from_arrays(rec[k].numpy()) for k in sorted(rec)]


def _forecast_state(context: Context, cfg: dict[str, Any]) -> dict[str, Any]:
    """The district's own panel on the agreed periods and categories, its features and boosting state."""
    import pandas as pd

    from govml.federated import forecaster as FC
    from govml.federated.gbdt import BinEdges
    from govml.hotspot.features import FeatureSpec
    from govml.hotspot.panel import build_panel, panel_matrix

    key = (context.run_id, context.node_id, "forecast")
    if key not in _CACHE:
        ev = _district_data(context, cfg)
        categories = [c for c in str(cfg["categories"]).split("|") if c]
        periods = pd.DatetimeIndex(pd.to_datetime([str(p) for p in cfg["periods"]]))
        ev = ev[ev["category"].isin(categories)].rename(columns={"community": "area"})
        ev = ev.assign(district=str(_settings(context)["district"]))
        panel = build_panel(ev, freq="W", area_col="area", district_col="district", drop_incomplete=False)
        y_d, keys, per_d = panel_matrix(panel)
        y = np.zeros((y_d.shape[0], len(periods)))
        pos = periods.get_indexer(per_d)
        inside = pos >= 0
        y[:, pos[inside]] = y_d[:, inside]
        spec = FeatureSpec(categoricals=("category",))
        fb = FC.district_builder(y, keys, periods, spec, categories)
        names = FC.feature_names(fb)
        edges = BinEdges.counts(len(names) + 1, max_value=float(cfg.get("max-value", 1000.0)),
                                n_bins=int(cfg.get("n-bins", 32)))
        _CACHE[key] = {"fb": fb, "names": names, "categories": categories, "spec": spec, "edges": edges,
                       "horizon": int(cfg.get("horizon", 4)), "y": None}
    return _CACHE[key]


def summary_from_record(msg: Message, indicators: list[str]) -> dict[str, dict[str, Any]]:
    """The citywide summary the server sent with ``query.standings``."""
    rec = msg.content.array_records["summary"]
    stats = rec["stats"].numpy()
    counts = rec["counts"].numpy()
    names = ["n", "mean", "std", "lo", "hi", "bin_width"] + [f"p{p}" for p in (10, 25, 50, 75, 90)]
    out = {}
    for k, col in enumerate(indicators):
        row = {name: float(stats[k, i]) for i, name in enumerate(names)}
        row["counts"] = [float(c) for c in counts[k]]
        out[col] = row
    return out


def clear_cache() -> None:
    """Forget every district's loaded data (simulation: between runs)."""
    _CACHE.clear()


app = make_client_app()
