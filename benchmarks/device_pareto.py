"""Better and lighter on a device: NAS-Bench-201 accuracy against measured latency, in one run per part.

Parts (``--part``), each writing its section of ``docs/benchmarks.md`` and its CSV:

* ``pareto``: nb201-cifar10, ``accuracy`` against ``latency@DEVICE`` for pixel3, raspi4 and
  1080ti_1. Our BO (GP surrogate, qLogNEHVI; the table knows every cell's latency on the device,
  so BO models accuracy alone and reads latency exactly, :mod:`~surrogate_nas.pipelines.search.bo.known`),
  ``bo-modelled`` (the same BO modelling latency with a GP too: what reading the known latency
  is worth) and random search through
  :func:`~surrogate_nas.pipelines.search.benchmark.benchmark_search`, and the peers a NAS user
  would try, under the peer protocol (``benchmarks/peers.py``: documented settings, one knob
  chosen on seeds 100-104 by ``benchmarks/peer_selection.py --kinds multi`` and then fixed for
  every device): Optuna's ``NSGAIISampler`` and ``NSGAIIISampler`` with their population sized
  to the budget (the default 50 is three generations in 150 evaluations), and MOTPE (Optuna's
  ``TPESampler`` on both objectives), on the same table, budget and seeds. A peer's proposal
  whose canonical cell was already evaluated is answered from a cache and not counted (only
  helps the peer); peers run one trial at a time. Each search is scored by the hypervolume
  of what it evaluated over the exact true front's (one reference point per device, from the
  true front, never shown to the searches).
* ``constrained``: the best accuracy with pixel3 latency at most its median over the space;
  BO, RS and REA; how many seeds reach the true constrained optimum within the budget.
* ``fewshot``: a latency model for a device it has never seen (``fit --target latency``'s
  :class:`~surrogate_nas.predictors.latency.LatencyRegressor`) from n = 10/20/50 measured
  cells; Spearman on every other cell, with the other 26 settings' latencies as features
  (the ``devlat`` prior minus the held-out device) and, for contrast, the cell's one-hot
  encoding and size alone.

Optuna runs only here (``pip install -e .[bench]``), never as a dependency of the package.

    python benchmarks/peer_selection.py --kinds multi      # once: the peers' settings
    python benchmarks/device_pareto.py --part pareto --seeds 20 --jobs 2
    python benchmarks/device_pareto.py --part constrained --seeds 20
    python benchmarks/device_pareto.py --part fewshot --seeds 20
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import add_run_args, markdown_table, save_frame, start_run, write_section  # noqa: E402
from peers import PEERS as PEER_SPECS, chosen, peer_curves  # noqa: E402

from surrogate_nas.pipelines.jobs.objective_words import resolve_terms  # noqa: E402
from surrogate_nas.pipelines.search.benchmark import (  # noqa: E402
    benchmark_evaluator,
    benchmark_search,
    hypervolume_ratios,
    optimum_hits,
    true_front,
)
from surrogate_nas.pipelines.search.constraints import ConstraintSet  # noqa: E402
from surrogate_nas.predictors.latency import LatencyRegressor  # noqa: E402
from surrogate_nas.spaces import get_space  # noqa: E402
from surrogate_nas.tables import load_benchmark  # noqa: E402
from surrogate_nas.devices import DEVICES  # noqa: E402
from surrogate_nas.spaces.nb201.latency import latency_frame  # noqa: E402

TABLE = "nb201-cifar10"
DEVICE_SET = ("pixel3", "raspi4", "1080ti_1")
STEPS = (50, 100, 150)
FEWSHOT_DEVICES = ("pixel3", "raspi4", "1080ti_1", "gold_6226", "samsung_a50", "fpga")


MO_PEERS = ("optuna-nsga2", "optuna-nsga3", "optuna-motpe")


VARIANTS = {"bo-modelled": ("bo", {"exact_objectives": False})}
"""Our strategies under another name: (registered strategy, its options)."""


def _pareto_seed(job) -> pd.DataFrame:
    """BO, RS and the peers on one device for one seed (a process of its own with ``--jobs``)."""
    import torch

    torch.set_num_threads(1)
    device, seed, budget, batch_size, ours, peers = job
    table = load_benchmark(TABLE)
    terms = resolve_terms(["accuracy", f"latency@{device}"], (), table)
    parts = []
    if ours:
        for name in ours:
            t0 = time.perf_counter()
            base, options = VARIANTS.get(name, (name, {}))
            parts.append(benchmark_search(table, [base], budget, [seed], batch_size=batch_size,
                                          strategy_options={base: options}, objectives=terms.objectives,
                                          metrics=terms.metrics)
                         .assign(strategy=name, run_s=time.perf_counter() - t0))
    for name, settings in peers:
        t0 = time.perf_counter()
        parts.append(peer_curves(table, name, settings, budget, [seed], terms.objectives, terms.metrics)
                     .assign(run_s=time.perf_counter() - t0))
    print(f"{device} seed {seed} done", flush=True)
    return pd.concat(parts, ignore_index=True)


def _verdicts(summary: pd.DataFrame, peer_names) -> list[str]:
    """One line per device: bo's mean ratio against the best tuned peer's at each step, and bo's at the last
    step against the issue's 0.99."""
    if "bo" not in set(summary["strategy"]) or not peer_names:
        return []
    lines = ["Goal (issue 18): `bo` ahead of the best tuned peer at every step, and at least 0.99 at the last:", ""]
    mean = summary.set_index(["device", "strategy", "step"])["mean"]
    for device in summary["device"].unique():
        parts, met = [], True
        steps = sorted(summary.loc[summary["device"] == device, "step"].unique())
        for step in steps:
            peers = {n: mean[(device, n, step)] for n in peer_names if (device, n, step) in mean}
            best = max(peers, key=peers.get)
            ahead = mean[(device, "bo", step)] > peers[best]
            met &= bool(ahead)
            parts.append(f"@{step} {mean[(device, 'bo', step)]:.4f} vs {best} {peers[best]:.4f}"
                         f" ({'ahead' if ahead else 'behind'})")
        last = mean[(device, "bo", steps[-1])]
        met &= bool(last >= 0.99)
        lines.append(f"- {device}: {'; '.join(parts)}; @{steps[-1]} {'>=' if last >= 0.99 else '<'} 0.99: "
                     f"{'met' if met else 'missed'}.")
    return lines


