"""Architecture search over the NAS-Bench-201 cell space.

Strategies (:mod:`.strategies`, :mod:`.bayesopt`) propose cells, evaluators
(:mod:`.evaluators`) score them, :func:`.runner.run_search` runs the loop and
:mod:`.benchmark` compares strategies on a benchmark table.
"""

from surrogate_nas.pipelines.search.evaluators import Evaluator, Observation, TabularEvaluator
from surrogate_nas.pipelines.search.history import Objective, Trial, as_history, parse_objectives
from surrogate_nas.pipelines.search.runner import SearchTrace, StepInfo, run_search
from surrogate_nas.pipelines.search.strategies import STRATEGIES, Strategy, make_strategy

__all__ = [
    "STRATEGIES",
    "Evaluator",
    "Objective",
    "Observation",
    "SearchTrace",
    "StepInfo",
    "Strategy",
    "TabularEvaluator",
    "Trial",
    "as_history",
    "make_strategy",
    "parse_objectives",
    "run_search",
]
