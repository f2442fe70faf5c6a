"""Frozen records the store returns, and the conversion from database rows.

:class:`surrogate_nas.records.Evaluation` is the record for an evaluation;
searches and their trials get the two small records below. Timestamps are
stored as naive UTC and come back timezone-aware (UTC).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from surrogate_nas.records import Evaluation, NetworkConfig, Status


@dataclass(frozen=True)
class SearchInfo:
    """A named search run, the configuration it was started with, and its MLflow run."""

    id: int
    name: str
    config: dict
    created_at: datetime
    mlflow_run_id: str | None = None
    ref_point: tuple[float, ...] | None = None


@dataclass(frozen=True)
class SearchTrial:
    """One architecture evaluated by a search at one fidelity, with the values it got."""

    id: int
    search_id: int
    step: int
    arch: str
    fidelity: float
    values: dict
    evaluation_id: int | None
    cost_seconds: float | None
    created_at: datetime


def utcnow() -> datetime:
    """Now, as the naive UTC timestamp the database stores."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def as_utc(value: datetime | None) -> datetime | None:
    """A stored timestamp as a timezone-aware UTC datetime."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def curve_to_json(values: Sequence[float]) -> list[float | None]:
    """A learning curve as JSON-safe values: NaN and infinities become null."""
    return [float(v) if math.isfinite(v) else None for v in values]


def curve_from_json(values: Sequence[float | None] | None) -> tuple[float, ...]:
    """Inverse of :func:`curve_to_json`; nulls come back as NaN."""
    return tuple(float("nan") if v is None else float(v) for v in (values or ()))


def evaluation_from_row(row: Mapping[str, Any]) -> Evaluation:
    """Build an :class:`Evaluation` from a joined evaluations/architectures row."""
    recipe = json.loads(row["recipe"]) if row["recipe"] else {}
    return Evaluation(
        id=row["id"],
        space=row["space"],
        arch=row["arch"],
        canonical_key=row["canonical_key"],
        dataset=row["dataset"],
        network=NetworkConfig.from_dict(json.loads(row["network"])),
        epochs=row["epochs"],
        seed=row["seed"],
        train_config={"epochs": row["epochs"], **recipe},
        status=Status(row["status"]),
        valid_acc=row["valid_acc"],
        test_acc=row["test_acc"],
        train_losses=curve_from_json(row["train_losses"]),
        valid_accs=curve_from_json(row["valid_accs"]),
        train_seconds=row["train_seconds"],
        params=row["params"],
        flops=row["flops"],
        device=row["device"],
        message=row["message"] or "",
        mlflow_run_id=row["mlflow_run_id"],
        worker=row["worker"],
        created_at=as_utc(row["created_at"]),
        finished_at=as_utc(row["finished_at"]),
        heartbeat_at=as_utc(row["heartbeat_at"]),
        params_ref=row["params_ref"],
        flops_ref=row["flops_ref"],
        checkpoint=row["checkpoint"],
    )


def trial_from_row(row: Mapping[str, Any]) -> SearchTrial:
    return SearchTrial(
        id=row["id"],
        search_id=row["search_id"],
        step=row["step"],
        arch=row["arch"],
        fidelity=float(row["fidelity"]),
        values=dict(row["values"] or {}),
        evaluation_id=row["evaluation_id"],
        cost_seconds=row["cost_seconds"],
        created_at=as_utc(row["created_at"]),
    )


def search_from_row(row: Mapping[str, Any]) -> SearchInfo:
    return SearchInfo(
        id=row["id"],
        name=row["name"],
        config=dict(row["config"] or {}),
        created_at=as_utc(row["created_at"]),
        mlflow_run_id=row["mlflow_run_id"],
        ref_point=None if row["ref_point"] is None else tuple(float(v) for v in row["ref_point"]),
    )
