"""The predictor contract (run over every registered predictor) and each predictor's own behaviour."""

import numpy as np
import pytest
import torch

from surrogate_nas.errors import FitError, InputDataError
from surrogate_nas.predictors.base import clone
from surrogate_nas.predictors.baselines import MeanPredictor, ProxyPredictor
from surrogate_nas.predictors.ensemble import GPXGBEnsemble
from surrogate_nas.predictors.forest import RandomForestPredictor
from surrogate_nas.predictors.gnn import GraphNetPredictor
from surrogate_nas.predictors.gp import GPPredictor
from surrogate_nas.predictors.metrics import coverage, kendall_tau
from surrogate_nas.predictors.registry import ALL, PREDICTOR_PLUGINS, PREDICTORS, expand_names, make_predictor
from surrogate_nas.predictors.warping import CopulaWarp
from surrogate_nas.predictors.xgb import XGBEnsemble
from surrogate_nas.spaces import get_space
from surrogate_nas.tables import load_benchmark
from surrogate_nas.testing import check_predictor

SPACE = get_space("nb201")


def featurize(cells, kind):
    return SPACE.features(cells, kind)


FAST = {
    "xgb": lambda: XGBEnsemble(n_members=3, n_estimators=60),
    "gp": lambda: GPPredictor(maxiter=30),
    "gp-onehot": lambda: GPPredictor(onehot_columns=2, maxiter=30),
    "rf": lambda: RandomForestPredictor(n_estimators=30),
    "gp+xgb": lambda: GPXGBEnsemble(onehot_columns=1, maxiter=30, xgb_estimators=60),
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


@pytest.mark.parametrize("name", sorted(PREDICTOR_PLUGINS.names()))
def test_every_named_predictor_keeps_the_contract(nb201, name):
    """scikit-learn's estimator contract (:func:`surrogate_nas.testing.check_predictor`) on the space's own
    features, for every named predictor."""
    cells, y = nb201
    kind, predictor = make_predictor(name, SPACE)
    if "epochs" in predictor.get_params():
        predictor.set_params(epochs=30)  # the contract does not depend on how long a network trains
    check_predictor(predictor, featurize(cells[:40], kind), y[:40])


@pytest.mark.parametrize("name", sorted(FAST))
def test_contract(name):
    check_predictor(FAST[name]())


def test_the_check_names_the_broken_rule():
    class Touchy(MeanPredictor):
        """Predicts the mean, but draws from torch's global generator while fitting."""

        def _fit(self, X, y):
            torch.rand(1)
            super()._fit(X, y)

    with pytest.raises(AssertionError, match="Touchy: fitting does not touch torch's global random state"):
        check_predictor(Touchy())


@pytest.mark.parametrize("name", ["xgb", "gp", "gp-onehot", "rf", "gp+xgb", "gnn"])
def test_learned_predictors_rank_nb201_architectures(nb201, name):
    cells, y = nb201
    if name == "gp-onehot":
        X, predictor = featurize(cells, "onehot"), GPPredictor(onehot_columns=30, maxiter=30)
    elif name == "gp+xgb":
        X, predictor = featurize(cells, "onehot+liveops+cost"), GPXGBEnsemble(onehot_columns=30, maxiter=30)
    elif name == "gnn":
        X, predictor = featurize(cells, "dag+liveops+cost"), GraphNetPredictor(n_nodes=8, n_node_types=7, epochs=100)
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
    post = gp.model_.posterior(torch.tensor(X[:5]))  # in copula scores, mapped back by predict
    assert np.allclose(gp.warp_.values(post.mean.detach().numpy().ravel()), gp.predict(X[:5])[0], atol=1e-6)
    plain = GPPredictor(maxiter=30, target_transform="none").fit(X, y[:60])
    post = plain.model_.posterior(torch.tensor(X[:5]))
    assert np.allclose(post.mean.detach().numpy().ravel(), plain.predict(X[:5])[0], atol=1e-6)
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
    assert make_predictor("gp+xgb", SPACE)[1].onehot_columns == 30


@pytest.mark.parametrize("space_name", ["nb201", "nb101", "darts"])
def test_graph_network_reads_the_dag_layout_of_every_space(space_name):
    space = get_space(space_name)
    kind, predictor = make_predictor("gnn", space)
    archs = space.sample_unseen(12, np.random.default_rng(0))
    X = space.features(archs, kind.replace("default", "cost"))
    y = X[:, -1]  # log FLOPs: a function of the graph
    mean, std = predictor.set_params(members=1, epochs=5).fit(X, y).predict(X)
    assert mean.shape == (12,) and np.all(std > 0)
    with pytest.raises(InputDataError, match="dag block"):
        clone(predictor).fit(X[:, :10], y)


def test_all_stands_for_every_named_predictor():
    assert expand_names([ALL]) == PREDICTOR_PLUGINS.names() and PREDICTOR_PLUGINS.names()[: len(PREDICTORS)] == list(
        PREDICTORS)
    assert expand_names(["xgb", ALL, "gp"]) == PREDICTOR_PLUGINS.names()


def test_copula_warp_keeps_the_order_and_extends_beyond_the_training_range():
    y = np.array([10.0, 10.0, 50.0, 80.0, 91.0, 93.5])
    warp = CopulaWarp.fit(y)
    z = warp.scores(y)
    assert z[0] == z[1] and np.all(np.diff(z[1:]) > 0)
    np.testing.assert_allclose(warp.values(z), y)
    grid = np.linspace(-4, 4, 50)
    mean, std = warp.inverse(grid, np.full(50, 0.3))
    assert np.all(np.diff(mean) > 0) and np.all(std > 0)
    assert mean[-1] > y.max() and mean[0] < y.min()
    with pytest.raises(FitError, match="all equal"):
        CopulaWarp.fit(np.full(5, 3.0))


def test_copula_warp_spread_is_not_read_off_one_gap_between_nearly_equal_targets():
    warp = CopulaWarp.fit(np.array([10.0, 50.0, 80.0, 80.01, 91.0, 93.5]))
    ks = warp.knot_scores
    one_gap = 0.01 / (ks[3] - ks[2])  # the slope between 80 and 80.01
    _, std = warp.inverse(np.array([ks[2:4].mean()]), np.array([0.01]))
    assert std[0] > 100 * 0.01 * one_gap
    wide = warp.inverse(np.array([0.0]), np.array([2.0]))[1]
    np.testing.assert_allclose(wide, 0.5 * (warp.values(2.0) - warp.values(-2.0)))  # beyond the gaps: the half-width


def test_no_std_is_finer_than_the_ties_the_warp_merges():
    # NB-201 stores one accuracy at chance as 9.711999999, 9.712 and 9.712000001: one tie to the warp.
    # A forest whose trees all agreed there predicted it with a std of 1e-13, and a test cell 2e-9
    # away (float noise) took one NB-201 split's mean Gaussian NLL to 8e4.
    y = np.array([9.711999999, 9.712, 9.712000001, 50.0, 80.0, 91.0])
    warp = CopulaWarp.fit(y)
    mean, std = warp.inverse(warp.scores(y)[:1], np.array([1e-15]))
    assert std[0] >= 1e-7 * mean[0] and abs(9.712000001 - mean[0]) / std[0] < 0.01


@pytest.mark.parametrize("make", [GPPredictor, lambda: GPPredictor(target_transform="none"), XGBEnsemble,
                                  GPXGBEnsemble])
def test_flat_targets_are_a_fit_error_with_a_reason(make):
    X = np.random.default_rng(0).random((20, 3))
    with pytest.raises(FitError, match="all equal"):
        make().fit(X, np.full(20, 70.0))


def test_calibrated_xgb_intervals_cover_close_to_nominal(nb201):
    """On held-out NB-201 cells the cross-fitted std covers about as often as it claims; the raw spread does not."""
    cells, y = nb201
    X = featurize(cells, "liveops+cost")
    calibrated = XGBEnsemble(n_estimators=100).fit(X[:150], y[:150])
    raw = XGBEnsemble(n_estimators=100, calibration="none").fit(X[:150], y[:150])
    for level in (0.5, 0.9):
        hit = coverage(y[150:], *calibrated.predict(X[150:]), level)
        assert abs(hit - level) < 0.1, (level, hit)
        assert coverage(y[150:], *raw.predict(X[150:]), level) < level - 0.15


def test_registry_rejects_unknown_name_listing_choices():
    with pytest.raises(InputDataError, match="expected one of .*xgb"):
        make_predictor("nope", SPACE)


def test_the_latency_model_leaves_ignored_columns_out():
    from surrogate_nas.predictors.latency import LatencyRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = np.exp(X[:, 0] + 0.3 * X[:, 1] + rng.normal(scale=0.2, size=30))
    model = LatencyRegressor(ignore_columns=(0,)).fit(X, y)
    assert model.coef_[0] == 0 and model.coef_[1] != 0
    assert LatencyRegressor().fit(X, y).coef_[0] != 0
    with pytest.raises(InputDataError, match="ignore_columns"):
        LatencyRegressor(ignore_columns=(5,)).fit(X, y)
