"""Compare search strategies on a benchmark table: regret curves over seeds.

Each (strategy, seed) pair is one :func:`.runner.run_search` against a
:class:`.evaluators.TabularEvaluator`, run one after another. The long frame
of curves is the single source for the summaries and plots below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.backends import SimulatedBackend
from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
from surrogate_nas.pipelines.search.plotting import finish, new_axes
from surrogate_nas.pipelines.search.runner import run_search
from surrogate_nas.pipelines.search.strategies import STRATEGIES, make_strategy

CURVE_COLUMNS = ["strategy", "seed", "step", "arch", "value", "best_so_far", "regret", "test_of_best",
                 "cum_cost_s", "fit_s", "acq_s", "worker", "sim_time_s"]


def benchmark_search(
    table,
    strategies: Sequence[str],
    budget: int,
    seeds: int | Sequence[int] = 5,
    batch_size: int = 1,
    strategy_options: dict[str, dict] | None = None,
    progress: Callable[[str, int, pd.DataFrame], None] | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Run every strategy for every seed; return the regret curves.

    Args:
        table: a :class:`~surrogate_nas.tables.BenchmarkTable`.
        strategies: names for :func:`.strategies.make_strategy`, e.g.
            ``["bo-gp", "bo-xgb", "rs", "rea", "ls"]``.
        budget: evaluations per search.
        seeds: a count (seeds ``0..n-1``) or explicit seeds.
        batch_size: cells per step.
        strategy_options: keyword options per strategy name.
        progress: called as ``progress(strategy, seed, trace_frame)`` after each search.
        workers: run each search asynchronously on this many simulated workers (a
            :class:`.backends.SimulatedBackend` charging the table's cost column), which fills
            ``worker`` and ``sim_time_s``; ``None`` runs synchronous batches.

    Returns:
        One row per (strategy, seed, evaluation) with :data:`CURVE_COLUMNS`.
    """
    names = [str(s).strip().lower() for s in strategies]
    unknown = [s for s in names if s not in STRATEGIES]
    if unknown:
        raise InputDataError(f"unknown search strategy {unknown[0]!r}; expected one of {', '.join(STRATEGIES)}")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise InputDataError("benchmark_search needs at least one seed")
    options = strategy_options or {}
    evaluator = TabularEvaluator(table)
    parts = []
    for name in names:
        for seed in seed_list:
            strategy = make_strategy(name, table.search_space(), seed=seed, **options.get(name, {}))
            backend = SimulatedBackend(evaluator, workers) if workers else None
            frame = run_search(strategy, evaluator, budget=budget, batch_size=batch_size, seed=seed,
                               backend=backend).frame
            if progress is not None:
                progress(name, seed, frame)
            part = frame.reindex(columns=CURVE_COLUMNS[2:])
            part.insert(0, "seed", seed)
            part.insert(0, "strategy", name)
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


def summarize_regret(curves: pd.DataFrame, steps: Sequence[int] = (20, 50, 100), column: str = "regret") -> pd.DataFrame:
    """Mean and standard error of ``column`` at the given steps, per strategy.

    Returns:
        Rows ``strategy, step, mean, se, n`` (``n`` seeds that reached the step).
    """
    rows = []
    for (strategy, step), group in curves[curves["step"].isin(steps)].groupby(["strategy", "step"], sort=False):
        values = group[column].to_numpy(np.float64)
        se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else float("nan")
        rows.append({"strategy": strategy, "step": int(step), "mean": values.mean(), "se": se, "n": len(values)})
    return pd.DataFrame(rows, columns=["strategy", "step", "mean", "se", "n"])


def optimum_hits(curves: pd.DataFrame, within: int, tol: float = 1e-9) -> pd.DataFrame:
    """Per strategy: fraction of seeds whose regret reached 0 within ``within`` evaluations.

    Returns:
        Rows ``strategy, found_fraction, mean_evals_to_find`` (mean over the seeds that found it).
    """
    rows = []
    for strategy, group in curves.groupby("strategy", sort=False):
        firsts = []
        seeds = group["seed"].unique()
        for _, run in group.groupby("seed"):
            hit = run[(run["regret"] <= tol) & (run["step"] <= within)]
            if len(hit):
                firsts.append(int(hit["step"].min()))
        rows.append(
            {
                "strategy": strategy,
                "found_fraction": len(firsts) / len(seeds),
                "mean_evals_to_find": float(np.mean(firsts)) if firsts else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def plot_regret(curves: pd.DataFrame, path=None, ax=None, log: bool = True):
    """Mean regret per step with a standard-error band, one line per strategy."""
    ax = new_axes(ax, figsize=(6, 4))
    for strategy, group in curves.groupby("strategy", sort=False):
        stats = group.groupby("step")["regret"].agg(["mean", "std", "count"])
        se = (stats["std"] / np.sqrt(stats["count"])).fillna(0.0)
        ax.plot(stats.index, stats["mean"], label=strategy)
        ax.fill_between(stats.index, stats["mean"] - se, stats["mean"] + se, alpha=0.2)
    if log:
        ax.set_yscale("symlog", linthresh=0.01)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("regret (optimum - best so far)")
    return finish(ax, path)
