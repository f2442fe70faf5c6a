"""NAS-Bench-201 (the NATS-Bench topology space) as a search space.

A 4-node cell whose 6 edges each take one of ``none``, ``skip_connect``,
``nor_conv_1x1``, ``nor_conv_3x3``, ``avg_pool_3x3``: 15,625 cells, 6,466 distinct
functions. Architectures are :class:`~.cell.Cell` values written in NAS-Bench-201's own
string form; the network is NAS-Bench-201's ``TinyNetwork``.

    >>> space = NB201Space()
    >>> space.size()
    6466
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from types import MappingProxyType

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig
from surrogate_nas.spaces.base import COST_NAMES, SearchSpace
from surrogate_nas.spaces.nb201 import cost
from surrogate_nas.spaces.nb201 import features as nb201_features
from surrogate_nas.spaces.nb201.cell import OPS, Cell, all_cells, canonical_cells
from surrogate_nas.spaces.zc import proxy_blocks

PROXY_FILE = "nb201_proxies.csv.gz"
"""Zero-cost proxies of all 15,625 cells at the default setting (``benchmarks/compute_proxies.py``)."""


class NB201Space(SearchSpace):
    """The NAS-Bench-201 cell space (see module docstring)."""

    name = "nb201"
    input_multiple = 4  # the network halves height and width twice (REDUCTION_FACTOR)
    description = "NAS-Bench-201 cell: 6 edges x 5 ops, TinyNetwork skeleton (C, N)"
    default_network = NetworkConfig(16, 1)
    reference_network = NetworkConfig(16, 5)
    default_features = "liveops+cost+zc"
    cheap_features = "liveops+cost"
    latency_features = "devlat"
    op_abbreviations = MappingProxyType({"nor_conv_3x3": "conv3", "nor_conv_1x1": "conv1", "avg_pool_3x3": "avg3",
                                         "skip_connect": "skip"})

    def parse(self, text: str) -> Cell:
        if isinstance(text, Cell):
            return text
        return _cells_by_string().get(text) or Cell.from_string(text)

    def is_member(self, arch) -> bool:
        return isinstance(arch, Cell)

    def measures_latency_on(self, device: str) -> bool:
        from surrogate_nas.devices import DEVICES

        return device in DEVICES

    def measured_latency(self, archs, device: str) -> np.ndarray:
        from surrogate_nas.spaces.nb201.latency import device_latency

        return device_latency(archs, device)

    def enumerate(self) -> tuple[Cell, ...]:
        return canonical_cells()

    def all_architectures(self) -> tuple[Cell, ...]:
        """All 15,625 cells, isomorphic twins included."""
        return all_cells()

    def sample(self, rng: np.random.Generator) -> Cell:
        return Cell(tuple(OPS[i] for i in rng.integers(len(OPS), size=6)))

    def neighbours(self, arch: Cell) -> list[Cell]:
        return self.check(arch).neighbours()

    def representative(self, arch: Cell) -> Cell:
        """The first cell, in :func:`~.cell.all_cells` order, with ``arch``'s canonical key."""
        return _representatives()[arch.canonical_key]

    def _feature_blocks(self):
        return {
            "onehot": (nb201_features.onehot, nb201_features.ONEHOT_NAMES),
            "path": (nb201_features.path_encoding, nb201_features.path_names()),
            "liveops": (nb201_features.liveops, nb201_features.LIVEOPS_NAMES),
            "dag": (nb201_features.dag, nb201_features.DAG.names()),
            "cost": (self.cost_block, COST_NAMES),
            **proxy_blocks(self, PROXY_FILE),
            "devlat": (device_latency_features, _device_latency_names()),
        }

    def cost_block(self, archs: Sequence[Cell]) -> np.ndarray:
        # Every edge maps C channels to C at one resolution, so the cost depends only on the
        # multiset of ops: 210 distinct values over the 15,625 cells.
        return np.array([_log_cost(tuple(sorted(c.op_indices))) for c in archs], dtype=np.float64).reshape(-1, 2)

    def build_network(self, arch, network, input_shape, num_classes):
        from surrogate_nas.spaces.nb201.network import build_network

        return build_network(self.check(arch), _cell_network(network), input_shape, num_classes)

    def count_params(self, arch, network, input_shape, num_classes) -> int:
        return cost.count_params(self.check(arch), _cell_network(network), input_shape, num_classes)

    def count_flops(self, arch, network, input_shape, num_classes) -> int:
        return cost.count_flops(self.check(arch), _cell_network(network), input_shape, num_classes)


def _cell_network(network: NetworkConfig) -> NetworkConfig:
    if not isinstance(network, NetworkConfig) or network.channels is None or network.cells_per_stage is None:
        raise InputDataError(f"the nb201 network needs channels and cells_per_stage, got {network!r}")
    return network


@lru_cache(maxsize=None)
def _log_cost(op_multiset: tuple[int, ...]) -> tuple[float, float]:
    space = NB201Space()
    params, flops = space.reference_cost(Cell.from_op_indices(op_multiset))
    return float(np.log(params)), float(np.log(flops))


@lru_cache(maxsize=1)
def _cells_by_string() -> dict[str, Cell]:
    """Every cell by its printed form: parsing 15,625 strings this way costs one dict lookup each."""
    return {cell.to_string(): cell for cell in all_cells()}


@lru_cache(maxsize=1)
def _representatives() -> dict[str, Cell]:
    return {cell.canonical_key: cell for cell in canonical_cells()}


def device_latency_features(archs: Sequence[Cell]) -> np.ndarray:
    """The ``devlat`` block: each cell's log latency (ms) on the packaged table's device settings.

    Measured facts about the cell on other hardware, not an encoding of it: a latency
    predictor for a new device transfers from them (:mod:`surrogate_nas.predictors.latency`).
    """
    from surrogate_nas.devices import DEVICES
    from surrogate_nas.spaces.nb201.latency import device_latency

    return np.log(np.stack([device_latency(archs, d) for d in DEVICES.values()], axis=1))


def _device_latency_names() -> tuple[str, ...]:
    from surrogate_nas.devices import DEVICES

    return tuple(d.feature for d in DEVICES.values())
