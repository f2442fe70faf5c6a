"""Named searches and their trials: what a search tried, so a rerun resumes it."""

from __future__ import annotations

from surrogate_nas.storage import catalog
from surrogate_nas.storage.records import SearchInfo, SearchTrial


class SearchesMixin:
    """The searches of :class:`~surrogate_nas.storage.store.ArchitectureStore` (it needs the store's
    ``session``)."""

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
