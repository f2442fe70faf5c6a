"""``surrogate-nas spaces``, ``strategies``, ``predictors``, ``executors``: what is installed, plug-ins included.

Each lists the built-in names, those registered in code and the installed plug-ins (entry
points, see :mod:`surrogate_nas.plugins`) with where each comes from. A plug-in that cannot be
loaded is left out of the table and named on one line (exit code 2), after the others.
"""

from __future__ import annotations

import click

from surrogate_nas.pipelines.cli.app import cli
from surrogate_nas.pipelines.cli.format import print_table


def list_registry(registry, row, footer: str) -> None:
    """Print one row per name of ``registry`` (``row(name, value) -> dict``), then notes and broken plug-ins.

    Raises:
        PluginError: one line naming every plug-in that could not be loaded (after the table).
    """
    from surrogate_nas.errors import InputDataError
    from surrogate_nas.plugins import PluginError

    rows, broken = [], []
    for entry in registry.entries():
        try:
            value = registry.get(entry.name)
        except (PluginError, InputDataError) as exc:
            broken.append(str(exc))
            continue
        where = entry.source if entry.source != "plug-in" else f"plug-in ({entry.origin.split(':')[0]})"
        rows.append({**row(entry.name, value), "from": where})
    print_table(rows)
    for note in registry.notes():
        click.echo(f"note: {note}", err=True)
    click.echo(f"\n{footer}")
    if broken:
        raise PluginError(f"{len(broken)} installed {registry.kind} plug-in{'s' if len(broken) > 1 else ''} cannot "
                          f"be used: {'; '.join(broken)}")


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


@cli.command("spaces")
def spaces_command() -> None:
    """List the search spaces: name, size (distinct architectures), network knobs, features, origin."""
    from surrogate_nas.spaces import SPACE_PLUGINS

    def row(name, space):
        size = space.size()
        return {
            "space": name,
            "architectures": "-" if size is None else f"{size:,}",
            "listable": "yes" if space.enumerate() is not None else "no",
            "network": ", ".join(f"{k}={getattr(space.default_network, k)}" for k in space.network_options) or "-",
            "features": space.default_features,
            "description": space.description,
        }

    list_registry(SPACE_PLUGINS, row, "use one with --space NAME (seed, search, compare, fit, predict, "
                                      "benchmark-search)")


@cli.command("strategies")
def strategies_command() -> None:
    """List the search strategies: objectives, fidelities, the search options each reads, origin."""
    from surrogate_nas.pipelines.search.strategies import STRATEGY_PLUGINS

    def row(name, spec):
        return {
            "strategy": name,
            "objectives": "several" if spec.multi_objective else "one",
            "fidelities": "several" if spec.multi_fidelity else "full",
            "reads": ", ".join(spec.search_options) or "-",
            "description": spec.description or _first_line(spec.load().__doc__),
        }

    list_registry(STRATEGY_PLUGINS, row, "use one with --strategy NAME (search) or --strategies A,B "
                                         "(benchmark-search)")


@cli.command("predictors")
def predictors_command() -> None:
    """List the predictors: the feature kind each reads, origin."""
    from surrogate_nas.predictors.registry import PREDICTOR_PLUGINS

    def row(name, spec):
        return {"predictor": name, "features": spec.features, "description": spec.description}

    list_registry(PREDICTOR_PLUGINS, row, "use them with compare --predictors A,B or as BO's model: "
                                          "search --surrogate NAME")


@cli.command("executors")
def executors_command() -> None:
    """List the executors (where trainings run): the execution options each takes, origin."""
    from surrogate_nas.pipelines.execution.executors import EXECUTION_OPTIONS, EXECUTOR_PLUGINS

    def row(name, spec):
        takes = spec.accepts()
        return {"executor": name, "options": ", ".join(o for o in EXECUTION_OPTIONS if o in takes) or "-",
                "description": spec.description or _first_line(spec.load().__doc__)}

    list_registry(EXECUTOR_PLUGINS, row, "use one with --executor NAME (seed, search, quickstart)")
