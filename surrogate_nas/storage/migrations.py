"""Schema versioning: create on first open, refuse a foreign version, upgrade in steps.

The ``meta`` table holds ``schema_version``. A migration is a function that
takes an open connection and moves the schema from version ``v`` to ``v + 1``;
:data:`MIGRATIONS` maps ``v`` to that function. :func:`upgrade_schema` applies
the steps in order, each in its own transaction together with its version bump,
so an interrupted upgrade leaves the database at a consistent version.

Any number of processes may open (or upgrade) a new database at the same moment.
SQLite serialises them with ``BEGIN IMMEDIATE``; PostgreSQL, whose DDL is not
serialised by a write lock, with a transaction-scoped advisory lock
(:data:`SCHEMA_LOCK`) taken before the version is read, so the first process
creates or upgrades the schema and the others find it done.

Before anything is read or written, a SQLite file is checked for damage
(:func:`~.engine.check_intact`), and the schema is created only in a database that holds
none of another application's tables (see :func:`_create`).
"""

from __future__ import annotations

from typing import Callable, Mapping

from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.engine import Connection

from surrogate_nas.errors import SchemaVersionError, StorageError
from surrogate_nas.storage import schema_v1
from surrogate_nas.storage.engine import (
    build_engine,
    check_intact,
    display_url,
    is_read_only,
    session_scope,
    use_wal,
)
from surrogate_nas.storage.schema import SCHEMA_VERSION, meta, metadata

Migration = Callable[[Connection], None]


def _v1_to_v2(conn: Connection) -> None:
    """Key evaluations by space, network and training recipe; trials gain a fidelity.

    Every row is read through the version-1 table definitions, the version-1 tables
    are dropped, the current ones created, and the rows written back with their ids:
    evaluations get ``network`` from their ``channels``/``cells_per_stage`` and
    ``recipe`` from their ``train_config``, features and evaluations the space of
    their architecture (all version-1 databases hold NAS-Bench-201 only), trials the
    full fidelity, and search configs the space they were run on.
    """
    import json

    from surrogate_nas.records import NetworkConfig, Setting, TrainConfig
    from surrogate_nas.storage import schema as v2

    old = {t.name: [dict(r) for r in conn.execute(select(t)).mappings()] for t in schema_v1.TABLES}
    for table in reversed(schema_v1.TABLES):
        table.drop(conn)
    metadata.create_all(conn, tables=[v2.architectures, v2.evaluations, v2.features, v2.searches, v2.search_trials])

    space_of = {a["id"]: a["space"] for a in old["architectures"]}
    _insert(conn, v2.architectures, [
        {k: a[k] for k in ("id", "space", "arch", "canonical_key", "params_ref", "flops_ref")}
        for a in old["architectures"]
    ])
    evaluations = []
    for e in old["evaluations"]:
        train = TrainConfig(**{**(e["train_config"] or {}), "epochs": e["epochs"]})
        setting = Setting(space_of[e["architecture_id"]], e["dataset"],
                          NetworkConfig(e["channels"], e["cells_per_stage"]), train, e["seed"])
        row = {k: v for k, v in e.items() if k not in ("channels", "cells_per_stage", "train_config")}
        row.update(space=setting.space, network=setting.network_key, recipe=setting.recipe_key,
                   heartbeat_at=None, checkpoint=None)
        evaluations.append(row)
    _insert(conn, v2.evaluations, evaluations)
    _insert(conn, v2.features, [{**f, "space": "nb201"} for f in old["features"]])
    _insert(conn, v2.searches, [
        {**s, "config": {"space": "nb201", **json.loads(json.dumps(s["config"]))}, "mlflow_run_id": None,
         "ref_point": None}
        for s in old["searches"]
    ])
    _insert(conn, v2.search_trials, [{**t, "fidelity": 1.0} for t in old["search_trials"]])
    if conn.dialect.name == "postgresql":
        for table in ("architectures", "evaluations", "features", "searches", "search_trials"):
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ))


def _insert(conn: Connection, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), 500):
        conn.execute(table.insert(), rows[start : start + 500])


MIGRATIONS: dict[int, Migration] = {1: _v1_to_v2}
"""``from_version -> step`` bringing the schema to ``from_version + 1``."""

_VERSION_KEY = "schema_version"

SCHEMA_LOCK = 0x5355_524E_4153
"""PostgreSQL advisory-lock key held while the schema is created or upgraded ("SURNAS")."""


