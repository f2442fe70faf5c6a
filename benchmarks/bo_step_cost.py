"""Cost of one BO step as the history grows, and search quality, classic step against the budgeted one.

Three measurements, one run, both behaviours of the same code: the classic step
(``step_seconds=None``: hyperparameters refitted on every evaluation, every candidate
screened through batched posteriors, the whole history as the acquisition's baseline)
and the default budgeted step (``step_seconds=3``).

1. **Step cost**: tell ``n`` random evaluations, then time ``--steps`` consecutive steps
   (ask for 4, evaluate them, tell them), for the GP, the XGBoost ensemble and the
   multi-objective GP (accuracy vs parameters), at each ``n`` of ``--sizes`` on
   NAS-Bench-201 (CIFAR-10 table; candidates: every unseen canonical cell) and at
   ``--large`` on the ``macro`` space (157,464 networks, scored through candidate pools)
   with synthetic targets from a fixed function (no table is large enough). Each cell runs
   in its own process under ``--cell-timeout``.
2. **Model choice**: on 2,000 NB-201 evaluations, a GP conditioned on all of them or on
   a subset (the best half and a random half): seconds to condition and score every
   unseen cell, Kendall tau and top-50 overlap of its mean on the unseen cells.
3. **Quality**: regret curves of ``bo-gp`` over ``--seeds`` seeds on nb201-cifar10 and
   nb201-cifar100 (``--budget`` evaluations, batch 4), and the hypervolume of
   multi-objective BO (accuracy vs params) after 100 and ``--mo-budget`` evaluations over
   ``--mo-seeds`` seeds. The multi-objective searches get the reference point the product
   gives them: none (each fixes its own from what it evaluated, see
   :func:`surrogate_nas.pipelines.search.pareto.reference_point`); they are scored afterwards
   as a ratio to the exact true front's hypervolume with the true front's reference point,
   one for every search, never shown to them.

Each part's rows are kept in ``docs/results/bo_step_<part>.csv`` with the commit that made
them; the section is built only from rows of the current commit (rerun the stale parts).

Writes ``docs/results/bo_step_*.csv`` and the ``bo_step_cost`` section of
``docs/benchmarks.md``. Example::

    python benchmarks/bo_step_cost.py --seeds 20 --mo-seeds 5 --jobs 2
    python benchmarks/bo_step_cost.py --parts regret,mo --seeds 10 --mo-seeds 3  # rerun parts, keep the rest
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import (  # noqa: E402
    RESULTS,
    StaleResultsError,
    add_run_args,
    command_line,
    load_frame,
    markdown_table,
    save_frame,
    start_run,
    write_section,
)

from surrogate_nas.pipelines.search.evaluators import Evaluator, Observation  # noqa: E402

CONFIGS = {
    "GP": {"surrogate": "gp", "objectives": 1},
    "XGBoost": {"surrogate": "xgb", "objectives": 1},
    "multi-objective GP": {"surrogate": "gp", "objectives": 2},
}
VARIANTS = {"classic": {"step_seconds": None}, "budgeted": {}}
NB201_OBJECTIVES = ["cifar10_valid_acc_200ep", "params_mb_cifar10:min"]


# -- synthetic targets on the macro space ------------------------------------------------
class SyntheticEvaluator(Evaluator):
    """A fixed, smooth function of a macro architecture, and its true parameter count.

    ``accuracy = 60 + 35 * sigmoid(3 z)`` with ``z`` a linear plus pairwise function of the
    one-hot choices, weights drawn once from seed 2024: structured like a NAS table (choices
    matter, some in combination), cheap, and the same in every run.
    """

    target, maximize = "accuracy", True

    def __init__(self, space) -> None:
        self.space = space
        d = len(space.feature_names("onehot"))
        rng = np.random.default_rng(2024)
        self.w = rng.normal(0, 1, d) / np.sqrt(d)
        self.W = rng.normal(0, 1, (d, d)) / d

    def reported(self):
        return ("accuracy", "params")

    def evaluate(self, suggestions):
        archs = [s.arch for s in suggestions]
        X = self.space.features(archs, "onehot")
        z = X @ self.w + np.einsum("ni,ij,nj->n", X, self.W, X)
        acc = 60 + 35 / (1 + np.exp(-3 * z))
        params = [self.space.reference_cost(a)[0] / 1e6 for a in archs]
        return [Observation(float(a), {"accuracy": float(a), "params": p}) for a, p in zip(acc, params)]


def _problem(space_name: str, objectives: int):
    """(evaluator, objectives) of a step-cost cell."""
    from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
    from surrogate_nas.spaces import get_space
    from surrogate_nas.tables import load_benchmark

    if space_name == "nb201":
        objs = NB201_OBJECTIVES[:objectives]
        return TabularEvaluator(load_benchmark("nb201-cifar10"), objs if objectives > 1 else None), \
            (objs if objectives > 1 else None)
    objs = ["accuracy", "params:min"][:objectives]
    return SyntheticEvaluator(get_space("macro")), (objs if objectives > 1 else None)


def _trials(evaluator, archs):
    from surrogate_nas.pipelines.search.history import Suggestion, Trial

    return [Trial(a, o.value, o.objectives) for a, o in zip(archs, evaluator.evaluate([Suggestion(a) for a in archs]))]


def _cell(args, queue) -> None:
    """Time ``steps`` steps of one (space, config, variant, n) cell; put the rows on ``queue``."""
    import torch

    from surrogate_nas.pipelines.search.strategies.bayesopt import BayesianOptimization

    torch.set_num_threads(1)
    space_name, config, variant, n, steps = args
    spec = CONFIGS[config]
    evaluator, objectives = _problem(space_name, spec["objectives"])
    space = evaluator.space
    history = _trials(evaluator, space.sample_unseen(n, np.random.default_rng(n)))
    bo = BayesianOptimization(space, objectives, seed=0, surrogate=spec["surrogate"], **VARIANTS[variant])
    bo.tell(history)
    rows = []
    for step in range(steps):
        t0 = time.perf_counter()
        suggestions = bo.ask(4)
        total = time.perf_counter() - t0
        rows.append({"space": space_name, "surrogate": config, "variant": variant, "n": n, "step": step + 1,
                     "total_s": total, "fit_s": bo.last_timing.get("fit_s", 0.0),
                     "acq_s": bo.last_timing.get("acq_s", 0.0), "activity": bo.last_activity})
        bo.tell(_trials(evaluator, [s.arch for s in suggestions]))
    queue.put(rows)


def step_costs(cells, timeout_s: float) -> pd.DataFrame:
    """Run each cell in a fresh process (sequentially, so timings do not compete); a cell past the timeout is a row
    with ``total_s`` NaN."""
    ctx = multiprocessing.get_context("fork")
    rows = []
    for cell in cells:
        queue = ctx.Queue()
        proc = ctx.Process(target=_cell, args=(cell, queue))
        t0 = time.perf_counter()
        proc.start()
        proc.join(timeout_s)
        if proc.is_alive():
            proc.terminate()
            proc.join()
            got = [{"space": cell[0], "surrogate": cell[1], "variant": cell[2], "n": cell[3], "step": 0,
                    "total_s": float("nan"), "activity": f"not finished in {timeout_s:.0f} s"}]
        else:
            got = queue.get() if not queue.empty() else [{"space": cell[0], "surrogate": cell[1], "variant": cell[2],
                                                           "n": cell[3], "step": 0, "total_s": float("nan"),
                                                           "activity": f"failed (exit code {proc.exitcode})"}]
        rows += got
        worst = max((r["total_s"] for r in got), default=float("nan"))
        print(f"  {cell[1]:>18} {cell[2]:>8} {cell[0]} n={cell[3]:>5}: slowest step {worst:.2f}s "
              f"({time.perf_counter() - t0:.0f}s, load {os.getloadavg()[0]:.1f})", flush=True)
    return pd.DataFrame(rows)


# -- model choice ------------------------------------------------------------------------
def model_choice(n: int, sizes, seeds: int) -> pd.DataFrame:
    """Exact GP on all ``n`` evaluations against subset GPs: seconds, and accuracy on the unseen cells."""
    import torch
    from scipy.stats import kendalltau

    from surrogate_nas.predictors.gp import GPPredictor
    from surrogate_nas.predictors.gp_online import condition_gp, subset_rows
    from surrogate_nas.pipelines.search.bo.joint_posterior import marginal_posterior
    from surrogate_nas.pipelines.search.bo.surrogates import copula_transform
    from surrogate_nas.tables import load_benchmark

    torch.set_num_threads(1)
    table = load_benchmark("nb201-cifar10")
    space = table.search_space()
    cells = list(space.enumerate())
    X = space.features(cells, "default")
    y = np.array([table.lookup(c) for c in cells])
    rows = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        seen = rng.choice(len(cells), size=n, replace=False)
        unseen = np.setdiff1d(np.arange(len(cells)), seen)
        z = copula_transform(y[seen])
        fit_rows = subset_rows(z[:, None], 300, rng)
        template = GPPredictor().fit(X[seen][fit_rows], z[fit_rows]).model_
        truth = y[unseen]
        top_true = set(np.argsort(-truth)[:50])
        for m in sizes:
            rows_m = subset_rows(z[:, None], m, rng)
            t0 = time.perf_counter()
            model = condition_gp(template, X[seen][rows_m], z[rows_m])
            mean = marginal_posterior(model, torch.as_tensor(X[unseen]))[0][:, 0].numpy()
            seconds = time.perf_counter() - t0
            rows.append({"seed": seed, "points": m, "seconds": seconds, "kendall_tau": kendalltau(mean, truth)[0],
                         "top50_overlap": len(top_true & set(np.argsort(-mean)[:50])) / 50})
        print(f"  model choice seed {seed} done (load {os.getloadavg()[0]:.1f})", flush=True)
    return pd.DataFrame(rows)


# -- quality -----------------------------------------------------------------------------
def _regret_run(args) -> pd.DataFrame:
    import torch

    from surrogate_nas.pipelines.search.benchmark import benchmark_search
    from surrogate_nas.tables import load_benchmark

    torch.set_num_threads(1)
    table_name, variant, seed, budget = args
    t0 = time.perf_counter()
    curves = benchmark_search(load_benchmark(table_name), ["bo-gp"], budget, [seed], 4,
                              strategy_options={"bo-gp": VARIANTS[variant]})
    seconds = time.perf_counter() - t0
    print(f"  {table_name} {variant} seed {seed}: regret {curves['regret'].iloc[-1]:.3f} ({seconds:.0f}s)", flush=True)
    return curves.assign(table=table_name, variant=variant, run_s=seconds)


def _mo_run(args) -> dict:
    import torch

    from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
    from surrogate_nas.pipelines.search.runner import run_search
    from surrogate_nas.pipelines.search.strategies.bayesopt import BayesianOptimization
    from surrogate_nas.tables import load_benchmark

    from surrogate_nas.pipelines.search.benchmark import true_front
    from surrogate_nas.pipelines.search.history import objective_matrix, parse_objectives
    from surrogate_nas.pipelines.search.pareto import hypervolume

    torch.set_num_threads(1)
    variant, seed, budget = args
    table = load_benchmark("nb201-cifar10")
    evaluator = TabularEvaluator(table, NB201_OBJECTIVES)
    bo = BayesianOptimization(table.search_space(), NB201_OBJECTIVES, seed=seed, **VARIANTS[variant])
    t0 = time.perf_counter()
    # No ref_point: as in the product, the search fixes its own from what it evaluated.
    trace = run_search(bo, evaluator, budget=budget, batch_size=4, objectives=NB201_OBJECTIVES)
    seconds = time.perf_counter() - t0
    # Scored afterwards against the exact true front, one reference point for every search.
    front = true_front(evaluator, parse_objectives(NB201_OBJECTIVES))
    Y = objective_matrix(trace.history, front.objectives)
    hv = [hypervolume(Y[:k], front.ref_point) / front.hypervolume for k in (min(100, len(Y)), len(Y))]
    print(f"  MO {variant} seed {seed}: HV ratio {hv[0]:.4f} at 100, {hv[1]:.4f} at {budget} ({seconds:.0f}s)",
          flush=True)
    return {"variant": variant, "seed": seed, "budget": budget, "hv_100": hv[0], "hv_end": hv[1], "run_s": seconds,
            "slowest_step_s": float(trace.timings["suggest_s"].max())}


# -- parts -----------------------------------------------------------------------------
def _cost_part(args) -> pd.DataFrame:
    sizes = [int(s) for s in args.sizes.split(",") if s]
    large = [int(s) for s in args.large.split(",") if s]
    cells = []
    for config in CONFIGS:
        for variant in VARIANTS:
            for space_name, ns in (("nb201", sizes), ("macro", large)):
                for n in ns:
                    if variant == "classic" and space_name == "macro" and n > 2000:
                        continue  # the classic step's fit grows as n^3 (CG past 800 rows); hours at 10,000
                    steps = args.steps if variant == "budgeted" else (2 if n < 600 else 1)
                    cells.append((space_name, config, variant, n, steps))
    print(f"step cost: {len(cells)} cells", flush=True)
    return step_costs(cells, args.cell_timeout)


def _choice_part(args) -> pd.DataFrame:
    return model_choice(2000, [250, 500, 1000, 2000], args.choice_seeds)


def _regret_part(args) -> pd.DataFrame:
    jobs = [(t, v, s, args.budget) for t in ("nb201-cifar10", "nb201-cifar100") for v in VARIANTS
            for s in range(args.seeds)]
    with ProcessPoolExecutor(args.jobs) as pool:
        return pd.concat(list(pool.map(_regret_run, jobs)), ignore_index=True)


def _mo_part(args) -> pd.DataFrame:
    budgets = {"classic": args.mo_classic_budget, "budgeted": args.mo_budget}
    with ProcessPoolExecutor(args.jobs) as pool:
        return pd.DataFrame(list(pool.map(_mo_run, [(v, s, budgets[v]) for v in VARIANTS
                                                    for s in range(args.mo_seeds)])))


PARTS = {"cost": _cost_part, "choice": _choice_part, "regret": _regret_part, "mo": _mo_part}


# -- report ------------------------------------------------------------------------------
def _mean_se(values) -> str:
    v = np.asarray(values, dtype=np.float64)
    se = v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else float("nan")
    return f"{v.mean():.3f} ± {se:.3f}"


def _cost_tables(costs: pd.DataFrame) -> list[str]:
    lines = []
    for space_name, part in costs.groupby("space", sort=False):
        sizes = sorted(part["n"].unique())
        where = ("NAS-Bench-201, nb201-cifar10 (6,466 canonical cells)" if space_name == "nb201"
                 else "macro space, synthetic targets, candidate pools")
        lines += [f"**{where}**: "
                  "slowest of the measured steps, seconds (first step / later steps):", "",
                  "| surrogate | step | " + " | ".join(f"n = {n:,}" for n in sizes) + " |",
                  "|---|---|" + "---|" * len(sizes)]
        for (config, variant), g in part.groupby(["surrogate", "variant"], sort=False):
            cells = []
            for n in sizes:
                r = g[g["n"] == n]
                if r.empty:
                    cells.append("not run")
                elif r["total_s"].isna().all():
                    cells.append(str(r["activity"].iloc[0]))
                else:
                    first = r[r["step"] == 1]["total_s"].iloc[0]
                    later = r[r["step"] > 1]["total_s"]
                    cells.append(f"{first:.2f}" + (f" / {later.max():.2f}" if len(later) else ""))
            lines.append(f"| {config} | {variant} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _goal_lines(costs: pd.DataFrame) -> list[str]:
    lines = ["Goal check for the budgeted step (every measured step, first ones included): at most 3 s up to "
             "n = 2,000, and at most 3 times its own cost at n = 100 on the same space:", ""]
    for (space_name, config), g in costs[costs["variant"] == "budgeted"].groupby(["space", "surrogate"], sort=False):
        base = g[g["n"] == g["n"].min()]["total_s"].max()
        upto = g[g["n"] <= 2000]
        worst = upto["total_s"].max()
        ratio = g.groupby("n")["total_s"].max() / base
        lines.append(f"- {config} on {space_name}: slowest step up to n = 2,000 {worst:.2f} s "
                     f"({'met' if worst <= 3 else 'NOT met'} on this load); ratio to n = {g['n'].min():,}: "
                     + ", ".join(f"{r:.1f}x at {n:,}" for n, r in ratio.items())
                     + (" (met)" if ratio[ratio.index <= 2000].max() <= 3 else " (NOT met)"))
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,300,600,1000,2000")
    parser.add_argument("--large", default="100,10000", help="history sizes on the macro space")
    parser.add_argument("--steps", type=int, default=6, help="steps timed per budgeted cell (the classic: 2, 1 "
                                                              "from n = 600)")
    parser.add_argument("--cell-timeout", type=float, default=300,
                        help="seconds per cell; a classic cell past it is reported as such (its step grows as n^3)")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--mo-seeds", type=int, default=5)
    parser.add_argument("--mo-budget", type=int, default=300)
    parser.add_argument("--mo-classic-budget", type=int, default=100,
                        help="the classic multi-objective searches stop here (their steps grow to tens of seconds)")
    parser.add_argument("--choice-seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1, help="quality searches run in parallel processes")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help="parts to run; the others are read from their saved CSVs in docs/results (only rows "
                             "made by the current commit)")
    add_run_args(parser)
    args = parser.parse_args(argv)
    start_run(args.allow_dirty)
    parts = [p for p in args.parts.split(",") if p]
    if set(parts) - set(PARTS):
        parser.error(f"--parts: choose among {', '.join(PARTS)}")
    started, load0 = time.perf_counter(), os.getloadavg()

    frames = {}
    for part in parts:
        print(part, flush=True)
        frames[part] = PARTS[part](args)
        save_frame(frames[part], f"bo_step_{part}")
        (RESULTS / f"bo_step_{part}.cmd").write_text(command_line() + "\n")
    missing = [p for p in PARTS if p not in frames and not (RESULTS / f"bo_step_{p}.csv").exists()]
    if missing:
        print(f"saved; docs/benchmarks.md is written once every part has run (missing: {', '.join(missing)})")
        return
    try:
        frames.update({p: load_frame(f"bo_step_{p}") for p in PARTS if p not in frames})
    except StaleResultsError as err:
        raise SystemExit(f"{err}; saved the parts run now, docs/benchmarks.md not written") from None

    elapsed = time.perf_counter() - started
    _write(args, frames["cost"], frames["choice"], frames["regret"], frames["mo"], elapsed, load0, os.getloadavg())
    print(f"wrote docs/benchmarks.md in {elapsed / 60:.0f} min")


def _write(args, costs, choice, curves, mo, elapsed, load0, load1) -> None:
    from surrogate_nas.pipelines.search.benchmark import summarize_regret

    commands = {part: (RESULTS / f"bo_step_{part}.cmd").read_text().strip() for part in PARTS
                if (RESULTS / f"bo_step_{part}.cmd").exists()}
    lines = ["Each part's numbers come from the command that last ran it (`--parts`):", ""]
    lines += [f"- {part}: `{cmd}`" for part, cmd in commands.items()] + [""]
    lines += [f"This command took {elapsed / 60:.0f} min on this shared 2-core machine; load average "
             f"{load0[0]:.1f} at the start, {load1[0]:.1f} at the end (a load of 2 is one busy process per core), "
             "so absolute seconds are several times an idle machine's: compare the two behaviours, measured "
             "side by side.", "",
             "**classic**: `step_seconds=None`, the step before the budget existed (hyperparameters refitted on "
             "every evaluation, every candidate screened through batched posteriors, the whole history as the "
             "acquisition's baseline). **budgeted**: the default `step_seconds=3`.", "",
             "## Cost of one step", "",
             f"Tell n random evaluations, then time {args.steps} consecutive steps (ask for 4, evaluate, tell; the "
             "classic step 2, or 1 from n = 600); one process per cell, one thread. The first budgeted step is "
             "cold (no hyperparameters, reference speeds); later ones use what the first measured.", ""]
    lines += _cost_tables(costs)
    lines += _goal_lines(costs)
    budgeted = costs[(costs["variant"] == "budgeted") & (costs["step"] > 0)]
    lines += ["", "What the budgeted step chose at the largest n (the step's own summary line):", ""]
    for (space_name, config), g in budgeted.groupby(["space", "surrogate"], sort=False):
        top = g[g["n"] == g["n"].max()].iloc[-1]
        lines.append(f"- {config}, {space_name}, n = {top['n']:,}: {top['activity']}")
    lines += ["", "## Which model past the budget: all rows or a subset", "",
              f"2,000 random nb201-cifar10 evaluations ({args.choice_seeds} seeds), hyperparameters fitted once on "
              "300 of them; the GP conditioned on m rows (the best half and a random half), its mean scored on the "
              "4,466 unseen cells (seconds to condition and score; mean over seeds):", ""]
    summary = choice.groupby("points")[["seconds", "kendall_tau", "top50_overlap"]].mean().reset_index()
    lines += [markdown_table(summary), ""]
    steps = sorted({s for s in (20, 50, args.budget) if s <= args.budget})
    lines += ["## Search quality", "",
              f"bo-gp, {curves['seed'].nunique()} seeds, budget {args.budget}, batch 4; regret = optimum − best validation "
              "accuracy found (mean ± s.e.):", "",
              "| table | step | " + " | ".join(f"after {s}" for s in steps) + " | seconds per search |",
              "|---|---|" + "---|" * (len(steps) + 1)]
    for (table, variant), g in curves.groupby(["table", "variant"], sort=False):
        s = summarize_regret(g, steps).set_index("step")
        lines.append(f"| {table} | {variant} | " + " | ".join(f"{s.loc[k, 'mean']:.3f} ± {s.loc[k, 'se']:.3f}"
                                                          for k in steps)
                     + f" | {g.groupby('seed')['run_s'].first().mean():.0f} |")
    lines += ["", f"Multi-objective BO (accuracy vs params_mb_cifar10, nb201-cifar10), {mo['seed'].nunique()} seeds, "
              "batch 4; each search fixes its own reference point from what it evaluated (none is given, as in "
              "the product); scored afterwards as hypervolume over the exact true front's, with the true front's "
              "reference point for every search (mean ± s.e.); the classic searches stop at "
              f"{args.mo_classic_budget} evaluations (their steps grow to tens of seconds, see above):", "",
              "| step | HV ratio at 100 | HV ratio at the end | evaluations | seconds per search | slowest step, s |",
              "|---|---|---|---|---|---|"]
    for variant, g in mo.groupby("variant", sort=False):
        lines.append(f"| {variant} | {_mean_se(g['hv_100'])} | {_mean_se(g['hv_end'])} | {int(g['budget'].iloc[0])} "
                     f"| {g['run_s'].mean():.0f} | {g['slowest_step_s'].max():.1f} |")
    write_section("bo_step_cost", "Cost of a BO step as the history grows: classic and budgeted", "\n".join(lines))


if __name__ == "__main__":
    main()
