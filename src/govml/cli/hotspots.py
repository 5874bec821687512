"""`govml hotspots ...` — the command-line face of this capability."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from govml.cli.options import ENCODING, SHEET

HELP = "Complaint hotspot forecasting with honest rolling-origin backtests."

app = typer.Typer(help=HELP, no_args_is_help=True)

FORECAST_COLUMNS = ["area", "category", "period_start", "horizon", "yhat", "yhat_lo", "yhat_hi", "p_hotspot"]  # the checked form
PREDICTION_COLUMNS = ["model", "origin", "area", "category", "period_start", "horizon", "y", "yhat"]


def _console() -> Any:
    from rich.console import Console

    return Console()


def prepare(events_path: Path, *, time_col: str, area_col: str, category_col: str, district_col: str | None,
            freq: str, now: str | None, min_category_events: int, category_level: int | None = None,
            encoding: str | None = None, sheet: str | None = None, intra_period: bool = False) -> tuple[Any, Any, Any]:
    """Read, clean and count: (raw events, panel, exclusions). Raises GovmlError on unusable input.
    ``intra_period`` (``--intra-period``, weekly and monthly periods): the panel also gets the counts of each period's
    last days that the ``tail_k`` level candidates read (:func:`govml.hotspot.panel.add_intra_period`)."""
    import pandas as pd

    from govml.errors import ConfigError, DataError
    from govml.hotspot.panel import build_panel, clean_events, panel_notes
    from govml.io import columns_as_typed, read_table

    freq = freq.upper()
    if freq not in ("D", "W", "M"):
        raise ConfigError(f"--freq must be D, W or M, got {freq!r}")
    raw = read_table(events_path, known_columns=[time_col, area_col, category_col], encoding=encoding, sheet=sheet)
    columns_as_typed(raw, [time_col, area_col, category_col, district_col], str(events_path))
    if district_col is None and "district" in raw.columns:
        district_col = "district"
    ref = None
    if now:  # any date form the readers accept
        from govml.io import parse_datetime

        ref = parse_datetime(pd.Series([str(now)]), errors="coerce").iloc[0]
        if pd.isna(ref):
            raise ConfigError(f"--now {now!r} is not a date (expected e.g. 2025-01-01 or 2025-01-01 08:00)")
    clean, ex = clean_events(raw, time_col=time_col, area_col=area_col, category_col=category_col,
                             district_col=district_col, now=ref, min_category_events=min_category_events,
                             file=str(events_path), category_level=category_level)
    meta = raw.attrs.get("govml", {})
    sheets = meta.get("sheets") or []
    if sheet is None and len(sheets) > 1 and meta.get("sheet") == sheets[0] and not meta.get("same_header_sheets"):
        # which sheet of a workbook was read is always said (the reader warns when it is not the first one)
        ex.notes.insert(0, f"sheet {meta['sheet']!r} of {events_path.name} read, the first of "
                        f"{', '.join(map(repr, sheets))} (--sheet NAME reads another)")
    if (meta.get("header_row") or 1) > 1:
        ex.notes.insert(0, f"header on row {meta['header_row']} of {events_path.name}: the row(s) above it "
                        "were read as titles, not data")
    if meta.get("footer_rows"):
        ex.notes.insert(0, f"footer row(s) {', '.join(map(str, meta['footer_rows']))} below the data (合计, 制表…) "
                        "were not read as events")
    panel = build_panel(clean, freq=freq, exclusions=ex)
    ex.notes += panel_notes(panel)
    if panel["period_start"].nunique() < 3:
        raise DataError(message=f"{events_path.name}: only {panel['period_start'].nunique()} complete "
                        f"period(s) of data at --freq {freq}; forecasting needs more history")
    if intra_period:  # (after the checks above: bad input is refused before the forecaster's module is loaded)
        from govml.hotspot.forecast import INTRA_LEVEL_TAILS

        if freq in INTRA_LEVEL_TAILS:
            from govml.hotspot.panel import add_intra_period

            panel = add_intra_period(panel, clean, tail_days=INTRA_LEVEL_TAILS[freq], freq=freq)
    return raw, panel, ex


def _intra_windows(panel: Any, freq: str, *, cuts: Sequence[Any] = ()) -> tuple[tuple[Any, ...] | None, str | None]:
    """``--intra-period``: the level candidates with the last days' rates (``intra_level_windows``), or None and why
    not — daily periods have no inside, and events dated at their period's start carry none (in the whole panel or
    in the panel cut at any of ``cuts``, the backtest's origins): then the default candidates are used."""
    from govml.errors import ModelError
    from govml.hotspot.forecast import intra_level_windows, intra_period_problem
    from govml.hotspot.panel import truncate

    try:
        windows = intra_level_windows(freq)
    except ModelError as exc:
        return None, f"--freq {freq}: {exc}"
    for cut in (None, *cuts):
        problem = intra_period_problem(panel if cut is None else truncate(panel, cut), windows)
        if problem is not None:
            return None, problem + (f" (in the history up to the origin {cut.date()})" if cut is not None else "")
    return windows, None


