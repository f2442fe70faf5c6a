"""Regenerate ``surrogate_nas/tables/data/nb201_proxies.csv.gz``: zero-cost proxies of all cells.

Proxies are computed once per canonical key (6,466 representatives) at the default
:class:`~surrogate_nas.predictors.proxies.ProxySetting` and broadcast to all 15,625
cells, one row per cell in ``all_cells()`` order. Prints the Spearman rank
correlation of each proxy with ``cifar10_valid_acc_200ep``.

Usage::

    python benchmarks/compute_proxies.py --workers 2
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

from surrogate_nas.cell import all_cells, canonical_cells
from surrogate_nas.predictors.proxies import DEFAULT_SETTING, PROXY_CACHE_FILE, PROXY_NAMES, compute_proxies
from surrogate_nas.tables import load_benchmark

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "surrogate_nas" / "tables" / "data" / PROXY_CACHE_FILE


def _init_worker() -> None:
    torch.set_num_threads(1)


def _score(arch: str) -> tuple[float, ...]:
    from surrogate_nas.cell import Cell

    scores = compute_proxies(Cell.from_string(arch), DEFAULT_SETTING)
    return tuple(scores[name] for name in PROXY_NAMES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="only the first N canonical cells (a check)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    reps = list(canonical_cells())[: args.limit]
    start = time.time()
    with ProcessPoolExecutor(args.workers, initializer=_init_worker) as pool:
        rows = []
        for row in pool.map(_score, [c.to_string() for c in reps], chunksize=16):
            rows.append(row)
            if len(rows) % 500 == 0:
                print(f"{len(rows)}/{len(reps)} after {time.time() - start:.0f} s", flush=True)
    by_key = {c.canonical_key: r for c, r in zip(reps, rows)}
    print(f"{len(reps)} canonical cells in {time.time() - start:.0f} s with {args.workers} workers")

    cells = [c for c in all_cells() if c.canonical_key in by_key]
    frame = pd.DataFrame([by_key[c.canonical_key] for c in cells], columns=list(PROXY_NAMES))
    frame.insert(0, "arch", [c.to_string() for c in cells])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False, float_format="%.10g", compression={"method": "gzip", "mtime": 0})
    print(f"wrote {len(frame)} rows to {args.out}")

    table = load_benchmark("nb201-cifar10")
    acc = np.array([table.lookup(c) for c in cells])
    for name in PROXY_NAMES:
        rho = spearmanr(frame[name], acc)[0]
        print(f"Spearman({name}, {table.target}) = {rho:.3f} over {len(cells)} cells")


if __name__ == "__main__":
    main()
