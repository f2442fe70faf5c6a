"""Screening: a closed-form score of each candidate's marginal posterior, to shortlist the few the
Monte-Carlo acquisition then scores jointly.

* one objective: analytic log-EI over the incumbent (constrained log-EI with modelled
  constraints: times the probability that every slack is ``>= 0``), or the UCB value;
* several: the hypervolume improvement of each candidate's optimistic point
  (mean + sqrt(beta) std per objective) over the observed feasible front, times the
  probability of feasibility, ties broken by the optimistic point's standardised sum. The
  front's non-dominated space is split into boxes by BoTorch's two-objective sweep, or, with
  three objectives and more, by the decomposition qLogNEHVI uses
  (:class:`.partitioning.NumpyNondominatedPartitioning`), which needs far fewer boxes than
  BoTorch's recursive ``NondominatedPartitioning`` for the same volume.

Marginals come from plain ``N x d`` posterior calls (:func:`.joint_posterior.marginal_posterior`).
"""

from __future__ import annotations

import numpy as np
import torch
from botorch.models.model import Model
from botorch.utils.multi_objective.box_decompositions.non_dominated import NondominatedPartitioning

from surrogate_nas.pipelines.search.bo.constraints import log_expected_improvement, probability_feasible
from surrogate_nas.pipelines.search.bo.joint_posterior import marginal_posterior
from surrogate_nas.pipelines.search.bo.partitioning import NumpyNondominatedPartitioning


def screen_single(model: Model, X: torch.Tensor, X_best: torch.Tensor, any_feasible: bool, n_keep: int,
                  acquisition: str = "logei", beta: float = 2.0) -> torch.Tensor:
    """Indices of the ``n_keep`` best rows of ``X`` (``N x d``) for one objective.

    The log-EI incumbent is the best fitted value at ``X_best`` (the feasible baseline
    points), or the worst when no evaluated point is feasible yet.
    """
    mean, sigma = marginal_posterior(model, X)
    if acquisition == "ucb":
        score = mean[:, 0] + beta**0.5 * sigma[:, 0]
    else:
        fitted = marginal_posterior(model, X_best)[0][:, 0]
        best_f = fitted.max() if any_feasible else fitted.min()
        score = log_expected_improvement(mean, sigma, best_f)
    return torch.topk(score, min(n_keep, X.shape[0])).indices


def screen_multi(model: Model, X: torch.Tensor, front: np.ndarray, ref_point: np.ndarray, n_keep: int,
                 beta: float = 2.0) -> torch.Tensor:
    """Indices of the ``n_keep`` best rows of ``X`` (``N x d``) for ``m`` objectives (the model's
    first ``m`` outputs; the rest are modelled slacks) by optimistic hypervolume improvement over
    ``front`` (``k x m`` feasible evaluated points, "maximise everything" space) above ``ref_point``."""
    m = front.shape[1]
    mean, sigma = marginal_posterior(model, X)
    feasible = probability_feasible(mean[:, m:], sigma[:, m:])
    mean, sigma = mean[:, :m], sigma[:, :m]
    U = mean + beta**0.5 * sigma
    ref = torch.as_tensor(ref_point, dtype=U.dtype)
    boxes = NondominatedPartitioning if m == 2 else NumpyNondominatedPartitioning
    partition = boxes(ref, Y=torch.as_tensor(front, dtype=U.dtype))
    lower, upper = partition.get_hypercell_bounds()
    upper = torch.minimum(upper, U.max(0).values.clamp_min(ref))  # infinite upper bounds
    side = (torch.minimum(U[:, None, :], upper) - lower).clamp_min(0)
    tie = ((U - U.mean(0)) / U.std(0).clamp_min(1e-12)).sum(-1)
    score = side.prod(-1).sum(-1) * feasible + 1e-6 * (tie - tie.min())
    return torch.topk(score, min(n_keep, X.shape[0])).indices
