"""Reference predictors every learned surrogate must beat.

* :class:`MeanPredictor` predicts the training mean (Kendall's tau 0): a floor.
* :class:`ProxyPredictor` predicts one feature column through a least-squares
  line, e.g. log params or a zero-cost proxy. The line only maps the scale; the
  ranking is the column's own, so its Kendall's tau is the proxy's, the usual
  "zero-cost baseline" of NAS-Bench-Suite-Zero.

Example:
    >>> import numpy as np
    >>> X = np.arange(10.0).reshape(5, 2); y = 2 * X[:, 1] + 1
    >>> ProxyPredictor(column=1).fit(X, y).predict(X)[0].round(6).tolist()
    [3.0, 7.0, 11.0, 15.0, 19.0]
"""

from __future__ import annotations

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.predictors.base import Predictor


class MeanPredictor(Predictor):
    """Predicts the training mean with the training standard deviation."""

    name = "mean"

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self.mean_ = float(y.mean())
        self.std_ = float(y.std(ddof=1))

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.full(len(X), self.mean_), np.full(len(X), self.std_)

    def export_state(self) -> tuple[dict[str, np.ndarray], dict[str, bytes]]:
        return {"mean_std": np.array([self.mean_, self.std_])}, {}

    def import_state(self, arrays: dict[str, np.ndarray], blobs: dict[str, bytes]) -> None:
        self.mean_, self.std_ = (float(v) for v in arrays["mean_std"])


class ProxyPredictor(Predictor):
    """Predicts ``a + b * X[:, column]``, fitted by least squares; std from the residuals.

    Args:
        column: Index of the feature column used as the proxy (negative counts from the end).
    """

    name = "proxy"

    def __init__(self, column: int = 0) -> None:
        self.column = column

    def _column(self, X: np.ndarray) -> np.ndarray:
        if not -X.shape[1] <= int(self.column) < X.shape[1]:
            raise InputDataError(f"proxy column {self.column} is out of range for {X.shape[1]} features")
        return X[:, int(self.column)]

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        x = self._column(X)
        if np.ptp(x) == 0:
            self.coef_, self.intercept_ = 0.0, float(y.mean())
        else:
            self.coef_, self.intercept_ = (float(v) for v in np.polyfit(x, y, 1))
        resid = y - (self.intercept_ + self.coef_ * x)
        self.std_ = float(np.sqrt(np.sum(resid**2) / max(len(y) - 2, 1)))

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.intercept_ + self.coef_ * self._column(X), np.full(len(X), self.std_)

    def export_state(self) -> tuple[dict[str, np.ndarray], dict[str, bytes]]:
        return {"line": np.array([self.coef_, self.intercept_, self.std_])}, {}

    def import_state(self, arrays: dict[str, np.ndarray], blobs: dict[str, bytes]) -> None:
        self.coef_, self.intercept_, self.std_ = (float(v) for v in arrays["line"])
