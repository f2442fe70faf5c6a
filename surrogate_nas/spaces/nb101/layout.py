"""Channel and resolution layout of the NAS-Bench-101 network, shared by the builder and the cost model.

The network is ``stem -> 3 stacks of N modules -> global average pool -> linear``; a
2 x 2 max-pool (stride 2) before stacks 2 and 3 halves the resolution and the stack
doubles the channels (``model_builder.build_model_fn``). Inside a module every vertex
gets a channel count from :func:`vertex_channels`. :mod:`.network` builds exactly this
layout and :mod:`.cost` counts it, so the two cannot drift apart.

    >>> [(s.in_channels, s.out_channels, s.height) for s in module_slots(16, 1, 32, 32)]
    [(16, 16, 32), (16, 32, 16), (32, 64, 8)]
"""

from __future__ import annotations

from dataclasses import dataclass

from surrogate_nas.spaces.nb101.cell import CONV1X1, CONV3X3, Matrix

NUM_STACKS = 3
REDUCTION_FACTOR = 2 ** (NUM_STACKS - 1)
"""Height and width must be divisible by this: each downsampling halves them exactly."""

CONV_KERNELS = {CONV3X3: 3, CONV1X1: 1}
"""Kernel size of the ops that are conv-BN-ReLU (the third op, ``maxpool3x3``, has no weights)."""


@dataclass(frozen=True)
class ModuleSlot:
    """Where one module sits: channels in and out, the resolution it runs at, and whether
    the 2 x 2 max-pool that starts a stack precedes it."""

    in_channels: int
    out_channels: int
    height: int
    width: int
    downsample: bool = False


def module_slots(channels: int, modules_per_stack: int, height: int, width: int) -> tuple[ModuleSlot, ...]:
    """Every module of the network in order, for stem width ``channels`` and an input of ``height x width``."""
    slots = []
    c_in = c_out = channels
    for stack in range(NUM_STACKS):
        if stack > 0:
            height, width, c_out = height // 2, width // 2, 2 * c_out
        for i in range(modules_per_stack):
            slots.append(ModuleSlot(c_in, c_out, height, width, downsample=stack > 0 and i == 0))
            c_in = c_out
    return tuple(slots)


def vertex_channels(in_channels: int, out_channels: int, matrix: Matrix) -> tuple[int, ...]:
    """Channels of every vertex of a module with pruned adjacency ``matrix`` (``compute_vertex_channels``).

    The output channels are split as evenly as possible between the vertices feeding the
    output, which are concatenated (the first ``out_channels % k`` of the ``k`` such
    vertices get one extra channel); every other intermediate vertex takes the largest
    count among its successors, so a vertex never has fewer channels than a vertex it feeds,
    and a wider tensor entering a narrower vertex is truncated to its first channels. The
    input vertex keeps ``in_channels``; it reaches other vertices through 1 x 1 projections.
    """
    n = len(matrix)
    channels = [0] * n
    channels[0], channels[-1] = in_channels, out_channels
    if n == 2:
        return tuple(channels)
    feeders = [v for v in range(1, n - 1) if matrix[v][n - 1]]
    share, extra = divmod(out_channels, len(feeders))
    for i, v in enumerate(feeders):
        channels[v] = share + (1 if i < extra else 0)
    for v in range(n - 3, 0, -1):
        if not matrix[v][n - 1]:
            channels[v] = max(channels[w] for w in range(v + 1, n - 1) if matrix[v][w])
    return tuple(channels)
