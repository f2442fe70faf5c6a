"""Named, packaged benchmark tables (NAS-Bench-201, -101, -301 subsets) and user CSVs behind one loader.

The NAS-Bench-201 tables also carry the measured latency of every cell on 27 device
settings (``lat_ms_<setting>``, see :mod:`.devices`).

    >>> t = load_benchmark("nb201-cifar10")
    >>> len(t), round(t.optimum, 4)
    (15625, 91.6067)
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from surrogate_nas.errors import InputDataError
from surrogate_nas.resources import data_file
from surrogate_nas.spaces import DEFAULT_SPACE
from surrogate_nas.devices import DEVICES
from surrogate_nas.spaces.nb201.latency import latency_frame
from surrogate_nas.tables.table import ARCH_COLUMN, BenchmarkTable, table_from_frame

_NB201_FILE = "nb201_benchmark.csv.gz"
_NB201_DROPPED = ("edge_1_0", "edge_2_0", "edge_2_1", "edge_3_0", "edge_3_1", "edge_3_2", "op_code", "unique_str")


@dataclass(frozen=True)
class NamedBenchmark:
    """Which packaged file a named benchmark reads, its space, and which columns play which role."""

    file: str
    target: str
    test_column: str | None
    cost_column: str | None
    size_column: str | None
    description: str
    space: str = "nb201"
    fidelities: tuple[tuple[str, float], ...] = ()
    known_columns: tuple[str, ...] = ()
    """Columns known without training an architecture (its size, its measured latency): a
    constraint on one filters candidates before they are evaluated."""


_NB201_KNOWN = ("params_mb_cifar10", "params_mb_cifar100", "latency_cifar10", "latency_cifar100",
                *(d.column for d in DEVICES.values()))

NAMED_BENCHMARKS: dict[str, NamedBenchmark] = {
    "nb201-cifar10": NamedBenchmark(
        _NB201_FILE,
        "cifar10_valid_acc_200ep",
        "cifar10_test_acc_200ep",
        "train_time_s_cifar10",
        "params_mb_cifar10",
        "NAS-Bench-201 CIFAR-10, 200 epochs: search on x-valid, report ori-test",
        fidelities=(("cifar10_valid_acc_12ep", 12.0), ("cifar10_valid_acc_200ep", 200.0)),
        known_columns=_NB201_KNOWN,
    ),
    "nb201-cifar100": NamedBenchmark(
        _NB201_FILE,
        "cifar100_valid_acc_200ep",
        "cifar100_test_acc_200ep",
        "train_time_s_cifar100",
        "params_mb_cifar100",
        "NAS-Bench-201 CIFAR-100, 200 epochs: search on x-valid, report x-test",
        fidelities=(("cifar100_valid_acc_12ep", 12.0), ("cifar100_valid_acc_200ep", 200.0)),
        known_columns=_NB201_KNOWN,
    ),
    "nb201-cifar10-12ep": NamedBenchmark(
        _NB201_FILE,
        "cifar10_valid_acc_12ep",
        "cifar10_test_acc_12ep",
        "est_train_time_s_cifar10_12ep",
        "params_mb_cifar10",
        "NAS-Bench-201 CIFAR-10, separate 12-epoch schedule (low fidelity)",
        known_columns=_NB201_KNOWN,
    ),
    "nb201-cifar100-12ep": NamedBenchmark(
        _NB201_FILE,
        "cifar100_valid_acc_12ep",
        "cifar100_test_acc_12ep",
        "est_train_time_s_cifar100_12ep",
        "params_mb_cifar100",
        "NAS-Bench-201 CIFAR-100, separate 12-epoch schedule (low fidelity)",
        known_columns=_NB201_KNOWN,
    ),
    "nb101-cifar10-subset": NamedBenchmark(
        "nb101_cifar10_subset.csv.gz",
        "val_accuracy",
        None,
        None,
        "params",
        "NAS-Bench-101 CIFAR-10, 108 epochs: 500 NAS-Bench-Suite-Zero samples (301 distinct cells)",
        space="nb101",
        known_columns=("params", "flops"),
    ),
    "darts-cifar10-subset": NamedBenchmark(
        "darts_cifar10_subset.csv.gz",
        "val_accuracy",
        None,
        None,
        "params",
        "DARTS space (NAS-Bench-301 surrogate accuracy), CIFAR-10: 725 NAS-Bench-Suite-Zero samples",
        space="darts",
        known_columns=("params", "flops"),
    ),
}
"""Packaged benchmarks by name. Column meanings: ``surrogate_nas/data/PROVENANCE.md``."""


def load_benchmark(
    name_or_csv: str, metric: str | None = None, space=None, maximize: bool = True, cost_column: str | None = None,
    fidelity_columns: dict[str, float] | None = None,
) -> BenchmarkTable:
    """Load a named benchmark (see :data:`NAMED_BENCHMARKS`) or a user CSV.

    Args:
        name_or_csv: A key of :data:`NAMED_BENCHMARKS`, or the path of a CSV (``.csv`` or
            ``.csv.gz``) with an ``arch`` column of architectures and metric columns.
        metric: Overrides the target; any numeric column may be named. For a CSV it may be
            omitted only if the file has exactly one numeric column.
        space: The search space (name, file or object) of a CSV's architectures (default
            ``nb201``); for a named table it must be the table's own or None.
        maximize: Whether larger target values are better.
        cost_column: The column holding each row's evaluation cost in seconds (simulated wall
            time); a named table has its own.
        fidelity_columns: ``{column: epochs}`` of a CSV holding the target at several budgets
            (see :func:`~surrogate_nas.tables.table.table_from_frame`); the NB-201 tables know
            their 12- and 200-epoch columns (kept when the target is their default).

    Returns:
        The table. Named tables are cached in-process and shared: do not mutate ``frame``.

    Raises:
        InputDataError: Unknown name and no such file, or a malformed CSV; messages name the
            line and column at fault.
    """
    name_or_csv = str(name_or_csv)
    if name_or_csv in NAMED_BENCHMARKS:
        own = NAMED_BENCHMARKS[name_or_csv].space
        given = None if space is None else getattr(space, "name", space)
        if given is not None and given != own:
            raise InputDataError(f"benchmark {name_or_csv!r} is a table of the {own} space, not {given!r}")
        if fidelity_columns:
            raise InputDataError(f"benchmark {name_or_csv!r} knows its own fidelities; fidelity columns are for CSVs")
        return _load_named(name_or_csv, metric, bool(maximize), cost_column)
    return load_csv(name_or_csv, metric, space=space or DEFAULT_SPACE, maximize=maximize, cost_column=cost_column,
                    fidelity_columns=fidelity_columns)


def load_csv(
    path: str | Path, metric: str | None = None, space=DEFAULT_SPACE, maximize: bool = True,
    **roles,
) -> BenchmarkTable:
    """Load a user CSV of ``space``'s architectures; ``roles`` may set ``test_column``, ``cost_column``,
    ``size_column``, ``fidelity_columns``.

    Rows are named in messages by file line (the header is line 1).
    """
    path = Path(path)
    if not path.is_file():
        raise InputDataError(
            f"no benchmark file {str(path)!r} and no named benchmark of that name; "
            f"expected a CSV path or one of: {', '.join(NAMED_BENCHMARKS)}"
        )
    try:
        frame = pd.read_csv(path, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, csv.Error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputDataError(f"{path}: not a readable CSV: {first}") from None
    return table_from_frame(str(path), frame, metric, space=space, maximize=maximize,
                            row_label=lambda i: f"line {i + 2}", **roles)


@lru_cache(maxsize=None)
def _load_named(name: str, metric: str | None, maximize: bool, cost_column: str | None) -> BenchmarkTable:
    spec = NAMED_BENCHMARKS[name]
    frame = _packaged_frame(spec.file)
    own_target = metric is None or metric == spec.target
    return table_from_frame(
        name,
        frame,
        spec.target if metric is None else metric,
        space=spec.space,
        maximize=maximize,
        test_column=spec.test_column,
        cost_column=cost_column or spec.cost_column,
        size_column=spec.size_column,
        fidelity_columns=dict(spec.fidelities) if own_target and spec.fidelities else None,
        known_columns=spec.known_columns,
    )


@lru_cache(maxsize=None)
def _packaged_frame(filename: str) -> pd.DataFrame:
    raw = data_file(filename).read_bytes()
    frame = pd.read_csv(io.BytesIO(raw), compression="gzip", dtype={"op_code": str})
    if filename != _NB201_FILE:
        return frame
    frame = frame.drop(columns=[c for c in _NB201_DROPPED if c in frame.columns])
    frame = frame.rename(columns={"arch_str": ARCH_COLUMN})
    frame = frame.merge(latency_frame(), on="arch_index", how="left", validate="one_to_one")
    # NB201 records no 12-epoch training time; per-epoch cost does not depend on the
    # schedule, so 12/200 of the 200-epoch time estimates it (see PROVENANCE.md).
    for ds in ("cifar10", "cifar100"):
        frame[f"est_train_time_s_{ds}_12ep"] = frame[f"train_time_s_{ds}"] * (12 / 200)
    return frame
