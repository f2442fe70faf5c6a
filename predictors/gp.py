"""Exact Gaussian process surrogate, built as a BoTorch ``SingleTaskGP``.

The kernel is a sum of two parts, each with its own output scale::

    k(x, x') = s1 * exp(-sum_j w_j [a_j != a'_j])   # weighted Hamming over one-hot edges
             + s2 * Matern52_ARD(c, c')             # continuous features (counts, costs, proxies)

(just the Matern part, without an output scale, when there are no one-hot columns).
With the one-hot encoding of the architecture in front of the continuous features (the
``gp-cat`` entry of the registry) the first part is a categorical kernel on the operations,
so the kernel knows the architecture as well as its summaries.
By default the lengthscales carry BoTorch's dimension-scaled log-normal prior, which
keeps the fit sound with hundreds of features and few points.

The first part is the categorical (Hamming) kernel of BoTorch's
``CategoricalKernel`` written on the one-hot columns: for one-hot vectors an
ARD RBF kernel equals a weighted Hamming kernel, which lets the features stay
the package's ``n x d`` matrices. It is used when ``onehot_columns > 0`` (the
first ``onehot_columns`` columns of ``X``); the Matern part covers the other
columns. Hyper-parameters are fitted by maximising the marginal likelihood (the
posterior, with the prior) (``botorch.fit.fit_gpytorch_mll``); inputs are scaled to the unit cube with the
training bounds (``Normalize``) and targets standardised (``Standardize``), both
inside the model, so :attr:`GPPredictor.model_` takes raw features and returns
posteriors in the target's units: use it directly with BoTorch acquisition
functions.

:meth:`predict` returns the posterior predictive std, i.e. *including* the
fitted observation noise, because the 90% interval it defines is meant to
cover measured accuracies, which carry seed noise. Pass ``observation_noise=False``
for the latent-function std. By default that std is calibrated on held-out residuals
(``calibration="crossfit"``, :mod:`~surrogate_nas.predictors.calibration`): a GP fitted on
each half of the training set predicts the other half, and the variance :meth:`predict`
reports is ``scale * posterior variance + floor`` with both fitted on those residuals. The
posterior alone trusts hyper-parameters fitted on a few dozen points and under-covers; the
calibration table of ``docs/benchmarks.md`` ("Performance predictors on NAS-Bench-201")
measures the coverage this gives. Only :meth:`predict` is calibrated:
:attr:`GPPredictor.model_` is the fitted GP as it is, so Bayesian optimisation on its
posterior is unchanged; a search that only reads ``model_`` passes ``calibration="none"``
and skips the two extra fits.

Example:
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((20, 2)); y = np.sin(3 * X[:, 0])
    >>> gp = GPPredictor().fit(X, y)
    >>> gp.predict(X[:3])[1].shape
    (3,)
"""

from __future__ import annotations

import warnings

import numpy as np
import gpytorch
import torch
from botorch.exceptions.errors import ModelFittingError
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms import Normalize, Standardize
from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior
from gpytorch.kernels import MaternKernel, RBFKernel, ScaleKernel
from gpytorch.mlls import ExactMarginalLogLikelihood

from surrogate_nas.errors import FitError, InputDataError
from surrogate_nas.predictors.base import WarpedPredictor
from surrogate_nas.predictors.calibration import calibrated_std, check_calibration, crossfit_variance
from surrogate_nas.predictors.warping import TRANSFORMS, CopulaWarp


