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


class SheetRow(int):
    """A row number of one sheet of a workbook whose sheets were read as one table (``--sheet all``): the
    sheet's own row number, an ``int`` as before, that names its sheet wherever it is shown — ``1月!12``, as
    Excel names a cell of another sheet (and as the footer note names the rows it skipped) — so that row 12 of
    ``1月`` and row 12 of ``2月`` are told apart in every message, in sets and in runs of rows.

    Compared with another :class:`SheetRow` the sheet counts (equal only on the same sheet; ordered by the
    sheet's place in the workbook, ``order``, then by row); compared with a plain ``int``, only the number.
    Adding or subtracting a plain ``int`` stays on the sheet (the next row is ``r + 1`` of the same sheet);
    ``int(r)`` is the bare number. NumPy arrays and JSON take the bare number."""

    sheet: str
    order: int

    def __new__(cls, row: int, sheet: str, order: int = 0) -> SheetRow:
        self = super().__new__(cls, row)
        self.sheet = str(sheet)
        self.order = int(order)
        return self

    @classmethod
    def run(cls, rows: range | list[int], sheet: str, order: int = 0) -> list[SheetRow]:
        """``rows`` of ``sheet`` as :class:`SheetRow` values, made 6x faster than one by one (they share one
        attribute dict: a row is never changed after it is made)."""
        attrs = {"sheet": str(sheet), "order": int(order)}
        new = int.__new__
        out = []
        for r in rows:
            o = new(cls, r)
            o.__dict__ = attrs
            out.append(o)
        return out

    def __str__(self) -> str:
        return f"{self.sheet}!{int(self)}"

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return f"{self.sheet}!{format(int(self), spec)}"

    def __reduce__(self) -> tuple:  # copy, deepcopy (pandas copies attrs), pickle
        return (SheetRow, (int(self), self.sheet, self.order))

    def _key(self, other: object) -> tuple[object, object] | None:
        if isinstance(other, SheetRow):
            return (self.order, self.sheet, int(self)), (other.order, other.sheet, int(other))
        if isinstance(other, int):
            return int(self), int(other)
        return None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SheetRow):
            return int(self) == int(other) and self.sheet == other.sheet
        return int(self) == other if isinstance(other, int) else NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __lt__(self, other: object) -> bool:
        k = self._key(other)
        return NotImplemented if k is None else k[0] < k[1]  # type: ignore[operator]

    def __le__(self, other: object) -> bool:
        k = self._key(other)
        return NotImplemented if k is None else k[0] <= k[1]  # type: ignore[operator]

    def __gt__(self, other: object) -> bool:
        k = self._key(other)
        return NotImplemented if k is None else k[0] > k[1]  # type: ignore[operator]

    def __ge__(self, other: object) -> bool:
        k = self._key(other)
        return NotImplemented if k is None else k[0] >= k[1]  # type: ignore[operator]

    __hash__ = int.__hash__  # equal rows have equal numbers: one hash per number (sheets differ by __eq__)

    def __add__(self, other: object) -> int:
        if isinstance(other, int) and not isinstance(other, SheetRow):
            return SheetRow(int(self) + other, self.sheet, self.order)
        return int(self) + int(other) if isinstance(other, int) else NotImplemented

    __radd__ = __add__

    def __sub__(self, other: object) -> int:
        if isinstance(other, int) and not isinstance(other, SheetRow):
            return SheetRow(int(self) - other, self.sheet, self.order)
        return int(self) - int(other) if isinstance(other, int) else NotImplemented


@dataclass(frozen=True)
class Problem:
    """One problem found in an input table.

    ``row`` is the 1-based line/row number as the user sees it in their file (header = row 1 for
    CSV and Excel), or ``None`` when the problem concerns the whole file or a whole column. From a workbook
    whose sheets were read as one table it is a :class:`SheetRow` and is shown with its sheet: ``row 1月!12``.
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
