"""The preprocessing a dataset records: folded into a module, raw inputs give exactly what training saw."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from surrogate_nas.datasets import load_dataset
from surrogate_nas.errors import InputDataError
from user_data import write_images


def folds_exactly(data) -> None:
    """The module on the recovered raw test inputs gives the test split the network trained beside."""
    p = data.preprocessing
    raw = p.raw_from(data.test.x)
    assert tuple(raw.shape[1:]) == p.raw.raw_shape and str(raw.dtype) == f"torch.{p.raw.raw_dtype}"
    assert (p.module()(raw) - data.test.x).abs().max() < 1e-5


def test_digits_take_scikit_learns_rows():
    from sklearn.datasets import load_digits

    data = load_digits()
    dataset = load_dataset("digits")
    folded = dataset.preprocessing.module()(torch.from_numpy(data.data[:5]))
    assert folded.shape == (5, 1, 8, 8)
    folds_exactly(dataset)


@pytest.mark.parametrize("shape, dtype, layout", [((40, 8, 8), np.float32, "hw"), ((40, 3, 8, 8), np.uint8, "chw"),
                                                  ((40, 8, 8, 3), np.uint8, "hwc")])
def test_npz_rows_in_every_layout(tmp_path, shape, dtype, layout):
    x = (np.random.default_rng(0).random(shape) * (255 if dtype == np.uint8 else 1)).astype(dtype)
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(40) % 2)
    dataset = load_dataset(str(tmp_path / "d.npz"))
    assert dataset.preprocessing.raw.layout == layout
    folds_exactly(dataset)


def test_resized_inputs_are_resized_inside_the_module_and_cannot_be_recovered(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (40, 10, 10, 3), dtype=np.uint8)
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(40) % 2)
    dataset = load_dataset(str(tmp_path / "d.npz"), image_size=8)
    assert dataset.preprocessing.module()(torch.from_numpy(x[:3])).shape == (3, 3, 8, 8)
    with pytest.raises(InputDataError):
        dataset.preprocessing.raw_from(dataset.test.x)


def test_image_folders_take_decoded_images(tmp_path):
    write_images(tmp_path / "imgs", per_class=6, size=8, mode="RGB")
    dataset = load_dataset(str(tmp_path / "imgs"))
    first = sorted((tmp_path / "imgs").rglob("*.png"))[0]
    decoded = np.array(Image.open(first).convert("RGB"))
    assert dataset.preprocessing.raw.raw_shape == decoded.shape
    assert dataset.preprocessing.module()(torch.from_numpy(decoded[None])).shape == (1, 3, 8, 8)
    folds_exactly(dataset)
