"""``surrogate-nas ui``: serve the project's MLflow store on loopback, opening on the runs.

MLflow 3 lands on its GenAI home, where our experiment shows an empty traces overview; the
printed address is the experiment's runs view (``workflowType=machine_learning``).
``mlflow server`` runs with :data:`SERVER_WORKERS` worker in a process group of its own;
SIGTERM or SIGINT to ``surrogate-nas ui`` stops that whole group within
:data:`STOP_TIMEOUT_S` (asked politely, then killed: a browsing server holds nothing to
save), so nothing is left serving. A port already in use is one line and exit code 2,
before the server starts.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time

import click

from surrogate_nas.errors import InputDataError, TrackingError
from surrogate_nas.pipelines.cli.app import cli
from surrogate_nas.pipelines.tracking.tracker import artifact_root, is_remote, tracking_uri

SERVER_WORKERS = 1
"""Worker processes of the browsing server: one person browsing is served by one (its requests
run on a thread pool); MLflow's default of four, made for a shared server, costs each a second
or two of start-up and a few hundred MB."""

STOP_TIMEOUT_S = 0.5
"""How long the server's process group gets to exit after SIGTERM before SIGKILL."""


POLL_S = 0.1
"""How often the command checks the server and the signals while it serves."""


def runs_url(host: str, port: int, experiment_id: str) -> str:
    """The MLflow UI's runs view of an experiment."""
    return f"http://{host}:{port}/#/experiments/{experiment_id}?workflowType=machine_learning"


def ui_command_line(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", tracking_uri(),
            "--default-artifact-root", artifact_root(), "--host", host, "--port", str(port),
            "--workers", str(SERVER_WORKERS)]


def check_port_free(host: str, port: int) -> None:
    """Raise unless ``host:port`` can be bound now.

    Raises:
        InputDataError: the port is taken (or the address cannot be bound here).
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc.strerror or exc})"
            raise InputDataError(f"port {port} on {host} {why}; pick another with --port") from None


def stop_group(proc: subprocess.Popen, timeout_s: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM the process group led by ``proc``, then SIGKILL whatever is left after ``timeout_s``."""
    for sig, wait in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, timeout_s)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        try:  # the leader is gone; workers it left behind are still in the group
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        break


@cli.command("ui")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
def ui_command(host: str, port: int) -> None:
    """Start the MLflow UI on this project's store (Ctrl-C stops it)."""
    from surrogate_nas.pipelines.tracking.tracker import Tracker

    uri = tracking_uri()
    if is_remote(uri):
        click.echo(f"MLFLOW_TRACKING_URI points at a server already: open {uri}")
        return
    tracker = Tracker()  # creates the store and the experiment (or says in one line why it cannot)
    check_port_free(host, port)
    click.echo(f"MLflow UI for {uri}\n  -> {runs_url(host, port, tracker.experiment_id)}   (Ctrl-C to stop)")
    # Browsing needs no GenAI job runner (a job process and a pool of consumers per server).
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **os.environ}
    proc = subprocess.Popen(ui_command_line(host, port), start_new_session=True, env=env)
    stopping: list[int] = []

    def stop(signum, _frame) -> None:  # only notes it: the stopping is done below, outside the handler
        stopping.append(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while (code := proc.poll()) is None and not stopping:
            time.sleep(POLL_S)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop_group(proc)
    if stopping:
        # Nothing is left to save, and tearing down the interpreter (torch, MLflow) takes seconds.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(128 + stopping[0])
    if code != 0:
        raise TrackingError(f"mlflow server exited with code {code}; its log is above")
