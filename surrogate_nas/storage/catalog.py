"""Statements on architectures, cached features and searches, run inside a session.

Each function takes an open connection from
:meth:`~surrogate_nas.storage.store.ArchitectureStore.session`, so the store
decides the transaction and these stay free of connection handling. Inserts
that may race with another process run in a savepoint and treat a unique-key
violation as "someone else already wrote it".
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from surrogate_nas.errors import InputDataError
from surrogate_nas.storage.records import SearchInfo, SearchTrial, search_from_row, trial_from_row, utcnow
from surrogate_nas.storage.schema import architectures, features, search_trials, searches

_CHUNK = 500
"""Keys per ``IN (...)`` list, well under every backend's bound-parameter limit."""


# -- architectures ---------------------------------------------------------------
def ensure_architecture(
    conn: Connection, space: str, arch: str, canonical_key: str, params_ref: int | None, flops_ref: int | None
) -> int:
    """The id of ``arch`` in ``space``, inserting it if new; fills missing reference sizes."""
    where = (architectures.c.space == space, architectures.c.arch == arch)
    row = conn.execute(
        select(architectures.c.id, architectures.c.params_ref, architectures.c.flops_ref).where(*where)
    ).first()
    if row is None:
        values = {
            "space": space,
            "arch": arch,
            "canonical_key": canonical_key,
            "params_ref": _optional_int(params_ref, "params_ref"),
            "flops_ref": _optional_int(flops_ref, "flops_ref"),
        }
        try:
            with conn.begin_nested():
                return conn.execute(architectures.insert().values(**values)).inserted_primary_key[0]
        except IntegrityError:
            row = conn.execute(
                select(architectures.c.id, architectures.c.params_ref, architectures.c.flops_ref).where(*where)
            ).one()
    missing = {}
    if row.params_ref is None and params_ref is not None:
        missing["params_ref"] = _optional_int(params_ref, "params_ref")
    if row.flops_ref is None and flops_ref is not None:
        missing["flops_ref"] = _optional_int(flops_ref, "flops_ref")
    if missing:
        conn.execute(architectures.update().where(architectures.c.id == row.id).values(**missing))
    return row.id


def _optional_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise InputDataError(f"{name} must be an integer or None, got {value!r}") from exc


# -- features --------------------------------------------------------------------
def get_features(conn: Connection, space: str, name: str, keys: list[str]) -> dict[str, float]:
    """``{key: value}`` for the keys of ``space`` that have feature ``name`` cached (NULL reads as NaN)."""
    wanted = list(dict.fromkeys(str(k) for k in keys))
    out: dict[str, float] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = conn.execute(
            select(features.c.key, features.c.value).where(
                features.c.space == space, features.c.name == name, features.c.key.in_(chunk)
            )
        )
        for key, value in rows:
            out[key] = float("nan") if value is None else float(value)
    return out


def put_features(conn: Connection, space: str, name: str, values: Mapping[str, float]) -> None:
    """Upsert ``{key: value}`` for feature ``name`` of ``space``; non-finite values are stored as NULL."""
    if not isinstance(name, str) or not name:
        raise InputDataError(f"feature name must be a non-empty string, got {name!r}")
    rows = []
    for key, value in values.items():
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise InputDataError(f"feature {name!r} of {key!r} must be a number, got {value!r}") from exc
        rows.append({"space": space, "key": str(key), "name": name, "value": number if math.isfinite(number) else None})
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = (sqlite if dialect == "sqlite" else postgresql).insert(features)
        stmt = insert.on_conflict_do_update(
            index_elements=["space", "key", "name"], set_={"value": insert.excluded.value}
        )
        for start in range(0, len(rows), _CHUNK):
            conn.execute(stmt, rows[start : start + _CHUNK])
        return
    existing = set(get_features(conn, space, name, [r["key"] for r in rows]))
    for r in rows:
        if r["key"] in existing:
            conn.execute(
                features.update()
                .where(features.c.space == space, features.c.key == r["key"], features.c.name == name)
                .values(value=r["value"])
            )
        else:
            conn.execute(features.insert().values(**r))


# -- searches --------------------------------------------------------------------
def _json_value(value: Any, what: str) -> Any:
    """``value`` as it will read back from a JSON column, or InputDataError if it has no JSON form."""
    try:
        text = json.dumps(value, sort_keys=True, allow_nan=False, default=_not_json)
    except (TypeError, ValueError) as exc:
        raise InputDataError(f"{what} must be JSON-serialisable (finite numbers, text, lists, dicts): {exc}") from exc
    return json.loads(text)


