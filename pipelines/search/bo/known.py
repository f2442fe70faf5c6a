"""Objectives known without evaluating: exact outputs beside the surrogate's.

A table's device latency, a packaged column or a saved latency model's prediction is known for
every candidate before it is evaluated. Modelling such an objective with a GP spends
evaluations on learning what is already known, and blurs the Pareto front the acquisition
works on. Here the surrogate models only the unknown outputs, and each known objective is a
:class:`KnownOutputModel`: its posterior is the exact value with (almost) no variance, so
screening and qLogNEHVI read the true trade-off of every candidate (BoTorch's own answer for a
known objective is a deterministic model in a ``ModelList``; this one also gives the
``GPyTorchPosterior`` the step's joint posterior indexes).

The model sees feature rows, not architectures: each step tells it the rows of the
architectures it may be asked about (evaluated, pending, candidates) with their values.

    >>> known = KnownOutputModel.of(X_rows, values)   # values in "maximise everything" units
    >>> model = with_known_outputs(gp_of_accuracy, {1: known}, outputs=2)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from botorch.models.gpytorch import GPyTorchModel
from botorch.models.model import Model, ModelList
from torch import Tensor

from surrogate_nas.pipelines.search.bo.joint_posterior import outputs, row_keys
from surrogate_nas.pipelines.search.bo.predictor_model import IndependentOutputModel

EXACT_VARIANCE = 1e-10
"""Variance of a known output's posterior: nothing to learn, yet positive so that Cholesky factors exist."""


class KnownOutputModel(IndependentOutputModel):
    """One output whose value at each feature row is known (see the module docstring).

    A row it was not told about (BoTorch may ask about random points of the baseline's bounding
    box) gets the value of the nearest row it knows.
    """

    def __init__(self, rows: Tensor, values: Tensor) -> None:
        super().__init__()
        rows = rows.detach().to(torch.float64)
        self._rows, self._values = rows, values.detach().to(torch.float64).reshape(-1)
        self._keys, self._order = row_keys(rows)

    @classmethod
    def of(cls, rows: Tensor, values) -> "KnownOutputModel":
        return cls(rows, torch.as_tensor(np.asarray(values, dtype=np.float64)))

    def values_at(self, X: Tensor) -> Tensor:
        """The known value at each row of ``X`` (``... x d``), shape ``X.shape[:-1]``."""
        flat = X.detach().reshape(-1, X.shape[-1]).to(torch.float64)
        keys = row_keys(flat, sort=False)[0]
        pos = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        found = self._keys[pos] == keys
        index = torch.as_tensor(self._order[pos])
        if not found.all():
            missing = torch.as_tensor(~found)
            index[missing] = torch.cdist(flat[missing], self._rows).argmin(-1)
        return self._values[index].reshape(X.shape[:-1]).to(X.dtype)

    def marginals(self, X: Tensor) -> tuple[Tensor, Tensor]:
        mean = self.values_at(X)
        return mean, torch.full_like(mean, EXACT_VARIANCE)


def with_known_outputs(model: Model | None, known: Mapping[int, KnownOutputModel], total: int) -> Model:
    """One model of ``total`` outputs: output ``j`` is ``known[j]`` where given, else the next
    output of ``model`` (the surrogate of the unknown ones, in order; None when none is unknown)."""
    fitted = iter(outputs(model) if model is not None else ())
    models = [known[j] if j in known else next(fitted) for j in range(total)]
    return models[0] if total == 1 else ModelList(*models)


def exact_posterior_parts(model: Model) -> bool:
    """Whether every output of ``model`` gives a GPyTorch posterior over a joint set of points: an
    exact GP or a known output (the step then computes one joint posterior and indexes it)."""
    return all(isinstance(sub, (GPyTorchModel, KnownOutputModel)) for sub in outputs(model))
