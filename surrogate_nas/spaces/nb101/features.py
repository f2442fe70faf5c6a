"""NAS-Bench-101 feature blocks: cells in, ``n x d`` float64 matrices out.

Every feature is computed from the pruned cell alone (no benchmark table), so a
predictor trained on a table can score any cell a user brings, and raw specs that prune
to the same cell get the same features. Kinds:

* ``onehot`` (36): NASLib's ``adjacency_one_hot`` of the pruned spec padded to 7 vertices
  (vertices are inserted before the output, with no edges and no op): the 21
  upper-triangular adjacency bits, row by row, then a one-hot over :data:`~.cell.OPS`
  for each of the 5 intermediate vertices (all zero for a padded vertex).
* ``path`` (364): BANANAS path encoding. Each input->output path is the sequence of ops
  it passes, of length 0 (the direct edge) to 5, ``3**0 + ... + 3**5 = 364`` sequences;
  each entry counts the paths with that sequence.
* ``graph`` (see :data:`GRAPH_NAMES`): size, op counts and path statistics of the pruned
  cell: what the network computes (its depth, width and kernel sizes) rather than how the
  spec is numbered, so isomorphic cells get equal rows.
* ``dag`` (84): the canonical cell as a graph (:mod:`surrogate_nas.spaces.dag`), padded to 7
  nodes, so twins share a row.
* ``cost`` and ``zc``: the standard blocks, built by the space.

Example:
    >>> from surrogate_nas.spaces.nb101.cell import NB101Cell
    >>> cell = NB101Cell.from_string("0110|0001|0001|0000;input,conv3x3-bn-relu,maxpool3x3,output")
    >>> float(graph_stats([cell])[0, GRAPH_NAMES.index("n_paths")])
    2.0
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from surrogate_nas.spaces.dag import DagLayout
from surrogate_nas.spaces.nb101.cell import CONV1X1, CONV3X3, MAX_VERTICES, MAXPOOL3X3, N_OPS, OPS, NB101Cell

SHORT_NAMES = {CONV3X3: "conv3x3", CONV1X1: "conv1x1", MAXPOOL3X3: "maxpool3x3"}
_OP_SLOTS = MAX_VERTICES - 2
_EDGE_SLOTS = tuple((i, j) for i in range(MAX_VERTICES - 1) for j in range(i + 1, MAX_VERTICES))
_PATH_OFFSETS = tuple(sum(N_OPS**k for k in range(length)) for length in range(_OP_SLOTS + 1))
_RECEPTIVE_GROWTH = {CONV3X3: 2, CONV1X1: 0, MAXPOOL3X3: 2}
"""Pixels a vertex adds to the receptive field (3x3 windows add 2, 1x1 adds none)."""

ONEHOT_NAMES: tuple[str, ...] = (
    *(f"edge_{i}_{j}" for i, j in _EDGE_SLOTS),
    *(f"vertex{v}_{SHORT_NAMES[op]}" for v in range(1, _OP_SLOTS + 1) for op in OPS),
)

DAG = DagLayout(MAX_VERTICES, ("input", *OPS, "output"))
"""Layout of the ``dag`` block: up to 7 vertices with NAS-Bench-101's own operations."""

GRAPH_NAMES: tuple[str, ...] = (
    "n_vertices",
    "n_edges",
    *(f"n_{SHORT_NAMES[op]}" for op in OPS),
    "input_fanout",
    "output_fanin",
    *(f"input_{SHORT_NAMES[op]}" for op in OPS),
    *(f"output_{SHORT_NAMES[op]}" for op in OPS),
    "direct_edge",
    "n_paths",
    "longest_path",
    "shortest_path",
    "max_conv3x3_on_path",
    "min_conv3x3_on_path",
    "max_convs_on_path",
    "min_convs_on_path",
    "max_receptive_growth",
    "min_receptive_growth",
)
"""``graph`` columns, all over the pruned cell. ``input_fanout`` counts the vertices fed by
the module input (each costs a 1x1 projection); ``output_fanin`` counts the vertices
concatenated into the output (the module's width: each gets ``1/output_fanin`` of the
channels); ``input_<op>`` and ``output_<op>`` split those counts by the vertex's op (a
3x3 max-pool concatenated into the output passes its channels on with nothing learned
after it); ``direct_edge`` is 1 when the input feeds the output. Path lengths are in edges.
Per input->output path, ``*_on_path`` count its conv3x3 vertices or its convolutions (a
minimum of 0 means an unparametrised route exists) and ``*_receptive_growth`` add 2 pixels
per 3x3 conv or 3x3 max-pool along it."""


