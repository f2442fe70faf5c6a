"""Which DARTS cells compute the same function, and how many distinct cells there are.

A cell is written here as raw integers, independent of operation names: four intermediate
nodes (2..5), each a pair of *edges* ``(input, op)``, where ``input`` is 0 or 1 (the two
previous cells) or an earlier intermediate node, and ``op`` indexes an operation list.

Two cells are identified when one is the other with

* the two edges of a node swapped (a node is the *sum* of its two edges), or
* the intermediate nodes relabelled in another topological order: the cell output
  concatenates nodes 2..5, and every consumer of that output (the next cells' 1x1
  ``ReLUConvBN`` or ``FactorizedReduce`` preprocessing, or the classifier after global
  pooling) starts with a 1x1 convolution or a linear layer, which absorbs a permutation of
  its input channels. With i.i.d. initialisation both cells define the same family of
  functions and the same distribution of initial networks.

Inputs 0 and 1 are never swapped (they come from different cells). Nothing else is
identified: cells that agree only through algebra on ``skip_connect`` (an identity in a
normal cell) or through pooling identities keep distinct keys, as do cells whose nodes merely
compute the same expression with separate weights.

The canonical form is the smallest relabelling (edges sorted within each node, nodes in
label order, compared as tuples), i.e. the canonical labelling of the cell as a DAG with
two fixed sources and edge-labelled by op; there are at most 4! = 24 labellings to try.

Counting classes uses the orbit-stabiliser theorem on labellings: a cell ``G`` with input
structure ``s`` (the pairs of inputs, ops ignored) has ``T(s)`` valid labellings (topological
orders of its intermediate nodes), ``|Aut(G)|`` of which give ``G`` itself, so its class holds
``T(s) / |Aut(G)|`` cells and the number of classes is ``sum_G |Aut(G)| / T(s)``. Summing over
the op labellings of one structure, ``sum_ops |Aut(G)| = sum_{sigma in Aut(s)} n_ops**c(sigma)``
(Burnside), with ``c(sigma)`` the number of cycles of ``sigma`` on the 8 edges.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from functools import lru_cache

Edge = tuple[int, int]
"""``(input, op index)``."""

Node = tuple[Edge, Edge]
CellNodes = tuple[Node, Node, Node, Node]

N_INPUTS = 2
"""Cell inputs 0 and 1 (outputs of the cells two and one before)."""

NODES: tuple[int, ...] = (2, 3, 4, 5)
"""Intermediate node labels; node ``k`` may read inputs ``0 .. k - 1``."""


@lru_cache(maxsize=1)
def _relabellings() -> tuple[tuple[int, ...], ...]:
    """Every bijection of the node labels as a lookup ``old label -> new label`` (inputs fixed)."""
    return tuple(tuple(range(N_INPUTS)) + perm for perm in itertools.permutations(NODES))


def relabel(nodes: CellNodes, mapping: tuple[int, ...]) -> CellNodes | None:
    """``nodes`` with node ``k`` renamed ``mapping[k]``, or None when that order is not topological.

    Edges are sorted within each node, so the result is independent of edge order.
    """
    out: list[Node | None] = [None] * len(NODES)
    for node, edges in zip(NODES, nodes):
        new = mapping[node]
        moved = tuple(sorted((mapping[src], op) for src, op in edges))
        if moved[-1][0] >= new:
            return None
        out[new - N_INPUTS] = moved
    return tuple(out)  # type: ignore[return-value]


def canonical_nodes(nodes: CellNodes) -> CellNodes:
    """The canonical form of a cell: its smallest valid relabelling (see module docstring)."""
    return min(r for r in (relabel(nodes, m) for m in _relabellings()) if r is not None)


def structures() -> list[tuple[tuple[int, int], ...]]:
    """Every input structure: for each node ``k``, a sorted pair of distinct inputs below ``k`` (180)."""
    choices = [list(itertools.combinations(range(node), 2)) for node in NODES]
    return list(itertools.product(*choices))


def _edge_cycles(structure: tuple[tuple[int, int], ...], mapping: tuple[int, ...]) -> int:
    """Cycles of the permutation that ``mapping`` (an automorphism of ``structure``) induces on edges."""
    edges = [(src, node) for node, pair in zip(NODES, structure) for src in pair]
    image = {e: (mapping[e[0]], mapping[e[1]]) for e in edges}
    seen: set[tuple[int, int]] = set()
    cycles = 0
    for edge in edges:
        if edge in seen:
            continue
        cycles += 1
        while edge not in seen:
            seen.add(edge)
            edge = image[edge]
    return cycles


@lru_cache(maxsize=None)
def count_cells(n_ops: int) -> int:
    """Number of distinct canonical cells when each edge takes one of ``n_ops`` operations.

    ``count_cells(7)`` is the DARTS normal (or reduction) cell; ``n_ops`` smaller than 7 is
    there to check the formula against brute-force enumeration.
    """
    total = Fraction(0)
    for structure in structures():
        as_nodes = tuple(tuple((src, 0) for src in pair) for pair in structure)
        valid = [m for m in _relabellings() if relabel(as_nodes, m) is not None]
        fixed = [m for m in valid if relabel(as_nodes, m) == as_nodes]
        total += Fraction(sum(n_ops ** _edge_cycles(structure, m) for m in fixed), len(valid))
    return int(total)


def all_cell_nodes(n_ops: int) -> itertools.product:
    """Every cell (edges sorted within each node) for ``n_ops`` operations, lazily."""
    ops = list(itertools.product(range(n_ops), repeat=2))
    per_node = [[((a, p), (b, q)) for a, b in itertools.combinations(range(node), 2) for p, q in ops] for node in NODES]
    return itertools.product(*per_node)
