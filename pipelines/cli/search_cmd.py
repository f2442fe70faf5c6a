"""``surrogate-nas search`` and ``benchmark-search``: Bayesian search and its baselines."""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path

import click

from surrogate_nas.pipelines.cli.app import builder_option, cli, db_option, mlflow_option, plugin_name, space_option
from surrogate_nas.pipelines.cli.compare_cmd import resolve_benchmark
from surrogate_nas.pipelines.cli.options import config_options, csv_list, take
from surrogate_nas.pipelines.jobs.config import EvaluationConfig, ExecutionConfig, SearchConfig, TrackingConfig
from surrogate_nas.pipelines.cli.format import check_writable, print_table, write_csv

_STRATEGIES = "surrogate_nas.pipelines.search.strategies:STRATEGY_PLUGINS"


@cli.command("search")
@config_options(SearchConfig)
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Trace CSV.")
@config_options(EvaluationConfig)
@config_options(ExecutionConfig)
@config_options(TrackingConfig)
def search_command(output, **options):
    """Search for the best (and lightest) architecture; only the top candidates are trained."""
    from surrogate_nas.pipelines import api

    check_writable(output, "the trace CSV")
    tracking = TrackingConfig(**take(options, TrackingConfig))
    config = SearchConfig.from_options(**options)
    result = run_and_report(lambda **hooks: api.run_search_config(config, tracking, **hooks), config.budget,
                            f"{options['strategy']} on {config.benchmark}", config.live, config.objectives, _rerun(),
                            config.execution.workers)
    if output:
        write_csv(result.trace, output, "trace")
    if config.live:
        count, size = result.kept_weights
        click.echo(f"kept weights: {count} training(s), {size / 1e6:.2f} MB beside the database "
                   f"(--keep-weights {config.evaluation.keep_weights}); ship one: surrogate-nas export --search "
                   f"{shlex.quote(result.name)} --out shipped/")
    if tracking.mlflow:
        from surrogate_nas.pipelines.tracking.tracker import ui_hint

        click.echo(result.unlogged or f"browse: {ui_hint()}")


def _rerun():
    """``(option, value) -> command line``: this command again with one option changed."""
    argv = (click.get_current_context().obj or {}).get("argv") or ["search", "..."]

    def command(option: str, value) -> str:
        args, out, skip = list(argv), [], False
        for a in args:
            if skip:
                skip = False
                continue
            if a == option:
                skip = True
                continue
            if not a.startswith(option + "="):
                out.append(a)
        return "surrogate-nas " + " ".join(shlex.quote(a) for a in [*out, option, str(value)])

    return command


