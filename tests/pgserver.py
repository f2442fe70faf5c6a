"""A throwaway PostgreSQL server for tests: ``initdb`` in a temp folder, ``postgres`` on a free loopback port.

Used through the session fixture ``postgres_server`` of ``tests/conftest.py`` (started once,
stopped at the end) and ``postgres_url`` (a fresh database per test). Any test that needs a
real PostgreSQL (a team setup with Ray workers and an ``mlflow server`` too) takes those
fixtures; nothing here knows about surrogate-nas.

PostgreSQL refuses to run as root, so under root the server runs as the unprivileged
``nobody`` user (present on every Debian/Ubuntu system) from a folder it owns. Binaries
are taken from ``PATH`` or Debian's ``/usr/lib/postgresql/*/bin``. When neither is
there, :func:`start_postgres` raises :class:`PostgresUnavailable` with the reason.

    >>> server = start_postgres()  # doctest: +SKIP
    >>> url = server.create_database("nas")  # doctest: +SKIP
    >>> server.stop()  # doctest: +SKIP
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"
START_TIMEOUT_S = 60.0
UNPRIVILEGED = "nobody"
"""The user the server runs as when the tests run as root (initdb and postgres refuse root)."""


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started on this machine; the message says why."""


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway server: ``postgresql://postgres@127.0.0.1:PORT/...``, trust authentication."""

    port: int
    root: Path
    process: subprocess.Popen
    host: str = "127.0.0.1"

    def url(self, database: str = "postgres") -> str:
        """A URL for ``database`` on this server, in the form the README documents."""
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` (letters, digits, underscores); return its URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database names here are letters, digits and underscores, got {name!r}")
        import psycopg

        with psycopg.connect(self._dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _dsn(self, database: str = "postgres") -> str:
        return f"host={self.host} port={self.port} user={SUPERUSER} dbname={database}"

    def stop(self) -> None:
        """Fast shutdown (SIGINT), SIGKILL after 30 s, then remove the data folder."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)


def find_bindir() -> Path:
    """The folder holding ``initdb`` and ``postgres``.

    Raises:
        PostgresUnavailable: neither is on ``PATH`` nor under ``/usr/lib/postgresql``.
    """
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return Path(os.path.realpath(found)).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "postgres").exists():
            return Path(candidate)
    raise PostgresUnavailable("PostgreSQL server binaries (initdb, postgres) not found on PATH or in "
                              "/usr/lib/postgresql/*/bin; install Debian's postgresql package")


def _run_as() -> dict:
    """``subprocess`` arguments that drop root to :data:`UNPRIVILEGED`; none when not root."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(UNPRIVILEGED)
    except KeyError:
        raise PostgresUnavailable(f"running as root and there is no {UNPRIVILEGED!r} user to run PostgreSQL as "
                                  "(initdb refuses root)") from None
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_postgres(timeout_s: float = START_TIMEOUT_S) -> PostgresServer:
    """Initialise a cluster in a new temp folder and start ``postgres`` on a free loopback port.

    Durability is off (``fsync``, ``synchronous_commit``, ``full_page_writes``): the server
    lives for one test session.

    Raises:
        PostgresUnavailable: no binaries, no unprivileged user, or the server did not start.
    """
    bindir = find_bindir()
    as_user = _run_as()
    root = Path(tempfile.mkdtemp(prefix="surrogate-nas-pg-"))
    if as_user:
        os.chown(root, as_user["user"], as_user["group"])
    data, log = root / "data", root / "server.log"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(root)}
    init = subprocess.run(
        [str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-locale",
         "--no-sync"],
        capture_output=True, text=True, env=env, cwd=root, timeout=120, **as_user)
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"initdb failed: {(init.stderr or init.stdout).strip().splitlines()[-1:]}")
    port = _free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(root),
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root, start_new_session=True, **as_user)
    server = PostgresServer(port=port, root=root, process=process)
    _wait_ready(server, log, timeout_s)
    return server


def _wait_ready(server: PostgresServer, log: Path, timeout_s: float) -> None:
    import psycopg

    deadline = time.monotonic() + timeout_s
    while True:
        if server.process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            server.stop()
            raise PostgresUnavailable(f"postgres exited with code {server.process.returncode}: {tail}")
        try:
            with psycopg.connect(server._dsn(), connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                server.stop()
                raise PostgresUnavailable(f"postgres did not accept connections within {timeout_s:.0f}s") from None
            time.sleep(0.2)
