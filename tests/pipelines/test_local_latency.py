"""``latency@local``: latency timed on this machine before training, cached per machine, predicted past a budget."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from sqlalchemy import text

from conftest import run_cli
from surrogate_nas.pipelines.jobs.local_latency import FEW_SHOT, MEASURE_BUDGET, local_latency_metric
from surrogate_nas.records import NetworkConfig
from surrogate_nas.spaces import get_space
from surrogate_nas.storage import open_store

LIVE = ["search", "--benchmark", "digits", "--strategy", "rs", "--budget", "3", "--batch-size", "3", "--epochs", "1",
        "-C", "8", "-N", "1", "--no-mlflow"]


def cached(store) -> int:
    with store.session() as conn:
        return conn.execute(text("select count(*) from features where name like 'latency@local|%'")).scalar()


def test_a_live_search_times_its_networks_here_and_caches_them(workdir):
    run_cli(*LIVE, "--objectives", "accuracy,latency@local", "--constraint", "latency@local<=1000", "--output",
            "t.csv", check=True)
    trace = pd.read_csv(workdir / "t.csv")
    assert (trace["lat_ms_local"] > 0).all() and trace["feasible"].all()
    store = open_store(os.environ["SURROGATE_NAS_DB"])
    first = cached(store)
    assert first >= FEW_SHOT  # the constraint screened every cell: a few measured, the rest predicted
    run_cli(*LIVE, "--objectives", "accuracy,latency@local", "--name", "again", "--budget", "4", check=True)
    assert cached(store) <= first + 4  # measured once per machine: only the 4 new trainings can add one each


def test_past_the_budget_a_few_are_measured_and_the_rest_predicted(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'nas.db'}")
    space = get_space("nb201").with_cache(store)
    metric = local_latency_metric("local", space, NetworkConfig(8, 1), (3, 8, 8), 10)
    archs = space.enumerate()[: MEASURE_BUDGET + 40]
    values = metric.values(archs)
    assert values.shape == (len(archs),) and (values > 0).all() and np.isfinite(values).all()
    assert cached(store) == FEW_SHOT
    assert np.array_equal(metric.values(archs), values) and cached(store) == FEW_SHOT  # a rerun times nothing
    few = archs[:5]
    measured = metric.values(few)  # five new ones are within the budget: every one measured and cached
    assert FEW_SHOT <= cached(store) <= FEW_SHOT + 5
    count = cached(store)
    assert np.array_equal(metric.values(few), measured) and cached(store) == count  # read back, not timed again


def test_latency_on_a_missing_gpu_is_one_line(workdir):
    import torch

    if torch.cuda.is_available():
        return
    proc = run_cli(*LIVE, "--objectives", "accuracy,latency@cuda")
    assert proc.returncode == 2 and "CUDA is not available" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
