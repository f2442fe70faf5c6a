"""The contracts of strategies, executors and evaluators (public as :mod:`surrogate_nas.testing`).

See :mod:`surrogate_nas.testing` for how to use them; these need the search machinery.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.testing import expect, expect_raises

FIDELITY_LEVELS = (1 / 9, 1 / 3, 1.0)
"""Fidelities offered to multi-fidelity strategies by :func:`check_strategy`."""


def synthetic_value(arch, salt: str = "") -> float:
    """A value that depends on the architecture only (its canonical key), in [0, 100)."""
    digest = hashlib.sha1((salt + arch.canonical_key).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def _trials(archs, fidelity: float = 1.0):
    from surrogate_nas.pipelines.search.history import Trial

    out = []
    for a in archs:
        value = synthetic_value(a)
        out.append(Trial(a, value, {"value": value, "other": synthetic_value(a, "other")}, fidelity=fidelity))
    return out


# -- strategies --------------------------------------------------------------------------------
def check_strategy(strategy, space, seed: int = 0, rounds: int = 2, **options) -> None:
    """Run the ask/tell contract on a strategy for ``space``.

    Args:
        strategy: what builds it: a :class:`~surrogate_nas.pipelines.search.Strategy` subclass, a
            function called like one (``(space, objectives, seed, **options)``), a
            :class:`~surrogate_nas.pipelines.search.strategies.StrategySpec` or a name.
        space: the search space.
        seed: the strategy's seed.
        rounds: suggest-and-tell rounds.
        **options: keyword arguments of the strategy (e.g. small budgets for a fast check).

    Rules: it is a Strategy of ``space`` with the capabilities it declares (``multi_objective``:
    it takes two objectives, else it refuses them with InputDataError; ``multi_fidelity``: it stays
    on the fidelities offered, else it evaluates in full); every step (:meth:`Strategy.suggest`,
    what the search loop calls) returns the requested number of distinct members of the space,
    never one evaluated or pending, in the space's text form; two strategies with the same seed,
    told the same history, suggest the same; a step leaves torch's global random state as it was.

    Raises:
        AssertionError: naming the strategy and the first broken rule.
    """
    import torch

    from surrogate_nas.pipelines.search.history import Suggestion
    from surrogate_nas.pipelines.search.strategies import Strategy, resolve_strategy, strategy_label

    spec = resolve_strategy(strategy)
    who = f"strategy {strategy_label(strategy)} on {space.name}"
    need = 11 + 4 * rounds
    expect(space.size() is None or space.size() >= need, "check_strategy",
           f"needs a space of at least {need} architectures (8 told, 3 pending, 4 per round); {space.name} has "
           f"{space.size()}")
    objectives = ["value", "other:min"] if spec.multi_objective else ["value"]
    a = spec.build(space, objectives, seed, **options)
    expect(isinstance(a, Strategy), who, "a strategy is a surrogate_nas.pipelines.search.Strategy")
    expect(a.space.name == space.name, who, "the strategy searches the space it was built for")
    expect(not a.history and a.seed == seed, who, "a new strategy has its seed and an empty history")
    if not spec.multi_objective:
        expect_raises(InputDataError, lambda: spec.build(space, ["value", "other:min"], seed, **options), who,
                      "a single-objective strategy (multi_objective = False) refuses two objectives")
    levels = FIDELITY_LEVELS if spec.multi_fidelity else (1.0,)
    b = spec.build(space, objectives, seed, **options)
    rng = np.random.default_rng(seed + 1)
    history = _trials(space.sample_unseen(8, rng), levels[0])
    pending = [Suggestion(x, levels[0]) for x in space.sample_unseen(3, rng, {t.key for t in history})]
    for s in (a, b):
        if spec.multi_fidelity:
            s.use_fidelities(FIDELITY_LEVELS)
        if spec.multi_objective:
            s.ref_point = np.array([0.0, -100.0])
        s.tell(history)
    for step in range(rounds):
        state = torch.get_rng_state()
        suggestions = a.suggest(4, pending)
        expect(torch.equal(state, torch.get_rng_state()), who, "suggest leaves torch's global random state as it was")
        done = {(t.key, t.fidelity) for t in a.history} | {(p.key, p.fidelity) for p in pending}
        asked = [(x.key, x.fidelity) for x in suggestions]
        expect(len(suggestions) == 4, who, f"suggest(4, pending) returns 4 suggestions (step {step + 1})")
        expect(len(set(asked)) == 4, who, "suggestions of one step are distinct (canonical key and fidelity)")
        expect(not set(asked) & done, who, "suggestions are never evaluated or pending already")
        expect(all(isinstance(x, Suggestion) and space.is_member(x.arch) for x in suggestions), who,
               "suggestions are Suggestion values of members of the space")
        expect(all(x.fidelity in levels for x in suggestions), who,
               "a multi-fidelity strategy stays on the offered fidelities" if spec.multi_fidelity
               else "a single-fidelity strategy evaluates in full (fidelity 1)")
        expect(all(space.parse(x.arch.to_string()).canonical_key == x.key for x in suggestions), who,
               "suggested architectures read back from their text form with the same key")
        if step == 0:
            twin = b.suggest(4, pending)
            expect([(x.key, x.fidelity) for x in twin] == asked, who,
                   "two strategies with the same seed and history suggest the same (suggest seeds each step)")
        for x in suggestions:
            a.tell(_trials([x.arch], x.fidelity))
    expect(len(a.history) == len(history) + 4 * rounds, who, "tell appends finished trials to history")


# -- executors -------------------------------------------------------------------------------
def default_job(arch_index: int = 0, epochs: int = 1):
    """A small training job: a cell of the default space (C=4, N=1) on the default dataset for one epoch,
    one thread."""
    from surrogate_nas.datasets import DEFAULT_DATASET, DatasetSpec
    from surrogate_nas.records import NetworkConfig, TrainConfig
    from surrogate_nas.spaces import DEFAULT_SPACE, get_space
    from surrogate_nas.pipelines.execution.jobs import TrainingJob

    arch = get_space(DEFAULT_SPACE).enumerate()[1000 + 37 * arch_index]
    return TrainingJob(DEFAULT_SPACE, arch.to_string(), NetworkConfig(4, 1), TrainConfig(epochs=epochs),
                       DatasetSpec(DEFAULT_DATASET), seed=0, device="cpu", threads=1)


def check_executor(executor, jobs: Sequence | None = None, timeout_s: float = 600.0) -> None:
    """Run the executor contract on ``executor`` (an :class:`~surrogate_nas.pipelines.execution.executors.Executor`).

    It is left open (close it yourself). Rules: ``slots`` is a whole number >= 1; nothing runs
    before a submit and ``wait`` then returns ``[]`` at once; ``submit`` returns a distinct
    ticket per job, up to ``slots`` jobs at once, each counted in ``running``; ``wait`` returns
    :class:`~surrogate_nas.pipelines.execution.executors.Completion` values of submitted tickets,
    each job exactly once, with the result of the job (the architecture it was given, trained
    as :func:`~surrogate_nas.pipelines.execution.jobs.run_training_job` trains it in this
    process) or why its worker died; ``running`` is 0 when all came back.

    Args:
        executor: the executor.
        jobs: training jobs to run (default: ``slots`` small ones, see :func:`default_job`).
        timeout_s: how long to wait for them.

    Raises:
        AssertionError: naming the executor and the first broken rule.
    """
    import time

    from surrogate_nas.records import Status, TrainResult
    from surrogate_nas.pipelines.execution.executors import Completion
    from surrogate_nas.pipelines.execution.jobs import run_training_job

    who = f"executor {type(executor).__name__}"
    for attribute in ("submit", "wait", "close"):
        expect(callable(getattr(executor, attribute, None)), who, f"an executor has a {attribute} method")
    slots = executor.slots
    expect(isinstance(slots, int) and slots >= 1, who, "slots is a whole number >= 1")
    expect(executor.running == 0, who, "nothing runs before a submit")
    expect(executor.wait(timeout=0.1) == [], who, "wait() with nothing running returns [] at once")
    jobs = list(jobs) if jobs is not None else [default_job(i) for i in range(min(slots, 2))]
    expect(0 < len(jobs) <= slots, "check_executor", f"give between 1 and slots ({slots}) jobs")
    tickets = {}
    for job in jobs:
        ticket = executor.submit(job)
        expect(ticket not in tickets, who, "submit returns a distinct ticket per job")
        tickets[ticket] = job
    expect(executor.running == len(jobs), who, "running counts the submitted jobs not yet returned")
    back: list = []
    deadline = time.monotonic() + timeout_s
    while len(back) < len(jobs) and time.monotonic() < deadline:
        done = executor.wait(timeout=min(30.0, max(deadline - time.monotonic(), 0.1)))
        expect(isinstance(done, list) and all(isinstance(c, Completion) for c in done), who,
               "wait returns a list of Completion values")
        back += done
    expect(len(back) == len(jobs), who, f"every submitted job comes back within {timeout_s:.0f}s")
    expect(sorted(c.ticket for c in back) == sorted(tickets), who, "each submitted ticket comes back exactly once")
    expect(executor.running == 0, who, "running is 0 once every job came back")
    for completion in back:
        job = tickets[completion.ticket]
        expect(completion.result is not None or completion.error, who,
               "a completion holds the result or why its worker died")
        if completion.result is None:
            continue
        result = completion.result
        expect(isinstance(result, TrainResult) and result.arch == job.arch, who,
               "a completion's result is the TrainResult of the job's architecture")
        expect(result.status is Status.OK, who, f"the job trained ({result.status.value}: {result.message})")
    reference = run_training_job(tickets[back[0].ticket])
    got = back[0].result
    if got is not None:
        expect(np.isclose(got.valid_acc, reference.valid_acc) and got.params == reference.params, who,
               "a job gives the result run_training_job gives in this process (same accuracy and size)")


# -- evaluators ------------------------------------------------------------------------------
def check_evaluator(evaluator, n: int = 4, seed: int = 0, suggestions: Sequence | None = None) -> None:
    """Run the evaluator contract on ``evaluator`` (an :class:`~surrogate_nas.pipelines.search.Evaluator`).

    Rules: it names its space, target and direction; ``reported()`` includes the target;
    ``evaluate`` returns one :class:`~surrogate_nas.pipelines.search.Observation` per suggestion,
    in order, reporting every ``reported()`` quantity, ``value`` being the target; the quantities
    ``known()`` without evaluating give one value per architecture and, when reported, agree with
    the observations; fidelities
    increase within (0, 1]; an unknown objective is InputDataError; ``optimum`` is None or a number.

    Args:
        suggestions: what to evaluate (default: ``n`` architectures of the evaluator's own, for a
            table: its first rows; otherwise sampled from the space).

    Raises:
        AssertionError: naming the evaluator and the first broken rule.
    """
    from surrogate_nas.spaces import SearchSpace
    from surrogate_nas.pipelines.search.evaluators import Evaluator, Observation
    from surrogate_nas.pipelines.search.history import Suggestion

    who = f"evaluator {type(evaluator).__name__}"
    expect(isinstance(evaluator, Evaluator), who, "an evaluator is a surrogate_nas.pipelines.search.Evaluator")
    expect(isinstance(evaluator.space, SearchSpace), who, "an evaluator names its search space")
    reported = tuple(evaluator.reported())
    expect(evaluator.target in reported, who, "reported() includes the target")
    expect(isinstance(evaluator.maximize, bool), who, "maximize is a bool")
    if suggestions is None:
        table = getattr(evaluator, "table", None)
        archs = table.architectures()[:n] if table is not None else evaluator.space.sample_unseen(
            n, np.random.default_rng(seed))
        suggestions = [Suggestion(a) for a in archs]
    observations = evaluator.evaluate(list(suggestions))
    expect(len(observations) == len(suggestions) and all(isinstance(o, Observation) for o in observations), who,
           "evaluate returns one Observation per suggestion")
    for s, o in zip(suggestions, observations):
        expect(set(reported) <= set(o.objectives), who, f"an observation reports every reported() quantity "
                                                        f"({', '.join(reported)})")
        if o.status == "ok":
            expect(o.value == o.objectives[evaluator.target] and np.isfinite(o.value), who,
                   "an observation's value is its finite target")
        expect(o.cost_s >= 0, who, "an evaluation's cost is >= 0 seconds")
    known = evaluator.known()
    archs = [s.arch for s in suggestions]
    for name, compute in known.items():
        values = np.asarray(compute(archs), dtype=np.float64)
        expect(values.shape == (len(archs),), who, f"known()[{name!r}] gives one value per architecture")
        if name in reported:
            seen = np.array([o.objectives[name] for o in observations], dtype=np.float64)
            expect(np.allclose(values, seen, equal_nan=True), who,
                   f"known()[{name!r}] agrees with what evaluate reports")
    levels = tuple(evaluator.fidelities)
    expect(all(0 < f <= 1 for f in levels) and list(levels) == sorted(set(levels)), who,
           "fidelities increase within (0, 1]")
    expect_raises(InputDataError, lambda: evaluator.check_objectives(["no-such-quantity"]), who,
                  "check_objectives refuses a quantity it does not report")
    optimum = evaluator.optimum
    expect(optimum is None or np.isfinite(float(optimum)), who, "optimum is None or a number")


__all__ = ["FIDELITY_LEVELS", "check_evaluator", "check_executor", "check_strategy", "default_job",
           "synthetic_value"]
