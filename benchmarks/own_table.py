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

The table is made by this script (step 1-2) and by nothing else. Training needs only the
package (digits ships with scikit-learn, so it runs offline) and CPU time: the committed table's 300
configurations (2 epochs, 8 channels) add up to 18 minutes of training (its ``train_seconds``). The trainings are
kept in ``--work`` (default ``results/own_table/nas.db``, ignored by git), so a second run
trains nothing; the exported table is committed as ``docs/results/own_table_macro_digits.csv``
and ``--reuse-table`` searches it without training. The export writes every finished
``macro`` training in the work database, so a smaller ``--archs`` after a larger one still
exports the larger table: use another ``--work`` (and ``--table``) for a small try.

Why ``ls`` (and mostly ``rea``) behave like ``rs`` here: the table is a
:class:`~surrogate_nas.spaces.subset.SubsetSpace` of 300 of the macro space's 157,464 networks,
and its ``neighbours`` are only the one-change neighbours that are *in the table*. Few
configurations have any (the section prints the share), so local search's centre has no
neighbour to climb, it restarts at a random unseen configuration, and its whole search draws
random configurations from the same seeded generator as ``rs``: the two curves coincide
exactly. Regularized evolution's ``mutate`` also falls back to a random unseen configuration
when the parent has no unevaluated neighbour in the table, so after its random population it
is random search in a different draw order. This is what a user with a sparse table of
their own gets; BO's surrogate generalises across configurations and does not need
neighbours in the table.

    python benchmarks/own_table.py --archs 300 --epochs 2 --channels 8 --seeds 10
    python benchmarks/own_table.py --reuse-table --seeds 10                 # search the committed table
    python benchmarks/own_table.py --reuse-table --seeds 2 --budget 30 --allow-dirty   # a dry run
    python benchmarks/own_table.py --archs 8 --epochs 1 --work /tmp/own --table /tmp/own/t.csv \
        --seeds 2 --budget 6 --allow-dirty                                  # a dry run of the training path
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import RESULTS, add_run_args, markdown_table, start_run, write_section  # noqa: E402

import surrogate_nas  # noqa: E402
from surrogate_nas.pipelines.search.benchmark import benchmark_search, optimum_hits, summarize_regret  # noqa: E402
from surrogate_nas.storage import open_store  # noqa: E402
from surrogate_nas.tables import load_csv  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "results" / "own_table"
TABLE = RESULTS / "own_table_macro_digits.csv"
STRATEGIES = ["bo-gp", "bo-xgb", "rs", "rea", "ls"]


def build_table(archs: int, epochs: int, channels: int, work: Path = WORK, table: Path = TABLE) -> Path:
    """Train (or find, in ``work``) the configurations and export them to ``table`` as a user would."""
    import torch

    torch.set_num_threads(1)
    work, table = Path(work), Path(table)
    db = f"sqlite:///{work / 'nas.db'}"
    work.mkdir(parents=True, exist_ok=True)
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
    exported = work / "export.csv"
    store.export(exported, space="macro", status="ok")
    frame = pd.read_csv(exported)
    table.parent.mkdir(parents=True, exist_ok=True)
    frame[["arch", "valid_acc", "test_acc", "params", "flops", "train_seconds"]].to_csv(table, index=False)
    return table


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--budget", type=int, default=100, help="evaluations per search (regret at 50 and this)")
    parser.add_argument("--reuse-table", action="store_true", help="search the table at --table, train nothing")
    parser.add_argument("--work", default=str(WORK), help="where the trainings' database is kept")
    parser.add_argument("--table", default=str(TABLE), help="the exported table (default: the committed one)")
    add_run_args(parser)
    args = parser.parse_args(argv)
    start_run(args.allow_dirty)

    path = Path(args.table)
    if args.reuse_table and not path.exists():
        raise SystemExit(f"{path} does not exist: train it first (drop --reuse-table)")
    if not args.reuse_table:
        build_table(args.archs, args.epochs, args.channels, Path(args.work), path)
    table = load_csv(path, "valid_acc", space="macro", test_column="test_acc", size_column="params",
                     cost_column="train_seconds")
    values = table.values()
    print(f"{len(table)} configurations: valid accuracy {values.min():.2f}-{values.max():.2f} (optimum {table.optimum:.2f})")
    steps = sorted({min(50, args.budget), args.budget})
    curves = benchmark_search(table, STRATEGIES, args.budget, args.seeds, args.batch_size,
                              progress=lambda name, seed, _: print(f"  {name} seed {seed}", flush=True))
    summary = summarize_regret(curves, steps)
    summary["regret"] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(summary["mean"], summary["se"])]
    wide = summary.pivot(index="strategy", columns="step", values="regret").reindex(STRATEGIES).reset_index()
    wide.columns = ["strategy", *[f"regret after {s}" for s in steps]]
    hits = optimum_hits(curves, within=args.budget).set_index("strategy").reindex(STRATEGIES)
    wide[f"best found within {args.budget}"] = [f"{f:.0%}" for f in hits["found_fraction"]]
    same = {name: curves[curves["strategy"] == name]["arch"].tolist() for name in ("rs", "ls", "rea")}
    space = surrogate_nas.get_space("macro")
    archs = [space.parse(a) for a in table.frame["arch"]]
    keys = {a.canonical_key for a in archs}
    with_neighbour = sum(any(n.canonical_key in keys for n in space.neighbours(a)) for a in archs) / len(archs)
    body = "\n".join([
        f"The `macro` space (MobileNet-style: blocks, width, kernel and expansion per stage; 157,464 networks) "
        f"trained for real on digits: {len(table)} random configurations, C={args.channels}, {args.epochs} epochs "
        f"(train the table: `python benchmarks/own_table.py --archs {args.archs} --epochs {args.epochs} "
        f"--channels {args.channels}`), exported with the database export and read back as a user table "
        f"(`--space macro --benchmark {_shown(path)} --metric valid_acc`). Valid accuracy "
        f"{values.min():.2f}-{values.max():.2f} %. Regret = best in the table - best found, mean ± s.e. over "
        f"{args.seeds} seeds, batch {args.batch_size}; every strategy with the package's defaults. "
        f"Only {with_neighbour:.0%} of the configurations have a one-change neighbour in the table, so local "
        "search (`ls`) finds nothing to climb and restarts at a random configuration, drawn from the same seeded "
        "generator as `rs`: its evaluations are "
        + ("exactly those of `rs` here" if same["ls"] == same["rs"] else "not all those of `rs` here")
        + "; regularized evolution's mutations fall back to random configurations for the same reason (see the "
        "script's docstring).",
        "",
        markdown_table(wide),
    ])
    write_section("own_table", "Your own table: search a user's table of real trainings", body)
    print(body)
    mean = summary.set_index(["strategy", "step"])["mean"]
    for step in steps:
        print(f"at {step}: bo-gp {mean[('bo-gp', step)]:.3f}, rs {mean[('rs', step)]:.3f}")


def _shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    main()
