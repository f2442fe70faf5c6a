"""The packaged NAS-Bench-201 latency table: settings, lookups, and the columns the named tables carry."""

from __future__ import annotations

import numpy as np
import pytest

from surrogate_nas.errors import InputDataError
from surrogate_nas.spaces import get_space
from surrogate_nas.tables import load_benchmark
from surrogate_nas.devices import DEVICES, get_device
from surrogate_nas.spaces.nb201.latency import device_latency, device_summary, latency_frame

ARCH0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"


def test_the_table_covers_every_cell_and_setting_with_hw_nas_bench_numbers():
    frame = latency_frame()
    assert len(frame) == 15625 and frame["arch_index"].is_unique
    assert len(DEVICES) == 27 and not frame.isna().any().any()
    # HW-NAS-Bench's README gives these for architecture 0 on CIFAR-10.
    lat = {d: device_latency([ARCH0], d)[0] for d in ("pixel3", "raspi4", "eyeriss", "fpga")}
    assert lat == pytest.approx({"pixel3": 3.60585, "raspi4": 10.48198, "eyeriss": 3.64562, "fpga": 2.57296},
                                rel=5e-6)


def test_named_nb201_tables_carry_the_latency_columns_as_known_columns():
    table = load_benchmark("nb201-cifar10")
    cells = table.architectures()[:50]
    for name in ("pixel3", "1080ti_1"):
        column = DEVICES[name].column
        assert column in table.numeric_columns and column in table.known_columns
        assert np.array_equal(table.frame[column].to_numpy()[:50], device_latency(cells, name))
    assert "cifar10_valid_acc_200ep" not in table.known_columns and "params_mb_cifar10" in table.known_columns


def test_lookups_fail_with_one_line():
    with pytest.raises(InputDataError, match="unknown device setting 'pixel9'.*pixel3"):
        get_device("pixel9")
    with pytest.raises(InputDataError, match="NAS-Bench-201 cells only"):
        device_latency(["not a cell"], "pixel3")


def test_summary_and_latency_features():
    summary = device_summary()
    assert list(summary["device"]) == list(DEVICES)
    assert (summary["min ms"] <= summary["median ms"]).all() and (summary["median ms"] <= summary["max ms"]).all()
    space = get_space("nb201")
    cells = space.enumerate()[:5]
    X = space.features(cells, "latency")
    assert X.shape == (5, 27) and space.feature_names("latency")[0] == "log_lat_ms_1080ti_1"
    assert np.allclose(np.exp(X[:, list(DEVICES).index("pixel3")]), device_latency(cells, "pixel3"))
