"""Latency on a new device from a handful of measured architectures.

Latencies of one architecture on different hardware are strongly related: a cell that is
slow on one GPU is slow on another, and mostly on a phone too. With NAS-Bench-201's
``devlat`` features (the cell's log latency on the 27 device settings of the packaged
table; see :mod:`surrogate_nas.spaces.nb201.latency`) a linear model of the new device's log
latency is transfer from known devices, HELP's setting (Lee et al., NeurIPS 2021)
without meta-training: ten measurements fit it. On spaces without device tables the
same model runs on the space's structural features. When the device being fitted is one
of the known settings (a table's ``lat_ms_pixel3`` column), its own ``devlat`` column would
be the answer; ``ignore_columns`` leaves it out (``fit --target latency`` and ``compare`` set
it from :func:`~surrogate_nas.devices.own_latency_features`).

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
        ignore_columns: indices of feature columns the model must not read (their weight is
            zero): a prior that would hand it the target, such as the fitted device's own latency.
    """

    name = "latency"

    def __init__(self, alphas: tuple[float, ...] = DEFAULT_ALPHAS, ignore_columns: tuple[int, ...] = ()) -> None:
        self.alphas = tuple(float(a) for a in alphas)
        self.ignore_columns = tuple(int(c) for c in ignore_columns)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        if np.any(y <= 0):
            raise InputDataError(f"latencies must be positive milliseconds; got {float(y.min())}")
        keep = np.ones(X.shape[1], dtype=bool)
        try:
            keep[list(self.ignore_columns)] = False
        except IndexError:
            raise InputDataError(f"ignore_columns {list(self.ignore_columns)} are not all among the "
                                 f"{X.shape[1]} feature columns") from None
        if not keep.any():
            raise InputDataError(f"ignore_columns leaves none of the {X.shape[1]} feature columns to fit on")
        self.center_ = X.mean(axis=0)
        self.scale_ = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
        model = RidgeCV(alphas=self.alphas, store_cv_results=True)
        model.fit(((X - self.center_) / self.scale_)[:, keep], np.log(y))
        best = int(np.argmin(model.cv_results_.mean(axis=0)))
        self.coef_ = np.zeros(X.shape[1])
        self.coef_[keep] = model.coef_
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
