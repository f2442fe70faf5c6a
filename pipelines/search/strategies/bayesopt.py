"""Bayesian optimisation over a discrete architecture space, with BoTorch.

Each step follows BoTorch's three layers: fit a surrogate on the history (a GP, or an
XGBoost ensemble wrapped by :class:`..models.PredictorModel`), build an acquisition
function from its posterior, and let ``optimize_acqf_discrete`` pick the ``n``
suggestions from the candidates by sequential greedy selection (each pick becomes a
pending point, as do the suggestions other workers are still evaluating).

Candidates are every canonical architecture not yet evaluated or pending when the space
can be enumerated (6,466 for NAS-Bench-201), else a pool of fresh samples plus the
neighbours of the best architectures so far (NAS-Bench-101, DARTS). Scoring thousands of
candidates with a Monte-Carlo acquisition costs a batched joint posterior each, so they
are first screened by a closed-form score of their marginal posterior
(``LogExpectedImprovement``, or the UCB value) and the MC acquisition picks the batch from
the best ``shortlist``.

Single-objective acquisition: ``logei`` (qLogNoisyExpectedImprovement, default), ``ucb``
(qUpperConfidenceBound) or ``ts`` (Thompson sampling: GP sample paths via Matheron's rule;
independent marginal draws otherwise). Several objectives use
qLogNoisyExpectedHypervolumeImprovement.

Constraints (:mod:`..constraints`): candidates a known constraint rules out never reach
this strategy (its space is restricted); each *modelled* constraint gets its own surrogate
output and enters the acquisition through BoTorch's ``constraints=`` (see
:mod:`.bo_constraints`). Incumbents and Pareto fronts count feasible trials only.

When the surrogate cannot be fitted (BoTorch's ``ModelFittingError``) the step falls
back to random architectures and ``last_timing["fit_failed"]`` is set.

A step budget (``step_seconds``, default 3 s on the reference machine) keeps a step's cost
from growing with the history and the candidates: a :class:`~..step_budget.StepPlan`
chooses, from counts alone (rows, candidates, objectives; never from a clock), how many
candidates are screened (a seeded subset past a size: the neighbours of the best trials and a
uniform sample), how many rows the GP conditions on, whether its hyperparameters are refitted
this step (and on how many rows) or kept and conditioned on the new data, and the shortlist;
the Monte-Carlo acquisition then reads one joint posterior over the shortlist, a bounded
baseline (the plan's ``baseline`` best points by fitted mean) and the pending points
(:mod:`..joint_posterior`). While the classic step fits the budget it is the classic
step. ``step_seconds=None`` always runs the classic step: hyperparameters refitted on
every row, every candidate screened, the whole history as the acquisition's baseline.

Every random draw of a step uses :attr:`rng` and torch's global generator, which
:meth:`~.base.Strategy.suggest` seeds per step, so a seeded search is the same search in
every run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.acquisition.monte_carlo import qUpperConfidenceBound
from botorch.acquisition.multi_objective import logei as mo_logei
from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
from botorch.exceptions.errors import ModelFittingError
from botorch.models.gpytorch import GPyTorchModel
from botorch.models.model import Model, ModelList
from botorch.models.model_list_gp_regression import ModelListGP
from botorch.optim.optimize import optimize_acqf_discrete
from botorch.sampling.list_sampler import ListSampler
from botorch.sampling.normal import SobolQMCNormalSampler
from botorch.sampling.pathwise import draw_matheron_paths
from botorch.utils.multi_objective.box_decompositions.non_dominated import NondominatedPartitioning
from gpytorch.models import ExactGP
from scipy.stats import norm, rankdata

from surrogate_nas.errors import FitError, InputDataError
from surrogate_nas.predictors.gp_online import best_first
from surrogate_nas.pipelines.search.constraints import NO_CONSTRAINTS, ConstraintSet
from surrogate_nas.pipelines.search.history import Suggestion, objective_matrix
from surrogate_nas.pipelines.search.joint_posterior import JointPosteriorModel, marginal_posterior
from surrogate_nas.pipelines.search.pareto import reference_point
from surrogate_nas.pipelines.search.models import PredictorModel
from surrogate_nas.pipelines.search.step_budget import StepPlan, plan_step
from surrogate_nas.pipelines.search.strategies import bo_constraints
from surrogate_nas.pipelines.search.strategies.base import Strategy
from surrogate_nas.pipelines.search.surrogate_cache import SurrogateCache
from surrogate_nas.pipelines.search.surrogates import resolve_surrogate

ACQUISITIONS = ("logei", "ucb", "ts")
SURROGATES = ("gp", "xgb")
TRANSFORMS = ("copula", "none")


def copula_transform(y: np.ndarray) -> np.ndarray:
    """Map values to normal scores of their ranks (Salinas et al. 2020).

    Keeps the order, removes scale and outliers (diverged networks at 10%
    accuracy would otherwise flatten the GP near the top, where it matters).
    """
    return norm.ppf((rankdata(y) - 0.5) / len(y))


def fit_xgb_surrogate(X: np.ndarray, y: np.ndarray, options: dict) -> Model:
    """An XGBoost ensemble on ``X`` (``n x d``), ``y`` (``n``), one thread, as a BoTorch model.

    (The GP surrogate lives in :class:`..surrogate_cache.SurrogateCache`, which keeps its
    hyperparameters between steps.)
    """
    from surrogate_nas.predictors.xgb import XGBEnsemble

    return PredictorModel(XGBEnsemble(**{"n_jobs": 1, **options}).fit(X, y))


class BayesianOptimization(Strategy):
    """Surrogate-model search with a BoTorch acquisition function.

    Args:
        space, objectives, seed: see :class:`.base.Strategy`.
        surrogate: ``"gp"``, ``"xgb"``, any predictor (a name, ``module:Class``, class or object:
            fitted per objective and wrapped by :class:`..models.PredictorModel`, on its own
            feature kind unless ``features`` says otherwise), or a callable
            ``(X, y) -> botorch Model`` (see :mod:`..surrogates`).
        acquisition: ``"logei"``, ``"ucb"`` or ``"ts"`` (single objective).
        ref_point: hypervolume reference point ("maximise everything" space); the runner
            sets it (from the user or from what the search has evaluated); left None, it is
            inferred from this strategy's own history.
        n_initial: random architectures evaluated before the first model fit.
        features: the space's feature kind; ``"auto"`` is the space's best set when it can
            be enumerated (its proxies are shipped) and its cheap set otherwise.
        target_transform: ``"copula"`` (rank normal scores) or ``"none"`` (single
            objective only; objectives are used raw).
        beta: UCB exploration weight.
        mc_samples: QMC samples of MC acquisitions (at most: a budgeted multi-objective step
            may use fewer, see :mod:`..step_budget`).
        pool_size: random candidates per step when the space cannot be enumerated
            (plus the neighbours of the ``pool_parents`` best architectures).
        pool_parents: how many of the best architectures seed neighbour candidates.
        max_batch_size: candidates scored per acquisition call.
        shortlist: candidates kept by closed-form screening for the MC acquisition
            (``0`` scores every candidate with it).
        surrogate_options: keyword arguments of the predictor.
        constraints: a :class:`..constraints.ConstraintSet`; its modelled constraints need the
            ``logei`` acquisition (or several objectives).
        step_seconds: how rich one step may be, in seconds of the fixed cost model of
            :mod:`..step_budget` (see the module docstring); ``None`` for the classic step
            whatever it costs.
        refit_every: once refitting the GP at every step exceeds the budget, its
            hyperparameters are refitted every this many steps (or when the history grew
            by a tenth) and the posterior conditioned on the new data in between.
    """

    name = "bo"
    multi_objective = True
    models_constraints = True
    search_options = ("surrogate", "acquisition", "step_seconds")

    def __init__(
        self,
        space,
        objectives=None,
        seed: int = 0,
        surrogate: str | Callable = "gp",
        acquisition: str = "logei",
        ref_point=None,
        n_initial: int = 10,
        features: str = "auto",
        target_transform: str = "copula",
        beta: float = 2.0,
        mc_samples: int = 128,
        pool_size: int = 2000,
        pool_parents: int = 10,
        max_batch_size: int = 512,
        shortlist: int = 256,
        surrogate_options: dict | None = None,
        constraints: ConstraintSet | None = None,
        step_seconds: float | None = 3.0,
        refit_every: int = 5,
    ) -> None:
        super().__init__(space, objectives, seed)
        if step_seconds is not None and not float(step_seconds) > 0:
            raise InputDataError(f"step_seconds must be > 0 (or None for no budget), got {step_seconds}")
        if int(refit_every) < 1:
            raise InputDataError(f"refit_every must be >= 1 step, got {refit_every}")
        self.constraints = constraints or NO_CONSTRAINTS
        if self.constraints.modelled and acquisition != "logei" and not self.is_multi_objective:
            raise InputDataError(f"constraints on {', '.join(c.name for c in self.constraints.modelled)} are modelled, "
                                 f"which needs the logei acquisition, not {acquisition}")
        given, (surrogate, kind) = surrogate, resolve_surrogate(surrogate, self.space, surrogate_options)
        if acquisition not in ACQUISITIONS:
            raise InputDataError(f"unknown acquisition {acquisition!r}; expected one of {', '.join(ACQUISITIONS)}")
        if target_transform not in TRANSFORMS:
            raise InputDataError(f"unknown target transform {target_transform!r}; expected one of {TRANSFORMS}")
        if int(n_initial) < 2:
            raise InputDataError(f"n_initial must be >= 2 (a model needs two points), got {n_initial}")
        if features == "auto":
            features = kind or ("default" if self.space.enumerate() is not None else "cheap")
        self.space.parse_kind(features)  # validates the kind once, at the boundary
        self.surrogate, self.acquisition = surrogate, acquisition
        self.ref_point = ref_point
        self.n_initial, self.features = int(n_initial), features
        self.target_transform, self.beta, self.mc_samples = target_transform, beta, mc_samples
        self.pool_size, self.pool_parents, self.max_batch_size = int(pool_size), int(pool_parents), max_batch_size
        self.shortlist = int(shortlist)
        self.surrogate_options = dict(surrogate_options or {})
        if isinstance(given, str):
            self.name = f"bo-{given}"
        self._onehot_columns = len(self.space.feature_names("onehot")) if self.space.parse_kind(features)[0] == "onehot" else 0
        self._listed: Sequence | None = None
        self._listed_X: torch.Tensor | None = None
        self.step_seconds = None if step_seconds is None else float(step_seconds)
        self.refit_every = int(refit_every)
        self.last_plan: StepPlan | None = None
        self._cache = SurrogateCache(self._onehot_columns, self.surrogate_options)

    # -- candidates ----------------------------------------------------------
    def featurize(self, archs: Sequence) -> torch.Tensor:
        return torch.as_tensor(self.space.features(list(archs), self.features), dtype=torch.float64)

    def _untried(self, taken: set[str]) -> int:
        """How many candidates this step has: the untried architectures when the space can be
        listed, else a pool of ``pool_size`` fresh samples plus the best trials' untried neighbours."""
        listed = self.space.enumerate()
        if listed is None:
            return self.pool_size + len(self._near(taken))
        if self._listed is None:
            self._listed, self._listed_X = listed, self.featurize(listed)
        return sum(1 for a in self._listed if a.canonical_key not in taken)

    def _candidates(self, taken: set[str], k: int) -> tuple[list, torch.Tensor]:
        """At most about ``k`` candidates with their features, seeded: every untried one when ``k``
        covers them; else the untried neighbours of the best trials first, then a uniform sample
        of the rest (of the listed space, or fresh samples when it cannot be listed)."""
        near = self._near(taken)
        if self.space.enumerate() is None:
            near = near[:k]
            fresh = self.space.sample_unseen(max(min(self.pool_size, k - len(near)), 0), self.rng,
                                             taken | {n.canonical_key for n in near})
            archs = near + fresh
            return archs, self.featurize(archs) if archs else torch.empty(0)
        keep = [i for i, a in enumerate(self._listed) if a.canonical_key not in taken]
        if k < len(keep):
            position = {self._listed[i].canonical_key: j for j, i in enumerate(keep)}
            near = [position[n.canonical_key] for n in near if n.canonical_key in position][:k]
            rest = np.setdiff1d(np.arange(len(keep)), near)
            chosen = np.sort(np.concatenate([np.asarray(near, dtype=np.int64),
                                             self.rng.choice(rest, size=k - len(near), replace=False)]))
            keep = [keep[j] for j in chosen]
        return [self._listed[i] for i in keep], self._listed_X[keep]

    def _near(self, taken: set[str]) -> list:
        """The untried neighbours of the best trials (see :meth:`_parents`), each once, in order."""
        near = {n.canonical_key: n for p in self._parents() for n in self.space.neighbours(p.arch)}
        return [n for key, n in near.items() if key not in taken]

    def _parents(self) -> list:
        """The ``pool_parents`` best trials (several objectives: best first by :func:`best_first`)."""
        trials = list(self.history)
        if not trials:
            return []
        order = (best_first(objective_matrix(trials, self.objectives)) if self.is_multi_objective
                 else np.argsort([-self.score(t) for t in trials], kind="stable"))
        return [trials[i] for i in order[: self.pool_parents]]

    # -- model ---------------------------------------------------------------
    def _modelled(self) -> list:
        """The trials the surrogate learns from (all of them here)."""
        return list(self.history)

    def _train_features(self, trials) -> torch.Tensor:
        return self.featurize([t.arch for t in trials])

    def _baseline(self, trials, X_train: torch.Tensor) -> torch.Tensor:
        """Points whose value the acquisition improves on (noisy EI's baseline): the training
        points that meet the known constraints (all of them when none does)."""
        known_ok = self.constraints.feasible(trials, known_only=True)
        return X_train[torch.as_tensor(known_ok)] if known_ok.any() else X_train

    def _targets(self, trials) -> np.ndarray:
        """Objective columns, then one slack column per modelled constraint."""
        if self.is_multi_objective:
            Y = objective_matrix(trials, self.objectives)
        else:
            y = np.array([self.score(t) for t in trials], dtype=np.float64)
            Y = (copula_transform(y) if self.target_transform == "copula" else y)[:, None]
        return np.hstack([Y, self.constraints.slack(trials)])

    def _fit(self, X: np.ndarray, Y: np.ndarray) -> Model:
        """One model per column of ``Y`` from a callable surrogate or XGBoost (GPs: :attr:`_cache`)."""
        if callable(self.surrogate):
            fit = self.surrogate
        else:
            def fit(X_, y_):
                return fit_xgb_surrogate(X_, y_, self.surrogate_options)
        models = [fit(X, Y[:, j]) for j in range(Y.shape[1])]
        if len(models) == 1:
            return models[0]
        if all(isinstance(m, GPyTorchModel) for m in models):
            return ModelListGP(*models)
        return ModelList(*models)

    # -- acquisition -----------------------------------------------------------
    def _sampler(self, model: Model, mc_samples: int):
        seed = int(self.rng.integers(2**31))
        if isinstance(model, ModelList) and not isinstance(model, ModelListGP):  # sampled model by model
            return ListSampler(
                *[SobolQMCNormalSampler(torch.Size([mc_samples]), seed=seed + i) for i in range(len(model.models))]
            )
        return SobolQMCNormalSampler(torch.Size([mc_samples]), seed=seed)

    def _acquisition(self, model: Model, X_train: torch.Tensor, mc_samples: int):
        sampler = self._sampler(model, mc_samples)
        constrained = bo_constraints.acquisition_options(self.constraints, len(self.objectives),
                                                         self.is_multi_objective)
        if self.is_multi_objective:
            _skip_jit_kernel()
            return qLogNoisyExpectedHypervolumeImprovement(
                model,
                ref_point=self._ref().tolist(),
                X_baseline=X_train,
                sampler=sampler,
                prune_baseline=True,
                cache_root=False,
                **constrained,
            )
        if self.acquisition == "ucb":
            return qUpperConfidenceBound(model, beta=self.beta, sampler=sampler)
        return qLogNoisyExpectedImprovement(
            model, X_baseline=X_train, sampler=sampler, prune_baseline=True, cache_root=False, **constrained
        )

    def _ref(self) -> np.ndarray:
        """The hypervolume reference point: the runner's, else one inferred from this history."""
        if self.ref_point is not None:
            return np.asarray(self.ref_point, dtype=np.float64)
        return reference_point(objective_matrix(self.history, self.objectives))

    def _screen(self, model: Model, X: torch.Tensor, X_best: torch.Tensor, n_keep: int, Y, ok) -> torch.Tensor:
        """Indices of the ``n_keep`` best candidates by a closed-form score of the marginal posterior.

        Single objective: analytic log-EI (or UCB), constrained log-EI with modelled
        constraints. Several: the hypervolume improvement of each candidate's optimistic point
        (mean + sqrt(beta) std per objective) over the observed feasible front, times the
        probability of feasibility, ties broken by the optimistic point's standardised sum.
        ``ok`` marks the feasible rows of ``Y``; the incumbent for log-EI is the best fitted
        value at ``X_best`` (the feasible baseline points, or all of them when none is feasible).
        Marginals come from plain ``N x d`` posterior calls (:func:`..joint_posterior.marginal_posterior`).
        """
        mean, sigma = marginal_posterior(model, X)
        if not self.is_multi_objective:
            if self.acquisition == "ucb":
                score = mean[:, 0] + self.beta**0.5 * sigma[:, 0]
            else:
                fitted = marginal_posterior(model, X_best)[0][:, 0]
                best_f = fitted.max() if ok.any() else fitted.min()
                score = bo_constraints.log_expected_improvement(mean, sigma, best_f)
        else:
            m = len(self.objectives)
            feasible = bo_constraints.probability_feasible(mean[:, m:], sigma[:, m:])
            mean, sigma = mean[:, :m], sigma[:, :m]
            U = mean + self.beta**0.5 * sigma
            ref = torch.as_tensor(self._ref(), dtype=U.dtype)
            partition = NondominatedPartitioning(ref, Y=torch.as_tensor(Y[ok, :m], dtype=U.dtype))
            lower, upper = partition.get_hypercell_bounds()
            upper = torch.minimum(upper, U.max(0).values.clamp_min(ref))  # infinite upper bounds
            side = (torch.minimum(U[:, None, :], upper) - lower).clamp_min(0)
            tie = ((U - U.mean(0)) / U.std(0).clamp_min(1e-12)).sum(-1)
            score = side.prod(-1).sum(-1) * feasible + 1e-6 * (tie - tie.min())
        return torch.topk(score, min(n_keep, X.shape[0])).indices

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

    @staticmethod
    def _indices(picked: torch.Tensor, X: torch.Tensor) -> list[int]:
        """Rows of ``X`` that ``optimize_acqf_discrete`` returned (distinct rows for equal features)."""
        out: list[int] = []
        for row in picked:
            matches = torch.nonzero((X == row).all(dim=-1)).flatten().tolist()
            out.append(next(i for i in matches if i not in out))
        return out

    # -- ask -------------------------------------------------------------------
    def ask(self, n, pending=()):
        taken = self.taken_keys(pending)
        self.last_timing = {"fit_s": 0.0, "acq_s": 0.0}
        self.last_activity = ""
        n_random = max(0, self.n_initial - len(self.history) - len(pending))
        out = self.fresh(min(n, n_random), taken)
        if len(out) == n or len(self.history) < 2:
            return out + self.fresh(n - len(out), taken)
        return out + self._step(n - len(out), pending, out, taken)

    def _step(self, k: int, pending, out: list, taken: set[str]) -> list[Suggestion]:
        """Fit the surrogate as the step's plan says, screen the candidates, pick ``k`` with the acquisition."""
        clock = _PartClock()
        trials = self._modelled()
        X_train = self._train_features(trials)
        Y = self._targets(trials)
        untried = self._untried(taken)
        gp = self.surrogate == "gp"
        plan = plan_step(len(Y), untried, self.step_seconds, self._cache.state, Y.shape[1], gp,
                         self.shortlist or untried, self.refit_every, mc_samples=self.mc_samples,
                         model_objectives=len(self.objectives))
        self.last_plan = plan
        archs, X_cand = self._candidates(taken, plan.screened)
        k = min(k, len(archs))
        if k == 0:
            return []
        what = "the GP" if gp else "the surrogate"
        self.say(f"fitting the GP's hyperparameters on {plan.fit_points:,} points" if gp and plan.refit
                 else f"fitting {what} on {len(Y):,} points")
        try:
            model = self._cache.model(X_train.numpy(), Y, plan, self.rng) if gp else self._fit(X_train.numpy(), Y)
        except (ModelFittingError, FitError):  # e.g. a GP on a noiseless objective; this step explores instead
            self.last_timing = {**clock.lap("fit"), "fit_failed": 1.0}
            self.last_activity = f"{what} could not be fitted on {len(Y):,} points; random architectures instead"
            return self.fresh(k, taken)
        clock.lap("fit")
        if self.acquisition == "ts" and not self.is_multi_objective:
            self.say(f"drawing {k} Thompson samples over {len(archs):,} candidates")
            idx = self._thompson(model, X_cand, k)
        else:
            X_base = self._baseline(trials, X_train)
            keep = torch.arange(X_cand.shape[0])
            if X_cand.shape[0] > plan.shortlist:
                self.say(f"screening {len(archs):,} candidates with {what}")
                ok = self.constraints.feasible(trials)
                feasible = [t for t, f in zip(trials, ok) if f]
                X_best = self._baseline(feasible, X_train[torch.as_tensor(ok)]) if feasible else X_base
                keep = self._screen(model, X_cand, X_best, plan.shortlist, Y, ok)
            clock.lap("screen")
            busy = [s.arch for s in pending] + [s.arch for s in out]
            X_busy = self.featurize(busy) if busy else X_base[:0]
            choices = X_cand[keep]
            self.say(f"choosing {k} of {len(keep)} shortlisted candidates with {self._acquisition_name()}")
            if self.step_seconds is not None and isinstance(model, (GPyTorchModel, ModelListGP)):
                X_base = self._bounded_baseline(model, X_base, plan.baseline)
                model = JointPosteriorModel(model, torch.cat([choices, X_base, X_busy]))
            acq = self._acquisition(model, X_base, plan.mc_samples)
            if busy:
                acq.set_X_pending(X_busy)
            picked, _ = optimize_acqf_discrete(acq, q=k, choices=choices, max_batch_size=self.max_batch_size,
                                               unique=True, return_acq_values=False)
            idx = [int(keep[i]) for i in self._indices(picked, choices)]
        self.last_timing = clock.lap("acq")
        self.last_activity = plan.describe(len(Y), untried, gp)
        return [Suggestion(archs[i]) for i in idx]

    def _bounded_baseline(self, model: Model, X_base: torch.Tensor, size: int) -> torch.Tensor:
        """The ``size`` best rows of ``X_base`` by the model's mean of the objectives."""
        if X_base.shape[0] <= size:
            return X_base
        mean = marginal_posterior(model, X_base)[0][:, : len(self.objectives)]
        return X_base[torch.as_tensor(np.sort(best_first(mean.numpy())[:size]))]

    def _acquisition_name(self) -> str:
        if self.is_multi_objective:
            return "qLogNEHVI"
        return "qUCB" if self.acquisition == "ucb" else "qLogNEI"


class _PartClock:
    """Wall and CPU seconds of a step's parts (``fit``, ``screen``, ``acq``), for timings only."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def lap(self, part: str) -> dict[str, float]:
        """End ``part`` now; return every part so far as ``{part}_s`` and ``{part}_cpu_s``."""
        wall, cpu = time.perf_counter(), time.process_time()
        self.times[f"{part}_s"], self.times[f"{part}_cpu_s"] = wall - self._wall, cpu - self._cpu
        self._wall, self._cpu = wall, cpu
        return dict(self.times)


def _skip_jit_kernel() -> None:
    """Keep qLogNEHVI on BoTorch's pure-PyTorch path instead of its JIT-compiled C++ kernel.

    BoTorch compiles that kernel on first use (a C++ toolchain, about a minute) under a file
    lock in ``~/.cache/torch_extensions``; a search killed while compiling leaves the lock,
    and every later multi-objective search on the machine then waits on it for ever.
    """
    mo_logei._load_attempted = True
