"""The strategy contract: built from (space, objectives, seed), it speaks ask/tell.

``ask(n, pending)`` returns up to ``n`` :class:`~..history.Suggestion` values whose
architectures are neither evaluated nor pending (by canonical key); ``tell(trials)``
hands it finished trials. A strategy keeps its own history, so the same object runs
batch by batch, asynchronously (asking whenever a worker is free, with the running
suggestions as ``pending``) or resumed from stored trials told up front (Optuna's
samplers, Syne Tune's schedulers).

The search loop calls :meth:`Strategy.suggest`, which runs ``ask`` as one *step* with a
random state of its own: :attr:`Strategy.rng` and torch's global generator are seeded from
the search's seed and the number of suggestions made before the step, and torch runs on one
thread. What a step draws (initial samples, Monte-Carlo base samples, Thompson samples,
subsets, BoTorch's own draws) is therefore the same in every run of the same search, however
loaded the machine and whatever ran before it in the process.

Adding a strategy is one file under ``strategies/`` plus one line in
:data:`surrogate_nas.pipelines.search.strategies.STRATEGIES`, or, outside this package, a
plug-in (:func:`surrogate_nas.register_strategy` or the ``surrogate_nas.strategies``
entry-point group). A strategy declares what it can do in class attributes
(``multi_objective``, ``multi_fidelity``, ``models_constraints``, ``search_options``), which
the search reads instead of its name; :func:`surrogate_nas.testing.check_strategy` runs the
contract on any strategy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from surrogate_nas.errors import InputDataError
from surrogate_nas.spaces import SearchSpace, get_space
from surrogate_nas.pipelines.search.history import Objective, Suggestion, Trial, parse_objectives


SEARCH_OPTIONS: tuple[str, ...] = ("surrogate", "acquisition", "step_seconds", "eta", "prior")
"""Options of a search (``--surrogate``, ``--acquisition``, ``--step-seconds``, ``--eta``, ``--prior``) that a
strategy may take as keyword arguments; it lists those it takes in :attr:`Strategy.search_options`."""


class Strategy(ABC):
    """Base class of search strategies.

    Args:
        space: the search space (or its registered name).
        objectives: what to optimise; the first is the searched target (its direction
            decides what "better" means). Two or more make the search multi-objective,
            which only strategies with ``multi_objective = True`` accept.
        seed: seed of the strategy's own random generator.

    Class attributes (capabilities, read by the search before it builds the strategy):
        name: what traces and progress lines call it.
        multi_objective: it accepts two or more objectives.
        multi_fidelity: it evaluates at the fidelities :meth:`use_fidelities` offers.
        models_constraints: its constructor takes ``constraints=`` and models those the
            evaluator cannot check in advance (the others skip what known constraints rule out).
        search_options: which of :data:`SEARCH_OPTIONS` its constructor takes.

    Attributes:
        history: every trial told so far, in order.
        progress: called with a line saying what a step is doing when it starts a part
            that may be slow (set by whoever runs the strategy, e.g. for a progress bar).
        last_activity: what the last :meth:`ask` did, in one line (empty when nothing to say).
    """

    name: str = "strategy"
    multi_objective: bool = False
    multi_fidelity: bool = False
    models_constraints: bool = False
    search_options: tuple[str, ...] = ()

    def __init__(self, space: SearchSpace | str, objectives=None, seed: int = 0) -> None:
        self.space = get_space(space)
        self.objectives: tuple[Objective, ...] = parse_objectives(objectives) if objectives else (Objective("value"),)
        if len(self.objectives) > 1 and not self.multi_objective:
            raise InputDataError(
                f"strategy {self.name!r} is single-objective; got {len(self.objectives)} objectives"
            )
        self.seed = int(seed)
        self.rng = np.random.default_rng(seed)
        self.history: list[Trial] = []
        self.last_timing: dict[str, float] = {}
        self.progress: Callable[[str], None] | None = None
        self.last_activity = ""

    @property
    def is_multi_objective(self) -> bool:
        return len(self.objectives) > 1

    @property
    def maximize(self) -> bool:
        """Direction of the searched target."""
        return self.objectives[0].maximize

    def score(self, trial: Trial) -> float:
        """The trial's target, oriented so that higher is better."""
        return trial.value if self.maximize else -trial.value

    def use_fidelities(self, levels: Sequence[float]) -> None:
        """Hear the fidelities the evaluator offers (fractions of the full budget; empty: full only).

        Single-fidelity strategies evaluate everything in full and ignore them.
        """

    def use_known(self, exact: Mapping[str, Callable[[Sequence], np.ndarray]]) -> None:
        """Hear which reported quantities the evaluator knows exactly and cheaply for any architecture
        (:meth:`~..evaluators.Evaluator.exact`); a strategy may use them in place of a model of them."""

    def prepare(self) -> None:
        """Do the search's one-off work (e.g. list and featurise a table's rows) before the first step.

        The runner calls it once, after :meth:`use_fidelities`, and times it apart from the steps.
        """

    @abstractmethod
    def ask(self, n: int, pending: Sequence[Suggestion] = ()) -> list[Suggestion]:
        """Up to ``n`` new suggestions, none evaluated or pending (by canonical key and fidelity)."""

    def suggest(self, n: int, pending: Sequence[Suggestion] = ()) -> list[Suggestion]:
        """:meth:`ask` as one seeded step (see the module docstring); what the search loop calls."""
        with step_random_state(self.seed, len(self.history) + len(pending)) as rng:
            self.rng = rng
            return self.ask(n, pending)

    def tell(self, trials: Sequence[Trial]) -> None:
        """Hear finished trials (appended to :attr:`history`)."""
        self.history.extend(trials)

    def say(self, text: str) -> None:
        """Tell :attr:`progress`, if anyone listens, what the step is doing now."""
        if self.progress is not None:
            self.progress(text)

    def taken_keys(self, pending: Sequence[Suggestion] = ()) -> set[str]:
        """Canonical keys a full-fidelity suggestion must avoid: evaluated or pending."""
        return {t.key for t in self.history} | {s.key for s in pending}

    def fresh(self, n: int, taken: set[str]) -> list[Suggestion]:
        """Up to ``n`` random suggestions outside ``taken`` (which grows by their keys)."""
        archs = self.space.sample_unseen(n, self.rng, taken)
        taken.update(a.canonical_key for a in archs)
        return [Suggestion(a) for a in archs]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(space={self.space.name!r}, seed={self.seed})"


STEP_THREADS = 1
"""Torch and BLAS threads of a strategy's step: one, so a step's arithmetic (and its result) is
the same on any machine and a busy machine costs wall time, not CPU spent on contended threads."""


@contextmanager
def step_random_state(seed: int, step: int):
    """A numpy generator for step ``step`` of the search seeded ``seed``; torch's global
    generator seeded from the same pair and :data:`STEP_THREADS` torch and BLAS threads inside
    the block.

    The caller's torch random state and thread count are restored afterwards.
    """
    sequence = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(step)])
    torch_seed = int(sequence.generate_state(1, dtype=np.uint64)[0] >> 1)
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]), threadpool_limits(limits=STEP_THREADS):
        torch.manual_seed(torch_seed)
        torch.set_num_threads(STEP_THREADS)
        try:
            yield np.random.default_rng(sequence)
        finally:
            torch.set_num_threads(threads)
