"""Registered search spaces: a name, where its class lives, and one shared instance per name.

Entries are import paths, so naming one space never imports the others (or torch).
Adding a space is a folder under ``surrogate_nas/spaces/`` plus one line here. A space of
your own needs no registration: :func:`get_space` also reads a JSON or YAML file of choices
(:mod:`surrogate_nas.spaces.choices`).

    >>> get_space("nb201").name
    'nb201'
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path

from surrogate_nas.errors import InputDataError
from surrogate_nas.spaces.base import SearchSpace

SPACES: dict[str, str] = {
    "nb201": "surrogate_nas.spaces.nb201:NB201Space",
    "nb101": "surrogate_nas.spaces.nb101:NB101Space",
    "darts": "surrogate_nas.spaces.darts:DartsSpace",
    "macro": "surrogate_nas.spaces.macro:MacroSpace",
}
"""Space name -> ``module:Class`` of its :class:`SearchSpace`."""

DEFAULT_SPACE = "nb201"


SPACE_FILES = (".json", ".yaml", ".yml")


def get_space(name: str | SearchSpace = DEFAULT_SPACE, builder=None) -> SearchSpace:
    """A search space: registered by ``name``, or read from a JSON/YAML file of choices.

    Registered spaces are one shared instance per name; a space is returned as is.

    Args:
        name: a key of :data:`SPACES`, a path to a ``.json``/``.yaml`` space file, or a space.
        builder: ``module:function`` building the networks of a space file (overrides the file's).

    Raises:
        InputDataError: no such space or file, or a builder for a registered space.
    """
    if isinstance(name, SearchSpace):
        return name
    key = str(name).strip().lower()
    if key in SPACES:
        if builder is not None:
            raise InputDataError(f"--builder applies to a search space from a file, not to {key}")
        return _instance(key)
    path = Path(str(name)).expanduser()
    if path.suffix.lower() in SPACE_FILES:
        if not path.is_file():
            raise InputDataError(f"search space file {str(path)!r} does not exist")
        return _from_file(str(path.resolve()), path.stat().st_mtime_ns, builder)
    raise InputDataError(f"unknown search space {name!r}; expected one of {', '.join(SPACES)} "
                         "or a .json/.yaml file of choices")


@lru_cache(maxsize=32)
def _from_file(path: str, mtime_ns: int, builder) -> SearchSpace:
    from surrogate_nas.spaces.choices import load_space_file

    return load_space_file(path, builder)


@lru_cache(maxsize=None)
def _instance(key: str) -> SearchSpace:
    module, _, cls = SPACES[key].partition(":")
    return getattr(importlib.import_module(module), cls)()