def run_and_report(run, budget: int, description: str, live: bool, objectives, rerun=None, workers: int = 1):
    """Call ``run(on_step=..., on_start=..., on_activity=..., on_notice=...)`` under a progress bar;
    print the best architectures and front, why the search stopped and how to take it further.

    The bar shows the best so far and, while a step is slow, what the strategy is doing;
    a step noticeably slower than the one before is said on a line of its own.
    """
    import sys

    from tqdm import tqdm

    what = "trainings" if live else "evaluations"
    bars = []  # the bar starts once the search is checked and created, so errors print alone
    counts = [0]
    status = [""]

    def on_start(resumed: int) -> None:
        bars.append(tqdm(total=budget, desc=description, unit="arch", dynamic_ncols=True))
        if resumed:  # the search runs again from its first step; stored evaluations are read back, not redone
            bars[0].set_postfix_str(f"replaying {resumed} stored {what}")
        elif live:
            bars[0].set_postfix_str("loading what the database holds")

    def on_step(info) -> None:
        bars[0].update(len(info.rows))
        best = info.rows["best_so_far"].iloc[-1]
        failed = int((info.rows["status"] != "ok").sum()) if "status" in info.rows else 0
        counts[0] += failed
        text = f"best {best:.2f}" if best is not None and best == best else "no feasible full result yet"
        status[0] = text + f" | {info.running} running" + (f", {counts[0]} failed" if counts[0] else "")
        bars[0].set_postfix_str(status[0])

    def on_activity(line: str) -> None:
        if bars:
            bars[0].set_postfix_str(f"{status[0]} | {line}" if status[0] else line)

    def on_notice(line: str) -> None:
        tqdm.write(line, file=sys.stderr)

    try:
        result = run(on_step=on_step, on_start=on_start, on_activity=on_activity, on_notice=on_notice)
    finally:
        for bar in bars:
            bar.close()
    frame = result.trace
    others = f" ({result.new - result.trained_here} of them trained by other workers)" if (
        live and result.new > result.trained_here) else ""
    click.echo(f"\nsearch {result.name!r}: {result.new} new {what}{others}; the search holds "
               f"{result.resumed + result.new} ({result.resumed} from earlier runs); the surrogate knew "
               f"{len(frame)} architectures in all")
    full_fidelity = frame["fidelity"] >= 1
    full = frame[full_fidelity & frame["feasible"].astype(bool)]
    if not full_fidelity.all() or frame["cum_cost_s"].iloc[-1] > 0:
        rungs = frame["fidelity"].value_counts().sort_index()
        shown = ", ".join(f"{n} at {'full' if f >= 1 else f'{f:.3g}'} fidelity" for f, n in rungs.items())
        click.echo(f"cost: {frame['cum_cost_s'].iloc[-1]:.0f}s of training{'' if live else ' (simulated)'}; "
                   f"{shown}")
    constrained = len(full) < full_fidelity.sum()
    if constrained:
        click.echo(f"{len(full)} of {int(full_fidelity.sum())} evaluated architectures meet the constraints")
    best = full.sort_values("value", ascending=not result.maximize).head(5)
    costs = ("params", "flops", "lat_ms_", "pred_lat_ms_")
    cols = [c for c in ("arch", "value", "test_value", *[c for c in frame.columns if c.startswith(costs)])
            if c in best.columns]
    if len(best):
        click.echo("best feasible architectures:" if constrained else "best architectures:")
        print_table(best[cols].to_dict("records"))
    elif constrained:
        click.echo("no feasible full-fidelity result yet: raise --budget or --max-cost, or relax --constraint")
    else:
        click.echo("no full-fidelity result yet: raise --budget or --max-cost (rerun to continue)")
    if result.pareto_front is not None:
        click.echo(f"\nPareto front ({', '.join(objectives)}): {len(result.pareto_front)} architectures")
        print_table(result.pareto_front.to_dict("records"))
        if "hypervolume" in frame:
            click.echo(f"hypervolume: {frame['hypervolume'].iloc[-1]:.4g}")
    for source in result.prior_trust:
        click.echo(source.line())
    _say_how_it_ended(result, frame, budget, live, workers, rerun)
    return result


def _say_how_it_ended(result, frame, budget: int, live: bool, workers: int, rerun) -> None:
    """Why the search stopped, its simulated wall-clock time on a table's workers, and what to run next."""
    from surrogate_nas.pipelines.search.runner import STOP_REASONS

    reason = result.stop_reason
    click.echo(f"stopped: {STOP_REASONS.get(reason, reason)}")
    if not live and workers > 1 and frame["sim_time_s"].notna().any():
        hours = frame["sim_time_s"].max() / 3600
        click.echo(f"simulated wall-clock time on {workers} workers: {hours:.2f} h of the table's training times")
    if result.diverged_at is not None:
        click.echo(f"note: from evaluation {result.diverged_at} on, this run did not repeat its stored trials "
                   "(see the README, \"Same seed, same search\")")
    if rerun is None:
        return
    if reason == "budget":
        click.echo(f"more budget: {rerun('--budget', budget + max(20, budget // 5))}")
    elif reason == "max_cost":
        cost = frame["cum_cost_s"].iloc[-1] if len(frame) else 0.0
        click.echo(f"more cost: {rerun('--max-cost', round(max(cost * 1.5, 1.0)))}")
    elif reason == "wall_clock":
        click.echo("rerun the same command to continue where it stopped")


