"""``surrogate-nas seed``: sample architectures, train them for real, store and log them."""

from __future__ import annotations

from contextlib import nullcontext

import click

from surrogate_nas.pipelines.cli.app import cli, db_option, space_option, stale_after_option, threads_option
from surrogate_nas.pipelines.cli.format import print_table

DATASET_CHOICES = ("digits", "cifar10")


def int_list(ctx, param, value):
    if value is None:
        return None
    try:
        out = tuple(int(v) for v in str(value).split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(f"expected integers separated by commas, got {value!r}") from None
    if not out or min(out) < 1:
        raise click.BadParameter(f"expected integers >= 1, got {value!r}")
    return out


def network_grid(space, channels, cells_per_stage) -> tuple:
    """Every (C, N) combination asked for, as the space's network settings (its defaults where not given)."""
    return tuple(space.network_config(c, n) for c in (channels or (None,)) for n in (cells_per_stage or (None,)))


@cli.command("seed")
@space_option()
@click.option("--dataset", type=click.Choice(DATASET_CHOICES), default="digits", show_default=True)
@click.option("--data-dir", type=click.Path(), default=None, help="Folder with the CIFAR-10 python batches.")
@click.option("-n", "--num-archs", "n", type=click.IntRange(min=1), default=8, show_default=True,
              help="Architectures the plan holds: rerunning the same command finishes these, it does not add more.")
@click.option("--arch", "archs", multiple=True, help="Train this architecture (repeatable) instead of sampling.")
@click.option("--epochs", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("-C", "--channels", default=None, callback=int_list,
              help="Channel width C (default: the space's); a comma list trains every value.")
@click.option("-N", "--cells-per-stage", default=None, callback=int_list,
              help="Cells per stage N (default: the space's); a comma list trains every value.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=0.1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling and training seed.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:K.")
@click.option("--no-mlflow", is_flag=True, help="Do not log to MLflow.")
@threads_option
@stale_after_option
@db_option
def seed_command(space, dataset, data_dir, n, archs, epochs, channels, cells_per_stage, batch_size, lr, seed, device,
                 no_mlflow, stale_after, db_url) -> None:
    """Train the first N architectures of a seeded plan that the database lacks, and log them to MLflow."""
    from surrogate_nas.datasets import load_dataset
    from surrogate_nas.device import resolve_device
    from surrogate_nas.records import TrainConfig
    from surrogate_nas.spaces import get_space
    from surrogate_nas.storage import open_store
    from surrogate_nas.pipelines.seeding import SeedPlan
    from surrogate_nas.pipelines.tracking import Tracker

    space = get_space(space)
    plan = SeedPlan(space=space, dataset=dataset, networks=network_grid(space, channels, cells_per_stage),
                    train=TrainConfig(epochs=epochs, batch_size=batch_size, learning_rate=lr),
                    seed=seed, n=n, archs=tuple(archs), device=device)  # parses --arch before touching anything
    resolve_device(device)
    data = load_dataset(dataset, data_dir, seed=seed)
    store = open_store(db_url, stale_after=stale_after)
    tracker = None if no_mlflow else Tracker()
    report = run_seed_job(plan, data, store, tracker, name="seed")
    print_seed_summary(plan, report, store, tracker)


def run_seed_job(plan, data, store, tracker, name: str):
    """Train under one MLflow parent run, with a progress bar; shared by ``seed`` and ``quickstart``."""
    from tqdm import tqdm

    from surrogate_nas.pipelines.seeding import seed_architectures

    params = {"space": plan.space.name, "dataset": plan.dataset, "n": plan.size, "epochs": plan.train.epochs,
              "seed": plan.seed, "networks": " ".join(net.label() for net in plan.networks), "db": store.url}
    with (tracker.run(name, params=params, tags={"kind": name}) if tracker else nullcontext()) as parent, \
            tqdm(total=plan.size, desc=f"training {plan.space.name} on {plan.dataset}", unit="arch",
                 dynamic_ncols=True) as bar:
        def log(result, eval_id):
            if tracker is not None:
                tracker.record_training(store, result, parent, eval_id)

        def progress(outcome):
            if outcome.trained:
                r = outcome.result
                acc = "-" if r.valid_acc is None else f"{r.valid_acc:.1f}%"
                bar.set_postfix_str(f"last valid {acc} in {r.train_seconds:.1f}s")
            bar.update(1)

        report = seed_architectures(plan, data, store, on_result=log, progress=progress)
        bar.update(plan.size - bar.n)
        if tracker is not None:
            tracker.log(parent, metrics={"trained": len(report.trained), "found": report.found,
                                         "skipped": len(report.skipped), "wall_seconds": report.wall_seconds,
                                         "train_seconds": report.train_seconds})
    return report


def print_seed_summary(plan, report, store, tracker) -> None:
    rows = [{
        "arch": r.arch, "network": r.network.label(), "status": r.status.value, "valid %": r.valid_acc,
        "test %": r.test_acc, "params": r.params, "MFLOPs": r.flops / 1e6, "sec": r.train_seconds,
    } for r in sorted(report.trained, key=lambda r: -(r.valid_acc or -1))]
    if rows:
        click.echo("")
        print_table(rows)
    for line in report.skipped:
        click.echo(f"skipped: {line}")
    stats = store.stats()
    click.echo(f"\ntrained {len(report.trained)} new {plan.space.name} architectures in {report.wall_seconds:.1f}s "
               f"({report.train_seconds:.1f}s of training); {report.found} of the plan's {plan.size} were already "
               f"stored; the database now holds {stats['evaluations']} evaluations: {store.url}")
    if not report.trained and not report.skipped:
        click.echo("nothing to train: the plan is complete (raise -n, or change --seed, for more)")
    click.echo("next: surrogate-nas db top   |   surrogate-nas db export results.csv")
    if tracker is not None:
        click.echo(tracker.unlogged_line() or f"browse runs: {tracker.ui_hint()}")
