"""The architecture database on real SQLite files: schema, claims, reads, export, searches, features."""

from __future__ import annotations

import json
import math
import sqlite3
import threading

import pandas as pd
import pytest
from sqlalchemy import inspect, text

from surrogate_nas.errors import InputDataError, SchemaVersionError, StorageError
from surrogate_nas.records import Evaluation, NetworkConfig, Setting, Status, TrainConfig, TrainResult
from surrogate_nas.spaces import get_space
from surrogate_nas.spaces.nb201.cell import Cell, all_cells, canonical_cells
from surrogate_nas.storage import SCHEMA_VERSION, ArchitectureStore, SearchTrial, open_store, upgrade_schema
from surrogate_nas.storage.engine import build_engine, session_scope

SPACE = get_space("nb201")
NET = NetworkConfig(channels=8, cells_per_stage=1)
TRAIN = TrainConfig(epochs=2)


def setting(dataset="cifar10", net=NET, train=TRAIN, seed=0) -> Setting:
    return Setting("nb201", dataset, net, train, seed)


def claim(store, cell, dataset="cifar10", net=NET, train=TRAIN, seed=0):
    return store.claim(SPACE, cell, setting(dataset, net, train, seed))


def make_result(cell: Cell, *, status=Status.OK, valid_acc=0.5, dataset="cifar10", seed=0, train=TRAIN):
    return TrainResult(
        space="nb201",
        arch=cell.to_string(),
        canonical_key=cell.canonical_key,
        dataset=dataset,
        network=NET,
        train=train,
        seed=seed,
        status=status,
        valid_acc=valid_acc,
        test_acc=None if valid_acc is None else valid_acc - 0.01,
        train_losses=(2.0, float("nan")),
        valid_accs=(0.3, 0.5),
        train_seconds=1.5,
        params=1234,
        flops=5678,
        device="cpu",
        message="done",
    )


def twins() -> tuple[Cell, Cell]:
    """Two different arch strings with the same canonical key."""
    seen: dict[str, Cell] = {}
    for cell in all_cells():
        if cell.canonical_key in seen:
            return seen[cell.canonical_key], cell
        seen[cell.canonical_key] = cell
    raise LookupError("NAS-Bench-201 has isomorphic cells")


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'nested' / 'dir' / 'nas.db'}"


@pytest.fixture
def store(url):
    s = open_store(url)
    yield s
    s.close()


# -- schema -------------------------------------------------------------------------
def test_open_creates_folder_schema_and_version(url, tmp_path):
    store = open_store(url)
    store.close()
    path = tmp_path / "nested" / "dir" / "nas.db"
    assert path.is_file()
    with sqlite3.connect(path) as raw:
        tables = {r[0] for r in raw.execute("select name from sqlite_master where type='table'")}
        version = raw.execute("select value from meta where key='schema_version'").fetchone()[0]
        journal = raw.execute("pragma journal_mode").fetchone()[0]
    assert {"meta", "architectures", "evaluations", "features", "searches", "search_trials"} <= tables
    assert int(version) == SCHEMA_VERSION == 2
    assert journal.lower() == "wal"


def test_reopen_keeps_data(url):
    cell = canonical_cells()[5]
    with open_store(url) as first:
        eid = claim(first, cell)
        first.finish(eid, make_result(cell))
    with open_store(url) as second:
        (e,) = second.evaluations()
        assert (e.id, e.space, e.arch, e.status) == (eid, "nb201", cell.to_string(), Status.OK)
        assert (e.params_ref, e.flops_ref) == SPACE.reference_cost(cell)
        assert second.stats()["schema_version"] == SCHEMA_VERSION


