"""Build the NAS-Bench-201 network for a cell: a plain ``torch.nn.Module``.

This is NAS-Bench-201's ``TinyNetwork`` (xautodl ``models/cell_infers``),
module for module, so parameter counts agree with the published tables::

    stem: Conv3x3(in, C, bias=False) + BN
    N cells (C) -> ResNet block (C -> 2C, stride 2)
    -> N cells (2C) -> ResNet block (2C -> 4C, stride 2)
    -> N cells (4C) -> BN + ReLU -> global average pool -> Linear(4C, classes)

Every cell uses the same :class:`~surrogate_nas.spaces.nb201.cell.Cell`; the cell value is
only read here, never stored in or mutated by the module.

Example:
    >>> import torch
    >>> from surrogate_nas.spaces.nb201.cell import Cell
    >>> from surrogate_nas.records import NetworkConfig
    >>> cell = Cell(("nor_conv_3x3",) * 6)
    >>> net = build_network(cell, NetworkConfig(channels=8), (1, 8, 8), 10)
    >>> net(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

import torch
from torch import nn

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig
from surrogate_nas.spaces.inputs import check_input
from surrogate_nas.spaces.nb201.cell import EDGES, Cell

REDUCTION_FACTOR = 4
"""Height and width must be divisible by this: two stride-2 reductions must agree
between the strided conv and the average-pool shortcut of each ResNet block."""


class ReLUConvBN(nn.Module):
    """ReLU -> Conv (no bias) -> BatchNorm, NAS-Bench-201's ``nor_conv_kxk``."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out, affine=True, track_running_stats=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Zero(nn.Module):
    """The ``none`` operation: multiplies by zero, keeping shape, device and graph."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int) -> nn.Module:
    """One cell edge with ``channels`` in and out at stride 1 (all cell edges are)."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise InputDataError(f"unknown operation {name!r}")


class InferCell(nn.Module):
    """A cell: node ``j`` is the sum of ``op(node_i)`` over its incoming edges."""

    def __init__(self, cell: Cell, channels: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(make_op(op, channels) for op in cell.ops)
        self.edges = EDGES
        self.out_dim = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for node in (1, 2, 3):
            total = None
            for layer, (dst, src) in zip(self.layers, self.edges):
                if dst == node:
                    out = layer(nodes[src])
                    total = out if total is None else total + out
            nodes.append(total)
        return nodes[3]


class ResNetBasicblock(nn.Module):
    """The stride-2 reduction between stages: two ReLUConvBN plus an avg-pool + 1x1 shortcut."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )
        self.out_dim = c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class TinyNetwork(nn.Module):
    """NAS-Bench-201's macro skeleton around one repeated cell (see module docstring)."""

    def __init__(self, cell: Cell, channels: int, cells_per_stage: int, in_channels: int, num_classes: int) -> None:
        super().__init__()
        c, n = channels, cells_per_stage
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(c),
        )
        layers: list[nn.Module] = []
        c_prev = c
        for stage, width in enumerate((c, 2 * c, 4 * c)):
            if stage > 0:
                layers.append(ResNetBasicblock(c_prev, width))
            layers.extend(InferCell(cell, width) for _ in range(n))
            c_prev = width
        self.cells = nn.ModuleList(layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for layer in self.cells:
            x = layer(x)
        x = self.global_pooling(self.lastact(x))
        return self.classifier(x.flatten(1))


def build_network(
    cell: Cell, config: NetworkConfig, input_shape: tuple[int, int, int], num_classes: int
) -> nn.Module:
    """Build NAS-Bench-201's ``TinyNetwork`` for ``cell``.

    Args:
        cell: the cell repeated in every stage.
        config: width ``C`` and cells per stage ``N`` (NAS-Bench-201 uses 16 and 5).
        input_shape: ``(channels, height, width)`` of one input; height and width
            must be multiples of 4.
        num_classes: output logits.

    Returns:
        A freshly initialised module mapping ``b x channels x height x width`` to
        ``b x num_classes`` logits. Initialisation uses torch's global generator,
        so seed it (or fork it) before calling for reproducible weights.
    """
    if not isinstance(cell, Cell):
        raise InputDataError(f"cell must be a Cell, got {type(cell).__name__}")
    (in_channels, _, _), classes = check_input(input_shape, num_classes, REDUCTION_FACTOR)
    return TinyNetwork(cell, int(config.channels), int(config.cells_per_stage), in_channels, classes)
