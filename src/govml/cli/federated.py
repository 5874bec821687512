"""`govml federated ...` — the command-line face of this capability."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from govml.cli.options import ENCODING, SHEET

HELP = "Federated learning across districts with Flower (simulation and deployment)."

app = typer.Typer(help=HELP, no_args_is_help=True)

TASK_CHOICES = ("demand-classifier", "hotspot-forecaster", "benchmark")


def _parse_range(text: str | None) -> tuple[float, float] | None:
    from govml.errors import ConfigError

    if not text:
        return None
    try:
        lo, hi = (float(x) for x in text.split(":"))
    except ValueError as exc:
        raise ConfigError(f"--value-range must look like LO:HI (e.g. 0:100), got {text!r}") from exc
    if not lo < hi:
        raise ConfigError(f"--value-range needs LO < HI, got {text!r}")
    return lo, hi


def _parse_faults(items: list[str] | None) -> dict[str, str]:
    from govml.errors import ConfigError

    out = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--fault must look like DISTRICT=broken|dropout|poison:FACTOR, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _read_input(input_path: Path, task: str, partition_col: str, columns: dict[str, str],
                console: Any, *, encoding: str | None = None,
                sheet: str | None = None) -> tuple[Any, dict[str, str], list[str]]:
    """INPUT as ``simulate`` reads it: ``(table, column mapping, notes)``.

    The partition column must exist (the error names the file, its columns and a likely district
    column). A column left at its default name (``text``, ``category``, ``id``, ``community``,
    ``created_at``) that the file lacks is recognised as the other commands do
    (:func:`govml.config.guess_column`: 留言详情 / 一级标签 / 留言编号 / 留言时间 / 社区 …; a title and a
    text column such as 留言主题 + 留言详情 are joined, title first, into one text column named after
    both); every choice is printed. Partition values that differ only in case or surrounding spaces
    (``Qingshan`` / ``QINGSHAN`` / ``qingshan ``) are one district, under its most frequent spelling
    (noted in the data account)."""
    from govml.config import COLUMN_ALIASES, guess_column
    from govml.errors import DataError
    from govml.io import columns_as_typed, read_table

    hints = [partition_col, *columns.values()] + [a for c in columns for a in COLUMN_ALIASES.get(c, ())]
    if "text" in columns:
        hints += list(COLUMN_ALIASES["title"])
    df = read_table(input_path, encoding=encoding, sheet=sheet, known_columns=list(dict.fromkeys(hints)))
    file = input_path.name
    columns_as_typed(df, [partition_col, *(c for v in columns.values() for c in str(v).split(" + "))], file)
    have = [str(c) for c in df.columns]
    if partition_col not in df.columns:
        g = guess_column("district", have)
        hint = f"; the district column looks like {g[0]!r} (--partition-col {g[0]})" if g else ""
        raise DataError(message=f"{file}: no partition column {partition_col!r} (columns: {', '.join(have)}){hint}")
    joined = columns.get("text", "")
    if " + " in joined and joined not in df.columns:  # --text-col given more than once: joined in order
        cols = joined.split(" + ")
        if missing := [c for c in cols if c not in df.columns]:
            raise DataError(message=f"{file}: no text column {', '.join(map(repr, missing))} "
                            f"(columns: {', '.join(have)})")
        parts = [df[c].astype("string").fillna("") for c in cols]
        df[joined] = parts[0].str.cat(parts[1:], sep="\n")
    mapping, recognised = dict(columns), []
    for canon, user in columns.items():
        if user != canon or user in df.columns:  # named with its option, or present under its default name
            continue
        if canon == "text":
            found = [g for g in (guess_column("title", have), guess_column("text", have)) if g]
            cols = [c for c in dict.fromkeys(c for c, _ in found) if c != partition_col]
            if not cols:
                continue
            name = " + ".join(cols)
            if len(cols) > 1:
                parts = [df[c].astype("string").fillna("") for c in cols]
                df[name] = parts[0].str.cat(parts[1:], sep="\n")
            mapping["text"] = name
            recognised.append(f"text ← {name} ({found[0][1]})")
        elif (g := guess_column(canon, have)) and g[0] != partition_col:
            mapping[canon] = g[0]
            recognised.append(f"{canon} ← {g[0]} ({g[1]})")
    if recognised:
        console.print(f"[dim]{file}: columns recognised: " + "; ".join(recognised)
                      + " (name others with --text-col / --label-col / --id-col / --community-col / --time-col)",
                      highlight=False)
    return df, mapping, _merge_partition_spellings(df, partition_col)


def _merge_partition_spellings(df: Any, col: str) -> list[str]:
    """Make partition values that differ only in case, width or spaces one district (in place), under
    the spelling most rows use (:func:`govml.io.merge_spellings`; whole numbers read as floats, ``3.0``,
    become ``3``); returns one note per merged group."""
    import pandas as pd

    from govml.io import merge_spellings

    raw = df[col]
    if not pd.api.types.is_string_dtype(raw):  # Excel numbers: district 3 (read as 3.0 beside blanks) is "3"
        raw = pd.Series([int(v) if isinstance(v, float) and v.is_integer() else v for v in raw.to_numpy(dtype=object)],
                        index=raw.index, dtype=object)
    keys = raw.astype("string").str.strip()
    keys = keys.where(keys != "")
    merged = merge_spellings(keys)
    merged.index = keys.index
    changed = (keys != merged).fillna(False)
    notes = []
    for best, others in keys[changed].groupby(merged[changed], sort=True):
        names = sorted(set(others))
        notes.append(f"partition column '{col}': {', '.join(repr(k) for k in names)} taken as {best!r} (the same "
                     f"name up to case, width or spaces; {len(others)} row(s))")
    df[col] = merged
    return notes


def _replay_validation(df: Any, partition_col: str, name: str, task: str, mapping: dict[str, str],
                       run_config: dict[str, Any], file: str) -> tuple[list[int], str | None]:
    """District ``name``'s rows of INPUT (as the user numbers them) and, when its own checks refuse
    them, why — replayed on those rows, so the reason names INPUT and its rows (the district itself
    read a copy with other row numbers)."""
    from govml.errors import DataError
    from govml.federated import task as T
    from govml.io import source_rows

    rows = df[(df[partition_col].astype("string") == name).fillna(False).to_numpy(dtype=bool)]
    file_rows = source_rows(rows)
    rename = {u: c for c, u in mapping.items() if u in rows.columns and u != c}
    frame = rows.rename(columns=rename)
    frame.attrs = {**rows.attrs, "govml_source_columns": {c: str(u) for c, u in mapping.items() if str(u) != c}}
    try:
        T.validate(frame, task, run_config, file=file)
    except DataError as exc:
        return file_rows, (f"district {name} ({len(rows)} row(s): {T.row_span(file_rows)}): "
                           + (T.problems_text(exc.problems, file) if exc.problems else str(exc)))
    return file_rows, None


def _with_input_rows(exc: Exception, df: Any, partition_col: str, task: str, mapping: dict[str, str],
                     run_config: dict[str, Any], file: str) -> Exception:
    """A run that stopped because too few districts could take part: the same error, its left-out
    districts named with INPUT's rows (:func:`_replay_validation`)."""
    from govml.errors import FederatedError

    text = str(exc)
    if not isinstance(exc, FederatedError) or "(left out: " not in text:
        return exc
    names = [str(k) for k in df[partition_col].dropna().astype("string").unique()]
    from govml.federated.server_app import describe_left_out

    why = {n: r for n in sorted(names) if (r := _replay_validation(df, partition_col, n, task, mapping, run_config,
                                                                    file)[1])}
    if not why:
        return exc
    return FederatedError(f"{file}: {text.split(' (left out: ')[0]} (left out: {'; '.join(describe_left_out(why))})")


