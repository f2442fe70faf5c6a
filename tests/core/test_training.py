"""Training: reproducible, records divergence and failure, and learns the digits."""

import math
from dataclasses import replace

import pytest
import torch

from surrogate_nas.spaces.nb201.cell import Cell
from surrogate_nas.datasets import Dataset, TensorSplit, load_dataset
from surrogate_nas.device import resolve_device
from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig, Status, TrainConfig
from surrogate_nas.training import train

CONV_CELL = Cell.from_string(
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
)
SMALL = NetworkConfig(channels=4, cells_per_stage=1)
SHORT = TrainConfig(epochs=2, batch_size=64)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


@pytest.fixture(scope="module")
def small_digits(digits):
    """A 320-image training split keeps the repeated runs below cheap."""
    return replace(digits, train=TensorSplit(digits.train.x[:320], digits.train.y[:320]))


@pytest.fixture(scope="module")
def seed0_runs(small_digits):
    before = torch.get_rng_state()
    runs = [train("nb201", CONV_CELL, SMALL, SHORT, small_digits, seed=0, device="cpu") for _ in range(2)]
    after = torch.get_rng_state()
    return runs, torch.equal(before, after)


def test_result_describes_the_run(seed0_runs, small_digits):
    r = seed0_runs[0][0]
    assert r.status is Status.OK and r.message == ""
    assert r.arch == CONV_CELL.to_string() and r.canonical_key == CONV_CELL.canonical_key
    assert r.dataset == "digits" and r.network == SMALL and r.train == SHORT and r.seed == 0
    assert len(r.train_losses) == len(r.valid_accs) == SHORT.epochs
    assert all(math.isfinite(v) and v > 0 for v in r.train_losses)
    assert r.valid_acc == r.valid_accs[-1]
    assert 0 <= r.valid_acc <= 100 and 0 <= r.test_acc <= 100
    assert r.params > 0 and r.flops > r.params and r.device == "cpu" and r.train_seconds > 0


def test_same_seed_gives_identical_curves(seed0_runs):
    (a, b), _ = seed0_runs
    assert a.train_losses == b.train_losses
    assert a.valid_accs == b.valid_accs and a.test_acc == b.test_acc


def test_training_leaves_the_global_random_state_alone(seed0_runs):
    _, unchanged = seed0_runs
    assert unchanged


def test_another_seed_gives_another_curve(seed0_runs, small_digits):
    (a, _), _ = seed0_runs
    c = train("nb201", CONV_CELL, SMALL, SHORT, small_digits, seed=1, device="cpu")
    assert c.train_losses != a.train_losses


def test_huge_learning_rate_is_recorded_as_diverged(small_digits):
    r = train("nb201", CONV_CELL, SMALL, TrainConfig(epochs=3, learning_rate=1e6), small_digits, seed=0, device="cpu")
    assert r.status is Status.DIVERGED
    assert "loss became" in r.message
    assert r.valid_acc is None and r.test_acc is None
    assert len(r.train_losses) < 3 and all(math.isfinite(v) for v in r.train_losses)


def test_an_error_inside_training_is_recorded_as_failed(small_digits):
    bad = replace(small_digits, train=TensorSplit(small_digits.train.x, torch.full_like(small_digits.train.y, 99)))
    r = train("nb201", CONV_CELL, SMALL, SHORT, bad, seed=0, device="cpu")
    assert r.status is Status.FAILED
    assert r.message and r.valid_acc is None and r.train_losses == ()
    assert r.params > 0


def test_three_epochs_on_digits_learn_well_above_chance(digits):
    r = train("nb201", CONV_CELL, NetworkConfig(channels=8, cells_per_stage=1), TrainConfig(epochs=3), digits, seed=0)
    assert r.status is Status.OK
    assert r.valid_acc > 50 and r.test_acc > 50
    assert r.train_losses[-1] < r.train_losses[0]


def test_batch_larger_than_the_data_and_momentum_zero_still_train(small_digits):
    config = TrainConfig(epochs=1, batch_size=10_000, momentum=0.0)
    r = train("nb201", CONV_CELL, SMALL, config, small_digits, seed=0, device="cpu")
    assert r.status is Status.OK and len(r.valid_accs) == 1


@pytest.mark.parametrize("device", ["banana", "cuda:99", "tpu", 3])
def test_unknown_or_absent_device_is_an_input_error(device, small_digits):
    with pytest.raises(InputDataError):
        train("nb201", CONV_CELL, SMALL, SHORT, small_digits, seed=0, device=device)


def test_auto_device_follows_cuda_availability():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")


def test_colour_images_of_another_size_and_class_count_train():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(48, 3, 16, 12, generator=g)
    y = torch.arange(48) % 3
    data = Dataset("noise", TensorSplit(x[:32], y[:32]), TensorSplit(x[32:40], y[32:40]), TensorSplit(x[40:], y[40:]),
                   (3, 16, 12), 3)
    r = train("nb201", CONV_CELL, SMALL, TrainConfig(epochs=1, batch_size=16), data, seed=0, device="cpu")
    assert r.status is Status.OK and r.dataset == "noise"
    assert r.test_acc in {100 * k / 8 for k in range(9)}


def test_a_paused_and_resumed_run_gives_exactly_the_uninterrupted_curve(small_digits):
    config = TrainConfig(epochs=3, batch_size=64, augment=True)
    whole = train("nb201", CONV_CELL, SMALL, config, small_digits, seed=0, device="cpu")
    first = train("nb201", CONV_CELL, SMALL, config, small_digits, seed=0, device="cpu", stop_after=1)
    assert first.paused and first.epochs_done == 1 and first.valid_acc == first.valid_accs[-1]
    rest = train("nb201", CONV_CELL, SMALL, config, small_digits, seed=0, device="cpu", resume=first.checkpoint)
    assert not rest.paused and rest.checkpoint is None
    assert rest.valid_accs == whole.valid_accs and rest.train_losses == whole.train_losses
    assert rest.test_acc == whole.test_acc and rest.train_seconds > first.train_seconds
    assert whole.valid_accs[:1] == first.valid_accs, "a low fidelity is the first epochs of the full schedule"


def test_a_checkpoint_of_another_run_or_a_bad_stop_is_refused(small_digits):
    config = TrainConfig(epochs=2, batch_size=64)
    first = train("nb201", CONV_CELL, SMALL, config, small_digits, seed=0, device="cpu", stop_after=1)
    with pytest.raises(InputDataError, match="another training run"):
        train("nb201", CONV_CELL, SMALL, config, small_digits, seed=1, device="cpu", resume=first.checkpoint)
    with pytest.raises(InputDataError, match="not a training checkpoint"):
        train("nb201", CONV_CELL, SMALL, config, small_digits, seed=0, device="cpu", resume=b"junk")
    with pytest.raises(InputDataError, match="stop_after"):
        train("nb201", CONV_CELL, SMALL, config, small_digits, seed=0, device="cpu", stop_after=3)
    with pytest.raises(InputDataError, match="nothing to train"):
        train("nb201", CONV_CELL, SMALL, config, small_digits, seed=0, device="cpu", stop_after=1,
              resume=first.checkpoint)
