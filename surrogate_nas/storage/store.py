"""The architecture database: who trains what, and what came out.

:class:`ArchitectureStore` is the only way the rest of the package touches the
database. Workers :meth:`~ArchitectureStore.claim` an (architecture, setting)
pair before training it, refresh the claim's heartbeat while it trains
(:meth:`~ArchitectureStore.heartbeat`) and :meth:`~ArchitectureStore.finish` it
afterwards; the unique key on the space, the canonical architecture and the
setting guarantees that no function is ever trained twice for the same setting,
across processes and hosts. A claim whose worker died on this host, or whose
heartbeat is older than ``stale_after`` seconds wherever it runs, is taken over.
Reads return frozen records, never ORM rows.

Example:
    >>> store = open_store("sqlite:///runs/nas.db")  # doctest: +SKIP
    >>> setting = Setting("nb201", "digits", NetworkConfig(8, 1), TrainConfig(epochs=1))  # doctest: +SKIP
    >>> eid = store.claim(space, arch, setting)  # doctest: +SKIP
    >>> if eid is not None:  # doctest: +SKIP
    ...     store.finish(eid, train(space, arch, setting.network, setting.train, data, setting.seed))
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from surrogate_nas.errors import InputDataError, StorageError
from surrogate_nas.records import Evaluation, NetworkConfig, Setting, Status, TrainResult
from surrogate_nas.storage import catalog
from surrogate_nas.storage.checkpoints import CheckpointStore, checkpoint_folder
from surrogate_nas.storage.engine import BUSY_TIMEOUT_S, build_engine, session_scope
from surrogate_nas.storage.export import evaluations_frame, resolve_format, write_frame
from surrogate_nas.storage.migrations import ensure_schema
from surrogate_nas.storage.records import (
    SearchInfo,
    SearchTrial,
    curve_to_json,
    evaluation_from_row,
    utcnow,
)
from surrogate_nas.storage.schema import SCHEMA_VERSION, architectures, evaluations, searches
from surrogate_nas.storage.workers import is_dead, worker_id

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_STALE_AFTER_S = 300.0
"""A RUNNING claim whose heartbeat is older than this is presumed abandoned (any host)."""

_METRICS = ("valid_acc", "test_acc")

ev = evaluations
ar = architectures


class ArchitectureStore:
    """Evaluations, features and searches in one SQL database.

    Args:
        url: any SQLAlchemy URL; ``sqlite:///path/to/file.db`` for a local file.
        stale_after: seconds without a heartbeat after which a RUNNING claim is
            presumed abandoned and may be taken over, whatever host it came from.
        busy_timeout_s: how long SQLite waits for a lock per attempt.
        read_only: the caller only reads; a SQLite file on a read-only mount (or of
            another user) is then opened read-only instead of refused.

    Attributes:
        url: the database URL with any password hidden, safe to print and log.

    Raises:
        StorageError: the URL is unusable.
        SchemaVersionError: the database carries another schema version.
    """

    def __init__(
        self, url: str, stale_after: float = DEFAULT_STALE_AFTER_S, busy_timeout_s: float = BUSY_TIMEOUT_S,
        read_only: bool = False,
    ) -> None:
        if not stale_after >= 0:
            raise InputDataError(f"stale_after must be >= 0 seconds, got {stale_after}")
        self.stale_after = float(stale_after)
        self._engine = build_engine(url, busy_timeout_s, read_only=read_only)
        self.url = self._engine.url.render_as_string(hide_password=True)
        try:
            self.schema_version = ensure_schema(self._engine)
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def worker(self) -> str:
        """This process as ``host:pid`` (read each time, so it stays right in a forked child)."""
        return worker_id()

    @property
    def checkpoints(self) -> CheckpointStore:
        """Where the checkpoints of paused evaluations live (see :mod:`.checkpoints`)."""
        return CheckpointStore(checkpoint_folder(self.url))

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Connection]:
        """A transaction on this store's database; see :func:`~.engine.session_scope`."""
        with session_scope(self._engine, write=write) as conn:
            yield conn

    def close(self) -> None:
        """Release all pooled connections."""
        self._engine.dispose()

    def __enter__(self) -> "ArchitectureStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ArchitectureStore({self.url!r})"

    # -- claims ----------------------------------------------------------------
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
        key = _setting_columns(arch.canonical_key, setting)
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
                **_CLEARED,
            }
            row = conn.execute(
                select(ev.c.id, ev.c.status, ev.c.worker, ev.c.created_at, ev.c.heartbeat_at,
                       ev.c.architecture_id).where(*_match(key))
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
        key = _setting_columns(space.check(arch).canonical_key, setting)
        with self.session() as conn:
            row = conn.execute(_joined().where(*_match(key))).mappings().first()
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
                    valid_acc=result.valid_acc,
                    test_acc=result.test_acc,
                    train_losses=curve_to_json(result.train_losses),
                    valid_accs=curve_to_json(result.valid_accs),
                    train_seconds=result.train_seconds,
                    params=result.params,
                    flops=result.flops,
                    device=result.device,
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
                    valid_acc=result.valid_acc,
                    test_acc=result.test_acc,
                    train_losses=curve_to_json(result.train_losses),
                    valid_accs=curve_to_json(result.valid_accs),
                    train_seconds=result.train_seconds,
                    params=result.params,
                    flops=result.flops,
                    device=result.device,
                    checkpoint=checkpoint,
                )
            )
            return done.rowcount == 1

    def forget_checkpoint(self, evaluation_id: int) -> None:
        """Mark a PAUSED evaluation's checkpoint gone (continuing it then restarts the training)."""
        with self.session(write=True) as conn:
            conn.execute(ev.update().where(ev.c.id == evaluation_id, ev.c.status == Status.PAUSED.value)
                         .values(checkpoint=None))

    def set_mlflow_run_id(self, evaluation_id: int, run_id: str) -> None:
        """Link an evaluation to the MLflow run that logged it."""
        with self.session(write=True) as conn:
            res = conn.execute(ev.update().where(ev.c.id == evaluation_id).values(mlflow_run_id=str(run_id)))
            if res.rowcount == 0:
                raise StorageError(f"no evaluation with id {evaluation_id}")

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
            or (stale and not self.holds(e.status.value, e.worker, _naive(e.heartbeat_at or e.created_at), now))
        ]
        missing = sorted(set(ids) - {e.id for e in running})
        if missing:
            raise InputDataError(f"no running claim with id {', '.join(map(str, missing))}; see `surrogate-nas db claims`")
        released = []
        for e in chosen:
            if self.release(e.id):
                released.append(e)
        return released

    # -- reads -----------------------------------------------------------------
    def evaluations(
        self,
        space: str | None = None,
        dataset: str | None = None,
        status: Status | str | None = None,
        setting: Setting | None = None,
        network: NetworkConfig | None = None,
        epochs: int | None = None,
        seed: int | None = None,
    ) -> list[Evaluation]:
        """Stored evaluations matching every given filter, oldest first.

        ``setting`` fixes the space, dataset, network, recipe, epochs and seed at once.
        """
        query = _joined().where(*_filters(space, dataset, status, setting, network, epochs, seed)).order_by(ev.c.id)
        with self.session() as conn:
            return [evaluation_from_row(r) for r in conn.execute(query).mappings()]

    def evaluation(self, evaluation_id: int) -> Evaluation | None:
        """One evaluation by id, or None."""
        with self.session() as conn:
            row = conn.execute(_joined().where(ev.c.id == evaluation_id)).mappings().first()
        return None if row is None else evaluation_from_row(row)

    def evaluated_keys(self, setting: Setting) -> set[str]:
        """Canonical keys already finished, or running by a live worker, under ``setting``."""
        query = select(ev.c.canonical_key, ev.c.status, ev.c.worker, ev.c.created_at, ev.c.heartbeat_at).where(
            *_filters(None, None, None, setting, None, None, None)
        )
        now = utcnow()
        with self.session() as conn:
            rows = conn.execute(query).all()
        return {r.canonical_key for r in rows if self.holds(r.status, r.worker, r.heartbeat_at or r.created_at, now)}

    def top(
        self,
        k: int,
        space: str | None = None,
        dataset: str | None = None,
        metric: str = "valid_acc",
        setting: Setting | None = None,
        network: NetworkConfig | None = None,
        epochs: int | None = None,
        seed: int | None = None,
    ) -> list[Evaluation]:
        """The ``k`` finished-ok evaluations with the highest ``metric`` (valid_acc or test_acc)."""
        if metric not in _METRICS:
            raise InputDataError(f"metric must be one of {', '.join(_METRICS)}, got {metric!r}")
        if int(k) < 1:
            raise InputDataError(f"k must be >= 1, got {k}")
        column = ev.c[metric]
        query = (
            _joined()
            .where(*_filters(space, dataset, Status.OK, setting, network, epochs, seed), column.is_not(None))
            .order_by(column.desc(), ev.c.id)
            .limit(int(k))
        )
        with self.session() as conn:
            return [evaluation_from_row(r) for r in conn.execute(query).mappings()]

    def datasets(self) -> list[str]:
        """Datasets that have evaluations, sorted."""
        with self.session() as conn:
            return sorted(conn.execute(select(ev.c.dataset).distinct()).scalars().all())

    def stats(self) -> dict:
        """Counts by status, space and dataset, plus architectures, searches, schema version and URL."""
        with self.session() as conn:
            by_status = dict(conn.execute(select(ev.c.status, func.count()).group_by(ev.c.status)).all())
            by_space = dict(conn.execute(select(ev.c.space, func.count()).group_by(ev.c.space)).all())
            by_dataset = dict(conn.execute(select(ev.c.dataset, func.count()).group_by(ev.c.dataset)).all())
            n_arch = conn.execute(select(func.count()).select_from(ar)).scalar_one()
            n_search = conn.execute(select(func.count()).select_from(searches)).scalar_one()
        return {
            "url": self.url,
            "schema_version": SCHEMA_VERSION,
            "evaluations": sum(by_status.values()),
            "by_status": {s.value: int(by_status.get(s.value, 0)) for s in Status},
            "by_space": {k: int(v) for k, v in sorted(by_space.items())},
            "by_dataset": {k: int(v) for k, v in sorted(by_dataset.items())},
            "architectures": int(n_arch),
            "searches": int(n_search),
        }

    def dataframe(self, **filters) -> pd.DataFrame:
        """Evaluations as a DataFrame (see :mod:`~.export`); ``filters`` as in :meth:`evaluations`."""
        return evaluations_frame(self.evaluations(**filters))

    def export(self, path: str | Path, fmt: str | None = None, **filters) -> int:
        """Write evaluations to CSV or Parquet, chosen by ``fmt`` or the extension; return the row count.

        Raises:
            InputDataError: the format is neither csv nor parquet.
        """
        resolve_format(path, fmt)
        frame = self.dataframe(**filters)
        write_frame(frame, path, fmt)
        return len(frame)

    # -- features and searches (see catalog) -------------------------------------
    def get_features(self, space: str, name: str, keys: list[str]) -> dict[str, float]:
        """Cached values of feature ``name`` of ``space`` for those of ``keys`` that have one."""
        with self.session() as conn:
            return catalog.get_features(conn, space, name, keys)

    def put_features(self, space: str, name: str, values: dict[str, float]) -> None:
        """Insert or overwrite feature ``name`` of ``space`` for each key in ``values``."""
        with self.session(write=True) as conn:
            catalog.put_features(conn, space, name, values)

    def get_or_create_search(self, name: str, config: dict, defaults: dict | None = None) -> int:
        """The id of search ``name``, created with ``config`` if new.

        Raises:
            InputDataError: a search of this name exists with a different config (keys it
                lacks count as their value in ``defaults``).
        """
        with self.session(write=True) as conn:
            return catalog.get_or_create_search(conn, name, config, defaults)

    def set_search_run(self, search_id: int, run_id: str | None) -> None:
        """Remember the MLflow run that logs search ``search_id``."""
        with self.session(write=True) as conn:
            catalog.set_search_run(conn, search_id, run_id)

    def set_search_ref_point(self, search_id: int, ref_point) -> None:
        """Remember the hypervolume reference point of search ``search_id``."""
        with self.session(write=True) as conn:
            catalog.set_search_ref_point(conn, search_id, ref_point)

    def search(self, name: str) -> SearchInfo | None:
        """The search called ``name``, or None."""
        with self.session() as conn:
            return catalog.find_search(conn, name)

    def searches(self) -> list[SearchInfo]:
        """All searches, oldest first."""
        with self.session() as conn:
            return catalog.list_searches(conn)

    def add_trial(
        self,
        search_id: int,
        step: int,
        arch: str,
        values: dict,
        evaluation_id: int | None = None,
        cost_seconds: float | None = None,
        fidelity: float = 1.0,
    ) -> int:
        """Record that search ``search_id`` tried ``arch`` at ``fidelity``; a repeat returns the first trial's id."""
        with self.session(write=True) as conn:
            return catalog.add_trial(conn, search_id, step, str(arch), values, evaluation_id, cost_seconds, fidelity)

    def trials(self, search_id: int) -> list[SearchTrial]:
        """Trials of a search in step order."""
        with self.session() as conn:
            return catalog.list_trials(conn, search_id)


