"""``surrogate-nas measure``: latency of built networks here, as a CSV that ``fit --target latency`` reads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from conftest import run_cli
from surrogate_nas.latency import time_forward, without_outliers

QUICK = ["--repeats", "5", "--warmup", "1", "-C", "8", "--input-shape", "3,16,16"]


def one_line(proc) -> None:
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_measured_csv_is_read_back_and_feeds_a_latency_model_and_a_search(workdir):
    proc = run_cli("measure", "--sample", "6", *QUICK, "--out", "lat.csv", check=True)
    assert "measured 6 networks" in proc.stdout and "next: surrogate-nas fit --target latency" in proc.stdout
    lat = pd.read_csv(workdir / "lat.csv")
    assert list(lat.columns[:2]) == ["arch", "latency_ms"] and len(lat) == 6 and lat["arch"].is_unique
    assert (lat["latency_ms"] > 0).all() and (lat["kept"] <= lat["repeats"]).all()
    assert set(lat["threads"]) == {1} and set(lat["device"]) == {"cpu"} and lat["machine"].nunique() == 1
    assert set(lat["network"]) == {"C8N1"} and set(lat["input_shape"]) == {"3x16x16"}

    run_cli("measure", "--archs", "lat.csv", *QUICK, "--out", "again.csv", check=True)
    assert list(pd.read_csv(workdir / "again.csv")["arch"]) == list(lat["arch"])

    proc = run_cli("fit", "--target", "latency", "--benchmark", "lat.csv", "--no-mlflow", "--out", "here.zip",
                   check=True)
    assert "(latency_ms)" in proc.stdout
    run_cli("search", "--benchmark", "nb201-cifar10", "--strategy", "rs", "--budget", "3", "--objectives",
            "accuracy,latency@here.zip", "--no-mlflow", "--output", "trace.csv", check=True)
    assert (pd.read_csv(workdir / "trace.csv")["pred_lat_ms_here"] > 0).all()


def test_a_live_search_is_measured_with_its_own_network_and_inputs(workdir):
    run_cli("search", "--benchmark", "digits", "--strategy", "rs", "--budget", "2", "--batch-size", "2", "--epochs",
            "1", "-C", "8", "-N", "1", "--no-mlflow", "--name", "s", check=True)
    run_cli("measure", "--search", "s", "--repeats", "5", "--out", "s.csv", check=True)
    lat = pd.read_csv(workdir / "s.csv")
    assert len(lat) == 2 and set(lat["network"]) == {"C8N1"} and set(lat["input_shape"]) == {"1x8x8"}


def test_bad_measure_requests_are_one_line(workdir):
    one_line(run_cli("measure", "--out", "x.csv"))
    one_line(run_cli("measure", "--sample", "2", "--search", "s", "--out", "x.csv"))
    one_line(run_cli("measure", "--search", "nope", "--out", "x.csv"))
    one_line(run_cli("measure", "--sample", "2", "--device", "cuda:7", "--out", "x.csv"))
    pd.DataFrame({"arch": ["|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", "|bad|"]}).to_csv(
        workdir / "bad.csv", index=False)
    proc = run_cli("measure", "--archs", "bad.csv", "--out", "x.csv")
    one_line(proc)
    assert "line 3" in proc.stderr
    assert not (workdir / "x.csv").exists()


def test_the_python_api_measures_too():
    import surrogate_nas

    frame = surrogate_nas.measure(sample=3, channels=8, input_shape=(3, 8, 8), repeats=3, warmup=0)
    assert len(frame) == 3 and (frame["latency_ms"] > 0).all() and frame["arch"].is_unique


def test_outliers_are_rejected_and_threads_restored():
    values = np.array([1.0, 1.1, 0.9, 1.05, 0.95, 12.0])
    assert list(without_outliers(values)) == [1.0, 1.1, 0.9, 1.05, 0.95]
    before = torch.get_num_threads()
    timing = time_forward(nn.Linear(16, 4), (16,), threads=1, repeats=8, warmup=1, batch_size=3)
    assert torch.get_num_threads() == before
    assert timing.repeats == 8 and 1 <= timing.kept <= 8 and timing.batch_size == 3 and timing.spread_pct >= 0
