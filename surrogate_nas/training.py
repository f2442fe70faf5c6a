"""Train one architecture: a pure function from (architecture, configs, data, seed) to a result.

The run seeds its own forked copy of torch's generators and shuffles (and augments)
with a private ``torch.Generator``, so it neither depends on nor disturbs the
caller's random state: the same inputs on the same device give the same
curve. Mini-batches come from the dataset's splits: slices of tensors already on
the device for data held in memory, a ``DataLoader`` for streamed data; the only
host syncs are one per epoch (loss and accuracy).

A run can stop after any epoch (``stop_after``) and hand back a checkpoint; calling
``train`` again with it (``resume``) continues the same run, with the same learning-rate
schedule (always planned for ``config.epochs``) and the same random streams, so a run
paused and resumed gives exactly the curve of one that never stopped. This is what
multi-fidelity search uses: a low-fidelity result is the accuracy after ``r`` epochs of
a full run, and a promoted candidate continues instead of restarting.

Failures are results, not exceptions: a non-finite training loss ends the run
as :attr:`Status.DIVERGED`, any other error as :attr:`Status.FAILED` with its
message. Bad arguments (a device that is not there, a malformed cell or shape)
are still raised as :class:`~surrogate_nas.errors.InputDataError` before
training starts.

Example:
    >>> from surrogate_nas.datasets import load_dataset
    >>> from surrogate_nas.records import NetworkConfig, TrainConfig
    >>> from surrogate_nas.spaces import get_space
    >>> space = get_space("nb201")
    >>> arch = space.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    >>> r = train(space, arch, NetworkConfig(8, 1), TrainConfig(epochs=1), load_dataset("digits"), seed=0, device="cpu")
    >>> r.status.value, len(r.valid_accs)
    ('ok', 1)
"""

from __future__ import annotations

import contextlib
import io
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

from surrogate_nas.datasets import Dataset
from surrogate_nas.device import resolve_device
from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig, Status, TrainConfig, TrainResult
from surrogate_nas.spaces import SearchSpace, get_space

EVAL_BATCH_SIZE = 1024
"""Images per forward pass when measuring accuracy (no gradients, so larger is fine)."""


class _Diverged(Exception):
    """Internal: the training loss stopped being finite."""


