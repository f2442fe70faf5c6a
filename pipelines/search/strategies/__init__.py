"""Search strategies behind one ask/tell interface, and their registry.

Entries are import paths plus preset options, so naming one strategy never imports
the others (BO pulls in BoTorch). The CLI reads its choices from :data:`STRATEGIES`.

    >>> s = make_strategy("rs", "nb201", seed=0)
    >>> len(s.ask(3))
    3
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from surrogate_nas.errors import InputDataError
from surrogate_nas.spaces import get_space
from surrogate_nas.pipelines.search.strategies.base import Strategy


@dataclass(frozen=True)
class StrategySpec:
    """A registered strategy: where its class lives, preset options, one line of help.

    ``models_constraints``: the class takes a ``constraints=`` :class:`..constraints.ConstraintSet`
    and models the constraints it cannot check before evaluating (the others only record them).
    """

    path: str
    description: str
    options: dict = field(default_factory=dict)
    multi_objective: bool = False
    multi_fidelity: bool = False
    models_constraints: bool = False


_BO = "surrogate_nas.pipelines.search.strategies.bayesopt:BayesianOptimization"

STRATEGIES: dict[str, StrategySpec] = {
    "bo": StrategySpec(_BO, "Bayesian optimisation (BoTorch; --surrogate gp|xgb)", multi_objective=True,
                       models_constraints=True),
    "bo-gp": StrategySpec(_BO, "Bayesian optimisation with a GP surrogate", {"surrogate": "gp"},
                          multi_objective=True, models_constraints=True),
    "bo-xgb": StrategySpec(_BO, "Bayesian optimisation with an XGBoost-ensemble surrogate", {"surrogate": "xgb"},
                           multi_objective=True, models_constraints=True),
    "rs": StrategySpec("surrogate_nas.pipelines.search.strategies.random:RandomSearch", "random search",
                       multi_objective=True),
    "rea": StrategySpec("surrogate_nas.pipelines.search.strategies.evolution:RegularizedEvolution",
                        "regularized evolution"),
    "ls": StrategySpec("surrogate_nas.pipelines.search.strategies.local:LocalSearch", "local search"),
    "mf-bo": StrategySpec("surrogate_nas.pipelines.search.strategies.multifidelity:MultiFidelityBO",
                          "multi-fidelity BO: successive-halving promotions, new candidates from a GP over "
                          "architecture and fidelity", multi_fidelity=True),
    "sh": StrategySpec("surrogate_nas.pipelines.search.strategies.rungs:SuccessiveHalving",
                       "asynchronous successive halving with random candidates", multi_fidelity=True),
    "hb": StrategySpec("surrogate_nas.pipelines.search.strategies.rungs:Hyperband",
                       "asynchronous Hyperband with random candidates", multi_fidelity=True),
}
"""Strategy name -> :class:`StrategySpec`."""


def make_strategy(name: str, space, objectives=None, seed: int = 0, constraints=None, **options) -> Strategy:
    """Build the strategy registered as ``name`` for ``space``.

    Args:
        name: a key of :data:`STRATEGIES`.
        space: the search space (or its registered name).
        objectives: objectives to optimise; two or more make the search multi-objective.
        seed: random seed.
        constraints: a :class:`..constraints.ConstraintSet`: the strategy searches ``space``
            without what its known constraints rule out, and strategies that model
            constraints get the set.
        **options: keyword arguments of the strategy class (override the preset ones).

    Raises:
        InputDataError: unknown name, or more objectives than the strategy handles.
    """
    key = str(name).strip().lower()
    spec = STRATEGIES.get(key)
    if spec is None:
        raise InputDataError(f"unknown search strategy {name!r}; expected one of {', '.join(STRATEGIES)}")
    module, _, cls = spec.path.partition(":")
    strategy_class = getattr(importlib.import_module(module), cls)
    if constraints:
        space = constraints.restrict(get_space(space))
        if spec.models_constraints:
            options = {**options, "constraints": constraints}
    return strategy_class(space, objectives, seed, **{**spec.options, **options})


__all__ = ["STRATEGIES", "Strategy", "StrategySpec", "make_strategy"]
