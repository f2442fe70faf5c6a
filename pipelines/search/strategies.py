"""Search strategies behind one ask/tell interface, and the baselines.

A strategy answers ``suggest(k, history, pending)`` with up to ``k`` cells
whose canonical keys are neither evaluated nor pending (Optuna's samplers,
``samplers/_base.py``). Random search, regularized evolution and local search
live here; Bayesian optimisation is in :mod:`.bayesopt` and is imported only
when asked for.

The space is NAS-Bench-201's 6,466 canonical cells (one per function); cells
that are isomorphic twins are never both suggested.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from surrogate_nas.cell import Cell, canonical_cells
from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.history import History, Objective, evaluated_keys, parse_objectives


class Strategy(ABC):
    """Base class: ``suggest`` proposes new cells; ``observe`` hears results (optional).

    Args:
        seed: seed of the strategy's own random generator.
    """

    name = "strategy"
    multi_objective = False

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    @abstractmethod
    def suggest(self, k: int, history: History, pending: Sequence[Cell] = ()) -> list[Cell]:
        """Up to ``k`` new cells, none evaluated or pending (by canonical key)."""

    def observe(self, trials: History) -> None:
        """Hear newly evaluated trials. Stateless strategies read the history instead."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed})"


def excluded_keys(history: History, pending: Sequence[Cell]) -> set[str]:
    """Keys a strategy must not suggest: evaluated or pending."""
    return evaluated_keys(history) | {c.canonical_key for c in pending}


def sample_unseen(k: int, excluded: set[str], rng: np.random.Generator) -> list[Cell]:
    """Up to ``k`` distinct canonical cells, uniformly at random, avoiding ``excluded``."""
    space = canonical_cells()
    out: list[Cell] = []
    taken = set(excluded)
    for _ in range(20 * k):
        if len(out) == k:
            return out
        cell = space[int(rng.integers(len(space)))]
        if cell.canonical_key not in taken:
            taken.add(cell.canonical_key)
            out.append(cell)
    rest = [c for c in space if c.canonical_key not in taken]
    picks = rng.permutation(len(rest))[: k - len(out)]
    return out + [rest[i] for i in picks]


class RandomSearch(Strategy):
    """Uniform sampling over canonical cells, without repeats."""

    name = "rs"
    multi_objective = True

    def suggest(self, k, history, pending=()):
        return sample_unseen(k, excluded_keys(history, pending), self.rng)


class RegularizedEvolution(Strategy):
    """Regularized (aging) evolution, Real et al. 2019.

    The population is the ``population_size`` most recent trials, so the
    strategy is a pure function of the history and resumes exactly. Each child
    mutates one edge of the best of ``sample_size`` random population members.

    Args:
        population_size: trials kept alive; the first this many are random.
        sample_size: tournament size.
        seed: random seed.
    """

    name = "rea"

    def __init__(self, population_size: int = 10, sample_size: int = 5, seed: int = 0) -> None:
        super().__init__(seed)
        if not 1 <= sample_size <= population_size:
            raise InputDataError(
                f"rea needs 1 <= sample_size <= population_size, got {sample_size} and {population_size}"
            )
        self.population_size = population_size
        self.sample_size = sample_size

    def suggest(self, k, history, pending=()):
        taken = excluded_keys(history, pending)
        n_random = max(0, self.population_size - len(history) - len(pending))
        out = sample_unseen(min(k, n_random), taken, self.rng)
        taken |= {c.canonical_key for c in out}
        population = list(history)[-self.population_size :]
        while len(out) < k and population:
            idx = self.rng.choice(len(population), size=min(self.sample_size, len(population)), replace=False)
            parent = max((population[i] for i in idx), key=lambda t: t.value)
            child = self._mutate(parent.cell, taken)
            taken.add(child.canonical_key)
            out.append(child)
        return out

    def _mutate(self, cell: Cell, taken: set[str]) -> Cell:
        options = cell.neighbours()
        for i in self.rng.permutation(len(options)):
            if options[i].canonical_key not in taken:
                return options[i]
        return sample_unseen(1, taken, self.rng)[0]


