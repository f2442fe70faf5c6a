"""``surrogate-nas export``: a searched (or given) architecture, trained, as files you can ship."""

from __future__ import annotations

import click

from surrogate_nas.datasets import DEFAULT_DATASET
from surrogate_nas.pipelines.cli.app import builder_option, cli, space_option
from surrogate_nas.pipelines.cli.format import print_table
from surrogate_nas.pipelines.cli.options import config_options
from surrogate_nas.pipelines.jobs.config import EvaluationConfig, ExecutionConfig, TrackingConfig


@cli.command("export")
@click.option("--search", help="A stored live search (its name, as `search` printed it).")
@click.option("--pick", default="best", show_default=True,
              help="For --search: best, front (every network of the Pareto front, one sub-folder each) or K "
                   "(the K-th of the front, best first).")
@click.option("--arch", help="Instead of --search: this architecture of --space, trained with the options below.")
@space_option()
@builder_option
@click.option("--dataset", default=DEFAULT_DATASET, show_default=True,
              help="For --arch: a named dataset, a folder of images or a .npz file.")
@config_options(EvaluationConfig, only=("epochs", "channels", "cells_per_stage", "preset", "augment", "image_size",
                                        "data_dir"))
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True, help="For --arch.")
@click.option("--lr", "learning_rate", type=click.FloatRange(min=0, min_open=True), default=0.1, show_default=True,
              help="For --arch.")
@click.option("--seed", type=int, default=0, show_default=True, help="For --arch: training and split seed.")
@click.option("--device", default="cpu", show_default=True, help="Where the network is trained: cpu, cuda, cuda:K.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="A new folder for the files.")
@click.option("--no-onnx", "onnx", is_flag=True, flag_value=False, default=True, help="Write no model.onnx.")
@click.option("--register", metavar="NAME", help="Register the model in MLflow's model registry under NAME.")
@click.option("--retrain-epochs", type=click.IntRange(min=1), default=None,
              help="Final training: train from scratch for this many epochs (default: the recipe's) and export that.")
@click.option("--seeds", type=click.IntRange(min=1), default=1, show_default=True,
              help="Final training with this many seeds; the best by validation accuracy is exported, the card "
                   "has the test accuracy's mean and s.d.")
@config_options(ExecutionConfig)
@config_options(TrackingConfig, only=("db", "mlflow"))
def export_command(out, **options) -> None:
    """Train a search's best network (or its front, or --arch) and write model.pt (TorchScript), model.onnx and a
    model card to a new folder; the inputs are raw, as the dataset holds them."""
    from surrogate_nas.pipelines.ship import export

    report = export(out, progress=lambda line: click.echo(line, err=True), **options)
    print_export_summary(report, options.get("register"))


def print_export_summary(report, register: str | None) -> None:
    rows = [{"network": n.folder.name, "arch": n.card["architecture"], "valid %": n.card["valid_accuracy"],
             "test %": n.card["test_accuracy"], "params": n.card["params"],
             "ms (batch 1)": n.card["latency"]["latency_ms"]} for n in report.networks]
    click.echo("")
    print_table(rows)
    for n in report.networks:
        final = n.card.get("final_training")
        if final:
            click.echo(f"final training of {n.folder.name}: {len(final['seeds'])} seed(s) x {final['epochs']} epochs, "
                       f"test accuracy {final['test_accuracy_mean']:.2f} +- {final['test_accuracy_sd']:.2f}% "
                       f"(mean +- s.d.); exported seed {final['chosen_seed']}, the best by validation accuracy")
    first = report.networks[0]
    onnx = first.card["files"]["model.onnx"]
    files = "model.pt, model.onnx" if onnx["written"] else "model.pt"
    click.echo(f"\nexported {len(rows)} network(s) to {report.out} in {report.seconds:.1f}s: {files}, "
               "model_card.json, model_card.md in each")
    if onnx["written"]:
        click.echo(f"model.onnx matches model.pt within {onnx['max_abs_diff']:.2g} on {onnx['compared_on']}")
    else:
        click.echo(f"no model.onnx: {onnx['why_not']}")
    click.echo(f"inputs: {first.card['input']['dtype']} arrays of shape {tuple(first.card['input']['shape'])} "
               f"({first.card['input']['what']}); the preprocessing is inside the model")
    if register and first.card["registered_model"]:
        click.echo(f"registered: {', '.join(n.card['registered_model'] for n in report.networks)} "
                   f"(mlflow.pytorch.load_model(\"{first.card['registered_model']}\"))")
    if report.unlogged:
        click.echo(report.unlogged)
    click.echo(f"next: python -c \"import torch; m = torch.jit.load('{first.folder / 'model.pt'}')\"   |   "
               f"cat {first.folder / 'model_card.md'}")
