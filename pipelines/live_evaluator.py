"""Evaluate cells by training them for real, through the architecture database.

The same :class:`~surrogate_nas.pipelines.search.evaluators.Evaluator`
protocol as a benchmark table, so every strategy runs unchanged on live
training. Each cell is claimed in the database before it is trained: a cell
already evaluated under the same settings (by this search, an earlier one, a
``seed`` run or another process) is read back, never retrained.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import cached_property

import numpy as np

from surrogate_nas.cell import Cell, canonical_cells
from surrogate_nas.cost import count_flops, count_params
from surrogate_nas.datasets import Dataset
from surrogate_nas.errors import InputDataError
from surrogate_nas.records import Evaluation, NetworkConfig, Status, TrainConfig, TrainResult
from surrogate_nas.training import train
from surrogate_nas.pipelines.search.evaluators import Observation
from surrogate_nas.pipelines.search.history import Objective
from surrogate_nas.pipelines.seeding import reference_cost

OBJECTIVES = ("valid_acc", "params", "flops", "train_seconds")
"""What a live observation reports; ``valid_acc`` is the searched value."""


class LiveEvaluator:
    """Train cells on ``dataset`` under one network and training setting.

    Args:
        store: the :class:`~surrogate_nas.storage.ArchitectureStore`.
        dataset: loaded splits (see :func:`~surrogate_nas.datasets.load_dataset`).
        network, train_config, seed, device: the training setting.
        on_result: called as ``on_result(result, evaluation_id, observation)``
            right after each new training is stored (the search job logs it to
            MLflow and records it as a trial there, before the batch ends).
        wait_s: how long to wait for a cell another live process is training.
    """

    target = "valid_acc"

    def __init__(self, store, dataset: Dataset, network: NetworkConfig, train_config: TrainConfig, seed: int = 0,
                 device: str = "auto", on_result: Callable[[TrainResult, int, Observation], None] | None = None,
                 wait_s: float = 3600.0) -> None:
        self.store, self.dataset, self.network = store, dataset, network
        self.train_config, self.seed, self.device = train_config, int(seed), device
        self.on_result, self.wait_s = on_result, wait_s
        self.trained = 0

    @property
    def chance(self) -> float:
        """Accuracy recorded for a run that diverged or failed: chance level."""
        return 100.0 / self.dataset.num_classes

    @cached_property
    def _max_cost(self) -> tuple[float, float]:
        shape, classes = self.dataset.input_shape, self.dataset.num_classes
        cells = canonical_cells()
        return (float(max(count_params(c, self.network, shape, classes) for c in cells)),
                float(max(count_flops(c, self.network, shape, classes) for c in cells)))

    def reference_point(self, objectives: Sequence[Objective]) -> np.ndarray:
        """Worst attainable value of each objective ("maximise everything" space)."""
        worst = {"valid_acc": 0.0, "params": self._max_cost[0], "flops": self._max_cost[1]}
        out = []
        for o in objectives:
            if o.name not in worst:
                raise InputDataError(f"objective {o.name!r} cannot be searched with live training; "
                                     f"expected one of {', '.join(worst)}")
            out.append(o.sign * worst[o.name])
        return np.asarray(out, dtype=np.float64)

    def evaluate(self, cells: Sequence[Cell]) -> list[Observation]:
        return [self._one(cell) for cell in cells]

    def _one(self, cell: Cell) -> Observation:
        params_ref, flops_ref = reference_cost(cell)
        deadline = time.monotonic() + self.wait_s
        while True:
            eval_id = self.store.claim(cell, self.dataset.name, self.network, self.train_config, self.seed,
                                       params_ref=params_ref, flops_ref=flops_ref)
            if eval_id is not None:
                break
            done = self._stored(cell)
            if done is not None:
                return self.from_evaluation(done)
            if time.monotonic() > deadline:
                raise InputDataError(f"{cell} has been running in another process for over {self.wait_s:.0f}s")
            time.sleep(1.0)  # another live process is training it right now
        try:
            result = train(cell, self.network, self.train_config, self.dataset, self.seed, self.device)
        except BaseException:
            self.store.release(eval_id)
            raise
        self.store.finish(eval_id, result)
        self.trained += 1
        obs = self._observation(result.valid_acc, result.test_acc, result.params, result.flops,
                                result.train_seconds, result.status)
        if self.on_result is not None:
            self.on_result(result, eval_id, obs)
        return obs

    def _stored(self, cell: Cell) -> Evaluation | None:
        for e in self.store.evaluations(dataset=self.dataset.name, channels=self.network.channels,
                                        cells_per_stage=self.network.cells_per_stage,
                                        epochs=self.train_config.epochs, seed=self.seed):
            if e.canonical_key == cell.canonical_key and e.status.finished:
                return e
        return None

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
