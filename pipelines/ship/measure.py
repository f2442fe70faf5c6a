"""Measure: the latency of built networks on this machine, as a CSV that ``fit --target latency`` reads.

The architectures come from a CSV with an ``arch`` column (this module's own output included),
from a seeded sample of the space, or from a stored search; each is built with the space's
builder and timed by :func:`surrogate_nas.latency.time_forwards`, all of them in rounds. Every row carries how it was
measured (batch size, threads, device, machine fingerprint, torch version, spread), so a table
never loses where its numbers come from.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from surrogate_nas.errors import InputDataError
from surrogate_nas.spaces import DEFAULT_SPACE, get_space

LATENCY_COLUMN = "latency_ms"
"""The measured column: what ``fit --target latency`` fits when a CSV has it."""


def measure(
    space=DEFAULT_SPACE,
    *,
    archs_file: str | None = None,
    sample: int | None = None,
    search: str | None = None,
    device: str = "cpu",
    batch_size: int = 1,
    threads: int = 1,
    channels: int | None = None,
    cells_per_stage: int | None = None,
    input_shape: tuple[int, int, int] = (3, 32, 32),
    num_classes: int = 10,
    warmup: int = 5,
    repeats: int = 30,
    seed: int = 0,
    builder=None,
    db: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Time the forward pass of architectures of ``space`` built with ``channels`` x ``cells_per_stage`` on
    ``input_shape`` inputs (a search's own network and input shape with ``search``).

    Give exactly one of ``archs_file`` (a CSV with an ``arch`` column), ``sample`` (that many distinct
    architectures drawn with ``seed``) and ``search`` (every architecture a stored search trained).
    ``progress`` hears ``(rounds done, repeats)``: every network is timed once a round.

    Returns:
        One row per architecture: ``arch``, ``latency_ms`` (median of the kept repeats), ``spread_pct``
        (their interquartile range in % of the median), ``repeats``, ``kept``, ``batch_size``, ``threads``,
        ``device``, ``machine``, ``torch``, ``params``, ``network`` and ``input_shape``.

    Raises:
        InputDataError: none or several sources, an unreadable file, a malformed architecture (its
            line named), an unknown search or device.
    """
    from surrogate_nas.device import resolve_device
    from surrogate_nas.latency import time_forwards

    if sum(v is not None for v in (archs_file, sample, search)) != 1:
        raise InputDataError("give one of --archs FILE, --sample N and --search NAME")
    resolve_device(device)
    space = get_space(space, builder)
    if search is not None:
        archs, space, network, input_shape, num_classes = _search_archs(search, db)
    else:
        archs = _file_archs(space, archs_file) if archs_file is not None else _sampled(space, sample, seed)
        network = space.network_config(channels, cells_per_stage)
    nets = [space.build_network(arch, network, tuple(input_shape), num_classes) for arch in archs]
    timings = time_forwards(nets, tuple(input_shape), device, batch_size, threads, warmup, repeats, progress)
    rows = [{"arch": arch.to_string(), **timing.to_dict(), "params": sum(p.numel() for p in net.parameters()),
             "network": network.label(), "input_shape": "x".join(map(str, input_shape))}
            for arch, net, timing in zip(archs, nets, timings)]
    return pd.DataFrame(rows, columns=["arch", LATENCY_COLUMN, "spread_pct", "repeats", "kept", "batch_size", "threads",
                                       "device", "machine", "torch", "params", "network", "input_shape"])


def write_csv(frame: pd.DataFrame, out) -> Path:
    """Write ``frame`` to ``out`` through a temporary file renamed into place."""
    out = Path(out).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    frame.to_csv(partial, index=False)
    os.replace(partial, out)
    return out


def measured_column(benchmark: str) -> str | None:
    """:data:`LATENCY_COLUMN` when the CSV ``benchmark`` has it (a :func:`measure` output), else None."""
    if not str(benchmark).endswith((".csv", ".csv.gz")) or not Path(benchmark).is_file():
        return None
    return LATENCY_COLUMN if LATENCY_COLUMN in pd.read_csv(benchmark, nrows=0).columns else None


def _file_archs(space, path) -> list:
    try:
        frame = pd.read_csv(Path(path).expanduser(), dtype=str)
    except (OSError, ValueError) as exc:
        raise InputDataError(f"cannot read {path} as a CSV: {exc}") from None
    if "arch" not in frame.columns:
        raise InputDataError(f"{path} has no 'arch' column; columns are: {', '.join(frame.columns) or '(none)'}")
    archs = {}
    for line, text in enumerate(frame["arch"], start=2):
        try:
            arch = space.parse(str(text))
        except InputDataError as exc:
            raise InputDataError(f"{path}, line {line}, column arch: {exc}") from None
        archs.setdefault(arch.to_string(), arch)
    if not archs:
        raise InputDataError(f"{path} lists no architectures")
    return list(archs.values())


def _sampled(space, n: int, seed: int) -> list:
    if int(n) < 1:
        raise InputDataError(f"--sample takes a number of architectures >= 1, got {n}")
    return space.sample_unseen(int(n), np.random.default_rng(seed))


def _search_archs(name: str, db: str | None):
    """A stored search's trained architectures, space, network, input shape and class count."""
    from surrogate_nas.datasets import DatasetSpec, is_dataset
    from surrogate_nas.pipelines.jobs.config import TrackingConfig

    store = TrackingConfig(db=db, mlflow=False).open_store(read_only=True)
    try:
        info = store.search(name)
        if info is None:
            raise InputDataError(f"no search named {name!r} in {store.url}")
        config = info.config
        if not is_dataset(str(config.get("benchmark", ""))):
            raise InputDataError(f"search {name!r} replayed a table; measure its architectures with --archs FILE")
        space = get_space(config.get("space") or DEFAULT_SPACE)
        archs = {}
        for trial in store.trials(info.id):
            arch = space.parse(trial.arch)
            archs.setdefault(arch.canonical_key, arch)
    finally:
        store.close()
    data = DatasetSpec(config["benchmark"], None, config.get("image_size"), int(config.get("seed", 0))).load()
    network = space.network_config(config.get("channels"), config.get("cells_per_stage"))
    return list(archs.values()), space, network, data.input_shape, data.num_classes
