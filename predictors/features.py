"""Architecture features: cells in, an ``n x d`` float64 matrix out.

Every feature is computed from the cell alone (no benchmark table), so a
predictor trained on a table can score any cell a user brings. Kinds:

* ``onehot`` (30): :meth:`~surrogate_nas.cell.Cell.onehot`, edge-major.
* ``path`` (84): BANANAS path encoding. The cell has 4 input->output paths,
  ``0->3``, ``0->1->3``, ``0->2->3`` and ``0->1->2->3``; a path is live when none of
  its edges is ``none``, so a live path of length ``L`` is one of ``4**L`` op
  sequences, ``4 + 16 + 64 = 84`` in all. Each entry counts the live paths with that
  op sequence (the two length-2 paths may share one, so a count can be 2).
* ``liveops`` (11): see :data:`LIVEOPS_NAMES`; counts over *live* edges (those on a
  live path), so dead edges, which cannot change the function, are ignored.
* ``cost`` (2): ``log`` params and ``log`` FLOPs of the NAS-Bench-201 reference network
  (C=16, N=5, 3x32x32 input, 10 classes) from :mod:`surrogate_nas.cost`.
* ``zc`` (3): zero-cost proxies from :mod:`surrogate_nas.predictors.proxies`, with
  degenerate scores bounded (see :func:`_zc_block`).

Kinds join with ``+``: ``featurize(cells, "onehot+liveops+cost+zc")``.

Example:
    >>> from surrogate_nas.cell import Cell
    >>> featurize([Cell(("nor_conv_3x3",) * 6)], "onehot+path").shape
    (1, 114)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from surrogate_nas.cell import N_EDGES, N_OPS, OPS, Cell
from surrogate_nas.cost import count_flops, count_params
from surrogate_nas.errors import InputDataError
from surrogate_nas.predictors.proxies import PROXY_NAMES, proxy_scores
from surrogate_nas.records import NetworkConfig

FEATURE_SETS: tuple[str, ...] = ("onehot", "path", "liveops", "cost", "zc")
"""Base feature kinds; any ``+``-joined combination is also accepted."""

PATHS: tuple[tuple[int, ...], ...] = ((3,), (0, 4), (1, 5), (0, 2, 5))
"""Input->output paths as edge indices into :data:`~surrogate_nas.cell.EDGES`:
``0->3``, ``0->1->3``, ``0->2->3``, ``0->1->2->3``."""

_LIVE_OPS = OPS[1:]  # every op but "none"
_N_LIVE_OPS = len(_LIVE_OPS)
_PATH_OFFSETS = {1: 0, 2: 4, 3: 4 + 16}
N_PATH_FEATURES = 4 + 16 + 64

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

REFERENCE_NETWORK = NetworkConfig(channels=16, cells_per_stage=5)
REFERENCE_INPUT = (3, 32, 32)
REFERENCE_CLASSES = 10

_SYNFLOW_FLOOR = 0.0
"""``log synflow`` below 0 (score < 1) only occurs when the output barely depends on the
weights; live cells score about e^12..e^30 at the default proxy setting."""


def featurize(cells: Sequence[Cell], kind: str = "onehot") -> np.ndarray:
    """Feature matrix of ``cells``.

    Args:
        cells: The architectures; rows follow this order.
        kind: A name from :data:`FEATURE_SETS` or several joined by ``+``.

    Returns:
        ``n x d`` float64 array; ``d`` is :func:`n_features` of ``kind``.

    Raises:
        InputDataError: Unknown kind, or an element of ``cells`` that is not a Cell.
    """
    kinds = _parse_kind(kind)
    for i, cell in enumerate(cells):
        if not isinstance(cell, Cell):
            raise InputDataError(f"featurize needs Cell values, got {type(cell).__name__} at position {i}")
    ops = np.array([c.op_indices for c in cells], dtype=np.int64).reshape(len(cells), N_EDGES)
    blocks = [_BLOCKS[k](ops, cells) for k in kinds]
    return np.concatenate(blocks, axis=1).astype(np.float64, copy=False)


def feature_names(kind: str = "onehot") -> list[str]:
    """Column names of :func:`featurize` for ``kind``, in column order."""
    names: list[str] = []
    for k in _parse_kind(kind):
        if k == "onehot":
            names += [f"edge{e}_{op}" for e in range(N_EDGES) for op in OPS]
        elif k == "path":
            names += [f"path_{'-'.join(seq)}" for seq in _path_sequences()]
        elif k == "liveops":
            names += list(LIVEOPS_NAMES)
        elif k == "cost":
            names += ["log_params", "log_flops"]
        else:
            names += [f"zc_{p}" for p in PROXY_NAMES]
    return names


def n_features(kind: str = "onehot") -> int:
    """Number of columns :func:`featurize` returns for ``kind``."""
    return len(feature_names(kind))


def _parse_kind(kind: str) -> list[str]:
    parts = [p.strip() for p in str(kind).split("+")] if isinstance(kind, str) else []
    bad = [p for p in parts if p not in FEATURE_SETS]
    if not parts or bad:
        raise InputDataError(
            f"unknown feature kind {kind!r}; expected one of {', '.join(FEATURE_SETS)} "
            "or several joined by '+', e.g. 'onehot+liveops+cost+zc'"
        )
    return parts


def _onehot_block(ops: np.ndarray, cells) -> np.ndarray:
    return np.eye(N_OPS)[ops].reshape(len(ops), N_EDGES * N_OPS)


def _live_paths(ops: np.ndarray) -> np.ndarray:
    """``n x 4`` booleans: is each of :data:`PATHS` live?"""
    return np.stack([(ops[:, list(p)] > 0).all(axis=1) for p in PATHS], axis=1)


def _path_block(ops: np.ndarray, cells) -> np.ndarray:
    out = np.zeros((len(ops), N_PATH_FEATURES))
    live = _live_paths(ops)
    for j, path in enumerate(PATHS):
        code = np.full(len(ops), _PATH_OFFSETS[len(path)])
        for pos, edge in enumerate(path):
            code += (ops[:, edge] - 1) * _N_LIVE_OPS ** (len(path) - 1 - pos)
        rows = np.flatnonzero(live[:, j])
        np.add.at(out, (rows, code[rows]), 1.0)
    return out


def _liveops_block(ops: np.ndarray, cells) -> np.ndarray:
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
    ).astype(np.float64)


def _cost_block(ops: np.ndarray, cells) -> np.ndarray:
    # Every cell edge maps C channels to C at one resolution, so cost depends only on the
    # multiset of ops: 210 distinct values over the 15,625 cells.
    multisets = np.sort(ops, axis=1)
    return np.array([_log_cost(tuple(m)) for m in multisets.tolist()], dtype=np.float64).reshape(len(ops), 2)


@lru_cache(maxsize=None)
def _log_cost(op_multiset: tuple[int, ...]) -> tuple[float, float]:
    args = (Cell.from_op_indices(op_multiset), REFERENCE_NETWORK, REFERENCE_INPUT, REFERENCE_CLASSES)
    return float(np.log(count_params(*args))), float(np.log(count_flops(*args)))


def _zc_block(ops: np.ndarray, cells) -> np.ndarray:
    """Proxy scores with degenerate values bounded, so no single cell dominates a scale.

    ``synflow`` is clipped below at :data:`_SYNFLOW_FLOOR`; ``jacov`` (about -33 to -74
    for live cells, -3.1e6 when the output ignores the input) becomes
    ``-log(-jacov)``; ``nwot`` is used as is.
    """
    scores = proxy_scores(cells).reshape(len(cells), len(PROXY_NAMES))
    out = scores.copy()
    col = {name: i for i, name in enumerate(PROXY_NAMES)}
    out[:, col["synflow"]] = np.maximum(scores[:, col["synflow"]], _SYNFLOW_FLOOR)
    out[:, col["jacov"]] = -np.log(np.maximum(-scores[:, col["jacov"]], 1.0))
    return out


@lru_cache(maxsize=1)
def _path_sequences() -> tuple[tuple[str, ...], ...]:
    seqs: list[tuple[str, ...]] = []
    for length in (1, 2, 3):
        codes = np.indices((_N_LIVE_OPS,) * length).reshape(length, -1).T
        seqs += [tuple(_LIVE_OPS[i] for i in code) for code in codes]
    return tuple(seqs)


_BLOCKS = {
    "onehot": _onehot_block,
    "path": _path_block,
    "liveops": _liveops_block,
    "cost": _cost_block,
    "zc": _zc_block,
}