@cli.command("benchmark-search")
@click.option("--benchmark", required=True, help="A named table, a CSV, or db[:DATASET].")
@space_option(None, "Search space of a CSV or db benchmark: a registered one or a .json/.yaml file (default: the "
                    "named table's own, else nb201).")
@builder_option
@click.option("--metric", default=None)
@click.option("--minimize", is_flag=True, help="Smaller values of the target are better.")
@click.option("--cost-column", default=None, help="The table's column of evaluation cost in seconds.")
@click.option("--strategies", default="bo-gp,bo-xgb,rs,rea,ls", callback=csv_list(), show_default=True,
              help="Any of `surrogate-nas strategies` (bo, bo-gp, bo-xgb, rs, rea, ls, mf-bo, sh, hb, plug-ins) or "
                   "module:Class.")
@click.option("--budget", type=click.IntRange(min=1), default=150, show_default=True)
@click.option("--seeds", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--objectives", default=None, callback=csv_list(),
              help="Two or more (as for `search`, e.g. accuracy,latency@pixel3) score each strategy by the "
                   "hypervolume of its front over the table's exact true front's.")
@click.option("--constraint", "constraints", multiple=True, metavar="NAME<=X",
              help="Repeatable bound (as for `search`); regret is then to the best feasible architecture.")
@click.option("--ref-point", default=None, callback=csv_list(float),
              help="The benchmark's hypervolume reference point, one value per objective in its own units "
                   "(default: from the true front; used for scoring only, never by the searches).")
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Regret curves as CSV.")
@mlflow_option
@db_option
def benchmark_search_command(benchmark, space, builder, metric, minimize, cost_column, strategies, budget, seeds,
                             batch_size, objectives, constraints, ref_point, output, mlflow, db_url):
    """Regret curves (mean +- s.e. over seeds) of several strategies on one table; with several
    objectives, their hypervolume as a fraction of the exact true front's."""
    from tqdm import tqdm

    from surrogate_nas.datasets import is_dataset
    from surrogate_nas.pipelines.jobs.objective_words import resolve_terms
    from surrogate_nas.pipelines.search.benchmark import (
        benchmark_evaluator,
        benchmark_search,
        hypervolume_ratios,
        optimum_hits,
        summarize_regret,
        true_front,
    )
    from surrogate_nas.pipelines.search.constraints import ConstraintSet
    from surrogate_nas.pipelines.tracking.tracker import Tracker

    if is_dataset(benchmark):
        raise click.BadParameter("benchmark-search replays a table; use `search` for live training",
                                 param_hint="--benchmark")
    for strategy in strategies:
        try:
            plugin_name(_STRATEGIES)(None, None, strategy)
        except click.BadParameter as exc:
            exc.param_hint = "--strategies"
            raise
    check_writable(output, "the regret curves CSV")
    table = resolve_benchmark(benchmark, metric, db_url, space, builder, minimize, cost_column)
    tracker = Tracker() if mlflow else None
    terms = resolve_terms(objectives or ["accuracy"], constraints, table)
    multi = len(terms.objectives) > 1
    if ref_point is not None and len(ref_point) != len(terms.objectives):
        raise click.BadParameter(f"needs {len(terms.objectives)} values, one per objective", param_hint="--ref-point")
    evaluator = benchmark_evaluator(table, terms.objectives, terms.constraints, terms.metrics)
    cset = ConstraintSet(terms.constraints, evaluator.known())
    front = None
    if multi:
        ref = None if ref_point is None else [o.sign * v for o, v in zip(terms.objectives, ref_point)]
        front = true_front(evaluator, terms.objectives, cset, ref)
    optimum = evaluator.optimum_under(cset) if cset else table.optimum
    if optimum is None:
        raise click.BadParameter("no architecture of the table meets the constraints", param_hint="--constraint")
    with tqdm(total=len(strategies) * seeds, desc="searches", unit="search", dynamic_ncols=True) as bar:
        curves = benchmark_search(table, strategies, budget, seeds, batch_size, progress=lambda *_: bar.update(1),
                                  objectives=terms.objectives, constraints=terms.constraints, metrics=terms.metrics)
    steps = sorted({s for s in (10, 20, 50, 100, 150, 200, budget) if s <= budget})
    what = "best feasible" if cset else "optimum"
    click.echo(f"\n{table.name} ({table.space.name}): target {table.target}, {what} {optimum:.3f}, {seeds} seeds"
               + (f"; constraints {', '.join(map(str, terms.constraints))}" if cset else ""))
    summary = summarize_regret(curves, steps)
    print_table(_wide(summary, "regret").to_dict("records"))
    hits = optimum_hits(curves, within=budget)
    print_table(hits.to_dict("records"))
    ratios = None
    if front is not None:
        ratios = hypervolume_ratios(curves, front, steps)
        ref_units = [o.sign * v for o, v in zip(front.objectives, front.ref_point)]
        click.echo(f"\nexact true front: {len(front.archs)} of {front.reachable} architectures, hypervolume "
                   f"{front.hypervolume:.4g} above the reference point ({', '.join(f'{v:.4g}' for v in ref_units)})")
        print_table(_wide(summarize_regret(ratios, steps, column="ratio"), "hv ratio").to_dict("records"))
    if output:
        write_csv(curves, output, "curves")
    if tracker is not None:
        _log_benchmark(tracker, table, strategies, budget, seeds, batch_size, terms, curves, summary, ratios, front)


