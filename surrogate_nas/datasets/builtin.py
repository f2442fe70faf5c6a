"""The built-in datasets (:data:`DIGITS`, :data:`CIFAR10`, entries of the dataset registry): scikit-learn's embedded digits and CIFAR-10 from a folder.

* ``digits``: scikit-learn's embedded 8x8 handwritten digits (1,797 images,
  no download), split 60/20/20 into train/valid/test, stratified by class. The package
  carries the same arrays as ``surrogate_nas/data/digits.npz`` (see its ``PROVENANCE.md``):
  importing scikit-learn to read them would cost every worker process most of a second.
* ``cifar10``: the python-pickle release of CIFAR-10 in a folder you give
  (``data_batch_1`` .. ``data_batch_5``, ``test_batch``, optionally
  ``batches.meta``). 20% of the 50,000 training images, stratified by class,
  become the validation split; ``test_batch`` is the test split.

Example:
    >>> data = digits(seed=0)
    >>> data.input_shape, data.num_classes, len(data.train)
    ((1, 8, 8), 10, 1079)
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from surrogate_nas.datasets import DatasetPlugin
from surrogate_nas.datasets.preprocessing import RawInput
from surrogate_nas.datasets.dataset import SPLIT_FRACTIONS, Dataset, in_memory, stratified_split
from surrogate_nas.errors import DatasetError
from surrogate_nas.resources import data_file

DIGITS_FILE = "digits.npz"
"""``load_digits()``'s ``data`` (pixel values 0-16) and ``target`` as ``uint8`` arrays."""

CIFAR10_VALID_FRACTION = 0.2
"""Fraction of the CIFAR-10 training images held out for validation."""

CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"
CIFAR10_META_FILE = "batches.meta"
_CIFAR10_SHAPE = (3, 32, 32)


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """``(data, target)`` of ``load_digits()``, read from :data:`DIGITS_FILE`."""
    with data_file(DIGITS_FILE).open("rb") as fh, np.load(fh) as arrays:
        return arrays["data"], arrays["target"]


def digits(seed: int) -> Dataset:
    """scikit-learn's digits, split by ``seed`` (60/20/20, stratified)."""
    pixels, target = digits_arrays()
    x = (pixels.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = target.astype(np.int64)
    train, valid, test = stratified_split(y, SPLIT_FRACTIONS, seed)
    raw = RawInput((64,), "float64", "flat", 16.0, description="rows of sklearn.datasets.load_digits().data "
                                                              "(64 values 0-16)")
    return in_memory("digits", [(x[i], y[i]) for i in (train, valid, test)], 10, "digits",
                     [str(c) for c in range(10)], raw)


def cifar10(data_dir, seed: int) -> Dataset:
    """CIFAR-10's python batches in ``data_dir`` (or its ``cifar-10-batches-py`` sub-folder), split by ``seed``."""
    return _cifar10(_cifar10_dir(data_dir), seed)


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
    raw = RawInput((3072,), "uint8", "flat", 255.0, description="rows of a CIFAR-10 python batch's 'data' "
                                                                "(3072 uint8: red, green, blue planes)")
    return in_memory("cifar10", splits, num_classes, str(root), raw=raw)


DIGITS = DatasetPlugin(digits, "scikit-learn's embedded 8x8 handwritten digits (no download)", resizable=False)
"""The ``digits`` entry of :data:`~surrogate_nas.datasets.DATASET_PLUGINS`."""

CIFAR10 = DatasetPlugin(cifar10, "CIFAR-10's python batches in --data-dir (never downloaded)", resizable=False)
"""The ``cifar10`` entry of :data:`~surrogate_nas.datasets.DATASET_PLUGINS`."""
