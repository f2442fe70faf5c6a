"""Search spaces of your own (JSON/YAML choices, a builder) and the built-in macro space."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig
from surrogate_nas.spaces import get_space
from surrogate_nas.spaces.choices import ENUMERATE_LIMIT, ChoiceSpace, Choices, load_space_file
from surrogate_nas.spaces.counting import count_module
from surrogate_nas.tables import load_csv, table_from_frame

CHOICES = {"depth": [1, 2, 3], "width": [8, 16], "kernel": [3, 5], "act": ["relu", "gelu"], "bn": [True, False]}


@pytest.fixture
def space_file(tmp_path):
    path = tmp_path / "space.json"
    path.write_text(json.dumps({"choices": CHOICES, "builder": "user_builders:tiny_cnn"}))
    return path


def test_a_json_space_parses_encodes_and_moves(space_file):
    space = get_space(str(space_file))
    assert isinstance(space, ChoiceSpace) and space.size() == 48 and len(space.enumerate()) == 48
    arch = space.parse("depth=2,width=16,kernel=5,act=gelu,bn=false")
    assert arch == space.parse('{"depth": 2, "width": 16, "kernel": 5, "act": "gelu", "bn": false}')
    assert arch.to_string() == '{"depth":2,"width":16,"kernel":5,"act":"gelu","bn":false}' == arch.canonical_key
    assert space.feature_names("onehot") == ["depth", "width", "kernel", "act=relu", "act=gelu", "bn=True", "bn=False"]
    np.testing.assert_array_equal(space.features([arch], "onehot")[0], [0.5, 1.0, 1.0, 0, 1, 0, 1])
    nbrs = space.neighbours(arch)
    assert len(nbrs) == (3 - 1) + 1 + 1 + 1 + 1
    assert all(sum(a != b for a, b in zip(n.items, arch.items)) == 1 for n in nbrs)
    assert space.name == get_space(str(space_file)).name, "a space file's name depends on its content only"


def test_the_builder_makes_the_network_and_its_size_is_counted(space_file):
    space = get_space(str(space_file))
    arch = space.parse("depth=3,width=8,kernel=3,act=relu,bn=true")
    net = space.build_network(arch, space.network_config(), (1, 8, 8), 10)
    assert net(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    assert space.count_params(arch, space.network_config(), (1, 8, 8), 10) == sum(p.numel() for p in net.parameters())
    assert space.count_flops(arch, space.network_config(), (1, 8, 8), 10) == count_module(net, (1, 8, 8))[1] > 0
    assert space.default_features == "onehot+cost"
    with pytest.raises(InputDataError, match="no -C/--channels"):
        space.network_config(channels=8)


def test_yaml_spaces_and_a_builder_given_separately(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text("depth: [1, 2]\nwidth: [4, 8]\nkernel: [3]\n")
    bare = get_space(str(path))
    assert bare.size() == 4 and bare.default_features == "onehot" and "cost" not in bare.feature_kinds()
    with pytest.raises(InputDataError, match="no network builder"):
        bare.build_network(bare.enumerate()[0], bare.network_config(), (1, 8, 8), 10)
    built = get_space(str(path), builder="user_builders:tiny_cnn")
    assert built.name != bare.name and built.build_network(built.enumerate()[0], NetworkConfig(None, None),
                                                            (1, 8, 8), 10) is not None


@pytest.mark.parametrize("spec,message", [
    ({}, "maps each choice"),
    ({"depth": []}, "non-empty list"),
    ({"depth": "123"}, "non-empty list"),
    ({"depth": [1, 1]}, "twice"),
    ({"depth": [1, {"a": 2}]}, "numbers, text or booleans"),
    ({"bad,name": [1]}, "without , ="),
])
def test_malformed_space_files_are_refused(tmp_path, spec, message):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(InputDataError, match=message):
        load_space_file(path)


def test_bad_files_and_builders_say_what_is_wrong(tmp_path, space_file):
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(InputDataError, match="not a valid JSON"):
        get_space(str(tmp_path / "broken.json"))
    with pytest.raises(InputDataError, match="does not exist"):
        get_space(str(tmp_path / "missing.yaml"))
    with pytest.raises(InputDataError, match="module:function"):
        get_space(str(space_file), builder="no_colon")
    with pytest.raises(InputDataError, match="cannot import builder"):
        get_space(str(space_file), builder="user_builders:nothing_here")
    odd = get_space(str(space_file), builder="user_builders:not_a_module")
    with pytest.raises(InputDataError, match="not a torch.nn.Module"):
        odd.build_network(odd.enumerate()[0], odd.network_config(), (1, 8, 8), 10)
    with pytest.raises(InputDataError, match="applies to a search space from a file"):
        get_space("nb201", builder="user_builders:tiny_cnn")


def test_bad_architectures_name_the_choice(space_file):
    space = get_space(str(space_file))
    for text, message in (("depth=2", "no option given for choice 'width'"),
                          ("depth=4,width=8,kernel=3,act=relu,bn=true", "has no option 4"),
                          ("depth=2,width=8,kernel=3,act=relu,bn=true,extra=1", "unknown choice 'extra'"),
                          ("{broken", "not a JSON object"), ("depth", "choice=option")):
        with pytest.raises(InputDataError, match=message):
            space.parse(text)


def test_a_table_with_one_column_per_choice(space_file, tmp_path):
    space = get_space(str(space_file))
    rows = [{**a.as_dict(), "loss": float(i)} for i, a in enumerate(space.enumerate()[:10])]
    pd.DataFrame(rows).to_csv(tmp_path / "t.csv", index=False)
    table = load_csv(tmp_path / "t.csv", "loss", space=space, maximize=False)
    assert len(table) == 10 and table.optimum == 0.0 and list(table.frame.columns) == ["arch", "loss"]
    assert table.lookup(space.enumerate()[3]) == 3.0
    bad = pd.DataFrame(rows).assign(depth=7)
    with pytest.raises(InputDataError, match="data row 1: choice 'depth' has no option 7"):
        table_from_frame("bad", bad, "loss", space=space)


def test_large_spaces_are_not_listed_but_sample_and_move():
    space = ChoiceSpace({f"c{i}": list(range(4)) for i in range(8)}, name="big")
    assert space.size() == 4**8 > ENUMERATE_LIMIT and space.enumerate() is None
    archs = space.sample_unseen(50, np.random.default_rng(0))
    assert len({a.canonical_key for a in archs}) == 50 and all(isinstance(a, Choices) for a in archs)


def test_macro_space_counts_match_its_network():
    space = get_space("macro")
    assert space.size() == 54**3 and space.enumerate() is None and space.network_options == ("channels",)
    for arch in space.sample_unseen(8, np.random.default_rng(1)):
        for net_config, shape in ((NetworkConfig(8, None), (1, 8, 8)), (NetworkConfig(16, None), (3, 32, 32))):
            net = space.build_network(arch, net_config, shape, 10)
            assert (space.count_params(arch, net_config, shape, 10),
                    space.count_flops(arch, net_config, shape, 10)) == count_module(net, shape)
