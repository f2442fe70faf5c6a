"""The DARTS architecture value: a normal and a reduction cell, immutable and hashable.

Each cell has four intermediate nodes 2..5; node ``k`` sums two operations applied to two
distinct earlier states (0 and 1 are the outputs of the two previous cells, ``2 .. k - 1``
earlier nodes of the same cell), and the cell outputs nodes 2..5 concatenated. This is
DARTS's ``Genotype`` with ``normal_concat = reduce_concat = [2, 3, 4, 5]``.

Two text forms are read:

* the space's own form, written by :meth:`DartsGenotype.to_string`: each cell as its 8
  ``op~input`` entries in DARTS ``Genotype`` order joined by ``;``, the two cells joined by
  ``|``::

      max_pool_3x3~1;dil_conv_3x3~0;...;sep_conv_3x3~1|dil_conv_5x5~0;...;max_pool_3x3~1

* NASLib's compact form ``[[(input, op_index) x 8], [(input, op_index) x 8]]`` with
  ``op_index`` into :data:`OPS` (:meth:`DartsGenotype.from_compact`).

Example:
    >>> g = DartsGenotype.from_compact("[[(0,3),(1,3),(0,3),(1,3),(0,3),(1,3),(0,3),(1,3)],"
    ...                                "[(0,0),(1,0),(0,0),(2,0),(0,0),(2,0),(0,0),(2,0)]]")
    >>> g.normal.edges[0]
    ('sep_conv_3x3', 0)
    >>> DartsGenotype.from_string(g.to_string()) == g
    True
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass
from functools import cached_property

from surrogate_nas.errors import InputDataError
from surrogate_nas.spaces.darts.isomorphism import NODES, CellNodes, canonical_nodes

OPS: tuple[str, ...] = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
"""Operations of derived DARTS genotypes, in NASLib's compact order (``op_index``)."""

N_OPS = len(OPS)
N_CELL_EDGES = 2 * len(NODES)
"""Operations per cell: two per intermediate node."""

CELL_TYPES: tuple[str, str] = ("normal", "reduce")

_OP_INDEX = {op: i for i, op in enumerate(OPS)}
_ENTRY = re.compile(r"^\s*([A-Za-z0-9_]+)\s*~\s*([0-9]+)\s*$")
_FORM = "8 'op~input' entries joined by ';' (two per node 2..5, node k reading inputs 0..k-1)"


