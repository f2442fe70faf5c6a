"""Evaluate architectures by training them for real, through the architecture database.

The same :class:`~surrogate_nas.pipelines.search.evaluators.Evaluator` interface as a
benchmark table, so every strategy runs unchanged on live training. Trainings go through
a :class:`~surrogate_nas.pipelines.trainer.DatabaseTrainer`: an architecture already
evaluated under the same setting (by this search, an earlier one, a ``seed`` run or
another process) is read back, never retrained.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import Evaluation, Status, TrainResult
from surrogate_nas.pipelines.search.evaluators import Evaluator, Observation
from surrogate_nas.pipelines.search.history import Suggestion
from surrogate_nas.pipelines.trainer import DatabaseTrainer

LIVE_OBJECTIVES = ("valid_acc", "params", "flops", "train_seconds")
"""What a live observation reports; ``valid_acc`` is the searched value."""

WAIT_S = 3600.0
"""How long a live search waits for an architecture another live worker is training."""


class LiveEvaluator(Evaluator):
    """Train suggested architectures under one setting.

    Args:
        trainer: trains (or finds) architectures of one setting through the database.
        on_result: called as ``on_result(result, evaluation_id, observation)`` right after
            each new training is stored (the search job logs it to MLflow and records it as
            a trial there, before the batch ends).
        wait_s: how long to wait for an architecture another live worker is training.
    """

    target = "valid_acc"

    def __init__(self, trainer: DatabaseTrainer,
                 on_result: Callable[[TrainResult, int, Observation], None] | None = None,
                 wait_s: float = WAIT_S) -> None:
        self.trainer = trainer
        self.space = trainer.space
        self.on_result, self.wait_s = on_result, wait_s
        self.trained = 0

    @property
    def dataset(self):
        return self.trainer.dataset

    @property
    def chance(self) -> float:
        """Accuracy recorded for a run that diverged or failed: chance level."""
        return 100.0 / self.dataset.num_classes

    def reported(self) -> tuple[str, ...]:
        return LIVE_OBJECTIVES

    def evaluate(self, suggestions: Sequence[Suggestion]) -> list[Observation]:
        return [self._one(s.arch) for s in suggestions]

    def _one(self, arch) -> Observation:
        outcome = self.trainer.run(arch, wait_s=self.wait_s)
        if outcome.stored is not None:
            return self.from_evaluation(outcome.stored)
        if not outcome.trained:
            raise InputDataError(f"{arch.to_string()}: {outcome.skipped} for over {self.wait_s:.0f}s")
        result = outcome.result
        self.trained += 1
        obs = self._observation(result.valid_acc, result.test_acc, result.params, result.flops,
                                result.train_seconds, result.status)
        if self.on_result is not None:
            self.on_result(result, outcome.evaluation_id, obs)
        return obs

    def from_evaluation(self, e: Evaluation) -> Observation:
        """The observation a stored evaluation stands for (warm starts and cache hits)."""
        return self._observation(e.valid_acc, e.test_acc, e.params, e.flops, e.train_seconds or 0.0, e.status)

    def _observation(self, valid, test, params, flops, seconds, status: Status) -> Observation:
        value = float(valid) if status is Status.OK and valid is not None else self.chance
        return Observation(
            value=value,
            objectives={"valid_acc": value, "params": float(params or 0), "flops": float(flops or 0),
                        "train_seconds": float(seconds)},
            test_value=None if test is None else float(test),
            cost_s=float(seconds),
        )
