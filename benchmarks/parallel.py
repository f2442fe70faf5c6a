"""Parallel training and asynchronous search: what more workers buy.

Two measurements, each written to its own section of docs/benchmarks.md:

* ``live``: the real ``surrogate-nas seed`` console script on digits, the same
  architectures (same plan seed) trained with ``--workers 1`` and ``--workers 2``,
  under ``--executor local`` and ``--executor ray``, each in a fresh folder (fresh
  SQLite database and MLflow store). The throughput ratio is architectures per
  minute of the ``seed`` work (as the command reports it) with 2 workers over 1
  worker, measured side by side in this run; the process wall time (which adds
  Python/torch start-up and, for Ray, starting the local instance) is shown too.
  A one-worker run given both cores (``--cpus-per-trial 2``) is the fair reference
  for "one training using the whole machine".
* ``simulated``: asynchronous BO (``bo``, the package default surrogate) on
  NAS-Bench-201 CIFAR-10, where each evaluation occupies a simulated worker for
  the table's training time; ``--seeds`` seeds for each worker count. For each run:
  the simulated time and the number of evaluations until regret <= 0.1, and the
  regret at 100 evaluations.

    python benchmarks/parallel.py live --n 8 --epochs 4 --channels 16 --repeats 2
    python benchmarks/parallel.py simulated --seeds 20 --workers 1 4 8 16 --jobs 2
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import add_run_args, markdown_table, save_frame, write_section, start_run  # noqa: E402

CLI = str(Path(sys.executable).parent / "surrogate-nas")
SEED_LINE = re.compile(r"trained (\d+) new \S+ architectures on \S+ in ([\d.]+)s \(([\d.]+)s of training\)")


def seed_run(args, executor: str, workers: int, cpus_per_trial: int, repeat: int) -> dict:
    """One ``seed`` process in a fresh folder; its own reported wall time and the process wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, MLFLOW_TRACKING_URI=f"sqlite:///{tmp}/mlruns/mlflow.db",
                   SURROGATE_NAS_DB=f"sqlite:///{tmp}/nas.db", OMP_NUM_THREADS="1")
        cmd = [CLI, "seed", "--dataset", "digits", "-n", str(args.n), "--epochs", str(args.epochs),
               "-C", str(args.channels), "-N", str(args.cells), "--seed", str(repeat), "--workers", str(workers),
               "--executor", executor, "--cpus-per-trial", str(cpus_per_trial)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
        process_wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    m = SEED_LINE.search(proc.stdout)
    if m is None:
        raise SystemExit(f"no summary line in the output of {' '.join(cmd)}:\n{proc.stdout[-2000:]}")
    trained, wall, train = int(m.group(1)), float(m.group(2)), float(m.group(3))
    return {"executor": executor, "workers": workers, "cpus_per_trial": cpus_per_trial, "repeat": repeat,
            "archs": trained, "train_s": train, "seed_wall_s": wall, "process_wall_s": process_wall,
            "archs_per_min": 60 * trained / wall, "archs_per_min_process": 60 * trained / process_wall}


def live(args) -> None:
    configs = [("inprocess", 1, 1), ("inprocess", 1, 2), ("local", 2, 1), ("ray", 1, 1), ("ray", 2, 1)]
    rows = []
    for repeat in range(args.repeats):  # interleaved, so load swings hit every configuration alike
        for executor, workers, cpus in configs:
            row = seed_run(args, executor, workers, cpus, repeat)
            print(f"  {executor} workers={workers} cpus/trial={cpus} repeat={repeat}: "
                  f"{row['archs_per_min']:.2f} archs/min ({row['seed_wall_s']:.1f}s)", flush=True)
            rows.append(row)
    df = pd.DataFrame(rows)
    save_frame(df, "parallel_live")
    summary = df.groupby(["executor", "workers", "cpus_per_trial"], sort=False)[
        ["archs", "train_s", "seed_wall_s", "process_wall_s", "archs_per_min", "archs_per_min_process"]
    ].mean().reset_index()
    base = summary.query("executor == 'inprocess' and workers == 1 and cpus_per_trial == 1").iloc[0]
    ray1 = summary.query("executor == 'ray' and workers == 1").iloc[0]
    ratios = pd.DataFrame([
        {"comparison": "local, 2 workers / 1 worker (1 thread)",
         "seed": summary.query("executor == 'local'").iloc[0]["archs_per_min"] / base["archs_per_min"],
         "process": summary.query("executor == 'local'").iloc[0]["archs_per_min_process"]
         / base["archs_per_min_process"]},
        {"comparison": "local, 2 workers / 1 worker with 2 threads",
         "seed": summary.query("executor == 'local'").iloc[0]["archs_per_min"]
         / summary.query("executor == 'inprocess' and cpus_per_trial == 2").iloc[0]["archs_per_min"],
         "process": summary.query("executor == 'local'").iloc[0]["archs_per_min_process"]
         / summary.query("executor == 'inprocess' and cpus_per_trial == 2").iloc[0]["archs_per_min_process"]},
        {"comparison": "ray, 2 workers / ray, 1 worker",
         "seed": summary.query("executor == 'ray' and workers == 2").iloc[0]["archs_per_min"] / ray1["archs_per_min"],
         "process": summary.query("executor == 'ray' and workers == 2").iloc[0]["archs_per_min_process"]
         / ray1["archs_per_min_process"]},
        {"comparison": "ray, 2 workers / 1 worker in-process (1 thread)",
         "seed": summary.query("executor == 'ray' and workers == 2").iloc[0]["archs_per_min"] / base["archs_per_min"],
         "process": summary.query("executor == 'ray' and workers == 2").iloc[0]["archs_per_min_process"]
         / base["archs_per_min_process"]},
    ])
    body = (
        f"`surrogate-nas seed --dataset digits -n {args.n} --epochs {args.epochs} -C {args.channels} "
        f"-N {args.cells}` with the execution options below, the same {args.n} architectures in every row, "
        f"mean of {args.repeats} interleaved runs, each in a fresh folder. `seed_wall_s` is the wall time "
        "the command reports for its own work (loading data, claims, training, storing, MLflow); "
        "`process_wall_s` adds interpreter and library start-up and, for Ray, starting and stopping a "
        "local instance. Goal: 2 workers at least 1.6x the throughput of 1 on this 2-core machine.\n\n"
        + markdown_table(summary, ".2f") + "\n\nThroughput ratios (architectures per minute):\n\n"
        + markdown_table(ratios, ".2f")
    )
    write_section("parallel_live", "Parallel training: `seed --workers 2` against `--workers 1`", body)
    print(summary.to_string(index=False))
    print(ratios.to_string(index=False))


def to_threshold(frame: pd.DataFrame, threshold: float) -> tuple[float, float]:
    """(simulated seconds, evaluations) until regret <= threshold; NaN when never reached."""
    hit = frame.index[frame["regret"].to_numpy() <= threshold + 1e-12]
    if len(hit) == 0:
        return float("nan"), float("nan")
    row = frame.loc[hit[0]]
    return float(row["sim_time_s"]), float(row["step"])


def _simulated_run(job) -> pd.DataFrame:
    """One asynchronous search on ``workers`` simulated workers (a process of its own with ``--jobs``)."""
    from surrogate_nas.pipelines.search.benchmark import benchmark_search
    from surrogate_nas.tables import load_benchmark

    benchmark, strategy, budget, workers, seed = job
    start = time.perf_counter()
    curves = benchmark_search(load_benchmark(benchmark), [strategy], budget=budget, seeds=[seed], workers=workers)
    print(f"  {workers} workers, seed {seed}: {time.perf_counter() - start:.0f}s", flush=True)
    return curves.assign(workers=workers)


def simulated(args) -> None:
    from surrogate_nas.tables import load_benchmark

    table = load_benchmark(args.benchmark)
    jobs = [(args.benchmark, args.strategy, args.budget, w, s) for w in args.workers for s in range(args.seeds)]
    with ProcessPoolExecutor(args.jobs) as pool:
        curves = pd.concat(list(pool.map(_simulated_run, jobs)), ignore_index=True)
    curves.insert(0, "workers", curves.pop("workers"))
    save_frame(curves, "parallel_simulated_curves")
    rows = []
    for (workers, seed), frame in curves.groupby(["workers", "seed"], sort=False):
        frame = frame.reset_index(drop=True)
        t, n = to_threshold(frame, args.threshold)
        at = frame.loc[frame["step"] == min(100, args.budget), "regret"]
        rows.append({"workers": workers, "seed": seed, "sim_hours_to_target": t / 3600, "evals_to_target": n,
                     "regret_at_100": float(at.iloc[0]) if len(at) else float("nan"),
                     "sim_hours_at_100": float(frame.loc[frame["step"] == min(100, args.budget),
                                                         "sim_time_s"].iloc[0]) / 3600})
    per_run = pd.DataFrame(rows)
    save_frame(per_run, "parallel_simulated")
    summary = per_run.groupby("workers", sort=True).agg(
        reached=("evals_to_target", lambda s: f"{s.notna().sum()}/{len(s)}"),
        sim_hours_to_target=("sim_hours_to_target", "median"),
        evals_to_target=("evals_to_target", "median"),
        regret_at_100=("regret_at_100", "mean"),
        regret_at_100_se=("regret_at_100", lambda s: s.std(ddof=1) / np.sqrt(len(s)) if len(s) > 1 else 0.0),
        sim_hours_at_100=("sim_hours_at_100", "median"),
    ).reset_index()
    one = summary[summary["workers"] == 1]
    if len(one):
        summary["time_vs_1_worker"] = summary["sim_hours_to_target"] / one["sim_hours_to_target"].iloc[0]
        summary["evals_vs_1_worker"] = summary["evals_to_target"] / one["evals_to_target"].iloc[0]
    body = (
        f"Asynchronous `{args.strategy}` on `{args.benchmark}`, {args.seeds} seeds per worker count, budget "
        f"{args.budget}. Each evaluation occupies a simulated worker for the table's training time "
        f"(`{table.cost_column}`); a new suggestion is asked for as soon as a worker frees up, with the "
        f"still-running architectures as pending points. Target: regret <= {args.threshold} (percentage "
        "points of validation accuracy). Times and evaluations to the target are medians over the seeds "
        "that reached it (`reached`); regret at 100 evaluations is mean ± s.e. Goal: 8 workers reach the "
        "target in at most 1/5 of the 1-worker simulated time with at most 1.5x its evaluations.\n\n"
        + markdown_table(summary, ".3f")
    )
    write_section("parallel_simulated", "Asynchronous BO on simulated workers (NAS-Bench-201)", body)
    print(summary.to_string(index=False))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    lv = sub.add_parser("live", help="seed throughput with 1 and 2 workers, local and Ray")
    lv.add_argument("--n", type=int, default=8)
    lv.add_argument("--epochs", type=int, default=4)
    lv.add_argument("--channels", type=int, default=16)
    lv.add_argument("--cells", type=int, default=1)
    lv.add_argument("--repeats", type=int, default=2)
    sm = sub.add_parser("simulated", help="asynchronous BO on a table with simulated workers")
    sm.add_argument("--benchmark", default="nb201-cifar10")
    sm.add_argument("--strategy", default="bo")
    sm.add_argument("--seeds", type=int, default=20)
    sm.add_argument("--budget", type=int, default=100)
    sm.add_argument("--workers", type=int, nargs="+", default=[1, 4, 8, 16])
    sm.add_argument("--threshold", type=float, default=0.1)
    sm.add_argument("--jobs", type=int, default=1, help="searches run in this many processes")
    add_run_args(p)
    args = p.parse_args()
    start_run(args.allow_dirty)
    live(args) if args.what == "live" else simulated(args)


if __name__ == "__main__":
    main()
