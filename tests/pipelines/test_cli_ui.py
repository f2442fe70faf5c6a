"""``surrogate-nas ui`` really serves what ``seed`` logged, through the MLflow REST API."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request

import os

import pytest

from conftest import CLI, run_cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.mark.slow
def test_ui_serves_the_seeded_runs(workdir):
    run_cli("seed", "--dataset", "digits", "--epochs", "2", "-C", "8", "-n", "2", check=True)
    port = _free_port()
    server = subprocess.Popen([CLI, "ui", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}/api/2.0/mlflow"
    try:
        deadline = time.time() + 180
        exps = None
        while time.time() < deadline:
            assert server.poll() is None, server.stdout.read()
            try:
                exps = _post(f"{base}/experiments/search",
                             {"max_results": 10, "filter": f"name = '{os.environ['MLFLOW_EXPERIMENT_NAME']}'"})
                break
            except OSError:
                time.sleep(1)
        assert exps is not None, "the MLflow server did not answer in time"
        exp = next(e for e in exps["experiments"] if e["name"] == os.environ["MLFLOW_EXPERIMENT_NAME"])
        runs = _post(f"{base}/runs/search", {"experiment_ids": [exp["experiment_id"]], "max_results": 100})["runs"]
        assert len(runs) == 3
        nested = [r for r in runs if any(t["key"] == "mlflow.parentRunId" for t in r["data"].get("tags", []))]
        assert len(nested) == 2
        metrics = {m["key"] for m in nested[0]["data"]["metrics"]}
        assert {"valid_acc", "test_acc", "params", "flops", "train_seconds"} <= metrics
    finally:
        import signal
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
