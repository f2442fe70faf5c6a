"""Upgrading a database written by the previous release (schema 1) loses nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from surrogate_nas.errors import SchemaVersionError
from surrogate_nas.records import NetworkConfig, Setting, Status, TrainConfig
from surrogate_nas.spaces import get_space
from surrogate_nas.storage import SCHEMA_VERSION, open_store, upgrade_schema

DUMP = Path(__file__).resolve().parents[1] / "data" / "schema1_release_0_1_0.sql"


@pytest.fixture
def v1(tmp_path) -> tuple[str, Path]:
    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as raw:
        raw.executescript(DUMP.read_text())
    return f"sqlite:///{path}", path


def _v1_rows(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as raw:
        return {
            "evaluations": raw.execute(
                "select e.id, a.arch, e.canonical_key, e.dataset, e.channels, e.cells_per_stage, e.epochs, e.seed, "
                "e.status, e.valid_acc, e.test_acc, e.train_losses, e.valid_accs, e.params, e.flops, "
                "a.params_ref, a.flops_ref, e.worker from evaluations e join architectures a "
                "on a.id = e.architecture_id order by e.id").fetchall(),
            "searches": raw.execute("select id, name from searches order by id").fetchall(),
            "trials": raw.execute(
                "select search_id, step, arch, \"values\", evaluation_id, cost_seconds from search_trials "
                "order by id").fetchall(),
            "features": raw.execute("select key, name, value from features order by id").fetchall(),
        }


def test_schema_1_database_is_refused_with_the_upgrade_command(v1):
    url, _ = v1
    with pytest.raises(SchemaVersionError, match=r"schema version 1.*surrogate-nas db upgrade --db"):
        open_store(url)


def test_upgrade_keeps_every_row_and_value(v1):
    import json

    url, path = v1
    before = _v1_rows(path)
    assert len(before["evaluations"]) == 7 and len(before["trials"]) == 10 and len(before["features"]) == 2
    assert upgrade_schema(url) == (1, SCHEMA_VERSION)
    assert upgrade_schema(url) == (SCHEMA_VERSION, SCHEMA_VERSION)
    with open_store(url) as store:
        evals = store.evaluations()
        assert len(evals) == len(before["evaluations"])
        for e, old in zip(evals, before["evaluations"]):
            (eid, arch, key, dataset, channels, cells, epochs, seed, status, valid, test, losses, accs, params,
             flops, params_ref, flops_ref, worker) = old
            assert (e.id, e.space, e.arch, e.canonical_key, e.dataset) == (eid, "nb201", arch, key, dataset)
            assert (e.channels, e.cells_per_stage, e.epochs, e.seed) == (channels, cells, epochs, seed)
            assert (e.status.value, e.valid_acc, e.test_acc, e.params, e.flops) == (status, valid, test, params, flops)
            assert list(e.train_losses) == json.loads(losses) and list(e.valid_accs) == json.loads(accs)
            assert (e.params_ref, e.flops_ref, e.worker) == (params_ref, flops_ref, worker)
        searches = store.searches()
        assert [(s.id, s.name) for s in searches] == before["searches"]
        assert all(s.config["space"] == "nb201" for s in searches)
        trials = [t for s in searches for t in store.trials(s.id)]
        assert sorted((t.search_id, t.step, t.arch, t.evaluation_id, t.cost_seconds) for t in trials) == sorted(
            (sid, step, arch, ev, cost) for sid, step, arch, _, ev, cost in before["trials"])
        assert all(t.fidelity == 1.0 for t in trials)
        assert {t.arch: t.values for t in trials} == {arch: json.loads(v) for _, _, arch, v, _, _ in before["trials"]}
        stored = store.get_features("nb201", "synflow@x", ["abc", "def"])
        assert stored["abc"] == 1.5 and stored["def"] != stored["def"]  # NaN stays NaN


def test_upgraded_database_keeps_its_claims_and_takes_new_work(v1):
    url, path = v1
    upgrade_schema(url)
    space = get_space("nb201")
    with open_store(url) as store:
        old = store.evaluations()[0]
        setting = Setting("nb201", old.dataset, old.network, TrainConfig(**old.train_config), old.seed)
        # The upgraded row still holds its setting: the same training is never claimed again.
        assert store.claim(space, space.parse(old.arch), setting) is None
        assert old.canonical_key in store.evaluated_keys(setting)
        fresh = space.enumerate()[0]
        new = store.claim(space, fresh, Setting("nb201", "digits", NetworkConfig(4, 1), TrainConfig(epochs=1)))
        assert new is not None and new > max(e.id for e in store.evaluations() if e.id != new)
        assert store.evaluation(new).status is Status.RUNNING