def part_pareto(args) -> None:
    table = load_benchmark(TABLE)
    ours = [s for s in args.strategies.split(",") if s and s not in PEER_SPECS]
    peer_names = [s for s in args.strategies.split(",") if s in PEER_SPECS]
    choice = chosen() if peer_names else None
    peers = [(name, choice.of(name)) for name in peer_names]
    parts, lines, fronts, extras = [], [], [], []
    for device in args.devices.split(","):
        terms = resolve_terms(["accuracy", f"latency@{device}"], (), table)
        evaluator = benchmark_evaluator(table, terms.objectives, (), terms.metrics)
        front = true_front(evaluator, terms.objectives)
        fronts.append({"device": device, "front_size": len(front.archs), "true_hypervolume": front.hypervolume,
                       "ref_accuracy": front.ref_point[0], "ref_latency_ms": -front.ref_point[1]})
        start = time.perf_counter()
        with ProcessPoolExecutor(args.jobs) as pool:
            runs = pool.map(_pareto_seed, [(device, seed, args.budget, args.batch_size, ours, peers)
                                           for seed in range(args.seeds)])
            curves = pd.concat(list(runs), ignore_index=True)
        ratios = hypervolume_ratios(curves, front, [s for s in STEPS if s <= args.budget]).assign(device=device)
        parts.append(ratios)
        per_run = curves.groupby(["strategy", "seed"], sort=False)
        extras.append(pd.DataFrame({
            "device": device,
            "seconds per search": per_run["run_s"].first().groupby("strategy", sort=False).mean(),
            "answered from cache": (per_run["repeats"].first().groupby("strategy", sort=False).mean()
                                    if "repeats" in curves else np.nan),
        }).reset_index())
        print(f"{device}: {time.perf_counter() - start:.0f}s", flush=True)
    frame = pd.concat(parts, ignore_index=True)
    save_frame(frame, "device_pareto")
    summary = (frame.groupby(["device", "strategy", "step"])["ratio"]
               .agg(mean="mean", se=lambda r: r.std(ddof=1) / np.sqrt(len(r)), worst="min").reset_index())
    wide = summary.assign(cell=[f"{m:.4f} ± {s:.4f}" for m, s in zip(summary["mean"], summary["se"])]).pivot(
        index=["device", "strategy"], columns="step", values="cell").reset_index()
    wide.columns = ["device", "strategy", *[f"HV ratio @{s}" for s in wide.columns[2:]]]
    extra = pd.concat(extras, ignore_index=True)
    wide = wide.merge(extra, on=["device", "strategy"], how="left")
    wide["answered from cache"] = [("" if not np.isfinite(v) else f"{v:.0f}") for v in wide["answered from cache"]]
    wide["seconds per search"] = [f"{v:.1f}" for v in wide["seconds per search"]]
    lines += [f"{TABLE}: accuracy (`cifar10_valid_acc_200ep`) against measured latency, {args.seeds} seeds "
              f"(0..{args.seeds - 1}), budget {args.budget}, BO and RS in batches of {args.batch_size}. Each "
              "entry is the hypervolume of the search's evaluated architectures over the exact true front's "
              "(mean ± s.e.; 1 = the whole true front found). The reference point is the true front's nadir "
              "moved back by a tenth of its range (BoTorch's `infer_reference_point`), one per device, used "
              "only for scoring: the searches infer theirs from what they evaluated. Peers (`optuna-nsga2`, "
              "`optuna-nsga3`: Optuna's NSGA-II/III; `optuna-motpe`: Optuna's TPE on both objectives) run one "
              "trial at a time with the settings of the peer protocol; a proposal whose canonical cell was already "
              "evaluated is answered from a cache without counting against the budget (\"answered from cache\": "
              "mean such proposals per search). Seconds per search: wall time on this shared machine. "
              "`bo` reads each cell's latency on the device from the table (known without training it, as a "
              "user's own measured or predicted latency would be) and models accuracy alone; `bo-modelled` is "
              "the same BO modelling latency with a GP as well.", ""]
    if choice is not None:
        lines += [choice.line(peer_names), ""]
    lines += [markdown_table(wide), "", *_verdicts(summary, peer_names), "", "True fronts:", "", markdown_table(pd.DataFrame(fronts), floatfmt=".4g")]
    write_section("device_pareto", "Better and lighter on a device: hypervolume ratio to the true front",
                  "\n".join(lines), packages=sorted({PEER_SPECS[n].library for n in peer_names}))
    print("\n".join(lines))


