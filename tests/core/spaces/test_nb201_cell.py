"""The NAS-Bench-201 cell: string form, enumeration, mutation, encoding, canonical key."""

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from surrogate_nas.spaces.nb201.cell import EDGES, OPS, Cell, all_cells, canonical_cells, parse_cell
from surrogate_nas.errors import InputDataError
from surrogate_nas.resources import data_file
from surrogate_nas.spaces import get_space

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    path = data_file("nb201_benchmark.csv.gz")
    with resources.as_file(path) as p:
        return pd.read_csv(p, usecols=["arch_index", "arch_str", "op_code", "unique_str"])


def test_round_trip_of_the_string_form():
    cell = parse_cell(BEST)
    assert cell.ops == ("nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3", "skip_connect", "nor_conv_3x3", "nor_conv_1x1")
    assert str(cell) == BEST
    assert Cell.from_op_indices(cell.op_indices) == cell


@pytest.mark.parametrize("text, fragment", [
    ("", "expected"),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|", "expected"),
    ("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown operation 'conv_5x5'"),
    ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "op~0"),
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 needs 2 inputs"),
    ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "expected"),
])
def test_malformed_strings_say_what_was_expected(text, fragment):
    with pytest.raises(InputDataError, match=fragment.replace("|", r"\|")):
        parse_cell(text)


def test_unknown_op_in_constructor_lists_the_vocabulary():
    with pytest.raises(InputDataError, match="expected one of none, skip_connect"):
        Cell(("sep_conv",) * 6)


def test_enumeration_sizes_and_uniqueness():
    cells = all_cells()
    assert len(cells) == len(OPS) ** len(EDGES) == 15625
    assert len(set(cells)) == 15625
    assert len(canonical_cells()) == 6466
    assert len({c.canonical_key for c in canonical_cells()}) == 6466


def test_canonical_key_equals_the_published_unique_str_for_every_row(table):
    assert {str(c) for c in all_cells()} == set(table.arch_str)
    for _idx, arch, op_code, unique in table.itertuples(index=False):
        cell = parse_cell(arch)
        assert "-".join(map(str, cell.op_indices)) == op_code
        assert cell.canonical_key == unique, arch
    assert table.unique_str.nunique() == 6466


def test_isomorphic_and_dead_edge_cells_share_a_key():
    # Nodes 1 and 2 are copies of the input, so the 1x1 conv may sit on any edge into node 3.
    a = parse_cell("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|")
    b = parse_cell("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")
    assert a.canonical_key == b.canonical_key
    # An edge out of a node that is identically zero is dead, whatever its op.
    c = parse_cell("|none~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|")
    d = parse_cell("|none~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|none~2|")
    assert c.canonical_key == d.canonical_key
    assert parse_cell(BEST).canonical_key != a.canonical_key


def test_neighbours_differ_on_exactly_one_edge():
    cell = parse_cell(BEST)
    nbrs = cell.neighbours()
    assert len(nbrs) == len(EDGES) * (len(OPS) - 1) == 24
    assert len(set(nbrs)) == 24
    for n in nbrs:
        assert sum(a != b for a, b in zip(n.ops, cell.ops)) == 1


def test_onehot_encoding_is_edge_major():
    space = get_space("nb201")
    cell = parse_cell(BEST)
    x = space.features([cell], "onehot")[0]
    assert x.shape == (30,)
    assert x.sum() == 6
    for e, i in enumerate(cell.op_indices):
        assert x[e * 5 + i] == 1
    assert not np.array_equal(x, space.features([cell.neighbours()[0]], "onehot")[0])
