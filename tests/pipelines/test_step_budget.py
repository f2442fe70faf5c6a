"""Budgeted BO steps: the plan (from counts), the GP kept between steps, the joint posterior, progress and notices."""

import time

import numpy as np
import pytest
import torch
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.sampling.normal import SobolQMCNormalSampler

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
from surrogate_nas.pipelines.search.history import Suggestion, Trial
from surrogate_nas.pipelines.search.bo.candidates import CandidatePool
from surrogate_nas.pipelines.search.bo.joint_posterior import JointPosteriorModel, marginal_posterior
from surrogate_nas.pipelines.search.runner import run_search
from surrogate_nas.pipelines.search.bo.budget import (
    FULL_ITERATIONS, MIN_SCREENED, MIN_SHORTLIST, CostModel, RefitState, plan_step,
)
from surrogate_nas.pipelines.search.strategies.base import Strategy
from surrogate_nas.pipelines.search.bo.surrogates import copula_transform
from surrogate_nas.pipelines.search.strategies.bayesopt import BayesianOptimization
from surrogate_nas.predictors.gp import GPPredictor
from surrogate_nas.predictors.gp_online import condition_gp, subset_rows
from surrogate_nas.tables import load_benchmark

FAST = CostModel(fit=1e-9, post=1e-12, acq=1e-9, acq_mo=1e-9)
SLOW = CostModel(fit=1.0, post=1e-3, acq=1.0, acq_mo=1.0)


@pytest.fixture(scope="module")
def table():
    return load_benchmark("nb201-cifar10")


@pytest.fixture(scope="module")
def data(table):
    """Features and copula targets of 300 random NB-201 cells."""
    space = table.search_space()
    cells = space.sample_unseen(300, np.random.default_rng(0))
    X = space.features(cells, "default")
    return X, copula_transform(np.array([table.lookup(c) for c in cells]))


def test_without_a_budget_or_when_it_is_cheap_the_step_is_the_classic_one():
    for budget, costs in ((None, SLOW), (3.0, FAST)):
        plan = plan_step(2000, 5000, budget, RefitState(), max_shortlist=256, costs=costs)
        assert plan.refit and plan.fit_points == plan.model_points == 2000
        assert plan.iterations == FULL_ITERATIONS and plan.shortlist == 256 and plan.screened == 5000


def test_a_slow_step_conditions_on_a_subset_refits_on_fewer_rows_and_shortens_the_shortlist():
    plan = plan_step(2000, 5000, 3.0, RefitState(), max_shortlist=256, costs=SLOW)
    assert plan.refit and plan.fit_points < 2000 and plan.model_points < 2000 and plan.shortlist == MIN_SHORTLIST
    assert plan.screened == MIN_SCREENED
    kept = plan_step(2004, 5000, 3.0, RefitState(2000, 0), max_shortlist=256, refit_every=5, costs=SLOW)
    assert not kept.refit, "hyperparameters fitted one step ago are kept"
    due = plan_step(2004, 5000, 3.0, RefitState(2000, 4), max_shortlist=256, refit_every=5, costs=SLOW)
    grown = plan_step(2300, 5000, 3.0, RefitState(2000, 0), max_shortlist=256, refit_every=5, costs=SLOW)
    assert due.refit and grown.refit, "a refit is due every refit_every steps, or once the data grew by a tenth"
    assert "of 2,004 points" in kept.describe(2004, 5000) and "kept" in kept.describe(2004, 5000)
    assert "1,000 of 5,000 candidates screened" in kept.describe(2004, 5000)


def test_the_candidates_screened_stop_growing_with_the_table_and_three_objectives_cost_what_two_do():
    small, large, huge = (plan_step(100, c, 3.0, RefitState()) for c in (6_466, 62_208, 1_000_000))
    assert small.screened == 6_466, "NAS-Bench-201's cells are all screened"
    assert large.screened == huge.screened < 62_208, "past a size, a step screens a fixed number of candidates"
    assert small.predicted_s <= large.predicted_s <= 0.8 * 3.0
    two, three = (plan_step(100, 6_466, 3.0, RefitState(), objectives=m) for m in (2, 3))
    assert three.mc_samples < two.mc_samples, "partitioning a 3-D front per sample is dear: fewer samples"
    assert three.predicted_s <= 0.8 * 3.0 and three.predicted_s < 1.5 * two.predicted_s


def test_bad_budgets_are_input_errors():
    with pytest.raises(InputDataError, match="budget"):
        plan_step(10, 10, 0.0, RefitState())
    with pytest.raises(InputDataError, match="refit_every"):
        plan_step(10, 10, 3.0, RefitState(), refit_every=0)
    with pytest.raises(InputDataError, match="step_seconds"):
        BayesianOptimization("nb201", step_seconds=-1)


def test_subset_rows_keep_the_best_half_and_a_random_half():
    Y = np.arange(100.0)[:, None]
    rows = subset_rows(Y, 20, np.random.default_rng(0))
    assert len(rows) == 20 and list(rows) == sorted(rows)
    assert set(range(90, 100)) <= set(rows), "the ten best rows are always in"
    assert list(subset_rows(Y, 200, np.random.default_rng(0))) == list(range(100))
    with pytest.raises(InputDataError):
        subset_rows(Y, 0, np.random.default_rng(0))


