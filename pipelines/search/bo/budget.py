"""How much model one BO step can afford, decided from counts: a fixed cost model and the plan it picks.

A step pays for three things, each growing with its own size:

========================  ======================================================  ====================
part                       grows with                                              levers
========================  ======================================================  ====================
hyperparameter fit         iterations x (1 + (f/200)^2 + (f/250)^3), f the rows    f, how often
posterior and screen       N candidates x (1 + m/100), plus m^3, m the rows         N, m
Monte-Carlo acquisition    the shortlist s; with several objectives also the MC    s, MC samples,
                           samples; in three dimensions and more also the          baseline
                           partitioning of each sample's front of the baseline,
                           redone for every pick (the pending points): it grows
                           with the MC samples and the front, not the shortlist
========================  ======================================================  ====================

(shapes measured on NAS-Bench-201's 6,466 candidates and 16 features, one thread).
:class:`CostModel` predicts each part as its shape times a *fixed* speed in seconds per
unit, measured once in CPU time on the reference machine (2 cores, one torch thread;
``python benchmarks/step_costs.py``, docs/benchmarks.md "Speeds of the BO step's cost model"). Nothing here reads
a clock: the plan is a function of the counts (rows, candidates, objectives, the refit
state) and of ``budget_s``, so a seeded search makes the same decisions on an idle machine,
a busy one and a faster one; ``budget_s`` is "seconds on the reference machine", a knob
for how rich a step is. :func:`plan_step` picks the richest plan whose predicted cost fits
in :data:`PLAN_FRACTION` of the budget:

1. the Monte-Carlo samples and the baseline (several objectives: as many samples as the
   acquisition affords in :data:`ACQ_SHARE` of the budget at the smallest shortlist, down to
   :data:`MIN_MC_SAMPLES`, then as many baseline points, down to :data:`MIN_BASELINE`), then
   the shortlist it can afford in that share;
2. the candidates to screen: all of them while screening them (one output, the posterior of
   :data:`MIN_MODEL_POINTS` rows) fits in :data:`SCREEN_SHARE` of the budget, else a seeded
   subset of that size (the strategy fills it with the neighbours of its best architectures
   and a uniform sample of the rest), so a table of 60,000 rows or a pool of 100,000
   candidates costs a step about what NAS-Bench-201's 6,466 cells do;
3. the rows the posterior conditions on: every row while that fits, else a subset;
4. the hyperparameters: refitted on every row at every step (the classic step) while that
   fits; else refitted, warm-started, on a subset every ``refit_every`` steps or once the data
   grew by a tenth, and kept (the posterior conditioned on the new data) in between.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from surrogate_nas.errors import InputDataError

PLAN_FRACTION = 0.8
"""Share of the budget a plan may fill; the rest absorbs what the model does not count."""
ACQ_SHARE = 0.5
"""Share of the planned budget the Monte-Carlo acquisition may take."""
SCREEN_SHARE = 0.06
"""Share of the planned budget that screening the candidates for one output may take at the smallest model."""
FULL_ITERATIONS = 60
"""L-BFGS iterations of a hyperparameter fit from scratch (the GP predictor's default)."""
WARM_ITERATIONS = 20
"""Iterations of a warm-started refit: it starts near the optimum."""
MIN_FIT_POINTS = 100
MIN_MODEL_POINTS = 200
MIN_SHORTLIST = 16
MIN_SCREENED = 1000
"""Fewest candidates a step screens when it screens a subset."""
MIN_MC_SAMPLES = 16
"""Fewest Monte-Carlo samples a multi-objective acquisition is given."""
BASELINE = 64
"""Most evaluated points (best first by fitted mean) a budgeted step's noisy (hypervolume) improvement starts from."""
MIN_BASELINE = 16
FORWARD_COST_3D = 4.6
"""Cost of scoring the shortlist with three objectives, relative to two (more boxes per sample)."""
PARTITION_COST_3D = 2.9
"""Cost of partitioning every Monte-Carlo sample's front of a :data:`BASELINE`-point baseline for
each pick, with three objectives, in units of two objectives' scoring cost at the smallest
shortlist (the decomposition runs in NumPy, :mod:`.partitioning`); it falls as ``(b / BASELINE)^0.5``
with ``b`` baseline points (the pruned front grows slowly with ``b``). Both measured with the objectives a table knows exactly (latency, params)
joined as exact outputs, as a search uses them (``benchmarks/step_costs.py``); four objectives
and more: as three, times 4 per extra one."""
GROWTH = 0.1
"""A refit is due once the history grew by this fraction since the last one."""


def fit_shape(points: int, iterations: int, objectives: int = 1) -> float:
    """Units of work of a hyperparameter fit: per L-BFGS iteration, a fixed, a quadratic and a cubic part."""
    return objectives * iterations * (1.0 + (points / 200.0) ** 2 + (points / 250.0) ** 3)


def post_shape(points: int, candidates: int, objectives: int = 1) -> float:
    """Units of work of conditioning on ``points`` rows (a Cholesky factor) and scoring ``candidates`` marginals."""
    return objectives * (max(candidates, 1) * (1.0 + points / 100.0) + 1.5e-5 * points**3)


def acq_shape(shortlist: int, objectives: int = 1, mc_samples: int = 128, baseline: int = BASELINE) -> float:
    """Units of work of the Monte-Carlo acquisition on the shortlist (picks are few)."""
    scoring = 1.0 + shortlist / 64.0
    if objectives < 2:
        return scoring
    if objectives == 2:  # BoTorch partitions two-dimensional fronts for all samples at once: part of scoring
        return scoring * (mc_samples / 128.0)
    front = (min(baseline, BASELINE) / BASELINE) ** 0.5
    return ((mc_samples / 128.0) * front * 4.0 ** (objectives - 3)
            * (FORWARD_COST_3D * scoring + PARTITION_COST_3D))


@dataclass(frozen=True)
class CostModel:
    """Seconds per unit of each part's shape on the reference machine (one torch thread).

    Fixed, never learned from the steps a search times: the plan must not depend on how
    busy the machine is.
    """

    fit: float = 0.0025
    post: float = 3.5e-6
    acq: float = 0.007
    acq_mo: float = 0.37

    def predict(self, part: str, units: float) -> float:
        return getattr(self, part) * units


REFERENCE_COSTS = CostModel()


@dataclass(frozen=True)
class StepPlan:
    """What one BO step does.

    Attributes:
        refit: optimise the GP's hyperparameters this step (else reuse the last ones).
        fit_points: rows the hyperparameters are fitted on (0 without a refit).
        iterations: L-BFGS iterations of the refit.
        model_points: rows the posterior conditions on.
        screened: candidates the posterior screens (fewer than the untried ones: a subset).
        shortlist: candidates the Monte-Carlo acquisition scores.
        mc_samples: its Monte-Carlo samples.
        baseline: the most evaluated points its noisy improvement starts from.
        predicted_s: the plan's predicted seconds on the reference machine.
    """

    refit: bool
    fit_points: int
    iterations: int
    model_points: int
    screened: int
    shortlist: int
    mc_samples: int = 128
    baseline: int = BASELINE
    predicted_s: float = 0.0

    def describe(self, n: int, candidates: int, gp: bool = True) -> str:
        """One line for progress output, e.g. ``GP on 800 of 2,000 points (refit on 300); 6,466 candidates ...``."""
        model = ("GP" if gp else "surrogate") + (f" on {self.model_points:,} of {n:,} points" if self.model_points < n
                                                 else f" on {n:,} points")
        if gp and self.refit:
            model += " (hyperparameters refitted" + (f" on {self.fit_points:,})" if self.fit_points < n else ")")
        elif gp:
            model += " (hyperparameters kept)"
        screened = (f"{self.screened:,} of {candidates:,} candidates screened" if self.screened < candidates
                    else f"{candidates:,} candidates screened")
        return f"{model}; {screened}, {self.shortlist} shortlisted"


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
    state: RefitState,
    objectives: int = 1,
    gp: bool = True,
    max_shortlist: int = 256,
    refit_every: int = 5,
    costs: CostModel = REFERENCE_COSTS,
    mc_samples: int = 128,
    model_objectives: int | None = None,
) -> StepPlan:
    """The richest step whose predicted cost fits in :data:`PLAN_FRACTION` of ``budget_s``.

    Args:
        n: rows of the history.
        candidates: untried candidates the step could screen.
        budget_s: seconds per step on the reference machine; ``None`` for the classic step
            (every row, every candidate, refit, full shortlist).
        state: the hyperparameters' state.
        objectives: model outputs (one GP each: objectives and modelled constraints).
        gp: whether the surrogate is a GP (its rows and refits are levers; other surrogates
            refit on every row each step, so only the candidates and the shortlist adapt).
        max_shortlist: the largest shortlist.
        refit_every: steps between warm-started refits once a refit at every step is too slow.
        costs: the cost model (the reference machine's by default).
        mc_samples: the most Monte-Carlo samples of the acquisition.
        model_objectives: how many of the outputs are objectives (the rest, modelled
            constraints, cost the acquisition little); default: all of them.
    """
    if budget_s is not None and not budget_s > 0:
        raise InputDataError(f"the step budget must be > 0 seconds, got {budget_s}")
    if refit_every < 1:
        raise InputDataError(f"refit_every must be >= 1 step, got {refit_every}")
    classic = StepPlan(True, n, FULL_ITERATIONS, n, candidates, max_shortlist, mc_samples)
    if budget_s is None:
        return classic
    budget = PLAN_FRACTION * budget_s
    scored = objectives if model_objectives is None else model_objectives
    acq_part = "acq_mo" if scored > 1 else "acq"

    def acq(s: int, mc: int, b: int = BASELINE) -> float:
        return costs.predict(acq_part, acq_shape(s, scored, mc, b))

    def post(m: int, c: int) -> float:
        return costs.predict("post", post_shape(m, c, objectives))

    def fit(f: int, iterations: int) -> float:
        return costs.predict("fit", fit_shape(f, iterations, objectives))

    few = min(MIN_SHORTLIST, max_shortlist)
    mc, b = mc_samples, BASELINE
    if scored > 1:
        while mc > MIN_MC_SAMPLES and acq(few, mc) > ACQ_SHARE * budget:
            mc = max(mc // 2, MIN_MC_SAMPLES)
        while b > MIN_BASELINE and acq(few, mc, b) > ACQ_SHARE * budget:
            b //= 2
    shortlist = _largest(few, max_shortlist, lambda s: acq(s, mc, b) <= ACQ_SHARE * budget)
    smallest = min(MIN_MODEL_POINTS, n)
    screened = _largest(min(MIN_SCREENED, candidates), candidates,
                        lambda c: costs.predict("post", post_shape(smallest, c)) <= SCREEN_SHARE * budget)
    if not gp:
        return StepPlan(True, n, 0, n, screened, shortlist, mc, b, post(n, screened) + acq(shortlist, mc, b))
    rest = budget - acq(shortlist, mc, b)
    model_points = _largest(smallest, n, lambda m: post(m, screened) <= rest)
    rest -= post(model_points, screened)
    if fit(n, FULL_ITERATIONS) <= rest and model_points == n:
        return replace(classic, screened=screened, shortlist=shortlist, mc_samples=mc, baseline=b,
                       predicted_s=budget - rest + fit(n, FULL_ITERATIONS))
    fitted = state.rows_at_refit is not None
    due = (not fitted or state.steps_since + 1 >= refit_every or n >= (1 + GROWTH) * state.rows_at_refit)
    spent = budget - rest
    if not due:
        return StepPlan(False, 0, 0, model_points, screened, shortlist, mc, b, spent)
    iterations = WARM_ITERATIONS if fitted else FULL_ITERATIONS
    fit_points = _largest(min(MIN_FIT_POINTS, n), n, lambda f: fit(f, iterations) <= rest)
    return StepPlan(True, fit_points, iterations, model_points, screened, shortlist, mc, b,
                    spent + fit(fit_points, iterations))
