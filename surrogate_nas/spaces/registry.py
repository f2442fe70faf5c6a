"""Search spaces by name: the built-in ones, those registered in code, and installed plug-ins.

Built-in entries are import paths, so naming one space never imports the others (or torch).
A space of your own needs no registration: :func:`get_space` also reads a JSON or YAML file
of choices (:mod:`surrogate_nas.spaces.choices`) and imports ``module:Name`` from the current
folder. To give it a name everywhere (CLI included), register it
(:func:`register_space`) or declare it in your package's ``surrogate_nas.spaces`` entry-point
group (see :mod:`surrogate_nas.plugins`). One instance is shared per name.

    >>> get_space("nb201").name
    'nb201'
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from surrogate_nas.errors import InputDataError
from surrogate_nas.plugins import GROUPS, Registry, is_reference
from surrogate_nas.spaces.base import SearchSpace

SPACES: dict[str, str] = {
    "nb201": "surrogate_nas.spaces.nb201:NB201Space",
    "nb101": "surrogate_nas.spaces.nb101:NB101Space",
    "darts": "surrogate_nas.spaces.darts:DartsSpace",
    "macro": "surrogate_nas.spaces.macro:MacroSpace",
}
"""Built-in space name -> ``module:Class`` of its :class:`SearchSpace`."""

DEFAULT_SPACE = "nb201"


SPACE_FILES = (".json", ".yaml", ".yml")


def make_space(obj: Any, name: str | None = None) -> SearchSpace:
    """A space from what a plug-in names: a :class:`SearchSpace`, a subclass, or a function returning one.

    Raises:
        TypeError: anything else, or a space whose ``name`` is not the name it is registered under.
    """
    space = obj
    if not isinstance(space, SearchSpace) and callable(space):
        space = space()
    if not isinstance(space, SearchSpace):
        raise TypeError(f"expected a SearchSpace, a SearchSpace subclass or a function returning one, got "
                        f"{type(obj).__name__}")
    if name is not None and str(space.name).lower() != name:
        raise TypeError(f"the space calls itself {space.name!r}; register it under that name (the database "
                        "stores every architecture under its space's name)")
    return space


SPACE_PLUGINS: Registry[SearchSpace] = Registry("search space", GROUPS["space"], SPACES, make_space,
                                                "surrogate-nas spaces")
"""Every named space: :data:`SPACES`, :func:`register_space` and the ``surrogate_nas.spaces`` entry points."""


def register_space(name: str, space, replace: bool = False) -> None:
    """Give ``space`` a name usable wherever a space name goes (``--space NAME`` included) in this process.

    Args:
        name: the name; the space's own ``name`` must be the same.
        space: a :class:`SearchSpace`, a subclass (instantiated without arguments on first use),
            a function returning one, or a ``module:Class`` import path.
        replace: replace an earlier registration of the same name.

    Raises:
        InputDataError: a built-in name, or one already registered without ``replace``.
    """
    SPACE_PLUGINS.register(name, space, replace)


def get_space(name: str | SearchSpace = DEFAULT_SPACE, builder=None) -> SearchSpace:
    """A search space: by name, from a JSON/YAML file of choices, or ``module:Name`` (from the current folder).

    Named spaces are one shared instance per name; a space is returned as is.

    Args:
        name: a built-in, registered or installed space's name, a path to a ``.json``/``.yaml``
            space file, a ``module:Name`` reference to a space, its class or a function returning
            it, or a space.
        builder: ``module:function`` building the networks of a space file (overrides the file's).

    Raises:
        InputDataError: no such space or file, or a builder for a space that is not from a file.
        PluginError: an installed space plug-in that cannot be loaded.
    """
    if isinstance(name, SearchSpace):
        return name
    text = str(name).strip()
    path = Path(text).expanduser()
    if path.suffix.lower() in SPACE_FILES:
        if not path.is_file():
            raise InputDataError(f"search space file {str(path)!r} does not exist")
        return _from_file(str(path.resolve()), path.stat().st_mtime_ns, builder)
    if text in SPACE_PLUGINS or is_reference(text):
        if builder is not None:
            raise InputDataError(f"--builder applies to a search space from a file, not to {text.lower()}")
        return SPACE_PLUGINS.resolve(text)
    raise InputDataError(f"unknown search space {name!r}; expected one of {', '.join(SPACE_PLUGINS.names())} "
                         "(see `surrogate-nas spaces`), a .json/.yaml file of choices or module:Name")


@lru_cache(maxsize=32)
def _from_file(path: str, mtime_ns: int, builder) -> SearchSpace:
    from surrogate_nas.spaces.choices import load_space_file

    return load_space_file(path, builder)
