"""Session 17, leftovers of session 16's dry run of the notebooks on an analyst's own file: a 12345 export's closing
time and status (办结时间, 办理状态) in the one header table (``govml.config.HEADER_ALIASES``) that the notebooks and
``govml validate`` read; a workbook whose first sheet is a 说明 (notes) sheet; the tracking notebook (04) on an own
labelled message file (:func:`govml.notebook.labelled_messages`). Inputs are generated here (GBK CSV, xlsx)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cli_runner import govml
from govml.config import COLUMN_ALIASES, HEADER_ALIASES, guess_column
from govml.errors import DataError
from govml.notebook import labelled_messages, read_events, read_messages
from govml.schemas import check_file
from workbooks import write_workbook

ROOT = Path(__file__).resolve().parents[1]


def _export(n: int = 12) -> pd.DataFrame:
    """A 12345 work-order export as a hotline system writes it: Chinese headers, 2024/1/5 9:00 times, the closing time
    empty while a work order is open, columns no table of ours has (处理结果, 满意度)."""
    rows = []
    for i in range(n):
        open_ = i % 4 == 3
        rows.append({"工单编号": f"GD{i:04d}", "受理时间": f"2024/{1 + i % 6}/{5 + i % 3} 9:00",
                     "所属街道": "东湖街道", "所属社区": ("甲社区", "乙社区")[i % 2], "诉求类别": ("噪音", "卫生")[i % 2],
                     "诉求内容": f"楼下噪音扰民{i}", "办结时间": "" if open_ else f"2024/{1 + i % 6}/{7 + i % 3} 9:00",
                     "办理状态": "办理中" if open_ else "已办结", "处理结果": "已处理", "满意度": "满意"})
    return pd.DataFrame(rows)


def _gbk(df: pd.DataFrame, path: Path, title: str | None = "12345热线工单导出") -> Path:
    with open(path, "w", encoding="gbk") as f:
        if title:
            f.write(title + "\n")
        df.to_csv(f, index=False)
    return path


# --------------------------------------------------------------------------------------------------
# 1. closing time and status in the one header table


def test_closing_time_and_status_are_in_the_shared_header_table():
    for kind in ("events", "messages"):
        assert HEADER_ALIASES[kind]["closed_at"][0] == "办结时间" and HEADER_ALIASES[kind]["status"][0] == "办理状态"
    assert HEADER_ALIASES["events"]["created_at"] is HEADER_ALIASES["messages"]["created_at"]
    assert "text" not in HEADER_ALIASES["events"] and "channel" not in HEADER_ALIASES["events"]
    # the other usual 12345 headers: already there, or new (来源渠道, 工单标题, 反映时间)
    have = ["工单编号", "受理时间", "反映时间", "工单标题", "诉求内容", "来源渠道", "办结时间", "办理状态", "满意度", "处理结果"]
    guessed = {c: guess_column(c, have) for c in ("id", "created_at", "title", "text", "channel", "closed_at", "status")}
    assert {c: g[0] for c, g in guessed.items() if g} == {
        "id": "工单编号", "created_at": "受理时间", "title": "工单标题", "text": "诉求内容", "channel": "来源渠道",
        "closed_at": "办结时间", "status": "办理状态"}
    # answers, not columns of ours: 处理结果 (the reply) and 满意度 are no one's usual name
    assert not any(n in names for names in COLUMN_ALIASES.values() for n in ("处理结果", "满意度"))
    import govml.notebook

    assert not hasattr(govml.notebook, "EXTRA_EVENT_NAMES")  # the notebook's own copy is gone


def test_read_events_finds_them_and_the_efficiency_tables_use_them(tmp_path: Path, capsys):
    from govml.hotspot.report import efficiency_tables

    own = _gbk(_export(), tmp_path / "工单.csv")
    ev = read_events(own)
    said = capsys.readouterr().out
    assert ev.columns["closed_at"] == "办结时间" and ev.columns["status"] == "办理状态"
    assert ev.columns["created_at"] == "受理时间" and ev.columns["id"] == "工单编号"
    assert "closed_at ← 办结时间" in said and "status ← 办理状态" in said and "handling-efficiency" not in said
    c = ev.columns
    tables = efficiency_tables(ev.frame, time_col=c["created_at"], area_col=c["community"], closed_col=c["closed_at"],
                               status_col=c["status"])
    # 甲社区: rows 0, 2 … 10, all closed 2 days later; 乙社区: rows 1, 7 in Q1 (7 open), 3, 5, 9, 11 in Q2 (3, 11 open)
    assert tables["median_days"].loc["甲社区"].tolist() == [2.0, 2.0]
    rate = tables["closure_rate"]
    assert rate.loc["甲社区"].tolist() == [1.0, 1.0] and rate.loc["乙社区"].tolist() == [0.5, 0.5]


def test_validate_names_closing_time_and_status_and_checks_them_when_mapped(tmp_path: Path):
    df = _export()
    df.loc[0, "办结时间"] = "2023/12/1 9:00"  # closed before it was made
    own = _gbk(df, tmp_path / "工单.csv")
    rep = check_file(own, "events", mapping={"created_at": "受理时间", "community": "所属社区", "category": "诉求类别"})
    assert rep.ok, rep.errors
    notes = " ".join(rep.meta["notes"])
    assert "closed_at (when it was closed): '办结时间' looks like it, not checked unless mapped: --map " \
           "closed_at=办结时间 (or --profile hotline12345)" in notes
    assert "--map status=办理状态" in notes and "--map id=工单编号" in notes
    assert rep.meta["header_row"] == 2  # the title row above the header: found by the usual names
    rc, out = govml("validate", own, "--kind", "events", "--map", "created_at=受理时间", "--map", "community=所属社区",
                    "--map", "category=诉求类别", "--map", "closed_at=办结时间", "--json", tmp_path / "v.json")
    assert rc == 0, out
    report = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))
    assert [(w["row"], w["column"]) for w in report["warnings"]] == [(3, "closed_at")]  # header on row 2
    assert "'办结时间' looks like it" not in out  # mapped: checked, no note
    # a file with our own names: no note
    plain = tmp_path / "plain.csv"
    pd.DataFrame({"created_at": ["2024-01-01"], "community": ["甲"], "category": ["噪音"]}).to_csv(plain, index=False)
    assert not check_file(plain, "events").meta.get("notes")


# --------------------------------------------------------------------------------------------------
# 2. a 说明 sheet before the data


def test_the_notebook_readers_read_the_data_sheet_behind_a_notes_sheet(tmp_path: Path, capsys):
    df = _export()
    notes = [["本表为12345热线工单导出"], ["办结时间：工单办结的时间"], ["办理状态：已办结 / 办理中"]]
    book = write_workbook(tmp_path / "工单.xlsx", {"说明": notes, "明细": [["12345热线工单明细"], list(df.columns),
                                                                        *df.values.tolist()]})
    ev = read_events(book)
    said = capsys.readouterr().out
    assert "sheet '明细' of '说明', '明细'" in said and "header on row 2" in said
    assert ev.columns["closed_at"] == "办结时间" and len(ev.frame) == 12
    msgs = read_messages(book, quiet=True)
    assert msgs.frame.attrs["govml"]["sheet"] == "明细" and msgs.columns["text"] == "诉求内容"
    rep = check_file(book, "events", mapping={"created_at": "受理时间", "community": "所属社区", "category": "诉求类别"})
    assert rep.ok and rep.meta["sheet"] == "明细"  # govml validate reads the same sheet


# --------------------------------------------------------------------------------------------------
# 4. the tracking notebook on an own file: the labelled messages the retrain reads


def test_labelled_messages_are_the_table_the_retrain_reads(tmp_path: Path, capsys):
    from govml.retrain import DemandClassifierAdapter

    df = _export()
    df.loc[2, "诉求类别"] = None  # unlabelled: left out
    df.loc[4, "诉求内容"] = ""     # no text: left out
    own = _gbk(df, tmp_path / "工单.csv")
    loaded = read_messages(own, quiet=True)
    table = labelled_messages(loaded)
    said = capsys.readouterr().out
    assert "Your data: 工单.csv (encoding gbk; header on row 2" in said
    assert "12 rows read, 10 labelled messages for the classifier (2 categories)" in said
    assert "1 message(s) without a category: left out" in said and "1 message(s) with no text: left out" in said
    assert "likes" not in said and "alerts" not in said  # the demands notebook's notes are not said here
    assert list(table.columns) == ["id", "created_at", "district", "community", "text", "category"]
    assert "GD0002" not in set(table["id"]) and "GD0004" not in set(table["id"])
    assert table["community"].tolist()[:2] == ["甲社区", "乙社区"] and set(table["district"]) == {"未注明"}
    assert table["created_at"].iloc[0] == "2024-01-05 09:00:00"
    csv = tmp_path / "messages_own.csv"
    table.to_csv(csv, index=False)
    frame = DemandClassifierAdapter().load_data(csv, {})  # as the notebook's retrain reads it
    assert len(frame) == 10 and sorted(frame["category"].unique()) == ["卫生", "噪音"]


def test_labelled_messages_without_categories_say_what_to_set(tmp_path: Path):
    own = _gbk(_export().drop(columns="诉求类别"), tmp_path / "工单.csv", title=None)
    with pytest.raises(DataError) as exc:
        labelled_messages(read_messages(own, quiet=True))
    msg = str(exc.value)
    assert "工单.csv" in msg and "the demand classifier learns from labelled messages" in msg
    assert "COLUMNS = {'category': 'its name'}" in msg


def test_notebooks_01_and_04_say_their_words_right():
    import nbformat

    src01 = "".join(c.source for c in nbformat.read(ROOT / "notebooks" / "01_demands.ipynb", as_version=4).cells)
    assert "{GROUP}s" not in src01 and "{GROUP_NAME}（{GROUP}）" in src01  # not "communitys"
    nb04 = nbformat.read(ROOT / "notebooks" / "04_tracking.ipynb", as_version=4)
    first_code = next(c.source for c in nb04.cells if c.cell_type == "code")
    assert "DATA = None" in first_code and "GOVML_DATA" in first_code  # the one data cell, first
    assert any("labelled_messages(own)" in c.source for c in nb04.cells)
