"""Plain, frozen records passed between layers: configs in, results out.

Nothing here knows about torch modules, SQL or MLflow; these are the values a
training run is a pure function of, and the value it returns.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from datetime import datetime

from surrogate_nas.errors import InputDataError


class Status(str, enum.Enum):
    """Lifecycle of one evaluation (Optuna's trial states, renamed for training)."""

    RUNNING = "running"
    OK = "ok"
    DIVERGED = "diverged"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self is not Status.RUNNING


@dataclass(frozen=True)
class NetworkConfig:
    """Width and depth of the NAS-Bench-201 macro skeleton.

    ``channels`` is C, the width of the first stage (doubled at each of the two
    reductions); ``cells_per_stage`` is N. NAS-Bench-201 itself uses C=16, N=5.
    """

    channels: int = 16
    cells_per_stage: int = 1

    def __post_init__(self) -> None:
        if int(self.channels) < 1:
            raise InputDataError(f"channels (C) must be >= 1, got {self.channels}")
        if int(self.cells_per_stage) < 1:
            raise InputDataError(f"cells per stage (N) must be >= 1, got {self.cells_per_stage}")


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser settings for one training run (SGD + Nesterov, cosine schedule)."""

    epochs: int = 5
    batch_size: int = 64
    learning_rate: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4

    def __post_init__(self) -> None:
        if int(self.epochs) < 1:
            raise InputDataError(f"epochs must be >= 1, got {self.epochs}")
        if int(self.batch_size) < 1:
            raise InputDataError(f"batch size must be >= 1, got {self.batch_size}")
        if not self.learning_rate > 0:
            raise InputDataError(f"learning rate must be > 0, got {self.learning_rate}")


@dataclass(frozen=True)
class TrainResult:
    """What one training run returns; everything needed to store and log it."""

    arch: str
    canonical_key: str
    dataset: str
    network: NetworkConfig
    train: TrainConfig
    seed: int
    status: Status
    valid_acc: float | None
    test_acc: float | None
    train_losses: tuple[float, ...]
    valid_accs: tuple[float, ...]
    train_seconds: float
    params: int
    flops: int
    device: str
    message: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["status"] = self.status.value
        return d


@dataclass(frozen=True)
class Evaluation:
    """A stored evaluation as read back from the database (never an ORM row)."""

    id: int
    arch: str
    canonical_key: str
    space: str
    dataset: str
    channels: int
    cells_per_stage: int
    epochs: int
    seed: int
    status: Status
    valid_acc: float | None
    test_acc: float | None
    train_losses: tuple[float, ...]
    valid_accs: tuple[float, ...]
    train_seconds: float | None
    params: int | None
    flops: int | None
    device: str | None
    message: str
    mlflow_run_id: str | None
    created_at: datetime
    finished_at: datetime | None = None
    extra: dict = field(default_factory=dict)
