"""How plug-ins are found: built-ins, ``register_*`` in code, entry points of installed packages (read
lazily), ``module:Name`` from the current folder; clashes and broken plug-ins."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import surrogate_nas
from plugin_dist import write_dist_info
from surrogate_nas.datasets import DatasetSpec, in_memory, is_dataset
from surrogate_nas.errors import DatasetError, InputDataError
from surrogate_nas.plugins import PluginError
from surrogate_nas.spaces import SPACE_PLUGINS, ChoiceSpace, get_space

TOY = '''
from surrogate_nas.spaces import ChoiceSpace

LOADED = True


def make():
    return ChoiceSpace({"a": [1, 2, 3], "b": ["x", "y"]}, name="{name}")
'''


@pytest.fixture
def site(tmp_path, monkeypatch):
    """An empty folder on sys.path for fake installed packages; sys.path and sys.modules come back as they were."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        if name.startswith("plugtest_"):
            del sys.modules[name]


def _package(site, dist: str, module: str, code: str, points: dict) -> None:
    (site / f"{module}.py").write_text(code)
    write_dist_info(site, dist, "1.0", points)


def test_an_installed_space_is_found_by_name_and_imported_only_when_used(site):
    _package(site, "plugtest-toy", "plugtest_toy", TOY.replace("{name}", "toy"),
             {"surrogate_nas.spaces": {"toy": "plugtest_toy:make"}})
    assert "toy" in SPACE_PLUGINS.names() and "plugtest_toy" not in sys.modules, "listing names imports nothing"
    get_space("nb201")
    assert "plugtest_toy" not in sys.modules, "using another name imports nothing"
    space = get_space("toy")
    assert space.name == "toy" and space.size() == 6 and get_space("TOY") is space
    assert [e.source for e in SPACE_PLUGINS.entries() if e.name == "toy"] == ["plug-in"]


def test_a_broken_plugin_is_named_in_one_line_when_used_and_nothing_else_breaks(site):
    _package(site, "plugtest-broken", "plugtest_broken", "raise RuntimeError('the plug-in is broken')\n",
             {"surrogate_nas.spaces": {"broken": "plugtest_broken:make", "missing": "plugtest_nowhere:make"}})
    with pytest.raises(PluginError) as broken:
        get_space("broken")
    message = str(broken.value)
    assert "\n" not in message and "'broken'" in message and "plugtest-broken 1.0" in message
    assert "RuntimeError: the plug-in is broken" in message
    with pytest.raises(PluginError, match="'missing'.*No module named 'plugtest_nowhere'"):
        get_space("missing")
    assert get_space("nb201").name == "nb201" and "broken" in SPACE_PLUGINS.names()


def test_a_space_must_be_registered_under_its_own_name(site):
    _package(site, "plugtest-named", "plugtest_named", TOY.replace("{name}", "other"),
             {"surrogate_nas.spaces": {"named": "plugtest_named:make"}})
    with pytest.raises(PluginError, match="calls itself 'other'"):
        get_space("named")


def test_clashes_builtins_win_and_two_packages_with_one_name_are_refused(site):
    _package(site, "plugtest-a", "plugtest_a", TOY.replace("{name}", "dup"),
             {"surrogate_nas.spaces": {"dup": "plugtest_a:make", "nb201": "plugtest_a:make"}})
    _package(site, "plugtest-b", "plugtest_b", TOY.replace("{name}", "dup"),
             {"surrogate_nas.spaces": {"dup": "plugtest_b:make"}})
    assert get_space("nb201").name == "nb201" and "plugtest_a" not in sys.modules
    notes = " ".join(SPACE_PLUGINS.notes())
    assert "'nb201' (plugtest-a 1.0: plugtest_a:make) is shadowed by the built-in one" in notes
    with pytest.raises(PluginError, match="'dup' is declared by 2 installed packages.*plugtest-a.*plugtest-b"):
        get_space("dup")
    assert get_space("plugtest_b:make").name == "dup", "module:Name still reaches either"


def test_register_space_in_code(monkeypatch):
    space = ChoiceSpace({"a": [1, 2]}, name="mine")
    with pytest.raises(InputDataError, match="'nb201' is built in"):
        surrogate_nas.register_space("nb201", space)
    surrogate_nas.register_space("mine", space)
    try:
        assert get_space("mine") is space and "mine" in SPACE_PLUGINS.names()
        with pytest.raises(InputDataError, match="already registered; pass replace=True"):
            surrogate_nas.register_space("mine", space)
        other = ChoiceSpace({"a": [1, 2, 3]}, name="mine")
        surrogate_nas.register_space("mine", other, replace=True)
        assert get_space("mine") is other
        surrogate_nas.register_space("wrong", space)
        with pytest.raises(PluginError, match="calls itself 'mine'"):
            get_space("wrong")
    finally:
        SPACE_PLUGINS.unregister("mine")
        SPACE_PLUGINS.unregister("wrong")
    with pytest.raises(InputDataError, match="unknown search space 'mine'"):
        get_space("mine")


def test_module_name_is_imported_from_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plugtest_here.py").write_text(TOY.replace("{name}", "here") + "\nSPACE = make()\n")
    assert str(tmp_path) not in sys.path
    try:
        assert get_space("plugtest_here:SPACE").name == "here" and get_space("plugtest_here:make").name == "here"
        assert str(tmp_path) in sys.path, "the folder stays on sys.path for worker processes"
        with pytest.raises(InputDataError, match="cannot import search space 'plugtest_here:nothing'"):
            get_space("plugtest_here:nothing")
        with pytest.raises(InputDataError, match="cannot import search space 'plugtest_gone:X'.*plugtest_gone"):
            get_space("plugtest_gone:X")
    finally:
        sys.modules.pop("plugtest_here", None)


def _toy_data(seed: int = 0):
    rng = np.random.default_rng(0)
    x, y = rng.random((60, 1, 2, 2)).astype(np.float32), np.repeat([0, 1], 30)
    return in_memory("toy-data", [(x[:40], y[:40]), (x[40:50], y[40:50]), (x[50:], y[50:])], 2)


def test_register_dataset_names_data_for_live_search():
    surrogate_nas.register_dataset("toy-data", _toy_data)
    surrogate_nas.register_dataset("not-data", lambda: "nothing")
    try:
        assert is_dataset("toy-data") and is_dataset("TOY-DATA")
        data = DatasetSpec("Toy-Data", seed=3).load()
        assert data.name == "toy-data" and data.input_shape == (1, 2, 2) and DatasetSpec("toy-data").kind == "plugin"
        with pytest.raises(DatasetError, match="'not-data' returned str, not a Dataset"):
            DatasetSpec("not-data").load()
        with pytest.raises(InputDataError, match="'digits' is built in"):
            surrogate_nas.register_dataset("digits", _toy_data)
    finally:
        from surrogate_nas.datasets import DATASET_PLUGINS

        DATASET_PLUGINS.unregister("toy-data")
        DATASET_PLUGINS.unregister("not-data")
    assert not is_dataset("toy-data")
