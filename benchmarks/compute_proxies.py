"""Regenerate the shipped zero-cost proxy files in ``surrogate_nas/data/``.

* ``--space nb201`` (default): every one of the 15,625 NAS-Bench-201 cells, computed once
  per canonical key (6,466 representatives) and written in ``all_cells()`` order
  (``nb201_proxies.csv.gz``).
* ``--table nb101-cifar10-subset`` / ``--table darts-cifar10-subset``: every architecture of
  a named table, computed on the space's representative of each key
  (``nb101_proxies.csv.gz`` / ``darts_proxies.csv.gz``).

Scores are every proxy of :data:`surrogate_nas.proxies.PROXY_NAMES` from
:func:`surrogate_nas.proxies.compute_proxies` at the default
:class:`~surrogate_nas.proxies.ProxySetting`, one torch thread per worker. Prints the
Spearman rank correlation of each proxy with the table's target.

Usage::

    python benchmarks/compute_proxies.py --workers 2
    python benchmarks/compute_proxies.py --table nb101-cifar10-subset
    python benchmarks/compute_proxies.py --table darts-cifar10-subset --workers 2
    python benchmarks/compute_proxies.py --limit 200 --out /tmp/p.csv.gz   # quick check
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from surrogate_nas.proxies import DEFAULT_SETTING, PROXY_NAMES, compute_proxies
from surrogate_nas.spaces import get_space
from surrogate_nas.tables import NAMED_BENCHMARKS, load_benchmark

DATA = Path(__file__).resolve().parents[1] / "surrogate_nas" / "data"
OUTPUT = {"nb201": "nb201_proxies.csv.gz", "nb101": "nb101_proxies.csv.gz", "darts": "darts_proxies.csv.gz"}


def _init_worker() -> None:
    torch.set_num_threads(1)


def _score(job: tuple[str, str]) -> tuple[float, ...]:
    space_name, arch = job
    space = get_space(space_name)
    scores = compute_proxies(space, space.representative(space.parse(arch)), DEFAULT_SETTING)
    return tuple(scores[name] for name in PROXY_NAMES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="nb201", help="score every architecture of an enumerable space")
    parser.add_argument("--table", default=None, choices=sorted(NAMED_BENCHMARKS),
                        help="score the architectures of this named table instead")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="only the first N representatives (a check)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    if args.table:
        table = load_benchmark(args.table)
        space = table.space
        archs = table.architectures()
    else:
        space = get_space(args.space)
        table = load_benchmark("nb201-cifar10") if space.name == "nb201" else None
        archs = list(space.all_architectures())
    reps = list({a.canonical_key: a for a in archs}.values())[: args.limit]
    start = time.time()
    with ProcessPoolExecutor(args.workers, initializer=_init_worker) as pool:
        rows = []
        for row in pool.map(_score, [(space.name, a.to_string()) for a in reps], chunksize=8):
            rows.append(row)
            if len(rows) % 250 == 0:
                print(f"{len(rows)}/{len(reps)} after {time.time() - start:.0f} s", flush=True)
    by_key = {a.canonical_key: r for a, r in zip(reps, rows)}
    print(f"{len(reps)} representatives of {space.name} in {time.time() - start:.0f} s with {args.workers} workers")

    kept = [a for a in archs if a.canonical_key in by_key]
    frame = pd.DataFrame([by_key[a.canonical_key] for a in kept], columns=list(PROXY_NAMES))
    frame.insert(0, "arch", [a.to_string() for a in kept])
    out = args.out or DATA / OUTPUT[space.name]
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False, float_format="%.10g", compression={"method": "gzip", "mtime": 0})
    print(f"wrote {len(frame)} rows to {out}")

    if table is not None:
        target = np.array([table.lookup(a) for a in kept])
        for name in PROXY_NAMES:
            rho = spearmanr(frame[name], target)[0]
            print(f"Spearman({name}, {table.target}) = {rho:.3f} over {len(kept)} architectures")


if __name__ == "__main__":
    main()
