"""A folder of labelled images: one sub-folder per class, PNG or JPEG files inside.

Two layouts are read:

* ``root/<class>/<image>``: split into train/valid/test (60/20/20, stratified by class,
  set by the seed), as the digits are;
* ``root/train/<class>/...``, ``root/valid/<class>/...`` and optionally ``root/test/<class>/...``:
  a fixed split (without ``test/``, the validation images are also the test images).

Every image must decode and, unless ``image_size`` resizes them all to a square, all must
have one size. Grayscale folders stay one-channel; anything else is read as RGB. The
dataset's identity is the content: a fingerprint of every image's bytes by split and class,
so a copy of the folder elsewhere shares database rows and a different folder never does.

Small data is decoded once into memory; data that would not fit comfortably
(:data:`MEMORY_BUDGET_BYTES` as float32) is streamed through a ``DataLoader`` whose worker
processes decode, resize and normalise images while the network trains.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch

from surrogate_nas.datasets.dataset import (
    SPLIT_FRACTIONS,
    Dataset,
    channel_stats,
    in_memory,
    standardisation,
    stratified_split,
)
from surrogate_nas.datasets.preprocessing import RawInput
from surrogate_nas.datasets.splits import StreamSplit
from surrogate_nas.errors import DatasetError

EXTENSIONS = (".png", ".jpg", ".jpeg")
SPLITS = ("train", "valid", "test")
MEMORY_BUDGET_BYTES = 2 * 1024**3
"""Data larger than this as float32 tensors is streamed from disk instead of held in memory."""

STATS_SAMPLE = 1000
"""Training images read to estimate the per-channel mean and std of streamed data."""


@dataclass(frozen=True)
class ImageFile:
    """One image of the folder, with its class index."""

    path: Path
    label: int


def load_image_folder(root, image_size: int | None = None, seed: int = 0, storage: str = "auto",
                      workers: int = 2) -> Dataset:
    """Read the image folder ``root`` (see the module docstring).

    Args:
        root: the folder.
        image_size: resize every image to ``image_size x image_size``; required when sizes differ.
        seed: seeds the train/valid/test split of a folder without a fixed split.
        storage: ``"auto"``, ``"memory"`` or ``"stream"``.
        workers: ``DataLoader`` worker processes when streaming.

    Raises:
        DatasetError: no images, a single class, an unreadable image, or mixed sizes without
            ``image_size``; the message names the file or folder.
    """
    from PIL import Image

    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetError(f"image folder {str(root)!r} does not exist")
    split_files, classes = _scan(root)
    files = [f for part in split_files.values() for f in part]
    shape, mode, digest, (raw_w, raw_h) = _inspect(split_files, classes, image_size, Image)
    size_tag = f"-{image_size}px" if image_size else ""
    name = f"images-{digest[:12]}{size_tag}"
    if "train" in split_files:
        train = split_files["train"]
        valid = split_files["valid"]
        test = split_files.get("test") or valid
    else:
        labels = np.array([f.label for f in files])
        tr, va, te = stratified_split(labels, SPLIT_FRACTIONS, seed)
        train, valid, test = ([files[i] for i in idx] for idx in (tr, va, te))
    n_bytes = 4 * len(files) * int(np.prod(shape))
    read = partial(_read, mode=mode, image_size=image_size)
    raw = RawInput((raw_h, raw_w) if mode == "L" else (raw_h, raw_w, 3), "uint8", "hw" if mode == "L" else "hwc", 255.0,
                   image_size, f"decoded images, numpy.asarray(PIL.Image.open(file).convert({mode!r}))")
    if storage == "memory" or (storage == "auto" and n_bytes <= MEMORY_BUDGET_BYTES):
        splits = [(np.stack([read(f.path) for f in part]), np.array([f.label for f in part])) for part in
                  (train, valid, test)]
        return in_memory(name, splits, len(classes), str(root), classes, raw)
    sample = train[:: max(1, len(train) // STATS_SAMPLE)]
    mean, std = channel_stats(np.stack([read(f.path) for f in sample]))
    load = partial(_normalised, mode=mode, image_size=image_size, mean=mean[0].astype(np.float32),
                   std=std[0].astype(np.float32))
    streamed = [StreamSplit(tuple(f.path for f in part), np.array([f.label for f in part]), load, workers)
                for part in (train, valid, test)]
    return Dataset(name, *streamed, shape, len(classes), str(root), classes, standardisation(raw, mean, std, shape))


def _scan(root: Path) -> tuple[dict[str, list[ImageFile]], tuple[str, ...]]:
    """Image files by split (``"all"`` without a fixed split) and the sorted class names."""
    subdirs = sorted(p.name for p in root.iterdir() if p.is_dir())
    fixed = "train" in subdirs and "valid" in subdirs
    if fixed:
        classes = tuple(sorted(p.name for p in (root / "train").iterdir() if p.is_dir()))
        parts = {s: root / s for s in SPLITS if (root / s).is_dir()}
    else:
        classes = tuple(subdirs)
        parts = {"all": root}
    if not classes:
        raise DatasetError(f"image folder {str(root)!r} has no class sub-folders; expected "
                           f"{root}/<class>/<image>.png (or train/ and valid/ folders of classes)")
    if len(classes) < 2:
        raise DatasetError(f"image folder {str(root)!r} has a single class ({classes[0]!r}); "
                           "classification needs at least 2")
    out: dict[str, list[ImageFile]] = {}
    for split, folder in parts.items():
        unknown = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name not in classes)
        if unknown:
            raise DatasetError(f"{folder}/{unknown[0]} is a class that {root}/train does not have")
        files = []
        for label, cls in enumerate(classes):
            class_dir = folder / cls
            if class_dir.is_dir():
                files += [ImageFile(p, label) for p in sorted(class_dir.iterdir())
                          if p.is_file() and p.suffix.lower() in EXTENSIONS]
        if not files:
            raise DatasetError(f"image folder {str(folder)!r} holds no {'/'.join(EXTENSIONS)} images in its "
                               "class sub-folders")
        out[split] = files
    return out, classes


def _inspect(split_files: dict[str, list[ImageFile]], classes: tuple[str, ...], image_size: int | None,
             image_module) -> tuple[tuple[int, int, int], str, str, tuple[int, int]]:
    """Check every image opens and sizes agree; return the input shape, the PIL mode, a content digest and
    the first image's size (width, height) as decoded.

    The digest covers each image's bytes with its split and class name, in sorted order,
    so it does not depend on file names or on where the folder is.
    """
    entries: list[str] = []
    sizes: dict[tuple[int, int], Path] = {}
    gray = True
    for split, files in split_files.items():
        for f in files:
            try:
                data = f.path.read_bytes()
                with image_module.open(f.path) as img:
                    img.verify()
                with image_module.open(f.path) as img:
                    sizes.setdefault(img.size, f.path)
                    gray = gray and img.mode in ("1", "L", "I;16", "I")
            except (OSError, SyntaxError, ValueError) as exc:
                raise DatasetError(f"cannot read image {str(f.path)!r}: {type(exc).__name__}: {exc}") from None
            entries.append(f"{split}/{classes[f.label]}:{hashlib.sha1(data).hexdigest()}")
    digest = hashlib.sha1("\n".join(sorted(entries)).encode())
    if len(sizes) > 1 and not image_size:
        (a, pa), (b, pb) = list(sizes.items())[:2]
        raise DatasetError(f"images differ in size ({pa} is {a[0]}x{a[1]}, {pb} is {b[0]}x{b[1]}); "
                           "pass --image-size N to resize them all to N x N")
    width, height = (image_size, image_size) if image_size else next(iter(sizes))
    channels = 1 if gray else 3
    if image_size:
        digest.update(f"size={image_size}".encode())
    return (channels, height, width), ("L" if gray else "RGB"), digest.hexdigest(), next(iter(sizes))


def _read(path: Path, mode: str, image_size: int | None) -> np.ndarray:
    """One image as ``c x h x w`` float32 in ``[0, 1]``."""
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert(mode)
        if image_size:
            img = img.resize((image_size, image_size), Image.BILINEAR)
        array = np.asarray(img, dtype=np.float32) / 255.0
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def _normalised(path: Path, mode: str, image_size: int | None, mean: np.ndarray, std: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(((_read(path, mode, image_size) - mean) / std).astype(np.float32))
