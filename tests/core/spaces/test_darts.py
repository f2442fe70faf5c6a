"""The DARTS / NAS-Bench-301 space: genotype forms, canonical key, size, sampling, network, costs, features."""

from __future__ import annotations

import io
import subprocess
import sys
from collections import Counter
from importlib import resources

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import kendalltau, pearsonr
from torch import nn

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig
from surrogate_nas.spaces.base import REFERENCE_CLASSES, REFERENCE_INPUT
from surrogate_nas.spaces.darts import DartsSpace
from surrogate_nas.spaces.darts.genotype import OPS, DartsCell, DartsGenotype
from surrogate_nas.spaces.darts.isomorphism import all_cell_nodes, canonical_nodes, count_cells
from surrogate_nas.spaces.darts.skeleton import cell_slots

REFERENCE = NetworkConfig(32, 2)
ALL_CONV = "[[(0,3),(1,3),(0,3),(1,3),(0,3),(1,3),(0,3),(1,3)],[(0,0),(1,0),(0,0),(2,0),(0,0),(2,0),(0,0),(2,0)]]"


@pytest.fixture(scope="module")
def space() -> DartsSpace:
    return DartsSpace()


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    data = resources.files("surrogate_nas").joinpath("data", "darts_cifar10_subset.csv.gz").read_bytes()
    return pd.read_csv(io.BytesIO(data), compression="gzip")


@pytest.fixture(scope="module")
def archs(space, table) -> list[DartsGenotype]:
    return [space.parse(a) for a in table["arch"]]


def _swap_node(cell: DartsCell, node: int) -> DartsCell:
    e = list(cell.edges)
    i = 2 * (node - 2)
    e[i], e[i + 1] = e[i + 1], e[i]
    return DartsCell(tuple(e))


# -- values and text forms ---------------------------------------------------------------
def test_every_row_parses_from_both_forms_to_the_same_value(space, table, archs):
    assert len(table) == 725
    for arch, text, compact in zip(archs, table["arch"], table["naslib_compact"]):
        assert space.parse(compact) == arch
        assert arch.to_string() == text
        assert arch.to_compact() == compact
    assert len(set(archs)) == 725


def test_the_value_is_immutable_and_hashable(archs):
    arch = archs[0]
    with pytest.raises(AttributeError):
        arch.normal = arch.reduce
    assert {arch: 1}[DartsGenotype.from_string(arch.to_string())] == 1
    assert arch.normal.edges[0] == ("max_pool_3x3", 1)


VALID_CELL = ";".join(["sep_conv_3x3~0;sep_conv_3x3~1"] * 4)


def _first_node(pair: str) -> str:
    """A valid cell whose node 2 is written ``pair``."""
    return pair + VALID_CELL[len("sep_conv_3x3~0;sep_conv_3x3~1"):]


@pytest.mark.parametrize("text, fragment", [
    ("sep_conv_3x3~0;sep_conv_3x3~1", "expected '<normal>|<reduce>'"),
    (f"sep_conv_3x3~0;sep_conv_3x3~1|{VALID_CELL}", "normal cell: malformed DARTS cell.*got 2 entries"),
    (f"{VALID_CELL}|" + _first_node("none~0;sep_conv_3x3~1"), "reduce cell: operation 'none' in node 2 never occurs"),
    (f"{VALID_CELL}|" + _first_node("conv_7x7~0;sep_conv_3x3~1"), "unknown operation 'conv_7x7'"),
    (_first_node("sep_conv_3x3~0;sep_conv_3x3~0") + f"|{VALID_CELL}", "two inputs of node 2 must differ, got 0 twice"),
    (_first_node("sep_conv_3x3~0;sep_conv_3x3~2") + f"|{VALID_CELL}", "node 2 may read inputs 0..1, got 2"),
    (_first_node("sep_conv_3x3~0;sep_conv_3x3") + f"|{VALID_CELL}", "malformed entry 'sep_conv_3x3'"),
    ("[[(0,3)]*8", "NASLib's compact form"),
    ("[[(0,3),(1,3)],[(0,3),(1,3)]]", "NASLib's compact form"),
    (ALL_CONV.replace("(0,3)", "(0,7)", 1), "op_index out of range"),
    (ALL_CONV.replace("(1,3)", "(0,3)", 1), "normal cell: the two inputs of node 2 must differ"),
])
def test_malformed_architectures_say_what_was_expected(space, text, fragment):
    assert space.parse(f"{VALID_CELL}|{VALID_CELL}").normal.edges[1] == ("sep_conv_3x3", 1)
    with pytest.raises(InputDataError, match=fragment):
        space.parse(text)


