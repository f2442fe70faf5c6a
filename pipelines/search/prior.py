"""What is already known about a search: other tables of the same space as priors.

A :class:`Prior` holds one or more sources (another dataset's table, a CSV of the same space,
what the database holds for another dataset), each giving one value per architecture of the
searched space: the source's value of the architecture (of its canonical twin; an XGBoost fit on
the source for one it lacks, :func:`~surrogate_nas.pipelines.tables.transfer.prior_column`),
as the normal score of its rank among the source's values, so every source has the same scale
whatever its metric. BO appends these columns to the architecture features
(:class:`~.strategies.bayesopt.BayesianOptimization`) and its GP learns one ARD lengthscale per
source: a source that says nothing gets a long one and is ignored, one that ranks the wrong way
round is as informative as one that ranks the right way round (a stationary kernel does not
see the sign). :func:`trust` reads how much each source moves the model. The first
architectures of a search come from the sources' best (:meth:`Prior.top`), and more of them
(from the worst, for a source that ranks the evaluated architectures the wrong way round)
while a source's ranks agree with the results.

Why both: a GP with the source as an input learns its relevance (a short lengthscale for a good
or a negated source, a long one for a shuffled one), but its acquisition then prefers architectures
far from those evaluated, where it is unsure, to the source's next best, so an optimum a few
places down the source's ranking waits long; walking down the ranking while the source's
Spearman correlation with the results holds reaches it at once, and a source that ranks the
evaluated architectures at random is never walked (``benchmarks/priors.py`` measures both).
Why inputs rather than a multi-task GP or RGPE: ``benchmarks/prior_surrogates.py`` (the README's
priors section says what it found).

    >>> from surrogate_nas.tables import load_benchmark
    >>> prior = Prior.from_tables([load_benchmark("nb201-cifar10")], load_benchmark("nb201-cifar100").search_space())
    >>> prior.columns(prior.top(2)).round(2).tolist()
    [[4.0], [3.73]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm

from surrogate_nas.errors import InputDataError


@dataclass(frozen=True)
class PriorSource:
    """One source: its label (``table:metric``), sorted oriented values and best architectures."""

    label: str
    table: object
    ranked: np.ndarray
    best: tuple
    _scores: dict = field(default_factory=dict, compare=False, repr=False)

    def scores(self, archs: Sequence, space) -> np.ndarray:
        """The normal score of each architecture's rank among the source's values (cached by canonical key).

        Twins share one score: the source's value of the space's representative of their key, whichever
        twin is asked about first."""
        from surrogate_nas.pipelines.tables.transfer import prior_column

        new = {a.canonical_key: space.representative(a) for a in archs if a.canonical_key not in self._scores}
        if new:
            values = prior_column(self.table, list(new.values()), space)[:, 0] * (1 if self.table.maximize else -1)
            n = len(self.ranked)
            mid = (np.searchsorted(self.ranked, values, "left") + np.searchsorted(self.ranked, values, "right")) / 2
            self._scores.update(zip(new, norm.ppf(np.clip(mid, 0.5, n - 0.5) / n)))
        return np.array([self._scores[a.canonical_key] for a in archs], dtype=np.float64)


class Prior:
    """Priors of a search over ``space``, one :class:`PriorSource` per table (see the module docstring).

    Args:
        sources: the sources, in the order given.
        space: the searched space.
    """

    def __init__(self, sources: Sequence[PriorSource], space) -> None:
        if not sources:
            raise InputDataError("a prior needs at least one source")
        self.sources, self.space = tuple(sources), space

    @classmethod
    def from_tables(cls, tables: Sequence, space) -> Prior:
        """A prior of the tables' targets (each oriented so that larger is better).

        Raises:
            InputDataError: a table of another space.
        """
        sources = []
        for table in tables:
            if table.space.name != space.name:
                raise InputDataError(f"the prior {table.name} holds {table.space.name} architectures, not "
                                     f"{space.name}; use a table of the searched space")
            sign = 1 if table.maximize else -1
            values = sign * np.asarray(table.values(), dtype=np.float64)
            archs = table.architectures()
            best = {}
            for i in np.argsort(-values, kind="stable"):
                best.setdefault(archs[i].canonical_key, archs[i])
            sources.append(PriorSource(f"{table.name}:{table.target}", table, np.sort(values),
                                       tuple(best.values())))
        return cls(sources, space)

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.sources]

    def columns(self, archs: Sequence) -> np.ndarray:
        """``n x s``: each source's score of each architecture."""
        return np.stack([s.scores(archs, self.space) for s in self.sources], axis=1)

    def agreement(self, archs: Sequence, values: Sequence[float]) -> list[float]:
        """Each source's Spearman correlation with ``values`` (larger is better) of ``archs``."""
        columns = self.columns(archs)
        return [spearman(columns[:, j], np.asarray(values, dtype=np.float64)) for j in range(len(self.sources))]

    def top(self, k: int, taken: set[str] = frozenset(), ends: Sequence[tuple[int, bool]] | None = None,
            allowed: set[str] | None = None) -> list:
        """The ``k`` best architectures of the sources, taken in turn: each source's next best not in ``taken``
        (and in ``allowed``, canonical keys, unless None). ``ends``: ``(source index, reversed)`` pairs, to walk
        only those sources, a reversed one from its worst (default: every source from its best)."""
        ends = [(j, False) for j in range(len(self.sources))] if ends is None else list(ends)
        chosen = [self.sources[j].best[::-1] if rev else self.sources[j].best for j, rev in ends]
        seen = set(taken)
        if allowed is not None:
            seen |= {a.canonical_key for best in chosen for a in best if a.canonical_key not in allowed}
        out, at = [], [0] * len(chosen)
        while len(out) < k and any(i < len(best) for i, best in zip(at, chosen)):
            for j, best in enumerate(chosen):
                while at[j] < len(best) and best[at[j]].canonical_key in seen:
                    at[j] += 1
                if at[j] < len(best) and len(out) < k:
                    out.append(best[at[j]])
                    seen.add(best[at[j]].canonical_key)
        return out


