"""The NAS-Bench-101 space against NAS-Bench-101's own numbers: pruning, module hash, params, FLOPs.

The reference rows are ``surrogate_nas/data/nb101_cifar10_subset.csv.gz``: 500 raw specs
sampled by NAS-Bench-Suite-Zero with NAS-Bench-101's ``trainable_parameters`` and
NASLib's FLOPs and proxies (see ``surrogate_nas/data/PROVENANCE.md``).
"""

import itertools
import subprocess
import sys
from importlib import resources

import numpy as np
import pandas as pd
import pytest
import torch
import xgboost
from scipy.stats import kendalltau

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig
from surrogate_nas.spaces.nb101 import NB101Space
from surrogate_nas.spaces.nb101.cell import OPS, NB101Cell, is_valid_spec, prune
from surrogate_nas.spaces.nb101.features import GRAPH_NAMES, ONEHOT_NAMES, path_names

SPACE = NB101Space()
REFERENCE = NetworkConfig(128, 3)
CIFAR = (3, 32, 32)
EXAMPLE = (
    "0111101|0000011|0000001|0000110|0000011|0000000|0000000;"
    "input,maxpool3x3,maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,output"
)
# NAS-Bench-101's first hash in table order, with its fixed metrics (NNI's NAS-Bench-101
# example output; NASLib's nb101 tests); the second cell is the NAS-Bench-101 Colab's query.
KNOWN_HASH = "00005c142e6f48ac74fdcf73e3439874"
KNOWN_HASH_SPEC = (
    "0100110|0010000|0001001|0000010|0000010|0000001|0000000;"
    "input,conv3x3-bn-relu,maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,conv1x1-bn-relu,output"
)
COLAB_SPEC = (
    "0111100|0000001|0000001|0000001|0000010|0000001|0000000;"
    "input,conv3x3-bn-relu,conv1x1-bn-relu,maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,output"
)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    path = resources.files("surrogate_nas") / "data" / "nb101_cifar10_subset.csv.gz"
    with resources.as_file(path) as p:
        df = pd.read_csv(p)
    df["cell"] = [SPACE.parse(a) for a in df["arch"]]
    return df


def relabel(cell: NB101Cell, rng: np.random.Generator) -> NB101Cell:
    """``cell`` with its intermediate vertices renumbered in a random topological order."""
    n, m = cell.n_vertices, cell.matrix
    order, remaining = [0], set(range(1, n - 1))
    while remaining:
        ready = sorted(v for v in remaining if all(u in order for u in range(n) if m[u][v]))
        order.append(ready[int(rng.integers(len(ready)))])
        remaining.discard(order[-1])
    order.append(n - 1)
    pos = {v: i for i, v in enumerate(order)}
    matrix = [[0] * n for _ in range(n)]
    for i, j in itertools.product(range(n), repeat=2):
        if m[i][j]:
            matrix[pos[i]][pos[j]] = 1
    return NB101Cell(matrix, [cell.ops[v] for v in order])


def isomorphic(a: NB101Cell, b: NB101Cell) -> bool:
    """Brute force over renumberings of the intermediate vertices."""
    n = a.n_vertices
    if n != b.n_vertices or sorted(a.ops) != sorted(b.ops) or a.n_edges != b.n_edges:
        return False
    for perm in itertools.permutations(range(1, n - 1)):
        p = (0, *perm, n - 1)
        if all(a.ops[p[i]] == b.ops[i] for i in range(n)) and all(
            a.matrix[p[i]][p[j]] == b.matrix[i][j] for i in range(n) for j in range(n)
        ):
            return True
    return False


# -- the architecture value ---------------------------------------------------------------
def test_string_form_round_trips_for_every_row(table):
    assert [c.to_string() for c in table["cell"]] == list(table["arch"])
    cell = SPACE.parse(EXAMPLE)
    assert cell.ops[1] == "maxpool3x3" and cell.matrix[0] == (0, 1, 1, 1, 1, 0, 1)
    assert SPACE.format(cell) == EXAMPLE == str(cell)
    assert SPACE.parse(cell) is cell
    assert cell == SPACE.parse(EXAMPLE) and hash(cell) == hash(SPACE.parse(EXAMPLE))