def test_architecture_row_holds_space_key_and_reference_size(store, url):
    cell = canonical_cells()[9]
    claim(store, cell)
    engine = build_engine(url)
    with session_scope(engine) as conn:
        row = conn.execute(text("select space, arch, canonical_key, params_ref, flops_ref from architectures")).one()
        ev = conn.execute(text("select space, network, recipe from evaluations")).one()
    engine.dispose()
    assert row.space == "nb201" and row.arch == cell.to_string() and row.canonical_key == cell.canonical_key
    assert (row.params_ref, row.flops_ref) == SPACE.reference_cost(cell)
    assert ev.space == "nb201" and json.loads(ev.network) == {"channels": 8, "cells_per_stage": 1}
    assert json.loads(ev.recipe) == {"batch_size": 64, "learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.0005}


def test_other_schema_version_names_upgrade_command(url, tmp_path):
    open_store(url).close()
    with sqlite3.connect(tmp_path / "nested" / "dir" / "nas.db") as raw:
        raw.execute("update meta set value='0' where key='schema_version'")
    with pytest.raises(SchemaVersionError, match=r"surrogate-nas db upgrade --db sqlite:///"):
        open_store(url)


def test_newer_schema_version_is_refused(url, tmp_path):
    open_store(url).close()
    with sqlite3.connect(tmp_path / "nested" / "dir" / "nas.db") as raw:
        raw.execute("update meta set value='7' where key='schema_version'")
    with pytest.raises(SchemaVersionError, match="newer"):
        open_store(url)
    with pytest.raises(SchemaVersionError, match="newer"):
        upgrade_schema(url)


def test_upgrade_applies_registered_steps_and_bumps_version(url, tmp_path):
    open_store(url).close()
    with sqlite3.connect(tmp_path / "nested" / "dir" / "nas.db") as raw:
        raw.execute(f"update meta set value='{SCHEMA_VERSION - 1}' where key='schema_version'")
    with pytest.raises(SchemaVersionError, match=f"no migration to version {SCHEMA_VERSION}"):
        upgrade_schema(url, migrations={})

    def add_note(conn):
        conn.execute(text("alter table searches add column note varchar(64)"))

    assert upgrade_schema(url, migrations={SCHEMA_VERSION - 1: add_note}) == (SCHEMA_VERSION - 1, SCHEMA_VERSION)
    with open_store(url) as store:
        with store.session() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("searches")}
        assert "note" in columns
    assert upgrade_schema(url) == (SCHEMA_VERSION, SCHEMA_VERSION)  # already current: nothing to do


@pytest.mark.parametrize(
    "bad, cause",
    [
        ("not a url at all", "not a database URL"),
        ("nosuchdb://host/db", "unknown database scheme"),
        ("postgresql+nosuchdriver://u:secret@localhost/db", "unknown database scheme"),
        ("mysql://u:secret@localhost/db", "driver not installed"),
    ],
)
def test_unusable_url_raises_storage_error(bad, cause):
    with pytest.raises(StorageError, match=cause) as info:
        open_store(bad)
    message = str(info.value)
    assert "\n" not in message and "secret" not in message
    assert bad.split("://")[0] in message


def test_unwritable_sqlite_path_raises_storage_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="cannot create its folder") as info:
        open_store(f"sqlite:///{blocker / 'sub' / 'nas.db'}")
    assert "a_file" in str(info.value)
    with pytest.raises(StorageError, match="cannot open database"):
        open_store(f"sqlite:///{tmp_path}")  # a folder, not a file


# -- claims -------------------------------------------------------------------------
def test_second_claim_of_same_setting_is_refused(store):
    cell = canonical_cells()[1]
    first = claim(store, cell)
    assert isinstance(first, int)
    assert claim(store, cell) is None
    store.finish(first, make_result(cell))
    assert claim(store, cell) is None
    assert len(store.evaluations()) == 1


def test_isomorphic_twin_is_refused(store):
    a, b = twins()
    assert a.to_string() != b.to_string() and a.canonical_key == b.canonical_key
    assert claim(store, a) is not None
    assert claim(store, b) is None


