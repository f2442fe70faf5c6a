"""Multi-fidelity Bayesian optimisation: successive-halving promotions, new candidates from BO.

Promotions follow asynchronous successive halving (:mod:`.rungs`); each new architecture is
the one the BO surrogate rates best at *full* fidelity. The surrogate learns from every
fidelity, in one of two ways (``model``):

* ``"joint"`` (default): one GP over the architecture features plus the fidelity
  (log-scaled to [0, 1]) as an input, fitted on every result at every rung; candidates,
  pending points and the noisy-EI baseline sit at fidelity 1 (as in MOBSTER, Klein et al.
  2020). A cheap low-rung result moves the prediction at full fidelity as far as the
  fitted kernel says the rungs agree.
* ``"rung"``: one model on the results of the highest rung with at least ``n_initial``
  of them, fidelity ignored (as in BOHB, Falkner et al. 2018).

The choice between them is measured in ``benchmarks/multi_fidelity.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.strategies.bayesopt import BayesianOptimization
from surrogate_nas.pipelines.search.strategies.rungs import RungScheduling

MODELS = ("joint", "rung")


class MultiFidelityBO(RungScheduling, BayesianOptimization):
    """Successive halving whose new architectures come from BO (see the module docstring).

    Args:
        eta, brackets, rungs, min_fidelity: see :class:`.rungs.RungScheduling`.
        model: ``"joint"`` or ``"rung"``.
        **options: options of :class:`.bayesopt.BayesianOptimization` (surrogate,
            acquisition, n_initial, ...).
    """

    multi_objective = False
    models_constraints = False
    search_options = (*BayesianOptimization.search_options, "eta")

    def __init__(self, space, objectives=None, seed: int = 0, eta: float = 3.0, brackets: int | None = 1,
                 rungs: Sequence[float] | None = None, min_fidelity: float = 0.0, model: str = "joint",
                 **options) -> None:
        if model not in MODELS:
            raise InputDataError(f"unknown multi-fidelity model {model!r}; expected one of {', '.join(MODELS)}")
        self.model = model
        super().__init__(space, objectives, seed, eta, brackets, rungs, min_fidelity, **options)
        self.name = "mf-bo" if options.get("surrogate", "gp") == "gp" else f"mf-bo-{options['surrogate']}"

    def new(self, n, pending):
        return BayesianOptimization.ask(self, n, pending)

    # -- what the surrogate sees --------------------------------------------------------
    def _fidelity_code(self, fidelity: float) -> float:
        """0 at the lowest rung, 1 at full fidelity, linear in log fidelity."""
        return 1.0 - math.log(fidelity) / math.log(self.rungs[0])

    def featurize(self, archs):
        X = super().featurize(archs)
        if self.model == "rung":
            return X
        return torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype)], dim=1)

    def _modelled(self) -> list:
        if self.model == "joint":
            return list(self.history)
        for fidelity in reversed(self.rungs):
            trials = [t for t in self.history if abs(t.fidelity - fidelity) < 1e-9]
            if len(trials) >= self.n_initial:
                return trials
        return [t for t in self.history if abs(t.fidelity - self.rungs[0]) < 1e-9] or list(self.history)

    def _train_features(self, trials) -> torch.Tensor:
        X = super()._train_features(trials)
        if self.model == "joint":
            X[:, -1] = torch.tensor([self._fidelity_code(t.fidelity) for t in trials], dtype=X.dtype)
        return X

    def _baseline(self, trials, X_train: torch.Tensor) -> torch.Tensor:
        if self.model == "rung":
            return X_train
        archs = list({t.key: t.arch for t in trials}.values())
        return self.featurize(archs)
