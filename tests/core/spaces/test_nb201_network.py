"""The network builder: shapes, structure and exactness of NAS-Bench-201's skeleton."""

import pytest
import torch

from surrogate_nas.spaces.nb201.cell import Cell
from surrogate_nas.errors import InputDataError
from surrogate_nas.spaces.nb201.network import build_network
from surrogate_nas.records import NetworkConfig

BEST = Cell.from_string(
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
)


@pytest.mark.parametrize(
    ("input_shape", "num_classes"), [((1, 8, 8), 10), ((3, 32, 32), 10), ((3, 16, 12), 7)]
)
def test_forward_gives_one_logit_row_per_input(input_shape, num_classes):
    net = build_network(BEST, NetworkConfig(channels=8, cells_per_stage=2), input_shape, num_classes)
    out = net(torch.randn(3, *input_shape))
    assert out.shape == (3, num_classes)
    assert torch.isfinite(out).all()


def test_skeleton_has_three_stages_joined_by_two_reductions():
    net = build_network(BEST, NetworkConfig(channels=4, cells_per_stage=3), (3, 32, 32), 10)
    kinds = [type(m).__name__ for m in net.cells]
    assert kinds == ["InferCell"] * 3 + ["ResNetBasicblock"] + ["InferCell"] * 3 + ["ResNetBasicblock"] + ["InferCell"] * 3
    assert [m.out_dim for m in net.cells] == [4] * 3 + [8] * 4 + [16] * 4
    assert net.classifier.in_features == 16
    assert net.stem[0].bias is None


def test_nb201_best_cell_has_published_parameter_count():
    # NAS-Bench-201 arch 6111 at C=16, N=5 on CIFAR-10: 1.073466 M parameters.
    net = build_network(BEST, NetworkConfig(channels=16, cells_per_stage=5), (3, 32, 32), 10)
    assert sum(p.numel() for p in net.parameters()) == 1_073_466


def test_edge_ops_match_the_cell():
    cell = Cell(("nor_conv_1x1", "skip_connect", "avg_pool_3x3", "none", "nor_conv_3x3", "skip_connect"))
    net = build_network(cell, NetworkConfig(channels=4), (1, 8, 8), 10)
    layers = net.cells[0].layers
    assert layers[0].op[1].kernel_size == (1, 1)
    assert isinstance(layers[1], torch.nn.Identity)
    assert isinstance(layers[2], torch.nn.AvgPool2d) and layers[2].count_include_pad is False
    assert torch.equal(layers[3](torch.ones(2, 4, 8, 8)), torch.zeros(2, 4, 8, 8))
    assert layers[4].op[1].kernel_size == (3, 3)
    assert isinstance(layers[4].op[0], torch.nn.ReLU) and isinstance(layers[4].op[2], torch.nn.BatchNorm2d)


def test_all_none_cell_makes_the_output_independent_of_the_input():
    net = build_network(Cell(("none",) * 6), NetworkConfig(channels=4), (1, 8, 8), 3).eval()
    with torch.no_grad():
        a = net(torch.randn(2, 1, 8, 8))
        b = net(torch.randn(2, 1, 8, 8))
    assert torch.equal(a, b)


def test_cell_is_left_unchanged_and_networks_are_independent():
    before = BEST.to_string()
    a = build_network(BEST, NetworkConfig(channels=4), (1, 8, 8), 10)
    b = build_network(BEST, NetworkConfig(channels=4), (1, 8, 8), 10)
    assert BEST.to_string() == before
    with torch.no_grad():
        a.classifier.weight.zero_()
    assert b.classifier.weight.abs().sum() > 0


@pytest.mark.parametrize(
    ("input_shape", "num_classes"),
    [((3, 30, 30), 10), ((3, 32), 10), ((0, 8, 8), 10), ((1, 8, 8), 1), ("abc", 10)],
)
def test_bad_shapes_are_input_errors(input_shape, num_classes):
    with pytest.raises(InputDataError):
        build_network(BEST, NetworkConfig(channels=4), input_shape, num_classes)


def test_a_string_instead_of_a_cell_is_an_input_error():
    with pytest.raises(InputDataError, match="Cell"):
        build_network(BEST.to_string(), NetworkConfig(), (1, 8, 8), 10)
