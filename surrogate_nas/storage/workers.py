"""Who owns a RUNNING evaluation, and whether that owner is still alive.

A worker is written as ``host:pid``. Liveness can only be checked for a
process on this host; a worker on another host counts as alive until its
claim is older than the store's ``stale_after``.
"""

from __future__ import annotations

import os
import socket


def worker_id() -> str:
    """This process as ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def is_dead(worker: str) -> bool:
    """True only when ``worker`` is a process on this host that no longer exists."""
    host, _, pid_text = worker.rpartition(":")
    if os.name != "posix" or host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    # A child that exited but was not reaped yet still answers kill(pid, 0).
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
