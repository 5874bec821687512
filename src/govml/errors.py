"""One error family for everything a user can get wrong.

The command line turns any :class:`GovmlError` into one clear line and a non-zero exit code;
library users catch the subclass they care about.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class GovmlError(Exception):
    """Base class for errors that are the user's to fix (bad input, bad configuration...)."""

    exit_code = 2


class ConfigError(GovmlError):
    """A configuration file or option is invalid."""


def cell_text(value: object) -> str:
    """A cell as a :class:`Problem`'s ``found`` shows it: ``"empty"`` for a missing or blank value
    (not ``NaT`` / ``nan`` / ``<NA>``), else ``str(value)``."""
    try:
        import pandas as pd

        if pd.isna(value):
            return "empty"
    except (TypeError, ValueError):  # list-likes: not a missing scalar
        pass
    text = str(value)
    return text if text.strip() else "empty"


@dataclass(frozen=True)
class Problem:
    """One problem found in an input table.

    ``row`` is the 1-based line/row number as the user sees it in their file (header = row 1 for
    CSV and Excel), or ``None`` when the problem concerns the whole file or a whole column.
    """

    file: str
    row: int | None
    column: str | None
    expected: str
    found: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        msg = f"{', '.join(where)}: expected {self.expected}"
        if self.found is not None:
            found = self.found if len(self.found) <= 60 else self.found[:57] + "..."
            msg += f", found {found!r}"
        return msg


@dataclass
class DataError(GovmlError):
    """An input table cannot be used. Carries every :class:`Problem` found (up to a limit)."""

    problems: list[Problem] = field(default_factory=list)
    message: str | None = None
    truncated: bool = False

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.message and not self.problems:
            return self.message
        head = self.message or ""
        if len(self.problems) == 1 and not head:
            return str(self.problems[0])
        lines = [head or f"{len(self.problems)} problem(s) in the input"]
        lines += [f"  - {p}" for p in self.problems]
        if self.truncated:
            lines.append("  - ... (more problems not shown)")
        return "\n".join(lines)


class ModelError(GovmlError):
    """A model cannot be trained, loaded or applied (e.g. not fitted, too few labels)."""


class TrackingError(GovmlError):
    """MLflow tracking or the model registry failed in a way the user can act on."""


class FederatedError(GovmlError):
    """A federated run could not be set up or completed."""
