"""Shared fixtures for the skills tests: a tiny indicator system written by hand."""

from __future__ import annotations

import pytest

from govml.skills import indicator_system_from_dict

TINY = {
    "area_types": ["urban", "rural"],
    "default_area_type": "urban",
    "dimensions": [
        {"id": "basic", "name": "基础服务", "weight": 0.5},
        {"id": "pro", "name": "专业能力", "weight": 0.5},
    ],
    "indicators": [
        {"id": "a", "name": "甲指标", "dimension": "basic", "unit": "分", "range": [0, 100],
         "target": {"urban": 80, "rural": 70}, "weight": 1.0},
        {"id": "b", "name": "乙指标", "dimension": "basic", "direction": "lower", "unit": "小时", "range": [0, 50],
         "target": 20, "weight": 3.0},
        {"id": "c", "name": "丙指标", "dimension": "pro", "unit": "分", "range": [0, 100], "target": 80},
    ],
    "sources": [{"id": "resident_panel", "name": "居民评议", "weight": 0.4},
                {"id": "third_party", "name": "第三方评估", "weight": 0.3},
                {"id": "superior", "name": "上级考核", "weight": 0.3}],
    "resident_rating": {"weight": 0.4},
    "cards": {"threshold": 75, "window": 4, "yellow": 1, "red": 2},
    "missing": {"max_missing_share": 0.5},
}


@pytest.fixture
def tiny_dict() -> dict:
    import copy

    return copy.deepcopy(TINY)


@pytest.fixture
def tiny(tiny_dict):
    return indicator_system_from_dict(tiny_dict, source="tiny.yaml")
