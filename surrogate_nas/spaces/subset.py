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


class RestrictedSpace(SearchSpace):
    """A part of ``base``: what it lists, samples and offers as neighbours is the subclass's
    choice, while parsing, features, networks and costs stay ``base``'s."""

    def __init__(self, base: SearchSpace, description: str) -> None:
        self.base = base
        self.name = base.name
        self.description = description
        for attr in ("network_options", "default_network", "reference_network", "default_features",
                     "cheap_features", "latency_features"):
            setattr(self, attr, getattr(base, attr))

    def parse(self, text):
        return self.base.parse(text)

    def is_member(self, arch) -> bool:
        return self.base.is_member(arch)

    def representative(self, arch):
        return self.base.representative(arch)

    def _feature_blocks(self):
        return self.base.feature_blocks

    def features(self, archs, kind: str = "default") -> np.ndarray:
        return self.base.features(archs, kind)

    def feature_names(self, kind: str = "default") -> list[str]:
        return self.base.feature_names(kind)

    def parse_kind(self, kind: str) -> list[str]:
        return self.base.parse_kind(kind)

    def build_network(self, arch, network, input_shape, num_classes):
        return self.base.build_network(arch, network, input_shape, num_classes)

    def count_params(self, arch, network, input_shape, num_classes) -> int:
        return self.base.count_params(arch, network, input_shape, num_classes)

    def count_flops(self, arch, network, input_shape, num_classes) -> int:
        return self.base.count_flops(arch, network, input_shape, num_classes)

    def reference_cost(self, arch) -> tuple[int, int]:
        return self.base.reference_cost(arch)


class SubsetSpace(RestrictedSpace):
    """``base`` restricted to ``archs`` (one representative per canonical key, in the given order)."""

    def __init__(self, base: SearchSpace, archs: Sequence) -> None:
        listed: dict[str, object] = {}
        for arch in archs:
            listed.setdefault(base.check(arch).canonical_key, arch)
        super().__init__(base, f"{len(listed)} architectures of the {base.name} space")
        self._listed = tuple(listed.values())
        self._keys = frozenset(listed)

    def enumerate(self):
        return self._listed

    def sample(self, rng: np.random.Generator):
        return self._listed[int(rng.integers(len(self._listed)))]

    def neighbours(self, arch) -> list:
        return [n for n in self.base.neighbours(arch) if n.canonical_key in self._keys]

    def with_cache(self, cache) -> "SubsetSpace":
        return SubsetSpace(self.base.with_cache(cache), self._listed)
