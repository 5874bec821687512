"""Messy real-world exports through the checked commands: clear handling or one clear error, never a
traceback, a silent drop or a wrong-but-plausible output."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from govml.cli import app
from govml.errors import GovmlError
from govml.hotspot.panel import clean_events

runner = CliRunner()


def _govml(*args: str) -> tuple[int, str]:
    """(exit code as `govml` gives it, output and error text): a GovmlError is exit 2 (its own code), any
    other exception the 70 of an internal error."""
    r = runner.invoke(app, [str(a) for a in args])
    if r.exception is None or isinstance(r.exception, SystemExit):
        return r.exit_code, r.output
    if isinstance(r.exception, GovmlError):
        return r.exception.exit_code, r.output + str(r.exception)
    return 70, f"{r.output}{type(r.exception).__name__}: {r.exception}"


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
