"""Multi-fidelity search on NAS-Bench-201: regret against cumulative training cost.

Every method searches the same table through the same evaluator and cost accounting:
an evaluation at 12 epochs costs 12/200 of the architecture's 200-epoch training time,
and evaluating an architecture again at a higher fidelity continues from the lower one
(pays only the difference), as the live path does with checkpoints. Regret counts only
200-epoch results. Methods:

* ``mf-bo`` (ours, default ``model="joint"``: one GP over architecture and fidelity),
  ``mf-bo-rung`` (ours with ``model="rung"``: BOHB-style model of the highest full rung),
  ``bo`` (ours, full fidelity only), ``hb`` (ours: asynchronous Hyperband, random);
* peers, each with the settings of the peer protocol (``benchmarks/peers.py``: documented
  settings matched to the table's two fidelities, one knob chosen on seeds 100-104 by
  ``benchmarks/peer_selection.py``, then fixed):

  - ``optuna-tpe-sh``: Optuna's TPE with ``SuccessiveHalvingPruner(min_resource=12)``, whose
    first rung is the reported 12 epochs (the old ``HyperbandPruner(12, 200, 3)`` had rungs at
    36 and 108 epochs that never saw a report, so most trials ran to 200 epochs);
  - ``optuna-tpe-hb``: TPE with ``HyperbandPruner(12, 200, reduction_factor=16)``, the one
    Hyperband whose brackets are {rung at 12, no rung before 200};
  - ``dehb``: the ``dehb`` package (DEHB, Awad et al. 2021) with its own ask/tell, its
    fidelity ladder set to the table's two levels (``eta`` = 200/12);
  - ``smac-mf``: SMAC3's ``MultiFidelityFacade`` (Hyperband intensifier, random forest, EI) with
    budgets 12 and 200 (``eta`` = 200/12) and a deterministic scenario.

  An architecture a peer samples again is looked up at no cost; one evaluated at 12 epochs and
  then at 200 pays only the rest (resumed), exactly as for ours.

Each run stops at ``--max-cost`` (in units of the table's mean 200-epoch training time)
or at regret 0, after which its curve is flat. Output: mean regret at several costs, the
share of runs reaching regret <= ``--target``, and the mean cost to reach it (a run that
never does is counted at the cap, so the mean is a lower bound then).

    python benchmarks/peer_selection.py --kinds fidelity          # once: the peers' settings
    python benchmarks/multi_fidelity.py --seeds 20 --jobs 2
    python benchmarks/multi_fidelity.py --seeds 2 --max-cost 40 --methods mf-bo hb --allow-dirty  # a quick look

The peers run only here (``pip install -e .[bench]`` and ``pip install --no-deps dehb==0.1.2``); they are not
dependencies of the package.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import add_run_args, fix_hash_seed, markdown_table, save_frame, start_run, write_section  # noqa: E402
from peers import MAX_REPEATS, PEERS as PEER_SPECS, cell_params, chosen, nb201_cell, optuna_sampler, suggest_cell  # noqa: E402,E501

from surrogate_nas.pipelines.search.evaluators import TabularEvaluator  # noqa: E402
from surrogate_nas.pipelines.search.history import Suggestion  # noqa: E402
from surrogate_nas.pipelines.search.runner import run_search  # noqa: E402
from surrogate_nas.pipelines.search.strategies import make_strategy  # noqa: E402
from surrogate_nas.tables import load_benchmark  # noqa: E402

OURS = {"mf-bo": ("mf-bo", {}), "mf-bo-rung": ("mf-bo", {"model": "rung"}), "bo": ("bo", {}), "hb": ("hb", {}),
        "sh": ("sh", {})}
PEERS = ("optuna-tpe-sh", "optuna-tpe-hb", "dehb", "smac-mf")
COST_MARKS = (5, 10, 25, 50, 100)


class Tracker:
    """Cost and regret of one run; continues an architecture from its highest evaluated fidelity."""

    def __init__(self, evaluator: TabularEvaluator, max_cost: float, target: float = 0.0) -> None:
        self.evaluator, self.max_cost, self.target = evaluator, max_cost, target
        self.paid: dict[str, float] = {}
        self.cost, self.best, self.rows = 0.0, -np.inf, []
        self.free_streak = 0  # free lookups in a row (a peer proposing only what it has seen)
        self.fallbacks = 0  # random unseen cells given to a peer after MAX_REPEATS free lookups in a row
        self.stalled = False  # a peer that never proposes anything new is stopped

    def stuck(self, limit: int = MAX_REPEATS) -> bool:
        """Whether the last ``limit`` evaluations were all free lookups of what was seen."""
        return self.free_streak >= limit

    def unseen(self, rng: np.random.Generator):
        """A random cell not evaluated yet, for a peer stuck on repeats (it is told as the peer's own trial)."""
        self.free_streak = 0
        self.fallbacks += 1
        return self.evaluator.space.sample_unseen(1, rng, set(self.paid))[0]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows).assign(fallbacks=self.fallbacks, stalled=self.stalled)

    @property
    def done(self) -> bool:
        """At the cost cap, or at regret ``target`` (0 for the reported runs: their curves go on to the cap)."""
        return self.cost >= self.max_cost or self.regret <= self.target + 1e-12

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
        self.free_streak = self.free_streak + 1 if cost == 0 else 0
        self.cost += cost
        if fidelity >= 1.0:
            self.best = max(self.best, obs.value)
        self.rows.append({"cum_cost_s": self.cost, "fidelity": fidelity, "regret": self.regret})
        return obs.value


