"""Image-classification datasets for live training: built-in, a folder of images, or a ``.npz`` file.

A :class:`DatasetSpec` says where a dataset comes from and how to read it; it is a small
frozen value, so worker processes can load the same data again. :func:`load_dataset`
reads it into a :class:`Dataset` of three splits that hand out batches (in memory, or
streamed from disk for data too large for memory).

* a named dataset (:data:`DATASET_PLUGINS`): the built-in ``digits`` (scikit-learn's embedded
  8x8 digits, no download) and ``cifar10`` (CIFAR-10's python batches in the folder ``data_dir``;
  we never download), see :mod:`.builtin`;
* a folder of images, one sub-folder per class (:mod:`.images`);
* a ``.npz`` file of arrays ``x``, ``y`` (:mod:`.arrays`);
* a dataset plug-in: a name registered with :func:`register_dataset` or declared in an
  installed package's ``surrogate_nas.datasets`` entry-point group (see
  :mod:`surrogate_nas.plugins`), standing for a function that returns a :class:`Dataset`
  (:func:`in_memory` builds one from arrays).

Example:
    >>> data = load_dataset("digits", seed=0)
    >>> data.name, data.input_shape, data.num_classes, len(data.train)
    ('digits', (1, 8, 8), 10, 1079)

Importing this package does not import torch; loading a dataset does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from surrogate_nas.errors import DatasetError, InputDataError
from surrogate_nas.plugins import GROUPS, Registry, call_with_accepted

if TYPE_CHECKING:
    from surrogate_nas.datasets.dataset import Dataset

_BUILTIN = {"digits": "surrogate_nas.datasets.builtin:DIGITS", "cifar10": "surrogate_nas.datasets.builtin:CIFAR10"}

BUILTIN_DATASETS: tuple[str, ...] = tuple(_BUILTIN)
"""Datasets known by name out of the box; anything else is a plug-in, a folder of images or a ``.npz`` file."""

DEFAULT_DATASET = "digits"
"""What ``seed`` and ``quickstart`` train on unless told otherwise: embedded, no download."""


@dataclass(frozen=True)
class DatasetPlugin:
    """A named dataset of a plug-in.

    Attributes:
        loader: returns the :class:`Dataset`; called with the keywords it accepts among ``seed``
            (of the train/valid/test split), ``image_size`` and ``data_dir`` (the user's options).
        description: one line for listings.
        resizable: whether ``image_size`` applies (False: a dataset of fixed image size, which refuses it).
    """

    loader: Callable[..., Dataset]
    description: str = ""
    resizable: bool = True


def make_dataset_plugin(obj, name: str | None = None) -> DatasetPlugin:
    """A :class:`DatasetPlugin` from a plug-in's object: one already, or its loader function.

    Raises:
        TypeError: anything else.
    """
    if isinstance(obj, DatasetPlugin):
        return obj
    if callable(obj):
        doc = (getattr(obj, "__doc__", None) or "").strip()
        return DatasetPlugin(obj, doc.splitlines()[0] if doc else "")
    raise TypeError(f"expected a function returning a Dataset (or a DatasetPlugin), got {type(obj).__name__}")


DATASET_PLUGINS: Registry[DatasetPlugin] = Registry("dataset", GROUPS["dataset"], _BUILTIN, make_dataset_plugin)
"""Named datasets: the built-in ones, :func:`register_dataset` and ``surrogate_nas.datasets`` entry points."""


def register_dataset(name: str, loader, replace: bool = False) -> None:
    """Give a dataset a name usable wherever ``digits`` goes (``--benchmark NAME``, ``--dataset NAME``).

    Args:
        name: the name.
        loader: a function returning a :class:`Dataset` (see :class:`DatasetPlugin`), a
            :class:`DatasetPlugin`, or a ``module:function`` import path. Worker processes
            (``--workers``) find it only when it is an installed plug-in or an import path.
        replace: replace an earlier registration of the same name.

    Raises:
        InputDataError: a built-in name, or one already registered without ``replace``.
    """
    DATASET_PLUGINS.register(name, loader, replace)


def _is_plugin(text: str) -> bool:
    key = str(text).strip().lower()
    return key not in BUILTIN_DATASETS and key in DATASET_PLUGINS

STORAGES = ("auto", "memory", "stream")


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset comes from and how it is read.

    Attributes:
        source: a named dataset (``digits``, ``cifar10``, a plug-in's), a folder of images, or a
            ``.npz`` file.
        data_dir: the folder a named dataset reads its files from (``cifar10``'s), if it takes one.
        image_size: resize images to this square size (folders and ``.npz``).
        seed: seeds the train/valid/test split of data without a fixed split.
        storage: ``auto`` (memory unless too large), ``memory`` or ``stream`` (image folders).
        workers: ``DataLoader`` worker processes when streaming.
    """

    source: str
    data_dir: str | None = None
    image_size: int | None = None
    seed: int = 0
    storage: str = "auto"
    workers: int = 2

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not self.source.strip():
            raise DatasetError(f"a dataset is digits, cifar10, an image folder or a .npz file, got {self.source!r}")
        if self.image_size is not None and int(self.image_size) < 1:
            raise InputDataError(f"image size must be >= 1 pixel, got {self.image_size}")
        if self.storage not in STORAGES:
            raise InputDataError(f"storage must be one of {', '.join(STORAGES)}, got {self.storage!r}")
        object.__setattr__(self, "seed", int(self.seed))
        if self.source.strip().lower() in BUILTIN_DATASETS or _is_plugin(self.source):
            object.__setattr__(self, "source", self.source.strip().lower())

    @property
    def kind(self) -> str:
        """``named`` (a built-in or plug-in dataset), ``plugin`` (a plug-in's), ``images`` or ``npz``."""
        key = self.source.strip().lower()
        if key in BUILTIN_DATASETS:
            return "named"
        if _is_plugin(key):
            return "plugin"
        path = Path(self.source).expanduser()
        if path.suffix.lower() == ".npz":
            return "npz"
        if path.is_dir():
            return "images"
        raise DatasetError(
            f"unknown dataset {self.source!r}: expected {', '.join(DATASET_PLUGINS.names())}, a folder of images "
            "(one sub-folder per class) or a .npz file"
        )

    def load(self) -> Dataset:
        """The dataset; named ones are cached per spec in this process (files of yours may change)."""
        return _load_named(self) if self.kind in ("named", "plugin") else _load(self)


def is_dataset(text: str) -> bool:
    """Whether ``text`` names a dataset for live training (rather than a benchmark table)."""
    if str(text).strip().lower() in BUILTIN_DATASETS or _is_plugin(str(text)):
        return True
    path = Path(str(text)).expanduser()
    return path.suffix.lower() == ".npz" or path.is_dir()


def load_dataset(source: str | DatasetSpec, data_dir=None, seed: int = 0, image_size: int | None = None,
                 storage: str = "auto", workers: int = 2) -> Dataset:
    """Load a dataset on the CPU (see :class:`DatasetSpec` for the arguments).

    Raises:
        DatasetError: unknown name, missing folder or files, malformed files.
    """
    spec = source if isinstance(source, DatasetSpec) else DatasetSpec(
        str(source), None if data_dir is None else str(data_dir), image_size, seed, storage, workers)
    return spec.load()


@lru_cache(maxsize=8)
def _load_named(spec: DatasetSpec) -> Dataset:
    """A named dataset from its registry entry (cached per spec)."""
    from surrogate_nas.datasets.dataset import Dataset

    plugin = DATASET_PLUGINS.get(spec.source)
    if spec.image_size and not plugin.resizable:
        raise InputDataError(f"--image-size applies to image folders and .npz files, not to {spec.source}")
    try:
        data = call_with_accepted(plugin.loader, seed=spec.seed, image_size=spec.image_size, data_dir=spec.data_dir)
    except (DatasetError, InputDataError):
        raise
    except Exception as exc:  # noqa: BLE001 - a plug-in's failure is named, not a crash of ours
        if spec.kind != "plugin":
            raise
        raise DatasetError(f"dataset plug-in {spec.source!r} failed to load: {type(exc).__name__}: {exc}") from None
    if not isinstance(data, Dataset):
        raise DatasetError(f"dataset plug-in {spec.source!r} returned {type(data).__name__}, not a Dataset "
                           "(build one with surrogate_nas.datasets.in_memory)")
    return data


def _load(spec: DatasetSpec) -> Dataset:
    """A dataset read from a file or folder."""
    if spec.kind == "npz":
        from surrogate_nas.datasets.arrays import load_npz

        return load_npz(spec.source, spec.image_size, spec.seed)
    from surrogate_nas.datasets.images import load_image_folder

    return load_image_folder(spec.source, spec.image_size, spec.seed, spec.storage, spec.workers)


_LAZY = {"Dataset": "dataset", "in_memory": "dataset", "stratified_split": "dataset", "Split": "splits",
         "StreamSplit": "splits", "TensorSplit": "splits"}


def __getattr__(name: str):
    if name in _LAZY:  # torch is imported with them
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BUILTIN_DATASETS",
    "DEFAULT_DATASET",
    "DATASET_PLUGINS",
    "DatasetPlugin",
    "Dataset",
    "DatasetSpec",
    "Split",
    "StreamSplit",
    "TensorSplit",
    "in_memory",
    "is_dataset",
    "load_dataset",
    "register_dataset",
    "stratified_split",
]
