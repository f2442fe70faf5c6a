"""``surrogate-nas spaces``: the registered search spaces and their sizes."""

from __future__ import annotations

import click

from surrogate_nas.pipelines.cli.app import cli
from surrogate_nas.pipelines.cli.format import print_table


@cli.command("spaces")
def spaces_command() -> None:
    """List the search spaces: name, size (distinct architectures), network knobs, features."""
    from surrogate_nas.spaces import SPACES, get_space

    rows = []
    for name in SPACES:
        space = get_space(name)
        size = space.size()
        rows.append({
            "space": name,
            "architectures": "-" if size is None else f"{size:,}",
            "listable": "yes" if space.enumerate() is not None else "no",
            "network": ", ".join(f"{k}={getattr(space.default_network, k)}" for k in space.network_options) or "-",
            "features": space.default_features,
            "description": space.description,
        })
    print_table(rows)
    click.echo("\nuse one with --space NAME (seed, search, compare, fit, predict, benchmark-search)")