def _failed_districts(result: dict[str, Any], df: Any, partition_col: str, task: str, mapping: dict[str, str],
                      run_config: dict[str, Any], file: str, min_rows: int = 1) -> None:
    """A district that replied with an error (its data unusable) is named with the user's file and rows
    (:func:`_replay_validation`), and its rows are counted in the data account (``failed_district``)
    unless the account holds them already (the forecaster's central cleaning counts them by reason), so
    that ``rows_in = rows_used + excluded_total`` holds. Districts left out for being small are counted
    already."""
    data = result.get("data")
    if not data:
        return
    for name in list(result.get("excluded", {})):
        if name in data.get("by_district", {}):
            continue
        file_rows, why = _replay_validation(df, partition_col, name, task, mapping, run_config, file)
        if len(file_rows) < min_rows:  # counted as small_partition already
            continue
        if why:
            result.setdefault("excluded_as_sent", {})[name] = result["excluded"][name]
            result["excluded"][name] = why
        left = int(data["rows_in"]) - int(data["rows_used"]) - int(data["excluded_total"])
        if left >= len(file_rows):  # not counted anywhere yet
            entry = data["excluded"].setdefault("failed_district", {
                "rows": 0, "column": partition_col, "example_file_rows": [],
                "why": "its district could not take part (its data failed the district's own checks)"})
            entry["rows"] += len(file_rows)
            entry["example_file_rows"] = sorted(entry["example_file_rows"] + file_rows[:5])[:5]
            data["excluded_total"] = int(data["excluded_total"]) + len(file_rows)
            data.setdefault("failed_districts", {})[name] = len(file_rows)


