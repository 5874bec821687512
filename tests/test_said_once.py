"""A note the command line prints itself is not also logged as a warning (which the shell shows as a second,
raw line): the alerts' stray early records and the hotspot panel's incomplete periods."""

from __future__ import annotations

import logging

import pandas as pd

from cli_runner import govml
from govml.hotspot.panel import build_panel, clean_events


def test_alerts_stray_records_said_once(tmp_path, caplog):
    df = pd.read_csv("data_samples/messages.csv").head(3000)
    stray = df.head(3).assign(created_at="2019-05-01 10:00:00")   # long before the sample's real start
    path = tmp_path / "board.csv"
    pd.concat([stray, df], ignore_index=True).to_csv(path, index=False)
    with caplog.at_level(logging.WARNING, logger="govml"):
        rc, text = govml("demands", "alerts", path, "--no-terms", "--out", tmp_path / "a.csv")
    assert rc == 0, text
    said = " ".join(text.split())
    assert said.count("lie before the data's coverage") == 1
    assert "message(s) before 2023-01-02 lie before" in said
    assert not [r for r in caplog.records if "coverage" in r.getMessage()]
    # the level is restored: the library still warns outside the command
    assert logging.getLogger("govml.text.alerts").level == logging.NOTSET


def test_incomplete_period_is_a_note_or_a_warning(caplog):
    ev = pd.DataFrame({"created_at": pd.date_range("2024-01-02", "2024-03-27", freq="D").astype(str),
                       "community": "甲社区", "category": "噪音"})
    clean, ex = clean_events(ev, now="2025-01-01")
    with caplog.at_level(logging.WARNING, logger="govml.hotspot"):
        build_panel(clean, freq="M", exclusions=ex)          # collected: the caller lists the notes
    # March (data to the 27th: 4 of 31 days missing) is incomplete, 27 events; January (from the 2nd, 1 day
    # missing) is kept with a note
    assert not caplog.records
    assert any("incomplete" in n for n in ex.notes) and ex.counts["incomplete_period"] == 27
    assert any("2024-01-01 lacks 1 of its 31 days" in n and "kept" in n for n in ex.notes)
    with caplog.at_level(logging.WARNING, logger="govml.hotspot"):
        build_panel(clean, freq="M")                         # nobody collects: a warning
    assert any("incomplete" in r.getMessage() for r in caplog.records)