def _intra_fallback(console: Any, reason: str) -> None:
    console.print(f"  [yellow]![/] --intra-period not used: {reason}. The default level candidates are used "
                  "instead.", highlight=False)


def _fingerprint(raw: Any, time_col: str) -> dict[str, Any]:
    """:func:`govml.tracking.data_fingerprint` of the events as read, their times parsed as the commands
    read them (年月日, serial numbers, 2019/1/5 12:03 …): pandas' own guess warns and misreads those."""
    from govml import tracking
    from govml.io import parse_datetime

    if time_col in raw.columns:
        raw = raw.assign(**{time_col: parse_datetime(raw[time_col], errors="coerce")})
    return tracking.data_fingerprint(raw, time_col=time_col)


def _print_exclusions(console: Any, ex: Any) -> None:
    console.print(f"{ex.rows_in} event row(s) read, {ex.rows_used} used, {ex.total} excluded", highlight=False)
    for line in ex.lines():
        console.print(f"  [yellow]•[/] {line}", highlight=False)


_HOLIDAY_CHOICES = ("auto", "off", "fill", "divide")


def _holidays_option(value: str) -> str | None:
    """``--holidays`` as :class:`HotspotForecaster`'s ``holidays`` (``off`` → ``None``)."""
    from govml.errors import ConfigError

    v = str(value).strip().lower()
    if v not in _HOLIDAY_CHOICES:
        raise ConfigError(f"--holidays must be one of {', '.join(_HOLIDAY_CHOICES)}, got {value!r}")
    return None if v == "off" else v


def _check_outputs(out: Path, *, table: bool = True, tables: Sequence[Path | None] = (),
                   figures: Sequence[Path | None] = ()) -> None:
    """Refuse bad output paths before any work: ``out`` (a table, or with ``table=False`` a JSON file), the other
    tables and the figures asked for (``None``: not asked for)."""
    from govml.io import check_output_path

    check_output_path(out, table=table)
    for path in tables:
        if path is not None:
            check_output_path(path)
    if any(path is not None for path in figures):
        from govml.plots import check_figure_path

        for path in figures:
            if path is not None:
                check_figure_path(path)


def _keys_as_text(frame: Any) -> Any:
    """A copy of a forecast frame with its ``area`` and ``category`` (categoricals) as plain text, as written."""
    out = frame.copy()
    out["area"] = out["area"].astype(str)
    out["category"] = out["category"].astype(str)
    return out


