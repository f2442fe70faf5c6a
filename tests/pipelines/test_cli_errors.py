"""What the CLI does with a bug (exit 1, a log file) and with a damaged or foreign database (exit 2, untouched)."""

from __future__ import annotations

import gc
import os
import sqlite3
import tempfile
from pathlib import Path

import click
import pytest

import surrogate_nas
from conftest import run_cli
from surrogate_nas.errors import InputDataError, InternalError
from surrogate_nas.pipelines.cli.app import cli, db_option


@pytest.fixture
def failing_command():
    """Register ``surrogate-nas explode [--db URL]``, which raises the exception given, for one test."""
    def register(exc: BaseException) -> None:
        @cli.command("explode")
        @db_option
        def explode(db_url):
            raise exc

    yield register
    cli.commands.pop("explode", None)


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize("exc", [InternalError("the trace lost a row"), ZeroDivisionError("division by zero")],
                         ids=["InternalError", "unexpected"])
def test_a_bug_is_exit_1_one_line_and_a_log_with_the_traceback(workdir, monkeypatch, failing_command, exc):
    monkeypatch.setenv("XDG_STATE_HOME", str(workdir / "state"))
    failing_command(exc)
    proc = run_cli("explode", "--db", "postgresql://team:s3cret@db.example/nas")
    assert proc.returncode == 1
    line = _one_line(proc.stderr)
    assert line.startswith(f"internal error (a bug in surrogate-nas): {type(exc).__name__}: {exc};")
    (log,) = (workdir / "state" / "surrogate-nas").iterdir()
    assert f"the traceback is in {log};" in line
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and f"{type(exc).__name__}: {exc}" in text
    assert "command: surrogate-nas explode --db postgresql://team:***@db.example/nas" in text
    assert f"surrogate-nas {surrogate_nas.__version__}" in text and "s3cret" not in text


def test_the_log_falls_back_to_the_temp_folder(workdir, monkeypatch, failing_command):
    (workdir / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(workdir / "not-a-folder"))
    (workdir / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(workdir / "tmp"))
    failing_command(InternalError("broken"))
    proc = run_cli("explode")
    assert proc.returncode == 1
    (log,) = (workdir / "tmp").iterdir()
    assert f"the traceback is in {log};" in _one_line(proc.stderr) and "InternalError: broken" in log.read_text()


def test_a_user_error_is_still_exit_2_without_a_log(workdir, monkeypatch, failing_command):
    monkeypatch.setenv("XDG_STATE_HOME", str(workdir / "state"))
    failing_command(InputDataError("bad value"))
    proc = run_cli("explode")
    assert proc.returncode == 2 and _one_line(proc.stderr) == "error: bad value"
    assert not (workdir / "state").exists()


# -- a damaged database ---------------------------------------------------------------
def _fill(url: str) -> None:
    """A database as a user has it: two table searches (trials) and a few hundred evaluations."""
    from surrogate_nas.records import NetworkConfig, Setting, Status, TrainConfig, TrainResult
    from surrogate_nas.spaces import get_space
    from surrogate_nas.storage import open_store

    for name in ("first", "second"):
        surrogate_nas.search(benchmark="nb201-cifar10", strategy="rs", budget=40, name=name, mlflow=False, db=url)
    space = get_space("nb201")
    setting = Setting("nb201", "digits", NetworkConfig(4, 1), TrainConfig(epochs=1))
    with open_store(url) as store:
        for i, cell in enumerate(space.enumerate()[:300]):
            eid = store.claim(space, cell, setting)
            store.finish(eid, TrainResult(
                space="nb201", arch=cell.to_string(), canonical_key=cell.canonical_key, dataset="digits",
                network=setting.network, train=setting.train, seed=0, status=Status.OK, valid_acc=50.0 + i % 40,
                test_acc=50.0, train_losses=(1.0,), valid_accs=(50.0,), train_seconds=0.1, params=100, flops=1000,
                device="cpu"))
    gc.collect()  # the API's pooled connections close, as they would at the end of a process


def _searches(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as raw:
        return raw.execute("select id, name from searches order by id").fetchall()


def test_a_damaged_database_is_refused_by_every_command_and_left_as_it_was(workdir):
    path = workdir / "nas.db"
    url = f"sqlite:///{path}"
    _fill(url)
    with sqlite3.connect(path) as raw:
        raw.execute("pragma wal_checkpoint(truncate)")
    before = _searches(path)
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.seek(size // 2)
        fh.write(os.urandom(8192))
    with sqlite3.connect(path) as raw:
        try:
            verdict = raw.execute("pragma quick_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            verdict = str(exc)
    assert verdict != "ok", "the damage is visible to SQLite"
    damaged = path.read_bytes()

    commands = {
        "search on a table": ("search", "--benchmark", "nb201-cifar10", "--strategy", "rs", "--budget", "3",
                              "--name", "third", "--no-mlflow"),
        "live search": ("search", "--benchmark", "digits", "--budget", "1", "--epochs", "1", "-C", "4",
                        "--name", "fourth", "--no-mlflow"),
        "seed": ("seed", "-n", "1", "--epochs", "1", "-C", "4", "--no-mlflow"),
        "db stats": ("db", "stats"),
        "db upgrade": ("db", "upgrade"),
    }
    for what, args in commands.items():
        proc = run_cli(*args, "--db", url)
        assert proc.returncode == 2, (what, proc)
        line = _one_line(proc.stderr)
        assert line.startswith(f"error: database {url!r} is damaged"), (what, line)
        assert f"sqlite3 {path} .dump" in line, (what, line)
        assert "best architectures" not in proc.stdout, what
    gc.collect()
    assert path.read_bytes() == damaged
    assert _searches(path) == before == [(1, "first"), (2, "second")]


# -- another application's database --------------------------------------------------
def test_another_applications_sqlite_file_is_refused_and_left_as_it_was(workdir):
    path = workdir / "crm.db"
    with sqlite3.connect(path) as raw:
        raw.executescript("create table customers (id integer primary key, name text);"
                          "insert into customers values (1, 'Ada');"
                          "create table orders (id integer primary key); create table invoices (id integer);"
                          "create view big_customers as select * from customers;")
    kept = path.read_bytes()
    proc = run_cli("search", "--benchmark", "nb201-cifar10", "--strategy", "rs", "--budget", "3", "--no-mlflow",
                   "--db", f"sqlite:///{path}")
    assert proc.returncode == 2, proc
    line = _one_line(proc.stderr)
    assert "holds another application's tables (big_customers, customers, invoices and 1 more)" in line
    gc.collect()
    assert path.read_bytes() == kept and sorted(p.name for p in workdir.iterdir()) == ["crm.db"]
