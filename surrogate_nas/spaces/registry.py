"""Registered search spaces: a name, where its class lives, and one shared instance per name.

Entries are import paths, so naming one space never imports the others (or torch).
Adding a space is a folder under ``surrogate_nas/spaces/`` plus one line here.

    >>> get_space("nb201").name
    'nb201'
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from surrogate_nas.errors import InputDataError
from surrogate_nas.spaces.base import SearchSpace

SPACES: dict[str, str] = {
    "nb201": "surrogate_nas.spaces.nb201:NB201Space",
    "nb101": "surrogate_nas.spaces.nb101:NB101Space",
    "darts": "surrogate_nas.spaces.darts:DartsSpace",
}
"""Space name -> ``module:Class`` of its :class:`SearchSpace`."""

DEFAULT_SPACE = "nb201"


def get_space(name: str | SearchSpace = DEFAULT_SPACE) -> SearchSpace:
    """The registered space called ``name`` (one shared instance per name); a space is returned as is.

    Raises:
        InputDataError: no space of that name is registered.
    """
    if isinstance(name, SearchSpace):
        return name
    key = str(name).strip().lower()
    if key not in SPACES:
        raise InputDataError(f"unknown search space {name!r}; expected one of {', '.join(SPACES)}")
    return _instance(key)


@lru_cache(maxsize=None)
def _instance(key: str) -> SearchSpace:
    module, _, cls = SPACES[key].partition(":")
    return getattr(importlib.import_module(module), cls)()
