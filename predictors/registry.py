"""Named predictors: one name gives a feature kind and a fresh, unfitted predictor.

Factories are called only when asked for, so naming one predictor never builds
the others. Feature kinds are those of
:func:`surrogate_nas.predictors.features.featurize`. Default feature sets were
chosen by measurement on NAS-Bench-201 (``benchmarks/predictors.py``):
live-op counts plus analytic cost lift XGBoost's Kendall tau from about 0.30 to 0.66 at
n=56 over the plain one-hot encoding, which is kept as ``xgb-onehot`` to
reproduce the literature's plain baseline.

    >>> kind, predictor = make_predictor("mean")
    >>> kind, type(predictor).__name__
    ('onehot', 'MeanPredictor')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from surrogate_nas.errors import InputDataError
from surrogate_nas.predictors.base import Predictor
from surrogate_nas.predictors.baselines import MeanPredictor, ProxyPredictor
from surrogate_nas.predictors.forest import RandomForestPredictor
from surrogate_nas.predictors.gp import GPPredictor
from surrogate_nas.predictors.xgb import XGBEnsemble


@dataclass(frozen=True)
class PredictorSpec:
    """A registered predictor: its feature kind and a factory for a fresh instance."""

    features: str
    factory: Callable[[], Predictor]
    description: str


PREDICTORS: dict[str, PredictorSpec] = {
    "xgb": PredictorSpec("liveops+cost+zc", XGBEnsemble, "XGBoost ensemble on live-op counts, cost, zero-cost proxies"),
    "xgb-nozc": PredictorSpec("liveops+cost", XGBEnsemble, "XGBoost ensemble on live-op counts and cost"),
    "xgb-onehot": PredictorSpec("onehot", XGBEnsemble, "XGBoost ensemble on the one-hot encoding (plain baseline)"),
    "gp": PredictorSpec("liveops+cost+zc", GPPredictor, "exact GP, Matern-5/2 ARD on live-op counts, cost, proxies"),
    "gp-nozc": PredictorSpec("liveops+cost", GPPredictor, "exact GP, Matern-5/2 ARD on live-op counts and cost"),
    "gp-onehot": PredictorSpec(
        "onehot", lambda: GPPredictor(onehot_columns=30), "exact GP, Hamming kernel on the 6 edge operations"
    ),
    "rf": PredictorSpec("liveops+cost+zc", RandomForestPredictor, "random forest, std across trees"),
    "params": PredictorSpec("cost", lambda: ProxyPredictor(column=0), "log parameter count (rank baseline)"),
    "flops": PredictorSpec("cost", lambda: ProxyPredictor(column=1), "log FLOPs (rank baseline)"),
    "synflow": PredictorSpec("zc", lambda: ProxyPredictor(column=0), "synflow zero-cost proxy (rank baseline)"),
    "nwot": PredictorSpec("zc", lambda: ProxyPredictor(column=1), "NASWOT zero-cost proxy (rank baseline)"),
    "mean": PredictorSpec("onehot", MeanPredictor, "training mean (floor)"),
}
"""Registered predictors by name."""


def make_predictor(name: str) -> tuple[str, Predictor]:
    """Feature kind and a fresh predictor for ``name``.

    Raises:
        InputDataError: ``name`` is not in :data:`PREDICTORS`.
    """
    spec = PREDICTORS.get(name)
    if spec is None:
        raise InputDataError(f"unknown predictor {name!r}; expected one of {', '.join(PREDICTORS)}")
    return spec.features, spec.factory()
