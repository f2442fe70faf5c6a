"""A fitted mean/std predictor seen as a BoTorch model.

BoTorch's acquisition functions only see a posterior (``models/model.py``).
:class:`PredictorModel` gives one to any predictor of the
:class:`~surrogate_nas.predictors.base.Predictor` contract (an XGBoost
ensemble above all), so acquisition code never knows what is behind it.

The posterior is an *independent* normal per point: its covariance is
diagonal, so joint samples over a batch (or over the baseline points of noisy
EI) are independent draws from each point's marginal. That ignores the
correlation a GP would model between similar cells; batch diversity then
comes from the greedy "pending points" selection, not from the posterior.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import torch
from botorch.models.model import Model
from botorch.posteriors.gpytorch import GPyTorchPosterior
from gpytorch.distributions import MultivariateNormal
from linear_operator.operators import DiagLinearOperator

from surrogate_nas.errors import InputDataError


class IndependentOutputModel(Model):
    """A single-output model whose posterior has independent normal marginals: subclasses give
    :meth:`marginals`, this class the BoTorch plumbing."""

    @property
    def num_outputs(self) -> int:
        return 1

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size([])

    @abstractmethod
    def marginals(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance at each row of ``X`` (``... x d``), each of shape ``X.shape[:-1]``."""

    def posterior(self, X, output_indices=None, observation_noise=False, posterior_transform=None, **kwargs):
        """Independent normal posterior at ``X`` (``batch x q x d``); event shape ``q x 1``."""
        if output_indices not in (None, [0]):
            raise InputDataError(f"{type(self).__name__} has one output, got output_indices={output_indices}")
        mean, variance = self.marginals(X)
        posterior = GPyTorchPosterior(MultivariateNormal(mean, DiagLinearOperator(variance)))
        return posterior if posterior_transform is None else posterior_transform(posterior)


class PredictorModel(IndependentOutputModel):
    """Single-output BoTorch model over a fitted predictor's ``predict(X) -> (mean, std)``.

    Args:
        predictor: a fitted predictor; ``predict`` takes an ``n x d`` array.
        min_std: floor on the predictive std, so the posterior is never degenerate.

    Example:
        >>> model = PredictorModel(XGBEnsemble().fit(X, y))
        >>> model.posterior(torch.as_tensor(X[:5])).mean.shape
        torch.Size([5, 1])
    """

    def __init__(self, predictor, min_std: float = 1e-6) -> None:
        super().__init__()
        if not hasattr(predictor, "predict"):
            raise InputDataError(f"PredictorModel needs a fitted predictor, got {type(predictor).__name__}")
        self.predictor = predictor
        self.min_std = float(min_std)

    def marginals(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The predictor's mean and variance; rows that repeat across the batch (the baseline of
        noisy EI, pending points) are predicted once."""
        flat = X.detach().reshape(-1, X.shape[-1]).cpu().numpy()
        uniq, inverse = np.unique(flat, axis=0, return_inverse=True)
        mean, std = self.predictor.predict(uniq)
        mean = torch.as_tensor(mean[inverse.reshape(-1)], dtype=X.dtype).reshape(X.shape[:-1])
        std = torch.as_tensor(std[inverse.reshape(-1)], dtype=X.dtype).reshape(X.shape[:-1])
        return mean, std.clamp_min(self.min_std) ** 2