@dataclass(frozen=True)
class SourceTrust:
    """How much a search's model trusted one prior source (:func:`trust`; None before any model was fitted),
    and the Spearman correlation of the source's values with the ``evaluated`` results (negative: the source
    ranks them the wrong way round, which a GP uses as well)."""

    label: str
    trust: float | None
    spearman: float
    evaluated: int

    def line(self) -> str:
        way = "agree" if self.spearman >= 0 else "are reversed"
        trusted = ("trust not measured (no GP fitted yet)" if self.trust is None
                   else f"trusted {self.trust:.2f} (0 ignored, 1 decisive)")
        return (f"prior {self.label}: {trusted}; its ranks {way} "
                f"(Spearman {self.spearman:+.2f} on {self.evaluated} evaluated)")


def spearman(a, b) -> float:
    """Spearman's rank correlation (0 when either side is constant)."""
    from scipy.stats import spearmanr

    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b)[0])


def prior_lengthscales(model, sources: int, end: int) -> list[float]:
    """The ARD lengthscales of the ``sources`` input columns before column ``end`` in a GP's kernel."""
    found = {}
    for kernel in model.covar_module.modules():
        if getattr(kernel, "ard_num_dims", None) is None or not hasattr(kernel, "lengthscale"):
            continue
        dims = (list(range(kernel.ard_num_dims)) if kernel.active_dims is None
                else [int(d) for d in kernel.active_dims])
        for i, d in enumerate(dims):
            found[d] = float(kernel.lengthscale.detach().reshape(-1)[i])
    return [found[c] for c in range(end - sources, end)]


def trust(lengthscale: float) -> float:
    """How much a source moves the GP: one minus the Matern-5/2 correlation of two architectures that
    differ only in that source, one at its lowest and one at its highest value among the training rows
    (inputs are scaled to the training range). 0: ignored (a long lengthscale); 1: decisive."""
    r = math.sqrt(5.0) / float(lengthscale)
    return 1.0 - (1.0 + r + r * r / 3.0) * math.exp(-r)
