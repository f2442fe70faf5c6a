"""``surrogate-nas compare``: NASLib's predictor comparison on a named benchmark, a CSV or the database."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from surrogate_nas.pipelines.cli.app import cli, db_option, mlflow_option, space_option
from surrogate_nas.pipelines.cli.options import csv_list
from surrogate_nas.pipelines.cli.format import check_writable, print_table, write_csv


def resolve_benchmark(name: str, metric: str | None, db_url: str, space: str | None = None, builder=None,
                      minimize: bool = False, cost_column: str | None = None):
    """A named table, a user CSV (of ``space``, default nb201), or ``db`` / ``db:DATASET`` (the database)."""
    from surrogate_nas.pipelines.api import load_table, open_db
    from surrogate_nas.spaces import get_space

    store = open_db(db_url, read_only=True) if name == "db" or name.startswith("db:") else None
    space_obj = None if space is None else get_space(space, builder)
    return load_table(name, metric, store, space_obj, minimize, cost_column)


@cli.command("compare")
@click.option("--benchmark", required=True,
              help="nb201-cifar10, nb201-cifar100, nb101-cifar10-subset, darts-cifar10-subset, ..., a CSV path, "
                   "or db[:DATASET].")
@space_option(None, "Search space of a CSV or db benchmark: a registered one or a .json/.yaml file (default: the "
                    "named table's own, else nb201).")
@click.option("--metric", default=None, help="Target column (default: the benchmark's own).")
@click.option("--minimize", is_flag=True, help="Smaller values of the target are better.")
@click.option("--predictors", "names", default="xgb,gp,gp+xgb,rf,params,mean", callback=csv_list(), show_default=True,
              help="Comma-separated registered predictors, or 'all'.")
@click.option("--train-sizes", default="56,135,500", callback=csv_list(int), show_default=True)
@click.option("--seeds", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--test-size", default="auto", show_default=True,
              help="Test architectures per split: a count, 'all' (every one outside the training set's "
                   "canonical groups) or 'auto' (at most 200 of those).")
@click.option("--transfer-from", default=None,
              help="A table of the same space (e.g. nb201-cifar10 when comparing on nb201-cifar100) whose value "
                   "of each architecture becomes an extra feature; reported apart from data-free results. Not the "
                   "compared table itself (same table or file and same metric).")
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Per-seed rows as CSV.")
@mlflow_option
@db_option
def compare_command(benchmark, space, metric, minimize, names, train_sizes, seeds, test_size, transfer_from, output,
                    mlflow, db_url) -> None:
    """Compare predictors: Kendall tau, Spearman, top-5% precision, calibration, timings."""
    from tqdm import tqdm

    from surrogate_nas.pipelines.tables.compare import check_test_size, compare_predictors, summarize
    from surrogate_nas.pipelines.tracking.tracker import Tracker
    from surrogate_nas.pipelines.tables.transfer import check_transfer_source
    from surrogate_nas.predictors.registry import expand_names

    if min(train_sizes) < 2:
        raise click.BadParameter("train sizes must be >= 2", param_hint="--train-sizes")
    names = expand_names(names)
    test_size = check_test_size(test_size)
    check_writable(output, "the per-seed CSV")
    table = resolve_benchmark(benchmark, metric, db_url, space, minimize=minimize)
    source = None
    if transfer_from is not None:
        source = resolve_benchmark(transfer_from, None, db_url, table.space.name)
        check_transfer_source(table, source)
    tracker = Tracker() if mlflow else None
    total = len(names) * len(train_sizes) * seeds
    with tqdm(total=total, desc="fitting predictors", unit="fit", dynamic_ncols=True) as bar:
        rows = compare_predictors(table, names, train_sizes, seeds, test_size=test_size,
                                  progress=lambda *_: bar.update(1), transfer_from=source)
    summary = summarize(rows)
    for rec in rows[rows["status"] == "failed"].to_dict("records"):
        click.echo(f"{rec['predictor']} failed to fit (n={rec['train_size']}, seed {rec['seed']}): {rec['message']}")
    sizes = rows.groupby("train_size")["test_size"].agg(["min", "max"])
    shown = ", ".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in zip(sizes["min"], sizes["max"]))
    click.echo(f"\n{table.name} ({table.space.name}): target {table.target}, {len(table)} architectures, "
               f"test architectures per split: {shown} (train sizes {', '.join(map(str, sizes.index))})"
               + ("" if source is None else f"; with {source.name} as a prior feature (transfer, not data-free)"))
    print_table(compact_summary(summary))
    click.echo("cover and nll: of each predictor's predictive distribution (its Gaussian summary's are the "
               "nll_normal and coverage_90_normal columns of the per-seed rows)")
    if output:
        write_csv(rows, output, "\nper-seed rows")
    if tracker is not None:
        log_comparison(tracker, table, rows, summary, names, train_sizes, seeds, test_size, source)
        click.echo(tracker.unlogged_line() or f"logged to MLflow: {tracker.ui_hint()}")


def compact_summary(summary) -> list[dict]:
    """The headline columns of :func:`summarize`, as ``mean +- se`` text, one row per predictor and size."""
    def pm(rec, metric):
        mean, se = rec[metric + "_mean"], rec[metric + "_se"]
        return f"{mean:.3f}" if se != se else f"{mean:.3f} +- {se:.3f}"

    rows = []
    for rec in summary.reset_index().to_dict("records"):
        row = {"predictor": rec["predictor"], "n": rec["train_size"], "kendall tau": pm(rec, "kendall_tau"),
               "spearman": pm(rec, "spearman"), "top5% prec": f"{rec['precision_top5_mean']:.2f}",
               "cover 50/80/90/95": "/".join(f"{rec[f'coverage_{lv}_mean']:.2f}" for lv in (50, 80, 90, 95)),
               "nll": f"{rec['nll_mean']:.2f}", "fit s": f"{rec['fit_seconds_mean']:.2f}"}
        if summary["failed"].any():
            row["failed"] = int(rec["failed"])
        rows.append(row)
    return rows


def log_comparison(tracker, table, rows, summary, names, train_sizes, seeds, test_size, source=None) -> None:
    """One MLflow run: parameters, mean metrics per predictor (step = train size), CSV and plots."""
    from surrogate_nas.pipelines.tables.compare import plot_tau_vs_size

    with tracker.run(f"compare-{table.name}", params={
        "benchmark": table.name, "space": table.space.name, "metric": table.target, "predictors": ",".join(names),
        "train_sizes": ",".join(map(str, train_sizes)), "seeds": seeds, "test_size": test_size,
        "transfer_from": "" if source is None else source.name,
    }, tags={"kind": "compare"}) as run:
        series: dict[str, list[tuple[int, float]]] = {}
        means = rows.groupby(["predictor", "train_size"]).mean(numeric_only=True).reset_index()
        for rec in means.to_dict("records"):
            for metric in ("kendall_tau", "spearman", "precision_top5", "precision_at_10", "nll", "coverage_50",
                           "coverage_80", "coverage_90", "coverage_95", "fit_seconds"):
                if metric in rec:
                    series.setdefault(f"{metric}.{rec['predictor']}", []).append((int(rec["train_size"]), rec[metric]))
        tracker.log_series(run, series)
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / "compare.csv"
            rows.to_csv(csv, index=False)
            summary.reset_index().to_csv(Path(tmp) / "summary.csv", index=False)
            plot_tau_vs_size(rows, Path(tmp) / "kendall_tau_vs_train_size.png")
            scatter_plots(table, rows, max(train_sizes), test_size, Path(tmp), source)
            for f in sorted(Path(tmp).iterdir()):
                tracker.log_artifact(run, f)


def scatter_plots(table, rows, train_size: int, test_size, folder: Path, source=None) -> None:
    """Predicted against true on the seed-0 split of the largest train size, one plot per predictor.

    Predictors whose fit failed on that split in the comparison are skipped.
    """
    import numpy as np

    from surrogate_nas.predictors.registry import make_predictor
    from surrogate_nas.pipelines.tables.compare import plot_scatter, split_train_test

    archs, y = table.architectures(), table.values()
    train, test = split_train_test([a.canonical_key for a in archs], train_size, test_size, seed=0)
    prior = None
    if source is not None:
        from surrogate_nas.pipelines.tables.transfer import prior_column

        prior = prior_column(source, archs, table.space)
    fitted = rows[(rows["train_size"] == train_size) & (rows["seed"] == 0) & (rows["status"] == "ok")]
    for name in dict.fromkeys(fitted["predictor"]):
        kind, predictor = make_predictor(name, table.space)
        X = table.space.features(archs, kind)
        X = X if prior is None else np.hstack([X, prior])
        mean, std = predictor.fit(X[train], y[train]).predict(X[test])
        plot_scatter(y[test], mean, folder / f"predicted_vs_true_{name}.png", std=std,
                     title=f"{name}, n={train_size}, {table.name}")
