"""Evaluate architectures by training them for real, through the architecture database.

:class:`LiveEvaluator` is the same :class:`~surrogate_nas.pipelines.search.evaluators.Evaluator`
as a benchmark table, so every strategy runs unchanged on live training; :class:`LiveBackend`
runs its trainings on the trainer's executor, either in synchronous batches or
asynchronously (each finished training frees a worker that gets the next suggestion at once,
the running ones passed to the strategy as pending). Trainings go through a
:class:`~surrogate_nas.pipelines.live.trainer.DatabaseTrainer`: an architecture already evaluated
under the same setting (by this search, an earlier one, a ``seed`` run or another process) is
read back, never retrained.

Fidelities are epochs: at fidelity ``r / R`` (``R`` the setting's epochs) a training stops
after ``r`` epochs of its ``R``-epoch schedule and pauses with a checkpoint; promoting it
continues from there, and a result already further along is read from its curve.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import Evaluation, Status, TrainResult
from surrogate_nas.pipelines.search.backends import Backend, Finished, as_trial
from surrogate_nas.pipelines.search.evaluators import ArchMetric, Evaluator, Observation
from surrogate_nas.pipelines.search.history import Suggestion
from surrogate_nas.pipelines.live.trainer import DatabaseTrainer, TrainingOutcome

LIVE_OBJECTIVES = ("valid_acc", "params", "flops", "train_seconds")
"""What a live observation reports; ``valid_acc`` is the searched value."""

WAIT_S = 3600.0
"""How long a live search waits for an architecture another live worker is training."""


class LiveEvaluator(Evaluator):
    """Train suggested architectures under one setting.

    Args:
        trainer: trains (or finds) architectures of one setting through the database.
        on_result: called as ``on_result(result, evaluation_id, observation, fidelity)`` right
            after each new training is stored (the search job logs it to MLflow and records it
            as a trial there, before the batch ends).
        wait_s: how long to wait for an architecture another live worker is training.
        metrics: quantities computed from the architecture (a device's latency) added to
            every observation.

    Its parameter and FLOP counts (analytic, for the trained network) and the metrics are
    known without training (:meth:`known`).
    """

    target = "valid_acc"

    def __init__(self, trainer: DatabaseTrainer,
                 on_result: Callable[[TrainResult, int, Observation, float], None] | None = None,
                 wait_s: float = WAIT_S, metrics: Sequence[ArchMetric] = ()) -> None:
        self.trainer = trainer
        self.space = trainer.space
        self.on_result, self.wait_s = on_result, wait_s
        self.metrics = tuple(metrics)
        self.trained = 0

    @property
    def dataset(self):
        return self.trainer.dataset

    @property
    def chance(self) -> float:
        """Accuracy recorded for a run that diverged or failed: chance level."""
        return 100.0 / self.dataset.num_classes

    def reported(self) -> tuple[str, ...]:
        return LIVE_OBJECTIVES + tuple(m.name for m in self.metrics)

    def known(self) -> dict[str, Callable[[Sequence], np.ndarray]]:
        setting, data = self.trainer.setting, self.dataset

        def counted(count):
            return lambda archs: np.array([count(a, setting.network, data.input_shape, data.num_classes)
                                           for a in archs], dtype=np.float64)

        return {"params": counted(self.space.count_params), "flops": counted(self.space.count_flops),
                **{m.name: m.values for m in self.metrics}}

    def exact(self) -> dict[str, Callable[[Sequence], np.ndarray]]:
        # Counting params builds the network: too dear for every candidate of a step.
        return {m.name: m.values for m in self.metrics if m.per_candidate}

    def measure_first(self, arch) -> None:
        """Compute ``arch``'s metrics before it trains: a latency timed here (``latency@local``, cached)
        then never shares the machine with the architecture's own training."""
        for m in self.metrics:
            m.values([arch])

    def _with_metrics(self, arch, obs: Observation) -> Observation:
        if not self.metrics:
            return obs
        extra = {m.name: float(m.values([arch])[0]) for m in self.metrics}
        return Observation(obs.value, {**obs.objectives, **extra}, obs.test_value, obs.cost_s, obs.status,
                           obs.message)

    @property
    def epochs(self) -> int:
        return int(self.trainer.setting.train.epochs)

    @property
    def fidelities(self) -> tuple[float, ...]:
        """Every whole number of epochs, as a fraction of the setting's."""
        return tuple(k / self.epochs for k in range(1, self.epochs + 1)) if self.epochs > 1 else ()

    def stop_after(self, fidelity: float) -> int | None:
        """The epochs a fidelity stands for (None: all of them).

        Raises:
            InputDataError: the fidelity is not a whole number of epochs.
        """
        epochs = fidelity * self.epochs
        if round(epochs) < 1 or abs(epochs - round(epochs)) > 1e-6:
            raise InputDataError(f"fidelity {fidelity:.4g} is not a whole number of the {self.epochs} epochs")
        return None if round(epochs) >= self.epochs else int(round(epochs))

    def evaluate(self, suggestions: Sequence[Suggestion]) -> list[Observation]:
        """Train ``suggestions`` one after another (see :class:`LiveBackend` for parallel training)."""
        out = []
        for s in suggestions:
            self.measure_first(s.arch)
            outcome = self.trainer.run(s.arch, wait_s=self.wait_s, stop_after=self.stop_after(s.fidelity))
            out.append(self.observe(outcome, s.fidelity))
        return out

    def observe(self, outcome: TrainingOutcome, fidelity: float = 1.0) -> Observation:
        """The observation an outcome stands for; a new training is reported to ``on_result`` first."""
        if outcome.stored is not None:
            return self.from_evaluation(outcome.stored, fidelity)
        if outcome.trained:
            self.trained += 1
            result = outcome.result
            obs = self._with_metrics(outcome.arch, self._observation(
                result.valid_acc, None if result.paused else result.test_acc, result.params, result.flops,
                outcome.seconds, result.status))
            if self.on_result is not None:
                self.on_result(result, outcome.evaluation_id, obs, fidelity)
            return obs
        reason = outcome.failed or f"{outcome.skipped} for over {self.wait_s:.0f}s"
        setting, data = self.trainer.setting, self.dataset
        params = self.space.count_params(outcome.arch, setting.network, data.input_shape, data.num_classes)
        flops = self.space.count_flops(outcome.arch, setting.network, data.input_shape, data.num_classes)
        return self._with_metrics(outcome.arch, self._observation(None, None, params, flops, 0.0, Status.FAILED,
                                                                  reason))

    def from_evaluation(self, e: Evaluation, fidelity: float = 1.0) -> Observation:
        """The observation a stored evaluation stands for (warm starts and cache hits).

        Below full fidelity it is the curve's accuracy after that many epochs, at the share
        of the stored training time those epochs took.
        """
        epochs = self.stop_after(fidelity)
        arch = self.space.parse(e.arch)
        if epochs is None or e.status is not Status.OK and e.status is not Status.PAUSED:
            return self._with_metrics(arch, self._observation(e.valid_acc, e.test_acc, e.params, e.flops,
                                                              e.train_seconds or 0.0, e.status))
        share = epochs / max(e.epochs_done, 1)
        return self._with_metrics(arch, self._observation(e.valid_accs[epochs - 1], None, e.params, e.flops,
                                                          (e.train_seconds or 0.0) * share, Status.OK))

    def _observation(self, valid, test, params, flops, seconds, status: Status, message: str = "") -> Observation:
        value = float(valid) if status is Status.OK and valid is not None else self.chance
        return Observation(
            value=value,
            objectives={"valid_acc": value, "params": float(params or 0), "flops": float(flops or 0),
                        "train_seconds": float(seconds)},
            test_value=None if test is None else float(test),
            cost_s=float(seconds),
            status="ok" if status is Status.OK else status.value,
            message=message,
        )


class LiveBackend(Backend):
    """Live trainings on the evaluator's trainer and its executor.

    Args:
        evaluator: the live evaluator.
        batch_size: synchronous batches of this size; ``None`` runs asynchronously on every
            worker slot of the executor.
    """

    def __init__(self, evaluator: LiveEvaluator, batch_size: int | None = None) -> None:
        self.evaluator = evaluator
        self.trainer = evaluator.trainer
        self.batch_size = batch_size
        self._running: dict[str, Suggestion] = {}
        self._ready: list[Finished] = []

    @property
    def free(self) -> int:
        if self.batch_size is not None:
            return 0 if self._running or self._ready else self.batch_size
        return max(self.trainer.free, 0)

    def pending(self) -> list[Suggestion]:
        return list(self._running.values())

    @property
    def out_of_order(self) -> int:
        return 0 if self.batch_size is not None else self.trainer.executor.slots

    @property
    def running(self) -> int:
        return len(self._running) + len(self._ready)

    def submit(self, suggestion: Suggestion) -> None:
        self.evaluator.measure_first(suggestion.arch)
        outcome = self.trainer.start(suggestion.arch, wait_s=self.evaluator.wait_s,
                                     stop_after=self.evaluator.stop_after(suggestion.fidelity))
        if outcome is None:
            self._running[suggestion.key] = suggestion
        else:
            self._ready.append(self._finished(suggestion, outcome))

    def wait(self) -> list[Finished]:
        out, self._ready = self._ready, []
        while self._running and (not out or self.batch_size is not None):
            for outcome in self.trainer.poll():
                suggestion = self._running.pop(outcome.arch.canonical_key)
                out.append(self._finished(suggestion, outcome))
        return out

    def _finished(self, suggestion: Suggestion, outcome: TrainingOutcome) -> Finished:
        return Finished(as_trial(suggestion, self.evaluator.observe(outcome, suggestion.fidelity)),
                        worker=outcome.worker)

    def cancel(self) -> None:
        self.trainer.release_running()
        self._running.clear()
