"""Metamorphic and cross-checks of the two checked hotspot commands (session 22, issue 4), at the command level.

    .venv/bin/python benchmarks/check_hotspot_cli_props.py                       # data_samples/complaints.csv
    .venv/bin/python benchmarks/check_hotspot_cli_props.py --dataset boston      # Boston 311 2015 (OPEN_DT, neighborhood, REASON)
    .venv/bin/python benchmarks/check_hotspot_cli_props.py --dataset teddycup    # 泰迪杯 附件3 (area from the title, bench_alerts' categories)
    .venv/bin/python benchmarks/check_hotspot_cli_props.py --props 1,2,6         # some of them

Runs ``govml hotspots backtest`` / ``forecast`` (their functions, in this process, ``--no-track``) on the events and on
transformed copies, and checks:

1. metrics.json recomputed from the predictions with numpy/pandas (docs/hotspots.md §4: MAE, RMSE, WAPE, Poisson
   deviance — of ``yhat_mean`` where given —, top-k precision / hit rate / PAI with ties at the k-th forecast sharing
   the slots left, coverage, interval width), per model × horizon, overall and per origin; and how far govml's
   figures are from what preds.csv alone gives (it has no ``yhat_mean``, ``yhat_lo``, ``yhat_hi``).
2. ``y`` in preds.csv = the events counted per area × category × Monday week (names NFKC, spaces and case folded);
   the baselines' ``yhat`` = last value / mean of the last 4, 13 / seasonal naive from those counts.
3. No leakage: every event after the first origin doubled → the forecasts made there identical (all models); a new
   area and a new category whose events come after it → identical and not forecast there; ``forecast`` on the
   events up to the first origin (``--now`` at its week's end) = the backtest's govml forecasts there.
4. The events shuffled, as GBK CSV and as .xlsx (date cells) → forecast.csv and preds.csv byte-identical,
   metrics.json identical but for the file name, the fit times and the example rows of the exclusions.
5. Areas and categories renamed by a bijection that reverses their sort order → the same numbers per series.
6. forecast.csv sanity: ``yhat_lo ≤ yhat ≤ yhat_hi``, all ≥ 0, ``p_hotspot`` in [0, 1], horizons 1..H, one period
   per horizon, consecutive, one row per area × category × horizon, no NaN, the areas and categories of the events.

Skips cleanly when the development data are absent. Writes into a temporary folder (``--work`` keeps it).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import tempfile
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
DATASETS = {  # file, time, area, category, --now
    "sample": (ROOT / "data_samples" / "complaints.csv", "created_at", "community", "category", "2025-01-01"),
    "boston": (DATA / "boston311_2015" / "boston311_2015_events.csv.gz", "OPEN_DT", "neighborhood", "REASON",
               "2016-01-01"),
    "teddycup": (DATA / "teddycup2020c" / "hotspot_messages_full_附件3.csv", "created_at", "area", "category",
                 "2020-01-05 23:59:59"),
}
NUM = ("y", "yhat", "yhat_mean", "yhat_lo", "yhat_hi", "p_hotspot", "threshold", "p_ref")


def norm(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).map(lambda x: " ".join(unicodedata.normalize("NFKC", x).split()).casefold())


class Runner:
    def __init__(self, work: Path, cols: tuple[str, str, str], now: str, origins: int) -> None:
        self.work, self.cols, self.now, self.origins = work, cols, now, origins

    def _kw(self, now: str | None = None) -> dict:
        from rich.console import Console

        t, a, c = self.cols
        return dict(time_col=t, area_col=a, category_col=c, now=now or self.now, track=False,
                    console=Console(file=io.StringIO(), width=120))

    def backtest(self, events: Path, tag: str) -> dict:
        from govml.cli.hotspots import run_backtest_cmd

        out, preds = self.work / f"{tag}_metrics.json", self.work / f"{tag}_preds.csv"
        r = run_backtest_cmd(events, out, origins=self.origins, predictions_out=preds, **self._kw())
        return {"metrics": json.loads(out.read_text(encoding="utf-8")), "metrics_path": out, "preds_path": preds,
                "full": r["result"].predictions.astype({"area": str, "category": str})}

    def forecast(self, events: Path, tag: str, now: str | None = None) -> Path:
        from govml.cli.hotspots import run_forecast

        out = self.work / f"{tag}_forecast.csv"
        run_forecast(events, out, **self._kw(now))
        return out


# -- 1 ----------------------------------------------------------------------------------------------------------------
def recompute(g: pd.DataFrame, rank: str) -> dict[str, float]:
    y, yh = g["y"].to_numpy(float), g["yhat"].to_numpy(float)
    e = yh - y
    out = {"mae": np.mean(np.abs(e)), "rmse": math.sqrt(np.mean(e ** 2)), "wape": np.abs(e).sum() / y.sum()}
    mu = np.maximum(g[rank].to_numpy(float), 1e-3)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0.0)
    out["poisson_deviance"] = np.mean(2 * (t - (y - mu)))
    maps = []
    for _, mg in g.groupby(["origin", "horizon"], sort=False):
        yy, rr = mg["y"].to_numpy(float), mg[rank].to_numpy(float)
        n, d = len(yy), {}
        for pct in (2, 5):
            k = max(1, math.ceil(pct / 100 * n))
            kth, vk = np.sort(yy)[::-1][k - 1], np.sort(rr)[::-1][k - 1]
            top = (yy > kth) | ((yy == kth) & (kth > 0))
            w = (rr > vk).astype(float)
            w[rr == vk] = (k - (rr > vk).sum()) / (rr == vk).sum()
            hr = (w * yy).sum() / yy.sum()
            d |= {f"precision_top{pct}pct": (w * top).sum() / k, f"hitrate_top{pct}pct": hr,
                  f"pai_top{pct}pct": hr / (k / n)}
        maps.append(d)
    out |= pd.DataFrame(maps).mean().to_dict()
    if "yhat_lo" in g and g["yhat_lo"].notna().any():
        out["coverage"] = np.mean((y >= g["yhat_lo"]) & (y <= g["yhat_hi"]))
        out["interval_width"] = np.mean(g["yhat_hi"] - g["yhat_lo"])
    return out


def prop1(bt: dict) -> None:
    M, full = bt["metrics"], bt["full"].copy()
    full["origin"] = pd.to_datetime(full["origin"]).dt.strftime("%Y-%m-%d")
    worst, n = 0.0, 0
    for model, g in full.groupby("model"):
        rank = "yhat_mean" if "yhat_mean" in g and g["yhat_mean"].notna().all() else "yhat"
        po = {r["origin"]: r for r in M["per_origin"] if r["model"] == model}
        blocks = [(f"h{h}", gh, M["metrics"][model][f"h{h}"]) for h, gh in g.groupby("horizon")]
        blocks += [("all", g, M["metrics"][model]["all"])] + [(o, go, po[o]) for o, go in g.groupby("origin")]
        for _, gg, theirs in blocks:
            for k, v in recompute(gg, rank).items():
                if theirs.get(k) is None:  # NaN in metrics.json (null): no events in the block
                    continue
                n += 1
                worst = max(worst, abs(v - theirs[k]) / max(1.0, abs(theirs[k])))
    print(f"1. metrics.json recomputed: {n} values, largest relative difference {worst:.1e} — "
          f"{'holds' if worst < 1e-12 else 'FAILS'}")
    preds = pd.read_csv(bt["preds_path"], dtype={"area": str, "category": str})
    for model in sorted(set(full["model"])):
        g = full[full["model"] == model]
        if "yhat_mean" in g and g["yhat_mean"].notna().all():
            alone = recompute(preds[preds["model"] == model], "yhat")
            print(f"   preds.csv alone (no yhat_mean, yhat_lo/hi): {model}'s Poisson deviance "
                  f"{alone['poisson_deviance']:.4f} against metrics.json's {M['metrics'][model]['all']['poisson_deviance']:.4f} "
                  "(of yhat_mean); coverage not recomputable")


# -- 2 ----------------------------------------------------------------------------------------------------------------
def read_events(path: Path) -> pd.DataFrame:
    """Every column as text (the commands also read others: a ``district`` column is the hierarchy), so that a
    transformed copy differs from the file only by the transformation."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def prop2(bt: dict, events: pd.DataFrame, cols: tuple[str, str, str]) -> None:
    t, a, c = cols
    ts = pd.to_datetime(events[t], errors="coerce", format="mixed")
    ev = pd.DataFrame({"a": norm(events[a]), "c": norm(events[c]), "t": ts})
    ev = ev[ev["t"].notna() & (ev["a"] != "") & (ev["c"] != "")]
    day = ev["t"].dt.normalize()
    ev["w"] = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    counts = ev.groupby(["a", "c", "w"]).size()
    P = pd.read_csv(bt["preds_path"], dtype={"area": str, "category": str})
    P["ka"], P["kc"], P["w"] = norm(P["area"]), norm(P["category"]), pd.to_datetime(P["period_start"])
    mine = counts.reindex(pd.MultiIndex.from_arrays([P["ka"], P["kc"], P["w"]])).fillna(0).to_numpy()
    bad_y = int((mine != P["y"].to_numpy()).sum())
    wide = counts.unstack("w", fill_value=0)
    wide = wide.reindex(columns=pd.date_range(wide.columns.min(), wide.columns.max(), freq="W-MON"), fill_value=0)
    bad = {}
    for model in sorted(set(P["model"]) - {"govml", "govml_intra"}):
        g, errs = P[P["model"] == model], 0
        for o, go in g.groupby("origin"):
            H = wide.loc[:, :pd.Timestamp(o)].reindex(pd.MultiIndex.from_arrays([go["ka"], go["kc"]])).fillna(0)
            H = H.to_numpy()
            h = go["horizon"].to_numpy()
            if model == "last_value":
                exp = H[:, -1]
            elif model.startswith("mean_"):
                exp = H[:, -int(model.split("_")[1]):].mean(axis=1)
            else:  # seasonal_naive_<s>
                s = int(model.rsplit("_", 1)[1])
                exp = H[np.arange(len(H)), H.shape[1] - s + h - 1]
            errs += int(np.sum(np.abs(exp - go["yhat"].to_numpy()) > 1e-9))
        bad[model] = errs
    ok = bad_y == 0 and not any(bad.values())
    print(f"2. y against the events' own weekly counts: {bad_y} of {len(P)} rows differ; baselines' yhat rows "
          f"differing from last value / means / seasonal naive recomputed: {bad} — {'holds' if ok else 'FAILS'}")


