"""The ``dag`` feature kind: an architecture's graph as one fixed-size feature row.

Graph predictors need the cell's DAG, yet every predictor takes an ``n x d`` matrix. A space
therefore writes each architecture as a DAG of at most ``n_nodes`` nodes with operations on
the nodes (NAS-Bench-101's form; edge-labelled cells are converted: each operation becomes a
node), flattened into one row:

    [ adjacency, n_nodes x n_nodes, row-major (adj[i, j] = 1: an edge from node i to node j)
      node types, n_nodes x len(node_types), one-hot (all zero for a padding node) ]

so ``d = n_nodes**2 + n_nodes * len(node_types)`` and the contract stays ``fit(X, y)``. A
predictor reads the layout back with :func:`dag_shape` from ``d`` and ``n_nodes``; the
registry passes ``n_nodes`` from the space's column names (:func:`dag_nodes`). Columns after
the ``dag`` block (``dag+liveops+cost``, say) are whole-graph features.

    >>> layout = DagLayout(3, ("input", "conv", "output"))
    >>> row = layout.encode([(0, 1), (1, 2)], ["input", "conv", "output"])
    >>> row.reshape(-1)[:9].tolist()
    [0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    >>> dag_shape(len(layout.names()), 3)
    (3, 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from surrogate_nas.errors import InputDataError

ADJ_PREFIX = "dag_adj_"
"""Column names of the adjacency part start with this (then ``i_j``)."""


@dataclass(frozen=True)
class DagLayout:
    """The node count and node-type vocabulary of a space's ``dag`` rows."""

    n_nodes: int
    node_types: tuple[str, ...]

    def names(self) -> tuple[str, ...]:
        """Column names: ``dag_adj_<i>_<j>`` then ``dag_node<i>_<type>``."""
        n = range(self.n_nodes)
        return (*(f"{ADJ_PREFIX}{i}_{j}" for i in n for j in n),
                *(f"dag_node{i}_{t}" for i in n for t in self.node_types))  # fmt: skip

    def encode(self, edges: Sequence[tuple[int, int]], types: Sequence[str | None]) -> np.ndarray:
        """One row from ``(i, j)`` edges and the type of each node (``None`` pads)."""
        if len(types) > self.n_nodes:
            raise InputDataError(f"a dag row holds {self.n_nodes} nodes, got {len(types)}")
        adj = np.zeros((self.n_nodes, self.n_nodes))
        for i, j in edges:
            adj[i, j] = 1.0
        onehot = np.zeros((self.n_nodes, len(self.node_types)))
        for i, kind in enumerate(types):
            if kind is not None:
                onehot[i, self.node_types.index(kind)] = 1.0
        return np.concatenate([adj.ravel(), onehot.ravel()])


def dag_nodes(names: Sequence[str]) -> int:
    """``n_nodes`` of a ``dag`` block from its column names (the count of adjacency columns is its square)."""
    count = sum(name.startswith(ADJ_PREFIX) for name in names)
    n = int(round(np.sqrt(count)))
    if n < 1 or n * n != count:
        raise InputDataError(f"expected a dag block ({ADJ_PREFIX}* columns, a square number of them), got {count}")
    return n


def dag_shape(n_columns: int, n_nodes: int) -> tuple[int, int]:
    """``(n_nodes, n_node_types)`` of a ``dag`` block of ``n_columns`` columns.

    Raises:
        InputDataError: ``n_columns`` is not ``n_nodes**2 + n_nodes * k`` for some ``k >= 1``.
    """
    n = int(n_nodes)
    rest = int(n_columns) - n * n
    if n < 1 or rest < n or rest % n:
        raise InputDataError(f"{n_columns} columns are not a dag block of {n_nodes} nodes (n^2 + n * types)")
    return n, rest // n
