"""The ``zc`` feature block of any space: zero-cost proxies, looked up before they are computed.

Scores come, in order, from the space's packaged table (precomputed for every architecture of an
enumerable space, and for the rows of the named subsets of the others; looked up by canonical
key), an in-process memo, the space's :class:`~surrogate_nas.spaces.base.FeatureCache`
(the architecture database, shared between processes), and only then from
:func:`surrogate_nas.proxies.compute_proxies` on the space's own network; new scores are written
back to the cache. Twins (same canonical key) share one score.

Raw scores have degenerate tails that would dominate any scale, so the block bounds them:
``synflow`` is clipped below at 0 (a score below ``e^0`` only occurs when the output
barely depends on the weights), ``jacov`` (about -33 to -74 for live networks, -3.1e6 when the
output ignores the input) becomes ``-log(-jacov)``; ``nwot`` is used as is.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

PROXY_NAMES: tuple[str, ...] = ("synflow", "nwot", "jacov")
"""Proxy columns of the ``zc`` block (the same as :data:`surrogate_nas.proxies.PROXY_NAMES`)."""


class ProxyFeatures:
    """Callable ``archs -> n x len(PROXY_NAMES)`` bounded proxy scores for ``space``.

    Args:
        space: the search space; its ``feature_cache`` (or None) is read at call time.
        packaged: the file in ``surrogate_nas/data`` of shipped scores at the default setting
            (columns ``arch`` and :data:`PROXY_NAMES`), or None.
        setting: the :class:`~surrogate_nas.proxies.ProxySetting`; the default when None.
    """

    def __init__(self, space, packaged: str | None = None, setting=None) -> None:
        self.space = space
        self.packaged = packaged
        self.setting = setting
        self._memo: dict[str, tuple[float, ...]] = {}

    def cache_name(self) -> str:
        from surrogate_nas.proxies import DEFAULT_SETTING

        return f"zc@{(self.setting or DEFAULT_SETTING).key()}"

    def raw(self, archs: Sequence) -> np.ndarray:
        """Unbounded proxy scores, ``n x len(PROXY_NAMES)``."""
        packaged = (packaged_scores(self.space.name, self.packaged)
                    if self.packaged is not None and self.setting is None else {})
        out = np.full((len(archs), len(PROXY_NAMES)), np.nan)
        missing: dict[str, object] = {}
        for i, arch in enumerate(archs):
            row = packaged.get(arch.canonical_key)
            if row is None:
                row = self._memo.get(arch.canonical_key)
            if row is None:
                missing.setdefault(arch.canonical_key, arch)
            else:
                out[i] = row
        if missing:
            self._fill(missing)
            for i, arch in enumerate(archs):
                if np.isnan(out[i]).all():
                    out[i] = self._memo[arch.canonical_key]
        return out

    def __call__(self, archs: Sequence) -> np.ndarray:
        scores = self.raw(archs)
        out = scores.copy()
        out[:, 0] = np.maximum(scores[:, 0], 0.0)
        out[:, 2] = -np.log(np.maximum(-scores[:, 2], 1.0))
        return out

    def _fill(self, missing: dict[str, object]) -> None:
        cache = getattr(self.space, "feature_cache", None)
        keys = list(missing)
        if cache is not None:
            stored = {name: cache.get_features(self.space.name, f"{self.cache_name()}:{name}", keys)
                      for name in PROXY_NAMES}
            for key in keys:
                if all(key in stored[name] for name in PROXY_NAMES):
                    self._memo[key] = tuple(stored[name][key] for name in PROXY_NAMES)
        todo = [k for k in keys if k not in self._memo]
        if not todo:
            return
        from surrogate_nas.proxies import DEFAULT_SETTING, compute_proxies

        setting = self.setting or DEFAULT_SETTING
        fresh = {}
        for key in todo:
            scores = compute_proxies(self.space, self.space.representative(missing[key]), setting)
            fresh[key] = tuple(float(scores[name]) for name in PROXY_NAMES)
        self._memo.update(fresh)
        if cache is not None:
            for j, name in enumerate(PROXY_NAMES):
                cache.put_features(self.space.name, f"{self.cache_name()}:{name}", {k: v[j] for k, v in fresh.items()})


@lru_cache(maxsize=None)
def packaged_scores(space_name: str, filename: str) -> dict[str, np.ndarray]:
    """Canonical key -> shipped raw proxy scores from ``surrogate_nas/data/<filename>``; empty if not shipped.

    Keyed by canonical key, so a twin of a shipped architecture gets exactly the shipped scores.
    """
    import pandas as pd

    from surrogate_nas.resources import data_file
    from surrogate_nas.spaces.registry import get_space

    handle = data_file(filename)
    if not handle.is_file():
        return {}
    space = get_space(space_name)
    frame = pd.read_csv(io.BytesIO(handle.read_bytes()), compression="gzip")
    keys = [space.parse(a).canonical_key for a in frame["arch"]]
    return dict(zip(keys, frame[list(PROXY_NAMES)].to_numpy(dtype=np.float64)))
