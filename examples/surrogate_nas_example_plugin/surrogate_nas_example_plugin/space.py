"""``mlp``: multi-layer perceptrons over flattened inputs, a space of choices with a network builder.

No convolution and no assumption on the image size: the network flattens whatever it gets.
"""

from __future__ import annotations

import math

from torch import nn

from surrogate_nas.spaces import ChoiceSpace

CHOICES = {
    "depth": [1, 2, 3],
    "width": [16, 32, 64, 128],
    "activation": ["relu", "tanh", "gelu"],
    "dropout": [0.0, 0.1, 0.3],
}

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


def build_mlp(choices: dict, input_shape, num_classes: int) -> nn.Module:
    """``depth`` hidden layers of ``width`` units, each with its activation and dropout, then the logits."""
    layers: list[nn.Module] = [nn.Flatten()]
    features = math.prod(input_shape)
    for _ in range(int(choices["depth"])):
        layers += [nn.Linear(features, int(choices["width"])), ACTIVATIONS[choices["activation"]](),
                   nn.Dropout(float(choices["dropout"]))]
        features = int(choices["width"])
    layers.append(nn.Linear(features, num_classes))
    return nn.Sequential(*layers)


class MLPSpace(ChoiceSpace):
    """Multi-layer perceptrons: depth, width, activation and dropout (108 networks)."""

    def __init__(self) -> None:
        super().__init__(CHOICES, build_mlp, name="mlp", description=self.__doc__,
                         reference_input=(1, 8, 8), reference_classes=10)
