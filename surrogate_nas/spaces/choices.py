"""Your own discrete search space: named choices, each with a list of options.

A space is written as JSON or YAML, a mapping from each choice to its options::

    {"depth": [1, 2, 3], "width": [16, 32, 64], "op": ["conv3x3", "sep5x5"]}

or, to name the space and its network builder, ``{"choices": {...}, "builder":
"package.module:function", "name": "my-space"}``. An architecture is one option per choice
(a :class:`Choices` value), written as a JSON object (``{"depth":2,"width":32,"op":"conv3x3"}``;
``depth=2,width=32,op=conv3x3`` is read too); its canonical key is that tuple of choices.
Predictors see numeric options as ordinal (the option's rank, scaled to [0, 1]) and the
others one-hot (the ``onehot`` features); with a builder, the ``cost`` and ``zc`` features of
the built network too. Every strategy samples and mutates it like a built-in space; it is listed
(and BO scores all of it) when it has at most :data:`ENUMERATE_LIMIT` architectures.

The network comes from a builder, a function ``builder(choices: dict, input_shape, num_classes)
-> torch.nn.Module`` (``--builder module:function``); parameters and FLOPs are counted on the
built network. Without a builder the space can still search and compare tables of it.

Example:
    >>> space = ChoiceSpace({"depth": [1, 2], "op": ["conv", "pool"]}, name="tiny")
    >>> space.size(), space.parse("depth=2,op=pool").to_string()
    (4, '{"depth":2,"op":"pool"}')
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.plugins import import_object
from surrogate_nas.records import NetworkConfig
from surrogate_nas.spaces.base import COST_NAMES, SearchSpace
from surrogate_nas.spaces.dag import DagLayout
from surrogate_nas.spaces.inputs import check_input
from surrogate_nas.spaces.zc import proxy_blocks

ENUMERATE_LIMIT = 20_000
"""Spaces with at most this many architectures are listed (every candidate is scored)."""

Option = int | float | str | bool


@dataclass(frozen=True)
class Choices:
    """One architecture of a :class:`ChoiceSpace`: ``(choice, option)`` pairs in the space's order."""

    items: tuple[tuple[str, Option], ...]

    def to_string(self) -> str:
        return self._text

    @cached_property
    def _text(self) -> str:
        """The JSON form, written once: keys and candidate sets look it up for every row of a table."""
        return json.dumps(dict(self.items), separators=(",", ":"))

    @property
    def canonical_key(self) -> str:
        return self._text

    def as_dict(self) -> dict[str, Option]:
        return dict(self.items)

    def __getitem__(self, name: str) -> Option:
        return dict(self.items)[name]


def resolve_builder(builder: str | Callable | None) -> tuple[Callable | None, str]:
    """The builder function and its ``module:function`` name; a name is imported from the current
    folder first (as uvicorn does), so ``my_models:build`` finds ``./my_models.py``.

    Raises:
        InputDataError: a name that is not ``module:function`` or does not import.
    """
    if builder is None:
        return None, ""
    if callable(builder):
        return builder, f"{builder.__module__}:{builder.__qualname__}"
    fn = import_object(str(builder), "builder", "module:function")
    if not callable(fn):
        raise InputDataError(f"builder {builder!r} is not a function")
    return fn, str(builder)


