"""A benchmark table: one row per architecture, validated once at the boundary.

A table answers "what did this architecture score?" without training
anything, so a whole search can be replayed over it in seconds (Syne Tune's
blackbox idea). Every table, packaged or user-supplied, goes through
:func:`table_from_frame`, so both fail the same way on bad input.

    >>> import pandas as pd
    >>> t = table_from_frame("mine", pd.DataFrame({
    ...     "arch": ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"], "acc": [10.0]}), "acc")
    >>> t.optimum
    10.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd

from surrogate_nas.cell import Cell, all_cells
from surrogate_nas.errors import InputDataError

ARCH_COLUMN = "arch"


@dataclass(frozen=True, eq=False)
class BenchmarkTable:
    """Metrics of architectures, keyed by NAS-Bench-201 string.

    Attributes:
        name: ``"nb201-cifar10"`` for a packaged table, else the CSV path or a caller's label.
        frame: One row per architecture: column ``arch`` (NB201 string, normalised) and numeric
            metric columns. Shared between callers; treat it as read-only.
        target: The metric searched and predicted by default.
        test_column: Metric reported alongside the target, if any.
        cost_column: Training cost in seconds, if known.
        size_column: Model size, if known.
    """

    name: str
    frame: pd.DataFrame = field(repr=False)
    target: str
    test_column: str | None = None
    cost_column: str | None = None
    size_column: str | None = None

    def __len__(self) -> int:
        return len(self.frame)

    def cells(self) -> list[Cell]:
        """The architectures, in row order."""
        return list(self._cells)

    def values(self, column: str | None = None) -> np.ndarray:
        """Column ``column`` (default: the target) as a float array in row order."""
        return self.frame[self._column(column)].to_numpy(dtype=np.float64, copy=True)

    def lookup(self, cell: Cell, column: str | None = None) -> float | None:
        """The value for ``cell``: its exact row, else a canonical twin's row, else ``None``."""
        column = self._column(column)
        row = self._row_by_arch.get(cell.to_string())
        if row is None:
            row = self._row_by_key.get(cell.canonical_key)
        if row is None:
            return None
        return float(self.frame[column].iat[row])

    @property
    def optimum(self) -> float:
        """Best (largest) value of the target."""
        return float(np.max(self.values()))

    def _column(self, column: str | None) -> str:
        column = self.target if column is None else column
        if column not in self._numeric_columns:
            raise InputDataError(
                f"table {self.name!r} has no numeric column {column!r}; "
                f"available: {', '.join(self._numeric_columns)}"
            )
        return column

    @cached_property
    def _numeric_columns(self) -> tuple[str, ...]:
        return numeric_columns(self.frame)

    @cached_property
    def _cells(self) -> tuple[Cell, ...]:
        known = _cells_by_string()
        return tuple(known[a] for a in self.frame[ARCH_COLUMN])

    @cached_property
    def _row_by_arch(self) -> dict[str, int]:
        return {arch: i for i, arch in enumerate(self.frame[ARCH_COLUMN])}

    @cached_property
    def _row_by_key(self) -> dict[str, int]:
        rows: dict[str, int] = {}
        for i, cell in enumerate(self._cells):
            rows.setdefault(cell.canonical_key, i)
        return rows


def numeric_columns(frame: pd.DataFrame) -> tuple[str, ...]:
    """Names of the numeric (non-boolean) columns of ``frame``, in frame order."""
    return tuple(
        str(c)
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    )


