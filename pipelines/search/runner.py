"""The search loop: ask the strategy, evaluate, tell, record, repeat.

:func:`run_search` knows nothing of MLflow or SQL: a per-step ``callback`` lets callers
log and store trials, and an ``initial`` history (read back from the database)
warm-starts or resumes a search. Resumed trials count towards the budget and are never
evaluated again.

Evaluation goes through a :class:`~.backends.Backend`: synchronous batches of
``batch_size`` (the default), or ``workers`` asynchronous slots where each finished
evaluation frees a slot that is refilled at once, with the still-running suggestions
passed to the strategy as pending.

Same seed, same search: each step runs under :meth:`~.strategies.Strategy.suggest` (its
random state seeded from the search's seed and the step), and nothing the loop decides reads
a clock except ``wall_clock_s``, a stopping rule the user asks for. A search resumed from its
stored trials (``replay``) is run again from its first step: the strategy suggests what it
suggested before, the evaluator answers from the table or the database (nothing is trained
again), and the run continues where the stored trials end, so a search killed and rerun
gives the trace of an uninterrupted one, for any strategy (a strategy's state is rebuilt by
the same steps that built it) and on simulated workers (the simulated clock is replayed too).
Where a replayed step suggests something that was never stored (another torch build or BLAS,
a changed ``--step-seconds``), the rest of the stored trials are told to the strategy as they
are and the search goes on from there (:attr:`SearchTrace.diverged_at` says where).

Constraints (:mod:`.constraints`) make "best" mean best *feasible*: the trace marks each
trial's feasibility, and the incumbent, regret, hypervolume and Pareto front count feasible
trials only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.backends import Backend, BatchBackend, Finished
from surrogate_nas.pipelines.search.constraints import NO_CONSTRAINTS, Constraint, ConstraintSet
from surrogate_nas.pipelines.search.evaluators import Evaluator
from surrogate_nas.pipelines.search.history import Objective, Trial, as_history, objective_matrix, parse_objectives
from surrogate_nas.pipelines.search.pareto import hypervolume, pareto_front, reference_point
from surrogate_nas.pipelines.search.strategies import Strategy, make_strategy


@dataclass(frozen=True)
class StepInfo:
    """What a callback sees after each group of finished evaluations.

    Attributes:
        batch: step number, 1-based (0 is the ``initial`` history).
        trials: the trials that finished in this step.
        history: every trial so far, initial ones included.
        rows: the trace rows of this step.
    """

    batch: int
    trials: tuple[Trial, ...]
    history: tuple[Trial, ...]
    rows: pd.DataFrame
    ref_point: np.ndarray | None = None
    running: int = 0
    timing: dict | None = None
    """Wall-clock seconds of the step's parts (``fit_s``, ``acq_s``, ``suggest_s``): measurements,
    kept out of the trace."""


@dataclass(frozen=True)
class SearchTrace:
    """The outcome of a search.

    ``frame`` has one row per evaluation, in order: ``step`` (1-based count of
    evaluations), ``batch``, ``source`` (``initial`` or ``search``), ``arch``,
    ``canonical_key``, ``fidelity``, ``value``, ``best_so_far``, ``best_arch``,
    ``test_value``, ``test_of_best`` (test value of the incumbent), ``regret`` (when the
    optimum is known), ``cost_s``, ``cum_cost_s``, ``status`` (``ok``, ``diverged``,
    ``failed``), ``feasible`` (meets every constraint), ``worker`` (when several run at
    once), ``sim_time_s`` (when the backend simulates time), the objective and constrained
    columns, and ``hypervolume`` when there are several objectives. Incumbents, regret and
    hypervolume count only feasible full-fidelity results. Every column is a decision or a
    value, none a clock reading: the same seeded search gives the same frame.

    ``timings`` has one row per step: ``batch``, ``fit_s``, ``screen_s`` and ``acq_s`` (the
    surrogate's fit, the screening of the candidates, the acquisition: 0 for strategies without
    them), ``suggest_s`` (the whole step), wall-clock seconds measured on this machine, and
    ``suggest_cpu_s``, the step's CPU seconds (which a busy machine changes far less).
    ``setup_s`` and ``setup_cpu_s`` measure the strategy's one-off :meth:`~.Strategy.prepare`
    (listing and featurising a table's rows), which no step pays for.
    ``stop_reason`` says why the search ended (:data:`STOP_REASONS`); ``diverged_at`` is the
    evaluation where a resumed search stopped following its stored trials (None: it never did).
    """

    frame: pd.DataFrame
    history: tuple[Trial, ...]
    objectives: tuple[Objective, ...]
    ref_point: np.ndarray | None
    strategy: str
    constraints: ConstraintSet = NO_CONSTRAINTS
    timings: pd.DataFrame | None = None
    stop_reason: str = "budget"
    diverged_at: int | None = None
    setup_s: float = 0.0
    setup_cpu_s: float = 0.0

    def _eligible(self) -> list[Trial]:
        full = [t for t in self.history if t.full] or list(self.history)
        return [t for t, ok in zip(full, self.constraints.feasible(full)) if ok]

    @property
    def best(self) -> Trial | None:
        """The best feasible full-fidelity trial by the first objective's direction (None if none is feasible)."""
        sign = self.objectives[0].sign
        return max(self._eligible(), key=lambda t: sign * t.value, default=None)

    def pareto_front(self) -> pd.DataFrame:
        """Non-dominated feasible full-fidelity trials over the objectives (see :func:`.pareto.pareto_front`)."""
        return pareto_front([t for t in self._eligible() if t.full], self.objectives)


def _check_stopping(budget, wall_clock_s, batch_size, max_cost_s=None) -> None:
    if budget is None and wall_clock_s is None and max_cost_s is None:
        raise InputDataError("a search needs a budget (evaluations), a cost limit or a wall-clock limit; got none")
    if budget is not None and int(budget) < 1:
        raise InputDataError(f"budget must be >= 1 evaluation, got {budget}")
    if wall_clock_s is not None and not wall_clock_s > 0:
        raise InputDataError(f"wall_clock_s must be > 0 seconds, got {wall_clock_s}")
    if max_cost_s is not None and not max_cost_s > 0:
        raise InputDataError(f"max_cost_s must be > 0 seconds, got {max_cost_s}")
    if int(batch_size) < 1:
        raise InputDataError(f"batch_size must be >= 1, got {batch_size}")


class _TraceBuilder:
    """Accumulates trace rows; keeps incumbent and hypervolume state."""

    def __init__(self, objectives: tuple[Objective, ...], ref_point, optimum, constraints: ConstraintSet):
        self.objectives, self.ref_point, self.optimum = objectives, ref_point, optimum
        self.constraints = constraints
        self.sign = objectives[0].sign
        self.rows: list[dict] = []
        self.best: Trial | None = None
        self.cum_cost = 0.0
        self.front: list[Trial] = []

    def add(self, finished: Sequence[Finished], batch: int, source: str) -> pd.DataFrame:
        start = len(self.rows)
        multi = len(self.objectives) > 1
        if multi and self.ref_point is None:
            full = [f.trial for f in finished if f.trial.full]
            if full:
                self.ref_point = reference_point(objective_matrix(full, self.objectives))
        feasible = self.constraints.feasible([f.trial for f in finished])
        shown = [c for c in self.constraints.names if not multi or c not in {o.name for o in self.objectives}]
        for i, done in enumerate(finished):
            t = done.trial
            eligible = t.full and bool(feasible[i])
            if eligible and (self.best is None or self.sign * t.value > self.sign * self.best.value):
                self.best = t
            if multi and eligible:
                self.front.append(t)
            self.cum_cost += t.cost_s
            best = self.best
            row = {
                "step": len(self.rows) + 1,
                "batch": batch,
                "source": source,
                "arch": t.arch.to_string(),
                "canonical_key": t.key,
                "fidelity": t.fidelity,
                "value": t.value,
                "best_so_far": None if best is None else best.value,
                "best_arch": None if best is None else best.arch.to_string(),
                "test_value": t.test_value,
                "test_of_best": None if best is None else best.test_value,
                "regret": None if self.optimum is None or best is None else self.sign * (self.optimum - best.value),
                "cost_s": t.cost_s,
                "cum_cost_s": self.cum_cost,
                "status": t.status,
                "feasible": bool(feasible[i]),
                "worker": done.worker,
                "sim_time_s": done.sim_time_s,
                **{o.name: t.objectives.get(o.name) for o in self.objectives if multi},
                **{c: t.objectives.get(c) for c in shown},
            }
            if multi:
                row["hypervolume"] = hypervolume(objective_matrix(self.front, self.objectives), self.ref_point)
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
    trace_ref_point: Sequence[float] | None = None,
    backend: Backend | None = None,
    max_cost_s: float | None = None,
    constraints: Sequence[Constraint] | ConstraintSet = (),
    on_activity: Callable[[str], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
    replay: Sequence[Trial] = (),
) -> SearchTrace:
    """Run a search until ``budget`` evaluations, ``max_cost_s`` of evaluation cost or ``wall_clock_s`` seconds.

    Args:
        strategy: a :class:`~.strategies.Strategy`, or a registered name (built for
            ``evaluator.space`` with ``seed`` and ``objectives``).
        evaluator: turns suggestions into observations.
        budget: total evaluations, ``initial`` trials included.
        wall_clock_s: stop asking for new suggestions after this many real seconds.
        batch_size: suggestions asked for and evaluated per step (synchronous batches;
            ignored when ``backend`` is given).
        seed: seed of a strategy given by name.
        objectives: e.g. ``["cifar10_valid_acc_200ep", "params_mb_cifar10:min"]``; the
            first is the searched target (default: the evaluator's target and direction).
            With two or more the trace gets a ``hypervolume`` column.
        initial: trials already done (or ``(arch, value[, objectives])`` tuples) told to
            the strategy before any new suggestion; resuming a search passes its own
            finished trials here.
        callback: called with a :class:`StepInfo` after each step; returning ``True``
            stops the search.
        optimum: best attainable value, for the ``regret`` column; defaults to the
            evaluator's declared optimum (under the constraints, when there are any).
        ref_point: hypervolume reference point in the "maximise everything" space, for the
            trace's ``hypervolume`` column and the strategy; by default the column's is fixed from
            the first evaluated trials (see :func:`.pareto.reference_point`) and a strategy infers its
            own from everything it has evaluated so far.
        trace_ref_point: the reference point of the ``hypervolume`` column alone, when it differs
            from ``ref_point`` (a resumed search passes the one it stored, which its strategy never saw).
        backend: how evaluations run (see :mod:`.backends`); synchronous batches of
            ``batch_size`` on ``evaluator`` by default.
        max_cost_s: stop asking for new suggestions once the evaluations have cost this
            many seconds (simulated on tables, training time on live runs); those running
            still finish.
        constraints: bounds on reported quantities (:class:`.constraints.Constraint`); a
            strategy given by name skips what the evaluator knows to break them without
            evaluating (:meth:`.evaluators.Evaluator.known`). A strategy object must have
            been built with the same constraints (see :func:`.strategies.make_strategy`).
        on_activity: called with a line saying what the strategy is doing while a step is
            under way (fitting, screening, choosing), for a progress bar.
        on_notice: called with a line worth keeping: a step that took noticeably longer
            than the one before (:data:`SLOW_STEP_FACTOR`), and what it did; a resumed search
            that stopped following its stored trials.
        replay: the search's own stored trials, in the order they were evaluated: the search
            runs again from its first step and the strategy is expected to suggest them again
            (see the module docstring); they count towards the budget.

    Returns:
        The :class:`SearchTrace`.

    Raises:
        InputDataError: on bad names, budgets, objectives or initial trials.
    """
    _check_stopping(budget, wall_clock_s, batch_size, max_cost_s)
    objs = parse_objectives(objectives) if objectives else (Objective(evaluator.target, evaluator.maximize),)
    evaluator.check_objectives(objs)
    cset = constraints if isinstance(constraints, ConstraintSet) else ConstraintSet(tuple(constraints),
                                                                                       evaluator.known())
    evaluator.check_objectives(cset.names, what="constrained quantity")
    if isinstance(strategy, str):
        strategy = make_strategy(strategy, evaluator.space, objectives=objs, seed=seed, constraints=cset)
    if strategy.space.name != evaluator.space.name:
        raise InputDataError(f"the strategy searches {strategy.space.name}, the evaluator {evaluator.space.name}")
    if [o.maximize for o in strategy.objectives] != [o.maximize for o in objs]:
        # A strategy built without objectives maximises; on a minimised target it would climb the wrong way.
        raise InputDataError(f"the strategy {_directions(strategy.objectives)}, the search "
                             f"{_directions(objs)}: build the strategy with the search's objectives "
                             f"({', '.join(map(str, objs))})")
    strategy.use_fidelities(evaluator.fidelities)
    strategy.use_known(evaluator.exact())
    setup_s, setup_cpu_s = time.perf_counter(), time.process_time()
    strategy.prepare()
    setup_s, setup_cpu_s = time.perf_counter() - setup_s, time.process_time() - setup_cpu_s
    ref_point, trace_ref_point = (None if p is None or len(objs) < 2 else _checked_point(p, len(objs))
                                  for p in (ref_point, trace_ref_point))
    if optimum is None:
        optimum = evaluator.optimum_under(cset) if cset else evaluator.optimum
    backend = backend or BatchBackend(evaluator, batch_size)

    history: list[Trial] = as_history(initial, evaluator.space)
    if len({(t.key, t.fidelity) for t in history}) != len(history):
        raise InputDataError("initial history repeats an architecture (same canonical key and fidelity)")
    trace = _TraceBuilder(objs, ref_point if trace_ref_point is None else trace_ref_point, optimum, cset)
    if history:
        if len(objs) > 1:
            objective_matrix(history, objs)  # every initial trial must report every objective
        trace.add([Finished(t) for t in history], 0, "initial")
        strategy.tell(tuple(history))
    _share_reference_point(strategy, ref_point)
    strategy.progress = on_activity
    stored = {(t.key, t.fidelity): t for t in as_history(replay, evaluator.space)}
    diverged_at: int | None = None
    # Suggestions a replay makes that were never stored: those running when the search was
    # killed, at most ``backend.out_of_order`` of them before every stored one is re-suggested.
    unstored = 0

    start, step, last_suggest_s = time.perf_counter(), 0, None
    timings: list[dict] = []
    stop_reason = "budget"
    while True:
        open_slots = budget is None or len(history) + backend.running < budget
        in_time = wall_clock_s is None or time.perf_counter() - start < wall_clock_s
        in_cost = max_cost_s is None or trace.cum_cost < max_cost_s
        suggest_s = suggest_cpu_s = 0.0
        if open_slots and in_time and in_cost and backend.free > 0:
            n = backend.free if budget is None else min(backend.free, budget - len(history) - backend.running)
            t0, c0 = time.perf_counter(), time.process_time()
            pending = backend.pending()
            suggestions = strategy.suggest(n, pending)
            suggest_s, suggest_cpu_s = time.perf_counter() - t0, time.process_time() - c0
            asked = {(s.key, s.fidelity) for s in suggestions}
            if stored:
                unstored += len(asked - stored.keys())
            if stored and not asked <= stored.keys() and not stored.keys() <= asked \
                    and unstored > backend.out_of_order:
                diverged_at = len(history) + len(pending) + 1
                told = tuple(stored.values())
                stored.clear()
                history.extend(told)
                strategy.tell(told)
                step += 1
                trace.add([Finished(t) for t in told], step, "resumed")
                if on_notice is not None:
                    on_notice(f"the resumed search suggested something it never stored at evaluation {diverged_at} "
                              f"(another torch build or BLAS, or a changed --step-seconds); its other {len(told)} "
                              "stored evaluations were told to the strategy as they are")
                continue
            for s in suggestions:
                stored.pop((s.key, s.fidelity), None)
            if on_notice is not None and _slower(suggest_s, last_suggest_s):
                what = f": {strategy.last_activity}" if strategy.last_activity else ""
                on_notice(f"step {step + 1}: choosing took {suggest_s:.1f} s (the step before {last_suggest_s:.1f} s)"
                          f"{what}")
            last_suggest_s = suggest_s
            for s in suggestions:
                backend.submit(s)
            if not suggestions and backend.running == 0:
                stop_reason = "exhausted"
        elif not in_time:
            stop_reason = "wall_clock"
        elif not in_cost:
            stop_reason = "max_cost"
        if backend.running == 0:
            break
        finished = backend.wait()
        trials = tuple(f.trial for f in finished)
        history.extend(trials)
        if len(objs) > 1:
            objective_matrix(trials, objs)
        strategy.tell(trials)
        step += 1
        timing = {"batch": step, "fit_s": 0.0, "screen_s": 0.0, "acq_s": 0.0, **strategy.last_timing,
                  "suggest_s": suggest_s, "suggest_cpu_s": suggest_cpu_s}
        timings.append(timing)
        rows = trace.add(finished, step, "search")
        info = StepInfo(step, trials, tuple(history), rows, trace.ref_point, backend.running, timing)
        if callback is not None and callback(info):
            backend.cancel()
            stop_reason = "callback"
            break
    if stored:  # stored beyond this run's budget: still the search's trials
        told = tuple(stored.values())
        history.extend(told)
        trace.add([Finished(t) for t in told], step + 1, "resumed")
    return SearchTrace(trace.frame(), tuple(history), objs, trace.ref_point, strategy.name, cset,
                       pd.DataFrame(timings, columns=TIMING_COLUMNS), stop_reason, diverged_at, setup_s, setup_cpu_s)


STOP_REASONS = {
    "budget": "the budget of evaluations was reached",
    "max_cost": "the cost limit (--max-cost) was reached",
    "wall_clock": "the wall-clock limit (--wall-clock) was reached",
    "exhausted": "every candidate has been evaluated",
    "callback": "a step callback asked to stop",
}
"""Why a search ends, by :attr:`SearchTrace.stop_reason`."""
TIMING_COLUMNS = ["batch", "fit_s", "screen_s", "acq_s", "suggest_s", "suggest_cpu_s"]


SLOW_STEP_FACTOR = 2.0
"""A step is noticeably slower than the one before when it takes this many times as long (and over a second)."""


def _slower(seconds: float, before: float | None) -> bool:
    return before is not None and seconds > 1.0 and seconds > SLOW_STEP_FACTOR * before


def _directions(objectives: Sequence[Objective]) -> str:
    return " and ".join(("maximises " if o.maximize else "minimises ") + o.name for o in objectives)


def _checked_point(point, m: int) -> np.ndarray:
    point = np.asarray(point, dtype=np.float64)
    if point.shape != (m,):
        raise InputDataError(f"ref_point needs {m} values, one per objective, got {point.tolist()}")
    return point


def _share_reference_point(strategy: Strategy, ref_point) -> None:
    if ref_point is not None and getattr(strategy, "ref_point", ()) is None:
        strategy.ref_point = ref_point
