"""The README's team section, run as written: PostgreSQL workers, an MLflow server backed by
PostgreSQL, its workers, and a search whose trainings run on a Ray cluster.

Each ```bash block of "A team: PostgreSQL and a remote MLflow server" runs in a fresh
``bash`` from an empty folder whose ``.venv`` is this checkout's, with only the placeholders
swapped for this machine's: the database URLs for the test server's, ``mlflow.example.org``
and port 5000 for a free loopback port, Ray's port 6379 for another. The ``pip install`` lines
are checked, not run: the extras they name must exist, and their packages are what this
environment already has.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from mlflowserver import free_port

ROOT = Path(__file__).resolve().parents[2]
PG_PLACEHOLDER = "postgresql://nas:secret@db.example.org:5432/nas"
MLFLOW_PG_PLACEHOLDER = "postgresql+psycopg://nas:secret@db.example.org:5432/mlflow"


def _blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("### A team: PostgreSQL and a remote MLflow server", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.S)


def _shell_env(home: Path) -> dict:
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != venv_bin)
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "SURROGATE_NAS_"))}
    return {**keep, "PATH": path, "HOME": str(home), "OMP_NUM_THREADS": "1"}


def _folder(tmp_path: Path) -> Path:
    """An empty working folder whose ``.venv`` is this checkout's, as after the quick start."""
    folder = tmp_path / "shell"
    folder.mkdir()
    (folder / ".venv").symlink_to(Path(sys.executable).parent.parent)
    return folder


def _run(block: str, folder: Path, env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_the_readme_names_the_extras_that_bring_the_postgres_driver_and_ray():
    pg, _, _, ray_block = _blocks()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for block, extra, package in ((pg, "postgres", "psycopg"), (ray_block, "ray", "ray")):
        install = block.splitlines()[0]
        assert install == f'.venv/bin/pip install -e ".[{extra}]"'
        assert any(dep.startswith(package) for dep in extras[extra])
    assert PG_PLACEHOLDER in pg and PG_PLACEHOLDER in ray_block


@pytest.mark.slow
def test_the_readme_postgres_block_works_as_written(postgres_url, tmp_path):
    block = _blocks()[0].split("\n", 1)[1].replace(PG_PLACEHOLDER, postgres_url)
    done = _run(block, _folder(tmp_path), _shell_env(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "schema_version: 2" in done.stdout and "trained 4 new" in done.stdout


@pytest.mark.slow
@pytest.mark.xdist_group("ray")  # see test_parallel: `--ray-address auto` must find this cluster, not another
def test_the_readme_mlflow_server_worker_and_ray_blocks_work_as_written(postgres_server, tmp_path):
    """An MLflow server on PostgreSQL, a worker seeding through it, then a live search on a Ray cluster."""
    _, server_block, worker_block, ray_block = _blocks()
    nas_url = postgres_server.create_database("team_nas")
    mlflow_url = postgres_server.create_database("team_mlflow").replace("postgresql://", "postgresql+psycopg://")
    port, ray_port = str(free_port()), str(free_port())
    swap = {MLFLOW_PG_PLACEHOLDER: mlflow_url, PG_PLACEHOLDER: nas_url, "mlflow.example.org": "127.0.0.1",
            "5000": port, "6379": ray_port}
    for old, new in swap.items():
        server_block, worker_block, ray_block = (b.replace(old, new) for b in (server_block, worker_block, ray_block))
    ray_block = ray_block.split("\n", 1)[1]  # the pip line is checked above
    folder, env = _folder(tmp_path), _shell_env(tmp_path)
    # MLflow's GenAI job runner is not needed here and costs the test its start-up time.
    server = subprocess.Popen(["bash", "-c", server_block], cwd=folder, start_new_session=True,
                              env={**env, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while True:
            assert server.poll() is None, "the README's mlflow server command exited"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).close()
                break
            except OSError:
                assert time.time() < deadline, "the README's mlflow server did not answer"
                time.sleep(0.5)
        done = _run(worker_block, folder, {**env, "SURROGATE_NAS_DB": nas_url})
        assert done.returncode == 0, done.stderr[-3000:]
        assert "trained 4 new" in done.stdout
        done = None
        try:
            done = _run(ray_block, folder, env)
        finally:
            if done is None or done.returncode != 0:  # the block's own `ray stop` did not run
                subprocess.run([str(folder / ".venv" / "bin" / "ray"), "stop", "--force"], env=env,
                               capture_output=True)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        assert "6 new trainings" in done.stdout, done.stdout

        from mlflow.tracking import MlflowClient

        from surrogate_nas.storage import open_store

        client = MlflowClient(tracking_uri=f"http://127.0.0.1:{port}")
        exp = client.get_experiment_by_name("surrogate-nas")
        runs = client.search_runs([exp.experiment_id], max_results=1000)
        assert len([r for r in runs if r.data.tags.get("kind") == "training"]) == 4 + 6
        store = open_store(nas_url)
        search = next(s for s in store.searches() if s.name.startswith("bo-gp-digits"))
        trials = store.trials(search.id)
        assert len(trials) == 6 and len({t.evaluation_id for t in trials}) == 6
        assert len(store.evaluations()) == 4 + 6, "the seeded four and the search's six, each trained once"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
