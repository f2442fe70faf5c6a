"""A named, resumable search: spec -> evaluator + strategy + database trials + MLflow.

The search engine (:mod:`surrogate_nas.pipelines.search`) knows nothing of SQL or
MLflow; :class:`SearchJob` wires it to both. Every evaluated architecture is stored as a
trial of the named search the moment it is known (a live training as soon as it is
stored), so rerunning the same command reads the trials back, tells them to the
strategy and continues to the budget without evaluating (or training) anything again.
One MLflow parent run logs the search across interruptions and resumes.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import MISSING, dataclass, fields
from pathlib import Path

from surrogate_nas.datasets import DatasetSpec, is_dataset
from surrogate_nas.errors import InputDataError
from surrogate_nas.records import Setting, Status, TrainConfig
from surrogate_nas.spaces import DEFAULT_SPACE, SearchSpace, get_space
from surrogate_nas.tables import BenchmarkTable, parse_fidelity_columns
from surrogate_nas.pipelines.execution.executors import check_execution, make_executor, threads_per_trial
from surrogate_nas.pipelines.live.evaluator import LiveBackend, LiveEvaluator
from surrogate_nas.pipelines.jobs.objective_words import resolve_terms
from surrogate_nas.pipelines.search.backends import Backend, SimulatedBackend
from surrogate_nas.pipelines.search.constraints import ConstraintSet
from surrogate_nas.pipelines.search.evaluators import Evaluator, TabularEvaluator
from surrogate_nas.pipelines.search.history import Trial
from surrogate_nas.pipelines.search.runner import SearchTrace, StepInfo, run_search
from surrogate_nas.pipelines.search.strategies import (
    Strategy,
    build_for_search,
    check_strategy_object,
    strategy_label,
    strategy_spec_of,
)
from surrogate_nas.pipelines.search.bo.resolve import check_surrogate, surrogate_label
from surrogate_nas.pipelines.live.trainer import DatabaseTrainer

_TRIAL_FIELDS = ("value", "test_value", "cost_s", "status", "message")

_IDENTITY_EXCLUDED = ("name", "budget", "wall_clock_s", "max_cost_s", "step_seconds", "data_dir", "device", "builder",
                      "workers",
                      "executor", "cpus_per_trial", "gpus_per_trial", "ray_address", "max_retries")
_LIVE_ONLY = ("epochs", "channels", "cells_per_stage", "preset", "augment", "image_size")
_TABLE_ONLY = ("minimize", "cost_column", "fidelity_columns")


@dataclass(frozen=True)
class SearchSpec:
    """Everything that defines a search; all but ``name``, ``budget``, ``wall_clock_s``,
    ``max_cost_s``, ``step_seconds``, ``data_dir``, ``device``, ``builder`` (part of the space's
    identity) and how evaluations run must match to resume it.

    ``benchmark`` is a dataset for live training (``digits``, ``cifar10``, a dataset plug-in, an
    image folder, a ``.npz`` file) or a table (a named one, a CSV, ``db[:DATASET]``); ``space`` a
    named space, a JSON/YAML file of choices (with ``builder``, ``module:function``) or a space.
    ``strategy``, ``surrogate`` and ``executor`` are names (plug-ins included), ``module:Name``
    or objects; the search stores their names (:func:`surrogate_nas.pipelines.search.strategies.strategy_label`).
    """

    benchmark: str
    space: str | SearchSpace = DEFAULT_SPACE
    strategy: object = "bo"
    surrogate: object = "gp"
    acquisition: str = "logei"
    metric: str | None = None
    objectives: tuple[str, ...] = ("accuracy",)
    budget: int = 100
    batch_size: int = 4
    seed: int = 0
    name: str | None = None
    wall_clock_s: float | None = None
    max_cost_s: float | None = None
    builder: str | None = None
    ref_point: tuple[float, ...] | None = None
    eta: float | None = None
    constraints: tuple[str, ...] = ()
    step_seconds: float | None = 3.0
    # tables only
    minimize: bool = False
    cost_column: str | None = None
    fidelity_columns: str | None = None
    # live training only
    epochs: int | None = None
    channels: int | None = None
    cells_per_stage: int | None = None
    preset: str | None = None
    augment: bool = False
    image_size: int | None = None
    data_dir: str | None = None
    device: str = "auto"
    # how evaluations run (not part of what the search is)
    workers: int = 1
    executor: object = None
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    ray_address: str | None = None
    max_retries: int = 1

    def __post_init__(self) -> None:
        if "surrogate" in self.strategy_spec().search_options:
            check_surrogate(self.surrogate)
        if self.budget < 1 or self.batch_size < 1 or self.workers < 1 or self.max_retries < 0:
            raise InputDataError("budget, batch size and workers must be >= 1, max retries >= 0")
        if not self.objectives:
            raise InputDataError("at least one objective is needed")
        if self.max_cost_s is not None and not self.max_cost_s > 0:
            raise InputDataError(f"--max-cost must be > 0 seconds, got {self.max_cost_s}")
        if self.eta is not None and not self.eta > 1:
            raise InputDataError(f"--eta must be > 1, got {self.eta}")
        if self.step_seconds is not None and not self.step_seconds > 0:
            raise InputDataError(f"--step-seconds must be > 0, got {self.step_seconds}")
        parse_fidelity_columns(self.fidelity_columns)
        self.search_space()
        if self.live:
            self.train_config()
            check_execution(self.executor, self.workers, self.cpus_per_trial, self.gpus_per_trial, self.ray_address)

    @property
    def live(self) -> bool:
        return is_dataset(self.benchmark)

    def strategy_spec(self):
        """The strategy's :class:`~surrogate_nas.pipelines.search.strategies.StrategySpec` (capabilities, search options)."""
        return strategy_spec_of(self.strategy)

    @property
    def strategy_label(self) -> str:
        name = strategy_label(self.strategy)  # "bo" names its surrogate, as stored searches of earlier releases do
        return f"bo-{surrogate_label(self.surrogate)}" if name == "bo" else name

    def search_space(self):
        return get_space(self.space, self.builder)

    def dataset_spec(self) -> DatasetSpec:
        return DatasetSpec(self.benchmark, self.data_dir, self.image_size, self.seed)

    def train_config(self) -> TrainConfig:
        if self.preset:
            return TrainConfig.preset(self.preset, epochs=self.epochs)
        return TrainConfig(epochs=self.epochs or 5, augment=self.augment)

    def resolved_name(self) -> str:
        if self.name:
            return self.name
        base = Path(self.benchmark).name.split(".")[0] if ("/" in self.benchmark or "." in self.benchmark) \
            else self.benchmark
        objectives = list(self.objectives)
        if not self.live and self.metric and objectives[0] == "accuracy":  # the target word stands for --metric
            objectives[0] = self.metric
        if not self.live and self.minimize:
            objectives[0] += "-min"
        parts = [self.strategy_label, base, "+".join(objectives), f"seed{self.seed}"]
        if self.constraints:
            parts.insert(3, "st-" + "+".join(c.replace(" ", "") for c in self.constraints))
        space = self.search_space().name
        if space != DEFAULT_SPACE:
            parts.insert(1, space)
        if self.live:
            parts.append(f"{self.network().label()}-{self.train_config().epochs}ep")
        return "-".join(parts)

    def network(self):
        return self.search_space().network_config(self.channels, self.cells_per_stage)

    def identity(self) -> dict:
        """The config a resumed search must match."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        for k in _IDENTITY_EXCLUDED:
            d.pop(k)
        d["strategy"], d["surrogate"] = strategy_label(self.strategy), surrogate_label(self.surrogate, short=False)
        takes = self.strategy_spec().search_options
        if "eta" in takes:  # the promotion rate the strategy will use, given or its own default
            d["eta"] = self.eta if self.eta is not None else self.strategy_spec().default("eta")
        else:
            d.pop("eta")
        d["objectives"] = list(self.objectives)
        d["constraints"] = list(self.constraints)
        d["space"] = self.search_space().name
        if self.live:
            net, train = self.network(), self.train_config()
            d["channels"], d["cells_per_stage"], d["epochs"] = net.channels, net.cells_per_stage, train.epochs
            for k in _TABLE_ONLY:
                d.pop(k)
        else:
            for k in _LIVE_ONLY:
                d.pop(k)
        return d

    @classmethod
    def identity_defaults(cls) -> dict:
        """Values that identity keys added after a search was stored stand for."""
        return {f.name: list(f.default) if isinstance(f.default, tuple) else f.default for f in fields(cls)
                if f.name not in _IDENTITY_EXCLUDED and f.default is not MISSING}


def trial_values(trial: Trial) -> dict:
    """A trial as the JSON dict stored in the database (non-finite values become null)."""
    values = {k: (None if not math.isfinite(v) else v) for k, v in trial.objectives.items()}
    values["value"] = trial.value
    values["test_value"] = trial.test_value
    values["cost_s"] = trial.cost_s
    if trial.status != "ok":
        values["status"], values["message"] = trial.status, trial.message
    return values


def trial_from_stored(space, arch: str, values: dict, fidelity: float = 1.0) -> Trial:
    """The inverse of :func:`trial_values`."""
    objectives = {k: (float("nan") if v is None else float(v)) for k, v in values.items()
                  if k not in _TRIAL_FIELDS}
    return Trial(space.parse(arch), float(values["value"]), objectives, values.get("test_value"),
                 float(values.get("cost_s") or 0), fidelity, values.get("status", "ok"), values.get("message", ""))


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


@dataclass(frozen=True)
class SearchOutcome:
    """What :meth:`SearchJob.run` returns."""

    trace: SearchTrace
    name: str
    new: int
    resumed: int
    trained_here: int = 0
    """Of the ``new`` trials, those this process trained itself (others were stored by other workers)."""


class SearchJob:
    """One named search over a table or with live training; rerunning it resumes it.

    Args:
        spec: the search.
        store: the architecture database (trials, and live trainings).
        table: the benchmark table (tabular searches only).
        tracker: a :class:`~surrogate_nas.pipelines.tracking.tracker.Tracker`, or None for no MLflow.
    """

    def __init__(self, spec: SearchSpec, store, table: BenchmarkTable | None = None, tracker=None) -> None:
        if not spec.live and table is None:
            raise InputDataError(f"benchmark {spec.benchmark!r} is a table; pass it (or a dataset name for live)")
        self.spec, self.store, self.table, self.tracker = spec, store, table, tracker
        space = spec.search_space()
        if table is not None and table.space.name != space.name:
            raise InputDataError(f"table {table.name} holds {table.space.name} architectures, "
                                 f"not {space.name}; pass --space {table.space.name}")
        self.space = (space if table is None else table.search_space()).with_cache(store)
        self.terms = resolve_terms(spec.objectives, spec.constraints, table, self.space)
        self.objectives = self.terms.objectives
        self._user_ref_point()  # checked before anything is stored
        self._check_strategy(table)
        if table is not None and self.terms.constraints:  # a table knows whether any row is feasible
            known = TabularEvaluator(table, objectives=[c.name for c in self.terms.constraints],
                                     metrics=self.terms.metrics).known()
            ConstraintSet(self.terms.constraints, known).restrict(self.space)
        self.name = spec.resolved_name()
        # Loaded here, so a missing dataset fails before a progress bar or a search row exists.
        self.data = (spec.dataset_spec(), spec.dataset_spec().load()) if spec.live else None

    def run(self, on_step=None, on_start=None, on_activity=None, on_notice=None) -> SearchOutcome:
        """Run or resume the search.

        Args:
            on_step: called with each :class:`~surrogate_nas.pipelines.search.runner.StepInfo`.
            on_start: called with the number of trials resumed from earlier runs, before
                anything new is evaluated.
            on_activity, on_notice: see :func:`~surrogate_nas.pipelines.search.runner.run_search`.
        """
        spec, store = self.spec, self.store
        search_id = store.get_or_create_search(self.name, spec.identity(), SearchSpec.identity_defaults())
        done = [trial_from_stored(self.space, t.arch, t.values, t.fidelity)
                for t in sorted(store.trials(search_id), key=lambda t: t.step)]
        if on_start is not None:
            on_start(len(done))
        parent = self._parent_run(search_id, len(done))
        if parent is not None:
            self._log_missed_trainings(search_id, parent)
        recorder = TrialRecorder(store, search_id, done, self.space, self.tracker, parent, on_step)
        recorder.ref_point = self._user_ref_point() or store.search(self.name).ref_point
        evaluator = None
        try:
            evaluator, backend, warm = self._evaluator(recorder, {t.key for t in done})
            constraints = ConstraintSet(self.terms.constraints, evaluator.known())
            given = {"eta": spec.eta} if spec.eta is not None else {}  # else the strategy's own default
            strategy = build_for_search(spec.strategy, self.space, self.objectives, spec.seed, constraints,
                                        surrogate=spec.surrogate, acquisition=spec.acquisition,
                                        step_seconds=spec.step_seconds, **given)
            trace = run_search(strategy, evaluator, budget=spec.budget + len(warm), wall_clock_s=spec.wall_clock_s,
                               batch_size=spec.batch_size, objectives=self.objectives, initial=warm, replay=done,
                               callback=recorder, ref_point=recorder.ref_point, backend=backend,
                               max_cost_s=spec.max_cost_s, constraints=constraints, on_activity=on_activity,
                               on_notice=on_notice)
            if parent is not None:
                self._log_artifacts(parent, trace)
        except KeyboardInterrupt:
            if parent is not None:
                self.tracker.end_run(parent, "KILLED")
            raise
        except BaseException:
            if parent is not None:
                self.tracker.end_run(parent, "FAILED")
            raise
        finally:
            if isinstance(evaluator, LiveEvaluator):
                evaluator.trainer.close()
        if parent is not None:
            self.tracker.end_run(parent, "FINISHED")
        if spec.live:
            self._drop_checkpoints(search_id)
        trained_here = evaluator.trained if isinstance(evaluator, LiveEvaluator) else 0
        return SearchOutcome(trace, self.name, recorder.new, len(done), trained_here)

    def _parent_run(self, search_id: int, resumed: int):
        if self.tracker is None:
            return None
        info = self.store.search(self.name)
        ref = self.tracker.resume_run(info.mlflow_run_id) if info and info.mlflow_run_id else None
        if ref is None:
            params = {**{k: v for k, v in self.spec.identity().items() if v is not None and k != "objectives"},
                      "objectives": ",".join(self.spec.objectives), "search_name": self.name,
                      "constraints": "; ".join(self.spec.constraints) or "-",
                      "budget": self.spec.budget}
            ref = self.tracker.start_run(f"search-{self.name}", params=params, tags={
                "kind": "search", "search_name": self.name, "strategy": self.spec.strategy_label,
                "space": self.space.name})
            if ref is None:
                return None
            self.store.set_search_run(search_id, ref.run_id)
        self.tracker.log(ref, metrics={"resumed_trials": resumed}, step=resumed)
        return ref

    def _user_ref_point(self) -> tuple[float, ...] | None:
        """``--ref-point`` (objective units) in the "maximise everything" space, or None."""
        given = self.spec.ref_point
        if given is None:
            return None
        if len(given) != len(self.objectives):
            raise InputDataError(f"--ref-point needs {len(self.objectives)} values, one per objective, got {len(given)}")
        return tuple(o.sign * float(v) for o, v in zip(self.objectives, given))

    def _log_missed_trainings(self, search_id: int, parent) -> None:
        """Log to MLflow the trainings of this search that a killed process stored but never logged."""
        for trial in self.store.trials(search_id):
            e = self.store.evaluation(trial.evaluation_id) if trial.evaluation_id is not None else None
            if e is not None and e.status.finished and e.mlflow_run_id is None:
                ref = self.tracker.log_evaluation(e, parent)
                if ref is not None:
                    self.store.set_mlflow_run_id(e.id, ref.run_id)

    def _evaluator(self, recorder: TrialRecorder, own: set[str]) -> tuple[Evaluator, Backend | None, list[Trial]]:
        """The evaluator, the backend that runs its evaluations (None: synchronous batches), warm-start trials."""
        spec = self.spec
        reported = list(dict.fromkeys([*(o.name for o in self.objectives), *(c.name for c in self.terms.constraints)]))
        if not spec.live:
            evaluator = TabularEvaluator(self.table, objectives=reported, metrics=self.terms.metrics)
            return evaluator, SimulatedBackend(evaluator, spec.workers) if spec.workers > 1 else None, []
        data_spec, data = self.data
        setting = Setting(self.space.name, data.name, spec.network(), spec.train_config(), spec.seed)
        executor = make_executor(spec.executor, spec.workers, spec.cpus_per_trial, spec.gpus_per_trial,
                                 spec.ray_address)
        trainer = DatabaseTrainer(self.store, self.space, (data_spec, data), setting, spec.device, executor=executor,
                                  max_retries=spec.max_retries, threads=threads_per_trial(spec.cpus_per_trial),
                                  on_wait=_say)
        evaluator = LiveEvaluator(trainer, on_result=recorder.trained, metrics=self.terms.metrics)
        backend = LiveBackend(evaluator, batch_size=None if executor.slots > 1 else spec.batch_size)
        return evaluator, backend, self._warm_start(evaluator, setting, own)

    def _warm_start(self, evaluator: LiveEvaluator, setting: Setting, own: set[str]) -> list[Trial]:
        """Evaluations the database already holds for the same setting (not trials of this search)."""
        out, seen = [], set(own)
        for e in self.store.evaluations(setting=setting, status="ok"):
            if e.canonical_key in seen:
                continue
            seen.add(e.canonical_key)
            obs = evaluator.from_evaluation(e)
            out.append(Trial(self.space.parse(e.arch), obs.value, obs.objectives, obs.test_value, obs.cost_s))
        return out

    def _check_strategy(self, table: BenchmarkTable | None) -> None:
        """The strategy can search these objectives at these fidelities (before anything is stored)."""
        spec, registered, name = self.spec, self.spec.strategy_spec(), strategy_label(self.spec.strategy)
        if isinstance(spec.strategy, Strategy):
            check_strategy_object(spec.strategy, self.space, self.objectives, spec.seed, self.terms.constraints)
        if len(self.objectives) > 1 and not registered.multi_objective:
            raise InputDataError(f"strategy {name!r} is single-objective; got {len(self.objectives)} "
                                 "objectives")
        several = len(table.fidelities) > 1 if table is not None else spec.train_config().epochs > 1
        if registered.multi_fidelity and not several:
            raise InputDataError(
                f"strategy {name!r} needs several fidelities: a table with fidelity columns (the NB-201 "
                "tables, or --fidelity-columns) or a live search over more than one epoch (--epochs)")

    def _drop_checkpoints(self, search_id: int) -> None:
        """Delete the checkpoints of this search's paused evaluations once it is complete.

        They are kept while the search may resume (it was interrupted); afterwards a paused
        candidate that is promoted after all (a longer rerun, another search) trains again
        from its first epoch.
        """
        checkpoints = self.store.checkpoints
        for trial in self.store.trials(search_id):
            e = self.store.evaluation(trial.evaluation_id) if trial.evaluation_id is not None else None
            if e is not None and e.status is Status.PAUSED and e.checkpoint:
                self.store.forget_checkpoint(e.id)
                checkpoints.delete(e.checkpoint)

    def _log_artifacts(self, parent, trace: SearchTrace) -> None:
        from surrogate_nas.pipelines.search.benchmark import plot_regret
        from surrogate_nas.pipelines.search.pareto import plot_pareto
        from surrogate_nas.pipelines.search.plotting import plot_rungs

        with tempfile.TemporaryDirectory() as tmp:
            trace.frame.to_csv(Path(tmp) / "trace.csv", index=False)
            if len(trace.objectives) > 1:
                front = trace.pareto_front()
                front.to_csv(Path(tmp) / "pareto_front.csv", index=False)
                plot_pareto({trace.strategy: front}, trace.objectives, path=Path(tmp) / "pareto_front.png")
            elif trace.frame["regret"].notna().any():
                curves = trace.frame.assign(strategy=trace.strategy, seed=0)
                plot_regret(curves, path=Path(tmp) / "regret.png")
            if (trace.frame["fidelity"] < 1).any():
                plot_rungs(trace.frame, path=Path(tmp) / "rungs.png")
            for f in sorted(Path(tmp).iterdir()):
                self.tracker.log_artifact(parent, f)


def _say(line: str) -> None:
    """A notice on stderr, above any progress bar."""
    import sys

    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)
