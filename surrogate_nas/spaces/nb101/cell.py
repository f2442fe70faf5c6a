"""The NAS-Bench-101 cell: an immutable, hashable value.

A cell (NAS-Bench-101 calls it a module) is a DAG on at most 7 vertices given by an
upper-triangular adjacency matrix and one operation per vertex: ``input`` first,
``output`` last, and one of :data:`OPS` in between. Tensors entering a vertex are
summed, except at the output, where they are concatenated.

The cell keeps the spec exactly as given (the *raw* spec: what a sampler drew, what
the string form prints) and exposes NAS-Bench-101's *pruned* spec, which drops every
vertex that is not on an input->output path (``ModelSpec._prune``). Only the pruned
spec is computed, so only it is constrained, as in NAS-Bench-101's ``is_valid``: at
most :data:`MAX_EDGES` edges. A raw spec whose input does not reach its output
computes nothing; NAS-Bench-101 rejects it, and so does this class: such a spec is
not a cell.

The string form is ``<adjacency rows joined by '|'>;<ops joined by ','>``::

    >>> cell = NB101Cell.from_string("0101|0001|0001|0000;input,conv1x1-bn-relu,maxpool3x3,output")
    >>> cell.pruned.to_string()
    '011|001|000;input,conv1x1-bn-relu,output'
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from surrogate_nas.errors import InputDataError

INPUT = "input"
OUTPUT = "output"
CONV3X3 = "conv3x3-bn-relu"
CONV1X1 = "conv1x1-bn-relu"
MAXPOOL3X3 = "maxpool3x3"

OPS: tuple[str, ...] = (CONV3X3, CONV1X1, MAXPOOL3X3)
"""Operations of intermediate vertices, in NAS-Bench-101's ``available_ops`` order: the
order defines the labels hashed by :attr:`NB101Cell.canonical_key` and every encoding."""

MAX_VERTICES = 7
MAX_EDGES = 9
N_OPS = len(OPS)

Matrix = tuple[tuple[int, ...], ...]

_STRING_FORM = "'<adjacency rows joined by |>;<ops joined by ,>'"


@dataclass(frozen=True)
class NB101Cell:
    """A NAS-Bench-101 cell given by its raw spec (see module docstring).

    Args:
        matrix: ``V x V`` 0/1 adjacency, ``matrix[i][j] = 1`` for an edge ``i -> j``;
            strictly upper-triangular, ``2 <= V <= 7``. Any nested sequence of integers.
        ops: ``V`` operation names: ``input``, then :data:`OPS`, then ``output``.

    Raises:
        InputDataError: the spec is malformed, its input does not reach its output, or
            its pruned spec has more than :data:`MAX_EDGES` edges.
    """

    matrix: Matrix
    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        matrix = _as_matrix(self.matrix)
        ops = _as_ops(self.ops, len(matrix))
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "ops", ops)
        pruned = prune(matrix, ops)
        if pruned is None:
            raise InputDataError(
                f"spec {self.to_string()!r} has no path from input to output; NAS-Bench-101 has no such cell"
            )
        edges = n_edges(pruned[0])
        if edges > MAX_EDGES:
            raise InputDataError(
                f"spec {self.to_string()!r} has {edges} edges on input->output paths; "
                f"NAS-Bench-101 allows at most {MAX_EDGES}"
            )

    # -- string form -------------------------------------------------------
    @classmethod
    def from_string(cls, text: str) -> "NB101Cell":
        """Parse ``'0110|0001|0001|0000;input,conv3x3-bn-relu,maxpool3x3,output'``."""
        if not isinstance(text, str):
            raise InputDataError(f"an architecture string must be text, got {type(text).__name__}")
        rows_text, sep, ops_text = text.strip().partition(";")
        if not sep or ";" in ops_text:
            raise InputDataError(f"malformed NAS-Bench-101 string {text!r}: expected {_STRING_FORM}")
        rows = rows_text.split("|")
        bad = [row for row in rows if not row or set(row) - {"0", "1"}]
        if bad:
            raise InputDataError(
                f"malformed adjacency row {bad[0]!r} in {text!r}: expected a string of 0s and 1s per vertex"
            )
        return cls(tuple(tuple(int(b) for b in row) for row in rows), tuple(op.strip() for op in ops_text.split(",")))

    def to_string(self) -> str:
        """The string form (module docstring); the shared table's ``adjacency;ops``."""
        return "|".join("".join(map(str, row)) for row in self.matrix) + ";" + ",".join(self.ops)

    def __str__(self) -> str:
        return self.to_string()

    # -- views ---------------------------------------------------------------
    @property
    def n_vertices(self) -> int:
        return len(self.ops)

    @property
    def n_edges(self) -> int:
        """Edges of the raw spec (dead ones included)."""
        return n_edges(self.matrix)

    def array(self) -> np.ndarray:
        """The adjacency matrix as a fresh ``V x V`` int64 array."""
        return np.array(self.matrix, dtype=np.int64).reshape(self.n_vertices, self.n_vertices)

    @cached_property
    def pruned(self) -> "NB101Cell":
        """NAS-Bench-101's pruned spec: only vertices on an input->output path, order kept.

        It is the cell itself when nothing is pruned; pruning a pruned cell changes nothing.
        """
        matrix, ops = prune(self.matrix, self.ops)
        return self if (matrix, ops) == (self.matrix, self.ops) else NB101Cell(matrix, ops)

    @cached_property
    def canonical(self) -> "NB101Cell":
        """The pruned cell renumbered to its smallest ``(matrix, ops)`` over all valid numberings.

        Isomorphic cells (same :attr:`canonical_key`) have the same canonical cell, so what
        is computed on it (a network's weights, its proxy scores) does not depend on which
        twin was seen first. Twins' own networks can differ slightly: when the output
        channels do not split evenly, the extra channels go to the lowest-numbered vertices.
        """
        cell = self.pruned
        n = cell.n_vertices
        best = None
        for perm in itertools.permutations(range(1, n - 1)):
            order = (0, *perm, n - 1)
            matrix = tuple(tuple(cell.matrix[i][j] for j in order) for i in order)
            if any(matrix[i][j] for i in range(n) for j in range(i + 1)):
                continue
            candidate = (matrix, tuple(cell.ops[v] for v in order))
            best = candidate if best is None or candidate < best else best
        return cell if best == (cell.matrix, cell.ops) else NB101Cell(*best)

    @property
    def labels(self) -> tuple[int, ...]:
        """NAS-Bench-101's integer vertex labels: -1 input, index into :data:`OPS`, -2 output."""
        return (-1, *(OPS.index(op) for op in self.ops[1:-1]), -2)

    @cached_property
    def canonical_key(self) -> str:
        """NAS-Bench-101's module hash of the pruned spec (``graph_util.hash_module``).

        Each vertex starts from the md5 of ``(out-degree, in-degree, label)``; ``V`` rounds
        then replace it by the md5 of its sorted in-neighbour hashes, its sorted
        out-neighbour hashes and itself; the key is the md5 of the sorted final hashes. The
        hash ignores vertex order, so relabelled (isomorphic) cells share a key; it is the
        key of NAS-Bench-101's own table (423,624 keys).
        """
        return hash_module(self.pruned.matrix, self.pruned.labels)

    def neighbours(self) -> list["NB101Cell"]:
        """Cells one edit away that compute something else (NASLib's NAS-Bench-101 neighbourhood).

        The edits are: change the op of a live vertex (on an input->output path) to another
        op, remove a live edge, or add an edge that lies on an input->output path of the new
        spec; edits on dead parts would not change the pruned cell. Invalid results (input
        cut from output, more than :data:`MAX_EDGES` live edges) are dropped. All edits act
        on the raw spec, in a fixed order: ops by vertex, then edges row by row.
        """
        live = live_edges(self.matrix)
        live_vertices = {v for edge in live for v in edge}
        candidates: list[tuple[Matrix, tuple[str, ...]]] = []
        for v in range(1, self.n_vertices - 1):
            if v in live_vertices:
                others = (op for op in OPS if op != self.ops[v])
                candidates += [(self.matrix, self.ops[:v] + (op,) + self.ops[v + 1 :]) for op in others]
        for src in range(self.n_vertices - 1):
            for dst in range(src + 1, self.n_vertices):
                flipped = _flip(self.matrix, src, dst)
                if (src, dst) in (live if self.matrix[src][dst] else live_edges(flipped)):
                    candidates.append((flipped, self.ops))
        return [NB101Cell(m, o) for m, o in candidates if is_valid_spec(m, o)]


