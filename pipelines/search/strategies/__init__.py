"""Search strategies behind one ask/tell interface, and their registry.

Built-in entries are import paths plus preset options, so naming one strategy never imports
the others (BO pulls in BoTorch). Strategies of your own are plug-ins: register one in code
(:func:`register_strategy`), declare it in your package's ``surrogate_nas.strategies``
entry-point group, or name it ``module:Class`` (see :mod:`surrogate_nas.plugins`); the CLI,
the Python API and :func:`make_strategy` take all of them alike. What a search may ask of a
strategy is read from the strategy itself (:class:`StrategySpec`'s capabilities), never
from its name.

    >>> s = make_strategy("rs", "nb201", seed=0)
    >>> len(s.ask(3))
    3
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from surrogate_nas.errors import InputDataError
from surrogate_nas.plugins import GROUPS, Registry
from surrogate_nas.spaces import get_space
from surrogate_nas.pipelines.search.history import Objective, parse_objectives
from surrogate_nas.pipelines.search.strategies.base import SEARCH_OPTIONS, Strategy

DEFAULT_OBJECTIVES = (Objective("value"),)
"""What a strategy built without objectives optimises (a search gives such an object its own)."""


@dataclass(frozen=True)
class StrategySpec:
    """A named strategy: its class (or a factory), preset options, one line of help.

    Its capabilities are read from the class (or the factory's attributes of the same names),
    so they are declared once, where the strategy is written:

    * ``multi_objective``: it searches two or more objectives;
    * ``multi_fidelity``: it evaluates at the fidelities the evaluator offers;
    * ``models_constraints``: it takes a ``constraints=`` :class:`..constraints.ConstraintSet`
      and models the constraints it cannot check before evaluating (the others only record them);
    * ``search_options``: which of the search's options (:data:`.base.SEARCH_OPTIONS`:
      ``surrogate``, ``acquisition``, ``step_seconds``, ``eta``) it takes as keyword arguments.

    Attributes:
        path: ``module:Class``, or the class (or a function called like it) itself.
        description: one line for ``surrogate-nas strategies``.
        options: preset keyword arguments (a search's own options never override them).
    """

    path: str | Callable
    description: str = ""
    options: dict = field(default_factory=dict)

    def load(self) -> Callable[..., Strategy]:
        """The class or factory (imported on first use)."""
        return _import(self.path) if isinstance(self.path, str) else self.path

    def _flag(self, name: str):
        return getattr(self.load(), name, getattr(Strategy, name))

    @property
    def multi_objective(self) -> bool:
        return bool(self._flag("multi_objective"))

    @property
    def multi_fidelity(self) -> bool:
        return bool(self._flag("multi_fidelity"))

    @property
    def models_constraints(self) -> bool:
        return bool(self._flag("models_constraints"))

    @property
    def search_options(self) -> tuple[str, ...]:
        """The search options it takes, less those its presets fix."""
        return tuple(o for o in self._flag("search_options") if o in SEARCH_OPTIONS and o not in self.options)

    def default(self, option: str):
        """The value of keyword ``option`` when a search does not give it: the preset, else the
        class's own default (None when it has none)."""
        if option in self.options:
            return self.options[option]
        try:
            parameter = inspect.signature(self.load()).parameters.get(option)
        except (TypeError, ValueError):  # a callable without a signature
            return None
        return None if parameter is None or parameter.default is inspect.Parameter.empty else parameter.default

    def build(self, space, objectives=None, seed: int = 0, constraints=None, **options) -> Strategy:
        """The strategy for ``space`` (see :func:`make_strategy`)."""
        if constraints:
            space = constraints.restrict(get_space(space))
            if self.models_constraints:
                options = {**options, "constraints": constraints}
        strategy = self.load()(space, objectives, seed, **{**self.options, **options})
        if not isinstance(strategy, Strategy):
            raise InputDataError(f"{_label_of(self.path)} made a {type(strategy).__name__}, not a Strategy")
        return strategy


@lru_cache(maxsize=None)
def _import(path: str):
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


_BO = "surrogate_nas.pipelines.search.strategies.bayesopt:BayesianOptimization"

STRATEGIES: dict[str, StrategySpec] = {
    "bo": StrategySpec(_BO, "Bayesian optimisation (BoTorch; --surrogate gp, xgb or any predictor)"),
    "bo-gp": StrategySpec(_BO, "Bayesian optimisation with a GP surrogate", {"surrogate": "gp"}),
    "bo-xgb": StrategySpec(_BO, "Bayesian optimisation with an XGBoost-ensemble surrogate", {"surrogate": "xgb"}),
    "rs": StrategySpec("surrogate_nas.pipelines.search.strategies.random:RandomSearch", "random search"),
    "rea": StrategySpec("surrogate_nas.pipelines.search.strategies.evolution:RegularizedEvolution",
                        "regularized evolution"),
    "ls": StrategySpec("surrogate_nas.pipelines.search.strategies.local:LocalSearch", "local search"),
    "mf-bo": StrategySpec("surrogate_nas.pipelines.search.strategies.multifidelity:MultiFidelityBO",
                          "multi-fidelity BO: successive-halving promotions, new candidates from a GP over "
                          "architecture and fidelity"),
    "sh": StrategySpec("surrogate_nas.pipelines.search.strategies.rungs:SuccessiveHalving",
                       "asynchronous successive halving with random candidates"),
    "hb": StrategySpec("surrogate_nas.pipelines.search.strategies.rungs:Hyperband",
                       "asynchronous Hyperband with random candidates"),
}
"""Built-in strategy name -> :class:`StrategySpec`."""


def make_strategy_spec(obj, name: str | None = None) -> StrategySpec:
    """A :class:`StrategySpec` from what a plug-in names: a spec, a :class:`Strategy` subclass, or a
    function called like one (``(space, objectives, seed, **options) -> Strategy``).

    Raises:
        TypeError: anything else (a strategy *object* is not a name's value: it has one search's state).
    """
    if isinstance(obj, StrategySpec):
        return obj
    if isinstance(obj, type) and not issubclass(obj, Strategy):
        raise TypeError(f"{obj.__name__} is not a subclass of surrogate_nas.pipelines.search.Strategy")
    if isinstance(obj, Strategy) or not callable(obj):
        raise TypeError(f"expected a Strategy subclass, a StrategySpec or a function returning a Strategy, "
                        f"got {type(obj).__name__}")
    doc = (obj.__doc__ or "").strip()
    return StrategySpec(obj, doc.splitlines()[0] if doc else "")


STRATEGY_PLUGINS: Registry[StrategySpec] = Registry("search strategy", GROUPS["strategy"], STRATEGIES,
                                                    make_strategy_spec, "surrogate-nas strategies")
"""Every named strategy: :data:`STRATEGIES`, :func:`register_strategy` and ``surrogate_nas.strategies`` entry points."""


def register_strategy(name: str, strategy, description: str = "", replace: bool = False, **options) -> None:
    """Give a strategy a name usable wherever a strategy name goes (``--strategy NAME`` included) in this process.

    Args:
        name: the name.
        strategy: a :class:`Strategy` subclass, a function called like one, a :class:`StrategySpec`
            or a ``module:Class`` import path.
        description: one line for ``surrogate-nas strategies`` (default: the class's first doc line).
        replace: replace an earlier registration of the same name.
        **options: preset keyword arguments of the class.

    Raises:
        InputDataError: a built-in name, or one already registered without ``replace``.
    """
    if description or options:
        spec = make_strategy_spec(strategy) if not isinstance(strategy, str) else StrategySpec(strategy)
        strategy = StrategySpec(spec.path, description or spec.description, {**spec.options, **options})
    STRATEGY_PLUGINS.register(name, strategy, replace)


def resolve_strategy(strategy) -> StrategySpec:
    """The spec of a strategy given by name, ``module:Class``, class, factory or spec.

    Raises:
        InputDataError: unknown name, or not a strategy (the message lists the installed ones).
        PluginError: an installed strategy plug-in that cannot be loaded.
    """
    return STRATEGY_PLUGINS.resolve(strategy)


def strategy_label(strategy) -> str:
    """The name a search stores for its strategy: a registered name, a ``module:Class`` as written,
    or the ``name`` of a class, factory or object (its ``module:Class`` when it has none)."""
    if isinstance(strategy, str):
        text = strategy.strip()
        return text.lower() if text in STRATEGY_PLUGINS else text
    if isinstance(strategy, StrategySpec):
        return strategy_label(strategy.path) if isinstance(strategy.path, str) else _label_of(strategy.path)
    return _label_of(strategy)


def _label_of(obj) -> str:
    if isinstance(obj, str):
        return obj
    name = getattr(obj, "name", None)
    if isinstance(name, str) and name and name != Strategy.name:
        return name
    target = obj if callable(obj) and hasattr(obj, "__qualname__") else type(obj)
    return f"{target.__module__}:{target.__qualname__}"


def strategy_spec_of(strategy) -> StrategySpec:
    """The spec of a strategy given by name, class, factory or spec, or of a strategy object's class
    (to read its capabilities)."""
    return StrategySpec(type(strategy)) if isinstance(strategy, Strategy) else resolve_strategy(strategy)


def build_for_search(strategy, space, objectives, seed: int, constraints=None, **search_options) -> Strategy:
    """The strategy a search runs: built from a name, class, factory or spec with the search options
    it takes (:attr:`StrategySpec.search_options`), or a strategy object checked against the search.

    A strategy object must be fresh (nothing told yet: a search tells it its stored trials itself),
    search ``space`` with ``seed``, and either optimise ``objectives`` or have been built without
    objectives (it is then given the search's). Constraints need a strategy by name or class, built
    for them.

    Raises:
        InputDataError: a strategy object that does not fit the search.
    """
    if not isinstance(strategy, Strategy):
        spec = resolve_strategy(strategy)
        taken = {k: v for k, v in search_options.items() if k in spec.search_options}
        return spec.build(space, objectives, seed, constraints, **taken)
    strategy.objectives = check_strategy_object(strategy, space, objectives, seed, constraints)
    return strategy


def check_strategy_object(strategy: Strategy, space, objectives, seed: int, constraints=None) -> tuple:
    """Refuse a strategy object that does not fit a search (see :func:`build_for_search`); returns the
    objectives it is to optimise.

    Raises:
        InputDataError: it was told trials, searches another space, has another seed, the search has
            constraints, or it optimises other objectives.
    """
    label = strategy_label(strategy)
    if strategy.history:
        raise InputDataError(f"the strategy object {label} has been told {len(strategy.history)} trials; pass a fresh "
                             "one (a search tells it its stored trials itself)")
    if strategy.space.name != space.name:
        raise InputDataError(f"the strategy object {label} searches the {strategy.space.name} space, the search "
                             f"{space.name}")
    if int(strategy.seed) != int(seed):
        raise InputDataError(f"the strategy object {label} was built with seed {strategy.seed}, the search has "
                             f"seed {seed}; build it with the same seed")
    if constraints:
        raise InputDataError(f"a search under constraints builds its strategy for them: pass {label}'s class or "
                             "name rather than an object")
    wanted = tuple(parse_objectives(objectives)) if objectives else strategy.objectives
    if strategy.objectives == DEFAULT_OBJECTIVES:
        if len(wanted) > 1 and not strategy.multi_objective:
            raise InputDataError(f"strategy {label!r} is single-objective; got {len(wanted)} objectives")
        return wanted
    if strategy.objectives != wanted:
        raise InputDataError(f"the strategy object {label} optimises {', '.join(map(str, strategy.objectives))}; the "
                             f"search {', '.join(map(str, wanted))}: build it without objectives or with these")
    return wanted


def make_strategy(name, space, objectives=None, seed: int = 0, constraints=None, **options) -> Strategy:
    """Build the strategy ``name`` stands for, for ``space``.

    Args:
        name: a built-in, registered or installed strategy's name, ``module:Class``, a
            :class:`Strategy` subclass, a function called like one, or a :class:`StrategySpec`.
        space: the search space (or its name).
        objectives: objectives to optimise; two or more make the search multi-objective.
        seed: random seed.
        constraints: a :class:`..constraints.ConstraintSet`: the strategy searches ``space``
            without what its known constraints rule out, and strategies that model
            constraints get the set.
        **options: keyword arguments of the strategy class (override the preset ones).

    Raises:
        InputDataError: unknown name, or more objectives than the strategy handles.
        PluginError: an installed strategy plug-in that cannot be loaded.
    """
    return resolve_strategy(name).build(space, objectives, seed, constraints, **options)


__all__ = ["SEARCH_OPTIONS", "STRATEGIES", "STRATEGY_PLUGINS", "Strategy", "StrategySpec", "build_for_search",
           "check_strategy_object",
           "make_strategy", "register_strategy", "resolve_strategy", "strategy_label", "strategy_spec_of"]
