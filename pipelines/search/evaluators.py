"""Evaluators turn cells into observations; the runner only sees this protocol.

:class:`TabularEvaluator` replays a benchmark table (Syne Tune's "blackbox"
idea): every query is a lookup, and the table's training-time column is
charged as *simulated* cost, so a whole search runs in seconds yet reports the
compute it would have used. A live evaluator (real training) implements the
same protocol elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from surrogate_nas.cell import Cell
from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.history import Objective, parse_objectives


@dataclass(frozen=True)
class Observation:
    """The outcome of evaluating one cell.

    Attributes:
        value: the searched target (higher is better).
        objectives: every reported quantity by name; includes the target.
        test_value: held-out value reported alongside, when known.
        cost_s: seconds the evaluation cost (simulated for tables).
    """

    value: float
    objectives: Mapping[str, float] = field(default_factory=dict)
    test_value: float | None = None
    cost_s: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "objectives", MappingProxyType(dict(self.objectives)))


@runtime_checkable
class Evaluator(Protocol):
    """Anything that evaluates a batch of cells, in order."""

    def evaluate(self, cells: Sequence[Cell]) -> list[Observation]: ...


class TabularEvaluator:
    """Look cells up in a :class:`~surrogate_nas.tables.BenchmarkTable`.

    A cell is found by its exact string, else by an isomorphic twin (same
    canonical key). Each observation reports the table's target as ``value``,
    its test column as ``test_value``, its cost column as ``cost_s``, and in
    ``objectives`` the target, the size column and every extra objective.

    Args:
        table: the benchmark table.
        objectives: extra columns to report (e.g. ``["params_mb_cifar10:min"]``);
            directions are accepted and ignored here, the runner uses them.

    Example:
        >>> ev = TabularEvaluator(load_benchmark("nb201-cifar10"))
        >>> ev.evaluate([Cell.from_string(arch)])[0].value
    """

    def __init__(self, table, objectives: Sequence[str | Objective] | None = None) -> None:
        self.table = table
        frame: pd.DataFrame = table.frame
        wanted = [table.target] + [c for c in (table.size_column,) if c]
        if objectives:
            wanted += [o.name for o in parse_objectives(objectives)]
        self.columns: tuple[str, ...] = tuple(dict.fromkeys(wanted))
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
        missing = [c for c in self.columns if c not in numeric]
        if missing:
            raise InputDataError(
                f"objective column(s) {missing} are not numeric columns of table {table.name!r}; "
                f"expected one of {numeric}"
            )
        self._values = frame[list(self.columns)].to_numpy(np.float64)
        self._test = frame[table.test_column].to_numpy(np.float64) if table.test_column else None
        self._cost = frame[table.cost_column].to_numpy(np.float64) if table.cost_column else None
        cells = table.cells()
        self._by_arch = {c.to_string(): i for i, c in enumerate(cells)}
        self._by_key: dict[str, int] = {}
        for i, c in enumerate(cells):
            self._by_key.setdefault(c.canonical_key, i)

    @property
    def optimum(self) -> float:
        """Best target value in the table (for regret)."""
        return float(self.table.optimum)

    def contains(self, cell: Cell) -> bool:
        """Whether the table answers for ``cell`` (exactly or through a twin)."""
        return cell.to_string() in self._by_arch or cell.canonical_key in self._by_key

    def reference_point(self, objectives: Sequence[Objective]) -> np.ndarray:
        """Hypervolume reference point in the "maximise everything" space.

        It is the worst value of each objective over the whole table (its
        nadir), so every architecture weakly dominates it and hypervolumes of
        different searches on the same table are comparable.
        """
        cols = []
        for o in objectives:
            if o.name not in self.columns:
                raise InputDataError(f"objective {o.name!r} is not reported; reported: {list(self.columns)}")
            cols.append(o.sign * self._values[:, self.columns.index(o.name)])
        return np.array([c.min() for c in cols], dtype=np.float64)

    def evaluate(self, cells: Sequence[Cell]) -> list[Observation]:
        out = []
        for cell in cells:
            i = self._by_arch.get(cell.to_string(), self._by_key.get(cell.canonical_key))
            if i is None:
                raise InputDataError(f"architecture {cell} is not in table {self.table.name!r}")
            row = self._values[i]
            out.append(
                Observation(
                    value=float(row[0]),
                    objectives=dict(zip(self.columns, map(float, row))),
                    test_value=None if self._test is None else float(self._test[i]),
                    cost_s=0.0 if self._cost is None else float(self._cost[i]),
                )
            )
        return out
