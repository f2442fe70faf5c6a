"""Benchmark tables: architecture -> measured metrics, packaged or from a user CSV.

    >>> from surrogate_nas.tables import load_benchmark
    >>> table = load_benchmark("nb201-cifar10")
    >>> table.target, len(table)
    ('cifar10_valid_acc_200ep', 15625)
"""

from surrogate_nas.tables.loading import NAMED_BENCHMARKS, NamedBenchmark, load_benchmark, load_csv
from surrogate_nas.tables.table import (
    ARCH_COLUMN,
    BenchmarkTable,
    FidelityLevel,
    numeric_columns,
    parse_fidelity_columns,
    table_from_frame,
)

__all__ = [
    "ARCH_COLUMN",
    "NAMED_BENCHMARKS",
    "BenchmarkTable",
    "FidelityLevel",
    "NamedBenchmark",
    "load_benchmark",
    "load_csv",
    "numeric_columns",
    "parse_fidelity_columns",
    "table_from_frame",
]
