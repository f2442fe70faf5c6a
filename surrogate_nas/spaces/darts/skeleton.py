"""The macro skeleton of DARTS's CIFAR network as plain numbers (no torch).

One list of cell slots drives both the torch builder (:mod:`.network`) and the analytic
counts (:mod:`.cost`), so the two cannot disagree about widths, strides or resolutions.
The rules are DARTS's ``NetworkCIFAR``: ``3N + 2`` cells, reductions at ``layers // 3``
and ``2 * layers // 3`` double the width, a 3C-channel stem, and every cell outputs
:data:`CELL_OUTPUTS` times its width (nodes 2..5 concatenated).

Example:
    >>> [(s.channels, s.reduction, s.scale) for s in cell_slots(16, 1)]
    [(16, False, 1), (32, True, 1), (32, False, 2), (64, True, 2), (64, False, 4)]
"""

from __future__ import annotations

from dataclasses import dataclass

STEM_MULTIPLIER = 3
CELL_OUTPUTS = 4
"""Nodes concatenated into a cell's output."""

REDUCTION_FACTOR = 4
"""Height and width must be multiples of this: each of the two reductions halves them, and
``FactorizedReduce``'s two offset branches agree in size only on even inputs."""


@dataclass(frozen=True)
class CellSlot:
    """One cell of the network: its input widths, its own width and where it sits.

    ``scale`` is how many times smaller than the image the cell's second input ``s1`` is
    (1, 2 or 4); its first input ``s0`` is twice as large when ``reduction_prev``.
    """

    c_prev_prev: int
    c_prev: int
    channels: int
    reduction: bool
    reduction_prev: bool
    scale: int


def reduction_layers(layers: int) -> tuple[int, int]:
    """Indices of the two reduction cells among ``layers`` cells."""
    return layers // 3, 2 * layers // 3


def cell_slots(channels: int, cells_per_stage: int) -> tuple[CellSlot, ...]:
    """The ``3 * cells_per_stage + 2`` cells of the network of initial width ``channels``."""
    layers = 3 * cells_per_stage + 2
    reductions = reduction_layers(layers)
    c_prev_prev = c_prev = STEM_MULTIPLIER * channels
    c_curr, scale, reduction_prev = channels, 1, False
    slots = []
    for i in range(layers):
        reduction = i in reductions
        if reduction:
            c_curr *= 2
        slots.append(CellSlot(c_prev_prev, c_prev, c_curr, reduction, reduction_prev, scale))
        if reduction:
            scale *= 2
        reduction_prev = reduction
        c_prev_prev, c_prev = c_prev, CELL_OUTPUTS * c_curr
    return tuple(slots)


def final_channels(channels: int) -> int:
    """Width of the last cell's output, the classifier's input."""
    return CELL_OUTPUTS * 4 * channels
