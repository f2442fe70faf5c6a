"""Parameters and FLOPs of any built network, counted on the module itself.

For spaces whose networks come from a user's builder there is no formula, so the network
is built and counted: parameters are ``sum(p.numel())``; FLOPs are the multiply-accumulates
of every ``Conv2d`` and ``Linear`` for one input (the convention of the cell spaces'
analytic counts), measured by forward hooks on one pass of a zero image.
"""

from __future__ import annotations

import torch
from torch import nn


def count_module(net: nn.Module, input_shape: tuple[int, int, int]) -> tuple[int, int]:
    """``(parameters, FLOPs)`` of ``net`` for one ``input_shape`` image."""
    params = sum(p.numel() for p in net.parameters())
    flops = 0

    def conv(module: nn.Conv2d, _inputs, output) -> None:
        nonlocal flops
        per_output = (module.in_channels // module.groups) * module.kernel_size[0] * module.kernel_size[1]
        flops += output[0].numel() * per_output + (output[0].numel() if module.bias is not None else 0)

    def linear(module: nn.Linear, _inputs, output) -> None:
        nonlocal flops
        flops += module.in_features * module.out_features + (module.out_features if module.bias is not None else 0)

    hooks = [m.register_forward_hook(conv) for m in net.modules() if isinstance(m, nn.Conv2d)]
    hooks += [m.register_forward_hook(linear) for m in net.modules() if isinstance(m, nn.Linear)]
    training = net.training
    try:
        net.eval()
        with torch.no_grad():
            net(torch.zeros((1, *input_shape)))
    finally:
        net.train(training)
        for h in hooks:
            h.remove()
    return int(params), int(flops)
