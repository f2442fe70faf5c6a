"""``surrogate-nas compare``, ``fit`` and ``predict`` (in-process)."""

from __future__ import annotations


import numpy as np
import pandas as pd

from conftest import experiment_runs, run_cli
from surrogate_nas.tables import load_benchmark

REQUIRED = {"predictor", "train_size", "seed", "kendall_tau", "spearman", "fit_seconds"}


def _subset_csv(path, n=300):
    frame = load_benchmark("nb201-cifar10").frame.sample(n, random_state=0)
    frame[["arch", "cifar10_valid_acc_200ep", "params_mb_cifar10"]].rename(
        columns={"cifar10_valid_acc_200ep": "acc", "params_mb_cifar10": "params"}).to_csv(path, index=False)
    return path


def test_compare_on_a_named_benchmark_writes_csv_and_logs_mlflow(workdir):
    proc = run_cli("compare", "--benchmark", "nb201-cifar10", "--predictors", "xgb,gp,mean",
                   "--train-sizes", "20,40", "--seeds", "2", "--test-size", "60", "--output", "out.csv", check=True)
    rows = pd.read_csv(workdir / "out.csv")
    assert REQUIRED <= set(rows.columns)
    assert len(rows) == 3 * 2 * 2
    assert set(rows.predictor) == {"xgb", "gp", "mean"}
    assert "kendall" in proc.stdout.lower()
    client, (run,) = experiment_runs()
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert "compare.csv" in names and any(n.endswith(".png") for n in names)
    assert len([n for n in names if n.endswith(".png")]) >= 2
    assert any(k.startswith("kendall_tau.") for k in run.data.metrics)


def test_compare_on_a_user_csv_works_the_same(workdir):
    _subset_csv(workdir / "mine.csv")
    run_cli("compare", "--benchmark", "mine.csv", "--metric", "acc", "--predictors", "xgb,mean",
            "--train-sizes", "30", "--seeds", "2", "--test-size", "50", "--output", "o.csv", "--no-mlflow",
            check=True)
    rows = pd.read_csv(workdir / "o.csv")
    assert REQUIRED <= set(rows.columns) and len(rows) == 4


def test_bad_tables_name_row_and_column(workdir):
    path = _subset_csv(workdir / "bad.csv", n=50)
    frame = pd.read_csv(path)
    common = ["--predictors", "mean", "--train-sizes", "10", "--seeds", "1", "--test-size", "10", "--no-mlflow"]

    proc = run_cli("compare", "--benchmark", "bad.csv", "--metric", "nope", *common)
    assert proc.returncode == 2 and "nope" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1

    frame.loc[3, "arch"] = "|nor_conv_3x3~0|+|oops~0|none~1|+|none~0|none~1|none~2|"
    frame.to_csv(path, index=False)
    proc = run_cli("compare", "--benchmark", "bad.csv", "--metric", "acc", *common)
    assert proc.returncode == 2 and "arch" in proc.stderr and "line 5" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr

    frame = pd.read_csv(_subset_csv(workdir / "bad2.csv", n=50))
    frame["acc"] = frame["acc"].astype(object)
    frame.loc[7, "acc"] = "ninety"
    frame.to_csv(workdir / "bad2.csv", index=False)
    proc = run_cli("compare", "--benchmark", "bad2.csv", "--metric", "acc", *common)
    assert proc.returncode == 2 and "acc" in proc.stderr and "ninety" in proc.stderr and "line 9" in proc.stderr

    proc = run_cli("compare", "--benchmark", "missing.csv", "--metric", "acc", *common)
    assert proc.returncode == 2 and "missing.csv" in proc.stderr


