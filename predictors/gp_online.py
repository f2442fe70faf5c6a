"""A GP that follows a growing history: hyperparameters fitted now and then, posterior updated every step.

An exact GP fitted from scratch costs ``O(n^3)`` per likelihood iteration, and a search
refitting one after every evaluation pays it dozens of times per step. The two things a
step needs cost very differently, so they are kept apart:

* **hyperparameters**: :class:`~.gp.GPPredictor` with ``warm_start=True`` optimises the
  marginal likelihood starting from the previous optimum, on whichever rows the caller
  passes (all of them, or :func:`subset_rows` past a size);
* **posterior**: :func:`condition_gp` puts those hyperparameters, unchanged, on the current
  data: one Cholesky factorisation, no optimisation. It is the posterior BoTorch's
  ``condition_on_observations`` gives, also when older targets have moved (rank-based
  targets change with every new point, which conditioning alone cannot express).

Linear algebra stays exact (Cholesky) inside :func:`exact_algebra`: gpytorch switches to
conjugate gradients and Lanczos past 800 rows by default, slower on a CPU and noisier.

Example:
    >>> gp = GPPredictor(warm_start=True).fit(X[:50], y[:50])
    >>> model = condition_gp(gp.model_, X, y)  # all rows, hyperparameters of the fit on 50
"""

from __future__ import annotations

import copy
import warnings
from contextlib import ExitStack, contextmanager

import gpytorch
import numpy as np
import torch
from botorch.models import SingleTaskGP

from surrogate_nas.errors import InputDataError

EXACT_LIMIT = 20_000
"""Rows up to which posteriors use a Cholesky factorisation rather than iterative solves."""


@contextmanager
def exact_algebra():
    """Cholesky-based solves and exact (cached) predictive variances, without gradients."""
    with ExitStack() as stack:
        stack.enter_context(torch.no_grad())
        stack.enter_context(gpytorch.settings.max_cholesky_size(EXACT_LIMIT))
        stack.enter_context(gpytorch.settings.fast_pred_var())  # a cached root of K^-1: variances cost O(n) each
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")  # jitter notices on near-duplicate rows
        yield


def condition_gp(template: SingleTaskGP, X: np.ndarray, y: np.ndarray) -> SingleTaskGP:
    """An exact GP on ``X`` (``n x d``), ``y`` (``n``) with ``template``'s hyperparameters.

    Kernel, mean, noise, input scaling and target standardisation are copied from
    ``template`` and not optimised, so the result is ``template`` conditioned on the new
    data (what ``condition_on_observations`` computes when the old rows are kept as they
    were). The model is returned in eval mode.

    Raises:
        InputDataError: ``X`` and ``y`` disagree in length, or ``X`` has another width.
    """
    train_X = torch.as_tensor(np.asarray(X, dtype=np.float64))
    train_Y = torch.as_tensor(np.asarray(y, dtype=np.float64)).reshape(-1, 1)
    width = template.train_inputs[0].shape[-1]
    if train_X.ndim != 2 or train_X.shape[0] != train_Y.shape[0] or train_X.shape[1] != width:
        raise InputDataError(f"condition_gp needs n x {width} features and n targets, "
                             f"got {tuple(train_X.shape)} and {tuple(train_Y.shape)}")
    outcome = copy.deepcopy(getattr(template, "outcome_transform", None))
    if outcome is not None:
        outcome.eval()  # keep the template's standardisation, as conditioning does
        train_Y, _ = outcome(train_Y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # input-scaling hints: the template's scaling is kept on purpose
        model = SingleTaskGP(
            train_X,
            train_Y,
            likelihood=copy.deepcopy(template.likelihood),
            covar_module=copy.deepcopy(template.covar_module),
            mean_module=copy.deepcopy(template.mean_module),
            outcome_transform=None,
            input_transform=copy.deepcopy(getattr(template, "input_transform", None)),
        )
    if outcome is not None:
        model.outcome_transform = outcome
    return model.eval()


def best_first(Y: np.ndarray) -> np.ndarray:
    """Row indices of ``Y`` (``n x m``, larger is better), best first.

    One objective: by value. Several: by the best rank a row reaches under any of a
    fixed set of Chebyshev scalarisations (on min-max scaled objectives), so the head of
    the order covers every part of the Pareto front rather than one end of it.
    """
    Y = np.asarray(Y, dtype=np.float64).reshape(len(Y), -1)
    n, m = Y.shape
    if m == 1:
        return np.argsort(-Y[:, 0], kind="stable")
    span = np.ptp(Y, axis=0)
    Z = (Y - Y.min(axis=0)) / np.where(span > 0, span, 1.0)
    weights = _simplex_weights(m, 8)
    ranks = np.empty((len(weights), n), dtype=np.int64)
    for i, w in enumerate(weights):
        ranks[i, np.argsort(-(w * Z).min(axis=1), kind="stable")] = np.arange(n)
    return np.lexsort((np.arange(n), ranks.min(axis=0)))


def subset_rows(Y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``k`` of the ``n`` rows of ``Y`` (``n x m``, larger is better) for a GP on a subset.

    Half are the best rows by :func:`best_first` (where the search looks next, so where
    the model must be sharp); the other half are drawn at random from the rest, so the
    model still sees the whole space. Sorted; all rows (and no draw) when ``k >= n``.
    """
    n = len(Y)
    if k >= n:
        return np.arange(n)
    if k < 1:
        raise InputDataError(f"a subset needs at least one row, got k={k}")
    top = best_first(Y)[: k - k // 2]
    rest = np.setdiff1d(np.arange(n), top)
    return np.sort(np.concatenate([top, rng.choice(rest, size=k // 2, replace=False)]))


def _simplex_weights(m: int, per_axis: int) -> np.ndarray:
    """Evenly spread positive weight vectors over the ``m``-simplex (for two objectives, a line)."""
    grid = np.stack(np.meshgrid(*[np.linspace(0.05, 1.0, per_axis)] * m), -1).reshape(-1, m)
    grid = np.unique(np.round(grid / grid.sum(1, keepdims=True), 6), axis=0)
    return grid
