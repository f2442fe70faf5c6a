"""The architectures of a table as a search space of their own.

A search replayed on a table can only evaluate the architectures the table lists. When the
table covers a space that can be listed (every NAS-Bench-201 cell), the space itself is
searched; otherwise (a NAS-Bench-101 sample, a user's table of a few hundred trained
configurations) strategies search a :class:`SubsetSpace`: it lists the table's
architectures, samples among them, and keeps only the neighbours the table holds, while
parsing, features and networks stay the underlying space's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from surrogate_nas.spaces.base import SearchSpace


class SubsetSpace(SearchSpace):
    """``base`` restricted to ``archs`` (one representative per canonical key, in the given order)."""

    def __init__(self, base: SearchSpace, archs: Sequence) -> None:
        self.base = base
        listed: dict[str, object] = {}
        for arch in archs:
            listed.setdefault(base.check(arch).canonical_key, arch)
        self._listed = tuple(listed.values())
        self._keys = frozenset(listed)
        self.name = base.name
        self.description = f"{len(self._listed)} architectures of the {base.name} space"
        self.network_options = base.network_options
        self.default_network = base.default_network
        self.reference_network = base.reference_network
        self.default_features = base.default_features
        self.cheap_features = base.cheap_features
        self.latency_features = base.latency_features

    def parse(self, text):
        return self.base.parse(text)

    def is_member(self, arch) -> bool:
        return self.base.is_member(arch)

    def enumerate(self):
        return self._listed

    def sample(self, rng: np.random.Generator):
        return self._listed[int(rng.integers(len(self._listed)))]

    def neighbours(self, arch) -> list:
        return [n for n in self.base.neighbours(arch) if n.canonical_key in self._keys]

    def representative(self, arch):
        return self.base.representative(arch)

    def _feature_blocks(self):
        return self.base.feature_blocks

    def features(self, archs, kind: str = "default") -> np.ndarray:
        return self.base.features(archs, kind)

    def build_network(self, arch, network, input_shape, num_classes):
        return self.base.build_network(arch, network, input_shape, num_classes)

    def count_params(self, arch, network, input_shape, num_classes) -> int:
        return self.base.count_params(arch, network, input_shape, num_classes)

    def count_flops(self, arch, network, input_shape, num_classes) -> int:
        return self.base.count_flops(arch, network, input_shape, num_classes)

    def reference_cost(self, arch) -> tuple[int, int]:
        return self.base.reference_cost(arch)

    def with_cache(self, cache) -> "SubsetSpace":
        return SubsetSpace(self.base.with_cache(cache), self._listed)
