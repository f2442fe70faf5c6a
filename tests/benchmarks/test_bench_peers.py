"""benchmarks/peers.py: NB-201 cells as Optuna parameters, the knob choice, the Optuna strategy."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bench_scripts import load_script

from surrogate_nas.spaces import get_space


@pytest.fixture(scope="module")
def peers():
    return load_script("peers")


class FakeTrial:
    """Answers suggest_categorical from fixed parameters (what Optuna's trial would return)."""

    def __init__(self, params):
        self.params = params

    def suggest_categorical(self, name, choices):
        assert self.params[name] in choices
        return self.params[name]


def test_cell_params_round_trip(peers):
    space = get_space("nb201")
    for arch in space.sample_unseen(50, np.random.default_rng(0)):
        params = peers.cell_params(arch)
        assert sorted(params) == [f"edge{i}" for i in range(6)]
        again = peers.suggest_cell(FakeTrial(params), space)
        assert again.to_string() == arch.to_string() and again.canonical_key == arch.canonical_key


def test_isomorphic_params_share_a_canonical_key(peers):
    space = get_space("nb201")
    # Edge 1<-0 feeds only dead ends when everything leaving node 1 is "none": its op cannot matter.
    a = peers.nb201_cell(space, ["nor_conv_3x3", "nor_conv_3x3", "none", "skip_connect", "none", "nor_conv_1x1"])
    b = peers.nb201_cell(space, ["avg_pool_3x3", "nor_conv_3x3", "none", "skip_connect", "none", "nor_conv_1x1"])
    assert a.to_string() != b.to_string() and a.canonical_key == b.canonical_key


def test_choose_takes_the_best_mean_and_keeps_the_default_on_ties(peers):
    rows = []
    for seed in (100, 101):
        for pop, hv in ((50, 0.95), (10, 0.97), (20, 0.98), (30, 0.98)):
            rows.append({"peer": "optuna-nsga2", "setting": json.dumps({"population_size": pop}), "seed": seed,
                         "score": hv})
        for n, m, regret in ((10, False, 0.3), (20, False, 0.3), (10, True, 0.3), (20, True, 0.3)):
            rows.append({"peer": "optuna-tpe", "setting": peers.setting_key({"n_startup_trials": n, "multivariate": m}),
                         "seed": seed, "score": regret})
    choice = peers.choose(pd.DataFrame(rows))
    assert choice["optuna-nsga2"] == {"population_size": 20}  # higher is better; 20 listed before 30
    assert choice["optuna-tpe"] == {"n_startup_trials": 10, "multivariate": False}  # all tie: the default


def test_every_grid_starts_with_settings_the_docs_give(peers):
    assert peers.PEERS["optuna-nsga2"].grid[0] == {"population_size": 50}
    assert peers.PEERS["optuna-tpe"].grid[0]["n_startup_trials"] == 10
    assert peers.PEERS["optuna-gp"].defaults["deterministic_objective"] is True
    hb = peers.PEERS["optuna-tpe-hb"].defaults
    eta = hb["reduction_factor"]
    brackets = int(np.floor(np.log(hb["max_resource"] / hb["min_resource"]) / np.log(eta))) + 1
    first_rungs = [hb["min_resource"] * eta**s for s in range(brackets)]
    assert first_rungs[0] == 12 and all(r > 12 * 10 for r in first_rungs[1:])  # brackets {12, ~200}


def test_optuna_strategy_counts_distinct_cells_only(peers):
    pytest.importorskip("optuna")
    from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
    from surrogate_nas.pipelines.search.runner import run_search
    from surrogate_nas.tables import load_benchmark

    evaluator = TabularEvaluator(load_benchmark("nb201-cifar10"))
    strategy = peers.OptunaStrategy(evaluator.space, None, seed=0, peer="optuna-nsga2",
                                    settings={"population_size": 10})
    trace = run_search(strategy, evaluator, budget=40, seed=0)
    keys = trace.frame["canonical_key"].tolist()
    assert len(keys) == 40 == len(set(keys))
    told = [t for t in strategy.study.trials if t.state.name == "COMPLETE"]
    assert len(told) == 40 + strategy.repeats
    by_key = {t.key: t.value for t in trace.history}
    for t in told:
        arch = peers.nb201_cell(evaluator.space, [t.params[f"edge{i}"] for i in range(6)])
        assert t.value == pytest.approx(by_key[arch.canonical_key])


def test_the_hyperband_peer_reruns_identically():
    """Optuna's HyperbandPruner brackets a trial by the study's name: an unnamed study (a random name)
    made the multi-fidelity peer's figures differ from run to run."""
    pytest.importorskip("optuna")
    from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
    from surrogate_nas.tables import load_benchmark

    multi_fidelity = load_script("multi_fidelity")
    table = load_benchmark("nb201-cifar10")
    evaluator, unit = TabularEvaluator(table), float(table.values(table.cost_column).mean())
    settings = {"min_resource": 12, "max_resource": 200, "reduction_factor": 16, "n_startup_trials": 10,
                "multivariate": False}
    runs = [multi_fidelity.one_run("optuna-tpe-hb", evaluator, 3, 4 * unit, settings) for _ in range(2)]
    pd.testing.assert_frame_equal(*runs)
