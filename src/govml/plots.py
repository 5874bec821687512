"""Charts with Chinese labels: a shipped CJK font, heatmaps, bar/line charts, atomic saving.

Call :func:`setup_cjk` before drawing with matplotlib yourself (the helpers here call it). It
registers the Noto Sans CJK SC font that the ``mplfonts`` package ships (nothing is downloaded),
puts it first in ``font.sans-serif`` and turns off the Unicode minus sign (which that font lacks)::

    from govml import plots
    fig = plots.heatmap(table, title="各社区各类诉求数量")
    plots.save_figure(fig, "reports/heatmap.png")
"""

from __future__ import annotations

import logging
import os
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govml.errors import ConfigError, DataError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

__all__ = ["FONT_FILE", "bar", "cjk_font_path", "heatmap", "line", "save_figure", "setup_cjk"]

#: The font file used for Chinese text, inside the ``mplfonts`` package.
FONT_FILE = "NotoSansCJKsc-Regular.otf"
_state: dict[str, str] = {}


def cjk_font_path() -> Path:
    """Where the shipped CJK font lies (inside the installed ``mplfonts`` package)."""
    try:
        path = Path(str(resources.files("mplfonts") / "fonts" / FONT_FILE))
    except ModuleNotFoundError as exc:  # pragma: no cover - mplfonts is a dependency
        raise ConfigError("the package 'mplfonts' (which ships the CJK font) is not installed") from exc
    if not path.is_file():  # pragma: no cover - a broken installation
        raise ConfigError(f"CJK font {FONT_FILE} not found in the mplfonts package ({path.parent})")
    return path