def run_ours(method: str, evaluator: TabularEvaluator, seed: int, max_cost: float, target: float = 0.0) -> pd.DataFrame:
    name, options = OURS[method]
    strategy = make_strategy(name, evaluator.space, seed=seed, **options)
    frame = run_search(strategy, evaluator, max_cost_s=max_cost, seed=seed,
                       callback=lambda info: bool(info.rows["regret"].min() <= target + 1e-12)).frame
    return frame[["cum_cost_s", "fidelity", "regret"]].fillna({"regret": np.inf})


def _levels(evaluator: TabularEvaluator) -> tuple[float, float]:
    low, full = evaluator.table.fidelities[0].epochs, evaluator.table.fidelities[-1].epochs
    return float(low), float(full)


def run_dehb(evaluator: TabularEvaluator, seed: int, max_cost: float, settings: dict, target: float = 0.0) -> pd.DataFrame:
    """DEHB's ask & tell with ``settings`` (``min_fidelity``, ``max_fidelity``, ``eta``, DE knobs)."""
    import ConfigSpace as CS
    from dehb import DEHB

    from surrogate_nas.spaces.nb201.cell import OPS

    cs = CS.ConfigurationSpace(seed=seed)
    cs.add([CS.CategoricalHyperparameter(f"edge{i}", list(OPS)) for i in range(6)])
    low, full = _levels(evaluator)
    if (settings["min_fidelity"], settings["max_fidelity"]) != (low, full):
        raise SystemExit(f"DEHB's settings {settings} do not match the table's fidelities ({low}, {full})")
    tracker = Tracker(evaluator, max_cost, target)
    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as logs:
        warnings.simplefilter("ignore")
        optimizer = DEHB(cs=cs, dimensions=6, n_workers=1, seed=seed, output_path=logs, save_freq=None,
                         log_level="ERROR", **settings)
        levels = sorted({round(float(f), 6) for f in optimizer.fidelities})
        if levels != [round(low, 6), round(full, 6)]:
            raise SystemExit(f"DEHB's fidelity ladder {levels} is not the table's ({low}, {full})")
        while not tracker.done:
            if tracker.stuck(20 * MAX_REPEATS):  # no way to hand DEHB a cell of ours: stop it
                tracker.stalled = True
                break
            job = optimizer.ask()
            arch = nb201_cell(evaluator.space, [job["config"][f"edge{i}"] for i in range(6)])
            fidelity = 1.0 if job["fidelity"] >= full - 1e-6 else low / full
            value = tracker.evaluate(arch, fidelity)
            optimizer.tell(job, {"fitness": -value, "cost": tracker.rows[-1]["cum_cost_s"]})
    return tracker.frame()


