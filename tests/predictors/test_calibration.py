"""Calibrated standard deviations: the variance model, and honest intervals on real NB-201 splits."""

import numpy as np
import pytest

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.tables.compare import split_train_test
from surrogate_nas.predictors.calibration import crossfit_variance, fit_variance
from surrogate_nas.predictors.metrics import coverage, gaussian_nll, predictive_coverage, predictive_nll
from surrogate_nas.predictors.registry import make_predictor
from surrogate_nas.predictors.xgb import XGBEnsemble
from surrogate_nas.tables import load_benchmark


def test_the_variance_model_recovers_scale_and_floor():
    rng = np.random.default_rng(0)
    spread = rng.uniform(0.2, 2.0, 4000)
    resid = rng.normal(size=4000) * np.sqrt(3.0 * spread**2 + 0.5)
    scale, floor = fit_variance(resid, spread)
    assert scale == pytest.approx(3.0, rel=0.15) and floor == pytest.approx(0.5, rel=0.3)


def test_too_few_rows_for_a_crossfit_give_the_wide_fallback():
    y = np.array([1.0, 2.0, 4.0])
    assert crossfit_variance(lambda train, test, seed: (y[test], np.zeros(test.sum())), y, 0) == (1.0, np.var(y))
    with pytest.raises(InputDataError, match="calibration must be one of"):
        XGBEnsemble(calibration="isotonic").fit(np.eye(3), y)


def _split(bench: str, seed: int):
    table = load_benchmark(bench)
    archs, y = table.architectures(), table.values()
    train, test = split_train_test([a.canonical_key for a in archs], 56, 200, seed)
    return table.space, [archs[i] for i in train], y[train], [archs[i] for i in test], y[test]


# Splits where the uncalibrated std collapsed somewhere (a flat stretch of the warp, a bare ensemble spread).
SPLITS = {("nb201-cifar100", 17): ("xgb", "gp", "rf"), ("nb201-cifar10", 2): ("xgb", "gp", "rf", "gnn")}


@pytest.mark.parametrize("bench, seed", sorted(SPLITS))
def test_learned_predictors_cover_and_score_close_to_xgb_on_a_small_real_split(bench, seed):
    space, train, y_train, test, y_test = _split(bench, seed)
    nll, own = {}, {}
    for name in SPLITS[(bench, seed)]:
        kind, predictor = make_predictor(name, space)
        predictor.set_params(random_state=seed).fit(space.features(train, kind), y_train)
        mean, std = predictor.predict(space.features(test, kind))
        nll[name] = gaussian_nll(y_test, mean, std)
        assert np.isfinite(nll[name]) and np.all(std > 0), name
        assert 0.8 <= coverage(y_test, mean, std, 0.9) <= 0.98, name
        dist = predictor.predict_distribution(space.features(test, kind))
        own[name] = predictive_nll(y_test, dist)
        assert 0.8 <= predictive_coverage(y_test, dist, 0.9) <= 0.98, name
    assert max(nll.values()) <= 2 * nll["xgb"], nll
    assert max(own.values()) <= 2 * own["xgb"], own
