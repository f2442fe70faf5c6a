"""Parameter and FLOP counts of the NAS-Bench-101 network, computed analytically.

No module is built: the counts follow from :mod:`.layout`, the layout :mod:`.network`
builds, so ``count_params`` equals ``sum(p.numel() for p in net.parameters())``. At the
reference setting (C=128, N=3, 3x32x32, 10 classes) it is NAS-Bench-101's
``trainable_parameters``.

FLOPs convention (the project's): multiply-accumulates of the convolutions and the
linear classifier for one input image:

* convolution: ``height * width * k * k * c_in * c_out`` (stride 1, no bias);
* linear: ``in * out``, plus ``out`` for the bias;
* pooling, BatchNorm, ReLU, truncation, sums and concatenation count nothing.

Example:
    >>> from surrogate_nas.spaces.nb101.cell import NB101Cell
    >>> from surrogate_nas.records import NetworkConfig
    >>> cell = NB101Cell.from_string("01|00;input,output")
    >>> count_params(cell, NetworkConfig(128, 3), (3, 32, 32), 10)
    882570
"""

from __future__ import annotations

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


def _convs(cell: NB101Cell, slot: ModuleSlot) -> list[tuple[int, int, int]]:
    """``(kernel, c_in, c_out)`` of every conv-BN-ReLU of one module of the pruned ``cell``."""
    matrix, n = cell.matrix, cell.n_vertices
    channels = vertex_channels(slot.in_channels, slot.out_channels, matrix)
    convs = []
    for v in range(1, n - 1):
        if matrix[0][v]:
            convs.append((1, slot.in_channels, channels[v]))
        if cell.ops[v] in CONV_KERNELS:
            convs.append((CONV_KERNELS[cell.ops[v]], channels[v], channels[v]))
    if matrix[0][n - 1]:
        convs.append((1, slot.in_channels, slot.out_channels))
    return convs


def _layers(cell: NB101Cell, config: NetworkConfig, input_shape, num_classes):
    """Every conv-BN-ReLU as ``(kernel, c_in, c_out, pixels)``, and the classifier's ``(in, out)``."""
    if not isinstance(cell, NB101Cell):
        raise InputDataError(f"cell must be an NB101Cell, got {type(cell).__name__}")
    (in_channels, height, width), classes = check_input(input_shape, num_classes, REDUCTION_FACTOR)
    slots = module_slots(int(config.channels), int(config.cells_per_stage), height, width)
    pruned = cell.pruned
    convs = [(3, in_channels, slots[0].in_channels, height * width)]
    for slot in slots:
        convs += [(k, c_in, c_out, slot.height * slot.width) for k, c_in, c_out in _convs(pruned, slot)]
    return convs, (slots[-1].out_channels, classes)


def count_params(cell: NB101Cell, config: NetworkConfig, input_shape: tuple[int, int, int], num_classes: int) -> int:
    """Trainable parameters of ``build_network(cell, config, input_shape, num_classes)``."""
    convs, (features, classes) = _layers(cell, config, input_shape, num_classes)
    # Each conv is followed by a BatchNorm with a scale and a shift per channel.
    return sum(k * k * c_in * c_out + 2 * c_out for k, c_in, c_out, _ in convs) + features * classes + classes


def count_flops(cell: NB101Cell, config: NetworkConfig, input_shape: tuple[int, int, int], num_classes: int) -> int:
    """FLOPs of one forward pass on one input, in the convention of the module docstring."""
    convs, (features, classes) = _layers(cell, config, input_shape, num_classes)
    return sum(pixels * k * k * c_in * c_out for k, c_in, c_out, pixels in convs) + features * classes + classes
