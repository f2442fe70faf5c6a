"""Search a user's own table: real trainings of the ``macro`` space on digits, exported and searched.

This is what a practitioner with a table of already-evaluated configurations does, end to end:

1. train ``--archs`` random configurations of the MobileNet-style ``macro`` space on digits for
   real (``surrogate_nas.seed``; resumable: the database under ``results/own_table/`` keeps what
   is done);
2. export them as ``surrogate-nas db export`` does and read the file back as a user table
   (``--space macro``, target ``valid_acc``); the table is kept in
   ``docs/results/own_table_macro_digits.csv``;
3. replay BO, random search, regularized evolution and local search on that table for
   ``--seeds`` seeds at budgets 50 and 100 (with the package's defaults: nothing is tuned to
   this table) and write the regret table to ``docs/benchmarks.md``.

    python benchmarks/own_table.py --archs 300 --epochs 2 --channels 8 --seeds 10
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import RESULTS, markdown_table, write_section  # noqa: E402

import surrogate_nas  # noqa: E402
from surrogate_nas.pipelines.search.benchmark import benchmark_search, optimum_hits, summarize_regret  # noqa: E402
from surrogate_nas.storage import open_store  # noqa: E402
from surrogate_nas.tables import load_csv  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "results" / "own_table"
TABLE = RESULTS / "own_table_macro_digits.csv"
STRATEGIES = ["bo-gp", "bo-xgb", "rs", "rea", "ls"]


def build_table(archs: int, epochs: int, channels: int) -> Path:
    """Train (or find) the configurations and export them as a user would."""
    import torch

    torch.set_num_threads(1)
    db = f"sqlite:///{WORK / 'nas.db'}"
    WORK.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    done = [0]

    def progress(outcome) -> None:
        done[0] += 1
        if done[0] % 25 == 0:
            print(f"  {done[0]}/{archs} configurations after {time.perf_counter() - start:.0f}s", flush=True)

    report = surrogate_nas.seed("macro", "digits", archs, epochs=epochs, channels=channels, seed=0, db=db,
                                mlflow=False, progress=progress, device="cpu")
    print(f"trained {len(report.trained)} new, {report.found} found, in {report.wall_seconds:.0f}s")
    store = open_store(db)
    exported = WORK / "export.csv"
    store.export(exported, space="macro", status="ok")
    frame = pd.read_csv(exported)
    frame[["arch", "valid_acc", "test_acc", "params", "flops", "train_seconds"]].to_csv(TABLE, index=False)
    return TABLE


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--reuse-table", action="store_true", help="search the committed table, train nothing")
    args = parser.parse_args(argv)

    path = TABLE if args.reuse_table else build_table(args.archs, args.epochs, args.channels)
    table = load_csv(path, "valid_acc", space="macro", test_column="test_acc", size_column="params",
                     cost_column="train_seconds")
    values = table.values()
    print(f"{len(table)} configurations: valid accuracy {values.min():.2f}-{values.max():.2f} (optimum {table.optimum:.2f})")
    curves = benchmark_search(table, STRATEGIES, 100, args.seeds, args.batch_size,
                              progress=lambda name, seed, _: print(f"  {name} seed {seed}", flush=True))
    summary = summarize_regret(curves, (50, 100))
    summary["regret"] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(summary["mean"], summary["se"])]
    wide = summary.pivot(index="strategy", columns="step", values="regret").reindex(STRATEGIES).reset_index()
    wide.columns = ["strategy", "regret after 50", "regret after 100"]
    hits = optimum_hits(curves, within=100).set_index("strategy").reindex(STRATEGIES)
    wide["best found within 100"] = [f"{f:.0%}" for f in hits["found_fraction"]]
    space = surrogate_nas.get_space("macro")
    archs = [space.parse(a) for a in table.frame["arch"]]
    keys = {a.canonical_key for a in archs}
    with_neighbour = sum(any(n.canonical_key in keys for n in space.neighbours(a)) for a in archs) / len(archs)
    body = "\n".join([
        f"The `macro` space (MobileNet-style: blocks, width, kernel and expansion per stage; 157,464 networks) "
        f"trained for real on digits: {len(table)} random configurations, C={args.channels}, {args.epochs} epochs "
        f"(train the table: `python benchmarks/own_table.py --archs {args.archs} --epochs {args.epochs} "
        f"--channels {args.channels}`), exported with the database export and read back as a user table "
        f"(`--space macro --benchmark {TABLE.relative_to(ROOT)} --metric valid_acc`). Valid accuracy "
        f"{values.min():.2f}-{values.max():.2f} %. Regret = best in the table - best found, mean ± s.e. over "
        f"{args.seeds} seeds, batch {args.batch_size}; every strategy with the package's defaults. "
        f"Only {with_neighbour:.0%} of the configurations have a one-change neighbour in the table, so local "
        "search (`ls`) finds nothing to climb and restarts at random: it coincides with `rs` here.",
        "",
        markdown_table(wide),
    ])
    write_section("own_table", "Your own table: search a user's table of real trainings", body)
    print(body)
    mean = summary.set_index(["strategy", "step"])["mean"]
    for step in (50, 100):
        print(f"at {step}: bo-gp {mean[('bo-gp', step)]:.3f}, rs {mean[('rs', step)]:.3f}")


if __name__ == "__main__":
    main()