def onehot(cells: Sequence[NB101Cell]) -> np.ndarray:
    return np.array([_onehot(c.pruned) for c in cells], dtype=np.float64).reshape(len(cells), len(ONEHOT_NAMES))


@lru_cache(maxsize=65536)
def _onehot(cell: NB101Cell) -> tuple[float, ...]:
    n = cell.n_vertices
    # Vertex v of the cell sits at slot v of the padded 7-vertex spec; its output at slot 6.
    slot = list(range(n - 1)) + [MAX_VERTICES - 1]
    padded = np.zeros((MAX_VERTICES, MAX_VERTICES))
    for i in range(n):
        for j in range(n):
            padded[slot[i], slot[j]] = cell.matrix[i][j]
    ops = np.zeros((_OP_SLOTS, N_OPS))
    for v in range(1, n - 1):
        ops[v - 1, OPS.index(cell.ops[v])] = 1.0
    return (*(padded[i, j] for i, j in _EDGE_SLOTS), *ops.ravel())


def paths(cell: NB101Cell) -> list[tuple[str, ...]]:
    """The op sequence of every input->output path of ``cell`` (its pruned spec is the same graph)."""
    matrix, ops, n = cell.matrix, cell.ops, cell.n_vertices
    found: list[tuple[str, ...]] = []

    def walk(v: int, seq: tuple[str, ...]) -> None:
        for w in range(v + 1, n):
            if matrix[v][w]:
                if w == n - 1:
                    found.append(seq)
                else:
                    walk(w, (*seq, ops[w]))

    walk(0, ())
    return found


def path_encoding(cells: Sequence[NB101Cell]) -> np.ndarray:
    out = np.zeros((len(cells), len(path_names())))
    for row, cell in enumerate(cells):
        for seq in paths(cell):
            code = _PATH_OFFSETS[len(seq)]
            for pos, op in enumerate(seq):
                code += OPS.index(op) * N_OPS ** (len(seq) - 1 - pos)
            out[row, code] += 1.0
    return out


@lru_cache(maxsize=1)
def path_names() -> tuple[str, ...]:
    names = ["path_direct"]
    for length in range(1, _OP_SLOTS + 1):
        codes = np.indices((N_OPS,) * length).reshape(length, -1).T
        names += ["path_" + "-".join(SHORT_NAMES[OPS[i]] for i in code) for code in codes]
    return tuple(names)


def graph_stats(cells: Sequence[NB101Cell]) -> np.ndarray:
    return np.array([_graph_stats(c.pruned) for c in cells], dtype=np.float64).reshape(len(cells), len(GRAPH_NAMES))


@lru_cache(maxsize=65536)
def _graph_stats(cell: NB101Cell) -> tuple[float, ...]:
    n, matrix, ops = cell.n_vertices, cell.matrix, cell.ops
    inner = ops[1:-1]
    routes = paths(cell)
    conv3 = [seq.count(CONV3X3) for seq in routes]
    convs = [sum(op != MAXPOOL3X3 for op in seq) for seq in routes]
    growth = [sum(_RECEPTIVE_GROWTH[op] for op in seq) for seq in routes]
    lengths = [len(seq) + 1 for seq in routes]
    return (
        n,
        cell.n_edges,
        *(inner.count(op) for op in OPS),
        sum(matrix[0][1 : n - 1]),
        sum(matrix[v][n - 1] for v in range(1, n - 1)),
        *(sum(matrix[0][v] for v in range(1, n - 1) if ops[v] == op) for op in OPS),
        *(sum(matrix[v][n - 1] for v in range(1, n - 1) if ops[v] == op) for op in OPS),
        matrix[0][n - 1],
        len(routes),
        max(lengths),
        min(lengths),
        max(conv3),
        min(conv3),
        max(convs),
        min(convs),
        max(growth),
        min(growth),
    )


def dag(cells: Sequence[NB101Cell]) -> np.ndarray:
    return np.array([_dag(c.canonical) for c in cells], dtype=np.float64).reshape(len(cells), len(DAG.names()))


@lru_cache(maxsize=65536)
def _dag(cell: NB101Cell) -> tuple[float, ...]:
    n = cell.n_vertices
    edges = [(i, j) for i in range(n) for j in range(n) if cell.matrix[i][j]]
    return tuple(DAG.encode(edges, list(cell.ops)))
