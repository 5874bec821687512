"""Heatmaps and plots for hotspot forecasts and complaint handling (CJK labels via govml.plots).

* :func:`actual_vs_forecast_table` / :func:`actual_vs_forecast_heatmap`: area × period, the last
  observed periods followed by the forecast ones (columns marked 预测).
* :func:`efficiency_tables` / :func:`efficiency_heatmaps`: quarterly median handling days and
  closure rate per area, where the events have ``closed_at`` / ``status``.
* :func:`backtest_figure`: error by horizon for each model of a backtest.
* :func:`reliability_figure`: is ``p_hotspot`` honest? Its reliability diagram in a backtest (mean
  probability against the observed hotspot frequency per bin), with the no-model reference, and the Brier
  score per size band of the forecast against that reference's.

Functions return DataFrames or matplotlib Figures; saving is the caller's (``govml.plots.save_figure``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from govml.errors import DataError
from govml.io import label_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CLOSED_WORDS = ("已办结", "办结", "已完成", "完成", "已关闭", "关闭", "closed", "resolved", "done")


def actual_vs_forecast_table(panel: pd.DataFrame, forecast: pd.DataFrame, last: int = 12,
                             category: str | None = None, top_areas: int | None = 30) -> pd.DataFrame:
    """Area × period counts: the last ``last`` observed periods, then the forecasts (``yhat``).

    Sums over categories unless ``category`` picks one; keeps the ``top_areas`` areas with the most
    forecast complaints. Forecast columns are labelled ``预测 MM-DD``.
    """
    p = panel if category is None else panel[panel["category"].astype(str) == category]
    f = forecast if category is None else forecast[forecast["category"].astype(str) == category]
    if p.empty:
        raise DataError(message=f"no panel rows for category {category!r}")
    periods = np.sort(p["period_start"].unique())[-last:]
    recent = p[p["period_start"].isin(periods)]
    act = (recent.assign(area=recent["area"].astype(str))
           .pivot_table(index="area", columns="period_start", values="y", aggfunc="sum"))
    act.columns = [pd.Timestamp(c).strftime("%m-%d") for c in act.columns]
    fc = f.assign(area=f["area"].astype(str)).pivot_table(index="area", columns="period_start", values="yhat",
                                                           aggfunc="sum")
    fc.columns = [f"预测 {pd.Timestamp(c).strftime('%m-%d')}" for c in fc.columns]
    out = act.join(fc, how="outer").fillna(0.0)
    if top_areas is not None and len(out) > top_areas:
        out = out.loc[fc.sum(axis=1).reindex(out.index).fillna(0).sort_values(ascending=False).index[:top_areas]]
    else:
        out = out.loc[fc.sum(axis=1).reindex(out.index).fillna(0).sort_values(ascending=False).index]
    return out


def actual_vs_forecast_heatmap(panel: pd.DataFrame, forecast: pd.DataFrame, last: int = 12,
                               category: str | None = None, top_areas: int | None = 30,
                               title: str | None = None) -> Figure:
    from govml.plots import heatmap

    table = actual_vs_forecast_table(panel, forecast, last=last, category=category, top_areas=top_areas)
    what = category or "全部类别"
    return heatmap(table, title=title or f"投诉量：近{last}期实际与未来预测（{what}）", fmt="{:.1f}",
                   colorbar_label="件数", xlabel="期（周一开始）", ylabel="社区")


def efficiency_tables(events: pd.DataFrame, *, time_col: str = "created_at", area_col: str = "community",
                      closed_col: str = "closed_at", status_col: str = "status",
                      freq: str = "Q") -> dict[str, pd.DataFrame]:
    """Per area × quarter: ``median_days`` (creation → closure, closed ones) and ``closure_rate``.

    A complaint counts as closed when it has a ``closed_at`` time or (without that column) when its
    status reads as closed (已办结, 办结, closed ...). Returns only the tables the data allow.
    """
    if time_col not in events or area_col not in events:
        raise DataError(message=f"efficiency tables need columns {time_col!r} and {area_col!r}")
    from govml.io import beijing_clock, parse_datetime

    def when(col: str) -> pd.Series:  # any form the readers accept (2024/7/1 9:05, 2024年7月1日 …), not pandas' guess
        v = events[col]
        if pd.api.types.is_datetime64_any_dtype(v):
            return beijing_clock(v)
        return pd.Series(parse_datetime(v.astype("string"), errors="coerce").to_numpy(), index=events.index)

    t = when(time_col)
    q = t.dt.to_period(freq).astype(str)
    area = label_text(events[area_col])  # area codes read as numbers with blanks: 8.0 → 8, as the panel names them
    out: dict[str, pd.DataFrame] = {}
    closed = None
    if closed_col in events:
        c = when(closed_col)  # one zoned, one naive: comparable
        days = (c - t).dt.total_seconds() / 86400.0
        ok = days.notna() & (days >= 0)
        d = pd.DataFrame({"area": area[ok], "quarter": q[ok], "days": days[ok]})
        out["median_days"] = d.pivot_table(index="area", columns="quarter", values="days", aggfunc="median")
        closed = c.notna()
    if status_col in events:
        s = events[status_col].astype("string").str.strip().str.lower()
        closed_s = s.isin([w.lower() for w in CLOSED_WORDS]).fillna(False)
        closed = closed_s if closed is None else (closed | closed_s)
    if closed is not None:
        d = pd.DataFrame({"area": area, "quarter": q, "closed": closed.astype(float)})
        d = d[t.notna().to_numpy()]
        out["closure_rate"] = d.pivot_table(index="area", columns="quarter", values="closed", aggfunc="mean")
    return out


def efficiency_heatmaps(events: pd.DataFrame, **kwargs: Any) -> dict[str, Figure]:
    from govml.plots import heatmap

    tables = efficiency_tables(events, **kwargs)
    figs = {}
    if "median_days" in tables:
        figs["median_days"] = heatmap(tables["median_days"], title="办理时长中位数（天）·按季度",
                                      fmt="{:.1f}", colorbar_label="天", xlabel="季度", ylabel="社区")
    if "closure_rate" in tables:
        figs["closure_rate"] = heatmap(tables["closure_rate"], title="办结率·按季度", cmap="RdYlGn",
                                       fmt="{:.0%}", colorbar_label="办结率", xlabel="季度", ylabel="社区")
    return figs


def backtest_figure(metrics: pd.DataFrame, metric_names: tuple[str, ...] = ("mae", "rmse", "precision_top5pct"),
                    title: str | None = None) -> Figure:
    """One panel per metric: the metric by horizon for each model of a backtest."""
    import matplotlib.pyplot as plt

    from govml.plots import setup_cjk

    setup_cjk()
    per_h = metrics[metrics["horizon"] != "all"].copy()
    per_h["h"] = per_h["horizon"].astype(int)
    fig, axes = plt.subplots(1, len(metric_names), figsize=(4.2 * len(metric_names), 3.4))
    axes = np.atleast_1d(axes)
    for ax, m in zip(axes, metric_names, strict=True):
        for model, g in per_h.groupby("model", sort=True):
            g = g.sort_values("h")
            ax.plot(g["h"], g[m], marker="o", label=str(model), lw=2.2 if model == "govml" else 1.2)
        ax.set_title(m)
        ax.set_xticks(sorted(per_h["h"].unique()))
        ax.set_xlabel("预测步长（期）")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title or "滚动起点回测：各模型误差随预测步长变化")
    fig.tight_layout()
    return fig


def reliability_figure(preds: pd.DataFrame, bins: int = 10, title: str | None = None) -> Figure:
    """Reliability of ``p_hotspot`` in backtest forecasts (``preds`` of :func:`~govml.hotspot.backtest.run_backtest`).

    Left: per model with ``p_hotspot``, the mean probability against the observed frequency of
    ``y > threshold`` in ``bins`` equal-width bins (marker area ∝ forecasts in the bin; the diagonal is a
    calibrated forecast), and the reference ``p_ref`` (each cell's past exceedance rate) dashed. Right: the
    Brier score per size band of the forecast mean, model against reference, with the hotspot events per band.
    """
    import matplotlib.pyplot as plt

    from govml.hotspot.backtest import hotspot_calibration, hotspot_reliability
    from govml.plots import setup_cjk

    if "p_hotspot" not in preds.columns or preds["p_hotspot"].isna().all():
        raise DataError(message="no p_hotspot in these backtest predictions: nothing to plot")
    setup_cjk()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10.5, 4.2))
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls=":", label="完全校准")
    rel = hotspot_reliability(preds, bins)
    for model, g in preds[preds["p_hotspot"].notna()].groupby("model", sort=True):
        t = hotspot_calibration(g, bins)
        ax.plot(t["mean_p"], t["observed"], marker="o", lw=1.8, label=f"{model} p_hotspot", zorder=3)
        ax.scatter(t["mean_p"], t["observed"], s=12 + 200 * np.sqrt(t["n"] / t["n"].max()), alpha=0.25, zorder=2)
        if "p_ref" in g.columns and g["p_ref"].notna().all():
            r = hotspot_calibration(g, bins, p_col="p_ref")
            ax.plot(r["mean_p"], r["observed"], marker="s", ms=4, lw=1.2, ls="--", label=f"{model} 参照（历史超阈率）")
        bands = rel.get(str(model), {}).get("bands", {})
        names = list(bands)
        x = np.arange(len(names))
        bx.bar(x - 0.2, [bands[b]["hotspot_brier"] for b in names], width=0.4, label=f"{model} p_hotspot")
        if names and "hotspot_brier_ref" in bands[names[0]]:
            bx.bar(x + 0.2, [bands[b].get("hotspot_brier_ref", np.nan) for b in names], width=0.4, label="参照")
        for i, b in enumerate(names):
            bx.annotate(f"{int(bands[b]['hotspot_events'])}/{bands[b]['n']}", (i, 0), xytext=(0, 2),
                        textcoords="offset points", ha="center", fontsize=7)
        bx.set_xticks(x, names)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("预测概率 p_hotspot（分箱均值）")
    ax.set_ylabel("实际超过热点阈值的比例")
    ax.set_title("可靠性图")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    bx.set_xlabel("预测均值分段（件/期）；标注：热点次数/预测数")
    bx.set_ylabel("Brier 分数（越低越好）")
    bx.set_title("各分段 Brier：模型与参照")
    bx.grid(alpha=0.3, axis="y")
    bx.legend(fontsize=8)
    fig.suptitle(title or "回测：热点概率 p_hotspot 是否可信")
    fig.tight_layout()
    return fig
