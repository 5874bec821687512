"""govml.plots: Chinese renders without missing glyphs; heatmap/bar/line content; atomic save."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from govml import plots  # noqa: E402
from govml.errors import ConfigError, DataError  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _glyph_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [
        str(w.message)
        for w in caught
        if "missing from font" in str(w.message) or "Glyph" in str(w.message) or "findfont" in str(w.message)
    ]


def test_setup_cjk_is_idempotent_and_sets_rcparams() -> None:
    family = plots.setup_cjk()
    assert family == plots.setup_cjk()
    assert "CJK" in family
    assert matplotlib.rcParams["font.sans-serif"][0] == family
    assert matplotlib.rcParams["font.sans-serif"].count(family) == 1
    assert matplotlib.rcParams["axes.unicode_minus"] is False
    assert plots.cjk_font_path().is_file()


def test_chinese_title_labels_and_ticks_render_without_missing_glyphs(tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plots.setup_cjk()
        fig = Figure(figsize=(6, 4))
        ax = fig.add_subplot()
        ax.plot([1, 2, 3], [-1, 0, 2])  # a negative tick: the Unicode minus must not be needed
        ax.set_title("青山区幸福里社区诉求趋势（加装电梯、停车位）")
        ax.set_xlabel("月份")
        ax.set_ylabel("留言数量")
        ax.set_xticks([1, 2, 3], ["一月", "二月", "三月"])
        out = plots.save_figure(fig, tmp_path / "中文.png")
    assert not _glyph_warnings(caught), _glyph_warnings(caught)
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert out.stat().st_size > 5_000


def test_the_check_catches_a_missing_glyph(tmp_path: Path) -> None:
    """The same check fails when Chinese is drawn with a font that has no CJK glyphs."""
    from matplotlib.figure import Figure

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = Figure()
        fig.add_subplot().set_title("诉求", fontfamily="DejaVu Sans")
        fig.savefig(tmp_path / "x.png")
    assert _glyph_warnings(caught)


def _table(n_rows: int, n_cols: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    idx = pd.Index([f"社区{i}" for i in range(n_rows)], name="社区")
    cols = pd.Index([f"类别{j}" for j in range(n_cols)], name="诉求类别")
    return pd.DataFrame(rng.integers(0, 50, size=(n_rows, n_cols)), index=idx, columns=cols)


def test_heatmap_small_table_annotated_with_labels(tmp_path: Path) -> None:
    table = _table(4, 3)
    table.iloc[1, 2] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = plots.heatmap(table, title="各社区诉求热力图", colorbar_label="条数")
        ax = fig.axes[0]
        assert ax.get_title() == "各社区诉求热力图"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["类别0", "类别1", "类别2"]
        assert [t.get_text() for t in ax.get_yticklabels()] == ["社区0", "社区1", "社区2", "社区3"]
        assert ax.get_xlabel() == "诉求类别" and ax.get_ylabel() == "社区"
        texts = [t.get_text() for t in ax.texts]
        assert len(texts) == 11  # 12 cells, one missing
        assert texts[0] == f"{table.iloc[0, 0]:.0f}"
        assert len(fig.axes) == 2  # the colorbar
        assert fig.axes[1].get_ylabel() == "条数"
        image = ax.get_images()[0]
        assert image.get_array().shape == (4, 3)
        assert image.get_array().mask[1, 2]
        out = plots.save_figure(fig, tmp_path / "heat.png")
    assert not _glyph_warnings(caught)
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_heatmap_60_by_60_not_annotated() -> None:
    fig = plots.heatmap(_table(60, 60))
    ax = fig.axes[0]
    assert len(ax.texts) == 0
    assert len(ax.get_yticklabels()) == 60
    w, h = fig.get_size_inches()
    assert w >= 20 and h >= 20


def test_heatmap_rejects_bad_tables() -> None:
    with pytest.raises(DataError, match="empty"):
        plots.heatmap(pd.DataFrame())
    with pytest.raises(DataError, match="numeric"):
        plots.heatmap(pd.DataFrame({"a": ["x", "y"]}))


def test_bar_and_line(tmp_path: Path) -> None:
    s = pd.Series([30, 12, 5], index=["停车管理", "噪声扰民", "供暖供水"])
    fig = plots.bar(s, title="诉求排行", xlabel="条数")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["供暖供水", "噪声扰民", "停车管理"]
    assert sorted(p.get_width() for p in ax.patches) == [5, 12, 30]
    plots.save_figure(fig, tmp_path / "bar.svg")
    assert "<svg" in (tmp_path / "bar.svg").read_text(encoding="utf-8")[:500]
    frame = pd.DataFrame(
        {"青山区": [1, 3, 2], "临江区": [2, 2, 4]}, index=pd.date_range("2024-01-01", periods=3)
    )
    fig = plots.line(frame, title="趋势")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["青山区", "临江区"]
    assert len(fig.axes[0].lines) == 2


def test_save_figure_is_atomic(tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    target = tmp_path / "keep.png"
    target.write_bytes(b"old")
    fig = Figure()
    fig.add_subplot().plot([1, 2])

    def broken_savefig(fname, **kwargs) -> None:  # half a file written, then a failure
        Path(fname).write_bytes(PNG_MAGIC)
        raise RuntimeError("disk full")

    fig.savefig = broken_savefig  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="disk full"):
        plots.save_figure(fig, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]
    with pytest.raises(ConfigError, match="suffix"):
        plots.save_figure(fig, tmp_path / "nosuffix")


def test_heatmap_on_given_axes() -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3))
    left, right = fig.subplots(1, 2)
    out = plots.heatmap(_table(3, 2), ax=right, title="右图")
    assert out is fig
    assert right.get_title() == "右图" and left.get_title() == ""
    assert len(right.get_images()) == 1 and not left.get_images()
