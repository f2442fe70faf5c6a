"""MLflow as a team meets it: an unreachable server, an outage mid-search, an experiment a newcomer can browse."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import CLI, experiment_runs, run_cli, run_process
from mlflowserver import start_mlflow_server
from surrogate_nas.storage import open_store

LIVE = ("search", "--benchmark", "digits", "--strategy", "rs", "--budget", "3", "--batch-size", "1", "--epochs", "1",
        "-C", "4", "--name", "outage")
COMMANDS = {
    "seed": ("seed", "-n", "1", "--epochs", "1", "-C", "4"),
    "search": LIVE,
    "compare": ("compare", "--benchmark", "nb201-cifar10", "--predictors", "mean", "--train-sizes", "10",
                "--seeds", "1"),
    "benchmark-search": ("benchmark-search", "--benchmark", "nb201-cifar10", "--strategies", "rs", "--budget", "5",
                         "--seeds", "1"),
    "quickstart": ("quickstart", "--seed-archs", "8", "--budget", "1", "--epochs", "1", "-C", "4"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unreachable_tracking_server_is_one_line_and_exit_2_before_any_work(workdir, monkeypatch, command):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    start = time.monotonic()
    proc = run_cli(*COMMANDS[command])
    assert time.monotonic() - start < 30
    assert proc.returncode == 2, proc
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "http://127.0.0.1:9 is not reachable" in proc.stderr and "--no-mlflow" in proc.stderr
    with open_store(os.environ["SURROGATE_NAS_DB"]) as store:
        assert store.evaluations() == [] and store.searches() == []


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_tracking_uri_mlflow_has_no_store_for_is_one_line_and_exit_2_before_any_work(workdir, monkeypatch, command):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "ftp://x")
    proc = run_cli(*COMMANDS[command])
    assert proc.returncode == 2, proc
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "Traceback" not in proc.stderr
    assert "MLFLOW_TRACKING_URI='ftp://x'" in proc.stderr
    for accepted in ("sqlite:///", "postgresql://", "mysql://", "http://", "https://", "--no-mlflow"):
        assert accepted in proc.stderr
    assert not (workdir / "nas.db").exists()


def test_a_silent_server_is_given_seconds_not_minutes(workdir, monkeypatch):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{silent.getsockname()[1]}")
        start = time.monotonic()
        proc = run_cli(*COMMANDS["seed"])
    assert proc.returncode == 2 and "not reachable" in proc.stderr
    assert time.monotonic() - start < 15


def test_no_mlflow_goes_on_without_the_server(workdir, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    proc = run_cli(*COMMANDS["seed"], "--no-mlflow", check=True)
    assert "trained 1 new" in proc.stdout


@pytest.mark.slow
def test_the_unreachable_check_holds_for_a_real_process(workdir, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    start = time.monotonic()
    proc = run_process(*COMMANDS["seed"], timeout=60)
    assert time.monotonic() - start < 30
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_the_experiment_opens_on_the_runs_view_with_readable_run_names(workdir):
    run_cli("seed", "-n", "2", "--epochs", "1", "-C", "4", check=True)
    client, runs = experiment_runs()
    exp = client.get_experiment_by_name(os.environ["MLFLOW_EXPERIMENT_NAME"])
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"
    trainings = [r for r in runs if r.data.tags.get("kind") == "training"]
    assert len(trainings) == 2
    for run in trainings:
        assert run.info.run_name.count("~") == 6 and "|" not in run.info.run_name
        assert run.data.tags["surrogate_nas.worker"].endswith(f":{os.getpid()}")


def test_a_run_left_running_by_a_dead_process_is_marked_killed(workdir):
    from surrogate_nas.pipelines.tracking.tracker import WORKER_TAG, Tracker

    tracker = Tracker()
    orphan = tracker.start_run("orphan", tags={WORKER_TAG: f"{socket.gethostname()}:{_dead_pid()}"})
    elsewhere = tracker.start_run("elsewhere", tags={WORKER_TAG: "otherhost:1"})
    mine = tracker.start_run("mine")
    Tracker()  # the next command that opens the experiment
    client, _ = experiment_runs()
    assert client.get_run(orphan.run_id).info.status == "KILLED"
    assert client.get_run(elsewhere.run_id).info.status == "RUNNING"  # another host: it may be alive
    assert client.get_run(mine.run_id).info.status == "RUNNING"


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.mark.slow
def test_an_outage_mid_search_loses_no_training_and_the_resume_logs_it(workdir, monkeypatch, tmp_path):
    server = start_mlflow_server(tmp_path / "server")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    db = os.environ["SURROGATE_NAS_DB"]
    try:
        search = subprocess.Popen([CLI, *LIVE], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and search.poll() is None:  # the first training stored: go down
            if _finished(db) >= 1:
                break
            time.sleep(0.05)
        server.crash()
        out, err = search.communicate(timeout=300)
    finally:
        server.stop()
    assert search.returncode == 0, err
    assert "MLflow" in err and "going on without it" in err
    assert "stored in the database but not logged" in out
    with open_store(db) as store:
        assert len([e for e in store.evaluations() if e.status.finished]) == 3
        unlogged = [e.id for e in store.evaluations() if e.mlflow_run_id is None]
    assert unlogged and f"evaluations {', '.join(map(str, unlogged))}" in out

    server = start_mlflow_server(tmp_path / "server", port=int(server.url.rsplit(":", 1)[1]))
    try:
        resumed = run_cli(*LIVE, check=True)
        assert "0 new trainings" in resumed.stdout
        assert _logged_trainings() == 3
        _, runs = experiment_runs()
        assert len([r for r in runs if r.data.tags.get("kind") == "search"]) == 1
        with open_store(db) as store:
            assert all(e.mlflow_run_id for e in store.evaluations())
    finally:
        server.stop()


def _finished(db: str) -> int:
    """Evaluations the search has stored so far (a local read: no waiting on the server)."""
    if not Path(db.removeprefix("sqlite:///")).exists():
        return 0
    try:
        with open_store(db, read_only=True) as store:
            return len([e for e in store.evaluations() if e.status.finished])
    except Exception:  # noqa: BLE001 - the search may be creating its tables right now
        return 0


def _logged_trainings() -> int:
    try:
        _, runs = experiment_runs()
    except Exception:  # noqa: BLE001 - the server may be starting or gone
        return 0
    return len([r for r in runs if r.data.tags.get("kind") == "training" and r.info.status in ("FINISHED", "FAILED")])
