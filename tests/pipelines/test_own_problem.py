"""Your own problem end to end: your images or arrays, your space and builder, your table, the Python API."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from conftest import run_cli
from surrogate_nas.storage import open_store
from user_data import write_images

FAST_NB201 = ["--epochs", "1", "-C", "4"]


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("own") / "colours", per_class=70)


def _evaluations():
    return open_store(os.environ["SURROGATE_NAS_DB"]).evaluations()


def test_seed_and_live_search_on_an_image_folder_and_a_npz(workdir, images):
    run_cli("seed", "--dataset", images, "-n", "2", *FAST_NB201, "--no-mlflow", check=True)
    rng = np.random.default_rng(0)
    np.savez(workdir / "arrays.npz", x=rng.random((120, 8, 8)).astype(np.float32), y=np.repeat([0, 1, 2], 40))
    run_cli("seed", "--dataset", "arrays.npz", "-n", "2", *FAST_NB201, "--no-mlflow", check=True)
    out = run_cli("search", "--benchmark", images, "--strategy", "rs", "--budget", "3", "--batch-size", "3",
                  *FAST_NB201, "--no-mlflow", check=True).stdout
    assert "3 new trainings" in out and "the surrogate knew 5 architectures" in out, "warm-started from the 2 seeded"
    by_dataset = pd.Series([e.dataset for e in _evaluations()]).value_counts()
    names = sorted(by_dataset.index)
    assert len(names) == 2 and names[0].startswith("images-") and names[1].startswith("npz-")
    assert by_dataset[names[0]] == 5 and by_dataset[names[1]] == 2
    assert all(e.status.value == "ok" for e in _evaluations())


def test_bad_data_is_one_line_exit_2_and_stores_nothing(workdir, images, tmp_path):
    (tmp_path / "empty").mkdir()
    single = write_images(tmp_path / "single", per_class=3)
    for cls in ("red", "green"):
        for f in (single / cls).iterdir():
            f.unlink()
        (single / cls).rmdir()
    broken = write_images(tmp_path / "broken", per_class=3)
    (broken / "red" / "x.png").write_bytes(b"garbage")
    np.savez(tmp_path / "labels.npz", x=np.zeros((4, 8, 8)), y=np.array([0, 1, 0, -3]))
    mixed = write_images(tmp_path / "mixed", per_class=3)
    write_images(tmp_path / "large", per_class=1, size=12)
    (tmp_path / "large" / "red" / "red_000.png").rename(mixed / "red" / "large.png")
    for dataset in (tmp_path / "empty", single, broken, tmp_path / "labels.npz", mixed, tmp_path / "nowhere"):
        for command in (["seed", "--dataset", str(dataset), "-n", "1"],
                        ["search", "--benchmark", str(dataset), "--budget", "1"]):
            proc = run_cli(*command, *FAST_NB201, "--no-mlflow")
            assert proc.returncode == 2, (command, proc.stderr)
            lines = proc.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in proc.stderr
    assert not (workdir / "nas.db").exists() or _evaluations() == []
    assert open_store(os.environ["SURROGATE_NAS_DB"]).searches() == []


def test_macro_space_live_bo_search_ends_with_a_pareto_front(workdir):
    out = run_cli("search", "--space", "macro", "--benchmark", "digits", "--strategy", "bo", "--budget", "5",
                  "--batch-size", "5", "--objectives", "accuracy,params", "--epochs", "1", "-C", "4",
                  "--no-mlflow", "--output", "trace.csv", check=True).stdout
    assert "Pareto front (accuracy, params)" in out and "hypervolume" in out
    trace = pd.read_csv(workdir / "trace.csv")
    assert len(trace) == 5 and {"valid_acc", "params", "hypervolume"} <= set(trace.columns)
    assert all(json.loads(a)["stage1_blocks"] in (1, 2, 3) for a in trace["arch"])


def test_own_space_file_and_own_table_with_a_minimised_metric(workdir):
    space = {"depth": [1, 2, 3, 4], "width": [8, 16, 32], "op": ["conv", "pool", "skip"]}
    (workdir / "space.json").write_text(json.dumps(space))
    rng = np.random.default_rng(0)
    rows = [{"depth": d, "width": w, "op": o, "error": abs(d - 3) + abs(w - 16) / 8 + (o != "conv") + rng.random() / 10}
            for d in space["depth"] for w in space["width"] for o in space["op"]]
    pd.DataFrame(rows).to_csv(workdir / "table.csv", index=False)
    run_cli("search", "--space", "space.json", "--benchmark", "table.csv", "--metric", "error", "--minimize",
            "--strategy", "bo", "--budget", "20", "--batch-size", "4", "--no-mlflow", "--output", "t.csv", check=True)
    trace = pd.read_csv(workdir / "t.csv")
    assert trace["best_so_far"].is_monotonic_decreasing and (trace["regret"] >= 0).all()
    assert trace["best_so_far"].iloc[-1] == trace["value"].min() and trace["regret"].iloc[-1] < 1
    proc = run_cli("compare", "--space", "space.json", "--benchmark", "table.csv", "--metric", "error",
                   "--minimize", "--predictors", "xgb,mean", "--train-sizes", "12", "--seeds", "2", "--no-mlflow")
    assert proc.returncode == 0 and "kendall" in proc.stdout.lower()
    bad = run_cli("search", "--space", "space.json", "--benchmark", "table.csv", "--metric", "nope", "--no-mlflow")
    assert bad.returncode == 2 and "nope" in bad.stderr


def test_db_export_reads_back_as_a_table_of_the_space(workdir):
    run_cli("seed", "--space", "macro", "-n", "4", "--epochs", "1", "-C", "4", "--no-mlflow", check=True)
    run_cli("db", "export", "macro.csv", check=True)
    proc = run_cli("benchmark-search", "--space", "macro", "--benchmark", "macro.csv", "--metric", "valid_acc",
                   "--strategies", "rs", "--budget", "4", "--seeds", "1", "--no-mlflow", check=True)
    assert "regret@" in proc.stdout


def test_the_python_api_of_the_readme(workdir, images):
    import surrogate_nas

    result = surrogate_nas.search(space="macro", dataset=str(images), strategy="bo", budget=4, batch_size=4,
                                  objectives=["accuracy", "params"], epochs=1, channels=4, mlflow=False)
    assert result.new == 4 and len(result.trace) == 4 and result.pareto_front is not None
    assert result.best.arch.to_string().startswith('{"stage1_blocks"')
    again = surrogate_nas.search(space="macro", dataset=str(images), strategy="bo", budget=4, batch_size=4,
                                 objectives=["accuracy", "params"], epochs=1, channels=4, mlflow=False)
    assert again.new == 0 and again.resumed == 4
    report = surrogate_nas.seed(space="nb201", dataset="digits", n=1, epochs=1, channels=4, mlflow=False)
    assert len(report.trained) == 1
