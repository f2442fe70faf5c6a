"""``knn``: a k-nearest-neighbour predictor with a spread, on surrogate-nas's predictor contract."""

from __future__ import annotations

import numpy as np

from surrogate_nas.predictors import Predictor


class KNNPredictor(Predictor):
    """k nearest neighbours: the mean and spread of the closest training architectures' values.

    Features are standardised; the spread grows with the distance to the neighbours, so the
    predictor is less sure away from what it has seen (what Bayesian optimisation needs).

    Args:
        k: neighbours per prediction.
    """

    name = "knn"
    features = "default"  # the space's best feature set

    def __init__(self, k: int = 5) -> None:
        self.k = k

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self.mean_, scale = X.mean(axis=0), X.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        self.X_ = (X - self.mean_) / self.scale_
        self.y_ = y
        self.spread_ = float(np.std(y)) or 1.0

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Z = (X - self.mean_) / self.scale_
        distance = np.sqrt(((Z[:, None, :] - self.X_[None, :, :]) ** 2).sum(axis=-1))
        k = min(int(self.k), len(self.y_))
        nearest = np.argsort(distance, axis=1, kind="stable")[:, :k]
        values = self.y_[nearest]
        far = np.take_along_axis(distance, nearest, axis=1).mean(axis=1) / np.sqrt(Z.shape[1])
        std = np.sqrt(values.var(axis=1) + (self.spread_ * np.minimum(far, 1.0)) ** 2)
        return values.mean(axis=1), std
