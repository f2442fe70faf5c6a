"""``surrogate-nas fit`` and ``predict``: a stored predictor for scoring architectures.

``fit --target latency`` makes a latency model for a device from a few measured
architectures; a search then uses it as ``latency@NAME`` (see
:mod:`surrogate_nas.pipelines.jobs.objective_words`). On NB-201 the model reads the cells'
latency on the packaged device settings; fitting one of those settings itself (a table's
``lat_ms_pixel3``) leaves that setting's own column out of its features
(:func:`~surrogate_nas.pipelines.tables.compare.leave_out_target`).
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from surrogate_nas.pipelines.cli.app import builder_option, cli, db_option, space_option
from surrogate_nas.pipelines.cli.compare_cmd import resolve_benchmark
from surrogate_nas.pipelines.cli.format import check_writable, print_table
from surrogate_nas.pipelines.cli.options import field_option
from surrogate_nas.pipelines.jobs.config import TrackingConfig


@cli.command("fit")
@space_option(None, "Search space of a CSV or db benchmark: a registered one or a .json/.yaml file (default: the "
                    "named table's own, else nb201).")
@builder_option
@click.option("--target", type=click.Choice(["accuracy", "latency"]), default="accuracy", show_default=True,
              help="accuracy: the benchmark's target (or --metric); latency: a latency model for a device, fitted "
                   "on a CSV of measured (arch, ms) pairs, usable in a search as latency@NAME.")
@click.option("--predictor", "kind", default=None,
              help="xgb (default for accuracy), latency (default for latency), gp, rf, params, flops, synflow, nwot, "
                   "mean, xgb-onehot, gp-onehot, ...")
@click.option("--benchmark", default="db", show_default=True, help="db[:DATASET], a named table or a CSV.")
@click.option("--metric", default=None, help="Target column (default: valid_acc, the table's own, or a CSV's only "
                                             "numeric column).")
@click.option("--name", default=None, help="Name to save it under (default: PREDICTOR-BENCHMARK).")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Also write it to this file (a zip of JSON, numpy arrays and XGBoost models; no pickle).")
@field_option(TrackingConfig, "mlflow", help="Do not log to MLflow (then --out is required).")
@db_option
def fit_command(space, builder, target, kind, benchmark, metric, name, out, mlflow, db_url) -> None:
    """Fit a predictor on every architecture of the database (or a table) and store it."""
    if not mlflow and not out:
        raise click.UsageError("with --no-mlflow, give --out PATH to keep the predictor")
    from surrogate_nas.predictors.registry import make_predictor
    from surrogate_nas.pipelines.tables.compare import leave_out_target
    from surrogate_nas.pipelines.jobs.objective_words import LATENCY_QUANTITY
    from surrogate_nas.pipelines.tracking.predictor_store import log_bundle, save_bundle
    from surrogate_nas.pipelines.tracking.tracker import Tracker
    from surrogate_nas.devices import DEVICES

    check_writable(out, "the predictor")
    latency = target == LATENCY_QUANTITY
    kind = kind or ("latency" if latency else "xgb")
    if latency and benchmark == "db" and metric is None:
        raise click.UsageError("--target latency fits measured latencies: give --benchmark measured.csv (arch, ms)")
    if latency and name is not None and name.lower() in DEVICES:
        raise click.BadParameter(f"{name!r} is a device setting of the latency table; pick another name",
                                 param_hint="--name")
    if latency and metric is None:
        from surrogate_nas.pipelines.ship.measure import measured_column

        metric = measured_column(benchmark)  # a CSV of `surrogate-nas measure`: its latency_ms
    table = resolve_benchmark(benchmark, metric, db_url, space, builder)
    features, predictor = make_predictor(kind, table.space)
    leave_out_target(predictor, table.space, features, table.target)
    tracker = Tracker() if mlflow else None
    click.echo(f"fitting {kind} on {len(table)} architectures of {table.name} ...", err=True)
    start = time.perf_counter()
    predictor.fit(table.space.features(table.architectures(), features), table.values())
    seconds = time.perf_counter() - start
    default_name = f"latency-{Path(table.name).name.split('.')[0]}" if latency else f"{kind}-{table.name}"
    name = name or default_name.replace(":", "-")
    bundle = {"predictor": predictor, "features": features, "target": table.target, "benchmark": table.name,
              "n_train": len(table), "kind": kind, "space": table.space.name,
              "quantity": LATENCY_QUANTITY if latency else "accuracy"}
    click.echo(f"fitted {kind} on {len(table)} architectures of {table.name} ({table.target}) in {seconds:.1f}s")
    if out:
        click.echo(f"saved: {save_bundle(bundle, out)}")
    if tracker is not None:
        run_id = log_bundle(tracker, bundle, name)
        click.echo(f"saved to MLflow as {name!r} (run {run_id}); score with: surrogate-nas predict --model {name} ARCH")
    if latency:
        click.echo(f"search with it: --objectives accuracy,latency@{name if mlflow else out} "
                   f"or --constraint \"latency@{name if mlflow else out}<=MS\"")


@cli.command("predict")
@space_option(None, "Search space of the architectures (default: the registered one the predictor was fitted on; "
                    "give the .json/.yaml file for a space of your own).")
@click.option("--model", required=True, help="A file from `fit --out`, a name given to `fit`, or an MLflow run id.")
@click.option("--archs-file", type=click.File(), default=None, help="One architecture per line.")
@click.argument("archs", nargs=-1)
def predict_command(space, model, archs_file, archs) -> None:
    """Predicted mean, standard deviation and 90% interval for architectures (in their space's text form)."""
    from surrogate_nas.errors import InputDataError
    from surrogate_nas.predictors.predictive import predictive
    from surrogate_nas.spaces import get_space
    from surrogate_nas.pipelines.tracking.predictor_store import load_bundle, load_bundle_file
    from surrogate_nas.pipelines.tracking.tracker import Tracker

    texts = [(f"argument {i + 1}", t) for i, t in enumerate(archs)]
    if archs_file:
        texts += [(f"{archs_file.name} line {i + 1}", ln.strip()) for i, ln in enumerate(archs_file) if ln.strip()]
    if not texts:
        raise click.UsageError("give architectures as arguments or --archs-file")
    if Path(model).exists() or Path(model).suffix in (".zip", ".pkl", ".pickle", ".joblib"):
        bundle = load_bundle_file(model)
    else:
        bundle = load_bundle(Tracker(), model)
    fitted_on = bundle["space"]
    space = get_space(space if space is not None else fitted_on)
    if space.name != fitted_on:
        raise InputDataError(f"the predictor was fitted on the {fitted_on} space, not {space.name}")
    archs = []
    for where, text in texts:
        try:
            archs.append(space.parse(text))
        except InputDataError as exc:
            raise InputDataError(f"{where}: {exc}") from None
    distribution = predictive(bundle["predictor"], space.features(archs, bundle["features"]))
    mean, std = distribution.summary()
    low, high = distribution.interval(0.9)
    click.echo(f"{bundle['kind']} fitted on {bundle['n_train']} {space.name} architectures of {bundle['benchmark']}, "
               f"predicting {bundle['target']}")
    print_table([{"arch": a.to_string(), "mean": float(m), "std": float(s), "90% low": float(lo), "90% high": float(hi)}
                 for a, m, s, lo, hi in zip(archs, mean, std, low, high)])
    click.echo("mean and std: the median and local spread of each prediction; 90% low-high: the central 90% of its "
               "distribution (skewed where accuracies crowd)")
