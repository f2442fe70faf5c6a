"""Image classification datasets as in-memory tensors, split and normalised once.

Training indexes these tensors directly (no ``DataLoader``), so a dataset is
loaded, split by seed and standardised with training-split statistics up
front. Two datasets are known:

* ``digits``: scikit-learn's embedded 8x8 handwritten digits (1,797 images,
  no download), split 60/20/20 into train/valid/test, stratified by class.
* ``cifar10``: the python-pickle release of CIFAR-10 in a folder you give
  (``data_batch_1`` .. ``data_batch_5``, ``test_batch``, optionally
  ``batches.meta``). 20% of the 50,000 training images, stratified by class,
  become the validation split; ``test_batch`` is the test split.

Example:
    >>> data = load_dataset("digits", seed=0)
    >>> data.input_shape, data.num_classes, tuple(data.x_train.shape)
    ((1, 8, 8), 10, (1079, 1, 8, 8))
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from surrogate_nas.errors import DatasetError

DATASETS: tuple[str, ...] = ("digits", "cifar10")
"""Names :func:`load_dataset` knows."""

DIGITS_FRACTIONS = (0.2, 0.2)
"""``(valid, test)`` fractions of the digits split; the rest is train."""

CIFAR10_VALID_FRACTION = 0.2
"""Fraction of the CIFAR-10 training images held out for validation."""

CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"
CIFAR10_META_FILE = "batches.meta"
_CIFAR10_SHAPE = (3, 32, 32)


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train, valid and test splits as tensors: ``x_*`` is ``n x c x h x w`` float32,
    ``y_*`` is ``n`` int64 class indices. Treat the tensors as read-only: loaded
    datasets are cached and shared."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_valid: torch.Tensor
    y_valid: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    input_shape: tuple[int, int, int]
    num_classes: int

    @property
    def device(self) -> torch.device:
        return self.x_train.device

    def to(self, device) -> "Dataset":
        """The same dataset with every tensor on ``device`` (``self`` if already there)."""
        device = torch.device(device)
        if self.device == device:
            return self
        moved = {
            k: getattr(self, k).to(device)
            for k in ("x_train", "y_train", "x_valid", "y_valid", "x_test", "y_test")
        }
        return replace(self, **moved)

    def __repr__(self) -> str:
        sizes = f"{len(self.y_train)}/{len(self.y_valid)}/{len(self.y_test)}"
        return (
            f"Dataset({self.name!r}, train/valid/test={sizes}, input_shape={self.input_shape}, "
            f"num_classes={self.num_classes}, device={self.device})"
        )


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, seed: int = 0) -> Dataset:
    """Load, split and normalise a dataset on the CPU.

    Args:
        name: one of :data:`DATASETS`.
        data_dir: folder with the files of datasets that are not embedded
            (``cifar10``: the ``cifar-10-batches-py`` folder or its parent).
        seed: seeds the train/valid(/test) split; the same seed gives the same split.

    Raises:
        DatasetError: unknown name, missing folder or files, malformed files.
    """
    key = str(name).strip().lower()
    if key == "digits":
        return _digits(int(seed))
    if key == "cifar10":
        return _cifar10(_cifar10_dir(data_dir), int(seed))
    raise DatasetError(f"unknown dataset {name!r}; known datasets are {', '.join(DATASETS)}")


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


def _standardise(x_train: np.ndarray, *others: np.ndarray) -> list[torch.Tensor]:
    """Per-channel standardisation with the training split's mean and std."""
    mean = x_train.mean(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
    std = x_train.std(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
    std[std == 0] = 1.0
    return [torch.from_numpy(((x - mean) / std).astype(np.float32)) for x in (x_train, *others)]


def _make(name: str, splits, num_classes: int) -> Dataset:
    (xtr, ytr), (xva, yva), (xte, yte) = splits
    xtr, xva, xte = _standardise(xtr, xva, xte)
    ys = [torch.from_numpy(np.asarray(y, dtype=np.int64)) for y in (ytr, yva, yte)]
    return Dataset(name, xtr, ys[0], xva, ys[1], xte, ys[2], tuple(xtr.shape[1:]), num_classes)


@lru_cache(maxsize=8)
def _digits(seed: int) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.data.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = bunch.target.astype(np.int64)
    train, valid, test = stratified_split(y, DIGITS_FRACTIONS, seed)
    return _make("digits", [(x[i], y[i]) for i in (train, valid, test)], 10)


def _cifar10_dir(data_dir) -> Path:
    needed = ", ".join((*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE))
    if data_dir is None:
        raise DatasetError(
            "cifar10 needs data_dir: a folder with the python version of CIFAR-10 "
            f"(cifar-10-batches-py, holding {needed})"
        )
    root = Path(data_dir).expanduser()
    if (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"
    if not root.is_dir():
        raise DatasetError(f"cifar10 data folder {str(root)!r} does not exist; it must hold {needed}")
    missing = [f for f in (*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE) if not (root / f).is_file()]
    if missing:
        raise DatasetError(
            f"cifar10 data folder {str(root)!r} lacks {', '.join(missing)}; expected {needed} "
            "(the python version of CIFAR-10)"
        )
    return root


def _get(d: dict, key: str):
    for k in (key.encode(), key):
        if k in d:
            return d[k]
    raise KeyError(key)


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 batch file: ``n x 3 x 32 x 32`` uint8 images and ``n`` labels."""
    try:
        with open(path, "rb") as fh:
            d = pickle.load(fh, encoding="bytes")
        data = np.asarray(_get(d, "data"), dtype=np.uint8)
        labels = np.asarray(_get(d, "labels"), dtype=np.int64)
        images = data.reshape(len(data), *_CIFAR10_SHAPE)
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DatasetError(
            f"{str(path)!r} is not a CIFAR-10 batch (a pickled dict with 'data', n x 3072 uint8, "
            f"and 'labels', n ints): {type(exc).__name__}: {exc}"
        ) from exc
    if labels.shape != (len(images),):
        raise DatasetError(f"{str(path)!r} has {len(images)} images but {labels.size} labels")
    return images, labels


def _num_classes(root: Path) -> int:
    meta = root / CIFAR10_META_FILE
    if not meta.is_file():
        return 10
    try:
        with open(meta, "rb") as fh:
            return len(_get(pickle.load(fh, encoding="bytes"), "label_names"))
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, AttributeError) as exc:
        raise DatasetError(f"{str(meta)!r} is not a CIFAR-10 meta file with 'label_names': {exc}") from exc


def _cifar10(root: Path, seed: int) -> Dataset:
    batches = [_read_batch(root / f) for f in CIFAR10_TRAIN_FILES]
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    x_test, y_test = _read_batch(root / CIFAR10_TEST_FILE)
    num_classes = _num_classes(root)
    for labels, where in ((y, "data_batch_*"), (y_test, CIFAR10_TEST_FILE)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise DatasetError(f"{where} in {str(root)!r} has labels outside 0..{num_classes - 1}")
    train, valid = stratified_split(y, (CIFAR10_VALID_FRACTION,), seed)
    scale = np.float32(1 / 255)
    splits = [(x[train] * scale, y[train]), (x[valid] * scale, y[valid]), (x_test * scale, y_test)]
    return _make("cifar10", splits, num_classes)
