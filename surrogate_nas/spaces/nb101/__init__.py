"""NAS-Bench-101 as a search space.

A cell is a DAG of at most 7 vertices and 9 edges whose 5 intermediate vertices each
take one of ``conv3x3-bn-relu``, ``conv1x1-bn-relu``, ``maxpool3x3``: 423,624 distinct
cells after pruning and isomorphism. Architectures are :class:`~.cell.NB101Cell` values
written as ``<adjacency rows joined by '|'>;<ops joined by ','>``; their canonical key is
NAS-Bench-101's own module hash, and the network is NAS-Bench-101's (stem, 3 stacks of
``N`` modules, ``C`` stem channels doubled at each downsampling).

    >>> space = NB101Space()
    >>> space.size()
    423624
    >>> space.parse("0110|0001|0001|0000;input,conv3x3-bn-relu,maxpool3x3,output").canonical_key
    '7c65f6bd01b87407734781b6038050bc'
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from types import MappingProxyType

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig
from surrogate_nas.spaces.base import COST_NAMES, SearchSpace
from surrogate_nas.spaces.nb101 import cost
from surrogate_nas.spaces.nb101 import features as nb101_features
from surrogate_nas.spaces.nb101.cell import MAX_VERTICES, NB101Cell, sample_cell
from surrogate_nas.spaces.zc import proxy_blocks

SIZE = 423_624
"""Distinct cells (module hashes) in NAS-Bench-101 (Ying et al., 2019)."""

PROXY_FILE = "nb101_proxies.csv.gz"
"""Shipped zero-cost proxies at the default setting, keyed by arch string (optional)."""

MIN_CHANNELS = MAX_VERTICES - 2
"""A module splits its output channels between up to 5 vertices, each of which needs one."""


class NB101Space(SearchSpace):
    """The NAS-Bench-101 cell space (see module docstring)."""

    name = "nb101"
    input_multiple = 4  # the network halves height and width twice (REDUCTION_FACTOR)
    description = "NAS-Bench-101 cell: 7-vertex DAG, <= 9 edges, 3 ops; 3 stacks of N modules from C stem channels"
    default_network = NetworkConfig(16, 1)
    reference_network = NetworkConfig(128, 3)
    default_features = "graph+path+cost"
    cheap_features = "graph+path+cost"
    op_abbreviations = MappingProxyType({"conv3x3-bn-relu": "conv3", "conv1x1-bn-relu": "conv1",
                                         "maxpool3x3": "max3"})

    def parse(self, text: str) -> NB101Cell:
        if isinstance(text, NB101Cell):
            return text
        return NB101Cell.from_string(text)

    def is_member(self, arch) -> bool:
        return isinstance(arch, NB101Cell)

    def size(self) -> int:
        return SIZE

    def sample(self, rng: np.random.Generator) -> NB101Cell:
        return sample_cell(rng)

    def neighbours(self, arch: NB101Cell) -> list[NB101Cell]:
        return self.check(arch).neighbours()

    def representative(self, arch: NB101Cell) -> NB101Cell:
        """The canonical numbering of ``arch``'s pruned cell (:attr:`~.cell.NB101Cell.canonical`)."""
        return self.check(arch).canonical

    def _feature_blocks(self):
        return {
            "onehot": (nb101_features.onehot, nb101_features.ONEHOT_NAMES),
            "path": (nb101_features.path_encoding, nb101_features.path_names()),
            "graph": (nb101_features.graph_stats, nb101_features.GRAPH_NAMES),
            "dag": (nb101_features.dag, nb101_features.DAG.names()),
            "cost": (self.cost_block, COST_NAMES),
            **proxy_blocks(self, PROXY_FILE),
        }

    def cost_block(self, archs: Sequence[NB101Cell]) -> np.ndarray:
        # Costed on the canonical numbering, so all twins of a key share one row: their own
        # networks can differ by up to ~2% in params, by which vertex gets an odd channel.
        return np.array([_log_cost(a.canonical) for a in archs], dtype=np.float64).reshape(-1, 2)

    def build_network(self, arch, network, input_shape, num_classes):
        from surrogate_nas.spaces.nb101.network import build_network

        return build_network(self.check(arch), _module_network(network), input_shape, num_classes)

    def count_params(self, arch, network, input_shape, num_classes) -> int:
        return cost.count_params(self.check(arch), _module_network(network), input_shape, num_classes)

    def count_flops(self, arch, network, input_shape, num_classes) -> int:
        return cost.count_flops(self.check(arch), _module_network(network), input_shape, num_classes)


def _module_network(network: NetworkConfig) -> NetworkConfig:
    if not isinstance(network, NetworkConfig) or network.channels is None or network.cells_per_stage is None:
        raise InputDataError(f"the nb101 network needs channels and cells_per_stage, got {network!r}")
    if network.channels < MIN_CHANNELS:
        raise InputDataError(
            f"the nb101 network needs channels (C) >= {MIN_CHANNELS}, one per vertex feeding a module's output; "
            f"got {network.channels}"
        )
    return network


@lru_cache(maxsize=65536)
def _log_cost(cell: NB101Cell) -> tuple[float, float]:
    params, flops = NB101Space().reference_cost(cell)
    return float(np.log(params)), float(np.log(flops))

