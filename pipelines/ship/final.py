"""Final training: the chosen architecture trained from scratch with K seeds and the full recipe.

Each seed is an evaluation of the database like any other (its training seed and data split,
as ``seed --seed S`` would make it), trained on the live executors (``--workers``, Ray, GPUs)
through :class:`~surrogate_nas.pipelines.live.trainer.DatabaseTrainer`, a quarter of the epochs
at a time with a checkpoint after each quarter: a killed final training, rerun, continues from
the last checkpoint of every seed, and a finished seed is never trained again. The seed with the
best validation accuracy is the one exported (the test split never chooses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import Evaluation, Setting, Status


@dataclass(frozen=True)
class FinalTraining:
    """The seeds' stored evaluations and the chosen one (best validation accuracy)."""

    evaluations: tuple[Evaluation, ...]
    chosen: Evaluation

    def summary(self) -> dict:
        """Test accuracy mean and standard deviation over the seeds, each seed's, and the chosen seed (JSON-safe)."""
        tests = np.array([e.test_acc for e in self.evaluations], dtype=float)
        return {"epochs": self.chosen.epochs, "seeds": [e.seed for e in self.evaluations],
                "test_accuracies": tests.tolist(), "test_accuracy_mean": float(tests.mean()),
                "test_accuracy_sd": float(tests.std(ddof=1)) if len(tests) > 1 else 0.0,
                "valid_accuracies": [e.valid_acc for e in self.evaluations], "chosen_seed": self.chosen.seed}


def final_training(target, epochs: int, seeds: int, store, execution, device: str = "auto",
                   progress=None) -> tuple[FinalTraining, object, bytes]:
    """Train ``target`` with ``seeds`` seeds (``target.seed`` onwards) for ``epochs`` epochs each.

    Returns:
        The :class:`FinalTraining`, the :class:`~.targets.ExportTarget` of the chosen seed and its weights.

    Raises:
        InputDataError: a seed that failed or that another live worker holds.
    """
    from surrogate_nas.pipelines.live.trainer import DatabaseTrainer
    from surrogate_nas.training import train

    if int(epochs) < 1 or int(seeds) < 1:
        raise InputDataError(f"--retrain-epochs and --seeds must be >= 1, got {epochs} and {seeds}")
    recipe = replace(target.train, epochs=int(epochs))
    runs = []
    for seed in range(target.seed, target.seed + int(seeds)):
        spec = replace(target.data, seed=seed)
        data = spec.load()
        runs.append((seed, (spec, data), Setting(target.space.name, data.name, target.network, recipe, seed)))
    step = max(1, math.ceil(int(epochs) / 4))
    levels = [*range(step, int(epochs), step), int(epochs)]
    first = runs[0]
    trainer = DatabaseTrainer(store, target.space, first[1], first[2], device, executor=execution.make(),
                              max_retries=execution.max_retries, threads=execution.threads, keep_weights=True)
    with trainer:
        for level in levels:
            outcomes = []
            for _, data, setting in runs:
                while trainer.free <= 0:
                    outcomes += trainer.poll()
                outcome = trainer.start(target.arch, setting, stop_after=level if level < int(epochs) else None,
                                        data=data)
                if outcome is not None:
                    outcomes.append(outcome)
            while trainer.running:
                outcomes += trainer.poll()
            for o in outcomes:
                if o.failed or o.skipped:
                    raise InputDataError(f"final training of seed {o.setting.seed} stopped: {o.failed or o.skipped}")
            if progress is not None:
                progress(f"final training: {level} of {epochs} epochs done for {len(runs)} seed(s)")
    evaluations = tuple(store.lookup(target.space, target.arch, setting) for _, _, setting in runs)
    for e in evaluations:
        if e is None or e.status is not Status.OK:
            raise InputDataError(f"final training of {target.arch.to_string()} did not finish: "
                                 f"{'missing' if e is None else e.status.value + ' ' + e.message}")
    chosen = max(evaluations, key=lambda e: e.valid_acc)
    seed, data, setting = next(r for r in runs if r[0] == chosen.seed)
    chosen_target = replace(target, train=recipe, seed=seed, data=data[0], evaluation=chosen)
    weights = store.weights.get(str(store.weights.path(chosen.id)))
    if weights is None:  # trained before weights were kept: the same training again gives the same weights
        weights = train(target.space, target.arch, target.network, recipe, data[1], seed, device,
                        keep_weights=True).weights
    return FinalTraining(evaluations, chosen), chosen_target, weights

