"""A dataset split that hands out mini-batches: from tensors in memory, or streamed from files.

Training only asks a split for batches (:meth:`Split.batches`), so the same loop trains on
the embedded digits (tensors already on the device, sliced without a copy) and on an image
folder too large for memory (a ``DataLoader`` whose worker processes decode and resize
images while the network trains).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch


class Split(ABC):
    """One split of a dataset: ``n`` images of one shape and their class indices."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def batches(self, batch_size: int, device: torch.device, shuffle: bool = False,
                generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """``(x, y)`` batches on ``device``: ``b x c x h x w`` float32 and ``b`` int64.

        With ``shuffle`` the order is a permutation drawn from ``generator``, and a final
        batch of one image is dropped (BatchNorm cannot train on it).
        """

    @abstractmethod
    def to(self, device) -> "Split":
        """The split ready to serve batches on ``device``."""

    @property
    @abstractmethod
    def labels(self) -> np.ndarray:
        """Class index of every image, in order."""


@dataclass(frozen=True, eq=False)
class TensorSplit(Split):
    """Images and labels as tensors (on the CPU or already on the training device)."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return len(self.y)

    @property
    def labels(self) -> np.ndarray:
        return self.y.cpu().numpy()

    def to(self, device) -> "TensorSplit":
        device = torch.device(device)
        return self if self.x.device == device else replace(self, x=self.x.to(device), y=self.y.to(device))

    def batches(self, batch_size, device, shuffle=False, generator=None):
        data = self.to(device)
        n = len(data)
        starts = list(range(0, n, int(batch_size)))
        if shuffle:
            order = torch.randperm(n, generator=generator, device=data.x.device)
            if len(starts) > 1 and n - starts[-1] == 1:
                starts.pop()
            for s in starts:
                idx = order[s : s + batch_size]
                yield data.x[idx], data.y[idx]
        else:
            for s in starts:
                yield data.x[s : s + batch_size], data.y[s : s + batch_size]


class _Items(torch.utils.data.Dataset):
    """``(image tensor, label)`` pairs produced by ``load`` from a list of items (file paths)."""

    def __init__(self, items: Sequence, labels: np.ndarray, load: Callable[[object], torch.Tensor]) -> None:
        self.items, self.y, self.load = list(items), labels, load

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        return self.load(self.items[i]), int(self.y[i])


@dataclass(frozen=True, eq=False)
class StreamSplit(Split):
    """Images read on demand by ``load`` (decode, resize, normalise) in ``workers`` processes.

    Attributes:
        items: what ``load`` reads, one per image (file paths).
        y: class indices.
        load: a picklable function from an item to a ``c x h x w`` float32 tensor.
        workers: ``DataLoader`` worker processes (0 reads in the training process).
    """

    items: tuple
    y: np.ndarray
    load: Callable[[object], torch.Tensor]
    workers: int = 2

    def __len__(self) -> int:
        return len(self.items)

    @property
    def labels(self) -> np.ndarray:
        return self.y

    def to(self, device) -> "StreamSplit":
        return self

    def batches(self, batch_size, device, shuffle=False, generator=None):
        sampler_generator = None
        if shuffle:
            draw = torch.randint(2**62, (1,), generator=generator, device=generator.device if generator else "cpu")
            sampler_generator = torch.Generator().manual_seed(int(draw))
        loader = torch.utils.data.DataLoader(
            _Items(self.items, self.y, self.load), batch_size=int(batch_size), shuffle=shuffle,
            generator=sampler_generator, num_workers=int(self.workers), drop_last=False,
            persistent_workers=False, pin_memory=torch.device(device).type == "cuda",
        )
        n = len(self)
        last = n - (n // batch_size) * batch_size
        for i, (x, y) in enumerate(loader):
            if shuffle and last == 1 and i == len(loader) - 1 and len(loader) > 1:
                break
            yield x.to(device, non_blocking=True), y.to(device, non_blocking=True)