def test_any_different_setting_is_a_new_claim(store):
    cell = canonical_cells()[2]
    ids = {
        claim(store, cell),
        claim(store, cell, seed=1),
        claim(store, cell, train=TrainConfig(epochs=4)),
        claim(store, cell, dataset="cifar100"),
        claim(store, cell, net=NetworkConfig(channels=16, cells_per_stage=1)),
        claim(store, cell, net=NetworkConfig(channels=8, cells_per_stage=2)),
        claim(store, cell, train=TrainConfig(epochs=2, learning_rate=0.05)),
    }
    assert None not in ids and len(ids) == 7
    assert {(e.epochs, e.seed) for e in store.evaluations(dataset="cifar10", network=NET)
            if e.train_config["learning_rate"] == 0.1} == {
        (2, 0),
        (2, 1),
        (4, 0),
    }


def test_stale_running_claim_is_taken_over(url):
    cell = canonical_cells()[3]
    with open_store(url) as owner, open_store(url, stale_after=0.0) as impatient:
        eid = claim(owner, cell)
        assert claim(owner, cell) is None  # fresh and live
        assert claim(impatient, cell) == eid
        assert impatient.finish(eid, make_result(cell)) is True
        # The first owner comes back late: its result does not overwrite the finished row.
        assert owner.finish(eid, make_result(cell, valid_acc=0.1)) is False
        assert owner.evaluation(eid).valid_acc == 0.5


def test_takeover_by_twin_points_row_at_the_new_arch(url):
    a, b = twins()
    with open_store(url) as owner, open_store(url, stale_after=0.0) as other:
        eid = claim(owner, a)
        assert claim(other, b) == eid
        assert other.evaluation(eid).arch == b.to_string()


def test_finish_then_read_back_plain_records(store):
    cell = canonical_cells()[4]
    eid = claim(store, cell, seed=3)
    running = store.evaluation(eid)
    assert running.status is Status.RUNNING and running.finished_at is None
    assert running.worker == store.worker and running.heartbeat_at is not None
    assert store.finish(eid, make_result(cell, seed=3)) is True
    store.set_mlflow_run_id(eid, "abc123")
    (e,) = store.evaluations(status="ok")
    assert isinstance(e, Evaluation)
    assert (e.canonical_key, e.dataset, e.channels, e.cells_per_stage, e.epochs, e.seed) == (
        cell.canonical_key,
        "cifar10",
        8,
        1,
        2,
        3,
    )
    assert e.valid_acc == 0.5 and e.test_acc == pytest.approx(0.49)
    assert e.train_losses[0] == 2.0 and math.isnan(e.train_losses[1])
    assert e.valid_accs == (0.3, 0.5)
    assert (e.params, e.flops, e.device, e.message, e.mlflow_run_id) == (1234, 5678, "cpu", "done", "abc123")
    assert e.finished_at >= e.created_at and e.created_at.tzinfo is not None
    assert e.train_config["epochs"] == 2 and e.network == NET
    assert store.finish(eid, make_result(cell, seed=3)) is False


def test_finish_rejects_wrong_or_unfinished_results(store):
    cell, other = canonical_cells()[6], canonical_cells()[7]
    eid = claim(store, cell)
    with pytest.raises(InputDataError, match="canonical key"):
        store.finish(eid, make_result(other))
    with pytest.raises(InputDataError, match="finished result"):
        store.finish(eid, make_result(cell, status=Status.RUNNING))
    with pytest.raises(StorageError, match="no evaluation with id 999"):
        store.finish(999, make_result(cell))


def test_release_frees_the_setting(store):
    cell = canonical_cells()[8]
    eid = claim(store, cell)
    assert store.release(eid) is True
    assert store.evaluations() == []
    again = claim(store, cell)
    assert again is not None
    store.finish(again, make_result(cell))
    assert store.release(again) is False  # finished work is never released
    assert len(store.evaluations()) == 1


def test_evaluated_keys_counts_finished_and_live_running(url):
    cells = canonical_cells()[10:13]
    with open_store(url) as store, open_store(url, stale_after=0.0) as impatient:
        done = claim(store, cells[0])
        store.finish(done, make_result(cells[0], status=Status.DIVERGED, valid_acc=None))
        claim(store, cells[1])
        claim(store, cells[2], seed=1)
        keys = store.evaluated_keys(setting())
        assert keys == {cells[0].canonical_key, cells[1].canonical_key}
        # For a store that deems every running claim stale, only finished work counts.
        assert impatient.evaluated_keys(setting()) == {cells[0].canonical_key}


