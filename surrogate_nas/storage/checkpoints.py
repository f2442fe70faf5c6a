"""Training checkpoints of paused evaluations, as files beside the database.

A multi-fidelity search stops many trainings after a few epochs and continues the
promising ones later; the checkpoint of a paused evaluation is kept in one file per
evaluation, in a folder that belongs to the database:

* SQLite ``sqlite:///path/nas.db``: ``path/nas.db-checkpoints/``;
* any other database (PostgreSQL): ``./surrogate-nas-checkpoints/<database>/`` in the
  folder the driver runs from.

``SURROGATE_NAS_CHECKPOINTS`` overrides the folder. Only the driver process reads and
writes checkpoints (workers receive and return them as bytes), so the folder needs to be
reachable from the driver alone. A file is written atomically and removed when its
evaluation completes or is no longer wanted.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from surrogate_nas.errors import StorageError
from surrogate_nas.records import Status
from surrogate_nas.storage.schema import evaluations

ENV = "SURROGATE_NAS_CHECKPOINTS"


def checkpoint_folder(url: str) -> Path:
    """The checkpoint folder of the database at ``url`` (see the module docstring)."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        db = Path(parsed.database)
        return db.with_name(db.name + "-checkpoints")
    label = f"{parsed.database or 'db'}-{hashlib.sha1(url.encode()).hexdigest()[:8]}"
    return Path("surrogate-nas-checkpoints") / label


class CheckpointStore:
    """One file per paused evaluation: ``<folder>/<evaluation id>.pt``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def path(self, evaluation_id: int) -> Path:
        return self.folder / f"{int(evaluation_id)}.pt"

    def put(self, evaluation_id: int, blob: bytes) -> str:
        """Write the checkpoint (replacing an older one); return its path."""
        target = self.path(evaluation_id)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(blob)
            os.replace(tmp, target)
        except OSError as exc:
            raise StorageError(f"cannot write checkpoint {target}: {exc.strerror or exc}; set {ENV} to a "
                               "writable folder") from None
        return str(target)

    def get(self, path: str | None) -> bytes | None:
        """The checkpoint at ``path``, or None when there is none (deleted or never written)."""
        if not path:
            return None
        try:
            return Path(path).read_bytes()
        except OSError:
            return None

    def delete(self, path: str | None) -> None:
        if path:
            Path(path).unlink(missing_ok=True)

    def size_bytes(self) -> int:
        """Bytes the folder's checkpoints take."""
        return sum(p.stat().st_size for p in self.folder.glob("*.pt")) if self.folder.is_dir() else 0


class CheckpointsMixin:
    """The checkpoints of paused evaluations, for :class:`~surrogate_nas.storage.store.ArchitectureStore`
    (it needs the store's ``session`` and ``url``)."""

    @property
    def checkpoints(self) -> CheckpointStore:
        """Where the checkpoints of paused evaluations live."""
        return CheckpointStore(checkpoint_folder(self.url))

    @property
    def weights(self) -> CheckpointStore:
        """Where the kept weights of finished evaluations live (``<checkpoint folder>/weights/<id>.pt``)."""
        return CheckpointStore(checkpoint_folder(self.url) / "weights")

    def forget_checkpoint(self, evaluation_id: int) -> None:
        """Mark a PAUSED evaluation's checkpoint gone (continuing it then restarts the training)."""
        with self.session(write=True) as conn:
            conn.execute(evaluations.update()
                         .where(evaluations.c.id == evaluation_id, evaluations.c.status == Status.PAUSED.value)
                         .values(checkpoint=None))
