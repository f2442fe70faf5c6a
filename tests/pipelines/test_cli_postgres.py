"""The CLI on a real PostgreSQL server: eight first users at once, a live search, the read commands."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import CLI, run_cli
from surrogate_nas.storage import open_store


@pytest.mark.slow
def test_eight_concurrent_first_seeders_of_a_new_database_all_succeed_and_train_nothing_twice(postgres_url, workdir):
    seed = [CLI, "seed", "-n", "2", "--epochs", "1", "-C", "4", "--no-mlflow", "--db", postgres_url]
    procs = [subprocess.Popen(seed, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
             for _ in range(8)]
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=600))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-2000:]
        assert "Traceback" not in err
    trained = sum(int(out.split("trained ", 1)[1].split()[0]) for out, _ in outputs)
    with open_store(postgres_url) as store:
        evals = store.evaluations()
        keys = [e.canonical_key for e in evals]
        assert len(keys) == len(set(keys)) == 2 and all(e.status.finished for e in evals)
    assert trained == 2, "each training is reported by the one process that ran it"


def test_a_live_search_and_the_read_commands_on_postgres(postgres_url, workdir):
    search = ("search", "--benchmark", "digits", "--strategy", "bo", "--budget", "3", "--batch-size", "1",
              "--epochs", "1", "-C", "4", "--name", "pg", "--db", postgres_url)
    first = run_cli(*search, check=True)
    assert "3 new trainings" in first.stdout
    again = run_cli(*search, check=True)
    assert "0 new trainings" in again.stdout and "the search holds 3 (3 from earlier runs)" in again.stdout
    assert "evaluations: 3" in run_cli("db", "stats", "--db", postgres_url, check=True).stdout
    run_cli("db", "export", "pg.csv", "--db", postgres_url, check=True)
    assert len((workdir / "pg.csv").read_text().splitlines()) == 4
    top = run_cli("db", "top", "-k", "2", "--dataset", "digits", "--db", postgres_url, check=True)
    assert len([ln for ln in top.stdout.splitlines() if ln.startswith("nb201")]) == 2
    bad = run_cli("db", "top", "--dataset", "nosuch", "--db", postgres_url)
    assert bad.returncode == 2 and "nosuch" in bad.stderr
