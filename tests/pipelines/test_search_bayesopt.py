"""Bayesian optimisation: BoTorch surrogates and acquisitions over the cell space."""

import numpy as np
import pytest
import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms import Standardize
from gpytorch.mlls import ExactMarginalLogLikelihood

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
from surrogate_nas.pipelines.search.history import Suggestion, Trial
from surrogate_nas.pipelines.search.bo.surrogates import copula_transform
from surrogate_nas.pipelines.search.strategies.bayesopt import BayesianOptimization
from surrogate_nas.spaces import get_space
from surrogate_nas.spaces.nb201.cell import canonical_cells
from surrogate_nas.pipelines.search.bo.predictor_model import PredictorModel
from surrogate_nas.pipelines.search.pareto import pareto_mask
from surrogate_nas.pipelines.search.runner import run_search
from surrogate_nas.tables import load_benchmark

OBJECTIVES = ["cifar10_valid_acc_200ep", "params_mb_cifar10:min"]
SPACE = get_space("nb201")


def evaluated(evaluator, archs) -> list[Trial]:
    return [Trial(a, o.value, o.objectives) for a, o in zip(archs, evaluator.evaluate([Suggestion(a) for a in archs]))]


@pytest.fixture(scope="module")
def table():
    return load_benchmark("nb201-cifar10")


@pytest.fixture(scope="module")
def evaluator(table):
    return TabularEvaluator(table, OBJECTIVES)


def small_gp(X, y):
    """A user-supplied surrogate: any callable (X, y) -> BoTorch model."""
    model = SingleTaskGP(torch.as_tensor(X), torch.as_tensor(y)[:, None], outcome_transform=Standardize(1))
    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model), optimizer_kwargs={"options": {"maxiter": 20}})
    return model


@pytest.mark.parametrize("name", ["bo-gp", "bo-xgb"])
def test_bo_runs_without_repeats_and_reports_timings(evaluator, name):
    trace = run_search(name, evaluator, budget=14, batch_size=2, seed=0)
    f = trace.frame
    assert len(f) == 14
    assert f["canonical_key"].nunique() == 14
    modelled = trace.timings[trace.timings["fit_s"] > 0]
    assert len(modelled) >= 1
    assert (modelled["acq_s"] > 0).all()


@pytest.mark.parametrize("acquisition", ["logei", "ucb", "ts"])
def test_acquisitions_pick_distinct_unseen_cells(evaluator, acquisition):
    space = canonical_cells()
    history = evaluated(evaluator, list(space[::700]))
    pending = [Suggestion(c) for c in space[1:4]]
    bo = BayesianOptimization(SPACE, surrogate=small_gp, acquisition=acquisition, n_initial=4, seed=0)
    bo.tell(history)
    suggestions = bo.ask(3, pending)
    keys = {s.key for s in suggestions}
    assert len(keys) == 3
    assert not keys & ({t.key for t in history} | {p.key for p in pending})
    assert bo.last_timing["fit_s"] > 0


def test_pending_points_reach_the_acquisition(evaluator):
    """With identical models, asking with a suggestion pending must not return that suggestion's top pick."""
    history = evaluated(evaluator, list(canonical_cells()[::500]))
    first = BayesianOptimization(SPACE, surrogate=small_gp, n_initial=4, seed=0)
    first.tell(history)
    top = first.ask(1)[0]
    second = BayesianOptimization(SPACE, surrogate=small_gp, n_initial=4, seed=0)
    second.tell(history)
    assert second.ask(1, [top])[0].key != top.key


def test_predictor_model_posterior_is_the_predictors_independent_normal(table):
    from surrogate_nas.predictors.xgb import XGBEnsemble

    cells = list(canonical_cells()[:60])
    X = SPACE.features(cells, "onehot")
    y = np.array([table.lookup(c) for c in cells])
    predictor = XGBEnsemble().fit(X, y)
    model = PredictorModel(predictor)
    Xq = torch.as_tensor(X[:8]).reshape(2, 4, -1)
    post = model.posterior(Xq)
    mean, std = predictor.predict(X[:8])
    np.testing.assert_allclose(post.mean.reshape(-1).numpy(), mean, rtol=1e-6)
    np.testing.assert_allclose(post.variance.reshape(-1).numpy(), np.maximum(std, 1e-6) ** 2, rtol=1e-6)
    cov = post.distribution.covariance_matrix
    assert cov.shape == (2, 4, 4)
    assert torch.count_nonzero(cov - torch.diag_embed(torch.diagonal(cov, dim1=-2, dim2=-1))) == 0


