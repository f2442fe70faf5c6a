"""Measured inference latency of every NAS-Bench-201 cell on 27 device settings.

The packaged table (``nb201_latency.csv.gz``, provenance in ``data/PROVENANCE.md``) holds
one row per cell and one column ``lat_ms_<setting>`` per device setting, in milliseconds,
for NAS-Bench-201's CIFAR-10 network. A *setting* is a device at a batch size
(``1080ti_1``, ``1080ti_256``) or a device alone (``pixel3``, ``raspi4``). The named
NB-201 tables carry these columns; :func:`device_latency` looks a cell up by its string, so
live NB-201 searches and user tables of NB-201 cells can use them too.

    >>> DEVICES["pixel3"].column
    'lat_ms_pixel3'
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from surrogate_nas.errors import InputDataError
from surrogate_nas.resources import data_file

LATENCY_FILE = "nb201_latency.csv.gz"
COLUMN_PREFIX = "lat_ms_"


@dataclass(frozen=True)
class DeviceSetting:
    """One device setting of the latency table.

    Attributes:
        name: what ``latency@NAME`` names (``pixel3``, ``1080ti_1``).
        kind: ``gpu``, ``cpu``, ``phone``, ``edge``, ``asic`` or ``fpga``.
        hardware: the device in words.
        batch: images per timed forward pass, when the source says.
        source: who measured (or estimated) it.
    """

    name: str
    kind: str
    hardware: str
    batch: int | None
    source: str

    @property
    def column(self) -> str:
        """The latency column in tables (``lat_ms_<name>``)."""
        return COLUMN_PREFIX + self.name

    @property
    def feature(self) -> str:
        """The setting's column in the NB-201 ``devlat`` features (``log_lat_ms_<name>``)."""
        return "log_" + self.column


_HELP = "HELP (Lee et al. 2021), measured"
_HW = "HW-NAS-Bench (Li et al. 2021), measured"
_HW_EST = "HW-NAS-Bench (Li et al. 2021), estimated"


def _gpus() -> list[DeviceSetting]:
    names = {"1080ti": "NVIDIA GTX 1080 Ti", "2080ti": "NVIDIA RTX 2080 Ti", "titanx": "NVIDIA Titan X",
             "titanxp": "NVIDIA Titan Xp", "titan_rtx": "NVIDIA Titan RTX"}
    return [DeviceSetting(f"{gpu}_{b}", "gpu", hardware, b, _HELP) for gpu, hardware in names.items()
            for b in (1, 32, 256)]


DEVICES: dict[str, DeviceSetting] = {d.name: d for d in [
    *_gpus(),
    DeviceSetting("gold_6226", "cpu", "Intel Xeon Gold 6226", None, _HELP),
    DeviceSetting("gold_6240", "cpu", "Intel Xeon Gold 6240", None, _HELP),
    DeviceSetting("silver_4114", "cpu", "Intel Xeon Silver 4114", None, _HELP),
    DeviceSetting("silver_4210r", "cpu", "Intel Xeon Silver 4210R", None, _HELP),
    DeviceSetting("samsung_a50", "phone", "Samsung Galaxy A50 (whole ms)", None, _HELP),
    DeviceSetting("samsung_s7", "phone", "Samsung Galaxy S7 (whole ms)", None, _HELP),
    DeviceSetting("pixel2", "phone", "Google Pixel 2 (whole ms)", None, _HELP),
    DeviceSetting("essential_ph_1", "phone", "Essential PH-1 (whole ms)", None, _HELP),
    DeviceSetting("pixel3", "phone", "Google Pixel 3", None, _HW),
    DeviceSetting("raspi4", "edge", "Raspberry Pi 4", None, _HW),
    DeviceSetting("eyeriss", "asic", "Eyeriss ASIC", None, _HW_EST),
    DeviceSetting("fpga", "fpga", "FPGA (HW-NAS-Bench's)", None, _HW_EST),
]}
"""Device settings of the latency table, by name."""


def get_device(name: str) -> DeviceSetting:
    """The setting called ``name``.

    Raises:
        InputDataError: no such setting; the message lists them.
    """
    device = DEVICES.get(str(name).strip().lower())
    if device is None:
        raise InputDataError(f"unknown device setting {name!r}; expected one of {', '.join(DEVICES)} "
                             "(see `surrogate-nas devices`)")
    return device


def own_latency_features(feature_names: Sequence[str], target: str) -> list[int]:
    """Indices of the features that are the device setting ``target`` measures, when it is one.

    Fitting ``lat_ms_pixel3`` (a table's pixel3 column) on the ``devlat`` prior would read
    ``log_lat_ms_pixel3``, the answer itself; that column is left out. Only the exact setting
    is: the same GPU at another batch size (``1080ti_1`` when fitting ``1080ti_32``) is another
    measurement, with its own timing, and stays with the other settings. A target that is not a
    packaged setting's column (a user's ``ms`` column from a new device) leaves every column in.

    >>> own_latency_features(["log_lat_ms_pixel3", "log_lat_ms_raspi4"], "lat_ms_raspi4")
    [1]
    """
    owned = {d.feature for d in DEVICES.values() if d.column == target}
    return [i for i, name in enumerate(feature_names) if name in owned]


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
    from surrogate_nas.tables.loading import nb201_arch_strings

    by_index = dict(zip(*nb201_arch_strings()))
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
