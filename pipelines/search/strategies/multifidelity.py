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

from collections.abc import Sequence

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.bo.data import FidelityAsInput, HighestRung
from surrogate_nas.pipelines.search.strategies.bayesopt import BayesianOptimization
from surrogate_nas.pipelines.search.strategies.rungs import RungScheduling

MODELS = ("joint", "rung")


class MultiFidelityBO(RungScheduling):
    """Successive halving whose new architectures come from a BO step (see the module docstring).

    The BO part is a :class:`.bayesopt.BayesianOptimization` sharing this strategy's history,
    random state and progress line, with a training view of every rung (:mod:`..bo.data`);
    the rungs decide promotions, the BO step the new architectures.

    Args:
        eta: promote the top ``1/eta`` of a rung. 6 by default, chosen from 3, 4, 6, 8 and 12 on
            NAS-Bench-201 CIFAR-10 with seeds 100-107 (never reported) by the cost to regret 0.1,
            and confirmed on CIFAR-100: the model's new candidates are good, so promoting fewer
            of them saves full trainings (``benchmarks/multi_fidelity.py``).
        brackets, rungs, min_fidelity: see :class:`.rungs.RungScheduling`.
        model: ``"joint"`` or ``"rung"``.
        **options: options of :class:`.bayesopt.BayesianOptimization` (surrogate,
            acquisition, n_initial, ...).
    """

    multi_objective = False
    models_constraints = False
    search_options = (*BayesianOptimization.search_options, "eta")

    def __init__(self, space, objectives=None, seed: int = 0, eta: float = 6.0, brackets: int | None = 1,
                 rungs: Sequence[float] | None = None, min_fidelity: float = 0.0, model: str = "joint",
                 **options) -> None:
        if model not in MODELS:
            raise InputDataError(f"unknown multi-fidelity model {model!r}; expected one of {', '.join(MODELS)}")
        super().__init__(space, objectives, seed, eta, brackets, rungs, min_fidelity)
        self.model = model
        self.bo = _RungBO(self, model, space, objectives, seed, **options)
        self.name = "mf-bo" if options.get("surrogate", "gp") == "gp" else f"mf-bo-{options['surrogate']}"

    def prior_report(self):
        """See :meth:`.bayesopt.BayesianOptimization.prior_report`."""
        return self.bo.prior_report()

    def new(self, n, pending):
        self.bo.history, self.bo.rng, self.bo.progress = self.history, self.rng, self.progress
        out = self.bo.ask(n, pending)
        self.last_timing, self.last_activity = self.bo.last_timing, self.bo.last_activity
        return out


class _RungBO(BayesianOptimization):
    """The BO step of :class:`MultiFidelityBO`: learns from every rung (``"joint"``: the fidelity
    an input; ``"rung"``: the highest rung with ``n_initial`` results)."""

    def __init__(self, owner: MultiFidelityBO, model: str, *args, **options) -> None:
        self.owner, self.model = owner, model
        super().__init__(*args, **options)

    def _training_view(self):
        rungs = lambda: self.owner.rungs  # noqa: E731 - the rungs are known once the evaluator offers fidelities
        if self.model == "joint":
            return FidelityAsInput(self.featurize, rungs)
        return HighestRung(self.featurize, rungs, self.n_initial)
