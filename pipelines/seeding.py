"""Seed the architecture database: sample, train for real, store, log.

Sampling is uniform over *canonical* architectures (one per function the cell
computes), skipping those already evaluated for the same settings. Every
training run is claimed in the database first, so concurrent processes never
train the same architecture twice and an interrupted run leaves no finished
work behind.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from surrogate_nas.cell import Cell, canonical_cells
from surrogate_nas.cost import count_flops, count_params
from surrogate_nas.datasets import Dataset
from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig, TrainConfig, TrainResult
from surrogate_nas.training import train

REFERENCE_NETWORK = NetworkConfig(channels=16, cells_per_stage=5)
REFERENCE_INPUT = ((3, 32, 32), 10)


@dataclass(frozen=True)
class SeedPlan:
    """What to train: ``n`` new architectures (or the given ``cells``) under one setting."""

    dataset: str
    channels: tuple[int, ...] = (16,)
    cells_per_stage: tuple[int, ...] = (1,)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0
    n: int = 8
    cells: tuple[Cell, ...] = ()
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.n < 1 and not self.cells:
            raise InputDataError(f"the number of architectures must be >= 1, got {self.n}")
        for c in self.channels:
            NetworkConfig(c, 1)
        for n in self.cells_per_stage:
            NetworkConfig(16, n)

    def candidates(self) -> list[tuple[Cell, NetworkConfig]]:
        """Candidate (cell, network) pairs in this plan's random order (fixed by ``seed``)."""
        nets = [NetworkConfig(c, n) for c, n in itertools.product(self.channels, self.cells_per_stage)]
        if self.cells:
            return [(cell, net) for cell in self.cells for net in nets]
        rng = np.random.default_rng(self.seed)
        pool = canonical_cells()
        out = []
        # Uniform over canonical cells and network choices, without replacement.
        for i in rng.permutation(len(pool) * len(nets)):
            out.append((pool[i // len(nets)], nets[i % len(nets)]))
        return out


@dataclass
class SeedReport:
    trained: list[TrainResult] = field(default_factory=list)
    skipped: int = 0
    wall_seconds: float = 0.0

    @property
    def train_seconds(self) -> float:
        return sum(r.train_seconds for r in self.trained)


def reference_cost(cell: Cell) -> tuple[int, int]:
    """Params and FLOPs at NAS-Bench-201's own setting, comparable across runs."""
    shape, classes = REFERENCE_INPUT
    return (count_params(cell, REFERENCE_NETWORK, shape, classes),
            count_flops(cell, REFERENCE_NETWORK, shape, classes))


def seed_architectures(
    plan: SeedPlan,
    dataset: Dataset,
    store,
    on_result: Callable[[TrainResult, int], None] | None = None,
    progress: Callable[[TrainResult], None] | None = None,
) -> SeedReport:
    """Train ``plan.n`` architectures not yet evaluated under the plan's settings.

    ``store`` is an :class:`~surrogate_nas.storage.ArchitectureStore`;
    ``on_result(result, evaluation_id)`` runs after each result is stored
    (the CLI logs to MLflow there).
    """
    report = SeedReport()
    start = time.perf_counter()
    target = len(plan.cells) * len(plan.channels) * len(plan.cells_per_stage) if plan.cells else plan.n
    for cell, net in _unevaluated(plan, store):
        if len(report.trained) >= target:
            break
        params_ref, flops_ref = reference_cost(cell)
        eval_id = store.claim(cell, plan.dataset, net, plan.train, plan.seed,
                              params_ref=params_ref, flops_ref=flops_ref)
        if eval_id is None:  # another process has it, or it is done
            report.skipped += 1
            continue
        try:
            result = train(cell, net, plan.train, dataset, plan.seed, plan.device)
        except BaseException:
            store.release(eval_id)
            raise
        store.finish(eval_id, result)
        report.trained.append(result)
        if on_result is not None:
            on_result(result, eval_id)
        if progress is not None:
            progress(result)
    report.wall_seconds = time.perf_counter() - start
    return report


def _unevaluated(plan: SeedPlan, store) -> Sequence[tuple[Cell, NetworkConfig]]:
    done: dict[NetworkConfig, set[str]] = {}
    out = []
    for cell, net in plan.candidates():
        if net not in done:
            done[net] = store.evaluated_keys(plan.dataset, net, plan.train.epochs, plan.seed)
        if cell.canonical_key not in done[net]:
            out.append((cell, net))
    return out
