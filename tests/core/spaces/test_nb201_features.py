"""Architecture features: shapes, determinism and hand-checked path / live-op values."""

from __future__ import annotations

import numpy as np
import pytest

from surrogate_nas.spaces.nb201.cell import Cell, all_cells
from surrogate_nas.spaces.nb201.cost import count_flops, count_params
from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig
from surrogate_nas.spaces import get_space
from surrogate_nas.spaces.nb201.features import LIVEOPS_NAMES

SPACE = get_space("nb201")
FEATURE_SETS = SPACE.feature_kinds()
REFERENCE_NETWORK = NetworkConfig(16, 5)


def featurize(cells, kind):
    return SPACE.features(cells, kind)


def feature_names(kind):
    return SPACE.feature_names(kind)


def n_features(kind):
    return len(SPACE.feature_names(kind))

ALL_NONE = Cell(("none",) * 6)
ALL_SKIP = Cell(("skip_connect",) * 6)
ALL_CONV3 = Cell(("nor_conv_3x3",) * 6)
BEST = Cell.from_string(
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
)
# Node 1 is dead (edge 1<-0 is none), so these differ only on dead edges.
DEAD_A = Cell.from_string("|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|")
DEAD_B = Cell.from_string("|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|skip_connect~1|avg_pool_3x3~2|")
SAMPLE = [ALL_NONE, ALL_SKIP, ALL_CONV3, BEST, DEAD_A, DEAD_B]

EXPECTED_DIMS = {"onehot": 30, "path": 84, "liveops": 11, "dag": 120, "cost": 2, "zc": 3, "zcall": 11, "devlat": 27}


def named(cell: Cell, kind: str) -> dict[str, float]:
    return dict(zip(feature_names(kind), featurize([cell], kind)[0]))


@pytest.mark.parametrize("kind", FEATURE_SETS)
def test_each_kind_has_its_documented_width_and_is_deterministic(kind):
    X = featurize(SAMPLE, kind)
    assert X.shape == (len(SAMPLE), EXPECTED_DIMS[kind]) == (len(SAMPLE), n_features(kind))
    assert X.dtype == np.float64 and np.isfinite(X).all()
    np.testing.assert_array_equal(X, featurize(list(reversed(SAMPLE)), kind)[::-1])
    assert len(set(feature_names(kind))) == X.shape[1]


def test_combined_kinds_concatenate_in_order():
    X = featurize(SAMPLE, "onehot+liveops+cost+zc")
    parts = [featurize(SAMPLE, k) for k in ("onehot", "liveops", "cost", "zc")]
    np.testing.assert_array_equal(X, np.concatenate(parts, axis=1))
    assert feature_names("path+onehot")[:84] == feature_names("path")


def test_every_cell_featurizes_to_finite_values():
    cells = all_cells()
    X = featurize(cells, "onehot+path+liveops+cost+zc")
    assert X.shape == (15625, 130) and np.isfinite(X).all()
    # Distinct cells must be told apart (the one-hot part alone guarantees it).
    assert len(np.unique(X, axis=0)) == 15625


@pytest.mark.parametrize("kind", ["conv", "onehot+", "", "onehot+zc+graph"])
def test_unknown_kind_lists_the_known_ones(kind):
    with pytest.raises(InputDataError) as excinfo:
        featurize(SAMPLE, kind)
    for known in FEATURE_SETS:
        assert known in str(excinfo.value)


def test_non_cell_input_is_rejected():
    with pytest.raises(InputDataError, match="not an architecture of the nb201 space"):
        featurize([ALL_NONE, ALL_NONE.to_string()], "onehot")


def test_default_and_cheap_sets_are_the_documented_ones():
    assert SPACE.parse_kind("default") == ["liveops", "cost", "zc"]
    assert SPACE.parse_kind("cheap") == ["liveops", "cost"]


def test_all_none_cell_has_no_live_path():
    assert not featurize([ALL_NONE], "path").any()
    assert not featurize([ALL_NONE], "liveops").any()


def test_hand_checked_paths_of_the_best_cell():
    # 0->3 skip; 0->1->3 conv3,conv3; 0->2->3 conv3,conv1; 0->1->2->3 conv3,conv3,conv1.
    nonzero = {k: v for k, v in named(BEST, "path").items() if v}
    assert nonzero == {
        "path_skip_connect": 1.0,
        "path_nor_conv_3x3-nor_conv_3x3": 1.0,
        "path_nor_conv_3x3-nor_conv_1x1": 1.0,
        "path_nor_conv_3x3-nor_conv_3x3-nor_conv_1x1": 1.0,
    }


def test_shared_op_sequences_are_counted():
    nonzero = {k: v for k, v in named(ALL_CONV3, "path").items() if v}
    assert nonzero == {
        "path_nor_conv_3x3": 1.0,
        "path_nor_conv_3x3-nor_conv_3x3": 2.0,
        "path_nor_conv_3x3-nor_conv_3x3-nor_conv_3x3": 1.0,
    }


def test_hand_checked_liveops():
    best = named(BEST, "liveops")
    assert best == {
        "live_skip_connect": 1.0,
        "live_nor_conv_1x1": 1.0,
        "live_nor_conv_3x3": 4.0,
        "live_avg_pool_3x3": 0.0,
        "n_live_edges": 6.0,
        "n_live_paths": 4.0,
        "longest_live_path": 3.0,
        "shortest_live_path": 1.0,
        "skip_only_path": 1.0,
        "max_convs_on_path": 3.0,
        "min_convs_on_path": 0.0,
    }
    assert set(best) == set(LIVEOPS_NAMES)
    conv = named(ALL_CONV3, "liveops")
    assert conv["skip_only_path"] == 0.0 and conv["min_convs_on_path"] == 1.0
    dead = named(DEAD_A, "liveops")
    assert dead["n_live_paths"] == 2.0 and dead["n_live_edges"] == 3.0
    assert dead["live_nor_conv_1x1"] == 0.0  # the 1x1 sits on the dead edge 3<-1
    assert dead["longest_live_path"] == 2.0 and dead["shortest_live_path"] == 1.0


def test_dead_edges_do_not_change_path_or_liveops():
    assert DEAD_A.canonical_key == DEAD_B.canonical_key
    for kind in ("path", "liveops", "zc"):
        np.testing.assert_array_equal(featurize([DEAD_A], kind), featurize([DEAD_B], kind))
    assert not np.array_equal(featurize([DEAD_A], "onehot"), featurize([DEAD_B], "onehot"))


def test_cost_is_log_params_and_flops_of_the_reference_network():
    X = featurize(SAMPLE, "cost")
    for cell, (log_params, log_flops) in zip(SAMPLE, X):
        args = (cell, REFERENCE_NETWORK, (3, 32, 32), 10)
        assert log_params == pytest.approx(np.log(count_params(*args)), rel=1e-12)
        assert log_flops == pytest.approx(np.log(count_flops(*args)), rel=1e-12)
    assert X[2, 0] > X[1, 0] == X[0, 0]  # convs add params, skips do not


def test_zc_features_are_monotone_in_the_proxies_and_bounded():
    raw = SPACE.feature_blocks["zc"][0].raw(SAMPLE)
    X = featurize(SAMPLE, "zc")
    live = [1, 2, 3, 4]  # cells whose output depends on the input
    np.testing.assert_array_equal(np.argsort(X[live], axis=0), np.argsort(raw[live], axis=0))
    assert X[0, 0] <= X[live, 0].min() and X[0, 2] <= X[live, 2].min()
    assert np.abs(X).max() < 1e3
