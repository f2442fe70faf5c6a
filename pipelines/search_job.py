"""A named, resumable search: evaluator + strategy + database trials + MLflow.

The search engine (:mod:`surrogate_nas.pipelines.search`) knows nothing of
SQL or MLflow; this module wires it to both. Every evaluated architecture is
stored as a trial of the named search, so rerunning the same command reads
the trials back as the initial history and continues to the budget without
evaluating (or training) anything again.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from surrogate_nas.datasets import DATASETS, load_dataset
from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig, TrainConfig
from surrogate_nas.tables import BenchmarkTable
from surrogate_nas.pipelines.live_evaluator import LiveEvaluator
from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
from surrogate_nas.pipelines.search.history import Trial
from surrogate_nas.pipelines.search.runner import SearchTrace, StepInfo, run_search
from surrogate_nas.pipelines.search.strategies import make_strategy

LIVE_OBJECTIVES = ("valid_acc", "params", "flops")
MINIMISED = ("params", "flops", "latency", "train", "cost", "size")
STRATEGY_NAMES = ("bo", "rs", "rea", "ls")


@dataclass(frozen=True)
class SearchSpec:
    """Everything that defines a search; all but ``name``, ``budget`` and ``wall_clock_s`` must match to resume."""

    benchmark: str
    strategy: str = "bo"
    surrogate: str = "gp"
    acquisition: str = "logei"
    metric: str | None = None
    objectives: tuple[str, ...] = ("accuracy",)
    budget: int = 100
    batch_size: int = 4
    seed: int = 0
    name: str | None = None
    wall_clock_s: float | None = None
    # live training only
    epochs: int = 5
    channels: int = 16
    cells_per_stage: int = 1
    data_dir: str | None = None
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGY_NAMES:
            raise InputDataError(f"unknown strategy {self.strategy!r}; expected one of {', '.join(STRATEGY_NAMES)}")
        if self.budget < 1 or self.batch_size < 1:
            raise InputDataError("budget and batch size must be >= 1")
        if not self.objectives:
            raise InputDataError("at least one objective is needed")

    @property
    def live(self) -> bool:
        return self.benchmark in DATASETS

    @property
    def strategy_label(self) -> str:
        return f"bo-{self.surrogate}" if self.strategy == "bo" else self.strategy

    def resolved_name(self) -> str:
        if self.name:
            return self.name
        base = Path(self.benchmark).stem if self.benchmark.endswith(".csv") else self.benchmark
        parts = [self.strategy_label, base, "+".join(self.objectives), f"seed{self.seed}"]
        if self.live:
            parts.append(f"C{self.channels}N{self.cells_per_stage}-{self.epochs}ep")
        return "-".join(parts)

    def identity(self) -> dict:
        """The config a resumed search must match."""
        d = asdict(self)
        for k in ("name", "budget", "wall_clock_s", "data_dir", "device"):
            d.pop(k)
        d["objectives"] = list(self.objectives)
        return d


def objective_columns(objectives, table: BenchmarkTable | None) -> list[str]:
    """Map user objective words to evaluator columns with a direction (``column:max|min``).

    Raises:
        InputDataError: a word matches no column (tables) or no live objective.
    """
    out = []
    for word in objectives:
        name, _, direction = word.partition(":")
        if table is None:
            column = {"accuracy": "valid_acc"}.get(name, name)
            if column not in LIVE_OBJECTIVES:
                raise InputDataError(f"objective {name!r} cannot be searched with live training; "
                                     "expected accuracy, params or flops")
        else:
            column = _table_column(name, table)
        if not direction:
            direction = "min" if any(column.startswith(m) or name.startswith(m) for m in MINIMISED) else "max"
        out.append(f"{column}:{direction}")
    return out


def _table_column(name: str, table: BenchmarkTable) -> str:
    columns = [c for c in table.frame.columns if c != "arch"]
    if name == "accuracy":
        return table.target
    if name == "params" and table.size_column:
        return table.size_column
    if name in columns:
        return name
    matches = [c for c in columns if c.startswith(name)]
    if len(matches) == 1 or (matches and name == "latency"):
        return matches[0]
    raise InputDataError(f"objective {name!r} matches no column of {table.name}; columns: {', '.join(columns)}")


def trial_values(trial: Trial) -> dict:
    """A trial as the JSON dict stored in the database (non-finite values become null)."""
    values = {k: (None if not math.isfinite(v) else v) for k, v in trial.objectives.items()}
    values["value"] = trial.value
    values["test_value"] = trial.test_value
    values["cost_s"] = trial.cost_s
    return values


def trial_from_stored(arch: str, values: dict) -> Trial:
    """The inverse of :func:`trial_values`."""
    objectives = {k: (float("nan") if v is None else float(v)) for k, v in values.items()
                  if k not in ("value", "test_value", "cost_s")}
    return Trial(arch, float(values["value"]), objectives, values.get("test_value"), float(values.get("cost_s") or 0))


def run_search_job(spec: SearchSpec, store, table: BenchmarkTable | None = None, tracker=None,
                   on_step=None) -> tuple[SearchTrace, str, int]:
    """Run or resume the search ``spec``; returns the trace, the search name and how many were new.

    ``table`` is required for tabular searches (``spec.benchmark`` not a dataset).
    """
    objectives = objective_columns(spec.objectives, None if spec.live else table)
    name = spec.resolved_name()
    search_id = store.get_or_create_search(name, spec.identity())
    done = [trial_from_stored(t.arch, t.values) for t in sorted(store.trials(search_id), key=lambda t: t.step)]

    params = {**{k: v for k, v in asdict(spec).items() if v is not None and k != "objectives"},
              "objectives": ",".join(spec.objectives), "search_name": name, "resumed_trials": len(done)}
    tags = {"kind": "search", "search_name": name, "strategy": spec.strategy_label}
    with (tracker.run(f"search-{name}", params=params, tags=tags) if tracker else nullcontext()) as parent:
        trace, new = _run(spec, store, table, tracker, parent, search_id, done, objectives, on_step)
        if tracker is not None:
            _log_artifacts(tracker, parent, trace)
    return trace, name, new


def _run(spec, store, table, tracker, parent, search_id, done, objectives, on_step) -> tuple[SearchTrace, int]:
    """Build the evaluator and strategy, record each new trial in the database, run the loop."""
    recorded = {t.key for t in done}
    step = len(done)

    def record(trial: Trial, evaluation_id: int | None = None) -> None:
        nonlocal step
        if trial.key in recorded:
            return
        recorded.add(trial.key)
        step += 1
        store.add_trial(search_id, step, trial.cell.to_string(), trial_values(trial),
                        evaluation_id=evaluation_id, cost_seconds=trial.cost_s)

    warm: list[Trial] = []
    if spec.live:
        network = NetworkConfig(spec.channels, spec.cells_per_stage)
        train_config = TrainConfig(epochs=spec.epochs)
        data = load_dataset(spec.benchmark, spec.data_dir, seed=spec.seed)

        def log_training(result, eval_id, obs):
            # Recorded as soon as it is trained, so a kill mid-batch never orphans a training.
            record(Trial(result.arch, obs.value, obs.objectives, obs.test_value, obs.cost_s), eval_id)
            if tracker is not None:
                store.set_mlflow_run_id(eval_id, tracker.log_training(result, parent).run_id)

        evaluator = LiveEvaluator(store, data, network, train_config, spec.seed, spec.device, on_result=log_training)
        warm = _warm_start(store, evaluator, {t.key for t in done})
    else:
        evaluator = TabularEvaluator(table, objectives=objectives)

    strategy_options = {"surrogate": spec.surrogate, "acquisition": spec.acquisition} if spec.strategy == "bo" else {}
    strategy = make_strategy(spec.strategy, seed=spec.seed, objectives=objectives, **strategy_options)

    def callback(info: StepInfo):
        if info.batch > 0:
            for trial in info.trials:
                record(trial)
        if tracker is not None and info.batch > 0:
            _log_step(tracker, parent, info.rows)
        if on_step is not None:
            on_step(info)

    trace = run_search(strategy, evaluator, budget=spec.budget + len(warm), wall_clock_s=spec.wall_clock_s,
                       batch_size=spec.batch_size, seed=spec.seed, objectives=objectives, initial=warm + done,
                       callback=callback)
    return trace, step - len(done)


def _warm_start(store, evaluator: LiveEvaluator, own: set[str]) -> list[Trial]:
    """Evaluations the database already holds for the same setting (not trials of this search)."""
    evals = store.evaluations(dataset=evaluator.dataset.name, status="ok", channels=evaluator.network.channels,
                              cells_per_stage=evaluator.network.cells_per_stage,
                              epochs=evaluator.train_config.epochs, seed=evaluator.seed)
    out, seen = [], set(own)
    for e in evals:
        if e.canonical_key in seen:
            continue
        seen.add(e.canonical_key)
        obs = evaluator.from_evaluation(e)
        out.append(Trial(e.arch, obs.value, obs.objectives, obs.test_value, obs.cost_s))
    return out


def _log_step(tracker, parent, rows: pd.DataFrame) -> None:
    series: dict[str, list[tuple[int, float]]] = {}
    for rec in rows.to_dict("records"):
        for key in ("value", "best_so_far", "regret", "hypervolume", "fit_s", "acq_s", "test_of_best"):
            v = rec.get(key)
            if v is not None and isinstance(v, (int, float)) and math.isfinite(v):
                series.setdefault(key, []).append((int(rec["step"]), float(v)))
    if series:
        tracker.log_series(parent, series)


def _log_artifacts(tracker, parent, trace: SearchTrace) -> None:
    import tempfile

    from surrogate_nas.pipelines.search.benchmark import plot_regret
    from surrogate_nas.pipelines.search.pareto import plot_pareto

    with tempfile.TemporaryDirectory() as tmp:
        trace.frame.to_csv(Path(tmp) / "trace.csv", index=False)
        if len(trace.objectives) > 1:
            front = trace.pareto_front()
            front.to_csv(Path(tmp) / "pareto_front.csv", index=False)
            plot_pareto({trace.strategy: front}, trace.objectives, path=Path(tmp) / "pareto_front.png")
        elif trace.frame["regret"].notna().any():
            curves = trace.frame.assign(strategy=trace.strategy, seed=0)
            plot_regret(curves, path=Path(tmp) / "regret.png")
        for f in sorted(Path(tmp).iterdir()):
            tracker.log_artifact(parent, f)
