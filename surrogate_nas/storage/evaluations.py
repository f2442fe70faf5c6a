"""Reading evaluations back: by filters, by id, the best ones, counts, frames and exports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from surrogate_nas.errors import InputDataError, StorageError
from surrogate_nas.records import Evaluation, NetworkConfig, Setting, Status
from surrogate_nas.storage.export import evaluations_frame, resolve_format, write_frame
from surrogate_nas.storage.queries import ar, ev, filters, joined
from surrogate_nas.storage.records import evaluation_from_row, utcnow
from surrogate_nas.storage.schema import SCHEMA_VERSION, searches

if TYPE_CHECKING:
    import pandas as pd

METRICS = ("valid_acc", "test_acc")
"""What :meth:`EvaluationsMixin.top` ranks by."""


class EvaluationsMixin:
    """The reads of :class:`~surrogate_nas.storage.store.ArchitectureStore` (it needs the store's
    ``session``, ``url`` and ``holds``)."""

    def set_mlflow_run_id(self, evaluation_id: int, run_id: str) -> None:
        """Link an evaluation to the MLflow run that logged it."""
        with self.session(write=True) as conn:
            res = conn.execute(ev.update().where(ev.c.id == evaluation_id).values(mlflow_run_id=str(run_id)))
            if res.rowcount == 0:
                raise StorageError(f"no evaluation with id {evaluation_id}")

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
        query = joined().where(*filters(space, dataset, status, setting, network, epochs, seed)).order_by(ev.c.id)
        with self.session() as conn:
            return [evaluation_from_row(r) for r in conn.execute(query).mappings()]

    def evaluation(self, evaluation_id: int) -> Evaluation | None:
        """One evaluation by id, or None."""
        with self.session() as conn:
            row = conn.execute(joined().where(ev.c.id == evaluation_id)).mappings().first()
        return None if row is None else evaluation_from_row(row)

    def evaluated_keys(self, setting: Setting) -> set[str]:
        """Canonical keys already finished, or running by a live worker, under ``setting``."""
        query = select(ev.c.canonical_key, ev.c.status, ev.c.worker, ev.c.created_at, ev.c.heartbeat_at).where(
            *filters(None, None, None, setting, None, None, None)
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
        if metric not in METRICS:
            raise InputDataError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
        if int(k) < 1:
            raise InputDataError(f"k must be >= 1, got {k}")
        column = ev.c[metric]
        query = (
            joined()
            .where(*filters(space, dataset, Status.OK, setting, network, epochs, seed), column.is_not(None))
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