def test_non_architectures_are_rejected(space):
    assert not space.is_member("x") and not space.is_member(None)
    with pytest.raises(InputDataError, match="not an architecture of the darts space"):
        space.check(DartsGenotype.from_compact(ALL_CONV).normal)
    with pytest.raises(InputDataError, match="must be a DartsCell"):
        DartsGenotype("a", "b")
    with pytest.raises(InputDataError, match="must be integers"):
        DartsCell((("sep_conv_3x3", 0), ("sep_conv_3x3", True)) + (("sep_conv_3x3", 0), ("sep_conv_3x3", 1)) * 3)


# -- canonical key ----------------------------------------------------------------------------
def test_swapping_a_nodes_inputs_keeps_the_key(archs):
    rng = np.random.default_rng(0)
    for arch in archs:
        node = int(rng.integers(2, 6))
        twin = DartsGenotype(_swap_node(arch.normal, node), _swap_node(arch.reduce, 7 - node))
        assert twin != arch
        assert twin.canonical_key == arch.canonical_key


def test_the_725_keys_are_distinct_and_the_key_is_a_canonical_genotype(space, archs):
    keys = [a.canonical_key for a in archs]
    assert len(set(keys)) == 725
    for arch, key in zip(archs[:50], keys):
        canonical = space.parse(key)
        assert canonical.canonical_key == key
        assert canonical == arch.canonical == space.representative(arch)
        for mine, its in zip(arch.cells, canonical.cells):
            assert Counter(op for op, _ in mine.edges) == Counter(op for op, _ in its.edges)


def test_relabelling_intermediate_nodes_keeps_the_key():
    # Nodes 2 and 3 both read only the cell inputs, so they can trade places (node 4 follows).
    a = DartsCell.from_string("sep_conv_3x3~0;max_pool_3x3~1;dil_conv_5x5~1;skip_connect~0;"
                              "avg_pool_3x3~2;sep_conv_5x5~3;sep_conv_3x3~4;skip_connect~2")
    b = DartsCell.from_string("dil_conv_5x5~1;skip_connect~0;sep_conv_3x3~0;max_pool_3x3~1;"
                              "sep_conv_5x5~2;avg_pool_3x3~3;sep_conv_3x3~4;skip_connect~3")
    assert a != b and a.canonical == b.canonical
    # Moving one op to the other node changes the function: a different key.
    c = DartsCell.from_string("sep_conv_3x3~0;max_pool_3x3~1;dil_conv_5x5~1;skip_connect~0;"
                              "avg_pool_3x3~3;sep_conv_5x5~2;sep_conv_3x3~4;skip_connect~2")
    assert c.canonical != a.canonical
    # Inputs 0 and 1 (different previous cells) are never exchanged.
    d = DartsCell.from_string("sep_conv_3x3~1;max_pool_3x3~0;dil_conv_5x5~0;skip_connect~1;"
                              "avg_pool_3x3~2;sep_conv_5x5~3;sep_conv_3x3~4;skip_connect~2")
    assert d.canonical != a.canonical


@pytest.mark.parametrize("n_ops, cells, classes", [(1, 180, 79), (2, 180 * 4**4, 17531)])
def test_the_class_count_formula_matches_brute_force_enumeration(n_ops, cells, classes):
    listed = list(all_cell_nodes(n_ops))
    assert len(listed) == cells
    assert len({canonical_nodes(c) for c in listed}) == count_cells(n_ops) == classes


