"""The search-space interface: what every space (NAS-Bench-201, NAS-Bench-101, DARTS, yours) provides.

A space owns everything that depends on what an architecture *is*:

* **values**: architectures are immutable, hashable values with ``to_string()`` (the space's
  own text form, which :meth:`SearchSpace.parse` reads back) and ``canonical_key``
  (shared by exactly the architectures that compute the same function, so the
  database never trains one function twice);
* **sampling and moves**: :meth:`~SearchSpace.sample`, :meth:`~SearchSpace.neighbours`,
  and :meth:`~SearchSpace.enumerate` when the space is small enough to list;
* **encodings**: numeric feature blocks for predictors (:meth:`~SearchSpace.features`),
  among them the three every space offers: ``onehot`` (the plain encoding),
  ``cost`` (log params and log FLOPs of the space's reference network) and ``zc``
  (data-free zero-cost proxies, :data:`~surrogate_nas.proxies.PROXY_NAMES` order);
* **networks**: the ``torch.nn.Module`` for an architecture, and its parameter and FLOP
  counts, for a :class:`~surrogate_nas.records.NetworkConfig` (width ``channels`` and depth
  ``cells_per_stage``; a space that has no such knobs declares ``network_options = ()``).

Nothing here imports torch: networks are built by each space's own ``network`` module,
imported only when a network is needed, so listing spaces and parsing architectures stay fast.

Adding a space is a folder under ``surrogate_nas/spaces/`` plus one line in
:data:`surrogate_nas.spaces.registry.SPACES`, or, outside this package, a plug-in
(:func:`surrogate_nas.register_space` or the ``surrogate_nas.spaces`` entry-point group).
:func:`surrogate_nas.testing.check_space` runs the contract on any space;
``tests/core/test_space_contract.py`` runs it over every named one.
"""

from __future__ import annotations

import copy
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

STANDARD_FEATURES: tuple[str, ...] = ("onehot", "cost", "zc")
"""Feature kinds every space provides, with the same meaning in each."""

COST_NAMES: tuple[str, str] = ("log_params", "log_flops")
"""Columns of the ``cost`` kind."""

REFERENCE_INPUT: tuple[int, int, int] = (3, 32, 32)
REFERENCE_CLASSES = 10
"""The reference network of a space is built for CIFAR-10-shaped inputs, so its
``params_ref``/``flops_ref`` compare across datasets (NAS-Bench convention)."""


@runtime_checkable
class Architecture(Protocol):
    """One architecture of a space: immutable, hashable, printable and parseable."""

    def to_string(self) -> str: ...

    @property
    def canonical_key(self) -> str: ...


class FeatureCache(Protocol):
    """Where a space may keep expensive features (zero-cost proxies) between processes.

    :class:`~surrogate_nas.storage.ArchitectureStore` implements it with its ``features`` table.
    """

    def get_features(self, space: str, name: str, keys: list[str]) -> dict[str, float]: ...

    def put_features(self, space: str, name: str, values: dict[str, float]) -> None: ...


FeatureBlock = Callable[[Sequence[Any]], np.ndarray]


