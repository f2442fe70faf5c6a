"""The search-space contract, run over every registered space (scikit-learn's ``parametrize_with_checks`` idea)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from surrogate_nas.errors import InputDataError
from surrogate_nas.spaces import SPACES, STANDARD_FEATURES, get_space
from surrogate_nas.spaces.base import COST_NAMES
from surrogate_nas.proxies import PROXY_NAMES
from surrogate_nas.spaces.dag import dag_nodes, dag_shape
from surrogate_nas.spaces.zc import ZC_PROXIES

NAMES = sorted(SPACES)


@pytest.fixture(params=NAMES)
def space(request):
    return get_space(request.param)


@pytest.fixture
def sample(space):
    return space.sample_unseen(6, np.random.default_rng(0))


def test_registry_returns_one_shared_instance_and_rejects_unknown_names(space):
    assert get_space(space.name) is space and get_space(space) is space
    with pytest.raises(InputDataError, match="unknown search space"):
        get_space("no-such-space")


def test_text_form_round_trips_and_keys_are_stable(space, sample):
    for arch in sample:
        text = space.format(arch)
        again = space.parse(text)
        assert again == arch and hash(again) == hash(arch)
        assert again.canonical_key == arch.canonical_key and isinstance(arch.canonical_key, str)
        assert space.is_member(arch) and space.as_architecture(text) == arch
        assert space.representative(arch).canonical_key == arch.canonical_key


@pytest.mark.parametrize("garbage", ["", "not an architecture", "|||;;;", "0" * 500])
def test_malformed_text_is_an_input_error(space, garbage):
    with pytest.raises(InputDataError):
        space.parse(garbage)


def test_a_foreign_value_is_refused(space):
    other = next(get_space(n) for n in NAMES if n != space.name)
    foreign = other.sample(np.random.default_rng(0))
    assert not space.is_member(foreign)
    with pytest.raises(InputDataError, match=f"not an architecture of the {space.name} space"):
        space.features([foreign], "onehot")


def test_sampling_avoids_excluded_keys_and_never_repeats(space, sample):
    keys = {a.canonical_key for a in sample}
    assert len(keys) == len(sample) == 6
    more = space.sample_unseen(10, np.random.default_rng(1), keys)
    assert len(more) == 10 and not keys & {a.canonical_key for a in more}
    assert len({a.canonical_key for a in more}) == 10
    assert space.sample_unseen(3, np.random.default_rng(5)) == space.sample_unseen(3, np.random.default_rng(5))


def test_neighbours_are_one_step_moves_inside_the_space(space, sample):
    for arch in sample[:3]:
        nbrs = space.neighbours(arch)
        assert nbrs and all(space.is_member(n) for n in nbrs)
        assert any(n.canonical_key != arch.canonical_key for n in nbrs)
        taken = {arch.canonical_key} | {n.canonical_key for n in nbrs[: len(nbrs) // 2]}
        child = space.mutate(arch, np.random.default_rng(2), taken)
        assert space.is_member(child) and child.canonical_key not in taken


def test_enumeration_is_none_or_one_per_key(space):
    listed = space.enumerate()
    if listed is None:
        assert space.size() is None or space.size() > 100_000
        return
    assert len({a.canonical_key for a in listed}) == len(listed) == space.size()


def test_every_feature_kind_is_finite_named_and_deterministic(space, sample):
    kinds = space.feature_kinds()
    assert set(STANDARD_FEATURES) <= set(kinds)
    assert space.feature_names("cost") == list(COST_NAMES)
    assert space.feature_names("zc") == [f"zc_{p}" for p in ZC_PROXIES]
    assert space.feature_names("zcall") == [f"zc_{p}" for p in PROXY_NAMES]
    assert "zc" not in space.parse_kind("cheap")
    assert space.parse_kind("onehot+default") == ["onehot", *space.parse_kind("default")]
    for kind in (*kinds, "default", "cheap"):
        # Every proxy of an architecture outside the shipped tables is computed afresh: one is enough.
        archs = sample[:1] if kind == "zcall" else sample
        X = space.features(archs, kind)
        assert X.shape == (len(archs), len(space.feature_names(kind))) and X.dtype == np.float64
        assert np.isfinite(X).all(), kind
        np.testing.assert_array_equal(X[::-1], space.features(archs[::-1], kind))
    with pytest.raises(InputDataError, match="unknown feature kind"):
        space.features(sample, "pixels")


def test_network_builds_counts_and_runs(space, sample):
    net_config = space.network_config()
    assert net_config == space.default_network
    for arch in sample[:2]:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            net = space.build_network(arch, net_config, (1, 8, 8), 10)
        assert net(torch.zeros(3, 1, 8, 8)).shape == (3, 10)
        assert space.count_params(arch, net_config, (1, 8, 8), 10) == sum(p.numel() for p in net.parameters())
        assert space.count_flops(arch, net_config, (1, 8, 8), 10) > 0
        params, flops = space.reference_cost(arch)
        assert isinstance(params, int) and isinstance(flops, int) and params > 0 and flops > 0
    with pytest.raises(InputDataError):
        space.build_network(sample[0], net_config, (1, 7, 9), 10)
    with pytest.raises(InputDataError):
        space.count_params(sample[0], net_config, (1, 8, 8), 1)


def test_network_options_are_read_or_refused(space):
    for option, flag in (("channels", "-C"), ("cells_per_stage", "-N")):
        if option in space.network_options:
            assert getattr(space.network_config(**{option: 9}), option) == 9
        else:
            with pytest.raises(InputDataError, match=flag):
                space.network_config(**{option: 9})


def test_dag_rows_are_graphs_of_typed_nodes_shared_by_twins(space, sample):
    names = space.feature_names("dag")
    n, types = dag_shape(len(names), dag_nodes(names))
    X = space.features(sample, "dag")
    adj, onehot = X[:, : n * n].reshape(-1, n, n), X[:, n * n :].reshape(-1, n, types)
    assert set(np.unique(X)) <= {0.0, 1.0} and adj.sum() > 0
    assert np.all(np.triu(adj, 1).sum(axis=(1, 2)) == adj.sum(axis=(1, 2))), "edges run forward"
    assert np.all(onehot.sum(axis=2) <= 1) and np.all(adj.sum(axis=2)[onehot.sum(axis=2) == 0] == 0)
    for arch in sample[:3]:
        twin = space.representative(arch)
        np.testing.assert_array_equal(space.features([twin], "dag"), space.features([arch], "dag"))
