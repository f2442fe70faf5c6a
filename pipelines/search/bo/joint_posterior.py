"""Scoring a finite candidate set: marginals for the screen, one joint posterior for the acquisition.

BoTorch's Monte-Carlo acquisition functions ask the model for the joint posterior of
``[baseline points; pending points; candidate]`` once per candidate, and an exact GP
called on a batch rebuilds its ``n x n`` training covariance for every batch member: a
shortlist of 256 candidates against ``n`` evaluated points costs ``O(256 n^2)`` kernel
entries per call, and the baseline of noisy (hypervolume) improvement grows with the
history and the Pareto front. Here:

* :func:`marginal_posterior` gives every candidate's mean and standard deviation from
  plain ``n x d`` calls (one cached factorisation, ``O(n)`` per candidate for the mean);
* :class:`JointPosteriorModel` computes the joint posterior over the union of every point
  the acquisition will ask about (the shortlist, a bounded baseline, the pending points)
  once, and answers each of the acquisition's calls by indexing into it. The
  acquisition values are the same as with the model itself (same posterior, same base
  samples); only the cost changes. A call about any other point (BoTorch's constrained
  noisy EI estimates an infeasible cost at random points of the baseline's bounding box when
  no baseline sample is feasible) is answered by the model itself.
"""

from __future__ import annotations

import numpy as np
import torch
from botorch.models.gpytorch import GPyTorchModel
from botorch.models.model import Model, ModelList
from botorch.posteriors.gpytorch import GPyTorchPosterior
from gpytorch.distributions import MultitaskMultivariateNormal, MultivariateNormal
from linear_operator.operators import DenseLinearOperator
from torch import Tensor

from surrogate_nas.predictors.gp_online import exact_algebra


def outputs(model: Model) -> list[Model]:
    """The single-output models behind ``model`` (one per objective)."""
    return list(model.models) if isinstance(model, ModelList) else [model]


def marginal_posterior(model: Model, X: Tensor, chunk: int = 256) -> tuple[Tensor, Tensor]:
    """Posterior mean and standard deviation at each row of ``X`` (``N x d``); each ``N x m``.

    Rows go to a GP in chunks of ``chunk``: a posterior call also builds the chunk's own
    covariance (``chunk^2``), so chunks much larger than 256 cost more than they save.
    Other models (independent marginals already) get every row in one call.
    """
    means, stds = [], []
    with exact_algebra():
        for sub in outputs(model):
            mu, var = [], []
            for part in torch.split(X, chunk if isinstance(sub, GPyTorchModel) else max(len(X), 1)):
                post = sub.posterior(part)
                mu.append(post.mean.reshape(-1))
                var.append(post.variance.reshape(-1))
            means.append(torch.cat(mu))
            stds.append(torch.cat(var).clamp_min(1e-12).sqrt())
    return torch.stack(means, -1), torch.stack(stds, -1)


class JointPosteriorModel(Model):
    """A model's joint posterior over a finite set of points, computed once and then indexed.

    Args:
        model: a fitted single-output model, or a ``ModelList`` of them (one per objective;
            they are independent, as in ``ModelListGP``).
        X: the ``u x d`` points the acquisition will ask about; a call with any other row is
            passed to ``model``.

    Example:
        >>> joint = JointPosteriorModel(gp, torch.cat([shortlist, baseline]))
        >>> acq = qLogNoisyExpectedImprovement(joint, X_baseline=baseline, cache_root=False)
    """

    def __init__(self, model: Model, X: Tensor) -> None:
        super().__init__()
        self.model = model
        X = torch.unique(X.detach().reshape(-1, X.shape[-1]), dim=0)
        self._keys, self._order = row_keys(X)
        self._means, self._covs = [], []
        with exact_algebra():
            for sub in outputs(model):
                post = sub.posterior(X)
                self._means.append(post.mean.reshape(-1))
                self._covs.append(post.distribution.covariance_matrix.reshape(len(X), len(X)))

    @property
    def num_outputs(self) -> int:
        return len(self._means)

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size([])

    def rows(self, X: Tensor) -> Tensor | None:
        """Index, in the stored set, of each row of ``X`` (``... x d``), shape ``X.shape[:-1]``;
        None when a row is not in the set."""
        keys = row_keys(X.detach().reshape(-1, X.shape[-1]), sort=False)[0]
        pos = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        if not np.all(self._keys[pos] == keys):
            return None
        return torch.as_tensor(self._order[pos]).reshape(X.shape[:-1])

    def posterior(self, X, output_indices=None, observation_noise=False, posterior_transform=None, **kwargs):
        """The joint posterior at ``X`` (``batch x q x d``): event shape ``q x m``."""
        idx = self.rows(X)
        if idx is None:
            with exact_algebra():
                return self.model.posterior(X, output_indices=output_indices, posterior_transform=posterior_transform)
        picked = range(self.num_outputs) if output_indices is None else output_indices
        # A lazy covariance: factorised (with jitter, if need be) only when sampled, as the model's own is.
        mvns = [MultivariateNormal(self._means[j][idx],
                                   DenseLinearOperator(self._covs[j][idx.unsqueeze(-1), idx.unsqueeze(-2)]))
                for j in picked]
        dist = mvns[0] if len(mvns) == 1 else MultitaskMultivariateNormal.from_independent_mvns(mvns)
        posterior = GPyTorchPosterior(dist)
        return posterior if posterior_transform is None else posterior_transform(posterior)


def row_keys(X: Tensor, sort: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``X`` (``n x d``) as comparable byte strings, sorted (with the row each came from) unless
    ``sort`` is False (then in order, with ``arange(n)``)."""
    flat = np.ascontiguousarray(X.detach().cpu().numpy(), dtype=np.float64) + 0.0  # -0.0 becomes 0.0
    keys = flat.view(np.dtype((np.void, flat.dtype.itemsize * flat.shape[1]))).ravel()
    if not sort:
        return keys, np.arange(len(keys))
    order = np.argsort(keys, kind="stable")
    return keys[order], order