class SearchSpace(ABC):
    """Base class of search spaces; subclasses implement the abstract methods.

    Class attributes:
        name: registry name (``"nb201"``); stored with every architecture in the database.
        description: one line for ``surrogate-nas spaces``.
        network_options: which :class:`NetworkConfig` fields the network builder reads.
        default_network: the setting used when the user gives none.
        reference_network: the setting of ``params_ref``/``flops_ref`` and the ``cost`` features.
        default_features: the predictors' default feature set (``+``-joined kinds).
        cheap_features: the default set without the costly ``zc`` block (for large candidate pools).
        latency_features: what latency predictors read (``fit --target latency``); NAS-Bench-201
            has the cells' measured latency on other devices.
        has_network: whether :meth:`build_network` and the counts work (a space of choices
            without a builder has none); what needs a network (``cost`` features, counting
            params on a table) reads it.
        input_multiple: height and width of an input must be multiples of this (a network that
            halves them ``k`` times says ``2**k``; 1: any size). :meth:`build_network` refuses others.
        reference_input, reference_classes: the input shape and class count of the reference
            network (CIFAR-10's by default; a space for other inputs may declare its own).
        op_abbreviations: short forms of the op names in the space's text form, for readable
            run names (:meth:`short_text`).
    """

    name: str = "space"
    description: str = ""
    network_options: tuple[str, ...] = ("channels", "cells_per_stage")
    default_network: NetworkConfig = NetworkConfig()
    reference_network: NetworkConfig = NetworkConfig(16, 5)
    default_features: str = "onehot+cost"
    cheap_features: str = "onehot+cost"
    latency_features: str = "onehot+cost"
    has_network: bool = True
    input_multiple: int = 1
    reference_input: tuple[int, int, int] = REFERENCE_INPUT
    reference_classes: int = REFERENCE_CLASSES
    op_abbreviations: Mapping[str, str] = MappingProxyType({})

    # -- values ------------------------------------------------------------------------
    @abstractmethod
    def parse(self, text: str) -> Architecture:
        """The architecture written as ``text`` in this space's form.

        Raises:
            InputDataError: ``text`` is not an architecture of this space; the message says
                what was expected.
        """

    def format(self, arch: Architecture) -> str:
        """The space's text form of ``arch`` (what :meth:`parse` reads)."""
        return self.check(arch).to_string()

    def short_text(self, text: str, limit: int = 120) -> str:
        """A readable run name for an architecture's text form: the space's short op names
        (:attr:`op_abbreviations`), no separators' clutter, at most ``limit`` characters."""
        short = text
        if self.op_abbreviations:
            ops = sorted(map(re.escape, self.op_abbreviations), key=len, reverse=True)
            short = re.sub("|".join(ops), lambda m: self.op_abbreviations[m.group(0)], text)
        short = re.sub(r"\|\+\|", " + ", short).strip("|").replace("|", " ")
        return short if len(short) <= limit else short[: limit - 1] + "~"

    def measures_latency_on(self, device: str) -> bool:
        """Whether the package holds measured latencies of this space's architectures on ``device``
        (a setting of :data:`surrogate_nas.devices.DEVICES`); none by default."""
        return False

    def measured_latency(self, archs: Sequence[Architecture], device: str) -> np.ndarray:
        """Packaged latency (ms) of ``archs`` on ``device``.

        Raises:
            InputDataError: none is packaged for this space on that device.
        """
        raise InputDataError(f"no measured latency of the {self.name} space on {device} is packaged")

    @abstractmethod
    def is_member(self, arch: Any) -> bool:
        """Whether ``arch`` is an architecture value of this space."""

    def check(self, arch: Any) -> Architecture:
        """``arch`` itself when it belongs to this space.

        Raises:
            InputDataError: it does not.
        """
        if not self.is_member(arch):
            raise InputDataError(f"{arch!r} is not an architecture of the {self.name} space")
        return arch

    def as_architecture(self, value: Any) -> Architecture:
        """An architecture of this space from a value or its text form."""
        return self.parse(value) if isinstance(value, str) else self.check(value)

    # -- size, enumeration, sampling ---------------------------------------------------------
    def size(self) -> int | None:
        """How many distinct architectures (canonical keys) the space holds, when known."""
        listed = self.enumerate()
        return None if listed is None else len(listed)

    def enumerate(self) -> Sequence[Architecture] | None:
        """One representative per canonical key, in a fixed order; ``None`` when too large to list."""
        return None

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Architecture:
        """One architecture drawn by the space's own sampling distribution."""

    def sample_unseen(self, n: int, rng: np.random.Generator, exclude: Iterable[str] = ()) -> list[Architecture]:
        """Up to ``n`` architectures with distinct canonical keys outside ``exclude``.

        Enumerable spaces sample uniformly over canonical architectures; the others
        draw from :meth:`sample` and reject repeats, so a nearly exhausted huge space
        returns fewer than ``n`` rather than loop forever.
        """
        taken = set(exclude)
        out: list[Architecture] = []
        listed = self.enumerate()
        if listed is not None:
            for _ in range(20 * n):
                if len(out) == n:
                    return out
                arch = listed[int(rng.integers(len(listed)))]
                if arch.canonical_key not in taken:
                    taken.add(arch.canonical_key)
                    out.append(arch)
            rest = [a for a in listed if a.canonical_key not in taken]
            return out + [rest[i] for i in rng.permutation(len(rest))[: n - len(out)]]
        misses = 0
        while len(out) < n and misses < 50 * max(n, 20):
            arch = self.sample(rng)
            if arch.canonical_key in taken:
                misses += 1
                continue
            taken.add(arch.canonical_key)
            out.append(arch)
        return out

    @abstractmethod
    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """Every architecture one elementary change away (an op swapped, an edge moved, ...)."""

    def mutate(self, arch: Architecture, rng: np.random.Generator, exclude: Iterable[str] = ()) -> Architecture:
        """A random neighbour of ``arch`` whose key is outside ``exclude`` (a fresh sample if none is)."""
        taken = set(exclude)
        options = self.neighbours(arch)
        for i in rng.permutation(len(options)):
            if options[i].canonical_key not in taken:
                return options[i]
        fresh = self.sample_unseen(1, rng, taken)
        if not fresh:
            raise InputDataError(f"the {self.name} space has no architecture left outside the excluded ones")
        return fresh[0]

    # -- encodings -----------------------------------------------------------------------
    @cached_property
    def feature_blocks(self) -> dict[str, tuple[FeatureBlock, tuple[str, ...]]]:
        """``kind -> (function of a list of architectures returning n x d, column names)``."""
        return self._feature_blocks()

    @abstractmethod
    def _feature_blocks(self) -> dict[str, tuple[FeatureBlock, tuple[str, ...]]]:
        """The space's feature kinds; must include :data:`STANDARD_FEATURES`."""

    def feature_kinds(self) -> tuple[str, ...]:
        return tuple(self.feature_blocks)

    def parse_kind(self, kind: str) -> list[str]:
        """The base kinds of a ``+``-joined kind; ``default``, ``cheap`` and ``latency`` name the space's sets
        (also as parts: ``onehot+default``).

        Raises:
            InputDataError: a part is not a kind of this space.
        """
        sets = {"default": self.default_features, "cheap": self.cheap_features, "latency": self.latency_features}
        parts = [p.strip() for p in kind.split("+")] if isinstance(kind, str) else []
        parts = [q.strip() for p in parts for q in (sets[p].split("+") if p in sets else [p])]
        bad = [p for p in parts if p not in self.feature_blocks]
        if not parts or bad:
            raise InputDataError(
                f"unknown feature kind {kind!r} for the {self.name} space; expected one of "
                f"{', '.join(self.feature_blocks)} or several joined by '+', or 'default'/'cheap'/'latency'"
            )
        return parts

    def features(self, archs: Sequence[Architecture], kind: str = "default") -> np.ndarray:
        """``n x d`` float64 features of ``archs`` (rows in order) for ``kind``.

        Raises:
            InputDataError: unknown kind, or a value that is not an architecture of this space.
        """
        kinds = self.parse_kind(kind)
        archs = [self.check(a) for a in archs]
        blocks = []
        for k in kinds:
            fn, names = self.feature_blocks[k]
            block = np.asarray(fn(archs), dtype=np.float64).reshape(len(archs), len(names))
            blocks.append(block)
        return np.concatenate(blocks, axis=1)

    def feature_names(self, kind: str = "default") -> list[str]:
        """Column names of :meth:`features` for ``kind``."""
        return [n for k in self.parse_kind(kind) for n in self.feature_blocks[k][1]]

    # -- networks ------------------------------------------------------------------------
    def network_config(self, channels: int | None = None, cells_per_stage: int | None = None) -> NetworkConfig:
        """The network setting from user options, defaults filled in.

        Raises:
            InputDataError: an option this space does not read was given.
        """
        given = {"channels": channels, "cells_per_stage": cells_per_stage}
        unused = [k for k, v in given.items() if v is not None and k not in self.network_options]
        if unused:
            flags = {"channels": "-C/--channels", "cells_per_stage": "-N/--cells-per-stage"}
            raise InputDataError(
                f"the {self.name} space has no {' or '.join(flags[k] for k in unused)} setting"
            )
        values = {k: (v if v is not None else getattr(self.default_network, k)) for k, v in given.items()
                  if k in self.network_options}
        return NetworkConfig(**{k: values.get(k) for k in ("channels", "cells_per_stage")})

    @abstractmethod
    def build_network(
        self, arch: Architecture, network: NetworkConfig, input_shape: tuple[int, int, int], num_classes: int
    ) -> nn.Module:
        """A freshly initialised module mapping ``b x c x h x w`` images to ``b x num_classes`` logits.

        Initialisation uses torch's global generator: seed it (or fork it) for reproducible weights.

        Raises:
            InputDataError: the input shape or class count does not suit the network.
        """

    @abstractmethod
    def count_params(
        self, arch: Architecture, network: NetworkConfig, input_shape: tuple[int, int, int], num_classes: int
    ) -> int:
        """Trainable parameters of :meth:`build_network` for the same arguments."""

    @abstractmethod
    def count_flops(
        self, arch: Architecture, network: NetworkConfig, input_shape: tuple[int, int, int], num_classes: int
    ) -> int:
        """Multiply-accumulates of one forward pass of one input (conv and linear layers)."""

    def reference_cost(self, arch: Architecture) -> tuple[int, int]:
        """Params and FLOPs of ``arch`` in the space's reference network (comparable across runs)."""
        args = (arch, self.reference_network, tuple(self.reference_input), int(self.reference_classes))
        return self.count_params(*args), self.count_flops(*args)

    def cost_block(self, archs: Sequence[Architecture]) -> np.ndarray:
        """The ``cost`` feature block: log params and log FLOPs of the reference network."""
        out = np.empty((len(archs), 2), dtype=np.float64)
        for i, arch in enumerate(archs):
            params, flops = self.reference_cost(arch)
            out[i] = np.log(max(params, 1)), np.log(max(flops, 1))
        return out

    def representative(self, arch: Architecture) -> Architecture:
        """The architecture on which features shared by ``arch``'s twins are computed."""
        return arch

    feature_cache: FeatureCache | None = None
    """Where expensive features of this space instance are cached (see :meth:`with_cache`)."""

    def with_cache(self, cache: FeatureCache | None) -> "SearchSpace":
        """A copy of this space that keeps expensive features (proxies) in ``cache``."""
        twin = copy.copy(self)
        twin.__dict__.pop("feature_blocks", None)
        twin.feature_cache = cache
        return twin

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
