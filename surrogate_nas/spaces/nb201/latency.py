"""Measured inference latency of every NAS-Bench-201 cell on 27 device settings.

The packaged table (``nb201_latency.csv.gz``, provenance in ``data/PROVENANCE.md``) holds
one row per cell (by NAS-Bench-201's index, mapped to the cell's string through the packaged
benchmark file) and one column ``lat_ms_<setting>`` per setting of
:data:`surrogate_nas.devices.DEVICES`, in milliseconds, for NAS-Bench-201's CIFAR-10 network.
The named NB-201 tables carry these columns; :func:`device_latency` looks a cell up by its
string, so live NB-201 searches and user tables of NB-201 cells can use them too.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from surrogate_nas.devices import DEVICES, DeviceSetting, get_device
from surrogate_nas.errors import InputDataError
from surrogate_nas.resources import data_file

LATENCY_FILE = "nb201_latency.csv.gz"
BENCHMARK_FILE = "nb201_benchmark.csv.gz"
"""The packaged NAS-Bench-201 table, whose ``arch_index`` and ``arch_str`` name the latency rows' cells."""


@lru_cache(maxsize=1)
def latency_frame() -> pd.DataFrame:
    """The packaged table: ``arch_index`` and one ``lat_ms_<setting>`` column per setting (15,625 rows)."""
    frame = pd.read_csv(io.BytesIO(data_file(LATENCY_FILE).read_bytes()), compression="gzip")
    missing = [d.column for d in DEVICES.values() if d.column not in frame.columns]
    if missing:  # the registry and the file are shipped together; this guards edits to either
        raise InputDataError(f"{LATENCY_FILE} lacks the columns {missing}")
    return frame


@lru_cache(maxsize=1)
def _rows_by_arch() -> dict[str, int]:
    index = pd.read_csv(io.BytesIO(data_file(BENCHMARK_FILE).read_bytes()), compression="gzip",
                        usecols=["arch_index", "arch_str"])
    by_index = dict(zip(index["arch_index"].astype(int), index["arch_str"]))
    return {by_index[int(i)]: row for row, i in enumerate(latency_frame()["arch_index"])}


def device_latency(archs: Sequence, device: str | DeviceSetting) -> np.ndarray:
    """Latency (ms) of NAS-Bench-201 cells on ``device``, looked up by each cell's exact string.

    Raises:
        InputDataError: an unknown device, or a value that is not a NAS-Bench-201 cell.
    """
    setting = device if isinstance(device, DeviceSetting) else get_device(device)
    column = latency_frame()[setting.column].to_numpy(np.float64)
    rows = _rows_by_arch()
    out = np.empty(len(archs), dtype=np.float64)
    for i, arch in enumerate(archs):
        text = arch if isinstance(arch, str) else arch.to_string()
        row = rows.get(text)
        if row is None:
            raise InputDataError(f"no device latency for {text!r}: latency tables cover NAS-Bench-201 cells only")
        out[i] = column[row]
    return out


def device_summary() -> pd.DataFrame:
    """One row per setting: name, kind, hardware, batch, source and the latency range over all cells."""
    frame = latency_frame()
    rows = []
    for d in DEVICES.values():
        values = frame[d.column].to_numpy(np.float64)
        rows.append({"device": d.name, "kind": d.kind, "hardware": d.hardware,
                     "batch": "-" if d.batch is None else d.batch, "min ms": values.min(),
                     "median ms": float(np.median(values)), "max ms": values.max(), "source": d.source})
    return pd.DataFrame(rows)
