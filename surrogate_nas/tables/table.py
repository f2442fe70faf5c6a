"""A benchmark table: one row per architecture of one space, validated once at the boundary.

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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from surrogate_nas.errors import InputDataError
from surrogate_nas.spaces import DEFAULT_SPACE, SearchSpace, get_space
from surrogate_nas.spaces.subset import SubsetSpace

ARCH_COLUMN = "arch"


@dataclass(frozen=True)
class FidelityLevel:
    """A column holding the target after ``epochs`` of training (a lower fidelity of the target)."""

    column: str
    epochs: float


@dataclass(frozen=True, eq=False)
class BenchmarkTable:
    """Metrics of architectures of one search space, keyed by the space's text form.

    Attributes:
        name: ``"nb201-cifar10"`` for a packaged table, else the CSV path or a caller's label.
        frame: One row per architecture: column ``arch`` (the space's normalised text form)
            and numeric metric columns. Shared between callers; treat it as read-only.
        target: The metric searched and predicted by default.
        space: The search space the architectures belong to.
        maximize: Whether larger target values are better.
        test_column: Metric reported alongside the target, if any.
        cost_column: Evaluation cost in seconds, if known (of a full-fidelity evaluation).
        size_column: Model size, if known.
        fidelities: The target at increasing training budgets, the last being the target
            itself; empty when only the full budget is known. Evaluating at ``r`` of ``R``
            epochs costs ``r / R`` of the cost column.
        known_columns: Columns known for an architecture without training it (size,
            measured latency): a search may read them for architectures it has not
            evaluated (to skip those a constraint rules out), never the others.
    """

    name: str
    frame: pd.DataFrame = field(repr=False)
    target: str
    space: SearchSpace = field(default_factory=lambda: get_space(DEFAULT_SPACE))
    maximize: bool = True
    test_column: str | None = None
    cost_column: str | None = None
    size_column: str | None = None
    fidelities: tuple[FidelityLevel, ...] = ()
    known_columns: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.frame)

    def architectures(self) -> list:
        """The architectures (values of :attr:`space`), in row order."""
        return list(self._archs)

    def values(self, column: str | None = None) -> np.ndarray:
        """Column ``column`` (default: the target) as a float array in row order."""
        return self.frame[self._column(column)].to_numpy(dtype=np.float64, copy=True)

    def row_of(self, arch) -> int | None:
        """The row of ``arch``: its exact text form, else a canonical twin's row, else None."""
        row = self._row_by_arch.get(arch.to_string())
        return self._row_by_key.get(arch.canonical_key) if row is None else row

    def lookup(self, arch, column: str | None = None) -> float | None:
        """The value for ``arch`` (exact row, else a canonical twin's), or ``None``."""
        column = self._column(column)
        row = self.row_of(arch)
        return None if row is None else float(self.frame[column].iat[row])

    def search_space(self) -> SearchSpace:
        """What a search replayed on this table may evaluate: the whole space when the table
        covers one that can be listed, else the table's own architectures (:class:`SubsetSpace`)."""
        return self._search_space

    @cached_property
    def _search_space(self) -> SearchSpace:
        listed = self.space.enumerate()
        if listed is not None and {a.canonical_key for a in listed} <= set(self._row_by_key):
            return self.space
        return SubsetSpace(self.space, self._archs)

    def fidelity_fractions(self) -> tuple[float, ...]:
        """The fidelities as fractions of the full budget, increasing (empty: full only)."""
        if not self.fidelities:
            return ()
        full = self.fidelities[-1].epochs
        return tuple(level.epochs / full for level in self.fidelities)

    def fidelity_column(self, fraction: float) -> str:
        """The column of the target at ``fraction`` of the full budget.

        Raises:
            InputDataError: the table has no such fidelity.
        """
        if abs(float(fraction) - 1.0) < 1e-9:
            return self.target
        for level, f in zip(self.fidelities, self.fidelity_fractions()):
            if abs(f - float(fraction)) < 1e-9:
                return level.column
        offered = ", ".join(f"{f:.4g}" for f in self.fidelity_fractions()) or "1 (full only)"
        raise InputDataError(f"table {self.name!r} has no fidelity {fraction:.4g}; it offers {offered}")

    @property
    def optimum(self) -> float:
        """Best target value (the largest, or the smallest when minimised)."""
        values = self.values()
        return float(np.max(values) if self.maximize else np.min(values))

    def _column(self, column: str | None) -> str:
        column = self.target if column is None else column
        if column not in self.numeric_columns:
            raise InputDataError(
                f"table {self.name!r} has no numeric column {column!r}; "
                f"available: {', '.join(self.numeric_columns)}"
            )
        return column

    @cached_property
    def numeric_columns(self) -> tuple[str, ...]:
        return numeric_columns(self.frame)

    @cached_property
    def _archs(self) -> tuple:
        return tuple(self.space.parse(a) for a in self.frame[ARCH_COLUMN])

    @cached_property
    def _row_by_arch(self) -> dict[str, int]:
        return {arch: i for i, arch in enumerate(self.frame[ARCH_COLUMN])}

    @cached_property
    def _row_by_key(self) -> dict[str, int]:
        rows: dict[str, int] = {}
        for i, arch in enumerate(self._archs):
            rows.setdefault(arch.canonical_key, i)
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
    space: SearchSpace | str = DEFAULT_SPACE,
    maximize: bool = True,
    test_column: str | None = None,
    cost_column: str | None = None,
    size_column: str | None = None,
    known_columns: Sequence[str] = (),
    row_label: Callable[[int], str] | None = None,
    fidelity_columns: Mapping[str, float] | None = None,
) -> BenchmarkTable:
    """Validate ``frame`` and wrap it as a :class:`BenchmarkTable`.

    Args:
        name: Label used in messages and kept as :attr:`BenchmarkTable.name`.
        frame: Column ``arch`` with architectures in ``space``'s text form (or, for a space of
            choices, one column per choice), plus metric columns.
        metric: The target column; may be omitted only when the frame has exactly one
            numeric column.
        space: The search space (or its registered name) the architectures belong to.
        maximize: Whether larger target values are better.
        test_column, cost_column, size_column: Optional roles for other numeric columns.
        fidelity_columns: ``{column: epochs}``, the target at several training budgets;
            the column with the most epochs is the target (``metric`` may be omitted).
        known_columns: Numeric columns known without training (see :class:`BenchmarkTable`).
        row_label: Maps a 0-based position to the text naming that row in messages;
            defaults to ``"data row <position + 1>"``.

    Returns:
        A table whose frame holds ``arch`` (normalised strings) and the numeric columns.

    Raises:
        InputDataError: No ``arch`` column; an unknown or non-numeric metric column; an
            invalid architecture; a duplicate architecture; a missing metric value. The
            message names the row and the column.
    """
    space = get_space(space)
    label = row_label or (lambda i: f"data row {i + 1}")
    choices = getattr(space, "choices", None)
    if ARCH_COLUMN not in frame.columns and choices and all(c in frame.columns for c in choices):
        frame = _arch_from_choice_columns(name, space, frame, label)
    if ARCH_COLUMN not in frame.columns:
        raise InputDataError(
            f"{name}: no {ARCH_COLUMN!r} column of {space.name} architectures; "
            f"columns are: {', '.join(map(str, frame.columns)) or '(none)'}"
        )
    frame = frame.reset_index(drop=True)
    arch = _normalised_arches(name, space, frame[ARCH_COLUMN], label)
    numeric = numeric_columns(frame)
    levels = _fidelity_levels(name, fidelity_columns)
    if levels:
        if metric is not None and metric != levels[-1].column:
            raise InputDataError(
                f"{name}: the target {metric!r} must be the fidelity column with the most epochs "
                f"({levels[-1].column!r})"
            )
        metric = levels[-1].column
    if metric is None:
        if len(numeric) != 1:
            raise InputDataError(
                f"{name}: name the metric column; numeric columns are: {', '.join(numeric) or '(none)'}"
            )
        metric = numeric[0]
    roles = [metric] + [c for c in (test_column, cost_column, size_column, *known_columns) if c is not None]
    roles += [level.column for level in levels[:-1]]
    for column in roles:
        _check_metric(name, frame, column, numeric, label)
    kept = [c for c in frame.columns if str(c) in numeric and c != ARCH_COLUMN]
    clean = pd.concat([arch.rename(ARCH_COLUMN), frame[kept].astype(np.float64)], axis=1)
    return BenchmarkTable(
        name=name,
        frame=clean,
        target=metric,
        space=space,
        maximize=bool(maximize),
        test_column=test_column,
        cost_column=cost_column,
        size_column=size_column,
        fidelities=levels,
        known_columns=tuple(known_columns),
    )


