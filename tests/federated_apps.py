"""Test helper: the federated hotspot forecaster through the Flower app on the in-process grid (each
district a ClientApp reading its own CSV), shared by the app-versus-in-process tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd


def forecaster_config(events: pd.DataFrame, periods: pd.DatetimeIndex, **extra: Any) -> dict[str, Any]:
    """The run config of a 6-tree secure forecaster over ``events``' categories and panel span (as in
    pyproject's [tool.flwr.app.config]), plus ``extra`` keys."""
    return {"task": "hotspot-forecaster", "secure": True, "num-rounds": 6, "horizon": 4,
            "categories": "|".join(sorted(events["category"].unique())),
            "panel-start": str(periods[0].date()), "panel-end": str(periods[-1].date()), **extra}


def run_forecaster_app(events: pd.DataFrame, tmp_path: Path, cfg: dict[str, Any], *, run_id: int, node_base: int,
                       out_prefix: str = "out", mods: list | None = None) -> dict[str, Any]:
    """One ClientApp per ``district`` of ``events`` (its rows written to ``tmp_path/<district>.csv``,
    forecasts to ``tmp_path/<out_prefix><i>/``) and the ServerApp's result."""
    from govml.federated.client_app import clear_cache, make_client_app
    from govml.federated.grid import LocalGrid
    from govml.federated.server_app import run_federation

    grid = LocalGrid(run_id=run_id)
    for i, (d, g) in enumerate(events.groupby("district")):
        path = tmp_path / f"{d}.csv"
        g.drop(columns=["district"]).rename(columns={"area": "community"}).to_csv(path, index=False)
        grid.add_node(node_base + i, make_client_app(mods=mods), {"data-path": str(path), "district": d,
                                                                  "output-dir": str(tmp_path / f"{out_prefix}{i}")},
                      cfg)
    try:
        return run_federation(grid, cfg)
    finally:
        clear_cache()


def read_forecasts(tmp_path: Path, out_prefix: str = "out", **read_kw: Any) -> pd.DataFrame:
    """The districts' forecasts.csv written by :func:`run_forecaster_app`, one frame."""
    return pd.concat([pd.read_csv(p, **read_kw) for p in sorted(tmp_path.glob(f"{out_prefix}*/forecasts.csv"))])


def district_files(tmp_path: Path, table: pd.DataFrame, by: str = "district") -> dict[str, str]:
    """One CSV per district (``by``) under ``tmp_path``: what each SuperNode's ``data-path`` names."""
    out = {}
    for d, g in table.groupby(by):
        out[d] = str(tmp_path / f"{d}.csv")
        g.to_csv(out[d], index=False)
    return out


def new_process(msg, context, call_next):
    """A ClientApp mod: what a SuperNode does at every message — a new flwr-clientapp process, so nothing in
    module memory (the run folder is all that lives to the next message)."""
    from govml.federated import client_app as CA

    CA._CACHE.clear()
    return call_next(msg, context)
