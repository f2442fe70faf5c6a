"""``surrogate-nas db``: inspect and export the architecture database."""

from __future__ import annotations

import click

from surrogate_nas.storage import open_store, upgrade_schema
from surrogate_nas.pipelines.cli.app import cli, db_option
from surrogate_nas.pipelines.cli.format import print_table


@cli.group("db")
def db_group() -> None:
    """Inspect, export and upgrade the architecture database."""


@db_group.command("stats")
@db_option
def stats_command(db_url: str) -> None:
    """Counts by status and dataset."""
    stats = open_store(db_url).stats()
    for key, value in stats.items():
        click.echo(f"{key:>16}: {value}")


@db_group.command("top")
@click.option("-k", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--dataset", default=None, help="Only this dataset.")
@click.option("--metric", type=click.Choice(["valid_acc", "test_acc"]), default="valid_acc", show_default=True)
@db_option
def top_command(k: int, dataset: str | None, metric: str, db_url: str) -> None:
    """The best k evaluations."""
    rows = [{
        "arch": e.arch, "dataset": e.dataset, "C": e.channels, "N": e.cells_per_stage, "epochs": e.epochs,
        "seed": e.seed, "valid %": e.valid_acc, "test %": e.test_acc, "params": e.params,
    } for e in open_store(db_url).top(k, dataset=dataset, metric=metric)]
    print_table(rows)


@db_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default=None,
              help="Default: from the file extension.")
@db_option
def export_command(path: str, fmt: str | None, db_url: str) -> None:
    """Write every evaluation to CSV or Parquet."""
    n = open_store(db_url).export(path, fmt)
    click.echo(f"wrote {n} evaluations to {path}")


@db_group.command("upgrade")
@db_option
def upgrade_command(db_url: str) -> None:
    """Migrate a database written by an older surrogate-nas to this schema version."""
    before, after = upgrade_schema(db_url)
    click.echo(f"schema version {before} -> {after}: {db_url}")
