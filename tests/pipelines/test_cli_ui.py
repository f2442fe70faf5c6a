"""``surrogate-nas ui`` really serves what ``seed``, ``search`` and ``export`` logged, through the MLflow REST API
and in a browser (headless Chromium, where installed), and stops cleanly."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

import os

import pytest

from conftest import CLI, run_cli
from processtree import alive, descendants


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"


@pytest.mark.slow
def test_ui_serves_the_seeded_runs(workdir):
    browser = shutil.which("chromium")
    if browser is None and os.environ.get("SURROGATE_NAS_REQUIRE_CHROMIUM") == "1":
        pytest.fail("Chromium is required here (SURROGATE_NAS_REQUIRE_CHROMIUM=1) but not on the PATH")
    run_cli("seed", "--dataset", "digits", "--epochs", "2", "-C", "8", "-n", "2", check=True)
    run_cli("search", "--benchmark", "nb201-cifar10", "--objectives", "accuracy,latency@pixel3", "--budget", "8",
            "--name", "paretos", check=True)
    run_cli("export", "--arch", ARCH, "--dataset", "digits", "--epochs", "1", "-C", "4", "-N", "1", "--out", "shipped",
            "--register", "tinynet", "--no-onnx", check=True)
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
        assert len(runs) == 5, [r["info"]["run_name"] for r in runs]  # seed + 2 trainings, the search, the export
        nested = [r for r in runs if any(t["key"] == "mlflow.parentRunId" for t in r["data"].get("tags", []))]
        assert len(nested) == 2
        metrics = {m["key"]: m["value"] for m in nested[0]["data"]["metrics"]}
        assert {"valid_acc", "test_acc", "params", "flops", "train_seconds"} <= set(metrics)
        info = nested[0]["info"]
        span_s = (int(info["end_time"]) - int(info["start_time"])) / 1000
        assert abs(span_s - metrics["train_seconds"]) < 0.05, "a training's run spans the training itself"

        if browser is not None:
            url = f"http://127.0.0.1:{port}/#/experiments/{exp['experiment_id']}"
            printed = server.stdout.readline() + server.stdout.readline()
            assert f"{url}?workflowType=machine_learning" in printed, "ui prints the runs view"
            search_run = next(r["info"]["run_id"] for r in runs if r["info"]["run_name"] == "search-paretos")
            runs_page = _rendered(browser, f"{url}?workflowType=machine_learning")
            assert "search-paretos" in runs_page and "seed" in runs_page
            assert "tinynet" in _rendered(browser, f"http://127.0.0.1:{port}/#/models")
            plot = _rendered(browser, f"{url}/runs/{search_run}/artifacts/pareto_front.png")
            assert '<img alt="pareto_front.png"' in plot, "the Pareto plot is shown"

        # SIGTERM to the `ui` process alone stops everything it started.
        started = descendants(server.pid)
        assert started, "the UI runs an mlflow server below it"
        server.send_signal(signal.SIGTERM)
        asked = time.time()
        assert server.wait(timeout=60) != 0
        assert time.time() - asked < 5, "ui stops at once on SIGTERM (0.5 s for the server, then it is killed)"
        deadline = time.time() + 10
        while time.time() < deadline and any(alive(p) for p in started):
            time.sleep(0.2)
        assert not [p for p in started if alive(p)], "processes left serving after SIGTERM"
        with pytest.raises(OSError):
            _post(f"{base}/experiments/search", {"max_results": 1})
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)


def _rendered(browser: str, url: str) -> str:
    """The page's DOM after its scripts ran, from headless Chromium."""
    proc = subprocess.run([browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--virtual-time-budget=10000", "--dump-dom", url],
                          capture_output=True, text=True, timeout=120)
    return proc.stdout


def test_a_busy_port_is_one_line_and_exit_2(workdir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        proc = run_cli("ui", "--port", str(taken.getsockname()[1]))
    assert proc.returncode == 2 and "is in use" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
