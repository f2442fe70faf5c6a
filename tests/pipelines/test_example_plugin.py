"""The example plug-in package (``examples/surrogate_nas_example_plugin``), installed: its names in the CLI and
the Python API, its objects in the API, the contracts on it; module:Name from the current folder; a broken
plug-in; a user table whose space counts params."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import run_cli
from plugin_dist import write_dist_info

README = Path(__file__).resolve().parents[2] / "README.md"
PLUGIN = "plug-in (surrogate-nas-example-plugin 0.1.0)"


@pytest.fixture
def mlp_table(workdir, example_plugin) -> Path:
    """A CSV of every architecture of the plug-in's ``mlp`` space, one column per choice, and ``acc``."""
    from surrogate_nas.spaces import get_space

    rows = []
    for arch in get_space("mlp").enumerate():
        d = arch.as_dict()
        rows.append({**d, "acc": 80 + 3 * d["depth"] + np.log2(d["width"]) - 10 * d["dropout"]
                     + (d["activation"] == "gelu")})
    pd.DataFrame(rows).to_csv(workdir / "mlp.csv", index=False)
    return workdir / "mlp.csv"


def test_the_listing_commands_show_the_installed_plugins(example_plugin):
    for command, name in (("spaces", "mlp"), ("strategies", "fewest-params"), ("predictors", "knn"),
                          ("executors", "journal")):
        out = run_cli(command, check=True).stdout
        assert re.search(rf"^{re.escape(name)}\s.*{re.escape(PLUGIN)}", out, flags=re.M), (command, out)
        assert "built-in" in out


def test_the_plugins_keep_the_contracts(example_plugin, workdir):
    from surrogate_nas.pipelines.execution.executors import InProcessExecutor, make_executor
    from surrogate_nas.predictors.registry import make_predictor
    from surrogate_nas.spaces import get_space
    from surrogate_nas.testing import check_executor, check_predictor, check_space, check_strategy

    space = get_space("mlp")
    check_space(space)
    check_strategy("fewest-params", space)
    check_strategy("fewest-params", get_space("nb201"))
    kind, predictor = make_predictor("knn", space)
    archs = space.enumerate()
    check_predictor(predictor, space.features(archs[:40], kind), np.arange(40.0))
    check_executor(make_executor("journal"))
    assert len((workdir / "trainings.jsonl").read_text().splitlines()) == 1
    check_executor(InProcessExecutor())


def test_a_live_evaluator_keeps_the_evaluator_contract(example_plugin, workdir):
    from surrogate_nas.datasets import DatasetSpec
    from surrogate_nas.records import Setting, TrainConfig
    from surrogate_nas.spaces import get_space
    from surrogate_nas.storage import open_store
    from surrogate_nas.testing import check_evaluator
    from surrogate_nas.pipelines.live.evaluator import LiveEvaluator
    from surrogate_nas.pipelines.live.trainer import DatabaseTrainer

    space, spec = get_space("mlp"), DatasetSpec("blobs")
    setting = Setting("mlp", "blobs", space.network_config(), TrainConfig(epochs=2), 0)
    with DatabaseTrainer(open_store(os.environ["SURROGATE_NAS_DB"]), space, (spec, spec.load()), setting,
                         "cpu") as trainer:
        check_evaluator(LiveEvaluator(trainer), n=2)


def test_search_by_plugin_names_on_a_table_with_params_counted_by_the_space(mlp_table, workdir):
    """fewest-params picks the smallest networks; BO with the knn surrogate searches accuracy against params,
    which the CSV lacks and the space counts on its reference network."""
    from surrogate_nas.spaces import get_space

    space = get_space("mlp")
    run_cli("search", "--space", "mlp", "--benchmark", mlp_table, "--metric", "acc", "--strategy", "fewest-params",
            "--budget", "5", "--no-mlflow", "--output", "small.csv", check=True)
    sizes = sorted(space.reference_cost(a)[0] for a in space.enumerate())
    picked = [space.reference_cost(space.parse(a))[0] for a in pd.read_csv(workdir / "small.csv")["arch"]]
    assert sorted(picked) == sizes[:5]
    out = run_cli("search", "--space", "mlp", "--benchmark", mlp_table, "--metric", "acc", "--strategy", "bo",
                  "--surrogate", "knn", "--objectives", "accuracy,params", "--budget", "12", "--no-mlflow",
                  "--output", "front.csv", check=True).stdout
    assert "Pareto front (accuracy, params)" in out and "bo-knn" in out
    trace = pd.read_csv(workdir / "front.csv")
    assert len(trace) == 12 and all(trace["params"] == [space.reference_cost(space.parse(a))[0] for a in trace["arch"]])
    bad = run_cli("search", "--space", "mlp", "--benchmark", mlp_table, "--metric", "acc", "--objectives",
                  "accuracy,weight", "--no-mlflow")
    assert bad.returncode == 2 and "or accuracy, params, flops, latency@DEVICE" in bad.stderr