# -- 3, 4, 5 ------------------------------------------------------------------------------------------------------------
def diff_at(a: pd.DataFrame, b: pd.DataFrame, origin=None) -> tuple[int, float]:
    """(rows in one only, largest |difference| over the numeric columns but y) between two prediction frames."""
    if origin is not None:
        a, b = a[a["origin"] == origin], b[b["origin"] == origin]
    k = ["model", "origin", "area", "category", "horizon"]
    m = a.merge(b, on=k, how="outer", suffixes=("", "_b"), indicator=True)
    only = int((m["_merge"] != "both").sum())
    m = m[m["_merge"] == "both"]
    d = max((float(np.nanmax(np.abs(m[c].to_numpy(float) - m[c + "_b"].to_numpy(float)))) for c in NUM[1:]
             if c in a and a[c].notna().any()), default=0.0)
    return only, d


def prop3(run: Runner, base: dict, events: pd.DataFrame, cols: tuple[str, str, str]) -> None:
    t, a, c = cols
    origin = pd.Timestamp(base["metrics"]["origins"][0])
    after = origin + pd.Timedelta(days=7)  # events from the week after the origin's on
    ts = pd.to_datetime(events[t], errors="coerce", format="mixed")
    late = ts >= after
    f = run.work / "p3_doubled.csv"
    pd.concat([events, events[late]]).to_csv(f, index=False)
    b = run.backtest(f, "p3_doubled")
    only, d = diff_at(base["full"], b["full"], origin)
    print(f"3a. every event after the origin {origin.date()} doubled: forecasts there differ by {d:.1e} "
          f"({only} rows in one only) — {'holds' if only == 0 and d == 0 else 'FAILS'}")
    at = (after + pd.Timedelta(days=1)).strftime("%Y-%m-%d 10:00:00")
    new = pd.DataFrame({t: [at] * 6, a: ["新建区X"] * 3 + [events[a].dropna().iloc[0]] * 3,
                        c: [events[c].dropna().iloc[0]] * 3 + ["新类别Y"] * 3})
    f = run.work / "p3_new.csv"
    pd.concat([events, new]).to_csv(f, index=False)
    b = run.backtest(f, "p3_new")
    only, d = diff_at(base["full"], b["full"], origin)
    print(f"3b. a new area and a new category with events after the origin only: forecasts there differ by {d:.1e}, "
          f"{only} rows in one only (not forecast there) — {'holds' if only == 0 and d == 0 else 'FAILS'}; note: "
          f"{(b['metrics']['settings'].get('notes') or ['none'])[0][:100]}")
    f = run.work / "p3_upto.csv"
    events[ts.notna() & (ts < after)].to_csv(f, index=False)
    end = (after - pd.Timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
    fc = pd.read_csv(run.forecast(f, "p3_upto", now=end), dtype={"area": str, "category": str})
    g = base["full"]
    g = g[(g["model"] == "govml") & (g["origin"] == origin)]
    m = fc.merge(g, on=["area", "category", "horizon"], suffixes=("", "_bt"))
    d = max(float(np.abs(m[x] - m[x + "_bt"]).max()) for x in ("yhat", "yhat_lo", "yhat_hi", "p_hotspot"))
    same = len(m) == len(fc) == len(g)
    print(f"3c. forecast on the events up to the origin (--now {end}) against the backtest's govml there: "
          f"{len(m)} of {len(fc)} rows matched, largest difference {d:.1e} — {'holds' if same and d == 0 else 'FAILS'}")


def _rows_apart(v):
    """A metrics.json value without the example file rows of the exclusions (the rows are the file's own: another
    row order names other rows)."""
    if isinstance(v, dict):
        return {k: _rows_apart(x) for k, x in v.items() if k != "example_file_rows"}
    return v


def prop4(run: Runner, base: dict, base_fc: Path, events: pd.DataFrame, cols: tuple[str, str, str],
          xlsx: bool) -> None:
    t = cols[0]
    shuffled = events.sample(frac=1.0, random_state=7)
    forms = {"shuffled": run.work / "p4_shuffled.csv", "gbk": run.work / "p4_gbk.csv"}
    shuffled.to_csv(forms["shuffled"], index=False)
    events.to_csv(forms["gbk"], index=False, encoding="gbk", errors="strict")
    if xlsx:
        forms["xlsx"] = run.work / "p4_events.xlsx"
        book = shuffled.assign(**{t: pd.to_datetime(shuffled[t], errors="coerce", format="mixed").astype(object)})
        book.loc[book[t].isna(), t] = shuffled[t]
        book.to_excel(forms["xlsx"], index=False)
    for name, f in forms.items():
        fc_same = run.forecast(f, f"p4_{name}").read_bytes() == base_fc.read_bytes()
        b = run.backtest(f, f"p4_{name}")
        preds_same = b["preds_path"].read_bytes() == base["preds_path"].read_bytes()
        keys = sorted(k for k in base["metrics"] if _rows_apart(base["metrics"][k]) != _rows_apart(b["metrics"][k]))
        ok = fc_same and preds_same and set(keys) <= {"events", "fit_seconds", "fit_cpu_seconds"}
        print(f"4. {name}: forecast.csv {'byte-identical' if fc_same else 'DIFFERS'}, preds.csv "
              f"{'byte-identical' if preds_same else 'DIFFERS'}, metrics.json keys differing {keys} — "
              f"{'holds' if ok else 'FAILS'}")


def prop5(run: Runner, base: dict, events: pd.DataFrame, cols: tuple[str, str, str]) -> None:
    _, a, c = cols
    maps = {}
    for col, pre in ((a, "区"), (c, "类")):
        names = sorted(norm(events[col]).loc[lambda s: s != ""].unique())
        maps[col] = {x: f"{pre}{len(names) - i:04d}" for i, x in enumerate(names)}  # reversed sort order
    ren = events.assign(**{col: norm(events[col]).map(m) for col, m in maps.items()})
    f = run.work / "p5_renamed.csv"
    ren.to_csv(f, index=False)
    b = run.backtest(f, "p5_renamed")
    inv = {col: {v: k for k, v in m.items()} for col, m in maps.items()}
    full = b["full"].assign(area=lambda x: x["area"].map(inv[a]), category=lambda x: x["category"].map(inv[c]))
    basef = base["full"].assign(area=lambda x: norm(x["area"]), category=lambda x: norm(x["category"]))
    for model in sorted(set(basef["model"])):
        only, d = diff_at(basef[basef["model"] == model], full[full["model"] == model])
        ma, mb = base["metrics"]["metrics"][model]["all"], b["metrics"]["metrics"][model]["all"]
        md = max((abs(ma[k] - mb[k]) for k in ma if ma[k] is not None and mb[k] is not None), default=0.0)
        print(f"5. renamed (reversed sort order), {model}: forecasts differ by {d:.1e} ({only} rows unmatched), "
              f"overall metrics by {md:.1e} — {'holds' if only == 0 and d < 1e-9 and md < 1e-9 else 'FAILS'}")


def prop6(fc_path: Path, horizon: int, events: pd.DataFrame, cols: tuple[str, str, str], now: str) -> None:
    t, a, c = cols
    fc = pd.read_csv(fc_path, dtype={"area": str, "category": str})
    ps = pd.to_datetime(fc["period_start"])
    starts = ps.groupby(fc["horizon"]).agg(["nunique", "first"]).sort_index()
    ts = pd.to_datetime(events[t], errors="coerce", format="mixed")
    ev = events[ts.notna() & (ts <= pd.Timestamp(now))]
    ka, kc = norm(ev[a]), norm(ev[c])
    ok_rows = (ka != "") & (kc != "")
    ncat = kc[ok_rows].value_counts()
    S = fc.groupby(["area", "category"]).ngroups
    checks = {
        "no NaN": not fc.isna().any().any(),
        "lo ≤ yhat ≤ hi": bool(((fc["yhat_lo"] <= fc["yhat"]) & (fc["yhat"] <= fc["yhat_hi"])).all()),
        "all ≥ 0": bool((fc[["yhat", "yhat_lo", "yhat_hi"]] >= 0).all().all()),
        "p_hotspot in [0, 1]": bool(fc["p_hotspot"].between(0, 1).all()),
        "horizons 1..H": sorted(fc["horizon"].unique()) == list(range(1, horizon + 1)),
        "one period per horizon, consecutive": bool((starts["nunique"] == 1).all() and (
            starts["first"].diff().dropna() == pd.Timedelta(days=7)).all()),
        "one row per area × category × horizon": not fc.duplicated(["area", "category", "horizon"]).any()
        and len(fc) == S * horizon and S == fc["area"].nunique() * fc["category"].nunique(),
        "areas = the events' areas": set(norm(fc["area"])) == set(ka[ok_rows]),
        "categories = the events' with ≥ 2 events": set(norm(fc["category"])) == set(ncat[ncat >= 2].index),
    }
    bad = [k for k, v in checks.items() if not v]
    print(f"6. forecast.csv ({len(fc)} rows, {fc['area'].nunique()} areas × {fc['category'].nunique()} categories, "
          f"from {starts['first'].iloc[0].date()}): {'all hold' if not bad else 'FAILS: ' + ', '.join(bad)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="sample", choices=sorted(DATASETS))
    ap.add_argument("--origins", type=int, default=4)
    ap.add_argument("--props", default="1,2,3,4,5,6")
    ap.add_argument("--no-xlsx", action="store_true", help="property 4 without the workbook (slow on Boston)")
    ap.add_argument("--work", type=Path, default=None, help="keep the files here (default: a temporary folder)")
    args = ap.parse_args(argv)
    path, t, a, c, now = DATASETS[args.dataset]
    if not path.exists():
        print(f"{args.dataset}: {path} not found; skipped")
        return 0
    props = {int(p) for p in args.props.split(",")}
    tmp = tempfile.TemporaryDirectory() if args.work is None else None
    work = Path(tmp.name) if tmp else args.work
    work.mkdir(parents=True, exist_ok=True)
    cols = (t, a, c)
    if args.dataset == "teddycup":  # one CSV with the columns the commands read
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from bench_alerts import real_messages

        ev = real_messages().drop(columns="text")
        path = work / "teddycup_events.csv"
        ev.to_csv(path, index=False)
    events = read_events(path)
    run = Runner(work, cols, now, args.origins)
    base = run.backtest(path, "base")
    base_fc = run.forecast(path, "base")
    print(f"{args.dataset}: {len(events)} events, origins {', '.join(base['metrics']['origins'])}")
    if 1 in props:
        prop1(base)
    if 2 in props:
        prop2(base, events, cols)
    if 3 in props:
        prop3(run, base, events, cols)
    if 4 in props:
        prop4(run, base, base_fc, events, cols, xlsx=not args.no_xlsx)
    if 5 in props:
        prop5(run, base, events, cols)
    if 6 in props:
        prop6(base_fc, 4, events, cols, now)
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
