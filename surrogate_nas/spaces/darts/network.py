"""Build the DARTS evaluation network for a genotype: a plain ``torch.nn.Module``.

This is DARTS's ``NetworkCIFAR`` (``quark0/darts``, ``cnn/model.py`` and
``cnn/operations.py``) module for module, without the auxiliary head and drop-path
(training-time devices that do not change the function at inference)::

    stem: Conv3x3(in, 3C, bias=False) + BN
    N normal cells (C) -> reduction cell (2C) -> N normal cells (2C)
    -> reduction cell (4C) -> N normal cells (4C) -> global average pool -> Linear(16C, classes)

so ``3N + 2`` cells, reductions at ``layers // 3`` and ``2 * layers // 3`` (DARTS's 20-layer
CIFAR network is N=6, its 8-layer search network N=2). A cell preprocesses its two inputs to
its width (``FactorizedReduce`` for the one from before a reduction, a 1x1 ``ReLUConvBN``
otherwise), runs the genotype's 8 operations (stride 2 on the cell inputs of a reduction
cell) and concatenates nodes 2..5, so it outputs 4 times its width.

Example:
    >>> import torch
    >>> from surrogate_nas.records import NetworkConfig
    >>> from surrogate_nas.spaces.darts.genotype import DartsGenotype
    >>> g = DartsGenotype.from_compact("[[(0,3),(1,3),(0,3),(1,3),(0,3),(1,3),(0,3),(1,3)],"
    ...                                "[(0,0),(1,0),(0,0),(2,0),(0,0),(2,0),(0,0),(2,0)]]")
    >>> net = build_network(g, NetworkConfig(8, 1), (3, 8, 8), 10)
    >>> net(torch.zeros(2, 3, 8, 8)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

import torch
from torch import nn

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig
from surrogate_nas.spaces.darts.genotype import DartsCell, DartsGenotype
from surrogate_nas.spaces.darts.skeleton import REDUCTION_FACTOR, STEM_MULTIPLIER, CellSlot, cell_slots, final_channels
from surrogate_nas.spaces.inputs import check_input


class ReLUConvBN(nn.Module):
    """ReLU -> Conv (no bias) -> BatchNorm; the 1x1 preprocessing of a cell input."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class DilConv(nn.Module):
    """ReLU -> dilated depthwise conv -> pointwise conv -> BatchNorm (``dil_conv_kxk``)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, dilation: int) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel, stride=stride, padding=padding, dilation=dilation, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, kernel_size=1, padding=0, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class SepConv(nn.Module):
    """Two stacked depthwise-separable convs, the first carrying the stride (``sep_conv_kxk``)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel, stride=stride, padding=padding, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_in, kernel_size=1, padding=0, bias=False),
            nn.BatchNorm2d(c_in),
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel, stride=1, padding=padding, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, kernel_size=1, padding=0, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class FactorizedReduce(nn.Module):
    """Halve the resolution with two 1x1 stride-2 convs on offset grids, concatenated.

    The reduction-cell ``skip_connect`` and the preprocessing of an input from before a
    reduction; ``c_out`` must be even.
    """

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, padding=0, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, padding=0, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


def make_op(name: str, channels: int, stride: int) -> nn.Module:
    """One DARTS operation with ``channels`` in and out (``cnn/operations.py``'s ``OPS``)."""
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride=stride, padding=1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(channels, channels)
    if name == "sep_conv_3x3":
        return SepConv(channels, channels, 3, stride, 1)
    if name == "sep_conv_5x5":
        return SepConv(channels, channels, 5, stride, 2)
    if name == "dil_conv_3x3":
        return DilConv(channels, channels, 3, stride, 2, 2)
    if name == "dil_conv_5x5":
        return DilConv(channels, channels, 5, stride, 4, 2)
    raise InputDataError(f"unknown DARTS operation {name!r}")


class Cell(nn.Module):
    """One DARTS cell (``cnn/model.py``'s ``Cell``) in the place ``slot`` of the network."""

    def __init__(self, cell: DartsCell, slot: CellSlot) -> None:
        super().__init__()
        c = slot.channels
        if slot.reduction_prev:
            self.preprocess0: nn.Module = FactorizedReduce(slot.c_prev_prev, c)
        else:
            self.preprocess0 = ReLUConvBN(slot.c_prev_prev, c, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(slot.c_prev, c, 1, 1, 0)
        self.ops = nn.ModuleList(
            make_op(op, c, 2 if slot.reduction and source < 2 else 1) for op, source in cell.edges
        )
        self.sources = tuple(source for _, source in cell.edges)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for i in range(0, len(self.ops), 2):
            states.append(self.ops[i](states[self.sources[i]]) + self.ops[i + 1](states[self.sources[i + 1]]))
        return torch.cat(states[2:], dim=1)


class NetworkCIFAR(nn.Module):
    """DARTS's CIFAR network around a genotype (see module docstring)."""

    def __init__(
        self, genotype: DartsGenotype, channels: int, cells_per_stage: int, in_channels: int, num_classes: int
    ) -> None:
        super().__init__()
        stem = STEM_MULTIPLIER * channels
        self.stem = nn.Sequential(nn.Conv2d(in_channels, stem, 3, padding=1, bias=False), nn.BatchNorm2d(stem))
        self.cells = nn.ModuleList(
            Cell(genotype.reduce if slot.reduction else genotype.normal, slot)
            for slot in cell_slots(channels, cells_per_stage)
        )
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(final_channels(channels), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(self.global_pooling(s1).flatten(1))


def build_network(
    genotype: DartsGenotype, config: NetworkConfig, input_shape: tuple[int, int, int], num_classes: int
) -> nn.Module:
    """Build DARTS's ``NetworkCIFAR`` for ``genotype``.

    Args:
        genotype: the normal and reduction cells.
        config: initial width ``C`` and normal cells per stage ``N`` (``3N + 2`` cells).
        input_shape: ``(channels, height, width)`` of one input; height and width must be
            multiples of 4.
        num_classes: output logits.

    Returns:
        A freshly initialised module mapping ``b x channels x height x width`` to
        ``b x num_classes`` logits; initialisation uses torch's global generator.
    """
    if not isinstance(genotype, DartsGenotype):
        raise InputDataError(f"genotype must be a DartsGenotype, got {type(genotype).__name__}")
    (in_channels, _, _), classes = check_input(input_shape, num_classes, REDUCTION_FACTOR)
    return NetworkCIFAR(genotype, int(config.channels), int(config.cells_per_stage), in_channels, classes)
