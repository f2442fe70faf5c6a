"""``latency@local`` and ``latency@cuda``: latency measured where the search runs, cached per machine.

The quantity is the forward-pass latency of the network a search trains (its width, depth,
input shape and classes; a table search's space's reference network), batch 1, one thread,
timed by :func:`surrogate_nas.latency.time_forwards` before the architecture is trained. Each
measurement is cached in the database's feature table under the machine's fingerprint, the
device and the network, so a rerun or another search on the same machine measures nothing
twice and another machine never reads this one's numbers. A request for more new
architectures than :data:`MEASURE_BUDGET` (a constraint screening every NB-201 cell, say)
measures a seeded sample of :data:`FEW_SHOT` of the request (the same request, the same sample)
and predicts the others with the few-shot ``latency`` predictor (the one of ``fit --target
latency``) fitted on that sample; predictions are never cached as measurements.
"""

from __future__ import annotations

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.evaluators import ArchMetric

MEASURE_BUDGET = 64
"""New architectures one request measures at most; past it, :data:`FEW_SHOT` are measured and the rest predicted."""

FEW_SHOT = 32
"""Architectures measured to fit the latency model when a request is larger than :data:`MEASURE_BUDGET`."""

REPEATS, WARMUP = 10, 2
"""Timed and untimed passes per network (fewer than ``measure``'s default: a search times many)."""


def local_latency_metric(target: str, space, network=None, input_shape=None, num_classes=None) -> ArchMetric:
    """The ``latency@local`` (``target="local"``, this machine's CPU) or ``latency@cuda[:K]`` metric.

    Raises:
        InputDataError: a CUDA device this machine lacks, or a space that builds no networks.
    """
    from surrogate_nas.device import resolve_device
    from surrogate_nas.latency import machine

    device = "cpu" if target == "local" else target
    dev = resolve_device(device)
    if not getattr(space, "has_network", True):
        raise InputDataError(f"latency@{target}: the {space.name} space builds no networks to time")
    network = network or space.reference_network
    input_shape = tuple(input_shape or space.reference_input)
    num_classes = int(num_classes or space.reference_classes)
    where = machine() if dev.type == "cpu" else f"{machine()}-{_gpu_name(dev)}"
    feature = f"latency@{target}|{where}|{network.label()}|{'x'.join(map(str, input_shape))}|{num_classes}|b1t1"

    def compute(archs) -> np.ndarray:
        cache = space.feature_cache
        keys = [a.canonical_key for a in archs]
        known = dict(cache.get_features(space.name, feature, keys)) if cache is not None else {}
        unique = list({a.canonical_key: a for a in archs}.values())
        missing = [a for a in unique if a.canonical_key not in known]
        sample = missing
        if len(missing) > MEASURE_BUDGET:  # the same request draws the same sample, so a rerun times nothing
            chosen = np.random.default_rng(0).choice(len(unique), FEW_SHOT, replace=False)
            sample = [unique[i] for i in sorted(chosen)]
        new = [a for a in sample if a.canonical_key not in known]
        measured = _measure(space, new, network, input_shape, num_classes, device)
        if cache is not None and measured:
            cache.put_features(space.name, feature, measured)
        known.update(measured)
        rest = [a for a in missing if a.canonical_key not in known]
        if rest:
            known.update(_predict(space, sample, known, rest))
        return np.array([known[k] for k in keys], dtype=np.float64)

    name = "lat_ms_local" if target == "local" else "lat_ms_" + target.replace(":", "")
    return ArchMetric(name, compute, f"latency (ms) on this machine's {dev.type} ({where}), measured; "
                                     f"predicted past {MEASURE_BUDGET} new architectures at once",
                      per_candidate=False)


def _measure(space, archs, network, input_shape, num_classes, device) -> dict[str, float]:
    from surrogate_nas.latency import time_forwards

    if not archs:
        return {}
    import torch

    with torch.random.fork_rng():  # initial weights do not matter here, and the search's random state must not move
        nets = [space.build_network(a, network, input_shape, num_classes) for a in archs]
    timings = time_forwards(nets, input_shape, device, 1, 1, WARMUP, REPEATS)
    return {a.canonical_key: t.latency_ms for a, t in zip(archs, timings)}


def _predict(space, sample, known: dict[str, float], rest) -> dict[str, float]:
    """The few-shot latency model, fitted on the measured ``sample``, on ``rest``."""
    from surrogate_nas.predictors.registry import make_predictor

    kind, predictor = make_predictor("latency", space)
    predictor.fit(space.features(sample, kind), np.array([known[a.canonical_key] for a in sample]))
    return dict(zip((a.canonical_key for a in rest), predictor.predict(space.features(rest, kind))[0]))


def _gpu_name(dev) -> str:
    import torch

    return torch.cuda.get_device_name(dev).replace(" ", "_")