def run_simulation(input_path: Path, task: str, partition_col: str, out: Path | None, *, show: bool = True,
                   run_name: str | None = None, **kw: Any) -> dict[str, Any]:
    """Read ``input_path``, simulate, log to MLflow (rounds as steps), write ``out``; returns the metrics."""

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from govml import tracking
    from govml.errors import FederatedError
    from govml.federated.simulation import simulate
    from govml.io import json_rows, write_json

    console = Console(stderr=True, quiet=not show)
    columns = dict(kw.pop("mapping", None) or ({"text": "text", "category": "category", "id": "id"}
                                                if task == "demand-classifier"
                                                else {"community": "community", "created_at": "created_at"}))
    if task == "benchmark" and kw.get("indicators"):
        columns.pop("created_at", None)
    df, kw["mapping"], notes = _read_input(input_path, task, partition_col, columns, console,
                                           encoding=kw.pop("encoding", None), sheet=kw.pop("sheet", None))
    rounds = int(kw.get("rounds", 30)) if task == "demand-classifier" else 2
    replay_cfg = {"indicators": ",".join(kw.get("indicators") or [])}
    params = {"task": task, "partition_col": partition_col, "input": input_path.name,
              **{k: v for k, v in kw.items() if k not in ("mods", "progress") and v is not None}}
    with tracking.run("federated", run_name=run_name or f"{task}-by-{partition_col}", params=params,
                      tags={"govml.task": task}):
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                      TimeElapsedColumn(), console=console, transient=False) as bar:
            tid = bar.add_task(f"federated {task}", total=rounds, info="")

            def progress(r: int, metrics: dict[str, float]) -> None:
                tracking.log_metrics({k.replace(".", "_"): v for k, v in metrics.items() if k != "round"}, step=r)
                shown = ", ".join(f"{k}={v:.3f}" for k, v in metrics.items()
                                  if isinstance(v, float) and k not in ("seconds",))[:120]
                bar.update(tid, completed=r, info=f"round {r}: {shown}")

            try:
                result = simulate(df, task, partition_col, progress=progress, **kw)
            except FederatedError as exc:
                named = _with_input_rows(exc, df, partition_col, task, kw["mapping"], replay_cfg, input_path.name)
                if named is exc:
                    raise
                raise named from None
        result.pop("model", None)
        result["data"]["file"] = input_path.name
        result["data"]["notes"] = notes + list(result["data"].get("notes", []))
        _failed_districts(result, df, partition_col, task, kw["mapping"], replay_cfg, input_path.name,
                          int(kw.get("min_rows", 1)))
        final = {"rows_left_out": result["data"]["excluded_total"]}
        for side in ("federated", "centralized"):
            block = result.get(side, {})
            if task == "demand-classifier":
                final.update({f"{side}_{k}": v for k, v in block.items()})
        if task == "benchmark":
            final.update({k: result[k] for k in ("max_abs_diff", "max_abs_diff_moments",
                                                  "max_abs_diff_percentiles", "max_abs_diff_percentile_rank")})
            if result.get("dp"):
                final["dp_epsilon_spent"] = result["dp"]["epsilon"]
        if task == "demand-classifier" and result.get("chosen_round"):
            final.update({"chosen_round": result["chosen_round"], "training_rounds_total": result["training_rounds_total"]})
        final["bytes_sent_per_client_max"] = max(result["bytes_sent_per_client"].values())
        final["seconds_per_round"] = result["seconds_per_round"]
        tracking.log_metrics(final)
        result = json_rows(result)  # rows of several sheets (--sheet all) named 1月!12, in the file and in MLflow
        tracking.log_dict(result, "federated_metrics.json")
    if out is not None:
        write_json(result, out)
    return result


FORECASTER_KEEP = ("rmse", "mae", "wape", "poisson_deviance", "precision_top2pct")


