"""Transfer from a public table of the same space: another dataset's results as a prior feature.

An architecture that trains well on CIFAR-10 usually trains well on CIFAR-100 (Kendall tau
about 0.85 between the two NAS-Bench-201 tables), so when a public table of the same space
exists, its value of each architecture is a strong feature for a new dataset or for the
user's own database. :func:`prior_column` gives that column: the source table's value of the
architecture (of a canonical twin when the exact row is absent), or, for architectures the
source does not hold, the prediction of an XGBoost ensemble fitted on the whole source table.
:func:`~surrogate_nas.pipelines.tables.compare.compare_predictors` appends it to every predictor's
features when asked (``compare --transfer-from``); those results use more information than
the data-free ones and are reported separately.

The source must not be the target itself (:func:`check_transfer_source`): the same table
read for the same metric column would hand every predictor the answer as a feature.

    >>> from surrogate_nas.tables import load_benchmark
    >>> target = load_benchmark("nb201-cifar100")
    >>> prior_column(load_benchmark("nb201-cifar10"), target.architectures()[:3]).shape
    (3, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.tables import NAMED_BENCHMARKS, BenchmarkTable


def check_transfer_source(table: BenchmarkTable, source: BenchmarkTable, role: str = "transfer table") -> None:
    """Refuse a transfer source that is ``table`` itself: the same data, read for the same metric column.

    The same data is the same packaged file for named tables (``nb201-cifar10`` and
    ``nb201-cifar10-12ep`` share one), the same file after resolving the path for CSVs, or the
    same database table. Another metric column of the same data (CIFAR-10's 12-epoch accuracy as
    a prior for its 200-epoch one) is a legitimate source. ``role`` names the source in the message.

    Raises:
        InputDataError: ``source`` holds ``table``'s own target values.
    """
    if _data_of(table) == _data_of(source) and table.target == source.target:
        raise InputDataError(
            f"the {role} {source.name} is the table being predicted ({table.name}): the same data and the "
            f"same metric column {table.target} (same named table, or same file, and same metric), so the prior "
            "feature would be the target itself; transfer from another dataset's table or another metric column"
        )


def _data_of(table: BenchmarkTable) -> str:
    """Where ``table``'s rows come from: a packaged file, a resolved CSV path, or a database table's name."""
    if table.name in NAMED_BENCHMARKS:
        return f"packaged:{NAMED_BENCHMARKS[table.name].file}"
    if table.name.startswith("db:"):
        return table.name
    return f"file:{Path(table.name).resolve()}"


def prior_column(source: BenchmarkTable, archs: Sequence, space=None) -> np.ndarray:
    """``n x 1``: ``source``'s target for each of ``archs`` (see module docstring).

    Args:
        source: a table of the same space as ``archs``.
        archs: architectures of that space.
        space: the space of ``archs`` (default: ``source``'s), checked against ``source``'s.

    Raises:
        InputDataError: the spaces differ.
    """
    if space is not None and space.name != source.space.name:
        raise InputDataError(
            f"the transfer table {source.name} is of the {source.space.name} space, "
            f"not of {space.name}; use a table of the same space"
        )
    rows = [source.row_of(a) for a in archs]
    target = source.values()
    out = np.array([np.nan if r is None else target[r] for r in rows], dtype=np.float64)
    unseen = np.flatnonzero(np.isnan(out))
    if unseen.size and np.ptp(target) == 0:  # a source that says nothing (every result alike): no model to fit
        out[unseen] = target[0]
    elif unseen.size:
        from surrogate_nas.predictors.xgb import XGBEnsemble

        fitted = XGBEnsemble(calibration="none").fit(source.space.features(source.architectures(), "cheap"), target)
        out[unseen] = fitted.predict(source.space.features([archs[i] for i in unseen], "cheap"))[0]
    return out.reshape(-1, 1)