def _as_matrix(matrix) -> Matrix:
    try:
        rows = tuple(tuple(row) for row in matrix)
    except TypeError as exc:
        raise InputDataError(f"the adjacency matrix must be rows of 0/1 integers, got {matrix!r}") from exc
    n = len(rows)
    if not 2 <= n <= MAX_VERTICES:
        raise InputDataError(
            f"the adjacency matrix has {n} rows; a NAS-Bench-101 cell has 2 to {MAX_VERTICES} vertices"
        )
    if any(len(row) != n for row in rows):
        raise InputDataError(
            f"the adjacency matrix must be square ({n} x {n}), got row lengths {[len(r) for r in rows]}"
        )
    if any(isinstance(x, str) or x not in (0, 1) for row in rows for x in row):
        raise InputDataError("the adjacency matrix must hold only 0 and 1")
    rows = tuple(tuple(int(x) for x in row) for row in rows)
    if any(rows[i][j] for i in range(n) for j in range(i + 1)):
        raise InputDataError(
            "the adjacency matrix must be strictly upper-triangular (edges go from a vertex to a later one)"
        )
    return rows


def _as_ops(ops, n: int) -> tuple[str, ...]:
    if isinstance(ops, str) or not hasattr(ops, "__iter__"):
        raise InputDataError(f"ops must be a sequence of operation names, one per vertex, got {ops!r}")
    ops = tuple(str(op) for op in ops)
    if len(ops) != n:
        raise InputDataError(f"{len(ops)} ops for a {n}-vertex adjacency matrix; expected one op per vertex")
    if ops[0] != INPUT or ops[-1] != OUTPUT:
        raise InputDataError(f"the first op must be {INPUT!r} and the last {OUTPUT!r}, got {ops[0]!r} and {ops[-1]!r}")
    unknown = [op for op in ops[1:-1] if op not in OPS]
    if unknown:
        raise InputDataError(
            f"unknown operation {unknown[0]!r} for an intermediate vertex; expected one of {', '.join(OPS)}"
        )
    return ops


