"""Where `govml demo` sends a reader for each step exists (session 20: two steps named docs/demands.md and
docs/alerts.md, files the project never had)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from govml.cli.demo import ABOUT

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("step", sorted(ABOUT))
def test_each_demo_step_names_a_doc_that_exists(step: str) -> None:
    where = ABOUT[step][1]
    m = re.fullmatch(r'README, "(.+)"', where)
    if m:
        headings = [line.lstrip("#").strip() for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
                    if line.startswith("#")]
        assert m.group(1) in headings, f"{step}: README has no section {m.group(1)!r}"
    else:
        assert (ROOT / where).is_file(), f"{step}: {where} does not exist"
