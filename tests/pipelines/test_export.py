"""``surrogate-nas export``: a live search's network as TorchScript, ONNX and a model card, with raw inputs.

Real parts throughout: a real live search on digits (C=8, N=1, one epoch), a real SQLite
database and MLflow store, the exported files loaded in fresh processes that import only torch
(or only MLflow).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import experiment_runs, run_cli
from surrogate_nas.datasets.dataset import SPLIT_FRACTIONS, stratified_split
from surrogate_nas.pipelines.ship.bundle import staged_folder
from surrogate_nas.storage import open_store

SEARCH = ["search", "--benchmark", "digits", "--strategy", "rs", "--budget", "3", "--batch-size", "3", "--epochs",
          "1", "-C", "8", "-N", "1", "--objectives", "accuracy,params", "--name", "tiny"]


def one_line(proc) -> None:
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def raw_digits_test_split(seed: int = 0):
    """The digits test split as scikit-learn holds it (rows of 64 values 0-16) with its labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    test = stratified_split(bunch.target, SPLIT_FRACTIONS, seed)[2]
    return bunch.data[test], bunch.target[test]


@pytest.mark.slow  # starts two Python processes (torch alone; MLflow)
def test_export_of_a_search_runs_with_torch_alone_and_matches_onnx_and_the_registry(workdir):
    run_cli(*SEARCH, "--keep-weights", "none", check=True)  # so export retrains
    proc = run_cli("export", "--search", "tiny", "--out", "shipped", "--register", "shippednet", check=True)
    assert "exported 1 network(s)" in proc.stdout and "registered: models:/shippednet/1" in proc.stdout
    assert "next:" in proc.stdout
    folder = workdir / "shipped"
    assert sorted(p.name for p in folder.iterdir()) == ["model.onnx", "model.pt", "model_card.json", "model_card.md"]
    card = json.loads((folder / "model_card.json").read_text())

    store = open_store(os.environ["SURROGATE_NAS_DB"])
    search = store.search("tiny")
    best = max((t for t in store.trials(search.id)), key=lambda t: t.values["value"])
    stored = store.evaluation(best.evaluation_id)
    assert card["architecture"] == stored.arch and card["space"] == "nb201"
    assert card["network"] == {"channels": 8, "cells_per_stage": 1} and card["recipe"]["epochs"] == 1
    assert card["valid_accuracy"] == pytest.approx(stored.valid_acc)  # retrained with the search's recipe and seed
    assert card["test_accuracy"] == pytest.approx(stored.test_acc)
    assert card["params"] == stored.params and card["flops"] == stored.flops
    assert card["latency"]["latency_ms"] > 0 and card["latency"]["threads"] == 1 and card["latency"]["machine"]
    assert card["search"] == "tiny" and card["search_mlflow_run_id"] == search.mlflow_run_id
    assert card["mlflow_run_id"] and card["registered_model"] == "models:/shippednet/1" and card["package_version"]
    assert card["dataset"]["fingerprint"] == "digits" and card["dataset"]["class_names"][:2] == ["0", "1"]
    assert card["preprocessing"]["scale"] == 16.0 and card["input"]["shape"] == ["batch", 64]
    assert card["files"]["model.onnx"]["max_abs_diff"] <= 1e-4
    assert "test accuracy" in (folder / "model_card.md").read_text() and "retrained" in card["weights"]
    _, runs = experiment_runs()
    (logged,) = [r for r in runs if r.data.tags.get("kind") == "export"]
    assert logged.info.run_id == card["mlflow_run_id"]
    assert logged.data.tags["mlflow.parentRunId"] == search.mlflow_run_id  # linked to the search's run

    # model.pt takes the rows as scikit-learn holds them, in a process that imports torch alone.
    x, y = raw_digits_test_split()
    torch.save({"x": torch.from_numpy(x), "y": torch.from_numpy(y)}, workdir / "raw.pt")
    script = ("import sys, torch; m = torch.jit.load('shipped/model.pt'); d = torch.load('raw.pt'); "
              "out = m(d['x']); print(100.0 * float((out.argmax(1) == d['y']).double().mean())); "
              "assert not [k for k in sys.modules if k.startswith(('surrogate_nas', 'sklearn'))]")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=workdir, timeout=120)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == pytest.approx(card["test_accuracy"])

    onnxruntime = pytest.importorskip("onnxruntime")
    session = onnxruntime.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    onnx_out = session.run(None, {session.get_inputs()[0].name: x})[0]
    with torch.no_grad():
        torch_out = torch.jit.load(str(folder / "model.pt"))(torch.from_numpy(x)).numpy()
    assert np.abs(onnx_out - torch_out).max() <= 1e-4

    # The registered model loads by name in a fresh process that knows only the tracking store.
    script = ("import mlflow, torch; m = mlflow.pytorch.load_model('models:/shippednet/1'); "
              "print(tuple(m(torch.zeros(3, 64, dtype=torch.float64)).shape))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=workdir, timeout=180,
                          env={**os.environ})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "(3, 10)"