def _flip(matrix: Matrix, src: int, dst: int) -> Matrix:
    rows = [list(row) for row in matrix]
    rows[src][dst] = 1 - rows[src][dst]
    return tuple(tuple(row) for row in rows)


def n_edges(matrix: Matrix) -> int:
    return sum(map(sum, matrix))


def prune(matrix: Matrix, ops: tuple[str, ...]) -> tuple[Matrix, tuple[str, ...]] | None:
    """NAS-Bench-101's ``ModelSpec._prune``: keep vertices reachable from input that reach output.

    Returns:
        The pruned ``(matrix, ops)``, or None when the input does not reach the output.
    """
    n = len(matrix)
    from_input = _reachable(0, lambda v: (w for w in range(v + 1, n) if matrix[v][w]))
    to_output = _reachable(n - 1, lambda v: (w for w in range(v) if matrix[w][v]))
    keep = sorted(from_input & to_output)
    if len(keep) < 2:
        return None
    return tuple(tuple(matrix[i][j] for j in keep) for i in keep), tuple(ops[i] for i in keep)


def _reachable(start: int, step) -> set[int]:
    seen, frontier = {start}, [start]
    while frontier:
        for w in step(frontier.pop()):
            if w not in seen:
                seen.add(w)
                frontier.append(w)
    return seen


def is_valid_spec(matrix: Matrix, ops: tuple[str, ...]) -> bool:
    """Whether a well-formed raw spec is a NAS-Bench-101 cell (input reaches output, <= 9 live edges)."""
    pruned = prune(matrix, ops)
    return pruned is not None and n_edges(pruned[0]) <= MAX_EDGES


def live_edges(matrix: Matrix) -> set[tuple[int, int]]:
    """Edges ``(src, dst)`` that lie on an input->output path."""
    n = len(matrix)
    from_input = _reachable(0, lambda v: (w for w in range(v + 1, n) if matrix[v][w]))
    to_output = _reachable(n - 1, lambda v: (w for w in range(v) if matrix[w][v]))
    return {(i, j) for i in from_input for j in to_output if i < j and matrix[i][j]}


def hash_module(matrix: Matrix, labels: Sequence[int]) -> str:
    """NAS-Bench-101's ``graph_util.hash_module`` (see :attr:`NB101Cell.canonical_key`)."""
    n = len(matrix)
    in_degree = [sum(matrix[i][v] for i in range(n)) for v in range(n)]
    out_degree = [sum(row) for row in matrix]
    hashes = [_md5(str((out_degree[v], in_degree[v], int(labels[v])))) for v in range(n)]
    for _ in range(n):
        hashes = [
            _md5(
                "".join(sorted(hashes[w] for w in range(n) if matrix[w][v]))
                + "|"
                + "".join(sorted(hashes[w] for w in range(n) if matrix[v][w]))
                + "|"
                + hashes[v]
            )
            for v in range(n)
        ]
    return _md5(str(sorted(hashes)))


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def sample_cell(rng: np.random.Generator) -> NB101Cell:
    """A cell drawn as NAS-Bench-101 and NASLib draw them.

    Every upper-triangular bit of a 7 x 7 matrix is a fair coin, every intermediate op is
    uniform over :data:`OPS`; specs that are not cells are redrawn. The result is uniform
    over valid raw 7 x 7 specs (not over canonical keys).
    """
    while True:
        bits = rng.integers(0, 2, size=(MAX_VERTICES, MAX_VERTICES))
        matrix = tuple(tuple(int(bits[i][j]) if j > i else 0 for j in range(MAX_VERTICES)) for i in range(MAX_VERTICES))
        ops = (INPUT, *(OPS[i] for i in rng.integers(N_OPS, size=MAX_VERTICES - 2)), OUTPUT)
        if is_valid_spec(matrix, ops):
            return NB101Cell(matrix, ops)