def test_fit_then_predict(workdir):
    _subset_csv(workdir / "mine.csv")
    run_cli("fit", "--predictor", "xgb", "--benchmark", "mine.csv", "--metric", "acc", "--name", "mine", check=True)
    best = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    worst = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    proc = run_cli("predict", "--model", "mine", best, worst, check=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("|")]
    assert len(lines) == 2
    means = [float(ln.split()[1]) for ln in lines]
    assert means[0] > means[1]
    for line in lines:  # arch, mean, std, then the central 90% of the prediction's distribution
        mean, std, low, high = map(float, line.split()[1:5])
        assert low < mean < high and std > 0
    bad = run_cli("predict", "--model", "mine", "|nope|")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_compare_all_predictors_on_the_whole_rest_of_a_table(workdir):
    from surrogate_nas.predictors.registry import PREDICTOR_PLUGINS

    _subset_csv(workdir / "mine.csv", n=120)
    proc = run_cli("compare", "--benchmark", "mine.csv", "--metric", "acc", "--predictors", "all",
                   "--train-sizes", "20", "--seeds", "1", "--test-size", "all", "--output", "o.csv", "--no-mlflow",
                   check=True)
    rows = pd.read_csv(workdir / "o.csv")
    assert list(rows.predictor) == PREDICTOR_PLUGINS.names() and (rows.status == "ok").all()
    assert (rows.test_size > 80).all() and {"precision_top5", "coverage_50", "coverage_95", "nll"} <= set(rows.columns)
    assert "top5% prec" in proc.stdout and "cover 50/80/90/95" in proc.stdout


def test_transfer_from_a_table_of_another_space_is_one_line_exit_2(workdir):
    proc = run_cli("compare", "--benchmark", "nb201-cifar100", "--transfer-from", "darts-cifar10-subset",
                   "--predictors", "mean", "--train-sizes", "20", "--seeds", "1", "--test-size", "20", "--no-mlflow")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert "darts" in proc.stderr


def _refused(capsys, argv) -> str:
    from surrogate_nas.pipelines.cli.app import main

    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_transfer_from_the_compared_table_itself_is_refused_and_writes_nothing(workdir, capsys):
    common = ["--predictors", "mean", "--train-sizes", "20", "--seeds", "1", "--test-size", "20", "--output", "o.csv"]
    err = _refused(capsys, ["compare", "--benchmark", "nb201-cifar100", "--transfer-from", "nb201-cifar100", *common])
    assert "cifar100_valid_acc_200ep" in err and "same" in err
    _subset_csv(workdir / "mine.csv")
    pd.read_csv(workdir / "mine.csv")[["arch", "acc"]].to_csv(workdir / "mine.csv", index=False)
    err = _refused(capsys, ["compare", "--benchmark", "mine.csv", "--metric", "acc",
                            "--transfer-from", str(workdir / "mine.csv"), *common])
    assert "mine.csv" in err and "acc" in err
    assert not (workdir / "o.csv").exists()
    assert experiment_runs()[1] == []


def test_a_latency_model_of_a_known_device_does_not_read_that_device(workdir, capsys):
    from surrogate_nas.pipelines.cli.app import main
    from surrogate_nas.pipelines.tracking.predictor_store import load_bundle_file
    from surrogate_nas.spaces import get_space
    from surrogate_nas.devices import DEVICES

    frame = load_benchmark("nb201-cifar10").frame.sample(40, random_state=0)
    frame[["arch", "lat_ms_pixel3"]].to_csv(workdir / "pixel3.csv", index=False)
    assert main(["fit", "--target", "latency", "--benchmark", "pixel3.csv", "--metric", "lat_ms_pixel3",
                 "--out", "p.zip", "--no-mlflow"]) == 0
    capsys.readouterr()
    model = load_bundle_file(workdir / "p.zip")["predictor"]
    names = get_space("nb201").feature_names("latency")
    own = names.index(DEVICES["pixel3"].feature)
    assert model.ignore_columns == (own,) and model.coef_[own] == 0
    assert np.count_nonzero(model.coef_) == len(names) - 1  # every other setting, raspi4 and the GPUs included
