"""``surrogate-nas search`` and ``benchmark-search``: Bayesian search and its baselines."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from surrogate_nas.pipelines.cli.app import cli, db_option, space_option, stale_after_option, threads_option
from surrogate_nas.pipelines.cli.compare_cmd import csv_list, resolve_benchmark
from surrogate_nas.pipelines.cli.format import check_writable, print_table, write_csv
from surrogate_nas.pipelines.cli.seed_cmd import DATASET_CHOICES
from surrogate_nas.pipelines.search.strategies import STRATEGIES

SEARCH_STRATEGIES = [name for name in STRATEGIES if not name.startswith("bo-")]


@cli.command("search")
@click.option("--benchmark", required=True,
              help="digits or cifar10 (live training), a named table (nb201-cifar10, ...), a CSV, or db[:DATASET].")
@space_option(None, "Search space (default: the named table's own, else nb201).")
@click.option("--metric", default=None, help="Target column of a table (default: the table's own).")
@click.option("--strategy", type=click.Choice(SEARCH_STRATEGIES), default="bo", show_default=True)
@click.option("--surrogate", type=click.Choice(["gp", "xgb"]), default="gp", show_default=True)
@click.option("--acquisition", type=click.Choice(["logei", "ucb", "ts"]), default="logei", show_default=True,
              help="qLogNoisyExpectedImprovement, qUpperConfidenceBound or Thompson sampling.")
@click.option("--budget", type=click.IntRange(min=1), default=100, show_default=True,
              help="Architectures to evaluate (trainings, for live search).")
@click.option("--wall-clock", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop starting new batches after this many seconds.")
@click.option("--batch-size", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--objectives", default="accuracy", callback=csv_list(), show_default=True,
              help="accuracy, or e.g. accuracy,params / accuracy,flops (live) or accuracy,COLUMN:min (tables).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--name", default=None, help="Search name; rerunning with the same name resumes it.")
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Trace CSV.")
@click.option("--epochs", type=click.IntRange(min=1), default=5, show_default=True, help="Live training only.")
@click.option("-C", "--channels", type=click.IntRange(min=1), default=None, help="Live only (default: the space's).")
@click.option("-N", "--cells-per-stage", type=click.IntRange(min=1), default=None,
              help="Live only (default: the space's).")
@click.option("--data-dir", type=click.Path(), default=None, help="CIFAR-10 folder (live only).")
@click.option("--device", default="auto", show_default=True, help="Live only.")
@click.option("--no-mlflow", is_flag=True, help="Do not log to MLflow.")
@threads_option
@stale_after_option
@db_option
def search_command(benchmark, space, metric, strategy, surrogate, acquisition, budget, wall_clock, batch_size,
                   objectives, seed, name, output, epochs, channels, cells_per_stage, data_dir, device, no_mlflow,
                   stale_after, db_url):
    """Search for the best (and lightest) architecture; only the top candidates are trained."""
    from surrogate_nas.device import resolve_device
    from surrogate_nas.storage import open_store
    from surrogate_nas.pipelines.search_job import SearchJob, SearchSpec, resolve_objectives
    from surrogate_nas.pipelines.tracking import Tracker

    check_writable(output, "the trace CSV")
    live = benchmark in DATASET_CHOICES
    table = None if live else resolve_benchmark(benchmark, metric, db_url, space)
    spec = SearchSpec(benchmark=benchmark, space=space or (table.space.name if table else "nb201"),
                      strategy=strategy, surrogate=surrogate, acquisition=acquisition, metric=metric,
                      objectives=tuple(objectives), budget=budget, batch_size=batch_size, seed=seed, name=name,
                      wall_clock_s=wall_clock, epochs=epochs, channels=channels, cells_per_stage=cells_per_stage,
                      data_dir=data_dir, device=device)
    resolve_objectives(spec.objectives, table)  # validate before anything is created
    if live:
        resolve_device(device)
        spec.network()
    store = open_store(db_url, stale_after=stale_after)
    job = SearchJob(spec, store, table, tracker=None if no_mlflow else Tracker())
    outcome = run_and_report(job)
    if output:
        write_csv(outcome.trace.frame, output, "trace")
    if job.tracker is not None:
        click.echo(job.tracker.unlogged_line() or f"browse: {job.tracker.ui_hint()}")


def run_and_report(job):
    """Run the search with a progress bar, then print the best architectures (and Pareto front)."""
    from tqdm import tqdm

    spec = job.spec
    what = "trainings" if spec.live else "evaluations"
    with tqdm(total=spec.budget, desc=f"{spec.strategy_label} on {spec.benchmark} ({job.space.name})", unit="arch",
              dynamic_ncols=True) as bar:
        def on_step(info):
            bar.update(len(info.rows))
            best = info.rows["best_so_far"].iloc[-1]
            shown = "" if best is None else f"best {best:.2f}"
            if spec.strategy == "bo" and bar.n < spec.budget:  # the next ask fits the surrogate: say so
                shown += f"{'; ' if shown else ''}fitting the surrogate on {len(info.history)} points"
            bar.set_postfix_str(shown)

        def on_start(resumed: int) -> None:
            bar.update(resumed)
            bar.set_postfix_str("loading the data and what the database holds" if spec.live else "")

        outcome = job.run(on_step=on_step, on_start=on_start)
    frame = outcome.trace.frame
    others = f" ({outcome.new - outcome.trained_here} of them trained by other workers)" if (
        spec.live and outcome.new > outcome.trained_here) else ""
    click.echo(f"\nsearch {outcome.name!r}: {outcome.new} new {what}{others}; the search holds "
               f"{outcome.resumed + outcome.new} ({outcome.resumed} from earlier runs); the surrogate knew "
               f"{len(frame)} architectures in all")
    best = frame.sort_values("value", ascending=not job.objectives[0].maximize).head(5)
    cols = [c for c in ("arch", "value", "test_value", *[c for c in frame.columns if c.startswith(("params", "flops"))])
            if c in best.columns]
    click.echo("best architectures:")
    print_table(best[cols].to_dict("records"))
    if len(outcome.trace.objectives) > 1:
        front = outcome.trace.pareto_front()
        click.echo(f"\nPareto front ({', '.join(map(str, outcome.trace.objectives))}): {len(front)} architectures")
        print_table(front.to_dict("records"))
        if "hypervolume" in frame:
            click.echo(f"hypervolume: {frame['hypervolume'].iloc[-1]:.4g}")
    click.echo(f"rerun the same command to resume; more budget: --budget {spec.budget + 20} --name {outcome.name}")
    return outcome


@cli.command("benchmark-search")
@click.option("--benchmark", required=True, help="A named table, a CSV, or db[:DATASET].")
@space_option(None, "Search space of a CSV or db benchmark (default: the named table's own, else nb201).")
@click.option("--metric", default=None)
@click.option("--strategies", default="bo-gp,bo-xgb,rs,rea,ls", callback=csv_list(), show_default=True,
              help=f"Any of {', '.join(STRATEGIES)}.")
@click.option("--budget", type=click.IntRange(min=1), default=150, show_default=True)
@click.option("--seeds", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Regret curves as CSV.")
@click.option("--no-mlflow", is_flag=True)
@db_option
def benchmark_search_command(benchmark, space, metric, strategies, budget, seeds, batch_size, output, no_mlflow,
                             db_url):
    """Regret curves (mean +- s.e. over seeds) of several strategies on one table."""
    from tqdm import tqdm

    from surrogate_nas.pipelines.search.benchmark import benchmark_search, optimum_hits, plot_regret, summarize_regret
    from surrogate_nas.pipelines.tracking import Tracker

    if benchmark in DATASET_CHOICES:
        raise click.BadParameter("benchmark-search replays a table; use `search` for live training",
                                 param_hint="--benchmark")
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise click.BadParameter(f"unknown strategy {unknown[0]!r}; expected any of {', '.join(STRATEGIES)}",
                                 param_hint="--strategies")
    check_writable(output, "the regret curves CSV")
    table = resolve_benchmark(benchmark, metric, db_url, space)
    tracker = None if no_mlflow else Tracker()
    with tqdm(total=len(strategies) * seeds, desc="searches", unit="search", dynamic_ncols=True) as bar:
        curves = benchmark_search(table, strategies, budget, seeds, batch_size,
                                  progress=lambda *_: bar.update(1))
    steps = sorted({s for s in (10, 20, 50, 100, 150, 200, budget) if s <= budget})
    summary = summarize_regret(curves, steps)
    summary["mean +- se"] = [f"{m:.3f} +- {s:.3f}" for m, s in zip(summary["mean"], summary["se"])]
    wide = summary.pivot(index="strategy", columns="step", values="mean +- se").reset_index()
    wide.columns = ["strategy", *[f"regret@{s}" for s in wide.columns[1:]]]
    click.echo(f"\n{table.name} ({table.space.name}): target {table.target}, optimum {table.optimum:.3f}, "
               f"{seeds} seeds")
    print_table(wide.to_dict("records"))
    hits = optimum_hits(curves, within=budget)
    print_table(hits.to_dict("records"))
    if output:
        write_csv(curves, output, "curves")
    if tracker is not None:
        with tracker.run(f"benchmark-search-{table.name}", params={
            "benchmark": table.name, "space": table.space.name, "metric": table.target,
            "strategies": ",".join(strategies), "budget": budget, "seeds": seeds, "batch_size": batch_size},
                tags={"kind": "benchmark-search"}) as run:
            means = curves.groupby(["strategy", "step"])["regret"].mean().reset_index()
            tracker.log_series(run, {f"regret.{s}": list(zip(g["step"].astype(int), g["regret"]))
                                     for s, g in means.groupby("strategy")})
            with tempfile.TemporaryDirectory() as tmp:
                curves.to_csv(Path(tmp) / "regret_curves.csv", index=False)
                summary.to_csv(Path(tmp) / "regret_summary.csv", index=False)
                plot_regret(curves, path=Path(tmp) / "regret.png")
                for f in sorted(Path(tmp).iterdir()):
                    tracker.log_artifact(run, f)
        click.echo(tracker.unlogged_line() or f"logged to MLflow: {tracker.ui_hint()}")
