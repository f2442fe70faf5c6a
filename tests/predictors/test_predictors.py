"""The predictor contract (run over every registered predictor) and each predictor's own behaviour."""

import numpy as np
import pytest
import torch

from surrogate_nas.errors import InputDataError, NotFittedError
from surrogate_nas.predictors.base import clone
from surrogate_nas.predictors.baselines import MeanPredictor, ProxyPredictor
from surrogate_nas.predictors.forest import RandomForestPredictor
from surrogate_nas.predictors.gp import GPPredictor
from surrogate_nas.predictors.metrics import kendall_tau
from surrogate_nas.predictors.registry import PREDICTORS, make_predictor
from surrogate_nas.predictors.xgb import XGBEnsemble
from surrogate_nas.spaces import get_space
from surrogate_nas.tables import load_benchmark

SPACE = get_space("nb201")


def featurize(cells, kind):
    return SPACE.features(cells, kind)


FAST = {
    "xgb": lambda: XGBEnsemble(n_members=3, n_estimators=60),
    "gp": lambda: GPPredictor(maxiter=30),
    "gp-onehot": lambda: GPPredictor(onehot_columns=2, maxiter=30),
    "rf": lambda: RandomForestPredictor(n_estimators=30),
    "proxy": lambda: ProxyPredictor(column=0),
    "mean": MeanPredictor,
}


@pytest.fixture(scope="module")
def nb201():
    table = load_benchmark("nb201-cifar10")
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(table.frame))[:300]
    cells = [table.architectures()[i] for i in idx]
    return cells, table.values()[idx]


@pytest.mark.parametrize("name", sorted(PREDICTORS))
def test_every_registered_predictor_keeps_the_contract(nb201, name):
    """scikit-learn's estimator contract on the space's own features, for each registry entry."""
    cells, y = nb201
    kind, predictor = make_predictor(name, SPACE)
    X = featurize(cells[:40], kind)
    params = predictor.get_params()
    with pytest.raises(NotFittedError):
        predictor.predict(X)
    state = torch.get_rng_state()
    assert predictor.fit(X, y[:40]) is predictor
    assert torch.equal(state, torch.get_rng_state()), "fitting must not touch torch's global random state"
    mean, std = predictor.predict(X[:7])
    assert mean.shape == (7,) and std.shape == (7,) and np.all(std >= 0) and np.all(np.isfinite(mean))
    with pytest.raises(InputDataError, match=f"fitted on {X.shape[1]} features"):
        predictor.predict(X[:, :-1])
    fresh = clone(predictor)
    assert fresh.get_params() == params and not hasattr(fresh, "n_features_in_")
    if "random_state" in params:
        assert fresh.set_params(random_state=7).random_state == 7
    with pytest.raises(InputDataError, match="no parameter"):
        fresh.set_params(nonsense=1)


@pytest.mark.parametrize("name", sorted(FAST))
def test_contract(name):
    rng = np.random.default_rng(1)
    X = rng.random((40, 4))
    y = X[:, 0] * 3 + rng.normal(scale=0.05, size=40)
    predictor = FAST[name]()
    with pytest.raises(NotFittedError):
        predictor.predict(X)
    assert predictor.fit(X, y) is predictor
    mean, std = predictor.predict(X[:7])
    assert mean.shape == (7,) and std.shape == (7,)
    assert np.all(std >= 0) and np.all(np.isfinite(mean))
    with pytest.raises(InputDataError, match="fitted on 4 features"):
        predictor.predict(X[:, :3])


@pytest.mark.parametrize("name", ["xgb", "gp", "gp-onehot", "rf"])
def test_learned_predictors_rank_nb201_architectures(nb201, name):
    cells, y = nb201
    if name == "gp-onehot":
        X, predictor = featurize(cells, "onehot"), GPPredictor(onehot_columns=30, maxiter=30)
    else:
        X, predictor = featurize(cells, "liveops+cost"), FAST[name]()
    predictor.fit(X[:150], y[:150])
    mean, _ = predictor.predict(X[150:])
    assert kendall_tau(y[150:], mean) > 0.45


def test_gp_exposes_botorch_model_and_noise_choice(nb201):
    import torch
    from botorch.models import SingleTaskGP

    cells, y = nb201
    X = featurize(cells[:60], "liveops+cost")
    gp = GPPredictor(maxiter=30).fit(X, y[:60])
    assert isinstance(gp.model_, SingleTaskGP)
    post = gp.model_.posterior(torch.tensor(X[:5]))
    assert np.allclose(post.mean.detach().numpy().ravel(), gp.predict(X[:5])[0], atol=1e-6)
    latent = GPPredictor(maxiter=30, observation_noise=False).fit(X, y[:60])
    assert np.all(gp.predict(X)[1] > latent.predict(X)[1])


def test_xgb_ensemble_spread_grows_away_from_data():
    rng = np.random.default_rng(0)
    X = rng.random((80, 2))
    y = np.sin(6 * X[:, 0])
    model = XGBEnsemble(n_members=4, n_estimators=60).fit(X, y)
    _, std = model.predict(X)
    assert std.mean() > 0


def test_proxy_predictor_ranks_by_its_column():
    X = np.array([[1.0, 5.0], [2.0, 3.0], [3.0, 1.0]])
    mean, std = ProxyPredictor(column=1).fit(X, [3.0, 2.0, 1.0]).predict(X)
    assert np.argsort(mean).tolist() == [2, 1, 0]
    assert np.allclose(mean, [3.0, 2.0, 1.0]) and np.allclose(std, 0.0)
    with pytest.raises(InputDataError, match="out of range"):
        ProxyPredictor(column=5).fit(X, [1.0, 2.0, 3.0])


def test_mean_predictor_predicts_training_mean():
    mean, std = MeanPredictor().fit(np.zeros((3, 1)), [1.0, 2.0, 6.0]).predict(np.zeros((2, 1)))
    assert mean.tolist() == [3.0, 3.0] and std[0] == pytest.approx(np.std([1, 2, 6], ddof=1))


def test_registry_builds_fresh_predictors():
    assert make_predictor("xgb", SPACE)[1] is not make_predictor("xgb", SPACE)[1]
    assert make_predictor("gp-onehot", SPACE)[1].onehot_columns == 30


def test_registry_rejects_unknown_name_listing_choices():
    with pytest.raises(InputDataError, match="expected one of .*xgb"):
        make_predictor("nope", SPACE)
