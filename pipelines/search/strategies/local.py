"""Best-improvement local search with random restarts (White et al. 2021)."""

from __future__ import annotations

from surrogate_nas.pipelines.search.history import Suggestion
from surrogate_nas.pipelines.search.strategies.base import Strategy


class LocalSearch(Strategy):
    """Move to the best neighbour while it improves; restart at a random architecture otherwise.

    Starting from the best architecture seen (random if none), all neighbours of the
    centre are evaluated in random order; the search moves to the best if it beats the
    centre, else restarts. While a decision waits on pending neighbours, free slots are
    filled with random architectures. Spaces with many neighbours (NB-101, DARTS) are
    explored through a random sample of at most ``max_neighbours`` of them.
    """

    name = "ls"

    def __init__(self, space, objectives=None, seed: int = 0, max_neighbours: int = 64) -> None:
        super().__init__(space, objectives, seed)
        self.max_neighbours = int(max_neighbours)
        self._center = None
        self._neighbours: list = []
        self._queue: list = []

    def _set_center(self, arch) -> None:
        self._center = arch
        seen = {arch.canonical_key}
        unique = []
        for n in self.space.neighbours(arch):
            if n.canonical_key not in seen:
                seen.add(n.canonical_key)
                unique.append(n)
        order = self.rng.permutation(len(unique))[: self.max_neighbours]
        self._neighbours = [unique[i] for i in order]
        self._queue = list(self._neighbours)

    def ask(self, n, pending=()):
        values = {t.key: self.score(t) for t in self.history}
        taken = self.taken_keys(pending)
        out: list[Suggestion] = []
        if self._center is None and self.history:
            self._set_center(max(self.history, key=self.score).arch)
        while len(out) < n:
            if self._center is None:
                fresh = self.fresh(1, taken)
                if not fresh:
                    break
                self._set_center(fresh[0].arch)
                out += fresh
                continue
            if self._queue:
                arch = self._queue.pop(0)
                if arch.canonical_key not in taken:
                    taken.add(arch.canonical_key)
                    out.append(Suggestion(arch))
                continue
            move = self._decide(values)
            if move is False:
                out += self.fresh(n - len(out), taken)
                break
            if move is None:
                self._center = None
            else:
                self._set_center(move)
        return out

    def _decide(self, values: dict[str, float]):
        """Next centre, ``None`` to restart, or ``False`` while results are pending."""
        keys = [self._center.canonical_key] + [a.canonical_key for a in self._neighbours]
        if any(key not in values for key in keys):
            return False
        if not self._neighbours:
            return None
        best = max(self._neighbours, key=lambda a: values[a.canonical_key])
        return best if values[best.canonical_key] > values[keys[0]] else None
