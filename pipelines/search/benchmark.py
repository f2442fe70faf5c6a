"""Compare search strategies on a benchmark table: regret curves over seeds.

Each (strategy, seed) pair is one :func:`.runner.run_search` against a
:class:`.evaluators.TabularEvaluator`, run one after another. The long frame
of curves is the single source for the summaries and plots below.

With several objectives a complete table also knows the exact Pareto front
(:func:`true_front`, over every architecture a search can reach), so each search is
scored by the hypervolume of what it found as a fraction of the true front's
(:func:`hypervolume_ratios`). Scoring uses one fixed reference point per benchmark for
every strategy, derived from the true front; the searches themselves never see it (each
fixes its own from what it evaluated).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.backends import SimulatedBackend
from surrogate_nas.pipelines.search.constraints import NO_CONSTRAINTS, Constraint, ConstraintSet
from surrogate_nas.pipelines.search.evaluators import ArchMetric, TabularEvaluator
from surrogate_nas.pipelines.search.history import Objective, Trial, objective_matrix, parse_objectives
from surrogate_nas.pipelines.search.pareto import hypervolume, pareto_mask, reference_point
from surrogate_nas.pipelines.search.plotting import finish, new_axes
from surrogate_nas.pipelines.search.runner import run_search
from surrogate_nas.pipelines.search.strategies import make_strategy, resolve_strategy, strategy_label

CURVE_COLUMNS = ["strategy", "seed", "step", "arch", "value", "best_so_far", "regret", "test_of_best",
                 "cum_cost_s", "worker", "sim_time_s", "feasible"]
"""Columns of :func:`benchmark_search`'s curves, followed by the objective and constrained columns."""


def benchmark_search(
    table,
    strategies: Sequence[str],
    budget: int,
    seeds: int | Sequence[int] = 5,
    batch_size: int = 1,
    strategy_options: dict[str, dict] | None = None,
    progress: Callable[[str, int, pd.DataFrame], None] | None = None,
    workers: int | None = None,
    objectives: Sequence[str | Objective] | None = None,
    constraints: Sequence[Constraint] = (),
    metrics: Sequence[ArchMetric] = (),
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
        objectives: what every search optimises (default: the table's target); with two or
            more, score the curves with :func:`hypervolume_ratios`.
        constraints: bounds every search must meet; regret is then to the best feasible value.
        metrics: quantities computed from the architecture that objectives or constraints name.

    Returns:
        One row per (strategy, seed, evaluation) with :data:`CURVE_COLUMNS`, then one column
        per objective and constrained quantity.
    """
    names = [strategy_label(s) for s in strategies]
    for s in strategies:
        resolve_strategy(s)  # an unknown name fails before any search, listing what is installed
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise InputDataError("benchmark_search needs at least one seed")
    options = strategy_options or {}
    objs = parse_objectives(objectives) if objectives else None
    evaluator = benchmark_evaluator(table, objs, constraints, metrics)
    cset = ConstraintSet(tuple(constraints), evaluator.known())
    reported = [*(o.name for o in objs or ()), *cset.names]
    columns = CURVE_COLUMNS[2:] + [c for c in dict.fromkeys(reported) if c not in CURVE_COLUMNS]
    parts = []
    for name, given in zip(names, strategies):
        for seed in seed_list:
            strategy = make_strategy(given, evaluator.space, objectives=objs, seed=seed, constraints=cset,
                                     **options.get(name, {}))
            backend = SimulatedBackend(evaluator, workers) if workers else None
            trace = run_search(strategy, evaluator, budget=budget, batch_size=batch_size, seed=seed, backend=backend,
                               objectives=objs, constraints=cset)
            frame = trace.frame.assign(**{c: [t.objectives.get(c) for t in trace.history] for c in reported})
            if progress is not None:
                progress(name, seed, frame)
            part = frame.reindex(columns=columns)
            part.insert(0, "seed", seed)
            part.insert(0, "strategy", name)
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


def benchmark_evaluator(table, objectives=None, constraints: Sequence[Constraint] = (),
                        metrics: Sequence[ArchMetric] = ()) -> TabularEvaluator:
    """The evaluator of :func:`benchmark_search`: it reports every objective and constrained quantity."""
    names = [*(o.name for o in objectives or ()), *(c.name for c in constraints)]
    return TabularEvaluator(table, objectives=list(dict.fromkeys(names)) or None, metrics=metrics)


@dataclass(frozen=True)
class TrueFront:
    """The exact Pareto front of a complete table.

    Attributes:
        objectives: the objectives.
        archs: the front's architectures (text form).
        points: ``k x m`` front values in the "maximise everything" space.
        ref_point: the benchmark's fixed reference point (same space).
        hypervolume: the front's hypervolume above ``ref_point``.
        reachable: how many architectures the front was taken over (feasible ones only).
    """

    objectives: tuple[Objective, ...]
    archs: tuple[str, ...]
    points: np.ndarray
    ref_point: np.ndarray
    hypervolume: float
    reachable: int

    def frame(self) -> pd.DataFrame:
        """The front in objective units, one row per architecture."""
        values = self.points * np.array([o.sign for o in self.objectives])
        return pd.DataFrame({"arch": self.archs, **{o.name: values[:, j] for j, o in enumerate(self.objectives)}})


def true_front(evaluator: TabularEvaluator, objectives, constraints: ConstraintSet = NO_CONSTRAINTS,
               ref_point=None) -> TrueFront:
    """The exact front over every architecture a search of ``evaluator``'s table can evaluate.

    The reference point, unless given (in the "maximise everything" space), is BoTorch's
    ``infer_reference_point`` of the true front itself: its nadir moved back by a tenth of its
    range. That uses the whole table, which is right for *scoring* searches on a benchmark
    and is never given to the searches.
    """
    objs = parse_objectives(objectives)
    archs, observations = evaluator.reachable
    trials = [Trial(a, o.value, o.objectives) for a, o in zip(archs, observations)]
    trials = [t for t, ok in zip(trials, constraints.feasible(trials)) if ok]
    if not trials:
        raise InputDataError("no architecture of the table meets the constraints")
    Y = objective_matrix(trials, objs)
    mask = pareto_mask(Y)
    points = Y[mask]
    ref = reference_point(points) if ref_point is None else np.asarray(ref_point, dtype=np.float64)
    front = tuple(t.arch.to_string() for t, keep in zip(trials, mask) if keep)
    return TrueFront(objs, front, points, ref, hypervolume(points, ref), len(trials))


def hypervolume_ratios(curves: pd.DataFrame, front: TrueFront, steps: Sequence[int]) -> pd.DataFrame:
    """Hypervolume of each search's feasible evaluations after ``steps`` evaluations, over the true front's.

    Returns:
        Rows ``strategy, seed, step, hypervolume, ratio``.
    """
    signs = np.array([o.sign for o in front.objectives])
    names = [o.name for o in front.objectives]
    rows = []
    for (strategy, seed), run in curves.groupby(["strategy", "seed"], sort=False):
        run = run.sort_values("step")
        ok = run["feasible"].fillna(True).astype(bool).to_numpy() if "feasible" in run else np.ones(len(run), bool)
        Y = run[names].to_numpy(np.float64) * signs
        for step in steps:
            seen = (run["step"].to_numpy() <= step) & ok
            hv = hypervolume(Y[seen], front.ref_point)
            rows.append({"strategy": strategy, "seed": seed, "step": int(step), "hypervolume": hv,
                         "ratio": hv / front.hypervolume})
    return pd.DataFrame(rows, columns=["strategy", "seed", "step", "hypervolume", "ratio"])


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
