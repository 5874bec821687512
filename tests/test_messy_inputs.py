"""Messy real-world exports through the checked commands: clear handling or one clear error, never a
traceback, a silent drop or a wrong-but-plausible output."""

from __future__ import annotations

import pandas as pd

from cli_runner import govml as _govml
from govml.hotspot.panel import clean_events


def test_full_width_and_spaced_area_names_are_one_area_and_reported() -> None:
    df = pd.DataFrame({"created_at": [f"2024-01-0{i}" for i in range(1, 8)],
                       "community": ["Back Bay", "Ｂａｃｋ Ｂａｙ", "Back Bay  ", "Back  Bay", "０７", "07", "甲社区"],
                       "category": ["噪声", "噪声", "噪声", "噪声", "噪声", "噪声", "噪声"]})
    clean, ex = clean_events(df, now="2025-01-01")
    assert clean["area"].tolist() == ["Back Bay"] * 4 + ["07", "07", "甲社区"]
    note = " ".join(ex.notes)
    assert "'Ｂａｃｋ Ｂａｙ' → 'Back Bay'" in note and "'０７' → '07'" in note
    assert ex.rows_used == 7


def test_header_only_events_file_is_one_clear_error(tmp_path) -> None:
    f = tmp_path / "events.csv"
    f.write_text("受理时间,社区,类别\n", encoding="utf-8")
    out = tmp_path / "f.csv"
    code, text = _govml("hotspots", "forecast", f, "--time-col", "受理时间", "--area-col", "社区",
                        "--category-col", "类别", "--out", out, "--no-track")
    assert code == 2, text
    assert "events.csv: no data rows below the header" in text
    assert not out.exists()


def _weekly_events(path, weeks: int = 14) -> None:
    """A small events file: two areas × two categories, a few events each Monday-week of 2024."""
    rows = []
    for i, w in enumerate(pd.date_range("2024-01-01", periods=weeks, freq="W-MON")):
        for j, (area, cat) in enumerate((("甲社区", "噪声"), ("乙社区", "噪声"), ("甲社区", "卫生"), ("乙社区", "卫生"))):
            for k in range(1 + (i + j) % 3):
                rows.append({"受理时间": f"{w.year}年{w.month}月{w.day + 0}日", "社区": area, "类别": cat,
                             "k": k})
    pd.DataFrame(rows).drop(columns="k").to_csv(path, index=False, encoding="gbk")


def test_backtest_says_when_origins_or_start_cannot_be_honoured(tmp_path) -> None:
    import json

    f = tmp_path / "events.csv"
    _weekly_events(f)
    out = tmp_path / "m.json"
    cols = ["--time-col", "受理时间", "--area-col", "社区", "--category-col", "类别", "--horizon", "1", "--no-track"]
    code, text = _govml("hotspots", "backtest", f, *cols, "--origins", "50", "--start", "2010年1月1日",
                        "--out", out, "--now", "2025-01-01")
    assert code == 0, text
    m = json.loads(out.read_text(encoding="utf-8"))
    got = m["settings"]["origins"]
    assert 1 <= got < 50 and m["settings"]["origins_requested"] == 50
    notes = " ".join(m["settings"]["notes"])
    assert f"--origins 50: the history allows {got} origin(s)" in notes
    assert "--start 2010-01-01 is before the first origin" in notes
    assert "--origins 50: the history allows" in text.replace("\n", " ")

    out.unlink()
    code, text = _govml("hotspots", "backtest", f, *cols, "--start", "notadate", "--out", out)
    assert code == 2 and "--start 'notadate' is not a date" in text, text
    assert not out.exists()


def test_bad_output_paths_are_refused_before_the_work(tmp_path, monkeypatch) -> None:
    import govml.hotspot.panel as panel_mod

    f = tmp_path / "events.csv"
    _weekly_events(f)
    cols = ["--time-col", "受理时间", "--area-col", "社区", "--category-col", "类别", "--no-track"]

    def boom(*a, **k):  # the events must not even be cleaned when the output path is unusable
        raise AssertionError("work started before the output path was checked")

    monkeypatch.setattr(panel_mod, "clean_events", boom)
    for args in (["forecast", "--out", tmp_path], ["forecast", "--out", tmp_path / "f.txt"],
                 ["forecast", "--out", tmp_path / "f.csv", "--hotspot-quantile", "1.5"],
                 ["backtest", "--out", tmp_path], ["backtest", "--out", tmp_path / "m.json",
                                                   "--predictions-out", tmp_path / "p.doc"]):
        code, text = _govml("hotspots", args[0], f, *cols, *args[1:])
        assert code == 2, text
        assert any(w in text for w in ("is a folder", "cannot write .txt", "cannot write .doc",
                                       "--hotspot-quantile must lie between 0 and 1")), text


