"""The surrogate of a BO step: one model output per objective and modelled constraint.

* ``"gp"``: exact GPs whose hyperparameters live between steps and are refitted as the
  step's plan says (:class:`.gp_cache.GPCache`);
* any predictor (``"xgb"``, a registered or plug-in name, ``module:Class``, a class or an
  object of the :class:`~surrogate_nas.predictors.base.Predictor` contract, see :mod:`.resolve`):
  fitted on every row each step, its ``(mean, std)`` seen as a BoTorch posterior
  (:class:`.predictor_model.PredictorModel`);
* a callable ``(X, y) -> botorch Model``: fitted on every row each step.

Targets (:func:`targets`) are rank normal scores of the searched value for one objective
(:func:`copula_transform`), the objectives as they are for several, then one slack column per
modelled constraint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from botorch.models.gpytorch import GPyTorchModel
from botorch.models.model import Model, ModelList
from botorch.models.model_list_gp_regression import ModelListGP
from scipy.stats import norm, rankdata

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.bo.budget import RefitState, StepPlan
from surrogate_nas.pipelines.search.bo.gp_cache import GPCache
from surrogate_nas.pipelines.search.bo.predictor_model import PredictorModel
from surrogate_nas.pipelines.search.constraints import ConstraintSet
from surrogate_nas.pipelines.search.history import objective_matrix

TRANSFORMS = ("copula", "none")


def copula_transform(y: np.ndarray) -> np.ndarray:
    """Map values to normal scores of their ranks (Salinas et al. 2020).

    Keeps the order, removes scale and outliers (diverged networks at 10%
    accuracy would otherwise flatten the GP near the top, where it matters).
    """
    return norm.ppf((rankdata(y) - 0.5) / len(y))


def targets(trials: Sequence, objectives, score: Callable, constraints: ConstraintSet,
            transform: str = "copula") -> np.ndarray:
    """``n x (m + k)``: the objectives (one: ``score`` of each trial, copula-transformed unless
    ``transform`` is ``"none"``; several: as evaluated, "maximise everything"), then one slack
    per modelled constraint."""
    if len(objectives) > 1:
        Y = objective_matrix(trials, objectives)
    else:
        y = np.array([score(t) for t in trials], dtype=np.float64)
        Y = (copula_transform(y) if transform == "copula" else y)[:, None]
    return np.hstack([Y, constraints.slack(trials)])


class GPSurrogate:
    """Exact GPs kept between steps (see :class:`.gp_cache.GPCache`)."""

    is_gp = True

    def __init__(self, onehot_columns: int = 0, options: dict | None = None) -> None:
        self.cache = GPCache(onehot_columns, options)

    @property
    def state(self) -> RefitState:
        return self.cache.state

    def fit(self, X: np.ndarray, Y: np.ndarray, plan: StepPlan, rng: np.random.Generator) -> Model:
        return self.cache.model(X, Y, plan, rng)


class RefittedSurrogate:
    """A model per output column, fitted on every row at every step.

    Args:
        fit_one: ``(X, y) -> botorch Model`` for one column.
    """

    is_gp = False
    state = RefitState()

    def __init__(self, fit_one: Callable[[np.ndarray, np.ndarray], Model]) -> None:
        self.fit_one = fit_one

    def fit(self, X: np.ndarray, Y: np.ndarray, plan: StepPlan, rng: np.random.Generator) -> Model:
        models = [self.fit_one(X, Y[:, j]) for j in range(Y.shape[1])]
        if len(models) == 1:
            return models[0]
        if all(isinstance(m, GPyTorchModel) for m in models):
            return ModelListGP(*models)
        return ModelList(*models)


def make_surrogate(surrogate, onehot_columns: int = 0, options: dict | None = None):
    """The surrogate component for ``"gp"``, ``"xgb"``, or a callable ``(X, y) -> botorch Model``
    (any other predictor arrives here as such a callable, :func:`.resolve.resolve_surrogate`).

    Raises:
        InputDataError: an unknown name.
    """
    options = dict(options or {})
    if callable(surrogate):
        return RefittedSurrogate(surrogate)
    if surrogate == "gp":
        return GPSurrogate(onehot_columns, options)
    if surrogate == "xgb":
        from surrogate_nas.predictors.xgb import XGBEnsemble

        return RefittedSurrogate(lambda X, y: PredictorModel(XGBEnsemble(**{"n_jobs": 1, **options}).fit(X, y)))
    raise InputDataError(f"unknown surrogate {surrogate!r}; expected one of gp, xgb, or a callable (X, y) -> model")
