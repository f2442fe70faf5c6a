"""``surrogate-nas fit`` and ``predict``: a stored predictor for scoring architectures."""

from __future__ import annotations

import time

import click

from surrogate_nas.cell import Cell
from surrogate_nas.pipelines.cli.app import cli, db_option
from surrogate_nas.pipelines.cli.compare_cmd import resolve_benchmark
from surrogate_nas.pipelines.cli.format import print_table
from surrogate_nas.pipelines.predictor_store import load_bundle, load_bundle_file, log_bundle, save_bundle
from surrogate_nas.pipelines.tracking import Tracker


@cli.command("fit")
@click.option("--predictor", "kind", default="xgb", show_default=True,
              help="xgb, gp, rf, params, flops, synflow, nwot, mean, xgb-onehot, gp-onehot, ...")
@click.option("--benchmark", default="db", show_default=True, help="db[:DATASET], a named table or a CSV.")
@click.option("--metric", default=None, help="Target column (default: valid_acc, or the table's own).")
@click.option("--name", default=None, help="Name to save it under (default: PREDICTOR-BENCHMARK).")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Also write it to this file.")
@click.option("--no-mlflow", is_flag=True, help="Do not log to MLflow (then --out is required).")
@db_option
def fit_command(kind, benchmark, metric, name, out, no_mlflow, db_url) -> None:
    """Fit a predictor on every architecture of the database (or a table) and store it."""
    if no_mlflow and not out:
        raise click.UsageError("with --no-mlflow, give --out PATH to keep the predictor")
    from surrogate_nas.predictors.features import featurize
    from surrogate_nas.predictors.registry import make_predictor

    features, predictor = make_predictor(kind)
    table = resolve_benchmark(benchmark, metric, db_url)
    start = time.perf_counter()
    predictor.fit(featurize(table.cells(), features), table.values())
    seconds = time.perf_counter() - start
    name = name or f"{kind}-{table.name}".replace(":", "-")
    bundle = {"predictor": predictor, "features": features, "target": table.target, "benchmark": table.name,
              "n_train": len(table), "kind": kind}
    click.echo(f"fitted {kind} on {len(table)} architectures of {table.name} ({table.target}) in {seconds:.1f}s")
    if out:
        click.echo(f"saved: {save_bundle(bundle, out)}")
    if not no_mlflow:
        tracker = Tracker()
        run_id = log_bundle(tracker, bundle, name)
        click.echo(f"saved to MLflow as {name!r} (run {run_id}); score with: surrogate-nas predict --model {name} ARCH")


@cli.command("predict")
@click.option("--model", required=True, help="A name given to `fit`, an MLflow run id, or a file from --out.")
@click.option("--archs-file", type=click.File(), default=None, help="One NAS-Bench-201 string per line.")
@click.argument("archs", nargs=-1)
def predict_command(model, archs_file, archs) -> None:
    """Predicted mean and standard deviation for architecture strings."""
    texts = list(archs) + ([ln.strip() for ln in archs_file if ln.strip()] if archs_file else [])
    if not texts:
        raise click.UsageError("give architecture strings as arguments or --archs-file")
    cells = [Cell.from_string(t) for t in texts]
    from surrogate_nas.predictors.features import featurize

    bundle = load_bundle_file(model) if model.endswith(".pkl") else load_bundle(Tracker(), model)
    mean, std = bundle["predictor"].predict(featurize(cells, bundle["features"]))
    click.echo(f"{bundle['kind']} fitted on {bundle['n_train']} architectures of {bundle['benchmark']}, "
               f"predicting {bundle['target']}")
    print_table([{"arch": str(c), "mean": float(m), "std": float(s)} for c, m, s in zip(cells, mean, std)])