def run_forecast(events: Path, out: Path, *, time_col: str = "created_at", area_col: str = "community",
                 category_col: str = "category", district_col: str | None = None, freq: str = "W",
                 horizon: int = 4, explain_out: Path | None = None, heatmap_out: Path | None = None,
                 strategy: str = "combined", now: str | None = None, min_category_events: int = 2,
                 hotspot_quantile: float = 0.9, holidays: str = "auto", track: bool = True,
                 console: Any = None, hotspot_window: int | None = None, category_level: int | None = None,
                 encoding: str | None = None, sheet: str | None = None, intra_period: bool = False) -> dict[str, Any]:
    import time

    from govml import tracking
    from govml.errors import ConfigError
    from govml.io import json_rows, write_table

    console = console or _console()
    freq = str(freq).upper()  # --freq w is --freq W
    if horizon < 1:
        raise ConfigError(f"--horizon must be 1 or more, got {horizon}")
    if not 0 < hotspot_quantile < 1:
        raise ConfigError(f"--hotspot-quantile must lie between 0 and 1 (e.g. 0.9), got {hotspot_quantile}")
    if hotspot_window is not None and hotspot_window < 1:
        raise ConfigError(f"--hotspot-window must be 1 or more periods, got {hotspot_window}")
    hol = _holidays_option(holidays)
    _check_outputs(out, tables=[explain_out], figures=[heatmap_out])  # refused now, not after the fit
    raw, panel, ex = prepare(events, time_col=time_col, area_col=area_col, category_col=category_col,
                             district_col=district_col, freq=freq, now=now, min_category_events=min_category_events,
                             category_level=category_level, encoding=encoding, sheet=sheet,
                             intra_period=intra_period)
    _print_exclusions(console, ex)
    # here, not above: a bad input is refused without loading the models
    from govml.hotspot.forecast import HotspotForecaster

    intra: dict[str, Any] = {}  # --intra-period: the level_windows, or why not
    if intra_period:
        windows, why = _intra_windows(panel, freq)
        if windows is None:
            _intra_fallback(console, why)
        intra = {"level_windows": windows} if windows is not None else {}
    model = HotspotForecaster(horizon=horizon, strategy=strategy, hotspot_quantile=hotspot_quantile, holidays=hol,
                              hotspot_window=hotspot_window, **intra)
    t0 = time.perf_counter()
    with console.status("fitting the forecaster..."):
        model.fit(panel)
        fc = model.predict(horizon)
    seconds = time.perf_counter() - t0
    fc_out = _keys_as_text(fc[FORECAST_COLUMNS])
    written = [write_table(fc_out, out)]
    if explain_out is not None:
        written.append(write_table(model.explain(horizon), explain_out))
    if heatmap_out is not None:
        from govml.hotspot.report import actual_vs_forecast_heatmap
        from govml.plots import save_figure

        written.append(save_figure(actual_vs_forecast_heatmap(panel, fc), heatmap_out))
    console.print(f"{panel[['area', 'category']].drop_duplicates().shape[0]} series × "
                  f"{panel['period_start'].nunique()} periods → {len(fc_out)} forecasts in {seconds:.1f} s; "
                  f"written {out}", highlight=False)
    if intra:
        lw = model.describe()["level_weights"] or {}
        tails = {w: v for w, v in lw.items() if w.startswith("tail_")}
        console.print("  --intra-period: the level's weights on the last days' rates "
                      f"{', '.join(f'{w} {v:.2f}' for w, v in tails.items())} (of 1; 0: this panel's past gives "
                      "them no say)", highlight=False)
    top = fc_out.sort_values("p_hotspot", ascending=False).head(5)
    if len(top) and not top["p_hotspot"].iloc[0] >= 0.05:  # nothing likely hot: no list of 0.00s
        console.print(f"  no area × category is likely to be a hotspot in these periods (highest p_hotspot "
                      f"{top['p_hotspot'].iloc[0]:.2f})", highlight=False)
        top = top.iloc[:0]
    for r in top.itertuples():
        console.print(f"  hot? {r.area} · {r.category} · {r.period_start.date()}: yhat {r.yhat:.1f} "
                      f"[{r.yhat_lo:.1f}, {r.yhat_hi:.1f}], p_hotspot {r.p_hotspot:.2f}", highlight=False)
    if track:
        with tracking.run("hotspot-forecaster", run_name="forecast",
                          params={"freq": freq, "horizon": horizon, "strategy": strategy,
                                  **({"category_level": category_level} if category_level is not None else {}),
                                  **({"intra_period": bool(intra)} if intra_period else {}),
                                  **{k: v for k, v in model.get_params().items() if k != "spec"}}):
            tracking.log_dict(_fingerprint(raw, time_col), "data_fingerprint.json")
            tracking.log_dict({"exclusions": json_rows(ex.to_dict()), "model": _jsonable(model.describe())},
                              "forecast_info.json")
            tracking.log_metrics({"fit_predict_seconds": seconds, "rows_used": ex.rows_used,
                                  "rows_excluded": ex.total})
    return {"written": written, "forecast": fc_out, "exclusions": ex.to_dict(), "seconds": seconds}


