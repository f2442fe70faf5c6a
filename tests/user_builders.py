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


def tiny_mlp(choices: dict, input_shape, num_classes: int) -> nn.Module:
    """An MLP over the flattened input: ``depth`` layers of ``width`` units (no convolution, any input size)."""
    layers, features = [nn.Flatten()], input_shape[0] * input_shape[1] * input_shape[2]
    for _ in range(int(choices["depth"])):
        layers += [nn.Linear(features, int(choices["width"])), nn.Tanh() if choices["act"] == "tanh" else nn.ReLU()]
        features = int(choices["width"])
    return nn.Sequential(*layers, nn.Linear(features, num_classes))
