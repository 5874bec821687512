"""Deterministic generators behind ``data_samples/`` (and larger sets for benchmarks).

Each generator is ``generate(out_dir: Path, scale: int = 1, seed: int = 0) -> list[Path]`` and
writes its files atomically. ``govml samples --out DIR --scale N`` runs them all.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

# name -> "module:function". Each capability adds its own line.
GENERATORS: dict[str, str] = {
    "messages": "govml.samples.messages:generate",
    "workforce": "govml.samples.workforce:generate",
    "complaints": "govml.samples.complaints:generate",
}


def get(name: str) -> Callable[..., list[Path]]:
    module_name, func = GENERATORS[name].split(":")
    return getattr(importlib.import_module(module_name), func)


def generate_all(out_dir: Path, scale: int = 1, seed: int = 0, only: list[str] | None = None) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in GENERATORS:
        if only and name not in only:
            continue
        written += get(name)(out_dir, scale=scale, seed=seed)
    return written
