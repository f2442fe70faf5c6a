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

A predictor that fits warped targets (copula scores, :mod:`~surrogate_nas.predictors.warping`)
is calibrated twice on the same held-out pairs (:class:`VarianceCalibration`): first in
scores, where residuals are close to Gaussian, then once more in the target's own units
after the map back, ``var = target_scale * std**2 + target_floor``. The map back is flat
where many targets crowd (cells that train at chance, accuracies below their ceiling), so a
prediction there came back with almost no spread, and one held-out cell far from it cost
the Gaussian likelihood more than every other cell together; ``target_floor`` is the
smallest spread the held-out errors support in the units the predictor is judged in.

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
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from surrogate_nas.errors import InputDataError
from surrogate_nas.predictors.warping import CopulaWarp

CALIBRATIONS: tuple[str, ...] = ("crossfit", "none")
"""What a learned predictor's ``calibration`` accepts: ``crossfit``, the variance
``scale * spread^2 + floor`` fitted on two-fold held-out residuals; ``none``, the raw spread."""

TARGET_STAGE_PARAMETERS = 2
"""The target stage is kept only when it raises the held-out log-likelihood by more than its
parameter count (Akaike's criterion): where the map back changes nothing (targets that are
already normal scores, as Bayesian optimisation passes them) the scores' calibration stands."""

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


def calibrated_std(spread: np.ndarray, scale: float, floor: float) -> np.ndarray:
    """``sqrt(scale * spread^2 + floor)``."""
    return np.sqrt(scale * np.asarray(spread, dtype=np.float64) ** 2 + floor)


@dataclass(frozen=True)
class VarianceCalibration:
    """How a predictor turns its spread into a standard deviation: ``scale * spread^2 + floor``
    in the units it fits, then, when those are warped scores, ``target_scale * std^2 +
    target_floor`` after the map back to the target's units.

    The default leaves the spread as it is (``calibration="none"``).
    """

    scale: float = 1.0
    floor: float = 0.0
    target_scale: float = 1.0
    target_floor: float = 0.0

    def predict(self, mean: np.ndarray, spread: np.ndarray, warp: CopulaWarp | None) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, std)`` in the target's units from the model's ``mean`` and ``spread`` in the units it fits."""
        std = calibrated_std(spread, self.scale, self.floor)
        if warp is None:
            return np.asarray(mean, dtype=np.float64), std
        mean, std = warp.inverse(mean, std)
        return mean, calibrated_std(std, self.target_scale, self.target_floor)

    def to_array(self) -> np.ndarray:
        """The four numbers, for a predictor's saved state."""
        return np.array([self.scale, self.floor, self.target_scale, self.target_floor])

    @classmethod
    def from_array(cls, values) -> "VarianceCalibration":
        """The calibration :meth:`to_array` saved; a state saved before the target stage has two numbers."""
        return cls(*(float(v) for v in values))


def crossfit_calibration(fit_predict: FitPredict, z: np.ndarray, seed: int, warp: CopulaWarp | None = None,
                         y: np.ndarray | None = None) -> VarianceCalibration:
    """Both stages of :class:`VarianceCalibration` fitted on one :func:`crossfit_pairs`.

    Args:
        fit_predict: fits on one part, predicts the other, in the units the model fits (see :data:`FitPredict`).
        z: the targets the model fits (the warped scores of ``y`` when ``warp`` is given).
        seed: the predictor's seed.
        warp: the predictor's target warp, or None when it fits the targets as they are.
        y: the targets in their own units, row for row with ``z`` (needed with ``warp``).

    Below :data:`MIN_CROSSFIT_ROWS` rows the variance is ``spread^2 + var(z)``, deliberately wide; the
    target stage is kept only when :data:`TARGET_STAGE_PARAMETERS` says the held-out pairs support it.
    """
    if len(z) < MIN_CROSSFIT_ROWS:
        return VarianceCalibration(1.0, float(np.var(z)))
    resid, spread = crossfit_pairs(fit_predict, z, seed)
    scale, floor = fit_variance(resid, spread)
    if warp is None:
        return VarianceCalibration(scale, floor)
    mean, std = warp.inverse(z - resid, calibrated_std(spread, scale, floor))
    resid = np.asarray(y, dtype=np.float64) - mean
    target_scale, target_floor = fit_variance(resid, std)
    gain = gaussian_loglik(resid, calibrated_std(std, target_scale, target_floor)) - gaussian_loglik(resid, std)
    if not gain > TARGET_STAGE_PARAMETERS:
        return VarianceCalibration(scale, floor)
    return VarianceCalibration(scale, floor, target_scale, target_floor)


def gaussian_loglik(resid: np.ndarray, std: np.ndarray) -> float:
    """Total Gaussian log-likelihood of ``resid`` under zero-mean normals of std ``std`` (constant dropped)."""
    return float(-np.sum(np.log(std) + 0.5 * (resid / std) ** 2))