def _lock_schema(conn: Connection) -> None:
    """Serialise schema changes across processes until this transaction ends (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})


OUR_TABLES = frozenset(metadata.tables) | frozenset(schema_v1.metadata.tables) | {meta.name}
"""Every table any schema version of surrogate-nas has created."""


def read_version(conn: Connection) -> int | None:
    """The stored schema version, or None when the database has no ``meta`` table of ours."""
    inspector = inspect(conn)
    if not inspector.has_table(meta.name):
        return None
    if not {"key", "value"} <= {c["name"] for c in inspector.get_columns(meta.name)}:
        return None  # another application's table called meta; _create refuses the database
    value = conn.execute(select(meta.c.value).where(meta.c.key == _VERSION_KEY)).scalar_one_or_none()
    return None if value is None else int(value)


def _write_version(conn: Connection, version: int) -> None:
    updated = conn.execute(meta.update().where(meta.c.key == _VERSION_KEY).values(value=str(version)))
    if updated.rowcount == 0:
        conn.execute(meta.insert().values(key=_VERSION_KEY, value=str(version)))


def _create(conn: Connection, url: str) -> int:
    """Create the schema in a database that has none, unless that would mix it with others' data.

    A SQLite file that holds any table or view that is not ours is refused: a file is one
    application's store, and ``--db`` pointing at someone else's is a mistake to stop before
    our tables land in it. A PostgreSQL (or other server) database is not held to that: a
    server database is provisioned on purpose, often shared by several applications in its
    default schema, so ours are created next to the others. Everywhere, a table with one of
    our names but no schema version is refused rather than reused.

    Raises:
        StorageError: the database holds another application's tables (SQLite), or tables
            named like ours without a schema version.
    """
    inspector = inspect(conn)
    present = set(inspector.get_table_names())
    if conn.dialect.name == "sqlite":
        foreign = sorted((present | set(inspector.get_view_names())) - OUR_TABLES)
        if foreign:
            named = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise StorageError(
                f"database {url!r} holds another application's tables ({named}); surrogate-nas keeps its own "
                "file: pass --db with a new one, e.g. --db sqlite:///surrogate-nas.db"
            )
    clashing = present & OUR_TABLES
    if clashing:
        raise StorageError(
            f"database {url!r} has tables {sorted(clashing)} but no schema version; "
            "it was not created by surrogate-nas"
        )
    metadata.create_all(conn)
    _write_version(conn, SCHEMA_VERSION)
    return SCHEMA_VERSION


def _mismatch(url: str, found: int) -> SchemaVersionError:
    if found > SCHEMA_VERSION:
        return SchemaVersionError(
            f"database {url!r} has schema version {found}, newer than this surrogate-nas "
            f"(version {SCHEMA_VERSION}); install a newer surrogate-nas to use it"
        )
    return SchemaVersionError(
        f"database {url!r} has schema version {found}, this surrogate-nas uses version "
        f"{SCHEMA_VERSION}; run `surrogate-nas db upgrade --db {url}` to upgrade it"
    )


def ensure_schema(engine: Engine) -> int:
    """Create the schema on an empty database, or check the version of an existing one.

    A database opened read-only (see :func:`~.engine.build_engine`) is only checked.
    A SQLite file is refused when damaged, and switched to WAL once accepted.

    Raises:
        SchemaVersionError: the database carries another schema version.
        StorageError: the SQLite file is damaged, the database holds another
            application's tables or ours without a version, or is read-only and has no schema.
    """
    url = engine.url.render_as_string(hide_password=True)
    check_intact(engine)
    with session_scope(engine) as conn:
        found = read_version(conn)
    if found is None and is_read_only(engine):
        raise StorageError(f"database {url!r} is read-only and holds no surrogate-nas schema")
    if found is None:
        with session_scope(engine, write=True) as conn:
            _lock_schema(conn)
            found = read_version(conn)
            if found is None:
                found = _create(conn, url)
    if found != SCHEMA_VERSION:
        raise _mismatch(url, found)
    use_wal(engine)
    return found


def upgrade_schema(
    url: str,
    migrations: Mapping[int, Migration] | None = None,
    target: int = SCHEMA_VERSION,
) -> tuple[int | None, int]:
    """Bring the database at ``url`` to schema version ``target``.

    Returns:
        ``(before, after)``: the version found (None when the database had no
        schema and was created at :data:`SCHEMA_VERSION`) and the version reached.

    Args:
        url: any SQLAlchemy URL.
        migrations: ``from_version -> step`` registry; :data:`MIGRATIONS` by default.
        target: version to reach; this release's :data:`SCHEMA_VERSION` by default.

    Raises:
        SchemaVersionError: the database is newer than ``target`` or a step is missing.
        StorageError: the database cannot be opened, is a damaged SQLite file, or (created
            here) holds another application's tables.

    Example:
        >>> upgrade_schema("sqlite:///runs/nas.db")  # doctest: +SKIP
        (1, 1)
    """
    steps = MIGRATIONS if migrations is None else migrations
    shown = display_url(url)
    engine = build_engine(url)
    try:
        check_intact(engine)
        before = None
        while True:
            # Each step re-reads the version under the lock: a concurrent upgrader may have done it.
            with session_scope(engine, write=True) as conn:
                _lock_schema(conn)
                version = read_version(conn)
                if version is None:
                    return None, _create(conn, shown)
                before = version if before is None else before
                if version > target:
                    raise _mismatch(shown, version)
                if version == target:
                    return before, version
                step = steps.get(version)
                if step is None:
                    raise SchemaVersionError(
                        f"database {shown!r} is at schema version {version} and no migration to "
                        f"version {version + 1} is registered; it cannot be upgraded by this surrogate-nas"
                    )
                step(conn)
                _write_version(conn, version + 1)
    finally:
        engine.dispose()
