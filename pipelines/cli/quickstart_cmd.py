"""``surrogate-nas quickstart``: the whole pipeline on the embedded default (digits, CPU).

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

from surrogate_nas.pipelines.cli.app import cli, db_option, stale_after_option, threads_option
from surrogate_nas.pipelines.cli.compare_cmd import compact_summary, log_comparison
from surrogate_nas.pipelines.cli.search_cmd import run_and_report
from surrogate_nas.pipelines.cli.seed_cmd import run_seed_job

PREDICTORS = ["xgb", "gp", "rf", "params", "mean"]


@cli.command("quickstart")
@click.option("--seed-archs", type=click.IntRange(min=8), default=16, show_default=True,
              help="Architectures in the seed database.")
@click.option("--budget", type=click.IntRange(min=1), default=12, show_default=True,
              help="Trainings the Bayesian search may spend.")
@click.option("--epochs", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("-C", "--channels", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--device", default="auto", show_default=True)
@threads_option
@stale_after_option
@db_option
def quickstart_command(seed_archs: int, budget: int, epochs: int, channels: int, device: str, stale_after: float,
                       db_url: str) -> None:
    """Seed, compare predictors, Bayesian search and Pareto front on digits (a few minutes on 2 CPU cores)."""
    from surrogate_nas.datasets import load_dataset
    from surrogate_nas.records import NetworkConfig, TrainConfig
    from surrogate_nas.spaces import get_space
    from surrogate_nas.storage import open_store
    from surrogate_nas.pipelines.cli.format import print_table
    from surrogate_nas.pipelines.compare import compare_predictors, summarize
    from surrogate_nas.pipelines.db_table import table_from_store
    from surrogate_nas.pipelines.search_job import SearchJob, SearchSpec
    from surrogate_nas.pipelines.seeding import SeedPlan
    from surrogate_nas.pipelines.tracking import Tracker

    start = time.perf_counter()
    space = get_space("nb201")
    network = NetworkConfig(channels, 1)
    plan = SeedPlan(space=space, dataset="digits", networks=(network,), train=TrainConfig(epochs=epochs), seed=0,
                    n=seed_archs, device=device)
    data = load_dataset("digits", seed=0)
    store = open_store(db_url, stale_after=stale_after)
    tracker = Tracker()

    have = len(store.evaluations(setting=plan.setting(network), status="ok"))
    click.echo(f"[1/3] seed: {have} architectures already trained on digits with this setting; the plan holds "
               f"{seed_archs} (C={channels}, N=1, {epochs} epochs)")
    report = run_seed_job(plan, data, store, tracker, name="quickstart-seed")
    click.echo(f"trained {len(report.trained)} new architectures; {report.found} of the plan's {plan.size} were "
               "already stored")

    table = table_from_store(store, space="nb201", dataset="digits", network=network.to_dict(), epochs=epochs)
    test_size = max(4, len(table) // 3)
    train_size = len(table) - test_size
    click.echo(f"\n[2/3] compare predictors on the database: {len(table)} architectures, "
               f"train on {train_size}, test on {test_size}, 3 seeds")
    rows = compare_predictors(table, PREDICTORS, [train_size], 3, test_size=test_size)
    summary = summarize(rows)
    print_table(compact_summary(summary))
    log_comparison(tracker, table, rows, summary, PREDICTORS, [train_size], 3, test_size)

    click.echo(f"\n[3/3] Bayesian search (GP surrogate, qLogNEHVI, accuracy vs params): scores every "
               f"untrained candidate, trains only the top 4 per step, {budget} trainings")
    spec = SearchSpec(benchmark="digits", strategy="bo", surrogate="gp", objectives=("accuracy", "params"),
                      budget=budget, batch_size=4, seed=0, name=f"quickstart-C{channels}-{epochs}ep",
                      epochs=epochs, channels=channels, cells_per_stage=1, device=device)
    run_and_report(SearchJob(spec, store, None, tracker))

    click.echo(f"\ndone in {time.perf_counter() - start:.0f}s. The database {store.url} holds "
               f"{store.stats()['evaluations']} evaluations.")
    if tracker.offline:
        click.echo(tracker.unlogged_line())
    click.echo(f"next: {tracker.ui_hint()}  |  surrogate-nas db top  |  "
               "surrogate-nas search --benchmark nb201-cifar10 --budget 100")
