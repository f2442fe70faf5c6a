"""Latency on a new device from a handful of measured architectures.

Latencies of one architecture on different hardware are strongly related: a cell that is
slow on one GPU is slow on another, and mostly on a phone too. With NAS-Bench-201's
``devlat`` features (the cell's log latency on the 27 device settings of the packaged
table; see :mod:`surrogate_nas.tables.devices`) a linear model of the new device's log
latency is transfer from known devices, HELP's setting (Lee et al., NeurIPS 2021)
without meta-training: ten measurements fit it. On spaces without device tables the
same model runs on the space's structural features.

Example:
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((12, 3)); y = np.exp(X @ [1.0, 0.5, 0.0])
    >>> LatencyRegressor().fit(X, y).predict(X[:2])[0].shape
    (2,)
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import RidgeCV

from surrogate_nas.errors import InputDataError
from surrogate_nas.predictors.base import Predictor

DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-3, 3, 13))


class LatencyRegressor(Predictor):
    """Ridge regression of log latency on standardised features; the penalty by leave-one-out.

    ``predict`` returns milliseconds: the median ``exp(mean)`` of the log-normal prediction
    and its standard deviation, from the leave-one-out residuals at the chosen penalty.

    Args:
        alphas: candidate ridge penalties; scikit-learn's efficient leave-one-out picks one.
    """

    name = "latency"

    def __init__(self, alphas: tuple[float, ...] = DEFAULT_ALPHAS) -> None:
        self.alphas = tuple(float(a) for a in alphas)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        if np.any(y <= 0):
            raise InputDataError(f"latencies must be positive milliseconds; got {float(y.min())}")
        self.center_ = X.mean(axis=0)
        self.scale_ = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
        model = RidgeCV(alphas=self.alphas, store_cv_results=True)
        model.fit((X - self.center_) / self.scale_, np.log(y))
        best = int(np.argmin(model.cv_results_.mean(axis=0)))
        self.coef_ = np.asarray(model.coef_, dtype=np.float64)
        self.intercept_ = float(model.intercept_)
        self.log_std_ = float(np.sqrt(model.cv_results_[:, best].mean()))

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        median = np.exp((X - self.center_) / self.scale_ @ self.coef_ + self.intercept_)
        return median, median * np.sqrt(np.expm1(self.log_std_**2))

    def export_state(self) -> tuple[dict[str, np.ndarray], dict[str, bytes]]:
        return {"center": self.center_, "scale": self.scale_, "coef": self.coef_,
                "intercept_log_std": np.array([self.intercept_, self.log_std_])}, {}

    def import_state(self, arrays: dict[str, np.ndarray], blobs: dict[str, bytes]) -> None:
        self.center_, self.scale_, self.coef_ = arrays["center"], arrays["scale"], arrays["coef"]
        self.intercept_, self.log_std_ = (float(v) for v in arrays["intercept_log_std"])