class GPPredictor(WarpedPredictor):
    """Exact GP with a Hamming + Matern-5/2 kernel.

    Args:
        onehot_columns: How many leading columns of ``X`` are one-hot categorical
            blocks (30 for NAS-Bench-201 ``onehot``); 0 for none.
        observation_noise: Whether :meth:`predict`'s std includes observation noise.
        maxiter: L-BFGS iterations for the marginal-likelihood fit; the optimum is
            flat, so a cap keeps fitting fast at little cost in accuracy.
        threads: Torch CPU threads used while fitting and predicting.
        random_state: Seed of the fit's random restarts, applied to a forked copy of
            torch's generator (the caller's random state is left alone).
        lengthscale_prior: ``"dim-scaled"`` puts BoTorch's dimension-scaled log-normal prior
            (Hvarfner et al., 2024) on each part's lengthscales, so hundreds of features
            (NAS-Bench-101's path encoding) do not over-fit a few dozen points; ``"none"``
            fits them by maximum likelihood alone, which over-fits there and ranks worse
            (``docs/benchmarks.md``, "Predictors on the NAS-Bench-101 and DARTS subsets",
            has ``gp`` with and without the prior).
        target_transform: ``"copula"`` fits the rank normal scores of the targets and maps
            predictions back (see :mod:`~surrogate_nas.predictors.warping`); ``"none"`` fits
            the targets as they are.
        warm_start: When the predictor was fitted before, start the marginal-likelihood
            optimisation from its hyperparameters (scikit-learn's ``warm_start``); a search
            refitting on a few more points then converges in a few iterations.
        calibration: ``"crossfit"`` calibrates :meth:`predict`'s std on two-fold held-out
            residuals (two more fits, each on half the rows); ``"none"`` reports the posterior std.
    """

    name = "gp"

    def __init__(
        self,
        onehot_columns: int = 0,
        observation_noise: bool = True,
        maxiter: int = 60,
        threads: int = 1,
        random_state: int = 0,
        lengthscale_prior: str = "dim-scaled",
        target_transform: str = "copula",
        warm_start: bool = False,
        calibration: str = "crossfit",
    ) -> None:
        self.maxiter = maxiter
        self.onehot_columns = onehot_columns
        self.observation_noise = observation_noise
        self.threads = threads
        self.random_state = random_state
        self.lengthscale_prior = lengthscale_prior
        self.target_transform = target_transform
        self.warm_start = warm_start
        self.calibration = calibration

    def _kernel(self, d: int):
        k = int(self.onehot_columns)
        if not 0 <= k <= d:
            raise InputDataError(f"onehot_columns must be in 0..{d} (the number of features), got {k}")
        if self.lengthscale_prior not in PRIORS:
            raise InputDataError(f"lengthscale_prior must be one of {', '.join(PRIORS)}, got {self.lengthscale_prior!r}")
        parts = []
        if k:
            parts.append(self._part(list(range(k)), rbf=True))
        if d > k:
            parts.append(self._part(list(range(k, d)), rbf=False))
        if len(parts) == 1 and self.lengthscale_prior == "dim-scaled":
            return parts[0]  # BoTorch's default: standardised targets need no output scale
        kernel = ScaleKernel(parts[0])
        for part in parts[1:]:
            kernel = kernel + ScaleKernel(part)
        return kernel

    def _part(self, dims: list[int], rbf: bool):
        if self.lengthscale_prior == "dim-scaled":
            return get_covar_module_with_dim_scaled_prior(len(dims), use_rbf_kernel=rbf, active_dims=dims)
        if rbf:
            return RBFKernel(ard_num_dims=len(dims), active_dims=dims)
        return MaternKernel(nu=2.5, ard_num_dims=len(dims), active_dims=dims)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        if self.target_transform not in TRANSFORMS:
            raise InputDataError(f"target_transform must be one of {', '.join(TRANSFORMS)}, got {self.target_transform!r}")
        check_calibration(self.calibration)
        self.warp_ = CopulaWarp.fit(y) if self.target_transform == "copula" else None
        if self.warp_ is not None:
            y = self.warp_.scores(y)
        elif np.ptp(y) == 0:
            raise FitError(f"the {len(y)} training targets are all equal ({y[0]:g}); a GP cannot be fitted")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.random_state))
            self._fit_model(X, y)
        self.variance_scale_, self.variance_floor_ = 1.0, 0.0
        if self.calibration == "crossfit":
            self.variance_scale_, self.variance_floor_ = crossfit_variance(self._half_fit(X, y), y,
                                                                           int(self.random_state))

    def _half_fit(self, X: np.ndarray, y: np.ndarray):
        """The cross-fit's ``fit_predict``: an uncalibrated GP like this one on some rows, its posterior on others."""
        def fit_predict(train: np.ndarray, test: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
            params = {**self.get_params(), "target_transform": "none", "calibration": "none", "warm_start": False,
                      "random_state": seed}
            return GPPredictor(**params).fit(X[train], y[train])._posterior(X[test])

        return fit_predict

    def _build(self, X: np.ndarray, y: np.ndarray) -> SingleTaskGP:
        """The unfitted model on training data ``X``, ``y`` (fitting and loading both start here)."""
        lo, hi = X.min(axis=0), X.max(axis=0)
        hi = np.where(hi > lo, hi, lo + 1.0)  # constant columns: any unit range
        bounds = torch.tensor(np.stack([lo, hi]), dtype=torch.float64)
        train_X = torch.tensor(X, dtype=torch.float64)
        train_Y = torch.tensor(y, dtype=torch.float64).unsqueeze(-1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # BoTorch's input-scaling hints; we scale on purpose
            return SingleTaskGP(
                train_X,
                train_Y,
                covar_module=self._kernel(X.shape[1]),
                input_transform=Normalize(X.shape[1], bounds=bounds),
                outcome_transform=Standardize(m=1),
            )

    def _fit_model(self, X: np.ndarray, y: np.ndarray) -> None:
        with _threads(self.threads):
            model = self._build(X, y)
            if self.warm_start and getattr(self, "model_", None) is not None:
                load_hyperparameters(model, self.model_)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    fit_gpytorch_mll(
                        ExactMarginalLogLikelihood(model.likelihood, model),
                        optimizer_kwargs={"options": {"maxiter": int(self.maxiter)}},
                    )
                except ModelFittingError as exc:
                    raise FitError(
                        f"the GP's marginal likelihood could not be optimised on {len(y)} points: {exc}") from exc
        model.eval()
        self.model_ = model
        self.train_X_, self.train_y_ = X, y

    def export_state(self) -> tuple[dict[str, np.ndarray], dict[str, bytes]]:
        """The training data, the model's ``state_dict`` (hyper-parameters, transforms) and calibration, as arrays."""
        arrays = {"train_X": self.train_X_, "train_y": self.train_y_,
                  "variance": np.array([self.variance_scale_, self.variance_floor_])}
        arrays.update({f"state/{k}": v.detach().cpu().numpy() for k, v in self.model_.state_dict().items()})
        if self.warp_ is not None:
            arrays.update(self.warp_.arrays())
        return arrays, {}

    def import_state(self, arrays: dict[str, np.ndarray], blobs: dict[str, bytes]) -> None:
        X, y = np.asarray(arrays["train_X"], dtype=np.float64), np.asarray(arrays["train_y"], dtype=np.float64)
        model = self._build(X, y)
        state = {k[len("state/"):]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith("state/")}
        model.load_state_dict(state, strict=True)
        model.eval()
        self.model_, self.train_X_, self.train_y_ = model, X, y
        self.warp_ = CopulaWarp.from_arrays(arrays)
        # A file saved before calibration existed predicts as it did: the posterior std as it is.
        self.variance_scale_, self.variance_floor_ = (float(v) for v in arrays.get("variance", (1.0, 0.0)))

    def _predict_scores(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, spread = self._posterior(X)
        return mean, calibrated_std(spread, self.variance_scale_, self.variance_floor_)

    def _posterior(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``model_``'s posterior mean and std at ``X``, in the units it was fitted in."""
        test_X = torch.tensor(X, dtype=torch.float64)
        means, stds = [], []
        with _threads(self.threads), torch.no_grad(), gpytorch.settings.fast_pred_var(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Small chunks keep the chunk's joint covariance cheap; only its diagonal is used.
            for chunk in torch.split(test_X, 256):
                post = self.model_.posterior(chunk, observation_noise=bool(self.observation_noise))
                means.append(post.mean.reshape(-1))
                stds.append(post.variance.clamp_min(0).sqrt().reshape(-1))
        return torch.cat(means).numpy(), torch.cat(stds).numpy()


PRIORS = ("dim-scaled", "none")


def load_hyperparameters(model, source) -> bool:
    """Copy ``source``'s kernel, mean and noise hyperparameters into ``model``.

    All or nothing: when the two differ in structure (another kernel, another number of
    features) ``model`` is left as it was and False is returned.
    """
    parts = ("covar_module", "mean_module", "likelihood")
    states = [getattr(source, p).state_dict() for p in parts]
    for part, state in zip(parts, states):
        own = getattr(model, part).state_dict()
        if own.keys() != state.keys() or any(own[k].shape != state[k].shape for k in own):
            return False
    for part, state in zip(parts, states):
        getattr(model, part).load_state_dict(state)
    return True


class _threads:
    """Set torch's intra-op thread count for a block, then restore it."""

    def __init__(self, n: int) -> None:
        self.n = max(int(n), 1)

    def __enter__(self) -> None:
        self.saved = torch.get_num_threads()
        torch.set_num_threads(self.n)

    def __exit__(self, *exc) -> None:
        torch.set_num_threads(self.saved)
