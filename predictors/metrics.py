"""Metrics that judge a predictor: rank quality, error and calibration.

NAS cares about ranking (does the predictor put good architectures first?),
so Kendall's tau is the headline, as in NASLib and NAS-Bench-Suite-Zero.
Precision of the predicted top 5% says whether the architectures a search
would pick are the good ones. Calibration metrics (NLL, coverage of the central
50/80/90/95% intervals) matter for Bayesian search, whose acquisition functions
trust the predicted uncertainty; they judge the predictor's own distribution
(:class:`~surrogate_nas.predictors.predictive.Predictive`), and, apart, the Gaussian
``(mean, std)`` summary that ``predict`` returns.

    >>> import numpy as np
    >>> y = np.array([1.0, 2.0, 3.0, 4.0])
    >>> round(kendall_tau(y, y), 3)
    1.0
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from surrogate_nas.errors import InputDataError
from surrogate_nas.predictors.predictive import Predictive

COVERAGE_LEVELS: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95)
"""Nominal levels of the central intervals whose coverage :func:`evaluate_predictions` reports."""

TOP_SHARE = 0.05
"""The share of the test set whose predicted top is compared with the true top (``precision_top5``)."""

def _pair(y_true, y_pred, minimum: int = 2) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(y_true, dtype=np.float64).reshape(-1)
    b = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise InputDataError(f"y_true has {a.size} values but the prediction has {b.size}")
    if a.size < minimum:
        raise InputDataError(f"this metric needs at least {minimum} values, got {a.size}")
    return a, b


def _correlation(fn, y_true, y_pred) -> float:
    a, b = _pair(y_true, y_pred)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0  # a constant prediction carries no ranking information
    return float(fn(a, b)[0])


def kendall_tau(y_true, y_pred) -> float:
    """Kendall's tau-b (ties counted as in scipy); 0 for a constant input."""
    return _correlation(stats.kendalltau, y_true, y_pred)


def spearman(y_true, y_pred) -> float:
    """Spearman's rank correlation; 0 for a constant input."""
    return _correlation(stats.spearmanr, y_true, y_pred)


def pearson(y_true, y_pred) -> float:
    """Pearson's linear correlation; 0 for a constant input."""
    return _correlation(stats.pearsonr, y_true, y_pred)


def mae(y_true, y_pred) -> float:
    """Mean absolute error, in the units of the target."""
    a, b = _pair(y_true, y_pred, minimum=1)
    return float(np.mean(np.abs(a - b)))


def precision_at_k(y_true, y_pred, k: int = 10) -> float:
    """Share of the true top-``k`` that is also in the predicted top-``k``.

    Ties at the cut are broken by position (stable sort), the same for both
    rankings, so identical inputs always score 1.
    """
    a, b = _pair(y_true, y_pred)
    if not 1 <= k <= a.size:
        raise InputDataError(f"k must be in 1..{a.size} (the number of values), got {k}")
    top_true = np.argsort(-a, kind="stable")[:k]
    top_pred = np.argsort(-b, kind="stable")[:k]
    return len(np.intersect1d(top_true, top_pred)) / k


def precision_top(y_true, y_pred, share: float = TOP_SHARE) -> float:
    """:func:`precision_at_k` with ``k`` the top ``share`` of the values (at least 1)."""
    if not 0 < share <= 1:
        raise InputDataError(f"share must be in (0, 1], got {share}")
    a, b = _pair(y_true, y_pred)
    return precision_at_k(a, b, max(1, int(round(share * a.size))))


def _std(std, n: int) -> np.ndarray:
    s = np.asarray(std, dtype=np.float64).reshape(-1)
    if s.size != n:
        raise InputDataError(f"std has {s.size} values, expected {n}")
    if np.any(s < 0) or not np.all(np.isfinite(s)):
        raise InputDataError("std must be finite and non-negative")
    return s


def _normal(y_true, mean, std) -> tuple[np.ndarray, Predictive]:
    a, m = _pair(y_true, mean, minimum=1)
    return a, Predictive(m, _std(std, a.size))


def gaussian_nll(y_true, mean, std) -> float:
    """Mean negative log-likelihood of ``y_true`` under ``N(mean, std**2)``."""
    return predictive_nll(*_normal(y_true, mean, std))


def coverage(y_true, mean, std, level: float = 0.9) -> float:
    """Share of ``y_true`` inside the central ``level`` normal interval ``mean ± z * std``."""
    return predictive_coverage(*_normal(y_true, mean, std), level)


def predictive_nll(y_true, distribution: Predictive) -> float:
    """Mean negative log density of ``y_true`` under each prediction's own distribution."""
    return float(-np.mean(distribution.logpdf(y_true)))


def predictive_coverage(y_true, distribution: Predictive, level: float = 0.9) -> float:
    """Share of ``y_true`` inside the central ``level`` interval of each prediction's own distribution."""
    low, high = distribution.interval(level)
    a = np.asarray(y_true, dtype=np.float64).reshape(-1)
    return float(np.mean((a >= low) & (a <= high)))


def evaluate_predictions(y_true, mean, std, k: int = 10, distribution: Predictive | None = None) -> dict[str, float]:
    """All metrics at once; keys match the columns of the comparison table.

    Args:
        y_true: true values, shape ``(n,)``.
        mean: predicted means, shape ``(n,)``.
        std: predicted standard deviations, shape ``(n,)``.
        k: top-k size for precision; capped at ``n``.
        distribution: the predictions' own distributions (default: ``N(mean, std^2)``).

    Returns:
        ``kendall_tau, spearman, pearson, mae, precision_at_{k}, precision_top5``; ``nll`` and
        ``coverage_50, coverage_80, coverage_90, coverage_95`` (:data:`COVERAGE_LEVELS`) of
        ``distribution``; ``nll_normal`` and ``coverage_90_normal`` of ``N(mean, std^2)``.
    """
    a, m = _pair(y_true, mean)
    k = min(k, a.size)
    distribution = _normal(a, m, std)[1] if distribution is None else distribution
    return {
        "kendall_tau": kendall_tau(a, m),
        "spearman": spearman(a, m),
        "pearson": pearson(a, m),
        "mae": mae(a, m),
        f"precision_at_{k}": precision_at_k(a, m, k),
        "precision_top5": precision_top(a, m, TOP_SHARE),
        "nll": predictive_nll(a, distribution),
        **{f"coverage_{round(100 * level)}": predictive_coverage(a, distribution, level) for level in COVERAGE_LEVELS},
        "nll_normal": gaussian_nll(a, m, std),
        "coverage_90_normal": coverage(a, m, std, 0.9),
    }
