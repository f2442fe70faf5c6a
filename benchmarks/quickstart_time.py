"""Wall time of ``surrogate-nas quickstart`` in a fresh folder (new database, new MLflow store).

Also times ``surrogate-nas seed --dataset digits -n 8 --epochs 2``, the foundation's
reference command. Both run as real subprocesses, exactly as a user types them.
Goals: quickstart under 5 minutes and seed under 2 minutes on 2 CPU cores.

Usage: python benchmarks/quickstart_time.py [--repeats 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import add_run_args, markdown_table, save_frame, write_section, start_run  # noqa: E402

CLI = str(Path(sys.executable).parent / "surrogate-nas")
COMMANDS = {
    "surrogate-nas quickstart": ["quickstart"],
    "surrogate-nas seed --dataset digits -n 8 --epochs 2": ["seed", "--dataset", "digits", "-n", "8", "--epochs", "2"],
}


def timed(args: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "SURROGATE_NAS_DB")}
        t0 = time.perf_counter()
        proc = subprocess.run([CLI, *args], cwd=tmp, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{args} failed:\n{proc.stderr[-2000:]}")
        return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=1)
    add_run_args(p)
    args = p.parse_args()
    start_run(args.allow_dirty)
    rows = [{"command": name, "repeat": r, "wall_s": timed(cmd)}
            for r in range(args.repeats) for name, cmd in COMMANDS.items()]
    df = pd.DataFrame(rows)
    save_frame(df, "quickstart_time")
    summary = df.groupby("command", sort=False)["wall_s"].agg(["mean", "max"]).reset_index()
    summary["goal_s"] = [300.0 if "quickstart" in c else 120.0 for c in summary["command"]]
    body = ("Each command in a fresh folder with defaults (new SQLite database, new MLflow store), "
            f"as a subprocess, {args.repeats} run(s); seconds of wall time including Python start-up.\n\n"
            + markdown_table(summary, ".1f"))
    write_section("quickstart_time", "End-to-end wall time of the main commands", body)
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
