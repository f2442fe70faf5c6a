"""Pieces of SQL the store's parts share: the columns that identify a setting, filters, the joined read."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import Setting, Status
from surrogate_nas.storage.schema import architectures, evaluations

ev = evaluations
ar = architectures

CLEARED = {
    "valid_acc": None,
    "test_acc": None,
    "train_losses": None,
    "valid_accs": None,
    "train_seconds": None,
    "params": None,
    "flops": None,
    "device": None,
    "message": "",
    "mlflow_run_id": None,
    "finished_at": None,
    "checkpoint": None,
}


def setting_columns(key: str, setting: Setting) -> dict:
    if not isinstance(setting, Setting):
        raise InputDataError(f"a claim needs a Setting, got {type(setting).__name__}")
    return {
        "space": setting.space,
        "canonical_key": key,
        "dataset": setting.dataset,
        "network": setting.network_key,
        "recipe": setting.recipe_key,
        "epochs": int(setting.train.epochs),
        "seed": int(setting.seed),
    }


def match(columns: dict) -> list:
    return [ev.c[name] == value for name, value in columns.items()]


def joined():
    return select(ev, ar.c.arch, ar.c.params_ref, ar.c.flops_ref).join(ar, ev.c.architecture_id == ar.c.id)


def naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None) if value.tzinfo is not None else value


def filters(space, dataset, status, setting, network, epochs, seed) -> list:
    out = []
    if status is not None:
        try:
            out.append(ev.c.status == Status(status).value)
        except ValueError as exc:
            choices = ", ".join(s.value for s in Status)
            raise InputDataError(f"status must be one of {choices}, got {status!r}") from exc
    if setting is not None:
        columns = setting_columns("", setting)
        columns.pop("canonical_key")
        out += match(columns)
    if network is not None:
        out.append(ev.c.network == json.dumps(network.to_dict(), sort_keys=True))
    for column, value in (("space", space), ("dataset", dataset), ("epochs", epochs), ("seed", seed)):
        if value is not None:
            out.append(ev.c[column] == value)
    return out
