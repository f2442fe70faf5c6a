"""The BoTorch side of constrained Bayesian optimisation.

The surrogate has one output per objective followed by one per *modelled* constraint,
whose target is the constraint's slack (``>= 0`` feasible; see
:meth:`..constraints.ConstraintSet.slack`). These helpers turn that layout into BoTorch's
conventions: an MC objective that reads the objective outputs and ``constraints=``
callables (negative when feasible) for qLogNEI / qLogNEHVI, closed-form constrained
log-EI for single-objective screening, and the probability of
feasibility that weights the multi-objective screen.
"""

from __future__ import annotations

import math
from functools import partial

import torch
from botorch.acquisition.multi_objective.objective import IdentityMCMultiOutputObjective
from botorch.acquisition.objective import GenericMCObjective
from botorch.utils.probability.utils import log_ndtr, log_phi, ndtr, phi
from botorch.utils.safe_math import log1mexp
from torch.distributions import Normal

from surrogate_nas.pipelines.search.constraints import ConstraintSet


def _violation(Y: torch.Tensor, index: int) -> torch.Tensor:
    """BoTorch's constraint convention: ``<= 0`` when output ``index`` (a slack) is ``>= 0``."""
    return -Y[..., index]


def _first_output(Y: torch.Tensor, X: torch.Tensor | None = None) -> torch.Tensor:
    return Y[..., 0]


def acquisition_options(constraints: ConstraintSet, n_objectives: int, multi: bool) -> dict:
    """``objective=`` and ``constraints=`` keyword arguments for qLogNEI / qLogNEHVI ({} without modelled constraints)."""
    k = len(constraints.modelled)
    if not k:
        return {}
    objective = (IdentityMCMultiOutputObjective(outcomes=list(range(n_objectives))) if multi
                 else GenericMCObjective(_first_output))
    return {"objective": objective,
            "constraints": [partial(_violation, index=n_objectives + j) for j in range(k)]}


def log_expected_improvement(mean: torch.Tensor, sigma: torch.Tensor, best_f) -> torch.Tensor:
    """Closed-form log-EI of column 0 plus the log probability that every further column
    (a modelled slack) is ``>= 0``, from marginal means and standard deviations (``n x (1 + k)``);
    BoTorch's ``LogConstrainedExpectedImprovement`` on precomputed marginals."""
    u = (mean[:, 0] - best_f) / sigma[:, 0]
    return log_h(u) + sigma[:, 0].log() + log_ndtr(mean[:, 1:] / sigma[:, 1:]).sum(-1)


def log_h(u: torch.Tensor) -> torch.Tensor:
    """``log(phi(u) + u Phi(u))``, the log of expected improvement per unit of standard deviation,
    accurate far into the left tail (Ament et al. 2023, "Unexpected improvements to expected
    improvement"; the same branches as BoTorch's log-EI, from its public probability helpers).

    Right of ``u = -1`` the plain formula; left of it ``log phi(u) + log(1 - exp(w))`` with
    ``w = log(|u| Phi(u) / phi(u))`` through the scaled complementary error function; below
    ``-1/sqrt(eps)`` the leading order ``log phi(u) - 2 log|u|``.
    """
    bound, far = -1.0, (-1e6 if u.dtype == torch.float64 else -1e3)
    upper = u.masked_fill(u < bound, bound)
    lower = u.masked_fill(u > bound, bound)
    clipped = lower.masked_fill(u < far, far)
    w = torch.log(torch.special.erfcx(-(2**-0.5) * clipped) * clipped.abs()) + math.log(math.pi / 2) / 2
    tail = log_phi(u) + torch.where(u > far, log1mexp(w), -2 * lower.abs().log())
    return torch.where(u > bound, (phi(upper) + upper * ndtr(upper)).log(), tail)


def probability_feasible(mean: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """``P(all slacks >= 0)`` per row of independent normal slacks (``n x k`` mean and std); ones when ``k = 0``."""
    if mean.shape[-1] == 0:
        return torch.ones(mean.shape[:-1], dtype=mean.dtype)
    return Normal(mean, sigma).cdf(torch.zeros_like(mean)).neg().add(1).prod(-1)
