"""Predictive standard deviations calibrated on held-out residuals, shared by the learned predictors.

A model's own spread (the disagreement of an ensemble's members, a GP's posterior
variance, the spread across a forest's trees) says where the model is more or less sure,
not how far off it is: ensembles of models fitted on the same rows agree more than their
errors warrant, and a GP's variance trusts hyper-parameters fitted on a few dozen points.
So the variance a learned predictor reports is

    var = scale * spread**2 + floor

with ``scale`` and ``floor`` fitted by maximum Gaussian likelihood on *held-out* pairs
(residual, spread): the data's own answer to how wrong the model is on points it did not
see. ``floor`` is the held-out error that the spread does not explain; no prediction is
surer than that, so a spread near zero (members that agree, a GP beside a training twin)
no longer means certainty. The pairs come from a two-fold cross-fit (:func:`crossfit_pairs`:
the model fitted on each half predicts the other half); a half has fewer rows than the
whole, so its errors are somewhat larger, which errs on the wide side.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> spread = rng.uniform(0.5, 1.0, 400)
    >>> resid = rng.normal(size=400) * np.sqrt(4 * spread**2 + 1)
    >>> scale, floor = fit_variance(resid, spread)
    >>> bool(2 < scale < 8 and 0 < floor < 3)
    True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize

from surrogate_nas.errors import InputDataError

CALIBRATIONS: tuple[str, ...] = ("crossfit", "none")
"""What a learned predictor's ``calibration`` accepts: ``crossfit``, the variance
``scale * spread^2 + floor`` fitted on two-fold held-out residuals; ``none``, the raw spread."""

MIN_CROSSFIT_ROWS = 8
"""Below this many training rows the cross-fit halves are too small; the variance is then
``spread^2 + var(y)``, deliberately wide."""


def fit_variance(resid: np.ndarray, spread: np.ndarray) -> tuple[float, float]:
    """``(scale, floor)`` of the variance ``scale * spread^2 + floor``, by maximum Gaussian likelihood.

    Args:
        resid: held-out residuals (truth minus prediction), shape ``(n,)``.
        spread: the model's spread at the same points, shape ``(n,)``.
    """
    resid, spread = np.asarray(resid, dtype=np.float64), np.asarray(spread, dtype=np.float64)

    def nll(log_ab: np.ndarray) -> float:
        var = np.exp(log_ab[0]) * spread**2 + np.exp(log_ab[1])
        return float(np.mean(np.log(var) + resid**2 / var))

    start = np.array([0.0, np.log(np.mean(resid**2) + 1e-12)])
    scale, floor = np.exp(minimize(nll, start, method="Nelder-Mead").x)
    return float(scale), float(floor)


FitPredict = Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]
"""``fit_predict(train, test, seed)``: fit a fresh model, seeded with ``seed``, on the rows
``train`` (a boolean mask) and return its ``(mean, spread)`` on the rows ``test``."""


def check_calibration(calibration: str) -> None:
    """Raise :class:`~surrogate_nas.errors.InputDataError` unless ``calibration`` is one of :data:`CALIBRATIONS`."""
    if calibration not in CALIBRATIONS:
        raise InputDataError(f"calibration must be one of {', '.join(CALIBRATIONS)}, got {calibration!r}")


def crossfit_pairs(fit_predict: FitPredict, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Held-out ``(resid, spread)`` of every row from a random two-fold split.

    Args:
        fit_predict: fits on one half, predicts the other (see :data:`FitPredict`).
        y: the targets the model fits, shape ``(n,)``.
        seed: the predictor's seed; the split and the half models get their own seeds from it.
    """
    half = np.random.default_rng(seed + 7919).permutation(len(y)) % 2 == 0
    resid, spread = np.empty(len(y)), np.empty(len(y))
    for part in (half, ~half):
        mean, spread[part] = fit_predict(~part, part, seed + 101)
        resid[part] = y[part] - mean
    return resid, spread


def crossfit_variance(fit_predict: FitPredict, y: np.ndarray, seed: int) -> tuple[float, float]:
    """``(scale, floor)`` fitted on :func:`crossfit_pairs`; ``(1, var(y))`` below :data:`MIN_CROSSFIT_ROWS` rows."""
    if len(y) < MIN_CROSSFIT_ROWS:
        return 1.0, float(np.var(y))
    return fit_variance(*crossfit_pairs(fit_predict, y, seed))


def calibrated_std(spread: np.ndarray, scale: float, floor: float) -> np.ndarray:
    """``sqrt(scale * spread^2 + floor)``."""
    return np.sqrt(scale * np.asarray(spread, dtype=np.float64) ** 2 + floor)
