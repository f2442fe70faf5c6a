"""``surrogate-nas seed`` and ``db`` on a real SQLite file and MLflow store (in-process, plus real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pandas as pd
import pytest

from conftest import CLI, experiment_runs, run_cli
from surrogate_nas.storage import open_store

FAST = ["--dataset", "digits", "--epochs", "1", "-C", "8", "-N", "1"]


def _runs(workdir):
    return experiment_runs()


def test_seed_trains_stores_and_logs_then_finishes_or_extends_the_plan(workdir):
    proc = run_cli("seed", *FAST, "-n", "3", "--epochs", "2", check=True)
    assert "trained 3 new nb201 architectures" in proc.stdout
    assert "surrogate-nas ui" in proc.stdout

    store = open_store(os.environ["SURROGATE_NAS_DB"])
    evals = store.evaluations()
    assert len(evals) == 3 and all(e.status.value == "ok" for e in evals)
    assert all(len(e.valid_accs) == 2 and e.mlflow_run_id for e in evals)

    client, runs = _runs(workdir)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    nested = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(nested) == 3
    assert {r.info.run_id for r in nested} == {e.mlflow_run_id for e in evals}
    child = nested[0]
    assert {"arch", "space", "dataset", "epochs", "seed", "C", "N"} <= set(child.data.params)
    assert child.data.tags["canonical_key"] and child.data.tags["status"] == "ok"
    curve = client.get_metric_history(child.info.run_id, "valid_acc_curve")
    assert [m.step for m in curve] == [1, 2]

    again = run_cli("seed", *FAST, "-n", "3", "--epochs", "2", check=True)
    assert "trained 0 new" in again.stdout and "3 of the plan's 3 were already stored" in again.stdout
    assert "the plan is complete" in again.stdout
    more = run_cli("seed", *FAST, "-n", "5", "--epochs", "2", check=True)
    assert "trained 2 new" in more.stdout
    keys = [e.canonical_key for e in store.evaluations()]
    assert len(keys) == 5 and len(set(keys)) == 5


def test_explicit_arch_is_trained_once(workdir):
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    run_cli("seed", *FAST, "--arch", arch, "--no-mlflow", check=True)
    proc = run_cli("seed", *FAST, "--arch", arch, "--no-mlflow", check=True)
    assert "trained 0 new nb201 architectures" in proc.stdout
    assert [e.arch for e in open_store(os.environ["SURROGATE_NAS_DB"]).evaluations()] == [arch]


def test_bad_input_is_one_line_exit_2_and_loses_nothing(workdir, tmp_path):
    run_cli("seed", *FAST, "-n", "1", "--no-mlflow", check=True)
    db = os.environ["SURROGATE_NAS_DB"]
    before = [e.id for e in open_store(db).evaluations()]
    bad = [
        ["seed", "--arch", "|nor_conv_3x3~0|+|bogus~0|none~1|"],
        ["seed", "--dataset", "imagenet"],
        ["seed", "--dataset", "cifar10", "--data-dir", str(tmp_path / "no-such-folder")],
        ["seed", "-n", "0"],
        ["seed", "--epochs", "0"],
        ["seed", "--db", "nosuchdialect://x/y"],
        ["db", "stats", "--db", "sqlite:////proc/forbidden/nas.db"],
        ["db", "export", "out.xlsx"],
    ]
    for args in bad:
        proc = run_cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert [e.id for e in open_store(db).evaluations()] == before


def test_db_commands(workdir):
    run_cli("seed", *FAST, "-n", "2", "--no-mlflow", check=True)
    assert "evaluations" in run_cli("db", "stats", check=True).stdout
    top = run_cli("db", "top", "-k", "1", check=True).stdout
    assert "|" in top and "valid %" in top
    run_cli("db", "export", "out.csv", check=True)
    run_cli("db", "export", "out.parquet", check=True)
    assert len(pd.read_csv(workdir / "out.csv")) == 2
    assert len(pd.read_parquet(workdir / "out.parquet")) == 2


@pytest.mark.slow
def test_killed_run_resumes_without_losing_or_retraining(workdir):
    db = os.environ["SURROGATE_NAS_DB"]
    proc = subprocess.Popen([CLI, "seed", *FAST, "-n", "6", "--epochs", "3", "--no-mlflow"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    done = []
    while time.time() < deadline and proc.poll() is None:
        try:
            done = [e for e in open_store(db).evaluations() if e.status.finished]
        except Exception:  # the file may not exist yet
            done = []
        if len(done) >= 2:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run finished before it could be killed; make it longer"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished_before = {e.id: (e.canonical_key, e.created_at, e.valid_acc)
                       for e in open_store(db).evaluations() if e.status.finished}
    assert len(finished_before) >= 2

    out = run_cli("seed", *FAST, "-n", "6", "--epochs", "3", "--no-mlflow", check=True).stdout
    assert f"trained {6 - len(finished_before)} new" in out
    after = open_store(db).evaluations()
    by_id = {e.id: e for e in after}
    for eid, (key, created, acc) in finished_before.items():
        assert (by_id[eid].canonical_key, by_id[eid].created_at, by_id[eid].valid_acc) == (key, created, acc)
    keys = [e.canonical_key for e in after if e.status.finished]
    assert len(keys) == len(set(keys)) == 6, "the rerun finishes the same plan of 6; nothing is trained twice"


@pytest.mark.slow
def test_two_processes_on_one_sqlite_file_share_one_plan(workdir):
    procs = [subprocess.Popen([CLI, "seed", *FAST, "-n", "8", "--seed", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-2000:]
        assert "locked" not in err
    evals = open_store(os.environ["SURROGATE_NAS_DB"]).evaluations()
    keys = [e.canonical_key for e in evals]
    assert len(keys) == 8 and len(set(keys)) == 8, "together the two processes train the plan once"
    assert all(e.status.value == "ok" for e in evals)
    trained = [int(out.split("trained ")[1].split()[0]) for out, _ in outs]
    assert sum(trained) == 8, "each process reports only what it trained itself"
    _, runs = _runs(workdir)
    assert len(runs) == 2 + 8