def table_from_frame(
    name: str,
    frame: pd.DataFrame,
    metric: str | None = None,
    *,
    test_column: str | None = None,
    cost_column: str | None = None,
    size_column: str | None = None,
    row_label: Callable[[int], str] | None = None,
) -> BenchmarkTable:
    """Validate ``frame`` and wrap it as a :class:`BenchmarkTable`.

    Args:
        name: Label used in messages and kept as :attr:`BenchmarkTable.name`.
        frame: Column ``arch`` with NAS-Bench-201 strings plus metric columns.
        metric: The target column; may be omitted only when the frame has exactly one
            numeric column.
        test_column, cost_column, size_column: Optional roles for other numeric columns.
        row_label: Maps a 0-based position to the text naming that row in messages;
            defaults to ``"data row <position + 1>"``.

    Returns:
        A table whose frame holds ``arch`` (normalised strings) and the numeric columns.

    Raises:
        InputDataError: No ``arch`` column; an unknown or non-numeric metric column; an
            invalid arch string; a duplicate arch; a missing metric value. The message names
            the row and the column.
    """
    label = row_label or (lambda i: f"data row {i + 1}")
    if ARCH_COLUMN not in frame.columns:
        raise InputDataError(
            f"{name}: no {ARCH_COLUMN!r} column of NAS-Bench-201 strings; "
            f"columns are: {', '.join(map(str, frame.columns)) or '(none)'}"
        )
    frame = frame.reset_index(drop=True)
    arch = _normalised_arches(name, frame[ARCH_COLUMN], label)
    numeric = numeric_columns(frame)
    if metric is None:
        if len(numeric) != 1:
            raise InputDataError(
                f"{name}: name the metric column; numeric columns are: {', '.join(numeric) or '(none)'}"
            )
        metric = numeric[0]
    roles = [metric] + [c for c in (test_column, cost_column, size_column) if c is not None]
    for column in roles:
        _check_metric(name, frame, column, numeric, label)
    kept = [c for c in frame.columns if str(c) in numeric and c != ARCH_COLUMN]
    clean = pd.concat([arch.rename(ARCH_COLUMN), frame[kept].astype(np.float64)], axis=1)
    return BenchmarkTable(
        name=name,
        frame=clean,
        target=metric,
        test_column=test_column,
        cost_column=cost_column,
        size_column=size_column,
    )


def _normalised_arches(name: str, arches: pd.Series, label: Callable[[int], str]) -> pd.Series:
    """Parse every arch string, returning the canonical printed form; reject duplicates."""
    out: list[str] = []
    first_row: dict[str, int] = {}
    known = _cells_by_string()
    for i, text in enumerate(arches):
        if text in known:
            s = text
        elif not isinstance(text, str):
            raise InputDataError(
                f"{name}: {label(i)}, column {ARCH_COLUMN!r}: expected a NAS-Bench-201 string, got {text!r}"
            )
        else:
            try:
                s = Cell.from_string(text).to_string()
            except InputDataError as exc:
                raise InputDataError(f"{name}: {label(i)}, column {ARCH_COLUMN!r}: {exc}") from None
        if s in first_row:
            raise InputDataError(
                f"{name}: {label(i)}, column {ARCH_COLUMN!r}: duplicate architecture {s!r} "
                f"(first seen at {label(first_row[s])}); keep one row per architecture"
            )
        first_row[s] = i
        out.append(s)
    return pd.Series(out, index=arches.index, dtype=object)


@lru_cache(maxsize=1)
def _cells_by_string() -> dict[str, Cell]:
    """Every cell by its printed form: parsing 15,625 strings this way costs one dict lookup each."""
    return {cell.to_string(): cell for cell in all_cells()}


def _check_metric(
    name: str, frame: pd.DataFrame, column: str, numeric: tuple[str, ...], label: Callable[[int], str]
) -> None:
    if column not in frame.columns:
        raise InputDataError(
            f"{name}: no metric column {column!r}; numeric columns are: {', '.join(numeric) or '(none)'}"
        )
    values = frame[column]
    as_number = pd.to_numeric(values, errors="coerce")
    bad = np.flatnonzero(as_number.isna().to_numpy() & values.notna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise InputDataError(
            f"{name}: {label(i)}, column {column!r}: expected a number, got {values.iat[i]!r}"
        )
    missing = np.flatnonzero(values.isna().to_numpy())
    if missing.size:
        i = int(missing[0])
        raise InputDataError(f"{name}: {label(i)}, column {column!r}: the value is missing")
    if column not in numeric:
        raise InputDataError(f"{name}: column {column!r} is not numeric")