def test_copula_transform_keeps_order_and_tames_outliers():
    y = np.array([10.0, 90.0, 91.0, 91.5, 89.0])
    z = copula_transform(y)
    assert list(np.argsort(z)) == list(np.argsort(y))
    assert z.max() - z.min() < 4


@pytest.mark.parametrize("surrogate", ["xgb", small_gp])
def test_multi_objective_bo_hypervolume_grows_and_front_is_non_dominated(evaluator, surrogate):
    bo = BayesianOptimization(SPACE, OBJECTIVES, surrogate=surrogate, n_initial=6, seed=0)
    trace = run_search(bo, evaluator, budget=12, batch_size=2, objectives=OBJECTIVES)
    hv = trace.frame["hypervolume"].to_numpy()
    assert np.all(np.diff(hv) >= -1e-9)
    assert trace.frame["canonical_key"].nunique() == 12
    front = trace.pareto_front()
    Y = np.column_stack([front[OBJECTIVES[0]], -front["params_mb_cifar10"]])
    assert pareto_mask(Y).all()


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"surrogate": "forest"}, "unknown surrogate"),
        ({"acquisition": "pi"}, "unknown acquisition"),
        ({"target_transform": "log"}, "unknown target transform"),
        ({"features": "pixels"}, "feature kind"),
        ({"n_initial": 1}, "n_initial"),
    ],
)
def test_bad_options_are_input_errors(kwargs, match):
    with pytest.raises(InputDataError, match=match):
        BayesianOptimization(SPACE, **kwargs)


def test_multi_objective_bo_infers_its_reference_point_from_its_history(evaluator):
    bo = BayesianOptimization(SPACE, OBJECTIVES, surrogate=small_gp, n_initial=2)
    bo.tell(evaluated(evaluator, list(canonical_cells()[::900])))
    assert bo.ref_point is None
    assert len(bo.ask(2)) == 2


def test_multi_objective_bo_never_waits_on_botorchs_kernel_compile(evaluator, tmp_path, monkeypatch):
    """A lock left by a process killed mid-compile would hang every later search: nothing compiles."""
    from botorch.acquisition.multi_objective import logei

    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    monkeypatch.setattr(logei, "_load_attempted", False)
    monkeypatch.setattr(logei, "_C", None)
    bo = BayesianOptimization(SPACE, OBJECTIVES, surrogate=small_gp, n_initial=2)
    bo.tell(evaluated(evaluator, list(canonical_cells()[::900])))
    assert len(bo.ask(2)) == 2
    assert logei._C is None and not any(tmp_path.iterdir())


def test_the_pinned_botorch_still_has_the_switch_that_skips_its_jit_kernel():
    """qLogNEHVI's loader checks this module flag; a BoTorch without it would compile a C++ kernel
    under a file lock on the first multi-objective step (see bo.acquisition._skip_jit_kernel)."""
    from botorch.acquisition.multi_objective import logei

    assert isinstance(logei._load_attempted, bool) and callable(logei._try_load_fused_kernel)


def test_log_h_is_botorchs_log_ei_far_into_both_tails():
    from botorch.acquisition.analytic import LogExpectedImprovement

    from surrogate_nas.pipelines.search.bo.constraints import log_h

    class Identity:  # mean x, standard deviation 1: BoTorch's log-EI at best_f = 0 is log_h(x)
        def predict(self, X):
            return X[:, 0], np.ones(len(X))

    u = torch.cat([-torch.logspace(-3, 8, 200, dtype=torch.float64), torch.logspace(-3, 3, 100, dtype=torch.float64)])
    with torch.no_grad():
        expected = LogExpectedImprovement(PredictorModel(Identity()), best_f=0.0)(u.reshape(-1, 1, 1))
    assert torch.allclose(log_h(u), expected, rtol=1e-12, atol=0)
