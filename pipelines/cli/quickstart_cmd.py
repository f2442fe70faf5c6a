"""``surrogate-nas quickstart``: the main job on the embedded default (digits, CPU)."""

from __future__ import annotations

import click

from surrogate_nas.datasets import load_dataset
from surrogate_nas.records import TrainConfig
from surrogate_nas.storage import open_store
from surrogate_nas.pipelines.cli.app import cli, db_option
from surrogate_nas.pipelines.cli.seed_cmd import print_seed_summary, run_seed_job
from surrogate_nas.pipelines.seeding import SeedPlan
from surrogate_nas.pipelines.tracking import Tracker


@cli.command("quickstart")
@click.option("-n", "--num-archs", "n", type=click.IntRange(min=1), default=12, show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--device", default="auto", show_default=True)
@db_option
def quickstart_command(n: int, epochs: int, device: str, db_url: str) -> None:
    """Seed a small digits database and log it to MLflow (about a minute on 2 CPU cores)."""
    plan = SeedPlan(dataset="digits", channels=(8,), cells_per_stage=(1,), train=TrainConfig(epochs=epochs),
                    seed=0, n=n, device=device)
    data = load_dataset("digits", seed=0)
    store = open_store(db_url)
    tracker = Tracker()
    click.echo(f"step 1/1: training {n} sampled architectures on digits ({epochs} epochs each)")
    report = run_seed_job(plan, data, store, tracker, name="quickstart-seed")
    print_seed_summary(report, store, tracker)
