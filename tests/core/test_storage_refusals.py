"""Files the store refuses before writing anything (damaged, another application's) and those it still opens."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from surrogate_nas.errors import SchemaVersionError, StorageError
from surrogate_nas.records import NetworkConfig, Setting, Status, TrainConfig, TrainResult
from surrogate_nas.spaces import get_space
from surrogate_nas.storage import SCHEMA_VERSION, open_store, upgrade_schema

DUMP = Path(__file__).resolve().parents[1] / "data" / "schema1_release_0_1_0.sql"
SPACE = get_space("nb201")


def _opens(url: str):
    """Every way a command opens a database: to write, to read, to upgrade."""
    return {
        "write": lambda: open_store(url).close(),
        "read": lambda: open_store(url, read_only=True).close(),
        "upgrade": lambda: upgrade_schema(url),
    }


def _filled(path: Path, n: int = 60) -> None:
    setting = Setting("nb201", "digits", NetworkConfig(4, 1), TrainConfig(epochs=1))
    with open_store(f"sqlite:///{path}") as store:
        store.get_or_create_search("kept", {"strategy": "rs"})
        for cell in SPACE.enumerate()[:n]:
            eid = store.claim(SPACE, cell, setting)
            store.finish(eid, TrainResult(
                space="nb201", arch=cell.to_string(), canonical_key=cell.canonical_key, dataset="digits",
                network=setting.network, train=setting.train, seed=0, status=Status.OK, valid_acc=50.0,
                test_acc=50.0, train_losses=(1.0,) * 20, valid_accs=(50.0,) * 20, train_seconds=0.1, params=1,
                flops=1, device="cpu"))
    with sqlite3.connect(path) as raw:
        raw.execute("pragma wal_checkpoint(truncate)")


def test_a_damaged_file_is_refused_by_every_open_and_not_written(tmp_path):
    path = tmp_path / "nas.db"
    _filled(path)
    with open(path, "r+b") as fh:
        fh.seek(path.stat().st_size // 2)
        fh.write(os.urandom(8192))
    damaged = path.read_bytes()
    for how, open_it in _opens(f"sqlite:///{path}").items():
        with pytest.raises(StorageError, match=r"is damaged \(.+\); restore it from a backup") as info:
            open_it()
        assert "\n" not in str(info.value) and f"sqlite3 {path} .dump | sqlite3 recovered.db" in str(info.value), how
    assert path.read_bytes() == damaged


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 200)
    for how, open_it in _opens(f"sqlite:///{path}").items():
        with pytest.raises(StorageError, match="is not a SQLite database, or is damaged"):
            open_it()
    assert path.read_text().startswith("these are my notes")


@pytest.mark.parametrize("script, message", [
    ("create table customers (id integer primary key, name text); insert into customers values (1, 'Ada');"
     "create table orders (id integer); create table invoices (id integer); create table refunds (id integer);",
     r"holds another application's tables \(customers, invoices, orders and 1 more\); .*--db sqlite:///"),
    ("create view answer as select 42;", r"holds another application's tables \(answer\)"),
    ("create table meta (id integer);", r"has tables \['meta'\] but no schema version; it was not created by"),
], ids=["tables", "a-view", "a-table-named-like-ours"])
def test_another_applications_file_is_refused_and_left_as_it_was(tmp_path, script, message):
    path = tmp_path / "theirs.db"
    with sqlite3.connect(path) as raw:
        raw.executescript(script)
    kept = path.read_bytes()
    for how, open_it in _opens(f"sqlite:///{path}").items():
        with pytest.raises(StorageError, match=message):
            open_it()
    assert path.read_bytes() == kept and sorted(p.name for p in tmp_path.iterdir()) == ["theirs.db"]


def test_an_empty_file_and_our_own_databases_are_accepted(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    with open_store(f"sqlite:///{empty}") as store:
        assert store.schema_version == SCHEMA_VERSION
    with sqlite3.connect(empty) as raw:
        assert raw.execute("pragma journal_mode").fetchone()[0] == "wal"

    ours = tmp_path / "ours.db"
    _filled(ours, n=3)
    with sqlite3.connect(ours) as raw:  # a table someone added to our database later does not lock it
        raw.execute("create table notes (text text)")
    with open_store(f"sqlite:///{ours}") as store:
        assert store.stats()["evaluations"] == 3

    v1 = tmp_path / "v1.db"
    with sqlite3.connect(v1) as raw:
        raw.executescript(DUMP.read_text())
    with pytest.raises(SchemaVersionError, match="surrogate-nas db upgrade"):
        open_store(f"sqlite:///{v1}")
    assert upgrade_schema(f"sqlite:///{v1}") == (1, SCHEMA_VERSION)
    with open_store(f"sqlite:///{v1}") as store:
        assert store.stats()["evaluations"] > 0
