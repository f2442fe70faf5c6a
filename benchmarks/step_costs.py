"""Measure the speeds of the BO step's cost model (CPU seconds per unit of each part's shape).

:mod:`surrogate_nas.pipelines.search.bo.budget` plans a step from counts with fixed speeds,
so that a seeded search decides the same on any load; those speeds are this script's
medians, measured in CPU time (``time.process_time``, one torch thread), which a busy
machine barely changes. Each part of a classic step is timed on NAS-Bench-201 at several
history sizes, shortlists and objective counts:

* ``fit``: the GPs' marginal-likelihood fits on every row (60 L-BFGS iterations);
* ``post``: conditioning on every row and screening every candidate's marginals;
* ``acq`` / ``acq_mo``: choosing 4 of ``s`` shortlisted candidates with qLogNEI / with the
  multi-objective acquisition (2 objectives: accuracy and params; 3: and pixel3 latency). As in
  a search, the objectives the table knows exactly (params, latency) join the model as exact
  outputs. With three objectives the step is timed at 16 and 32 Monte-Carlo samples and 16, 32
  and 64 baseline points, and the cost model's two three-dimensional constants (scoring and
  partitioning, relative to two objectives' scoring) are fitted by least squares.

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
from surrogate_nas.pipelines.search.bo import budget  # noqa: E402
from surrogate_nas.pipelines.search.bo.budget import (  # noqa: E402
    BASELINE, FORWARD_COST_3D, FULL_ITERATIONS, PARTITION_COST_3D, REFERENCE_COSTS, acq_shape, fit_shape, post_shape,
)
from surrogate_nas.pipelines.search.evaluators import TabularEvaluator  # noqa: E402
from surrogate_nas.pipelines.search.strategies.bayesopt import BayesianOptimization  # noqa: E402
from surrogate_nas.tables import load_benchmark  # noqa: E402


def rich_step(space, table, objectives: list[str], n: int, shortlist: int, mc_samples: int, baseline: int = BASELINE,
              seed: int = 0) -> dict:
    """CPU seconds of each part of one BO step that affords everything (refit on every row, every
    candidate screened, the joint posterior of a budgeted step, a baseline of at most ``baseline``
    points) after ``n`` random evaluations, with one suggestion pending, choosing 4."""
    listed = space.enumerate()
    rng = np.random.default_rng(seed)
    archs = [listed[i] for i in rng.choice(len(listed), n + 1, replace=False)]
    names = [o.split(":")[0] for o in objectives]
    bo = BayesianOptimization(space, objectives if len(objectives) > 1 else None, seed=seed, shortlist=shortlist,
                              step_seconds=1e6, mc_samples=mc_samples)
    bo.use_known(TabularEvaluator(table, names).exact())
    bo.tell([Trial(a, table.lookup(a, names[0]), {k: table.lookup(a, k) for k in names}) for a in archs[:n]])
    saved, budget.BASELINE = budget.BASELINE, baseline  # the plan's most baseline points, for this step only
    try:
        bo.suggest(4, [Suggestion(archs[n])])
    finally:
        budget.BASELINE = saved
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
                grid = [(128, BASELINE)] if m < 3 else [(mc, b) for mc in (16, 32) for b in (16, 32, BASELINE)]
                for mc, b in grid:
                    t = rich_step(space, nb201, objectives[:m], n, s, mc, b)
                    rows.append({"objectives": m, "rows": n, "shortlist": s, "mc_samples": mc, "baseline": b,
                                 "fit_cpu_s": t["fit_cpu_s"], "fit_units": fit_shape(n, FULL_ITERATIONS, m),
                                 "screen_cpu_s": t["screen_cpu_s"], "screen_units": post_shape(n, candidates, m),
                                 "acq_cpu_s": t["acq_cpu_s"], "acq_units": acq_shape(s, m, mc, b)})
                    print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    for part in ("fit", "screen", "acq"):
        frame[f"{part}_s_per_unit"] = frame[f"{part}_cpu_s"] / frame[f"{part}_units"]
    save_frame(frame, "step_costs")
    speeds = {"fit": frame["fit_s_per_unit"].median(), "post": frame["screen_s_per_unit"].median(),
              "acq": frame.loc[frame.objectives == 1, "acq_s_per_unit"].median(),
              **{f"acq_mo ({m} objectives)": frame.loc[frame.objectives == m, "acq_s_per_unit"].median()
                 for m in (2, 3)}}
    three = frame[frame.objectives == 3]
    scale = REFERENCE_COSTS.acq_mo * (three.mc_samples / 128.0) * (three.baseline / BASELINE) ** 0.5
    slope, intercept = np.polyfit(1.0 + three.shortlist / 64.0, three.acq_cpu_s / scale, 1)
    fixed = ", ".join(f"`{k}` {getattr(REFERENCE_COSTS, k):.3g}" for k in ("fit", "post", "acq", "acq_mo"))
    shown = frame[["objectives", "rows", "shortlist", "mc_samples", "baseline", "fit_cpu_s", "fit_s_per_unit",
                   "screen_cpu_s", "screen_s_per_unit", "acq_cpu_s", "acq_s_per_unit"]]
    write_section("step_costs", "Speeds of the BO step's cost model", f"""
CPU seconds (one torch thread) of each part of a classic BO step on NAS-Bench-201 (CIFAR-10
table, {candidates:,} candidates, one suggestion pending, choosing 4) after ``rows`` random
evaluations, and the seconds per unit of the part's shape in
`pipelines/search/bo/budget.py`; the objectives the table knows exactly (params, latency) are exact
outputs, as in a search. Medians per part: {", ".join(f"{k} {v:.3g}"
for k, v in speeds.items())}. The planner's fixed speeds are {fixed}.

Three objectives, least squares of the acquisition's seconds over `acq_mo` x (MC samples / 128) x
(baseline / {BASELINE})^0.5 against the shortlist's scoring units (1 + s/64): scoring
{slope:.3g} and partitioning {intercept:.3g} (the planner's `FORWARD_COST_3D` {FORWARD_COST_3D:.3g} and
`PARTITION_COST_3D` {PARTITION_COST_3D:.3g}).

{markdown_table(shown, ".4g")}
""")
    print(frame.to_string())


if __name__ == "__main__":
    main()