class ChoiceSpace(SearchSpace):
    """A search space of named discrete choices (see the module docstring).

    Args:
        choices: each choice's name and its options (numbers, text or booleans).
        builder: ``module:function`` or a function building the network, or None.
        name: the space's name in the database; by default one derived from the choices
            and the builder, so two different spaces never share rows.
        description: one line for ``surrogate-nas spaces``.
        reference_input, reference_classes: input shape and class count of the reference network
            (params and FLOPs of the ``cost`` features and of ``params`` on a table); CIFAR-10's
            ``(3, 32, 32)`` and 10 unless given.
    """

    network_options: tuple[str, ...] = ()
    default_network = NetworkConfig(None, None)
    reference_network = NetworkConfig(None, None)

    def __init__(self, choices: Mapping[str, Sequence[Option]], builder: str | Callable | None = None,
                 name: str | None = None, description: str = "", reference_input=None,
                 reference_classes: int | None = None) -> None:
        self.choices = _validated(choices)
        if reference_input is not None or reference_classes is not None:
            shape, classes = check_input(reference_input or self.reference_input,
                                         self.reference_classes if reference_classes is None else reference_classes)
            self.reference_input, self.reference_classes = shape, classes
        self.builder, self.builder_name = resolve_builder(builder)
        digest = hashlib.sha1(json.dumps([list(self.choices.items()), self.builder_name]).encode()).hexdigest()
        self.name = name or f"choices-{digest[:10]}"
        self.description = description or f"{len(self.choices)} choices, {self.size():,} architectures" + (
            f", network from {self.builder_name}" if self.builder_name else "")
        self.default_features = "onehot+cost" if self.has_network else "onehot"
        self.cheap_features = "onehot"
        self._lookup = {c: {_norm(o): o for o in opts} for c, opts in self.choices.items()}
        self._numeric = {c: all(_is_number(o) for o in opts) for c, opts in self.choices.items()}

    # -- values --------------------------------------------------------------------------
    def parse(self, text) -> Choices:
        if isinstance(text, Choices):
            return self.check(text)
        if isinstance(text, Mapping):
            given = dict(text)
        elif isinstance(text, str) and text.strip().startswith("{"):
            try:
                given = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputDataError(f"malformed architecture {text!r}: not a JSON object ({exc.msg})") from None
        elif isinstance(text, str):
            given = {}
            for part in filter(None, (p.strip() for p in text.split(","))):
                key, sep, value = part.partition("=")
                if not sep:
                    raise InputDataError(f"malformed architecture {text!r}: expected choice=option pairs")
                given[key.strip()] = _literal(value.strip())
        else:
            raise InputDataError(f"an architecture of {self.name} is a JSON object or choice=option pairs, got {text!r}")
        return self.from_values(given)

    def from_values(self, given: Mapping[str, Any]) -> Choices:
        """The architecture with these options (every choice, and only the space's).

        Raises:
            InputDataError: a missing or unknown choice, or an option the choice does not have.
        """
        unknown = [k for k in given if k not in self.choices]
        if unknown:
            raise InputDataError(f"unknown choice {unknown[0]!r}; the choices are {', '.join(self.choices)}")
        items = []
        for choice, options in self.choices.items():
            if choice not in given:
                raise InputDataError(f"no option given for choice {choice!r}")
            option = self._lookup[choice].get(_norm(given[choice]))
            if option is None:
                raise InputDataError(f"choice {choice!r} has no option {given[choice]!r}; options: {list(options)}")
            items.append((choice, option))
        return Choices(tuple(items))

    def is_member(self, arch) -> bool:
        return isinstance(arch, Choices) and [k for k, _ in arch.items] == list(self.choices) and all(
            _norm(v) in self._lookup[k] for k, v in arch.items)

    # -- size, sampling, moves ----------------------------------------------------------------
    def size(self) -> int:
        return math.prod(len(opts) for opts in self.choices.values())

    def enumerate(self) -> tuple[Choices, ...] | None:
        return _listed(self) if self.size() <= ENUMERATE_LIMIT else None

    def sample(self, rng: np.random.Generator) -> Choices:
        return Choices(tuple((c, opts[int(rng.integers(len(opts)))]) for c, opts in self.choices.items()))

    def neighbours(self, arch: Choices) -> list[Choices]:
        arch = self.check(arch)
        out = []
        for i, (choice, value) in enumerate(arch.items):
            for option in self.choices[choice]:
                if _norm(option) != _norm(value):
                    out.append(Choices(arch.items[:i] + ((choice, option),) + arch.items[i + 1 :]))
        return out

    # -- encodings -------------------------------------------------------------------------
    def _feature_blocks(self):
        layout = self.dag_layout()
        blocks = {"onehot": (self.encode, tuple(self.encoding_names())),
                  "dag": (lambda archs: np.stack([self.dag_row(a, layout) for a in archs]), layout.names())}
        if self.has_network:  # cost and proxies need the network
            blocks["cost"] = (self.cost_block, COST_NAMES)
            blocks.update(proxy_blocks(self, None))
        return blocks

    def encoding_names(self) -> list[str]:
        names = []
        for choice, options in self.choices.items():
            names += [choice] if self._numeric[choice] else [f"{choice}={o}" for o in options]
        return names

    def dag_layout(self) -> DagLayout:
        """Choices as a chain of nodes, input to output, each typed by its chosen option
        (by the choice alone for a numeric one, whose value the other kinds carry)."""
        return DagLayout(len(self.choices) + 2, ("input", *self.encoding_names(), "output"))

    def dag_row(self, arch: Choices, layout: DagLayout) -> np.ndarray:
        types = ["input"]
        for choice, value in arch.items:
            types.append(choice if self._numeric[choice] else f"{choice}={_display(self.choices[choice], value)}")
        types.append("output")
        return layout.encode([(i, i + 1) for i in range(len(types) - 1)], types)

    def encode(self, archs: Sequence[Choices]) -> np.ndarray:
        """Ordinal (rank scaled to [0, 1]) for numeric choices, one-hot for the others."""
        rows = []
        for arch in archs:
            row: list[float] = []
            for choice, value in arch.items:
                row += self._codes[choice][_norm(value)]
            rows.append(row)
        return np.asarray(rows, dtype=np.float64).reshape(len(archs), len(self.encoding_names()))

    @cached_property
    def _codes(self) -> dict[str, dict[tuple, list[float]]]:
        """Each choice's options -> their encoded columns (see :meth:`encode`)."""
        codes = {}
        for choice, options in self.choices.items():
            if self._numeric[choice]:
                order = sorted(range(len(options)), key=lambda i: options[i])
                codes[choice] = {_norm(options[i]): [order.index(i) / max(len(options) - 1, 1)]
                                 for i in range(len(options))}
            else:
                codes[choice] = {_norm(o): [1.0 if j == i else 0.0 for j in range(len(options))]
                                 for i, o in enumerate(options)}
        return codes

    # -- networks --------------------------------------------------------------------------
    @property
    def has_network(self) -> bool:
        """Whether architectures can be built (a builder was given)."""
        return self.builder is not None

    def build_network(self, arch, network, input_shape, num_classes):
        if self.builder is None:
            raise InputDataError(f"the {self.name} space has no network builder; pass --builder module:function")
        shape, classes = check_input(input_shape, num_classes)
        net = self.builder(self.check(arch).as_dict(), shape, classes)
        from torch import nn

        if not isinstance(net, nn.Module):
            raise InputDataError(f"builder {self.builder_name} returned {type(net).__name__}, not a torch.nn.Module")
        return net

    def count_params(self, arch, network, input_shape, num_classes) -> int:
        return _counted(self, arch, tuple(input_shape), int(num_classes))[0]

    def count_flops(self, arch, network, input_shape, num_classes) -> int:
        return _counted(self, arch, tuple(input_shape), int(num_classes))[1]


