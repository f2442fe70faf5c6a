"""How much model one BO step can afford: a per-step time budget and the plan that keeps to it.

A step pays for three things, each growing with its own size:

========================  ====================================================  ==============
part                       grows with                                            lever
========================  ====================================================  ==============
hyperparameter fit         iterations x (1 + (f/400)^3), f the rows fitted on    f, how often
posterior and screen       N candidates x (1 + (m/740)^2), plus m^3, m the rows   m
Monte-Carlo acquisition    the shortlist s                                        s
========================  ====================================================  ==============

(shapes measured on NAS-Bench-201's 6,466 candidates and 16 features, one thread).
:class:`CostModel` predicts each part as its shape times a speed in seconds per unit,
learned from the steps measured so far (a geometric moving average, so a loaded machine
is noticed within a step or two). :func:`plan_step` then picks the richest plan whose
predicted cost fits in 80% of the budget (the rest absorbs misjudgements):
the posterior on every row and hyperparameters refitted on every row at every step
(the classic step) while that fits; else hyperparameters refitted, warm-started, on a
subset every ``refit_every`` steps or when the data grew by a tenth, and conditioned on
in between; a posterior on a subset of rows past the size the budget allows; and a
shorter shortlist when the acquisition itself is slow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from surrogate_nas.errors import InputDataError

PLAN_FRACTION = 0.8
"""Share of the budget a plan may fill; the rest absorbs misjudged costs."""
FULL_ITERATIONS = 60
"""L-BFGS iterations of a hyperparameter fit from scratch (the GP predictor's default)."""
WARM_ITERATIONS = 20
"""Iterations of a warm-started refit: it starts near the optimum."""
MIN_FIT_POINTS = 100
MIN_MODEL_POINTS = 200
MIN_SHORTLIST = 16
GROWTH = 0.1
"""A refit is due once the history grew by this fraction since the last one."""

# Reference speeds (seconds per unit of each shape), measured on the 2-core development
# machine; the cost model replaces them by measured ones after the first step.
_REFERENCE = {"fit": 0.025, "post": 1e-4, "acq": 0.1, "acq_mo": 2.0}


def fit_shape(points: int, iterations: int, objectives: int = 1) -> float:
    """Units of work of a hyperparameter fit: per L-BFGS iteration, a fixed part plus a cubic one."""
    return objectives * iterations * (1.0 + (points / 400.0) ** 3)


def post_shape(points: int, candidates: int, objectives: int = 1) -> float:
    """Units of work of conditioning on ``points`` rows and scoring ``candidates`` marginals."""
    return objectives * (max(candidates, 1) * (1.0 + (points / 740.0) ** 2) + 6e-7 * points**3)


def acq_shape(shortlist: int, objectives: int = 1) -> float:
    """Units of work of the Monte-Carlo acquisition on the shortlist (picks are few)."""
    return 1.0 + shortlist / 64.0


@dataclass(frozen=True)
class StepPlan:
    """What one BO step does.

    Attributes:
        refit: optimise the GP's hyperparameters this step (else reuse the last ones).
        fit_points: rows the hyperparameters are fitted on (0 without a refit).
        iterations: L-BFGS iterations of the refit.
        model_points: rows the posterior conditions on (all of them: an exact GP).
        shortlist: candidates the Monte-Carlo acquisition scores.
        predicted_s: the plan's predicted seconds.
    """

    refit: bool
    fit_points: int
    iterations: int
    model_points: int
    shortlist: int
    predicted_s: float = 0.0

    def describe(self, n: int, candidates: int, gp: bool = True) -> str:
        """One line for progress output, e.g. ``GP on 800 of 2,000 points (refit on 300), 6,466 candidates``."""
        model = ("GP" if gp else "surrogate") + (f" on {self.model_points:,} of {n:,} points" if self.model_points < n
                                                 else f" on {n:,} points")
        if gp and self.refit:
            model += " (hyperparameters refitted" + (f" on {self.fit_points:,})" if self.fit_points < n else ")")
        elif gp:
            model += " (hyperparameters kept)"
        return f"{model}; {candidates:,} candidates screened, {self.shortlist} shortlisted"


@dataclass
class CostModel:
    """Seconds per unit of each part's shape, learned from measured steps.

    Attributes:
        speeds: part name (``fit``, ``post``, ``acq``, ``acq_mo``) -> seconds per unit.
        smoothing: weight of the newest measurement in the geometric average.
    """

    speeds: dict[str, float] = field(default_factory=lambda: dict(_REFERENCE))
    smoothing: float = 0.5

    def predict(self, part: str, units: float) -> float:
        return self.speeds[part] * units

    def observe(self, part: str, units: float, seconds: float) -> None:
        """Fold one measurement in (ignored when nothing was measured)."""
        if units <= 0 or seconds <= 0:
            return
        new = seconds / units
        old = math.log(self.speeds[part])
        self.speeds[part] = math.exp((1 - self.smoothing) * old + self.smoothing * math.log(new))


@dataclass(frozen=True)
class RefitState:
    """Where the hyperparameters stand: rows at the last refit and steps since (None: never fitted)."""

    rows_at_refit: int | None = None
    steps_since: int = 0

    def after(self, plan: StepPlan, n: int) -> "RefitState":
        return RefitState(n, 0) if plan.refit else replace(self, steps_since=self.steps_since + 1)


def _largest(lo: int, hi: int, fits) -> int:
    """The largest integer in ``[lo, hi]`` for which ``fits`` holds (``fits`` monotone), else ``lo``."""
    if fits(hi):
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def plan_step(
    n: int,
    candidates: int,
    budget_s: float | None,
    costs: CostModel,
    state: RefitState,
    objectives: int = 1,
    gp: bool = True,
    max_shortlist: int = 256,
    refit_every: int = 5,
) -> StepPlan:
    """The richest step whose predicted cost fits in :data:`PLAN_FRACTION` of ``budget_s``.

    Args:
        n: rows of the history.
        candidates: candidates to screen.
        budget_s: seconds per step; ``None`` for the classic step (every row, refit, full shortlist).
        costs: the learned cost model.
        state: the hyperparameters' state.
        objectives: objectives (one GP each).
        gp: whether the surrogate is a GP (its rows and refits are levers; other surrogates
            refit on every row each step, so only the shortlist adapts).
        max_shortlist: the largest shortlist.
        refit_every: steps between warm-started refits once a refit at every step is too slow.
    """
    if budget_s is not None and not budget_s > 0:
        raise InputDataError(f"the step budget must be > 0 seconds, got {budget_s}")
    if refit_every < 1:
        raise InputDataError(f"refit_every must be >= 1 step, got {refit_every}")
    classic = StepPlan(True, n, FULL_ITERATIONS, n, max_shortlist)
    if budget_s is None:
        return classic
    budget = PLAN_FRACTION * budget_s
    acq_part = "acq_mo" if objectives > 1 else "acq"

    def acq(s: int) -> float:
        return costs.predict(acq_part, acq_shape(s, objectives))

    def post(m: int) -> float:
        return costs.predict("post", post_shape(m, candidates, objectives))

    def fit(f: int, iterations: int) -> float:
        return costs.predict("fit", fit_shape(f, iterations, objectives))

    shortlist = _largest(min(MIN_SHORTLIST, max_shortlist), max_shortlist, lambda s: acq(s) <= 0.25 * budget)
    if not gp:
        return StepPlan(True, n, 0, n, shortlist, post(n) + acq(shortlist))
    rest = budget - acq(shortlist)
    model_points = _largest(min(MIN_MODEL_POINTS, n), n, lambda m: post(m) <= rest)
    rest -= post(model_points)
    if fit(n, FULL_ITERATIONS) <= rest and model_points == n:
        return replace(classic, shortlist=shortlist, predicted_s=budget - rest + fit(n, FULL_ITERATIONS))
    fitted = state.rows_at_refit is not None
    due = (not fitted or state.steps_since + 1 >= refit_every or n >= (1 + GROWTH) * state.rows_at_refit)
    spent = budget - rest
    if not due:
        return StepPlan(False, 0, 0, model_points, shortlist, spent)
    iterations = WARM_ITERATIONS if fitted else FULL_ITERATIONS
    fit_points = _largest(min(MIN_FIT_POINTS, n), n, lambda f: fit(f, iterations) <= rest)
    return StepPlan(True, fit_points, iterations, model_points, shortlist, spent + fit(fit_points, iterations))
