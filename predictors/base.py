"""The predictor contract, shared by every surrogate.

In the spirit of scikit-learn: ``__init__`` only stores hyper-parameters,
``fit(X, y)`` returns ``self`` and stores learned state in attributes ending in
``_``, ``predict(X)`` returns ``(mean, std)`` arrays of shape ``(n,)``, and
``predict_distribution(X)`` the whole predictive distribution
(:class:`~surrogate_nas.predictors.predictive.Predictive`; by default the Gaussian of ``predict``).
Predicting before fitting raises :class:`~surrogate_nas.errors.NotFittedError`;
mismatched shapes raise :class:`~surrogate_nas.errors.InputDataError`.

``X`` is an ``n x d`` float array of architecture features (see
:mod:`surrogate_nas.predictors.features`); ``y`` has shape ``(n,)``.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod

import numpy as np

from surrogate_nas.errors import InputDataError, NotFittedError
from surrogate_nas.predictors.predictive import Predictive


class Predictor(ABC):
    """Base class: validation at the boundary, fitting and prediction in subclasses.

    Hyper-parameters are exactly the arguments of ``__init__``, stored under their own
    names, so :meth:`get_params`, :meth:`set_params` and :func:`clone` work as in
    scikit-learn.
    """

    name: str = "predictor"

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [p.name for p in signature.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self, deep: bool = True) -> dict:
        """The hyper-parameters, by name (scikit-learn's contract)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> "Predictor":
        """Change hyper-parameters; an unknown name is an error. Returns ``self``."""
        valid = set(self._param_names())
        for name, value in params.items():
            if name not in valid:
                raise InputDataError(f"{type(self).__name__} has no parameter {name!r}; it has {sorted(valid)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def fit(self, X, y) -> "Predictor":
        X, y = check_X_y(X, y)
        self._fit(X, y)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(mean, std)``, each of shape ``(n,)``."""
        mean, std = self._predict(self._checked(X))
        return np.asarray(mean, dtype=np.float64).reshape(-1), np.asarray(std, dtype=np.float64).reshape(-1)

    def predict_distribution(self, X) -> Predictive:
        """The predictive distribution of each row of ``X`` (its ``summary()`` is :meth:`predict`)."""
        return self._predict_distribution(self._checked(X))

    def _checked(self, X) -> np.ndarray:
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit(X, y) first")
        X = check_X(X)
        if X.shape[1] != self.n_features_in_:
            raise InputDataError(
                f"{type(self).__name__} was fitted on {self.n_features_in_} features, got {X.shape[1]}"
            )
        return X

    def _predict_distribution(self, X: np.ndarray) -> Predictive:
        return Predictive(*self._predict(X))

    def export_state(self) -> tuple[dict[str, np.ndarray], dict[str, bytes]]:
        """The learned state as plain arrays and opaque byte blobs (no Python objects), for saving.

        Subclasses return everything :meth:`import_state` needs to predict exactly as
        the fitted predictor does (see :mod:`~surrogate_nas.predictors.serialization`).
        """
        raise NotImplementedError(f"{type(self).__name__} cannot be saved")

    def import_state(self, arrays: dict[str, np.ndarray], blobs: dict[str, bytes]) -> None:
        """Restore the learned state written by :meth:`export_state` on a fresh instance."""
        raise NotImplementedError(f"{type(self).__name__} cannot be loaded")

    @abstractmethod
    def _fit(self, X: np.ndarray, y: np.ndarray) -> None: ...

    @abstractmethod
    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class WarpedPredictor(Predictor):
    """A predictor that fits in score units and maps its normal back through ``warp_``.

    Subclasses set ``warp_`` in ``_fit`` (a :class:`~surrogate_nas.predictors.warping.CopulaWarp`,
    or None to fit the targets as they are) and implement :meth:`_predict_scores`; the
    mean and std of ``predict`` and the distribution of ``predict_distribution`` both follow.
    """

    @abstractmethod
    def _predict_scores(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The calibrated ``(mean, std)`` in the units the model was fitted in."""

    def _predict_distribution(self, X: np.ndarray) -> Predictive:
        return Predictive(*self._predict_scores(X), self.warp_)

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._predict_distribution(X).summary()


def clone(predictor: Predictor) -> Predictor:
    """A new, unfitted predictor with the same hyper-parameters."""
    return type(predictor)(**predictor.get_params())


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
