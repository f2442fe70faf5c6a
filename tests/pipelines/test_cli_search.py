"""``surrogate-nas search`` and ``benchmark-search`` (in-process, plus a real process killed mid-search)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pandas as pd
import pytest

from conftest import CLI, experiment_runs, run_cli
from surrogate_nas.storage import open_store

TAB = ["--benchmark", "nb201-cifar10", "--batch-size", "4"]


def test_tabular_search_writes_trace_and_resumes(workdir):
    run_cli("search", *TAB, "--strategy", "bo", "--surrogate", "xgb", "--budget", "16", "--output", "t.csv",
            "--name", "s1", check=True)
    trace = pd.read_csv(workdir / "t.csv")
    assert {"step", "arch", "value", "best_so_far"} <= set(trace.columns)
    assert len(trace) == 16 and trace.arch.nunique() == 16
    assert trace.best_so_far.is_monotonic_increasing

    again = run_cli("search", *TAB, "--strategy", "bo", "--surrogate", "xgb", "--budget", "16", "--name", "s1",
                    "--output", "t2.csv", check=True)
    assert "0 new evaluations" in again.stdout
    more = run_cli("search", *TAB, "--strategy", "bo", "--surrogate", "xgb", "--budget", "20", "--name", "s1",
                   "--step-seconds", "1", "--output", "t3.csv", check=True)  # a step budget is not the search's identity
    assert "4 new evaluations" in more.stdout
    t3 = pd.read_csv(workdir / "t3.csv")
    assert len(t3) == 20 and t3.arch.nunique() == 20
    assert set(trace.arch) <= set(t3.arch)

    clash = run_cli("search", *TAB, "--strategy", "rs", "--budget", "16", "--name", "s1")
    assert clash.returncode == 2 and "--name" in clash.stderr


def test_multi_objective_search_prints_a_pareto_front(workdir):
    proc = run_cli("search", *TAB, "--strategy", "bo", "--budget", "16", "--objectives", "accuracy,params",
                   "--output", "mo.csv", check=True)
    assert "Pareto front" in proc.stdout
    trace = pd.read_csv(workdir / "mo.csv")
    assert trace.hypervolume.dropna().is_monotonic_increasing


def test_bad_search_input(workdir):
    for args in (["search", "--benchmark", "nb201-cifar10", "--objectives", "accuracy,weight"],
                 ["search", "--benchmark", "imagenet"],
                 ["search", "--benchmark", "nb201-cifar10", "--budget", "0"],
                 ["search", "--benchmark", "nb201-cifar10", "--step-seconds", "0"]):
        proc = run_cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_benchmark_search_reports_regret(workdir):
    proc = run_cli("benchmark-search", "--benchmark", "nb201-cifar10", "--strategies", "rs,rea",
                   "--budget", "20", "--seeds", "2", "--output", "curves.csv", check=True)
    curves = pd.read_csv(workdir / "curves.csv")
    assert set(curves.strategy) == {"rs", "rea"} and curves.regret.min() >= 0
    assert "regret@20" in proc.stdout


@pytest.mark.slow
def test_live_search_trains_only_what_it_picks_and_resumes_after_a_kill(workdir):
    live = ["search", "--benchmark", "digits", "--strategy", "bo", "--budget", "6", "--batch-size", "2",
            "--epochs", "2", "-C", "8", "--name", "live"]
    db = os.environ["SURROGATE_NAS_DB"]
    proc = subprocess.Popen([CLI, *live], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        try:
            if len([e for e in open_store(db).evaluations() if e.status.finished]) >= 3:
                break
        except Exception:  # the database may not exist yet
            pass
        time.sleep(0.2)
    assert proc.poll() is None, "finished before the kill; lengthen the run"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {e.id: e.created_at for e in open_store(db).evaluations() if e.status.finished}
    with open_store(db) as store:
        resumed = len(store.trials(store.search("live").id))

    out = run_cli(*live, check=True)
    assert f"the search holds 6 ({resumed} from earlier runs)" in out.stdout
    evals = [e for e in open_store(db).evaluations() if e.status.finished]
    keys = [e.canonical_key for e in evals]
    assert len(keys) == len(set(keys)) == 6, "the search trains exactly its budget, nothing twice"
    for e in evals:
        if e.id in before:
            assert e.created_at == before[e.id]
    assert "best architectures" in out.stdout
    _, runs = experiment_runs()
    trainings = [r for r in runs if r.data.tags.get("kind") == "training"]
    assert len(trainings) == 6
    # One parent run across the kill and the resume; nothing left RUNNING by the dead process.
    parents = [r for r in runs if r.data.tags.get("kind") == "search"]
    assert [p.info.status for p in parents] == ["FINISHED"]
    assert {r.data.tags["mlflow.parentRunId"] for r in trainings} == {parents[0].info.run_id}
    assert not [r.info.run_name for r in runs if r.info.status == "RUNNING"]
    # Runs are named by the architecture's short form, in full.
    by_name = {r.info.run_name: r.data.params["arch"] for r in trainings}
    assert all("conv" in n or "skip" in n or "avg" in n or "none" in n for n in by_name)
    assert all(len(n) < len(arch) and "|" not in n for n, arch in by_name.items())

    again = run_cli(*live, check=True)
    assert "0 new trainings" in again.stdout and "the search holds 6 (6 from earlier runs)" in again.stdout
    _, runs = experiment_runs()
    assert len([r for r in runs if r.data.tags.get("kind") == "search"]) == 1


def test_refused_searches_leave_no_search_row(workdir):
    for args in (["--benchmark", "digits", "--objectives", "accuracy,weight"],
                 ["--benchmark", "cifar10", "--data-dir", str(workdir / "no-such-folder")]):
        proc = run_cli("search", *args, "--budget", "2", "--epochs", "1")
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    with open_store(os.environ["SURROGATE_NAS_DB"]) as store:
        assert store.searches() == []
