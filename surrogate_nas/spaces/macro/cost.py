"""Parameters and FLOPs of the ``macro`` network, computed from its layer shapes (no torch).

Same conventions as the cell spaces: parameters are every trainable weight (convolutions have
no bias; BatchNorm has 2 per channel); FLOPs are the multiply-accumulates of convolutions and
the linear classifier for one image. A test checks both against the built module.
"""

from __future__ import annotations

from surrogate_nas.spaces.macro.network import STAGES, stage_width


def count(choices: dict, channels: int, input_shape: tuple[int, int, int], num_classes: int) -> tuple[int, int]:
    """``(parameters, FLOPs)`` of ``build_macro(choices, channels, input_shape, num_classes)``."""
    c_in, h, w = input_shape
    params = c_in * channels * 9 + 2 * channels
    flops = h * w * c_in * channels * 9
    c_prev = channels
    for s in range(1, STAGES + 1):
        width = stage_width(channels, s, choices[f"stage{s}_width"])
        kernel, expand = int(choices[f"stage{s}_kernel"]), int(choices[f"stage{s}_expand"])
        for b in range(int(choices[f"stage{s}_blocks"])):
            stride = 2 if s > 1 and b == 0 else 1
            hidden = c_prev * expand
            if expand != 1:
                params += c_prev * hidden + 2 * hidden
                flops += h * w * c_prev * hidden
            h, w = -(-h // stride), -(-w // stride)
            params += hidden * kernel * kernel + 2 * hidden + hidden * width + 2 * width
            flops += h * w * (hidden * kernel * kernel + hidden * width)
            c_prev = width
    params += c_prev * num_classes + num_classes
    flops += c_prev * num_classes + num_classes
    return params, flops