def test_lower_case_freq_is_accepted(tmp_path) -> None:
    f = tmp_path / "events.csv"
    _weekly_events(f)
    out = tmp_path / "f.csv"
    code, text = _govml("hotspots", "forecast", f, "--time-col", "受理时间", "--area-col", "社区",
                        "--category-col", "类别", "--freq", "w", "--horizon", "1", "--out", out, "--no-track",
                        "--now", "2025-01-01")
    assert code == 0, text
    fc = pd.read_csv(out)
    assert len(fc) == 4 and (pd.to_datetime(fc["period_start"]).dt.dayofweek == 0).all()


def test_empty_and_unreadable_times_are_told_apart_with_examples() -> None:
    df = pd.DataFrame({"t": ["2024-01-01", "2024年1月2日", "45294", None, " ", "不详", "2019-02-30", "不详"],
                       "a": ["甲"] * 8, "c": ["x"] * 8})
    clean, ex = clean_events(df, time_col="t", area_col="a", category_col="c", now="2025-01-01")
    assert ex.counts == {"missing_time": 2, "unparseable_time": 3}
    assert ex.examples["missing_time"] == [5, 6] and ex.examples["unparseable_time"] == [7, 8, 9]
    assert "e.g. '不详', '2019-02-30'" in " ".join(ex.notes)
    assert clean["created_at"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-01-02", "2024-01-03"]


def test_now_in_a_reader_date_form(tmp_path) -> None:
    f = tmp_path / "events.csv"
    _weekly_events(f)
    out = tmp_path / "f.csv"
    base = ["hotspots", "forecast", f, "--time-col", "受理时间", "--area-col", "社区", "--category-col", "类别",
            "--horizon", "1", "--out", out, "--no-track"]
    code, text = _govml(*base, "--now", "2024年3月1日")
    assert code == 0, text
    assert "time lies after the reference time" in text  # the March events are in the future of --now
    code, text = _govml(*base, "--now", "明天")
    assert code == 2 and "--now '明天' is not a date" in text, text


def test_horizon_longer_than_the_history_is_one_clear_error(tmp_path) -> None:
    f = tmp_path / "events.csv"
    _weekly_events(f)
    out = tmp_path / "f.csv"
    code, text = _govml("hotspots", "forecast", f, "--time-col", "受理时间", "--area-col", "社区", "--category-col",
                        "类别", "--horizon", "13", "--out", out, "--no-track", "--now", "2025-01-01")
    assert code == 2, text
    assert "too little history" in text and "smaller horizon= (--horizon; now 13)" in text
    assert not out.exists()


def test_title_and_footer_rows_of_a_workbook_are_accounted_for(tmp_path) -> None:
    import json

    from openpyxl import Workbook

    csv = tmp_path / "events.csv"
    _weekly_events(csv)
    ev = pd.read_csv(csv, encoding="gbk")
    ev.insert(0, "编号", [f"E{i:05d}" for i in range(len(ev))])
    ev["备注"] = None  # four columns and more: a row of 合计 and one number is a footer, not an event
    wb = Workbook()
    ws = wb.active
    ws.append(["某区12345热线受理情况统计表"])
    ws.append(["制表日期：2024年5月1日"])
    ws.append(list(ev.columns))
    for r in ev.itertuples(index=False):
        ws.append(list(r))
    ws.append(["合计", len(ev)])
    xlsx = tmp_path / "events.xlsx"
    wb.save(xlsx)
    out = tmp_path / "m.json"
    code, text = _govml("hotspots", "backtest", xlsx, "--time-col", "受理时间", "--area-col", "社区",
                        "--category-col", "类别", "--horizon", "1", "--origins", "1", "--out", out, "--no-track",
                        "--now", "2025-01-01")
    assert code == 0, text
    data = json.loads(out.read_text(encoding="utf-8"))["data"]
    assert data["rows_in"] == len(ev)
    notes = " ".join(data["notes"])
    assert f"footer row(s) {len(ev) + 4} below the data" in notes and "header on row 3 of events.xlsx" in notes
