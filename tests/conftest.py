"""Shared fixtures: every test runs in its own folder with its own database and MLflow experiment.

The CLI is tested in-process (:func:`run_cli` calls ``main(argv)``): a new Python process
costs seconds of torch and MLflow start-up. A few end-to-end tests, marked ``slow``, start
the real console script (:func:`run_process`) to kill it, run it concurrently or serve the UI.

``example_plugin`` makes the example plug-in package (``examples/surrogate_nas_example_plugin``)
installed for one test: its entry points are a ``.dist-info`` folder written once per session
(``tests/plugin_dist.py``; milliseconds, where ``pip install`` takes seconds and changes the venv),
put on ``sys.path`` with the package's folder while the test runs.

``postgres_server`` starts one throwaway PostgreSQL server per session (``tests/pgserver.py``)
and ``postgres_url`` gives each test a fresh database on it. Where no server can be started
they skip with the reason, unless ``SURROGATE_NAS_REQUIRE_POSTGRES=1`` (set by ``.ci/run``
when the binaries are there) turns that into a failure.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# Tests train many tiny networks, often in parallel subprocesses on 2 cores; torch's
# default of one thread per core then spends its time waiting on itself.
os.environ.setdefault("OMP_NUM_THREADS", "1")

CLI = shutil.which("surrogate-nas") or str(Path(sys.executable).parent / "surrogate-nas")


def pytest_configure(config):
    """Refuse to run grouped tests ungrouped: ``xdist_group`` keeps the Ray tests (one cluster at a
    time) and tests sharing a module fixture on one worker, and pytest-xdist 3.8's ``--dist
    loadgroup`` stops grouping without a word on pytest 9.2 (pytest-dev/pytest-xdist#1386)."""
    if config.getoption("dist", "no") != "loadgroup":
        return
    import xdist
    from packaging.version import Version

    if Version(pytest.__version__).release[:2] >= (9, 2) and Version(xdist.__version__).release[:2] <= (3, 8):
        raise pytest.UsageError(f"pytest-xdist {xdist.__version__}'s --dist loadgroup does not group tests on "
                                f"pytest {pytest.__version__} (pytest-dev/pytest-xdist#1386): install the [test] "
                                "extra's pytest")


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory) -> str:
    """One MLflow store for the session (creating a store costs seconds); tests use their own experiments."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def workdir(tmp_path, monkeypatch, mlflow_uri, request) -> Path:
    """A fresh working folder with a private SQLite database and MLflow experiment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", re.sub(r"\W+", "-", request.node.nodeid)[-200:])
    monkeypatch.setenv("SURROGATE_NAS_DB", f"sqlite:///{tmp_path / 'nas.db'}")
    return tmp_path


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the whole session (see ``tests/pgserver.py``)."""
    from pgserver import PostgresUnavailable, start_postgres

    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        if os.environ.get("SURROGATE_NAS_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required here but cannot start: {exc}")
        pytest.skip(f"no PostgreSQL server: {exc}")
    yield server
    server.stop()


_databases = itertools.count()


@pytest.fixture
def postgres_url(postgres_server, request) -> str:
    """The URL of a new, empty database on the session's PostgreSQL server."""
    name = re.sub(r"\W+", "_", request.node.name).lower()[:40]
    return postgres_server.create_database(f"t{next(_databases)}_{name}")


@pytest.fixture(scope="session")
def example_plugin_site(tmp_path_factory) -> Path:
    """A folder holding the example plug-in's ``.dist-info`` (written once per session)."""
    pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11's tomllib")
    from plugin_dist import example_entry_points, write_dist_info

    site = tmp_path_factory.mktemp("plugin-site")
    write_dist_info(site, *example_entry_points())
    return site


@pytest.fixture
def example_plugin(example_plugin_site, monkeypatch):
    """The example plug-in package, installed for this test (entry points and modules on ``sys.path``)."""
    from plugin_dist import EXAMPLE

    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.syspath_prepend(str(example_plugin_site))
    return EXAMPLE


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, check: bool = False) -> CliResult:
    """Run the CLI in this process, as ``surrogate-nas ARGS`` would, capturing its output."""
    from surrogate_nas.pipelines.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    result = CliResult(code, out.getvalue(), err.getvalue())
    if check and code != 0:
        raise AssertionError(f"surrogate-nas {' '.join(map(str, args))} exited {code}:\n{result.stderr[-3000:]}")
    return result


def run_process(*args: str, timeout: float = 600, check: bool = False) -> subprocess.CompletedProcess:
    """Run the real console script in a subprocess, as a user would."""
    proc = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout, env=os.environ.copy())
    if check and proc.returncode != 0:
        raise AssertionError(f"surrogate-nas {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc


def experiment_runs():
    """``(client, runs)`` of this test's MLflow experiment."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    exp = client.get_experiment_by_name(os.environ["MLFLOW_EXPERIMENT_NAME"])
    return client, ([] if exp is None else client.search_runs([exp.experiment_id], max_results=1000))
