"""What a search asks for and what it has seen: suggestions, trials, objectives.

A :class:`Suggestion` is an architecture (and the fidelity to evaluate it at) that a
strategy asks for; a :class:`Trial` is one that was evaluated; a *history* is the ordered
list of trials. Strategies hear trials and nothing else, so a search can be resumed from
trials read back from the database, exactly as if it had never stopped.

Objectives are named after the keys of :attr:`Trial.objectives` (table columns for
tabular searches) and carry a direction; multi-objective code works in a "maximise
everything" space where minimised objectives are negated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from surrogate_nas.errors import InputDataError

_DIRECTIONS = {"max": True, "min": False}

FULL_FIDELITY = 1.0


@dataclass(frozen=True)
class Objective:
    """One quantity to optimise: ``name`` is a key of :attr:`Trial.objectives`."""

    name: str
    maximize: bool = True

    @property
    def sign(self) -> float:
        """``+1`` when maximised, ``-1`` when minimised (the "maximise everything" sign)."""
        return 1.0 if self.maximize else -1.0

    def __str__(self) -> str:
        return f"{self.name}:{'max' if self.maximize else 'min'}"


def parse_objectives(spec) -> tuple[Objective, ...]:
    """Turn ``["acc", "params:min"]`` (or :class:`Objective` values) into objectives.

    A bare name is maximised; ``name:max`` / ``name:min`` give the direction.

    Raises:
        InputDataError: on an empty list, an unknown direction or a repeated name.
    """
    if isinstance(spec, (str, Objective)):
        spec = [spec]
    out: list[Objective] = []
    for item in spec or ():
        if isinstance(item, Objective):
            out.append(item)
            continue
        if not isinstance(item, str) or not item.strip():
            raise InputDataError(f"an objective is 'name', 'name:max' or 'name:min', got {item!r}")
        name, _, direction = item.strip().rpartition(":") if ":" in item else (item.strip(), "", "")
        direction = direction or "max"
        if direction not in _DIRECTIONS:
            raise InputDataError(f"objective {item!r}: direction must be 'max' or 'min', got {direction!r}")
        out.append(Objective(name, _DIRECTIONS[direction]))
    if not out:
        raise InputDataError("at least one objective is needed")
    names = [o.name for o in out]
    if len(set(names)) != len(names):
        raise InputDataError(f"objectives must be distinct, got {names}")
    return tuple(out)


@dataclass(frozen=True)
class Suggestion:
    """An architecture a strategy wants evaluated, at a fidelity (fraction of the full budget).

    ``resume_from`` is the fidelity it was already evaluated at when this suggestion promotes
    it (multi-fidelity strategies): the evaluation continues from there, so only the budget
    between the two is paid (a live training resumes from its checkpoint).
    """

    arch: Any
    fidelity: float = FULL_FIDELITY
    resume_from: float = 0.0

    def __post_init__(self) -> None:
        if not 0 < float(self.fidelity) <= 1:
            raise InputDataError(f"a fidelity is a fraction of the full budget in (0, 1], got {self.fidelity}")
        if not 0 <= float(self.resume_from) < float(self.fidelity):
            raise InputDataError(f"resume_from must be in [0, fidelity), got {self.resume_from} for {self.fidelity}")
        object.__setattr__(self, "fidelity", float(self.fidelity))
        object.__setattr__(self, "resume_from", float(self.resume_from))

    @property
    def key(self) -> str:
        return self.arch.canonical_key


@dataclass(frozen=True)
class Trial:
    """One evaluated architecture.

    Attributes:
        arch: the architecture (a value of the search's space).
        value: the searched target, in its own units (see the search's first objective
            for its direction).
        objectives: every reported quantity by name (target, size, ...).
        test_value: held-out value reported alongside, when known.
        cost_s: seconds the evaluation cost (simulated for tables).
        fidelity: fraction of the full budget it was evaluated at (1.0: full).
        status: ``ok``, or ``diverged``/``failed`` (the value is then chance level).
        message: why it failed, when it did.
    """

    arch: Any
    value: float
    objectives: Mapping[str, float] = field(default_factory=dict)
    test_value: float | None = None
    cost_s: float = 0.0
    fidelity: float = FULL_FIDELITY
    status: str = "ok"
    message: str = ""

    def __post_init__(self) -> None:
        if not hasattr(self.arch, "canonical_key"):
            raise InputDataError(f"a trial needs an architecture value, got {type(self.arch).__name__}")
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "fidelity", float(self.fidelity))
        object.__setattr__(self, "objectives", MappingProxyType(dict(self.objectives)))

    @property
    def key(self) -> str:
        return self.arch.canonical_key

    @property
    def full(self) -> bool:
        """Whether the trial was evaluated at full fidelity."""
        return self.fidelity >= FULL_FIDELITY


History = Sequence[Trial]
"""Trials in evaluation order."""


def as_history(items: Iterable, space) -> list[Trial]:
    """Accept trials or ``(arch, value[, objectives])`` tuples; return a list of trials.

    Architectures may be given in ``space``'s text form. This is how a history read
    from the database (or a CSV) enters a search.
    """
    out: list[Trial] = []
    for item in items or ():
        if isinstance(item, Trial):
            out.append(item)
        elif isinstance(item, (tuple, list)) and len(item) in (2, 3):
            objectives = item[2] if len(item) == 3 else {}
            out.append(Trial(space.as_architecture(item[0]), item[1], objectives))
        else:
            raise InputDataError(f"a history entry is a Trial or (arch, value[, objectives]), got {item!r}")
    return out


def objective_matrix(history: History, objectives: Sequence[Objective]) -> np.ndarray:
    """``n x m`` values in the "maximise everything" space (minimised objectives negated).

    Raises:
        InputDataError: if a trial does not report one of the objectives.
    """
    rows = []
    for t in history:
        try:
            rows.append([o.sign * float(t.objectives[o.name]) for o in objectives])
        except KeyError as exc:
            raise InputDataError(
                f"objective {exc.args[0]!r} is not reported by the evaluator; "
                f"it reports {sorted(t.objectives)}"
            ) from None
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(objectives))
