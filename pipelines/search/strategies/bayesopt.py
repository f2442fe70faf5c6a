"""Bayesian optimisation over the discrete cell space, with BoTorch.

Each step follows BoTorch's three layers: fit a surrogate on the history
(a GP, or an XGBoost ensemble wrapped by :class:`.models.PredictorModel`),
build an acquisition function from its posterior, and pick the best ``k``
candidates by batched greedy sequential selection: after each pick the chosen
cell becomes a pending point, which is how q-batch MC acquisitions account for
it (as ``optimize_acqf_discrete`` does, but keeping indices, not feature rows).

The candidates are every canonical cell not yet evaluated or pending (6,466
for NAS-Bench-201); their features are computed once per strategy. Scoring
all of them with an MC acquisition costs a batched joint posterior per
candidate, so by default every candidate is first scored by the closed-form
log-EI (or UCB) of its marginal posterior, one posterior call for all, and the
MC acquisition then picks the batch from the best ``shortlist`` of them. With
``candidates="pool"`` a random pool plus one-edge mutations of the incumbents
is scored instead, for spaces too big to enumerate.

Single-objective acquisition: ``logei`` (qLogNoisyExpectedImprovement,
default), ``ucb`` (qUpperConfidenceBound) or ``ts`` (Thompson sampling: GP
sample paths via Matheron's rule; independent marginal draws otherwise).
Several objectives use qLogNoisyExpectedHypervolumeImprovement.

When the surrogate cannot be fitted (BoTorch's ``ModelFittingError``) the step
falls back to random cells and ``last_timing["fit_failed"]`` is set.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from botorch.acquisition.analytic import _log_ei_helper
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.acquisition.monte_carlo import qUpperConfidenceBound
from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
from botorch.exceptions.errors import ModelFittingError
from botorch.models.gpytorch import GPyTorchModel
from botorch.models.model import Model, ModelList
from botorch.models.model_list_gp_regression import ModelListGP
from botorch.sampling.list_sampler import ListSampler
from botorch.utils.multi_objective.box_decompositions.non_dominated import NondominatedPartitioning
from botorch.sampling.normal import SobolQMCNormalSampler
from botorch.sampling.pathwise import draw_matheron_paths
from gpytorch.models import ExactGP
from scipy.stats import norm, rankdata

from surrogate_nas.cell import Cell, canonical_cells
from surrogate_nas.errors import InputDataError
from surrogate_nas.predictors.features import featurize as _featurize
from surrogate_nas.predictors.features import n_features
from surrogate_nas.pipelines.search.history import Objective, objective_matrix, parse_objectives
from surrogate_nas.pipelines.search.models import PredictorModel
from surrogate_nas.pipelines.search.strategies import Strategy, excluded_keys, sample_unseen

ACQUISITIONS = ("logei", "ucb", "ts")
SURROGATES = ("gp", "xgb")
TRANSFORMS = ("copula", "none")


def featurize(cells: Sequence[Cell], kind: str) -> np.ndarray:
    """Features of :mod:`surrogate_nas.predictors.features` as float64."""
    return np.asarray(_featurize(list(cells), kind), dtype=np.float64)


def copula_transform(y: np.ndarray) -> np.ndarray:
    """Map values to normal scores of their ranks (Salinas et al. 2020).

    Keeps the order, removes scale and outliers (diverged networks at 10%
    accuracy would otherwise flatten the GP near the top, where it matters).
    """
    return norm.ppf((rankdata(y) - 0.5) / len(y))


def fit_surrogate(name: str, X: np.ndarray, y: np.ndarray, options: dict, features: str = "onehot") -> Model:
    """Fit surrogate ``name`` on ``X`` (``n x d``), ``y`` (``n``); return a BoTorch model.

    The GP treats the leading one-hot block as categorical when the features
    start with ``onehot``, and fits on one thread (the machine is shared).
    """
    if name == "gp":
        from surrogate_nas.predictors.gp import GPPredictor

        onehot = n_features("onehot") if features.split("+")[0] == "onehot" else 0
        return GPPredictor(**{"onehot_columns": onehot, "threads": 1, **options}).fit(X, y).model_
    from surrogate_nas.predictors.xgb import XGBEnsemble

    return PredictorModel(XGBEnsemble(**{"n_jobs": 1, **options}).fit(X, y))


class BayesianOptimization(Strategy):
    """Surrogate-model search with a BoTorch acquisition function.

    Args:
        surrogate: ``"gp"``, ``"xgb"``, or a callable ``(X, y) -> botorch Model``.
        acquisition: ``"logei"``, ``"ucb"`` or ``"ts"`` (single objective).
        objectives: two or more make the search multi-objective (qLogNEHVI).
        ref_point: hypervolume reference point ("maximise everything" space);
            set by the runner from the evaluator when left ``None``.
        n_initial: random cells evaluated before the first model fit.
        features: feature kind for :func:`featurize`. The default (live-path op
            counts, analytic cost, data-free proxies) is the predictors' best set
            and finds the NAS-Bench-201 optimum far sooner than the one-hot
            encoding (see the search section of docs/benchmarks.md).
        target_transform: ``"copula"`` (rank normal scores) or ``"none"``
            (single objective only; objectives are used raw).
        beta: UCB exploration weight.
        mc_samples: QMC samples of MC acquisitions.
        candidates: ``"all"`` (every unseen canonical cell) or ``"pool"``.
        pool_size: random cells in a pool (plus mutations of the top 10).
        max_batch_size: candidates scored per acquisition call.
        shortlist: candidates kept by closed-form screening for the MC
            acquisition (``0`` scores every candidate with it).
        surrogate_options: keyword arguments of the predictor.
        seed: random seed (initial design, QMC, pools).
    """

    multi_objective = True

    def __init__(
        self,
        surrogate: str | Callable = "gp",
        acquisition: str = "logei",
        objectives=None,
        ref_point=None,
        n_initial: int = 10,
        features: str = "liveops+cost+zc",
        target_transform: str = "copula",
        beta: float = 2.0,
        mc_samples: int = 128,
        candidates: str = "all",
        pool_size: int = 2000,
        max_batch_size: int = 512,
        shortlist: int = 256,
        surrogate_options: dict | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(seed)
        if not callable(surrogate) and surrogate not in SURROGATES:
            raise InputDataError(f"unknown surrogate {surrogate!r}; expected one of {', '.join(SURROGATES)}")
        if acquisition not in ACQUISITIONS:
            raise InputDataError(f"unknown acquisition {acquisition!r}; expected one of {', '.join(ACQUISITIONS)}")
        if target_transform not in TRANSFORMS:
            raise InputDataError(f"unknown target transform {target_transform!r}; expected one of {TRANSFORMS}")
        if candidates not in ("all", "pool"):
            raise InputDataError(f"candidates must be 'all' or 'pool', got {candidates!r}")
        if int(n_initial) < 2:
            raise InputDataError(f"n_initial must be >= 2 (a model needs two points), got {n_initial}")
        featurize(canonical_cells()[:1], features)  # validates the kind once, at the boundary
        self.surrogate, self.acquisition = surrogate, acquisition
        self.objectives: tuple[Objective, ...] = parse_objectives(objectives) if objectives else ()
        self.ref_point = ref_point
        self.n_initial, self.features = int(n_initial), features
        self.target_transform, self.beta, self.mc_samples = target_transform, beta, mc_samples
        self.candidates, self.pool_size, self.max_batch_size = candidates, pool_size, max_batch_size
        self.shortlist = int(shortlist)
        self.surrogate_options = dict(surrogate_options or {})
        self.name = "bo-" + (surrogate if isinstance(surrogate, str) else "custom")
        self.last_timing = {"fit_s": 0.0, "acq_s": 0.0}
        self._space: tuple[Cell, ...] | None = None
        self._space_X: torch.Tensor | None = None

    @property
    def is_multi_objective(self) -> bool:
        return len(self.objectives) > 1

    # -- candidates ----------------------------------------------------------
    def _candidates(self, history, taken: set[str]) -> tuple[list[Cell], torch.Tensor]:
        if self.candidates == "all":
            if self._space is None:
                self._space = canonical_cells()
                self._space_X = torch.as_tensor(featurize(self._space, self.features), dtype=torch.float64)
            keep = [i for i, c in enumerate(self._space) if c.canonical_key not in taken]
            return [self._space[i] for i in keep], self._space_X[keep]
        top = sorted(history, key=lambda t: t.value, reverse=True)[:10]
        pool = {c.canonical_key: c for c in sample_unseen(self.pool_size, taken, self.rng)}
        for t in top:
            for n in t.cell.neighbours():
                if n.canonical_key not in taken:
                    pool.setdefault(n.canonical_key, n)
        cells = list(pool.values())
        return cells, torch.as_tensor(featurize(cells, self.features), dtype=torch.float64)

    # -- model ---------------------------------------------------------------
    def _targets(self, history) -> np.ndarray:
        if self.is_multi_objective:
            return objective_matrix(history, self.objectives)
        y = np.array([t.value for t in history], dtype=np.float64)
        return (copula_transform(y) if self.target_transform == "copula" else y)[:, None]

    def _fit(self, X: np.ndarray, Y: np.ndarray) -> Model:
        fit = self.surrogate if callable(self.surrogate) else (
            lambda X_, y_: fit_surrogate(self.surrogate, X_, y_, self.surrogate_options, self.features)
        )
        models = [fit(X, Y[:, j]) for j in range(Y.shape[1])]
        if len(models) == 1:
            return models[0]
        if all(isinstance(m, GPyTorchModel) for m in models):
            return ModelListGP(*models)
        return ModelList(*models)

    # -- acquisition -----------------------------------------------------------
    def _acquisition(self, model: Model, X_train: torch.Tensor):
        seed = int(self.rng.integers(2**31))
        sampler = SobolQMCNormalSampler(torch.Size([self.mc_samples]), seed=seed)
        if isinstance(model, ModelList) and not isinstance(model, ModelListGP):  # sampled model by model
            sampler = ListSampler(
                *[SobolQMCNormalSampler(torch.Size([self.mc_samples]), seed=seed + i) for i in range(len(model.models))]
            )
        if self.is_multi_objective:
            if self.ref_point is None:
                raise InputDataError("multi-objective BO needs ref_point (the runner sets it from the evaluator)")
            return qLogNoisyExpectedHypervolumeImprovement(
                model,
                ref_point=torch.as_tensor(np.asarray(self.ref_point), dtype=torch.float64).tolist(),
                X_baseline=X_train,
                sampler=sampler,
                prune_baseline=True,
                cache_root=False,
            )
        if self.acquisition == "ucb":
            return qUpperConfidenceBound(model, beta=self.beta, sampler=sampler)
        return qLogNoisyExpectedImprovement(
            model, X_baseline=X_train, sampler=sampler, prune_baseline=True, cache_root=False
        )

    def _screen(self, model: Model, X: torch.Tensor, X_train: torch.Tensor, n_keep: int, Y=None) -> torch.Tensor:
        """Indices of the ``n_keep`` best candidates by a closed-form score.

        Single objective: log-EI (or UCB) of each marginal posterior. Several:
        the hypervolume improvement of each candidate's optimistic point
        (mean + sqrt(beta) std per objective) over the observed front, ties
        broken by the optimistic point's standardised sum.
        """
        with torch.no_grad():
            post = [model.posterior(X[i : i + self.max_batch_size]) for i in range(0, X.shape[0], self.max_batch_size)]
            m = post[0].mean.shape[-1]
            mean = torch.cat([p.mean.reshape(-1, m) for p in post]).squeeze(-1)
            sigma = torch.cat([p.variance.reshape(-1, m) for p in post]).squeeze(-1).clamp_min(1e-12).sqrt()
            if self.is_multi_objective:
                U = mean + self.beta**0.5 * sigma
                ref = torch.as_tensor(np.asarray(self.ref_point), dtype=U.dtype)
                lower, upper = NondominatedPartitioning(ref, Y=torch.as_tensor(Y, dtype=U.dtype)).get_hypercell_bounds()
                upper = torch.minimum(upper, U.max(0).values.clamp_min(ref))  # infinite upper bounds
                side = (torch.minimum(U[:, None, :], upper) - lower).clamp_min(0)
                tie = ((U - U.mean(0)) / U.std(0).clamp_min(1e-12)).sum(-1)
                score = side.prod(-1).sum(-1) + 1e-6 * (tie - tie.min())
            elif self.acquisition == "ucb":
                score = mean + self.beta**0.5 * sigma
            else:
                best_f = model.posterior(X_train).mean.max()
                score = _log_ei_helper((mean - best_f) / sigma) + sigma.log()
        return torch.topk(score, min(n_keep, X.shape[0])).indices

    def _greedy(self, acq, X: torch.Tensor, k: int, pending: torch.Tensor | None) -> list[int]:
        chosen: list[int] = []
        if pending is not None and len(pending):
            acq.set_X_pending(pending)
        with torch.no_grad():
            for _ in range(min(k, X.shape[0])):
                scores = torch.cat(
                    [acq(X[i : i + self.max_batch_size].unsqueeze(-2)) for i in range(0, X.shape[0], self.max_batch_size)]
                )
                scores[chosen] = -torch.inf
                chosen.append(int(torch.argmax(scores)))
                picked = X[chosen]
                acq.set_X_pending(picked if pending is None else torch.cat([pending, picked]))
        return chosen

    def _thompson(self, model: Model, X: torch.Tensor, k: int) -> list[int]:
        chosen: list[int] = []
        with torch.no_grad():
            if isinstance(model, ExactGP):
                draws = draw_matheron_paths(model, sample_shape=torch.Size([k]))(X).reshape(k, -1)
            else:  # independent marginal draws (see models.PredictorModel)
                post = model.posterior(X)
                mean, std = post.mean.reshape(-1), post.variance.reshape(-1).sqrt()
                noise = torch.as_tensor(self.rng.standard_normal((k, X.shape[0])), dtype=mean.dtype)
                draws = mean + std * noise
        for row in draws:
            row = row.clone()
            row[chosen] = -torch.inf
            chosen.append(int(torch.argmax(row)))
        return chosen

    # -- ask -------------------------------------------------------------------
    def suggest(self, k, history, pending=()):
        taken = excluded_keys(history, pending)
        self.last_timing = {"fit_s": 0.0, "acq_s": 0.0}
        n_random = max(0, self.n_initial - len(history) - len(pending))
        out = sample_unseen(min(k, n_random), taken, self.rng)
        if len(out) == k or len(history) < 2:
            return out + (sample_unseen(k - len(out), taken | {c.canonical_key for c in out}, self.rng))
        taken |= {c.canonical_key for c in out}
        t0 = time.perf_counter()
        X_train = featurize([t.cell for t in history], self.features)
        Y = self._targets(history)
        try:
            model = self._fit(X_train, Y)
        except ModelFittingError:  # e.g. a GP on a noiseless objective; this step explores instead
            self.last_timing = {"fit_s": time.perf_counter() - t0, "acq_s": 0.0, "fit_failed": 1.0}
            return out + sample_unseen(k - len(out), taken, self.rng)
        t1 = time.perf_counter()
        cells, X_cand = self._candidates(history, taken)
        if not cells:
            return out
        m = min(k - len(out), len(cells))
        if self.acquisition == "ts" and not self.is_multi_objective:
            idx = self._thompson(model, X_cand, m)
        else:
            acq = self._acquisition(model, torch.as_tensor(X_train, dtype=torch.float64))
            extra = list(pending) + out
            pend = torch.as_tensor(featurize(extra, self.features), dtype=torch.float64) if extra else None
            keep = torch.arange(X_cand.shape[0])
            if self.shortlist and X_cand.shape[0] > self.shortlist:
                X_t = torch.as_tensor(X_train, dtype=torch.float64)
                keep = self._screen(model, X_cand, X_t, self.shortlist, Y)
            idx = [int(keep[i]) for i in self._greedy(acq, X_cand[keep], m, pend)]
        self.last_timing = {"fit_s": t1 - t0, "acq_s": time.perf_counter() - t1}
        return out + [cells[i] for i in idx]
