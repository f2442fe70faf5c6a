"""Parameter and FLOP counts of a built network, computed analytically.

No module is built: the counts follow from the layer shapes of
:mod:`.network`, so all 15,625 cells are costed in well under a
second. ``count_params`` equals ``sum(p.numel() for p in net.parameters())``.

FLOPs convention: multiply-accumulates of the convolutions and the linear
classifier for one input image, which is what NAS-Bench-201 reports as "FLOPs"
(xautodl ``utils/flop_benchmark.py`` sums only ``Conv2d`` and ``Linear``):

* convolution: ``out_h * out_w * k_h * k_w * c_in * c_out`` (no conv has a bias);
* linear: ``in * out``, plus ``out`` for the bias;
* pooling, BatchNorm, ReLU and the additions that join edges count nothing.

Divide by 1e6 for NAS-Bench-201's MFLOPs: at C=16, N=5 on CIFAR-10 the range
is 7.78 (all ``none``) to 220.12 (all ``nor_conv_3x3``). Counters that also
charge BatchNorm, ReLU and pooling (the ``flops`` column of NAS-Bench-Suite-Zero)
give 2-8% more.

Example:
    >>> from surrogate_nas.spaces.nb201.cell import Cell
    >>> from surrogate_nas.records import NetworkConfig
    >>> cell = Cell(("none",) * 6)
    >>> count_params(cell, NetworkConfig(16, 5), (3, 32, 32), 10)
    73306
"""

from __future__ import annotations

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig
from surrogate_nas.spaces.inputs import check_input
from surrogate_nas.spaces.nb201.cell import Cell

REDUCTION_FACTOR = 4

_CONV_KERNEL = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}


def _check(cell: Cell, config: NetworkConfig, input_shape, num_classes) -> tuple[tuple[int, int, int], int]:
    if not isinstance(cell, Cell):
        raise InputDataError(f"cell must be a Cell, got {type(cell).__name__}")
    return check_input(input_shape, num_classes, REDUCTION_FACTOR)


def _bn_params(channels: int) -> int:
    return 2 * channels


def _cell_params(cell: Cell, c: int) -> int:
    return sum(c * c * _CONV_KERNEL[op] ** 2 + _bn_params(c) for op in cell.ops if op in _CONV_KERNEL)


def _cell_flops(cell: Cell, c: int, pixels: int) -> int:
    return sum(pixels * c * c * _CONV_KERNEL[op] ** 2 for op in cell.ops if op in _CONV_KERNEL)


def _reduction_params(c_in: int, c_out: int) -> int:
    conv_a = c_in * c_out * 9 + _bn_params(c_out)
    conv_b = c_out * c_out * 9 + _bn_params(c_out)
    shortcut = c_in * c_out
    return conv_a + conv_b + shortcut


def _reduction_flops(c_in: int, c_out: int, out_pixels: int) -> int:
    conv_a = out_pixels * c_in * c_out * 9
    conv_b = out_pixels * c_out * c_out * 9
    shortcut = out_pixels * c_in * c_out
    return conv_a + conv_b + shortcut


def count_params(cell: Cell, config: NetworkConfig, input_shape: tuple[int, int, int], num_classes: int) -> int:
    """Trainable parameters of ``build_network(cell, config, input_shape, num_classes)``."""
    (in_channels, _, _), classes = _check(cell, config, input_shape, num_classes)
    c, n = int(config.channels), int(config.cells_per_stage)
    stem = in_channels * c * 9 + _bn_params(c)
    cells = n * (_cell_params(cell, c) + _cell_params(cell, 2 * c) + _cell_params(cell, 4 * c))
    reductions = _reduction_params(c, 2 * c) + _reduction_params(2 * c, 4 * c)
    head = _bn_params(4 * c) + 4 * c * classes + classes
    return stem + cells + reductions + head


def count_flops(cell: Cell, config: NetworkConfig, input_shape: tuple[int, int, int], num_classes: int) -> int:
    """FLOPs of one forward pass on one input, in the convention of the module docstring."""
    (in_channels, height, width), classes = _check(cell, config, input_shape, num_classes)
    c, n = int(config.channels), int(config.cells_per_stage)
    p1 = height * width
    p2 = p1 // 4
    p3 = p2 // 4
    stem = p1 * in_channels * c * 9
    cells = n * (_cell_flops(cell, c, p1) + _cell_flops(cell, 2 * c, p2) + _cell_flops(cell, 4 * c, p3))
    reductions = _reduction_flops(c, 2 * c, p2) + _reduction_flops(2 * c, 4 * c, p3)
    head = 4 * c * classes + classes
    return stem + cells + reductions + head
