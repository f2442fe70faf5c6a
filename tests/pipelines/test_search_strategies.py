"""Search strategies: no repeats, pending respected, names validated."""

import numpy as np
import pytest

from surrogate_nas.cell import Cell, canonical_cells
from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
from surrogate_nas.pipelines.search.history import Trial
from surrogate_nas.pipelines.search.runner import run_search
from surrogate_nas.pipelines.search.strategies import (
    LocalSearch,
    RandomSearch,
    RegularizedEvolution,
    make_strategy,
    sample_unseen,
)
from surrogate_nas.tables import load_benchmark


@pytest.fixture(scope="module")
def evaluator():
    return TabularEvaluator(load_benchmark("nb201-cifar10"))


@pytest.mark.parametrize("name", ["rs", "rea", "ls"])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_strategy_never_repeats_a_canonical_key(evaluator, name, batch_size):
    trace = run_search(name, evaluator, budget=40, batch_size=batch_size, seed=3)
    keys = [t.key for t in trace.history]
    assert len(keys) == 40
    assert len(set(keys)) == 40


@pytest.mark.parametrize("strategy", [RandomSearch(seed=1), RegularizedEvolution(seed=1), LocalSearch(seed=1)])
def test_suggestions_avoid_evaluated_and_pending(evaluator, strategy):
    space = canonical_cells()
    history = tuple(
        Trial(c, o.value, o.objectives) for c, o in zip(space[:15], evaluator.evaluate(list(space[:15])))
    )
    pending = list(space[15:25])
    cells = strategy.suggest(8, history, pending)
    forbidden = {c.canonical_key for c in space[:25]}
    assert len(cells) == 8
    assert len({c.canonical_key for c in cells}) == 8
    assert not forbidden & {c.canonical_key for c in cells}


def test_sample_unseen_returns_rest_of_space_when_nearly_exhausted():
    space = canonical_cells()
    excluded = {c.canonical_key for c in space[:-3]}
    out = sample_unseen(5, excluded, np.random.default_rng(0))
    assert {c.canonical_key for c in out} == {c.canonical_key for c in space[-3:]}


def test_regularized_evolution_mutates_one_edge_of_the_population(evaluator):
    strategy = RegularizedEvolution(population_size=10, sample_size=5, seed=0)
    trace = run_search(strategy, evaluator, budget=30, seed=0)
    history = trace.history
    for i in range(10, 30):
        child = history[i].cell
        population = history[max(0, i - 10) : i]
        assert any(sum(a != b for a, b in zip(child.ops, p.cell.ops)) == 1 for p in population)


def test_local_search_starts_from_best_of_warm_start_and_walks_its_neighbourhood(evaluator):
    space = canonical_cells()
    initial = [Trial(c, o.value, o.objectives) for c, o in zip(space[100:110], evaluator.evaluate(list(space[100:110])))]
    best = max(initial, key=lambda t: t.value).cell
    cells = LocalSearch(seed=0).suggest(5, tuple(initial))
    assert all(sum(a != b for a, b in zip(c.ops, best.ops)) == 1 for c in cells)


def test_local_search_moves_to_an_improving_neighbour():
    centre = Cell(("nor_conv_3x3",) * 6)
    better = Cell(("skip_connect",) + ("nor_conv_3x3",) * 5)

    def value(cell):
        return 50.0 if cell == centre else (60.0 if cell.ops[0] == "skip_connect" else 49.0)

    ls = LocalSearch(seed=0)
    history = [Trial(centre, value(centre))]
    neighbourhood = {n.canonical_key for n in centre.neighbours()}
    while not neighbourhood <= {t.key for t in history}:
        history += [Trial(c, value(c)) for c in ls.suggest(4, tuple(history))]
    batch = ls.suggest(4, tuple(history))
    assert all(sum(a != b for a, b in zip(c.ops, better.ops)) == 1 for c in batch)


@pytest.mark.parametrize("bad", ["nope", "", "bo-rf"])
def test_unknown_strategy_name_is_an_input_error(bad):
    with pytest.raises(InputDataError, match="unknown search strategy"):
        make_strategy(bad)


@pytest.mark.parametrize("name", ["rea", "ls"])
def test_single_objective_strategies_refuse_two_objectives(name):
    with pytest.raises(InputDataError, match="single-objective"):
        make_strategy(name, objectives=["a", "b:min"])


def test_rea_validates_its_sizes():
    with pytest.raises(InputDataError, match="sample_size"):
        RegularizedEvolution(population_size=5, sample_size=8)