def test_every_row_prunes_to_the_published_pruned_spec(table):
    for cell, expected in zip(table["cell"], table["pruned_arch"]):
        assert cell.pruned.to_string() == expected
        assert cell.pruned.pruned is cell.pruned
        assert cell.pruned.n_edges <= 9
    assert (table["cell"].map(lambda c: c.n_edges) > 9).any(), "raw specs may have more than 9 edges"
    assert sum(c.pruned.n_vertices == 2 for c in table["cell"]) == 55


def test_pruning_drops_vertices_off_input_output_paths():
    # Vertex 2 is not reachable from the input and vertex 3 does not reach the output.
    matrix = ((0, 1, 0, 0, 0), (0, 0, 0, 1, 1), (0, 0, 0, 0, 1), (0, 0, 0, 0, 0), (0, 0, 0, 0, 0))
    ops = ("input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "output")
    assert prune(matrix, ops) == (((0, 1, 0), (0, 0, 1), (0, 0, 0)), ("input", "conv3x3-bn-relu", "output"))
    assert prune(((0, 0, 0), (0, 0, 1), (0, 0, 0)), ("input", "maxpool3x3", "output")) is None


def test_keys_group_exactly_the_isomorphic_pruned_specs(table):
    pruned = sorted({c.pruned for c in table["cell"]}, key=NB101Cell.to_string)
    assert len(pruned) == 301
    assert table["cell"].map(lambda c: c.canonical_key).nunique() == 292
    for a, b in itertools.combinations(pruned, 2):
        assert (a.canonical_key == b.canonical_key) == isomorphic(a, b), (a, b)


def test_keys_survive_relabelling_and_match_nas_bench_101():
    assert NB101Cell.from_string(KNOWN_HASH_SPEC).canonical_key == KNOWN_HASH
    rng = np.random.default_rng(0)
    changed = 0
    for _ in range(60):
        cell = SPACE.sample(rng)
        for _ in range(3):
            twin = relabel(cell, rng)
            changed += twin != cell
            assert twin.canonical_key == cell.canonical_key
    assert changed > 60


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("0111101|0000011", "expected '<adjacency rows"),
        ("01|00;input;output", "expected '<adjacency rows"),
        ("0x|00;input,output", "string of 0s and 1s"),
        ("|".join(["00000000"] * 8) + ";" + ",".join(["input"] + ["maxpool3x3"] * 6 + ["output"]), "2 to 7 vertices"),
        ("011|001;input,conv3x3-bn-relu,output", "must be square"),
        ("01|10;input,output", "strictly upper-triangular"),
        ("011|001|000;input,conv5x5-bn-relu,output", "unknown operation 'conv5x5-bn-relu'.*conv3x3-bn-relu"),
        ("011|001|000;output,conv3x3-bn-relu,input", "first op must be 'input' and the last 'output'"),
        ("011|001|000;input,output", "2 ops for a 3-vertex"),
        ("010|000|000;input,conv3x3-bn-relu,output", "no path from input to output"),
        (
            "0111111|0011111|0001111|0000111|0000011|0000001|0000000;"
            "input,conv3x3-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,output",
            "21 edges on input->output paths; NAS-Bench-101 allows at most 9",
        ),
    ],
)
def test_malformed_specs_say_what_was_expected(text, fragment):
    with pytest.raises(InputDataError, match=fragment):
        SPACE.parse(text)


def test_constructor_accepts_arrays_and_rejects_non_binary_entries():
    cell = SPACE.parse(KNOWN_HASH_SPEC)
    assert NB101Cell(cell.array(), np.array(cell.ops)) == cell
    with pytest.raises(InputDataError, match="only 0 and 1"):
        NB101Cell([[0, 0.5], [0, 0]], ["input", "output"])
    with pytest.raises(InputDataError, match="sequence of operation names"):
        NB101Cell([[0, 1], [0, 0]], "input,output")


def test_non_cells_are_rejected_by_check():
    with pytest.raises(InputDataError, match="not an architecture of the nb101 space"):
        SPACE.check("01|00;input,output")
    assert not SPACE.is_member(object()) and SPACE.is_member(SPACE.parse("01|00;input,output"))