def test_size_is_the_square_of_the_canonical_cell_count(space):
    assert count_cells(len(OPS)) == 382_128_166
    assert space.size() == 382_128_166**2 == 146_021_935_250_523_556
    assert space.enumerate() is None


# -- sampling and neighbours ---------------------------------------------------------------
def test_sampling_is_reproducible_and_uniform_per_node(space):
    draws = [space.sample(np.random.default_rng(7)) for _ in range(2)]
    assert draws[0] == draws[1]
    rng = np.random.default_rng(0)
    sampled = [space.sample(rng) for _ in range(3000)]
    ops = Counter(op for a in sampled for cell in a.cells for op, _ in cell.edges)
    assert set(ops) == set(OPS)
    assert max(ops.values()) / min(ops.values()) < 1.1
    pairs = Counter(frozenset(s for _, s in a.reduce.edges[6:]) for a in sampled)
    assert len(pairs) == 10 and max(pairs.values()) / min(pairs.values()) < 1.35
    assert len({a.canonical_key for a in sampled}) == 3000


def test_neighbours_change_exactly_one_edge_and_keep_inputs_distinct(space, archs):
    for arch in archs[:20]:
        raw = arch.neighbours()
        assert len(raw) == 120
        for other in raw:
            before = arch.normal.edges + arch.reduce.edges
            after = other.normal.edges + other.reduce.edges
            assert sum(x != y for x, y in zip(before, after)) == 1
        keys = [n.canonical_key for n in space.neighbours(arch)]
        assert len(keys) == len(set(keys)) and arch.canonical_key not in keys
        assert set(keys) == {n.canonical_key for n in raw} - {arch.canonical_key}


def test_neighbours_of_a_symmetric_cell_collapse_twins(space):
    arch = space.parse(ALL_CONV)
    assert len(space.neighbours(arch)) < 120
    rng = np.random.default_rng(1)
    child = space.mutate(arch, rng, exclude=[arch.canonical_key])
    assert child.canonical_key != arch.canonical_key


