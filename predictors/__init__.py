"""Performance predictors: features in, ``(mean, std)`` out.

Names are exported lazily, so importing one predictor does not pay for
importing xgboost, BoTorch and scikit-learn. Features come from the search
space (:meth:`surrogate_nas.spaces.SearchSpace.features`).

    >>> from surrogate_nas.predictors import make_predictor
    >>> from surrogate_nas.spaces import get_space
    >>> make_predictor("xgb", get_space("nb201"))[0]
    'default'
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Predictor": "base",
    "XGBEnsemble": "xgb",
    "GPPredictor": "gp",
    "RandomForestPredictor": "forest",
    "LatencyRegressor": "latency",
    "ProxyPredictor": "baselines",
    "MeanPredictor": "baselines",
    "PREDICTORS": "registry",
    "PREDICTOR_PLUGINS": "registry",
    "make_predictor": "registry",
    "register_predictor": "registry",
    "evaluate_predictions": "metrics",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
