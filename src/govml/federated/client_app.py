"""govml's Flower ClientApp: what runs inside each district.

Message types it answers (all replies are numbers, except the district's name in its hello):

``query.hello``      load and validate the district's table → ``{"district", "status"}`` + row count,
                     or an error reply (code 4100) that names the district and the problem
``query.keys``       secure aggregation set-up: a fresh X25519 encryption public key (phase ``enc``);
                     then the first bundle: mask public key + Shamir shares encrypted to each district
                     (phase ``bundle``); private keys and seeds stay in the node's ``context.state``
``query.moments``    benchmark step 1: per indicator ``[n, Σv, Σv²]`` (masked when secure)
``query.hist``       benchmark step 2: per indicator counts in the agreed bins (masked when secure)
``query.unmask``     after each secure sum: self-mask seed shares of the districts that answered and
                     mask-key shares of those that dropped (never both for one district's bundle)
``query.standings``  receive the citywide summary, place the district's communities in it, write
                     them to ``output-dir`` (if set); reply: how many communities were placed
``train``            demand classifier: local SGD from the global weights (masked n·weights when secure;
                     with DP the clipped update plus a Gaussian noise share)
``evaluate``         demand classifier: tp/fp/fn per class on the district's validation rows (the server
                     chooses the round on their sum) or, when asked (``eval-rows = "test"``), its held-out rows
``query.city``       hotspot forecaster: per category, count sums per week and series counts
``query.gbdt``       hotspot forecaster: base sums, then Σg/Σh/count histograms for the asked nodes
``query.forecast``   hotspot forecaster: forecast the district's own series with the final trees and
                     write ``forecasts.csv`` to ``output-dir``; reply: how many series. At a backtest
                     origin (``origin-index`` set) the forecasts stay in the district for scoring
``query.score``      hotspot backtest on the district's own cells: per map (origin × horizon) point
                     sums, counts at or above the server's thresholds, top-k hits (masked when secure)
``query.done``       the run ended (completed, failed, or this district left out): the coordinator's notice
                     goes to the district's log and the run's cache folder is deleted; reply: ``{"done": 1}``

In a deployment every message runs in a new ``flwr-clientapp`` process: :func:`run_cache_mod` (on the app a
SuperNode loads) keeps the table read at hello and the run's state in the district's cache folder between
messages (:mod:`govml.federated.node_cache`; the classifier's rows without their text); simulations keep them in
this module's memory.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Error, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from govml.errors import DataError, GovmlError
from govml.federated import task as T
from govml.federated.node_cache import STALE_HOURS, RunStore
from govml.federated.task import flag
from govml.federated.wire import wire_guard_mod

log = logging.getLogger(__name__)

_CACHE: dict[tuple, Any] = {}
# the run's cache folder on this district's machine while run_cache_mod handles a message (None: memory only)
_STORE: ContextVar[RunStore | None] = ContextVar("govml_run_store", default=None)
# context.state record a drill mod writes (govml.federated.simulation.scaled_histogram_mod): the district
# scales what it releases — its own state, which no message from the server can set
DRILL_RECORD = "govml-drill"


def _settings(context: Context) -> dict[str, Any]:
    return T.node_settings(context.node_config, context.run_config)


def _run_config(msg: Message, context: Context) -> dict[str, Any]:
    """Run settings: the run config, overridden by what the server sent in this message."""
    cfg = dict(context.run_config)
    if "config" in msg.content.config_records:
        cfg.update(dict(msg.content.config_records["config"]))
    return cfg


def _cached(context: Context, key: tuple, build: Callable[[], Any]) -> Any:
    """``key``'s value for this run: from memory, else from the run's cache folder, else built (and kept)."""
    if key in _CACHE:
        return _CACHE[key]
    store = _STORE.get()
    if store is not None:
        found, value = store.get(key)
        if found:
            _CACHE[key] = value
            return value
    value = build()
    _CACHE[key] = value
    if store is not None:
        store.put(key, value)
    return value


def _district_data(context: Context, cfg: dict[str, Any]):
    """The district's validated table, read once per run (at hello): every later message of the run uses that
    copy, also when the file changes during the run (said once in the district's log)."""
    from govml.federated.node_cache import file_fingerprint

    settings = _settings(context)
    task = str(cfg.get("task"))
    key = (context.run_id, context.node_id, *_table_key(cfg, settings))

    def build() -> dict[str, Any]:
        print_ = file_fingerprint(str(settings["data-path"]))
        df = T.read_district_table(settings, task, cfg)
        return {"df": T.validate(df, task, cfg, file=str(settings["data-path"])), "file": print_, "noted": False}

    entry = _cached(context, key, build)
    _note_changed(entry, key, str(settings["data-path"]), len(entry["df"]))
    return entry["df"]


def _table_key(cfg: dict[str, Any], settings: dict[str, Any]) -> tuple:
    """What a district's table read depends on: the task and its columns (indicators), the file and how it is
    read (path, sheet, encoding, mapping)."""
    task = str(cfg.get("task"))
    how = tuple(str(settings.get(k) or "") for k in ("data-path", "sheet", "encoding"))
    return (task, tuple(T.needed_columns(task, cfg)), how, repr(sorted(T.parse_mapping(settings.get("mapping")).items())))


def _note_changed(entry: dict[str, Any], key: tuple, path: str, rows: int) -> None:
    """Once per run, in the district's log: its file changed after the run read it (the run keeps that copy)."""
    from govml.federated.node_cache import file_fingerprint

    if not entry["noted"] and file_fingerprint(path) != entry["file"]:
        log.warning("%s changed after this run read it: the run goes on with the table as read at its start "
                    "(%s rows used); the next run reads the new file", path, rows)
        entry["noted"] = True
        store = _STORE.get()
        if store is not None:
            store.put(key, entry)


def _exclusion_counts(account: Any) -> dict[str, int]:
    return account.wire_counts() if account is not None else {}


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
            log.warning("%s: this district cannot answer and is left out of the run: %s", msg.metadata.message_type,
                        reason)
            return Message(Error(code=code, reason=reason), reply_to=msg)

    return wrapper


# -- secure aggregation helpers -----------------------------------------------------------------

def _keys(context: Context):
    """This district's secure-aggregation state for the run (``None`` before the keys round)."""
    from govml.federated.secagg import DistrictSecAgg

    rec = context.state.config_records.get("govml-secagg")
    if rec is None or "esk" not in rec:
        return None
    return DistrictSecAgg(context.node_id, dict(rec))


def _save_keys(context: Context, sa) -> None:
    context.state.config_records["govml-secagg"] = ConfigRecord(dict(sa.state))


def _peer_keys(msg: Message) -> dict[int, bytes]:
    rec = msg.content.array_records.get("peer-keys")
    if rec is None:
        return {}
    return {int(k): bytes(v.numpy().astype(np.uint8).tobytes()) for k, v in rec.items()}


def _bundle_record(bundle: tuple[int, bytes, dict[int, bytes]]) -> ArrayRecord:
    """A district's next bundle on the wire: index, mask public key, one encrypted share per recipient."""
    index, pk, sealed = bundle
    arrays = {"index": Array(np.array([index], dtype=np.int64)), "pk": Array(np.frombuffer(pk, dtype=np.uint8).copy())}
    arrays.update({f"to|{r}": Array(np.frombuffer(ct, dtype=np.uint8).copy()) for r, ct in sealed.items()})
    return ArrayRecord(arrays)


def _release(vec: np.ndarray, msg: Message, context: Context, cfg: dict[str, Any]) -> RecordDict:
    """Reply carrying ``vec`` (float) — noised with this district's DP share if asked, and
    quantised and masked when the server asked for secure aggregation."""
    vec = np.asarray(vec, dtype=np.float64).ravel()
    drill = context.state.config_records.get(DRILL_RECORD)
    if drill is not None:  # fault injection (a poisoned district), set by a client mod of this district only
        from govml.federated.simulation import scale_reply

        vec = scale_reply(vec, msg.metadata.message_type, str(cfg.get("phase", "")), float(drill["factor"]),
                          str(drill["scope"]))
    if msg.content.array_records.get("dp") is not None:
        from govml.federated.dp import noise_share

        dp = msg.content.array_records["dp"]
        scales = dp["scale"].numpy().astype(np.float64)
        if scales.size == 1 and vec.size > 1:  # one σ for the first dp-noisy-length coordinates
            noisy = int(cfg.get("dp-noisy-length", vec.size))
            scales = np.where(np.arange(vec.size) < noisy, scales[0], 0.0)
        n_shares = int(cfg.get("dp-shares", 1))
        # fresh from the OS on purpose, never from the run config's seed: the server sends that seed (and every
        # district reads it), so it could draw this share again and subtract it; and a seed kept between runs
        # would add the same noise to a retrain on changed data, where the difference of two releases shows the
        # change without noise (docs/federated.md, "Reproducing a run")
        rng = np.random.default_rng()
        vec = vec + noise_share(str(cfg.get("dp-mechanism", "laplace")), 1.0, n_shares, vec.size, rng) * scales
    if flag(cfg, "secure", False):
        from govml.federated.secagg import quantize

        sa = _keys(context)
        if sa is None:
            raise GovmlError("secure aggregation: this district has no key for the run (keys round missing)")
        masked, nxt = sa.mask(quantize(vec, float(cfg["scale"])), _peer_keys(msg), str(cfg["context"]))
        _save_keys(context, sa)  # the used bundle is forgotten before the reply leaves
        return RecordDict({"vec": ArrayRecord({"masked": Array(masked)}), "next": _bundle_record(nxt)})
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
        if str(cfg.get("task")) == "demand-classifier":  # its run folder keeps the hashed rows, not the text
            st = _classifier_state(context, cfg)
            n_rows, account = int(st["rows"]), st["exclusions"]
            outside = int((_label_of_rows(st, cfg) < 0).sum()) if str(cfg.get("labels") or "") else 0
            if outside:
                log.info("%d rows have a category outside the agreed label set and are left out", outside)
        else:
            df = _district_data(context, cfg)
            n_rows, account = len(df), df.attrs.get("govml_exclusions")
        T.check_output_dir(settings, str(cfg.get("task")))
        for line in account.lines() if account is not None else []:  # this district's own rows, in its own log
            log.info("%s: %s", settings["data-path"], line)
        store = _STORE.get()
        if store is not None:
            gone = store.sweep()
            if gone:
                log.info("deleted the cache folder(s) of %d earlier run(s) that never said they ended (untouched "
                         "for %g h): %s", len(gone), STALE_HOURS, ", ".join(gone))
        if not str(context.node_config.get("district") or "").strip() and "partition-id" not in context.node_config:
            log.warning("the node config has no district=: this SuperNode answers as %r, its file's name (with "
                        "<task>-path another name per task); give it district=\"...\"", str(settings["district"]))
        return Message(RecordDict({
            "hello": ConfigRecord({"district": str(settings["district"]), "status": "ok"}),
            # counts only: the rows it set aside by reason (its own report keeps the examples)
            "size": MetricRecord({"rows": n_rows, **_exclusion_counts(account)}),
        }), reply_to=msg)

    @app.query("done")
    @_guard
    def done(msg: Message, context: Context) -> Message:
        """The run ended: the coordinator's notice (completed, failed, or why this district was left out) in
        the district's own log, and the run's cache folder deleted."""
        rec = msg.content.config_records.get("done")
        status = str(rec.get("status", "")) if rec is not None else ""
        note = str(rec.get("note", "")) if rec is not None else ""
        log.log(logging.WARNING if status in ("failed", "left-out") else logging.INFO, "run %s %s: %s",
                context.run_id, {"left-out": "goes on without this district", "failed": "stopped"}.get(status, "ended"),
                note or status or "no notice")
        store = _STORE.get()
        if store is not None and store.remove():
            log.info("run %s: its cache folder %s is deleted", context.run_id, store.folder)
        _forget(context)
        return Message(RecordDict({"done": MetricRecord({"done": 1})}), reply_to=msg)

    @app.query("keys")
    @_guard
    def keys(msg: Message, context: Context) -> Message:
        """Phase ``enc``: a fresh encryption key pair for the run (public key out). Phase ``bundle``:
        store everybody's encryption keys and the threshold, deal the first bundle."""
        from govml.federated.secagg import DistrictSecAgg

        cfg = _run_config(msg, context)
        if cfg.get("phase", "enc") == "enc":
            sa = DistrictSecAgg(context.node_id)
            pk = np.frombuffer(sa.start(), dtype=np.uint8).copy()
            _save_keys(context, sa)
            return Message(RecordDict({"keys": ArrayRecord({"pk": Array(pk)})}), reply_to=msg)
        sa = _keys(context)
        if sa is None:
            raise GovmlError("secure aggregation: key set-up before the encryption key was made")
        bundle = sa.setup(_peer_keys(msg), int(cfg["threshold"]), int(cfg.get("neighbours", 0)))
        _save_keys(context, sa)
        return Message(RecordDict({"next": _bundle_record(bundle)}), reply_to=msg)

    @app.query("unmask")
    @_guard
    def unmask(msg: Message, context: Context) -> Message:
        """Seed shares of the districts that answered, mask-key shares of those that dropped — never
        both for one district's bundle (refused with an error reply)."""
        cfg = _run_config(msg, context)
        sa = _keys(context)
        if sa is None:
            raise GovmlError("secure aggregation: no key for this run")
        shares = msg.content.array_records.get("shares")
        peers, indices = [int(p) for p in cfg.get("peers", [])], [int(i) for i in cfg.get("indices", [])]
        sealed = {p: (i, shares[str(p)].numpy().astype(np.uint8).tobytes())
                  for p, i in zip(peers, indices, strict=True) if shares is not None and str(p) in shares}
        b, sk = sa.reveal([int(x) for x in cfg.get("survivors", [])], [int(x) for x in cfg.get("dropped", [])],
                          sealed)
        _save_keys(context, sa)

        def rec(d: dict[int, bytes]) -> ArrayRecord:
            return ArrayRecord({str(p): Array(np.frombuffer(v, dtype=np.uint8).copy()) for p, v in d.items()})

        return Message(RecordDict({"b": rec(b), "sk": rec(sk)}), reply_to=msg)

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
        vec = [FC.city_sums(_fit_state(st, c)["fb"], len(st["categories"])).ravel() for c in _cuts(cfg)]
        return Message(_release(np.concatenate(vec), msg, context, cfg), reply_to=msg)

    @app.query("gbdt")
    @_guard
    def gbdt(msg: Message, context: Context) -> Message:
        """Base sums, then the histograms of the asked nodes — for every model (cut) in the message."""
        from govml.federated import forecaster as FC
        from govml.federated.gbdt import Tree, base_sums, local_histograms, unpack_trees

        cfg = _run_config(msg, context)
        st = _forecast_state(context, cfg)
        cuts = _cuts(cfg)
        if cfg.get("phase") == "base":
            out = []
            with_level = flag(cfg, "level", False)
            for c in cuts:
                fit = _fit_state(st, c)
                city = msg.content.array_records["city"][str(c)].numpy()
                FC.apply_city(fit["fb"], city, st["spec"])
                X, y = FC.training_rows(fit["fb"], fit["names"], st["categories"], st["horizon"], None)
                bins = st["edges"].transform(X)
                fit.update({"y": y, "bins": bins.astype(np.uint8) if st["edges"].n_bins <= 256 else bins,
                            "done": 0, "raw": None, "M": None, "level": None, "city": city})
                out.append(base_sums(y))
                if with_level:  # this district's part of the central level's QP (govml.federated.forecaster)
                    fb = fit["fb"]
                    fit["M"] = FC.district_level_candidates(fb.y, fb.keys["category"].cat.codes.to_numpy(), city,
                                                            FC.level_windows())
                    out.append(FC.level_gram(fit["M"], fb.y, st["horizon"]) * FC.LEVEL_WIRE)
            return Message(_release(np.concatenate(out), msg, context, cfg), reply_to=msg)
        sizes = [int(x) for x in cfg["frontier-sizes"]]
        frontier = [int(x) for x in cfg["frontier"]]
        ends = np.cumsum(sizes)
        out = []
        weights = _level_weights(cfg, len(cuts))
        for c, base, end, k, w in zip(cuts, cfg["bases"], ends, sizes, weights, strict=True):
            fit = _fit_state(st, c)
            if fit.get("y") is None:
                raise GovmlError("boosting asked for histograms before the base round")
            if fit["raw"] is None:
                fit["raw"] = np.full(len(fit["y"]), float(base))
                if w is not None:  # boosting starts from the level (the server's weights of the candidates)
                    fit["raw"] = fit["raw"] + FC.training_offsets(_fit_level(fit, w), st["horizon"], None,
                                                                  fac=_fit_factors(fit, st, cfg))
            trees = unpack_trees(msg.content.array_records["trees"][str(c)].numpy())
            for tr in trees[fit["done"]:]:
                fit["raw"] = fit["raw"] + tr.predict(fit["bins"])
            fit["done"] = len(trees)
            tree = Tree.from_arrays(msg.content.array_records["tree"][str(c)].numpy())
            out.append(local_histograms(fit["bins"], fit["y"], fit["raw"], tree, frontier[end - k:end],
                                        st["edges"].n_bins).ravel())
        return Message(_release(np.concatenate(out), msg, context, cfg), reply_to=msg)

    @app.query("holdout")
    @_guard
    def holdout(msg: Message, context: Context) -> Message:
        """The inner holdout of each model (govml.federated.forecaster, "the central model's tree count
        and point rule"): the calibration model (cut ``cal-cuts``) forecasts this district's holdout
        cells with the features of the model's own cut; phase ``staged``: per horizon × tree count
        [n, Σe², Σ|e|, Σ((y − μ)² − μ), Σμ²]; phase ``point``: per horizon × point weight [n, Σ|e|, Σe²]
        at the chosen count and dispersion. Sums only, ×2^-10, released like every numeric reply."""
        from govml.federated import forecaster as FC
        from govml.federated.gbdt import Booster, unpack_trees

        cfg = _run_config(msg, context)
        st = _forecast_state(context, cfg)
        H = st["horizon"]
        cuts, cal_cuts = _cuts(cfg), [int(c) for c in cfg["cal-cuts"]]
        phase = str(cfg.get("phase"))
        W = FC.point_weights()
        out = []
        for j, (c, cc, base, w) in enumerate(zip(cuts, cal_cuts, cfg["cal-bases"], _level_weights(cfg, len(cuts)),
                                                 strict=True)):
            fit = _fit_state(st, c)
            if fit.get("city") is None:
                raise GovmlError("the inner holdout was asked for before the base round")
            fb = fit["fb"]
            level = None
            if w is not None:  # the calibration model's level on the model's own weeks
                level = FC.district_level_candidates(fb.y, fb.keys["category"].cat.codes.to_numpy(), fit["city"],
                                                     FC.level_windows()) @ w
            booster = Booster(base=float(base), trees=unpack_trees(msg.content.array_records["trees"][str(cc)].numpy()),
                              edges=st["edges"])
            # the calibration model's holiday factors: from the citywide totals of its own cut's weeks
            fac = None if w is None else _fit_factors(fit, st, cfg, last=cc - 1)
            if phase == "staged":
                grid = np.asarray([int(k) for k in cfg["grid"]], dtype=np.int64)
                hold = FC.holdout_forecasts(fb, fit["names"], st["categories"], booster, level, cc - 1, H, grid, fac)
                out.append(FC.staged_sums(hold, H, len(grid)).ravel())
            elif phase == "point":
                k = int(cfg["tree-counts"][j])
                alphas = [float(a) for a in cfg["dispersions"][j * H:(j + 1) * H]]
                hold = FC.holdout_forecasts(fb, fit["names"], st["categories"], booster, level, cc - 1, H,
                                            np.array([k], dtype=np.int64), fac)
                out.append(np.stack([FC.point_rule_sums(hold[h][0][:, 0], hold[h][1], alphas[h - 1], W)
                                     if h in hold else np.zeros((1 + len(W), 3)) for h in range(1, H + 1)]).ravel())
            else:
                raise GovmlError(f"unknown holdout phase {phase!r}")
        if phase == "point":  # the calibration models are done with
            for cc in [int(x) for x in cfg.get("release-cuts") or []]:
                st["fits"].pop(cc, None)
        return Message(_release(np.concatenate(out) * FC.HOLDOUT_WIRE, msg, context, cfg), reply_to=msg)

    @app.query("forecast")
    @_guard
    def forecast(msg: Message, context: Context) -> Message:
        from govml.federated import forecaster as FC
        from govml.federated.gbdt import Booster, unpack_trees
        from govml.hotspot.baselines import forecast_frame

        cfg = _run_config(msg, context)
        st = _forecast_state(context, cfg)
        H = st["horizon"]
        origin_idx = cfg.get("origin-indices")
        series = 0
        cuts = _cuts(cfg)
        for j, (c, base, w) in enumerate(zip(cuts, cfg["bases"], _level_weights(cfg, len(cuts)), strict=True)):
            fit = _fit_state(st, c)
            trees = unpack_trees(msg.content.array_records["trees"][str(c)].numpy())
            level = None if w is None else _fit_level(fit, w)[:, -1]
            yhat = FC.forecast_matrix(fit["fb"], fit["names"], st["categories"],
                                      Booster(base=float(base), trees=trees, edges=st["edges"]), H, level=level,
                                      fac=None if w is None else _fit_factors(fit, st, cfg))
            mean = yhat
            if cfg.get("point-weights"):  # the point rule (weights and dispersions chosen on the inner holdout)
                yhat = FC.apply_point_rule(mean, cfg["dispersions"][j * H:(j + 1) * H],
                                           cfg["point-weights"][j * H:(j + 1) * H])
            st["fits"].pop(c, None)
            series = int(yhat.shape[0])
            if origin_idx is not None:  # a backtest origin: keep the forecasts here, score them later
                st["backtest"][int(origin_idx[j])] = (yhat, st["y"][:, c:c + H], mean)
                continue
            out_dir = _settings(context).get("output-dir")
            if out_dir:
                from govml.io import write_table

                Path(str(out_dir)).mkdir(parents=True, exist_ok=True)
                frame = forecast_frame(fit["fb"].keys, fit["fb"].periods, yhat)
                if cfg.get("point-weights"):
                    frame["yhat_mean"] = mean.reshape(-1)
                write_table(frame, Path(str(out_dir)) / "forecasts.csv")
        return Message(RecordDict({"forecast": MetricRecord({"series": series})}), reply_to=msg)

    @app.query("score")
    @_guard
    def score(msg: Message, context: Context) -> Message:
        """Backtest scoring on the district's own cells: point sums per map, then counts at the
        thresholds the server asks about, then top-k hits (see govml.federated.forecaster)."""
        from govml.federated import forecaster as FC

        cfg = _run_config(msg, context)
        st = _forecast_state(context, cfg)
        origins = [int(o) for o in cfg["origins"]]
        missing = [o for o in origins if o not in st["backtest"]]
        if missing:
            raise GovmlError(f"no backtest forecasts here for origin(s) {missing}")
        yhat = np.concatenate([st["backtest"][o][0] for o in origins], axis=1)  # cells × (origins·H)
        y = np.concatenate([st["backtest"][o][1] for o in origins], axis=1)
        # the deviance and the top-k ranking score the mean (backtest.evaluate's yhat_mean); MAE/RMSE the point
        mean = np.concatenate([st["backtest"][o][2] for o in origins], axis=1)
        phase = str(cfg.get("phase"))
        if phase == "sums":
            vec = FC.point_sums(y, yhat, mean=mean)
        elif phase == "count":
            thr = msg.content.array_records["thresholds"]
            vec = np.stack([FC.counts_at_least(v, thr[name].numpy())
                            for v, name in ((y, "y"), (mean, "yhat"))])
        elif phase == "hits":
            thr = msg.content.array_records["thresholds"]
            vec = FC.top_hits(y, mean, thr["kth"].numpy(), thr["hi"].numpy(), thr["lo"].numpy())
        else:
            raise GovmlError(f"unknown scoring phase {phase!r}")
        return Message(_release(vec.ravel(), msg, context, cfg), reply_to=msg)

    @app.train()
    @_guard
    def train(msg: Message, context: Context) -> Message:
        from govml.federated import classifier as C

        cfg = _run_config(msg, context)
        X, y = _classifier_rows(context, cfg, "train" if flag(cfg, "train-on-validation", False) else "fit")
        arrays = msg.content.array_records["arrays"]
        coef, intercept = arrays["coef"].numpy(), arrays["intercept"].numpy()
        settings = C.TrainSettings(epochs=int(cfg.get("local-epochs", 2)), lr=float(cfg.get("lr", 2.0)),
                                   l2=float(cfg.get("l2", 1e-5)), batch_size=int(cfg.get("batch-size", 32)),
                                   proximal_mu=float(cfg.get("proximal-mu", 0.0)))
        # the district's name, not its node id (new at every SuperNode start): the same data and run config give
        # the same local model in every deployment (docs/federated.md, "Reproducing a run")
        seed = T.district_seed(int(cfg.get("seed", 0)), str(_settings(context)["district"]),
                               int(cfg.get("server-round", 0)))
        W, b, loss = C.local_train(X, y, coef, intercept, settings, seed)
        n = int(y.size)
        # DP-FedAvg only when the server asks for it (it sends the noise scale): the run config always
        # holds a dp-clip default (pyproject), which must not switch the reply's layout on its own
        if msg.content.array_records.get("dp") is not None:  # clipped update + a noise share
            from govml.federated.dp import clip_update

            delta = np.concatenate([(W.astype(np.float64) - coef).ravel(), b.astype(np.float64) - intercept])
            clipped, _norm = clip_update(delta, float(cfg["dp-clip"]))
            return Message(_release(np.concatenate([clipped, [1.0]]), msg, context, cfg), reply_to=msg)
        if flag(cfg, "secure", False):
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
        rows = str(cfg.get("eval-rows", "validation" if float(cfg.get("val-fraction", 0.0)) > 0 else "test"))
        if rows not in ("validation", "test"):
            raise GovmlError(f"eval-rows must be validation or test, got {rows!r}")
        X, y = _classifier_rows(context, cfg, rows)
        arrays = msg.content.array_records["arrays"]
        k = arrays["coef"].shape[0]
        c = C.eval_counts(X, y, arrays["coef"].numpy(), arrays["intercept"].numpy(), k)
        vec = np.concatenate([c["tp"], c["fp"], c["fn"], [c["n"], c["correct"]]]).astype(np.float64)
        if flag(cfg, "secure", False):
            return Message(_release(vec, msg, context, cfg), reply_to=msg)
        return Message(RecordDict({"vec": ArrayRecord({"plain": Array(vec)}),
                                   "metrics": MetricRecord({"num-examples": int(c["n"])})}), reply_to=msg)

    return app


#: the layout of the demand classifier's run entry (session 18: hashed rows, categories, split hashes — no text);
#: an entry of another layout under its key (or the session-16 table of texts under the table's key) is never read
CLASSIFIER_LAYOUT = "govml-classifier-rows/3"  # /3: rows in canonical order (session 22)
N_FEATURES = 2**16  # the server's default n-features (server_app._classifier) when the run config has none


def _classifier_state(context: Context, cfg: dict[str, Any]) -> dict[str, Any]:
    """The district's rows as the classifier's run needs them, built once per run (at hello) and kept in the run's
    folder without the messages' text: the hashed feature rows of every validated row (sparse, the run's
    ``n-features``; hashing is row by row, so the rows of any split are these rows sliced), each row's category
    (codes into the district's categories), its two split hashes (:func:`govml.federated.task.row_hashes`, test and
    validation purposes, the run's seed: any fraction the server sends later gives the rows it gave before), the
    row count and the rows set aside (counts, columns, file row numbers), and the file's fingerprint."""
    import pandas as pd

    from govml.federated import classifier as C
    from govml.federated.node_cache import file_fingerprint

    settings = _settings(context)
    seed, n_features = int(cfg.get("seed", 0)), int(cfg.get("n-features", N_FEATURES))
    key = (context.run_id, context.node_id, "classifier-rows", CLASSIFIER_LAYOUT, *_table_key(cfg, settings),
           seed, n_features)

    def usable(value: Any) -> bool:
        if not isinstance(value, dict) or value.get("layout") != CLASSIFIER_LAYOUT:
            return False
        n = value.get("rows")
        return all(getattr(value.get(k), "shape", (None,))[0] == n for k in ("X", "codes", "u_test", "u_val"))

    st = _CACHE.get(key)
    store = _STORE.get()
    if st is None and store is not None:
        found, value = store.get(key)
        if found and usable(value):
            st = value
        elif found:
            log.info("the run folder's classifier entry has another layout: built again from the table")
    if st is None:
        path = str(settings["data-path"])
        print_ = file_fingerprint(path)
        df = T.validate(T.read_district_table(settings, "demand-classifier", cfg), "demand-classifier", cfg, file=path)
        exclusions = df.attrs.get("govml_exclusions")
        u_test = T.row_hashes(df, seed)
        order = T.canonical_order(df, seed, u_test)  # the file's row order moves nothing (local SGD shuffles these)
        df, u_test = df.iloc[order], u_test[order]
        cats = pd.Categorical(df["category"].to_numpy(dtype=object))
        st = {"layout": CLASSIFIER_LAYOUT, "rows": int(len(df)),
              "X": C.featurize(df["text"].to_numpy(dtype=object), n_features),
              "codes": np.asarray(cats.codes, dtype=np.int64), "categories": [str(c) for c in cats.categories],
              "u_test": u_test, "u_val": T.row_hashes(df, seed, purpose="validation"),
              "exclusions": exclusions, "file": print_, "noted": False}
        del df
        if store is not None:
            store.put(key, st)
    _CACHE[key] = st
    _note_changed(st, key, str(settings["data-path"]), int(st["rows"]))
    return st


def _label_of_rows(st: dict[str, Any], cfg: dict[str, Any]) -> np.ndarray:
    """Each row's index in the run's label set (-1: a category outside it)."""
    from govml.federated import classifier as C

    labels = [s for s in str(cfg["labels"]).split("|") if s]
    return C.label_index(labels, st["categories"])[st["codes"]] if st["categories"] else np.zeros(0, np.int64)


def _classifier_rows(context: Context, cfg: dict[str, Any], rows: str):
    """The district's hashed features and label indices of ``rows``: ``"test"`` (held out, scored only),
    ``"validation"`` (the round is chosen on them), ``"fit"`` (the training rows without the validation
    rows: what local training sees) or ``"train"`` (fit + validation) — sliced from the run's kept rows
    (:func:`_classifier_state`); rows whose category is outside the run's labels are left out."""
    val_fraction = float(cfg.get("val-fraction", 0.0))
    key = (context.run_id, context.node_id, f"X-{rows}-{val_fraction}", float(cfg.get("eval-fraction", 0.2)),
           int(cfg.get("seed", 0)), int(cfg.get("n-features", N_FEATURES)), str(cfg["labels"]))
    if key not in _CACHE:  # this process's memory only: the run folder keeps the rows once, not each slice
        st = _classifier_state(context, cfg)
        test, val = T.split_from_hashes(st["u_test"], st["u_val"], float(cfg.get("eval-fraction", 0.2)), val_fraction)
        mask = {"test": test, "validation": val, "fit": ~test & ~val, "train": ~test}[rows]
        y = _label_of_rows(st, cfg)
        idx = np.flatnonzero(mask & (y >= 0))
        _CACHE[key] = (st["X"][idx], y[idx])
    return _CACHE[key]


def _forecast_state(context: Context, cfg: dict[str, Any]) -> dict[str, Any]:
    """The district's own counts on the agreed periods and categories (every one of its areas gets a
    series for every agreed category, as in a pooled panel), and its boosting / backtest state."""
    import pandas as pd

    from govml.federated.gbdt import BinEdges
    from govml.hotspot.features import FeatureSpec
    from govml.hotspot.panel import build_panel, panel_matrix

    # the agreed weeks are part of the state: the server may leave out leading weeks (data start) and ask again
    key = (context.run_id, context.node_id, "forecast")
    weeks = (str(cfg["periods"][0]), len(cfg["periods"]))
    store = _STORE.get()
    st = _CACHE.get(key)
    if st is None and store is not None:
        found, st = store.get(key)
    if st is not None and st.get("weeks") != weeks:
        st = None
    if st is None:
        ev = _district_data(context, cfg)
        categories = [c for c in str(cfg["categories"]).split("|") if c]
        periods = pd.DatetimeIndex(pd.to_datetime([str(p) for p in cfg["periods"]]))
        ev = ev[ev["category"].isin(categories)].rename(columns={"community": "area"})
        district = str(_settings(context)["district"])
        ev = ev.assign(district=district)
        panel = build_panel(ev, freq="W", area_col="area", district_col="district", drop_incomplete=False,
                            calendar=False)
        y_d, keys_d, per_d = panel_matrix(panel)
        areas = sorted(str(a) for a in keys_d["area"].astype(str).unique())
        A, C = len(areas), len(categories)
        y = np.zeros((A * C, len(periods)))
        row = (pd.Categorical(keys_d["area"].astype(str), categories=areas).codes.astype(np.int64) * C
               + pd.Categorical(keys_d["category"].astype(str), categories=categories).codes)
        pos = periods.get_indexer(per_d)
        inside = pos >= 0
        y[np.ix_(row, pos[inside])] = y_d[:, inside]
        keys = pd.DataFrame({
            "area": pd.Categorical.from_codes(np.repeat(np.arange(A), C), categories=areas),
            "category": pd.Categorical.from_codes(np.tile(np.arange(C), A), categories=categories),
            "district": pd.Categorical([district] * (A * C))})
        spec = FeatureSpec(categoricals=("category",))
        names_n = _n_features(periods, spec)
        edges = BinEdges.counts(names_n, max_value=float(cfg.get("max-value", 1000.0)),
                                n_bins=int(cfg.get("n-bins", 32)))
        st = {"y": y, "keys": keys, "periods": periods, "categories": categories, "spec": spec, "weeks": weeks,
              "edges": edges, "horizon": int(cfg.get("horizon", 4)), "fits": {}, "backtest": {}}
    _CACHE[key] = st
    if store is not None:  # changed in place by the message: written back to the run's folder at its end
        store.touch(key, st)
    return st


def _n_features(periods, spec) -> int:
    from govml.federated import forecaster as FC

    return FC.n_model_features(periods, spec)


def _fit_level(fit: dict[str, Any], w: np.ndarray) -> np.ndarray:
    """(series × periods) level of one model: its candidates (from the base round) mixed with the
    server's weights, computed once (the candidates are dropped then)."""
    if fit.get("level") is None:
        if fit.get("M") is None:
            raise GovmlError("level weights came without the base round's level candidates")
        fit["level"], fit["M"] = fit["M"] @ w, None
    return fit["level"]


def holidays_mode(cfg: dict[str, Any]) -> str | None:
    """Run config ``forecaster-holidays``: ``"auto"`` (default, the central model's holiday factor) or
    ``"off"`` (also false / none / empty)."""
    v = cfg.get("forecaster-holidays", "auto")
    v = "off" if v is False or v is None else str(v).strip().lower()
    if v in ("off", "false", "none", "", "0"):
        return None
    if v in ("auto", "true", "on", "1"):
        return "auto"
    raise GovmlError(f"forecaster-holidays must be auto or off, got {cfg.get('forecaster-holidays')!r}")


def _fit_factors(fit: dict[str, Any], st: dict[str, Any], cfg: dict[str, Any],
                 last: int | None = None) -> np.ndarray | None:
    """The holiday factors of a model (govml.federated.forecaster, "the central model's holiday factor")
    from the citywide sums of the base round: estimated on the weeks up to ``last`` (all the cut's by
    default: the model's own; the calibration model's cut for the inner holdout), for the cut's weeks and
    the horizon after them. None when they are all 1 (or ``forecaster-holidays = "off"``)."""
    from govml.federated import forecaster as FC

    if fit.get("city") is None:
        raise GovmlError("holiday factors were needed before the base round's citywide sums")
    key = ("fac", last)
    if key not in fit:
        fb = fit["fb"]
        hf, fac = FC.holiday_factors(fit["city"], fb.periods, fb.freq, fb.y.shape[1] + st["horizon"], last,
                                     holidays_mode(cfg))
        fit[key] = fac if hf is not None and hf.active else None
    return fit[key]


def _level_weights(cfg: dict[str, Any], n_models: int) -> list[np.ndarray | None]:
    """Per model of the message: the level's candidate weights the server sent (``level-weights``,
    one block of k per model), or None when the models boost from a constant."""
    flat = cfg.get("level-weights")
    if not flat:
        return [None] * n_models
    w = np.asarray([float(x) for x in flat], dtype=np.float64)
    if w.size % n_models:
        raise GovmlError(f"level-weights: {w.size} values for {n_models} model(s)")
    return list(w.reshape(n_models, -1))


def _cuts(cfg: dict[str, Any]) -> list[int]:
    """The models a forecaster message is about: the panel cut after each of these many weeks."""
    return [int(c) for c in cfg["cuts"]]


def _fit_state(st: dict[str, Any], cut: int) -> dict[str, Any]:
    """Features of the panel cut after ``cut`` periods (a backtest origin, or the whole panel)."""
    from govml.federated import forecaster as FC

    T = st["y"].shape[1]
    if not 3 <= cut <= T:
        raise GovmlError(f"cut {cut} is outside the panel's {T} periods")
    if cut not in st["fits"]:
        fb = FC.district_builder(st["y"][:, :cut], st["keys"], st["periods"][:cut], st["spec"], st["categories"])
        st["fits"][cut] = {"fb": fb, "names": FC.feature_names(fb), "categories": st["categories"], "cut": cut,
                           "y": None}
    return st["fits"][cut]


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


def _forget(context: Context) -> None:
    for k in [k for k in _CACHE if k[:2] == (context.run_id, context.node_id)]:
        del _CACHE[k]


def run_cache_mod(msg: Message, context: Context, call_next: Callable[[Message, Context], Message]) -> Message:
    """On a SuperNode: the table read at hello and the run's state (the forecaster's boosting state; for the
    classifier its hashed rows, categories and split hashes instead of the table) kept in the run's folder of
    the district's cache (node config ``cache-dir``, :mod:`govml.federated.node_cache`) between messages, which
    Flower runs in one new process each. The folder, not this process's memory, is the run's state (a
    long-lived app process may have missed messages)."""
    store = RunStore.for_context(context.node_config, context.run_id, context.node_id)
    if store is not None:
        _forget(context)
    token = _STORE.set(store)
    try:
        return call_next(msg, context)
    finally:
        _STORE.reset(token)
        if store is not None:
            try:
                store.flush()
            except OSError as exc:  # the next message says what is missing; this one's reply still goes
                log.warning("could not keep the run's state in %s: %s", store.folder, exc)
            _forget(context)


def deployment_log_mod(msg: Message, context: Context, call_next: Callable[[Message, Context], Message]) -> Message:
    """On a SuperNode: govml's log lines (why this district cannot take part, the rows it set aside) go to the
    SuperNode's console with Flower's (:func:`govml.federated.task.route_logs_to_flower`); at hello, a line for
    each relative path of the node config (:func:`govml.federated.task.relative_path_notes`: under ``--isolation
    process`` it is read against flower-superexec's folder, not the SuperNode's)."""
    T.route_logs_to_flower()
    if msg.metadata.message_type == "query.hello":  # before hello reads the table: a "file not found" may follow
        for note in T.relative_path_notes(context.node_config):
            log.warning("%s", note)
    return call_next(msg, context)


#: the app a SuperNode runs (pyproject's clientapp); simulations build their own with make_client_app
app = make_client_app(mods=[deployment_log_mod, run_cache_mod])