# -- size, sampling, neighbours --------------------------------------------------------------
def test_size_sampling_and_unseen_samples():
    assert SPACE.size() == 423_624 and SPACE.enumerate() is None
    draws = [SPACE.sample(np.random.default_rng(3)) for _ in range(2)]
    assert draws[0] == draws[1]
    rng = np.random.default_rng(1)
    cells = [SPACE.sample(rng) for _ in range(300)]
    assert all(c.n_vertices == 7 and is_valid_spec(c.matrix, c.ops) for c in cells)
    assert {op for c in cells for op in c.ops[1:-1]} == set(OPS)
    # Raw edges are fair coins: 10.5 expected out of 21; rejection favours sparse specs only mildly.
    assert 8 < np.mean([c.n_edges for c in cells]) < 11
    unseen = SPACE.sample_unseen(20, rng, exclude=[cells[0].canonical_key])
    assert len({c.canonical_key for c in unseen} - {cells[0].canonical_key}) == 20


def _single_edits(cell: NB101Cell):
    n = cell.n_vertices
    for v in range(1, n - 1):
        for op in OPS:
            if op != cell.ops[v]:
                yield cell.matrix, cell.ops[:v] + (op,) + cell.ops[v + 1 :]
    for i in range(n):
        for j in range(i + 1, n):
            rows = [list(r) for r in cell.matrix]
            rows[i][j] = 1 - rows[i][j]
            yield tuple(map(tuple, rows)), cell.ops


def test_neighbours_are_the_valid_single_edits_that_change_the_pruned_cell(table):
    rng = np.random.default_rng(5)
    for cell in [*table["cell"][:40], *(SPACE.sample(rng) for _ in range(40))]:
        expected = {
            NB101Cell(m, o)
            for m, o in _single_edits(cell)
            if is_valid_spec(m, o) and prune(m, o) != (cell.pruned.matrix, cell.pruned.ops)
        }
        got = SPACE.neighbours(cell)
        assert len(got) == len(set(got)) and set(got) == expected
        assert all(n.canonical_key != cell.canonical_key for n in got)
    mutated = SPACE.mutate(table["cell"][0], np.random.default_rng(0))
    assert mutated in set(SPACE.neighbours(table["cell"][0]))


# -- network and cost ----------------------------------------------------------------------
def test_params_equal_nas_bench_101_for_every_row(table):
    params = [SPACE.count_params(c, REFERENCE, CIFAR, 10) for c in table["cell"]]
    assert params == list((table["params"] * 1e6).round().astype(int))
    assert SPACE.count_params(NB101Cell.from_string(KNOWN_HASH_SPEC), REFERENCE, CIFAR, 10) == 8_555_530
    assert SPACE.count_params(NB101Cell.from_string(COLAB_SPEC), REFERENCE, CIFAR, 10) == 2_694_282


@pytest.mark.parametrize(
    "config, shape, classes", [(NetworkConfig(5, 1), (1, 8, 8), 3), (NetworkConfig(12, 2), (3, 16, 12), 100)]
)
def test_analytic_params_equal_the_built_module(config, shape, classes):
    rng = np.random.default_rng(7)
    for cell in [SPACE.parse("01|00;input,output"), *(SPACE.sample(rng) for _ in range(25))]:
        net = SPACE.build_network(cell, config, shape, classes)
        assert SPACE.count_params(cell, config, shape, classes) == sum(p.numel() for p in net.parameters())
        assert net(torch.randn(2, *shape)).shape == (2, classes)


