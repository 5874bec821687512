"""A district's own data check (govml.federated.task): errors name the district's own columns."""

from __future__ import annotations

import json

import pytest

from govml.errors import DataError
from govml.federated.task import read_district_table, validate


def _write(tmp_path, text: str):
    path = tmp_path / "district.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_mapped_column_is_named_as_the_district_calls_it(tmp_path):
    path = _write(tmp_path, "小区,类别,时间\nA,噪音,2024-01-02\n")
    mapping = {"community": "社区", "category": "类别", "created_at": "时间"}
    df = read_district_table({"data-path": str(path), "mapping": json.dumps(mapping, ensure_ascii=False)})
    with pytest.raises(DataError) as err:
        validate(df, "hotspot-forecaster", {}, file=str(path))
    text = str(err.value)
    assert "'社区'" in text and "mapped to 'community'" in text
    assert "district.csv" in text


def test_bad_date_in_mapped_column_is_counted_with_that_column_and_row(tmp_path):
    # as `govml hotspots backtest` does (clean_events): the row is set aside and counted, not fatal
    path = _write(tmp_path, "社区,类别,时间\nA,噪音,2024-01-02\nB,停车,not a date\n,停车,2024-01-03\nC,噪音,2024-01-04\n")
    mapping = {"community": "社区", "category": "类别", "created_at": "时间"}
    df = read_district_table({"data-path": str(path), "mapping": json.dumps(mapping, ensure_ascii=False)})
    out = validate(df, "hotspot-forecaster", {}, file=str(path))
    assert len(out) == 2 and list(out["community"]) == ["A", "C"]
    acc = out.attrs["govml_exclusions"]
    assert acc.counts["unparseable_time"] == {"rows": 1, "column": "时间", "example_file_rows": [3]}
    assert acc.counts["missing_area"] == {"rows": 1, "column": "社区", "example_file_rows": [4]}
    assert (acc.rows_in, acc.rows_used, acc.total) == (4, 2, 2)
    assert acc.wire_counts() == {"excluded.unparseable_time": 1, "excluded.missing_area": 1}
    assert any("not a date" in n for n in acc.notes)  # the unreadable value stays in the district


def test_classifier_rows_without_text_or_category_are_counted_by_reason(tmp_path):
    path = _write(tmp_path, "标题行\n编号,内容,分类\n1,噪音扰民,环境\n2,,环境\n3,   ,交通\n4,停车难,\n5,路灯坏了,城建\n")
    mapping = {"text": "内容", "category": "分类", "id": "编号"}
    df = read_district_table({"data-path": str(path), "mapping": json.dumps(mapping, ensure_ascii=False)})
    out = validate(df, "demand-classifier", {}, file=str(path))
    assert list(out["id"].astype(str)) == ["1", "5"]
    acc = out.attrs["govml_exclusions"]
    # the file's own column names and rows as the user sees them (the title row pushes the header to row 2)
    rows = {k: (v["rows"], v["column"], v["example_file_rows"]) for k, v in acc.counts.items()}
    assert rows == {"missing_text": (2, "内容", [4, 5]), "missing_category": (1, "分类", [6])}
    assert acc.to_dict()["excluded_total"] == 3 and acc.rows_used == 2


def test_unmapped_columns_still_named_canonically(tmp_path):
    path = _write(tmp_path, "community,category\nA,噪音\n")
    df = read_district_table({"data-path": str(path), "mapping": ""})
    with pytest.raises(DataError) as err:
        validate(df, "hotspot-forecaster", {}, file=str(path))
    assert "'created_at'" in str(err.value)
    out = validate(read_district_table({"data-path": str(_write(tmp_path, "community,category,created_at\n"
                                                                        "A,噪音,2024-01-02\n")),
                                        "mapping": ""}), "hotspot-forecaster", {}, file="x.csv")
    assert list(out.columns) == ["community", "category", "created_at"] and len(out) == 1
