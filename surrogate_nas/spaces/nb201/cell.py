"""The NAS-Bench-201 cell: an immutable, hashable value.

A cell is a DAG on 4 nodes whose 6 edges ``(to, from)`` each carry one of 5
operations, so there are 5**6 = 15,625 cells. Cells print and parse in
NAS-Bench-201's own string form, so published benchmark tables join on it::

    >>> c = Cell.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    ...                      "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
    >>> c.ops[2]
    'avg_pool_3x3'
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from surrogate_nas.errors import InputDataError

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""Operation vocabulary; its order defines the one-hot encoding and ``op_indices``."""

EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
"""Edges as ``(to_node, from_node)`` in the order they appear in the string form."""

N_EDGES = len(EDGES)
N_OPS = len(OPS)
_OP_INDEX = {op: i for i, op in enumerate(OPS)}
_EDGE_TOKEN = re.compile(r"^([a-z0-9_]+)~(\d+)$")


@dataclass(frozen=True)
class Cell:
    """A NAS-Bench-201 cell given by its 6 edge operations, in :data:`EDGES` order."""

    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        ops = tuple(self.ops)
        if len(ops) != N_EDGES:
            raise InputDataError(f"a cell has {N_EDGES} edge operations, got {len(ops)}: {ops!r}")
        unknown = [op for op in ops if op not in _OP_INDEX]
        if unknown:
            raise InputDataError(f"unknown operation {unknown[0]!r}; expected one of {', '.join(OPS)}")
        object.__setattr__(self, "ops", ops)

    # -- string form -------------------------------------------------------
    @classmethod
    def from_string(cls, text: str) -> "Cell":
        """Parse ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` (NAS-Bench-201's form)."""
        if not isinstance(text, str):
            raise InputDataError(f"an architecture string must be text, got {type(text).__name__}")
        s = text.strip()
        expected = "expected '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' with op in " + ", ".join(OPS)
        nodes = s.split("+")
        if len(nodes) != 3:
            raise InputDataError(f"malformed architecture string {text!r}: {expected}")
        ops: list[str] = []
        for node, part in enumerate(nodes, start=1):
            if not (part.startswith("|") and part.endswith("|")):
                raise InputDataError(f"malformed architecture string {text!r}: {expected}")
            tokens = part[1:-1].split("|")
            if len(tokens) != node:
                raise InputDataError(
                    f"malformed architecture string {text!r}: node {node} needs {node} inputs, "
                    f"got {len(tokens)}; {expected}"
                )
            for source, token in enumerate(tokens):
                m = _EDGE_TOKEN.match(token)
                if not m or int(m.group(2)) != source:
                    raise InputDataError(
                        f"malformed edge {token!r} in {text!r}: expected 'op~{source}' for node {node}"
                    )
                if m.group(1) not in _OP_INDEX:
                    raise InputDataError(
                        f"unknown operation {m.group(1)!r} in {text!r}; expected one of {', '.join(OPS)}"
                    )
                ops.append(m.group(1))
        return cls(tuple(ops))

    def to_string(self) -> str:
        """NAS-Bench-201's string form."""
        it = iter(self.ops)
        parts = ["|" + "|".join(f"{next(it)}~{src}" for src in range(node)) + "|" for node in (1, 2, 3)]
        return "+".join(parts)

    def __str__(self) -> str:
        return self.to_string()

    # -- views ---------------------------------------------------------------
    @property
    def op_indices(self) -> tuple[int, ...]:
        """Operation indices into :data:`OPS`, one per edge."""
        return tuple(_OP_INDEX[op] for op in self.ops)

    @classmethod
    def from_op_indices(cls, indices) -> "Cell":
        try:
            return cls(tuple(OPS[int(i)] for i in indices))
        except IndexError as exc:
            raise InputDataError(f"operation index out of range 0..{N_OPS - 1}: {list(indices)}") from exc

    def node_inputs(self, node: int) -> list[tuple[str, int]]:
        """``(op, from_node)`` pairs feeding ``node`` (1..3)."""
        return [(op, src) for op, (dst, src) in zip(self.ops, EDGES) if dst == node]

    @cached_property
    def canonical_key(self) -> str:
        """Key shared by exactly the cells that compute the same function.

        This is NATS-Bench's ``get_unique_str``: each node is written as the
        sorted sum of its inputs, ``skip_connect`` passes its input's string
        through, ``none`` (or an input that is identically zero) writes ``#``.
        Sorting makes node orders that are isomorphic collapse; the 15,625
        cells have 6,466 keys, and the key equals the ``unique_str`` column of
        the published table.
        """
        nodes = {0: "0"}
        for node in (1, 2, 3):
            terms = []
            for op, src in self.node_inputs(node):
                if op == "none" or nodes[src] == "#":
                    terms.append("#")
                elif op == "skip_connect":
                    terms.append(nodes[src])
                else:
                    terms.append(f"({nodes[src]})@{op}")
            nodes[node] = "+".join(sorted(terms))
        return nodes[3]

    def neighbours(self) -> list["Cell"]:
        """The 24 cells that differ from this one on exactly one edge (mutation)."""
        out = []
        for e in range(N_EDGES):
            for op in OPS:
                if op != self.ops[e]:
                    out.append(Cell(self.ops[:e] + (op,) + self.ops[e + 1 :]))
        return out


def parse_cell(text: str) -> Cell:
    """Shorthand for :meth:`Cell.from_string`."""
    return Cell.from_string(text)


@lru_cache(maxsize=1)
def all_cells() -> tuple[Cell, ...]:
    """All 15,625 cells, ordered by ``op_indices`` (edge 0 most significant; not the NAS-Bench-201 index)."""
    return tuple(Cell(ops) for ops in itertools.product(OPS, repeat=N_EDGES))


@lru_cache(maxsize=1)
def canonical_cells() -> tuple[Cell, ...]:
    """One representative per canonical key (the first in :func:`all_cells` order): 6,466 cells."""
    seen: dict[str, Cell] = {}
    for cell in all_cells():
        seen.setdefault(cell.canonical_key, cell)
    return tuple(seen.values())
