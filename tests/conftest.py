"""Shared fixtures: every test runs in its own folder with its own database and MLflow store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Tests train many tiny networks, often in parallel subprocesses on 2 cores; torch's
# default of one thread per core then spends its time waiting on itself.
os.environ.setdefault("OMP_NUM_THREADS", "1")

CLI = shutil.which("surrogate-nas") or str(Path(sys.executable).parent / "surrogate-nas")


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A fresh working folder with a private SQLite database and MLflow store."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    monkeypatch.setenv("SURROGATE_NAS_DB", f"sqlite:///{tmp_path / 'nas.db'}")
    return tmp_path


def run_cli(*args: str, timeout: float = 600, check: bool = False) -> subprocess.CompletedProcess:
    """Run the real console script in a subprocess, as a user would."""
    proc = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout, env=os.environ.copy())
    if check and proc.returncode != 0:
        raise AssertionError(f"surrogate-nas {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc
