"""Constraints on what a search may return: ``latency@pixel3<=5``, ``params<=0.5``.

A :class:`Constraint` bounds one reported quantity (a key of :attr:`.history.Trial.objectives`).
A trial is *feasible* when it meets every constraint; the trace marks it, and the
incumbent, regret, hypervolume and Pareto front count feasible trials only.

Some quantities are known for an architecture without training it: a table's size or
measured-latency column, an analytic parameter count, a latency model's prediction. The
evaluator declares them (:meth:`.evaluators.Evaluator.known`). A constraint on one of them
restricts the search space itself (:class:`FeasibleSpace`), so no strategy ever proposes,
scores or trains an architecture known to break it. The other constraints are *modelled*:
Bayesian optimisation fits a surrogate per constraint and uses BoTorch's constrained
acquisitions (the ``constraints=`` callables of qLogNEI and qLogNEHVI; analytic
``LogConstrainedExpectedImprovement`` for screening), while random search, evolution and
local search only record feasibility.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.spaces.base import SearchSpace
from surrogate_nas.spaces.subset import RestrictedSpace

KnownFn = Callable[[Sequence], np.ndarray]
"""Values of one quantity for a list of architectures, without evaluating them."""

_SYNTAX = re.compile(r"^\s*(?P<name>[^<>=]+?)\s*(?P<op><=|>=)\s*(?P<bound>[^<>=]+?)\s*$")


@dataclass(frozen=True)
class Constraint:
    """``name <= bound`` (``upper``) or ``name >= bound`` on a reported quantity."""

    name: str
    bound: float
    upper: bool = True

    def __post_init__(self) -> None:
        if not math.isfinite(float(self.bound)):
            raise InputDataError(f"constraint on {self.name!r}: the bound must be a finite number, got {self.bound}")
        object.__setattr__(self, "bound", float(self.bound))

    def slack(self, values) -> np.ndarray:
        """How far inside the bound (``>= 0`` feasible); missing values count as infinitely outside."""
        v = np.asarray(values, dtype=np.float64)
        out = self.bound - v if self.upper else v - self.bound
        return np.where(np.isnan(out), -np.inf, out)

    def __str__(self) -> str:
        return f"{self.name}{'<=' if self.upper else '>='}{self.bound:g}"


def split_constraint(text: str) -> tuple[str, bool, float]:
    """``"latency@pixel3<=5"`` -> ``("latency@pixel3", True, 5.0)`` (the quantity is not resolved here).

    Raises:
        InputDataError: not ``NAME<=NUMBER`` or ``NAME>=NUMBER``.
    """
    match = _SYNTAX.match(str(text))
    if match is None:
        raise InputDataError(f"a constraint is NAME<=NUMBER or NAME>=NUMBER (e.g. latency@pixel3<=5), got {text!r}")
    try:
        bound = float(match["bound"])
    except ValueError:
        raise InputDataError(f"constraint {text!r}: {match['bound']!r} is not a number") from None
    if not math.isfinite(bound):
        raise InputDataError(f"constraint {text!r}: the bound must be a finite number")
    return match["name"], match["op"] == "<=", bound


@dataclass(frozen=True)
class ConstraintSet:
    """Constraints with the functions that know some of their quantities without evaluation.

    Attributes:
        constraints: every constraint, in the user's order.
        known: quantity name -> function of architectures (see :data:`KnownFn`); a
            constraint on one of these is *known*, the others are *modelled*.
    """

    constraints: tuple[Constraint, ...] = ()
    known: Mapping[str, KnownFn] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "constraints", tuple(self.constraints))
        object.__setattr__(self, "known", MappingProxyType(dict(self.known)))

    def __bool__(self) -> bool:
        return bool(self.constraints)

    @property
    def names(self) -> tuple[str, ...]:
        """The constrained quantities (each evaluation must report them)."""
        return tuple(dict.fromkeys(c.name for c in self.constraints))

    @property
    def known_constraints(self) -> tuple[Constraint, ...]:
        return tuple(c for c in self.constraints if c.name in self.known)

    @property
    def modelled(self) -> tuple[Constraint, ...]:
        return tuple(c for c in self.constraints if c.name not in self.known)

    def feasible(self, trials: Sequence, known_only: bool = False) -> np.ndarray:
        """Whether each trial meets every constraint (every known one) by the values it reported."""
        ok = np.ones(len(trials), dtype=bool)
        for c in self.known_constraints if known_only else self.constraints:
            ok &= c.slack([t.objectives.get(c.name, np.nan) for t in trials]) >= 0
        return ok

    def known_mask(self, archs: Sequence) -> np.ndarray:
        """Whether each architecture meets every known constraint (computed, not evaluated)."""
        ok = np.ones(len(archs), dtype=bool)
        if not len(archs):
            return ok
        for c in self.known_constraints:
            ok &= c.slack(self.known[c.name](archs)) >= 0
        return ok

    def slack(self, trials: Sequence) -> np.ndarray:
        """``n x k`` slacks of the trials for the :attr:`modelled` constraints (the surrogate's targets)."""
        cols = [c.slack([t.objectives.get(c.name, np.nan) for t in trials]) for c in self.modelled]
        out = np.stack(cols, axis=1) if cols else np.zeros((len(trials), 0))
        # A missing value is far outside the bound; a surrogate needs a finite number for it.
        finite = out[np.isfinite(out)]
        floor = (finite.min() - (np.ptp(finite) if finite.size else 1.0) - 1.0) if finite.size else -1.0
        return np.where(np.isfinite(out), out, floor)

    def restrict(self, space: SearchSpace) -> SearchSpace:
        """``space`` without the architectures a known constraint rules out (``space`` itself if none)."""
        if not self.known_constraints:
            return space
        return FeasibleSpace(space, self.known_mask, ", ".join(map(str, self.known_constraints)))


NO_CONSTRAINTS = ConstraintSet()


class FeasibleSpace(RestrictedSpace):
    """``base`` restricted to the architectures ``keep`` accepts.

    Listing, sampling, neighbours and mutation only ever return accepted architectures,
    so every strategy searches the feasible region without knowing it is restricted;
    parsing, features and networks stay ``base``'s. Decisions are cached by the
    architecture's text form (twins may differ in measured latency).

    Args:
        base: the space to restrict.
        keep: boolean mask of a list of architectures.
        label: what the restriction is, for messages.

    Raises:
        InputDataError: a listable space with no accepted architecture.
    """

    def __init__(self, base: SearchSpace, keep: Callable[[Sequence], np.ndarray], label: str = "") -> None:
        super().__init__(base, f"{base.description} (only {label})" if label else base.description)
        self.keep, self.label = keep, label
        self._accepted: dict[str, bool] = {}
        listed = base.enumerate()
        self._listed = None if listed is None else tuple(self.accepted(listed))
        if self._listed is not None and not self._listed:
            raise InputDataError(f"no architecture of the {base.name} space satisfies {label}")

    def accepted(self, archs: Sequence) -> list:
        """The architectures of ``archs`` that ``keep`` accepts, in order."""
        todo = [a for a in archs if a.to_string() not in self._accepted]
        if todo:
            for arch, ok in zip(todo, self.keep(todo)):
                self._accepted[arch.to_string()] = bool(ok)
        return [a for a in archs if self._accepted[a.to_string()]]

    def enumerate(self):
        return self._listed

    def sample(self, rng: np.random.Generator):
        if self._listed is not None:
            return self._listed[int(rng.integers(len(self._listed)))]
        for _ in range(10_000):
            arch = self.base.sample(rng)
            if self.accepted([arch]):
                return arch
        raise InputDataError(f"found no architecture of the {self.name} space satisfying {self.label} "
                             "in 10,000 samples; loosen the constraint")

    def neighbours(self, arch) -> list:
        return self.accepted(self.base.neighbours(arch))

    def with_cache(self, cache) -> "FeasibleSpace":
        return FeasibleSpace(self.base.with_cache(cache), self.keep, self.label)
