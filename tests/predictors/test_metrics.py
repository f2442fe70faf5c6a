import numpy as np
import pytest

from surrogate_nas.errors import InputDataError
from surrogate_nas.predictors.metrics import (
    coverage,
    evaluate_predictions,
    gaussian_nll,
    kendall_tau,
    mae,
    pearson,
    precision_at_k,
    precision_top,
    spearman,
)


def test_rank_metrics_on_perfect_and_reversed_ranking():
    y = np.array([3.0, 1.0, 4.0, 1.5, 9.0, 2.6])
    assert kendall_tau(y, y) == pytest.approx(1.0)
    assert spearman(y, -y) == pytest.approx(-1.0)
    assert pearson(y, 2 * y + 1) == pytest.approx(1.0)


def test_kendall_tau_counts_discordant_pairs():
    # one swapped pair out of 6: tau = (5 - 1) / 6
    assert kendall_tau([1, 2, 3, 4], [1, 2, 4, 3]) == pytest.approx(4 / 6)


def test_constant_prediction_has_zero_correlation():
    assert kendall_tau([1, 2, 3], [5, 5, 5]) == 0.0


def test_mae():
    assert mae([1.0, 2.0], [2.0, 4.0]) == pytest.approx(1.5)


def test_precision_at_k_counts_overlap_of_top_k():
    y = np.arange(20.0)
    pred = y.copy()
    pred[19], pred[0] = pred[0], pred[19]  # the best arch is predicted worst
    assert precision_at_k(y, pred, k=10) == pytest.approx(0.9)
    assert precision_at_k(y, y, k=10) == 1.0
    with pytest.raises(InputDataError, match="k must be"):
        precision_at_k(y, y, k=21)


def test_gaussian_nll_matches_closed_form():
    assert gaussian_nll([0.0], [0.0], [1.0]) == pytest.approx(0.5 * np.log(2 * np.pi))
    wide = gaussian_nll([0.0, 1.0], [0.5, 0.5], [10.0, 10.0])
    tight = gaussian_nll([0.0, 1.0], [0.5, 0.5], [0.6, 0.6])
    assert tight < wide


def test_coverage_of_calibrated_gaussian_is_near_90_percent():
    rng = np.random.default_rng(0)
    y = rng.normal(size=20000)
    assert coverage(y, np.zeros_like(y), np.ones_like(y)) == pytest.approx(0.9, abs=0.01)
    assert coverage(y, np.zeros_like(y), np.full_like(y, 0.1)) < 0.2


def test_evaluate_predictions_returns_all_metrics():
    y = np.linspace(0, 1, 30)
    out = evaluate_predictions(y, y + 0.01, np.full(30, 0.1))
    assert set(out) == {"kendall_tau", "spearman", "pearson", "mae", "precision_at_10", "precision_top5", "nll",
                        "coverage_50", "coverage_80", "coverage_90", "coverage_95", "nll_normal", "coverage_90_normal"}
    assert out["coverage_90"] == 1.0 and out["mae"] == pytest.approx(0.01)
    # Without a distribution of its own, a prediction's distribution is its Gaussian.
    assert out["nll"] == pytest.approx(out["nll_normal"]) and out["coverage_90"] == out["coverage_90_normal"]


def test_coverage_at_every_reported_level_matches_a_calibrated_gaussian():
    rng = np.random.default_rng(1)
    y = rng.normal(size=20000)
    out = evaluate_predictions(y, np.zeros_like(y), np.ones_like(y))
    for level in (50, 80, 90, 95):
        assert out[f"coverage_{level}"] == pytest.approx(level / 100, abs=0.01)


def test_precision_top_compares_the_top_five_percent():
    y = np.arange(100.0)
    pred = y.copy()
    pred[99] = -1.0  # the best architecture is predicted worst: 4 of the true top 5 remain
    assert precision_top(y, pred) == pytest.approx(0.8)
    assert precision_top(y[:10], y[:10]) == 1.0  # at least one architecture is compared
    with pytest.raises(InputDataError, match="share"):
        precision_top(y, y, share=0.0)


def test_mismatched_or_bad_inputs_raise():
    with pytest.raises(InputDataError, match="y_true has 3"):
        mae([1, 2, 3], [1, 2])
    with pytest.raises(InputDataError, match="non-negative"):
        gaussian_nll([1, 2], [1, 2], [1, -1])
