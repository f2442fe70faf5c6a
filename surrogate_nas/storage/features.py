"""The feature cache: values of expensive features (zero-cost proxies) per space and canonical key."""

from __future__ import annotations

from surrogate_nas.storage import catalog


class FeaturesMixin:
    """The :class:`~surrogate_nas.spaces.FeatureCache` side of
    :class:`~surrogate_nas.storage.store.ArchitectureStore` (it needs the store's ``session``)."""

    def get_features(self, space: str, name: str, keys: list[str]) -> dict[str, float]:
        """Cached values of feature ``name`` of ``space`` for those of ``keys`` that have one."""
        with self.session() as conn:
            return catalog.get_features(conn, space, name, keys)

    def put_features(self, space: str, name: str, values: dict[str, float]) -> None:
        """Insert or overwrite feature ``name`` of ``space`` for each key in ``values``."""
        with self.session(write=True) as conn:
            catalog.put_features(conn, space, name, values)
