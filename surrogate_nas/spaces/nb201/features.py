"""NAS-Bench-201 feature blocks: cells in, ``n x d`` float64 matrices out.

Every feature is computed from the cell alone (no benchmark table), so a
predictor trained on a table can score any cell a user brings. Kinds:

* ``onehot`` (30): edge-major one-hot over :data:`~.cell.OPS`.
* ``path`` (84): BANANAS path encoding. The cell has 4 input->output paths,
  ``0->3``, ``0->1->3``, ``0->2->3`` and ``0->1->2->3``; a path is live when none of
  its edges is ``none``, so a live path of length ``L`` is one of ``4**L`` op
  sequences, ``4 + 16 + 64 = 84`` in all. Each entry counts the live paths with that
  op sequence (the two length-2 paths may share one, so a count can be 2).
* ``liveops`` (11): see :data:`LIVEOPS_NAMES`; counts over *live* edges (those on a
  live path), so dead edges, which cannot change the function, are ignored.
* ``cost`` (2): ``log`` params and ``log`` FLOPs of the NAS-Bench-201 reference network
  (C=16, N=5, 3x32x32 input, 10 classes) from :mod:`.cost`.
* ``zc``: zero-cost proxies (:mod:`surrogate_nas.spaces.zc`), shipped precomputed for all
  15,625 cells in ``surrogate_nas/data/nb201_proxies.csv.gz``.
* ``dag`` (120): the cell as a graph with operations on nodes (:mod:`surrogate_nas.spaces.dag`):
  node 0 the input, nodes 1-6 the edges' operations in :data:`~.cell.EDGES` order, node 7 the
  output; an operation node reads the operation nodes that end at its source node (the input
  for node 0) and the output reads those ending at node 3. A ``none`` edge is a node with no
  edges, since it passes nothing.

Example:
    >>> from surrogate_nas.spaces import get_space
    >>> space = get_space("nb201")
    >>> space.features([space.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")], "onehot+path").shape
    (1, 114)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from surrogate_nas.spaces.dag import DagLayout
from surrogate_nas.spaces.nb201.cell import EDGES, N_EDGES, N_OPS, OPS, Cell

PATHS: tuple[tuple[int, ...], ...] = ((3,), (0, 4), (1, 5), (0, 2, 5))
"""Input->output paths as edge indices into :data:`~.cell.EDGES`:
``0->3``, ``0->1->3``, ``0->2->3``, ``0->1->2->3``."""

_LIVE_OPS = OPS[1:]  # every op but "none"
_N_LIVE_OPS = len(_LIVE_OPS)
_PATH_OFFSETS = {1: 0, 2: 4, 3: 4 + 16}

LIVEOPS_NAMES: tuple[str, ...] = (
    *(f"live_{op}" for op in _LIVE_OPS),
    "n_live_edges",
    "n_live_paths",
    "longest_live_path",
    "shortest_live_path",
    "skip_only_path",
    "max_convs_on_path",
    "min_convs_on_path",
)
"""``liveops`` columns. ``live_<op>`` counts live edges carrying ``op``; path lengths
are in edges (0 when no path is live); ``skip_only_path`` is 1 when a live path is all
``skip_connect``; ``max/min_convs_on_path`` count convolutions along the live path with
the most/fewest (``min = 0`` means a parameter-free route exists)."""

ONEHOT_NAMES: tuple[str, ...] = tuple(f"edge{e}_{op}" for e in range(N_EDGES) for op in OPS)

DAG = DagLayout(N_EDGES + 2, ("input", "output", *OPS))
"""Layout of the ``dag`` block: input, the 6 operation nodes, output."""


def op_matrix(cells: Sequence[Cell]) -> np.ndarray:
    """``n x 6`` operation indices."""
    return np.array([c.op_indices for c in cells], dtype=np.int64).reshape(len(cells), N_EDGES)


def onehot(cells: Sequence[Cell]) -> np.ndarray:
    return np.eye(N_OPS)[op_matrix(cells)].reshape(len(cells), N_EDGES * N_OPS)


def _live_paths(ops: np.ndarray) -> np.ndarray:
    """``n x 4`` booleans: is each of :data:`PATHS` live?"""
    return np.stack([(ops[:, list(p)] > 0).all(axis=1) for p in PATHS], axis=1)


def path_encoding(cells: Sequence[Cell]) -> np.ndarray:
    ops = op_matrix(cells)
    out = np.zeros((len(ops), len(path_names())))
    live = _live_paths(ops)
    for j, path in enumerate(PATHS):
        code = np.full(len(ops), _PATH_OFFSETS[len(path)])
        for pos, edge in enumerate(path):
            code += (ops[:, edge] - 1) * _N_LIVE_OPS ** (len(path) - 1 - pos)
        rows = np.flatnonzero(live[:, j])
        np.add.at(out, (rows, code[rows]), 1.0)
    return out


def liveops(cells: Sequence[Cell]) -> np.ndarray:
    ops = op_matrix(cells)
    n = len(ops)
    live = _live_paths(ops)
    live_edge = np.zeros((n, N_EDGES), dtype=bool)
    for j, path in enumerate(PATHS):
        live_edge[:, list(path)] |= live[:, [j]]
    op_counts = [((ops == OPS.index(op)) & live_edge).sum(axis=1) for op in _LIVE_OPS]
    lengths = np.array([len(p) for p in PATHS])
    is_conv = np.isin(ops, [OPS.index("nor_conv_1x1"), OPS.index("nor_conv_3x3")])
    is_skip = ops == OPS.index("skip_connect")
    convs = np.stack([is_conv[:, list(p)].sum(axis=1) for p in PATHS], axis=1)
    skip_only = np.stack([is_skip[:, list(p)].all(axis=1) for p in PATHS], axis=1) & live
    any_live = live.any(axis=1)
    big = np.iinfo(np.int64).max
    return np.column_stack(
        [
            *op_counts,
            live_edge.sum(axis=1),
            live.sum(axis=1),
            np.where(live, lengths, 0).max(axis=1),
            np.where(any_live, np.where(live, lengths, big).min(axis=1), 0),
            skip_only.any(axis=1),
            np.where(live, convs, 0).max(axis=1),
            np.where(any_live, np.where(live, convs, big).min(axis=1), 0),
        ]
    ).astype(np.float64).reshape(n, len(LIVEOPS_NAMES))


@lru_cache(maxsize=1)
def path_names() -> tuple[str, ...]:
    seqs: list[str] = []
    for length in (1, 2, 3):
        codes = np.indices((_N_LIVE_OPS,) * length).reshape(length, -1).T
        seqs += ["path_" + "-".join(_LIVE_OPS[i] for i in code) for code in codes]
    return tuple(seqs)


def dag(cells: Sequence[Cell]) -> np.ndarray:
    return np.array([_dag(c) for c in cells], dtype=np.float64).reshape(len(cells), len(DAG.names()))


@lru_cache(maxsize=None)
def _dag(cell: Cell) -> tuple[float, ...]:
    live = [op != "none" for op in cell.ops]
    output = N_EDGES + 1
    edges = []
    for e, (dst, src) in enumerate(EDGES):
        if not live[e]:
            continue
        feeds = [0] if src == 0 else [1 + f for f, (d, _) in enumerate(EDGES) if d == src and live[f]]
        edges += [(p, 1 + e) for p in feeds]
        if dst == 3:
            edges.append((1 + e, output))
    return tuple(DAG.encode(edges, ["input", *cell.ops, "output"]))