def test_top_returns_best_ok_evaluations(store):
    accs = [0.7, 0.9, None, 0.8]
    statuses = [Status.OK, Status.OK, Status.FAILED, Status.DIVERGED]
    for cell, acc, status in zip(canonical_cells()[20:24], accs, statuses):
        eid = claim(store, cell)
        store.finish(eid, make_result(cell, status=status, valid_acc=acc))
    best = store.top(5, dataset="cifar10")
    assert [e.valid_acc for e in best] == [0.9, 0.7]
    assert [e.test_acc for e in store.top(1, metric="test_acc")] == [pytest.approx(0.89)]
    assert store.top(3, dataset="imagenet") == []
    with pytest.raises(InputDataError, match="metric must be one of"):
        store.top(3, metric="loss")
    with pytest.raises(InputDataError, match="status must be one of"):
        store.evaluations(status="done")


def test_stats_counts(store):
    for i, cell in enumerate(canonical_cells()[30:33]):
        eid = claim(store, cell, dataset="cifar10" if i < 2 else "cifar100")
        if i == 0:
            store.finish(eid, make_result(cell))
    store.get_or_create_search("s", {})
    stats = store.stats()
    assert stats["evaluations"] == 3 and stats["architectures"] == 3 and stats["searches"] == 1
    assert stats["by_status"] == {"running": 2, "paused": 0, "ok": 1, "diverged": 0, "failed": 0}
    assert stats["by_dataset"] == {"cifar10": 2, "cifar100": 1} and stats["by_space"] == {"nb201": 3}
    assert stats["url"].endswith("nas.db") and stats["schema_version"] == SCHEMA_VERSION


def test_session_rolls_back_on_error(store):
    with pytest.raises(RuntimeError):
        with store.session(write=True) as conn:
            conn.execute(text("insert into meta (key, value) values ('probe', 'x')"))
            raise RuntimeError("boom")
    with store.session() as conn:
        assert conn.execute(text("select count(*) from meta where key='probe'")).scalar_one() == 0


# -- export -------------------------------------------------------------------------
def _filled(store, n=3):
    for cell in canonical_cells()[40 : 40 + n]:
        eid = claim(store, cell)
        store.finish(eid, make_result(cell))


def test_dataframe_has_one_row_per_evaluation(store):
    assert list(store.dataframe().columns)[:4] == ["id", "space", "arch", "canonical_key"]
    assert store.dataframe().empty
    _filled(store)
    frame = store.dataframe(dataset="cifar10")
    assert len(frame) == 3 and frame["status"].tolist() == ["ok"] * 3
    assert frame["valid_accs"].iloc[0] == [0.3, 0.5]
    assert frame["learning_rate"].iloc[0] == TRAIN.learning_rate


def test_export_csv_and_parquet_read_back(store, tmp_path):
    _filled(store)
    assert store.export(tmp_path / "out" / "evals.csv") == 3
    assert store.export(tmp_path / "out" / "evals.parquet") == 3
    csv = pd.read_csv(tmp_path / "out" / "evals.csv")
    parquet = pd.read_parquet(tmp_path / "out" / "evals.parquet")
    for frame in (csv, parquet):
        assert len(frame) == 3
        assert set(frame["arch"]) == {c.to_string() for c in canonical_cells()[40:43]}
        assert frame["params_ref"].tolist() == [SPACE.reference_cost(c)[0] for c in canonical_cells()[40:43]]
        assert frame["space"].tolist() == ["nb201"] * 3 and frame["channels"].tolist() == [8] * 3
    assert json.loads(csv["train_losses"].iloc[0]) == [2.0, None]
    assert list(parquet["valid_accs"].iloc[0]) == [0.3, 0.5]
    store.export(tmp_path / "evals.txt", fmt="csv")
    assert pd.read_csv(tmp_path / "evals.txt").shape == csv.shape


