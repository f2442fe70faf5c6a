"""A search's configuration: four small frozen dataclasses, made once and checked once.

* :class:`SearchConfig`: what to search and how (benchmark or dataset, space, objectives,
  constraints, strategy, budget); it holds the other two a search needs:
* :class:`EvaluationConfig`: how a live search evaluates an architecture (network, training
  recipe, data, device);
* :class:`ExecutionConfig`: where evaluations run (workers, executor, resources, retries);
* :class:`TrackingConfig`: where results go (the architecture database, MLflow).

Every field is an :func:`~.options.option`: the CLI's options are built from these fields
(:mod:`surrogate_nas.pipelines.cli.options`), :func:`surrogate_nas.search` takes their names as
keywords (a test keeps the two in step), and each config checks its values in ``__post_init__``.
The part of a :class:`SearchConfig` that a stored search must match to resume is
:meth:`SearchConfig.identity` (stored with the search's row).

    >>> config = SearchConfig("nb201-cifar10", strategy="rs", budget=30)
    >>> config.resolved_name(), config.identity()["space"]
    ('rs-nb201-cifar10-accuracy-seed0', 'nb201')

Importing this module is cheap (the CLI builds its options from it): datasets and tables (torch,
pandas) are imported when a config is checked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import TRAIN_PRESETS, TrainConfig
from surrogate_nas.spaces import DEFAULT_SPACE, SearchSpace, get_space
from surrogate_nas.pipelines.jobs.options import check_fields, option, option_of, options_of
from surrogate_nas.pipelines.search.bo import ACQUISITIONS

DEFAULT_DB = "sqlite:///surrogate-nas.db"
KEEP_WEIGHTS = ("auto", "none", "best", "front", "all")
"""Whose trained weights a live search keeps: ``auto`` is what ``export`` needs (the best and the front)."""
DEFAULT_STALE_AFTER_S = 300.0


@dataclass(frozen=True)
class EvaluationConfig:
    """How a live search (or ``seed``) trains an architecture; ignored on a table."""

    epochs: int | None = option(None, "--epochs", kind=int, low=1, help="Live only (default 5, or the preset's).")
    channels: int | None = option(None, "-C", "--channels", kind=int, low=1, help="Live only (default: the space's).")
    cells_per_stage: int | None = option(None, "-N", "--cells-per-stage", kind=int, low=1,
                                         help="Live only (default: the space's).")
    preset: str | None = option(
        None, "--preset", choices=lambda: tuple(TRAIN_PRESETS),
        help="A named training recipe: nb201 is NAS-Bench-201's (200 epochs, batch 256, augmentation).")
    augment: bool = option(False, "--augment/--no-augment", show_default=True,
                           help="Random crop with padding and horizontal flip while training.")
    image_size: int | None = option(None, "--image-size", kind=int, low=1,
                                    help="Resize the images of a folder or .npz to N x N (required when their sizes "
                                         "differ).")
    data_dir: str | None = option(None, "--data-dir", identity=False,
                                  help="The folder of a dataset read from files (cifar10's python batches).")
    device: str = option("auto", "--device", identity=False, show_default=True,
                         help="auto, cpu, cuda or cuda:K (live only).")
    keep_weights: str = option(
        "auto", "--keep-weights", choices=KEEP_WEIGHTS, identity=False, show_default=True,
        help="Live only: keep the trained weights of none, the best, the Pareto front or all trainings beside the "
             "database, so `export` needs no retraining (auto: the best and the front).")

    def __post_init__(self) -> None:
        check_fields(self)

    def train_config(self) -> TrainConfig:
        """The training recipe: the preset's (with ``epochs``), else ``epochs`` (default 5) and ``augment``."""
        if self.preset:
            return TrainConfig.preset(self.preset, epochs=self.epochs)
        return TrainConfig(epochs=self.epochs or 5, augment=self.augment)


