"""Named predictors: one name gives a feature kind and a fresh, unfitted predictor.

Factories are called only when asked for, so naming one predictor never builds
the others. Feature kinds are those of the search space
(:meth:`surrogate_nas.spaces.SearchSpace.features`): ``default`` is the space's best
set, chosen by measurement (on NAS-Bench-201, live-op counts plus analytic cost rank far
better than the plain one-hot encoding, which is kept as ``xgb-onehot`` to reproduce the
literature's plain baseline; the section "Performance predictors on NAS-Bench-201" of
``docs/benchmarks.md`` has both), ``cheap`` the same without zero-cost proxies, and
``onehot``, ``cost``, ``zc``, ``zcall`` and ``dag`` mean the same in every space; ``latency``
is what the ``latency`` predictor reads (on NAS-Bench-201 the cells' latency on known devices).
Models that need to know the layout of their features (the GP's categorical kernel on the
one-hot columns, the graph network's ``dag`` block) get it from the space here, so every
predictor keeps the plain ``fit(X, y)`` contract.

    >>> from surrogate_nas.spaces import get_space
    >>> kind, predictor = make_predictor("mean", get_space("nb201"))
    >>> kind, type(predictor).__name__
    ('onehot', 'MeanPredictor')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from surrogate_nas.errors import InputDataError
from surrogate_nas.proxy_names import PROXY_NAMES
from surrogate_nas.spaces import SearchSpace
from surrogate_nas.predictors.base import Predictor
from surrogate_nas.predictors.baselines import MeanPredictor, ProxyPredictor
from surrogate_nas.predictors.ensemble import GPXGBEnsemble
from surrogate_nas.predictors.forest import RandomForestPredictor
from surrogate_nas.predictors.gnn import GraphNetPredictor
from surrogate_nas.predictors.gp import GPPredictor
from surrogate_nas.predictors.latency import LatencyRegressor
from surrogate_nas.predictors.xgb import XGBEnsemble
from surrogate_nas.spaces.dag import dag_nodes, dag_shape


@dataclass(frozen=True)
class PredictorSpec:
    """A registered predictor: its feature kind and a factory for a fresh instance for a space."""

    features: str
    factory: Callable[[SearchSpace], Predictor]
    description: str


def _plain(cls) -> Callable[[SearchSpace], Predictor]:
    return lambda space: cls()


def _onehot_columns(space: SearchSpace) -> int:
    return len(space.feature_names("onehot"))


def _hamming_gp(space: SearchSpace) -> Predictor:
    return GPPredictor(onehot_columns=_onehot_columns(space))


def _gp_xgb(space: SearchSpace) -> Predictor:
    return GPXGBEnsemble(onehot_columns=_onehot_columns(space))


def _graph_net(space: SearchSpace) -> Predictor:
    names = space.feature_names("dag")
    n_nodes, n_types = dag_shape(len(names), dag_nodes(names))
    return GraphNetPredictor(n_nodes=n_nodes, n_node_types=n_types)


def _proxy(name: str) -> Callable[[SearchSpace], Predictor]:
    return lambda space: ProxyPredictor(column=PROXY_NAMES.index(name))


ALL = "all"
"""The name that asks for every registered predictor (``compare --predictors all``)."""


PREDICTORS: dict[str, PredictorSpec] = {
    "xgb": PredictorSpec("default", _plain(XGBEnsemble), "XGBoost ensemble on the space's default features"),
    "xgb-nozc": PredictorSpec("cheap", _plain(XGBEnsemble), "XGBoost ensemble without zero-cost proxies"),
    "xgb-onehot": PredictorSpec("onehot", _plain(XGBEnsemble), "XGBoost ensemble on the one-hot encoding (plain baseline)"),
    "gp": PredictorSpec("default", _plain(GPPredictor), "exact GP, Matern-5/2 ARD on the space's default features"),
    "gp-nozc": PredictorSpec("cheap", _plain(GPPredictor), "exact GP, Matern-5/2 ARD without zero-cost proxies"),
    "gp-onehot": PredictorSpec("onehot", _hamming_gp, "exact GP, Hamming kernel on the one-hot encoding"),
    "gp-cat": PredictorSpec("onehot+default", _hamming_gp,
                            "exact GP, categorical kernel on the operations + Matern ARD on the default features"),
    "gp+xgb": PredictorSpec("onehot+default", _gp_xgb, "mixture of gp-cat and xgb, both on copula scores"),
    "gnn": PredictorSpec("dag+default", _graph_net,
                         "ensemble of small graph networks on the cell DAG + default features, ranking loss"),
    "rf": PredictorSpec("default", _plain(RandomForestPredictor), "random forest, std across trees"),
    "params": PredictorSpec("cost", lambda space: ProxyPredictor(column=0), "log parameter count (rank baseline)"),
    "flops": PredictorSpec("cost", lambda space: ProxyPredictor(column=1), "log FLOPs (rank baseline)"),
    "synflow": PredictorSpec("zcall", _proxy("synflow"), "synflow zero-cost proxy (rank baseline)"),
    "nwot": PredictorSpec("zcall", _proxy("nwot"), "NASWOT zero-cost proxy (rank baseline)"),
    "mean": PredictorSpec("onehot", _plain(MeanPredictor), "training mean (floor)"),
    "latency": PredictorSpec("latency", _plain(LatencyRegressor),
                             "latency model for a new device: ridge on log latency (NB-201: transfers from the "
                             "cells' measured latency on 27 device settings)"),
}
"""Registered predictors by name."""


def expand_names(names: list[str]) -> list[str]:
    """``names`` with :data:`ALL` replaced by every registered predictor, duplicates dropped."""
    out = [n for name in names for n in (PREDICTORS if name == ALL else [name])]
    return list(dict.fromkeys(out))


def make_predictor(name: str, space: SearchSpace) -> tuple[str, Predictor]:
    """Feature kind and a fresh predictor for ``name`` on ``space``.

    Raises:
        InputDataError: ``name`` is not in :data:`PREDICTORS`.
    """
    spec = PREDICTORS.get(name)
    if spec is None:
        raise InputDataError(f"unknown predictor {name!r}; expected one of {', '.join(PREDICTORS)}")
    return spec.features, spec.factory(space)
