"""Saved predictors: every registered one round-trips exactly; nothing else (pickles, text) is read."""

from __future__ import annotations

import pickle
import zipfile

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor

from surrogate_nas.errors import InputDataError
from surrogate_nas.predictors.forest import RandomForestPredictor
from surrogate_nas.predictors.registry import PREDICTORS, make_predictor
from surrogate_nas.predictors.serialization import load_predictor, save_predictor
from surrogate_nas.spaces import get_space

SPACE = get_space("nb201")


@pytest.fixture(scope="module")
def data():
    cells = SPACE.enumerate()[:60]
    rng = np.random.default_rng(1)
    return cells, rng.normal(70, 5, size=len(cells))


@pytest.mark.parametrize("name", sorted(PREDICTORS))
def test_every_registered_predictor_round_trips_exactly(tmp_path, data, name):
    cells, y = data
    kind, predictor = make_predictor(name, SPACE)
    if "n_estimators" in predictor.get_params():
        predictor.set_params(n_estimators=40)
    X = SPACE.features(cells, kind)
    predictor.fit(X[:45], y[:45])
    path = save_predictor(predictor, tmp_path / f"{name}.zip", {"kind": name})
    loaded, meta = load_predictor(path)
    assert meta == {"kind": name}
    assert type(loaded) is type(predictor) and loaded.get_params() == predictor.get_params()
    for got, want in zip(loaded.predict(X[45:]), predictor.predict(X[45:])):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    with zipfile.ZipFile(path) as zf:
        assert not [n for n in zf.namelist() if n.endswith((".pkl", ".pickle", ".pt"))]


def test_the_forest_predicts_exactly_as_scikit_learns_trees(data):
    cells, y = data
    X = SPACE.features(cells, "default")
    ours = RandomForestPredictor(n_estimators=25, random_state=3, target_transform="none", calibration="none")
    ours.fit(X[:45], y[:45])
    theirs = RandomForestRegressor(n_estimators=25, max_features=0.5, random_state=3, n_jobs=2).fit(X[:45], y[:45])
    per_tree = np.stack([tree.predict(X) for tree in theirs.estimators_])
    mean, std = ours.predict(X)
    np.testing.assert_array_equal(mean, per_tree.mean(axis=0))
    np.testing.assert_array_equal(std, per_tree.std(axis=0))


def test_a_pickle_is_refused_without_being_run(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"predictor": Payload()}))
    with pytest.raises(InputDataError, match="is a pickle"):
        load_predictor(path)
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"|nor_conv_3x3~0|+|none~0|none~1|\n", b"", b"PK\x03\x04 not really a zip"])
def test_other_files_are_refused_with_one_clear_error(tmp_path, content):
    path = tmp_path / "model.zip"
    path.write_bytes(content)
    with pytest.raises(InputDataError, match="not a predictor saved by `surrogate-nas fit`"):
        load_predictor(path)


def test_a_zip_of_another_kind_or_version_is_refused(tmp_path, data):
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("header.json", '{"format": "surrogate-nas-predictor", "version": 99, "class": "MeanPredictor"}')
    with pytest.raises(InputDataError, match="format version 99"):
        load_predictor(other)
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("header.json", '{"format": "surrogate-nas-predictor", "version": 1, "class": "os.system"}')
    with pytest.raises(InputDataError, match="names predictor class 'os.system'"):
        load_predictor(other)
    with pytest.raises(InputDataError, match="cannot read a saved predictor"):
        load_predictor(tmp_path / "missing.zip")