def _not_json(obj: Any) -> Any:
    raise TypeError(f"{type(obj).__name__} {obj!r} is not JSON")


def get_or_create_search(conn: Connection, name: str, config: dict, defaults: Mapping[str, Any] | None = None) -> int:
    """The id of search ``name``, created with ``config`` if new.

    An existing search must agree with ``config`` on every key of ``config``; a key it
    lacks (an option added by a later release) counts as its value in ``defaults``, and
    keys it has that ``config`` no longer uses are ignored.
    """
    if not isinstance(name, str) or not name.strip():
        raise InputDataError(f"search name must be a non-empty string, got {name!r}")
    wanted = _json_value(dict(config), "search config")
    row = conn.execute(select(searches.c.id, searches.c.config).where(searches.c.name == name)).first()
    if row is None:
        try:
            with conn.begin_nested():
                return conn.execute(
                    searches.insert().values(name=name, config=wanted, created_at=utcnow())
                ).inserted_primary_key[0]
        except IntegrityError:
            row = conn.execute(select(searches.c.id, searches.c.config).where(searches.c.name == name)).one()
    fallback = _json_value(dict(defaults or {}), "search defaults")
    stored = {k: row.config.get(k, fallback.get(k)) for k in wanted}
    if stored != wanted:
        changed = sorted(k for k in wanted if stored[k] != wanted[k])
        raise InputDataError(
            f"a search named {name!r} already exists with a different config (differs in: "
            f"{', '.join(changed)}); pick another --name, or rerun with the same settings to resume it"
        )
    return row.id


def set_search_run(conn: Connection, search_id: int, run_id: str | None) -> None:
    """Remember the MLflow run that logs search ``search_id`` (one run across resumes)."""
    conn.execute(searches.update().where(searches.c.id == search_id).values(mlflow_run_id=run_id))


def set_search_ref_point(conn: Connection, search_id: int, ref_point) -> None:
    """Remember the reference point search ``search_id`` fixed (so resumes keep it)."""
    values = _json_value([float(v) for v in ref_point], "reference point")
    conn.execute(searches.update().where(searches.c.id == search_id).values(ref_point=values))


def find_search(conn: Connection, name: str) -> SearchInfo | None:
    row = conn.execute(select(searches).where(searches.c.name == name)).mappings().first()
    return None if row is None else search_from_row(row)


def list_searches(conn: Connection) -> list[SearchInfo]:
    return [search_from_row(r) for r in conn.execute(select(searches).order_by(searches.c.id)).mappings()]


def add_trial(
    conn: Connection,
    search_id: int,
    step: int,
    arch: str,
    values: dict,
    evaluation_id: int | None,
    cost_seconds: float | None,
    fidelity: float = 1.0,
) -> int:
    """Insert a trial, or return the id of the one this search already has for ``arch`` at ``fidelity``."""
    if conn.execute(select(searches.c.id).where(searches.c.id == search_id)).first() is None:
        raise InputDataError(f"no search with id {search_id}; create it with get_or_create_search first")
    fidelity = float(fidelity)
    if not 0 < fidelity <= 1:
        raise InputDataError(f"a trial's fidelity is a fraction of the full budget in (0, 1], got {fidelity}")
    where = (search_trials.c.search_id == search_id, search_trials.c.arch == arch,
             search_trials.c.fidelity == fidelity)
    existing = conn.execute(select(search_trials.c.id).where(*where)).scalar_one_or_none()
    if existing is not None:
        return existing
    row = {
        "search_id": search_id,
        "step": int(step),
        "arch": arch,
        "fidelity": fidelity,
        "values": _json_value({k: _finite_or_none(v) for k, v in dict(values).items()}, "trial values"),
        "evaluation_id": evaluation_id,
        "cost_seconds": None if cost_seconds is None else float(cost_seconds),
        "created_at": utcnow(),
    }
    try:
        with conn.begin_nested():
            return conn.execute(search_trials.insert().values(**row)).inserted_primary_key[0]
    except IntegrityError:
        return conn.execute(select(search_trials.c.id).where(*where)).scalar_one()


def _finite_or_none(value: Any) -> Any:
    # numpy scalars are numbers.Real / numbers.Integral but not always JSON-serialisable.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


def list_trials(conn: Connection, search_id: int) -> list[SearchTrial]:
    query = select(search_trials).where(search_trials.c.search_id == search_id)
    return [trial_from_row(r) for r in conn.execute(query.order_by(search_trials.c.step, search_trials.c.id)).mappings()]
