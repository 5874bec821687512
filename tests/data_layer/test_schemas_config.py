"""Config loading (YAML → pydantic) and column-mapping profiles."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from govml.config import (
    ColumnsConfig,
    load_column_profiles,
    load_yaml_model,
    parse_map_pairs,
    resolve_mapping,
)
from govml.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weeks: int
    name: str = "x"


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    horizon: Inner
    items: list[int] = []


def _yaml(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_valid_yaml(tmp_path: Path) -> None:
    m = load_yaml_model(_yaml(tmp_path, "horizon:\n  weeks: 4\nitems: [1, 2]\n"), Outer)
    assert m.horizon.weeks == 4 and m.items == [1, 2]


@pytest.mark.parametrize("text,expected", [
    ("horizon:\n  weeks: four\n", "key 'horizon.weeks': Input should be a valid integer"),
    ("horizon:\n  weeks: 4\n  wekks: 5\n", "key 'horizon.wekks': unknown key (check its spelling)"),
    ("items: [1]\n", "key 'horizon': Field required"),
    ("horizon:\n  weeks: 4\nitems: [1, b]\n", "key 'items[1]': Input should be a valid integer"),
    ("horizon: [unclosed\n", "not valid YAML at line 2"),
    ("- a\n- b\n", "expected a mapping of keys at the top level, found list"),
])
def test_config_errors_name_file_key_and_expectation(tmp_path: Path, text: str, expected: str) -> None:
    p = _yaml(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_yaml_model(p, Outer)
    assert str(exc.value).startswith(str(p))
    assert expected in str(exc.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_yaml_model(tmp_path / "none.yaml", Outer)


def test_shipped_columns_yaml_is_valid() -> None:
    cfg = load_yaml_model(ROOT / "configs" / "columns.yaml", ColumnsConfig)
    assert {"teddycup", "boston311", "hotline12345"} <= set(cfg.profiles)
    assert cfg.profiles["teddycup"].columns["created_at"] == "留言时间"
    assert cfg.profiles["boston311"].columns == {
        "id": "CASE_ENQUIRY_ID", "created_at": "OPEN_DT", "closed_at": "CLOSED_DT", "status": "CASE_STATUS",
        "community": "neighborhood", "district": "city_council_district", "category": "REASON"}
    assert load_column_profiles().profiles.keys() == cfg.profiles.keys()


def test_resolve_mapping(tmp_path: Path) -> None:
    m = resolve_mapping(["text=留言主题", "district=区"], profile="teddycup")
    assert m["text"] == "留言主题" and m["id"] == "留言编号" and m["district"] == "区"
    assert "text" not in m.from_profile and "id" in m.from_profile and "district" not in m.from_profile
    assert resolve_mapping({"a": "b"}) == {"a": "b"}
    with pytest.raises(ConfigError, match=r"no column profile named 'tedycup' \(known profiles: .*teddycup"):
        resolve_mapping(profile="tedycup")
    own = _yaml(tmp_path, "profiles:\n  mine:\n    columns: {id: 编号}\n")
    assert resolve_mapping(profile="mine", path=own) == {"id": "编号"}
    bad = _yaml(tmp_path, "profiles:\n  mine:\n    kinds: [posts]\n    columns: {}\n")
    with pytest.raises(ConfigError, match=r"key 'profiles.mine.kinds\[0\]'"):
        resolve_mapping(profile="mine", path=bad)


@pytest.mark.parametrize("pair", ["created_at", "=x", "created_at=", "a b"])
def test_bad_map_pairs(pair: str) -> None:
    with pytest.raises(ConfigError, match="expected canonical=their_column"):
        parse_map_pairs([pair])


def test_map_pair_twice() -> None:
    assert parse_map_pairs(["a=b", "a=b", "c = d "]) == {"a": "b", "c": "d"}
    with pytest.raises(ConfigError, match="'a' is mapped twice"):
        parse_map_pairs(["a=b", "a=c"])
