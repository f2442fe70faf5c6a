"""Claims: who trains what. A worker claims an (architecture, setting) pair before training it,
keeps the claim alive with heartbeats, and finishes, pauses or releases it.

The unique key on the space, the canonical architecture and the setting guarantees that no
function is trained twice for the same setting, across processes and hosts; a claim whose worker
died on this host, or whose heartbeat is older than ``stale_after`` seconds wherever it runs, is
taken over.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from surrogate_nas.errors import InputDataError, StorageError
from surrogate_nas.records import Evaluation, Setting, Status, TrainResult
from surrogate_nas.storage import catalog
from surrogate_nas.storage.queries import CLEARED, ev, joined, match, naive, setting_columns
from surrogate_nas.storage.records import curve_to_json, evaluation_from_row, utcnow
from surrogate_nas.storage.workers import is_dead


class ClaimsMixin:
    """The claim protocol of :class:`~surrogate_nas.storage.store.ArchitectureStore` (it needs the
    store's ``session``, ``worker``, ``stale_after`` and ``evaluations``)."""

    def claim(self, space, arch, setting: Setting) -> int | None:
        """Reserve the training of ``arch`` (a value of ``space``) under ``setting`` for this worker.

        Returns:
            The id of a RUNNING evaluation now owned by this worker, or None when an
            evaluation of the same canonical architecture and setting is finished or
            being run by a live worker (see :meth:`lookup` for which). A RUNNING
            evaluation whose worker died, or whose heartbeat is stale, is taken over, and
            so is a PAUSED one; both keep their curve and checkpoint, to be continued,
            unless ``arch`` is a different labelling of the same cell (then it starts over).
        """
        arch = space.check(arch)
        if space.name != setting.space:
            raise InputDataError(f"the setting is for space {setting.space!r}, the architecture for {space.name!r}")
        params_ref, flops_ref = space.reference_cost(arch)
        key = setting_columns(arch.canonical_key, setting)
        now = utcnow()
        with self.session(write=True) as conn:
            arch_id = catalog.ensure_architecture(
                conn, space.name, arch.to_string(), arch.canonical_key, params_ref, flops_ref
            )
            fresh = {
                "architecture_id": arch_id,
                "status": Status.RUNNING.value,
                "worker": self.worker,
                "created_at": now,
                "heartbeat_at": now,
                **CLEARED,
            }
            row = conn.execute(
                select(ev.c.id, ev.c.status, ev.c.worker, ev.c.created_at, ev.c.heartbeat_at,
                       ev.c.architecture_id).where(*match(key))
            ).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        return conn.execute(ev.insert().values(**key, **fresh)).inserted_primary_key[0]
                except IntegrityError:
                    return None
            if self.holds(row.status, row.worker, row.heartbeat_at or row.created_at, now):
                return None
            # A checkpoint holds the weights of one labelled network; a twin restarts from scratch.
            same_arch = row.architecture_id == arch_id
            values = dict(status=Status.RUNNING.value, worker=self.worker, heartbeat_at=now) if same_arch else fresh
            taken = conn.execute(
                ev.update()
                .where(ev.c.id == row.id, ev.c.status == row.status, ev.c.worker == row.worker)
                .values(**values)
            )
            return row.id if taken.rowcount == 1 else None

    def holds(self, status: str, worker: str, heartbeat: datetime, now: datetime | None = None) -> bool:
        """Whether an existing row keeps its setting: finished, or running with a live worker."""
        if status == Status.PAUSED.value:
            return False
        if status != Status.RUNNING.value:
            return True
        now = now or utcnow()
        return not is_dead(worker) and now - heartbeat < timedelta(seconds=self.stale_after)

    def heartbeat(self, evaluation_ids) -> set[int]:
        """Refresh this worker's claims on ``evaluation_ids``; return the ids it no longer holds."""
        ids = [int(i) for i in evaluation_ids]
        if not ids:
            return set()
        with self.session(write=True) as conn:
            conn.execute(
                ev.update()
                .where(ev.c.id.in_(ids), ev.c.status == Status.RUNNING.value, ev.c.worker == self.worker)
                .values(heartbeat_at=utcnow())
            )
            held = conn.execute(
                select(ev.c.id).where(ev.c.id.in_(ids), ev.c.status == Status.RUNNING.value,
                                      ev.c.worker == self.worker)
            ).scalars().all()
        return set(ids) - set(held)

    def lookup(self, space, arch, setting: Setting) -> Evaluation | None:
        """The evaluation of ``arch``'s function under ``setting``, finished or running, or None."""
        key = setting_columns(space.check(arch).canonical_key, setting)
        with self.session() as conn:
            row = conn.execute(joined().where(*match(key))).mappings().first()
        return None if row is None else evaluation_from_row(row)

    def finish(self, evaluation_id: int, result: TrainResult) -> bool:
        """Store the outcome of a claimed evaluation.

        Returns:
            True when written; False when the evaluation had already been
            finished (by a worker that took over a claim presumed stale).

        Raises:
            InputDataError: ``result`` is still RUNNING or is for another architecture.
            StorageError: no evaluation has this id (it was released).
        """
        status = Status(result.status)
        if not status.finished:
            raise InputDataError(f"finish needs a finished result (ok/diverged/failed), got {status.value!r}")
        with self.session(write=True) as conn:
            row = conn.execute(select(ev.c.canonical_key, ev.c.status).where(ev.c.id == evaluation_id)).first()
            if row is None:
                raise StorageError(f"no evaluation with id {evaluation_id} to finish; was it released?")
            if row.canonical_key != result.canonical_key:
                raise InputDataError(
                    f"evaluation {evaluation_id} is for canonical key {row.canonical_key!r}, "
                    f"the result is for {result.canonical_key!r}"
                )
            done = conn.execute(
                ev.update()
                .where(ev.c.id == evaluation_id, ev.c.status == Status.RUNNING.value)
                .values(
                    status=status.value,
                    **_result_columns(result),
                    message=result.message or "",
                    finished_at=utcnow(),
                    checkpoint=None,
                )
            )
            return done.rowcount == 1

    def pause(self, evaluation_id: int, result: TrainResult, checkpoint: str | None) -> bool:
        """Store a run stopped after some epochs: its curve so far, and where its checkpoint is.

        The evaluation becomes PAUSED: no worker holds it, and the next :meth:`claim`
        continues it from ``checkpoint`` (from scratch when that is None).

        Returns:
            True when written; False when this worker no longer held the claim.
        """
        if Status(result.status) is not Status.OK:
            raise InputDataError(f"pause needs a healthy partial result, got {Status(result.status).value!r}")
        with self.session(write=True) as conn:
            done = conn.execute(
                ev.update()
                .where(ev.c.id == evaluation_id, ev.c.status == Status.RUNNING.value, ev.c.worker == self.worker)
                .values(
                    status=Status.PAUSED.value,
                    **_result_columns(result),
                    checkpoint=checkpoint,
                )
            )
            return done.rowcount == 1

    def release(self, evaluation_id: int) -> bool:
        """Give up a RUNNING evaluation (on interrupt); True if one was released.

        One that was continuing a paused run goes back to PAUSED (its curve and checkpoint
        are kept); any other is deleted, so that another worker trains it afresh.
        """
        with self.session(write=True) as conn:
            res = conn.execute(
                ev.update()
                .where(ev.c.id == evaluation_id, ev.c.status == Status.RUNNING.value, ev.c.checkpoint.is_not(None))
                .values(status=Status.PAUSED.value, heartbeat_at=None)
            )
            if res.rowcount == 1:
                return True
            res = conn.execute(
                ev.delete().where(ev.c.id == evaluation_id, ev.c.status == Status.RUNNING.value)
            )
            return res.rowcount == 1

    def release_claims(
        self, ids=(), worker: str | None = None, stale: bool = False, everything: bool = False
    ) -> list[Evaluation]:
        """Delete RUNNING claims so others may train them; return what was released.

        Args:
            ids: these evaluation ids.
            worker: every claim of this worker (``host:pid``).
            stale: every claim whose worker is dead or whose heartbeat is older than ``stale_after``.
            everything: every RUNNING claim (use only when no worker is running).

        Raises:
            InputDataError: no selection was given.
        """
        ids = [int(i) for i in ids]
        if not (ids or worker or stale or everything):
            raise InputDataError("say which claims to release: ids, a worker, stale ones, or all")
        running = self.evaluations(status=Status.RUNNING)
        now = utcnow()
        chosen = [
            e for e in running
            if everything or e.id in ids or (worker is not None and e.worker == worker)
            or (stale and not self.holds(e.status.value, e.worker, naive(e.heartbeat_at or e.created_at), now))
        ]
        missing = sorted(set(ids) - {e.id for e in running})
        if missing:
            raise InputDataError(f"no running claim with id {', '.join(map(str, missing))}; see `surrogate-nas db claims`")
        released = []
        for e in chosen:
            if self.release(e.id):
                released.append(e)
        return released


def _result_columns(result) -> dict:
    """The evaluation columns a training result fills, whether it finished or paused."""
    return dict(valid_acc=result.valid_acc, test_acc=result.test_acc,
                train_losses=curve_to_json(result.train_losses), valid_accs=curve_to_json(result.valid_accs),
                train_seconds=result.train_seconds, params=result.params, flops=result.flops, device=result.device)
