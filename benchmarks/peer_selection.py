"""Choose each peer's main knob once, on one visible problem and seeds never reported; then it is fixed.

The peer protocol (``benchmarks/peers.py``, whose docstring cites the documentation each
peer's settings follow) gives every peer its documented settings for the budget and
fidelities at hand, plus a small grid of its main knob. This script runs each grid point
on seeds 100-104 (the reported runs use 0-19) on one problem per kind, scores it by that
benchmark's headline number, and keeps the rows in ``docs/results/peer_selection.csv``;
``benchmarks/search.py``, ``device_pareto.py`` and ``multi_fidelity.py`` then read the
choice (:func:`peers.chosen`) and use it on every table and device. The ``peer_selection``
section of docs/benchmarks.md lists the grids, the scores, the choices, the seeds and the
installed versions.

Problems and scores (all on nb201-cifar10, the table every user sees first):

* ``single``: ``cifar10_valid_acc_200ep``, budget 100, one evaluation at a time; score =
  mean regret over the checkpoints 20, 50 and 100 evaluations (lower is better).
* ``multi``: accuracy against Pixel 3 latency, budget 150; score = mean hypervolume ratio to
  the exact true front at 50, 100 and 150 evaluations (higher is better).
* ``fidelity``: cost (in mean 200-epoch trainings) to reach regret 0.1, capped at 100; the run
  stops there (lower is better).

    python benchmarks/peer_selection.py --jobs 2                 # all kinds, seeds 100-104
    python benchmarks/peer_selection.py --kinds multi --seeds 2 --allow-dirty   # a dry run
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import add_run_args, fix_hash_seed, run_state, start_run, write_section  # noqa: E402
from peers import (  # noqa: E402
    HIGHER_IS_BETTER,
    PEERS,
    SELECTION_FILE,
    SELECTION_SEEDS,
    choose,
    installed,
    setting_key,
    settings_of,
)

TABLE = "nb201-cifar10"
SINGLE_BUDGET, SINGLE_STEPS = 100, (20, 50, 100)
MULTI_DEVICE, MULTI_BUDGET, MULTI_STEPS = "pixel3", 150, (50, 100, 150)
FIDELITY_CAP, FIDELITY_TARGET = 100.0, 0.1
PROBLEMS = {
    "single": f"{TABLE}, `cifar10_valid_acc_200ep`, budget {SINGLE_BUDGET}; score = mean regret at 20/50/100 "
              "evaluations (lower is better)",
    "multi": f"{TABLE}, accuracy vs latency@{MULTI_DEVICE}, budget {MULTI_BUDGET}; score = mean hypervolume ratio to "
             "the exact true front at 50/100/150 evaluations (higher is better)",
    "fidelity": f"{TABLE}, cost to regret {FIDELITY_TARGET:g} in mean 200-epoch trainings, capped (a run that "
                "never reaches it scores the cap; lower is better)",
}


def score_one(job) -> dict:
    """Run one (peer, grid point, seed) on its kind's selection problem; return its score."""
    import torch

    torch.set_num_threads(1)
    peer, knob, seed, cap = job
    spec = PEERS[peer]
    settings = settings_of(peer, knob)
    start = time.perf_counter()
    from surrogate_nas.tables import load_benchmark

    table = load_benchmark(TABLE)
    if spec.kind == "single":
        from peers import peer_curves

        curves = peer_curves(table, peer, settings, SINGLE_BUDGET, [seed])
        score = float(curves[curves["step"].isin(SINGLE_STEPS)]["regret"].mean())
        extra = {"repeats": int(curves["repeats"].iloc[0])}
    elif spec.kind == "multi":
        from peers import peer_curves

        from surrogate_nas.pipelines.jobs.objective_words import resolve_terms
        from surrogate_nas.pipelines.search.benchmark import benchmark_evaluator, hypervolume_ratios, true_front

        terms = resolve_terms(["accuracy", f"latency@{MULTI_DEVICE}"], (), table)
        front = true_front(benchmark_evaluator(table, terms.objectives, (), terms.metrics), terms.objectives)
        curves = peer_curves(table, peer, settings, MULTI_BUDGET, [seed], terms.objectives, terms.metrics)
        score = float(hypervolume_ratios(curves, front, MULTI_STEPS)["ratio"].mean())
        extra = {"repeats": int(curves["repeats"].iloc[0])}
    else:
        import multi_fidelity

        from surrogate_nas.pipelines.search.evaluators import TabularEvaluator

        evaluator = TabularEvaluator(table)
        unit = float(table.values(table.cost_column).mean())
        curve = multi_fidelity.one_run(peer, evaluator, seed, cap * unit, settings, target=FIDELITY_TARGET)
        reached = multi_fidelity.cost_to(curve, FIDELITY_TARGET)
        score = reached / unit if np.isfinite(reached) else cap
        extra = {"repeats": float("nan")}  # the tracker answers repeats for free; not counted here
    seconds = time.perf_counter() - start
    print(f"  {peer} {setting_key(knob)} seed {seed}: {score:.4f} ({seconds:.0f}s)", flush=True)
    return {"peer": peer, "kind": spec.kind, "setting": setting_key(knob), "seed": seed, "score": score,
            "run_s": seconds, **extra}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default="single,multi,fidelity", help="which peers to (re)select")
    parser.add_argument("--peers", default="", help="only these peers (comma-separated; default: all of the kinds)")
    parser.add_argument("--seeds", type=int, default=len(SELECTION_SEEDS),
                        help=f"the first n of the selection seeds {SELECTION_SEEDS[0]}-{SELECTION_SEEDS[-1]}")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel processes")
    parser.add_argument("--max-cost", type=float, default=FIDELITY_CAP,
                        help="fidelity kind: cost cap per run, in mean 200-epoch trainings (lower only for a dry run)")
    add_run_args(parser)
    args = parser.parse_args(argv)
    start_run(args.allow_dirty)
    kinds = [k for k in args.kinds.split(",") if k]
    if set(kinds) - set(PROBLEMS):
        parser.error(f"--kinds: choose among {', '.join(PROBLEMS)}")
    if not 1 <= args.seeds <= len(SELECTION_SEEDS):
        parser.error(f"--seeds: 1 to {len(SELECTION_SEEDS)}")
    names = [p for p in (args.peers.split(",") if args.peers else PEERS) if p]
    unknown = [p for p in names if p not in PEERS]
    if unknown:
        parser.error(f"--peers: unknown {unknown}; choose among {', '.join(PEERS)}")
    names = [p for p in names if PEERS[p].kind in kinds]
    missing = {lib: v for lib, v in installed(sorted({PEERS[p].library for p in names})).items() if v is None}
    if missing:
        raise SystemExit(f"not installed: {', '.join(missing)} (pip install -e .[bench]; pip install --no-deps dehb==0.1.2)")

    seeds = SELECTION_SEEDS[: args.seeds]
    jobs = [(p, knob, s, args.max_cost) for p in names for knob in PEERS[p].grid for s in seeds]
    started = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = pd.DataFrame(list(pool.map(score_one, jobs))).assign(commit=run_state().label, cap=args.max_cost)
    if SELECTION_FILE.exists():  # keep the other peers' rows, with the commit that made them
        old = pd.read_csv(SELECTION_FILE)
        rows = pd.concat([old[~old["peer"].isin(names)], rows], ignore_index=True)
    SELECTION_FILE.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(SELECTION_FILE, index=False)
    elapsed = time.perf_counter() - started
    write_section("peer_selection", "Peers at their best: the peer protocol and each peer's setting",
                  _body(rows, elapsed), packages=sorted({PEERS[p].library for p in rows["peer"].unique()}))
    print(f"wrote {SELECTION_FILE} and docs/benchmarks.md in {elapsed / 60:.1f} min")