def _wide(summary, label: str):
    """``strategy x step`` table of ``mean +- se`` (the mean alone for one seed)."""
    summary = summary.assign(cell=[f"{m:.3f}" if s != s else f"{m:.3f} +- {s:.3f}"
                                   for m, s in zip(summary["mean"], summary["se"])])
    wide = summary.pivot(index="strategy", columns="step", values="cell").reset_index()
    wide.columns = ["strategy", *[f"{label}@{s}" for s in wide.columns[1:]]]
    return wide


def _log_benchmark(tracker, table, strategies, budget, seeds, batch_size, terms, curves, summary, ratios,
                   front) -> None:
    from surrogate_nas.pipelines.search.benchmark import plot_regret
    from surrogate_nas.pipelines.search.pareto import plot_pareto

    params = {"benchmark": table.name, "space": table.space.name, "metric": table.target,
              "strategies": ",".join(strategies), "budget": budget, "seeds": seeds, "batch_size": batch_size,
              "objectives": ",".join(map(str, terms.objectives)),
              "constraints": "; ".join(map(str, terms.constraints)) or "-"}
    with tracker.run(f"benchmark-search-{table.name}", params=params, tags={"kind": "benchmark-search"}) as run:
        means = curves.groupby(["strategy", "step"])["regret"].mean().reset_index()
        series = {f"regret.{s}": list(zip(g["step"].astype(int), g["regret"])) for s, g in means.groupby("strategy")}
        if ratios is not None:
            hv = ratios.groupby(["strategy", "step"])["ratio"].mean().reset_index()
            series.update({f"hv_ratio.{s}": list(zip(g["step"].astype(int), g["ratio"])) for s, g in hv.groupby("strategy")})
        tracker.log_series(run, series)
        with tempfile.TemporaryDirectory() as tmp:
            curves.to_csv(Path(tmp) / "regret_curves.csv", index=False)
            summary.to_csv(Path(tmp) / "regret_summary.csv", index=False)
            plot_regret(curves, path=Path(tmp) / "regret.png")
            if front is not None:
                ratios.to_csv(Path(tmp) / "hypervolume_ratios.csv", index=False)
                front.frame().to_csv(Path(tmp) / "true_front.csv", index=False)
                plot_pareto({"true front": front.frame()}, front.objectives, path=Path(tmp) / "true_front.png")
            for f in sorted(Path(tmp).iterdir()):
                tracker.log_artifact(run, f)
    click.echo(tracker.unlogged_line() or f"logged to MLflow: {tracker.ui_hint()}")
