"""A user's network builder, as a ``--builder user_builders:tiny_cnn`` would name it (tests put this folder on sys.path)."""

from torch import nn


def tiny_cnn(choices: dict, input_shape, num_classes: int) -> nn.Module:
    """``depth`` conv layers of ``width`` channels with a ``kernel`` (3 or 5), then a linear classifier."""
    layers, c = [], input_shape[0]
    for _ in range(int(choices["depth"])):
        layers += [nn.Conv2d(c, int(choices["width"]), int(choices["kernel"]), padding=int(choices["kernel"]) // 2),
                   nn.ReLU()]
        c = int(choices["width"])
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes))


def not_a_module(choices: dict, input_shape, num_classes: int):
    return "a string"
