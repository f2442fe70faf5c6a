"""The ``macro`` space: operations, depth and width of a MobileNet-style network, per stage.

For practitioners who search "operations + depth/width" rather than a cell: three stages,
each choosing its number of inverted-residual blocks (1-3), a width multiplier (0.5, 0.75,
1.0), the depthwise kernel size (3, 5) and the expansion ratio (1, 3, 6): 54 options per
stage, 157,464 networks. It is a :class:`~surrogate_nas.spaces.choices.ChoiceSpace` with a
built-in builder, so it shows how a space of your own plugs in; ``-C`` sets the stem width.

    >>> space = MacroSpace()
    >>> space.size()
    157464
"""

from __future__ import annotations

from surrogate_nas.records import NetworkConfig
from surrogate_nas.spaces.choices import ChoiceSpace
from surrogate_nas.spaces.inputs import check_input

CHOICES = {
    key: options
    for s in (1, 2, 3)
    for key, options in (
        (f"stage{s}_blocks", [1, 2, 3]),
        (f"stage{s}_width", [0.5, 0.75, 1.0]),
        (f"stage{s}_kernel", [3, 5]),
        (f"stage{s}_expand", [1, 3, 6]),
    )
}


class MacroSpace(ChoiceSpace):
    """MobileNet-style macro space (see module docstring)."""

    network_options = ("channels",)
    default_network = NetworkConfig(16, None)
    reference_network = NetworkConfig(32, None)

    has_network = True
    input_multiple = 4  # the network halves height and width twice (REDUCTION_FACTOR)

    def __init__(self) -> None:
        super().__init__(CHOICES, name="macro",
                         description="MobileNet-style macro space: blocks, width, kernel, expansion per stage (C)")
        self.builder_name = "surrogate_nas.spaces.macro.network:build_macro"
        self.default_features = "onehot+cost"
        self.cheap_features = "onehot+cost"

    def build_network(self, arch, network, input_shape, num_classes):
        from surrogate_nas.spaces.macro.network import REDUCTION_FACTOR, build_macro

        shape, classes = check_input(input_shape, num_classes, REDUCTION_FACTOR)
        return build_macro(self.check(arch).as_dict(), _channels(network), shape, classes)

    def count_params(self, arch, network, input_shape, num_classes) -> int:
        return self._counted(arch, network, input_shape, num_classes)[0]

    def count_flops(self, arch, network, input_shape, num_classes) -> int:
        return self._counted(arch, network, input_shape, num_classes)[1]

    def _counted(self, arch, network, input_shape, num_classes) -> tuple[int, int]:
        from surrogate_nas.spaces.macro.cost import count

        shape, classes = check_input(input_shape, num_classes, 4)
        return count(self.check(arch).as_dict(), _channels(network), shape, classes)


def _channels(network: NetworkConfig) -> int:
    return int(network.channels if network.channels is not None else MacroSpace.default_network.channels)
