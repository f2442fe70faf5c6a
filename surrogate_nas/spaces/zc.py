"""The proxy feature blocks of any space: zero-cost proxies, looked up before they are computed.

Two kinds, the same in every space (:func:`proxy_blocks`):

* ``zc``: the proxies of :data:`ZC_PROXIES`, the set the package first shipped;
  ``benchmarks/select_proxies.py`` compares it by cross-validation on NAS-Bench-201 CIFAR-10
  with other subsets and shows how the choice transfers (not yet run on this release);
* ``zcall``: every proxy of :data:`surrogate_nas.proxies.PROXY_NAMES`.

Scores come, in order, from the space's packaged table (precomputed for every architecture of an
enumerable space, and for the rows of the named subsets of the others; looked up by canonical
key), an in-process memo shared by both kinds, the space's
:class:`~surrogate_nas.spaces.base.FeatureCache` (the architecture database, shared between
processes), and only then from :func:`surrogate_nas.proxies.compute_proxies` on the space's own
network, computing only the proxies still missing; new scores are written back to the cache.
Twins (same canonical key) share one score.

Raw scores have degenerate tails that would dominate any scale, so the blocks bound them
(:func:`bounded`): log-scale scores are clipped below at :data:`LOG_FLOORS` (an exact 0, such as
no gradient reaching any weight, is ``log`` of the smallest float64), ``jacov`` (about -33 to -74
for live networks, -3.1e6 when the output ignores the input) becomes ``-log(-jacov)``, the
signed ``plain`` and ``grasp`` pass through ``asinh``, ``epe_nas`` through ``log1p``; ``nwot``
is used as is.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

ZC_PROXIES: tuple[str, ...] = ("synflow", "nwot", "jacov")
"""Proxy columns of the ``zc`` block (see the module docstring for how they were chosen)."""

LOG_FLOORS: dict[str, float] = {"synflow": 0.0, "l2_norm": 0.0, "zen": 0.0, "grad_norm": -1.0, "snip": 0.0,
                                "fisher": -15.0}  # fmt: skip
"""Lower clip of each log-scale proxy, about one unit below the lowest score of a NB-201 cell whose
output depends on its weights (for synflow: a score below ``e^0`` only occurs when it barely does)."""


def bounded(name: str, values: np.ndarray) -> np.ndarray:
    """The block's bounded form of raw scores of proxy ``name`` (module docstring)."""
    values = np.asarray(values, dtype=np.float64)
    if name in LOG_FLOORS:
        return np.maximum(values, LOG_FLOORS[name])
    if name == "jacov":
        return -np.log(np.maximum(-values, 1.0))
    if name in ("plain", "grasp"):
        return np.arcsinh(values)
    if name == "epe_nas":
        return np.log1p(np.maximum(values, 0.0))
    return values


def proxy_blocks(space, packaged: str | None) -> dict:
    """The ``zc`` and ``zcall`` entries of ``space``'s feature blocks, sharing one memo.

    Torch (behind :mod:`surrogate_nas.proxies`) is imported only when a proxy is computed, so
    importing a space, parsing and its other feature kinds stay light.
    """
    from surrogate_nas.proxy_names import PROXY_NAMES

    memo: dict[str, dict[str, float]] = {}
    return {kind: (ProxyFeatures(space, packaged, names=names, memo=memo), tuple(f"zc_{p}" for p in names))
            for kind, names in (("zc", ZC_PROXIES), ("zcall", PROXY_NAMES))}  # fmt: skip


