"""The architecture database on a real PostgreSQL server: concurrent first users, claims, upgrades."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from surrogate_nas.errors import StorageError
from surrogate_nas.records import NetworkConfig, Setting, Status, TrainConfig, TrainResult
from surrogate_nas.spaces import get_space
from surrogate_nas.storage import SCHEMA_VERSION, open_store, upgrade_schema
from surrogate_nas.storage import schema_v1
from surrogate_nas.storage.schema import meta

DUMP = Path(__file__).resolve().parents[1] / "data" / "schema1_release_0_1_0.sql"
SPACE = get_space("nb201")
SETTING = Setting("nb201", "digits", NetworkConfig(4, 1), TrainConfig(epochs=1))


def _result(arch, valid: float) -> TrainResult:
    return TrainResult(
        space="nb201", arch=arch.to_string(), canonical_key=arch.canonical_key, dataset="digits",
        network=SETTING.network, train=SETTING.train, seed=0, status=Status.OK, valid_acc=valid, test_acc=valid,
        train_losses=(1.0, 0.5), valid_accs=(valid / 2, valid), train_seconds=0.1, params=10, flops=20, device="cpu")


def _together(n: int, work) -> list:
    """Run ``work(i)`` in ``n`` threads released at the same instant; return results or exceptions."""
    barrier = threading.Barrier(n)
    out: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's assertion
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return out


def test_eight_first_users_of_a_new_database_all_open_it(postgres_url):
    def first_open(i: int) -> int:
        with open_store(postgres_url) as store:
            return store.schema_version

    assert _together(8, first_open) == [SCHEMA_VERSION] * 8


def test_claims_on_postgres_train_each_function_once(postgres_url):
    cells = SPACE.enumerate()[:12]

    def worker(i: int) -> list[int]:
        mine = []
        with open_store(postgres_url) as store:
            for cell in cells:
                eid = store.claim(SPACE, cell, SETTING)
                if eid is not None:
                    assert store.finish(eid, _result(cell, 50.0 + i))
                    mine.append(eid)
        return mine

    claimed = _together(4, worker)
    ids = [eid for mine in claimed for eid in mine]
    assert len(ids) == len(set(ids)) == len(cells)
    with open_store(postgres_url) as store:
        evals = store.evaluations()
        assert len(evals) == len(cells) and all(e.status is Status.OK for e in evals)
        assert {e.canonical_key for e in evals} == {c.canonical_key for c in cells}
        assert store.evaluated_keys(SETTING) == {c.canonical_key for c in cells}
        assert len(store.top(3, dataset="digits")) == 3


def _write_schema_1(url: str, tmp_path: Path) -> dict[str, int]:
    """Copy the 0.1.0 SQLite dump into PostgreSQL through the frozen version-1 tables."""
    dump = tmp_path / "v1.db"
    with sqlite3.connect(dump) as raw:
        raw.executescript(DUMP.read_text())
    source = create_engine(f"sqlite:///{dump}")
    target = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    counts = {}
    with source.connect() as src, target.begin() as dst:
        meta.create(dst)
        dst.execute(meta.insert().values(key="schema_version", value="1"))
        schema_v1.metadata.create_all(dst)
        for table in schema_v1.TABLES:
            rows = [dict(r) for r in src.execute(select(table)).mappings()]
            if rows:
                dst.execute(table.insert(), rows)
            counts[table.name] = len(rows)
    source.dispose()
    target.dispose()
    return counts


def test_schema_1_postgres_database_upgrades_once_under_concurrent_upgraders(postgres_url, tmp_path):
    counts = _write_schema_1(postgres_url, tmp_path)
    assert counts["evaluations"] == 7 and counts["search_trials"] == 10

    results = _together(3, lambda i: upgrade_schema(postgres_url))
    assert sorted(results, key=str) == sorted([(1, SCHEMA_VERSION)] + [(SCHEMA_VERSION, SCHEMA_VERSION)] * 2, key=str)
    with open_store(postgres_url) as store:
        evals = store.evaluations()
        assert len(evals) == 7 and all(e.space == "nb201" for e in evals)
        searches = store.searches()
        assert sum(len(store.trials(s.id)) for s in searches) == 10
        # The id sequences continue after the copied rows.
        fresh = next(c for c in SPACE.enumerate() if c.canonical_key not in {e.canonical_key for e in evals})
        new = store.claim(SPACE, fresh, SETTING)
        assert new is not None and new > max(e.id for e in evals)


def test_a_postgres_database_shared_with_other_applications_takes_our_tables_beside_theirs(postgres_url):
    # Unlike a SQLite file, a server database is often shared on purpose (see migrations._create).
    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.exec_driver_sql("create table customers (id serial primary key, name text)")
        conn.exec_driver_sql("insert into customers (name) values ('Ada')")
    with open_store(postgres_url) as store:
        eid = store.claim(SPACE, SPACE.enumerate()[0], SETTING)
        assert eid is not None and store.schema_version == SCHEMA_VERSION
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select name from customers").scalars().all() == ["Ada"]
    engine.dispose()


def test_a_postgres_table_named_like_ours_without_a_version_is_refused(postgres_url):
    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.exec_driver_sql("create table meta (id integer)")
    with pytest.raises(StorageError, match=r"has tables \['meta'\] but no schema version"):
        open_store(postgres_url)
    engine.dispose()
