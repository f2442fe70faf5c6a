"""The predictive distribution: a normal in score units carried through the warp, judged as itself."""

import numpy as np
import pytest
from scipy.stats import norm

from surrogate_nas.errors import InputDataError
from surrogate_nas.predictors.metrics import evaluate_predictions, gaussian_nll, predictive_nll
from surrogate_nas.predictors.predictive import Predictive
from surrogate_nas.predictors.warping import CopulaWarp


def crowded_targets():
    """Accuracies like NB-201's: most crowd below a ceiling, a tail down to chance (stored as ties)."""
    rng = np.random.default_rng(0)
    top = 91.0 - rng.gamma(1.5, 1.5, size=120)
    tail = rng.uniform(30, 80, size=12)
    chance = np.array([9.711999999, 9.712, 9.712000001, 9.712, 9.712])
    return np.concatenate([top, tail, chance])


def test_without_a_warp_it_is_the_gaussian():
    dist = Predictive(np.array([1.0, -2.0]), np.array([0.5, 2.0]))
    y = np.array([1.3, 0.0])
    assert np.allclose(dist.logpdf(y), norm.logpdf(y, [1.0, -2.0], [0.5, 2.0]))
    assert np.allclose(dist.cdf(y), norm.cdf(y, [1.0, -2.0], [0.5, 2.0]))
    low, high = dist.interval(0.8)
    assert np.allclose(high - low, 2 * norm.ppf(0.9) * np.array([0.5, 2.0]))
    assert dist.summary()[0] is dist.loc


def test_the_warped_density_integrates_to_its_cdf_and_its_intervals_hold_their_level():
    warp = CopulaWarp.fit(crowded_targets())
    edges = np.concatenate([[-300.0], warp.knot_values, [300.0]])
    # The midpoint rule inside each segment between knots, where the density is smooth.
    cuts = [np.linspace(a, b, 200_001 if a == edges[0] or b == edges[-1] else 201) for a, b in zip(edges, edges[1:])]
    mid = np.concatenate([0.5 * (c[1:] + c[:-1]) for c in cuts])
    width = np.concatenate([np.diff(c) for c in cuts])
    for loc, scale in ((0.8, 0.4), (-1.5, 0.7), (2.5, 0.2)):
        dist = Predictive(np.full(mid.size, loc), np.full(mid.size, scale), warp)
        ends = Predictive(np.full(2, loc), np.full(2, scale), warp).cdf(edges[[0, -1]])
        assert np.sum(np.exp(dist.logpdf(mid)) * width) == pytest.approx(ends[1] - ends[0], abs=1e-4)
        assert ends[1] - ends[0] > 0.99
        one = Predictive(np.array([loc]), np.array([scale]), warp)
        low, high = one.interval(0.9)
        assert one.cdf(low)[0] == pytest.approx(0.05) and one.cdf(high)[0] == pytest.approx(0.95)
        assert low[0] < one.summary()[0][0] < high[0]


def test_scores_of_inverts_the_warp_inside_and_beyond_the_training_range():
    warp = CopulaWarp.fit(crowded_targets())
    z = np.linspace(-4, 4, 101)
    back, slope = warp.scores_of(warp.values(z))
    assert np.allclose(back, z) and np.all(slope > 0)
    # The three stored spellings of one chance-level accuracy are one knot: one score.
    tie, _ = warp.scores_of(np.array([9.711999999, 9.712, 9.712000001]))
    assert np.allclose(tie, warp.knot_scores[0], atol=1e-9)


def test_an_untrainable_cell_predicted_near_the_ceiling_is_unlikely_not_impossible():
    """The Gaussian summary of a prediction near the ceiling is narrow, and a cell at chance lies dozens
    of its stds away; under the distribution itself it lies a few score units away."""
    warp = CopulaWarp.fit(crowded_targets())
    dist = Predictive(np.array([0.5]), np.array([0.6]), warp)
    mean, std = dist.summary()
    truth = np.array([9.712])
    assert gaussian_nll(truth, mean, std) > 200
    assert predictive_nll(truth, dist) < 15
    scores = evaluate_predictions(np.r_[truth, 88.0], np.r_[mean, mean], np.r_[std, std],
                                  distribution=Predictive(np.r_[0.5, 0.5], np.r_[0.6, 0.6], warp))
    assert scores["nll"] < 10 < scores["nll_normal"]


def test_a_prediction_sure_of_a_tied_target_keeps_the_warps_resolution():
    """A forest whose trees all predict the tie at chance has a spread of zero there; a test value
    a hair away must not get an astronomical NLL."""
    warp = CopulaWarp.fit(crowded_targets())
    dist = Predictive(np.array([warp.knot_scores[0]]), np.array([1e-13]), warp)
    assert np.isfinite(dist.logpdf(np.array([9.7121]))[0]) and dist.logpdf(np.array([9.7121]))[0] > -20
    assert np.isfinite(dist.logpdf(np.array([9.712]))[0])


def test_mismatched_inputs_are_input_errors():
    with pytest.raises(InputDataError, match="scale has"):
        Predictive(np.zeros(3), np.ones(2))
    with pytest.raises(InputDataError, match="values for 2 predictions"):
        Predictive(np.zeros(2), np.ones(2)).logpdf(np.zeros(3))
    with pytest.raises(InputDataError, match="level"):
        Predictive(np.zeros(2), np.ones(2)).interval(1.0)
