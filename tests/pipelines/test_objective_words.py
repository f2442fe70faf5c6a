"""What --objectives and --constraint words resolve to, on tables and for live training."""

from __future__ import annotations


import numpy as np
import pytest

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.jobs.objective_words import resolve_objectives, resolve_terms
from surrogate_nas.pipelines.tracking.predictor_store import save_bundle
from surrogate_nas.pipelines.search.history import Objective
from surrogate_nas.predictors.latency import LatencyRegressor
from surrogate_nas.spaces import get_space
from surrogate_nas.tables import load_benchmark
from surrogate_nas.spaces.nb201.latency import device_latency

NB201 = get_space("nb201")


@pytest.fixture(scope="module")
def table():
    return load_benchmark("nb201-cifar10")


def test_table_words(table):
    terms = resolve_terms(["accuracy", "latency@pixel3", "params", "latency@1080ti_1:max"],
                          ["latency@raspi4<=30", "cifar10_test_acc_200ep>=90"], table)
    assert terms.objectives == (Objective("cifar10_valid_acc_200ep", True), Objective("lat_ms_pixel3", False),
                                Objective("params_mb_cifar10", False), Objective("lat_ms_1080ti_1", True))
    assert [(c.name, c.upper, c.bound) for c in terms.constraints] == [
        ("lat_ms_raspi4", True, 30.0), ("cifar10_test_acc_200ep", False, 90.0)]
    assert terms.metrics == ()  # every quantity is a column of the table


def test_live_words_compute_device_latency_from_the_cell():
    terms = resolve_terms(["accuracy", "latency@pixel3"], ["params<=200000"], None, NB201)
    assert terms.objectives[1] == Objective("lat_ms_pixel3", False)
    (metric,) = terms.metrics
    cells = NB201.enumerate()[:4]
    assert np.array_equal(metric.values(cells), device_latency(cells, "pixel3"))
    assert terms.constraints[0].name == "params"


def test_device_latency_is_a_capability_of_the_space_not_of_its_name():
    from surrogate_nas.spaces.nb201 import NB201Space

    class Cells(NB201Space):
        name = "my-cells"

    terms = resolve_terms(["accuracy", "latency@raspi4"], (), None, Cells())
    cells = NB201.enumerate()[:3]
    assert np.array_equal(terms.metrics[0].values(cells), device_latency(cells, "raspi4"))
    darts = get_space("darts")
    assert not darts.measures_latency_on("raspi4")
    with pytest.raises(InputDataError, match="no measured latency on raspi4 is packaged for the darts space"):
        resolve_terms(["accuracy", "latency@raspi4"], (), None, darts)


def test_spaces_shorten_their_own_op_names_for_run_names():
    assert NB201.short_text("|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|") == "conv3~0 + skip~0 avg3~1"
    nb101 = get_space("nb101").short_text("input,conv3x3-bn-relu,maxpool3x3,output")
    assert nb101 == "input,conv3,max3,output"
    assert get_space("nb201").short_text("|nor_conv_3x3~0|" * 20, limit=30).endswith("~")
    assert len(get_space("nb201").short_text("|nor_conv_3x3~0|" * 20, limit=30)) == 30


@pytest.mark.parametrize("words, space, message", [
    (["accuracy", "latency@pixel9"], "nb201", "neither a device setting"),
    (["accuracy", "latency@pixel3"], "nb101", "fit --target latency"),
    (["accuracy", "weight"], "nb201", "cannot be searched with live training"),
    (["accuracy", "params:upwards"], "nb201", "direction must be 'min' or 'max'"),
])
def test_bad_live_words(words, space, message, workdir):
    with pytest.raises(InputDataError, match=message) as excinfo:
        resolve_objectives(words, None, get_space(space))
    assert "\n" not in str(excinfo.value)


def test_a_bare_table_column_needs_a_direction(table):
    with pytest.raises(InputDataError, match="say train_time_s_cifar10:min"):
        resolve_objectives(["accuracy", "train_time_s_cifar10"], table)
    assert resolve_objectives(["accuracy", "train_time_s_cifar10:min"], table)[1] == Objective(
        "train_time_s_cifar10", False)


def test_a_saved_latency_model_is_a_latency_word(tmp_path, table):
    cells = NB201.enumerate()[:30]
    X = NB201.features(cells, "latency")
    model = LatencyRegressor().fit(X, device_latency(cells, "pixel3"))
    bundle = {"predictor": model, "features": "latency", "target": "ms", "benchmark": "m.csv", "n_train": 30,
              "kind": "latency", "space": "nb201", "quantity": "latency"}
    path = save_bundle(bundle, tmp_path / "My Phone.zip")
    terms = resolve_terms(["accuracy", f"latency@{path}"], [f"latency@{path}<=8"], table)
    assert terms.objectives[1] == Objective("pred_lat_ms_my_phone", False)
    assert terms.constraints[0].name == "pred_lat_ms_my_phone" and len(terms.metrics) == 1
    predicted = terms.metrics[0].values(NB201.enumerate()[30:40])
    assert np.all(predicted > 0)

    save_bundle({**bundle, "quantity": "accuracy"}, path)
    with pytest.raises(InputDataError, match="not latency"):
        resolve_terms([f"latency@{path}"], (), table)


def test_params_and_flops_of_a_user_table_are_counted_by_its_space(tmp_path):
    """A table without such columns, of a space that builds networks: its reference network is counted."""
    import pandas as pd

    from surrogate_nas.spaces import ChoiceSpace
    from surrogate_nas.tables import load_csv

    space = ChoiceSpace({"depth": [1, 2], "width": [8, 16], "act": ["relu", "tanh"]}, "user_builders:tiny_mlp",
                        name="mlp-words", reference_input=(1, 4, 4), reference_classes=3)
    rows = [{**a.as_dict(), "acc": float(i)} for i, a in enumerate(space.enumerate())]
    pd.DataFrame(rows).to_csv(tmp_path / "t.csv", index=False)
    table = load_csv(tmp_path / "t.csv", "acc", space=space)
    terms = resolve_terms(["accuracy", "params", "flops"], ["params<=400"], table)
    assert terms.objectives[1:] == (Objective("params", False), Objective("flops", False))
    params, flops = (m.values(space.enumerate()) for m in terms.metrics)
    assert params.tolist() == [space.reference_cost(a)[0] for a in space.enumerate()] and params[0] == 16 * 8 + 8 + 8 * 3 + 3
    assert np.array_equal(params, flops), "an MLP's multiply-accumulates are its weights"
    bare = load_csv(tmp_path / "t.csv", "acc", space=ChoiceSpace(space.choices, name="no-builder"))
    with pytest.raises(InputDataError, match="'params' matches no column.*or accuracy, params, latency@DEVICE"):
        resolve_terms(["accuracy", "params"], (), bare)
