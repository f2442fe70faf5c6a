"""Seed the architecture database: sample, train for real, store, log.

A seed plan is a fixed list: architectures drawn (uniformly over canonical architectures
for spaces that can be listed, by the space's sampler otherwise) in an order set by the
plan's seed, crossed with the requested network widths and depths. ``n`` means "until the
plan's first ``n`` entries exist": entries already in the database count, entries a live
worker is training count (that worker will store them), and the rest are trained here.
So rerunning an interrupted command finishes the same ``n`` rather than training ``n``
more, and several processes running one plan together train it once. Every training
goes through :class:`~surrogate_nas.pipelines.live.trainer.DatabaseTrainer` (claim, heartbeat,
store).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field, replace

import numpy as np

from surrogate_nas.datasets import Dataset, DatasetSpec
from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig, Setting, TrainConfig
from surrogate_nas.spaces import SearchSpace
from surrogate_nas.pipelines.execution.executors import Executor
from surrogate_nas.pipelines.jobs.kept_weights import prune_weights
from surrogate_nas.pipelines.live.trainer import DatabaseTrainer, TrainingOutcome


@dataclass(frozen=True)
class SeedPlan:
    """What to train: the first ``n`` of a seeded list of architectures (or the given ``archs``)."""

    space: SearchSpace
    dataset: str
    networks: tuple[NetworkConfig, ...]
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0
    n: int = 8
    archs: tuple = ()
    device: str = "auto"
    keep_weights: str = "auto"
    """Whose weights to keep beside the database (see :mod:`~surrogate_nas.pipelines.jobs.kept_weights`):
    the best and front are by validation accuracy and params among the trainings of this run."""

    def __post_init__(self) -> None:
        if self.n < 1 and not self.archs:
            raise InputDataError(f"the number of architectures must be >= 1, got {self.n}")
        if not self.networks:
            raise InputDataError("a seed plan needs at least one network setting")
        object.__setattr__(self, "archs", tuple(self.space.as_architecture(a) for a in self.archs))

    @property
    def size(self) -> int:
        """How many (architecture, network) entries the plan asks for."""
        return len(self.archs) * len(self.networks) if self.archs else self.n

    def setting(self, network: NetworkConfig) -> Setting:
        return Setting(self.space.name, self.dataset, network, self.train, self.seed)

    def candidates(self) -> Iterator[tuple[object, NetworkConfig]]:
        """The plan's (architecture, network) entries in order (fixed by ``seed``)."""
        nets = list(self.networks)
        if self.archs:
            yield from ((arch, net) for arch in self.archs for net in nets)
            return
        rng = np.random.default_rng(self.seed)
        listed = self.space.enumerate()
        if listed is not None:
            for i in rng.permutation(len(listed) * len(nets)):
                yield listed[i // len(nets)], nets[i % len(nets)]
            return
        seen: set[str] = set()
        while True:
            batch = self.space.sample_unseen(64, rng, seen)
            if not batch:
                return
            for arch in batch:
                seen.add(arch.canonical_key)
                for net in rng.permutation(len(nets)):
                    yield arch, nets[int(net)]


@dataclass
class SeedReport:
    """What a seed run did: trained here, found already stored, left to other live workers, failed."""

    plan: SeedPlan
    trained: list = field(default_factory=list)
    found: int = 0
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    evaluation_ids: list[int] = field(default_factory=list)
    """Of the trainings in ``trained``, in the same order."""
    kept_weights: tuple[int, int] = (0, 0)
    """Trainings of this run whose weights are kept, and their bytes."""

    @property
    def train_seconds(self) -> float:
        return sum(r.train_seconds for r in self.trained)

    def add(self, outcome: TrainingOutcome) -> None:
        if outcome.trained:
            self.trained.append(outcome.result)
            self.evaluation_ids.append(outcome.evaluation_id)
        elif outcome.stored is not None:
            self.found += 1
        elif outcome.failed:
            self.failed.append(f"{outcome.arch.to_string()}: {outcome.failed}")
        else:
            self.skipped.append(f"{outcome.arch.to_string()}: {outcome.skipped}")


def seed_architectures(
    plan: SeedPlan,
    data: tuple[DatasetSpec, Dataset],
    store,
    on_result: Callable | None = None,
    progress: Callable[[TrainingOutcome], None] | None = None,
    executor: Executor | None = None,
    max_retries: int = 1,
    threads: int = 1,
) -> SeedReport:
    """Make the plan's first ``plan.n`` entries exist; train the missing ones on ``executor``.

    ``store`` is an :class:`~surrogate_nas.storage.ArchitectureStore`; ``data`` the dataset's
    spec (for workers) and the dataset loaded here; ``on_result(result, evaluation_id)`` runs
    after each new result is stored (the CLI logs to MLflow there); ``progress(outcome)`` after
    each entry that counts. The executor keeps all its workers busy; one trains at a time in
    this process by default.
    """
    report = SeedReport(plan)
    start = time.perf_counter()
    trainer = DatabaseTrainer(store, plan.space, data, plan.setting(plan.networks[0]), plan.device, on_result,
                              executor, max_retries, threads, keep_weights=plan.keep_weights != "none")

    def handle(outcome: TrainingOutcome) -> None:
        report.add(outcome)
        if progress is not None:
            progress(replace(outcome, running=trainer.running))

    done = {net: store.evaluated_keys(plan.setting(net)) for net in plan.networks}
    counted = 0
    with trainer:
        for arch, net in plan.candidates():
            if counted >= plan.size:
                break
            counted += 1
            if arch.canonical_key in done[net] and not plan.archs:
                # Finished, or a live worker is on it: it exists (or will) without us.
                existing = store.lookup(plan.space, arch, plan.setting(net))
                handle(TrainingOutcome(arch, plan.setting(net), stored=existing) if existing is not None and
                       existing.status.finished else TrainingOutcome(arch, plan.setting(net),
                                                                     skipped=trainer.held_by(existing)))
                continue
            while trainer.free <= 0:
                for outcome in trainer.poll():
                    handle(outcome)
            outcome = trainer.start(arch, plan.setting(net))
            if outcome is not None:
                handle(outcome)
        while trainer.running:
            for outcome in trainer.poll():
                handle(outcome)
    report.wall_seconds = time.perf_counter() - start
    report.kept_weights = _keep_weights(store, plan.keep_weights, report)
    return report


def _keep_weights(store, policy: str, report: SeedReport) -> tuple[int, int]:
    """Prune this run's kept weights to ``policy``'s; best and front by (valid accuracy, params)."""
    from surrogate_nas.pipelines.search.pareto import pareto_mask

    scored = [(i, r) for i, r in zip(report.evaluation_ids, report.trained) if r.valid_acc is not None]
    if not scored:
        return prune_weights(store, policy, report.evaluation_ids)
    best = max(scored, key=lambda s: s[1].valid_acc)[0]
    mask = pareto_mask(np.array([[r.valid_acc, -r.params] for _, r in scored]))
    return prune_weights(store, policy, report.evaluation_ids, [best], [i for (i, _), m in zip(scored, mask) if m])


def run_seed_plan(plan: SeedPlan, data: tuple[DatasetSpec, Dataset], store, tracker=None, run_name: str = "seed",
                  progress: Callable[[TrainingOutcome], None] | None = None, executor: Executor | None = None,
                  max_retries: int = 1, threads: int = 1) -> SeedReport:
    """:func:`seed_architectures` under one MLflow parent run, each training a nested run (when ``tracker``)."""
    params = {"space": plan.space.name, "dataset": plan.dataset, "source": data[1].source, "n": plan.size,
              "epochs": plan.train.epochs, "seed": plan.seed, "workers": executor.slots if executor else 1,
              "networks": " ".join(net.label() for net in plan.networks), "db": store.url}
    with (tracker.run(run_name, params=params, tags={"kind": run_name}) if tracker else nullcontext()) as parent:
        def log(result, evaluation_id: int) -> None:
            tracker.record_training(store, result, parent, evaluation_id)

        report = seed_architectures(plan, data, store, log if tracker else None, progress, executor, max_retries,
                                    threads)
        if tracker is not None:
            tracker.log(parent, metrics={"trained": len(report.trained), "found": report.found,
                                         "skipped": len(report.skipped), "failed": len(report.failed),
                                         "wall_seconds": report.wall_seconds, "train_seconds": report.train_seconds})
    return report