def run_forecaster_simulation(input_path: Path, partition_col: str, out: Path | None, *, secure: bool = True,
                              horizon: int = 4, origins: int = 8, community_col: str = "community",
                              category_col: str = "category", time_col: str = "created_at", n_trees: int = 10,
                              seed: int = 0, faults: dict[str, str] | None = None, central_replay: bool = True,
                              secagg_neighbours: int | str = "auto", robust: bool = False, robust_policy: str = "rescale",
                              level: bool = True, holidays: str = "auto", min_rows: int = 1,
                              encoding: str | None = None, sheet: str | None = None, show: bool = True,
                              run_name: str | None = None) -> dict[str, Any]:
    """The federated hotspot forecaster's backtest through the Flower app, scored by the districts.

    Each partition of ``input_path`` is a district with its own event file, served by govml's ClientApp
    on the in-process grid (:func:`govml.federated.simulation.simulate_forecaster`); the districts
    score their own cells on the origins of ``govml hotspots backtest``. ``federated`` holds those
    metrics, ``centralized`` govml's central LightGBM forecaster on the same origins and the same
    districts' rows, ``federated_model_central_replay`` the same federated model backtested
    centrally (it agrees with ``federated`` to rounding: the check on the districts' scoring;
    ``central_replay=False`` skips it, which saves a third or more of the CPU time). ``robust``: the
    server checks every district's own replies and leaves out one that cannot be honest
    (``excluded_districts``; needs ``secure=False``); ``robust_policy="rescale"`` keeps a district whose
    replies are exact multiples of honest ones, divided back (``rescaled_districts``).
    One MLflow run: per-tree progress and per-origin metrics as steps.
    """

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from govml import tracking
    from govml.errors import FederatedError
    from govml.federated.simulation import simulate_forecaster
    from govml.io import json_rows, write_json

    console = Console(stderr=True, quiet=not show)
    mapping = {"community": community_col, "category": category_col, "created_at": time_col}
    df, mapping, notes = _read_input(input_path, "hotspot-forecaster", partition_col, mapping, console,
                                     encoding=encoding, sheet=sheet)
    params = {"task": "hotspot-forecaster", "partition_col": partition_col, "input": input_path.name,
              "horizon": horizon, "origins": origins, "secure": secure, "n_trees": n_trees, "seed": seed,
              "mapping": mapping, "faults": dict(faults or {}),
              "central_replay": central_replay, "secagg_neighbours": secagg_neighbours, "robust": robust,
              "robust_policy": robust_policy if robust else None, "level": level, "holidays": holidays,
              "min_rows": min_rows}
    with tracking.run("federated", run_name=run_name or f"hotspot-forecaster-by-{partition_col}", params=params,
                      tags={"govml.task": "hotspot-forecaster", "govml.federated.path": "flower-app"}):
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=console) as bar:
            tid = bar.add_task(f"federated hotspot-forecaster: {origins} backtest model(s), trees", total=n_trees,
                               info="")

            def progress(t: int, metrics: dict[str, float]) -> None:
                tracking.log_metrics({f"tree_{k}": v for k, v in metrics.items()}, step=t)
                info = ("districts score their cells; then central LightGBM"
                        + (" and the central replay" if central_replay else "") + " on the same origins"
                        if t >= n_trees else f"tree {t}: {int(metrics.get('leaves', 0))} leaves")
                bar.update(tid, completed=t, info=info)

            try:
                r = simulate_forecaster(df, partition_col, mapping=mapping, n_trees=n_trees, horizon=horizon,
                                        origins=origins, secure=secure, seed=seed, faults=faults,
                                        reference=central_replay, lightgbm=True, progress=progress,
                                        secagg_neighbours=secagg_neighbours, robust=robust,
                                        robust_policy=robust_policy, level=level, holidays=holidays,
                                        min_rows=min_rows, file=input_path.name)
            except FederatedError as exc:
                named = _with_input_rows(exc, df, partition_col, "hotspot-forecaster", mapping, {}, input_path.name)
                if named is exc:
                    raise
                raise named from None
            bar.update(tid, completed=n_trees, info="done")
        bt = r.pop("backtest")
        fed = bt["metrics"]["all"]
        result: dict[str, Any] = {
            "task": "hotspot-forecaster", "secure": secure, "partition_col": partition_col,
            "federated": {k: fed[k] for k in (*FORECASTER_KEEP, "n") if k in fed},
            "centralized": r.pop("lightgbm"),
            "origins": bt["origins"], "horizon": horizon, "rounds": n_trees,
            "clients": r["clients"], "districts": r["districts"], "districts_scored": bt["districts_scored"],
            "excluded": r["excluded"], "missing": r["missing"], "left_during_run": r["left_during_run"],
            "robust": r["robust"], "robust_policy": r["robust_policy"], "excluded_districts": r["excluded_districts"],
            "rescaled_districts": r["rescaled_districts"],
            "bytes_sent_per_client": r["bytes_sent_per_client"],
            "federated_by_horizon": {k: v for k, v in bt["metrics"].items() if k != "all"},
            "federated_per_origin": bt["per_origin"],
            "scoring": {k: bt[k] for k in ("maps_with_tied_forecasts", "threshold_stages", "note") if k in bt},
        }
        result["ratio_rmse"] = result["federated"]["rmse"] / result["centralized"]["rmse"]
        if central_replay:
            replay = result["federated_model_central_replay"] = r.pop("central")
            result["max_rel_diff_central_replay"] = max(abs(result["federated"][k] - v) / max(abs(v), 1e-12)
                                                        for k, v in replay.items() if k in result["federated"])
            # a district that left mid-run still shaped the citywide features and base scores of the
            # federated models; the replay is fitted on the finishing districts alone
            result["central_replay_comparable"] = not result["left_during_run"]
        result.update({k: v for k, v in r.items() if k not in result})  # seconds, round trips, events, …
        result["data"]["file"] = input_path.name
        result["data"]["notes"] = notes + list(result["data"].get("notes", []))
        _failed_districts(result, df, partition_col, "hotspot-forecaster", mapping, {}, input_path.name, min_rows)
        for i, row in enumerate(bt["per_origin"], start=1):
            tracking.log_metrics({f"origin_{k}": v for k, v in row.items() if k != "origin"}, step=i)
        final = {f"{side}_{k}": v for side in ("federated", "centralized", "federated_model_central_replay")
                 for k, v in result.get(side, {}).items() if k != "n"}
        final.update({"ratio_rmse": result["ratio_rmse"], "seconds": result.get("seconds"),
                      "max_rel_diff_central_replay": result.get("max_rel_diff_central_replay"),
                      "cpu_seconds": result.get("cpu_seconds"),
                      "bytes_sent_per_client_max": max(result["bytes_sent_per_client"].values(), default=0),
                      "districts_excluded": len(result["excluded"]),
                      "districts_left_during_run": len(result["left_during_run"]),
                      "districts_failed_robust_checks": len(result["excluded_districts"]),
                      "districts_rescaled": len(result["rescaled_districts"]),
                      "rows_left_out": result["data"]["excluded_total"]})
        tracking.log_metrics(final)
        result = json_rows(result)  # rows of several sheets (--sheet all) named 1月!12, in the file and in MLflow
        tracking.log_dict(result, "federated_metrics.json")
    if out is not None:
        write_json(result, out)
    return result


