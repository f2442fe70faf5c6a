"""The DARTS cell space (NAS-Bench-301's) as a search space.

An architecture is a :class:`~.genotype.DartsGenotype`: a normal and a reduction cell, each
four nodes summing two of ``max_pool_3x3``, ``avg_pool_3x3``, ``skip_connect``,
``sep_conv_3x3``, ``sep_conv_5x5``, ``dil_conv_3x3``, ``dil_conv_5x5`` applied to two distinct
earlier states. Genotypes are written ``<normal>|<reduce>`` with 8 ``op~input`` entries per
cell, and NASLib's compact form is read too. The network is DARTS's ``NetworkCIFAR``
(:mod:`.network`).

Size: each cell has ``180 * 49**4 = 1,037,664,180`` forms up to the order of a node's two
inputs, and 382,128,166 classes once intermediate nodes that can be relabelled are identified
(:mod:`.isomorphism`), so the space holds ``382,128,166**2`` (about 1.46e17) canonical
architectures; it is not enumerated.

    >>> space = DartsSpace()
    >>> space.size()
    146021935250523556
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig
from surrogate_nas.spaces.base import COST_NAMES, SearchSpace
from surrogate_nas.spaces.darts import cost
from surrogate_nas.spaces.darts import features as darts_features
from surrogate_nas.spaces.darts.genotype import N_OPS, OPS, DartsCell, DartsGenotype
from surrogate_nas.spaces.darts.isomorphism import NODES, count_cells
from surrogate_nas.spaces.zc import proxy_blocks

__all__ = ["DartsCell", "DartsGenotype", "DartsSpace"]

PROXY_FILE = "darts_proxies.csv.gz"
"""Zero-cost proxies at the default setting, by architecture string (``arch`` + proxy columns)."""


class DartsSpace(SearchSpace):
    """The DARTS / NAS-Bench-301 cell space (see module docstring)."""

    name = "darts"
    input_multiple = 4  # the network halves height and width twice (REDUCTION_FACTOR)
    description = "DARTS / NAS-Bench-301 cells: normal + reduction, 4 nodes x 2 of 7 ops, NetworkCIFAR (C, N)"
    default_network = NetworkConfig(8, 1)
    reference_network = NetworkConfig(32, 2)
    # Chosen by cross-validation on the 725 NAS-Bench-301 rows of ``darts_cifar10_subset.csv.gz``
    # (XGBoost, 50/100/200 training rows, Kendall tau 0.53/0.62/0.69); adding ``zc`` did not help.
    default_features = "inputops+topology+paths+cost"
    cheap_features = "inputops+topology+paths+cost"
    op_abbreviations = MappingProxyType({
        "sep_conv_3x3": "sep3", "sep_conv_5x5": "sep5", "dil_conv_3x3": "dil3", "dil_conv_5x5": "dil5",
        "max_pool_3x3": "max3", "avg_pool_3x3": "avg3", "skip_connect": "skip"})

    def parse(self, text) -> DartsGenotype:
        """A genotype from ``<normal>|<reduce>`` or NASLib's compact form (``[[(input, op_index), ...], [...]]``)."""
        if isinstance(text, DartsGenotype):
            return text
        if isinstance(text, str) and text.lstrip().startswith(("[", "(")):
            return DartsGenotype.from_compact(text)
        return DartsGenotype.from_string(text)

    def is_member(self, arch) -> bool:
        return isinstance(arch, DartsGenotype)

    def size(self) -> int:
        """Distinct canonical architectures: the square of the number of canonical cells."""
        return count_cells(N_OPS) ** 2

    def sample(self, rng: np.random.Generator) -> DartsGenotype:
        """NASLib's sampler: each node draws two distinct inputs and two ops, uniformly."""
        return DartsGenotype(*(self._sample_cell(rng) for _ in range(2)))

    @staticmethod
    def _sample_cell(rng: np.random.Generator) -> DartsCell:
        edges = []
        for node in NODES:
            inputs = rng.choice(node, size=2, replace=False)
            ops = rng.integers(N_OPS, size=2)
            edges += [(OPS[int(op)], int(source)) for op, source in zip(ops, inputs)]
        return DartsCell(tuple(edges))

    def neighbours(self, arch: DartsGenotype) -> list[DartsGenotype]:
        """One op changed, or one input moved (a node's inputs stay distinct), in either cell.

        NASLib's NB-301 neighbourhood (120 genotypes), keeping one genotype per canonical key
        and none with ``arch``'s own key.
        """
        seen = {self.check(arch).canonical_key}
        out = []
        for other in arch.neighbours():
            if other.canonical_key not in seen:
                seen.add(other.canonical_key)
                out.append(other)
        return out

    def representative(self, arch: DartsGenotype) -> DartsGenotype:
        """The canonical form of ``arch`` (:attr:`~.genotype.DartsGenotype.canonical`)."""
        return self.check(arch).canonical

    def _feature_blocks(self):
        f = darts_features
        return {
            "onehot": (f.onehot, f.ONEHOT_NAMES),
            "opcount": (f.opcount, f.OPCOUNT_NAMES),
            "inputops": (f.inputops, f.INPUTOPS_NAMES),
            "topology": (f.topology, f.TOPOLOGY_NAMES),
            "paths": (f.paths, f.PATH_NAMES),
            "dag": (f.dag, f.DAG.names()),
            "cost": (self.cost_block, COST_NAMES),
            **proxy_blocks(self, PROXY_FILE),
        }

    def build_network(self, arch, network, input_shape, num_classes):
        from surrogate_nas.spaces.darts.network import build_network

        return build_network(self.check(arch), _cell_network(network), input_shape, num_classes)

    def count_params(self, arch, network, input_shape, num_classes) -> int:
        return cost.count_params(self.check(arch), _cell_network(network), input_shape, num_classes)

    def count_flops(self, arch, network, input_shape, num_classes) -> int:
        return cost.count_flops(self.check(arch), _cell_network(network), input_shape, num_classes)


def _cell_network(network: NetworkConfig) -> NetworkConfig:
    if not isinstance(network, NetworkConfig) or network.channels is None or network.cells_per_stage is None:
        raise InputDataError(f"the darts network needs channels and cells_per_stage, got {network!r}")
    return network

