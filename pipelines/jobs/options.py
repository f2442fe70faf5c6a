"""Options declared once: a config field carries its command-line form and its checks.

A field of a config dataclass (:mod:`.config`) is made with :func:`option`: its default, its
CLI flags and help, and the values it accepts (bounds, choices). The CLI builds its options from
these fields (:mod:`surrogate_nas.pipelines.cli.options`), the Python API's keywords are the
fields' names (a test checks both), and :func:`check_fields` validates every field with one
message template, once, where the config is made.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Demo:
    ...     budget: int = option(10, "--budget", low=1, help="Evaluations.")
    ...     def __post_init__(self):
    ...         check_fields(self)
    >>> Demo(0)
    Traceback (most recent call last):
    ...
    surrogate_nas.errors.InputDataError: --budget must be >= 1, got 0
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any

from surrogate_nas.errors import InputDataError

SAME: Any = object()
"""The CLI or API default of an option is the field's own."""


@dataclass(frozen=True)
class Option:
    """How one config field is given and checked.

    Attributes:
        flags: its command-line flags (``("-C", "--channels")``); empty: not on the command line.
        help: the command-line help.
        kind: what the command line reads: ``int``, ``float``, ``str`` or ``bool`` (a flag);
            a sequence field reads ``kind`` values separated by commas, or repeated (``multiple``).
        low, low_open, high: bounds of a number (``low_open``: the bound itself is refused).
        choices: the accepted values, or a function returning them (read when checked).
        sequence: the field is a tuple (of ``kind``).
        multiple: the flag is repeated once per value (else one comma-separated value).
        negated: a ``--no-X`` flag that sets the field to False.
        metavar: the placeholder shown in the help.
        cli_default: the command line's default when it is not the field's.
        show_default: the default as the help shows it (True: the value itself).
        api_default: the Python API keyword's default when it is not the field's.
        identity: part of what a stored search must match to resume (see ``SearchConfig.identity``);
            ``"table"``: only for searches of a table.
    """

    flags: tuple[str, ...] = ()
    help: str = ""
    kind: type = str
    low: float | None = None
    low_open: bool = False
    high: float | None = None
    choices: Sequence | Callable[[], Sequence] | None = None
    sequence: bool = False
    multiple: bool = False
    negated: bool = False
    metavar: str | None = None
    cli_default: Any = SAME
    show_default: Any = None
    api_default: Any = SAME
    identity: bool | str = True

    @property
    def label(self) -> str:
        """The name messages use: the long flag (``--budget``)."""
        longs = [f for f in self.flags if f.startswith("--")]
        return longs[0].split("/")[0] if longs else ""

    def allowed(self) -> tuple:
        return tuple(self.choices() if callable(self.choices) else self.choices or ())


def option(default: Any = MISSING, *flags: str, kind: type | None = None, **spec) -> Any:
    """A dataclass field with its :class:`Option` (``spec``); ``kind`` defaults to the default's type.

    A tuple default (or ``sequence=True``) makes a sequence field; a mutable default is not allowed.
    """
    if kind is None:
        sample = default[0] if isinstance(default, tuple) and default else default
        kind = type(sample) if isinstance(sample, (bool, int, float)) else str
    if isinstance(default, tuple):
        spec.setdefault("sequence", True)
    meta = {"option": Option(tuple(flags), kind=kind, **spec)}
    return field(metadata=meta) if default is MISSING else field(default=default, metadata=meta)


def option_of(f: Field) -> Option | None:
    return f.metadata.get("option")


def options_of(cls) -> list[tuple[Field, Option]]:
    """The fields of ``cls`` that are options, in declaration order."""
    return [(f, option_of(f)) for f in fields(cls) if option_of(f) is not None]


def api_default(f: Field) -> Any:
    """The default of the Python API keyword for field ``f`` (MISSING: required)."""
    opt = option_of(f)
    if opt is not None and opt.api_default is not SAME:
        return opt.api_default
    if f.default is not MISSING:
        return f.default
    return f.default_factory() if f.default_factory is not MISSING else MISSING


def check_fields(config) -> None:
    """Check every option field of ``config`` (a dataclass instance) against its bounds and choices;
    a sequence field is made a tuple.

    Raises:
        InputDataError: ``"<flag> must be >= <low>, got <value>"`` (or ``one of ...``).
    """
    for f, opt in options_of(type(config)):
        value = getattr(config, f.name)
        if value is None:
            continue
        name = opt.label or f.name
        if opt.sequence:
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise InputDataError(f"{name} must be a list, got {value!r}")
            object.__setattr__(config, f.name, tuple(value))
            values = value
        else:
            values = (value,)
        for v in values:
            _check_value(name, opt, v)


def _check_value(name: str, opt: Option, value) -> None:
    if opt.low is not None or opt.high is not None:
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise InputDataError(f"{name} must be a number, got {value!r}")
        if opt.kind is int and value != int(value):
            raise InputDataError(f"{name} must be a whole number, got {value!r}")
        if opt.low is not None and (value <= opt.low if opt.low_open else value < opt.low):
            raise InputDataError(f"{name} must be {'>' if opt.low_open else '>='} {opt.low:g}, got {value}")
        if opt.high is not None and value > opt.high:
            raise InputDataError(f"{name} must be <= {opt.high:g}, got {value}")
    allowed = opt.allowed()
    if allowed and value not in allowed:
        raise InputDataError(f"{name} must be one of {', '.join(map(str, allowed))}, got {value!r}")
