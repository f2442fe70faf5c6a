"""Multi-fidelity search on NAS-Bench-201: regret against cumulative training cost.

Every method searches the same table through the same evaluator and cost accounting:
an evaluation at 12 epochs costs 12/200 of the architecture's 200-epoch training time,
and evaluating an architecture again at a higher fidelity continues from the lower one
(pays only the difference), as the live path does with checkpoints. Regret counts only
200-epoch results. Methods:

* ``mf-bo`` (ours, default ``model="joint"``: one GP over architecture and fidelity),
  ``mf-bo-rung`` (ours with ``model="rung"``: BOHB-style model of the highest full rung),
  ``bo`` (ours, full fidelity only), ``hb`` (ours: asynchronous Hyperband, random);
* ``dehb``: the ``dehb`` package (DEHB, Awad et al. 2021) with its own ask/tell, its
  fidelity ladder set to the table's two levels (``eta`` = 200/12);
* ``optuna-tpe-hb``: Optuna's TPE sampler with its Hyperband pruner (min 12, max 200
  epochs, reduction 3), reporting the 12-epoch accuracy before deciding to continue. An
  architecture Optuna samples again is looked up at no cost.

Each run stops at ``--max-cost`` (in units of the table's mean 200-epoch training time)
or at regret 0, after which its curve is flat. Output: mean regret at several costs, the
share of runs reaching regret <= ``--target``, and the mean cost to reach it (a run that
never does is counted at the cap, so the mean is a lower bound then).

    python benchmarks/multi_fidelity.py --seeds 20
    python benchmarks/multi_fidelity.py --seeds 2 --max-cost 40 --methods mf-bo hb   # a quick look

The DEHB and Optuna peers run only here (``pip install dehb optuna``); they are not
dependencies of the package.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import markdown_table, save_frame, write_section  # noqa: E402

from surrogate_nas.pipelines.search.evaluators import TabularEvaluator  # noqa: E402
from surrogate_nas.pipelines.search.history import Suggestion  # noqa: E402
from surrogate_nas.pipelines.search.runner import run_search  # noqa: E402
from surrogate_nas.pipelines.search.strategies import make_strategy  # noqa: E402
from surrogate_nas.tables import load_benchmark  # noqa: E402

OURS = {"mf-bo": ("mf-bo", {}), "mf-bo-rung": ("mf-bo", {"model": "rung"}), "bo": ("bo", {}), "hb": ("hb", {}),
        "sh": ("sh", {})}
PEERS = ("dehb", "optuna-tpe-hb")
COST_MARKS = (5, 10, 25, 50, 100)


class Tracker:
    """Cost and regret of one run; continues an architecture from its highest evaluated fidelity."""

    def __init__(self, evaluator: TabularEvaluator, max_cost: float) -> None:
        self.evaluator, self.max_cost = evaluator, max_cost
        self.paid: dict[str, float] = {}
        self.cost, self.best, self.rows = 0.0, -np.inf, []

    @property
    def done(self) -> bool:
        return self.cost >= self.max_cost or self.regret <= 0

    @property
    def regret(self) -> float:
        return self.evaluator.optimum - self.best if np.isfinite(self.best) else np.inf

    def evaluate(self, arch, fidelity: float) -> float:
        before = self.paid.get(arch.canonical_key, 0.0)
        if fidelity <= before:  # seen at this fidelity or above: a free lookup
            obs = self.evaluator.evaluate([Suggestion(arch, fidelity)])[0]
            cost = 0.0
        else:
            obs = self.evaluator.evaluate([Suggestion(arch, fidelity, resume_from=before)])[0]
            cost = obs.cost_s
            self.paid[arch.canonical_key] = fidelity
        self.cost += cost
        if fidelity >= 1.0:
            self.best = max(self.best, obs.value)
        self.rows.append({"cum_cost_s": self.cost, "fidelity": fidelity, "regret": self.regret})
        return obs.value


def run_ours(method: str, evaluator: TabularEvaluator, seed: int, max_cost: float) -> pd.DataFrame:
    name, options = OURS[method]
    strategy = make_strategy(name, evaluator.space, seed=seed, **options)
    frame = run_search(strategy, evaluator, max_cost_s=max_cost, seed=seed,
                       callback=lambda info: bool(info.rows["regret"].min() <= 0)).frame
    return frame[["cum_cost_s", "fidelity", "regret"]].fillna({"regret": np.inf})


def _arch_of(space, ops: list[str]):
    """The NB-201 cell with edge operations ``ops`` (edges 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2)."""
    o = ops
    return space.parse(f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|")


def run_dehb(evaluator: TabularEvaluator, seed: int, max_cost: float) -> pd.DataFrame:
    import ConfigSpace as CS
    from dehb import DEHB

    from surrogate_nas.spaces.nb201.cell import OPS

    space = evaluator.space
    cs = CS.ConfigurationSpace(seed=seed)
    cs.add([CS.CategoricalHyperparameter(f"edge{i}", list(OPS)) for i in range(6)])
    low, full = evaluator.table.fidelities[0].epochs, evaluator.table.fidelities[-1].epochs
    tracker = Tracker(evaluator, max_cost)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimizer = DEHB(cs=cs, dimensions=6, min_fidelity=low, max_fidelity=full, eta=full / low, n_workers=1,
                         seed=seed, output_path=str(Path("results") / "dehb"), save_freq=None)
        levels = sorted({round(float(f), 6) for f in optimizer.fidelities})
        if levels != [round(low, 6), round(full, 6)]:
            raise SystemExit(f"DEHB's fidelity ladder {levels} is not the table's ({low}, {full})")
        while not tracker.done:
            job = optimizer.ask()
            arch = _arch_of(space, [job["config"][f"edge{i}"] for i in range(6)])
            fidelity = 1.0 if job["fidelity"] >= full - 1e-6 else low / full
            value = tracker.evaluate(arch, fidelity)
            optimizer.tell(job, {"fitness": -value, "cost": tracker.rows[-1]["cum_cost_s"]})
    return pd.DataFrame(tracker.rows)


def run_optuna(evaluator: TabularEvaluator, seed: int, max_cost: float) -> pd.DataFrame:
    import optuna

    from surrogate_nas.spaces.nb201.cell import OPS

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    low, full = evaluator.table.fidelities[0].epochs, evaluator.table.fidelities[-1].epochs
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.HyperbandPruner(min_resource=int(low), max_resource=int(full),
                                                                      reduction_factor=3))
    tracker = Tracker(evaluator, max_cost)
    while not tracker.done:
        trial = study.ask()
        arch = _arch_of(evaluator.space, [trial.suggest_categorical(f"edge{i}", list(OPS)) for i in range(6)])
        trial.report(tracker.evaluate(arch, low / full), int(low))
        if trial.should_prune() or tracker.done:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            continue
        study.tell(trial, tracker.evaluate(arch, 1.0))
    return pd.DataFrame(tracker.rows)


def one_run(method: str, evaluator: TabularEvaluator, seed: int, max_cost: float) -> pd.DataFrame:
    if method == "dehb":
        return run_dehb(evaluator, seed, max_cost)
    if method == "optuna-tpe-hb":
        return run_optuna(evaluator, seed, max_cost)
    return run_ours(method, evaluator, seed, max_cost)


def regret_at(curve: pd.DataFrame, cost: float) -> float:
    """Regret of the run once ``cost`` seconds were spent (flat after it stopped)."""
    before = curve[curve["cum_cost_s"] <= cost]
    return float(before["regret"].iloc[-1]) if len(before) else float("inf")


def cost_to(curve: pd.DataFrame, target: float) -> float:
    hit = curve[curve["regret"] <= target + 1e-12]
    return float(hit["cum_cost_s"].iloc[0]) if len(hit) else float("nan")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tables", nargs="+", default=["nb201-cifar10", "nb201-cifar100"])
    p.add_argument("--methods", nargs="+", default=["mf-bo", "mf-bo-rung", "bo", "hb", "dehb", "optuna-tpe-hb"],
                   choices=[*OURS, *PEERS])
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--max-cost", type=float, default=100.0, help="per run, in mean 200-epoch training times")
    p.add_argument("--target", type=float, default=0.1, help="regret to reach (accuracy points)")
    args = p.parse_args()

    curves, rows = [], []
    for name in args.tables:
        table = load_benchmark(name)
        evaluator = TabularEvaluator(table)
        unit = float(table.values(table.cost_column).mean())
        for method in args.methods:
            start = time.perf_counter()
            for seed in range(args.seeds):
                curve = one_run(method, evaluator, seed, args.max_cost * unit)
                curve = curve.assign(table=name, method=method, seed=seed, cost_units=curve["cum_cost_s"] / unit)
                curves.append(curve)
                reached = cost_to(curve, args.target)
                rows.append({"table": name, "method": method, "seed": seed, "evaluations": len(curve),
                             "cost_to_target": (reached if np.isfinite(reached) else args.max_cost * unit) / unit,
                             "reached": bool(np.isfinite(reached)),
                             **{f"regret@{c}": regret_at(curve, c * unit) for c in COST_MARKS if c <= args.max_cost}})
            print(f"  {name} {method}: {args.seeds} seeds in {time.perf_counter() - start:.0f}s", flush=True)
    save_frame(pd.concat(curves, ignore_index=True), "multi_fidelity_curves")
    runs = pd.DataFrame(rows)
    save_frame(runs, "multi_fidelity_runs")

    sections = []
    for name, group in runs.groupby("table", sort=False):
        summary = []
        for method, g in group.groupby("method", sort=False):
            row = {"method": method, "reached": f"{int(g['reached'].sum())}/{len(g)}",
                   "cost to target": f"{g['cost_to_target'].mean():.1f} ± {g['cost_to_target'].std(ddof=1) / np.sqrt(len(g)) if len(g) > 1 else 0:.1f}"}
            for c in COST_MARKS:
                if f"regret@{c}" in g:
                    v = g[f"regret@{c}"].replace(np.inf, np.nan)
                    row[f"regret @{c}"] = f"{v.mean():.3f}" if v.notna().all() else f"{v.mean():.3f} ({v.isna().sum()} none)"
            summary.append(row)
        table_md = markdown_table(pd.DataFrame(summary))
        sections.append(f"### {name}\n\n{table_md}")
    body = (
        f"{args.seeds} seeds per method and table; each run stops at {args.max_cost:g} units of cost (one unit = "
        "the table's mean 200-epoch training time) or at regret 0. Same evaluator and cost accounting for every "
        "method: 12 epochs cost 12/200 of an architecture's 200-epoch time, and a later evaluation of the same "
        "architecture at 200 epochs pays only the rest (resumed). Regret (validation accuracy points, 200-epoch "
        f"results only) at several costs, mean over seeds; cost to reach regret <= {args.target:g} in units, "
        "mean ± s.e. (a run that never reaches it counts at the cap). Methods: `mf-bo` (joint GP over "
        "architecture and fidelity), `mf-bo-rung` (BOHB-style model of the highest rung), `bo` (full fidelity), "
        "`hb` (asynchronous Hyperband, random), DEHB (package `dehb`, fidelity ladder = the table's 12 and 200 "
        "epochs), Optuna TPE with its Hyperband pruner. Goal: `mf-bo` at most half the cost of `bo`, and less "
        "than every peer.\n\n" + "\n\n".join(sections)
    )
    write_section("multi_fidelity", "Multi-fidelity search on NAS-Bench-201 (cost to a good network)", body)
    print(body)


if __name__ == "__main__":
    main()
