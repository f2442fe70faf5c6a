"""Data of your own: image folders and .npz files, fingerprints, streaming, augmentation, presets."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from user_data import write_images

from surrogate_nas.datasets import DatasetSpec, StreamSplit, TensorSplit, is_dataset, load_dataset
from surrogate_nas.errors import DatasetError, InputDataError
from surrogate_nas.records import NetworkConfig, TrainConfig
from surrogate_nas.training import augment, train

@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("images") / "shapes", per_class=70)


def test_image_folder_is_split_stratified_and_named_by_its_content(folder, tmp_path):
    d = load_dataset(str(folder), seed=0)
    assert d.input_shape == (3, 8, 8) and d.num_classes == 3 and d.class_names == ("blue", "green", "red")
    assert (len(d.train), len(d.valid), len(d.test)) == (126, 42, 42) and d.in_memory
    assert d.name.startswith("images-") and d.source == str(folder)
    assert abs(float(d.train.x.mean())) < 1e-4
    copy = tmp_path / "elsewhere"
    shutil.copytree(folder, copy)
    for f in (copy / "red").iterdir():
        f.rename(f.with_name("renamed_" + f.name))
    assert load_dataset(str(copy), seed=0).name == d.name, "the same images anywhere are the same dataset"
    with Image.open(next((copy / "blue").iterdir())) as img:
        changed = img.copy()
    changed.putpixel((0, 0), (0, 0, 0))
    changed.save(next((copy / "blue").iterdir()))
    assert load_dataset(str(copy), seed=0).name != d.name, "different images are a different dataset"


def test_fixed_split_and_grayscale(tmp_path):
    root = tmp_path / "fixed"
    write_images(root, per_class=10, mode="L", split="train")
    write_images(root, per_class=4, mode="L", split="valid", seed=1)
    d = load_dataset(str(root))
    assert d.input_shape == (1, 8, 8) and (len(d.train), len(d.valid), len(d.test)) == (30, 12, 12)
    write_images(root, per_class=2, mode="L", split="test", seed=2)
    assert len(load_dataset(str(root)).test) == 6


def test_image_size_resizes_and_mixed_sizes_need_it(tmp_path):
    root = write_images(tmp_path / "mixed", per_class=5)
    write_images(root / "big", per_class=1, size=12)
    shutil.move(root / "big" / "red" / "red_000.png", root / "red" / "large.png")
    shutil.rmtree(root / "big")
    with pytest.raises(DatasetError, match="differ in size.*--image-size"):
        load_dataset(str(root))
    d = load_dataset(str(root), image_size=16)
    assert d.input_shape == (3, 16, 16) and d.name.endswith("-16px")


@pytest.mark.parametrize("breakage,message", [
    ("empty", "no class sub-folders"),
    ("one class", "single class"),
    ("unreadable", "cannot read image"),
    ("no images", "holds no"),
])
def test_bad_folders_say_what_is_wrong(tmp_path, breakage, message):
    root = tmp_path / "bad"
    root.mkdir()
    if breakage == "one class":
        write_images(root, per_class=3)
        shutil.rmtree(root / "red")
        shutil.rmtree(root / "green")
    elif breakage == "unreadable":
        write_images(root, per_class=3)
        (root / "red" / "broken.png").write_bytes(b"not a png")
    elif breakage == "no images":
        (root / "a").mkdir()
        (root / "b").mkdir()
        (root / "a" / "notes.txt").write_text("hello")
    with pytest.raises(DatasetError, match=message):
        load_dataset(str(root))


@pytest.mark.parametrize("workers", [0, 2])
def test_streamed_folder_serves_the_same_data_and_trains(folder, workers):
    memory = load_dataset(str(folder), seed=0)
    streamed = load_dataset(str(folder), seed=0, storage="stream", workers=workers)
    assert isinstance(streamed.train, StreamSplit) and not streamed.in_memory
    assert streamed.name == memory.name and streamed.input_shape == memory.input_shape
    xs, ys = zip(*streamed.valid.batches(16, torch.device("cpu")))
    assert torch.equal(torch.cat(ys), memory.valid.y)
    assert torch.allclose(torch.cat(xs).mean(), memory.valid.x.mean(), atol=0.1)
    shuffled = [y for _, y in streamed.train.batches(50, torch.device("cpu"), shuffle=True,
                                                     generator=torch.Generator().manual_seed(0))]
    assert sorted(torch.cat(shuffled).tolist()) == sorted(memory.train.y.tolist())
    result = train("nb201", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
                   "nor_conv_3x3~2|", NetworkConfig(4, 1), TrainConfig(epochs=2), streamed, 0, "cpu")
    assert result.status.value == "ok" and len(result.valid_accs) == 2 and result.dataset == memory.name


def npz(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def test_npz_layouts_splits_and_fingerprint(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (90, 8, 8, 3), dtype=np.uint8)
    y = np.repeat([0, 1, 2], 30)
    last = load_dataset(npz(tmp_path / "last.npz", x=x, y=y))
    first = load_dataset(npz(tmp_path / "first.npz", x=x.transpose(0, 3, 1, 2), y=y))
    assert last.input_shape == first.input_shape == (3, 8, 8) and last.num_classes == 3
    assert (len(last.train), len(last.valid), len(last.test)) == (54, 18, 18)
    assert last.name.startswith("npz-") and last.name == first.name, "the same images in another layout"
    assert load_dataset(npz(tmp_path / "copy.npz", x=x, y=y)).name == last.name
    gray = load_dataset(npz(tmp_path / "gray.npz", x=x[..., 0], y=y, x_valid=x[:9, ..., 0], y_valid=y[:9]))
    assert gray.input_shape == (1, 8, 8) and len(gray.valid) == len(gray.test) == 9 and len(gray.train) == 90
    assert load_dataset(npz(tmp_path / "s.npz", x=x, y=y), image_size=16).input_shape == (3, 16, 16)


@pytest.mark.parametrize("arrays,message", [
    ({"x": np.zeros((4, 8, 8))}, "needs arrays 'x'"),
    ({"x": np.zeros((4, 8, 8)), "y": np.array([0, 1, 0, -1])}, "label -1"),
    ({"x": np.zeros((4, 8, 8)), "y": np.array([0, 0, 0, 0])}, "single class"),
    ({"x": np.zeros((4, 8, 8)), "y": np.array([0, 1, 0, 1]), "x_valid": np.zeros((2, 8, 8)),
      "y_valid": np.array([0, 5])}, "label 5, outside"),
    ({"x": np.zeros((4, 8, 8)), "y": np.array([0.5, 1, 0, 1])}, "integer class labels"),
    ({"x": np.zeros((4, 8, 8)), "y": np.array([0, 1, 0])}, "one label per image"),
    ({"x": np.zeros((4, 8, 8)), "y": np.array([0, 1, 0, 1]), "x_valid": np.zeros((2, 8, 8))}, "without y_valid"),
])
def test_bad_npz_files_say_what_is_wrong(tmp_path, arrays, message):
    with pytest.raises(DatasetError, match=message):
        load_dataset(npz(tmp_path / "bad.npz", **arrays))


def test_dataset_names_and_options_are_checked(tmp_path, folder):
    assert is_dataset("digits") and is_dataset(str(folder)) and is_dataset("x.npz") and not is_dataset("table.csv")
    with pytest.raises(DatasetError, match="folder of images"):
        DatasetSpec("no/such/place").kind
    with pytest.raises(InputDataError, match="image-size applies"):
        load_dataset("digits", image_size=16)
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(str(tmp_path / "missing.npz"))


def test_augmentation_crops_and_flips_reproducibly():
    x = torch.arange(2 * 1 * 8 * 8, dtype=torch.float32).reshape(2, 1, 8, 8)
    a = augment(x, torch.Generator().manual_seed(0))
    b = augment(x, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, x)
    # Every output pixel is an input pixel or padding (0), in the same image.
    for i in range(2):
        assert set(a[i].flatten().tolist()) <= set(x[i].flatten().tolist()) | {0.0}


def test_nb201_preset_and_recipe_keys():
    nb = TrainConfig.preset("nb201")
    assert (nb.epochs, nb.batch_size, nb.learning_rate, nb.weight_decay, nb.augment) == (200, 256, 0.1, 5e-4, True)
    assert TrainConfig.preset("nb201", epochs=12).epochs == 12
    assert "augment" not in TrainConfig().recipe() and TrainConfig(augment=True).recipe()["augment"] is True
    with pytest.raises(InputDataError, match="unknown training preset"):
        TrainConfig.preset("imagenet")
    assert isinstance(load_dataset("digits").train, TensorSplit)