def test_a_live_search_with_the_plugins_dataset_strategy_and_executor(example_plugin, workdir):
    from surrogate_nas.storage import open_store

    out = run_cli("search", "--space", "mlp", "--benchmark", "blobs", "--strategy", "fewest-params", "--executor",
                  "journal", "--budget", "3", "--batch-size", "3", "--epochs", "1", "--no-mlflow", check=True).stdout
    assert "3 new trainings" in out
    journal = [json.loads(line) for line in (workdir / "trainings.jsonl").read_text().splitlines()]
    assert len(journal) == 3 and all(j["status"] == "ok" for j in journal)
    assert {e.dataset for e in open_store(os.environ["SURROGATE_NAS_DB"]).evaluations()} == {"blobs"}
    refused = run_cli("search", "--space", "mlp", "--benchmark", "blobs", "--executor", "journal", "--workers", "2",
                      "--epochs", "1", "--no-mlflow")
    assert refused.returncode == 2 and "the journal executor trains one architecture at a time" in refused.stderr


def test_the_python_api_takes_plugin_names_and_objects(mlp_table, workdir):
    import surrogate_nas
    from surrogate_nas.errors import InputDataError
    from surrogate_nas_example_plugin.executor import JournalExecutor
    from surrogate_nas_example_plugin.predictor import KNNPredictor
    from surrogate_nas_example_plugin.space import MLPSpace
    from surrogate_nas_example_plugin.strategy import FewestParamsFirst

    by_name = surrogate_nas.search(space="mlp", benchmark=str(mlp_table), metric="acc", strategy="fewest-params",
                                   budget=4, batch_size=2, mlflow=False)
    space = MLPSpace()
    by_object = surrogate_nas.search(space=space, benchmark=str(mlp_table), metric="acc",
                                     strategy=FewestParamsFirst(space, seed=1), seed=1, budget=4, batch_size=2,
                                     mlflow=False)
    assert by_name.name.startswith("fewest-params-mlp") and by_object.name.startswith("fewest-params-mlp")
    sizes = [[space.reference_cost(space.parse(a))[0] for a in r.trace["arch"]] for r in (by_name, by_object)]
    assert sizes[0] == sizes[1] == [min(sizes[0])] * 4, "the smallest networks either way (ties broken by seed)"
    with pytest.raises(InputDataError, match="was built with seed 1, the search has seed 0"):
        surrogate_nas.search(space=space, benchmark=str(mlp_table), metric="acc",
                             strategy=FewestParamsFirst(space, seed=1), budget=2, mlflow=False)
    custom = surrogate_nas.search(space=space, benchmark=str(mlp_table), metric="acc", strategy="bo",
                                  surrogate=KNNPredictor(k=3), objectives=["accuracy", "params"], budget=10,
                                  batch_size=5, mlflow=False)
    assert custom.name.startswith("bo-knn") and custom.pareto_front is not None and custom.new == 10
    compared = surrogate_nas.compare(str(mlp_table), predictors=["knn", KNNPredictor(k=2), "mean"], train_sizes=[20],
                                     seeds=1, space="mlp", metric="acc")
    assert list(compared["predictor"]) == ["knn", "KNNPredictor(k=2)", "mean"] and (compared["status"] == "ok").all()
    live = surrogate_nas.search(space="mlp", dataset="digits", strategy=FewestParamsFirst, budget=2, batch_size=2,
                                epochs=1, executor=JournalExecutor(str(workdir / "api.jsonl")), mlflow=False)
    assert live.new == 2 and len((workdir / "api.jsonl").read_text().splitlines()) == 2


