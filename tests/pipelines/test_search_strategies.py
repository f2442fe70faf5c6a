"""Search strategies: the ask/tell contract on every registered space, and each strategy's own moves."""

import numpy as np
import pytest

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
from surrogate_nas.pipelines.search.history import Objective, Suggestion, Trial
from surrogate_nas.pipelines.search.runner import run_search
from surrogate_nas.pipelines.search.strategies import STRATEGIES, make_strategy
from surrogate_nas.pipelines.search.strategies.evolution import RegularizedEvolution
from surrogate_nas.pipelines.search.strategies.local import LocalSearch
from surrogate_nas.spaces import SPACES, get_space
from surrogate_nas.spaces.nb201.cell import Cell, canonical_cells
from surrogate_nas.tables import load_benchmark

FAST_BO = {"n_initial": 4, "pool_size": 200, "shortlist": 32, "mc_samples": 32,
           "surrogate_options": {"maxiter": 20}}


def fast_options(name: str) -> dict:
    if not name.startswith("bo"):
        return {}
    options = dict(FAST_BO)
    if name == "bo-xgb" :
        options["surrogate_options"] = {"n_members": 2, "n_estimators": 30}
    return options


def told(space, archs, fidelity: float = 1.0) -> list[Trial]:
    """Trials whose value is a deterministic function of the architecture (its reference size)."""
    trials = []
    for a in archs:
        params, flops = space.reference_cost(a)
        value = float(np.log(params))
        trials.append(Trial(a, value, {"value": value, "log_flops": float(np.log(flops))}, fidelity=fidelity))
    return trials


@pytest.fixture(scope="module")
def evaluator():
    return TabularEvaluator(load_benchmark("nb201-cifar10"))


LEVELS = (1 / 9, 1 / 3, 1.0)
"""Fidelities offered to multi-fidelity strategies by the contract test."""


@pytest.mark.parametrize("space_name", sorted(SPACES))
@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_keeps_the_ask_tell_contract_on_every_space(name, space_name):
    """Distinct members of the space, never an evaluation already done or pending; multi-fidelity
    strategies stay on the offered fidelities, the others evaluate in full."""
    space = get_space(space_name)
    spec = STRATEGIES[name]
    objectives = ["value", "log_flops:min"] if spec.multi_objective else ["value"]
    strategy = make_strategy(name, space, objectives=objectives, seed=0, **fast_options(name))
    levels = LEVELS if spec.multi_fidelity else (1.0,)
    if spec.multi_fidelity:
        strategy.use_fidelities(LEVELS)
    if spec.multi_objective:
        strategy.ref_point = np.array([0.0, -40.0])
    rng = np.random.default_rng(1)
    history = told(space, space.sample_unseen(8, rng), levels[0])
    strategy.tell(history)
    pending = [Suggestion(a, levels[0]) for a in space.sample_unseen(3, rng, {t.key for t in history})]
    for _ in range(2):
        suggestions = strategy.ask(4, pending)
        done = {(t.key, t.fidelity) for t in strategy.history} | {(p.key, p.fidelity) for p in pending}
        asked = [(s.key, s.fidelity) for s in suggestions]
        assert len(suggestions) == 4 and len(set(asked)) == 4 and not set(asked) & done
        assert all(isinstance(s, Suggestion) and space.is_member(s.arch) and s.fidelity in levels for s in suggestions)
        assert all(space.parse(s.arch.to_string()).canonical_key == s.key for s in suggestions)
        for s in suggestions:
            strategy.tell(told(space, [s.arch], s.fidelity))
    assert len(strategy.history) == 16


@pytest.mark.parametrize("name", ["rs", "rea", "ls"])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_strategy_never_repeats_a_canonical_key(evaluator, name, batch_size):
    trace = run_search(name, evaluator, budget=40, batch_size=batch_size, seed=3)
    keys = [t.key for t in trace.history]
    assert len(keys) == 40 and len(set(keys)) == 40


def test_sample_unseen_returns_rest_of_space_when_nearly_exhausted():
    space = get_space("nb201")
    listed = canonical_cells()
    excluded = {c.canonical_key for c in listed[:-3]}
    out = space.sample_unseen(5, np.random.default_rng(0), excluded)
    assert {c.canonical_key for c in out} == {c.canonical_key for c in listed[-3:]}


def test_regularized_evolution_mutates_one_edge_of_the_population(evaluator):
    strategy = RegularizedEvolution("nb201", population_size=10, sample_size=5, seed=0)
    history = run_search(strategy, evaluator, budget=30, seed=0).history
    for i in range(10, 30):
        child = history[i].arch
        population = history[max(0, i - 10) : i]
        assert any(sum(a != b for a, b in zip(child.ops, p.arch.ops)) == 1 for p in population)


def test_local_search_starts_from_best_of_warm_start_and_walks_its_neighbourhood(evaluator):
    cells = list(canonical_cells()[100:110])
    initial = [Trial(c, o.value, o.objectives) for c, o in zip(cells, evaluator.evaluate([Suggestion(c) for c in cells]))]
    best = max(initial, key=lambda t: t.value).arch
    ls = LocalSearch("nb201", seed=0)
    ls.tell(initial)
    assert all(sum(a != b for a, b in zip(s.arch.ops, best.ops)) == 1 for s in ls.ask(5))


def test_local_search_moves_to_an_improving_neighbour():
    centre = Cell(("nor_conv_3x3",) * 6)
    better = Cell(("skip_connect",) + ("nor_conv_3x3",) * 5)

    def value(cell):
        return 50.0 if cell == centre else (60.0 if cell.ops[0] == "skip_connect" else 49.0)

    ls = LocalSearch("nb201", seed=0)
    ls.tell([Trial(centre, value(centre))])
    neighbourhood = {n.canonical_key for n in centre.neighbours()}
    while not neighbourhood <= {t.key for t in ls.history}:
        ls.tell([Trial(s.arch, value(s.arch)) for s in ls.ask(4)])
    assert all(sum(a != b for a, b in zip(s.arch.ops, better.ops)) == 1 for s in ls.ask(4))


def test_minimised_target_is_searched_downwards(evaluator):
    table = load_benchmark("nb201-cifar10")
    low = RegularizedEvolution("nb201", objectives=[Objective("cifar10_valid_acc_200ep", False)], seed=0)
    trace = run_search(low, evaluator, budget=40, objectives=["cifar10_valid_acc_200ep:min"])
    assert trace.best.value == min(t.value for t in trace.history)
    assert trace.best.value < np.median(table.values())


@pytest.mark.parametrize("bad", ["nope", "", "bo-rf"])
def test_unknown_strategy_name_is_an_input_error(bad):
    with pytest.raises(InputDataError, match="unknown search strategy"):
        make_strategy(bad, "nb201")


@pytest.mark.parametrize("name", ["rea", "ls"])
def test_single_objective_strategies_refuse_two_objectives(name):
    with pytest.raises(InputDataError, match="single-objective"):
        make_strategy(name, "nb201", objectives=["a", "b:min"])


def test_rea_validates_its_sizes():
    with pytest.raises(InputDataError, match="sample_size"):
        RegularizedEvolution("nb201", population_size=5, sample_size=8)
