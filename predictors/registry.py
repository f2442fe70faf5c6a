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

Predictors of your own are plug-ins: :func:`register_predictor` in code, the
``surrogate_nas.predictors`` entry-point group of an installed package, or ``module:Class``
(see :mod:`surrogate_nas.plugins`); they work in ``compare`` and as BO's surrogate
(``--surrogate NAME``) like the built-in ones.

    >>> from surrogate_nas.spaces import get_space
    >>> kind, predictor = make_predictor("mean", get_space("nb201"))
    >>> kind, type(predictor).__name__
    ('onehot', 'MeanPredictor')
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from surrogate_nas.errors import InputDataError
from surrogate_nas.plugins import GROUPS, Registry
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


def make_predictor_spec(obj, name: str | None = None) -> PredictorSpec:
    """A :class:`PredictorSpec` from what a plug-in names: a spec, a predictor class (built without
    arguments), a predictor object (each use gets a fresh, unfitted copy of it), or a factory
    ``space -> predictor``. The feature kind is the spec's, else the class's or object's ``features``
    attribute, else ``default`` (the space's best set).

    Raises:
        TypeError: anything else, or a predictor without ``fit`` and ``predict``.
    """
    if isinstance(obj, PredictorSpec):
        return obj
    features = getattr(obj, "features", None)
    features = features if isinstance(features, str) and features else "default"
    doc = (getattr(obj, "__doc__", None) or "").strip()
    description = doc.splitlines()[0] if doc else ""
    if isinstance(obj, type):
        _check_predictor_type(obj)
        return PredictorSpec(features, lambda space, cls=obj: cls(), description)
    if hasattr(obj, "fit") and hasattr(obj, "predict"):
        return PredictorSpec(features, lambda space, proto=obj: fresh_copy(proto), description)
    if callable(obj):
        return PredictorSpec(features, obj, description)
    raise TypeError(f"expected a predictor class or object (fit(X, y), predict(X) -> (mean, std)), a "
                    f"PredictorSpec or a function space -> predictor, got {type(obj).__name__}")


def _check_predictor_type(cls) -> None:
    if not (hasattr(cls, "fit") and hasattr(cls, "predict")):
        raise TypeError(f"{cls.__name__} has no fit and predict methods")


def fresh_copy(predictor) -> Predictor:
    """A new, unfitted predictor like ``predictor``: scikit-learn's ``clone`` when it has
    ``get_params``, else a deep copy (of an unfitted object)."""
    if hasattr(predictor, "get_params"):
        return type(predictor)(**predictor.get_params())
    return copy.deepcopy(predictor)


PREDICTOR_PLUGINS: Registry[PredictorSpec] = Registry("predictor", GROUPS["predictor"], PREDICTORS,
                                                      make_predictor_spec, "surrogate-nas predictors")
"""Every named predictor: :data:`PREDICTORS`, :func:`register_predictor` and ``surrogate_nas.predictors`` entry points."""


def register_predictor(name: str, predictor, features: str | None = None, description: str = "",
                       replace: bool = False) -> None:
    """Give a predictor a name usable in ``compare --predictors`` and as ``--surrogate`` in this process.

    Args:
        name: the name.
        predictor: a predictor class, object or factory ``space -> predictor``, a :class:`PredictorSpec`,
            or a ``module:Class`` import path (see :func:`make_predictor_spec`).
        features: the space's feature kind it reads (default: its ``features`` attribute, else ``default``).
        description: one line for ``surrogate-nas predictors``.
        replace: replace an earlier registration of the same name.

    Raises:
        InputDataError: a built-in name, or one already registered without ``replace``.
    """
    if features or description:
        spec = make_predictor_spec(predictor) if not isinstance(predictor, str) else None
        if spec is None:
            raise InputDataError("give features/description with a predictor class or object, not an import path")
        predictor = PredictorSpec(features or spec.features, spec.factory, description or spec.description)
    PREDICTOR_PLUGINS.register(name, predictor, replace)


def expand_names(names: list) -> list:
    """``names`` with :data:`ALL` replaced by every named predictor (plug-ins included), duplicates dropped."""
    out = [n for name in names for n in (PREDICTOR_PLUGINS.names() if name == ALL else [name])]
    return list(dict.fromkeys(out))


def predictor_label(predictor, short: bool = False) -> str:
    """How a predictor given by name, ``module:Class``, class or object is called in results: its name,
    the reference as written, or for an object its ``repr`` with the hyper-parameters (``short``: its
    class's ``name``, else the class name)."""
    if isinstance(predictor, str):
        text = predictor.strip()
        return text.lower() if text in PREDICTOR_PLUGINS else text
    if not short and not isinstance(predictor, type) and hasattr(predictor, "get_params"):
        return repr(predictor)
    name = getattr(predictor, "name", None)
    if isinstance(name, str) and name and name != Predictor.name:
        return name
    cls = predictor if isinstance(predictor, type) else type(predictor)
    return cls.__name__


def make_predictor(name, space: SearchSpace) -> tuple[str, Predictor]:
    """Feature kind and a fresh predictor for ``name`` on ``space``.

    Args:
        name: a built-in, registered or installed predictor's name, ``module:Class``, or a
            predictor class, object or :class:`PredictorSpec`.

    Raises:
        InputDataError: an unknown name (the message lists the installed ones), or not a predictor.
        PluginError: an installed predictor plug-in that cannot be loaded.
    """
    spec = PREDICTOR_PLUGINS.resolve(name)
    return spec.features, spec.factory(space)
