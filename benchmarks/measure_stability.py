"""Measure 50 NAS-Bench-201 cells twice on this machine: do the two measurements rank them alike?

``surrogate-nas measure`` times a built network's forward pass (warm-up, median of repeats,
outliers rejected; :mod:`surrogate_nas.latency`). On a shared machine another process takes the
core now and then, so two measurements never agree exactly; what a latency objective needs is
that they rank the networks alike. This script samples 50 cells (seed 0), builds each as
NAS-Bench-201's network (C=16, N=5, 32x32 RGB inputs, batch 1, one torch thread), measures all
of them once, then again in reverse order beside a process that keeps one core busy, and reports
the Spearman rank correlation of the two, each pass's spread and their relative differences.

    python benchmarks/measure_stability.py
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import add_run_args, markdown_table, save_frame, start_run, write_section  # noqa: E402

from surrogate_nas.pipelines.ship.measure import measure, write_csv  # noqa: E402

SETTINGS = {"space": "nb201", "channels": 16, "cells_per_stage": 5, "input_shape": (3, 32, 32), "batch_size": 1,
            "threads": 1, "repeats": 30, "warmup": 5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="cells to measure")
    add_run_args(parser)
    args = parser.parse_args()
    start_run(args.allow_dirty)
    first = measure(sample=args.n, seed=0, **SETTINGS)
    listed = Path("/tmp") / "measure_stability_archs.csv"
    write_csv(first.iloc[::-1][["arch"]], listed)  # the second pass runs in reverse order
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        second = measure(archs_file=str(listed), **SETTINGS).set_index("arch").loc[first["arch"]].reset_index()
    finally:
        busy.kill()
        busy.wait()
    frame = pd.DataFrame({"arch": first["arch"], "params": first["params"],
                          "quiet_ms": first["latency_ms"], "quiet_spread_pct": first["spread_pct"],
                          "busy_ms": second["latency_ms"], "busy_spread_pct": second["spread_pct"]})
    frame["diff_pct"] = 100 * (frame["busy_ms"] - frame["quiet_ms"]) / frame["quiet_ms"]
    save_frame(frame, "measure_stability")
    rho = float(spearmanr(frame["quiet_ms"], frame["busy_ms"]).statistic)
    summary = pd.DataFrame([
        {"pass": "1: quiet", "median ms": frame["quiet_ms"].median(), "min ms": frame["quiet_ms"].min(),
         "max ms": frame["quiet_ms"].max(), "median spread %": frame["quiet_spread_pct"].median(),
         "max spread %": frame["quiet_spread_pct"].max()},
        {"pass": "2: reversed, one core busy", "median ms": frame["busy_ms"].median(),
         "min ms": frame["busy_ms"].min(), "max ms": frame["busy_ms"].max(),
         "median spread %": frame["busy_spread_pct"].median(), "max spread %": frame["busy_spread_pct"].max()},
    ])
    body = f"""
`surrogate-nas measure` on {args.n} NAS-Bench-201 cells sampled with seed 0, each built as
NAS-Bench-201's network (C=16, N=5, 3x32x32 inputs, batch 1, one torch thread, CPU; 5 warm-up
passes, then 30 rounds timing every network once, the median of each network's 30 after rejecting
those beyond 3 scaled MADs). Pass 2 measured
the same cells in reverse order while another process kept one core busy. **Spearman rank
correlation of the two passes: {rho:.3f}**; the passes differ by a median of
{frame['diff_pct'].abs().median():.1f}% per cell (at most {frame['diff_pct'].abs().max():.1f}%).
A spread is the interquartile range of a cell's kept repeats in percent of its median.

{markdown_table(summary, ".3g")}
"""
    write_section("measure_stability", "Latency measured twice on a shared machine", body)
    print(summary.to_string())
    print(f"Spearman {rho:.3f}")


if __name__ == "__main__":
    main()
