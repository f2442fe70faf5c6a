"""The device settings of the packaged latency measurements: what ``latency@NAME`` names.

A *setting* is a device at a batch size (``1080ti_1``, ``1080ti_256``) or a device alone
(``pixel3``, ``raspi4``), measured by HELP or HW-NAS-Bench. The measurements themselves belong
to the space they were taken on (NAS-Bench-201's cells: :mod:`surrogate_nas.spaces.nb201.latency`);
a space says which settings it has (:meth:`~surrogate_nas.spaces.base.SearchSpace.measures_latency_on`).

    >>> DEVICES["pixel3"].column
    'lat_ms_pixel3'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from surrogate_nas.errors import InputDataError

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
