"""Evaluators turn suggestions into observations; the runner only sees this interface.

An evaluator declares what it can say beyond the observations themselves: the best
attainable target (:attr:`Evaluator.optimum`, known for complete tables, used for
regret; ``None`` when unknown; :meth:`Evaluator.optimum_under` constraints), the quantities
it reports (:meth:`Evaluator.reported`) and those among them it knows for any architecture
without evaluating it (:meth:`Evaluator.known`: a size or a measured latency, never an
accuracy), which is what lets a constraint skip architectures before they are evaluated.
Quantities computed from the architecture alone (a device's measured latency, a latency
model's prediction) are added to an evaluator as :class:`ArchMetric` values.
A hypervolume reference point is never taken from an evaluator: it comes from the user or
from what the search evaluated (see :func:`.runner.reference_point`).

:class:`TabularEvaluator` replays a benchmark table (Syne Tune's "blackbox" idea):
every query is a lookup, and the table's cost column is charged as *simulated* cost,
so a whole search runs in seconds yet reports the compute it would have used. The live
evaluator (real training) implements the same interface in
:mod:`surrogate_nas.pipelines.live.evaluator`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

import numpy as np
import pandas as pd

from surrogate_nas.errors import InputDataError
from surrogate_nas.spaces import SearchSpace
from surrogate_nas.pipelines.search.history import Objective, Suggestion, Trial, parse_objectives


@dataclass(frozen=True)
class ArchMetric:
    """A quantity of an architecture known without training it.

    Attributes:
        name: the key it is reported under (``lat_ms_pixel3``).
        compute: values for a list of architectures (an ``n`` float array).
        description: what it is, in words.
        per_candidate: cheap enough to compute for every candidate of a search step (a lookup, a
            prediction); False for a quantity measured on this machine per architecture.
    """

    name: str
    compute: Callable[[Sequence], np.ndarray]
    description: str = ""
    per_candidate: bool = True

    def values(self, archs: Sequence) -> np.ndarray:
        return np.asarray(self.compute(list(archs)), dtype=np.float64).reshape(len(archs))


@dataclass(frozen=True)
class Observation:
    """The outcome of evaluating one suggestion.

    Attributes:
        value: the searched target, in its own units.
        objectives: every reported quantity by name; includes the target.
        test_value: held-out value reported alongside, when known.
        cost_s: seconds the evaluation cost (simulated for tables).
        status: ``ok``, or ``diverged``/``failed``.
        message: why it failed, when it did.
    """

    value: float
    objectives: Mapping[str, float] = field(default_factory=dict)
    test_value: float | None = None
    cost_s: float = 0.0
    status: str = "ok"
    message: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "objectives", MappingProxyType(dict(self.objectives)))


class Evaluator(ABC):
    """Evaluates suggestions of one search space.

    Attributes:
        space: the search space whose architectures it evaluates.
        target: name of the searched quantity (a key of every observation's objectives).
        maximize: whether larger targets are better.
    """

    space: SearchSpace
    target: str
    maximize: bool = True

    @property
    def optimum(self) -> float | None:
        """The best attainable target, when known (complete tables); None otherwise."""
        return None

    @property
    def fidelities(self) -> tuple[float, ...]:
        """Fidelities it can evaluate at, as increasing fractions of the full budget (empty: full only)."""
        return ()

    @abstractmethod
    def reported(self) -> tuple[str, ...]:
        """Names of the quantities every observation reports."""

    @abstractmethod
    def evaluate(self, suggestions: Sequence[Suggestion]) -> list[Observation]:
        """Observations of ``suggestions``, in order."""

    def known(self) -> Mapping[str, Callable[[Sequence], np.ndarray]]:
        """Reported quantities this evaluator knows for any architecture without evaluating it."""
        return {}

    def exact(self) -> Mapping[str, Callable[[Sequence], np.ndarray]]:
        """The known quantities cheap enough to compute for every candidate of a step (lookups,
        predictions): a strategy may use them in place of a model of them."""
        return {}

    def optimum_under(self, constraints) -> float | None:
        """The best target among architectures meeting ``constraints`` (a ConstraintSet), when known."""
        return None

    def check_objectives(self, objectives: Sequence[Objective], what: str = "objective") -> None:
        """Raise InputDataError naming the first objective this evaluator does not report."""
        reported = self.reported()
        for o in objectives:
            name = getattr(o, "name", o)
            if name not in reported:
                raise InputDataError(f"{what} {name!r} is not reported; reported: {', '.join(reported)}")


class TabularEvaluator(Evaluator):
    """Look architectures up in a :class:`~surrogate_nas.tables.BenchmarkTable`.

    An architecture is found by its exact text form, else by a twin (same canonical
    key). Each observation reports the table's target as ``value``, its test column as
    ``test_value``, its cost column as ``cost_s``, and in ``objectives`` the target, the
    size column, every extra objective and every :class:`ArchMetric`. The table's
    ``known_columns`` and the metrics are what it knows without evaluating.

    A table with fidelity columns (:attr:`~surrogate_nas.tables.BenchmarkTable.fidelities`)
    answers a suggestion at fidelity ``f`` from the column of that budget and charges
    ``(f - resume_from)`` times the cost column: like a live training resumed from its
    checkpoint, a promotion pays only the epochs it adds.

    Args:
        table: the benchmark table.
        objectives: extra columns to report (e.g. ``["params_mb_cifar10:min"]``);
            directions are accepted and ignored here, the runner uses them. Names of
            ``metrics`` may be given too.
        metrics: quantities computed from the architecture (e.g. a latency model's prediction).

    Example:
        >>> ev = TabularEvaluator(load_benchmark("nb201-cifar10"))  # doctest: +SKIP
        >>> ev.evaluate([Suggestion(ev.space.parse(arch))])[0].value  # doctest: +SKIP
    """

    def __init__(self, table, objectives: Sequence[str | Objective] | None = None,
                 metrics: Sequence[ArchMetric] = ()) -> None:
        self.table = table
        self.space = table.search_space()
        self.target = table.target
        self.maximize = table.maximize
        self.metrics = tuple(metrics)
        frame: pd.DataFrame = table.frame
        wanted = [table.target] + [c for c in (table.size_column,) if c]
        if objectives:
            extra = {m.name for m in self.metrics}
            wanted += [o.name for o in parse_objectives(objectives) if o.name not in extra]
        self.columns: tuple[str, ...] = tuple(dict.fromkeys(wanted))
        numeric = list(table.numeric_columns)
        missing = [c for c in self.columns if c not in numeric]
        if missing:
            raise InputDataError(
                f"objective column(s) {missing} are not numeric columns of table {table.name!r}; "
                f"expected one of {numeric}"
            )
        self._values = frame[list(self.columns)].to_numpy(np.float64)
        self._test = frame[table.test_column].to_numpy(np.float64) if table.test_column else None
        self._cost = frame[table.cost_column].to_numpy(np.float64) if table.cost_column else None
        self._low = {level.column: frame[level.column].to_numpy(np.float64) for level in table.fidelities[:-1]}

    @property
    def optimum(self) -> float:
        """Best target value in the table (for regret)."""
        return float(self.table.optimum)

    @property
    def fidelities(self) -> tuple[float, ...]:
        return self.table.fidelity_fractions()

    def reported(self) -> tuple[str, ...]:
        return self.columns + tuple(m.name for m in self.metrics)

    def known(self) -> dict[str, Callable[[Sequence], np.ndarray]]:
        out = {c: self._lookup(c) for c in self.table.known_columns}
        out.update({m.name: m.values for m in self.metrics})
        return out

    def exact(self) -> dict[str, Callable[[Sequence], np.ndarray]]:
        out = {c: self._lookup(c) for c in self.table.known_columns}
        out.update({m.name: m.values for m in self.metrics if m.per_candidate})
        return out

    def _lookup(self, column: str) -> Callable[[Sequence], np.ndarray]:
        values = self.table.frame[column].to_numpy(np.float64)
        return lambda archs: values[self._rows(archs)]

    def _rows(self, archs: Sequence) -> np.ndarray:
        rows = []
        for arch in archs:
            i = self.table.row_of(arch)
            if i is None:
                raise InputDataError(f"architecture {arch.to_string()} is not in table {self.table.name!r}")
            rows.append(i)
        return np.asarray(rows, dtype=np.int64)

    def evaluate(self, suggestions: Sequence[Suggestion]) -> list[Observation]:
        rows = self._rows([s.arch for s in suggestions])
        extra = {m.name: m.values([s.arch for s in suggestions]) for m in self.metrics}
        out = []
        for j, (s, i) in enumerate(zip(suggestions, rows)):
            objectives = {**dict(zip(self.columns, map(float, self._values[i]))),
                          **{name: float(v[j]) for name, v in extra.items()}}
            full = s.fidelity >= 1.0
            if not full:
                objectives[self.target] = float(self._low[self.table.fidelity_column(s.fidelity)][i])
            out.append(
                Observation(
                    value=objectives[self.target],
                    objectives=objectives,
                    test_value=None if self._test is None or not full else float(self._test[i]),
                    cost_s=0.0 if self._cost is None else float(self._cost[i]) * (s.fidelity - s.resume_from),
                )
            )
        return out

    @cached_property
    def reachable(self) -> tuple[tuple, tuple[Observation, ...]]:
        """Every architecture a search of this table can evaluate (one per canonical key), with
        its observation: what exact true fronts and constrained optima are computed over."""
        archs = tuple(self.space.enumerate())
        return archs, tuple(self.evaluate([Suggestion(a) for a in archs]))

    def optimum_under(self, constraints) -> float | None:
        """Best target among the reachable architectures that meet ``constraints``; None if none does."""
        archs, observations = self.reachable
        trials = [Trial(a, o.value, o.objectives) for a, o in zip(archs, observations)]
        ok = constraints.feasible(trials)
        if not ok.any():
            return None
        values = np.array([o.value for o in observations])[ok]
        return float(values.max() if self.maximize else values.min())
