"""``surrogate-nas quickstart``: the whole pipeline, small (in-process)."""

from __future__ import annotations

import os


from conftest import experiment_runs, run_cli
from surrogate_nas.storage import open_store


def test_quickstart_runs_the_whole_pipeline_and_resumes(workdir):
    args = ["quickstart", "--seed-archs", "8", "--budget", "4", "--epochs", "1"]
    out = run_cli(*args, check=True).stdout
    for marker in ("[1/3] seed", "[2/3] compare predictors", "[3/3] Bayesian search", "Pareto front",
                   "surrogate-nas ui"):
        assert marker in out, marker
    store = open_store(os.environ["SURROGATE_NAS_DB"])
    assert len(store.evaluations(status="ok")) == 12, "8 seeded + 4 picked by the search"
    _, runs = experiment_runs()
    kinds = [r.data.tags.get("kind") for r in runs]
    assert kinds.count("training") == 12 and "compare" in kinds and "search" in kinds

    again = run_cli(*args, check=True).stdout
    assert "trained 0 new" in again and "0 new trainings" in again
    assert len(store.evaluations()) == 12
