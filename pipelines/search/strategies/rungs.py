"""Asynchronous successive halving: the rung logic shared by the multi-fidelity strategies.

A multi-fidelity strategy evaluates a new architecture at a low fidelity (its *bracket*'s
first rung) and promotes the best to the next rung. Promotions follow ASHA (Li et al.
2020): whenever a worker is free, an architecture is promoted from rung ``k`` to ``k + 1``
as soon as it is in the top ``1/eta`` of the results finished at rung ``k`` in its bracket,
scanning from the highest rung down; only when nothing is promotable does a new
architecture start. A promotion resumes the earlier evaluation (``resume_from``), so a
candidate's total cost is that of its highest rung. With one bracket this is successive
halving; with every bracket (new architectures start at rung ``b`` with Hyperband's
weights) it is asynchronous Hyperband (Li et al. 2018).

Which new architecture starts is the strategy's business (:meth:`RungScheduling.new`):
random for ``sh``/``hb``, the BO surrogate for ``mf-bo``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.history import FULL_FIDELITY, Suggestion
from surrogate_nas.pipelines.search.strategies.base import Strategy

MAX_LISTED_RUNGS = 5
"""An evaluator offering at most this many fidelities (a table's columns) has every one as a rung."""

_TOL = 1e-9


def choose_rungs(levels: Sequence[float], eta: float, min_fidelity: float = 0.0) -> tuple[float, ...]:
    """The rungs for the fidelities an evaluator offers.

    A few offered levels (a table's fidelity columns) are all rungs. Many (a live training
    can stop after any epoch) give the geometric ladder 1, 1/eta, 1/eta^2, ..., each step
    snapped down to the highest offered level not above it, while one is at least
    ``min_fidelity`` and the lowest offered level.

    Raises:
        InputDataError: no levels, no full fidelity among them, or ``eta`` <= 1.
    """
    offered = sorted({float(x) for x in levels if float(x) >= min_fidelity - _TOL})
    if not offered or abs(offered[-1] - FULL_FIDELITY) > _TOL:
        raise InputDataError(f"multi-fidelity search needs the full fidelity among the levels, got {list(levels)}")
    if not eta > 1:
        raise InputDataError(f"eta must be > 1, got {eta}")
    if len(offered) <= MAX_LISTED_RUNGS:
        return tuple(offered)
    rungs = [FULL_FIDELITY]
    step = FULL_FIDELITY
    while True:
        step /= eta
        below = [x for x in offered if x <= step + _TOL]
        if not below:
            break
        if below[-1] < rungs[-1] - _TOL:
            rungs.append(below[-1])
    return tuple(sorted(rungs))


def bracket_weights(rungs: int, eta: float, brackets: int) -> np.ndarray:
    """Probabilities of starting a new architecture in brackets ``0 .. brackets-1``.

    Bracket ``b`` starts at rung ``b``; Hyperband gives it ``ceil((K+1)/(K-b+1) * eta^(K-b))``
    architectures for ``K + 1`` rungs, so the weights are proportional to those counts.
    """
    top = rungs - 1
    n = np.array([math.ceil((top + 1) / (top - b + 1) * eta ** (top - b)) for b in range(brackets)], dtype=float)
    return n / n.sum()


class RungScheduling(Strategy):
    """Successive-halving promotions over rungs; subclasses choose the new architectures.

    Args:
        eta: promote the top ``1/eta`` of a rung.
        brackets: ``1`` (every new architecture starts at the lowest rung: successive
            halving) up to the number of rungs (Hyperband).
        rungs: explicit rungs (fractions of the full budget); by default they are
            chosen from the evaluator's fidelities (see :func:`choose_rungs`).
        min_fidelity: the lowest fidelity worth a rung (live searches: e.g. 2/27).
    """

    multi_fidelity = True
    search_options = ("eta",)

    def __init__(self, space, objectives=None, seed: int = 0, eta: float = 3.0, brackets: int | None = 1,
                 rungs: Sequence[float] | None = None, min_fidelity: float = 0.0, **options) -> None:
        super().__init__(space, objectives, seed, **options)
        if not float(eta) > 1:
            raise InputDataError(f"eta must be > 1, got {eta}")
        if brackets is not None and int(brackets) < 1:
            raise InputDataError(f"brackets must be >= 1, got {brackets}")
        self.eta, self.min_fidelity = float(eta), float(min_fidelity)
        self.brackets = None if brackets is None else int(brackets)
        self.rungs: tuple[float, ...] = ()
        if rungs is not None:
            self.use_fidelities(rungs)

    def use_fidelities(self, levels: Sequence[float]) -> None:
        if not levels:
            raise InputDataError(
                f"strategy {self.name!r} needs an evaluator with several fidelities: a table with fidelity "
                "columns (the NB-201 tables, or --fidelity-columns) or a live search (--epochs)"
            )
        if self.rungs and set(self.rungs) <= {float(x) for x in levels}:
            return
        self.rungs = choose_rungs(levels, self.eta, self.min_fidelity)
        if len(self.rungs) < 2:
            raise InputDataError(f"strategy {self.name!r} needs at least two fidelities, got {list(levels)}")

    @property
    def n_brackets(self) -> int:
        return len(self.rungs) if self.brackets is None else min(self.brackets, len(self.rungs))

    def rung_of(self, fidelity: float) -> int | None:
        for k, r in enumerate(self.rungs):
            if abs(r - fidelity) <= _TOL:
                return k
        return None

    # -- ask -------------------------------------------------------------------------------
    def ask(self, n, pending=()):
        if not self.rungs:
            self.use_fidelities(())
        out: list[Suggestion] = []
        while len(out) < n:
            promoted = self.promotion(list(pending) + out)
            if promoted is None:
                break
            out.append(promoted)
        m = n - len(out)
        if m:
            starts = self.rng.choice(self.n_brackets, size=m, p=bracket_weights(len(self.rungs), self.eta,
                                                                                 self.n_brackets))
            new = self.new(m, list(pending) + out)
            out += [Suggestion(s.arch, self.rungs[int(b)]) for s, b in zip(new, starts)]
        return out

    def new(self, n: int, pending: Sequence[Suggestion]) -> list[Suggestion]:
        """Up to ``n`` architectures never evaluated nor pending at any fidelity (random here)."""
        return self.fresh(n, self.taken_keys(pending))

    def promotion(self, pending: Sequence[Suggestion]) -> Suggestion | None:
        """The next promotion, or None: the best unpromoted top-``1/eta`` result, highest rung first."""
        start: dict[str, int] = {}
        reached: dict[str, int] = {}
        results: dict[int, list] = {}
        for fidelity, key, trial in [(t.fidelity, t.key, t) for t in self.history] + \
                [(s.fidelity, s.key, None) for s in pending]:
            k = self.rung_of(fidelity)
            if k is None:
                continue
            start[key] = min(start.get(key, k), k)
            reached[key] = max(reached.get(key, k), k)
            if trial is not None:
                results.setdefault(k, []).append(trial)
        for k in range(len(self.rungs) - 2, -1, -1):
            done = results.get(k, [])
            by_bracket: dict[int, list] = {}
            for t in done:
                by_bracket.setdefault(start[t.key], []).append(t)
            for group in by_bracket.values():
                top = sorted(group, key=self.score, reverse=True)[: int(len(group) // self.eta)]
                for t in top:
                    if reached[t.key] == k:
                        return Suggestion(t.arch, self.rungs[k + 1], resume_from=self.rungs[k])
        return None


class SuccessiveHalving(RungScheduling):
    """Asynchronous successive halving with random new architectures (ASHA)."""

    name = "sh"


class Hyperband(RungScheduling):
    """Asynchronous Hyperband: random new architectures in every bracket, Hyperband's weights."""

    name = "hb"

    def __init__(self, space, objectives=None, seed: int = 0, eta: float = 3.0, brackets: int | None = None,
                 rungs=None, min_fidelity: float = 0.0) -> None:
        super().__init__(space, objectives, seed, eta, brackets, rungs, min_fidelity)