def _node_of(position: int) -> int:
    """The intermediate node fed by the ``position``-th edge of a cell (0..7)."""
    return NODES[position // 2]


def _check_op(op, where: str) -> str:
    if not isinstance(op, str):
        raise InputDataError(f"operations of {where} must be names, got {op!r}")
    if op == "none":
        raise InputDataError(
            f"operation 'none' in {where} never occurs in a derived DARTS genotype (each node keeps its "
            f"two strongest non-zero operations); expected one of {', '.join(OPS)}"
        )
    if op not in _OP_INDEX:
        raise InputDataError(f"unknown operation {op!r} in {where}; expected one of {', '.join(OPS)}")
    return op


def _check_input(value, node: int, where: str) -> int:
    try:
        source = operator.index(value)
    except TypeError:
        source = None
    if source is None or isinstance(value, bool):
        raise InputDataError(f"inputs of {where} must be integers, got {value!r}")
    if not 0 <= source < node:
        raise InputDataError(f"{where} may read inputs 0..{node - 1}, got {source}")
    return source


@dataclass(frozen=True)
class DartsCell:
    """One DARTS cell: 8 ``(op, input)`` edges, two per node 2..5, in ``Genotype`` order."""

    edges: tuple[tuple[str, int], ...]

    def __post_init__(self) -> None:
        try:
            edges = tuple((op, source) for op, source in self.edges)
        except (TypeError, ValueError) as exc:
            raise InputDataError(f"a DARTS cell is {N_CELL_EDGES} (op, input) pairs, got {self.edges!r}") from exc
        if len(edges) != N_CELL_EDGES:
            raise InputDataError(f"a DARTS cell has {N_CELL_EDGES} (op, input) pairs, got {len(edges)}")
        checked = []
        for position, (op, source) in enumerate(edges):
            node = _node_of(position)
            where = f"node {node}"
            checked.append((_check_op(op, where), _check_input(source, node, where)))
        for node, (a, b) in zip(NODES, zip(checked[::2], checked[1::2])):
            if a[1] == b[1]:
                raise InputDataError(f"the two inputs of node {node} must differ, got {a[1]} twice")
        object.__setattr__(self, "edges", tuple(checked))

    @classmethod
    def from_string(cls, text: str) -> "DartsCell":
        """Parse ``op~input;op~input;...`` (8 entries)."""
        entries = [e.strip() for e in str(text).split(";")]
        if len(entries) != N_CELL_EDGES:
            raise InputDataError(f"malformed DARTS cell {text!r}: expected {_FORM}, got {len(entries)} entries")
        edges = []
        for entry in entries:
            match = _ENTRY.match(entry)
            if not match:
                raise InputDataError(f"malformed entry {entry!r} in DARTS cell {text!r}: expected {_FORM}")
            edges.append((match.group(1), int(match.group(2))))
        return cls(tuple(edges))

    def to_string(self) -> str:
        return ";".join(f"{op}~{source}" for op, source in self.edges)

    @classmethod
    def from_nodes(cls, nodes: CellNodes) -> "DartsCell":
        """The cell of raw ``((input, op index), (input, op index))`` nodes (see :mod:`.isomorphism`)."""
        return cls(tuple((OPS[op], source) for node in nodes for source, op in node))

    @property
    def nodes(self) -> CellNodes:
        """The raw form: for each node 2..5, its two ``(input, op index)`` edges in stored order."""
        raw = [(source, _OP_INDEX[op]) for op, source in self.edges]
        return tuple(zip(raw[::2], raw[1::2]))  # type: ignore[return-value]

    @cached_property
    def canonical(self) -> "DartsCell":
        """The canonical relabelling of this cell (:func:`~.isomorphism.canonical_nodes`)."""
        return DartsCell.from_nodes(canonical_nodes(self.nodes))

    def neighbours(self) -> list["DartsCell"]:
        """Cells one change away: one op replaced, or one input moved (the node's inputs stay distinct)."""
        out = []
        for position, (op, source) in enumerate(self.edges):
            other = self.edges[position ^ 1][1]
            changed = [(new, source) for new in OPS if new != op]
            changed += [(op, new) for new in range(_node_of(position)) if new not in (source, other)]
            out += [DartsCell(self.edges[:position] + (edge,) + self.edges[position + 1 :]) for edge in changed]
        return out


def _in_cell(name: str, build, value) -> DartsCell:
    """``build(value)``, naming the cell in the message of any input error."""
    try:
        return build(value)
    except InputDataError as exc:
        raise InputDataError(f"{name} cell: {exc}") from exc


@dataclass(frozen=True)
class DartsGenotype:
    """A DARTS architecture: the normal cell and the reduction cell (see module docstring)."""

    normal: DartsCell
    reduce: DartsCell

    def __post_init__(self) -> None:
        for name in CELL_TYPES:
            if not isinstance(getattr(self, name), DartsCell):
                raise InputDataError(f"the {name} cell must be a DartsCell, got {type(getattr(self, name)).__name__}")

    @property
    def cells(self) -> tuple[DartsCell, DartsCell]:
        return self.normal, self.reduce

    # -- text forms ----------------------------------------------------------------------
    @classmethod
    def from_string(cls, text: str) -> "DartsGenotype":
        """Parse ``<normal>|<reduce>``, each cell as 8 ``op~input`` entries joined by ``;``."""
        if not isinstance(text, str):
            raise InputDataError(f"a DARTS architecture string must be text, got {type(text).__name__}")
        parts = text.strip().split("|")
        if len(parts) != 2:
            raise InputDataError(
                f"malformed DARTS architecture {text!r}: expected '<normal>|<reduce>', each cell {_FORM}, "
                "or NASLib's compact form '[[(input, op_index) x 8], [(input, op_index) x 8]]'"
            )
        return cls(*(_in_cell(name, DartsCell.from_string, part) for name, part in zip(CELL_TYPES, parts)))

    def to_string(self) -> str:
        return f"{self.normal.to_string()}|{self.reduce.to_string()}"

    def __str__(self) -> str:
        return self.to_string()

    @classmethod
    def from_compact(cls, compact) -> "DartsGenotype":
        """From NASLib's compact form (a nested sequence or its text), ``op_index`` into :data:`OPS`."""
        expected = f"NASLib's compact form [[(input, op_index) x 8], [(input, op_index) x 8]], op_index 0..{N_OPS - 1}"
        value = compact
        if isinstance(compact, str):
            try:
                value = ast.literal_eval(compact.strip())
            except (ValueError, SyntaxError) as exc:
                raise InputDataError(f"malformed DARTS architecture {compact!r}: expected {expected}") from exc
        try:
            cells = [[(int(source), int(op)) for source, op in cell] for cell in value]
        except (TypeError, ValueError) as exc:
            raise InputDataError(f"malformed DARTS architecture {compact!r}: expected {expected}") from exc
        if len(cells) != 2 or any(len(cell) != N_CELL_EDGES for cell in cells):
            raise InputDataError(f"malformed DARTS architecture {compact!r}: expected {expected}")
        if any(not 0 <= op < N_OPS for cell in cells for _, op in cell):
            raise InputDataError(f"op_index out of range in {compact!r}: expected {expected}")
        return cls(*(
            _in_cell(name, DartsCell, tuple((OPS[op], source) for source, op in cell))
            for name, cell in zip(CELL_TYPES, cells)
        ))

    def to_compact(self) -> str:
        """NASLib's compact form, written as in NAS-Bench-Suite-Zero's keys (no spaces)."""
        cells = (",".join(f"({source},{_OP_INDEX[op]})" for op, source in cell.edges) for cell in self.cells)
        return "[" + ",".join(f"[{c}]" for c in cells) + "]"

    # -- identity ------------------------------------------------------------------------
    @cached_property
    def canonical(self) -> "DartsGenotype":
        """The genotype with both cells in canonical form: the same function, one per class."""
        return DartsGenotype(self.normal.canonical, self.reduce.canonical)

    @cached_property
    def canonical_key(self) -> str:
        """The string form of :attr:`canonical`.

        Shared by genotypes that differ only by the order of a node's two inputs or by a
        relabelling of the intermediate nodes of either cell (:mod:`.isomorphism` says
        why these compute the same function and what is not identified).
        """
        return self.canonical.to_string()

    def neighbours(self) -> list["DartsGenotype"]:
        """Genotypes one change away in either cell (NASLib's NB-301 neighbourhood; 120 of them)."""
        return [DartsGenotype(cell, self.reduce) for cell in self.normal.neighbours()] + [
            DartsGenotype(self.normal, cell) for cell in self.reduce.neighbours()
        ]
