"""Benchmark tables: packaged NAS-Bench-201 tables and user CSVs behind one interface."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from surrogate_nas.spaces.nb201.cell import Cell, all_cells
from surrogate_nas.errors import InputDataError
from surrogate_nas.tables import NAMED_BENCHMARKS, BenchmarkTable, load_benchmark, table_from_frame

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
CONV3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
# Twins: node 1 is always zero (edge 1<-0 is none), so the ops leaving it do not matter.
TWIN_A = "|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|"
TWIN_B = "|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|skip_connect~1|avg_pool_3x3~2|"


def one_line_error(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


@pytest.fixture
def write_csv(tmp_path):
    def write(text: str, name: str = "user.csv"):
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


# -- named benchmarks ---------------------------------------------------------------------


def test_nb201_cifar10_has_every_cell_and_the_published_optimum():
    table = load_benchmark("nb201-cifar10")
    assert len(table.frame) == 15625
    assert table.target == "cifar10_valid_acc_200ep"
    assert table.test_column == "cifar10_test_acc_200ep"
    assert table.cost_column == "train_time_s_cifar10"
    assert table.size_column == "params_mb_cifar10"
    assert table.optimum == pytest.approx(91.6067, abs=1e-4)
    assert {c.to_string() for c in table.architectures()} == {c.to_string() for c in all_cells()}
    best = int(np.argmax(table.values()))
    assert table.architectures()[best] == Cell.from_string(BEST)
    assert table.lookup(Cell.from_string(BEST), "cifar10_test_acc_200ep") == pytest.approx(94.3733, abs=1e-4)


@pytest.mark.parametrize(
    "name, optimum",
    [("nb201-cifar100", 73.4933), ("nb201-cifar10-12ep", None), ("nb201-cifar100-12ep", None)],
)
def test_other_named_benchmarks_use_their_own_columns(name, optimum):
    table = load_benchmark(name)
    spec = NAMED_BENCHMARKS[name]
    assert table.target == spec.target and table.test_column == spec.test_column
    assert len(table.frame) == 15625
    for column in (table.target, table.test_column, table.cost_column, table.size_column):
        assert np.isfinite(table.values(column)).all()
    assert table.optimum == pytest.approx(table.frame[spec.target].max())
    if optimum is not None:
        assert table.optimum == pytest.approx(optimum, abs=1e-4)
    if name.endswith("12ep"):
        assert "12ep" in table.target and table.optimum < load_benchmark(name[:-5]).optimum


def test_named_tables_are_cached_and_metric_overrides_target():
    assert load_benchmark("nb201-cifar10") is load_benchmark("nb201-cifar10")
    test = load_benchmark("nb201-cifar10", metric="cifar10_test_acc_200ep")
    assert test.target == "cifar10_test_acc_200ep"
    assert test.optimum == pytest.approx(94.3733, abs=1e-4)
    with pytest.raises(InputDataError) as excinfo:
        load_benchmark("nb201-cifar10", metric="top1")
    message = one_line_error(excinfo)
    assert "'top1'" in message and "cifar10_test_acc_200ep" in message


def test_lookup_finds_exact_row_then_canonical_twin_then_nothing():
    a, b = Cell.from_string(TWIN_A), Cell.from_string(TWIN_B)
    assert a.canonical_key == b.canonical_key and a != b
    frame = pd.DataFrame({"arch": [TWIN_A, CONV3], "acc": [70.0, 90.0]})
    table = table_from_frame("twins", frame, "acc")
    assert table.lookup(a) == 70.0
    assert table.lookup(b) == 70.0
    assert table.lookup(Cell.from_string(ALL_NONE)) is None
    with pytest.raises(InputDataError):
        table.lookup(a, "nope")


def test_values_follow_row_order_and_copy():
    table = load_benchmark("nb201-cifar10")
    values = table.values()
    cells = table.architectures()
    for i in (0, 1, 777, 15624):
        assert table.lookup(cells[i]) == values[i]
    values[0] = -1.0
    assert table.values()[0] != -1.0


# -- user CSVs ----------------------------------------------------------------------------


def test_user_csv_round_trip(write_csv):
    path = write_csv(
        "arch,acc,params,note\n"
        f"{CONV3},91.5,1.5,big\n"
        f" {ALL_NONE} ,10.0,0.1,empty\n"
        f"{TWIN_A},80.25,0.4,twin\n"
    )
    table = load_benchmark(str(path), metric="acc")
    assert isinstance(table, BenchmarkTable)
    assert table.name == str(path) and table.target == "acc" and table.test_column is None
    assert [c.to_string() for c in table.architectures()] == [CONV3, ALL_NONE, TWIN_A]
    np.testing.assert_array_equal(table.values(), [91.5, 10.0, 80.25])
    np.testing.assert_array_equal(table.values("params"), [1.5, 0.1, 0.4])
    assert table.optimum == 91.5
    assert list(table.frame.columns) == ["arch", "acc", "params"]
    assert table.lookup(Cell.from_string(TWIN_B)) == 80.25


def test_user_csv_metric_defaults_to_the_only_numeric_column(write_csv):
    table = load_benchmark(str(write_csv(f"arch,acc\n{CONV3},91.5\n")))
    assert table.target == "acc"
    with pytest.raises(InputDataError) as excinfo:
        load_benchmark(str(write_csv(f"arch,acc,params\n{CONV3},91.5,2\n", "two.csv")))
    message = one_line_error(excinfo)
    assert "acc" in message and "params" in message


def test_missing_file_is_reported_with_named_alternatives(tmp_path):
    with pytest.raises(InputDataError) as excinfo:
        load_benchmark(str(tmp_path / "absent.csv"))
    message = one_line_error(excinfo)
    assert "absent.csv" in message and "nb201-cifar10" in message


def test_missing_arch_column(write_csv):
    with pytest.raises(InputDataError) as excinfo:
        load_benchmark(str(write_csv(f"architecture,acc\n{CONV3},91.5\n")), "acc")
    message = one_line_error(excinfo)
    assert "'arch'" in message and "architecture" in message


def test_missing_metric_column_lists_numeric_columns(write_csv):
    with pytest.raises(InputDataError) as excinfo:
        load_benchmark(str(write_csv(f"arch,acc,params,note\n{CONV3},91.5,1.0,x\n")), "valid_acc")
    message = one_line_error(excinfo)
    assert "'valid_acc'" in message and "acc, params" in message and "note" not in message


def test_invalid_arch_names_the_file_line(write_csv):
    bad = CONV3.replace("nor_conv_1x1", "x").replace("nor_conv_3x3~1|+", "conv5x5~1|+")
    with pytest.raises(InputDataError) as excinfo:
        load_benchmark(str(write_csv(f"arch,acc\n{CONV3},91.5\n{ALL_NONE},10\n{bad},50\n")), "acc")
    message = one_line_error(excinfo)
    assert "line 4" in message and "'arch'" in message and "conv5x5" in message


def test_non_numeric_metric_value_names_line_column_and_value(write_csv):
    with pytest.raises(InputDataError) as excinfo:
        load_benchmark(str(write_csv(f"arch,acc\n{CONV3},91.5\n{ALL_NONE},ten\n")), "acc")
    message = one_line_error(excinfo)
    assert "line 3" in message and "'acc'" in message and "'ten'" in message


def test_empty_metric_value_is_an_error(write_csv):
    with pytest.raises(InputDataError) as excinfo:
        load_benchmark(str(write_csv(f"arch,acc\n{CONV3},\n{ALL_NONE},10\n")), "acc")
    assert "line 2" in one_line_error(excinfo)


def test_duplicate_arch_names_both_lines(write_csv):
    text = f"arch,acc\n{CONV3},91.5\n{ALL_NONE},10\n {CONV3},90\n"
    with pytest.raises(InputDataError) as excinfo:
        load_benchmark(str(write_csv(text)), "acc")
    message = one_line_error(excinfo)
    assert "duplicate" in message and "line 4" in message and "line 2" in message


def test_table_from_frame_validates_like_a_csv_with_data_row_numbers():
    frame = pd.DataFrame({"arch": [CONV3, "|bad|"], "acc": [1.0, 2.0]})
    with pytest.raises(InputDataError) as excinfo:
        table_from_frame("frame", frame, "acc")
    assert "data row 2" in one_line_error(excinfo)
    frame = pd.DataFrame({"arch": [CONV3, ALL_NONE], "acc": [1.0, "x"]})
    with pytest.raises(InputDataError) as excinfo:
        table_from_frame("frame", frame, "acc")
    assert "data row 2" in one_line_error(excinfo) and "'x'" in str(excinfo.value)
    with pytest.raises(InputDataError):
        table_from_frame("frame", pd.DataFrame({"arch": [CONV3], "acc": [1.0]}), "acc", test_column="test")
