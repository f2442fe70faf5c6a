"""Latency of a network's forward pass on this machine: warm-up, repeats, outliers out, the median.

Timing on a shared machine is noisy: another process takes the core for a few milliseconds and
one repeat is ten times slower. :func:`time_forwards` runs warm-up passes first (allocator,
caches, lazy initialisation), then ``repeats`` timed passes of every network in rounds (so a
busy spell slows all of them alike), rejects those further than
:data:`OUTLIER_MADS` scaled median absolute deviations from the median, and reports the median
of the rest with its spread (the interquartile range in percent of the median), the threads,
the device and the machine (:func:`machine`), so a number never travels without where it
was measured.

Example:
    >>> from torch import nn
    >>> t = time_forward(nn.Linear(8, 2), (8,), repeats=5, warmup=1)
    >>> t.latency_ms > 0, t.repeats
    (True, 5)
"""

from __future__ import annotations

import hashlib
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from surrogate_nas.device import resolve_device
from surrogate_nas.errors import InputDataError

OUTLIER_MADS = 3.0
"""Repeats further than this many scaled MADs (1.4826 x MAD, a standard deviation for normal noise)
from the median are rejected."""


@dataclass(frozen=True)
class Latency:
    """One measured network: median milliseconds per forward pass and how it was measured.

    Attributes:
        latency_ms: median of the kept repeats.
        spread_pct: interquartile range of the kept repeats, in percent of the median.
        repeats: timed passes; ``kept`` of them survived the outlier rejection.
        batch_size, threads, device: what was timed, with how many torch threads, where.
        machine: the machine's fingerprint (:func:`machine`), ``torch`` its torch version.
    """

    latency_ms: float
    spread_pct: float
    repeats: int
    kept: int
    batch_size: int
    threads: int
    device: str
    machine: str
    torch: str

    def to_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=1)
def machine() -> str:
    """This machine's fingerprint: processor model, core count and architecture, e.g.
    ``x86_64-8c-3fa2b1c4`` (a digest of the model name, which ``/proc/cpuinfo`` gives on Linux)."""
    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), model)
    except OSError:
        pass
    digest = hashlib.sha1(f"{model}|{platform.system()}".encode()).hexdigest()[:8]
    return f"{platform.machine()}-{os.cpu_count()}c-{digest}"


def time_forward(net: nn.Module, input_shape, device: str = "cpu", batch_size: int = 1, threads: int = 1,
                 warmup: int = 5, repeats: int = 30) -> Latency:
    """Time ``net``'s forward pass in eval mode on a random ``batch_size x input_shape`` batch
    (see :func:`time_forwards`)."""
    return time_forwards([net], input_shape, device, batch_size, threads, warmup, repeats)[0]


def time_forwards(nets, input_shape, device: str = "cpu", batch_size: int = 1, threads: int = 1, warmup: int = 5,
                  repeats: int = 30, progress: Callable[[int, int], None] | None = None) -> list[Latency]:
    """Time the forward pass of each of ``nets`` in eval mode on one random ``batch_size x input_shape`` batch.

    The repeats run in rounds, each round timing every network once: load that comes and goes
    on a shared machine then falls on all networks alike instead of on whichever was being
    timed, which keeps their ranking (``benchmarks/measure_stability.py``).

    Args:
        nets: the networks (moved to ``device``).
        input_shape: one input's shape, e.g. ``(3, 32, 32)``.
        device: ``cpu``, ``cuda`` or ``cuda:K`` (CUDA is synchronised around every pass).
        batch_size: inputs per pass.
        threads: torch's intra-op threads while timing (restored afterwards).
        warmup: untimed passes of each network first.
        repeats: timed passes of each network (rounds).
        progress: hears ``(rounds done, repeats)`` after each round.

    Raises:
        InputDataError: a device that is not there, or counts below 1.
    """
    if min(int(batch_size), int(threads), int(repeats)) < 1 or int(warmup) < 0:
        raise InputDataError("batch size, threads and repeats must be >= 1 and warm-up >= 0")
    dev = resolve_device(device)
    nets = [net.to(dev).eval() for net in nets]
    x = torch.randn(int(batch_size), *input_shape, generator=torch.Generator().manual_seed(0)).to(dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    seconds = np.zeros((len(nets), int(repeats)))
    before = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        with torch.inference_mode():
            for net in nets:
                for _ in range(int(warmup)):
                    net(x)
            sync()
            for r in range(int(repeats)):
                for i, net in enumerate(nets):
                    start = time.perf_counter()
                    net(x)
                    sync()
                    seconds[i, r] = time.perf_counter() - start
                if progress is not None:
                    progress(r + 1, int(repeats))
    finally:
        torch.set_num_threads(before)
    return [_summary(row * 1000.0, int(batch_size), int(threads), str(dev)) for row in seconds]


def _summary(ms: np.ndarray, batch_size: int, threads: int, device: str) -> Latency:
    kept = without_outliers(ms)
    median = float(np.median(kept))
    q1, q3 = np.percentile(kept, [25, 75])
    return Latency(median, float(100.0 * (q3 - q1) / median), len(ms), len(kept), batch_size, threads, device,
                   machine(), torch.__version__)


def without_outliers(values: np.ndarray) -> np.ndarray:
    """``values`` within :data:`OUTLIER_MADS` scaled MADs of their median (all of them when the MAD is 0)."""
    median = np.median(values)
    mad = 1.4826 * np.median(np.abs(values - median))
    if mad == 0:
        return values
    return values[np.abs(values - median) <= OUTLIER_MADS * mad]
