"""``surrogate-nas search`` and ``benchmark-search``: Bayesian search and its baselines."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click
from tqdm import tqdm

from surrogate_nas.datasets import DATASETS
from surrogate_nas.storage import open_store
from surrogate_nas.pipelines.cli.app import cli, db_option, threads_option
from surrogate_nas.pipelines.cli.compare_cmd import csv_list, resolve_benchmark
from surrogate_nas.pipelines.cli.format import print_table, write_csv
from surrogate_nas.device import resolve_device

if TYPE_CHECKING:
    from surrogate_nas.pipelines.search_job import SearchSpec
from surrogate_nas.pipelines.tracking import Tracker


@cli.command("search")
@click.option("--benchmark", required=True,
              help="digits or cifar10 (live training), a named table (nb201-cifar10, ...), a CSV, or db[:DATASET].")
@click.option("--metric", default=None, help="Target column of a table (default: the table's own).")
@click.option("--strategy", type=click.Choice(["bo", "rs", "rea", "ls"]), default="bo", show_default=True)
@click.option("--surrogate", type=click.Choice(["gp", "xgb"]), default="gp", show_default=True)
@click.option("--acquisition", type=click.Choice(["logei", "ucb", "ts"]), default="logei", show_default=True,
              help="qLogNoisyExpectedImprovement, qUpperConfidenceBound or Thompson sampling.")
@click.option("--budget", type=click.IntRange(min=1), default=100, show_default=True,
              help="Architectures to evaluate (trainings, for live search).")
@click.option("--wall-clock", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop starting new batches after this many seconds.")
@click.option("--batch-size", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--objectives", default="accuracy", callback=csv_list(), show_default=True,
              help="accuracy, or accuracy,params / accuracy,flops / accuracy,latency for multi-objective.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--name", default=None, help="Search name; rerunning with the same name resumes it.")
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Trace CSV.")
@click.option("--epochs", type=click.IntRange(min=1), default=5, show_default=True, help="Live training only.")
@click.option("-C", "--channels", type=click.IntRange(min=1), default=16, show_default=True, help="Live only.")
@click.option("-N", "--cells-per-stage", type=click.IntRange(min=1), default=1, show_default=True, help="Live only.")
@click.option("--data-dir", type=click.Path(), default=None, help="CIFAR-10 folder (live only).")
@click.option("--device", default="auto", show_default=True, help="Live only.")
@click.option("--no-mlflow", is_flag=True, help="Do not log to MLflow.")
@threads_option
@db_option
def search_command(benchmark, metric, strategy, surrogate, acquisition, budget, wall_clock, batch_size, objectives,
                   seed, name, output, epochs, channels, cells_per_stage, data_dir, device, no_mlflow, db_url):
    """Search for the best (and lightest) architecture; only the top candidates are trained."""
    from surrogate_nas.pipelines.search_job import SearchSpec, objective_columns

    spec = SearchSpec(benchmark=benchmark, strategy=strategy, surrogate=surrogate, acquisition=acquisition,
                      metric=metric, objectives=tuple(objectives), budget=budget, batch_size=batch_size,
                      seed=seed, name=name, wall_clock_s=wall_clock, epochs=epochs, channels=channels,
                      cells_per_stage=cells_per_stage, data_dir=data_dir, device=device)
    table = None if spec.live else resolve_benchmark(benchmark, metric, db_url)
    objective_columns(spec.objectives, table)  # validate before anything is created
    if spec.live:
        resolve_device(device)
    store = open_store(db_url)
    tracker = None if no_mlflow else Tracker()
    trace, search_name, new = run_and_report(spec, store, table, tracker)
    if output:
        write_csv(trace.frame, output, "trace")
    if tracker is not None:
        click.echo(f"browse: {tracker.ui_hint()}")


def run_and_report(spec: SearchSpec, store, table, tracker):
    """Run the search with a progress bar, then print the best architectures (and Pareto front)."""
    from surrogate_nas.pipelines.search_job import run_search_job

    what = "trainings" if spec.live else "evaluations"
    with tqdm(total=spec.budget, desc=f"{spec.strategy_label} on {spec.benchmark}", unit="arch",
              dynamic_ncols=True) as bar:
        def on_step(info):
            own = [r for r in info.rows.to_dict("records")]
            bar.update(len(own))
            best = info.rows["best_so_far"].iloc[-1]
            bar.set_postfix_str(f"best {best:.2f}")

        trace, name, new = run_search_job(spec, store, table, tracker, on_step=on_step)
    frame = trace.frame
    click.echo(f"\nsearch {name!r}: {new} new {what}, {len(frame[frame['source'] == 'search'])} in this "
               f"search's history, {len(frame)} architectures known to the surrogate")
    best = frame.sort_values("value", ascending=False).head(5)
    cols = [c for c in ("arch", "value", "test_value", *[c for c in frame.columns if c.startswith(("params", "flops"))])
            if c in best.columns]
    click.echo("best architectures:")
    print_table(best[cols].to_dict("records"))
    if len(trace.objectives) > 1:
        front = trace.pareto_front()
        click.echo(f"\nPareto front ({', '.join(map(str, trace.objectives))}): {len(front)} architectures")
        print_table(front.to_dict("records"))
        if "hypervolume" in frame:
            click.echo(f"hypervolume: {frame['hypervolume'].iloc[-1]:.4g}")
    click.echo(f"rerun the same command to resume; more budget: --budget {spec.budget + 20} --name {name}")
    return trace, name, new


@cli.command("benchmark-search")
@click.option("--benchmark", required=True, help="A named table, a CSV, or db[:DATASET].")
@click.option("--metric", default=None)
@click.option("--strategies", default="bo-gp,bo-xgb,rs,rea,ls", callback=csv_list(), show_default=True)
@click.option("--budget", type=click.IntRange(min=1), default=150, show_default=True)
@click.option("--seeds", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Regret curves as CSV.")
@click.option("--no-mlflow", is_flag=True)
@db_option
def benchmark_search_command(benchmark, metric, strategies, budget, seeds, batch_size, output, no_mlflow, db_url):
    """Regret curves (mean +- s.e. over seeds) of several strategies on one table."""
    from surrogate_nas.pipelines.search.benchmark import benchmark_search, optimum_hits, plot_regret, summarize_regret

    if benchmark in DATASETS:
        raise click.BadParameter("benchmark-search replays a table; use `search` for live training",
                                 param_hint="--benchmark")
    table = resolve_benchmark(benchmark, metric, db_url)
    with tqdm(total=len(strategies) * seeds, desc="searches", unit="search", dynamic_ncols=True) as bar:
        curves = benchmark_search(table, strategies, budget, seeds, batch_size,
                                  progress=lambda *_: bar.update(1))
    steps = sorted({s for s in (10, 20, 50, 100, 150, 200, budget) if s <= budget})
    summary = summarize_regret(curves, steps)
    summary["mean +- se"] = [f"{m:.3f} +- {s:.3f}" for m, s in zip(summary["mean"], summary["se"])]
    wide = summary.pivot(index="strategy", columns="step", values="mean +- se").reset_index()
    wide.columns = ["strategy", *[f"regret@{s}" for s in wide.columns[1:]]]
    click.echo(f"\n{table.name}: target {table.target}, optimum {table.optimum:.3f}, {seeds} seeds")
    print_table(wide.to_dict("records"))
    hits = optimum_hits(curves, within=budget)
    print_table(hits.to_dict("records"))
    if output:
        write_csv(curves, output, "curves")
    if not no_mlflow:
        tracker = Tracker()
        with tracker.run(f"benchmark-search-{table.name}", params={
            "benchmark": table.name, "metric": table.target, "strategies": ",".join(strategies),
            "budget": budget, "seeds": seeds, "batch_size": batch_size}, tags={"kind": "benchmark-search"}) as run:
            means = curves.groupby(["strategy", "step"])["regret"].mean().reset_index()
            tracker.log_series(run, {f"regret.{s}": list(zip(g["step"].astype(int), g["regret"]))
                                     for s, g in means.groupby("strategy")})
            with tempfile.TemporaryDirectory() as tmp:
                curves.to_csv(Path(tmp) / "regret_curves.csv", index=False)
                summary.to_csv(Path(tmp) / "regret_summary.csv", index=False)
                plot_regret(curves, path=Path(tmp) / "regret.png")
                for f in sorted(Path(tmp).iterdir()):
                    tracker.log_artifact(run, f)
        click.echo(f"logged to MLflow: {tracker.ui_hint()}")
