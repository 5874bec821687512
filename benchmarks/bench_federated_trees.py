"""How many trees the federated forecaster should grow on top of the level: one in-process fit per
backtest origin with the largest count, forecasts with the first K trees, scored on the origins of
`govml hotspots backtest` (the same model the Flower app grows: tests/federated/test_federated_forecaster.py).

    .venv/bin/python benchmarks/bench_federated_trees.py EVENTS.csv PARTITION COMMUNITY CATEGORY TIME
        [--origins 8] [--trees 0,10,20,40,60] [--no-level] [--lightgbm] [--point [--select-max 20]]
        [--start DATE] [--end DATE] [--holidays auto|off|both]

EVENTS.csv: e.g. data_samples/complaints.csv (district community category created_at), or the
50-district Boston file of `bench_federated_scale.py --write-events FILE` (district community REASON
OPEN_DT). Prints the RMSE / MAE / top-2 % table per K (and the central LightGBM with --lightgbm).
``--trees ""`` leaves the staged table out. ``--point`` adds the central model's inner-holdout choices
done federated: ``point (K=10)`` — 10 trees, yhat by the point rule (w per horizon from the districts'
holdout sums); ``point + trees chosen (<= N)`` — also the tree count chosen on the inner holdout out of
0..N (``--select-max``); next to ``mean (K=10)``, the model before (10 trees, yhat = the mean). With
--lightgbm the ratios federated / central follow. ``--end DATE`` keeps the events before DATE (the
origins are then the last ones before it: ``--end 2024-03-11`` puts Spring Festival 2024 among the
targets); ``--start DATE`` spreads the origins from DATE on (``choose_origins``). ``--holidays``: the
holiday factor of every model (federated and central: ``holidays="auto"`` or off); ``both`` runs each
model both ways (``… [off]``) and prints the ratios of each setting against the central model with it.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from sklearn.base import BaseEstimator

_FITS: dict = {}


class StagedView(BaseEstimator):
    """The first ``k`` trees of one cached fit with ``n_max`` trees (per backtest origin)."""

    def __init__(self, k: int = 10, n_max: int = 60, level: bool = True, holidays: str | None = "auto"):
        self.k, self.n_max, self.level, self.holidays = k, n_max, level, holidays

    def fit(self, panel):
        from govml.federated.forecaster import FederatedHotspotForecaster

        key = (str(panel["period_start"].max()), len(panel), self.n_max, self.level, self.holidays)
        if key not in _FITS:
            _FITS[key] = FederatedHotspotForecaster(horizon=4, n_trees=self.n_max, secure=False,
                                                    level=self.level, holidays=self.holidays).fit(panel)
        self.m_ = _FITS[key]
        return self

    def predict(self, horizon=None):
        b = self.m_.booster_
        full = b.trees
        b.trees = full[: self.k]
        try:
            return self.m_.predict(horizon)
        finally:
            b.trees = full


def main() -> None:
    from govml.federated.simulation import forecaster_panel
    from govml.hotspot.backtest import choose_origins, run_backtest
    from govml.hotspot.panel import panel_matrix
    from govml.io import read_table

    ap = argparse.ArgumentParser()
    ap.add_argument("events")
    ap.add_argument("partition")
    ap.add_argument("community")
    ap.add_argument("category")
    ap.add_argument("time")
    ap.add_argument("--origins", type=int, default=8)
    ap.add_argument("--trees", default="0,10,20,40,60")
    ap.add_argument("--no-level", dest="level", action="store_false")
    ap.add_argument("--lightgbm", action="store_true")
    ap.add_argument("--point", action="store_true", help="add the point rule / tree choice variants")
    ap.add_argument("--select-max", type=int, default=20, help="--point: largest tree count to choose from")
    ap.add_argument("--variants", default="mean,point,select", help="--point: which of mean, point, select to run")
    ap.add_argument("--start", default=None, help="origins spread from this date on (choose_origins)")
    ap.add_argument("--end", default=None, help="keep the events before this date")
    ap.add_argument("--holidays", default="auto", choices=("auto", "off", "both"),
                    help="the holiday factor of every model (federated and central)")
    args = ap.parse_args()
    ks = [int(x) for x in args.trees.split(",") if x.strip()]
    events = read_table(args.events)
    if args.end:
        import pandas as pd

        t = pd.to_datetime(events[args.time], errors="coerce")
        events = events[t < pd.Timestamp(args.end)].reset_index(drop=True)
    panel = forecaster_panel(events, args.partition,
                             {"community": args.community, "category": args.category, "created_at": args.time})
    settings = {"auto": ["auto"], "off": ["off"], "both": ["auto", "off"]}[args.holidays]
    models: dict = {}
    for hol in settings:
        tag = "" if hol == "auto" else " [off]"
        hv = "auto" if hol == "auto" else None
        models.update({f"trees={k}{tag}": StagedView(k=k, n_max=max(ks), level=args.level, holidays=hv) for k in ks})
        if args.point:
            from govml.federated.forecaster import FederatedHotspotForecaster as F

            kw = {"horizon": 4, "secure": False, "level": args.level, "holidays": hv}
            variants = set(args.variants.split(","))
            if "mean" in variants:
                models[f"mean (K=10){tag}"] = F(n_trees=10, **kw)
            if "point" in variants:
                models[f"point (K=10){tag}"] = F(n_trees=10, point="auto", **kw)
            if "select" in variants:
                models[f"point + trees chosen (<= {args.select_max}){tag}"] = F(
                    n_trees=args.select_max, point="auto", select_trees=True, **kw)
        if args.lightgbm:
            from govml.hotspot.forecast import HotspotForecaster

            models[f"central LightGBM{tag}"] = HotspotForecaster(horizon=4, holidays=hv)
    _y, _keys, periods = panel_matrix(panel)
    origins = choose_origins(periods, 4, args.origins, start=args.start)
    c0 = time.process_time()
    bt = run_backtest(panel, models, list(origins), 4)
    ov = bt.metrics[bt.metrics["horizon"] == "all"].set_index("model")
    cols = ["rmse", "mae", "precision_top2pct"]
    print(ov[cols].to_string())
    if args.lightgbm:
        for hol in settings:
            tag = "" if hol == "auto" else " [off]"
            central = f"central LightGBM{tag}"
            mine = [m for m in ov.index if m != central and m.endswith(tag) and (tag or not m.endswith(" [off]"))]
            print(f"federated / central (holidays {hol}):")
            print((ov.loc[mine, cols] / ov.loc[central, cols]).round(4).to_string())
    print(json.dumps({"level": args.level, "holidays": args.holidays, "origins": [str(o.date()) for o in origins],
                      "cpu_seconds": round(time.process_time() - c0, 1),
                      "fit_seconds": {k: round(v, 1) for k, v in bt.fit_seconds.items()},
                      "load_average": [round(x, 2) for x in os.getloadavg()]}, ensure_ascii=False))


if __name__ == "__main__":
    main()
