"""What a BO step's surrogate learns from and where its acquisition starts: the training view.

A view turns the strategy's history into the surrogate's rows and features, featurises
candidates and pending points, and names the evaluated points noisy (hypervolume)
improvement starts from. Full-fidelity BO learns from every trial (:class:`AllTrials`);
multi-fidelity BO learns from every rung with the fidelity as an input
(:class:`FidelityAsInput`, as in MOBSTER) or from the highest rung with enough results
(:class:`HighestRung`, as in BOHB). The step itself is the same for all three.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

Featurize = Callable[[Sequence], torch.Tensor]


class AllTrials:
    """Every trial, its architecture's features; the baseline is the trials meeting the known constraints."""

    def __init__(self, featurize: Featurize) -> None:
        self.featurize = featurize

    def trials(self, history: Sequence) -> list:
        return list(history)

    def train_features(self, trials: Sequence) -> torch.Tensor:
        return self.featurize([t.arch for t in trials])

    def baseline(self, trials: Sequence, X_train: torch.Tensor, known_ok) -> torch.Tensor:
        """The training points that meet the known constraints (all of them when none does)."""
        return X_train[torch.as_tensor(known_ok)] if known_ok.any() else X_train


class FidelityAsInput(AllTrials):
    """Every trial at every rung, the fidelity (log-scaled: 0 at the lowest rung, 1 at full) as
    a last input; candidates, pending points and the baseline sit at fidelity 1."""

    def __init__(self, featurize: Featurize, rungs: Callable[[], Sequence[float]]) -> None:
        super().__init__(lambda archs: _with_full_fidelity(featurize(archs)))
        self.rungs = rungs

    def train_features(self, trials: Sequence) -> torch.Tensor:
        X = self.featurize([t.arch for t in trials])
        lowest = self.rungs()[0]
        X[:, -1] = torch.tensor([1.0 - math.log(t.fidelity) / math.log(lowest) for t in trials], dtype=X.dtype)
        return X

    def baseline(self, trials: Sequence, X_train: torch.Tensor, known_ok) -> torch.Tensor:
        return self.featurize(list({t.key: t.arch for t in trials}.values()))


class HighestRung(AllTrials):
    """The results of the highest rung with at least ``enough`` of them (the lowest rung, or
    everything, before that); the fidelity is not an input."""

    def __init__(self, featurize: Featurize, rungs: Callable[[], Sequence[float]], enough: int) -> None:
        super().__init__(featurize)
        self.rungs, self.enough = rungs, int(enough)

    def trials(self, history: Sequence) -> list:
        rungs = self.rungs()
        for fidelity in reversed(rungs):
            at = [t for t in history if abs(t.fidelity - fidelity) < 1e-9]
            if len(at) >= self.enough:
                return at
        return [t for t in history if abs(t.fidelity - rungs[0]) < 1e-9] or list(history)

    def baseline(self, trials: Sequence, X_train: torch.Tensor, known_ok) -> torch.Tensor:
        return X_train


def _with_full_fidelity(X: torch.Tensor) -> torch.Tensor:
    return torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype)], dim=1)
