"""Architecture search over any registered search space.

Strategies (:mod:`.strategies`) propose architectures through ask/tell, evaluators
(:mod:`.evaluators`) score them, backends (:mod:`.backends`) run the evaluations in
batches or asynchronously, :func:`.runner.run_search` runs the loop and
:mod:`.benchmark` compares strategies on a benchmark table.

Names are exported lazily, so importing the strategy registry (as the CLI does to list
its choices) does not import BoTorch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "STRATEGIES": "strategies",
    "STRATEGY_PLUGINS": "strategies",
    "Strategy": "strategies",
    "StrategySpec": "strategies",
    "make_strategy": "strategies",
    "register_strategy": "strategies",
    "Backend": "backends",
    "BatchBackend": "backends",
    "SimulatedBackend": "backends",
    "Evaluator": "evaluators",
    "Observation": "evaluators",
    "TabularEvaluator": "evaluators",
    "Objective": "history",
    "Suggestion": "history",
    "Trial": "history",
    "as_history": "history",
    "parse_objectives": "history",
    "SearchTrace": "runner",
    "StepInfo": "runner",
    "run_search": "runner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
