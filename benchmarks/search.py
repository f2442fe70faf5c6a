"""Benchmark the search strategies on a NAS-Bench-201 table; write CSVs and a report.

Measures, on each of ``--tables`` (default ``nb201-cifar10`` and ``nb201-cifar100``, targets
their 200-epoch validation accuracy):

* mean regret +- standard error at 20/50/100 evaluations per strategy, and the
  test accuracy of the architecture each search found; the strategies are ours (``bo-gp``,
  ``bo-xgb``, ``rs``, ``rea``, ``ls``) and the Optuna samplers a NAS user would try
  (``optuna-tpe``: ``TPESampler``; ``optuna-gp``: ``GPSampler``), on the same table, budget
  and seeds, under the peer protocol (``benchmarks/peers.py``: documented settings, one knob
  chosen by ``benchmarks/peer_selection.py --kinds single`` on seeds 100-104, then fixed). A
  cell is six categorical Optuna parameters looked up in the table; a proposal whose canonical
  cell was already evaluated is answered from a cache and not counted (only helps the peer);
  peers run one trial at a time;
* the fraction of seeds that found the global optimum within the budget, and
  the mean number of evaluations it took;
* on the first table: the wall time of one BO step (fit on 150 points, score every
  canonical cell, pick 4) for both surrogates, in seconds on this machine, and
  multi-objective (accuracy vs parameters): hypervolume of BO after ``--mo-budget``
  evaluations against random search after three times that.

Writes ``docs/results/search_*.csv`` (rows carry the commit that made them;
``--reuse-curves`` accepts only rows of the current commit), ``docs/results/search_*.png``
and its section of ``docs/benchmarks.md``. Example::

    python benchmarks/peer_selection.py --kinds single      # once: the peers' settings
    python benchmarks/search.py --seeds 20 --budget 100 --jobs 2
    python benchmarks/search.py --seeds 2 --budget 30 --mo-seeds 1 --mo-budget 20 --allow-dirty  # dry run
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
from _report import add_run_args, load_frame, save_frame, start_run, write_section  # noqa: E402
from peers import PEERS as PEER_SPECS, chosen, peer_curves  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _one_search(args) -> pd.DataFrame:
    import torch

    from surrogate_nas.pipelines.search.benchmark import benchmark_search
    from surrogate_nas.tables import load_benchmark

    torch.set_num_threads(1)
    table_name, name, seed, budget, batch_size, settings = args
    t0 = time.perf_counter()
    if name in PEER_SPECS:  # one trial at a time, which only helps the peer
        curves = peer_curves(load_benchmark(table_name), name, settings, budget, [seed])
    else:
        curves = benchmark_search(load_benchmark(table_name), [name], budget, [seed], batch_size)
    curves["run_s"] = time.perf_counter() - t0
    curves.insert(0, "table", table_name)
    print(f"  {table_name} {name} seed {seed}: regret {curves['regret'].iloc[-1]:.3f} ({curves['run_s'].iloc[0]:.0f}s)",
          flush=True)
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


SO_PEERS = ("optuna-tpe", "optuna-gp")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default="nb201-cifar10,nb201-cifar100",
                        help="single-objective searches run on each; timing and multi-objective on the first")
    parser.add_argument("--strategies", default=",".join(["bo-gp", "bo-xgb", "rs", "rea", "ls", *SO_PEERS]))
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--mo-budget", type=int, default=100, help="BO evaluations; random search gets 3x")
    parser.add_argument("--mo-seeds", type=int, default=3)
    parser.add_argument("--mo-objective", default="params_mb_cifar10:min")
    parser.add_argument("--skip-mo", action="store_true")
    parser.add_argument("--reuse-curves", action="store_true",
                        help="read results/search_curves.csv (only rows made by this commit) instead of rerunning "
                             "the single-objective searches")
    parser.add_argument("--jobs", type=int, default=1, help="searches run in parallel processes")
    parser.add_argument("--out", default=str(ROOT / "docs" / "results"))
    add_run_args(parser)
    args = parser.parse_args(argv)
    start_run(args.allow_dirty)

    from surrogate_nas.pipelines.search.benchmark import optimum_hits, plot_regret, summarize_regret
    from surrogate_nas.pipelines.search.pareto import plot_pareto
    from surrogate_nas.pipelines.search.history import parse_objectives
    from surrogate_nas.tables import load_benchmark

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table_names = [t.strip() for t in args.tables.split(",") if t.strip()]
    tables = {name: load_benchmark(name) for name in table_names}
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    peers = [s for s in strategies if s in PEER_SPECS]
    choice = chosen() if peers else None
    steps = sorted({s for s in (20, 50, 100, args.budget) if s <= args.budget})
    started = time.perf_counter()

    print("single-objective searches", flush=True)
    if args.reuse_curves:
        curves = load_frame("search_curves", out)
    else:
        jobs = [(t, name, seed, args.budget, args.batch_size, choice.of(name) if name in PEER_SPECS else None)
                for t in table_names for name in strategies for seed in range(args.seeds)]
        with ProcessPoolExecutor(args.jobs) as pool:
            curves = pd.concat(list(pool.map(_one_search, jobs)), ignore_index=True)
        save_frame(curves, "search_curves", out)
    per_table = {}
    for name in table_names:
        c = curves[curves["table"] == name]
        per_table[name] = {
            "summary": summarize_regret(c, steps),
            "test_found": summarize_regret(c, [args.budget], column="test_of_best").assign(step=args.budget),
            "hits": optimum_hits(c, within=args.budget),
            "run_s": c.groupby(["strategy", "seed"], sort=False)["run_s"].first().groupby("strategy", sort=False).mean(),
            "repeats": (c.groupby(["strategy", "seed"], sort=False)["repeats"].first().groupby("strategy", sort=False)
                        .mean() if "repeats" in c else pd.Series(dtype=float)),
        }
        plot_regret(c, out / ("search_regret.png" if name == table_names[0] else f"search_regret_{name}.png"))
    save_frame(pd.concat([v["summary"].assign(table=k) for k, v in per_table.items()], ignore_index=True),
               "search_summary", out)
    save_frame(pd.concat([v["hits"].assign(table=k) for k, v in per_table.items()], ignore_index=True),
               "search_hits", out)

    first = tables[table_names[0]]
    print("BO step timing", flush=True)
    timing = bo_step_timing(first.name)
    save_frame(timing, "search_timing", out)

    mo = None
    if not args.skip_mo:
        print("multi-objective searches", flush=True)
        objectives = [first.target, args.mo_objective]
        mo_jobs = [(first.name, "bo-gp", s, args.mo_budget, args.batch_size, objectives) for s in range(args.mo_seeds)]
        mo_jobs += [(first.name, "rs", s, 3 * args.mo_budget, args.batch_size, objectives) for s in range(args.mo_seeds)]
        with ProcessPoolExecutor(args.jobs) as pool:
            mo_rows = list(pool.map(_mo_search, mo_jobs))
        fronts = {f"{r['strategy']} ({r['budget']} evals, seed 0)": r["front"] for r in mo_rows if r["seed"] == 0}
        plot_pareto(fronts, parse_objectives(objectives), out / "search_pareto.png")
        mo = pd.DataFrame([{k: v for k, v in r.items() if k != "front"} for r in mo_rows])
        save_frame(mo, "search_mo", out)

    elapsed = time.perf_counter() - started
    _write_doc(args, tables, steps, per_table, timing, mo, elapsed, choice, peers)
    print(f"wrote docs/benchmarks.md and {out}/search_*.csv in {elapsed:.0f}s")


def _write_doc(args, tables, steps, per_table, timing, mo, elapsed, choice, peers) -> None:
    names = list(tables)
    lines = [
        f"The whole script took {elapsed / 60:.1f} min on this shared machine.",
        "",
        f"{args.seeds} seeds (0..{args.seeds - 1}), budget {args.budget}, batch size {args.batch_size} for ours. "
        "Regret = optimum − best value found; the search space is the 6,466 canonical cells (isomorphic twins are "
        "one architecture). Peers: `optuna-tpe` (Optuna `TPESampler`) and `optuna-gp` (Optuna `GPSampler`), a "
        "cell being six categorical parameters looked up in the same table, one trial at a time; a proposal whose "
        "canonical cell was already evaluated is answered from a cache and does not count against the budget "
        "(\"answered from cache\": mean such proposals per search).",
    ]
    if choice is not None:
        lines += ["", choice.line(peers)]
    for name in names:
        table, v = tables[name], per_table[name]
        summary, test_found, hits, run_s, repeats = v["summary"], v["test_found"], v["hits"], v["run_s"], v["repeats"]
        lines += [
            "",
            f"## Regret on `{name}` (mean ± s.e. over seeds)",
            "",
            f"Target `{table.target}` (optimum {table.optimum:.3f}).",
            "",
            "| strategy | " + " | ".join(f"after {s}" for s in steps) + f" | test acc. found at {args.budget} "
            f"| optimum found within {args.budget} | mean evals to find it | seconds per search | answered from cache |",
            "|---" * (len(steps) + 6) + "|",
        ]
        for strategy in summary["strategy"].unique():
            s = summary[summary["strategy"] == strategy].set_index("step")
            t = test_found[test_found["strategy"] == strategy].iloc[0]
            h = hits[hits["strategy"] == strategy].iloc[0]
            cells = [_fmt(s.loc[step, "mean"], s.loc[step, "se"]) for step in steps]
            rep = repeats.get(strategy, np.nan)
            lines.append(
                f"| {strategy} | " + " | ".join(cells) + f" | {_fmt(t['mean'], t['se'])} | "
                f"{h['found_fraction']:.0%} | {h['mean_evals_to_find']:.1f} | {run_s[strategy]:.1f} | "
                f"{'' if not np.isfinite(rep) else format(rep, '.0f')} |"
            )
        png = "search_regret.png" if name == names[0] else f"search_regret_{name}.png"
        lines += ["", f"![regret curves on {name}](results/{png})"]
    lines += ["", f"## One BO step ({names[0]})", "",
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
    write_section("search", "Search on NAS-Bench-201: Bayesian optimisation against baselines and peers",
                  "\n".join(lines), packages=sorted({PEER_SPECS[p].library for p in peers}))


if __name__ == "__main__":
    main()
