"""Zero-cost proxies: determinism, twin sharing, caching, and the packaged NB-201 scores against fresh runs."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import torch

from surrogate_nas.errors import InputDataError
from surrogate_nas.proxies import DEFAULT_SETTING, PROXY_NAMES, ProxySetting, compute_proxies
from surrogate_nas.records import NetworkConfig
from surrogate_nas.resources import data_file
from surrogate_nas.spaces import get_space
from surrogate_nas.spaces.nb201 import PROXY_FILE
from surrogate_nas.spaces.nb201.cell import Cell, all_cells
from surrogate_nas.spaces.zc import ZC_PROXIES, ProxyFeatures, bounded
from surrogate_nas.storage import open_store

SPACE = get_space("nb201")
TINY = ProxySetting(network=NetworkConfig(4, 1), input_shape=(3, 8, 8), batch_size=8, seed=3)
ALL_NONE = Cell(("none",) * 6)
ALL_CONV3 = Cell(("nor_conv_3x3",) * 6)
DEAD_A = Cell.from_string("|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|")
DEAD_B = Cell.from_string("|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|skip_connect~1|avg_pool_3x3~2|")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Proxy networks are tiny; on a shared 2-core machine extra threads only contend."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_fresh_computation_is_deterministic_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    first = compute_proxies(SPACE, ALL_CONV3, TINY)
    assert torch.equal(state, torch.get_rng_state())
    assert compute_proxies(SPACE, ALL_CONV3, TINY) == first
    assert set(first) == set(PROXY_NAMES) and all(np.isfinite(v) for v in first.values())


def test_seed_changes_the_scores():
    other = ProxySetting(network=NetworkConfig(4, 1), input_shape=(3, 8, 8), batch_size=8, seed=4)
    assert compute_proxies(SPACE, ALL_CONV3, TINY) != compute_proxies(SPACE, ALL_CONV3, other)


def test_twins_share_scores_through_their_representative():
    assert DEAD_A.canonical_key == DEAD_B.canonical_key
    assert SPACE.representative(DEAD_A) == SPACE.representative(DEAD_B)
    block = ProxyFeatures(SPACE, setting=TINY)
    np.testing.assert_array_equal(block.raw([DEAD_A]), block.raw([DEAD_B]))


def test_network_that_ignores_its_input_gets_the_lowest_scores():
    dead, live = compute_proxies(SPACE, ALL_NONE, TINY), compute_proxies(SPACE, ALL_CONV3, TINY)
    assert np.isfinite(list(dead.values())).all()
    for name in ("synflow", "nwot", "jacov", "l2_norm", "grad_norm", "snip", "zen"):
        assert dead[name] < live[name], name
    # Nothing reaches the weights of a dead cell's network: its gradient proxies are floored.
    assert bounded("grad_norm", [dead["grad_norm"]])[0] < bounded("grad_norm", [live["grad_norm"]])[0]


def test_a_subset_of_proxies_is_computed_alone_and_equals_the_full_run():
    full = compute_proxies(SPACE, ALL_CONV3, TINY)
    part = compute_proxies(SPACE, ALL_CONV3, TINY, names=("grasp", "zen"))
    assert list(part) == ["grasp", "zen"] and part == {n: full[n] for n in part}
    with pytest.raises(InputDataError, match="unknown proxies"):
        compute_proxies(SPACE, ALL_CONV3, TINY, names=("synflow", "hunch"))


def test_bounded_scores_are_finite_and_keep_the_order_of_live_scores():
    raw = {"jacov": [-3.1e6, -70.0, -33.0], "plain": [-2.0, 0.0, 5.0], "epe_nas": [0.0, 10.0, 3000.0],
           "fisher": [np.log(np.finfo(float).tiny), -9.0, -4.0]}
    for name, values in raw.items():
        out = bounded(name, values)
        assert np.isfinite(out).all() and np.all(np.diff(out) > 0), name


def test_on_the_fly_scores_match_fresh_computation_and_go_to_the_cache(tmp_path, monkeypatch):
    store = open_store(f"sqlite:///{tmp_path / 'nas.db'}")
    space = SPACE.with_cache(store)
    cells = [ALL_CONV3, DEAD_A, ALL_NONE]
    scores = ProxyFeatures(space, setting=TINY, names=PROXY_NAMES).raw(cells)
    assert scores.shape == (3, len(PROXY_NAMES))
    for row, cell in zip(scores, cells):
        fresh = compute_proxies(SPACE, SPACE.representative(cell), TINY)
        assert list(row) == [fresh[n] for n in PROXY_NAMES]
    # A new block (another process, say) reads the stored scores instead of computing them.
    import surrogate_nas.proxies

    monkeypatch.setattr(surrogate_nas.proxies, "compute_proxies", None)  # computing now would fail
    again = ProxyFeatures(space, setting=TINY, names=PROXY_NAMES)
    name = f"{again.cache_name()}:synflow"
    assert set(store.get_features("nb201", name, [c.canonical_key for c in cells])) == {c.canonical_key for c in cells}
    np.testing.assert_array_equal(again.raw(cells[::-1]), scores[::-1])


def test_zc_blocks_share_scores_and_compute_only_missing_proxies(monkeypatch):
    import surrogate_nas.proxies

    calls = []
    real = surrogate_nas.proxies.compute_proxies
    monkeypatch.setattr(surrogate_nas.proxies, "compute_proxies",
                        lambda *args: calls.append(tuple(args[3])) or real(*args))
    memo = {}
    chosen = ProxyFeatures(SPACE, setting=TINY, names=ZC_PROXIES, memo=memo)
    every = ProxyFeatures(SPACE, setting=TINY, names=PROXY_NAMES, memo=memo)
    first = chosen.raw([ALL_CONV3])
    np.testing.assert_array_equal(every.raw([ALL_CONV3])[:, [PROXY_NAMES.index(n) for n in ZC_PROXIES]], first)
    assert calls == [ZC_PROXIES, tuple(n for n in PROXY_NAMES if n not in ZC_PROXIES)]


def test_packaged_cache_covers_every_cell_in_all_cells_order():
    frame = pd.read_csv(io.BytesIO(data_file(PROXY_FILE).read_bytes()), compression="gzip")
    assert list(frame.columns) == ["arch", *PROXY_NAMES]
    assert list(frame["arch"]) == [c.to_string() for c in all_cells()]
    scores = SPACE.feature_blocks["zcall"][0].raw(all_cells())
    assert scores.shape == (15625, len(PROXY_NAMES)) and np.isfinite(scores).all()
    np.testing.assert_array_equal(scores, frame[list(PROXY_NAMES)].to_numpy())
    assert np.isfinite(SPACE.features(all_cells(), "zcall")).all()


@pytest.mark.parametrize("index", [0, 4321, 15624])
def test_packaged_values_equal_fresh_computation(index):
    cell = all_cells()[index]
    fresh = compute_proxies(SPACE, SPACE.representative(cell), DEFAULT_SETTING)
    cached = SPACE.feature_blocks["zcall"][0].raw([cell])[0]
    np.testing.assert_allclose(cached, [fresh[n] for n in PROXY_NAMES], rtol=1e-6, atol=1e-6)


def test_bad_setting_is_rejected():
    with pytest.raises(InputDataError, match="batch_size"):
        ProxySetting(batch_size=1)
