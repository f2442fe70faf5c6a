"""Search strategies: the ask/tell contract (:func:`surrogate_nas.testing.check_strategy`) of every named
strategy on every named space and a space of choices, and each strategy's own moves."""

import inspect

import numpy as np
import pytest

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
from surrogate_nas.pipelines.search.history import Objective, Suggestion, Trial
from surrogate_nas.pipelines.search.runner import run_search
from surrogate_nas.pipelines.search.strategies import STRATEGY_PLUGINS, make_strategy
from surrogate_nas.pipelines.search.strategies.evolution import RegularizedEvolution
from surrogate_nas.pipelines.search.strategies.local import LocalSearch
from surrogate_nas.spaces import SPACE_PLUGINS, ChoiceSpace, get_space
from surrogate_nas.spaces.nb201.cell import Cell, canonical_cells
from surrogate_nas.tables import load_benchmark
from surrogate_nas.testing import check_strategy

FAST_BO = {"n_initial": 4, "pool_size": 200, "shortlist": 32, "mc_samples": 32,
           "surrogate_options": {"maxiter": 20}}

CHOICE_SPACE = ChoiceSpace({"depth": [1, 2, 3, 4], "width": [8, 16, 32], "op": ["conv", "pool", "skip"]},
                           name="choices-test")


def fast_options(name: str) -> dict:
    if not name.startswith(("bo", "mf-bo")):
        return {}
    options = dict(FAST_BO)
    if name == "bo-xgb":
        options["surrogate_options"] = {"n_members": 2, "n_estimators": 30}
    return options


@pytest.fixture(scope="module")
def evaluator():
    return TabularEvaluator(load_benchmark("nb201-cifar10"))


def distinct_strategies() -> list[str]:
    """Every named strategy once: a name whose presets only spell out its class's defaults (``bo-gp``
    is ``bo``) names the same strategy, and its contract would be run twice."""
    seen: dict = {}
    for name in sorted(STRATEGY_PLUGINS.names()):
        spec = STRATEGY_PLUGINS.resolve(name)
        defaults = {k: p.default for k, p in inspect.signature(spec.load()).parameters.items()
                    if p.default is not inspect.Parameter.empty}
        seen.setdefault((spec.path, repr(sorted({**defaults, **spec.options}.items()))), name)
    return sorted(seen.values())


def test_bo_gp_is_bo_with_its_default_surrogate():
    assert "bo-gp" not in distinct_strategies() and {"bo", "bo-xgb"} <= set(distinct_strategies())


@pytest.mark.parametrize("space_name", [*sorted(SPACE_PLUGINS.names()), CHOICE_SPACE.name])
@pytest.mark.parametrize("name", distinct_strategies())
def test_every_strategy_keeps_the_ask_tell_contract_on_every_space(name, space_name):
    """Distinct members of the space, never an evaluation already done or pending, the same suggestions for
    the same seed; multi-fidelity strategies stay on the offered fidelities, the others evaluate in full."""
    space = CHOICE_SPACE if space_name == CHOICE_SPACE.name else get_space(space_name)
    check_strategy(name, space, **fast_options(name))


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
