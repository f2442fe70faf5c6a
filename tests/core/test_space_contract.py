"""The search-space contract (:func:`surrogate_nas.testing.check_space`), run over every named space, spaces
read from files (with and without a builder) and a space that is not a CNN; and the checks themselves."""

from __future__ import annotations

import json

import numpy as np
import pytest

from surrogate_nas.errors import InputDataError
from surrogate_nas.spaces import SPACE_PLUGINS, ChoiceSpace, get_space
from surrogate_nas.testing import check_space

CHOICES = {"depth": [1, 2, 3], "width": [8, 16], "kernel": [3, 5], "act": ["relu", "gelu"], "bn": [True, False]}
MLP_CHOICES = {"depth": [1, 2, 3], "width": [8, 16, 32], "act": ["relu", "tanh"]}


def _file_space(tmp_path, builder: str | None):
    path = tmp_path / "space.json"
    path.write_text(json.dumps({"choices": CHOICES, **({"builder": builder} if builder else {})}))
    return get_space(str(path))


SPACES = {
    **{name: (lambda tmp_path, n=name: get_space(n)) for name in SPACE_PLUGINS.names()},
    "file-with-cnn-builder": lambda tmp_path: _file_space(tmp_path, "user_builders:tiny_cnn"),
    "file-without-builder": lambda tmp_path: _file_space(tmp_path, None),
    "mlp-not-a-cnn": lambda tmp_path: ChoiceSpace(MLP_CHOICES, "user_builders:tiny_mlp", name="mlp-test",
                                                  reference_input=(1, 5, 7), reference_classes=3),
}


@pytest.mark.parametrize("name", sorted(SPACES))
def test_every_space_keeps_the_contract(name, tmp_path):
    check_space(SPACES[name](tmp_path))


def test_a_named_space_is_one_shared_instance_and_unknown_names_list_the_installed_ones():
    for name in SPACE_PLUGINS.names():
        space = get_space(name)
        assert get_space(name.upper()) is space and get_space(space) is space
    with pytest.raises(InputDataError, match="unknown search space 'no-such-space'; expected one of nb201, "):
        get_space("no-such-space")


def test_a_space_for_flat_inputs_counts_on_its_own_reference_input():
    space = SPACES["mlp-not-a-cnn"](None)
    arch = space.parse("depth=1,width=8,act=relu")
    assert space.reference_cost(arch) == ((35 * 8 + 8) + (8 * 3 + 3), (35 * 8 + 8) + (8 * 3 + 3))
    assert space.input_multiple == 1 and space.build_network(arch, space.network_config(), (1, 7, 9), 3)


class _Unreadable(ChoiceSpace):
    """A space whose text form does not read back."""

    def format(self, arch):
        return "depth=1," + super().format(arch)


class _Miscounted(ChoiceSpace):
    """A space whose parameter count is not its network's."""

    def count_params(self, arch, network, input_shape, num_classes) -> int:
        return super().count_params(arch, network, input_shape, num_classes) + 1


@pytest.mark.parametrize("space, rule", [
    (_Unreadable({"depth": [1, 2], "width": [4, 8]}, name="unreadable"), "parse(format(arch)) is the same value"),
    (_Miscounted(MLP_CHOICES, "user_builders:tiny_mlp", name="miscounted"),
     "count_params equals the parameters of the built network"),
])
def test_the_check_names_the_broken_rule(space, rule):
    with pytest.raises(AssertionError, match=f"{space.name!r}.*" + rule.replace("(", r"\(").replace(")", r"\)")):
        check_space(space)


def test_sampling_a_space_depends_on_its_generator_only():
    space = get_space("nb201")
    assert space.sample_unseen(3, np.random.default_rng(5)) == space.sample_unseen(3, np.random.default_rng(5))
