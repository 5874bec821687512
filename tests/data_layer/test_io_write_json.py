"""io.write_json: readable UTF-8 JSON, written atomically."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from govml.io import write_json


def test_write_json_keeps_chinese_and_serialises_dates(tmp_path):
    path = write_json({"社区": "幸福里社区", "when": dt.date(2024, 3, 1)}, tmp_path / "sub" / "m.json")
    text = path.read_text(encoding="utf-8")
    assert "幸福里社区" in text  # not \\u escapes
    assert json.loads(text) == {"社区": "幸福里社区", "when": "2024-03-01"}


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = write_json({"old": 1}, tmp_path / "m.json")
    cyclic: dict = {}
    cyclic["self"] = cyclic
    with pytest.raises(ValueError):
        write_json(cyclic, path)
    assert json.loads(path.read_text(encoding="utf-8")) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]
