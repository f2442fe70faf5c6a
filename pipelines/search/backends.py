"""How a search's evaluations run: one batch at a time, or asynchronously on N workers.

A backend takes suggestions (:meth:`Backend.submit`) and hands back finished trials
(:meth:`Backend.wait`); the runner asks the strategy for exactly as many suggestions as
the backend has free slots, passing the still-running ones as pending. Syne Tune's
idea: the same strategy runs on a local, a distributed or a simulated backend.

* :class:`BatchBackend`: synchronous batches of ``batch_size`` on any evaluator (the
  classic "suggest k, evaluate k" loop).
* :class:`SimulatedBackend`: ``workers`` asynchronous slots on a simulated clock over a
  table (an evaluation occupies a worker for its cost), so a user sees what N GPUs would
  buy before paying for them.
"""

from __future__ import annotations

import heapq
from abc import ABC, abstractmethod
from dataclasses import dataclass

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.history import Suggestion, Trial


@dataclass(frozen=True)
class Finished:
    """A trial as it came back, with the worker that ran it and when (simulated seconds)."""

    trial: Trial
    worker: int | None = None
    sim_time_s: float | None = None


def as_trial(suggestion: Suggestion, observation) -> Trial:
    """The trial an evaluator's observation of ``suggestion`` stands for."""
    return Trial(suggestion.arch, observation.value, observation.objectives, observation.test_value,
                 observation.cost_s, suggestion.fidelity, observation.status, observation.message)


class Backend(ABC):
    """Runs evaluations for the search loop."""

    @property
    @abstractmethod
    def free(self) -> int:
        """How many suggestions may be submitted now."""

    @abstractmethod
    def pending(self) -> list[Suggestion]:
        """Suggestions submitted and not yet returned by :meth:`wait`."""

    @property
    def running(self) -> int:
        return len(self.pending())

    @property
    def out_of_order(self) -> int:
        """How many suggestions may still be running while later ones have finished (0 for
        synchronous batches): a search killed and replayed re-suggests up to this many that
        it never stored before it has re-suggested every stored one."""
        return 0

    @abstractmethod
    def submit(self, suggestion: Suggestion) -> None:
        """Start evaluating ``suggestion``."""

    @abstractmethod
    def wait(self) -> list[Finished]:
        """Block until at least one evaluation finishes; return those that did."""

    def cancel(self) -> None:
        """Abandon whatever is still running (the search stops)."""


class BatchBackend(Backend):
    """Synchronous batches: up to ``batch_size`` suggestions, evaluated together, returned together."""

    def __init__(self, evaluator, batch_size: int = 1) -> None:
        if int(batch_size) < 1:
            raise InputDataError(f"batch_size must be >= 1, got {batch_size}")
        self.evaluator = evaluator
        self.batch_size = int(batch_size)
        self._batch: list[Suggestion] = []

    @property
    def free(self) -> int:
        return 0 if self._batch else self.batch_size

    def pending(self) -> list[Suggestion]:
        return list(self._batch)

    def submit(self, suggestion: Suggestion) -> None:
        self._batch.append(suggestion)

    def wait(self) -> list[Finished]:
        batch, self._batch = self._batch, []
        return [Finished(as_trial(s, o)) for s, o in zip(batch, self.evaluator.evaluate(batch))]

    def cancel(self) -> None:
        self._batch = []


class SimulatedBackend(Backend):
    """``workers`` asynchronous slots on a simulated clock.

    A submitted suggestion is evaluated at once (a table lookup) and occupies the first
    free worker from the current simulated time until that time plus its cost; :meth:`wait`
    advances the clock to the next finish. The trace gains ``worker`` and ``sim_time_s``.

    Args:
        evaluator: an evaluator whose observations carry a cost (a table with a cost column).
        workers: simulated parallel workers.
    """

    def __init__(self, evaluator, workers: int) -> None:
        if int(workers) < 1:
            raise InputDataError(f"workers must be >= 1, got {workers}")
        self.evaluator = evaluator
        self.workers = int(workers)
        self.clock = 0.0
        self._idle = list(range(self.workers))
        self._running: list[tuple[float, int, int, Suggestion, Trial]] = []  # heap of (finish, order, worker, ...)
        self._order = 0

    @property
    def free(self) -> int:
        return len(self._idle)

    @property
    def out_of_order(self) -> int:
        return self.workers

    def pending(self) -> list[Suggestion]:
        return [entry[3] for entry in sorted(self._running)]

    def submit(self, suggestion: Suggestion) -> None:
        if not self._idle:
            raise InputDataError("no free simulated worker; wait for one to finish first")
        trial = as_trial(suggestion, self.evaluator.evaluate([suggestion])[0])
        worker = self._idle.pop(0)
        heapq.heappush(self._running, (self.clock + trial.cost_s, self._order, worker, suggestion, trial))
        self._order += 1

    def wait(self) -> list[Finished]:
        finish, _, worker, _, trial = heapq.heappop(self._running)
        done = [(worker, trial)]
        while self._running and self._running[0][0] <= finish:
            _, _, w, _, t = heapq.heappop(self._running)
            done.append((w, t))
        self.clock = max(self.clock, finish)
        for w, _ in done:
            self._idle.append(w)
        self._idle.sort()
        return [Finished(t, worker=w, sim_time_s=self.clock) for w, t in done]

    def cancel(self) -> None:
        for _, _, w, _, _ in self._running:
            self._idle.append(w)
        self._running = []
