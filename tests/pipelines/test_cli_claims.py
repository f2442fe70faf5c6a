"""A claim left by a dead worker on another host: reported, then taken over after the grace period."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import update

from conftest import run_cli, run_process
from surrogate_nas.records import NetworkConfig, Setting, Status, TrainConfig
from surrogate_nas.spaces import get_space
from surrogate_nas.storage import open_store
from surrogate_nas.storage.records import utcnow
from surrogate_nas.storage.schema import evaluations

ARCH = "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|avg_pool_3x3~2|"
SEED = ("seed", "--arch", ARCH, "-C", "4", "-N", "1", "--epochs", "1", "--no-mlflow")


def _claim_from_another_host(url: str) -> int:
    space = get_space("nb201")
    setting = Setting("nb201", "digits", NetworkConfig(4, 1), TrainConfig(epochs=1, batch_size=64, learning_rate=0.1))
    with open_store(url) as store:
        eid = store.claim(space, space.parse(ARCH), setting)
    _set_claim(url, eid, worker="elsewhere:4242")
    return eid


def _set_claim(url: str, eid: int, **values) -> None:
    with open_store(url) as store, store.session(write=True) as conn:
        conn.execute(update(evaluations).where(evaluations.c.id == eid).values(**values))


@pytest.mark.slow
def test_a_dead_workers_claim_on_another_host_is_taken_over_after_the_grace_period(workdir, monkeypatch):
    url = os.environ["SURROGATE_NAS_DB"]
    eid = _claim_from_another_host(url)

    held = run_process(*SEED, "--stale-after", "60", check=True)
    assert f"skipped: {ARCH}: worker elsewhere:4242 is training it (evaluation {eid}" in held.stdout
    assert "trained 0 new" in held.stdout
    with open_store(url) as store:
        assert store.evaluation(eid).status is Status.RUNNING

    # The worker stopped beating two minutes ago: past a 60 s grace period, within the default 300 s.
    _set_claim(url, eid, heartbeat_at=utcnow() - timedelta(seconds=120))
    claims = run_cli("db", "claims", "--stale-after", "60", check=True)
    assert "elsewhere:4242" in claims.stdout and "yes" in claims.stdout
    assert "trained 0 new" in run_cli(*SEED, check=True).stdout

    monkeypatch.setenv("SURROGATE_NAS_STALE_AFTER", "60")
    taken = run_process(*SEED, check=True)
    assert "trained 1 new" in taken.stdout
    with open_store(url) as store:
        e = store.evaluation(eid)
        assert e.status is Status.OK and e.worker != "elsewhere:4242" and len(store.evaluations()) == 1