def train(
    space: SearchSpace | str,
    arch,
    network: NetworkConfig,
    config: TrainConfig,
    dataset: Dataset,
    seed: int,
    device: str = "auto",
    *,
    stop_after: int | None = None,
    resume: bytes | None = None,
    keep_weights: bool = False,
) -> TrainResult:
    """Train ``arch`` on ``dataset`` and report accuracies, curves and costs.

    SGD with Nesterov momentum and weight decay, learning rate annealed to 0
    by a per-step cosine schedule, cross-entropy loss.

    Args:
        space: the search space (or its registered name) that builds the network.
        arch: the architecture, a value of ``space`` or its text form.
        network: width ``C`` and cells per stage ``N`` (as the space reads them).
        config: epochs, batch size and optimiser settings.
        dataset: splits from :func:`~surrogate_nas.datasets.load_dataset`.
        seed: seeds weight initialisation and shuffling.
        device: ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda[:i]"``, ``"mps"``.
        stop_after: stop after this many epochs (at most ``config.epochs``) and return a
            checkpoint to resume from; the learning-rate schedule still spans ``config.epochs``.
        resume: a checkpoint from an earlier call with the same arguments; the run continues
            from its epoch (and its curve, losses and seconds carry over).
        keep_weights: return the trained network's weights (:attr:`~TrainResult.weights`), e.g. to
            export it.

    Returns:
        A :class:`TrainResult`; accuracies are top-1 % (0-100). ``train_losses``
        and ``valid_accs`` have one entry per completed epoch; when the run
        diverges or fails they hold the epochs before, and ``valid_acc`` /
        ``test_acc`` are None. ``train_seconds`` counts every call of a resumed run.
        A run stopped by ``stop_after`` carries its :attr:`~TrainResult.checkpoint`.

    Raises:
        InputDataError: unknown or absent device, malformed architecture, configs or dataset,
            ``stop_after`` out of range, or a checkpoint of another run.
    """
    space = get_space(space)
    arch = space.as_architecture(arch)
    dev = resolve_device(device)
    if not isinstance(dataset, Dataset):
        raise InputDataError(f"dataset must be a Dataset from load_dataset, got {type(dataset).__name__}")
    if not isinstance(network, NetworkConfig) or not isinstance(config, TrainConfig):
        raise InputDataError("network must be a NetworkConfig and config a TrainConfig")
    stop = int(config.epochs) if stop_after is None else int(stop_after)
    if not 1 <= stop <= int(config.epochs):
        raise InputDataError(f"stop_after must be between 1 and the {config.epochs} epochs, got {stop_after}")
    params = space.count_params(arch, network, dataset.input_shape, dataset.num_classes)
    flops = space.count_flops(arch, network, dataset.input_shape, dataset.num_classes)
    run_id = _run_identity(space, arch, network, config, dataset, seed)
    state = _load_checkpoint(resume, run_id) if resume is not None else None
    if state is not None and state["epoch"] >= stop:
        raise InputDataError(f"the checkpoint is at epoch {state['epoch']}; nothing to train up to epoch {stop}")

    before = float(state["seconds"]) if state else 0.0
    losses: list[float] = list(state["losses"]) if state else []
    valid_accs: list[float] = list(state["valid_accs"]) if state else []
    status, message, valid_acc, test_acc, checkpoint, weights = Status.OK, "", None, None, None, None
    paused_at = 0.0
    start = time.perf_counter()
    try:
        with _reproducible(dev, int(seed)):
            data = dataset.to(dev)
            net = space.build_network(arch, network, dataset.input_shape, dataset.num_classes).to(dev)
            generator = torch.Generator(device=dev)
            generator.manual_seed(int(seed))
            run = _Run(net, config, generator, _steps_per_epoch(len(data.train), config.batch_size))
            if state is not None:
                run.restore(state, dev)
            for _ in range(len(valid_accs), stop):
                loss = run.epoch(data, dev)
                if not math.isfinite(loss):
                    raise _Diverged(f"training loss became {loss} in epoch {len(losses) + 1}")
                losses.append(loss)
                valid_accs.append(accuracy(net, data.valid, dev))
            valid_acc = valid_accs[-1]
            test_acc = accuracy(net, data.test, dev)
            if stop < int(config.epochs):  # a paused run's seconds are those its checkpoint carries over
                paused_at = before + time.perf_counter() - start
                checkpoint = run.checkpoint(run_id, losses, valid_accs, paused_at, dev)
            if keep_weights:
                buffer = io.BytesIO()
                torch.save({k: v.cpu() for k, v in net.state_dict().items()}, buffer)
                weights = buffer.getvalue()
    except KeyboardInterrupt:
        raise
    except _Diverged as exc:
        status, message = Status.DIVERGED, str(exc)
    except Exception as exc:  # a failed run is a result to record, never a crash
        status, message = Status.FAILED, f"{type(exc).__name__}: {exc}"
    seconds = paused_at if checkpoint is not None else before + time.perf_counter() - start

    return TrainResult(
        space=space.name,
        arch=arch.to_string(),
        canonical_key=arch.canonical_key,
        dataset=dataset.name,
        network=network,
        train=config,
        seed=int(seed),
        status=status,
        valid_acc=valid_acc,
        test_acc=test_acc,
        train_losses=tuple(losses),
        valid_accs=tuple(valid_accs),
        train_seconds=seconds,
        params=params,
        flops=flops,
        device=str(dev),
        message=message,
        checkpoint=checkpoint,
        weights=weights,
        resumed_at=int(state["epoch"]) if state else 0,
    )


