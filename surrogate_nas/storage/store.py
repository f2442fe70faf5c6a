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

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.engine import Connection

from surrogate_nas.errors import InputDataError
from surrogate_nas.storage.checkpoints import CheckpointsMixin
from surrogate_nas.storage.claims import ClaimsMixin
from surrogate_nas.storage.engine import BUSY_TIMEOUT_S, build_engine, session_scope
from surrogate_nas.storage.evaluations import EvaluationsMixin
from surrogate_nas.storage.features import FeaturesMixin
from surrogate_nas.storage.migrations import ensure_schema
from surrogate_nas.storage.searches import SearchesMixin
from surrogate_nas.storage.workers import worker_id

DEFAULT_STALE_AFTER_S = 300.0
"""A RUNNING claim whose heartbeat is older than this is presumed abandoned (any host)."""



class ArchitectureStore(ClaimsMixin, EvaluationsMixin, FeaturesMixin, SearchesMixin, CheckpointsMixin):
    """Evaluations, features and searches in one SQL database.

    One class to its callers, built of one part per concern: claims (:mod:`.claims`), reads of
    evaluations (:mod:`.evaluations`), the feature cache (:mod:`.features`), searches and their
    trials (:mod:`.searches`) and checkpoints (:mod:`.checkpoints`); this module holds the
    connection they share.

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


def open_store(url: str, stale_after: float = DEFAULT_STALE_AFTER_S, read_only: bool = False) -> ArchitectureStore:
    """Open (creating if needed) the architecture database at ``url``.

    ``read_only=True`` is for callers that only read: a SQLite file that cannot be
    written here (a read-only mount) is opened read-only rather than refused.

    Raises:
        StorageError: the URL is unusable (bad scheme, unwritable path, missing driver).
        SchemaVersionError: the database carries another schema version.
    """
    return ArchitectureStore(url, stale_after=stale_after, read_only=read_only)
