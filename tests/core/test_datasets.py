"""Datasets: the embedded digits and CIFAR-10 read from a folder in the real pickle format."""

import pickle

import numpy as np
import pytest
import torch

from surrogate_nas.datasets import BUILTIN_DATASETS, Dataset, load_dataset
from surrogate_nas.errors import DatasetError


def write_cifar_folder(root, n_test=6, meta=True):
    """A tiny CIFAR-10 in the layout of ``cifar-10-batches-py``: pickled dicts with bytes keys,
    one image of each class in each of the five training files."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)

    def dump(name, n, labels):
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        with open(root / name, "wb") as fh:
            pickle.dump({b"batch_label": name.encode(), b"labels": list(labels), b"data": data}, fh)

    for i in range(1, 6):
        dump(f"data_batch_{i}", 10, range(10))
    # A test image whose red plane is all 255 and green/blue planes all 0.
    test = np.zeros((n_test, 3072), dtype=np.uint8)
    test[0, :1024] = 255
    with open(root / "test_batch", "wb") as fh:
        pickle.dump({b"labels": [i % 10 for i in range(n_test)], b"data": test}, fh)
    if meta:
        names = [n.encode() for n in ("airplane", "automobile", "bird", "cat", "deer",
                                      "dog", "frog", "horse", "ship", "truck")]
        with open(root / "batches.meta", "wb") as fh:
            pickle.dump({b"label_names": names, b"num_vis": 3072}, fh)
    return root


def test_known_names():
    assert BUILTIN_DATASETS == ("digits", "cifar10")


def test_digits_splits_are_stratified_standardised_and_complete():
    d = load_dataset("digits", seed=0)
    assert isinstance(d, Dataset)
    assert d.input_shape == (1, 8, 8) and d.num_classes == 10
    sizes = [len(d.train.y), len(d.valid.y), len(d.test.y)]
    assert sum(sizes) == 1797
    assert sizes[1] == pytest.approx(0.2 * 1797, abs=10) and sizes[2] == pytest.approx(0.2 * 1797, abs=10)
    for x, y in ((d.train.x, d.train.y), (d.valid.x, d.valid.y), (d.test.x, d.test.y)):
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert x.shape == (len(y), 1, 8, 8)
        assert set(y.tolist()) == set(range(10))
    assert abs(float(d.train.x.mean())) < 1e-4
    assert float(d.train.x.std()) == pytest.approx(1.0, abs=1e-3)


def test_the_packaged_digits_are_scikit_learns():
    from sklearn.datasets import load_digits

    from surrogate_nas.datasets.builtin import digits_arrays

    bunch, (data, target) = load_digits(), digits_arrays()
    assert np.array_equal(data, bunch.data) and np.array_equal(target, bunch.target)


def test_digits_split_depends_only_on_seed_and_is_cached():
    a, b, c = load_dataset("digits", seed=3), load_dataset("DIGITS", seed=3), load_dataset("digits", seed=4)
    assert a is b
    assert not torch.equal(a.train.y, c.train.y)
    rows = {tuple(r) for r in torch.cat([a.train.x, a.valid.x, a.test.x]).flatten(1).tolist()}
    # The splits partition the data (digits contains few exact duplicate images).
    assert len(rows) > 1700


def test_to_moves_every_tensor_and_keeps_the_original():
    d = load_dataset("digits")
    assert d.to("cpu") is d and d.in_memory
    moved = d.to("meta")
    assert moved.train.x.device.type == "meta" and moved.test.y.device.type == "meta"
    assert d.train.x.device.type == "cpu" and moved.input_shape == d.input_shape


def test_cifar10_reads_the_pickle_layout(tmp_path):
    write_cifar_folder(tmp_path / "cifar-10-batches-py")
    d = load_dataset("cifar10", data_dir=tmp_path, seed=0)  # the parent folder works too
    assert d.name == "cifar10" and d.input_shape == (3, 32, 32) and d.num_classes == 10
    assert len(d.train.y) + len(d.valid.y) == 50 and len(d.valid.y) == 10
    assert sorted(d.valid.y.tolist()) == list(range(10))
    assert len(d.test.y) == 6
    # Pixels are channel-major: the all-red test image is bright in channel 0 only.
    red = d.test.x[0]
    assert red[0].min() > red[1].max() and red[0].min() > red[2].max()
    assert torch.allclose(d.train.x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(d.train.x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-2)


def test_cifar10_split_follows_the_seed(tmp_path):
    write_cifar_folder(tmp_path)
    a = load_dataset("cifar10", data_dir=tmp_path, seed=0)
    b = load_dataset("cifar10", data_dir=tmp_path, seed=0)
    c = load_dataset("cifar10", data_dir=tmp_path, seed=1)
    assert torch.equal(a.valid.x, b.valid.x)
    assert not torch.equal(a.valid.x, c.valid.x)


def test_cifar10_without_meta_has_ten_classes(tmp_path):
    write_cifar_folder(tmp_path, meta=False)
    assert load_dataset("cifar10", data_dir=tmp_path).num_classes == 10


def test_cifar10_needs_a_folder():
    with pytest.raises(DatasetError, match="data_batch_1"):
        load_dataset("cifar10")


def test_cifar10_missing_folder_names_the_expected_files(tmp_path):
    with pytest.raises(DatasetError, match="test_batch"):
        load_dataset("cifar10", data_dir=tmp_path / "nowhere")


def test_cifar10_missing_file_is_named(tmp_path):
    write_cifar_folder(tmp_path)
    (tmp_path / "data_batch_4").unlink()
    with pytest.raises(DatasetError, match="lacks data_batch_4"):
        load_dataset("cifar10", data_dir=tmp_path)


@pytest.mark.parametrize(
    "content",
    [b"not a pickle at all", pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}),
     pickle.dumps({b"labels": [0]}), pickle.dumps([1, 2, 3])],
)
def test_cifar10_malformed_batch_is_a_dataset_error(tmp_path, content):
    write_cifar_folder(tmp_path)
    (tmp_path / "data_batch_2").write_bytes(content)
    with pytest.raises(DatasetError, match="data_batch_2"):
        load_dataset("cifar10", data_dir=tmp_path)


def test_cifar10_labels_out_of_range_are_rejected(tmp_path):
    write_cifar_folder(tmp_path)
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump({b"labels": [12], b"data": np.zeros((1, 3072), np.uint8)}, fh)
    with pytest.raises(DatasetError, match="labels outside"):
        load_dataset("cifar10", data_dir=tmp_path)


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(DatasetError, match="digits, cifar10, a folder of images") as info:
        load_dataset("mnist")
    assert isinstance(info.value, FileNotFoundError)
