"""Same seed, same search: the README's search commands, each run twice, compared byte for byte.

Every ``surrogate-nas search`` command of the README that runs on what the package ships
(the named tables, scikit-learn's digits) and on one worker is run twice from fresh folders
with ``--output trace.csv --no-mlflow`` added, the second time with a process spinning on a
CPU core beside it; a third run of each table command is killed with SIGKILL once it has stored
a few evaluations and rerun to the end. The traces must be identical (a live search's training
seconds are measurements and left out of its comparison). (Live searches on several
workers finish trainings in the order the machine does, so only their trainings, not their
order, are reproducible: they are left out.)

    python benchmarks/same_seed.py
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import ROOT, add_run_args, markdown_table, start_run, write_section  # noqa: E402

MEASURED = ("cost_s", "cum_cost_s")
"""Trace columns a live search measures (training seconds) rather than decides."""

COMMANDS = [
    "surrogate-nas search --benchmark nb201-cifar10 --strategy bo --surrogate xgb --budget 100",
    "surrogate-nas search --benchmark nb201-cifar10 --objectives accuracy,latency@pixel3 --budget 100",
    "surrogate-nas search --benchmark nb201-cifar10 --objectives accuracy,latency@pixel3,params --budget 100",
    'surrogate-nas search --benchmark nb201-cifar10 --constraint "latency@pixel3<=5" --budget 100',
    "surrogate-nas search --benchmark nb201-cifar10 --strategy mf-bo --budget 1000 --max-cost 50000",
    "surrogate-nas search --benchmark nb201-cifar10 --strategy bo --budget 100 --workers 8",
    "surrogate-nas search --space darts --benchmark digits --strategy bo --budget 6 --epochs 1 -C 8",
    "surrogate-nas search --space macro --benchmark digits --objectives accuracy,params --budget 12 --epochs 2 -C 8",
]
"""The README's commands checked here (each must appear in the README as written)."""


class Busy:
    """A process spinning on a CPU core while the block runs."""

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def run(command: str, folder: Path, kill_after: int | None = None) -> float:
    """Run ``command`` (plus ``--output trace.csv --no-mlflow``) in ``folder``; seconds it took.
    ``kill_after``: SIGKILL it once that many trials are stored, then run it again to the end."""
    folder.mkdir(parents=True)
    argv = [str(Path(sys.executable).parent / "surrogate-nas"), *shlex.split(command)[1:], "--output", "trace.csv",
            "--no-mlflow"]
    env = {**os.environ, "SURROGATE_NAS_DB": f"sqlite:///{folder / 'nas.db'}"}
    start = time.perf_counter()
    if kill_after is not None:
        from surrogate_nas.storage import open_store

        proc = subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stored = 0
        while proc.poll() is None and stored < kill_after:
            time.sleep(0.1)
            try:
                with open_store(env["SURROGATE_NAS_DB"]) as store:
                    stored = sum(len(store.trials(s.id)) for s in store.searches())
            except Exception:  # noqa: BLE001 - the database may not exist yet
                pass
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{command} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - start


def identical(a: Path, b: Path, live: bool) -> bool:
    """Whether two traces are the same: byte for byte, but for a live search's training seconds.

    A live training's ``cost_s`` (and so ``cum_cost_s``) is how long it took, a measurement; every
    architecture, value and decision of the search must still match."""
    if not live:
        return a.read_bytes() == b.read_bytes()
    first, second = (pd.read_csv(p).drop(columns=list(MEASURED)) for p in (a, b))
    return first.equals(second)


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_args(parser)
    args = parser.parse_args(argv)
    start_run(args.allow_dirty)
    readme = (ROOT / "README.md").read_text()
    missing = [c for c in COMMANDS if c not in readme]
    if missing:
        raise SystemExit(f"not in the README as written: {missing}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, command in enumerate(COMMANDS):
            first = run(command, Path(tmp) / f"{i}-a")
            with Busy():
                second = run(command, Path(tmp) / f"{i}-b")
            table = "digits" not in command
            killed = run(command, Path(tmp) / f"{i}-c", kill_after=12) if table else None
            a = Path(tmp) / f"{i}-a" / "trace.csv"
            same = identical(a, Path(tmp) / f"{i}-b" / "trace.csv", live=not table)
            after_kill = "" if killed is None else ("yes" if identical(a, Path(tmp) / f"{i}-c" / "trace.csv", live=False)
                                                   else "NO")
            rows.append({"command": f"`{command}`", "evaluations": len(pd.read_csv(Path(tmp) / f"{i}-a" / "trace.csv")),
                         "identical under load": "yes" if same else "NO",
                         "identical after SIGKILL and rerun": after_kill or "(live)",
                         "seconds (idle / busy)": f"{first:.0f} / {second:.0f}"})
            print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    write_section("same_seed", "Same seed, same search: the README's commands run twice", f"""
Each command run twice from fresh folders (`--output trace.csv --no-mlflow` added), the second
time beside a process spinning on a CPU core; each table command also killed with SIGKILL
after 12 stored evaluations and rerun. "yes": the trace CSVs are byte-identical (for a live
search, all but the measured training seconds, {", ".join(f"`{c}`" for c in MEASURED)}: every
architecture, value and decision).

{markdown_table(frame)}
""")
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
