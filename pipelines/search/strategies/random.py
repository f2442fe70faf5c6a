"""Random search: uniform over the space's canonical architectures, without repeats."""

from __future__ import annotations

from surrogate_nas.pipelines.search.strategies.base import Strategy


class RandomSearch(Strategy):
    """Uniform sampling (see :meth:`surrogate_nas.spaces.SearchSpace.sample_unseen`)."""

    name = "rs"
    multi_objective = True

    def ask(self, n, pending=()):
        return self.fresh(n, self.taken_keys(pending))
