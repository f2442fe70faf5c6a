"""The Python API: what the CLI does, as functions (the CLI is a thin layer over these).

    >>> import surrogate_nas
    >>> result = surrogate_nas.search(space="nb201", benchmark="nb201-cifar10", strategy="bo",
    ...                               budget=20, mlflow=False, db="sqlite:///:memory:")  # doctest: +SKIP
    >>> result.best.arch  # doctest: +SKIP

Every function takes the same choices as its command: a space (a name, a JSON/YAML file of
choices, ``module:Name`` or a :class:`~surrogate_nas.spaces.SearchSpace`), a dataset
(``digits``, ``cifar10``, a dataset plug-in, a folder of images, a ``.npz`` file) or a benchmark
table; strategies, surrogates, predictors and executors by name (plug-ins included, see
:mod:`surrogate_nas.plugins`), ``module:Name`` or as objects; and
stores what it trains in the architecture database (``db``, default ``$SURROGATE_NAS_DB``
or ``./surrogate-nas.db``) and MLflow (``mlflow=False`` to skip it).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from surrogate_nas.datasets import DEFAULT_DATASET, DatasetSpec, is_dataset
from surrogate_nas.errors import InputDataError
from surrogate_nas.records import TrainConfig
from surrogate_nas.spaces import DEFAULT_SPACE, SearchSpace, get_space
from surrogate_nas.pipelines.jobs.config import (
    DEFAULT_DB,
    KEEP_WEIGHTS,
    EvaluationConfig,
    ExecutionConfig,
    SearchConfig,
    TrackingConfig,
)


def default_db() -> str:
    """``$SURROGATE_NAS_DB``, else ``./surrogate-nas.db``."""
    return TrackingConfig().url


@dataclass(frozen=True)
class SearchResult:
    """What :func:`search` returns.

    Attributes:
        name: the search's name (rerun with it to resume or extend the search).
        trace: one row per evaluation (see :class:`~surrogate_nas.pipelines.search.runner.SearchTrace`).
        best: the best feasible full-fidelity trial (``best.arch``, ``best.value``,
            ``best.objectives``); None when no trial meets the constraints.
        pareto_front: the non-dominated trials when there are several objectives, else None.
        new: evaluations (trainings, for live search) this call made.
        resumed: trials read back from earlier runs of the same search.
        maximize: whether larger values of the searched target are better.
        trained_here: trainings this call ran itself (live search); the rest of ``new`` were
            finished by other workers sharing the database.
        unlogged: one line on what MLflow missed when it failed during the search, else "".
        timings: seconds of each step's parts (measurements; the trace holds none).
        stop_reason: why the search ended (a key of
            :data:`~surrogate_nas.pipelines.search.runner.STOP_REASONS`).
        diverged_at: the evaluation where a resumed search stopped following its stored
            trials (another torch build or BLAS, a changed ``step_seconds``), else None.
        kept_weights: ``(trainings, bytes)`` whose weights a live search keeps for ``export``.
        prior_trust: how much the surrogate trusted each ``prior`` source at the end
            (:class:`~surrogate_nas.pipelines.search.prior.SourceTrust`, ``.line()`` says it).
    """

    name: str
    trace: pd.DataFrame
    best: object
    pareto_front: pd.DataFrame | None
    new: int
    resumed: int
    maximize: bool = True
    trained_here: int = 0
    unlogged: str = ""
    timings: pd.DataFrame | None = None
    stop_reason: str = "budget"
    diverged_at: int | None = None
    kept_weights: tuple[int, int] = (0, 0)
    prior_trust: tuple = ()


def search(
    space: str | SearchSpace | None = None,
    dataset: str | None = None,
    benchmark: str | None = None,
    *,
    strategy="bo",
    budget: int = 20,
    objectives: Sequence[str] = ("accuracy",),
    constraints: Sequence[str] = (),
    batch_size: int = 4,
    seed: int = 0,
    name: str | None = None,
    builder: str | Callable | None = None,
    metric: str | None = None,
    minimize: bool = False,
    cost_column: str | None = None,
    fidelity_columns: str | None = None,
    max_cost_s: float | None = None,
    eta: float | None = None,
    epochs: int | None = None,
    channels: int | None = None,
    cells_per_stage: int | None = None,
    preset: str | None = None,
    augment: bool = False,
    image_size: int | None = None,
    data_dir: str | None = None,
    device: str = "auto",
    keep_weights: str = "auto",
    surrogate="gp",
    acquisition: str = "logei",
    step_seconds: float | None = 3.0,
    wall_clock_s: float | None = None,
    ref_point: Sequence[float] | None = None,
    prior: Sequence[str] | str = (),
    workers: int = 1,
    executor=None,
    cpus_per_trial: float = 1.0,
    gpus_per_trial: float = 0.0,
    ray_address: str | None = None,
    max_retries: int = 1,
    stale_after: float | None = None,
    db: str | None = None,
    mlflow: bool = True,
    config: SearchConfig | None = None,
    tracking: TrackingConfig | None = None,
    on_step: Callable | None = None,
    on_start: Callable[[int], None] | None = None,
    on_activity: Callable[[str], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> SearchResult:
    """Search ``space``: with live training on ``dataset``, or replayed on the table ``benchmark``.

    Give exactly one of ``dataset`` and ``benchmark``. The search is stored under ``name``;
    calling again with the same arguments resumes it without evaluating anything twice.
    ``space`` defaults to a named table's own, else the default space.
    ``objectives`` are ``accuracy`` and, for live training, ``params``, ``flops`` or
    ``train_seconds`` (for tables: ``params`` or ``COLUMN:min|max``), or a latency:
    ``latency@DEVICE`` (a setting of ``surrogate-nas devices``, for spaces with device tables) or
    ``latency@MODEL`` (saved by ``fit --target latency``); two or more give a Pareto front.
    ``constraints`` bound any such quantity (``["latency@pixel3<=5", "params<=0.5"]``):
    the best and the front are then the best feasible. ``workers`` > 1 trains that many
    architectures at once, asynchronously, on local processes or Ray (``executor``); on a
    table it simulates them on the table's cost clock. Multi-fidelity strategies (``mf-bo``,
    ``sh``, ``hb``) evaluate at several budgets: live, the epochs of ``epochs`` (rungs every
    factor ``eta``); on a table, its fidelity columns (those of a named table, or
    ``fidelity_columns`` of a CSV). ``max_cost_s`` stops the search once its evaluations cost
    that many seconds (simulated on tables). ``step_seconds`` is the time budget of one
    Bayesian-optimisation step (the surrogate and shortlist it can afford; ``None``: the
    classic step whatever it costs). ``prior`` (``"nb201-cifar10"``, ``["db:cifar100:valid_acc"]``) starts
    BO from other tables of the same space: their values become features whose weight the
    GP learns, and the first architectures are their best (:mod:`~surrogate_nas.pipelines.search.prior`);
    ``result.prior_trust`` says how much each was trusted. ``on_activity`` hears what a slow step is doing,
    ``on_notice`` a step that took noticeably longer than the one before.

    ``strategy`` is a name (``bo``, ``rs``, ..., or a plug-in's), ``module:Class``, a
    :class:`~surrogate_nas.pipelines.search.Strategy` subclass, or a fresh strategy object
    (built for ``space`` with ``seed``; without objectives it is given the search's).
    ``surrogate`` (read by strategies that take it, BO's) is ``gp``, ``xgb``, any predictor by
    name or ``module:Class``, a predictor object (a fresh copy is fitted per objective and step),
    or a function ``(X, y) -> botorch Model``. ``executor`` is a name, ``module:Class`` or an
    :class:`~surrogate_nas.pipelines.execution.executors.Executor` object.

    The keywords are the fields of :class:`~surrogate_nas.pipelines.jobs.config.SearchConfig`,
    :class:`~surrogate_nas.pipelines.jobs.config.EvaluationConfig`,
    :class:`~surrogate_nas.pipelines.jobs.config.ExecutionConfig` and
    :class:`~surrogate_nas.pipelines.jobs.config.TrackingConfig` (see them for the rest); a
    ready ``config`` (and ``tracking``) may be given instead of them.

    Raises:
        InputDataError: bad arguments (one line saying what was expected); nothing is stored.
        DatasetError: an unreadable dataset.
    """
    options = {k: v for k, v in locals().items() if k in _SEARCH_OPTIONS}
    if config is None:
        config = search_config(space, dataset, benchmark, **{k: v for k, v in options.items() if k not in _TRACKING})
    elif any(v is not _SEARCH_DEFAULTS[k] and v != _SEARCH_DEFAULTS[k] for k, v in options.items()
             if k not in _TRACKING) or (space, dataset, benchmark) != (None, None, None):
        raise InputDataError("give either config= or the search's options, not both")
    if tracking is None:
        tracking = TrackingConfig(**{k: options[k] for k in _TRACKING})
    elif any(options[k] != _SEARCH_DEFAULTS[k] for k in _TRACKING):
        raise InputDataError("give either tracking= or db=, mlflow= and stale_after=, not both")
    return run_search_config(config, tracking, on_step=on_step, on_start=on_start, on_activity=on_activity,
                             on_notice=on_notice)


def search_config(space=None, dataset: str | None = None, benchmark: str | None = None, *, builder=None,
                  **options) -> SearchConfig:
    """The :class:`~surrogate_nas.pipelines.jobs.config.SearchConfig` that :func:`search` makes of its
    keywords (all but ``db``, ``mlflow``, ``stale_after`` and the callbacks), checked.

    Raises:
        InputDataError, DatasetError: see :func:`search`.
    """
    if (dataset is None) == (benchmark is None):
        raise InputDataError("give either dataset= (live training) or benchmark= (a table), not both or neither")
    if dataset is not None and not is_dataset(dataset):
        DatasetSpec(dataset).kind  # raises the dataset error that says what was expected
    if isinstance(space, str) and callable(builder):
        space = get_space(space, builder)  # a builder function: the space object carries it
    return SearchConfig.from_options(benchmark=dataset if dataset is not None else benchmark, space=space,
                                     builder=builder if isinstance(builder, str) else None, **options)


def run_search_config(config: SearchConfig, tracking: TrackingConfig | None = None, *, on_step=None,
                      on_start=None, on_activity=None, on_notice=None) -> SearchResult:
    """Run or resume the search ``config`` describes, stored and logged as ``tracking`` says (see :func:`search`)."""
    from surrogate_nas.pipelines.jobs.search_job import SearchJob

    tracking = tracking or TrackingConfig()
    tracking.check()
    store = tracking.open_store()
    table = None if config.live else load_table(config.benchmark, config.metric, store, config.search_space(),
                                                config.minimize, config.cost_column, config.fidelity_columns)
    job = SearchJob(config, store, table, tracker=tracking.tracker())
    outcome = job.run(on_step=on_step, on_start=on_start, on_activity=on_activity, on_notice=on_notice)
    front = outcome.trace.pareto_front() if len(outcome.trace.objectives) > 1 else None
    trace = outcome.trace
    return SearchResult(outcome.name, trace.frame, trace.best, front, outcome.new, outcome.resumed,
                        trace.objectives[0].maximize, outcome.trained_here,
                        job.tracker.unlogged_line() if job.tracker is not None else "", trace.timings,
                        trace.stop_reason, trace.diverged_at, outcome.kept_weights, tuple(outcome.prior_trust))


_TRACKING = ("db", "mlflow", "stale_after")
_SEARCH_DEFAULTS = {k: p.default for k, p in inspect.signature(search).parameters.items()}
_SEARCH_OPTIONS = tuple(k for k in _SEARCH_DEFAULTS
                        if k not in ("space", "dataset", "benchmark", "config", "tracking")
                        and not k.startswith("on_"))


@dataclass(frozen=True)
class SeedJob:
    """A checked seed plan with its data, database, tracker and execution options, ready to :meth:`run`."""

    plan: object
    data: tuple
    store: object
    tracker: object
    run_name: str = "seed"
    execution: ExecutionConfig = ExecutionConfig()

    def run(self, progress: Callable | None = None):
        from surrogate_nas.pipelines.jobs.seeding import run_seed_plan

        return run_seed_plan(self.plan, self.data, self.store, self.tracker, self.run_name, progress,
                             self.execution.make(), self.execution.max_retries, self.execution.threads)


def prepare_seed(
    space: str | SearchSpace = DEFAULT_SPACE,
    dataset: str = DEFAULT_DATASET,
    n: int = 8,
    *,
    archs: Sequence[str] = (),
    epochs: int | None = None,
    channels: Sequence[int] | int | None = None,
    cells_per_stage: Sequence[int] | int | None = None,
    batch_size: int = 64,
    learning_rate: float = 0.1,
    augment: bool = False,
    preset: str | None = None,
    image_size: int | None = None,
    data_dir: str | None = None,
    builder: str | Callable | None = None,
    seed: int = 0,
    device: str = "auto",
    db: str | None = None,
    mlflow: bool = True,
    run_name: str = "seed",
    workers: int = 1,
    executor=None,
    cpus_per_trial: float = 1.0,
    gpus_per_trial: float = 0.0,
    ray_address: str | None = None,
    max_retries: int = 1,
    stale_after: float | None = None,
    keep_weights: str = "auto",
) -> SeedJob:
    """Check every argument, load the data and open the database; nothing is trained or stored yet.

    ``workers`` ... ``max_retries`` are the fields of
    :class:`~surrogate_nas.pipelines.jobs.config.ExecutionConfig`, ``db``, ``mlflow`` and
    ``stale_after`` those of :class:`~surrogate_nas.pipelines.jobs.config.TrackingConfig`;
    ``keep_weights`` (``auto``, ``none``, ``best``, ``front``, ``all``) whose trained weights stay
    beside the database.

    Raises:
        InputDataError, DatasetError: a bad argument, with a one-line message.
    """
    from surrogate_nas.device import resolve_device
    from surrogate_nas.pipelines.jobs.seeding import SeedPlan

    execution = ExecutionConfig(workers=workers, executor=executor, ray_address=ray_address,
                                cpus_per_trial=cpus_per_trial, gpus_per_trial=gpus_per_trial, max_retries=max_retries)
    tracking = TrackingConfig(db=db, mlflow=mlflow, stale_after=stale_after)
    space_obj = get_space(space, builder if not isinstance(space, SearchSpace) else None)
    train = (TrainConfig.preset(preset, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate)
             if preset else TrainConfig(epochs=epochs or 5, batch_size=batch_size, learning_rate=learning_rate,
                                        augment=augment))
    networks = tuple(space_obj.network_config(c, k) for c in _values(channels) for k in _values(cells_per_stage))
    resolve_device(device)
    execution.check()
    tracking.check()
    spec = DatasetSpec(dataset, data_dir, image_size, seed)
    data = spec.load()
    if keep_weights not in KEEP_WEIGHTS:
        raise InputDataError(f"keep_weights must be one of {', '.join(KEEP_WEIGHTS)}, got {keep_weights!r}")
    plan = SeedPlan(space=space_obj, dataset=data.name, networks=networks, train=train, seed=seed, n=n,
                    archs=tuple(archs), device=device, keep_weights=keep_weights)
    return SeedJob(plan, (spec, data), tracking.open_store(), tracking.tracker(), run_name, execution)


def seed(space: str | SearchSpace = DEFAULT_SPACE, dataset: str = DEFAULT_DATASET, n: int = 8, *, progress: Callable | None = None,
         **options):
    """Make the first ``n`` architectures of a seeded plan exist in the database: train those it lacks.

    ``options`` are those of :func:`prepare_seed` (epochs, channels, cells_per_stage, archs,
    augment, preset, image_size, builder, seed, device, db, mlflow, ...).

    Returns:
        A :class:`~surrogate_nas.pipelines.jobs.seeding.SeedReport` (trained here, found stored,
        left to other live workers).
    """
    return prepare_seed(space, dataset, n, **options).run(progress)


def compare(
    benchmark: str,
    predictors: Sequence = ("xgb", "gp", "rf", "params", "mean"),
    train_sizes: Sequence[int] = (56, 135, 500),
    seeds: int = 5,
    test_size: int | str = "auto",
    *,
    space: str | SearchSpace | None = None,
    metric: str | None = None,
    minimize: bool = False,
    db: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Compare predictors on a table (named, a CSV of ``space``'s architectures, or ``db[:DATASET]``).

    ``predictors`` are names (plug-ins included, ``"all"`` for every named one), ``module:Class``
    references or predictor objects (each split fits a fresh copy).

    Returns:
        One row per (predictor, train size, seed); see
        :func:`~surrogate_nas.pipelines.tables.compare.compare_predictors`.
    """
    from surrogate_nas.pipelines.tables.compare import compare_predictors

    table = load_table(benchmark, metric, open_db(db) if benchmark.startswith("db") else None,
                       get_space(space) if space is not None else None, minimize, None)
    return compare_predictors(table, list(predictors), list(train_sizes), seeds, test_size, progress=progress)


def load_table(name: str, metric: str | None, store, space: SearchSpace | None, minimize: bool = False,
               cost_column: str | None = None, fidelity_columns: str | None = None):
    """A named table, a CSV of ``space``'s architectures (default nb201), or ``db`` / ``db:DATASET``.

    ``fidelity_columns`` (``"acc_12ep:12,acc_200ep:200"``) declares a CSV's columns of the
    target at lower training budgets.
    """
    from pathlib import Path

    from surrogate_nas.tables import NAMED_BENCHMARKS, load_benchmark, parse_fidelity_columns

    if name == "db" or name.startswith("db:"):
        from surrogate_nas.pipelines.tables.db_table import table_from_store

        if fidelity_columns:
            raise InputDataError("fidelity columns are for CSV tables; a live multi-fidelity search uses --epochs")
        dataset = name.split(":", 1)[1] if ":" in name else None
        return table_from_store(store, space=None if space is None else space.name, dataset=dataset,
                                metric=metric or "valid_acc")
    if name not in NAMED_BENCHMARKS and not name.endswith((".csv", ".csv.gz")) and not Path(name).exists():
        raise InputDataError(f"unknown benchmark {name!r}; expected one of {', '.join(NAMED_BENCHMARKS)}, "
                             "db, db:DATASET, a path to a .csv file, or a dataset for live training")
    return load_benchmark(name, metric, space=space, maximize=not minimize, cost_column=cost_column,
                          fidelity_columns=parse_fidelity_columns(fidelity_columns))


def open_db(url: str | None, read_only: bool = False, stale_after: float | None = None):
    """The architecture database at ``url`` (default: ``$SURROGATE_NAS_DB`` or ``./surrogate-nas.db``).

    ``stale_after``: seconds without a heartbeat before another worker's claim is taken over
    (default ``$SURROGATE_NAS_STALE_AFTER`` or 300).
    """
    return TrackingConfig(db=url, mlflow=False, stale_after=stale_after).open_store(read_only)


def _values(value) -> tuple:
    if value is None:
        return (None,)
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


__all__ = ["DEFAULT_DB", "EvaluationConfig", "ExecutionConfig", "SearchConfig", "SearchResult", "SeedJob",
           "TrackingConfig", "compare", "default_db", "load_table", "prepare_seed", "run_search_config", "search",
           "search_config", "seed"]
