"""Train one architecture: a pure function from (architecture, configs, data, seed) to a result.

The run seeds its own forked copy of torch's generators and shuffles (and augments)
with a private ``torch.Generator``, so it neither depends on nor disturbs the
caller's random state: the same inputs on the same device give the same
curve. Mini-batches come from the dataset's splits: slices of tensors already on
the device for data held in memory, a ``DataLoader`` for streamed data; the only
host syncs are one per epoch (loss and accuracy).

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

    Returns:
        A :class:`TrainResult`; accuracies are top-1 % (0-100). ``train_losses``
        and ``valid_accs`` have one entry per completed epoch; when the run
        diverges or fails they hold the epochs before, and ``valid_acc`` /
        ``test_acc`` are None.

    Raises:
        InputDataError: unknown or absent device, malformed architecture, configs or dataset.
    """
    space = get_space(space)
    arch = space.as_architecture(arch)
    dev = resolve_device(device)
    if not isinstance(dataset, Dataset):
        raise InputDataError(f"dataset must be a Dataset from load_dataset, got {type(dataset).__name__}")
    if not isinstance(network, NetworkConfig) or not isinstance(config, TrainConfig):
        raise InputDataError("network must be a NetworkConfig and config a TrainConfig")
    params = space.count_params(arch, network, dataset.input_shape, dataset.num_classes)
    flops = space.count_flops(arch, network, dataset.input_shape, dataset.num_classes)

    losses: list[float] = []
    valid_accs: list[float] = []
    status, message, valid_acc, test_acc = Status.OK, "", None, None
    start = time.perf_counter()
    try:
        with _reproducible(dev, int(seed)):
            data = dataset.to(dev)
            net = space.build_network(arch, network, dataset.input_shape, dataset.num_classes).to(dev)
            generator = torch.Generator(device=dev)
            generator.manual_seed(int(seed))
            _fit(net, data, config, generator, losses, valid_accs, dev)
            valid_acc = valid_accs[-1]
            test_acc = accuracy(net, data.test, dev)
    except KeyboardInterrupt:
        raise
    except _Diverged as exc:
        status, message = Status.DIVERGED, str(exc)
    except Exception as exc:  # a failed run is a result to record, never a crash
        status, message = Status.FAILED, f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start

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
    )


def _fit(
    net: nn.Module,
    data: Dataset,
    config: TrainConfig,
    generator: torch.Generator,
    losses: list[float],
    valid_accs: list[float],
    device: torch.device,
) -> None:
    """Run the epochs, appending each epoch's mean training loss and valid accuracy."""
    n, batch = len(data.train), int(config.batch_size)
    if n == 0:
        raise ValueError(f"dataset {data.name!r} has an empty training split")
    per_epoch = -(-n // batch)
    if per_epoch > 1 and n % batch == 1:
        per_epoch -= 1  # the batches drop a final batch of one image (see Split.batches)
    steps = int(config.epochs) * per_epoch

    momentum = float(config.momentum)
    optimiser = torch.optim.SGD(
        net.parameters(),
        lr=float(config.learning_rate),
        momentum=momentum,
        weight_decay=float(config.weight_decay),
        nesterov=momentum > 0,
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=steps)

    for epoch in range(1, int(config.epochs) + 1):
        net.train()
        total = torch.zeros((), device=device)
        seen = 0
        for x, y in data.train.batches(batch, device, shuffle=True, generator=generator):
            if config.augment:
                x = augment(x, generator)
            loss = F.cross_entropy(net(x), y)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.detach() * len(y)
            seen += len(y)
        epoch_loss = float(total / seen)
        if not math.isfinite(epoch_loss):
            raise _Diverged(f"training loss became {epoch_loss} in epoch {epoch}")
        losses.append(epoch_loss)
        valid_accs.append(accuracy(net, data.valid, device))


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