def test_conditioning_keeps_the_hyperparameters_and_follows_the_new_data(data):
    X, y = data
    template = GPPredictor(target_transform="none").fit(X[:150], y[:150]).model_
    same = condition_gp(template, X[:150], y[:150])
    with torch.no_grad():
        a = template.posterior(torch.as_tensor(X[150:])).mean
        b = same.posterior(torch.as_tensor(X[150:])).mean
    assert torch.allclose(a, b, atol=1e-6), "conditioning on the template's own data is the template"
    more = condition_gp(template, X, y)
    mean_seen = marginal_posterior(more, torch.as_tensor(X[150:]))[0][:, 0].numpy()
    mean_unseen = marginal_posterior(template, torch.as_tensor(X[150:]))[0][:, 0].numpy()
    err_more, err_template = np.abs(mean_seen - y[150:]).mean(), np.abs(mean_unseen - y[150:]).mean()
    assert err_more < 0.85 * err_template, "the new rows move the posterior towards their values"
    with pytest.raises(InputDataError):
        condition_gp(template, X[:, :3], y)


def test_a_warm_started_fit_starts_from_the_previous_hyperparameters(data):
    X, y = data
    full = GPPredictor(target_transform="none").fit(X, y)
    warm = GPPredictor(target_transform="none").fit(X, y).set_params(warm_start=True, maxiter=1).fit(X, y)
    cold = GPPredictor(target_transform="none", maxiter=1).fit(X, y)

    def lengthscales(p):
        return torch.cat([v.flatten() for k, v in p.model_.state_dict().items() if "raw_lengthscale" in k])

    ref = lengthscales(full)
    finite = torch.isfinite(ref)  # a constant feature's lengthscale is infinite in every fit
    gap_warm, gap_cold = [(lengthscales(p) - ref)[finite].abs().max() for p in (warm, cold)]
    assert gap_warm < 0.5 * gap_cold


def test_the_joint_posterior_gives_the_models_acquisition_values(data):
    X, y = data
    model = GPPredictor(target_transform="none").fit(X[:100], y[:100]).model_
    shortlist, baseline = torch.as_tensor(X[100:140]), torch.as_tensor(X[:30])
    joint = JointPosteriorModel(model, torch.cat([shortlist, baseline]))
    values = []
    for m in (model, joint):
        acq = qLogNoisyExpectedImprovement(m, X_baseline=baseline, prune_baseline=False, cache_root=False,
                                           sampler=SobolQMCNormalSampler(torch.Size([64]), seed=3))
        with torch.no_grad():
            values.append(acq(shortlist.unsqueeze(-2)))
    assert torch.allclose(values[0], values[1], atol=1e-4)
    outside = torch.as_tensor(X[200:203])  # BoTorch's constrained EI asks about random points now and then
    with torch.no_grad():
        assert torch.allclose(joint.posterior(outside).mean, model.posterior(outside).mean)


def test_constrained_noisy_ei_on_the_joint_posterior_with_no_feasible_baseline_point(data):
    """With every baseline sample infeasible, BoTorch estimates an infeasible cost at random points
    of the baseline's bounding box: the joint posterior answers them through the model (it used to
    stop the search with an error, whenever a step drew that case)."""
    from botorch.acquisition.objective import GenericMCObjective
    from botorch.models.model_list_gp_regression import ModelListGP

    X, y = data
    slack = -1.0 - np.abs(y[:60])  # every evaluated point breaks the constraint
    model = ModelListGP(*[GPPredictor(target_transform="none").fit(X[:60], t).model_ for t in (y[:60], slack)])
    shortlist, baseline = torch.as_tensor(X[100:120]), torch.as_tensor(X[:60])
    joint = JointPosteriorModel(model, torch.cat([shortlist, baseline]))
    values = []
    for m in (model, joint):
        torch.manual_seed(0)
        acq = qLogNoisyExpectedImprovement(m, X_baseline=baseline, prune_baseline=False, cache_root=False,
                                           sampler=SobolQMCNormalSampler(torch.Size([32]), seed=3),
                                           objective=GenericMCObjective(lambda Y, X=None: Y[..., 0]),
                                           constraints=[lambda Y: -Y[..., 1]])
        with torch.no_grad():
            values.append(acq(shortlist.unsqueeze(-2)))
    assert torch.isfinite(values[1]).all()
    assert torch.allclose(values[0], values[1], atol=1e-3)


