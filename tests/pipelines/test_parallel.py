"""Parallel trainings: local worker processes and Ray tasks, asynchronous search, dead workers, a killed driver."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import CLI, run_cli
from processtree import alive, descendants
from surrogate_nas.datasets import DatasetSpec
from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig, Setting, TrainConfig
from surrogate_nas.spaces import get_space
from surrogate_nas.storage import open_store
from surrogate_nas.pipelines.execution.executors import LocalExecutor, make_executor
from surrogate_nas.pipelines.live.evaluator import LiveBackend, LiveEvaluator
from surrogate_nas.pipelines.search.history import Suggestion
from surrogate_nas.pipelines.live.trainer import DatabaseTrainer
from surrogate_nas.pipelines.ship import export
from surrogate_nas.testing import check_executor

SPACE = get_space("nb201")
FAST = ["--epochs", "1", "-C", "4"]


def _kill_a_busy_worker(pids, seconds: float = 1.5) -> threading.Thread:
    """Kill one of ``pids()`` (busy workers) once one has been training for ``seconds``."""
    def killer():
        time.sleep(seconds)
        deadline = time.time() + 120
        while time.time() < deadline:
            busy = pids()
            if busy:
                niceness.append(os.getpriority(os.PRIO_PROCESS, busy[0]))
                os.kill(busy[0], signal.SIGKILL)
                killed.append(busy[0])
                return
            time.sleep(0.1)

    killed: list[int] = []
    niceness: list[int] = []
    thread = threading.Thread(target=killer, daemon=True)
    thread.killed, thread.niceness = killed, niceness
    thread.start()
    return thread


def _train_through_a_worker_death(store_url: str, executor, pids) -> dict:
    """Train 3 architectures on ``executor`` while one busy worker is killed; return what happened."""
    store = open_store(store_url)
    spec = DatasetSpec("digits")
    setting = Setting("nb201", "digits", NetworkConfig(8, 1), TrainConfig(epochs=6), 0)
    archs = SPACE.enumerate()[1000:1003]
    outcomes = []
    with DatabaseTrainer(store, SPACE, (spec, spec.load()), setting, "cpu", executor=executor,
                         max_retries=1) as trainer:
        for arch in archs[:2]:
            assert trainer.start(arch) is None
        killer = _kill_a_busy_worker(pids)
        pending = list(archs[2:])
        while trainer.running or pending:
            if pending and trainer.free > 0:
                assert trainer.start(pending.pop()) is None
            outcomes += trainer.poll()
        killer.join()
    evaluations = store.evaluations()
    return {"outcomes": outcomes, "evaluations": evaluations, "killed": killer.killed, "archs": archs}


def test_a_killed_local_worker_is_retried_and_every_architecture_trained_once(workdir):
    executor = LocalExecutor(2)
    check_executor(executor)  # the executor contract, on the workers this test then kills one of
    result = _train_through_a_worker_death(os.environ["SURROGATE_NAS_DB"], executor, executor.worker_pids)
    assert result["killed"], "the test killed a worker"
    assert all(o.trained and not o.failed for o in result["outcomes"]) and len(result["outcomes"]) == 3
    keys = [e.canonical_key for e in result["evaluations"]]
    assert sorted(keys) == sorted(a.canonical_key for a in result["archs"]) and len(set(keys)) == 3
    assert all(e.status.value == "ok" for e in result["evaluations"])


@pytest.mark.slow
@pytest.mark.xdist_group("ray")  # one Ray instance at a time: the README's `--ray-address auto` finds the latest
def test_a_final_training_on_a_fresh_local_ray_survives_a_killed_worker_and_trains_each_seed_once(workdir,
                                                                                                  monkeypatch):
    """`export --retrain-epochs E --seeds K --executor ray`: a Ray worker killed mid-training is retried from
    its seed's last checkpoint, every seed is stored once, and the best seed by validation accuracy is exported.

    Without a Ray address the executor starts a fresh local instance, joining neither the cluster that
    ``RAY_ADDRESS`` names nor the one in the address file a ``ray start --head`` long gone left behind."""
    ray = pytest.importorskip("ray", reason="Ray is the [ray] extra, which the [test] extra installs")
    ray_tmp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths live under it
    (Path(ray_tmp) / "ray").mkdir()
    (Path(ray_tmp) / "ray" / "ray_current_cluster").write_text("127.0.0.1:1")
    monkeypatch.setenv("RAY_TMPDIR", ray_tmp)
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:2")

    def ray_workers():
        ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout.splitlines()
        return [int(line.split()[0]) for line in ps if "ray::_ray_task" in line]

    arch = SPACE.enumerate()[1000].to_string()
    executor = make_executor("ray", workers=2)
    try:
        address = ray.get_runtime_context().gcs_address
        check_executor(executor)
        killer = _kill_a_busy_worker(ray_workers)
        report = export(workdir / "final", arch=arch, space="nb201", dataset="digits", channels=8,
                        cells_per_stage=1, retrain_epochs=6, seeds=3, executor=executor, workers=2,
                        onnx=False, mlflow=False, db=os.environ["SURROGATE_NAS_DB"])
        killer.join()
    finally:
        executor.close()
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert not address.endswith((":1", ":2")) and not ray.is_initialized()
    assert killer.killed, "the test killed a Ray worker"
    assert killer.niceness == [os.getpriority(os.PRIO_PROCESS, 0)], \
        "a training on Ray keeps the priority Ray was started with, not Ray's 15"
    evaluations = open_store(os.environ["SURROGATE_NAS_DB"]).evaluations()
    assert sorted(e.seed for e in evaluations) == [0, 1, 2] and {e.epochs for e in evaluations} == {6}
    assert all(e.status.value == "ok" for e in evaluations)
    summary = report.networks[0].card["final_training"]
    assert summary["seeds"] == [0, 1, 2]
    assert summary["chosen_seed"] == max(evaluations, key=lambda e: e.valid_acc).seed
    assert (workdir / "final" / "model.pt").is_file()


def test_a_job_whose_worker_always_dies_fails_with_its_reason_and_releases_its_claim(workdir):
    store = open_store(os.environ["SURROGATE_NAS_DB"])
    spec = DatasetSpec("digits")
    # Far more epochs than the test lasts, so that each attempt dies before it could finish.
    setting = Setting("nb201", "digits", NetworkConfig(8, 1), TrainConfig(epochs=5000), 0)
    executor = LocalExecutor(1)
    with DatabaseTrainer(store, SPACE, (spec, spec.load()), setting, "cpu", executor=executor,
                         max_retries=1) as trainer:
        arch = SPACE.enumerate()[2000]
        trainer.start(arch)
        outcomes = []
        while trainer.running:
            time.sleep(1.0)
            os.kill(executor.worker_pids()[0], signal.SIGKILL)
            outcomes += trainer.poll(timeout=1)
    assert len(outcomes) == 1 and "died (signal 9)" in outcomes[0].failed
    assert store.evaluations() == [], "the claim is released so that another run may train it"


def test_seed_with_two_local_workers_trains_the_plan_once(workdir):
    out = run_cli("seed", "-n", "4", *FAST, "--workers", "2", "--no-mlflow", check=True).stdout
    assert "trained 4 new" in out
    keys = [e.canonical_key for e in open_store(os.environ["SURROGATE_NAS_DB"]).evaluations()]
    assert len(keys) == len(set(keys)) == 4


def test_live_search_runs_asynchronously_on_local_workers(workdir):
    run_cli("search", "--benchmark", "digits", "--strategy", "rs", "--budget", "4", "--workers", "2", *FAST,
            "--no-mlflow", "--output", "t.csv", check=True)
    trace = pd.read_csv(workdir / "t.csv")
    assert len(trace) == 4 and set(trace["worker"]) == {0, 1} and (trace["status"] == "ok").all()
    assert trace["batch"].is_monotonic_increasing and trace["batch"].max() >= 2


def test_live_backend_hands_back_a_finished_training_while_another_still_runs(workdir):
    """Asynchronous: a short training comes back alone and frees its slot; the long one keeps running."""
    store = open_store(os.environ["SURROGATE_NAS_DB"])
    spec = DatasetSpec("digits")
    setting = Setting("nb201", "digits", NetworkConfig(8, 1), TrainConfig(epochs=4), 0)
    with DatabaseTrainer(store, SPACE, (spec, spec.load()), setting, "cpu", executor=LocalExecutor(2)) as trainer:
        backend = LiveBackend(LiveEvaluator(trainer), batch_size=None)
        short = SPACE.parse("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|")
        long = SPACE.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
        backend.submit(Suggestion(long))
        backend.submit(Suggestion(short, fidelity=1 / 4))
        first = backend.wait()
        assert [f.trial.arch.canonical_key for f in first] == [short.canonical_key]
        assert backend.running == 1 and backend.free == 1, "the next suggestion can start at once"
        second = backend.wait()
        assert [f.trial.arch.canonical_key for f in second] == [long.canonical_key] and backend.running == 0
        assert {first[0].worker, second[0].worker} == {0, 1}


def test_bad_execution_options_are_one_line_errors(workdir):
    for args in (["--workers", "0"], ["--executor", "inprocess", "--workers", "2"],
                 ["--ray-address", "auto"], ["--gpus-per-trial", "1"]):
        proc = run_cli("seed", "-n", "1", *FAST, "--no-mlflow", *args)
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, (args, proc.stderr)
    for command in (["search", "--benchmark", "digits", "--budget", "2", *FAST], ["quickstart", "--epochs", "1"]):
        proc = run_cli(*command, "--executor", "inprocess", "--workers", "2")
        assert proc.returncode == 2 and "use --executor local" in proc.stderr, (command, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    with pytest.raises(InputDataError, match="unknown executor"):
        make_executor("kubernetes", 2)


@pytest.mark.slow
def test_a_killed_driver_and_its_workers_resume_without_training_anything_twice(workdir):
    db = os.environ["SURROGATE_NAS_DB"]
    args = ["seed", "-n", "6", "--epochs", "4", "-C", "8", "--workers", "2", "--no-mlflow"]
    proc = subprocess.Popen([CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        try:
            if len([e for e in open_store(db).evaluations() if e.status.finished]) >= 2:
                break
        except Exception:  # the database may not exist yet
            pass
        time.sleep(0.2)
    assert proc.poll() is None, "the run finished before it could be killed; make it longer"
    below = descendants(proc.pid)
    assert below, "the driver runs its workers below it"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while time.time() < deadline and [p for p in below if alive(p)]:
        time.sleep(0.1)
    assert not [p for p in below if alive(p)], "a worker outlived its killed driver"
    before = {e.id: e.created_at for e in open_store(db).evaluations() if e.status.finished}
    out = run_cli(*args, check=True).stdout
    after = open_store(db).evaluations()
    assert [e for e in after if not e.status.finished] == []
    keys = [e.canonical_key for e in after]
    assert len(keys) == len(set(keys)) == 6 and f"trained {6 - len(before)} new" in out
    assert all(e.created_at == before[e.id] for e in after if e.id in before)
