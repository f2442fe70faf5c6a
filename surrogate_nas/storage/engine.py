"""From a URL to a working engine, and the one transaction scope all DB work uses.

SQLite gets the settings that let several processes share one file: WAL
journal (readers never block the writer), a busy timeout, and write
transactions opened with ``BEGIN IMMEDIATE`` so the write lock is taken up
front. A transaction that still cannot get the lock is retried with backoff
instead of surfacing "database is locked" to the caller.
"""

from __future__ import annotations

import os
import random
import time
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool

from surrogate_nas.errors import StorageError

BUSY_TIMEOUT_S = 30.0
"""How long SQLite itself waits for a lock before giving up one attempt."""

LOCK_RETRIES = 8
"""Attempts to open a transaction on a locked SQLite file before failing."""

_WRITE_OPTION = "surrogate_nas_write"


def display_url(url: str) -> str:
    """The URL as it may be shown to a user: password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return str(url)


def build_engine(url: str, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Engine:
    """Create an engine for ``url``, creating the folder of a SQLite file.

    Raises:
        StorageError: the URL cannot be parsed, names an unknown dialect or a
            driver that is not installed, or the SQLite folder cannot be made.
    """
    shown = display_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"cannot open database {shown!r}: not a database URL ({exc})") from exc
    is_sqlite = parsed.get_backend_name() == "sqlite"
    database = parsed.database or ""
    in_memory = is_sqlite and database in ("", ":memory:")
    kwargs: dict = {}
    if is_sqlite:
        kwargs["connect_args"] = {"timeout": busy_timeout_s, "check_same_thread": False}
        if in_memory:
            kwargs["poolclass"] = StaticPool
        else:
            try:
                Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"cannot open database {shown!r}: cannot create its folder ({exc.strerror or exc})"
                ) from exc
    try:
        engine = create_engine(parsed, **kwargs)
    except NoSuchModuleError as exc:
        raise StorageError(f"cannot open database {shown!r}: unknown database scheme ({exc})") from exc
    except ImportError as exc:
        raise StorageError(f"cannot open database {shown!r}: database driver not installed ({exc})") from exc
    except ArgumentError as exc:
        raise StorageError(f"cannot open database {shown!r}: {exc}") from exc
    if is_sqlite:
        _configure_sqlite(engine, busy_timeout_s, in_memory)
    _forget_pool_in_forked_children(engine)
    return engine


def _forget_pool_in_forked_children(engine: Engine) -> None:
    # A forked child must not reuse the parent's pooled connections (SQLAlchemy's
    # guidance); it drops them without closing and opens its own.
    if not hasattr(os, "register_at_fork"):
        return
    ref = weakref.ref(engine)

    def _after_fork() -> None:
        alive = ref()
        if alive is not None:
            alive.dispose(close=False)

    os.register_at_fork(after_in_child=_after_fork)


def _configure_sqlite(engine: Engine, busy_timeout_s: float, in_memory: bool) -> None:
    # pysqlite's own implicit BEGIN is turned off so that we can emit
    # BEGIN IMMEDIATE ourselves (SQLAlchemy's documented recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def is_lock_error(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's transient "database is locked/busy"."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database is busy" in text or "database table is locked" in text


@contextmanager
def session_scope(engine: Engine, write: bool = False, retries: int = LOCK_RETRIES) -> Iterator[Connection]:
    """One transaction: commit on success, roll back on error.

    Opening the transaction is retried with jittered exponential backoff while
    SQLite reports a lock, so concurrent processes wait for each other rather
    than fail. With ``write=True`` SQLite takes the write lock at ``BEGIN``,
    which is what makes read-then-write sequences (a claim) atomic; other
    databases ignore the flag and rely on their own isolation plus unique keys.

    Raises:
        StorageError: the database cannot be reached, stays locked through all
            retries, or a statement fails at the database level.
    """
    url = engine.url.render_as_string(hide_password=True)
    conn = _begin(engine, write, retries, url)
    try:
        yield conn
        conn.commit()
    except BaseException as exc:
        _rollback_quietly(conn)
        if isinstance(exc, DBAPIError):
            raise StorageError(f"database {url!r}: {_one_line(exc)}") from exc
        raise
    finally:
        conn.close()


def _begin(engine: Engine, write: bool, retries: int, url: str) -> Connection:
    delay = 0.05
    attempt = 0
    while True:
        attempt += 1
        conn = None
        try:
            conn = engine.connect()
            if write:
                conn.execution_options(**{_WRITE_OPTION: True})
            conn.begin()
            return conn
        except OperationalError as exc:
            if conn is not None:
                conn.close()
            if not is_lock_error(exc):
                raise StorageError(f"cannot open database {url!r}: {_one_line(exc)}") from exc
            if attempt >= retries:
                raise StorageError(
                    f"database {url!r} stayed locked after {retries} attempts; "
                    "another process holds a long write transaction"
                ) from exc
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 2.0)
        except DBAPIError as exc:
            if conn is not None:
                conn.close()
            raise StorageError(f"cannot open database {url!r}: {_one_line(exc)}") from exc


def _rollback_quietly(conn: Connection) -> None:
    try:
        conn.rollback()
    except DBAPIError:
        pass


def _one_line(exc: DBAPIError) -> str:
    return str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc).splitlines()[0]