class LocalSearch(Strategy):
    """Best-improvement local search with random restarts (White et al. 2021).

    Starting from the best cell seen (random if none), evaluate all one-edge
    neighbours in random order, move to the best if it improves, otherwise
    restart at a random cell. While a decision waits on pending neighbours,
    free batch slots are filled with random cells.
    """

    name = "ls"

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self._center: Cell | None = None
        self._queue: list[Cell] = []

    def _set_center(self, cell: Cell) -> None:
        self._center = cell
        seen: set[str] = {cell.canonical_key}
        queue = []
        for i in self.rng.permutation(24):
            n = cell.neighbours()[i]
            if n.canonical_key not in seen:
                seen.add(n.canonical_key)
                queue.append(n)
        self._queue = queue

    def suggest(self, k, history, pending=()):
        values = {t.key: t.value for t in history}
        taken = excluded_keys(history, pending)
        out: list[Cell] = []
        if self._center is None and history:
            self._set_center(max(history, key=lambda t: t.value).cell)
        while len(out) < k:
            if self._center is None:
                fresh = sample_unseen(1, taken, self.rng)
                if not fresh:
                    break
                start = fresh[0]
                self._set_center(start)
                taken.add(start.canonical_key)
                out.append(start)
                continue
            if self._queue:
                cell = self._queue.pop(0)
                if cell.canonical_key not in taken:
                    taken.add(cell.canonical_key)
                    out.append(cell)
                continue
            move = self._decide(values)
            if move is False:
                out += sample_unseen(k - len(out), taken, self.rng)
                break
            if move is None:
                self._center = None
            else:
                self._set_center(move)
        return out

    def _decide(self, values: dict[str, float]):
        """Next centre (a cell), ``None`` to restart, or ``False`` while results are pending."""
        keys = [self._center.canonical_key] + [n.canonical_key for n in self._center.neighbours()]
        if any(key not in values for key in keys):
            return False
        best = max(self._center.neighbours(), key=lambda n: values[n.canonical_key])
        return best if values[best.canonical_key] > values[keys[0]] else None


STRATEGIES = ("rs", "rea", "ls", "bo", "bo-gp", "bo-xgb")
"""Names accepted by :func:`make_strategy`."""


def make_strategy(name: str, seed: int = 0, objectives=None, **options) -> Strategy:
    """Build a strategy by name: ``rs``, ``rea``, ``ls``, ``bo`` (= ``bo-gp``), ``bo-xgb``.

    Args:
        name: strategy name.
        seed: random seed.
        objectives: objectives to optimise (see :func:`.history.parse_objectives`);
            more than one makes the search multi-objective (``rs`` and ``bo`` only).
        **options: keyword arguments of the strategy class.

    Raises:
        InputDataError: on an unknown name or an unsupported objective count.
    """
    key = str(name).strip().lower()
    if key not in STRATEGIES:
        raise InputDataError(f"unknown search strategy {name!r}; expected one of {', '.join(STRATEGIES)}")
    objs: tuple[Objective, ...] = parse_objectives(objectives) if objectives else ()
    if key.startswith("bo"):
        from surrogate_nas.pipelines.search.bayesopt import BayesianOptimization

        surrogate = key.partition("-")[2] or options.pop("surrogate", "gp")
        return BayesianOptimization(surrogate=surrogate, objectives=objs or None, seed=seed, **options)
    cls = {"rs": RandomSearch, "rea": RegularizedEvolution, "ls": LocalSearch}[key]
    if len(objs) > 1 and not cls.multi_objective:
        raise InputDataError(f"strategy {key!r} is single-objective; use 'rs' or 'bo' for {len(objs)} objectives")
    return cls(seed=seed, **options)
