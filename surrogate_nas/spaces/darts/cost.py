"""Parameter and FLOP counts of the DARTS network, computed analytically (no torch).

The counts follow the layer shapes of :mod:`.network`, cell slot by cell slot
(:mod:`.skeleton`), so costing an architecture takes microseconds.
``count_params`` equals ``sum(p.numel() for p in net.parameters())`` of the built network.

FLOPs convention (the project's): multiply-accumulates of the convolutions and the linear
classifier for one input image,

* convolution: ``out_h * out_w * k_h * k_w * c_in / groups * c_out`` (no conv has a bias);
* linear: ``in * out``, plus ``out`` for the bias;
* pooling, BatchNorm, ReLU, the additions inside a node and the concatenations count nothing.

Per operation at width ``C`` and ``P`` output pixels (``P`` is a quarter of the input's at
stride 2; the first depthwise conv carries the stride):

==================  =============================  ====================================
operation           parameters                     FLOPs
==================  =============================  ====================================
``max/avg_pool``    0                              0
``skip_connect``    0, or ``C*C + 2C`` at stride 2  0, or ``P*C*C`` (``FactorizedReduce``)
``sep_conv_kxk``    ``2 (C k^2 + C^2 + 2C)``       ``2 P (C k^2 + C^2)``
``dil_conv_kxk``    ``C k^2 + C^2 + 2C``           ``P (C k^2 + C^2)``
==================  =============================  ====================================

NAS-Bench-Suite-Zero's ``flops`` column for the NAS-Bench-301 rows is a different count of a
different network (NASLib's own DARTS graph); ``tests/core/spaces/test_darts.py`` measures
the relation.

Example:
    >>> from surrogate_nas.records import NetworkConfig
    >>> from surrogate_nas.spaces.darts.genotype import DartsGenotype
    >>> g = DartsGenotype.from_compact("[[(0,0),(1,0),(0,0),(1,0),(0,0),(1,0),(0,0),(1,0)],"
    ...                                "[(0,0),(1,0),(0,0),(1,0),(0,0),(1,0),(0,0),(1,0)]]")
    >>> count_params(g, NetworkConfig(16, 1), (3, 32, 32), 10)
    57018
"""

from __future__ import annotations

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig
from surrogate_nas.spaces.darts.genotype import DartsCell, DartsGenotype
from surrogate_nas.spaces.darts.skeleton import REDUCTION_FACTOR, STEM_MULTIPLIER, CellSlot, cell_slots, final_channels
from surrogate_nas.spaces.inputs import check_input

_SEPARABLE = {"sep_conv_3x3": (3, 2), "sep_conv_5x5": (5, 2), "dil_conv_3x3": (3, 1), "dil_conv_5x5": (5, 1)}
"""Kernel size and number of stacked depthwise-separable blocks of each convolution op."""


def _bn(channels: int) -> int:
    return 2 * channels


def _factorized_reduce(c_in: int, c_out: int, out_pixels: int) -> tuple[int, int]:
    """Params and FLOPs of ``FactorizedReduce(c_in, c_out)``: two 1x1 convs to ``c_out // 2``."""
    weights = 2 * c_in * (c_out // 2)
    return weights + _bn(c_out), out_pixels * weights


def _op(name: str, c: int, stride: int, out_pixels: int) -> tuple[int, int]:
    """Params and FLOPs of one cell operation at width ``c``."""
    if name in _SEPARABLE:
        kernel, blocks = _SEPARABLE[name]
        weights = c * kernel * kernel + c * c
        return blocks * (weights + _bn(c)), blocks * out_pixels * weights
    if name == "skip_connect" and stride == 2:
        return _factorized_reduce(c, c, out_pixels)
    return 0, 0


def _cell(cell: DartsCell, slot: CellSlot, pixels: int) -> tuple[int, int]:
    """Params and FLOPs of one cell whose input ``s1`` has ``pixels`` pixels."""
    c = slot.channels
    if slot.reduction_prev:
        pre0 = _factorized_reduce(slot.c_prev_prev, c, pixels)
    else:
        pre0 = (slot.c_prev_prev * c + _bn(c), pixels * slot.c_prev_prev * c)
    pre1 = (slot.c_prev * c + _bn(c), pixels * slot.c_prev * c)
    out_pixels = pixels // 4 if slot.reduction else pixels
    ops = [_op(op, c, 2 if slot.reduction and source < 2 else 1, out_pixels) for op, source in cell.edges]
    return pre0[0] + pre1[0] + sum(p for p, _ in ops), pre0[1] + pre1[1] + sum(f for _, f in ops)


def _count(genotype: DartsGenotype, config: NetworkConfig, input_shape, num_classes) -> tuple[int, int]:
    if not isinstance(genotype, DartsGenotype):
        raise InputDataError(f"genotype must be a DartsGenotype, got {type(genotype).__name__}")
    (in_channels, height, width), classes = check_input(input_shape, num_classes, REDUCTION_FACTOR)
    c, n = int(config.channels), int(config.cells_per_stage)
    stem = STEM_MULTIPLIER * c
    params, flops = in_channels * stem * 9 + _bn(stem), height * width * in_channels * stem * 9
    for slot in cell_slots(c, n):
        pixels = (height // slot.scale) * (width // slot.scale)
        p, f = _cell(genotype.reduce if slot.reduction else genotype.normal, slot, pixels)
        params, flops = params + p, flops + f
    head = final_channels(c) * classes + classes
    return params + head, flops + head


def count_params(genotype: DartsGenotype, config: NetworkConfig, input_shape: tuple[int, int, int],
                 num_classes: int) -> int:
    """Trainable parameters of ``build_network(genotype, config, input_shape, num_classes)``."""
    return _count(genotype, config, input_shape, num_classes)[0]


def count_flops(genotype: DartsGenotype, config: NetworkConfig, input_shape: tuple[int, int, int],
                num_classes: int) -> int:
    """Multiply-accumulates of one forward pass on one input (see module docstring)."""
    return _count(genotype, config, input_shape, num_classes)[1]
