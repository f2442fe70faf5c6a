"""Live multi-fidelity search: rungs are epochs of one schedule, promotions continue from checkpoints."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import CLI, experiment_runs, run_cli

from surrogate_nas.datasets import DatasetSpec
from surrogate_nas.pipelines.live.trainer import DatabaseTrainer
from surrogate_nas.records import NetworkConfig, Setting, Status, TrainConfig
from surrogate_nas.spaces import get_space
from surrogate_nas.storage import open_store

# Rungs of eta 3 over 1, 3 and 9 epochs; which candidates climb them depends on the accuracies trained,
# so the test reads the rungs each candidate reached from the trace and checks the store against them.
SEARCH = ["search", "--benchmark", "digits", "--epochs", "9", "-C", "4", "-N", "1", "--budget", "13",
          "--batch-size", "1", "--seed", "0"]


def _store():
    return open_store(os.environ["SURROGATE_NAS_DB"])


def test_a_live_mf_bo_search_resumes_promoted_candidates_and_trains_no_epoch_twice(workdir):
    proc = run_cli(*SEARCH, "--strategy", "mf-bo", "--eta", "3", "--output", "trace.csv", check=True)
    trace = pd.read_csv(workdir / "trace.csv")
    at = trace["fidelity"].round(3).value_counts()
    assert f"{at[0.111]} at 0.111 fidelity" in proc.stdout and f"{at[1.0]} at full fidelity" in proc.stdout, \
        proc.stdout
    reached = trace.groupby("canonical_key")["fidelity"].max() * 9
    evaluations = {e.canonical_key: e for e in _store().evaluations()}
    assert len(evaluations) == (trace["fidelity"] < 0.2).sum(), "one evaluation per architecture, whatever its rungs"
    for _, row in trace.iterrows():  # a rung's value is the accuracy after that many epochs of the one run
        e = evaluations[row["canonical_key"]]
        assert row["value"] == pytest.approx(e.valid_accs[round(row["fidelity"] * 9) - 1])
    done = [e for e in evaluations.values() if e.status is Status.OK]
    assert len(done) == at[1.0] >= 1 and all(e.epochs_done == 9 and e.test_acc is not None for e in done)
    paused = [e for e in evaluations.values() if e.status is Status.PAUSED]
    assert {e.epochs_done for e in paused} == {1, 3} and len(paused) == len(evaluations) - len(done)
    assert all(e.epochs_done == round(reached[key]) for key, e in evaluations.items()), "paused at its top rung"
    assert all(e.checkpoint is None for e in paused), "a complete search drops its checkpoints"
    assert not list(_store().checkpoints.folder.glob("*.pt"))

    client, runs = experiment_runs()
    trainings = [r for r in runs if r.data.tags.get("kind") == "training"]
    assert len(trainings) == len(evaluations), "a promoted candidate goes on logging into its own run"
    logged = 0
    for run in trainings:
        steps = [m.step for m in client.get_metric_history(run.info.run_id, "valid_acc_curve")]
        assert len(steps) == len(set(steps)), "no epoch trained (and logged) twice"
        logged += len(steps)
    assert logged == sum(e.epochs_done for e in evaluations.values()) == round(reached.sum()), \
        "epochs trained = the sum over candidates of the highest rung each reached"
    parent = next(r for r in runs if r.data.tags.get("kind") == "search")
    assert "rungs.png" in [a.path for a in client.list_artifacts(parent.info.run_id)]


def test_seed_finishes_a_paused_evaluation_from_its_checkpoint(workdir):
    space = get_space("nb201")
    arch = space.enumerate()[4000]
    spec = DatasetSpec("digits")
    setting = Setting("nb201", "digits", NetworkConfig(4, 1), TrainConfig(epochs=9), 0)
    with DatabaseTrainer(_store(), space, (spec, spec.load()), setting, "cpu") as trainer:
        low = trainer.run(arch, stop_after=3)
    paused = _store().evaluation(low.evaluation_id)
    assert paused.status is Status.PAUSED and paused.epochs_done == 3 and Path(paused.checkpoint).is_file()
    proc = run_cli("seed", "--arch", arch.to_string(), "--epochs", "9", "-C", "4", "-N", "1", "--no-mlflow",
                   check=True)
    finished = _store().evaluation(paused.id)
    assert "trained 1 new" in proc.stdout and finished.status is Status.OK and finished.epochs_done == 9
    assert finished.valid_accs[:3] == paused.valid_accs, "continued, not restarted"
    assert finished.checkpoint is None and not Path(paused.checkpoint).exists()


def test_a_multi_fidelity_strategy_on_a_table_without_fidelities_or_a_bad_eta_is_one_line(workdir):
    path = Path("t.csv")
    pd.DataFrame({"arch": ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"], "acc": [1.0]}).to_csv(path)
    for args, message in ((["--benchmark", str(path), "--metric", "acc", "--strategy", "hb"], "needs several fidelities"),
                          (["--benchmark", "nb201-cifar10", "--strategy", "sh", "--eta", "1"], "eta"),
                          (["--benchmark", str(path), "--fidelity-columns", "acc"], "COLUMN:EPOCHS"),
                          (["--benchmark", "nb201-cifar10", "--max-cost", "-5"], "max-cost")):
        proc = run_cli("search", *args, "--budget", "3", "--no-mlflow")
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.slow
def test_a_killed_multi_fidelity_search_resumes_without_losing_a_finished_rung(workdir):
    args = [*SEARCH, "--strategy", "sh", "--no-mlflow"]
    proc = subprocess.Popen([CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    before = []
    while time.time() < deadline and proc.poll() is None:
        try:
            store = _store()
            search = store.search("sh-digits-accuracy-seed0-C4N1-9ep")
            before = store.trials(search.id) if search is not None else []
        except Exception:  # the database may not exist yet
            before = []
        if any(t.fidelity > 0.2 for t in before) and len(before) >= 6:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the search finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = _store()
    before = store.trials(store.search("sh-digits-accuracy-seed0-C4N1-9ep").id)
    paused = [e for e in store.evaluations() if e.status is Status.PAUSED]
    assert paused and all(Path(e.checkpoint).is_file() for e in paused), "a killed search keeps its checkpoints"

    run_cli(*args, check=True)
    store = _store()
    after = store.trials(store.search("sh-digits-accuracy-seed0-C4N1-9ep").id)
    kept = {(t.arch, t.fidelity): t.values["value"] for t in after}
    assert all(kept[(t.arch, t.fidelity)] == t.values["value"] for t in before), "no finished rung lost"
    assert len(after) == 13 and len(kept) == 13
    for e in store.evaluations():
        for t in after:
            if t.evaluation_id == e.id:  # every rung is the same run's curve, continued across the kill
                assert t.values["value"] == pytest.approx(e.valid_accs[round(t.fidelity * 9) - 1])