def run_backtest_cmd(events: Path, out: Path, *, time_col: str = "created_at", area_col: str = "community",
                     category_col: str = "category", district_col: str | None = None, freq: str = "W",
                     horizon: int = 4, origins: int = 8, start: str | None = None,
                     predictions_out: Path | None = None, plot_out: Path | None = None, strategy: str = "combined",
                     now: str | None = None, min_category_events: int = 2, season: int | None = None,
                     holidays: str = "auto", track: bool = True, console: Any = None,
                     reliability_out: Path | None = None, category_level: int | None = None,
                     encoding: str | None = None, sheet: str | None = None,
                     intra_period: bool = False) -> dict[str, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from govml import tracking
    from govml.errors import ConfigError
    from govml.io import json_rows, write_json, write_table

    console = console or _console()
    freq = str(freq).upper()
    if horizon < 1 or origins < 1:
        raise ConfigError("--horizon and --origins must be 1 or more")
    hol = _holidays_option(holidays)
    _check_outputs(out, table=False, tables=[predictions_out], figures=[plot_out])  # now, not after the backtest
    if start is not None:  # any date form the readers accept (2024-06-03, 2024/6/3, 2024年6月3日 ...)
        import pandas as pd

        from govml.io import parse_datetime

        parsed = parse_datetime(pd.Series([str(start)]), errors="coerce").iloc[0]
        if pd.isna(parsed):
            raise ConfigError(f"--start {start!r} is not a date (expected e.g. 2024-06-03)")
        start = str(parsed.date())
    raw, panel, ex = prepare(events, time_col=time_col, area_col=area_col, category_col=category_col,
                             district_col=district_col, freq=freq, now=now, min_category_events=min_category_events,
                             category_level=category_level, encoding=encoding, sheet=sheet,
                             intra_period=intra_period)
    _print_exclusions(console, ex)
    # here, not above: a bad input is refused without loading the models (scikit-learn, LightGBM)
    from govml.hotspot.backtest import compare_to_baselines, default_models, run_backtest
    from govml.hotspot.report import backtest_figure, reliability_figure

    season = season if season is not None else {"D": 7, "W": 52, "M": 12}[freq]
    models = default_models(horizon, season=season, strategy=strategy, holidays=hol)
    intra_report: dict[str, Any] = {}
    if intra_period:  # a second forecaster beside the default, the same but for the level's candidates
        from govml.hotspot.backtest import choose_origins
        from govml.hotspot.forecast import HotspotForecaster
        from govml.hotspot.panel import panel_matrix

        cuts = choose_origins(panel_matrix(panel)[2], horizon, origins, start=start)
        windows, why = _intra_windows(panel, freq, cuts=cuts)
        if windows is None:
            _intra_fallback(console, why)
            intra_report = {"used": False, "reason": why}
        else:
            models = {"govml": models.pop("govml"),
                      INTRA_MODEL: HotspotForecaster(horizon=horizon, strategy=strategy, holidays=hol,
                                                     level_windows=windows),
                      **models}
            intra_report = {"used": True, "model": INTRA_MODEL,
                            "tail_candidates": [w for w in windows if str(w).startswith("tail_")]}
    import logging

    uncalibrated: dict[int, int] = {}  # the forecaster says this once per fit: collected, said once below
    at = [0]  # the origin being fitted (the forecasters each say it there)

    def collect(record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("too little history to calibrate"):
            uncalibrated[at[0]] = int(record.args[0]) if record.args else 0
            return False
        return True

    def advance(i: int, n: int, o: Any) -> None:
        at[0] = i
        bar.update(task, completed=i, total=n, description=f"origin {o.date()}")

    said = logging.getLogger("govml.hotspot.forecast")
    said.addFilter(collect)
    try:
        with Progress(TextColumn("backtest origins"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.description}"), console=console, transient=False) as bar:
            task = bar.add_task("", total=origins)
            res = run_backtest(panel, models, origins, horizon, start=start, progress=advance)
    finally:
        said.removeFilter(collect)
    notes = _origin_notes(res.origins, origins, start, horizon, freq) + list(res.notes)
    if uncalibrated:
        lo, hi = min(uncalibrated.values()), max(uncalibrated.values())
        notes.append(f"at {len(uncalibrated)} origin(s) the history ({lo}{f'–{hi}' if hi != lo else ''} periods) was "
                     "too short to calibrate intervals and p_hotspot: Poisson intervals and uncalibrated "
                     "probabilities there")
    for line in notes:
        console.print(f"  [yellow]•[/] {line}", highlight=False)
    report = {
        "events": events.name,
        "settings": {"freq": freq, "horizon": horizon, "origins": len(res.origins), "strategy": strategy,
                     "holidays": holidays,
                     "season": season, "origins_requested": origins, "start": start,
                     **({"category_level": category_level} if category_level is not None else {})},
        "data": ex.to_dict(),
        **res.to_dict(),
    }
    if notes:
        report["settings"]["notes"] = notes
    report["summary"] = compare_to_baselines(res)
    if intra_report:
        if intra_report["used"]:
            intra_report["against_govml"] = _against_default(res)
            intra_report["summary"] = compare_to_baselines(res, INTRA_MODEL)
        report["settings"]["intra_period"] = True
        report["intra_period"] = intra_report
    report = json_rows(report)  # rows of several sheets (--sheet all) named 1月!12, in the file and in MLflow
    write_json(report, out)
    written = [out]
    if predictions_out is not None:
        written.append(write_table(_keys_as_text(res.predictions[PREDICTION_COLUMNS]), predictions_out))
    fig = backtest_figure(res.metrics)
    if plot_out is not None:
        from govml.plots import save_figure

        written.append(save_figure(fig, plot_out))
        fig = backtest_figure(res.metrics)
    has_p = "p_hotspot" in res.predictions.columns and res.predictions["p_hotspot"].notna().any()
    if reliability_out is not None and has_p:
        from govml.plots import save_figure

        written.append(save_figure(reliability_figure(res.predictions), reliability_out))
    _print_metrics(console, res)
    if intra_report.get("used"):
        _print_intra(console, intra_report)
    for name, why in res.excluded_models.items():
        console.print(f"  [yellow]•[/] model {name}: {why}", highlight=False)
    if track:
        import matplotlib.pyplot as plt

        with tracking.run("hotspot-forecaster", run_name="backtest",
                          params={"freq": freq, "horizon": horizon, "origins": len(res.origins),
                                  **({"category_level": category_level} if category_level is not None else {}),
                                  **({"intra_period": bool(intra_report["used"])} if intra_report else {}),
                                  "strategy": strategy, "season": season}):
            tracking.log_dict(_fingerprint(raw, time_col), "data_fingerprint.json")
            ov = res.overall()
            tracking.log_metrics({f"{m}.{k}": v for m, row in ov.iterrows() for k, v in row.items()})
            for rec in res.per_origin.to_dict("records"):
                tracking.log_metrics({f"{rec['model']}.{k}": rec[k] for k in ("mae", "rmse", "precision_top5pct")},
                                     step=int(rec["step"]))
            tracking.log_figure(fig, "backtest.png")
            if has_p:
                rfig = reliability_figure(res.predictions)
                tracking.log_figure(rfig, "backtest_reliability.png")
                plt.close(rfig)
            tracking.log_dict(report, "backtest_metrics.json")
        plt.close(fig)
    else:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return {"written": written, "result": res, "report": report}


INTRA_MODEL = "govml_intra"
"""The backtest's row for the forecaster with ``--intra-period``'s level candidates (beside ``govml``)."""
_AGAINST = (("rmse", "lower"), ("mae", "lower"), ("wape", "lower"), ("poisson_deviance", "lower"),
            ("precision_top2pct", "higher"), ("precision_top5pct", "higher"))


def _against_default(res: Any) -> dict[str, Any]:
    """``govml_intra`` against ``govml`` on the headline metrics: both values, the relative change, which way is
    better (what someone deciding whether to switch ``--intra-period`` on reads first)."""
    ov = res.overall()
    out: dict[str, Any] = {}
    if INTRA_MODEL not in ov.index or "govml" not in ov.index:
        return out
    for metric, better in _AGAINST:
        if metric not in ov.columns:
            continue
        a, b = float(ov.loc["govml", metric]), float(ov.loc[INTRA_MODEL, metric])
        if a != a or b != b:
            continue
        out[metric] = {"govml": a, INTRA_MODEL: b, "relative_change": (b - a) / a if a else None, "better": better}
    return out


def _print_intra(console: Any, intra: dict[str, Any]) -> None:
    """One line: ``govml_intra`` against ``govml`` (RMSE, MAE, top-2 %) and what that says about switching it on."""
    vs = intra.get("against_govml") or {}
    parts = []
    for metric, label in (("rmse", "RMSE"), ("mae", "MAE"), ("precision_top2pct", "top-2 %")):
        if metric in vs:
            v = vs[metric]
            ch = "" if v["relative_change"] is None else f" ({100 * v['relative_change']:+.2f} %)"
            parts.append(f"{label} {v['govml']:.4f} → {v[INTRA_MODEL]:.4f}{ch}")
    if not parts:
        return
    gain = [m for m in ("rmse", "mae") if m in vs and vs[m][INTRA_MODEL] < vs[m]["govml"]]
    top_ok = "precision_top2pct" not in vs or vs["precision_top2pct"][INTRA_MODEL] >= vs["precision_top2pct"]["govml"]
    verdict = ("lower RMSE and MAE, top-2 % not lower: on this data --intra-period is worth switching on "
               "(govml hotspots forecast --intra-period)" if len(gain) == 2 and top_ok else
               "not better on all of RMSE, MAE and top-2 % here: keep the default")
    console.print(f"  --intra-period: {INTRA_MODEL} (+ {', '.join(intra['tail_candidates'])}) against govml: "
                  f"{'; '.join(parts)} — {verdict}", highlight=False)


def _origin_notes(got: list[Any], requested: int, start: str | None, horizon: int, freq: str) -> list[str]:
    """Where the origins backtested differ from the ones asked for, say so (never a silent change)."""
    import pandas as pd

    from govml.hotspot.calendar import period_offset, period_start

    notes = []
    span = f"{got[0].date()} to {got[-1].date()}" if got else "none"
    if len(got) < requested:
        notes.append(f"--origins {requested}: the history allows {len(got)} origin(s) ({span}; each needs 8 "
                     f"periods to train on and {horizon} observed after it): backtested those")
    if start is not None and got:
        asked = pd.Timestamp(start)
        first = period_start(pd.Series([asked]), freq).iloc[0]
        if first < asked:  # the first period starting on or after --start
            first = period_start(pd.Series([asked + period_offset(freq)]), freq).iloc[0]
        if got[0] > first:
            notes.append(f"--start {start} is before the first origin the history allows: origins start at "
                         f"{got[0].date()}")
    return notes


def _print_metrics(console: Any, res: Any) -> None:
    from rich.table import Table

    ov = res.overall()
    cols = [c for c in ("mae", "rmse", "wape", "poisson_deviance", "precision_top2pct", "precision_top5pct",
                        "pai_top5pct", "coverage") if c in ov.columns]
    short = {"poisson_deviance": "dev", "precision_top2pct": "p@2%", "precision_top5pct": "p@5%",
             "pai_top5pct": "PAI@5%", "coverage": "cover"}
    table = Table(title=f"backtest: {len(res.origins)} origins × horizons 1..{res.horizon}")
    table.add_column("model", no_wrap=True)
    for c in cols:
        table.add_column(short.get(c, c), justify="right")
    for m, r in ov.iterrows():
        table.add_row(str(m), *["-" if r[c] != r[c] else f"{r[c]:.4f}" for c in cols])
    if console.width < 112:  # piped output (80 columns) would cut every number to "0.2…"
        from rich.console import Console

        console = Console(file=console.file, width=112, color_system=console.color_system and "auto",
                          force_terminal=console.is_terminal)
    console.print(table)
    if "hotspot_brier" in ov.columns:  # is p_hotspot honest? its scores against the no-model reference
        import pandas as pd

        for m, r in ov[ov["hotspot_brier"].notna()].iterrows():
            ref = (f" (reference: each cell's past exceedance rate {r['hotspot_brier_ref']:.4f}, skill "
                   f"{r['hotspot_brier_skill']:+.3f})" if pd.notna(r.get("hotspot_brier_ref")) else "")
            console.print(f"  p_hotspot of {m}: {int(r['hotspot_events'])} hotspot events in {int(r['n'])} forecasts "
                          f"(rate {r['hotspot_rate']:.3f}, mean p {r['hotspot_p_mean']:.3f}); Brier "
                          f"{r['hotspot_brier']:.4f}{ref}, log loss {r['hotspot_log_loss']:.4f}, ECE "
                          f"{r['hotspot_ece']:.4f}", highlight=False)


def _jsonable(d: Any) -> Any:
    return json.loads(json.dumps(d, default=str))


_TIME = typer.Option("created_at", "--time-col", help="Column with the complaint's time.")
_AREA = typer.Option("community", "--area-col", help="Column with the area (community).")
_CAT = typer.Option("category", "--category-col", help="Column with the category.")
_DIST = typer.Option(None, "--district-col", help="Column with the district (default: 'district' if present).")
_FREQ = typer.Option("W", "--freq", help="Period: D (day), W (week from Monday) or M (month).")
_HOR = typer.Option(4, "--horizon", help="How many periods ahead to forecast.")
_NOW = typer.Option(None, "--now", help="Reference time: events after it count as future dates "
                    "(default: the current time).")
_MINCAT = typer.Option(2, "--min-category-events", help="Categories with fewer events are excluded (and counted).")
_HOL = typer.Option("auto", "--holidays", help="Chinese public holidays: auto (the level's forecast of a "
                    "holiday week scaled by a factor learnt from the data's own past holidays; 1 when none is "
                    "clear), off, fill or divide (also adjust past holiday weeks; measured worse).")
_LEVEL = typer.Option(None, "--category-level", help="For categories written as paths (城乡建设/住房/物业管理, "
                      "城乡建设-物业): keep the first N levels (1 = 城乡建设). Default: the whole path (said when the "
                      "categories are paths).")
_INTRA = typer.Option(False, "--intra-period/--no-intra-period", help="Also read inside the last period: the level "
                      "the forecast starts from may weigh in the rate of each period's last days (weeks: the last 2 "
                      "and 4 days; months: the last 7 and 14), so a rise at the end of a week shows before the window "
                      "means move. Off by default: on the benchmark panels it lowered RMSE and MAE a little, but it "
                      "ranked the generated sample's top-2 % cells slightly worse (docs/hotspots.md). backtest adds a "
                      "govml_intra row beside govml, to compare on your data. Needs the events' own times: events "
                      "dated at their period's start (weekly counts dated Monday) and --freq D fall back to the "
                      "default, with a warning.")
_STRAT = typer.Option("combined", "--strategy", help="Multi-step strategy: combined (the average of the two below; default), direct (one model per horizon) or recursive.")


@app.command("forecast")
def forecast_cmd(
    events: Path = typer.Argument(..., help="Events table (CSV/XLSX/Parquet; one row per complaint)."),
    out: Path = typer.Option(..., "--out", help="Where to write the forecast CSV."),
    time_col: str = _TIME,
    area_col: str = _AREA,
    category_col: str = _CAT,
    district_col: str = _DIST,
    freq: str = _FREQ,
    horizon: int = _HOR,
    explain_out: Path = typer.Option(None, "--explain-out", help="Write each forecast's top reasons "
                                     "(LightGBM pred_contrib) here."),
    heatmap_out: Path = typer.Option(None, "--heatmap-out", help="Write an actual-vs-forecast heatmap (PNG)."),
    strategy: str = _STRAT,
    now: str = _NOW,
    min_category_events: int = _MINCAT,
    hotspot_quantile: float = typer.Option(0.9, "--hotspot-quantile",
                                           help="A cell is hot when above this quantile of its own history."),
    hotspot_window: int = typer.Option(None, "--hotspot-window", help="Take that quantile over the last N "
                                       "periods only (default: all history; e.g. 52 weeks on a board that grew)."),
    holidays: str = _HOL,
    category_level: int = _LEVEL,
    intra_period: bool = _INTRA,
    encoding: str = ENCODING,
    sheet: str = SHEET,
    track: bool = typer.Option(True, "--track/--no-track", help="Log the run in MLflow."),
) -> None:
    """Forecast complaint counts per area × category for the next periods, with intervals and p_hotspot."""
    run_forecast(events, out, time_col=time_col, area_col=area_col, category_col=category_col,
                 district_col=district_col, freq=freq, horizon=horizon, explain_out=explain_out,
                 heatmap_out=heatmap_out, strategy=strategy, now=now, min_category_events=min_category_events,
                 hotspot_quantile=hotspot_quantile, holidays=holidays, track=track, hotspot_window=hotspot_window,
                 category_level=category_level, encoding=encoding, sheet=sheet, intra_period=intra_period)


@app.command("backtest")
def backtest_cmd(
    events: Path = typer.Argument(..., help="Events table (CSV/XLSX/Parquet; one row per complaint)."),
    out: Path = typer.Option(..., "--out", help="Where to write metrics.json."),
    time_col: str = _TIME,
    area_col: str = _AREA,
    category_col: str = _CAT,
    district_col: str = _DIST,
    freq: str = _FREQ,
    horizon: int = _HOR,
    origins: int = typer.Option(8, "--origins", help="Number of forecast origins."),
    start: str = typer.Option(None, "--start", help="First origin on or after this date (origins spread "
                              "evenly from it); default: the last --origins periods that can be scored."),
    predictions_out: Path = typer.Option(None, "--predictions-out", help="Write every backtest forecast here."),
    plot_out: Path = typer.Option(None, "--plot-out", help="Write the error-by-horizon plot (PNG)."),
    reliability_out: Path = typer.Option(None, "--reliability-out", help="Write the reliability plot of "
                                         "p_hotspot against the observed hotspot frequency (PNG)."),
    strategy: str = _STRAT,
    now: str = _NOW,
    min_category_events: int = _MINCAT,
    holidays: str = _HOL,
    category_level: int = _LEVEL,
    intra_period: bool = _INTRA,
    encoding: str = ENCODING,
    sheet: str = SHEET,
    track: bool = typer.Option(True, "--track/--no-track", help="Log the run in MLflow."),
) -> None:
    """Rolling-origin backtest of the forecaster against last-value, mean and seasonal-naive baselines."""
    run_backtest_cmd(events, out, time_col=time_col, area_col=area_col, category_col=category_col,
                     district_col=district_col, freq=freq, horizon=horizon, origins=origins, start=start,
                     predictions_out=predictions_out, plot_out=plot_out, strategy=strategy, now=now,
                     min_category_events=min_category_events, holidays=holidays, track=track,
                     reliability_out=reliability_out, category_level=category_level, encoding=encoding, sheet=sheet,
                     intra_period=intra_period)


def demo_step(ctx: Any) -> list[Path]:
    """Backtest and forecast on the sample complaints; heatmaps of forecasts and handling efficiency."""
    samples = Path(ctx.samples_dir) / "complaints.csv"
    if not samples.exists():
        _console().print(f"[yellow]hotspots: {samples} missing; step skipped[/]")
        return []
    from govml.hotspot.report import efficiency_heatmaps
    from govml.io import read_table
    from govml.plots import save_figure

    console = _console()
    now = "2025-01-01"
    bt = run_backtest_cmd(samples, ctx.report_path("hotspots", "backtest_metrics.json"), origins=2 if ctx.quick else 3,
                          predictions_out=ctx.report_path("hotspots", "backtest_predictions.csv"),
                          plot_out=ctx.report_path("hotspots", "backtest.png"), now=now, console=console,
                          reliability_out=ctx.report_path("hotspots", "backtest_reliability.png"))
    fc = run_forecast(samples, ctx.report_path("hotspots", "forecast.csv"),
                      explain_out=ctx.report_path("hotspots", "forecast_explanations.csv"),
                      heatmap_out=ctx.report_path("hotspots", "forecast_heatmap.png"), now=now, console=console)
    written = list(bt["written"]) + list(fc["written"])
    raw = read_table(samples)
    for name, fig in efficiency_heatmaps(raw).items():
        written.append(save_figure(fig, ctx.report_path("hotspots", f"efficiency_{name}.png")))
    ctx.outputs["hotspots"] = {"forecast": fc["written"][0], "summary": bt["report"]["summary"]}
    return written
