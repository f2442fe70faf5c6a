"""Read-only places: a database on a read-only mount is read; writing where one cannot is one line, exit 2.

The read-only mount is real (a bind mount remounted read-only), so it also holds for root, whom
file permissions do not stop. Making one needs mount rights; without them these tests skip.
"""

from __future__ import annotations

import gc
import shutil
import sqlite3
import subprocess

import numpy as np
import pytest

from conftest import run_cli
from surrogate_nas.records import NetworkConfig, Setting, Status, TrainConfig, TrainResult
from surrogate_nas.spaces import get_space
from surrogate_nas.storage import open_store

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


@pytest.fixture
def readonly_mount(tmp_path):
    """``(source, mount)``: ``mount`` shows ``source`` read-only until the test ends."""
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    source, mount = tmp_path / "source", tmp_path / "readonly"
    source.mkdir()
    mount.mkdir()
    state = {"mounted": False}

    def remount() -> None:
        for args in (["mount", "--bind", str(source), str(mount)], ["mount", "-o", "remount,bind,ro", str(mount)]):
            done = subprocess.run(args, capture_output=True, text=True)
            if done.returncode != 0:
                if state["mounted"]:
                    subprocess.run(["umount", str(mount)], check=False)
                pytest.skip(f"cannot make a read-only mount here: {done.stderr.strip()}")
            state["mounted"] = True

    yield source, mount, remount
    if state["mounted"]:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _one_line_error(proc, *words) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-500:], proc.stderr[-2000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr


WRITERS = {
    "seed": ("seed", "-n", "1", "--epochs", "1", "-C", "4"),
    "search-live": ("search", "--benchmark", "digits", "--budget", "1", "--epochs", "1", "-C", "4"),
    "search-table": ("search", "--benchmark", "nb201-cifar10", "--strategy", "rs", "--budget", "3"),
    "benchmark-search": ("benchmark-search", "--benchmark", "nb201-cifar10", "--strategies", "rs", "--budget", "3",
                         "--seeds", "1"),
    "compare": ("compare", "--benchmark", "nb201-cifar10", "--predictors", "mean", "--train-sizes", "10",
                "--seeds", "1"),
    "fit": ("fit", "--predictor", "mean", "--benchmark", "nb201-cifar10"),
    "predict": ("predict", "--model", "some-name", ARCH),
    "quickstart": ("quickstart", "--budget", "1", "--epochs", "1"),
    "ui": ("ui", "--port", "1"),
    "db-export": ("db", "export", "out.csv"),
    "db-release": ("db", "release", "--all"),
}


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_a_read_only_working_directory_is_one_line_before_any_work(workdir, monkeypatch, readonly_mount, command):
    _, mount, remount = readonly_mount
    remount()
    monkeypatch.chdir(mount)
    monkeypatch.delenv("SURROGATE_NAS_DB")
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    proc = run_cli(*WRITERS[command])
    _one_line_error(proc)
    assert "kendall" not in proc.stdout and "best architectures" not in proc.stdout and "%|" not in proc.stderr


def _fill(url: str, n: int = 12) -> None:
    space = get_space("nb201")
    setting = Setting("nb201", "digits", NetworkConfig(4, 1), TrainConfig(epochs=1))
    rng = np.random.default_rng(0)
    with open_store(url) as store:
        for cell in space.enumerate()[:n]:
            eid = store.claim(space, cell, setting)
            acc = float(rng.uniform(20, 90))
            store.finish(eid, TrainResult(
                space="nb201", arch=cell.to_string(), canonical_key=cell.canonical_key, dataset="digits",
                network=setting.network, train=setting.train, seed=0, status=Status.OK, valid_acc=acc,
                test_acc=acc, train_losses=(1.0,), valid_accs=(acc,), train_seconds=0.1, params=100, flops=1000,
                device="cpu"))


@pytest.mark.parametrize("closed", [True, False], ids=["closed-cleanly", "wal-left-open"])
def test_a_database_on_a_read_only_mount_is_read_by_every_reader(workdir, readonly_mount, closed):
    source, mount, remount = readonly_mount
    _fill(f"sqlite:///{source / 'nas.db'}")
    run_cli("fit", "--predictor", "xgb", "--benchmark", "db", "--db", f"sqlite:///{source / 'nas.db'}",
            "--out", str(source / "model.zip"), "--no-mlflow", check=True)
    gc.collect()  # the in-process command's connections close as a process exit would close them
    holder = None if closed else sqlite3.connect(source / "nas.db")  # a writer still has it open: -wal, -shm
    if holder is not None:
        holder.execute("select count(*) from evaluations").fetchall()
    left = sorted(p.name for p in source.iterdir())
    assert left == (["model.zip", "nas.db"] if closed else ["model.zip", "nas.db", "nas.db-shm", "nas.db-wal"])
    remount()
    url = f"sqlite:///{mount / 'nas.db'}"

    stats = run_cli("db", "stats", "--db", url, check=True)
    assert "evaluations: 12" in stats.stdout
    top = run_cli("db", "top", "-k", "3", "--db", url, check=True)
    assert len([ln for ln in top.stdout.splitlines() if ln.startswith("nb201")]) == 3
    run_cli("db", "export", "out.csv", "--db", url, check=True)
    assert len((workdir / "out.csv").read_text().splitlines()) == 13
    run_cli("db", "claims", "--db", url, check=True)
    compared = run_cli("compare", "--benchmark", "db", "--db", url, "--predictors", "mean,xgb", "--train-sizes", "6",
                       "--seeds", "1", "--no-mlflow", check=True)
    assert "kendall tau" in compared.stdout
    predicted = run_cli("predict", "--model", str(mount / "model.zip"), ARCH, check=True)
    assert ARCH in predicted.stdout

    _one_line_error(run_cli("seed", "-n", "1", "--epochs", "1", "-C", "4", "--db", url, "--no-mlflow"),
                    "cannot write database", "read-only file system")
    _one_line_error(run_cli("db", "upgrade", "--db", url), "cannot write database")
    assert sorted(p.name for p in source.iterdir()) == left
    if holder is not None:
        holder.close()