# -- network ----------------------------------------------------------------------------------
def test_network_follows_darts_network_cifar(space):
    torch.manual_seed(0)
    arch = space.parse(ALL_CONV)
    net = space.build_network(arch, NetworkConfig(4, 2), (3, 16, 16), 10)
    assert len(net.cells) == 8
    assert [type(c.preprocess0).__name__ for c in net.cells] == [
        "ReLUConvBN", "ReLUConvBN", "ReLUConvBN", "FactorizedReduce", "ReLUConvBN", "ReLUConvBN", "FactorizedReduce",
        "ReLUConvBN",
    ]
    reduce_cell = net.cells[2]
    assert type(reduce_cell.ops[0]).__name__ == "MaxPool2d" and reduce_cell.ops[0].stride == 2
    assert reduce_cell.ops[3].stride == 1  # reads node 2, not a cell input
    assert net.stem[0].out_channels == 12 and net.classifier.in_features == 4 * 16
    skip = space.parse(ALL_CONV.replace("(0,0),(1,0)", "(0,2),(1,1)", 1))
    cell = space.build_network(skip, NetworkConfig(4, 1), (3, 8, 8), 10).cells[1]
    assert type(cell.ops[0]).__name__ == "FactorizedReduce" and cell.ops[1].count_include_pad is False
    net.train()
    out = net(torch.randn(2, 3, 16, 16))
    assert out.shape == (2, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_bad_input_shapes_are_rejected(space):
    arch = space.parse(ALL_CONV)
    for call in (space.build_network, space.count_params, space.count_flops):
        with pytest.raises(InputDataError, match="multiples of 4"):
            call(arch, NetworkConfig(4, 1), (3, 30, 30), 10)
        with pytest.raises(InputDataError, match="num_classes must be >= 2"):
            call(arch, NetworkConfig(4, 1), (3, 32, 32), 1)
    with pytest.raises(InputDataError, match="needs channels and cells_per_stage"):
        space.count_params(arch, NetworkConfig(None, 1), (3, 32, 32), 10)


def _conv_linear_macs(net: nn.Module, shape) -> int:
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            total += output.shape[2] * output.shape[3] * k * module.in_channels // module.groups * module.out_channels
        else:
            total += module.in_features * module.out_features + module.out_features

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        net.eval()(torch.zeros(1, *shape))
    for h in handles:
        h.remove()
    return total


@pytest.mark.parametrize("config, shape, classes", [
    (NetworkConfig(4, 1), (3, 8, 8), 10),
    (NetworkConfig(6, 2), (1, 16, 12), 7),
    (NetworkConfig(5, 1), (3, 32, 32), 100),
])
def test_analytic_counts_equal_the_built_network(space, config, shape, classes):
    rng = np.random.default_rng(config.channels)
    for _ in range(8):
        arch = space.sample(rng)
        net = space.build_network(arch, config, shape, classes)
        assert space.count_params(arch, config, shape, classes) == sum(p.numel() for p in net.parameters())
        assert space.count_flops(arch, config, shape, classes) == _conv_linear_macs(net, shape)


def _op_affine_params(arch: DartsGenotype, config: NetworkConfig) -> int:
    """Affine BatchNorm parameters inside the cell operations (NASLib builds those ops without)."""
    total = 0
    for slot in cell_slots(config.channels, config.cells_per_stage):
        for op, source in (arch.reduce if slot.reduction else arch.normal).edges:
            bns = {"sep": 2, "dil": 1}.get(op[:3], int(op == "skip_connect" and slot.reduction and source < 2))
            total += bns * 2 * slot.channels
    return total


def test_reference_params_match_nas_bench_301_up_to_the_op_batchnorm_affines(space, table, archs):
    assert space.reference_network == REFERENCE
    ours = np.array([space.reference_cost(a)[0] for a in archs])
    published = np.round(table["params"].to_numpy() * 1e6).astype(int)
    affine = np.array([_op_affine_params(a, REFERENCE) for a in archs])
    assert np.array_equal(ours - affine, published)
    assert 3_200 <= affine.min() and affine.max() <= 15_488
    # The helper above counts what the built network holds.
    arch = archs[0]
    net = space.build_network(arch, NetworkConfig(4, 1), REFERENCE_INPUT, REFERENCE_CLASSES)
    in_ops = sum(p.numel() for cell in net.cells for m in cell.ops.modules() if isinstance(m, nn.BatchNorm2d)
                 for p in m.parameters())
    assert in_ops == _op_affine_params(arch, NetworkConfig(4, 1))


def _torchstat_extras(net: nn.Module) -> int:
    """What tensorwatch (NASLib's counter) adds to our MACs: BN, ReLU and pooling elements, minus the linear bias."""
    in_ops = {id(m) for cell in net.cells for m in cell.ops.modules()}
    total = -net.classifier.out_features

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.BatchNorm2d):
            total += inputs[0].numel() * (1 if id(module) in in_ops else 2)
        elif isinstance(module, nn.ReLU):
            total += inputs[0].numel()
        else:  # a 3x3 window per output element, and the BatchNorm NASLib puts after each pool
            total += 10 * output.numel()

    kinds = (nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d, nn.AvgPool2d)
    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, kinds)]
    with torch.no_grad():
        net.eval()(torch.zeros(1, *REFERENCE_INPUT))
    for h in handles:
        h.remove()
    return total


def test_reference_flops_relate_to_the_published_column(space, table, archs):
    ours = np.array([space.reference_cost(a)[1] for a in archs]) / 1e6
    published = table["flops"].to_numpy()
    ratio = published / ours
    assert 1.02 < ratio.min() and ratio.max() < 1.12 and abs(ratio.mean() - 1.052) < 0.002
    assert pearsonr(ours, published)[0] > 0.998
    assert kendalltau(ours, published)[0] > 0.95
    # Per architecture the gap is exactly the elementwise layers tensorwatch also counts,
    # up to one constant (41,472) shared by every architecture.
    for i in (0, 1, 2):
        net = space.build_network(archs[i], REFERENCE, REFERENCE_INPUT, REFERENCE_CLASSES)
        gap = round(published[i] * 1e6) - space.reference_cost(archs[i])[1] - _torchstat_extras(net)
        assert gap == 41_472


