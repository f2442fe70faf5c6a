"""The MobileNet-style network of the ``macro`` space: stages of inverted-residual blocks.

::

    stem: Conv3x3(in, C) + BN + ReLU6
    stage s = 1, 2, 3: blocks_s inverted-residual blocks of width round(C * 2**(s-1) * width_s),
        the first of stages 2 and 3 with stride 2; each block is
        [Conv1x1(expand_s x) + BN + ReLU6] -> depthwise Conv(kernel_s) + BN + ReLU6 -> Conv1x1 + BN,
        plus its input when stride and width are unchanged (MobileNetV2, Sandler et al. 2018)
    -> global average pool -> Linear(width_3, classes)

Example:
    >>> import torch
    >>> net = build_macro({"stage1_blocks": 1, "stage1_width": 1.0, "stage1_kernel": 3, "stage1_expand": 3,
    ...                    "stage2_blocks": 2, "stage2_width": 0.5, "stage2_kernel": 5, "stage2_expand": 6,
    ...                    "stage3_blocks": 1, "stage3_width": 0.75, "stage3_kernel": 3, "stage3_expand": 1},
    ...                   channels=8, input_shape=(1, 8, 8), num_classes=10)
    >>> net(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

import torch
from torch import nn

STAGES = 3
REDUCTION_FACTOR = 4
"""Height and width must be multiples of this: stages 2 and 3 halve them."""


class InvertedResidual(nn.Module):
    """MobileNetV2's block: expand, depthwise, project; a shortcut when shapes allow."""

    def __init__(self, c_in: int, c_out: int, kernel: int, expand: int, stride: int) -> None:
        super().__init__()
        hidden = c_in * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
        layers += [
            nn.Conv2d(hidden, hidden, kernel, stride=stride, padding=kernel // 2, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        ]
        self.body = nn.Sequential(*layers)
        self.shortcut = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.shortcut else out


def stage_width(channels: int, stage: int, multiplier: float) -> int:
    """Width of stage ``stage`` (1-based): ``channels`` doubled per stage, scaled, at least 1."""
    return max(1, int(round(channels * 2 ** (stage - 1) * float(multiplier))))


def build_macro(choices: dict, channels: int, input_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    """The network of ``choices`` (keys ``stage{s}_blocks``, ``_width``, ``_kernel``, ``_expand``)."""
    in_channels = input_shape[0]
    layers: list[nn.Module] = [nn.Conv2d(in_channels, channels, 3, padding=1, bias=False),
                               nn.BatchNorm2d(channels), nn.ReLU6(inplace=True)]
    c_prev = channels
    for s in range(1, STAGES + 1):
        width = stage_width(channels, s, choices[f"stage{s}_width"])
        for b in range(int(choices[f"stage{s}_blocks"])):
            stride = 2 if s > 1 and b == 0 else 1
            layers.append(InvertedResidual(c_prev, width, int(choices[f"stage{s}_kernel"]),
                                           int(choices[f"stage{s}_expand"]), stride))
            c_prev = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_prev, num_classes))
