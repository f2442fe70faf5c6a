"""The listener that stores a search's trials as they are known, and logs them to MLflow."""

from __future__ import annotations

from surrogate_nas.pipelines.jobs.trials import trial_values
from surrogate_nas.pipelines.search.history import Trial
from surrogate_nas.pipelines.search.runner import StepInfo


class TrialRecorder:
    """Stores a search's trials in the database, each once, with increasing step numbers.

    It is also the search's two listeners: the runner's step callback (record the step's
    trials, log the step to MLflow, pass it on) and the live evaluator's ``on_result``
    (record and log a training the moment it is stored, so a kill mid-batch never
    orphans one).
    """

    def __init__(self, store, search_id: int, done: list[Trial], space, tracker=None, parent=None,
                 on_step=None) -> None:
        self.store, self.search_id, self.space = store, search_id, space
        self.tracker, self.parent, self.on_step = tracker, parent, on_step
        self.recorded = {(t.key, t.fidelity) for t in done}
        self.step = len(done)
        self.new = 0
        self.ref_point: tuple[float, ...] | None = None

    def record(self, trial: Trial, evaluation_id: int | None = None) -> None:
        if (trial.key, trial.fidelity) in self.recorded:
            return
        self.recorded.add((trial.key, trial.fidelity))
        self.step += 1
        self.new += 1
        self.store.add_trial(self.search_id, self.step, trial.arch.to_string(), trial_values(trial),
                             evaluation_id=evaluation_id, cost_seconds=trial.cost_s, fidelity=trial.fidelity)

    def __call__(self, info: StepInfo) -> None:
        if info.ref_point is not None and self.ref_point is None:
            self.ref_point = tuple(float(v) for v in info.ref_point)
            self.store.set_search_ref_point(self.search_id, self.ref_point)
        replayed = all((t.key, t.fidelity) in self.recorded for t in info.trials)
        for trial in info.trials:
            self.record(trial)
        if self.parent is not None and not replayed:  # a replayed step was logged by the run that stored it
            self.tracker.log_step(self.parent, info.rows, info.timing)
        if self.on_step is not None:
            self.on_step(info)

    def trained(self, result, evaluation_id: int, obs, fidelity: float = 1.0) -> None:
        self.record(Trial(self.space.parse(result.arch), obs.value, obs.objectives, obs.test_value, obs.cost_s,
                          fidelity), evaluation_id)
        if self.parent is not None:
            self.tracker.record_training(self.store, result, self.parent, evaluation_id)
