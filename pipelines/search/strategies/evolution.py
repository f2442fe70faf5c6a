"""Regularized (aging) evolution, Real et al. 2019."""

from __future__ import annotations

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.history import Suggestion
from surrogate_nas.pipelines.search.strategies.base import Strategy


class RegularizedEvolution(Strategy):
    """Tournament selection over the most recent trials; children are one-step mutations.

    The population is the ``population_size`` most recent trials, so the strategy
    is a pure function of its history and resumes exactly. Each child mutates the
    best of ``sample_size`` random population members.

    Args:
        population_size: trials kept alive; the first this many are random.
        sample_size: tournament size.
    """

    name = "rea"

    def __init__(self, space, objectives=None, seed: int = 0, population_size: int = 10, sample_size: int = 5):
        super().__init__(space, objectives, seed)
        if not 1 <= sample_size <= population_size:
            raise InputDataError(
                f"rea needs 1 <= sample_size <= population_size, got {sample_size} and {population_size}"
            )
        self.population_size = population_size
        self.sample_size = sample_size

    def ask(self, n, pending=()):
        taken = self.taken_keys(pending)
        n_random = max(0, self.population_size - len(self.history) - len(pending))
        out = self.fresh(min(n, n_random), taken)
        population = self.history[-self.population_size :]
        while len(out) < n and population:
            idx = self.rng.choice(len(population), size=min(self.sample_size, len(population)), replace=False)
            parent = max((population[i] for i in idx), key=self.score)
            child = self.space.mutate(parent.arch, self.rng, taken)
            taken.add(child.canonical_key)
            out.append(Suggestion(child))
        return out