# -- features --------------------------------------------------------------------------------
def test_feature_kinds_shapes_and_defaults(space, archs):
    assert {"onehot", "cost", "zc"} <= set(space.feature_kinds())
    assert "zc" not in space.parse_kind("cheap")
    sizes = {"onehot": 168, "opcount": 14, "inputops": 42, "topology": 14, "paths": 30, "cost": 2}
    for kind, d in sizes.items():
        x = space.features(archs[:30], kind)
        assert x.shape == (30, d) == (30, len(space.feature_names(kind)))
        assert np.isfinite(x).all() and x.std(axis=0).max() > 0
    onehot = space.features(archs[:30], "onehot")
    assert set(np.unique(onehot)) == {0.0, 1.0} and (onehot.sum(axis=1) == 32).all()
    assert np.array_equal(space.features(archs[:30], "opcount"),
                          space.features(archs[:30], "inputops").reshape(30, 2, 3, 7).sum(axis=2).reshape(30, 14))
    assert space.features([], "+".join(sizes)).shape == (0, sum(sizes.values()))
    params, flops = space.reference_cost(archs[0])
    assert np.allclose(space.features(archs[:1], "cost"), [[np.log(params), np.log(flops)]])


def test_topology_and_paths_of_a_known_cell(space):
    chain = ("sep_conv_3x3~0;max_pool_3x3~1;skip_connect~2;avg_pool_3x3~1;"
             "sep_conv_5x5~3;dil_conv_3x3~0;sep_conv_3x3~4;skip_connect~1")
    arch = space.parse(f"{chain}|{chain}")
    topo = dict(zip(space.feature_names("topology"), space.features([arch], "topology")[0]))
    assert topo["normal_width"] == 4 and topo["normal_depth"] == 4 and topo["normal_leaves"] == 1
    assert topo["normal_from_input0"] == 2 and topo["normal_from_input1"] == 3 and topo["normal_from_nodes"] == 3
    paths = dict(zip(space.feature_names("paths"), space.features([arch], "paths")[0]))
    # Input 0 reaches node 2 (1 edge), 3 (2), 4 (1 and 3), 5 (2 and 4).
    assert [paths[f"normal_paths_input0_len{n}"] for n in (1, 2, 3, 4)] == [2, 2, 1, 1]
    # skip 2->3 lies on the two paths into node 2 continued to nodes 3, 4 and 5; skip 1->5 on one.
    assert paths["normal_paths_through_skip_connect"] == 2 * 3 + 1


def test_features_are_shared_by_twins_and_computed_from_the_genotype(space, archs):
    twins = [DartsGenotype(_swap_node(a.normal, 3), _swap_node(a.reduce, 5)) for a in archs[:40]]
    kinds = "onehot+opcount+inputops+topology+paths+cost"
    assert np.array_equal(space.features(archs[:40], kinds), space.features(twins, kinds))
    assert space.features(archs[:1], "default").shape[1] == len(space.feature_names("default"))


def test_zc_features_are_computed_once_per_canonical_key(space, archs):
    fresh = DartsSpace()
    arch = archs[0]
    twin = DartsGenotype(_swap_node(arch.normal, 2), arch.reduce)
    zc = fresh.features([arch, twin], "zc")
    assert zc.shape == (2, 3) and np.isfinite(zc).all()
    assert np.array_equal(zc[0], zc[1])


def test_parsing_and_features_do_not_import_torch():
    code = (
        "import sys, numpy as np\n"
        "from surrogate_nas.spaces.darts import DartsSpace\n"
        "s = DartsSpace(); a = s.sample(np.random.default_rng(0))\n"
        "s.features([a], 'cheap'); s.reference_cost(a); s.neighbours(a)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
