"""Bayesian optimisation over a discrete architecture space, with BoTorch.

Each step follows BoTorch's three layers: fit a surrogate on the history (a GP, or an
XGBoost ensemble wrapped by :class:`..bo.predictor_model.PredictorModel`), build an
acquisition function from its posterior, and let ``optimize_acqf_discrete`` pick the ``n``
suggestions from the candidates by sequential greedy selection (each pick becomes a
pending point, as do the suggestions other workers are still evaluating). The step is
composed of the parts in :mod:`surrogate_nas.pipelines.search.bo` (:class:`~..bo.step.BOStep`);
this class adds the random initial design and the options.

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
:mod:`..bo.constraints`). Incumbents and Pareto fronts count feasible trials only.

When the surrogate cannot be fitted (BoTorch's ``ModelFittingError``) the step falls
back to random architectures and ``last_timing["fit_failed"]`` is set.

A step budget (``step_seconds``, default 3 s on the reference machine) keeps a step's cost
from growing with the history and the candidates: a :class:`~..bo.budget.StepPlan`
chooses, from counts alone (rows, candidates, objectives; never from a clock), how many
candidates are screened (a seeded subset past a size: the neighbours of the best trials and a
uniform sample), how many rows the GP conditions on, whether its hyperparameters are refitted
this step (and on how many rows) or kept and conditioned on the new data, and the shortlist;
the Monte-Carlo acquisition then reads one joint posterior over the shortlist, a bounded
baseline (the plan's ``baseline`` best points by fitted mean) and the pending points
(:mod:`..bo.joint_posterior`). While the classic step fits the budget it is the classic
step. ``step_seconds=None`` always runs the classic step: hyperparameters refitted on
every row, every candidate screened, the whole history as the acquisition's baseline.

Every random draw of a step uses :attr:`rng` and torch's global generator, which
:meth:`~.base.Strategy.suggest` seeds per step, so a seeded search is the same search in
every run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.bo import ACQUISITIONS
from surrogate_nas.pipelines.search.bo.budget import StepPlan
from surrogate_nas.pipelines.search.bo.candidates import CandidatePool
from surrogate_nas.pipelines.search.bo.data import AllTrials
from surrogate_nas.pipelines.search.bo.resolve import resolve_surrogate
from surrogate_nas.pipelines.search.bo.step import AcquisitionOptions, BOStep, StepContext
from surrogate_nas.pipelines.search.bo.surrogates import TRANSFORMS, make_surrogate, targets
from surrogate_nas.pipelines.search.constraints import NO_CONSTRAINTS, ConstraintSet
from surrogate_nas.pipelines.search.history import Suggestion, objective_matrix
from surrogate_nas.pipelines.search.pareto import reference_point
from surrogate_nas.pipelines.search.prior import Prior, SourceTrust, prior_lengthscales, trust
from surrogate_nas.pipelines.search.strategies.base import Strategy


class BayesianOptimization(Strategy):
    """Surrogate-model search with a BoTorch acquisition function.

    Args:
        space, objectives, seed: see :class:`.base.Strategy`.
        surrogate: ``"gp"``, ``"xgb"``, any predictor (a name, ``module:Class``, class or object:
            fitted per objective and wrapped by :class:`..bo.predictor_model.PredictorModel`, on
            its own feature kind unless ``features`` says otherwise), or a callable
            ``(X, y) -> botorch Model`` (see :mod:`..bo.resolve`).
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
            may use fewer, see :mod:`..bo.budget`).
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
            :mod:`..bo.budget` (see the module docstring); ``None`` for the classic step
            whatever it costs.
        refit_every: once refitting the GP at every step exceeds the budget, its
            hyperparameters are refitted every this many steps (or when the history grew
            by a tenth) and the posterior conditioned on the new data in between.
        prior: a :class:`..prior.Prior`: its sources' scores are appended to the features, and
            the initial design is the sources' ``prior_top`` best and ``prior_random`` random
            architectures (instead of ``n_initial`` random ones).
        prior_top, prior_random: see ``prior``.
        prior_walk: after those, at most this many more of a source's best replace model-based
            suggestions while the source ranks the evaluated architectures as they turned out
            (Spearman at least ``prior_agree``; its worst while it ranks them the wrong way round,
            Spearman at most ``-prior_agree``, which the GP reads the same way).
        prior_agree: the rank correlation (in absolute value) a source needs for that.
        exact_objectives: with several objectives, use the exact values of those the evaluator
            knows without evaluating (a device's latency on a table, a packaged column) instead of
            modelling them (:mod:`..bo.known`); False models every objective.
    """

    name = "bo"
    multi_objective = True
    models_constraints = True
    search_options = ("surrogate", "acquisition", "step_seconds", "prior")

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
        prior: Prior | None = None,
        prior_top: int = 4,
        prior_random: int = 4,
        prior_walk: int = 12,
        prior_agree: float = 0.5,
        exact_objectives: bool = True,
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
        self.surrogate, self.acquisition, self.features = surrogate, acquisition, features
        self.ref_point = ref_point
        self.prior, self.prior_top, self.prior_walk, self.prior_agree = (prior, int(prior_top), int(prior_walk),
                                                                         float(prior_agree))
        self.walked = 0
        self.n_initial = int(n_initial) if prior is None else max(self.prior_top + int(prior_random), 2)
        self.target_transform = target_transform
        self.step_seconds = None if step_seconds is None else float(step_seconds)
        self.exact_objectives = bool(exact_objectives)
        if isinstance(given, str):
            self.name = f"bo-{given}"
        onehot = len(self.space.feature_names("onehot")) if self.space.parse_kind(features)[0] == "onehot" else 0
        view = self._training_view()
        self.step = BOStep(
            self.objectives, self.score, self.constraints, view,
            CandidatePool(self.space, view.featurize, pool_size, pool_parents),
            make_surrogate(surrogate, onehot, surrogate_options),
            lambda trials: targets(trials, self.objectives, self.score, self.constraints, self.target_transform),
            AcquisitionOptions(acquisition, beta, int(mc_samples), int(shortlist), int(max_batch_size)),
            self.step_seconds, int(refit_every), say=self.say)

    def use_known(self, exact) -> None:
        if not (self.exact_objectives and self.is_multi_objective):
            return
        self.step.known = {j: (lambda archs, f=exact[o.name], sign=o.sign: sign * np.asarray(f(archs), np.float64))
                           for j, o in enumerate(self.objectives) if o.name in exact}

    def prepare(self) -> None:
        self.step.pool.prepare()

    def _training_view(self):
        """What the surrogate learns from (:mod:`..bo.data`): every trial."""
        return AllTrials(self.featurize)

    def featurize(self, archs: Sequence) -> torch.Tensor:
        X = self.space.features(list(archs), self.features)
        if self.prior is not None:
            X = np.hstack([X, self.prior.columns(list(archs))])
        return torch.as_tensor(X, dtype=torch.float64)

    def prior_report(self) -> list[SourceTrust] | None:
        """How much the last GP of the searched objective trusted each prior source (None without a GP), and
        whether the source ranks the evaluated architectures as they turned out (None: no prior, or no trials)."""
        if self.prior is None or not self.history:
            return None
        trials = [t for t in self.history if t.fidelity >= 1] or list(self.history)
        rhos = self.prior.agreement([t.arch for t in trials], [self.score(t) for t in trials])
        cache = getattr(self.step.surrogate, "cache", None)
        fitted = cache is not None and cache.gps and getattr(cache.gps[0], "model_", None) is not None
        lengthscales = (prior_lengthscales(cache.gps[0].model_, len(self.prior.sources), self._prior_end()) if fitted
                        else [None] * len(rhos))
        return [SourceTrust(label, None if ls is None else trust(ls), rho, len(trials))
                for label, ls, rho in zip(self.prior.labels, lengthscales, rhos)]

    def _prior_end(self) -> int:
        """The column after the prior's (the features of the training view may add columns after them)."""
        return len(self.space.feature_names(self.features)) + len(self.prior.sources)

    @property
    def last_plan(self) -> StepPlan | None:
        return self.step.last_plan

    def ask(self, n, pending=()):
        taken = self.taken_keys(pending)
        self.last_timing = {"fit_s": 0.0, "acq_s": 0.0}
        self.last_activity = ""
        n_random = max(0, self.n_initial - len(self.history) - len(pending))
        out = self.from_prior(min(n, n_random, self.prior_top - len(self.history) - len(pending)), taken)
        out += self.fresh(min(n, n_random) - len(out), taken)
        if len(out) == n or len(self.history) < 2:
            return out + self.fresh(n - len(out), taken)
        out += self.walk_prior(n - len(out), taken)
        return out + self.model_based(n - len(out), pending, out, taken) if len(out) < n else out

    def from_prior(self, k: int, taken: set[str]) -> list[Suggestion]:
        """Up to ``k`` of the prior's best architectures outside ``taken`` (which grows by their keys)."""
        if self.prior is None or k <= 0:
            return []
        archs = self.prior.top(k, taken, allowed=self._listed_keys())
        taken.update(a.canonical_key for a in archs)
        return [Suggestion(a) for a in archs]

    def walk_prior(self, k: int, taken: set[str]) -> list[Suggestion]:
        """Up to ``k`` of the next best architectures of the sources that agree with the evaluated results (the
        next worst of those that disagree), while fewer than ``prior_walk`` were taken so (see the class docstring)."""
        k = min(k, self.prior_walk - self.walked)
        if self.prior is None or k <= 0:
            return []
        trials = [t for t in self.history if t.fidelity >= 1] or list(self.history)
        rhos = self.prior.agreement([t.arch for t in trials], [self.score(t) for t in trials])
        agree = [(j, rho < 0) for j, rho in enumerate(rhos) if abs(rho) >= self.prior_agree]
        archs = self.prior.top(k, taken, agree, self._listed_keys()) if agree else []
        taken.update(a.canonical_key for a in archs)
        self.walked += len(archs)
        return [Suggestion(a) for a in archs]

    def _listed_keys(self) -> set[str] | None:
        """The canonical keys of a listed space (a prior's best may lie outside a table or a constraint), else None."""
        if not hasattr(self, "_listed"):
            listed = self.space.enumerate()
            self._listed = None if listed is None else {a.canonical_key for a in listed}
        return self._listed

    def model_based(self, k: int, pending, out: Sequence[Suggestion], taken: set[str]) -> list[Suggestion]:
        """``k`` suggestions from a BO step (random ones when the surrogate cannot be fitted)."""
        context = StepContext(tuple(self.history), tuple(pending), taken, self.rng,
                              self._ref() if self.is_multi_objective else None)
        picked = self.step.suggest(k, context, busy=[s.arch for s in out])
        self.last_timing, self.last_activity = self.step.last_timing, self.step.last_activity
        return self.fresh(k, taken) if picked is None else picked

    def _ref(self) -> np.ndarray:
        """The hypervolume reference point: the runner's, else one inferred from this history."""
        if self.ref_point is not None:
            return np.asarray(self.ref_point, dtype=np.float64)
        return reference_point(objective_matrix(self.history, self.objectives))
