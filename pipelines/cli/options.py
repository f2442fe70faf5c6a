"""Click options built from the config dataclasses (:mod:`surrogate_nas.pipelines.jobs.config`).

Each option's flags, help, default and what it reads come from its field's
:class:`~surrogate_nas.pipelines.jobs.options.Option`; its value reaches the command under the
field's name, so ``Config(**values)`` makes the config, which checks the values (click only
parses text into numbers and lists: the bounds and choices are checked once, by the config).
"""

from __future__ import annotations

from dataclasses import MISSING, Field, fields

import click

from surrogate_nas.pipelines.jobs.options import SAME, Option, option_of, options_of


def csv_list(kind=str):
    """A click callback reading ``a,b,c`` as a list of ``kind``."""
    def parse(ctx, param, value):
        if value is None:
            return None
        try:
            items = [kind(v.strip()) for v in str(value).split(",") if v.strip()]
        except ValueError:
            raise click.BadParameter(f"expected a comma-separated list, got {value!r}") from None
        if not items:
            raise click.BadParameter("the list is empty")
        return items
    return parse


_TYPES = {int: click.INT, float: click.FLOAT, str: click.STRING}


def click_option(f: Field, dest: str | None = None, **overrides):
    """The click option of config field ``f`` (``dest``: another parameter name; ``overrides``: click
    keywords replacing the derived ones, e.g. another ``help``)."""
    opt: Option = option_of(f)
    default = opt.cli_default if opt.cli_default is not SAME else (None if f.default is MISSING else f.default)
    kw: dict = {"help": opt.help, "show_default": opt.show_default or False}
    if opt.metavar:
        kw["metavar"] = opt.metavar
    elif opt.choices is not None:
        kw["metavar"] = "[" + "|".join(map(str, opt.allowed())) + "]"
    if opt.negated:
        kw.update(is_flag=True, flag_value=False, default=True)
    elif opt.kind is bool:
        kw.update(is_flag=True, default=default)
    elif opt.sequence and opt.multiple:
        kw.update(type=_TYPES[opt.kind], multiple=True, default=default)
    elif opt.sequence:
        kw.update(type=click.STRING, callback=csv_list(opt.kind),
                  default=None if default is None else ",".join(map(str, default)))
    else:
        kw.update(type=_TYPES[opt.kind], default=default, required=f.default is MISSING and opt.cli_default is SAME)
    kw.update(overrides)
    return click.option(*opt.flags, dest or f.name, **kw)


def field_option(cls, name: str, dest: str | None = None, **overrides):
    """The click option of field ``name`` of config class ``cls`` (see :func:`click_option`)."""
    return click_option(next(f for f in fields(cls) if f.name == name), dest, **overrides)


def config_options(cls, only: tuple[str, ...] | None = None, exclude: tuple[str, ...] = ()):
    """A decorator adding the options of config class ``cls`` (those with flags; ``only`` some, or all but
    ``exclude``) to a click command, in the fields' order."""
    chosen = [f for f, opt in options_of(cls) if opt.flags and f.name not in exclude
              and (only is None or f.name in only)]

    def decorate(command):
        for f in reversed(chosen):
            command = click_option(f)(command)
        return command
    return decorate


def take(values: dict, cls) -> dict:
    """Remove from ``values`` (a command's parameters) the fields of config class ``cls`` and return them."""
    return {f.name: values.pop(f.name) for f, _ in options_of(cls) if f.name in values}
