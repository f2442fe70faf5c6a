"""``surrogate-nas quickstart``: the whole pipeline on the default space and embedded dataset (CPU).

1. seed a small database by training sampled architectures for real;
2. compare the predictors on that database;
3. run a multi-objective Bayesian search (accuracy vs params) that scores every
   candidate with the surrogate and trains only the top ones;
4. show the best architectures, the Pareto front and where to look next.

Every step uses the project's database and MLflow store, and rerunning the
command resumes: the seed step only tops the database up, the search resumes
by name.
"""

from __future__ import annotations

import time

import click

from surrogate_nas.spaces import DEFAULT_SPACE
from surrogate_nas.pipelines.cli.app import cli, db_option, execution_options, stale_after_option
from surrogate_nas.pipelines.cli.compare_cmd import compact_summary, log_comparison
from surrogate_nas.pipelines.cli.search_cmd import run_and_report
from surrogate_nas.pipelines.cli.seed_cmd import progress_bar

PREDICTORS = ["xgb", "gp", "rf", "params", "mean"]


@cli.command("quickstart")
@click.option("--seed-archs", type=click.IntRange(min=8), default=16, show_default=True,
              help="Architectures in the seed database.")
@click.option("--budget", type=click.IntRange(min=1), default=12, show_default=True,
              help="Trainings the Bayesian search may spend.")
@click.option("--epochs", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("-C", "--channels", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--device", default="auto", show_default=True)
@execution_options
@stale_after_option
@db_option
def quickstart_command(seed_archs: int, budget: int, epochs: int, channels: int, device: str, stale_after: float,
                       db_url: str, **execution) -> None:
    """Seed, compare predictors, Bayesian search and Pareto front on digits (a few minutes on 2 CPU cores)."""
    from surrogate_nas.datasets import DEFAULT_DATASET
    from surrogate_nas.pipelines import api
    from surrogate_nas.pipelines.cli.format import print_table
    from surrogate_nas.pipelines.tables.compare import compare_predictors, summarize
    from surrogate_nas.pipelines.tables.db_table import table_from_store
    from surrogate_nas.pipelines.tracking.tracker import ui_hint
    from surrogate_nas.tables import NAMED_BENCHMARKS

    start = time.perf_counter()
    space, dataset = DEFAULT_SPACE, DEFAULT_DATASET
    click.echo(f"[1/3] seed: make {seed_archs} architectures exist on {dataset} (C={channels}, N=1, {epochs} epochs)")
    job = api.prepare_seed(space, dataset, seed_archs, epochs=epochs, channels=channels, cells_per_stage=1,
                           device=device, db=db_url, run_name="quickstart-seed", stale_after=stale_after,
                           **execution)
    with progress_bar(job.plan.size, f"training on {dataset}") as progress:
        report = job.run(progress)
    click.echo(f"trained {len(report.trained)} new architectures; {report.found} of the plan's {report.plan.size} "
               "were already stored")

    store = api.open_db(db_url)
    table = table_from_store(store, space=space, dataset=dataset, network={"channels": channels, "cells_per_stage": 1},
                             epochs=epochs)
    test_size = max(4, len(table) // 3)
    train_size = len(table) - test_size
    click.echo(f"\n[2/3] compare predictors on the database: {len(table)} architectures, "
               f"train on {train_size}, test on {test_size}, 3 seeds")
    rows = compare_predictors(table, PREDICTORS, [train_size], 3, test_size=test_size)
    summary = summarize(rows)
    print_table(compact_summary(summary))
    log_comparison(job.tracker, table, rows, summary, PREDICTORS, [train_size], 3, test_size)

    click.echo(f"\n[3/3] Bayesian search (GP surrogate, qLogNEHVI, accuracy vs params): scores every "
               f"untrained candidate, trains only the top 4 per step, {budget} trainings")
    run_and_report(lambda **hooks: api.search(
        space, dataset=dataset, strategy="bo", surrogate="gp", objectives=("accuracy", "params"), budget=budget,
        batch_size=4, seed=0, name=f"quickstart-C{channels}-{epochs}ep", epochs=epochs, channels=channels,
        cells_per_stage=1, device=device, db=db_url, stale_after=stale_after, **execution, **hooks), budget,
        f"bo on {dataset}", True, ("accuracy", "params"))

    click.echo(f"\ndone in {time.perf_counter() - start:.0f}s. The database {store.url} holds "
               f"{store.stats()['evaluations']} evaluations.")
    if job.tracker is not None and job.tracker.offline:
        click.echo(job.tracker.unlogged_line())
    table_hint = next((f"  |  surrogate-nas search --benchmark {name} --budget 100"
                       for name, named in NAMED_BENCHMARKS.items() if named.space == space), "")
    click.echo(f"next: {ui_hint()}  |  surrogate-nas db top{table_hint}")
