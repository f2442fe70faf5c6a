"""What a search has seen so far: trials, objectives and the history they form.

A :class:`Trial` is one evaluated cell; a *history* is the ordered list of
trials. Strategies read a history and nothing else, so a search can be resumed
from trials read back from the database, exactly as if it had never stopped.

Objectives are named after the keys of :attr:`Trial.objectives` (table columns
for tabular searches) and carry a direction; multi-objective code works in a
"maximise everything" space where minimised objectives are negated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from surrogate_nas.cell import Cell
from surrogate_nas.errors import InputDataError

_DIRECTIONS = {"max": True, "min": False}


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
    for item in spec:
        if isinstance(item, Objective):
            out.append(item)
            continue
        if not isinstance(item, str) or not item.strip():
            raise InputDataError(f"an objective is 'name', 'name:max' or 'name:min', got {item!r}")
        name, _, direction = item.strip().partition(":")
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
class Trial:
    """One evaluated cell.

    Attributes:
        cell: the architecture.
        value: the searched target (higher is better).
        objectives: every reported quantity by name (target, size, ...).
        test_value: held-out value reported alongside, when known.
        cost_s: seconds the evaluation cost (simulated for tables).
    """

    cell: Cell
    value: float
    objectives: Mapping[str, float] = field(default_factory=dict)
    test_value: float | None = None
    cost_s: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.cell, str):
            object.__setattr__(self, "cell", Cell.from_string(self.cell))
        if not isinstance(self.cell, Cell):
            raise InputDataError(f"a trial needs a Cell or an architecture string, got {type(self.cell).__name__}")
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "objectives", MappingProxyType(dict(self.objectives)))

    @property
    def key(self) -> str:
        return self.cell.canonical_key


History = Sequence[Trial]
"""Trials in evaluation order."""


def as_history(items: Iterable) -> list[Trial]:
    """Accept trials or ``(cell, value[, objectives])`` tuples; return a list of trials.

    Cells may be given as NAS-Bench-201 strings. This is how a history read from
    the database (or a CSV) enters a search.
    """
    out: list[Trial] = []
    for item in items or ():
        if isinstance(item, Trial):
            out.append(item)
        elif isinstance(item, (tuple, list)) and len(item) in (2, 3):
            objectives = item[2] if len(item) == 3 else {}
            out.append(Trial(item[0], item[1], objectives))
        else:
            raise InputDataError(f"a history entry is a Trial or (cell, value[, objectives]), got {item!r}")
    return out


def evaluated_keys(history: History) -> set[str]:
    """Canonical keys of every evaluated cell."""
    return {t.key for t in history}


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
