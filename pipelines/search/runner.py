"""The search loop: ask the strategy, evaluate, record, repeat.

:func:`run_search` knows nothing of MLflow or SQL: a per-step ``callback``
lets callers log and store trials, and an ``initial`` history (read back from
the database) warm-starts or resumes a search. Resumed trials count towards
the budget and are never evaluated again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.evaluators import Evaluator
from surrogate_nas.pipelines.search.history import (
    Objective,
    Trial,
    as_history,
    objective_matrix,
    parse_objectives,
)
from surrogate_nas.pipelines.search.pareto import hypervolume, pareto_front
from surrogate_nas.pipelines.search.strategies import Strategy, make_strategy


@dataclass(frozen=True)
class StepInfo:
    """What a callback sees after each evaluated batch.

    Attributes:
        batch: batch number, 1-based (0 is the ``initial`` history).
        trials: the trials evaluated in this batch.
        history: every trial so far, initial ones included.
        rows: the trace rows of this batch.
    """

    batch: int
    trials: tuple[Trial, ...]
    history: tuple[Trial, ...]
    rows: pd.DataFrame


@dataclass(frozen=True)
class SearchTrace:
    """The outcome of a search.

    ``frame`` has one row per evaluation, in order: ``step`` (1-based count of
    evaluations), ``batch``, ``source`` (``initial`` or ``search``), ``arch``,
    ``canonical_key``, ``value``, ``best_so_far``, ``best_arch``,
    ``test_value``, ``test_of_best`` (test value of the incumbent), ``regret``
    (when the optimum is known), ``cost_s``, ``cum_cost_s``, ``fit_s`` and
    ``acq_s`` (surrogate fit and acquisition seconds, on the first row of each
    batch), ``suggest_s``, the objective columns, and ``hypervolume`` when
    there are several objectives.
    """

    frame: pd.DataFrame
    history: tuple[Trial, ...]
    objectives: tuple[Objective, ...]
    ref_point: np.ndarray | None
    strategy: str

    @property
    def best(self) -> Trial:
        """The trial with the highest value."""
        return max(self.history, key=lambda t: t.value)

    def pareto_front(self) -> pd.DataFrame:
        """Non-dominated trials over the objectives (see :func:`.pareto.pareto_front`)."""
        return pareto_front(self.history, self.objectives)


def _check_stopping(budget, wall_clock_s, batch_size) -> None:
    if budget is None and wall_clock_s is None:
        raise InputDataError("a search needs a budget (evaluations) or a wall-clock limit; got neither")
    if budget is not None and int(budget) < 1:
        raise InputDataError(f"budget must be >= 1 evaluation, got {budget}")
    if wall_clock_s is not None and not wall_clock_s > 0:
        raise InputDataError(f"wall_clock_s must be > 0 seconds, got {wall_clock_s}")
    if int(batch_size) < 1:
        raise InputDataError(f"batch_size must be >= 1, got {batch_size}")


class _TraceBuilder:
    """Accumulates trace rows; keeps incumbent and hypervolume state."""

    def __init__(self, objectives, ref_point, optimum):
        self.objectives, self.ref_point, self.optimum = objectives, ref_point, optimum
        self.rows: list[dict] = []
        self.best: Trial | None = None
        self.cum_cost = 0.0

    def add(self, trials, history, batch, source, timing) -> pd.DataFrame:
        start = len(self.rows)
        hv = None
        if len(self.objectives) > 1:
            hv = hypervolume(objective_matrix(history, self.objectives), self.ref_point)
        for i, t in enumerate(trials):
            if self.best is None or t.value > self.best.value:
                self.best = t
            self.cum_cost += t.cost_s
            row = {
                "step": len(self.rows) + 1,
                "batch": batch,
                "source": source,
                "arch": t.cell.to_string(),
                "canonical_key": t.key,
                "value": t.value,
                "best_so_far": self.best.value,
                "best_arch": self.best.cell.to_string(),
                "test_value": t.test_value,
                "test_of_best": self.best.test_value,
                "regret": None if self.optimum is None else self.optimum - self.best.value,
                "cost_s": t.cost_s,
                "cum_cost_s": self.cum_cost,
                **{k: (v if i == 0 else 0.0) for k, v in timing.items()},
                **{o.name: t.objectives.get(o.name) for o in self.objectives if len(self.objectives) > 1},
            }
            if hv is not None:
                row["hypervolume"] = hv
            self.rows.append(row)
        return pd.DataFrame(self.rows[start:])

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


def run_search(
    strategy: Strategy | str,
    evaluator: Evaluator,
    budget: int | None = None,
    wall_clock_s: float | None = None,
    batch_size: int = 1,
    seed: int = 0,
    objectives: Sequence[str | Objective] | None = None,
    initial=None,
    callback: Callable[[StepInfo], bool | None] | None = None,
    optimum: float | None = None,
    ref_point: Sequence[float] | None = None,
) -> SearchTrace:
    """Run a search until ``budget`` evaluations or ``wall_clock_s`` seconds.

    Args:
        strategy: a :class:`.strategies.Strategy`, or a name for
            :func:`.strategies.make_strategy` (built with ``seed`` and ``objectives``).
        evaluator: turns cells into observations.
        budget: total evaluations, ``initial`` trials included.
        wall_clock_s: stop starting new batches after this many real seconds.
        batch_size: cells suggested and evaluated per step.
        seed: seed of a strategy given by name.
        objectives: e.g. ``["cifar10_valid_acc_200ep", "params_mb_cifar10:min"]``.
            With two or more the trace gets a ``hypervolume`` column; the
            searched ``value`` is always the evaluator's target.
        initial: trials already done (or ``(cell, value[, objectives])``
            tuples) used before any new suggestion; resuming a search passes
            its own finished trials here.
        callback: called with a :class:`StepInfo` after each batch; returning
            ``True`` stops the search.
        optimum: best attainable value, for the ``regret`` column; defaults to
            ``evaluator.optimum`` when the evaluator has one.
        ref_point: hypervolume reference point in the "maximise everything"
            space; defaults to ``evaluator.reference_point(objectives)``.

    Returns:
        The :class:`SearchTrace`.

    Raises:
        InputDataError: on bad names, budgets, objectives or initial trials.
    """
    _check_stopping(budget, wall_clock_s, batch_size)
    objs = parse_objectives(objectives) if objectives else ()
    if isinstance(strategy, str):
        strategy = make_strategy(strategy, seed=seed, objectives=objs or None)
    if len(objs) > 1:
        if ref_point is None:
            if not hasattr(evaluator, "reference_point"):
                raise InputDataError("multi-objective search needs ref_point (the evaluator has no default)")
            ref_point = evaluator.reference_point(objs)
        ref_point = np.asarray(ref_point, dtype=np.float64)
        if ref_point.shape != (len(objs),):
            raise InputDataError(f"ref_point needs {len(objs)} values, got shape {ref_point.shape}")
        if getattr(strategy, "ref_point", ()) is None:
            strategy.ref_point = ref_point  # a BO strategy left to take the evaluator's reference point
    if optimum is None:
        optimum = getattr(evaluator, "optimum", None)

    history: list[Trial] = as_history(initial)
    if len({t.key for t in history}) != len(history):
        raise InputDataError("initial history repeats an architecture (same canonical key)")
    trace = _TraceBuilder(objs, ref_point, optimum)
    if history:
        objective_matrix(history, objs)
        trace.add(history, history, 0, "initial", {"fit_s": 0.0, "acq_s": 0.0, "suggest_s": 0.0})
    if history:
        strategy.observe(tuple(history))

    start, batch = time.perf_counter(), 0
    while budget is None or len(history) < budget:
        if wall_clock_s is not None and time.perf_counter() - start >= wall_clock_s:
            break
        k = batch_size if budget is None else min(batch_size, budget - len(history))
        t0 = time.perf_counter()
        cells = strategy.suggest(k, tuple(history))
        suggest_s = time.perf_counter() - t0
        seen = {t.key for t in history}
        cells = [c for c in cells if not (c.canonical_key in seen or seen.add(c.canonical_key))]
        if not cells:
            break
        observations = evaluator.evaluate(cells)
        trials = tuple(
            Trial(c, o.value, o.objectives, o.test_value, o.cost_s) for c, o in zip(cells, observations)
        )
        history.extend(trials)
        objective_matrix(trials, objs)
        strategy.observe(trials)
        batch += 1
        timing = dict(getattr(strategy, "last_timing", None) or {"fit_s": 0.0, "acq_s": 0.0})
        timing["suggest_s"] = suggest_s
        rows = trace.add(trials, history, batch, "search", timing)
        if callback is not None and callback(StepInfo(batch, trials, tuple(history), rows)):
            break
    name = getattr(strategy, "name", type(strategy).__name__)
    return SearchTrace(trace.frame(), tuple(history), objs, ref_point, name)
