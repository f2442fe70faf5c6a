"""A real ``mlflow server`` for tests, on a free loopback port, in a process group of its own.

Nothing here knows about surrogate-nas: a team test (workers against one tracking server)
starts one with :func:`start_mlflow_server` and points ``MLFLOW_TRACKING_URI`` at ``url``.

    >>> server = start_mlflow_server(tmp_path)  # doctest: +SKIP
    >>> server.stop()  # doctest: +SKIP
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class MlflowServer:
    """A running tracking server: ``url`` answers the MLflow REST API."""

    url: str
    process: subprocess.Popen

    def crash(self) -> None:
        """SIGKILL the server's process group at once: an outage, with no graceful drain of requests."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.process.wait(timeout=20)

    def stop(self) -> None:
        """SIGTERM the server's process group (it runs workers), SIGKILL after 20 s."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=20)
                os.killpg(self.process.pid, signal.SIGKILL)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                continue
            return


def start_mlflow_server(root: Path, port: int | None = None, timeout_s: float = START_TIMEOUT_S) -> MlflowServer:
    """Serve a SQLite store and an artifact folder under ``root``; return once ``/health`` answers.

    Raises:
        RuntimeError: the server exited or did not answer within ``timeout_s``.
    """
    root.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = open(root / "mlflow-server.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--artifacts-destination", str(root / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})  # no GenAI job runner: seconds faster
    server = MlflowServer(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited with {process.returncode}; see {root / 'mlflow-server.log'}")
        try:
            with urllib.request.urlopen(server.url + "/health", timeout=2):
                return server
        except OSError:
            time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"mlflow server did not answer within {timeout_s:.0f}s")