def open_store(url: str, stale_after: float = DEFAULT_STALE_AFTER_S, read_only: bool = False) -> ArchitectureStore:
    """Open (creating if needed) the architecture database at ``url``.

    ``read_only=True`` is for callers that only read: a SQLite file that cannot be
    written here (a read-only mount) is opened read-only rather than refused.

    Raises:
        StorageError: the URL is unusable (bad scheme, unwritable path, missing driver).
        SchemaVersionError: the database carries another schema version.
    """
    return ArchitectureStore(url, stale_after=stale_after, read_only=read_only)


_CLEARED = {
    "valid_acc": None,
    "test_acc": None,
    "train_losses": None,
    "valid_accs": None,
    "train_seconds": None,
    "params": None,
    "flops": None,
    "device": None,
    "message": "",
    "mlflow_run_id": None,
    "finished_at": None,
    "checkpoint": None,
}


def _setting_columns(key: str, setting: Setting) -> dict:
    if not isinstance(setting, Setting):
        raise InputDataError(f"a claim needs a Setting, got {type(setting).__name__}")
    return {
        "space": setting.space,
        "canonical_key": key,
        "dataset": setting.dataset,
        "network": setting.network_key,
        "recipe": setting.recipe_key,
        "epochs": int(setting.train.epochs),
        "seed": int(setting.seed),
    }


def _match(columns: dict) -> list:
    return [ev.c[name] == value for name, value in columns.items()]


def _joined():
    return select(ev, ar.c.arch, ar.c.params_ref, ar.c.flops_ref).join(ar, ev.c.architecture_id == ar.c.id)


def _naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None) if value.tzinfo is not None else value


def _filters(space, dataset, status, setting, network, epochs, seed) -> list:
    out = []
    if status is not None:
        try:
            out.append(ev.c.status == Status(status).value)
        except ValueError as exc:
            choices = ", ".join(s.value for s in Status)
            raise InputDataError(f"status must be one of {choices}, got {status!r}") from exc
    if setting is not None:
        columns = _setting_columns("", setting)
        columns.pop("canonical_key")
        out += _match(columns)
    if network is not None:
        out.append(ev.c.network == json.dumps(network.to_dict(), sort_keys=True))
    for column, value in (("space", space), ("dataset", dataset), ("epochs", epochs), ("seed", seed)):
        if value is not None:
            out.append(ev.c[column] == value)
    return out
