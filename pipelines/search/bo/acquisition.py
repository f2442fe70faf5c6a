"""The acquisition and its optimiser over a finite candidate set.

BoTorch's layers, as they are: a Monte-Carlo acquisition function built on a posterior
(qLogNoisyExpectedImprovement, qUpperConfidenceBound, or qLogNoisyExpectedHypervolumeImprovement
for several objectives; modelled constraints through ``constraints=``) and
``optimize_acqf_discrete`` picking ``k`` candidates by sequential greedy selection, each pick a
pending point for the next. Thompson sampling draws GP sample paths (Matheron's rule) or, for
independent-marginal surrogates, one normal draw per candidate.

The Monte-Carlo base samples are seeded (:class:`SobolQMCNormalSampler` with a seed drawn from
the step's generator), so an acquisition value is the same in every run.
"""

from __future__ import annotations

import numpy as np
import torch
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.acquisition.monte_carlo import qUpperConfidenceBound
from botorch.acquisition.multi_objective import logei as mo_logei
from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
from botorch.models.model import Model, ModelList
from botorch.models.model_list_gp_regression import ModelListGP
from botorch.optim.optimize import optimize_acqf_discrete
from botorch.sampling.list_sampler import ListSampler
from botorch.sampling.normal import SobolQMCNormalSampler
from botorch.sampling.pathwise import draw_matheron_paths
from botorch.utils.multi_objective.box_decompositions.non_dominated import FastNondominatedPartitioning
from gpytorch.models import ExactGP

from surrogate_nas.pipelines.search.bo import constraints as bo_constraints
from surrogate_nas.pipelines.search.bo.partitioning import NumpyNondominatedPartitioning
from surrogate_nas.pipelines.search.constraints import ConstraintSet


def sampler(model: Model, mc_samples: int, rng: np.random.Generator):
    """QMC base samples of ``mc_samples`` draws, seeded from ``rng`` (one sampler per model of a
    non-GP model list, which BoTorch samples model by model)."""
    seed = int(rng.integers(2**31))
    if isinstance(model, ModelList) and not isinstance(model, ModelListGP):
        return ListSampler(*[SobolQMCNormalSampler(torch.Size([mc_samples]), seed=seed + i)
                             for i in range(len(model.models))])
    return SobolQMCNormalSampler(torch.Size([mc_samples]), seed=seed)


def mc_acquisition(model: Model, X_baseline: torch.Tensor, *, objectives: int, constraints: ConstraintSet,
                   mc_samples: int, rng: np.random.Generator, kind: str = "logei", beta: float = 2.0,
                   ref_point=None):
    """The Monte-Carlo acquisition of a step.

    Args:
        model: the surrogate: ``objectives`` outputs, then one slack per modelled constraint.
        X_baseline: the evaluated points noisy (hypervolume) improvement starts from.
        objectives: how many outputs are objectives (two or more: qLogNEHVI).
        constraints: the search's constraints (the modelled ones enter ``constraints=``).
        mc_samples: QMC samples.
        rng: the step's generator (seeds the samples).
        kind: ``"logei"`` or ``"ucb"`` for one objective.
        beta: UCB's exploration weight.
        ref_point: the hypervolume reference point ("maximise everything" space).
    """
    base = sampler(model, mc_samples, rng)
    multi = objectives > 1
    constrained = bo_constraints.acquisition_options(constraints, objectives, multi)
    if multi:
        _skip_jit_kernel()
        return QLogNEHVI(model, ref_point=np.asarray(ref_point).tolist(), X_baseline=X_baseline, sampler=base,
                         prune_baseline=True, cache_root=False, **constrained)
    if kind == "ucb":
        return qUpperConfidenceBound(model, beta=beta, sampler=base)
    return qLogNoisyExpectedImprovement(model, X_baseline=X_baseline, sampler=base, prune_baseline=True,
                                        cache_root=False, **constrained)


class QLogNEHVI(qLogNoisyExpectedHypervolumeImprovement):
    """qLogNEHVI whose box decompositions (three objectives and more) run in NumPy: the same cells
    as BoTorch's, several times faster (see :mod:`.partitioning`)."""

    def _set_cell_bounds(self, num_new_points: int) -> None:
        if self.p_class is FastNondominatedPartitioning:
            self.p_class = NumpyNondominatedPartitioning
        super()._set_cell_bounds(num_new_points)


def acquisition_name(objectives: int, kind: str) -> str:
    if objectives > 1:
        return "qLogNEHVI"
    return {"ucb": "qUCB", "ts": "Thompson sampling"}.get(kind, "qLogNEI")


def choose(acquisition, choices: torch.Tensor, k: int, max_batch_size: int = 512) -> list[int]:
    """Rows of ``choices`` (``s x d``) that ``optimize_acqf_discrete`` picks, ``k`` of them, distinct."""
    picked, _ = optimize_acqf_discrete(acquisition, q=k, choices=choices, max_batch_size=max_batch_size, unique=True,
                                       return_acq_values=False)
    out: list[int] = []
    for row in picked:  # equal features: distinct rows, in order
        matches = torch.nonzero((choices == row).all(dim=-1)).flatten().tolist()
        out.append(next(i for i in matches if i not in out))
    return out


def thompson(model: Model, X: torch.Tensor, k: int, rng: np.random.Generator) -> list[int]:
    """``k`` distinct rows of ``X``, each the maximiser of one posterior sample."""
    chosen: list[int] = []
    with torch.no_grad():
        if isinstance(model, ExactGP):
            draws = draw_matheron_paths(model, sample_shape=torch.Size([k]))(X).reshape(k, -1)
        else:  # independent marginal draws (see .predictor_model.PredictorModel)
            post = model.posterior(X)
            mean, std = post.mean.reshape(-1), post.variance.reshape(-1).sqrt()
            noise = torch.as_tensor(rng.standard_normal((k, X.shape[0])), dtype=mean.dtype)
            draws = mean + std * noise
    for row in draws:
        row = row.clone()
        row[chosen] = -torch.inf
        chosen.append(int(torch.argmax(row)))
    return chosen


def _skip_jit_kernel() -> None:
    """Keep qLogNEHVI on BoTorch's pure-PyTorch path instead of its JIT-compiled C++ kernel.

    BoTorch compiles that kernel on first use (a C++ toolchain) under a file lock in
    ``~/.cache/torch_extensions``; a search killed while compiling leaves the lock, and every
    later multi-objective search on the machine then waits on it for ever. BoTorch offers no
    public switch, so this sets the module flag its loader checks (tested against the pinned
    BoTorch range: ``tests/pipelines/test_search_bayesopt.py``).
    """
    mo_logei._load_attempted = True
