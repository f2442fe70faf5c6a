"""A predictor's predictive distribution: a normal in the units it fits, pushed to the target's units.

Every learned predictor fits the copula scores of its targets (:mod:`.warping`) and
calibrates its standard deviation there (:mod:`.calibration`), so what it believes about
an architecture is ``N(loc, scale^2)`` in score units, carried to accuracy by the warp's
increasing map: a skewed distribution, with the long lower tail of the accuracies
themselves. :meth:`Predictive.summary` is the Gaussian ``(mean, std)`` that ``predict``
returns (the median and the local spread, what Bayesian search reads); the intervals,
CDF and density here are those of the distribution itself, and are what the calibration
tables judge. Judging the Gaussian summary instead mistakes its shape for the model's: a
cell predicted near the accuracy ceiling that turns out to be untrainable lies 3 score
units away, but 40 of the summary's narrow standard deviations.

Where no warp is used (``target_transform="none"``, the rank baselines, a plug-in that only
returns ``(mean, std)``) the distribution is that Gaussian.

    >>> import numpy as np
    >>> dist = Predictive(np.array([0.0]), np.array([1.0]))
    >>> [round(float(v[0]), 3) for v in dist.interval(0.9)]
    [-1.645, 1.645]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from surrogate_nas.errors import InputDataError
from surrogate_nas.predictors.warping import CopulaWarp

MIN_SCALE = 1e-9
"""Smallest scale of a distribution without a warp (a zero std is a point mass, with no density)."""


@dataclass(frozen=True)
class Predictive:
    """Independent predictive distributions of ``n`` targets.

    Attributes:
        loc: means in the units the model was fitted in (score units under a warp), shape ``(n,)``.
        scale: standard deviations in the same units, shape ``(n,)``.
        warp: the map from those units to the target's, or None (the normal is in target units).
    """

    loc: np.ndarray
    scale: np.ndarray
    warp: CopulaWarp | None = None

    def __post_init__(self) -> None:
        loc = np.asarray(self.loc, dtype=np.float64).reshape(-1)
        scale = np.asarray(self.scale, dtype=np.float64).reshape(-1)
        if loc.shape != scale.shape:
            raise InputDataError(f"loc has {loc.size} values but scale has {scale.size}")
        object.__setattr__(self, "loc", loc)
        object.__setattr__(self, "scale", scale)

    def summary(self) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, std)`` in target units, as ``predict`` returns them (:meth:`.CopulaWarp.inverse`)."""
        if self.warp is None:
            return self.loc, self.scale
        return self.warp.inverse(self.loc, self.scale)

    def _scale(self) -> np.ndarray:
        """The scale the distribution uses: never finer than the warp can resolve around ``loc``
        (a forest whose trees all predict one tied target has a spread of zero there)."""
        floor = MIN_SCALE if self.warp is None else self.warp.resolution(self.loc)
        return np.maximum(self.scale, floor)

    def _standardised(self, y) -> tuple[np.ndarray, np.ndarray]:
        """``(u, log_slope)``: ``y`` in standard units of each normal, and the log slope of the map there."""
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if y.size != self.loc.size:
            raise InputDataError(f"got {y.size} values for {self.loc.size} predictions")
        if self.warp is None:
            z, log_slope = y, np.zeros_like(y)
        else:
            z, slope = self.warp.scores_of(y)
            log_slope = np.log(slope)
        return (z - self.loc) / self._scale(), log_slope

    def logpdf(self, y) -> np.ndarray:
        """Log density of each target value ``y`` (shape ``(n,)``) under its distribution."""
        u, log_slope = self._standardised(y)
        return norm.logpdf(u) - np.log(self._scale()) - log_slope

    def cdf(self, y) -> np.ndarray:
        """Probability that each target is at most ``y``."""
        return norm.cdf(self._standardised(y)[0])

    def interval(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)``: the central ``level`` interval of each distribution, in target units."""
        if not 0 < level < 1:
            raise InputDataError(f"level must be in (0, 1), got {level}")
        half = float(norm.ppf(0.5 + level / 2)) * self._scale()
        low, high = self.loc - half, self.loc + half
        return (low, high) if self.warp is None else (self.warp.values(low), self.warp.values(high))


def predictive(predictor, X) -> Predictive:
    """``predictor``'s distribution at ``X``: its own (``predict_distribution``), else the
    Gaussian of its ``predict`` (any object with the plain ``fit``/``predict`` contract)."""
    if hasattr(predictor, "predict_distribution"):
        return predictor.predict_distribution(X)
    return Predictive(*predictor.predict(X))
