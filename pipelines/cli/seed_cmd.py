"""``surrogate-nas seed``: sample architectures, train them for real, store and log them."""

from __future__ import annotations

import click

from surrogate_nas.datasets import DEFAULT_DATASET
from surrogate_nas.pipelines.cli.app import builder_option, cli, space_option
from surrogate_nas.pipelines.cli.format import print_table
from surrogate_nas.pipelines.cli.options import config_options
from surrogate_nas.pipelines.jobs.config import EvaluationConfig, ExecutionConfig, TrackingConfig


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


@cli.command("seed")
@space_option()
@builder_option
@click.option("--dataset", default=DEFAULT_DATASET, show_default=True,
              help="A named dataset (digits, cifar10 with --data-dir), a dataset plug-in, a folder of images (one "
                   "sub-folder per class) or a .npz file.")
@config_options(EvaluationConfig, only=("preset", "augment", "image_size", "data_dir"))
@click.option("-n", "--num-archs", "n", type=click.IntRange(min=1), default=8, show_default=True,
              help="Architectures the plan holds: rerunning the same command finishes these, it does not add more.")
@click.option("--arch", "archs", multiple=True, help="Train this architecture (repeatable) instead of sampling.")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Default 5 (or the preset's).")
@click.option("-C", "--channels", default=None, callback=int_list,
              help="Channel width C (default: the space's); a comma list trains every value.")
@click.option("-N", "--cells-per-stage", default=None, callback=int_list,
              help="Cells per stage N (default: the space's); a comma list trains every value.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--lr", "learning_rate", type=click.FloatRange(min=0, min_open=True), default=0.1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling, split and training seed.")
@config_options(EvaluationConfig, only=("device", "keep_weights"))
@config_options(ExecutionConfig)
@config_options(TrackingConfig)
def seed_command(space, dataset, n, **options) -> None:
    """Train the first N architectures of a seeded plan that the database lacks, and log them to MLflow."""
    from surrogate_nas.pipelines.api import prepare_seed

    job = prepare_seed(space, dataset, n, **options)
    with progress_bar(job.plan.size, f"training on {job.data[1].source}") as progress:
        report = job.run(progress)
    print_seed_summary(report, job.store, job.tracker)


class progress_bar:
    """A tqdm bar that advances once per plan entry: trained, found, failed and running counts, the last accuracy."""

    def __init__(self, total: int | None, description: str) -> None:
        self.total, self.description = total, description
        self.counts = {"trained": 0, "found": 0, "failed": 0}

    def __enter__(self):
        from tqdm import tqdm

        self.bar = tqdm(total=self.total, desc=self.description, unit="arch", dynamic_ncols=True)
        return self

    def __call__(self, outcome) -> None:
        kind = "trained" if outcome.trained else "found" if outcome.stored is not None else "failed" \
            if outcome.failed else None
        if kind:
            self.counts[kind] += 1
        text = ", ".join(f"{v} {k}" for k, v in self.counts.items() if v)
        if outcome.running:
            text += f", {outcome.running} running"
        if outcome.trained:
            r = outcome.result
            text += f" | last {'-' if r.valid_acc is None else f'{r.valid_acc:.1f}%'} in {r.train_seconds:.1f}s"
        self.bar.set_postfix_str(text)
        self.bar.update(1)

    def __exit__(self, *exc) -> None:
        if self.total is not None and exc[0] is None:
            self.bar.update(self.total - self.bar.n)
        self.bar.close()


def print_seed_summary(report, store, tracker) -> None:
    rows = [{
        "arch": r.arch, "network": r.network.label(), "status": r.status.value, "valid %": r.valid_acc,
        "test %": r.test_acc, "params": r.params, "MFLOPs": r.flops / 1e6, "sec": r.train_seconds,
    } for r in sorted(report.trained, key=lambda r: -(r.valid_acc or -1))]
    if rows:
        click.echo("")
        print_table(rows)
    for line in report.skipped:
        click.echo(f"skipped: {line}")
    for line in report.failed:
        click.echo(f"failed (its worker died on every attempt; claim released): {line}")
    plan = report.plan
    stats = store.stats()
    click.echo(f"\ntrained {len(report.trained)} new {plan.space.name} architectures on {plan.dataset} in "
               f"{report.wall_seconds:.1f}s ({report.train_seconds:.1f}s of training); {report.found} of the plan's "
               f"{plan.size} were already stored; the database now holds {stats['evaluations']} evaluations: "
               f"{store.url}")
    count, size = report.kept_weights
    click.echo(f"kept weights: {count} training(s), {size / 1e6:.2f} MB beside the database "
               f"(--keep-weights {plan.keep_weights})")
    if not report.trained and not report.skipped:
        click.echo("nothing to train: the plan is complete (raise -n, or change --seed, for more)")
    click.echo("next: surrogate-nas db top   |   surrogate-nas db export results.csv")
    if tracker is not None:
        click.echo(tracker.unlogged_line() or f"browse runs: {tracker.ui_hint()}")