def _print_summary(result: dict[str, Any], out: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    how = f"{result['strategy']}, " if result.get("strategy") else ""
    t = Table(title=f"federated {result['task']}: {result['clients']} districts, {result['rounds']} rounds, "
                    f"{how}secure={'on' if result['secure'] else 'off'}")
    t.add_column("metric")
    t.add_column("federated", justify="right")
    t.add_column("centralized", justify="right")
    if result["task"] == "hotspot-forecaster":
        t.title = (f"federated hotspot-forecaster: {result['clients']} districts, {result['rounds']} trees per model, "
                   f"secure={'on' if result['secure'] else 'off'}")
        t.columns[1].header = "federated (scored by districts)"
        t.columns[2].header = "central LightGBM"
        replay = result.get("federated_model_central_replay", {})
        if replay:
            t.add_column("same model, central replay", justify="right")
        for k in ("rmse", "mae", "precision_top2pct"):
            row = [k, f"{result['federated'][k]:.4f}", f"{result['centralized'][k]:.4f}"]
            t.add_row(*row, *([f"{replay[k]:.4f}"] if replay else []))
        t.add_row("backtest origins", ", ".join(result["origins"][:3]) + (" …" if len(result["origins"]) > 3 else ""),
                  "same", *(["same"] if replay else []))
        if replay and not result.get("central_replay_comparable", True):
            t.caption = ("a district left during the run: its data still shaped the federated models, the central "
                         "replay uses the finishing districts only, so the two differ")
    elif result["task"] == "demand-classifier":
        for k in ("macro_f1", "accuracy"):
            t.add_row(k, f"{result['federated'][k]:.4f}", f"{result['centralized'][k]:.4f}")
    else:
        shown = list(result["federated"].items())[:4]
        for ind, row in shown:
            for k in ("mean", "std", "p50"):
                t.add_row(f"{ind} {k}", f"{row[k]:.4f}", f"{result['centralized'][ind][k]:.4f}")
        if len(result["federated"]) > len(shown):
            t.add_row(f"(+{len(result['federated']) - len(shown)} indicators in the metrics file)", "", "")
        err = result["stated_error"]
        if result.get("dp"):
            t.add_row(f"DP: ε spent (noise scale per bin {result['dp']['noise_scale_per_bin']:.3g})",
                      f"{result['dp']['epsilon']:.3g}", "bounds below: binning only")
        t.add_row("max |diff| mean/std (bound)", f"{result['max_abs_diff_moments']:.3g}", f"≤ {err['moments']:.3g}")
        t.add_row("max |diff| percentiles (bound)", f"{result['max_abs_diff_percentiles']:.3g}",
                  f"≤ {err['percentiles']:.3g}")
        t.add_row("max |diff| percentile rank (bound)", f"{result['max_abs_diff_percentile_rank']:.3g}",
                  f"≤ {err['percentile_rank']:.3g}")
    console.print(t)
    if result["task"] == "demand-classifier" and (sel := result.get("round_selection")):
        console.print(f"round kept: {sel['why']}", highlight=False)
    if result.get("data"):  # every row read: used, or counted by reason
        from govml.federated.simulation import data_lines

        lines = data_lines(result["data"])
        console.print(f"{result['data'].get('file', 'input')}: {lines[0]}", highlight=False)
        for line in lines[1:]:
            console.print(f"  [yellow]•[/] {line}", highlight=False)
    if ds := result.get("data_start"):
        console.print(f"data start: the first {ds['weeks_left_out']} week(s) before {ds['first_week']} hold "
                      f"{ds['events_before']} event(s) in all — taken as before data collection began and left out "
                      "of the models, as the central model does", highlight=False)
    from govml.federated.server_app import describe_left_out

    for line in describe_left_out(result.get("excluded", {})):
        console.print(f"[yellow]left out[/] {line}")
    for name, rounds in result.get("missing", {}).items():
        console.print(f"[yellow]missing[/] {name} in round(s) {', '.join(map(str, rounds))}")
    for bad in result.get("excluded_districts", []):
        console.print(f"[red]left out by the robust checks[/] {bad['district']} in round {bad['round']} "
                      f"({bad['during']}): {bad['reason']}")
    for fix in result.get("rescaled_districts", []):
        if fix.get("copies"):
            console.print(f"[yellow]copies divided out[/] {fix['district']} from round {fix['round']}: every count it "
                          f"sent was a multiple of {fix['copies']} (as if it held {fix['copies']} copies of each "
                          f"series); divided by {fix['copies']} ({fix['replies']} replies)")
            continue
        console.print(f"[yellow]scaled replies divided back[/] {fix['district']} from round {fix['round']}: "
                      f"histograms ×{fix['gh_factor']:.4g}, counts ×{fix['count_factor']:.4g} "
                      f"({fix['replies']} replies)")
    for left in result.get("left_during_run", []):
        console.print(f"[yellow]left during the run[/] {left['district']} in round {left['round']} "
                      f"({left['during']})")
    sent = result["bytes_sent_per_client"]
    console.print(f"bytes sent per district: max {max(sent.values()):,}, total {sum(sent.values()):,}")
    if out is not None:
        console.print(f"metrics written to [bold]{out}[/]")


@app.command("simulate")
def simulate_cmd(
    input_path: Path = typer.Argument(..., exists=False, metavar="INPUT", help="One table holding every district's rows."),
    task: str = typer.Option(..., "--task", help="demand-classifier | hotspot-forecaster | benchmark"),
    partition_col: str = typer.Option(..., "--partition-col", help="Column whose values are the districts."),
    rounds: int = typer.Option(30, "--rounds", min=1,
                                help="Most training rounds (demand classifier; the round kept is chosen on the districts' "
                                     "own validation rows, then trained again on every training row: --select-round; "
                                     "the forecaster's are its trees, --n-trees)."),
    select_round: bool = typer.Option(True, "--select-round/--last-round",
                                      help="Demand classifier: keep the round with the best validation macro-F1 "
                                           "(summed over the districts' validation rows, a fifth of their training "
                                           "rows; 5-round mean) and train that many rounds again on every training "
                                           "row; --last-round: all rows train, the last round is kept."),
    round_patience: int = typer.Option(0, "--round-patience", min=0,
                                       help="Demand classifier: stop this many rounds after the best one (0 = run "
                                            "every --rounds; saves rounds and bytes, but a curve that still climbs "
                                            "slowly is cut short)."),
    secure: bool = typer.Option(True, "--secure/--no-secure", help="Secure aggregation (masked sums)."),
    dp_epsilon: float = typer.Option(None, "--dp-epsilon", min=0.0,
                                     help="Differential privacy ε (benchmark: per release; classifier: whole training)."),
    dp_mechanism: str = typer.Option("laplace", "--dp-mechanism", help="laplace | gaussian (benchmark)."),
    dp_clip: float = typer.Option(1.0, "--dp-clip", min=0.0,
                                  help="Classifier DP: L2 bound on a district's update per round."),
    text_col: list[str] = typer.Option(None, "--text-col",
                                       help="Message text column(s) (classifier), repeatable, joined in order. "
                                            "Default: text."),
    label_col: str = typer.Option("category", "--label-col", help="Category column (classifier)."),
    id_col: str = typer.Option("id", "--id-col", help="Row id column, used for the held-out split."),
    community_col: str = typer.Option("community", "--community-col", help="Community column (benchmark)."),
    area_col: str = typer.Option(None, "--area-col", help="Area column (hotspot forecaster, as in `govml hotspots`; "
                                                          "default: --community-col)."),
    category_col: str = typer.Option(None, "--category-col", help="Category column (hotspot forecaster, as in "
                                                                  "`govml hotspots`; default: --label-col)."),
    time_col: str = typer.Option("created_at", "--time-col", help="Event time column (benchmark on complaints)."),
    indicators: str = typer.Option(None, "--indicators",
                                   help="Comma-separated indicator columns (benchmark); default complaints per week."),
    value_range: str = typer.Option(None, "--value-range", help="Public range LO:HI of indicator values (needed for DP)."),
    strategy: str = typer.Option("fedadam", "--strategy",
                                 help="Classifier aggregation: fedadam (FedAvg's average, then an Adam step on the "
                                      "server: many small districts) | fedavg | fedprox | fedmedian | "
                                      "fedtrimmedavg | krum (the last three need --no-secure)."),
    min_rows: int = typer.Option(1, "--min-rows", min=1,
                                 help="A district needs at least this many rows to take part (default 1: every "
                                      "district with data; smaller ones are left out and counted)."),
    bins: int = typer.Option(None, "--bins", min=2,
                             help="Histogram bins for percentiles (benchmark; default 200, or 20 with DP)."),
    n_features: int = typer.Option(2**16, "--n-features", min=16, help="Hashed feature dimension (classifier)."),
    fault: list[str] = typer.Option(None, "--fault",
                                    help="Drill: DISTRICT=broken|dropout|poison:FACTOR (repeatable); "
                                         "forecaster: broken|dropout|dropout:K|fail:K|poison:F (histograms ×F)|"
                                         "poison-gh:F (Σg, Σh only)|poison-all:F (every model reply)."),
    horizon: int = typer.Option(4, "--horizon", min=1, help="Forecast horizon in weeks (hotspot forecaster)."),
    origins: int = typer.Option(8, "--origins", min=1,
                                help="Backtest origins (hotspot forecaster; same as `govml hotspots backtest`)."),
    n_trees: int = typer.Option(10, "--n-trees", min=0,
                                 help="Boosting rounds on top of the level (hotspot forecaster; 0 = the level alone)."),
    central_replay: bool = typer.Option(True, "--central-replay/--no-central-replay",
                                        help="Hotspot forecaster: also backtest the same federated model centrally "
                                             "(checks the districts' scoring; costs a third or more of the CPU time)."),
    secagg_neighbours: str = typer.Option("auto", "--secagg-neighbours",
                                          help="SecAgg+ mask graph: auto (every district masks with every other up "
                                               "to 20 districts, else a ring of k = 2·ceil(log2 n) neighbours: 12 "
                                               "at 50) | all (complete graph) | k >= 2 (a ring of k)."),
    robust: bool = typer.Option(False, "--robust/--no-robust",
                                help="Hotspot forecaster: check every district's own histograms against invariants "
                                     "of honest data (and every count being a multiple of one whole number: "
                                     "copies of its series) and leave out a district that fails (needs "
                                     "--no-secure; the classifier's robust options are --strategy)."),
    robust_policy: str = typer.Option("rescale", "--robust-policy",
                                      help="With --robust: rescale (a reply that is an exact multiple of an honest "
                                           "one, or a district sending g copies of each series, is divided back "
                                           "and kept) | exclude (its district is left out)."),
    level: bool = typer.Option(True, "--level/--no-level",
                               help="Hotspot forecaster: boost from the central model's level (a mix of window "
                                    "means, weights from secure sums) instead of a constant."),
    holidays: str = typer.Option("auto", "--holidays",
                                 help="Hotspot forecaster: auto (the level of a Chinese public-holiday week times a "
                                      "factor from the citywide weekly totals, as `govml hotspots --holidays auto`; "
                                      "applied to the central model too) | off."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same result)."),
    out: Path = typer.Option(Path("federated_metrics.json"), "--out", help="Where to write metrics.json."),
    encoding: str = ENCODING,
    sheet: str = SHEET,
) -> None:
    """Partition INPUT by a column into districts, run a federated task, compare with centralized."""
    from govml.errors import ConfigError

    if task not in TASK_CHOICES:
        raise ConfigError(f"--task must be one of {', '.join(TASK_CHOICES)} (got {task!r})")
    from govml.federated.secagg import resolve_neighbours

    resolve_neighbours(secagg_neighbours, 50)  # a bad --secagg-neighbours is refused before any work
    text_cols = list(text_col or ["text"])
    text_col = text_cols[0] if len(text_cols) == 1 else " + ".join(text_cols)  # joined by _read_input
    if task == "hotspot-forecaster":
        community_col = area_col or community_col  # the column options of `govml hotspots` work here too
        label_col = category_col or label_col
        if dp_epsilon:
            raise ConfigError("--dp-epsilon is not available for --task hotspot-forecaster (its sums are "
                              "protected by secure aggregation only); leave it out")
        if strategy not in ("fedadam", "fedavg"):
            raise ConfigError(f"--strategy {strategy} is for the demand classifier; the hotspot forecaster's "
                              "robust option is --robust (with --no-secure)")
        if robust_policy not in ("rescale", "exclude"):
            raise ConfigError(f"--robust-policy must be rescale or exclude, got {robust_policy!r}")
        holidays = str(holidays).strip().lower()
        if holidays not in ("auto", "off"):
            raise ConfigError(f"--holidays must be auto or off, got {holidays!r}")
        if robust and secure:
            raise ConfigError("--robust checks each district's own histograms, which secure aggregation hides: "
                              "add --no-secure")
        result = run_forecaster_simulation(input_path, partition_col, out, secure=secure, horizon=horizon,
                                           origins=origins, community_col=community_col, category_col=label_col,
                                           time_col=time_col, n_trees=n_trees, seed=seed,
                                           faults=_parse_faults(fault), central_replay=central_replay,
                                           secagg_neighbours=secagg_neighbours, robust=robust,
                                           robust_policy=robust_policy, level=level, holidays=holidays,
                                           min_rows=min_rows, encoding=encoding, sheet=sheet)
        _print_summary(result, out)
        return
    if robust:
        raise ConfigError("--robust is the hotspot forecaster's option; the classifier's robust aggregation is "
                          "--strategy fedmedian|fedtrimmedavg|krum (with --no-secure)")
    mapping = ({"text": text_col, "category": label_col, "id": id_col} if task == "demand-classifier"
               else {"community": community_col, "created_at": time_col})
    kw: dict[str, Any] = {"mapping": mapping, "rounds": rounds, "secure": secure, "strategy": strategy,
                          "seed": seed, "faults": _parse_faults(fault), "secagg_neighbours": secagg_neighbours,
                          "min_rows": min_rows, "encoding": encoding, "sheet": sheet}
    if task == "demand-classifier":
        kw.update({"n_features": n_features, "select_round": select_round, "round_patience": round_patience})
        if dp_epsilon:
            kw.update({"dp_epsilon": dp_epsilon, "dp_clip": dp_clip})
    else:
        kw.update({"indicators": [c.strip() for c in indicators.split(",") if c.strip()] if indicators else None,
                   "value_range": _parse_range(value_range), "bins": bins, "dp_epsilon": dp_epsilon,
                   "dp_mechanism": dp_mechanism})
    result = run_simulation(input_path, task, partition_col, out, **kw)
    _print_summary(result, out)


def check_result(path: Path, run_id: int | None = None) -> dict[str, Any]:
    """A deployment's result file (``result-path``, written by the ServerApp on the SuperLink's machine) read
    for a script: the payload when it is usable, else :class:`~govml.errors.GovmlError` (missing, not a result,
    or another run's when ``run_id`` is given)."""
    import json

    from govml.errors import GovmlError

    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GovmlError(f"{path}: no result file (the run did not start, its ServerApp stopped before writing "
                         "it, or result-path names another file; `flwr ls --run-id N` says how the run ended)") from None
    except (OSError, ValueError) as exc:
        raise GovmlError(f"{path}: not a readable result file ({exc})") from None
    if not isinstance(payload, dict) or payload.get("status") not in ("completed", "failed"):
        raise GovmlError(f"{path}: not a govml result file (no \"status\": \"completed\" or \"failed\")")
    if run_id is not None:
        got = payload.get("run_id")
        if got is None or int(got) != int(run_id):
            raise GovmlError(f"{path}: the result of run {got if got is not None else '(unknown: before session 16)'}"
                             f", not of run {run_id}: run {run_id} wrote nothing there (stopped before its "
                             "ServerApp wrote the file?); `flwr ls --run-id N` says how it ended")
    return payload


@app.command("result")
def result_cmd(
    path: Path = typer.Argument(..., metavar="RESULT", help="The run's result-path (on the SuperLink's machine)."),
    run_id: int = typer.Option(None, "--run-id", help="The run id `flwr run` printed (\"Successfully started run "
                                                     "N\"): a file another run wrote is refused."),
) -> None:
    """Check a deployment's result for a script: exit 0 when the run completed, 1 when it failed, 2 when the
    file is missing, unreadable or another run's. `flwr run --stream` exits 0 either way (Flower 1.42)."""
    from rich.console import Console

    payload = check_result(path, run_id)
    console = Console()
    if payload["status"] == "failed":
        console.print(f"[bold red]failed[/] run {payload.get('run_id', '?')} ({payload.get('task', '')}): "
                      f"{payload.get('error', '')}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    left = payload.get("excluded") or {}
    console.print(f"[green]completed[/] run {payload.get('run_id', '?')} ({payload.get('task', '')}): "
                  f"{len(payload.get('districts') or [])} districts, left out: {len(left)}"
                  + (f" ({', '.join(map(str, left))})" if left else ""), highlight=False, soft_wrap=True)


def demo_step(ctx: Any) -> list[Path]:
    """3-district simulation on the sample data: the classifier on messages, benchmarking on assessments."""
    from govml.errors import GovmlError

    written: list[Path] = []
    messages = ctx.samples_dir / "messages.csv"
    if messages.exists():
        out = ctx.report_path("federated", "classifier_metrics.json")
        res = run_simulation(messages, "demand-classifier", "district", out, show=False,
                             mapping={"text": "text", "category": "category", "id": "id"},
                             rounds=3 if ctx.quick else 5, secure=True, seed=ctx.seed, n_features=2**15)
        _print_summary(res, out)
        written.append(out)
    assessments = ctx.samples_dir / "assessments.csv"
    complaints = ctx.samples_dir / "complaints.csv"
    if assessments.exists():
        import pandas as pd

        from govml.io import read_table

        table = read_table(assessments)
        keys = {"worker_id", "community", "district", "period", "area_type"}
        cols = [c for c in table.columns if c not in keys
                and pd.to_numeric(table[c], errors="coerce").notna().mean() > 0.9]
        out = ctx.report_path("federated", "benchmark_metrics.json")
        res = run_simulation(assessments, "benchmark", "district", out, show=False,
                             mapping={"community": "community"}, indicators=cols, secure=True, seed=ctx.seed)
        _print_summary(res, out)
        written.append(out)
    elif complaints.exists():
        out = ctx.report_path("federated", "benchmark_metrics.json")
        res = run_simulation(complaints, "benchmark", "district", out, show=False,
                             mapping={"community": "community", "created_at": "created_at"}, secure=True,
                             seed=ctx.seed)
        _print_summary(res, out)
        written.append(out)
    if not written:
        raise GovmlError(f"{ctx.samples_dir}: no messages.csv, assessments.csv or complaints.csv for the "
                         "federated demo")
    return written

