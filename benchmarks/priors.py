"""Benchmark searches warm-started from another table (``search --prior``) on NAS-Bench-201.

Two transfers on the visible tables: CIFAR-100 searched with the CIFAR-10 table as prior, and
the reverse (the 200-epoch validation accuracies). Each with three priors:

* ``good``: the other dataset's table as it is;
* ``shuffled``: its values permuted over the rows (a new permutation per seed): a source that
  says nothing;
* ``negated``: its values negated: a source that ranks every architecture the wrong way round;

against BO without a prior (``none``), and against Optuna's TPE (the peer protocol's setting,
``benchmarks/peers.py``) with the prior's top ``--top-k`` architectures enqueued as its first
trials (and without). BO runs in batches of ``--batch-size`` (what ``search`` does by default),
TPE one trial at a time (which only helps it). Measured per run: the trainings until the
table's optimum was evaluated (a run that never finds it within the budget counts as never),
the regret after 10, 20 and 50 trainings, and, for BO, how much its GP trusted the source at
the end (:func:`surrogate_nas.pipelines.search.prior.trust`).

Writes ``docs/results/priors_runs.csv`` (one row per run) and the ``priors`` section of
docs/benchmarks.md. Example::

    python benchmarks/priors.py --seeds 20 --budget 100 --jobs 2
    python benchmarks/priors.py --seeds 2 --budget 30 --allow-dirty  # dry run
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import add_run_args, markdown_table, save_frame, start_run, write_section  # noqa: E402
from peers import OptunaStrategy, cell_params, chosen  # noqa: E402

TRANSFERS = (("nb201-cifar100", "nb201-cifar10"), ("nb201-cifar10", "nb201-cifar100"))
"""(searched table, prior table)."""
PRIORS = ("good", "shuffled", "negated")
CONDITIONS = ("none", *PRIORS, "tpe", *(f"tpe-top-{p}" for p in PRIORS))
MARKS = (10, 20, 50)


def prior_table(table, kind: str, seed: int):
    """The source table as the condition ``kind`` has it (the target column changed, nothing else)."""
    values = table.values()
    if kind == "shuffled":
        values = np.random.default_rng(1000 + seed).permutation(values)
    elif kind == "negated":
        values = -values
    frame = table.frame.copy()
    frame[table.target] = values
    return dataclasses.replace(table, frame=frame)


def one_run(job) -> dict:
    """One (transfer, condition, seed) search; its trainings to the optimum, regrets and trust."""
    import torch

    from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
    from surrogate_nas.pipelines.search.prior import Prior
    from surrogate_nas.pipelines.search.runner import run_search
    from surrogate_nas.pipelines.search.strategies.bayesopt import BayesianOptimization
    from surrogate_nas.tables import load_benchmark

    torch.set_num_threads(1)
    target, source, condition, seed, budget, batch_size, top_k, tpe = job
    evaluator = TabularEvaluator(load_benchmark(target))
    kind = condition.removeprefix("tpe-top-")
    prior = (Prior.from_tables([prior_table(load_benchmark(source), kind, seed)], evaluator.space)
             if kind in PRIORS else None)
    start = time.perf_counter()
    if condition.startswith("tpe"):
        strategy = OptunaStrategy(evaluator.space, seed=seed, peer="optuna-tpe", settings=tpe)
        for arch in prior.top(top_k) if prior is not None else []:
            strategy.study.enqueue_trial(cell_params(arch))
        frame = run_search(strategy, evaluator, budget=budget, batch_size=1, seed=seed).frame
    else:
        strategy = BayesianOptimization(evaluator.space, seed=seed, prior=prior, prior_top=top_k)
        frame = run_search(strategy, evaluator, budget=budget, batch_size=batch_size, seed=seed).frame
    report = strategy.prior_report() if prior is not None and not condition.startswith("tpe") else None
    found = frame.index[frame["regret"] <= 1e-9]
    row = {"target": target, "source": source, "condition": condition, "seed": seed,
           "to_optimum": int(frame["step"].iloc[found[0]]) if len(found) else np.nan,
           **{f"regret@{m}": float(frame["regret"].iloc[min(m, len(frame)) - 1]) for m in MARKS},
           "trust": report[0].trust if report and report[0].trust is not None else np.nan,
           "spearman": report[0].spearman if report else np.nan,
           "run_s": time.perf_counter() - start}
    print(f"  {target} <- {source} {condition} seed {seed}: optimum at {row['to_optimum']}, "
          f"regret@20 {row['regret@20']:.3f} ({row['run_s']:.0f}s)", flush=True)
    return row


def median_trainings(values: pd.Series, budget: int) -> str:
    """The median of the trainings to the optimum, runs that never found it counted as never (> budget)."""
    filled = values.fillna(np.inf)
    median = float(np.median(filled))
    return f"> {budget}" if not np.isfinite(median) else f"{median:g}"


def mean_se(values: pd.Series) -> tuple[float, float]:
    v = values.to_numpy(dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0


def summary(runs: pd.DataFrame, budget: int) -> pd.DataFrame:
    rows = []
    for condition, g in runs.groupby("condition", sort=False):
        row = {"condition": condition, "median trainings to the optimum": median_trainings(g["to_optimum"], budget),
               "found within budget": f"{int(g['to_optimum'].notna().sum())}/{len(g)}"}
        for m in MARKS:
            mean, se = mean_se(g[f"regret@{m}"])
            row[f"regret @{m}"] = f"{mean:.3f} ± {se:.3f}"
        row["trust (median)"] = "" if g["trust"].isna().all() else f"{g['trust'].median():.2f}"
        row["Spearman (median)"] = "" if g["spearman"].isna().all() else f"{g['spearman'].median():+.2f}"
        rows.append(row)
    return pd.DataFrame(rows)


def verdicts(runs: pd.DataFrame, budget: int, goal: float) -> list[str]:
    """The goal, checked from the rows: a good prior reaches the optimum within ``goal`` trainings (median),
    a bad one is no worse than no prior beyond noise: regret at each mark within two standard errors of
    the difference, and its trainings to the optimum not larger by a one-sided Mann-Whitney U test at
    the 5% level (a run that never found the optimum counts as the budget plus one, the worst rank)."""
    from scipy.stats import mannwhitneyu

    lines = []
    for (target, source), g in runs.groupby(["target", "source"], sort=False):
        by = {c: x for c, x in g.groupby("condition")}
        if "good" in by:
            median = float(np.median(by["good"]["to_optimum"].fillna(np.inf)))
            lines.append(f"- {target} with the {source} prior: good prior, median {median_trainings(by['good']['to_optimum'], budget)} "
                         f"trainings to the optimum: goal (<= {goal:g}) {'met' if median <= goal else 'NOT met'}.")
        if "none" not in by:
            continue
        base = by["none"]
        for kind in ("shuffled", "negated"):
            if kind not in by:
                continue
            worse = []
            for m in MARKS:
                a, b = by[kind][f"regret@{m}"].to_numpy(), base[f"regret@{m}"].to_numpy()
                se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)) if min(len(a), len(b)) > 1 else 0.0
                if a.mean() - b.mean() > 2 * se:
                    worse.append(f"regret @{m} {a.mean():.3f} against {b.mean():.3f} (2 s.e. = {2 * se:.3f})")
            a, b = (x["to_optimum"].fillna(budget + 1).to_numpy() for x in (by[kind], base))
            p = float(mannwhitneyu(a, b, alternative="greater").pvalue)
            medians = (f"median trainings to the optimum {median_trainings(by[kind]['to_optimum'], budget)} "
                       f"against {median_trainings(base['to_optimum'], budget)} (one-sided Mann-Whitney p = {p:.2f})")
            if p < 0.05:
                worse.append(medians)
            lines.append(f"- {target} with a {kind} {source} prior: "
                         + (f"no worse than no prior beyond noise: {medians}." if not worse else "WORSE than no prior: "
                            + "; ".join(worse) + "."))
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=4, help="BO's batch (TPE runs one trial at a time)")
    parser.add_argument("--top-k", type=int, default=4,
                        help="the prior's best architectures BO starts from and TPE has enqueued")
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    parser.add_argument("--goal", type=float, default=15, help="median trainings to the optimum with a good prior")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel processes")
    add_run_args(parser)
    args = parser.parse_args(argv)
    start_run(args.allow_dirty)
    conditions = [c for c in args.conditions.split(",") if c]
    unknown = set(conditions) - set(CONDITIONS)
    if unknown:
        parser.error(f"unknown conditions {sorted(unknown)}; expected some of {', '.join(CONDITIONS)}")
    choice = chosen() if any(c.startswith("tpe") for c in conditions) else None
    tpe = choice.of("optuna-tpe") if choice is not None else None

    started = time.perf_counter()
    jobs = [(target, source, condition, seed, args.budget, args.batch_size, args.top_k, tpe)
            for target, source in TRANSFERS for condition in conditions for seed in range(args.seeds)]
    with ProcessPoolExecutor(args.jobs) as pool:
        runs = pd.DataFrame(list(pool.map(one_run, jobs)))
    save_frame(runs, "priors_runs")

    parts = []
    for (target, source), g in runs.groupby(["target", "source"], sort=False):
        parts.append(f"### {target}, prior {source}\n\n{markdown_table(summary(g, args.budget))}")
    body = (
        f"The whole run took {(time.perf_counter() - started) / 60:.1f} min on this shared machine ({args.jobs} "
        "processes).\n\n"
        f"{args.seeds} seeds per condition, budget {args.budget} trainings; BO (`bo`, GP surrogate, batches of "
        f"{args.batch_size}); targets and priors are the tables' 200-epoch validation accuracies. Conditions: "
        "`none` (no prior); `good` (the other dataset's table), `shuffled` (its values permuted over the rows, "
        "a new permutation per seed), `negated` (its values negated) as `--prior`: BO's first "
        f"{args.top_k} architectures are the prior's best and its GP has the prior's rank score as one more input "
        "with its own learned lengthscale; `tpe` (Optuna TPE, the peer protocol's setting, one trial at a time) and "
        f"`tpe-top-*` (the same with the prior's {args.top_k} best architectures enqueued as its first trials). "
        "Trainings to the optimum: the evaluation at which the table's best architecture was evaluated, median "
        "over seeds (a run that never found it counts as never); regret = optimum − best validation accuracy "
        "found, mean ± s.e.; trust: how much BO's GP let the prior move its predictions at the end (0 ignored, "
        "1 decisive), and the Spearman correlation of the prior with what the search evaluated (negative: "
        "reversed, which the GP uses just as well)."
        + (f"\n\n{choice.line(['optuna-tpe'])}" if choice is not None else "")
        + "\n\n" + "\n\n".join(parts)
        + "\n\nGoal: median trainings to the optimum at most "
        f"{args.goal:g} with a good prior, never worse than no prior beyond noise with a bad one.\n\n"
        + "\n".join(verdicts(runs, args.budget, args.goal))
    )
    write_section("priors", "Searches warm-started from another table (`search --prior`)", body,
                  packages=["optuna"] if choice is not None else [])
    print(body)


if __name__ == "__main__":
    main()
