"""Where a BO step looks: the candidate pool.

A space that can be listed (NAS-Bench-201's 6,466 cells, a table's rows) offers every
architecture not yet evaluated or pending; one too large to list offers ``pool_size`` fresh
samples plus the neighbours of the best trials so far. Past the number of candidates the step
can afford (:attr:`..budget.StepPlan.screened`), the pool is a seeded subset: the untried
neighbours of the best trials first (where the next improvement most likely is), then a
uniform sample of the rest (so the model still sees the whole space).

    >>> pool = CandidatePool(space, featurize, pool_size=2000, parents=10)
    >>> archs, X = pool.draw(history, rank, taken, k=8000, rng=rng)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch


class CandidatePool:
    """The candidates of a step and their features.

    Args:
        space: the search space.
        featurize: ``archs -> n x d`` tensor (the strategy's features, computed once for a
            listed space).
        pool_size: fresh samples per step when the space cannot be listed.
        parents: how many of the best trials seed neighbour candidates.
    """

    def __init__(self, space, featurize: Callable[[Sequence], torch.Tensor], pool_size: int = 2000,
                 parents: int = 10) -> None:
        self.space, self.featurize = space, featurize
        self.pool_size, self.parents = int(pool_size), int(parents)
        self._listed: Sequence | None = None
        self._listed_X: torch.Tensor | None = None
        self._rows: dict[str, list[int]] = {}

    def prepare(self) -> None:
        """List and featurise a listed space now (once per search), so that no step pays for it."""
        self._listing()

    def count(self, best: Sequence, taken: set[str]) -> int:
        """Candidates of a step: the untried architectures of a listed space, else the pool's size
        plus the untried neighbours of ``best`` (the best trials, best first)."""
        if self._listing() is None:
            return self.pool_size + len(self._near(best, taken))
        return len(self._untried(taken))

    def draw(self, best: Sequence, taken: set[str], k: int, rng: np.random.Generator) -> tuple[list, torch.Tensor]:
        """At most about ``k`` candidates with their features, seeded by ``rng`` (see the module docstring)."""
        near = self._near(best, taken)
        listed = self._listing()
        if listed is None:
            near = near[:k]
            fresh = self.space.sample_unseen(max(min(self.pool_size, k - len(near)), 0), rng,
                                             taken | {n.canonical_key for n in near})
            archs = near + fresh
            return archs, self.featurize(archs) if archs else torch.empty(0)
        keep = self._untried(taken)
        if k < len(keep):
            position = np.full(len(listed), -1)
            position[keep] = np.arange(len(keep))
            first = [p for p in (position[self._rows[n.canonical_key][-1]] for n in near
                                 if n.canonical_key in self._rows) if p >= 0][:k]
            rest = np.setdiff1d(np.arange(len(keep)), first)
            chosen = np.sort(np.concatenate([np.asarray(first, dtype=np.int64),
                                             rng.choice(rest, size=k - len(first), replace=False)]))
            keep = keep[chosen]
        return [listed[i] for i in keep], self._listed_X[torch.as_tensor(keep)]

    def _untried(self, taken: set[str]) -> np.ndarray:
        """Row indices (ascending) of the listed architectures whose keys are not in ``taken``."""
        untried = np.ones(len(self._listed), dtype=bool)
        for key in taken:
            untried[self._rows.get(key, [])] = False
        return np.flatnonzero(untried)

    def _listing(self) -> Sequence | None:
        """The listed space (its features computed once), or None."""
        if self._listed is None:
            listed = self.space.enumerate()
            if listed is None:
                return None
            self._listed, self._listed_X = listed, self.featurize(listed)
            for i, arch in enumerate(listed):
                self._rows.setdefault(arch.canonical_key, []).append(i)
        return self._listed

    def _near(self, best: Sequence, taken: set[str]) -> list:
        """The untried neighbours of the ``parents`` best trials, each once, in order."""
        near = {n.canonical_key: n for t in list(best)[: self.parents] for n in self.space.neighbours(t.arch)}
        return [n for key, n in near.items() if key not in taken]
