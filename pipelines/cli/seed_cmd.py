"""``surrogate-nas seed``: sample architectures, train them for real, store and log them."""

from __future__ import annotations

from contextlib import nullcontext

import click
from tqdm import tqdm

from surrogate_nas.cell import Cell
from surrogate_nas.datasets import DATASETS, load_dataset
from surrogate_nas.device import resolve_device
from surrogate_nas.records import TrainConfig
from surrogate_nas.storage import open_store
from surrogate_nas.pipelines.cli.app import cli, db_option, threads_option
from surrogate_nas.pipelines.cli.format import print_table
from surrogate_nas.pipelines.seeding import SeedPlan, SeedReport, seed_architectures
from surrogate_nas.pipelines.tracking import Tracker


def int_list(ctx, param, value: str) -> tuple[int, ...]:
    try:
        out = tuple(int(v) for v in str(value).split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(f"expected integers separated by commas, got {value!r}") from None
    if not out or min(out) < 1:
        raise click.BadParameter(f"expected integers >= 1, got {value!r}")
    return out


@cli.command("seed")
@click.option("--dataset", type=click.Choice(DATASETS), default="digits", show_default=True)
@click.option("--data-dir", type=click.Path(), default=None, help="Folder with the CIFAR-10 python batches.")
@click.option("-n", "--num-archs", "n", type=click.IntRange(min=1), default=8, show_default=True,
              help="How many new architectures to train.")
@click.option("--arch", "archs", multiple=True, help="Train this NAS-Bench-201 string (repeatable) instead of sampling.")
@click.option("--epochs", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("-C", "--channels", default="16", callback=int_list, show_default=True,
              help="Channel width C; a comma list searches over the values.")
@click.option("-N", "--cells-per-stage", default="1", callback=int_list, show_default=True,
              help="Cells per stage N; a comma list searches over the values.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=0.1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling and training seed.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:K.")
@click.option("--no-mlflow", is_flag=True, help="Do not log to MLflow.")
@threads_option
@db_option
def seed_command(dataset, data_dir, n, archs, epochs, channels, cells_per_stage, batch_size, lr, seed, device,
                 no_mlflow, db_url) -> None:
    """Train N architectures not yet in the database and log them to MLflow."""
    cells = tuple(Cell.from_string(a) for a in archs)  # parse before touching anything
    plan = SeedPlan(dataset=dataset, channels=channels, cells_per_stage=cells_per_stage,
                    train=TrainConfig(epochs=epochs, batch_size=batch_size, learning_rate=lr),
                    seed=seed, n=n, cells=cells, device=device)
    resolve_device(device)
    data = load_dataset(dataset, data_dir, seed=seed)
    store = open_store(db_url)
    tracker = None if no_mlflow else Tracker()
    report = run_seed_job(plan, data, store, tracker, name="seed")
    print_seed_summary(report, store, tracker)


def run_seed_job(plan: SeedPlan, data, store, tracker: Tracker | None, name: str) -> SeedReport:
    """Train under one MLflow parent run, with a progress bar; shared by ``seed`` and ``quickstart``."""
    params = {"dataset": plan.dataset, "n": plan.n, "epochs": plan.train.epochs, "seed": plan.seed,
              "C": ",".join(map(str, plan.channels)), "N": ",".join(map(str, plan.cells_per_stage)), "db": store.url}
    total = len(plan.cells) * len(plan.channels) * len(plan.cells_per_stage) if plan.cells else plan.n
    with (tracker.run(name, params=params, tags={"kind": name}) if tracker else nullcontext()) as parent, \
            tqdm(total=total, desc=f"training on {plan.dataset}", unit="arch", dynamic_ncols=True) as bar:
        def log(result, eval_id):
            if tracker is not None:
                store.set_mlflow_run_id(eval_id, tracker.log_training(result, parent).run_id)

        def progress(result):
            acc = "-" if result.valid_acc is None else f"{result.valid_acc:.1f}%"
            bar.set_postfix_str(f"last valid {acc} in {result.train_seconds:.1f}s")
            bar.update(1)

        report = seed_architectures(plan, data, store, on_result=log, progress=progress)
        if tracker is not None:
            tracker.log(parent, metrics={"trained": len(report.trained), "wall_seconds": report.wall_seconds,
                                         "train_seconds": report.train_seconds})
    return report


def print_seed_summary(report: SeedReport, store, tracker: Tracker | None) -> None:
    rows = [{
        "arch": r.arch, "C": r.network.channels, "N": r.network.cells_per_stage, "status": r.status.value,
        "valid %": r.valid_acc, "test %": r.test_acc, "params": r.params, "MFLOPs": r.flops / 1e6,
        "sec": r.train_seconds,
    } for r in sorted(report.trained, key=lambda r: -(r.valid_acc or -1))]
    click.echo("")
    print_table(rows)
    stats = store.stats()
    click.echo(f"\ntrained {len(report.trained)} new architectures in {report.wall_seconds:.1f}s "
               f"({report.train_seconds:.1f}s of training); the database now holds "
               f"{stats['evaluations']} evaluations: {store.url}")
    click.echo("next: surrogate-nas db top   |   surrogate-nas db export results.csv")
    if tracker is not None:
        click.echo(f"browse runs: {tracker.ui_hint()}")