class ProxyFeatures:
    """Callable ``archs -> n x len(names)`` bounded proxy scores for ``space``.

    Args:
        space: the search space; its ``feature_cache`` (or None) is read at call time.
        packaged: the file in ``surrogate_nas/data`` of shipped scores at the default setting
            (column ``arch`` and some of :data:`~surrogate_nas.proxies.PROXY_NAMES`), or None.
        setting: the :class:`~surrogate_nas.proxies.ProxySetting`; the default when None.
        names: the proxies, in column order.
        memo: canonical key -> proxy -> raw score, shared with the space's other proxy block.
    """

    def __init__(self, space, packaged: str | None = None, setting=None, names: Sequence[str] = ZC_PROXIES,
                 memo: dict[str, dict[str, float]] | None = None) -> None:
        self.space = space
        self.packaged = packaged
        self.setting = setting
        self.names = tuple(names)
        self._memo = {} if memo is None else memo

    def cache_name(self) -> str:
        from surrogate_nas.proxies import DEFAULT_SETTING

        return f"zc@{(self.setting or DEFAULT_SETTING).key()}"

    def raw(self, archs: Sequence) -> np.ndarray:
        """Unbounded proxy scores, ``n x len(names)``."""
        packaged = (packaged_scores(self.space, self.packaged)
                    if self.packaged is not None and self.setting is None else {})
        missing: dict[str, object] = {}
        for arch in archs:
            key = arch.canonical_key
            if key in packaged and key not in self._memo:
                self._memo[key] = dict(packaged[key])
            if not set(self.names) <= set(self._memo.get(key, ())):
                missing.setdefault(key, arch)
        if missing:
            self._fill(missing)
        return np.array([[self._memo[a.canonical_key][n] for n in self.names] for a in archs],
                        dtype=np.float64).reshape(len(archs), len(self.names))

    def __call__(self, archs: Sequence) -> np.ndarray:
        scores = self.raw(archs)
        return np.column_stack([bounded(n, scores[:, j]) for j, n in enumerate(self.names)]).reshape(scores.shape)

    def _fill(self, missing: dict[str, object]) -> None:
        cache = getattr(self.space, "feature_cache", None)
        keys = list(missing)
        if cache is not None:
            for name in self.names:
                for key, value in cache.get_features(self.space.name, f"{self.cache_name()}:{name}", keys).items():
                    self._memo.setdefault(key, {}).setdefault(name, value)
        from surrogate_nas.proxies import DEFAULT_SETTING, compute_proxies

        setting = self.setting or DEFAULT_SETTING
        fresh: dict[str, dict[str, float]] = {}
        for key in keys:
            known = self._memo.setdefault(key, {})
            todo = [n for n in self.names if n not in known]
            if todo:
                scores = compute_proxies(self.space, self.space.representative(missing[key]), setting, todo)
                fresh[key] = {n: float(v) for n, v in scores.items()}
                known.update(fresh[key])
        if cache is not None and fresh:
            for name in self.names:
                values = {k: v[name] for k, v in fresh.items() if name in v}
                if values:
                    cache.put_features(self.space.name, f"{self.cache_name()}:{name}", values)


def packaged_scores(space, filename: str) -> dict[str, dict[str, float]]:
    """Canonical key -> shipped raw proxy scores of ``space`` from ``surrogate_nas/data/<filename>``;
    empty if not shipped. Read once per space name and file.

    Keyed by canonical key, so a twin of a shipped architecture gets exactly the shipped scores.
    A file may hold only some of the proxies; the others are computed when asked for.
    """
    key = (space.name, filename)
    if key not in _PACKAGED:
        _PACKAGED[key] = _read_packaged(space, filename)
    return _PACKAGED[key]


_PACKAGED: dict[tuple[str, str], dict[str, dict[str, float]]] = {}


def _read_packaged(space, filename: str) -> dict[str, dict[str, float]]:
    import pandas as pd

    from surrogate_nas.proxy_names import PROXY_NAMES
    from surrogate_nas.resources import data_file

    handle = data_file(filename)
    if not handle.is_file():
        return {}
    frame = pd.read_csv(io.BytesIO(handle.read_bytes()), compression="gzip")
    names = [n for n in PROXY_NAMES if n in frame.columns]
    keys = [space.parse(a).canonical_key for a in frame["arch"]]
    values = frame[names].to_numpy(dtype=np.float64)
    return {key: dict(zip(names, row.tolist())) for key, row in zip(keys, values)}