def test_export_rejects_unknown_format(store, tmp_path):
    with pytest.raises(InputDataError, match=r"\.csv, \.parquet"):
        store.export(tmp_path / "evals.xlsx")
    with pytest.raises(InputDataError, match="'csv' or 'parquet'"):
        store.export(tmp_path / "evals.csv", fmt="json")
    assert not (tmp_path / "evals.xlsx").exists()


# -- searches and features ------------------------------------------------------------
def test_search_and_trials(store):
    sid = store.get_or_create_search("bo-1", {"strategy": "bo", "budget": 10})
    assert store.get_or_create_search("bo-1", {"budget": 10, "strategy": "bo"}) == sid
    with pytest.raises(InputDataError, match=r"budget.*pick another --name"):
        store.get_or_create_search("bo-1", {"strategy": "bo", "budget": 20})
    cells = canonical_cells()[50:53]
    eid = claim(store, cells[0])
    first = store.add_trial(sid, 0, cells[0].to_string(), {"valid_acc": 0.8}, evaluation_id=eid, cost_seconds=2.0)
    store.add_trial(sid, 2, cells[2].to_string(), {"valid_acc": float("nan")})
    store.add_trial(sid, 1, cells[1].to_string(), {"valid_acc": 0.6})
    assert store.add_trial(sid, 5, cells[0].to_string(), {"valid_acc": 0.1}) == first
    low = store.add_trial(sid, 6, cells[0].to_string(), {"valid_acc": 0.4}, fidelity=1 / 3)
    assert low != first
    with pytest.raises(InputDataError, match="fidelity"):
        store.add_trial(sid, 7, cells[0].to_string(), {}, fidelity=1.5)
    trials = store.trials(sid)
    assert all(isinstance(t, SearchTrial) for t in trials)
    assert [t.step for t in trials] == [0, 1, 2, 6] and [t.fidelity for t in trials] == [1, 1, 1, 1 / 3]
    assert trials[0].values == {"valid_acc": 0.8} and trials[0].evaluation_id == eid
    assert trials[0].cost_seconds == 2.0 and trials[2].values == {"valid_acc": None}
    assert store.search("bo-1").config == {"strategy": "bo", "budget": 10}
    assert store.search("missing") is None
    assert [s.name for s in store.searches()] == ["bo-1"]
    assert store.trials(sid + 1) == []
    with pytest.raises(InputDataError, match="no search with id"):
        store.add_trial(sid + 1, 0, cells[0].to_string(), {})
    # A config stored before an option existed resumes when the option has its default value.
    old = store.get_or_create_search("old", {"strategy": "bo"})
    assert store.get_or_create_search("old", {"strategy": "bo", "workers": 1}, defaults={"workers": 1}) == old
    with pytest.raises(InputDataError, match="workers"):
        store.get_or_create_search("old", {"strategy": "bo", "workers": 4}, defaults={"workers": 1})


def test_search_config_must_be_json(store):
    with pytest.raises(InputDataError, match="JSON"):
        store.get_or_create_search("x", {"fn": object()})


def test_features_upsert_and_lookup(store):
    keys = [f"key-{i}" for i in range(1200)]  # more than one IN (...) chunk
    store.put_features("nb101", "synflow", {k: float(i) for i, k in enumerate(keys)})
    store.put_features("nb101", "synflow", {"key-3": 99.0, "key-new": float("inf")})
    store.put_features("nb101", "jacov", {"key-3": -1.0})
    store.put_features("darts", "jacov", {"key-3": -2.0})
    got = store.get_features("nb101", "synflow", keys + ["key-new", "absent"])
    assert len(got) == 1201 and got["key-1199"] == 1199.0 and got["key-3"] == 99.0
    assert math.isnan(got["key-new"]) and "absent" not in got
    assert store.get_features("nb101", "jacov", keys) == {"key-3": -1.0}
    assert store.get_features("darts", "jacov", keys) == {"key-3": -2.0}
    with pytest.raises(InputDataError, match="must be a number"):
        store.put_features("nb101", "synflow", {"k": "high"})


