"""One BO step, composed of BoTorch-sized parts.

``plan -> candidates -> surrogate -> screen -> acquisition -> optimiser``:

1. :func:`.budget.plan_step` decides from counts what the step affords;
2. :class:`.candidates.CandidatePool` draws the candidates (a seeded subset past a size);
3. the surrogate (:mod:`.surrogates`) is fitted on the training view (:mod:`.data`);
   and objectives known without evaluating join it as exact outputs (:mod:`.known`);
4. the candidates are screened by a closed-form score (:mod:`.screening`);
5. the Monte-Carlo acquisition (:mod:`.acquisition`) reads one joint posterior over the
   shortlist, a bounded baseline and the pending points (:mod:`.joint_posterior`) in a budgeted
   step, the model itself in a classic one;
6. ``optimize_acqf_discrete`` picks the batch (or Thompson sampling does).

Every random draw comes from the generator the step is given.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from botorch.exceptions.errors import ModelFittingError
from botorch.models.model import Model

from surrogate_nas.errors import FitError
from surrogate_nas.predictors.gp_online import best_first
from surrogate_nas.pipelines.search.bo import acquisition as acq
from surrogate_nas.pipelines.search.bo.budget import StepPlan, plan_step
from surrogate_nas.pipelines.search.bo.candidates import CandidatePool
from surrogate_nas.pipelines.search.bo.joint_posterior import JointPosteriorModel, marginal_posterior
from surrogate_nas.pipelines.search.bo.known import KnownOutputModel, exact_posterior_parts, with_known_outputs
from surrogate_nas.pipelines.search.bo.screening import screen_multi, screen_single
from surrogate_nas.pipelines.search.constraints import ConstraintSet
from surrogate_nas.pipelines.search.history import Suggestion


@dataclass(frozen=True)
class AcquisitionOptions:
    """How a step scores candidates.

    Attributes:
        kind: ``"logei"``, ``"ucb"`` or ``"ts"`` (one objective; several use qLogNEHVI).
        beta: UCB's (and the multi-objective screen's) exploration weight.
        mc_samples: QMC samples (at most: a budgeted multi-objective step may use fewer).
        shortlist: candidates kept by screening for the MC acquisition (0: every one).
        max_batch_size: candidates per acquisition call.
    """

    kind: str = "logei"
    beta: float = 2.0
    mc_samples: int = 128
    shortlist: int = 256
    max_batch_size: int = 512


@dataclass(frozen=True)
class StepContext:
    """What a step needs to know of the search: its history, what is running, what is taken."""

    history: Sequence
    pending: Sequence[Suggestion]
    taken: set[str]
    rng: np.random.Generator
    ref_point: np.ndarray | None = None


class BOStep:
    """Suggest ``k`` architectures from a history (see the module docstring).

    Args:
        objectives: the search's objectives.
        score: a trial's searched value, oriented so that higher is better.
        constraints: the search's constraints.
        data: the training view (:mod:`.data`).
        pool: the candidate pool.
        surrogate: a surrogate component (:mod:`.surrogates`).
        targets: ``trials -> n x (m + k)`` target matrix (:func:`.surrogates.targets`).
        options: how candidates are scored.
        step_seconds: the plan's budget (None: the classic step).
        refit_every: steps between refits once refitting every step is unaffordable.
        say: told what the step is doing (for a progress bar).

    Attributes:
        known: objective index -> the objective's exact values for a list of architectures ("maximise
            everything" units), for objectives known without evaluating (several objectives only).
        last_plan, last_timing, last_activity: what the last step planned, how long its parts
            took (seconds, wall and CPU; measurements only) and one line saying what it did.
    """

    def __init__(self, objectives, score: Callable, constraints: ConstraintSet, data, pool: CandidatePool,
                 surrogate, targets: Callable, options: AcquisitionOptions = AcquisitionOptions(),
                 step_seconds: float | None = 3.0, refit_every: int = 5,
                 say: Callable[[str], None] = lambda line: None) -> None:
        self.objectives, self.score, self.constraints = tuple(objectives), score, constraints
        self.data, self.pool, self.surrogate, self.targets = data, pool, surrogate, targets
        self.options, self.step_seconds, self.refit_every, self.say = options, step_seconds, int(refit_every), say
        self.known: dict[int, Callable[[Sequence], np.ndarray]] = {}
        self.last_plan: StepPlan | None = None
        self.last_timing: dict[str, float] = {}
        self.last_activity = ""

    @property
    def multi(self) -> bool:
        return len(self.objectives) > 1

    def best_first(self, trials: Sequence) -> list:
        """Trials best first (several objectives: by :func:`best_first`'s scalarisations)."""
        if not trials:
            return []
        from surrogate_nas.pipelines.search.history import objective_matrix

        order = (best_first(objective_matrix(trials, self.objectives)) if self.multi
                 else np.argsort([-self.score(t) for t in trials], kind="stable"))
        return [trials[i] for i in order]

    def suggest(self, k: int, context: StepContext, busy: Sequence = ()) -> list[Suggestion] | None:
        """Up to ``k`` suggestions; None when the surrogate could not be fitted (the caller
        explores instead). ``busy``: architectures already suggested in this ask."""
        clock = _PartClock()
        trials = self.data.trials(context.history)
        X_train = self.data.train_features(trials)
        Y = self.targets(trials)
        known = self.known if self.multi else {}
        modelled = [j for j in range(Y.shape[1]) if j not in known]
        best = self.best_first(list(context.history))
        untried = self.pool.count(best, context.taken)
        gp = self.surrogate.is_gp
        plan = plan_step(len(Y), untried, self.step_seconds, self.surrogate.state, max(len(modelled), 1), gp,
                         self.options.shortlist or untried, self.refit_every, mc_samples=self.options.mc_samples,
                         model_objectives=len(self.objectives))
        self.last_plan = plan
        archs, X_cand = self.pool.draw(best, context.taken, plan.screened, context.rng)
        k = min(k, len(archs))
        if k == 0:
            return []
        what = "the GP" if gp else "the surrogate"
        self.say(f"fitting the GP's hyperparameters on {plan.fit_points:,} points" if gp and plan.refit
                 else f"fitting {what} on {len(Y):,} points")
        try:
            model = self.surrogate.fit(X_train.numpy(), Y[:, modelled], plan, context.rng) if modelled else None
        except (ModelFittingError, FitError):  # e.g. a GP on a noiseless objective; the caller explores instead
            self.last_timing = {**clock.lap("fit"), "fit_failed": 1.0}
            self.last_activity = f"{what} could not be fitted on {len(Y):,} points; random architectures instead"
            return None
        if known:
            model = self._with_known(model, trials, X_train, archs, X_cand, context, busy, Y.shape[1])
        clock.lap("fit")
        if self.options.kind == "ts" and not self.multi:
            self.say(f"drawing {k} Thompson samples over {len(archs):,} candidates")
            idx = acq.thompson(model, X_cand, k, context.rng)
        else:
            idx = self._acquire(model, trials, X_train, Y, X_cand, k, plan, context, busy, clock)
        self.last_timing = clock.lap("acq")
        self.last_activity = plan.describe(len(Y), untried, gp) + "".join(
            f"; {self.objectives[j].name} known exactly" for j in sorted(known))
        return [Suggestion(archs[i]) for i in idx]

    def _acquire(self, model: Model, trials, X_train, Y, X_cand, k: int, plan: StepPlan, context: StepContext,
                 busy: Sequence, clock) -> list[int]:
        """Screen to the shortlist, then pick ``k`` with the Monte-Carlo acquisition."""
        X_base = self.data.baseline(trials, X_train, self.constraints.feasible(trials, known_only=True))
        keep = torch.arange(X_cand.shape[0])
        what = "the GP" if self.surrogate.is_gp else "the surrogate"
        if X_cand.shape[0] > plan.shortlist:
            self.say(f"screening {X_cand.shape[0]:,} candidates with {what}")
            ok = self.constraints.feasible(trials)
            if self.multi:
                keep = screen_multi(model, X_cand, Y[ok, : len(self.objectives)], context.ref_point, plan.shortlist,
                                    self.options.beta)
            else:
                feasible = [t for t, f in zip(trials, ok) if f]
                X_best = (self.data.baseline(feasible, X_train[torch.as_tensor(ok)],
                                             self.constraints.feasible(feasible, known_only=True))
                          if feasible else X_base)
                keep = screen_single(model, X_cand, X_best, bool(ok.any()), plan.shortlist, self.options.kind,
                                     self.options.beta)
        clock.lap("screen")
        pending = [s.arch for s in context.pending] + list(busy)
        X_busy = self.data.featurize(pending) if pending else X_base[:0]
        choices = X_cand[keep]
        self.say(f"choosing {k} of {len(keep)} shortlisted candidates with "
                 f"{acq.acquisition_name(len(self.objectives), self.options.kind)}")
        if self.step_seconds is not None and exact_posterior_parts(model):
            X_base = self._bounded_baseline(model, X_base, plan.baseline)
            model = JointPosteriorModel(model, torch.cat([choices, X_base, X_busy]))
        function = acq.mc_acquisition(model, X_base, objectives=len(self.objectives), constraints=self.constraints,
                                      mc_samples=plan.mc_samples, rng=context.rng, kind=self.options.kind,
                                      beta=self.options.beta, ref_point=context.ref_point)
        if pending:
            function.set_X_pending(X_busy)
        return [int(keep[i]) for i in acq.choose(function, choices, k, self.options.max_batch_size)]

    def _with_known(self, model: Model | None, trials, X_train, archs, X_cand, context: StepContext, busy: Sequence,
                    total: int) -> Model:
        """The surrogate of the modelled outputs with each known objective joined as an exact output,
        told the rows of every architecture the step may ask about (evaluated, candidates, pending)."""
        pending = [s.arch for s in context.pending] + list(busy)
        everything = [t.arch for t in trials] + list(archs) + pending
        rows = torch.cat([X_train, X_cand] + ([self.data.featurize(pending)] if pending else []))
        exact = {j: KnownOutputModel.of(rows, values(everything)) for j, values in self.known.items()}
        return with_known_outputs(model, exact, total)

    def _bounded_baseline(self, model: Model, X_base: torch.Tensor, size: int) -> torch.Tensor:
        """The ``size`` best rows of ``X_base`` by the model's mean of the objectives."""
        if X_base.shape[0] <= size:
            return X_base
        mean = marginal_posterior(model, X_base)[0][:, : len(self.objectives)]
        return X_base[torch.as_tensor(np.sort(best_first(mean.numpy())[:size]))]


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
