"""Build the NAS-Bench-101 network for a cell: a plain ``torch.nn.Module``.

This is ``nasbench/lib/model_builder.py`` in PyTorch, module for module, so parameter
counts agree with NAS-Bench-101's ``trainable_parameters``::

    stem: Conv3x3(in, C) + BN + ReLU
    N modules (C) -> MaxPool 2x2/2 -> N modules (2C) -> MaxPool 2x2/2 -> N modules (4C)
    -> global average pool -> Linear(4C, classes)

Each module is the *pruned* cell (:attr:`~.cell.NB101Cell.pruned`) with the vertex
channels of :func:`~.layout.vertex_channels`: an intermediate vertex sums its inputs (edges
from the module input go through a 1x1 conv-BN-ReLU projection, edges from other vertices
are truncated to the vertex's channels) and applies its op; the output concatenates the
vertices feeding it and adds a projection of the module input when the input feeds it
directly. Convolutions have no bias; BatchNorm uses NAS-Bench-101's epsilon 1e-5 but
PyTorch's default momentum (0.1), not NAS-Bench-101's 0.997 decay (0.003 in torch's
convention): running statistics that slow need thousands of steps to settle, so a
few-epoch training would be evaluated at chance level (measured on digits: 10-15% valid
accuracy after 5 epochs at 0.003, with a training loss of 0.2). Weights are initialised as
NAS-Bench-101's TensorFlow code does: convolutions with variance ``1/fan_in`` (truncated
normal, ``variance_scaling_initializer``), the classifier Glorot-uniform with zero bias.

Example:
    >>> import torch
    >>> from surrogate_nas.spaces.nb101.cell import NB101Cell
    >>> from surrogate_nas.records import NetworkConfig
    >>> cell = NB101Cell.from_string("0110|0001|0001|0000;input,conv3x3-bn-relu,maxpool3x3,output")
    >>> net = build_network(cell, NetworkConfig(8, 1), (3, 8, 8), 10)
    >>> net(torch.zeros(2, 3, 8, 8)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

import math

import torch
from torch import nn

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig
from surrogate_nas.spaces.inputs import check_input
from surrogate_nas.spaces.nb101.cell import NB101Cell
from surrogate_nas.spaces.nb101.layout import (
    CONV_KERNELS,
    REDUCTION_FACTOR,
    ModuleSlot,
    module_slots,
    vertex_channels,
)

BN_MOMENTUM = 0.1
BN_EPSILON = 1e-5
_TRUNCATED_NORMAL_STD = 0.87962566103423978
"""Standard deviation of a unit normal truncated to +-2: TF divides by it so the variance stays ``1/fan_in``."""


class ConvBnRelu(nn.Module):
    """Conv (no bias, 'same' padding, stride 1) -> BatchNorm -> ReLU (``base_ops.conv_bn_relu``)."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=BN_EPSILON, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


def make_op(name: str, channels: int) -> nn.Module:
    """The op of an intermediate vertex with ``channels`` in and out (a 3x3 max-pool keeps the size)."""
    if name in CONV_KERNELS:
        return ConvBnRelu(channels, channels, CONV_KERNELS[name])
    return nn.MaxPool2d(3, stride=1, padding=1)


class NB101Module(nn.Module):
    """One NAS-Bench-101 module (``model_builder.build_module``) for a pruned cell."""

    def __init__(self, cell: NB101Cell, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.matrix = cell.matrix
        n = len(self.matrix)
        self.channels = vertex_channels(in_channels, out_channels, self.matrix)
        self.projections = nn.ModuleDict(
            {str(v): ConvBnRelu(in_channels, self.channels[v], 1) for v in range(1, n - 1) if self.matrix[0][v]}
        )
        self.ops = nn.ModuleList(make_op(cell.ops[v], self.channels[v]) for v in range(1, n - 1))
        self.output_projection = ConvBnRelu(in_channels, out_channels, 1) if self.matrix[0][n - 1] else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.matrix)
        values = [x]
        for v in range(1, n - 1):
            terms = [values[u][:, : self.channels[v]] for u in range(1, v) if self.matrix[u][v]]
            if self.matrix[0][v]:
                terms.append(self.projections[str(v)](x))
            values.append(self.ops[v - 1](sum(terms[1:], terms[0])))
        concat = [values[v] for v in range(1, n - 1) if self.matrix[v][n - 1]]
        out = torch.cat(concat, dim=1) if concat else None
        if self.output_projection is not None:
            projected = self.output_projection(x)
            out = projected if out is None else out + projected
        return out


class NB101Network(nn.Module):
    """NAS-Bench-101's network around one repeated module (see module docstring)."""

    def __init__(self, cell: NB101Cell, slots: tuple[ModuleSlot, ...], in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.stem = ConvBnRelu(in_channels, slots[0].in_channels, 3)
        layers: list[nn.Module] = []
        for slot in slots:
            if slot.downsample:
                layers.append(nn.MaxPool2d(2, stride=2))
            layers.append(NB101Module(cell, slot.in_channels, slot.out_channels))
        self.layers = nn.Sequential(*layers)
        self.classifier = nn.Linear(slots[-1].out_channels, num_classes)
        self._init_weights()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(self.stem(x))
        return self.classifier(x.mean(dim=(2, 3)))

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                std = math.sqrt(1.0 / (m.in_channels * m.kernel_size[0] * m.kernel_size[1])) / _TRUNCATED_NORMAL_STD
                nn.init.trunc_normal_(m.weight, std=std, a=-2 * std, b=2 * std)
        nn.init.xavier_uniform_(self.classifier.weight)
        nn.init.zeros_(self.classifier.bias)


def build_network(
    cell: NB101Cell, config: NetworkConfig, input_shape: tuple[int, int, int], num_classes: int
) -> nn.Module:
    """Build NAS-Bench-101's network for ``cell``.

    Args:
        cell: the cell; its pruned spec is repeated in every module.
        config: stem channels ``C`` and modules per stack ``N`` (NAS-Bench-101 uses 128 and 3).
        input_shape: ``(channels, height, width)`` of one input; height and width must be
            multiples of 4.
        num_classes: output logits.

    Returns:
        A freshly initialised module mapping ``b x channels x height x width`` to
        ``b x num_classes`` logits. Initialisation uses torch's global generator, so seed
        it (or fork it) before calling for reproducible weights.
    """
    if not isinstance(cell, NB101Cell):
        raise InputDataError(f"cell must be an NB101Cell, got {type(cell).__name__}")
    (in_channels, height, width), classes = check_input(input_shape, num_classes, REDUCTION_FACTOR)
    slots = module_slots(int(config.channels), int(config.cells_per_stage), height, width)
    return NB101Network(cell.pruned, slots, in_channels, classes)
