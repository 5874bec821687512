"""`govml samples` writes each registered generator's files, deterministically, and they validate."""

from __future__ import annotations

from pathlib import Path

import pytest

from govml import samples
from govml.cli import main
from govml.cli.data import SAMPLE_FILES
from govml.schemas import check_file


def test_samples_command_writes_deterministic_valid_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not samples.GENERATORS:
        pytest.skip("no sample generator registered yet")
    name = sorted(samples.GENERATORS)[0]
    for out in (tmp_path / "a", tmp_path / "b"):
        with pytest.raises(SystemExit) as exc:
            main(["samples", "--out", str(out), "--only", name, "--seed", "3"])
        assert exc.value.code == 0
    printed = capsys.readouterr().out
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files and f"file(s) under {(tmp_path / 'b').resolve()}" in printed
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    kinds = dict(SAMPLE_FILES)
    for f in files:
        if f in kinds:
            report = check_file(tmp_path / "a" / f, kinds[f])
            assert report.ok, report.errors
