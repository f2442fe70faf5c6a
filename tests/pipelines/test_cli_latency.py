"""Latency on the command line: devices, latency objectives and constraints, latency models, true fronts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from conftest import experiment_runs, run_cli
from surrogate_nas.spaces import get_space
from surrogate_nas.spaces.nb201.latency import device_latency

TAB = ["--benchmark", "nb201-cifar10", "--batch-size", "4"]


def one_line(proc) -> None:
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_devices_lists_the_settings(workdir):
    out = run_cli("devices", check=True).stdout
    for name in ("pixel3", "raspi4", "1080ti_1", "titan_rtx_256", "eyeriss"):
        assert name in out
    assert "latency@pixel3" in out


def test_three_objectives_with_a_constraint_log_a_pareto_plot_and_the_front(workdir):
    run_cli("search", *TAB, "--strategy", "bo", "--budget", "12", "--objectives", "accuracy,latency@pixel3,params",
            "--constraint", "latency@pixel3<=12", "--output", "t.csv", check=True)
    trace = pd.read_csv(workdir / "t.csv")
    assert {"cifar10_valid_acc_200ep", "lat_ms_pixel3", "params_mb_cifar10", "feasible", "hypervolume"} <= set(trace)
    assert trace["feasible"].all() and (trace["lat_ms_pixel3"] <= 12).all()  # known: never evaluated otherwise
    client, runs = experiment_runs()
    (parent,) = [r for r in runs if r.data.tags.get("kind") == "search"]
    assert parent.data.params["constraints"] == "latency@pixel3<=12"
    files = {f.path for f in client.list_artifacts(parent.info.run_id)}
    assert {"pareto_front.csv", "pareto_front.png", "trace.csv"} <= files
    local = client.download_artifacts(parent.info.run_id, "pareto_front.csv", str(workdir))
    front = pd.read_csv(local)
    assert list(front.columns) == ["arch", "cifar10_valid_acc_200ep", "lat_ms_pixel3", "params_mb_cifar10"]
    assert set(front["arch"]) <= set(trace["arch"])


def test_a_latency_model_fitted_on_measurements_is_a_search_objective(workdir):
    space = get_space("nb201")
    cells = [space.enumerate()[i] for i in np.random.default_rng(0).permutation(6466)[:15]]
    measured = device_latency(cells, "raspi4") * 1.1  # "a new device": raspi4, 10% slower
    pd.DataFrame({"arch": [c.to_string() for c in cells], "ms": measured}).to_csv(workdir / "m.csv", index=False)
    fitted = run_cli("fit", "--target", "latency", "--benchmark", "m.csv", "--out", "dev.zip", "--no-mlflow",
                     check=True)
    assert "latency@dev.zip" in fitted.stdout
    run_cli("search", *TAB, "--strategy", "rs", "--budget", "12", "--objectives", "accuracy,latency@dev.zip",
            "--constraint", "latency@dev.zip<=40", "--no-mlflow", "--output", "t.csv", check=True)
    trace = pd.read_csv(workdir / "t.csv")
    assert (trace["pred_lat_ms_dev"] <= 40).all() and trace["feasible"].all()
    one_line(run_cli("fit", "--target", "latency", "--benchmark", "m.csv", "--name", "pixel3"))
    one_line(run_cli("fit", "--target", "latency", "--no-mlflow", "--out", "x.zip"))


def test_bad_latency_words_are_one_line(workdir):
    one_line(run_cli("search", *TAB, "--constraint", "latency@pixel3<5"))
    one_line(run_cli("search", *TAB, "--constraint", "latency@pixel3<=0", "--strategy", "rs", "--no-mlflow"))
    one_line(run_cli("search", "--space", "nb101", "--benchmark", "nb101-cifar10-subset",
                     "--objectives", "accuracy,latency@pixel3"))


def test_benchmark_search_scores_fronts_against_the_exact_true_front(workdir):
    proc = run_cli("benchmark-search", "--benchmark", "nb201-cifar10", "--strategies", "rs", "--budget", "20",
                   "--seeds", "2", "--objectives", "accuracy,latency@raspi4", "--output", "c.csv", check=True)
    assert "exact true front" in proc.stdout and "hv ratio@20" in proc.stdout
    curves = pd.read_csv(workdir / "c.csv")
    assert {"cifar10_valid_acc_200ep", "lat_ms_raspi4", "feasible"} <= set(curves)
    constrained = run_cli("benchmark-search", "--benchmark", "nb201-cifar10", "--strategies", "rs,rea",
                          "--budget", "20", "--seeds", "2", "--constraint", "latency@pixel3<=8", "--no-mlflow",
                          check=True)
    assert "best feasible" in constrained.stdout


def test_live_search_with_a_device_latency_objective_and_a_parameter_bound(workdir):
    run_cli("search", "--benchmark", "digits", "--strategy", "rs", "--budget", "2", "--epochs", "1", "-C", "4",
            "--objectives", "accuracy,latency@pixel3", "--constraint", "params<=20000", "--no-mlflow",
            "--output", "live.csv", check=True)
    trace = pd.read_csv(workdir / "live.csv")
    assert len(trace) == 2 and trace["feasible"].all() and (trace["params"] <= 20000).all()
    space = get_space("nb201")
    expected = device_latency([space.parse(a) for a in trace["arch"]], "pixel3")
    assert np.allclose(trace["lat_ms_pixel3"], expected)