def _steps_per_epoch(n: int, batch_size: int) -> int:
    """Optimiser steps in one epoch of ``n`` images (the batches drop a final batch of one image)."""
    if n == 0:
        raise ValueError("the dataset has an empty training split")
    per_epoch = -(-n // int(batch_size))
    if per_epoch > 1 and n % int(batch_size) == 1:
        per_epoch -= 1
    return per_epoch


class _Run:
    """The optimiser, schedule and random streams of one training run, epoch by epoch."""

    def __init__(self, net: nn.Module, config: TrainConfig, generator: torch.Generator, per_epoch: int) -> None:
        self.net, self.config, self.generator = net, config, generator
        momentum = float(config.momentum)
        self.optimiser = torch.optim.SGD(
            net.parameters(),
            lr=float(config.learning_rate),
            momentum=momentum,
            weight_decay=float(config.weight_decay),
            nesterov=momentum > 0,
        )
        self.schedule = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimiser, T_max=int(config.epochs) * per_epoch)

    def epoch(self, data: Dataset, device: torch.device) -> float:
        """Train one epoch; return its mean training loss."""
        self.net.train()
        total = torch.zeros((), device=device)
        seen = 0
        for x, y in data.train.batches(int(self.config.batch_size), device, shuffle=True, generator=self.generator):
            if self.config.augment:
                x = augment(x, self.generator)
            loss = F.cross_entropy(self.net(x), y)
            self.optimiser.zero_grad(set_to_none=True)
            loss.backward()
            self.optimiser.step()
            self.schedule.step()
            total += loss.detach() * len(y)
            seen += len(y)
        return float(total / seen)

    def checkpoint(self, run_id: str, losses: list[float], valid_accs: list[float], seconds: float,
                   device: torch.device) -> bytes:
        """Everything needed to continue exactly: weights, optimiser, schedule, random streams, curve."""
        state = {
            "run": run_id,
            "epoch": len(valid_accs),
            "losses": list(losses),
            "valid_accs": list(valid_accs),
            "seconds": float(seconds),
            "model": self.net.state_dict(),
            "optimiser": self.optimiser.state_dict(),
            "schedule": self.schedule.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else torch.empty(0, dtype=torch.uint8),
        }
        buffer = io.BytesIO()
        torch.save(state, buffer)
        return buffer.getvalue()

    def restore(self, state: dict, device: torch.device) -> None:
        self.net.load_state_dict(state["model"])
        self.optimiser.load_state_dict(state["optimiser"])
        self.schedule.load_state_dict(state["schedule"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        if device.type == "cuda" and state["cuda_rng"].numel():
            torch.cuda.set_rng_state(state["cuda_rng"], device)


def _run_identity(space, arch, network: NetworkConfig, config: TrainConfig, dataset: Dataset, seed: int) -> str:
    """What a checkpoint must belong to: the same space, architecture, setting, data and seed."""
    return "|".join([space.name, arch.canonical_key, network.label(), repr(config), dataset.name, str(int(seed))])


def _load_checkpoint(blob: bytes, run_id: str) -> dict:
    try:
        state = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InputDataError(f"not a training checkpoint: {type(exc).__name__}: {exc}") from None
    if not isinstance(state, dict) or state.get("run") != run_id:
        raise InputDataError("the checkpoint belongs to another training run (architecture, setting, data or seed)")
    return state


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Standard augmentation of a ``b x c x h x w`` batch: a random crop of the image zero-padded by
    an eighth of its size on each side, and a random horizontal flip (each image its own draw)."""
    b, _, h, w = x.shape
    pad_h, pad_w = max(h // 8, 1), max(w // 8, 1)
    padded = F.pad(x, (pad_w, pad_w, pad_h, pad_h))
    dy = torch.randint(0, 2 * pad_h + 1, (b,), generator=generator, device=x.device)
    dx = torch.randint(0, 2 * pad_w + 1, (b,), generator=generator, device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    batch = torch.arange(b, device=x.device)[:, None, None, None]
    channels = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    cropped = padded[batch, channels, rows, cols]
    flip = torch.rand(b, generator=generator, device=x.device) < 0.5
    return torch.where(flip[:, None, None, None], cropped.flip(-1), cropped)


def accuracy(net: nn.Module, split, device: torch.device) -> float:
    """Top-1 accuracy in % (0-100) of ``net`` in eval mode on a split; 0.0 for an empty split."""
    if len(split) == 0:
        return 0.0
    net.eval()
    correct = torch.zeros((), dtype=torch.int64, device=device)
    with torch.no_grad():
        for x, y in split.batches(EVAL_BATCH_SIZE, device):
            correct += (net(x).argmax(dim=1) == y).sum()
    return 100.0 * int(correct) / len(split)


@contextlib.contextmanager
def _reproducible(dev: torch.device, seed: int):
    """Seed a forked copy of torch's generators and make cuDNN deterministic, then restore both."""
    cudnn = torch.backends.cudnn
    saved = (cudnn.deterministic, cudnn.benchmark)
    devices = []
    if dev.type == "cuda":
        devices = [dev.index if dev.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        cudnn.deterministic, cudnn.benchmark = True, False
        try:
            torch.manual_seed(seed)
            yield
        finally:
            cudnn.deterministic, cudnn.benchmark = saved
