"""A named, resumable search: config -> evaluator + strategy + database trials + MLflow.

The search engine (:mod:`surrogate_nas.pipelines.search`) knows nothing of SQL or
MLflow; :class:`SearchJob` wires it to both. Every evaluated architecture is stored as a
trial of the named search the moment it is known (a live training as soon as it is
stored, :mod:`.recorder`), so rerunning the same command reads the trials back
(:mod:`.trials`), tells them to the strategy and continues to the budget without evaluating
(or training) anything again. One MLflow parent run logs the search across interruptions and
resumes. What the search is comes from a :class:`~.config.SearchConfig`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import Setting, Status
from surrogate_nas.tables import BenchmarkTable
from surrogate_nas.pipelines.jobs.config import SearchConfig
from surrogate_nas.pipelines.jobs.kept_weights import prune_weights
from surrogate_nas.pipelines.jobs.objective_words import resolve_terms
from surrogate_nas.pipelines.jobs.priors import resolve_prior
from surrogate_nas.pipelines.jobs.recorder import TrialRecorder
from surrogate_nas.pipelines.jobs.trials import trial_from_stored
from surrogate_nas.pipelines.live.evaluator import LiveBackend, LiveEvaluator
from surrogate_nas.pipelines.live.trainer import DatabaseTrainer
from surrogate_nas.pipelines.search.backends import Backend, SimulatedBackend
from surrogate_nas.pipelines.search.constraints import ConstraintSet
from surrogate_nas.pipelines.search.evaluators import Evaluator, TabularEvaluator
from surrogate_nas.pipelines.search.history import Trial
from surrogate_nas.pipelines.search.runner import SearchTrace, run_search
from surrogate_nas.pipelines.search.strategies import (
    Strategy,
    build_for_search,
    check_strategy_object,
    strategy_label,
)


@dataclass(frozen=True)
class SearchOutcome:
    """What :meth:`SearchJob.run` returns."""

    trace: SearchTrace
    name: str
    new: int
    resumed: int
    trained_here: int = 0
    """Of the ``new`` trials, those this process trained itself (others were stored by other workers)."""
    kept_weights: tuple[int, int] = (0, 0)
    """Trainings of this search whose weights are kept beside the database, and the bytes they take."""
    prior_trust: list = field(default_factory=list)
    """How much the strategy trusted each prior source (:class:`~..search.prior.SourceTrust`)."""


class SearchJob:
    """One named search over a table or with live training; rerunning it resumes it.

    Args:
        config: the search.
        store: the architecture database (trials, and live trainings).
        table: the benchmark table (tabular searches only).
        tracker: a :class:`~surrogate_nas.pipelines.tracking.tracker.Tracker`, or None for no MLflow.
    """

    def __init__(self, config: SearchConfig, store, table: BenchmarkTable | None = None, tracker=None) -> None:
        if not config.live and table is None:
            raise InputDataError(f"benchmark {config.benchmark!r} is a table; pass it (or a dataset name for live)")
        self.config, self.store, self.table, self.tracker = config, store, table, tracker
        space = config.search_space()
        if table is not None and table.space.name != space.name:
            raise InputDataError(f"table {table.name} holds {table.space.name} architectures, "
                                 f"not {space.name}; pass --space {table.space.name}")
        self.space = (space if table is None else table.search_space()).with_cache(store)
        # Loaded here, so a missing dataset fails before a progress bar or a search row exists.
        self.data = (config.dataset_spec(), config.dataset_spec().load()) if config.live else None
        measured = (config.network(), self.data[1].input_shape, self.data[1].num_classes) if config.live else None
        self.terms = resolve_terms(config.objectives, config.constraints, table, self.space, measured)
        self.objectives = self.terms.objectives
        if config.live:
            from surrogate_nas.device import resolve_device

            resolve_device(config.evaluation.device)
            config.network()
        self._user_ref_point()  # checked before anything is stored
        self._check_strategy(table)
        if table is not None and self.terms.constraints:  # a table knows whether any row is feasible
            known = TabularEvaluator(table, objectives=[c.name for c in self.terms.constraints],
                                     metrics=self.terms.metrics).known()
            ConstraintSet(self.terms.constraints, known).restrict(self.space)
        self.name = config.resolved_name()
        self.prior = resolve_prior(config.prior, self.space, store, table, self.data[1].name if config.live else None)

    def run(self, on_step=None, on_start=None, on_activity=None, on_notice=None) -> SearchOutcome:
        """Run or resume the search.

        Args:
            on_step: called with each :class:`~surrogate_nas.pipelines.search.runner.StepInfo`.
            on_start: called with the number of trials resumed from earlier runs, before
                anything new is evaluated.
            on_activity, on_notice: see :func:`~surrogate_nas.pipelines.search.runner.run_search`.
        """
        config, store = self.config, self.store
        search_id = store.get_or_create_search(self.name, config.identity(), SearchConfig.identity_defaults())
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
            given = {"eta": config.eta} if config.eta is not None else {}  # else the strategy's own default
            strategy = build_for_search(config.strategy, self.space, self.objectives, config.seed, constraints,
                                        surrogate=config.surrogate, acquisition=config.acquisition,
                                        step_seconds=config.step_seconds, prior=self.prior, **given)
            trace = run_search(strategy, evaluator, budget=config.budget + len(warm),
                               wall_clock_s=config.wall_clock_s, batch_size=config.batch_size,
                               objectives=self.objectives, initial=warm, replay=done,
                               callback=recorder, ref_point=self._user_ref_point(),
                               trace_ref_point=recorder.ref_point, backend=backend,
                               max_cost_s=config.max_cost_s, constraints=constraints, on_activity=on_activity,
                               on_notice=on_notice)
            report = strategy.prior_report() if self.prior is not None else None
            if parent is not None:
                self._log_artifacts(parent, trace)
                if report:
                    self.tracker.log(parent, metrics={f"prior_trust_{i}": s.trust for i, s in enumerate(report)
                                                      if s.trust is not None})
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
        kept = (0, 0)
        if config.live:
            self._drop_checkpoints(search_id)
            kept = self._keep_weights(search_id, trace)
        trained_here = evaluator.trained if isinstance(evaluator, LiveEvaluator) else 0
        return SearchOutcome(trace, self.name, recorder.new, len(done), trained_here, kept, report or [])

    def _parent_run(self, search_id: int, resumed: int):
        if self.tracker is None:
            return None
        info = self.store.search(self.name)
        ref = self.tracker.resume_run(info.mlflow_run_id) if info and info.mlflow_run_id else None
        if ref is None:
            params = {**{k: v for k, v in self.config.identity().items()
                         if v is not None and k not in ("objectives", "prior")},
                      "objectives": ",".join(self.config.objectives), "search_name": self.name,
                      "constraints": "; ".join(self.config.constraints) or "-",
                      **({"prior": ",".join(self.prior.labels)} if self.prior is not None else {}),
                      "budget": self.config.budget}
            ref = self.tracker.start_run(f"search-{self.name}", params=params, tags={
                "kind": "search", "search_name": self.name, "strategy": self.config.strategy_label,
                "space": self.space.name})
            if ref is None:
                return None
            self.store.set_search_run(search_id, ref.run_id)
        self.tracker.log(ref, metrics={"resumed_trials": resumed}, step=resumed)
        return ref

    def _user_ref_point(self) -> tuple[float, ...] | None:
        """``--ref-point`` (objective units) in the "maximise everything" space, or None."""
        given = self.config.ref_point
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
        config, execution = self.config, self.config.execution
        reported = list(dict.fromkeys([*(o.name for o in self.objectives), *(c.name for c in self.terms.constraints)]))
        if not config.live:
            evaluator = TabularEvaluator(self.table, objectives=reported, metrics=self.terms.metrics)
            return evaluator, SimulatedBackend(evaluator, execution.workers) if execution.workers > 1 else None, []
        data_spec, data = self.data
        setting = Setting(self.space.name, data.name, config.network(), config.train_config(), config.seed)
        executor = execution.make()
        trainer = DatabaseTrainer(self.store, self.space, (data_spec, data), setting, config.evaluation.device,
                                  executor=executor, max_retries=execution.max_retries, threads=execution.threads,
                                  on_wait=_say, keep_weights=config.evaluation.keep_weights != "none")
        evaluator = LiveEvaluator(trainer, on_result=recorder.trained, metrics=self.terms.metrics)
        backend = LiveBackend(evaluator, batch_size=None if executor.slots > 1 else config.batch_size)
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
        config, registered, name = self.config, self.config.strategy_spec(), strategy_label(self.config.strategy)
        if isinstance(config.strategy, Strategy):
            check_strategy_object(config.strategy, self.space, self.objectives, config.seed, self.terms.constraints)
        if len(self.objectives) > 1 and not registered.multi_objective:
            raise InputDataError(f"strategy {name!r} is single-objective; got {len(self.objectives)} "
                                 "objectives")
        if config.prior and "prior" not in registered.search_options:
            raise InputDataError(f"strategy {name!r} takes no prior; use bo or mf-bo with --prior")
        if config.prior and isinstance(config.strategy, Strategy):
            raise InputDataError(f"a search with a prior builds its strategy for it: pass {name}'s class or name "
                                 "rather than an object")
        several = len(table.fidelities) > 1 if table is not None else config.train_config().epochs > 1
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

    def _keep_weights(self, search_id: int, trace: SearchTrace) -> tuple[int, int]:
        """Delete the kept weights of this search's trainings that ``--keep-weights`` does not keep
        (``auto``: the best and the front); return how many are kept and their bytes."""
        ids = {self.space.parse(t.arch).canonical_key: t.evaluation_id for t in self.store.trials(search_id)
               if t.evaluation_id is not None}
        best = [ids.get(trace.best.key)] if trace.best is not None else []
        front = [ids.get(self.space.parse(a).canonical_key) for a in trace.pareto_front()["arch"]] \
            if len(trace.objectives) > 1 else []
        return prune_weights(self.store, self.config.evaluation.keep_weights, ids.values(),
                             [i for i in best if i is not None], [i for i in front if i is not None])

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