def test_module_name_from_the_current_folder_as_the_readme_says(workdir, monkeypatch):
    """``--builder my_models:build`` and ``--strategy my_strategies:Smallest`` with the files next to you."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert str(workdir) not in sys.path
    (workdir / "space.json").write_text('{"depth": [1, 2, 3], "width": [16, 32, 64], "kernel": [3, 5]}')
    (workdir / "my_models.py").write_text(
        "from torch import nn\n\n\ndef build(choices, input_shape, num_classes):\n"
        "    layers, channels = [], input_shape[0]\n"
        "    for _ in range(choices['depth']):\n"
        "        layers += [nn.Conv2d(channels, choices['width'], choices['kernel'], padding=choices['kernel'] // 2),"
        " nn.ReLU()]\n"
        "        channels = choices['width']\n"
        "    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes))\n")
    (workdir / "my_strategies.py").write_text(
        "from surrogate_nas.pipelines.search import Strategy\n\n\nclass Smallest(Strategy):\n"
        "    name = 'smallest'\n\n    def ask(self, n, pending=()):\n"
        "        return self.fresh(n, self.taken_keys(pending))\n")
    try:
        out = run_cli("search", "--space", "space.json", "--builder", "my_models:build", "--benchmark", "digits",
                      "--strategy", "my_strategies:Smallest", "--budget", "2", "--batch-size", "2", "--epochs", "1",
                      "--no-mlflow", check=True).stdout
        assert "2 new trainings" in out and "search 'my_strategies:Smallest-" in out
        missing = run_cli("search", "--space", "space.json", "--builder", "my_models:nope", "--benchmark", "digits",
                          "--no-mlflow")
        assert missing.returncode == 2 and "cannot import builder 'my_models:nope'" in missing.stderr
    finally:
        sys.modules.pop("my_models", None)
        sys.modules.pop("my_strategies", None)


def test_a_broken_plugin_is_one_line_exit_2_and_breaks_no_other_command(workdir, tmp_path, monkeypatch):
    site = tmp_path / "site"
    write_dist_info(site, "broken-plugin", "2.0", {
        "surrogate_nas.strategies": {"broken": "plugtest_absent_module:Strategy"},
        "surrogate_nas.predictors": {"rf": "plugtest_absent_module:Forest"}})
    monkeypatch.syspath_prepend(str(site))
    used = run_cli("search", "--benchmark", "nb201-cifar10", "--strategy", "broken", "--budget", "2", "--no-mlflow")
    lines = used.stderr.strip().splitlines()
    assert used.returncode == 2 and len(lines) == 1, used.stderr
    assert "'broken' (broken-plugin 2.0" in lines[0] and "No module named 'plugtest_absent_module'" in lines[0]
    assert run_cli("spaces").returncode == 0
    assert run_cli("search", "--benchmark", "nb201-cifar10", "--strategy", "rs", "--budget", "2",
                   "--no-mlflow").returncode == 0
    listed = run_cli("strategies")
    assert listed.returncode == 2 and re.search(r"^rs\s", listed.stdout, flags=re.M)
    assert listed.stderr.strip().splitlines()[-1].startswith("error: 1 installed search strategy plug-in cannot be used")
    shadowed = run_cli("predictors")
    assert shadowed.returncode == 0 and "plug-in predictor 'rf' (broken-plugin 2.0" in shadowed.stderr


def test_the_readme_plugin_section_runs(example_plugin, workdir, capsys):
    """Every ``surrogate-nas`` command of the README's "Write a plug-in" (in-process), and its Python example."""
    section = README.read_text().split("## Write a plug-in", 1)[1].split("\n## ", 1)[0]
    commands = [line.split("surrogate-nas", 1)[1].split() for block in re.findall(r"```bash\n(.*?)```", section,
                                                                                    flags=re.S)
                for line in block.splitlines() if line.startswith(".venv/bin/surrogate-nas ")]
    assert len(commands) >= 3
    for args in commands:
        run_cli(*args, check=True)
    (example,) = [b for b in re.findall(r"```python\n(.*?)```", section, flags=re.S) if "surrogate_nas.search(" in b]
    exec(compile(example, "README.md", "exec"), {"__name__": "readme_plugin_example"})
    assert "params" in capsys.readouterr().out
