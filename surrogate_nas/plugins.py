"""Plug-ins: one way to add search spaces, strategies, predictors, executors and datasets.

Each kind has a :class:`Registry`. A name is answered, in this order, by

1. the kind's **built-ins** (``nb201``, ``bo``, ``xgb``, ``local``, ``digits``, ...);
2. what was **registered in this process** (``surrogate_nas.register_space(...)`` and its siblings);
3. **entry points** of the kind's group in installed packages (:data:`GROUPS`), the way pytest
   reads ``pytest11``: a package declares ``[project.entry-points."surrogate_nas.strategies"]``
   and its names work everywhere a built-in name does. Groups are read when a name is looked
   up or listed, and an entry point is imported only when its name is used.

Anything written ``module:Name`` is imported directly, from the current folder first (as
uvicorn, gunicorn and celery do: the folder you run from is put on ``sys.path``), so a file
``my_strategies.py`` next to you is ``--strategy my_strategies:Greedy`` without installing it.

Clashes: a built-in name cannot be registered; a registered name is replaced only with
``replace=True``; an installed plug-in named like a built-in or a registered one is shadowed by
it (the listing commands say so); two installed packages declaring the same name make that
name an error naming both (``module:Name`` still reaches either). A plug-in that cannot be
imported or is not what its group expects raises :class:`PluginError` naming it, in one line
(exit code 2 from the CLI), and only when it is used: other names and commands never load it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from surrogate_nas.errors import InputDataError, SurrogateNASError

T = TypeVar("T")

GROUPS: dict[str, str] = {
    "space": "surrogate_nas.spaces",
    "strategy": "surrogate_nas.strategies",
    "predictor": "surrogate_nas.predictors",
    "executor": "surrogate_nas.executors",
    "dataset": "surrogate_nas.datasets",
}
"""Entry-point group of each kind of plug-in."""

_REFERENCE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


class PluginError(SurrogateNASError, ImportError):
    """A plug-in cannot be loaded, is declared twice, or is not what its kind expects."""


def is_reference(text: Any) -> bool:
    """Whether ``text`` is written ``module:Name`` (``package.module:Class.attr``)."""
    return isinstance(text, str) and bool(_REFERENCE.match(text.strip()))


def current_folder_on_path() -> None:
    """Put the current folder on ``sys.path`` (first), as uvicorn does for ``module:attr``.

    It stays there, so worker processes started later (which inherit ``sys.path``) can import
    what the user's module defines, e.g. a network builder they receive pickled.
    """
    here = os.getcwd()
    if here not in sys.path:
        sys.path.insert(0, here)
        importlib.invalidate_caches()


def import_object(reference: str, what: str = "object", form: str = "module:Name") -> Any:
    """The object named ``module:Name``, imported with the current folder on ``sys.path``.

    Raises:
        InputDataError: not written ``module:Name``, or the module or the name does not import
            (the message says why, e.g. the module's own error).
    """
    reference = str(reference).strip()
    if not is_reference(reference):
        raise InputDataError(f"a {what} is written {form}, got {reference!r}")
    module_name, _, attribute = reference.partition(":")
    current_folder_on_path()
    try:
        obj = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - the user's module may raise anything; it is reported, not hidden
        raise InputDataError(f"cannot import {what} {reference!r}: {_reason(exc)}") from None
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise InputDataError(f"cannot import {what} {reference!r}: {module_name!r} has no attribute "
                                 f"{attribute!r}") from None
    return obj


def call_with_accepted(factory: Callable, **keywords) -> Any:
    """``factory(**keywords)`` with only the keywords its signature accepts (all, with ``**kwargs``)."""
    return factory(**{k: v for k, v in keywords.items() if k in accepted_keywords(factory, keywords)})


def accepted_keywords(factory: Callable, keywords) -> set[str]:
    """Which of ``keywords`` (names) ``factory`` accepts by name."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: give it nothing
        return set()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return set(keywords)
    return {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} & set(keywords)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _key(name: str) -> str:
    return str(name).strip().lower()


@dataclass(frozen=True)
class Entry:
    """One name a registry answers, without loading it.

    Attributes:
        name: the name.
        source: ``built-in``, ``registered`` (in this process) or ``plug-in`` (an installed package).
        origin: where it comes from (an import path, or the package and its entry point).
    """

    name: str
    source: str
    origin: str


class Registry(Generic[T]):
    """Names of one kind of plug-in: built-ins, registrations and entry points (see the module docstring).

    Args:
        kind: what a name stands for, in messages (``"search strategy"``).
        group: the entry-point group.
        builtins: the built-in names; read live (a value may be an object or a
            ``module:attr`` import path, imported when first used).
        make: turns a loaded object into the registry's value (a space instance, a spec);
            raises ``TypeError`` or :class:`InputDataError` saying what was expected.
        listing: the command that lists them, for messages (``surrogate-nas strategies``).
    """

    def __init__(self, kind: str, group: str, builtins: Mapping[str, Any], make: Callable[[Any, str | None], T],
                 listing: str = "") -> None:
        self.kind, self.group, self.builtins, self._make, self.listing = kind, group, builtins, make, listing
        self._registered: dict[str, Any] = {}
        self._made: dict[tuple, T] = {}
        self._scan_key: tuple | None = None
        self._scan: dict[str, list] = {}

    # -- registering ------------------------------------------------------------------------
    def register(self, name: str, obj: Any, replace: bool = False) -> None:
        """Make ``name`` stand for ``obj`` in this process (see the module docstring for clashes).

        Raises:
            InputDataError: an empty name, a built-in name, or a registered one without ``replace``.
        """
        key = _key(name)
        if not key or is_reference(key) or any(c in key for c in ",= "):
            raise InputDataError(f"a {self.kind} name is a word without ':', ',', '=' or spaces, got {name!r}")
        if key in self._builtin_keys():
            raise InputDataError(f"{self.kind} {key!r} is built in; register yours under another name")
        if key in self._registered and not replace:
            raise InputDataError(f"{self.kind} {key!r} is already registered; pass replace=True to replace it")
        self.unregister(key)
        self._registered[key] = obj

    def unregister(self, name: str) -> None:
        """Forget a name registered in this process (nothing happens if it was not)."""
        key = _key(name)
        self._registered.pop(key, None)
        self._made = {k: v for k, v in self._made.items() if not (k[0] == key and k[1][0] == "registered")}

    # -- listing (nothing is imported) ---------------------------------------------------------
    def entries(self) -> list[Entry]:
        """Every name this registry answers, built-ins first, then registered, then installed plug-ins."""
        out = [Entry(k, "built-in", _origin_of(v)) for k, v in self._builtin_items()]
        out += [Entry(k, "registered", _origin_of(v)) for k, v in self._registered.items()
                if k not in self._builtin_keys()]
        taken = {e.name for e in out}
        for key, points in sorted(self._plugins().items()):
            if key not in taken:
                out.append(Entry(key, "plug-in", "; ".join(_ep_origin(ep) for ep in points)))
        return out

    def names(self) -> list[str]:
        return [e.name for e in self.entries()]

    def __contains__(self, name) -> bool:
        key = _key(name)
        return key in self._builtin_keys() or key in self._registered or key in self._plugins()

    def notes(self) -> list[str]:
        """One line per installed plug-in that is shadowed or declared twice (for the listing commands)."""
        lines = []
        for key, points in sorted(self._plugins().items()):
            where = " and ".join(_ep_origin(ep) for ep in points)
            if key in self._builtin_keys() or key in self._registered:
                source = "built-in" if key in self._builtin_keys() else "registered"
                lines.append(f"plug-in {self.kind} {key!r} ({where}) is shadowed by the {source} one")
            elif len(points) > 1:
                lines.append(f"{self.kind} {key!r} is declared by {len(points)} installed packages ({where}); "
                             "uninstall one of them or name the one you mean as module:Name")
        return lines

    def describe_choices(self) -> str:
        """``"a, b, c"`` and where to see them, for messages."""
        see = f" (see `{self.listing}`)" if self.listing else ""
        return f"{', '.join(self.names())}{see}, or module:Name"

    # -- loading -------------------------------------------------------------------------
    def get(self, name: str) -> T:
        """The value ``name`` stands for, loading it on first use.

        Raises:
            InputDataError: no such name (the message lists what is installed).
            PluginError: the plug-in cannot be imported, is declared twice, or is not valid.
        """
        key = _key(name)
        if key in self._builtin_keys():
            raw = self.builtins[self._builtin_keys()[key]]
            return self._value(key, ("built-in", id(raw)), raw, "built-in")
        if key in self._registered:
            raw = self._registered[key]
            return self._value(key, ("registered", id(raw)), raw, "registered in this process")
        points = self._plugins().get(key)
        if not points:
            raise InputDataError(f"unknown {self.kind} {name!r}; expected one of {self.describe_choices()}")
        if len(points) > 1:
            raise PluginError(f"{self.kind} {key!r} is declared by {len(points)} installed packages ("
                              f"{' and '.join(_ep_origin(ep) for ep in points)}); uninstall one of them or name "
                              "the one you mean as module:Name")
        point = points[0]
        token = ("plug-in", point.value, _dist_name(point))
        if (key, token) not in self._made:
            try:
                raw = point.load()
            except Exception as exc:  # noqa: BLE001 - a broken plug-in is reported by name, whatever it raised
                raise PluginError(f"plug-in {self.kind} {key!r} ({_ep_origin(point)}) cannot be loaded: "
                                  f"{_reason(exc)}") from None
            return self._value(key, token, raw, _ep_origin(point))
        return self._made[(key, token)]

    def resolve(self, value: Any) -> T:
        """A name (see :meth:`get`), a ``module:Name`` reference, or an object of the kind itself.

        Raises:
            InputDataError: an unknown name, a reference that does not import, an object that
                is not of this kind.
            PluginError: see :meth:`get`.
        """
        if isinstance(value, str):
            if value in self or not is_reference(value):
                return self.get(value)
            reference = value.strip()
            if (None, reference) not in self._made:
                raw = import_object(reference, self.kind)
                self._made[(None, reference)] = self._made_by_user(raw, reference)
            return self._made[(None, reference)]
        return self._made_by_user(value, getattr(value, "__name__", type(value).__name__))

    def _made_by_user(self, raw: Any, label: str) -> T:
        try:
            return self._make(raw, None)
        except InputDataError:
            raise
        except Exception as exc:  # noqa: BLE001 - the user's code may raise anything while being made
            raise InputDataError(f"{label} is not a usable {self.kind}: {_reason(exc)}") from None

    def _value(self, key: str, token: tuple, raw: Any, origin: str) -> T:
        if (key, token) in self._made:
            return self._made[(key, token)]
        if token[0] == "built-in":  # a built-in that does not load is a bug: it propagates as it is
            if isinstance(raw, str) and is_reference(raw):
                module, _, attribute = raw.partition(":")
                raw = getattr(importlib.import_module(module), attribute)
            value = self._make(raw, key)
        else:
            try:
                if isinstance(raw, str) and is_reference(raw):
                    raw = import_object(raw, self.kind)
                value = self._make(raw, key)
            except Exception as exc:  # noqa: BLE001 - plug-in code may raise anything while being made
                reason = str(exc) if isinstance(exc, InputDataError) else _reason(exc)
                raise PluginError(f"plug-in {self.kind} {key!r} ({origin}) is not usable: {reason}") from None
        self._made[(key, token)] = value
        return value

    # -- internals ---------------------------------------------------------------------------
    def _builtin_keys(self) -> dict[str, str]:
        return {_key(k): k for k in self.builtins}

    def _builtin_items(self):
        return [(_key(k), v) for k, v in self.builtins.items()]

    def _plugins(self) -> dict[str, list]:
        """Entry points of the group by name (distinct values only), read again when ``sys.path`` changes."""
        key = tuple(sys.path)
        if self._scan_key != key:
            found: dict[str, list] = {}
            try:
                points = importlib.metadata.entry_points(group=self.group)
            except Exception:  # noqa: BLE001 - unreadable metadata of some package: no plug-ins rather than no CLI
                points = ()
            for point in points:
                same = found.setdefault(_key(point.name), [])
                if all(p.value != point.value for p in same):
                    same.append(point)
            for same in found.values():
                same.sort(key=lambda p: (_dist_name(p), p.value))
            self._scan, self._scan_key = found, key
        return self._scan


def _origin_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    path = getattr(value, "path", None)
    if isinstance(path, str):
        return path
    target = getattr(value, "factory", value)
    module, name = getattr(target, "__module__", None), getattr(target, "__qualname__", None)
    if module and name:
        return f"{module}:{name}"
    return type(value).__name__


def _dist_name(point) -> str:
    dist = getattr(point, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else "an installed package"


def _ep_origin(point) -> str:
    return f"{_dist_name(point)}: {point.value}"


__all__ = ["GROUPS", "Entry", "PluginError", "Registry", "accepted_keywords", "call_with_accepted",
           "current_folder_on_path", "import_object", "is_reference"]
