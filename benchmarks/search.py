"""Benchmark the search strategies on a NAS-Bench-201 table; write CSVs and a report.

Measures, on ``--table`` (default ``nb201-cifar10``, target
``cifar10_valid_acc_200ep``):

* mean regret +- standard error at 20/50/100 evaluations per strategy, and the
  test accuracy of the architecture each search found;
* the fraction of seeds that found the global optimum within the budget, and
  the mean number of evaluations it took;
* the wall time of one BO step (fit on 150 points, score every canonical cell,
  pick 4) for both surrogates, in seconds on this machine;
* multi-objective (accuracy vs parameters): hypervolume of BO after
  ``--mo-budget`` evaluations against random search after three times that.

Writes ``docs/results/search_*.csv``, ``docs/results/search_*.png`` and its
section of ``docs/benchmarks.md``. Example::

    python benchmarks/search.py --seeds 20 --budget 100 --jobs 2
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _one_search(args) -> pd.DataFrame:
    import torch

    from surrogate_nas.pipelines.search.benchmark import benchmark_search
    from surrogate_nas.tables import load_benchmark

    torch.set_num_threads(1)
    table_name, name, seed, budget, batch_size = args
    t0 = time.perf_counter()
    curves = benchmark_search(load_benchmark(table_name), [name], budget, [seed], batch_size)
    curves["run_s"] = time.perf_counter() - t0
    print(f"  {name} seed {seed}: regret {curves['regret'].iloc[-1]:.3f} ({curves['run_s'].iloc[0]:.0f}s)", flush=True)
    return curves


def _mo_search(args) -> dict:
    import torch

    from surrogate_nas.pipelines.search.benchmark import true_front
    from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
    from surrogate_nas.pipelines.search.history import parse_objectives
    from surrogate_nas.pipelines.search.pareto import hypervolume
    from surrogate_nas.pipelines.search.runner import run_search
    from surrogate_nas.tables import load_benchmark

    torch.set_num_threads(1)
    table_name, name, seed, budget, batch_size, objectives = args
    evaluator = TabularEvaluator(load_benchmark(table_name), objectives)
    t0 = time.perf_counter()
    trace = run_search(name, evaluator, budget=budget, batch_size=batch_size, seed=seed, objectives=objectives)
    # Scored against the exact true front with its reference point, the same for every search
    # (the searches fix theirs from what they evaluated and never see this one).
    objs = parse_objectives(objectives)
    front = true_front(evaluator, objs)
    Y = np.array([[o.sign * t.objectives[o.name] for o in objs] for t in trace.history])
    ratio = [hypervolume(Y[:k], front.ref_point) / front.hypervolume for k in (len(Y), min(100, len(Y)))]
    print(f"  MO {name} seed {seed}: hypervolume ratio {ratio[0]:.4f} ({time.perf_counter() - t0:.0f}s)", flush=True)
    return {"strategy": name, "seed": seed, "budget": budget, "hypervolume": ratio[0],
            "hv_at_100": ratio[1], "front": trace.pareto_front()}


def bo_step_timing(table_name: str, repeats: int = 3) -> pd.DataFrame:
    """Seconds of one BO step: fit on 150 random points, score all candidates, pick 4."""
    import torch

    from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
    from surrogate_nas.pipelines.search.runner import run_search
    from surrogate_nas.pipelines.search.strategies.bayesopt import BayesianOptimization
    from surrogate_nas.tables import load_benchmark

    torch.set_num_threads(1)  # one thread is faster for these small problems on a shared machine
    evaluator = TabularEvaluator(load_benchmark(table_name))
    history = run_search("rs", evaluator, budget=150, seed=123).history
    rows = []
    for surrogate in ("gp", "xgb"):
        bo = BayesianOptimization(evaluator.space, None, 0, surrogate=surrogate)
        bo.tell(history)
        bo.ask(4)  # warm-up: candidate features, imports
        for r in range(repeats):
            t0 = time.perf_counter()
            bo.ask(4)
            rows.append({"surrogate": surrogate, "repeat": r, "total_s": time.perf_counter() - t0, **bo.last_timing})
    return pd.DataFrame(rows)


def _fmt(mean, se) -> str:
    return f"{mean:.3f} ± {se:.3f}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="nb201-cifar10")
    parser.add_argument("--strategies", default="bo-gp,bo-xgb,rs,rea,ls")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--mo-budget", type=int, default=100, help="BO evaluations; random search gets 3x")
    parser.add_argument("--mo-seeds", type=int, default=3)
    parser.add_argument("--mo-objective", default="params_mb_cifar10:min")
    parser.add_argument("--skip-mo", action="store_true")
    parser.add_argument("--reuse-curves", action="store_true",
                        help="read results/search_curves.csv instead of rerunning the single-objective searches")
    parser.add_argument("--jobs", type=int, default=1, help="searches run in parallel processes")
    parser.add_argument("--out", default=str(ROOT / "docs" / "results"))
    args = parser.parse_args(argv)

    from surrogate_nas.pipelines.search.benchmark import optimum_hits, plot_regret, summarize_regret
    from surrogate_nas.pipelines.search.pareto import plot_pareto
    from surrogate_nas.pipelines.search.history import parse_objectives
    from surrogate_nas.tables import load_benchmark

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = load_benchmark(args.table)
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    steps = sorted({s for s in (20, 50, 100, args.budget) if s <= args.budget})
    started = time.perf_counter()

    print("single-objective searches", flush=True)
    if args.reuse_curves:
        curves = pd.read_csv(out / "search_curves.csv")
    else:
        jobs = [(args.table, name, seed, args.budget, args.batch_size) for name in strategies for seed in range(args.seeds)]
        with ProcessPoolExecutor(args.jobs) as pool:
            curves = pd.concat(list(pool.map(_one_search, jobs)), ignore_index=True)
        curves.to_csv(out / "search_curves.csv", index=False)
    summary = summarize_regret(curves, steps)
    test_found = summarize_regret(curves, [args.budget], column="test_of_best").assign(step=args.budget)
    hits = optimum_hits(curves, within=args.budget)
    run_s = curves.groupby("strategy", sort=False)["run_s"].first().rename("run_s")
    summary.to_csv(out / "search_summary.csv", index=False)
    hits.to_csv(out / "search_hits.csv", index=False)
    plot_regret(curves, out / "search_regret.png")

    print("BO step timing", flush=True)
    timing = bo_step_timing(args.table)
    timing.to_csv(out / "search_timing.csv", index=False)

    mo = None
    if not args.skip_mo:
        print("multi-objective searches", flush=True)
        objectives = [table.target, args.mo_objective]
        mo_jobs = [(args.table, "bo-gp", s, args.mo_budget, args.batch_size, objectives) for s in range(args.mo_seeds)]
        mo_jobs += [(args.table, "rs", s, 3 * args.mo_budget, args.batch_size, objectives) for s in range(args.mo_seeds)]
        with ProcessPoolExecutor(args.jobs) as pool:
            mo_rows = list(pool.map(_mo_search, mo_jobs))
        fronts = {f"{r['strategy']} ({r['budget']} evals, seed 0)": r["front"] for r in mo_rows if r["seed"] == 0}
        plot_pareto(fronts, parse_objectives(objectives), out / "search_pareto.png")
        mo = pd.DataFrame([{k: v for k, v in r.items() if k != "front"} for r in mo_rows])
        mo.to_csv(out / "search_mo.csv", index=False)

    elapsed = time.perf_counter() - started
    _write_doc(args, table, steps, summary, test_found, hits, run_s, timing, mo, elapsed)
    print(f"wrote docs/benchmarks.md and {out}/search_*.csv in {elapsed:.0f}s")


def _write_doc(args, table, steps, summary, test_found, hits, run_s, timing, mo, elapsed) -> None:
    lines = [
        f"The whole script took {elapsed / 60:.1f} min on this shared machine.",
        "",
        f"Table `{table.name}`, target `{table.target}` (optimum {table.optimum:.3f}), "
        f"{args.seeds} seeds, budget {args.budget}, batch size {args.batch_size}. Regret = optimum − best "
        "value found; the search space is the 6,466 canonical cells (isomorphic twins are one architecture).",
        "",
        "## Regret (mean ± s.e. over seeds)",
        "",
        "| strategy | " + " | ".join(f"after {s}" for s in steps) + f" | test acc. found at {args.budget} "
        f"| optimum found within {args.budget} | mean evals to find it | seconds per search |",
        "|---" * (len(steps) + 5) + "|",
    ]
    for strategy in summary["strategy"].unique():
        s = summary[summary["strategy"] == strategy].set_index("step")
        t = test_found[test_found["strategy"] == strategy].iloc[0]
        h = hits[hits["strategy"] == strategy].iloc[0]
        cells = [_fmt(s.loc[step, "mean"], s.loc[step, "se"]) for step in steps]
        lines.append(
            f"| {strategy} | " + " | ".join(cells) + f" | {_fmt(t['mean'], t['se'])} | "
            f"{h['found_fraction']:.0%} | {h['mean_evals_to_find']:.1f} | {run_s[strategy]:.1f} |"
        )
    lines += ["", "![regret curves](results/search_regret.png)", "", "## One BO step", "",
              "Fit on 150 random points, score every unseen canonical cell, pick 4 (median of 3, seconds on "
              "this machine under its current load):", "",
              "| surrogate | total | fit | acquisition |", "|---|---|---|---|"]
    for surrogate, g in timing.groupby("surrogate", sort=False):
        lines.append(f"| {surrogate} | {g['total_s'].median():.2f} | {g['fit_s'].median():.2f} | {g['acq_s'].median():.2f} |")
    if mo is not None:
        lines += ["", "## Multi-objective: accuracy vs " + args.mo_objective, "",
                  "Hypervolume of the evaluated architectures in (accuracy, −params) space as a fraction of the "
                  "exact true front's (1 = the whole front found). The reference point is the true front's nadir "
                  "moved back by a tenth of its range, the same for every search and used only for scoring; a "
                  "search fixes its own from what it has evaluated, never from unevaluated rows of the table.", "",
                  "| strategy | evaluations | HV ratio (mean ± s.e.) | HV ratio at 100 |", "|---|---|---|---|"]
        for (strategy, budget), g in mo.groupby(["strategy", "budget"], sort=False):
            se = g["hypervolume"].std(ddof=1) / np.sqrt(len(g)) if len(g) > 1 else float("nan")
            lines.append(f"| {strategy} | {budget} | {_fmt(g['hypervolume'].mean(), se)} | {g['hv_at_100'].mean():.4f} |")
        lines += ["", "![Pareto fronts](results/search_pareto.png)"]
    write_section("search", "Search on NAS-Bench-201: Bayesian optimisation against baselines", "\n".join(lines))


if __name__ == "__main__":
    main()
