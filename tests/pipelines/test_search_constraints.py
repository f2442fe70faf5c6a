"""Constraints: known ones restrict the space, modelled ones go to BoTorch, "best" means best feasible."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.constraints import Constraint, ConstraintSet, FeasibleSpace, split_constraint
from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
from surrogate_nas.pipelines.search.history import Suggestion, Trial
from surrogate_nas.pipelines.search.runner import run_search
from surrogate_nas.pipelines.search.strategies import make_strategy
from surrogate_nas.pipelines.search.bo.acquisition import mc_acquisition
from surrogate_nas.pipelines.search.bo.constraints import acquisition_options, probability_feasible
from surrogate_nas.pipelines.search.bo.surrogates import make_surrogate
from surrogate_nas.spaces.nb201.cell import canonical_cells
from surrogate_nas.tables import load_benchmark

TARGET, LATENCY, TRAIN_TIME = "cifar10_valid_acc_200ep", "lat_ms_pixel3", "train_time_s_cifar10"


@pytest.fixture(scope="module")
def table():
    return load_benchmark("nb201-cifar10")


@pytest.fixture(scope="module")
def fast(table):
    """A pixel3 latency bound at the table's median: known without training."""
    return Constraint(LATENCY, float(np.median(table.frame[LATENCY])))


@pytest.fixture(scope="module")
def short(table):
    """A training-time bound at the 30th percentile: not known without training, so modelled."""
    return Constraint(TRAIN_TIME, float(np.quantile(table.frame[TRAIN_TIME], 0.3)))


@pytest.fixture(scope="module")
def evaluator(table):
    return TabularEvaluator(table, [LATENCY, TRAIN_TIME, "params_mb_cifar10"])


def test_constraint_syntax():
    assert split_constraint("latency@pixel3<=5") == ("latency@pixel3", True, 5.0)
    assert split_constraint(" params >= 0.25 ") == ("params", False, 0.25)
    for bad in ("latency@pixel3<5", "params<=abc", "<=5", "params<=inf", "a<=1<=2"):
        with pytest.raises(InputDataError) as excinfo:
            split_constraint(bad)
        assert "\n" not in str(excinfo.value)
    c = Constraint("x", 2.0)
    assert c.slack([1.0, 3.0, np.nan]).tolist() == [1.0, -1.0, -np.inf] and str(c) == "x<=2"


def test_known_constraints_restrict_the_space(evaluator, fast):
    cset = ConstraintSet((fast,), evaluator.known())
    assert [c.name for c in cset.known_constraints] == [LATENCY] and not cset.modelled
    space = cset.restrict(evaluator.space)
    assert isinstance(space, FeasibleSpace) and space.name == "nb201"
    listed = space.enumerate()
    assert 0.3 * 6466 < len(listed) < 0.7 * 6466
    assert cset.known_mask(listed).all()
    rng = np.random.default_rng(0)
    drawn = space.sample_unseen(50, rng) + space.neighbours(listed[0]) + [space.mutate(listed[1], rng)]
    assert cset.known_mask(drawn).all()
    impossible = ConstraintSet((Constraint(LATENCY, 0.0),), evaluator.known())
    with pytest.raises(InputDataError, match="no architecture of the nb201 space satisfies"):
        impossible.restrict(evaluator.space)


@pytest.mark.parametrize("name", ["rs", "rea", "ls"])
def test_baselines_never_evaluate_what_a_known_constraint_rules_out(evaluator, fast, table, name):
    trace = run_search(name, evaluator, budget=30, seed=1, constraints=[fast])
    f = trace.frame
    assert f["feasible"].all() and (f[LATENCY] <= fast.bound).all()
    optimum = evaluator.optimum_under(ConstraintSet((fast,)))
    assert optimum < table.optimum
    assert np.allclose(f["regret"], optimum - f["best_so_far"]) and (f["regret"] >= 0).all()


