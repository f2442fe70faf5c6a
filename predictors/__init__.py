"""Performance predictors: features in, ``(mean, std)`` out.

Names are exported lazily, so ``import surrogate_nas.predictors.features``
does not pay for importing xgboost, BoTorch and scikit-learn.

    >>> from surrogate_nas.predictors import make_predictor
    >>> make_predictor("xgb")[0]
    'liveops+cost+zc'
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Predictor": "base",
    "XGBEnsemble": "xgb",
    "GPPredictor": "gp",
    "RandomForestPredictor": "forest",
    "ProxyPredictor": "baselines",
    "MeanPredictor": "baselines",
    "PREDICTORS": "registry",
    "make_predictor": "registry",
    "evaluate_predictions": "metrics",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
