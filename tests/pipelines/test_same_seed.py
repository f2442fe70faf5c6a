"""Same seed, same search: the trace of a seeded search depends on nothing but its command.

Not on what ran before it in the process (torch's global generator, thread settings), not on
how busy the machine is, and not on whether it was interrupted and resumed: each case is run
twice and compared row by row.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch

from conftest import CLI, run_cli
from surrogate_nas.pipelines import api
from surrogate_nas.pipelines.search.backends import SimulatedBackend
from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
from surrogate_nas.pipelines.search.runner import run_search
from surrogate_nas.pipelines.search.strategies import make_strategy
from surrogate_nas.storage import open_store
from surrogate_nas.tables import load_benchmark

CASES = {  # name -> (strategy, workers, budget)
    "bo": ("bo", 1, 32),
    "mf-bo": ("mf-bo", 1, 32),
    "rs": ("rs", 1, 24),
    "rea": ("rea", 1, 24),
    "ls": ("ls", 1, 24),
    "bo-3-workers": ("bo", 3, 24),
}


@pytest.fixture(scope="module")
def evaluator():
    return TabularEvaluator(load_benchmark("nb201-cifar10"))


class _Busy:
    """A process spinning on a CPU core while the block runs."""

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def _trace(evaluator, strategy: str, workers: int, budget: int) -> pd.DataFrame:
    backend = SimulatedBackend(evaluator, workers) if workers > 1 else None
    return run_search(make_strategy(strategy, evaluator.space, seed=7), evaluator, budget=budget, batch_size=4,
                      backend=backend).frame


@pytest.mark.parametrize("case", CASES)
def test_the_same_seed_gives_the_same_trace_whatever_ran_before_and_however_busy_the_machine(evaluator, case):
    strategy, workers, budget = CASES[case]
    first = _trace(evaluator, strategy, workers, budget)
    torch.manual_seed(12345)  # another global random state and thread count, another load
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with _Busy():
            second = _trace(evaluator, strategy, workers, budget)
    finally:
        torch.set_num_threads(threads)
    pd.testing.assert_frame_equal(first, second)


class _Interrupt(Exception):
    pass


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """Case -> the trace of its uninterrupted search (made once per case)."""
    traces = {}

    def trace(case: str, options: dict) -> pd.DataFrame:
        if case not in traces:
            db = f"sqlite:///{tmp_path_factory.mktemp('whole') / 'whole.db'}"
            traces[case] = api.search("nb201", db=db, **options).trace
        return traces[case]

    return trace


@pytest.mark.parametrize("case, stop_at", [("bo", 3), ("mf-bo", 3), ("rs", 3), ("rea", 3), *(
    pytest.param("bo-3-workers", k, marks=pytest.mark.xdist_group("same-uninterrupted-search")) for k in (3, 8))])
def test_an_interrupted_search_resumes_into_the_trace_of_an_uninterrupted_one(tmp_path, uninterrupted, case, stop_at):
    """On workers, step 8 stops the search while a suggestion made before others that finished
    still runs: the replay re-suggests it before the stored ones suggested after it."""
    strategy, workers, budget = CASES[case]
    options = dict(benchmark="nb201-cifar10", strategy=strategy, budget=budget, seed=5, workers=workers, mlflow=False)
    whole = uninterrupted(case, options)

    def stop(info):
        if info.batch == stop_at:
            raise _Interrupt

    db = f"sqlite:///{tmp_path / 'cut.db'}"
    with pytest.raises(_Interrupt):
        api.search("nb201", db=db, on_step=stop, **options)
    resumed = api.search("nb201", db=db, **options)
    assert 0 < resumed.resumed < budget and resumed.new == budget - resumed.resumed
    assert resumed.diverged_at is None
    pd.testing.assert_frame_equal(whole, resumed.trace)


def test_a_search_killed_with_sigkill_and_rerun_writes_the_trace_of_an_uninterrupted_run(tmp_path, monkeypatch):
    """The uninterrupted run and the rerun are made in this process (after whatever ran in it before), the
    killed one by the console script: the uninterrupted run and the rerun write the same bytes."""
    args = ["search", "--benchmark", "nb201-cifar10", "--objectives", "accuracy,params", "--budget", "28", "--seed", "2",
            "--no-mlflow", "--output", "trace.csv"]
    command = [CLI, *args]
    env = {**os.environ, "SURROGATE_NAS_DB": f"sqlite:///{tmp_path / 'cut' / 'n.db'}"}
    (tmp_path / "whole").mkdir()
    (tmp_path / "cut").mkdir()
    monkeypatch.chdir(tmp_path / "whole")
    monkeypatch.setenv("SURROGATE_NAS_DB", f"sqlite:///{tmp_path / 'whole' / 'n.db'}")
    run_cli(*args, check=True)
    proc = subprocess.Popen(command, cwd=tmp_path / "cut", env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    stored = 0
    while time.time() < deadline and proc.poll() is None and stored < 12:
        try:
            with open_store(env["SURROGATE_NAS_DB"]) as store:
                stored = sum(len(store.trials(s.id)) for s in store.searches())
        except Exception:  # the database may not exist yet
            pass
        time.sleep(0.05)
    assert proc.poll() is None, "finished before the kill; lengthen the run"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    monkeypatch.chdir(tmp_path / "cut")
    monkeypatch.setenv("SURROGATE_NAS_DB", env["SURROGATE_NAS_DB"])
    rerun = run_cli(*args, check=True)
    assert "from earlier runs" in rerun.stdout and "(0 from earlier runs)" not in rerun.stdout
    assert (tmp_path / "whole" / "trace.csv").read_bytes() == (tmp_path / "cut" / "trace.csv").read_bytes()
