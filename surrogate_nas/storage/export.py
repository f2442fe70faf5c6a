"""Evaluations as a table: a pandas DataFrame, and CSV or Parquet files of it.

One row per evaluation with the space, the architecture, its canonical key, the
training setting (``network`` as JSON, and its ``channels``/``cells_per_stage`` for the
cell spaces) and the metrics. Learning curves stay lists in the DataFrame and in
Parquet; CSV has no list type, so there they are JSON-encoded strings (NaN
written as ``null``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import Evaluation
from surrogate_nas.storage.records import curve_to_json

if TYPE_CHECKING:  # pandas costs half a second to import; commands that never export skip it
    import pandas as pd

COLUMNS: tuple[str, ...] = (
    "id",
    "space",
    "arch",
    "canonical_key",
    "dataset",
    "network",
    "channels",
    "cells_per_stage",
    "epochs",
    "seed",
    "batch_size",
    "learning_rate",
    "momentum",
    "weight_decay",
    "status",
    "valid_acc",
    "test_acc",
    "train_seconds",
    "params",
    "flops",
    "params_ref",
    "flops_ref",
    "device",
    "message",
    "mlflow_run_id",
    "worker",
    "created_at",
    "finished_at",
    "train_losses",
    "valid_accs",
)
"""Column order of :func:`evaluations_frame` and of exported files."""

CURVE_COLUMNS = ("train_losses", "valid_accs")
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def evaluations_frame(evaluations: Iterable[Evaluation]) -> pd.DataFrame:
    """One row per evaluation, columns :data:`COLUMNS`; curves as lists of floats."""
    rows = []
    for e in evaluations:
        cfg = e.train_config
        rows.append(
            {
                "id": e.id,
                "space": e.space,
                "arch": e.arch,
                "canonical_key": e.canonical_key,
                "dataset": e.dataset,
                "network": json.dumps(e.network.to_dict(), sort_keys=True),
                "channels": e.channels,
                "cells_per_stage": e.cells_per_stage,
                "epochs": e.epochs,
                "seed": e.seed,
                "batch_size": cfg.get("batch_size"),
                "learning_rate": cfg.get("learning_rate"),
                "momentum": cfg.get("momentum"),
                "weight_decay": cfg.get("weight_decay"),
                "status": e.status.value,
                "valid_acc": e.valid_acc,
                "test_acc": e.test_acc,
                "train_seconds": e.train_seconds,
                "params": e.params,
                "flops": e.flops,
                "params_ref": e.params_ref,
                "flops_ref": e.flops_ref,
                "device": e.device,
                "message": e.message,
                "mlflow_run_id": e.mlflow_run_id,
                "worker": e.worker,
                "created_at": e.created_at,
                "finished_at": e.finished_at,
                "train_losses": list(e.train_losses),
                "valid_accs": list(e.valid_accs),
            }
        )
    import pandas as pd

    return pd.DataFrame(rows, columns=list(COLUMNS))


def resolve_format(path: str | Path, fmt: str | None = None) -> str:
    """``"csv"`` or ``"parquet"``, from ``fmt`` or else the file extension.

    Raises:
        InputDataError: neither names a supported format.
    """
    if fmt is not None:
        name = str(fmt).lower().lstrip(".")
        if name not in set(FORMATS.values()):
            raise InputDataError(f"export format must be 'csv' or 'parquet', got {fmt!r}")
        return name
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputDataError(
            f"cannot tell the export format of {str(path)!r}: expected a file ending in "
            f".csv, .parquet or .pq, got {suffix or 'no extension'!r}"
        )
    return FORMATS[suffix]


def write_frame(frame: pd.DataFrame, path: str | Path, fmt: str | None = None) -> Path:
    """Write ``frame`` as CSV or Parquet (see :func:`resolve_format`); return the path."""
    kind = resolve_format(path, fmt)
    out = Path(path).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        encoded = frame.copy()
        for col in CURVE_COLUMNS:
            if col in encoded:
                encoded[col] = [json.dumps(curve_to_json(v)) for v in encoded[col]]
        encoded.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
    return out