@dataclass(frozen=True)
class ExecutionConfig:
    """Where and how many evaluations run at once (trainings; on a table, simulated workers)."""

    workers: int = option(1, "--workers", low=1, show_default=True,
                          help="Trainings at once. A search then runs asynchronously: a free worker gets the next "
                               "suggestion at once (on a table: simulated on its cost clock).")
    executor: object = option(None, "--executor",
                              help="Where trainings run: inprocess (this process), local (worker processes, the "
                                   "default for --workers > 1), ray (Ray tasks), an installed plug-in "
                                   "(`surrogate-nas executors`) or module:Class.")
    ray_address: str | None = option(None, "--ray-address",
                                     help="Join a running Ray cluster (auto or HOST:PORT); otherwise a local Ray "
                                          "instance is started.")
    cpus_per_trial: float = option(1.0, "--cpus-per-trial", low=0, low_open=True, show_default=True,
                                   help="CPUs (torch threads) per training.")
    gpus_per_trial: float = option(0.0, "--gpus-per-trial", low=0, show_default=True,
                                   help="GPUs per training; a fraction packs several trainings on one GPU.")
    max_retries: int = option(1, "--max-retries", low=0, show_default=True,
                              help="New attempts for a training whose worker died, before it is recorded as failed.")

    def __post_init__(self) -> None:
        check_fields(self)
        if isinstance(self.executor, str):
            from surrogate_nas.plugins import is_reference
            from surrogate_nas.pipelines.execution.executors import EXECUTOR_PLUGINS

            if self.executor not in EXECUTOR_PLUGINS and not is_reference(self.executor):
                raise InputDataError(f"unknown executor {self.executor!r}; expected "
                                     f"{EXECUTOR_PLUGINS.describe_choices()}")

    def check(self) -> str:
        """Check the executor takes these options (Ray installed, one worker for ``inprocess``, ...);
        returns its name. See :func:`~surrogate_nas.pipelines.execution.executors.check_execution`."""
        from surrogate_nas.pipelines.execution.executors import check_execution

        return check_execution(self.executor, self.workers, self.cpus_per_trial, self.gpus_per_trial,
                               self.ray_address)

    def make(self):
        """The :class:`~surrogate_nas.pipelines.execution.executors.Executor` these options describe."""
        from surrogate_nas.pipelines.execution.executors import make_executor

        return make_executor(self.executor, self.workers, self.cpus_per_trial, self.gpus_per_trial, self.ray_address)

    @property
    def threads(self) -> int:
        """Torch threads per training."""
        from surrogate_nas.pipelines.execution.executors import threads_per_trial

        return threads_per_trial(self.cpus_per_trial)


@dataclass(frozen=True)
class TrackingConfig:
    """Where results are stored and logged."""

    db: str | None = option(None, "--db", metavar="URL", show_default=f"$SURROGATE_NAS_DB or {DEFAULT_DB}",
                            help="SQLAlchemy URL of the architecture database (sqlite:///file.db, postgresql://...).")
    mlflow: bool = option(True, "--no-mlflow", negated=True, help="Do not log to MLflow.")
    stale_after: float | None = option(
        None, "--stale-after", kind=float, low=0, metavar="SECONDS",
        show_default=f"$SURROGATE_NAS_STALE_AFTER or {DEFAULT_STALE_AFTER_S:.0f}",
        help="Grace period: a running claim without a heartbeat for this long is taken over, whatever host it is on.")

    def __post_init__(self) -> None:
        check_fields(self)

    @property
    def url(self) -> str:
        """``db``, else ``$SURROGATE_NAS_DB``, else ``./surrogate-nas.db``."""
        return self.db or os.environ.get("SURROGATE_NAS_DB", DEFAULT_DB)

    @property
    def stale_after_s(self) -> float:
        """``stale_after``, else ``$SURROGATE_NAS_STALE_AFTER``, else 300 seconds."""
        if self.stale_after is not None:
            return float(self.stale_after)
        text = os.environ.get("SURROGATE_NAS_STALE_AFTER", str(DEFAULT_STALE_AFTER_S))
        try:
            return float(text)
        except ValueError:
            raise InputDataError(f"SURROGATE_NAS_STALE_AFTER must be a number of seconds, got {text!r}") from None

    def open_store(self, read_only: bool = False):
        """The architecture database."""
        from surrogate_nas.storage import open_store

        return open_store(self.url, stale_after=self.stale_after_s, read_only=read_only)

    def check(self) -> None:
        """Refuse an unusable ``MLFLOW_TRACKING_URI`` before the database is opened (MLflow is not imported)."""
        if self.mlflow:
            from surrogate_nas.pipelines.tracking.tracker import tracking_uri

            tracking_uri()

    def tracker(self):
        """A :class:`~surrogate_nas.pipelines.tracking.tracker.Tracker`, or None without MLflow."""
        if not self.mlflow:
            return None
        from surrogate_nas.pipelines.tracking.tracker import Tracker

        return Tracker()