def test_analytic_flops_equal_conv_and_linear_macs_of_the_built_module():
    cell = SPACE.parse(EXAMPLE)
    config, shape = NetworkConfig(8, 2), (3, 16, 16)
    net = SPACE.build_network(cell, config, shape, 10)
    macs = []

    def hook(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            macs.append(output[0].numel() * module.weight[0].numel())
        else:
            macs.append(module.weight.numel() + module.bias.numel())

    for m in net.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            m.register_forward_hook(hook)
    net(torch.zeros(1, *shape))
    assert SPACE.count_flops(cell, config, shape, 10) == sum(macs)


def test_published_flops_add_batchnorm_relu_and_pooling_to_ours(table):
    flops = np.array([SPACE.count_flops(c, REFERENCE, CIFAR, 10) for c in table["cell"]], dtype=float)
    published = table["flops"].to_numpy() * 1e6
    assert np.corrcoef(flops, published)[0, 1] > 0.9999
    assert 0.86 < (flops / published).min() and (flops / published).max() < 1.0
    # Exactly: NASLib's counter drops the classifier bias and adds 3 per BatchNorm+ReLU output
    # and kernel area per max-pool output.
    for cell, expected in zip(table["cell"][:12], published[:12]):
        with torch.device("meta"):
            net = SPACE.build_network(cell, REFERENCE, CIFAR, 10)
        extra = []

        def hook(module, inputs, output):
            area = 3 if isinstance(module, torch.nn.BatchNorm2d) else module.kernel_size**2
            extra.append(area * output[0].numel())

        for m in net.modules():
            if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.MaxPool2d)):
                m.register_forward_hook(hook)
        net(torch.zeros(1, *CIFAR, device="meta"))
        assert SPACE.count_flops(cell, REFERENCE, CIFAR, 10) - 10 + sum(extra) == round(expected)


def test_network_follows_nas_bench_101_layout():
    cell = SPACE.parse(EXAMPLE)
    net = SPACE.build_network(cell, NetworkConfig(16, 2), (3, 16, 16), 10)
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(bn.momentum == pytest.approx(0.1) and bn.eps == 1e-5 for bn in bns)
    assert sum(isinstance(m, torch.nn.MaxPool2d) and m.kernel_size == 2 for m in net.modules()) == 2
    assert net.classifier.in_features == 64
    assert not any(m.bias is not None for m in net.modules() if isinstance(m, torch.nn.Conv2d))
    # The pruned cell has 4 intermediate vertices, all fed by the input, which also feeds the
    # output; vertices 1, 2 and 4 share the 16 output channels, vertex 3 feeds vertex 4.
    module = net.layers[0]
    assert len(module.ops) == 4 and len(module.projections) == 4 and module.output_projection is not None
    assert module.channels == (16, 6, 5, 5, 5, 16)


@pytest.mark.parametrize(
    "config, shape, classes, fragment",
    [
        (NetworkConfig(16, 1), (3, 30, 30), 10, "multiples of 4"),
        (NetworkConfig(16, 1), (3, 32), 10, "3 positive integers"),
        (NetworkConfig(16, 1), (3, 32, 32), 1, "num_classes must be >= 2"),
        (NetworkConfig(4, 1), (3, 32, 32), 10, r"channels \(C\) >= 5"),
        (NetworkConfig(16, None), (3, 32, 32), 10, "needs channels and cells_per_stage"),
    ],
)
def test_bad_network_settings_are_rejected(config, shape, classes, fragment):
    cell = SPACE.parse(EXAMPLE)
    for method in (SPACE.count_params, SPACE.count_flops, SPACE.build_network):
        with pytest.raises(InputDataError, match=fragment):
            method(cell, config, shape, classes)


# -- features -------------------------------------------------------------------------------
def test_feature_blocks_shapes_and_invariance(table):
    cells = list(table["cell"][:30])
    assert set(SPACE.feature_kinds()) >= {"onehot", "cost", "zc", "path", "graph"}
    for kind, width in [("onehot", 36), ("path", 364), ("graph", len(GRAPH_NAMES)), ("cost", 2)]:
        block = SPACE.features(cells, kind)
        assert block.shape == (30, width) and np.isfinite(block).all()
    assert len(ONEHOT_NAMES) == 36 and len(path_names()) == 364 == len(set(path_names()))
    assert SPACE.features(cells, "default").shape[1] == len(SPACE.feature_names("default"))
    assert "zc" not in SPACE.parse_kind("cheap")
    # Paths counted by the path encoding agree with the graph block; relabelled twins agree.
    paths = SPACE.features(cells, "path").sum(axis=1)
    assert (paths == SPACE.features(cells, "graph")[:, GRAPH_NAMES.index("n_paths")]).all()
    rng = np.random.default_rng(2)
    twins = [relabel(c, rng) for c in cells]
    for kind in ("path", "graph", "cost"):
        assert np.array_equal(SPACE.features(cells, kind), SPACE.features(twins, kind))
    assert [SPACE.representative(c) for c in cells] == [SPACE.representative(t) for t in twins]
    assert all(SPACE.representative(c).canonical_key == c.canonical_key for c in cells)