def setup_cjk() -> str:
    """Make matplotlib render Chinese; returns the font family name. Idempotent and cheap on repeat."""
    import matplotlib as mpl
    from matplotlib import font_manager

    family = _state.get("family")
    if family is None:
        path = cjk_font_path()
        font_manager.fontManager.addfont(str(path))
        family = font_manager.FontProperties(fname=str(path)).get_name()
        _state["family"] = family
        log.debug("registered CJK font %s from %s", family, path)
    sans = list(mpl.rcParams["font.sans-serif"])
    if not sans or sans[0] != family:
        mpl.rcParams["font.sans-serif"] = [family] + [f for f in sans if f != family]
    if mpl.rcParams["font.family"] != ["sans-serif"]:
        mpl.rcParams["font.family"] = ["sans-serif"]
    mpl.rcParams["axes.unicode_minus"] = False
    return family


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    if ax is not None:
        return ax.get_figure(), ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def heatmap(
    table: pd.DataFrame,
    title: str | None = None,
    cmap: str = "YlOrRd",
    annotate: bool | None = None,
    fmt: str = "{:.0f}",
    ax: Axes | None = None,
    figsize: tuple[float, float] | None = None,
    colorbar_label: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """A rows × columns heatmap of a numeric table, with its index and columns as (Chinese) labels.

    ``annotate`` writes each value in its cell (default: only when the table has ≤ 400 cells);
    ``fmt`` formats those values. Missing values are drawn blank. Readable up to ~60 × 60: labels
    shrink with the table and the figure grows with it unless ``figsize`` is given.
    """
    import numpy as np
    import pandas as pd

    setup_cjk()
    if not isinstance(table, pd.DataFrame):
        raise DataError(message=f"heatmap() needs a DataFrame, got {type(table).__name__}")
    if table.empty:
        raise DataError(message="heatmap(): the table is empty (no rows or no columns)")
    try:
        values = table.apply(pd.to_numeric, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (ValueError, TypeError) as exc:
        raise DataError(message=f"heatmap(): the table must be numeric ({exc})") from exc
    n_rows, n_cols = values.shape
    if figsize is None:
        figsize = (min(4 + 0.45 * n_cols, 26), min(2.5 + 0.35 * n_rows, 26))
    fig, ax = _new_axes(ax, figsize)
    masked = np.ma.masked_invalid(values)
    image = ax.imshow(masked, cmap=cmap, aspect="auto", interpolation="nearest")
    label_size = 10 if max(n_rows, n_cols) <= 20 else 8 if max(n_rows, n_cols) <= 40 else 6
    ax.set_xticks(
        range(n_cols),
        [str(c) for c in table.columns],
        fontsize=label_size,
        rotation=45 if n_cols > 6 else 0,
        ha="right" if n_cols > 6 else "center",
    )
    ax.set_yticks(range(n_rows), [str(i) for i in table.index], fontsize=label_size)
    if annotate is None:
        annotate = n_rows * n_cols <= 400
    if annotate:
        finite = values[np.isfinite(values)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        for i in range(n_rows):
            for j in range(n_cols):
                v = values[i, j]
                if np.isfinite(v):
                    ax.text(
                        j,
                        i,
                        fmt.format(v),
                        ha="center",
                        va="center",
                        fontsize=max(label_size - 1, 5),
                        color="white" if v > mid else "black",
                    )
    if title:
        ax.set_title(title)
    if xlabel or table.columns.name:
        ax.set_xlabel(xlabel or str(table.columns.name))
    if ylabel or table.index.name:
        ax.set_ylabel(ylabel or str(table.index.name))
    bar_ = fig.colorbar(image, ax=ax, shrink=0.9)
    if colorbar_label:
        bar_.set_label(colorbar_label)
    return fig


def bar(
    data: pd.Series,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    horizontal: bool = True,
    ax: Axes | None = None,
    figsize: tuple[float, float] | None = None,
    color: str = "#c0392b",
) -> Figure:
    """A bar chart of a Series (index = labels); horizontal by default, largest bar on top."""
    setup_cjk()
    n = len(data)
    fig, ax = _new_axes(
        ax, figsize or ((7, min(2 + 0.3 * n, 20)) if horizontal else (min(3 + 0.4 * n, 20), 5))
    )
    labels = [str(i) for i in data.index]
    if horizontal:
        ax.barh(labels[::-1], list(data.to_numpy(dtype=float))[::-1], color=color)
    else:
        ax.bar(labels, data.to_numpy(dtype=float), color=color)
        ax.tick_params(axis="x", labelrotation=45 if n > 6 else 0)
    _labels(ax, title, xlabel, ylabel)
    return fig


def line(
    data: pd.DataFrame | pd.Series,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    ax: Axes | None = None,
    figsize: tuple[float, float] = (9, 4.5),
    marker: str | None = None,
) -> Figure:
    """Line chart: one line per column of ``data`` (the index is the x axis, e.g. dates)."""
    import pandas as pd

    setup_cjk()
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    fig, ax = _new_axes(ax, figsize)
    for col in frame.columns:
        ax.plot(frame.index, frame[col].to_numpy(dtype=float), label=str(col), marker=marker)
    if frame.shape[1] > 1:
        ax.legend(loc="best", fontsize=9)
    ax.grid(alpha=0.3)
    _labels(ax, title, xlabel, ylabel)
    return fig


def _labels(ax: Axes, title: str | None, xlabel: str | None, ylabel: str | None) -> None:
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)


def check_figure_path(path: str | os.PathLike[str]) -> str:
    """The format of a figure file named ``path`` (its suffix: ``png``), refused with a clear error when matplotlib
    cannot write it (``.txt``, ``.doc``, no suffix) or the path cannot be written — so that a command can refuse it
    before anything else is written."""
    from matplotlib.backend_bases import FigureCanvasBase

    from govml.io import check_output_path

    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    known = FigureCanvasBase.get_supported_filetypes()
    if fmt not in known:
        raise ConfigError(f"{path}: cannot draw a figure as {path.suffix or 'a file without suffix'}; expected "
                          + ", ".join(f".{k}" for k in sorted(known)))
    check_output_path(path, table=False)
    return fmt


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = 150, **savefig_kwargs: Any) -> Path:
    """Write ``fig`` atomically (temp file in the same folder, then rename) and close it.

    The format follows the suffix (.png, .svg, .pdf …). Returns the path written.
    """
    path = Path(path)
    fmt = check_figure_path(path)
    from govml.io import atomic_path

    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, **savefig_kwargs)
    finally:
        _close(fig)
    return path


def _close(fig: Figure) -> None:
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:  # only pyplot keeps figures alive; a plain Figure is freed with its last reference
        plt.close(fig)