def test_kept_weights_are_exported_without_training_and_pruned_to_the_best_and_front(workdir):
    proc = run_cli(*SEARCH, "--no-mlflow", check=True)
    assert "kept weights: " in proc.stdout and "--keep-weights auto" in proc.stdout
    store = open_store(os.environ["SURROGATE_NAS_DB"])
    trials = store.trials(store.search("tiny").id)
    kept = sorted(int(p.stem) for p in store.weights.folder.glob("*.pt"))
    assert 1 <= len(kept) < len(trials) and f"kept weights: {len(kept)} training(s)" in proc.stdout
    run_cli("export", "--search", "tiny", "--pick", "front", "--out", "front", "--no-mlflow", "--no-onnx", check=True)
    cards = [json.loads(p.read_text()) for p in sorted((workdir / "front").glob("*/model_card.json"))]
    assert sorted(c["evaluation_id"] for c in cards) == kept
    for card in cards:
        assert card["weights"].startswith("kept by the search")
        assert card["test_accuracy"] == pytest.approx(store.evaluation(card["evaluation_id"]).test_acc)

    proc = run_cli(*SEARCH[:-2], "--name", "all", "--budget", "4", "--batch-size", "1", "--keep-weights", "all",
                   "--no-mlflow", check=True)
    assert "kept weights: 4 training(s)" in proc.stdout


def test_export_of_an_architecture_on_uint8_images_takes_them_as_the_file_holds_them(workdir):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 30)
    x = rng.integers(0, 60, (90, 12, 12, 3), dtype=np.uint8)
    x[np.arange(90), :, :, y] += 150  # each class is brighter in one colour channel: learnable in one epoch
    np.savez(workdir / "data.npz", x=x, y=y, class_names=np.array(["red", "green", "blue"]))
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    proc = run_cli("export", "--arch", arch, "--dataset", "data.npz", "--epochs", "2", "-C", "8", "-N", "1",
                   "--out", "npz-net", "--no-mlflow", "--no-onnx", check=True)
    assert "no model.onnx: not asked for" in proc.stdout and "uint8 arrays of shape ('batch', 12, 12, 3)" in proc.stdout
    card = json.loads((workdir / "npz-net" / "model_card.json").read_text())
    assert card["dataset"]["class_names"] == ["red", "green", "blue"] and card["mlflow_run_id"] is None
    assert not (workdir / "nas.db").exists()  # an --arch export needs no database
    model = torch.jit.load(str(workdir / "npz-net" / "model.pt"))
    with torch.no_grad():
        predicted = model(torch.from_numpy(x)).argmax(1).numpy()
    assert (predicted == y).mean() > 0.9


def test_bad_exports_are_one_line_and_write_nothing(workdir):
    run_cli(*SEARCH[:-2], "--budget", "1", "--batch-size", "1", "--no-mlflow", "--name", "one", check=True)
    (workdir / "taken").mkdir()
    one_line(run_cli("export", "--search", "one", "--out", "taken", "--no-mlflow"))
    assert not any((workdir / "taken").iterdir())
    one_line(run_cli("export", "--search", "nope", "--out", "a", "--no-mlflow"))
    one_line(run_cli("export", "--search", "one", "--arch", "x", "--out", "a", "--no-mlflow"))
    one_line(run_cli("export", "--search", "one", "--pick", "3", "--out", "a", "--no-mlflow"))
    one_line(run_cli("export", "--search", "one", "--pick", "worst", "--out", "a", "--no-mlflow"))
    one_line(run_cli("export", "--arch", "|bad|", "--out", "a", "--no-mlflow"))
    run_cli("search", "--benchmark", "nb201-cifar10", "--strategy", "rs", "--budget", "2", "--no-mlflow", "--name",
            "table", check=True)
    proc = run_cli("export", "--search", "table", "--out", "a", "--no-mlflow")
    one_line(proc)
    assert "--arch" in proc.stderr
    assert not (workdir / "a").exists()