def part_constrained(args) -> None:
    table = load_benchmark(TABLE)
    device = DEVICES["pixel3"]
    median = float(np.median(table.frame[device.column]))
    terms = resolve_terms(["accuracy"], [f"latency@pixel3<={median:.6g}"], table)
    evaluator = benchmark_evaluator(table, terms.objectives, terms.constraints, terms.metrics)
    cset = ConstraintSet(terms.constraints, evaluator.known())
    optimum = evaluator.optimum_under(cset)
    curves = benchmark_search(table, ["bo", "rs", "rea"], args.budget, args.seeds, batch_size=args.batch_size,
                              objectives=terms.objectives,
                              constraints=terms.constraints, metrics=terms.metrics,
                              progress=lambda s, seed, _: print(f"constrained {s} seed {seed} done", flush=True))
    save_frame(curves, "device_constrained")
    hits = optimum_hits(curves, within=args.budget)
    steps = [s for s in (20, 50, 100) if s <= args.budget]
    at = curves[curves["step"].isin(steps)].groupby(["strategy", "step"])["regret"].mean().unstack()
    at.columns = [f"mean regret @{s}" for s in at.columns]
    body = [f"{TABLE}, the most accurate cell with Pixel 3 latency at most {median:.4g} ms (the median over the "
            f"15,625 cells; {int((table.frame[device.column] <= median).sum()):,} cells qualify), best feasible "
            f"`cifar10_valid_acc_200ep` {optimum:.3f}. Pixel 3 latency is known without training, so every "
            f"strategy searches only the feasible cells. {args.seeds} seeds, budget {args.budget}, batches of "
            f"{args.batch_size}.", "",
            markdown_table(hits), "", markdown_table(at.reset_index())]
    write_section("device_constrained", "Constrained search: the best cell under a latency bound", "\n".join(body))
    print("\n".join(body))