@dataclass(frozen=True)
class SearchConfig:
    """Everything that defines a search; :meth:`identity` is what a rerun must match to resume it.

    ``benchmark`` is a dataset for live training (a named one, a dataset plug-in, an image
    folder, a ``.npz`` file) or a table (a named one, a CSV, ``db[:DATASET]``); ``space`` a
    named space, a JSON/YAML file of choices (with ``builder``, ``module:function``), ``module:Name``
    or a space (default: a named table's own, else the default space). ``strategy``, ``surrogate``
    and ``execution.executor`` are names (plug-ins included), ``module:Name`` or objects; the search
    stores their names (:func:`surrogate_nas.pipelines.search.strategies.strategy_label`).
    """

    benchmark: str = option(
        MISSING, "--benchmark", identity=True,
        help="Live training on a dataset (digits, cifar10, a dataset plug-in, a folder of images, a .npz file); or "
             "a table: a named one (nb201-cifar10, ...), a CSV, or db[:DATASET].")
    space: str | SearchSpace | None = option(
        None, "--space",
        help="Search space: a named one (`surrogate-nas spaces`), a .json/.yaml file of choices or module:Name "
             "(default: the named table's own, else nb201).")
    builder: str | None = option(
        None, "--builder", metavar="MODULE:FUNCTION", identity=False,
        help="For a --space file: the function (choices, input_shape, num_classes) -> torch.nn.Module building its "
             "networks (a module of the current folder, or an installed one).")
    metric: str | None = option(None, "--metric", help="Target column of a table (default: the table's own).")
    minimize: bool = option(False, "--minimize", identity="table", help="Smaller values of the table's target are better.")
    cost_column: str | None = option(None, "--cost-column", identity="table",
                                     help="A table's column of evaluation cost in seconds.")
    fidelity_columns: str | None = option(
        None, "--fidelity-columns", metavar="COL:EPOCHS,...", identity="table",
        help="A CSV's columns of the target after fewer epochs, e.g. acc_12ep:12,acc_200ep:200 (multi-fidelity "
             "strategies; the NB-201 tables know theirs).")
    strategy: object = option(
        "bo", "--strategy", show_default=True,
        help="bo, rs, rea, ls, mf-bo, sh, hb, an installed plug-in (`surrogate-nas strategies`) or module:Class. "
             "mf-bo, sh and hb are multi-fidelity: most candidates get a few epochs, the best the rest.")
    eta: float | None = option(
        None, "--eta", kind=float, low=1, low_open=True,
        help="Multi-fidelity: promote the best 1/eta of a rung; live rungs are epochs/eta^k (default: the "
             "strategy's own, 6 for mf-bo, 3 for sh and hb).")
    surrogate: object = option(
        "gp", "--surrogate", show_default=True,
        help="BO's model: gp, xgb or any predictor (`surrogate-nas predictors`, plug-ins included) or module:Class.")
    acquisition: str = option("logei", "--acquisition", choices=ACQUISITIONS, show_default=True,
                              help="qLogNoisyExpectedImprovement, qUpperConfidenceBound or Thompson sampling.")
    step_seconds: float | None = option(
        3.0, "--step-seconds", low=0, low_open=True, show_default=True, identity=False,
        help="Time budget of one Bayesian-optimisation step: past it the GP conditions on a subset and refits its "
             "hyperparameters only every few steps, and fewer candidates reach the acquisition (Python: None for "
             "the classic step whatever it costs).")
    budget: int = option(100, "--budget", low=1, show_default=True, api_default=20, identity=False,
                         help="Architectures to evaluate (trainings, for live search).")
    wall_clock_s: float | None = option(None, "--wall-clock", kind=float, low=0, low_open=True, identity=False,
                                        help="Stop starting new batches after this many seconds.")
    max_cost_s: float | None = option(
        None, "--max-cost", kind=float, low=0, low_open=True, metavar="SECONDS", identity=False,
        help="Stop once the evaluations have cost this many seconds of training (simulated on tables).")
    batch_size: int = option(4, "--batch-size", low=1, show_default=True)
    objectives: tuple[str, ...] = option(
        ("accuracy",), "--objectives", show_default=True,
        help="accuracy, or e.g. accuracy,params / accuracy,flops (live), accuracy,COLUMN:min (tables), "
             "accuracy,latency@pixel3 (a device of `surrogate-nas devices`), accuracy,latency@local (timed on this "
             "machine's CPU; latency@cuda on its GPU) or accuracy,latency@MODEL (a model of `fit --target latency`).")
    constraints: tuple[str, ...] = option(
        (), "--constraint", multiple=True, metavar="NAME<=X",
        help="Repeatable bound on any objective word or table column, e.g. \"latency@pixel3<=5\", \"params<=0.5\"; "
             "the best is then the best feasible.")
    ref_point: tuple[float, ...] | None = option(
        None, "--ref-point", kind=float, sequence=True,
        help="Hypervolume reference point, one value per objective in its own units (default: fixed from the "
             "search's first evaluations, never from unevaluated rows of a table).")
    prior: tuple[str, ...] = option(
        (), "--prior", metavar="SOURCE[:COLUMN],...", cli_default=None, identity=False,
        help="Start from what is known (bo, mf-bo): tables of the same space, a named one, a CSV or db:DATASET, "
             "each with its metric as SOURCE:COLUMN; the surrogate learns how much each tells about this search "
             "and the first architectures are the sources' best.")
    seed: int = option(0, "--seed", show_default=True)
    name: str | None = option(None, "--name", identity=False,
                              help="Search name; rerunning with the same name resumes it.")
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.benchmark, str) or not self.benchmark.strip():
            raise InputDataError(f"benchmark must be a dataset or a table, got {self.benchmark!r}")
        if self.space is not None and not isinstance(self.space, (str, SearchSpace)):
            raise InputDataError(f"space must be a name, a .json/.yaml file, module:Name or a SearchSpace, got "
                                 f"{type(self.space).__name__}")
        if self.prior is None or isinstance(self.prior, str):  # none given on the command line, or one string
            object.__setattr__(self, "prior", tuple(p for p in (self.prior or "").split(",") if p.strip()))
        check_fields(self)
        object.__setattr__(self, "prior", tuple(p.strip() for p in self.prior))
        if self.ref_point is not None:
            object.__setattr__(self, "ref_point", tuple(float(v) for v in self.ref_point))
        if not self.objectives:
            raise InputDataError("at least one objective is needed")
        if "surrogate" in self.strategy_spec().search_options:
            from surrogate_nas.pipelines.search.bo.resolve import check_surrogate

            check_surrogate(self.surrogate)
        from surrogate_nas.tables import parse_fidelity_columns

        parse_fidelity_columns(self.fidelity_columns)
        self.search_space()
        if self.live:
            self.evaluation.train_config()
            self.execution.check()

    @classmethod
    def from_options(cls, **options) -> SearchConfig:
        """A config from flat options: the fields of this class, of :class:`EvaluationConfig` and of
        :class:`ExecutionConfig` by name (as the CLI and :func:`surrogate_nas.search` take them).

        Raises:
            TypeError: an option no config has.
        """
        parts = {}
        for key, part in (("evaluation", EvaluationConfig), ("execution", ExecutionConfig)):
            names = [f.name for f in fields(part)]
            parts[key] = part(**{n: options.pop(n) for n in names if n in options})
        return cls(**options, **parts)

    @property
    def live(self) -> bool:
        from surrogate_nas.datasets import is_dataset

        return is_dataset(self.benchmark)

    def strategy_spec(self):
        """The strategy's :class:`~surrogate_nas.pipelines.search.strategies.StrategySpec`."""
        from surrogate_nas.pipelines.search.strategies import strategy_spec_of

        return strategy_spec_of(self.strategy)

    @property
    def strategy_label(self) -> str:
        from surrogate_nas.pipelines.search.bo.resolve import surrogate_label
        from surrogate_nas.pipelines.search.strategies import strategy_label

        name = strategy_label(self.strategy)  # "bo" names its surrogate, as stored searches of earlier releases do
        return f"bo-{surrogate_label(self.surrogate)}" if name == "bo" else name

    def search_space(self) -> SearchSpace:
        """The space: ``space``, else a named table's own, else the default space."""
        if self.space is not None:
            return get_space(self.space, self.builder)
        from surrogate_nas.tables import NAMED_BENCHMARKS

        named = NAMED_BENCHMARKS.get(self.benchmark) if not self.live else None
        return get_space(named.space if named is not None else DEFAULT_SPACE, self.builder)

    def dataset_spec(self):
        """Where the data of a live search comes from."""
        from surrogate_nas.datasets import DatasetSpec

        return DatasetSpec(self.benchmark, self.evaluation.data_dir, self.evaluation.image_size, self.seed)

    def train_config(self) -> TrainConfig:
        return self.evaluation.train_config()

    def network(self):
        return self.search_space().network_config(self.evaluation.channels, self.evaluation.cells_per_stage)

    def resolved_name(self) -> str:
        """``name``, else one made of the strategy, benchmark, objectives, constraints, seed (and space and
        network when not the defaults)."""
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
        if self.prior:
            parts.insert(len(parts) - 1, "prior-" + "+".join(Path(p).name.split(".")[0] if "/" in p or "." in p
                                                             else p.replace(":", "_") for p in self.prior))
        space = self.search_space().name
        if space != DEFAULT_SPACE:
            parts.insert(1, space)
        if self.live:
            parts.append(f"{self.network().label()}-{self.train_config().epochs}ep")
        return "-".join(parts)

    def identity(self) -> dict:
        """What a resumed search must match: the options marked as identity, with names for objects
        (strategy, surrogate), the space's name, the prior's sources when there are any, and for live
        searches the resolved network and epochs."""
        from surrogate_nas.pipelines.search.bo.resolve import surrogate_label
        from surrogate_nas.pipelines.search.strategies import strategy_label

        d = dict(_identity_items(self))
        d["objectives"], d["constraints"] = list(self.objectives), list(self.constraints)
        d["strategy"], d["surrogate"] = strategy_label(self.strategy), surrogate_label(self.surrogate, short=False)
        takes = self.strategy_spec().search_options
        if "eta" in takes:  # the promotion rate the strategy will use, given or its own default
            d["eta"] = self.eta if self.eta is not None else self.strategy_spec().default("eta")
        else:
            d.pop("eta")
        d["space"] = self.search_space().name
        if self.prior:  # only then: a search without one has the identity of earlier releases
            d["prior"] = list(self.prior)
        if self.live:
            net, train = self.network(), self.train_config()
            d["channels"], d["cells_per_stage"], d["epochs"] = net.channels, net.cells_per_stage, train.epochs
        return d

    @classmethod
    def identity_defaults(cls) -> dict:
        """Values that identity keys added after a search was stored stand for (a search stored before
        ``space`` was recorded searched the default space)."""
        defaults = {}
        for part in (cls, EvaluationConfig):
            for f, opt in options_of(part):
                if opt.identity and f.default is not MISSING:
                    defaults[f.name] = list(f.default) if isinstance(f.default, tuple) else f.default
        defaults["space"] = DEFAULT_SPACE
        return defaults


def _identity_items(config: SearchConfig):
    """``(name, value)`` of the identity options of ``config``: its own, and its evaluation's when live;
    the table-only ones only for a table."""
    live = config.live
    for f, opt in options_of(SearchConfig):
        if opt.identity and (opt.identity != "table" or not live):
            yield f.name, getattr(config, f.name)
    if live:
        for f, opt in options_of(EvaluationConfig):
            if opt.identity:
                yield f.name, getattr(config.evaluation, f.name)


def config_fields(cls) -> Mapping[str, object]:
    """``name -> Option`` of a config class's option fields (what the CLI and the API take)."""
    return {f.name: option_of(f) for f, _ in options_of(cls)}
