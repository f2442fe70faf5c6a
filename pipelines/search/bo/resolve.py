"""What Bayesian optimisation's ``surrogate`` may be, resolved once, at the boundary.

* ``"gp"``: BO's own GP path (:class:`.gp_cache.GPCache`, hyperparameters kept between steps);
* ``"xgb"``: the XGBoost ensemble (:func:`.surrogates.make_surrogate`);
* any other predictor, by name (built-in, registered or an installed plug-in, see
  :mod:`surrogate_nas.predictors.registry`), ``module:Class``, class or object: a fresh copy is
  fitted per objective (and per modelled constraint) at every step and seen through
  :class:`.predictor_model.PredictorModel`, so the acquisition reads its ``(mean, std)`` as a posterior;
  BO reads the predictor's own feature kind unless told otherwise;
* a function ``(X, y) -> botorch Model``, used as it is.

    >>> fit, kind = resolve_surrogate("rf", get_space("nb201"))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.bo.predictor_model import PredictorModel

SPECIAL = ("gp", "xgb")
"""Surrogates with a path of their own (:func:`.surrogates.make_surrogate`)."""


class PredictorSurrogate:
    """``(X, y) -> PredictorModel``: a fresh predictor of one spec fitted on each call.

    Args:
        spec: a :class:`~surrogate_nas.predictors.registry.PredictorSpec`.
        space: the search space (some predictors size themselves from it).
        options: hyper-parameters set on each fresh predictor (``surrogate_options``).
        label: what it is called in messages.
    """

    def __init__(self, spec, space, options: dict | None = None, label: str = "") -> None:
        self.spec, self.space, self.options, self.label = spec, space, dict(options or {}), label

    def __call__(self, X: np.ndarray, y: np.ndarray) -> PredictorModel:
        predictor = self.spec.factory(self.space)
        if self.options:
            predictor.set_params(**self.options)
        predictor.fit(X, y)
        return PredictorModel(predictor)

    def __repr__(self) -> str:
        return f"PredictorSurrogate({self.label})"


def resolve_surrogate(surrogate, space, options: dict | None = None) -> tuple[str | Callable, str | None]:
    """``(surrogate, feature kind)`` for BO: ``"gp"``/``"xgb"`` as they are, a function ``(X, y) -> Model``
    as it is, any other predictor as a :class:`PredictorSurrogate` with its feature kind (the cheap set
    in place of ``default`` when the space cannot be listed, as BO's own choice does).

    Raises:
        InputDataError: not ``gp``, ``xgb``, a predictor or a function (the message lists the predictors).
        PluginError: an installed predictor plug-in that cannot be loaded.
    """
    from surrogate_nas.predictors.registry import PREDICTOR_PLUGINS, predictor_label

    check_surrogate(surrogate)
    if isinstance(surrogate, str) and surrogate.strip().lower() in SPECIAL:
        return surrogate.strip().lower(), None
    if callable(surrogate) and not isinstance(surrogate, type) and not hasattr(surrogate, "predict"):
        return surrogate, None
    spec = PREDICTOR_PLUGINS.resolve(surrogate)
    kind = spec.features
    if space.enumerate() is None:
        kind = "+".join("cheap" if part.strip() == "default" else part for part in kind.split("+"))
    return PredictorSurrogate(spec, space, options, predictor_label(surrogate, short=True)), kind


def check_surrogate(surrogate) -> None:
    """Refuse, before a search starts, a surrogate BO cannot use (see :func:`resolve_surrogate`)."""
    from surrogate_nas.predictors.registry import PREDICTOR_PLUGINS

    if isinstance(surrogate, str) and surrogate.strip().lower() in SPECIAL:
        return
    if callable(surrogate) and not isinstance(surrogate, type) and not hasattr(surrogate, "predict"):
        return
    if isinstance(surrogate, str) and surrogate not in PREDICTOR_PLUGINS and ":" not in surrogate:
        raise InputDataError(f"unknown surrogate {surrogate!r}; expected gp or a predictor: "
                             f"{PREDICTOR_PLUGINS.describe_choices()}")
    PREDICTOR_PLUGINS.resolve(surrogate)


def surrogate_label(surrogate, short: bool = True) -> str:
    """What a search calls its surrogate: a name, ``module:Class`` as written, a predictor's ``name``
    (not ``short``: an object's ``repr``, with its hyper-parameters), or a function's name."""
    if isinstance(surrogate, str):
        return surrogate.strip().lower() if ":" not in surrogate else surrogate.strip()
    from surrogate_nas.predictors.registry import predictor_label

    if callable(surrogate) and not isinstance(surrogate, type) and not hasattr(surrogate, "predict"):
        return getattr(surrogate, "__qualname__", type(surrogate).__name__)
    return predictor_label(surrogate, short)