def test_a_failed_export_leaves_no_folder_behind(tmp_path):
    with pytest.raises(RuntimeError), staged_folder(tmp_path / "out") as stage:
        (stage / "model.pt").write_bytes(b"half")
        raise RuntimeError("training died")
    assert list(tmp_path.iterdir()) == []
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    killed = tmp_path / f".out.partial-{int(dead.stdout)}-abc"  # what a killed export of out left
    killed.mkdir()
    with staged_folder(tmp_path / "out") as stage:
        (stage / "model.pt").write_bytes(b"whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_seed_keeps_the_weights_it_is_asked_to(workdir):
    fast = ["seed", "--dataset", "digits", "--epochs", "1", "-C", "8", "-N", "1", "--no-mlflow"]
    store = open_store(os.environ["SURROGATE_NAS_DB"])
    proc = run_cli(*fast, "-n", "2", "--keep-weights", "none", check=True)
    assert "kept weights: 0 training(s)" in proc.stdout and not list(store.weights.folder.glob("*.pt"))
    proc = run_cli(*fast, "-n", "5", "--keep-weights", "all", check=True)
    assert "kept weights: 3 training(s)" in proc.stdout and len(list(store.weights.folder.glob("*.pt"))) == 3
    proc = run_cli(*fast, "-n", "5", "--seed", "1", check=True)  # auto: the best and the accuracy-params front
    kept = int(proc.stdout.split("kept weights: ")[1].split()[0])
    assert 1 <= kept <= 5 and len(list(store.weights.folder.glob("*.pt"))) == 3 + kept


def test_final_training_with_seeds_is_stored_and_not_repeated(workdir):
    run_cli(*SEARCH[:-2], "--budget", "2", "--batch-size", "2", "--no-mlflow", "--name", "two", check=True)
    final = ["export", "--search", "two", "--retrain-epochs", "2", "--seeds", "2", "--no-mlflow",
             "--no-onnx"]
    proc = run_cli(*final, "--out", "final", check=True)
    assert "final training of final: 2 seed(s) x 2 epochs, test accuracy" in proc.stdout
    card = json.loads((workdir / "final" / "model_card.json").read_text())
    summary = card["final_training"]
    assert summary["seeds"] == [0, 1] and summary["epochs"] == 2 and card["recipe"]["epochs"] == 2
    assert summary["test_accuracy_mean"] == pytest.approx(np.mean(summary["test_accuracies"]))
    chosen = int(np.argmax(summary["valid_accuracies"]))
    assert summary["chosen_seed"] == chosen and card["recipe"]["seed"] == chosen
    assert card["test_accuracy"] == pytest.approx(summary["test_accuracies"][chosen])  # model.pt on its test split
    store = open_store(os.environ["SURROGATE_NAS_DB"])
    stored = len(store.evaluations())
    proc = run_cli(*final, "--out", "again", check=True)  # the seeds are stored: nothing is trained again
    assert len(store.evaluations()) == stored
    assert json.loads((workdir / "again" / "model_card.json").read_text())["final_training"] == summary


def test_resized_image_folders_export_models_that_resize_decoded_images_of_any_size(workdir):
    from user_data import write_images

    write_images(workdir / "imgs", per_class=10, size=10)
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    proc = run_cli("export", "--arch", arch, "--dataset", "imgs", "--image-size", "8", "--epochs", "1", "-C", "8",
                   "--out", "net", "--no-mlflow", check=True)
    assert "uint8 arrays of shape ('batch', 10, 10, 3)" in proc.stdout
    onnxruntime = pytest.importorskip("onnxruntime")
    x = np.random.default_rng(0).integers(0, 256, (3, 13, 11, 3), dtype=np.uint8)  # not the folder's size
    with torch.no_grad():
        expected = torch.jit.load(str(workdir / "net" / "model.pt"))(torch.from_numpy(x)).numpy()
    session = onnxruntime.InferenceSession(str(workdir / "net" / "model.onnx"), providers=["CPUExecutionProvider"])
    assert np.abs(session.run(None, {session.get_inputs()[0].name: x})[0] - expected).max() <= 1e-4
