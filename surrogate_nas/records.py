"""Plain, frozen records passed between layers: configs in, results out.

Nothing here knows about torch modules, SQL or MLflow; these are the values a
training run is a pure function of, and the value it returns.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

from surrogate_nas.errors import InputDataError


class Status(str, enum.Enum):
    """Lifecycle of one evaluation (Optuna's trial states, renamed for training)."""

    RUNNING = "running"
    OK = "ok"
    DIVERGED = "diverged"
    FAILED = "failed"
    PAUSED = "paused"
    """Stopped after some of its epochs (a low-fidelity rung); continued by the next claim."""

    @property
    def finished(self) -> bool:
        return self in (Status.OK, Status.DIVERGED, Status.FAILED)


@dataclass(frozen=True)
class NetworkConfig:
    """Width and depth of a space's macro skeleton.

    ``channels`` is C, the width of the first stage (cell spaces double it at each
    reduction); ``cells_per_stage`` is N, cells (or modules) between reductions.
    NAS-Bench-201 itself uses C=16, N=5. A space that has no such knob leaves it None.
    """

    channels: int | None = 16
    cells_per_stage: int | None = 1

    def __post_init__(self) -> None:
        for name, flag in (("channels", "channels (C)"), ("cells_per_stage", "cells per stage (N)")):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or int(value) != value or int(value) < 1:
                raise InputDataError(f"{flag} must be an integer >= 1, got {value!r}")
            object.__setattr__(self, name, int(value))

    def to_dict(self) -> dict[str, int]:
        """The fields that are set, as stored in the database."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def label(self) -> str:
        """Short text such as ``C16N1`` (``fixed`` for a space without width or depth knobs)."""
        parts = [f"{flag}{v}" for flag, v in (("C", self.channels), ("N", self.cells_per_stage)) if v is not None]
        return "".join(parts) or "fixed"

    @classmethod
    def from_dict(cls, values: dict | None) -> "NetworkConfig":
        values = dict(values or {})
        return cls(channels=values.get("channels"), cells_per_stage=values.get("cells_per_stage"))


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser settings for one training run (SGD + Nesterov, cosine schedule).

    ``augment`` switches on the standard augmentation: a random crop of the image padded by
    an eighth of its size (4 pixels at 32), and a random horizontal flip.
    """

    epochs: int = 5
    batch_size: int = 64
    learning_rate: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    augment: bool = False

    def __post_init__(self) -> None:
        if int(self.epochs) < 1:
            raise InputDataError(f"epochs must be >= 1, got {self.epochs}")
        if int(self.batch_size) < 1:
            raise InputDataError(f"batch size must be >= 1, got {self.batch_size}")
        if not self.learning_rate > 0:
            raise InputDataError(f"learning rate must be > 0, got {self.learning_rate}")

    def recipe(self) -> dict:
        """Everything but ``epochs``: the settings two evaluations must share to be comparable.

        Options added after the database schema (``augment``) are left out at their default,
        so evaluations stored before they existed keep matching.
        """
        d = asdict(self)
        d.pop("epochs")
        if not d["augment"]:
            d.pop("augment")
        return d

    @classmethod
    def preset(cls, name: str, **overrides) -> "TrainConfig":
        """A named training recipe (:data:`TRAIN_PRESETS`), with ``overrides`` applied.

        Raises:
            InputDataError: unknown preset name.
        """
        if name not in TRAIN_PRESETS:
            raise InputDataError(f"unknown training preset {name!r}; expected one of {', '.join(TRAIN_PRESETS)}")
        return replace(TRAIN_PRESETS[name], **{k: v for k, v in overrides.items() if v is not None})


TRAIN_PRESETS: dict[str, TrainConfig] = {
    "nb201": TrainConfig(epochs=200, batch_size=256, learning_rate=0.1, momentum=0.9, weight_decay=5e-4,
                         augment=True),
}
"""Named recipes. ``nb201`` is NAS-Bench-201's (Dong & Yang 2020, hp=200): SGD with Nesterov
momentum 0.9, weight decay 5e-4, batch 256, learning rate 0.1 cosine-annealed to 0 over 200
epochs, random crop (padding 4) and horizontal flip; with it, CIFAR-10 results are comparable
with the published table."""


@dataclass(frozen=True)
class Setting:
    """Everything an evaluation depends on besides the architecture.

    Two trainings of architectures with the same canonical key under equal settings
    are the same evaluation: the database stores (and trains) it once.
    """

    space: str
    dataset: str
    network: NetworkConfig
    train: TrainConfig
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.dataset, str) or not self.dataset:
            raise InputDataError(f"dataset must be a non-empty name, got {self.dataset!r}")
        if not isinstance(self.network, NetworkConfig) or not isinstance(self.train, TrainConfig):
            raise InputDataError("a setting needs a NetworkConfig and a TrainConfig")
        object.__setattr__(self, "seed", int(self.seed))

    @property
    def network_key(self) -> str:
        """The network as canonical JSON (the form stored and matched in the database)."""
        return json.dumps(self.network.to_dict(), sort_keys=True)

    @property
    def recipe_key(self) -> str:
        """The training recipe (all but epochs) as canonical JSON."""
        return json.dumps(self.train.recipe(), sort_keys=True)


@dataclass(frozen=True)
class TrainResult:
    """What one training run returns; everything needed to store and log it."""

    space: str
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
    checkpoint: bytes | None = field(default=None, repr=False)
    resumed_at: int = 0
    """The epoch this call continued from (0: trained from scratch); the curve holds every epoch."""
    weights: bytes | None = field(default=None, repr=False)
    """The trained network's ``state_dict`` (``torch.save`` bytes) when asked for (``keep_weights``)."""

    @property
    def epochs_done(self) -> int:
        return len(self.valid_accs)

    @property
    def paused(self) -> bool:
        """Whether the run stopped early on request (``stop_after``) and can be resumed from :attr:`checkpoint`."""
        return self.checkpoint is not None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["status"] = self.status.value
        d.pop("checkpoint")
        d.pop("weights")
        return d


@dataclass(frozen=True)
class Evaluation:
    """A stored evaluation as read back from the database (never an ORM row).

    ``params_ref``/``flops_ref`` are the architecture's size in its space's reference
    network (comparable across datasets and settings); ``params``/``flops`` are of the
    network that was trained.
    """

    id: int
    space: str
    arch: str
    canonical_key: str
    dataset: str
    network: NetworkConfig
    epochs: int
    seed: int
    train_config: dict
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
    worker: str
    created_at: datetime
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    params_ref: int | None = None
    flops_ref: int | None = None
    checkpoint: str | None = None

    @property
    def epochs_done(self) -> int:
        return len(self.valid_accs)

    @property
    def channels(self) -> int | None:
        return self.network.channels

    @property
    def cells_per_stage(self) -> int | None:
        return self.network.cells_per_stage