def parse_fidelity_columns(text: str | None) -> dict[str, float] | None:
    """``"acc_12ep:12,acc_200ep:200"`` -> ``{"acc_12ep": 12.0, "acc_200ep": 200.0}`` (None for None/empty).

    Raises:
        InputDataError: a part without ``:EPOCHS`` or with a non-numeric number of epochs.
    """
    if text is None or not str(text).strip():
        return None
    out: dict[str, float] = {}
    for part in str(text).split(","):
        column, sep, epochs = part.strip().rpartition(":")
        try:
            value = float(epochs)
        except ValueError:
            value = None
        if not sep or not column.strip() or value is None:
            raise InputDataError(f"fidelity columns are COLUMN:EPOCHS joined by commas, got {part.strip()!r}")
        out[column.strip()] = value
    return out


def _fidelity_levels(name: str, columns: Mapping[str, float] | None) -> tuple[FidelityLevel, ...]:
    if not columns:
        return ()
    levels = tuple(sorted((FidelityLevel(str(c), float(e)) for c, e in columns.items()), key=lambda x: x.epochs))
    if len(levels) < 2:
        raise InputDataError(f"{name}: fidelity columns need at least two levels, got {dict(columns)}")
    if any(not level.epochs > 0 for level in levels) or len({x.epochs for x in levels}) != len(levels):
        raise InputDataError(f"{name}: fidelity epochs must be positive and distinct, got {dict(columns)}")
    return levels


def _arch_from_choice_columns(name: str, space, frame: pd.DataFrame, label: Callable[[int], str]) -> pd.DataFrame:
    """A table with one column per choice of ``space``: build its ``arch`` column, drop the choice columns."""
    archs = []
    for i, row in enumerate(frame[list(space.choices)].to_dict("records")):
        try:
            archs.append(space.from_values({k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()})
                         .to_string())
        except InputDataError as exc:
            raise InputDataError(f"{name}: {label(i)}: {exc}") from None
    return frame.drop(columns=list(space.choices)).assign(**{ARCH_COLUMN: archs})


def _normalised_arches(name: str, space: SearchSpace, arches: pd.Series, label: Callable[[int], str]) -> pd.Series:
    """Parse every architecture, returning the space's printed form; reject duplicates."""
    out: list[str] = []
    first_row: dict[str, int] = {}
    for i, text in enumerate(arches):
        if not isinstance(text, str):
            raise InputDataError(
                f"{name}: {label(i)}, column {ARCH_COLUMN!r}: expected a {space.name} architecture, got {text!r}"
            )
        try:
            s = space.parse(text).to_string()
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


def _check_metric(
    name: str, frame: pd.DataFrame, column: str, numeric: Sequence[str], label: Callable[[int], str]
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
