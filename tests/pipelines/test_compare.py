import numpy as np
import pandas as pd
import pytest

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.compare import (
    METRICS,
    compare_predictors,
    plot_scatter,
    plot_tau_vs_size,
    split_train_test,
    summarize,
)
from surrogate_nas.tables import load_benchmark


@pytest.fixture(scope="module")
def table():
    return load_benchmark("nb201-cifar10")


@pytest.fixture(scope="module")
def results(table):
    return compare_predictors(table, ["xgb-onehot", "params", "mean"], [20, 40], seeds=2, test_size=60)


def test_one_row_per_predictor_size_seed_with_all_columns(results):
    assert len(results) == 3 * 2 * 2
    assert list(results.columns[:3]) == ["predictor", "train_size", "seed"]
    assert set(METRICS) <= set(results.columns)
    assert results.groupby(["predictor", "train_size", "seed"]).size().eq(1).all()
    assert (results["fit_seconds"] >= 0).all()


def test_learned_predictor_beats_mean_floor(results):
    tau = results.groupby("predictor")["kendall_tau"].mean()
    assert tau["mean"] == 0.0
    assert tau["params"] > 0.1 and tau["xgb-onehot"] > 0.1


def test_split_is_disjoint_on_canonical_groups(table):
    groups = [c.canonical_key for c in table.architectures()]
    train, test = split_train_test(groups, 500, 200, seed=3)
    assert len(train) == 500 and len(test) == 200
    g = np.asarray(groups)
    assert not set(g[train]) & set(g[test])
    again = split_train_test(groups, 500, 200, seed=3)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])


def test_too_large_sizes_and_unknown_names_raise(table):
    with pytest.raises(InputDataError, match="exceeds"):
        compare_predictors(table, ["mean"], [15600], seeds=1, test_size=200)
    with pytest.raises(InputDataError, match="unknown predictor"):
        compare_predictors(table, ["nope"], [20], seeds=1)


def test_summarize_gives_mean_and_standard_error(results):
    s = summarize(results)
    assert len(s) == 6
    row = results[(results.predictor == "params") & (results.train_size == 20)]["kendall_tau"]
    assert s.loc[("params", 20), "kendall_tau_mean"] == pytest.approx(row.mean())
    assert s.loc[("params", 20), "kendall_tau_se"] == pytest.approx(row.std(ddof=1) / np.sqrt(2))


def test_plots_write_png_files(results, tmp_path):
    plot_tau_vs_size(results, tmp_path / "tau.png")
    y = np.linspace(0, 1, 10)
    plot_scatter(y, y + 0.1, tmp_path / "scatter.png", std=np.full(10, 0.05), title="t")
    for name in ("tau.png", "scatter.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(InputDataError):
        plot_scatter(y, y[:3], tmp_path / "bad.png")


def test_summarize_rejects_foreign_frames():
    with pytest.raises(InputDataError, match="lack columns"):
        summarize(pd.DataFrame({"x": [1]}))