def part_fewshot(args) -> None:
    space = get_space("nb201")
    cells = list(space.enumerate())
    frame = latency_frame()
    from surrogate_nas.spaces.nb201.latency import _rows_by_arch

    rows = np.array([_rows_by_arch()[c.to_string()] for c in cells])
    logs = np.log(frame[[d.column for d in DEVICES.values()]].to_numpy(np.float64)[rows])
    plain = space.features(cells, "onehot+cost")
    records = []
    for held in args.devices.split(","):
        j = list(DEVICES).index(held)
        prior = np.delete(logs, j, axis=1)
        y = np.exp(logs[:, j])
        for n in (10, 20, 50):
            for seed in range(args.seeds):
                order = np.random.default_rng(seed).permutation(len(cells))
                train, test = order[:n], order[n:]
                for label, X in (("other 26 devices (devlat prior)", prior), ("one-hot + size only", plain)):
                    predicted = LatencyRegressor().fit(X[train], y[train]).predict(X[test])[0]
                    records.append({"device": held, "features": label, "n": n, "seed": seed,
                                    "spearman": float(spearmanr(predicted, y[test]).statistic)})
    df = pd.DataFrame(records)
    save_frame(df, "device_fewshot")
    summary = df.groupby(["device", "features", "n"])["spearman"].mean().unstack("n").reset_index()
    summary.columns = ["device", "features", *[f"Spearman n={n}" for n in summary.columns[2:]]]
    body = [f"A latency model for a device not in its prior: ridge regression of log latency "
            f"(`fit --target latency`), trained on n random NB-201 cells measured on the held-out device, tested "
            f"on all other cells; mean Spearman over {args.seeds} seeds. With the `devlat` prior the features are "
            "the cell's log latency on the other 26 settings (the held-out one removed); HELP reports this kind "
            "of few-shot transfer with meta-learning.", "", markdown_table(summary)]
    write_section("device_fewshot", "Latency on a new device from a few measurements", "\n".join(body))
    print("\n".join(body))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["pareto", "constrained", "fewshot"], required=True)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=None, help="default: 150 (pareto), 100 (constrained)")
    parser.add_argument("--batch-size", type=int, default=5, help="architectures per step of every strategy")
    parser.add_argument("--devices", default=None)
    parser.add_argument("--jobs", type=int, default=1, help="pareto: seeds run in this many processes")
    parser.add_argument("--strategies", default=",".join(["bo", *VARIANTS, "rs", *MO_PEERS]),
                        help="pareto: ours (bo, rs, ...) and peers (" + ", ".join(MO_PEERS) + ")")
    add_run_args(parser)
    args = parser.parse_args()
    start_run(args.allow_dirty)
    if args.part == "pareto":
        args.budget, args.devices = args.budget or 150, args.devices or ",".join(DEVICE_SET)
        part_pareto(args)
    elif args.part == "constrained":
        args.budget = args.budget or 100
        part_constrained(args)
    else:
        args.devices = args.devices or ",".join(FEWSHOT_DEVICES)
        part_fewshot(args)


if __name__ == "__main__":
    main()
