"""The predictor contract, shared by every surrogate.

In the spirit of scikit-learn: ``__init__`` only stores hyper-parameters,
``fit(X, y)`` returns ``self`` and stores learned state in attributes ending in
``_``, ``predict(X)`` returns ``(mean, std)`` arrays of shape ``(n,)``.
Predicting before fitting raises :class:`~surrogate_nas.errors.NotFittedError`;
mismatched shapes raise :class:`~surrogate_nas.errors.InputDataError`.

``X`` is an ``n x d`` float array of architecture features (see
:mod:`surrogate_nas.predictors.features`); ``y`` has shape ``(n,)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from surrogate_nas.errors import InputDataError, NotFittedError


class Predictor(ABC):
    """Base class: validation at the boundary, fitting and prediction in subclasses."""

    name: str = "predictor"

    def fit(self, X, y) -> "Predictor":
        X, y = check_X_y(X, y)
        self._fit(X, y)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(mean, std)``, each of shape ``(n,)``."""
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit(X, y) first")
        X = check_X(X)
        if X.shape[1] != self.n_features_in_:
            raise InputDataError(
                f"{type(self).__name__} was fitted on {self.n_features_in_} features, got {X.shape[1]}"
            )
        mean, std = self._predict(X)
        return np.asarray(mean, dtype=np.float64).reshape(-1), np.asarray(std, dtype=np.float64).reshape(-1)

    @abstractmethod
    def _fit(self, X: np.ndarray, y: np.ndarray) -> None: ...

    @abstractmethod
    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


def check_X(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise InputDataError(f"X must be a 2-d array (n x d), got shape {X.shape}")
    if X.shape[0] == 0:
        raise InputDataError("X has no rows")
    if not np.all(np.isfinite(X)):
        raise InputDataError("X contains NaN or infinite values")
    return X


def check_X_y(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = check_X(X)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise InputDataError(f"y must be a 1-d array, got shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise InputDataError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
    if not np.all(np.isfinite(y)):
        raise InputDataError("y contains NaN or infinite values")
    if X.shape[0] < 2:
        raise InputDataError("fitting needs at least 2 training points")
    return X, y
