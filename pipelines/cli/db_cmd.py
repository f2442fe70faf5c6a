"""``surrogate-nas db``: inspect, export, upgrade the architecture database, and release claims."""

from __future__ import annotations

import click

from surrogate_nas.pipelines.cli.app import cli, db_option, stale_after_option
from surrogate_nas.pipelines.cli.format import check_writable, print_table


@cli.group("db")
def db_group() -> None:
    """Inspect, export and upgrade the architecture database; release stuck claims."""


@db_group.command("stats")
@db_option
def stats_command(db_url: str) -> None:
    """Counts by status, space and dataset."""
    from surrogate_nas.storage import open_store

    stats = open_store(db_url, read_only=True).stats()
    for key, value in stats.items():
        click.echo(f"{key:>16}: {value}")


@db_group.command("top")
@click.option("-k", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--space", default=None, help="Only this search space.")
@click.option("--dataset", default=None, help="Only this dataset.")
@click.option("--metric", default="valid_acc", show_default=True, help="valid_acc or test_acc.")
@db_option
def top_command(k: int, space: str | None, dataset: str | None, metric: str, db_url: str) -> None:
    """The best k evaluations."""
    from surrogate_nas.errors import InputDataError
    from surrogate_nas.storage import open_store

    store = open_store(db_url, read_only=True)
    if dataset is not None and dataset not in store.datasets():
        raise InputDataError(f"the database has no evaluations on dataset {dataset!r}; it has: "
                             f"{', '.join(store.datasets()) or 'none'}")
    rows = [{
        "space": e.space, "arch": e.arch, "dataset": e.dataset, "network": e.network.label(), "epochs": e.epochs,
        "seed": e.seed, "valid %": e.valid_acc, "test %": e.test_acc, "params": e.params,
    } for e in store.top(k, space=space, dataset=dataset, metric=metric)]
    print_table(rows)


@db_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", default=None, help="csv or parquet (default: from the file extension).")
@db_option
def export_command(path: str, fmt: str | None, db_url: str) -> None:
    """Write every evaluation to CSV or Parquet."""
    from surrogate_nas.storage import open_store

    check_writable(path, "the export")
    n = open_store(db_url, read_only=True).export(path, fmt)
    click.echo(f"wrote {n} evaluations to {path}")


@db_group.command("upgrade")
@db_option
def upgrade_command(db_url: str) -> None:
    """Migrate a database written by an older surrogate-nas to this schema version."""
    from surrogate_nas.storage import upgrade_schema

    before, after = upgrade_schema(db_url)
    click.echo(f"schema version {before} -> {after}: {db_url}")


@db_group.command("claims")
@stale_after_option
@db_option
def claims_command(stale_after: float, db_url: str) -> None:
    """Running trainings: who holds each claim and when it last showed a sign of life."""
    from surrogate_nas.storage import open_store
    from surrogate_nas.storage.records import utcnow

    store = open_store(db_url, stale_after=stale_after, read_only=True)
    now = utcnow()
    rows = []
    for e in store.evaluations(status="running"):
        beat = (e.heartbeat_at or e.created_at).replace(tzinfo=None)
        rows.append({"id": e.id, "space": e.space, "arch": e.arch, "dataset": e.dataset, "worker": e.worker,
                     "last heartbeat s ago": (now - beat).total_seconds(),
                     "stale": "yes" if not store.holds("running", e.worker, beat, now) else "no"})
    print_table(rows)
    if rows:
        click.echo("release with: surrogate-nas db release --stale | --worker HOST:PID | ID ...")


@db_group.command("release")
@click.argument("ids", nargs=-1, type=int)
@click.option("--worker", default=None, help="Every claim of this worker (host:pid).")
@click.option("--stale", is_flag=True, help="Every claim whose worker is dead or whose heartbeat is stale.")
@click.option("--all", "everything", is_flag=True, help="Every running claim (only when no worker runs).")
@stale_after_option
@db_option
def release_command(ids, worker, stale, everything, stale_after: float, db_url: str) -> None:
    """Release running claims so that other workers may train those architectures."""
    from surrogate_nas.storage import open_store

    released = open_store(db_url, stale_after=stale_after).release_claims(ids, worker=worker, stale=stale, everything=everything)
    for e in released:
        click.echo(f"released {e.id}: {e.space} {e.arch} on {e.dataset} (held by {e.worker})")
    click.echo(f"released {len(released)} claim(s)")
