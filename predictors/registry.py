"""Named predictors: one name gives a feature kind and a fresh, unfitted predictor.

Factories are called only when asked for, so naming one predictor never builds
the others. Feature kinds are those of the search space
(:meth:`surrogate_nas.spaces.SearchSpace.features`): ``default`` is the space's best
set, chosen by measurement (``benchmarks/predictors.py``; on NAS-Bench-201 live-op
counts plus analytic cost lift XGBoost's Kendall tau from about 0.30 to 0.66 at n=56
over the plain one-hot encoding, which is kept as ``xgb-onehot`` to reproduce the
literature's plain baseline), ``cheap`` the same without zero-cost proxies, and
``onehot``, ``cost`` and ``zc`` mean the same in every space; ``latency`` is what the
``latency`` predictor reads (on NAS-Bench-201 the cells' latency on known devices).

    >>> from surrogate_nas.spaces import get_space
    >>> kind, predictor = make_predictor("mean", get_space("nb201"))
    >>> kind, type(predictor).__name__
    ('onehot', 'MeanPredictor')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from surrogate_nas.errors import InputDataError
from surrogate_nas.spaces import SearchSpace
from surrogate_nas.predictors.base import Predictor
from surrogate_nas.predictors.baselines import MeanPredictor, ProxyPredictor
from surrogate_nas.predictors.forest import RandomForestPredictor
from surrogate_nas.predictors.gp import GPPredictor
from surrogate_nas.predictors.latency import LatencyRegressor
from surrogate_nas.predictors.xgb import XGBEnsemble


@dataclass(frozen=True)
class PredictorSpec:
    """A registered predictor: its feature kind and a factory for a fresh instance for a space."""

    features: str
    factory: Callable[[SearchSpace], Predictor]
    description: str


def _plain(cls) -> Callable[[SearchSpace], Predictor]:
    return lambda space: cls()


def _hamming_gp(space: SearchSpace) -> Predictor:
    return GPPredictor(onehot_columns=len(space.feature_names("onehot")))


PREDICTORS: dict[str, PredictorSpec] = {
    "xgb": PredictorSpec("default", _plain(XGBEnsemble), "XGBoost ensemble on the space's default features"),
    "xgb-nozc": PredictorSpec("cheap", _plain(XGBEnsemble), "XGBoost ensemble without zero-cost proxies"),
    "xgb-onehot": PredictorSpec("onehot", _plain(XGBEnsemble), "XGBoost ensemble on the one-hot encoding (plain baseline)"),
    "gp": PredictorSpec("default", _plain(GPPredictor), "exact GP, Matern-5/2 ARD on the space's default features"),
    "gp-nozc": PredictorSpec("cheap", _plain(GPPredictor), "exact GP, Matern-5/2 ARD without zero-cost proxies"),
    "gp-onehot": PredictorSpec("onehot", _hamming_gp, "exact GP, Hamming kernel on the one-hot encoding"),
    "rf": PredictorSpec("default", _plain(RandomForestPredictor), "random forest, std across trees"),
    "params": PredictorSpec("cost", lambda space: ProxyPredictor(column=0), "log parameter count (rank baseline)"),
    "flops": PredictorSpec("cost", lambda space: ProxyPredictor(column=1), "log FLOPs (rank baseline)"),
    "synflow": PredictorSpec("zc", lambda space: ProxyPredictor(column=0), "synflow zero-cost proxy (rank baseline)"),
    "nwot": PredictorSpec("zc", lambda space: ProxyPredictor(column=1), "NASWOT zero-cost proxy (rank baseline)"),
    "mean": PredictorSpec("onehot", _plain(MeanPredictor), "training mean (floor)"),
    "latency": PredictorSpec("latency", _plain(LatencyRegressor),
                             "latency model for a new device: ridge on log latency (NB-201: transfers from the "
                             "cells' measured latency on 27 device settings)"),
}
"""Registered predictors by name."""


def make_predictor(name: str, space: SearchSpace) -> tuple[str, Predictor]:
    """Feature kind and a fresh predictor for ``name`` on ``space``.

    Raises:
        InputDataError: ``name`` is not in :data:`PREDICTORS`.
    """
    spec = PREDICTORS.get(name)
    if spec is None:
        raise InputDataError(f"unknown predictor {name!r}; expected one of {', '.join(PREDICTORS)}")
    return spec.features, spec.factory(space)
