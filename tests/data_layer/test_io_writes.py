"""Writers: every suffix round-trips, and a failed write leaves the old file and no temp file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govml.errors import DataError
from govml.io import atomic_path, clean_text, read_table, write_table


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["M001", "M002"],
        "created_at": pd.to_datetime(["2024-03-01 08:15:00", "2024-03-02 19:40:12"]),
        "text": ["路灯坏了", "噪音, \"太大\""],
        "likes": [3, 0],
    })


@pytest.mark.parametrize("name", ["out.csv", "out.csv.gz", "out.tsv", "out.parquet", "out.jsonl", "out.xlsx"])
def test_write_table_round_trips(tmp_path: Path, name: str) -> None:
    df = _frame()
    path = write_table(df, tmp_path / "sub" / name)
    assert path.exists()
    back = read_table(path)
    assert back["id"].tolist() == ["M001", "M002"]
    assert back["text"].tolist() == ["路灯坏了", "噪音, \"太大\""]
    assert [str(v) for v in back["likes"]] == ["3", "0"]
    assert [name for name in path.parent.iterdir() if name.name.startswith(".")] == []


def test_csv_is_utf8_without_bom(tmp_path: Path) -> None:
    raw = write_table(_frame(), tmp_path / "x.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert "路灯坏了".encode() in raw


def test_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot write .doc"):
        write_table(_frame(), tmp_path / "x.doc")


class _Boom(Exception):
    pass


def test_failing_writer_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "result.csv"
    target.write_text("old,content\n1,2\n", encoding="utf-8")
    with pytest.raises(_Boom):
        with atomic_path(target) as tmp:
            assert tmp.parent == target.parent and tmp != target
            tmp.write_text("new,half", encoding="utf-8")  # half written...
            raise _Boom("disk full")
    assert target.read_text(encoding="utf-8") == "old,content\n1,2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.csv"]


def test_write_table_failing_midway_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "result.parquet"
    write_table(_frame(), target)
    before = target.read_bytes()

    def broken(self, path, *a, **k):  # noqa: ANN001, ANN002, ANN003
        Path(path).write_bytes(b"PAR1 partial")
        raise OSError("simulated crash while writing")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    with pytest.raises(OSError, match="simulated crash"):
        write_table(_frame(), target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.parquet"]


def test_atomic_path_success_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.txt"
    with atomic_path(target) as tmp:
        tmp.write_text("hello", encoding="utf-8")
        assert not target.exists()
    assert target.read_text(encoding="utf-8") == "hello"
    assert sorted(p.name for p in target.parent.iterdir()) == ["b.txt"]


_messy = st.text(alphabet=st.sampled_from(list("路灯坏了噪音ab,;\"'\t\n\r \u3000\u00a0|#=1")), max_size=30)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(_messy, min_size=1, max_size=6))
@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".xlsx", ".parquet"])
def test_messy_text_survives_a_round_trip_cleaned(tmp_path: Path, suffix: str, texts: list[str]) -> None:
    df = pd.DataFrame({"id": [f"R{i}" for i in range(len(texts))], "text": texts})
    back = read_table(write_table(df, tmp_path / f"t{suffix}"))
    assert back["id"].tolist() == df["id"].tolist()
    assert [None if pd.isna(v) else v for v in back["text"]] == [clean_text(t) for t in texts]


def test_xlsx_text_is_never_a_formula_and_types_survive(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    df = _frame()
    df["text"] = ["=HYPERLINK(\"http://x\")", "=1+1"]
    df["score"] = [1.5, float("nan")]
    path = write_table(df, tmp_path / "f.xlsx")
    ws = load_workbook(path).active
    assert [c.data_type for c in ws["C"][1:]] == ["s", "s"]
    back = read_table(path)
    assert back["text"].tolist() == ["=HYPERLINK(\"http://x\")", "=1+1"]
    assert back["created_at"].tolist() == df["created_at"].tolist()
    assert back["score"].iloc[0] == 1.5 and pd.isna(back["score"].iloc[1])


def test_xlsx_cells_excel_cannot_hold_are_fixed_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    df = pd.DataFrame({"area": ["甲\x07社区", "乙\x00\x1b社区", "丙社区"], "text": ["好", "长" * 40_000, "x\x08y"]})
    path = write_table(df, tmp_path / "f.xlsx")
    back = read_table(path)
    assert back["area"].tolist() == ["甲社区", "乙社区", "丙社区"]
    assert back["text"].str.len().tolist() == [1, 32_767, 2]
    assert "3 text cell(s) had control characters" in caplog.text
    assert "1 text cell(s) longer than Excel's 32767 characters" in caplog.text


def test_loaded_frames_can_be_written_by_pandas_and_write_table(tmp_path: Path) -> None:
    from govml.io import load, source_rows

    src = tmp_path / "m.csv"
    src.write_text("id,created_at,district,community,text\n\nM1,2024-01-01,区,社区,文本\nM2,2099-01-01,区,社区,文本\n",
                   encoding="utf-8")
    df = load(src, "messages")
    assert source_rows(df) == [3, 4] and df.attrs["govml"]["warnings"]
    df.to_parquet(tmp_path / "direct.parquet")  # pandas stores attrs as JSON: they must be plain
    back = read_table(write_table(df, tmp_path / "via.parquet"))
    assert back["id"].tolist() == ["M1", "M2"] and source_rows(back) == [2, 3]
    assert pd.read_parquet(tmp_path / "via.parquet").attrs == {}
