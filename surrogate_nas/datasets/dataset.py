"""The loaded dataset: three splits, the input shape and the class count, plus the helpers
every loader shares (a stratified split and per-channel standardisation)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from surrogate_nas.datasets.preprocessing import Preprocessing, RawInput
from surrogate_nas.datasets.splits import Split, TensorSplit

SPLIT_FRACTIONS = (0.2, 0.2)
"""``(valid, test)`` fractions of a dataset without a fixed split; the rest is train."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train, valid and test splits of one image-classification dataset.

    Attributes:
        name: the dataset's identity in the database (``digits``, ``cifar10``, or for data
            of your own its kind and content fingerprint, e.g. ``images-3fa2b1c4d5e6``):
            the same data anywhere shares rows, different data never does.
        train, valid, test: the splits.
        input_shape: ``(channels, height, width)`` of one image.
        num_classes: number of classes; labels are ``0 .. num_classes - 1``.
        source: where the data came from (a path, or the built-in name), for messages.
        class_names: the class of each label, when known.
        preprocessing: how a raw input becomes what the network sees (what an exported network
            folds in), when the loader knows it.
    """

    name: str
    train: Split
    valid: Split
    test: Split
    input_shape: tuple[int, int, int]
    num_classes: int
    source: str = ""
    class_names: tuple[str, ...] = ()
    preprocessing: Preprocessing | None = None

    @property
    def in_memory(self) -> bool:
        return all(isinstance(s, TensorSplit) for s in (self.train, self.valid, self.test))

    def to(self, device) -> "Dataset":
        """The same dataset with in-memory splits moved to ``device`` (``self`` if already there)."""
        moved = {k: getattr(self, k).to(device) for k in ("train", "valid", "test")}
        if all(moved[k] is getattr(self, k) for k in moved):
            return self
        return replace(self, **moved)

    def __repr__(self) -> str:
        sizes = f"{len(self.train)}/{len(self.valid)}/{len(self.test)}"
        where = "memory" if self.in_memory else "streamed"
        return (f"Dataset({self.name!r}, train/valid/test={sizes}, input_shape={self.input_shape}, "
                f"num_classes={self.num_classes}, {where})")


def stratified_split(labels: np.ndarray, fractions: tuple[float, ...], seed: int) -> list[np.ndarray]:
    """Split indices of ``labels`` into ``len(fractions) + 1`` sorted parts, class by class.

    Part ``i + 1`` gets ``round(fractions[i] * n_c)`` of each class's ``n_c`` items;
    part 0 gets the rest. Works for classes of any size, unlike a split that
    insists on every class appearing in every part.
    """
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in range(len(fractions) + 1)]
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        sizes = [int(round(f * len(idx))) for f in fractions]
        start = len(idx) - sum(sizes)
        parts[0].append(idx[:start])
        for i, size in enumerate(sizes, start=1):
            parts[i].append(idx[start : start + size])
            start += size
    return [np.sort(np.concatenate(p)).astype(np.int64) for p in parts]


def channel_stats(x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std (``1 x c x 1 x 1``) of ``n x c x h x w`` training images; a zero std becomes 1."""
    mean = x_train.mean(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
    std = x_train.std(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
    std[std == 0] = 1.0
    return mean, std


def in_memory(name: str, splits, num_classes: int, source: str = "", class_names=(),
              raw: RawInput | None = None) -> Dataset:
    """A dataset of ``[(x, y)] * 3`` numpy splits, standardised with the training split's statistics.

    ``raw`` says what the inputs were before the loader made ``n x c x h x w`` floats of them
    (default: they were such floats already).
    """
    (xtr, ytr), (xva, yva), (xte, yte) = splits
    mean, std = channel_stats(xtr)
    xs = [torch.from_numpy(((x - mean) / std).astype(np.float32)) for x in (xtr, xva, xte)]
    ys = [torch.from_numpy(np.asarray(y, dtype=np.int64)) for y in (ytr, yva, yte)]
    shape = tuple(xs[0].shape[1:])
    return Dataset(name, *(TensorSplit(x, y) for x, y in zip(xs, ys)), shape, int(num_classes), source,
                   tuple(class_names), standardisation(raw or RawInput(shape), mean, std, shape))


def standardisation(raw: RawInput, mean: np.ndarray, std: np.ndarray, shape) -> Preprocessing:
    """The :class:`Preprocessing` of ``raw`` inputs standardised by :func:`channel_stats`' ``mean`` and ``std``."""
    return Preprocessing(raw, tuple(float(v) for v in np.ravel(mean)), tuple(float(v) for v in np.ravel(std)),
                         tuple(int(v) for v in shape))
