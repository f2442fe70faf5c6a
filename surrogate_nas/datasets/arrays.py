"""Images and labels as arrays in a ``.npz`` file.

The file holds ``x`` (images) and ``y`` (integer labels ``0 .. k-1``), and optionally
``x_valid``/``y_valid`` and ``x_test``/``y_test`` for a fixed split (without the test pair,
the validation pair is also the test split; without either, train/valid/test are split
60/20/20 by class, set by the seed) and ``class_names``. Images may be ``n x h x w``
(grayscale), ``n x c x h x w`` or ``n x h x w x c`` (the channel axis is the one of size
1, 3 or 4); ``uint8`` values are scaled to ``[0, 1]``. The dataset's identity is a
fingerprint of the arrays, so the same data in another file shares database rows.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np

from surrogate_nas.datasets.preprocessing import RawInput
from surrogate_nas.datasets.dataset import SPLIT_FRACTIONS, Dataset, in_memory, stratified_split
from surrogate_nas.errors import DatasetError

PAIRS = (("x", "y"), ("x_valid", "y_valid"), ("x_test", "y_test"))


def load_npz(path, image_size: int | None = None, seed: int = 0) -> Dataset:
    """Read ``path`` (see the module docstring).

    Raises:
        DatasetError: unreadable file, missing or mismatched arrays, non-integer or
            out-of-range labels, fewer than two classes, images that are not 2-d.
    """
    path = Path(path).expanduser()
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"cannot read {str(path)!r} as a .npz file of arrays: {type(exc).__name__}: {exc}") from None
    if "x" not in arrays or "y" not in arrays:
        raise DatasetError(f"{path} needs arrays 'x' (images) and 'y' (labels); it has {', '.join(arrays) or 'none'}")
    for a, b in PAIRS:
        if (a in arrays) != (b in arrays):
            raise DatasetError(f"{path} has {a if a in arrays else b} without {b if a in arrays else a}")
    given = [(arrays[a], arrays[b], a, b) for a, b in PAIRS if a in arrays]
    raw = _raw_input(arrays["x"], image_size)
    pairs = [(_images(path, x, a), _labels(path, y, b, len(x))) for x, y, a, b in given]
    num_classes = int(pairs[0][1].max()) + 1
    if num_classes < 2 or len(np.unique(pairs[0][1])) < 2:
        raise DatasetError(f"{path}: 'y' holds a single class; classification needs at least 2")
    for (_, y), (_, _, _, b) in zip(pairs, given):
        if y.max() >= num_classes:
            raise DatasetError(f"{path}: '{b}' has label {int(y.max())}, outside the training labels 0..{num_classes - 1}")
    shapes = {x.shape[1:] for x, _ in pairs}
    if len(shapes) > 1:
        raise DatasetError(f"{path}: the splits' images differ in shape ({sorted(shapes)})")
    if image_size:
        pairs = [(_resize(x, image_size), y) for x, y in pairs]
    digest = hashlib.sha1()
    for (x, y), (_, _, a, b) in zip(pairs, given):
        digest.update(f"{a}{x.shape}{b}{y.shape}".encode())
        digest.update(np.ascontiguousarray(x).tobytes())
        digest.update(np.ascontiguousarray(y).tobytes())
    name = f"npz-{digest.hexdigest()[:12]}" + (f"-{image_size}px" if image_size else "")
    if len(pairs) == 1:
        x, y = pairs[0]
        splits = [(x[i], y[i]) for i in stratified_split(y, SPLIT_FRACTIONS, seed)]
    else:
        splits = pairs + ([pairs[1]] if len(pairs) == 2 else [])
    names = [str(n) for n in arrays["class_names"]] if "class_names" in arrays else []
    return in_memory(name, splits, num_classes, str(path), names, raw)


def _raw_input(x: np.ndarray, image_size: int | None) -> RawInput:
    """How :func:`_images` (and the resize) read rows of ``x``."""
    layout = "hw" if x.ndim == 3 else "hwc" if x.ndim == 4 and x.shape[-1] in (1, 3, 4) and x.shape[1] not in (
        1, 3, 4) else "chw"
    return RawInput(x.shape[1:], x.dtype.name, layout, 255.0 if x.dtype == np.uint8 else 1.0, image_size,
                    "rows of the .npz file's x array")


def _images(path: Path, x: np.ndarray, key: str) -> np.ndarray:
    """``n x c x h x w`` float32 images in ``[0, 1]`` (uint8) or as given (floats)."""
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
        x = x.transpose(0, 3, 1, 2)
    elif x.ndim != 4:
        raise DatasetError(f"{path}: '{key}' must hold n x h x w or n x c x h x w images, got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise DatasetError(f"{path}: '{key}' must be numbers, got {x.dtype}")
    x = x.astype(np.float32) / (255.0 if x.dtype == np.uint8 else 1.0)
    if not np.isfinite(x).all():
        raise DatasetError(f"{path}: '{key}' holds NaN or infinite values")
    return x


def _labels(path: Path, y: np.ndarray, key: str, n: int) -> np.ndarray:
    if y.ndim != 1 or len(y) != n:
        raise DatasetError(f"{path}: '{key}' must hold one label per image ({n}), got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        if not np.issubdtype(y.dtype, np.floating) or not np.all(np.mod(y, 1) == 0):
            raise DatasetError(f"{path}: '{key}' must hold integer class labels, got {y.dtype}")
    y = y.astype(np.int64)
    if len(y) and y.min() < 0:
        raise DatasetError(f"{path}: '{key}' has label {int(y.min())}; labels are 0 .. classes - 1")
    return y


def _resize(x: np.ndarray, size: int) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    return F.interpolate(torch.from_numpy(x), size=(size, size), mode="bilinear", antialias=True,
                         align_corners=False).numpy()
