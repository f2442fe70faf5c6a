"""Measure the speeds of the BO step's cost model (CPU seconds per unit of each part's shape).

:mod:`surrogate_nas.pipelines.search.bo.budget` plans a step from counts with fixed speeds,
so that a seeded search decides the same on any load; those speeds are this script's
medians, measured in CPU time (``time.process_time``, one torch thread), which a busy
machine barely changes. Each part of a classic step is timed on NAS-Bench-201 at several
history sizes, shortlists and objective counts:

* ``fit``: the GPs' marginal-likelihood fits on every row (60 L-BFGS iterations);
* ``post``: conditioning on every row and screening every candidate's marginals;
* ``acq`` / ``acq_mo``: choosing 4 of ``s`` shortlisted candidates with qLogNEI / with the
  multi-objective acquisition (2 and 3 objectives; 3 at 32 and 128 Monte-Carlo samples).

    python benchmarks/step_costs.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import add_run_args, markdown_table, save_frame, start_run, write_section  # noqa: E402

from surrogate_nas.pipelines.search.history import Suggestion, Trial  # noqa: E402
from surrogate_nas.pipelines.search.bo.budget import (  # noqa: E402
    FULL_ITERATIONS, REFERENCE_COSTS, acq_shape, fit_shape, post_shape,
)
from surrogate_nas.pipelines.search.strategies.bayesopt import BayesianOptimization  # noqa: E402
from surrogate_nas.tables import load_benchmark  # noqa: E402


def rich_step(space, table, objectives: list[str], n: int, shortlist: int, mc_samples: int, seed: int = 0) -> dict:
    """CPU seconds of each part of one BO step that affords everything (refit on every row, every
    candidate screened, the bounded baseline and joint posterior of a budgeted step) after ``n``
    random evaluations, with one suggestion pending, choosing 4."""
    listed = space.enumerate()
    rng = np.random.default_rng(seed)
    archs = [listed[i] for i in rng.choice(len(listed), n + 1, replace=False)]
    names = [o.split(":")[0] for o in objectives]
    bo = BayesianOptimization(space, objectives if len(objectives) > 1 else None, seed=seed, shortlist=shortlist,
                              step_seconds=1e6, mc_samples=mc_samples)
    bo.tell([Trial(a, table.lookup(a, names[0]), {k: table.lookup(a, k) for k in names}) for a in archs[:n]])
    bo.suggest(4, [Suggestion(archs[n])])
    return bo.last_timing


def main(argv=None) -> None:
    parser = add_run_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    start_run(parser.parse_args(argv).allow_dirty)
    torch.set_num_threads(1)
    nb201 = load_benchmark("nb201-cifar10")
    space = nb201.search_space()
    candidates = len(space.enumerate())
    objectives = ["cifar10_valid_acc_200ep", "params_mb_cifar10:min", "lat_ms_pixel3:min"]
    rows = []
    for m in (1, 2, 3):
        for n in (100, 300):
            for s in (64, 256):
                for mc in ((128,) if m < 3 else (32, 128)):
                    t = rich_step(space, nb201, objectives[:m], n, s, mc)
                    rows.append({"objectives": m, "rows": n, "shortlist": s, "mc_samples": mc,
                                 "fit_cpu_s": t["fit_cpu_s"], "fit_units": fit_shape(n, FULL_ITERATIONS, m),
                                 "screen_cpu_s": t["screen_cpu_s"], "screen_units": post_shape(n, candidates, m),
                                 "acq_cpu_s": t["acq_cpu_s"], "acq_units": acq_shape(s, m, mc)})
                    print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    for part in ("fit", "screen", "acq"):
        frame[f"{part}_s_per_unit"] = frame[f"{part}_cpu_s"] / frame[f"{part}_units"]
    save_frame(frame, "step_costs")
    speeds = {"fit": frame["fit_s_per_unit"].median(), "post": frame["screen_s_per_unit"].median(),
              "acq": frame.loc[frame.objectives == 1, "acq_s_per_unit"].median(),
              **{f"acq_mo ({m} objectives)": frame.loc[frame.objectives == m, "acq_s_per_unit"].median()
                 for m in (2, 3)}}  # with PARTITION_COST folded into the 3-objective units
    fixed = ", ".join(f"`{k}` {getattr(REFERENCE_COSTS, k):.3g}" for k in ("fit", "post", "acq", "acq_mo"))
    shown = frame[["objectives", "rows", "shortlist", "mc_samples", "fit_cpu_s", "fit_s_per_unit", "screen_cpu_s",
                   "screen_s_per_unit", "acq_cpu_s", "acq_s_per_unit"]]
    write_section("step_costs", "Speeds of the BO step's cost model", f"""
CPU seconds (one torch thread) of each part of a classic BO step on NAS-Bench-201 (CIFAR-10
table, {candidates:,} candidates, one suggestion pending, choosing 4) after ``rows`` random
evaluations, and the seconds per unit of the part's shape in
`pipelines/search/bo/budget.py`. Medians per part: {", ".join(f"{k} {v:.3g}"
for k, v in speeds.items())}. The planner's fixed speeds are {fixed}.

{markdown_table(shown, ".4g")}
""")
    print(frame.to_string())


if __name__ == "__main__":
    main()
