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


def test_bad_date_in_mapped_column_names_that_column_and_row(tmp_path):
    path = _write(tmp_path, "社区,类别,时间\nA,噪音,2024-01-02\nB,停车,not a date\n")
    mapping = {"community": "社区", "category": "类别", "created_at": "时间"}
    df = read_district_table({"data-path": str(path), "mapping": json.dumps(mapping, ensure_ascii=False)})
    with pytest.raises(DataError) as err:
        validate(df, "hotspot-forecaster", {}, file=str(path))
    text = str(err.value)
    assert "时间" in text and "not a date" in text
    assert "created_at" not in text


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