# -- locking --------------------------------------------------------------------------
def _hold_write_lock(path) -> sqlite3.Connection:
    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    raw.execute("BEGIN IMMEDIATE")
    return raw


def test_write_waits_out_a_lock_held_by_another_connection(url, tmp_path):
    path = tmp_path / "nested" / "dir" / "nas.db"
    with ArchitectureStore(url, busy_timeout_s=0.02) as store:
        raw = _hold_write_lock(path)
        releaser = threading.Timer(0.3, lambda: raw.execute("COMMIT"))
        releaser.start()
        try:
            eid = claim(store, canonical_cells()[60])
        finally:
            releaser.join()
            raw.close()
        assert eid is not None and store.evaluation(eid).status is Status.RUNNING


def test_lock_that_never_clears_becomes_storage_error(url, tmp_path):
    open_store(url).close()
    raw = _hold_write_lock(tmp_path / "nested" / "dir" / "nas.db")
    engine = build_engine(url, busy_timeout_s=0.01)
    try:
        with pytest.raises(StorageError, match="stayed locked after 2 attempts"):
            with session_scope(engine, write=True, retries=2):
                pass
    finally:
        engine.dispose()
        raw.close()


def test_upgrade_of_an_empty_database_creates_the_schema(tmp_path):
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert upgrade_schema(fresh) == (None, SCHEMA_VERSION)
    with open_store(fresh) as store:
        assert store.stats()["evaluations"] == 0


# -- heartbeats and releases ----------------------------------------------------------
def _as_other_host(store, eid, seconds_ago: float) -> None:
    """Make claim ``eid`` look held by a live process on another host whose last heartbeat is that old."""
    from datetime import timedelta

    from surrogate_nas.storage.records import utcnow

    with store.session(write=True) as conn:
        conn.execute(text("update evaluations set worker = 'elsewhere:4242', heartbeat_at = :t where id = :i"),
                     {"t": utcnow() - timedelta(seconds=seconds_ago), "i": eid})


def test_claim_of_another_host_is_taken_over_only_when_its_heartbeat_is_stale(url):
    cell = canonical_cells()[70]
    with open_store(url, stale_after=60) as store:
        eid = claim(store, cell)
        _as_other_host(store, eid, seconds_ago=5)
        assert claim(store, cell) is None
        assert store.lookup(SPACE, cell, setting()).worker == "elsewhere:4242"
        _as_other_host(store, eid, seconds_ago=120)
        assert claim(store, cell) == eid
        assert store.evaluation(eid).worker == store.worker


def test_heartbeat_refreshes_own_claims_and_reports_lost_ones(store):
    a, b = canonical_cells()[71:73]
    ea, eb = claim(store, a), claim(store, b)
    _as_other_host(store, eb, seconds_ago=1)
    before = store.evaluation(ea).heartbeat_at
    assert store.heartbeat([ea, eb]) == {eb}
    assert store.evaluation(ea).heartbeat_at >= before
    store.finish(ea, make_result(a))
    assert store.heartbeat([ea]) == {ea}


def test_release_claims_by_id_worker_and_staleness(url):
    cells = canonical_cells()[80:84]
    with open_store(url, stale_after=60) as store:
        ids = [claim(store, c) for c in cells]
        store.finish(ids[3], make_result(cells[3]))
        _as_other_host(store, ids[1], seconds_ago=3600)
        _as_other_host(store, ids[2], seconds_ago=1)
        with pytest.raises(InputDataError, match="say which claims"):
            store.release_claims()
        with pytest.raises(InputDataError, match="no running claim with id 999"):
            store.release_claims([999])
        assert [e.id for e in store.release_claims(stale=True)] == [ids[1]]
        assert [e.id for e in store.release_claims(worker="elsewhere:4242")] == [ids[2]]
        assert [e.id for e in store.release_claims([ids[0]])] == [ids[0]]
        assert [e.status for e in store.evaluations()] == [Status.OK]
