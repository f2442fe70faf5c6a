"""The architecture database shared by real OS processes on one SQLite file."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys

from surrogate_nas.records import NetworkConfig, Setting, Status, TrainConfig, TrainResult
from surrogate_nas.spaces import get_space
from surrogate_nas.spaces.nb201.cell import canonical_cells
from surrogate_nas.storage import open_store

NET = NetworkConfig(channels=8, cells_per_stage=1)
TRAIN = TrainConfig(epochs=1)
SETTING = Setting("nb201", "cifar10", NET, TRAIN, 0)
SPACE = get_space("nb201")

# Claims and finishes `count` canonical cells from `start`, once every worker is ready.
WORKER = r"""
import json, os, sys, time
from surrogate_nas.records import NetworkConfig, Setting, Status, TrainConfig, TrainResult
from surrogate_nas.spaces import get_space
from surrogate_nas.spaces.nb201.cell import canonical_cells
from surrogate_nas.storage import open_store

url, start, count, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
net, train = NetworkConfig(channels=8, cells_per_stage=1), TrainConfig(epochs=1)
setting = Setting("nb201", "cifar10", net, train, 0)
space = get_space("nb201")
store = open_store(url)
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
mine = []
for i, cell in enumerate(canonical_cells()[start:start + count]):
    eid = store.claim(space, cell, setting)
    if eid is None:
        continue
    store.put_features("nb201", "probe", {cell.canonical_key: float(i)})
    store.finish(eid, TrainResult(
        space="nb201", arch=cell.to_string(), canonical_key=cell.canonical_key, dataset="cifar10", network=net,
        train=train, seed=0, status=Status.OK, valid_acc=i / count, test_acc=None,
        train_losses=(1.0,), valid_accs=(i / count,), train_seconds=0.0, params=1, flops=1,
        device=f"pid{os.getpid()}"))
    mine.append(eid)
store.close()
print(json.dumps(mine), flush=True)
"""

# Claims one cell, reports the id, then exits WITHOUT finishing when stdin closes.
HOLDER = r"""
import os, sys
from surrogate_nas.records import NetworkConfig, Setting, TrainConfig
from surrogate_nas.spaces import get_space
from surrogate_nas.spaces.nb201.cell import canonical_cells
from surrogate_nas.storage import open_store

store = open_store(sys.argv[1])
eid = store.claim(get_space("nb201"), canonical_cells()[int(sys.argv[2])],
                  Setting("nb201", "cifar10", NetworkConfig(channels=8, cells_per_stage=1), TrainConfig(epochs=1)))
print(eid, flush=True)
sys.stdin.read()
os._exit(0)
"""


def test_processes_claiming_overlapping_sets_lose_nothing_and_duplicate_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    open_store(url).close()
    go = tmp_path / "go"
    spans = [(0, 40), (20, 40)]  # the second overlaps the first by 20 cells
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, str(start), str(count), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        for start, count in spans
    ]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready", p.stderr.read()
        go.touch()
        outputs = [p.communicate(timeout=240) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err
        assert "locked" not in err
    claimed = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    all_ids = [eid for ids in claimed for eid in ids]

    expected_keys = {c.canonical_key for c in canonical_cells()[0:60]}
    with open_store(url) as store:
        evals = store.evaluations()
        assert len(all_ids) == len(set(all_ids)) == 60
        assert sorted(e.id for e in evals) == sorted(all_ids)
        assert {e.canonical_key for e in evals} == expected_keys
        assert all(e.status is Status.OK for e in evals)
        assert len(store.get_features("nb201", "probe", sorted(expected_keys))) == 60
        # Every finished row was written by the process that claimed it.
        owner = {eid: i for i, ids in enumerate(claimed) for eid in ids}
        devices = {e.id: e.device for e in evals}
        assert len({devices[eid] for eid, i in owner.items() if i == 0}) == 1
        assert store.evaluated_keys(SETTING) == expected_keys


def test_running_claim_of_a_live_process_is_kept_and_of_a_dead_one_taken_over(tmp_path):
    url = f"sqlite:///{tmp_path / 'resume.db'}"
    cell = canonical_cells()[7]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, "7"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        line = holder.stdout.readline().strip()
        assert line.isdigit(), holder.stderr.read()
        held = int(line)
        with open_store(url) as store:
            assert store.evaluation(held).worker.endswith(f":{holder.pid}")
            assert store.claim(SPACE, cell, SETTING) is None
            assert store.evaluated_keys(SETTING) == {cell.canonical_key}

            holder.stdin.close()
            assert holder.wait(timeout=60) == 0

            assert store.evaluated_keys(SETTING) == set()
            resumed = store.claim(SPACE, cell, SETTING)
            assert resumed == held
            assert store.evaluation(resumed).worker == store.worker
            assert len(store.evaluations()) == 1
    finally:
        if holder.poll() is None:
            holder.kill()


def _forked_child(store, index: int) -> None:
    cell = canonical_cells()[index]
    eid = store.claim(SPACE, cell, SETTING)
    store.finish(
        eid,
        TrainResult(
            space="nb201", arch=cell.to_string(), canonical_key=cell.canonical_key, dataset="cifar10", network=NET,
            train=TRAIN, seed=0, status=Status.OK, valid_acc=0.5, test_acc=None, train_losses=(1.0,),
            valid_accs=(0.5,), train_seconds=0.0, params=1, flops=1, device="child",
        ),
    )


def test_store_opened_before_fork_works_in_parent_and_child(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'fork.db'}") as store:
        parent_claim = store.claim(SPACE, canonical_cells()[1], SETTING)
        child = multiprocessing.get_context("fork").Process(target=_forked_child, args=(store, 2))
        child.start()
        child.join(timeout=60)
        assert child.exitcode == 0
        by_key = {e.canonical_key: e for e in store.evaluations()}
        assert by_key[canonical_cells()[2].canonical_key].device == "child"
        assert by_key[canonical_cells()[2].canonical_key].worker != store.worker
        assert by_key[canonical_cells()[1].canonical_key].id == parent_claim