def test_modelled_constraints_are_recorded_and_best_means_best_feasible(evaluator, short):
    trace = run_search("rs", evaluator, budget=40, seed=0, constraints=[short],
                       objectives=[TARGET, "params_mb_cifar10:min"])
    f = trace.frame
    assert f["feasible"].tolist() == (f[TRAIN_TIME] <= short.bound).tolist()
    assert 0 < f["feasible"].sum() < len(f)
    feasible_values = f.loc[f["feasible"], "value"]
    assert trace.best.value == feasible_values.max() and trace.best.objectives[TRAIN_TIME] <= short.bound
    assert f["best_so_far"].iloc[-1] == feasible_values.max()
    front = trace.pareto_front()
    assert set(front["arch"]) <= set(f.loc[f["feasible"], "arch"])


def test_bo_models_an_unknown_constraint_and_picks_more_feasible_cells_than_random(evaluator, short):
    """The 30th-percentile bound rules out 70% of the space; BO's modelled picks beat random search's."""
    cset = ConstraintSet((short,), evaluator.known())
    assert cset.modelled == (short,)
    rates = {}
    for name in ("bo-gp", "rs"):
        picked = []
        for seed in range(3):
            options = {"n_initial": 8} if name == "bo-gp" else {}
            strategy = make_strategy(name, evaluator.space, seed=seed, constraints=cset, **options)
            trace = run_search(strategy, evaluator, budget=24, batch_size=4, constraints=cset)
            picked.append(trace.frame.iloc[8:]["feasible"].mean())
        rates[name] = np.mean(picked)
    assert rates["bo-gp"] > max(rates["rs"], 0.3) + 0.05, rates
    strategy = make_strategy("bo-gp", evaluator.space, seed=0, constraints=cset, n_initial=8)
    run_search(strategy, evaluator, budget=12, batch_size=4, constraints=cset)
    X = strategy.featurize([t.arch for t in strategy.history])
    model = make_surrogate("xgb").fit(X.numpy(), strategy.step.targets(strategy.history), None, None)
    acq = mc_acquisition(model, X, objectives=1, constraints=cset, mc_samples=32, rng=np.random.default_rng(0))
    assert len(acq._constraints) == 1


def test_bo_refuses_acquisitions_that_cannot_take_constraints(evaluator, short):
    cset = ConstraintSet((short,), evaluator.known())
    with pytest.raises(InputDataError, match="logei"):
        make_strategy("bo", evaluator.space, seed=0, constraints=cset, acquisition="ucb")


def test_botorch_conventions_of_the_constraint_outputs():
    cset = ConstraintSet((Constraint("a", 1.0), Constraint("b", 0.0, upper=False)))
    single = acquisition_options(cset, 1, multi=False)
    Y = torch.tensor([[[5.0, 0.5, -2.0]]])  # objective, slack of a, slack of b
    assert single["objective"](Y).item() == 5.0
    assert [c(Y).item() for c in single["constraints"]] == [-0.5, 2.0]  # <= 0 means feasible
    multi = acquisition_options(cset, 2, multi=True)
    assert multi["objective"](torch.ones(1, 1, 4)).shape[-1] == 2 and len(multi["constraints"]) == 2
    assert acquisition_options(ConstraintSet(), 1, multi=False) == {}
    p = probability_feasible(torch.tensor([[0.0, 10.0], [-10.0, 10.0]]), torch.ones(2, 2))
    assert p[0].item() == pytest.approx(0.5) and p[1].item() < 1e-6
    trials = [Trial(a, 1.0, {"a": v, "b": w}) for a, v, w in
              zip(canonical_cells()[:3], [0.5, 2.0, 0.1], [1.0, 1.0, -1.0])]
    assert cset.feasible(trials).tolist() == [True, False, False]


def test_evaluators_must_report_constrained_quantities(table):
    with pytest.raises(InputDataError, match="constrained quantity 'lat_ms_pixel3' is not reported"):
        run_search("rs", TabularEvaluator(table), budget=3, constraints=[Constraint(LATENCY, 5.0)])
    ev = TabularEvaluator(table, [LATENCY])
    assert ev.optimum_under(ConstraintSet((Constraint(LATENCY, -1.0),))) is None
    obs = ev.evaluate([Suggestion(ev.space.enumerate()[0])])[0]
    assert LATENCY in obs.objectives