def load_space_file(path, builder: str | Callable | None = None) -> ChoiceSpace:
    """A :class:`ChoiceSpace` from a JSON or YAML file; ``builder`` overrides the file's own.

    Raises:
        InputDataError: unreadable file, or not a mapping of choices to option lists.
    """
    path = Path(path).expanduser()
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputDataError(f"cannot read search space file {str(path)!r}: {exc.strerror or exc}") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            spec = yaml.safe_load(text)
        else:
            spec = json.loads(text)
    except Exception as exc:  # noqa: BLE001 - JSON and YAML raise their own error types
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputDataError(f"{path}: not a valid {path.suffix.lstrip('.').upper()} search space: {first}") from None
    if isinstance(spec, Mapping) and "choices" in spec:
        extra = set(spec) - {"choices", "builder", "name"}
        if extra:
            raise InputDataError(f"{path}: unknown keys {sorted(extra)}; expected choices, builder, name")
        return ChoiceSpace(spec["choices"], builder or spec.get("builder"), spec.get("name"))
    return ChoiceSpace(spec, builder)


def _validated(choices) -> dict[str, tuple[Option, ...]]:
    if not isinstance(choices, Mapping) or not choices:
        raise InputDataError("a search space maps each choice to a list of options, e.g. "
                             '{"depth": [1, 2, 3], "op": ["conv3x3", "sep5x5"]}')
    out = {}
    for name, options in choices.items():
        if not isinstance(name, str) or not name or any(c in name for c in ',="'):
            raise InputDataError(f"choice name {name!r} must be non-empty text without , = or quotes")
        if isinstance(options, (str, bytes)) or not isinstance(options, Sequence) or len(options) == 0:
            raise InputDataError(f"choice {name!r} needs a non-empty list of options, got {options!r}")
        for o in options:
            if not isinstance(o, (int, float, str, bool)) or (isinstance(o, float) and not math.isfinite(o)):
                raise InputDataError(f"choice {name!r}: options are numbers, text or booleans, got {o!r}")
        if len({_norm(o) for o in options}) != len(options):
            raise InputDataError(f"choice {name!r} lists an option twice: {list(options)}")
        out[name] = tuple(options)
    return out


def _norm(value) -> tuple[str, Any]:
    """A comparable form of an option: booleans, numbers and text never compare equal across kinds."""
    if isinstance(value, bool):
        return ("bool", value)
    if _is_number(value):
        return ("num", float(value))
    return ("text", str(value))


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _literal(text: str):
    """``choice=option`` text: numbers and true/false as such, anything else as text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@lru_cache(maxsize=16)
def _listed(space: ChoiceSpace) -> tuple[Choices, ...]:
    names = list(space.choices)
    return tuple(Choices(tuple(zip(names, combo))) for combo in itertools.product(*space.choices.values()))


@lru_cache(maxsize=65536)
def _counted(space: ChoiceSpace, arch: Choices, input_shape: tuple[int, ...], num_classes: int) -> tuple[int, int]:
    import torch

    from surrogate_nas.spaces.counting import count_module

    with torch.random.fork_rng(devices=[]):
        net = space.build_network(arch, space.default_network, input_shape, num_classes)
    return count_module(net, input_shape)


def _display(options: Sequence, value) -> Any:
    """The option as :meth:`ChoiceSpace.encoding_names` writes it (``value`` may be written differently)."""
    return options[[_norm(o) for o in options].index(_norm(value))]