def test_a_tight_budget_still_suggests_new_cells_and_says_what_it_does(table):
    evaluator = TabularEvaluator(table)
    space = evaluator.space
    archs = space.sample_unseen(120, np.random.default_rng(1))
    told = [Trial(a, o.value, o.objectives) for a, o in zip(archs, evaluator.evaluate([Suggestion(a) for a in archs]))]
    lines = []
    bo = BayesianOptimization(space, seed=0, step_seconds=0.01)
    bo.progress = lines.append
    bo.tell(told)
    picks = bo.ask(4)
    keys = {s.arch.canonical_key for s in picks}
    assert len(keys) == 4 and not keys & {t.key for t in told}
    assert bo.last_plan.shortlist == MIN_SHORTLIST and bo.last_plan.fit_points < 120
    assert bo.last_plan.screened == MIN_SCREENED
    assert any("hyperparameters" in line for line in lines) and any("shortlisted" in line for line in lines)
    assert "120 points" in bo.last_activity
    classic = BayesianOptimization(space, seed=0, step_seconds=None)
    classic.tell(told)
    classic.ask(4)
    assert classic.last_plan.fit_points == classic.last_plan.model_points == 120


class _SlowThirdStep(Strategy):
    """Random suggestions; the third step takes 1.2 s (a step that suddenly slows down)."""

    name = "slow-third"

    def ask(self, n, pending=()):
        if len(self.history) == 4:
            time.sleep(1.2)
            self.last_activity = "pretending to fit a large model"
        return self.fresh(n, self.taken_keys(pending))


def test_a_step_much_slower_than_the_one_before_is_noticed(table):
    evaluator = TabularEvaluator(table)
    notices = []
    run_search(_SlowThirdStep(evaluator.space), evaluator, budget=8, batch_size=2, on_notice=notices.append)
    assert len(notices) == 1 and notices[0].startswith("step 3: choosing took")
    assert "pretending to fit a large model" in notices[0]


def test_a_listed_pool_is_featurised_once_before_the_first_step_and_its_subsets_start_with_the_neighbours(table):
    space = table.search_space()
    featurised = []

    def featurize(archs):
        featurised.append(len(archs))
        return torch.as_tensor(space.features(list(archs), "onehot"))

    pool = CandidatePool(space, featurize)
    pool.prepare()
    assert featurised == [6466], "the whole table is featurised in prepare(), not in a step"
    listed = space.enumerate()
    best = [Trial(a, 0.0) for a in listed[:2]]
    taken = {t.key for t in best}
    assert pool.count(best, taken) == 6464
    archs, X = pool.draw(best, taken, 500, np.random.default_rng(0))
    again, _ = pool.draw(best, taken, 500, np.random.default_rng(0))
    keys = [a.canonical_key for a in archs]
    assert featurised == [6466] and len(archs) == 500 and X.shape[0] == 500
    assert keys == [a.canonical_key for a in again] and not taken & set(keys) and len(set(keys)) == 500
    near = {n.canonical_key for t in best for n in space.neighbours(t.arch)} - taken
    assert near <= set(keys), "the untried neighbours of the best trials are always in the subset"
    position = {a.canonical_key: i for i, a in enumerate(listed)}
    assert [position[k] for k in keys] == sorted(position[k] for k in keys), "a subset keeps the table's order"
    assert torch.equal(X, featurize(archs))


def test_a_known_output_answers_its_exact_value_and_the_nearest_known_row_elsewhere():
    from surrogate_nas.pipelines.search.bo.known import EXACT_VARIANCE, KnownOutputModel, with_known_outputs

    rows = torch.tensor([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], dtype=torch.float64)
    known = KnownOutputModel.of(rows, [-3.0, -1.0, -2.0])
    post = known.posterior(rows[[2, 0]].unsqueeze(0))
    assert post.mean.reshape(-1).tolist() == [-2.0, -3.0]
    assert torch.allclose(post.variance, torch.full_like(post.variance, EXACT_VARIANCE))
    assert known.values_at(torch.tensor([[1.9, 2.2]], dtype=torch.float64)).tolist() == [-2.0]
    gp = GPPredictor().fit(rows.numpy(), np.array([0.1, 0.5, 0.9])).model_
    both = with_known_outputs(gp, {1: known}, 2)
    mean, sigma = marginal_posterior(both, rows)
    assert mean[:, 1].tolist() == [-3.0, -1.0, -2.0] and float(sigma[:, 1].max()) < 1e-4


def test_bo_models_only_the_objectives_the_table_does_not_know(table):
    objectives = ["cifar10_valid_acc_200ep", "lat_ms_pixel3:min"]
    runs = {}
    for exact in (True, False):
        evaluator = TabularEvaluator(table, objectives)
        bo = BayesianOptimization(table.search_space(), objectives, seed=0, exact_objectives=exact)
        trace = run_search(bo, evaluator, budget=16, batch_size=4, objectives=objectives)
        runs[exact] = (bo, trace)
    exact_bo, modelled_bo = runs[True][0], runs[False][0]
    assert set(exact_bo.step.known) == {1} and modelled_bo.step.known == {}
    assert len(exact_bo.step.surrogate.cache.gps) == 1 and len(modelled_bo.step.surrogate.cache.gps) == 2
    archs = table.search_space().enumerate()[:5]
    latency = table.frame.set_index("arch").loc[[a.to_string() for a in archs], "lat_ms_pixel3"].to_numpy()
    assert np.allclose(exact_bo.step.known[1](archs), -latency), "known values in 'maximise everything' units"
    assert exact_bo.last_activity.endswith("; lat_ms_pixel3 known exactly") and "known" not in modelled_bo.last_activity
