"""Training throughput and framework overhead of ``surrogate-nas seed``.

Runs the real console script on digits in a fresh folder (fresh SQLite
database, fresh MLflow store) and compares its wall time with the sum of the
pure training times the trainer itself measured, both from the same run:

* throughput: architectures trained per minute of wall time;
* overhead: (wall - training) / training, for the ``seed`` work itself
  (sampling, claims, storing, MLflow logging) and for the whole process
  (which also pays Python, torch and MLflow start-up once).

Usage: python benchmarks/seed_throughput.py [--n 8] [--epochs 5] [--channels 16] [--cells 1] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import add_run_args, markdown_table, save_frame, write_section, start_run  # noqa: E402

from surrogate_nas.storage import open_store  # noqa: E402

CLI = str(Path(sys.executable).parent / "surrogate-nas")


def one_run(args, repeat: int, mlflow: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, MLFLOW_TRACKING_URI=f"sqlite:///{tmp}/mlruns/mlflow.db",
                   SURROGATE_NAS_DB=f"sqlite:///{tmp}/nas.db")
        cmd = [CLI, "seed", "--dataset", "digits", "-n", str(args.n), "--epochs", str(args.epochs),
               "-C", str(args.channels), "-N", str(args.cells), "--seed", str(repeat)]
        if not mlflow:
            cmd.append("--no-mlflow")
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
        process_wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"seed failed:\n{proc.stderr[-2000:]}")
        m = re.search(r"trained (\d+) new \S+ architectures on \S+ in ([\d.]+)s \(([\d.]+)s of training\)", proc.stdout)
        seed_wall = float(m.group(2))
        evals = open_store(env["SURROGATE_NAS_DB"]).evaluations()
        train = sum(e.train_seconds for e in evals)
        return {
            "mlflow": mlflow, "repeat": repeat, "archs": len(evals), "train_s": train,
            "seed_wall_s": seed_wall, "process_wall_s": process_wall,
            "archs_per_min": 60 * len(evals) / process_wall,
            "seed_overhead_pct": 100 * (seed_wall - train) / train,
            "process_overhead_pct": 100 * (process_wall - train) / train,
        }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--cells", type=int, default=1)
    p.add_argument("--repeats", type=int, default=2)
    add_run_args(p)
    args = p.parse_args()
    start_run(args.allow_dirty)
    rows = [one_run(args, r, mlflow) for r in range(args.repeats) for mlflow in (True, False)]
    df = pd.DataFrame(rows)
    save_frame(df, "seed_throughput")
    summary = df.groupby("mlflow", sort=False)[
        ["archs_per_min", "train_s", "seed_wall_s", "process_wall_s", "seed_overhead_pct", "process_overhead_pct"]
    ].mean().reset_index()
    body = (
        f"`seed` on digits, {args.n} architectures x {args.epochs} epochs, C={args.channels}, N={args.cells}, "
        f"CPU, mean of {args.repeats} runs per row (each in a fresh folder). `train_s` is the sum of the "
        "trainer's own per-architecture timings; `seed_overhead_pct` is the `seed` work around training "
        "(sampling, database claims, MLflow logging); `process_overhead_pct` adds process start-up "
        "(Python, torch and MLflow imports, store creation). Goal: seed overhead at most 10%.\n\n"
        + markdown_table(summary, ".2f")
    )
    write_section("seed_throughput", "Training throughput and framework overhead (`seed`)", body)
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
