"""``fewest-params``: evaluate the smallest networks first (a baseline, and a template for a strategy)."""

from __future__ import annotations

import numpy as np

from surrogate_nas.pipelines.search import Strategy, Suggestion


class FewestParamsFirst(Strategy):
    """Fewest parameters first: the smallest untried networks, ties broken at random.

    Sizes are the space's reference-network parameter counts; a space that builds no networks
    is sampled at random. Every random draw uses ``self.rng``, which the search seeds for each
    step, so the same seed gives the same search.
    """

    name = "fewest-params"
    pool_size = 500

    def ask(self, n, pending=()):
        taken = self.taken_keys(pending)
        if not getattr(self.space, "has_network", True):
            return self.fresh(n, taken)
        listed = self.space.enumerate()
        pool = ([a for a in listed if a.canonical_key not in taken] if listed is not None
                else self.space.sample_unseen(self.pool_size, self.rng, taken))
        sizes = np.array([self.space.reference_cost(a)[0] for a in pool], dtype=np.float64)
        order = np.lexsort((self.rng.random(len(pool)), sizes))
        return [Suggestion(pool[i]) for i in order[:n]]