def optuna_pruner(name: str, settings: dict):
    """The pruner of an Optuna multi-fidelity peer: rungs only where the table reports (12 epochs)."""
    import optuna

    if name == "optuna-tpe-sh":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=int(settings["min_resource"]),
                                                      reduction_factor=int(settings["reduction_factor"]),
                                                      min_early_stopping_rate=0)
    return optuna.pruners.HyperbandPruner(min_resource=int(settings["min_resource"]),
                                          max_resource=int(settings["max_resource"]),
                                          reduction_factor=int(settings["reduction_factor"]))


def run_optuna(evaluator: TabularEvaluator, seed: int, max_cost: float, name: str, settings: dict,
               target: float = 0.0) -> pd.DataFrame:
    """Optuna's TPE with a pruner: report the 12-epoch accuracy, continue to 200 unless pruned."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    low, full = _levels(evaluator)
    if int(settings["min_resource"]) != int(low):
        raise SystemExit(f"{name}'s first rung {settings['min_resource']} is not the table's low fidelity {low}")
    # Named: HyperbandPruner puts a trial in a bracket by a checksum of the study's name and the
    # trial's number, and an unnamed study gets a random name, so its brackets changed from run to run.
    study = optuna.create_study(study_name=f"{name}-seed{seed}", direction="maximize",
                                sampler=optuna_sampler(name, settings, seed), pruner=optuna_pruner(name, settings))
    tracker = Tracker(evaluator, max_cost, target)
    rng = np.random.default_rng(seed)
    while not tracker.done:
        if tracker.stuck():  # TPE proposes only cells it has seen: give it a random unseen one as its next trial
            study.enqueue_trial(cell_params(tracker.unseen(rng)))
        trial = study.ask()
        arch = suggest_cell(trial, evaluator.space)
        repeat = tracker.paid.get(arch.canonical_key, 0.0) >= 1.0
        trial.report(tracker.evaluate(arch, low / full), int(low))
        if repeat or trial.should_prune() or tracker.done:
            # A cell already trained to 200 epochs is not trained again: told as pruned, as Optuna's
            # maintainers suggest for duplicates (optuna/optuna#2021); told complete again, TPE piles up on it.
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            continue
        study.tell(trial, tracker.evaluate(arch, 1.0))
    return tracker.frame()


def run_smac(evaluator: TabularEvaluator, seed: int, max_cost: float, settings: dict, target: float = 0.0) -> pd.DataFrame:
    """SMAC3's MultiFidelityFacade through ask & tell, budgets = the table's epochs."""
    import ConfigSpace as CS
    from smac import MultiFidelityFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    from surrogate_nas.spaces.nb201.cell import OPS

    low, full = _levels(evaluator)
    cs = CS.ConfigurationSpace(seed=seed)
    cs.add([CS.CategoricalHyperparameter(f"edge{i}", list(OPS)) for i in range(6)])
    tracker = Tracker(evaluator, max_cost, target)
    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as out:
        warnings.simplefilter("ignore")
        scenario = Scenario(cs, deterministic=bool(settings["deterministic"]), n_trials=10**6,
                            min_budget=float(settings["min_budget"]), max_budget=float(settings["max_budget"]),
                            seed=seed, output_directory=Path(out) / "smac")
        smac = MultiFidelityFacade(
            scenario, target_function=lambda config, seed=0, budget=0.0: 0.0,
            intensifier=MultiFidelityFacade.get_intensifier(scenario, eta=settings["eta"]),
            initial_design=MultiFidelityFacade.get_initial_design(
                scenario, n_configs_per_hyperparameter=int(settings["n_configs_per_hyperparameter"])),
            overwrite=True, logging_level=40)
        while not tracker.done:
            if tracker.stuck(20 * MAX_REPEATS):  # no way to hand SMAC a cell of ours: stop it
                tracker.stalled = True
                break
            info = smac.ask()
            if info.budget is None or not (abs(info.budget - low) < 0.5 or abs(info.budget - full) < 0.5):
                raise SystemExit(f"SMAC asked for budget {info.budget}, which the table cannot answer ({low}, {full})")
            arch = nb201_cell(evaluator.space, [info.config[f"edge{i}"] for i in range(6)])
            value = tracker.evaluate(arch, 1.0 if info.budget >= full - 0.5 else low / full)
            smac.tell(info, TrialValue(cost=-value))
    return tracker.frame()


def one_run(method: str, evaluator: TabularEvaluator, seed: int, max_cost: float, settings: dict | None = None,
            target: float = 0.0) -> pd.DataFrame:
    if method == "dehb":
        return run_dehb(evaluator, seed, max_cost, settings, target)
    if method in ("optuna-tpe-sh", "optuna-tpe-hb"):
        return run_optuna(evaluator, seed, max_cost, method, settings, target)
    if method == "smac-mf":
        return run_smac(evaluator, seed, max_cost, settings, target)
    return run_ours(method, evaluator, seed, max_cost, target)


def _job(job) -> pd.DataFrame:
    """One (table, method, seed) run in a process of its own (``--jobs``)."""
    import torch

    torch.set_num_threads(1)
    name, method, seed, max_cost_units, settings = job
    table = load_benchmark(name)
    evaluator = TabularEvaluator(table)
    unit = float(table.values(table.cost_column).mean())
    start = time.perf_counter()
    curve = one_run(method, evaluator, seed, max_cost_units * unit, settings)
    seconds = time.perf_counter() - start
    print(f"  {name} {method} seed {seed}: {len(curve)} evaluations, {seconds:.0f}s", flush=True)
    return curve.assign(table=name, method=method, seed=seed, cost_units=curve["cum_cost_s"] / unit, run_s=seconds)


def regret_at(curve: pd.DataFrame, cost: float) -> float:
    """Regret of the run once ``cost`` seconds were spent (flat after it stopped)."""
    before = curve[curve["cum_cost_s"] <= cost]
    return float(before["regret"].iloc[-1]) if len(before) else float("inf")


def cost_to(curve: pd.DataFrame, target: float) -> float:
    hit = curve[curve["regret"] <= target + 1e-12]
    return float(hit["cum_cost_s"].iloc[0]) if len(hit) else float("nan")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tables", nargs="+", default=["nb201-cifar10", "nb201-cifar100"])
    p.add_argument("--methods", nargs="+", default=["mf-bo", "mf-bo-rung", "bo", "hb", *PEERS],
                   choices=[*OURS, *PEERS])
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--max-cost", type=float, default=100.0, help="per run, in mean 200-epoch training times")
    p.add_argument("--target", type=float, default=0.1, help="regret to reach (accuracy points)")
    p.add_argument("--jobs", type=int, default=1, help="runs in parallel processes")
    add_run_args(p)
    args = p.parse_args(argv)
    start_run(args.allow_dirty)
    peers = [m for m in args.methods if m in PEERS]
    choice = chosen() if peers else None

    started = time.perf_counter()
    jobs = [(name, method, seed, args.max_cost, choice.of(method) if method in PEERS else None)
            for name in args.tables for method in args.methods for seed in range(args.seeds)]
    with ProcessPoolExecutor(args.jobs) as pool:
        curves = list(pool.map(_job, jobs))
    units = {}
    for name in args.tables:
        table = load_benchmark(name)
        units[name] = float(table.values(table.cost_column).mean())
    rows = []
    for curve in curves:
        name, method, seed = curve["table"].iloc[0], curve["method"].iloc[0], int(curve["seed"].iloc[0])
        unit = units[name]
        reached = cost_to(curve, args.target)
        rows.append({"table": name, "method": method, "seed": seed, "evaluations": len(curve),
                     "cost_to_target": (reached / unit) if np.isfinite(reached) else args.max_cost,
                     "reached": bool(np.isfinite(reached)), "run_s": float(curve["run_s"].iloc[0]),
                     "fallbacks": float(curve["fallbacks"].iloc[0]) if "fallbacks" in curve else np.nan,
                     "stalled": bool(curve["stalled"].iloc[0]) if "stalled" in curve else False,
                     **{f"regret@{c}": regret_at(curve, c * unit) for c in COST_MARKS if c <= args.max_cost}})
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
            row["seconds per run"] = f"{g['run_s'].mean():.0f}"
            row["random cells given (stalled runs)"] = ("" if g["fallbacks"].isna().all() else
                                                        f"{g['fallbacks'].mean():.1f} ({int(g['stalled'].sum())})")
            summary.append(row)
        table_md = markdown_table(pd.DataFrame(summary))
        sections.append(f"### {name}\n\n{table_md}")
    body = (
        f"The whole run took {(time.perf_counter() - started) / 60:.1f} min on this shared machine ({args.jobs} "
        "processes).\n\n"
        f"{args.seeds} seeds per method and table; each run stops at {args.max_cost:g} units of cost (one unit = "
        "the table's mean 200-epoch training time) or at regret 0. Same evaluator and cost accounting for every "
        "method: 12 epochs cost 12/200 of an architecture's 200-epoch time, and a later evaluation of the same "
        "architecture at 200 epochs pays only the rest (resumed). Regret (validation accuracy points, 200-epoch "
        f"results only) at several costs, mean over seeds; cost to reach regret <= {args.target:g} in units, "
        "mean ± s.e. (a run that never reaches it counts at the cap). Methods: `mf-bo` (joint GP over "
        "architecture and fidelity), `mf-bo-rung` (BOHB-style model of the highest rung), `bo` (full fidelity), "
        "`hb` (asynchronous Hyperband, random); peers: `optuna-tpe-sh` (TPE + `SuccessiveHalvingPruner` with its "
        "rung at the reported 12 epochs), `optuna-tpe-hb` (TPE + `HyperbandPruner(12, 200, reduction_factor=16)`: "
        "brackets {12, 200}), `dehb` (fidelity ladder = the table's 12 and 200 epochs), `smac-mf` (SMAC3 "
        "`MultiFidelityFacade`, budgets 12 and 200). An architecture a peer samples again is a free lookup (an Optuna "
        "trial proposing a cell already trained to 200 epochs is told pruned, as Optuna's maintainers suggest for "
        "duplicates: told complete again, TPE piles up on it and stops proposing new cells); after "
        f"{MAX_REPEATS} free lookups in a row an Optuna peer's next trial is a random unseen cell (mean number of "
        "such cells per run shown), and DEHB or SMAC, which cannot be handed one, are stopped after "
        f"{20 * MAX_REPEATS} (stalled runs shown; their curves stay flat to the cap). "
        "Seconds per run: wall time of one run on this shared machine. Goal: `mf-bo` at most half the cost of "
        "`bo`, and less than every peer."
        + (f"\n\n{choice.line(peers)}" if peers else "") + "\n\n" + "\n\n".join(sections)
    )
    libraries = sorted({PEER_SPECS[m].library for m in peers} | ({"ConfigSpace"} if {"dehb", "smac-mf"} & set(peers) else set()))
    write_section("multi_fidelity", "Multi-fidelity search on NAS-Bench-201 (cost to a good network)", body,
                  packages=libraries)
    print(body)


if __name__ == "__main__":
    fix_hash_seed()  # SMAC3 runs differ between processes otherwise
    main()