def _body(rows: pd.DataFrame, elapsed: float) -> str:
    choice = choose(rows)
    lines = [
        "Every peer runs with the settings its own documentation gives for the budget and fidelities at hand "
        "(cited in `benchmarks/peers.py`): NSGA-II/III populations sized to the budget, TPE's `n_startup_trials` "
        "as Optuna documents it, GPSampler told the objective is deterministic, pruner rungs and fidelity ladders "
        "at the table's two reported fidelities (12 and 200 epochs: SuccessiveHalving's first rung at 12, Hyperband "
        "with `reduction_factor=16` so its brackets are {12, 200}, DEHB's and SMAC's `eta` = 200/12). One knob per "
        "peer is then chosen below on nb201-cifar10 with seeds that are never reported, and fixed for every table "
        "and device. A NB-201 cell is six categorical parameters (one per edge); a proposal whose canonical cell "
        "was already evaluated is answered from a cache and not counted (only helps the peer); peers run one "
        "trial at a time.",
        "",
        f"This run took {elapsed / 60:.1f} min on this shared machine.",
    ]
    versions = installed(sorted({PEERS[p].library for p in rows["peer"].unique()}))
    for kind, problem in PROBLEMS.items():
        part = rows[rows["kind"] == kind]
        if part.empty:
            continue
        seeds = sorted(part["seed"].unique())
        lines += ["", f"### {kind}", "",
                  f"{problem}. Seeds {', '.join(map(str, seeds))}"
                  + (f"; cap {', '.join(f'{c:g}' for c in sorted(part['cap'].dropna().unique()))}"
                     if kind == "fidelity" and "cap" in part else "")
                  + "; rows made by commit "
                  f"{', '.join(sorted(set(part['commit'].astype(str))))}.", "",
                  "| peer | version | fixed settings | knob | score (mean ± s.e.) | proposals answered from cache "
                  "(mean) | seconds per run | chosen |", "|---|---|---|---|---|---|---|---|"]
        for peer, g in part.groupby("peer", sort=False):
            spec = PEERS[peer]
            means = g.groupby("setting", sort=False)
            for key in [setting_key(k) for k in spec.grid]:
                if key not in means.groups:
                    continue
                s = means.get_group(key)
                se = s["score"].std(ddof=1) / np.sqrt(len(s)) if len(s) > 1 else float("nan")
                mark = "**yes**" if json.loads(key) == choice[peer] else ""
                lines.append(f"| {peer} | {spec.library} {versions.get(spec.library)} | "
                             f"{setting_key(spec.defaults) if spec.defaults else 'defaults'} | {key} | "
                             f"{s['score'].mean():.4f} ± {se:.4f} | "
                             f"{'n/a' if s['repeats'].isna().all() else format(s['repeats'].mean(), '.0f')} | "
                             f"{s['run_s'].mean():.1f} | {mark} |")
        better = "higher" if HIGHER_IS_BETTER[kind] else "lower"
        lines += ["", f"Chosen: the knob with the {better} mean score (a tie keeps the documented default, listed "
                  "first)."]
    lines += ["", "Documentation followed, per peer:", ""]
    lines += [f"- `{p.name}`: {p.doc}" for p in PEERS.values() if p.name in set(rows["peer"])]
    return "\n".join(lines)


if __name__ == "__main__":
    fix_hash_seed()  # SMAC3 runs differ between processes otherwise
    main()