def test_onehot_is_the_padded_adjacency_and_ops():
    small = SPACE.parse("0101|0001|0001|0000;input,conv1x1-bn-relu,maxpool3x3,output")
    row = dict(zip(ONEHOT_NAMES, SPACE.features([small], "onehot")[0]))
    # Pruned: input -> conv1x1 -> output and input -> output; the output moves to vertex 6.
    assert {k for k, v in row.items() if v} == {"edge_0_1", "edge_1_6", "edge_0_6", "vertex1_conv1x1"}
    full = SPACE.parse(KNOWN_HASH_SPEC)
    bits = SPACE.features([full], "onehot")[0]
    assert list(bits[:21]) == [full.matrix[i][j] for i in range(6) for j in range(i + 1, 7)]
    assert list(bits[21:].reshape(5, 3).argmax(axis=1)) == [OPS.index(op) for op in full.ops[1:-1]]


def test_graph_statistics_of_a_known_cell():
    cell = SPACE.parse(EXAMPLE)  # pruned: 011111|000001|000001|000010|000001|000000
    row = dict(zip(GRAPH_NAMES, SPACE.features([cell], "graph")[0]))
    assert row["n_vertices"] == 6 and row["n_edges"] == 9
    assert (row["n_conv3x3"], row["n_conv1x1"], row["n_maxpool3x3"]) == (2, 0, 2)
    assert row["output_fanin"] == 3 and row["output_maxpool3x3"] == 2 and row["input_fanout"] == 4
    # Paths: 0-5, 0-1-5, 0-2-5, 0-4-5, 0-3-4-5.
    assert row["n_paths"] == 5 and row["longest_path"] == 3 and row["shortest_path"] == 1 and row["direct_edge"] == 1
    assert (row["max_conv3x3_on_path"], row["min_convs_on_path"], row["max_receptive_growth"]) == (2, 0, 4)


def test_zc_block_scores_cells_with_our_proxies(table):
    cells = list(table["cell"][:2])
    block = SPACE.features(cells, "zc")
    assert block.shape == (2, 3) and np.isfinite(block).all()
    assert not np.array_equal(block[0], block[1])


def test_default_features_rank_held_out_cells_better_than_naslib_proxies(table):
    y = table["val_accuracy"].to_numpy()
    keys = table["cell"].map(lambda c: c.canonical_key).to_numpy()
    ours = SPACE.features(list(table["cell"]), "default")
    naslib = table[[c for c in table if c.startswith("naslib_")] + ["params", "flops"]].to_numpy(float)
    taus = {"ours": [], "naslib": []}
    for seed in range(4):
        train = np.random.default_rng(seed).choice(len(y), 100, replace=False)
        test = ~np.isin(keys, keys[train])
        for name, x in (("ours", ours), ("naslib", naslib)):
            model = xgboost.XGBRegressor(n_estimators=300, max_depth=4, learning_rate=0.05, subsample=0.8,
                                         colsample_bytree=0.8, random_state=seed, n_jobs=1)
            model.fit(x[train], y[train])
            taus[name].append(kendalltau(model.predict(x[test]), y[test])[0])
    assert np.mean(taus["ours"]) > 0.68 and np.mean(taus["ours"]) > np.mean(taus["naslib"]) + 0.1


def test_importing_the_space_does_not_import_torch():
    code = (
        "import sys; from surrogate_nas.spaces.nb101 import NB101Space; "
        "s = NB101Space(); a = s.parse('0110|0001|0001|0000;input,conv3x3-bn-relu,maxpool3x3,output'); "
        "s.features([a], 'onehot+path+graph+cost'); s.reference_cost(a); assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
