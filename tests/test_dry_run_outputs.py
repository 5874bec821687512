"""Output paths as an outside analyst gives them (found in the session-6 dry run on real exports): an
existing file is replaced, a missing folder is made, and a place that cannot be written — a file where a
folder should be, a folder without write permission — is one clear error naming the output, raised before
any long work, never an internal error."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from cli_runner import govml as _govml
from govml.errors import DataError
from govml.io import check_output_path, write_json, write_table


def test_output_under_a_file_is_a_clear_data_error(tmp_path: Path) -> None:
    f = tmp_path / "messages.csv"
    f.write_text("a\n1\n", encoding="utf-8")
    df = pd.DataFrame({"x": [1, 2]})
    for bad in (f / "out.csv", f / "sub" / "out.csv"):
        with pytest.raises(DataError, match="messages.csv is a file, not a folder"):
            check_output_path(bad)
        with pytest.raises(DataError, match="not a folder"):
            write_table(df, bad)
        with pytest.raises(DataError, match="not a folder"):
            write_json({"a": 1}, bad.with_suffix(".json"))
    assert f.read_text(encoding="utf-8") == "a\n1\n"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_output_in_a_read_only_folder_is_a_clear_data_error(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(DataError, match="not writable"):
            check_output_path(ro / "sub" / "out.csv")
    finally:
        ro.chmod(0o755)


def test_existing_file_is_replaced_and_missing_folders_are_made(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "out.csv"
    write_table(pd.DataFrame({"x": [1]}), out)
    write_table(pd.DataFrame({"x": [2, 3]}), out)
    assert pd.read_csv(out)["x"].tolist() == [2, 3]
    assert [p.name for p in out.parent.iterdir()] == ["out.csv"]  # no temporary file left behind


def test_hotspots_commands_refuse_an_unwritable_out_before_reading(tmp_path: Path) -> None:
    f = tmp_path / "events.csv"
    f.write_text("受理时间,社区,类别\n", encoding="utf-8")  # unusable on purpose: the --out check comes first
    for cmd, out in (("forecast", f / "forecast.csv"), ("backtest", f / "metrics.json")):
        code, text = _govml("hotspots", cmd, f, "--time-col", "受理时间", "--area-col", "社区",
                            "--category-col", "类别", "--out", out, "--no-track")
        assert code == 2, text
        assert "is a file, not a folder" in text and "internal error" not in text


def test_alerts_name_an_empty_group_as_top_does(samples_dir: Path) -> None:
    """A message whose group cell is empty (附件 rows whose district could not be read) stays in: its group is
    ``(空)`` in `demands alerts` as in `demands top`, not pandas' ``<NA>``."""
    from govml.text.alerts import detect_alerts

    MISSING_KEY = "(空)"  # as `demands top` names an empty group

    df = pd.read_csv(samples_dir / "messages.csv")
    df.loc[df["community"] == "望江社区", "community"] = None  # the planted 消防安全 surge's community
    df.loc[df.index[:5], "category"] = None
    al = detect_alerts(df, by="community", period="W", text_col=None)
    assert MISSING_KEY in set(al["group"])
    assert not al["group"].isin(["<NA>", "nan"]).any() and not al["key"].isin(["<NA>", "nan"]).any()
    hit = al[(al["group"] == MISSING_KEY) & (al["key"] == "消防安全") & al["level"].isin(["预警", "告警"])]
    assert len(hit) and pd.to_datetime(hit["period_start"]).between("2024-04-08", "2024-05-12").any()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_output_in_a_place_without_files_is_refused_even_for_root() -> None:
    """/proc passes the permission check for root, yet no file can be made there: refused before the work."""
    with pytest.raises(DataError, match="not writable"):
        check_output_path(Path("/proc/govml_dry_run/forecast.csv"))


def test_whole_number_labels_read_as_floats_are_written_as_numbers(samples_dir: Path) -> None:
    """Boston's city_council_district (8.0 beside blank cells) came out as area/group '8.0' in `hotspots
    forecast` and `demands top`: it must be '8', as the file holds it, so that it joins back."""
    from govml.hotspot.panel import clean_events
    from govml.io import label_text
    from govml.text.demands import top_demands

    s = pd.Series([8.0, None, 10.0, 0.0])
    assert label_text(s).tolist() == ["8", pd.NA, "10", "0"]
    assert label_text(pd.Series([2.5, 3.0])).tolist() == ["2.5", "3.0"]  # real decimals stay as they are
    assert label_text(pd.Series(["A3区", 7.0, None], dtype=object)).tolist() == ["A3区", "7", pd.NA]
    ev = pd.DataFrame({"created_at": pd.date_range("2024-01-01", periods=8, freq="D").astype(str),
                       "community": [8.0, 8.0, None, 10.0, 10.0, 8.0, 10.0, 8.0], "category": ["噪声"] * 8})
    clean, _ = clean_events(ev, now="2025-01-01")
    assert sorted(clean["area"].unique()) == ["10", "8"]
    msgs = pd.read_csv(samples_dir / "messages.csv").head(400)
    msgs["district_no"] = msgs["district"].map({d: float(i) for i, d in enumerate(msgs["district"].unique())})
    msgs.loc[msgs.index[:3], "district_no"] = None
    top = top_demands(msgs, by="district_no", period="M", top=3)
    assert not top["group"].astype(str).str.endswith(".0").any() and "(空)" in set(top["group"])
